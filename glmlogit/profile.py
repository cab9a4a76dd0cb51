"""Profile-likelihood confidence intervals, as R's ``confint()`` on a glm.

R (MASS's ``profile.glm`` / ``confint.profile.glm``, copied into stats in R 4.4) profiles the
signed root of the deviance difference

    z(c) = sign(c - b_j) sqrt((D(c) - D_hat) / phi),

D(c) the deviance of the fit with b_j held at c (column j moved into the offset), D_hat the
model's deviance and phi its dispersion (1 for binomial/poisson, the Pearson estimate otherwise),
and reports where z(c) = qnorm(alpha/2) and qnorm(1 - alpha/2) -- the normal quantiles for every
family, also those with an estimated dispersion (R's source: "This could have a df correction if
there's an estimated dispersion parameter.  Leave for now").  R evaluates z on a grid of at most
10 steps of zmax/5 standard errors each way and inverts an interpolating spline, which is accurate
to about 1e-4 relative.  Here the limits are the exact roots of z(c) = +-qnorm(1 - alpha/2)
(Brent's method, each evaluation one IRLS fit warm-started from the nearest previous solution).

Where the profile never reaches the quantile (a coefficient that diverges because of separation,
where D(c) decreases to a limit as c goes to +-infinity) the limit is infinite.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from .engine.irls import irls
from .engine.rows import DenseRows
from .errors import ConvergenceWarning, FitError
from .families import Family

__all__ = ["ProfileCI", "ProfileEvalError", "profile_bounds", "profile_conf_int"]

_Z_CAP = 1e6  # |z| above this is "far beyond any quantile"; keeps Brent's interpolation finite


class ProfileEvalError(Exception):
    """The profile could not be evaluated at this value (no valid fit there)."""


@dataclass(frozen=True)
class ProfileCI:
    """Profile-likelihood confidence limits by coefficient (NaN for aliased coefficients)."""

    lower: np.ndarray
    upper: np.ndarray
    alpha: float
    column_names: tuple[str, ...] | None = None
    n_fits: int = 0
    notes: tuple[str, ...] = ()


# --------------------------------------------------------------------------------------------
# Root search on a signed-root profile z(c), shared with firth.py
# --------------------------------------------------------------------------------------------


def _one_side(
    z: Callable[[float], float], est: float, scale: float, target: float, sgn: int, max_evals: int
) -> tuple[float, str | None]:
    """The c on side ``sgn`` of ``est`` with z(c) = sgn * target, or sgn * inf.

    z is (nearly) linear in c, slope ~ 1/se, for a regular profile, so the first trial is the
    Wald limit (a bit beyond), and later ones extrapolate the secant, at most quadrupling the
    distance each time.  A trial where z cannot be evaluated is pulled halfway back.  The limit is
    infinite when z stops growing (three outward trials in a row, each adding less than 1e-9 to
    z) or when no valid fit exists beyond the last point reached.
    """
    base = scale if np.isfinite(scale) and scale > 0 else max(1.0, abs(est))
    near, z_near = est, 0.0  # farthest point known to lie inside (|z| < target)
    dist = 1.1 * target * base
    far_fail: float | None = None  # nearest distance known to fail
    flat = 0
    fails = 0
    for _ in range(max_evals):
        c = est + sgn * dist
        try:
            zc = float(z(c))
        except ProfileEvalError:
            fails += 1
            far_fail = dist
            gap = dist - abs(near - est)
            if fails > 60 or gap <= 1e-12 * (abs(near) + base):
                return sgn * np.inf, (
                    f"no valid fit beyond {near:.6g} (profile z = {z_near:.4g} there): "
                    "{} limit set to infinity".format("upper" if sgn > 0 else "lower")
                )
            dist = abs(near - est) + 0.5 * gap
            continue
        if not np.isfinite(zc):
            zc = sgn * _Z_CAP
        if sgn * zc >= target:
            f = lambda x: float(np.clip(z(x), -_Z_CAP, _Z_CAP)) - sgn * target  # noqa: E731
            a, b = (near, c) if sgn > 0 else (c, near)
            try:
                root = optimize.brentq(f, a, b, xtol=1e-12 * base, rtol=1e-13, maxiter=200)
            except ProfileEvalError as err:  # a hole between two valid points: give up honestly
                return np.nan, f"profile could not be evaluated inside [{a:.6g}, {b:.6g}]: {err}"
            return float(root), None
        gained = sgn * (zc - z_near)
        d_near = abs(near - est)
        if gained < 1e-9:
            flat += 1
            if flat >= 3:
                return sgn * np.inf, (
                    f"profile flat beyond {c:.6g} (z = {zc:.4g} < {target:.4g}): "
                    "{} limit is infinite".format("upper" if sgn > 0 else "lower")
                )
        else:
            flat = 0
        # next distance: secant extrapolation to the target, at least x1.5, at most x4
        slope = gained / (dist - d_near) if dist > d_near else 0.0
        want = dist + (1.1 * (target - sgn * zc) / slope if slope > 0 else 3.0 * dist)
        new = min(max(want, 1.5 * dist), 4.0 * dist)
        near, z_near = c, zc
        if far_fail is not None and new >= far_fail:
            new = dist + 0.5 * (far_fail - dist)
            if far_fail - dist <= 1e-12 * (abs(c) + base):
                return sgn * np.inf, (
                    f"no valid fit beyond {c:.6g} (profile z = {zc:.4g}): "
                    "{} limit set to infinity".format("upper" if sgn > 0 else "lower")
                )
        dist = new
    return sgn * np.inf, f"profile did not reach the quantile within {max_evals} evaluations"


def profile_bounds(
    z: Callable[[float], float], est: float, scale: float, target: float, max_evals: int = 200
) -> tuple[float, float, list[str]]:
    """Both roots of the signed-root profile z(c) = -target and +target around ``est``.

    ``z(c)`` returns the signed root (negative below ``est``) or raises ProfileEvalError where it
    cannot be evaluated; ``scale`` is the coefficient's standard error (sets the first trial).
    """
    lo, n1 = _one_side(z, est, scale, target, -1, max_evals)
    hi, n2 = _one_side(z, est, scale, target, +1, max_evals)
    notes = [n for n in (n1, n2) if n]
    return lo, hi, notes


# --------------------------------------------------------------------------------------------
# GLM profile (R's confint.glm)
# --------------------------------------------------------------------------------------------


class _DevianceProfile:
    """D(c): deviance of the fit with b_j = c, the other non-aliased columns refitted."""

    def __init__(self, X, y, w, off, family, coef, j, intercept_index, fit_kw):
        self.others = np.flatnonzero(~np.isnan(coef) & (np.arange(len(coef)) != j))
        self.Xo = X[:, self.others]
        self.xj = X[:, j]
        self.y, self.w, self.off = y, w, off
        self.family = family
        self.icpt = (
            int(np.flatnonzero(self.others == intercept_index)[0])
            if intercept_index is not None and intercept_index in self.others
            else None
        )
        self.fit_kw = fit_kw
        self.cache: list[tuple[float, np.ndarray]] = [(float(coef[j]), coef[self.others].copy())]
        self.n_fits = 0

    def __call__(self, c: float) -> float:
        off = self.off + c * self.xj
        if len(self.others) == 0:
            eta = off
            mu = self.family.link.inverse(eta)
            if not (self.family.link.valid_eta(eta) and self.family.valid_mu(mu)):
                raise ProfileEvalError(f"fitted values invalid at {c!r}")
            return float(np.sum(self.family.deviance_terms(self.y, mu, self.w, eta)))
        rows = DenseRows(self.Xo, self.y, self.w, off)
        _, start = min(self.cache, key=lambda cb: abs(cb[0] - c))
        fit = None
        for st in (start, None):
            self.n_fits += 1
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    fit = irls(
                        rows, self.family, start=st, intercept_index=self.icpt, **self.fit_kw
                    )
            except FitError:
                fit = None
                continue
            if fit.converged and not np.any(fit.aliased):
                break
            fit = None
        if fit is None:
            raise ProfileEvalError(f"no converged fit with the coefficient held at {c!r}")
        self.cache.append((float(c), fit.coef.copy()))
        return float(fit.deviance)


def profile_conf_int(
    X,
    y,
    family: Family,
    *,
    coef,
    deviance: float,
    bse,
    dispersion: float = 1.0,
    weights=None,
    offset=None,
    alpha: float = 0.05,
    which=None,
    intercept_index: int | None = None,
    column_names=None,
    fit_kw: dict | None = None,
) -> ProfileCI:
    """Profile-likelihood confidence intervals for a fitted GLM, as R's ``confint(glm_fit)``.

    ``coef``, ``deviance``, ``bse`` and ``dispersion`` are the fitted model's (NaN coef = aliased,
    skipped); ``X``, ``y``, ``weights``, ``offset``, ``family`` its rows.  ``which``: indices of
    the coefficients to profile (default all).  Limits solve
    sign(c - b_j) sqrt((D(c) - D_hat) / dispersion) = -+qnorm(1 - alpha/2) exactly; an infinite
    limit where the profile never gets there (separation).  ``fit_kw`` is passed to ``irls``.
    """
    X = np.asarray(X, dtype=float)
    n, p = X.shape
    y = np.asarray(y, dtype=float)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    off = np.zeros(n) if offset is None else np.asarray(offset, dtype=float)
    coef = np.asarray(coef, dtype=float)
    bse = np.broadcast_to(np.asarray(bse, dtype=float), (p,))
    idx = list(range(p)) if which is None else [int(k) for k in np.atleast_1d(which)]
    target = float(stats.norm.isf(alpha / 2.0))
    kw = dict(fit_kw or {})
    lower = np.full(len(idx), np.nan)
    upper = np.full(len(idx), np.nan)
    notes: list[str] = []
    n_fits = 0
    for k, j in enumerate(idx):
        if np.isnan(coef[j]):
            continue
        dev = _DevianceProfile(X, y, w, off, family, coef, j, intercept_index, kw)
        bj = float(coef[j])

        def z(c, dev=dev, bj=bj):
            zz = (dev(c) - deviance) / dispersion
            return np.sign(c - bj) * np.sqrt(max(zz, 0.0))

        lower[k], upper[k], nt = profile_bounds(z, bj, float(bse[j]), target)
        n_fits += dev.n_fits
        name = str(column_names[j]) if column_names is not None else f"coefficient {j}"
        notes.extend(f"{name}: {t}" for t in nt)
    names = None if column_names is None else tuple(str(column_names[j]) for j in idx)
    return ProfileCI(lower, upper, alpha, names, n_fits, tuple(notes))
