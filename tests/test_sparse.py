"""Sparse designs give the dense results: same engine, only the pass differs.

Tolerance 1e-10 relative: both paths converge to the same fixed point; the only difference is
the summation order inside X'WX (sparse product vs chunked BLAS), i.e. rounding.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import glmlogit as gl

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
