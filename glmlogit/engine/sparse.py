"""Rows held as a scipy.sparse matrix (high-cardinality categoricals, interactions).

X'WX is formed as one sparse product per pass, X' (W X), whose temporaries are the size of the
non-zeros, never n x p; the p x p result is densified once for the Cholesky.
"""

from __future__ import annotations

import contextlib

import numpy as np
from scipy import linalg, sparse

from ..families import Family
from .rows import PassStats


class SparseRows:
    """Same three methods as DenseRows; X is converted to CSR once (no copy if it already is)."""

    def __init__(self, X, y, weights=None, offset=None):
        self.X = sparse.csr_matrix(X, dtype=np.float64)
        self.n, self.p = self.X.shape
        self.y = np.asarray(y, dtype=np.float64)
        self.weights = np.ones(self.n) if weights is None else np.asarray(weights, dtype=np.float64)
        self.offset = np.zeros(self.n) if offset is None else np.asarray(offset, dtype=np.float64)
        self._XT = self.X.T.tocsr()  # for X'u and X' (W X)

    def compute_context(self):
        return contextlib.nullcontext()

    def accumulate(self, family: Family, beta: np.ndarray | None) -> PassStats:
        link = family.link
        if beta is None:
            eta = link.link(family.starting_mu(self.y, self.weights))
        else:
            eta = self.X @ beta + self.offset
        if not link.valid_eta(eta):
            return PassStats(np.zeros((self.p, self.p)), np.zeros(self.p), np.inf, False)
        with np.errstate(all="ignore"):
            mu, w, u, dev = family.irls_terms(self.y, eta, self.weights)
        if not family.valid_mu(mu) or not np.isfinite(dev):
            return PassStats(np.zeros((self.p, self.p)), np.zeros(self.p), np.inf, False)
        if beta is None:
            u = w * (eta - self.offset) + u
        WX = sparse.diags(w) @ self.X
        H = (self._XT @ WX).toarray()
        return PassStats(H, self._XT @ u, float(dev), True)

    def gradient(self, family: Family, beta: np.ndarray, rows: slice | None = None):
        """(deviance, score X'u, valid) at beta, optionally on a slice of rows."""
        sl = slice(None) if rows is None else rows
        X = self.X[sl]
        eta = X @ beta + self.offset[sl]
        if not family.link.valid_eta(eta):
            return np.inf, np.zeros(self.p), False
        with np.errstate(all="ignore"):
            mu, _, u, dev = family.irls_terms(self.y[sl], eta, self.weights[sl])
        if not family.valid_mu(mu) or not np.isfinite(dev):
            return np.inf, np.zeros(self.p), False
        return float(dev), X.T @ u, True

    def linear_predictor(self, beta: np.ndarray) -> np.ndarray:
        return self.X @ beta + self.offset

    def column_norms(self, cols: np.ndarray) -> np.ndarray:
        Xc = self.X[:, cols]
        return np.sqrt(np.asarray(Xc.multiply(Xc).T @ self.weights).ravel())

    def weighted_r(self, cols: np.ndarray) -> np.ndarray:
        """R factor of sqrt(w) X[:, cols], from dense row blocks (only used to confirm aliasing)."""
        k = len(cols)
        R = np.zeros((0, k))
        sw = np.sqrt(self.weights)
        step = max(256, (1 << 18) // max(k, 1))
        Xc = self.X[:, cols]
        for s in range(0, self.n, step):
            e = min(s + step, self.n)
            block = np.vstack([R, Xc[s:e].toarray() * sw[s:e, None]])
            R = linalg.qr(block, mode="r", check_finite=False)[0][: min(k, block.shape[0])]
        return R

    def take_columns(self, cols) -> SparseRows:
        return SparseRows(self.X[:, cols], self.y, self.weights, self.offset)
