import numpy as np
import pandas as pd
import pytest

import surveykit
from surveykit.errors import MeasurementError
from surveykit.measure import ItemStats, item_stats

from .conftest import arr

# Moments are closed forms; sums of 2800 cubed/fourth-power deviations keep
# about 13 significant digits.
MOMENTS = 1e-10


@pytest.mark.parametrize(("dataset", "group"), [("bfi", "gender"), ("hs", "school")])
def test_moments_match_psych_describe(request, ref, dataset, group):
    data = request.getfixturevalue(dataset)
    expected = ref[dataset]["describe"]
    res = item_stats(data, ref[dataset]["items"], group=group, scale=(1, 6))
    pooled = res.table.loc["(all)"]
    for key in ("n", "mean", "sd", "skew", "kurtosis"):
        np.testing.assert_allclose(pooled[key].to_numpy(), arr(expected[key]), rtol=0, atol=MOMENTS)
    for level, exp in expected["by_group"].items():
        key_level = int(level) if dataset == "bfi" else level
        sub = res.table.loc[key_level]
        for key in ("n", "mean", "sd", "skew", "kurtosis"):
            np.testing.assert_allclose(sub[key].to_numpy(), arr(exp[key]), rtol=0, atol=MOMENTS)


def test_shares_floor_ceiling_and_coverage():
    data = pd.DataFrame({"q1": [1, 1, 2, 5, np.nan, 3], "q2": [2, 2, 2, 3, 4, 4],
                         "cluster": ["a", "a", "a", "b", "b", "b"]})
    res = item_stats(data, ["q1", "q2"], group="cluster", scale=(1, 5))
    t = res.table
    assert t.loc[("(all)", "q1"), "n"] == 5 and t.loc[("(all)", "q1"), "missing"] == 1
    np.testing.assert_allclose(t.loc[("(all)", "q1"), ["p1", "p2", "p3", "p4", "p5"]].to_numpy(float),
                               [0.4, 0.2, 0.2, 0.0, 0.2])
    assert t.loc[("(all)", "q1"), "floor"] == pytest.approx(0.4)
    assert t.loc[("(all)", "q1"), "ceiling"] == pytest.approx(0.2)
    assert res.coverage.loc["q1", "a"] == "3, 4, 5"
    assert res.coverage.loc["q2", "b"] == "1, 2, 5"
    assert res.n_empty.loc["q1", "(all)"] == 1
    assert isinstance(res, ItemStats)
    text = str(res)
    assert "cluster = a" in text and "Empty answer categories per group" in text
    assert "<table" in res._repr_html_()


def test_default_items_exclude_group(hs):
    res = surveykit.item_stats(hs[["school", "x1", "x2"]], group="school", scale=(1, 10))
    assert sorted(res.table.index.get_level_values(1).unique()) == ["x1", "x2"]


def test_unknown_group_is_named(hs):
    with pytest.raises(MeasurementError, match=r"group \('cluster'\) is not a column of the data\."):
        item_stats(hs, ["x1", "x2"], group="cluster")
