"""Firth's bias-reduced logistic regression against R (tests/reference/make_firth_profile.R).

References: coefficients, SEs and covariance from brglm2's brglm_fit(type = "AS_mean") at its
fixed point; penalized-likelihood-ratio tests and profile penalized-likelihood intervals computed
in R exactly as logistf does them (logistf is not packaged for Debian; the R script implements its
algorithm and checks the unrestricted fit against brglm2 to 1e-13).  Tolerances (relative;
observed differences in brackets):
  COEF 1e-8  coefficients (the issue asks 1e-6; the project target is 1e-8) [6e-14].
  SE   1e-8  standard errors and covariance, (X'WX)^-1 at the estimate [2e-15].
  PL   1e-8  penalized log-likelihoods, both sides exact maxima [5e-15].
  P    1e-6  LR p-values, absolute on the log scale [2e-13]; chi-squared statistics 1e-7 [2e-12].
  CI   1e-7  profile limits, both sides exact roots (R's uniroot to 1e-13) [2e-12].
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from glmlogit.errors import DataError
from glmlogit.firth import (
    FirthFit,
    firth_fit,
    firth_lr_test,
    firth_modified_score,
    firth_profile_ci,
)

REF = Path(__file__).parent / "reference"
CASES = sorted(p.stem for p in (REF / "firth").glob("*.json"))
COEF, SE, PL, P, CI = 1e-8, 1e-8, 1e-8, 1e-6, 1e-7


def design(df: pd.DataFrame, names: list[str]) -> np.ndarray:
    """R's model matrix from the column names R gave it (intercept, numeric columns)."""
    cols = []
    for nm in names:
        if nm == "(Intercept)":
            cols.append(np.ones(len(df)))
        else:
            cols.append(df[nm].to_numpy(dtype=float))
    return np.column_stack(cols)


def load(name: str):
    case = json.loads((REF / "firth" / f"{name}.json").read_text())
    df = pd.read_csv(REF / "data" / case["dataset"])
    if case["offset"] == "age_off":
        df["age_off"] = 0.05 * df["age"]  # as the R script computes it
    X = design(df, case["coef_names_r"])
    y = df[case["formula_r"].split("~")[0].strip()].to_numpy(dtype=float)
    w = None if case["weights"] is None else df[case["weights"]].to_numpy(dtype=float)
    off = None if case["offset"] is None else df[case["offset"]].to_numpy(dtype=float)
    return case, X, y, w, off


@pytest.fixture(scope="module", params=CASES)
def fitted(request):
    case, X, y, w, off = load(request.param)
    fit = firth_fit(X, y, w, off, column_names=case["coef_names_r"])
    return case, fit


def test_fixture_set():
    assert {"endometrial", "separated_toy", "birthwt", "menarche_prop"} <= set(CASES)


def test_coefficients(fitted):
    case, fit = fitted
    assert fit.converged
    np.testing.assert_allclose(fit.coef, case["params"], rtol=COEF)


def test_standard_errors_and_covariance(fitted):
    case, fit = fitted
    np.testing.assert_allclose(fit.bse, case["bse"], rtol=SE)
    np.testing.assert_allclose(fit.cov, np.array(case["cov_params"]), rtol=SE, atol=1e-12)


def test_penalized_loglik(fitted):
    case, fit = fitted
    np.testing.assert_allclose(fit.loglik, case["loglik_penalized"], rtol=PL)
    np.testing.assert_allclose(fit.loglik_unpenalized, case["loglik"], rtol=PL)


def test_lr_tests(fitted):
    case, fit = fitted
    lr = firth_lr_test(fit)
    np.testing.assert_allclose(lr.statistic, case["lr_chisq"], rtol=1e-7)
    np.testing.assert_allclose(lr.loglik_restricted, case["loglik_restricted"], rtol=PL)
    ref_p = np.array(case["lr_pvalue"], dtype=float)
    pos = ref_p > 0
    np.testing.assert_allclose(np.log(lr.pvalue[pos]), np.log(ref_p[pos]), rtol=0, atol=P)
    assert np.all(lr.pvalue[~pos] < 1e-300)
    assert lr.column_names == tuple(case["coef_names_r"])


def test_profile_intervals(fitted):
    case, fit = fitted
    ci = firth_profile_ci(fit, alpha=1 - case["ci_level"])
    np.testing.assert_allclose(ci.lower, case["ci_lower"], rtol=CI)
    np.testing.assert_allclose(ci.upper, case["ci_upper"], rtol=CI)
    assert ci.notes == ()


def test_modified_score_is_zero_at_the_estimate(fitted):
    """Truth: U*(b) = X'(m (y - mu) + h (1/2 - mu)) vanishes at the Firth estimate, and the hat
    values sum to the number of coefficients (trace of the hat matrix)."""
    case, fit = fitted
    _, X, y, w, off = load(case["name"])
    u = firth_modified_score(X, y, fit.coef, w, off)
    terms = np.abs(X).T @ (np.abs(y - fit.mu) * (1 if w is None else w) + fit.hat)
    assert np.max(np.abs(u) / terms) < 1e-10
    np.testing.assert_allclose(fit.hat.sum(), X.shape[1], rtol=1e-10)


@pytest.mark.parametrize("name", ["endometrial", "separated_toy"])
def test_separated_data_give_finite_estimates(name):
    case, X, y, w, off = load(name)
    assert case["separated"]
    fit = firth_fit(X, y, w, off)
    assert fit.converged and np.all(np.isfinite(fit.coef)) and np.all(np.isfinite(fit.bse))
    # the ML "estimates" R's glm stops at are huge; Firth's are moderate
    assert np.max(np.abs(case["ml_params"])) > 3 * np.max(np.abs(fit.coef))
    ci = firth_profile_ci(fit)
    assert np.all(np.isfinite(ci.lower)) and np.all(np.isfinite(ci.upper))


def test_proportions_equal_expanded_binary_rows():
    """Invariance: a proportion with m trials is m Bernoulli rows (brglm2/logistf agree)."""
    case, X, y, w, off = load("menarche_prop")
    assert w is not None
    m = w.astype(int)
    k = np.round(w * y).astype(int)
    Xe = np.repeat(np.vstack([X, X]), np.concatenate([k, m - k]), axis=0)
    ye = np.repeat(np.concatenate([np.ones(len(y)), np.zeros(len(y))]), np.concatenate([k, m - k]))
    a = firth_fit(X, y, w)
    b = firth_fit(Xe, ye)
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-9)
    np.testing.assert_allclose(a.bse, b.bse, rtol=1e-9)


def test_aliased_column_is_nan():
    case, X, y, w, off = load("birthwt")
    X2 = np.column_stack([X, X[:, 1] + X[:, 2]])  # age + lwt: aliased
    a = firth_fit(X, y)
    b = firth_fit(X2, y)
    assert b.aliased.tolist() == [False] * X.shape[1] + [True]
    assert np.isnan(b.coef[-1]) and np.all(np.isnan(b.cov[-1]))
    np.testing.assert_allclose(b.coef[:-1], a.coef, rtol=1e-10)
    lr = firth_lr_test(b)
    assert np.isnan(lr.pvalue[-1]) and np.all(np.isfinite(lr.pvalue[:-1]))


def test_fitting_twice_and_inputs_untouched():
    _, X, y, w, off = load("birthwt_weights")
    X0, y0, w0 = X.copy(), y.copy(), w.copy()
    a = firth_fit(X, y, w)
    b = firth_fit(X, y, w)
    assert isinstance(a, FirthFit)
    np.testing.assert_array_equal(a.coef, b.coef)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(w, w0)


def test_bad_response():
    X = np.column_stack([np.ones(4), np.arange(4.0)])
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        firth_fit(X, np.array([0.0, 1.0, 2.0, 1.0]))
