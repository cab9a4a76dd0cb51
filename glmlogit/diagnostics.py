"""Regression diagnostics and goodness of fit for GLMs, as R's ``stats`` defines them for a glm.

Pure functions on the arrays of a fit.  R 4.2's definitions (``stats:::lm.influence``,
``influence.glm``, ``cooks.distance.glm``, ``rstandard.glm``, ``rstudent.glm``, ``dfbetas.lm``),
with ``h`` the hat values, ``r_P`` the Pearson and ``r_D`` the deviance residuals (prior weights
included), ``phi`` the dispersion of ``summary.glm`` (1 for binomial/poisson, Pearson chi2 / df_resid
otherwise) and ``k`` the rank:

* hat ``h_i = W_i x_i' (X'WX)^-1 x_i`` (``W`` the working weights); within ``10 eps`` of 1 it is
  set to 1.
* ``cooks.distance``: ``(r_P / (1 - h))^2 h / (phi k)``.
* ``rstandard`` (type "deviance", R's default): ``r_D / sqrt(phi (1 - h))``; type "pearson":
  ``r_P / sqrt(phi (1 - h))``.
* ``rstudent``: ``sign(r_D) sqrt(r_D^2 + h r_P^2 / (1 - h))``, divided by ``sigma_(i)`` except for
  binomial and poisson.
* ``sigma_(i)`` (``lm.influence``'s leave-one-out sigma, deviance based):
  ``sqrt((sum_j r_D,j^2 - r_D,i^2 / (1 - h_i)) / (n - k - 1))`` (``sqrt(sum r_D^2 / (n - k - 1))``
  where ``h_i = 1``), ``n`` the rows with positive weight.  It is used for every family in dfbetas.
* ``dfbeta`` (``lm.influence(...)$coefficients``, the one-step change in the coefficients when row
  ``i`` is dropped, on the *deviance* residual): ``(X'WX)^-1 x_i sqrt(W_i) r_D,i / (1 - h_i)``
  (0 where ``h_i = 1``); ``dfbetas`` divides column j by ``sigma_(i) sqrt([(X'WX)^-1]_jj)``.
* Before all of these, ``lm.influence`` sets deviance residuals below
  ``100 eps median(|r_D|)`` in absolute value to 0.
* Values that come out infinite (``h = 1``) are NaN, as R's.

Rows with prior weight zero are not in R's influence measures at all (the vectors are shorter);
here they are NaN, so every array keeps the length of the design.  Aliased columns are NaN in
``dfbeta``/``dfbetas`` (R drops them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .errors import GlmlogitError
from .robust import _restrict, _select, hat_values, score_factors

__all__ = [
    "influence_frame",
    "dfbeta",
    "dfbetas",
    "hosmer_lemeshow",
    "HosmerLemeshowResult",
    "classification_table",
    "ClassificationTable",
    "auc",
]

_EPS = float(np.finfo(float).eps)


def _core(X, y, mu, eta, weights, family, cov_unscaled, aliased, df_resid=None):
    """Everything ``lm.influence`` computes, on the rows with positive weight."""
    X, keep, C, pos = _restrict(X, weights, cov_unscaled, aliased)
    y, mu, eta, wt = (np.asarray(a, dtype=float) for a in (y, mu, eta, weights))
    _, W = score_factors(y, mu, eta, wt, family)
    Xk = _select(X, pos, keep)
    y, mu, eta, wt, W = y[pos], mu[pos], eta[pos], wt[pos], W[pos]
    n, k = Xk.shape
    h = hat_values(Xk, W, C)
    pear = (y - mu) * np.sqrt(wt) / np.sqrt(family.variance(mu))
    dt = family.deviance_terms(y, mu, wt, eta)
    e = np.sign(y - mu) * np.sqrt(np.maximum(dt, 0.0))
    e[np.abs(e) < 100.0 * _EPS * np.median(np.abs(e))] = 0.0
    denom = (n - k if df_resid is None else df_resid) - 1
    s2 = float(np.sum(e * e))
    one = h >= 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = np.sqrt(np.where(one, s2, s2 - e * e / (1.0 - h)) / denom)
    return dict(X=Xk, C=C, keep=keep, pos=pos, h=h, pear=pear, e=e, sigma=sigma, W=W, one=one)


def _full(values: np.ndarray, pos: np.ndarray) -> np.ndarray:
    out = np.full((len(pos),) + values.shape[1:], np.nan)
    out[pos] = values
    return out


def _nan_inf(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=float)
    a[np.isinf(a)] = np.nan
    return a


def influence_frame(
    X,
    y,
    mu,
    eta,
    weights,
    family,
    cov_unscaled,
    aliased,
    scale: float,
    deviance: float | None = None,
    df_resid: int | None = None,
) -> dict[str, np.ndarray]:
    """Influence measures per row, as R's functions on a glm (see the module docstring).

    Returns a dict of length-n arrays: ``hat`` (``hatvalues``), ``cooks_d`` (``cooks.distance``),
    ``rstandard`` (``rstandard``, deviance residuals), ``rstandard_pearson``
    (``rstandard(type="pearson")``) and ``rstudent`` (``rstudent``).  Rows with zero prior
    weight are NaN.

    ``scale`` is the dispersion of ``summary.glm`` (the results' ``scale``).  ``df_resid``
    (rows with positive weight minus the rank) is computed when not given.  ``deviance`` is
    accepted for symmetry with the results object and not needed: the leave-one-out sigma uses
    the sum of the squared deviance residuals after lm.influence's small-residual rounding,
    which is the deviance to rounding.
    """
    del deviance
    c = _core(X, y, mu, eta, weights, family, cov_unscaled, aliased, df_resid)
    h, pear, e, pos = c["h"], c["pear"], c["e"], c["pos"]
    k = int(c["keep"].sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        cooks = _nan_inf((pear / (1.0 - h)) ** 2 * h / (scale * k))
        rstd = _nan_inf(e / np.sqrt(scale * (1.0 - h)))
        rstd_p = _nan_inf(pear / np.sqrt(scale * (1.0 - h)))
        rstu = _nan_inf(np.sign(e) * np.sqrt(e * e + h * pear * pear / (1.0 - h)))
        if not family.fixed_scale:
            rstu = rstu / c["sigma"]
    return {
        "hat": _full(h, pos),
        "cooks_d": _full(cooks, pos),
        "rstandard": _full(rstd, pos),
        "rstandard_pearson": _full(rstd_p, pos),
        "rstudent": _full(rstu, pos),
    }


def _dfbeta_k(c) -> np.ndarray:
    f = np.where(c["one"], 0.0, np.sqrt(c["W"]) * c["e"] / np.where(c["one"], 1.0, 1.0 - c["h"]))
    return np.asarray(c["X"] @ c["C"]) * f[:, None]


def _embed_cols(values: np.ndarray, keep: np.ndarray, pos: np.ndarray) -> np.ndarray:
    out = np.full((len(pos), len(keep)), np.nan)
    out[np.ix_(pos, keep)] = values
    return out


def dfbeta(X, y, mu, eta, weights, family, cov_unscaled, aliased, df_resid=None) -> np.ndarray:
    """(n, p) one-step coefficient changes when each row is dropped, as R's ``dfbeta`` on a glm
    (deviance residuals; see the module docstring).  NaN rows for zero weights, NaN columns for
    aliased coefficients."""
    c = _core(X, y, mu, eta, weights, family, cov_unscaled, aliased, df_resid)
    return _embed_cols(_dfbeta_k(c), c["keep"], c["pos"])


def dfbetas(X, y, mu, eta, weights, family, cov_unscaled, aliased, df_resid=None) -> np.ndarray:
    """(n, p) R's ``dfbetas`` on a glm: ``dfbeta`` / (sigma_(i) sqrt(diag((X'WX)^-1))), with the
    deviance-based leave-one-out sigma for every family.  NaN rows for zero weights, NaN columns
    for aliased coefficients."""
    c = _core(X, y, mu, eta, weights, family, cov_unscaled, aliased, df_resid)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = _dfbeta_k(c) / np.outer(c["sigma"], np.sqrt(np.diag(c["C"])))
    return _embed_cols(v, c["keep"], c["pos"])


# --- goodness of fit for binary / binomial responses ------------------------------------------


def _binomial_arrays(y, mu, weights):
    y = np.asarray(y, dtype=float)
    mu = np.asarray(mu, dtype=float)
    w = np.ones_like(y) if weights is None else np.asarray(weights, dtype=float)
    if not (y.shape == mu.shape == w.shape) or y.ndim != 1:
        raise GlmlogitError("y, mu and weights must be 1-d arrays of the same length")
    if np.any((y < 0) | (y > 1)):
        raise GlmlogitError("y must be 0/1 outcomes or proportions in [0, 1]")
    pos = w > 0
    return y[pos], mu[pos], w[pos]


@dataclass(frozen=True)
class HosmerLemeshowResult:
    statistic: float
    df: int
    pvalue: float
    groups: pd.DataFrame  # per group: mu_low, mu_high, n, observed, expected

    def __repr__(self) -> str:
        return (
            f"HosmerLemeshowResult(statistic={self.statistic:.6g}, df={self.df}, "
            f"pvalue={self.pvalue:.6g})"
        )


def _r_quantile7(x: np.ndarray, g: int) -> np.ndarray:
    """R's ``quantile(x, probs = seq(0, 1, 1/g), type = 7)``, the same floating-point steps."""
    xs = np.sort(x)
    n = len(xs)
    probs = np.minimum(np.arange(g + 1) * (1.0 / g), 1.0)  # R's seq(0, 1, by = 1/g)
    index = 1.0 + max(n - 1, 0) * probs
    lo = np.floor(index).astype(int)
    hi = np.ceil(index).astype(int)
    qs = xs[lo - 1]
    xhi = xs[hi - 1]
    i = (index > lo) & (xhi != qs)
    hh = (index - lo)[i]
    qs[i] = (1.0 - hh) * qs[i] + hh * xhi[i]
    return qs


def _merge_near_ties(mu: np.ndarray, rtol: float = 1e-12) -> np.ndarray:
    """Fitted values within ``rtol`` (relative) of the previous distinct value become equal to
    it.  Rows with the same covariates can get fitted values that differ in the last bits (a
    BLAS matrix-vector product rounds rows differently depending on their position), and the
    grouping must not split such ties."""
    order = np.argsort(mu, kind="stable")
    s = mu[order]
    out = s.copy()
    for i in range(1, len(s)):
        if s[i] - out[i - 1] <= rtol * abs(out[i - 1]):
            out[i] = out[i - 1]
    res = np.empty_like(mu)
    res[order] = out
    return res


def hosmer_lemeshow(y, mu, weights=None, g: int = 10) -> HosmerLemeshowResult:
    """Hosmer–Lemeshow goodness-of-fit test for a binomial fit.

    Grouping rule (that of R's ``ResourceSelection::hoslem.test``): the breaks are
    ``unique(quantile(mu, probs = seq(0, 1, 1/g)))`` (R's default type-7 quantiles of the fitted
    values, one per row, unweighted) and row i is in group j when ``b_{j-1} < mu_i <= b_j`` (the
    first group also takes ``mu_i = b_0``; R's ``cut(..., include.lowest = TRUE)``).  Ties at a
    break therefore stay together, and tied quantiles give fewer than ``g`` groups.

    Within a group, with prior weights ``w`` (trials for proportions; 1 for 0/1 outcomes):
    ``O = sum w y``, ``E = sum w mu``, ``n = sum w``;  statistic
    ``sum_groups (O - E)^2 / E + ((n - O) - (n - E))^2 / (n - E)``;  ``df = G - 2`` with ``G`` the
    number of groups formed (hoslem.test uses the requested ``g - 2``, the same unless ties merged
    groups); p-value from chi-squared(df).  Rows with zero weight are ignored.  Fitted values that
    agree to 1e-12 (relative) count as tied: identical covariate rows can differ in the last bits
    of ``X @ b``, in R as here, and would otherwise be split at a break by rounding alone.
    """
    if int(g) != g or g < 3:
        raise GlmlogitError(f"g must be an integer >= 3, got {g!r}")
    y, mu, w = _binomial_arrays(y, mu, weights)
    if len(y) == 0:
        raise GlmlogitError("no rows with positive weight")
    mu = _merge_near_ties(mu)
    breaks = np.unique(_r_quantile7(mu, int(g)))
    if len(breaks) < 2:
        raise GlmlogitError("all fitted values are equal: the rows cannot be grouped")
    grp = np.searchsorted(breaks, mu, side="left")
    grp[grp == 0] = 1
    grp -= 1
    G0 = len(breaks) - 1
    n = np.bincount(grp, weights=w, minlength=G0)
    obs = np.bincount(grp, weights=w * y, minlength=G0)
    exp_ = np.bincount(grp, weights=w * mu, minlength=G0)
    rows = np.bincount(grp, minlength=G0)
    ne = rows > 0
    n, obs, exp_ = n[ne], obs[ne], exp_[ne]
    G = int(ne.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = float(np.sum((obs - exp_) ** 2 / exp_ + (obs - exp_) ** 2 / (n - exp_)))
    df = G - 2
    pval = float(stats.chi2.sf(stat, df)) if df > 0 else float("nan")
    table = pd.DataFrame(
        {
            "mu_low": breaks[:-1][ne],
            "mu_high": breaks[1:][ne],
            "rows": rows[ne],
            "n": n,
            "observed": obs,
            "expected": exp_,
        }
    )
    return HosmerLemeshowResult(stat, df, pval, table)


@dataclass(frozen=True)
class ClassificationTable:
    """2 x 2 table, rows observed 0/1, columns predicted 0/1 (statsmodels' ``pred_table``)."""

    table: np.ndarray
    threshold: float

    @property
    def tn(self) -> float:
        return float(self.table[0, 0])

    @property
    def fp(self) -> float:
        return float(self.table[0, 1])

    @property
    def fn(self) -> float:
        return float(self.table[1, 0])

    @property
    def tp(self) -> float:
        return float(self.table[1, 1])

    @property
    def accuracy(self) -> float:
        return (self.tn + self.tp) / float(self.table.sum())

    @property
    def sensitivity(self) -> float:
        return self.tp / (self.tp + self.fn)

    @property
    def specificity(self) -> float:
        return self.tn / (self.tn + self.fp)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            self.table,
            index=pd.Index(["observed 0", "observed 1"]),
            columns=pd.Index(["predicted 0", "predicted 1"]),
        )


def classification_table(y, mu, threshold: float = 0.5, weights=None) -> ClassificationTable:
    """Observed vs predicted class, predicting 1 where ``mu > threshold`` (strictly, as
    statsmodels' ``pred_table``).  With prior weights ``w`` (trials for proportions) a row adds
    ``w y`` to observed 1 and ``w (1 - y)`` to observed 0; zero-weight rows add nothing."""
    y, mu, w = _binomial_arrays(y, mu, weights)
    pred = mu > threshold
    t = np.array(
        [
            [np.sum(w * (1 - y) * ~pred), np.sum(w * (1 - y) * pred)],
            [np.sum(w * y * ~pred), np.sum(w * y * pred)],
        ]
    )
    return ClassificationTable(t, float(threshold))


def auc(y, mu, weights=None) -> float:
    """Area under the ROC curve: the Mann–Whitney probability that a random event has a higher
    fitted value than a random non-event, ties counting 1/2 (= the trapezoidal ROC area, as
    sklearn's ``roc_auc_score`` and R's ``pROC::auc``).  With prior weights ``w`` a row is
    ``w y`` events and ``w (1 - y)`` non-events at its fitted value."""
    y, mu, w = _binomial_arrays(y, mu, weights)
    a, b = w * y, w * (1.0 - y)
    if a.sum() <= 0 or b.sum() <= 0:
        raise GlmlogitError("AUC needs both events and non-events")
    vals, inv = np.unique(mu, return_inverse=True)
    A = np.bincount(inv, weights=a, minlength=len(vals))
    B = np.bincount(inv, weights=b, minlength=len(vals))
    below = np.cumsum(B) - B
    return float(np.sum(A * (below + 0.5 * B)) / (A.sum() * B.sum()))
