"""The compiled pass kernels (engine/kernels.py) against the NumPy/BLAS route and NumPy's math.

References: NumPy's ``exp`` and ``log1p`` for the kernel's own exp and log1p (measured in ulps of
NumPy's result: within 1 and 4 ulp, the accuracy the module claims); and ``DenseRows`` with
``use_kernels = False`` (NumPy pointwise terms, BLAS syrk) for whole passes, at 1e-12 relative:
the same sums in another order, rounding only.  Skipped without numba (then only the NumPy route
exists, and ``test_without_numba`` checks that it is the one taken).
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from scipy import special

import glmlogit as gl
from glmlogit.engine import kernels
from glmlogit.engine.rows import DenseRows
from glmlogit.families import get_family

RTOL = 1e-12

needs_numba = pytest.mark.skipif(kernels.logit_pass() is None, reason="numba not installed")


def _ulps(got, ref):
    return np.abs(got - ref) / np.spacing(np.abs(ref))


@needs_numba
def test_exp_within_one_ulp():
    kernels.logit_pass()
    rng = np.random.default_rng(0)
    x = np.concatenate(
        [
            -np.abs(rng.standard_normal(200_000)) * 5,
            -rng.random(100_000) * 708,
            [0.0, -0.0, -1e-300, -0.5 * np.log(2), -np.log(2), -707.9, -708.0],
        ]
    )
    out, bits = np.empty_like(x), np.empty(len(x), np.int64)
    kernels._exp_nb(x, out, bits, len(x))
    assert _ulps(out, np.exp(x)).max() <= 1.0
    # below the range: 0 (the true value is under 3.3e-308, a subnormal)
    tail = np.array([-708.5, -745.0, -1e6, -np.inf])
    o2, b2 = np.empty(4), np.empty(4, np.int64)
    kernels._exp_nb(tail, o2, b2, 4)
    assert np.all(o2 == 0.0)


@needs_numba
def test_log1p_within_four_ulp():
    rng = np.random.default_rng(1)
    t = np.concatenate(
        [
            np.exp(-np.abs(rng.standard_normal(200_000)) * 6),
            rng.random(100_000),
            [1.0, 1e-300, 1e-17, 1e-8, np.sqrt(2) - 1 - 1e-16, np.sqrt(2) - 1 + 1e-16],
        ]
    )
    out = np.empty_like(t)
    kernels._log1p_nb(t, out, len(t))
    assert _ulps(out, np.log1p(t)).max() <= 4.0
    zero = np.zeros(1)
    kernels._log1p_nb(zero, out, 1)
    assert out[0] == 0.0


def _logit_data(n, p, seed, *, weights=None, offset=False, fractional=False, scale=0.4):
    rng = np.random.default_rng(seed)
    X = np.asfortranarray(np.column_stack([np.ones(n), rng.standard_normal((n, p - 1))]))
    beta = rng.normal(0, scale, p)
    o = rng.normal(0, 0.5, n) if offset else None
    eta = X @ beta + (0 if o is None else o)
    if fractional:
        y = rng.binomial(5, special.expit(eta)) / 5.0
    else:
        y = (rng.random(n) < special.expit(eta)).astype(float)
    w = None
    if weights == "trials":
        w = np.full(n, 5.0)
    elif weights == "mixed":
        w = rng.integers(0, 4, n).astype(float)  # zeros included
    return X, y, w, o, beta


def _two_routes(X, y, w, o, family, beta, threads=1, keep=True):
    out = []
    for use in (False, True):
        r = DenseRows(X, y, w, o, chunk_rows=3_000)
        r.threads = threads
        r.use_kernels = use
        r.want_pearson = True
        r.keep_fitted = keep
        st = r.accumulate(family, beta)
        fit = r.fitted(family, beta) if (keep and st.valid and beta is not None) else None
        out.append((st, fit))
    return out


def _assert_same(a, b, rtol=RTOL):
    (sa, fa), (sb, fb) = a, b
    assert sa.valid and sb.valid
    scale = np.abs(sa.xtwx).max()
    np.testing.assert_allclose(sb.xtwx, sa.xtwx, rtol=rtol, atol=rtol * scale)
    np.testing.assert_allclose(sb.rhs, sa.rhs, rtol=rtol, atol=rtol * np.abs(sa.rhs).max())
    np.testing.assert_allclose(sb.deviance, sa.deviance, rtol=rtol)
    if sa.pearson is not None:
        np.testing.assert_allclose(sb.pearson, sa.pearson, rtol=rtol)
    assert np.array_equal(sb.xtwx, sb.xtwx.T)
    if fa is not None:
        np.testing.assert_allclose(fb[0], fa[0], rtol=rtol, atol=1e-14)
        np.testing.assert_allclose(fb[1], fa[1], rtol=rtol, atol=1e-300)


@needs_numba
@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"weights": "mixed"},
        {"offset": True},
        {"weights": "trials", "fractional": True},
        {"weights": "mixed", "offset": True},
        {"scale": 6.0},  # |eta| in the tens: weights of 1e-20 and below
    ],
    ids=["plain", "weights-with-zeros", "offset", "proportions", "weights-offset", "extreme-eta"],
)
@pytest.mark.parametrize("threads", [1, 2])
def test_logit_kernel_equals_numpy_route(kw, threads):
    X, y, w, o, beta = _logit_data(20_011, 7, seed=len(kw) + threads, **kw)
    fam = get_family("binomial")
    numpy_route, kernel_route = _two_routes(X, y, w, o, fam, beta, threads=threads)
    _assert_same(numpy_route, kernel_route)


@needs_numba
def test_logit_kernel_far_tails_and_p_shapes():
    # |eta| up to ~800: exp(-|eta|) below the kernel's range (returned as 0), W = 0 there, and a
    # wrong-side y gives u != 0 with W = 0: the Pearson chi2 is infinite on both routes
    fam = get_family("binomial")
    for p in (1, 3, 4, 8, 9, 13):  # every tail of the 8- and 4-column blocks of the cross product
        X, y, w, o, beta = _logit_data(5_003, p, seed=p)
        _assert_same(*_two_routes(X, y, w, o, fam, beta))
    X, y, w, o, beta = _logit_data(4_000, 3, seed=5)
    X[:, 1] *= 300.0
    beta = np.array([0.1, 2.0, -0.3])  # eta ~ N(0, 600^2): a quarter of the rows beyond 745
    assert np.mean(np.abs(X @ beta) > 745) > 0.1
    a, b = _two_routes(X, y, w, o, fam, beta)
    assert a[0].valid and b[0].valid
    assert a[0].pearson == b[0].pearson == np.inf
    np.testing.assert_allclose(b[0].deviance, a[0].deviance, rtol=RTOL)
    np.testing.assert_allclose(b[0].xtwx, a[0].xtwx, rtol=RTOL, atol=1e-300)
    y_right = (X @ beta > 0).astype(float)  # every row on its own side: finite Pearson chi2
    a, b = _two_routes(X, y_right, w, o, fam, beta)
    assert np.isfinite(a[0].pearson)
    _assert_same(a, b)


@needs_numba
@pytest.mark.parametrize(
    "kw",
    [{}, {"weights": "mixed"}, {"weights": "trials", "fractional": True}, {"offset": True}],
    ids=["plain", "weights-with-zeros", "proportions", "offset"],
)
@pytest.mark.parametrize("threads", [1, 2])
def test_logit_kernel_screen_equals_numpy_reductions(kw, threads):
    """The separation screen's five reductions summed by the kernel (PassStats.screen) against
    separation.screen_reductions on the pass's own eta and mu in NumPy: the sum of lam_i to
    1e-12 (rounding of a sum in another order), the minima to 1e-14 (one expit, no sum)."""
    from glmlogit.separation import screen_reductions

    X, y, w, o, beta = _logit_data(20_011, 5, seed=7 + threads + len(kw), **kw)
    fam = get_family("binomial")
    r = DenseRows(X, y, w, o, chunk_rows=3_000)
    r.threads = threads
    r.use_kernels = True
    r.want_screen = True
    st = r.accumulate(fam, beta)
    eta, mu = r.fitted(fam, beta)
    ref = screen_reductions(eta, mu, y, w)
    assert st.screen is not None
    assert st.screen[0] == ref[0] == (len(y) if w is None else np.count_nonzero(w > 0))
    np.testing.assert_allclose(st.screen[1], ref[1], rtol=RTOL)
    np.testing.assert_allclose(st.screen[2:], ref[2:], rtol=1e-14)
    r.want_screen = False
    assert r.accumulate(fam, beta).screen is None  # not asked for: not summed


@needs_numba
def test_logit_kernel_screen_far_tails():
    """|eta| beyond 745: a row on its observed side has d = exp(-r) = 0 on both routes (the
    kernel's exp returns 0 below -708, NumPy's a subnormal down to -745: atol 1e-300); a row
    on the wrong side has exp(-r) = inf, never the minimum."""
    from glmlogit.separation import screen_reductions

    X, y, w, o, beta = _logit_data(4_000, 3, seed=5)
    X[:, 1] *= 300.0
    beta = np.array([0.1, 2.0, -0.3])
    fam = get_family("binomial")
    for yy in (y, (X @ beta > 0).astype(float), (X @ beta < 0).astype(float)):
        r = DenseRows(X, yy, w, o)
        r.use_kernels = True
        r.want_screen = True
        st = r.accumulate(fam, beta)
        ref = screen_reductions(*r.fitted(fam, beta), yy, w)
        np.testing.assert_allclose(st.screen, ref, rtol=1e-12, atol=1e-300)


@needs_numba
def test_logit_kernel_invalid_eta():
    X, y, w, o, beta = _logit_data(5_000, 4, seed=3)
    X[4_321, 2] = np.inf
    fam = get_family("binomial")
    for use in (False, True):
        r = DenseRows(X, y, w, o)
        r.use_kernels = use
        st = r.accumulate(fam, beta)
        assert not st.valid and st.deviance == np.inf


@needs_numba
@pytest.mark.parametrize(
    "family,link",
    [("binomial", "probit"), ("poisson", "log"), ("gamma", "log"), ("gaussian", "identity")],
)
def test_cross_product_kernel_other_families(family, link):
    rng = np.random.default_rng(7)
    n, p = 12_000, 6
    X = np.asfortranarray(np.column_stack([np.ones(n), rng.standard_normal((n, p - 1)) * 0.3]))
    beta = rng.normal(0, 0.2, p)
    eta = X @ beta
    if family == "binomial":
        y = (rng.random(n) < special.ndtr(eta)).astype(float)
    elif family == "poisson":
        y = rng.poisson(np.exp(eta)).astype(float)
    elif family == "gamma":
        y = rng.gamma(2.0, np.exp(eta) / 2.0)
    else:
        y = eta + rng.standard_normal(n)
    w = rng.integers(1, 3, n).astype(float)
    fam = get_family(family, link)
    for b in (None, beta):  # the starting pass (equal weights for 0/1 data) and a pass at beta
        _assert_same(*_two_routes(X, y, w, None, fam, b, keep=b is not None))


@needs_numba
def test_fit_same_with_and_without_kernels():
    # a design large enough (n p >= 200,000) that gl.glm takes the kernels
    rng = np.random.default_rng(11)
    n = 40_000
    df = {f"x{j}": rng.standard_normal(n) for j in range(5)}
    eta = 0.3 + 0.5 * df["x0"] - 0.4 * df["x1"]
    df["y"] = (rng.random(n) < special.expit(eta)).astype(float)
    import pandas as pd

    data = pd.DataFrame(df)
    res = gl.glm("y ~ x0 + x1 + x2 + x3 + x4", data=data)
    assert res.model.rows.use_kernels
    res.model.rows.use_kernels = False
    ref = res.model.fit()
    # the converged solutions agree to the IRLS tolerance's effect on beta, far below 1e-10
    np.testing.assert_allclose(res.params, ref.params, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(res.bse, ref.bse, rtol=1e-10)
    np.testing.assert_allclose(res.deviance, ref.deviance, rtol=1e-12)


def test_without_numba():
    """GLMLOGIT_NO_NUMBA=1: no kernel, and a large fit takes the NumPy route, same numbers."""
    code = (
        "import numpy as np, glmlogit as gl\n"
        "from glmlogit.engine import kernels\n"
        "from glmlogit.engine.rows import DenseRows\n"
        "assert kernels.cross_products() is None and kernels.logit_pass() is None\n"
        "rng = np.random.default_rng(0)\n"
        "X = np.asfortranarray(rng.standard_normal((50_000, 5)))\n"
        "y = (rng.random(50_000) < 0.4).astype(float)\n"
        "res = gl.GLM(y, X).fit()\n"
        "print(repr(res.params.tolist()))\n"
    )
    env = {**os.environ, "GLMLOGIT_NO_NUMBA": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    params = np.array(eval(out.stdout.strip()))
    rng = np.random.default_rng(0)
    X = np.asfortranarray(rng.standard_normal((50_000, 5)))
    y = (rng.random(50_000) < 0.4).astype(float)
    here = gl.GLM(y, X).fit().params.to_numpy()
    np.testing.assert_allclose(params, here, rtol=1e-10, atol=1e-13)
    assert DenseRows(X, y).use_kernels  # this process (numba or not) would take the kernel
