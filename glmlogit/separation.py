"""Separation in binomial GLMs: the linear-programming check of Konis (2007), as R's detectseparation.

Binomial data are *separated* when some direction ``b`` of the coefficients (not zero on the
data) makes every observation at least as likely as before when the linear predictor moves along
``b``: ``s_i x_i'b >= 0`` for every row, with ``s_i = +1`` for a success and ``-1`` for a
failure, and ``> 0`` for at least one.  The log-likelihood then increases without bound along
``b`` and the maximum-likelihood estimate does not exist (Albert & Anderson 1984): IRLS drifts
off to infinity while reporting a large coefficient, a huge standard error and a Wald p-value
near 1.

:func:`detect_separation` runs the bounded primal linear program of Konis (2007) exactly as
``detectseparation::detect_separation`` (method ``"glm.fit"``, its default control:
``linear_program = "primal"``, ``purpose = "find"``, ``beta_tolerance = sqrt(.Machine$double.eps)``):

1. aliased columns (a column within R's QR tolerance 1e-7 of the span of the columns before it)
   are set aside and reported as ``"aliased"``;
2. rows with prior weight 0 are dropped;
3. rows with ``y == 1`` are successes, ``y == 0`` failures, and a row with ``0 < y < 1`` (a
   proportion with successes *and* failures among its trials) enters twice, once as each;
4. ``maximise sum_i s_i x_i'b  subject to  s_i x_i'b >= 0 (all i), -1 <= b_j <= 1``;
5. separation iff some ``|b_j| > tol``; the estimate of coefficient ``j`` is ``+inf`` / ``-inf``
   with the sign of ``b_j`` when ``|b_j| > tol``, finite otherwise.

The LP is solved with HiGHS (``scipy.optimize.linprog(method="highs-ds")``, a simplex method,
so the solution is a vertex as lpSolve's is) by constraint generation: the LP over a sample of
the rows, then the rows its solution violates added, until it violates none.  Its optimum is
then the optimum of the LP over all rows (the relaxed LP's optimum is at least the full one's,
and it is feasible for the full one), at a fraction of the cost on large data: on data that are
not separated the sample alone usually proves it (its only feasible point is ``b = 0``).

On top of detectseparation the report says which rows are perfectly predicted and whether the
separation is complete: further LPs of the same form (objective: the margins of the rows not yet
strictly separated) grow a separating direction until no further row can be strictly separated.
The rows strictly separated by it are then exactly the rows that *some* separating direction
separates (the fitted probability of each of them tends to 0 or 1); complete separation means
every row (a proportion row can never be: its two copies cancel).

The per-coefficient directions come from the vertex the LP returns, as in detectseparation.
When the LP's optimal face is not a single point the signs can depend on the solver's pivoting
(lpSolve and HiGHS may then differ); under complete separation in particular any separating
direction will do, so the signs are one valid certificate, not the direction glm's iterates take.

:func:`needs_check` is the cheap screen run after an IRLS fit: it decides whether the LP must run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import linalg, sparse, special
from scipy.optimize import linprog

from .engine.irls import aliased_columns as _engine_aliased
from .errors import DataError, GlmlogitError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SeparationReport", "aliased_columns", "detect_separation", "needs_check"]

BETA_TOL = math.sqrt(np.finfo(float).eps)  # detect_separation_control()'s beta_tolerance
ALIAS_TOL = 1e-7  # R's qr() tolerance
_EPS = np.finfo(float).eps
# the screen's heuristic (needs_check without X; see its docstring for the choice of values)
PROB_TOL = 1e-6
COEF_BIG = 8.0
Z_SMALL = 0.1
_FEAS_TOL = 1e-9  # HiGHS primal/dual feasibility tolerance, and our violation test (x ||x_i||_1)
_DIRECT_ROWS = 1000  # up to this many LP rows, no constraint generation
_MAX_ROUNDS = 200


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------


@dataclass
class SeparationReport:
    """Result of :func:`detect_separation`.

    ``status``: ``"none"``, ``"quasi-complete"`` or ``"complete"``.
    ``directions``: pandas Series by column name, ``"finite"``, ``"+inf"``, ``"-inf"`` or
    ``"aliased"`` (detectseparation's ``0`` / ``Inf`` / ``-Inf`` / ``NA``).
    ``rows``: positions (0-based, in the input's row order) of the perfectly predicted rows.
    ``n_separated``: ``len(rows)``.  ``n_obs``: rows with positive prior weight.
    ``certificate``: a separating direction (max |b_j| = 1, 0 for aliased columns) that strictly
    separates exactly ``rows``: ``s_i x_i'b >= 0`` for every row, ``> 0`` for those in ``rows``.
    ``lp_solution``: the Konis LP's solution ``b`` (NaN for aliased columns), from which
    ``directions`` are read.
    """

    status: str
    directions: pd.Series  # of str
    rows: np.ndarray
    n_separated: int
    certificate: np.ndarray
    lp_solution: np.ndarray
    column_names: list[str]
    n_obs: int
    tol: float = BETA_TOL
    lp_rounds: int = 0
    _text_terms: int = field(default=6, repr=False)
    _text_names: int = field(default=10, repr=False)

    @property
    def separated(self) -> bool:
        return self.status != "none"

    @property
    def infinite(self) -> list[str]:
        """Names of the coefficients whose MLE is +inf or -inf."""
        return [n for n, d in zip(self.column_names, self._dirs()) if d in ("+inf", "-inf")]

    @property
    def aliased(self) -> list[str]:
        return [n for n, d in zip(self.column_names, self._dirs()) if d == "aliased"]

    def _dirs(self) -> list[str]:
        return [str(d) for d in np.asarray(self.directions, dtype=object)]

    def direction_text(self) -> str:
        """The certificate as a linear combination of the design's columns, e.g. ``+1.0*NV``."""
        b = np.asarray(self.certificate, dtype=float)
        idx = [j for j in np.argsort(-np.abs(b), kind="stable") if abs(b[j]) > 1e-6]
        shown = sorted(idx[: self._text_terms])
        parts = []
        for k, j in enumerate(shown):
            v = b[j]
            mag = f"{abs(v):.3g}"
            if "." not in mag and "e" not in mag:
                mag += ".0"
            sign = ("-" if v < 0 else "+") if k == 0 else (" - " if v < 0 else " + ")
            parts.append(f"{sign}{mag}*{self.column_names[j]}")
        text = "".join(parts)
        if len(idx) > len(shown):
            text += f" + ... ({len(idx) - len(shown)} smaller terms)"
        return text

    def __str__(self) -> str:
        dirs = self._dirs()
        aliased = self.aliased
        tail = f" Aliased (not estimable): {', '.join(aliased)}." if aliased else ""
        if self.status == "none":
            return (
                f"No separation: the maximum-likelihood estimates exist (are finite) for all "
                f"{len(dirs) - len(aliased)} estimable coefficients (linear-programming check of "
                f"Konis 2007 on {self.n_obs} rows).{tail}"
            )
        inf = [(n, d) for n, d in zip(self.column_names, dirs) if d in ("+inf", "-inf")]
        if len(inf) == 1:
            mle = f"the MLE of {inf[0][0]} is {inf[0][1]}"
        else:
            # at most _text_names named: a factor with thousands of levels can put thousands of
            # coefficients at infinity, and the full list is in .infinite / .directions
            named = ", ".join(f"{n} ({d})" for n, d in inf[: self._text_names])
            more = len(inf) - self._text_names
            if more > 0:
                named += f" and {more} more (all {len(inf)} in .infinite)"
            mle = f"the MLEs of {named} are infinite"
        if self.status == "complete":
            head = (
                f"Complete separation: all {self.n_obs} rows are perfectly predicted along the "
                f"direction {self.direction_text()}"
            )
        else:
            head = (
                f"Quasi-complete separation: {self.n_separated} of {self.n_obs} rows are "
                f"perfectly predicted along the direction {self.direction_text()}"
            )
        return (
            f"{head}; {mle}. The maximum-likelihood estimate does not exist: reported "
            f"estimates, standard errors and Wald tests of these coefficients are meaningless. "
            f"Consider firth=True or a penalty.{tail}"
        )

    def __repr__(self) -> str:
        return f"<SeparationReport status={self.status!r} n_separated={self.n_separated}>"

    def to_dict(self) -> dict:
        """JSON-safe dict (NaN becomes None)."""

        def num(v: float) -> float | None:
            return float(v) if np.isfinite(v) else None

        return {
            "status": self.status,
            "separated": self.separated,
            "directions": dict(zip(self.column_names, self._dirs())),
            "rows": [int(i) for i in self.rows],
            "n_separated": int(self.n_separated),
            "n_obs": int(self.n_obs),
            "certificate": [num(v) for v in self.certificate],
            "lp_solution": [num(v) for v in self.lp_solution],
            "column_names": list(self.column_names),
            "tol": float(self.tol),
            "description": str(self),
        }


def _series(values: list[str], names: list[str]) -> pd.Series:
    import pandas as pd  # only for the report's output

    return pd.Series(values, index=pd.Index(names), dtype=object, name="separation")


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------


def _inputs(X, y, weights, column_names):
    names = None
    if column_names is not None:
        names = [str(c) for c in column_names]
    elif hasattr(X, "columns"):
        names = [str(c) for c in X.columns]
    is_sparse = sparse.issparse(X)
    Xa: Any = sparse.csr_matrix(X).astype(np.float64) if is_sparse else np.asarray(X, dtype=float)
    if Xa.ndim == 1:
        Xa = Xa[:, None]
    if Xa.ndim != 2:
        raise DataError(f"X must be a 2-D array, got {Xa.ndim} dimensions")
    n, p = Xa.shape
    if names is None:
        names = [f"x{j}" for j in range(p)]
    if len(names) != p:
        raise DataError(f"{len(names)} column names given for {p} design columns")
    ya = np.asarray(y, dtype=float).ravel()
    if ya.shape[0] != n:
        raise DataError(f"y has {ya.shape[0]} values but X has {n} rows")
    if weights is None:
        wa = np.ones(n)
    else:
        wa = np.asarray(weights, dtype=float).ravel()
        if wa.shape[0] != n:
            raise DataError(f"weights has {wa.shape[0]} values but X has {n} rows")
    if not np.isfinite(wa).all() or (wa < 0).any():
        raise DataError("prior weights must be finite and non-negative")
    pos = wa > 0
    if not np.isfinite(ya[pos]).all() or (ya[pos] < 0).any() or (ya[pos] > 1).any():
        raise DataError(
            "binomial y must be in [0, 1] (0/1 outcomes, or proportions with the trials as weights)"
        )
    Xpos = Xa if pos.all() else Xa[pos]
    # column sums are finite iff every entry is (barring overflow): no n x p temporary
    if is_sparse:
        bad = not np.isfinite(Xpos.data).all()
    else:
        bad = not np.isfinite(Xpos.sum(axis=0)).all() and not np.isfinite(Xpos).all()
    if bad:
        raise DataError("X has missing or non-finite values in rows with positive weight")
    return Xa, ya, wa, names


# --------------------------------------------------------------------------------------------
# Aliasing (R's in-order QR rule)
# --------------------------------------------------------------------------------------------


def aliased_columns(X, tol: float = ALIAS_TOL) -> np.ndarray:
    """In-order aliasing as R's ``qr(x, tol = 1e-7)``: column ``j`` is aliased when the norm of its
    residual on the earlier non-aliased columns is below ``tol`` times its own norm (a zero column
    is aliased).  The engine's rule (``glmlogit.engine.irls.aliased_columns``), unweighted."""
    return _engine_aliased(X, None, tol)


# --------------------------------------------------------------------------------------------
# The linear programs
# --------------------------------------------------------------------------------------------


class _Problem:
    """The reshaped rows of the LP: copy k is original row ``src[k]`` with sign ``s[k]``."""

    def __init__(self, X: np.ndarray, y: np.ndarray, w: np.ndarray):
        keep = np.flatnonzero(w > 0)
        if len(keep) < X.shape[0]:
            X = X[keep]
        yk = y[keep]
        at = np.arange(len(keep))
        ones = at[yk == 1]
        zeros = at[yk == 0]
        mixed = at[(yk != 1) & (yk != 0)]
        # detectseparation's order: successes, failures, then the proportions as failures and
        # as successes
        self.src = np.concatenate([ones, zeros, mixed, mixed])
        self.s = np.concatenate(
            [np.ones(len(ones)), -np.ones(len(zeros)), -np.ones(len(mixed)), np.ones(len(mixed))]
        )
        self.X = X  # the rows with positive weight; src indexes these
        self.orig = keep  # their positions in the input
        self.n_obs = len(keep)
        # row scale for the margin tolerances: ||x_i||_2 (|x_i'b| <= sqrt(p) ||x_i||_2 on the
        # box); einsum makes no n x p temporary
        self.sparse = sparse.issparse(X)
        if self.sparse:
            Xs: Any = X
            self.rownorm = np.sqrt(np.asarray(Xs.multiply(Xs).sum(axis=1)).ravel())
        else:
            self.rownorm = np.sqrt(np.einsum("ij,ij->i", X, X))
        self.N = len(self.src)
        self.rounds = 0

    def margins(self, b: np.ndarray) -> np.ndarray:
        return self.s * (self.X @ b)[self.src]

    def objective(self, mask: np.ndarray | None = None) -> np.ndarray:
        """sum over copies (in ``mask``) of s_k x_{src_k}."""
        q = np.zeros(self.X.shape[0])
        s = self.s if mask is None else self.s[mask]
        src = self.src if mask is None else self.src[mask]
        np.add.at(q, src, s)
        return self.X.T @ q

    def rows(self, idx: np.ndarray):
        """The LP's constraint rows s_k x_{src_k} (sparse when X is: HiGHS takes CSR)."""
        if self.sparse:
            return sparse.diags(self.s[idx]) @ self.X[self.src[idx]]
        return self.s[idx, None] * self.X[self.src[idx]]


def _highs(A, c: np.ndarray) -> np.ndarray:
    """max c'b  s.t.  A b >= 0, -1 <= b <= 1: a vertex of the optimal face.

    Dense A: HiGHS's dual simplex.  Sparse A (a sparse design): its interior-point method with
    the crossover to a basic solution first, which found the same vertex as the dual simplex on
    every LP compared and was 9x faster on the 100,100 x 10,010 LP of a 10,000-level factor
    (3.3 s against 31 s); on dense LPs (20,000 x 200) it was 1.5x slower.  The other settings
    are fallbacks when HiGHS fails."""
    if A.shape[0] == 0:
        return np.where(c > 0, 1.0, np.where(c < 0, -1.0, 0.0))
    tols = {"primal_feasibility_tolerance": _FEAS_TOL, "dual_feasibility_tolerance": _FEAS_TOL}
    attempts: tuple[tuple[str, dict[str, Any]], ...] = (
        ("highs-ds", tols),
        ("highs-ds", {}),
        ("highs-ds", {"presolve": False}),
    )
    if sparse.issparse(A):
        attempts = (("highs-ipm", tols), *attempts)
    failures = []
    for method, opts in attempts:
        res: Any = linprog(  # type: ignore[call-overload]
            -c,
            A_ub=-A,
            b_ub=np.zeros(A.shape[0]),
            bounds=(-1.0, 1.0),
            method=method,
            options=opts,
        )
        if res.status == 0:
            return np.asarray(res.x, dtype=float)
        failures.append(f"{method} status {res.status}: {res.message}")
    raise GlmlogitError(f"the separation linear program failed (HiGHS {'; '.join(failures)})")


def _solve(prob: _Problem, c: np.ndarray, work: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """max c'b over the box, subject to every row's margin >= 0, by constraint generation from
    the rows in ``work``.  Returns (b, the final working set)."""
    in_work = np.zeros(prob.N, dtype=bool)
    in_work[work] = True
    for _ in range(_MAX_ROUNDS):
        prob.rounds += 1
        b = _highs(prob.rows(np.flatnonzero(in_work)), c)
        m = prob.margins(b)
        slack = m / np.maximum(prob.rownorm[prob.src], 1e-300)
        viol = np.flatnonzero((slack < -_FEAS_TOL) & ~in_work)
        if len(viol) == 0:
            return b, np.flatnonzero(in_work)
        k = max(len(work), 2 * len(c), 64)
        if len(viol) > k:
            viol = viol[np.argpartition(slack[viol], k)[:k]]
        in_work[viol] = True
    raise GlmlogitError("the separation linear program did not settle (constraint generation)")


def _initial_rows(prob: _Problem, p: int) -> np.ndarray:
    if prob.N <= max(_DIRECT_ROWS, 4 * p):
        return np.arange(prob.N)
    m = min(prob.N, max(500, 10 * p))
    rng = np.random.default_rng(20070101)
    return np.sort(rng.choice(prob.N, size=m, replace=False))


def detect_separation(
    X,
    y,
    weights=None,
    column_names=None,
    *,
    tol: float = BETA_TOL,
    aliased=None,
) -> SeparationReport:
    """Check binomial data for separation (Konis 2007; R's ``detectseparation``).

    ``X``: n x p design (array, DataFrame or scipy sparse matrix, which stays sparse: the LP's
    rows go to HiGHS as a sparse matrix; the intercept is a column of ones if there is one).
    ``y``: 0/1 outcomes, or proportions in [0, 1] with the numbers of trials as ``weights``
    (R's convention).  ``weights``: prior weights; rows with weight 0 do not count.
    ``column_names``: names for the report (default: X's columns or x0, x1, ...).
    ``tol``: detectseparation's ``beta_tolerance`` (|b_j| above it is infinite), also the
    relative margin (times ||x_i||_2) above which a row counts as strictly separated.
    ``aliased``: optional boolean mask of aliased columns (e.g. the fit's); default: R's QR rule
    on the rows with positive weight.

    Returns a :class:`SeparationReport`.
    """
    Xa, ya, wa, names = _inputs(X, y, weights, column_names)
    n, p = Xa.shape
    pos = wa > 0
    if aliased is None:
        Xpos = Xa if pos.all() else Xa[pos]
        al = aliased_columns(Xpos) if Xpos.shape[0] else np.ones(p, dtype=bool)
    else:
        al = np.asarray(aliased, dtype=bool).ravel()
        if al.shape != (p,):
            raise DataError(f"aliased must have {p} values (one per column)")
    kept = np.flatnonzero(~al)
    Xk = Xa[:, kept] if len(kept) < p else Xa
    prob = _Problem(Xk, ya, wa)

    lp = np.full(p, np.nan)
    cert = np.zeros(p)
    directions = ["aliased" if a else "finite" for a in al]
    status = "none"
    rows = np.zeros(0, dtype=np.intp)
    if prob.N and len(kept):
        work = _initial_rows(prob, len(kept))
        b1, work = _solve(prob, prob.objective(), work)
        lp[kept] = b1
        if np.any(np.abs(b1) > tol):
            for j, v in zip(kept, b1):
                if abs(v) > tol:
                    directions[j] = "+inf" if v > 0 else "-inf"
            scale = np.maximum(prob.rownorm[prob.src], 1e-300)
            c_sum = b1.copy()
            strict = prob.margins(c_sum) > tol * scale
            while strict.any() and not strict.all():
                b2, work = _solve(prob, prob.objective(~strict), work)
                new = (prob.margins(b2) > tol * scale) & ~strict
                if not new.any():
                    break
                c_sum = c_sum + b2
                strict = prob.margins(c_sum) > tol * scale
            if strict.any():
                status = "complete" if strict.all() else "quasi-complete"
                rows = prob.orig[np.unique(prob.src[strict])]
                cert[kept] = c_sum / np.max(np.abs(c_sum))
            else:  # |b_j| > tol but no row strictly separated: numerically not separated
                directions = ["aliased" if a else "finite" for a in al]
    return SeparationReport(
        status=status,
        directions=_series(directions, names),
        rows=rows,
        n_separated=len(rows),
        certificate=cert,
        lp_solution=lp,
        column_names=names,
        n_obs=prob.n_obs,
        tol=tol,
        lp_rounds=prob.rounds,
    )


# --------------------------------------------------------------------------------------------
# The screen after an IRLS fit
# --------------------------------------------------------------------------------------------


def needs_check(
    mu,
    coef=None,
    bse=None,
    *,
    y=None,
    weights=None,
    X=None,
    cov=None,
    irls_weights=None,
    converged: bool = True,
    step=None,
    xtwx=None,
    eta=None,
    prob_tol: float = PROB_TOL,
    coef_big: float = COEF_BIG,
    z_small: float = Z_SMALL,
) -> bool:
    """Should the separation LP run after this binomial fit?  ``False`` only when the fit shows
    that the MLE exists; when in doubt ``True`` (the LP is exact, and cheap on data that are not
    separated, so a false alarm costs time, never a wrong answer).

    Always ``True`` when the fit did not converge, or a non-aliased coefficient or standard
    error is not finite (NaN coefficients are taken as aliased and skipped).

    With ``X`` and ``y`` (and optionally ``weights``, ``cov`` = the unscaled (X'WX)^-1 at the
    final iterate, NaN rows/columns for aliased columns, and ``irls_weights`` = that W; default
    the logit's ``weights * mu * (1 - mu)``), the answer is a proof, not a heuristic.  Write
    ``lam_i`` for ``w_i y_i (1 - mu_i)`` (a row's successes) and ``w_i (1 - y_i) mu_i`` (its
    failures), each > 0 when that side is present; ``g = X'(w (y - mu)) = sum_i s_i lam_i x_i``.
    With ``v = (X'WX)^-1 g`` (the next Newton/IRLS step) the multipliers
    ``lam_i - W_i s_i x_i'v`` solve ``sum_i s_i lam_i' x_i = 0`` exactly; if every one is
    still positive (``(W_i / w_i) |x_i'v| < 1 - mu_i`` resp. ``mu_i``; we demand < 1/2 of it),
    then by Stiemke's lemma no direction ``b`` has ``s_i x_i'b >= 0`` for all rows unless
    ``X b = 0``: no separation, whatever the fit's tolerances were.  A separated fit fails this
    test: along the separating direction the Newton step moves the separated rows' linear
    predictors by about 1 at every iteration (the likelihood there behaves as ``exp(-t)``).
    For the logit link ``v`` is exactly the fit's next IRLS step ``(X'WX)^-1 X'(w (y - mu))``:
    pass it as ``step`` (coefficients of the non-aliased columns, or all with NaN for aliased)
    and the screen costs one pass over X.  With ``xtwx`` (the X'WX at the same iterate) as well,
    it usually costs no pass at all: since ``H = X'WX`` holds each row's own term, the leverage
    ``W_i x_i'H^-1 x_i`` is at most 1, so (Cauchy-Schwarz in the H metric)
    ``|x_i'v| <= sqrt(x_i'H^-1 x_i) sqrt(v'Hv) <= lambda / sqrt(W_i)`` with ``lambda^2 = v'Hv``
    (the Newton decrement).  When ``lambda sqrt(a_i / w_i) / d_i < 1/2`` for every row, the
    condition above holds without X; at a converged fit lambda is ~1e-10 or less.  For the logit
    with the linear predictor ``eta`` given, ``sqrt(a_i) / d_i = exp(r_i / 2)`` and
    ``d_i = expit(-r_i)`` with ``r_i = eta_i`` for a success, ``-eta_i`` for a failure
    (``|eta_i|`` for a proportion), so the test is a few reductions over ``eta``
    (``screen_reductions``; the compiled logit pass sums them on the way).
    Otherwise the screen falls back to ``X v``.
    Rounding: the test is run for the exact step ``v* = H^-1 g`` of the rows' computed score
    terms, not only for the computed ``v``: ``rounding_slack`` bounds ``||v* - v||_H`` by the
    worst-case error of the sums behind g (``(n + 3) eps / 2`` times ``sum_i |u_i x_ij|``,
    bounded through the Pearson chi-squared and the diagonals of X'WX and its inverse) and of
    the solve, and the tests use ``lambda + E`` (``tmax + E max_i sqrt(a_i / w_i) / d_i``).  At
    n = 1e8 with a well-conditioned design E is about 1e-3, so every row's fitted probability on
    its observed side must stay above about 1e-5.  Each d_i must also be at least 1e-12 (a
    score term is a difference, exact only to about eps).  Cost: two passes over X (one more,
    an X'WX, when ``xtwx`` is not given), against the fit's several.

    Without ``X`` the pass-free logit test above still runs when ``eta``, ``step`` and
    ``xtwx`` are given (a proof); when it fails, or without them, a heuristic: ``True`` when a fitted probability on the side of an observed
    outcome is within ``prob_tol`` of 0 or 1 (all rows' min(mu, 1 - mu) when ``y`` is not
    given), or a coefficient diverges (``|coef| > coef_big`` with ``|coef / bse| < z_small``).
    Why ``prob_tol = 1e-6`` and not R's ``10 * eps`` (R's "fitted probabilities numerically 0 or 1"
    warning, which R does not even print for the endometrial data): when IRLS stops on separated
    data by R's rule (relative deviance change < 1e-8), the separated rows' fitted probabilities
    are typically still ~1e-8 * (deviance + 0.1) from 0/1, far above 10 * eps.  glmlogit's IRLS
    also demands a relative step < 1e-10 (at the time of writing), which on separated data ends
    with those probabilities at ~1e-8 or below (endometrial: 17 iterations, NV = 18.2), or not
    converged; either is caught.  False-negative risk: a fitter that stops
    early with a loose rule (deviance change only, deviance > ~100) can leave separated rows at
    1e-6..1e-4 with moderate coefficients, which this heuristic misses; pass ``X`` and ``y`` to
    make the screen exact.
    """
    mu = np.asarray(mu, dtype=float).ravel()
    n = mu.shape[0]
    w = None if weights is None else np.asarray(weights, dtype=float).ravel()
    pos = np.ones(n, dtype=bool) if w is None else w > 0
    all_pos = w is None or bool(pos.all())
    if not converged:
        return True
    if coef is not None:
        c = np.asarray(coef, dtype=float).ravel()
        est = ~np.isnan(c)
        if not np.isfinite(c[est]).all():
            return True
        if bse is not None:
            se = np.asarray(bse, dtype=float).ravel()
            if not np.isfinite(se[est]).all():
                return True
    else:
        est = None
    m = mu if all_pos else mu[pos]
    if not np.isfinite(m).all():
        return True

    if y is not None and (X is not None or eta is not None):
        yv = np.asarray(y, float).ravel()
        wu = None if w is None or bool(np.all(w == 1.0)) else w  # None: unit weights
        if irls_weights is None and _decrement_certificate(eta, mu, yv, step, xtwx, cov, est, wu):
            return False
        if X is not None:
            return not _newton_certificate(mu, yv, wu, X, cov, irls_weights, est, step, xtwx)
        # without X (a sparse design): the pass-free test failed, the heuristic decides

    if y is not None:
        yy = np.asarray(y, dtype=float).ravel()
        yy = yy if all_pos else yy[pos]
        d_succ = np.where(yy > 0, 1.0 - m, np.inf)
        d_fail = np.where(yy < 1, m, np.inf)
        if (np.minimum(d_succ, d_fail) < prob_tol).any():
            return True
    elif (np.minimum(m, 1.0 - m) < prob_tol).any():
        return True
    if coef is not None and bse is not None:
        c = np.asarray(coef, dtype=float).ravel()
        if coefficients_drift(c[est], np.asarray(bse, dtype=float).ravel()[est], coef_big, z_small):
            return True
    return False


def coefficients_drift(coef, bse, coef_big: float = COEF_BIG, z_small: float = Z_SMALL) -> bool:
    """The heuristic's sign of a diverging fit: a coefficient with ``|coef| > coef_big`` and
    ``|coef / bse| < z_small`` (coefficients with a standard error that is not positive are
    skipped)."""
    c = np.asarray(coef, dtype=float)
    se = np.asarray(bse, dtype=float)
    ok = se > 0
    return bool(((np.abs(c[ok]) > coef_big) & (np.abs(c[ok]) / se[ok] < z_small)).any())


def row_multipliers(mu, y, w=None) -> np.ndarray:
    """The screen's per-row multipliers per unit weight at the fit, ``d_i``: the smaller of the
    present sides' fitted probabilities (1 - mu for a success, mu for a failure, the smaller of
    the two for a proportion)."""
    one_m = 1.0 - mu
    return np.where(y >= 1.0, one_m, np.where(y <= 0.0, mu, np.minimum(mu, one_m)))


# A row's multiplier is its score term |u_i| = w_i d_i only to within an absolute rounding of
# about eps w_i (u_i = y_i - mu_i is a difference); above this floor on d_i that is < 1e-4 of it.
_D_FLOOR = 1e-12


def rounding_slack(n: float, S: float, xtwx, cov, keep, lam: float) -> float:
    """A bound E on ``||v* - v||_H``, the distance in the metric of H = X'WX between the Newton
    step ``v`` the fit computed (its length ``lam = sqrt(v'Hv)``) and the exact one
    ``v* = H^-1 g`` of the score g that the rows' computed terms u_i define; inf when the
    bound does not apply.  With ``S = sum u_i^2 / W_i`` (the Pearson chi-squared of the logit),
    ``gamma = (n + 3) eps / 2 / (1 - (n + 3) eps / 2)`` and ``T = sum_j H_jj (H^-1)_jj``:

    * the computed score differs from g by ``|dg_j| <= gamma sum_i |u_i x_ij|`` whatever order
      the sums took (tiles, threads, partitions), and by Cauchy-Schwarz
      ``sum_i |u_i x_ij| <= sqrt(S) sqrt(H_jj)``; since ``|H^-1_jk| <= sqrt(H^-1_jj H^-1_kk)``,
      ``||dg||_{H^-1} <= gamma sqrt(S) sum_j sqrt(H_jj (H^-1)_jj)``;
    * the computed X'WX and the solve for v are off by a relative ``gamma k`` resp. ``~k^2 eps``
      in the correlation metric, which moves v by at most ``rel = 2 T (gamma k + 10 k^2 eps)``
      of its length (T bounds the norm of the inverse correlation matrix); beyond rel = 1/4 the
      bound is not trusted.

    ``xtwx`` (H) and ``cov`` (H^-1) as computed, over the columns in ``keep``."""
    u = _EPS / 2.0
    m = (n + 3.0) * u
    if not (m < 0.01 and np.isfinite(S) and S >= 0 and np.isfinite(lam)):
        return np.inf
    keep = np.asarray(keep, dtype=bool)
    hd = np.diag(np.asarray(xtwx, dtype=float))[keep]
    cd = np.diag(np.asarray(cov, dtype=float))[keep]
    if not (np.isfinite(hd).all() and np.isfinite(cd).all() and (hd > 0).all() and (cd > 0).all()):
        return np.inf
    k = float(len(hd))
    gamma = m / (1.0 - m)
    T = float(np.sum(hd * cd))
    rel = 2.0 * T * (gamma * k + 10.0 * k * k * _EPS)
    if not rel <= 0.25:
        return np.inf
    lam_err = gamma * math.sqrt(S) * float(np.sum(np.sqrt(hd * cd)))
    return (1.0 + rel) * lam_err + rel * lam


def certificate_reductions(xv, mu, y, w, a) -> np.ndarray:
    """The row reductions of the screen's X v test over rows of positive weight ``w`` (None:
    unit weights), with ``xv`` = X v and ``a`` = W / w: [their number, S = sum u_i^2 / W_i,
    min d_i, max a_i |x_i'v| / d_i, max sqrt(a_i / w_i) / d_i, 1.0 when all of them are finite
    and a >= 0 (else 0.0)].  Sums and maxima, so that the Dask pass combines them per block."""
    d = row_multipliers(mu, y, w)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        t = np.abs(np.asarray(xv, dtype=float).ravel()) * a / d
        u = y - mu if w is None else w * (y - mu)
        S = float(np.sum(u * u / (a if w is None else w * a)))
        smax = float(np.max(np.sqrt(a if w is None else a / w) / d))
    ok = bool(np.isfinite(a).all() and (a >= 0).all() and np.isfinite(t).all())
    ok = ok and bool(np.isfinite(S) and np.isfinite(smax))
    tmax = float(t.max()) if ok else np.inf
    dmin = float(d.min()) if np.isfinite(d).all() else 0.0
    return np.array([float(len(y)), S, dmin, tmax, smax, float(ok)])


def _spd_inverse(H) -> np.ndarray | None:
    """The inverse of a symmetric positive definite H by Cholesky; None when it is not."""
    try:
        return linalg.cho_solve(
            linalg.cho_factor(H, check_finite=False), np.eye(len(H)), check_finite=False
        )
    except linalg.LinAlgError:
        return None


def reduced_newton_proof(n: float, d_min: float, tmax: float, smax: float, slack: float) -> bool:
    """The Newton test of needs_check from its row reductions (as summed over partitions by a
    Dask pass): ``n`` rows with positive weight, ``d_min`` the smallest d_i, ``tmax`` the
    largest ``a_i |x_i'v| / d_i``, ``smax`` the largest ``sqrt(a_i / w_i) / d_i``, ``slack``
    from rounding_slack: every row passes ``a_i |x_i'v*| / d_i < 1/2`` for the exact step v*."""
    if n == 0:
        return True
    return bool(d_min >= _D_FLOOR and tmax + slack * smax < 0.5)


def no_separation(column_names, aliased, n_obs: int) -> SeparationReport:
    """The report of a fit whose screen proved that the MLE exists (the LP was not run)."""
    names = [str(c) for c in column_names]
    al = np.asarray(aliased, dtype=bool)
    p = len(names)
    return SeparationReport(
        status="none",
        directions=_series(["aliased" if a else "finite" for a in al], names),
        rows=np.zeros(0, dtype=np.intp),
        n_separated=0,
        certificate=np.zeros(p),
        lp_solution=np.full(p, np.nan),
        column_names=names,
        n_obs=int(n_obs),
    )


def _decrement_certificate(eta, mu, y, step, xtwx, cov, est, w=None) -> bool:
    """The pass-free form of the logit certificate (see needs_check): True when it proves
    non-separation; False means "not proven here" (the caller runs the full test).  ``w``: prior
    weights (None for unit weights); rows with zero weight are left out, as the exact test does."""
    if eta is None or step is None or xtwx is None:
        return False
    eta = np.asarray(eta, dtype=float).ravel()
    mu = np.asarray(mu, dtype=float).ravel()
    if eta.shape != y.shape or mu.shape != y.shape:
        return False
    if w is not None:
        w = np.asarray(w, dtype=float).ravel()
        pos = w > 0
        if not pos.all():
            eta, mu, y, w = eta[pos], mu[pos], y[pos], w[pos]
        if len(y) == 0:
            return False
    v = np.asarray(step, dtype=float).ravel()
    keep = np.isfinite(v) if est is None else np.asarray(est, bool) & np.isfinite(v)
    lam = newton_decrement(step, xtwx, keep)
    if lam is None:
        return False
    if cov is None:  # the inverse of the kept block, for the rounding slack
        ck = _spd_inverse(np.asarray(xtwx, dtype=float)[np.ix_(keep, keep)])
        if ck is None:
            return False
        cov = np.full(np.shape(xtwx), np.nan)
        cov[np.ix_(keep, keep)] = ck
    return decrement_proof(lam, screen_reductions(eta, mu, y, w), xtwx, cov, keep)


def newton_decrement(step, xtwx, est=None) -> float | None:
    """lambda = sqrt(v'Hv) for the IRLS step ``v`` (NaN for aliased columns) and ``xtwx`` = H at
    the same iterate, over the columns in ``est`` (default: those with a finite step); None when
    it is not finite."""
    v = np.asarray(step, dtype=float).ravel()
    keep = np.isfinite(v) if est is None else np.asarray(est, bool) & np.isfinite(v)
    H = np.asarray(xtwx, dtype=float)[np.ix_(keep, keep)]
    v = v[keep]
    lam2 = float(v @ H @ v)  # the Newton decrement squared, v'Hv = g'H^-1 g >= 0
    if not np.isfinite(lam2):
        return None
    return math.sqrt(max(lam2, 0.0))


def screen_reductions(eta, mu, y, w=None) -> np.ndarray:
    """The row reductions of the logit screen's pass-free test (see needs_check), over rows of
    positive weight: [their number, the Pearson chi-squared S = sum w_i (y_i - mu_i)^2 /
    (mu_i (1 - mu_i)), min of w_i exp(-r_i), min of d_i], with r_i = eta_i for a success,
    -eta_i for a failure, |eta_i| for a proportion, and d_i = expit(-r_i).  The compiled logit
    pass sums the same four (engine/kernels.py)."""
    eta = np.asarray(eta, dtype=float).ravel()
    if w is not None:
        pos = w > 0
        if not pos.all():
            eta, mu, y, w = eta[pos], mu[pos], y[pos], w[pos]
    if len(y) == 0:
        return np.array([0.0, 0.0, np.inf, np.inf])
    r = (2.0 * y - 1.0) * eta  # exact for 0/1 rows
    frac = (y > 0) & (y < 1)
    if frac.any():
        r[frac] = np.abs(eta[frac])
    d = special.expit(-r)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        q = np.exp(-r)
        u, a = y - mu, mu * (1.0 - mu)  # a row with u = 0 adds 0 (as the kernel's Pearson)
        pe = np.divide(u * u, a, out=np.zeros_like(u), where=(a > 0) | (u != 0))
    if w is None:
        return np.array([len(y), pe.sum(), q.min(), d.min()])
    return np.array([len(y), (w * pe).sum(), (w * q).min(), d.min()])


def decrement_proof(lam: float, screen, xtwx, cov, keep) -> bool:
    """The pass-free Newton test from the Newton decrement ``lam`` and the row reductions
    ``screen`` (screen_reductions), with ``xtwx`` and ``cov`` = its inverse over the columns in
    ``keep`` for the rounding slack E (rounding_slack): with the exact step's length at most
    lam + E, ``(lam + E) sqrt(a_i / w_i) / d_i = (lam + E) exp(r_i / 2) / sqrt(w_i) < 1/2``,
    i.e. ``w_i exp(-r_i) > 4 (lam + E)^2``, for every row, and every d_i above _D_FLOOR."""
    n, S, q_min, d_min = (float(x) for x in screen)
    if n == 0 or not d_min >= _D_FLOOR:
        return False
    lam_x = lam + rounding_slack(n, S, xtwx, cov, keep, lam)
    return bool(q_min > 4.0 * lam_x * lam_x)


def _newton_certificate(mu, y, w, X, cov, irls_weights, est, step=None, xtwx=None) -> bool:
    """True when the fit proves that the data are not separated (see needs_check).  ``w`` is
    None for unit weights (no n-vector arithmetic spent on them)."""
    Xa = np.asarray(X, dtype=float)
    if Xa.ndim == 1:
        Xa = Xa[:, None]
    if w is not None:
        pos = w > 0
        if not pos.all():
            Xa, y, mu, w = Xa[pos], y[pos], mu[pos], w[pos]
            if irls_weights is not None:
                irls_weights = np.asarray(irls_weights, dtype=float).ravel()[pos]
    n = Xa.shape[0]
    if n == 0:
        return True
    if cov is not None:
        cov = np.asarray(cov, dtype=float)
        keep = np.isfinite(np.diag(cov))
    elif est is not None:
        keep = est.copy()
    elif step is not None and np.asarray(step).size == Xa.shape[1]:
        keep = np.isfinite(np.asarray(step, dtype=float).ravel())
    else:
        keep = np.ones(Xa.shape[1], dtype=bool)
    if not keep.all():
        Xa = Xa[:, keep]
        if cov is not None:
            cov = cov[np.ix_(keep, keep)]
    if xtwx is not None:
        xtwx = np.asarray(xtwx, dtype=float)[np.ix_(keep, keep)]
    if irls_weights is None:
        a = mu * (1.0 - mu)  # the logit's W / w
    else:
        W = np.asarray(irls_weights, dtype=float).ravel()
        a = W if w is None else W / w
        if not (np.isfinite(a).all() and (a >= 0).all()):
            return False
    if xtwx is None:
        wa = a if w is None else w * a
        xtwx = Xa.T @ (wa[:, None] * Xa)
    if cov is None:
        cov = _spd_inverse(xtwx)
        if cov is None:
            return False
    if step is not None:
        v = np.asarray(step, dtype=float).ravel()
        if v.shape[0] != Xa.shape[1]:
            v = v[keep]
    else:
        v = cov @ (Xa.T @ (y - mu if w is None else w * (y - mu)))
    if not np.isfinite(v).all():
        return False
    # the multipliers lam_i - W_i s_i x_i'v stay positive when W_i |x_i'v| < lam_i on each present
    # side; a proportion row's W is shared between its two sides as y : 1 - y, so per unit
    # weight the condition reads a_i |x_i'v| < d_i on both sides
    _n, S, dmin, tmax, smax, ok = certificate_reductions(Xa @ v, mu, y, w, a)
    lam = newton_decrement(v, xtwx)
    slack = rounding_slack(
        n, S, xtwx, cov, np.ones(Xa.shape[1], bool), np.inf if lam is None else lam
    )
    return bool(ok == 1.0) and reduced_newton_proof(n, dmin, tmax, smax, slack)
