"""MLR: sandwich standard errors, Yuan–Bentler (Mplus) scaled χ², robust CFI/TLI/RMSEA, scaled LRT.

Checked against lavaan 0.6-14 (tests/sem/results/lavaan_reference.json) at
lavaan's own ML estimates, through a RAM model built from lavaan's parameter
table (tests/sem/_partable_model.py), so these tests exercise the robust code
alone; tests/sem/test_against_lavaan.py checks the whole ``estimator="MLR"`` path.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from numpy.testing import assert_allclose

from surveykit.sem.robust import (
    casewise_scores,
    h1_expected_information,
    mlr,
    rmsea_ci,
    robust_cfi,
    robust_tli,
    scaled_difference_test,
)

from ._partable_model import PartableModel, case, dataset, table

OV_HS = [f"x{i}" for i in range(1, 10)]
OV_PD = ["x1", "x2", "x3", "y1", "y2", "y3", "y4", "y5", "y6", "y7", "y8"]
SCHOOLS = ["Pasteur", "Grant-White"]  # lavaan's group order: first appearance in the data

CASES = {
    "hs_cfa_mlr": ("HolzingerSwineford1939", OV_HS, False),
    "pd_sem_mlr": ("PoliticalDemocracy", OV_PD, False),
    "hs_school_configural_mlr": ("HolzingerSwineford1939", OV_HS, True),
    "hs_school_metric_mlr": ("HolzingerSwineford1939", OV_HS, True),
}


def _setup(name):
    ds, ov, grouped = CASES[name]
    d = dataset(ds)
    model = PartableModel(table(name), ov, meanstructure=grouped)
    data = ([d.loc[d.school == s, ov].to_numpy(float) for s in SCHOOLS] if grouped
            else [d[ov].to_numpy(float)])
    return model, data, case(name)["fit"]


@pytest.fixture(scope="module", params=list(CASES))
def robust_case(request):
    model, data, fit = _setup(request.param)
    return request.param, model, mlr(model, data, df=int(fit["df"])), fit


def test_sandwich_se_match_lavaan(robust_case):
    _, model, res, _ = robust_case
    sel = model.row_param >= 0
    # Same estimates on both sides; the only numerical step is the 5-point
    # central difference of the analytic gradient for the observed information
    # (lavaan does the same), good to ~1e-9.  1e-7 leaves room, far below the
    # 1e-4 budget for standard errors.
    assert_allclose(res.se[model.row_param[sel]], model.rows["se"][sel].to_numpy(), rtol=0, atol=1e-7)


def test_scaled_chisq_and_scaling_factor(robust_case):
    _, _, res, fit = robust_case
    # Closed forms of the same moments: agreement to rounding of the printed
    # estimates (~1e-12 relative); 1e-8 relative is a safe bound.
    assert_allclose(res.chisq, fit["chisq"], rtol=1e-9)
    assert_allclose(res.scaling_factor, fit["chisq.scaling.factor"], rtol=1e-8)
    assert_allclose(res.chisq_scaled, fit["chisq.scaled"], rtol=1e-8)
    assert_allclose(res.baseline_chisq, fit["baseline.chisq"], rtol=1e-9)
    assert_allclose(res.baseline_scaling_factor, fit["baseline.chisq.scaling.factor"], rtol=1e-8)


@pytest.mark.parametrize("key", ["cfi_robust", "tli_robust", "rmsea_robust", "cfi_scaled",
                                 "tli_scaled", "rmsea_scaled", "pvalue_scaled",
                                 "rmsea_pvalue_robust", "rmsea_pvalue_scaled",
                                 "baseline_pvalue_scaled"])
def test_robust_indices(robust_case, key):
    _, _, res, fit = robust_case
    # Smooth closed-form functions of the statistics above: 1e-8.
    assert_allclose(res.fit_measures()[key], fit[key.replace("_", ".")], rtol=0, atol=1e-8)


@pytest.mark.parametrize("key", ["rmsea_ci_lower_robust", "rmsea_ci_upper_robust",
                                 "rmsea_ci_lower_scaled", "rmsea_ci_upper_scaled"])
def test_robust_rmsea_interval(robust_case, key):
    _, _, res, fit = robust_case
    # lavaan inverts the noncentral χ² with uniroot's default tolerance
    # (eps^0.25 ~ 1.2e-4 in the noncentrality), which moves the RMSEA bound
    # by < 1e-7 for these N and df; we solve to 1e-12.
    assert_allclose(res.fit_measures()[key], fit[key.replace("_", ".")], rtol=0, atol=1e-6)


def test_scaled_difference_matches_lavtestlrt():
    conf, metric = case("hs_school_configural_mlr")["fit"], case("hs_school_metric_mlr")["fit"]
    lrt = case("hs_school_lrt_mlr")["default"]
    out = scaled_difference_test(metric["chisq"], int(metric["df"]), metric["chisq.scaling.factor"],
                                 conf["chisq"], int(conf["df"]), conf["chisq.scaling.factor"])
    # closed form of recorded numbers: rounding only
    assert_allclose(out.stat, lrt["Chisq diff"][1], rtol=1e-12)
    assert_allclose(out.pvalue, lrt["Pr(>Chisq)"][1], rtol=1e-10)
    assert out.df == lrt["Df diff"][1] == 6
    assert "chi2(6)" in str(out)


def test_scaled_difference_from_our_scaling_factors():
    results = {}
    for name in ("hs_school_configural_mlr", "hs_school_metric_mlr"):
        model, data, fit = _setup(name)
        results[name] = mlr(model, data, df=int(fit["df"]))
    c, m = results["hs_school_configural_mlr"], results["hs_school_metric_mlr"]
    out = scaled_difference_test(m.chisq, m.df, m.scaling_factor, c.chisq, c.df, c.scaling_factor)
    lrt = case("hs_school_lrt_mlr")["default"]
    assert_allclose(out.stat, lrt["Chisq diff"][1], rtol=1e-7)


def test_equal_df_difference_is_unscaled():
    out = scaled_difference_test(10.0, 5, 1.2, 8.0, 5, 1.1)
    assert out.df == 0 and out.stat == 2.0 and np.isnan(out.pvalue)


def test_cfi_tli_edge_cases():
    # a model fitting better than its df: CFI is one, TLI exceeds one
    assert robust_cfi(10.0, 20, 500.0, 36) == 1.0
    assert robust_tli(10.0, 20, 500.0, 36) > 1.0
    # without scaling factors the robust versions reduce to the standard ones
    assert robust_cfi(85.0, 24, 900.0, 36) == pytest.approx(1 - 61 / 864)
    assert rmsea_ci(10.0, 20, 300) == (0.0, 0.0)


def test_scores_average_to_zero_at_sample_moments():
    X = dataset("HolzingerSwineford1939")[OV_HS].to_numpy(float)
    S = np.cov(X, rowvar=False, bias=True)
    sc = casewise_scores(X, X.mean(axis=0), S, meanstructure=True)
    # the saturated MLE solves the mean score equations exactly
    assert_allclose(sc.mean(axis=0), 0.0, atol=1e-12)
    # and their covariance under normality is the expected information: the
    # identity holds in expectation, so compare on a large simulated sample
    rng = np.random.default_rng(5)
    Z = rng.multivariate_normal(np.zeros(9), S, size=50_000)
    sc = casewise_scores(Z, np.zeros(9), S, meanstructure=True)
    A = h1_expected_information(S, meanstructure=True)
    assert_allclose(sc.T @ sc / Z.shape[0], A, atol=0.05 * np.abs(A).max())


@pytest.mark.parametrize("name,group,group_equal", [
    ("hs_cfa_mlr", None, ()),
    ("pd_sem_mlr", None, ()),
    ("hs_school_metric_mlr", "school", ("loadings",)),
])
def test_mlr_on_surveykit_engine(name, group, group_equal):
    from surveykit.sem.estimate import MLEngine, sample_stats
    from surveykit.sem.partable import build_partable
    from surveykit.sem.robust import mlr_from_engine
    from surveykit.sem.syntax import parse_model

    c = case(name)
    d = dataset("PoliticalDemocracy" if name.startswith("pd") else "HolzingerSwineford1939")
    pt = build_partable(parse_model(c["model"]), data_names=list(d.columns),
                        ngroups=2 if group else 1, meanstructure=bool(group),
                        group_equal=group_equal)
    data = ([d.loc[d.school == s, pt.ov_names].to_numpy(float) for s in SCHOOLS] if group
            else [d[pt.ov_names].to_numpy(float)])
    engine = MLEngine(pt, sample_stats(data))
    theta = engine.fit().theta
    res = mlr_from_engine(engine, theta, int(c["fit"]["df"]))
    fm = res.fit_measures()
    # Our ML optimum is tighter than lavaan's (nlminb stops at a relative
    # objective change of 1e-10): χ² values agree to ~3e-7 relative, indices
    # to ~1e-8; SEs move by the estimate difference (~1e-5) times their slope.
    assert_allclose(res.chisq_scaled, c["fit"]["chisq.scaled"], rtol=1e-6)
    for key in ("cfi_robust", "tli_robust", "rmsea_robust"):
        assert_allclose(fm[key], c["fit"][key.replace("_", ".")], rtol=0, atol=1e-6)
    se = np.full(len(pt.lhs), 0.0)
    se[engine.free_rows] = res.se[engine.free_col]
    ref = table(name)
    keys = {(lhs, op, rhs, g): s for lhs, op, rhs, g, s in zip(
        ref["lhs"], ref["op"], ref["rhs"], ref.get("group", [1] * len(ref)), ref["se"], strict=True)}
    got = [(se[i], keys[(pt.lhs[i], pt.op[i], pt.rhs[i], int(pt.group[i]))])
           for i in range(len(pt.lhs)) if pt.free[i] > 0]
    a, b = np.array(got).T
    assert_allclose(a, b, rtol=0, atol=1e-4)


def test_result_object_smoke():
    model, data, fit = _setup("hs_cfa_mlr")
    res = mlr(model, data, df=int(fit["df"]))
    assert res.se.shape == (model.q,) and np.all(res.se > 0)
    assert res.n == 301 and res.n_groups == 1 and res.baseline_df == 36
    assert set(res.fit_measures()) >= {"chisq_scaled", "cfi_robust", "rmsea_ci_upper_robust"}
    text = res.summary()
    assert "Scaling factor" in text and f"{res.chisq_scaled:12.3f}" in text
    assert res._repr_html_().startswith("<pre>")
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.df = 3


def test_engine_hessian_matches_numerical_hessian():
    import surveykit
    from surveykit.sem.robust import (
        EngineMoments,
        _engine_hessian,
        _group_stats,
        _ml_gradient,
        numerical_hessian,
    )

    fit = surveykit.sem(case("pd_sem_eqcon_mlr")["model"], dataset("PoliticalDemocracy"))
    m = EngineMoments(fit.engine, fit.theta)
    data = [np.asarray(X, float) for X in fit.engine.stats.data]
    Ha = _engine_hessian(m, data)
    Hn = numerical_hessian(_ml_gradient(m, [_group_stats(X) for X in data], np.array([1.0])), m.x)
    # analytic against a 5-point difference of the analytic gradient (error ~1e-9)
    assert_allclose(Ha, Hn, rtol=0, atol=1e-7)
    a = mlr(m, data, df=38)
    b = mlr(m, data, df=38, hessian=Hn)
    assert_allclose(a.se, b.se, rtol=1e-7)
    # an engine holding other data is not used
    assert _engine_hessian(m, [data[0][:50]]) is None
