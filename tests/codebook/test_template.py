"""Blank templates open with openpyxl and carry validations, frozen headers and the marker."""

from __future__ import annotations

import openpyxl
import pytest

from surveykit.codebook.template import write_template
from surveykit.errors import SurveykitError


def marker(wb):
    ws = wb["_surveykit"]
    assert ws.sheet_state == "hidden"
    return {r[0]: r[1] for r in ws.iter_rows(values_only=True)}


def validations(ws):
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            out[str(rng)] = dv
    return out


def test_wide_template(tmp_path, ningbo):
    path = write_template(ningbo, tmp_path / "wide.xlsx", layout="wide", lang="both", rows=50)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["说明 Instructions", "Data", "Codebook", "_surveykit"]
    m = marker(wb)
    assert m["questionnaire_id"] == "ningbo_apparel" and m["version"] == "1.0"
    assert m["codebook_sha256"] == ningbo.sha256 and m["layout"] == "wide" and m["first_data_row"] == 3
    ws = wb["Data"]
    assert ws.freeze_panes == "B3"
    header = [c.value for c in ws[1]]
    assert header == [i.id for i in ningbo.items]
    col = header.index("LEARN1") + 1
    assert ws.cell(row=2, column=col).value == f"{ningbo.item('LEARN1').text['zh']} / {ningbo.item('LEARN1').text['en']}"
    dvs = validations(ws)
    letter = openpyxl.utils.get_column_letter(col)
    likert = dvs[f"{letter}3:{letter}52"]
    assert likert.type == "list" and likert.formula1 == '"1,2,3,4,5"'
    year = dvs[f"{openpyxl.utils.get_column_letter(header.index('founded') + 1)}3:"
               f"{openpyxl.utils.get_column_letter(header.index('founded') + 1)}52"]
    assert (year.type, year.formula1, year.formula2) == ("whole", "1949", "2026")
    own = ningbo.item("ownership")
    letter = openpyxl.utils.get_column_letter(header.index("ownership") + 1)
    assert dvs[f"{letter}3:{letter}52"].formula1 == '"' + ",".join(str(o.code) for o in own.options) + '"'
    codebook_rows = list(wb["Codebook"].iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in codebook_rows] == [i.id for i in ningbo.items]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_form_template(tmp_path, yongkang, lang):
    path = write_template(yongkang, tmp_path / "form.xlsx", layout="form", lang=lang)
    wb = openpyxl.load_workbook(path)
    m = marker(wb)
    assert (m["layout"], m["answer_column"], m["tick_columns"], m["header_row"]) == ("form", "D", "E:I", 6)
    ws = wb["Questionnaire"]
    assert ws.cell(row=6, column=1).value == "item"
    rows = {r[0]: r for r in ws.iter_rows(min_row=7, values_only=True) if r[0]}
    assert list(rows) == [i.id for i in yongkang.items]
    assert rows["GVC4"][1] == yongkang.item("GVC4").text["zh"]
    hidden = "C" if lang == "zh" else "B"
    assert ws.column_dimensions[hidden].hidden
    dvs = validations(ws)
    row = next(r for r in range(7, ws.max_row + 1) if ws.cell(row=r, column=1).value == "LEARN1")
    answer = next(dv for rng, dv in dvs.items() if f"D{row}" in rng.split() or rng == f"D{row}")
    assert answer.formula1 == '"1,2,3,4,5"'
    assert any(f"E{row}" in str(dv.sqref) and dv.formula1 == '"√"' for dv in dvs.values())


def test_bad_layout_and_suffix(tmp_path, ningbo):
    with pytest.raises(SurveykitError, match="layout must be one of wide, form"):
        write_template(ningbo, tmp_path / "x.xlsx", layout="long")
    with pytest.raises(SurveykitError, match="templates are written as .xlsx files"):
        write_template(ningbo, tmp_path / "x.xls")


def test_the_same_workbook_gives_the_same_bytes(tmp_path, ningbo):
    a = write_template(ningbo, tmp_path / "a.xlsx", layout="form")
    b = write_template(ningbo, tmp_path / "b.xlsx", layout="form")
    assert a.read_bytes() == b.read_bytes()
