"""Logistic regression on a Dask DataFrame: the data stay in Parquet files, the fit reads them in
partitions.

Data: **simulated** (the script writes them): 300,000 customers in 6 Parquet files, with an age,
an income, one of 40 regions and whether they bought (a logistic model with known coefficients).
The same formula as in memory, ``gl.glm("bought ~ age + income + C(region)", ddf)``, fits it out of
core: one scan learns the regions and drops incomplete rows, then each IRLS iteration is one pass
in which every partition sends back its X'WX, score and deviance.  The first pass also keeps a
decoded copy of each partition on local disk (the spill cache), so that the later passes skip
reading and decoding the Parquet files; ``cache=False`` reads them every time, with the same
numbers bit for bit.

The script prints each pass, the summary and lazy predictions, and checks on the way (non-zero
exit on failure) that the Dask fit equals the in-memory fit of the same rows and that the cache
changes nothing.

    python examples/out_of_core_dask.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import dask.dataframe as dd
import numpy as np
import pandas as pd

import glmlogit as gl

pd.set_option("display.width", 120)


def simulate(folder: Path, files: int = 6, rows_per_file: int = 50_000) -> None:
    """Write the simulated customers, one Parquet file at a time."""
    effects = np.random.default_rng(0).normal(scale=0.4, size=40)
    for i in range(files):
        rng = np.random.default_rng([1, i])
        age = rng.uniform(18, 80, rows_per_file)
        income = rng.lognormal(3.5, 0.4, rows_per_file)
        region = rng.integers(0, 40, rows_per_file)
        eta = -1.0 + 0.02 * (age - 45) + 0.015 * (income - 35) + effects[region]
        bought = (rng.random(rows_per_file) < 1 / (1 + np.exp(-eta))).astype(float)
        income[rng.random(rows_per_file) < 0.001] = np.nan  # a few incomplete rows
        pd.DataFrame(
            {
                "age": age,
                "income": income,
                "region": pd.Categorical([f"R{r:02d}" for r in region]),
                "bought": bought,
            }
        ).to_parquet(folder / f"part-{i}.parquet")


def main() -> None:
    formula = "bought ~ age + income + C(region)"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        simulate(folder)
        ddf = dd.read_parquet(folder)  # nothing is read yet
        lines: list[str] = []
        res = gl.glm(formula, ddf, family="binomial", progress=lines.append)
        print("\n".join(lines))
        print(res.summary())

        # the same model in memory: the same numbers (only the order of the sums differs)
        mem = gl.glm(formula, pd.read_parquet(folder), family="binomial")
        assert res.n_dropped == mem.n_dropped > 0
        assert list(res.params.index) == list(mem.params.index)
        np.testing.assert_allclose(res.params, mem.params, rtol=1e-10)
        np.testing.assert_allclose(res.bse, mem.bse, rtol=1e-10)
        assert abs(res.llf / mem.llf - 1) < 1e-12

        # without the spill cache: every pass reads the Parquet files again, same numbers exactly
        plain = gl.glm(formula, ddf, family="binomial", cache=False)
        assert plain.params.equals(res.params) and plain.bse.equals(res.bse)

        # predictions for new customers stay lazy until computed
        new = pd.DataFrame({"age": [25, 45, 65], "income": [30.0, 40.0, 50.0], "region": "R07"})
        pred = res.predict(dd.from_pandas(new, npartitions=1))
        print("\nP(bought) for three new customers in region R07:")
        print(pred.compute().round(4).to_string())
        fitted = res.fittedvalues  # a lazy Dask Series, indexed like the fitted rows
        print(
            f"\nmean fitted probability {float(fitted.mean().compute()):.4f}, "
            f"observed rate {float(ddf.bought.mean().compute()):.4f}"
        )


if __name__ == "__main__":
    main()
