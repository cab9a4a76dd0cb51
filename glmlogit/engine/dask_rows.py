"""Rows held in a Dask collection (out of core, or on a cluster through dask.distributed).

The rows are a list of Dask *partitions* (delayed objects: pandas frames of a Dask DataFrame, row
blocks of Dask arrays) and an ``encode`` callable that turns one partition into dense arrays
``(X, y, weights, offset)``.  Each IRLS pass maps every partition to its sufficient statistics
with :class:`~glmlogit.engine.rows.DenseRows` (or :class:`~glmlogit.engine.sparse.SparseRows` for
a sparse partition design) and sums them with a tree reduction, so a pass reads every partition
once, keeps one partition per worker thread in memory, and sends only p x p blocks back to the
client, where irls does the p x p algebra.  ``dask.compute`` runs the graph on whatever scheduler
is active: the local threaded one, or a ``distributed.Client``.

This module never imports pandas or formulaic: encoding a data frame is the caller's business
(``glmlogit.dask``); ``encode`` only has to be picklable for a multi-process cluster.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy import linalg

from ..families import Binomial, Family
from .kernels import SCREEN_START
from .rows import DenseRows, PassStats, combine_screens
from .spill import CachedPart, Sink, SpillCache, write_through

log = logging.getLogger("glmlogit.dask")

_FAN_IN = 8  # partitions summed per reduction task


def _dask():
    import dask

    return dask


def _local_rows(X, y, w, off):
    """The in-memory rows object for one partition, single-threaded (Dask runs partitions in
    parallel; DenseRows' own threads would oversubscribe the cores)."""
    if sp.issparse(X):
        from .sparse import SparseRows

        return SparseRows(X, y, w, off)
    rows = DenseRows(X, y, w, off)
    rows.use_kernels = True  # every block alike, whatever its size
    rows.threads = 1
    rows.keep_fitted = False  # a partition's eta and mu are never asked back from this object
    return rows


def _select(X, cols):
    if cols is None:
        return X
    return np.zeros((0, len(cols))) if X.shape[0] == 0 else X[:, cols]


# --- per-partition tasks (module level: picklable for process workers) ---------------------------
def _blocks(encode, part, sink: Sink | None = None):
    """The partition's rows as (X, y, w, offset) blocks: from the spill cache for a
    :class:`CachedPart`; else ``encode.chunks`` when the encoder streams a partition in blocks of
    rows, or the whole partition at once; written to ``sink`` on the way when one is given."""
    if isinstance(part, CachedPart):
        return part.blocks(reuse=True)  # streamed: each block is used before the next is read
    chunks = getattr(encode, "chunks", None)
    blocks = chunks(part) if chunks is not None else (encode(part),)
    return blocks if sink is None else write_through(blocks, sink)


def _whole(encode, part):
    """The partition's rows as one (X, y, w, offset) (blocks of a cached partition joined)."""
    if not isinstance(part, CachedPart):
        return encode(part)
    blocks = list(part.blocks())
    if not blocks:  # an empty partition (no rows left after the NA drop): its callers skip it
        return np.zeros((0, 0)), np.zeros(0), np.zeros(0), np.zeros(0)
    if len(blocks) == 1:
        return blocks[0]
    Xs: list[Any] = [b[0] for b in blocks]
    X = sp.vstack(Xs, format="csr") if sp.issparse(Xs[0]) else np.concatenate(Xs)
    return (X, *(np.concatenate([b[i] for b in blocks]) for i in (1, 2, 3)))


def null_fit(family: Family, y, off, null: tuple[str, float]):
    """(mu, eta) of the null model on a block of rows: ``("mean", ybar)`` (an intercept, no
    offset), ``("offset", 0)`` (no intercept: eta is the offset) or ``("fit", b0)`` (an intercept
    b0 fitted with the offset)."""
    kind, val = null
    if kind == "mean":
        mu0 = np.full(len(y), val)
        with np.errstate(all="ignore"):
            return mu0, np.full(len(y), float(family.link.link(np.array([val]))[0]))
    eta0 = off.copy() if kind == "offset" else np.full(len(y), val) + off
    return family.link.inverse(eta0), eta0


def pearson_terms(family: Family, y, mu, w):
    """Squared Pearson residuals, w (y - mu)^2 / V(mu)."""
    with np.errstate(all="ignore"):
        r = (y - mu) * np.sqrt(w) / np.sqrt(family.variance(mu))
    return r * r


# the by-products of a pass (``extras``): the Pearson chi-squared at beta, and once, at the null
# model (beta-free), its deviance and (fixed-scale families) its log-likelihood
_EXTRAS = 3


def _part_stats(part, ctx, beta, null=None, sink=None):
    encode, family, cols, p = ctx
    H = rhs = None
    dev, valid = 0.0, True
    ext = np.zeros(_EXTRAS)
    # the separation screen's reductions, when every block's pass gives them (logit kernel)
    screen: np.ndarray | None = None
    want_screen = beta is not None and isinstance(family, Binomial) and family.link.name == "logit"
    if want_screen:
        screen = SCREEN_START.copy()
    blocks = _blocks(encode, part, sink)
    try:
        for X, y, w, off in blocks:
            X = _select(X, cols)
            if X.shape[0] == 0:
                continue
            rows = _local_rows(X, y, w, off)
            if isinstance(rows, DenseRows):
                rows.want_pearson = True  # summed from the pass's own u and W
                rows.want_screen = want_screen
            st = rows.accumulate(family, beta)
            if not st.valid:
                valid = False
                break
            if screen is not None:
                screen = None if st.screen is None else combine_screens(screen, st.screen)
            if H is None:
                H, rhs = st.xtwx.copy(), np.array(st.rhs, dtype=float)
            else:
                H += st.xtwx
                rhs += st.rhs
            dev += st.deviance
            if beta is not None:
                if st.pearson is not None:
                    ext[0] += st.pearson
                else:
                    mu = family.link.inverse(np.asarray(X @ beta).ravel() + off)
                    ext[0] += float(np.sum(pearson_terms(family, y, mu, w)))
            if null is not None:
                mu0, eta0 = null_fit(family, y, off, null)
                ext[1] += float(np.sum(family.deviance_terms(y, mu0, w, eta0)))
                if family.fixed_scale:
                    ext[2] += family.loglik(y, mu0, w, 0.0, eta0)
    finally:
        close = getattr(blocks, "close", None)
        if close is not None:
            close()  # an early stop leaves no partial cache file
    if H is None or not valid:
        return np.zeros((p, p)), np.zeros(p), 0.0 if valid else np.inf, valid, ext, screen
    return H, rhs, dev, valid, ext, screen


def _sum_stats(*parts):
    H = parts[0][0].copy()
    rhs = parts[0][1].copy()
    dev = parts[0][2]
    valid = parts[0][3]
    ext = parts[0][4].copy()
    screen = parts[0][5]
    for h, r, d, v, e, sc in parts[1:]:
        H += h
        rhs += r
        dev += d
        valid = valid and v
        ext += e
        screen = None if screen is None or sc is None else combine_screens(screen, sc)
    return H, rhs, dev, valid, ext, screen


def _part_norms(part, ctx, cols):
    encode, _family, sel, _p = ctx
    X, _y, w, _off = _whole(encode, part)
    X = _select(X, sel)
    if X.shape[0] == 0:
        return np.zeros(len(cols))
    Xc = X[:, cols]
    if hasattr(Xc, "multiply"):  # scipy.sparse
        return np.asarray(Xc.multiply(Xc).T @ w).ravel()
    return np.einsum("ij,ij,i->j", Xc, Xc, w)


def _sum_arrays(*parts):
    out = parts[0].copy()
    for a in parts[1:]:
        out += a
    return out


def _part_r(part, ctx, cols):
    encode, _family, sel, _p = ctx
    X, _y, w, off = _whole(encode, part)
    X = _select(X, sel)
    if X.shape[0] == 0:
        return np.zeros((0, len(cols)))
    return _local_rows(X[:, cols], np.zeros(X.shape[0]), w, off).weighted_r(np.arange(len(cols)))


def _stack_r(*parts):
    block = np.vstack(parts)
    k = block.shape[1]
    if block.shape[0] == 0:
        return block
    return linalg.qr(block, mode="r", check_finite=False)[0][: min(k, block.shape[0])]


def _part_gradient(part, ctx, beta):
    encode, family, cols, p = ctx
    X, y, w, off = _whole(encode, part)
    X = _select(X, cols)
    if X.shape[0] == 0:
        return 0.0, np.zeros(p), True
    dev, g, ok = _local_rows(X, y, w, off).gradient(family, beta)
    return float(dev), np.asarray(g, dtype=float), bool(ok)


def _sum_gradient(*parts):
    dev = sum(p[0] for p in parts)
    g = parts[0][1].copy()
    for p in parts[1:]:
        g += p[1]
    return dev, g, all(p[2] for p in parts)


def _part_eta(part, ctx, beta):
    encode, _family, cols, _p = ctx
    X, _y, _w, off = encode(part)
    return np.asarray(_select(X, cols) @ beta + off, dtype=float)


def _part_fitted(part, ctx, beta):
    eta = _part_eta(part, ctx, beta)
    return eta, ctx[1].link.inverse(eta)


def _part_ywsum(part, ctx):
    encode, _family, _cols, _p = ctx
    _X, y, w, _off = _whole(encode, part)
    return np.array([float(np.sum(w * y)), float(np.sum(w))])


# the separation screen's per-row test (separation.needs_check, Newton form) as one reduction:
# rows with positive weight, S = sum u_i^2 / W_i (the rounding slack), min of d_i, max of
# a_i |x_i'v| / d_i, max of sqrt(a_i / w_i) / d_i, all finite, and the design's stored entries
# (to size the LP's copy of the rows)
_CERT_EMPTY = (0.0, 0.0, np.inf, 0.0, 0.0, 1.0)


def _part_certificate(part, ctx, beta, v):
    blocks = _blocks(ctx[0], part)
    try:  # block by block, as the IRLS pass streams a cached partition
        outs = [_block_certificate(b, ctx, beta, v) for b in blocks]
    finally:
        close = getattr(blocks, "close", None)
        if close is not None:
            close()
    return _combine_certificate(*outs) if outs else np.array(_CERT_EMPTY + (0.0,))


def _block_certificate(block, ctx, beta, v):
    _encode, family, cols, _p = ctx
    X, y, w, off = block
    X = _select(X, cols)
    entries = float(getattr(X, "nnz", X.size))  # stored entries (scipy sparse: nnz)
    pos = w > 0
    if not pos.all():
        X, y, w, off = X[pos], y[pos], w[pos], off[pos]
    if X.shape[0] == 0:
        return np.array(_CERT_EMPTY + (entries,))
    from ..separation import certificate_reductions

    eta = np.asarray(X @ beta, dtype=float).ravel() + off
    mu = family.link.inverse(eta)
    if family.link.name == "logit":
        a = mu * (1.0 - mu)
    else:
        a = family.irls_terms(y, eta, w)[1] / w
    red = certificate_reductions(np.asarray(X @ v, dtype=float).ravel(), mu, y, w, a)
    return np.append(red, entries)


def _combine_certificate(*parts):
    a = np.vstack(parts)
    return np.array(
        [
            a[:, 0].sum(),
            a[:, 1].sum(),
            a[:, 2].min(),
            a[:, 3].max(),
            a[:, 4].max(),
            a[:, 5].min(),
            a[:, 6].sum(),
        ]
    )


def _part_residual_score(part, ctx, beta):
    """X'(w (y - mu)): the g of the separation screen (the score only for canonical links)."""
    encode, family, cols, p = ctx
    X, y, w, off = _whole(encode, part)
    X = _select(X, cols)
    if X.shape[0] == 0:
        return np.zeros(p if cols is None else len(cols))
    mu = family.link.inverse(np.asarray(X @ beta, dtype=float).ravel() + off)
    return np.asarray(X.T @ (w * (y - mu)), dtype=float).ravel()


def _part_rows(part, ctx):
    encode, _family, cols, _p = ctx
    X, y, w, _off = _whole(encode, part)
    return _select(X, cols), y, w


def tree_reduce(tasks: list, combine: Callable, fan_in: int = _FAN_IN):
    """Sum delayed partition results in a tree of ``combine`` tasks (fan-in ``fan_in``)."""
    dask = _dask()
    if not tasks:
        raise ValueError("no partitions to reduce")
    level = list(tasks)
    while len(level) > 1:
        level = [
            dask.delayed(combine, pure=True)(*level[i : i + fan_in])
            for i in range(0, len(level), fan_in)
        ]
    return level[0]


class DaskRows:
    """The rows object of irls over Dask partitions.

    Parameters
    ----------
    parts : delayed partitions (``ddf.to_delayed()``, or row blocks of Dask arrays).
    encode : picklable callable, partition -> ``(X, y, weights, offset)`` NumPy arrays (X may be
        scipy.sparse); it drops and encodes whatever it must, identically for every partition.
    p : number of design columns.
    cols : optional subset of the encoded columns (``take_columns``).
    ybar : optional prior-weighted mean response, if the caller already knows it.
    cache : optional :class:`~glmlogit.engine.spill.SpillCache`: the first ``accumulate`` pass
        writes every partition's encoded blocks to it, and later passes read those instead of
        the partitions (the caller closes it when the fit is done).
    """

    def __init__(
        self,
        parts: Sequence[Any],
        encode: Callable,
        p: int,
        *,
        cols: Sequence[int] | None = None,
        ybar: float | None = None,
        fan_in: int = _FAN_IN,
        cache: SpillCache | None = None,
    ):
        self.parts = list(parts)
        self.cache = cache  # decoded partitions on local disk, filled by the first IRLS pass
        # the null model ("mean", ybar) or ("offset", 0) whose deviance (and log-likelihood)
        # the first pass at a beta also sums: (family, null deviance, null loglik) once done
        self.null_spec: tuple[str, float] | None = None
        self.null_stats: tuple[Family, float, float] | None = None
        self._pearson: tuple[np.ndarray, Family, float] | None = None
        if not self.parts:
            raise ValueError("a Dask collection with no partitions")
        self.encode = encode
        self.cols = None if cols is None else np.asarray(cols, dtype=np.intp)
        self.p = int(p) if self.cols is None else len(self.cols)
        self._p_encoded = int(p)
        self._ybar = ybar
        self.fan_in = fan_in
        self.n_passes = 0  # full passes over the data run so far (accumulate, norms, QR, ...)
        # column lists (a sparse design's multi-column terms) whose block of X'WX may be
        # diagonal: each pass reports the largest one that is (for the Schur-complement solve)
        self.block_candidates: list[list[int]] = []

    @classmethod
    def from_arrays(cls, X, y, weights=None, offset=None) -> DaskRows:
        """Rows from Dask arrays chunked along rows only (X: n x p, the rest length n)."""
        import dask.array as da

        X = da.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-d, got {X.ndim}-d")
        if len(X.chunks[1]) != 1:
            X = X.rechunk({1: -1})
        n = X.shape[0]
        y = da.asarray(y).rechunk({0: X.chunks[0]})
        w = (
            da.ones(n, chunks=X.chunks[0])
            if weights is None
            else da.asarray(weights, dtype=float).rechunk({0: X.chunks[0]})
        )
        o = (
            da.zeros(n, chunks=X.chunks[0])
            if offset is None
            else da.asarray(offset, dtype=float).rechunk({0: X.chunks[0]})
        )
        dask = _dask()
        xb = X.to_delayed().ravel()
        parts = [
            dask.delayed(tuple, pure=True)([a, b, c, d])
            for a, b, c, d in zip(xb, y.to_delayed(), w.to_delayed(), o.to_delayed())
        ]
        return cls(parts, _identity_encode, X.shape[1])

    # -- plumbing ---------------------------------------------------------------------------
    def _ctx(self, family: Family | None):
        return _dask().delayed((self.encode, family, self.cols, self.p), pure=False)

    def sources(self) -> list:
        """What each partition's task reads: its cached blocks where the cache has them, else
        the partition itself."""
        c = self.cache
        return self.parts if c is None else c.sources(self.parts)

    def _run(self, func, combine, *args, family: Family | None = None, fill: bool = False):
        dask = _dask()
        ctx = self._ctx(family)
        c = self.cache
        if fill and c is not None and c.active and not c.filled:
            tasks = [
                dask.delayed(func, pure=False)(part, ctx, *args, sink=sink)
                for part, sink in zip(self.parts, c.sinks())
            ]
        else:
            fill = False
            tasks = [dask.delayed(func, pure=False)(src, ctx, *args) for src in self.sources()]
        (out,) = dask.compute(tree_reduce(tasks, combine, self.fan_in))
        if fill and c is not None:
            c.mark_filled()
        self.n_passes += 1
        return out

    def compute_context(self):
        """Held around a fit: BLAS single-threaded, as Dask already runs one partition per
        core (the threaded scheduler and in-process workers share this process; distributed's
        worker processes start with OPENBLAS/OMP/MKL_NUM_THREADS=1 already)."""
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            return contextlib.nullcontext()
        return threadpool_limits(limits=1, user_api="blas")

    def prime_start(self, family: Family, stats: PassStats) -> None:
        """Hand over the starting pass computed by the caller in a pass of its own (the encoding
        scan): ``accumulate(family, None)`` then returns it without reading the data again."""
        self._start = (family, stats)

    _start: tuple[Family, PassStats] | None = None

    # -- the one pass -----------------------------------------------------------------------
    def accumulate(self, family: Family, beta: np.ndarray | None) -> PassStats:
        if (
            beta is None
            and self._start is not None
            and self._start[0] is family
            and self.cols is None
        ):
            return self._start[1]
        null = None
        if beta is not None and self.null_spec is not None and self.null_stats is None:
            null = self.null_spec  # once: the null model's deviance (and loglik) ride along
        H, rhs, dev, valid, ext, screen = self._run(
            _part_stats, _sum_stats, beta, null, family=family, fill=True
        )
        if valid and beta is not None and np.isfinite(dev):
            self._pearson = (np.array(beta), family, float(ext[0]))
            self._screen = None if screen is None else (np.array(beta), family, screen)
            if null is not None:
                self.null_stats = (family, float(ext[1]), float(ext[2]))
        c = self.cache
        if not valid and c is not None and c.filled and c.n_cached < len(self.parts):
            c.unfill()  # an invalid pass stops early: fill the cache on the next one
        dev = float(dev)
        H = np.ascontiguousarray(H)
        diag = None
        if self.block_candidates and self.cols is None and valid:
            from .irls import diagonal_block

            diag = diagonal_block(H, self.block_candidates)
        return PassStats(H, np.asarray(rhs), dev, bool(valid) and np.isfinite(dev), diag_block=diag)

    def pearson_at(self, family: Family, beta: np.ndarray) -> float | None:
        """The Pearson chi-squared summed by the last pass, if it was at ``beta`` (irls' last
        pass is at its solution), else None."""
        pe = self._pearson
        if pe is not None and pe[1] is family and np.array_equal(pe[0], beta):
            return pe[2]
        return None

    _screen: tuple[np.ndarray, Family, np.ndarray] | None = None

    def screen_at(self, family: Family, beta: np.ndarray) -> np.ndarray | None:
        """The separation screen's row reductions (PassStats.screen) summed by the last pass,
        if it was at ``beta`` and every block's pass gave them, else None."""
        sc = self._screen
        if sc is not None and sc[1] is family and np.array_equal(sc[0], beta):
            return sc[2]
        return None

    def gradient(self, family: Family, beta: np.ndarray, rows: slice | None = None):
        """(deviance, score X'u, valid) at beta; ``rows`` is not supported (partitions are not
        addressed by row number)."""
        if rows is not None:
            raise NotImplementedError("mini-batches by row slice are not available on Dask rows")
        return self._run(_part_gradient, _sum_gradient, beta, family=family)

    def linear_predictor(self, beta: np.ndarray):
        """Lazy Dask array of X beta + offset (partition sizes unknown until computed)."""
        import dask.array as da

        dask = _dask()
        ctx = self._ctx(None)
        blocks = [
            da.from_delayed(
                dask.delayed(_part_eta, pure=False)(part, ctx, beta), shape=(np.nan,), dtype=float
            )
            for part in self.parts
        ]
        return da.concatenate(blocks) if len(blocks) > 1 else blocks[0]

    def fitted(self, family: Family, beta: np.ndarray):
        """Lazy Dask arrays (eta, mu) at beta: nothing is computed or brought to the client
        (what irls should call instead of ``link.inverse(linear_predictor(beta))``, which
        materializes eta for the identity link)."""
        import dask.array as da

        dask = _dask()
        ctx = self._ctx(family)
        pairs = [
            dask.delayed(_part_fitted, pure=False, nout=2)(part, ctx, beta) for part in self.parts
        ]
        eta = [da.from_delayed(e, shape=(np.nan,), dtype=float) for e, _ in pairs]
        mu = [da.from_delayed(m, shape=(np.nan,), dtype=float) for _, m in pairs]
        return da.concatenate(eta), da.concatenate(mu)

    def separation_certificate(self, family: Family, beta: np.ndarray, v: np.ndarray) -> dict:
        """One pass: the reductions of the separation screen's Newton test at ``beta`` with
        direction ``v`` (see separation.needs_check), and the design's stored entries."""
        out = self._run(_part_certificate, _combine_certificate, beta, v, family=family)
        keys = ("n", "S", "dmin", "tmax", "smax", "ok", "entries")
        return dict(zip(keys, map(float, out), strict=True))

    def residual_score(self, family: Family, beta: np.ndarray) -> np.ndarray:
        """One pass: X'(w (y - mu)) at ``beta``."""
        return self._run(_part_residual_score, _sum_arrays, beta, family=family)

    def collect(self):
        """Every fitted row on the client, in partition order: (X, y, weights) with X dense or
        CSR as the partitions encode it (for the separation LP, sized by the caller first)."""
        dask = _dask()
        ctx = self._ctx(None)
        tasks = [dask.delayed(_part_rows, pure=False)(src, ctx) for src in self.sources()]
        parts = [t for t in dask.compute(*tasks) if t[0].shape[0]]
        self.n_passes += 1
        if not parts:
            return np.zeros((0, self.p)), np.zeros(0), np.zeros(0)
        Xs: list[Any] = [t[0] for t in parts]
        X = sp.vstack(Xs, format="csr") if sp.issparse(Xs[0]) else np.concatenate(Xs)
        return X, np.concatenate([t[1] for t in parts]), np.concatenate([t[2] for t in parts])

    def column_norms(self, cols: np.ndarray) -> np.ndarray:
        cols = np.asarray(cols, dtype=np.intp)
        return np.sqrt(self._run(_part_norms, _sum_arrays, cols))

    def weighted_r(self, cols: np.ndarray) -> np.ndarray:
        """TSQR: R factors of the partitions, stacked and re-factored up the reduction tree."""
        cols = np.asarray(cols, dtype=np.intp)
        R = self._run(_part_r, _stack_r, cols)
        if R.shape[0] < len(cols):
            R = np.vstack([R, np.zeros((len(cols) - R.shape[0], len(cols)))])
        return R

    def take_columns(self, cols) -> DaskRows:
        cols = np.asarray(cols, dtype=np.intp)
        base = cols if self.cols is None else self.cols[cols]
        return DaskRows(
            self.parts,
            self.encode,
            self._p_encoded,
            cols=base,
            ybar=self._ybar,
            fan_in=self.fan_in,
            cache=self.cache,
        )

    # -- what irls' _feasible_anchor reads --------------------------------------------------
    def weighted_mean_response(self) -> float:
        """sum(w y) / sum(w): one pass unless the caller supplied it."""
        if self._ybar is None:
            s = self._run(_part_ywsum, _sum_arrays)
            self._ybar = float(s[0] / s[1])
        return self._ybar

    # irls' _feasible_anchor computes sum(rows.weights * rows.y) / sum(rows.weights); these two
    # scalars give it the weighted mean without materializing n-vectors on the client.
    @property
    def y(self) -> float:
        return self.weighted_mean_response()

    @property
    def weights(self) -> float:
        return 1.0


def _identity_encode(part):
    X, y, w, o = part
    return np.asarray(X, dtype=float), np.asarray(y, dtype=float), w, o


def _size_text(nbytes: int) -> str:
    return f"{nbytes / 1e9:.2f} GB" if nbytes >= 1e9 else f"{nbytes / 1e6:.1f} MB"


class ProgressRows:
    """Wraps a rows object; logs (and optionally prints) every pass: its number, the deviance and
    the elapsed time.  irls calls ``accumulate`` once per iteration (plus step-halvings)."""

    def __init__(self, rows, printer: Callable[[str], None] | None = None, label: str = "fit"):
        self._rows = rows
        self._printer = printer
        self._label = label
        self._t0 = time.perf_counter()
        self.passes: list[tuple[float, float]] = []  # (deviance, seconds) per accumulate

    def __getattr__(self, name):
        return getattr(self._rows, name)

    def _say(self, msg: str) -> None:
        log.info(msg)
        if self._printer is not None:
            self._printer(msg)

    def accumulate(self, family: Family, beta):
        t = time.perf_counter()
        st = self._rows.accumulate(family, beta)
        dt = time.perf_counter() - t
        self.passes.append((st.deviance, dt))
        k = len(self.passes)
        what = "start" if beta is None else f"pass {k - 1}"
        self._say(
            f"[glmlogit {self._label}] {what}: deviance {st.deviance:.10g}"
            f"{'' if st.valid else ' (invalid, halving)'}; pass {dt:.2f} s, "
            f"elapsed {time.perf_counter() - self._t0:.2f} s"
        )
        c = getattr(self._rows, "cache", None)
        if c is not None and c.filled and not c.reported:
            c.reported = True
            self._say(
                f"[glmlogit {self._label}] spill cache: {c.n_cached} of {len(c.paths)} partitions "
                f"decoded on local disk ({_size_text(c.nbytes)} in {c.dir}); later passes read "
                "them instead of the data"
            )
        return st

    def take_columns(self, cols):
        return ProgressRows(self._rows.take_columns(cols), self._printer, self._label + " (sub)")
