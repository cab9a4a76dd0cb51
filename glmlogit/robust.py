"""Heteroskedasticity-consistent and cluster-robust covariances of GLM coefficients.

Pure functions on the arrays of a fit; R's ``sandwich`` package (version 3.0) is the reference.

What sandwich computes for a ``glm``
------------------------------------
``estfun.glm`` gives the score contributions ``u_i x_i / phi`` with ``u_i`` = working residual x
working weight = ``w_i mu_eta_i (y_i - mu_i) / V(mu_i)`` (``w_i`` the prior weight) and ``phi`` a
dispersion; ``bread.glm`` is ``n * phi * (X'WX)^-1``; ``sandwich()`` is ``bread %*% meat %*% bread / n``
with ``meat = sum_i omega_i x_i x_i' / n``.  The dispersion cancels (bread carries ``phi``, the meat
``1/phi^2``), so for every family, with ``C = (X'WX)^-1`` (the unscaled covariance):

    V = C (sum_i omega_i u_i^2 x_i x_i') C

``vcovHC(fit, type=)`` (``meatHC``), ``n`` rows, ``k`` the rank (aliased columns dropped):

    HC0  omega_i = 1
    HC1  omega_i = n / (n - k)
    HC2  omega_i = 1 / (1 - h_i)
    HC3  omega_i = 1 / (1 - h_i)^2      (vcovHC's default type)

with ``h_i`` R's ``hatvalues`` of the glm: the diagonal of ``W^1/2 X C X' W^1/2``.

``vcovCL(fit, cluster=g, type=, cadjust=TRUE)`` (``meatCL``), ``G`` clusters with score sums
``s_g = sum_{i in g} u_i x_i``:

    V = a C (sum_g s_g s_g') C,
    type "HC0" (the default for a glm; "HC1" only for an lm):  a = G / (G - 1)
    type "HC1":                                               a = G / (G - 1) * (n - 1) / (n - k)
    cadjust = FALSE drops the G / (G - 1).

Here ``cluster_correction="r"`` is vcovCL's glm default ``G/(G-1)``; ``"stata"`` (the default, also
statsmodels' ``cov_type="cluster"`` and Stata's) is ``vcovCL(type="HC1")``, ``G/(G-1) (n-1)/(n-k)``;
``None`` is ``vcovCL(type="HC0", cadjust=FALSE)``.  All three, and HC0-HC3, are checked against R in
``tests/test_robust.py``.

Rows with prior weight zero
---------------------------
They carry no information and are not observations (R's ``nobs``, ``df.residual``).  Here they are
dropped: ``n`` counts the rows with positive weight, and the result equals sandwich's on the fit
without those rows.  sandwich itself is inconsistent on such a fit: its ``bread`` uses ``n`` =
rank + df.residual (non-zero weights) while ``meat``/``sandwich`` divide by ``NROW(estfun)`` (all
rows), which scales every HC0/HC1/cluster covariance by ``(n_nonzero / n_all)^2``, and for HC2/HC3
it recycles the (shorter, zero-weight rows omitted) ``hatvalues`` against the rows, with a
warning.  Without zero weights the two agree exactly.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .errors import GlmlogitError, GlmlogitWarning

__all__ = ["sandwich_cov", "score_factors", "hat_values", "HC_KINDS", "CLUSTER_CORRECTIONS"]

HC_KINDS = ("HC0", "HC1", "HC2", "HC3")
CLUSTER_CORRECTIONS = ("stata", "r", None)
_EPS = float(np.finfo(float).eps)


def score_factors(y, mu, eta, weights, family) -> tuple[np.ndarray, np.ndarray]:
    """Per-row ``(u, W)``: score factor ``u_i = w_i mu_eta_i (y_i - mu_i) / V(mu_i)`` (R's working
    residual times working weight; the score is ``X'u``) and working weight
    ``W_i = w_i mu_eta_i^2 / V(mu_i)``.  Rows with zero prior weight get ``u = W = 0``."""
    y, mu, eta, wt = (np.asarray(a, dtype=float) for a in (y, mu, eta, weights))
    d = family.link.mu_eta(eta)
    v = family.variance(mu)
    pos = wt > 0
    u = np.zeros_like(mu)
    W = np.zeros_like(mu)
    u[pos] = wt[pos] * d[pos] * (y[pos] - mu[pos]) / v[pos]
    W[pos] = wt[pos] * d[pos] * d[pos] / v[pos]
    return u, W


def _is_sparse(x: Any) -> bool:
    """scipy.sparse.issparse without its type narrowing (the stubs' sparse type lacks methods)."""
    return bool(sp.issparse(x))


def _rowwise_quad(Xk: Any, Ck: np.ndarray) -> np.ndarray:
    """``diag(Xk Ck Xk')`` for a dense or sparse ``Xk``, in blocks of rows for sparse."""
    if not _is_sparse(Xk):
        return np.einsum("ij,jk,ik->i", Xk, Ck, Xk)
    n, k = Xk.shape
    out = np.empty(n)
    step = max(1, 2**22 // max(k, 1))
    for i in range(0, n, step):
        blk = Xk[i : i + step]
        out[i : i + step] = np.asarray(blk.multiply(blk @ Ck).sum(axis=1)).ravel()
    return out


def _weighted_crossprod(Xk: Any, omega: np.ndarray) -> np.ndarray:
    """``Xk' diag(omega) Xk`` as a dense array, for a dense or sparse ``Xk``."""
    if _is_sparse(Xk):
        return np.asarray((Xk.T @ sp.diags(omega) @ Xk).toarray())
    return (Xk * omega[:, None]).T @ Xk


def hat_values(Xk: Any, W: np.ndarray, Ck: np.ndarray) -> np.ndarray:
    """Diagonal of the GLM hat matrix ``W^1/2 X C X' W^1/2`` on the non-aliased columns ``Xk``
    (dense or scipy.sparse), ``Ck = (Xk' W Xk)^-1``; values within ``10 eps`` of 1 are set to 1,
    as R's ``lm.influence``."""
    h = W * _rowwise_quad(Xk, Ck)
    h[h > 1.0 - 10.0 * _EPS] = 1.0
    return h


def _restrict(X_in: Any, weights, cov_unscaled, aliased):
    """The design as a float ndarray or CSR matrix, the kept columns, C on them, positive rows."""
    X: Any = sp.csr_matrix(X_in, dtype=float) if _is_sparse(X_in) else np.asarray(X_in, dtype=float)
    if X.ndim != 2:
        raise GlmlogitError(f"X must be a 2-d array, got shape {X.shape}")
    aliased = np.asarray(aliased, dtype=bool)
    keep = ~aliased
    if X.shape[1] != len(keep):
        raise GlmlogitError(f"X has {X.shape[1]} columns, aliased has {len(keep)}")
    C = np.asarray(cov_unscaled, dtype=float)[np.ix_(keep, keep)]
    pos = np.asarray(weights, dtype=float) > 0
    return X, keep, C, pos


def _select(X: Any, pos: np.ndarray, keep: np.ndarray):
    return X[np.flatnonzero(pos)][:, np.flatnonzero(keep)]


def _embed(Vk: np.ndarray, keep: np.ndarray) -> np.ndarray:
    p = len(keep)
    V = np.full((p, p), np.nan)
    V[np.ix_(keep, keep)] = Vk
    return V


def sandwich_cov(
    X,
    y,
    mu,
    eta,
    weights,
    family,
    cov_unscaled,
    aliased,
    kind: str = "HC0",
    groups=None,
    cluster_correction: str | None = "stata",
) -> np.ndarray:
    """Sandwich covariance of the coefficients, as R's ``sandwich::vcovHC`` / ``vcovCL`` on a glm.

    Parameters
    ----------
    X : (n, p) design, all columns (aliased ones included); ndarray or scipy.sparse.
    y, mu, eta, weights : response (R's scale: proportions for binomial with trials), fitted mean,
        linear predictor (offset included) and prior weights, length n.
    family : a :class:`glmlogit.families.Family` (its link gives ``mu_eta``).
    cov_unscaled : (p, p) ``(X'WX)^-1`` at the fit, NaN rows/columns for aliased columns.
    aliased : (p,) bool.
    kind : "HC0" | "HC1" | "HC2" | "HC3" without ``groups`` (``vcovHC(fit, type=kind)``); with
        ``groups`` only "HC0" (the small-sample factor is then ``cluster_correction``'s).
    groups : None, or length-n cluster labels (any hashable values, no missing values).
    cluster_correction : with ``groups``: "stata" (default) ``G/(G-1) (n-1)/(n-k)`` =
        ``vcovCL(fit, cluster=, type="HC1")`` = statsmodels' ``cov_type="cluster"``; "r"
        ``G/(G-1)`` = ``vcovCL(fit, cluster=)`` (its glm default, type "HC0"); None: no factor
        (``vcovCL(type="HC0", cadjust=FALSE)``).

    Returns
    -------
    (p, p) ndarray, NaN in the rows and columns of aliased coefficients.  No dispersion factor
    enters (it cancels); ``n`` counts rows with positive prior weight, ``k`` the rank.  See the
    module docstring for the formulas and for rows with zero weight.
    """
    X, keep, C, pos = _restrict(X, weights, cov_unscaled, aliased)
    u, W = score_factors(y, mu, eta, weights, family)
    Xk = _select(X, pos, keep)
    u, W = u[pos], W[pos]
    n, k = Xk.shape

    if groups is None:
        if kind not in HC_KINDS:
            raise GlmlogitError(f"kind must be one of {HC_KINDS}, got {kind!r}")
        omega = u * u
        if kind == "HC1":
            if n <= k:
                raise GlmlogitError(f"HC1 needs more rows ({n}) than coefficients ({k})")
            omega = omega * (n / (n - k))
        elif kind in ("HC2", "HC3"):
            h = hat_values(Xk, W, C)
            if np.any(h > 1.0 - np.sqrt(_EPS)):
                warnings.warn(
                    f"{kind} covariance is numerically unstable: {int(np.sum(h > 1 - np.sqrt(_EPS)))} "
                    "row(s) have hat values of (almost) 1",
                    GlmlogitWarning,
                    stacklevel=2,
                )
            with np.errstate(divide="ignore", invalid="ignore"):
                omega = omega / (1.0 - h) if kind == "HC2" else omega / (1.0 - h) ** 2
        with np.errstate(invalid="ignore"):  # 0 / 0 where h = 1 and u = 0: NaN, as R
            meat = _weighted_crossprod(Xk, omega)
        adj = 1.0
    else:
        if kind != "HC0":
            raise GlmlogitError(
                f"with groups the small-sample factor is set by cluster_correction; kind must be "
                f"'HC0', got {kind!r}"
            )
        if cluster_correction not in CLUSTER_CORRECTIONS:
            raise GlmlogitError(
                f"cluster_correction must be 'stata', 'r' or None, got {cluster_correction!r}"
            )
        garr = (
            groups.to_numpy() if isinstance(groups, (pd.Series, pd.Index)) else np.asarray(groups)
        )
        if garr.ndim != 1 or len(garr) != len(pos):
            raise GlmlogitError(
                f"groups must be 1-d with {len(pos)} values, got shape {garr.shape}"
            )
        if pd.isna(garr).any():
            raise GlmlogitError("groups has missing values")
        codes, uniq = pd.factorize(garr[pos])
        G = len(uniq)
        if G < 2:
            raise GlmlogitError(f"cluster-robust covariance needs at least 2 clusters, got {G}")
        # score sums by cluster: S = M Xk with M[g, i] = u_i for row i in cluster g
        M = sp.csr_matrix((u, (codes, np.arange(n))), shape=(G, n))
        S: Any = M @ Xk
        S = S.toarray() if _is_sparse(S) else np.asarray(S)
        meat = S.T @ S
        adj = 1.0
        if cluster_correction in ("stata", "r"):
            adj = G / (G - 1.0)
        if cluster_correction == "stata":
            if n <= k:
                raise GlmlogitError(
                    f"the 'stata' correction needs more rows ({n}) than coefficients ({k})"
                )
            adj *= (n - 1.0) / (n - k)
    with np.errstate(invalid="ignore"):
        Vk = adj * (C @ meat @ C)
    Vk = 0.5 * (Vk + Vk.T)
    return _embed(Vk, keep)
