"""The printed, Markdown, HTML and JSON summary of a multinomial fit
(``MultinomialResults.summary()``)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .errors import GlmlogitError
from .summary import (
    LEGEND,
    _column_format,
    _json_float,
    _md_code,
    _md_escape,
    _md_table,
    _pct,
    format_number,
    format_pvalue,
    likelihood_lines,
    significance_stars,
    table_line,
)

if TYPE_CHECKING:
    from .multinomial import MultinomialResults


# ------------------------------------------------------------------------------------------------
# Summary: one coefficient table per non-baseline level, laid out as glmlogit.summary.Summary
# ------------------------------------------------------------------------------------------------
class MultinomialSummary:
    """``print(s)``; ``s.to_frame()``, ``to_markdown()``, ``to_dict()``."""

    stat_name = "z"

    def __init__(self, res: MultinomialResults, alpha: float = 0.05):
        if not 0 < alpha < 1:
            raise GlmlogitError(f"alpha must be in (0, 1), got {alpha}")
        self.res, self.alpha = res, float(alpha)
        ci = res.conf_int(alpha)
        st = lambda f: f.to_numpy().T.ravel()  # noqa: E731 - stacked level by level
        self._frame = pd.DataFrame(
            {
                "coef": st(res.params),
                "std_err": st(res.bse),
                "z": st(res.tvalues),
                "pvalue": st(res.pvalues),
                "ci_lower": ci["lower"].to_numpy(),
                "ci_upper": ci["upper"].to_numpy(),
            },
            index=res._stacked_index,
        )
        self.title = (
            f"Multinomial logit model: {len(res.levels)} levels, baseline {str(res.baseline)!r}"
        )
        d = res.design
        info = [("Formula", str(d.formula))] if d.formula else []
        info.append(("Response", str(d.response_name)))
        info.append(("Levels", ", ".join(map(str, res.levels))))
        nobs = f"{res.nobs}"
        if np.any(np.asarray(d.weights) != 1):
            nobs += f" (sum of case weights over {int(np.count_nonzero(d.weights))} rows)"
        if res.n_dropped:
            nobs += (
                f" ({res.n_dropped} row{'s' if res.n_dropped != 1 else ''} dropped for "
                "missing values)"
            )
        info.append(("Observations", nobs))
        if d.weights_name or np.any(np.asarray(d.weights) != 1):
            info.append(("Case weights", str(d.weights_name or "(array)")))
        state = "converged" if res.converged else "did NOT converge"
        meth = "PROXIMAL NEWTON" if res.alpha > 0 and res.l1_ratio > 0 else "NEWTON"
        info.append(("Method", f"{meth}, {res.n_iter} iteration{'s' * (res.n_iter != 1)}, {state}"))
        if res.alpha > 0:
            r = res.l1_ratio
            kind = "L2" if r == 0 else "L1" if r == 1 else f"elastic net, l1_ratio = {r:g}"
            info.append(("Penalty", f"{kind}, alpha = {res.alpha:g} (intercepts unpenalised)"))
        self.info = info
        self.stats = {
            "null_deviance": res.null_deviance,
            "deviance": res.deviance,
            "df_resid": res.df_resid,
            "llf": res.llf,
            "aic": res.aic,
            "bic": res.bic,
            "pseudo_rsquared_mcfadden": res.pseudo_rsquared("mcf"),
        }
        notes = []
        al = [str(t) for t, a in res.aliased.items() if a]
        if al:
            notes.append(
                f"{len(al)} design column(s) not defined because of singularities "
                f"(estimates NaN at every level, as R's NA): {', '.join(al)}"
            )
        if res.alpha > 0:
            notes.append("Penalised fit: standard errors, tests and intervals are not reported.")
        if not res.converged:
            notes.append(res._fit.message or "the fit did not converge")
            if res.alpha == 0 and res.separation.separated:
                notes.append(f"Separation: {res.separation}")
        self.notes = notes

    def _headers(self) -> list[str]:
        lo, hi = self.alpha / 2, 1 - self.alpha / 2
        return ["Estimate", "Std. Error", "z value", "Pr(>|z|)", _pct(lo), _pct(hi), ""]

    def _cells(self, level) -> list[tuple[str, list[str]]]:
        f = self._frame
        est_fmt = _column_format(f["coef"].to_numpy())
        se_fmt = _column_format(f["std_err"].to_numpy())
        rows = []
        for term, row in f.loc[level].iterrows():
            if self.res.aliased[term]:
                rows.append((str(term), ["aliased", "", "", "", "", "", ""]))
                continue

            def num(v, fmt):
                return fmt(v) if math.isfinite(v) else "NA"

            rows.append(
                (
                    str(term),
                    [
                        num(row["coef"], est_fmt),
                        num(row["std_err"], se_fmt),
                        f"{row['z']:.3f}" if math.isfinite(row["z"]) else "NA",
                        format_pvalue(row["pvalue"]) or "NA",
                        num(row["ci_lower"], est_fmt),
                        num(row["ci_upper"], est_fmt),
                        significance_stars(row["pvalue"]),
                    ],
                )
            )
        return rows

    def _caption(self, level) -> str:
        return (
            f"Level {str(level)!r} vs {str(self.res.baseline)!r}: coefficients (Wald "
            f"{100 * (1 - self.alpha):.10g}% confidence intervals):"
        )

    def _stat_lines(self) -> list[tuple[str, str]]:
        s = self.stats
        return [
            ("Null deviance", f"{format_number(s['null_deviance'])} (intercept-only model)"),
            (
                "Residual deviance",
                f"{format_number(s['deviance'])} on {s['df_resid']:g} degrees of freedom",
            ),
            *likelihood_lines(s),
        ]

    def __str__(self) -> str:
        key_w = max(len(k) for k, _ in self.info + self._stat_lines()) + 2
        out = [self.title, ""] + [f"{k + ':':<{key_w}}{v}" for k, v in self.info]
        headers = self._headers()
        tables = {lev: self._cells(lev) for lev in self.res.levels[1:]}
        line = table_line(headers, [r for rows in tables.values() for r in rows])  # one width

        for lev, rows in tables.items():
            out += ["", self._caption(lev), line("", headers)] + [line(t, c) for t, c in rows]
        out += ["---", LEGEND, ""] + [f"{k + ':':<{key_w}}{v}" for k, v in self._stat_lines()]
        if self.notes:
            out += ["", "Notes:"] + [f"- {n}" for n in self.notes]
        return "\n".join(out) + "\n"

    __repr__ = __str__

    def to_frame(self) -> pd.DataFrame:
        """Coefficient table, index (level, term): coef, std_err, z, pvalue, ci_lower, ci_upper."""
        return self._frame.copy()

    def to_markdown(self) -> str:
        out = [f"**{_md_escape(self.title)}**", ""]
        out += [
            f"- {k}: {_md_code(v) if k in ('Formula', 'Response') else _md_escape(v)}"
            for k, v in self.info
        ]
        aligns = ["l"] + ["r"] * 6 + ["l"]
        heads = [_md_escape(h) for h in ["Term"] + self._headers()]
        for lev in self.res.levels[1:]:
            body = [[_md_code(t)] + [_md_escape(c) for c in cells] for t, cells in self._cells(lev)]
            out += ["", _md_escape(self._caption(lev)), ""] + _md_table(heads, body, aligns)
        out += ["", _md_escape(LEGEND.replace("  ", " ")), ""]
        stats_rows = [[_md_escape(k), _md_escape(v)] for k, v in self._stat_lines()]
        out += _md_table(["Statistic", "Value"], stats_rows, ["l", "l"])
        if self.notes:
            out += ["", "**Notes**", ""] + ["- " + _md_escape(n) for n in self.notes]
        return "\n".join(out) + "\n"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: plain Python numbers and strings, NaN and infinities as None."""
        r, d = self.res, self.res.design
        coefs = [
            {
                "level": str(lev),
                "term": str(t),
                **{str(k): _json_float(v) for k, v in zip(self._frame.columns, vals)},
                "aliased": bool(r.aliased[t]),
            }
            for (lev, t), vals in zip(self._frame.index, self._frame.to_numpy())
        ]
        return {
            "model": {
                "family": "multinomial",
                "link": "logit",
                "formula": d.formula,
                "response": str(d.response_name),
                "levels": [str(v) for v in r.levels],
                "baseline": str(r.baseline),
                "nobs": _json_float(r.nobs),
                "n_dropped": int(r.n_dropped),
                "method": "newton",
                "n_iter": int(r.n_iter),
                "converged": bool(r.converged),
                "alpha": float(r.alpha),
                "l1_ratio": float(r.l1_ratio),
            },
            "alpha": self.alpha,
            "statistic": "z",
            "coefficients": coefs,
            "statistics": {k: _json_float(v) for k, v in self.stats.items()},
            "notes": list(self.notes),
        }
