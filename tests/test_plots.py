"""Plots render with the Agg backend and draw what they say (points, lines, labels)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import glmlogit as gl
from glmlogit.datasets import load_birthwt

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from glmlogit import plots  # noqa: E402

FULL = "low ~ age + lwt + C(race) + smoke + ptl + ht + ui"


@pytest.fixture(scope="module")
def res():
    return gl.glm(FULL, load_birthwt())


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _render(ax):
    ax.figure.canvas.draw()  # a real render: fails on bad artists
    return ax


def test_forest_plot(res):
    ax = _render(plots.forest_plot(res))
    (points,) = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
    x, y = points.get_data()
    np.testing.assert_allclose(x, res.params.iloc[1:].to_numpy())
    assert list(y) == list(range(7, -1, -1))  # first term on top
    (bars,) = ax.collections
    segs = bars.get_segments()
    ci = res.conf_int().iloc[1:]
    assert len(segs) == 8
    np.testing.assert_allclose([s[0][0] for s in segs], ci["lower"])
    np.testing.assert_allclose([s[1][0] for s in segs], ci["upper"])
    assert [t.get_text() for t in ax.get_yticklabels()][0] == "age"
    assert ax.get_xscale() == "linear" and ax.get_title() == "Coefficients"


def test_forest_plot_odds_ratios_on_given_axes(res):
    fig, ax = plt.subplots()
    out = plots.forest_plot(res, odds_ratios=True, ax=ax, intercept=True, alpha=0.1)
    assert out is ax
    _render(ax)
    (points,) = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
    np.testing.assert_allclose(points.get_data()[0], res.odds_ratios()["ratio"])
    assert ax.get_xscale() == "log" and "Odds ratio" in ax.get_xlabel() and "90%" in ax.get_xlabel()
    ref = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    assert ref and ref[0].get_xdata()[0] == 1.0
    with pytest.raises(gl.GlmlogitError, match="logit and log"):
        plots.forest_plot(gl.glm("low ~ age", load_birthwt(), link="probit"), odds_ratios=True)


def test_residuals_vs_fitted(res):
    ax = _render(plots.plot_residuals_vs_fitted(res))
    (pts,) = ax.collections
    off = pts.get_offsets()
    assert off.shape == (189, 2)
    np.testing.assert_allclose(off[:, 0], res.linear_predictor)
    np.testing.assert_allclose(off[:, 1], res.resid_deviance)
    smooth = [ln for ln in ax.get_lines() if ln.get_linestyle() == "-"]
    assert len(smooth) == 1 and len(smooth[0].get_xdata()) == 10
    ax2 = plots.plot_residuals_vs_fitted(res, x="mean", smooth=False)
    np.testing.assert_allclose(ax2.collections[0].get_offsets()[:, 0], res.fittedvalues)
    assert all(ln.get_linestyle() == "--" for ln in ax2.get_lines())
    with pytest.raises(gl.GlmlogitError, match="x must be"):
        plots.plot_residuals_vs_fitted(res, x="eta")


def test_halfnormal(res):
    ax = _render(plots.plot_halfnormal(res, label=2))
    off = ax.collections[0].get_offsets()
    assert off.shape == (189, 2)
    np.testing.assert_allclose(off[:, 1], np.sort(np.abs(res.resid_deviance)))
    assert np.all(np.diff(off[:, 0]) > 0) and off[0, 0] > 0
    texts = [t.get_text() for t in ax.texts]
    want = res.resid_deviance.abs().sort_values(ascending=False).index[:2]
    assert texts == [str(i) for i in want]
    ax2 = plots.plot_halfnormal(res, standardized=True, label=0)
    np.testing.assert_allclose(
        ax2.collections[0].get_offsets()[:, 1], np.sort(res.influence()["rstandard"].abs())
    )
    assert not ax2.texts


def test_cooks_with_dropped_rows():
    df = load_birthwt()
    df.loc[[3, 10], "lwt"] = np.nan
    r = gl.glm(FULL, df)
    ax = _render(plots.plot_cooks(r))
    (stems,) = ax.collections
    segs = stems.get_segments()
    assert len(segs) == 187
    cd = r.influence()["cooks_d"]
    heights = np.array([s[1][1] for s in segs])
    np.testing.assert_allclose(heights, cd.dropna())
    xs = [s[0][0] for s in segs]
    assert 3 not in xs and 10 not in xs and xs[3] == 4  # rows keep their place
    assert [t.get_text() for t in ax.texts] == [str(i) for i in cd.nlargest(3).index]


def test_calibration(res):
    ax = _render(plots.plot_calibration(res, bins=5))
    (pts,) = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
    x, y = pts.get_data()
    assert len(x) == 5 and np.all(np.diff(x) > 0)
    tab = plots.calibration_table(res, bins=5)
    assert tab["weight"].sum() == 189
    np.testing.assert_allclose(tab["weight"] @ tab["observed"], 59)  # every event counted once
    # a logistic fit with an intercept reproduces the overall proportion
    np.testing.assert_allclose(tab["weight"] @ tab["predicted"], 59, rtol=1e-8)
    assert (tab["lower"] <= tab["observed"]).all() and (tab["observed"] <= tab["upper"]).all()
    assert len(ax.collections[0].get_segments()) == 5
    assert "5 groups" in ax.get_title()


def test_calibration_proportions_and_refusals():
    df = load_birthwt()
    g = df.groupby(["smoke", "ht", "ui"], as_index=False).agg(n=("low", "size"), k=("low", "sum"))
    g["prop"] = g["k"] / g["n"]
    r = gl.glm("prop ~ smoke + ht + ui", g, weights="n")
    tab = plots.calibration_table(r, bins=3)
    np.testing.assert_allclose(tab["weight"].sum(), 189)
    np.testing.assert_allclose(tab["weight"] @ tab["observed"], 59)
    pois = gl.glm("ptl ~ age", df, family="poisson")
    with pytest.raises(gl.GlmlogitError, match="binomial"):
        plots.plot_calibration(pois)
    with pytest.raises(gl.GlmlogitError, match="bins"):
        plots.calibration_table(r, bins=0)
    assert isinstance(tab, pd.DataFrame)
