"""Live comparison with ``statsmodels.api.GLM``.

The array interface is used, so the design columns are the same on both sides.  statsmodels is
fitted with a tight stopping rule (``SM_TOL``) so that its numbers are the exact MLE, and with
``use_t=True`` for families whose dispersion is estimated, because R's ``summary.glm`` (which
glmlogit follows) uses t(df_resid) there, while statsmodels' default is the normal.

Where R and statsmodels use different conventions, glmlogit follows R; each such place compares
on the convention the two share and says why:

* prior weights: R's ``weights=`` is statsmodels' ``var_weights=`` (not ``freq_weights=``, which
  also changes ``nobs``/``df_resid``).
* binomial proportions with trials: statsmodels reproduces R in full with a two-column
  ``(successes, failures)`` response; with ``var_weights=trials`` it reproduces coefficients,
  SEs and deviance but not the log-likelihood (it drops log C(m, k)).  With the two-column
  response its ``resid_response`` is multiplied by the trials and ``resid_working`` by the
  trials squared; glmlogit's are on R's proportion scale.
* llf: statsmodels evaluates gaussian (non-identity) / Gamma / inverse Gaussian likelihoods at
  the Pearson scale; R uses the ML dispersion deviance / sum(weights) (Gamma and inverse
  Gaussian treat the prior weights as replicate weights of the density).  We compare with
  statsmodels' ``llf_scaled(scale=deviance / n)`` for gaussian and with scipy's densities at R's
  dispersion for Gamma / inverse Gaussian.
* AIC: statsmodels counts no dispersion parameter; R (and glmlogit) do for estimated-scale
  families.  statsmodels' ``aic`` is compared for binomial and poisson only.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from glm_combos import COMBOS
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy import special, stats
from statsmodels.tools.sm_exceptions import DomainWarning

import glmlogit as gl

# --- tolerances ---------------------------------------------------------------------------
COEF_RTOL = (
    1e-8  # project target for coefficients; plus an absolute COEF_RTOL * SE for coefficients near 0
)
SE_RTOL = 1e-7  # project target for standard errors (and statistics built from the covariance)
STAT_RTOL = 1e-8  # project target for deviance, llf, AIC, Pearson chi2, scale
VEC_RTOL = (
    1e-8  # per-observation values, relative to the vector's largest |value| (residuals cross zero)
)
LOGP_ATOL = (
    1e-6  # log p-values: z agrees to ~1e-8 relative and d(log p)/dz ~ -z amplifies it by z^2 <~ 100
)
EXACT_RTOL = 1e-12  # identities that hold to rounding on the same numbers
SM_TOL = (
    1e-13  # statsmodels' stopping rule (absolute deviance change): makes its answer the exact MLE
)

L = sm.families.links
SM_FAMILY = {
    "binomial": sm.families.Binomial,
    "poisson": sm.families.Poisson,
    "gaussian": sm.families.Gaussian,
    "gamma": sm.families.Gamma,
    "inverse_gaussian": sm.families.InverseGaussian,
}
SM_LINK = {
    "logit": L.Logit,
    "probit": L.Probit,
    "cloglog": L.CLogLog,
    "cauchit": L.Cauchy,
    "log": L.Log,
    "identity": L.Identity,
    "sqrt": L.Sqrt,
    "inverse": L.InversePower,
    "inverse_squared": L.InverseSquared,
}
FIXED_SCALE = {"binomial", "poisson"}

VARIANTS = ("plain", "weights", "offset")
CASES = [(f, lk, v) for (f, lk) in COMBOS for v in VARIANTS]
CASE_IDS = [f"{f}-{lk}-{v}" for f, lk, v in CASES]


def simulate(family: str, link: str, rng: np.random.Generator, n: int = 200):
    """Two covariates on [0, 1]; y drawn from the family with a mean well inside the domain."""
    x1, x2 = rng.uniform(0, 1, n), rng.uniform(0, 1, n)
    X = np.column_stack([np.ones(n), x1, x2])
    if family == "binomial":
        eta = {
            "logit": -0.5 + 1.5 * x1 - x2,
            "probit": -0.3 + 0.9 * x1 - 0.6 * x2,
            "cloglog": -0.8 + x1 - 0.7 * x2,
            "cauchit": -0.4 + 1.2 * x1 - 0.8 * x2,
        }[link]
        mu = {
            "logit": special.expit,
            "probit": stats.norm.cdf,
            "cloglog": lambda e: -np.expm1(-np.exp(e)),
            "cauchit": lambda e: 0.5 + np.arctan(e) / np.pi,
        }[link](eta)
        y = rng.binomial(1, mu).astype(float)
    elif family == "poisson":
        mu = {
            "log": np.exp(0.5 + x1 - 0.5 * x2),
            "identity": 2 + 3 * x1 + x2,
            "sqrt": (1.2 + x1 + 0.5 * x2) ** 2,
        }[link]
        y = rng.poisson(mu).astype(float)
    elif family == "gaussian":
        mu = {
            "identity": 1 + 2 * x1 - x2,
            "log": np.exp(1 + 0.5 * x1 - 0.3 * x2),
            "inverse": 1 / (0.3 + 0.4 * x1 + 0.2 * x2),
        }[link]
        y = mu + rng.normal(0, 0.3, n)
    elif family == "gamma":
        mu = {
            "inverse": 1 / (0.5 + 0.8 * x1 + 0.3 * x2),
            "log": np.exp(0.5 + x1 - 0.5 * x2),
            "identity": 1 + 2 * x1 + x2,
        }[link]
        y = rng.gamma(5.0, mu / 5.0)
    else:
        mu = {
            "inverse_squared": 1 / np.sqrt(0.5 + 0.8 * x1 + 0.3 * x2),
            "log": np.exp(0.2 + 0.5 * x1 - 0.3 * x2),
        }[link]
        y = rng.wald(mu, 10.0)
    return y, X


@dataclass
class Case:
    family: str
    link: str
    variant: str
    y: np.ndarray
    X: np.ndarray
    w: np.ndarray | None
    off: np.ndarray | None
    ours: gl.GLMResults
    ref: object  # statsmodels results, use_t as R
    Xnew: np.ndarray
    off_new: np.ndarray | None

    @property
    def wt(self) -> np.ndarray:
        return np.ones(len(self.y)) if self.w is None else self.w


def sm_glm(y, X, family, link, **kw):
    with warnings.catch_warnings():
        # statsmodels warns that identity/sqrt/inverse links may leave the family's domain;
        # the data here are chosen so that they do not.
        warnings.simplefilter("ignore", DomainWarning)
        return sm.GLM(y, X, family=SM_FAMILY[family](SM_LINK[link]()), **kw)


def sm_fit(model, use_t: bool):
    res = model.fit(tol=SM_TOL, maxiter=1000, use_t=use_t)
    assert res.converged
    return res


@functools.cache
def case(family: str, link: str, variant: str) -> Case:
    seed = CASES.index((family, link, variant)) + 1000
    rng = np.random.default_rng(seed)
    y, X = simulate(family, link, rng)
    n = len(y)
    w = rng.integers(1, 5, n).astype(float) if variant == "weights" else None
    off = rng.uniform(0.0, 0.2, n) if variant == "offset" else None
    ours = gl.GLM(y, X, family=family, link=link, weights=w, offset=off).fit()
    kw = {}
    if w is not None:
        kw["var_weights"] = w
    if off is not None:
        kw["offset"] = off
    ref = sm_fit(sm_glm(y, X, family, link, **kw), use_t=family not in FIXED_SCALE)
    Xnew = X[:7] * 0.9 + np.r_[0.1, 0.05, 0.05]
    off_new = None if off is None else off[:7]
    return Case(family, link, variant, y, X, w, off, ours, ref, Xnew, off_new)


@pytest.fixture(params=CASES, ids=CASE_IDS)
def c(request) -> Case:
    return case(*request.param)


def assert_close_scaled(ours, ref, size, rtol, what=""):
    """|ours - ref| <= rtol * size, elementwise (size: |ref| + SE for coefficients)."""
    ours, ref = np.asarray(ours, dtype=float), np.asarray(ref, dtype=float)
    err = np.abs(ours - ref) / np.asarray(size, dtype=float)
    assert np.all(err <= rtol), (
        f"{what} max scaled error {np.max(err):.3g} > {rtol:g}\n{ours}\n{ref}"
    )


def assert_coef(ours, ref, se, rtol=COEF_RTOL):
    assert_close_scaled(ours, ref, np.abs(np.asarray(ref)) + np.asarray(se), rtol, "coef")


def assert_vec(ours, ref, rtol=VEC_RTOL):
    ref = np.asarray(ref, dtype=float)
    np.testing.assert_allclose(
        np.asarray(ours, dtype=float), ref, rtol=rtol, atol=rtol * np.max(np.abs(ref))
    )


def assert_logp(ours, ref):
    np.testing.assert_allclose(
        np.log(np.asarray(ours)), np.log(np.asarray(ref)), rtol=0, atol=LOGP_ATOL
    )


# --- coefficient level ----------------------------------------------------------------------
def test_params(c):
    assert c.ours.converged
    assert_coef(c.ours.params, c.ref.params, c.ref.bse)


def test_bse(c):
    np.testing.assert_allclose(c.ours.bse, c.ref.bse, rtol=SE_RTOL)


def test_tvalues(c):
    np.testing.assert_allclose(c.ours.tvalues, c.ref.tvalues, rtol=SE_RTOL, atol=SE_RTOL)


def test_pvalues(c):
    assert_logp(c.ours.pvalues, c.ref.pvalues)


def test_cov_params(c):
    V = np.asarray(c.ref.cov_params())
    size = np.sqrt(np.outer(np.diag(V), np.diag(V)))  # covariances relative to se_i se_j
    assert_close_scaled(c.ours.cov_params().to_numpy(), V, size, SE_RTOL, "cov")


def test_conf_int(c):
    # Fixed scale: both use the normal quantile.  Estimated scale: glmlogit uses t(df_resid) as R;
    # statsmodels does so only with use_t=True (the reference here), its default is the normal.
    ours, ref = c.ours.conf_int(), np.asarray(c.ref.conf_int())
    size = np.abs(np.asarray(c.ref.params))[:, None] + np.asarray(c.ref.bse)[:, None]
    assert list(ours.columns) == ["lower", "upper"]
    assert_close_scaled(ours.to_numpy(), ref, size, SE_RTOL, "conf_int")


# --- model level ----------------------------------------------------------------------------
def test_deviance(c):
    np.testing.assert_allclose(c.ours.deviance, c.ref.deviance, rtol=STAT_RTOL)


def test_null_deviance(c):
    # With an offset both refit the intercept-only model with the offset, as R.
    np.testing.assert_allclose(c.ours.null_deviance, c.ref.null_deviance, rtol=STAT_RTOL)


def test_pearson_chi2_and_scale(c):
    np.testing.assert_allclose(c.ours.pearson_chi2, c.ref.pearson_chi2, rtol=STAT_RTOL)
    np.testing.assert_allclose(c.ours.scale, c.ref.scale, rtol=STAT_RTOL)
    assert c.ours.df_resid == c.ref.df_resid
    assert c.ours.df_model == c.ref.df_model
    assert c.ours.nobs == c.ref.nobs


def r_llf(c: Case) -> float:
    """The log-likelihood on R's convention, from statsmodels' fitted means."""
    mu, wt, y = np.asarray(c.ref.mu), c.wt, c.y
    dev = float(c.ref.deviance)
    if c.family in FIXED_SCALE:
        return float(c.ref.llf)  # both: sum of prior-weighted log densities
    if c.family == "gaussian":
        # statsmodels' llf for gaussian/identity is the concentrated one (scale = dev / n) as R's;
        # for other links it uses the Pearson scale, so evaluate it at R's ML scale instead.
        return float(c.ref.llf_scaled(scale=dev / len(y)))
    disp = dev / np.sum(wt)  # R's Gamma()$aic / inverse.gaussian()$aic dispersion
    if c.family == "gamma":
        return float(np.sum(wt * stats.gamma.logpdf(y, a=1 / disp, scale=mu * disp)))
    lam = 1 / disp
    return float(np.sum(wt * stats.invgauss.logpdf(y, mu / lam, scale=lam)))


def test_llf(c):
    np.testing.assert_allclose(c.ours.llf, r_llf(c), rtol=STAT_RTOL)
    if c.family in ("gamma", "inverse_gaussian") and c.w is None:
        # Without prior weights statsmodels' own density at R's dispersion is the same number.
        disp = float(c.ref.deviance) / len(c.y)
        np.testing.assert_allclose(c.ours.llf, c.ref.llf_scaled(scale=disp), rtol=STAT_RTOL)


def test_aic(c):
    if c.family in FIXED_SCALE:
        np.testing.assert_allclose(c.ours.aic, c.ref.aic, rtol=STAT_RTOL)
    else:  # R counts the dispersion as a parameter; statsmodels' aic does not.
        k = c.X.shape[1] + 1
        np.testing.assert_allclose(c.ours.aic, -2 * r_llf(c) + 2 * k, rtol=STAT_RTOL)


# --- per observation ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name", ["fittedvalues", "resid_response", "resid_pearson", "resid_deviance", "resid_working"]
)
def test_per_observation(c, name):
    assert_vec(getattr(c.ours, name), getattr(c.ref, name))


# --- prediction -----------------------------------------------------------------------------
def test_get_prediction(c):
    ours = c.ours.get_prediction(c.Xnew, offset=c.off_new).summary_frame()
    with np.errstate(
        divide="ignore"
    ):  # statsmodels probes its link's inverse at 0 (1/0 for power links)
        ref = c.ref.get_prediction(c.Xnew, offset=c.off_new).summary_frame()
    # statsmodels does not order the transformed limits for the decreasing "1/mu^2" link
    # (its mean_ci_lower is then the larger one); glmlogit reports lower <= upper.
    lo = np.minimum(ref["mean_ci_lower"], ref["mean_ci_upper"])
    hi = np.maximum(ref["mean_ci_lower"], ref["mean_ci_upper"])
    for col, want in [
        ("mean", ref["mean"]),
        ("mean_se", ref["mean_se"]),
        ("mean_ci_lower", lo),
        ("mean_ci_upper", hi),
    ]:
        np.testing.assert_allclose(ours[col], want, rtol=SE_RTOL, err_msg=col)
    assert np.all(ours["mean_ci_lower"] < ours["mean"]) and np.all(
        ours["mean"] < ours["mean_ci_upper"]
    )
    np.testing.assert_allclose(
        c.ours.predict(c.Xnew, offset=c.off_new),
        c.ref.predict(c.Xnew, offset=c.off_new),
        rtol=COEF_RTOL,
    )
    np.testing.assert_allclose(
        c.ours.predict(c.Xnew, which="linear", offset=c.off_new),
        c.ref.predict(c.Xnew, offset=c.off_new, which="linear"),
        rtol=COEF_RTOL,
    )


# --- tests ----------------------------------------------------------------------------------
def test_wald_test(c):
    # Joint test of both slopes, and a contrast between them.  statsmodels gives chi2 when its
    # use_t is False (fixed scale) and F = W / r on (r, df_resid) when True, as glmlogit.
    for R in (np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]), np.array([[0.0, 1.0, -1.0]])):
        ours = c.ours.wald_test(R)
        ref = c.ref.wald_test(R, scalar=True)
        np.testing.assert_allclose(ours.statistic, ref.statistic, rtol=SE_RTOL)
        assert_logp(ours.pvalue, ref.pvalue)
        assert ours.df == R.shape[0]
        assert ours.distribution == ("chi2" if c.family in FIXED_SCALE else "F")


@pytest.mark.parametrize("family,link", [("gamma", "log"), ("gaussian", "log")])
def test_estimated_scale_uses_t_not_statsmodels_default_normal(family, link):
    c = case(family, link, "plain")
    default = sm_fit(sm_glm(c.y, c.X, family, link), use_t=False)  # statsmodels' default: normal
    np.testing.assert_allclose(c.ours.tvalues, default.tvalues, rtol=SE_RTOL)
    t_p = 2 * stats.t.sf(np.abs(default.tvalues), default.df_resid)
    assert_logp(c.ours.pvalues, t_p)
    # t(df) tails are heavier than the normal: every p-value (and interval) is larger than the default.
    assert np.all(c.ours.pvalues.to_numpy() > default.pvalues)
    q = stats.t.ppf(0.975, default.df_resid) / stats.norm.ppf(0.975)
    width, width_sm = np.diff(c.ours.conf_int().to_numpy()), np.diff(np.asarray(default.conf_int()))
    np.testing.assert_allclose(width, width_sm * q, rtol=SE_RTOL)


# --- binomial proportions with trials -------------------------------------------------------
@functools.cache
def trials_case():
    rng = np.random.default_rng(7)
    n = 80
    x1, x2 = rng.uniform(0, 1, n), rng.normal(size=n)
    X = np.column_stack([np.ones(n), x1, x2])
    m = rng.integers(1, 12, n).astype(float)
    k = rng.binomial(m.astype(int), special.expit(-0.3 + x1 - 0.5 * x2)).astype(float)
    ours = gl.GLM(k / m, X, family="binomial", weights=m).fit()
    two_col = sm_fit(sm.GLM(np.column_stack([k, m - k]), X, family=sm.families.Binomial()), False)
    var_w = sm_fit(sm.GLM(k / m, X, family=sm.families.Binomial(), var_weights=m), False)
    return k, m, ours, two_col, var_w


@pytest.mark.parametrize("which", ["two_col", "var_weights"])
def test_binomial_trials_coefficients(which):
    _, _, ours, two_col, var_w = trials_case()
    ref = two_col if which == "two_col" else var_w
    assert_coef(ours.params, ref.params, ref.bse)
    np.testing.assert_allclose(ours.bse, ref.bse, rtol=SE_RTOL)
    assert_logp(ours.pvalues, ref.pvalues)
    for name in ("deviance", "null_deviance", "pearson_chi2"):
        np.testing.assert_allclose(
            getattr(ours, name), getattr(ref, name), rtol=STAT_RTOL, err_msg=name
        )
    for name in ("fittedvalues", "resid_pearson", "resid_deviance"):
        assert_vec(getattr(ours, name), getattr(ref, name))


def test_binomial_trials_llf_and_aic_match_two_column_response():
    k, m, ours, two_col, var_w = trials_case()
    np.testing.assert_allclose(ours.llf, two_col.llf, rtol=STAT_RTOL)
    np.testing.assert_allclose(ours.aic, two_col.aic, rtol=STAT_RTOL)
    np.testing.assert_allclose(ours.llnull, two_col.llnull, rtol=STAT_RTOL)
    # var_weights=trials evaluates the Bernoulli density at the proportion, times the trials: it
    # lacks R's log C(m, k) and adds m (log G(y + 1) + log G(2 - y)), y = k / m.
    y = k / m
    gap = np.sum(
        special.gammaln(m + 1)
        - special.gammaln(k + 1)
        - special.gammaln(m - k + 1)
        + m * (special.gammaln(y + 1) + special.gammaln(2 - y))
    )
    np.testing.assert_allclose(ours.llf - var_w.llf, gap, rtol=STAT_RTOL)


def test_binomial_trials_residual_scale_quirk():
    # statsmodels' two-column response multiplies resid_response by the trials and resid_working
    # by the trials squared; glmlogit's are on R's proportion scale, as var_weights=trials gives.
    _, m, ours, two_col, var_w = trials_case()
    assert_vec(ours.resid_response, var_w.resid_response)
    assert_vec(ours.resid_working, var_w.resid_working)
    assert_vec(m * ours.resid_response, two_col.resid_response)
    assert_vec(m * m * ours.resid_working, two_col.resid_working)


# --- formula interface, matched by column name ----------------------------------------------
def test_formula_with_categorical_and_offset_by_name():
    rng = np.random.default_rng(11)
    n = 300
    df = pd.DataFrame(
        {"x": rng.normal(size=n), "g": rng.choice(["a", "b", "c"], n), "expo": rng.uniform(1, 3, n)}
    )
    df["log_e"] = np.log(df["expo"])
    mu = df["expo"] * np.exp(0.3 + 0.4 * df["x"] + 0.5 * (df["g"] == "b"))
    df["y"] = rng.poisson(mu)
    ours = gl.glm("y ~ x + C(g)", df, family="poisson", offset="log_e")
    ref = smf.glm("y ~ x + C(g)", df, family=sm.families.Poisson(), offset=df["log_e"]).fit(
        tol=SM_TOL
    )
    assert set(ours.params.index) == set(ref.params.index)
    names = list(ours.params.index)
    assert_coef(ours.params, ref.params[names], ref.bse[names])
    np.testing.assert_allclose(ours.bse, ref.bse[names], rtol=SE_RTOL)
    np.testing.assert_allclose(ours.deviance, ref.deviance, rtol=STAT_RTOL)
    np.testing.assert_allclose(ours.llf, ref.llf, rtol=STAT_RTOL)
    new = df.head(5)
    np.testing.assert_allclose(
        ours.predict(new), ref.predict(new, offset=new["log_e"]), rtol=COEF_RTOL
    )


# --- random data sets -----------------------------------------------------------------------
def random_design(seed, n, p, coef_scale):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.normal(size=(n, p))])
    beta = np.r_[rng.uniform(-1, 1), rng.uniform(-coef_scale, coef_scale, p) / np.sqrt(p)]
    return rng, X, beta


_hyp = settings(
    max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@_hyp
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(60, 400),
    p=st.integers(1, 5),
    coef_scale=st.floats(0.0, 1.5),
)
def test_random_logit(seed, n, p, coef_scale):
    rng, X, beta = random_design(seed, n, p, coef_scale)
    y = rng.binomial(1, special.expit(X @ beta)).astype(float)
    assume(min(y.sum(), n - y.sum()) >= 5 * (p + 1))  # well-posed: no separation in practice
    ref = sm_fit(sm.GLM(y, X, family=sm.families.Binomial()), False)
    ours = gl.GLM(y, X, family="binomial").fit()
    assert_coef(ours.params, ref.params, ref.bse)
    np.testing.assert_allclose(ours.bse, ref.bse, rtol=SE_RTOL)
    np.testing.assert_allclose(ours.deviance, ref.deviance, rtol=STAT_RTOL)


@_hyp
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(30, 400),
    p=st.integers(1, 5),
    coef_scale=st.floats(0.0, 1.0),
    with_offset=st.booleans(),
)
def test_random_poisson(seed, n, p, coef_scale, with_offset):
    rng, X, beta = random_design(seed, n, p, coef_scale)
    off = rng.uniform(-0.5, 0.5, n) if with_offset else None
    y = rng.poisson(np.exp(X @ beta + (0 if off is None else off))).astype(float)
    assume(np.count_nonzero(y) >= 3 * (p + 1))  # enough non-zero counts for a finite MLE
    ref = sm_fit(sm.GLM(y, X, family=sm.families.Poisson(), offset=off), False)
    ours = gl.GLM(y, X, family="poisson", offset=off).fit()
    assert_coef(ours.params, ref.params, ref.bse)
    np.testing.assert_allclose(ours.bse, ref.bse, rtol=SE_RTOL)
    np.testing.assert_allclose(ours.deviance, ref.deviance, rtol=STAT_RTOL)
