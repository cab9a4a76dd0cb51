"""Marginal effects with delta-method standard errors, and a grid of predictor values.

``margeff(res)`` gives, for each predictor *variable* of the model, the average over the fitted
rows of the effect on the mean response (the probability, for a binomial model):

- a numeric variable: the derivative dmu/dx (or an elasticity, ``method=``).  A variable that
  enters several design columns (``x + I(x**2)``, ``x:z``, ``np.log(x)``) gets one effect, the
  derivative through all of them, as R's ``margins`` / ``marginaleffects`` and Stata's ``margins``
  give; a variable that is exactly one column gets the same number as statsmodels' ``get_margeff``.
- a categorical variable (``C(g)``, a text or pandas Categorical column): one discrete change per
  level, mu with every row set to that level minus mu with every row set to the reference level
  (the treatment base, else the first level), averaged over rows, as Stata's ``margins, dydx(i.g)``.
- with ``dummy=True`` a numeric 0/1 variable: the discrete change from 0 to 1 (statsmodels'
  ``dummy=True``); with ``count=True`` a non-negative integer variable: (mu(x+1) - mu(x-1)) / 2
  (statsmodels' ``count=True``).

Standard errors: the delta method, ``J V J'`` with ``V = res.cov_params()`` (so robust and cluster
covariances carry through) and ``J`` the analytic Jacobian of the averaged effects with respect to
the coefficients.  Averages are weighted by the prior weights (all 1 unless ``weights=`` was given:
for binomial proportions with trials as weights, an average over trials); statsmodels ignores
weights (and refuses offsets), so it is comparable only on unweighted fits without offset.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .errors import DataError, GlmlogitError
from .formula import as_dense

__all__ = ["MarginalEffects", "margeff", "prediction_grid"]

METHODS = {"dydx": "dy/dx", "eyex": "d(lny)/d(lnx)", "dyex": "dy/d(lnx)", "eydx": "d(lny)/dx"}
ATS = ("overall", "mean")


# --- second derivative of the inverse link ------------------------------------------------------
def _mu_eta2(link, eta: np.ndarray) -> np.ndarray:
    """d^2 mu / d eta^2: analytic for the common links, a central difference otherwise."""
    name = link.name
    if name == "logit":
        m1 = link.mu_eta(eta)
        return m1 * (1.0 - 2.0 * link.inverse(eta))
    if name == "probit":
        return -eta * stats.norm.pdf(eta)
    if name == "identity":
        return np.zeros_like(eta)
    if name == "log":
        return np.exp(eta)
    if name == "cloglog":
        return link.mu_eta(eta) * (1.0 - np.exp(eta))
    if name == "cauchit":
        return -2.0 * eta / (np.pi * (1.0 + eta * eta) ** 2)
    if name == "inverse":
        return 2.0 / eta**3
    if name == "sqrt":
        return np.full_like(eta, 2.0)
    if name == "inverse_squared":
        return 0.75 * eta**-2.5
    h = 1e-5 * (1.0 + np.abs(eta))
    return (link.mu_eta(eta + h) - link.mu_eta(eta - h)) / (2.0 * h)


# --- what each effect needs ---------------------------------------------------------------------
@dataclass
class _Spec:
    """One row of the result: a derivative (X, G, x) or a discrete change (X0 -> X1, / div)."""

    label: str
    variable: str
    kind: str  # "derivative" | "discrete" | "count" | "level"
    X0: np.ndarray | None = None  # discrete: the "from" design; derivative: the design itself
    X1: np.ndarray | None = None  # discrete: the "to" design; derivative: dX/dx (the G matrix)
    x: np.ndarray | None = None  # derivative: the variable's values (for the ex methods)
    div: float = 1.0
    defined: bool = True  # False when every design column of the variable is aliased


def _values(res, method: str, spec: _Spec, b, off, w) -> tuple[float, np.ndarray]:
    """The weighted-average effect and its gradient with respect to the full coefficient vector."""
    link = res.family.link
    W = float(np.sum(w))
    ey = method.startswith("ey")
    assert spec.X0 is not None and spec.X1 is not None
    if spec.kind == "derivative":
        X, G = spec.X0, spec.X1
        eta = X @ b + off
        m1, m2 = link.mu_eta(eta), _mu_eta2(link, eta)
        s = G @ b
        e = m1 * s
        # d e_i / d b = m2 s X_i + m1 G_i, kept as row weights on X and G (no n x p temporary)
        cx, cg = m2 * s, m1
        if method in ("dyex", "eyex"):
            assert spec.x is not None
            e, cx, cg = e * spec.x, cx * spec.x, cg * spec.x
        if ey:
            mu = link.inverse(eta)
            cx = cx / mu - e * m1 / mu**2
            cg = cg / mu
            e = e / mu
        grad = X.T @ (w * cx) + G.T @ (w * cg)
        return float(w @ e) / W, np.asarray(grad).ravel() / W
    eta0, eta1 = spec.X0 @ b + off, spec.X1 @ b + off
    mu0, mu1 = link.inverse(eta0), link.inverse(eta1)
    d0, d1 = link.mu_eta(eta0), link.mu_eta(eta1)
    if ey:
        with np.errstate(divide="ignore"):
            e = np.log(mu1) - np.log(mu0)
        d0, d1 = d0 / mu0, d1 / mu1
    else:
        e = mu1 - mu0
    grad = spec.X1.T @ (w * d1) - spec.X0.T @ (w * d0)
    return float(w @ e) / W / spec.div, np.asarray(grad).ravel() / W / spec.div


# --- finding the variables ----------------------------------------------------------------------
@dataclass
class _Var:
    name: str
    categorical: bool
    first_col: int
    columns: list[int]
    factor: str | None = None  # the categorical factor's expression, e.g. "C(race)"
    levels: list[Any] | None = None
    reference: Any = None


def _formula_variables(res) -> list[_Var]:
    d = res.design
    spec = d.spec
    data_vars = set(spec.variables_by_source.get("data", set()))
    var_cols = {str(k): list(v) for k, v in spec.variable_indices.items()}
    cat_factors = {}  # factor expression -> (levels, reference)
    for key, (kind, state) in spec.encoder_state.items():
        if getattr(kind, "value", kind) != "categorical" or "categories" not in state:
            continue
        levels = list(state["categories"])
        contrasts = getattr(state.get("contrasts"), "contrasts", None)
        base = getattr(contrasts, "base", None)
        ref = levels[0]
        if type(contrasts).__name__ == "TreatmentContrasts" and any(_same(base, v) for v in levels):
            ref = next(v for v in levels if _same(base, v))
        cat_factors[str(key)] = (levels, ref)
    factor_vars = {str(f): {str(v) for v in vs} for f, vs in spec.factor_variables.items()}
    out = []
    for v in data_vars:
        cols = var_cols.get(v, [])
        if not cols:
            continue
        cats = [f for f in cat_factors if v in factor_vars.get(f, set())]
        if cats:
            # the factor of a main-effect term first (its columns name the levels), else any
            main = [f for f in cats if f in d.terms]
            f = (main or cats)[0]
            levels, ref = cat_factors[f]
            out.append(_Var(v, True, min(cols), cols, f, levels, ref))
        else:
            out.append(_Var(v, False, min(cols), cols))
    return sorted(out, key=lambda u: (u.first_col, u.name))


def _same(a, b) -> bool:
    try:
        return bool(a == b)
    except Exception:
        return False


class _Builder:
    """Designs with one variable changed, for every fitted row."""

    def __init__(self, res):
        self.res = res
        d = res.design
        self.d = d
        self.X = as_dense(d.X).astype(float, copy=False)
        self.formula = d.spec is not None and d.frame is not None
        self.frame = d.frame.iloc[d.kept_rows] if self.formula else None

    def column(self, v: _Var) -> np.ndarray:
        if self.frame is not None:
            return self.frame[v.name].to_numpy()
        return self.X[:, v.first_col]

    def simple(self, v: _Var) -> bool:
        """The variable is exactly one design column of its own (x, not I(x**2) or x:z)."""
        return v.columns == [v.first_col] and (
            not self.formula or self.d.column_names[v.first_col] == v.name
        )

    def with_value(self, v: _Var, value) -> np.ndarray:
        """The design with the variable set to ``value`` (scalar or per-row array) in every row."""
        if self.simple(v) and not v.categorical:
            X = self.X.copy()
            X[:, v.first_col] = value
            return X
        assert self.frame is not None
        col = self.frame[v.name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            new: Any = pd.Categorical(
                np.broadcast_to(np.asarray(value, dtype=object), (len(col),)),
                categories=col.cat.categories,
            )
        elif np.ndim(value) == 0:
            new = np.full(len(col), value, dtype=object if isinstance(value, str) else None)
        else:
            new = value
        return self.d.rebuild(self.frame.assign(**{v.name: new}))

    def gradient(self, v: _Var, x: np.ndarray) -> np.ndarray:
        """dX/dx row by row: exact for a simple column, a central difference otherwise."""
        if self.simple(v):
            G = np.zeros_like(self.X)
            G[:, v.first_col] = 1.0
            return G
        sd = float(np.std(x))
        h = 6e-6 * (sd if sd > 0 else max(1.0, float(np.max(np.abs(x)))))
        return (self.with_value(v, x + h) - self.with_value(v, x - h)) / (2.0 * h)


def _array_variables(res) -> list[_Var]:
    d = res.design
    return [
        _Var(nm, False, j, [j]) for j, nm in enumerate(d.column_names) if j != d.intercept_index
    ]


def _is_dummy(x: np.ndarray) -> bool:
    return bool(np.min(x) == 0 and np.max(x) == 1 and np.all(x % 1.0 == 0))


def _is_count(x: np.ndarray) -> bool:
    return bool(np.all(x % 1.0 == 0) and np.var(x) != 0 and np.all(x >= 0) and not _is_dummy(x))


def _specs(res, dummy: bool, count: bool, variables) -> Iterator[_Spec]:
    d = res.design
    formula = d.spec is not None and d.frame is not None
    found = _formula_variables(res) if formula else _array_variables(res)
    if variables is not None:
        wanted = [variables] if isinstance(variables, str) else list(variables)
        names = [v.name for v in found]
        unknown = [v for v in wanted if v not in names]
        if unknown:
            raise GlmlogitError(f"variables {unknown} are not predictors of the model ({names})")
        found = [v for v in found if v.name in wanted]
    if not found:
        raise GlmlogitError("the model has no predictors to compute marginal effects for")
    B = _Builder(res)
    aliased = np.asarray(res.aliased, bool)
    for v in found:
        if aliased[v.columns].all():  # not estimable, as R's NA
            levels = [lv for lv in (v.levels or []) if not _same(lv, v.reference)]
            labels = [f"{v.factor}[T.{lv}]" for lv in levels] if v.categorical else [v.name]
            for lab in labels:
                yield _Spec(lab, v.name, "level" if v.categorical else "derivative", defined=False)
            continue
        if v.categorical:
            assert v.levels is not None
            X0 = B.with_value(v, v.reference)
            for lev in v.levels:
                if _same(lev, v.reference):
                    continue
                yield _Spec(f"{v.factor}[T.{lev}]", v.name, "level", X0, B.with_value(v, lev))
            continue
        raw = B.column(v)
        if not pd.api.types.is_numeric_dtype(np.asarray(raw).dtype) or pd.api.types.is_bool_dtype(
            np.asarray(raw).dtype
        ):
            raise GlmlogitError(f"variable {v.name!r} is neither numeric nor categorical")
        x = np.asarray(raw, dtype=float)
        if dummy and _is_dummy(x):
            yield _Spec(v.name, v.name, "discrete", B.with_value(v, 0.0), B.with_value(v, 1.0))
        elif count and _is_count(x):
            lo, hi = B.with_value(v, x - 1.0), B.with_value(v, x + 1.0)
            yield _Spec(v.name, v.name, "count", lo, hi, div=2.0)
        else:
            yield _Spec(v.name, v.name, "derivative", B.X, B.gradient(v, x), x)


# --- the result ---------------------------------------------------------------------------------
class MarginalEffects:
    """Average (``at="overall"``) or at-the-means (``at="mean"``) marginal effects.

    ``margeff`` (Series), ``margeff_se``, ``margeff_cov`` (DataFrame), ``zvalues``, ``pvalues``,
    ``kind`` (Series: derivative, discrete, count or level), ``conf_int(alpha)``,
    ``summary_frame(alpha)`` and a readable ``str()``."""

    def __init__(self, res, at: str, method: str, labels, kinds, variables, values, jac):
        self.results = res
        self.at = at
        self.method = method
        self.jacobian = pd.DataFrame(jac, index=labels, columns=res.params.index)
        keep = ~np.asarray(res.aliased, bool)
        V = np.asarray(res.cov_params(), float)[np.ix_(keep, keep)]
        Jk = jac[:, keep]
        cov = Jk @ V @ Jk.T
        self.margeff = pd.Series(values, index=labels, name=METHODS[method])
        self.margeff_cov = pd.DataFrame(cov, index=labels, columns=labels)
        self.margeff_se = pd.Series(np.sqrt(np.diag(cov)), index=labels, name="std_err")
        self.kind = pd.Series(kinds, index=labels, name="kind")
        self.variable = pd.Series(variables, index=labels, name="variable")
        self.cov_type = res.cov_type

    @property
    def zvalues(self) -> pd.Series:
        return pd.Series(self.margeff / self.margeff_se, name="z")

    @property
    def pvalues(self) -> pd.Series:
        return pd.Series(2 * stats.norm.sf(np.abs(self.zvalues)), self.margeff.index, name="pvalue")

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        if not 0 < alpha < 1:
            raise GlmlogitError(f"alpha must be in (0, 1), got {alpha}")
        q = stats.norm.ppf(1 - alpha / 2)
        return pd.DataFrame(
            {
                "lower": self.margeff - q * self.margeff_se,
                "upper": self.margeff + q * self.margeff_se,
            }
        )

    def summary_frame(self, alpha: float = 0.05) -> pd.DataFrame:
        """Columns: the effect (named by the method, e.g. ``dy/dx``), ``std_err``, ``z``,
        ``pvalue``, ``ci_lower``, ``ci_upper`` (normal reference, as statsmodels)."""
        ci = self.conf_int(alpha)
        return pd.DataFrame(
            {
                METHODS[self.method]: self.margeff,
                "std_err": self.margeff_se,
                "z": self.zvalues,
                "pvalue": self.pvalues,
                "ci_lower": ci["lower"],
                "ci_upper": ci["upper"],
            }
        )

    def __str__(self) -> str:
        what = "Average marginal effects" if self.at == "overall" else "Marginal effects at means"
        f = self.summary_frame()
        lines = [
            f"{what} ({METHODS[self.method]}), delta-method standard errors "
            f"({self.cov_type} covariance)",
            "",
        ]
        body = f.copy()
        body["kind"] = self.kind
        lines.append(body.to_string(float_format=lambda v: f"{v:.6g}"))
        if (self.kind != "derivative").any():
            lines += [
                "",
                "level: change from the reference level; discrete: change from 0 to 1; "
                "count: (mu(x+1) - mu(x-1)) / 2",
            ]
        return "\n".join(lines) + "\n"

    def __repr__(self) -> str:
        return self.__str__()

    def to_markdown(self, alpha: float = 0.05, digits: int = 4) -> str:
        """The summary frame as a GitHub-flavoured Markdown table (with the kind of each row)."""
        from .summary import _md_code, _md_escape, _md_table, format_pvalue

        f = self.summary_frame(alpha)
        level = f"{100 * (1 - alpha):.10g}%"
        heads = ["Variable", METHODS[self.method], "Std. Error", "z", "Pr(>|z|)"]
        heads += [f"{level} CI lower", f"{level} CI upper", "Kind"]

        def num(v: float) -> str:
            return f"{v:.{digits}f}" if np.isfinite(v) else "NA"

        rows = []
        table = f.to_numpy(dtype=float)
        for lab, (est, se, z, p, lo, hi) in zip(f.index, table):
            cells = [num(est), num(se), f"{z:.3f}" if np.isfinite(z) else "NA"]
            cells += [format_pvalue(float(p)) or "NA", num(lo), num(hi)]
            kind = str(self.kind.loc[lab])
            rows.append([_md_code(str(lab))] + [_md_escape(c) for c in cells] + [kind])
        return (
            "\n".join(_md_table([_md_escape(h) for h in heads], rows, ["l"] + ["r"] * 6 + ["l"]))
            + "\n"
        )


def margeff(
    res,
    at: str = "overall",
    method: str = "dydx",
    dummy: bool = True,
    count: bool = False,
    variables=None,
) -> MarginalEffects:
    """Marginal effects of each predictor on the mean response, with delta-method SEs.

    at: ``"overall"`` (average of the effects over the fitted rows, weighted by the prior weights)
    or ``"mean"`` (the effect at the average design row, Stata's ``atmeans``).
    method: ``"dydx"``, ``"eyex"`` (elasticity), ``"dyex"``, ``"eydx"`` (semi-elasticities), as
    statsmodels.  Discrete changes (factor levels, dummies, counts) are on the mean scale, or
    differences of log means for the ``ey`` methods; the ``ex`` part does not apply to them.
    dummy: numeric 0/1 variables as a change from 0 to 1 (factors are always discrete changes).
    count: non-negative integer variables as (mu(x+1) - mu(x-1)) / 2.
    variables: a name or list of names to restrict the computation to.
    """
    if at not in ATS:
        raise GlmlogitError(f"at must be one of {list(ATS)}, got {at!r}")
    if method not in METHODS:
        raise GlmlogitError(f"method must be one of {list(METHODS)}, got {method!r}")
    if not isinstance(res.params, pd.Series):
        raise GlmlogitError("margeff needs a single-equation GLM result")
    d = res.design
    b = np.where(np.asarray(res.aliased, bool), 0.0, np.asarray(res.params, float))
    w = np.asarray(d.weights, float)
    off = np.asarray(d.offset, float)
    wm = w / w.sum()
    if at == "mean":
        off, w = np.array([wm @ off]), np.ones(1)
    labels, kinds, names, vals, jac = [], [], [], [], []
    for s in _specs(res, dummy, count, variables):
        if at == "mean":  # the average design row (Stata's atmeans, statsmodels' at="mean")
            s.X0 = None if s.X0 is None else (wm @ s.X0)[None, :]
            s.X1 = None if s.X1 is None else (wm @ s.X1)[None, :]
            s.x = None if s.x is None else np.array([wm @ s.x])
        if not s.defined:
            v, g = np.nan, np.full(len(b), np.nan)
        else:
            with np.errstate(over="ignore", invalid="ignore"):
                v, g = _values(res, method, s, b, off, w)
        labels.append(s.label)
        kinds.append(s.kind)
        names.append(s.variable)
        vals.append(v)
        jac.append(g)
    return MarginalEffects(res, at, method, labels, kinds, names, np.array(vals), np.vstack(jac))


# --- a grid of predictor values -----------------------------------------------------------------
def prediction_grid(res, values: dict | None = None, /, **kw) -> pd.DataFrame:
    """A data frame of predictor values for ``res.predict`` / ``res.get_prediction``.

    Every combination of the given values (``prediction_grid(res, age=[20, 30], smoke=[0, 1])``,
    or a dict for names that are not Python identifiers); every other variable held at its
    (weighted) mean over the fitted rows if numeric, at its reference level if categorical.  An
    offset column is held at its mean too, unless given.
    """
    given = dict(values or {})
    given.update(kw)
    d = res.design
    w = np.asarray(d.weights, float)
    if d.spec is None or d.frame is None:
        names = list(d.column_names)
        unknown = [k for k in given if k not in names]
        if unknown:
            raise DataError(f"{unknown} are not columns of the model's design ({names})")
        X = as_dense(d.X)
        base = {nm: float(w @ X[:, j] / w.sum()) for j, nm in enumerate(names)}
        order = names
        frame = None
    else:
        frame = d.frame.iloc[d.kept_rows]
        order = [c for c in d.frame.columns if c in d.spec.required_variables]
        if d.offset_name:
            order.append(d.offset_name)
        unknown = [k for k in given if k not in order]
        if unknown:
            raise DataError(f"{unknown} are not variables of the model (it uses {order})")
        cats = {v.name: v for v in _formula_variables(res) if v.categorical}
        base = {}
        for c in order:
            if c in cats:
                base[c] = cats[c].reference
            else:
                col = pd.to_numeric(frame[c], errors="raise").to_numpy(dtype=float)
                base[c] = float(w @ col / w.sum())
        for c, vals in given.items():
            if c in cats:
                levels = cats[c].levels or []
                bad = [v for v in _as_list(vals) if not any(_same(v, lev) for lev in levels)]
                if bad:
                    raise DataError(
                        f"{c!r}: level(s) {bad} were not seen when the model was fitted "
                        f"(known levels: {levels})"
                    )
    keys = list(given)
    combos = list(itertools.product(*[_as_list(given[k]) for k in keys])) if keys else [()]
    rows = []
    for combo in combos:
        row = dict(base)
        row.update(dict(zip(keys, combo)))
        rows.append(row)
    out = pd.DataFrame(rows, columns=order)
    if frame is not None:
        for c in order:
            if c in frame.columns and isinstance(frame[c].dtype, pd.CategoricalDtype):
                out[c] = pd.Categorical(out[c], categories=frame[c].cat.categories)
    return out


def _as_list(v) -> list:
    if isinstance(v, str | bytes) or np.ndim(v) == 0:
        return [v]
    return list(v)
