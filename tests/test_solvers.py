"""The alternative optimizers (engine/solvers.py) against IRLS.

Stated tolerances, in units of |coefficient| + its standard error (the IRLS MLE as truth):
  newton 1e-8 (Newton converges quadratically; same stopping rules as IRLS)
  lbfgs  1e-6 (gradient test at tol 1e-8 z-units; rounding of the deviance limits it)
  gd     1e-5 (gradient test at tol 1e-6 z-units)
  sgd    1e-4 (SVRG, gradient test at gtol 1e-6 z-units)
X'WX and the covariance come from one pass at the solution, so they agree to the coefficients'
tolerance.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glmlogit.engine.irls import irls
from glmlogit.engine.rows import DenseRows
from glmlogit.engine.solvers import d2mu_deta2, observed_weights, solve
from glmlogit.engine.sparse import SparseRows
from glmlogit.errors import ConvergenceWarning, FitError
from glmlogit.families import get_family

TOL = {"newton": 1e-8, "lbfgs": 1e-6, "gd": 1e-5, "sgd": 1e-4}
CASES = [("binomial", "logit"), ("binomial", "probit"), ("poisson", "log"), ("gamma", "log")]


def make_data(seed, family="binomial", link="logit", n=300, p=4):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.standard_normal((n, p - 1)) * rng.uniform(0.5, 3, p - 1)])
    X[:, -1] += 0.5 * X[:, 1]  # some correlation
    fam = get_family(family, link)
    beta = rng.normal(0, 0.3, p) / np.r_[1.0, X[:, 1:].std(axis=0)]
    mu = fam.link.inverse(X @ beta)
    if family == "binomial":
        y = (rng.random(n) < mu).astype(float)
    elif family == "poisson":
        y = rng.poisson(mu).astype(float)
    else:
        y = rng.gamma(3.0, mu / 3.0)
    return X, y, fam


def rel_err(coef, ref):
    se = np.sqrt(np.diag(ref.cov_unscaled))
    ok = ~ref.aliased
    return float(np.max(np.abs(coef[ok] - ref.coef[ok]) / (np.abs(ref.coef[ok]) + se[ok])))


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), case=st.sampled_from(CASES))
def test_every_method_reaches_the_irls_mle(seed, case):
    X, y, fam = make_data(seed, *case)
    rows = DenseRows(X, y)
    ref = irls(rows, fam, intercept_index=0, tol=1e-12)
    for method, tol in TOL.items():
        fit = solve(rows, fam, method, intercept_index=0)
        assert fit.converged, method
        assert rel_err(fit.coef, ref) < tol, method
        # the results object sees the same X'WX / covariance whichever method found the MLE
        np.testing.assert_allclose(fit.cov_unscaled, ref.cov_unscaled, rtol=50 * tol, atol=0)
        assert fit.deviance == pytest.approx(ref.deviance, rel=1e-9)


@pytest.mark.parametrize("method", ["gd", "newton"])
def test_history_is_monotone(method):
    X, y, fam = make_data(3, "binomial", "probit")
    fit = solve(DenseRows(X, y), fam, method, intercept_index=0)
    h = np.asarray(fit.history)
    assert len(h) >= 2
    assert np.all(np.diff(h) <= 1e-12 * np.abs(h[1:]))


def test_sgd_history_and_seed():
    X, y, fam = make_data(4, n=2000)
    rows = DenseRows(X, y)
    a = solve(rows, fam, "sgd", intercept_index=0, seed=1, batch_size=128)
    b = solve(rows, fam, "sgd", intercept_index=0, seed=1, batch_size=128)
    c = solve(rows, fam, "sgd", intercept_index=0, seed=2, batch_size=128)
    np.testing.assert_array_equal(a.coef, b.coef)
    assert a.history == b.history and len(a.history) == a.n_iter + 1
    ref = irls(rows, fam, intercept_index=0)
    assert rel_err(c.coef, ref) < TOL["sgd"]


def test_plain_sgd_is_within_a_fraction_of_a_standard_error():
    X, y, fam = make_data(5, n=5000)
    rows = DenseRows(X, y)
    ref = irls(rows, fam, intercept_index=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # plain SGD stops on its plateau
        fit = solve(rows, fam, "sgd", intercept_index=0, variance_reduction=False, max_iter=30)
    assert rel_err(fit.coef, ref) < 0.3


@pytest.mark.parametrize(
    "method, kw",
    [
        ("newton", {"max_iter": 2}),
        ("lbfgs", {"max_iter": 2}),
        ("gd", {"max_iter": 3}),
        ("sgd", {"max_iter": 1}),
    ],
)
def test_early_stop_warns_with_a_reason(method, kw):
    X, y, fam = make_data(6, "binomial", "probit")
    with pytest.warns(ConvergenceWarning, match=method):
        fit = solve(DenseRows(X, y), fam, method, intercept_index=0, **kw)
    assert not fit.converged
    assert fit.message


def test_aliased_columns_as_irls():
    X, y, fam = make_data(7)
    X = np.column_stack([X, X[:, 1] - 2 * X[:, 2]])
    rows = DenseRows(X, y)
    ref = irls(rows, fam, intercept_index=0)
    assert ref.aliased[-1]
    for method in TOL:
        fit = solve(rows, fam, method, intercept_index=0)
        np.testing.assert_array_equal(fit.aliased, ref.aliased)
        assert np.isnan(fit.coef[-1]) and np.all(np.isnan(fit.cov_unscaled[-1]))
        assert rel_err(fit.coef, ref) < TOL[method]


def test_sparse_rows_and_start():
    X, y, fam = make_data(8, "poisson", "log")
    ref = irls(DenseRows(X, y), fam, intercept_index=0, tol=1e-12)
    for method in ("newton", "lbfgs"):
        fit = solve(SparseRows(X, y), fam, method, intercept_index=0)
        assert rel_err(fit.coef, ref) < TOL[method]
    fit = solve(DenseRows(X, y), fam, "newton", start=np.zeros(X.shape[1]), intercept_index=0)
    assert rel_err(fit.coef, ref) < TOL["newton"]


@pytest.mark.parametrize(
    "family, link",
    [
        ("binomial", "probit"),
        ("binomial", "cloglog"),
        ("binomial", "cauchit"),
        ("binomial", "log"),
        ("poisson", "sqrt"),
        ("poisson", "identity"),
        ("gamma", "inverse"),
        ("gamma", "identity"),
        ("inverse_gaussian", "inverse_squared"),
        ("gaussian", "log"),
    ],
)
def test_observed_information_is_the_derivative_of_the_score(family, link):
    """-d/d eta of the score term equals w - r, checked by central differences."""
    fam = get_family(family, link)
    rng = np.random.default_rng(0)
    eta = {"log": -1.2, "inverse": 0.8, "inverse_squared": 0.6, "sqrt": 1.5, "identity": 0.4}
    e0 = np.full(5, eta.get(link, 0.3)) + rng.uniform(-0.1, 0.1, 5)
    mu = fam.link.inverse(e0)
    y = mu * rng.uniform(0.5, 1.5, 5) if family != "binomial" else rng.uniform(0.05, 0.95, 5)
    wt = rng.uniform(0.5, 2.0, 5)
    h = 1e-6
    up = fam.irls_terms(y, e0 + h, wt)[2]
    dn = fam.irls_terms(y, e0 - h, wt)[2]
    w, r = observed_weights(fam, y, e0, wt)
    np.testing.assert_allclose(w - r, -(up - dn) / (2 * h), rtol=1e-6)
    d1 = (fam.link.mu_eta(e0 + h) - fam.link.mu_eta(e0 - h)) / (2 * h)
    np.testing.assert_allclose(d2mu_deta2(fam.link, e0), d1, rtol=1e-6, atol=1e-12)


def test_bad_arguments():
    X, y, fam = make_data(9)
    rows = DenseRows(X, y)
    with pytest.raises(FitError, match="not available"):
        solve(rows, fam, "adam")
    with pytest.raises(FitError, match="unknown option"):
        solve(rows, fam, "lbfgs", batch_size=3)
    with pytest.raises(FitError, match="start must have"):
        solve(rows, fam, "gd", start=np.zeros(2))
