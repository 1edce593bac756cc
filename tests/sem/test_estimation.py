"""ML estimates, standard errors, standardized solutions and fit measures against lavaan 0.6-14.

Reference: ``results/core_reference.R`` -> ``results/core_reference.json``.

Tolerances.  lavaan stops its optimiser (nlminb) when the relative change of
fmin falls below 1e-10, so its estimates sit up to ~1e-5 (a few units in the
sixth digit) from the exact optimum; surveykit converges to machine precision
and reaches an fmin never above lavaan's (``test_fmin_not_above_lavaan``).
Estimates are therefore compared at 2e-5 absolute, standard errors at 1e-5
(they move with the estimates, scaled down by sqrt(N)), standardized values at
2e-5, likelihood-based fit measures at 1e-6 relative (they are flat at the
optimum: a 1e-5 error in the estimates changes chi-square by ~1e-9), and the
residual-based RMR, SRMR and GFI family, which are not flat, at 1e-6 absolute.  The PoliticalDemocracy model
with shared labels is the one case where lavaan stopped noticeably early
(its chi-square exceeds surveykit's by 4e-8); there the estimates are compared
at 2e-4 and standard errors at 2e-5; in the second-order model with std.lv the
standard errors at 2e-5; with the nonlinear constraint l2*l6 == l3*l5 (which
lavaan meets only to 1e-7) the estimates at 5e-5; with the inequality
constraints (lavaan's constrained nlminb stops 7e-5 away) at 1e-4.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from ._core_reference import FIT_NAMES, core, finite, fitted, lavaan_table, merged

CASES = sorted(core())
LOOSE = {"pd_sem_shared": (2e-4, 2e-5), "hs_higher_order_stdlv": (2e-5, 2e-5),
         "hs_cfa_nonlinear_eq": (5e-5, 1e-5), "hs_cfa_inequality": (1e-4, 2e-5)}
# lavaan imposes nonlinear '==' by an augmented Lagrangian that leaves the
# constraints off by ~1e-7, which buys it a slightly lower fmin
NONLINEAR = {"hs_cfa_nonlinear_eq", "hs_cfa_nonlinear_eq2"}
RESIDUAL_BASED = {"rmr", "srmr", "gfi", "agfi", "pgfi"}


@pytest.mark.parametrize("case", CASES)
def test_estimates_and_standard_errors(case):
    m = merged(case)
    # labels, including lavaan's ".pN." names of parameters equal across groups
    theirs = m["label_r"].fillna("") if "label_r" in m else ""  # no column: no labels
    assert (m["label"].fillna("") == theirs).all()
    est_tol, se_tol = LOOSE.get(case, (2e-5, 1e-5))
    assert_allclose(*finite(m["est"], m["est_r"]), atol=est_tol, rtol=0)
    assert_allclose(*finite(m["se"], m["se_r"]), atol=se_tol, rtol=0)
    assert_allclose(*finite(m["ci_lower"], m["ci_lower_r"]), atol=est_tol + 2 * se_tol, rtol=0)
    assert_allclose(*finite(m["ci_upper"], m["ci_upper_r"]), atol=est_tol + 2 * se_tol, rtol=0)
    free = (m["se_r"] > 0).to_numpy()
    # z = est / se inherits both errors: |dz| <= |d est| / se + |z| |d se| / se
    se = m.loc[free, "se_r"].to_numpy()
    bound = est_tol / se + np.abs(m.loc[free, "z_r"].to_numpy()) * se_tol / se
    assert np.all(np.abs(m.loc[free, "z"].to_numpy() - m.loc[free, "z_r"].to_numpy()) <= bound)


@pytest.mark.parametrize("case", CASES)
def test_standardized_solution(case):
    m = merged(case)
    tol = LOOSE.get(case, (2e-5, 0))[0]
    rows = m["op"] != "=="  # lavaan's std columns of '==' rows are not standardized constraints
    assert_allclose(*finite(m.loc[rows, "std_lv"], m.loc[rows, "std_lv_r"]), atol=tol, rtol=0)
    assert_allclose(*finite(m.loc[rows, "std_all"], m.loc[rows, "std_all_r"]), atol=tol, rtol=0)


@pytest.mark.parametrize("case", CASES)
def test_fit_measures(case):
    ours, ref = fitted(case).fit, core()[case]["fit"]
    for key, name in FIT_NAMES.items():
        if key in RESIDUAL_BASED:
            # linear in the estimates, so they inherit lavaan's early stop
            assert_allclose(ours[key], ref[name], rtol=0, atol=5e-6 if case in LOOSE else 1e-6,
                            err_msg=key)
        elif key in ("rmsea_ci_low", "rmsea_ci_high"):
            # lavaan finds the noncentrality by uniroot() at its default tolerance
            # (eps^0.25 ~ 1.2e-4 on lambda), surveykit by brentq at 1e-12
            assert_allclose(ours[key], ref[name], rtol=0, atol=1e-6, err_msg=key)
        else:
            assert_allclose(ours[key], ref[name], rtol=1e-6, atol=1e-9, err_msg=key)
    assert ours["chisq_df"] == pytest.approx(ref["chisq"] / ref["df"], rel=1e-6)


@pytest.mark.parametrize("case", CASES)
def test_fmin_not_above_lavaan(case):
    res = fitted(case)
    assert res.converged
    if case in NONLINEAR:
        ours = res.estimates.query("op == '=='")["est"].abs().max()
        theirs = lavaan_table(case).query("op == '=='")["est"].abs().max()
        assert ours < 1e-10 < theirs
        assert res.solution.fmin <= core()[case]["fit"]["fmin"] + 1e-9
        return
    assert res.solution.fmin <= core()[case]["fit"]["fmin"] + 1e-12
    _, grad, _ = res.engine.evaluate(res.theta)
    _, N = res.engine.constraint_basis
    assert np.max(np.abs(N.T @ grad)) < 1e-8


@pytest.mark.parametrize("case", CASES)
def test_r_square(case):
    ours, ref = fitted(case).r2, core()[case]["r2"]
    tol = LOOSE.get(case, (2e-5, 0))[0]
    if isinstance(next(iter(ref.values())), dict):  # one dict per group
        for label, values in ref.items():
            col = ours[label]
            assert set(col.index) == set(values)
            assert_allclose([col[k] for k in values], list(values.values()), atol=tol)
    else:
        assert set(ours.index) == set(ref)
        assert_allclose([ours[k] for k in ref], list(ref.values()), atol=tol)


def test_hs1939_issue_figures():
    # the figures quoted in issue 5 (lavaan 0.6-14), rounded as quoted there
    f = fitted("hs_cfa").fit
    assert round(f["chisq"], 3) == 85.306 and f["df"] == 24
    assert round(f["cfi"], 4) == 0.9306 and round(f["tli"], 4) == 0.8958
    assert round(f["rmsea"], 4) == 0.0921
    assert (round(f["rmsea_ci_low"], 4), round(f["rmsea_ci_high"], 4)) == (0.0714, 0.1137)
    assert round(f["srmr"], 4) == 0.0652
    assert (round(f["aic"], 2), round(f["bic"], 2)) == (7517.49, 7595.34)


def test_implied_covariance():
    res = fitted("hs_cfa")
    assert_allclose(res.implied[0]["cov"].to_numpy(), np.array(core()["hs_cfa"]["implied_cov"]),
                    atol=2e-5)


def test_exact_optimum_against_lavaan_run_to_convergence():
    # lavaan refitted by BFGS at reltol = 1e-14 (core_reference.R, *_tight cases): in the
    # multigroup model the two optimisers then agree to 1e-7 in every estimate
    m = merged("hs_school_configural_tight")
    assert_allclose(*finite(m["est"], m["est_r"]), atol=1e-7, rtol=0)
    assert_allclose(*finite(m["se"], m["se_r"]), atol=1e-8, rtol=0)
    # in the PoliticalDemocracy model with shared labels lavaan's BFGS moves 1.2e-4
    # toward surveykit's solution; the remaining 1.5e-5 lies along a direction where
    # chi-square changes by 1.5e-10 (surveykit's is the lower)
    tight, default = core()["pd_sem_shared_tight"]["fit"], core()["pd_sem_shared"]["fit"]
    ours = fitted("pd_sem_shared_tight").fit["chisq"]
    assert ours <= tight["chisq"] <= default["chisq"]
    m = merged("pd_sem_shared_tight")
    assert_allclose(*finite(m["est"], m["est_r"]), atol=2e-5, rtol=0)
