"""A fit on a Dask DataFrame equals the in-memory fit on the same rows.

Tolerance 1e-10 relative: both paths run the same IRLS on the same sufficient statistics; only the
order in which rows are summed differs (partitions + tree reduction vs chunked BLAS), i.e.
rounding.  The threaded scheduler is the default; one class runs on a ``distributed``
``LocalCluster`` (threads; set GLMLOGIT_TEST_PROCESSES=1 to also run worker processes, slow to
start on a small machine).
"""

from __future__ import annotations

import logging
import os

import numpy as np
import pandas as pd
import pytest

dd = pytest.importorskip("dask.dataframe")

import glmlogit as gl  # noqa: E402
from glmlogit.dask import DaskGLMResults, glm_dask, is_dask_collection  # noqa: E402
from glmlogit.engine import kernels  # noqa: E402
from glmlogit.engine.dask_rows import DaskRows  # noqa: E402
from glmlogit.engine.rows import DenseRows  # noqa: E402
from glmlogit.errors import DataError, FormulaError, GlmlogitError  # noqa: E402
from glmlogit.families import get_family  # noqa: E402

RTOL = 1e-10
NPART = 3


def _frame(n: int = 1500, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": rng.normal(size=n),
            "g": rng.choice(["a", "b", "c", "d"], n),
            "k": rng.integers(1, 4, n),
            "t": rng.uniform(0.5, 2.0, n),
            "w": rng.integers(1, 4, n).astype(float),
            "id": rng.integers(0, 40, n),
        }
    )
    eta = 0.2 + 0.5 * df.x1 - 0.3 * df.x2 + 0.4 * (df.g == "b") - 0.2 * (df.k == 3)
    df["y"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    df["cnt"] = rng.poisson(np.exp(eta + np.log(df.t)))
    df["lt"] = np.log(df.t)
    df["gam"] = rng.gamma(2.0, np.exp(eta) / 2.0)
    df["yy"] = np.where(df.y == 1, "yes", "no")
    df.loc[[3, 500, 1200], "x1"] = np.nan  # dropped rows, in different partitions
    df.loc[[7], "g"] = None
    return df


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    return _frame()


@pytest.fixture(scope="module")
def ddf(df):
    return dd.from_pandas(df, npartitions=NPART)


CASES = {
    "binomial": ("y ~ x1 + x2 + g + C(k)", dict(family="binomial")),
    "binomial_no_intercept": ("y ~ 0 + x1 + g", dict(family="binomial")),
    "poisson_offset": ("cnt ~ x1 + center(x2) + g", dict(family="poisson", offset="lt")),
    "gamma": ("gam ~ x1 + scale(x2) + g:x1", dict(family="gamma", link="log")),
    "binomial_weights_factor": ("yy ~ x1 + g", dict(family="binomial", weights="w")),
    "gaussian": ("gam ~ x1 + x2 + x1:x2", dict(family="gaussian")),
    "inverse_gaussian": ("gam ~ x1 + g", dict(family="inverse_gaussian", link="log")),
}


def _check_equal(a, b, *, per_row: bool = True) -> None:
    assert isinstance(b, DaskGLMResults)
    assert list(b.params.index) == list(a.params.index)
    for attr in ("params", "bse", "tvalues", "pvalues"):
        np.testing.assert_allclose(getattr(b, attr), getattr(a, attr), rtol=RTOL, err_msg=attr)
    np.testing.assert_allclose(b.cov_params(), a.cov_params(), rtol=RTOL)
    np.testing.assert_allclose(b.conf_int(), a.conf_int(), rtol=RTOL)
    for attr in (
        "deviance",
        "null_deviance",
        "llf",
        "llnull",
        "aic",
        "bic",
        "scale",
        "pearson_chi2",
    ):
        assert getattr(b, attr) == pytest.approx(getattr(a, attr), rel=RTOL), attr
    for attr in ("nobs", "df_resid", "df_model", "df_null", "n_dropped", "n_iter", "converged"):
        assert getattr(b, attr) == getattr(a, attr), attr
    if a.separation is not None:  # binomial: the same separation report
        assert b.separation is not None and b.separation.status == a.separation.status
        assert b.separation.directions.to_dict() == a.separation.directions.to_dict()
    if not per_row:
        return
    for attr in (
        "fittedvalues",
        "linear_predictor",
        "resid_response",
        "resid_pearson",
        "resid_deviance",
        "resid_working",
    ):
        lazy = getattr(b, attr)
        assert is_dask_collection(lazy), attr
        got = lazy.compute()
        want = getattr(a, attr)
        assert got.index.equals(want.index), attr
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12, err_msg=attr)


@pytest.mark.parametrize("case", sorted(CASES))
def test_threaded_equals_in_memory(df, ddf, case):
    formula, kw = CASES[case]
    a = gl.glm(formula, df, **kw)
    b = glm_dask(formula, ddf, **kw)
    _check_equal(a, b)
    R = np.eye(len(a.params))[1:3]
    ta, tb = a.wald_test(R), b.wald_test(R)
    assert tb.statistic == pytest.approx(ta.statistic, rel=RTOL)
    assert tb.pvalue == pytest.approx(ta.pvalue, rel=1e-8)
    np.testing.assert_allclose(b.wald_test_terms(), a.wald_test_terms(), rtol=1e-8)
    if case in ("binomial", "poisson_offset"):  # the summary refits (LR tests): two cases
        assert str(b.summary()) == str(a.summary())


def test_predict_lazy(df, ddf):
    formula, kw = CASES["poisson_offset"]
    a = gl.glm(formula, df, **kw)
    b = glm_dask(formula, ddf, **kw)
    new = df.dropna().iloc[:400]
    pred = b.predict(dd.from_pandas(new, npartitions=2))
    assert is_dask_collection(pred)
    np.testing.assert_allclose(pred.compute(), a.predict(new), rtol=RTOL)
    lin = b.predict(dd.from_pandas(new, npartitions=2), which="linear").compute()
    np.testing.assert_allclose(lin, a.predict(new, which="linear"), rtol=RTOL)
    np.testing.assert_allclose(b.predict(new), a.predict(new), rtol=RTOL)  # pandas in, out
    np.testing.assert_allclose(
        b.get_prediction(new.iloc[:5]).summary_frame(),
        a.get_prediction(new.iloc[:5]).summary_frame(),
        rtol=1e-9,
    )
    bad = new.iloc[:3].assign(g=["a", "zz", "b"])
    with pytest.raises(DataError, match="zz"):
        b.predict(dd.from_pandas(bad, npartitions=1)).compute()
    with pytest.raises(DataError, match=r"lacks column\(s\) \['x1'\]"):
        b.predict(dd.from_pandas(new.drop(columns="x1"), npartitions=1)).compute()


@pytest.mark.parametrize("cov", ["HC0", "HC1", "HC3", "cluster"])
def test_robust_covariances(df, ddf, cov):
    formula, kw = CASES["binomial"]
    extra = {"groups": "id"} if cov == "cluster" else {}
    a = gl.glm(formula, df, cov_type=cov, **extra, **kw)
    b = glm_dask(formula, ddf, cov_type=cov, **extra, **kw)
    np.testing.assert_allclose(b.bse, a.bse, rtol=1e-9)
    np.testing.assert_allclose(b.cov_params(), a.cov_params(), rtol=1e-9, atol=1e-15)


def test_lr_tests_refit_on_dask(df, ddf):
    formula, kw = CASES["binomial"]
    a = gl.glm(formula, df, **kw)
    b = glm_dask(formula, ddf, **kw)
    w = "x1 = 0, g[T.b] = 0"
    assert b.wald_test(w).statistic == pytest.approx(a.wald_test(w).statistic, rel=RTOL)
    np.testing.assert_allclose(b.lr_tests(), a.lr_tests(), rtol=1e-8)
    assert b.compare_lr(glm_dask("y ~ x1 + x2", ddf)).statistic == pytest.approx(
        a.compare_lr(gl.glm("y ~ x1 + x2", df)).statistic, rel=1e-9
    )


def test_progress_and_logging(ddf, caplog):
    lines: list[str] = []
    with caplog.at_level(logging.INFO, logger="glmlogit.dask"):
        b = glm_dask("y ~ x1 + g", ddf, progress=lines.append)
    passes = [line for line in lines if "deviance" in line]
    assert len(passes) == b.n_iter + 1  # the starting pass, then one pass per iteration
    cache = [line for line in lines if "spill cache" in line]
    assert len(cache) == 1 and f"{NPART} of {NPART} partitions" in cache[0]
    assert len(lines) == len(passes) + 1
    assert "deviance" in lines[-1] and "elapsed" in lines[-1]
    assert float(lines[-1].split("deviance ")[1].split(";")[0]) == pytest.approx(b.deviance)
    assert sum("glmlogit fit" in r.getMessage() for r in caplog.records) == len(lines)


def test_numeric_formula_starts_in_the_scan(df, ddf):
    """No categorical levels or transform state to learn: the encoding scan also computes the
    starting IRLS pass, so the fit reads the data 1 + n_iter times.  The separation screen at
    the solution adds no pass with the compiled logit kernel (its reductions ride on the last
    IRLS pass), one without numba."""
    a = gl.glm("y ~ x1 + x2 + x1:x2", df)
    b = glm_dask("y ~ x1 + x2 + x1:x2", ddf)
    screen_pass = 0 if kernels.logit_pass() is not None else 1
    assert b.model.rows.n_passes == b.n_iter + screen_pass
    assert b.separation.status == a.separation.status == "none"
    _check_equal(a, b, per_row=False)


def test_errors(df, ddf):
    with pytest.raises(DataError, match="missing values"):
        glm_dask("y ~ x1", ddf, na_action="raise")
    with pytest.raises(FormulaError, match="stateful"):
        glm_dask("y ~ poly(x2, 2)", ddf)
    with pytest.raises(DataError, match="column name"):
        glm_dask("y ~ x2", ddf, weights=np.ones(len(df)))
    with pytest.raises(FormulaError, match="not in the data"):
        glm_dask("y ~ nope", ddf)
    with pytest.raises(DataError, match="must be non-negative"):
        glm_dask("cnt ~ x2", ddf.assign(cnt=ddf.cnt - 100), family="poisson")
    b = glm_dask("y ~ x2", ddf)
    with pytest.raises(GlmlogitError, match="not available"):
        b.influence()
    with pytest.raises(GlmlogitError, match="profile"):
        b.conf_int(method="profile")


def test_gl_glm_routes_dask(df, ddf):
    b = gl.glm("y ~ x1 + g", ddf)
    assert isinstance(b, DaskGLMResults) and b.model.rows.cache is not None
    _check_equal(gl.glm("y ~ x1 + g", df), b, per_row=False)
    c = gl.glm("y ~ x1 + g", ddf, cache=False)  # glm_dask's own arguments pass through
    assert c.model.rows.cache is None
    np.testing.assert_array_equal(c.params, b.params)


def test_dask_arrays_rows_equal_dense():
    da = pytest.importorskip("dask.array")
    rng = np.random.default_rng(3)
    n, p = 2000, 4
    X = np.column_stack([np.ones(n), rng.normal(size=(n, p - 1))])
    y = rng.poisson(np.exp(0.1 + X[:, 1] * 0.3)).astype(float)
    w = rng.uniform(0.5, 2, n)
    off = rng.normal(scale=0.1, size=n)
    fam = get_family("poisson")
    rows = DaskRows.from_arrays(
        da.from_array(X, chunks=(600, p)), da.from_array(y, chunks=600), w, off
    )
    dense = DenseRows(X, y, w, off)
    beta = np.array([0.1, 0.3, 0.0, -0.1])
    for b in (None, beta):
        s1, s2 = rows.accumulate(fam, b), dense.accumulate(fam, b)
        np.testing.assert_allclose(s1.xtwx, s2.xtwx, rtol=1e-12)
        np.testing.assert_allclose(s1.rhs, s2.rhs, rtol=1e-12)
        assert s1.deviance == pytest.approx(s2.deviance, rel=1e-12)
    np.testing.assert_allclose(rows.column_norms(np.arange(p)), dense.column_norms(np.arange(p)))
    np.testing.assert_allclose(
        np.abs(rows.weighted_r(np.arange(p))), np.abs(dense.weighted_r(np.arange(p))), rtol=1e-10
    )
    np.testing.assert_allclose(rows.linear_predictor(beta).compute(), X @ beta + off, rtol=1e-13)
    dev, g, ok = rows.gradient(fam, beta)
    dev2, g2, ok2 = dense.gradient(fam, beta)
    assert ok and ok2 and dev == pytest.approx(dev2, rel=1e-12)
    np.testing.assert_allclose(g, g2, rtol=1e-10)


def test_aliased_column_confirmed_on_partitions(df, ddf):
    d2 = df.assign(x3=2.0 * df.x1 - df.x2)
    a = gl.glm("y ~ x1 + x2 + x3", d2)
    b = glm_dask("y ~ x1 + x2 + x3", dd.from_pandas(d2, npartitions=NPART))
    assert list(b.aliased) == list(a.aliased) == [False, False, False, True]
    np.testing.assert_allclose(b.params.iloc[:3], a.params.iloc[:3], rtol=RTOL)


_FILTER_DISTRIBUTED = [
    # distributed's own start-up/shutdown chatter on a busy machine (not about glmlogit)
    "ignore:Port .* is already in use:UserWarning",
    "ignore:unclosed:ResourceWarning",
    "ignore::DeprecationWarning:distributed",
]


@pytest.mark.filterwarnings(*_FILTER_DISTRIBUTED)
@pytest.mark.parametrize(
    "processes",
    [
        False,
        pytest.param(
            True,
            marks=pytest.mark.skipif(
                os.environ.get("GLMLOGIT_TEST_PROCESSES") != "1",
                reason="worker processes take ~15 s to start here; GLMLOGIT_TEST_PROCESSES=1",
            ),
        ),
    ],
)
def test_local_cluster_equals_in_memory(df, ddf, processes):
    distributed = pytest.importorskip("distributed")
    formula, kw = CASES["binomial"]
    a = gl.glm(formula, df, **kw)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=processes, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster),
    ):
        b = glm_dask(formula, ddf, **kw)
        _check_equal(a, b)
        new = df.dropna()
        pred = b.predict(dd.from_pandas(new, npartitions=2)).compute()
    np.testing.assert_allclose(pred, a.predict(new), rtol=RTOL)


def test_na_rows_by_column_kind_match_in_memory():
    """Missing values in a float column (NaN), a nullable integer column (pd.NA) and a string
    column (None) are dropped exactly as the in-memory fit drops them; an inf is not missing and
    is reported, not dropped (the Dask NA mask skips float columns whose sum is finite)."""
    df = _frame(1500, seed=3)
    df["kn"] = pd.array(df.k, dtype="Int64")
    df.loc[[10, 450], "kn"] = pd.NA
    ref = gl.glm("y ~ x1 + kn + C(g)", df)
    res = glm_dask("y ~ x1 + kn + C(g)", dd.from_pandas(df, npartitions=NPART))
    assert res.n_dropped == ref.n_dropped == 6
    np.testing.assert_allclose(res.params, ref.params, rtol=RTOL)
    bad = df.copy()
    bad.loc[20, "x2"] = np.inf
    with pytest.raises(DataError, match="non-finite"):
        glm_dask("y ~ x1 + x2", dd.from_pandas(bad, npartitions=NPART))


def test_later_passes_trust_rows_the_start_pass_checked():
    """When the scan's starting pass has encoded every row (a numeric formula) and found no
    missing value, the later IRLS passes skip the NA and finiteness tests (their blocks are the
    same); a fit that dropped NA rows, or whose encoding the scan had to learn, keeps them."""
    from glmlogit.dask_encode import _Checked

    df = _frame(1500, seed=4).dropna().reset_index(drop=True)
    ref = gl.glm("y ~ x1 + x2", df)
    res = glm_dask("y ~ x1 + x2", dd.from_pandas(df, npartitions=NPART), cache=False)
    enc = res.model.rows.encode
    assert isinstance(enc, _Checked) and enc.trusted
    np.testing.assert_allclose(res.params, ref.params, rtol=RTOL)
    np.testing.assert_allclose(res.bse, ref.bse, rtol=RTOL)
    part = df.iloc[:500]
    for a, b in zip(enc.chunks(part), enc.enc.chunks(part), strict=True):
        for u, v in zip(a, b, strict=True):
            np.testing.assert_array_equal(u, v)  # the same blocks, bit for bit
    na = df.copy()
    na.loc[[3, 700], "x2"] = np.nan
    dropped = glm_dask("y ~ x1 + x2", dd.from_pandas(na, npartitions=NPART), na_action="drop")
    assert not isinstance(dropped.model.rows.encode, _Checked)
    assert dropped.n_dropped == 2
    np.testing.assert_allclose(dropped.params, gl.glm("y ~ x1 + x2", na).params, rtol=RTOL)
    learned = glm_dask("y ~ x1 + C(g)", dd.from_pandas(df, npartitions=NPART))
    assert not isinstance(learned.model.rows.encode, _Checked)


@pytest.mark.parametrize(
    "formula,kw,pass_free",
    [
        ("y ~ x1 + x2 + g", dict(family="binomial"), True),  # null: the weighted mean
        ("cnt ~ 0 + x1 + g", dict(family="poisson", offset="lt"), True),  # null: the offset
        ("gam ~ x1 + g", dict(family="gaussian"), False),  # llf needs the dispersion: a pass
    ],
)
@pytest.mark.parametrize("cache", [False, "auto"])
def test_inference_numbers_from_the_irls_passes(df, ddf, formula, kw, pass_free, cache):
    """The last IRLS pass (at the solution) sums the Pearson chi2 and the first one the null
    model's deviance and log-likelihood: the summary of a binomial or Poisson fit needs no pass
    over the data after the fit; the numbers equal the in-memory fit's."""
    a = gl.glm(formula, df, **kw)
    b = glm_dask(formula, ddf, cache=cache, **kw)
    for attr in ("pearson_chi2", "null_deviance", "llnull", "llf", "aic", "bic", "scale"):
        assert getattr(b, attr) == pytest.approx(getattr(a, attr), rel=RTOL), attr
    np.testing.assert_allclose(b.bse, a.bse, rtol=RTOL)
    assert ("_final" not in b.__dict__) is pass_free


def test_parquet_categoricals_with_unknown_levels(tmp_path):
    """dd.read_parquet leaves a Categorical's levels unknown to Dask (a placeholder in the meta),
    and each file may hold only some levels: the levels are then the union of the partitions'
    categories, as pandas reads the same files (a categorical regressor and a categorical
    binomial response)."""
    rng = np.random.default_rng(8)
    for i, levels in enumerate((["a", "b", "c"], ["b", "c", "d"], ["a", "d"])):
        n = 400
        g = rng.choice(levels, n)
        x = rng.normal(size=n)
        eta = 0.3 * x + np.select([g == "b", g == "c", g == "d"], [0.5, -0.4, 0.2], 0.0)
        yy = np.where(rng.random(n) < 1 / (1 + np.exp(-eta)), "yes", "no")
        pd.DataFrame({"x": x, "g": pd.Categorical(g), "yy": pd.Categorical(yy)}).to_parquet(
            tmp_path / f"part-{i}.parquet"
        )
    ddf = dd.read_parquet(tmp_path)
    assert "__UNKNOWN_CATEGORIES__" in list(ddf.dtypes["g"].categories)
    a = gl.glm("yy ~ x + g", pd.read_parquet(tmp_path))
    b = glm_dask("yy ~ x + g", ddf)
    assert list(b.params.index) == list(a.params.index)
    np.testing.assert_allclose(b.params, a.params, rtol=RTOL)
    np.testing.assert_allclose(b.bse, a.bse, rtol=RTOL)


def test_sparse_factor_design_uses_the_diagonal_block(df, ddf):
    """sparse=True on Dask: each pass finds the factor's diagonal block in the summed X'WX (the
    40-level C(id); g's block is smaller) and IRLS solves through its Schur complement.  Same
    fit as in memory (CatRows) and dense, to RTOL: the paths differ by summation order only."""
    from glmlogit.engine.irls import diagonal_block

    formula = "cnt ~ x1 + g + C(id)"
    kw = dict(family="poisson", offset="lt")
    b = glm_dask(formula, ddf, sparse=True, **kw)
    rows = b.model.rows
    assert len(rows.block_candidates) == 2
    st = rows.accumulate(get_family("poisson"), np.nan_to_num(b.params.to_numpy()))
    id_cols = [j for j, nm in enumerate(b.params.index) if nm.startswith("C(id)")]
    np.testing.assert_array_equal(st.diag_block, id_cols)
    assert diagonal_block(st.xtwx, [[1, 2]]) is None  # x1 with g's first level: not diagonal
    for sparse in (True, False):
        a = gl.glm(formula, df, sparse=sparse, **kw)
        np.testing.assert_allclose(b.params, a.params, rtol=RTOL)
        np.testing.assert_allclose(b.bse, a.bse, rtol=RTOL)
        assert b.deviance == pytest.approx(a.deviance, rel=RTOL)


def _endometrial() -> pd.DataFrame:
    from pathlib import Path

    return pd.read_csv(Path(__file__).parent / "reference" / "data" / "endometrial.csv")


@pytest.mark.parametrize("link", ["logit", "probit"])
def test_separated_dask_fit_reports_as_in_memory(link):
    """Endometrial (NV quasi-completely separates): the Dask fit runs the screen at the solution
    in one pass, then the Konis LP on the rows brought to the client: the report equals the
    in-memory one (itself equal to R's detectseparation, tests/test_separation.py)."""
    df = _endometrial()
    ddf = dd.from_pandas(df, npartitions=NPART)
    with pytest.warns(gl.PerfectSeparationWarning, match=r"NV is \+inf"):
        a = gl.glm("HG ~ NV + PI + EH", df, link=link)
    with pytest.warns(gl.PerfectSeparationWarning, match=r"NV is \+inf"):
        b = gl.glm("HG ~ NV + PI + EH", ddf, link=link)
    assert b.separation.status == a.separation.status == "quasi-complete"
    assert b.model.separation_check == "lp"
    assert b.separation.directions.to_dict() == a.separation.directions.to_dict()
    assert b.separation.rows.tolist() == a.separation.rows.tolist()
    np.testing.assert_allclose(b.separation.certificate, a.separation.certificate, atol=1e-9)
    nv = next(line for line in str(b.summary()).splitlines() if line.startswith("NV "))
    assert "+Inf" in nv  # the summary shows the infinite estimate, as in memory
    with pytest.raises(gl.SeparationError) as err:
        glm_dask("HG ~ NV + PI + EH", ddf, link=link, on_separation="raise")
    assert err.value.report.directions["NV"] == "+inf"
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quiet = glm_dask("HG ~ NV + PI + EH", ddf, link=link, on_separation="ignore")
    assert quiet.separation.separated
    with pytest.raises(GlmlogitError, match="Firth's fit is not available for Dask data"):
        glm_dask("HG ~ NV + PI + EH", ddf, on_separation="firth")


def test_dask_separation_screen_and_the_collect_limit(df, ddf, monkeypatch):
    """A non-separated fit is proven so by the screen's pass (no LP, no rows collected); past
    LP_COLLECT_BYTES the LP is not run: the heuristic clears a well-behaved fit and a separated
    one gets a warning that separation was not ruled out, and no report."""
    import glmlogit.dask_results as dres
    import glmlogit.separation as sepmod

    calls = []
    real = sepmod.detect_separation
    monkeypatch.setattr(
        sepmod, "detect_separation", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    b = glm_dask("y ~ x1 + x2 + g", ddf)
    assert b.separation.status == "none" and not calls
    proof = "screen" if kernels.logit_pass() is not None else "certificate"
    assert b.model.separation_check == proof
    monkeypatch.setattr(dres, "LP_COLLECT_BYTES", 0)
    # a fit the proof does not clear: its rounding slack made infinite (as if the sums were
    # too ill-conditioned for the bound); the heuristic then decides, from the minimum fitted
    # probability that the last IRLS pass summed on the way (the compiled kernel: no pass)
    monkeypatch.setattr(sepmod, "rounding_slack", lambda *a: np.inf)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        b = glm_dask("y ~ x1 + x2 + g", ddf)
    assert b.separation.status == "none" and not calls
    assert b.model.separation_check == "heuristic"
    screen_pass = 0 if kernels.logit_pass() is not None else 1
    assert b.model.rows.n_passes == b.n_iter + 1 + screen_pass  # + 1: the encoding's start
    endo = dd.from_pandas(_endometrial(), npartitions=NPART)
    with pytest.warns(gl.PerfectSeparationWarning, match="could not prove"):
        s = glm_dask("HG ~ NV + PI + EH", endo)
    assert s.separation is None and not calls
    assert s.model.separation_check == "unproven"
    with pytest.raises(gl.SeparationError, match="LP_COLLECT_BYTES"):
        glm_dask("HG ~ NV + PI + EH", endo, on_separation="raise")
