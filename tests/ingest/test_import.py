"""Import of a corpus of messy and broken workbooks, all built by code in corpus.py.

One import of one folder exercises every reason code: the bad files are
reported, and the good files still go in.
"""

from __future__ import annotations

import copy
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from corpus import clean_rows, make_codebook, write_csv, write_form, write_ods, write_wide

from surveykit.ingest import import_paths, read_file
from surveykit.store import open_store
from surveykit.validate.findings import REASONS, ExclusionPolicy

# even-odd and antonyms need several constructs; the test questionnaire has four
POLICY = ExclusionPolicy(min_pairs=3)


def _likert(cb, value):
    return {i.id: value for i in cb.likert_items()}


def build_corpus(folder: Path, cb) -> dict[str, Path]:
    """Write the corpus; return the notable files by role."""
    folder.mkdir(parents=True, exist_ok=True)
    # 120 firms: with n rows, D^2 cannot exceed (n - 1)^2 / n, so a small sample hides outliers
    base = clean_rows(cb, 120, seed=7)
    rows = copy.deepcopy(base)
    # row 3 = F0001 ... row 42 = F0040 in the wide sheet
    rows[0].update({"LEARN1": "５", "LEARN2": "還算同意", "LEARN3": "4分", "INNOV1": "Strongly agree",
                    "ownership": "民营", "channels": "3，1", "founded": "２０１０年"})
    rows[1].update({"LEARN1": "abc"})                        # non_numeric
    rows[2].update({"INNOV2": 7})                            # out_of_range
    rows[3].update({"ownership": 9})                         # invalid_option
    rows[4].update({"LEARN2": None})                         # required_missing
    rows[5].update({"INNOV1": None, "INNOV2": "空", "INNOV3": "N/A"})  # construct_missing
    rows[6].update(_likert(cb, 3))                           # straight_lining
    rows[7]["firm_id"] = None                                # missing_respondent_id
    rows[8]["firm_id"] = "F0010"                             # duplicate_respondent (with F0010)
    # even-odd: odd halves high where even halves are low, alternating over constructs
    eo = {}
    for k, con in enumerate(cb.constructs.values()):
        hi, lo = (5, 1) if k % 2 == 0 else (1, 5)
        for n, iid in enumerate(con.items):
            score = hi if n % 2 == 0 else lo
            eo[iid] = 6 - score if cb.item(iid).reverse else score
    rows[10].update(eo)
    # antonyms and agreeing with an item and its reverse: each reverse item moves with its construct
    an = {}
    for k, con in enumerate(cb.constructs.values()):
        for iid in con.items:
            an[iid] = 5 if k % 2 == 0 else 1
    rows[11].update(an)
    # a Mahalanobis outlier: the constructs' items pull in opposite directions
    rows[12].update({iid: (5 if n % 2 else 1) for con in cb.constructs.values()
                     for n, iid in enumerate(con.items)})
    rows[13]["SOCAP2"] = 99                                  # item-level missing code
    wide = write_wide(folder / "wide.xlsx", cb, rows)
    # forms: one clean, one duplicate of a wide firm, one with ticks and problems
    forms = {}
    forms["ticked"] = write_form(folder / "form_ticked.xlsx", cb, {**base[20], "firm_id": "G0001"},
                                 ticks={"LEARN1": (1, "√"), "LEARN2": (4, "✔"), "GVC1": (0, "■")})
    forms["multi"] = write_form(folder / "form_multi.xlsx", cb, {**base[21], "firm_id": "G0002"},
                                ticks={"LEARN3": [(0, "√"), (3, "√")]})
    forms["conflict"] = write_form(folder / "form_conflict.xlsx", cb,
                                   {**base[22], "firm_id": "G0003", "GVC2": 2},
                                   ticks={}, extra={})
    # write D=2 and tick box 5 for GVC2
    wb = openpyxl.load_workbook(forms["conflict"])
    ws = wb["Questionnaire"]
    for r in range(1, ws.max_row + 1):
        if ws.cell(r, 1).value == "GVC2":
            ws.cell(r, 9).value = "√"
    wb.save(forms["conflict"])
    forms["dup"] = write_form(folder / "form_dup.xlsx", cb, base[30])  # F0031 again, identical
    # file-level problems
    bad = {}
    other = make_codebook("other_q")
    bad["mismatch"] = write_wide(folder / "other_questionnaire.xlsx", other, base[:2])
    old = make_codebook(version="0.9", sha="1" * 64)
    bad["old"] = write_wide(folder / "old_version.xlsx", old,
                            [{**r, "firm_id": f"V{n}"} for n, r in enumerate(base[:3])])
    ids = [i.id for i in cb.items]
    bad["noid"] = write_wide(folder / "no_id_column.xlsx", cb, base[:2],
                             headers=["联系人"] + ids[1:], text_row=False)
    cols = write_wide(folder / "columns.xlsx", cb, [{**r, "firm_id": f"C{n}"}
                                                    for n, r in enumerate(base[:3])],
                      headers=[*ids[:-1], "LEARN1"], marker=False)
    wb = openpyxl.load_workbook(cols)
    ws = wb["Data"]
    ws.delete_cols(ids.index("LEARN3") + 1)                  # missing_column
    ws.cell(1, ws.max_column + 1).value = "备注二"             # unknown_column
    ws.merge_cells(start_row=3, start_column=3, end_row=4, end_column=3)  # merged answer cells
    wb.save(cols)
    bad["columns"] = cols
    wb = openpyxl.Workbook()
    wb.active.append(["姓名", "电话"])
    wb.active.append(["张三", "123"])
    wb.save(folder / "unrelated.xlsx")                         # layout_unknown
    (folder / "not_a_zip.xlsx").write_bytes(b"this is not a workbook")
    data = wide.read_bytes()
    (folder / "truncated.xlsx").write_bytes(data[: len(data) // 2])
    (folder / "encrypted.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    (folder / "empty.xlsx").write_bytes(b"")
    # readable other formats
    write_csv(folder / "gbk.csv", cb, [{**r, "firm_id": f"K{n}", "ownership": "民营"}
                                       for n, r in enumerate(base[:3])], encoding="gbk")
    write_csv(folder / "bom.csv", cb, [{**r, "firm_id": f"B{n}", "LEARN1": "非常同意"}
                                       for n, r in enumerate(base[:3])], encoding="utf-8-sig",
              sep=";")
    write_ods(folder / "sheet.ods", [ids] + [[{**r, "firm_id": f"D{n}"}.get(i) for i in ids]
                                            for n, r in enumerate(base[:3])])
    (folder / "~$wide.xlsx").write_bytes(b"lock file of Excel")  # skipped, not an error
    return {"wide": wide, **forms, **bad}


@pytest.fixture(scope="module")
def imported(tmp_path_factory, cb):
    folder = tmp_path_factory.mktemp("corpus")
    files = build_corpus(folder / "in", cb)
    store_path = folder / "store.sqlite"
    summary = import_paths([folder / "in"], cb, store_path, policy=POLICY, jobs=1)
    st = open_store(store_path)
    yield summary, st, files
    st.close()


def test_every_reason_code_is_produced(imported):
    summary, st, _ = imported
    assert set(st.findings()["code"]) == set(REASONS)


def test_bad_files_do_not_stop_the_others(imported):
    summary, st, _ = imported
    failed = {Path(p).name for p, s in summary.files.items() if s == "failed"}
    assert failed == {"other_questionnaire.xlsx", "no_id_column.xlsx", "unrelated.xlsx",
                      "not_a_zip.xlsx", "truncated.xlsx", "encrypted.xlsx", "empty.xlsx"}
    assert "~$wide.xlsx" not in {Path(p).name for p in summary.files}
    assert not summary.ok
    imp = st.imports().set_index("name")
    assert imp.loc["wide.xlsx", "rows"] == 120
    assert imp.loc["gbk.csv", "status"] == "imported" and imp.loc["sheet.ods", "rows"] == 3
    assert imp.loc["form_ticked.xlsx", "layout"] == "form"


@pytest.mark.parametrize("name, message", [
    ("other_questionnaire.xlsx", "other_questionnaire.xlsx: made for questionnaire 'other_q', not "
                                 "'test_q' (sheet _surveykit)"),
    ("no_id_column.xlsx", "no_id_column.xlsx: no column holds the respondent id 'firm_id' "
                          "(sheet Data, row 1)"),
    ("not_a_zip.xlsx", "not_a_zip.xlsx: not a valid .xlsx workbook (file)"),
    ("truncated.xlsx", "truncated.xlsx: not a valid workbook, the zip container is damaged or "
                       "truncated (file)"),
    ("encrypted.xlsx", "encrypted.xlsx: the workbook is password-protected (encrypted) or a "
                       "legacy .xls saved as .xlsx (file)"),
    ("empty.xlsx", "empty.xlsx: the file is empty (0 bytes)"),
])
def test_failed_files_have_one_line_errors(imported, name, message):
    summary, st, _ = imported
    errors = {Path(p).name: m for p, m in summary.errors.items()}
    assert errors[name] == message
    assert "\n" not in message


def test_summary_text(imported):
    summary, _, _ = imported
    text = summary.summary()
    assert summary._repr_html_().startswith("<pre>files read: ")
    assert "not mapped: columns.xlsx W1 '备注二'" in text.splitlines()
    assert text.splitlines()[0] == "files read: 10 of 17 (10 imported, 0 unchanged, 7 failed)"
    assert "rows quarantined: " in text and "findings: " in text
    # abc, 7, 9, a row without firm id, two ticked boxes, answer and tick disagree
    assert summary.quarantined == 6


def test_recode_log_rows(imported):
    _, st, _ = imported
    rec = st.recodes()
    wide = rec[rec.file == "wide.xlsx"].set_index("cell")
    ids = [i.id for i in make_codebook().items]

    def cell(item, row):
        from surveykit.ingest.readers import col_letter

        return f"{col_letter(ids.index(item))}{row}"

    expect = {
        cell("LEARN1", 3): ("５", "5", "fullwidth+numeric_string"),
        cell("LEARN2", 3): ("還算同意", "4", "label_variant"),
        cell("LEARN3", 3): ("4分", "4", "unit_suffix"),
        cell("INNOV1", 3): ("Strongly agree", "5", "label"),
        cell("ownership", 3): ("民营", "2", "label"),
        cell("channels", 3): ("3，1", "1,3", "fullwidth+multi_canonical"),
        cell("founded", 3): ("２０１０年", "2010", "fullwidth+unit_suffix"),
        cell("INNOV2", 8): ("空", None, "missing_code"),
        cell("SOCAP2", 16): ("99", None, "missing_code"),
    }
    for c, (raw, coded, rule) in expect.items():
        got = wide.loc[c]
        assert (got.raw, got.rule, got.sheet) == (raw, rule, "Data"), c
        assert got.coded == coded if coded is not None else pd.isna(got.coded), c
    ticked = rec[rec.file == "form_ticked.xlsx"].set_index("item")
    assert ticked.loc["LEARN1", ["cell", "raw", "coded", "rule"]].tolist() == ["F11", "√", "2", "tick"]
    assert ticked.loc["LEARN2", "coded"] == "5" and ticked.loc["GVC1", "coded"] == "1"
    # GBK csv: option labels recoded, plain numbers are not "changes"
    gbk = rec[rec.file == "gbk.csv"]
    assert set(gbk.rule) == {"label"} and set(gbk.raw) == {"民营"}


def test_raw_kept_beside_coded(imported):
    _, st, _ = imported
    ans = st.answers()
    a = ans[(ans.file == "wide.xlsx") & (ans.item == "LEARN2") & (ans.respondent == "F0001")]
    assert a[["cell", "raw", "coded"]].values.tolist() == [["H3", "還算同意", 4]]
    t = ans[(ans.file == "form_ticked.xlsx") & (ans.item == "LEARN1")]
    assert t[["cell", "raw", "coded"]].values.tolist() == [["F11", "√", 2]]


def test_cell_findings_locate_the_cell(imported):
    _, st, _ = imported
    f = st.findings()
    rm = f[(f.code == "required_missing") & (f.file == "wide.xlsx")]
    # F0005 left LEARN2 blank; F0006 wrote missing codes for INNOV2/3 and left INNOV1 blank
    assert set(zip(rm.respondent, rm["item"], rm.cell, strict=True)) >= {
        ("F0005", "LEARN2", "H7"), ("F0006", "INNOV1", "K8"), ("F0006", "INNOV2", "L8")}
    assert not ((rm.respondent == "F0002") & (rm["item"] == "LEARN1")).any()  # refused, not blank
    assert set(rm.severity) == {"info"}
    nn = f[f.code == "non_numeric"].iloc[0]
    assert (nn.file, nn.sheet, nn.cell, nn.row, nn.respondent, nn["item"], nn.value) == \
        ("wide.xlsx", "Data", "G4", 4, "F0002", "LEARN1", "abc")
    assert nn.severity == "error"
    mt = f[f.code == "multiple_ticks"].iloc[0]
    assert (mt.file, mt.respondent, mt["item"]) == ("form_multi.xlsx", "G0002", "LEARN3")
    assert "E" in mt.message and "H" in mt.message
    ca = f[f.code == "conflicting_answer"].iloc[0]
    assert (ca.file, ca["item"], ca.severity) == ("form_conflict.xlsx", "GVC2", "error")
    mc = f[f.code == "merged_answer_cells"].iloc[0]
    assert mc.file == "columns.xlsx" and mc.cell == "C3:C4"


def test_errors_quarantine_rows_and_warnings_flag_them(imported, cb):
    _, st, _ = imported
    q = st.quarantine()
    assert set(q.respondent.dropna()) >= {"F0002", "F0003", "F0004", "G0002", "G0003"}
    assert q[q.respondent == "F0003"].reasons.item() == "out_of_range"
    assert q.raw.notna().all()  # the quarantined row is kept with its raw values
    clean = st.responses(cb)
    flagged = st.responses(cb, include_flagged=True)
    assert not set(clean.firm_id) & {"F0002", "F0003", "F0004", "G0002", "G0003"}
    assert "F0007" not in set(clean.firm_id) and "F0007" in set(flagged.firm_id)  # straight-liner
    # the same firm twice with different answers: both kept, both flagged
    assert (flagged.firm_id == "F0010").sum() == 2 and "F0010" not in set(clean.firm_id)
    # identical copy (wide row and its form): counted once
    assert (flagged.firm_id == "F0031").sum() == 1


def test_coded_values_and_reverse_items_as_answered(imported, cb):
    _, st, _ = imported
    df = st.responses(cb, include_flagged=True).set_index("firm_id")
    base = clean_rows(cb, 120, seed=7)
    assert df.loc["F0001", ["LEARN1", "LEARN2", "LEARN3", "INNOV1"]].tolist() == [5, 4, 4, 5]
    assert df.loc["F0001", "channels"] == "1,3" and df.loc["F0001", "founded"] == 2010
    assert df.loc["F0040", "LEARN4"] == base[39]["LEARN4"]  # reverse-keyed: not reversed
    assert df["LEARN1"].dtype == "float64" and str(df["ownership"].dtype) == "Int64"
    assert set(df["cluster"]) == {"testcluster"} and set(df["questionnaire"]) == {"test_q"}
    assert df.loc["K0", "ownership"] == 2 and df.loc["B0", "LEARN1"] == 5
    assert df.loc["G0001", "LEARN2"] == 5 and df.loc["G0001", "GVC1"] == 1


def test_careless_findings_name_the_respondent(imported):
    _, st, _ = imported
    f = st.findings()
    who = {c: set(f[f.code == c].respondent) for c in
           ("straight_lining", "even_odd", "psychometric_antonyms", "agree_with_reverse",
            "mahalanobis", "construct_missing", "duplicate_respondent", "duplicate_record")}
    assert "F0007" in who["straight_lining"]
    assert "F0011" in who["even_odd"]
    assert "F0012" in who["psychometric_antonyms"] and "F0012" in who["agree_with_reverse"]
    assert "F0013" in who["mahalanobis"]
    assert who["construct_missing"] == {"F0006"}
    assert who["duplicate_respondent"] == {"F0010"}
    assert who["duplicate_record"] == {"F0031"}


def test_layout_can_be_forced(tmp_path, cb, rows):
    p = write_wide(tmp_path / "w.xlsx", cb, rows[:3], marker=False)
    assert read_file(p, cb).layout == "wide"
    res = read_file(p, cb, layout="form")
    assert res.status == "failed" and "not a form of this questionnaire" in res.error


def test_wide_without_marker_and_text_row(tmp_path, cb, rows):
    p = write_wide(tmp_path / "w.xlsx", cb, rows[:5], marker=False, text_row=True)
    res = read_file(p, cb)
    assert res.status == "ok" and res.row_numbers == [3, 4, 5, 6, 7]
    p = write_wide(tmp_path / "w2.xlsx", cb, rows[:5], marker=False, text_row=False)
    assert read_file(p, cb).row_numbers == [2, 3, 4, 5, 6]


def test_online_export_with_numbered_question_headers(tmp_path, cb, rows):
    headers = [f"{k}、{cb.item(i.id).text['zh']}" for k, i in enumerate(cb.items, 1)]
    headers[0] = "1、企业编号"
    headers[-1] = "23、其他意见[填空题]"
    p = write_wide(tmp_path / "export.xlsx", cb, [{**r, "ownership": "外资"} for r in rows[:4]],
                   headers=headers, marker=False, text_row=False)
    res = read_file(p, cb)
    assert res.status == "ok"
    assert [c[2] for c in res.columns] == [i.id for i in cb.items]
    assert [c[3] for c in res.columns][:2] == ["text", "text"]
    assert res.findings == []
    assert res.coded[0][res.items.index("ownership")] == 3


def test_sheet_over_the_row_limit_is_refused(tmp_path, cb, rows):
    from surveykit.ingest import Limits

    p = write_wide(tmp_path / "w.xlsx", cb, rows[:30])
    res = read_file(p, cb, limits=Limits(max_rows=10))
    assert res.status == "failed" and "more than the limit of 10" in res.error


def _crashing_work(path):
    import os

    import surveykit.ingest as ingest

    if path.endswith("boom.xlsx"):
        os._exit(3)  # a native reader that takes its process down
    return ingest._real_work(path)


def test_a_crashing_reader_fails_its_file_only(tmp_path, cb, rows, monkeypatch):
    import multiprocessing as mp

    import surveykit.ingest as ingest

    if "fork" not in mp.get_all_start_methods():
        pytest.skip("needs fork to patch the worker function")
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(5):
        write_form(folder / f"f{i}.xlsx", cb, {**rows[i], "firm_id": f"Z{i}"})
    write_form(folder / "boom.xlsx", cb, rows[9])
    monkeypatch.setattr(ingest, "_PARALLEL_MIN_FILES", 2)
    monkeypatch.setattr(ingest, "_real_work", ingest._work, raising=False)
    monkeypatch.setattr(ingest, "_work", _crashing_work)
    s = import_paths([folder], cb, tmp_path / "s.sqlite", jobs=2)
    assert {Path(p).name: v for p, v in s.files.items()} == {
        **{f"f{i}.xlsx": "imported" for i in range(5)}, "boom.xlsx": "failed"}
    assert s.errors[str(folder / "boom.xlsx")] == "boom.xlsx: the reader crashed on this file (file)"


def test_form_without_marker_finds_its_boxes(tmp_path, cb, rows):
    p = write_form(tmp_path / "f.xlsx", cb, rows[0], marker=False,
                   ticks={"LEARN1": (4, "√"), "GVC2": (0, "√")})
    res = read_file(p, cb)
    assert res.status == "ok" and res.layout == "form"
    assert res.coded[0][res.items.index("LEARN1")] == 5
    assert res.coded[0][res.items.index("GVC2")] == 1


def test_title_block_above_the_header(tmp_path, cb, rows):
    """Hand-typed sheets often carry a title and a date above the header row."""
    p = tmp_path / "typed.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["宁波服装企业调查 数据录入"])
    ws.append(["录入日期", "2026-11-20"])
    ws.append([i.id for i in cb.items])
    for r in rows[:4]:
        ws.append([r.get(i.id) for i in cb.items])
    wb.save(p)
    res = read_file(p, cb)
    assert res.status == "ok" and res.row_numbers == [4, 5, 6, 7]
    assert res.respondents == [r["firm_id"] for r in rows[:4]]


def test_legacy_xls_is_read(cb):
    """No .xls writer is installed; statsmodels ships a BIFF8 workbook among its test data."""
    import statsmodels

    from surveykit.ingest.readers import open_workbook

    p = (Path(statsmodels.__file__).parent / "tsa" / "statespace" / "tests" / "results" /
         "frbny_nowcast" / "Nowcasting" / "test_spec_blocks.xls")
    if not p.is_file():
        pytest.skip("the statsmodels test workbook is not installed")
    with open_workbook(p) as wb:
        assert wb.format == "xls" and wb.sheet_names == ["spec"]
        assert wb.rows("spec")[0][:2] == ["Model", "SeriesID"]
    res = read_file(p, cb)  # readable, but not a questionnaire: refused with a located reason
    assert res.status == "failed" and res.error.startswith(
        "test_spec_blocks.xls: no sheet in wide or form layout of questionnaire 'test_q'")


def test_split_coding_matches_serial_coding(tmp_path, cb, rows, monkeypatch):
    """A large wide sheet is coded in two halves, one in a forked child; the result is the
    same, row for row, as coding it in one piece."""
    import multiprocessing as mp

    import surveykit.ingest.parse as parse

    if "fork" not in mp.get_all_start_methods():
        pytest.skip("needs fork")
    messy = [dict(r) for r in rows]
    messy[3]["LEARN1"] = "５"
    messy[25]["LEARN2"] = "abc"
    messy[30]["firm_id"] = None
    p = write_wide(tmp_path / "w.xlsx", cb, messy)
    monkeypatch.setattr(parse, "_SPLIT_MIN_ROWS", 10**9)
    serial = read_file(p, cb)
    monkeypatch.setattr(parse, "_SPLIT_MIN_ROWS", 10)
    monkeypatch.setattr(parse, "_can_split", lambda: True)
    calls = []
    real = parse._in_child
    monkeypatch.setattr(parse, "_in_child", lambda job: calls.append(len(job[0])) or real(job))
    split = read_file(p, cb)
    assert calls == [20]  # the second half of 40 rows went to the child
    for field in ("items", "respondents", "coded", "coded_json", "raw_json", "recodes",
                  "findings", "row_numbers"):
        assert getattr(split, field) == getattr(serial, field), field
