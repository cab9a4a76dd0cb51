"""A high-cardinality factor on Dask: ``glm_dask(..., sparse=True)`` with and without the spill cache.

Each partition of a Dask DataFrame is encoded by formulaic as a scipy.sparse design in every pass
unless the spill cache keeps the encoded CSR arrays between passes.  Data: ``--rows`` rows
(default 4e5) in ``--partitions`` partitions (default 8), 5 normal covariates and one factor of
``--levels`` levels (default 2,000), a 0/1 response; threaded scheduler.  Each fit runs in its own
process (so that its peak memory is its own) and is timed to the full summary; prints one JSON
object (``--json PATH`` also writes it).

    python benchmarks/bench_dask_sparse.py
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import numpy as np
from _common import emit, peak_rss_mb


def _frame(rows: int, levels: int):
    import pandas as pd

    rng = np.random.default_rng(11)
    df = pd.DataFrame({f"x{j}": rng.normal(size=rows) for j in range(5)})
    g = rng.integers(0, levels, rows)
    df["g"] = pd.Categorical([f"L{i:05d}" for i in g])
    eta = -0.3 + 0.4 * df.x0 - 0.2 * df.x1 + rng.normal(scale=0.5, size=levels)[g]
    df["y"] = (rng.random(rows) < 1.0 / (1.0 + np.exp(-eta))).astype(float)
    return df


def run(rows: int, levels: int, partitions: int, cache: bool) -> dict:
    import dask.dataframe as dd
    from threadpoolctl import threadpool_limits

    from glmlogit.dask import glm_dask

    threadpool_limits(1)
    ddf = dd.from_pandas(_frame(rows, levels), npartitions=partitions)
    lines: list[str] = []
    t = time.perf_counter()
    res = glm_dask(
        "y ~ x0 + x1 + x2 + x3 + x4 + g", ddf, sparse=True, cache=cache, progress=lines.append
    )
    fit = time.perf_counter() - t
    text = str(res.summary())
    return {
        "cache": cache,
        "seconds_fit": fit,
        "seconds_with_summary": time.perf_counter() - t,
        "pass_seconds": [
            float(line.split("pass ")[-1].split(" s")[0]) for line in lines if "deviance" in line
        ],
        "cached_partitions": res.model.rows.cache.n_cached if res.model.rows.cache else 0,
        "n_iter": res.n_iter,
        "columns": len(res.params),
        "peak_rss_mb": peak_rss_mb(),
        "params": res.params.to_numpy().tolist(),
        "bse": res.bse.to_numpy().tolist(),
        "summary_chars": len(text),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=float, default=4e5)
    ap.add_argument("--levels", type=int, default=2000)
    ap.add_argument("--partitions", type=int, default=8)
    ap.add_argument("--json")
    ap.add_argument("--worker", choices=["cache", "off"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    rows = int(args.rows)
    if args.worker:
        print(json.dumps(run(rows, args.levels, args.partitions, args.worker == "cache")))
        return
    out: dict = {"rows": rows, "levels": args.levels, "partitions": args.partitions}
    for mode in ("cache", "off"):
        cmd = [sys.executable, __file__, "--worker", mode, "--rows", str(rows)]
        cmd += ["--levels", str(args.levels), "--partitions", str(args.partitions)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
        out[mode] = json.loads(proc.stdout.strip().splitlines()[-1])
    a, b = out["cache"], out["off"]
    out["speedup_with_summary"] = b["seconds_with_summary"] / a["seconds_with_summary"]
    out["bit_identical"] = a["params"] == b["params"] and a["bse"] == b["bse"]
    for m in ("cache", "off"):
        out[m].pop("params")
        out[m].pop("bse")
    emit(out, args.json)


if __name__ == "__main__":
    main()
