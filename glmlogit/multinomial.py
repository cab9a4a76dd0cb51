"""Multinomial (softmax) logit: ``gl.multinomial(formula, data)`` and ``Multinomial(y, X).fit()``.

This module holds the model and its results; the Newton engine and the separation LP are in
``multinomial_fit.py``, the printed summary in ``multinomial_summary.py``.

Model: for a response with levels ``0 (baseline), 1, ..., K-1`` and a design row ``x``,
``P(y = k | x) = exp(x'b_k) / sum_j exp(x'b_j)`` with ``b_0 = 0`` (as R's ``nnet::multinom`` and
statsmodels' ``MNLogit``).  The baseline is the first level: the first category of a pandas
Categorical, otherwise the first in sorted order; ``baseline=`` picks another.  Weights are case
(frequency) weights, as multinom's: a row with weight 2 counts as two identical rows.

Fitting is Newton's method on the stacked ``(K-1) p`` coefficients with the full Hessian
``H_jk = X' diag(w p_j (delta_jk - p_k)) X``, probabilities by log-sum-exp, step-halving when the
log-likelihood falls, and convergence when the relative change in deviance is below ``tol``
*and* the largest Newton step is below ``coef_tol`` (relative to the coefficient), so the
estimates are the MLE to about 1e-10.  Every pass over the rows is done in chunks: no temporary
larger than a chunk of rows times (K-1)p.  Columns aliased on the data (R's QR rule,
``separation.aliased_columns``) are set aside: NaN coefficients at every level, as R's NA.
``nobs`` is the sum of the case weights (nnet's ``logLik``, so ``bic`` matches R's ``BIC``).

Optional elastic-net penalty (``alpha > 0``, ``l1_ratio`` in [0, 1], default 0 = ridge): the
objective is glmnet's mean form, ``-(1/sum w) loglik + alpha (l1_ratio ||B||_1 +
(1 - l1_ratio)/2 ||B||^2)`` over every coefficient except the intercepts.  This is the
baseline-contrast parametrisation, so it is *not* glmnet's or scikit-learn's symmetric
multinomial penalty (which penalises all K coefficient vectors); for K = 2 it is exactly the
penalised binary logit of both (``gl.glm(..., penalty="l1"/"elasticnet")``).  The ridge fit is
Newton's method as above; with ``l1_ratio > 0`` it is a proximal Newton method: each step
minimises the quadratic model of the objective plus the L1 term with the penalised engine's
coordinate-descent solver (``engine.penalized._quad_solve``), with a backtracking (Armijo) line
search on the penalised objective, and at the end the KKT conditions are checked (a
``ConvergenceWarning`` if they fail).  Penalised fits report no standard errors (the inverse
penalised Hessian is not a valid covariance of a biased estimator).

Separation: the MLE does not exist when some direction ``B`` (not zero on the data) makes every
row at least as likely, ``x_i'(b_{y_i} - b_k) >= 0`` for all rows ``i`` and levels ``k``.  Then
Newton's iterates run off to infinity; the fit stops, reports ``converged = False`` and checks
this linear program (Konis' LP generalised to K levels; HiGHS), warning with
``PerfectSeparationWarning`` when it finds such a direction (automatically only while the LP has
at most ``SEPARATION_LP_MAX_ROWS`` rows, n (K-1); ``res.separation`` runs it on any fit).
"complete" means some direction makes every margin strictly positive.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from functools import cached_property
from typing import Any, cast

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import stats
from scipy.special import logsumexp

from . import inference
from .errors import (
    ConvergenceWarning,
    DataError,
    DataWarning,
    FormulaError,
    GlmlogitError,
    PerfectSeparationWarning,
)
from .formula import Design, _as_frame, build_design, design_from_arrays
from .multinomial_fit import (
    MultinomialFit,
    MultinomialSeparation,
    fit_multinomial,
    separation_lp,
)
from .multinomial_summary import MultinomialSummary

__all__ = ["Multinomial", "MultinomialResults", "MultinomialSeparation", "multinomial"]

_PLACEHOLDER = "_glmlogit_multinomial_code_"
SEPARATION_LP_MAX_ROWS = 500_000  # above this, a fit that fails only suggests res.separation


# ------------------------------------------------------------------------------------------------
# Model and entry points
# ------------------------------------------------------------------------------------------------
def _levels_of(values: pd.Series) -> list:
    if isinstance(values.dtype, pd.CategoricalDtype):
        return list(values.cat.categories)
    uniq = pd.unique(values.dropna())
    try:
        return sorted(uniq)
    except TypeError:
        return sorted(uniq, key=str)


def _codes(values: pd.Series, levels: list) -> np.ndarray:
    codes = pd.Categorical(values, categories=levels).codes.astype(float)
    codes[codes < 0] = np.nan
    return codes


def _finish_levels(codes: np.ndarray, levels: list, baseline, name: str):
    """Keep the levels present in the fitted rows, baseline first; codes renumbered."""
    present = np.unique(codes.astype(np.intp))
    if len(present) < len(levels):
        empty = [levels[i] for i in range(len(levels)) if i not in set(present)]
        warnings.warn(
            f"response {name!r}: level(s) {empty} have no fitted rows and are dropped",
            DataWarning,
            stacklevel=3,
        )
    levels = [levels[i] for i in present]
    codes = np.searchsorted(present, codes.astype(np.intp))
    if baseline is not None:
        if baseline not in levels:
            raise DataError(f"baseline={baseline!r} is not a level of {name!r}: {levels}")
        b = levels.index(baseline)
        order = [b] + [i for i in range(len(levels)) if i != b]
        codes = np.argsort(order)[codes]
        levels = [levels[i] for i in order]
    if len(levels) < 2:
        raise DataError(f"response {name!r} has {len(levels)} level(s); a multinomial needs >= 2")
    return codes.astype(np.intp), levels


class Multinomial:
    """Multinomial logit on a design: ``Multinomial(y, X, weights=None).fit()``.

    ``y``: labels (any values; a pandas Categorical keeps its order); ``X``: the design (array or
    DataFrame; add the intercept column yourself); ``baseline``: the reference level."""

    def __init__(
        self,
        y=None,
        X=None,
        weights=None,
        *,
        baseline=None,
        column_names=None,
        design: Design | None = None,
        levels: list | None = None,
    ):
        if design is None:
            if y is None or X is None:
                raise GlmlogitError("Multinomial needs y and X (or use gl.multinomial)")
            ys = y if isinstance(y, pd.Series) else pd.Series(np.asarray(y))
            if ys.isna().any():
                raise DataError(f"y has {int(ys.isna().sum())} missing value(s); drop them first")
            all_levels = _levels_of(ys)
            design = design_from_arrays(_codes(ys, all_levels), X, weights, names=column_names)
            codes, levels = _finish_levels(design.y, all_levels, baseline, design.response_name)
            design = dataclasses.replace(design, y=codes.astype(float), response_levels=levels)
        if levels is None:
            levels = list(design.response_levels or [])
        self.design = design
        self.levels = levels
        self.codes = np.asarray(design.y, dtype=np.intp)

    def fit(
        self,
        *,
        tol: float = 1e-10,
        coef_tol: float = 1e-8,
        max_iter: int = 100,
        alpha: float = 0.0,
        l1_ratio: float = 0.0,
        start=None,
    ) -> MultinomialResults:
        """``alpha``, ``l1_ratio``: the elastic-net penalty (module docstring); 0 = unpenalised."""
        if not alpha >= 0 or not math.isfinite(alpha):
            raise GlmlogitError(f"alpha must be a finite number >= 0, got {alpha}")
        if not 0.0 <= l1_ratio <= 1.0:
            raise GlmlogitError(f"l1_ratio must be in [0, 1], got {l1_ratio}")
        d = self.design
        fit = fit_multinomial(
            d.X,
            self.codes,
            len(self.levels),
            d.weights,
            intercept_index=d.intercept_index,
            alpha=float(alpha),
            l1_ratio=float(l1_ratio),
            tol=tol,
            coef_tol=coef_tol,
            max_iter=max_iter,
            start=start,
        )
        res = MultinomialResults(self, fit, alpha=float(alpha), l1_ratio=float(l1_ratio))
        if not fit.converged:
            # The LP has a row per (row, other level): automatic only while that stays small.
            lp_rows = len(self.codes) * (len(self.levels) - 1)
            sep = res.separation if alpha == 0 and lp_rows <= SEPARATION_LP_MAX_ROWS else None
            if sep is not None and sep.separated:
                warnings.warn(str(sep), PerfectSeparationWarning, stacklevel=2)
            else:
                hint = "" if sep is not None or alpha > 0 else "; res.separation checks separation"
                warnings.warn(fit.message + hint, ConvergenceWarning, stacklevel=2)
        return res


def multinomial(
    formula: str,
    data,
    *,
    baseline=None,
    weights=None,
    na_action: str = "drop",
    tol: float = 1e-10,
    coef_tol: float = 1e-8,
    max_iter: int = 100,
    alpha: float = 0.0,
    l1_ratio: float = 0.0,
) -> MultinomialResults:
    """Multinomial (softmax) logit: ``gl.multinomial("choice ~ income + C(region)", df)``.

    The response is a column of the data with K >= 2 levels (K = 2 is the binary logit).
    ``baseline``: the reference level (default: the first category of a Categorical, else the
    first in sorted order).  ``weights``: case weights (column name or array).  ``alpha``,
    ``l1_ratio``: elastic-net penalty, 0 = ridge (see the module docstring); ``tol``/``coef_tol``: convergence on relative deviance
    change and on the Newton step."""
    if not isinstance(formula, str) or "~" not in formula:
        raise FormulaError(f"formula {formula!r} must be a string 'y ~ x1 + x2'")
    lhs, rhs = (s.strip() for s in formula.split("~", 1))
    df = _as_frame(data)
    if lhs not in df.columns:
        raise FormulaError(
            f"the response of a multinomial model must be a column of the data; {lhs!r} is not "
            f"(columns: {list(map(str, df.columns))})"
        )
    if _PLACEHOLDER in df.columns:
        raise DataError(f"the data may not have a column named {_PLACEHOLDER!r}")
    all_levels = _levels_of(df[lhs])
    codes = pd.Series(_codes(df[lhs], all_levels), index=df.index, name=_PLACEHOLDER)
    work = pd.concat([df, codes], axis=1)  # a new frame: the caller's data is never modified
    d = build_design(
        f"{_PLACEHOLDER} ~ {rhs}", work, weights=weights, na_action=na_action, sparse=False
    )
    y, levels = _finish_levels(d.y, all_levels, baseline, lhs)
    d = dataclasses.replace(
        d, y=y.astype(float), response_name=lhs, formula=formula, frame=df, response_levels=levels
    )
    return Multinomial(design=d, levels=levels).fit(
        tol=tol, coef_tol=coef_tol, max_iter=max_iter, alpha=alpha, l1_ratio=l1_ratio
    )


# ------------------------------------------------------------------------------------------------
# Results
# ------------------------------------------------------------------------------------------------
class MultinomialResults:
    """Results of a multinomial logit fit; names follow statsmodels' MNLogitResults."""

    def __init__(
        self, model: Multinomial, fit: MultinomialFit, alpha: float = 0.0, l1_ratio: float = 0.0
    ):
        self.model = model
        self.design = model.design
        self.levels = list(model.levels)
        self.baseline = self.levels[0]
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self._fit = fit
        self.converged = fit.converged
        self.n_iter = fit.n_iter
        self.history = list(fit.history)
        self.llf = float(fit.loglik)
        self.deviance = -2.0 * self.llf

    # --- labels -------------------------------------------------------------------------------
    @property
    def _terms(self) -> list[str]:
        return self.design.column_names

    @cached_property
    def _stacked_index(self) -> pd.MultiIndex:
        return pd.MultiIndex.from_product([self.levels[1:], self._terms], names=["level", "term"])

    @cached_property
    def param_names(self) -> list[str]:
        """Names of the stacked coefficients, ``term[level]``, usable in ``wald_test``."""
        return [f"{t}[{lev}]" for lev, t in self._stacked_index]

    def _frame(self, values: np.ndarray) -> pd.DataFrame:
        cols = pd.Index(self.levels[1:], name="level")
        return pd.DataFrame(values, index=pd.Index(self._terms, name="term"), columns=cols)

    # --- coefficients -------------------------------------------------------------------------
    @cached_property
    def params(self) -> pd.DataFrame:
        return self._frame(self._fit.coef)

    @cached_property
    def aliased(self) -> pd.Series:
        return pd.Series(self._fit.aliased, index=self._terms, name="aliased")

    def cov_params(self) -> pd.DataFrame:
        """Covariance of the stacked coefficients, index and columns (level, term)."""
        return pd.DataFrame(self._fit.cov, index=self._stacked_index, columns=self._stacked_index)

    @cached_property
    def bse(self) -> pd.DataFrame:
        m = len(self.levels) - 1
        return self._frame(np.sqrt(np.diag(self._fit.cov)).reshape(m, -1).T)

    @cached_property
    def tvalues(self) -> pd.DataFrame:
        return self.params / self.bse

    @cached_property
    def pvalues(self) -> pd.DataFrame:
        return self._frame(2.0 * stats.norm.sf(np.abs(self.tvalues.to_numpy())))

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Wald intervals: columns lower, upper; index (level, term), as statsmodels' MNLogit."""
        if not 0 < alpha < 1:
            raise GlmlogitError(f"alpha must be in (0, 1), got {alpha}")
        z = stats.norm.isf(alpha / 2)
        b = self.params.to_numpy().T.ravel()
        s = self.bse.to_numpy().T.ravel()
        return pd.DataFrame({"lower": b - z * s, "upper": b + z * s}, index=self._stacked_index)

    # --- model-level numbers ------------------------------------------------------------------
    @cached_property
    def rank(self) -> int:
        return int((~self._fit.aliased).sum())

    @cached_property
    def nobs(self) -> float:
        """Sum of the case weights (the number of rows for unit weights), as nnet's logLik."""
        s = float(np.sum(self.design.weights))
        return int(s) if s.is_integer() else s

    @property
    def n_dropped(self) -> int:
        return self.design.n_dropped

    @cached_property
    def _has_intercept(self) -> bool:
        i = self.design.intercept_index
        return i is not None and not self._fit.aliased[i]

    @cached_property
    def df_model(self) -> int:
        return (len(self.levels) - 1) * (self.rank - int(self._has_intercept))

    @cached_property
    def k_params(self) -> int:
        """Number of estimated coefficients, (K-1) x rank (nnet's edf)."""
        return (len(self.levels) - 1) * self.rank

    @cached_property
    def df_resid(self) -> float:
        return self.nobs - self.k_params

    @cached_property
    def llnull(self) -> float:
        """Log-likelihood of the intercept-only model (observed level shares; uniform when the
        model has no intercept)."""
        d = self.design
        counts = np.bincount(self.model.codes, weights=d.weights, minlength=len(self.levels))
        if not self._has_intercept:
            return float(counts.sum() * -np.log(len(self.levels)))
        return float(np.sum(counts * np.log(counts / counts.sum())))

    @property
    def null_deviance(self) -> float:
        return -2.0 * self.llnull

    @cached_property
    def aic(self) -> float:
        return -2.0 * self.llf + 2.0 * self.k_params

    @cached_property
    def bic(self) -> float:
        """-2 llf + k log(nobs), nobs the sum of case weights (R's BIC on a multinom fit)."""
        return -2.0 * self.llf + self.k_params * np.log(self.nobs)

    def pseudo_rsquared(self, kind: str = "mcf") -> float:
        """McFadden's 1 - llf/llnull ("mcf") or Cox-Snell 1 - exp(2 (llnull - llf) / n) ("cs")."""
        if kind == "mcf":
            return 1.0 - self.llf / self.llnull
        if kind == "cs":
            return float(1.0 - np.exp(2.0 * (self.llnull - self.llf) / self.nobs))
        raise GlmlogitError(f"pseudo_rsquared kind must be 'mcf' or 'cs', got {kind!r}")

    # --- prediction ---------------------------------------------------------------------------
    def predict(self, newdata=None, which: str = "prob") -> pd.DataFrame:
        """Class probabilities (columns: every level, baseline first; rows sum to 1), or with
        ``which="linear"`` the K-1 linear predictors x'b_k.  Rows with missing values give NaN."""
        if which not in ("prob", "linear"):
            raise GlmlogitError(f"which must be 'prob' or 'linear', got {which!r}")
        d = self.design
        if newdata is None:
            X, index = d.X, d.index
        else:
            X = d.rebuild(newdata)
            index = newdata.index if isinstance(newdata, pd.DataFrame) else pd.RangeIndex(len(X))
        X = cast(Any, X).toarray() if sp.issparse(X) else np.asarray(X, dtype=float)
        B = np.where(self._fit.aliased[:, None], 0.0, self._fit.coef)
        ok = np.isfinite(X).all(axis=1)
        eta = np.full((X.shape[0], len(self.levels)), np.nan)
        eta[ok, 0] = 0.0
        eta[ok, 1:] = X[ok] @ B
        if which == "linear":
            return pd.DataFrame(eta[:, 1:], index=index, columns=self.levels[1:])
        out = np.full_like(eta, np.nan)
        out[ok] = np.exp(eta[ok] - logsumexp(eta[ok], axis=1)[:, None])
        return pd.DataFrame(out, index=index, columns=self.levels)

    @cached_property
    def fittedvalues(self) -> pd.DataFrame:
        return self.predict()

    # --- tests --------------------------------------------------------------------------------
    def _constraints(self, hypothesis, q=None) -> tuple[np.ndarray, np.ndarray]:
        m, p = len(self.levels) - 1, len(self._terms)
        if isinstance(hypothesis, str):
            from formulaic.utils.constraints import LinearConstraints

            try:  # in terms of the design's columns: the same restriction at every level
                lc = LinearConstraints.from_spec(hypothesis, variable_names=self._terms)
                R1 = np.asarray(lc.constraint_matrix, float)
                q1 = np.asarray(lc.constraint_values, float)
                return np.kron(np.eye(m), R1), np.tile(q1, m)
            except Exception:
                pass
            try:  # in terms of the stacked names, term[level]
                lc = LinearConstraints.from_spec(hypothesis, variable_names=self.param_names)
            except Exception as err:
                raise GlmlogitError(
                    f"cannot parse hypothesis {hypothesis!r}: name design columns (tested at "
                    f"every level) or coefficients as term[level], e.g. {self.param_names[-1]!r}"
                ) from err
            return np.asarray(lc.constraint_matrix, float), np.asarray(lc.constraint_values, float)
        R = np.atleast_2d(np.asarray(hypothesis, dtype=float))
        qv = np.zeros(R.shape[0]) if q is None else np.asarray(q, dtype=float)
        if R.shape[1] == p and m > 1:
            return np.kron(np.eye(m), R), np.tile(np.broadcast_to(qv, (R.shape[0],)), m)
        if R.shape[1] != m * p:
            raise GlmlogitError(f"R must have {p} or {m * p} columns, got {R.shape[1]}")
        return R, qv

    def wald_test(self, hypothesis, q=None) -> inference.TestResult:
        """Wald chi-squared test.  ``"x1 = 0"`` (design column names) tests the restriction at
        every non-baseline level jointly; ``"x1[versicolor] = x1[virginica]"`` names single
        coefficients; or a matrix R with p columns (applied at every level) or (K-1) p columns
        (stacked level by level, as ``cov_params()``), and q."""
        if self.alpha > 0:
            raise GlmlogitError("Wald tests are not available for penalised fits")
        R, qv = self._constraints(hypothesis, q)
        b = self._fit.coef.T.ravel()
        return inference.wald(b, self._fit.cov, R, qv, use_f=False, df_resid=self.df_resid)

    def compare_lr(self, smaller: MultinomialResults) -> inference.TestResult:
        """Likelihood-ratio test of this model against a nested one fitted to the same rows."""
        if not isinstance(smaller, MultinomialResults):
            raise GlmlogitError("compare_lr needs another multinomial fit")
        if smaller.levels != self.levels or not np.array_equal(
            smaller.design.kept_rows, self.design.kept_rows
        ):
            raise GlmlogitError("the models must be fitted to the same rows and response levels")
        ddf = self.k_params - smaller.k_params
        if ddf <= 0:
            raise GlmlogitError(
                f"the models are not nested as given: {self.k_params} vs {smaller.k_params} "
                "coefficients"
            )
        stat = max(2.0 * (self.llf - smaller.llf), 0.0)
        return inference.TestResult(
            stat, ddf, float(stats.chi2.sf(stat, ddf)), "chi2", None, "LR test"
        )

    @cached_property
    def separation(self) -> MultinomialSeparation:
        d = self.design
        b, complete = separation_lp(
            d.X, self.model.codes, len(self.levels), d.weights, self._fit.aliased
        )
        dirs = np.where(
            np.isnan(b), "aliased", np.where(b > 0, "+inf", np.where(b < 0, "-inf", "finite"))
        )
        status = (
            "none"
            if np.all(np.nan_to_num(b) == 0)
            else ("complete" if complete else "quasi-complete")
        )
        return MultinomialSeparation(status, self._frame(dirs), self._frame(b))

    def summary(self, alpha: float = 0.05) -> MultinomialSummary:
        return MultinomialSummary(self, alpha=alpha)

    def __repr__(self) -> str:
        return (
            f"<MultinomialResults: {self.design.response_name} ({len(self.levels)} levels, "
            f"baseline {self.baseline!r}) ~ {len(self._terms)} columns, n={self.nobs}, "
            f"deviance={self.deviance:.6g}>"
        )
