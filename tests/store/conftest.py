from __future__ import annotations

import sys
from pathlib import Path

import pytest

# the workbook corpus (built by code) lives beside the ingest tests
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ingest"))

from corpus import clean_rows, make_codebook  # noqa: E402


@pytest.fixture(scope="session")
def cb():
    return make_codebook()


@pytest.fixture(scope="session")
def rows(cb):
    return clean_rows(cb, 40)
