"""The multinomial engine: Newton (and proximal Newton for L1 penalties) on the stacked
(K-1) p coefficients, passes over row chunks, and the K-level separation LP.  Arrays in, arrays
out; the model, the results and their summary are in ``multinomial.py`` and
``multinomial_summary.py`` (see ``multinomial.py`` for the model and the methods)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import linalg
from scipy.linalg import blas
from scipy.optimize import linprog

from .errors import (
    DataError,
    GlmlogitError,
)
from .separation import aliased_columns

_SEP_TOL = math.sqrt(np.finfo(float).eps)  # detectseparation's beta_tolerance
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
