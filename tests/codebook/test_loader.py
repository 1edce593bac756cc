"""The codebook loader accepts valid codebooks and rejects broken ones with one exact message."""

from __future__ import annotations

import re
import textwrap

import pytest

from surveykit import load_codebook
from surveykit.errors import CodebookError

VALID = textwrap.dedent("""\
    questionnaire:
      id: mini
      version: "0.1"
      title: {zh: 小问卷, en: Mini survey}
      cluster: {id: test_cluster, zh: 测试集群, en: Test cluster}
    respondent_id: firm_id
    missing_codes: ["", 无, "-"]
    scales:
      agree3:
        min: 1
        max: 3
        labels:
          1: {zh: 不同意, en: Disagree}
          2: {zh: 一般, en: Neutral}
          3: {zh: 同意, en: Agree}
    constructs:
      A: {name: {zh: 甲, en: Alpha}, role: basic}
    sections:
      - id: profile
        title: {zh: 基本情况, en: Profile}
        items:
          - {id: firm_id, type: text, required: true, text: {zh: 编号, en: ID}}
          - id: size
            type: single
            text: {zh: 规模, en: Size}
            options:
              - {code: 1, zh: 小, en: Small}
              - {code: 2, zh: 大, en: Large}
      - id: block_a
        title: {zh: 甲, en: Alpha}
        construct: A
        scale: agree3
        missing_codes: ["99"]
        items:
          - {id: A1, text: {zh: 题一, en: Q one}}
          - {id: A2, text: {zh: 题二, en: Q two}, reverse: true}
    """)


def write(tmp_path, text, name="cb.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_codebook_loads(tmp_path):
    cb = load_codebook(write(tmp_path, VALID))
    assert cb.id == "mini" and cb.version == "0.1"
    assert [i.id for i in cb.items] == ["firm_id", "size", "A1", "A2"]
    a2 = cb.item("A2")
    assert (a2.construct, a2.reverse, a2.type, a2.scale.min, a2.scale.max) == ("A", True, "likert", 1, 3)
    assert a2.text == {"zh": "题二", "en": "Q two"}
    assert a2.required is True and cb.item("size").required is False
    assert a2.missing_codes == ("99",)
    assert [i.id for i in cb.likert_items()] == ["A1", "A2"]
    assert [i.id for i in cb.likert_items("A")] == ["A1", "A2"]
    assert cb.constructs["A"].items == ("A1", "A2")
    assert cb.missing_codes == ("", "无", "-")
    assert cb.item("size").option(2).label["en"] == "Large"
    assert len(cb.sha256) == 64


def test_unknown_construct_in_likert_items_raises(tmp_path):
    cb = load_codebook(write(tmp_path, VALID))
    with pytest.raises(KeyError, match="has no construct 'B'"):
        cb.likert_items("B")


BROKEN = [
    # (replace this, with that, expected message after the file name)
    ('scale: agree3\n    missing', 'scale: agree7\n    missing',
     "line 32, field 'sections[1].scale': unknown scale 'agree7' (declared: agree3)"),
    ("role: basic", "role: central",
     "line 17, field 'constructs.A.role': must be one of basic, auxiliary, governance, outcome (got 'central')"),
    ("{id: A1, text: {zh: 题一, en: Q one}}", "{id: A1, text: {zh: 题一}}",
     "line 35, field 'sections[1].items[0].text.en': needs a non-empty English text"),
    ("{id: A1, text: {zh: 题一, en: Q one}}", "{id: A2, text: {zh: 题一, en: Q one}}",
     "line 36, field 'sections[1].items[1].id': duplicated item id 'A2' (first at line 35)"),
    ("reverse: true}", "revers: true}",
     "line 36, field 'sections[1].items[1].revers': unknown field (allowed: aliases, construct, id, "
     "max, min, missing_codes, options, required, reverse, scale, text, type, unit)"),
    ("respondent_id: firm_id", "respondent_id: company",
     "line 6, field 'respondent_id': must name an item of the questionnaire (got 'company')"),
    ('  version: "0.1"\n', "",
     "line 1, field 'questionnaire.version': is required (a version string such as '1.0')"),
    ("      3: {zh: 同意, en: Agree}\n", "",
     "line 12, field 'scales.agree3.labels': no label for point(s) 3"),
    ("          - {code: 2, zh: 大, en: Large}", "          - {code: 1, zh: 大, en: Large}",
     "line 28, field 'sections[0].items[1].options[1].code': duplicated option code 1"),
    ("type: single", "type: choice",
     "line 24, field 'sections[0].items[1].type': must be one of likert, integer, number, year, "
     "single, multiple, text (got 'choice')"),
    ("A: {name: {zh: 甲, en: Alpha}, role: basic}",
     "A: {name: {zh: 甲, en: Alpha}, role: basic}\n  B: {name: {zh: 乙, en: Beta}, role: outcome}",
     "line 18, field 'constructs.B': no Likert item measures this construct"),
    ("missing_codes: [\"\", 无, \"-\"]", "missing_codes: [\"\", 无, \"-\"]\nmissing_codes: []",
     "line 8, field 'missing_codes': duplicated key"),
]


@pytest.mark.parametrize(("old", "new", "message"), BROKEN)
def test_broken_codebook_message_names_file_line_and_field(tmp_path, old, new, message):
    assert old in VALID
    path = write(tmp_path, VALID.replace(old, new, 1))
    with pytest.raises(CodebookError) as info:
        load_codebook(path)
    assert str(info.value) == f"{path}: {message}"
    assert info.value.path == str(path)


def test_yaml_syntax_error_names_line_and_column(tmp_path):
    path = write(tmp_path, VALID.replace("id: mini", "id: [mini", 1))
    with pytest.raises(CodebookError, match=re.escape(f"{path}: line 3, column 10: YAML syntax error")):
        load_codebook(path)


def test_missing_file_and_empty_file(tmp_path):
    with pytest.raises(CodebookError, match="cannot read codebook"):
        load_codebook(tmp_path / "nope.yaml")
    with pytest.raises(CodebookError, match="codebook is empty"):
        load_codebook(write(tmp_path, "# nothing\n"))


def test_not_utf8(tmp_path):
    path = tmp_path / "gbk.yaml"
    path.write_bytes(VALID.encode("gbk"))
    with pytest.raises(CodebookError, match="is not UTF-8 text"):
        load_codebook(path)


def test_parse_codebook_from_text_matches_the_file(tmp_path):
    from surveykit.codebook import parse_codebook

    path = write(tmp_path, VALID)
    from_file = load_codebook(path)
    from_text = parse_codebook(VALID, name="stored copy")
    assert from_text.items == from_file.items and from_text.sha256 == from_file.sha256
    with pytest.raises(CodebookError, match="^stored copy: line 17, field 'constructs.A.role'"):
        parse_codebook(VALID.replace("role: basic", "role: x"), name="stored copy")
