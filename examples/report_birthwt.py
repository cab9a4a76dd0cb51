"""A full report on a logistic regression, written as Markdown with PNG plots.

Data: risk factors for low birth weight, 189 births at Baystate Medical Center, Springfield,
Massachusetts, 1986 (Hosmer & Lemeshow (1989), *Applied Logistic Regression*; R's
``MASS::birthwt``), shipped with glmlogit.

The report has the model summary, odds ratios, robust (HC1 and cluster) standard errors, a
side-by-side table of a small and a full model, the Hosmer-Lemeshow test, the classification
table and AUC, average marginal effects, predicted probabilities on a grid, and five plots.

    python examples/report_birthwt.py [OUTPUT_DIR]      # default: a new temporary directory

It checks its own numbers on the way (against R where a value is known) and exits non-zero if
anything is off.  Needs matplotlib (``pip install 'glmlogit[plot]'``).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import glmlogit as gl  # noqa: E402
from glmlogit import diagnostics, plots  # noqa: E402
from glmlogit.compare import compare  # noqa: E402
from glmlogit.datasets import BIRTHWT_SOURCE, load_birthwt  # noqa: E402
from glmlogit.effects import margeff, prediction_grid  # noqa: E402
from glmlogit.summary import Summary, _md_table  # noqa: E402

FULL = "low ~ age + lwt + C(race) + smoke + ptl + ht + ui"
SMALL = "low ~ age + lwt + smoke"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _save(ax, path: Path) -> str:
    ax.figure.tight_layout()
    ax.figure.savefig(path, dpi=100)
    plt.close(ax.figure)
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 5000, f"{path} is not a drawn PNG"
    return path.name


def build_report(out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    df = load_birthwt()
    md: list[str] = [
        "# Risk factors for low birth weight: a logistic regression report",
        "",
        f"Data: {BIRTHWT_SOURCE}. Model: `{FULL}` (binomial family, logit link); "
        "`C(race)` has black mothers as the reference level.",
        "",
    ]

    # --- the model --------------------------------------------------------------------------
    res = gl.glm(FULL, df)
    assert res.converged
    # R: glm(low ~ age + lwt + race + smoke + ptl + ht + ui, binomial, MASS::birthwt)
    assert abs(res.deviance - 201.42695120) < 1e-6 and res.df_resid == 180
    md += ["## Model summary", "", Summary(res).to_markdown()]

    # --- odds ratios ------------------------------------------------------------------------
    ors = Summary(res, odds_ratios=True)
    smoke_or = ors.to_frame().loc["smoke", "ratio"]
    assert abs(smoke_or - np.exp(0.9233491572)) < 1e-8, smoke_or  # R's coefficient
    md += ["## Odds ratios", "", ors.to_markdown()]

    # --- robust standard errors ---------------------------------------------------------------
    hc1 = res.get_robustcov("HC1")
    clustered = res.get_robustcov("cluster", groups="ftv")
    robust = compare(
        {"Model-based": res, "HC1": hc1, "Cluster (ftv)": clustered}, stat="se", digits=3
    )
    assert np.allclose(robust.params["HC1"], res.params)  # same estimates, other SEs
    assert not np.allclose(robust.bse["HC1"], res.bse)
    md += [
        "## Robust standard errors",
        "",
        "The same estimates with three covariances: model-based (inverse Fisher information), "
        "HC1 sandwich (R's `sandwich::vcovHC(type = \"HC1\")`), and clustered by the number of "
        "first-trimester physician visits (`ftv`, only 6 clusters: shown to demonstrate the "
        "option, not as advice).",
        "",
        robust.to_markdown(),
    ]

    # --- two models side by side --------------------------------------------------------------
    small = gl.glm(SMALL, df)
    lr = res.compare_lr(small)
    both = compare({"Smoking, age, weight": small, "Full model": res}, odds_ratios=True)
    md += [
        "## Two models compared (odds ratios)",
        "",
        both.to_markdown(),
        f"Likelihood-ratio test of the full model against the small one: "
        f"chi-squared = {lr.statistic:.3f} on {lr.df:g} df, p = {lr.pvalue:.3g}.",
        "",
    ]
    assert res.aic < small.aic

    # --- goodness of fit and discrimination ---------------------------------------------------
    y, mu = res.design.y, res.fittedvalues.to_numpy()
    hl = diagnostics.hosmer_lemeshow(y, mu, g=10)
    auc = diagnostics.auc(y, mu)
    ct = diagnostics.classification_table(y, mu, threshold=0.5)
    assert 0.5 < auc < 1 and 0 <= hl.pvalue <= 1 and ct.table.sum() == 189
    ct_rows = [[label] + [f"{v:g}" for v in row] for label, row in zip(["0", "1"], ct.table)]
    md += [
        "## Goodness of fit and discrimination",
        "",
        f"- Hosmer-Lemeshow test (10 groups): chi-squared = {hl.statistic:.3f} on {hl.df} df, "
        f"p = {hl.pvalue:.3f}",
        f"- Area under the ROC curve (AUC): {auc:.4f}",
        f"- Classification at a threshold of 0.5: accuracy {ct.accuracy:.3f}, sensitivity "
        f"{ct.sensitivity:.3f}, specificity {ct.specificity:.3f}",
        "",
        *_md_table(["Observed", "Predicted 0", "Predicted 1"], ct_rows, ["l", "r", "r"]),
        "",
    ]

    # --- marginal effects -------------------------------------------------------------------
    ame = margeff(res)
    assert ame.kind["C(race)[T.white]"] == "level" and ame.kind["smoke"] == "discrete"
    assert 0 < ame.margeff["smoke"] < 1
    md += [
        "## Average marginal effects",
        "",
        "Effects on the probability of a low birth weight, averaged over the 189 mothers; "
        "race levels, smoking, hypertension and uterine irritability as discrete changes, the "
        "others as derivatives; delta-method standard errors.",
        "",
        ame.to_markdown(),
    ]

    # --- predictions on a grid --------------------------------------------------------------
    grid = prediction_grid(res, race=["white", "black", "other"], smoke=[0, 1])
    pred = res.get_prediction(grid).summary_frame()
    assert (pred["mean_ci_lower"] < pred["mean"]).all() and (pred["mean"] < 1).all()
    rows = [
        [str(r), str(s), f"{m:.3f}", f"[{lo:.3f}, {hi:.3f}]"]
        for r, s, m, lo, hi in zip(
            grid["race"], grid["smoke"], pred["mean"], pred["mean_ci_lower"], pred["mean_ci_upper"]
        )
    ]
    md += [
        "## Predicted probabilities",
        "",
        "Other predictors at their means (age, weight, previous premature labours, "
        "hypertension, uterine irritability).",
        "",
        *_md_table(["Race", "Smoker", "P(low)", "95% CI"], rows, ["l", "r", "r", "l"]),
        "",
    ]

    # --- plots ------------------------------------------------------------------------------
    figures = [
        ("Odds ratios", plots.forest_plot(res, odds_ratios=True), "forest_or.png"),
        ("Deviance residuals vs linear predictor", plots.plot_residuals_vs_fitted(res), "resid.png"),
        ("Half-normal plot of deviance residuals", plots.plot_halfnormal(res), "halfnormal.png"),
        ("Cook's distance", plots.plot_cooks(res), "cooks.png"),
        ("Calibration", plots.plot_calibration(res, bins=10), "calibration.png"),
    ]
    md += ["## Plots", ""]
    for title, ax, name in figures:
        md += [f"### {title}", "", f"![{title}]({_save(ax, out / name)})", ""]

    path = out / "report.md"
    path.write_text("\n".join(md), encoding="utf-8")
    return path


def main(argv: list[str]) -> int:
    t0 = time.perf_counter()
    out = Path(argv[0]) if argv else Path(tempfile.mkdtemp(prefix="glmlogit_report_"))
    path = build_report(out)
    files = sorted(p.name for p in out.iterdir())
    print(f"Report written to {path} ({time.perf_counter() - t0:.1f} s)")
    print("Files: " + ", ".join(files))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
