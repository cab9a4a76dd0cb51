"""Bad input raises a glmlogit error whose message names what is wrong (column, count, level)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import glmlogit as gl


@pytest.fixture
def df():
    rng = np.random.default_rng(0)
    n = 40
    return pd.DataFrame(
        {
            "y": np.r_[np.zeros(20), np.ones(20)],
            "x1": rng.normal(size=n),
            "x2": rng.normal(size=n),
            "count": rng.poisson(3, n).astype(float),
            "amount": rng.uniform(1, 2, n),
            "trials": rng.integers(1, 5, n).astype(float),
            "expo": np.zeros(n),
        }
    )


def test_empty_dataframe(df):
    with pytest.raises(gl.DataError, match="no rows"):
        gl.glm("y ~ x1", df.iloc[:0])
    with pytest.raises(gl.GlmlogitError, match="no rows"):
        gl.glm("y ~ x1", pd.DataFrame())


def test_formula_names_missing_column(df):
    with pytest.raises(gl.FormulaError, match=r"'x3'"):
        gl.glm("y ~ x1 + x3", df)


def test_binomial_response_outside_0_1(df):
    df.loc[3, "y"] = 2.0
    with pytest.raises(gl.DataError, match=r"(?s)'y'.*\[0, 1\].*1 row.*2\.0.*position 3"):
        gl.glm("y ~ x1", df)


def test_negative_poisson_counts(df):
    df.loc[[5, 9], "count"] = -1.0
    with pytest.raises(gl.DataError, match=r"(?s)'count'.*non-negative.*2 row"):
        gl.glm("count ~ x1", df, family="poisson")


@pytest.mark.parametrize("bad", [0.0, -0.5])
def test_non_positive_gamma_response(df, bad):
    df.loc[7, "amount"] = bad
    with pytest.raises(gl.DataError, match=r"(?s)'amount'.*positive.*1 row"):
        gl.glm("amount ~ x1", df, family="gamma", link="log")


@pytest.mark.parametrize("bad", [np.inf, -np.inf])
def test_non_finite_predictor_after_na_handling(df, bad):
    df.loc[4, "x2"] = bad
    df.loc[6, "x1"] = np.nan  # dropped as NA; the inf is not, and must be reported
    with pytest.raises(gl.DataError, match=r"(?s)'x2'.*1 non-finite"):
        gl.glm("y ~ x1 + x2", df)


def test_non_finite_from_transform(df):
    df.loc[2, "amount"] = 0.0
    with (
        np.errstate(divide="ignore"),
        pytest.raises(gl.DataError, match=r"(?s)np\.log\(amount\).*1 non-finite"),
    ):
        gl.glm("y ~ np.log(amount)", df)
    # With numpy's warning turned into an error (as in this test run) it is still a glmlogit
    # error naming the term, not a bare RuntimeWarning.
    with pytest.raises(gl.GlmlogitError, match=r"np\.log\(amount\)"):
        gl.glm("y ~ np.log(amount)", df)


def test_non_finite_weights(df):
    df.loc[1, "trials"] = np.inf
    with pytest.raises(gl.DataError, match=r"weights.*1 non-finite"):
        gl.glm("y ~ x1", df, weights="trials")
    w = np.ones(len(df))
    w[[0, 5]] = np.inf
    with pytest.raises(gl.DataError, match=r"weights.*2 non-finite"):
        gl.glm("y ~ x1", df, weights=w)


def test_non_finite_offset(df):
    df.loc[8, "expo"] = -np.inf
    with pytest.raises(gl.DataError, match=r"offset.*1 non-finite"):
        gl.glm("count ~ x1", df, family="poisson", offset="expo")
    with pytest.raises(gl.DataError, match=r"offset.*1 non-finite"):
        gl.glm("count ~ x1", df, family="poisson", offset=df["expo"].to_numpy())


def test_negative_weights(df):
    df.loc[[0, 1, 2], "trials"] = -1.0
    with pytest.raises(gl.DataError, match=r"weights.*non-negative.*3"):
        gl.glm("y ~ x1", df, weights="trials")


@pytest.mark.parametrize("value,label", [(1.0, "1"), (0.0, "0")])
def test_binomial_single_class(df, value, label):
    df["y"] = value
    with pytest.raises(gl.GlmlogitError, match=rf"(?s)'y'.*single class.*{len(df)} rows.*{label}"):
        gl.glm("y ~ x1", df)


def test_binomial_single_class_string_response(df):
    df["y"] = "yes"
    with pytest.raises(gl.DataError, match=r"(?s)'y'.*two levels.*found 1"):
        gl.glm("y ~ x1", df)


def test_numbers_stored_as_text(df):
    df["dose"] = df["x1"].map(lambda v: f"{v:.4f}")
    with pytest.raises(gl.DataError, match=r"(?s)'dose'.*numbers stored as text"):
        gl.glm("y ~ x1 + dose", df)


def test_predict_newdata_missing_column(df):
    res = gl.glm("y ~ x1 + x2", df)
    with pytest.raises(gl.DataError, match=r"'x2'"):
        res.predict(df.drop(columns="x2"))
    with pytest.raises(gl.DataError, match=r"'x2'"):
        res.get_prediction(df.drop(columns="x2"))


def test_na_action_raise_names_column(df):
    df.loc[[3, 4], "x2"] = np.nan
    with pytest.raises(gl.DataError, match=r"(?s)2 of 40 rows.*'x2'"):
        gl.glm("y ~ x1 + x2", df, na_action="raise")
    res = gl.glm("y ~ x1 + x2", df)  # the default drops them
    assert res.n_dropped == 2


def test_bad_na_action(df):
    with pytest.raises(gl.GlmlogitError, match="na_action"):
        gl.glm("y ~ x1", df, na_action="omit_please")


@pytest.mark.parametrize("family", ["binomal", "negative_binomial", "Tweedie"])
def test_unknown_family(df, family):
    with pytest.raises(gl.FamilyError, match=rf"(?s)unknown family '{family}'.*binomial"):
        gl.glm("y ~ x1", df, family=family)


@pytest.mark.parametrize("link", ["logitt", "probitt", "power"])
def test_unknown_link(df, link):
    with pytest.raises(gl.FamilyError, match=rf"(?s)unknown link '{link}'.*logit"):
        gl.glm("y ~ x1", df, link=link)


@pytest.mark.parametrize(
    "family,link",
    [
        ("poisson", "logit"),
        ("binomial", "inverse"),
        ("binomial", "sqrt"),
        ("gamma", "probit"),
        ("gaussian", "cloglog"),
        ("inverse_gaussian", "logit"),
    ],
)
def test_link_not_allowed_for_family(df, family, link):
    with pytest.raises(gl.FamilyError, match=rf"(?s)'{link}'.*not available.*{family}"):
        gl.glm("amount ~ x1", df, family=family, link=link)


def test_link_not_allowed_for_family_object():
    with pytest.raises(gl.FamilyError, match=r"(?s)'logit'.*gamma"):
        gl.families.Gamma(link="logit")


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_in_a_design_array(df, bad):
    """gl.GLM(y, X): a non-finite entry is reported with its column and row count."""
    X = np.column_stack([np.ones(len(df)), df.x1, df.x2])
    X[[3, 30], 2] = bad
    with pytest.raises(gl.DataError, match=r"\['x2'\].*in 2 row"):
        gl.GLM(df.y, X, column_names=["Intercept", "x1", "x2"])
    assert np.isnan(X[3, 2]) or np.isinf(X[3, 2])  # the caller's array untouched


def test_design_array_intercept_found_anywhere(df):
    """A column of ones anywhere in an array design is the intercept (null deviance, llnull,
    pseudo R^2 from the intercept-only fit), as for the formula's Intercept; a column equal to
    1 in the first block of rows only is not."""
    ref = gl.glm("y ~ x1 + x2", df)
    n = len(df)
    X = np.column_stack([df.x1, np.ones(n), df.x2])
    res = gl.GLM(df.y, X).fit()
    assert res.model.design.intercept_index == 1
    np.testing.assert_allclose(res.null_deviance, ref.null_deviance, rtol=1e-12)
    almost = np.ones(n)
    almost[-1] = 1.0 + 1e-12
    d = gl.formula.design_from_arrays(df.y, np.column_stack([almost, df.x1]), binomial=True)
    assert d.intercept_index is None
    from glmlogit.formula import _colsums_and_intercept

    big = np.ones((50_000, 2))
    big[40_000, 0] = 0.5  # past the first row block
    assert _colsums_and_intercept(big)[1] == 1
