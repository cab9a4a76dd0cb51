"""Poisson regression of rates with an offset: car insurance claims.

Data: R's ``MASS::Insurance`` (Baxter, Coutts & Ross (1980), "Applications of linear models in
motor insurance", 21st International Congress of Actuaries): for 64 cells of district x car
group x driver age, the number of policy holders and the number of claims they made.  The copy
used here is ``tests/reference/data/insurance.csv``, written by ``tests/reference/make_reference.R``
(the ordered factors get sortable labels such as ``g1_lt1l`` = engine below 1 litre, ``a1_lt25`` =
driver under 25; ``log_holders`` = log(Holders)).

A claim *rate* per policy holder is modelled as log E[Claims] = log(Holders) + X b: the log of the
exposure enters as an offset, a term with its coefficient fixed at 1, so exp(b) are rate ratios.
The script prints the summary, the rate ratios, the analysis of deviance and predicted claim
counts and rates for new cells, and checks a few facts on the way (non-zero exit on failure).

    python examples/rates_with_offset.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import glmlogit as gl

pd.set_option("display.width", 120)
pd.set_option("display.max_columns", 20)

DATA = Path(__file__).resolve().parent.parent / "tests" / "reference" / "data" / "insurance.csv"
FORMULA = "Claims ~ C(District) + C(Group) + C(Age)"


def main() -> None:
    # District is a label ("1".."4"), not a number: read it as a string.
    ins = pd.read_csv(DATA, dtype={"District": str})
    print(
        f"{len(ins)} cells, {ins['Holders'].sum()} policy holders, {ins['Claims'].sum()} claims\n"
    )

    res = gl.glm(FORMULA, data=ins, family="poisson", offset="log_holders")
    print(res.summary())
    assert res.converged
    # R: glm(Claims ~ District + Group + Age + offset(log(Holders)), poisson, MASS::Insurance)
    # gives residual deviance 51.42 on 54 df (the fixture holds R's value to full precision).
    assert abs(res.deviance - 51.420032749) < 1e-6 and res.df_resid == 54
    # With an intercept and the canonical log link, fitted totals equal observed totals.
    assert np.isclose(res.fittedvalues.sum(), ins["Claims"].sum(), rtol=1e-10)

    # Rate ratios: exp(coefficient).  The intercept is the claim rate per holder of the
    # reference cell (district 1, group g1, drivers under 25).
    print("\nRate ratios with 95% confidence intervals:")
    rr = res.odds_ratios()  # exp(coef) and exp(Wald limits): rate ratios under a log link
    print(rr.round(3).to_string())
    assert np.allclose(rr["ratio"], np.exp(res.params))
    # Claim rates rise with the car group and fall with the driver's age.
    groups = rr.loc[[c for c in rr.index if c.startswith("C(Group)")], "ratio"]
    ages = rr.loc[[c for c in rr.index if c.startswith("C(Age)")], "ratio"]
    assert (np.diff(groups) > 0).all() and (groups > 1).all()
    assert (np.diff(ages) < 0).all() and (ages < 1).all()

    print("\nSequential analysis of deviance:")
    print(gl.anova(res).to_string())
    print("\nWald tests, one per formula term:")
    print(res.wald_test_terms().round(4).to_string())

    # Over-dispersion check: Pearson chi2 / df_resid near 1 supports the Poisson variance.
    ratio = res.pearson_chi2 / res.df_resid
    print(f"\nPearson chi2 / df_resid = {res.pearson_chi2:.2f} / {res.df_resid} = {ratio:.3f}")
    assert 0.5 < ratio < 2

    # New cells: the offset column is read from the new data, so the prediction is a count for
    # that many holders; divide by Holders for the rate per holder.
    new = pd.DataFrame(
        {
            "District": ["1", "4", "2"],
            "Group": ["g1_lt1l", "g4_gt2l", "g2_1-1.5l"],
            "Age": ["a4_gt35", "a1_lt25", "a3_30-35"],
            "Holders": [1000, 1000, 250],
        }
    )
    new["log_holders"] = np.log(new["Holders"])
    frame = res.get_prediction(new).summary_frame(alpha=0.05)
    out = new[["District", "Group", "Age", "Holders"]].copy()
    out["claims"] = frame["mean"]
    out["claims_lower"] = frame["mean_ci_lower"]
    out["claims_upper"] = frame["mean_ci_upper"]
    out["rate_per_100"] = 100 * frame["mean"] / new["Holders"]
    print("\nPredicted claims (95% intervals) for new cells:")
    print(out.round(2).to_string())
    assert (
        (frame["mean_ci_lower"] < frame["mean"]) & (frame["mean"] < frame["mean_ci_upper"])
    ).all()
    # The same cell with twice the holders gets twice the expected claims: the offset at work.
    double = new.iloc[[0]].assign(Holders=2000, log_holders=np.log(2000))
    assert np.isclose(res.predict(double).iloc[0], 2 * frame["mean"].iloc[0], rtol=1e-12)
    # An offset passed as an array overrides the column in the new data.
    assert np.isclose(
        res.predict(new.iloc[[0]], offset=np.log(2000)).iloc[0], 2 * frame["mean"].iloc[0]
    )


if __name__ == "__main__":
    main()
