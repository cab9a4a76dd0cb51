"""glmlogit against R's glm: exact fixed-point references from tests/reference/make_reference.R.

Every fixture is R refitted from its own solution until the coefficients stop changing, so it is
the exact MLE (R's default stop is up to 3e-5 away for non-canonical links; see the fixtures'
``max_rel_change_default``).  Tolerances (relative):
  COEF 1e-8  coefficients, deviance, llf, AIC, BIC, fitted values: both sides are exact MLEs, the
             residual difference is the solvers' rounding (~1e-12); 1e-8 is the project target.
  SE   1e-7  standard errors and covariances: inverse of X'WX, one more matrix inversion.
  P    1e-6  p-values, compared on the log scale (absolute 1e-6 in log p).
Coefficients that are tiny relative to their SE are compared with an absolute floor of
1e-10 * SE (the rounding of a fit is relative to the SE, not to a coefficient near zero).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import glmlogit as gl

REF = Path(__file__).parent / "reference"
CASES = sorted(p.stem for p in (REF / "glm").glob("*.json"))
COEF, SE, P = 1e-8, 1e-7, 1e-6


def _arr(v):
    return np.array([np.nan if x is None else x for x in v], dtype=float)


def load(name):
    case = json.loads((REF / "glm" / f"{name}.json").read_text())
    df = pd.read_csv(REF / "data" / case["dataset"])
    return case, df


def fit(case, df):
    return gl.glm(
        case["formula_py"],
        df,
        family=case["family"],
        link=case["link"],
        weights=case["weights"],
        offset=case["offset"],
    )


@pytest.fixture(scope="module", params=CASES)
def pair(request):
    case, df = load(request.param)
    return case, df, fit(case, df)


def test_fixture_set_is_complete():
    assert len(CASES) >= 10
    fams = {json.loads((REF / "glm" / f"{c}.json").read_text())["family"] for c in CASES}
    assert fams == {"binomial", "poisson", "gaussian", "gamma", "inverse_gaussian"}


def test_coefficients(pair):
    case, _, res = pair
    ref, se = _arr(case["params"]), _arr(case["bse"])
    assert res.converged
    np.testing.assert_array_equal(res.aliased.to_numpy(), np.array(case["aliased"]))
    # absolute floor 1e-10 * SE for coefficients near zero (see module docstring)
    np.testing.assert_allclose(
        res.params.to_numpy(),
        ref,
        rtol=COEF,
        atol=1e-10 * np.nanmin(se),
        equal_nan=True,
        err_msg=case["name"],
    )


def test_standard_errors_and_covariance(pair):
    case, _, res = pair
    np.testing.assert_allclose(res.bse.to_numpy(), _arr(case["bse"]), rtol=SE, equal_nan=True)
    np.testing.assert_allclose(
        res.tvalues.to_numpy(), _arr(case["tvalues"]), rtol=SE, equal_nan=True
    )
    cov = np.array([_arr(r) for r in case["cov_params"]])
    scale = np.sqrt(np.outer(np.diag(cov), np.diag(cov)))
    np.testing.assert_allclose(
        res.cov_params().to_numpy() / scale, cov / scale, rtol=0, atol=SE, equal_nan=True
    )


def test_pvalues_log_scale(pair):
    case, _, res = pair
    ref = _arr(case["pvalues"])
    ours = res.pvalues.to_numpy()
    zero = ref == 0  # below the smallest double in R too (|z| > 38)
    np.testing.assert_array_equal(ours[zero], 0.0)
    ok = ~np.isnan(ref) & ~zero
    np.testing.assert_allclose(np.log(ours[ok]), np.log(ref[ok]), rtol=0, atol=P)


def test_model_statistics(pair):
    case, _, res = pair
    for ours, key in [
        (res.deviance, "deviance"),
        (res.null_deviance, "null_deviance"),
        (res.llf, "llf"),
        (res.aic, "aic"),
        (res.bic, "bic"),
        (res.pearson_chi2, "pearson_chi2"),
        (res.scale, "dispersion"),
    ]:
        assert ours == pytest.approx(case[key], rel=COEF), key
    assert res.df_resid == case["df_resid"]
    assert res.df_null == case["df_null"]
    assert res.nobs == case["nobs"]
    assert res.rank == case["rank"]


def test_per_observation(pair):
    case, _, res = pair
    np.testing.assert_allclose(res.fittedvalues, case["fitted"], rtol=COEF, atol=1e-14)
    np.testing.assert_allclose(
        res.linear_predictor, case["linear_predictor"], rtol=COEF, atol=1e-12
    )
    # residuals are differences of nearly equal numbers: absolute tolerance relative to their spread
    for kind in ("response", "pearson", "deviance", "working"):
        ours = getattr(res, f"resid_{kind}").to_numpy()
        ref = np.asarray(case[f"resid_{kind}"])
        np.testing.assert_allclose(
            ours,
            ref,
            rtol=COEF,
            atol=COEF * np.max(np.abs(ref)),
            err_msg=f"{case['name']} resid_{kind}",
        )


def test_prediction(pair):
    case, df, res = pair
    rows = np.asarray(case["predict_rows"]) - 1
    sf = res.get_prediction(df.iloc[rows]).summary_frame()
    np.testing.assert_allclose(sf["linear"], case["predict_link_fit"], rtol=COEF, atol=1e-12)
    np.testing.assert_allclose(sf["linear_se"], case["predict_link_se"], rtol=SE)
    np.testing.assert_allclose(sf["mean"], case["predict_response_fit"], rtol=COEF, atol=1e-14)
    np.testing.assert_allclose(sf["mean_se"], case["predict_response_se"], rtol=SE, atol=1e-14)


def test_sequential_anova(pair):
    case, _, res = pair
    if "anova_seq" not in case:
        pytest.skip("single-term formula: R's fixture has no sequential table")
    ref = case["anova_seq"]
    tab = gl.anova(res)
    assert len(tab) == len(ref["term"])
    np.testing.assert_allclose(tab["df_resid"], ref["resid_df"])
    np.testing.assert_allclose(tab["deviance"], ref["resid_dev"], rtol=COEF)
    np.testing.assert_allclose(
        tab["deviance_change"].to_numpy()[1:],
        _arr(ref["deviance"])[1:],
        rtol=1e-7,
        atol=1e-9 * ref["resid_dev"][0],
    )
    pv = _arr(ref["pvalue"])[1:]
    np.testing.assert_allclose(np.log(tab["pvalue"].to_numpy()[1:]), np.log(pv), atol=1e-6)
    if ref["statistic"][1] is not None:  # F tables (estimated dispersion)
        np.testing.assert_allclose(
            tab["statistic"].to_numpy()[1:], _arr(ref["statistic"])[1:], rtol=1e-7
        )


def test_log_binomial_needs_no_start():
    case, df = load("birthwt_logbinomial")
    assert case["r_needs_start"] is True
    res = fit(case, df)  # R fails here without start=
    np.testing.assert_allclose(res.params, case["params"], rtol=COEF)
