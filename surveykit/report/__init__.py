"""Reports from a results bundle: HTML, Markdown, Word and LaTeX tables, SVG figures.

``render_report(bundle_dir, lang="zh", formats=("html", "md", "docx", "tex"))``
reads ``results.json`` and ``manifest.json`` written by ``surveykit analyze``
and writes ``BUNDLE/report/`` (see :mod:`surveykit.report.render`).  Nothing
here computes a statistic.
"""

from __future__ import annotations

from surveykit.report.render import FORMATS, LANGS, load_bundle, render_report

__all__ = ["render_report", "load_bundle", "FORMATS", "LANGS"]
