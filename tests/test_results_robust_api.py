"""The public results API for robust covariances and influence, against R (sandwich, stats).

The array functions are tested in test_robust.py / test_diagnostics.py; here the same R fixtures
(tests/reference/make_robust.R) are reached through gl.glm(cov_type=...), get_robustcov(),
influence() and dfbetas(), and rows dropped for NA must stay aligned.
Tolerance rtol 1e-7 (the project's SE tolerance: one more matrix product than the fit).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import glmlogit as gl

REF = Path(__file__).parent / "reference"
RTOL = 1e-7
CASES = ["birthwt_logit", "insurance_poisson_offset", "mtcars_gaussian", "menarche_probit"]


def _case(name):
    case = json.loads((REF / "robust" / f"{name}.json").read_text())
    df = pd.read_csv(REF / "data" / case["dataset"])
    return case, df


def _fit(case, df, **kw):
    return gl.glm(
        case["formula_py"],
        df,
        family=case["family"],
        link=case["link"],
        weights=case["weights"],
        offset=case["offset"],
        **kw,
    )


def _se(m):
    return np.sqrt(np.diag(np.array(m, dtype=float)))


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("kind", ["HC0", "HC1", "HC2", "HC3"])
def test_cov_type_at_fit_and_after(name, kind):
    case, df = _case(name)
    res = _fit(case, df, cov_type=kind)
    np.testing.assert_allclose(res.bse, _se(case[f"vcovHC_{kind}"]), rtol=RTOL)
    assert res.cov_type == kind and not res.use_t  # robust: normal reference, as coeftest
    again = _fit(case, df).get_robustcov(kind)
    np.testing.assert_allclose(again.cov_params(), res.cov_params(), rtol=1e-12)
    assert res.wald_test(np.eye(len(res.params))[1:2]).statistic == pytest.approx(
        res.tvalues.iloc[1] ** 2, rel=1e-10
    )


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize(
    ("corr", "key"), [("stata", "vcovCL_stata"), ("r", "vcovCL_r"), (None, "vcovCL_none")]
)
def test_cluster(name, corr, key):
    case, df = _case(name)
    res = _fit(
        case, df, cov_type="cluster", groups=np.array(case["cluster"]), cluster_correction=corr
    )
    np.testing.assert_allclose(res.bse, _se(case[key]), rtol=RTOL)


def test_cluster_groups_by_column_and_na_rows_dropped_from_groups():
    case, df = _case("birthwt_logit")
    df = df.assign(cl=case["cluster"])
    ref = _fit(case, df, cov_type="cluster", groups="cl")
    np.testing.assert_allclose(ref.bse, _se(case["vcovCL_stata"]), rtol=RTOL)
    na = df.copy()
    na.loc[[5, 17], "age"] = np.nan
    a = _fit(case, na, cov_type="cluster", groups="cl")
    b = _fit(case, na, cov_type="cluster", groups=na["cl"].to_numpy())  # full length: sliced
    c = _fit(case, df.drop(index=[5, 17]), cov_type="cluster", groups="cl")
    np.testing.assert_allclose(a.bse, c.bse, rtol=1e-12)
    np.testing.assert_allclose(b.bse, c.bse, rtol=1e-12)


def test_cluster_needs_groups():
    case, df = _case("birthwt_logit")
    with pytest.raises(gl.GlmlogitError, match="groups"):
        _fit(case, df, cov_type="cluster")
    with pytest.raises(gl.GlmlogitError, match="cov_type"):
        _fit(case, df, cov_type="HC9")


@pytest.mark.parametrize("name", CASES)
def test_influence_and_dfbetas(name):
    case, df = _case(name)
    res = _fit(case, df)
    inf = res.influence()
    for col in ("hat", "cooks_d", "rstandard", "rstandard_pearson", "rstudent"):
        ref = np.asarray(case[col], dtype=float)
        np.testing.assert_allclose(
            inf[col], ref, rtol=RTOL, atol=1e-10 * np.max(np.abs(ref)), err_msg=col
        )
    ref = np.array(case["dfbetas"], dtype=float)
    np.testing.assert_allclose(res.dfbetas(), ref, rtol=RTOL, atol=1e-10 * np.max(np.abs(ref)))


def test_influence_aligned_to_input_rows_with_na():
    case, df = _case("birthwt_logit")
    na = df.copy()
    na.index = [f"r{i}" for i in range(len(na))]
    na.loc[["r3", "r40"], "lwt"] = np.nan
    res = _fit(case, na)
    inf = res.influence()
    assert list(inf.index) == list(na.index)
    assert inf.loc[["r3", "r40"]].isna().all().all()
    sub = _fit(case, na.drop(index=["r3", "r40"])).influence()
    np.testing.assert_allclose(inf.drop(index=["r3", "r40"]), sub, rtol=1e-12)


def test_goodness_of_fit_methods_vs_r():
    """res.hosmer_lemeshow / auc / classification_table reach glmlogit.diagnostics with the fit's
    y, mu and weights: same R fixture values as tests/test_diagnostics.py."""
    case, df = _case("birthwt_logit")
    res = _fit(case, df)
    hl = res.hosmer_lemeshow(10)
    assert hl.statistic == pytest.approx(case["hosmer_lemeshow"]["statistic"], rel=RTOL)
    assert res.auc() == pytest.approx(case["auc"], rel=RTOL)
    tab = res.classification_table(0.5)
    np.testing.assert_allclose(
        np.asarray(tab.table, dtype=float), np.asarray(case["classification_table"], dtype=float)
    )
    pois = _fit(*_case("insurance_poisson_offset"))
    with pytest.raises(gl.GlmlogitError, match="binomial"):
        pois.auc()
