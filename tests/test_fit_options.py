"""gl.glm(method=..., penalty=...) reach the engines of tests/test_solvers.py and
tests/test_penalized.py through the public API, with the same results object."""

from __future__ import annotations

import numpy as np
import pytest

import glmlogit as gl
from glmlogit.datasets import load_birthwt

F = "low ~ age + lwt + C(race) + smoke + ht"


@pytest.fixture(scope="module")
def df():
    return load_birthwt()


@pytest.mark.parametrize(("method", "rtol"), [("newton", 1e-10), ("lbfgs", 1e-5)])
def test_methods_reach_the_irls_mle(df, method, rtol):
    ref = gl.glm(F, df)
    res = gl.glm(F, df, method=method)
    # same MLE within the method's stated tolerance; SEs from the Fisher information there
    np.testing.assert_allclose(res.params, ref.params, rtol=rtol, atol=rtol * ref.bse.min())
    np.testing.assert_allclose(res.bse, ref.bse, rtol=10 * rtol)
    assert res.method == method and res.converged and len(res.history) == res.n_iter
    assert res.separation is not None and res.separation.status == "none"


def test_unknown_method_and_options(df):
    with pytest.raises(gl.GlmlogitError, match="method"):
        gl.glm(F, df, method="simplex")
    with pytest.raises(gl.GlmlogitError, match="unknown fit option"):
        gl.glm(F, df, batch_size=10)


def test_penalties_through_glm(df):
    lasso = gl.glm(F, df, penalty="l1", alpha=0.02)
    assert lasso.penalty == {"penalty": "l1", "alpha": 0.02, "l1_ratio": 1.0, "standardize": False}
    assert np.isnan(lasso.bse).all() and (lasso.params == 0).any()
    assert "No valid standard errors" in str(lasso.summary())
    ridge = gl.glm(F, df, penalty="l2", alpha=0.02)
    assert np.isfinite(ridge.bse).all() and "posterior" in str(ridge.summary())
    enet = gl.glm(F, df, penalty="elasticnet", alpha=0.02, l1_ratio=0.5)
    assert enet.penalty["l1_ratio"] == 0.5
    # alpha -> 0 recovers the MLE
    tiny = gl.glm(F, df, penalty="l2", alpha=1e-12)
    np.testing.assert_allclose(tiny.params, gl.glm(F, df).params, rtol=1e-6)
    with pytest.raises(gl.GlmlogitError, match="l1_ratio"):
        gl.glm(F, df, penalty="elasticnet", alpha=0.1)
    with pytest.raises(gl.GlmlogitError, match="penalty"):
        gl.glm(F, df, penalty="l3", alpha=0.1)
    with pytest.raises(gl.GlmlogitError, match="robust"):
        gl.glm(F, df, penalty="l2", alpha=0.1, cov_type="HC0")


def test_ridge_is_finite_on_separated_data():
    from pathlib import Path

    import pandas as pd

    e = pd.read_csv(Path(__file__).parent / "reference" / "data" / "endometrial.csv")
    res = gl.glm("HG ~ NV + PI + EH", e, penalty="l2", alpha=0.01)
    assert np.all(np.isfinite(res.params)) and res.params["NV"] < 10
