"""Encoding a Dask DataFrame's partitions for :func:`glmlogit.dask.glm_dask`.

:class:`_Encoder` turns one pandas partition into ``(X, y, weights, offset)`` exactly as the whole
data would be encoded in memory (NA rows dropped, categoricals cast to their global levels, the
fitted ``ModelSpec``, or a block-by-block fast path for numeric and treatment-coded designs).
:func:`_scan_part` is the one pass that learns what the encoding needs (levels, moments, checks,
and for a numeric formula the starting IRLS pass).  Everything here is picklable for process
workers.
"""

from __future__ import annotations

import re
import uuid
import warnings
from typing import Any, cast

import numpy as np
import pandas as pd
import scipy.sparse as sp
from formulaic import Formula, ModelSpec
from formulaic.errors import FormulaicError

from .engine.dask_rows import _part_stats
from .engine.spill import Sink
from .errors import DataError, FormulaError

_SAMPLE_ROWS = 20
_NUMBER_RE = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")
_SCALE_RE = re.compile(r"^(center|scale|standardize)\(\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\)$")
_C_RE = r"\bC\(\s*{}\s*[,)]"


def _is_numeric(dtype) -> bool:
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


_UNKNOWN_CATEGORIES = "__UNKNOWN_CATEGORIES__"  # dask's placeholder in the meta of such columns


def _level_dtype(dtype, scans, col: str):
    """The column's dtype with its level order: a Categorical whose categories Dask does not
    know (read_parquet) gets the union of its partitions' categories, in order of appearance."""
    if isinstance(dtype, pd.CategoricalDtype) and _UNKNOWN_CATEGORIES in list(dtype.categories):
        order = dict.fromkeys(v for s in scans for v in s["cat_order"].get(col, ()))
        return pd.CategoricalDtype(list(order), ordered=dtype.ordered)
    return dtype


def _sorted_levels(values: list, dtype) -> list:
    """Level order of the in-memory fit: the dtype's order for a Categorical, else sorted."""
    if isinstance(dtype, pd.CategoricalDtype) and dtype.categories is not None:
        present = set(values)
        return [c for c in dtype.categories if c in present]
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


# --- encoding one partition ----------------------------------------------------------------------
class _Encoder:
    """Turns a pandas partition into ``(X, y, weights, offset)``: NA rows dropped, categoricals
    cast to their global levels, the design built with the fitted ModelSpec.  Picklable."""

    def __init__(
        self,
        *,
        used,
        na_cols,
        lhs,
        lhs_is_column,
        binomial,
        levels,
        cat_dtypes,
        weights_col,
        offset_col,
        spec=None,
        output="pandas",
    ):
        self.used = list(used)
        self.na_cols = list(na_cols)
        self.lhs = lhs
        self.lhs_is_column = lhs_is_column
        self.binomial = binomial
        self.levels = levels  # two response levels (binomial factor response), or None
        self.cat_dtypes: dict[str, pd.CategoricalDtype] = dict(cat_dtypes)
        self.weights_col = weights_col
        self.offset_col = offset_col
        self.spec: ModelSpec | None = spec
        self.output = output
        self._token = uuid.uuid4().hex

    def __dask_tokenize__(self):
        return ("glmlogit-encoder", self._token)

    def na_mask(self, df: pd.DataFrame) -> np.ndarray:
        """Rows with a missing value in any used column.  A NumPy float column whose sum is
        finite holds no NaN, and integer or boolean NumPy columns cannot hold one: only other
        columns are tested row by row (no copy of the partition, no n x k mask)."""
        na = np.zeros(len(df), bool)
        for c in self.na_cols:
            col = df[c]
            dt = col.dtype
            if isinstance(dt, np.dtype) and dt.kind in "iub":
                continue
            if isinstance(dt, np.dtype) and dt.kind == "f" and np.isfinite(col.to_numpy().sum()):
                continue
            na |= col.isna().to_numpy()
        return na

    def clean(self, df: pd.DataFrame) -> pd.DataFrame:
        na = self.na_mask(df)
        if na.any():
            df = df.loc[~na]
        return self.cast(df)

    def check_levels(self, df: pd.DataFrame) -> None:
        """An unseen categorical level in new data is an error naming the column and level."""
        for c, dt in self.cat_dtypes.items():
            if c not in df.columns:
                continue
            vals = pd.unique(df[c].dropna())
            seen = set(dt.categories)
            unseen = [v for v in vals if v not in seen]
            if unseen:
                raise DataError(
                    f"column {c!r} has level(s) {unseen[:5]} not seen when the model was "
                    f"fitted (known levels: {list(dt.categories)[:20]})"
                )

    def cast(self, df: pd.DataFrame) -> pd.DataFrame:
        """Categorical columns with the levels of the whole data (NA rows already dropped)."""
        if not self.cat_dtypes:
            return df
        new = {}
        for c, dt in self.cat_dtypes.items():
            if c not in df.columns:
                continue
            col = df[c]
            if isinstance(col.dtype, pd.CategoricalDtype):
                col = col.astype(object)
            new[c] = pd.Categorical(col, dtype=dt)
        return df.assign(**{k: pd.Series(v, index=df.index) for k, v in new.items()})

    def response(self, df: pd.DataFrame) -> np.ndarray:
        if self.lhs_is_column:
            col = df[self.lhs]
            if self.levels is not None:
                return (col.astype(object) == self.levels[1]).to_numpy(dtype=float)
            return col.to_numpy(dtype=float)
        ym = Formula(f"{self.lhs} ~ 1").get_model_matrix(df, na_action="ignore").lhs
        return np.asarray(ym, dtype=float).ravel()

    def vectors(self, df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        n = len(df)
        w = np.ones(n) if self.weights_col is None else df[self.weights_col].to_numpy(dtype=float)
        o = np.zeros(n) if self.offset_col is None else df[self.offset_col].to_numpy(dtype=float)
        return w, o

    def design(self, df: pd.DataFrame, na_action: str = "raise") -> Any:
        assert self.spec is not None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=FutureWarning)
            mm = self.spec.get_model_matrix(df, na_action=na_action, output=self.output)
        inner = getattr(mm, "__wrapped__", mm)
        if sp.issparse(inner):
            return sp.csr_matrix(cast(Any, inner), dtype=float)
        return np.asarray(mm, dtype=float)

    # -- the fast path: every design column is the intercept, a numeric column, a treatment
    # (or full-rank) indicator of a categorical column, or a product of these.  The partition is
    # then encoded block by block into one small reused buffer, without formulaic's per-call
    # overhead or a partition-sized design.  Checked against formulaic on the sample rows.
    fast: list[tuple] | None = None
    chunk_bytes: int = 1 << 21

    def plan_fast(self, dtypes, sample: pd.DataFrame) -> None:
        assert self.spec is not None
        self.fast = None
        if self.spec.transform_state or self.output != "pandas":
            return
        enc_state = self.spec.encoder_state
        plan: list[tuple] = []
        for name in map(str, self.spec.column_names):
            if name == "Intercept":
                plan.append(())
                continue
            factors: list[tuple] = []
            for piece in name.split(":"):
                kind = getattr(enc_state.get(piece, (None,))[0], "value", None)
                if kind == "numerical" and piece in dtypes.index and _is_numeric(dtypes[piece]):
                    factors.append((piece, None))
                    continue
                m = re.match(
                    r"^(?:C\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)|([A-Za-z_][A-Za-z0-9_]*))"
                    r"\[(?:T\.)?(.+)\]$",
                    piece,
                )
                col = (m.group(1) or m.group(2)) if m else None
                if m is None or not col or col not in self.cat_dtypes:
                    return
                cats = [str(c) for c in self.cat_dtypes[col].categories]
                if cats.count(m.group(3)) != 1:
                    return
                factors.append((col, cats.index(m.group(3))))
            plan.append(tuple(factors))
        self.fast = plan
        if len(sample) == 0:  # nothing to check yet (the caller re-plans on real rows)
            return
        try:
            ok = np.array_equal(next(iter(self.chunks(sample)))[0], self._formulaic(sample))
        except Exception:  # noqa: BLE001 - any mismatch means: use formulaic
            ok = False
        if not ok:
            self.fast = None

    def _formulaic(self, part):
        fast, self.fast = self.fast, None
        try:
            return self(part)[0]
        finally:
            self.fast = fast

    def chunks(self, part: pd.DataFrame, checked: bool = False, trusted: bool = False):
        """Yield (X, y, weights, offset) for blocks of rows of one partition (``checked``: its
        rows with a missing value are already dropped; ``trusted``: an earlier pass over these
        same rows found no missing value and a finite design, so neither is tested again)."""
        if self.fast is None:
            yield self(part)
            return
        df = self.cast(part) if checked or trusted else self.clean(part)
        n, p = len(df), len(self.fast)
        src: dict[tuple, np.ndarray] = {}
        for t in self.fast:
            for col, lev in t:
                if (col, lev is None) not in src:
                    src[(col, lev is None)] = (
                        df[col].to_numpy(dtype=float)
                        if lev is None
                        else np.asarray(df[col].cat.codes.to_numpy())
                    )
        y = self.response(df)
        w, o = self.vectors(df)
        step = max(256, self.chunk_bytes // (8 * max(p, 1)))
        flat = np.empty(min(step, n) * p)  # one reused buffer; each block Fortran-ordered
        for s in range(0, n, step):
            e = min(s + step, n)
            X = flat[: (e - s) * p].reshape((e - s, p), order="F")  # column fills are contiguous
            for j, t in enumerate(self.fast):
                col = X[:, j]
                if len(t) == 1 and t[0][1] is None:  # a numeric column: one copy
                    col[:] = src[(t[0][0], True)][s:e]
                    continue
                col[:] = 1.0
                for c, lev in t:
                    if lev is None:
                        col *= src[(c, True)][s:e]
                    else:
                        col *= src[(c, False)][s:e] == lev
            if not trusted and not np.isfinite(X.sum()):
                raise DataError(
                    "the design has non-finite value(s) after NA handling (e.g. inf in a column)"
                )
            yield X, y[s:e], w[s:e], o[s:e]

    def __call__(self, part: pd.DataFrame):
        df = self.clean(part)
        X = self.design(df)
        if sp.issparse(X):
            ok = bool(np.all(np.isfinite(cast(Any, X).data)))
        else:
            ok = bool(np.isfinite(X.sum())) or bool(np.isfinite(X).all())
        if not ok:
            raise DataError(
                "the design has non-finite value(s) after NA handling (e.g. log of a "
                "non-positive number)"
            )
        y = self.response(df)
        w, o = self.vectors(df)
        return X, y, w, o


# --- the scan: one pass learning what the encoding needs -----------------------------------------
def _scan_part(part: pd.DataFrame, enc: _Encoder, info: dict, sink: Sink | None = None) -> dict:
    n = len(part)
    na = enc.na_mask(part)
    df = part.loc[~na] if na.any() else part
    out: dict[str, Any] = {"n": n, "n_na": int(na.sum()), "n_fit": len(df)}
    out["uniques"] = {c: pd.unique(df[c]) for c in info["cat_cols"]}
    # a Categorical's own level order (Dask may not know it: read_parquet leaves it unknown)
    out["cat_order"] = {
        c: list(part[c].cat.categories)
        for c in info["cat_cols"]
        if isinstance(part[c].dtype, pd.CategoricalDtype)
    }
    mom = {}
    for c in info["moment_cols"]:
        x = df[c].to_numpy(dtype=float)
        m = float(np.mean(x)) if len(x) else 0.0
        mom[c] = (len(x), m, float(np.sum((x - m) ** 2)) if len(x) else 0.0)
    out["moments"] = mom
    out["sample"] = df.head(_SAMPLE_ROWS)
    w, o = enc.vectors(df)
    out["w_nonfinite"] = int((~np.isfinite(w)).sum())
    out["w_neg"] = int((w < 0).sum())
    out["n_pos"] = int((w > 0).sum())
    out["sum_w"] = float(np.sum(w))
    out["o_nonfinite"] = int((~np.isfinite(o)).sum()) if enc.offset_col is not None else 0
    out["o_nonzero"] = bool(np.any(o != 0)) if enc.offset_col is not None else False
    if info["factor_response"]:
        out["ylev_w"] = pd.Series(w).groupby(df[enc.lhs].to_numpy()).sum().to_dict()
        out["ylev_pos"] = pd.Series(w > 0).groupby(df[enc.lhs].to_numpy()).sum().to_dict()
        return out
    y = enc.response(df) if len(df) else np.zeros(0)
    out["y_nonfinite"] = int((~np.isfinite(y)).sum())
    out["sum_wy"] = float(np.sum(w * y))
    pos = w > 0
    out["y_min"] = float(np.min(y[pos])) if pos.any() else np.inf
    out["y_max"] = float(np.max(y[pos])) if pos.any() else -np.inf
    out["warned"] = []
    if len(df) and out["y_nonfinite"] == 0 and out["w_nonfinite"] == 0:
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            info["family"].check_response(y, w, enc.lhs)
        out["warned"] = [str(r.message) for r in rec]
    if info["start_p"] is not None:  # the starting IRLS pass, in the same read
        ctx = (_Checked(enc), info["family"], None, info["start_p"])
        out["start"] = _part_stats(df, ctx, None, sink=sink)
    return out


class _Checked:
    """The encoder of rows whose missing values the scan has already dropped (the same blocks
    as ``enc.chunks`` of the whole partition, without testing every column again).

    ``trusted``: the partitions themselves (not NA-dropped rows), which the scan's starting
    pass found to hold no missing value and to give a finite design in every block: the later
    IRLS passes over them skip both tests (the rows of a Dask collection are the same in every
    pass, as the fit already assumes).  ``__call__`` always tests: it serves other callers."""

    def __init__(self, enc: _Encoder, trusted: bool = False):
        self.enc = enc
        self.trusted = trusted

    def chunks(self, df: pd.DataFrame):
        if self.trusted:
            return self.enc.chunks(df, trusted=True)
        return self.enc.chunks(df, checked=True)

    def __call__(self, df: pd.DataFrame):
        return self.enc(df)


def _merge_moments(parts: list[tuple[int, float, float]]) -> tuple[int, float, float]:
    """Chan et al.'s pairwise merge of (count, mean, sum of squared deviations)."""
    n, m, m2 = 0, 0.0, 0.0
    for nb, mb, m2b in parts:
        if nb == 0:
            continue
        if n == 0:
            n, m, m2 = nb, mb, m2b
            continue
        tot = n + nb
        d = mb - m
        m = m + d * nb / tot
        m2 = m2 + m2b + d * d * n * nb / tot
        n = tot
    return n, m, m2


def _build_spec(rhs: str, sample: pd.DataFrame, output: str, formula: str) -> ModelSpec:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=FutureWarning)
            mm = Formula(rhs).get_model_matrix(sample, na_action="raise", output=output)
    except FormulaicError as err:
        raise FormulaError(f"cannot build the design for {formula!r}: {err}") from err
    return mm.model_spec


def _named_columns(formula: str, cols: list[str]) -> set[str]:
    """Columns named anywhere in the formula (formulaic's required_variables misses the
    arguments of stateful transforms such as center(x))."""
    names = set(re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", formula)) | set(
        re.findall(r"`([^`]+)`", formula)
    )
    return names & set(cols)


def _global_transform_state(spec: ModelSpec, scans, moment_cols, formula) -> ModelSpec:
    """Replace the sample's center/scale state by the whole data's; refuse other state."""
    ts = dict(spec.transform_state)
    if not ts:
        return spec
    new = {}
    for key, state in ts.items():
        m = _SCALE_RE.match(key)
        if not m or m.group(2) not in moment_cols:
            raise FormulaError(
                f"the stateful transform {key!r} in {formula!r} needs the whole column at once; "
                "on Dask data only center(x), scale(x) and standardize(x) of a column are "
                "supported: compute the others as columns first"
            )
        n, mean, m2 = _merge_moments([s["moments"][m.group(2)] for s in scans])
        st = dict(state)
        ddof = st.get("ddof", 1)
        if st.get("center") is not None:
            st["center"] = np.float64(mean)
            if st.get("scale") is not None:
                st["scale"] = np.float64(np.sqrt(m2 / (n - ddof)))
        elif st.get("scale") is not None:  # scale without centering: root mean square
            raise FormulaError(f"{key!r}: scaling without centering is not supported on Dask")
        new[key] = st
    return spec.update(transform_state=new)
