"""Sparse designs give the dense results: same engine, only the pass differs.

Tolerance 1e-10 relative: both paths converge to the same fixed point; the only difference is
the summation order inside X'WX (group sums or a sparse product vs chunked BLAS), i.e. rounding.

A sparse design whose factor terms are blocks of indicator columns is fitted by CatRows (the
factors as integer codes); one without such a term by SparseRows.  Both are checked here through
gl.glm, and against each other pass by pass in tests/test_xp.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import glmlogit as gl
from glmlogit.engine.catrows import CatRows
from glmlogit.engine.sparse import SparseRows

RTOL = 1e-10


def _data(family: str, n: int = 3000, levels: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": rng.normal(size=n),
            "g": rng.integers(0, levels, n).astype(str),
        }
    )
    eff = rng.normal(scale=0.3, size=levels)
    eta = 0.2 + 0.5 * df.x1 - 0.3 * df.x2 + eff[df.g.astype(int)]
    if family == "binomial":
        df["y"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    elif family == "poisson":
        df["y"] = rng.poisson(np.exp(eta)).astype(float)
    else:  # gamma, log link
        df["y"] = rng.gamma(2.0, np.exp(eta) / 2.0)
    return df


@pytest.mark.parametrize(
    ("family", "link"),
    [("binomial", "logit"), ("poisson", "log"), ("gamma", "log"), ("binomial", "probit")],
)
def test_sparse_equals_dense(family, link):
    df = _data(family)
    f = "y ~ x1 + x2 + C(g) + x1:x2"
    dense = gl.glm(f, df, family=family, link=link, sparse=False)
    sparse = gl.glm(f, df, family=family, link=link, sparse=True)
    assert sp.issparse(sparse.design.X) and not sp.issparse(dense.design.X)
    assert isinstance(sparse.model.rows, CatRows)
    for attr in ("params", "bse", "pvalues", "fittedvalues"):
        np.testing.assert_allclose(
            getattr(sparse, attr), getattr(dense, attr), rtol=RTOL, err_msg=attr
        )
    for attr in ("deviance", "null_deviance", "llf", "aic", "scale"):
        assert getattr(sparse, attr) == pytest.approx(getattr(dense, attr), rel=RTOL), attr
    new = df.iloc[:7]
    np.testing.assert_allclose(
        sparse.get_prediction(new).summary_frame(),
        dense.get_prediction(new).summary_frame(),
        rtol=RTOL,
    )


def test_auto_picks_sparse_for_many_levels():
    df = _data("binomial", n=12000, levels=250)
    res = gl.glm("y ~ x1 + C(g)", df)
    assert sp.issparse(res.design.X)
    assert not sp.issparse(gl.glm("y ~ x1 + x2", df).design.X)


def test_sparse_aliased_column_is_reported():
    df = _data("binomial")
    df["x3"] = df.x1 + df.x2
    res = gl.glm("y ~ x1 + x2 + x3 + C(g)", df, sparse=True)
    dense = gl.glm("y ~ x1 + x2 + x3 + C(g)", df, sparse=False)
    assert res.aliased["x3"] and dense.aliased["x3"]
    np.testing.assert_allclose(res.params, dense.params, rtol=RTOL)


def test_sparse_arrays_interface():
    df = _data("poisson")
    dense = gl.glm("y ~ x1 + C(g)", df, family="poisson", sparse=False)
    Xs = sp.csr_matrix(dense.design.X)
    res = gl.GLM(dense.design.y, Xs, family="poisson").fit()
    np.testing.assert_allclose(res.params.to_numpy(), dense.params.to_numpy(), rtol=RTOL)
    np.testing.assert_allclose(res.bse.to_numpy(), dense.bse.to_numpy(), rtol=RTOL)


def test_sparse_without_factor_block_uses_sparse_rows():
    """x1:C(g) alone has no block of indicator columns (its values are x1): SparseRows, same fit."""
    df = _data("binomial")
    f = "y ~ x2 + x1:C(g)"
    dense = gl.glm(f, df, sparse=False)
    sparse = gl.glm(f, df, sparse=True)
    assert isinstance(sparse.model.rows, SparseRows)
    for attr in ("params", "bse"):
        np.testing.assert_allclose(
            getattr(sparse, attr), getattr(dense, attr), rtol=RTOL, err_msg=attr
        )
    assert sparse.deviance == pytest.approx(dense.deviance, rel=RTOL)


def test_two_factors_and_their_interaction():
    """Two factor blocks and a factor x factor block: the cross blocks of X'WX by bincount."""
    df = _data("poisson", n=4000, levels=30, seed=3)
    df["h"] = np.random.default_rng(4).choice(list("abcde"), len(df))
    f = "y ~ x1 + C(g) + C(h) + C(h):x2"
    dense = gl.glm(f, df, family="poisson", sparse=False)
    sparse = gl.glm(f, df, family="poisson", sparse=True)
    assert isinstance(sparse.model.rows, CatRows) and len(sparse.model.rows.cats) == 2
    for attr in ("params", "bse"):
        np.testing.assert_allclose(
            getattr(sparse, attr), getattr(dense, attr), rtol=RTOL, err_msg=attr
        )
    # drop1 refits on column subsets (CatRows.take_columns)
    pd.testing.assert_frame_equal(sparse.drop1(), dense.drop1(), rtol=RTOL)


@pytest.mark.parametrize(
    "kw",
    [
        {"method": "newton"},
        {"method": "lbfgs"},
        {"method": "gd"},
        {"penalty": "l2", "alpha": 0.01},
        {"penalty": "l1", "alpha": 0.001},
    ],
)
def test_other_solvers_on_a_factor_design(kw):
    """Penalized fits and the non-IRLS methods take the design as a matrix (SparseRows).  The same
    method runs on both sides, so the paths differ by rounding only: RTOL (measured 1e-13)."""
    df = _data("binomial")
    f = "y ~ x1 + x2 + C(g)"
    dense = gl.glm(f, df, sparse=False, **kw)
    sparse = gl.glm(f, df, sparse=True, **kw)
    np.testing.assert_allclose(sparse.params, dense.params, rtol=RTOL, atol=1e-12)


def _arrow(k: int = 40, m: int = 6, seed: int = 5):
    """X'WX of m dense columns and one k-level factor (its block diagonal), design order mixed."""
    rng = np.random.default_rng(seed)
    n = 2000
    codes = rng.integers(0, k, n)
    X = np.hstack([rng.normal(size=(n, m)), np.eye(k)[codes]])
    w = rng.uniform(0.1, 1.0, n)
    order = rng.permutation(m + k)
    H = (X * w[:, None]).T @ X
    H = H[np.ix_(order, order)]
    diag_pos = np.flatnonzero(order >= m)
    return H, diag_pos, rng


def test_arrow_factor_equals_cholesky():
    """The Schur-complement factor against LAPACK's Cholesky on the same matrix.  Condition
    number of H is about 1e2 here, so 1e-10 relative leaves four digits of margin."""
    from scipy import linalg

    from glmlogit.engine.irls import ArrowFactor, cho_inverse

    H, diag_pos, rng = _arrow()
    b = rng.normal(size=H.shape[0])
    f = ArrowFactor(H, diag_pos)
    cf = linalg.cho_factor(H)
    np.testing.assert_allclose(f.solve(b), linalg.cho_solve(cf, b), rtol=1e-10)
    inv = cho_inverse(cf)
    np.testing.assert_allclose(f.inverse(), inv, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(f.inverse_diag(), np.diag(inv), rtol=1e-10)
    np.testing.assert_allclose(inv, np.linalg.inv(H), rtol=1e-10, atol=1e-14)


def test_arrow_factor_refuses_non_positive_definite():
    from scipy import linalg

    from glmlogit.engine.irls import ArrowFactor

    H, diag_pos, _ = _arrow()
    H0 = H.copy()
    H0[diag_pos[3], :] = H0[:, diag_pos[3]] = 0.0  # a level without weight
    with pytest.raises(linalg.LinAlgError):
        ArrowFactor(H0, diag_pos)
    rest = np.setdiff1d(np.arange(H.shape[0]), diag_pos)
    H1 = H.copy()
    H1[rest[0], rest[0]] = -1.0  # the Schur complement is not positive definite
    with pytest.raises(linalg.LinAlgError):
        ArrowFactor(H1, diag_pos)


@pytest.mark.parametrize("formula", ["y ~ x1 + C(g) + z", "y ~ x1 + z + C(g)"])
def test_group_level_column_aliased_as_dense(formula):
    """z is constant within each level of g (in the span of the intercept and g's columns): the
    fast screen through the diagonal block cannot clear it, the in-order screen decides, and
    R's rule drops the later column in formula order (z, or g's last level), as the dense fit."""
    df = _data("binomial")
    df["z"] = np.random.default_rng(9).normal(size=60)[df.g.astype(int)]
    sparse = gl.glm(formula, df, sparse=True)
    dense = gl.glm(formula, df, sparse=False)
    assert isinstance(sparse.model.rows, CatRows)
    assert sparse.aliased.sum() == 1
    pd.testing.assert_series_equal(sparse.aliased, dense.aliased)
    np.testing.assert_allclose(sparse.params, dense.params, rtol=RTOL)
    np.testing.assert_allclose(sparse.bse, dense.bse, rtol=RTOL)
