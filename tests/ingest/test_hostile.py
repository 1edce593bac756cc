"""Hostile and broken inputs, built by code: each ends in a clear one-line error or a
documented handling, quickly and in bounded memory, and never stops the other files."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from corpus import (
    clean_rows,
    make_codebook,
    sheet_row_xml,
    write_csv,
    write_form,
    write_raw_xlsx,
    write_wide,
    write_zip_bomb,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from surveykit.ingest import read_file

CB = make_codebook()
IDS = [i.id for i in CB.items]
ROWS = clean_rows(CB, 6, seed=11)


def _table(rows=ROWS):
    return [IDS] + [[r.get(i) for i in IDS] for r in rows]


LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{k} "{("&lol" + (str(k - 1) if k > 1 else "") + ";") * 10}">'
                    for k in range(1, 10)) + "]>")
XXE = '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def _million_rows(path: Path, dimension: bool) -> Path:
    # rows without r= are numbered in order; distinct values keep the XML from compressing like
    # a zip bomb (which would be refused by the ratio limit instead)
    body = "".join([f"<row><c><v>{r * 7919 % 1000003}</v></c></row>" for r in range(1_000_000)])
    dim = '<dimension ref="A1:A1000000"/>' if dimension else ""
    xml = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.'
           f'org/spreadsheetml/2006/main">{dim}<sheetData>{body}</sheetData></worksheet>')
    return write_raw_xlsx(path, xml)


def _wide_columns(path: Path) -> Path:
    from surveykit.ingest.readers import col_letter

    cells = "".join(f'<c r="{col_letter(c)}1"><v>{c}</v></c>' for c in range(16384))
    xml = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.'
           f'org/spreadsheetml/2006/main"><sheetData><row r="1">{cells}</row></sheetData>'
           "</worksheet>")
    return write_raw_xlsx(path, xml)


def _dates_and_booleans(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    ws.append(IDS)
    for k, r in enumerate(ROWS):
        line = [r.get(i) for i in IDS]
        if k == 0:
            line[IDS.index("LEARN1")] = dt.date(2021, 4, 5)
        if k == 1:
            line[IDS.index("LEARN2")] = True
        ws.append(line)
    wb.save(path)
    return path


def _merged(path: Path) -> Path:
    write_wide(path, CB, ROWS)
    wb = openpyxl.load_workbook(path)
    wb["Data"].merge_cells("H3:H5")
    wb.save(path)
    return path


def _hidden_data(path: Path) -> Path:
    write_wide(path, CB, ROWS, marker=False)
    wb = openpyxl.load_workbook(path)
    wb["Data"].sheet_state = "hidden"
    wb.create_sheet("说明").append(["请填写数据表"])
    wb.save(path)
    return path


def _empty_workbook(path: Path) -> Path:
    openpyxl.Workbook().save(path)
    return path


def _header_only(path: Path) -> Path:
    return write_wide(path, CB, [], marker=False, text_row=False)


def _chinese_sheet(path: Path) -> Path:
    return write_wide(path, CB, ROWS, sheet="数据表（一）", marker=False)


def _dup_columns(path: Path) -> Path:
    return write_wide(path, CB, ROWS, headers=[*IDS[:-1], "LEARN2"], text_row=False, marker=False)


def _wrong_questionnaire(path: Path) -> Path:
    return write_wide(path, make_codebook("yongkang_hardware"), ROWS)


def _form_ticks(path: Path) -> Path:
    return write_form(path, CB, ROWS[0], ticks={"LEARN1": (0, "☑"), "INNOV2": [(1, "×"), (2, "X")]})


def _fake_xls(path: Path) -> Path:
    path.write_bytes(b"PK\x03\x04" + b"\0" * 200)
    return path


def _nul_csv(path: Path) -> Path:
    path.write_bytes(b"firm_id,LEARN1\nF1,\x004\n")
    return path


def _utf16_csv(path: Path) -> Path:
    return write_csv(path, CB, ROWS, encoding="utf-16")


def _zero_width(path: Path) -> Path:
    rows = [dict(r) for r in ROWS]
    rows[0]["LEARN1"] = "4\u200b"
    rows[1]["LEARN2"] = "\ufeff非常同意"
    return write_wide(path, CB, rows)


def _huge_cell(path: Path) -> Path:
    rows = [dict(r) for r in ROWS]
    rows[0]["note"] = "很长" * 200_000
    return write_wide(path, CB, rows)


def _directory(path: Path) -> Path:
    path.mkdir()
    return path


def _no_extension(path: Path) -> Path:
    path.write_bytes(b"data")
    return path


def _text_xlsx(path: Path) -> Path:
    path.write_text("firm_id,LEARN1\nF1,4\n", encoding="utf-8")
    return path


def _truncated(path: Path) -> Path:
    data = write_wide(path, CB, ROWS).read_bytes()
    path.write_bytes(data[: len(data) // 3])
    return path


def _bad_member(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<not xml")
    return path


def _numbers_extreme(path: Path) -> Path:
    rows = [dict(r) for r in ROWS]
    rows[0]["LEARN1"] = 1e308
    rows[1]["LEARN2"] = -0.0
    rows[2]["employees"] = "nan"
    rows[3]["sales"] = "inf"
    return write_wide(path, CB, rows)


# (builder, file name, expected status, text in the error or a check of the result)
CASES = [
    ("not_a_zip", lambda p: (p.write_bytes(b"hello"), p)[1], "x.xlsx", "failed",
     "not a valid .xlsx workbook (file)"),
    ("truncated_zip", _truncated, "x.xlsx", "failed", "zip container is damaged or truncated"),
    ("zip_bomb", lambda p: write_zip_bomb(p), "x.xlsx", "failed", "a likely zip bomb"),
    ("bad_member", _bad_member, "x.xlsx", "failed", "cannot read the workbook"),
    ("encrypted", lambda p: (p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 900), p)[1],
     "x.xlsx", "failed", "password-protected (encrypted)"),
    ("fake_xls", _fake_xls, "x.xls", "failed", "not a valid .xls workbook (file)"),
    ("empty_file", lambda p: (p.write_bytes(b""), p)[1], "x.xlsx", "failed", "the file is empty"),
    ("text_as_xlsx", _text_xlsx, "x.xlsx", "failed", "not a valid .xlsx workbook"),
    ("directory", _directory, "x.xlsx", "failed", "cannot read the file (Is a directory)"),
    ("no_extension", _no_extension, "x", "failed", "unsupported file type '(none)'"),
    ("entity_expansion", lambda p: write_raw_xlsx(p, sheet_row_xml(
        [["firm_id", "note"], ["F1", "&lol9;"]], doctype=LAUGHS)), "x.xlsx", "any", None),
    ("external_entity", lambda p: write_raw_xlsx(p, sheet_row_xml(
        [["firm_id", "note"], ["F1", "&xxe;"]], doctype=XXE)), "x.xlsx", "any", None),
    # a lying dimension is not trusted: the rows present are read
    ("million_rows_declared", lambda p: write_raw_xlsx(p, sheet_row_xml(
        _table(), dimension="A1:W1000000")), "x.xlsx", "ok", "rows6"),
    # counted while parsing (a small sheet XML) or in the XML stream before it (a large one)
    ("million_rows", lambda p: _million_rows(p, False), "x.xlsx", "failed",
     "has 1000000 rows, more than the limit of 250000"),
    ("16384_columns", _wide_columns, "x.xlsx", "failed", "16384 columns, more than the limit"),
    ("formulas", lambda p: write_raw_xlsx(p, sheet_row_xml(_table(), formulas={
        "G2": ("2+2", 4), "H2": ("1+1", None)})), "x.xlsx", "ok", "formulas"),
    ("merged_cells", _merged, "x.xlsx", "ok", "merged"),
    ("hidden_sheets", lambda p: write_raw_xlsx(p, sheet_row_xml(_table()), hidden_extra="secret"),
     "x.xlsx", "ok", "rows6"),
    ("hidden_data_sheet", _hidden_data, "x.xlsx", "failed", "hidden, not read: Data"),
    ("dates_booleans", _dates_and_booleans, "x.xlsx", "ok", "dates"),
    ("empty_workbook", _empty_workbook, "x.xlsx", "failed", "no sheet in wide or form layout"),
    ("header_only", _header_only, "x.xlsx", "ok", "rows0"),
    ("chinese_sheet", _chinese_sheet, "x.xlsx", "ok", "rows6"),
    ("duplicate_columns", _dup_columns, "x.xlsx", "ok", "duplicate"),
    ("wrong_questionnaire", _wrong_questionnaire, "x.xlsx", "failed",
     "made for questionnaire 'yongkang_hardware', not 'test_q'"),
    ("form_ticks", _form_ticks, "x.xlsx", "ok", "ticks"),
    ("ods", lambda p: write_raw_ods(p), "x.ods", "ok", "rows6"),
    ("csv_gbk", lambda p: write_csv(p, CB, [{**r, "ownership": "民营"} for r in ROWS],
                                    encoding="gbk"), "x.csv", "ok", "rows6"),
    ("csv_bom", lambda p: write_csv(p, CB, ROWS, encoding="utf-8-sig"), "x.csv", "ok", "rows6"),
    ("csv_utf16", _utf16_csv, "x.csv", "ok", "rows6"),
    ("csv_nul", _nul_csv, "x.csv", "ok", "nul"),
    ("csv_binary", lambda p: (p.write_bytes(bytes(range(256)) * 20), p)[1], "x.csv", "failed", None),
    ("zero_width", _zero_width, "x.xlsx", "ok", "zero_width"),
    ("huge_cell", _huge_cell, "x.xlsx", "ok", "rows6"),
    ("extreme_numbers", _numbers_extreme, "x.xlsx", "ok", "extreme"),
]


def write_raw_ods(path: Path) -> Path:
    from corpus import write_ods

    return write_ods(path, _table())


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    made = {}
    for name, build, fname, *_ in CASES:
        sub = folder / name
        sub.mkdir()
        made[name] = build(sub / fname)
    return folder, made


def test_corpus_has_at_least_40_inputs_with_the_import_corpus():
    from test_import import build_corpus  # noqa: F401 - the other 17 files of the corpus

    assert len(CASES) + 17 >= 40


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_each_input_ends_cleanly_and_quickly(hostile, case):
    name, _, _, status, expect = case
    _, made = hostile
    t = time.perf_counter()
    res = read_file(made[name], CB)
    assert time.perf_counter() - t < 5, name
    if status == "failed":
        assert res.status == "failed", name
        assert res.error and "\n" not in res.error and res.error.startswith(made[name].name + ":")
        if expect:
            assert expect in res.error
        return
    if status == "any":  # entity declarations: read without expansion, or refused
        if res.status == "ok":
            values = json.dumps(res.coded) + "".join(res.raw_json)
            assert "root:" not in values and "lollollol" not in values
            assert len(values) < 10_000
        return
    assert res.status == "ok", res.error
    codes = [f.code for _, f in res.findings]
    if expect.startswith("rows"):
        assert res.n_rows == int(expect[4:])
    elif expect == "formulas":  # the cached value is read; an uncalculated formula is blank
        assert res.coded[0][res.items.index("LEARN1")] == 4
        assert res.coded[0][res.items.index("LEARN2")] is None
    elif expect == "merged":
        assert "merged_answer_cells" in codes
    elif expect == "dates":
        assert codes.count("non_numeric") == 2 and len(res.error_rows()) == 2
    elif expect == "duplicate":
        assert "duplicate_column" in codes and "missing_column" in codes
    elif expect == "ticks":
        assert res.coded[0][res.items.index("LEARN1")] == 1 and "multiple_ticks" in codes
    elif expect == "nul":  # a NUL is an invisible character, removed and logged
        assert res.coded[0][res.items.index("LEARN1")] == 4
        assert res.recodes[0][-1] == "invisible_characters+numeric_string"
    elif expect == "zero_width":
        assert res.coded[0][res.items.index("LEARN1")] == 4
        assert res.coded[1][res.items.index("LEARN2")] == 5
    elif expect == "extreme":
        assert {f.item for _, f in res.findings if f.severity == "error"} == \
            {"LEARN1", "LEARN2", "employees", "sales"}
        assert res.coded[1][res.items.index("LEARN2")] is None  # -0.0 is out of range


def test_large_sheet_xml_is_counted_before_parsing(hostile):
    """With a cell limit small enough, the sheet XML is counted in the zip stream and the
    sheet refused before calamine parses it."""
    from surveykit.ingest import Limits

    _, made = hostile
    res = read_file(made["million_rows"], CB, limits=Limits(max_cells=100_000))
    assert res.status == "failed"
    assert res.error.endswith("a sheet has 1000000 rows, more than the limit of 250000 "
                              "(xl/worksheets/sheet1.xml)")
    res = read_file(made["million_rows"], CB, limits=Limits(max_cells=100_000,
                                                            max_rows=2_000_000))
    assert res.error.endswith("a sheet has 1000000 cells, more than the limit of 100000 "
                              "(xl/worksheets/sheet1.xml)")


def test_one_import_of_everything_keeps_the_good_files_in_bounded_memory(hostile):
    """All hostile files imported at once, in a fresh process: the good ones go in, and the
    peak memory stays well under 500 MB."""
    folder, made = hostile
    code = (
        "import json, resource, sys, tempfile, os\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from corpus import make_codebook\n"
        "from surveykit.ingest import import_paths\n"
        "import surveykit.store, surveykit.validate.checks, scipy.special\n"
        "cb = make_codebook()\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        f"s = import_paths([{str(folder)!r}], cb, os.path.join(tempfile.mkdtemp(), 's.sqlite'), "
        "jobs=1)\n"
        "print(json.dumps({'files': s.files, 'base': base, "
        "'peak': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    got = json.loads(out.stdout)
    by_name = {Path(p).parent.name: st for p, st in got["files"].items()}
    for name, _, _, status, _ in CASES:
        if status == "ok":
            assert by_name[name] == "imported", name
        elif status == "failed" and name not in ("directory", "no_extension"):
            # a folder search takes workbook suffixes only; a named path is always tried
            assert by_name[name] == "failed", name
    assert "no_extension" not in by_name
    assert (got["peak"] - got["base"]) / 1024 < 500, got


_GOOD = None


def _good_bytes() -> bytes:
    global _GOOD
    if _GOOD is None:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            _GOOD = write_wide(Path(tmp) / "g.xlsx", CB, ROWS[:2]).read_bytes()
    return _GOOD


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(suffix=st.sampled_from([".xlsx", ".csv", ".ods", ".xls"]),
       data=st.one_of(st.binary(max_size=2000),
                      st.builds(lambda cut, flip: (cut, flip), st.integers(0, 100_000),
                                st.integers(0, 255))))
def test_arbitrary_bytes_never_raise(tmp_path, suffix, data):
    """Random bytes, or a real workbook cut short or with a byte flipped: a FileResult, either
    imported or failed with a one-line error naming the file; never an exception."""
    if isinstance(data, tuple):
        good = bytearray(_good_bytes())
        cut, flip = data
        pos = cut % len(good)
        good[pos] ^= flip
        data = bytes(good[: max(pos, 1) if flip % 2 else len(good)])
    p = tmp_path / f"f{suffix}"
    p.write_bytes(data)
    res = read_file(p, CB)
    assert res.status in ("ok", "failed")
    if res.status == "failed":
        assert res.error.startswith(p.name + ":") and "\n" not in res.error
