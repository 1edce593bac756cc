"""Write data-entry workbooks for a questionnaire: blank templates and filled ones.

Two layouts, both carrying a hidden ``_surveykit`` marker sheet (questionnaire
id, version, codebook hash, layout, language and where the answers are) so an
import can recognise the questionnaire and detect the wrong one:

* ``wide``: sheet ``Data``, row 1 item ids, row 2 question text, one row per
  firm from row 3; column A is the respondent id.
* ``form``: one workbook per firm laid out like the paper questionnaire, sheet
  ``Questionnaire``: A item id, B question (zh), C question (en), D answer,
  E..I a box per Likert point to tick, J the options of choice items.

openpyxl writes; reading is the import's job (python-calamine).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from surveykit.codebook.model import Codebook, Item
from surveykit.errors import SurveykitError

MARKER_SHEET = "_surveykit"
WIDE_SHEET = "Data"
FORM_SHEET = "Questionnaire"
WIDE_FIRST_DATA_ROW = 3
FORM_HEADER_ROW = 6
FORM_ANSWER_COLUMN = "D"
FORM_TICK_COLUMNS = ("E", "F", "G", "H", "I")
FORM_OPTIONS_COLUMN = "J"
LAYOUTS = ("wide", "form")
LANGS = ("zh", "en", "both")
SIMULATED_NOTE = {
    "zh": "模拟数据：本工作簿中的答案由 surveykit simulate 按已知生成模型随机生成，不是真实调查数据。",
    "en": "SIMULATED DATA: the answers in this workbook were drawn by surveykit simulate from a known "
          "generating model; they are not real survey responses.",
}
_MULTI_SEP = ","


def question_text(item: Item, lang: str) -> str:
    """The question as printed in a header: zh, en, or ``zh / en``."""
    if lang == "both":
        return f"{item.text['zh']} / {item.text['en']}"
    return item.text[lang]


def answer_hint(item: Item, lang: str) -> str:
    """A short description of the allowed answers, for input messages and the codebook sheet."""
    langs = ("zh", "en") if lang == "both" else (lang,)

    def lab(d: Mapping[str, str]) -> str:
        return " ".join(d[x] for x in langs)

    if item.type == "likert":
        return "; ".join(f"{p}={lab(item.scale.labels[p])}" for p in item.scale.points)
    if item.type in ("single", "multiple"):
        text = "; ".join(f"{o.code}={lab(o.label)}" for o in item.options)
        if item.type == "multiple":
            text += " (多选，代码用逗号分隔 / several codes separated by commas)"
        return text
    if item.type in ("integer", "number", "year"):
        rng = ""
        if item.min is not None or item.max is not None:
            rng = f" {'' if item.min is None else _num(item.min)}–{'' if item.max is None else _num(item.max)}"
        unit = f" {lab(item.unit)}" if item.unit else ""
        return f"{item.type}{rng}{unit}"
    return "text"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def write_template(codebook: Codebook, path: str | Path, *, layout: str = "wide",
                   lang: str = "both", rows: int = 500) -> Path:
    """Write a blank data-entry workbook for a questionnaire.

    Parameters
    ----------
    codebook : Codebook
        The questionnaire (see :func:`surveykit.load_codebook`).
    path : str or Path
        The ``.xlsx`` file to write.
    layout : {"wide", "form"}
        ``wide``: one row per firm; ``form``: one workbook per firm, laid out
        like the paper questionnaire.
    lang : {"zh", "en", "both"}
        Language of question texts and labels.
    rows : int
        Rows prepared with data validation in the wide layout.

    Returns
    -------
    Path
        The file written.
    """
    _check_options(layout, lang, path)
    wb = build_workbook(codebook, layout=layout, lang=lang, rows=rows)
    return _save(wb, path)


def build_workbook(codebook: Codebook, *, layout: str, lang: str = "both",
                   records: Iterable[Mapping[str, Any]] = (), rows: int = 500,
                   ticks: Mapping[str, int] | None = None, simulated: bool = False):
    """Build an openpyxl workbook, blank or filled.

    ``records`` are the answers (wide: any number of firms; form: at most one),
    written as given so that simulated field noise survives. ``ticks`` maps a
    Likert item id to the point ticked in the form layout's boxes instead of an
    answer in column D.
    """
    from openpyxl import Workbook

    records = list(records)
    wb = Workbook()
    _instructions_sheet(wb.active, codebook, layout, lang, simulated)
    if layout == "wide":
        sheet = wb.create_sheet(WIDE_SHEET)
        _wide_sheet(sheet, codebook, lang, records, rows)
    else:
        if len(records) > 1:
            raise SurveykitError("the form layout holds one firm per workbook")
        sheet = wb.create_sheet(FORM_SHEET)
        _form_sheet(sheet, codebook, lang, records[0] if records else {}, ticks or {}, simulated)
    _codebook_sheet(wb.create_sheet("Codebook"), codebook)
    _marker_sheet(wb.create_sheet(MARKER_SHEET), codebook, layout, lang, simulated)
    wb.active = 1
    return wb


def _check_options(layout: str, lang: str, path: str | Path) -> None:
    if layout not in LAYOUTS:
        raise SurveykitError(f"layout must be one of {', '.join(LAYOUTS)} (got {layout!r})")
    if lang not in LANGS:
        raise SurveykitError(f"lang must be one of {', '.join(LANGS)} (got {lang!r})")
    if Path(path).suffix.lower() != ".xlsx":
        raise SurveykitError(f"{path}: templates are written as .xlsx files")


_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def _save(wb, path: str | Path) -> Path:
    """Save reproducibly: the same workbook gives the same bytes (fixed document and zip times)."""
    import datetime as dt
    import io
    import re
    import zipfile

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.properties.created = wb.properties.modified = dt.datetime(*_FIXED_TIME)
    wb.properties.creator = "surveykit"
    buf = io.BytesIO()
    wb.save(buf)
    tmp = path.with_name(path.name + ".part")
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=_FIXED_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time here
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>1980-01-01T00:00:00Z", data)
            dst.writestr(entry, data)
    tmp.replace(path)  # never leave a half-written workbook under the real name
    return path


def _styles():
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    thin = Side(style="thin", color="999999")
    return {
        "title": Font(bold=True, size=14),
        "bold": Font(bold=True),
        "warn": Font(bold=True, color="C00000"),
        "header_fill": PatternFill("solid", fgColor="DDEBF7"),
        "section_fill": PatternFill("solid", fgColor="F2F2F2"),
        "answer_fill": PatternFill("solid", fgColor="FFF2CC"),
        "wrap": Alignment(wrap_text=True, vertical="top"),
        "center": Alignment(horizontal="center", vertical="center", wrap_text=True),
        "border": Border(left=thin, right=thin, top=thin, bottom=thin),
    }


def _instructions_sheet(ws, cb: Codebook, layout: str, lang: str, simulated: bool) -> None:
    st = _styles()
    ws.title = "说明 Instructions"
    lines: list[tuple[str, Any]] = [(cb.title["zh"], st["title"]), (cb.title["en"], st["title"])]
    if simulated:
        lines += [(SIMULATED_NOTE["zh"], st["warn"]), (SIMULATED_NOTE["en"], st["warn"])]
    lines += [("", None),
              (f"问卷 Questionnaire: {cb.id}  版本 version {cb.version}", st["bold"]),
              (f"集群 Cluster: {cb.cluster['zh']} / {cb.cluster['en']}", None), ("", None)]
    if cb.instructions:
        lines += [(cb.instructions["zh"], None), (cb.instructions["en"], None), ("", None)]
    if layout == "wide":
        lines += [("填写方法：在“Data”表中每家企业填一行，第1行为题目代码，第2行为题目，请勿修改这两行。", None),
                  ("How to fill in: one row per firm on sheet 'Data'. Row 1 holds the item codes and row 2 "
                   "the questions; do not change these two rows.", None)]
    else:
        lines += [("填写方法：每家企业一个工作簿。在“Questionnaire”表的 D 列填写答案，量表题也可在 E–I 列相应分值下打“√”。", None),
                  ("How to fill in: one workbook per firm. Write each answer in column D of sheet "
                   "'Questionnaire'; for rating questions you may instead tick (√) the box under the "
                   "chosen point in columns E–I.", None)]
    lines += [("多选题填写选项代码，用逗号分隔，如 1,3。Multiple-choice questions: option codes separated by commas, e.g. 1,3.", None),
              ("缺失或不适用请留空。Leave a cell blank when the answer is missing or does not apply.", None),
              ("", None)]
    for scale in cb.scales.values():
        lines.append((f"量表 Scale {scale.id}:", st["bold"]))
        for p in scale.points:
            lines.append((f"  {p} = {scale.labels[p]['zh']} / {scale.labels[p]['en']}", None))
    for r, (text, font) in enumerate(lines, 1):
        cell = ws.cell(row=r, column=1, value=text)
        if font is not None:
            cell.font = font
    ws.column_dimensions["A"].width = 120


def _validation_for(item: Item, lang: str):
    from openpyxl.worksheet.datavalidation import DataValidation

    hint = answer_hint(item, lang)
    kw = dict(allow_blank=True, showInputMessage=True, showErrorMessage=True,
              promptTitle=item.id[:32], prompt=hint[:255], errorTitle="surveykit",
              error=f"{item.id}: {hint}"[:255])
    if item.type == "likert":
        values = ",".join(str(p) for p in item.scale.points)
        return DataValidation(type="list", formula1=f'"{values}"', **kw)
    if item.type == "single":
        values = ",".join(str(o.code) for o in item.options)
        return DataValidation(type="list", formula1=f'"{values}"', **kw)
    if item.type in ("integer", "year"):
        lo = -1e9 if item.min is None else item.min
        hi = 1e9 if item.max is None else item.max
        return DataValidation(type="whole", operator="between", formula1=_num(lo), formula2=_num(hi), **kw)
    if item.type == "number":
        lo = -1e12 if item.min is None else item.min
        hi = 1e12 if item.max is None else item.max
        return DataValidation(type="decimal", operator="between", formula1=_num(lo), formula2=_num(hi), **kw)
    if item.type == "multiple":
        kw["showErrorMessage"] = False  # free text of codes; checked on import
        return DataValidation(type="custom", formula1="TRUE", **kw)
    return None


def _wide_sheet(ws, cb: Codebook, lang: str, records: list[Mapping[str, Any]], rows: int) -> None:
    from openpyxl.utils import get_column_letter

    st = _styles()
    last_row = WIDE_FIRST_DATA_ROW + max(rows, len(records)) - 1
    for c, item in enumerate(cb.items, 1):
        code = ws.cell(row=1, column=c, value=item.id)
        code.font, code.fill = st["bold"], st["header_fill"]
        text = ws.cell(row=2, column=c, value=question_text(item, lang))
        text.alignment, text.fill = st["wrap"], st["header_fill"]
        letter = get_column_letter(c)
        ws.column_dimensions[letter].width = 14 if item.type == "likert" else 18
        dv = _validation_for(item, lang)
        if dv is not None:
            ws.add_data_validation(dv)
            dv.add(f"{letter}{WIDE_FIRST_DATA_ROW}:{letter}{last_row}")
    ws.row_dimensions[2].height = 90
    ws.freeze_panes = f"B{WIDE_FIRST_DATA_ROW}"
    ids = [item.id for item in cb.items]
    for r, rec in enumerate(records, WIDE_FIRST_DATA_ROW):
        for c, iid in enumerate(ids, 1):
            value = rec.get(iid)
            if value is not None and value != "":
                ws.cell(row=r, column=c, value=value)


def _form_sheet(ws, cb: Codebook, lang: str, answers: Mapping[str, Any], ticks: Mapping[str, int],
                simulated: bool) -> None:
    from openpyxl.utils import column_index_from_string

    st = _styles()
    ws["A1"] = f"{cb.title['zh']}  {cb.title['en']}"
    ws["A1"].font = st["title"]
    ws["A2"] = f"问卷 Questionnaire: {cb.id}  版本 version {cb.version}"
    ws["A3"] = SIMULATED_NOTE["zh"] + " " + SIMULATED_NOTE["en"] if simulated else \
        "请在 D 列填写答案，或在 E–I 列打“√”。Answer in column D, or tick (√) a box in columns E–I."
    if simulated:
        ws["A3"].font = st["warn"]
    scale = next(iter(cb.scales.values()))
    header = ["item", "问题", "Question", "答案 Answer"] + [
        f"{p} {scale.labels[p]['zh']}\n{scale.labels[p]['en']}" for p in scale.points] + ["选项 Options"]
    for c, text in enumerate(header, 1):
        cell = ws.cell(row=FORM_HEADER_ROW, column=c, value=text)
        cell.font, cell.fill, cell.alignment, cell.border = st["bold"], st["header_fill"], st["center"], st["border"]
    ws.row_dimensions[FORM_HEADER_ROW].height = 45
    widths = {"A": 12, "B": 48, "C": 48, "D": 12, "E": 10, "F": 10, "G": 10, "H": 10, "I": 10, "J": 50}
    for letter, w in widths.items():
        ws.column_dimensions[letter].width = w
    if lang == "zh":
        ws.column_dimensions["C"].hidden = True
    elif lang == "en":
        ws.column_dimensions["B"].hidden = True
    ws.freeze_panes = f"A{FORM_HEADER_ROW + 1}"
    ans_col = column_index_from_string(FORM_ANSWER_COLUMN)
    tick_cols = [column_index_from_string(x) for x in FORM_TICK_COLUMNS]
    from openpyxl.worksheet.datavalidation import DataValidation

    tick_dv = DataValidation(type="list", formula1='"√"', allow_blank=True)
    ws.add_data_validation(tick_dv)
    shared: dict[tuple[str, str], Any] = {}  # one validation object per kind of answer
    row = FORM_HEADER_ROW + 1
    for section in cb.sections:
        title = ws.cell(row=row, column=2, value=f"{section.title['zh']}  {section.title['en']}")
        title.font = st["bold"]
        for c in range(1, 11):
            ws.cell(row=row, column=c).fill = st["section_fill"]
        row += 1
        for iid in section.items:
            item = cb.item(iid)
            ws.cell(row=row, column=1, value=item.id).font = st["bold"]
            ws.cell(row=row, column=2, value=item.text["zh"]).alignment = st["wrap"]
            ws.cell(row=row, column=3, value=item.text["en"]).alignment = st["wrap"]
            answer = ws.cell(row=row, column=ans_col)
            answer.fill, answer.border = st["answer_fill"], st["border"]
            key = (item.type, answer_hint(item, lang))
            if key not in shared:
                shared[key] = _validation_for(item, lang)
                if shared[key] is not None:
                    ws.add_data_validation(shared[key])
            if shared[key] is not None:
                shared[key].add(answer.coordinate)
            value = answers.get(iid)
            if value is not None and value != "":
                answer.value = value
            if item.type == "likert":
                for k, col in enumerate(tick_cols):
                    box = ws.cell(row=row, column=col)
                    box.border, box.alignment = st["border"], st["center"]
                    tick_dv.add(box.coordinate)
                    if iid in ticks and ticks[iid] == item.scale.points[k]:
                        box.value = "√"
            elif item.type in ("single", "multiple") or item.type in ("integer", "number", "year"):
                ws.cell(row=row, column=column_index_from_string(FORM_OPTIONS_COLUMN),
                        value=answer_hint(item, "both")).alignment = st["wrap"]
            row += 1


def _codebook_sheet(ws, cb: Codebook) -> None:
    st = _styles()
    header = ["item", "section", "construct", "type", "required", "reverse", "问题", "Question", "answers"]
    for c, text in enumerate(header, 1):
        cell = ws.cell(row=1, column=c, value=text)
        cell.font, cell.fill = st["bold"], st["header_fill"]
    for r, item in enumerate(cb.items, 2):
        values = [item.id, item.section, item.construct or "", item.type,
                  "yes" if item.required else "no", "yes" if item.reverse else "no",
                  item.text["zh"], item.text["en"], answer_hint(item, "both")]
        for c, v in enumerate(values, 1):
            ws.cell(row=r, column=c, value=v)
    for letter, w in zip("ABCDEFGHI", (12, 12, 12, 10, 9, 9, 50, 50, 60), strict=True):
        ws.column_dimensions[letter].width = w
    ws.freeze_panes = "A2"


def _marker_sheet(ws, cb: Codebook, layout: str, lang: str, simulated: bool) -> None:
    entries = [("questionnaire_id", cb.id), ("version", cb.version),
               ("codebook_sha256", cb.sha256 or ""), ("layout", layout), ("lang", lang),
               ("simulated", "yes" if simulated else "no")]
    if layout == "wide":
        entries += [("sheet", WIDE_SHEET), ("first_data_row", WIDE_FIRST_DATA_ROW)]
    else:
        entries += [("sheet", FORM_SHEET), ("header_row", FORM_HEADER_ROW),
                    ("answer_column", FORM_ANSWER_COLUMN),
                    ("tick_columns", f"{FORM_TICK_COLUMNS[0]}:{FORM_TICK_COLUMNS[-1]}")]
    entries.append(("generator", "surveykit"))
    for r, (k, v) in enumerate(entries, 1):
        ws.cell(row=r, column=1, value=k)
        ws.cell(row=r, column=2, value=v)
    ws.sheet_state = "hidden"
