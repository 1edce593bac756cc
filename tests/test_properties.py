"""Arbitrary input raises only the documented error types (codebook loader, model syntax)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from surveykit import parse_model
from surveykit.codebook import parse_codebook
from surveykit.errors import CodebookError, ModelSyntaxError

ROOT = Path(__file__).resolve().parents[1]
CODEBOOK = (ROOT / "questionnaires" / "yongkang_hardware.yaml").read_text(encoding="utf-8")
MODEL = (ROOT / "questionnaires" / "gum_model.lav").read_text(encoding="utf-8")

_lavaan_alphabet = st.sampled_from(list("abcxyzLEARN_123 =~*+:()#!\n\t.,'\"-<>|^～＝＊，（）学习") + ["=~", "~~", ":=", "~ 1"])
lavaan_like = st.lists(_lavaan_alphabet, max_size=80).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(max_size=200), lavaan_like))
def test_model_parser_raises_only_model_syntax_error(text):
    try:
        table = parse_model(text)
    except ModelSyntaxError as exc:
        assert str(exc)
    else:
        assert isinstance(table, pd.DataFrame)
        assert {"lhs", "op", "rhs", "label", "fixed", "start", "group"} <= set(table.columns)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_model_parser_on_damaged_gum_model(data):
    lines = MODEL.splitlines()
    k = data.draw(st.integers(0, len(lines) - 1))
    cut = data.draw(st.integers(0, max(len(lines[k]) - 1, 0)))
    junk = data.draw(st.text(max_size=5))
    lines[k] = lines[k][:cut] + junk + lines[k][cut + 1:]
    try:
        parse_model("\n".join(lines))
    except ModelSyntaxError as exc:
        assert "line" in str(exc)


@settings(max_examples=300, deadline=None)
@given(raw=st.one_of(st.binary(max_size=300), st.text(max_size=300)))
def test_codebook_loader_raises_only_codebook_error(raw):
    try:
        parse_codebook(raw, name="fuzz.yaml")
    except CodebookError as exc:
        assert str(exc).startswith("fuzz.yaml: ")


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_codebook_loader_on_damaged_questionnaire(data):
    text = CODEBOOK
    start = data.draw(st.integers(0, len(text) - 1))
    length = data.draw(st.integers(0, 40))
    junk = data.draw(st.text(alphabet=st.sampled_from(list(" :-'\"{}[]#\n\tab1")), max_size=6))
    damaged = text[:start] + junk + text[start + length:]
    try:
        cb = parse_codebook(damaged, name="damaged.yaml")
    except CodebookError as exc:
        assert str(exc).startswith("damaged.yaml: ")
    else:
        assert cb.items
