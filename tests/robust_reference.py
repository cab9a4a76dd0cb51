"""Shared loader of the sandwich/influence fixtures (tests/reference/make_robust.R), used by
tests/test_robust.py and tests/test_diagnostics.py."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

import glmlogit as gl

REF = Path(__file__).parent / "reference"
CASES = sorted(p.stem for p in (REF / "robust").glob("*.json"))


def _arr(v):
    """JSON list (or list of lists) with nulls -> float array with NaN."""
    if v and isinstance(v[0], list):
        return np.array([[np.nan if x is None else x for x in r] for r in v], dtype=float)
    return np.array([np.nan if x is None else x for x in v], dtype=float)


@cache
def load(name):
    """(fixture, glmlogit fit of the same model)."""
    case = json.loads((REF / "robust" / f"{name}.json").read_text())
    df = pd.read_csv(REF / "data" / case["dataset"])
    w = None if case["weights_values"] is None else np.array(case["weights_values"])
    res = gl.glm(
        case["formula_py"],
        df,
        family=case["family"],
        link=case["link"],
        weights=w,
        offset=case["offset"],
    )
    return case, res


def args(res):
    """The array arguments of glmlogit.robust / glmlogit.diagnostics functions for a fit."""
    d, f = res.design, res._fit
    return (d.X, d.y, f.mu, f.eta, d.weights, res.family, f.cov_unscaled, f.aliased)
