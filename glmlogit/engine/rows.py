"""Where the rows live.  The engine touches rows only through these objects.

A rows object answers, for given coefficients (or for the family's starting means), **one pass**
over its rows that returns the sufficient statistics of an IRLS step: the Fisher information
X'WX, a right-hand side (the score X'u, or X'Wz on the starting pass) and the deviance.  Dense
arrays are processed in row chunks with BLAS so that no n x p temporary is ever made; later
back-ends (sparse, Dask, GPU) implement the same three methods.
"""

from __future__ import annotations

import contextlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from scipy.linalg import qr

from ..families import Binomial, Family
from .kernels import SCREEN_START, cross_products, logit_pass, scratch


@dataclass
class PassStats:
    """Sums over rows for one IRLS step."""

    xtwx: np.ndarray  # p x p Fisher information X'WX (symmetric)
    rhs: np.ndarray  # p: score X'u, or X'Wz on the starting pass
    deviance: float
    valid: bool  # eta inside the link's domain and mu inside the family's range everywhere
    # sum of squared Pearson residuals, w (y - mu)^2 / V(mu) = u^2 / W, at beta (only from rows
    # objects asked for it: DenseRows.want_pearson)
    pearson: float | None = None
    # design columns whose block of X'WX is diagonal by construction (the levels of one factor,
    # from CatRows): the engine then factors X'WX through the Schur complement of that block
    diag_block: np.ndarray | None = None
    # the separation screen's row reductions at beta, [n_pos, S, q_min, d_min]
    # (separation.screen_reductions): only from the compiled logit pass of rows objects asked
    # for it (DenseRows.want_screen), where they cost next to nothing
    screen: np.ndarray | None = None


def combine_screens(*screens: np.ndarray) -> np.ndarray:
    """The screen reductions of several row sets as one: sums of the first two, minima of the
    rest (see PassStats.screen)."""
    a = np.vstack(screens)
    return np.concatenate([a[:, :2].sum(axis=0), a[:, 2:].min(axis=0)])


# designs with at least this many entries use the compiled kernel when numba is installed
_KERNEL_MIN_SIZE = 200_000


def _chunk_rows(n: int, p: int) -> int:
    # About 2 MiB of design per chunk: large enough for BLAS-3, small enough for cache
    # (measured best among 0.5-4 MiB for n = 1e6, p = 20 on 2 cores).
    return int(max(512, min(n, (1 << 18) // max(p, 1))))


class DenseRows:
    """Rows held as a dense NumPy array (any memory order; never copied or modified)."""

    def __init__(self, X, y, weights=None, offset=None, chunk_rows: int | None = None):
        X = np.asarray(X)
        if X.dtype != np.float64:
            X = X.astype(np.float64)
        self.X = X
        self.n, self.p = X.shape
        self.y = np.asarray(y, dtype=np.float64)
        self.weights = np.ones(self.n) if weights is None else np.asarray(weights, dtype=np.float64)
        self.offset = np.zeros(self.n) if offset is None else np.asarray(offset, dtype=np.float64)
        self.chunk = chunk_rows or _chunk_rows(self.n, self.p)
        # Threads only pay off when there is enough work per pass.
        self.threads = min(os.cpu_count() or 1, 8) if self.n * self.p >= 200_000 else 1
        self.unit_weights = weights is None or bool(np.all(self.weights == 1.0))
        self.keep_fitted = True  # keep the last pass's eta and mu for ``fitted``
        self.want_pearson = False  # also sum the Pearson chi2 in passes at a beta
        self.want_screen = False  # also the separation screen's reductions (logit kernel only)
        self._kept_beta: np.ndarray | None = None  # the last pass's beta, eta and mu (fitted)
        self._kept_family: Family | None = None
        self._kept: tuple[np.ndarray, np.ndarray] = (np.empty(0), np.empty(0))
        self.zero_offset = offset is None or not bool(np.any(self.offset))
        self._y01: bool | None = None  # whether y holds only 0 and 1 (asked by the start pass)
        # the compiled kernels (engine/kernels.py, with numba) for a Fortran-ordered X large
        # enough to repay loading numba; else NumPy and BLAS.  Callers may set it (Dask blocks,
        # so that every block of a partition takes the same route).
        self.use_kernels = X.flags.f_contiguous and X.size >= _KERNEL_MIN_SIZE

    # -- the one pass --------------------------------------------------------------------------
    def compute_context(self):
        """Held around a whole fit: with our own worker threads, BLAS runs single-threaded
        (nested OpenBLAS threads on top of ours oversubscribe the cores: measured 5-10x slower
        passes at p = 200 on 2 cores)."""
        if self.threads <= 1:
            return contextlib.nullcontext()
        from threadpoolctl import threadpool_limits

        return threadpool_limits(limits=1, user_api="blas")

    def accumulate(self, family: Family, beta: np.ndarray | None) -> PassStats:
        """Sufficient statistics at ``beta`` (or at the family's starting means if None).

        The chunks are split between ``threads`` workers (NumPy and BLAS release the GIL), each
        summing into its own p x p block; the blocks are added at the end.  The linear predictor
        and the means of a pass at ``beta`` are kept (two n-vectors) for ``fitted``: the engine's
        last pass is at its solution, so the fit needs no further pass over X for them.
        """
        bounds = list(range(0, self.n, self.chunk)) + [self.n]
        spans = list(pairwise(bounds))
        nt = min(self.threads, len(spans))
        self._kept_beta = None
        keep = None
        if beta is not None and self.keep_fitted:
            keep = (np.empty(self.n), np.empty(self.n))
        if nt <= 1:
            parts = [self._accumulate_spans(family, beta, spans, keep)]
        else:
            groups = [spans[i::nt] for i in range(nt)]
            with ThreadPoolExecutor(nt) as ex:
                parts = list(
                    ex.map(lambda g: self._accumulate_spans(family, beta, g, keep), groups)
                )
        H = sum(p[0] for p in parts)
        rhs = sum(p[1] for p in parts)
        dev = float(sum(p[2] for p in parts))
        valid = all(p[3] for p in parts) and np.isfinite(dev)
        H = np.triu(H) + np.triu(H, 1).T  # exactly symmetric whichever BLAS routine NumPy used
        if valid and keep is not None:
            self._kept_beta, self._kept_family, self._kept = np.array(beta), family, keep
        pearson = (
            float(sum(p[4] for p in parts)) if self.want_pearson and beta is not None else None
        )
        screen = None
        if valid and all(len(p) > 5 for p in parts):
            screen = combine_screens(*(p[5] for p in parts))
        return PassStats(np.ascontiguousarray(H), rhs, dev, valid, pearson, screen=screen)

    def fitted(self, family: Family, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(eta, mu) at ``beta``: those of the last pass when it was at this ``beta`` (handed
        over, not copied), otherwise computed."""
        kb = self._kept_beta
        if kb is not None and self._kept_family is family and np.array_equal(kb, beta):
            out, self._kept = self._kept, (np.empty(0), np.empty(0))
            self._kept_beta = None
            return out
        eta = self.linear_predictor(beta)
        return eta, family.link.inverse(eta)

    def _accumulate_spans(self, family: Family, beta, spans, keep=None):
        p = self.p
        H = np.zeros((p, p))
        rhs = np.zeros(p)
        dev = 0.0
        link = family.link
        kern = fused = None
        if self.use_kernels and self.X.flags.f_contiguous:
            kern = cross_products()
            if beta is not None and isinstance(family, Binomial) and link.name == "logit":
                fused = logit_pass()
        if fused is not None:
            return self._logit_spans(fused, beta, spans, keep)
        if kern is None:
            buf = np.empty((max(e - s for s, e in spans), p))  # reused for sqrt(W) X per chunk
        else:
            tile = scratch()[0][0]
        unit = self.unit_weights and family.unit_weight_terms
        pearson = 0.0
        want_pearson = self.want_pearson and beta is not None
        start = self._start_terms(family) if beta is None else None
        for s, e in spans:
            Xc, yc, wc, oc = self.X[s:e], self.y[s:e], self.weights[s:e], self.offset[s:e]
            if start is not None:
                # the start of 0/1 data: the terms of a row depend only on its y (two values)
                ones = yc == 1.0
                w = np.where(ones, start[1][0], start[0][0])
                u = np.where(ones, start[1][1], start[0][1])
                n1 = int(np.count_nonzero(ones))
                d = start[1][2] * n1 + start[0][2] * (e - s - n1)
            elif beta is None:
                eta = link.link(family.starting_mu(yc, wc))
            else:
                eta = np.dot(Xc, beta, out=keep[0][s:e]) if keep is not None else Xc @ beta
                eta += oc
            if start is None:
                if not link.valid_eta(eta):
                    return H, rhs, np.inf, False, 0.0  # the caller halves the step
                with np.errstate(all="ignore"):
                    mu, w, u, d = family.irls_terms(
                        yc, eta, None if unit and beta is not None else wc
                    )
                if not family.valid_mu(mu) or not np.isfinite(d):
                    return H, rhs, np.inf, False, 0.0
                if want_pearson:
                    # u^2 / W = w (y - mu)^2 / V(mu); rows of zero prior weight (u = W = 0) add 0
                    with np.errstate(all="ignore"):  # inf where W underflows
                        ratio = np.divide(u, w, out=np.zeros_like(u), where=(w > 0) | (u != 0))
                    pearson += float(np.dot(u, ratio))
                if keep is not None:
                    keep[1][s:e] = mu
                if beta is None:
                    u = w * (eta - oc) + u  # X'Wz with z the working response (minus offset)
            if kern is not None:
                kern(self.X, s, e, w, u, H, rhs, tile)  # upper triangle of X'WX, and X'u
                dev += d
                continue
            if beta is None:
                if w[0] > 0 and np.all(w == w[0]):
                    # equal weights (the binomial start with 0/1 data): X'WX = w X'X, no copy
                    H += w[0] * np.dot(Xc.T, Xc)
                    rhs += Xc.T @ u
                    dev += d
                    continue
            np.sqrt(w, out=w)
            # einsum: measured 1.4x faster than the broadcast multiply for a chunk
            Xs = np.einsum("ij,i->ij", Xc, w, out=buf[: e - s])
            # NumPy's dot calls BLAS syrk for A'A and, unlike SciPy's f2py BLAS wrappers, releases
            # the GIL: the worker threads' products run in parallel (measured 1.9x at p = 200)
            H += np.dot(Xs.T, Xs)
            rhs += Xc.T @ u
            dev += d
        return H, rhs, dev, True, pearson

    def _start_terms(self, family: Family):
        """For the starting pass of a binomial model on 0/1 data with unit weights and no
        offset, the terms of a row with y = 0 and with y = 1: ((W, X'Wz term, deviance) for
        y = 0, the same for y = 1), each computed by the family's own code on that one value,
        so every row gets exactly what the row-by-row computation gives it.  None otherwise."""
        if not (isinstance(family, Binomial) and self.unit_weights and self.zero_offset):
            return None
        if self._y01 is None:
            n1 = int(np.count_nonzero(self.y == 1.0))
            self._y01 = n1 + int(np.count_nonzero(self.y == 0.0)) == self.n
        if not self._y01:
            return None
        out = []
        for v in (0.0, 1.0):
            y1, w1 = np.array([v]), np.ones(1)
            with np.errstate(all="ignore"):
                eta = family.link.link(family.starting_mu(y1, w1))
                if not family.link.valid_eta(eta):
                    return None
                mu, w, u, d = family.irls_terms(y1, eta, w1)
            if not family.valid_mu(mu) or not np.isfinite(d):
                return None
            out.append((float(w[0]), float(w[0] * eta[0] + u[0]), float(d)))
        return out

    def _logit_spans(self, fused, beta, spans, keep):
        """The binomial/logit pass by the compiled kernel: one call per chunk, no temporaries."""
        p = self.p
        H = np.zeros((p, p))
        rhs = np.zeros(p)
        dev = pearson = 0.0
        none = np.empty(0)
        wt = none if self.unit_weights else self.weights
        off = none if self.zero_offset else self.offset
        eta_out, mu_out = keep if keep is not None else (none, none)
        sc, bits = scratch()
        scr = SCREEN_START.copy() if self.want_screen else none
        beta = np.ascontiguousarray(beta, dtype=np.float64)
        for s, e in spans:
            d, pe, ok = fused(
                self.X, s, e, self.y, wt, off, beta, H, rhs, eta_out, mu_out, sc, bits, scr
            )
            if not ok or not np.isfinite(d):
                return H, rhs, np.inf, False, 0.0  # the caller halves the step
            dev += d
            pearson += pe
        if self.want_screen:
            return H, rhs, dev, True, pearson, scr
        return H, rhs, dev, True, pearson

    def gradient(self, family: Family, beta: np.ndarray, rows: slice | None = None):
        """(deviance, score X'u, valid) at beta without forming X'WX: a first-order pass for
        gradient solvers.  ``rows`` restricts the pass to a slice (mini-batches)."""
        lo, hi = (0, self.n) if rows is None else (rows.start or 0, min(rows.stop, self.n))
        g = np.zeros(self.p)
        dev = 0.0
        for s in range(lo, hi, self.chunk):
            e = min(s + self.chunk, hi)
            Xc, yc, wc = self.X[s:e], self.y[s:e], self.weights[s:e]
            eta = Xc @ beta + self.offset[s:e]
            if not family.link.valid_eta(eta):
                return np.inf, g, False
            with np.errstate(all="ignore"):
                mu, _, u, d = family.irls_terms(yc, eta, wc)
            if not family.valid_mu(mu) or not np.isfinite(d):
                return np.inf, g, False
            g += Xc.T @ u
            dev += d
        return dev, g, True

    def linear_predictor(self, beta: np.ndarray) -> np.ndarray:
        return self.X @ beta + self.offset

    def weighted_r(self, cols: np.ndarray) -> np.ndarray:
        """R factor of the QR decomposition of sqrt(prior weights) * X[:, cols], chunk by chunk."""
        k = len(cols)
        R = np.zeros((0, k))
        sw = np.sqrt(self.weights)
        for s in range(0, self.n, self.chunk):
            e = min(s + self.chunk, self.n)
            block = np.vstack([R, self.X[s:e][:, cols] * sw[s:e, None]])
            R = qr(block, mode="r", check_finite=False)[0][: min(k, block.shape[0])]
        return R

    def column_norms(self, cols: np.ndarray) -> np.ndarray:
        sw = np.sqrt(self.weights)
        out = np.zeros(len(cols))
        for s in range(0, self.n, self.chunk):
            e = min(s + self.chunk, self.n)
            out += np.sum((self.X[s:e][:, cols] * sw[s:e, None]) ** 2, axis=0)
        return np.sqrt(out)

    def take_columns(self, cols) -> DenseRows:
        return DenseRows(self.X[:, cols], self.y, self.weights, self.offset)
