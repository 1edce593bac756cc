"""Multigroup models: invariance by school against lavaan and its chi-square difference tests."""

from __future__ import annotations

import json
from functools import cache

import numpy as np
import pytest
from numpy.testing import assert_allclose

import surveykit
from surveykit.errors import SurveykitError

from ._core_reference import LAVAAN, dataset, fitted

HS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


@cache
def lrt_reference() -> dict:
    return json.loads(LAVAAN.read_text(encoding="utf-8"))["cases"]["hs_school_lrt"]


def test_issue_figures_configural_metric_scalar():
    chisq = [fitted(f"hs_school_{k}").fit["chisq"] for k in ("configural", "metric", "scalar")]
    df = [fitted(f"hs_school_{k}").fit["df"] for k in ("configural", "metric", "scalar")]
    assert [round(c, 3) for c in chisq] == [115.851, 124.044, 164.103]
    assert df == [48, 54, 60]


def test_groups_in_order_of_appearance():
    res = fitted("hs_school_configural")
    assert res.group_labels == ("Pasteur", "Grant-White")
    assert list(res.r2.columns) == ["Pasteur", "Grant-White"]


def test_lrt_against_lavaan():
    # lavaan_reference.json: lavTestLRT(configural, metric) and the other pairs
    ref = lrt_reference()["metric_vs_configural"]
    test = surveykit.lrt(fitted("hs_school_configural"), fitted("hs_school_metric"))
    # chi-square differences inherit lavaan's 1e-8 stop on each chi-square
    assert test.statistic == pytest.approx(ref["Chisq diff"][1], abs=1e-6)
    assert test.df == ref["Df diff"][1]
    assert test.pvalue == pytest.approx(ref["Pr(>Chisq)"][1], abs=1e-7)
    text = str(test)
    assert text.splitlines()[0].startswith("H0: ")
    assert [line.split(":")[0] for line in text.splitlines()] == ["H0", "Statistic", "P-value",
                                                                   "Distributed"]
    assert "chi2(6)" in text
    # argument order does not matter
    assert surveykit.lrt(fitted("hs_school_metric"), fitted("hs_school_configural")).statistic \
        == test.statistic


def test_lrt_refuses_non_nested_or_different_data():
    with pytest.raises(SurveykitError, match="same degrees of freedom"):
        surveykit.lrt(fitted("hs_school_metric"), fitted("hs_school_metric"))
    with pytest.raises(SurveykitError, match=r"different numbers of cases \(301 and 75\)"):
        surveykit.lrt(fitted("hs_cfa"), fitted("pd_sem"))


def test_equal_parameters_are_equal_across_groups():
    est = fitted("hs_school_scalar").estimates
    for op in ("=~", "~1"):
        sub = est[(est["op"] == op) & est["lhs"].str.startswith("x") | (est["op"] == "=~")]
        wide = sub.pivot_table(index=["lhs", "op", "rhs"], columns="group", values="est")
        assert_allclose(wide[1], wide[2], rtol=0, atol=0)
    means = est[(est["op"] == "~1") & est["lhs"].isin(["visual", "textual", "speed"])]
    assert (means.loc[means["group"] == 1, "est"] == 0).all()
    assert (means.loc[means["group"] == 2, "se"] > 0).all()


def test_srmr_and_rmsea_use_lavaan_multigroup_rules():
    f = fitted("hs_school_configural").fit
    # RMSEA carries lavaan's sqrt(G) factor
    N, G = 301, 2
    assert f["rmsea"] == pytest.approx(np.sqrt(max(f["chisq"] / N / f["df"] - 1 / N, 0)) * np.sqrt(G))


def test_group_equal_needs_groups():
    with pytest.raises(SurveykitError, match=r"group_equal needs several groups \(give group=\)\."):
        surveykit.cfa(HS, dataset("HolzingerSwineford1939"), group_equal="loadings")
    with pytest.raises(SurveykitError, match=r"group \('schol'\) is not a column of the data\."):
        surveykit.cfa(HS, dataset("HolzingerSwineford1939"), group="schol")


def test_scaled_lrt_under_mlr_against_lavaan():
    # lavaan_reference.json: lavTestLRT(configural, metric), both estimator = "MLR"
    ref = json.loads(LAVAAN.read_text(encoding="utf-8"))["cases"]["hs_school_lrt_mlr"]["default"]
    hs = dataset("HolzingerSwineford1939")
    a = surveykit.cfa(HS, hs, group="school", estimator="MLR")
    b = surveykit.cfa(HS, hs, group="school", estimator="MLR", group_equal="loadings")
    test = surveykit.lrt(a, b)
    assert test.method == "satorra.bentler.2001"
    # the scaling factors inherit lavaan's early stop (~1e-6 each), and the difference
    # scaling c_d = (df0 c0 - df1 c1) / (df0 - df1) multiplies their error by ~df0 / 6
    assert test.statistic == pytest.approx(ref["Chisq diff"][1], abs=1e-4)
    assert test.pvalue == pytest.approx(ref["Pr(>Chisq)"][1], abs=1e-5)
    assert "Method: satorra.bentler.2001" in str(test)
    plain = surveykit.lrt(a, b, method="standard")
    assert plain.method == "standard" and plain.statistic == pytest.approx(
        b.fit["chisq"] - a.fit["chisq"])
