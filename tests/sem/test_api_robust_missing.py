"""sem()/cfa() with estimator="MLR" and missing="ml" end to end, against lavaan_reference.json.

The robust and FIML computations themselves are tested in test_robust.py and
test_fiml.py; here the public API must route to them and return lavaan's
numbers.  Tolerances as in test_estimation.py (lavaan stops ~1e-5 from the
optimum): estimates 2e-5, standard errors 1e-5, chi-square 1e-6 relative;
scaled statistics 1e-5 relative (the scaling factor depends on the estimates).
"""

from __future__ import annotations

import json
from functools import cache

import pandas as pd
import pytest
from numpy.testing import assert_allclose

import surveykit

from ._core_reference import LAVAAN, dataset


@cache
def reference() -> dict:
    return json.loads(LAVAAN.read_text(encoding="utf-8"))["cases"]


CASES = {
    "hs_cfa_mlr": ("HolzingerSwineford1939", {"estimator": "MLR"}),
    "pd_sem_mlr": ("PoliticalDemocracy", {"estimator": "MLR"}),
    "hs_cfa_fiml": ("HolzingerSwineford1939_missing", {"missing": "ml"}),
    "hs_cfa_fiml_mlr": ("HolzingerSwineford1939_missing", {"missing": "ml", "estimator": "MLR"}),
    "hs_cfa_listwise": ("HolzingerSwineford1939_missing", {}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_public_api_matches_lavaan(case):
    name, kw = CASES[case]
    ref = reference()[case]
    res = surveykit.sem(ref["model"], dataset(name), **kw)
    lav = pd.DataFrame(ref["estimates"])
    lav["group"] = 1
    lav.loc[lav["op"].isin([":=", "=="]), "group"] = 0
    m = res.estimates.merge(lav, on=["lhs", "op", "rhs", "group"], suffixes=("", "_r"))
    assert len(m) == len(res.estimates) == len(lav)
    assert_allclose(m["est"], m["est_r"], atol=2e-5)
    assert_allclose(m["se"], m["se_r"], atol=1e-5)
    assert res.fit["chisq"] == pytest.approx(ref["fit"]["chisq"], rel=1e-6)
    assert res.fit["df"] == ref["fit"]["df"]
    if "chisq.scaled" in ref["fit"]:
        assert res.fit["chisq_scaled"] == pytest.approx(ref["fit"]["chisq.scaled"], rel=1e-5)
    assert res.fit["n"] == ref["fit"]["ntotal"]


@pytest.mark.parametrize("case", ["hs_cfa_mlr", "hs_cfa_fiml_mlr"])
def test_robust_rmsea_interval_keys_follow_the_ml_names(case):
    name, kw = CASES[case]
    ref = reference()[case]
    fit = surveykit.sem(ref["model"], dataset(name), **kw).fit
    assert not [k for k in fit if "ci_lower" in k or "ci_upper" in k]
    # lavaan solves the noncentral chi-square to ~1e-4 in the noncentrality (< 1e-6 here)
    assert_allclose([fit["rmsea_ci_low_robust"], fit["rmsea_ci_high_robust"]],
                    [ref["fit"]["rmsea.ci.lower.robust"], ref["fit"]["rmsea.ci.upper.robust"]],
                    rtol=0, atol=1e-6)
    assert fit["rmsea_ci_low_robust"] <= fit["rmsea_robust"] <= fit["rmsea_ci_high_robust"]
