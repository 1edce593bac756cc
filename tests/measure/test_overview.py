import pandas as pd
import pytest

from surveykit.errors import MeasurementError
from surveykit.measure.overview import measurement_report, reverse_keyed


def test_report_has_every_table_per_group(hs, ref):
    h = ref["hs"]
    text = measurement_report(hs, h["constructs"], scale=(1, 10), group="school", n_iter=3)
    for heading in ("Item statistics", "Reliability", "Kaiser-Meyer-Olkin",
                    "Bartlett's test of sphericity", "Parallel analysis", "EFA: minres, oblimin",
                    "HTMT (arithmetic means)", "Harman's single-factor test",
                    "Construct means, standard deviations and correlations"):
        assert heading in text
    assert "all clusters (n = 301)" in text
    assert "school = Pasteur (n = 156)" in text and "school = Grant-White (n = 145)" in text
    assert text.count("Harman's single-factor test") == 3


def test_reverse_keyed_uses_each_items_scale():
    class Scale:
        min, max = 1, 7

    class Item:
        def __init__(self, id, reverse):
            self.id, self.reverse, self.scale = id, reverse, Scale()

    class Codebook:
        def likert_items(self):
            return [Item("a", True), Item("b", False)]

    data = pd.DataFrame({"a": [1.0, 7.0, None], "b": [1.0, 2.0, 3.0]})
    out = reverse_keyed(data, Codebook())
    assert out["a"].tolist()[:2] == [7.0, 1.0] and out["b"].tolist() == [1.0, 2.0, 3.0]
    assert data["a"].tolist()[:2] == [1.0, 7.0]


def test_report_without_matching_items(hs):
    with pytest.raises(MeasurementError, match=r"none of the constructs' items is a column of the data\."):
        measurement_report(hs, {"X": ["y1", "y2"]})
