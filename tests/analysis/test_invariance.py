"""Score tests of cross-group equalities against lavaan's lavTestScore; the ladder's logic."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from numpy.testing import assert_allclose

from surveykit import cfa
from surveykit.analysis.invariance import _unlabelled_regressions, score_tests

HERE = Path(__file__).parent
REF = json.loads((HERE / "results" / "invariance_reference.json").read_text())
HS = pd.read_csv(HERE.parent / "sem" / "data" / "HolzingerSwineford1939.csv")
MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
OBSERVED = {f"x{i}" for i in range(1, 10)}


@pytest.mark.parametrize(("step", "equal"), [("metric", ("loadings",)),
                                              ("scalar", ("loadings", "intercepts"))])
def test_univariate_score_tests_match_lavaan(step, equal):
    fit = cfa(MODEL, HS, group="school", group_equal=equal)
    ours = pd.concat([score_tests(fit, op, OBSERVED) for op in ("=~", "~1")])
    ref = {(r["lhs"], r["op"], r["rhs"] if r["op"] != "~1" else ""): r["X2"] for r in REF[step]}
    got = {(r.lhs, r.op, r.rhs if r.op != "~1" else ""): r.mi for r in ours.itertuples()}
    assert set(got) == set(ref)
    keys = sorted(ref)
    # the statistic is a squared gradient at the optimum: both fits converge to ~1e-7 in the
    # estimates, which moves the statistic by up to ~3e-5
    assert_allclose([got[k] for k in keys], [ref[k] for k in keys], rtol=1e-5, atol=1e-4)


def test_score_tests_are_sorted_and_skip_reference_indicators():
    fit = cfa(MODEL, HS, group="school", group_equal=("loadings",))
    tests = score_tests(fit, "=~", OBSERVED)
    assert list(tests["mi"]) == sorted(tests["mi"], reverse=True)
    assert "visual=~x1" not in set(tests["spec"])  # fixed to 1, never constrained
    assert tests.iloc[0]["spec"] == "textual=~x5"


def test_labels_are_stripped_for_the_path_comparison():
    text = "f =~ a + b + c\ng =~ d + e + h\ng ~ b1*f\nind := b1*2"
    out = _unlabelled_regressions(text)
    assert "b1" not in out and ":=" not in out
    assert "g ~ f" in out and "f =~ a + b + c" in out
