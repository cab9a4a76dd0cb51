"""Compiled kernels of the dense pass (numba, optional): one sweep over a block of rows.

Two kernels, both walking the block in row tiles that stay in the L1/L2 cache:

* :func:`cross_products` -- ``X'WX`` (upper triangle) and ``X'u`` given the IRLS weights W and
  score terms u, for every family: each weighted column is formed once and dotted with the
  columns to its right.  NumPy's route (scale a copy of the block by sqrt(W), then BLAS ``syrk``)
  sweeps the block three times and runs OpenBLAS's small-matrix code: about 17-29 ns per row at
  p = 11 on one core here, against 6-9 ns.
* :func:`logit_pass` -- the whole pass of the binomial/logit model at ``beta``: the linear
  predictor, the means, W, u, the deviance, the Pearson chi-squared, the cross products, and
  when asked the separation screen's row reductions (``_screen_terms``: written branch-free, so
  they cost about 1 ns a row against 12 ns for the same loop with branches, at p = 11).
  Its ``exp`` and ``log1p`` are written out (range reduction and a polynomial, below) so that
  the compiler vectorises them: NumPy's pointwise code for the same terms makes some fifteen
  sweeps over the block and was half of a pass.

Without numba (the ``fast`` extra), or with the environment variable ``GLMLOGIT_NO_NUMBA=1``, both
functions return None and the callers use NumPy and BLAS.  The routes agree to rounding (tested
to 1e-12 relative, ``tests/test_kernels.py``); the kernels add in a different order.  One process
uses one route throughout, so fits that replay the same blocks (the Dask spill cache) stay
bit-identical.

Floating point: only the reductions (the sums over rows) are compiled with reassociation, which
lets LLVM keep several partial sums in vector registers.  The pointwise functions are compiled
without it: Cody-Waite range reduction and the log1p correction term rely on the order of their
operations (reassociation folds ``t - ((1 + t) - 1)`` to zero).  Their accuracy against NumPy
(tested): exp within 1 ulp, log1p within 4 ulp.
"""

from __future__ import annotations

import math
import os
import threading
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

_TILE = 256  # rows per tile: at p = 11 a tile of X (22 KB) stays in L1 (512: 4-7% slower passes)

# exp: x = k ln2 + r with |r| <= ln2 / 2, exp(r) by its Taylor polynomial of degree 13 (the
# remainder r^14 / 14! < 1e-17 relative), 2^k put in the exponent bits.  ln2 in two parts: the
# high part has trailing zero bits, so that k * _LN2_HI is exact for |k| < 2^11.
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_LOG2E = 1.4426950408889634
_EXP_C = tuple(1.0 / math.factorial(i) for i in range(14))
# log1p(t), 0 <= t <= 1: z = fl(1 + t) and log1p(t) = log(z) + (t - (z - 1)) / z; log(z) with z
# halved above sqrt(2) (k = 1), f = z - 1 (exact), s = f / (2 + f), log(1 + f) = 2 atanh(s) =
# 2 s + s * (sum_{n >= 1} 2 s^(2n) / (2n + 1)), |s| <= 0.1716: 11 terms leave < 1e-18.
_SQRT2 = math.sqrt(2.0)
_LOG_C = tuple(2.0 / (2 * n + 1) for n in range(12))
_EXP_MIN = -708.0  # exp of anything below is returned as 0 (the true value is < 3.3e-308)

# the separation screen's reductions before any row: [n_pos, S, q_min, d_min]
SCREEN_START = np.array([0.0, 0.0, np.inf, np.inf])

_lock = threading.Lock()
_built: dict[str, Any] = {}
_resolved = False


# --- the Python sources of the kernels (compiled by _build; also runnable as plain Python) ----
def _exp_nonpositive(x, out, bits, m):
    """out[i] = exp(x[i]) for i < m and x <= 0 (0 below _EXP_MIN).  ``bits``: int64 scratch."""
    c = _EXP_C
    fb = bits.view(np.float64)
    for i in range(m):
        xi = max(x[i], _EXP_MIN)
        k = math.floor(xi * _LOG2E + 0.5)
        r = (xi - k * _LN2_HI) - k * _LN2_LO
        q = c[13]
        q = q * r + c[12]
        q = q * r + c[11]
        q = q * r + c[10]
        q = q * r + c[9]
        q = q * r + c[8]
        q = q * r + c[7]
        q = q * r + c[6]
        q = q * r + c[5]
        q = q * r + c[4]
        q = q * r + c[3]
        q = q * r + c[2]
        q = q * r + 1.0
        q = q * r + 1.0
        bits[i] = (np.int64(k) + 1023) << 52
        out[i] = q * fb[i] if x[i] >= _EXP_MIN else 0.0


def _log1p_unit(t, out, m):
    """out[i] = log1p(t[i]) for i < m and 0 <= t <= 1."""
    c = _LOG_C
    for i in range(m):
        ti = t[i]
        z = 1.0 + ti
        corr = (ti - (z - 1.0)) / z
        big = z > _SQRT2
        zz = z * 0.5 if big else z
        kk = 1.0 if big else 0.0
        f = zz - 1.0
        s = f / (2.0 + f)
        s2 = s * s
        q = c[11]
        q = q * s2 + c[10]
        q = q * s2 + c[9]
        q = q * s2 + c[8]
        q = q * s2 + c[7]
        q = q * s2 + c[6]
        q = q * s2 + c[5]
        q = q * s2 + c[4]
        q = q * s2 + c[3]
        q = q * s2 + c[2]
        q = q * s2 + c[1]
        out[i] = kk * _LN2_HI + ((s * (q * s2) + 2.0 * s) + (kk * _LN2_LO + corr))


def _logit_terms(eta, y, wt, r0, m, t, lg, W, U, mu_out):
    """Tile terms of the logit model at rows r0..r0+m of y, wt (empty: unit weights) and mu_out
    (empty: not kept): with t = exp(-|eta|) and lg = log1p(t) given, W = wt mu (1 - mu),
    U = wt (y - mu), lg = wt (-log-likelihood + saturated term).  No reductions here (compiled
    without reassociation)."""
    for i in range(m):
        e = eta[i]
        ti = t[i]
        inv = 1.0 / (1.0 + ti)
        yi = y[r0 + i]
        W[i] = ti * inv * inv
        U[i] = yi - (inv if e >= 0.0 else ti * inv)
        lg[i] = max(e, 0.0) + lg[i] - yi * e
    if mu_out.shape[0] > 0:
        for i in range(m):
            inv = 1.0 / (1.0 + t[i])
            mu_out[r0 + i] = inv if eta[i] >= 0.0 else t[i] * inv
    frac = 0
    for i in range(m):
        yi = y[r0 + i]
        frac += (yi > 0.0) & (yi < 1.0)
    if frac:  # proportions: the saturated model's entropy term (rare: scalar logs)
        for i in range(m):
            yi = y[r0 + i]
            if 0.0 < yi < 1.0:
                lg[i] += yi * math.log(yi) + (1.0 - yi) * math.log(1.0 - yi)
    if wt.shape[0] > 0:
        for i in range(m):
            wi = wt[r0 + i]
            W[i] *= wi
            U[i] *= wi
            lg[i] *= wi


def _screen_terms(eta, y, wt, r0, m, t, scr):
    """The separation screen's row minima (separation.screen_reductions) over rows r0..r0+m,
    folded into ``scr`` = [rows with positive weight, S (added by the caller: the pass's Pearson
    chi-squared), min of w_i exp(-r_i), min of d_i], with t = exp(-|eta|) given.  A row is
    "near" when its observed side has the smaller fitted probability (r_i = |eta_i|; every
    proportion): then d_i = t / (1 + t) and exp(-r_i) = t; otherwise (r_i = -|eta_i|)
    d_i = 1 / (1 + t) and exp(-r_i) = 1 / t.  Branch-free, so that the loops vectorise: with
    unit weights the far rows' 1 / t enter as the maximum of t (no division per row)."""
    q_min = scr[2]
    d_min = scr[3]
    if wt.shape[0] == 0:
        t_far = 0.0  # the largest t of a far row: the smallest exp(-r) of a far row is 1 / t_far
        for i in range(m):
            ti = t[i]
            yi = y[r0 + i]
            near = ((eta[i] >= 0.0) == (yi >= 1.0)) | ((yi > 0.0) & (yi < 1.0))
            inv = 1.0 / (1.0 + ti)
            d_min = min(d_min, ti * inv if near else inv)
            q_min = min(q_min, ti if near else np.inf)
            t_far = max(t_far, 0.0 if near else ti)
        if t_far > 0.0:
            q_min = min(q_min, 1.0 / t_far)
        scr[0] += m
        scr[2] = q_min
        scr[3] = d_min
        return
    n_pos = 0.0
    for i in range(m):
        ti = t[i]
        yi = y[r0 + i]
        wi = wt[r0 + i]
        near = ((eta[i] >= 0.0) == (yi >= 1.0)) | ((yi > 0.0) & (yi < 1.0))
        live = wi > 0.0
        n_pos += 1.0 if live else 0.0
        inv = 1.0 / (1.0 + ti)
        d = ti * inv if near else inv
        q_min = min(q_min, (wi * ti if near else wi / ti) if live else np.inf)
        d_min = min(d_min, d if live else np.inf)
    scr[0] += n_pos
    scr[2] = q_min
    scr[3] = d_min


def _cross(X, r0, r1, W, U, H, g, t):
    # H[j, k] (k >= j) += sum_i X[i, j] W[i] X[i, k] and g[j] += sum_i X[i, j] U[i] over rows
    # r0 <= i < r1 of X; W, U indexed from 0; t: scratch of at least r1 - r0.
    p = X.shape[1]
    m = r1 - r0
    for j in range(p):
        xj = X[r0:r1, j]
        sg = 0.0
        for i in range(m):
            v = xj[i]
            t[i] = v * W[i]
            sg += v * U[i]
        g[j] += sg
        k = j
        while k + 7 < p:  # eight independent sums: enough to hide the FMA latency
            x0 = X[r0:r1, k]
            x1 = X[r0:r1, k + 1]
            x2 = X[r0:r1, k + 2]
            x3 = X[r0:r1, k + 3]
            x4 = X[r0:r1, k + 4]
            x5 = X[r0:r1, k + 5]
            x6 = X[r0:r1, k + 6]
            x7 = X[r0:r1, k + 7]
            s0 = 0.0
            s1 = 0.0
            s2 = 0.0
            s3 = 0.0
            s4 = 0.0
            s5 = 0.0
            s6 = 0.0
            s7 = 0.0
            for i in range(m):
                a = t[i]
                s0 += a * x0[i]
                s1 += a * x1[i]
                s2 += a * x2[i]
                s3 += a * x3[i]
                s4 += a * x4[i]
                s5 += a * x5[i]
                s6 += a * x6[i]
                s7 += a * x7[i]
            H[j, k] += s0
            H[j, k + 1] += s1
            H[j, k + 2] += s2
            H[j, k + 3] += s3
            H[j, k + 4] += s4
            H[j, k + 5] += s5
            H[j, k + 6] += s6
            H[j, k + 7] += s7
            k += 8
        while k + 3 < p:
            x0 = X[r0:r1, k]
            x1 = X[r0:r1, k + 1]
            x2 = X[r0:r1, k + 2]
            x3 = X[r0:r1, k + 3]
            s0 = 0.0
            s1 = 0.0
            s2 = 0.0
            s3 = 0.0
            for i in range(m):
                a = t[i]
                s0 += a * x0[i]
                s1 += a * x1[i]
                s2 += a * x2[i]
                s3 += a * x3[i]
            H[j, k] += s0
            H[j, k + 1] += s1
            H[j, k + 2] += s2
            H[j, k + 3] += s3
            k += 4
        while k < p:
            xk = X[r0:r1, k]
            s0 = 0.0
            for i in range(m):
                s0 += t[i] * xk[i]
            H[j, k] += s0
            k += 1


def _cross_block(X, s, e, w, u, H, g, t):
    """X'WX (upper) and X'u over rows s..e of a Fortran-ordered X; w, u indexed from 0."""
    T = t.shape[0]
    for r0 in range(s, e, T):
        r1 = min(r0 + T, e)
        _cross_nb(X, r0, r1, w[r0 - s : r1 - s], u[r0 - s : r1 - s], H, g, t)


def _logit_pass(X, s, e, y, wt, off, beta, H, g, eta_out, mu_out, scratch, bits, scr):
    """The logit pass over rows s..e of a Fortran-ordered X.  ``y``, ``wt`` (empty: unit
    weights), ``off`` (empty: none), ``eta_out`` and ``mu_out`` (empty: not kept) are indexed
    like the rows of X.  ``scratch``: 5 x tile float64; ``bits``: tile int64; ``scr``: the
    separation screen's four reductions, updated in place (empty: not wanted).  Returns
    (deviance, Pearson chi2, valid); valid is False at a non-finite eta (nothing else is then
    meaningful)."""
    p = X.shape[1]
    T = scratch.shape[1]
    eta = scratch[0]
    tt = scratch[1]
    lg = scratch[2]
    W = scratch[3]
    U = scratch[4]
    dev = 0.0
    pear = 0.0
    for r0 in range(s, e, T):
        r1 = min(r0 + T, e)
        m = r1 - r0
        if off.shape[0] > 0:
            for i in range(m):
                eta[i] = off[r0 + i]
        else:
            for i in range(m):
                eta[i] = 0.0
        for j in range(p):
            bj = beta[j]
            xj = X[r0:r1, j]
            for i in range(m):
                eta[i] += xj[i] * bj
        bad = 0.0
        for i in range(m):
            v = eta[i]
            bad += v - v  # nan for an inf or nan eta
            tt[i] = -abs(v)
        if bad != 0.0:
            return np.inf, 0.0, False
        if eta_out.shape[0] > 0:
            for i in range(m):
                eta_out[r0 + i] = eta[i]
        _exp_nb(tt, tt, bits, m)
        _log1p_nb(tt, lg, m)
        if scr.shape[0] > 0:
            _screen_nb(eta, y, wt, r0, m, tt, scr)
        _terms_nb(eta, y, wt, r0, m, tt, lg, W, U, mu_out)
        for i in range(m):
            dev += lg[i]
            wi = W[i]
            ui = U[i]
            if wi > 0.0 or ui != 0.0:  # rows of zero prior weight (u = W = 0) add 0
                pear += ui * ui / wi
        _cross_nb(X, r0, r1, W, U, H, g, tt)
    if scr.shape[0] > 0:
        scr[1] += pear
    return 2.0 * dev, pear, True


# the compiled pieces, set by _build (the kernels above call them by these global names)
_exp_nb: Any = None
_log1p_nb: Any = None
_terms_nb: Any = None
_cross_nb: Any = None
_screen_nb: Any = None


# --- compiling ---------------------------------------------------------------------------------
def _build() -> dict[str, Any]:
    try:
        import numba
    except ImportError:
        return {}
    red = {"reassoc", "contract", "nsz"}  # the reductions: vectorised partial sums

    def jit(fn, fastmath, cache):
        return numba.njit(
            fastmath=fastmath, nogil=True, boundscheck=False, error_model="numpy", cache=cache
        )(fn)

    def attempt(cache: bool) -> dict[str, Any]:
        g = globals()
        g["_exp_nb"] = jit(_exp_nonpositive, {"contract"}, cache)
        g["_log1p_nb"] = jit(_log1p_unit, {"contract"}, cache)
        g["_terms_nb"] = jit(_logit_terms, {"contract"}, cache)
        g["_cross_nb"] = jit(_cross, red, cache)
        g["_screen_nb"] = jit(_screen_terms, red, cache)
        out = {
            "cross_block": jit(_cross_block, red, cache),
            "logit_pass": jit(_logit_pass, red, cache),
        }
        _self_check(out)
        return out

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba's own notices (e.g. a cache it cannot write)
        try:
            return attempt(True)
        except Exception:  # noqa: BLE001 - e.g. no writable cache location: compile per process
            try:
                return attempt(False)
            except Exception:  # noqa: BLE001 - numba unusable here: the NumPy route
                return {}


def _self_check(k: dict[str, Any]) -> None:
    """Compile the one signature each kernel is called with, and check a tiny case."""
    X = np.asfortranarray([[1.0, 0.5], [1.0, -1.0], [1.0, 2.0]])
    H, g = np.zeros((2, 2)), np.zeros(2)
    k["cross_block"](X, 0, 3, np.ones(3), np.ones(3), H, g, np.empty(_TILE))
    if not (H[0, 0] == 3.0 and H[0, 1] == 1.5 and g[1] == 1.5):
        raise RuntimeError("numba cross-product kernel self-check failed")
    y = np.array([1.0, 0.0, 1.0])
    e0 = np.empty(0)
    sc, bits = np.empty((5, _TILE)), np.empty(_TILE, np.int64)
    H[:] = 0.0
    g[:] = 0.0
    beta = np.array([0.2, -0.3])
    cases = ((e0, e0, e0, e0), (np.ones(3), np.zeros(3), np.empty(3), np.empty(4)))
    for wt, off, keep, scr in cases:
        scr[:] = SCREEN_START[: len(scr)]
        dev, _pe, ok = k["logit_pass"](X, 0, 3, y, wt, off, beta, H, g, keep, keep, sc, bits, scr)
        eta = X @ beta
        ref = 2.0 * float(np.sum(np.logaddexp(0.0, eta) - y * eta))
        if not (ok and abs(dev - ref) <= 1e-12 * ref):
            raise RuntimeError("numba logit kernel self-check failed")


def _kernels() -> dict[str, Any]:
    global _resolved
    if not _resolved:
        with _lock:  # worker threads may ask at once: build once
            if not _resolved:
                if os.environ.get("GLMLOGIT_NO_NUMBA", "") in ("", "0"):
                    _built.update(_build())
                _resolved = True
    return _built


def cross_products() -> Callable | None:
    """``cross_block(X, s, e, w, u, H, g, tile)``: adds X'WX (upper triangle) to H and X'u to g
    over rows s..e of a Fortran-ordered X (``w``, ``u`` indexed from 0; ``tile`` a float64
    scratch vector), or None without numba."""
    return _kernels().get("cross_block")


def logit_pass() -> Callable | None:
    """``logit_pass(X, s, e, y, wt, off, beta, H, g, eta_out, mu_out, scratch, bits, scr)``
    (see ``_logit_pass``), or None without numba."""
    return _kernels().get("logit_pass")


def scratch() -> tuple[np.ndarray, np.ndarray]:
    """Scratch arrays for one caller of :func:`logit_pass` (or :func:`cross_products`, which
    takes ``scratch[0]``)."""
    return np.empty((5, _TILE)), np.empty(_TILE, np.int64)
