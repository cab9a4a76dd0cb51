"""When the MLE does not exist: detection -> Firth -> profile intervals, on the endometrial data.

Data: Heinze & Schemper (2002), 79 endometrial cancer patients (R package brglm2,
``data(endometrial)``); HG = histology grade, NV = neovasculation, PI = pulsatility index,
EH = endometrium height.  Every patient with neovasculation (NV = 1) has a high grade: the data
are quasi-completely separated and the maximum-likelihood estimate of NV is +infinity.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pandas as pd

import glmlogit as gl

DATA = Path(__file__).resolve().parent.parent / "tests" / "reference" / "data" / "endometrial.csv"


def main() -> int:
    df = pd.read_csv(DATA)
    print(pd.crosstab(df.NV, df.HG).rename_axis(index="NV", columns="HG"), "\n")

    # 1. The ordinary fit "converges" (as R's glm does, silently) -- glmlogit says why not to trust it.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ml = gl.glm("HG ~ NV + PI + EH", df)
    print("Warning:", caught[0].message, "\n")
    print(ml.separation, "\n")
    print("ML estimate of NV:", round(ml.params["NV"], 2), " Wald p:", f"{ml.pvalues['NV']:.3f}")
    lr = ml.lr_tests().loc["NV"]
    print(f"Likelihood-ratio test of NV: chi2 = {lr.statistic:.2f}, p = {lr.pvalue:.2g}")
    print("Profile-likelihood interval for NV:", ml.conf_int(method="profile").loc["NV"].round(3).tolist(), "\n")

    # 2. Firth's bias-reduced logistic regression: finite estimates, penalized LR tests and
    #    profile penalized-likelihood intervals (as R's logistf / brglm2).
    fr = gl.glm("HG ~ NV + PI + EH", df, firth=True)
    table = pd.DataFrame({"coef": fr.params, "se": fr.bse})
    table = table.join(fr.conf_int(method="profile")).join(fr.lr_tests()[["statistic", "pvalue"]])
    print("Firth estimates with profile penalized-likelihood intervals and PLR tests:")
    print(table.round(4), "\n")

    # 3. Or ask for it in one go.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", gl.PerfectSeparationWarning)
        auto = gl.glm("HG ~ NV + PI + EH", df, on_separation="firth")
    ok = (
        ml.separation.status == "quasi-complete"
        and ml.separation.directions["NV"] == "+inf"
        and abs(fr.params["NV"] - 2.929) < 1e-3
        and fr.conf_int(method="profile").loc["NV", "upper"] < 10
        and abs(auto.params["NV"] - fr.params["NV"]) < 1e-12
    )
    print("checks passed" if ok else "CHECK FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
