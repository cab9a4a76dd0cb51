"""GLMs on Dask DataFrames: out of core, or on a cluster through ``dask.distributed``.

``glm_dask(formula, ddf, ...)`` (what ``gl.glm`` calls for a Dask DataFrame) fits in these steps:

1. **Scan** (one pass): per partition, the rows with a missing value in a used variable (or the
   weights/offset) are counted and dropped, as R's ``na.omit``; the levels of every categorical
   variable, the moments of numeric ones, the weight and response checks and a few clean rows are
   collected and merged on the client.
2. **Encoding**: the formulaic ``ModelSpec`` is built on those sample rows with every categorical
   variable cast to a pandas ``Categorical`` holding *all* its levels (sorted as the in-memory fit
   sorts them), and the state of ``center(x)`` / ``scale(x)`` / ``standardize(x)`` set from the
   global moments, so every partition is encoded exactly as the whole data would be in memory.
3. **IRLS**: :class:`~glmlogit.engine.dask_rows.DaskRows` maps each partition to its sufficient
   statistics (X'WX, score, deviance) and sums them with a tree reduction; the p x p algebra runs on
   the client in ``irls``.  One pass over the data per iteration.
4. **Results** (:class:`~glmlogit.dask_results.DaskGLMResults`, in ``dask_results.py``):
   coefficient-level numbers come from the fit; the Pearson chi-squared, log-likelihood and null
   deviance take one more pass; per-row quantities (fitted values, residuals, predictions) are
   lazy Dask Series.

Supported formula features: numeric columns and stateless transforms (``np.log(x)``,
``I(x**2)``), interactions, categoricals (string/categorical columns, ``C(x)``, with contrasts),
and ``center``/``scale``/``standardize`` of a plain column.  Other stateful transforms (``poly``,
``bs``, ...) need the whole column at once and raise :class:`FormulaError`.
"""

from __future__ import annotations

import os
import re
import sys
import uuid
import warnings
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd
import scipy.sparse as sp
from formulaic import Formula, ModelSpec
from formulaic.errors import FormulaicError

from .dask_results import (
    DaskGLM,
    DaskGLMResults,
    _blas_single,
    _new_design_part,
    is_dask_collection,
)
from .engine.dask_rows import DaskRows, _part_stats, _sum_stats
from .engine.rows import PassStats
from .engine.spill import Sink, SpillCache
from .errors import DataError, DataWarning, FormulaError, GlmlogitError
from .families import Binomial, get_family

__all__ = ["glm_dask", "is_dask_collection", "DaskGLMResults", "DaskGLM", "DaskDesign"]

_SAMPLE_ROWS = 20
_NUMBER_RE = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")
_SCALE_RE = re.compile(r"^(center|scale|standardize)\(\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\)$")
_C_RE = r"\bC\(\s*{}\s*[,)]"
_W_COL = "__glmlogit_weights__"
_O_COL = "__glmlogit_offset__"


def _is_numeric(dtype) -> bool:
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


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

    def chunks(self, part: pd.DataFrame):
        """Yield (X, y, weights, offset) for blocks of rows of one partition."""
        if self.fast is None:
            yield self(part)
            return
        df = self.clean(part)
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
        buf = np.empty((min(step, n), p), order="F")  # column fills are contiguous
        for s in range(0, n, step):
            e = min(s + step, n)
            X = buf[: e - s]
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
            if not np.isfinite(X.sum()):
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
        ctx = (enc, info["family"], None, info["start_p"])
        out["start"] = _part_stats(part, ctx, None, sink=sink)
    return out


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


# --- design and model ----------------------------------------------------------------------------
@dataclass
class DaskDesign:
    """What results need to speak in the user's terms, for a design that stays in Dask.

    ``weights`` is the scalar 1.0 when no prior weights were given (the per-row weights otherwise
    live in the Dask DataFrame, never on the client)."""

    column_names: list[str]
    formula: str
    spec: ModelSpec
    terms: dict[str, list[int]]
    intercept_index: int | None
    response_name: str
    response_levels: list | None
    offset_name: str | None
    weights_name: str | None
    has_offset: bool
    n_input: int
    n_fitted: int
    nobs: int
    sum_w: float
    sum_wy: float
    offset_nonzero: bool
    ddf: Any  # the Dask DataFrame projected on the columns the model uses
    encoder: _Encoder
    weights: Any = 1.0
    ddf_full: Any = None  # the caller's Dask DataFrame (plus assigned weights/offset series)

    @property
    def n_dropped(self) -> int:
        return self.n_input - self.n_fitted

    @property
    def y(self) -> _RowCount:
        """The response stays in Dask: only ``len(design.y)`` (the number of fitted rows) is
        available here, which is what code shared with in-memory designs asks of it."""
        return _RowCount(self.n_fitted)

    def rebuild(self, newdata) -> np.ndarray:
        """Encode a pandas frame with the fitted spec (unseen levels are an error)."""
        df = newdata if isinstance(newdata, pd.DataFrame) else pd.DataFrame(newdata)
        return _new_design_part(df, self.encoder)


class _RowCount:
    def __init__(self, n: int):
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __repr__(self) -> str:
        return f"<{self.n} rows in Dask>"


# --- the entry point -----------------------------------------------------------------------------
_FIT_KW = {"start", "tol", "coef_tol", "max_iter", "cov_type", "groups", "cluster_correction"}


def glm_dask(
    formula: str,
    ddf,
    family="binomial",
    link=None,
    *,
    weights=None,
    offset=None,
    na_action: str = "drop",
    sparse: bool | str = False,
    progress=False,
    cache: bool | str = "auto",
    **fit_kw,
) -> DaskGLMResults:
    """Fit a GLM to a Dask DataFrame; the same arguments and results as ``gl.glm``.

    ``weights`` / ``offset``: column names (or Dask Series partitioned like ``ddf``).
    ``sparse=True`` encodes each partition as a scipy.sparse design (high-cardinality factors).
    ``progress=True`` prints each pass's deviance and timings to stderr (a callable receives
    the lines instead); the same lines are logged at INFO on the ``glmlogit.dask`` logger.
    ``cache``: the first pass writes each partition's decoded design to a temporary directory on
    local disk (n x (p + 1) doubles), which the later passes read instead of decoding the data
    again; removed when the fit returns.  "auto" (default): on unless the scheduler is a
    ``dask.distributed`` cluster (whose workers may not share this disk); True: on; a path: on,
    in that directory (one every worker sees); False: off.  The results are bit-identical.
    Fitting options (``start``, ``tol``, ``coef_tol``, ``max_iter``, ``cov_type`` ("nonrobust",
    "HC0".."HC3", "cluster" with ``groups=`` a column name)) are as ``gl.glm``'s."""
    unknown = set(fit_kw) - _FIT_KW
    if fit_kw.get("firth"):
        raise GlmlogitError("firth=True is not available for Dask data")
    unknown.discard("firth")
    fit_kw.pop("firth", None)
    if fit_kw.pop("method", "irls") != "irls":
        raise GlmlogitError("only method='irls' is available for Dask data")
    if unknown:
        raise GlmlogitError(f"unknown argument(s) for a Dask fit: {sorted(unknown)}")
    if na_action not in ("drop", "raise"):
        raise DataError(f"na_action must be 'drop' or 'raise', got {na_action!r}")
    if not (isinstance(cache, bool) or isinstance(cache, str | os.PathLike)):
        raise GlmlogitError(f"cache must be 'auto', True, False or a directory, got {cache!r}")
    fam = get_family(family, link)
    binomial = isinstance(fam, Binomial)
    printer = None
    if progress is True:
        printer = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    elif callable(progress):
        printer = progress

    try:
        f = Formula(formula)
    except FormulaicError as err:
        raise FormulaError(f"cannot parse formula {formula!r}: {err}") from err
    if not hasattr(f, "lhs") or not str(f.lhs).strip():
        raise FormulaError(f"formula {formula!r} has no response: write it as 'y ~ x1 + x2'")
    lhs, rhs = str(f.lhs), str(f.rhs)
    if "1" not in {str(t) for t in f.rhs}:
        # "0 + x" / "x - 1": formulaic's string of the terms omits the removed intercept
        rhs = f"0 + {rhs}" if rhs.strip() else "0"
    cols = list(map(str, ddf.columns))
    used = sorted(set(f.required_variables) | _named_columns(formula, cols))
    missing = [v for v in used if v not in cols]
    if missing:
        raise FormulaError(
            f"the formula names column(s) {missing} that are not in the data (columns: {cols})"
        )
    ddf_full = ddf
    wcol = ocol = None
    wname = oname = None
    for arg, tmp, what in ((weights, _W_COL, "weights"), (offset, _O_COL, "offset")):
        if arg is None:
            continue
        if isinstance(arg, str):
            if arg not in cols:
                raise DataError(f"{what}={arg!r} is not a column of the data")
            if not _is_numeric(ddf.dtypes[arg]):
                raise DataError(
                    f"{what} column {arg!r} must be numeric, got dtype {ddf.dtypes[arg]}"
                )
            name, vcol = arg, arg
        elif is_dask_collection(arg):
            ddf_full = ddf_full.assign(**{tmp: arg})
            name, vcol = None, tmp
        else:
            raise DataError(
                f"on Dask data {what}= must be a column name or a Dask Series partitioned like "
                f"the data, got {type(arg).__name__}"
            )
        if what == "weights":
            wcol, wname = vcol, name
        else:
            ocol, oname = vcol, name
    needed = list(dict.fromkeys(used + [c for c in (wcol, ocol) if c is not None]))
    proj = ddf_full[needed]
    dtypes = proj.dtypes

    lhs_is_column = lhs in cols
    factor_response = (
        lhs_is_column
        and binomial
        and not _is_numeric(dtypes[lhs])
        and not pd.api.types.is_bool_dtype(dtypes[lhs])
    )
    if (
        lhs_is_column
        and not binomial
        and not (_is_numeric(dtypes[lhs]) or pd.api.types.is_bool_dtype(dtypes[lhs]))
    ):
        raise DataError(
            f"response {lhs!r} must be numeric for this family, got dtype {dtypes[lhs]}"
        )
    rhs_vars = [v for v in used if v != lhs or re.search(rf"\b{re.escape(lhs)}\b", rhs)]
    cat_cols = [
        c
        for c in rhs_vars
        if not _is_numeric(dtypes[c])
        and not pd.api.types.is_bool_dtype(dtypes[c])
        or re.search(_C_RE.format(re.escape(c)), rhs)
    ]
    moment_cols = sorted(
        {
            m.group(2)
            for t in re.findall(r"(?:center|scale|standardize)\([^()]*\)", rhs)
            if (m := _SCALE_RE.match(t)) and m.group(2) in cols and _is_numeric(dtypes[m.group(2)])
        }
    )
    scan_cat = cat_cols + ([lhs] if factor_response and lhs not in cat_cols else [])
    enc = _Encoder(
        used=used,
        na_cols=needed,
        lhs=lhs,
        lhs_is_column=lhs_is_column,
        binomial=binomial,
        levels=None,
        cat_dtypes={},
        weights_col=wcol,
        offset_col=ocol,
    )
    info = {
        "cat_cols": scan_cat,
        "moment_cols": moment_cols,
        "family": fam,
        "factor_response": factor_response,
        "start_p": None,
    }
    want_sparse = bool(sparse) if sparse in (True, False) else False
    pre_names = None
    if not cat_cols and not moment_cols and not factor_response and not want_sparse:
        # Nothing to learn from the data for the encoding: the spec is known before the scan,
        # which then also computes the starting IRLS pass (one pass over the data saved).
        try:
            enc.spec = _build_spec(rhs, proj._meta, "pandas", formula)
            enc.plan_fast(dtypes, proj._meta)
            pre_names = list(map(str, enc.spec.column_names))
            info["start_p"] = len(pre_names)
        except Exception:  # noqa: BLE001 - fall back to the spec from the sample rows
            enc.spec, enc.fast, pre_names = None, None, None
    pre_fast = enc.fast

    import dask

    parts = list(proj.to_delayed())
    spill = _spill_cache(cache, len(parts))
    # the scan writes the cache where it also computes the starting pass (a numeric formula)
    sinks = spill.sinks() if spill is not None and info["start_p"] is not None else None
    try:
        with _blas_single():
            scans = dask.compute(
                *[
                    dask.delayed(_scan_part, pure=False)(p, enc, info, sinks and sinks[i])
                    for i, p in enumerate(parts)
                ]
            )
        n_input = sum(s["n"] for s in scans)
        n_na = sum(s["n_na"] for s in scans)
        n_fit = n_input - n_na
        if n_input == 0:
            raise DataError("the data has no rows")
        if n_na and na_action == "raise":
            raise DataError(
                f"{n_na} of {n_input} rows have missing values in the model's columns; use "
                "na_action='drop' to drop them"
            )
        if n_fit == 0:
            raise DataError(f"all {n_input} rows have a missing value in column(s) {needed}")
        if sum(s["w_nonfinite"] for s in scans):
            raise DataError(
                f"weights have {sum(s['w_nonfinite'] for s in scans)} non-finite value(s)"
            )
        if sum(s["w_neg"] for s in scans):
            raise DataError(
                f"weights must be non-negative; {sum(s['w_neg'] for s in scans)} are negative"
            )
        nobs = sum(s["n_pos"] for s in scans)
        if nobs == 0:
            raise DataError("every weight is zero: nothing to fit")
        if sum(s["o_nonfinite"] for s in scans):
            raise DataError(
                f"offset has {sum(s['o_nonfinite'] for s in scans)} non-finite value(s)"
            )
        sum_w = sum(s["sum_w"] for s in scans)

        # categorical levels, learned from every partition (after NA drop), in the in-memory order
        cat_dtypes = {}
        for c in cat_cols:
            allv = pd.unique(
                np.concatenate([np.asarray(s["uniques"][c], dtype=object) for s in scans])
            )
            vals = [v for v in allv if not pd.isna(v)]
            if (
                not isinstance(dtypes[c], pd.CategoricalDtype)
                and not _is_numeric(dtypes[c])
                and not re.search(_C_RE.format(re.escape(c)), rhs)
                and vals
                and all(_NUMBER_RE.match(str(v)) for v in vals)
            ):
                raise DataError(
                    f"column {c!r} holds numbers stored as text; convert it with pd.to_numeric "
                    f"to use it as a number, or write C({c}) to use it as a categorical"
                )
            cat_dtypes[c] = pd.CategoricalDtype(_sorted_levels(vals, dtypes[c]))
        levels = None
        if factor_response:
            lw: dict = {}
            for s in scans:
                for k, v in s["ylev_w"].items():
                    lw[k] = lw.get(k, 0.0) + v
            levels = _sorted_levels([k for k in lw if not pd.isna(k)], dtypes[lhs])
            if len(levels) != 2:
                raise DataError(
                    f"binomial response {lhs!r} must have exactly two levels, found {len(levels)}: "
                    f"{levels[:10]} (use gl.multinomial for more than two)"
                )
            sum_wy = float(lw[levels[1]])
            pos = {k: sum(s["ylev_pos"].get(k, 0) for s in scans) for k in levels}
            if min(pos.values()) == 0:
                raise GlmlogitError(
                    f"binomial response {lhs!r} has a single class among rows with positive weight"
                )
        else:
            if sum(s["y_nonfinite"] for s in scans):
                raise DataError(
                    f"response {lhs!r} has {sum(s['y_nonfinite'] for s in scans)} non-finite "
                    "value(s) after NA handling"
                )
            for msg in dict.fromkeys(m for s in scans for m in s["warned"]):
                warnings.warn(msg, DataWarning, stacklevel=3)
            sum_wy = sum(s["sum_wy"] for s in scans)
            if binomial:
                ymin = min(s["y_min"] for s in scans)
                ymax = max(s["y_max"] for s in scans)
                if ymin == ymax and ymin in (0.0, 1.0):
                    cls = "1 (success)" if ymin == 1 else "0 (failure)"
                    raise GlmlogitError(
                        f"binomial response {lhs!r} has a single class: all {nobs} rows are {cls}"
                    )

        # the ModelSpec, built on sample rows carrying every level
        sample = pd.concat([s["sample"] for s in scans if len(s["sample"])]).head(_SAMPLE_ROWS)
        enc.cat_dtypes = cat_dtypes
        enc.levels = levels
        sample = enc.cast(sample)
        if sparse == "auto":
            want_sparse = sum(len(dt.categories) for dt in cat_dtypes.values()) >= 200
        spec = _build_spec(rhs, sample, "sparse" if want_sparse else "pandas", formula)
        spec = _global_transform_state(spec, scans, moment_cols, formula)
        for key, (kind, _state) in spec.encoder_state.items():
            if getattr(kind, "value", kind) != "categorical":
                continue
            fcol: str | None = key if key in cols else None
            if fcol is None:
                m = re.match(r"^C\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*[,)]", key)
                fcol = m.group(1) if m else None
            if fcol is None or fcol not in cat_dtypes:
                raise FormulaError(
                    f"categorical term {key!r}: on Dask data a categorical must be a column (or "
                    "C(column)); compute derived factors as columns first"
                )
        enc.spec = spec
        enc.output = "sparse" if want_sparse else "pandas"
        enc.plan_fast(dtypes, sample)
        names = [str(c) for c in spec.column_names]
        start = None
        if pre_names is not None and names == pre_names and enc.fast == pre_fast:
            H, rhs_, dev, valid, _ext = _sum_stats(*[s["start"] for s in scans])
            start = PassStats(H, rhs_, float(dev), bool(valid) and np.isfinite(dev))
            if spill is not None and start.valid:
                spill.mark_filled()
        if spill is not None and not spill.filled:
            spill.clear()  # files from the scan's encoding, if any: the first pass refills
        terms = {str(t): list(map(int, ix)) for t, ix in spec.term_indices.items()}
        icpt = names.index("Intercept") if "Intercept" in names else None

        design = DaskDesign(
            column_names=names,
            formula=formula,
            spec=spec,
            terms=terms,
            intercept_index=icpt,
            response_name=lhs,
            response_levels=levels,
            offset_name=oname,
            weights_name=wname or ("(array)" if wcol is not None else None),
            has_offset=ocol is not None,
            n_input=n_input,
            n_fitted=n_fit,
            nobs=nobs,
            sum_w=sum_w,
            sum_wy=sum_wy,
            offset_nonzero=any(s["o_nonzero"] for s in scans),
            ddf=proj,
            encoder=enc,
            ddf_full=ddf_full,
        )
        rows = DaskRows(parts, enc, len(names), ybar=sum_wy / sum_w, cache=spill)
        if icpt is None:
            rows.null_spec = ("offset", 0.0)
        elif not (ocol is not None and any(s["o_nonzero"] for s in scans)):
            rows.null_spec = ("mean", sum_wy / sum_w)
        if start is not None:
            rows.prime_start(fam, start)
        model = DaskGLM(fam, design, rows, printer)
        return model.fit(**fit_kw)
    finally:
        if spill is not None:
            spill.close()  # the decoded copy lives only as long as the fit


def _spill_cache(cache, n_parts: int) -> SpillCache | None:
    """The spill cache glm_dask's ``cache`` asks for (None: off)."""
    if cache is False:
        return None
    if cache == "auto":
        from dask.base import get_scheduler

        module = getattr(get_scheduler(), "__module__", None) or ""
        if module.startswith("distributed"):
            return None  # workers may be on other machines
        try:
            return SpillCache(n_parts)
        except OSError:  # no writable temporary directory: read the data every pass
            return None
    where = None if cache is True else os.fspath(cache)
    try:
        return SpillCache(n_parts, where)
    except OSError as err:
        raise GlmlogitError(
            f"cannot create the spill cache in {where or 'the temporary directory'!r}: {err} "
            "(cache=False reads the data in every pass instead)"
        ) from err


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
