#!/usr/bin/env python
"""Time glmlogit's optimizers, and an L1 path against glum and scikit-learn.  Run by hand::

    python benchmarks/bench_solvers.py                 # full: about 15-30 min on 2 cores
    python benchmarks/bench_solvers.py --quick         # smaller n, for a smoke test
    python benchmarks/bench_solvers.py --repeats 3 --json solvers.json

Part 1, unpenalized logistic fits, every ``method=`` of glmlogit on the same rows object (a
``DenseRows``): n = 1e6, p = 20 and n = 1e4, p = 1000.  One seeded data set per case (intercept +
standard normal features, coefficients with sd(X beta) about 1).  Reported: seconds (minimum
over ``--repeats``), ratio to IRLS, and the distance to the IRLS MLE in units of
|coefficient| + standard error.

Part 2, an L1 (lasso) logistic path of 100 alphas, n = 1e5, p = 500 (20 informative columns),
alphas log-spaced from alpha_max down to 1e-2 alpha_max:

* glmlogit   ``penalized_path`` (the engine of ``gl.glm_path``), default tol 1e-10
* glum       ``GeneralizedLinearRegressor(alpha_search=True, alphas=<the same>, l1_ratio=1)``,
             its default gradient_tol, and gradient_tol=1e-8 (closer to glmlogit's accuracy)
* sklearn    ``LogisticRegression(C=1/(n alpha), l1_ratio=1, solver="liblinear"|"saga",
             warm_start=True)`` over every 10th alpha until ``--sklearn-cap`` seconds (300) are
             spent; time per alpha x 100 is reported as the estimate for the path (marked "~").
             liblinear penalizes the intercept, so its problem differs slightly.

Accuracy of each path: the largest KKT violation over its alphas, in mean-score units (0 at the
exact solution; see ``engine.penalized.kkt_violation``).  Times are wall-clock on whatever machine
runs this; on a shared machine they are noisy, so each is the minimum of ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings

import numpy as np

from glmlogit.engine.irls import irls
from glmlogit.engine.penalized import kkt_violation, penalized_path
from glmlogit.engine.rows import DenseRows
from glmlogit.engine.solvers import solve
from glmlogit.families import get_family

FAM = get_family("binomial")


def data(n, p, seed=0, informative=None):
    rng = np.random.default_rng(seed)
    X = np.empty((n, p))
    X[:, 0] = 1.0
    X[:, 1:] = rng.standard_normal((n, p - 1))
    k = p - 1 if informative is None else informative
    beta = np.zeros(p)
    beta[1 : k + 1] = rng.standard_normal(k) / np.sqrt(k)
    beta[0] = -0.5
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ beta)))).astype(float)
    return X, y


def best_of(fn, repeats):
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def part1(cases, repeats):
    rows_out = []
    for n, p in cases:
        X, y = data(n, p)
        rows = DenseRows(X, y)
        ref = irls(rows, FAM, intercept_index=0, tol=1e-12)  # the MLE (warms caches too)
        se = np.sqrt(np.diag(ref.cov_unscaled))
        t_ref = None
        for method in ("irls", "newton", "lbfgs", "gd", "sgd"):
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                t, fit = best_of(
                    lambda m=method, r=rows: solve(r, FAM, m, intercept_index=0), repeats
                )
            t_ref = t if t_ref is None else t_ref
            err = float(np.max(np.abs(fit.coef - ref.coef) / (np.abs(ref.coef) + se)))
            r = dict(
                n=n,
                p=p,
                method=method,
                seconds=t,
                ratio_to_irls=t / t_ref,
                n_iter=fit.n_iter,
                converged=bool(fit.converged),
                rel_err=err,
                warnings=[str(x.message)[:120] for x in w],
            )
            rows_out.append(r)
            print(
                f"n={n:>8} p={p:>5} {method:7s} {t:8.2f}s  x{t / t_ref:5.2f} of irls  "
                f"iter {fit.n_iter:5d}  err {err:.1e}  {'' if fit.converged else 'NOT CONVERGED'}",
                flush=True,
            )
    return rows_out


def part2(n, p, repeats, sklearn=True, sk_cap=300.0, skip_glum=False):
    X, y = data(n, p, seed=1, informative=20)
    rows = DenseRows(X, y)
    out = {}
    t, path = best_of(
        lambda: penalized_path(
            rows, FAM, l1_ratio=1.0, n_alphas=100, alpha_min_ratio=1e-2, intercept_index=0
        ),
        repeats,
    )
    alphas = path.alphas

    def kkt_max(coefs, idx):
        return max(
            kkt_violation(rows, FAM, coefs[j], alpha=alphas[i], l1_ratio=1.0, intercept_index=0)
            for j, i in enumerate(idx)
        )

    every = list(range(0, 100, 10))
    out["glmlogit"] = dict(
        seconds=t,
        kkt=kkt_max(path.coefs[every], every),
        n_nonzero_last=int((path.coefs[-1, 1:] != 0).sum()),
    )
    print(
        f"L1 path n={n} p={p}: glmlogit {t:.2f}s kkt {out['glmlogit']['kkt']:.1e} "
        f"({out['glmlogit']['n_nonzero_last']} non-zero at the end)",
        flush=True,
    )
    try:
        from glum import GeneralizedLinearRegressor
    except ImportError:
        GeneralizedLinearRegressor = None
    if GeneralizedLinearRegressor is not None and not skip_glum:
        Xg = np.ascontiguousarray(X[:, 1:])
        for label, gt in (("glum", None), ("glum gtol=1e-8", 1e-8)):

            def run_glum(gt=gt):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    m = GeneralizedLinearRegressor(
                        family="binomial",
                        alphas=alphas,
                        l1_ratio=1.0,
                        alpha_search=True,
                        gradient_tol=gt,
                    )
                    return m.fit(Xg, y)

            tg, m = best_of(run_glum, repeats)
            coefs = (
                np.column_stack([m.intercept_path_, m.coef_path_])
                if hasattr(m, "coef_path_")
                else None
            )
            kkt = kkt_max(coefs[every], every) if coefs is not None else float("nan")
            diff = float(np.max(np.abs(coefs - path.coefs))) if coefs is not None else float("nan")
            out[label] = dict(seconds=tg, ratio=tg / t, kkt=kkt, max_diff_vs_glmlogit=diff)
            print(
                f"  {label:16s} {tg:8.2f}s  = {tg / t:5.2f} x glmlogit  kkt {kkt:.1e}  "
                f"max|coef - glmlogit| {diff:.1e}",
                flush=True,
            )
    if sklearn:
        from sklearn.linear_model import LogisticRegression

        for solver in ("liblinear", "saga"):
            # every 10th alpha, warm-started, until sk_cap seconds are spent; the time per alpha
            # times 100 estimates the whole path
            m = LogisticRegression(l1_ratio=1.0, solver=solver, warm_start=True, max_iter=1000)
            done, res = [], []
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for i in every:
                    m.set_params(C=1.0 / (n * alphas[i]))
                    m.fit(X[:, 1:], y)
                    res.append(np.r_[m.intercept_, m.coef_.ravel()])
                    done.append(i)
                    if time.perf_counter() - t0 > sk_cap:
                        break
            ts = time.perf_counter() - t0
            est = ts * 100 / len(done)
            kkt = kkt_max(np.array(res), done)
            out[f"sklearn {solver}"] = dict(
                seconds=ts, alphas_done=len(done), seconds_est_100=est, ratio_est=est / t, kkt=kkt
            )
            print(
                f"  sklearn {solver:9s} {ts:8.2f}s for {len(done)} alphas, ~{est:.0f}s for 100 = "
                f"~{est / t:.1f} x glmlogit  kkt {kkt:.1e}",
                flush=True,
            )
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller data everywhere")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--json", default=None)
    ap.add_argument("--no-sklearn", action="store_true")
    ap.add_argument("--no-glum", action="store_true")
    ap.add_argument("--sklearn-cap", type=float, default=300.0, help="seconds per sklearn solver")
    ap.add_argument("--part", choices=["1", "2", "both"], default="both")
    a = ap.parse_args()
    f = 10 if a.quick else 1
    res = {
        "machine": dict(
            python=platform.python_version(),
            cpus=os.cpu_count(),
            processor=platform.processor(),
            loadavg=os.getloadavg(),
        )
    }
    if a.part in ("1", "both"):
        cases = [(100_000, 20), (5_000, 200)] if a.quick else [(1_000_000, 20), (10_000, 1000)]
        res["solvers"] = part1(cases, a.repeats)
    if a.part in ("2", "both"):
        res["l1_path"] = part2(
            100_000 // f,
            500,
            a.repeats,
            sklearn=not a.no_sklearn,
            sk_cap=a.sklearn_cap,
            skip_glum=a.no_glum,
        )
    res["machine"]["loadavg_end"] = os.getloadavg()
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(res, fh, indent=1)


if __name__ == "__main__":
    main()
