"""The shipped SIMULATED examples import with no errors and match the simulator's truth
cell for cell, in both layouts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from surveykit.ingest import import_paths
from surveykit.store import open_store

NUMERIC = ("likert", "integer", "number", "year", "single")


def _compare(df: pd.DataFrame, truth: pd.DataFrame, cb) -> list[str]:
    got = df.set_index(cb.respondent_id, drop=False).loc[truth[cb.respondent_id]]
    bad = []
    for item in cb.items:
        for want, have in zip(truth[item.id].tolist(), got[item.id].tolist(), strict=True):
            if want == "":
                ok = have is None or have is pd.NA or (isinstance(have, float) and np.isnan(have))
            elif item.type in NUMERIC:
                ok = have is not pd.NA and have == have and float(want) == float(have)
            else:
                ok = str(have) == want
            if not ok:
                bad.append(f"{item.id}: truth {want!r}, imported {have!r}")
    return bad


@pytest.mark.parametrize("cid", ["ningbo_apparel", "yongkang_hardware"])
@pytest.mark.parametrize("layout", ["wide", "forms"])
def test_example_imports_exactly(tmp_path, root, cid, layout, request):
    cb = request.getfixturevalue("ningbo" if cid == "ningbo_apparel" else "yongkang")
    ex = root / "questionnaires" / "examples" / cid
    truth = pd.read_csv(ex / "truth.csv", dtype=str, keep_default_na=False)
    source = ex / f"{cid}_wide.xlsx" if layout == "wide" else ex / "forms"
    summary = import_paths([source], cb, tmp_path / "s.sqlite")
    assert summary.ok and summary.findings.get("error", 0) == 0, summary.summary()
    assert summary.rows == len(truth) and summary.quarantined == 0
    st = open_store(tmp_path / "s.sqlite")
    assert st.findings(severity="error").empty
    df = st.responses(cb, include_flagged=True)
    assert len(df) == len(truth)
    assert _compare(df, truth, cb) == []
    # the simulator's field noise went through the recode log, cell by cell
    rec = st.recodes()
    assert len(rec) > 0 and set(rec.rule) >= {"label", "fullwidth+numeric_string", "unit_suffix"}
    if layout == "forms":
        assert "tick" in set(rec.rule)
    st.close()


def test_two_clusters_in_one_store(tmp_path, root, ningbo, yongkang):
    ex = root / "questionnaires" / "examples"
    path = tmp_path / "s.sqlite"
    import_paths([ex / "ningbo_apparel" / "ningbo_apparel_wide.xlsx"], ningbo, path)
    import_paths([ex / "yongkang_hardware" / "yongkang_hardware_wide.xlsx"], yongkang, path)
    # the wrong questionnaire's workbook is refused by its marker, not mixed in
    wrong = import_paths([ex / "ningbo_apparel" / "ningbo_apparel_wide.xlsx"], yongkang, path)
    assert not wrong.ok and "made for questionnaire 'ningbo_apparel'" in next(
        iter(wrong.errors.values()))
    st = open_store(path)
    both = st.responses(include_flagged=True)
    assert both.groupby("cluster").size().to_dict() == {"ningbo_apparel": 300,
                                                        "yongkang_hardware": 250}
    assert set(both.questionnaire) == {"ningbo_apparel", "yongkang_hardware"}
    one = st.responses(yongkang, include_flagged=True)
    assert len(one) == 250 and list(one.columns[3:]) == [i.id for i in yongkang.items][1:]
    counts = {q["questionnaire"]: q["rows"] for q in st.counts()["questionnaires"]}
    assert counts == {"ningbo_apparel": 300, "yongkang_hardware": 250}
    st.close()
