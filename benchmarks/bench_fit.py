#!/usr/bin/env python
"""Time one logistic-regression fit (coefficients + standard errors) across libraries.

Run by hand, never from the test suite::

    python benchmarks/bench_fit.py              # full: n=1e6,p=20 and n=1e5,p=200
    python benchmarks/bench_fit.py --quick      # 10x smaller n, for a smoke test
    python benchmarks/bench_fit.py --repeats 5 --json out.json

For each case one seeded data set is generated (an intercept column plus standard normal
features, coefficients scaled so that sd(eta) is about 1 and the MLE exists).  Each library runs
in its own fresh subprocess, which regenerates the identical data, so that peak memory can be
measured per library: the peak resident set size (VmHWM, reset through /proc/self/clear_refs
before every repeat) above the resident set size just before the fit, i.e. above the input.
Times are the minimum over ``--repeats`` runs; the peak memory is the maximum over them.

Libraries (each must produce coefficients *and* standard errors):

* glmlogit            ``gl.GLM(y, X).fit()`` then ``.params``, ``.bse``
* statsmodels GLM     ``sm.GLM(y, X, family=Binomial()).fit()`` then ``.bse``
* statsmodels Logit   ``sm.Logit(y, X).fit(method="newton", disp=0)`` then ``.bse``
* scikit-learn        ``LogisticRegression(C=inf, solver="newton-cholesky", fit_intercept=False)``
                      (C=inf is sklearn >= 1.8's spelling of penalty=None); it has no standard
                      errors, so they are computed from its coefficients, (X'WX)^-1, and timed as
                      a separate "se" column.
* glum                ``GeneralizedLinearRegressor(family="binomial", alpha=0, fit_intercept=False)``
                      then ``covariance_matrix(X, y)``; fit and SE time reported separately.  Run
                      twice: with gradient_tol=1e-10 (same accuracy as the others) and with its
                      default tolerance.
* numpy floor         a plain IRLS loop (b = 0; eta = X b; mu = expit(eta); W = mu(1 - mu);
                      H = X'(X * w); Newton step; R's stop |dev - dev_old| / (|dev| + 0.1) < 1e-8),
                      SEs from the last H.  Its iteration count times one X'WX pass is the floor.

The table gives seconds, the ratio to glmlogit, peak memory above the input (MB and as a
multiple of the design's n*p*8 bytes) and the largest |coef - glmlogit coef| and |se - glmlogit se|.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gc
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

SEED = 20240601
FULL_CASES = [(1_000_000, 20), (100_000, 200)]
LIBS = ["glmlogit", "statsmodels GLM", "statsmodels Logit", "scikit-learn", "glum", "glum (default tol)",
        "numpy floor"]
_ENV_KEYS = ("OPENBLAS", "OMP_", "MKL", "BLIS", "NVPL", "GOTO", "VECLIB", "NUMEXPR")


# --------------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------------
def make_data(n: int, p: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """X = [1, N(0,1) features] (C order, float64), y ~ Bernoulli(expit(X beta)) as 0./1."""
    rng = np.random.default_rng(seed)
    beta = np.empty(p)
    beta[0] = -0.5
    beta[1:] = rng.normal(0.0, 1.0, p - 1) / np.sqrt(p - 1)  # sd(eta) ~ 1: no separation
    X = np.empty((n, p))
    X[:, 0] = 1.0
    y = np.empty(n)
    step = 1 << 16
    for s in range(0, n, step):  # chunked so that generation adds no n x p temporary
        e = min(n, s + step)
        X[s:e, 1:] = rng.standard_normal((e - s, p - 1))
        eta = X[s:e] @ beta
        y[s:e] = rng.random(e - s) < 1.0 / (1.0 + np.exp(-eta))
    return X, y, beta


# --------------------------------------------------------------------------------------------
# memory
# --------------------------------------------------------------------------------------------
def _status_kb(key: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_hwm() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0).  False if not possible here."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    hwm, rss = _status_kb("VmHWM"), _status_kb("VmRSS")
    return hwm is not None and rss is not None and hwm <= rss + 1024


class PeakMeter:
    """Peak RSS above the RSS at ``start()``, in bytes."""

    def __init__(self) -> None:
        self.method = "VmHWM after clear_refs" if _reset_hwm() else "ru_maxrss (first repeat only)"
        self._used_once = False

    def start(self) -> None:
        gc.collect()
        if self.method.startswith("VmHWM"):
            _reset_hwm()
            self.base = _status_kb("VmRSS") * 1024
        else:
            self.base = (_status_kb("VmRSS") or 0) * 1024 or resource.getrusage(
                resource.RUSAGE_SELF).ru_maxrss * 1024

    def stop(self) -> float | None:
        if self.method.startswith("VmHWM"):
            return _status_kb("VmHWM") * 1024 - self.base
        if self._used_once:  # ru_maxrss cannot be reset: only the first repeat is meaningful
            return None
        self._used_once = True
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - self.base


# --------------------------------------------------------------------------------------------
# the libraries: each returns a callable fit(X, y) -> (coef, se, n_iter, t_fit, t_se)
# --------------------------------------------------------------------------------------------
def _runner(lib: str):
    if lib == "glmlogit":
        import glmlogit as gl

        def run(X, y):
            t0 = time.perf_counter()
            res = gl.GLM(y, X, family="binomial").fit()
            coef = res.params.to_numpy()
            se = res.bse.to_numpy()
            return coef, se, res.n_iter, time.perf_counter() - t0, 0.0
        return run, {"glmlogit": gl.__version__}

    if lib == "statsmodels GLM":
        import statsmodels
        import statsmodels.api as sm

        def run(X, y):
            t0 = time.perf_counter()
            res = sm.GLM(y, X, family=sm.families.Binomial()).fit()
            coef, se = np.asarray(res.params), np.asarray(res.bse)
            return coef, se, res.fit_history["iteration"], time.perf_counter() - t0, 0.0
        return run, {"statsmodels": statsmodels.__version__}

    if lib == "statsmodels Logit":
        import statsmodels
        import statsmodels.api as sm

        def run(X, y):
            t0 = time.perf_counter()
            res = sm.Logit(y, X).fit(method="newton", disp=0)
            coef, se = np.asarray(res.params), np.asarray(res.bse)
            return coef, se, res.mle_retvals["iterations"], time.perf_counter() - t0, 0.0
        return run, {"statsmodels": statsmodels.__version__}

    if lib == "scikit-learn":
        import sklearn
        from sklearn.linear_model import LogisticRegression

        def run(X, y):
            t0 = time.perf_counter()
            m = LogisticRegression(C=np.inf, solver="newton-cholesky", fit_intercept=False,
                                   tol=1e-10, max_iter=1000).fit(X, y)
            coef = m.coef_.ravel().copy()
            t1 = time.perf_counter()
            se = _se_from_coef(X, coef)  # sklearn has no SEs: what a user would write
            t2 = time.perf_counter()
            return coef, se, int(np.max(m.n_iter_)), t1 - t0, t2 - t1
        return run, {"scikit-learn": sklearn.__version__}

    if lib in ("glum", "glum (default tol)"):
        import glum
        from glum import GeneralizedLinearRegressor
        kw = {} if lib == "glum (default tol)" else {"gradient_tol": 1e-10}

        def run(X, y):
            t0 = time.perf_counter()
            m = GeneralizedLinearRegressor(family="binomial", alpha=0, fit_intercept=False,
                                           robust=False, **kw).fit(X, y)
            coef = np.asarray(m.coef_).copy()
            t1 = time.perf_counter()
            se = np.sqrt(np.diag(m.covariance_matrix(X, y)))
            t2 = time.perf_counter()
            return coef, se, int(m.n_iter_), t1 - t0, t2 - t1
        return run, {"glum": glum.__version__}

    if lib == "numpy floor":
        def run(X, y):
            t0 = time.perf_counter()
            coef, se, it = numpy_irls(X, y)
            return coef, se, it, time.perf_counter() - t0, 0.0
        return run, {}

    raise SystemExit(f"unknown library {lib!r}")


def _se_from_coef(X: np.ndarray, coef: np.ndarray) -> np.ndarray:
    from scipy.special import expit
    mu = expit(X @ coef)
    w = mu * (1.0 - mu)
    H = X.T @ (X * w[:, None])
    return np.sqrt(np.diag(np.linalg.inv(H)))


def numpy_irls(X: np.ndarray, y: np.ndarray, tol: float = 1e-8, max_iter: int = 100):
    """The floor: the plainest IRLS a NumPy user would write (Newton form, R's deviance rule)."""
    from scipy.special import expit
    b = np.zeros(X.shape[1])
    dev_old = np.inf
    it = 0
    while it < max_iter:
        it += 1
        eta = X @ b
        mu = expit(eta)
        dev = 2.0 * np.sum(np.logaddexp(0.0, eta) - y * eta)
        if abs(dev - dev_old) / (abs(dev) + 0.1) < tol:
            break
        w = mu * (1.0 - mu)
        H = X.T @ (X * w[:, None])
        b = b + np.linalg.solve(H, X.T @ (y - mu))
        dev_old = dev
    # H is from the previous iterate, as R's glm.fit reports it
    return b, np.sqrt(np.diag(np.linalg.inv(H))), it - 1


# --------------------------------------------------------------------------------------------
# child: one library, one case
# --------------------------------------------------------------------------------------------
def child(lib: str, n: int, p: int, repeats: int, out: str) -> None:
    import warnings
    warnings.simplefilter("ignore")
    run, versions = _runner(lib)  # import before the baseline is taken
    X, y, _ = make_data(n, p)
    meter = PeakMeter()
    t_fit, t_se, t_tot, peaks = [], [], [], []
    coef = se = None
    n_iter = None
    for _ in range(repeats):
        coef = se = None
        meter.start()
        coef, se, n_iter, tf, ts = run(X, y)
        pk = meter.stop()
        t_fit.append(tf)
        t_se.append(ts)
        t_tot.append(tf + ts)
        if pk is not None:
            peaks.append(pk)
    info = {}
    try:
        from threadpoolctl import threadpool_info
        info["threadpools"] = [{k: d.get(k) for k in ("internal_api", "version", "num_threads",
                                                       "architecture", "filepath")}
                               for d in threadpool_info()]
    except ImportError:
        pass
    with open(out, "w") as f:
        json.dump({"lib": lib, "n": n, "p": p, "t_fit": t_fit, "t_se": t_se, "t_total": t_tot,
                   "peak_bytes": max(peaks) if peaks else None, "mem_method": meter.method,
                   "coef": np.asarray(coef, float).tolist(), "se": np.asarray(se, float).tolist(),
                   "n_iter": int(n_iter), "versions": versions, **info}, f)


# --------------------------------------------------------------------------------------------
# parent: machine info, the runs, the table
# --------------------------------------------------------------------------------------------
def machine_info() -> dict:
    info: dict = {"date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
                  "python": platform.python_version(), "platform": platform.platform()}
    try:
        with open("/proc/cpuinfo") as f:
            txt = f.read()
        models = [ln.split(":", 1)[1].strip() for ln in txt.splitlines() if ln.startswith("model name")]
        info["cpu"] = models[0] if models else platform.processor()
        flags = next((ln for ln in txt.splitlines() if ln.startswith("flags")), "")
        info["cpu_flags"] = " ".join(f for f in ("avx2", "avx512f", "amx_tile") if f" {f}" in flags)
        fam = next((ln.split(":")[1].strip() for ln in txt.splitlines() if ln.startswith("cpu family")), "")
        mod = next((ln.split(":")[1].strip() for ln in txt.splitlines() if ln.startswith("model\t")), "")
        info["cpu_family_model"] = f"{fam}/{mod}"
    except OSError:
        info["cpu"] = platform.processor()
    info["logical_cpus"] = os.cpu_count()
    try:
        info["usable_cpus"] = len(os.sched_getaffinity(0))
    except AttributeError:
        pass
    try:
        info["mem_total_gb"] = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError):
        pass
    info["blas_env"] = {k: v for k, v in os.environ.items() if k.startswith(_ENV_KEYS)}
    vers = {}
    for mod in ("numpy", "scipy", "pandas", "statsmodels", "sklearn", "glum", "tabmat", "glmlogit"):
        try:
            vers[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001 - report what is there
            vers[mod] = None
    info["versions"] = vers
    info["glmlogit_git"] = _git_describe()
    try:
        import numpy as _np
        cfg = _np.show_config(mode="dicts")
        blas = cfg["Build Dependencies"]["blas"]
        info["numpy_blas"] = f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # noqa: BLE001
        pass
    return info


def _git_describe() -> str | None:
    """The commit glmlogit was measured at, '+dirty' when its sources differ from it."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        head = subprocess.run(["git", "-C", here, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", here, "status", "--porcelain", "--", "glmlogit"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return (head + ("+dirty" if dirty else "")) if head else None


def run_case(n: int, p: int, repeats: int, libs: list[str], timeout: float) -> dict:
    results = {}
    for lib in libs:
        fd, out = tempfile.mkstemp(suffix=".json")
        os.close(fd)
        cmd = [sys.executable, os.path.abspath(__file__), "--child", lib, "--n", str(n), "--p", str(p),
               "--repeats", str(repeats), "--out", out]
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
            if proc.returncode != 0:
                results[lib] = {"error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
            else:
                with open(out) as f:
                    results[lib] = json.load(f)
        except subprocess.TimeoutExpired:
            results[lib] = {"error": f"timed out after {timeout:.0f} s"}
        finally:
            os.unlink(out)
        r = results[lib]
        msg = r.get("error") or f"{min(r['t_total']):.3f} s"
        print(f"  {lib:<20} {msg}   (wall {time.perf_counter() - t0:.1f} s)", file=sys.stderr, flush=True)
    return results


def table(n: int, p: int, res: dict) -> tuple[str, list[dict]]:
    design = n * p * 8
    ref = res.get("glmlogit", {})
    ref_t = min(ref["t_total"]) if "t_total" in ref else None
    ref_c = np.asarray(ref["coef"]) if "coef" in ref else None
    ref_s = np.asarray(ref["se"]) if "se" in ref else None
    rows = []
    head = (f"| library | fit s | se s | total s | x glmlogit | iters | peak MB above input "
            f"| x design ({design / 1e6:.0f} MB) | max abs coef diff | max abs se diff |")
    lines = [head, "|" + "---|" * 10]
    for lib, r in res.items():
        if "error" in r:
            lines.append(f"| {lib} | failed: {r['error']} |" + " |" * 8)
            rows.append({"library": lib, "error": r["error"]})
            continue
        tf, ts, tt = min(r["t_fit"]), min(r["t_se"]), min(r["t_total"])
        pk = r["peak_bytes"]
        dc = float(np.max(np.abs(np.asarray(r["coef"]) - ref_c))) if ref_c is not None else None
        ds = float(np.max(np.abs(np.asarray(r["se"]) - ref_s))) if ref_s is not None else None
        row = {"library": lib, "fit_s": tf, "se_s": ts, "total_s": tt,
               "ratio": tt / ref_t if ref_t else None, "n_iter": r["n_iter"],
               "peak_mb": pk / 1e6 if pk is not None else None,
               "peak_x_design": pk / design if pk is not None else None,
               "max_coef_diff": dc, "max_se_diff": ds}
        rows.append(row)
        f = lambda v, fmt: "n/a" if v is None else format(v, fmt)  # noqa: E731
        lines.append(f"| {lib} | {tf:.3f} | {f(ts or None, '.3f') if ts else '-'} | {tt:.3f} | "
                     f"{f(row['ratio'], '.2f')} | {r['n_iter']} | {f(row['peak_mb'], '.0f')} | "
                     f"{f(row['peak_x_design'], '.2f')} | {f(dc, '.1e')} | {f(ds, '.1e')} |")
    return "\n".join(lines), rows


def verdict(n: int, p: int, rows: list[dict]) -> list[str]:
    by = {r["library"]: r for r in rows if "error" not in r}
    g = by.get("glmlogit")
    if not g:
        return ["glmlogit failed: no verdict"]
    others = [r for k, r in by.items() if k not in ("glmlogit", "numpy floor")]
    out = []
    if others:
        fastest = all(g["total_s"] < r["total_s"] for r in others)
        out.append(f"fastest of the libraries run: {'yes' if fastest else 'NO'}")
    else:
        out.append("fastest of the libraries: n/a (no other library was run)")
    if "statsmodels GLM" in by:
        s = by["statsmodels GLM"]["total_s"] / g["total_s"]
        out.append(f">= 10x faster than statsmodels GLM: {'yes' if s >= 10 else 'NO'} ({s:.1f}x)")
    if "numpy floor" in by:
        f = g["total_s"] / by["numpy floor"]["total_s"]
        out.append(f"within 2x of the NumPy floor: {'yes' if f <= 2 else 'NO'} ({f:.2f}x the floor; "
                   f"glmlogit fits in {g['n_iter']} iterations, the floor in {by['numpy floor']['n_iter']})")
    if g["peak_x_design"] is not None:
        m = g["peak_x_design"]
        out.append(f"peak memory above input <= 1.5x design: {'yes' if m <= 1.5 else 'NO'} ({m:.2f}x)")
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="10x smaller n (smoke test)")
    ap.add_argument("--repeats", type=int, default=3, help="runs per library; the minimum time is kept")
    ap.add_argument("--json", metavar="PATH", help="also write all results to this JSON file")
    ap.add_argument("--libs", help="comma-separated subset of: " + ", ".join(LIBS))
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per library per case")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--p", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        child(a.child, a.n, a.p, a.repeats, a.out)
        return
    libs = LIBS if not a.libs else [s.strip() for s in a.libs.split(",")]
    if "glmlogit" not in libs:
        libs = ["glmlogit"] + libs
    cases = [(n // 10 if a.quick else n, p) for n, p in FULL_CASES]
    info = machine_info()
    info["loadavg_start"] = os.getloadavg()
    print(f"# bench_fit  {info['date']}  (repeats={a.repeats}, min time, max peak{', QUICK' if a.quick else ''})")
    print(f"# CPU: {info.get('cpu')} (family/model {info.get('cpu_family_model')}; {info.get('cpu_flags')}), "
          f"{info.get('usable_cpus', info['logical_cpus'])} usable of {info['logical_cpus']} logical CPUs, "
          f"{info.get('mem_total_gb')} GB RAM")
    print(f"# Python {info['python']} on {info['platform']}")
    print("# versions: " + ", ".join(f"{k} {v}" for k, v in info["versions"].items())
          + f" (glmlogit at git {info['glmlogit_git']})")
    print(f"# numpy BLAS (build): {info.get('numpy_blas')}")
    print(f"# BLAS/thread env: {info['blas_env'] or '(none set)'}")
    print(f"# load average at start: {' '.join(f'{x:.2f}' for x in info['loadavg_start'])}")
    out = {"machine": info, "cases": []}
    for n, p in cases:
        print(f"\n## n = {n:,}, p = {p} (design {n * p * 8 / 1e6:.0f} MB)", flush=True)
        res = run_case(n, p, a.repeats, libs, a.timeout)
        txt, rows = table(n, p, res)
        tp = next((r.get("threadpools") for r in res.values() if r.get("threadpools")), None)
        mm = next((r.get("mem_method") for r in res.values() if r.get("mem_method")), None)
        print(txt)
        print(f"\nsklearn: its 'se' column is (X'WX)^-1 computed from its coefficients (it has none); "
              f"glum: 'se' is covariance_matrix(X, y). Peak memory: {mm}, above the RSS before the fit.")
        for line in verdict(n, p, rows):
            print("- " + line)
        out["cases"].append({"n": n, "p": p, "rows": rows, "raw": res})
        if tp and "threadpools" not in info:
            info["threadpools"] = tp
    info["loadavg_end"] = os.getloadavg()
    if info.get("threadpools"):
        print("\n# BLAS at run time (threadpoolctl, in the glmlogit child):")
        for d in info["threadpools"]:
            print(f"#   {d['internal_api']} {d['version']} {d['architecture']} threads={d['num_threads']} "
                  f"{os.path.basename(d['filepath'] or '')}")
    print(f"# load average at end: {' '.join(f'{x:.2f}' for x in info['loadavg_end'])}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1, default=float)
        print(f"# wrote {a.json}")


if __name__ == "__main__":
    main()
