"""The array-namespace pass (the GPU code path) equals the NumPy DenseRows pass.

Run on the CPU with NumPy (and array_api_compat's NumPy namespace) as ``xp``: the pointwise terms
written for any namespace must reproduce the families' NumPy code, and the blocked sums the
DenseRows sums, to rounding (1e-12 relative).  With CuPy installed and a GPU present, the same
checks run with ``xp=cupy``.
"""

from __future__ import annotations

import numpy as np
import pytest

import glmlogit as gl
from glmlogit.engine.irls import irls
from glmlogit.engine.rows import DenseRows
from glmlogit.engine.xp_rows import XpRows, _Terms
from glmlogit.families import get_family

RTOL = 1e-12

PAIRS = [
    ("binomial", "logit"),
    ("binomial", "cloglog"),
    ("binomial", "probit"),  # not written for namespaces: the NumPy fallback
    ("poisson", "log"),
    ("poisson", "sqrt"),
    ("gaussian", "identity"),
    ("gaussian", "log"),
    ("gamma", "log"),
    ("gamma", "inverse"),
    ("inverse_gaussian", "inverse_squared"),
]


def _data(family: str, n: int = 900, p: int = 4, seed: int = 1):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.normal(scale=0.3, size=(n, p - 1))])
    eta = X @ np.linspace(0.3, -0.2, p)
    if family == "binomial":
        y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
        y[:20] = 0.25  # a few proportions (with weights = trials they are allowed)
    elif family == "poisson":
        y = rng.poisson(np.exp(eta)).astype(float)
    elif family == "gaussian":
        y = np.exp(eta) + rng.normal(scale=0.1, size=n)
    else:
        y = rng.gamma(4.0, np.exp(eta) / 4.0)
        if family == "inverse_gaussian":
            y = y + 0.5
    w = rng.integers(1, 5, n).astype(float)
    off = rng.normal(scale=0.05, size=n)
    return X, y, w, off


def _namespaces():
    out = [pytest.param(np, id="numpy")]
    try:
        import array_api_compat.numpy as compat_np

        out.append(pytest.param(compat_np, id="array_api_compat.numpy"))
    except ImportError:
        pass
    return out


@pytest.mark.parametrize("xp", _namespaces())
@pytest.mark.parametrize(("family", "link"), PAIRS)
def test_pass_equals_dense(xp, family, link):
    fam = get_family(family, link)
    X, y, w, off = _data(family)
    if family == "binomial" and link != "logit":
        off = off * 0.0
    dense = DenseRows(X, y, w, off)
    rows = XpRows(X, y, w, off, xp=xp, chunk_rows=250)  # four blocks
    assert _Terms(fam, xp).ok == (link != "probit")
    fit = irls(dense, fam)
    beta = np.where(fit.aliased, 0.0, fit.coef) * 0.9
    for b in (None, beta):
        s1, s2 = rows.accumulate(fam, b), dense.accumulate(fam, b)
        assert s1.valid and s2.valid
        np.testing.assert_allclose(s1.xtwx, s2.xtwx, rtol=RTOL)
        np.testing.assert_allclose(s1.rhs, s2.rhs, rtol=RTOL, atol=1e-12 * np.abs(s2.rhs).max())
        assert s1.deviance == pytest.approx(s2.deviance, rel=RTOL)
    d1, g1, ok1 = rows.gradient(fam, beta)
    d2, g2, ok2 = dense.gradient(fam, beta)
    assert ok1 and ok2 and d1 == pytest.approx(d2, rel=RTOL)
    np.testing.assert_allclose(g1, g2, rtol=1e-10, atol=1e-12 * np.abs(g2).max())
    np.testing.assert_allclose(rows.linear_predictor(beta), dense.linear_predictor(beta), rtol=RTOL)
    fx = irls(rows, fam)
    np.testing.assert_allclose(fx.coef, fit.coef, rtol=1e-10)
    np.testing.assert_allclose(fx.cov_unscaled, fit.cov_unscaled, rtol=1e-10)
    assert fx.deviance == pytest.approx(fit.deviance, rel=1e-12)


def test_invalid_iterates_are_reported():
    X, y, w, off = _data("poisson")
    rows = XpRows(X, y, w, off, xp=np)
    st = rows.accumulate(get_family("poisson", "sqrt"), np.array([-5.0, 0, 0, 0]))
    assert not st.valid and st.deviance == np.inf
    st = rows.accumulate(get_family("gamma", "inverse"), np.zeros(4))
    assert not st.valid


def test_aliasing_and_column_helpers():
    X, y, w, off = _data("binomial")
    X = np.column_stack([X, X[:, 1] - 2 * X[:, 2]])
    dense, rows = DenseRows(X, y, w), XpRows(X, y, w, xp=np, chunk_rows=300)
    cols = np.arange(X.shape[1])
    np.testing.assert_allclose(rows.column_norms(cols), dense.column_norms(cols), rtol=RTOL)
    np.testing.assert_allclose(
        np.abs(rows.weighted_r(cols)), np.abs(dense.weighted_r(cols)), rtol=1e-9, atol=1e-9
    )
    fam = get_family("binomial")
    a, b = irls(dense, fam), irls(rows, fam)
    assert list(b.aliased) == list(a.aliased) == [False] * 4 + [True]
    np.testing.assert_allclose(b.coef[:4], a.coef[:4], rtol=1e-10)
    sub = rows.take_columns([0, 1])
    assert sub.p == 2
    np.testing.assert_allclose(
        sub.accumulate(fam, None).xtwx,
        dense.take_columns([0, 1]).accumulate(fam, None).xtwx,
        rtol=RTOL,
    )


def test_results_object_from_namespace_rows():
    """What gl.glm(..., device=...) does: the model's rows replaced by XpRows; same results."""
    rng = np.random.default_rng(5)
    import pandas as pd

    df = pd.DataFrame({"x1": rng.normal(size=500), "x2": rng.normal(size=500)})
    df["y"] = (rng.random(500) < 1 / (1 + np.exp(-0.5 * df.x1))).astype(float)
    ref = gl.glm("y ~ x1 + x2", df)
    model = ref.model
    d = model.design
    model.rows = XpRows(d.X, d.y, d.weights, d.offset, xp=np)
    res = model.fit()
    for attr in ("params", "bse", "pvalues", "fittedvalues"):
        np.testing.assert_allclose(getattr(res, attr), getattr(ref, attr), rtol=1e-10)
    assert res.llf == pytest.approx(ref.llf, rel=1e-12)


def test_cupy_matches_numpy():
    cp = pytest.importorskip("cupy")
    try:
        cp.cuda.runtime.getDeviceCount()
    except Exception:  # noqa: BLE001 - no driver / no device
        pytest.skip("no CUDA device")
    fam = get_family("binomial")
    X, y, w, off = _data("binomial")
    dense = DenseRows(X, y, w, off)
    rows = XpRows(cp.asarray(X), cp.asarray(y), cp.asarray(w), cp.asarray(off), xp=cp)
    a, b = irls(dense, fam), irls(rows, fam)
    np.testing.assert_allclose(b.coef, a.coef, rtol=1e-10)


# --- the split dense + categorical rows (glmlogit/engine/catrows.py) --------------------------------
@pytest.mark.parametrize(
    "formula", ["y ~ x1 + x2 + C(g) + h", "y ~ 0 + C(g) + x1", "y ~ x1 * h + C(g)"]
)
def test_catrows_equal_sparse(formula):
    import pandas as pd

    from glmlogit.engine.catrows import CatRows
    from glmlogit.engine.sparse import SparseRows
    from glmlogit.formula import build_design

    rng = np.random.default_rng(0)
    n = 2000
    df = pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": rng.normal(size=n),
            "g": rng.integers(0, 60, n).astype(str),
            "h": rng.choice(list("abcd"), n),
        }
    )
    df["y"] = (rng.random(n) < 1 / (1 + np.exp(-0.4 * df.x1))).astype(float)
    d = build_design(formula, df, binomial=True, sparse=True)
    w, off = rng.uniform(0.5, 2, n), rng.normal(scale=0.1, size=n)
    cat = CatRows.from_sparse(d.X, d.terms, d.y, w, off)
    assert cat is not None and cat.cats
    ref = SparseRows(d.X, d.y, w, off)
    fam = get_family("binomial")
    beta = rng.normal(scale=0.1, size=d.X.shape[1])
    for b in (None, beta):
        s1, s2 = cat.accumulate(fam, b), ref.accumulate(fam, b)
        np.testing.assert_allclose(s1.xtwx, s2.xtwx, rtol=1e-12, atol=1e-12 * np.abs(s2.xtwx).max())
        np.testing.assert_allclose(s1.rhs, s2.rhs, rtol=1e-12, atol=1e-12 * np.abs(s2.rhs).max())
        assert s1.deviance == pytest.approx(s2.deviance, rel=RTOL)
    np.testing.assert_allclose(cat.linear_predictor(beta), ref.linear_predictor(beta), rtol=RTOL)
    np.testing.assert_allclose(cat.gradient(fam, beta)[1], ref.gradient(fam, beta)[1], atol=1e-10)
    cols = np.arange(d.X.shape[1])
    np.testing.assert_allclose(cat.column_norms(cols), ref.column_norms(cols), rtol=1e-12)
    sub = [0, 2, 5, 7, d.X.shape[1] - 1]
    np.testing.assert_allclose(
        np.abs(cat.weighted_r(sub)), np.abs(ref.weighted_r(sub)), rtol=1e-10, atol=1e-10
    )
    np.testing.assert_allclose(
        cat.take_columns(sub).accumulate(fam, None).xtwx,
        ref.take_columns(sub).accumulate(fam, None).xtwx,
        rtol=1e-12,
        atol=1e-12,
    )
    f1, f2 = irls(cat, fam), irls(ref, fam)
    np.testing.assert_allclose(f1.coef, f2.coef, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(f1.cov_unscaled, f2.cov_unscaled, rtol=1e-10, atol=1e-15)


def test_catrows_declines_non_indicator_designs():
    import pandas as pd

    from glmlogit.engine.catrows import CatRows
    from glmlogit.formula import build_design

    rng = np.random.default_rng(2)
    df = pd.DataFrame({"x1": rng.normal(size=300), "h": rng.choice(list("abc"), 300)})
    df["y"] = (rng.random(300) < 0.5).astype(float)
    d = build_design("y ~ x1:h", df, binomial=True, sparse=True)  # numeric x factor only
    assert CatRows.from_sparse(d.X, d.terms, d.y) is None


def test_gpu_check_script_dry_run():
    """The prepared GPU check (benchmarks/gpu_check.py, for a lent device with 15 minutes of time)
    runs end to end on NumPy standing in for CuPy, and its GPU-path fit matches the CPU fit."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.py"
    args = ["--dry-run", "--n", "3e4", "--p", "5", "--repeat", "1", "--cpu-check", "subsample"]
    out = subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, check=True
    )
    res = json.loads(out.stdout)
    assert res["dry_run"] is True and res["meets_time_target"] is None
    assert res["n"] == 30000 and res["converged"]
    # the GPU path (XpRows on NumPy) against DenseRows on the same rows: rounding only
    assert res["max_rel_coef_diff_vs_cpu"] < RTOL
    assert res["max_rel_se_diff_vs_cpu"] < RTOL
