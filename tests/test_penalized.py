"""Penalized fits (engine/penalized.py) and paths / cross-validation (path.py).

References: glmnet paths from tests/reference/make_glmnet.R (coefficients atol 1e-6, the
alpha grid rtol 1e-9, dev.ratio atol 1e-7); scikit-learn's LogisticRegression and glum live
(coefficients rtol 1e-5); truth tests: the KKT conditions at the solution (max violation in mean
score units < 1e-7), invariances (standardize = rescaled columns), finiteness of ridge on
separated and collinear data.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import glmlogit as gl
from glmlogit.engine.penalized import kkt_violation, penalized_fit, penalized_path
from glmlogit.engine.rows import DenseRows
from glmlogit.engine.sparse import SparseRows
from glmlogit.errors import FitError
from glmlogit.families import get_family
from glmlogit.path import glm_cv, glm_path

REF = Path(__file__).parent / "reference"
GLMNET = sorted(p.stem for p in (REF / "glmnet").glob("*.json"))
COEF_ATOL, GRID_RTOL, DEVRATIO_ATOL, KKT = 1e-6, 1e-9, 1e-7, 1e-7


def load_glmnet(name):
    c = json.loads((REF / "glmnet" / f"{name}.json").read_text())
    X = np.column_stack([np.ones(len(c["y"])), np.array(c["x"], dtype=float)])
    rows = DenseRows(X, np.array(c["y"]), np.array(c["weights"]), np.array(c["offset"]))
    return c, rows, get_family(c["family"]), np.r_[0.0, c["penalty_factor"]]


@pytest.mark.parametrize("name", GLMNET)
def test_glmnet_paths(name):
    c, rows, fam, pf = load_glmnet(name)
    path = penalized_path(
        rows,
        fam,
        l1_ratio=c["l1_ratio"],
        n_alphas=c["nlambda"],
        alpha_min_ratio=c["lambda_min_ratio"],
        penalty_factor=pf,
        standardize=c["standardize"],
        intercept_index=0,
        tol=1e-14,
    )
    np.testing.assert_allclose(path.alphas, c["alphas"], rtol=GRID_RTOL)
    k0 = 0 if c["first_is_solution"] else 1  # glmnet's ridge returns zeros at its first lambda
    np.testing.assert_allclose(path.coefs[k0:], np.array(c["coefs"])[k0:], rtol=0, atol=COEF_ATOL)
    dev_ratio = 1 - path.deviance / path.null_deviance
    np.testing.assert_allclose(dev_ratio[k0:], c["dev_ratio"][k0:], rtol=0, atol=DEVRATIO_ATOL)
    assert path.converged.all()


@pytest.mark.parametrize("name", ["birthwt_enet", "insurance_lasso", "birthwt_standardize"])
def test_single_fit_matches_glmnet(name):
    c, rows, fam, pf = load_glmnet(name)
    k = 12
    fit = penalized_fit(
        rows,
        fam,
        alpha=c["alphas"][k],
        l1_ratio=c["l1_ratio"],
        penalty_factor=pf,
        standardize=c["standardize"],
        intercept_index=0,
    )
    assert fit.converged
    np.testing.assert_allclose(fit.coef, c["coefs"][k], rtol=0, atol=COEF_ATOL)
    assert np.all(np.isnan(fit.cov_unscaled)) == (c["l1_ratio"] > 0)


def random_logit(seed, n=400, p=8, scale=1.0):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.standard_normal((n, p - 1)) * scale])
    beta = np.r_[-0.3, rng.normal(0, 0.8, p - 1) / scale]
    beta[rng.random(p) < 0.4] = 0.0
    y = (rng.random(n) < 1 / (1 + np.exp(-X @ beta))).astype(float)
    return X, y


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    l1_ratio=st.sampled_from([1.0, 0.5, 0.1]),
    frac=st.floats(0.01, 0.5),
    link=st.sampled_from(["logit", "probit"]),
)
def test_kkt_conditions_hold(seed, l1_ratio, frac, link):
    X, y = random_logit(seed)
    rows = DenseRows(X, y)
    fam = get_family("binomial", link)
    path = penalized_path(rows, fam, l1_ratio=l1_ratio, n_alphas=2, intercept_index=0)
    alpha = frac * path.alpha_max
    fit = penalized_fit(rows, fam, alpha=alpha, l1_ratio=l1_ratio, intercept_index=0)
    assert fit.converged
    v = kkt_violation(rows, fam, fit.coef, alpha=alpha, l1_ratio=l1_ratio, intercept_index=0)
    assert v < KKT
    assert fit.history == sorted(fit.history, reverse=True) or np.all(np.diff(fit.history) <= 1e-13)


def test_ridge_is_finite_on_separated_and_collinear_data():
    rng = np.random.default_rng(1)
    x = rng.standard_normal(60)
    X = np.column_stack([np.ones(60), x, x])  # duplicated column
    y = (x > 0).astype(float)  # complete separation
    fit = penalized_fit(DenseRows(X, y), get_family("binomial"), alpha=0.01, intercept_index=0)
    assert fit.converged and np.all(np.isfinite(fit.coef))
    assert fit.coef[1] == pytest.approx(fit.coef[2], rel=1e-10)  # the penalty splits evenly
    assert np.all(np.isfinite(fit.cov_unscaled))
    # the covariance is the inverse penalized Hessian of deviance / 2
    Hp = fit.xtwx + np.diag([0.0, 1.0, 1.0]) * 60 * 0.01
    np.testing.assert_allclose(fit.cov_unscaled @ Hp, np.eye(3), atol=1e-8)
    lasso = penalized_fit(
        DenseRows(X, y), get_family("binomial"), alpha=0.01, l1_ratio=1.0, intercept_index=0
    )
    assert np.all(np.isfinite(lasso.coef)) and np.all(np.isnan(lasso.cov_unscaled))


def test_standardize_is_a_rescaling():
    X, y = random_logit(2, scale=3.0)
    X[:, 3] *= 20.0
    fam = get_family("binomial")
    a = penalized_fit(
        DenseRows(X, y), fam, alpha=0.02, l1_ratio=0.7, standardize=True, intercept_index=0
    )
    m, s = X[:, 1:].mean(axis=0), X[:, 1:].std(axis=0)
    Z = np.column_stack([np.ones(len(y)), (X[:, 1:] - m) / s])
    b = penalized_fit(DenseRows(Z, y), fam, alpha=0.02, l1_ratio=0.7, intercept_index=0, tol=1e-14)
    back = np.r_[b.coef[0] - np.sum(b.coef[1:] * m / s), b.coef[1:] / s]
    np.testing.assert_allclose(a.coef, back, rtol=1e-6, atol=1e-8)


def test_scikit_learn_l2_and_l1():
    sk = pytest.importorskip("sklearn.linear_model")
    X, y = random_logit(3, n=300, p=5)
    n, alpha = len(y), 0.01
    rows, fam = DenseRows(X, y), get_family("binomial")
    ours = penalized_fit(rows, fam, alpha=alpha, l1_ratio=0.0, intercept_index=0, tol=1e-16)
    # sklearn: C sum(log-loss) + |b|^2 / 2, intercept unpenalized: C = 1 / (n alpha)
    m = sk.LogisticRegression(C=1 / (n * alpha), tol=1e-12, max_iter=10_000).fit(X[:, 1:], y)
    np.testing.assert_allclose(ours.coef, np.r_[m.intercept_, m.coef_.ravel()], rtol=1e-5)
    ours = penalized_fit(rows, fam, alpha=alpha, l1_ratio=1.0, intercept_index=0, tol=1e-16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # saga's own convergence chatter
        m = sk.LogisticRegression(
            C=1 / (n * alpha), l1_ratio=1.0, solver="saga", tol=1e-12, max_iter=200_000
        ).fit(X[:, 1:], y)
    np.testing.assert_allclose(
        ours.coef, np.r_[m.intercept_, m.coef_.ravel()], rtol=1e-5, atol=1e-7
    )


def test_glum_elastic_net_poisson():
    glum = pytest.importorskip("glum")
    rng = np.random.default_rng(4)
    n = 500
    X = np.column_stack([np.ones(n), rng.standard_normal((n, 5))])
    y = rng.poisson(np.exp(0.3 + X[:, 1:] @ np.array([0.4, -0.2, 0.0, 0.1, 0.0]))).astype(float)
    w = rng.uniform(0.5, 2.0, n)
    fam = get_family("poisson")
    ours = penalized_fit(
        DenseRows(X, y, w), fam, alpha=0.03, l1_ratio=0.4, intercept_index=0, tol=1e-16
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = glum.GeneralizedLinearRegressor(
            family="poisson", alpha=0.03, l1_ratio=0.4, gradient_tol=1e-12
        ).fit(np.ascontiguousarray(X[:, 1:]), y, sample_weight=w)
    np.testing.assert_allclose(ours.coef, np.r_[m.intercept_, m.coef_], rtol=1e-5, atol=1e-8)


def test_path_api_formula_sparse_and_monotone_support():
    df = pd.read_csv(REF / "data" / "birthwt.csv")
    f = "low ~ age + lwt + smoke + ptl + ht + ui + ftv"
    path = glm_path(f, df, n_alphas=30, progress=False)
    assert list(path.coefs.columns)[0] == "Intercept"
    assert path.n_nonzero[0] == 0 and path.n_nonzero[-1] == 7
    assert np.sum(np.diff(path.n_nonzero) < 0) <= 2  # roughly monotone
    assert np.all(np.diff(path.deviance) <= 1e-9)  # less penalty, better fit
    X = df[["age", "lwt", "smoke", "ptl", "ht", "ui", "ftv"]].to_numpy(float)
    arr = glm_path(X, df["low"].to_numpy(float), alphas=path.alphas, progress=False)
    np.testing.assert_allclose(arr.coefs.to_numpy(), path.coefs.to_numpy(), atol=1e-7)
    sp_ = pytest.importorskip("scipy.sparse")
    rows = SparseRows(
        sp_.csr_matrix(np.column_stack([np.ones(len(X)), X])), df["low"].to_numpy(float)
    )
    sp_path = penalized_path(rows, get_family("binomial"), alphas=path.alphas, intercept_index=0)
    np.testing.assert_allclose(sp_path.coefs, path.coefs.to_numpy(), atol=1e-7)
    pfd = glm_path(f, df, alphas=path.alphas[:5], penalty_factor={"ht": 0.0}, progress=False)
    assert np.all(pfd.coefs["ht"] != 0)  # unpenalized
    assert path.coef(path.alphas[3]).equals(path.coefs.iloc[3])
    with pytest.raises(Exception, match="not on the path"):
        path.coef(123.0)


def test_cv_is_reproducible():
    df = pd.read_csv(REF / "data" / "birthwt.csv")
    f = "low ~ age + lwt + smoke + ptl + ht + ui + ftv"
    a = glm_cv(f, df, folds=5, seed=3, n_alphas=25, progress=False)
    b = glm_cv(f, df, folds=5, seed=3, n_alphas=25, progress=False)
    c = glm_cv(f, df, folds=5, seed=4, n_alphas=25, progress=False)
    np.testing.assert_array_equal(a.cv_mean, b.cv_mean)
    assert a.alpha_min == b.alpha_min and a.alpha_1se >= a.alpha_min
    assert not np.array_equal(a.folds, c.folds)
    assert a.cv_mean[a.index_min] == a.cv_mean.min()
    np.testing.assert_allclose(a.coef_min.to_numpy(), a.path.coefs.iloc[a.index_min], atol=1e-6)
    assert np.bincount(a.folds).min() >= len(df) // 5


def test_progress_line(capsys, monkeypatch):
    import glmlogit.path as gp

    monkeypatch.setitem(__import__("sys").modules, "tqdm", None)  # force the plain line
    bar = gp._Progress(3, "glm_path", True, delay=0.0)
    for _ in range(3):
        bar.advance()
    bar.close()
    assert "glm_path: 3/3" in capsys.readouterr().err
    df = pd.read_csv(REF / "data" / "birthwt.csv")
    glm_path("low ~ age + smoke", df, n_alphas=5, progress=False)
    assert capsys.readouterr().err == ""


def test_bad_penalty_arguments():
    X, y = random_logit(5)
    rows, fam = DenseRows(X, y), get_family("binomial")
    with pytest.raises(FitError, match="l1_ratio"):
        penalized_fit(rows, fam, alpha=0.1, l1_ratio=1.5, intercept_index=0)
    with pytest.raises(FitError, match="penalty_factor"):
        penalized_fit(rows, fam, alpha=0.1, penalty_factor=[1, 2], intercept_index=0)
    with pytest.raises(FitError, match="alpha"):
        penalized_fit(rows, fam, alpha=-1.0, intercept_index=0)


@pytest.mark.parametrize("name", ["insurance_lasso", "birthwt_enet", "birthwt_ridge"])
def test_df_counts_nonzero_coefficients_as_glmnet(name):
    """Degrees of freedom of a lasso / elastic-net fit: glmnet's df, the number of nonzero
    coefficients (here read off glmnet's own solution at that lambda), plus the intercept; AIC
    and df_resid follow.  A ridge fit keeps every column."""
    c, rows, fam, pf = load_glmnet(name)
    X = rows.X
    dfs = (np.array(c["coefs"])[:, 1:] != 0).sum(axis=1)
    mid = np.flatnonzero((dfs > 0) & (dfs < X.shape[1] - 1))  # some held at 0, some not
    k = int(mid[len(mid) // 2]) if c["l1_ratio"] > 0 else 12
    glmnet_df = int(dfs[k])
    res = gl.GLM(rows.y, X, family=c["family"], weights=rows.weights, offset=rows.offset).fit(
        penalty={1.0: "l1", 0.0: "l2"}.get(c["l1_ratio"], "elasticnet"),
        alpha=c["alphas"][k],
        l1_ratio=c["l1_ratio"],
        penalty_factor=pf,
        standardize=c["standardize"],
    )
    nonzero = int(np.sum(res.params.to_numpy()[1:] != 0))
    if c["l1_ratio"] > 0:
        assert 0 < glmnet_df < X.shape[1] - 1  # some coefficients held at 0 by the penalty
        assert res.df_model == nonzero == glmnet_df
    else:
        assert res.df_model == X.shape[1] - 1
    assert res.df_resid == res.nobs - res.df_model - 1
    np.testing.assert_allclose(res.aic, -2 * res.llf + 2 * (res.df_model + 1), rtol=1e-14)
