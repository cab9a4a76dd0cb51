"""Print the generated tables of docs/validation.md.

Loads every fixture under tests/reference/glm/, fits it with glmlogit exactly as
tests/test_reference_r.py does, and prints one markdown row per case with the largest
relative difference from R in the coefficients, standard errors, deviance and log-likelihood.
The tolerances of that table are read from the test module itself.  Then one table per other
reference family (drop1, profile, firth, robust, separation, multinomial, glmnet), each
reproduced through the public API the way its test module does, with the largest difference
per quantity and the test's tolerance.

    python docs/gen_validation.py                # the generated block (the build inserts it)
    python docs/gen_validation.py --statsmodels  # the static statsmodels table (pasted by hand)
"""

from __future__ import annotations

import importlib.util
import json
import sys
import warnings
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


def glm_table() -> str:
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
    out = [
        "| case | data (source) | model | coef | SE | deviance | llf | iterations (glmlogit / R) "
        "| R default stop vs MLE |",
        "|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"Test tolerances (relative): coefficients, deviance, llf {coef_tol:g}; "
        f"standard errors {se_tol:g}.",
    ]
    return "\n".join(out)


# ------------------------------------------------------------------------------------------
# The other reference families (one table each), reproduced through the public API as the
# tests do.  Each column is the largest difference over every number compared.
# ------------------------------------------------------------------------------------------


def _load(kind: str, name: str) -> tuple[dict, pd.DataFrame | None]:
    case = json.loads((REF / kind / f"{name}.json").read_text())
    ds = case.get("dataset")
    df = pd.read_csv(REF / "data" / ds) if ds and (REF / "data" / ds).is_file() else None
    return case, df


def _cases(kind: str) -> list[str]:
    return sorted(p.stem for p in (REF / kind).glob("*.json"))


def _rel(ours, ref) -> float:
    """Largest relative difference over the entries where the reference is finite."""
    ours = np.atleast_1d(np.asarray(ours, float)).ravel()
    ref = np.atleast_1d(np.asarray(ref, float)).ravel()
    ok = np.isfinite(ref)
    assert np.array_equal(np.isfinite(ours), ok), "missing/infinite pattern differs"
    if not ok.any():
        return 0.0
    return float(np.max(np.abs(ours[ok] - ref[ok]) / np.abs(ref[ok])))


def _abs(ours, ref) -> float:
    ours = np.atleast_1d(np.asarray(ours, float)).ravel()
    ref = np.atleast_1d(np.asarray(ref, float)).ravel()
    ok = np.isfinite(ref)
    assert np.array_equal(np.isfinite(ours), ok), "missing/infinite pattern differs"
    return float(np.max(np.abs(ours[ok] - ref[ok]))) if ok.any() else 0.0


def _scaled(ours, ref, scale) -> float:
    """max |ours - ref| / max|ref| style measures: difference relative to a given scale."""
    return _abs(ours, ref) / float(scale)


def _cov_scaled(got, ref) -> float:
    """As tests/test_robust.py's assert_cov_close: |V - V_R| / (sd_i sd_j)."""
    got, ref = np.asarray(got, float), np.asarray(ref, float)
    assert np.array_equal(np.isnan(got), np.isnan(ref)), "NaN pattern differs"
    dg = np.sqrt(np.abs(np.diag(ref)))
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.abs(got - ref) / np.outer(dg, dg)
    return float(np.nanmax(s))


def _nan(v) -> np.ndarray:
    return np.array(
        [
            np.nan if x is None else (np.inf if x == "Inf" else (-np.inf if x == "-Inf" else x))
            for x in v
        ],
        dtype=float,
    )


def _nan2(v) -> np.ndarray:
    return np.array([[np.nan if x is None else x for x in r] for r in v], dtype=float)


def _e(x: float) -> str:
    return f"{x:.1e}"


def _src(case: dict) -> str:
    ds = case.get("dataset") or "inline (JSON)"
    src = case.get("dataset_source")
    return f"{ds}: {src}" if src else ds


def _table(title: str, intro: str, header: list[str], rows: list[list[str]], tol: str) -> str:
    out = [f"#### {title}", "", intro, ""]
    out.append("| " + " | ".join(header) + " |")
    out.append("|" + "---|" * len(header))
    out += ["| " + " | ".join(r) + " |" for r in rows]
    out += ["", f"Tolerances: {tol}", ""]
    return "\n".join(out)


def _glm_fam(case: dict) -> str:
    fam = f"{case['family']}/{case['link']}" if case.get("family") else "binomial/logit"
    extra = []
    if case.get("weights"):
        extra.append(f"weights `{case['weights']}`")
    if case.get("offset"):
        extra.append(f"offset `{case['offset']}`")
    return f"`{case['formula_py']}`, {fam}" + (f"; {', '.join(extra)}" if extra else "")


def drop1_section() -> str:
    rows = []
    for name in _cases("drop1"):
        case, df = _load("drop1", name)
        res = gl.glm(
            case["formula_py"], df, family=case["family"], link=case["link"], offset=case["offset"]
        )
        for test in ("LRT", "F"):
            key = f"drop1_{test}"
            if key not in case:
                continue
            ref = case[key]
            tab = res.drop1(test)
            assert len(tab) == len(ref["term"])
            rows.append(
                [
                    f"`{name}`",
                    _src(case),
                    f'{_glm_fam(case)}; `drop1(test="{test}")`',
                    _e(max(_rel(tab["deviance"], ref["deviance"]), _rel(tab["aic"], ref["aic"]))),
                    _e(_rel(tab["statistic"].to_numpy()[1:], _nan(ref["statistic"])[1:])),
                    _e(_abs(np.log(tab["pvalue"].to_numpy()[1:]), np.log(_nan(ref["pvalue"])[1:]))),
                ]
            )
    return _table(
        "drop1 (`tests/reference/drop1/`, R `drop1(fit, test=)`)",
        "`tests/test_likelihood_inference.py::test_drop1_vs_r`: `res.drop1(test)` against R.",
        ["case", "data", "model", "deviance, AIC (rel)", "statistic (rel)", "log p (abs)"],
        rows,
        "rtol 1e-8 deviance and AIC; rtol 1e-7 statistic; atol 1e-6 in log p.",
    )


def profile_section() -> str:
    rows = []
    for name in _cases("profile"):
        case, df = _load("profile", name)
        kw = dict(family=case["family"], link=case["link"], weights=case.get("weights"))
        idx = np.asarray(case["profiled"]) - 1
        lo_ref, hi_ref = _nan(case["profile_exact_lower"]), _nan(case["profile_exact_upper"])
        if case["separated"]:
            # As tests/test_profile.py: the MLE does not exist; stop where R's glm stops.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = gl.glm(case["formula_py"], df, max_iter=25, **kw)
                ci = res.conf_int(method="profile")
            lo = ci["lower"].to_numpy()[idx]
            hi = ci["upper"].to_numpy()[idx]
            assert np.all(np.isinf(hi)) and np.all(np.isinf(hi_ref[idx]))
            rows.append(
                [
                    f"`{name}`",
                    _src(case),
                    _glm_fam(case) + " (separated, own fit stopped at 25 iterations)",
                    f"{_e(_rel(lo, lo_ref[idx]))} (upper: ∞ = ∞)",
                    "—",
                    "rtol 1e-5 lower limit (own non-converged fit); upper limit infinite",
                ]
            )
            continue
        res = gl.glm(case["formula_py"], df, **kw)
        ci = res.conf_int(method="profile")
        lo, hi = ci["lower"].to_numpy()[idx], ci["upper"].to_numpy()[idx]
        se = res.bse.to_numpy()[idx]
        spline = max(
            float(np.max(np.abs(lo - case["confint_r_lower"]) / se)),
            float(np.max(np.abs(hi - case["confint_r_upper"]) / se)),
        )
        rows.append(
            [
                f"`{name}`",
                _src(case),
                _glm_fam(case),
                _e(max(_rel(lo, lo_ref[idx]), _rel(hi, hi_ref[idx]))),
                _e(spline),
                "rtol 1e-8 exact limits; \\|diff\\| ≤ 3e-4 × SE vs `confint()`",
            ]
        )
    return _table(
        "Profile-likelihood intervals (`tests/reference/profile/`, R root-finding on the profile"
        " deviance, and `confint()`)",
        "`tests/test_likelihood_inference.py::test_profile_conf_int_vs_r` and "
        '`tests/test_profile.py`: `res.conf_int(method="profile")` against R\'s exact roots of '
        "the profile deviance and against R's own spline-interpolated `confint()` (difference "
        "in units of the SE).",
        [
            "case",
            "data",
            "model",
            "exact limits (rel)",
            "R `confint()` (\\|diff\\| / SE)",
            "tolerance",
        ],
        rows,
        "as in the last column (`EXACT`, `SPLINE` in `tests/test_profile.py`).",
    )


def firth_section() -> str:
    rows = []
    for name in _cases("firth"):
        case, df = _load("firth", name)
        if case["offset"] == "age_off":
            df["age_off"] = 0.05 * df["age"]  # as the R script computes it
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = gl.glm(
                case["formula_py"], df, firth=True, weights=case["weights"], offset=case["offset"]
            )
            lr = res.lr_tests()
            ci = res.conf_int(method="profile")
        rows.append(
            [
                f"`{name}`",
                _src(case),
                _glm_fam(case) + " (Firth)",
                _e(_rel(res.params, case["params"])),
                _e(_rel(res.bse, case["bse"])),
                _e(_rel(lr["statistic"], _nan(case["lr_chisq"]))),
                _e(
                    max(
                        _rel(ci["lower"], _nan(case["ci_lower"])),
                        _rel(ci["upper"], _nan(case["ci_upper"])),
                    )
                ),
            ]
        )
    return _table(
        "Firth logistic regression (`tests/reference/firth/`, R brglm2 `AS_mean` and "
        "logistf-style tests and intervals)",
        "`tests/test_likelihood_inference.py::test_firth_vs_brglm2` and `tests/test_firth.py`: "
        '`gl.glm(..., firth=True)`, its `lr_tests()` and `conf_int(method="profile")`.',
        [
            "case",
            "data",
            "model",
            "coef (rel)",
            "SE (rel)",
            "penalized LR χ² (rel)",
            "profile limits (rel)",
        ],
        rows,
        "rtol 1e-8 coefficients and SEs; rtol 1e-7 LR statistics and profile limits.",
    )


def robust_section() -> str:
    rows = []
    for name in _cases("robust"):
        case, df = _load("robust", name)
        w = None if case["weights_values"] is None else np.array(case["weights_values"])
        res = gl.glm(
            case["formula_py"],
            df,
            family=case["family"],
            link=case["link"],
            weights=w,
            offset=case["offset"],
        )
        hc = max(
            _cov_scaled(res.get_robustcov(k).cov_params().to_numpy(), _nan2(case[f"vcovHC_{k}"]))
            for k in ("HC0", "HC1", "HC2", "HC3")
        )
        groups = np.array(case["cluster"])
        cl = max(
            _cov_scaled(
                res.get_robustcov("cluster", groups=groups, cluster_correction=corr)
                .cov_params()
                .to_numpy(),
                _nan2(case[key]),
            )
            for corr, key in (("stata", "vcovCL_stata"), ("r", "vcovCL_r"), (None, "vcovCL_none"))
        )
        infl = "—"
        if not np.any(res._fit.aliased) and (w is None or np.all(w > 0)):
            inf = res.influence()
            d = []
            for col in ("hat", "cooks_d", "rstandard", "rstandard_pearson", "rstudent"):
                ref = np.asarray(case[col], dtype=float)
                d.append(_scaled(inf[col], ref, np.max(np.abs(ref))))
            ref = np.array(case["dfbetas"], dtype=float)
            d.append(_scaled(res.dfbetas(), ref, np.max(np.abs(ref))))
            infl = _e(max(d))
        model = _glm_fam(case)
        if w is not None and case["weights"] is None:
            model += "; prior weights from the JSON"
        rows.append(
            [
                f"`{name}`",
                _src(case),
                model,
                _e(_rel(res.params, _nan(case["params"]))),
                _e(hc),
                _e(cl),
                infl,
            ]
        )
    return _table(
        "Robust covariances and influence (`tests/reference/robust/`, R sandwich `vcovHC`, "
        "`vcovCL`; `influence.measures`)",
        "`tests/test_robust.py` and `tests/test_results_robust_api.py`: "
        '`res.get_robustcov("HC0"…"HC3")` and `get_robustcov("cluster", groups=, '
        'cluster_correction="stata"/"r"/None)`; covariances are compared as '
        "`tests/test_robust.py` does, \\|V − V_R\\| / (sd_i sd_j), the largest over the four HC "
        "kinds or the three cluster corrections. Influence: hat values, Cook's distance, "
        "standardized (deviance and Pearson) and studentized residuals, DFBETAS, as "
        '\\|diff\\| / max\\|R\\| (the test\'s absolute floor; "—" where the test does not '
        "compare them).",
        [
            "case",
            "data",
            "model",
            "coef (rel)",
            "HC0–HC3 (scaled)",
            "cluster (scaled)",
            "influence (\\|diff\\| / max)",
        ],
        rows,
        "rtol 1e-8 coefficients; 1e-7 covariances (scaled) and influence measures "
        "(rtol 1e-7 with atol 1e-10 × max\\|R\\|).",
    )


def separation_section() -> str:
    from glmlogit.separation import detect_separation

    rows = []
    for name in _cases("separation"):
        d = json.loads((REF / "separation" / f"{name}.json").read_text())
        X, y, w = (np.array(d[k], dtype=float) for k in ("x", "y", "prior_weights"))
        rep = detect_separation(X, y, w, d["coef_names"])
        same = (
            list(rep.directions.index) == d["coef_names"]
            and rep.directions.to_dict() == d["directions"]
        )
        rest = (
            rep.status == d["status"]
            and rep.separated == d["separation"]
            and rep.n_separated == d["n_separated"]
            and rep.rows.tolist() == d["separated_rows"]
            and rep.aliased == d["aliased"]
        )
        rows.append(
            [
                f"`{name}`",
                _src(d),
                f"`{d['formula_r']}`" + (f"; weights `{d['weights']}`" if d.get("weights") else ""),
                d["status"],
                "yes" if same else "no",
                "yes" if rest else "no",
                _e(_abs(rep.lp_solution, _nan(d["lp_beta"]))),
            ]
        )
    return _table(
        "Separation detection (`tests/reference/separation/`, R detectseparation / lpSolve)",
        "`tests/test_separation.py::test_matches_r`: `glmlogit.separation.detect_separation` on "
        "R's model matrix.",
        [
            "case",
            "data",
            "model (R formula)",
            "status (R)",
            "directions identical",
            "status, rows, aliased identical",
            "LP solution (abs)",
        ],
        rows,
        "directions, status, separated rows and aliased columns exactly; LP solution atol 1e-7.",
    )


def multinomial_section() -> str:
    housing = {
        "Sat": ["Low", "Medium", "High"],
        "Infl": ["Low", "Medium", "High"],
        "Type": ["Tower", "Apartment", "Atrium", "Terrace"],
        "Cont": ["Low", "High"],
    }
    rows = []
    for name in _cases("multinomial"):
        case, df = _load("multinomial", name)
        if case["dataset"] == "housing.csv":
            for col, levels in housing.items():
                df[col] = pd.Categorical(df[col], categories=levels)
        if case["separated"]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = gl.multinomial(case["formula_py"], df)
            ok = (
                not res.converged
                and res.separation.separated
                and res.deviance <= case["nnet_deviance"] + 1e-6
            )
            rows.append(
                [
                    f"`{name}`",
                    _src(case),
                    f"`{case['formula_py']}` (separated)",
                    f"— (separation {res.separation.status}; deviance "
                    f"{res.deviance:.2g} ≤ nnet's {case['nnet_deviance']:.2g}: "
                    f"{'yes' if ok else 'no'})",
                    "—",
                    "—",
                    "—",
                    "—",
                ]
            )
            continue
        res = gl.multinomial(case["formula_py"], df, weights=case["weights"] or None)
        rws = np.asarray(case["fitted_rows"]) - 1
        pred = max(
            _rel(res.fittedvalues.iloc[rws], case["fitted"]),
            _rel(res.predict(pd.DataFrame(case["newdata"])), case["predict"]),
        )
        model = f"`{case['formula_py']}`" + (
            f"; weights `{case['weights']}`" if case["weights"] else ""
        )
        rows.append(
            [
                f"`{name}`",
                _src(case),
                model,
                _e(_rel(res.params, case["params"])),
                _e(_rel(res.bse, case["bse"])),
                _e(max(_rel(res.deviance, case["deviance"]), _rel(res.llf, case["llf"]))),
                _e(pred),
                _e(
                    max(
                        _rel(res.params, case["nnet_coefficients"]), _rel(res.bse, case["nnet_bse"])
                    )
                ),
            ]
        )
    return _table(
        "Multinomial logit (`tests/reference/multinomial/`, R nnet `multinom` polished to the "
        "exact MLE)",
        "`tests/test_multinomial.py`: `gl.multinomial(...)` against the Newton-polished R "
        "solution, and against nnet's own (BFGS) answer.",
        [
            "case",
            "data",
            "model",
            "coef (rel)",
            "SE (rel)",
            "deviance, llf (rel)",
            "fitted, predict (rel)",
            "vs nnet coef, SE (rel)",
        ],
        rows,
        "rtol 1e-8 coefficients; 1e-7 SEs; 1e-12 deviance and llf; 1e-8 probabilities; "
        "1e-5 against nnet's own stopping point.",
    )


def glmnet_section() -> str:
    rows = []
    for name in _cases("glmnet"):
        c = json.loads((REF / "glmnet" / f"{name}.json").read_text())
        X = np.array(c["x"], dtype=float)
        path = gl.glm_path(
            X,
            np.array(c["y"], dtype=float),
            family=c["family"],
            weights=np.array(c["weights"], dtype=float),
            offset=np.array(c["offset"], dtype=float),
            l1_ratio=c["l1_ratio"],
            n_alphas=c["nlambda"],
            alpha_min_ratio=c["lambda_min_ratio"],
            penalty_factor=np.array(c["penalty_factor"], dtype=float),
            standardize=c["standardize"],
            tol=1e-14,
            progress=False,
        )
        k0 = 0 if c["first_is_solution"] else 1
        coefs = np.asarray(path.coefs, dtype=float)[k0:]
        dev_ratio = 1 - np.asarray(path.deviance) / np.asarray(path.null_deviance)
        extra = []
        if len(set(c["weights"])) > 1:
            extra.append("weights")
        if c["has_offset"]:
            extra.append("offset")
        if any(p != 1 for p in c["penalty_factor"]):
            extra.append("penalty factors")
        if c["standardize"]:
            extra.append("standardize")
        model = f"{c['family']}, l1_ratio {c['l1_ratio']:g}, {c['nlambda']} alphas" + (
            f"; {', '.join(extra)}" if extra else ""
        )
        rows.append(
            [
                f"`{name}`",
                c.get("description", "—"),
                model,
                _e(_rel(path.alphas, c["alphas"])),
                _e(_abs(coefs, np.array(c["coefs"], dtype=float)[k0:])),
                _e(_abs(dev_ratio[k0:], np.asarray(c["dev_ratio"])[k0:])),
            ]
        )
    return _table(
        "Penalized paths (`tests/reference/glmnet/`, R glmnet)",
        "`tests/test_penalized.py::test_glmnet_paths`: `gl.glm_path(X, y, ...)` with glmnet's "
        "settings; coefficients and deviance ratio are compared in absolute terms over the "
        "whole path (coefficients cross zero along it).",
        ["case", "data", "model", "alpha grid (rel)", "coefficients (abs)", "dev.ratio (abs)"],
        rows,
        "rtol 1e-9 alpha grid; atol 1e-6 coefficients; atol 1e-7 deviance ratio.",
    )


SECTIONS = [
    drop1_section,
    profile_section,
    firth_section,
    robust_section,
    separation_section,
    multinomial_section,
    glmnet_section,
]


# ------------------------------------------------------------------------------------------
# statsmodels, live (static: printed by --statsmodels and pasted into validation.md by hand,
# because the docs build does not install statsmodels)
# ------------------------------------------------------------------------------------------

SM_CASES = [
    # name, csv, formula, family, link, weights, offset
    (
        "birthwt logit",
        "birthwt.csv",
        "low ~ age + lwt + C(race) + smoke + ptl + ht + ui",
        "binomial",
        "logit",
        None,
        None,
    ),
    (
        "birthwt probit",
        "birthwt.csv",
        "low ~ age + lwt + smoke + ht",
        "binomial",
        "probit",
        None,
        None,
    ),
    ("birthwt logit, weights", "birthwt.csv", "low ~ age + smoke", "binomial", "logit", "w", None),
    (
        "insurance poisson, offset",
        "insurance.csv",
        "Claims ~ C(District) + C(Group) + C(Age)",
        "poisson",
        "log",
        None,
        "log_holders",
    ),
    ("clotting gamma log", "clotting.csv", "lot1 ~ np.log(u)", "gamma", "log", None, None),
    (
        "mtcars gaussian identity",
        "mtcars.csv",
        "mpg ~ wt + hp + C(cyl)",
        "gaussian",
        "identity",
        None,
        None,
    ),
]


def statsmodels_table() -> str:
    import statsmodels
    import statsmodels.api as sm

    fams = {
        "binomial": sm.families.Binomial,
        "poisson": sm.families.Poisson,
        "gamma": sm.families.Gamma,
        "gaussian": sm.families.Gaussian,
    }
    links = {
        "logit": sm.families.links.Logit,
        "probit": sm.families.links.Probit,
        "log": sm.families.links.Log,
        "identity": sm.families.links.Identity,
    }
    rows = []
    for name, csv, formula, fam, link, wcol, ocol in SM_CASES:
        df = pd.read_csv(REF / "data" / csv)
        res = gl.glm(formula, df, family=fam, link=link, weights=wcol, offset=ocol)
        d = res.design
        X = np.asarray(d.X.toarray() if hasattr(d.X, "toarray") else d.X, dtype=float)
        kw = {}
        if wcol:
            kw["var_weights"] = df[wcol].to_numpy(float)
        if ocol:
            kw["offset"] = df[ocol].to_numpy(float)
        r = sm.GLM(np.asarray(d.y, float), X, family=fams[fam](links[link]()), **kw).fit(
            tol=1e-13, maxiter=200
        )
        rows.append(
            f"| {name} | {csv} | `{formula}`, {fam}/{link}"
            + (f"; weights `{wcol}`" if wcol else "")
            + (f"; offset `{ocol}`" if ocol else "")
            + f" | {_max_rel(res.params.to_numpy(), r.params):.1e}"
            f" | {_max_rel(res.bse.to_numpy(), r.bse):.1e}"
            f" | {_max_rel(res.deviance, r.deviance):.1e} |"
        )
    return "\n".join(
        [
            f"statsmodels {statsmodels.__version__}, `sm.GLM(...).fit(tol=1e-13)` on glmlogit's own "
            "design matrix (prior weights as `var_weights`):",
            "",
            "| model | data | formula, family/link | coef (rel) | SE (rel) | deviance (rel) |",
            "|---|---|---|---|---|---|",
            *rows,
        ]
    )


def generated_block() -> str:
    parts = [glm_table(), "", "### The other reference families", ""]
    parts += [s() for s in SECTIONS]
    return "\n".join(parts).strip()


def main(argv: list[str] | None = None) -> int:
    argv = [] if argv is None else argv
    if "--statsmodels" in argv:
        print(statsmodels_table())
    else:
        print(generated_block())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
