"""FIML (``missing="ml"``): likelihood by missing-data pattern, EM h1 moments, observed-information SEs.

Checked against lavaan 0.6-14 on HolzingerSwineford1939 with ~10% of the
x1..x9 cells set missing completely at random (seeded; see
tests/sem/results/lavaan_reference.R), through a RAM model built from
lavaan's parameter table (tests/sem/_partable_model.py).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from numpy.testing import assert_allclose

from surveykit.sem.fiml import Patterns, em_moments, fiml, fiml_loglik

from ._partable_model import PartableModel, case, dataset, table

OV = [f"x{i}" for i in range(1, 10)]


def _model(name):
    return PartableModel(table(name), OV, meanstructure=True)


def _data():
    return dataset("HolzingerSwineford1939_missing")[OV].to_numpy(float)


def _lavaan_x(model):
    x = np.zeros(model.q)
    sel = model.row_param >= 0
    x[model.row_param[sel]] = model.rows["est"][sel]
    return x


@pytest.fixture(scope="module")
def fitted():
    model = _model("hs_cfa_fiml")
    # start away from lavaan's solution so that the optimiser does the work
    return model, fiml(model, [_data()], df=24, x0=_lavaan_x(model) + 0.05, robust=True)


def test_dataset_matches_its_documentation():
    c = case("hs_cfa_fiml")
    X = _data()
    assert np.isnan(X).sum() == c["n_missing_cells"] == 257
    assert len(Patterns.from_data(X).patterns) == c["n_patterns"]


def test_em_moments_match_lavaan():
    c = case("hs_cfa_fiml")
    mu, sigma, _ = em_moments(Patterns.from_data(_data()))
    # same start values and stopping rule (max change < 1e-5) as lavaan, so the
    # iterates agree up to rounding; 1e-6 bounds the accumulated difference.
    assert_allclose(mu, c["h1"]["mean"], rtol=0, atol=1e-6)
    assert_allclose(sigma, c["h1"]["cov"], rtol=0, atol=1e-6)


def test_estimates_match_lavaan(fitted):
    model, res = fitted
    # lavaan stops nlminb at a relative objective change of 1e-10 (its
    # estimates sit ~1e-6 from the optimum here); ours are Newton-polished.
    assert_allclose(res.x, _lavaan_x(model), rtol=0, atol=1e-5)
    assert res.converged


def test_observed_information_se_match_lavaan(fitted):
    model, res = fitted
    sel = model.row_param >= 0
    # numerical Hessian of the analytic gradient on both sides; the estimate
    # difference above moves the SEs by ~1e-6.  Budget for SEs: 1e-4.
    assert_allclose(res.se[model.row_param[sel]], model.rows["se"][sel].to_numpy(), rtol=0, atol=1e-5)


def test_mlr_fiml_se_match_lavaan(fitted):
    model, res = fitted
    ref = _model("hs_cfa_fiml_mlr")
    sel = ref.row_param >= 0
    assert_allclose(res.se_robust[ref.row_param[sel]], ref.rows["se"][sel].to_numpy(), rtol=0, atol=1e-5)


@pytest.mark.parametrize("key", ["chisq", "logl", "unrestricted.logl", "baseline.chisq", "cfi",
                                 "tli", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper", "aic",
                                 "bic", "bic2", "npar", "pvalue", "nfi", "rfi", "ifi", "rni",
                                 "pnfi", "srmr", "rmr"])
def test_fit_measures_match_lavaan(fitted, key):
    _, res = fitted
    # log-likelihoods are flat at the optimum: a 1e-6 estimate difference
    # changes them by ~1e-10; the EM h1 follows lavaan's rule exactly.
    assert_allclose(res.fit_measures()[key.replace(".", "_")], case("hs_cfa_fiml")["fit"][key],
                    rtol=1e-8, atol=1e-7)


def test_complete_data_likelihood_is_the_normal_likelihood():
    from scipy.stats import multivariate_normal

    X = dataset("HolzingerSwineford1939")[OV].to_numpy(float)
    mu, S = X.mean(axis=0), np.cov(X, rowvar=False, bias=True)
    pats = Patterns.from_data(X)
    assert len(pats.patterns) == 1
    assert_allclose(fiml_loglik(pats, mu, S), multivariate_normal(mu, S).logpdf(X).sum(), rtol=1e-12)
    # EM on complete data stops after one step at the sample moments
    m1, s1, it = em_moments(pats)
    assert_allclose(m1, mu, atol=1e-12)
    assert it <= 2
    assert_allclose(s1, S, atol=1e-12)


def test_rows_without_answers_are_dropped():
    X = _data().copy()
    X[0] = np.nan
    pats = Patterns.from_data(X)
    assert pats.n == X.shape[0] - 1
    assert sum(p.n for p in pats.patterns) == pats.n


def test_yuan_bentler_scaling_under_fiml_matches_lavaan(fitted):
    _, res = fitted
    f = case("hs_cfa_fiml_mlr")["fit"]
    fm = res.fit_measures()
    # At lavaan's own estimates the factor agrees to 1e-9; at our optimum (~7e-7
    # from lavaan's, which stops early) it moves by ~4e-7 relative: 2e-6.
    assert_allclose(fm["chisq_scaling_factor"], f["chisq.scaling.factor"], rtol=2e-6)
    assert_allclose(fm["chisq_scaled"], f["chisq.scaled"], rtol=2e-6)
    assert_allclose(fm["pvalue_scaled"], f["pvalue.scaled"], rtol=0, atol=1e-6)


def test_fiml_on_surveykit_engine():
    from surveykit.sem.estimate import MLEngine, sample_stats
    from surveykit.sem.fiml import fiml_from_engine
    from surveykit.sem.partable import build_partable
    from surveykit.sem.syntax import parse_model

    c = case("hs_cfa_fiml")
    d = dataset("HolzingerSwineford1939_missing")
    pt = build_partable(parse_model(c["model"]), data_names=list(d.columns), meanstructure=True)
    X = d[pt.ov_names].to_numpy(float)
    engine = MLEngine(pt, sample_stats([X[~np.isnan(X).any(axis=1)]]))  # listwise start
    res = fiml_from_engine(engine, engine.fit().theta, [X], df=24)
    # tolerances as in the tests above (lavaan's optimum is ~1e-6 off)
    assert_allclose(res.fit_measures()["chisq"], c["fit"]["chisq"], rtol=1e-8)
    est = engine.x_of(res.x)
    ref = table("hs_cfa_fiml").set_index(["lhs", "op", "rhs"])
    got = np.array([est[i] for i in range(len(pt.lhs))])
    want = np.array([ref.loc[(pt.lhs[i], pt.op[i], pt.rhs[i]), "est"] for i in range(len(pt.lhs))])
    assert_allclose(got, want, rtol=0, atol=1e-5)
    with pytest.raises(ValueError, match="mean structure"):
        pt2 = build_partable(parse_model(c["model"]), data_names=list(d.columns))
        fiml_from_engine(MLEngine(pt2, engine.stats), engine.fit().theta[:21], [X], df=24)


@pytest.fixture(scope="module")
def fitted_ml(fitted):
    model, res = fitted
    return fiml(model, [_data()], df=24, x0=res.x, optimize=False)  # plain ML: "V6"


@pytest.mark.parametrize("name", ["hs_cfa_fiml", "hs_cfa_fiml_mlr"])
@pytest.mark.parametrize("key", ["cfi.robust", "tli.robust", "rmsea.robust", "rmsea.ci.lower.robust",
                                 "rmsea.ci.upper.robust", "rmsea.pvalue.robust"])
def test_fiml_corrected_robust_indices(fitted, fitted_ml, name, key):
    res = fitted_ml if name == "hs_cfa_fiml" else fitted[1]
    # FIML-corrected statistics (V3 under MLR, V6 under ML): at lavaan's own
    # estimates they agree to ~4e-8; at our optimum (~7e-7 away) within 1e-6
    assert_allclose(res.fit_measures()[key.replace(".", "_")], case(name)["fit"][key],
                    rtol=0, atol=1e-6)
    assert res.corrected["version"] == ("V3" if name.endswith("mlr") else "V6")


def test_result_object_smoke(fitted):
    model, res = fitted
    assert res.se.shape == res.se_robust.shape == (model.q,)
    assert res.n == 301 and res.n_groups == 1 and res.npar == 30 and res.converged
    assert len(res.h1) == 1 and res.h1[0][1].shape == (9, 9)
    assert res.scaling_factor == pytest.approx(res.trace_ugamma / 24)
    text = res.summary()
    assert "Loglikelihood (H1, EM)" in text and "scaled" in text
    assert res._repr_html_().startswith("<pre>")
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.df = 3


def test_equality_constraints_and_shared_labels_agree_under_fiml():
    # The same restriction written as == constraints (solved on the feasible
    # affine set) and as shared labels (one parameter) must give the same FIML
    # solution; there is no lavaan run of this incomplete PoliticalDemocracy.
    import pandas as pd

    import surveykit

    d = dataset("PoliticalDemocracy")
    X = d.to_numpy(float).copy()
    X[np.random.default_rng(1).random(X.shape) < 0.08] = np.nan
    dm = pd.DataFrame(X, columns=d.columns)
    a = surveykit.sem(case("pd_sem_eqcon")["model"], dm, missing="ml")
    b = surveykit.sem(case("pd_sem_shared")["model"], dm, missing="ml")
    assert a.engine.ceq.shape[0] == 3 and b.engine.ceq.shape[0] == 0
    assert_allclose(a.fit["chisq"], b.fit["chisq"], rtol=1e-9)
    assert a.fit["df"] == b.fit["df"] == 38
    m = a.estimates.merge(b.estimates, on=["lhs", "op", "rhs", "group"])
    m = m[m["op"] != "=="]
    assert_allclose(m["est_x"], m["est_y"], atol=1e-8)
    # SEs: constrained inverse vs reduced parameterisation, numerical Hessians
    assert_allclose(m["se_x"], m["se_y"], atol=1e-6)


def test_fixed_covariates_are_refused():
    import surveykit
    from surveykit.errors import SurveykitError

    model = """visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
visual ~ sex + ageyr"""
    with pytest.raises(SurveykitError, match="observed exogenous covariates"):
        surveykit.sem(model, dataset("HolzingerSwineford1939_missing"), missing="ml")
