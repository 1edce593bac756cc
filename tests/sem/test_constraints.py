"""Shared labels, ``==`` constraints and ``:=`` defined parameters (against lavaan where it applies)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import surveykit
from surveykit.errors import ModelSyntaxError

from ._core_reference import dataset, fitted, merged

HS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


def test_shared_labels_give_identical_estimates_and_errors():
    est = fitted("pd_sem_shared").estimates.set_index(["lhs", "op", "rhs"])
    for a, b in [("y2", "y6"), ("y3", "y7"), ("y4", "y8")]:
        ra, rb = est.loc[("dem60", "=~", a)], est.loc[("dem65", "=~", b)]
        assert ra["est"] == rb["est"] and ra["se"] == rb["se"] and ra["label"] == rb["label"]


def test_defined_parameters_delta_method_against_lavaan():
    # ind := p1*p3, total := p2 + ind, ratio := p1^2/exp(p3) (results/core_reference.R)
    ours = fitted("pd_sem_shared").estimates
    assert list(ours.loc[ours["op"] == ":=", "lhs"]) == ["ind", "total", "ratio"]
    m = merged("pd_sem_shared")
    d = m[m["op"] == ":="]
    # lavaan's estimates stop early in this case (see test_estimation.py): 2e-4 / 2e-5
    assert_allclose(d["est"], d["est_r"], atol=2e-4)
    assert_allclose(d["se"], d["se_r"], atol=2e-5)
    assert_allclose(d["std_all"], d["std_all_r"], atol=2e-4)


def test_linear_equality_constraints_against_lavaan():
    m = merged("hs_cfa_linear_eq")
    est = m.set_index(["lhs", "op", "rhs"])["est"]
    l2, l3 = est[("visual", "=~", "x2")], est[("visual", "=~", "x3")]
    l5, l6 = est[("textual", "=~", "x5")], est[("textual", "=~", "x6")]
    assert l2 == pytest.approx(2 * l3 - 1, abs=1e-12)
    assert l5 + l6 == pytest.approx(2.2, abs=1e-12)
    eq = m[m["op"] == "=="]
    assert_allclose(eq["est"], 0.0, atol=1e-12)
    assert (eq["se"] == 0).all()
    res = fitted("hs_cfa_linear_eq")
    assert res.npar == 19 and res.fit["df"] == 26


def test_nonlinear_equality_constraints():
    # l2*l6 == l3*l5 and l2 == l3^2 (core_reference.R); estimates against lavaan in
    # test_estimation.py, here the constraint itself and the tangent-space errors
    for case in ("hs_cfa_nonlinear_eq", "hs_cfa_nonlinear_eq2"):
        res = fitted(case)
        est = res.estimates.set_index(["lhs", "op", "rhs"])["est"]
        l2, l3 = est[("visual", "=~", "x2")], est[("visual", "=~", "x3")]
        if case.endswith("2"):
            assert l2 == pytest.approx(l3 ** 2, abs=1e-12)
        else:
            l5, l6 = est[("textual", "=~", "x5")], est[("textual", "=~", "x6")]
            assert l2 * l6 == pytest.approx(l3 * l5, abs=1e-12)
        assert res.npar == 20 and res.fit["df"] == 25
        # the errors live in the tangent space: the constraint's gradient direction
        # has zero variance
        theta0, N = res.engine.constraint_basis
        C = res.engine.ceq
        assert C.shape == (1, res.engine.q)
        assert_allclose(C @ res.vcov @ C.T, 0.0, atol=1e-14)


def test_unknown_label_in_defined_parameter():
    with pytest.raises(ModelSyntaxError,
                       match=r"^line 4: 'zz' in 'a\*zz' is not a parameter label\.$"):
        surveykit.cfa(HS.replace("x1 + x2", "x1 + a*x2") + "\nab := a*zz",
                      dataset("HolzingerSwineford1939"))


def test_forbidden_expression():
    with pytest.raises(ModelSyntaxError, match="calls an unknown function"):
        surveykit.cfa(HS.replace("x1 + x2", "x1 + a*x2") + "\nab := system(a)",
                      dataset("HolzingerSwineford1939"))


def test_defined_jacobian_matches_finite_differences():
    res = fitted("pd_sem_shared")
    eng = res.engine
    J = eng.defined_jacobian(res.theta)
    h = 1e-6
    for k in range(eng.q):
        e = np.zeros(eng.q)
        e[k] = h
        num = (eng.defined(res.theta + e) - eng.defined(res.theta - e)) / (2 * h)
        assert_allclose(J[:, k], num, atol=1e-7)


def test_equal_labels_across_groups_without_group_equal():
    hs = dataset("HolzingerSwineford1939")
    res = surveykit.cfa("visual =~ x1 + a*x2 + x3", hs, group="school")
    est = res.estimates
    rows = est[(est["lhs"] == "visual") & (est["rhs"] == "x2")]
    assert rows["est"].nunique() == 1 and rows["se"].nunique() == 1
    assert isinstance(rows, pd.DataFrame) and len(rows) == 2


def test_inequality_constraints_active_and_inactive():
    # l2 > 0.6 binds (unconstrained 0.554), l3 > 0.1 does not (core_reference.R)
    res = fitted("hs_cfa_inequality")
    est = res.estimates.set_index(["lhs", "op", "rhs"])
    assert est.loc[("visual", "=~", "x2"), "est"] == pytest.approx(0.6, abs=1e-10)
    assert np.isnan(est.loc[("visual", "=~", "x2"), "se"])      # at the bound: NA, as lavaan
    assert est.loc[("l2", ">", "0.6"), "est"] == pytest.approx(0.0, abs=1e-10)
    assert est.loc[("l3", ">", "0.1"), "est"] > 0.5
    # inequalities do not change the degrees of freedom (lavaan: npar 21, df 24)
    assert res.npar == 21 and res.fit["df"] == 24
    assert "Inequality constraints:" in res.summary()
