"""A local spill cache of decoded partitions, so that IRLS passes after the first skip the decoding.

Reading a Parquet partition costs more than the arithmetic of an IRLS pass over it: the bytes are
decompressed, decoded into Arrow, converted to pandas, checked for missing values and encoded
into a design.  The first pass over the data writes each partition's design blocks
``(X, y, weights, offset)`` exactly as the encoder produced them to one file per partition in a
temporary directory (dense blocks column by column, sparse ones as their CSR arrays); every later
pass of the fit (IRLS iterations, the pass at the solution, a robust covariance, the null model's
fit when there is an offset) reads the blocks back with one ``read`` per array.  Replaying the
same blocks in the same order gives bit-identical sums.

The files live only as long as the fit: :meth:`SpillCache.close` (called when the fit is done, or
when the cache is garbage collected) removes the directory; later refits (likelihood-ratio tests)
read the data.  A partition whose file could not be written (over the size budget, no disk space
left above the reserve, an I/O error) is simply read from the data again, so the cache never
changes what is computed, only where the rows come from.

Only for schedulers whose workers share this machine's file system: the local threaded,
synchronous and multiprocessing schedulers (``glm_dask(cache="auto")``); on a
``dask.distributed`` cluster the caller opts in (``cache=True`` or a directory that every worker
sees).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp

# keep at least this much of the cache's file system free (bytes, and a share of its size)
_RESERVE_BYTES = 2 * 1024**3
_RESERVE_SHARE = 0.10
# the files of one cache take at most this share of the machine's memory, so that they stay in
# the operating system's page cache (read back at memory speed, not from disk)
_RAM_SHARE = 0.4


def _ram_bytes() -> int:
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 0


_MEMORY_FS = {"tmpfs", "ramfs"}


def _fs_type(path: str) -> str | None:
    """The file-system type holding ``path``, from /proc/mounts (Linux); None elsewhere."""
    try:
        with open("/proc/mounts") as f:
            mounts = [line.split()[1:3] for line in f if len(line.split()) >= 3]
    except OSError:
        return None
    path = os.path.realpath(path)
    best, kind = "", None
    for mnt, typ in mounts:
        mnt = mnt.replace("\\040", " ")
        inside = path == mnt or path.startswith(mnt.rstrip("/") + "/")
        if inside and len(mnt) >= len(best):  # the deepest mount point; a later one shadows
            best, kind = mnt, typ
    return kind


def default_directory() -> str | None:
    """Where a cache goes unless told: the temporary directory, or /var/tmp when the former is
    in memory (tmpfs, as /tmp is on many Linux systems: files there would hold memory that cannot
    be evicted); None when both are in memory (then no cache)."""
    tmp = tempfile.gettempdir()
    if _fs_type(tmp) not in _MEMORY_FS:
        return tmp
    alt = "/var/tmp"
    if os.path.isdir(alt) and os.access(alt, os.W_OK) and _fs_type(alt) not in _MEMORY_FS:
        return alt
    return None


class Sink(NamedTuple):
    """Where a filling pass writes one partition, and the cache's size budget (bytes)."""

    path: str
    budget: int


def _room_for_one_more(sink: Sink) -> bool:
    """Free disk above the reserve, and the cache's files (plus one more of the largest size
    so far) within its budget.  Parallel writers may overshoot by a partition each."""
    folder = os.path.dirname(sink.path)
    sizes = []
    try:
        du = shutil.disk_usage(folder)
        with os.scandir(folder) as entries:
            for e in entries:
                try:
                    sizes.append(e.stat().st_size)
                except OSError:  # renamed or removed by another writer meanwhile
                    pass
    except OSError:
        return False
    if du.free <= max(_RESERVE_BYTES, _RESERVE_SHARE * du.total):
        return False
    return sum(sizes) + max(sizes, default=0) < sink.budget


# A cache file is a sequence of blocks, each: a header of 4 int64 (rows n, columns p, flags, 0);
# p float64 (the value of each constant column, NaN for the others); the other columns of X, n
# float64 each; y (n uint8 when every value is 0 or 1, else n float64); the weights and the offset
# (n float64 each) unless they are all 1 and all 0.  Constant columns (the intercept) and a 0/1
# response take (almost) no space, and reading a block is one read per column, with no parsing.
# A sparse (CSR) block stores instead, after the header (whose last field is then the number of
# non-zeros), its data (float64), column indices and row pointers (int64).
_W_STORED, _O_STORED, _Y_BYTES, _CSR, _IDX64 = 1, 2, 4, 8, 16


def _write_block(f, X, y, w, o) -> None:
    n, p = X.shape
    y = np.asarray(y, dtype=float)
    consts = np.full(p, np.nan)
    csr = sp.issparse(X)
    if csr:
        X = sp.csr_matrix(X)
    elif n:
        bits = X.view(np.int64)  # bitwise: -0.0 is not stored as 0.0
        for j in range(p):
            col = bits[:, j]
            if col[-1] == col[0] and np.all(col == col[0]):  # most columns fail the first test
                consts[j] = X[0, j]
    y01 = bool(np.all((y == 0.0) | (y == 1.0))) and not bool(np.signbit(y).any())
    store_w = n > 0 and not bool(np.all(w == 1.0))
    store_o = n > 0 and bool(np.any(o))
    flags = (_W_STORED if store_w else 0) | (_O_STORED if store_o else 0) | (_Y_BYTES if y01 else 0)
    if csr:
        idx = np.int64 if X.indices.dtype == np.int64 or X.indptr.dtype == np.int64 else np.int32
        flags |= _CSR | (_IDX64 if idx is np.int64 else 0)
        f.write(np.array([n, p, flags, X.nnz], dtype=np.int64).tobytes())
        f.write(np.ascontiguousarray(X.data, dtype=float).data)
        f.write(np.ascontiguousarray(X.indices, dtype=idx).data)
        f.write(np.ascontiguousarray(X.indptr, dtype=idx).data)
    else:
        f.write(np.array([n, p, flags, 0], dtype=np.int64).tobytes())
        f.write(consts.tobytes())
        for col in np.flatnonzero(np.isnan(consts)):
            f.write(np.ascontiguousarray(X[:, col], dtype=float).data)
    f.write(np.ascontiguousarray(y.astype(np.uint8) if y01 else y).data)
    if store_w:
        f.write(np.ascontiguousarray(w, dtype=float).data)
    if store_o:
        f.write(np.ascontiguousarray(o, dtype=float).data)


def _read_exact(f, out: np.ndarray) -> None:
    view = out.data.cast("B")
    got = f.readinto(view)
    if got != view.nbytes:
        raise OSError(f"truncated spill file {f.name!r}")


def _scratch(bufs: dict | None, key: str, size: int, dtype=np.float64) -> np.ndarray:
    """A vector of ``size`` elements: a fresh one, or a view of the reused buffer ``bufs[key]``
    (grown when too small)."""
    if bufs is None:
        return np.empty(size, dtype=dtype)
    b = bufs.get(key)
    if b is None or b.size < size:
        b = bufs[key] = np.empty(max(size, 1), dtype=dtype)
    return b[:size]


def _read_block(f, bufs: dict | None = None):
    """One block; with ``bufs``, into reused buffers (valid until the next block is read)."""
    head = np.empty(4, dtype=np.int64)
    _read_exact(f, head)
    n, p, flags = int(head[0]), int(head[1]), int(head[2])
    X: Any
    if flags & _CSR:
        nnz = int(head[3])
        idx: Any = np.int64 if flags & _IDX64 else np.int32
        data = np.empty(nnz)
        indices: Any = np.empty(nnz, idx)
        indptr: Any = np.empty(n + 1, idx)
        for a in (data, indices, indptr):
            _read_exact(f, a)
        X = sp.csr_matrix((data, indices, indptr), shape=(n, p))  # the arrays as written
    else:
        consts = np.empty(p)
        _read_exact(f, consts)
        X = _scratch(bufs, "X", n * p).reshape((n, p), order="F")
        for j in range(p):
            if np.isnan(consts[j]):
                _read_exact(f, X[:, j])
            else:
                X[:, j] = consts[j]
    y = _scratch(bufs, "y", n)
    if flags & _Y_BYTES:
        yb = _scratch(bufs, "yb", n, np.uint8)
        _read_exact(f, yb)
        np.copyto(y, yb)
    else:
        _read_exact(f, y)
    w = _scratch(bufs, "w", n)
    if flags & _W_STORED:
        _read_exact(f, w)
    else:
        w.fill(1.0)
    o = _scratch(bufs, "o", n)
    if flags & _O_STORED:
        _read_exact(f, o)
    else:
        o.fill(0.0)
    return X, y, w, o


class CachedPart:
    """A partition's decoded blocks on local disk (picklable: only the path travels)."""

    __slots__ = ("path",)

    def __init__(self, path: str):
        self.path = path

    def __repr__(self) -> str:
        return f"CachedPart({self.path!r})"

    def blocks(
        self, reuse: bool = False
    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """Yield the blocks ``(X, y, weights, offset)`` as they were written.  ``reuse``: read
        every block into the same buffers (no fresh memory per block), so each block's arrays
        are valid only until the next one is asked for: for consumers that stream."""
        bufs: dict | None = {} if reuse else None
        with open(self.path, "rb", buffering=0) as f:
            size = os.fstat(f.fileno()).st_size
            while f.tell() < size:
                yield _read_block(f, bufs)


def write_through(
    blocks: Iterable[tuple[Any, Any, Any, Any]], sink: Sink | None
) -> Iterator[tuple[Any, Any, Any, Any]]:
    """Yield ``blocks`` unchanged, writing them to ``sink`` on the way.

    The file appears under its final name only once every block is written; a generator closed
    early (an invalid pass), a block that is not a design, a full disk or any I/O error leaves no
    file, and the partition is then read from the data in later passes."""
    if sink is None or not _room_for_one_more(sink):
        yield from blocks
        return
    tmp = sink.path + ".part"
    f: Any = None
    try:
        f = open(tmp, "wb")  # noqa: SIM115 - closed in finally, renamed on success
    except OSError:
        f = None
    complete = False
    try:
        for X, y, w, o in blocks:
            if f is not None:
                try:
                    if not (isinstance(X, np.ndarray) and X.ndim == 2 or sp.issparse(X)):
                        raise OSError("not a design block")
                    _write_block(f, X, y, w, o)
                except (OSError, ValueError):
                    f.close()
                    f = None
                    _remove(tmp)
            yield X, y, w, o
        complete = True
    finally:
        if f is not None:
            try:
                f.close()
                if complete:
                    os.replace(tmp, sink.path)
            except OSError:
                pass
            if not complete:
                _remove(tmp)


def _size(path: str) -> int | None:
    try:
        return os.path.getsize(path)
    except OSError:
        return None


def _remove_dir(path: str) -> None:
    """Rename the directory, then remove it: a partition still being written by another thread
    (a fit stopped by an error while tasks were in flight) can then neither create a file in it
    between rmtree's listing and its rmdir nor rename its finished file into it, since both use
    the old path.  (rmtree alone once left a directory holding one partition file behind.)"""
    doomed = path + ".closing"
    try:
        os.rename(path, doomed)
    except OSError:
        doomed = path
    shutil.rmtree(doomed, ignore_errors=True)


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


class SpillCache:
    """One file per partition under a fresh temporary directory (removed by :meth:`close`)."""

    def __init__(self, n_parts: int, directory: str | None = None, budget: int | None = None):
        if directory is not None:
            os.makedirs(directory, exist_ok=True)
        self.dir = tempfile.mkdtemp(prefix="glmlogit-dask-", dir=directory)
        self.budget = int(_RAM_SHARE * _ram_bytes()) if budget is None else int(budget)
        self.paths = [os.path.join(self.dir, f"part-{i:06d}.bin") for i in range(n_parts)]
        self._present: list[bool] | None = None
        self.nbytes = 0  # the files' total size, once filled
        self.reported = False  # whether the progress report has announced the cache
        self._finalizer = weakref.finalize(self, _remove_dir, self.dir)

    @property
    def active(self) -> bool:
        return self._finalizer.alive

    @property
    def filled(self) -> bool:
        """Whether a pass has tried to write every partition (some files may be missing)."""
        return self._present is not None

    def mark_filled(self) -> None:
        sizes = [_size(p) for p in self.paths]
        self._present = [n is not None for n in sizes]
        self.nbytes = sum(n for n in sizes if n is not None)

    def clear(self) -> None:
        """Remove every file (they hold another encoding); the next filling pass writes anew."""
        for path in self.paths:
            _remove(path)
        self._present = None

    def unfill(self) -> None:
        """Let the next filling pass write again (after a pass that stopped early)."""
        self._present = None

    @property
    def n_cached(self) -> int:
        return sum(self._present) if self._present is not None else 0

    def sources(self, parts: Sequence[Any]) -> list[Any]:
        """The cached file of each partition where there is one, else the partition itself."""
        if not self.active or self._present is None:
            return list(parts)
        return [
            CachedPart(p) if ok else part for p, ok, part in zip(self.paths, self._present, parts)
        ]

    def sinks(self) -> list[Sink | None]:
        """Where the filling pass writes each partition (None once filled or closed)."""
        if not self.active or self._present is not None:
            return [None] * len(self.paths)
        return [Sink(p, self.budget) for p in self.paths]

    def close(self) -> None:
        """Remove the files; later passes read the data again."""
        self._finalizer()
