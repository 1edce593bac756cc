from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
QUESTIONNAIRES = ROOT / "questionnaires"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def ningbo():
    from surveykit import load_codebook

    return load_codebook(QUESTIONNAIRES / "ningbo_apparel.yaml")


@pytest.fixture(scope="session")
def yongkang():
    from surveykit import load_codebook

    return load_codebook(QUESTIONNAIRES / "yongkang_hardware.yaml")


@pytest.fixture(scope="session")
def gum_model() -> str:
    return (QUESTIONNAIRES / "gum_model.lav").read_text(encoding="utf-8")
