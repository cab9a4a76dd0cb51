"""Penalized paths and cross-validation: ``gl.glm_path`` and ``gl.glm_cv`` (glmnet's ``glmnet``
and ``cv.glmnet``, on glmnet's objective; see ``engine/penalized.py``)."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .engine.irls import Fit
from .engine.penalized import PathFit, penalized_fit, penalized_path
from .engine.rows import DenseRows
from .engine.sparse import SparseRows
from .errors import DataError, GlmlogitError
from .families import Binomial, Family, get_family
from .formula import Design, build_design, design_from_arrays


def _is_sparse(X: Any) -> bool:
    """scipy.sparse.issparse without its type narrowing (which hides the matrix methods)."""
    return bool(sp.issparse(X))


# --------------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------------
def _design(formula_or_X, data_or_y, family, link, weights, offset, intercept, na_action):
    fam = get_family(family, link)
    binomial = isinstance(fam, Binomial)
    if isinstance(formula_or_X, str):
        if data_or_y is None:
            raise GlmlogitError("a formula needs data: glm_path('y ~ x1 + x2', data)")
        d = build_design(
            formula_or_X,
            data_or_y,
            weights=weights,
            offset=offset,
            na_action=na_action,
            binomial=binomial,
        )
        icpt = d.intercept_index
    else:
        if data_or_y is None:
            raise GlmlogitError("array input needs y: glm_path(X, y)")
        X: Any = formula_or_X
        names = [str(c) for c in X.columns] if isinstance(X, pd.DataFrame) else None
        if intercept:
            if _is_sparse(X):
                X = sp.hstack([sp.csr_matrix(np.ones((X.shape[0], 1))), X], format="csr")
            else:
                Xa = np.asarray(X, dtype=float)
                Xa = Xa[:, None] if Xa.ndim == 1 else Xa
                X = np.column_stack([np.ones(Xa.shape[0]), Xa])
            k = X.shape[1] - 1
            names = ["Intercept"] + (names or [f"x{j}" for j in range(k)])
        d = design_from_arrays(data_or_y, X, weights, offset, names, binomial=binomial)
        icpt = 0 if intercept else None
    fam.check_response(d.y, d.weights, d.response_name)
    if binomial:
        pos = d.weights > 0
        if np.all(d.y[pos] == d.y[pos][0]) and d.y[pos][0] in (0.0, 1.0):
            raise GlmlogitError(f"binomial response {d.response_name!r} has a single class")
    return d, fam, icpt


def _rows(X, y, w, o):
    return SparseRows(X, y, w, o) if _is_sparse(X) else DenseRows(X, y, w, o)


def _penalty_factor(pf, names: list[str], icpt: int | None):
    """Per-column factors from an array (one per design column, or one per non-intercept
    column) or a dict {column name: factor} (others 1)."""
    if pf is None:
        return None
    p = len(names)
    if isinstance(pf, dict):
        unknown = [k for k in pf if k not in names]
        if unknown:
            raise DataError(f"penalty_factor names unknown column(s) {unknown}; columns: {names}")
        return np.array([float(pf.get(n, 1.0)) for n in names])
    pf = np.asarray(pf, dtype=float).ravel()
    if icpt is not None and pf.shape == (p - 1,):
        pf = np.insert(pf, icpt, 0.0)
    if pf.shape != (p,):
        raise DataError(f"penalty_factor has {pf.size} values for {p} design columns")
    return pf


class _Progress:
    """A stderr progress line for long fits: shown only after ``delay`` seconds; tqdm's bar when
    tqdm is installed."""

    def __init__(self, total: int, desc: str, enabled: bool, delay: float = 1.0):
        self.total, self.desc, self.enabled, self.delay = total, desc, enabled, delay
        self.done = 0
        self.t0 = time.perf_counter()
        self.last = 0.0
        self.shown = False
        self.bar = None
        if enabled:
            try:
                from tqdm import tqdm

                self.bar = tqdm(total=total, desc=desc, delay=delay, file=sys.stderr, leave=False)
            except Exception:  # tqdm missing or unusable: plain line
                self.bar = None

    def advance(self, k: int = 1) -> None:
        self.done += k
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(k)
            return
        now = time.perf_counter()
        if now - self.t0 >= self.delay and (now - self.last > 0.2 or self.done == self.total):
            self.last = now
            self.shown = True
            sys.stderr.write(f"\r{self.desc}: {self.done}/{self.total} ({now - self.t0:.1f}s)")
            sys.stderr.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------
@dataclass
class GLMPath:
    """A penalized path: ``coefs.loc[alpha]`` minimizes glmnet's objective at that alpha."""

    alphas: np.ndarray  # decreasing
    coefs: pd.DataFrame  # index alpha, one column per design column
    deviance: np.ndarray
    null_deviance: float  # intercept-only fit (glmnet's nulldev)
    n_nonzero: np.ndarray  # non-zero coefficients, intercept not counted (glmnet's df)
    l1_ratio: float
    alpha_max: float
    converged: np.ndarray
    n_iter: np.ndarray
    family: Family
    intercept_index: int | None

    @property
    def dev_ratio(self) -> np.ndarray:
        """Fraction of the null deviance explained, glmnet's ``dev.ratio``."""
        return 1.0 - self.deviance / self.null_deviance

    def coef(self, alpha: float) -> pd.Series:
        """Coefficients at an alpha of the path (exact; refit for other alphas)."""
        k = np.flatnonzero(np.isclose(self.alphas, alpha, rtol=1e-10, atol=0))
        if not len(k):
            raise GlmlogitError(
                f"alpha={alpha!r} is not on the path; fit it with "
                "gl.glm(..., penalty=..., alpha=...) or pass alphas= to glm_path"
            )
        return self.coefs.iloc[int(k[0])]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "alpha": self.alphas,
                "n_nonzero": self.n_nonzero,
                "deviance": self.deviance,
                "dev_ratio": self.dev_ratio,
                "converged": self.converged,
            }
        )

    def __repr__(self) -> str:
        return (
            f"GLMPath({len(self.alphas)} alphas from {self.alphas[0]:.4g} to "
            f"{self.alphas[-1]:.4g}, l1_ratio={self.l1_ratio:g}, family={self.family!r}, "
            f"{int(self.n_nonzero[-1])} non-zero at the smallest alpha)"
        )


@dataclass
class GLMCV:
    """k-fold cross-validation of a penalized path (glmnet's ``cv.glmnet``)."""

    alphas: np.ndarray
    cv_mean: np.ndarray  # mean held-out deviance per observation weight
    cv_se: np.ndarray  # its standard error across folds
    alpha_min: float
    alpha_1se: float  # largest alpha with cv_mean <= min + its se
    index_min: int
    index_1se: int
    folds: np.ndarray  # fold number (0..k-1) of each fitted row
    path: GLMPath  # the path on all the rows
    refit: Fit  # the fit on all the rows at alpha_min (engine arrays; params in coef_min)

    @property
    def coef_min(self) -> pd.Series:
        return pd.Series(self.refit.coef, index=self.path.coefs.columns, name=self.alpha_min)

    @property
    def coef_1se(self) -> pd.Series:
        return self.path.coefs.iloc[self.index_1se]

    def to_frame(self) -> pd.DataFrame:
        out = self.path.to_frame()
        out["cv_mean"] = self.cv_mean
        out["cv_se"] = self.cv_se
        return out

    def __repr__(self) -> str:
        return (
            f"GLMCV({len(np.unique(self.folds))} folds, alpha_min={self.alpha_min:.4g} "
            f"(cv deviance {self.cv_mean[self.index_min]:.5g}), alpha_1se={self.alpha_1se:.4g})"
        )


# --------------------------------------------------------------------------------------------
# entry points
# --------------------------------------------------------------------------------------------
def glm_path(
    formula_or_X,
    data_or_y=None,
    *,
    family="binomial",
    link=None,
    weights=None,
    offset=None,
    l1_ratio: float = 1.0,
    alphas=None,
    n_alphas: int = 100,
    alpha_min_ratio: float | None = None,
    penalty_factor=None,
    standardize: bool = False,
    intercept: bool = True,
    tol: float = 1e-10,
    max_iter: int = 100,
    na_action: str = "drop",
    progress: bool = True,
) -> GLMPath:
    """Penalized fits along a decreasing alpha path, with warm starts (glmnet's ``glmnet``).

    ``glm_path("y ~ x1 + x2", df)`` or ``glm_path(X, y)`` (arrays: ``intercept=True`` adds an
    unpenalized intercept column first).  Objective: deviance / (2 sum(weights)) + alpha
    (l1_ratio |b|_1 + (1 - l1_ratio) / 2 |b|^2), intercept unpenalized.  ``alphas=None``:
    ``n_alphas`` log-spaced values from alpha_max (the smallest alpha with every penalized
    coefficient 0, as glmnet's lambda_max) down to ``alpha_min_ratio`` times it (default 1e-4,
    or 1e-2 when there are more columns than rows, as glmnet).  ``penalty_factor``: one per
    column (array, or dict by column name), rescaled to sum to the number of penalized columns
    as glmnet's ``penalty.factor``.  ``standardize=False`` by default (glmnet's default is
    True).  ``progress``: a progress line on stderr for paths that take over a second.
    """
    d, fam, icpt = _design(
        formula_or_X, data_or_y, family, link, weights, offset, intercept, na_action
    )
    rows = _rows(d.X, d.y, d.weights, d.offset)
    pf = _penalty_factor(penalty_factor, d.column_names, icpt)
    n_show = n_alphas if alphas is None else len(np.ravel(alphas))
    bar = _Progress(n_show, "glm_path", progress)
    try:
        pf_ = penalized_path(
            rows,
            fam,
            l1_ratio=l1_ratio,
            alphas=alphas,
            n_alphas=n_alphas,
            alpha_min_ratio=alpha_min_ratio,
            penalty_factor=pf,
            standardize=standardize,
            tol=tol,
            max_iter=max_iter,
            intercept_index=icpt,
            callback=lambda k, K: bar.advance(),
        )
    finally:
        bar.close()
    return _as_path(pf_, d, fam, icpt)


def _as_path(pf_: PathFit, d: Design, fam: Family, icpt) -> GLMPath:
    coefs = pd.DataFrame(
        pf_.coefs, index=pd.Index(pf_.alphas, name="alpha"), columns=d.column_names
    )
    nz = pf_.coefs != 0
    if icpt is not None:
        nz[:, icpt] = False
    return GLMPath(
        alphas=pf_.alphas,
        coefs=coefs,
        deviance=pf_.deviance,
        null_deviance=pf_.null_deviance,
        n_nonzero=nz.sum(axis=1),
        l1_ratio=pf_.l1_ratio,
        alpha_max=pf_.alpha_max,
        converged=pf_.converged,
        n_iter=pf_.n_iter,
        family=fam,
        intercept_index=icpt,
    )


def _heldout_deviance(fam: Family, X, y, w, o, coefs: np.ndarray) -> np.ndarray:
    """Mean deviance per unit weight of the rows (X, y, w, o) at each row of ``coefs``."""
    eta_all = X @ coefs.T
    eta_all = np.asarray(eta_all) + o[:, None]
    out = np.empty(coefs.shape[0])
    sw = float(np.sum(w))
    for k in range(coefs.shape[0]):
        eta = eta_all[:, k]
        with np.errstate(all="ignore"):
            mu = fam.link.inverse(eta)
            out[k] = float(np.sum(fam.deviance_terms(y, mu, w, eta))) / sw
    return out


def glm_cv(
    formula_or_X,
    data_or_y=None,
    *,
    folds: int = 10,
    seed: int = 0,
    family="binomial",
    link=None,
    weights=None,
    offset=None,
    l1_ratio: float = 1.0,
    alphas=None,
    n_alphas: int = 100,
    alpha_min_ratio: float | None = None,
    penalty_factor=None,
    standardize: bool = False,
    intercept: bool = True,
    tol: float = 1e-10,
    max_iter: int = 100,
    na_action: str = "drop",
    progress: bool = True,
) -> GLMCV:
    """Choose alpha by ``folds``-fold cross-validated deviance (glmnet's ``cv.glmnet``).

    The path's alphas come from all the rows; rows are assigned to folds by a permutation seeded
    with ``seed`` (same seed, same folds, same result).  For each fold the path is fitted on the
    other rows and the held-out mean deviance computed at every alpha; ``cv_mean`` is their mean
    weighted by the folds' total weights and ``cv_se`` the weighted standard deviation over
    sqrt(folds - 1), as glmnet.  ``alpha_min`` minimizes ``cv_mean``; ``alpha_1se`` is the largest
    alpha within one standard error of it.  ``refit`` is the fit on all the rows at alpha_min.
    Other arguments as ``glm_path``.
    """
    d, fam, icpt = _design(
        formula_or_X, data_or_y, family, link, weights, offset, intercept, na_action
    )
    n = len(d.y)
    folds = int(folds)
    if not 2 <= folds <= n:
        raise GlmlogitError(f"folds must be between 2 and the number of rows ({n}), got {folds}")
    pf = _penalty_factor(penalty_factor, d.column_names, icpt)
    kw = dict(
        l1_ratio=l1_ratio,
        penalty_factor=pf,
        standardize=standardize,
        tol=tol,
        max_iter=max_iter,
        intercept_index=icpt,
    )
    rows = _rows(d.X, d.y, d.weights, d.offset)
    n_show = n_alphas if alphas is None else len(np.ravel(alphas))
    bar = _Progress((folds + 1) * n_show, "glm_cv", progress)
    tick = lambda k, K: bar.advance()  # noqa: E731
    try:
        full = penalized_path(
            rows,
            fam,
            alphas=alphas,
            n_alphas=n_alphas,
            alpha_min_ratio=alpha_min_ratio,
            callback=tick,
            **kw,
        )
        rng = np.random.default_rng(seed)
        foldid = rng.permutation(np.arange(n) % folds)
        Xd: Any = d.X
        X = Xd.tocsr() if _is_sparse(Xd) else np.asarray(Xd)
        cvraw = np.empty((folds, len(full.alphas)))
        fw = np.empty(folds)
        for k in range(folds):
            tr, te = foldid != k, foldid == k
            train = _rows(X[tr], d.y[tr], d.weights[tr], d.offset[tr])
            pk = penalized_path(train, fam, alphas=full.alphas, callback=tick, **kw)
            cvraw[k] = _heldout_deviance(fam, X[te], d.y[te], d.weights[te], d.offset[te], pk.coefs)
            fw[k] = float(np.sum(d.weights[te]))
    finally:
        bar.close()
    cvm = fw @ cvraw / fw.sum()
    cvsd = np.sqrt((fw @ (cvraw - cvm) ** 2) / fw.sum() / (folds - 1))
    imin = int(np.argmin(cvm))
    ok = np.flatnonzero(cvm <= cvm[imin] + cvsd[imin])
    i1se = int(ok.min())  # alphas decrease: the first qualifying index is the largest alpha
    path = _as_path(full, d, fam, icpt)
    refit = penalized_fit(rows, fam, alpha=float(full.alphas[imin]), start=full.coefs[imin], **kw)
    return GLMCV(
        alphas=full.alphas,
        cv_mean=cvm,
        cv_se=cvsd,
        alpha_min=float(full.alphas[imin]),
        alpha_1se=float(full.alphas[i1se]),
        index_min=imin,
        index_1se=i1se,
        folds=foldid,
        path=path,
        refit=refit,
    )
