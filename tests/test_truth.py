"""Truth tests: properties every correct GLM fit has, checked without an external reference.

Score equations at the solution, invariances (duplicated rows, row order, column scale, a shift
of a covariate), determinism, no mutation of the caller's data, and consistency between the
package's own tests (Wald, LR, sequential anova), prediction and the formula front end.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from glm_combos import COMBOS
from scipy import special, stats

import glmlogit as gl

# --- tolerances ---------------------------------------------------------------------------
SCORE_RTOL = (
    1e-9  # IRLS stops when the next step is < 1e-10 SE-units: the score is ~1e-11 of its terms
)
INVARIANT_RTOL = 1e-9  # two fits of equivalent data stop at iterates within the 1e-10 stopping rule
SE_INVARIANT_RTOL = 1e-8  # SEs of equivalent fits: the information at iterates 1e-10 apart
EXACT_RTOL = 1e-12  # the same numbers reached by a different formula (rounding only)

# --- data -----------------------------------------------------------------------------------

# Independent closed forms (not the package's): inverse link, dmu/deta, variance.
INV = {
    "logit": special.expit,
    "probit": stats.norm.cdf,
    "cloglog": lambda e: -np.expm1(-np.exp(e)),
    "cauchit": lambda e: 0.5 + np.arctan(e) / np.pi,
    "log": np.exp,
    "identity": lambda e: e,
    "sqrt": lambda e: e * e,
    "inverse": lambda e: 1 / e,
    "inverse_squared": lambda e: e**-0.5,
}
MU_ETA = {
    "logit": lambda e: special.expit(e) * special.expit(-e),
    "probit": stats.norm.pdf,
    "cloglog": lambda e: np.exp(e - np.exp(e)),
    "cauchit": lambda e: 1 / (np.pi * (1 + e * e)),
    "log": np.exp,
    "identity": np.ones_like,
    "sqrt": lambda e: 2 * e,
    "inverse": lambda e: -1 / (e * e),
    "inverse_squared": lambda e: -0.5 * e**-1.5,
}
VAR = {
    "binomial": lambda m: m * (1 - m),
    "poisson": lambda m: m,
    "gaussian": np.ones_like,
    "gamma": lambda m: m * m,
    "inverse_gaussian": lambda m: m**3,
}
ETA = {  # true linear predictors in each link's domain, x1, x2 ~ U(0, 1)
    ("binomial", "logit"): (-0.5, 1.5, -1.0),
    ("binomial", "probit"): (-0.3, 0.9, -0.6),
    ("binomial", "cloglog"): (-0.8, 1.0, -0.7),
    ("binomial", "cauchit"): (-0.4, 1.2, -0.8),
    ("poisson", "log"): (0.5, 1.0, -0.5),
    ("poisson", "identity"): (2.0, 3.0, 1.0),
    ("poisson", "sqrt"): (1.2, 1.0, 0.5),
    ("gaussian", "identity"): (1.0, 2.0, -1.0),
    ("gaussian", "log"): (1.0, 0.5, -0.3),
    ("gaussian", "inverse"): (0.3, 0.4, 0.2),
    ("gamma", "inverse"): (0.5, 0.8, 0.3),
    ("gamma", "log"): (0.5, 1.0, -0.5),
    ("gamma", "identity"): (1.0, 2.0, 1.0),
    ("inverse_gaussian", "inverse_squared"): (0.5, 0.8, 0.3),
    ("inverse_gaussian", "log"): (0.2, 0.5, -0.3),
}


def simulate(family, link, seed=0, n=200):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"x1": rng.uniform(0, 1, n), "x2": rng.uniform(0, 1, n)})
    b = ETA[(family, link)]
    mu = INV[link](b[0] + b[1] * df["x1"].to_numpy() + b[2] * df["x2"].to_numpy())
    draw = {
        "binomial": lambda: rng.binomial(1, mu).astype(float),
        "poisson": lambda: rng.poisson(mu).astype(float),
        "gaussian": lambda: mu + rng.normal(0, 0.3, n),
        "gamma": lambda: rng.gamma(5.0, mu / 5.0),
        "inverse_gaussian": lambda: rng.wald(mu, 10.0),
    }[family]
    df["y"] = draw()
    df["w"] = rng.integers(1, 5, n).astype(float)
    return df


def score_ratio(res, X, y, wt, link, family, offset=0.0):
    """|X' (wt (y - mu) mu_eta / V)| relative to sum |terms|, per coefficient."""
    eta = X @ res.params.to_numpy() + offset
    mu = INV[link](eta)
    u = wt * (y - mu) * MU_ETA[link](eta) / VAR[family](mu)
    terms = X * u[:, None]
    return np.abs(terms.sum(axis=0)) / np.abs(terms).sum(axis=0)


def design(df):
    return np.column_stack([np.ones(len(df)), df["x1"], df["x2"]])


def assert_coef(a, b, se, rtol=INVARIANT_RTOL):
    a, b, se = (np.asarray(v, dtype=float) for v in (a, b, se))
    err = np.abs(a - b) / (np.abs(b) + se)
    assert np.all(err <= rtol), f"max scaled error {err.max():.3g}\n{a}\n{b}"


# --- score equations ------------------------------------------------------------------------
@pytest.mark.parametrize("family,link", COMBOS, ids=[f"{f}-{lk}" for f, lk in COMBOS])
def test_score_equations(family, link):
    df = simulate(family, link, seed=COMBOS.index((family, link)))
    res = gl.glm("y ~ x1 + x2", df, family=family, link=link, weights="w")
    assert res.converged
    r = score_ratio(res, design(df), df["y"].to_numpy(), df["w"].to_numpy(), link, family)
    assert np.all(r < SCORE_RTOL), r


def test_score_equations_with_offset():
    df = simulate("poisson", "log", seed=3)
    df["off"] = np.linspace(-0.3, 0.3, len(df))
    res = gl.glm("y ~ x1 + x2", df, family="poisson", offset="off")
    r = score_ratio(
        res, design(df), df["y"].to_numpy(), 1.0, "log", "poisson", df["off"].to_numpy()
    )
    assert np.all(r < SCORE_RTOL), r


# --- invariances ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "family,link",
    [("binomial", "logit"), ("binomial", "probit"), ("poisson", "log"), ("poisson", "sqrt")],
)
def test_duplicated_rows_equal_weight_two(family, link):
    df = simulate(family, link, seed=21, n=150)
    dup = df.index[::3]
    doubled = pd.concat([df, df.loc[dup]], ignore_index=True)
    weighted = df.assign(w=1.0)
    weighted.loc[dup, "w"] = 2.0
    a = gl.glm("y ~ x1 + x2", doubled, family=family, link=link)
    b = gl.glm("y ~ x1 + x2", weighted, family=family, link=link, weights="w")
    assert_coef(a.params, b.params, b.bse)
    np.testing.assert_allclose(a.bse, b.bse, rtol=SE_INVARIANT_RTOL)
    np.testing.assert_allclose(a.deviance, b.deviance, rtol=INVARIANT_RTOL)
    np.testing.assert_allclose(a.llf, b.llf, rtol=INVARIANT_RTOL)


def test_duplicated_rows_estimated_scale_params_and_deviance():
    # With an estimated dispersion the SEs differ (df_resid counts rows), the estimates do not.
    df = simulate("gamma", "log", seed=22, n=150)
    dup = df.index[::2]
    doubled = pd.concat([df, df.loc[dup]], ignore_index=True)
    weighted = df.assign(w=1.0)
    weighted.loc[dup, "w"] = 2.0
    a = gl.glm("y ~ x1 + x2", doubled, family="gamma", link="log")
    b = gl.glm("y ~ x1 + x2", weighted, family="gamma", link="log", weights="w")
    assert_coef(a.params, b.params, b.bse)
    np.testing.assert_allclose(a.deviance, b.deviance, rtol=INVARIANT_RTOL)
    np.testing.assert_allclose(a.pearson_chi2, b.pearson_chi2, rtol=INVARIANT_RTOL)


@pytest.mark.parametrize(
    "family,link", [("binomial", "logit"), ("poisson", "identity"), ("gamma", "inverse")]
)
def test_row_permutation(family, link):
    df = simulate(family, link, seed=5)
    perm = df.sample(frac=1.0, random_state=1)  # same labels, new order
    a = gl.glm("y ~ x1 + x2", df, family=family, link=link, weights="w")
    b = gl.glm("y ~ x1 + x2", perm, family=family, link=link, weights="w")
    assert_coef(b.params, a.params, a.bse)
    np.testing.assert_allclose(b.bse, a.bse, rtol=SE_INVARIANT_RTOL)
    np.testing.assert_allclose(b.deviance, a.deviance, rtol=INVARIANT_RTOL)
    assert list(b.fittedvalues.index) == list(perm.index)
    np.testing.assert_allclose(b.fittedvalues.loc[df.index], a.fittedvalues, rtol=INVARIANT_RTOL)


@pytest.mark.parametrize("c", [1e3, 1e-3, -7.0])
@pytest.mark.parametrize(
    "family,link", [("binomial", "logit"), ("binomial", "cloglog"), ("gaussian", "log")]
)
def test_column_rescaling(family, link, c):
    df = simulate(family, link, seed=6)
    a = gl.glm("y ~ x1 + x2", df, family=family, link=link)
    b = gl.glm("y ~ x1 + x2", df.assign(x1=df["x1"] * c), family=family, link=link)
    expect = a.params.copy()
    expect["x1"] /= c
    se = a.bse.copy()
    se["x1"] /= abs(c)
    assert_coef(b.params, expect, se)
    np.testing.assert_allclose(b.bse, se, rtol=SE_INVARIANT_RTOL)
    np.testing.assert_allclose(
        b.tvalues,
        a.tvalues * np.where(a.params.index == "x1", np.sign(c), 1),
        rtol=SE_INVARIANT_RTOL,
    )
    np.testing.assert_allclose(b.deviance, a.deviance, rtol=INVARIANT_RTOL)


@pytest.mark.parametrize(
    "family,link", [("binomial", "logit"), ("poisson", "log"), ("gamma", "log")]
)
def test_covariate_shift_moves_only_the_intercept(family, link):
    df = simulate(family, link, seed=8)
    shift = 25.0
    a = gl.glm("y ~ x1 + x2", df, family=family, link=link)
    b = gl.glm("y ~ x1 + x2", df.assign(x1=df["x1"] + shift), family=family, link=link)
    expect = a.params.copy()
    expect["Intercept"] -= shift * a.params["x1"]
    se = a.bse.copy()
    se["Intercept"] = b.bse["Intercept"]  # the intercept's SE changes (it is now far from the data)
    assert_coef(b.params, expect, se)
    np.testing.assert_allclose(b.bse[["x1", "x2"]], a.bse[["x1", "x2"]], rtol=SE_INVARIANT_RTOL)
    np.testing.assert_allclose(b.deviance, a.deviance, rtol=INVARIANT_RTOL)
    np.testing.assert_allclose(b.fittedvalues, a.fittedvalues, rtol=INVARIANT_RTOL)


def test_fitting_twice_is_identical():
    df = simulate("binomial", "probit", seed=9)
    model = gl.GLM(df["y"], df[["x1", "x2"]].assign(c=1.0), family="binomial", link="probit")
    r1, r2 = model.fit(), model.fit()
    r3 = gl.glm("y ~ x1 + x2", df, link="probit")
    r4 = gl.glm("y ~ x1 + x2", df, link="probit")
    for a, b in ((r1, r2), (r3, r4)):
        assert np.array_equal(a.params.to_numpy(), b.params.to_numpy())
        assert np.array_equal(a.bse.to_numpy(), b.bse.to_numpy())
        assert a.deviance == b.deviance and a.llf == b.llf and a.n_iter == b.n_iter
        assert np.array_equal(a.fittedvalues.to_numpy(), b.fittedvalues.to_numpy())


# --- the caller's data ----------------------------------------------------------------------
def messy_frame(n=120, seed=10):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "y": rng.integers(0, 2, n),
            "x": rng.normal(size=n),
            "k": rng.integers(1, 5, n),  # int64
            "g": pd.Categorical(
                rng.choice(["a", "b", "c", "unused"][:3], n), categories=["a", "b", "c", "unused"]
            ),
            "s": rng.choice(["u", "v"], n),
            "w": rng.uniform(0.5, 2.0, n),
            "off": rng.normal(0, 0.1, n),
        },
        index=pd.Index([f"r{i}" for i in range(n)], name="id"),
    )
    df.loc[["r3", "r50"], "x"] = np.nan
    return df


def assert_unchanged(df, before):
    pd.testing.assert_frame_equal(df, before, check_exact=True)
    assert df.dtypes.equals(before.dtypes)
    assert df.index.equals(before.index) and df.index.name == before.index.name


def test_data_not_mutated():
    df = messy_frame()
    df["w"] = np.round(df["w"])  # integer successes with prior weights
    before = copy.deepcopy(df)
    res = gl.glm("y ~ x + np.log(k) + C(g) + s", df, weights="w", offset="off")
    gl.anova(res)
    assert_unchanged(df, before)
    assert list(df["g"].cat.categories) == ["a", "b", "c", "unused"]  # not dropped in place
    new = df.dropna().head(6).copy()
    new["g"] = new["g"].cat.remove_unused_categories()
    new_before = copy.deepcopy(new)
    res.predict(new)
    res.get_prediction(new).summary_frame()
    assert_unchanged(new, new_before)
    assert_unchanged(df, before)


def test_predict_with_unused_categorical_level():
    # A pandas Categorical whose dtype lists a level absent from the data (R: an unused factor
    # level) is fitted with that level dropped; predicting on the very same frame must work.
    df = messy_frame()
    res = gl.glm("y ~ x + C(g)", df)
    np.testing.assert_allclose(
        res.predict(df).loc[res.fittedvalues.index], res.fittedvalues, rtol=EXACT_RTOL
    )


def test_dict_of_arrays_equals_dataframe():
    df = simulate("poisson", "log", seed=11)
    df["g"] = np.random.default_rng(0).choice(["p", "q", "r"], len(df))
    a = gl.glm("y ~ x1 + x2 + C(g)", df, family="poisson", weights="w")
    b = gl.glm(
        "y ~ x1 + x2 + C(g)",
        {k: df[k].to_numpy() for k in df.columns},
        family="poisson",
        weights="w",
    )
    assert list(a.params.index) == list(b.params.index)
    assert np.array_equal(a.params.to_numpy(), b.params.to_numpy())
    assert np.array_equal(a.bse.to_numpy(), b.bse.to_numpy())
    assert a.deviance == b.deviance


# --- the package's tests agree with each other ----------------------------------------------
@pytest.fixture(scope="module")
def logit_fits():
    rng = np.random.default_rng(12)
    n = 250
    df = pd.DataFrame(
        {"x1": rng.normal(size=n), "x2": rng.normal(size=n), "g": rng.choice(["a", "b", "c"], n)}
    )
    eta = 0.2 + 0.8 * df["x1"] - 0.5 * df["x2"] + 0.7 * (df["g"] == "b")
    df["y"] = rng.binomial(1, special.expit(eta))
    big = gl.glm("y ~ x1 + x2 + C(g)", df)
    small = gl.glm("y ~ x1", df)
    no_last = gl.glm("y ~ x1 + x2", df)
    return df, big, small, no_last


def test_wald_single_restriction_is_squared_z(logit_fits):
    _, big, _, _ = logit_fits
    t = big.wald_test("x1 = 0")
    np.testing.assert_allclose(t.statistic, big.tvalues["x1"] ** 2, rtol=EXACT_RTOL)
    np.testing.assert_allclose(t.pvalue, big.pvalues["x1"], rtol=1e-10)  # chi2(1) sf vs 2 norm sf
    assert t.df == 1


def test_anova_two_models_is_lr(logit_fits):
    _, big, small, _ = logit_fits
    tab = gl.anova(small, big)
    lr = 2 * (big.llf - small.llf)
    np.testing.assert_allclose(tab["statistic"].iloc[-1], lr, rtol=INVARIANT_RTOL)
    np.testing.assert_allclose(
        tab["deviance_change"].iloc[-1], small.deviance - big.deviance, rtol=EXACT_RTOL
    )
    assert tab["df"].iloc[-1] == small.df_resid - big.df_resid == 3
    np.testing.assert_allclose(tab["pvalue"].iloc[-1], stats.chi2.sf(lr, 3), rtol=1e-7)
    lr_obj = big.compare_lr(small)
    np.testing.assert_allclose(lr_obj.statistic, lr, rtol=INVARIANT_RTOL)


def test_sequential_anova_last_row_equals_pairwise(logit_fits):
    _, big, _, no_last = logit_fits
    seq = gl.anova(big)
    pair = gl.anova(no_last, big)
    assert list(seq.index)[0] == "NULL" and len(seq) == 4
    for col in ["df_resid", "deviance", "df", "deviance_change", "statistic", "pvalue"]:
        np.testing.assert_allclose(
            seq[col].iloc[-1], pair[col].iloc[-1], rtol=INVARIANT_RTOL, err_msg=col
        )
    np.testing.assert_allclose(seq["deviance"].iloc[0], big.null_deviance, rtol=INVARIANT_RTOL)


# --- prediction and the formula front end ---------------------------------------------------
def test_predict_on_fitted_data_equals_fittedvalues(logit_fits):
    df, big, _, _ = logit_fits
    np.testing.assert_allclose(big.predict(df), big.fittedvalues, rtol=EXACT_RTOL)
    np.testing.assert_allclose(
        big.predict(df, which="linear"),
        special.logit(big.fittedvalues.to_numpy()),
        rtol=1e-10,
        atol=1e-12,
    )
    np.testing.assert_allclose(big.predict(), big.fittedvalues, rtol=EXACT_RTOL)


def test_unseen_level_in_predict_names_column_and_level(logit_fits):
    df, big, _, _ = logit_fits
    new = df.head(4).copy()
    new.loc[new.index[1], "g"] = "zz"
    with pytest.raises(gl.GlmlogitError, match=r"(?s)'g'.*zz"):
        big.predict(new)


def test_reference_level_by_contrast(logit_fits):
    df, big, _, _ = logit_fits
    res = gl.glm('y ~ x1 + x2 + C(g, contr.treatment(base="b"))', df)
    names = list(res.params.index)
    assert any(nm.endswith("[T.a]") for nm in names) and any(nm.endswith("[T.c]") for nm in names)
    assert not any(nm.endswith("[T.b]") for nm in names)
    # Same model, other coding: same fit; intercept moves to level b.
    np.testing.assert_allclose(res.deviance, big.deviance, rtol=INVARIANT_RTOL)
    np.testing.assert_allclose(res.fittedvalues, big.fittedvalues, rtol=INVARIANT_RTOL)
    np.testing.assert_allclose(
        res.params["Intercept"],
        big.params["Intercept"] + big.params["C(g)[T.b]"],
        rtol=INVARIANT_RTOL,
    )
    a_name = next(nm for nm in names if nm.endswith("[T.a]"))
    np.testing.assert_allclose(res.params[a_name], -big.params["C(g)[T.b]"], rtol=INVARIANT_RTOL)


def test_na_rows_dropped_and_reported():
    df = messy_frame()
    df.loc["r7", "s"] = None
    res = gl.glm("y ~ x + s", df)
    dropped = ["r3", "r50", "r7"]
    assert res.n_dropped == 3
    assert res.nobs == len(df) - 3
    assert not set(dropped) & set(res.fittedvalues.index)
    assert list(res.fittedvalues.index) == [i for i in df.index if i not in dropped]
    ref = gl.glm("y ~ x + s", df.drop(index=dropped))
    assert ref.n_dropped == 0
    np.testing.assert_allclose(res.params, ref.params, rtol=EXACT_RTOL)


@pytest.mark.parametrize("kind", ["strings", "booleans", "categorical", "categorical_reversed"])
def test_binomial_response_encodings(kind):
    df = simulate("binomial", "logit", seed=13)
    base = gl.glm("y ~ x1 + x2", df)
    y = df["y"].astype(bool)
    if kind == "strings":  # sorted levels, as R's factor(): "no" < "yes", success = "yes"
        df["y"] = np.where(y, "yes", "no")
    elif kind == "booleans":
        df["y"] = y
    elif kind == "categorical":
        df["y"] = pd.Categorical(np.where(y, "hi", "lo"), categories=["lo", "hi"])
    else:  # the second level is the success whatever its name: here the 0s
        df["y"] = pd.Categorical(np.where(y, "hi", "lo"), categories=["hi", "lo"])
    res = gl.glm("y ~ x1 + x2", df)
    sign = -1.0 if kind == "categorical_reversed" else 1.0
    np.testing.assert_allclose(res.params, sign * base.params, rtol=EXACT_RTOL)
    np.testing.assert_allclose(res.bse, base.bse, rtol=EXACT_RTOL)
    np.testing.assert_allclose(res.deviance, base.deviance, rtol=EXACT_RTOL)


def test_log_binomial_converges_without_start():
    # Data where R's glm(y ~ x, binomial(link = "log")) stops with "no valid set of coefficients
    # has been found: please supply starting values" (checked with R 4 on this draw).
    rng = np.random.default_rng(0)
    n = 400
    x = rng.uniform(0, 2, n)
    y = rng.binomial(1, np.exp(-1.6 + 0.75 * x)).astype(float)
    X = np.column_stack([np.ones(n), x])
    # R's first step from mustart = (y + 0.5) / 2 leaves the domain (some eta >= 0, i.e. mu >= 1):
    mu0 = (y + 0.5) / 2
    z, w = np.log(mu0) + (y - mu0) / mu0, mu0 / (1 - mu0)
    b0 = np.linalg.lstsq(X * np.sqrt(w)[:, None], z * np.sqrt(w), rcond=None)[0]
    assert (X @ b0).max() > 0
    res = gl.glm("y ~ x", pd.DataFrame({"x": x, "y": y}), link="log")
    assert res.converged
    assert res.fittedvalues.max() < 1  # interior MLE
    r = score_ratio(res, X, y, 1.0, "log", "binomial")
    assert np.all(r < SCORE_RTOL), r
