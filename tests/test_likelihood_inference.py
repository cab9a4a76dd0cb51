"""Likelihood-based inference through the public API, against R.

* drop1: R's drop1(fit, test="LRT"/"F") at glm.control(epsilon=1e-15) (tests/reference/make_drop1.R),
  rtol 1e-8 on deviances, AIC and statistics (exact MLEs on both sides), p-values on the log scale.
* conf_int(method="profile"): the exact profile roots computed in R
  (tests/reference/make_firth_profile.R), rtol 1e-8; R's own spline confint() is ~1e-4 * SE off
  the exact root, so it is checked with |diff| <= 3e-4 * SE.
* firth=True: brglm2 AS_mean coefficients/SEs rtol 1e-8, logistf-style penalized LR tests and
  profile penalized-likelihood limits rtol 1e-8 (same fixture script).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import glmlogit as gl

REF = Path(__file__).parent / "reference"
RTOL = 1e-8


def _load(kind, name):
    case = json.loads((REF / kind / f"{name}.json").read_text())
    return case, pd.read_csv(REF / "data" / case["dataset"])


def _arr(v):
    return np.array([np.nan if x is None else x for x in v], dtype=float)


@pytest.mark.parametrize("name", sorted(p.stem for p in (REF / "drop1").glob("*.json")))
def test_drop1_vs_r(name):
    case, df = _load("drop1", name)
    res = gl.glm(
        case["formula_py"], df, family=case["family"], link=case["link"], offset=case["offset"]
    )
    for test in ("LRT", "F"):
        key = f"drop1_{test}"
        if key not in case:
            continue
        ref = case[key]
        tab = res.drop1(test)
        assert len(tab) == len(ref["term"])
        np.testing.assert_allclose(tab["df"], _arr(ref["df"]))
        np.testing.assert_allclose(tab["deviance"], ref["deviance"], rtol=RTOL)
        np.testing.assert_allclose(tab["aic"], ref["aic"], rtol=RTOL)
        np.testing.assert_allclose(
            tab["statistic"].to_numpy()[1:], _arr(ref["statistic"])[1:], rtol=1e-7
        )
        np.testing.assert_allclose(
            np.log(tab["pvalue"].to_numpy()[1:]), np.log(_arr(ref["pvalue"])[1:]), atol=1e-6
        )


def test_drop1_respects_marginality():
    case, df = _load("drop1", "warpbreaks_poisson")
    res = gl.glm(case["formula_py"], df, family="poisson")
    assert list(res.drop1().index) == ["<none>", "C(wool):C(tension)"]


def test_lr_tests_match_drop1_for_single_column_terms():
    case, df = _load("drop1", "birthwt_logit")
    res = gl.glm(case["formula_py"], df)
    lr, d1 = res.lr_tests(), res.drop1()
    for term in ("age", "lwt", "smoke", "ht"):
        assert lr.loc[term, "statistic"] == pytest.approx(d1.loc[term, "statistic"], rel=1e-9)


def test_lr_tests_of_named_columns_are_rows_of_the_full_table():
    case, df = _load("drop1", "birthwt_logit")
    res = gl.glm(case["formula_py"], df)
    full = res.lr_tests()
    sub = res.lr_tests(["smoke", "age"])
    assert list(sub.index) == ["smoke", "age"]
    pd.testing.assert_frame_equal(sub, full.loc[["smoke", "age"]])  # the same refits
    pd.testing.assert_frame_equal(res.lr_tests(-1), full.iloc[[-1]])
    pd.testing.assert_frame_equal(res.lr_tests("lwt"), full.loc[["lwt"]])
    with pytest.raises(gl.GlmlogitError, match="no coefficient named 'smok'"):
        res.lr_tests("smok")
    p = len(res.params)
    with pytest.raises(gl.GlmlogitError, match=f"positions 0..{p - 1}, got {p}"):
        res.lr_tests(p)
    firth = gl.glm(case["formula_py"], df, firth=True)
    pd.testing.assert_frame_equal(firth.lr_tests(["ht"]), firth.lr_tests().loc[["ht"]])


@pytest.mark.parametrize(
    "name",
    ["birthwt_logit", "menarche_probit", "warpbreaks_poisson", "clotting_gamma", "mtcars_gaussian"],
)
def test_profile_conf_int_vs_r(name):
    case, df = _load("profile", name)
    res = gl.glm(
        case["formula_py"],
        df,
        family=case["family"],
        link=case["link"],
        weights=case.get("weights"),
    )
    ci = res.conf_int(method="profile")
    idx = np.asarray(case["profiled"]) - 1
    np.testing.assert_allclose(ci["lower"].to_numpy()[idx], case["profile_exact_lower"], rtol=RTOL)
    np.testing.assert_allclose(ci["upper"].to_numpy()[idx], case["profile_exact_upper"], rtol=RTOL)
    se = res.bse.to_numpy()[idx]
    assert np.all(np.abs(ci["lower"].to_numpy()[idx] - case["confint_r_lower"]) <= 3e-4 * se)
    assert np.all(np.abs(ci["upper"].to_numpy()[idx] - case["confint_r_upper"]) <= 3e-4 * se)


@pytest.mark.parametrize("name", ["endometrial", "birthwt", "separated_toy", "menarche_prop"])
def test_firth_vs_brglm2(name):
    case, df = _load("firth", name)
    res = gl.glm(case["formula_py"], df, firth=True, weights=case["weights"], offset=case["offset"])
    np.testing.assert_allclose(res.params, case["params"], rtol=RTOL)
    np.testing.assert_allclose(res.bse, case["bse"], rtol=RTOL)
    lr = res.lr_tests()
    np.testing.assert_allclose(lr["statistic"], case["lr_chisq"], rtol=1e-7)
    ci = res.conf_int(method="profile")
    np.testing.assert_allclose(ci["lower"], case["ci_lower"], rtol=1e-7)
    np.testing.assert_allclose(ci["upper"], case["ci_upper"], rtol=1e-7)
    assert res.firth is not None and np.all(np.isfinite(res.params))


def test_firth_only_for_binomial_logit():
    _, df = _load("drop1", "mtcars_gaussian")
    with pytest.raises(gl.GlmlogitError, match="firth"):
        gl.glm("mpg ~ wt", df, family="gaussian", firth=True)


def test_formula_without_intercept_and_its_anova():
    """'- 1' / '0 +' remove the intercept; R's sequential table then starts from the empty model,
    whose binomial-logit deviance is 2 n log 2 (every fitted probability 1/2)."""
    _, df = _load("drop1", "birthwt_logit")
    assert list(gl.glm("low ~ 0 + C(race)", df).params.index) == [
        "C(race)[black]",
        "C(race)[other]",
        "C(race)[white]",
    ]
    res = gl.glm("low ~ age - 1 + smoke", df)
    assert list(res.params.index) == ["age", "smoke"]
    tab = gl.anova(res)
    assert list(tab.index) == ["NULL", "age", "smoke"]
    assert tab.loc["NULL", "deviance"] == pytest.approx(2 * len(df) * np.log(2), rel=1e-12)
    assert tab.loc["smoke", "deviance"] == pytest.approx(res.deviance, rel=1e-12)
    assert res.df_null == len(df) and res.df_model == 2
