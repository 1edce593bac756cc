"""surveykit: from Likert questionnaires to reviewer-grade evidence.

Codebooks and Excel templates, import of filled workbooks, Likert validation,
an embedded store, item statistics, reliability, EFA, a lavaan-compatible SEM
engine, multigroup comparison and reports.

Heavy libraries (pandas, scipy, statsmodels) are imported only when a function
that needs them is first used, so ``import surveykit`` and ``surveykit --help``
stay fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it; resolved on first access (PEP 562)
_LAZY = {
    "load_codebook": "surveykit.codebook",
    "Codebook": "surveykit.codebook",
    "write_template": "surveykit.codebook.template",
    "simulate": "surveykit.simulate",
    "open_store": "surveykit.store",
    "import_paths": "surveykit.ingest",
    "item_stats": "surveykit.measure",
    "reliability": "surveykit.measure",
    "kmo": "surveykit.measure",
    "bartlett": "surveykit.measure",
    "efa": "surveykit.measure",
    "parallel_analysis": "surveykit.measure",
    "htmt": "surveykit.measure",
    "harman": "surveykit.measure",
    "harman_cfa": "surveykit.measure",
    "composite_scores": "surveykit.measure",
    "describe_constructs": "surveykit.measure",
    "fornell_larcker": "surveykit.measure",
    "parse_model": "surveykit.sem",
    "sem": "surveykit.sem",
    "cfa": "surveykit.sem",
    "lrt": "surveykit.sem",
    "analyze": "surveykit.analysis",
    "render_report": "surveykit.report",
}

__all__ = ["__version__", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'surveykit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
