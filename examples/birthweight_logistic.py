"""Logistic regression with a categorical predictor: risk factors for low birth weight.

Data: 189 births at Baystate Medical Center, Springfield, Massachusetts, 1986 (Hosmer & Lemeshow
(1989), *Applied Logistic Regression*; R's ``MASS::birthwt``), shipped with glmlogit.

The model is the one of Venables & Ripley's MASS example and Hosmer & Lemeshow: low birth weight
(< 2.5 kg) on the mother's age, weight, race, smoking, previous premature labours, hypertension
and uterine irritability.  The script prints the summary, odds ratios, a Wald test of the race
term, likelihood-ratio tests (anova) and predicted probabilities with 95% intervals, and checks a
few facts on the way, so it exits non-zero if anything is off.

    python examples/birthweight_logistic.py
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import glmlogit as gl
from glmlogit.datasets import BIRTHWT_SOURCE, load_birthwt

pd.set_option("display.width", 120)
pd.set_option("display.max_columns", 20)

FORMULA = "low ~ age + lwt + C(race) + smoke + ptl + ht + ui"


def main() -> None:
    df = load_birthwt()
    print(f"Data: {BIRTHWT_SOURCE}\n")

    # Make white mothers the reference level, as Hosmer & Lemeshow do: a pandas Categorical keeps
    # its category order, and C() takes the first category as the reference.
    df["race"] = pd.Categorical(df["race"], categories=["white", "black", "other"])
    before = df.copy()

    res = gl.glm(FORMULA, data=df)  # binomial family, logit link by default
    print(res.summary())
    assert res.converged
    assert df.equals(before), "fitting must not modify the caller's data"
    # R: glm(low ~ age + lwt + race + smoke + ptl + ht + ui, binomial, MASS::birthwt)
    # gives residual deviance 201.4270 on 180 df (the parametrisation of race does not matter).
    assert abs(res.deviance - 201.42695120) < 1e-6 and res.df_resid == 180
    assert res.deviance < res.null_deviance

    # Odds ratios: exp(coefficient), with the exponentiated Wald interval.
    print("\nOdds ratios with 95% confidence intervals:")
    ors = res.odds_ratios()
    print(ors.round(3).to_string())
    assert np.allclose(ors["ratio"], np.exp(res.params))
    assert (ors["lower"] < ors["ratio"]).all() and (ors["ratio"] < ors["upper"]).all()

    # Does race matter at all?  One joint Wald test of both race coefficients.
    race = res.wald_test("C(race)[T.black] = 0, C(race)[T.other] = 0")
    print("\nWald test that both race coefficients are zero:")
    print(" ", race)
    assert race.df == 2 and 0 < race.pvalue < 1
    # The same joint test appears in the per-term table.
    terms = res.wald_test_terms()
    print("\nWald tests, one per formula term:")
    print(terms.round(4).to_string())
    assert np.isclose(terms.loc["C(race)", "statistic"], race.statistic, rtol=1e-12)

    # Likelihood-ratio test of the race term: fit the model without it and compare.
    small = gl.glm("low ~ age + lwt + smoke + ptl + ht + ui", data=df)
    lr = gl.anova(small, res)
    print("\nLikelihood-ratio test of race (anova of the nested models):")
    print(lr.to_string())
    assert lr["df"].iloc[1] == 2
    assert np.isclose(lr["statistic"].iloc[1], small.deviance - res.deviance)
    assert np.isclose(res.compare_lr(small).statistic, lr["statistic"].iloc[1])

    print("\nSequential analysis of deviance (R's anova(fit, test = 'Chisq')):")
    seq = gl.anova(res)
    print(seq.to_string())
    assert np.isclose(seq["deviance"].iloc[-1], res.deviance)
    assert np.isclose(seq["deviance"].iloc[0], res.null_deviance)

    # Predicted probability of a low birth weight for a few mothers, with 95% intervals
    # (computed on the log-odds scale and transformed, so they stay inside (0, 1)).
    new = pd.DataFrame(
        {
            "age": [25, 25, 25, 25],
            "lwt": [130, 130, 130, 100],
            "race": ["white", "white", "black", "black"],
            "smoke": [0, 1, 1, 1],
            "ptl": [0, 0, 0, 1],
            "ht": [0, 0, 0, 1],
            "ui": [0, 0, 0, 0],
        }
    )
    frame = res.get_prediction(new).summary_frame(alpha=0.05)
    print("\nPredicted probabilities of low birth weight:")
    print(
        pd.concat([new, frame[["mean", "mean_ci_lower", "mean_ci_upper"]]], axis=1)
        .round(3)
        .to_string()
    )
    assert ((frame["mean_ci_lower"] > 0) & (frame["mean_ci_upper"] < 1)).all()
    assert (
        (frame["mean_ci_lower"] < frame["mean"]) & (frame["mean"] < frame["mean_ci_upper"])
    ).all()
    assert np.allclose(frame["mean"], res.predict(new))
    # Smoking raises the odds by the smoking odds ratio, whatever else is held fixed.
    p0, p1 = frame["mean"].iloc[0], frame["mean"].iloc[1]
    assert np.isclose((p1 / (1 - p1)) / (p0 / (1 - p0)), ors.loc["smoke", "ratio"])


if __name__ == "__main__":
    main()
