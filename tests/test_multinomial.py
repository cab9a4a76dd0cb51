"""Multinomial logit: against nnet::multinom (R fixtures), statsmodels' MNLogit (live), the binomial
logit (K = 2), scikit-learn (penalised K = 2), and truth tests (score equations, invariances)."""

from __future__ import annotations

import importlib
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import glmlogit as gl
from glmlogit.errors import (
    ConvergenceWarning,
    DataError,
    DataWarning,
    FormulaError,
    GlmlogitError,
    PerfectSeparationWarning,
)
from glmlogit.multinomial import Multinomial, MultinomialResults, multinomial

mn = importlib.import_module("glmlogit.multinomial_fit")  # the engine module (passes, chunking)

REF = Path(__file__).parent / "reference"
EXACT_CASES = ["iris_sepal_length", "housing_weighted", "sim4"]

# Named tolerances
RTOL_EXACT_COEF = 1e-8  # vs the Newton-polished R solution (the exact MLE)
RTOL_EXACT_SE = 1e-7
RTOL_NNET = 1e-5  # vs nnet's own (BFGS, refitted from its solution) coefficients and SEs
RTOL_DEV = 1e-7
RTOL_SM = 1e-7  # statsmodels MNLogit, live
RTOL_BINOMIAL = 1e-10  # K = 2 vs gl.glm(family="binomial")
RTOL_SKLEARN = 1e-5

HOUSING_LEVELS = {
    "Sat": ["Low", "Medium", "High"],
    "Infl": ["Low", "Medium", "High"],
    "Type": ["Tower", "Apartment", "Atrium", "Terrace"],
    "Cont": ["Low", "High"],
}


def load_ref(case: str) -> dict:
    return json.loads((REF / "multinomial" / f"{case}.json").read_text())


def load_data(name: str) -> pd.DataFrame:
    df = pd.read_csv(REF / "data" / name)
    if name == "housing.csv":  # R's factor level order (Low < Medium < High), not alphabetical
        for col, levels in HOUSING_LEVELS.items():
            df[col] = pd.Categorical(df[col], categories=levels)
    return df


_FITS: dict[str, tuple[dict, MultinomialResults]] = {}


def fitted(case: str) -> tuple[dict, MultinomialResults]:
    if case not in _FITS:
        ref = load_ref(case)
        df = load_data(ref["dataset"])
        _FITS[case] = (ref, multinomial(ref["formula_py"], df, weights=ref["weights"] or None))
    return _FITS[case]


def assert_close(actual, desired, rtol, atol=0.0, what=""):
    np.testing.assert_allclose(
        np.asarray(actual, float), np.asarray(desired, float), rtol=rtol, atol=atol, err_msg=what
    )


# ------------------------------------------------------------------------------------------------
# R: nnet::multinom
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", EXACT_CASES)
def test_r_coefficients_and_se(case):
    ref, res = fitted(case)
    assert res.converged
    assert list(res.params.columns) == ref["levels"][1:]
    assert res.baseline == ref["baseline"]
    assert_close(res.params, ref["params"], RTOL_EXACT_COEF, what="params vs exact")
    assert_close(res.bse, ref["bse"], RTOL_EXACT_SE, what="bse vs exact")
    assert_close(res.params, ref["nnet_coefficients"], RTOL_NNET, what="params vs nnet")
    assert_close(res.bse, ref["nnet_bse"], RTOL_NNET, what="bse vs nnet")
    assert_close(res.cov_params(), ref["cov_params"], RTOL_EXACT_SE, atol=1e-12)
    # Same stacking as R's (level-major): the levels of the labels agree position by position.
    assert [lev for lev, _ in res.cov_params().index] == [s.split(":")[0] for s in ref["cov_names"]]


@pytest.mark.parametrize("case", EXACT_CASES)
def test_r_model_statistics(case):
    ref, res = fitted(case)
    assert_close(res.deviance, ref["nnet_deviance"], RTOL_DEV)
    assert_close(res.deviance, ref["deviance"], 1e-12)
    assert_close(res.llf, ref["llf"], 1e-12)
    assert_close(res.llnull, ref["llnull"], 1e-10)
    assert_close(res.null_deviance, ref["null_deviance"], 1e-10)
    assert_close(res.aic, ref["nnet_aic"], RTOL_DEV)
    assert_close(res.bic, ref["bic_r"], 1e-10)
    assert res.nobs == ref["nobs_r"] and res.k_params == ref["edf"]
    assert res.df_resid == ref["df_resid"]
    assert_close(res.pseudo_rsquared(), 1 - ref["llf"] / ref["llnull"], 1e-10)


@pytest.mark.parametrize("case", EXACT_CASES)
def test_r_predictions(case):
    ref, res = fitted(case)
    rows = np.asarray(ref["fitted_rows"]) - 1
    assert_close(res.fittedvalues.iloc[rows], ref["fitted"], 1e-8)
    assert_close(res.fittedvalues.iloc[rows], ref["nnet_fitted"], RTOL_NNET)
    new = pd.DataFrame(ref["newdata"])
    pred = res.predict(new)
    assert list(pred.columns) == ref["levels"]
    assert_close(pred, ref["predict"], 1e-8)
    assert_close(pred, ref["nnet_predict"], RTOL_NNET)
    assert_close(res.fittedvalues.sum(axis=1), 1.0, 1e-14)


def test_r_separated_iris():
    ref = load_ref("iris_separated")
    df = load_data(ref["dataset"])
    with pytest.warns(PerfectSeparationWarning, match="separation"):
        res = multinomial(ref["formula_py"], df)
    assert not res.converged
    assert res.separation.separated and res.separation.status == "quasi-complete"
    # The likelihood increases without bound: our iterates go further than nnet's stopping point.
    assert res.deviance <= ref["nnet_deviance"] + 1e-6
    assert "Separation" in str(res.summary())
    # A ridge penalty gives a finite, converged answer.
    pen = multinomial(ref["formula_py"], df, alpha=1e-3)
    assert pen.converged and np.isfinite(pen.params.to_numpy()).all()


def test_no_separation_reported_on_a_finite_mle():
    _, res = fitted("iris_sepal_length")
    assert res.separation.status == "none"
    assert (res.separation.directions == "finite").all().all()


# ------------------------------------------------------------------------------------------------
# statsmodels MNLogit, live
# ------------------------------------------------------------------------------------------------
def _mnlogit(y_codes, X):
    sm = pytest.importorskip("statsmodels.api")
    model = sm.MNLogit(np.asarray(y_codes), np.asarray(X, float))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(method="newton", maxiter=100, tol=1e-14, disp=False)


@pytest.mark.parametrize("case", ["iris_sepal_length", "sim4"])
def test_statsmodels_mnlogit(case):
    ref, res = fitted(case)
    d = res.design
    sm_res = _mnlogit(res.model.codes, d.X)
    assert_close(res.params, sm_res.params, RTOL_SM)
    assert_close(res.bse, sm_res.bse, RTOL_SM)
    assert_close(res.llf, sm_res.llf, RTOL_SM)
    assert_close(res.llnull, sm_res.llnull, RTOL_SM)
    assert_close(res.aic, sm_res.aic, RTOL_SM)
    assert_close(res.bic, sm_res.bic, RTOL_SM)
    assert res.df_model == sm_res.df_model and res.df_resid == sm_res.df_resid
    assert_close(res.cov_params(), sm_res.cov_params(), 1e-6, atol=1e-12)
    assert_close(res.conf_int(), np.reshape(sm_res.conf_int(), (-1, 2)), 1e-6)


def test_weights_are_case_weights_statsmodels_on_expanded_rows():
    ref, res = fitted("housing_weighted")
    reps = res.design.weights.astype(int)
    X = np.repeat(res.design.X, reps, axis=0)
    y = np.repeat(res.model.codes, reps)
    sm_res = _mnlogit(y, X)
    assert_close(res.params, sm_res.params, RTOL_SM)
    assert_close(res.bse, sm_res.bse, RTOL_SM)
    assert_close(res.llf, sm_res.llf, RTOL_SM)
    assert_close(res.bic, sm_res.bic, RTOL_SM)
    assert res.nobs == sm_res.nobs == 1681


# ------------------------------------------------------------------------------------------------
# K = 2 is the binomial logit
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("weights", [None, "w"])
def test_two_levels_reproduce_binomial_logit(weights):
    df = load_data("birthwt.csv")
    f = "low ~ age + lwt + C(race) + smoke + ptl + ht"
    g = gl.glm(f, df, family="binomial", weights=weights)
    m = multinomial(f, df, weights=weights)
    assert list(m.params.columns) == [1] and m.baseline == 0
    assert_close(m.params.iloc[:, 0], g.params, RTOL_BINOMIAL)
    assert_close(m.bse.iloc[:, 0], g.bse, RTOL_BINOMIAL)
    assert_close(m.pvalues.iloc[:, 0], g.pvalues, 1e-8)
    assert_close(m.cov_params(), g.cov_params(), RTOL_BINOMIAL)
    assert_close(m.conf_int(), g.conf_int(), RTOL_BINOMIAL)
    assert_close(m.llf, g.llf, 1e-12)
    assert_close(m.llnull, g.llnull, 1e-12)
    assert_close(m.deviance, g.deviance, 1e-12)
    assert_close(m.aic, g.aic, 1e-12)
    assert m.df_model == g.df_model
    if weights is None:  # with case weights nobs is their sum (nnet), glm's is the row count
        assert_close(m.bic, g.bic, 1e-12)
        assert m.df_resid == g.df_resid
    assert_close(m.predict(df)[1], g.predict(df), 1e-10)
    w = m.wald_test("C(race)[T.other] = 0, C(race)[T.white] = 0")
    wg = g.wald_test("C(race)[T.other] = 0, C(race)[T.white] = 0")
    assert_close(w.statistic, wg.statistic, 1e-9)


def test_two_levels_array_interface():
    df = load_data("birthwt.csv")
    X = np.column_stack([np.ones(len(df)), df["age"], df["lwt"]])
    y = np.where(df["low"] == 1, "low", "normal")
    m = Multinomial(y, X, column_names=["Intercept", "age", "lwt"], baseline="normal").fit()
    g = gl.GLM((df["low"] == 1).astype(float), X, column_names=["Intercept", "age", "lwt"]).fit()
    assert list(m.params.columns) == ["low"]
    assert_close(m.params["low"], g.params, RTOL_BINOMIAL)
    assert_close(m.bse["low"], g.bse, RTOL_BINOMIAL)


# ------------------------------------------------------------------------------------------------
# Truth: score equations, invariances, chunking
# ------------------------------------------------------------------------------------------------
def test_score_is_zero_at_the_solution():
    ref, res = fitted("sim4")
    d = res.design
    ll, g, _ = mn._pass(d.X, res.model.codes, d.weights, res.params.to_numpy(), False, 97)
    assert abs(ll - res.llf) < 1e-9
    assert np.max(np.abs(g)) < 1e-8


def test_chunking_does_not_change_the_answer(monkeypatch):
    ref, res = fitted("housing_weighted")
    monkeypatch.setattr(mn, "_chunk_rows", lambda n, p, k: 5)
    small = multinomial(ref["formula_py"], load_data("housing.csv"), weights="Freq")
    assert_close(small.params, res.params, 1e-12)
    assert_close(small.bse, res.bse, 1e-11)


def test_duplicated_rows_equal_weight_two_and_row_order_is_irrelevant():
    df = load_data("multinom_sim4.csv").iloc[:150].reset_index(drop=True)
    f = "y ~ x1 + x2 + g"
    w = np.where(np.arange(150) % 3 == 0, 2.0, 1.0)
    weighted = multinomial(f, df, weights=w)
    dup = pd.concat([df, df[w == 2]], ignore_index=True)
    assert_close(multinomial(f, dup).params, weighted.params, 1e-10)
    perm = np.random.default_rng(1).permutation(150)
    shuffled = multinomial(f, df.iloc[perm], weights=w[perm])
    assert_close(shuffled.params, weighted.params, 1e-10)
    assert_close(shuffled.bse, weighted.bse, 1e-10)


def test_baseline_changes_the_parametrisation_only():
    df = load_data("multinom_sim4.csv")
    a = multinomial("y ~ x1 + x2 + g", df)
    c = multinomial("y ~ x1 + x2 + g", df, baseline="C")
    assert c.baseline == "C" and list(c.params.columns) == ["A", "B", "D"]
    assert_close(c.llf, a.llf, 1e-12)
    assert_close(c.params["A"], -a.params["C"], 1e-9, atol=1e-12)
    assert_close(c.params["D"], a.params["D"] - a.params["C"], 1e-9, atol=1e-12)
    assert_close(c.predict(df)[a.levels], a.predict(df), 1e-10, atol=1e-14)
    # A Categorical's order sets the default baseline.
    df2 = df.assign(y=pd.Categorical(df["y"], categories=["D", "C", "B", "A"]))
    assert multinomial("y ~ x1", df2).baseline == "D"


def test_aliased_column_is_nan_and_the_rest_is_exact():
    df = load_data("multinom_sim4.csv")
    df["x3"] = 2.0 * df["x1"] - df["x2"]
    res = multinomial("y ~ x1 + x2 + x3 + g", df)
    base = multinomial("y ~ x1 + x2 + g", df)
    assert res.aliased["x3"] and res.aliased.sum() == 1
    assert res.params.loc["x3"].isna().all() and res.bse.loc["x3"].isna().all()
    assert_close(res.params.drop("x3"), base.params, 1e-10)
    assert_close(res.bse.drop("x3"), base.bse, 1e-10)
    assert res.k_params == base.k_params and res.aic == pytest.approx(base.aic, rel=1e-12)
    assert "aliased" in str(res.summary())
    assert_close(res.predict(df), base.predict(df), 1e-10)


def test_missing_values_are_dropped_and_data_untouched():
    df = load_data("multinom_sim4.csv")
    dirty = df.copy()
    dirty.loc[3, "x1"] = np.nan
    dirty["y"] = dirty["y"].astype(object)
    dirty.loc[7, "y"] = None
    before = dirty.copy()
    res = multinomial("y ~ x1 + x2 + g", dirty)
    assert dirty.equals(before)
    assert res.n_dropped == 2 and res.nobs == len(df) - 2
    clean = multinomial("y ~ x1 + x2 + g", df.drop(index=[3, 7]))
    assert_close(res.params, clean.params, 1e-12)
    with pytest.raises(DataError, match="missing"):
        multinomial("y ~ x1 + x2 + g", dirty, na_action="raise")
    pred = res.predict(dirty)  # rows with a missing predictor predict NaN
    assert pred.loc[3].isna().all() and np.isfinite(pred.drop(index=3).to_numpy()).all()


# ------------------------------------------------------------------------------------------------
# Prediction, tests, summary, errors
# ------------------------------------------------------------------------------------------------
def test_predict_probabilities_and_unseen_level():
    ref, res = fitted("housing_weighted")
    df = load_data("housing.csv")
    p = res.predict(df)
    assert list(p.columns) == HOUSING_LEVELS["Sat"]
    assert_close(p.sum(axis=1), 1.0, 1e-14)
    assert ((p > 0) & (p < 1)).all().all()
    lin = res.predict(df, which="linear")
    assert list(lin.columns) == ["Medium", "High"]
    assert_close(np.log(p["High"] / p["Low"]), lin["High"], 1e-10)
    bad = pd.DataFrame({"Infl": ["Low"], "Type": ["Castle"], "Cont": ["Low"]})
    with pytest.raises(DataError, match="Castle"):
        res.predict(bad)
    with pytest.raises(DataError, match="lacks"):
        res.predict(pd.DataFrame({"Infl": ["Low"]}))


def test_extreme_linear_predictors_stay_finite():
    _, res = fitted("iris_sepal_length")
    p = res.predict(pd.DataFrame({"SepalLength": [-1e4, 1e4]}))
    assert np.isfinite(p.to_numpy()).all()
    assert_close(p.sum(axis=1), 1.0, 1e-14)


def test_wald_tests():
    _, res = fitted("iris_sepal_length")
    b = res.params.loc["SepalLength"].to_numpy()
    V = res.cov_params().xs("SepalLength", level="term").xs("SepalLength", level="term", axis=1)
    t = res.wald_test("SepalLength = 0")
    assert t.df == 2
    assert_close(t.statistic, b @ np.linalg.solve(V.to_numpy(), b), 1e-10)
    assert_close(res.wald_test(np.array([[0.0, 1.0]])).statistic, t.statistic, 1e-12)
    one = res.wald_test("SepalLength[versicolor] = 0")
    assert one.df == 1
    assert_close(one.statistic, res.tvalues.loc["SepalLength", "versicolor"] ** 2, 1e-10)
    eq = res.wald_test("SepalLength[versicolor] = SepalLength[virginica]")
    R = np.zeros((1, 4))
    R[0, 1], R[0, 3] = 1.0, -1.0
    assert_close(res.wald_test(R).statistic, eq.statistic, 1e-12)
    with pytest.raises(GlmlogitError, match="cannot parse"):
        res.wald_test("nosuchterm = 0")


def test_compare_lr_against_r_null_model():
    ref, res = fitted("iris_sepal_length")
    df = load_data("iris.csv")
    null = multinomial("Species ~ 1", df)
    assert_close(null.llf, ref["llnull"], 1e-12)
    t = res.compare_lr(null)
    assert t.df == 2
    assert_close(t.statistic, 2 * (ref["llf"] - ref["llnull"]), 1e-10)
    with pytest.raises(GlmlogitError, match="nested"):
        null.compare_lr(res)


def test_summary_exports():
    _, res = fitted("housing_weighted")
    s = res.summary()
    text = str(s)
    assert "Level 'Medium' vs 'Low'" in text and "Level 'High' vs 'Low'" in text
    assert "Case weights:" in text and "Freq" in text and "converged" in text
    frame = s.to_frame()
    assert frame.shape == (14, 6)
    assert list(frame.columns) == ["coef", "std_err", "z", "pvalue", "ci_lower", "ci_upper"]
    assert_close(
        frame.loc[("High", "Infl[T.High]"), "coef"], res.params.loc["Infl[T.High]", "High"], 0
    )
    md = s.to_markdown()
    assert md.count("| Term") == 2 and "`Sat ~ Infl + Type + Cont`" in md
    d = json.loads(json.dumps(s.to_dict()))
    assert d["model"]["levels"] == ["Low", "Medium", "High"] and len(d["coefficients"]) == 14
    assert "MultinomialResults" in repr(res)


def test_penalised_two_levels_match_sklearn():
    sk = pytest.importorskip("sklearn.linear_model")
    df = load_data("birthwt.csv")
    alpha = 0.05
    res = multinomial("low ~ age + lwt + smoke + ptl", df, alpha=alpha)
    X = df[["age", "lwt", "smoke", "ptl"]].to_numpy(float)
    clf = sk.LogisticRegression(C=1.0 / (alpha * len(df)), tol=1e-12, max_iter=10000)
    clf.fit(X, df["low"])
    assert_close(res.params.iloc[1:, 0], clf.coef_[0], RTOL_SKLEARN)
    assert_close(res.params.iloc[0, 0], clf.intercept_[0], RTOL_SKLEARN)
    assert res.bse.isna().all().all()
    assert "Penalised" in str(res.summary())


def test_penalised_score_equations():
    df = load_data("multinom_sim4.csv")
    alpha = 0.02
    res = multinomial("y ~ x1 + x2 + g", df, alpha=alpha)
    d = res.design
    B = res.params.to_numpy()
    _, g, _ = mn._pass(d.X, res.model.codes, d.weights, B, False, 1000)
    pen = alpha * d.weights.sum() * B
    pen[d.intercept_index] = 0.0
    assert np.max(np.abs(g - pen.T.ravel())) < 1e-8
    mle = multinomial("y ~ x1 + x2 + g", df).params.to_numpy()
    assert np.linalg.norm(B[1:]) < np.linalg.norm(mle[1:])


@pytest.mark.parametrize(("penalty", "l1_ratio"), [("l1", 1.0), ("elasticnet", 0.5)])
@pytest.mark.parametrize("alpha", [0.01, 0.03])
def test_l1_elastic_net_two_levels_reproduce_penalised_binomial(penalty, l1_ratio, alpha):
    # At K = 2 the baseline parametrisation is the binary logit and -(1/sum w) loglik is
    # deviance / (2 sum w): the same objective as gl.glm's glmnet form.
    df = load_data("birthwt.csv")
    f = "low ~ age + lwt + C(race) + smoke + ptl + ht"
    kw = {"l1_ratio": l1_ratio} if penalty == "elasticnet" else {}
    g = gl.glm(f, df, family="binomial", penalty=penalty, alpha=alpha, **kw)
    m = multinomial(f, df, alpha=alpha, l1_ratio=l1_ratio)
    assert m.converged
    assert_close(m.params.iloc[:, 0], g.params, 1e-7, atol=1e-9)
    assert np.array_equal(m.params.iloc[:, 0].to_numpy() == 0, g.params.to_numpy() == 0)
    assert m.bse.isna().all().all()
    kind = "L1" if l1_ratio == 1 else "elastic net, l1_ratio = 0.5"
    assert f"Penalty:           {kind}, alpha = {alpha:g}" in str(m.summary())


@pytest.mark.parametrize("l1_ratio", [1.0, 0.4])
def test_l1_kkt_conditions(l1_ratio):
    df = load_data("multinom_sim4.csv")
    alpha = 0.02
    res = multinomial("y ~ x1 + x2 + g", df, alpha=alpha, l1_ratio=l1_ratio)
    assert res.converged
    d = res.design
    B = res.params.to_numpy()
    assert np.any(B[1:] == 0) and np.any(B[1:] != 0)  # a genuinely sparse solution
    _, score, _ = mn._pass(d.X, res.model.codes, d.weights, B, False, 1000)
    S = d.weights.sum()
    b = B.T.ravel()
    pen = np.ones_like(B)
    pen[d.intercept_index] = 0.0
    pen = pen.T.ravel()
    lam1, lam2 = alpha * l1_ratio * pen, alpha * (1 - l1_ratio) * pen
    r = -score / S + lam2 * b  # gradient of the smooth part of the objective
    nz = b != 0
    assert np.max(np.abs(r[nz] + lam1[nz] * np.sign(b[nz]))) < 1e-9
    assert np.all(np.abs(r[~nz]) <= lam1[~nz] + 1e-12)
    assert res._fit.kkt_violation < 1e-9


def test_l1_large_alpha_gives_the_intercept_only_model():
    df = load_data("iris.csv")
    res = multinomial(
        "Species ~ SepalLength + SepalWidth + PetalLength", df, alpha=10.0, l1_ratio=1.0
    )
    assert res.converged
    assert np.all(res.params.drop(index="Intercept").to_numpy() == 0.0)
    shares = df["Species"].value_counts(normalize=True)[res.levels].to_numpy()
    assert_close(res.fittedvalues.to_numpy(), np.tile(shares, (len(df), 1)), 1e-10)
    assert_close(res.llf, res.llnull, 1e-12)


def test_errors_and_warnings():
    df = load_data("multinom_sim4.csv")
    with pytest.raises(FormulaError, match="column"):
        multinomial("C(y) ~ x1", df)
    with pytest.raises(DataError, match="baseline"):
        multinomial("y ~ x1", df, baseline="Z")
    with pytest.raises(DataError, match=">= 2"):
        multinomial("y ~ x1", df.assign(y="A"))
    with pytest.raises(GlmlogitError, match="alpha"):
        multinomial("y ~ x1", df, alpha=-1.0)
    with pytest.raises(GlmlogitError, match="alpha"):
        multinomial("y ~ x1", df, alpha=-1.0, l1_ratio=1.0)
    for bad in (-0.1, 1.5, math.nan):
        with pytest.raises(GlmlogitError, match="l1_ratio"):
            multinomial("y ~ x1", df, alpha=0.1, l1_ratio=bad)
    with pytest.raises(GlmlogitError, match="l1_ratio"):
        Multinomial(df["y"], np.ones((len(df), 1))).fit(alpha=0.1, l1_ratio=2.0)
    cat = df.assign(y=pd.Categorical(df["y"], categories=["A", "B", "C", "D", "E"]))
    with pytest.warns(DataWarning, match="E"):
        res = multinomial("y ~ x1", cat)
    assert res.levels == ["A", "B", "C", "D"]
    with pytest.warns(ConvergenceWarning):
        multinomial("y ~ x1 + x2 + g", df, max_iter=1)


def test_large_data_fit_is_quick_and_exact():
    rng = np.random.default_rng(7)
    n, p, K = 20000, 6, 5
    X = np.column_stack([np.ones(n), rng.normal(size=(n, p - 1))])
    B = rng.normal(scale=0.5, size=(p, K - 1))
    eta = np.column_stack([np.zeros(n), X @ B])
    P = np.exp(eta - eta.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    y = (P.cumsum(axis=1) > rng.random(n)[:, None]).argmax(axis=1)
    res = Multinomial(y, X).fit()
    assert res.converged and res.n_iter <= 10
    _, g, _ = mn._pass(X, res.model.codes, np.ones(n), res.params.to_numpy(), False, 4096)
    assert np.max(np.abs(g)) < 1e-7
    assert math.isfinite(res.bic)
