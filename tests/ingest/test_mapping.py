"""Column mapping: ids, aliases, exported question texts, fuzzy matches, leftovers."""

from __future__ import annotations

import pytest

from surveykit.ingest.mapping import map_columns, strip_numbering


@pytest.mark.parametrize("header, text", [
    ("5、(1) 本企业经常…", "本企业经常"),
    ("Q5_1. We often learn", "We often learn"),
    ("12.员工人数[单选题]", "员工人数"),
    ("第3题 企业成立年份", "企业成立年份"),
    ("(2) 本企业每年都推出新的产品款式...", "本企业每年都推出新的产品款式"),
])
def test_strip_numbering(header, text):
    assert strip_numbering(header) == text


def _how(cmap):
    return {m.header: (m.item, m.how) for m in cmap.matches}


def test_ids_aliases_and_texts(cb):
    headers = ["企业编号", "LEARN1", "learn2", "INNOV1 本企业每年都推出新的产品款式",
               "成立年份", "员工人数", "Annual sales", "我也不知道这是什么"]
    got = _how(map_columns(headers, cb))
    assert got["企业编号"] == ("firm_id", "alias")
    assert got["LEARN1"] == ("LEARN1", "id")
    assert got["learn2"] == ("LEARN2", "id")
    assert got["INNOV1 本企业每年都推出新的产品款式"] == ("INNOV1", "id_prefix")
    assert got["成立年份"] == ("founded", "alias")
    assert got["员工人数"] == ("employees", "text")
    assert got["Annual sales"] == ("sales", "text")
    assert got["我也不知道这是什么"] == (None, "none")


def test_online_survey_export_headers(cb):
    lt = cb.item("LEARN3").text["zh"]
    headers = ["序号", "1、企业编号", f"5、(3) {lt}", f"5、(1) {cb.item('LEARN1').text['zh'][:8]}…",
               "6.企业的所有制类型", "提交答卷时间"]
    cmap = map_columns(headers, cb)
    got = _how(cmap)
    assert got["1、企业编号"] == ("firm_id", "text")
    assert got[f"5、(3) {lt}"] == ("LEARN3", "text")
    # all items of a construct share this prefix here: left unmapped, never guessed
    assert got[f"5、(1) {cb.item('LEARN1').text['zh'][:8]}…"] == (None, "none")
    assert got["6.企业的所有制类型"] == ("ownership", "fuzzy")
    assert {m.header for m in cmap.unknown} >= {"序号", "提交答卷时间"}


def test_each_item_goes_to_one_column(cb):
    cmap = map_columns(["firm_id", "LEARN1", "learn1", "LEARN2"], cb)
    assert [m.how for m in cmap.matches] == ["id", "id", "duplicate", "id"]
    assert [m.header for m in cmap.duplicates] == ["learn1"]
    assert "LEARN3" in cmap.missing(cb) and "LEARN1" not in cmap.missing(cb)


def test_second_row_texts_help(cb):
    cmap = map_columns(["firm_id", "Q7", ""], cb, texts=["", cb.item("GVC1").text["en"],
                                                         cb.item("GVC3").text["zh"]])
    got = {m.column: m.item for m in cmap.mapped}
    assert got == {0: "firm_id", 1: "GVC1", 2: "GVC3"}


def test_truncated_export_headers_of_a_real_questionnaire(ningbo):
    likert = ningbo.likert_items()
    headers = ["序号"] + [f"{k + 5}、({k % 4 + 1}) {it.text['zh'][:12]}…"
                         for k, it in enumerate(likert)]
    cmap = map_columns(headers, ningbo)
    assert cmap.matches[0].item == "firm_id"  # "序号" is an alias declared by the codebook
    assert [m.item for m in cmap.matches[1:]] == [it.id for it in likert]
    assert {m.how for m in cmap.matches[1:]} <= {"text_prefix", "fuzzy"}
