"""Iteratively reweighted least squares (Fisher scoring), as R's ``glm.fit``, on any rows object.

Each iteration is one pass over the rows (``rows.accumulate``) returning X'WX, the score and the
deviance; everything else is p x p algebra done here, once.  The update is written in Newton form,
beta + (X'WX)^-1 X'u, so that the fixed point solves the score equations X'u = 0 to rounding
whatever the conditioning of X'WX (the X'Wz form would carry the solve's error into beta).
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import linalg, sparse
from scipy.linalg import lapack

from ..errors import ConvergenceWarning, FitError
from ..families import Family
from .rows import PassStats

ALIAS_TOL = 1e-7  # R's glm.fit / lm QR tolerance on column norms
_SCREEN_TOL = 1e-9  # squared residual ratio below which a column is checked with a QR


@dataclass
class Fit:
    """Arrays out of the engine.  Coefficients of aliased columns are NaN."""

    coef: np.ndarray
    aliased: np.ndarray
    cov_unscaled: np.ndarray  # (X'WX)^-1 at the solution, NaN rows/cols for aliased columns
    xtwx: np.ndarray
    deviance: float
    n_iter: int
    converged: bool
    eta: np.ndarray
    mu: np.ndarray
    history: list[float] = field(default_factory=list)
    message: str = ""
    diverging: bool = False  # stopped on R's deviance rule while coefficients still grew
    step: np.ndarray | None = None  # the next (not taken) IRLS step at the solution, NaN aliased


def screen_aliased(
    H: np.ndarray, tol: float = _SCREEN_TOL, diag_block: np.ndarray | None = None
) -> np.ndarray:
    """Columns whose (weighted) residual after regressing on the earlier kept columns is tiny.

    In-order Cholesky on the correlation-scaled X'WX: the squared pivot of column j is
    1 - R^2 of column j on the kept columns before it.  Only a screen: X'WX squares the
    condition number, so flagged columns are confirmed on the rows with a QR (``confirm_aliased``).
    """
    p = H.shape[0]
    d = np.sqrt(np.maximum(np.diag(H), 0.0))
    aliased = d <= 0
    safe = np.where(aliased, 1.0, d)
    A = H / safe[:, None]  # one p x p temporary, not two (outer(d, d) was 2.2 s at p = 10,010)
    A /= safe[None, :]
    if diag_block is not None and len(diag_block) and not aliased.any():
        # 1 / (A^-1)_jj is column j's squared residual ratio on *all* the other columns, a lower
        # bound of its in-order pivot: all of them >= tol means no column is flagged, in any
        # order.  Through the diagonal block that costs O(k p_rest^2), not a p^3 Cholesky;
        # otherwise the in-order screen below decides, as without the block.
        try:
            inv_diag = ArrowFactor(A, diag_block).inverse_diag()
            if np.all(inv_diag > 0) and np.all(1.0 / inv_diag >= tol):
                return aliased
        except linalg.LinAlgError:
            pass
    if not aliased.any():  # the common case: one LAPACK Cholesky decides it
        try:
            Lf = linalg.cholesky(A, lower=True, check_finite=False)
            if np.all(np.diag(Lf) ** 2 >= tol):
                return aliased
        except linalg.LinAlgError:
            pass
    L = np.zeros((p, p))
    keep: list[int] = []
    for j in range(p):
        if aliased[j]:
            continue
        k = len(keep)
        if k:
            lj = linalg.solve_triangular(L[:k, :k], A[keep, j], lower=True, check_finite=False)
            r = A[j, j] - lj @ lj
        else:
            lj, r = np.zeros(0), A[j, j]
        if not np.isfinite(r) or r < tol:
            aliased[j] = True
        else:
            L[k, :k] = lj
            L[k, k] = np.sqrt(r)
            keep.append(j)
    return aliased


def confirm_aliased(rows, candidates: np.ndarray, tol: float = ALIAS_TOL) -> np.ndarray:
    """R's rule on the rows themselves: column j is aliased when the norm of its residual on
    the earlier kept columns is below ``tol`` times its own norm (Householder QR, in order)."""
    p = len(candidates)
    if not candidates.any():
        return candidates
    norms = rows.column_norms(np.arange(p))
    aliased = norms <= 0
    while True:
        keep = np.flatnonzero(~aliased)
        R = rows.weighted_r(keep)
        diag = np.abs(np.diag(R)) if R.shape[0] >= len(keep) else np.zeros(len(keep))
        ratio = np.zeros(len(keep))
        ratio[: len(diag)] = diag
        bad = ratio < tol * norms[keep]
        if not bad.any():
            return aliased
        aliased[keep[np.flatnonzero(bad)[0]]] = True  # drop the first offender, re-check the rest


def aliased_columns(X, weights=None, tol: float = ALIAS_TOL) -> np.ndarray:
    """R's in-order aliasing rule (``qr(x, tol = 1e-7)`` with limited pivoting) on a dense
    design, rows weighted by sqrt(weights): the engine's screen on X'WX picks candidates and a
    Householder QR on the rows decides them.  One implementation for the fit, Firth and the
    separation check."""
    from .rows import DenseRows

    if sparse.issparse(X):
        from .sparse import SparseRows

        X_in: Any = X
        Xs: Any = sparse.csr_matrix(X_in).astype(np.float64)
        w = np.ones(Xs.shape[0]) if weights is None else np.asarray(weights, dtype=float)
        if Xs.shape[1] == 0:
            return np.zeros(0, dtype=bool)
        srows = SparseRows(Xs, np.zeros(Xs.shape[0]), w)
        H = (srows._XT @ (sparse.diags(w) @ Xs)).toarray()
        cand = screen_aliased(H)
        return confirm_aliased(srows, cand, tol) if cand.any() else cand
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] == 0:
        return np.zeros(X.shape[-1] if X.ndim == 2 else 0, dtype=bool)
    w = np.ones(X.shape[0]) if weights is None else np.asarray(weights, dtype=float)
    rows = DenseRows(X, np.zeros(X.shape[0]), w)
    sw = np.sqrt(w)
    H = np.zeros((X.shape[1], X.shape[1]))
    for s in range(0, rows.n, rows.chunk):
        Xs = X[s : s + rows.chunk] * sw[s : s + rows.chunk, None]
        H += Xs.T @ Xs
    cand = screen_aliased(H)
    return confirm_aliased(rows, cand, tol) if cand.any() else cand


class ArrowFactor:
    """X'WX = [[D, C'], [C, A]] with D diagonal (one factor's levels: they never share a row),
    factored through the Schur complement S = A - C D^-1 C' (the Cholesky factorization with the
    diagonal block first): O(k m^2 + m^3) for k levels and m other columns, against (k + m)^3 / 3.
    ``diag_pos`` are the positions of D in H; raises LinAlgError when H is not positive
    definite (a level with zero weight, or S not positive definite)."""

    def __init__(self, H: np.ndarray, diag_pos: np.ndarray):
        p = H.shape[0]
        self.p = p
        self.d_idx = np.asarray(diag_pos, dtype=np.intp)
        mask = np.ones(p, dtype=bool)
        mask[self.d_idx] = False
        self.r_idx = np.flatnonzero(mask)
        d = H[self.d_idx, self.d_idx]
        if not np.all(np.isfinite(d)) or np.any(d <= 0):
            raise linalg.LinAlgError("a diagonal-block entry of X'WX is not positive")
        self.d = d
        self.C = H[np.ix_(self.r_idx, self.d_idx)]
        self.Cd = self.C / d
        S = H[np.ix_(self.r_idx, self.r_idx)] - self.Cd @ self.C.T
        self.cf = (
            linalg.cho_factor(S, lower=False, check_finite=False)
            if len(self.r_idx)
            else (np.zeros((0, 0)), False)
        )

    def solve(self, b: np.ndarray) -> np.ndarray:
        b1, b2 = b[self.d_idx], b[self.r_idx]
        x2 = (
            linalg.cho_solve(self.cf, b2 - self.Cd @ b1, check_finite=False)
            if len(self.r_idx)
            else b2
        )
        x = np.empty(self.p)
        x[self.r_idx] = x2
        x[self.d_idx] = (b1 - self.C.T @ x2) / self.d
        return x

    def _schur_inverse(self):
        Si = cho_inverse(self.cf) if len(self.r_idx) else np.zeros((0, 0))
        return Si, Si @ self.Cd  # S^-1 and S^-1 C D^-1 (m x k)

    def inverse(self) -> np.ndarray:
        Si, G = self._schur_inverse()
        inv = np.empty((self.p, self.p))
        inv[np.ix_(self.r_idx, self.r_idx)] = Si
        inv[np.ix_(self.r_idx, self.d_idx)] = -G
        inv[np.ix_(self.d_idx, self.r_idx)] = -G.T
        Hdd = self.Cd.T @ G  # D^-1 C' S^-1 C D^-1
        Hdd[np.diag_indices_from(Hdd)] += 1.0 / self.d
        inv[np.ix_(self.d_idx, self.d_idx)] = Hdd
        return inv

    def inverse_diag(self) -> np.ndarray:
        Si, G = self._schur_inverse()
        out = np.empty(self.p)
        out[self.r_idx] = np.diag(Si)
        out[self.d_idx] = 1.0 / self.d + np.einsum("ij,ij->j", self.Cd, G)
        return out


def diagonal_block(H: np.ndarray, candidates) -> np.ndarray | None:
    """The largest of ``candidates`` (column lists, e.g. a design's factor terms) whose block of
    H is diagonal with a positive diagonal, checked on H itself (entries exactly zero: columns
    that never share a row), or None."""
    best = None
    for cols in candidates:
        c = np.asarray(cols, dtype=np.intp)
        if len(c) < 2 or (best is not None and len(c) <= len(best)):
            continue
        B = H[np.ix_(c, c)]
        d = np.diag(B).copy()
        np.fill_diagonal(B, 0.0)
        if np.all(d > 0) and not np.any(B):
            best = np.sort(c)
    return best


def _solve(H: np.ndarray, b: np.ndarray, diag_pos: np.ndarray | None = None):
    """The IRLS step H^-1 b and the factor of H (``cho_factor``'s tuple, or an ArrowFactor when H
    has a diagonal block at ``diag_pos``)."""
    try:
        if diag_pos is not None and len(diag_pos):
            f = ArrowFactor(H, diag_pos)
            return f.solve(b), f
        cf = linalg.cho_factor(H, lower=False, check_finite=False)
    except linalg.LinAlgError as err:
        raise FitError(
            "the weighted cross-product X'WX is not positive definite at this iterate "
            "(numerically singular design); check for collinear columns"
        ) from err
    return linalg.cho_solve(cf, b, check_finite=False), cf


def irls(rows, family: Family, **kw) -> Fit:
    """Fit a GLM by Fisher scoring (see ``_irls``), inside the rows' compute context."""
    ctx = rows.compute_context() if hasattr(rows, "compute_context") else contextlib.nullcontext()
    with ctx:
        return _irls(rows, family, **kw)


def _irls(
    rows,
    family: Family,
    *,
    start: np.ndarray | None = None,
    tol: float = 1e-8,
    coef_tol: float = 1e-10,
    max_iter: int = 100,
    intercept_index: int | None = None,
    max_halvings: int = 60,
) -> Fit:
    """Fit a GLM by Fisher scoring.

    Convergence needs both R's rule, |dev - dev_old| / (|dev| + 0.1) < ``tol``, and a small next
    step, max_j |delta_j| / (|beta_j| + se_j) < ``coef_tol`` (R's rule alone leaves non-canonical
    fits up to 1e-3 away from the MLE).  When R's rule holds but the steps stop contracting
    (coefficients diverging on separated data) the fit stops as R's would, with
    ``Fit.diverging`` set.  Step-halving as R's glm.fit when eta or mu leave their
    domain or the deviance is not finite, and also when the deviance rises (as glm2).
    """
    p = rows.p
    history: list[float] = []
    if start is not None:
        beta = np.asarray(start, dtype=float).copy()
        if beta.shape != (p,):
            raise FitError(f"start must have {p} values (one per design column), got {beta.shape}")
        stats = rows.accumulate(family, beta)
        if not stats.valid:
            raise FitError("start= gives fitted values outside the family's/link's valid range")
        beta_ok: np.ndarray | None = beta
    else:
        stats = rows.accumulate(family, None)
        beta_ok = None
    aliased = screen_aliased(stats.xtwx, diag_block=stats.diag_block)
    if aliased.any():
        aliased = confirm_aliased(rows, aliased)
    keep = np.flatnonzero(~aliased)
    if len(keep) == 0:
        raise FitError("every column of the design is zero or aliased; nothing to fit")

    def dpos(st: PassStats) -> np.ndarray | None:
        """Positions (among the kept columns) of X'WX's diagonal block, when the pass found one."""
        if st.diag_block is None:
            return None
        return np.flatnonzero(np.isin(keep, st.diag_block))

    def reduced(st: PassStats) -> tuple[np.ndarray, np.ndarray]:
        if len(keep) == p:  # nothing aliased: no copy (0.55 s a step at p = 10,010)
            return st.xtwx, st.rhs
        return st.xtwx[np.ix_(keep, keep)], st.rhs[keep]

    b = np.zeros(p)
    if beta_ok is not None:
        b[keep] = beta_ok[keep]
        beta_ok = b.copy()
    Hk, rk = reduced(stats)
    step, cf0 = _solve(Hk, rk, dpos(stats))
    cf: Any = cf0
    dev_old = stats.deviance
    n_iter = 0
    converged = diverging = False
    astep_prev = np.inf
    message = ""
    inv_at: tuple | None = None  # (cf, inverse of X'WX) from the last step rule, reused as cov
    while n_iter < max_iter:
        n_iter += 1
        cand = np.zeros(p)
        cand[keep] = step if beta_ok is None else beta_ok[keep] + step
        new = rows.accumulate(family, cand)
        halvings = 0
        while not new.valid or (
            beta_ok is not None and new.deviance > dev_old + 1e-9 * (abs(dev_old) + 0.1)
        ):
            if halvings >= max_halvings:
                raise FitError(
                    "step-halving could not find a valid set of coefficients "
                    f"(iteration {n_iter}); try start= with feasible coefficients"
                )
            anchor = (
                beta_ok
                if beta_ok is not None
                else _feasible_anchor(rows, family, intercept_index, keep)
            )
            cand = 0.5 * (cand + anchor)
            new = rows.accumulate(family, cand)
            halvings += 1
        first = beta_ok is None
        beta_ok = cand
        history.append(new.deviance)
        Hk, rk = reduced(new)
        try:
            step, cf = _solve(Hk, rk, dpos(new))
        except FitError:
            # Working weights underflowed for a block of rows (fitted values 0/1 under
            # separation): X'WX is singular at this iterate.  Stop here with what we have.
            diverging = True
            stats = new
            message = (
                f"X'WX became numerically singular at iteration {n_iter} (fitted values 0 or 1): "
                "the data are probably separated and some estimates are infinite"
            )
            warnings.warn(message, ConvergenceWarning, stacklevel=3)
            cf = None
            break
        crit = abs(new.deviance - dev_old) / (abs(new.deviance) + 0.1)
        dev_old = new.deviance
        stats = new
        if not first and crit < tol:
            # the step rule needs the SEs: only now (p^3 work, once or twice per fit)
            inv_at = (cf, cho_inverse(cf))
            xstep = _relative_step(inv_at[1], step, cand[keep])
            if xstep < coef_tol:
                converged = True
                break
            astep = float(np.max(np.abs(step)))
            if astep > 0.9 * astep_prev:
                # R's deviance rule holds but the steps no longer contract: coefficients running
                # off to infinity (separation).  Stop as R does; the caller checks separation.
                converged = diverging = True
                break
        astep_prev = float(np.max(np.abs(step)))
    if not converged and not diverging:
        xstep = np.nan
        if cf is not None and beta_ok is not None:
            inv_at = (cf, cho_inverse(cf))  # reused as the covariance below
            xstep = _relative_step(inv_at[1], step, beta_ok[keep])
        message = (
            f"IRLS did not converge in {max_iter} iterations: last relative deviance change "
            f"{crit:.3g} (tol {tol:g}), last relative step {xstep:.3g} (coef_tol {coef_tol:g}). "
            "Increase max_iter, check for separation or a link unsuited to the data."
        )
        warnings.warn(message, ConvergenceWarning, stacklevel=3)
    assert beta_ok is not None
    coef = np.full(p, np.nan)
    coef[keep] = beta_ok[keep]
    cov = np.full((p, p), np.nan)
    if cf is not None:
        cov[np.ix_(keep, keep)] = (
            inv_at[1] if inv_at is not None and inv_at[0] is cf else cho_inverse(cf)
        )
    else:
        cov[np.ix_(keep, keep)] = linalg.pinvh(stats.xtwx[np.ix_(keep, keep)])
    b0 = np.where(aliased, 0.0, coef)
    if hasattr(rows, "fitted"):  # out-of-core / device rows keep eta and mu where they live
        eta, mu = rows.fitted(family, b0)
    else:
        eta = rows.linear_predictor(b0)
        mu = family.link.inverse(eta)
    return Fit(
        coef=coef,
        aliased=aliased,
        cov_unscaled=cov,
        xtwx=stats.xtwx,
        deviance=stats.deviance,
        n_iter=n_iter,
        converged=converged,
        eta=eta,
        mu=mu,
        history=history,
        message=message,
        diverging=diverging,
        step=_full(step, keep, p),
    )


def cho_inverse(cf) -> np.ndarray:
    """(R'R)^-1 from ``cho_factor``'s upper factor R: LAPACK potri (about 2/3 p^3 flops, against
    2 p^3 for ``cho_solve`` with the identity); only its upper triangle is computed.  An
    ArrowFactor gives its own inverse."""
    if isinstance(cf, ArrowFactor):
        return cf.inverse()
    c, lower = cf
    inv, info = lapack.dpotri(c, lower=int(lower))
    if info != 0:  # cannot happen for a factor cho_factor accepted; keep the general route
        return linalg.cho_solve(cf, np.eye(c.shape[0]), check_finite=False)
    tri = np.tril(inv) if lower else np.triu(inv)
    return tri + (np.tril(inv, -1) if lower else np.triu(inv, 1)).T


def _relative_step(inv: np.ndarray, step: np.ndarray, beta: np.ndarray) -> float:
    """max_j |step_j| / (|beta_j| + se_j), se_j from the inverse of X'WX (unscaled)."""
    se = np.sqrt(np.maximum(np.diag(inv), 0.0))
    return float(np.max(np.abs(step) / (np.abs(beta) + se + 1e-300)))


def _full(v: np.ndarray, keep: np.ndarray, p: int) -> np.ndarray:
    out = np.full(p, np.nan)
    out[keep] = v
    return out


def _feasible_anchor(
    rows, family: Family, intercept_index: int | None, keep: np.ndarray
) -> np.ndarray:
    """Coefficients whose fitted values are valid, to halve towards before any valid iterate exists
    (R stops here with 'please supply starting values').  The intercept-only fit's mean is inside
    every family's range; without an intercept, zero."""
    b = np.zeros(rows.p)
    if intercept_index is not None and intercept_index in keep:
        if hasattr(rows, "weighted_mean_response"):
            ybar = float(rows.weighted_mean_response())
        else:
            w = rows.weights
            ybar = float(np.sum(w * rows.y) / np.sum(w))
        b[intercept_index] = float(family.link.link(np.array([ybar]))[0])
    return b
