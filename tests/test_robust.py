"""Sandwich covariances (glmlogit.robust) against R's sandwich package and live statsmodels.

References: tests/reference/make_robust.R (R 4.2.2, sandwich 3.0.2), every fit refitted to its
fixed point, numbers at full precision.  Tolerance SE_RTOL = 1e-7 (the project's target for
covariances): diagonals relative, off-diagonals relative to sqrt(V_ii V_jj) (a covariance crossing
zero has no relative precision of its own).  Observed: <= 1e-9 everywhere (clotting_gamma_log,
n = 9, Gamma with a log link, is the worst; most cases ~1e-12).

Conventions (module docstring of glmlogit.robust):
* HC0-HC3 = ``vcovHC(fit, type=)``; cluster ``"r"`` = ``vcovCL(fit, cluster=)`` (glm default: type
  HC0, G/(G-1)); ``"stata"`` = ``vcovCL(type="HC1")`` = statsmodels' cluster; ``None`` =
  ``vcovCL(type="HC0", cadjust=FALSE)``.
* Zero prior weights: rows dropped; equals sandwich on the fit without those rows (sandwich on
  the full fit is off by (n_nonzero / n_all)^2, test_zero_weight_rows documents it).

statsmodels 0.15, compared live, agrees where its conventions are R's:
* ``GLM.fit(cov_type="HC0")`` and ``cov_type="cluster"`` equal R's HC0 and vcovCL(type="HC1") for
  canonical links (logit, log-poisson, gaussian identity), prior weights as ``var_weights``.
* For non-canonical links (probit, Gamma-log) statsmodels' bread is the inverse *observed*
  information (``GLM.hessian``'s default), R's the expected one, ``(X'WX)^-1``; they differ by
  O(1%).  Compared instead: statsmodels' own sandwich functions with the expected information.
* ``cov_type="HC1" | "HC2" | "HC3"`` on a GLM: statsmodels 0.15 returns the HC0 matrix (its
  score/hessian sandwich has no leverage or df corrections for GLM), so it is not compared.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from robust_reference import CASES, REF, _arr, args, load
from statsmodels.stats import sandwich_covariance as smsw
from statsmodels.tools.sm_exceptions import SpecificationWarning

import glmlogit as gl
from glmlogit.errors import GlmlogitError, GlmlogitWarning
from glmlogit.robust import sandwich_cov

SE_RTOL = 1e-7
COEF_RTOL = 1e-8
CANONICAL = ["birthwt_logit", "birthwt_weights", "insurance_poisson_offset", "mtcars_gaussian"]
NONCANONICAL = ["menarche_probit", "clotting_gamma_log"]


def assert_cov_close(got, ref, rtol=SE_RTOL, msg=""):
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref), err_msg=f"NaN pattern {msg}")
    ok = ~np.isnan(ref)
    dg = np.sqrt(np.abs(np.diag(ref)))
    scaled = np.abs(got - ref) / np.outer(dg, dg)
    assert np.all(scaled[ok] <= rtol), f"{msg}: max scaled difference {np.nanmax(scaled):.3g}"
    np.testing.assert_allclose(np.diag(got), np.diag(ref), rtol=rtol, equal_nan=True, err_msg=msg)


@pytest.mark.parametrize("name", CASES)
def test_fit_matches_reference(name):
    case, res = load(name)
    np.testing.assert_array_equal(res._fit.aliased, np.array(case["aliased"]))
    np.testing.assert_allclose(res._fit.coef, _arr(case["params"]), rtol=COEF_RTOL, equal_nan=True)


@pytest.mark.parametrize("kind", ["HC0", "HC1", "HC2", "HC3"])
@pytest.mark.parametrize("name", CASES)
def test_vcovHC(name, kind):
    case, res = load(name)
    assert_cov_close(
        sandwich_cov(*args(res), kind=kind), _arr(case[f"vcovHC_{kind}"]), msg=f"{name} {kind}"
    )


@pytest.mark.parametrize(
    "correction,key", [("r", "vcovCL_r"), ("stata", "vcovCL_stata"), (None, "vcovCL_none")]
)
@pytest.mark.parametrize("name", CASES)
def test_vcovCL(name, correction, key):
    case, res = load(name)
    V = sandwich_cov(*args(res), groups=np.array(case["cluster"]), cluster_correction=correction)
    assert_cov_close(V, _arr(case[key]), msg=f"{name} {key}")


def test_default_cluster_correction_is_stata():
    case, res = load("birthwt_logit")
    g = np.array(case["cluster"])
    np.testing.assert_array_equal(
        sandwich_cov(*args(res), groups=g),
        sandwich_cov(*args(res), groups=g, cluster_correction="stata"),
    )


def test_cluster_corrections_are_the_stated_factors():
    case, res = load("insurance_poisson_offset")
    g = np.array(case["cluster"])
    n, k, G = len(g), int((~res._fit.aliased).sum()), len(set(g))
    V0 = sandwich_cov(*args(res), groups=g, cluster_correction=None)
    np.testing.assert_allclose(
        sandwich_cov(*args(res), groups=g, cluster_correction="r"), V0 * G / (G - 1), rtol=1e-14
    )
    np.testing.assert_allclose(
        sandwich_cov(*args(res), groups=g, cluster_correction="stata"),
        V0 * G / (G - 1) * (n - 1) / (n - k),
        rtol=1e-14,
    )


def test_singleton_clusters_without_correction_equal_HC0():
    _, res = load("birthwt_logit")
    n = len(res.design.y)
    np.testing.assert_allclose(
        sandwich_cov(*args(res), groups=np.arange(n), cluster_correction=None),
        sandwich_cov(*args(res), kind="HC0"),
        rtol=1e-12,
    )


def test_cluster_labels_any_hashable():
    case, res = load("birthwt_logit")
    g = np.array(case["cluster"])
    V = sandwich_cov(*args(res), groups=g)
    labels = np.array([f"site-{x:02d}" for x in g])
    np.testing.assert_allclose(sandwich_cov(*args(res), groups=labels), V, rtol=1e-13)
    np.testing.assert_allclose(
        sandwich_cov(*args(res), groups=pd.Series(labels, index=np.arange(len(g)) + 100)),
        V,
        rtol=1e-13,
    )
    np.testing.assert_allclose(sandwich_cov(*args(res), groups=list(g + 0.5)), V, rtol=1e-13)


def test_aliased_rows_and_columns_are_nan():
    _, res = load("birthwt_aliased")
    al = res._fit.aliased
    assert al.any()
    for kind in ["HC0", "HC3"]:
        V = sandwich_cov(*args(res), kind=kind)
        assert np.all(np.isnan(V[al])) and np.all(np.isnan(V[:, al]))
        assert not np.isnan(V[np.ix_(~al, ~al)]).any()


def test_zero_weight_rows():
    """Zero-weight rows are dropped: equal to the fit without them.  R's sandwich on the full fit
    is that times (n_nonzero / n_all)^2 (bread and meat count different n)."""
    case, res = load("birthwt_zero_weights")
    w = res.design.weights
    keep = w > 0
    assert (~keep).sum() == 18
    df = pd.read_csv(REF / "data" / case["dataset"])
    sub = gl.glm(case["formula_py"], df[keep], family="binomial", weights=w[keep])
    for kind in ["HC0", "HC1", "HC2", "HC3"]:
        np.testing.assert_allclose(
            sandwich_cov(*args(res), kind=kind), sandwich_cov(*args(sub), kind=kind), rtol=1e-9
        )
    g = np.array(case["cluster"])
    np.testing.assert_allclose(
        sandwich_cov(*args(res), groups=g), sandwich_cov(*args(sub), groups=g[keep]), rtol=1e-9
    )
    ratio = (keep.sum() / len(w)) ** 2
    assert_cov_close(
        sandwich_cov(*args(res), kind="HC0") * ratio, _arr(case["vcovHC_HC0_all_rows"])
    )


def test_robust_wald_ratio_intervals():
    """exp(b -+ z se_HC0): R's exp(coef(fit) +- qnorm(.975) sqrt(diag(vcovHC(fit, "HC0"))))."""
    from scipy import stats

    for name in ["birthwt_logit", "insurance_poisson_offset"]:
        case, res = load(name)
        se = np.sqrt(np.diag(sandwich_cov(*args(res), kind="HC0")))
        b, z = res._fit.coef, stats.norm.ppf(0.975)
        got = np.exp(np.column_stack([b, b - z * se, b + z * se]))
        np.testing.assert_allclose(got, _arr(case["ratio_ci_HC0"]), rtol=SE_RTOL)


# --- errors and warnings ---------------------------------------------------------------------


def test_bad_arguments():
    case, res = load("birthwt_logit")
    a = args(res)
    g = np.array(case["cluster"])
    with pytest.raises(GlmlogitError, match="kind"):
        sandwich_cov(*a, kind="HC4")
    with pytest.raises(GlmlogitError, match="kind must be 'HC0'"):
        sandwich_cov(*a, kind="HC3", groups=g)
    with pytest.raises(GlmlogitError, match="cluster_correction"):
        sandwich_cov(*a, groups=g, cluster_correction="stata2")
    with pytest.raises(GlmlogitError, match="at least 2 clusters"):
        sandwich_cov(*a, groups=np.zeros(len(g)))
    with pytest.raises(GlmlogitError, match="missing"):
        sandwich_cov(*a, groups=np.where(g == 3, np.nan, g))
    with pytest.raises(GlmlogitError, match="1-d"):
        sandwich_cov(*a, groups=g[:-1])


def test_hat_one_warns_for_hc2_hc3():
    rng = np.random.default_rng(0)
    n = 30
    x = rng.normal(size=n)
    d0 = np.zeros(n)
    d0[0] = 1.0  # a column that only row 0 has: h_0 = 1
    X = np.column_stack([np.ones(n), x, d0])
    y = 1 + x + rng.normal(size=n)
    res = gl.GLM(y, X, family="gaussian").fit()
    with pytest.warns(GlmlogitWarning, match="hat values"):
        sandwich_cov(*args(res), kind="HC3")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sandwich_cov(*args(res), kind="HC0")


# --- statsmodels, live -----------------------------------------------------------------------

SM_FAMILY = {
    "binomial": sm.families.Binomial,
    "poisson": sm.families.Poisson,
    "gaussian": sm.families.Gaussian,
    "gamma": sm.families.Gamma,
}
SM_LINK = {
    "logit": sm.families.links.Logit,
    "log": sm.families.links.Log,
    "identity": sm.families.links.Identity,
    "probit": sm.families.links.Probit,
}


def sm_model(case, res):
    d = res.design
    fam = SM_FAMILY[case["family"]](SM_LINK[case["link"]]())
    kw = {} if case["weights_values"] is None else {"var_weights": d.weights}
    return sm.GLM(d.y, d.X, family=fam, offset=d.offset, **kw)


def sm_fit(case, res, **kw):
    with warnings.catch_warnings():
        # statsmodels warns that robust covariances are "not fully supported with var_weights";
        # for prior weights as R's (var_weights) they agree with R, which is what is tested.
        warnings.filterwarnings("ignore", "cov_type not fully supported", SpecificationWarning)
        return sm_model(case, res).fit(tol=1e-13, **kw)


@pytest.mark.parametrize("name", CANONICAL)
def test_statsmodels_HC0(name):
    case, res = load(name)
    r = sm_fit(case, res, cov_type="HC0")
    assert_cov_close(sandwich_cov(*args(res), kind="HC0"), np.asarray(r.cov_params()), msg=name)


@pytest.mark.parametrize("name", CANONICAL)
def test_statsmodels_cluster(name):
    case, res = load(name)
    g = np.array(case["cluster"])
    r = sm_fit(case, res, cov_type="cluster", cov_kwds={"groups": g})
    assert_cov_close(sandwich_cov(*args(res), groups=g), np.asarray(r.cov_params()), msg=name)


@pytest.mark.parametrize("name", NONCANONICAL)
def test_statsmodels_noncanonical_bread(name):
    """statsmodels' GLM sandwich uses the observed information; with the expected information
    (R's bread) its own sandwich functions give R's numbers."""
    case, res = load(name)
    r = sm_fit(case, res, cov_type="HC0")
    mod = sm_model(case, res)
    score = mod.score_obs(r.params)
    V_oim = smsw.cov_white_simple(
        (score, np.linalg.inv(mod.hessian(r.params))), use_correction=False
    )
    # what statsmodels does:
    np.testing.assert_allclose(np.asarray(r.cov_params()), V_oim, rtol=1e-10)
    ours = sandwich_cov(*args(res), kind="HC0")
    assert np.max(np.abs(np.diag(ours) / np.diag(V_oim) - 1)) > 1e-3  # and it is not R's
    h_eim = np.linalg.inv(mod.hessian(r.params, observed=False))
    assert_cov_close(ours, smsw.cov_white_simple((score, h_eim), use_correction=False), msg=name)
    g = np.array(case["cluster"])
    assert_cov_close(
        sandwich_cov(*args(res), groups=g), smsw.cov_cluster((score, h_eim), g), msg=name
    )


@pytest.mark.parametrize("kind", ["HC1", "HC2", "HC3"])
def test_statsmodels_glm_hc123_is_hc0(kind):
    """Documents why HC1-HC3 are compared with R only: statsmodels 0.15's GLM returns its HC0
    matrix for them.  (Should statsmodels add the corrections, it must then agree with R.)"""
    case, res = load("birthwt_logit")
    V = np.asarray(sm_fit(case, res, cov_type=kind).cov_params())
    V0 = np.asarray(sm_fit(case, res, cov_type="HC0").cov_params())
    if not np.allclose(V, V0, rtol=1e-12, atol=0):
        assert_cov_close(sandwich_cov(*args(res), kind=kind), V, msg=kind)
    else:
        assert not np.allclose(sandwich_cov(*args(res), kind=kind), V, rtol=1e-3, atol=0)


@pytest.mark.parametrize(
    "name", ["insurance_poisson_offset", "birthwt_aliased", "birthwt_zero_weights"]
)
def test_sparse_design_gives_the_same(name):
    import scipy.sparse as sp

    case, res = load(name)
    a = args(res)
    sa = (sp.csr_matrix(a[0]),) + a[1:]
    for kind in ["HC0", "HC1", "HC2", "HC3"]:
        np.testing.assert_allclose(
            sandwich_cov(*sa, kind=kind), sandwich_cov(*a, kind=kind), rtol=1e-12, equal_nan=True
        )
    g = np.array(case["cluster"])
    np.testing.assert_allclose(
        sandwich_cov(*sa, groups=g), sandwich_cov(*a, groups=g), rtol=1e-12, equal_nan=True
    )
