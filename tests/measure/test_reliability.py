import numpy as np
import pandas as pd
import pytest

import surveykit
from surveykit.errors import MeasurementError, SurveykitError
from surveykit.measure import composite_scores, feldt_ci, reliability

from .conftest import arr

# alpha, standardised alpha, Feldt bounds, item-rest r and alpha-if-deleted are
# closed forms of the same covariance matrix psych uses: agreement to rounding.
CLOSED = 1e-10
# omega comes from an iterative one-factor minres fit; psych's optim() stops at
# its default tolerance, ours converges further: 1e-6 covers R's slack (the
# largest seen is 6.6e-7, where ours matches the closed form, see below).
OMEGA = 1e-6


def _check(table, expected, constructs):
    items = table.item_table
    for name in constructs:
        r = expected[name]
        row = table.loc[name]
        assert row["n"] == r["n_obs"]
        np.testing.assert_allclose(row["alpha"], r["alpha"], rtol=0, atol=CLOSED)
        np.testing.assert_allclose(row["alpha_std"], r["alpha_std"], rtol=0, atol=CLOSED)
        np.testing.assert_allclose(row["alpha_ci_low"], r["feldt_low"], rtol=0, atol=CLOSED)
        np.testing.assert_allclose(row["alpha_ci_high"], r["feldt_high"], rtol=0, atol=CLOSED)
        np.testing.assert_allclose(items.loc[name, "r_drop"], arr(r["r_drop"]), rtol=0, atol=CLOSED)
        np.testing.assert_allclose(items.loc[name, "alpha_if_deleted"], arr(r["alpha_drop"]),
                                   rtol=0, atol=CLOSED)
        np.testing.assert_allclose(row["omega"], r["omega_tot"], rtol=0, atol=OMEGA)


@pytest.mark.parametrize("missing", ["pairwise", "listwise"])
def test_bfi_matches_psych(bfi, ref, missing):
    b = ref["bfi"]
    table = reliability(bfi, b["constructs"], reverse=b["reverse"], scale=(1, 6), missing=missing)
    assert list(table.columns) == ["n_items", "n", "alpha", "alpha_ci_low", "alpha_ci_high",
                                   "alpha_std", "omega"]
    assert table.missing == missing
    _check(table, b[f"reliability_{missing}"], b["constructs"])


def test_holzinger_swineford_matches_psych(hs, ref):
    h = ref["hs"]
    table = surveykit.reliability(hs, h["constructs"])
    _check(table, h["reliability_pairwise"], h["constructs"])


def test_feldt_interval_is_pingouins_formula(bfi, ref):
    import pingouin
    items = ref["bfi"]["constructs"]["N"]
    a, (low, high) = pingouin.cronbach_alpha(bfi[items], nan_policy="listwise")
    table = reliability(bfi, {"N": items}, scale=(1, 6), missing="listwise")
    np.testing.assert_allclose(table.loc["N", "alpha"], a, rtol=0, atol=1e-12)
    # pingouin rounds its bounds to 3 decimals; the unrounded bounds lie within half a unit
    assert abs(table.loc["N", "alpha_ci_low"] - low) <= 5e-4 + 1e-12
    assert abs(table.loc["N", "alpha_ci_high"] - high) <= 5e-4 + 1e-12


def test_feldt_ci_brackets_alpha_and_narrows_with_n():
    lo1, hi1 = feldt_ci(0.8, 100, 5)
    lo2, hi2 = feldt_ci(0.8, 1000, 5)
    assert lo1 < lo2 < 0.8 < hi2 < hi1


def test_reverse_uses_scale_not_data(hs):
    data = pd.DataFrame({"a": [1, 2, 3, 4, 2], "b": [2, 2, 4, 4, 1], "c": [5, 4, 3, 2, 4]})
    flipped = data.assign(c=6 - data["c"])
    got = reliability(data, {"S": ["a", "b", "c"]}, reverse=["c"], scale=(1, 5))
    want = reliability(flipped, {"S": ["a", "b", "c"]})
    np.testing.assert_allclose(got["alpha"], want["alpha"], rtol=0, atol=1e-14)


def test_composites_match_r_half_rule(bfi, ref):
    b = ref["bfi"]
    scores = composite_scores(bfi, b["constructs"], reverse=b["reverse"], scale=(1, 6))
    expected = arr(b["composites"]["scores"])
    np.testing.assert_array_equal(np.isnan(scores.to_numpy()), np.isnan(expected))
    np.testing.assert_allclose(scores.to_numpy(), expected, rtol=0, atol=1e-12)


def test_composite_missing_rule():
    data = pd.DataFrame({"a": [1, np.nan, np.nan, 4], "b": [3, 3, np.nan, np.nan],
                         "c": [5, np.nan, np.nan, np.nan], "d": [1, np.nan, 2, 2]})
    s = composite_scores(data, {"S": ["a", "b", "c", "d"]})["S"]
    # 4 items: at least 2 answers needed
    np.testing.assert_allclose(s.to_numpy(), [2.5, np.nan, np.nan, 3.0])
    s_all = composite_scores(data, {"S": ["a", "b", "c", "d"]}, min_share=1.0)["S"]
    assert s_all.notna().tolist() == [True, False, False, False]


def test_errors_name_the_problem(bfi):
    with pytest.raises(MeasurementError, match=r"constructs\['X'\] names columns not in the data: Z1\."):
        reliability(bfi, {"X": ["A1", "Z1"]})
    with pytest.raises(SurveykitError, match=r"missing \('both'\) must be one of"):
        reliability(bfi, {"A": ["A1", "A2"]}, missing="both")
    with pytest.raises(MeasurementError, match=r"constructs\['A'\] must be a list of item columns"):
        reliability(bfi, {"A": "A1"})
    with pytest.raises(MeasurementError, match=r"min_share \(0\) must be in"):
        composite_scores(bfi, {"A": ["A1", "A2"]}, min_share=0)
    text = bfi.assign(A1=bfi["A1"].astype("string").fillna("n/a"))
    with pytest.raises(MeasurementError, match=r"column 'A1' holds the non-numeric answer 'n/a'"):
        reliability(text, {"A": ["A1", "A2"]})


def test_table_prints_and_combines(hs, ref):
    h = ref["hs"]
    whole = reliability(hs, h["constructs"])
    part = reliability(hs[hs["school"] == "Pasteur"], h["constructs"])
    both = pd.concat([whole, part], keys=["all", "Pasteur"])
    assert both.shape == (6, 7)
    assert list(whole.item_table.columns) == ["n", "mean", "sd", "r_drop", "alpha_if_deleted",
                                              "alpha_change"]
    text = whole.summary()
    assert "Reliability (pairwise)" in text and "alpha_if_deleted" in text
    assert "<table" in whole._repr_html_()
    assert isinstance(whole, pd.DataFrame)


def test_three_item_omega_is_the_closed_form(hs):
    # three indicators just-identify one factor: lambda_i^2 = r_ij r_ik / r_jk exactly,
    # so omega has a closed form; psych's optim() stops 6.6e-7 short of it for "speed"
    items = ["x7", "x8", "x9"]
    r = hs[items].corr().to_numpy()
    l2 = np.array([r[0, 1] * r[0, 2] / r[1, 2], r[0, 1] * r[1, 2] / r[0, 2],
                   r[0, 2] * r[1, 2] / r[0, 1]])
    exact = 1 - (1 - l2).sum() / r.sum()
    got = reliability(hs, {"speed": items}).loc["speed", "omega"]
    np.testing.assert_allclose(got, exact, rtol=0, atol=1e-10)
