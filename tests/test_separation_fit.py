"""Separation through gl.glm: the screen, the LP report on the results, on_separation=.

References: the Konis-LP fixtures of tests/reference/make_separation.R (directions must match
exactly), brglm2 Firth estimates (tests/reference/firth/, rtol 1e-8)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

import glmlogit as gl
import glmlogit.separation as sepmod

REF = Path(__file__).parent / "reference"


def _endo():
    return pd.read_csv(REF / "data" / "endometrial.csv")


def test_separated_fit_warns_with_the_report():
    ref = json.loads((REF / "separation" / "endometrial.json").read_text())
    with pytest.warns(gl.PerfectSeparationWarning, match=r"NV is \+inf"):
        res = gl.glm("HG ~ NV + PI + EH", _endo())
    assert res.separation.status == ref["status"]
    assert res.separation.directions.to_dict() == ref["directions"]
    assert res.separation.n_separated == ref["n_separated"]
    assert res._fit.diverging  # stopped as R does, on the deviance rule


def test_on_separation_options():
    df = _endo()
    with pytest.raises(gl.SeparationError) as err:
        gl.glm("HG ~ NV + PI + EH", df, on_separation="raise")
    assert err.value.report.directions["NV"] == "+inf"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "ignore" must be silent
        quiet = gl.glm("HG ~ NV + PI + EH", df, on_separation="ignore")
    assert quiet.separation.separated
    with pytest.warns(gl.PerfectSeparationWarning, match="Firth"):
        res = gl.glm("HG ~ NV + PI + EH", df, on_separation="firth")
    ref = json.loads((REF / "firth" / "endometrial.json").read_text())
    np.testing.assert_allclose(res.params, ref["params"], rtol=1e-8)
    assert res.firth is not None and res.separation.separated
    with pytest.raises(gl.GlmlogitError, match="on_separation"):
        gl.glm("HG ~ NV", df, on_separation="maybe")


def test_non_separated_fit_skips_the_lp(monkeypatch):
    calls = []
    real = sepmod.detect_separation
    monkeypatch.setattr(
        sepmod, "detect_separation", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    df = pd.read_csv(REF / "data" / "birthwt.csv")
    res = gl.glm("low ~ age + lwt + C(race) + smoke", df)
    assert res.separation.status == "none" and not calls  # the exact screen proved it
    assert set(res.separation.directions) == {"finite"}


def test_overlap_row_removes_separation():
    df = _endo()
    extra = pd.DataFrame({"NV": [1], "PI": [df.PI.median()], "EH": [df.EH.median()], "HG": [0]})
    res = gl.glm("HG ~ NV + PI + EH", pd.concat([df, extra], ignore_index=True))
    assert res.separation.status == "none"
    assert np.all(np.isfinite(res.params)) and res.params["NV"] < 10


def test_no_report_for_other_families():
    df = pd.read_csv(REF / "data" / "warpbreaks.csv")
    assert gl.glm("breaks ~ C(wool)", df, family="poisson").separation is None


def test_summary_shows_infinite_estimates_and_hauck_donner():
    with pytest.warns(gl.PerfectSeparationWarning):
        res = gl.glm("HG ~ NV + PI + EH", _endo())
    s = res.summary()
    text = str(s)
    nv_line = next(line for line in text.splitlines() if line.startswith("NV "))
    assert "+Inf" in nv_line and "e+" not in nv_line  # no huge finite number, no Wald z/p
    assert s.infinite == ["NV"]
    assert "Hauck-Donner" in text and "NV (Wald p suppressed" in text
    assert "EH (" not in text.split("Hauck-Donner")[1]  # both tests significant: not flagged
    d = s.to_dict()
    assert json.dumps(d)  # JSON-safe with an infinite estimate
    firth = gl.glm("HG ~ NV + PI + EH", _endo(), firth=True)
    assert "+Inf" not in str(firth.summary())


def test_summary_lr_tests_within_the_refit_budget(monkeypatch):
    """The report's Hauck-Donner check refits once per coefficient; past LR_SMALL rows x
    coefficients it runs only what LR_REFIT_BUDGET allows (all, the infinite ones, or none, said
    in a note).  Budgets are shrunk here so the endometrial fit (79 x 4) takes each branch."""
    import glmlogit.summary as summ

    with pytest.warns(gl.PerfectSeparationWarning):
        res = gl.glm("HG ~ NV + PI + EH", _endo())
    asked = []
    real = type(res).lr_tests
    monkeypatch.setattr(
        type(res),
        "lr_tests",
        lambda self, columns=None: asked.append(columns) or real(self, columns),
    )
    monkeypatch.setattr(summ, "LR_SMALL", 0)
    n, p = 79, 4
    for budget, columns in ((n * p * p, None), (n * p, ["NV"])):
        monkeypatch.setattr(summ, "LR_REFIT_BUDGET", budget)
        asked.clear()
        text = str(res.summary())
        assert asked == [columns]
        assert "NV (Wald p suppressed, likelihood-ratio p" in text
        assert "not run for this report" not in text
    monkeypatch.setattr(summ, "LR_REFIT_BUDGET", n * p - 1)
    asked.clear()
    text = " ".join(str(res.summary()).split())
    assert asked == [] and "Hauck-Donner" not in text
    assert (
        "Likelihood-ratio tests of the infinite estimates not run for this report (1 refit of a 79 x 4 model)"
        in text
    )


def test_converged_logit_fit_screens_without_a_pass_over_x(monkeypatch):
    """A converged logit fit (unit or prior weights) is proven non-separated by the
    Newton-decrement bound alone (separation._decrement_certificate): neither the X v form nor
    the LP runs."""

    def fail(*a, **k):
        raise AssertionError("the pass-free certificate should have decided")

    monkeypatch.setattr(sepmod, "_newton_certificate", fail)
    monkeypatch.setattr(sepmod, "detect_separation", fail)
    rng = np.random.default_rng(7)
    df = pd.DataFrame(rng.standard_normal((2000, 3)), columns=["a", "b", "c"])
    df["y"] = (rng.random(2000) < 1 / (1 + np.exp(-(df.a - 0.5 * df.b)))).astype(int)
    res = gl.glm("y ~ a + b + c", df)
    assert res.separation.status == "none"
    df["w"] = rng.integers(0, 4, len(df)).astype(float)  # frequency weights, some rows left out
    res = gl.glm("y ~ a + b + c", df, weights="w")
    assert res.separation.status == "none"


def test_sparse_high_cardinality_separation_is_reported_without_densifying(monkeypatch):
    """gl.glm(sparse=True) hands the LP the sparse design (densifying a 10,000-level factor's
    design took 15 GB, bench_sparse); the report equals the dense fit's, and the warning names
    ten of the infinite coefficients, not all of them."""
    rng = np.random.default_rng(5)
    n, k = 1500, 150
    codes = rng.integers(0, k, n)
    df = pd.DataFrame(
        {
            "x": rng.standard_normal(n),
            "g": pd.Categorical.from_codes(codes, [f"L{i}" for i in range(k)]),
        }
    )
    df["y"] = (rng.random(n) < 1 / (1 + np.exp(-(0.2 + 0.5 * df["x"])))).astype(float)
    ones = np.arange(1, 25, 2)  # twelve levels (not the reference L0) with successes only
    df.loc[np.isin(codes, ones), "y"] = 1.0
    seen = []
    real = sepmod.detect_separation
    monkeypatch.setattr(
        sepmod,
        "detect_separation",
        lambda X, *a, **k: seen.append(sparse.issparse(X)) or real(X, *a, **k),
    )
    with pytest.warns(gl.PerfectSeparationWarning) as rec:
        sp = gl.glm("y ~ x + g", df, sparse=True)
    assert seen == [True]  # the LP ran once, on the sparse design
    # independent expectation: a level (not the reference) whose rows share one outcome has an
    # infinite MLE; the twelve forced above and any that are so by chance (about 10 rows a level)
    ymean = df.groupby("g", observed=True)["y"].mean()
    assert 0 < ymean["L0"] < 1
    expect = {f"g[T.{lv}]": "+inf" if m == 1 else "-inf" for lv, m in ymean.items() if m in (0, 1)}
    assert len(expect) > 10 and {f"g[T.L{i}]" for i in ones} <= set(expect)
    inf = {c: v for c, v in sp.separation.directions.items() if v.endswith("inf")}
    assert inf == expect
    msg = str(rec[0].message)
    assert f"and {len(expect) - 10} more (all {len(expect)} in .infinite)" in msg
    assert msg.count("inf)") == 10
    with pytest.warns(gl.PerfectSeparationWarning):
        dense = gl.glm("y ~ x + g", df, sparse=False)
    assert sp.separation.status == dense.separation.status == "quasi-complete"
    assert sp.separation.directions.to_dict() == dense.separation.directions.to_dict()
    assert sp.separation.rows.tolist() == dense.separation.rows.tolist()


def test_rounding_slack_bounds_the_score_error():
    """separation.rounding_slack against the rounding it bounds: the score X'u summed in float64
    (NumPy, and in another order: reversed rows in float64 chunks) against the exact sum of the
    same float terms (fractions.Fraction: exact products and sum), measured in the H^-1 metric.
    The bound is worst-case; it must hold, and it is far above what rounding does here."""
    from fractions import Fraction

    rng = np.random.default_rng(11)
    n, p = 3000, 4
    X = np.column_stack([np.ones(n), rng.standard_normal((n, p - 1)) * [1.0, 30.0, 1e-3]])
    eta = X @ np.array([0.3, 1.0, 0.02, 500.0])
    mu = 1 / (1 + np.exp(-eta))
    y = (rng.random(n) < mu).astype(float)
    u = y - mu
    W = mu * (1 - mu)
    H = X.T @ (W[:, None] * X)
    cov = np.linalg.inv(H)
    S = float(np.sum(u * u / W))
    exact = np.array(
        [
            float(sum(Fraction(float(a)) * Fraction(float(b)) for a, b in zip(u, X[:, j])))
            for j in range(p)
        ]
    )
    E = sepmod.rounding_slack(n, S, H, cov, np.ones(p, bool), 0.0)
    assert np.isfinite(E)
    for g in (X.T @ u, sum(X[i : i + 100].T @ u[i : i + 100] for i in range(n - 100, -1, -100))):
        dg = g - exact
        err = float(np.sqrt(dg @ cov @ dg))
        assert 0 < err <= E


def test_large_strong_signal_fit_is_proven_without_the_lp(monkeypatch):
    """2e5 rows with a strong predictor: the smallest fitted probability of a row's observed
    side is 5e-9 (a surprising outcome among many), below the earlier rounding floor of the
    screen (1e3 eps sqrt(n) times the multipliers' sum, 3.6e-6 here), so the LP used to run.
    The slack of rounding_slack is 3e-8 here (the test needs 4 (lambda + E)^2 < 5e-9), and the
    pass-free test proves the MLE exists: no LP; the LP, run by hand, agrees."""
    calls = []
    real = sepmod.detect_separation
    monkeypatch.setattr(
        sepmod, "detect_separation", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    rng = np.random.default_rng(3)
    n = 200_000
    df = pd.DataFrame({"a": rng.standard_normal(n), "b": rng.standard_normal(n)})
    df["y"] = (rng.random(n) < 1 / (1 + np.exp(-(4.0 * df.a - 0.5 * df.b)))).astype(int)
    res = gl.glm("y ~ a + b", df)
    mu = res.fittedvalues.to_numpy()
    yv = df["y"].to_numpy()
    d = np.where(yv == 1, 1 - mu, mu)
    lam_sum = float(np.sum(d))
    assert d.min() < 1e3 * np.finfo(float).eps * np.sqrt(n) * lam_sum  # the old floor: not met
    assert res.separation.status == "none" and not calls
    X = np.column_stack([np.ones(n), df.a, df.b])
    assert not real(X, yv.astype(float), None, ["Intercept", "a", "b"]).separated


def test_sparse_logit_fit_is_proven_by_the_pass_free_test(monkeypatch):
    """A sparse design (a 300-level factor, sparse=True) gets the pass-free logit test from eta
    and the last step (a proof, no X needed), not only the heuristic: the test returns True,
    the LP does not run, and the dense fit reports the same status."""
    verdicts = []
    real = sepmod._decrement_certificate
    monkeypatch.setattr(
        sepmod,
        "_decrement_certificate",
        lambda *a, **k: verdicts.append(real(*a, **k)) or verdicts[-1],
    )
    calls = []
    lp = sepmod.detect_separation
    monkeypatch.setattr(sepmod, "detect_separation", lambda *a, **k: calls.append(1) or lp(*a, **k))
    rng = np.random.default_rng(5)
    n = 30_000
    df = pd.DataFrame({"x": rng.standard_normal(n), "g": rng.integers(0, 300, n).astype(str)})
    eff = rng.normal(0, 0.3, 300)
    eta = 0.5 * df.x + eff[df.g.astype(int)]
    df["y"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    res = gl.glm("y ~ x + C(g)", df, sparse=True)
    assert verdicts == [True] and not calls
    assert res.separation.status == "none"
    dense = gl.glm("y ~ x + C(g)", df, sparse=False)
    assert dense.separation.status == "none"
