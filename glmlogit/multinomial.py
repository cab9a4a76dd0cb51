"""Multinomial (softmax) logit: ``gl.multinomial(formula, data)`` and ``Multinomial(y, X).fit()``.

Model: for a response with levels ``0 (baseline), 1, ..., K-1`` and a design row ``x``,
``P(y = k | x) = exp(x'b_k) / sum_j exp(x'b_j)`` with ``b_0 = 0`` (as R's ``nnet::multinom`` and
statsmodels' ``MNLogit``).  The baseline is the first level: the first category of a pandas
Categorical, otherwise the first in sorted order; ``baseline=`` picks another.  Weights are case
(frequency) weights, as multinom's: a row with weight 2 counts as two identical rows.

Fitting is Newton's method on the stacked ``(K-1) p`` coefficients with the full Hessian
``H_jk = X' diag(w p_j (delta_jk - p_k)) X``, probabilities by log-sum-exp, step-halving when the
log-likelihood falls, and convergence when the relative change in deviance is below ``tol``
*and* the largest Newton step is below ``coef_tol`` (relative to the coefficient), so the
estimates are the MLE to about 1e-10.  Every pass over the rows is done in chunks: no temporary
larger than a chunk of rows times (K-1)p.  Columns aliased on the data (R's QR rule,
``separation.aliased_columns``) are set aside: NaN coefficients at every level, as R's NA.
``nobs`` is the sum of the case weights (nnet's ``logLik``, so ``bic`` matches R's ``BIC``).

Optional elastic-net penalty (``alpha > 0``, ``l1_ratio`` in [0, 1], default 0 = ridge): the
objective is glmnet's mean form, ``-(1/sum w) loglik + alpha (l1_ratio ||B||_1 +
(1 - l1_ratio)/2 ||B||^2)`` over every coefficient except the intercepts.  This is the
baseline-contrast parametrisation, so it is *not* glmnet's or scikit-learn's symmetric
multinomial penalty (which penalises all K coefficient vectors); for K = 2 it is exactly the
penalised binary logit of both (``gl.glm(..., penalty="l1"/"elasticnet")``).  The ridge fit is
Newton's method as above; with ``l1_ratio > 0`` it is a proximal Newton method: each step
minimises the quadratic model of the objective plus the L1 term with the penalised engine's
coordinate-descent solver (``engine.penalized._quad_solve``), with a backtracking (Armijo) line
search on the penalised objective, and at the end the KKT conditions are checked (a
``ConvergenceWarning`` if they fail).  Penalised fits report no standard errors (the inverse
penalised Hessian is not a valid covariance of a biased estimator).

Separation: the MLE does not exist when some direction ``B`` (not zero on the data) makes every
row at least as likely, ``x_i'(b_{y_i} - b_k) >= 0`` for all rows ``i`` and levels ``k``.  Then
Newton's iterates run off to infinity; the fit stops, reports ``converged = False`` and checks
this linear program (Konis' LP generalised to K levels; HiGHS), warning with
``PerfectSeparationWarning`` when it finds such a direction (automatically only while the LP has
at most ``SEPARATION_LP_MAX_ROWS`` rows, n (K-1); ``res.separation`` runs it on any fit).
"complete" means some direction makes every margin strictly positive.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass
from functools import cached_property
from typing import Any, cast

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import linalg, stats
from scipy.linalg import blas
from scipy.optimize import linprog
from scipy.special import logsumexp

from . import inference
from .errors import (
    ConvergenceWarning,
    DataError,
    DataWarning,
    FormulaError,
    GlmlogitError,
    PerfectSeparationWarning,
)
from .formula import Design, _as_frame, build_design, design_from_arrays
from .separation import aliased_columns
from .summary import (
    LEGEND,
    _column_format,
    _json_float,
    _md_code,
    _md_escape,
    _md_table,
    _pct,
    format_number,
    format_pvalue,
    significance_stars,
)

__all__ = ["Multinomial", "MultinomialResults", "MultinomialSeparation", "multinomial"]

_PLACEHOLDER = "_glmlogit_multinomial_code_"
_SEP_TOL = math.sqrt(np.finfo(float).eps)  # detectseparation's beta_tolerance
SEPARATION_LP_MAX_ROWS = 500_000  # above this, a fit that fails only suggests res.separation
_linprog: Any = linprog  # (scipy-stubs has no overload for a sparse A_ub)


# ------------------------------------------------------------------------------------------------
# The engine: arrays in, arrays out
# ------------------------------------------------------------------------------------------------
@dataclass
class MultinomialFit:
    coef: np.ndarray  # p x (K-1), NaN rows for aliased columns
    cov: np.ndarray  # (K-1)p x (K-1)p, level-major, NaN for aliased columns / penalised fits
    aliased: np.ndarray  # p bools
    loglik: float
    n_iter: int
    converged: bool
    message: str
    history: list[float]
    kkt_violation: float = math.nan  # largest KKT residual / sum(w)-scaled (penalised fits)


def _chunk_rows(n: int, p: int, k: int) -> int:
    # About 8 MiB for the c x (K-1)p matrix Z of _pass: large enough for BLAS-3 to run near
    # full speed on the Hessian's SYRK, small enough to stay a bounded temporary.
    return int(max(1024, min(n, (1 << 20) // max(k * p + k, 1))))


def _logsumexp_rows(eta: np.ndarray) -> np.ndarray:
    """log(sum_k exp(eta_ik)) by rows, shifted by the row maximum (no overflow); the same as
    scipy.special.logsumexp(eta, axis=1), three times faster on narrow matrices."""
    mx = eta.max(axis=1)
    return mx + np.log(np.exp(eta - mx[:, None]).sum(axis=1))


def _pass(X, y, w, B, want_hess: bool, chunk: int, cols=None):
    """One pass over the rows: log-likelihood, score and minus the Hessian (level-major).

    The Hessian's blocks are ``H_jk = X' diag(w p_j (delta_jk - p_k)) X``: the off-diagonal
    ones come from one SYRK of ``Z = [sqrt(w) p_1 x, ..., sqrt(w) p_m x]`` (c x mp, so one BLAS
    call per chunk), the diagonal ones directly from ``sqrt(w p_j (1 - p_j)) x`` (no
    cancellation; ``1 - p_j = -expm1(log p_j)``)."""
    n = X.shape[0]
    p, m = B.shape
    ll = 0.0
    grad = np.zeros((p, m))
    syrk = blas.dsyrk
    S = np.zeros((m * p, m * p), order="F") if want_hess and m > 1 else None
    D = [np.zeros((p, p), order="F") for _ in range(m)] if want_hess else []
    for a in range(0, n, chunk):
        Xc = X[a : a + chunk]
        if cols is not None:
            Xc = Xc[:, cols]
        if sp.issparse(Xc):
            Xc = cast(Any, Xc).toarray()
        Xc = np.ascontiguousarray(Xc, dtype=float)
        yc, wc = y[a : a + chunk], w[a : a + chunk]
        c = len(yc)
        eta = np.zeros((c, m + 1))
        eta[:, 1:] = Xc @ B
        lse = _logsumexp_rows(eta)
        logp = eta[:, 1:] - lse[:, None]
        rows = np.arange(c)
        ll += float(wc @ np.where(yc > 0, logp[rows, yc - 1], -lse))
        P = np.exp(logp)
        resid = -P
        resid[rows, yc - 1] += yc > 0  # indicator of the observed level, baseline excluded
        resid *= wc[:, None]
        grad += (resid.T @ Xc).T
        if not want_hess:
            continue
        if S is not None:
            Z = ((np.sqrt(wc)[:, None] * P)[:, :, None] * Xc[:, None, :]).reshape(c, m * p)
            S = syrk(1.0, Z.T, beta=1.0, c=S, trans=0, lower=0, overwrite_c=1)
        V = np.sqrt(wc[:, None] * P * -np.expm1(logp))
        for j in range(m):
            Xs = Xc * V[:, j : j + 1]
            D[j] = syrk(1.0, Xs.T, beta=1.0, c=D[j], trans=0, lower=0, overwrite_c=1)
    if not want_hess:
        return ll, grad.T.ravel(), None
    H = np.zeros((m * p, m * p)) if S is None else -(np.triu(S) + np.triu(S, 1).T)
    for j in range(m):
        H[j * p : (j + 1) * p, j * p : (j + 1) * p] = np.triu(D[j]) + np.triu(D[j], 1).T
    return ll, grad.T.ravel(), H


def _solve_pd(H: np.ndarray, g: np.ndarray) -> np.ndarray:
    """H^-1 g with Jacobi scaling; least squares if H is (numerically) singular."""
    d = np.sqrt(np.clip(np.diag(H), 1e-300, None))
    Hs = H / np.outer(d, d)
    dd = d if g.ndim == 1 else d[:, None]
    try:
        c = linalg.cho_factor(Hs, check_finite=False)
        return linalg.cho_solve(c, g / dd, check_finite=False) / dd
    except linalg.LinAlgError:
        return np.linalg.lstsq(Hs, g / dd, rcond=None)[0] / dd


def _inverse_pd(H: np.ndarray) -> np.ndarray:
    return _solve_pd(H, np.eye(H.shape[0]))


def fit_multinomial(
    X,
    y: np.ndarray,
    K: int,
    weights: np.ndarray,
    *,
    intercept_index: int | None = None,
    alpha: float = 0.0,
    l1_ratio: float = 0.0,
    tol: float = 1e-10,
    coef_tol: float = 1e-8,
    max_iter: int = 100,
    start: np.ndarray | None = None,
) -> MultinomialFit:
    """Newton's method for the multinomial logit; ``y`` holds level codes 0..K-1 (0 = baseline).

    With ``alpha > 0`` and ``l1_ratio > 0``: proximal Newton on the elastic-net objective (see
    the module docstring)."""
    if not (math.isfinite(alpha) and alpha >= 0):
        raise GlmlogitError(f"alpha must be a finite number >= 0, got {alpha}")
    if not 0.0 <= l1_ratio <= 1.0:
        raise GlmlogitError(f"l1_ratio must be in [0, 1], got {l1_ratio}")
    n, p = X.shape
    m = K - 1
    y = np.asarray(y, dtype=np.intp)
    w = np.asarray(weights, dtype=float)
    pos = w > 0
    Xpos = X[pos] if not pos.all() else X
    aliased = aliased_columns(cast(Any, Xpos).toarray() if sp.issparse(Xpos) else Xpos)
    keep = np.flatnonzero(~aliased)
    cols = None if len(keep) == p else keep
    q = len(keep)
    icpt = None
    if intercept_index is not None and not aliased[intercept_index]:
        icpt = int(np.searchsorted(keep, intercept_index))
    wsum = float(w.sum())
    counts = np.bincount(y, weights=w, minlength=K)
    if np.any(counts <= 0):
        raise DataError("every response level needs at least one row with positive weight")
    if start is not None:
        B = np.array(start, dtype=float).reshape(p, m)[keep]
    else:  # the intercept-only MLE, where there is an intercept
        B = np.zeros((q, m))
        if icpt is not None:
            B[icpt] = np.log(counts[1:] / counts[0])
    mask = np.ones(q * m)
    if icpt is not None:
        mask[icpt::q] = 0.0
    chunk = _chunk_rows(n, q, K)
    if alpha > 0 and l1_ratio > 0:
        return _fit_proximal(
            X,
            y,
            w,
            B,
            cols,
            keep,
            aliased,
            p,
            mask,
            alpha,
            l1_ratio,
            tol,
            coef_tol,
            max_iter,
            chunk,
        )
    pen = mask * (alpha * wsum)

    def objective(ll: float, theta: np.ndarray) -> float:
        return ll - 0.5 * float(pen @ theta**2)

    theta = B.T.ravel()
    ll, g, H = _pass(X, y, w, theta.reshape(m, q).T, True, chunk, cols)
    obj = objective(ll, theta)
    history = [-2.0 * ll]
    converged, message, flat = False, "", 0
    it = 0
    while it < max_iter:
        it += 1
        assert H is not None
        step = _solve_pd(H + np.diag(pen), g - pen * theta)
        t, accepted = 1.0, False
        for _ in range(40):  # step-halving on the (penalised) log-likelihood
            new = theta + t * step
            ll_new, g_new, H_new = _pass(X, y, w, new.reshape(m, q).T, True, chunk, cols)
            obj_new = objective(ll_new, new)
            if np.isfinite(obj_new) and obj_new >= obj - 1e-12 * (abs(obj) + 1.0):
                accepted = True
                break
            t *= 0.5
        if not accepted:
            message = "step-halving could not increase the log-likelihood"
            break
        dev_change = abs(obj_new - obj) / (abs(obj_new) + 0.1)
        step_size = float(np.max(np.abs(t * step) / (1.0 + np.abs(new)), initial=0.0))
        theta, ll, g, H, obj = new, ll_new, g_new, H_new, obj_new
        history.append(-2.0 * ll)
        if dev_change < tol and step_size < coef_tol:
            converged = True
            break
        # Under separation the log-likelihood flattens out while the coefficients run away.
        flat = flat + 1 if dev_change < tol else 0
        if flat >= 5:
            message = (
                "the log-likelihood no longer changes but the coefficients keep growing "
                "(the maximum-likelihood estimate may not exist)"
            )
            break
    if not converged and not message:
        message = f"no convergence in {max_iter} Newton iterations"
    coef = np.full((p, m), np.nan)
    coef[keep] = theta.reshape(m, q).T
    cov = np.full((m, p, m, p), np.nan)
    if alpha == 0:
        assert H is not None
        cov[np.ix_(np.arange(m), keep, np.arange(m), keep)] = _inverse_pd(H).reshape(m, q, m, q)
    return MultinomialFit(
        coef=coef,
        cov=cov.reshape(m * p, m * p),
        aliased=aliased,
        loglik=ll,
        n_iter=it,
        converged=converged,
        message=message,
        history=history,
    )


def _fit_proximal(
    X, y, w, B, cols, keep, aliased, p, mask, alpha, l1_ratio, tol, coef_tol, max_iter, chunk
) -> MultinomialFit:
    """Proximal Newton for the elastic net, on the mean scale of the penalised engine:
    F(b) = -loglik(b) / S + sum lam1 |b| + lam2 b^2 / 2, S = sum(w).  Each step minimises the
    quadratic model 1/2 b'(H/S)b - (g/S + (H/S) b0)'b + the penalty (``_quad_solve``'s form),
    then backtracks on F (Armijo)."""
    from .engine.penalized import _quad_solve

    q, m = B.shape
    S = float(w.sum())
    lam1 = alpha * l1_ratio * mask
    lam2 = alpha * (1.0 - l1_ratio) * mask

    def penalty(theta: np.ndarray) -> float:
        return float(lam1 @ np.abs(theta) + 0.5 * (lam2 @ (theta * theta)))

    theta = B.T.ravel()
    ll, g, H = _pass(X, y, w, theta.reshape(m, q).T, True, chunk, cols)
    F = -ll / S + penalty(theta)
    history = [-2.0 * ll]
    converged, message = False, ""
    it = 0
    while it < max_iter:
        it += 1
        assert H is not None
        Hs = H / S
        gs = g / S  # minus the gradient of -loglik / S
        beta = _quad_solve(Hs, gs + Hs @ theta, lam1, lam2, theta, 1e-3 * tol * tol)
        d = beta - theta
        pred = -float(gs @ d) + penalty(beta) - penalty(theta)  # model decrease (<= 0)
        step_size = float(np.max(np.abs(d) / (1.0 + np.abs(theta)), initial=0.0))
        t, accepted = 1.0, False
        for _ in range(50):
            new = theta + t * d
            ll_new, g_new, H_new = _pass(X, y, w, new.reshape(m, q).T, True, chunk, cols)
            F_new = -ll_new / S + penalty(new)
            if np.isfinite(F_new) and F_new <= F + 1e-4 * t * min(pred, 0.0) + 1e-13 * (
                abs(F) + 1e-3
            ):
                accepted = True
                break
            t *= 0.5
        if not accepted:
            if step_size < coef_tol:  # the step is below rounding: the current point stands
                converged = True
            else:
                message = "the line search found no decrease of the penalised objective"
            break
        change = abs(F_new - F) / (abs(F_new) + 0.1)
        step_size *= t
        theta, ll, g, H, F = new, ll_new, g_new, H_new, F_new
        history.append(-2.0 * ll)
        if change < tol and step_size < coef_tol:
            converged = True
            break
    if not converged and not message:
        message = f"no convergence in {max_iter} proximal Newton iterations"
    # KKT: with r = -g/S + lam2 b the gradient of the smooth part, r_j = -lam1_j sign(b_j) where
    # b_j != 0 and |r_j| <= lam1_j where b_j = 0.
    r = -g / S + lam2 * theta
    nz = theta != 0
    resid = np.where(nz, np.abs(r + lam1 * np.sign(theta)), np.maximum(np.abs(r) - lam1, 0.0))
    kkt = float(np.max(resid, initial=0.0))
    kkt_tol = 1e-6 * max(1.0, float(np.max(lam1, initial=0.0)))
    if converged and not kkt <= kkt_tol:
        converged = False
        message = f"the KKT conditions are violated at the solution (largest residual {kkt:.3g})"
    coef = np.full((p, m), np.nan)
    coef[keep] = theta.reshape(m, q).T
    cov = np.full((m * p, m * p), np.nan)
    return MultinomialFit(
        coef=coef,
        cov=cov,
        aliased=aliased,
        loglik=ll,
        n_iter=it,
        converged=converged,
        message=message,
        history=history,
        kkt_violation=kkt,
    )


def separation_lp(X, y: np.ndarray, K: int, weights: np.ndarray, aliased: np.ndarray):
    """Konis' LP for K levels: maximise the sum of the margins ``x_i'(b_{y_i} - b_k)`` subject
    to every margin >= 0 and ``|b| <= 1`` (``b_0 = 0``; rows with weight 0 left out).

    Returns ``(b, complete)``: ``b`` as p x (K-1), NaN for aliased columns, 0 where finite;
    ``complete``: some direction makes *every* margin strictly positive (a second LP)."""
    Xd = cast(Any, X).toarray() if sp.issparse(X) else np.asarray(X, float)
    pos = np.asarray(weights) > 0
    Xk, yk = Xd[pos][:, ~aliased], np.asarray(y)[pos]
    q, m = Xk.shape[1], K - 1
    rows, cols, vals = [], [], []
    r0, qi = 0, np.arange(q)
    for k in range(K):  # one row per (i, k) with y_i != k: the margin of level y_i over k
        idx = np.flatnonzero(yk != k)
        r = r0 + np.arange(len(idx))
        own = yk[idx]
        has = own > 0
        rows.append(np.repeat(r[has], q))
        cols.append(((own[has] - 1)[:, None] * q + qi).ravel())
        vals.append(Xk[idx[has]].ravel())
        if k > 0:
            rows.append(np.repeat(r, q))
            cols.append(np.tile((k - 1) * q + qi, len(idx)))
            vals.append(-Xk[idx].ravel())
        r0 += len(idx)
    M = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(r0, m * q)
    )
    c = -np.asarray(M.sum(axis=0)).ravel()
    res = _linprog(c, A_ub=-M, b_ub=np.zeros(r0), bounds=(-1, 1), method="highs-ds")
    if res.status != 0:
        raise GlmlogitError(f"the separation linear program failed: {res.message}")
    b = np.where(np.abs(res.x) > _SEP_TOL, res.x, 0.0)
    complete = False
    if np.any(b != 0):  # max t subject to margin_ik >= t ||x_i||_1, t <= 1
        scale = np.asarray(abs(M).sum(axis=1)).ravel()
        A = sp.hstack([-M, sp.csr_matrix(scale[:, None])]).tocsr()
        obj = np.zeros(m * q + 1)
        obj[-1] = -1.0
        res2 = _linprog(obj, A_ub=A, b_ub=np.zeros(r0), bounds=(-1, 1), method="highs-ds")
        complete = res2.status == 0 and -res2.fun > _SEP_TOL
    full = np.full((Xd.shape[1], m), np.nan)
    full[~aliased] = b.reshape(m, q).T
    return full, complete


@dataclass
class MultinomialSeparation:
    """``status``: "none", "quasi-complete" or "complete"; ``directions``: DataFrame (term x
    level) of "finite", "+inf", "-inf", "aliased"; ``lp_solution``: the LP's direction."""

    status: str
    directions: pd.DataFrame
    lp_solution: pd.DataFrame

    @property
    def separated(self) -> bool:
        return self.status != "none"

    def __str__(self) -> str:
        if not self.separated:
            return "No separation: the maximum-likelihood estimate exists (finite)."
        inf = [
            f"{t} [{lev}] -> {d}"
            for t, row in self.directions.iterrows()
            for lev, d in row.items()
            if d in ("+inf", "-inf")
        ]
        shown = ", ".join(inf[:8]) + (f", ... ({len(inf)} in all)" if len(inf) > 8 else "")
        return (
            f"{self.status} separation: the maximum-likelihood estimate does not exist; "
            f"infinite coefficients: {shown}. Use a penalty (alpha > 0) for finite estimates."
        )

    __repr__ = __str__


# ------------------------------------------------------------------------------------------------
# Model and entry points
# ------------------------------------------------------------------------------------------------
def _levels_of(values: pd.Series) -> list:
    if isinstance(values.dtype, pd.CategoricalDtype):
        return list(values.cat.categories)
    uniq = pd.unique(values.dropna())
    try:
        return sorted(uniq)
    except TypeError:
        return sorted(uniq, key=str)


def _codes(values: pd.Series, levels: list) -> np.ndarray:
    codes = pd.Categorical(values, categories=levels).codes.astype(float)
    codes[codes < 0] = np.nan
    return codes


def _finish_levels(codes: np.ndarray, levels: list, baseline, name: str):
    """Keep the levels present in the fitted rows, baseline first; codes renumbered."""
    present = np.unique(codes.astype(np.intp))
    if len(present) < len(levels):
        empty = [levels[i] for i in range(len(levels)) if i not in set(present)]
        warnings.warn(
            f"response {name!r}: level(s) {empty} have no fitted rows and are dropped",
            DataWarning,
            stacklevel=3,
        )
    levels = [levels[i] for i in present]
    codes = np.searchsorted(present, codes.astype(np.intp))
    if baseline is not None:
        if baseline not in levels:
            raise DataError(f"baseline={baseline!r} is not a level of {name!r}: {levels}")
        b = levels.index(baseline)
        order = [b] + [i for i in range(len(levels)) if i != b]
        codes = np.argsort(order)[codes]
        levels = [levels[i] for i in order]
    if len(levels) < 2:
        raise DataError(f"response {name!r} has {len(levels)} level(s); a multinomial needs >= 2")
    return codes.astype(np.intp), levels


class Multinomial:
    """Multinomial logit on a design: ``Multinomial(y, X, weights=None).fit()``.

    ``y``: labels (any values; a pandas Categorical keeps its order); ``X``: the design (array or
    DataFrame; add the intercept column yourself); ``baseline``: the reference level."""

    def __init__(
        self,
        y=None,
        X=None,
        weights=None,
        *,
        baseline=None,
        column_names=None,
        design: Design | None = None,
        levels: list | None = None,
    ):
        if design is None:
            if y is None or X is None:
                raise GlmlogitError("Multinomial needs y and X (or use gl.multinomial)")
            ys = y if isinstance(y, pd.Series) else pd.Series(np.asarray(y))
            if ys.isna().any():
                raise DataError(f"y has {int(ys.isna().sum())} missing value(s); drop them first")
            all_levels = _levels_of(ys)
            design = design_from_arrays(_codes(ys, all_levels), X, weights, names=column_names)
            codes, levels = _finish_levels(design.y, all_levels, baseline, design.response_name)
            design = dataclasses.replace(design, y=codes.astype(float), response_levels=levels)
        if levels is None:
            levels = list(design.response_levels or [])
        self.design = design
        self.levels = levels
        self.codes = np.asarray(design.y, dtype=np.intp)

    def fit(
        self,
        *,
        tol: float = 1e-10,
        coef_tol: float = 1e-8,
        max_iter: int = 100,
        alpha: float = 0.0,
        l1_ratio: float = 0.0,
        start=None,
    ) -> MultinomialResults:
        """``alpha``, ``l1_ratio``: the elastic-net penalty (module docstring); 0 = unpenalised."""
        if not alpha >= 0 or not math.isfinite(alpha):
            raise GlmlogitError(f"alpha must be a finite number >= 0, got {alpha}")
        if not 0.0 <= l1_ratio <= 1.0:
            raise GlmlogitError(f"l1_ratio must be in [0, 1], got {l1_ratio}")
        d = self.design
        fit = fit_multinomial(
            d.X,
            self.codes,
            len(self.levels),
            d.weights,
            intercept_index=d.intercept_index,
            alpha=float(alpha),
            l1_ratio=float(l1_ratio),
            tol=tol,
            coef_tol=coef_tol,
            max_iter=max_iter,
            start=start,
        )
        res = MultinomialResults(self, fit, alpha=float(alpha), l1_ratio=float(l1_ratio))
        if not fit.converged:
            # The LP has a row per (row, other level): automatic only while that stays small.
            lp_rows = len(self.codes) * (len(self.levels) - 1)
            sep = res.separation if alpha == 0 and lp_rows <= SEPARATION_LP_MAX_ROWS else None
            if sep is not None and sep.separated:
                warnings.warn(str(sep), PerfectSeparationWarning, stacklevel=2)
            else:
                hint = "" if sep is not None or alpha > 0 else "; res.separation checks separation"
                warnings.warn(fit.message + hint, ConvergenceWarning, stacklevel=2)
        return res


def multinomial(
    formula: str,
    data,
    *,
    baseline=None,
    weights=None,
    na_action: str = "drop",
    tol: float = 1e-10,
    coef_tol: float = 1e-8,
    max_iter: int = 100,
    alpha: float = 0.0,
    l1_ratio: float = 0.0,
) -> MultinomialResults:
    """Multinomial (softmax) logit: ``gl.multinomial("choice ~ income + C(region)", df)``.

    The response is a column of the data with K >= 2 levels (K = 2 is the binary logit).
    ``baseline``: the reference level (default: the first category of a Categorical, else the
    first in sorted order).  ``weights``: case weights (column name or array).  ``alpha``,
    ``l1_ratio``: elastic-net penalty, 0 = ridge (see the module docstring); ``tol``/``coef_tol``: convergence on relative deviance
    change and on the Newton step."""
    if not isinstance(formula, str) or "~" not in formula:
        raise FormulaError(f"formula {formula!r} must be a string 'y ~ x1 + x2'")
    lhs, rhs = (s.strip() for s in formula.split("~", 1))
    df = _as_frame(data)
    if lhs not in df.columns:
        raise FormulaError(
            f"the response of a multinomial model must be a column of the data; {lhs!r} is not "
            f"(columns: {list(map(str, df.columns))})"
        )
    if _PLACEHOLDER in df.columns:
        raise DataError(f"the data may not have a column named {_PLACEHOLDER!r}")
    all_levels = _levels_of(df[lhs])
    codes = pd.Series(_codes(df[lhs], all_levels), index=df.index, name=_PLACEHOLDER)
    work = pd.concat([df, codes], axis=1)  # a new frame: the caller's data is never modified
    d = build_design(
        f"{_PLACEHOLDER} ~ {rhs}", work, weights=weights, na_action=na_action, sparse=False
    )
    y, levels = _finish_levels(d.y, all_levels, baseline, lhs)
    d = dataclasses.replace(
        d, y=y.astype(float), response_name=lhs, formula=formula, frame=df, response_levels=levels
    )
    return Multinomial(design=d, levels=levels).fit(
        tol=tol, coef_tol=coef_tol, max_iter=max_iter, alpha=alpha, l1_ratio=l1_ratio
    )


# ------------------------------------------------------------------------------------------------
# Results
# ------------------------------------------------------------------------------------------------
class MultinomialResults:
    """Results of a multinomial logit fit; names follow statsmodels' MNLogitResults."""

    def __init__(
        self, model: Multinomial, fit: MultinomialFit, alpha: float = 0.0, l1_ratio: float = 0.0
    ):
        self.model = model
        self.design = model.design
        self.levels = list(model.levels)
        self.baseline = self.levels[0]
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self._fit = fit
        self.converged = fit.converged
        self.n_iter = fit.n_iter
        self.history = list(fit.history)
        self.llf = float(fit.loglik)
        self.deviance = -2.0 * self.llf

    # --- labels -------------------------------------------------------------------------------
    @property
    def _terms(self) -> list[str]:
        return self.design.column_names

    @cached_property
    def _stacked_index(self) -> pd.MultiIndex:
        return pd.MultiIndex.from_product([self.levels[1:], self._terms], names=["level", "term"])

    @cached_property
    def param_names(self) -> list[str]:
        """Names of the stacked coefficients, ``term[level]``, usable in ``wald_test``."""
        return [f"{t}[{lev}]" for lev, t in self._stacked_index]

    def _frame(self, values: np.ndarray) -> pd.DataFrame:
        cols = pd.Index(self.levels[1:], name="level")
        return pd.DataFrame(values, index=pd.Index(self._terms, name="term"), columns=cols)

    # --- coefficients -------------------------------------------------------------------------
    @cached_property
    def params(self) -> pd.DataFrame:
        return self._frame(self._fit.coef)

    @cached_property
    def aliased(self) -> pd.Series:
        return pd.Series(self._fit.aliased, index=self._terms, name="aliased")

    def cov_params(self) -> pd.DataFrame:
        """Covariance of the stacked coefficients, index and columns (level, term)."""
        return pd.DataFrame(self._fit.cov, index=self._stacked_index, columns=self._stacked_index)

    @cached_property
    def bse(self) -> pd.DataFrame:
        m = len(self.levels) - 1
        return self._frame(np.sqrt(np.diag(self._fit.cov)).reshape(m, -1).T)

    @cached_property
    def tvalues(self) -> pd.DataFrame:
        return self.params / self.bse

    @cached_property
    def pvalues(self) -> pd.DataFrame:
        return self._frame(2.0 * stats.norm.sf(np.abs(self.tvalues.to_numpy())))

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Wald intervals: columns lower, upper; index (level, term), as statsmodels' MNLogit."""
        if not 0 < alpha < 1:
            raise GlmlogitError(f"alpha must be in (0, 1), got {alpha}")
        z = stats.norm.isf(alpha / 2)
        b = self.params.to_numpy().T.ravel()
        s = self.bse.to_numpy().T.ravel()
        return pd.DataFrame({"lower": b - z * s, "upper": b + z * s}, index=self._stacked_index)

    # --- model-level numbers ------------------------------------------------------------------
    @cached_property
    def rank(self) -> int:
        return int((~self._fit.aliased).sum())

    @cached_property
    def nobs(self) -> float:
        """Sum of the case weights (the number of rows for unit weights), as nnet's logLik."""
        s = float(np.sum(self.design.weights))
        return int(s) if s.is_integer() else s

    @property
    def n_dropped(self) -> int:
        return self.design.n_dropped

    @cached_property
    def _has_intercept(self) -> bool:
        i = self.design.intercept_index
        return i is not None and not self._fit.aliased[i]

    @cached_property
    def df_model(self) -> int:
        return (len(self.levels) - 1) * (self.rank - int(self._has_intercept))

    @cached_property
    def k_params(self) -> int:
        """Number of estimated coefficients, (K-1) x rank (nnet's edf)."""
        return (len(self.levels) - 1) * self.rank

    @cached_property
    def df_resid(self) -> float:
        return self.nobs - self.k_params

    @cached_property
    def llnull(self) -> float:
        """Log-likelihood of the intercept-only model (observed level shares; uniform when the
        model has no intercept)."""
        d = self.design
        counts = np.bincount(self.model.codes, weights=d.weights, minlength=len(self.levels))
        if not self._has_intercept:
            return float(counts.sum() * -np.log(len(self.levels)))
        return float(np.sum(counts * np.log(counts / counts.sum())))

    @property
    def null_deviance(self) -> float:
        return -2.0 * self.llnull

    @cached_property
    def aic(self) -> float:
        return -2.0 * self.llf + 2.0 * self.k_params

    @cached_property
    def bic(self) -> float:
        """-2 llf + k log(nobs), nobs the sum of case weights (R's BIC on a multinom fit)."""
        return -2.0 * self.llf + self.k_params * np.log(self.nobs)

    def pseudo_rsquared(self, kind: str = "mcf") -> float:
        """McFadden's 1 - llf/llnull ("mcf") or Cox-Snell 1 - exp(2 (llnull - llf) / n) ("cs")."""
        if kind == "mcf":
            return 1.0 - self.llf / self.llnull
        if kind == "cs":
            return float(1.0 - np.exp(2.0 * (self.llnull - self.llf) / self.nobs))
        raise GlmlogitError(f"pseudo_rsquared kind must be 'mcf' or 'cs', got {kind!r}")

    # --- prediction ---------------------------------------------------------------------------
    def predict(self, newdata=None, which: str = "prob") -> pd.DataFrame:
        """Class probabilities (columns: every level, baseline first; rows sum to 1), or with
        ``which="linear"`` the K-1 linear predictors x'b_k.  Rows with missing values give NaN."""
        if which not in ("prob", "linear"):
            raise GlmlogitError(f"which must be 'prob' or 'linear', got {which!r}")
        d = self.design
        if newdata is None:
            X, index = d.X, d.index
        else:
            X = d.rebuild(newdata)
            index = newdata.index if isinstance(newdata, pd.DataFrame) else pd.RangeIndex(len(X))
        X = cast(Any, X).toarray() if sp.issparse(X) else np.asarray(X, dtype=float)
        B = np.where(self._fit.aliased[:, None], 0.0, self._fit.coef)
        ok = np.isfinite(X).all(axis=1)
        eta = np.full((X.shape[0], len(self.levels)), np.nan)
        eta[ok, 0] = 0.0
        eta[ok, 1:] = X[ok] @ B
        if which == "linear":
            return pd.DataFrame(eta[:, 1:], index=index, columns=self.levels[1:])
        out = np.full_like(eta, np.nan)
        out[ok] = np.exp(eta[ok] - logsumexp(eta[ok], axis=1)[:, None])
        return pd.DataFrame(out, index=index, columns=self.levels)

    @cached_property
    def fittedvalues(self) -> pd.DataFrame:
        return self.predict()

    # --- tests --------------------------------------------------------------------------------
    def _constraints(self, hypothesis, q=None) -> tuple[np.ndarray, np.ndarray]:
        m, p = len(self.levels) - 1, len(self._terms)
        if isinstance(hypothesis, str):
            from formulaic.utils.constraints import LinearConstraints

            try:  # in terms of the design's columns: the same restriction at every level
                lc = LinearConstraints.from_spec(hypothesis, variable_names=self._terms)
                R1 = np.asarray(lc.constraint_matrix, float)
                q1 = np.asarray(lc.constraint_values, float)
                return np.kron(np.eye(m), R1), np.tile(q1, m)
            except Exception:
                pass
            try:  # in terms of the stacked names, term[level]
                lc = LinearConstraints.from_spec(hypothesis, variable_names=self.param_names)
            except Exception as err:
                raise GlmlogitError(
                    f"cannot parse hypothesis {hypothesis!r}: name design columns (tested at "
                    f"every level) or coefficients as term[level], e.g. {self.param_names[-1]!r}"
                ) from err
            return np.asarray(lc.constraint_matrix, float), np.asarray(lc.constraint_values, float)
        R = np.atleast_2d(np.asarray(hypothesis, dtype=float))
        qv = np.zeros(R.shape[0]) if q is None else np.asarray(q, dtype=float)
        if R.shape[1] == p and m > 1:
            return np.kron(np.eye(m), R), np.tile(np.broadcast_to(qv, (R.shape[0],)), m)
        if R.shape[1] != m * p:
            raise GlmlogitError(f"R must have {p} or {m * p} columns, got {R.shape[1]}")
        return R, qv

    def wald_test(self, hypothesis, q=None) -> inference.TestResult:
        """Wald chi-squared test.  ``"x1 = 0"`` (design column names) tests the restriction at
        every non-baseline level jointly; ``"x1[versicolor] = x1[virginica]"`` names single
        coefficients; or a matrix R with p columns (applied at every level) or (K-1) p columns
        (stacked level by level, as ``cov_params()``), and q."""
        if self.alpha > 0:
            raise GlmlogitError("Wald tests are not available for penalised fits")
        R, qv = self._constraints(hypothesis, q)
        b = self._fit.coef.T.ravel()
        return inference.wald(b, self._fit.cov, R, qv, use_f=False, df_resid=self.df_resid)

    def compare_lr(self, smaller: MultinomialResults) -> inference.TestResult:
        """Likelihood-ratio test of this model against a nested one fitted to the same rows."""
        if not isinstance(smaller, MultinomialResults):
            raise GlmlogitError("compare_lr needs another multinomial fit")
        if smaller.levels != self.levels or not np.array_equal(
            smaller.design.kept_rows, self.design.kept_rows
        ):
            raise GlmlogitError("the models must be fitted to the same rows and response levels")
        ddf = self.k_params - smaller.k_params
        if ddf <= 0:
            raise GlmlogitError(
                f"the models are not nested as given: {self.k_params} vs {smaller.k_params} "
                "coefficients"
            )
        stat = max(2.0 * (self.llf - smaller.llf), 0.0)
        return inference.TestResult(
            stat, ddf, float(stats.chi2.sf(stat, ddf)), "chi2", None, "LR test"
        )

    @cached_property
    def separation(self) -> MultinomialSeparation:
        d = self.design
        b, complete = separation_lp(
            d.X, self.model.codes, len(self.levels), d.weights, self._fit.aliased
        )
        dirs = np.where(
            np.isnan(b), "aliased", np.where(b > 0, "+inf", np.where(b < 0, "-inf", "finite"))
        )
        status = (
            "none"
            if np.all(np.nan_to_num(b) == 0)
            else ("complete" if complete else "quasi-complete")
        )
        return MultinomialSeparation(status, self._frame(dirs), self._frame(b))

    def summary(self, alpha: float = 0.05) -> MultinomialSummary:
        return MultinomialSummary(self, alpha=alpha)

    def __repr__(self) -> str:
        return (
            f"<MultinomialResults: {self.design.response_name} ({len(self.levels)} levels, "
            f"baseline {self.baseline!r}) ~ {len(self._terms)} columns, n={self.nobs}, "
            f"deviance={self.deviance:.6g}>"
        )


# ------------------------------------------------------------------------------------------------
# Summary: one coefficient table per non-baseline level, laid out as glmlogit.summary.Summary
# ------------------------------------------------------------------------------------------------
class MultinomialSummary:
    """``print(s)``; ``s.to_frame()``, ``to_markdown()``, ``to_dict()``."""

    stat_name = "z"

    def __init__(self, res: MultinomialResults, alpha: float = 0.05):
        if not 0 < alpha < 1:
            raise GlmlogitError(f"alpha must be in (0, 1), got {alpha}")
        self.res, self.alpha = res, float(alpha)
        ci = res.conf_int(alpha)
        st = lambda f: f.to_numpy().T.ravel()  # noqa: E731 - stacked level by level
        self._frame = pd.DataFrame(
            {
                "coef": st(res.params),
                "std_err": st(res.bse),
                "z": st(res.tvalues),
                "pvalue": st(res.pvalues),
                "ci_lower": ci["lower"].to_numpy(),
                "ci_upper": ci["upper"].to_numpy(),
            },
            index=res._stacked_index,
        )
        self.title = (
            f"Multinomial logit model: {len(res.levels)} levels, baseline {str(res.baseline)!r}"
        )
        d = res.design
        info = [("Formula", str(d.formula))] if d.formula else []
        info.append(("Response", str(d.response_name)))
        info.append(("Levels", ", ".join(map(str, res.levels))))
        nobs = f"{res.nobs}"
        if np.any(np.asarray(d.weights) != 1):
            nobs += f" (sum of case weights over {int(np.count_nonzero(d.weights))} rows)"
        if res.n_dropped:
            nobs += (
                f" ({res.n_dropped} row{'s' if res.n_dropped != 1 else ''} dropped for "
                "missing values)"
            )
        info.append(("Observations", nobs))
        if d.weights_name or np.any(np.asarray(d.weights) != 1):
            info.append(("Case weights", str(d.weights_name or "(array)")))
        state = "converged" if res.converged else "did NOT converge"
        meth = "PROXIMAL NEWTON" if res.alpha > 0 and res.l1_ratio > 0 else "NEWTON"
        info.append(("Method", f"{meth}, {res.n_iter} iteration{'s' * (res.n_iter != 1)}, {state}"))
        if res.alpha > 0:
            r = res.l1_ratio
            kind = "L2" if r == 0 else "L1" if r == 1 else f"elastic net, l1_ratio = {r:g}"
            info.append(("Penalty", f"{kind}, alpha = {res.alpha:g} (intercepts unpenalised)"))
        self.info = info
        self.stats = {
            "null_deviance": res.null_deviance,
            "deviance": res.deviance,
            "df_resid": res.df_resid,
            "llf": res.llf,
            "aic": res.aic,
            "bic": res.bic,
            "pseudo_rsquared_mcfadden": res.pseudo_rsquared("mcf"),
        }
        notes = []
        al = [str(t) for t, a in res.aliased.items() if a]
        if al:
            notes.append(
                f"{len(al)} design column(s) not defined because of singularities "
                f"(estimates NaN at every level, as R's NA): {', '.join(al)}"
            )
        if res.alpha > 0:
            notes.append("Penalised fit: standard errors, tests and intervals are not reported.")
        if not res.converged:
            notes.append(res._fit.message or "the fit did not converge")
            if res.alpha == 0 and res.separation.separated:
                notes.append(f"Separation: {res.separation}")
        self.notes = notes

    def _headers(self) -> list[str]:
        lo, hi = self.alpha / 2, 1 - self.alpha / 2
        return ["Estimate", "Std. Error", "z value", "Pr(>|z|)", _pct(lo), _pct(hi), ""]

    def _cells(self, level) -> list[tuple[str, list[str]]]:
        f = self._frame
        est_fmt = _column_format(f["coef"].to_numpy())
        se_fmt = _column_format(f["std_err"].to_numpy())
        rows = []
        for term, row in f.loc[level].iterrows():
            if self.res.aliased[term]:
                rows.append((str(term), ["aliased", "", "", "", "", "", ""]))
                continue

            def num(v, fmt):
                return fmt(v) if math.isfinite(v) else "NA"

            rows.append(
                (
                    str(term),
                    [
                        num(row["coef"], est_fmt),
                        num(row["std_err"], se_fmt),
                        f"{row['z']:.3f}" if math.isfinite(row["z"]) else "NA",
                        format_pvalue(row["pvalue"]) or "NA",
                        num(row["ci_lower"], est_fmt),
                        num(row["ci_upper"], est_fmt),
                        significance_stars(row["pvalue"]),
                    ],
                )
            )
        return rows

    def _caption(self, level) -> str:
        return (
            f"Level {str(level)!r} vs {str(self.res.baseline)!r}: coefficients (Wald "
            f"{100 * (1 - self.alpha):.10g}% confidence intervals):"
        )

    def _stat_lines(self) -> list[tuple[str, str]]:
        s = self.stats
        return [
            ("Null deviance", f"{format_number(s['null_deviance'])} (intercept-only model)"),
            (
                "Residual deviance",
                f"{format_number(s['deviance'])} on {s['df_resid']:g} degrees of freedom",
            ),
            ("Log-likelihood", format_number(s["llf"])),
            ("AIC", format_number(s["aic"])),
            ("BIC", format_number(s["bic"])),
            ("Pseudo R-squared", f"{format_number(s['pseudo_rsquared_mcfadden'], 4)} (McFadden)"),
        ]

    def __str__(self) -> str:
        key_w = max(len(k) for k, _ in self.info + self._stat_lines()) + 2
        out = [self.title, ""] + [f"{k + ':':<{key_w}}{v}" for k, v in self.info]
        headers = self._headers()
        tables = {lev: self._cells(lev) for lev in self.res.levels[1:]}
        allrows = [r for rows in tables.values() for r in rows]
        tw = max([len(t) for t, _ in allrows] + [1])
        widths = [max([len(h)] + [len(c[i]) for _, c in allrows]) for i, h in enumerate(headers)]
        gaps = ["  "] * 6 + [" "]

        def line(term: str, cells: list[str]) -> str:
            s = f"{term:<{tw}}"
            for i, c in enumerate(cells):
                s += gaps[i] + (f"{c:<{widths[i]}}" if i == 6 else f"{c:>{widths[i]}}")
            return s.rstrip()

        for lev, rows in tables.items():
            out += ["", self._caption(lev), line("", headers)] + [line(t, c) for t, c in rows]
        out += ["---", LEGEND, ""] + [f"{k + ':':<{key_w}}{v}" for k, v in self._stat_lines()]
        if self.notes:
            out += ["", "Notes:"] + [f"- {n}" for n in self.notes]
        return "\n".join(out) + "\n"

    __repr__ = __str__

    def to_frame(self) -> pd.DataFrame:
        """Coefficient table, index (level, term): coef, std_err, z, pvalue, ci_lower, ci_upper."""
        return self._frame.copy()

    def to_markdown(self) -> str:
        out = [f"**{_md_escape(self.title)}**", ""]
        out += [
            f"- {k}: {_md_code(v) if k in ('Formula', 'Response') else _md_escape(v)}"
            for k, v in self.info
        ]
        aligns = ["l"] + ["r"] * 6 + ["l"]
        heads = [_md_escape(h) for h in ["Term"] + self._headers()]
        for lev in self.res.levels[1:]:
            body = [[_md_code(t)] + [_md_escape(c) for c in cells] for t, cells in self._cells(lev)]
            out += ["", _md_escape(self._caption(lev)), ""] + _md_table(heads, body, aligns)
        out += ["", _md_escape(LEGEND.replace("  ", " ")), ""]
        stats_rows = [[_md_escape(k), _md_escape(v)] for k, v in self._stat_lines()]
        out += _md_table(["Statistic", "Value"], stats_rows, ["l", "l"])
        if self.notes:
            out += ["", "**Notes**", ""] + ["- " + _md_escape(n) for n in self.notes]
        return "\n".join(out) + "\n"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: plain Python numbers and strings, NaN and infinities as None."""
        r, d = self.res, self.res.design
        coefs = [
            {
                "level": str(lev),
                "term": str(t),
                **{str(k): _json_float(v) for k, v in zip(self._frame.columns, vals)},
                "aliased": bool(r.aliased[t]),
            }
            for (lev, t), vals in zip(self._frame.index, self._frame.to_numpy())
        ]
        return {
            "model": {
                "family": "multinomial",
                "link": "logit",
                "formula": d.formula,
                "response": str(d.response_name),
                "levels": [str(v) for v in r.levels],
                "baseline": str(r.baseline),
                "nobs": _json_float(r.nobs),
                "n_dropped": int(r.n_dropped),
                "method": "newton",
                "n_iter": int(r.n_iter),
                "converged": bool(r.converged),
                "alpha": float(r.alpha),
                "l1_ratio": float(r.l1_ratio),
            },
            "alpha": self.alpha,
            "statistic": "z",
            "coefficients": coefs,
            "statistics": {k: _json_float(v) for k, v in self.stats.items()},
            "notes": list(self.notes),
        }
