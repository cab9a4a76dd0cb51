"""Plots of a fitted GLM (matplotlib, the optional extra: ``pip install glmlogit[plot]``).

Each function draws on ``ax`` (a new figure when None) and returns the matplotlib Axes:

- ``forest_plot``: coefficients (or odds/rate ratios) with their confidence intervals;
- ``plot_residuals_vs_fitted``: deviance residuals against the linear predictor (R's first
  ``plot.glm`` panel) or the fitted mean, with a binned-mean trend line;
- ``plot_halfnormal``: sorted absolute deviance residuals against half-normal quantiles
  (faraway's ``halfnorm``), the largest labelled;
- ``plot_cooks``: Cook's distance by observation (R's ``plot(fit, which=4)``), the largest labelled;
- ``plot_calibration``: observed against predicted probability in groups of predicted risk, with
  Wilson intervals (binomial models).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from .errors import GlmlogitError

__all__ = [
    "forest_plot",
    "plot_calibration",
    "plot_cooks",
    "plot_halfnormal",
    "plot_residuals_vs_fitted",
]


def _axes(ax) -> Any:
    if ax is not None:
        return ax
    try:
        import matplotlib.pyplot as plt
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("glmlogit's plots need matplotlib: pip install 'glmlogit[plot]'") from err
    _, ax = plt.subplots(figsize=(6.4, 4.8))
    return ax


def forest_plot(
    res, odds_ratios: bool = False, ax=None, alpha: float = 0.05, intercept: bool = False
):
    """Estimates as points with Wald intervals as horizontal lines, the first term on top; a
    reference line at 0 (or at 1 on a log axis for ratios).  Aliased terms are left out."""
    from .summary import ratio_name

    ax = _axes(ax)
    ci = res.conf_int(alpha)
    est = np.asarray(res.params, float)
    lo, hi = np.asarray(ci.iloc[:, 0], float), np.asarray(ci.iloc[:, 1], float)
    names = [str(t) for t in res.params.index]
    keep = ~np.asarray(res.aliased, bool)
    icpt = res.design.intercept_index
    if not intercept and icpt is not None:
        keep[icpt] = False
    label = "Estimate"
    if odds_ratios:
        label = ratio_name(res)
        est, lo, hi = np.exp(est), np.exp(lo), np.exp(hi)
    est, lo, hi = est[keep], lo[keep], hi[keep]
    names = [n for n, k in zip(names, keep) if k]
    if not names:
        raise GlmlogitError("no coefficients to plot")
    y = np.arange(len(names))[::-1].astype(float)
    ax.hlines(y, lo, hi, color="0.25", linewidth=1.5)
    ax.plot(est, y, "o", color="C0", markersize=6, zorder=3)
    ax.axvline(1.0 if odds_ratios else 0.0, color="0.5", linestyle="--", linewidth=1)
    if odds_ratios:
        ax.set_xscale("log")
    ax.set_yticks(y)
    ax.set_yticklabels(names)
    level = f"{100 * (1 - alpha):.10g}%"
    ax.set_xlabel(f"{label} ({level} Wald interval)")
    ax.set_title(f"{label}s" if odds_ratios else "Coefficients")
    ax.set_ylim(-0.7, len(names) - 0.3)
    return ax


def _binned_means(x: np.ndarray, y: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(x, kind="stable")
    groups = np.array_split(order, min(bins, len(x)))
    groups = [g for g in groups if len(g)]
    return np.array([x[g].mean() for g in groups]), np.array([y[g].mean() for g in groups])


def plot_residuals_vs_fitted(res, ax=None, x: str = "linear", smooth: bool = True):
    """Deviance residuals against the linear predictor (``x="linear"``, as R's plot.glm) or the
    fitted mean (``x="mean"``); a dashed zero line, and with ``smooth`` a line through the means
    of the residuals in 10 equal-count groups (the trend a lowess would show)."""
    if x not in ("linear", "mean"):
        raise GlmlogitError(f"x must be 'linear' or 'mean', got {x!r}")
    ax = _axes(ax)
    xv = np.asarray(res.linear_predictor if x == "linear" else res.fittedvalues, float)
    r = np.asarray(res.resid_deviance, float)
    pos = np.asarray(res.design.weights) > 0
    xv, r = xv[pos], r[pos]
    ax.scatter(xv, r, s=14, facecolors="none", edgecolors="C0", linewidths=0.8)
    ax.axhline(0.0, color="0.5", linestyle="--", linewidth=1)
    if smooth and len(xv) >= 2:
        bx, by = _binned_means(xv, r, 10)
        ax.plot(bx, by, color="C3", linewidth=1.5)
    ax.set_xlabel("Linear predictor" if x == "linear" else "Fitted mean")
    ax.set_ylabel("Deviance residual")
    ax.set_title("Residuals vs fitted")
    return ax


def plot_halfnormal(res, ax=None, label: int = 3, standardized: bool = False):
    """Sorted absolute deviance residuals (``standardized``: R's rstandard) against the half-normal
    quantiles Phi^-1((n + i) / (2n + 1)); the ``label`` largest are labelled with their row."""
    ax = _axes(ax)
    if standardized:
        r = res.influence()["rstandard"].dropna()
    else:
        r = res.resid_deviance[np.asarray(res.design.weights) > 0]
    a = np.abs(np.asarray(r, float))
    order = np.argsort(a, kind="stable")
    n = len(a)
    q = stats.norm.ppf((n + np.arange(1, n + 1)) / (2 * n + 1))
    ax.scatter(q, a[order], s=14, facecolors="none", edgecolors="C0", linewidths=0.8)
    top = order[::-1][: max(0, int(label))]
    for k, i in enumerate(top):
        ax.annotate(
            str(r.index[i]),
            (q[n - 1 - k], a[i]),
            textcoords="offset points",
            xytext=(-4, 0),
            ha="right",
            va="center",
            fontsize=8,
        )
    ax.set_xlabel("Half-normal quantile")
    ax.set_ylabel(f"|{'Standardized deviance' if standardized else 'Deviance'} residual|")
    ax.set_title("Half-normal plot")
    return ax


def plot_cooks(res, ax=None, label: int = 3):
    """Cook's distance (R's cooks.distance) by row position in the caller's data (from 0, so that
    with a default index the labels are the positions; rows dropped for NA leave gaps), a dashed
    line at 4/n, the ``label`` largest labelled with their row label."""
    ax = _axes(ax)
    cd = res.influence()["cooks_d"]
    pos = np.flatnonzero(cd.notna().to_numpy())
    vals = cd.to_numpy()[pos]
    obs = pos
    ax.vlines(obs, 0.0, vals, color="C0", linewidth=1)
    ax.axhline(4.0 / len(vals), color="0.5", linestyle="--", linewidth=1)
    for i in np.argsort(vals, kind="stable")[::-1][: max(0, int(label))]:
        ax.annotate(
            str(cd.index[pos[i]]),
            (obs[i], vals[i]),
            textcoords="offset points",
            xytext=(0, 3),
            ha="center",
            fontsize=8,
        )
    ax.set_xlabel("Row of the data")
    ax.set_ylabel("Cook's distance")
    ax.set_title("Cook's distance")
    ax.set_ylim(bottom=0.0)
    return ax


def calibration_table(res, bins: int = 10):
    """The numbers behind ``plot_calibration``: per group of predicted risk (equal total weight),
    the weight, mean predicted and observed proportion with a 95% Wilson interval."""
    import pandas as pd

    if res.family.name != "binomial":
        raise GlmlogitError(f"a calibration plot needs a binomial model, not {res.family.name}")
    if int(bins) < 1:
        raise GlmlogitError(f"bins must be >= 1, got {bins}")
    d = res.design
    w = np.asarray(d.weights, float)
    keep = w > 0
    mu, y, w = np.asarray(res.fittedvalues, float)[keep], d.y[keep], w[keep]
    order = np.argsort(mu, kind="stable")
    mu, y, w = mu[order], y[order], w[order]
    mid = (np.cumsum(w) - w / 2) / w.sum()
    group = np.minimum((mid * bins).astype(int), int(bins) - 1)
    rows = []
    z = stats.norm.ppf(0.975)
    for g in np.unique(group):
        m = group == g
        n = w[m].sum()
        p = float(w[m] @ y[m] / n)
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        rows.append(
            {
                "weight": n,
                "predicted": float(w[m] @ mu[m] / n),
                "observed": p,
                "lower": centre - half,
                "upper": centre + half,
            }
        )
    return pd.DataFrame(rows)


def plot_calibration(res, bins: int = 10, ax=None):
    """Observed proportion against mean predicted probability in ``bins`` groups of predicted
    risk (equal total weight, as Hosmer-Lemeshow's deciles of risk), with 95% Wilson intervals
    and the diagonal of perfect calibration.  Binomial models only."""
    tab = calibration_table(res, bins)
    ax = _axes(ax)
    ax.plot([0, 1], [0, 1], color="0.5", linestyle="--", linewidth=1)
    ax.vlines(tab["predicted"], tab["lower"], tab["upper"], color="0.35", linewidth=1)
    ax.plot(tab["predicted"], tab["observed"], "o", color="C0", markersize=6, zorder=3)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xlabel("Mean predicted probability")
    ax.set_ylabel("Observed proportion")
    ax.set_title(f"Calibration ({len(tab)} groups of predicted risk)")
    return ax
