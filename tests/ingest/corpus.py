"""A small questionnaire and workbook writers for the ingest, store and validate tests.

Every messy or broken workbook of the tests is built here, by code, so that
the corpus documents itself.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from surveykit.codebook.model import Codebook, Construct, Item, Option, Scale, Section

AGREE = Scale("agree5", 1, 5, {
    1: {"zh": "非常不同意", "en": "Strongly disagree"},
    2: {"zh": "不同意", "en": "Disagree"},
    3: {"zh": "一般", "en": "Neutral"},
    4: {"zh": "同意", "en": "Agree"},
    5: {"zh": "非常同意", "en": "Strongly agree"},
})

CONSTRUCT_TEXT = {
    "LEARN": ("本企业经常学习同行的先进经验", "We often learn from our peers"),
    "INNOV": ("本企业每年都推出新的产品款式", "We launch new product designs every year"),
    "GVC": ("本企业与国外采购商有长期合作", "We have long-term ties with foreign buyers"),
    "SOCAP": ("本企业与本地同行保持密切往来", "We keep close contact with local peers"),
}


def make_codebook(qid: str = "test_q", version: str = "1.0", n_per: int = 4,
                  sha: str = "0" * 64) -> Codebook:
    """A questionnaire with every item type and four Likert constructs, the last item of
    each construct reverse-keyed."""
    items = [
        Item("firm_id", "basic", "text", {"zh": "企业编号", "en": "Firm id"}, required=True,
             aliases=("企业编号", "编号")),
        Item("founded", "basic", "year", {"zh": "企业成立年份", "en": "Year founded"},
             min=1949, max=2026, aliases=("成立年份",)),
        Item("employees", "basic", "integer", {"zh": "员工人数", "en": "Number of employees"},
             min=1, max=100000),
        Item("sales", "basic", "number", {"zh": "年销售额（万元）", "en": "Annual sales"}, min=0),
        Item("ownership", "basic", "single", {"zh": "企业所有制类型", "en": "Ownership"},
             options=(Option(1, {"zh": "国有", "en": "State-owned"}),
                      Option(2, {"zh": "民营", "en": "Private"}),
                      Option(3, {"zh": "外资", "en": "Foreign"}))),
        Item("channels", "basic", "multiple", {"zh": "主要销售渠道", "en": "Sales channels"},
             options=(Option(1, {"zh": "外贸", "en": "Export"}),
                      Option(2, {"zh": "内销", "en": "Domestic"}),
                      Option(3, {"zh": "电商", "en": "E-commerce"}))),
    ]
    constructs = {}
    sections = [Section("basic", {"zh": "基本情况", "en": "Basics"},
                        tuple(i.id for i in items))]
    for cid, (zh, en) in CONSTRUCT_TEXT.items():
        ids = []
        for k in range(1, n_per + 1):
            iid = f"{cid}{k}"
            rev = k == n_per
            items.append(Item(iid, cid.lower(), "likert",
                              {"zh": f"{zh}（第{k}项）" if not rev else f"{zh}并不重要（第{k}项）",
                               "en": f"{en} ({k})" if not rev else f"{en} does not matter ({k})"},
                              required=True, construct=cid, reverse=rev, scale=AGREE,
                              missing_codes=("99",) if cid == "SOCAP" else ()))
            ids.append(iid)
        constructs[cid] = Construct(cid, {"zh": cid, "en": cid}, "basic", tuple(ids))
        sections.append(Section(cid.lower(), {"zh": cid, "en": cid}, tuple(ids), construct=cid))
    items.append(Item("note", "end", "text", {"zh": "其他意见", "en": "Other comments"}))
    return Codebook(id=qid, version=version, title={"zh": "测试问卷", "en": "Test"},
                    cluster={"id": "testcluster", "zh": "测试", "en": "Test cluster"},
                    respondent_id="firm_id", missing_codes=("", "空", "无", "N/A", "-"),
                    scales={"agree5": AGREE}, constructs=constructs, sections=tuple(sections),
                    items=tuple(items), path=None, sha256=sha)


def clean_rows(cb: Codebook, n: int, seed: int = 1) -> list[dict[str, Any]]:
    """Plausible coded answers: each firm has a level per construct; reverse items reversed."""
    rng = random.Random(seed)
    rows = []
    for f in range(n):
        row: dict[str, Any] = {"firm_id": f"F{f + 1:04d}", "founded": rng.randint(1980, 2020),
                               "employees": rng.randint(5, 900), "sales": rng.randint(10, 9000),
                               "ownership": rng.randint(1, 3),
                               "channels": ",".join(str(c) for c in sorted(
                                   rng.sample([1, 2, 3], rng.randint(1, 3)))),
                               "note": ""}
        for con in cb.constructs.values():
            level = rng.choice([2, 3, 3, 4, 4, 5])
            for iid in con.items:
                v = min(5, max(1, level + rng.choice([-1, 0, 0, 0, 1])))
                row[iid] = 6 - v if cb.item(iid).reverse else v
        rows.append(row)
    return rows


def write_wide(path: Path, cb: Codebook, rows: list[dict[str, Any]], *, marker: bool = True,
               text_row: bool = True, headers: list[str] | None = None,
               sheet: str = "Data", extra: dict[str, Any] | None = None) -> Path:
    """Our wide template: ids in row 1, question text in row 2, data from row 3."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    ids = [i.id for i in cb.items]
    ws.append(headers or ids)
    if text_row:
        ws.append([cb.item(i).text["zh"] for i in ids])
    for r in rows:
        ws.append([r.get(i) if r.get(i) != "" else None for i in ids])
    if marker:
        m = wb.create_sheet("_surveykit")
        m.sheet_state = "hidden"
        for k, v in {"questionnaire_id": cb.id, "version": cb.version,
                     "codebook_sha256": cb.sha256, "layout": "wide", "lang": "zh",
                     "first_data_row": 3 if text_row else 2, **(extra or {})}.items():
            m.append([k, v])
    wb.save(path)
    return path


def write_form(path: Path, cb: Codebook, row: dict[str, Any], *, ticks: dict[str, Any] | None = None,
               marker: bool = True, title_rows: int = 3, extra: dict[str, Any] | None = None,
               answer_override: dict[str, Any] | None = None) -> Path:
    """Our form template: a title block, a header row with "item" in A, then A id,
    B zh text, C en text, D answer, E..I tick boxes for the Likert points.

    ``ticks`` maps item -> (column offset 0..4, mark) to tick a box instead of
    writing D; ``answer_override`` writes D verbatim."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Questionnaire"
    ws.append([f"{cb.title['zh']} / {cb.title['en']}"])
    for _ in range(title_rows - 1):
        ws.append([])
    ws.append(["item", "问题", "Question", "回答 / Answer",
               *[f"{p} {AGREE.labels[p]['zh']}" for p in range(1, 6)]])
    ticks = ticks or {}
    answer_override = answer_override or {}
    for it in cb.items:
        value = row.get(it.id)
        line: list[Any] = [it.id, it.text["zh"], it.text["en"], None, None, None, None, None, None]
        if it.id in answer_override:
            line[3] = answer_override[it.id]
        elif it.id in ticks:
            marks = ticks[it.id]
            for off, mark in (marks if isinstance(marks, list) else [marks]):
                line[4 + off] = mark
        elif value not in (None, ""):
            line[3] = value
        ws.append(line)
    if marker:
        m = wb.create_sheet("_surveykit")
        m.sheet_state = "hidden"
        for k, v in {"questionnaire_id": cb.id, "version": cb.version,
                     "codebook_sha256": cb.sha256, "layout": "form", "lang": "both",
                     "answer_column": "D", "tick_columns": "E:I", **(extra or {})}.items():
            m.append([k, v])
    wb.save(path)
    return path


def write_csv(path: Path, cb: Codebook, rows: list[dict[str, Any]], *, encoding: str = "utf-8-sig",
              headers: list[str] | None = None, sep: str = ",") -> Path:
    """A CSV export as Excel on Chinese Windows writes it (GBK) or with a UTF-8 BOM."""
    import csv
    import io

    ids = [i.id for i in cb.items]
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=sep)
    w.writerow(headers or ids)
    for r in rows:
        w.writerow(["" if r.get(i) is None else r.get(i) for i in ids])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def write_ods(path: Path, table: list[list[Any]], sheet: str = "Data") -> Path:
    """A minimal OpenDocument spreadsheet, written by hand (no ODS writer is installed)."""
    import zipfile
    from xml.sax.saxutils import escape

    cells = []
    for row in table:
        out = []
        for v in row:
            if v is None or v == "":
                out.append("<table:table-cell/>")
            elif isinstance(v, (int, float)):
                out.append(f'<table:table-cell office:value-type="float" office:value="{v}">'
                           f"<text:p>{v}</text:p></table:table-cell>")
            else:
                out.append(f'<table:table-cell office:value-type="string"><text:p>{escape(str(v))}'
                           f"</text:p></table:table-cell>")
        cells.append("<table:table-row>" + "".join(out) + "</table:table-row>")
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="{sheet}">'
        + "".join(cells) + "</table:table></office:spreadsheet></office:body>"
        "</office:document-content>")
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:version="1.2" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>")
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return path


def write_zip_bomb(path: Path, mib: int = 1100) -> Path:
    """An .xlsx-named zip whose sheet member inflates to ``mib`` MiB of zeros (about 1000:1).

    Written by hand so that building it costs one pass of zlib; the CRC is not
    computed (the importer must refuse the file before inflating anything).
    """
    import struct
    import zlib

    comp = zlib.compressobj(1, zlib.DEFLATED, -15)
    chunk = b"\0" * (1 << 20)
    parts = [comp.compress(chunk) for _ in range(mib)]
    parts.append(comp.flush())
    data = b"".join(parts)
    members = [("[Content_Types].xml", b"<Types/>", 0, 8), ("xl/worksheets/sheet1.xml", data,
                                                             mib << 20, 8)]
    out = bytearray()
    central = bytearray()
    for name, payload, usize, method in members:
        if usize == 0:
            usize, method, crc = len(payload), 0, zlib.crc32(payload)
        else:
            crc = 0
        nb = name.encode()
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(payload),
                           usize, len(nb), 0) + nb + payload
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc,
                               len(payload), usize, len(nb), 0, 0, 0, 0, 0, offset) + nb
    cd_offset = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central),
                       cd_offset, 0)
    path.write_bytes(bytes(out))
    return path


def write_raw_xlsx(path: Path, sheet_xml: str | bytes, *, sheet: str = "Data",
                   hidden_extra: str | None = None) -> Path:
    """A minimal .xlsx written by hand around one worksheet XML (for inputs no writer makes:
    entity declarations, cached formula values, lying dimensions, huge sheets)."""
    import zipfile

    sheets = [(sheet, "visible")] + ([(hidden_extra, "hidden")] if hidden_extra else [])
    ct = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
          '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
          '<Default Extension="xml" ContentType="application/xml"/>'
          '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
          + "".join(f'<Override PartName="/xl/worksheets/sheet{k}.xml" ContentType="application/'
                    f'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                    for k in range(1, len(sheets) + 1)) + "</Types>")
    rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    wb = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
          '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
          'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
          + "".join(f'<sheet name="{n}" sheetId="{k}" state="{st}" r:id="rId{k}"/>'
                    for k, (n, st) in enumerate(sheets, 1)) + "</sheets></workbook>")
    wbrels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
              '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
              + "".join(f'<Relationship Id="rId{k}" Type="http://schemas.openxmlformats.org/'
                        f'officeDocument/2006/relationships/worksheet" '
                        f'Target="worksheets/sheet{k}.xml"/>' for k in range(1, len(sheets) + 1))
              + "</Relationships>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", ct)
        z.writestr("_rels/.rels", rels)
        z.writestr("xl/workbook.xml", wb)
        z.writestr("xl/_rels/workbook.xml.rels", wbrels)
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        if hidden_extra:
            z.writestr("xl/worksheets/sheet2.xml", sheet_row_xml([["junk", "hidden"]]))
    return path


def sheet_row_xml(table: list[list[Any]], *, dimension: str | None = None, doctype: str = "",
                  formulas: dict[str, tuple[str, Any]] | None = None) -> str:
    """Worksheet XML of a small table (inline strings); ``formulas`` maps a cell to
    (formula, cached value or None)."""
    from xml.sax.saxutils import escape

    from surveykit.ingest.readers import cell_ref

    formulas = formulas or {}
    rows = []
    for r, row in enumerate(table):
        cells = []
        for c, v in enumerate(row):
            ref = cell_ref(r, c)
            if ref in formulas:
                f, cached = formulas[ref]
                val = "" if cached is None else f"<v>{cached}</v>"
                cells.append(f'<c r="{ref}"><f>{escape(f)}</f>{val}</c>')
            elif v is None or v == "":
                continue
            elif isinstance(v, (int, float)):
                cells.append(f'<c r="{ref}"><v>{v}</v></c>')
            elif isinstance(v, str) and v.startswith("&"):  # an entity reference, verbatim
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{v}</t></is></c>')
            else:
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(v))}</t></is></c>')
        rows.append(f'<row r="{r + 1}">' + "".join(cells) + "</row>")
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' + doctype +
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            + dim + "<sheetData>" + "".join(rows) + "</sheetData></worksheet>")
