"""Multinomial (softmax) logit: satisfaction with housing in Copenhagen.

Data: 1681 tenants in 72 groups (Madsen 1976; R's ``MASS::housing``, as in Venables & Ripley's MASS
book, section 7.3): satisfaction with their housing (Low / Medium / High) by perceived influence on
management, type of housing and contact with other residents; ``Freq`` counts the tenants in each
group and enters as case weights.  The CSV ships with the test references.

The script fits ``Sat ~ Infl + Type + Cont`` (baseline: Low satisfaction), prints the summary, a
joint Wald test of the housing type, a likelihood-ratio test against the model without it, and
predicted probabilities for a few tenants, checking a few facts on the way (it exits non-zero if
anything is off).

    python examples/multinomial_choice.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from glmlogit.multinomial import multinomial

DATA = Path(__file__).resolve().parent.parent / "tests" / "reference" / "data" / "housing.csv"
LEVELS = {
    "Sat": ["Low", "Medium", "High"],
    "Infl": ["Low", "Medium", "High"],
    "Type": ["Tower", "Apartment", "Atrium", "Terrace"],
    "Cont": ["Low", "High"],
}


def main() -> None:
    df = pd.read_csv(DATA)
    for col, levels in LEVELS.items():  # keep R's level order: Low is the baseline
        df[col] = pd.Categorical(df[col], categories=levels)

    res = multinomial("Sat ~ Infl + Type + Cont", df, weights="Freq")
    print(res.summary())
    assert res.converged and res.baseline == "Low"
    # R: nnet::multinom(Sat ~ Infl + Type + Cont, weights = Freq, data = housing) gives
    # residual deviance 3470.084 and AIC 3498.084 (MASS, 4th ed., p. 204).
    assert abs(res.deviance - 3470.0838663) < 1e-6 and abs(res.aic - 3498.0838663) < 1e-6

    # Does the type of housing matter?  Its 3 columns at both non-baseline levels: 6 restrictions.
    cols = [c for c in res.params.index if c.startswith("Type")]
    wald = res.wald_test(", ".join(f"{c} = 0" for c in cols))
    smaller = multinomial("Sat ~ Infl + Cont", df, weights="Freq")
    lr = res.compare_lr(smaller)
    print("Housing type, Wald test:", wald)
    print("Housing type, LR test:  ", lr)
    assert wald.df == lr.df == 6 and wald.pvalue < 1e-6 and lr.pvalue < 1e-6

    new = pd.DataFrame(
        {
            "Infl": ["Low", "High", "Medium"],
            "Type": ["Tower", "Atrium", "Terrace"],
            "Cont": ["Low", "High", "High"],
        }
    )
    prob = res.predict(new)
    print("\nPredicted probabilities of each satisfaction level:")
    print(pd.concat([new, prob.round(4)], axis=1).to_string(index=False))
    assert np.allclose(prob.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert list(prob.columns) == LEVELS["Sat"]
    # High influence makes high satisfaction more likely than low influence does.
    assert prob.loc[1, "High"] > prob.loc[0, "High"]


if __name__ == "__main__":
    main()
