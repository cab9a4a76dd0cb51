"""Real data sets shipped with glmlogit, for examples, the ``glmlogit demo`` command and tests."""

from __future__ import annotations

from importlib import resources

import pandas as pd

__all__ = ["BIRTHWT_SOURCE", "load_birthwt"]

BIRTHWT_SOURCE = (
    "189 births, Baystate Medical Center, Springfield MA, 1986; Hosmer & Lemeshow (1989) "
    "Applied Logistic Regression, via R package MASS"
)

_BIRTHWT_DTYPES = {
    "low": "int64",
    "age": "int64",
    "lwt": "int64",
    "smoke": "int64",
    "ptl": "int64",
    "ht": "int64",
    "ui": "int64",
    "ftv": "int64",
    "bwt": "int64",
}


def load_birthwt() -> pd.DataFrame:
    """Risk factors for low birth weight: 189 births, 10 columns (a fresh copy on every call).

    Source: Hosmer, D. W. and Lemeshow, S. (1989) *Applied Logistic Regression*, Wiley; births at
    Baystate Medical Center, Springfield, Massachusetts, during 1986.  The file is the ``birthwt``
    data frame of the R package MASS (Venables & Ripley (2002) *Modern Applied Statistics with S*),
    rows in MASS's order, with ``race`` written as its labels instead of the codes 1/2/3.

    Columns:

    - ``low``: 1 if the birth weight is below 2.5 kg, else 0
    - ``age``: mother's age in years
    - ``lwt``: mother's weight in pounds at the last menstrual period
    - ``race``: ``"white"``, ``"black"`` or ``"other"``
    - ``smoke``: 1 if the mother smoked during pregnancy
    - ``ptl``: number of previous premature labours
    - ``ht``: 1 if the mother has a history of hypertension
    - ``ui``: 1 if uterine irritability is present
    - ``ftv``: number of physician visits during the first trimester
    - ``bwt``: birth weight in grams

    ``C(race)`` in a formula takes the sorted levels, so ``black`` is the reference level; use
    ``C(race, contr.treatment("white"))`` for Hosmer & Lemeshow's comparison with white mothers.

    >>> import glmlogit as gl
    >>> from glmlogit.datasets import load_birthwt
    >>> res = gl.glm("low ~ age + lwt + C(race) + smoke + ptl + ht + ui", load_birthwt())
    """
    path = resources.files("glmlogit").joinpath("data").joinpath("birthwt.csv")
    with path.open("r", encoding="utf-8") as fh:
        df = pd.read_csv(fh, dtype=_BIRTHWT_DTYPES)
    return df
