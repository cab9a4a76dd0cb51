"""Penalized GLMs: ridge, lasso and elastic net, on glmnet's objective.

    F(b) = deviance(b) / (2 sum(w)) + alpha * sum_j pf_j (l1_ratio |b_j| + (1 - l1_ratio) / 2 b_j^2)

with w the prior weights (glmnet normalizes them to sum 1), the intercept unpenalized, and the
penalty factors pf rescaled, as glmnet's ``penalty.factor``, to sum to the number of penalizable
columns.  ``standardize=True`` penalizes the coefficients of columns scaled to unit weighted
standard deviation (1/n variance, centred when there is an intercept), as glmnet, and returns
coefficients on the original scale; that is the same as multiplying column j's L1 weight by its
sd s_j and its L2 weight by s_j^2, which is how it is done here (no copy of X).

Algorithm (glmnet's, with one addition): an outer proximal-Newton (IRLS) loop builds the
quadratic model of the deviance at the current coefficients from one pass over the *working set*
of columns (X_W'WX_W, X_W'u, deviance); an inner solver minimizes model + penalty exactly; a
backtracking line search on F makes every outer step a descent step.  The inner solver first
tries the exact solution on the current support and signs (one Cholesky of the support block;
accepted only if the signs and the KKT conditions of the zero coefficients hold), and otherwise
runs coordinate descent (cyclic, with active-set sweeps) until the support settles, then tries
the exact solution again.  The working set only grows: the unpenalized columns, every column
that has been non-zero, and the columns that violated the KKT conditions (|gradient_j| >
alpha l1_ratio pf_j) at a full-data check; along a path also the sequential strong rule's
candidates (Tibshirani et al. 2012).  When the outer step is below ``tol`` (max_j H_jj d_j^2,
glmnet's ``thresh`` criterion) one full-data gradient pass checks the KKT conditions of every
column; violators join the working set and the loop goes on.  Ridge (l1_ratio = 0) is the same
loop with the inner solve a single Cholesky of X'WX / sum(w) + alpha diag(pf): penalized IRLS.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import linalg, sparse

from ..errors import ConvergenceWarning, FitError
from ..families import Family
from .irls import Fit, irls
from .rows import DenseRows


def _is_sparse(X: Any) -> bool:
    """scipy.sparse.issparse without its type narrowing (which hides the matrix methods)."""
    return bool(sparse.issparse(X))


# --------------------------------------------------------------------------------------------
# penalty set-up
# --------------------------------------------------------------------------------------------
@dataclass
class Penalty:
    """Per-column penalty weights for alpha = 1: F's penalty is alpha (l1 |b| + l2 b^2 / 2)."""

    l1: np.ndarray
    l2: np.ndarray
    free: np.ndarray  # unpenalized (intercept, penalty factor 0)
    excluded: np.ndarray  # held at 0: constant (non-intercept) or all-zero columns
    scale: np.ndarray  # column sds when standardizing, else ones
    pf: np.ndarray  # penalty factors as rescaled (0 for the intercept)
    l1_ratio: float
    intercept_index: int | None

    def value(self, b: np.ndarray, alpha: float, cols=None) -> float:
        l1, l2 = (self.l1, self.l2) if cols is None else (self.l1[cols], self.l2[cols])
        return float(alpha * (l1 @ np.abs(b) + 0.5 * (l2 @ (b * b))))


def _column_stats(rows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per column: weighted 1/n standard deviation (centred), weighted root mean square
    (uncentred), and whether it is constant over the rows with positive weight."""
    X: Any = rows.X
    w = rows.weights
    sw = float(np.sum(w))
    pos = w > 0
    if _is_sparse(X):
        Xp = X[np.flatnonzero(pos)] if not pos.all() else X
        m = np.asarray(X.T @ w).ravel() / sw
        m2 = np.asarray(X.multiply(X).T @ w).ravel() / sw
        sd = np.sqrt(np.maximum(m2 - m * m, 0.0))
        const = Xp.max(axis=0).toarray().ravel() == Xp.min(axis=0).toarray().ravel()
        return sd, np.sqrt(m2), const
    X = np.asarray(X)
    n, p = X.shape
    x0 = X[int(np.argmax(pos))].astype(float)  # shift: no cancellation for large means
    s1, s2, r2 = np.zeros(p), np.zeros(p), np.zeros(p)
    lo, hi = np.full(p, np.inf), np.full(p, -np.inf)
    step = max(256, (1 << 18) // max(p, 1))
    for s in range(0, n, step):  # row chunks: no n x p temporary
        Xc, wc = X[s : s + step], w[s : s + step]
        D = Xc - x0
        s1 += wc @ D
        s2 += wc @ (D * D)
        r2 += wc @ (Xc * Xc)
        P = Xc[wc > 0]
        if len(P):
            lo = np.minimum(lo, P.min(axis=0))
            hi = np.maximum(hi, P.max(axis=0))
    m = s1 / sw
    sd = np.sqrt(np.maximum(s2 / sw - m * m, 0.0))
    return sd, np.sqrt(r2 / sw), lo == hi


def _check_rows(rows) -> None:
    X = getattr(rows, "X", None)
    if not (
        (isinstance(X, np.ndarray) or _is_sparse(X))
        and isinstance(getattr(rows, "weights", None), np.ndarray)
    ):
        raise FitError(
            "penalized fits need the rows in memory as a NumPy array or a SciPy sparse matrix "
            "(not available for device= or Dask data)"
        )


def make_penalty(
    rows,
    *,
    l1_ratio: float,
    penalty_factor=None,
    standardize: bool = False,
    intercept_index: int | None = None,
) -> Penalty:
    _check_rows(rows)
    p = rows.p
    if not 0.0 <= float(l1_ratio) <= 1.0:
        raise FitError(f"l1_ratio must be in [0, 1], got {l1_ratio!r}")
    pen_cols = np.ones(p, bool)
    if intercept_index is not None:
        pen_cols[intercept_index] = False
    if penalty_factor is None:
        pf = pen_cols.astype(float)
    else:
        pf = np.asarray(penalty_factor, dtype=float).ravel()
        if pf.shape != (p,):
            raise FitError(
                f"penalty_factor must have {p} values (one per design column, the intercept's "
                f"is ignored), got {pf.shape[0]}"
            )
        if not np.all(np.isfinite(pf)) or np.any(pf < 0):
            raise FitError("penalty_factor must be finite and non-negative")
        pf = np.where(pen_cols, pf, 0.0)
    npen = int(pen_cols.sum())
    if npen and pf.sum() <= 0:
        raise FitError(
            "every penalty factor is zero: nothing is penalized (use an unpenalized fit)"
        )
    if npen:
        pf = pf * npen / pf.sum()  # glmnet: factors rescaled to sum to the number of columns
    sd, rms, const = _column_stats(rows)
    if intercept_index is not None:
        excluded = const & pen_cols  # aliased with the intercept: glmnet drops constant columns
        s = sd
    else:
        excluded = rms == 0
        s = rms
    scale = np.where(excluded | ~pen_cols, 1.0, s) if standardize else np.ones(p)
    l1 = float(l1_ratio) * pf * scale
    l2 = (1.0 - float(l1_ratio)) * pf * scale**2
    l1[excluded] = l2[excluded] = 0.0
    free = (pf == 0) & ~excluded
    return Penalty(l1, l2, free, excluded, scale, pf, float(l1_ratio), intercept_index)


# --------------------------------------------------------------------------------------------
# the inner problem: min_b 1/2 b'Hb - c'b + sum lam1 |b| + lam2 b^2 / 2
# --------------------------------------------------------------------------------------------
_CHO_CACHE: dict = {}


def _factor(H, lam2, F):
    """Cholesky of H[F, F] + diag(lam2[F]), cached for the last (H, lam2, F): along a path the
    support and the lagged Hessian often stay the same for several outer iterations."""
    key = (id(H), H.shape, lam2.tobytes(), F.tobytes())
    hit = _CHO_CACHE.get("entry")  # one read: (key, H, factor)
    if hit is not None and hit[0] == key and hit[1] is H:
        return hit[2]
    A = H[np.ix_(F, F)]
    A[np.diag_indices_from(A)] += lam2[F]
    cf = linalg.cho_factor(A, check_finite=False)
    _CHO_CACHE["entry"] = (key, H, cf)
    return cf


def _exact(H, c, lam1, lam2, support, signs):
    """Minimizer with the given support and signs, or None if that guess is wrong."""
    F = np.flatnonzero(support)
    beta = np.zeros(len(c))
    if len(F):
        try:
            cf = _factor(H, lam2, F)
            x = linalg.cho_solve(cf, c[F] - lam1[F] * signs[F], check_finite=False)
        except (linalg.LinAlgError, ValueError):
            return None
        pen = lam1[F] > 0
        if np.any(x[pen] * signs[F][pen] <= 0):
            return None
        beta[F] = x
        q = c - H[:, F] @ x
    else:
        q = c.copy()
    Z = ~support
    if Z.any():
        scale = max(1.0, float(np.max(np.abs(c))))
        if np.any(np.abs(q[Z]) > lam1[Z] * (1 + 1e-10) + 1e-14 * scale):
            return None
    return beta


def _quad_solve(H, c, lam1, lam2, beta0, tol, max_sweeps=10000):
    free = lam1 == 0
    sol = _exact(H, c, lam1, lam2, (beta0 != 0) | free, np.sign(beta0))
    if sol is not None:
        return sol
    beta = beta0.copy()
    q = c - H @ beta  # minus the gradient of the quadratic part
    diag = np.diag(H).copy()
    denom = diag + lam2
    lam1l = lam1.tolist()
    denl = denom.tolist()
    diagl = diag.tolist()
    m = len(c)
    everything: list[int] = list(range(m))
    last_support = None
    sweeps = 0
    while sweeps < max_sweeps:
        # one sweep over every coordinate, then sweeps over the non-zero ones until they settle
        full = True
        idx: list[int] = everything
        while sweeps < max_sweeps:
            sweeps += 1
            dmax = 0.0
            for j in idx:
                dj = denl[j]
                if dj <= 0.0:
                    continue
                bj = beta[j]
                z = q[j] + diagl[j] * bj
                lj = lam1l[j]
                if z > lj:
                    nb = (z - lj) / dj
                elif z < -lj:
                    nb = (z + lj) / dj
                else:
                    nb = 0.0
                if nb != bj:
                    d = nb - bj
                    q -= d * H[j]
                    beta[j] = nb
                    ch = diagl[j] * d * d
                    if ch > dmax:
                        dmax = ch
            if full:
                support = beta != 0
                if dmax < tol:
                    return beta
                if last_support is not None and np.array_equal(support, last_support):
                    sol = _exact(H, c, lam1, lam2, support | free, np.sign(beta))
                    if sol is not None:
                        return sol
                last_support = support
                full = False
                idx = np.flatnonzero(support).tolist()
            elif dmax < tol:
                break
    return beta


# --------------------------------------------------------------------------------------------
# the working set of columns and the outer loop
# --------------------------------------------------------------------------------------------
class _WorkingSet:
    """Columns the outer loop passes over (only grows), with a rows object restricted to them.

    For dense rows the columns are copied once into a column-major buffer, so that growing the
    set costs only the new columns and the restricted rows object is a view."""

    def __init__(self, rows):
        self.rows = rows
        self.cols: list[int] = []
        self.pos: dict[int, int] = {}
        self.dense = isinstance(rows, DenseRows)
        self.buf: np.ndarray | None = None
        self._sub = None

    def add(self, new) -> bool:
        new = [int(j) for j in new if int(j) not in self.pos]
        if not new:
            return False
        k = len(self.cols)
        if self.dense:
            need = k + len(new)
            old = self.buf
            if old is None or need > old.shape[1]:
                cap = max(need, 2 * (0 if old is None else old.shape[1]), 8)
                buf = np.empty((self.rows.n, min(cap, self.rows.p)), order="F")
                if k and old is not None:
                    buf[:, :k] = old[:, :k]
                self.buf = old = buf
            old[:, k:need] = self.rows.X[:, new]
        for j in new:
            self.pos[j] = len(self.cols)
            self.cols.append(j)
        self._sub = None
        return True

    @property
    def idx(self) -> np.ndarray:
        return np.asarray(self.cols, dtype=int)

    @property
    def sub(self):
        if self._sub is None:
            r = self.rows
            if self.dense:
                assert self.buf is not None
                self._sub = DenseRows(self.buf[:, : len(self.cols)], r.y, r.weights, r.offset)
            else:
                self._sub = r.take_columns(self.idx)
        return self._sub


@dataclass
class _AlphaResult:
    coef: np.ndarray
    grad: np.ndarray  # full-data score / sum(w) at coef
    deviance: float
    n_iter: int
    converged: bool
    history: list[float] = field(default_factory=list)
    message: str = ""


class _Solver:
    """The outer loop, with state carried along a path: the working set, and H = X_W'WX_W /
    sum(w) from the last pass that formed it (a lagged Hessian).

    Forming X_W'WX_W costs n |W|^2 against n |W| for a gradient, so H is reused across outer
    iterations and alphas and only re-formed when a step with it contracts slowly (the step did
    not shrink tenfold) or fails the line search: the iteration is then a quasi-Newton one with
    a Hessian from a nearby point, which along a fine path converges in a few cheap passes.  When
    the working set grows, the new rows and columns of H are formed at the current weights."""

    def __init__(self, rows, family: Family, pen: Penalty, tol: float, max_iter: int):
        self.rows, self.family, self.pen = rows, family, pen
        self.tol, self.max_iter = float(tol), int(max_iter)
        self.S = float(np.sum(rows.weights))
        self.ws = _WorkingSet(rows)
        self.H: np.ndarray | None = None
        self.n_grams = 0
        self.newton_finish = False
        self.ws.add(np.flatnonzero(pen.free))

    # -- passes ---------------------------------------------------------------------------------
    def full_gradient(self, b):
        """(deviance, score / sum(w), valid) at b over all columns.  For in-memory rows the
        linear predictor comes from the working set (b is 0 outside it) and X'u is one BLAS
        product; otherwise the rows' own gradient pass."""
        rows = self.rows
        W = self.ws.idx
        if hasattr(rows, "X") and len(W) and not np.any(np.delete(b, W)):
            eta = self.ws.sub.linear_predictor(b[W])
            fam = self.family
            if not fam.link.valid_eta(eta):
                return np.inf, np.zeros(rows.p), False
            with np.errstate(all="ignore"):
                mu, _, u, dev = fam.irls_terms(rows.y, eta, rows.weights)
            if not fam.valid_mu(mu) or not np.isfinite(dev):
                return np.inf, np.zeros(rows.p), False
            score = np.asarray(rows.X.T @ u).ravel()
            return dev, score / self.S, True
        dev, score, ok = rows.gradient(self.family, b)
        return dev, score / self.S, ok

    def refresh(self, bW):
        st = self.ws.sub.accumulate(self.family, bW)
        self.n_grams += 1
        if not st.valid:
            raise FitError("penalized fit reached coefficients with invalid fitted values")
        self.H = st.xtwx / self.S
        return st.rhs / self.S, st.deviance

    def grow(self, b, new) -> bool:
        """Add columns to the working set; extend H by their rows at the weights at b."""
        k0 = len(self.ws.cols)
        if not self.ws.add(new):
            return False
        if self.H is None:
            return True
        sub = self.ws.sub
        W = self.ws.idx
        eta = sub.linear_predictor(b[W])
        with np.errstate(all="ignore"):
            _, w, _, _ = self.family.irls_terms(self.rows.y, eta, self.rows.weights)
        X = sub.X
        Xn = X[:, k0:]
        if _is_sparse(X):
            B = np.asarray((Xn.T @ sparse.diags(w) @ X).todense())
        else:
            B = (X.T @ (Xn * w[:, None])).T
        k = len(W)
        H = np.empty((k, k))
        H[:k0, :k0] = self.H
        H[k0:, :] = B / self.S
        H[:k0, k0:] = H[k0:, :k0].T
        self.H = H
        return True

    # -- set-up ---------------------------------------------------------------------------------
    def null(self, start=None):
        """Starting coefficients (``start``, or the unpenalized columns' own fit), with the
        deviance and full gradient there."""
        p = self.rows.p
        if start is not None:
            b = np.asarray(start, dtype=float).copy()
            if b.shape != (p,):
                raise FitError(f"start must have {p} values, got {b.shape}")
            b[self.pen.excluded] = 0.0
        else:
            b = np.zeros(p)
            free = np.flatnonzero(self.pen.free)
            if len(free):
                icpt = self.pen.intercept_index
                sub_icpt = int(np.flatnonzero(free == icpt)[0]) if icpt in free else None
                fit0 = irls(self.rows.take_columns(free), self.family, intercept_index=sub_icpt)
                b[free] = np.nan_to_num(fit0.coef)
        self.ws.add(np.flatnonzero(b != 0))
        dev, g, ok = self.full_gradient(b)
        if not ok:
            raise FitError(
                "the starting coefficients give invalid fitted values (a link with a bounded "
                "domain?); pass start= with valid coefficients"
            )
        return b, g, dev

    def kkt_violators(self, g, lam1):
        out = np.zeros(len(g), bool)
        cand = ~self.pen.excluded
        cand[self.ws.idx] = False
        if cand.any():
            gs = max(1.0, float(np.max(np.abs(g))))
            out[cand] = np.abs(g[cand]) > lam1[cand] * (1 + 1e-9) + 1e-13 * gs
        return np.flatnonzero(out)

    # -- one alpha ------------------------------------------------------------------------------
    def fit_alpha(self, b, g_full, dev, alpha) -> _AlphaResult:
        """Minimize F at ``alpha`` from b (deviance and full gradient there given)."""
        S, pen = self.S, self.pen
        lam1_all = alpha * pen.l1
        lam2_all = alpha * pen.l2
        b = b.copy()
        self.grow(b, self.kkt_violators(g_full, lam1_all))
        W = self.ws.idx
        bW, g = b[W], g_full[W]
        if self.H is None:
            g, dev = self.refresh(bW)
        fresh = True
        lam1, lam2 = lam1_all[W], lam2_all[W]
        F = dev / (2 * S) + pen.value(bW, alpha, W)
        history: list[float] = []
        it = 0
        converged = False
        message = ""
        prev_crit = np.inf
        crit = np.inf
        while it < self.max_iter:
            it += 1
            assert self.H is not None
            H = self.H
            beta = _quad_solve(H, g + H @ bW, lam1, lam2, bW, self.tol * 1e-2)
            d = beta - bW
            crit = float(np.max(np.diag(H) * d * d)) if len(d) else 0.0
            if not fresh and crit > 1e-2 * prev_crit:
                g, dev = self.refresh(bW)  # the lagged Hessian contracts slowly: re-form it
                fresh = True
                continue
            # A fresh (Newton) step leaves an error of order step^2; a lagged one, of order
            # step * rate / (1 - rate), the rate (<= 0.1 here) estimated from the last two steps.
            if fresh:
                small = crit < self.tol
            else:
                r = min(crit / prev_crit, 1e-2) if np.isfinite(prev_crit) else 1e-2
                small = crit * r / (1.0 - np.sqrt(r)) ** 2 < 1e-2 * self.tol and crit < self.tol
                if small and self.newton_finish:
                    g, dev = self.refresh(bW)  # a single fit ends on a Newton step
                    fresh = True
                    continue
            pred = -float(g @ d) + pen.value(beta, alpha, W) - pen.value(bW, alpha, W)
            t = 1.0
            accepted = False
            for _ in range(60):
                cand = bW + t * d
                full = b.copy()
                full[W] = cand
                if small:
                    dev_c, g_c, ok = self.full_gradient(full)
                else:
                    dev_c, sc, ok = self.ws.sub.gradient(self.family, cand)
                    g_c = sc / S
                F_c = dev_c / (2 * S) + pen.value(cand, alpha, W) if ok else np.inf
                if F_c <= F + 1e-4 * t * min(pred, 0.0) + 1e-13 * (abs(F) + 1e-3):
                    accepted = True
                    break
                if not fresh:
                    break
                t *= 0.5
            if not accepted:
                if not fresh:
                    g, dev = self.refresh(bW)
                    fresh = True
                    continue
                if not small:
                    message = f"the line search found no decrease at outer iteration {it}"
                    break
                cand, F_c = bW, F  # the step is below rounding: stay
                full = b.copy()
                dev_c, g_c, _ = self.full_gradient(full)
            bW, F, dev = cand, F_c, dev_c
            b[W] = bW
            history.append(F)
            fresh = False
            prev_crit = crit
            if not small:
                g = g_c
                continue
            g_full = g_c
            viol = self.kkt_violators(g_full, lam1_all)
            if not len(viol):
                converged = True
                break
            self.grow(b, viol)
            W = self.ws.idx
            lam1, lam2 = lam1_all[W], lam2_all[W]
            bW, g = b[W], g_full[W]
            prev_crit = np.inf
        if converged:
            return _AlphaResult(b, g_full, dev, it, True, history)
        if not message:
            message = (
                f"no convergence in {self.max_iter} outer iterations "
                f"(last step {crit:.3g}, tol {self.tol:g})"
            )
        dev, g_full, _ = self.full_gradient(b)
        return _AlphaResult(b, g_full, dev, it, False, history, message)


# --------------------------------------------------------------------------------------------
# public engine functions
# --------------------------------------------------------------------------------------------
def alpha_max(pen: Penalty, grad: np.ndarray) -> float:
    """Smallest alpha at which every penalized coefficient is 0, from the full gradient at the
    unpenalized fit (glmnet's lambda_max; for ridge computed as for l1_ratio = 0.001, as glmnet)."""
    l1u = max(pen.l1_ratio, 1e-3) * pen.pf * pen.scale
    l1u[pen.excluded] = 0.0
    ok = l1u > 0
    if not ok.any():
        return 0.0
    return float(np.max(np.abs(grad[ok]) / l1u[ok]))


def penalized_fit(
    rows,
    family: Family,
    *,
    alpha: float,
    l1_ratio: float = 0.0,
    penalty_factor=None,
    standardize: bool = False,
    start: np.ndarray | None = None,
    tol: float = 1e-12,
    max_iter: int = 100,
    intercept_index: int | None = None,
) -> Fit:
    """Minimize glmnet's objective at one ``alpha`` (module docstring).

    Returns a Fit whose ``xtwx`` is the (unpenalized) Fisher information X'WX at the solution.
    ``cov_unscaled``: for ridge (l1_ratio = 0) the inverse of the penalized Hessian of
    deviance / 2, (X'WX + sum(w) alpha diag(pf s^2))^-1 -- the posterior covariance under the
    Gaussian prior that the penalty is, not a frequentist covariance of the estimator (the
    sandwich H^-1 X'WX H^-1 can be formed from ``xtwx``); for lasso / elastic net all NaN, as
    there are no valid standard errors.  ``history`` holds F per outer iteration; ``aliased`` is
    all False (a penalty makes collinear columns estimable; excluded constant columns get 0).
    """
    alpha = float(alpha)
    if not np.isfinite(alpha) or alpha < 0:
        raise FitError(f"alpha must be a non-negative number, got {alpha!r}")
    pen = make_penalty(
        rows,
        l1_ratio=l1_ratio,
        penalty_factor=penalty_factor,
        standardize=standardize,
        intercept_index=intercept_index,
    )
    solver = _Solver(rows, family, pen, tol, max_iter)
    solver.newton_finish = True
    if l1_ratio == 0:
        solver.ws.add(np.flatnonzero(~pen.excluded))
    b, g, dev = solver.null(start)
    res = solver.fit_alpha(b, g, dev, alpha)
    _CHO_CACHE.clear()
    if not res.converged:
        warnings.warn(f"penalized fit: {res.message}", ConvergenceWarning, stacklevel=2)
    return _to_fit(rows, family, pen, alpha, res)


def _to_fit(rows, family, pen: Penalty, alpha: float, res: _AlphaResult) -> Fit:
    p = rows.p
    st = rows.accumulate(family, res.coef)
    cov = np.full((p, p), np.nan)
    if pen.l1_ratio == 0:
        keep = np.flatnonzero(~pen.excluded)
        Hp = st.xtwx[np.ix_(keep, keep)] + np.diag(np.sum(rows.weights) * alpha * pen.l2[keep])
        try:
            cov[np.ix_(keep, keep)] = linalg.cho_solve(
                linalg.cho_factor(Hp, check_finite=False), np.eye(len(keep)), check_finite=False
            )
        except linalg.LinAlgError:
            cov[np.ix_(keep, keep)] = linalg.pinvh(Hp)
    eta = rows.linear_predictor(res.coef)
    return Fit(
        coef=res.coef.copy(),
        aliased=np.zeros(p, bool),
        cov_unscaled=cov,
        xtwx=st.xtwx,
        deviance=st.deviance,
        n_iter=res.n_iter,
        converged=res.converged,
        eta=eta,
        mu=family.link.inverse(eta),
        history=res.history,
        message=res.message,
    )


@dataclass
class PathFit:
    """A penalized path: row k of ``coefs`` minimizes F at ``alphas[k]``."""

    alphas: np.ndarray
    coefs: np.ndarray  # n_alphas x p
    deviance: np.ndarray
    null_deviance: float  # intercept-only deviance (glmnet's nulldev)
    alpha_max: float
    n_iter: np.ndarray
    converged: np.ndarray
    l1_ratio: float


def _null_deviance(rows, family, intercept_index, pen: Penalty, dev_free: float) -> float:
    """glmnet's null deviance: the intercept-only fit (with the offset), or eta = offset
    without an intercept -- not the fit of every unpenalized column."""
    free = np.flatnonzero(pen.free)
    if intercept_index is not None and list(free) == [intercept_index]:
        return dev_free
    if intercept_index is None:
        dev, _, ok = rows.gradient(family, np.zeros(rows.p))
        return float(dev) if ok else np.nan
    return float(irls(rows.take_columns([intercept_index]), family, intercept_index=0).deviance)


def alpha_grid(amax: float, n_alphas: int, alpha_min_ratio: float) -> np.ndarray:
    """glmnet's grid: n_alphas values from amax down to amax * alpha_min_ratio, log-spaced."""
    if n_alphas < 1:
        raise FitError("n_alphas must be at least 1")
    if n_alphas == 1:
        return np.array([amax])
    return amax * np.exp(np.linspace(0.0, np.log(alpha_min_ratio), n_alphas))


def penalized_path(
    rows,
    family: Family,
    *,
    l1_ratio: float = 1.0,
    alphas=None,
    n_alphas: int = 100,
    alpha_min_ratio: float | None = None,
    penalty_factor=None,
    standardize: bool = False,
    tol: float = 1e-10,
    max_iter: int = 100,
    intercept_index: int | None = None,
    callback=None,
) -> PathFit:
    """Solutions along a decreasing alpha path with warm starts and the sequential strong rule.

    ``alphas=None``: glmnet's grid from alpha_max down to alpha_max * alpha_min_ratio (default,
    as glmnet, 1e-4 when n > number of penalized columns, else 1e-2).  Given ``alphas`` are
    fitted in decreasing order and returned in that order.  ``callback(k, n_alphas)`` is called
    after each alpha (progress bars).
    """
    pen = make_penalty(
        rows,
        l1_ratio=l1_ratio,
        penalty_factor=penalty_factor,
        standardize=standardize,
        intercept_index=intercept_index,
    )
    solver = _Solver(rows, family, pen, tol, max_iter)
    if l1_ratio == 0:
        solver.ws.add(np.flatnonzero(~pen.excluded))
    b, g, dev = solver.null()
    dev0 = _null_deviance(rows, family, intercept_index, pen, dev)
    amax = alpha_max(pen, g)
    if alphas is None:
        npen = int((~pen.free & ~pen.excluded).sum())
        if alpha_min_ratio is None:
            alpha_min_ratio = 1e-4 if rows.n > npen else 1e-2
        alphas = alpha_grid(amax, n_alphas, alpha_min_ratio)
    else:
        alphas = np.sort(np.asarray(alphas, dtype=float).ravel())[::-1]
        if alphas.size == 0 or np.any(~np.isfinite(alphas)) or np.any(alphas < 0):
            raise FitError("alphas must be non-negative finite numbers")
    K = len(alphas)
    coefs = np.zeros((K, rows.p))
    devs = np.zeros(K)
    n_iter = np.zeros(K, int)
    conv = np.zeros(K, bool)
    prev = amax
    failed = []
    for k, a in enumerate(alphas):
        if pen.l1_ratio > 0 and k > 0:
            # sequential strong rule: likely to be non-zero at a given the solution at prev
            thr = pen.l1 * max(2 * a - prev, 0.0)
            strong = np.flatnonzero((np.abs(g) > thr) & ~pen.excluded & (pen.l1 > 0))
            solver.grow(b, strong)
        res = solver.fit_alpha(b, g, dev, a)
        b, g, dev = res.coef, res.grad, res.deviance
        coefs[k], devs[k], n_iter[k], conv[k] = b, res.deviance, res.n_iter, res.converged
        if not res.converged:
            failed.append(f"alpha={a:.4g}: {res.message}")
        prev = a
        if callback is not None:
            callback(k + 1, K)
    _CHO_CACHE.clear()
    if failed:
        warnings.warn(
            f"penalized path: {len(failed)} of {K} alphas did not converge ({failed[0]})",
            ConvergenceWarning,
            stacklevel=2,
        )
    return PathFit(alphas, coefs, devs, dev0, amax, n_iter, conv, pen.l1_ratio)


def kkt_violation(
    rows,
    family: Family,
    coef: np.ndarray,
    *,
    alpha: float,
    l1_ratio: float,
    penalty_factor=None,
    standardize: bool = False,
    intercept_index: int | None = None,
) -> float:
    """Largest violation of the optimality conditions of F at ``coef``, in gradient units (mean
    score): |g_j - alpha l2_j b_j - alpha l1_j sign(b_j)| for non-zero b_j and
    max(0, |g_j| - alpha l1_j) for zero b_j (g = X'u / sum(w))."""
    pen = make_penalty(
        rows,
        l1_ratio=l1_ratio,
        penalty_factor=penalty_factor,
        standardize=standardize,
        intercept_index=intercept_index,
    )
    dev, score, ok = rows.gradient(family, np.asarray(coef, float))
    if not ok:
        return np.inf
    g = score / np.sum(rows.weights)
    b = np.asarray(coef, float)
    nz = b != 0
    v = np.zeros(len(b))
    v[nz] = np.abs(g[nz] - alpha * pen.l2[nz] * b[nz] - alpha * pen.l1[nz] * np.sign(b[nz]))
    v[~nz] = np.maximum(0.0, np.abs(g[~nz]) - alpha * pen.l1[~nz])
    v[pen.excluded] = 0.0
    return float(np.max(v))
