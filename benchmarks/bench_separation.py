#!/usr/bin/env python
"""Time the separation check next to the fit it accompanies.

Run by hand, never from the test suite::

    python benchmarks/bench_separation.py              # n = 2e5, p = 50
    python benchmarks/bench_separation.py --full-lp    # also one LP over all rows at once
    python benchmarks/bench_separation.py --n 20000    # smaller, for a smoke test

Data: seeded, an intercept column plus p - 1 standard-normal features, coefficients scaled so
that sd(eta) is about 1 (the MLE exists: not separated).  A second, quasi-separated data set is
the same with a rare binary column (1 in 1% of the rows) whose rows are all successes.

Timed (minimum over --repeats runs, seconds):

* fit            ``gl.GLM(y, X).fit()`` (IRLS to R's tolerance; coefficients, SEs)
* screen         ``needs_check(mu, coef, bse, y=, X=, cov=)``: the exact post-fit screen, with the
                 fit's (X'WX)^-1: two passes over X; ``... with step=``: given the fit's next
                 IRLS step instead, one pass; ``... + xtwx=, eta=``: with the final X'WX and
                 linear predictor too (what a unit-weight logit fit passes), no pass over X
                 (the Newton-decrement proof), X v only if that fails
* detect         ``detect_separation(X, y)``: aliasing (X'X screen) + the Konis LP by
                 constraint generation (what a fit pays when the screen says "run the LP")
* detect+alias   ``detect_separation(X, y, aliased=<the fit's>)``: the LP alone
* full LP        (--full-lp, one run) the same LP handed to HiGHS over all 2e5 rows at once,
                 without constraint generation, for comparison
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from scipy.optimize import linprog

import glmlogit as gl
from glmlogit.separation import detect_separation, needs_check


def best(f, repeats):
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t)
    return min(times), out


def make_data(n, p, seed=0):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.standard_normal((n, p - 1))])
    beta = rng.standard_normal(p)
    beta *= 1.0 / np.linalg.norm(beta[1:])
    beta[0] = 0.2
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-(X @ beta)))).astype(float)
    return X, y


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--p", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--full-lp", action="store_true")
    args = ap.parse_args()
    n, p, R = args.n, args.p, args.repeats
    X, y = make_data(n, p)
    print(f"n = {n}, p = {p}, min of {R} runs")

    t_fit, res = best(lambda: gl.GLM(y, X).fit(), R)
    mu = np.asarray(res.fittedvalues)
    coef = np.asarray(res.params)
    bse = np.asarray(res.bse)
    cov = np.asarray(res.cov_params())
    aliased = np.asarray(res.aliased, dtype=bool)
    t_scr, flag = best(lambda: needs_check(mu, coef, bse, y=y, X=X, cov=cov), R)
    step = cov @ (X.T @ (y - mu))  # the engine has this (its next IRLS step) for free
    t_scr1, flag1 = best(lambda: needs_check(mu, coef, bse, y=y, X=X, step=step), R)
    # ... and with X'WX and eta as well (what the fit passes): the pass-free Newton-decrement proof
    eta = np.asarray(res.linear_predictor)
    H = X.T @ ((mu * (1 - mu))[:, None] * X)
    t_scr2, flag2 = best(
        lambda: needs_check(mu, coef, bse, y=y, X=X, step=step, xtwx=H, eta=eta), R
    )
    t_det, rep = best(lambda: detect_separation(X, y), R)
    t_det2, rep2 = best(lambda: detect_separation(X, y, aliased=aliased), R)
    print("not separated:")
    print(f"  fit                  {t_fit:8.3f} s   ({res.n_iter} IRLS iterations)")
    print(f"  screen (needs_check) {t_scr:8.3f} s   ratio {t_scr / t_fit:6.3f}   -> {flag}")
    print(f"  ... with step=       {t_scr1:8.3f} s   ratio {t_scr1 / t_fit:6.3f}   -> {flag1}")
    print(f"  ... + xtwx=, eta=    {t_scr2:8.3f} s   ratio {t_scr2 / t_fit:6.3f}   -> {flag2}")
    print(
        f"  detect_separation    {t_det:8.3f} s   ratio {t_det / t_fit:6.3f}   -> {rep.status}"
        f" ({rep.lp_rounds} LP round(s))"
    )
    print(
        f"  ... with aliased=    {t_det2:8.3f} s   ratio {t_det2 / t_fit:6.3f}   -> {rep2.status}"
    )

    # quasi-separated: a rare indicator whose rows are all successes
    rng = np.random.default_rng(1)
    g = (rng.random(n) < 0.01).astype(float)
    Xs = np.column_stack([X, g])
    ys = y.copy()
    ys[g == 1] = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_fit_s, res_s = best(lambda: gl.GLM(ys, Xs).fit(), R)
    mu_s = np.asarray(res_s.fittedvalues)
    cov_s = np.asarray(res_s.cov_params())
    t_scr_s, flag_s = best(
        lambda: needs_check(
            mu_s,
            np.asarray(res_s.params),
            np.asarray(res_s.bse),
            y=ys,
            X=Xs,
            cov=cov_s,
            converged=bool(res_s.converged),
        ),
        R,
    )
    t_det_s, rep_s = best(lambda: detect_separation(Xs, ys), R)
    print(f"quasi-separated (p = {p + 1}, {int(g.sum())} rows with g = 1, all successes):")
    print(f"  fit                  {t_fit_s:8.3f} s   ({res_s.n_iter} IRLS iterations)")
    print(f"  screen (needs_check) {t_scr_s:8.3f} s   ratio {t_scr_s / t_fit_s:6.3f}   -> {flag_s}")
    print(
        f"  detect_separation    {t_det_s:8.3f} s   ratio {t_det_s / t_fit_s:6.3f}   -> "
        f"{rep_s.status}, {rep_s.n_separated} rows, infinite: {rep_s.infinite} "
        f"({rep_s.lp_rounds} LP round(s))"
    )

    if args.full_lp:
        s = np.where(y == 1, 1.0, -1.0)
        A = s[:, None] * X
        t = time.perf_counter()
        r = linprog(-A.sum(axis=0), A_ub=-A, b_ub=np.zeros(n), bounds=(-1, 1), method="highs-ds")
        t_full = time.perf_counter() - t
        print(
            f"full LP, all rows at once (1 run): {t_full:8.3f} s   ratio {t_full / t_fit:6.2f}"
            f"   (status {r.status}, max |b| = {np.max(np.abs(r.x)) if r.x is not None else None})"
        )


if __name__ == "__main__":
    main()
