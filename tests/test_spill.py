"""The Dask fit's spill cache (decoded partitions on local disk) changes where the rows come
from, never what is computed: every number is bit-identical to re-reading the partitions (the
same blocks, summed in the same order), so the comparisons here are exact."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

dd = pytest.importorskip("dask.dataframe")
import dask  # noqa: E402
from test_dask import CASES, NPART, _frame  # noqa: E402

import glmlogit as gl  # noqa: E402
from glmlogit.dask import glm_dask  # noqa: E402
from glmlogit.engine import spill  # noqa: E402
from glmlogit.engine.spill import CachedPart, Sink, write_through  # noqa: E402
from glmlogit.errors import GlmlogitError  # noqa: E402

ATTRS = ("deviance", "null_deviance", "llf", "llnull", "aic", "bic", "scale", "pearson_chi2")


@pytest.fixture(scope="module")
def ddf():
    return dd.from_pandas(_frame(), npartitions=NPART)


def _files(root) -> list:
    return sorted(root.glob("glmlogit-dask-*/*.bin"))


def _assert_identical(a, b) -> None:
    for attr in ("params", "bse", "pvalues"):
        np.testing.assert_array_equal(getattr(a, attr), getattr(b, attr), err_msg=attr)
    np.testing.assert_array_equal(a.cov_params(), b.cov_params())
    for attr in ATTRS:
        assert getattr(a, attr) == getattr(b, attr), attr
    assert a.n_iter == b.n_iter


@pytest.mark.parametrize(
    "case,cov",
    [
        ("binomial", "nonrobust"),  # factors: the first IRLS pass fills the cache
        ("poisson_offset", "HC1"),  # an offset stored; a robust covariance from the cache
        ("binomial_weights_factor", "HC3"),  # prior weights stored; hat values per block
        ("gaussian", "nonrobust"),  # numeric formula: the scan fills it; llnull from it
    ],
)
def test_cached_fit_is_bit_identical(ddf, tmp_path, case, cov):
    formula, kw = CASES[case]
    seen: list[int] = []
    cached = glm_dask(
        formula,
        ddf,
        cache=str(tmp_path),
        cov_type=cov,
        progress=lambda _line: seen.append(len(_files(tmp_path))),
        **kw,
    )
    plain = glm_dask(formula, ddf, cache=False, cov_type=cov, **kw)
    _assert_identical(cached, plain)
    assert cached.model.rows.cache.n_cached == NPART
    assert max(seen) == NPART  # every partition was on disk during the fit ...
    assert list(tmp_path.iterdir()) == []  # ... and nothing is left after it
    assert plain.model.rows.cache is None


def test_budget_limits_the_cache_and_the_rest_is_reread(ddf, tmp_path, monkeypatch):
    formula, kw = CASES["binomial"]
    plain = glm_dask(formula, ddf, cache=False, **kw)
    sizes: list[int] = []
    with dask.config.set(scheduler="sync"):  # partitions in order: a deterministic budget
        glm_dask(
            formula,
            ddf,
            cache=str(tmp_path),
            progress=lambda _: sizes.extend(f.stat().st_size for f in _files(tmp_path)),
            **kw,
        )
        one = max(sizes)
        # room for one partition's file (the check allows one more of the largest size so far)
        monkeypatch.setattr(spill, "_ram_bytes", lambda: int(1.5 * one / spill._RAM_SHARE))
        part = glm_dask(formula, ddf, cache=str(tmp_path), **kw)
        monkeypatch.setattr(spill, "_ram_bytes", lambda: 0)
        none = glm_dask(formula, ddf, cache=str(tmp_path), **kw)
    assert part.model.rows.cache.n_cached == 1
    assert none.model.rows.cache.n_cached == 0
    _assert_identical(part, plain)
    _assert_identical(none, plain)


def _blocks():
    rng = np.random.default_rng(1)
    n = 50
    F = np.asfortranarray(rng.normal(size=(n, 4)))
    F[:, 0] = 1.0  # an intercept: stored as a constant
    F[:, 2] = 0.0
    F[5, 2] = -0.0  # not the same bits: stored in full
    wide = np.asfortranarray(rng.normal(size=(n + 7, 3)))[:n]  # a strided slice (chunks' buffer)
    y01 = (rng.random(n) < 0.5).astype(float)
    yfrac = rng.uniform(size=n)
    ones, zeros = np.ones(n), np.zeros(n)
    return [
        (F, y01, ones, zeros),
        (wide, yfrac, rng.integers(1, 4, n).astype(float), rng.normal(size=n)),
        (np.ascontiguousarray(F), -y01, ones, zeros),  # -0.0 in y: kept as float64
        (np.empty((0, 4)), np.empty(0), np.empty(0), np.empty(0)),
    ]


def test_file_format_round_trip(tmp_path):
    blocks = _blocks()
    path = str(tmp_path / "p.bin")
    out = list(write_through(iter(blocks), Sink(path, 1 << 40)))
    assert all(a is b for o, blk in zip(out, blocks) for a, b in zip(o, blk))  # untouched
    back = list(CachedPart(path).blocks())
    assert len(back) == len(blocks)
    for (X, y, w, o), (X2, y2, w2, o2) in zip(blocks, back):
        assert X2.shape == X.shape
        np.testing.assert_array_equal(X2.view(np.int64), np.asarray(X).view(np.int64))
        for a, b in ((y, y2), (w, w2), (o, o2)):
            np.testing.assert_array_equal(
                np.asarray(b, float).view(np.int64), np.asarray(a, float).view(np.int64)
            )


def test_incomplete_partitions_and_other_blocks_leave_no_file(tmp_path):
    path = str(tmp_path / "p.bin")
    gen = write_through(iter(_blocks()), Sink(path, 1 << 40))
    next(gen)
    gen.close()  # an invalid pass stops early
    assert list(tmp_path.iterdir()) == []
    X = np.zeros(3)  # not a design block
    list(write_through(iter([(X, np.zeros(3), np.ones(3), np.zeros(3))]), Sink(path, 1 << 40)))
    assert list(tmp_path.iterdir()) == []


def test_close_while_a_partition_is_being_written_leaves_nothing(tmp_path):
    """A fit stopped by an error can close the cache while another thread still writes a
    partition: the writer started before close (its temporary file open) and the one started
    after it both end without leaving the directory or a file behind."""
    cache = spill.SpillCache(2, directory=str(tmp_path))
    early = write_through(iter(_blocks()), cache.sinks()[0])
    late = write_through(iter(_blocks()), cache.sinks()[1])
    next(early)  # its temporary file is open in the cache's directory
    cache.close()
    assert not cache.active
    assert len(list(early)) == len(_blocks()) - 1 and len(list(late)) == len(_blocks())
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("index", [np.int32, np.int64])
def test_sparse_blocks_round_trip(tmp_path, index):
    rng = np.random.default_rng(2)
    X = sp.random(40, 7, density=0.3, format="csr", random_state=3)
    X.indices, X.indptr = X.indices.astype(index), X.indptr.astype(index)
    blocks = [(X, (rng.random(40) < 0.5).astype(float), np.ones(40), rng.normal(size=40))]
    path = str(tmp_path / "p.bin")
    list(write_through(iter(blocks), Sink(path, 1 << 40)))
    ((X2, y2, w2, o2),) = CachedPart(path).blocks()
    assert sp.issparse(X2) and X2.shape == X.shape
    # the same arrays (scipy picks the index dtype itself: int32 when the values fit)
    for a, b in ((X2.data, X.data), (X2.indices, X.indices), (X2.indptr, X.indptr)):
        np.testing.assert_array_equal(a, b)
    for a, b in ((y2, blocks[0][1]), (w2, blocks[0][2]), (o2, blocks[0][3])):
        np.testing.assert_array_equal(a, b)


def test_sparse_dask_fit_is_cached_and_bit_identical(ddf, tmp_path):
    formula, kw = "y ~ x1 + x2 + g + C(k)", dict(family="binomial")
    cached = glm_dask(formula, ddf, sparse=True, cache=str(tmp_path), cov_type="HC0", **kw)
    plain = glm_dask(formula, ddf, sparse=True, cache=False, cov_type="HC0", **kw)
    assert cached.model.rows.cache.n_cached == NPART
    _assert_identical(cached, plain)


def test_cache_argument(ddf, tmp_path, tmp_path_factory, monkeypatch):
    formula, kw = CASES["binomial"]
    with pytest.raises(GlmlogitError, match="cache must be"):
        glm_dask(formula, ddf, cache=3, **kw)
    blocked = tmp_path_factory.mktemp("blocked") / "file"
    blocked.write_text("not a directory")
    with pytest.raises(GlmlogitError, match="cannot create the spill cache"):
        glm_dask(formula, ddf, cache=str(blocked / "sub"), **kw)
    # "auto" without a writable temporary directory: the fit reads the data every pass
    monkeypatch.setattr(spill.tempfile, "tempdir", str(blocked / "sub"))
    plain = glm_dask(formula, ddf, **kw)
    monkeypatch.undo()
    assert plain.model.rows.cache is None
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster),
    ):
        auto = glm_dask(formula, ddf, **kw)  # "auto": off on a cluster
        forced = glm_dask(formula, ddf, cache=str(tmp_path), **kw)  # workers share this disk
    assert auto.model.rows.cache is None
    assert forced.model.rows.cache.n_cached == NPART
    _assert_identical(forced, auto)
    assert list(tmp_path.iterdir()) == []


def test_auto_cache_avoids_memory_backed_temporary_directories(ddf, monkeypatch):
    """A cache on tmpfs (/tmp on many Linux systems) would hold memory that cannot be evicted:
    "auto" then uses /var/tmp if that is on disk, else no cache."""
    tmp = spill.tempfile.gettempdir()
    kinds = {tmp: "tmpfs", "/var/tmp": "ext4"}
    monkeypatch.setattr(spill, "_fs_type", lambda path: kinds.get(path, "ext4"))
    with monkeypatch.context() as m:  # a writable /var/tmp, whatever this machine has
        m.setattr(spill.os, "access", lambda path, mode: True)
        m.setattr(spill.os.path, "isdir", lambda path: True)
        assert spill.default_directory() == "/var/tmp"
    kinds["/var/tmp"] = "tmpfs"
    assert spill.default_directory() is None
    formula, kw = CASES["binomial"]
    assert glm_dask(formula, ddf, **kw).model.rows.cache is None
    kinds[tmp] = "ext4"
    assert spill.default_directory() == tmp


@pytest.mark.parametrize("cache", ["auto", False])
def test_empty_partitions_and_an_aliased_column(cache):
    """Empty partitions (after a filter) leave empty cache files; the passes that read a partition
    whole (the QR confirming an aliased column) skip them as they skip an empty partition of the
    data."""
    df = _frame()
    df["x2_twice"] = 2.0 * df.x2  # aliased with x2
    full = dd.from_pandas(df, npartitions=3)
    empty = full[full.x2 > 100]  # three empty partitions
    ddf = dd.concat([full.partitions[0], empty, full.partitions[1], full.partitions[2]])
    assert ddf.npartitions == 6
    a = gl.glm("y ~ x2 + x2_twice + g", df)
    b = glm_dask("y ~ x2 + x2_twice + g", ddf, cache=cache)
    assert list(b.params.index) == list(a.params.index)
    assert (
        b.params.isna().tolist() == a.params.isna().tolist() == [False] * 2 + [True] + [False] * 3
    )
    np.testing.assert_allclose(b.params.dropna(), a.params.dropna(), rtol=1e-10)
    np.testing.assert_allclose(b.bse.dropna(), a.bse.dropna(), rtol=1e-10)
