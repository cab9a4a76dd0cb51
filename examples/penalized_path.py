"""Penalized logistic regression: a lasso path and its cross-validation, on the birth-weight data.

Data: 189 births at Baystate Medical Center, Springfield, Massachusetts, 1986 (Hosmer & Lemeshow
(1989), *Applied Logistic Regression*; R's ``MASS::birthwt``), shipped with glmlogit.

The candidate model has the eight recorded risk factors (ten columns, for 189 births of which 59
had a low birth weight).  The script fits glmnet's lasso path (``gl.glm_path``, columns
standardized), chooses the penalty by 10-fold cross-validation (``gl.glm_cv``, glmnet's
``cv.glmnet``), prints the selected coefficients at ``alpha_min`` and at the sparser
``alpha_1se``, a ridge and an elastic-net fit at the same alpha, and the lasso fit through
``gl.glm(penalty="l1")`` with its predictions for two mothers.  It checks a few facts on the way
(and exits non-zero if anything is off): every penalized coefficient is 0 at the path's first
alpha, cross-validation is reproducible with the same seed, the lasso's optimality (KKT)
conditions hold at the chosen alpha, and the lasso's predictions are shrunk towards the mean.

    python examples/penalized_path.py
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
from formulaic import model_matrix
from scipy import special

import glmlogit as gl
from glmlogit.datasets import load_birthwt

FORMULA = "low ~ age + lwt + C(race) + smoke + ptl + ht + ui + ftv"


def kkt_violation(X: np.ndarray, y: np.ndarray, coef: np.ndarray, alpha: float, sd) -> float:
    """Largest violation of the lasso's optimality conditions, in mean-score units.

    With standardize=True the penalty on column j is alpha * sd_j * |b_j| (sd_j its 1/n standard
    deviation); the intercept (column 0) is unpenalized."""
    score = X.T @ (y - special.expit(X @ coef)) / len(y)
    lam = alpha * sd
    lam[0] = 0.0
    nz = coef != 0
    v = np.where(nz, np.abs(score - lam * np.sign(coef)), np.maximum(np.abs(score) - lam, 0.0))
    return float(v.max())


def main() -> int:
    df = load_birthwt()
    ok = True

    # 1. The lasso path: 100 alphas from alpha_max (everything penalized is 0) downwards.
    path = gl.glm_path(FORMULA, df, l1_ratio=1.0, standardize=True, progress=False)
    print(path)
    frame = path.to_frame()
    print(frame.iloc[::11].round(4).to_string(), "\n")
    first = path.coefs.iloc[0].drop("Intercept")
    ok &= bool((first == 0).all())

    # 2. Cross-validation: the held-out deviance at every alpha, folds drawn with a seed.
    cv = gl.glm_cv(FORMULA, df, l1_ratio=1.0, standardize=True, folds=10, seed=1, progress=False)
    print(cv)
    chosen = pd.DataFrame({"alpha_min": cv.coef_min, "alpha_1se": cv.coef_1se})
    chosen = chosen[(chosen != 0).any(axis=1)]
    chosen["unpenalized"] = gl.glm(FORMULA, df).params
    print(f"non-zero coefficients ({len(chosen) - 1} of {path.coefs.shape[1] - 1} penalized):")
    print(chosen.round(4).to_string(), "\n")
    ok &= cv.alpha_1se >= cv.alpha_min
    again = gl.glm_cv(FORMULA, df, l1_ratio=1.0, standardize=True, folds=10, seed=1, progress=False)
    ok &= bool(np.array_equal(again.cv_mean, cv.cv_mean))

    # 3. The lasso's optimality conditions at alpha_min, checked by hand on the design matrix.
    X = np.asarray(model_matrix(FORMULA.split("~", 1)[1], df), dtype=float)
    y = df["low"].to_numpy(dtype=float)
    sd = X.std(axis=0)
    viol = kkt_violation(X, y, cv.coef_min.to_numpy(), cv.alpha_min, sd)
    print(f"largest KKT violation at alpha_min: {viol:.1e}")
    ok &= viol < 1e-6

    # 4. Ridge and the elastic net at the same alpha: no exact zeros for ridge.
    at = [cv.alpha_min]
    ridge = gl.glm_path(FORMULA, df, l1_ratio=0.0, alphas=at, standardize=True, progress=False)
    enet = gl.glm_path(FORMULA, df, l1_ratio=0.5, alphas=at, standardize=True, progress=False)
    counts = {
        "lasso": int((cv.coef_min.drop("Intercept") != 0).sum()),
        "elastic net (0.5)": int((enet.coefs.iloc[0].drop("Intercept") != 0).sum()),
        "ridge": int((ridge.coefs.iloc[0].drop("Intercept") != 0).sum()),
    }
    print("non-zero penalized coefficients at alpha_min:", counts)
    ok &= counts["lasso"] <= counts["elastic net (0.5)"] <= counts["ridge"]

    # 5. One penalized fit through gl.glm: an ordinary results object (predictions, summary).
    lasso = gl.glm(FORMULA, df, penalty="l1", alpha=cv.alpha_min, standardize=True)
    ok &= bool(np.allclose(lasso.params, cv.coef_min, atol=1e-6))
    mothers = pd.DataFrame(
        {"age": [20, 30], "lwt": [110, 150], "race": ["black", "white"], "smoke": [1, 0],
         "ptl": [1, 0], "ht": [0, 0], "ui": [1, 0], "ftv": [0, 2]}
    )  # fmt: skip
    pred = pd.DataFrame(
        {"lasso": lasso.predict(mothers), "unpenalized": gl.glm(FORMULA, df).predict(mothers)}
    )
    print("\npredicted probability of a low birth weight (the lasso shrinks towards the mean):")
    print(pred.round(3).to_string())
    ok &= bool(abs(pred["lasso"] - 0.31).max() < abs(pred["unpenalized"] - 0.31).max())

    print("\nchecks passed" if ok else "\nCHECK FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
