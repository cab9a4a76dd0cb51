"""Does a large in-memory logit fit prove non-separation without the LP?  Time and LP calls.

A logistic fit of n rows x 10 normal covariates (coefficients N(0, 0.4^2), intercept -0.4)
with the summary, timed once in this process after a warm-up fit; prints the time, how many
times the separation LP (``separation.detect_separation``) ran, and the report's status.  Run it
against two checkouts to see what the screen's rounding allowance costs or saves:

    python benchmarks/bench_screen.py 1e7
    PYTHONPATH=/path/to/other/checkout python benchmarks/bench_screen.py 1e7
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

import glmlogit as gl
import glmlogit.separation as sepmod


def main() -> None:
    n = int(float(sys.argv[1])) if len(sys.argv) > 1 else 10_000_000
    p = 10
    calls = []
    real = sepmod.detect_separation

    def counted(*a, **k):
        calls.append(1)
        return real(*a, **k)

    sepmod.detect_separation = counted
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, p))
    beta = rng.normal(0, 0.4, p)
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
    df["y"] = (rng.random(n) < 1 / (1 + np.exp(-(X @ beta - 0.4)))).astype(float)
    formula = "y ~ " + " + ".join(df.columns[:p])
    gl.glm("y ~ x0", df.head(1000))  # warm-up: imports, compiled kernels
    t = time.perf_counter()
    res = gl.glm(formula, df)
    res.summary()
    t = time.perf_counter() - t
    print(
        f"{gl.__file__}: n = {n}: {t:.2f} s with the summary; LP runs: {len(calls)}; "
        f"separation: {res.separation.status}"
    )


if __name__ == "__main__":
    main()
