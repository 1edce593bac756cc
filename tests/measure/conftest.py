from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

HERE = Path(__file__).resolve().parent
REFERENCE = HERE / "results" / "psych_reference.json"


@pytest.fixture(scope="session")
def ref() -> dict:
    """Reference values computed by results/psych_reference.R."""
    return json.loads(REFERENCE.read_text())


@pytest.fixture(scope="session")
def bfi() -> pd.DataFrame:
    """psych::bfi: 2800 respondents, 25 items on 1-6, with missing answers."""
    return pd.read_csv(HERE / "data" / "bfi.csv")


@pytest.fixture(scope="session")
def hs() -> pd.DataFrame:
    """lavaan::HolzingerSwineford1939: 301 pupils, x1-x9, complete."""
    return pd.read_csv(HERE / "data" / "hs.csv")


def arr(x) -> np.ndarray:
    return np.asarray(x, dtype=float)
