"""surveykit.sem / cfa / lrt end to end against lavaan 0.6-14.

Reference values: tests/sem/results/lavaan_reference.json, written by
tests/sem/results/lavaan_reference.R (R, lavaan and semTools versions are in
its ``meta``).  Every case is fitted through the public API on the CSV files
that script exported, and compared quantity by quantity with an explicit
tolerance.

Tolerances, and why
-------------------
* estimates: 1e-5 absolute.  Both programs solve the same score equations;
  lavaan's ``nlminb`` stops at a relative objective change of 1e-10, which
  leaves its estimates up to a few 1e-6 from the optimum in well-conditioned
  models.  Where lavaan stops visibly early (``LAVAAN_EARLY`` below) the
  tolerance is widened to what its gradient allows, and the test also checks
  that surveykit's objective is not larger than lavaan's, i.e. that the
  difference is lavaan's, not ours.
* standard errors: 1e-4 absolute (the issue's budget); they move by the
  estimate difference times their slope, and the observed-information ones
  (MLR, FIML) go through a numerical Hessian on both sides.
* z and p-values: z = est/se amplifies the estimate difference by 1/se,
  so it is compared relatively (1e-4); p-values 2e-4 absolute (their slope
  in z is at most 0.8).
* standardized solutions: 1e-5 absolute, as estimates; confidence limits
  est -/+ 1.96 se: 1e-5 + 1.96e-4.
* fit measures: 1e-5 absolute for indices in [0, 1] and information
  criteria relative 1e-8; χ² statistics relative 1e-6 (an objective
  difference of 1e-10 times 2N is 1e-7 absolute on values of 40-200; scaled
  ones divide by a scaling factor that moves with the estimates).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import surveykit

from ._partable_model import case, dataset

HS = "HolzingerSwineford1939"
PD = "PoliticalDemocracy"
HSM = "HolzingerSwineford1939_missing"
LI = ("loadings", "intercepts")

# case -> (function, dataset, keyword arguments): the same calls as the R script
CASES = {
    "hs_cfa": ("cfa", HS, {}),
    "hs_cfa_stdlv": ("cfa", HS, {"std_lv": True}),
    "pd_sem": ("sem", PD, {}),
    "pd_sem_eqcon": ("sem", PD, {}),
    "pd_sem_shared": ("sem", PD, {}),
    "hs_school_configural": ("cfa", HS, {"group": "school"}),
    "hs_school_metric": ("cfa", HS, {"group": "school", "group_equal": ("loadings",)}),
    "hs_school_scalar": ("cfa", HS, {"group": "school", "group_equal": LI}),
    "hs_school_strict": ("cfa", HS, {"group": "school", "group_equal": (*LI, "residuals")}),
    "hs_school_partial": ("cfa", HS, {"group": "school", "group_equal": LI,
                                      "group_partial": ("x3 ~ 1", "x7 ~ 1")}),
    "hs_cfa_mlr": ("cfa", HS, {"estimator": "MLR"}),
    "pd_sem_mlr": ("sem", PD, {"estimator": "MLR"}),
    "hs_school_configural_mlr": ("cfa", HS, {"group": "school", "estimator": "MLR"}),
    "hs_school_metric_mlr": ("cfa", HS, {"group": "school", "estimator": "MLR",
                                         "group_equal": ("loadings",)}),
    "pd_sem_eqcon_mlr": ("sem", PD, {"estimator": "MLR"}),
    "hs_covariates_mlr": ("sem", HS, {"estimator": "MLR"}),
    "pd_sem_shared_mlr": ("sem", PD, {"estimator": "MLR"}),
    "hs_cfa_fiml": ("cfa", HSM, {"missing": "ml"}),
    "hs_cfa_fiml_mlr": ("cfa", HSM, {"missing": "ml", "estimator": "MLR"}),
    "hs_school_metric_fiml": ("cfa", HSM, {"missing": "ml", "group": "school",
                                           "group_equal": ("loadings",)}),
    "hs_school_metric_fiml_mlr": ("cfa", HSM, {"missing": "ml", "group": "school",
                                               "group_equal": ("loadings",), "estimator": "MLR"}),
    "hs_cfa_listwise": ("cfa", HSM, {}),
}

# Cases where lavaan's optimiser stops measurably before the optimum (its
# objective is higher than ours; see test_objective_not_above_lavaan).  With
# the == constraints lavaan uses an augmented-Lagrangian nlminb whose solution
# is 1.2e-4 from the constrained optimum in the weakest direction; in the
# two-group configural model 1.6e-5.
LAVAAN_EARLY = {"pd_sem_eqcon": 2e-4, "pd_sem_shared": 2e-4, "pd_sem_eqcon_mlr": 2e-4,
                "pd_sem_shared_mlr": 2e-4,
                "hs_school_configural": 3e-5, "hs_school_configural_mlr": 3e-5}

# lavaan's fitMeasures name -> surveykit's where they differ
FIT_NAMES = {"rmsea.ci.lower": "rmsea_ci_low", "rmsea.ci.upper": "rmsea_ci_high",
             "rmsea.pvalue": "rmsea_pclose", "logl": "loglik", "unrestricted.logl": "loglik_h1",
             "ntotal": "n", "nnfi": "tli",
             "rmsea.ci.lower.robust": "rmsea_ci_low_robust",
             "rmsea.ci.upper.robust": "rmsea_ci_high_robust",
             "rmsea.ci.lower.scaled": "rmsea_ci_low_scaled",
             "rmsea.ci.upper.scaled": "rmsea_ci_high_scaled"}
CHISQ_LIKE = {"chisq", "baseline.chisq", "chisq.scaled", "baseline.chisq.scaled", "logl",
              "unrestricted.logl", "aic", "bic", "bic2", "fmin", "npar", "df", "baseline.df",
              "df.scaled", "baseline.df.scaled", "ntotal"}
# measures whose recorded value does not exist in surveykit (yet): documented, not compared
NOT_PROVIDED = {"rmsea.ci.level", "rmsea.close.h0", "rmsea.notclose.h0", "rmsea.notclose.pvalue",
                "rmsea.notclose.pvalue.scaled", "rmsea.notclose.pvalue.robust", "rmr_nomean",
                "srmr_bentler", "srmr_bentler_nomean", "crmr", "crmr_nomean", "srmr_mplus",
                "srmr_mplus_nomean", "cn_05", "cn_01", "mfi", "ecvi", "scaling.factor.h1",
                "scaling.factor.h0", "nnfi.scaled", "rfi.scaled", "nfi.scaled", "pnfi.scaled",
                "ifi.scaled", "rni.scaled", "nnfi.robust", "rni.robust"}
# under missing="ml" surveykit reports the χ²-based measures and the FIML-corrected
# robust CFI/TLI/RMSEA and SRMR/RMR, not (yet) the GFI family or the scaled baseline
FIML_NOT_PROVIDED = {"fmin", "gfi", "agfi", "pgfi",
                     "baseline.chisq.scaled", "baseline.df.scaled", "baseline.pvalue.scaled",
                     "baseline.chisq.scaling.factor", "cfi.scaled", "tli.scaled", "rmsea.scaled",
                     "rmsea.ci.lower.scaled", "rmsea.ci.upper.scaled", "rmsea.pvalue.scaled"}


@pytest.fixture(scope="module")
def fits():
    cache: dict = {}

    def get(name):
        if name not in cache:
            fn, ds, kwargs = CASES[name]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", surveykit.errors.SurveykitWarning)
                cache[name] = getattr(surveykit, fn)(case(name)["model"], dataset(ds), **kwargs)
        return cache[name]

    return get


def _merged(name, fit):
    ref = pd.DataFrame(case(name)["estimates"]).rename(columns=lambda c: c.replace(".", "_"))
    if "group" not in ref:
        ref["group"] = np.where(ref["op"].isin([":=", "==", "<", ">"]), 0, 1)
    ref["group"] = ref["group"].fillna(0).astype(int)
    ours = fit.estimates.copy()
    ours["group"] = ours["group"].fillna(0).astype(int)
    m = ref.merge(ours, on=["lhs", "op", "rhs", "group"], how="left", suffixes=("_lav", ""),
                  indicator=True)
    assert (m["_merge"] == "both").all(), f"rows missing in surveykit: {m[m['_merge'] != 'both']}"
    return m


def _close(m, col, atol=0.0, rtol=0.0):
    a, b = m[col].to_numpy(float), m[f"{col}_lav"].to_numpy(float)
    # lavaan leaves se/z/p of fixed parameters as 0/NA: the same cells must be missing
    assert np.array_equal(np.isfinite(a), np.isfinite(b)), f"{col}: NA pattern differs"
    ok = np.isfinite(b)
    assert_allclose(a[ok], b[ok], atol=atol, rtol=rtol, err_msg=col)


@pytest.mark.parametrize("name", list(CASES))
def test_parameter_estimates(fits, name):
    m = _merged(name, fits(name))
    tol = LAVAAN_EARLY.get(name, 1e-5)
    _close(m, "est", atol=tol)
    _close(m, "std_lv", atol=tol)
    _close(m, "std_all", atol=tol)
    # est -/+ 1.96 se: the estimate tolerance plus 1.96 times the SE tolerance
    _close(m, "ci_lower", atol=tol + 1.96e-4)
    _close(m, "ci_upper", atol=tol + 1.96e-4)


@pytest.mark.parametrize("name", list(CASES))
def test_standard_errors_and_tests(fits, name):
    m = _merged(name, fits(name))
    early = name in LAVAAN_EARLY
    _close(m, "se", atol=1e-4)
    _close(m, "z", rtol=1e-4 + 1e-3 * early, atol=1e-6)
    # p = 2(1 - Phi(|z|)) has slope <= 0.8 in z, and z = est/se moves by up to
    # 1e-5/se (estimate) plus |z| 1e-4/se (SE); with SEs down to ~0.05: 2e-4
    _close(m, "pvalue", atol=2e-4 + 1e-3 * early)


@pytest.mark.parametrize("name", list(CASES))
def test_objective_not_above_lavaan(fits, name):
    # our optimum must be at least as good as lavaan's: differences in the
    # estimates are then lavaan's early stop (1e-12 allows for rounding)
    fit = fits(name)
    ref = case(name)["fit"]
    assert fit.fit["loglik"] >= ref["logl"] - 1e-9 * abs(ref["logl"])


@pytest.mark.parametrize("name", list(CASES))
def test_fit_measures(fits, name):
    fit, ref = fits(name), case(name)["fit"]
    skip = NOT_PROVIDED | (FIML_NOT_PROVIDED if "fiml" in name else set())
    compared = 0
    for key, want in ref.items():
        if key in skip or want is None:
            continue
        ours = FIT_NAMES.get(key, key.replace(".", "_"))
        assert ours in fit.fit, f"fit measure {key} missing"
        got = fit.fit[ours]
        if key in CHISQ_LIKE or key.startswith("chisq") or key.startswith("baseline.chisq"):
            assert_allclose(got, want, rtol=1e-6, atol=1e-8, err_msg=key)
        else:
            assert_allclose(got, want, rtol=0, atol=1e-5, err_msg=key)
        compared += 1
    assert compared >= (19 if "fiml" in name else 30)


def test_issue_figures(fits):
    # the figures quoted in the issue (lavaan 0.6-14), as a readable anchor
    f = fits("hs_cfa").fit
    assert round(f["chisq"], 3) == 85.306 and f["df"] == 24
    assert round(f["cfi"], 4) == 0.9306 and round(f["tli"], 4) == 0.8958
    assert (round(f["rmsea"], 4), round(f["rmsea_ci_low"], 4), round(f["rmsea_ci_high"], 4)) == \
        (0.0921, 0.0714, 0.1137)
    assert round(f["srmr"], 4) == 0.0652
    assert (round(f["aic"], 2), round(f["bic"], 2)) == (7517.49, 7595.34)
    chis = [round(fits(f"hs_school_{k}").fit["chisq"], 3) for k in ("configural", "metric", "scalar")]
    assert chis == [115.851, 124.044, 164.103]


@pytest.mark.parametrize("name", ["hs_cfa", "hs_cfa_stdlv", "pd_sem", "hs_cfa_mlr", "hs_cfa_fiml"])
def test_r_square(fits, name):
    want = pd.Series(case(name)["r2"])
    got = fits(name).r2
    # R² = 1 - residual variance / implied variance: smooth in the estimates
    assert_allclose(got.reindex(want.index).to_numpy(float), want.to_numpy(float), atol=1e-5)


def test_r_square_by_group(fits):
    want = pd.DataFrame(case("hs_school_metric")["r2"])
    got = fits("hs_school_metric").r2
    assert_allclose(got.loc[want.index, want.columns].to_numpy(float), want.to_numpy(float), atol=1e-5)


def test_modification_indices(fits):
    ref = pd.DataFrame(case("hs_cfa")["modindices"]).rename(columns=lambda c: c.replace(".", "_"))
    got = fits("hs_cfa").modindices()
    m = ref.merge(got, on=["lhs", "op", "rhs"], suffixes=("_lav", ""))
    assert len(m) == len(ref) == 54
    # score statistics at slightly different optima: MI ~ N g' V g changes by
    # ~1e-6 relative; EPCs are ratios of the same quantities
    for col in ("mi", "epc", "sepc_all"):
        assert_allclose(m[col], m[f"{col}_lav"], rtol=1e-4, atol=1e-5, err_msg=col)


@pytest.mark.parametrize("name", ["hs_cfa", "hs_cfa_stdlv"])
def test_reliability(fits, name):
    rel = case(name)["reliability"]
    got = fits(name).reliability()
    # closed forms of the estimates (semTools compRelSEM / AVE): estimate accuracy
    assert_allclose(got.loc[list(rel["compRelSEM"]), "omega"], list(rel["compRelSEM"].values()), atol=1e-5)
    assert_allclose(got.loc[list(rel["AVE"]), "ave"], list(rel["AVE"].values()), atol=1e-5)


@pytest.mark.parametrize("pair", [("configural", "metric"), ("metric", "partial"),
                                  ("partial", "scalar")])
def test_lrt_ml(fits, pair):
    a, b = (fits(f"hs_school_{k}") for k in pair)
    key = {("configural", "metric"): "metric_vs_configural", ("metric", "partial"): "partial_vs_metric",
           ("partial", "scalar"): "scalar_vs_partial"}[pair]
    ref = case("hs_school_lrt")[key]
    out = surveykit.lrt(b, a)  # either order
    # difference of two χ² values, each good to ~1e-7 absolute
    assert_allclose(out.statistic, ref["Chisq diff"][1], rtol=1e-6)
    assert out.df == ref["Df diff"][1]
    assert_allclose(out.pvalue, ref["Pr(>Chisq)"][1], atol=1e-6)
    assert "Distributed: chi2(" in str(out)


def test_lrt_sequence_matches_anova_table(fits):
    tab = case("hs_school_lrt")["table"]
    names = tab["model"]
    for i in range(1, len(names)):
        out = surveykit.lrt(fits(f"hs_school_{names[i - 1]}"), fits(f"hs_school_{names[i]}"))
        assert_allclose(out.statistic, tab["Chisq diff"][i], rtol=1e-6)
        assert out.df == tab["Df diff"][i]


def test_lrt_scaled_under_mlr(fits):
    ref = case("hs_school_lrt_mlr")["default"]
    out = surveykit.lrt(fits("hs_school_configural_mlr"), fits("hs_school_metric_mlr"))
    # ratio of χ² differences and scaling factors, each good to ~1e-6 relative
    # (lavaan's configural optimum is 1.6e-5 off, see LAVAAN_EARLY)
    assert_allclose(out.statistic, ref["Chisq diff"][1], rtol=2e-5)
    assert_allclose(out.pvalue, ref["Pr(>Chisq)"][1], atol=1e-5)
    assert out.df == 6 and out.method == "satorra.bentler.2001"
    assert math.isfinite(out.scaling_factor) and out.scaling_factor > 0


def test_bootstrap_through_sem_within_monte_carlo_error():
    from scipy.stats import norm

    ref = pd.DataFrame(case("pd_boot")["estimates_perc"])
    ref = ref[ref["op"] == ":="].set_index("lhs")
    B = 1000
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", surveykit.errors.SurveykitWarning)
        fit = surveykit.sem(case("pd_boot")["model"], dataset(PD), bootstrap=B, seed=7)
    est = fit.estimates[fit.estimates["op"] == ":="].set_index("lhs")
    sd = ref["se"]
    # Independent draws on both sides: an endpoint of the 95% percentile interval
    # has Monte Carlo SD sqrt(p(1-p)/B)/phi(z_p) * sd; the difference of two runs
    # sqrt(2) times that.  4 SDs.
    p = 0.025
    mc = np.sqrt(p * (1 - p) / B) / norm.pdf(norm.ppf(p)) * sd * np.sqrt(2)
    for name in ("ind", "total"):
        assert abs(est.loc[name, "ci_lower"] - ref.loc[name, "ci.lower"]) < 4 * mc[name]
        assert abs(est.loc[name, "ci_upper"] - ref.loc[name, "ci.upper"]) < 4 * mc[name]
        # bootstrap SE: relative MC SD 1/sqrt(2B) per run
        assert abs(est.loc[name, "se"] / sd[name] - 1) < 4 * np.sqrt(2) / np.sqrt(2 * B)
        # point estimates are the ML ones, not bootstrap means
        assert_allclose(est.loc[name, "est"], ref.loc[name, "est"], atol=1e-5)


def test_lrt_scaled_satorra_bentler_2010(fits):
    from surveykit.sem.robust import lrt_scaled

    ref = case("hs_school_lrt_mlr")["satorra_bentler_2010"]
    out = lrt_scaled(fits("hs_school_configural_mlr"), fits("hs_school_metric_mlr"),
                     method="satorra.bentler.2010")
    # the configural model evaluated at the metric estimates (lavaan's M10):
    # same tolerance as the 2001 difference above
    assert_allclose(out.statistic, ref["Chisq diff"][1], rtol=2e-5)
    assert_allclose(out.pvalue, ref["Pr(>Chisq)"][1], atol=1e-5)
    assert out.method == "satorra.bentler.2010"
    with pytest.raises(ValueError, match="method"):
        lrt_scaled(fits("hs_school_configural_mlr"), fits("hs_school_metric_mlr"), method="satorra.2000")


def test_lrt_passes_the_scaling_method_on(fits):
    ref = case("hs_school_lrt_mlr")["satorra_bentler_2010"]
    out = surveykit.lrt(fits("hs_school_metric_mlr"), fits("hs_school_configural_mlr"),
                        method="satorra.bentler.2010")
    # as test_lrt_scaled_satorra_bentler_2010, through the public function
    assert_allclose(out.statistic, ref["Chisq diff"][1], rtol=2e-5)
    assert out.method == "satorra.bentler.2010" and out.df == 6
    with pytest.raises(surveykit.errors.SurveykitError, match="MLR"):
        surveykit.lrt(fits("hs_school_configural"), fits("hs_school_metric"),
                      method="satorra.bentler.2010")
