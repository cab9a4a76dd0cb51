"""The dense pass (engine.rows.DenseRows) against a direct NumPy computation of the same sums.

Reference: X'WX, X'u and the deviance written out with NumPy on the whole arrays (W = w mu (1 - mu)
for the logit, u = w (y - mu)), independent of the chunking, the worker threads, the unit-weight
shortcut and the equal-weight starting pass.  Tolerance 1e-12 relative: the same sums in a
different order (rounding only).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from glmlogit.engine.rows import DenseRows
from glmlogit.families import get_family

RTOL = 1e-12


def _data(n=30_000, p=12, seed=0, weights=False):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.standard_normal((n, p - 1))])
    beta = rng.normal(0, 0.4, p)
    y = (rng.random(n) < special.expit(X @ beta)).astype(float)
    w = rng.integers(1, 4, n).astype(float) if weights else np.ones(n)
    return X, y, w, beta


def _direct(X, y, w, beta):
    eta = X @ beta
    mu = special.expit(eta)
    W = w * mu * (1 - mu)
    dev = 2 * np.sum(w * (np.logaddexp(0, eta) - y * eta))
    return X.T @ (W[:, None] * X), X.T @ (w * (y - mu)), dev, eta, mu


@pytest.mark.parametrize("weights", [False, True])
@pytest.mark.parametrize("threads", [1, 2])
def test_pass_equals_direct_sums(weights, threads):
    X, y, w, beta = _data(weights=weights)
    fam = get_family("binomial")
    rows = DenseRows(X, y, w, chunk_rows=4_000)  # several chunks per worker, a ragged last one
    rows.threads = threads
    assert rows.unit_weights == (not weights)
    st = rows.accumulate(fam, beta)
    H, g, dev, eta, mu = _direct(X, y, w, beta)
    np.testing.assert_allclose(st.xtwx, H, rtol=RTOL, atol=RTOL * np.abs(H).max())
    np.testing.assert_allclose(st.rhs, g, rtol=RTOL, atol=RTOL * np.abs(g).max())
    np.testing.assert_allclose(st.deviance, dev, rtol=RTOL)
    assert np.array_equal(st.xtwx, st.xtwx.T)
    # the pass's eta and mu are handed over once, for exactly that beta and family
    e2, m2 = rows.fitted(fam, beta)
    np.testing.assert_allclose(e2, eta, rtol=RTOL, atol=1e-15)
    np.testing.assert_allclose(m2, mu, rtol=RTOL, atol=1e-15)
    e3, _ = rows.fitted(fam, beta)  # computed afresh now: not the arrays handed over
    assert e3 is not e2
    np.testing.assert_allclose(e3, eta, rtol=RTOL)


def test_starting_pass_with_equal_weights():
    """0/1 data, unit weights: the starting working weights are all 3/16, and X'WX = 3/16 X'X
    (the pass skips the scaled copy); X'Wz with z = eta0 + (y - mu0) / W0."""
    X, y, w, _ = _data()
    fam = get_family("binomial")
    rows = DenseRows(X, y, w, chunk_rows=5_000)
    rows.threads = 2
    st = rows.accumulate(fam, None)
    mu0 = (y + 0.5) / 2
    W0 = mu0 * (1 - mu0)
    assert np.all(W0 == 3 / 16)
    z = special.logit(mu0) + (y - mu0) / W0
    np.testing.assert_allclose(st.xtwx, 3 / 16 * X.T @ X, rtol=RTOL)
    np.testing.assert_allclose(st.rhs, X.T @ (W0 * z), rtol=RTOL)


@pytest.mark.parametrize("link", ["logit", "probit", "cloglog", "log", "cauchit"])
@pytest.mark.parametrize("kernels", [False, True])
def test_starting_pass_of_01_data_equals_row_by_row(link, kernels):
    """The starting pass of 0/1 data with unit weights and no offset takes each row's terms
    from its y alone (two values); the reference is R's start written out on every row:
    mustart = (y + 0.5) / 2, eta = g(mustart), mu = g^-1(eta), W = mu_eta^2 / V(mu),
    z = eta + (y - mu) / mu_eta, deviance summed over the rows."""
    X, y, w, _ = _data(seed=7)
    X = np.asfortranarray(X)
    fam = get_family("binomial", link)
    rows = DenseRows(X, y, chunk_rows=4_000)
    rows.use_kernels = kernels
    st = rows.accumulate(fam, None)
    assert rows._y01 is True
    mu0 = (y + 0.5) / 2
    eta = fam.link.link(mu0)
    mu = fam.link.inverse(eta)
    d = fam.link.mu_eta(eta)
    W = d * d / fam.variance(mu)
    z = eta + (y - mu) / d
    dev = np.sum(fam.deviance_terms(y, mu, w, eta))
    # an entry of X'WX or X'Wz that nearly cancels (a sum of +-terms near 0) carries the
    # rounding of its summands' scale: the absolute tolerance is RTOL times the largest entry
    H = X.T @ (W[:, None] * X)
    r = X.T @ (W * z)
    np.testing.assert_allclose(st.xtwx, H, rtol=RTOL, atol=RTOL * np.abs(H).max())
    np.testing.assert_allclose(st.rhs, r, rtol=RTOL, atol=RTOL * np.abs(r).max())
    assert st.deviance == pytest.approx(dev, rel=RTOL)


def test_starting_pass_shortcut_only_for_unit_weight_01_data():
    """Weights, an offset or a proportion in y: the row-by-row start (no two-value table)."""
    X, y, _w, _ = _data(n=2_000, seed=8)
    fam = get_family("binomial")
    assert DenseRows(X, y)._start_terms(fam) is not None
    assert DenseRows(X, y, weights=np.full(len(y), 2.0))._start_terms(fam) is None
    assert DenseRows(X, y, offset=np.full(len(y), 0.1))._start_terms(fam) is None
    yp = y.copy()
    yp[0] = 0.5
    assert DenseRows(X, yp)._start_terms(fam) is None
    assert DenseRows(X, y)._start_terms(get_family("poisson")) is None


@pytest.mark.parametrize(
    "family,link",
    [("binomial", "logit"), ("binomial", "probit"), ("poisson", "log"), ("gamma", "log")],
)
@pytest.mark.parametrize("threads", [1, 2])
def test_pearson_sum_equals_direct(family, link, threads):
    """want_pearson: the pass sums u^2 / W, which is w (y - mu)^2 / V(mu) written out directly;
    rows of zero prior weight add nothing.  Not summed unless asked, nor on the starting pass."""
    fam = get_family(family, link)
    X, y01, _w, beta = _data(seed=4)
    rng = np.random.default_rng(5)
    beta = beta * 0.5
    y = y01 if family == "binomial" else rng.poisson(1.5, len(y01)) + (family == "gamma") * 0.5
    w = rng.integers(0, 3, len(y)).astype(float)  # a third of the rows with zero weight
    rows = DenseRows(X, y, w)
    rows.threads = threads
    assert rows.accumulate(fam, beta).pearson is None
    rows.want_pearson = True
    assert rows.accumulate(fam, None).pearson is None
    mu = fam.link.inverse(X @ beta)
    direct = np.sum(w * (y - mu) ** 2 / fam.variance(mu))
    assert rows.accumulate(fam, beta).pearson == pytest.approx(direct, rel=RTOL)
