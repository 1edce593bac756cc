"""Careless-responding indices against base R, and the checks' findings and policy."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from surveykit.errors import SurveykitError
from surveykit.validate.checks import (
    Row,
    antonym_consistency,
    antonym_pairs,
    check_rows,
    even_odd,
    longstring,
    mahalanobis_d2,
)
from surveykit.validate.findings import REASONS, ExclusionPolicy, Finding

RESULTS = Path(__file__).parent / "results"


@pytest.fixture(scope="module")
def ref():
    return json.loads((RESULTS / "careless_reference.json").read_text())


@pytest.fixture(scope="module")
def sample():
    meta = json.loads((RESULTS / "likert_sample_meta.json").read_text())
    x = pd.read_csv(RESULTS / "likert_sample.csv")[meta["items"]].to_numpy(float)
    return x, meta


def _nan(values):
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def test_longstring_matches_r(sample, ref):
    x, _ = sample
    # integer counts: exact
    assert longstring(x).tolist() == ref["longstring"]
    assert ref["longstring"][-2] == 44  # the planted straight-liner


def test_mahalanobis_matches_r(sample, ref):
    x, _ = sample
    # closed form on the same complete rows; differences are rounding only
    assert_allclose(mahalanobis_d2(x), _nan(ref["mahalanobis"]), rtol=1e-9, equal_nan=True)
    from scipy.special import chdtri

    assert_allclose(chdtri(x.shape[1], 0.001), ref["chisq_cut"], rtol=1e-12)


def test_even_odd_matches_r(sample, ref):
    x, meta = sample
    xs = x.copy()
    items = meta["items"]
    for it in meta["reverse"]:
        j = items.index(it)
        xs[:, j] = 6 - xs[:, j]
    blocks = [[items.index(i) for i in members] for members in meta["constructs"].values()]
    # a correlation and a closed-form correction: agreement to rounding
    assert_allclose(even_odd(xs, blocks, 5), _nan(ref["evenodd"]), rtol=1e-9, atol=1e-12,
                    equal_nan=True)


def test_antonym_pairs_and_index_match_r(sample, ref):
    x, meta = sample
    items = meta["items"]
    pairs = antonym_pairs(x, items, meta["constructs"], set(meta["reverse"]))
    assert [[items[a], items[b]] for a, b in pairs] == ref["antonym_pairs"]
    assert_allclose(antonym_consistency(x, pairs, 5), _nan(ref["antonym"]), rtol=1e-9,
                    atol=1e-12, equal_nan=True)


def test_too_few_pairs_gives_no_index():
    x = np.ones((4, 4))
    assert np.isnan(antonym_consistency(x, [(0, 1), (2, 3)], 3)).all()


def _rows(cb, records, file="t.xlsx"):
    items = [i.id for i in cb.items]
    return [Row(k + 1, r["firm_id"], items, [r.get(i) for i in items], file, "Data", k + 3)
            for k, r in enumerate(records)]


def test_check_rows_flags_planted_rows(cb, rows):
    recs = [dict(r) for r in rows]
    for iid in [i.id for i in cb.likert_items()]:
        recs[0][iid] = 4  # straight-liner
    recs[1]["LEARN4"] = 5
    recs[1]["LEARN1"] = recs[1]["LEARN2"] = recs[1]["LEARN3"] = 5  # agrees with item and reverse
    recs[2]["GVC1"] = recs[2]["GVC2"] = recs[2]["GVC3"] = None     # construct missing
    recs[3]["firm_id"] = recs[4]["firm_id"]                        # duplicate respondent
    found = check_rows(_rows(cb, recs), cb, ExclusionPolicy(min_pairs=3))
    by = {}
    for _, f in found:
        by.setdefault(f.code, set()).add(f.respondent)
        assert isinstance(f, Finding) and f.file == "t.xlsx" and f.sheet == "Data"
    assert recs[0]["firm_id"] in by["straight_lining"]
    assert recs[1]["firm_id"] in by["agree_with_reverse"]
    assert by["construct_missing"] == {recs[2]["firm_id"]}
    assert by["duplicate_respondent"] == {recs[4]["firm_id"]}
    assert "required_missing" not in by  # found cell by cell while reading, not here
    msg = next(f.message for _, f in found if f.code == "construct_missing")
    assert msg == f"t.xlsx: row 5, respondent {recs[2]['firm_id']}: 3 of 4 items of GVC are missing"


def test_policy_changes_severity_and_cutoffs(cb, rows):
    recs = [dict(r) for r in rows]
    for iid in [i.id for i in cb.likert_items()]:
        recs[0][iid] = 4
    strict = ExclusionPolicy(severity={"straight_lining": "error"}, longstring_max=20)
    found = check_rows(_rows(cb, recs), cb, strict)
    assert not [f for _, f in found if f.code == "straight_lining"]  # 16 < 20
    found = check_rows(_rows(cb, recs), cb, ExclusionPolicy(severity={"straight_lining": "error"}))
    sl = [f for _, f in found if f.code == "straight_lining"]
    assert sl and {f.severity for f in sl} == {"error"}


def test_policy_validation_and_round_trip():
    with pytest.raises(SurveykitError, match="policy: unknown reason code 'nope'"):
        ExclusionPolicy(severity={"nope": "error"})
    with pytest.raises(SurveykitError, match="policy: severity of 'mahalanobis' must be one of "
                                             "error, warning, info, not 'fatal'"):
        ExclusionPolicy(severity={"mahalanobis": "fatal"})
    with pytest.raises(SurveykitError, match=r"mahalanobis_alpha must lie in \(0, 1\), not 2"):
        ExclusionPolicy(mahalanobis_alpha=2)
    p = ExclusionPolicy(severity={"even_odd": "info"}, longstring_max=12)
    assert ExclusionPolicy.from_json(p.to_json()) == p
    assert p.severity_of("even_odd") == "info" and p.severity_of("mahalanobis") == "warning"


def test_reason_codes_are_documented():
    assert len(REASONS) == 24
    for code, reason in REASONS.items():
        assert reason.code == code and reason.severity in ("error", "warning", "info")
        assert reason.scope in ("file", "row", "cell") and len(reason.description) > 20


def test_finding_location():
    f = Finding("out_of_range", "error", "m", file="a.xlsx", sheet="Data", cell="G4",
                respondent="F1")
    assert f.location == "a.xlsx, sheet Data, cell G4, respondent F1"
    assert Finding("x", "info", "m", file="a.xlsx", row=7).location == "a.xlsx, row 7"


def test_sample_error_policy_quarantines_in_the_store(tmp_path, cb, rows):
    from corpus import write_wide

    from surveykit.ingest import import_paths
    from surveykit.store import open_store

    recs = [dict(r) for r in rows]
    for iid in [i.id for i in cb.likert_items()]:
        recs[0][iid] = 4
    path = tmp_path / "s.sqlite"
    s = import_paths([write_wide(tmp_path / "w.xlsx", cb, recs)], cb, path,
                     policy=ExclusionPolicy(severity={"straight_lining": "error"}))
    assert s.quarantined >= 1
    st = open_store(path)
    q = st.quarantine()
    assert recs[0]["firm_id"] in set(q.respondent) and "straight_lining" in set(q.reasons)
    assert recs[0]["firm_id"] not in set(st.responses(cb, include_flagged=True).firm_id)
    assert st.policy().severity == {"straight_lining": "error"}
    st.close()
