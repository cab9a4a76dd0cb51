"""Out-of-core logistic regression on Parquet through Dask: time, peak memory, passes.

Generates ``--rows`` rows x ``--cols`` normal covariates + a 0/1 response as Parquet files of
``--file-rows`` rows each under ``--dir`` (written file by file: generating never holds more than
one file in memory), then, each in a fresh subprocess (so that peak memory, VmHWM, is its own):

* ``read``: one full read of the data by Dask (``dd.read_parquet(dir).sum().compute()``);
* ``glmlogit``: ``glm_dask("y ~ x0 + ... ", ddf)`` with full inference (coefficients, SEs,
  p-values, Pearson chi2, log-likelihood, null deviance: the summary), threaded scheduler; with
  the spill cache (``cache="auto"``, the default) and without it (``cache=False``);
* ``dask-ml``: ``dask_ml.linear_model.LogisticRegression`` (dask-glm's solvers; coefficients only,
  no standard errors), if installed.

Also reported: ``page_cache_write``, the seconds per GiB of writing a file into the page cache
with the machine's memory cold (after 15 s idle) and warm (right after deleting a file just
written), since the spill cache's first pass is such a write; each glmlogit result's
``scan_seconds`` (the learning pass, up to the first progress line); and with ``--refit`` each
glmlogit process fits once more (``refit``: the same fit when its memory is no longer new;
``peak_rss_mb`` stays the first fit's).

Target (issue 6): 1e8 rows x 10 columns with peak memory under 3 GB, in time within 1.5x of
(iterations x one full read).  Runs here, 2 cores:

    python benchmarks/bench_dask.py                     # 2e7 rows (a few minutes)
    python benchmarks/bench_dask.py --rows 100_000_000  # the 1e8 target (~8.8 GB of Parquet)
    python benchmarks/bench_dask.py --rows 100_000_000 --refit --no-daskml

Prints one JSON object; ``--json PATH`` also writes it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from _common import emit, peak_rss_mb

COEF_SEED = 12345


def _true_beta(cols: int) -> np.ndarray:
    return np.random.default_rng(COEF_SEED).normal(scale=0.3, size=cols + 1)


def generate(path: Path, rows: int, cols: int, file_rows: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.mkdir(parents=True, exist_ok=True)
    beta = _true_beta(cols)
    names = [f"x{j}" for j in range(cols)] + ["y"]
    for i, start in enumerate(range(0, rows, file_rows)):
        m = min(file_rows, rows - start)
        rng = np.random.default_rng([7, i])
        X = rng.standard_normal((m, cols))
        eta = beta[0] + X @ beta[1:]
        y = (rng.random(m) < 1.0 / (1.0 + np.exp(-eta))).astype(np.float64)
        table = pa.table([*(X[:, j] for j in range(cols)), y], names=names)
        pq.write_table(table, path / f"part-{i:05d}.parquet", compression="snappy")
    (path / "_done").write_text(json.dumps({"rows": rows, "cols": cols, "file_rows": file_rows}))


def _limit_blas_threads() -> None:
    # Dask runs one partition per thread; BLAS threads on top would oversubscribe the cores.
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:
        pass


def _cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run_read(path: str) -> dict:
    import dask.dataframe as dd

    ddf = dd.read_parquet(path)
    c, t = _cpu(), time.perf_counter()
    ddf.sum().compute()
    return {
        "seconds": time.perf_counter() - t,
        "cpu_seconds": _cpu() - c,
        "peak_rss_mb": peak_rss_mb(),
    }


def run_glmlogit(path: str, cols: int, cache: str = "auto", refit: bool = False) -> dict:
    _limit_blas_threads()
    import dask.dataframe as dd

    from glmlogit.dask import glm_dask

    ddf = dd.read_parquet(path)
    formula = "y ~ " + " + ".join(f"x{j}" for j in range(cols))
    passes: list[str] = []
    stamps: list[float] = []

    def progress(line: str) -> None:
        stamps.append(time.perf_counter())
        passes.append(line)

    c0, t0 = _cpu(), time.perf_counter()
    res = glm_dask(formula, ddf, progress=progress, cache=cache != "off")
    t_fit, c_fit = time.perf_counter() - t0, _cpu() - c0
    text = str(res.summary())  # bse, p-values, CIs, llf, AIC/BIC, null deviance, Pearson chi2
    t_all, c_all = time.perf_counter() - t0, _cpu() - c0
    peak = peak_rss_mb()  # of the first fit (a refit reuses its memory)
    again = None
    if refit:  # the same fit once more in this process: its memory is no longer new
        del res
        n_lines = len(passes)
        t1 = time.perf_counter()
        res = glm_dask(formula, ddf, progress=progress, cache=cache != "off")
        str(res.summary())
        again = {
            "seconds_with_inference": time.perf_counter() - t1,
            "scan_seconds": stamps[n_lines] - t1,
            "progress": passes[n_lines:],
        }
        del passes[n_lines:], stamps[n_lines:]
    beta = _true_beta(cols)
    spill = res.model.rows.cache
    cached = spill.n_cached if spill is not None else 0
    return {
        "cache": cache,
        # with the cache, the fit also computes the summary's pass at the solution (from the
        # cache, before removing it): seconds_fit then includes the full inference
        "cached_partitions": cached,
        "seconds_fit": t_fit,
        "seconds_with_inference": t_all,
        "cpu_seconds_fit": c_fit,
        "cpu_seconds_with_inference": c_all,
        "pass_seconds": [
            float(p.split("pass ")[-1].split(" s")[0]) for p in passes if "deviance" in p
        ],
        "progress": passes,
        # until the first progress line: imports, the graph, and the scan (the encoding, the NA
        # and response checks, the starting pass, and the cache's writes)
        "scan_seconds": stamps[0] - t0 if stamps else None,
        "n_iter": res.n_iter,
        "irls_passes": sum("deviance" in p for p in passes),  # the start + one per iteration
        # passes over the data (from Parquet or from the cache): the encoding scan (which also
        # computes the starting pass for a numeric formula and fills the cache), the IRLS
        # passes it did not cover, the inference pass at the solution
        "data_passes": 1 + res.model.rows.n_passes + 1,
        "peak_rss_mb": peak,
        # the separation report, and which step decided (DaskGLM.separation_check)
        "separation": None if res.separation is None else res.separation.status,
        "separation_check": res.model.separation_check,
        "deviance": res.deviance,
        "max_abs_coef_error_vs_truth": float(np.max(np.abs(res.params.to_numpy() - beta))),
        "max_se": float(res.bse.max()),
        "params": res.params.to_numpy().tolist(),
        "summary_chars": len(text),
        "refit": again,
    }


def run_daskml(path: str, cols: int, ref: list[float] | None) -> dict:
    _limit_blas_threads()
    import dask.dataframe as dd
    from dask_ml.linear_model import LogisticRegression

    ddf = dd.read_parquet(path)
    arr = ddf[[f"x{j}" for j in range(cols)] + ["y"]].to_dask_array(lengths=True)
    X, y = arr[:, :cols], arr[:, cols]
    t = time.perf_counter()
    # Unpenalized (C huge) Newton: the same estimator as glmlogit's, no standard errors.
    lr = LogisticRegression(penalty="l2", C=1e12, solver="newton", fit_intercept=True, tol=1e-8)
    lr.fit(X, y)
    sec = time.perf_counter() - t
    coef = np.concatenate([[lr.intercept_], np.ravel(lr.coef_)])
    out = {
        "seconds_fit": sec,
        "peak_rss_mb": peak_rss_mb(),
        "solver": "newton",
        "standard_errors": False,
    }
    if ref is not None:
        out["max_abs_coef_diff_vs_glmlogit"] = float(np.max(np.abs(coef - np.asarray(ref))))
    return out


def page_cache_probe(directory: str, gib: float = 1.0) -> dict:
    """Seconds per GiB to write a new file into the page cache from a warm 8 MiB buffer: into
    memory the machine has not touched lately ("cold"), then again right after deleting it
    (the just-freed pages: "warm").  On some virtual machines the first touch of memory costs
    several times the copy (the host backs the page only then); the spill cache's writes pay
    that price, the passes that read it back do not."""
    buf = np.random.default_rng(0).random(1 << 20)
    path = Path(directory) / f"glmlogit_probe_{os.getpid()}.bin"
    out = {}
    try:
        for label in ("cold", "warm"):
            t = time.perf_counter()
            with open(path, "wb") as f:
                for _ in range(int(gib * 128)):
                    f.write(buf)
            out[f"{label}_s_per_gib"] = (time.perf_counter() - t) / gib
            path.unlink()
    finally:
        path.unlink(missing_ok=True)
    return out


def _sub(what: str, args: argparse.Namespace, extra: list[str] | None = None) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        what,
        "--dir",
        str(args.data),
        "--cols",
        str(args.cols),
    ] + (extra or [])
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=float, default=2e7)
    ap.add_argument("--cols", type=int, default=10)
    ap.add_argument("--file-rows", type=float, default=1e6)
    ap.add_argument("--dir", default="/tmp")
    ap.add_argument("--reads", type=int, default=2, help="full reads timed (the best is used)")
    ap.add_argument("--no-daskml", action="store_true")
    ap.add_argument(
        "--cache",
        default="auto,off",
        help="glmlogit runs: 'auto' (the spill cache, the default) and/or 'off'",
    )
    ap.add_argument(
        "--refit",
        action="store_true",
        help="each glmlogit process then fits once more (reported as 'refit'; the first fit's "
        "numbers are the ones compared with the target)",
    )
    ap.add_argument("--json")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--ref", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        if args.worker == "read":
            res = run_read(args.dir)
        elif args.worker.startswith("glmlogit"):
            res = run_glmlogit(args.dir, args.cols, args.worker.split(":")[1], args.refit)
        else:
            res = run_daskml(args.dir, args.cols, json.loads(args.ref) if args.ref else None)
        print(json.dumps(res))
        return
    rows, file_rows = int(args.rows), int(args.file_rows)
    args.data = Path(args.dir) / f"glmlogit_bench_{rows}x{args.cols}"
    t = time.perf_counter()
    done = args.data / "_done"
    if not done.exists() or json.loads(done.read_text()).get("rows") != rows:
        generate(args.data, rows, args.cols, file_rows)
        t_gen = time.perf_counter() - t
    else:
        t_gen = 0.0
    time.sleep(15)  # so that the probe's first write meets memory not touched lately
    probe = page_cache_probe(args.dir)
    # full reads before and after the fit (the machine may be shared: the best read is used)
    reads = [_sub("read", args) for _ in range(args.reads)]
    more = ["--refit"] if args.refit else None
    fits = {mode: _sub(f"glmlogit:{mode}", args, more) for mode in args.cache.split(",")}
    reads.append(_sub("read", args))
    fit = next(iter(fits.values()))
    read_s = min(r["seconds"] for r in reads if "seconds" in r)
    read_cpu = min(r["cpu_seconds"] for r in reads if "cpu_seconds" in r)
    out = {
        "rows": rows,
        "cols": args.cols,
        "partitions": -(-rows // file_rows),
        "parquet_bytes": sum(f.stat().st_size for f in args.data.glob("*.parquet")),
        "generate_seconds": t_gen,
        "cpu_count": os.cpu_count(),
        "read": {
            "seconds_best": read_s,
            "all": [r.get("seconds") for r in reads],
            "cpu_seconds_best": read_cpu,
            "peak_rss_mb": max(r.get("peak_rss_mb", 0) for r in reads),
        },
        "page_cache_write": probe,
    }
    for mode, f in fits.items():
        key = "glmlogit" if mode == "auto" else f"glmlogit_cache_{mode}"
        out[key] = f
        if "seconds_fit" in f:
            f["ratio_fit_to_iterations_x_read"] = f["seconds_fit"] / (f["n_iter"] * read_s)
            for g in (f, f["refit"] or {}):  # the refit: the same iterations, the same read
                if "seconds_with_inference" in g:
                    ratio = g["seconds_with_inference"] / (f["n_iter"] * read_s)
                    g["ratio_with_inference_to_iterations_x_read"] = ratio
            # CPU time is less sensitive to other load on a shared machine than wall time
            f["cpu_ratio_fit_to_iterations_x_read"] = f["cpu_seconds_fit"] / (
                f["n_iter"] * read_cpu
            )
    ps = [np.asarray(f["params"]) for f in fits.values() if "params" in f]
    if len(ps) == 2:
        out["max_abs_coef_diff_cache_vs_off"] = float(np.max(np.abs(ps[0] - ps[1])))
    if not args.no_daskml:
        try:
            import dask_ml  # noqa: F401

            out["dask_ml"] = _sub("daskml", args, ["--ref", json.dumps(fit.get("params"))])
        except ImportError:
            out["dask_ml"] = "not installed"
    emit(out, args.json)


if __name__ == "__main__":
    main()
