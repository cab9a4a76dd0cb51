"""Rows held as arrays of any array namespace: NumPy, or CuPy on a GPU (the array API).

The same pass as :class:`~glmlogit.engine.rows.DenseRows`, written against a namespace ``xp``:
row blocks, eta = X beta + offset, the family's pointwise terms, X'WX and the score, summed on the
device; only the p x p / p results travel to the host, where irls does the p x p algebra.

The families' ``irls_terms`` are NumPy (and SciPy) code, so the pointwise terms of the common
family/link pairs are written here in namespace-generic form (only functions of the array API
standard: exp, log, log1p, expm1, sqrt, abs, maximum, minimum, where, sum, all, isfinite);
binomial with logit/log/cloglog/identity, poisson with log/identity/sqrt, gaussian with
identity/log/inverse, gamma with inverse/identity/log, inverse Gaussian with
1/mu^2, inverse, identity, log.  Any other pair (probit, cauchit: they need ndtr/ndtri/arctan
variants outside the standard) falls back to the family's NumPy code on host copies of each
block: correct, and free when ``xp`` is NumPy, slow on a GPU.

CuPy is never imported here: pass ``xp=cupy`` (or arrays from it; ``array_api_compat`` is used
to find the namespace when installed).  CPU-only machines need nothing beyond NumPy.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

from ..families import Family
from .rows import PassStats

_EPS = float(np.finfo(float).eps)


def namespace(*arrays, xp=None):
    """The array namespace of ``arrays`` (array_api_compat if installed, else the module that
    defines the array type, else NumPy), or ``xp`` itself when given."""
    if xp is not None:
        return xp
    try:
        import array_api_compat

        return array_api_compat.array_namespace(*arrays)
    except ImportError:
        pass
    except TypeError:
        return np
    mod = type(arrays[0]).__module__.split(".")[0]
    if mod == "cupy":
        import importlib

        return importlib.import_module("cupy")
    return np


def to_host(a) -> np.ndarray:
    """A NumPy copy of a device array (CuPy's .get(), else the buffer/DLPack protocols)."""
    if isinstance(a, np.ndarray):
        return a
    get = getattr(a, "get", None)
    if callable(get):
        return np.asarray(get())
    try:
        return np.asarray(a)
    except TypeError:
        return np.from_dlpack(a)


# --- pointwise terms in any namespace --------------------------------------------------------------
class _Terms:
    """The family/link pointwise maps in namespace-generic form (None if not available)."""

    def __init__(self, family: Family, xp):
        self.xp = xp
        self.family = family
        self.fam = family.name
        self.link = family.link.name
        self.ok = self._supported()

    _LINKS = {"logit", "log", "identity", "inverse", "cloglog", "sqrt", "inverse_squared"}

    def _supported(self) -> bool:
        return (
            self.fam in ("binomial", "poisson", "gaussian", "gamma", "inverse_gaussian")
            and self.link in self._LINKS
        )

    # links
    def linkfun(self, mu):
        xp, lk = self.xp, self.link
        if lk == "logit":
            return xp.log(mu / (1.0 - mu))
        if lk == "log":
            return xp.log(mu)
        if lk == "identity":
            return mu
        if lk == "inverse":
            return 1.0 / mu
        if lk == "cloglog":
            return xp.log(-xp.log1p(-mu))
        if lk == "sqrt":
            return xp.sqrt(mu)
        return 1.0 / (mu * mu)  # inverse_squared

    def inverse(self, eta):
        xp, lk = self.xp, self.link
        if lk == "logit":
            return 1.0 / (1.0 + xp.exp(-eta))
        if lk == "log":
            return xp.maximum(xp.exp(eta), _EPS)
        if lk == "identity":
            return eta
        if lk == "inverse":
            return 1.0 / eta
        if lk == "cloglog":
            return xp.minimum(xp.maximum(-xp.expm1(-xp.exp(eta)), _EPS), 1.0 - _EPS)
        if lk == "sqrt":
            return eta * eta
        return 1.0 / xp.sqrt(eta)

    def mu_eta(self, eta):
        xp, lk = self.xp, self.link
        if lk == "logit":
            return (1.0 / (1.0 + xp.exp(-eta))) * (1.0 / (1.0 + xp.exp(eta)))
        if lk == "log":
            return xp.maximum(xp.exp(eta), _EPS)
        if lk == "identity":
            return xp.ones_like(eta)
        if lk == "inverse":
            return -1.0 / (eta * eta)
        if lk == "cloglog":
            e = xp.minimum(eta, 700.0)
            return xp.maximum(xp.exp(e - xp.exp(e)), _EPS)
        if lk == "sqrt":
            return 2.0 * eta
        return -1.0 / (2.0 * eta * xp.sqrt(eta))  # eta**1.5

    def valid_eta(self, eta) -> bool:
        xp = self.xp
        ok = xp.all(xp.isfinite(eta))
        if self.link == "inverse":
            ok = ok & xp.all(eta != 0)
        elif self.link in ("sqrt", "inverse_squared"):
            ok = ok & xp.all(eta > 0)
        return bool(ok)

    # families
    def variance(self, mu):
        f = self.fam
        if f == "binomial":
            return mu * (1.0 - mu)
        if f == "poisson":
            return mu
        if f == "gaussian":
            return self.xp.ones_like(mu)
        if f == "gamma":
            return mu * mu
        return mu * mu * mu

    def valid_mu(self, mu) -> bool:
        xp = self.xp
        ok = xp.all(xp.isfinite(mu))
        if self.fam == "binomial" and self.link != "logit":
            ok = ok & xp.all((mu > 0) & (mu < 1))
        elif self.fam in ("poisson", "gamma", "inverse_gaussian"):
            ok = ok & xp.all(mu > 0)
        return bool(ok)

    def starting_mu(self, y, wt):
        if self.fam == "binomial":
            return (wt * y + 0.5) / (wt + 1.0)
        if self.fam == "poisson":
            return y + 0.1
        return y

    def _ylogy(self, y, mu):
        xp = self.xp
        pos = y > 0
        ys = xp.where(pos, y, 1.0)
        return xp.where(pos, ys * xp.log(ys / mu), 0.0)

    def deviance_terms(self, y, mu, wt, eta):
        xp, f = self.xp, self.fam
        if f == "binomial":
            if self.link == "logit":
                nll = xp.maximum(eta, 0.0) + xp.log1p(xp.exp(-xp.abs(eta))) - y * eta
                frac = (y > 0) & (y < 1)
                yf = xp.where(frac, y, 0.5)
                ent = yf * xp.log(yf) + (1.0 - yf) * xp.log1p(-yf)
                return 2.0 * wt * (nll + xp.where(frac, ent, 0.0))
            return 2.0 * wt * (self._ylogy(y, mu) + self._ylogy(1.0 - y, 1.0 - mu))
        if f == "poisson":
            return 2.0 * wt * (self._ylogy(y, mu) - (y - mu))
        if f == "gaussian":
            return wt * (y - mu) ** 2
        if f == "gamma":
            return -2.0 * wt * (xp.log(y / mu) - (y - mu) / mu)
        return wt * ((y - mu) ** 2) / (y * mu * mu)

    def irls_terms(self, y, eta, wt):
        """(mu, w, u, summed deviance), as Family.irls_terms (same shortcut for canonical
        links, so that the NumPy namespace reproduces DenseRows to rounding)."""
        mu = self.inverse(eta)
        if self.family.canonical and self.family.unit_canonical:
            w = wt * self.variance(mu)
            u = wt * (y - mu)
        else:
            d = self.mu_eta(eta)
            v = self.variance(mu)
            w = wt * d * d / v
            u = wt * d * (y - mu) / v
        dev = float(self.xp.sum(self.deviance_terms(y, mu, wt, eta)))
        return mu, w, u, dev


class XpRows:
    """Dense rows in an array namespace (NumPy, CuPy, ...); the irls rows protocol.

    Parameters
    ----------
    X, y, weights, offset : arrays of the namespace (NumPy arrays are moved to ``xp`` with
        ``xp.asarray``: for CuPy, one host-to-device copy).
    xp : the namespace; found from ``X`` when None.
    chunk_rows : rows per block (default: about 256 MiB of X per block on a GPU namespace, 2 MiB
        on NumPy, as DenseRows).
    host_eta : ``linear_predictor`` returns a NumPy array (what GLMResults needs) when True; the
        device array when False (a caller that keeps per-row work on the device).
    """

    def __init__(
        self,
        X,
        y,
        weights=None,
        offset=None,
        xp=None,
        *,
        chunk_rows: int | None = None,
        host_eta: bool = True,
    ):
        xp = namespace(X, xp=xp)
        self.xp = xp
        self.X = xp.asarray(X, dtype=xp.float64)
        self.n, self.p = (int(s) for s in self.X.shape)
        self.y_dev = xp.asarray(y, dtype=xp.float64)
        self.w_dev = (
            xp.ones(self.n, dtype=xp.float64)
            if weights is None
            else xp.asarray(weights, dtype=xp.float64)
        )
        self.o_dev = (
            xp.zeros(self.n, dtype=xp.float64)
            if offset is None
            else xp.asarray(offset, dtype=xp.float64)
        )
        on_host = xp is np or getattr(xp, "__name__", "").endswith("numpy")
        per_block = (1 << 21) if on_host else (1 << 28)
        self.chunk = int(chunk_rows or max(256, min(self.n, per_block // (8 * max(self.p, 1)))))
        self.host_eta = host_eta
        self._ybar: float | None = None

    # irls' _feasible_anchor reads rows.weights and rows.y: scalars standing for the weighted
    # mean (no n-vector crosses to the host).
    @property
    def y(self) -> float:
        return self.weighted_mean_response()

    @property
    def weights(self) -> float:
        return 1.0

    def weighted_mean_response(self) -> float:
        if self._ybar is None:
            xp = self.xp
            self._ybar = float(xp.sum(self.w_dev * self.y_dev)) / float(xp.sum(self.w_dev))
        return self._ybar

    def _spans(self):
        for s in range(0, self.n, self.chunk):
            yield s, min(s + self.chunk, self.n)

    def _beta(self, beta):
        return self.xp.asarray(np.asarray(beta, dtype=float), dtype=self.xp.float64)

    # -- the one pass -----------------------------------------------------------------------
    def accumulate(self, family: Family, beta: np.ndarray | None) -> PassStats:
        xp, p = self.xp, self.p
        t = _Terms(family, xp)
        b = None if beta is None else self._beta(beta)
        H = xp.zeros((p, p), dtype=xp.float64)
        rhs = xp.zeros(p, dtype=xp.float64)
        dev = 0.0
        bad = PassStats(np.zeros((p, p)), np.zeros(p), np.inf, False)
        with np.errstate(all="ignore"):
            for s, e in self._spans():
                Xc, yc, wc, oc = self.X[s:e, :], self.y_dev[s:e], self.w_dev[s:e], self.o_dev[s:e]
                if t.ok:
                    eta = t.linkfun(t.starting_mu(yc, wc)) if b is None else Xc @ b + oc
                    if not t.valid_eta(eta):
                        return bad
                    mu, w, u, d = t.irls_terms(yc, eta, wc)
                    if not t.valid_mu(mu) or not np.isfinite(d):
                        return bad
                else:  # the family's NumPy code on host copies of this block
                    yh, wh, oh = to_host(yc), to_host(wc), to_host(oc)
                    link = family.link
                    if b is None:
                        etah = link.link(family.starting_mu(yh, wh))
                    else:
                        etah = to_host(Xc @ b) + oh
                    if not link.valid_eta(etah):
                        return bad
                    muh, wh2, uh, d = family.irls_terms(yh, etah, wh)
                    if not family.valid_mu(muh) or not np.isfinite(d):
                        return bad
                    eta, w, u = xp.asarray(etah), xp.asarray(wh2), xp.asarray(uh)
                if b is None:
                    u = w * (eta - oc) + u  # X'Wz on the starting pass
                Xs = Xc * xp.sqrt(w)[:, None]
                H = H + Xs.T @ Xs
                rhs = rhs + Xc.T @ u
                dev += d
        Hh = to_host(H)
        Hh = np.triu(Hh) + np.triu(Hh, 1).T
        return PassStats(
            np.ascontiguousarray(Hh), to_host(rhs).copy(), float(dev), np.isfinite(dev)
        )

    def gradient(self, family: Family, beta: np.ndarray, rows: slice | None = None):
        xp = self.xp
        t = _Terms(family, xp)
        lo, hi = (0, self.n) if rows is None else (rows.start or 0, min(rows.stop, self.n))
        b = self._beta(beta)
        g = xp.zeros(self.p, dtype=xp.float64)
        dev = 0.0
        with np.errstate(all="ignore"):
            for s in range(lo, hi, self.chunk):
                e = min(s + self.chunk, hi)
                Xc = self.X[s:e, :]
                eta = Xc @ b + self.o_dev[s:e]
                yc, wc = self.y_dev[s:e], self.w_dev[s:e]
                if t.ok:
                    if not t.valid_eta(eta):
                        return np.inf, np.zeros(self.p), False
                    mu, _, u, d = t.irls_terms(yc, eta, wc)
                    if not t.valid_mu(mu) or not np.isfinite(d):
                        return np.inf, np.zeros(self.p), False
                else:
                    etah = to_host(eta)
                    if not family.link.valid_eta(etah):
                        return np.inf, np.zeros(self.p), False
                    muh, _, uh, d = family.irls_terms(to_host(yc), etah, to_host(wc))
                    if not family.valid_mu(muh) or not np.isfinite(d):
                        return np.inf, np.zeros(self.p), False
                    u = xp.asarray(uh)
                g = g + Xc.T @ u
                dev += d
        return float(dev), to_host(g).copy(), True

    def linear_predictor(self, beta: np.ndarray):
        eta = self.X @ self._beta(beta) + self.o_dev
        return to_host(eta) if self.host_eta else eta

    def fitted(self, family: Family, beta: np.ndarray):
        """(eta, mu) at beta: NumPy arrays when ``host_eta``, else arrays of the namespace
        (mu from the namespace-generic link when there is one)."""
        eta = self.X @ self._beta(beta) + self.o_dev
        if self.host_eta:
            eh = to_host(eta)
            return eh, family.link.inverse(eh)
        t = _Terms(family, self.xp)
        if t.ok:
            return eta, t.inverse(eta)
        return eta, self.xp.asarray(family.link.inverse(to_host(eta)))

    def column_norms(self, cols: np.ndarray) -> np.ndarray:
        xp = self.xp
        idx = xp.asarray(np.asarray(cols, dtype=np.int64))
        out = xp.zeros(len(cols), dtype=xp.float64)
        for s, e in self._spans():
            Xc = xp.take(self.X[s:e, :], idx, axis=1)
            out = out + xp.sum(Xc * Xc * self.w_dev[s:e][:, None], axis=0)
        return np.sqrt(to_host(out))

    def weighted_r(self, cols: np.ndarray) -> np.ndarray:
        """R of sqrt(w) X[:, cols], block by block on the host (TSQR; only used to confirm
        that a column is aliased, which is rare)."""
        xp = self.xp
        idx = xp.asarray(np.asarray(cols, dtype=np.int64))
        k = len(cols)
        R = np.zeros((0, k))
        for s, e in self._spans():
            block = xp.take(self.X[s:e, :], idx, axis=1) * xp.sqrt(self.w_dev[s:e])[:, None]
            stack = np.vstack([R, to_host(block)])
            R = linalg.qr(stack, mode="r", check_finite=False)[0][: min(k, stack.shape[0])]
        return R

    def take_columns(self, cols) -> XpRows:
        xp = self.xp
        idx = xp.asarray(np.asarray(cols, dtype=np.int64))
        out = XpRows(
            xp.take(self.X, idx, axis=1),
            self.y_dev,
            self.w_dev,
            self.o_dev,
            xp=xp,
            host_eta=self.host_eta,
        )
        return out
