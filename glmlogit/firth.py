"""Firth's bias-reduced logistic regression (Jeffreys-prior penalized likelihood).

Firth (1993): maximise the penalized log-likelihood

    pl(b) = l(b) + 1/2 log det I(b),      I(b) = X' W X,  W = m mu (1 - mu)

for a binomial logit model with prior weights m (trials for proportions, or case weights for 0/1
responses).  Its gradient is the modified score

    U*(b) = X' (m (y - mu) + h (1/2 - mu)),

h the diagonal of the hat matrix W^1/2 X I^-1 X' W^1/2, so the estimates are those of R's brglm2
(``type = "AS_mean"``: its adjustment 1/2 h mu''/mu' X is h (1/2 - mu) X for the logit link) and of
logistf.  They are finite even when the data are separated.

The solver is Newton's method on the penalized likelihood with its exact Hessian (falling back to
brglm2's and logistf's Fisher-scoring step b + I^-1 U* where that Hessian is not negative
definite), with step-halving whenever pl does not increase.
Hat values and log det I come from the R factor of a QR of W^1/2 X, not from a Cholesky of X'WX,
so precision does not suffer from squaring the condition number.

Inference as logistf reports it: standard errors from I(b)^-1 at the estimate, penalized
likelihood-ratio tests per coefficient (``firth_lr_test``) and profile penalized-likelihood
intervals (``firth_profile_ci``).  In both, the restricted fit holds b_j fixed and maximises pl over
the other coefficients with the penalty of the *full* model (I(b) built from every column), as
logistf does; this is not the same as refitting Firth without column j.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy import linalg, special, stats

from .engine.irls import aliased_columns
from .errors import ConvergenceWarning, DataError, FitError
from .profile import ProfileEvalError, profile_bounds

ALIAS_TOL = 1e-7  # R's QR rank tolerance (glm.fit, brglm2)
# The exact Hessian costs O(n p^3) a step against O(n p^2) for a Fisher step: above this much
# work the solver uses Fisher scoring only (linear but fast convergence near the estimate).
_NEWTON_MAX_WORK = 2e9

__all__ = [
    "FirthFit",
    "FirthLRTest",
    "FirthProfileCI",
    "firth_fit",
    "firth_lr_test",
    "firth_profile_ci",
    "firth_modified_score",
]


@dataclass(frozen=True)
class FirthFit:
    """Result of ``firth_fit``.  Coefficient arrays are full length; aliased columns are NaN.

    ``loglik`` is the penalized log-likelihood l(b) + 1/2 log det(X'WX) at the estimate, with the
    binomial log-likelihood on R's convention (including log choose(m, k); for 0/1 data that term
    is 0, which is logistf's ``loglik``).  ``cov`` is (X'WX)^-1, the covariance brglm2 and logistf
    report.
    """

    coef: np.ndarray
    cov: np.ndarray
    loglik: float
    loglik_unpenalized: float
    n_iter: int
    converged: bool
    eta: np.ndarray = field(repr=False)
    mu: np.ndarray = field(repr=False)
    hat: np.ndarray = field(repr=False)
    modified_score: np.ndarray = field(repr=False)
    aliased: np.ndarray = field(repr=False)
    column_names: tuple[str, ...] | None = None
    # The problem, kept (not copied) for the likelihood-ratio tests and profile intervals.
    X: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((0, 0)))
    y: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    weights: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    offset: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    tol: float = 1e-10
    max_iter: int = 100

    @property
    def bse(self) -> np.ndarray:
        return np.sqrt(np.diag(self.cov))

    @property
    def deviance(self) -> float:
        """-2 x the unpenalized binomial log-likelihood relative to the saturated model."""
        w, y = self.weights, self.y
        return float(
            2.0
            * np.sum(
                w
                * (
                    special.xlogy(y, y)
                    + special.xlogy(1.0 - y, 1.0 - y)
                    - y * special.log_expit(self.eta)
                    - (1.0 - y) * special.log_expit(-self.eta)
                )
            )
        )


@dataclass(frozen=True)
class FirthLRTest:
    """Penalized likelihood-ratio tests of b_j = value, one per coefficient (logistf's p-values)."""

    statistic: np.ndarray  # 2 (pl_full - pl_restricted), chi-squared with 1 df
    df: np.ndarray
    pvalue: np.ndarray
    loglik_restricted: np.ndarray
    null_value: np.ndarray
    column_names: tuple[str, ...] | None = None


@dataclass(frozen=True)
class FirthProfileCI:
    """Profile penalized-likelihood confidence limits (logistf's default intervals)."""

    lower: np.ndarray
    upper: np.ndarray
    alpha: float
    column_names: tuple[str, ...] | None = None
    notes: tuple[str, ...] = ()


# --------------------------------------------------------------------------------------------
# The penalized likelihood and its pieces at one coefficient vector
# --------------------------------------------------------------------------------------------


@dataclass
class _State:
    beta: np.ndarray
    eta: np.ndarray
    mu: np.ndarray
    pl: float
    ll: float
    hat: np.ndarray
    score: np.ndarray  # modified score U*
    info: np.ndarray  # X'WX
    R: np.ndarray  # R of the QR of W^1/2 X
    Rinv: np.ndarray  # R^-1 (upper triangular)
    W: np.ndarray  # working weights m mu (1 - mu)


def _state(X, y, w, off, beta, const) -> _State | None:
    """Everything at ``beta``; None where the information is singular (W underflows)."""
    eta = X @ beta + off
    mu = special.expit(eta)
    v = special.expit(eta) * special.expit(-eta)
    W = w * v
    A = X * np.sqrt(W)[:, None]
    # R of the QR of A (no Q: forming it costs as much again); h_i = |a_i' R^-1|^2.
    R = linalg.qr(A, mode="r", check_finite=False)[0][: X.shape[1]]
    d = np.abs(np.diag(R))
    if not np.all(np.isfinite(d)) or np.any(d <= 0):
        return None
    Rinv, bad = linalg.lapack.dtrtri(R, lower=0)
    if bad != 0 or not np.all(np.isfinite(Rinv)):
        return None
    logdet = 2.0 * float(np.sum(np.log(d)))
    ll = float(np.sum(w * (y * special.log_expit(eta) + (1.0 - y) * special.log_expit(-eta))))
    ll += const
    G = A @ Rinv
    hat = np.einsum("ij,ij->i", G, G)
    score = X.T @ (w * (y - mu) + hat * (0.5 - mu))
    info = R.T @ R
    pl = ll + 0.5 * logdet
    if not np.isfinite(pl):
        return None
    return _State(beta, eta, mu, pl, ll, hat, score, info, R, Rinv, W)


def _hessian(X, st: _State) -> np.ndarray:
    """Exact Hessian of pl = l + 1/2 log det(X'WX) for the logit link.

    With a_i = dW_i/deta_i = W_i (1 - 2 mu_i), b_i = d2W_i/deta_i^2 = W_i ((1 - 2 mu_i)^2 - 2 mu_i
    (1 - mu_i)), g_i = R^-T x_i (so P_ik = x_i' I^-1 x_k = g_i'g_k):
        d2/db db' 1/2 log det I = 1/2 [X' diag(b_i P_ii) X - sum_ik a_i a_k P_ik^2 x_i x_k'],
    the second sum as K'K with K = sum_i a_i (g_i kron g_i) x_i' (accumulated in row chunks).
    """
    n, p = X.shape
    v = st.mu * (1.0 - st.mu)
    a = st.W * (1.0 - 2.0 * st.mu)
    b = st.W * ((1.0 - 2.0 * st.mu) ** 2 - 2.0 * v)
    G = X @ st.Rinv  # rows g_i' = x_i' R^-1
    q = np.einsum("ij,ij->i", G, G)
    first = X.T @ (X * (b * q)[:, None])
    K = np.zeros((p * p, p))
    step = max(1, 2_000_000 // max(p * p, 1))
    for s in range(0, n, step):
        g = G[s : s + step]
        G2 = (g[:, :, None] * g[:, None, :]).reshape(len(g), p * p)
        K += G2.T @ (X[s : s + step] * a[s : s + step, None])
    H = -st.info + 0.5 * (first - K.T @ K)
    return 0.5 * (H + H.T)


def _binomial_constant(y: np.ndarray, w: np.ndarray) -> float:
    """sum log choose(m, k) on R's convention (m = round(w), k = round(w y)); 0 for 0/1 data."""
    m = np.round(w)
    k = np.round(w * y)
    pos = w > 0
    c = special.gammaln(m + 1) - special.gammaln(k + 1) - special.gammaln(m - k + 1)
    return float(np.sum(c[pos]))


def _maximise(X, y, w, off, start, free, const, tol, max_iter, max_halvings=60):
    """Maximise pl over the ``free`` coefficients, the others held at ``start``.

    Newton steps with the exact Hessian of pl where it is negative definite on the free
    coefficients (quadratic convergence, also far out on a profile where the penalty's curvature
    is not small against X'WX), Fisher-scoring steps I^-1 U* (brglm2's and logistf's) elsewhere
    and whenever n p^3 exceeds ``_NEWTON_MAX_WORK``;
    step-halving whenever pl does not increase.  Converged when a full step changes no free
    coefficient by more than ``tol`` x (1 + |b_j|).  Returns (state, n_iter, converged).
    """
    beta = np.asarray(start, dtype=float).copy()
    st = _state(X, y, w, off, beta, const)
    if st is None:
        raise FitError("Firth fit: the information matrix is singular at the starting values")
    fidx = np.flatnonzero(free)
    converged = False
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        g = st.score[fidx]
        step = None
        if X.shape[0] * X.shape[1] ** 3 <= _NEWTON_MAX_WORK:
            try:
                negH = -_hessian(X, st)[np.ix_(fidx, fidx)]
                step = linalg.cho_solve(linalg.cho_factor(negH, check_finite=False), g)
            except linalg.LinAlgError:
                step = None
        if step is None or not np.all(np.isfinite(step)):
            Iff = st.info[np.ix_(fidx, fidx)]
            try:
                step = linalg.cho_solve(linalg.cho_factor(Iff, check_finite=False), g)
            except linalg.LinAlgError as err:
                raise FitError(
                    "Firth fit: the information matrix is not positive definite"
                ) from err
        t = 1.0
        new = None
        for _ in range(max_halvings):
            cand = st.beta.copy()
            cand[fidx] += t * step
            new = _state(X, y, w, off, cand, const)
            if new is not None and new.pl >= st.pl - 1e-13 * (abs(st.pl) + 1.0):
                break
            new = None
            t *= 0.5
        small = bool(np.all(np.abs(step) <= tol * (1.0 + np.abs(st.beta[fidx]))))
        if new is None:
            # No ascent along the step within rounding: we are at the maximum.
            converged = small
            break
        st = new
        if t == 1.0 and small:
            converged = True
            break
    return st, n_iter, converged


def _in_order_aliased(X: np.ndarray, w: np.ndarray, tol: float = ALIAS_TOL) -> np.ndarray:
    """R's in-order rule on sqrt(w)-weighted rows (the engine's ``aliased_columns``)."""
    return aliased_columns(X, w, tol)


def _prepare(X, y, weights, offset):
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise DataError(f"X must be a 2-d array, got shape {X.shape}")
    n, p = X.shape
    y = np.asarray(y, dtype=float).reshape(-1)
    if y.shape[0] != n:
        raise DataError(f"y has {y.shape[0]} values but X has {n} rows")
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float).reshape(-1)
    off = np.zeros(n) if offset is None else np.asarray(offset, dtype=float).reshape(-1)
    if w.shape[0] != n or off.shape[0] != n:
        raise DataError("weights and offset must have one value per row of X")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y)) and np.all(np.isfinite(w))):
        raise DataError("X, y and weights must be finite (drop missing rows first)")
    if np.any(w < 0):
        raise DataError("weights must be non-negative")
    if np.any((y < 0) | (y > 1)):
        raise DataError(
            "Firth logistic regression needs a response in [0, 1] (0/1 outcomes, or proportions "
            "with weights= trials)"
        )
    return X, y, w, off


def firth_fit(
    X,
    y,
    weights=None,
    offset=None,
    *,
    tol: float = 1e-10,
    max_iter: int = 100,
    start=None,
    column_names=None,
) -> FirthFit:
    """Firth's bias-reduced logistic regression on arrays (binomial family, logit link).

    ``y`` is 0/1, or a proportion with ``weights`` the number of trials (as R's glm); ``weights``
    may also be case weights for 0/1 data.  Aliased columns (exactly collinear with earlier
    ones) get NaN coefficients, as in R.  Warns ``ConvergenceWarning`` if not converged.
    """
    X, y, w, off = _prepare(X, y, weights, offset)
    n, p = X.shape
    names = None if column_names is None else tuple(str(c) for c in column_names)
    if names is not None and len(names) != p:
        raise DataError(f"column_names has {len(names)} names for {p} columns")
    aliased = _in_order_aliased(X, w)
    keep = np.flatnonzero(~aliased)
    if len(keep) == 0:
        raise FitError("every column of the design is zero or aliased; nothing to fit")
    Xk = X[:, keep]
    const = _binomial_constant(y, w)
    b0 = np.zeros(len(keep)) if start is None else np.asarray(start, dtype=float)[keep]
    st, n_iter, converged = _maximise(
        Xk, y, w, off, b0, np.ones(len(keep), bool), const, tol, max_iter
    )
    if not converged:
        warnings.warn(
            f"Firth fit did not converge in {max_iter} iterations "
            f"(max |modified score| {np.max(np.abs(st.score)):.3g}); increase max_iter",
            ConvergenceWarning,
            stacklevel=2,
        )
    coef = np.full(p, np.nan)
    coef[keep] = st.beta
    cov = np.full((p, p), np.nan)
    cov[np.ix_(keep, keep)] = st.Rinv @ st.Rinv.T  # (X'WX)^-1 = R^-1 R^-T (brglm2, logistf)
    cov = 0.5 * (cov + cov.T)
    score = np.full(p, np.nan)
    score[keep] = st.score
    return FirthFit(
        coef=coef,
        cov=cov,
        loglik=st.pl,
        loglik_unpenalized=st.ll,
        n_iter=n_iter,
        converged=converged,
        eta=st.eta,
        mu=st.mu,
        hat=st.hat,
        modified_score=score,
        aliased=aliased,
        column_names=names,
        X=X,
        y=y,
        weights=w,
        offset=off,
        tol=tol,
        max_iter=max_iter,
    )


def firth_modified_score(X, y, beta, weights=None, offset=None) -> np.ndarray:
    """U*(b) = X'(m (y - mu) + h (1/2 - mu)) at ``beta`` (full-rank X): zero at the Firth estimate."""
    X, y, w, off = _prepare(X, y, weights, offset)
    st = _state(X, y, w, off, np.asarray(beta, dtype=float), 0.0)
    if st is None:
        raise FitError("the information matrix is singular at beta")
    return st.score


# --------------------------------------------------------------------------------------------
# Restricted fits: b_j held fixed, the full model's penalty
# --------------------------------------------------------------------------------------------


class _Restricted:
    """pl maximised over the other coefficients with b_j = value.

    The restricted maximum is followed as a path in the value (predictor-corrector continuation):
    from the nearest value already solved, in sub-steps of at most one standard error, each
    started from the tangent prediction db_f/dc = -H_ff^-1 H_fj and corrected by ``_maximise``.
    Far out on a profile of separated data pl has spurious flat stationary points where the
    fitted probabilities underflow; a cold start from a distant solution can land on one of them,
    the continuation stays on the branch that starts at the estimate.
    """

    def __init__(self, fit: FirthFit, j: int):
        keep = np.flatnonzero(~fit.aliased)
        self.X = fit.X[:, keep]
        self.jk = int(np.flatnonzero(keep == j)[0])
        self.fit = fit
        self.free = np.ones(len(keep), bool)
        self.free[self.jk] = False
        self.fidx = np.flatnonzero(self.free)
        self.const = _binomial_constant(fit.y, fit.weights)
        se = float(np.sqrt(fit.cov[j, j]))
        self.max_sub = se if np.isfinite(se) and se > 0 else 1.0
        self.cache: list[tuple[float, np.ndarray]] = [(float(fit.coef[j]), fit.coef[keep].copy())]

    def _state(self, beta):
        f = self.fit
        return _state(self.X, f.y, f.weights, f.offset, beta, self.const)

    def _predict(self, beta: np.ndarray, dc: float) -> np.ndarray:
        """Tangent prediction of the restricted maximiser after b_j moves by ``dc``."""
        out = beta.copy()
        out[self.jk] += dc
        st = self._state(beta)
        if st is not None and len(self.fidx):
            try:
                H = _hessian(self.X, st)
                Hff = H[np.ix_(self.fidx, self.fidx)]
                db = -np.linalg.solve(Hff, H[self.fidx, self.jk]) * dc
                pred = out.copy()
                pred[self.fidx] += db
                if np.all(np.isfinite(pred)) and self._state(pred) is not None:
                    return pred
            except (np.linalg.LinAlgError, linalg.LinAlgError):
                pass
        return out

    def loglik(self, value: float) -> float:
        f = self.fit
        c0, b = min(self.cache, key=lambda cb: abs(cb[0] - value))
        n_sub = max(1, int(np.ceil(abs(value - c0) / self.max_sub - 1e-9)))
        st = None
        for k in range(1, n_sub + 1):
            ck = value if k == n_sub else c0 + (value - c0) * k / n_sub
            start = self._predict(b, ck - b[self.jk])
            start[self.jk] = ck
            if self._state(start) is None:
                raise ProfileEvalError(f"information singular at b_j = {ck!r}")
            if len(self.fidx) == 0:  # single coefficient: nothing to maximise
                st = self._state(start)
            else:
                st, _, converged = _maximise(
                    self.X,
                    f.y,
                    f.weights,
                    f.offset,
                    start,
                    self.free,
                    self.const,
                    f.tol,
                    max(f.max_iter, 200),
                )
                if not converged:
                    raise ProfileEvalError(f"restricted Firth fit did not converge at b_j = {ck!r}")
            assert st is not None
            b = st.beta.copy()
            self.cache.append((float(ck), b))
        assert st is not None
        return st.pl


def _which(fit: FirthFit, which) -> list[int]:
    p = len(fit.coef)
    if which is None:
        return list(range(p))
    out = []
    for k in np.atleast_1d(which):
        if isinstance(k, str):
            if fit.column_names is None or k not in fit.column_names:
                raise KeyError(f"no coefficient named {k!r}")
            out.append(fit.column_names.index(k))
        else:
            out.append(int(k))
    return out


def firth_lr_test(fit: FirthFit, which=None, null_value=0.0) -> FirthLRTest:
    """Penalized likelihood-ratio test of b_j = ``null_value`` for each coefficient (or those in
    ``which``: indices or names): 2 (pl_full - pl_restricted) against chi-squared(1), the
    restricted fit keeping the full model's penalty (logistf's default p-values).  Aliased
    coefficients give NaN."""
    idx = _which(fit, which)
    nulls = np.broadcast_to(np.asarray(null_value, dtype=float), (len(idx),))
    stat = np.full(len(idx), np.nan)
    plr = np.full(len(idx), np.nan)
    for k, j in enumerate(idx):
        if fit.aliased[j]:
            continue
        try:
            plr[k] = _Restricted(fit, j).loglik(float(nulls[k]))
        except ProfileEvalError as err:
            raise FitError(f"restricted Firth fit for coefficient {j} failed: {err}") from err
        stat[k] = max(2.0 * (fit.loglik - plr[k]), 0.0)
    names = None if fit.column_names is None else tuple(fit.column_names[j] for j in idx)
    return FirthLRTest(
        statistic=stat,
        df=np.where(np.isnan(stat), np.nan, 1.0),
        pvalue=stats.chi2.sf(stat, 1),
        loglik_restricted=plr,
        null_value=np.array(nulls),
        column_names=names,
    )


def firth_profile_ci(fit: FirthFit, which=None, alpha: float = 0.05) -> FirthProfileCI:
    """Profile penalized-likelihood confidence limits: the values c of b_j where
    2 (pl_full - pl_restricted(c)) = chi-squared_1(1 - alpha), found as exact roots (logistf's
    ``pl = TRUE`` intervals).  An infinite limit where the profile never gets that low."""
    idx = _which(fit, which)
    target = float(stats.norm.isf(alpha / 2.0))
    lower = np.full(len(idx), np.nan)
    upper = np.full(len(idx), np.nan)
    notes: list[str] = []
    bse = fit.bse
    for k, j in enumerate(idx):
        if fit.aliased[j]:
            continue
        r = _Restricted(fit, j)
        bj = float(fit.coef[j])

        def z(c, r=r, bj=bj):
            d = 2.0 * (fit.loglik - r.loglik(c))
            return np.sign(c - bj) * np.sqrt(max(d, 0.0))

        lo, hi, nt = profile_bounds(z, bj, float(bse[j]), target)
        lower[k], upper[k] = lo, hi
        name = fit.column_names[j] if fit.column_names else f"coefficient {j}"
        notes.extend(f"{name}: {t}" for t in nt)
    names = None if fit.column_names is None else tuple(fit.column_names[j] for j in idx)
    return FirthProfileCI(
        lower=lower, upper=upper, alpha=alpha, column_names=names, notes=tuple(notes)
    )
