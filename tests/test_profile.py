"""Profile-likelihood confidence intervals against R's confint() on a glm
(tests/reference/make_firth_profile.R).

Two references per case:
  profile_exact  the exact roots of sign(c - b_j) sqrt((D(c) - D_hat) / dispersion) = -+qnorm(0.975)
                 computed in R (uniroot to 1e-13 on glm.fit deviances at a fixed point): what
                 glmlogit computes, compared at rtol EXACT = 1e-8 (observed 2.3e-13).
  confint_r      R's own confint() (MASS profile.glm + confint.profile.glm), which evaluates z on
                 a grid of steps of zmax/5 standard errors and inverts an interpolating spline.
                 Its error is in units of the standard error: observed up to 1.7e-4 SE (2.4e-4
                 relative for a limit near zero, birthwt's ui), so the comparison is
                 |glmlogit - R| <= SPLINE x SE with SPLINE = 3e-4, and rtol 1e-4 on the other
                 four data sets, where R's spline is within 3.3e-6 relative.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from glmlogit.engine.irls import irls
from glmlogit.engine.rows import DenseRows
from glmlogit.errors import ConvergenceWarning
from glmlogit.families import Binomial, Gamma, Gaussian, Poisson
from glmlogit.profile import ProfileCI, profile_bounds, profile_conf_int

REF = Path(__file__).parent / "reference"
CASES = sorted(p.stem for p in (REF / "profile").glob("*.json"))
REGULAR = [
    c for c in CASES if not json.loads((REF / "profile" / f"{c}.json").read_text())["separated"]
]
EXACT, SPLINE, RTOL_R = 1e-8, 3e-4, 1e-4

FAMILIES = {"binomial": Binomial, "poisson": Poisson, "Gamma": Gamma, "gaussian": Gaussian}


def _arr(v):
    return np.array([np.nan if x is None else float(x) for x in v], dtype=float)


def design(df: pd.DataFrame, names: list[str]) -> np.ndarray:
    """R's model matrix from its column names: intercept, numeric columns, log(u), and
    treatment dummies named factor + level (R's convention, e.g. raceother, tensiont2_M)."""
    cols = []
    for nm in names:
        if nm == "(Intercept)":
            cols.append(np.ones(len(df)))
        elif nm in df.columns:
            cols.append(df[nm].to_numpy(dtype=float))
        elif nm == "log(u)":
            cols.append(np.log(df["u"].to_numpy(dtype=float)))
        else:
            fac = [
                c
                for c in df.columns
                if not pd.api.types.is_numeric_dtype(df[c]) and nm.startswith(c)
            ]
            assert len(fac) == 1, nm
            cols.append((df[fac[0]] == nm[len(fac[0]) :]).to_numpy(dtype=float))
    return np.column_stack(cols)


def load(name: str):
    case = json.loads((REF / "profile" / f"{name}.json").read_text())
    df = pd.read_csv(REF / "data" / case["dataset"])
    X = design(df, case["coef_names_r"])
    y = df[case["formula_r"].split("~")[0].strip()].to_numpy(dtype=float)
    w = None if case["weights"] is None else df[case["weights"]].to_numpy(dtype=float)
    family = FAMILIES[case["family"]](case["link"])
    return case, X, y, w, family


def profile_from_r_fit(case, X, y, w, family, which=None):
    """glmlogit's profile given R's fitted numbers (coef, deviance, SE, dispersion)."""
    return profile_conf_int(
        X,
        y,
        family,
        weights=w,
        coef=case["params"],
        deviance=case["deviance"],
        bse=case["bse"],
        dispersion=case["dispersion"],
        alpha=1 - case["level"],
        which=which,
        intercept_index=0,
        column_names=case["coef_names_r"],
    )


@pytest.fixture(scope="module", params=REGULAR)
def profiled(request):
    case, X, y, w, family = load(request.param)
    return case, profile_from_r_fit(case, X, y, w, family), (X, y, w, family)


def test_fixture_set():
    fams = {json.loads((REF / "profile" / f"{c}.json").read_text())["family"] for c in REGULAR}
    assert len(REGULAR) >= 3 and {"binomial", "poisson", "Gamma"} <= fams


def test_exact_roots(profiled):
    case, ci, _ = profiled
    assert isinstance(ci, ProfileCI) and ci.notes == ()
    np.testing.assert_allclose(ci.lower, case["profile_exact_lower"], rtol=EXACT)
    np.testing.assert_allclose(ci.upper, case["profile_exact_upper"], rtol=EXACT)


def test_matches_r_confint(profiled):
    """R's spline-interpolated confint(): within SPLINE standard errors."""
    case, ci, _ = profiled
    se = np.array(case["bse"])
    for ours, key in ((ci.lower, "confint_r_lower"), (ci.upper, "confint_r_upper")):
        r = np.array(case[key])
        assert np.max(np.abs(ours - r) / se) < SPLINE
        if case["name"] != "birthwt_logit":
            np.testing.assert_allclose(ours, r, rtol=RTOL_R)


def test_limits_are_roots(profiled):
    """Truth: at each limit the constrained deviance exceeds the minimum by qnorm(0.975)^2 x
    dispersion (each evaluated here with glmlogit's own IRLS)."""
    case, ci, (X, y, w, family) = profiled
    q2 = 1.959963984540054**2
    for j in range(X.shape[1]):
        others = [k for k in range(X.shape[1]) if k != j]
        for c in (ci.lower[j], ci.upper[j]):
            rows = DenseRows(X[:, others], y, w, X[:, j] * c)
            fit = irls(rows, family, intercept_index=0 if j != 0 else None)
            np.testing.assert_allclose(
                (fit.deviance - case["deviance"]) / case["dispersion"], q2, rtol=1e-7
            )


def test_with_glmlogit_own_fit():
    """End to end on glmlogit's own fit of birthwt (not R's numbers): same exact limits."""
    case, X, y, w, family = load("birthwt_logit")
    fit = irls(DenseRows(X, y, w), family, intercept_index=0)
    ci = profile_conf_int(
        X, y, family, coef=fit.coef, deviance=fit.deviance, bse=np.sqrt(np.diag(fit.cov_unscaled))
    )
    np.testing.assert_allclose(ci.lower, case["profile_exact_lower"], rtol=1e-6)
    np.testing.assert_allclose(ci.upper, case["profile_exact_upper"], rtol=1e-6)
    assert ci.n_fits > 0


def test_gamma_with_own_fit_and_pearson_dispersion():
    case, X, y, w, family = load("clotting_gamma")
    fit = irls(DenseRows(X, y, w), family, intercept_index=0)
    n, p = X.shape
    disp = float(np.sum((y - fit.mu) ** 2 / family.variance(fit.mu)) / (n - p))
    np.testing.assert_allclose(disp, case["dispersion"], rtol=1e-8)
    ci = profile_conf_int(
        X,
        y,
        family,
        coef=fit.coef,
        deviance=fit.deviance,
        bse=np.sqrt(np.diag(fit.cov_unscaled) * disp),
        dispersion=disp,
        which=[1],
    )
    np.testing.assert_allclose(ci.lower, case["profile_exact_lower"][1:], rtol=1e-6)
    np.testing.assert_allclose(ci.upper, case["profile_exact_upper"][1:], rtol=1e-6)


def test_alpha_changes_width():
    case, X, y, w, family = load("warpbreaks_poisson")
    args = dict(coef=case["params"], deviance=case["deviance"], bse=case["bse"], which=[1])
    c90 = profile_conf_int(X, y, family, alpha=0.10, **args)
    c99 = profile_conf_int(X, y, family, alpha=0.01, **args)
    assert c99.lower[0] < case["profile_exact_lower"][1] < c90.lower[0]
    assert c90.upper[0] < case["profile_exact_upper"][1] < c99.upper[0]


def test_separated_coefficient_has_infinite_bound_r_fit():
    """Endometrial, ML: NV is quasi-completely separated (+inf).  With R's fitted numbers the
    lower limit is R's exact root and the upper limit is +inf."""
    case, X, y, w, family = load("endometrial_separated")
    ci = profile_from_r_fit(case, X, y, w, family, which=[1])
    np.testing.assert_allclose(ci.lower, [case["profile_exact_lower"][1]], rtol=1e-6)
    assert case["profile_exact_upper"][1] == "Inf"
    assert ci.upper[0] == np.inf
    assert len(ci.notes) == 1 and "NV" in ci.notes[0] and "upper" in ci.notes[0]


def test_separated_coefficient_has_infinite_bound_own_fit():
    case, X, y, w, family = load("endometrial_separated")
    # The ML fit does not exist; stop where R's glm stops (25 iterations) wherever that is.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit = irls(DenseRows(X, y, w), family, intercept_index=0, max_iter=25)
    assert fit.coef[1] > 10
    ci = profile_conf_int(
        X,
        y,
        family,
        coef=fit.coef,
        deviance=fit.deviance,
        bse=np.sqrt(np.diag(fit.cov_unscaled)),
        which=[1],
    )
    assert ci.upper[0] == np.inf
    # the limit deviance is reached to ~1e-8 by either fit: same lower root to ~1e-6
    np.testing.assert_allclose(ci.lower, [case["profile_exact_lower"][1]], rtol=1e-5)


def test_aliased_coefficient_is_nan():
    case, X, y, w, family = load("warpbreaks_poisson")
    coef = np.array(case["params"] + [np.nan])
    X2 = np.column_stack([X, X[:, 1]])
    ci = profile_conf_int(
        X2, y, family, coef=coef, deviance=case["deviance"], bse=case["bse"] + [np.nan]
    )
    assert np.isnan(ci.lower[-1]) and np.isnan(ci.upper[-1])
    np.testing.assert_allclose(ci.lower[:-1], case["profile_exact_lower"], rtol=EXACT)


def test_profile_bounds_on_a_known_function():
    """z(c) = (c - 1) / 2 + (c - 1)^3 / 50 (monotone): roots found to rounding; a profile that
    levels off below the quantile gives an infinite limit."""

    def z(c):
        d = c - 1.0
        return d / 2 + d**3 / 50

    lo, hi, notes = profile_bounds(z, 1.0, 2.0, 1.96)
    assert abs(z(lo) + 1.96) < 1e-12 and abs(z(hi) - 1.96) < 1e-12 and notes == []
    lo, hi, notes = profile_bounds(lambda c: np.tanh(c), 0.0, 1.0, 1.96)
    assert (lo, hi) == (-np.inf, np.inf) and len(notes) == 2
