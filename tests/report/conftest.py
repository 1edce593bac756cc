from __future__ import annotations

from pathlib import Path

import pytest

from .report_fixture import make_bundle

try:
    import docx  # noqa: F401

    HAVE_DOCX = True
except ImportError:  # the optional 'docx' extra; test_docx_* skip and say so
    HAVE_DOCX = False
ALL_FORMATS = ("html", "md", "docx", "tex") if HAVE_DOCX else ("html", "md", "tex")


@pytest.fixture(scope="session")
def comparison_bundle(tmp_path_factory) -> Path:
    """A two-cluster bundle with hostile text, rendered once in both languages and every format."""
    from surveykit.report import render_report

    bundle = make_bundle(tmp_path_factory.mktemp("bundles"), scope="comparison")
    for lang in ("zh", "en"):
        render_report(bundle, lang=lang, formats=ALL_FORMATS)
    return bundle


@pytest.fixture(scope="session")
def single_bundle(tmp_path_factory) -> Path:
    """A one-cluster bundle of real (not simulated) data, rendered in English."""
    from surveykit.report import render_report

    bundle = make_bundle(tmp_path_factory.mktemp("single"), scope="cluster", simulated=False)
    render_report(bundle, lang="en", formats=("html", "md", "tex"))
    return bundle
