"""Text from the data is safe in every output: HTML, Markdown, LaTeX, docx and CSV."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from surveykit.report import escape

from .conftest import HAVE_DOCX
from .report_fixture import CONTROL, FORMULA, LATEX_HOSTILE, SCRIPT

SPECIALS = set("\\&%$#_{}~^")


def test_latex_escapes_the_ten_specials():
    assert escape.latex(LATEX_HOSTILE) == r"R\&D\_100\% \{x\}"
    assert escape.latex("\\") == r"\textbackslash{}"
    assert escape.latex("~^") == r"\textasciitilde{}\textasciicircum{}"
    assert escape.latex("$#") == r"\$\#"
    assert escape.latex("a\nb\x07") == "a b"
    assert escape.latex("<b>") == r"\textless{}b\textgreater{}"


@given(st.text())
def test_latex_leaves_no_bare_special_character(text):
    out = escape.latex(text)
    # delete every escape sequence the function may emit; nothing special may remain
    for seq in sorted(escape._LATEX.values(), key=len, reverse=True):
        out = out.replace(seq, "")
    assert not (set(out) & SPECIALS), out


@given(st.text())
def test_markdown_never_emits_markup_or_a_row_break(text):
    out = escape.markdown(text, line_start=False)
    assert "<" not in out and ">" not in out and "\n" not in out and "\r" not in out
    # every pipe is escaped by an odd run of backslashes, so none can end a table cell
    for m in re.finditer(r"(\\*)\|", out):
        assert len(m.group(1)) % 2 == 1, out


@pytest.mark.parametrize("cell", ["=1+2", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "＝1+1", FORMULA])
def test_spreadsheet_prefixes_formula_cells(cell):
    assert escape.spreadsheet(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["Ningbo", "宁波", "1-2", "a=b", "", " =x"])
def test_spreadsheet_keeps_plain_cells(cell):
    assert escape.spreadsheet(cell) == cell


@given(st.text())
def test_docx_text_is_xml_compatible(text):
    out = escape.docx(text)
    assert re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]", out) is None


def _rows(path):
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def test_csv_cells_cannot_run_as_formulas(comparison_bundle):
    seen_formula = seen_negative = False
    for path in (comparison_bundle / "report" / "en").glob("table*.csv"):
        for row in _rows(path):
            for cell in row:
                if cell.startswith(escape.FORMULA_PREFIXES):
                    float(cell)  # only a plain number may start with "-" or "+"
                    seen_negative = True
                seen_formula |= cell == "'" + FORMULA
    assert seen_formula and seen_negative
    findings = _rows(comparison_bundle / "report" / "en" / "table03_findings_ningbo_apparel.csv")
    respondents = [r[2] for r in findings[3:8]]
    assert SCRIPT in respondents and "'-2+3" in respondents and "'+cmd|' /C calc'!A0" in respondents


def test_csv_keeps_numbers_numeric(comparison_bundle):
    rows = _rows(comparison_bundle / "report" / "en" / "table05_item_stats_ningbo_apparel.csv")
    assert rows[0][0] == "Table 5. Item statistics: Ningbo apparel cluster"
    header = rows[2]
    assert header[:6] == ["Item", "Construct", "n", "Missing", "M", "SD"]
    first = rows[3]
    int(first[2])
    float(first[4])
    assert rows[-1][0].startswith("Note. ")


def test_latex_tables_escape_data_and_keep_their_shape(comparison_bundle):
    for lang in ("zh", "en"):
        tex = (comparison_bundle / "report" / f"tables.{lang}.tex").read_text(encoding="utf-8")
        assert LATEX_HOSTILE not in tex and "R\\&D\\_100\\% \\{x\\}" in tex
        assert SCRIPT not in tex
        n = len(list((comparison_bundle / "report" / lang).glob("table*.tex")))
        # one caption, one bottom rule and one forced number per table, in floats or longtables
        assert tex.count("\\caption{") == tex.count("\\bottomrule") == tex.count("\\setcounter{table}") == n
        assert tex.count("\\begin{table}") == tex.count("\\end{table}")
        assert tex.count("\\begin{longtable}") + tex.count("\\begin{xltabular}") >= 4  # 44-row tables
        assert tex.rstrip().endswith("\\end{document}")
    fragment = (comparison_bundle / "report" / "en" / "table03_findings_ningbo_apparel.tex").read_text(encoding="utf-8")
    assert "\\begin{tabularx}{\\linewidth}" in fragment  # long text wraps
    body = fragment.split("\\midrule\n")[1].split("\\bottomrule")[0]
    rows = [line for line in body.splitlines() if line.endswith("\\\\")]
    assert len(rows) == 5
    for line in rows:
        # 7 columns: exactly 6 unescaped column separators in every row
        assert len(re.findall(r"(?<!\\)&", line)) == 6, line
    assert "\\caption{Data-quality findings: Ningbo apparel cluster}" in fragment
    assert "\\label{tab:findings-ningbo-apparel}" in fragment


@pytest.mark.skipif(not HAVE_DOCX, reason="python-docx (extra 'docx') is not installed")
def test_docx_tables_are_numbered_captioned_and_clean(comparison_bundle):
    import docx

    n = len(list((comparison_bundle / "report" / "zh").glob("table*.csv")))
    for lang, label in (("zh", "表"), ("en", "Table")):
        document = docx.Document(str(comparison_bundle / "report" / f"tables.{lang}.docx"))
        assert len(document.tables) == n
        numbers = [p.text for p in document.paragraphs if re.fullmatch(rf"{label} \d+", p.text)]
        assert numbers == [f"{label} {i}" for i in range(1, n + 1)]
    document = docx.Document(str(comparison_bundle / "report" / "tables.en.docx"))
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    assert SCRIPT in cells  # Word shows the name as text; nothing in docx executes it
    assert "'" + FORMULA not in cells and FORMULA in cells
    clean = CONTROL.replace("\x07", "").replace("\x0b", "")
    assert clean in cells
    assert not any(re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", c) for c in cells)
    assert any(LATEX_HOSTILE in c for c in cells)


@pytest.mark.skipif(shutil.which("xelatex") is None, reason="xelatex (TeX Live) is not installed")
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_latex_document_compiles(comparison_bundle, tmp_path, lang):
    source = comparison_bundle / "report" / f"tables.{lang}.tex"
    shutil.copy(source, tmp_path / source.name)
    proc = subprocess.run(["xelatex", "-interaction=nonstopmode", "-halt-on-error", source.name], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:]
    log = (tmp_path / f"tables.{lang}.log").read_text(encoding="utf-8", errors="replace")
    assert "Missing character" not in log
    # no table wider than the text (an overfull alignment); a long unbreakable word may stick out
    assert re.search(r"Overfull \\hbox \([\d.]+pt too wide\) in alignment", log) is None
    assert (tmp_path / f"tables.{lang}.pdf").stat().st_size > 20000


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_markdown_renders_safely_even_where_raw_html_is_allowed(comparison_bundle, lang):
    # markdown-it-py (a dependency of rich) with raw HTML passed through: the worst renderer
    from markdown_it import MarkdownIt

    text = (comparison_bundle / "report" / f"report.{lang}.md").read_text(encoding="utf-8")
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(text)
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    tables = re.findall(r"<table>.*?</table>", html, flags=re.S)
    assert len(tables) == len(list((comparison_bundle / "report" / lang).glob("table*.csv")))
    for table in tables:
        rows = re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)
        widths = {len(re.findall(r"<t[hd][ >]", row)) for row in rows}
        assert len(widths) == 1, table[:300]  # no value split or merged a row
    assert html.count("<img") == 4
