"""Composite path analysis, moderation and mediation against R (lm + sandwich, systemfit)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from surveykit.analysis.composite import (
    Equation,
    exogenous_constructs,
    ols_hc3,
    structural_equations,
    sur,
    three_sls,
)
from surveykit.analysis.process import mediation, moderation

HERE = Path(__file__).parent
REF = json.loads((HERE / "results" / "composite_reference.json").read_text())
DATA = pd.read_csv(HERE / "data" / "ningbo_composites_simulated.csv")
EQUATIONS = [Equation(lhs, tuple(rhs)) for lhs, rhs in {
    "LEARN": ("POLICY", "LEADER", "GOVERN"), "INNOV": ("POLICY", "LEADER", "GOVERN"),
    "GVC": ("POLICY", "LEADER", "GOVERN"), "SOCAP": ("POLICY", "LEADER", "GOVERN"),
    "UP_TECH": ("LEARN", "GVC"), "UP_INNOV": ("INNOV", "LEARN"), "UP_LINK": ("GVC", "SOCAP"),
    "UP_SOCAP": ("SOCAP",)}.items()]


def ref_frame(key):
    return pd.DataFrame(REF[key]).set_index(["lhs", "rhs"])


def test_equations_come_from_the_model(gum_model):
    from surveykit import parse_model

    assert structural_equations(parse_model(gum_model)) == EQUATIONS
    assert exogenous_constructs(EQUATIONS) == ("POLICY", "LEADER", "GOVERN")


@pytest.mark.parametrize(("key", "fit"), [
    ("ols_hc3", lambda: ols_hc3(DATA, EQUATIONS)),
    ("sur", lambda: sur(DATA, EQUATIONS)),
    ("three_sls", lambda: three_sls(DATA, EQUATIONS, ("POLICY", "LEADER", "GOVERN"))),
])
def test_paths_match_r(key, fit):
    ours = fit().set_index(["lhs", "rhs"])
    ref = ref_frame(key).loc[ours.index]
    # closed-form estimators: agreement to rounding of the double-precision linear algebra
    assert_allclose(ours["est"], ref["est"], rtol=0, atol=1e-9)
    assert_allclose(ours["se"], ref["se"], rtol=1e-7, atol=0)
    assert_allclose(ours["pvalue"], ref["pvalue"], rtol=1e-6, atol=1e-12)


def test_moderation_matches_r():
    ref = REF["moderation"]
    res = moderation(DATA, "UP_TECH", "LEARN", "GOVERN", covariates=["GVC"])
    assert res.n == REF["n"]
    assert_allclose(res.interaction, ref["interaction"], atol=1e-10)
    assert_allclose(res.interaction_se, ref["interaction_se"], rtol=1e-8)
    assert_allclose(res.interaction_pvalue, ref["interaction_pvalue"], rtol=1e-7)
    assert_allclose(res.r2_change, ref["r2_change"], rtol=1e-6, atol=1e-12)
    slopes = pd.DataFrame(ref["slopes"])
    assert_allclose(res.slopes["w"], slopes["w"], rtol=1e-10)
    assert_allclose(res.slopes["effect"], slopes["effect"], atol=1e-10)
    assert_allclose(res.slopes["se"], slopes["se"], rtol=1e-8)
    assert_allclose(res.slopes["pvalue"], slopes["pvalue"], rtol=1e-6)
    assert_allclose(res.jn_roots, ref["jn_raw"], rtol=1e-7)
    lo, hi = res.w_range
    assert res.jn_points == tuple(r for r in res.jn_roots if lo <= r <= hi)


def test_johnson_neyman_point_is_where_significance_changes():
    rng = np.random.default_rng(3)
    n = 400
    w = rng.normal(size=n)
    x = rng.normal(size=n)
    y = 0.2 * x + 0.3 * x * w + rng.normal(size=n)
    res = moderation(pd.DataFrame({"y": y, "x": x, "w": w}), "y", "x", "w")
    assert res.jn_points
    import statsmodels.formula.api as smf

    for point in res.jn_points:
        # shifting w by the JN point makes b1 the conditional effect there: its p-value is alpha
        fit = smf.ols("y ~ x * w", pd.DataFrame({"y": y, "x": x, "w": w - point})).fit()
        assert fit.pvalues["x"] == pytest.approx(0.05, abs=1e-9)


def test_mediation_matches_r():
    ref = REF["mediation"]
    res = mediation(DATA, "POLICY", "LEARN", "UP_TECH", n_boot=5000, seed=11)
    assert_allclose([res.a, res.b, res.direct, res.indirect], [ref["a"], ref["b"], ref["direct"],
                                                              ref["indirect"]], atol=1e-10)
    assert_allclose(res.total, ref["direct"] + ref["indirect"], atol=1e-10)
    # percentile endpoints: R used 40,000 draws; the Monte Carlo SE of a 2.5% quantile with 5,000
    # draws is about sqrt(.025*.975/5000)/dnorm(1.96) * sd ≈ 0.038 sd; allow 4 of those
    tol = 4 * 0.038 * ref["boot_sd"] * 1.5
    assert abs(res.ci_lower - ref["ci_lower"]) < tol
    assert abs(res.ci_upper - ref["ci_upper"]) < tol
    assert res.significant


def test_mediation_is_reproducible_per_seed():
    a = mediation(DATA, "LEADER", "GVC", "UP_LINK", n_boot=500, seed=5)
    b = mediation(DATA, "LEADER", "GVC", "UP_LINK", n_boot=500, seed=5)
    c = mediation(DATA, "LEADER", "GVC", "UP_LINK", n_boot=500, seed=6)
    assert (a.ci_lower, a.ci_upper) == (b.ci_lower, b.ci_upper)
    assert (a.ci_lower, a.ci_upper) != (c.ci_lower, c.ci_upper)


def test_errors_name_the_problem():
    from surveykit.errors import SurveykitError

    with pytest.raises(SurveykitError, match="no column"):
        moderation(DATA, "UP_TECH", "LEARN", "NOPE")
    with pytest.raises(SurveykitError, match=r"n_boot \(10\) must be at least 100"):
        mediation(DATA, "POLICY", "LEARN", "UP_TECH", n_boot=10)
