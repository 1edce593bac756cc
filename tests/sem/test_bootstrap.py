"""Nonparametric bootstrap: draws, reproducibility, percentile/BC/BCa intervals.

The interval code is checked on lavaan's own bootstrap draws (same draws in,
same interval out); the refits on lavaan's exact resamples (row indices
exported by tests/sem/results/lavaan_reference.R with ``keep.idx = TRUE``) are
checked against lavaan's refits.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from surveykit.sem.bootstrap import (
    BootstrapResult,
    bc_interval,
    bootstrap_draws,
    draw_indices,
    jackknife_acceleration,
    percentile_interval,
)

from ._partable_model import (
    DATA,
    MLRefit,
    PartableModel,
    blas_thread_settings,
    case,
    dataset,
    table,
)

OV_PD = ["x1", "x2", "x3", "y1", "y2", "y3", "y4", "y5", "y6", "y7", "y8"]


def _lavaan_rows(key):
    t = table("pd_boot", key)
    return t[t["op"] == ":="].set_index("lhs")


@pytest.mark.parametrize("j,name", [(0, "ind"), (1, "total")])
def test_percentile_and_bc_on_lavaan_draws(j, name):
    k = case("pd_boot")["keep_idx"]
    draws = np.array(k["def_draws"][j])
    perc, bc = _lavaan_rows("estimates_perc").loc[name], _lavaan_rows("estimates_bca_simple").loc[name]
    # identical draws in: only floating-point summation order can differ
    assert_allclose(percentile_interval(draws), [perc["ci.lower"], perc["ci.upper"]], rtol=0, atol=1e-12)
    assert_allclose(bc_interval(draws, perc["est"]), [bc["ci.lower"], bc["ci.upper"]], rtol=0, atol=1e-12)
    # lavaan's bootstrap SE is the sd of the draws
    assert_allclose(np.std(draws, ddof=1), perc["se"], rtol=1e-12)


def test_standardized_percentile_intervals_on_lavaan_draws():
    std = case("pd_boot")["keep_idx"]["std"]
    i = [n for n, (lhs, op) in enumerate(zip(std["lhs"], std["op"], strict=True))
         if op == ":=" and lhs == "ind"][0]
    draws = np.array(case("pd_boot")["keep_idx"]["std_ind_draws"])
    # reference computed in R by boot's norm.inter on the same draws
    assert_allclose(percentile_interval(draws), [std["perc_lower"][i], std["perc_upper"][i]],
                    rtol=0, atol=1e-12)


def test_refits_on_lavaan_resamples():
    model = PartableModel(table("pd_sem"), OV_PD, meanstructure=False)
    X = dataset("PoliticalDemocracy")[OV_PD].to_numpy(float)
    idx = pd.read_csv(DATA / "PoliticalDemocracy_boot_indices.csv").to_numpy() - 1
    ref = np.array(case("pd_boot")["keep_idx"]["coef_draws_first50"])
    draws = bootstrap_draws(MLRefit(model), [X], indices=[idx[:4]])
    # lavaan's bootstrap refits stop at gradient norms ~2e-6 (nlminb's relative
    # objective tolerance), which in this ill-conditioned model leaves the
    # estimates up to ~7e-5 from the optimum our refits reach (gradient ~1e-9).
    assert_allclose(draws, ref[:4], rtol=0, atol=2e-4)


def test_indices_reproducible_and_independent_of_workers():
    a = draw_indices([75, 40], 20, seed=7)
    b = draw_indices([75, 40], 20, seed=7)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert a[0].shape == (20, 75) and a[1].shape == (20, 40)
    assert not np.array_equal(a[0], draw_indices([75, 40], 20, seed=8)[0])

    model = PartableModel(table("pd_sem"), OV_PD, meanstructure=False)
    X = dataset("PoliticalDemocracy")[OV_PD].to_numpy(float)
    stat = MLRefit(model)
    seen = []
    one = bootstrap_draws(stat, [X], n_boot=6, seed=3, n_jobs=1,
                          progress=lambda d, t: seen.append((d, t)))
    two = bootstrap_draws(stat, [X], n_boot=6, seed=3, n_jobs=2, chunk_size=2)
    assert_allclose(one, two, rtol=0, atol=0)
    assert seen == [(i, 6) for i in range(1, 7)]


def test_failed_draws_are_missing_and_excluded():
    calls = iter(range(100))

    def stat(groups):
        if next(calls) == 2:
            raise np.linalg.LinAlgError("singular")
        return groups[0].mean(axis=0)

    X = np.arange(20.0).reshape(10, 2)
    draws = bootstrap_draws(stat, [X], n_boot=5, seed=1)
    assert np.isnan(draws[2]).all() and np.isfinite(np.delete(draws, 2, axis=0)).all()
    res = BootstrapResult(["a", "b"], X.mean(axis=0), draws, seed=1)
    assert res.n_failed == 1 and res.ci("perc").shape == (2, 2)


def test_bca_reduces_to_bc_without_acceleration_and_shifts_with_it():
    rng = np.random.default_rng(11)
    t = rng.gamma(4.0, size=2000)
    assert bc_interval(t, 4.0) == pytest.approx(
        BootstrapResult(["t"], np.array([4.0]), t[:, None]).ci("bc")[0].tolist())
    jack = rng.gamma(4.0, size=(50, 1))
    a = jackknife_acceleration(jack)
    assert a.shape == (1,)
    res = BootstrapResult(["t"], np.array([4.0]), t[:, None], jackknife=jack)
    lo_a, hi_a = res.ci("bca")[0]
    lo, hi = res.ci("bc")[0]
    # positive skew of the jackknife values gives negative acceleration and
    # pulls both endpoints down; the sign follows Efron & Tibshirani (14.15)
    assert (a[0] < 0) == (lo_a < lo) and (a[0] < 0) == (hi_a < hi)
    with pytest.raises(ValueError, match="kind"):
        res.ci("student")
    assert "perc.lo" in res.summary() and "<table" in res._repr_html_()


def test_jackknife_acceleration_closed_form():
    jack = np.array([[1.0], [2.0], [4.0]])
    d = jack.mean() - jack[:, 0]
    assert_allclose(jackknife_acceleration(jack), [np.sum(d ** 3) / (6 * np.sum(d ** 2) ** 1.5)])


# ------------------------------------------------ with surveykit's ML engine ----

def _pd_engine():
    from surveykit.sem.estimate import MLEngine, sample_stats
    from surveykit.sem.partable import build_partable
    from surveykit.sem.syntax import parse_model

    d = dataset("PoliticalDemocracy")
    pt = build_partable(parse_model(case("pd_sem")["model"]), data_names=list(d.columns))
    engine = MLEngine(pt, sample_stats([d[pt.ov_names].to_numpy(float)]))
    return engine, engine.fit().theta


@pytest.fixture(scope="module")
def engine_on_lavaan_resamples():
    from surveykit.sem.bootstrap import StandardizedAll, bootstrap_engine

    engine, theta = _pd_engine()
    idx = pd.read_csv(DATA / "PoliticalDemocracy_boot_indices.csv").to_numpy() - 1
    return theta.size, bootstrap_engine(engine, theta, indices=[idx], jackknife=False,
                                        extra=StandardizedAll())


@pytest.mark.parametrize("kind,key", [("perc", "estimates_perc"), ("bc", "estimates_bca_simple")])
def test_engine_intervals_on_lavaan_resamples(engine_on_lavaan_resamples, kind, key):
    q, res = engine_on_lavaan_resamples
    ref = table("pd_boot", key)
    ref = ref[ref["op"] == ":="]
    # Same 1000 resamples; each lavaan refit is ~5e-5 from its optimum (see
    # test_refits_on_lavaan_resamples), so interpolated order statistics may
    # differ by about that much: 2e-4.
    assert_allclose(res.ci(kind)[q:q + 2], ref[["ci.lower", "ci.upper"]].to_numpy(), rtol=0, atol=2e-4)
    assert res.n_failed == case("pd_boot")["n_failed"] == 0
    assert_allclose(res.se[q:q + 2], ref["se"].to_numpy(), rtol=1e-4)


def test_engine_standardized_intervals_on_lavaan_resamples(engine_on_lavaan_resamples):
    q, res = engine_on_lavaan_resamples
    std = case("pd_boot")["keep_idx"]["std"]
    # extra values: std.all of the surveykit table rows, then of ind and total;
    # lavaan's standardizedSolution rows are matched by (lhs, op, rhs)
    engine, _ = _pd_engine()
    pt = engine.pt
    keys = [(a, o, b) for a, o, b in zip(pt.lhs, pt.op, pt.rhs, strict=True)] + \
        [(name, ":=", expr) for name, expr, _ in pt.defined]
    ref = {(a, o, b.replace(" ", "")): (lo, hi, sd) for a, o, b, lo, hi, sd in zip(
        std["lhs"], std["op"], std["rhs"], std["perc_lower"], std["perc_upper"], std["boot_sd"],
        strict=True)}
    ci = res.ci("perc")[q + 2:]
    se = res.se[q + 2:]
    checked = 0
    for k, key in enumerate(keys):
        want = ref.get((key[0], key[1], key[2].replace(" ", "")))
        if want is None or want[2] < 1e-10:  # fixed (or standardized-to-1) rows have no spread
            continue
        # same resamples; standardized values inherit the ~5e-5 refit accuracy of
        # lavaan's draws (scaled by at most ~1 through the standardization)
        assert_allclose(ci[k], want[:2], rtol=0, atol=2e-4, err_msg=str(key))
        assert_allclose(se[k], want[2], rtol=1e-3, err_msg=str(key))
        checked += 1
    assert checked >= 30


def test_engine_bootstrap_within_monte_carlo_error_of_lavaan():
    from scipy.stats import norm

    from surveykit.sem.bootstrap import bootstrap_engine

    engine, theta = _pd_engine()
    B = 1000
    res = bootstrap_engine(engine, theta, n_boot=B, seed=20261121, jackknife=False)
    q = theta.size
    ref = table("pd_boot", "estimates_perc")
    ref = ref[ref["op"] == ":="]
    sd = ref["se"].to_numpy()
    # Independent resamples: each 2.5%/97.5% endpoint has Monte Carlo SD
    # sqrt(p(1-p)/B)/phi(z_p) * sd (normal approximation), the difference of
    # two independent runs sqrt(2) times that; allow 4 SDs.
    p = 0.025
    mc = np.sqrt(p * (1 - p) / B) / norm.pdf(norm.ppf(p)) * sd * np.sqrt(2)
    ci = res.ci("perc")[q:]
    assert np.all(np.abs(ci - ref[["ci.lower", "ci.upper"]].to_numpy()) < 4 * mc[:, None])
    # the bootstrap SE has relative MC SD ~ 1/sqrt(2B) per run
    assert_allclose(res.se[q:], sd, rtol=4 * np.sqrt(2) / np.sqrt(2 * B))


def test_engine_bootstrap_reproducible_across_workers_with_progress():
    from surveykit.sem.bootstrap import bootstrap_engine

    engine, theta = _pd_engine()
    ticks = []
    one = bootstrap_engine(engine, theta, n_boot=8, seed=5, jackknife=False)
    two = bootstrap_engine(engine, theta, n_boot=8, seed=5, n_jobs=2, jackknife=True,
                           progress=lambda d, t: ticks.append((d, t)))
    assert_allclose(one.draws, two.draws, rtol=0, atol=0)
    assert ticks[-1] == (8, 8) and [d for d, _ in ticks] == sorted(d for d, _ in ticks)
    assert two.jackknife.shape == (75, theta.size + 2)
    assert np.all(np.isfinite(two.ci("bca")))


def test_workers_run_with_one_blas_thread():
    import os

    saved = os.environ.get("OMP_NUM_THREADS")
    X = np.zeros((10, 2))
    draws = bootstrap_draws(blas_thread_settings, [X], n_boot=40, seed=2, n_jobs=2, chunk_size=2)
    assert np.all(draws[:, :3] == 1.0)
    # the calling process gets its environment back
    assert os.environ.get("OMP_NUM_THREADS") == saved


def test_sem_bootstrap_options_bca_standardized_and_progress():
    import surveykit
    from surveykit.sem.bootstrap import StandardizedAll, bootstrap_engine

    d = dataset("PoliticalDemocracy")
    model = case("pd_sem")["model"]
    ticks = []
    res = surveykit.sem(model, d, bootstrap=12, seed=3, boot_ci="bca", boot_standardized=True,
                        progress=lambda done, total: ticks.append((done, total)))
    boot, q, nd = res.bootstrap, res.engine.q, len(res.engine.pt.defined)
    assert ticks[-1] == (12, 12) and boot.jackknife is not None
    # the same draws as the engine bootstrap with the std.all statistic
    ref = bootstrap_engine(res.engine, res.theta, n_boot=12, seed=3, jackknife=False,
                           extra=StandardizedAll())
    assert_allclose(boot.draws, ref.draws, rtol=0, atol=0)
    names = boot.names[q + nd:]
    assert names[0] == "std_all:ind60=~x1" and len(names) == res.engine.pt.nrow + nd
    # the estimates table takes the BCa interval of the same draws
    est = res.estimates
    row = est[(est["op"] == ":=")].index[0]
    assert_allclose(est.loc[row, ["ci_lower", "ci_upper"]].to_numpy(float), boot.ci("bca")[q],
                    rtol=0, atol=0)
    plain = surveykit.sem(model, d, bootstrap=12, seed=3)
    assert plain.bootstrap.jackknife is None and len(plain.bootstrap.names) == q + nd
    with pytest.raises(surveykit.errors.SurveykitError, match="boot_ci"):
        surveykit.sem(model, d, bootstrap=12, boot_ci="normal")


def _engine_for(name, **kw):
    from surveykit.sem.estimate import MLEngine, sample_stats
    from surveykit.sem.partable import build_partable
    from surveykit.sem.syntax import parse_model

    ds = {"pd": "PoliticalDemocracy", "hs": "HolzingerSwineford1939"}[name[:2]]
    d = dataset(ds)
    group = kw.pop("group", None)
    names = [c for c in d.columns if c != group]
    pt = build_partable(parse_model(case(name)["model"]), data_names=names,
                        ngroups=1 if group is None else d[group].nunique(), **kw)
    X = d[pt.ov_names].to_numpy(float)
    arrays = [X] if group is None else [X[(d[group] == g).to_numpy()] for g in pd.unique(d[group])]
    engine = MLEngine(pt, sample_stats(arrays))
    return engine, engine.fit().theta, arrays


@pytest.mark.parametrize("name,kw", [
    ("pd_sem", {}),                                                  # paths, residual covariances
    ("pd_sem_eqcon", {}),                                            # linear == constraints
    ("hs_school_metric", {"group": "school", "group_equal": ("loadings",),
                          "meanstructure": True}),                   # groups, shared labels, means
])
def test_refit_solver_agrees_with_the_engine(name, kw):
    from surveykit.sem.estimate import RefitSolver, sample_stats

    engine, theta, arrays = _engine_for(name, **kw)
    solver = RefitSolver(engine, theta)
    assert solver.usable
    idx = draw_indices([a.shape[0] for a in arrays], 15, seed=11)
    for b in range(15):
        groups = [a[i[b]] for a, i in zip(arrays, idx, strict=True)]
        got = solver.fit(groups)
        want = engine.with_stats(sample_stats(groups)).fit(start=theta).theta
        # BFGS stops at steps of 1e-8 (1 + max|theta|), the engine at 1e-9: the optima agree to ~2e-8
        assert_allclose(got, want, rtol=0, atol=1e-7)
        theta0, N = engine.constraint_basis
        assert_allclose(N @ (N.T @ (got - theta0)) + theta0, got, rtol=0, atol=1e-12)


def test_bfgs_refits_agree_with_the_engine_and_across_workers(monkeypatch):
    import surveykit.sem.bootstrap as bs

    monkeypatch.setattr(bs, "_BFGS_MIN_PARAMS", 0)  # the large-model path on a small model
    engine, theta = _pd_engine()
    idx = pd.read_csv(DATA / "PoliticalDemocracy_boot_indices.csv").to_numpy() - 1
    assert bs.EngineRefit(engine, theta)._H0inv is not None
    res = bs.bootstrap_engine(engine, theta, indices=[idx[:40]], jackknife=False)
    from surveykit.sem.estimate import sample_stats

    X = np.asarray(engine.stats.data[0])
    for b in range(0, 40, 8):
        # BFGS stops at steps of 1e-8 (1 + max|theta|), the engine at 1e-9: the optima agree to ~2e-8
        want = engine.with_stats(sample_stats([X[idx[b]]])).fit(start=theta).theta
        assert_allclose(res.draws[b, :theta.size], want, rtol=0, atol=1e-7)
    two = bs.bootstrap_engine(engine, theta, indices=[idx[:40]], jackknife=False, n_jobs=2)
    assert_allclose(res.draws, two.draws, rtol=0, atol=0)
    # standardized values from the same refits: those of the refitted engine
    from surveykit.sem.standardize import standardize

    std = bs.bootstrap_engine(engine, theta, indices=[idx[:3]], jackknife=False,
                              extra=bs.StandardizedAll())
    q, nd = theta.size, len(engine.pt.defined)
    for b in range(3):
        refit = engine.with_stats(sample_stats([X[idx[b]]]))
        want = standardize(refit, std.draws[b, :q], kind="all")
        assert_allclose(std.draws[b, q + nd:q + nd + want.size], want, rtol=0, atol=1e-14)


@pytest.mark.parametrize("latent", [True, False])
@pytest.mark.parametrize("name,kw", [("pd_sem", {}),
                                     ("hs_school_metric", {"group": "school",
                                                           "group_equal": ("loadings",),
                                                           "meanstructure": True})])
def test_refit_gradient_matches_the_engine(name, kw, latent):
    from surveykit.sem.estimate import RefitSolver

    engine, theta, arrays = _engine_for(name, **kw)
    solver = RefitSolver(engine, theta)
    # both forms of B: the factor-block inverse and the general one
    solver.groups = [(*grp[:-1], grp[-1] and latent) for grp in solver.groups]
    point = theta * 1.03 + 0.01
    F, grad = solver._evaluate(point, list(engine.stats.mean), list(engine.stats.cov))
    F_ref, grad_ref, _ = engine.evaluate(point, information=False)
    # F here omits the constant log|S| + p of the engine's discrepancy
    const = sum(w * (ld + S.shape[0]) for w, ld, S in
                zip(engine.weights, engine.stats.logdet, engine.stats.cov, strict=True))
    assert_allclose(F - const, F_ref, rtol=1e-12)
    assert_allclose(grad, grad_ref, rtol=0, atol=1e-12 * max(1.0, np.abs(grad_ref).max()))


def test_vectorised_intervals_equal_the_one_column_functions():
    from surveykit.sem.bootstrap import bca_interval

    rng = np.random.default_rng(4)
    draws = rng.gamma(2.0, size=(199, 6))
    draws[:, 1] = np.round(draws[:, 1], 1)         # ties
    draws[:, 2] = 3.0                              # no spread
    draws[7, 3] = np.nan                           # a failed draw
    est = np.array([2.0, 1.9, 3.0, 2.2, 0.4, 6.0])  # estimates in the middle and the tails
    res = BootstrapResult([f"s{j}" for j in range(6)], est, draws,
                          jackknife=rng.normal(size=(30, 6)))
    ok = np.isfinite(draws).all(axis=1)
    for level in (0.95, 0.9):
        want_p = [percentile_interval(draws[ok, j], level) for j in range(6)]
        want_bc = [bc_interval(draws[ok, j], est[j], level) for j in range(6)]
        want_bca = [bca_interval(draws[ok, j], est[j], float(res.acceleration[j]), level)
                    for j in range(6)]
        # the same arithmetic in the same order: equal to the last bit
        assert_allclose(res.ci("perc", level), want_p, rtol=0, atol=0)
        assert_allclose(res.ci("bc", level), want_bc, rtol=0, atol=0)
        assert_allclose(res.ci("bca", level), want_bca, rtol=0, atol=0)
