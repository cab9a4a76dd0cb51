"""compare(): several models side by side (modelsummary / summary_col), golden files and content.

Golden files are rewritten only with GLMLOGIT_UPDATE_GOLDEN=1 (see tests/test_summary.py)."""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import glmlogit as gl
from glmlogit.compare import Comparison, compare
from glmlogit.datasets import load_birthwt

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("GLMLOGIT_UPDATE_GOLDEN") == "1"
SMALL = "low ~ age + lwt + smoke"
FULL = "low ~ age + lwt + C(race) + smoke + ptl + ht + ui"


@pytest.fixture(scope="module")
def birthwt() -> pd.DataFrame:
    return load_birthwt()


@pytest.fixture(scope="module")
def models(birthwt):
    return gl.glm(SMALL, birthwt), gl.glm(FULL, birthwt)


@pytest.fixture(scope="module")
def comp(models) -> Comparison:
    return compare(list(models), names=["Smoking", "Full"])


@pytest.mark.parametrize(
    ("name", "render"),
    [
        ("compare_birthwt.txt", str),
        ("compare_birthwt.md", Comparison.to_markdown),
        ("compare_birthwt.tex", Comparison.to_latex),
    ],
)
def test_golden(comp, name, render):
    path = GOLDEN / name
    got = render(comp)
    if UPDATE:
        path.write_text(got, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with GLMLOGIT_UPDATE_GOLDEN=1 to create it"
    want = path.read_text(encoding="utf-8")
    if got != want:
        diff = "".join(difflib.unified_diff(want.splitlines(True), got.splitlines(True)))
        pytest.fail(f"{name} differs from the golden file:\n{diff}")


def test_numbers_are_the_models(comp, models):
    small, full = models
    assert comp.terms == [
        "Intercept",
        "age",
        "lwt",
        "smoke",
        "C(race)[T.other]",
        "C(race)[T.white]",
        "ptl",
        "ht",
        "ui",
    ]
    np.testing.assert_array_equal(comp.params.loc[full.params.index, "Full"], full.params)
    np.testing.assert_array_equal(comp.bse.loc[small.params.index, "Smoking"], small.bse)
    assert comp.params.loc["ptl", "Smoking"] != comp.params.loc["ptl", "Smoking"]  # NaN
    assert comp.statistics.loc["aic", "Full"] == full.aic
    f = comp.to_frame()
    assert f.index.names == ["term", "statistic"]
    assert f.loc[("smoke", "estimate"), "Full"] == "0.923*"
    assert f.loc[("smoke", "std_err"), "Full"] == "(0.401)"
    assert f.loc[("ht", "estimate"), "Full"] == "1.834**"
    assert f.loc[("ui", "estimate"), "Full"] == "0.759+"  # modelsummary's + for p < 0.1
    assert f.loc[("ptl", "estimate"), "Smoking"] == ""
    assert f.loc[("Num. obs.", ""), "Full"] == "189"
    assert f.loc[("Deviance", ""), "Full"] == "201.43"
    assert f.loc[("Covariance", ""), "Smoking"] == "nonrobust"


def test_to_dict_json(comp, models):
    d = json.loads(json.dumps(comp.to_dict(), allow_nan=False))
    assert [m["name"] for m in d["models"]] == ["Smoking", "Full"]
    full = d["models"][1]
    assert full["formula"] == FULL and full["statistics"]["nobs"] == 189
    assert [c["term"] for c in full["coefficients"]] == list(models[1].params.index)
    assert full["coefficients"][5]["estimate"] == models[1].params["smoke"]
    assert full["statistics"]["deviance"] == models[1].deviance


def test_ci_no_stars_and_default_names(models):
    c = compare(list(models), stat="ci", stars=False, alpha=0.1)
    f = c.to_frame()
    assert list(f.columns) == ["(1)", "(2)"]
    ci = models[1].conf_int(0.1).loc["smoke"]
    assert f.loc[("smoke", "ci"), "(2)"] == f"[{ci.iloc[0]:.3f}, {ci.iloc[1]:.3f}]"
    assert f.loc[("smoke", "estimate"), "(2)"] == "0.923"
    text = str(c)
    assert "Wald 90% confidence intervals in brackets." in text and "Signif." not in text


def test_odds_ratios_and_robust(birthwt, models):
    hc = gl.glm(FULL, birthwt, cov_type="HC1")
    cl = models[1].get_robustcov("cluster", groups="ftv")
    c = compare({"HC1": hc, "cluster": cl}, odds_ratios=True, digits=4)
    ors = hc.odds_ratios()
    np.testing.assert_allclose(c.params["HC1"], ors["ratio"], rtol=1e-15)
    np.testing.assert_allclose(c.ci_lower["cluster"], cl.odds_ratios()["lower"], rtol=1e-15)
    np.testing.assert_allclose(c.bse["HC1"], ors["ratio"] * hc.bse, rtol=1e-15)
    f = c.to_frame()
    assert f.loc[("smoke", "estimate"), "HC1"].startswith("2.5177")
    assert f.loc[("Covariance", ""), "cluster"] == f"cluster ({birthwt['ftv'].nunique()})"
    assert "(odds ratios)" in str(c) and "delta method" in str(c)
    with pytest.raises(gl.GlmlogitError, match="logit and log links"):
        compare([gl.glm(SMALL, birthwt, link="probit")], odds_ratios=True)


def test_families_row_and_aliased(birthwt):
    a = gl.glm("low ~ age + I(2*age)", birthwt)
    b = gl.glm("low ~ age", birthwt, link="probit")
    c = compare([a, b])
    f = c.to_frame()
    assert f.loc[("I(2 * age)", "estimate"), "(1)"] == "aliased"
    assert f.loc[("Family (link)", ""), "(2)"] == "binomial (probit)"
    json.dumps(c.to_dict(), allow_nan=False)


def test_exports_escape_and_shape(birthwt, comp):
    X = pd.DataFrame({"const": 1.0, "a&b<c>": birthwt["age"], "x_1%": birthwt["lwt"]})
    c = compare([gl.GLM(birthwt["low"], X).fit()])
    h = c.to_html()
    assert "a&amp;b&lt;c&gt;" in h and "<c>" not in h and h.count("<tr>") == 2 * 3 + 8
    t = c.to_latex()
    assert r"a\&b\textless{}c\textgreater{}" in t and r"x\_1\%" in t
    body = [ln for ln in comp.to_latex().splitlines() if ln.endswith(r"\\") and "multi" not in ln]
    assert all(ln.count("&") == 2 for ln in body)
    assert "$^{**}$" in comp.to_latex() and "$-$0.027" in comp.to_latex()
    md = comp.to_markdown().splitlines()
    assert md[1].startswith("| :--") and md[1].count(":") == 1 + 2 * 2
    assert comp._repr_html_() == comp.to_html() and repr(comp) == str(comp)


def test_bad_arguments(models):
    with pytest.raises(gl.GlmlogitError, match="at least one"):
        compare([])
    with pytest.raises(gl.GlmlogitError, match="2 names"):
        compare([models[0]], names=["a", "b"])
    with pytest.raises(gl.GlmlogitError, match="unique"):
        compare(list(models), names=["a", "a"])
    with pytest.raises(gl.GlmlogitError, match="stat"):
        compare(list(models), stat="t")
    with pytest.raises(gl.GlmlogitError, match="either"):
        compare({"a": models[0]}, names=["b"])
    with pytest.raises(gl.GlmlogitError, match="single-equation"):
        compare([object()])
