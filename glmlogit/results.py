"""GLMResults: read-only, everything derived lazily from what the fit produced."""

from __future__ import annotations

import functools
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import stats

from . import inference
from .engine.irls import Fit
from .errors import DataError, GlmlogitError
from .formula import as_dense

COV_TYPES = ("nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster")

if TYPE_CHECKING:
    from .firth import FirthFit
    from .model import GLM
    from .separation import SeparationReport


class GLMResults:
    """Results of a GLM fit.  Names follow statsmodels' GLMResults, R's glm where it has none."""

    def __init__(
        self, model: GLM, fit: Fit, cov_type: str = "nonrobust", cov_kwds: dict | None = None
    ):
        self.model = model
        self.family = model.family
        self.design = model.design
        self._fit = fit
        self.converged = fit.converged
        self.n_iter = fit.n_iter
        self.deviance = fit.deviance
        self.firth: FirthFit | None = None  # set when fitted with firth=True
        self.separation: SeparationReport | None = None  # binomial fits: the separation check
        self.penalty: dict | None = None  # {"penalty", "alpha", "l1_ratio", ...} for penalized fits
        self.method = "irls"
        self.history = list(fit.history)  # objective per iteration
        if cov_type not in COV_TYPES:
            raise GlmlogitError(f"cov_type must be one of {list(COV_TYPES)}, got {cov_type!r}")
        self.cov_type = cov_type
        self.cov_kwds = dict(cov_kwds or {})
        if cov_type == "cluster":
            self.cov_kwds["groups"] = self._groups(self.cov_kwds.get("groups"))
        elif self.cov_kwds.get("groups") is not None:
            raise GlmlogitError("groups= is only used with cov_type='cluster'")
        if cov_type != "nonrobust":
            _ = self._cov  # compute now so a bad cov specification fails at fit time

    def get_robustcov(
        self, cov_type: str = "HC0", groups=None, cluster_correction="stata"
    ) -> GLMResults:
        """The same fit with another covariance: "HC0".."HC3", "cluster" (with groups=) or
        "nonrobust".  Nothing is refitted; every test, interval and summary uses the new one."""
        return GLMResults(
            self.model,
            self._fit,
            cov_type,
            {"groups": groups, "cluster_correction": cluster_correction},
        )

    def _groups(self, groups) -> np.ndarray:
        d = self.design
        if groups is None:
            raise GlmlogitError("cov_type='cluster' needs groups= (a column name or an array)")
        if isinstance(groups, str):
            if d.frame is None or groups not in d.frame.columns:
                raise GlmlogitError(f"groups={groups!r} is not a column of the data")
            g = np.asarray(d.frame[groups])[d.kept_rows]
        else:
            g = np.asarray(groups)
            if g.shape[0] == d.n_input:
                g = g[d.kept_rows]  # rows dropped for NA are dropped from the groups too
            elif g.shape[0] != len(d.y):
                raise GlmlogitError(
                    f"groups has {g.shape[0]} values; the data has {d.n_input} rows "
                    f"({len(d.y)} fitted)"
                )
        if pd.isna(g).any():
            raise GlmlogitError(
                f"groups has {int(pd.isna(g).sum())} missing value(s) in fitted rows"
            )
        return g

    # --- coefficients -------------------------------------------------------------------------
    @property
    def _names(self) -> list[str]:
        return self.design.column_names

    @cached_property
    def params(self) -> pd.Series:
        return pd.Series(self._fit.coef, index=self._names, name="coef")

    @cached_property
    def aliased(self) -> pd.Series:
        return pd.Series(self._fit.aliased, index=self._names, name="aliased")

    @cached_property
    def rank(self) -> int:
        """Estimated coefficients: the non-aliased columns.  For a lasso or elastic-net fit
        (``l1_ratio > 0``), the nonzero ones, as glmnet's ``df`` (plus the intercept): a
        coefficient held at 0 by the L1 penalty is not estimated.  df_model, df_resid, the
        dispersion, AIC and BIC follow from it."""
        est = ~self._fit.aliased
        pen = self.penalty
        if pen and pen.get("l1_ratio", 0.0) > 0:
            est = est & (self._fit.coef != 0)
            i = self.design.intercept_index
            if i is not None and not self._fit.aliased[i]:
                est[i] = True  # unpenalized: estimated even where it happens to be 0
        return int(est.sum())

    @cached_property
    def use_t(self) -> bool:
        """t and F reference distributions when the dispersion is estimated (as R's summary.glm);
        normal and chi2 with a robust covariance (as lmtest::coeftest on a glm)."""
        return not self.family.fixed_scale and self.cov_type == "nonrobust"

    @cached_property
    def _cov(self) -> np.ndarray:
        if self.cov_type == "nonrobust":
            return self._fit.cov_unscaled * self.scale
        from .robust import sandwich_cov

        kind = "HC0" if self.cov_type == "cluster" else self.cov_type
        return sandwich_cov(
            *self._fit_arrays(),
            kind=kind,
            groups=self.cov_kwds.get("groups"),
            cluster_correction=self.cov_kwds.get("cluster_correction", "stata"),
        )

    def cov_params(self) -> pd.DataFrame:
        return pd.DataFrame(self._cov, index=self._names, columns=self._names)

    @cached_property
    def bse(self) -> pd.Series:
        return pd.Series(np.sqrt(np.diag(self._cov)), index=self._names, name="std err")

    @cached_property
    def tvalues(self) -> pd.Series:
        return pd.Series(self.params / self.bse, name="z" if not self.use_t else "t")

    @cached_property
    def pvalues(self) -> pd.Series:
        t = np.abs(self.tvalues.to_numpy())
        p = 2 * (stats.t.sf(t, self.df_resid) if self.use_t else stats.norm.sf(t))
        return pd.Series(p, index=self._names, name="P>|z|" if not self.use_t else "P>|t|")

    def _quantile(self, alpha: float) -> float:
        if not 0 < alpha < 1:
            raise GlmlogitError(f"alpha must be in (0, 1), got {alpha}")
        return float(
            stats.t.ppf(1 - alpha / 2, self.df_resid)
            if self.use_t
            else stats.norm.ppf(1 - alpha / 2)
        )

    def conf_int(self, alpha: float = 0.05, method: str = "wald") -> pd.DataFrame:
        """Confidence intervals.  ``"wald"``: b +- q se, q from N(0,1), or t(df_resid) when the
        scale is estimated.  ``"profile"``: profile likelihood, as R's ``confint()`` on a glm (exact
        roots where R interpolates a spline; an infinite limit where the profile never crosses,
        e.g. a coefficient diverging under separation); for a Firth fit, the profile penalized
        likelihood intervals logistf reports."""
        if method == "wald":
            q = self._quantile(alpha)
            lo, hi = self.params - q * self.bse, self.params + q * self.bse
            return pd.DataFrame({"lower": lo, "upper": hi})
        if method != "profile":
            raise GlmlogitError(f"conf_int method must be 'wald' or 'profile', got {method!r}")
        if not 0 < alpha < 1:
            raise GlmlogitError(f"alpha must be in (0, 1), got {alpha}")
        return self._profile_ci(alpha).copy()

    @functools.lru_cache(maxsize=4)  # noqa: B019 - results are immutable; a few alphas at most
    def _profile_ci(self, alpha: float) -> pd.DataFrame:
        ci: Any
        if self.firth is not None:
            from .firth import firth_profile_ci

            ci = firth_profile_ci(self.firth, alpha=alpha)
        else:
            from .profile import profile_conf_int

            d = self.design
            X = as_dense(d.X)
            ci = profile_conf_int(
                X,
                d.y,
                self.family,
                coef=self._fit.coef,
                deviance=self.deviance,
                bse=np.sqrt(np.diag(self._fit.cov_unscaled) * self.scale),
                dispersion=self.scale,
                weights=d.weights,
                offset=d.offset,
                alpha=alpha,
                intercept_index=d.intercept_index,
                column_names=self._names,
                fit_kw=self.model._fit_kw,
            )
        return pd.DataFrame({"lower": ci.lower, "upper": ci.upper}, index=self._names)

    def lr_tests(self, columns=None) -> pd.DataFrame:
        """Likelihood-ratio test of each coefficient = 0 (the model refitted without it), or of
        those in ``columns`` (names or positions; one refit each).

        For a Firth fit: the penalized likelihood-ratio tests logistf reports (the restricted fit
        keeps the full model's penalty).  Otherwise the deviance difference (scaled by the
        dispersion for estimated-scale families, chi2(1), as R's profile/drop1 scaling)."""
        idx = self._coef_positions(columns)
        names = [self._names[j] for j in idx]
        if self.firth is not None:
            from .firth import firth_lr_test

            t = firth_lr_test(self.firth, which=idx)
            return pd.DataFrame(
                {"statistic": t.statistic, "df": t.df, "pvalue": t.pvalue}, index=names
            )
        rows = {}
        keep = [j for j in range(len(self._names)) if not self._fit.aliased[j]]
        for j in idx:
            if self._fit.aliased[j]:
                rows[self._names[j]] = {"statistic": np.nan, "df": np.nan, "pvalue": np.nan}
                continue
            sub = self.model._fit_columns([k for k in keep if k != j])
            stat = max(sub.deviance - self.deviance, 0.0) / self.scale
            rows[self._names[j]] = {
                "statistic": stat,
                "df": 1.0,
                "pvalue": float(stats.chi2.sf(stat, 1)),
            }
        return pd.DataFrame(rows, columns=names, index=["statistic", "df", "pvalue"]).T

    def _coef_positions(self, columns) -> list[int]:
        """Positions of the coefficients named (or numbered) in ``columns``; all when None."""
        p = len(self._names)
        if columns is None:
            return list(range(p))
        if isinstance(columns, (str, int, np.integer)):
            columns = [columns]
        out = []
        for c in columns:
            if isinstance(c, str):
                if c not in self._names:
                    raise GlmlogitError(
                        f"no coefficient named {c!r}; the coefficients: {_few(self._names)}"
                    )
                out.append(self._names.index(c))
            elif isinstance(c, (int, np.integer)) and -p <= int(c) < p:
                out.append(int(c) % p)
            else:
                raise GlmlogitError(
                    f"columns must be coefficient names or positions 0..{p - 1}, got {c!r}"
                )
        return out

    def drop1(self, test: str | None = None) -> pd.DataFrame:
        """R's ``drop1(fit, test="LRT")`` (default for binomial/poisson) or ``test="F"`` (default
        for estimated-scale families): each droppable formula term removed in turn."""
        from .inference import drop1_table

        return drop1_table(self, test)

    def odds_ratios(self, alpha: float = 0.05) -> pd.DataFrame:
        """exp(coef) with exponentiated Wald limits: odds ratios (logit) or rate/risk ratios (log)."""
        if self.family.link.name not in ("logit", "log"):
            raise GlmlogitError(
                f"exponentiated coefficients are ratios only for logit and log links, not {self.family.link.name}"
            )
        ci = np.exp(self.conf_int(alpha))
        return pd.DataFrame(
            {"ratio": np.exp(self.params), "lower": ci["lower"], "upper": ci["upper"]}
        )

    # --- model-level numbers ------------------------------------------------------------------
    @cached_property
    def nobs(self) -> int:
        """Observations with non-zero weight (R's nobs)."""
        return int(np.count_nonzero(self.design.weights))

    @property
    def n_dropped(self) -> int:
        return self.design.n_dropped

    @cached_property
    def _has_intercept(self) -> bool:
        i = self.design.intercept_index
        return i is not None and not self._fit.aliased[i]

    @cached_property
    def df_model(self) -> int:
        return self.rank - int(self._has_intercept)

    @cached_property
    def df_resid(self) -> int:
        return self.nobs - self.rank

    @cached_property
    def df_null(self) -> int:
        return self.nobs - int(self._has_intercept)

    @cached_property
    def pearson_chi2(self) -> float:
        return float(np.sum(self.resid_pearson.to_numpy() ** 2))

    @cached_property
    def scale(self) -> float:
        """1 for binomial/poisson; Pearson chi2 / df_resid otherwise (R's summary.glm)."""
        if self.family.fixed_scale:
            return 1.0
        if self.df_resid <= 0:
            return float("nan")
        return self.pearson_chi2 / self.df_resid

    @cached_property
    def llf(self) -> float:
        d = self.design
        return self.family.loglik(d.y, self._fit.mu, d.weights, self.deviance, self._fit.eta)

    @cached_property
    def _null_mu(self) -> np.ndarray:
        d = self.design
        if not self._has_intercept:
            return self.family.link.inverse(d.offset.copy())
        if d.has_offset and np.any(d.offset != 0):
            fit = self.model._fit_columns([d.intercept_index], start=None)
            return fit.mu
        ybar = float(np.sum(d.weights * d.y) / np.sum(d.weights))
        return np.full(len(d.y), ybar)

    @cached_property
    def null_deviance(self) -> float:
        d = self.design
        return float(np.sum(self.family.deviance_terms(d.y, self._null_mu, d.weights)))

    @cached_property
    def llnull(self) -> float:
        """Log-likelihood of the intercept-only model (with the offset), as R's logLik of it."""
        d = self.design
        return self.family.loglik(d.y, self._null_mu, d.weights, self.null_deviance)

    @cached_property
    def _k(self) -> int:
        return self.rank + (0 if self.family.fixed_scale else 1)

    @cached_property
    def aic(self) -> float:
        return -2.0 * self.llf + 2.0 * self._k

    @cached_property
    def bic(self) -> float:
        """-2 llf + k log(n), n the number of fitted rows (R's BIC on a glm)."""
        return -2.0 * self.llf + self._k * np.log(len(self.design.y))

    def pseudo_rsquared(self, kind: str = "mcf") -> float:
        """McFadden's 1 - llf/llnull ("mcf") or Cox-Snell 1 - exp(2 (llnull - llf) / n) ("cs")."""
        if kind == "mcf":
            return 1.0 - self.llf / self.llnull
        if kind == "cs":
            return 1.0 - np.exp(2.0 * (self.llnull - self.llf) / self.nobs)
        raise GlmlogitError(f"pseudo_rsquared kind must be 'mcf' or 'cs', got {kind!r}")

    # --- per observation ----------------------------------------------------------------------
    def _series(self, values: np.ndarray, name: str) -> pd.Series:
        return pd.Series(values, index=self.design.index, name=name)

    @cached_property
    def fittedvalues(self) -> pd.Series:
        return self._series(self._fit.mu, "fitted")

    @cached_property
    def linear_predictor(self) -> pd.Series:
        return self._series(self._fit.eta, "linear")

    @cached_property
    def resid_response(self) -> pd.Series:
        return self._series(self.design.y - self._fit.mu, "resid_response")

    @cached_property
    def resid_pearson(self) -> pd.Series:
        d, mu = self.design, self._fit.mu
        r = (d.y - mu) * np.sqrt(d.weights) / np.sqrt(self.family.variance(mu))
        return self._series(r, "resid_pearson")

    @cached_property
    def resid_deviance(self) -> pd.Series:
        d, mu = self.design, self._fit.mu
        dt = self.family.deviance_terms(d.y, mu, d.weights, self._fit.eta)
        return self._series(np.sign(d.y - mu) * np.sqrt(np.maximum(dt, 0.0)), "resid_deviance")

    @cached_property
    def resid_working(self) -> pd.Series:
        d = self.design
        r = (d.y - self._fit.mu) / self.family.link.mu_eta(self._fit.eta)
        return self._series(r, "resid_working")

    # --- diagnostics --------------------------------------------------------------------------
    def _fit_arrays(
        self,
    ) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, np.ndarray, Any, np.ndarray, np.ndarray]:
        """The arrays the sandwich and influence functions take: X, y, mu, eta, prior weights,
        family, (X'WX)^-1 and the aliased mask."""
        d, f = self.design, self._fit
        return (d.X, d.y, f.mu, f.eta, d.weights, self.family, f.cov_unscaled, f.aliased)

    def _aligned(self, values: dict, columns) -> pd.DataFrame:
        """Rows aligned to the caller's data: rows dropped for NA present as NaN."""
        d = self.design
        out = pd.DataFrame(np.nan, index=cast(pd.Index, d.input_index), columns=list(columns))
        block = np.column_stack([np.asarray(values[c], dtype=float) for c in columns])
        out.iloc[d.kept_rows, :] = block
        return out

    def influence(self) -> pd.DataFrame:
        """hat, cooks_d, rstandard (deviance), rstandard_pearson, rstudent: R's hatvalues,
        cooks.distance, rstandard, rstandard(type="pearson"), rstudent on a glm."""
        from .diagnostics import influence_frame

        vals = influence_frame(
            *self._fit_arrays(),
            self.scale,
            self.deviance,
            self.df_resid,
        )
        return self._aligned(vals, ["hat", "cooks_d", "rstandard", "rstandard_pearson", "rstudent"])

    def dfbetas(self) -> pd.DataFrame:
        """R's dfbetas on a glm: rows x coefficients, aligned to the caller's rows."""
        from .diagnostics import dfbetas

        m = dfbetas(*self._fit_arrays(), self.df_resid)
        return self._aligned({nm: m[:, j] for j, nm in enumerate(self._names)}, self._names)

    def _binomial_only(self, what: str) -> None:
        if self.family.name != "binomial":
            raise GlmlogitError(f"{what} is defined for binomial models, not {self.family.name}")

    def hosmer_lemeshow(self, g: int = 10):
        """Hosmer-Lemeshow goodness-of-fit test in ``g`` groups of fitted probability
        (ResourceSelection::hoslem.test's grouping; see glmlogit.diagnostics)."""
        from .diagnostics import hosmer_lemeshow

        self._binomial_only("the Hosmer-Lemeshow test")
        return hosmer_lemeshow(self.design.y, self._fit.mu, self.design.weights, g=g)

    def classification_table(self, threshold: float = 0.5):
        """Observed vs predicted class at ``threshold`` (binomial)."""
        from .diagnostics import classification_table

        self._binomial_only("the classification table")
        return classification_table(self.design.y, self._fit.mu, threshold, self.design.weights)

    def auc(self) -> float:
        """Area under the ROC curve of the fitted probabilities (binomial)."""
        from .diagnostics import auc

        self._binomial_only("the AUC")
        return auc(self.design.y, self._fit.mu, self.design.weights)

    # --- prediction ---------------------------------------------------------------------------
    def _new_design(self, newdata, offset) -> tuple[np.ndarray, np.ndarray]:
        d = self.design
        if newdata is None:
            return d.X, d.offset
        X = d.rebuild(newdata)
        if offset is not None:
            off = np.broadcast_to(np.asarray(offset, dtype=float), (X.shape[0],))
        elif d.offset_name is not None:
            if d.offset_name not in getattr(newdata, "columns", newdata):
                raise DataError(
                    f"new data lacks the offset column {d.offset_name!r}; add it or pass offset="
                )
            off = np.asarray(newdata[d.offset_name], dtype=float)
        elif d.has_offset:
            raise DataError(
                "the model was fitted with an offset array: pass offset= for the new data"
            )
        else:
            off = np.zeros(X.shape[0])
        return X, off

    def predict(self, newdata=None, which: str = "mean", offset=None) -> pd.Series:
        """Predicted mean (``which="mean"``) or linear predictor (``"linear"``)."""
        if which not in ("mean", "linear"):
            raise GlmlogitError(f"which must be 'mean' or 'linear', got {which!r}")
        X, off = self._new_design(newdata, offset)
        eta = X @ np.where(self._fit.aliased, 0.0, self._fit.coef) + off
        vals = eta if which == "linear" else self.family.link.inverse(eta)
        index = self.design.index if newdata is None else getattr(newdata, "index", None)
        return pd.Series(vals, index=index, name=which)

    def get_prediction(self, newdata=None, offset=None) -> PredictionResults:
        X, off = self._new_design(newdata, offset)
        index = self.design.index if newdata is None else getattr(newdata, "index", None)
        return PredictionResults(self, X, off, index)

    # --- tests --------------------------------------------------------------------------------
    def _constraints(self, hypothesis, q=None) -> tuple[np.ndarray, np.ndarray]:
        if isinstance(hypothesis, str):
            from formulaic.utils.constraints import LinearConstraints

            try:
                lc = LinearConstraints.from_spec(hypothesis, variable_names=self._names)
            except Exception as err:
                raise GlmlogitError(f"cannot parse hypothesis {hypothesis!r}: {err}") from err
            return np.asarray(lc.constraint_matrix, float), np.asarray(lc.constraint_values, float)
        R = np.atleast_2d(np.asarray(hypothesis, dtype=float))
        if R.shape[1] != len(self._names):
            raise GlmlogitError(f"R must have {len(self._names)} columns, got {R.shape[1]}")
        return R, np.zeros(R.shape[0]) if q is None else np.asarray(q, dtype=float)

    def wald_test(self, hypothesis, q=None, use_f: bool | None = None) -> inference.TestResult:
        """Wald test of linear restrictions: "x1 = 0, x2 = 0", "x1 = x2", or a matrix R (and q).

        chi2 for fixed-scale families; F = W / r on (r, df_resid) when the scale is estimated."""
        R, qv = self._constraints(hypothesis, q)
        use_f = self.use_t if use_f is None else use_f
        return inference.wald(self._fit.coef, self._cov, R, qv, use_f=use_f, df_resid=self.df_resid)

    def wald_test_terms(self) -> pd.DataFrame:
        """One joint Wald test per formula term (all columns of the term = 0)."""
        rows = {}
        for term, cols in self.design.terms.items():
            term = "Intercept" if term == "1" else term
            cols = [c for c in cols if not self._fit.aliased[c]]
            if not cols:
                continue
            R = np.zeros((len(cols), len(self._names)))
            R[np.arange(len(cols)), cols] = 1.0
            t = inference.wald(
                self._fit.coef,
                self._cov,
                R,
                np.zeros(len(cols)),
                use_f=self.use_t,
                df_resid=self.df_resid,
            )
            rows[term] = {"statistic": t.statistic, "df": t.df, "pvalue": t.pvalue}
        return pd.DataFrame(rows).T

    def compare_lr(self, smaller: GLMResults) -> inference.TestResult:
        """Likelihood-ratio (or, with estimated scale, F) test of this model against a nested one."""
        return inference.lr_test(self, smaller)

    def summary(self, alpha: float = 0.05, odds_ratios: bool = False):
        """The report: a printed table like R's summary.glm, with HTML/Markdown/LaTeX/dict
        exports; ``odds_ratios=True`` shows exponentiated coefficients (logit/log links)."""
        from .summary import Summary

        return Summary(self, alpha=alpha, odds_ratios=odds_ratios)

    def margeff(
        self,
        at: str = "overall",
        method: str = "dydx",
        dummy: bool = True,
        count: bool = False,
        variables=None,
    ):
        """Average (or at-the-mean) marginal effects with delta-method standard errors, using
        this fit's covariance; factor levels as discrete changes from the reference level."""
        from .effects import margeff

        return margeff(self, at=at, method=method, dummy=dummy, count=count, variables=variables)

    get_margeff = margeff  # statsmodels' name

    def prediction_grid(self, values=None, /, **kw) -> pd.DataFrame:
        """New data crossing the given predictor values, other variables at their mean or
        reference level: feed it to ``get_prediction``."""
        from .effects import prediction_grid

        return prediction_grid(self, values, **kw)

    def __repr__(self) -> str:
        return (
            f"<GLMResults {self.family.name}({self.family.link.name}): {self.design.response_name} ~ "
            f"{len(self._names)} columns, n={self.nobs}, deviance={self.deviance:.6g}>"
        )


class PredictionResults:
    """Predictions with standard errors; the mean interval is the link interval transformed."""

    def __init__(self, res: GLMResults, X: np.ndarray, offset: np.ndarray, index):
        self._res = res
        keep = ~res._fit.aliased
        b = res._fit.coef[keep]
        Xk: Any = X[:, keep]
        V = res._cov[np.ix_(keep, keep)]
        self.linear = Xk @ b + offset
        if sp.issparse(Xk):
            quad = np.asarray(cast(Any, Xk).multiply(Xk @ V).sum(axis=1)).ravel()
        else:
            quad = np.einsum("ij,jk,ik->i", Xk, V, Xk)
        self.linear_se = np.sqrt(quad)
        link = res.family.link
        self.mean = link.inverse(self.linear)
        self.mean_se = np.abs(link.mu_eta(self.linear)) * self.linear_se
        self.index = index

    def summary_frame(self, alpha: float = 0.05) -> pd.DataFrame:
        q = self._res._quantile(alpha)
        lo, hi = self.linear - q * self.linear_se, self.linear + q * self.linear_se
        link = self._res.family.link
        if link.name in ("sqrt", "inverse_squared"):  # eta must be > 0: clip at the boundary
            lo, hi = np.maximum(lo, 0.0), np.maximum(hi, 0.0)
        with np.errstate(divide="ignore"):
            mlo, mhi = link.inverse(lo), link.inverse(hi)
        lo, hi = self.linear - q * self.linear_se, self.linear + q * self.linear_se
        return pd.DataFrame(
            {
                "mean": self.mean,
                "mean_se": self.mean_se,
                "mean_ci_lower": np.minimum(mlo, mhi),
                "mean_ci_upper": np.maximum(mlo, mhi),
                "linear": self.linear,
                "linear_se": self.linear_se,
                "linear_ci_lower": lo,
                "linear_ci_upper": hi,
            },
            index=self.index,
        )


def _few(names, k: int = 10) -> str:
    """The first ``k`` of ``names`` for a message, and how many more."""
    head = ", ".join(map(str, names[:k]))
    return head + (f" and {len(names) - k} more" if len(names) > k else "")
