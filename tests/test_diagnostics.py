"""Influence measures and goodness of fit (glmlogit.diagnostics) against R, statsmodels, sklearn.

R references: tests/reference/make_robust.R (R 4.2.2; hatvalues, cooks.distance, rstandard,
rstandard(type="pearson"), rstudent, dfbeta, dfbetas, exp(confint.default), pROC::auc, and the
Hosmer-Lemeshow grouping of ResourceSelection::hoslem.test re-implemented in R), every fit at its
fixed point.  Tolerance RTOL = 1e-7 relative, with an absolute floor of 1e-10 x the largest |value|
of the vector (or dfbeta column): residual-like values cross zero.  Observed: <= 2e-8 relative
(clotting_gamma_log, n = 9; most ~1e-12).

Rows with zero prior weight: R leaves them out of every influence vector; glmlogit returns NaN
there (checked on birthwt_zero_weights, whose R vectors are padded with null by row name).

statsmodels (live): GLMInfluence's ``hat_matrix_diag``, ``cooks_distance`` and
``resid_studentized`` (Pearson, standardized) are R's definitions and are compared.  Its
``d_params``/``dfbetas`` are not: statsmodels uses the Pearson residual one-step change and
the dispersion, R the *deviance* residual and lm.influence's deviance-based leave-one-out sigma.
"""

from __future__ import annotations

import json
from functools import cache

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from robust_reference import CASES, REF, _arr, args, load
from scipy import stats
from sklearn.metrics import confusion_matrix, roc_auc_score

import glmlogit as gl
from glmlogit.diagnostics import (
    auc,
    classification_table,
    dfbeta,
    dfbetas,
    hosmer_lemeshow,
    influence_frame,
)
from glmlogit.errors import GlmlogitError

RTOL = 1e-7
MEASURES = ["hat", "cooks_d", "rstandard", "rstandard_pearson", "rstudent"]


@cache
def influence(name):
    _, res = load(name)
    return influence_frame(*args(res), res.scale, res.deviance, res.df_resid)


def assert_close(got, ref, msg=""):
    got, ref = np.asarray(got, float), np.asarray(ref, float)
    assert got.shape == ref.shape, msg
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref), err_msg=f"NaN pattern {msg}")
    floor = 1e-10 * np.max(np.where(np.isnan(ref), 0.0, np.abs(ref)), axis=0)
    ok = ~np.isnan(ref)
    bad = np.abs(got - ref) > RTOL * np.abs(ref) + floor
    assert not np.any(bad & ok), f"{msg}: max rel {np.nanmax(np.abs(got - ref) / np.abs(ref)):.3g}"


@pytest.mark.parametrize("measure", MEASURES)
@pytest.mark.parametrize("name", CASES)
def test_influence_measures_vs_R(name, measure):
    case, _ = load(name)
    assert_close(influence(name)[measure], _arr(case[measure]), f"{name} {measure}")


@pytest.mark.parametrize("name", CASES)
def test_dfbeta_dfbetas_vs_R(name):
    case, res = load(name)
    assert_close(dfbeta(*args(res)), _arr(case["dfbeta"]), f"{name} dfbeta")
    assert_close(dfbetas(*args(res)), _arr(case["dfbetas"]), f"{name} dfbetas")


def test_influence_keys_and_lengths():
    inf = influence("birthwt_logit")
    assert list(inf) == MEASURES
    assert all(v.shape == (189,) for v in inf.values())


def test_zero_weight_rows_are_nan_and_rest_equals_subset_fit():
    case, res = load("birthwt_zero_weights")
    w = res.design.weights
    keep = w > 0
    inf = influence("birthwt_zero_weights")
    for m in MEASURES:
        assert np.all(np.isnan(inf[m][~keep])) and not np.isnan(inf[m][keep]).any()
    df = pd.read_csv(REF / "data" / case["dataset"])
    sub = gl.glm(case["formula_py"], df[keep], family="binomial", weights=w[keep])
    inf_sub = influence_frame(*args(sub), sub.scale)
    for m in MEASURES:
        np.testing.assert_allclose(inf[m][keep], inf_sub[m], rtol=1e-9, err_msg=m)
    db = dfbetas(*args(res))
    assert np.all(np.isnan(db[~keep]))
    np.testing.assert_allclose(db[keep], dfbetas(*args(sub)), rtol=1e-8, atol=1e-12)


def test_aliased_columns_nan_in_dfbetas():
    _, res = load("birthwt_aliased")
    al = res._fit.aliased
    db = dfbetas(*args(res))
    assert np.all(np.isnan(db[:, al])) and not np.isnan(db[:, ~al]).any()


def test_hat_sums_to_rank():
    for name in CASES:
        _, res = load(name)
        np.testing.assert_allclose(np.nansum(influence(name)["hat"]), res.rank, rtol=1e-10)


def test_hat_one_gives_nan_as_R():
    rng = np.random.default_rng(1)
    n = 25
    x = rng.normal(size=n)
    d0 = np.zeros(n)
    d0[0] = 1.0
    X = np.column_stack([np.ones(n), x, d0])
    res = gl.GLM(2 + x + rng.normal(size=n), X, family="gaussian").fit()
    inf = influence_frame(*args(res), res.scale)
    assert inf["hat"][0] == 1.0
    for m in ["cooks_d", "rstandard", "rstandard_pearson", "rstudent"]:
        assert np.isnan(inf[m][0]) and not np.isnan(inf[m][1:]).any(), m
    assert np.all(dfbeta(*args(res))[0] == 0)


@pytest.mark.parametrize("name", ["birthwt_logit", "insurance_poisson_offset", "mtcars_gaussian"])
def test_statsmodels_influence(name):
    case, res = load(name)
    d = res.design
    fam = {
        "binomial": sm.families.Binomial(),
        "poisson": sm.families.Poisson(),
        "gaussian": sm.families.Gaussian(),
    }[case["family"]]
    smi = sm.GLM(d.y, d.X, family=fam, offset=d.offset).fit(tol=1e-13).get_influence()
    inf = influence(name)
    assert_close(inf["hat"], smi.hat_matrix_diag, name)
    assert_close(inf["cooks_d"], smi.cooks_distance[0], name)
    assert_close(inf["rstandard_pearson"], smi.resid_studentized, name)


# --- odds / rate ratios ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["birthwt_logit", "birthwt_weights", "insurance_poisson_offset"])
def test_ratio_intervals_vs_R(name):
    """res.odds_ratios(): exp(coef) and exp(confint.default(fit))."""
    case, res = load(name)
    got = res.odds_ratios().to_numpy()
    np.testing.assert_allclose(got, _arr(case["ratio_ci"]), rtol=RTOL)


# --- Hosmer-Lemeshow ---------------------------------------------------------------------------

BINOMIAL = [
    c
    for c in CASES
    if json.loads((REF / "robust" / f"{c}.json").read_text())["family"] == "binomial"
]


def hl_by_hand(y, mu, w, g):
    """Independent: groups from ranks/explicit comparisons, loops, no numpy quantile helpers."""
    keep = w > 0
    y, mu, w = y[keep], mu[keep], w[keep]
    s = sorted(mu)
    n = len(s)
    br = []
    for j in range(g + 1):
        pos = (n - 1) * (j * (1.0 / g))
        lo = int(np.floor(pos))
        frac = pos - lo
        q = (
            s[lo]
            if frac == 0 or s[min(lo + 1, n - 1)] == s[lo]
            else (1 - frac) * s[lo] + frac * s[lo + 1]
        )
        if not br or q != br[-1]:
            br.append(q)
    stat, G = 0.0, 0
    for j in range(1, len(br)):
        inside = [
            (mu[i] > br[j - 1] or (j == 1 and mu[i] == br[0])) and mu[i] <= br[j]
            for i in range(len(mu))
        ]
        idx = np.flatnonzero(inside)
        if len(idx) == 0:
            continue
        G += 1
        o, e, m = np.sum(w[idx] * y[idx]), np.sum(w[idx] * mu[idx]), np.sum(w[idx])
        stat += (o - e) ** 2 / e + ((m - o) - (m - e)) ** 2 / (m - e)
    return stat, G - 2


@pytest.mark.parametrize("g,key", [(10, "hosmer_lemeshow"), (8, "hosmer_lemeshow_g8")])
@pytest.mark.parametrize("name", BINOMIAL)
def test_hosmer_lemeshow_vs_R(name, g, key):
    case, res = load(name)
    d = res.design
    hl = hosmer_lemeshow(d.y, res._fit.mu, d.weights, g=g)
    ref = case[key]
    assert hl.df == ref["df"]
    np.testing.assert_array_equal(hl.groups["rows"].to_numpy(), ref["rows"])
    np.testing.assert_allclose(hl.groups["observed"], ref["observed"], rtol=1e-12)
    np.testing.assert_allclose(hl.groups["expected"], ref["expected"], rtol=RTOL)
    np.testing.assert_allclose(hl.statistic, ref["statistic"], rtol=RTOL)
    np.testing.assert_allclose(hl.pvalue, ref["pvalue"], rtol=1e-6)
    st, df = hl_by_hand(d.y, res._fit.mu, d.weights, g)
    assert df == hl.df
    np.testing.assert_allclose(hl.statistic, st, rtol=1e-12)


def test_hosmer_lemeshow_ties():
    """Tied fitted values stay in one group (interval (lo, hi]); ties can merge quantile breaks,
    leaving fewer groups and df = groups - 2; values equal up to rounding count as tied."""
    rng = np.random.default_rng(7)
    levels = np.array([0.1, 0.2, 0.35, 0.5, 0.7])
    mu = levels[rng.integers(0, 5, size=200)]
    y = (rng.random(200) < mu).astype(float)
    hl = hosmer_lemeshow(y, mu, g=10)
    # deciles take only the values 0.1, 0.2, 0.35, 0.41 (interpolated), 0.5, 0.7: 4 groups,
    # the first [0.1, 0.2] holding both lowest levels
    assert len(hl.groups) == 4 and hl.df == 2
    assert hl.groups["rows"].iloc[0] == np.sum(mu <= 0.2)
    for j, (lo, hi, rows) in enumerate(
        hl.groups[["mu_low", "mu_high", "rows"]].itertuples(index=False)
    ):
        inside = ((mu > lo) | ((j == 0) & (mu == lo))) & (mu <= hi)
        assert inside.sum() == rows
    st, df = hl_by_hand(y, mu, np.ones_like(y), 10)
    assert (st, df) == (pytest.approx(hl.statistic, rel=1e-12), hl.df)
    # the same values perturbed by one ulp (as X @ b can do for identical rows): same answer
    jitter = mu * (1 + np.where(np.arange(200) % 2 == 0, 0.0, 2.0**-52))
    assert np.any(jitter != mu)
    hj = hosmer_lemeshow(y, jitter, g=10)
    np.testing.assert_array_equal(hj.groups["rows"], hl.groups["rows"])
    assert hj.statistic == pytest.approx(hl.statistic, rel=1e-12)
    assert hl.pvalue == pytest.approx(stats.chi2.sf(hl.statistic, hl.df), rel=1e-14)


def test_hosmer_lemeshow_row_order_and_errors():
    _, res = load("birthwt_logit")
    d = res.design
    mu = res._fit.mu
    perm = np.random.default_rng(3).permutation(len(mu))
    a = hosmer_lemeshow(d.y, mu, None)
    b = hosmer_lemeshow(d.y[perm], mu[perm], None)
    assert a.statistic == pytest.approx(b.statistic, rel=1e-12) and a.df == b.df == 8
    with pytest.raises(GlmlogitError):
        hosmer_lemeshow(d.y, np.full(len(mu), 0.3))
    with pytest.raises(GlmlogitError):
        hosmer_lemeshow(d.y, mu, g=2)


# --- classification table and AUC --------------------------------------------------------------


def test_classification_table_vs_R_and_sklearn():
    case, res = load("birthwt_logit")
    y, mu = res.design.y, res._fit.mu
    ct = classification_table(y, mu)
    np.testing.assert_array_equal(ct.table, _arr(case["classification_table"]))
    np.testing.assert_array_equal(ct.table, confusion_matrix(y, mu > 0.5))
    assert ct.accuracy == (ct.tn + ct.tp) / len(y)
    assert ct.sensitivity == ct.tp / y.sum()
    assert ct.to_frame().shape == (2, 2)


def test_classification_table_weighted_and_strict_threshold():
    _, res = load("menarche_probit")
    y, mu, w = res.design.y, res._fit.mu, res.design.weights
    ct = classification_table(y, mu, threshold=0.3, weights=w)
    yy = np.r_[np.ones(len(y)), np.zeros(len(y))]
    sw = np.r_[w * y, w * (1 - y)]
    pred = np.r_[mu, mu] > 0.3
    np.testing.assert_allclose(ct.table, confusion_matrix(yy, pred, sample_weight=sw), rtol=1e-12)
    assert ct.table.sum() == pytest.approx(w.sum())
    t = classification_table(np.array([0.0, 1.0]), np.array([0.5, 0.5]), threshold=0.5)
    np.testing.assert_array_equal(t.table, [[1, 0], [1, 0]])  # mu == threshold predicts 0


def test_auc_vs_pROC_and_sklearn():
    case, res = load("birthwt_logit")
    y, mu = res.design.y, res._fit.mu
    np.testing.assert_allclose(auc(y, mu), case["auc"], rtol=1e-12)
    np.testing.assert_allclose(auc(y, mu), roc_auc_score(y, mu), rtol=1e-12)


@pytest.mark.parametrize("name", ["birthwt_weights", "menarche_probit", "birthwt_zero_weights"])
def test_auc_weighted_vs_sklearn(name):
    _, res = load(name)
    y, mu, w = res.design.y, res._fit.mu, res.design.weights
    yy = np.r_[np.ones(len(y)), np.zeros(len(y))]
    sw = np.r_[w * y, w * (1 - y)]
    np.testing.assert_allclose(
        auc(y, mu, w), roc_auc_score(yy, np.r_[mu, mu], sample_weight=sw), rtol=1e-12
    )


def test_auc_ties_count_half():
    y = np.array([1, 0, 1, 0, 1, 0])
    mu = np.array([0.9, 0.9, 0.5, 0.2, 0.5, 0.5])
    # pairs (pos, neg): 0.9 vs {0.9: 1/2, 0.2: 1, 0.5: 1}; 0.5 vs {0.9: 0, 0.2: 1, 0.5: 1/2} x2
    assert auc(y, mu) == pytest.approx((2.5 + 1.5 + 1.5) / 9, rel=1e-15)
    assert auc(y, mu) == pytest.approx(roc_auc_score(y, mu), rel=1e-15)
    with pytest.raises(GlmlogitError):
        auc(np.ones(3), np.array([0.1, 0.2, 0.3]))


@pytest.mark.parametrize(
    "name", ["insurance_poisson_offset", "birthwt_aliased", "birthwt_zero_weights"]
)
def test_sparse_design_gives_the_same(name):
    import scipy.sparse as sp

    _, res = load(name)
    a = args(res)
    sa = (sp.csr_matrix(a[0]),) + a[1:]
    dense, sparse = influence_frame(*a, res.scale), influence_frame(*sa, res.scale)
    for m in MEASURES:
        np.testing.assert_allclose(sparse[m], dense[m], rtol=1e-12, atol=1e-15, equal_nan=True)
    np.testing.assert_allclose(dfbetas(*sa), dfbetas(*a), rtol=1e-11, atol=1e-15, equal_nan=True)
