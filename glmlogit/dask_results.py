"""The model and results of a Dask fit (see :mod:`glmlogit.dask` for the fit itself).

:class:`DaskGLM` runs ``irls`` on :class:`~glmlogit.engine.dask_rows.DaskRows`;
:class:`DaskGLMResults` answers coefficient-level questions from the fit, takes the Pearson
chi-squared, the null deviance and (binomial, Poisson) both log-likelihoods from what the IRLS
passes summed, computes what they did not in one more pass over the partitions, robust
covariances in another, and returns per-row quantities (fitted values, residuals, predictions) as
lazy Dask Series.  The per-partition tasks are module-level functions (picklable for a
multi-process cluster).
"""

from __future__ import annotations

import contextlib
import sys
import warnings
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
import scipy.sparse as sp
from formulaic.errors import FormulaicError

from .engine.dask_rows import (
    DaskRows,
    ProgressRows,
    _blocks,
    null_fit,
    pearson_terms,
    tree_reduce,
)
from .engine.irls import Fit, irls
from .errors import (
    DataError,
    GlmlogitError,
    GlmlogitWarning,
    PerfectSeparationWarning,
    SeparationError,
)
from .families import Binomial, Family, Gamma, Gaussian, InverseGaussian
from .formula import require_columns
from .results import GLMResults

if TYPE_CHECKING:
    from .dask import DaskDesign
    from .dask_encode import _Encoder

__all__ = ["DaskGLM", "DaskGLMResults", "is_dask_collection"]


def is_dask_collection(data) -> bool:
    """True for a Dask DataFrame (checked without importing dask when it is not loaded)."""
    if "dask" not in sys.modules:
        return False
    return type(data).__module__.startswith("dask.") and hasattr(data, "npartitions")


# the separation LP brings the rows to the client up to this size (dense: 8 bytes an entry)
LP_COLLECT_BYTES = 2 * 2**30


class DaskGLM:
    """A GLM specification on Dask rows (the ``model`` of :class:`DaskGLMResults`)."""

    def __init__(self, family: Family, design: DaskDesign, rows: DaskRows, printer=None):
        self.family = family
        self.design = design
        self.rows = rows
        self._printer = printer
        self._fit_kw: dict = {}
        self.separation_check: str | None = None  # which step of the separation check decided

    def _wrap(self, rows, label="fit"):
        return ProgressRows(rows, self._printer, label)

    def fit(
        self,
        *,
        start=None,
        tol=1e-8,
        coef_tol=1e-10,
        max_iter=100,
        cov_type="nonrobust",
        groups=None,
        cluster_correction="stata",
        on_separation="warn",
    ) -> DaskGLMResults:
        if on_separation not in ("warn", "raise", "ignore"):
            extra = (
                " (Firth's fit is not available for Dask data)" if on_separation == "firth" else ""
            )
            raise GlmlogitError(
                f"on_separation must be 'warn', 'raise' or 'ignore' for Dask data{extra}, "
                f"got {on_separation!r}"
            )
        self._fit_kw = dict(tol=tol, coef_tol=coef_tol, max_iter=max_iter)
        fit = irls(
            self._wrap(self.rows),
            self.family,
            start=None if start is None else np.asarray(start, float),
            intercept_index=self.design.intercept_index,
            **self._fit_kw,
        )
        res = DaskGLMResults(
            self, fit, cov_type, {"groups": groups, "cluster_correction": cluster_correction}
        )
        if isinstance(self.family, Binomial):
            res.separation = self._check_separation(fit, on_separation)
        cache = self.rows.cache
        if cache is not None and cache.active and cache.n_cached:
            # While the decoded copy is on disk, a pass at the solution costs a fraction of a
            # read: compute what the summary needs now, before the caller closes the cache
            # (no pass at all for what the IRLS passes already summed).
            for name in ("pearson_chi2", "llf", "null_deviance", "llnull"):
                getattr(res, name)
            if cov_type not in ("nonrobust", "cluster"):
                res._cov  # noqa: B018
        return res

    def _check_separation(self, fit: Fit, on_separation: str):
        """As the in-memory fit: the screen's Newton test at the solution (one pass: a proof
        that the MLE exists), else the Konis LP on the rows brought to the client when they fit
        in ``LP_COLLECT_BYTES``; beyond that the heuristic in-memory sparse designs fall back on, and when
        it is in doubt too, None with a warning that separation was not ruled out.  Which of
        these decided is left in ``self.separation_check``: "screen" (the pass-free test),
        "certificate" (the test's pass), "lp", "heuristic" or "unproven"."""
        from .separation import (
            _D_FLOOR,
            PROB_TOL,
            coefficients_drift,
            decrement_proof,
            detect_separation,
            newton_decrement,
            no_separation,
            reduced_newton_proof,
            rounding_slack,
        )

        rows, d = self.rows, self.design
        p = len(d.column_names)
        keep = ~np.asarray(fit.aliased, dtype=bool)
        b0 = np.where(keep, fit.coef, 0.0)
        fit_ok = fit.converged and not fit.diverging and np.isfinite(fit.coef[keep]).all()
        logit = self.family.link.name == "logit"
        H, cov = fit.xtwx, fit.cov_unscaled
        st = None
        # The logit's last IRLS pass (at the solution) summed the screen's row reductions on the
        # way (the compiled kernel): its pass-free test, from the Newton decrement, needs no pass.
        screen = rows.screen_at(self.family, b0) if logit and fit.step is not None else None
        if screen is not None:
            lam = newton_decrement(fit.step, H, keep)
            if fit_ok and lam is not None and decrement_proof(lam, screen, H, cov, keep):
                self.separation_check = "screen"
                return no_separation(d.column_names, fit.aliased, d.nobs)
            slack = rounding_slack(screen[0], screen[1], H, cov, keep, lam or 0.0)
            if not (screen[3] >= _D_FLOOR and np.isfinite(slack)):
                # the full Newton test asks the same of the rows and the sums: it cannot pass
                st = {"ok": 0.0, "entries": float(d.n_fitted) * p, "dmin": float(screen[3])}
        if st is None:
            v = np.zeros(p)
            if logit:
                step = np.asarray(fit.step, dtype=float)  # the IRLS step (X'WX)^-1 X'(w (y - mu))
                v[keep] = np.nan_to_num(step[keep], nan=0.0)
            else:
                g = rows.residual_score(self.family, b0)
                v[keep] = cov[np.ix_(keep, keep)] @ g[keep]
            st = rows.separation_certificate(self.family, b0, v)
            lam = newton_decrement(v, H, keep)
            slack = rounding_slack(st["n"], st["S"], H, cov, keep, np.inf if lam is None else lam)
            if (
                fit_ok
                and np.isfinite(v).all()
                and st["ok"] == 1.0
                and reduced_newton_proof(st["n"], st["dmin"], st["tmax"], st["smax"], slack)
            ):
                self.separation_check = "certificate"
                return no_separation(d.column_names, fit.aliased, d.nobs)
        sparse_design = d.encoder.output == "sparse"
        need = st["entries"] * (12 if sparse_design else 8) + 24 * d.n_fitted
        if need > LP_COLLECT_BYTES:
            # Too many rows for the exact check.  The
            # heuristic of in-memory sparse designs decides instead: no fitted probability
            # within 1e-6 of 0 or 1 on the side of its observed outcome, no coefficient
            # drifting (|b| > 8 with |z| < 0.1).
            se = np.sqrt(np.abs(np.diag(fit.cov_unscaled)))[keep]
            drifting = coefficients_drift(np.asarray(fit.coef, dtype=float)[keep], se)
            if fit_ok and st["dmin"] >= PROB_TOL and not drifting and np.isfinite(se).all():
                self.separation_check = "heuristic"
                return no_separation(d.column_names, fit.aliased, d.nobs)
            msg = (
                "The fit could not prove that the maximum-likelihood estimate exists (the data may "
                "be separated), and the exact check (the Konis LP) needs the rows on the client: "
                f"about {need / 2**30:.1f} GiB, above glmlogit.dask_results.LP_COLLECT_BYTES = "
                f"{LP_COLLECT_BYTES / 2**30:.1f} GiB.  Check a sample in memory "
                "(gl.detect_separation) or read large coefficients with suspicion."
            )
            if on_separation == "raise":
                raise SeparationError(msg)
            if on_separation == "warn":
                warnings.warn(msg, PerfectSeparationWarning, stacklevel=4)
            self.separation_check = "unproven"
            return None
        X, y, w = rows.collect()
        rep = detect_separation(X, y, w, d.column_names, aliased=fit.aliased)
        if rep.separated and on_separation == "raise":
            raise SeparationError(str(rep), rep)
        if rep.separated and on_separation == "warn":
            warnings.warn(str(rep), PerfectSeparationWarning, stacklevel=4)
        self.separation_check = "lp"
        return rep

    def _fit_columns(self, cols, start=None) -> Fit:
        cols = list(cols)
        icpt = self.design.intercept_index
        return irls(
            self._wrap(self.rows.take_columns(cols), "submodel"),
            self.family,
            start=start,
            intercept_index=cols.index(icpt) if icpt in cols else None,
            **(self._fit_kw or {}),
        )


# --- passes at the solution ----------------------------------------------------------------------
def _loglik_deviance_share(family: Family, n_pos: float, sw: float, tot: dict) -> float | None:
    """The deviance to hand family.loglik on one partition so that the partitions' logliks sum
    to the whole data's (estimated-scale families use the total deviance through n or sum(w))."""
    dev = tot["deviance"]
    if family.fixed_scale:
        return dev
    if isinstance(family, Gaussian):
        return None if n_pos == 0 else dev * n_pos / tot["n_pos"]
    if isinstance(family, Gamma | InverseGaussian):
        return None if sw == 0 else dev * sw / tot["sum_w"]
    raise GlmlogitError(f"log-likelihood on Dask data is not available for {family!r}")


def _final_part(part, enc, family, beta, null, tot):
    """[pearson chi2, loglik, null deviance] of one partition."""
    out = np.zeros(3)
    for X, y, w, off in _blocks(enc, part):
        if len(y) == 0:
            continue
        eta = X @ beta + off
        mu = family.link.inverse(eta)
        out[0] += float(np.sum(pearson_terms(family, y, mu, w)))
        sh = _loglik_deviance_share(family, float(np.count_nonzero(w)), float(np.sum(w)), tot)
        if sh is not None:
            out[1] += family.loglik(y, mu, w, sh, eta)
        mu0, eta0 = null_fit(family, y, off, null)
        out[2] += float(np.sum(family.deviance_terms(y, mu0, w, eta0)))
    return out


def _null_loglik_part(part, enc, family, null, tot):
    out = np.zeros(1)
    for _X, y, w, off in _blocks(enc, part):
        if len(y) == 0:
            continue
        mu0 = null_fit(family, y, off, null)[0]
        sh = _loglik_deviance_share(family, float(np.count_nonzero(w)), float(np.sum(w)), tot)
        if sh is not None:
            out[0] += family.loglik(y, mu0, w, sh)
    return out


def _scores(X, y, w, off, family, beta, keep):
    """Rows with positive weight: their kept design columns and score factors (u, W)."""
    from .robust import score_factors

    X = cast(Any, X).toarray() if sp.issparse(X) else X
    eta = X @ beta + off
    mu = family.link.inverse(eta)
    u, W = score_factors(y, mu, eta, w, family)
    pos = w > 0
    return X[np.flatnonzero(pos)][:, np.flatnonzero(keep)], u[pos], W[pos], pos


def _robust_part(part, enc, family, beta, keep, C, kind):
    """Meat of the sandwich on one partition (rows with positive weight, kept columns) and the
    number of rows whose hat value is (almost) 1, block by block."""
    from .robust import hat_values

    k = int(keep.sum())
    meat, n_unstable = np.zeros((k, k)), 0
    for X, y, w, off in _blocks(enc, part):
        if len(y) == 0:
            continue
        Xk, u, W, _pos = _scores(X, y, w, off, family, beta, keep)
        omega = u * u
        if kind in ("HC2", "HC3"):
            h = hat_values(Xk, W, C)
            n_unstable += int(np.sum(h > 1.0 - np.sqrt(np.finfo(float).eps)))
            with np.errstate(divide="ignore", invalid="ignore"):
                omega = omega / (1.0 - h) if kind == "HC2" else omega / (1.0 - h) ** 2
        with np.errstate(invalid="ignore"):
            meat += (Xk * omega[:, None]).T @ Xk
    return meat, n_unstable


def _cluster_part(part, enc, family, beta, keep, groups_col):
    """Per-cluster score sums of one partition (a DataFrame indexed by cluster)."""
    df = enc.clean(part)
    k = int(keep.sum())
    g = df[groups_col]
    if g.isna().any():
        raise GlmlogitError(f"groups has {int(g.isna().sum())} missing value(s) in fitted rows")
    if len(df) == 0:
        return pd.DataFrame(columns=range(k))
    w, off = enc.vectors(df)
    Xk, u, _W, pos = _scores(enc.design(df), enc.response(df), w, off, family, beta, keep)
    return pd.DataFrame(Xk * u[:, None]).groupby(g.to_numpy()[pos], sort=False).sum()


def _sum_meat(*parts):
    M = parts[0][0].copy()
    bad = parts[0][1]
    for m, b in parts[1:]:
        M += m
        bad += b
    return M, bad


def _sum_frames(*parts):
    S = pd.concat(parts)
    return S.groupby(level=0, sort=False).sum()


# --- per-row quantities (lazy) ---------------------------------------------------------------------
def _per_row_part(part, enc, family, beta, what):
    df = enc.clean(part)
    if len(df) == 0:
        return pd.Series(np.zeros(0), index=df.index, name=what)
    X = enc.design(df)
    w, off = enc.vectors(df)
    eta = X @ beta + off
    if what == "linear":
        return pd.Series(eta, index=df.index, name=what)
    mu = family.link.inverse(eta)
    if what == "fitted":
        return pd.Series(mu, index=df.index, name=what)
    y = enc.response(df)
    if what == "resid_response":
        r = y - mu
    elif what == "resid_pearson":
        r = (y - mu) * np.sqrt(w) / np.sqrt(family.variance(mu))
    elif what == "resid_deviance":
        dt = family.deviance_terms(y, mu, w, eta)
        r = np.sign(y - mu) * np.sqrt(np.maximum(dt, 0.0))
    else:  # resid_working
        r = (y - mu) / family.link.mu_eta(eta)
    return pd.Series(r, index=df.index, name=what)


def _new_design_part(df: pd.DataFrame, enc: _Encoder) -> np.ndarray:
    assert enc.spec is not None
    require_columns(enc.spec, df)
    enc.check_levels(df)
    df = enc.cast(df)  # the fitted levels (formulaic mis-encodes pandas' "string" dtype)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            X = enc.design(df, na_action="ignore")
    except (FormulaicError, Warning) as err:
        raise DataError(f"cannot encode new data with the model's formula: {err}") from err
    return cast(Any, X).toarray() if sp.issparse(X) else X


def _predict_part(part, enc, family, beta, which, offset_col, offset_value):
    X = _new_design_part(part, enc)
    if offset_col is not None:
        off = part[offset_col].to_numpy(dtype=float)
    else:
        off = np.broadcast_to(np.asarray(offset_value, dtype=float), (X.shape[0],))
    eta = X @ beta + off
    vals = eta if which == "linear" else family.link.inverse(eta)
    return pd.Series(vals, index=part.index, name=which)


# --- results -------------------------------------------------------------------------------------
class DaskGLMResults(GLMResults):
    """GLMResults for a fit on a Dask DataFrame.  Coefficient-level and model-level numbers are
    plain numbers (computed with at most one or two extra passes, cached); per-row quantities are
    lazy Dask Series indexed like the fitted rows of the input."""

    model: DaskGLM  # type: ignore[assignment]
    design: DaskDesign  # type: ignore[assignment]
    out_of_core = True  # the data stay in Dask: per-row arrays are lazy, refits cost passes

    def __init__(
        self, model: DaskGLM, fit: Fit, cov_type: str = "nonrobust", cov_kwds: dict | None = None
    ):
        if cov_type == "cluster":
            g = (cov_kwds or {}).get("groups")
            if not isinstance(g, str):
                raise GlmlogitError(
                    "on Dask data, cov_type='cluster' needs groups= as a column name"
                )
        super().__init__(model, fit, cov_type, cov_kwds)  # type: ignore[arg-type]

    def _groups(self, groups):  # a column name, read per partition in the robust pass
        if not isinstance(groups, str) or groups not in self.design.ddf_full.columns:
            raise GlmlogitError(f"groups={groups!r} is not a column of the data")
        return groups

    def get_robustcov(self, cov_type="HC0", groups=None, cluster_correction="stata"):
        return DaskGLMResults(
            self.model,
            self._fit,
            cov_type,
            {"groups": groups, "cluster_correction": cluster_correction},
        )

    @property
    def _beta0(self) -> np.ndarray:
        return np.where(self._fit.aliased, 0.0, self._fit.coef)

    def _parts(self, extra: list[str] | None = None) -> list:
        """What each partition's task reads: the data (with ``extra`` columns), or the fit's
        spill cache while it is open (the design blocks only)."""
        d = self.design
        if extra:
            cols = list(dict.fromkeys(list(d.ddf.columns) + extra))
            return list(d.ddf_full[cols].to_delayed())
        return self.model.rows.sources()

    def _pass(self, func, combine, *args, extra=None):
        import dask

        ctx = dask.delayed(args, pure=False)
        tasks = [dask.delayed(_apply, pure=False)(func, part, ctx) for part in self._parts(extra)]
        with _blas_single():
            (out,) = dask.compute(tree_reduce(tasks, combine))
        return out

    # --- covariance ---
    @cached_property
    def _cov(self) -> np.ndarray:
        if self.cov_type == "nonrobust":
            return self._fit.cov_unscaled * self.scale

        f = self._fit
        keep = ~f.aliased
        C = f.cov_unscaled[np.ix_(keep, keep)]
        n, k = self.nobs, int(keep.sum())
        enc, fam, b = self.design.encoder, self.family, self._beta0
        if self.cov_type == "cluster":
            gcol = self.cov_kwds["groups"]
            S = self._pass(_cluster_part, _sum_frames, enc, fam, b, keep, gcol, extra=[gcol])
            G = len(S)
            if G < 2:
                raise GlmlogitError(f"cluster-robust covariance needs at least 2 clusters, got {G}")
            Sm = S.to_numpy(dtype=float)
            meat = Sm.T @ Sm
            corr = self.cov_kwds.get("cluster_correction", "stata")
            adj = 1.0
            if corr in ("stata", "r"):
                adj = G / (G - 1.0)
            if corr == "stata":
                adj *= (n - 1.0) / (n - k)
        else:
            meat, bad = self._pass(_robust_part, _sum_meat, enc, fam, b, keep, C, self.cov_type)
            if bad:
                warnings.warn(
                    f"{self.cov_type} covariance is numerically unstable: {bad} row(s) have hat "
                    "values of (almost) 1",
                    GlmlogitWarning,
                    stacklevel=2,
                )
            adj = n / (n - k) if self.cov_type == "HC1" else 1.0
        with np.errstate(invalid="ignore"):
            Vk = adj * (C @ meat @ C)
        Vk = 0.5 * (Vk + Vk.T)
        V = np.full(f.cov_unscaled.shape, np.nan)
        V[np.ix_(keep, keep)] = Vk
        return V

    # --- model-level numbers ---
    @cached_property
    def nobs(self) -> int:
        return int(self.design.nobs)

    @cached_property
    def _null(self) -> tuple[str, float]:
        d = self.design
        if not self._has_intercept:
            return ("offset", 0.0)
        if d.has_offset and d.offset_nonzero:
            fit = self.model._fit_columns([d.intercept_index], start=None)
            return ("fit", float(fit.coef[0]))
        return ("mean", d.sum_wy / d.sum_w)

    @cached_property
    def _totals(self) -> dict:
        d = self.design
        return {"deviance": self.deviance, "n_pos": d.nobs, "sum_w": d.sum_w}

    @cached_property
    def _final(self) -> np.ndarray:
        """One pass at the solution: Pearson chi2, llf, null deviance."""
        return self._pass(
            _final_part,
            _sum_vectors,
            self.design.encoder,
            self.family,
            self._beta0,
            self._null,
            self._totals,
        )

    @cached_property
    def _null_stats(self) -> tuple[float, float] | None:
        """(null deviance, null loglik) summed by the fit's first IRLS pass, when it summed
        them for this null model and family."""
        rows = self.model.rows
        ns = rows.null_stats
        if ns is None or ns[0] is not self.family or rows.null_spec != self._null:
            return None
        return ns[1], ns[2]

    @cached_property
    def pearson_chi2(self) -> float:
        pe = self.model.rows.pearson_at(self.family, self._beta0)  # the fit's last pass
        return float(self._final[0]) if pe is None else pe

    @cached_property
    def llf(self) -> float:
        ns = self._null_stats
        if ns is not None and self.family.fixed_scale:
            # binomial and Poisson: loglik = (the saturated model's loglik) - deviance / 2, so
            # the fitted model's follows from the null model's, with no pass over the data
            return ns[1] - 0.5 * (self.deviance - ns[0])
        return float(self._final[1])

    @cached_property
    def null_deviance(self) -> float:
        ns = self._null_stats
        return float(self._final[2]) if ns is None else ns[0]

    @cached_property
    def llnull(self) -> float:
        ns = self._null_stats
        if ns is not None and self.family.fixed_scale:
            return ns[1]
        if self.family.fixed_scale:
            # as llf above, the other way round
            return self.llf - 0.5 * (self.null_deviance - self.deviance)
        tot = dict(self._totals, deviance=self.null_deviance)
        out = self._pass(
            _null_loglik_part, _sum_vectors, self.design.encoder, self.family, self._null, tot
        )
        return float(out[0])

    @cached_property
    def bic(self) -> float:
        return -2.0 * self.llf + self._k * np.log(self.design.n_fitted)

    # --- per row: lazy Dask Series ---
    def _lazy(self, what: str):
        d = self.design
        return d.ddf.map_partitions(
            _per_row_part,
            d.encoder,
            self.family,
            self._beta0,
            what,
            meta=pd.Series(np.zeros(0), name=what),
            enforce_metadata=False,
        )

    @cached_property
    def fittedvalues(self):  # type: ignore[override]
        return self._lazy("fitted")

    @cached_property
    def linear_predictor(self):  # type: ignore[override]
        return self._lazy("linear")

    @cached_property
    def resid_response(self):  # type: ignore[override]
        return self._lazy("resid_response")

    @cached_property
    def resid_pearson(self):  # type: ignore[override]
        return self._lazy("resid_pearson")

    @cached_property
    def resid_deviance(self):  # type: ignore[override]
        return self._lazy("resid_deviance")

    @cached_property
    def resid_working(self):  # type: ignore[override]
        return self._lazy("resid_working")

    def influence(self):
        raise GlmlogitError(
            "influence() is not available for a fit on Dask data (it needs data-wide residual "
            "statistics per row); fit a pandas sample in memory for diagnostics"
        )

    def dfbetas(self):
        raise GlmlogitError("dfbetas() is not available for a fit on Dask data")

    def drop1(self, test=None):
        raise GlmlogitError("drop1() is not available for a fit on Dask data; use lr_tests()")

    def conf_int(self, alpha: float = 0.05, method: str = "wald"):
        if method == "profile":
            raise GlmlogitError(
                "profile-likelihood intervals are not available for a fit on Dask data "
                "(each limit needs many refits); use method='wald'"
            )
        return super().conf_int(alpha, method)

    # --- prediction ---
    def predict(self, newdata=None, which: str = "mean", offset=None):
        """Dask DataFrame in, lazy Dask Series out; a pandas frame gives a pandas Series;
        None gives the fitted values / linear predictor (lazy)."""
        if which not in ("mean", "linear"):
            raise GlmlogitError(f"which must be 'mean' or 'linear', got {which!r}")
        if newdata is None:
            return self.fittedvalues if which == "mean" else self.linear_predictor
        d = self.design
        ocol, oval = None, 0.0
        if isinstance(offset, str):
            ocol = offset
        elif offset is not None:
            oval = offset
        elif d.offset_name is not None:
            ocol = d.offset_name
        elif d.has_offset:
            raise DataError(
                "the model was fitted with an offset array: pass offset= (a number or a column "
                "name of the new data)"
            )
        args = (d.encoder, self.family, self._beta0, which, ocol, oval)
        if is_dask_collection(newdata):
            return newdata.map_partitions(
                _predict_part,
                *args,
                meta=pd.Series(np.zeros(0), name=which),
                enforce_metadata=False,
            )
        df = newdata if isinstance(newdata, pd.DataFrame) else pd.DataFrame(newdata)
        return _predict_part(df, *args)

    def get_prediction(self, newdata=None, offset=None):
        from .results import PredictionResults

        if newdata is None or is_dask_collection(newdata):
            raise GlmlogitError(
                "get_prediction on a Dask fit needs new data as a pandas DataFrame (standard "
                "errors per row); use predict() for lazy predictions"
            )
        df = newdata if isinstance(newdata, pd.DataFrame) else pd.DataFrame(newdata)
        X = _new_design_part(df, self.design.encoder)
        d = self.design
        if offset is not None:
            off = np.broadcast_to(np.asarray(offset, dtype=float), (X.shape[0],))
        elif d.offset_name is not None:
            off = df[d.offset_name].to_numpy(dtype=float)
        elif d.has_offset:
            raise DataError("the model was fitted with an offset array: pass offset=")
        else:
            off = np.zeros(X.shape[0])
        return PredictionResults(self, X, off, df.index)

    def __repr__(self) -> str:
        return (
            f"<DaskGLMResults {self.family.name}({self.family.link.name}): "
            f"{self.design.response_name} ~ {len(self._names)} columns, n={self.nobs}, "
            f"deviance={self.deviance:.6g}>"
        )


def _apply(func, part, args):
    return func(part, *args)


def _sum_vectors(*parts):
    out = np.array(parts[0], dtype=float)
    for a in parts[1:]:
        out = out + a
    return out


def _blas_single():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")
