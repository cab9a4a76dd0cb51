"""The summary of a fitted GLM: R's summary.glm, made clearer, as text, Markdown, LaTeX, HTML, dict.

Everything is computed once from the read-only results when the Summary is made; the renderers
only lay out the same cells (formatted numbers, labels, notes) in each format.
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np
import pandas as pd

from .errors import GlmlogitError

_STARS = ((0.001, "***"), (0.01, "**"), (0.05, "*"), (0.1, "."))
LEGEND = "Signif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1"
LR_SMALL = 2_000_000  # rows x coefficients below which the report runs every LR test
LR_REFIT_BUDGET = 100_000_000  # refits x rows x coefficients a report may spend on LR tests
_P_EPS = float(np.finfo(float).eps)  # R's format.pval: p below machine epsilon prints "< 2e-16"


# --- number formatting --------------------------------------------------------------------------
def significance_stars(p: float) -> str:
    if not math.isfinite(p):
        return ""
    return next((s for cut, s in _STARS if p < cut), "")


def format_pvalue(p: float) -> str:
    """Three significant digits; "< 2e-16" below machine epsilon, as R's format.pval."""
    if not math.isfinite(p):
        return ""
    if p < _P_EPS:
        return "< 2e-16"
    if p < 1e-4:
        return f"{p:.2e}"
    return f"{p:.{max(0, 2 - math.floor(math.log10(p)))}f}"


def format_number(x: float, sig: int = 5) -> str:
    """``sig`` significant digits, fixed notation unless the number is tiny or huge."""
    if x is None or not math.isfinite(x):
        return "NA"
    if x == 0:
        return "0"
    e = math.floor(math.log10(abs(x)))
    if -5 <= e < 15:
        return f"{x:.{max(0, sig - 1 - e)}f}"
    return f"{x:.{sig - 1}e}"


def _column_format(ref: np.ndarray, sig: int = 4):
    """One format for a column, R style: enough decimals that the smallest non-zero value in
    ``ref`` shows ``sig`` significant digits; scientific when that would need too many."""
    a = np.abs(ref[np.isfinite(ref) & (ref != 0)])
    if a.size == 0:
        return lambda v: f"{v:.{sig - 1}f}"
    dec = max(0, sig - 1 - math.floor(math.log10(a.min())))
    if dec > 7 or a.max() >= 1e12:
        return lambda v: f"{v:.{sig - 1}e}"
    return lambda v: f"{v:.{dec}f}"


def _pct(q: float) -> str:
    return f"{100 * q:.10g} %"


# --- the summary --------------------------------------------------------------------------------
def likelihood_lines(st: dict) -> list[tuple[str, str]]:
    """The report's log-likelihood, AIC, BIC and McFadden pseudo R-squared lines from a stats
    dict (shared by the GLM and the multinomial summaries)."""
    return [
        ("Log-likelihood", format_number(st["llf"])),
        ("AIC", format_number(st["aic"])),
        ("BIC", format_number(st["bic"])),
        ("Pseudo R-squared", f"{format_number(st['pseudo_rsquared_mcfadden'], 4)} (McFadden)"),
    ]


def table_line(headers: list[str], rows: list[tuple[str, list[str]]]):
    """A formatter of coefficient-table lines: the term left-aligned, the six numeric cells
    right-aligned and the significance stars left-aligned, each column as wide as its widest
    entry in ``headers`` and ``rows`` (pairs of term and cells)."""
    tw = max([len(t) for t, _ in rows] + [1])
    widths = [max([len(h)] + [len(c[i]) for _, c in rows]) for i, h in enumerate(headers)]
    gaps = ["  "] * 6 + [" "]

    def line(term: str, cells: list[str]) -> str:
        s = f"{term:<{tw}}"
        for i, c in enumerate(cells):
            s += gaps[i] + (f"{c:<{widths[i]}}" if i == 6 else f"{c:>{widths[i]}}")
        return s.rstrip()

    return line


class Summary:
    """Summary of a GLMResults: ``print(s)``; ``s.to_frame()``, ``to_markdown()``, ``to_latex()``,
    ``to_html()``, ``to_dict()``; renders as HTML in notebooks."""

    def __init__(self, res, alpha: float = 0.05, odds_ratios: bool = False):
        if not 0 < alpha < 1:
            raise GlmlogitError(f"alpha must be in (0, 1), got {alpha}")
        self.res = res
        self.alpha = float(alpha)
        self.odds_ratios = bool(odds_ratios)
        self.ratio_name = ratio_name(res) if self.odds_ratios else None
        self.stat_name = "t" if res.use_t else "z"
        self._frame = self._make_frame()
        self.aliased = [str(t) for t in self._frame.index[self._aliased_mask]]
        self.title = (
            f"Generalized linear model: {res.family.name} family, {res.family.link.name} link"
        )
        self.info = self._make_info()
        self.stats = self._make_stats()
        self.notes = self._make_notes()

    # --- content, computed once ---
    def _make_frame(self) -> pd.DataFrame:
        r = self.res
        ci = r.conf_int(self.alpha)
        coef, se = np.asarray(r.params, float), np.asarray(r.bse, float)
        lo, hi = np.asarray(ci.iloc[:, 0], float), np.asarray(ci.iloc[:, 1], float)
        first = "coef"
        if self.odds_ratios:  # exp(b); delta-method SE exp(b) se; the Wald limits exponentiated
            with np.errstate(over="ignore"):
                coef, lo, hi = np.exp(coef), np.exp(lo), np.exp(hi)
            se = coef * se
            first = "ratio"
        frame = pd.DataFrame(
            {
                first: coef,
                "std_err": se,
                self.stat_name: np.asarray(r.tvalues, float),
                "pvalue": np.asarray(r.pvalues, float),
                "ci_lower": lo,
                "ci_upper": hi,
            },
            index=pd.Index([str(t) for t in r.params.index], name="term"),
        )
        self._aliased_mask = np.asarray(r.aliased, bool)
        frame.loc[self._aliased_mask, :] = np.nan
        # Coefficients that diverge under separation: the finite number IRLS stopped at means
        # nothing; show the direction and suppress the Wald statistics.
        self.infinite = []
        sep = getattr(r, "separation", None)
        if (
            sep is not None
            and getattr(sep, "separated", False)
            and getattr(r, "firth", None) is None
        ):
            for term, direction in sep.directions.items():
                if direction in ("+inf", "-inf") and term in frame.index:
                    sign = 1.0 if direction == "+inf" else -1.0
                    val = np.exp(sign * np.inf) if self.odds_ratios else sign * np.inf
                    frame.loc[term, :] = np.nan
                    frame.loc[term, first] = val
                    self.infinite.append(str(term))
        return frame

    def _hauck_donner(self) -> list[str]:
        """Coefficients whose Wald p-value contradicts the likelihood-ratio test: the Wald test
        loses power as a coefficient grows (Hauck & Donner 1977).  The LR tests cost one refit per
        coefficient, so they are run for small problems; when separation was found, for all
        coefficients or only the infinite ones, as far as refits x rows x coefficients stays
        within ``LR_REFIT_BUDGET`` (a 10,000-level factor with thousands of infinite MLEs would
        otherwise cost thousands of refits of the full model: hours)."""
        r = self.res
        self.lr_skipped = 0
        if getattr(r, "out_of_core", False) or getattr(r, "penalty", None):
            return []  # p refits over data on disk: too costly for a report
        n, p = int(r.nobs), len(r.params)
        columns: list[str] | None = None
        if n * p <= LR_SMALL:
            pass
        elif not self.infinite:
            return []
        elif n * p * p > LR_REFIT_BUDGET:
            if n * p * len(self.infinite) > LR_REFIT_BUDGET:
                self.lr_skipped = len(self.infinite)
                return []
            columns = list(self.infinite)
        try:
            lr = r.lr_tests(columns)
        except Exception:  # a refit failing must not break the report
            return []
        out = []
        wald_p = pd.Series(np.asarray(r.pvalues, float), index=[str(t) for t in r.params.index])
        for term, pl in zip(lr.index, lr["pvalue"].to_numpy(dtype=float), strict=True):
            pw = float(wald_p[str(term)])
            # "disagree badly": the two tests reach opposite conclusions at the 5% level
            if math.isfinite(pl) and pl < 0.05 and (not math.isfinite(pw) or pw >= 0.05):
                wtxt = "suppressed" if str(term) in self.infinite else f"{pw:.3g}"
                out.append(f"{term} (Wald p {wtxt}, likelihood-ratio p {pl:.3g})")
        return out

    def _make_info(self) -> list[tuple[str, str]]:
        r, d = self.res, self.res.design
        info = []
        if getattr(d, "formula", None):
            info.append(("Formula", str(d.formula)))
        info.append(("Response", str(d.response_name)))
        nobs = f"{r.nobs}"
        if r.n_dropped:
            nobs += (
                f" ({r.n_dropped} row{'s' if r.n_dropped != 1 else ''} dropped for missing values)"
            )
        info.append(("Observations", nobs))
        w_name = getattr(d, "weights_name", None)
        if w_name or np.any(np.asarray(d.weights) != 1):
            info.append(("Prior weights", str(w_name or "(array)")))
        if getattr(d, "has_offset", False):
            info.append(("Offset", str(getattr(d, "offset_name", None) or "(array)")))
        method = str(getattr(r, "method", None) or "irls").upper()
        state = "converged" if r.converged else "did NOT converge"
        its = f"{r.n_iter} iteration{'s' if r.n_iter != 1 else ''}"
        info.append(("Method", f"{method}, {its}, {state}"))
        info.append(("Covariance", covariance_label(r)))
        return info

    def _make_stats(self) -> dict[str, Any]:
        r = self.res
        fixed = bool(r.family.fixed_scale)
        return {
            "dispersion": 1.0 if fixed else float(r.scale),
            "dispersion_fixed": fixed,
            "null_deviance": float(r.null_deviance),
            "df_null": int(r.df_null),
            "deviance": float(r.deviance),
            "df_resid": int(r.df_resid),
            "llf": float(r.llf),
            "aic": float(r.aic),
            "bic": float(r.bic),
            "pseudo_rsquared_mcfadden": float(r.pseudo_rsquared("mcf")),
        }

    def _make_notes(self) -> list[str]:
        r, notes = self.res, []
        if self.odds_ratios:
            notes.append(
                f"{self.ratio_name}s: exp(estimate); standard errors by the delta method "
                f"(exp(b) se); the {self.stat_name} statistics and p-values test b = 0; "
                "the intervals are the exponentiated Wald limits."
            )
        pen = getattr(r, "penalty", None)
        if pen:
            kind = {"l2": "ridge (L2)", "l1": "lasso (L1)"}.get(pen["penalty"], "elastic net")
            notes.append(
                f"Penalized fit: {kind}, alpha = {pen['alpha']:g}, l1_ratio = {pen['l1_ratio']:g} "
                "(glmnet's objective).  "
                + (
                    "Standard errors are the inverse penalized Hessian (the posterior spread under "
                    "the Gaussian prior the penalty is), not frequentist standard errors; tests "
                    "and intervals inherit that meaning."
                    if pen["l1_ratio"] == 0
                    else "No valid standard errors, tests or intervals exist for lasso or "
                    "elastic-net estimates; they are not shown.  Degrees of freedom (and AIC, "
                    "BIC) count the nonzero coefficients, as glmnet's df."
                )
            )
        if self.aliased:
            notes.append(
                f"{len(self.aliased)} coefficient{'s' if len(self.aliased) != 1 else ''} not "
                "defined because of singularities (linearly dependent on earlier columns; "
                f"estimate NaN, as R's NA): {', '.join(self.aliased)}"
            )
        if not r.converged:
            msg = getattr(getattr(r, "_fit", None), "message", "") or "the fit did not converge"
            notes.append(msg)
        sep = getattr(r, "separation", None)
        if sep is not None and getattr(sep, "status", None) != "none":
            notes.append(f"Separation: {str(sep).strip()}")
        if self.infinite:
            k = len(self.infinite)
            named = ", ".join(self.infinite[:10]) + (f" and {k - 10} more" if k > 10 else "")
            notes.append(
                f"{named}: the maximum-likelihood estimate is infinite; its "
                "standard error, Wald test and Wald interval are not shown.  Use the "
                "likelihood-ratio tests (res.lr_tests(), res.drop1()), profile intervals "
                "(res.conf_int(method='profile')), or refit with firth=True."
            )
        hd = self._hauck_donner()
        if hd:
            notes.append(
                "Wald and likelihood-ratio tests disagree (Hauck-Donner effect) for "
                + "; ".join(hd)
                + ": trust the likelihood-ratio test (res.lr_tests())."
            )
        if self.lr_skipped:
            k = self.lr_skipped
            notes.append(
                f"Likelihood-ratio tests of the infinite estimates not run for this report ({k} "
                f"refit{'s' if k > 1 else ''} of a {r.nobs} x {len(r.params)} model); "
                "res.lr_tests(columns) runs those you name."
            )
        return notes

    # --- cells shared by the renderers ---
    def _headers(self) -> list[str]:
        s, lo, hi = self.stat_name, self.alpha / 2, 1 - self.alpha / 2
        est = self.ratio_name or "Estimate"
        return [est, "Std. Error", f"{s} value", f"Pr(>|{s}|)", _pct(lo), _pct(hi), ""]

    def _cells(self) -> list[tuple[str, list[str]]]:
        f = self._frame
        est_col = f.columns[0]
        est_fmt = _column_format(f[est_col].to_numpy())
        se_fmt = _column_format(f["std_err"].to_numpy())
        rows = []
        # plain floats column by column (iterrows builds a Series per row: 0.3 s at p = 2,000)
        cols = [f[c].to_numpy(dtype=float).tolist() for c in (est_col, "std_err", self.stat_name)]
        cols += [f[c].to_numpy(dtype=float).tolist() for c in ("pvalue", "ci_lower", "ci_upper")]
        for term, alias, est_v, se_v, z, p, lo_v, hi_v in zip(
            f.index, self._aliased_mask, *cols, strict=True
        ):
            if alias:
                rows.append((str(term), ["aliased", "", "", "", "", "", ""]))
                continue
            if str(term) in self.infinite:
                inf = est_v > 1 if self.odds_ratios else est_v > 0
                est = "+Inf" if inf else ("0" if self.odds_ratios else "-Inf")
                rows.append((str(term), [est, "", "", "", "", "", ""]))
                continue
            cells = [
                est_fmt(est_v) if math.isfinite(est_v) else "NA",
                se_fmt(se_v) if math.isfinite(se_v) else "NA",
                f"{z:.3f}" if math.isfinite(z) else "NA",
                format_pvalue(p) or "NA",
                est_fmt(lo_v) if math.isfinite(lo_v) else "NA",
                est_fmt(hi_v) if math.isfinite(hi_v) else "NA",
                significance_stars(p),
            ]
            rows.append((str(term), cells))
        return rows

    def _stat_lines(self) -> list[tuple[str, str]]:
        st, fam = self.stats, self.res.family.name
        disp = (
            f"1 (fixed for the {fam} family)"
            if st["dispersion_fixed"]
            else f"{format_number(st['dispersion'])} (estimated: Pearson chi-squared / df_resid)"
        )
        return [
            ("Dispersion", disp),
            (
                "Null deviance",
                f"{format_number(st['null_deviance'])} on {st['df_null']} degrees of freedom",
            ),
            (
                "Residual deviance",
                f"{format_number(st['deviance'])} on {st['df_resid']} degrees of freedom",
            ),
            *likelihood_lines(st),
        ]

    def _table_caption(self) -> str:
        level = f"{100 * (1 - self.alpha):.10g}%"
        if self.odds_ratios:
            return f"{self.ratio_name}s, exp(coefficient) (Wald {level} confidence intervals):"
        return f"Coefficients (Wald {level} confidence intervals):"

    # --- text ---
    def __str__(self) -> str:
        key_w = max(len(k) for k, _ in self.info + self._stat_lines()) + 2
        out = [self.title, ""]
        out += [f"{k + ':':<{key_w}}{v}" for k, v in self.info]
        out += ["", self._table_caption()]
        headers, rows = self._headers(), self._cells()
        line = table_line(headers, rows)
        out.append(line("", headers))
        out += [line(t, c) for t, c in rows]
        out += ["---", LEGEND, ""]
        out += [f"{k + ':':<{key_w}}{v}" for k, v in self._stat_lines()]
        if self.notes:
            out += ["", "Notes:"]
            for n in self.notes:
                lines = n.splitlines() or [""]
                out.append(f"- {lines[0]}")
                out += [f"  {ln}" for ln in lines[1:]]
        return "\n".join(out) + "\n"

    def __repr__(self) -> str:
        return self.__str__()

    # --- exports ---
    def to_frame(self) -> pd.DataFrame:
        """Coefficient table: coef, std_err, z (or t), pvalue, ci_lower, ci_upper, by term."""
        return self._frame.copy()

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: plain Python numbers, NaN and infinities as None."""
        r, d = self.res, self.res.design
        coefs = []
        for (term, row), alias in zip(self._frame.iterrows(), self._aliased_mask, strict=True):
            item: dict[str, Any] = {"term": str(term)}
            item.update({str(k): _json_float(v) for k, v in row.items()})
            item["aliased"] = bool(alias)
            coefs.append(item)
        sep = getattr(r, "separation", None)
        return {
            "model": {
                "family": str(r.family.name),
                "link": str(r.family.link.name),
                "formula": None if getattr(d, "formula", None) is None else str(d.formula),
                "response": str(d.response_name),
                "nobs": int(r.nobs),
                "n_dropped": int(r.n_dropped),
                "method": str(getattr(r, "method", None) or "irls"),
                "n_iter": int(r.n_iter),
                "converged": bool(r.converged),
                "cov_type": str(r.cov_type),
                "covariance": covariance_label(r),
                "n_groups": n_groups(r),
                "use_t": bool(r.use_t),
            },
            "alpha": self.alpha,
            "odds_ratios": self.odds_ratios,
            "estimate": self._headers()[0],
            "statistic": self.stat_name,
            "coefficients": coefs,
            "statistics": {
                k: v if isinstance(v, bool | int) else _json_float(v) for k, v in self.stats.items()
            },
            "separation": None if sep is None else str(getattr(sep, "status", sep)),
            "notes": list(self.notes),
        }

    def to_markdown(self) -> str:
        """GitHub-flavoured Markdown: model facts, the coefficient table, statistics, notes."""
        out = [f"**{_md_escape(self.title)}**", ""]
        out += [
            f"- {k}: {_md_code(v) if k in ('Formula', 'Response') else _md_escape(v)}"
            for k, v in self.info
        ]
        out += ["", _md_escape(self._table_caption()), ""]
        headers = ["Term"] + self._headers()
        body = [[_md_code(t)] + [_md_escape(c) for c in cells] for t, cells in self._cells()]
        aligns = ["l"] + ["r"] * 6 + ["l"]
        out += _md_table([_md_escape(h) for h in headers], body, aligns)
        out += ["", _md_escape(LEGEND.replace("  ", " ")), ""]
        stats = [[_md_escape(k), _md_escape(v)] for k, v in self._stat_lines()]
        out += _md_table(["Statistic", "Value"], stats, ["l", "l"])
        if self.notes:
            out += ["", "**Notes**", ""]
            out += ["- " + " ".join(_md_escape(ln) for ln in n.splitlines()) for n in self.notes]
        return "\n".join(out) + "\n"

    def to_latex(self) -> str:
        """A booktabs ``tabular`` (needs ``\\usepackage{booktabs}``)."""
        ncol = 8

        def span(text: str) -> str:
            return f"\\multicolumn{{{ncol}}}{{l}}{{{text}}} \\\\"

        out = [f"\\begin{{tabular}}{{l{'r' * 6}l}}", "\\toprule", span(_tex(self.title))]
        out += [span(f"{_tex(k)}: {_tex(v)}") for k, v in self.info]
        out.append("\\midrule")
        s = self.stat_name
        heads = ["Term", _tex(self._headers()[0]), "Std. Error", f"${s}$ value"]
        heads.append(f"$\\Pr(>|{s}|)$")
        heads += [_tex(h).replace(" \\%", "\\,\\%") for h in self._headers()[4:6]] + [""]
        out += [" & ".join(heads) + " \\\\", "\\midrule"]
        for term, cells in self._cells():
            out.append(" & ".join([_tex(term)] + [_tex_num(c) for c in cells]) + " \\\\")
        out.append("\\midrule")
        out += [span(f"{_tex(k)}: {_tex(v)}") for k, v in self._stat_lines()]
        out.append("\\bottomrule")
        out.append(span(f"\\footnotesize {_tex(LEGEND.replace('  ', ' '))}"))
        out += [span(f"\\footnotesize Note: {_tex(' '.join(n.split()))}") for n in self.notes]
        out.append("\\end{tabular}")
        return "\n".join(out) + "\n"

    def to_html(self) -> str:
        """A self-contained HTML fragment (inline styles only, every text escaped)."""
        e = html.escape
        num = "text-align:right;padding:0 0.6em;font-variant-numeric:tabular-nums"
        left = "text-align:left;padding:0 0.6em"
        out = ['<div class="glmlogit-summary">', f"<p><strong>{e(self.title)}</strong></p>"]
        out.append('<table class="glmlogit-model" style="border-collapse:collapse">')
        out += [
            f'<tr><th scope="row" style="{left}">{e(k)}</th><td style="{left}">{e(v)}</td></tr>'
            for k, v in self.info
        ]
        out.append("</table>")
        rule = "currentColor"
        out.append(
            '<table class="glmlogit-coefficients" style="border-collapse:collapse;'
            f'margin:0.8em 0;border-top:2px solid {rule};border-bottom:2px solid {rule}">'
        )
        out.append(
            f'<caption style="{left};caption-side:top;padding-bottom:0.3em">'
            f"{e(self._table_caption())}</caption>"
        )
        under = f";border-bottom:1px solid {rule}"
        heads = "".join(
            f'<th scope="col" style="{num}{under}">{e(h)}</th>' for h in self._headers()
        )
        out.append(
            f'<thead><tr><th scope="col" style="{left}{under}">Term</th>{heads}</tr></thead><tbody>'
        )
        for term, cells in self._cells():
            tds = "".join(
                f'<td style="{num if i < 6 else left}">{e(c)}</td>' for i, c in enumerate(cells)
            )
            out.append(f'<tr><th scope="row" style="{left}">{e(term)}</th>{tds}</tr>')
        out.append("</tbody></table>")
        out.append(f'<p style="font-size:smaller">{e(LEGEND)}</p>')
        out.append('<table class="glmlogit-statistics" style="border-collapse:collapse">')
        out += [
            f'<tr><th scope="row" style="{left}">{e(k)}</th><td style="{left}">{e(v)}</td></tr>'
            for k, v in self._stat_lines()
        ]
        out.append("</table>")
        if self.notes:
            out.append("<ul>" + "".join(f"<li>{e(n)}</li>" for n in self.notes) + "</ul>")
        out.append("</div>")
        return "\n".join(out) + "\n"

    def _repr_html_(self) -> str:
        return self.to_html()


# --- labels shared with compare -----------------------------------------------------------------
def ratio_name(res) -> str:
    """What exp(coefficient) is: odds ratio (logit), risk ratio (binomial, log), rate ratio
    (Poisson, log) or a mean ratio (other log-link families)."""
    link, fam = res.family.link.name, res.family.name
    if link == "logit":
        return "Odds ratio"
    if link == "log":
        return {"binomial": "Risk ratio", "poisson": "Rate ratio"}.get(fam, "Mean ratio")
    raise GlmlogitError(
        f"exponentiated coefficients are ratios only for logit and log links, not {link}"
    )


def n_groups(res) -> int | None:
    if res.cov_type != "cluster":
        return None
    return int(len(pd.unique(np.asarray(res.cov_kwds["groups"]))))


_CLUSTER_CORRECTIONS = {
    "stata": "small-sample factor G/(G-1) (n-1)/(n-k), as Stata and statsmodels",
    "r": "small-sample factor G/(G-1), as R's sandwich::vcovCL",
    None: "no small-sample factor",
}


def covariance_label(res) -> str:
    """The covariance behind every SE, test and interval, in words."""
    ct = str(res.cov_type)
    if ct == "nonrobust":
        return ct
    if ct == "cluster":
        corr = res.cov_kwds.get("cluster_correction", "stata")
        return (
            f"cluster-robust, {n_groups(res)} clusters "
            f"({_CLUSTER_CORRECTIONS.get(corr, str(corr))})"
        )
    return f"{ct} (heteroskedasticity-consistent sandwich, as R's sandwich::vcovHC)"


# --- escaping -----------------------------------------------------------------------------------
def _json_float(v) -> float | None:
    v = float(v)
    return v if math.isfinite(v) else None


_MD_SPECIAL = "\\`*_[]<|~&"


def _md_escape(s: str) -> str:
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in str(s))


def _md_code(s: str) -> str:
    """A code span (no Markdown inside), safe in a table cell: pipes escaped, fence long enough."""
    s = str(s)
    longest = max([0] + [len(m) for m in _backtick_runs(s)])
    fence = "`" * (longest + 1)
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return f"{fence}{pad}{s.replace('|', chr(92) + '|')}{pad}{fence}"


def _backtick_runs(s: str) -> list[str]:
    runs, cur = [], ""
    for ch in s:
        if ch == "`":
            cur += ch
        elif cur:
            runs.append(cur)
            cur = ""
    return runs + ([cur] if cur else [])


def _md_table(headers: list[str], rows: list[list[str]], aligns: list[str]) -> list[str]:
    widths = [max([len(h), 3] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def cell(text: str, i: int) -> str:
        a = {"r": ">", "c": "^"}.get(aligns[i], "<")
        return f"{text:{a}{widths[i]}}"

    def rule(w: int, a: str) -> str:
        if a == "r":
            return "-" * (w - 1) + ":"
        if a == "c":
            return ":" + "-" * (w - 2) + ":"
        return ":" + "-" * (w - 1)

    sep = [rule(w, a) for w, a in zip(widths, aligns, strict=True)]
    lines = [
        "| " + " | ".join(cell(h, i) for i, h in enumerate(headers)) + " |",
        "| " + " | ".join(sep) + " |",
    ]
    lines += ["| " + " | ".join(cell(c, i) for i, c in enumerate(r)) + " |" for r in rows]
    return lines


_TEX = {
    "\\": "\\textbackslash{}",
    "&": "\\&",
    "%": "\\%",
    "$": "\\$",
    "#": "\\#",
    "_": "\\_",
    "{": "\\{",
    "}": "\\}",
    "~": "\\textasciitilde{}",
    "^": "\\textasciicircum{}",
    "<": "\\textless{}",
    ">": "\\textgreater{}",
    "|": "\\textbar{}",
}


def _tex(s: str) -> str:
    out = "".join(_TEX.get(ch, ch) for ch in str(s))
    return "{}" + out if out.startswith("[") else out  # "\\ [" would read as an optional argument


def _tex_num(c: str) -> str:
    if c.startswith("< "):
        return "$<$ " + c[2:]
    return "$-$" + c[1:] if c.startswith("-") else _tex(c)
