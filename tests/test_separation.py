"""Separation detection (glmlogit.separation) against R fixtures (tests/reference/make_separation.R).

The fixtures run detectseparation's Konis (2007) LP with lpSolve in R; each records the LP's
optimal face per coefficient (all single points here), so HiGHS must find the same solution and
the same per-coefficient directions.  The other tests check the report's own claims directly:
the certificate separates the rows it names, an overlap row removes separation, zero weights
and proportions count as R counts them, and the post-fit screen runs the LP when it matters.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse
from scipy.optimize import linprog

from glmlogit.errors import DataError
from glmlogit.separation import (
    SeparationReport,
    aliased_columns,
    detect_separation,
    needs_check,
)

REF = Path(__file__).parent / "reference" / "separation"
CASES = sorted(p.stem for p in REF.glob("*.json"))


def load(name: str) -> dict:
    d = json.loads((REF / f"{name}.json").read_text())
    d["X"] = np.array(d["x"], dtype=float)
    d["y"] = np.array(d["y"], dtype=float)
    d["w"] = np.array(d["prior_weights"], dtype=float)
    return d


def split_rows(X, y, w):
    """(sign, row index) of every LP row, as detectseparation reshapes the data."""
    out = []
    for i in np.flatnonzero(w > 0):
        if y[i] > 0:
            out.append((1.0, i))
        if y[i] < 1:
            out.append((-1.0, i))
    s = np.array([o[0] for o in out])
    idx = np.array([o[1] for o in out], dtype=int)
    return s, idx


def margins(X, y, w, b):
    s, idx = split_rows(X, y, w)
    return s * (X[idx] @ b), idx


def max_strict_rows(X, y, w):
    """Independent check of maximality: the rows with t_i = 1 at the optimum of
    max sum t_i  s.t.  s_i x_i'b >= t_i, 0 <= t_i <= 1, b free  (as make_separation.R)."""
    s, idx = split_rows(X, y, w)
    n, p = len(idx), X.shape[1]
    A = np.hstack([-(s[:, None] * X[idx]), np.eye(n)])
    res = linprog(
        np.r_[np.zeros(p), -np.ones(n)],
        A_ub=A,
        b_ub=np.zeros(n),
        bounds=[(None, None)] * p + [(0, 1)] * n,
        method="highs-ds",
    )
    assert res.status == 0 and res.x is not None
    return np.unique(idx[res.x[p:] > 0.5])


def logit_newton(X, y, w, iters):
    """A plain Newton fit (local to the tests, independent of the engine)."""
    b = np.zeros(X.shape[1])
    converged = False
    for _ in range(iters):
        mu = 1.0 / (1.0 + np.exp(-(X @ b)))
        W = w * mu * (1.0 - mu)
        step = np.linalg.solve(X.T @ (W[:, None] * X), X.T @ (w * (y - mu)))
        b = b + step
        if np.max(np.abs(step)) < 1e-10:
            converged = True
            break
    mu = 1.0 / (1.0 + np.exp(-(X @ b)))
    cov = np.linalg.inv(X.T @ ((w * mu * (1.0 - mu))[:, None] * X))
    return b, mu, cov, np.sqrt(np.diag(cov)), converged


# ------------------------------------------------------------------------------------------
# R fixtures
# ------------------------------------------------------------------------------------------


def test_fixture_set_complete():
    assert set(CASES) >= {
        "endometrial",
        "endometrial_aliased",
        "toy_complete1",
        "toy_complete2",
        "birthwt",
        "lizards",
        "toy_prop",
    }


@pytest.mark.parametrize("name", CASES)
def test_matches_r(name):
    d = load(name)
    rep = detect_separation(d["X"], d["y"], d["w"], d["coef_names"])
    assert d["directions_unique"]
    assert list(rep.directions.index) == d["coef_names"]
    assert rep.directions.to_dict() == d["directions"]  # per coefficient, exactly
    assert rep.status == d["status"]
    assert rep.separated == d["separation"]
    assert rep.n_separated == d["n_separated"]
    assert rep.rows.tolist() == d["separated_rows"]
    assert rep.aliased == d["aliased"]
    # same LP solution as lpSolve (the optimal face is a single point in every case)
    lo = np.array([np.nan if v is None else v for v in d["lp_beta_min"]])
    hi = np.array([np.nan if v is None else v for v in d["lp_beta_max"]])
    ref = np.array([np.nan if v is None else v for v in d["lp_beta"]])
    np.testing.assert_allclose(rep.lp_solution, ref, atol=1e-7)
    est = ~np.isnan(ref)
    assert np.all(rep.lp_solution[est] >= lo[est] - 1e-7)
    assert np.all(rep.lp_solution[est] <= hi[est] + 1e-7)


def test_endometrial_report_text():
    d = load("endometrial")
    rep = detect_separation(d["X"], d["y"], d["w"], d["coef_names"])
    text = str(rep)
    assert text.startswith(
        "Quasi-complete separation: 13 of 79 rows are perfectly predicted along the "
        "direction +1.0*NV; the MLE of NV is +inf."
    )
    assert "firth=True" in text
    assert rep.infinite == ["NV"]
    np.testing.assert_allclose(rep.certificate, [0, 1, 0, 0], atol=1e-12)
    # the perfectly predicted rows are exactly those with NV = 1 (all HG = 1)
    assert rep.rows.tolist() == np.flatnonzero(d["X"][:, 1] == 1).tolist()
    assert np.all(d["y"][rep.rows] == 1)
    out = rep.to_dict()
    assert json.loads(json.dumps(out)) == out
    assert out["directions"]["NV"] == "+inf"
    assert out["status"] == "quasi-complete"


def test_no_separation_text_and_dict():
    d = load("birthwt")
    rep = detect_separation(d["X"], d["y"], d["w"], d["coef_names"])
    assert str(rep).startswith("No separation")
    assert rep.rows.size == 0 and rep.n_separated == 0
    assert np.all(rep.certificate == 0)
    assert json.dumps(rep.to_dict())


def test_aliased_text_and_mask():
    d = load("endometrial_aliased")
    rep = detect_separation(d["X"], d["y"], d["w"], d["coef_names"])
    assert "Aliased (not estimable): NVc." in str(rep)
    assert np.isnan(rep.lp_solution[-1]) and rep.certificate[-1] == 0
    assert rep.to_dict()["lp_solution"][-1] is None
    # the fit's own aliased mask can be passed in
    mask = np.array([False, False, False, False, True])
    rep2 = detect_separation(d["X"], d["y"], d["w"], d["coef_names"], aliased=mask)
    assert rep2.directions.to_dict() == rep.directions.to_dict()


# ------------------------------------------------------------------------------------------
# The certificate
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CASES)
def test_certificate_separates_named_rows(name):
    d = load(name)
    X, y, w = d["X"], d["y"], d["w"]
    rep = detect_separation(X, y, w, d["coef_names"])
    b = rep.certificate
    m, idx = margins(X, y, w, b)
    scale = np.linalg.norm(X[idx], axis=1)
    assert np.all(m >= -1e-9 * scale)  # s_i x_i'b >= 0 for every row
    named = np.isin(idx, rep.rows)
    assert np.all(m[named] > 1e-6 * scale[named])  # > 0 for the rows it names
    assert np.all(np.abs(m[~named]) <= 1e-9 * scale[~named])  # and only for them
    # and no separating direction strictly separates any other row
    assert rep.rows.tolist() == max_strict_rows(X, y, w).tolist()
    if rep.separated:
        assert np.max(np.abs(b)) == pytest.approx(1.0)
        # the Konis LP solution itself is feasible
        lp = np.nan_to_num(rep.lp_solution)
        m1, _ = margins(X, y, w, lp)
        assert np.all(m1 >= -1e-9 * scale)
    else:
        assert rep.rows.size == 0


def test_rows_are_maximal_for_complete_toy():
    # The Konis LP's vertex for y = 1{x >= 5}, b = (-1, 1/4), leaves x = 4 at margin 0;
    # the report still finds that every row can be strictly separated (complete separation).
    d = load("toy_complete1")
    rep = detect_separation(d["X"], d["y"], d["w"], d["coef_names"])
    np.testing.assert_allclose(rep.lp_solution, [-1.0, 0.25], atol=1e-12)
    m1, _ = margins(d["X"], d["y"], d["w"], rep.lp_solution)
    assert np.min(m1) == pytest.approx(0.0, abs=1e-12)
    assert rep.status == "complete" and rep.n_separated == 8
    assert "Complete separation: all 8 rows" in str(rep)


# ------------------------------------------------------------------------------------------
# Overlap, zero weights, proportions
# ------------------------------------------------------------------------------------------


def test_overlap_row_removes_separation_endometrial():
    d = load("endometrial")
    X, y = d["X"], d["y"]
    # one failure with NV = 1 (the separating covariate at its extreme), PI and EH typical
    extra = np.array([[1.0, 1.0, np.median(X[:, 2]), np.median(X[:, 3])]])
    rep = detect_separation(np.vstack([X, extra]), np.r_[y, 0.0], None, d["coef_names"])
    assert rep.status == "none"
    assert set(rep.directions) == {"finite"}


def test_overlap_row_removes_complete_separation():
    d = load("toy_complete1")
    X, y = d["X"], d["y"]
    x_top = X[np.argmax(X[:, 1])]  # the largest value of the separating covariate (a success)
    assert detect_separation(X, y).status == "complete"
    X2, y2 = np.vstack([X, x_top]), np.r_[y, 0.0]
    rep = detect_separation(X2, y2)
    assert rep.status == "none"
    assert set(rep.directions) == {"finite"}
    # ... and the MLE exists: Newton converges to finite estimates
    b, *_rest, conv = logit_newton(X2, y2, np.ones(len(y2)), 50)
    assert conv and np.all(np.isfinite(b))


def test_one_overlap_row_in_two_dimensions_leaves_quasi_complete():
    # With two covariates a single tie at the extreme point still leaves a separating line
    # through that point: quasi-complete, and the tied rows are not perfectly predicted.
    d = load("toy_complete2")
    X, y = d["X"], d["y"]
    k = int(np.argmax(X[:, 1]))
    rep = detect_separation(np.vstack([X, X[k]]), np.r_[y, 0.0])
    assert rep.status == "quasi-complete"
    assert k not in rep.rows and len(y) not in rep.rows
    # the tie pins the line to the point (8, -2); the success (6, -0.4) and (6.5, -0.8) and
    # the failure (3, 2) lie on one ray from it, so none of them can be strictly separated
    assert rep.rows.tolist() == [0, 1, 3, 4, 6, 8]
    assert (
        rep.rows.tolist()
        == max_strict_rows(np.vstack([X, X[k]]), np.r_[y, 0.0], np.ones(len(y) + 1)).tolist()
    )


def test_zero_weight_rows_do_not_count():
    d = load("endometrial")
    X, y = d["X"], d["y"]
    overlap = np.array([1.0, 1.0, 20.0, 2.0])
    # an overlapping failure with weight 0, inserted first: separation stays, row labels shift
    X2 = np.vstack([overlap, X])
    y2 = np.r_[0.0, y]
    w2 = np.r_[0.0, np.ones(len(y))]
    rep = detect_separation(X2, y2, w2, d["coef_names"])
    ref = detect_separation(X, y, None, d["coef_names"])
    assert rep.status == "quasi-complete"
    assert rep.directions.to_dict() == ref.directions.to_dict()
    assert rep.rows.tolist() == (ref.rows + 1).tolist()
    assert rep.n_obs == 79
    # with weight 1 it overlaps
    assert detect_separation(X2, y2, np.ones(len(y2))).status == "none"
    # zero-weight rows may even carry values outside [0, 1] or NaN covariates
    X3 = np.vstack([X, [np.nan, 0, 0, 0]])
    rep3 = detect_separation(X3, np.r_[y, 7.0], np.r_[np.ones(len(y)), 0.0], d["coef_names"])
    assert rep3.directions.to_dict() == ref.directions.to_dict()


def test_proportions_match_expanded_binary_rows():
    d = load("toy_prop")
    X, y, w = d["X"], d["y"], d["w"]
    succ = np.round(y * w).astype(int)
    fail = np.round((1 - y) * w).astype(int)
    rows = np.repeat(np.arange(len(y)), succ + fail)
    yb = np.concatenate([np.r_[np.ones(s), np.zeros(f)] for s, f in zip(succ, fail)])
    rep_p = detect_separation(X, y, w, d["coef_names"])
    rep_b = detect_separation(X[rows], yb, None, d["coef_names"])
    assert rep_p.status == rep_b.status == "quasi-complete"
    assert (
        rep_p.directions.to_dict()
        == rep_b.directions.to_dict()
        == {"Intercept": "finite", "gb": "+inf"}
    )
    assert rep_p.rows.tolist() == [4, 5]  # rows, not trials
    # the number of trials does not matter, only which outcomes occur
    rep_w = detect_separation(X, y, np.where(w > 0, 100.0, 0.0), d["coef_names"])
    assert rep_w.directions.to_dict() == rep_p.directions.to_dict()


def test_proportion_row_overlaps_both_ways():
    # a proportion at the extreme of a completely separated toy removes separation: its two
    # copies (a success and a failure) pin x'b = 0 there
    d = load("toy_complete1")
    X, y = d["X"], d["y"].copy()
    y[-1] = 0.5
    rep = detect_separation(X, y, np.r_[np.ones(7), 2.0])
    assert rep.status == "none"
    # a proportion row is never among the perfectly predicted rows
    d = load("toy_prop")
    rep = detect_separation(d["X"], d["y"], d["w"])
    assert all(d["y"][i] in (0.0, 1.0) for i in rep.rows)


def test_lizards_is_not_separated_although_some_rows_are_all_successes():
    d = load("lizards")
    assert np.sum(d["y"] == 1) == 4
    rep = detect_separation(d["X"], d["y"], d["w"], d["coef_names"])
    assert rep.status == "none"


# ------------------------------------------------------------------------------------------
# Constraint generation on larger data agrees with the LP over all rows
# ------------------------------------------------------------------------------------------


def full_lp(X, y):
    s = np.where(y == 1, 1.0, -1.0)
    A = s[:, None] * X
    res = linprog(-A.sum(axis=0), A_ub=-A, b_ub=np.zeros(len(y)), bounds=(-1, 1), method="highs-ds")
    assert res.status == 0
    return res.x


@pytest.mark.parametrize("separated", [False, True])
def test_constraint_generation_matches_full_lp(separated):
    rng = np.random.default_rng(7)
    n = 4000
    x1 = rng.standard_normal(n)
    g = (rng.random(n) < 0.05).astype(float)
    X = np.column_stack([np.ones(n), x1, g, rng.standard_normal(n)])
    y = (rng.random(n) < 1 / (1 + np.exp(-(0.3 + x1)))).astype(float)
    if separated:
        y[g == 1] = 1.0  # quasi-complete separation in g
    rep = detect_separation(X, y)
    b = full_lp(X, y)
    assert rep.status == ("quasi-complete" if separated else "none")
    np.testing.assert_allclose(np.nan_to_num(rep.lp_solution), b, atol=1e-7)
    expect = ["finite", "finite", "+inf", "finite"] if separated else ["finite"] * 4
    assert rep.directions.tolist() == expect
    if separated:
        assert rep.rows.tolist() == np.flatnonzero(g == 1).tolist()


def _same_report(a, b):
    assert a.status == b.status
    assert a.directions.tolist() == b.directions.tolist()
    assert a.rows.tolist() == b.rows.tolist()
    # the same LP in the same row order, sparse or dense: HiGHS returns the same vertex
    np.testing.assert_allclose(
        np.nan_to_num(a.lp_solution), np.nan_to_num(b.lp_solution), atol=1e-9
    )
    np.testing.assert_allclose(a.certificate, b.certificate, atol=1e-9)


@pytest.mark.parametrize("name", CASES)
def test_sparse_x_gives_the_dense_report(name):
    """A scipy sparse design stays sparse through the LP (a 10,000-level factor's dense design
    is 15 GB) and gives the dense report, aliased columns found on the sparse matrix too.  The
    sparse LP is solved by HiGHS's interior point + crossover, the dense one by its dual simplex:
    the same vertex (the optimal face is a single point on these fixtures)."""
    d = load(name)
    dense = detect_separation(d["X"], d["y"], d["w"], d["coef_names"])
    sp = detect_separation(sparse.csr_matrix(d["X"]), d["y"], d["w"], d["coef_names"])
    _same_report(sp, dense)
    assert sp.directions.to_dict() == d["directions"]  # R's detectseparation
    assert sp.aliased == d["aliased"]


def test_sparse_high_cardinality_factor():
    rng = np.random.default_rng(3)
    n, k = 1500, 150
    g = rng.integers(0, k, n)
    x = rng.standard_normal(n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(0.2 + 0.5 * x)))).astype(float)
    y[g == 7] = 1.0  # two levels with one outcome only: quasi-complete separation
    y[g == 100] = 0.0
    D = np.zeros((n, k))
    D[np.arange(n), g] = 1.0
    X = np.column_stack([np.ones(n), x, D[:, 1:], D[:, 1] + D[:, 2]])  # last column aliased
    dense = detect_separation(X, y)
    sp = detect_separation(sparse.csr_matrix(X), y)
    _same_report(sp, dense)
    assert sp.status == "quasi-complete"
    assert sp.directions.iloc[7 + 1] == "+inf" and sp.directions.iloc[100 + 1] == "-inf"
    assert sp.directions.iloc[-1] == "aliased"
    assert aliased_columns(sparse.csr_matrix(X)).tolist() == aliased_columns(X).tolist()


# ------------------------------------------------------------------------------------------
# Aliasing and inputs
# ------------------------------------------------------------------------------------------


def test_aliased_columns_in_order():
    rng = np.random.default_rng(1)
    n = 50
    a, b = rng.standard_normal(n), rng.standard_normal(n)
    X = np.column_stack([np.ones(n), a, 2 * a - 1, np.zeros(n), b, a + b + 1e-12 * rng.random(n)])
    assert aliased_columns(X).tolist() == [False, False, True, True, False, True]
    X2 = np.column_stack([np.ones(n), a, a + 1e-3 * b])  # nearly, not numerically, collinear
    assert aliased_columns(X2).tolist() == [False, False, False]


def test_dataframe_names_and_bad_input():
    pd = pytest.importorskip("pandas")
    d = load("endometrial")
    df = pd.DataFrame(d["X"], columns=d["coef_names"])
    rep = detect_separation(df, d["y"])
    assert list(rep.directions.index) == d["coef_names"]
    assert isinstance(rep, SeparationReport)
    with pytest.raises(DataError):
        detect_separation(d["X"], d["y"] * 2)
    with pytest.raises(DataError):
        detect_separation(d["X"], d["y"], -np.ones(len(d["y"])))
    with pytest.raises(DataError):
        detect_separation(d["X"], d["y"][:-1])
    with pytest.raises(DataError):
        detect_separation(d["X"], d["y"], column_names=["a"])


# ------------------------------------------------------------------------------------------
# The post-fit screen
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["endometrial", "toy_prop", "toy_complete2"])
@pytest.mark.parametrize("iters", [6, 12, 25])
def test_screen_flags_separated_fits(name, iters):
    d = load(name)
    X, y, w = d["X"], d["y"], d["w"]
    with np.errstate(all="ignore"):
        b, mu, cov, se, _ = logit_newton(X, y, w, iters)
    # even when the fitter (wrongly) reports convergence, the exact screen runs the LP
    assert needs_check(mu, b, se, y=y, weights=w, X=X, cov=cov)
    assert needs_check(mu, b, se, y=y, weights=w, X=X)
    step = cov @ (X.T @ (w * (y - mu)))  # the next Newton step
    assert needs_check(mu, b, se, y=y, weights=w, X=X, step=step)
    assert needs_check(mu, b, se, y=y, weights=w, X=X, converged=False)


@pytest.mark.parametrize("name", ["birthwt", "lizards"])
def test_screen_passes_non_separated_fits(name):
    d = load(name)
    X, y, w = d["X"], d["y"], d["w"]
    b, mu, cov, se, conv = logit_newton(X, y, w, 50)
    assert conv
    assert not needs_check(mu, b, se, y=y, weights=w, X=X, cov=cov)
    assert not needs_check(mu, b, se, y=y, weights=w, X=X)
    step = cov @ (X.T @ (w * (y - mu)))
    assert not needs_check(mu, b, se, y=y, weights=w, X=X, step=step)
    assert not needs_check(mu, b, se, y=y, weights=w)  # the heuristic agrees here
    assert needs_check(mu, b, se, y=y, weights=w, X=X, converged=False)


def _final_terms(X, y, b, w=None):
    """eta, mu, X'WX and the next Newton step at b, as the engine hands them over."""
    w = np.ones(len(y)) if w is None else w
    eta = X @ b
    mu = 1.0 / (1.0 + np.exp(-eta))
    H = X.T @ ((w * mu * (1.0 - mu))[:, None] * X)
    return eta, mu, H, np.linalg.solve(H, X.T @ (w * (y - mu)))


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("seed", range(6))
def test_pass_free_screen_implies_the_exact_one(seed, weighted):
    """The Newton-decrement bound |x_i'v| <= lambda / sqrt(W_i) is a sufficient condition for the
    X v form of the certificate: whenever it proves non-separation, so does the exact test; on
    converged fits it proves it; on separated or unconverged iterates it does not.  With prior
    weights (some zero: those rows left out, as the exact test leaves them out) as without."""
    from glmlogit.separation import _decrement_certificate, _newton_certificate

    rng = np.random.default_rng(seed)
    n, p = 400, 4
    X = np.column_stack([np.ones(n), rng.standard_normal((n, p - 1))])
    y = (rng.random(n) < 1 / (1 + np.exp(-X @ rng.normal(0, 1, p)))).astype(float)
    w = rng.integers(0, 4, n).astype(float) if weighted else None
    wq = np.ones(n) if w is None else w
    b, _, _, _, conv = logit_newton(X, y, wq, 50)
    assert conv
    for bb, expect in ((b, True), (b * 0.5, None), (np.zeros(p), None)):
        eta, mu, H, v = _final_terms(X, y, bb, w)
        est = np.ones(p, dtype=bool)
        quick = _decrement_certificate(eta, mu, y, v, H, None, est, w)
        exact = _newton_certificate(mu, y, w, X, None, None, est, v)
        if quick:
            assert exact  # the bound only ever proves what the exact test proves
        if expect:
            assert quick
    # a separated data set: along the diverging fit the bound never proves anything
    d = load("endometrial")
    X, y = d["X"], d["y"]
    wd = None if not weighted else np.r_[np.ones(len(y) - 1), 2.0]
    for iters in (6, 12, 25):
        with np.errstate(all="ignore"):
            b, *_ = logit_newton(X, y, np.ones(len(y)) if wd is None else wd, iters)
            eta, mu, H, v = _final_terms(X, y, b, wd)
        assert not _decrement_certificate(eta, mu, y, v, H, None, np.ones(X.shape[1], bool), wd)


def test_screen_heuristic():
    mu = np.array([0.2, 0.5, 0.9])
    assert not needs_check(mu, np.array([0.1, 2.0]), np.array([0.3, 0.5]))
    assert needs_check(np.array([0.2, 0.5, 1 - 1e-9]))  # a probability numerically at 1
    assert needs_check(np.array([1e-7, 0.5]), y=np.array([0.0, 1.0]))
    # at the boundary on the side opposite to the outcome: not a sign of separation
    assert not needs_check(np.array([1e-7, 0.5]), y=np.array([1.0, 1.0]))
    assert needs_check(mu, np.array([18.2, 0.1]), np.array([2800.0, 0.05]))  # diverging
    assert needs_check(mu, np.array([np.inf, 0.1]), np.array([1.0, 0.05]))
    assert needs_check(mu, np.array([1.0, 0.1]), np.array([np.inf, 0.05]))
    assert not needs_check(mu, np.array([np.nan, 0.1]), np.array([np.nan, 0.05]))  # aliased
    assert needs_check(mu, converged=False)


def test_screen_with_aliased_column_and_zero_weights():
    d = load("birthwt")
    X, y = d["X"], d["y"]
    w = np.ones(len(y))
    w[:5] = 0.0
    b, mu, cov, se, conv = logit_newton(X[w > 0], y[w > 0], w[w > 0], 50)
    Xa = np.column_stack([X, X[:, 1] * 2.0])  # aliased copy of age
    mu_all = 1.0 / (1.0 + np.exp(-(X @ b)))
    mu_all[:5] = 1.0  # zero-weight rows may have anything
    cov_a = np.full((Xa.shape[1],) * 2, np.nan)
    cov_a[:-1, :-1] = cov
    coef_a = np.r_[b, np.nan]
    assert not needs_check(mu_all, coef_a, np.r_[se, np.nan], y=y, weights=w, X=Xa, cov=cov_a)
    step = np.r_[cov @ (X[w > 0].T @ (y[w > 0] - mu_all[w > 0])), np.nan]
    assert not needs_check(mu_all, coef_a, np.r_[se, np.nan], y=y, weights=w, X=Xa, step=step)
    assert not needs_check(mu_all, y=y, weights=w, X=Xa, step=step)


@pytest.mark.parametrize("name,separated", [("birthwt", False), ("endometrial", True)])
def test_screen_probit_with_irls_weights(name, separated):
    from scipy.stats import norm

    d = load(name)
    X, y, w = d["X"], d["y"], d["w"]
    b = np.zeros(X.shape[1])
    for _ in range(12 if separated else 60):  # Fisher scoring for the probit link
        eta = X @ b
        mu, dmu = norm.cdf(eta), norm.pdf(eta)
        W = w * dmu**2 / (mu * (1 - mu))
        b = b + np.linalg.solve(
            X.T @ (W[:, None] * X), X.T @ (w * (y - mu) * dmu / (mu * (1 - mu)))
        )
    eta = X @ b
    mu, dmu = norm.cdf(eta), norm.pdf(eta)
    W = w * dmu**2 / (mu * (1 - mu))
    cov = np.linalg.inv(X.T @ (W[:, None] * X))
    got = needs_check(mu, b, np.sqrt(np.diag(cov)), y=y, weights=w, X=X, cov=cov, irls_weights=W)
    assert got == separated
    assert needs_check(mu, b, None, y=y, weights=w, X=X, irls_weights=W) == separated
