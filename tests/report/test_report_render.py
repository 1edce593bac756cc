"""Rendering a results bundle: every format, every section, graceful omissions, errors, the CLI."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from surveykit.errors import ReportError
from surveykit.report import render_report
from surveykit.report.document import SECTIONS

from .conftest import ALL_FORMATS, HAVE_DOCX
from .report_fixture import SCRIPT, make_bundle

SECTION_IDS = [sid for sid, _ in SECTIONS]
VOID = {"meta", "br", "hr", "img", "input", "link", "area", "base", "col", "embed", "source", "track", "wbr"}
SVG_LEAVES = {"rect", "line", "path", "ellipse", "circle", "polygon", "polyline", "stop"}


class StrictParser(HTMLParser):
    """Checks that every element is closed in order and collects ids, tags and text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.ids: list[str] = []
        self.tags: dict[str, int] = {}
        self.text: list[str] = []
        self.attrs: list[tuple[str, str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        for k, v in attrs:
            self.attrs.append((tag, k, v))
            if k == "id":
                self.ids.append(v)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        for k, v in attrs:
            self.attrs.append((tag, k, v))
            if k == "id":
                self.ids.append(v)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}> at {self.getpos()}")
            return
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse(path: Path) -> StrictParser:
    p = StrictParser()
    p.feed(path.read_text(encoding="utf-8"))
    p.close()
    assert p.errors == []
    assert p.stack == []
    return p


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_format_renders(comparison_bundle, lang):
    out = comparison_bundle / "report"
    expected = {"html": f"report.{lang}.html", "md": f"report.{lang}.md", "docx": f"tables.{lang}.docx",
                "tex": f"tables.{lang}.tex"}
    for fmt in ALL_FORMATS:
        path = out / expected[fmt]
        assert path.stat().st_size > 5000, path
    csvs = sorted((out / lang).glob("table*.csv"))
    texs = sorted((out / lang).glob("table*.tex"))
    svgs = sorted((out / lang).glob("figure*.svg"))
    assert len(csvs) == len(texs) >= 35
    assert [p.stem for p in csvs] == [p.stem for p in texs]
    # numbered 1..N without gaps, in report order
    assert [int(p.name[5:7]) for p in csvs] == list(range(1, len(csvs) + 1))
    assert [p.name.split("_", 1)[0] for p in svgs] == ["figure1", "figure2", "figure3", "figure4"]


def test_render_returns_the_files_it_wrote(tmp_path):
    bundle = make_bundle(tmp_path, scope="cluster")
    files = render_report(bundle, lang="en", formats=("html", "tex"))
    assert files[0] == bundle / "report" / "report.en.html"
    assert files[1] == bundle / "report" / "tables.en.tex"
    assert all(f.exists() for f in files)
    assert not (bundle / "report" / "report.en.md").exists()
    assert render_report(bundle, lang="en", formats="md, html")[:2] == [
        bundle / "report" / "report.en.html", bundle / "report" / "report.en.md"]
    assert {f.suffix for f in files[2:]} == {".csv", ".tex"}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_html_parses_and_has_every_section_in_order(comparison_bundle, lang):
    p = parse(comparison_bundle / "report" / f"report.{lang}.html")
    sections = [i[4:] for i in p.ids if i.startswith("sec-")]
    assert sections == SECTION_IDS
    assert p.tags["section"] == len(SECTION_IDS)
    assert len(p.ids) == len(set(p.ids))  # SVG markers and titles of several figures do not collide
    # one table element per exported table, each with number and caption
    n_tables = len(list((comparison_bundle / "report" / lang).glob("table*.csv")))
    assert p.tags["table"] == n_tables
    assert p.tags["svg"] == 4
    text = "".join(p.text)
    label = "表" if lang == "zh" else "Table"
    numbers = [int(n) for n in re.findall(rf"{label} (\d+)(?=\D)", text)]
    assert numbers[:n_tables] == list(range(1, n_tables + 1))


def test_html_is_self_contained(comparison_bundle):
    html = (comparison_bundle / "report" / "report.en.html").read_text(encoding="utf-8")
    p = parse(comparison_bundle / "report" / "report.en.html")
    assert "script" not in p.tags and "link" not in p.tags and "img" not in p.tags and "iframe" not in p.tags
    for tag, attr, value in p.attrs:
        assert attr not in ("src", "srcset"), (tag, attr, value)
        if attr == "href":
            assert value.startswith("#"), value
    assert "@import" not in html and "@font-face" not in html
    assert re.findall(r"url\((?!#)", html) == []  # only references inside the page (SVG markers)
    assert '"Noto Sans CJK SC", "WenQuanYi Micro Hei", "Source Han Sans SC"' in html
    assert "@media print" in html


def test_html_escapes_data_text(comparison_bundle):
    for lang in ("zh", "en"):
        html = (comparison_bundle / "report" / f"report.{lang}.html").read_text(encoding="utf-8")
        assert SCRIPT not in html
        assert "<script" not in html.lower()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        # the visible text still says what the firm is called
        assert SCRIPT in "".join(parse(comparison_bundle / "report" / f"report.{lang}.html").text)


def test_markdown_escapes_data_text(comparison_bundle):
    md = (comparison_bundle / "report" / "report.en.md").read_text(encoding="utf-8")
    assert SCRIPT not in md and "<script" not in md
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md
    # a pipe from the data cannot split a table row: every row of the findings table has 7 cells
    block = md.split("Data-quality findings: Ningbo apparel cluster")[1].split("*Note.*")[0]
    rows = [line for line in block.splitlines() if line.startswith("|")]
    assert len(rows) == 2 + 5
    for line in rows:
        assert len(re.findall(r"(?<!\\)\|", line)) == 8, line
    assert "```\nsurveykit rerun" in md


def test_simulated_banner_in_every_format(comparison_bundle):
    out = comparison_bundle / "report"
    html = (out / "report.en.html").read_text(encoding="utf-8")
    assert 'id="simulated-banner"' in html and html.index("SIMULATED DATA") < html.index("<h1>")
    assert (out / "report.en.md").read_text(encoding="utf-8").startswith("> **SIMULATED DATA")
    assert "\\fcolorbox{red}{yellow}" in (out / "tables.en.tex").read_text(encoding="utf-8")
    assert "模拟数据" in (out / "report.zh.html").read_text(encoding="utf-8").split("<h1>")[0]
    for csv_file in (out / "en").glob("table*.csv"):
        rows = list(csv.reader(io.StringIO(csv_file.read_text(encoding="utf-8-sig"))))
        assert rows[1][0].startswith("SIMULATED DATA"), csv_file
    for tex in (out / "en").glob("table*.tex"):
        text = tex.read_text(encoding="utf-8")
        assert text.startswith("% SIMULATED DATA") and "SIMULATED DATA, not a survey." in text, tex
    if HAVE_DOCX:
        import docx

        document = docx.Document(str(out / "tables.en.docx"))
        assert document.paragraphs[1].text.startswith("SIMULATED DATA")


def test_no_banner_for_real_data(single_bundle):
    out = single_bundle / "report"
    for path in (out / "report.en.html", out / "report.en.md", out / "tables.en.tex"):
        assert "SIMULATED" not in path.read_text(encoding="utf-8"), path
    assert 'id="simulated-banner"' not in (out / "report.en.html").read_text(encoding="utf-8")


def test_single_cluster_bundle_omits_the_comparison(single_bundle):
    p = parse(single_bundle / "report" / "report.en.html")
    sections = [i[4:] for i in p.ids if i.startswith("sec-")]
    assert sections == [s for s in SECTION_IDS if s != "comparison"]
    assert p.tags["svg"] == 2  # Likert bars and one path diagram, no ladder
    text = "".join(p.text)
    assert "Ningbo apparel cluster" in text and "Yongkang" not in text


def test_sparse_bundle_renders_what_it_has(tmp_path):
    bundle = tmp_path / "sparse"
    bundle.mkdir()
    (bundle / "results.json").write_text(json.dumps({
        "schema": "surveykit.results/1", "simulated": False, "scope": "cluster", "groups": ["g"],
        "per_group": {"g": {"n_firms": 12, "n_analysed": 10, "n_quarantined": 2, "n_flagged": 0,
                            "reliability": [{"construct": "A", "n_items": 3, "n": 10, "alpha": None},
                                            {"construct": "B", "n_items": 3, "n": 10, "alpha": 0.8}]}},
    }), encoding="utf-8")
    files = render_report(bundle, lang="zh", formats=("html", "md", "tex"))
    p = parse(files[0])
    assert [i for i in p.ids if i.startswith("sec-")] == ["sec-data", "sec-reliability", "sec-provenance"]
    text = "".join(p.text)
    assert "没有 manifest.json" in text
    assert "—" in text and ".80" in text  # the missing alpha, the present one
    html = files[0].read_text(encoding="utf-8")
    assert ">α</th>" in html and ">ω</th>" not in html  # a column empty in every row is left out
    assert len([f for f in files if f.suffix == ".csv"]) == 2


def test_limits_gather_every_source(comparison_bundle):
    p = parse(comparison_bundle / "report" / "report.en.html")
    html = (comparison_bundle / "report" / "report.en.html").read_text(encoding="utf-8")
    limits = html.split('id="sec-limits"')[1].split("</section>")[0]
    assert limits.count("<li>") == 1 + 2 + 1 + 1  # simulated data, one per cluster, preflight, comparison
    assert "Ningbo apparel cluster: Small sample (n = 296); R&amp;D_100% {x}." in limits
    assert "Strict invariance fails" in limits and "Yongkang N/q is about 2.1." in limits
    assert p.errors == []


def test_numbers_follow_apa(comparison_bundle):
    md = (comparison_bundle / "report" / "report.en.md").read_text(encoding="utf-8")
    fit = md.split("*CFA model fit*")[1].split("*Note.*")[0]
    assert "| CFI | .962 | " in fit  # bounded by 1: no leading zero
    assert "| p | &lt; .001 |" in fit  # "<" as an entity: Markdown passes raw "<" through as HTML
    paths = md.split("*Structural paths: Ningbo apparel cluster*")[1].split("*Note.*")[0]
    assert re.search(r"\d\.\d{3}(\\\*){1,3} \|", paths)  # beta with stars, escaped for Markdown
    assert "−" in paths  # true minus sign for a negative estimate


def test_moderation_reads_both_simple_slope_layouts(comparison_bundle):
    md = (comparison_bundle / "report" / "report.en.md").read_text(encoding="utf-8")
    ningbo = md.split("*Moderation by cluster governance: Ningbo apparel cluster*")[1].split("*Note.*")[0]
    yongkang = md.split("*Moderation by cluster governance: Yongkang hardware cluster*")[1].split("*Note.*")[0]
    # contract layout {"-1sd": .2, "mean": .3, "+1sd": .4}
    assert r"| 0.200 | 0.300 | 0.400 | 2.10 |" in ningbo  # Johnson–Neyman: the one finite point
    # analyze's record layout, with a p value per slope
    assert r"| 0.150 | 0.250\*\* | 0.350\*\*\* | — |" in yongkang
    assert "ΔR²" in yongkang


def test_grouped_column_shows_each_construct_once(comparison_bundle):
    md = (comparison_bundle / "report" / "report.en.md").read_text(encoding="utf-8")
    block = md.split("*Confirmatory factor analysis loadings: Ningbo apparel cluster*")[1].split("*Note.*")[0]
    rows = [line for line in block.splitlines() if line.startswith("| ")][1:]
    assert len(rows) == 44
    assert sum(line.startswith("| Cluster learning |") for line in rows) == 1
    assert sum(line.startswith("|  | ") for line in rows) == 44 - 11
    # the CSV repeats the construct on every row, so each row stands alone
    csv_rows = list(csv.reader(io.StringIO(
        (comparison_bundle / "report" / "en" / "table13_cfa_loadings_ningbo_apparel.csv").read_text("utf-8-sig"))))
    assert sum(r[0] == "Cluster learning" for r in csv_rows) == 4


def test_rerun_command_and_provenance(comparison_bundle):
    html = (comparison_bundle / "report" / "report.en.html").read_text(encoding="utf-8")
    assert re.search(r"surveykit rerun \S*comparison/manifest\.json", html)
    manifest = json.loads((comparison_bundle / "manifest.json").read_text(encoding="utf-8"))
    for item in manifest["inputs"]:
        assert item["sha256"] in html
    assert "2010" in html and manifest["versions"]["numpy"] in html
    assert "LEARN =~ LEARN1" in html


def test_stale_table_files_are_removed(tmp_path):
    bundle = make_bundle(tmp_path, scope="cluster")
    old = bundle / "report" / "en" / "table99_gone.csv"
    old.parent.mkdir(parents=True)
    old.write_text("x", encoding="utf-8")
    keep = bundle / "report" / "en" / "notes.txt"
    keep.write_text("mine", encoding="utf-8")
    render_report(bundle, lang="en", formats=("html",))
    assert not old.exists() and keep.exists()


def test_user_templates_override_and_stay_escaped(tmp_path):
    bundle = make_bundle(tmp_path, scope="cluster")
    templates = tmp_path / "mine"
    templates.mkdir()
    (templates / "report.html.j2").write_text(
        "<p>custom {{ doc.title }}</p>{% for t in doc.tables %}{% for row in t.body(lang) %}"
        "<i>{{ row[-1] }}</i>{% endfor %}{% endfor %}\n"
        "{% include 'report.css' %}", encoding="utf-8")
    html = render_report(bundle, lang="en", formats=("html",), templates=templates)[0].read_text(encoding="utf-8")
    assert html.startswith("<p>custom GUM model analysis R&amp;D_100% {x}</p>")
    assert "&lt;script&gt;" in html and SCRIPT not in html
    assert "@media print" in html  # packaged files remain reachable


def test_figures_are_well_formed_svg(comparison_bundle):
    ns = {"s": "http://www.w3.org/2000/svg"}
    for svg in (comparison_bundle / "report" / "zh").glob("figure*.svg"):
        root = ET.parse(svg).getroot()
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert root.find("s:title", ns) is not None
        assert root.findall(".//s:text", ns), svg  # labels are text, not paths


def test_path_diagram_emphasises_significant_paths(comparison_bundle):
    results = json.loads((comparison_bundle / "results.json").read_text(encoding="utf-8"))
    paths = results["per_group"]["ningbo_apparel"]["structural"]["paths"]
    svg = next((comparison_bundle / "report" / "en").glob("figure2_paths_ningbo_apparel.svg")).read_text()
    root = ET.fromstring(svg.split("\n", 1)[1])
    lines = [e for e in root.iter("{http://www.w3.org/2000/svg}line") if e.get("marker-end")]
    solid = [e for e in lines if e.get("stroke-dasharray") is None]
    assert len(lines) == len(paths)
    assert len(solid) == sum(p["pvalue"] < 0.05 for p in paths) > 0
    words = " ".join(t.text for t in root.iter("{http://www.w3.org/2000/svg}text")).split()
    for name in ("Upgrading-oriented public policy", "Cluster learning", "Technical capability upgrading"):
        assert all(w in words for w in name.split()), name  # names may wrap onto two lines
    # node columns: auxiliary and governance left, basic middle, outcomes right
    ellipses = {e.find("{http://www.w3.org/2000/svg}title").text: float(e.get("cx"))
                for e in root.iter("{http://www.w3.org/2000/svg}ellipse")}
    assert ellipses["POLICY"] == ellipses["LEADER"] == ellipses["GOVERN"] < ellipses["LEARN"] == ellipses["SOCAP"]
    assert ellipses["SOCAP"] < ellipses["UP_TECH"] == ellipses["UP_SOCAP"]


def test_likert_bars_reflect_reverse_keyed_items():
    from surveykit.report.figures import _construct_counts

    results = {"constructs": {"A": {"reverse": ["A2"]}}, "items": {},
               "per_group": {"g": {"item_stats": [
                   {"item": "A1", "construct": "A", "counts": {"1": 1, "2": 0, "3": 0, "4": 0, "5": 9}},
                   {"item": "A2", "construct": "A", "counts": {"1": 7, "2": 0, "3": 0, "4": 0, "5": 3}}]}}}
    assert _construct_counts(results, "g", "A", 1, 5) == [4, 0, 0, 0, 16]


def test_invariance_ladder_states_decisions_in_words(comparison_bundle):
    svg = (comparison_bundle / "report" / "zh" / "figure4_invariance.svg").read_text(encoding="utf-8")
    for word in ("形态等同", "载荷等同", "成立", "部分成立", "不成立"):
        assert word in svg


@pytest.mark.parametrize(("setup", "message"), [
    (lambda d: None, r"no such results bundle"),
    (lambda d: d.mkdir(), r"results\.json: not found"),
    (lambda d: (d.mkdir(), (d / "results.json").write_text("{oops", encoding="utf-8")),
     r"results\.json: not valid JSON \(line 1, column 2"),
    (lambda d: (d.mkdir(), (d / "results.json").write_text('{"schema": "other/2"}', encoding="utf-8")),
     r"schema 'other/2' is not 'surveykit.results/1'"),
])
def test_bundle_errors_name_the_file(tmp_path, setup, message):
    bundle = tmp_path / "b"
    setup(bundle)
    with pytest.raises(ReportError, match=message):
        render_report(bundle)


def test_bad_options_are_errors(tmp_path):
    bundle = make_bundle(tmp_path, scope="cluster")
    with pytest.raises(ReportError, match=r"lang \('fr'\) must be one of zh, en"):
        render_report(bundle, lang="fr")
    with pytest.raises(ReportError, match=r"format 'pdf' is unknown"):
        render_report(bundle, formats=("html", "pdf"))
    with pytest.raises(ReportError, match=r"--templates .*nowhere: no such folder"):
        render_report(bundle, formats=("html",), templates=tmp_path / "nowhere")


def test_missing_python_docx_is_a_clear_error(tmp_path, monkeypatch):
    import sys

    bundle = make_bundle(tmp_path, scope="cluster")
    monkeypatch.setitem(sys.modules, "docx", None)  # import docx now raises ImportError
    with pytest.raises(ReportError, match=r"docx format needs python-docx: install it with pip install "
                                          r"'surveykit\[docx\]'"):
        render_report(bundle, formats=("html", "docx"))
    assert not (bundle / "report").exists()  # nothing half-written


def test_cli_report(tmp_path, capsys):
    from surveykit.cli import main

    bundle = make_bundle(tmp_path, scope="cluster")
    assert main(["report", str(bundle), "--lang", "en", "--format", "html,md"]) == 0
    out = capsys.readouterr().out
    assert f"wrote {bundle / 'report' / 'report.en.html'}" in out
    assert f"wrote {bundle / 'report' / 'report.en.md'}" in out
    assert main(["report", str(tmp_path / "missing")]) == 1
    assert capsys.readouterr().err == (f"error: {tmp_path / 'missing'}: no such results bundle "
                                       f"(a folder written by `surveykit analyze`).\n")
    assert main(["report", str(bundle), "--format", "pdf"]) == 2
    assert "'pdf' is not one of html, md, docx, tex" in capsys.readouterr().err


def _key_paths(node, prefix=(), depth=0):
    if isinstance(node, dict) and depth < 3:
        for k, v in node.items():
            yield (*prefix, k)
            yield from _key_paths(v, (*prefix, k), depth + 1)


def test_any_missing_or_null_part_is_left_out_not_a_crash(tmp_path):
    """Every key down to three levels, removed or set to null, still builds a document."""
    import copy

    from surveykit.report.document import build_document

    bundle = make_bundle(tmp_path, scope="comparison", hostile=False)
    results = json.loads((bundle / "results.json").read_text(encoding="utf-8"))
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    paths = [p for p in _key_paths(results)
             if len(p) > 1 and (p[0] == "comparison" or p[:2] == ("per_group", "yongkang_hardware"))]
    assert len(paths) > 30
    for path in paths:
        for mode in ("drop", "null"):
            broken = copy.deepcopy(results)
            parent = broken
            for k in path[:-1]:
                parent = parent[k]
            if mode == "drop":
                del parent[path[-1]]
            else:
                parent[path[-1]] = None
            doc = build_document(broken, manifest, "en", bundle)
            assert doc.sections[-1].id == "provenance", path
            for t in doc.tables:
                t.body("en")


def test_derived_samples_do_not_repeat_the_data_tables(tmp_path):
    # `surveykit analyze` adds a pooled sample to per_group without listing it in groups
    bundle = make_bundle(tmp_path, scope="comparison", hostile=False)
    results = json.loads((bundle / "results.json").read_text(encoding="utf-8"))
    results["per_group"]["pooled"] = dict(results["per_group"]["ningbo_apparel"])
    results["group_labels"]["pooled"] = {"zh": "合并样本", "en": "Pooled sample"}
    (bundle / "results.json").write_text(json.dumps(results), encoding="utf-8")
    html = render_report(bundle, lang="en", formats=("html",))[0].read_text(encoding="utf-8")
    assert "Structural paths: Pooled sample" in html and "Reliability: Pooled sample" in html
    assert "Item statistics: Pooled sample" not in html and "Data-quality findings: Pooled sample" not in html
    assert html.count("<svg") == 5  # Likert bars (two clusters), three path diagrams, the ladder
    # the same exclusion policy for every cluster is listed once, without a cluster column
    policy = html.split("Exclusion policy</span>")[1].split("</table>")[0]
    assert "Cluster</th>" not in policy and policy.count("max_missing_share") == 1


def test_rendering_imports_no_heavy_library(tmp_path):
    import subprocess
    import sys

    bundle = make_bundle(tmp_path, scope="cluster")
    code = ("import sys; from surveykit.report import render_report; "
            f"render_report({str(bundle)!r}, lang='en', formats=('html', 'md', 'tex')); "
            "print([m for m in ('pandas', 'numpy', 'scipy', 'statsmodels') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
