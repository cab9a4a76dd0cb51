"""Summary rendering: golden files for one fixed model, and the content of every export.

The golden files under tests/golden/ are rewritten only when GLMLOGIT_UPDATE_GOLDEN=1 is set:
    GLMLOGIT_UPDATE_GOLDEN=1 python -m pytest tests/test_summary.py
then review the diff before committing it.
"""

from __future__ import annotations

import difflib
import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import glmlogit as gl
from glmlogit.datasets import load_birthwt
from glmlogit.summary import Summary, format_number, format_pvalue, significance_stars

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("GLMLOGIT_UPDATE_GOLDEN") == "1"
FORMULA = "low ~ age + lwt + C(race) + smoke + ptl + ht + ui"


@pytest.fixture(scope="module")
def birthwt() -> pd.DataFrame:
    return load_birthwt()


@pytest.fixture(scope="module")
def res(birthwt):
    return gl.glm(FORMULA, birthwt, family="binomial", link="logit")


@pytest.fixture(scope="module")
def summ(res) -> Summary:
    return res.summary()


@pytest.fixture(scope="module")
def res_aliased(birthwt):
    return gl.glm("low ~ age + I(2*age)", birthwt)


# --- golden files ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "render"),
    [
        ("birthwt_logit.txt", str),
        ("birthwt_logit.md", Summary.to_markdown),
        ("birthwt_logit.tex", Summary.to_latex),
    ],
)
def test_golden(summ, name, render):
    path = GOLDEN / name
    got = render(summ)
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(got, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with GLMLOGIT_UPDATE_GOLDEN=1 to create it"
    want = path.read_text(encoding="utf-8")
    if got != want:
        diff = "".join(
            difflib.unified_diff(
                want.splitlines(True), got.splitlines(True), "golden/" + name, "rendered"
            )
        )
        pytest.fail(
            f"{name} differs from the golden file "
            f"(GLMLOGIT_UPDATE_GOLDEN=1 regenerates it):\n{diff}"
        )


# --- text content ------------------------------------------------------------------------------
def test_text_has_r_style_parts(summ, res):
    text = str(summ)
    assert repr(summ) == text
    for part in [
        "binomial family, logit link",
        f"Formula:           {FORMULA}",
        "Observations:      189",
        "converged",
        "z value",
        "Pr(>|z|)",
        "2.5 %",
        "97.5 %",
        "Signif. codes:",
        "1 (fixed for the binomial family)",
        "234.67 on 188 degrees of freedom",
        "201.43 on 180 degrees of freedom",
        "AIC:               219.43",
        "(McFadden)",
    ]:
        assert part in text, part
    for term in res.params.index:
        assert term in text
    ht = next(line for line in text.splitlines() if line.startswith("ht "))
    assert ht.split()[-1] == "**" and "0.00803" in ht
    assert "Notes:" not in text


def test_to_frame(summ, res):
    f = summ.to_frame()
    assert list(f.columns) == ["coef", "std_err", "z", "pvalue", "ci_lower", "ci_upper"]
    assert list(f.index) == list(res.params.index) and f.index.name == "term"
    np.testing.assert_array_equal(f["coef"].to_numpy(), res.params.to_numpy())
    np.testing.assert_array_equal(f["pvalue"].to_numpy(), res.pvalues.to_numpy())
    ci = res.conf_int(0.05)
    np.testing.assert_array_equal(f["ci_lower"].to_numpy(), ci.iloc[:, 0].to_numpy())
    f.iloc[0, 0] = 99.0  # a copy: the summary is unchanged
    assert summ.to_frame().iloc[0, 0] == res.params.iloc[0]


def test_alpha_changes_interval_level(res):
    s = res.summary(alpha=0.1)
    assert "5 %" in str(s) and "95 %" in str(s) and "Wald 90%" in str(s)
    ci = res.conf_int(0.1)
    np.testing.assert_array_equal(s.to_frame()["ci_upper"].to_numpy(), ci.iloc[:, 1].to_numpy())
    with pytest.raises(gl.GlmlogitError, match="alpha"):
        res.summary(alpha=1.5)


# --- dict / JSON -------------------------------------------------------------------------------
def test_to_dict_is_json_and_round_trips_params(summ, res):
    d = json.loads(json.dumps(summ.to_dict(), allow_nan=False))
    assert [c["term"] for c in d["coefficients"]] == list(res.params.index)
    for c, b in zip(d["coefficients"], res.params.to_numpy(), strict=True):
        assert c["coef"] == float(b)  # exactly: repr of a float round-trips
        assert c["aliased"] is False
    assert d["model"]["family"] == "binomial" and d["model"]["link"] == "logit"
    assert d["model"]["nobs"] == 189 and d["model"]["converged"] is True
    assert d["statistic"] == "z"
    st = d["statistics"]
    assert st["deviance"] == res.deviance and st["aic"] == res.aic and st["df_resid"] == 180
    assert st["dispersion"] == 1.0 and st["dispersion_fixed"] is True
    types = {type(v) for c in d["coefficients"] for v in c.values()}
    assert types <= {str, float, bool, type(None)}


def test_to_dict_aliased_is_none(res_aliased):
    d = res_aliased.summary().to_dict()
    json.dumps(d, allow_nan=False)
    row = d["coefficients"][2]
    assert row["term"] == "I(2 * age)" and row["aliased"] is True
    assert row["coef"] is None and row["std_err"] is None and row["pvalue"] is None


# --- aliased coefficients ----------------------------------------------------------------------
def test_aliased_shown_and_named(res_aliased):
    assert res_aliased.aliased.tolist() == [False, False, True]
    s = res_aliased.summary()
    text = str(s)
    line = next(ln for ln in text.splitlines() if ln.startswith("I(2 * age)"))
    assert line.split()[-1] == "aliased"
    assert "Notes:" in text and "not defined because of singularities" in text
    assert text.rstrip().endswith("I(2 * age)")
    assert s.aliased == ["I(2 * age)"]
    assert s.to_frame().loc["I(2 * age)"].isna().all()
    for out in (s.to_markdown(), s.to_latex(), s.to_html()):
        assert "aliased" in out


# --- other families, notes ---------------------------------------------------------------------
def test_gaussian_says_t_value(birthwt):
    r = gl.glm("bwt ~ age + smoke", birthwt, family="gaussian")
    s = r.summary()
    text = str(s)
    assert "t value" in text and "Pr(>|t|)" in text and "z value" not in text
    assert "estimated: Pearson chi-squared / df_resid" in text
    assert list(s.to_frame().columns)[2] == "t"
    assert s.to_dict()["statistic"] == "t"
    assert s.to_dict()["statistics"]["dispersion"] == pytest.approx(r.scale, rel=1e-15)
    assert "$t$ value" in s.to_latex()


def test_rows_dropped_and_weights_reported(birthwt):
    df = birthwt.copy()
    df.loc[[0, 5, 7], "age"] = np.nan
    df["w"] = np.arange(len(df)) % 3 + 1
    s = gl.glm("low ~ age + smoke", df, weights="w").summary()
    text = str(s)
    assert "186 (3 rows dropped for missing values)" in text
    assert "Prior weights:" in text and " w\n" in text
    assert s.to_dict()["model"]["n_dropped"] == 3


def test_nonconvergence_note(birthwt):
    with pytest.warns(gl.ConvergenceWarning):
        r = gl.glm("low ~ age + smoke", birthwt, max_iter=1)
    text = str(r.summary())
    assert "did NOT converge" in text
    assert r._fit.message.split(":")[0] in text


def test_separation_note(res, monkeypatch):
    class Sep:
        status = "quasi-complete"

        def __str__(self):
            return "quasi-complete separation\ndirections: x1 +inf"

    monkeypatch.setattr(type(res), "separation", property(lambda self: Sep()), raising=False)
    s = res.summary()
    assert "Separation: quasi-complete separation" in str(s)
    assert "  directions: x1 +inf" in str(s)
    assert s.to_dict()["separation"] == "quasi-complete"

    class NoSep(Sep):
        status = "none"

    monkeypatch.setattr(type(res), "separation", property(lambda self: NoSep()), raising=False)
    assert "Separation" not in str(res.summary())


# --- escaping in HTML, LaTeX, Markdown ---------------------------------------------------------
@pytest.fixture(scope="module")
def odd_names(birthwt):
    X = pd.DataFrame(
        {"const": 1.0, "a%b": birthwt["age"], "c&d_<e>": birthwt["lwt"], "#x|y": birthwt["smoke"]}
    )
    return gl.GLM(birthwt["low"], X).fit().summary()


def test_html_escapes_terms(summ, odd_names):
    h = odd_names.to_html()
    assert "c&amp;d_&lt;e&gt;" in h and "<e>" not in h
    assert summ._repr_html_() == summ.to_html()
    h2 = summ.to_html()
    assert h2.startswith('<div class="glmlogit-summary">') and h2.count("<table") == 3
    assert "C(race)[T.white]" in h2 and "Pr(&gt;|z|)" in h2


def test_latex_escapes_terms(odd_names):
    t = odd_names.to_latex()
    assert r"a\%b" in t and r"c\&d\_\textless{}e\textgreater{}" in t and r"\#x\textbar{}y" in t
    assert t.startswith(r"\begin{tabular}") and r"\toprule" in t and r"\bottomrule" in t
    body = [ln for ln in t.splitlines() if ln.endswith(r"\\") and "multicolumn" not in ln]
    assert all(ln.count("&") - ln.count(r"\&") == 7 for ln in body)


def test_markdown_table_shape(summ, odd_names):
    md = odd_names.to_markdown()
    assert r"`#x\|y`" in md
    rows = [ln for ln in summ.to_markdown().splitlines() if ln.startswith("| `")]
    assert len(rows) == 9
    header = next(ln for ln in summ.to_markdown().splitlines() if ln.startswith("| Term"))
    n = header.count(" | ")
    assert all(r.replace(r"\|", "").count(" | ") == n for r in rows)


# --- number formats ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("p", "want"),
    [
        (0.0, "< 2e-16"),
        (1e-20, "< 2e-16"),
        (3.2e-7, "3.20e-07"),
        (0.000465, "0.000465"),
        (0.0080318, "0.00803"),
        (0.170794, "0.171"),
        (1.0, "1.00"),
        (float("nan"), ""),
    ],
)
def test_format_pvalue(p, want):
    assert format_pvalue(p) == want


def test_stars_and_numbers():
    assert [significance_stars(p) for p in (1e-5, 0.005, 0.03, 0.07, 0.5, math.nan)] == [
        "***",
        "**",
        "*",
        ".",
        "",
        "",
    ]
    assert format_number(234.67199) == "234.67"
    assert format_number(-100.7134756) == "-100.71"
    assert format_number(0.0) == "0" and format_number(math.nan) == "NA"
    assert format_number(1.5e-9) == "1.5000e-09" and format_number(99969656.2) == "99969656"


# --- options: odds ratios, covariance in words -------------------------------------------------
def test_odds_ratios_option(res):
    s = Summary(res, alpha=0.1, odds_ratios=True)
    f = s.to_frame()
    assert list(f.columns) == ["ratio", "std_err", "z", "pvalue", "ci_lower", "ci_upper"]
    ors = res.odds_ratios(0.1)
    np.testing.assert_allclose(f["ratio"], ors["ratio"], rtol=1e-15)
    np.testing.assert_allclose(f["ci_lower"], ors["lower"], rtol=1e-15)
    np.testing.assert_allclose(f["ci_upper"], ors["upper"], rtol=1e-15)
    np.testing.assert_allclose(f["std_err"], np.exp(res.params) * res.bse, rtol=1e-15)
    np.testing.assert_array_equal(f["pvalue"], res.pvalues)  # tests of b = 0, unchanged
    text = str(s)
    assert "Odds ratios, exp(coefficient) (Wald 90% confidence intervals):" in text
    smoke = next(ln for ln in text.splitlines() if ln.startswith("smoke "))
    assert smoke.split()[1] == "2.5177"  # exp(0.92335), MASS/Hosmer-Lemeshow
    assert "delta method" in text and "Odds ratio  Std. Error" in text
    assert "Odds ratio & Std. Error" in s.to_latex()
    assert "| Odds ratio |" in s.to_markdown().replace("  ", " ")
    assert "<th" in s.to_html() and "Odds ratio" in s.to_html()
    d = json.loads(json.dumps(s.to_dict(), allow_nan=False))
    assert d["odds_ratios"] is True and d["estimate"] == "Odds ratio"
    assert d["coefficients"][5]["ratio"] == pytest.approx(2.517708, rel=1e-6)


def test_ratio_names_and_refusal(birthwt):
    pois = gl.glm("ptl ~ age + smoke", birthwt, family="poisson")
    assert "Rate ratio" in str(Summary(pois, odds_ratios=True))
    rr = gl.glm("low ~ smoke", birthwt, family="binomial", link="log")
    assert "Risk ratios, exp(coefficient)" in str(Summary(rr, odds_ratios=True))
    gam = gl.glm("bwt ~ smoke", birthwt, family="gamma", link="log")
    assert "Mean ratio" in str(Summary(gam, odds_ratios=True))
    prob = gl.glm("low ~ smoke", birthwt, link="probit")
    with pytest.raises(gl.GlmlogitError, match="logit and log links"):
        Summary(prob, odds_ratios=True)
    assert "Odds ratio" not in str(Summary(prob))


def test_summary_names_the_covariance(res, birthwt):
    hc = res.get_robustcov("HC3")
    text = str(Summary(hc))
    assert "Covariance:        HC3 (heteroskedasticity-consistent sandwich" in text
    np.testing.assert_array_equal(Summary(hc).to_frame()["std_err"], hc.bse)
    cl = res.get_robustcov("cluster", groups="ftv", cluster_correction="r")
    s = Summary(cl)
    n_g = birthwt["ftv"].nunique()
    assert f"cluster-robust, {n_g} clusters (small-sample factor G/(G-1), as R's" in str(s)
    d = s.to_dict()
    assert d["model"]["cov_type"] == "cluster" and d["model"]["n_groups"] == n_g
    assert "clusters" in s.to_latex() and "clusters" in s.to_html()
    np.testing.assert_array_equal(s.to_frame()["std_err"], cl.bse)
    st = res.get_robustcov("cluster", groups=birthwt["ftv"].to_numpy())
    assert "as Stata and statsmodels" in str(Summary(st))
    assert Summary(res).to_dict()["model"]["n_groups"] is None
