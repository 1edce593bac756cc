"""Render a results bundle (``reports/NAME/``) into reports and thesis-ready tables.

Outputs, all under ``BUNDLE/report/`` (``LANG`` is ``zh`` or ``en``, so both
languages can sit side by side):

=================================  =================================================
file                               content
=================================  =================================================
``report.LANG.html``               the full report: one self-contained file (inline
                                   CSS and SVG, no scripts, no network), print-ready
``report.LANG.md``                 the full report in Markdown; figures as SVG files
``tables.LANG.docx``               every table, APA style, numbered and captioned
``tables.LANG.tex``                every table (booktabs) in a document for ``xelatex``
``LANG/tableNN_KEY.csv``           each table for spreadsheets (always written)
``LANG/tableNN_KEY.tex``           each table as a LaTeX fragment (with ``tex``)
``LANG/figureN_KEY.svg``           each figure (with ``md``)
=================================  =================================================

The templates (``report.html.j2``, ``report.md.j2`` and the files they
include) ship in ``surveykit/report/templates``; a folder given as
``templates`` is searched first, so a user overrides one template by giving a
file of the same name.  HTML output is autoescaped; Markdown output escapes
every value through :func:`surveykit.report.escape.markdown`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from surveykit.errors import ReportError

__all__ = ["render_report", "load_bundle", "FORMATS", "LANGS"]

FORMATS = ("html", "md", "docx", "tex")
LANGS = ("zh", "en")
SCHEMA = "surveykit.results/1"


def _read_json(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReportError(f"{path}: not found; a results bundle is written by `surveykit analyze`.") from None
    except (UnicodeDecodeError, OSError) as exc:
        raise ReportError(f"{path}: cannot be read ({exc}).") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}).") from None
    if not isinstance(data, dict):
        raise ReportError(f"{path}: expected a JSON object, found {type(data).__name__}.")
    return data


def load_bundle(bundle_dir: str | Path) -> tuple[dict, dict | None]:
    """Read ``results.json`` (required) and ``manifest.json`` (optional) of a bundle.

    Raises
    ------
    ReportError
        When the folder or ``results.json`` is missing, not JSON, or of another schema.
    """
    bundle = Path(bundle_dir)
    if not bundle.is_dir():
        raise ReportError(f"{bundle}: no such results bundle (a folder written by `surveykit analyze`).")
    results = _read_json(bundle / "results.json")
    schema = results.get("schema")
    if not isinstance(schema, str) or not (schema == SCHEMA or schema.startswith(SCHEMA + ".")):
        raise ReportError(f"{bundle / 'results.json'}: schema {schema!r} is not {SCHEMA!r}.")
    if not isinstance(results.get("per_group"), dict):
        raise ReportError(f"{bundle / 'results.json'}: 'per_group' is missing or not an object.")
    manifest = _read_json(bundle / "manifest.json") if (bundle / "manifest.json").exists() else None
    return results, manifest


def _environment(templates: str | Path | None, *, markdown: bool):
    from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined
    from markupsafe import Markup

    from surveykit.report import escape

    loaders = []
    if templates is not None:
        folder = Path(templates)
        if not folder.is_dir():
            raise ReportError(f"--templates {folder}: no such folder.")
        loaders.append(FileSystemLoader(str(folder)))
    loaders.append(PackageLoader("surveykit.report", "templates"))
    if markdown:
        # Markdown has no autoescape of its own: every printed value passes through
        # escape.markdown unless it is Markup already (tables built by to_markdown).
        def finalize(value):
            if isinstance(value, Markup):
                return value
            return escape.markdown(value)

        def code_block(text):
            # a fence longer than any backtick run inside, so the text cannot close it
            import re

            text = escape.docx(text)
            run = max((len(r) for r in re.findall("`+", text)), default=0)
            fence = "`" * max(3, run + 1)
            return Markup(f"{fence}\n{text}\n{fence}")

        env = Environment(loader=ChoiceLoader(loaders), autoescape=False, finalize=finalize,
                          undefined=StrictUndefined, keep_trailing_newline=True, trim_blocks=True,
                          lstrip_blocks=True)
        env.filters["code_block"] = code_block
    else:
        env = Environment(loader=ChoiceLoader(loaders), autoescape=True, undefined=StrictUndefined,
                          trim_blocks=True, lstrip_blocks=True)
    return env


def _clean(folder: Path) -> None:
    """Remove per-table and per-figure files of an earlier render (numbers may have moved)."""
    if folder.is_dir():
        for pattern in ("table[0-9][0-9]_*.csv", "table[0-9][0-9]_*.tex", "figure[0-9]*_*.svg"):
            for old in folder.glob(pattern):
                old.unlink()


def render_report(bundle_dir: str | Path, *, lang: str = "zh", formats: Iterable[str] = FORMATS,
                  templates: str | Path | None = None) -> list[Path]:
    """Render a results bundle into ``BUNDLE/report/``; return the files written.

    Parameters
    ----------
    bundle_dir
        The bundle folder holding ``results.json`` and (for provenance) ``manifest.json``.
    lang
        ``"zh"`` or ``"en"``: language of headings, captions, labels and notes.
    formats
        Any of ``"html"``, ``"md"``, ``"docx"`` (needs python-docx) and ``"tex"``,
        as a sequence or a comma-separated string.  The per-table CSV files are
        always written.
    templates
        A folder searched before the packaged templates.

    Returns
    -------
    list of Path
        Every file written, reports first.

    Raises
    ------
    ReportError
        For a missing or malformed bundle, an unknown language or format, a missing
        template folder, or python-docx missing when ``docx`` is asked for.

    Notes
    -----
    Nothing is computed: every number comes from ``results.json``.  Sections whose
    data the bundle lacks are left out.  When ``results.json`` says
    ``"simulated": true`` every output carries a SIMULATED DATA banner.

    Examples
    --------
    >>> render_report("reports/ningbo_apparel", lang="en", formats=("html",))  # doctest: +SKIP
    [PosixPath('reports/ningbo_apparel/report/report.en.html'), ...]
    """
    if lang not in LANGS:
        raise ReportError(f"lang ({lang!r}) must be one of {', '.join(LANGS)}.")
    if isinstance(formats, str):  # "html,md", as on the command line
        formats = formats.split(",")
    formats = [f.strip().lower() for f in formats if f and f.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ReportError(f"format {unknown[0]!r} is unknown; choose from {', '.join(FORMATS)}.")
    from surveykit.report import tables as tb
    from surveykit.report.document import SECTIONS, build_document

    if "docx" in formats:
        tb._docx_module()  # fail before writing anything
    bundle = Path(bundle_dir)
    results, manifest = load_bundle(bundle)
    doc = build_document(results, manifest, lang, bundle)
    out = bundle / "report"
    parts = out / lang
    parts.mkdir(parents=True, exist_ok=True)
    _clean(parts)
    written: list[Path] = []
    table_files: list[Path] = []

    def stem(t) -> str:
        return f"table{t.number:02d}_{t.key}"

    for t in doc.tables:
        path = parts / f"{stem(t)}.csv"
        # utf-8-sig: Excel opens a BOM-marked CSV as UTF-8 (Chinese intact)
        path.write_text(tb.to_csv(t, lang, banner=doc.banner), encoding="utf-8-sig", newline="")
        table_files.append(path)
    from markupsafe import Markup

    figure_files: dict[str, Markup] = {}
    if "md" in formats:
        for f in doc.figures:
            path = parts / f"figure{f.number}_{f.key}.svg"
            path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n' + str(f.svg) + "\n", encoding="utf-8")
            figure_files[f.key] = Markup(f"{lang}/{path.name}")
            table_files.append(path)
    if "html" in formats:
        env = _environment(templates, markdown=False)
        html = env.get_template("report.html.j2").render(doc=doc, lang=lang)
        path = out / f"report.{lang}.html"
        path.write_text(html, encoding="utf-8")
        written.append(path)
    if "md" in formats:
        env = _environment(templates, markdown=True)
        md_tables = {t.key: Markup(tb.to_markdown(t, lang)) for t in doc.tables}
        text = env.get_template("report.md.j2").render(doc=doc, lang=lang, md_tables=md_tables,
                                                      figure_files=figure_files)
        path = out / f"report.{lang}.md"
        path.write_text(text, encoding="utf-8")
        written.append(path)
    if "docx" in formats:
        titles = {sid: doc.text(title) for sid, title in SECTIONS}
        written.append(tb.write_docx(doc.tables, out / f"tables.{lang}.docx", lang, title=doc.title,
                                     banner=doc.banner, sections=titles))
    if "tex" in formats:
        path = out / f"tables.{lang}.tex"
        path.write_text(tb.latex_document(doc.tables, lang, title=doc.title, banner=doc.banner), encoding="utf-8")
        written.append(path)
        for t in doc.tables:
            frag = parts / f"{stem(t)}.tex"
            banner = f"% {doc.banner}\n" if doc.banner else ""
            frag.write_text(banner + tb.to_latex(t, lang), encoding="utf-8")
            table_files.append(frag)
    return written + table_files
