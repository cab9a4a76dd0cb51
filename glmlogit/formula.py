"""Formula + data -> Design.  The only module that imports formulaic.

Rows with a missing value in any variable the model uses (response, predictors, weights,
offset) are dropped *before* the design is built, as R's ``model.frame(na.action=na.omit)`` with
``drop.unused.levels=TRUE``, so categorical levels are learned from the rows actually fitted.
The formulaic ``ModelSpec`` is kept so that new data is encoded the same way.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd
import scipy.sparse as sp
from formulaic import Formula, ModelSpec
from formulaic.errors import FormulaicError

from .errors import DataError, FormulaError

_NUMBER_RE = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")


@dataclass
class Design:
    """What the engine needs (arrays) plus what results need to speak in the user's terms."""

    y: np.ndarray
    X: Any  # ndarray, or scipy.sparse CSR for sparse designs
    column_names: list[str]
    weights: np.ndarray
    offset: np.ndarray
    index: pd.Index  # labels of the fitted rows in the caller's data
    kept_rows: np.ndarray  # positions of the fitted rows in the caller's data
    n_input: int
    response_name: str = "y"
    formula: str | None = None
    spec: ModelSpec | None = None
    terms: dict[str, list[int]] = field(default_factory=dict)
    intercept_index: int | None = None
    response_levels: list[Any] | None = None
    offset_name: str | None = None
    weights_name: str | None = None
    has_offset: bool = False
    input_index: pd.Index | None = None  # every row of the caller's data, fitted or not
    frame: pd.DataFrame | None = None  # the caller's data (read only), for groups= by name

    def __post_init__(self) -> None:
        if self.input_index is None:
            self.input_index = pd.RangeIndex(self.n_input)

    @property
    def n_dropped(self) -> int:
        return self.n_input - len(self.kept_rows)

    def rebuild(self, newdata) -> np.ndarray:
        """Encode new data with the fitted ModelSpec (same levels, contrasts, transform state)."""
        if self.spec is None:
            X = np.asarray(newdata, dtype=float)
            if X.ndim == 1:
                X = X[None, :] if len(self.column_names) > 1 else X[:, None]
            if X.shape[1] != len(self.column_names):
                raise DataError(
                    f"new data has {X.shape[1]} columns; the model has {len(self.column_names)} "
                    f"({', '.join(self.column_names)})"
                )
            return X
        df = _as_frame(newdata, "newdata")
        needed = require_columns(self.spec, df)
        _check_levels(self.spec, df)
        cats = [c for c in needed if isinstance(df[c].dtype, pd.CategoricalDtype)]
        if cats:  # levels of the dtype that no row uses are not "new levels"
            df = df.assign(**{c: df[c].cat.remove_unused_categories() for c in cats})
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                mm = self.spec.get_model_matrix(df, na_action="ignore")
        except (FormulaicError, Warning) as err:
            raise DataError(f"cannot encode new data with the model's formula: {err}") from err
        inner: Any = getattr(mm, "__wrapped__", mm)
        if sp.issparse(inner):
            return cast(Any, inner).toarray()
        return np.asarray(mm, dtype=float)


def as_dense(X: Any) -> np.ndarray:
    """A dense ndarray view of a design (scipy.sparse densified)."""
    return cast(Any, X).toarray() if sp.issparse(X) else np.asarray(X)


def _as_frame(data, what: str = "data") -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, dict):
        try:
            return pd.DataFrame(data)
        except ValueError as err:
            raise DataError(f"{what} as a dict must hold equal-length columns: {err}") from err
    if hasattr(data, "to_pandas"):  # polars and friends
        return data.to_pandas()
    raise DataError(
        f"{what} must be a pandas DataFrame or a dict of arrays, got {type(data).__name__}"
    )


def require_columns(spec, df: pd.DataFrame) -> list[str]:
    """The columns the model's formula uses (sorted); new data lacking one is a DataError that
    names them."""
    needed = sorted(spec.required_variables)
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise DataError(
            f"new data lacks column(s) {missing} used by the model "
            f"(it has {list(map(str, df.columns))})"
        )
    return needed


def _check_levels(spec: ModelSpec, df: pd.DataFrame) -> None:
    """An unseen categorical level in new data is an error naming the column and level."""
    for key, (kind, state) in spec.encoder_state.items():
        if getattr(kind, "value", kind) != "categorical" or "categories" not in state:
            continue
        col = key if key in df.columns else None
        if col is None:
            m = re.match(r"^C\(\s*([A-Za-z_][A-Za-z0-9_]*)", key)
            col = m.group(1) if m and m.group(1) in df.columns else None
        if col is None:
            continue
        seen = set(state["categories"])
        vals = pd.unique(df[col].dropna())
        unseen = [v for v in vals if v not in seen]
        if unseen:
            raise DataError(
                f"column {col!r} has level(s) {unseen[:5]} not seen when the model was fitted "
                f"(known levels: {list(state['categories'])})"
            )


def _vector(arg, df: pd.DataFrame, n: int, what: str) -> tuple[np.ndarray | None, str | None]:
    """weights=/offset= as a column name or an array of length n."""
    if arg is None:
        return None, None
    if isinstance(arg, str):
        if arg not in df.columns:
            raise DataError(f"{what}={arg!r} is not a column of the data")
        col = df[arg]
        if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
            raise DataError(f"{what} column {arg!r} must be numeric, got dtype {col.dtype}")
        return col.to_numpy(dtype=float, na_value=np.nan), arg
    a = np.asarray(arg, dtype=float).ravel()
    if a.shape[0] != n:
        raise DataError(f"{what} has {a.shape[0]} values but the data has {n} rows")
    return a, None


def binomial_response(col: pd.Series | np.ndarray, name: str) -> tuple[np.ndarray, list | None]:
    """0/1 numbers, booleans, or a two-level factor/strings (second level = success, as R)."""
    s = pd.Series(col) if not isinstance(col, pd.Series) else col
    if pd.api.types.is_bool_dtype(s):
        return s.to_numpy(dtype=float), None
    if isinstance(s.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(s):
        levels = (
            list(s.cat.categories[s.cat.categories.isin(s.unique())])
            if isinstance(s.dtype, pd.CategoricalDtype)
            else sorted(pd.unique(s.dropna()), key=str)
        )
        if len(levels) != 2:
            raise DataError(
                f"binomial response {name!r} must have exactly two levels, found {len(levels)}: "
                f"{levels[:10]} (use gl.multinomial for more than two)"
            )
        return (s == levels[1]).to_numpy(dtype=float), levels
    return s.to_numpy(dtype=float), None


def build_design(
    formula: str,
    data,
    *,
    weights=None,
    offset=None,
    na_action: str = "drop",
    binomial: bool = False,
    sparse: bool | str = "auto",
) -> Design:
    df = _as_frame(data)
    n_input = len(df)
    if n_input == 0:
        raise DataError("the data has no rows")
    if na_action not in ("drop", "raise"):
        raise DataError(f"na_action must be 'drop' or 'raise', got {na_action!r}")
    try:
        f = Formula(formula)
    except FormulaicError as err:
        raise FormulaError(f"cannot parse formula {formula!r}: {err}") from err
    if not hasattr(f, "lhs") or not str(f.lhs).strip():
        raise FormulaError(f"formula {formula!r} has no response: write it as 'y ~ x1 + x2'")
    lhs, rhs = str(f.lhs), f.rhs
    if re.search(r"(^|[^\w.])offset\s*\(", formula):
        raise FormulaError(
            "offset() inside the formula is not supported: pass offset='column' or an array "
            "to gl.glm (R's offset= argument)"
        )
    used = sorted(set(f.required_variables))
    missing = [v for v in used if v not in df.columns]
    if missing:
        raise FormulaError(
            f"the formula names column(s) {missing} that are not in the data "
            f"(columns: {list(map(str, df.columns))})"
        )
    # Missing values: one mask over every used variable, weights and offset included.
    w_all, w_name = _vector(weights, df, n_input, "weights")
    o_all, o_name = _vector(offset, df, n_input, "offset")
    na = df[used].isna().any(axis=1).to_numpy() if used else np.zeros(n_input, bool)
    na_cols = [c for c in used if df[c].isna().any()]
    for vec, nm in ((w_all, w_name or "weights"), (o_all, o_name or "offset")):
        if vec is not None and np.isnan(vec).any():
            na = na | np.isnan(vec)
            na_cols.append(nm)
    if na.any() and na_action == "raise":
        raise DataError(
            f"{int(na.sum())} of {n_input} rows have missing values, in column(s) {na_cols}; "
            "use na_action='drop' to drop them"
        )
    kept = np.flatnonzero(~na)
    if len(kept) == 0:
        raise DataError(f"all {n_input} rows have a missing value in column(s) {na_cols}")
    sub = df.iloc[kept].reset_index(drop=True) if na.any() else df.reset_index(drop=True)
    for c in used:  # unused categories would give all-zero columns (R drops unused levels)
        if isinstance(sub[c].dtype, pd.CategoricalDtype):
            sub[c] = sub[c].cat.remove_unused_categories()
    # Response
    levels = None
    if lhs in sub.columns:
        ycol = sub[lhs]
        if binomial:
            y, levels = binomial_response(ycol, lhs)
        else:
            if not pd.api.types.is_numeric_dtype(ycol) and not pd.api.types.is_bool_dtype(ycol):
                raise DataError(
                    f"response {lhs!r} must be numeric for this family, got dtype {ycol.dtype}"
                )
            y = ycol.to_numpy(dtype=float)
    else:
        try:
            ym = Formula(f"{lhs} ~ 1").get_model_matrix(sub, na_action="ignore").lhs
        except FormulaicError as err:
            raise FormulaError(f"cannot evaluate response {lhs!r}: {err}") from err
        if ym.shape[1] != 1:
            raise FormulaError(
                f"response {lhs!r} must be one numeric column, it gives {ym.shape[1]}"
            )
        y = np.asarray(ym, dtype=float).ravel()
    if not np.all(np.isfinite(y)):
        bad = int((~np.isfinite(y)).sum())
        raise DataError(f"response {lhs!r} has {bad} non-finite value(s) after NA handling")
    # Design matrix
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=FutureWarning)
            mm = rhs.get_model_matrix(
                sub,
                na_action="raise",
                output="sparse" if _want_sparse(sparse, sub, used) else "pandas",
            )
    except FormulaicError as err:
        raise FormulaError(f"cannot build the design for {formula!r}: {err}") from err
    except TypeError as err:
        raise DataError(
            f"cannot build the design for {formula!r}: {err} (is a text column used as a number?)"
        ) from err
    spec: ModelSpec = mm.model_spec
    _check_string_numbers(spec, sub)
    names = [str(c) for c in spec.column_names]
    if sp.issparse(getattr(mm, "__wrapped__", mm)):
        X: Any = sp.csr_matrix(mm.__wrapped__, dtype=float)
        finite = np.isfinite(X.data)
        if not finite.all():
            cols = np.unique(X.tocoo().col[~np.isfinite(X.tocoo().data)])
            raise DataError(
                f"design column(s) {[names[j] for j in cols]} have {int((~finite).sum())} "
                "non-finite value(s) after NA handling (e.g. log of a non-positive number)"
            )
    else:
        X = np.asarray(mm, dtype=float)
        finite = np.isfinite(X)
        if not finite.all():
            bad_cols = [names[j] for j in np.flatnonzero(~finite.all(axis=0))]
            raise DataError(
                f"design column(s) {bad_cols} have {int((~finite).sum())} non-finite value(s) "
                "after NA handling (e.g. log of a non-positive number)"
            )
    if X.shape[0] != len(sub):
        raise DataError(
            f"the design has {X.shape[0]} rows but the data has {len(sub)} after NA handling"
        )
    wts = np.ones(len(kept)) if w_all is None else w_all[kept]
    off = np.zeros(len(kept)) if o_all is None else o_all[kept]
    check_weights_offset(wts, off if o_all is not None else None)
    terms = {str(t): list(map(int, ix)) for t, ix in spec.term_indices.items()}
    icpt = names.index("Intercept") if "Intercept" in names else None
    return Design(
        y=y,
        X=X,
        column_names=names,
        weights=wts,
        offset=off,
        index=df.index[kept],
        kept_rows=kept,
        n_input=n_input,
        response_name=lhs,
        formula=formula,
        spec=spec,
        terms=terms,
        intercept_index=icpt,
        response_levels=levels,
        offset_name=o_name,
        weights_name=w_name,
        has_offset=o_all is not None,
        input_index=df.index,
        frame=df,
    )


SPARSE_LEVELS = 200  # sparse="auto": a sparse design once categoricals bring this many levels


def _want_sparse(sparse: bool | str, df: pd.DataFrame, used: list[str]) -> bool:
    if sparse in (True, False):
        return bool(sparse)
    if sparse != "auto":
        raise DataError(f"sparse must be True, False or 'auto', got {sparse!r}")
    levels = 0
    for c in used:
        col = df[c]
        if isinstance(col.dtype, pd.CategoricalDtype):
            levels += len(col.cat.categories)
        elif not pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            levels += int(col.nunique())
    return levels >= SPARSE_LEVELS


def check_weights_offset(w: np.ndarray, off: np.ndarray | None) -> None:
    if not np.all(np.isfinite(w)):
        raise DataError(f"weights have {int((~np.isfinite(w)).sum())} non-finite value(s)")
    if np.any(w < 0):
        raise DataError(f"weights must be non-negative; {int((w < 0).sum())} are negative")
    if not np.any(w > 0):
        raise DataError("every weight is zero: nothing to fit")
    if off is not None and not np.all(np.isfinite(off)):
        raise DataError(f"offset has {int((~np.isfinite(off)).sum())} non-finite value(s)")


def _check_string_numbers(spec: ModelSpec, df: pd.DataFrame) -> None:
    """A text column of numbers used bare in a formula would silently become a factor."""
    for key, (kind, _state) in spec.encoder_state.items():
        if getattr(kind, "value", kind) != "categorical" or key not in df.columns:
            continue
        col = df[key]
        if isinstance(col.dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(col):
            continue
        vals = col.dropna().astype(str)
        if len(vals) and vals.map(lambda v: bool(_NUMBER_RE.match(v))).all():
            raise DataError(
                f"column {key!r} holds numbers stored as text; convert it with pd.to_numeric "
                f"to use it as a number, or write C({key}) to use it as a categorical"
            )


def _colsums_and_intercept(X: np.ndarray, block: int = 1 << 14) -> tuple[np.ndarray, int | None]:
    """Column sums of X and the first column whose every entry is exactly 1 (None if none), in
    one read of X by row blocks (the intercept test runs on the block while it is in cache)."""
    n, p = X.shape
    cand = np.flatnonzero(X[0] == 1.0) if n else np.zeros(0, dtype=int)
    colsum = np.zeros(p)
    ones = np.ones(min(n, block))
    for s in range(0, n, block):
        Xb = X[s : s + block]
        colsum += ones[: Xb.shape[0]] @ Xb
        if len(cand):
            cand = cand[(Xb[:, cand] == 1.0).all(axis=0)]
    return colsum, (int(cand[0]) if len(cand) else None)


def design_from_arrays(y, X, weights=None, offset=None, names=None, binomial=False) -> Design:
    """For users who build their own design: gl.GLM(y, X, ...)."""
    index = (
        X.index if isinstance(X, pd.DataFrame) else (y.index if isinstance(y, pd.Series) else None)
    )
    if isinstance(X, pd.DataFrame):
        names = names or [str(c) for c in X.columns]
        nonnum = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
        if nonnum:
            raise DataError(f"design column(s) {nonnum} are not numeric")
    if sp.issparse(X):
        return _sparse_array_design(y, X, weights, offset, names, binomial)
    Xa = np.asarray(X, dtype=float)
    if Xa.ndim == 1:
        Xa = Xa[:, None]
    n, p = Xa.shape
    if n == 0:
        raise DataError("the design has no rows")
    names = list(names) if names is not None else [f"x{j}" for j in range(p)]
    if len(names) != p:
        raise DataError(f"{len(names)} names given for {p} design columns")
    yname = str(y.name) if isinstance(y, pd.Series) and y.name is not None else "y"
    if binomial:
        ya, levels = binomial_response(y if isinstance(y, pd.Series) else np.asarray(y), yname)
    else:
        ya, levels = np.asarray(y, dtype=float).ravel(), None
    if ya.shape[0] != n:
        raise DataError(f"y has {ya.shape[0]} values but X has {n} rows")
    if np.isnan(ya).any():
        raise DataError(
            f"y has {int(np.isnan(ya).sum())} missing value(s); drop them first "
            "(the array interface drops nothing)"
        )
    # Column sums are finite iff every entry is (barring overflow): no n x p temporary.  One
    # read of X in row blocks also finds the intercept (a column equal to 1 in every row).
    colsum, icpt = _colsums_and_intercept(Xa)
    if not np.all(np.isfinite(colsum)) and not np.isfinite(Xa).all():
        bad_rows = int((~np.isfinite(Xa)).any(axis=1).sum())
        bad = [names[j] for j in np.flatnonzero(~np.isfinite(Xa).all(axis=0))]
        raise DataError(
            f"design column(s) {bad} have missing or non-finite values in {bad_rows} row(s); "
            "drop or fix them first (the array interface drops nothing)"
        )
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float).ravel()
    o = np.zeros(n) if offset is None else np.asarray(offset, dtype=float).ravel()
    for a, nm in ((w, "weights"), (o, "offset")):
        if a.shape[0] != n:
            raise DataError(f"{nm} has {a.shape[0]} values but X has {n} rows")
    check_weights_offset(w, o if offset is not None else None)
    return Design(
        y=ya,
        X=Xa,
        column_names=names,
        weights=w,
        offset=o,
        index=index if index is not None else pd.RangeIndex(n),
        kept_rows=np.arange(n),
        n_input=n,
        response_name=yname,
        intercept_index=icpt,
        response_levels=levels,
        terms={nm: [j] for j, nm in enumerate(names)},
        has_offset=offset is not None,
        input_index=index if index is not None else pd.RangeIndex(n),
    )


def _sparse_array_design(y, X, weights, offset, names, binomial) -> Design:
    Xs = sp.csr_matrix(X, dtype=float)
    n, p = Xs.shape
    if not np.all(np.isfinite(Xs.data)):
        raise DataError("the sparse design has missing or non-finite values")
    names = list(names) if names is not None else [f"x{j}" for j in range(p)]
    ya, levels = (
        binomial_response(y if isinstance(y, pd.Series) else np.asarray(y), "y")
        if binomial
        else (np.asarray(y, dtype=float).ravel(), None)
    )
    if ya.shape[0] != n or np.isnan(ya).any():
        raise DataError(f"y must have {n} non-missing values")
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float).ravel()
    o = np.zeros(n) if offset is None else np.asarray(offset, dtype=float).ravel()
    check_weights_offset(w, o if offset is not None else None)
    ones = np.asarray(Xs.multiply(Xs == 1).sum(axis=0)).ravel()
    icpt = next((int(j) for j in np.flatnonzero(ones == n)), None)
    return Design(
        y=ya,
        X=Xs,
        column_names=names,
        weights=w,
        offset=o,
        index=pd.RangeIndex(n),
        kept_rows=np.arange(n),
        n_input=n,
        intercept_index=icpt,
        response_levels=levels,
        terms={nm: [j] for j, nm in enumerate(names)},
        has_offset=offset is not None,
    )
