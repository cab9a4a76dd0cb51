"""Rows held as a dense block plus categorical blocks (tabmat's split representation).

A design with high-cardinality factors is mostly indicator columns: each factor (or interaction
of factors) is a block of columns with at most one 1 per row, i.e. one integer code per row.  Its
parts of X'WX need no matrix product at all:

* dense x dense:        D' W D                       (BLAS syrk on the few dense columns)
* factor x same factor: diag(bincount(codes, w))     (a factor's levels never share a row)
* dense x factor:       bincount(codes, w * D[:, i]) (group sums, one per dense column)
* factor x factor:      bincount(codes1 * k2 + codes2, w)

and the score is D'u and bincount(codes, u); eta is D b_D + b_C[codes].  A pass is O(n p_D^2 +
n (p_D + factors)) whatever the number of levels, against O(nnz x nnz-per-row) products for a
general sparse X.  ``CatRows.from_sparse`` finds the indicator blocks of a formulaic sparse design
by looking at it (values all 1, at most one non-zero per row within a term); everything else stays
dense.  Same protocol as DenseRows / SparseRows.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy import linalg
from scipy.linalg import blas

from ..families import Family
from .rows import PassStats

MAX_DENSE = 256  # more non-indicator columns than this: not worth splitting, use SparseRows
MAX_BLOCKS = 32  # each pair of blocks costs one bincount over the rows: beyond this, SparseRows


class CatRows:
    """Parameters
    ----------
    D : (n, p_D) dense columns.  cats : list of (codes, k): int codes in [-1, k) per row (-1: no
    column of this block is 1 in that row, e.g. the reference level).  perm : the design column
    of each internal column, internal order = dense columns, then each block's k columns.
    """

    def __init__(self, D, cats, y, weights=None, offset=None, perm=None):
        self.D = np.ascontiguousarray(D, dtype=np.float64)
        self.n, self.pd = self.D.shape
        self.cats = [(np.asarray(c, dtype=np.intp), int(k)) for c, k in cats]
        self.sizes = [self.pd] + [k for _, k in self.cats]
        self.offsets = np.cumsum([0] + self.sizes)
        self.p = int(self.offsets[-1])
        self.perm = np.arange(self.p) if perm is None else np.asarray(perm, dtype=np.intp)
        self.inv = np.empty(self.p, dtype=np.intp)
        self.inv[self.perm] = np.arange(self.p)
        self._identity = bool(np.array_equal(self.perm, np.arange(self.p)))
        self.y = np.asarray(y, dtype=np.float64)
        self.weights = np.ones(self.n) if weights is None else np.asarray(weights, dtype=np.float64)
        self.offset = np.zeros(self.n) if offset is None else np.asarray(offset, dtype=np.float64)
        # codes with -1 moved to k (a slot that is dropped), for bincount and gathers
        self._codes = [np.where(c < 0, k, c) for c, k in self.cats]
        # the largest block's design columns: its part of X'WX is diagonal (for the engine's
        # Schur-complement solve)
        self.diag_block = None
        if self.cats:
            i = int(np.argmax([k for _, k in self.cats]))
            s = self.offsets[i + 1]
            self.diag_block = np.sort(self.perm[s : s + self.cats[i][1]])

    # -- construction from a sparse design ----------------------------------------------------------
    @classmethod
    def from_sparse(
        cls, X, terms: dict[str, list[int]], y, weights=None, offset=None, min_levels: int = 1
    ):
        """Split a CSR/CSC design by term into indicator blocks and dense columns; None when the
        design has no indicator block, too many dense columns or too many blocks.  Terms of fewer
        than ``min_levels`` columns stay dense (a one-column indicator gains nothing as a code)."""
        Xc = sp.csc_matrix(X, dtype=np.float64)
        n, p = Xc.shape
        seen: set[int] = set()
        blocks: list[list[int]] = []
        codes_list = []
        for cols in terms.values():
            cols = [int(c) for c in cols]
            if len(cols) < max(min_levels, 1) or seen.intersection(cols):
                continue
            B = Xc[:, cols]
            if B.nnz == 0 or not np.all(B.data == 1.0):
                continue
            Br = B.tocsr()
            per_row = np.diff(Br.indptr)
            if per_row.max(initial=0) > 1:
                continue
            code = np.full(n, -1, dtype=np.intp)
            rows = np.repeat(np.arange(n), per_row)
            code[rows] = Br.indices
            if len(cols) == 1 and np.all(code == 0):  # a column of ones (the intercept): dense
                continue
            blocks.append(cols)
            codes_list.append((code, len(cols)))
            seen.update(cols)
        if not blocks or len(blocks) > MAX_BLOCKS:
            return None
        dense = [j for j in range(p) if j not in seen]
        if len(dense) > MAX_DENSE:
            return None
        D = Xc[:, dense].toarray() if dense else np.zeros((n, 0))
        perm = dense + [j for b in blocks for j in b]
        return cls(D, codes_list, y, weights, offset, perm)

    # -- helpers --------------------------------------------------------------------------------
    def _split(self, beta_design):
        b = np.asarray(beta_design, dtype=float)[self.perm]
        parts = [b[self.offsets[i] : self.offsets[i + 1]] for i in range(len(self.sizes))]
        return parts[0], parts[1:]

    def _eta(self, beta_design, rows=slice(None)):
        bd, bcs = self._split(beta_design)
        eta = self.D[rows] @ bd if self.pd else np.zeros(len(self.y[rows]))
        for code, bc in zip(self._codes, bcs, strict=True):
            eta = eta + np.append(bc, 0.0)[code[rows]]
        return eta + self.offset[rows]

    def _to_design(self, H_int, rhs_int):
        if self._identity:
            return H_int, rhs_int
        H = np.empty_like(H_int)
        H[np.ix_(self.perm, self.perm)] = H_int
        rhs = np.empty_like(rhs_int)
        rhs[self.perm] = rhs_int
        return H, rhs

    # -- the one pass -----------------------------------------------------------------------------
    def accumulate(self, family: Family, beta: np.ndarray | None) -> PassStats:
        link = family.link
        p, pd, o = self.p, self.pd, self.offsets
        bad = PassStats(np.zeros((p, p)), np.zeros(p), np.inf, False)
        if beta is None:
            eta = link.link(family.starting_mu(self.y, self.weights))
        else:
            eta = self._eta(beta)
        if not link.valid_eta(eta):
            return bad
        with np.errstate(all="ignore"):
            mu, w, u, dev = family.irls_terms(self.y, eta, self.weights)
        if not family.valid_mu(mu) or not np.isfinite(dev):
            return bad
        if beta is None:
            u = w * (eta - self.offset) + u
        H = np.zeros((p, p))
        rhs = np.zeros(p)
        if pd:
            Ds = self.D * np.sqrt(w)[:, None]
            Hd = blas.dsyrk(1.0, Ds.T, trans=0, lower=0)
            H[:pd, :pd] = np.triu(Hd) + np.triu(Hd, 1).T
            rhs[:pd] = self.D.T @ u
        wD = self.D * w[:, None] if pd and self.cats else None
        for i, ((_code, k), c) in enumerate(zip(self.cats, self._codes, strict=True)):
            s = o[i + 1]
            H[s + np.arange(k), s + np.arange(k)] = np.bincount(c, w, minlength=k + 1)[:k]
            rhs[s : s + k] = np.bincount(c, u, minlength=k + 1)[:k]
            if wD is not None:
                cross = np.stack([np.bincount(c, wD[:, j], minlength=k + 1)[:k] for j in range(pd)])
                H[:pd, s : s + k] = cross
                H[s : s + k, :pd] = cross.T
            for j in range(i + 1, len(self.cats)):
                c2, k2 = self._codes[j], self.cats[j][1]
                s2 = o[j + 1]
                M = np.bincount(c * (k2 + 1) + c2, w, minlength=(k + 1) * (k2 + 1))
                M = M.reshape(k + 1, k2 + 1)[:k, :k2]
                H[s : s + k, s2 : s2 + k2] = M
                H[s2 : s2 + k2, s : s + k] = M.T
        Hd_, r_ = self._to_design(H, rhs)
        return PassStats(Hd_, r_, float(dev), True, diag_block=self.diag_block)

    def gradient(self, family: Family, beta: np.ndarray, rows: slice | None = None):
        sl = slice(None) if rows is None else rows
        eta = self._eta(beta, sl)
        if not family.link.valid_eta(eta):
            return np.inf, np.zeros(self.p), False
        with np.errstate(all="ignore"):
            mu, _, u, dev = family.irls_terms(self.y[sl], eta, self.weights[sl])
        if not family.valid_mu(mu) or not np.isfinite(dev):
            return np.inf, np.zeros(self.p), False
        g = np.zeros(self.p)
        g[: self.pd] = self.D[sl].T @ u
        for i, (c, (_, k)) in enumerate(zip(self._codes, self.cats, strict=True)):
            s = self.offsets[i + 1]
            g[s : s + k] = np.bincount(c[sl], u, minlength=k + 1)[:k]
        out = np.empty(self.p)
        out[self.perm] = g
        return float(dev), out, True

    def linear_predictor(self, beta: np.ndarray) -> np.ndarray:
        return self._eta(beta)

    def _block(self, cols, rows: slice) -> np.ndarray:
        """Dense rows x cols of the design (design column numbers)."""
        m = len(self.y[rows])
        out = np.zeros((m, len(cols)))
        for t, col in enumerate(cols):
            j = self.inv[col]
            if j < self.pd:
                out[:, t] = self.D[rows, j]
                continue
            i = int(np.searchsorted(self.offsets, j, side="right")) - 2
            out[:, t] = self.cats[i][0][rows] == j - self.offsets[i + 1]
        return out

    def column_norms(self, cols: np.ndarray) -> np.ndarray:
        out = np.zeros(len(cols))
        step = max(256, (1 << 18) // max(len(cols), 1))
        for s in range(0, self.n, step):
            sl = slice(s, min(s + step, self.n))
            out += self.weights[sl] @ (self._block(cols, sl) ** 2)
        return np.sqrt(out)

    def weighted_r(self, cols: np.ndarray) -> np.ndarray:
        k = len(cols)
        R = np.zeros((0, k))
        sw = np.sqrt(self.weights)
        step = max(256, (1 << 18) // max(k, 1))
        for s in range(0, self.n, step):
            sl = slice(s, min(s + step, self.n))
            block = np.vstack([R, self._block(cols, sl) * sw[sl, None]])
            R = linalg.qr(block, mode="r", check_finite=False)[0][: min(k, block.shape[0])]
        return R

    def take_columns(self, cols) -> CatRows:
        cols = [int(c) for c in cols]
        internal = sorted(self.inv[c] for c in cols)
        dense = [j for j in internal if j < self.pd]
        cats = []
        perm_internal = list(dense)
        for i, (code, k) in enumerate(self.cats):
            s = self.offsets[i + 1]
            levels = [j - s for j in internal if s <= j < s + k]
            if not levels:
                continue
            remap = np.full(k + 1, -1, dtype=np.intp)
            remap[levels] = np.arange(len(levels))
            cats.append((remap[np.where(code < 0, k, code)], len(levels)))
            perm_internal += [s + lv for lv in levels]
        # design positions in the subset: the order of ``cols``
        pos = {c: t for t, c in enumerate(cols)}
        perm = [pos[int(self.perm[j])] for j in perm_internal]
        return CatRows(self.D[:, dense], cats, self.y, self.weights, self.offset, perm)
