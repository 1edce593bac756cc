"""The analytic Hessian of the ML fit function against central differences of its gradient."""

from __future__ import annotations

import numpy as np
import pytest

from ._core_reference import fitted


@pytest.mark.parametrize("case", ["hs_cfa", "pd_sem", "hs_cfa_means", "hs_school_scalar",
                                  "hs_path", "hs_covariates", "hs_higher_order",
                                  "hs_mimic_means", "pd_sem_shared"])
def test_hessian_matches_differences_of_the_gradient(case):
    res = fitted(case)
    eng = res.engine
    # away from the optimum, where the residual terms of the Hessian matter
    theta = res.theta + 0.05 * np.random.default_rng(0).normal(size=eng.q)
    H = eng.hessian(theta)
    h = 1e-6
    num = np.empty_like(H)
    for k in range(eng.q):
        e = np.zeros(eng.q)
        e[k] = h
        num[:, k] = (eng.evaluate(theta + e, information=False)[1]
                     - eng.evaluate(theta - e, information=False)[1]) / (2 * h)
    # central differences carry O(h^2) truncation and O(eps/h) rounding error
    np.testing.assert_allclose(H, num, atol=1e-6 * max(1.0, np.abs(num).max()), rtol=0)
    np.testing.assert_allclose(H, H.T, atol=1e-12)


def test_hessian_at_the_optimum_is_close_to_twice_the_information():
    res = fitted("hs_cfa")
    eng = res.engine
    H = eng.hessian(res.theta)
    fisher = 2.0 * eng.information(res.theta) / eng.stats.ntotal
    # they differ by terms linear in the residuals S - Sigma (chi2/N = 0.28 here)
    assert np.abs(H - fisher).max() < 0.2 * np.abs(fisher).max()
    assert np.linalg.eigvalsh(H).min() > 0
