"""GLMs on Dask DataFrames: out of core, or on a cluster through ``dask.distributed``.

``glm_dask(formula, ddf, ...)`` (what ``gl.glm`` calls for a Dask DataFrame) fits in these steps:

1. **Scan** (one pass, ``dask_encode._scan_part``): per partition, the rows with a missing value
   in a used variable (or the weights/offset) are counted and dropped, as R's ``na.omit``; the
   levels of every categorical variable, the moments of numeric ones, the weight and response
   checks and a few clean rows are collected and merged on the client.
2. **Encoding** (``dask_encode._Encoder``): the formulaic ``ModelSpec`` is built on those sample
   rows with every categorical variable cast to a pandas ``Categorical`` holding *all* its levels
   (sorted as the in-memory fit sorts them), and the state of ``center(x)`` / ``scale(x)`` /
   ``standardize(x)`` set from the global moments, so every partition is encoded exactly as the
   whole data would be in memory.
3. **IRLS**: :class:`~glmlogit.engine.dask_rows.DaskRows` maps each partition to its sufficient
   statistics (X'WX, score, deviance) and sums them with a tree reduction; the p x p algebra runs on
   the client in ``irls``.  One pass per iteration; the first pass that encodes the partitions
   writes them to the spill cache (``engine/spill.py``), which the later passes read instead.
4. **Results** (:class:`~glmlogit.dask_results.DaskGLMResults`, in ``dask_results.py``):
   coefficient-level numbers come from the fit, the Pearson chi-squared, null deviance and (for
   binomial and Poisson) log-likelihoods from sums the IRLS passes also made; what they could not
   give takes one more pass; per-row quantities (fitted values, residuals, predictions) are lazy
   Dask Series.

Supported formula features: numeric columns and stateless transforms (``np.log(x)``,
``I(x**2)``), interactions, categoricals (string/categorical columns, ``C(x)``, with contrasts),
and ``center``/``scale``/``standardize`` of a plain column.  Other stateful transforms (``poly``,
``bs``, ...) need the whole column at once and raise :class:`FormulaError`.
"""

from __future__ import annotations

import os
import re
import sys
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from formulaic import Formula, ModelSpec
from formulaic.errors import FormulaicError

from .dask_encode import (
    _C_RE,
    _NUMBER_RE,
    _SAMPLE_ROWS,
    _SCALE_RE,
    _build_spec,
    _Checked,
    _Encoder,
    _global_transform_state,
    _is_numeric,
    _level_dtype,
    _named_columns,
    _scan_part,
    _sorted_levels,
)
from .dask_results import (
    DaskGLM,
    DaskGLMResults,
    _blas_single,
    _new_design_part,
    is_dask_collection,
)
from .engine.dask_rows import DaskRows, _sum_stats
from .engine.kernels import cross_products
from .engine.rows import PassStats
from .engine.spill import SpillCache, default_directory
from .errors import DataError, DataWarning, FormulaError, GlmlogitError
from .families import Binomial, get_family

__all__ = ["glm_dask", "is_dask_collection", "DaskGLMResults", "DaskGLM", "DaskDesign"]

_W_COL = "__glmlogit_weights__"
_O_COL = "__glmlogit_offset__"


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
_FIT_KW = {
    "start",
    "tol",
    "coef_tol",
    "max_iter",
    "cov_type",
    "groups",
    "cluster_correction",
    "on_separation",
}


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
    ``dask.distributed`` cluster (whose workers may not share this disk), in the temporary
    directory, or /var/tmp when that one is in memory (tmpfs), or off when both are; True: on;
    a path: on, in that directory (one every worker sees); False: off.  The results are
    bit-identical.
    Fitting options (``start``, ``tol``, ``coef_tol``, ``max_iter``, ``cov_type`` ("nonrobust",
    "HC0".."HC3", "cluster" with ``groups=`` a column name)) are as ``gl.glm``'s.
    Binomial fits are checked for separation as in memory (``res.separation``; ``on_separation``
    "warn", "raise" or "ignore"): one pass at the solution tries to prove that the MLE exists;
    if it cannot, the Konis LP runs on the rows brought to the client when they fit in
    ``glmlogit.dask_results.LP_COLLECT_BYTES`` (2 GiB), else the heuristic of in-memory sparse
    designs decides, and when it is in doubt too, a warning says separation was not ruled out."""
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

    cross_products()  # load (or compile) the pass kernels here, not in every worker at once
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
            cat_dtypes[c] = pd.CategoricalDtype(
                _sorted_levels(vals, _level_dtype(dtypes[c], scans, c))
            )
        levels = None
        if factor_response:
            lw: dict = {}
            for s in scans:
                for k, v in s["ylev_w"].items():
                    lw[k] = lw.get(k, 0.0) + v
            levels = _sorted_levels(
                [k for k in lw if not pd.isna(k)], _level_dtype(dtypes[lhs], scans, lhs)
            )
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
            H, rhs_, dev, valid, _ext, _screen = _sum_stats(*[s["start"] for s in scans])
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
        # the starting pass (in the scan) encoded every row of every partition and tested its
        # design finite; with no missing value anywhere, later passes need not test again
        trusted = start is not None and start.valid and not n_na
        row_enc = _Checked(enc, trusted=True) if trusted else enc
        rows = DaskRows(parts, row_enc, len(names), ybar=sum_wy / sum_w, cache=spill)
        if want_sparse:  # factor terms: X'WX's diagonal blocks, solved through them
            rows.block_candidates = [c for c in terms.values() if len(c) >= 2]
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
        where = default_directory()
        if where is None:  # only memory-backed temporary directories: no cache
            return None
        try:
            return SpillCache(n_parts, where)
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
