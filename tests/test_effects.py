"""Marginal effects: live against statsmodels' get_margeff where the definitions overlap, against
hand computations (complex-step Jacobians) where glmlogit goes further (factor levels, a variable
in several columns, offsets, weights), and the prediction grid."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import glmlogit as gl
from glmlogit.datasets import load_birthwt
from glmlogit.effects import margeff, prediction_grid

sm = pytest.importorskip("statsmodels.api")
from statsmodels.tools.numdiff import approx_fprime_cs  # noqa: E402

RTOL = 1e-6
NUMERIC = "low ~ age + lwt + smoke + ptl + ht + ui"
FULL = "low ~ age + lwt + C(race) + smoke + ptl + ht + ui"


def _expit(z):  # complex-safe, for complex-step Jacobians
    return 1.0 / (1.0 + np.exp(-z))


@pytest.fixture(scope="module")
def birthwt() -> pd.DataFrame:
    return load_birthwt()


def _sm_fit(res, family, **kw):
    X = pd.DataFrame(res.design.X, columns=res.design.column_names)
    return sm.GLM(res.design.y, X, family=family).fit(tol=1e-13, **kw)


def _close(mine, theirs, rows=None):
    rows = list(mine.index) if rows is None else rows
    a = mine.loc[rows].iloc[:, :2].to_numpy()
    b = theirs.loc[rows].iloc[:, :2].to_numpy()
    np.testing.assert_allclose(a, b, rtol=RTOL)


# --- statsmodels, live -------------------------------------------------------------------------
CASES = [
    (at, method, dummy, count)
    for at in ("overall", "mean")
    for method in ("dydx", "eyex", "dyex", "eydx")
    for dummy in (False, True)
    for count in (False, True)
    if not ((dummy or count) and method in ("eyex", "dyex"))  # statsmodels refuses these
]


@pytest.mark.parametrize(("at", "method", "dummy", "count"), CASES)
def test_logit_matches_statsmodels(birthwt, at, method, dummy, count):
    res = gl.glm(NUMERIC, birthwt)
    s = _sm_fit(res, sm.families.Binomial())
    theirs = s.get_margeff(at=at, method=method, dummy=dummy, count=count).summary_frame()
    mine = margeff(res, at=at, method=method, dummy=dummy, count=count).summary_frame()
    assert list(mine.index) == list(theirs.index)
    _close(mine, theirs)


def test_logit_discrete_model_and_columns(birthwt):
    res = gl.glm(NUMERIC, birthwt)
    X = pd.DataFrame(res.design.X, columns=res.design.column_names)
    theirs = sm.Logit(res.design.y, X).fit(disp=0, tol=1e-12).get_margeff(dummy=True)
    me = margeff(res)
    f = me.summary_frame(alpha=0.1)
    assert list(f.columns) == ["dy/dx", "std_err", "z", "pvalue", "ci_lower", "ci_upper"]
    sf = theirs.summary_frame(alpha=0.1)
    np.testing.assert_allclose(f.to_numpy(), sf.to_numpy(), rtol=RTOL)
    np.testing.assert_allclose(me.margeff_cov.to_numpy(), theirs.margeff_cov, rtol=RTOL)
    assert me.kind.to_dict() == {
        "age": "derivative",
        "lwt": "derivative",
        "smoke": "discrete",
        "ptl": "derivative",
        "ht": "discrete",
        "ui": "discrete",
    }


@pytest.mark.parametrize(
    ("family", "link", "smfam"),
    [
        ("binomial", "probit", lambda: sm.families.Binomial(sm.families.links.Probit())),
        ("binomial", "cloglog", lambda: sm.families.Binomial(sm.families.links.CLogLog())),
        ("poisson", "log", lambda: sm.families.Poisson()),
    ],
)
@pytest.mark.parametrize("method", ["dydx", "eydx"])
@pytest.mark.parametrize("at", ["overall", "mean"])
def test_other_links_match_statsmodels(birthwt, family, link, smfam, method, at):
    formula = NUMERIC if family == "binomial" else "ptl ~ age + lwt + smoke + ht"
    res = gl.glm(formula, birthwt, family=family, link=link)
    s = _sm_fit(res, smfam())
    theirs = s.get_margeff(at=at, method=method, dummy=True).summary_frame()
    _close(margeff(res, at=at, method=method).summary_frame(), theirs)


@pytest.mark.parametrize(
    ("cov_type", "kw", "sm_kw"), [("HC0", {}, {}), ("cluster", {"groups": "ftv"}, None)]
)
def test_robust_covariance_carries_through(birthwt, cov_type, kw, sm_kw):
    res = gl.glm(NUMERIC, birthwt).get_robustcov(cov_type, **kw)
    sm_kw = {"groups": birthwt["ftv"].to_numpy()} if sm_kw is None else sm_kw
    s = _sm_fit(res, sm.families.Binomial(), cov_type=cov_type, cov_kwds=sm_kw)
    mine = margeff(res).summary_frame()
    _close(mine, s.get_margeff(dummy=True).summary_frame())
    plain = margeff(gl.glm(NUMERIC, birthwt)).summary_frame()
    assert not np.allclose(mine["std_err"], plain["std_err"])
    assert "cluster covariance" in str(margeff(res)) or cov_type != "cluster"


def test_two_level_factor_is_statsmodels_dummy(birthwt):
    df = birthwt.assign(smoker=np.where(birthwt["smoke"] == 1, "yes", "no"))
    res = gl.glm("low ~ age + lwt + C(smoker) + ht", df)
    s = _sm_fit(res, sm.families.Binomial())
    mine = margeff(res).summary_frame()
    assert mine.index[2] == "C(smoker)[T.yes]"
    _close(mine, s.get_margeff(dummy=True).summary_frame())


# --- factor levels: Stata's margins semantics, checked by hand ---------------------------------
def _level_ames(res, X, cols, at="overall"):
    def f(b):
        X0 = X.copy()
        X0[:, cols] = 0
        if at == "mean":
            X0 = X0.mean(0, keepdims=True)
        out = []
        for j in cols:
            X1 = X0.copy()
            X1[:, j] = 1
            out.append(np.mean(_expit(X1 @ b) - _expit(X0 @ b)))
        return np.array(out)

    b = res.params.to_numpy()
    J = approx_fprime_cs(b, f)
    return f(b), np.sqrt(np.diag(J @ res.cov_params().to_numpy() @ J.T))


@pytest.mark.parametrize("at", ["overall", "mean"])
def test_factor_levels_are_changes_from_the_reference(birthwt, at):
    res = gl.glm(FULL, birthwt)
    me = margeff(res, at=at)
    rows = ["C(race)[T.other]", "C(race)[T.white]"]
    assert me.kind[rows].tolist() == ["level", "level"]
    assert me.variable[rows].tolist() == ["race", "race"]
    val, se = _level_ames(res, np.asarray(res.design.X), [3, 4], at)
    np.testing.assert_allclose(me.margeff[rows], val, rtol=1e-10)
    np.testing.assert_allclose(me.margeff_se[rows], se, rtol=1e-8)
    # the other rows are statsmodels' (design columns of their own)
    s = _sm_fit(res, sm.families.Binomial())
    theirs = s.get_margeff(at=at, dummy=True).summary_frame()
    others = [r for r in me.margeff.index if r not in rows]
    _close(me.summary_frame(), theirs, others)
    # statsmodels sets one indicator at a time, leaving the row's own level on: another number
    assert abs(theirs.loc["C(race)[T.other]"].iloc[0] - me.margeff["C(race)[T.other]"]) > 1e-3


def test_reference_level_from_contrasts(birthwt):
    res = gl.glm("low ~ lwt + C(race, contr.treatment('white'))", birthwt)
    me = margeff(res)
    f = "C(race, contr.treatment('white'))"
    assert list(me.margeff.index) == ["lwt", f"{f}[T.black]", f"{f}[T.other]"]
    # same fitted model as black-reference coding: the level differences agree
    res2 = gl.glm("low ~ lwt + C(race)", birthwt)
    me2 = margeff(res2)
    np.testing.assert_allclose(
        me.margeff[f"{f}[T.black]"], -me2.margeff["C(race)[T.white]"], rtol=1e-8
    )
    np.testing.assert_allclose(
        me.margeff_se[f"{f}[T.black]"], me2.margeff_se["C(race)[T.white]"], rtol=1e-6
    )


def test_pandas_categorical_and_interaction(birthwt):
    df = birthwt.assign(race=pd.Categorical(birthwt["race"], ["white", "black", "other"]))
    res = gl.glm("low ~ lwt * race", df)
    me = margeff(res)
    assert list(me.margeff.index) == ["lwt", "race[T.black]", "race[T.other]"]
    # by hand: predictions with every row set to a level
    p = {
        lev: res.predict(
            df.assign(race=pd.Categorical([lev] * len(df), df["race"].cat.categories))
        ).mean()
        for lev in ("white", "black", "other")
    }
    assert me.margeff["race[T.black]"] == pytest.approx(p["black"] - p["white"], rel=1e-10)
    assert me.margeff["race[T.other]"] == pytest.approx(p["other"] - p["white"], rel=1e-10)


# --- a variable in several design columns ------------------------------------------------------
def test_variable_through_several_columns(birthwt):
    res = gl.glm("low ~ age + I(age**2) + lwt + smoke + age:smoke", birthwt)
    me = margeff(res, dummy=False)
    assert list(me.margeff.index) == ["age", "lwt", "smoke"]
    b = res.params.to_numpy()
    age = birthwt["age"].to_numpy(float)
    smoke = birthwt["smoke"].to_numpy(float)
    X = np.asarray(res.design.X)
    # d eta / d age = b_age + 2 b_age2 age + b_int smoke, exactly
    deta = b[1] + 2 * b[2] * age + b[5] * smoke

    def ame(bb):
        eta = X @ bb
        p = _expit(eta)
        return np.array([np.mean(p * (1 - p) * (bb[1] + 2 * bb[2] * age + bb[5] * smoke))])

    J = approx_fprime_cs(b, ame)
    se = float(np.sqrt(J @ res.cov_params().to_numpy() @ J.T)[0, 0])
    p = res.fittedvalues.to_numpy()
    assert me.margeff["age"] == pytest.approx(np.mean(p * (1 - p) * deta), rel=1e-8)
    assert me.margeff_se["age"] == pytest.approx(se, rel=1e-6)
    # smoke as a dummy: all rows at smoke = 1 minus all at smoke = 0, the interaction included
    d = margeff(res, variables="smoke")
    p1 = res.predict(birthwt.assign(smoke=1)).mean()
    p0 = res.predict(birthwt.assign(smoke=0)).mean()
    assert d.margeff["smoke"] == pytest.approx(p1 - p0, rel=1e-10)
    assert d.kind["smoke"] == "discrete" and list(d.margeff.index) == ["smoke"]


def test_transformed_variable_elasticity(birthwt):
    # eta = a + b log(lwt): d(ln mu)/d(ln lwt) = b (1 - mu) for a logit
    res = gl.glm("low ~ np.log(lwt)", birthwt)
    me = margeff(res, method="eyex")
    mu = res.fittedvalues.to_numpy()
    want = np.mean(res.params.iloc[1] * (1 - mu))
    assert me.margeff["lwt"] == pytest.approx(want, rel=1e-8)


# --- weights and offsets -----------------------------------------------------------------------
def test_trials_weights_equal_expanded_binary_rows(birthwt):
    g = birthwt.groupby(["smoke", "ht"], as_index=False).agg(n=("low", "size"), k=("low", "sum"))
    g["prop"] = g["k"] / g["n"]
    grouped = margeff(gl.glm("prop ~ smoke + ht", g, weights="n"))
    binary = margeff(gl.glm("low ~ smoke + ht", birthwt))
    pd.testing.assert_series_equal(grouped.margeff, binary.margeff, rtol=1e-9)
    pd.testing.assert_series_equal(grouped.margeff_se, binary.margeff_se, rtol=1e-7)


def test_poisson_offset_by_hand(birthwt):
    df = birthwt.assign(logt=np.log(birthwt["age"]))
    res = gl.glm("ptl ~ lwt + smoke", df, family="poisson", offset="logt")
    me = margeff(res, dummy=False, method="eydx")
    # d ln mu / d lwt = b_lwt exactly, and its SE is se(b_lwt)
    assert me.margeff["lwt"] == pytest.approx(res.params["lwt"], rel=1e-12)
    assert me.margeff_se["lwt"] == pytest.approx(res.bse["lwt"], rel=1e-10)
    dydx = margeff(res, dummy=False)
    assert dydx.margeff["lwt"] == pytest.approx(
        res.params["lwt"] * res.fittedvalues.mean(), rel=1e-12
    )


def test_array_design_and_aliased(birthwt):
    X = pd.DataFrame({"const": 1.0, "age": birthwt["age"], "smoke": birthwt["smoke"]})
    X["age2"] = 2 * X["age"]
    res = gl.GLM(birthwt["low"], X).fit()
    assert res.aliased["age2"]
    me = margeff(res)
    assert list(me.margeff.index) == ["age", "smoke", "age2"]
    assert np.isnan(me.margeff["age2"]) and np.isnan(me.margeff_se["age2"])
    ok = gl.glm("low ~ age + smoke", birthwt)
    ref = margeff(ok)
    assert me.margeff["age"] == pytest.approx(ref.margeff["age"], rel=1e-8)
    assert me.margeff_se["smoke"] == pytest.approx(ref.margeff_se["smoke"], rel=1e-6)
    assert np.isfinite(me.margeff_se[["age", "smoke"]]).all()


def test_bad_arguments_and_str(birthwt):
    res = gl.glm(FULL, birthwt)
    with pytest.raises(gl.GlmlogitError, match="at must be"):
        margeff(res, at="median")
    with pytest.raises(gl.GlmlogitError, match="method must be"):
        margeff(res, method="dxdy")
    with pytest.raises(gl.GlmlogitError, match="not predictors"):
        margeff(res, variables=["nosuch"])
    with pytest.raises(gl.GlmlogitError, match="alpha"):
        margeff(res).conf_int(2.0)
    text = str(margeff(res))
    assert text.startswith("Average marginal effects (dy/dx)") and "nonrobust" in text
    assert "C(race)[T.white]" in text and "change from the reference level" in text
    assert str(margeff(res, at="mean")).startswith("Marginal effects at means")


# --- prediction grid ---------------------------------------------------------------------------
def test_prediction_grid(birthwt):
    res = gl.glm(FULL, birthwt)
    grid = prediction_grid(res, age=[20, 30], smoke=[0, 1])
    assert list(grid.columns) == ["age", "lwt", "race", "smoke", "ptl", "ht", "ui"]
    assert len(grid) == 4
    assert grid[["age", "smoke"]].values.tolist() == [[20, 0], [20, 1], [30, 0], [30, 1]]
    assert (grid["race"] == "black").all()  # reference level
    assert grid["lwt"].iloc[0] == pytest.approx(birthwt["lwt"].mean(), rel=1e-12)
    sf = res.get_prediction(grid).summary_frame()
    assert len(sf) == 4 and (sf["mean_ci_lower"] < sf["mean"]).all()
    assert sf["mean"].iloc[1] > sf["mean"].iloc[0]  # smoking raises the risk
    one = prediction_grid(res, {"race": "white"})
    assert len(one) == 1 and one["race"].iloc[0] == "white"
    with pytest.raises(gl.DataError, match="not seen"):
        prediction_grid(res, race=["martian"])
    with pytest.raises(gl.DataError, match="not variables"):
        prediction_grid(res, nosuch=[1])


def test_prediction_grid_categorical_offset_and_arrays(birthwt):
    df = birthwt.assign(
        race=pd.Categorical(birthwt["race"], ["white", "black", "other"]),
        logt=np.log(birthwt["age"]),
    )
    res = gl.glm("ptl ~ race + lwt", df, family="poisson", offset="logt")
    grid = prediction_grid(res, race=["white", "other"])
    assert isinstance(grid["race"].dtype, pd.CategoricalDtype)
    assert list(grid.columns) == ["lwt", "race", "logt"]
    assert grid["logt"].iloc[0] == pytest.approx(df["logt"].mean())
    assert np.all(np.isfinite(res.predict(grid)))
    X = pd.DataFrame({"const": 1.0, "age": birthwt["age"]})
    r2 = gl.GLM(birthwt["low"], X).fit()
    g2 = prediction_grid(r2, age=[20, 40])
    assert g2.values.tolist() == [[1.0, 20.0], [1.0, 40.0]]
    assert len(r2.get_prediction(g2).summary_frame()) == 2


def test_to_markdown(birthwt):
    me = margeff(gl.glm(FULL, birthwt), method="eydx")
    md = me.to_markdown(alpha=0.1).splitlines()
    assert md[0].startswith("| Variable") and "d(lny)/dx" in md[0] and "90% CI lower" in md[0]
    assert len(md) == 2 + len(me.margeff)
    assert md[5].startswith("| `C(race)[T.white]`") and md[5].rstrip(" |").endswith("level")
