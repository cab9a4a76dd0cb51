"""Several fitted models side by side, as R's modelsummary or statsmodels' summary_col.

``compare([res1, res2], names=["base", "full"])`` lays out one column per model: each coefficient
with its significance stars and, below it, its standard error in parentheses (``stat="se"``) or
its confidence interval in brackets (``stat="ci"``); then the number of observations, deviance,
log-likelihood, AIC, BIC, McFadden's pseudo R-squared and the covariance used.  Every number is
the one the model's own summary shows (so a robust covariance carries through).
"""

from __future__ import annotations

import html
import math
from typing import Any, cast

import numpy as np
import pandas as pd

from .errors import GlmlogitError
from .summary import (
    _json_float,
    _md_code,
    _md_escape,
    _md_table,
    _tex,
    _tex_num,
    n_groups,
    ratio_name,
)

__all__ = ["Comparison", "compare"]

STATS = ("se", "ci")
# modelsummary's defaults ("+" rather than R's "." so that "0.759." never reads as a number)
_STARS = ((0.001, "***"), (0.01, "**"), (0.05, "*"), (0.1, "+"))
LEGEND = "+ p < 0.1, * p < 0.05, ** p < 0.01, *** p < 0.001"


def significance_stars(p: float) -> str:
    if not math.isfinite(p):
        return ""
    return next((s for cut, s in _STARS if p < cut), "")


def _short_cov(res) -> str:
    if res.cov_type == "cluster":
        return f"cluster ({n_groups(res)})"
    return str(res.cov_type)


class Comparison:
    """Side-by-side table of several GLM results.  ``print(c)``; ``c.to_frame()`` (the cells as
    shown), ``to_markdown()``, ``to_latex()``, ``to_html()``, ``to_dict()`` (numbers, JSON-safe);
    ``params``, ``bse``, ``pvalues`` (DataFrames, terms x models) and ``statistics``."""

    def __init__(
        self,
        results,
        names=None,
        stat: str = "se",
        stars: bool = True,
        odds_ratios: bool = False,
        alpha: float = 0.05,
        digits: int = 3,
    ):
        if isinstance(results, dict):
            if names is not None:
                raise GlmlogitError("give names either as dict keys or as names=, not both")
            names, results = list(results.keys()), list(results.values())
        results = list(results)
        if not results:
            raise GlmlogitError("compare needs at least one fitted model")
        for r in results:
            if not isinstance(getattr(r, "params", None), pd.Series):
                raise GlmlogitError(
                    f"compare takes single-equation GLM results, got {type(r).__name__}"
                )
        names = [f"({i + 1})" for i in range(len(results))] if names is None else list(names)
        if len(names) != len(results):
            raise GlmlogitError(f"{len(names)} names for {len(results)} models")
        names = [str(n) for n in names]
        if len(set(names)) != len(names):
            raise GlmlogitError(f"model names must be unique, got {names}")
        if stat not in STATS:
            raise GlmlogitError(f"stat must be 'se' or 'ci', got {stat!r}")
        if not 0 < alpha < 1:
            raise GlmlogitError(f"alpha must be in (0, 1), got {alpha}")
        if int(digits) < 0:
            raise GlmlogitError(f"digits must be >= 0, got {digits}")
        self.results, self.names = results, names
        self.stat, self.stars, self.alpha = stat, bool(stars), float(alpha)
        self.odds_ratios, self.digits = bool(odds_ratios), int(digits)
        self.ratio_names = [ratio_name(r) for r in results] if odds_ratios else None
        terms: list[str] = []
        for r in results:
            terms += [str(t) for t in r.params.index if str(t) not in terms]
        self.terms = terms
        keys = ("estimate", "std_err", "pvalue", "ci_lower", "ci_upper")
        cols: dict[str, dict[str, pd.Series]] = {k: {} for k in keys}
        for nm, r in zip(names, results):
            index = [str(t) for t in r.params.index]
            est, se = np.asarray(r.params, float), np.asarray(r.bse, float)
            ci = r.conf_int(self.alpha)
            lo, hi = np.asarray(ci.iloc[:, 0], float), np.asarray(ci.iloc[:, 1], float)
            if odds_ratios:
                with np.errstate(over="ignore"):
                    est, lo, hi = np.exp(est), np.exp(lo), np.exp(hi)
                se = est * se  # delta method
            p = np.asarray(r.pvalues, float)
            aliased = np.asarray(r.aliased, bool)
            for key, a in zip(keys, (est, se, p, lo, hi)):
                cols[key][nm] = pd.Series(np.where(aliased, np.nan, a), index=index)
        frames = {k: pd.DataFrame(v).reindex(terms) for k, v in cols.items()}
        self.params, self.bse, self.pvalues = (
            frames["estimate"],
            frames["std_err"],
            frames["pvalue"],
        )
        self.ci_lower, self.ci_upper = frames["ci_lower"], frames["ci_upper"]
        self._stats: dict[str, dict[str, float]] = {
            nm: {
                "nobs": float(r.nobs),
                "deviance": float(r.deviance),
                "llf": float(r.llf),
                "aic": float(r.aic),
                "bic": float(r.bic),
                "pseudo_rsquared": float(r.pseudo_rsquared("mcf")),
            }
            for nm, r in zip(names, results)
        }
        self.statistics = pd.DataFrame(self._stats)

    # --- cells ---
    def _num(self, v: float) -> str:
        return f"{v:.{self.digits}f}" if math.isfinite(v) else ""

    def _coef_rows(self) -> list[tuple[str, str, list[str]]]:
        """(term, "estimate" | "std_err" | "ci", cells) pairs of rows."""
        rows = []
        second = "std_err" if self.stat == "se" else "ci"
        for t in self.terms:
            top, below = [], []
            for nm, r in zip(self.names, self.results):
                b = _at(self.params, t, nm)
                if t not in r.params.index:
                    top.append("")
                    below.append("")
                    continue
                if not math.isfinite(b):
                    top.append("aliased" if bool(r.aliased[t]) else "NA")
                    below.append("")
                    continue
                star = significance_stars(_at(self.pvalues, t, nm)) if self.stars else ""
                top.append(self._num(b) + star)
                if self.stat == "se":
                    below.append(f"({self._num(_at(self.bse, t, nm))})")
                else:
                    lo, hi = _at(self.ci_lower, t, nm), _at(self.ci_upper, t, nm)
                    below.append(f"[{self._num(lo)}, {self._num(hi)}]")
            rows.append((t, "estimate", top))
            rows.append((t, second, below))
        return rows

    def _stat_rows(self) -> list[tuple[str, list[str]]]:
        def row(key: str, fmt) -> list[str]:
            return [fmt(self._stats[nm][key]) for nm in self.names]

        f2 = "{:.2f}".format
        out = [
            ("Num. obs.", row("nobs", lambda v: str(int(v)))),
            ("Deviance", row("deviance", f2)),
            ("Log-likelihood", row("llf", f2)),
            ("AIC", row("aic", f2)),
            ("BIC", row("bic", f2)),
            ("Pseudo R-squared (McFadden)", row("pseudo_rsquared", self._num)),
        ]
        fam = [f"{r.family.name} ({r.family.link.name})" for r in self.results]
        if len(set(fam)) > 1:
            out.insert(0, ("Family (link)", fam))
        out.append(("Covariance", [_short_cov(r) for r in self.results]))
        return out

    def _notes(self) -> list[str]:
        level = f"{100 * (1 - self.alpha):.10g}%"
        if self.stat == "se":
            what = "Standard errors in parentheses"
            if self.odds_ratios:
                what += " (delta method, exp(b) se)"
        else:
            what = f"Wald {level} confidence intervals in brackets"
        notes = [what + "."]
        if self.odds_ratios:
            kinds = sorted(set(self.ratio_names or []))
            kinds_text = ", ".join(k.lower() + "s" for k in kinds)
            notes.append(f"Estimates are exponentiated coefficients ({kinds_text}).")
        if self.stars:
            notes.append(LEGEND + " (tests of b = 0).")
        return notes

    # --- text ---
    def __str__(self) -> str:
        coef, stats_ = self._coef_rows(), self._stat_rows()
        labels = [t if kind == "estimate" else "" for t, kind, _ in coef] + [k for k, _ in stats_]
        tw = max(len(s) for s in labels)
        body = [c for _, _, c in coef] + [c for _, c in stats_]
        widths = [max([len(nm)] + [len(row[j]) for row in body]) for j, nm in enumerate(self.names)]

        def line(label: str, cells: list[str]) -> str:
            s = f"{label:<{tw}}"
            for c, w in zip(cells, widths):
                s += "  " + f"{c:^{w}}"
            return s.rstrip()

        rule = "-" * (tw + sum(w + 2 for w in widths))
        out = [rule, line("", self.names), rule]
        out += [line(t if kind == "estimate" else "", c) for t, kind, c in coef]
        out.append(rule)
        out += [line(k, c) for k, c in stats_]
        out.append(rule)
        out += self._notes()
        return "\n".join(out) + "\n"

    def __repr__(self) -> str:
        return self.__str__()

    def _repr_html_(self) -> str:
        return self.to_html()

    # --- exports ---
    def to_frame(self) -> pd.DataFrame:
        """The cells as shown (strings): index (term, statistic), one column per model; the
        model statistics follow with statistic ''."""
        idx, rows = [], []
        for t, kind, cells in self._coef_rows():
            idx.append((t, kind))
            rows.append(cells)
        for k, cells in self._stat_rows():
            idx.append((k, ""))
            rows.append(cells)
        return pd.DataFrame(
            rows,
            index=pd.MultiIndex.from_tuples(idx, names=["term", "statistic"]),
            columns=self.names,
        )

    def to_dict(self) -> dict[str, Any]:
        """Numbers, JSON-safe (NaN as None): one entry per model."""
        models = []
        for nm, r in zip(self.names, self.results):
            coefs = []
            for t in map(str, r.params.index):
                coefs.append(
                    {
                        "term": t,
                        "estimate": _json_float(_at(self.params, t, nm)),
                        "std_err": _json_float(_at(self.bse, t, nm)),
                        "pvalue": _json_float(_at(self.pvalues, t, nm)),
                        "ci_lower": _json_float(_at(self.ci_lower, t, nm)),
                        "ci_upper": _json_float(_at(self.ci_upper, t, nm)),
                    }
                )
            st: dict[str, Any] = {k: _json_float(v) for k, v in self._stats[nm].items()}
            st["nobs"] = int(r.nobs)
            models.append(
                {
                    "name": nm,
                    "family": str(r.family.name),
                    "link": str(r.family.link.name),
                    "formula": getattr(r.design, "formula", None),
                    "cov_type": str(r.cov_type),
                    "n_groups": n_groups(r),
                    "coefficients": coefs,
                    "statistics": st,
                }
            )
        return {
            "stat": self.stat,
            "alpha": self.alpha,
            "odds_ratios": self.odds_ratios,
            "models": models,
            "notes": self._notes(),
        }

    def to_markdown(self) -> str:
        headers = [""] + [_md_escape(n) for n in self.names]
        body = [
            [_md_code(t) if kind == "estimate" else ""] + [_md_escape(c) for c in cells]
            for t, kind, cells in self._coef_rows()
        ]
        body += [[_md_escape(k)] + [_md_escape(c) for c in cells] for k, cells in self._stat_rows()]
        out = _md_table(headers, body, ["l"] + ["c"] * len(self.names))
        out += ["", " ".join(_md_escape(n) for n in self._notes())]  # one paragraph
        return "\n".join(out) + "\n"

    def to_latex(self) -> str:
        """A booktabs ``tabular`` (needs ``\\usepackage{booktabs}``)."""
        k = len(self.names)
        out = [f"\\begin{{tabular}}{{l{'c' * k}}}", "\\toprule"]
        out.append(" & ".join([""] + [_tex(n) for n in self.names]) + " \\\\")
        out.append("\\midrule")
        for t, kind, cells in self._coef_rows():
            label = _tex(t) if kind == "estimate" else ""
            out.append(" & ".join([label] + [_tex_cell(c) for c in cells]) + " \\\\")
        out.append("\\midrule")
        for lab, cells in self._stat_rows():
            out.append(" & ".join([_tex(lab)] + [_tex_cell(c) for c in cells]) + " \\\\")
        out.append("\\bottomrule")
        out += [
            f"\\multicolumn{{{k + 1}}}{{l}}{{\\footnotesize {_tex(n)}}} \\\\" for n in self._notes()
        ]
        out.append("\\end{tabular}")
        return "\n".join(out) + "\n"

    def to_html(self) -> str:
        """A self-contained HTML fragment (inline styles only, every text escaped)."""
        e = html.escape
        cen = "text-align:center;padding:0 0.8em;font-variant-numeric:tabular-nums"
        left = "text-align:left;padding:0 0.8em"
        top = ";border-top:1px solid currentColor"
        rule = "currentColor"
        under = f";border-bottom:1px solid {rule}"
        out = [
            '<table class="glmlogit-compare" style="border-collapse:collapse;'
            f'border-top:2px solid {rule};border-bottom:2px solid {rule}">',
            "<thead><tr>"
            + f'<th style="{left}{under}"></th>'
            + "".join(f'<th scope="col" style="{cen}{under}">{e(n)}</th>' for n in self.names)
            + "</tr></thead>",
            "<tbody>",
        ]
        for t, kind, cells in self._coef_rows():
            label = e(t) if kind == "estimate" else ""
            tds = "".join(f'<td style="{cen}">{e(c)}</td>' for c in cells)
            out.append(f'<tr><th scope="row" style="{left}">{label}</th>{tds}</tr>')
        for i, (lab, cells) in enumerate(self._stat_rows()):
            extra = top if i == 0 else ""
            tds = "".join(f'<td style="{cen}{extra}">{e(c)}</td>' for c in cells)
            out.append(f'<tr><th scope="row" style="{left}{extra}">{e(lab)}</th>{tds}</tr>')
        out.append("</tbody></table>")
        notes = "<br>".join(e(n) for n in self._notes())
        out.append(f'<p style="font-size:smaller;margin-top:0.4em">{notes}</p>')
        return "\n".join(out) + "\n"


def _at(frame: pd.DataFrame, row: str, col: str) -> float:
    return float(cast(Any, frame).at[row, col])


def _tex_cell(c: str) -> str:
    m = len(c) - len(c.rstrip("*+"))
    num, star = (c[: len(c) - m], c[len(c) - m :]) if m else (c, "")
    if num.startswith("(") or num.startswith("["):
        inner = num[1:-1].split(", ")
        body = ", ".join(_tex_num(x) for x in inner)
        num = num[0] + body + num[-1]
        num = num.replace("[", "{[}").replace("]", "{]}")
    else:
        num = _tex_num(num)
    return num + (f"$^{{{star}}}$" if star else "")


def compare(
    results,
    names=None,
    stat: str = "se",
    stars: bool = True,
    odds_ratios: bool = False,
    alpha: float = 0.05,
    digits: int = 3,
) -> Comparison:
    """Side-by-side table of fitted models (a list, or a dict name -> result).

    stat: ``"se"`` (standard errors in parentheses) or ``"ci"`` (Wald intervals at level
    1 - alpha in brackets); stars: R's significance codes on the estimates; odds_ratios:
    exponentiated coefficients (logit or log links), SEs by the delta method, intervals
    exponentiated; digits: decimals of the estimates."""
    return Comparison(results, names, stat, stars, odds_ratios, alpha, digits)
