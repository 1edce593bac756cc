"""The results object: every public attribute, printing, refit, warnings, input errors."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest

import surveykit
from surveykit.errors import (
    ConvergenceWarning,
    HeywoodCaseWarning,
    NotPositiveDefiniteWarning,
    SurveykitError,
)
from surveykit.sem.results import SEMResult

from ._core_reference import dataset, fitted

HS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
COLUMNS = ["lhs", "op", "rhs", "group", "label", "est", "se", "z", "pvalue", "ci_lower",
           "ci_upper", "std_lv", "std_all"]


def check_result(res: SEMResult) -> None:
    assert list(res.estimates.columns) == COLUMNS
    for key in ("chisq", "df", "pvalue", "baseline_chisq", "baseline_df", "baseline_pvalue", "cfi",
                "tli", "nfi", "ifi", "rfi", "rmsea", "rmsea_ci_low", "rmsea_ci_high",
                "rmsea_pclose", "srmr", "gfi", "agfi", "pgfi", "pnfi", "chisq_df", "loglik",
                "loglik_h1", "aic", "bic", "bic2", "npar", "n"):
        assert isinstance(res.fit[key], float)
    assert len(res.r2) > 0
    assert isinstance(res.modindices(), pd.DataFrame)
    assert isinstance(res.reliability(), pd.DataFrame)
    assert res.fornell_larcker().shape[0] == res.fornell_larcker().shape[1]
    text = res.summary()
    order = [text.index(s) for s in ("Model Test User Model:", "Model Test Baseline Model:",
                                     "User Model versus Baseline Model:",
                                     "Root Mean Square Error of Approximation:",
                                     "Parameter Estimates:", "Latent Variables:", "Variances:",
                                     "R-Square:")]
    assert order == sorted(order)
    assert str(res) == text
    html = res._repr_html_()
    assert html.startswith("<div>") and "<table>" in html
    assert res.implied[0]["cov"].shape == (len(res.engine.pt.ov_names),) * 2
    assert res.partable["est"].shape[0] == res.engine.pt.nrow
    m = res.moments()
    assert len(m.jacobian(m.x)) == res.engine.pt.ngroups
    assert res.converged and res.npar == res.fit["npar"] and res.df == res.fit["df"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.model = "x"  # type: ignore[misc]


@pytest.mark.parametrize("case", ["hs_cfa", "pd_sem_shared", "hs_school_scalar", "hs_covariates"])
def test_every_public_attribute(case):
    check_result(fitted(case))


def test_summary_sections_for_sem():
    text = fitted("pd_sem_shared").summary()
    for section in ("Regressions:", "Covariances:", "Defined Parameters:", "R-Square:"):
        assert section in text
    assert text.index("Regressions:") < text.index("Covariances:") < text.index("Variances:") \
        < text.index("Defined Parameters:")
    assert "    x2 (a)" not in text and "y2 (a)" in text


def test_summary_groups():
    text = fitted("hs_school_metric").summary()
    assert "Group 1 [Pasteur]:" in text and "Group 2 [Grant-White]:" in text
    assert "Intercepts:" in text


def test_refit_on_other_rows_gives_new_result():
    res = fitted("hs_cfa")
    hs = dataset("HolzingerSwineford1939")
    again = res.refit(hs.iloc[::-1])
    assert again is not res
    np.testing.assert_allclose(again.theta, res.theta, atol=1e-8)
    half = res.refit(hs.iloc[:150])
    assert half.fit["n"] == 150 and not np.allclose(half.theta, res.theta)


def test_cfa_is_sem_and_callable_package():
    hs = dataset("HolzingerSwineford1939")
    import surveykit.sem as package
    a = surveykit.cfa(HS, hs)
    b = package(HS, hs)   # the package shares the function's name and forwards to it
    np.testing.assert_allclose(a.theta, b.theta)


def test_listwise_deletion_counts_rows():
    hs = dataset("HolzingerSwineford1939").copy()
    hs.loc[:9, "x1"] = np.nan
    res = surveykit.cfa(HS, hs)
    assert res.fit["n"] == 291 and res.n_dropped == 10


def test_input_errors():
    hs = dataset("HolzingerSwineford1939")
    with pytest.raises(SurveykitError, match=r"^estimator \('WLS'\) must be one of ML, MLR\.$"):
        surveykit.sem(HS, hs, estimator="WLS")
    with pytest.raises(SurveykitError, match=r"^missing \('pairwise'\) must be one of listwise, ml\.$"):
        surveykit.sem(HS, hs, missing="pairwise")
    bad = hs.copy()
    bad["x3"] = bad["x3"].astype(object)
    bad.loc[5, "x3"] = "n/a"
    with pytest.raises(SurveykitError, match=r"^column 'x3' of the data is not numeric \(row 5 holds 'n/a'\)\.$"):
        surveykit.sem(HS, bad)


def test_heywood_case_warning():
    # one factor, three indicators: lambda_a^2 = r_ab r_ac / r_bc = 1.28 > 1, so theta_a < 0
    R = np.array([[1.0, 0.8, 0.8], [0.8, 1.0, 0.5], [0.8, 0.5, 1.0]])
    z = np.random.default_rng(3).normal(size=(500, 3))
    z = (z - z.mean(0)) @ np.linalg.inv(np.linalg.cholesky(np.cov(z.T, bias=True))).T
    data = pd.DataFrame(z @ np.linalg.cholesky(R).T, columns=["a", "b", "c"])
    with pytest.warns(HeywoodCaseWarning) as record:
        res = surveykit.cfa("f =~ b + a + c", data)
    assert [str(w.message) for w in record] == [
        "some estimated variances are negative (a): a Heywood case.",
        "some standardized loadings exceed 1 in absolute value (f=~a)."]
    est = res.estimates.set_index(["lhs", "op", "rhs"])["est"]
    assert est[("a", "~~", "a")] == pytest.approx(1 - 0.8 * 0.8 / 0.5, abs=1e-8)


def test_not_positive_definite_latent_covariance_warning():
    rng = np.random.default_rng(5)
    n = 300
    f = rng.normal(size=n)
    cols = {f"v{i}": f + 0.8 * rng.normal(size=n) for i in range(1, 7)}
    data = pd.DataFrame(cols)
    model = "f1 =~ v1 + v2 + v3\nf2 =~ v4 + v5 + v6\nf1 ~~ 1.2*f2\nf1 ~~ 1*f1\nf2 ~~ 1*f2"
    with pytest.warns(NotPositiveDefiniteWarning, match="latent variables is not positive definite"):
        surveykit.cfa(model, data)


def test_convergence_warning(monkeypatch):
    from surveykit.sem import estimate
    monkeypatch.setattr(estimate.MLEngine, "_fallback", lambda self, theta: None)
    real_fit = estimate.MLEngine.fit
    monkeypatch.setattr(estimate.MLEngine, "fit",
                        lambda self, start=None, **kw: real_fit(self, start, max_iter=2))
    with pytest.warns(ConvergenceWarning, match="did not converge after 2 iterations"):
        res = surveykit.cfa(HS, dataset("HolzingerSwineford1939"))
    assert not res.converged


def test_no_warning_for_a_clean_model():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        surveykit.cfa(HS, dataset("HolzingerSwineford1939"))


def test_bootstrap_option_is_seeded_and_feeds_the_table():
    pdem = dataset("PoliticalDemocracy")
    model = ("ind60 =~ x1 + x2 + x3\ndem60 =~ y1 + y2 + y3 + y4\ndem65 =~ y5 + y6 + y7 + y8\n"
             "dem60 ~ a*ind60\ndem65 ~ c*ind60 + b*dem60\nind := a*b")
    a = surveykit.sem(model, pdem, bootstrap=40, seed=7)
    b = surveykit.sem(model, pdem, bootstrap=40, seed=7)
    np.testing.assert_array_equal(a.bootstrap.draws, b.bootstrap.draws)
    est = a.estimates
    ind = est[est["op"] == ":="].iloc[0]
    draws = a.bootstrap.draws[:, -1]
    assert ind["se"] == pytest.approx(np.std(draws[np.isfinite(draws)], ddof=1))
    lo, hi = a.bootstrap.ci("perc")[-1]
    assert (ind["ci_lower"], ind["ci_upper"]) == (lo, hi)
    plain = fitted("pd_sem")
    assert "Bootstrap" in a.summary() and "Bootstrap" not in plain.summary()


def test_large_models_run_with_one_blas_thread():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from surveykit.sem.estimate import blas_single_thread
    with blas_single_thread():
        inside = [i["num_threads"] for i in threadpoolctl.threadpool_info()
                  if i["user_api"] == "blas"]
    assert inside and all(n == 1 for n in inside)
    # a 24-indicator, 6-factor model takes that path and converges
    rng = np.random.default_rng(11)
    f = rng.multivariate_normal(np.zeros(6), 0.3 + 0.7 * np.eye(6), size=300)
    data = pd.DataFrame({f"v{j}_{i}": 0.8 * f[:, j] + 0.6 * rng.normal(size=300)
                         for j in range(6) for i in range(4)})
    model = "\n".join(f"f{j} =~ " + " + ".join(f"v{j}_{i}" for i in range(4)) for j in range(6))
    res = surveykit.cfa(model, data)
    assert res.converged and res.fit["df"] == 24 * 25 // 2 - (18 + 24 + 21)


@pytest.mark.parametrize("case", ["hs_cfa", "hs_cfa_nonlinear_eq", "hs_cfa_inequality"])
def test_results_pickle(case):
    import pickle
    res = fitted(case)
    again = pickle.loads(pickle.dumps(res))
    np.testing.assert_array_equal(again.theta, res.theta)
    np.testing.assert_allclose(again.vcov, res.vcov)
    pd.testing.assert_frame_equal(again.estimates, res.estimates)
