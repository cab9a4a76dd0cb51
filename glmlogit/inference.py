"""Tests on a fitted GLM: Wald tests of linear hypotheses, likelihood-ratio tests, deviance tables."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .errors import GlmlogitError


@dataclass(frozen=True)
class TestResult:
    """A test statistic with its reference distribution; prints like a line of R output."""

    statistic: float
    df: float
    pvalue: float
    distribution: str  # "chi2" or "F"
    df_denom: float | None = None
    label: str = ""

    def __str__(self) -> str:
        if self.distribution == "F":
            s = f"F({self.df:g}, {self.df_denom:g}) = {self.statistic:.6g}"
        else:
            s = f"chi2({self.df:g}) = {self.statistic:.6g}"
        head = f"{self.label}: " if self.label else ""
        return f"{head}{s}, p-value = {self.pvalue:.4g}"

    __repr__ = __str__


def wald(
    params: np.ndarray,
    cov: np.ndarray,
    R: np.ndarray,
    q: np.ndarray,
    *,
    use_f: bool,
    df_resid: float,
    label: str = "Wald test",
) -> TestResult:
    """W = (Rb - q)' (R V R')^-1 (Rb - q); chi2(r), or F = W / r on (r, df_resid)."""
    R = np.atleast_2d(np.asarray(R, dtype=float))
    q = np.broadcast_to(np.asarray(q, dtype=float), (R.shape[0],))
    used = np.any(R != 0, axis=0)
    if np.any(np.isnan(params[used])):
        raise GlmlogitError("the hypothesis involves an aliased (NaN) coefficient")
    Rs = R[:, used]
    d = Rs @ params[used] - q
    V = Rs @ cov[np.ix_(used, used)] @ Rs.T
    r = np.linalg.matrix_rank(V)
    if r < R.shape[0]:
        raise GlmlogitError(f"the {R.shape[0]} restrictions are linearly dependent (rank {r})")
    W = float(d @ np.linalg.solve(V, d))
    if use_f:
        F = W / r
        return TestResult(F, r, float(stats.f.sf(F, r, df_resid)), "F", df_resid, label)
    return TestResult(W, r, float(stats.chi2.sf(W, r)), "chi2", None, label)


def lr_test(big, small) -> TestResult:
    """Likelihood-ratio test of nested models via the deviance difference (scaled as R's anova)."""
    ddf = small.df_resid - big.df_resid
    if ddf <= 0:
        raise GlmlogitError(
            f"the models are not nested as given: the larger one has df_resid {big.df_resid}, "
            f"the smaller {small.df_resid}"
        )
    dd = small.deviance - big.deviance
    if big.family.fixed_scale:
        return TestResult(dd, ddf, float(stats.chi2.sf(dd, ddf)), "chi2", None, "LR test")
    F = dd / ddf / big.scale
    return TestResult(F, ddf, float(stats.f.sf(F, ddf, big.df_resid)), "F", big.df_resid, "F test")


def anova_table(models: list) -> pd.DataFrame:
    """R's anova(m1, m2, ...): rows in the given order, each tested against the one before it,
    with the dispersion of the largest model for estimated-scale families."""
    big = min(models, key=lambda m: m.df_resid)
    fixed = big.family.fixed_scale
    rows = []
    for i, m in enumerate(models):
        row = {
            "df_resid": m.df_resid,
            "deviance": m.deviance,
            "df": np.nan,
            "deviance_change": np.nan,
            "statistic": np.nan,
            "pvalue": np.nan,
        }
        if i > 0:
            prev = models[i - 1]
            df = prev.df_resid - m.df_resid
            dd = prev.deviance - m.deviance
            row["df"], row["deviance_change"] = df, dd
            if df != 0:
                if fixed:
                    row["statistic"] = abs(dd)
                    row["pvalue"] = float(stats.chi2.sf(abs(dd), abs(df)))
                else:
                    F = dd / df / big.scale
                    row["statistic"] = F
                    row["pvalue"] = float(stats.f.sf(F, abs(df), big.df_resid))
        rows.append(row)
    out = pd.DataFrame(rows, index=[f"model {i + 1}" for i in range(len(models))])
    out.attrs["test"] = "chi2" if fixed else "F"
    return out


def _droppable(terms: list[str]) -> list[str]:
    """R's drop.scope: terms not contained in another (higher-order) term of the model."""
    sets = {t: frozenset(t.split(":")) for t in terms}
    return [t for t in terms if not any(t != u and sets[t] < sets[u] for u in terms)]


def drop1_table(res, test: str | None = None) -> pd.DataFrame:
    """R's ``drop1.glm``: refit without each droppable term; ``test="LRT"`` (default for
    fixed-scale families) or ``"F"`` (default otherwise).  Conventions copied from R: the LRT
    statistic is the deviance change over the dispersion ("scaled dev."), except for the gaussian
    family where R uses n log(dev / n); the F test uses the residual mean deviance of the full
    model; AIC is shifted so that the ``<none>`` row equals the model's AIC."""
    test = test or ("LRT" if res.family.fixed_scale else "F")
    test = "LRT" if test == "Chisq" else test  # R's synonym
    if test not in ("LRT", "F"):
        raise GlmlogitError(f"test must be 'LRT' or 'F', got {test!r}")
    d = res.design
    icpt = d.intercept_index
    terms = [t for t, cols in d.terms.items() if cols != [icpt]]
    scope = _droppable(terms)
    n = len(d.y)
    keep_all = [j for j in range(len(d.column_names)) if not res.aliased.iloc[j]]
    dfs, devs = [res.rank], [res.deviance]
    for t in scope:
        drop = set(d.terms[t])
        cols = [j for j in keep_all if j not in drop]
        fit = res.model._fit_columns(cols)
        dfs.append(int((~fit.aliased).sum()))
        devs.append(fit.deviance)
    dev = np.array(devs)
    rank = np.array(dfs, dtype=float)
    disp = res.scale
    if res.family.name == "gaussian":
        loglik = n * np.log(dev / n)
    else:
        loglik = dev / disp
    aic = loglik + 2.0 * rank
    aic = aic + (res.aic - aic[0])
    ddf = rank[0] - rank
    out = pd.DataFrame({"df": ddf, "deviance": dev, "aic": aic}, index=["<none>", *scope])
    out.loc["<none>", "df"] = np.nan
    stat = np.full(len(dev), np.nan)
    pval = np.full(len(dev), np.nan)
    if test == "LRT":
        stat[1:] = np.maximum(0.0, loglik[1:] - loglik[0])
        pval[1:] = stats.chi2.sf(stat[1:], ddf[1:])
    else:
        rms = dev[0] / res.df_resid
        stat[1:] = np.maximum(0.0, dev[1:] - dev[0]) / ddf[1:] / rms
        pval[1:] = stats.f.sf(stat[1:], ddf[1:], res.df_resid)
    out["statistic"] = stat
    out["pvalue"] = pval
    out.attrs["test"] = test
    return out
