"""The command line, run in-process: ``glmlogit demo`` and ``glmlogit fit DATA.csv FORMULA``."""

from __future__ import annotations

import json
import runpy
import sys

import numpy as np
import pandas as pd
import pytest

from glmlogit.cli import main
from glmlogit.datasets import load_birthwt


@pytest.fixture(scope="module")
def csv_path(tmp_path_factory):
    rng = np.random.default_rng(20240601)
    n = 300
    df = pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "g": rng.choice(["a", "b", "c"], size=n),
            "exposure": rng.uniform(1, 5, size=n),
        }
    )
    eta = -0.3 + 0.8 * df["x1"] + np.where(df["g"] == "b", 0.5, 0.0)
    df["y"] = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(int)
    df["count"] = rng.poisson(df["exposure"] * np.exp(0.2 * df["x1"]))
    df["log_exposure"] = np.log(df["exposure"])
    path = tmp_path_factory.mktemp("cli") / "data.csv"
    df.to_csv(path, index=False)
    return path


def test_demo_prints_coefficient_table(capsys):
    assert main(["demo"]) == 0
    out, err = capsys.readouterr()
    first = out.splitlines()[0]
    assert first.startswith("Data: ") and "Hosmer & Lemeshow (1989)" in first and "MASS" in first
    assert "low ~ age + lwt + C(race) + smoke + ptl + ht + ui" in out
    assert "Estimate  Std. Error  z value  Pr(>|z|)" in out
    smoke = next(ln for ln in out.splitlines() if ln.startswith("smoke "))
    assert smoke.split()[1] == "0.92335"
    for term in ("Intercept", "C(race)[T.other]", "C(race)[T.white]", "ht", "ui"):
        assert f"\n{term} " in out
    assert "Residual deviance: 201.43 on 180 degrees of freedom" in out
    assert err == ""


def test_demo_json_names_the_data(capsys):
    assert main(["demo", "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert "Hosmer" in d["data"]["source"]
    assert d["coefficients"][5]["term"] == "smoke"
    assert d["coefficients"][5]["coef"] == pytest.approx(0.9233491572287814, rel=1e-8)  # R


@pytest.mark.parametrize("fmt", ["text", "markdown", "latex", "html", "json"])
def test_fit_each_format(csv_path, capsys, fmt):
    assert main(["fit", str(csv_path), "y ~ x1 + C(g)", "--format", fmt]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    if fmt == "json":
        d = json.loads(out)
        assert [c["term"] for c in d["coefficients"]] == [
            "Intercept",
            "x1",
            "C(g)[T.b]",
            "C(g)[T.c]",
        ]
        assert d["model"]["nobs"] == 300
        return
    marker = {
        "text": "Estimate  Std. Error",
        "markdown": "| Term ",
        "latex": r"\begin{tabular}",
        "html": '<table class="glmlogit-coefficients"',
    }[fmt]
    assert marker in out
    assert "x1" in out and "C(g)" in out


def test_fit_family_link_weights_offset(csv_path, capsys):
    rc = main(
        [
            "fit",
            str(csv_path),
            "count ~ x1",
            "--family",
            "poisson",
            "--offset",
            "log_exposure",
            "--alpha",
            "0.1",
        ]
    )
    assert rc == 0
    out = capsys.readouterr().out
    assert "poisson family, log link" in out and "Offset:" in out and "log_exposure" in out
    assert "95 %" in out
    assert main(["fit", str(csv_path), "y ~ x1", "--link", "probit", "--weights", "exposure"]) == 0
    out = capsys.readouterr().out
    assert "binomial family, probit link" in out and "Prior weights:" in out


def test_bad_column_exits_2_naming_it(csv_path, capsys):
    assert main(["fit", str(csv_path), "y ~ x1 + nosuchcol"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("glmlogit: error: ") and "nosuchcol" in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_formula_syntax_error_is_one_clean_line(csv_path, capsys):
    assert main(["fit", str(csv_path), "y ~ x1 + ("]) == 2
    err = capsys.readouterr().err
    assert err.startswith("glmlogit: error: cannot parse formula")
    assert err.count("\n") == 1 and "\x1b" not in err


def test_bad_weights_column_and_family(csv_path, capsys):
    assert main(["fit", str(csv_path), "y ~ x1", "--weights", "wcol"]) == 2
    assert "wcol" in capsys.readouterr().err
    assert main(["fit", str(csv_path), "y ~ x1", "--family", "nosuch"]) == 2
    assert "nosuch" in capsys.readouterr().err


def test_missing_file_exits_2(tmp_path, capsys):
    missing = tmp_path / "absent.csv"
    assert main(["fit", str(missing), "y ~ x"]) == 2
    err = capsys.readouterr().err
    assert err == f"glmlogit: error: no such file: {missing}\n"


def test_unparseable_csv_exits_2(tmp_path, capsys):
    p = tmp_path / "empty.csv"
    p.write_text("")
    assert main(["fit", str(p), "y ~ x"]) == 2
    assert capsys.readouterr().err.startswith("glmlogit: error: cannot read")


def test_bad_arguments_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--format", "pdf"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2


def test_warnings_go_to_stderr_as_one_line(csv_path, capsys, monkeypatch):
    import glmlogit.model

    real = glmlogit.model.glm
    monkeypatch.setattr(glmlogit.model, "glm", lambda *a, **k: real(*a, max_iter=1, **k))
    assert main(["fit", str(csv_path), "y ~ x1"]) == 0
    out, err = capsys.readouterr()
    assert err.startswith("glmlogit: warning: IRLS did not converge") and err.count("\n") == 1
    assert "did NOT converge" in out and "Notes:" in out


def test_python_dash_m(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["glmlogit", "demo", "--format", "markdown"])
    with pytest.raises(SystemExit) as exc:
        runpy.run_module("glmlogit", run_name="__main__")
    assert exc.value.code == 0
    assert "| `C(race)[T.white]`" in capsys.readouterr().out


def test_load_birthwt_matches_reference():
    from pathlib import Path

    df = load_birthwt()
    assert df.shape == (189, 10)
    assert list(df.columns) == [
        "low",
        "age",
        "lwt",
        "race",
        "smoke",
        "ptl",
        "ht",
        "ui",
        "ftv",
        "bwt",
    ]
    assert int(df["low"].sum()) == 59
    assert df["race"].value_counts().to_dict() == {"white": 96, "other": 67, "black": 26}
    assert ((df["bwt"] < 2500).astype(int) == df["low"]).all()
    ref = pd.read_csv(Path(__file__).parent / "reference" / "data" / "birthwt.csv")
    pd.testing.assert_frame_equal(df, ref[df.columns], check_dtype=False)
    df.loc[0, "age"] = -1
    assert load_birthwt().loc[0, "age"] == 19  # a fresh copy each call


# --- covariance, odds ratios --------------------------------------------------------------------
def test_cov_type_and_odds_ratios(csv_path, capsys):
    import glmlogit as gl

    df = pd.read_csv(csv_path)
    ref = gl.glm("y ~ x1 + C(g)", df, cov_type="HC3")
    assert (
        main(["fit", str(csv_path), "y ~ x1 + C(g)", "--cov-type", "HC3", "--format", "json"]) == 0
    )
    d = json.loads(capsys.readouterr().out)
    assert d["model"]["cov_type"] == "HC3"
    assert [c["std_err"] for c in d["coefficients"]] == pytest.approx(ref.bse.tolist(), rel=1e-12)
    assert main(["fit", str(csv_path), "y ~ x1 + C(g)", "--odds-ratios"]) == 0
    out = capsys.readouterr().out
    assert "Odds ratio  Std. Error" in out and "Covariance:        nonrobust" in out
    x1 = next(ln for ln in out.splitlines() if ln.startswith("x1 "))
    assert float(x1.split()[1]) == pytest.approx(np.exp(ref.params["x1"]), rel=1e-4)


def test_groups_implies_cluster(csv_path, capsys):
    import glmlogit as gl

    df = pd.read_csv(csv_path)
    ref = gl.glm("y ~ x1", df, cov_type="cluster", groups="g")
    assert main(["fit", str(csv_path), "y ~ x1", "--groups", "g", "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["model"]["cov_type"] == "cluster" and d["model"]["n_groups"] == 3
    assert [c["std_err"] for c in d["coefficients"]] == pytest.approx(ref.bse.tolist(), rel=1e-12)
    assert main(["fit", str(csv_path), "y ~ x1", "--cov-type", "cluster", "--groups", "g"]) == 0
    assert "cluster-robust, 3 clusters" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "msg"),
    [
        (["--groups", "g", "--cov-type", "HC1"], "--groups is for --cov-type cluster"),
        (["--cov-type", "cluster"], "groups"),
        (["--groups", "nosuch"], "nosuch"),
        (["--link", "probit", "--odds-ratios"], "logit and log links"),
    ],
)
def test_cov_and_ratio_errors_exit_2(csv_path, capsys, argv, msg):
    assert main(["fit", str(csv_path), "y ~ x1", *argv]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("glmlogit: error: ") and msg in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("fmt", ["latex", "html"])
def test_demo_robust_odds_ratios_latex_html(capsys, fmt):
    assert main(["demo", "--cov-type", "HC1", "--odds-ratios", "--format", fmt]) == 0
    out = capsys.readouterr().out
    assert "Odds ratio" in out and "HC1" in out
    if fmt == "latex":
        assert out.startswith("% Data: ") and r"\begin{tabular}" in out
        assert "Odds ratio & Std. Error" in out
    else:
        assert out.startswith("<p>Data: ") and '<table class="glmlogit-coefficients"' in out
    assert main(["demo", "--groups", "ftv"]) == 0
    assert "cluster-robust, 6 clusters" in capsys.readouterr().out
