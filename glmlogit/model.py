"""The public fitting entry points: gl.glm(formula, data), gl.GLM(y, X).fit(), and shorthands."""

from __future__ import annotations

import importlib
import warnings
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .engine.irls import Fit, irls
from .engine.rows import DenseRows
from .engine.sparse import SparseRows
from .errors import GlmlogitError, PerfectSeparationWarning, SeparationError
from .families import Binomial, Family, get_family
from .formula import Design, as_dense, build_design, design_from_arrays
from .inference import anova_table
from .results import GLMResults


class GLM:
    """A GLM specification on a design: family + link + rows.  ``fit()`` returns GLMResults."""

    def __init__(
        self,
        y=None,
        X=None,
        family="binomial",
        link=None,
        weights=None,
        offset=None,
        *,
        design: Design | None = None,
        column_names=None,
        device=None,
    ):
        self.family: Family = get_family(family, link)
        binomial = isinstance(self.family, Binomial)
        if design is None:
            if y is None or X is None:
                raise GlmlogitError("GLM needs y and X (or use gl.glm with a formula)")
            design = design_from_arrays(y, X, weights, offset, column_names, binomial=binomial)
        self.design = design
        self.family.check_response(design.y, design.weights, design.response_name)
        if binomial:
            _check_two_classes(design)
        self.rows: Any
        if device is not None:
            # The per-iteration pass on an array namespace (CuPy for "cuda"); the p x p algebra
            # and the results stay on the host.
            from .engine.xp_rows import XpRows

            xp = importlib.import_module("cupy") if device in ("cuda", "gpu") else device
            self.rows = XpRows(as_dense(design.X), design.y, design.weights, design.offset, xp=xp)
        elif sp.issparse(design.X):
            self.rows = _sparse_rows(design)
        else:
            self.rows = DenseRows(design.X, design.y, design.weights, design.offset)
        self._fit_kw: dict = {}

    def fit(
        self,
        *,
        method: str = "irls",
        start=None,
        tol: float | None = None,
        coef_tol: float = 1e-10,
        max_iter: int | None = None,
        cov_type: str = "nonrobust",
        groups=None,
        cluster_correction: str | None = "stata",
        firth: bool = False,
        on_separation: str = "warn",
        penalty: str | None = None,
        alpha: float = 0.0,
        l1_ratio: float | None = None,
        penalty_factor=None,
        standardize: bool = False,
        **solver_options,
    ) -> GLMResults:
        """Fit the model.

        ``method``: "irls" (default; R's glm.fit), "newton", "lbfgs", "gd" or "sgd" (see
        docs/solvers.md; standard errors always come from the Fisher information at the
        solution).  ``max_iter``: None takes each method's own default (IRLS 100).  ``tol``: the method's convergence tolerance (IRLS: R's relative deviance
        rule, default 1e-8, plus ``coef_tol`` on the step).  ``penalty``: "l2", "l1" or
        "elasticnet" with ``alpha`` and ``l1_ratio`` (glmnet's objective; no standard errors for
        l1/elastic net).  ``cov_type``: "nonrobust", "HC0".."HC3" (R's sandwich::vcovHC) or
        "cluster" with ``groups=`` (a column name or array) and ``cluster_correction`` "stata"
        (G/(G-1) (n-1)/(n-k), statsmodels' and Stata's), "r" (G/(G-1), vcovCL's glm default) or
        None.  ``firth=True``: Firth's bias-reduced logistic regression.  ``on_separation``:
        "warn", "raise", "firth" or "ignore" (binomial models).
        """
        from .engine.solvers import METHODS, solve

        if method not in METHODS:
            raise GlmlogitError(
                f"method {method!r} is not available; choose one of {list(METHODS)}"
            )
        if on_separation not in ("warn", "raise", "firth", "ignore"):
            raise GlmlogitError(
                f"on_separation must be 'warn', 'raise', 'firth' or 'ignore', got {on_separation!r}"
            )
        self._fit_kw = dict(
            tol=1e-8 if tol is None else tol,
            coef_tol=coef_tol,
            max_iter=100 if max_iter is None else max_iter,
        )
        if firth:
            return self._fit_firth(start, max_iter or 100, cov_type, groups, cluster_correction)
        start_arr = None if start is None else np.asarray(start, float)
        if penalty is not None:
            return self._fit_penalized(
                penalty,
                alpha,
                l1_ratio,
                penalty_factor,
                standardize,
                start_arr,
                tol,
                max_iter or 100,
                cov_type,
            )
        if method == "irls":
            if solver_options:
                raise GlmlogitError(f"unknown fit option(s) {sorted(solver_options)} for IRLS")
            fit = irls(
                self.rows,
                self.family,
                start=start_arr,
                intercept_index=self.design.intercept_index,
                **self._fit_kw,
            )
        else:
            fit = solve(
                self._general_rows(),
                self.family,
                method,
                start=start_arr,
                tol=tol,
                max_iter=max_iter,
                intercept_index=self.design.intercept_index,
                **solver_options,
            )
        res = GLMResults(
            self, fit, cov_type, {"groups": groups, "cluster_correction": cluster_correction}
        )
        res.method = method
        if isinstance(self.family, Binomial):
            res.separation = self._check_separation(fit)
            if res.separation.separated and on_separation != "ignore":
                if on_separation == "raise":
                    raise SeparationError(str(res.separation), res.separation)
                if on_separation == "firth":
                    if self.family.link.name != "logit":
                        raise GlmlogitError(
                            "on_separation='firth' needs the logit link; "
                            f"this model uses {self.family.link.name}\n{res.separation}"
                        )
                    warnings.warn(
                        f"{res.separation}\nRefitted with Firth's penalized likelihood "
                        "(on_separation='firth').",
                        PerfectSeparationWarning,
                        stacklevel=3,
                    )
                    out = self._fit_firth(
                        start, max_iter or 100, cov_type, groups, cluster_correction
                    )
                    out.separation = res.separation
                    return out
                warnings.warn(str(res.separation), PerfectSeparationWarning, stacklevel=3)
        return res

    def _check_separation(self, fit: Fit):
        """The Konis LP, run when the cheap screen (an exact certificate of non-separation from
        the final IRLS step; see separation.needs_check) cannot rule separation out."""
        from .separation import detect_separation, needs_check, no_separation

        d = self.design
        # Sparse designs get the screen without X: the pass-free logit test (a proof, from eta
        # and the last step), else the heuristic; the X v form would densify X.  The LP, when
        # it must run, keeps X sparse.
        X = None if sp.issparse(d.X) else d.X
        logit = self.family.link.name == "logit"
        w_irls = None if logit else self.family.irls_terms(d.y, fit.eta, d.weights)[1]
        bse = np.sqrt(np.diag(fit.cov_unscaled))
        if needs_check(
            fit.mu,
            fit.coef,
            bse,
            y=d.y,
            weights=d.weights,
            X=X,
            cov=fit.cov_unscaled,
            irls_weights=w_irls,
            converged=fit.converged and not fit.diverging,
            step=fit.step if logit else None,
            xtwx=fit.xtwx,
            eta=fit.eta if logit else None,
        ):
            return detect_separation(d.X, d.y, d.weights, d.column_names, aliased=fit.aliased)
        return no_separation(d.column_names, fit.aliased, int(np.count_nonzero(d.weights)))

    def _fit_penalized(
        self, penalty, alpha, l1_ratio, penalty_factor, standardize, start, tol, max_iter, cov_type
    ) -> GLMResults:
        """glmnet's objective: deviance / (2 sum(w)) + alpha (l1_ratio |b|_1 +
        (1 - l1_ratio) / 2 |b|^2), intercept unpenalized."""
        from .engine.penalized import penalized_fit

        ratios = {"l2": 0.0, "l1": 1.0}
        if penalty not in ("l2", "l1", "elasticnet"):
            raise GlmlogitError(f"penalty must be 'l2', 'l1' or 'elasticnet', got {penalty!r}")
        if penalty == "elasticnet":
            if l1_ratio is None or not 0.0 <= l1_ratio <= 1.0:
                raise GlmlogitError("penalty='elasticnet' needs l1_ratio in [0, 1]")
            ratio = float(l1_ratio)
        else:
            if l1_ratio is not None and l1_ratio != ratios[penalty]:
                raise GlmlogitError(f"penalty={penalty!r} fixes l1_ratio at {ratios[penalty]}")
            ratio = ratios[penalty]
        if cov_type != "nonrobust":
            raise GlmlogitError("robust covariances are not available for penalized fits")
        fit = penalized_fit(
            self._general_rows(),
            self.family,
            alpha=alpha,
            l1_ratio=ratio,
            penalty_factor=penalty_factor,
            standardize=standardize,
            start=start,
            tol=1e-12 if tol is None else tol,
            max_iter=max_iter,
            intercept_index=self.design.intercept_index,
        )
        res = GLMResults(self, fit)
        res.penalty = {
            "penalty": penalty,
            "alpha": float(alpha),
            "l1_ratio": ratio,
            "standardize": bool(standardize),
        }
        res.method = "penalized IRLS" + (" + coordinate descent" if ratio > 0 else "")
        return res

    def _fit_firth(self, start, max_iter, cov_type, groups, cluster_correction) -> GLMResults:
        """Firth's bias-reduced (Jeffreys-prior penalized) logistic regression, as brglm2's
        AS_mean / logistf: finite estimates on separated data."""
        from .firth import firth_fit

        if not isinstance(self.family, Binomial) or self.family.link.name != "logit":
            raise GlmlogitError(
                f"firth=True is available for binomial logit models, not {self.family.name} "
                f"with a {self.family.link.name} link"
            )
        d = self.design
        X = as_dense(d.X)
        ff = firth_fit(
            X,
            d.y,
            d.weights,
            d.offset if d.has_offset else None,
            max_iter=max_iter,
            start=start,
            column_names=d.column_names,
        )
        stats = self.rows.accumulate(self.family, np.where(ff.aliased, 0.0, ff.coef))
        fit = Fit(
            coef=ff.coef,
            aliased=ff.aliased,
            cov_unscaled=ff.cov,
            xtwx=stats.xtwx,
            deviance=ff.deviance,
            n_iter=ff.n_iter,
            converged=ff.converged,
            eta=ff.eta,
            mu=ff.mu,
            message="" if ff.converged else "Firth iterations did not converge",
        )
        res = GLMResults(
            self, fit, cov_type, {"groups": groups, "cluster_correction": cluster_correction}
        )
        res.firth = ff
        res.method = "firth"
        return res

    def _general_rows(self):
        """The rows for the solvers that need the design as a matrix (penalized fits, the
        gradient methods): a sparse design held as factor codes goes back to SparseRows."""
        from .engine.catrows import CatRows

        if isinstance(self.rows, CatRows):
            d = self.design
            return SparseRows(d.X, d.y, d.weights, d.offset)
        return self.rows

    def _fit_columns(self, cols, start=None) -> Fit:
        """Refit on a subset of the design's columns (null model, sequential anova)."""
        cols = list(cols)
        icpt = self.design.intercept_index
        sub_icpt = cols.index(icpt) if icpt in cols else None
        return irls(
            self.rows.take_columns(cols),
            self.family,
            start=start,
            intercept_index=sub_icpt,
            **(self._fit_kw or {}),
        )

    def _submodel(self, cols) -> GLMResults:
        d = self.design
        cols = list(cols)
        names = [d.column_names[c] for c in cols]
        sub = Design(
            y=d.y,
            X=d.X[:, cols],
            column_names=names,
            weights=d.weights,
            offset=d.offset,
            index=d.index,
            kept_rows=d.kept_rows,
            n_input=d.n_input,
            response_name=d.response_name,
            intercept_index=names.index("Intercept") if "Intercept" in names else None,
            offset_name=d.offset_name,
            has_offset=d.has_offset,
        )
        m = GLM(family=self.family, design=sub)
        m._fit_kw = self._fit_kw
        return GLMResults(m, self._fit_columns(cols))


def _check_two_classes(d: Design) -> None:
    y = d.y if d.weights.min(initial=1.0) > 0 else d.y[d.weights > 0]
    if len(y) and y.min() == y.max() and y[0] in (0.0, 1.0):
        cls = "1 (success)" if y[0] == 1 else "0 (failure)"
        raise GlmlogitError(
            f"binomial response {d.response_name!r} has a single class: all {len(y)} rows are {cls}"
        )


def _sparse_rows(design: Design):
    """Rows for a sparse design: its factor terms (blocks of indicator columns, at most one 1 per
    row) as integer codes with the other columns dense (CatRows: X'WX by group sums, no sparse
    product), or SparseRows when the design has no such term."""
    from .engine.catrows import CatRows

    cat = CatRows.from_sparse(
        design.X, design.terms, design.y, design.weights, design.offset, min_levels=2
    )
    if cat is not None:
        return cat
    return SparseRows(design.X, design.y, design.weights, design.offset)


def glm(
    formula: str,
    data,
    family="binomial",
    link=None,
    *,
    weights=None,
    offset=None,
    na_action: str = "drop",
    sparse: bool | str = "auto",
    device=None,
    progress=False,
    **fit_kw,
) -> GLMResults:
    """Fit a generalized linear model from an R-style formula (binomial/logit by default).

    Parameters
    ----------
    formula : str
        ``"y ~ x1 + C(g) + np.log(x2) + x1:x2"`` (formulaic syntax; ``- 1`` or ``0 +`` drops the
        intercept; ``C(g, contr.treatment(base="b"))`` picks a reference level).
    data : pandas DataFrame or dict of arrays
        Never modified.
    family, link : str or Family
        "binomial", "poisson", "gaussian", "gamma", "inverse_gaussian" (or a
        ``glmlogit.families`` object) and one of R's links for it (R's default if omitted).
    weights, offset : column name or array, optional
        Prior weights (R's ``weights=``; for binomial proportions, the numbers of trials) and an
        offset on the linear-predictor scale.
    na_action : "drop" or "raise"
        Rows with a missing value in any used variable are dropped (and counted in
        ``res.n_dropped``) or raise an error naming the columns.
    sparse : bool or "auto"
        Build a scipy.sparse design ("auto": when categoricals bring 200 or more levels).  Its
        factor terms are then fitted as integer codes, X'WX by group sums and solved through
        each factor's diagonal block (docs/scale.md); results equal the dense fit.
    device : None, "cuda" or an array namespace
        Run the per-iteration pass over the rows on a GPU (CuPy) or another array namespace.
    progress : bool or callable
        Dask data only: report each pass's deviance and time.  (Also for Dask data only:
        ``cache=``, the local copy of the decoded partitions, see ``glmlogit.dask.glm_dask``.)
    **fit_kw
        Passed to :meth:`GLM.fit`: ``method``, ``tol``, ``max_iter``, ``start``, ``cov_type``,
        ``groups``, ``cluster_correction``, ``firth``, ``on_separation``, ``penalty``, ``alpha``,
        ``l1_ratio``, ``penalty_factor``, ``standardize``.

    Returns
    -------
    GLMResults
    """
    from .dask import is_dask_collection  # cheap: does not import dask

    if is_dask_collection(data):
        from .dask import glm_dask

        return glm_dask(
            formula,
            data,
            family,
            link,
            weights=weights,
            offset=offset,
            na_action=na_action,
            sparse=sparse,
            progress=progress,
            **fit_kw,
        )
    fam = get_family(family, link)
    design = build_design(
        formula,
        data,
        weights=weights,
        offset=offset,
        na_action=na_action,
        binomial=isinstance(fam, Binomial),
        sparse=sparse,
    )
    return GLM(family=fam, design=design, device=device).fit(**fit_kw)


def logit(formula: str, data, **kw) -> GLMResults:
    return glm(formula, data, family="binomial", link="logit", **kw)


def probit(formula: str, data, **kw) -> GLMResults:
    return glm(formula, data, family="binomial", link="probit", **kw)


def poisson(formula: str, data, **kw) -> GLMResults:
    return glm(formula, data, family="poisson", link=kw.pop("link", "log"), **kw)


def anova(*results: GLMResults) -> pd.DataFrame:
    """``anova(small, big, ...)``: LR (chi2) or F tests between nested models, as R's anova.glm.
    ``anova(res)``: R's sequential table, one row per formula term, the first for the null model."""
    if not results:
        raise GlmlogitError("anova needs at least one fitted model")
    if len(results) > 1:
        n = {len(r.design.y) for r in results}
        if len(n) > 1:
            raise GlmlogitError(f"models were fitted to different numbers of rows: {sorted(n)}")
        return anova_table(list(results))
    res = results[0]
    d = res.design
    icpt = d.intercept_index
    cols: list[int] = [icpt] if icpt is not None else []
    models: list = []
    labels: list[str] = []
    if cols:
        models.append(res.model._submodel(cols))
    else:  # no intercept: R's NULL row is the empty model, eta = offset
        models.append(SimpleNamespace(df_resid=res.nobs, deviance=res.null_deviance))
    labels.append("NULL")
    for term, tcols in d.terms.items():
        if tcols == [icpt]:
            continue
        cols = cols + list(tcols)
        models.append(res.model._submodel(sorted(cols)) if len(cols) < len(d.column_names) else res)
        labels.append(term)
    out = anova_table(models)
    out.index = labels
    return out
