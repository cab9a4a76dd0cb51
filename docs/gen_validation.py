"""Print the table of R reference cases for docs/validation.md.

Loads every fixture under tests/reference/glm/, fits it with glmlogit exactly as
tests/test_reference_r.py does, and prints one markdown row per case with the largest
relative difference from R in the coefficients, standard errors, deviance and log-likelihood.
The tolerances are read from the test module itself, so the table cannot drift from the tests.

    python docs/gen_validation.py
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

import glmlogit as gl

ROOT = Path(__file__).resolve().parent.parent
REF = ROOT / "tests" / "reference"


def _test_tolerances() -> tuple[float, float]:
    spec = importlib.util.spec_from_file_location(
        "_ref_tests", ROOT / "tests" / "test_reference_r.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.COEF, mod.SE


def _arr(v) -> np.ndarray:
    return np.array([np.nan if x is None else x for x in v], dtype=float)


def _max_rel(ours, ref) -> float:
    ours, ref = np.atleast_1d(np.asarray(ours, float)), np.atleast_1d(np.asarray(ref, float))
    ok = ~np.isnan(ref)
    assert np.array_equal(ok, ~np.isnan(ours)), "aliased pattern differs from R"
    return float(np.max(np.abs(ours[ok] - ref[ok]) / np.abs(ref[ok])))


def _model(case: dict) -> str:
    link = case["link"]
    fam = case["family"]
    extra = []
    if case["weights"]:
        extra.append(f"weights `{case['weights']}`")
    if case["offset"]:
        extra.append(f"offset `{case['offset']}`")
    tail = f"; {', '.join(extra)}" if extra else ""
    return f"`{case['formula_py']}`, {fam}/{link}{tail}"


def main() -> int:
    coef_tol, se_tol = _test_tolerances()
    rows = []
    for path in sorted((REF / "glm").glob("*.json")):
        case = json.loads(path.read_text())
        df = pd.read_csv(REF / "data" / case["dataset"])
        res = gl.glm(
            case["formula_py"],
            df,
            family=case["family"],
            link=case["link"],
            weights=case["weights"],
            offset=case["offset"],
        )
        aliased = [n for n, a in zip(res.params.index, case["aliased"], strict=True) if a]
        note = f" (aliased: {', '.join('`' + a + '`' for a in aliased)})" if aliased else ""
        if case["r_needs_start"]:
            note += " (R needs `start=`)"
        rows.append(
            f"| `{case['name']}` | {case['dataset']}: {case['dataset_source']} | "
            f"{_model(case)}{note} | "
            f"{_max_rel(res.params, _arr(case['params'])):.1e} | "
            f"{_max_rel(res.bse, _arr(case['bse'])):.1e} | "
            f"{_max_rel(res.deviance, case['deviance']):.1e} | "
            f"{_max_rel(res.llf, case['llf']):.1e} | "
            f"{res.n_iter} / {case['iter']} | "
            f"{case['max_rel_change_default']:.1e} |"
        )
    print(
        "| case | data (source) | model | coef | SE | deviance | llf | iterations (glmlogit / R) "
        "| R default stop vs MLE |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print()
    print(
        f"Test tolerances (relative): coefficients, deviance, llf {coef_tol:g}; "
        f"standard errors {se_tol:g}."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
