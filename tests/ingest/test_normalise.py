"""Answer normalisation: one test per rule, and arbitrary input never raises."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveykit.ingest.normalise import AGREE_VARIANTS, ItemNormaliser, fold, resolve_ticks

MISSING = ("", "空", "无", "N/A", "-")


@pytest.fixture(scope="module")
def likert(cb):
    return ItemNormaliser(cb.item("LEARN1"), MISSING)


@pytest.mark.parametrize("raw, value, rule", [
    (4.0, 4, None),
    ("4", 4, "numeric_string"),
    ("4.0", 4, "numeric_string"),
    (" 4 ", 4, "numeric_string"),
    ("4分", 4, "unit_suffix"),
    ("4 分", 4, "unit_suffix"),
    ("５", 5, "fullwidth+numeric_string"),
    ("５分", 5, "fullwidth+unit_suffix"),
    ("４．０", 4, "fullwidth+numeric_string"),
    ("非常同意", 5, "label"),
    ("Strongly agree", 5, "label"),
    ("strongly AGREE", 5, "label"),
    ("一般", 3, "label"),
    ("Ｎｅｕｔｒａｌ", 3, "fullwidth+label"),
    ("(4)同意", 4, "numbered_label"),
    ("5. 非常同意", 5, "numbered_label"),
    ("A. 同意", 4, "label"),
])
def test_likert_rules(likert, raw, value, rule):
    out = likert(raw)
    assert (out.value, out.rule, out.problem) == (value, rule, None)


@pytest.mark.parametrize("word, point", [
    ("非常同意", 5), ("完全同意", 5), ("非常贊同", 5),
    ("比较同意", 4), ("比較同意", 4), ("還算同意", 4), ("还算同意", 4), ("基本同意", 4),
    ("不一定", 3), ("中立", 3), ("说不清", 3), ("說不清", 3), ("不確定", 3),
    ("neither agree nor disagree", 3),
    ("比较不同意", 2), ("比較不同意", 2), ("不太同意", 2),
    ("完全不同意", 1), ("強烈反對", 1), ("somewhat disagree", 2),
])
def test_agreement_variants_map_by_meaning(likert, word, point):
    out = likert(word)
    assert out.value == point
    assert out.rule in ("label", "label_variant")


def test_codebook_labels_win_over_variants(likert):
    # "同意" is the codebook's label of 4; "不同意" its label of 2
    assert likert("同意").rule == "label" and likert("同意").value == 4
    assert likert("不同意").rule == "label" and likert("不同意").value == 2
    assert likert("比较同意").rule == "label_variant"


def test_variants_only_for_five_point_agreement_scales(cb):
    from dataclasses import replace

    from surveykit.codebook.model import Scale

    freq = Scale("freq", 1, 5, {p: {"zh": z, "en": e} for p, (z, e) in enumerate(
        [("从不", "Never"), ("很少", "Rarely"), ("有时", "Sometimes"), ("经常", "Often"),
         ("总是", "Always")], 1)})
    n = ItemNormaliser(replace(cb.item("LEARN1"), scale=freq), MISSING)
    assert n("经常").value == 4
    assert n("比较同意").problem == "non_numeric"


@pytest.mark.parametrize("raw", ["空", "无", "N/A", "n/a", "-", "Ｎ／Ａ"])
def test_declared_missing_codes(likert, raw):
    out = likert(raw)
    assert (out.value, out.rule, out.problem) == (None, "missing_code", None)


def test_item_missing_code_99_only_where_declared(cb):
    socap = ItemNormaliser(cb.item("SOCAP1"), MISSING)  # declares 99
    learn = ItemNormaliser(cb.item("LEARN1"), MISSING)
    assert socap(99.0).rule == "missing_code" and socap("99").value is None
    assert learn(99.0).problem == "out_of_range"


def test_blank_is_missing_without_a_recode(likert):
    for raw in ("", None, "   ", "\u3000"):
        out = likert(raw)
        assert (out.value, out.rule, out.problem) == (None, None, None)


@pytest.mark.parametrize("raw, problem", [
    (6.0, "out_of_range"), ("6", "out_of_range"), (0.0, "out_of_range"), (4.5, "out_of_range"),
    ("-1", "out_of_range"), ("abc", "non_numeric"), (True, "non_numeric"),
    (dt.date(2020, 1, 1), "non_numeric"), (dt.datetime(2020, 1, 1, 12), "non_numeric"),
    ("4 非常同意", "non_numeric"), ("3万", "non_numeric"),
])
def test_likert_problems(likert, raw, problem):
    out = likert(raw)
    assert out.value is None and out.problem == problem


def test_numeric_items(cb):
    year = ItemNormaliser(cb.item("founded"), MISSING)
    assert year("２０１５") .value == 2015
    assert year("2015年").value == 2015 and year("2015年").rule == "unit_suffix"
    assert year(1800.0).problem == "out_of_range"
    emp = ItemNormaliser(cb.item("employees"), MISSING)
    assert emp("120人").value == 120
    assert emp("1,200").value == 1200 and emp("1,200").rule == "thousands_separator"
    assert emp("12.5").problem == "non_numeric"
    assert emp("3万").problem == "non_numeric"  # a multiplier is refused, not guessed
    sales = ItemNormaliser(cb.item("sales"), MISSING)
    assert sales("12.5").value == 12.5


def test_single_choice(cb):
    n = ItemNormaliser(cb.item("ownership"), MISSING)
    assert n(2.0).value == 2 and n(2.0).rule is None
    assert n("民营").value == 2 and n("民营").rule == "label"
    assert n("Foreign").value == 3
    assert n("2. 民营").value == 2
    assert n(7.0).problem == "invalid_option"
    assert n("集体").problem == "invalid_option"


@pytest.mark.parametrize("raw, coded, rule", [
    ("1,3", "1,3", None), ("1，3", "1,3", "fullwidth"), ("1;3", "1,3", "multi_canonical"),
    ("3┋1", "1,3", "multi_canonical"), ("1、3", "1,3", "multi_canonical"),
    ("1 3", "1,3", "multi_canonical"), ("外贸,电商", "1,3", "label+multi_canonical"),
    (2.0, "2", None), ("１，３", "1,3", "fullwidth"), ("3,1", "1,3", "multi_canonical"),
    (7.0, None, "invalid"),
])
def test_multiple_choice(cb, raw, coded, rule):
    out = ItemNormaliser(cb.item("channels"), MISSING)(raw)
    if rule == "invalid":
        assert out.value is None and out.problem == "invalid_option"
        return
    assert (out.value, out.rule, out.problem) == (coded, rule, None)


def test_multiple_choice_invalid(cb):
    n = ItemNormaliser(cb.item("channels"), MISSING)
    assert n("1,9").problem == "invalid_option"
    assert n("1,批发").problem == "invalid_option"


def test_text_kept_verbatim(cb):
    n = ItemNormaliser(cb.item("note"), MISSING)
    assert n("＝SUM(A1)").value == "＝SUM(A1)"  # text is not folded
    assert n(12.0).value == "12"
    assert n("空").rule == "missing_code"


@pytest.mark.parametrize("mark", ["√", "✓", "✔", "☑", "×", "X", "x", "●", "■", "v"])
def test_tick_marks(mark):
    point, ticked, problem = resolve_ticks(["", "", mark, "", ""], [1, 2, 3, 4, 5])
    assert (point, ticked, problem) == (3, [2], None)


def test_ticks_empty_boxes_and_problems():
    pts = [1, 2, 3, 4, 5]
    assert resolve_ticks(["□", "□", "", "☐", "0"], pts) == (None, [], None)
    assert resolve_ticks(["√", "", "", "√", ""], pts) == (None, [0, 3], "multiple_ticks")
    assert resolve_ticks(["", "", "", "", 1.0], pts) == (5, [4], None)


def test_fold():
    assert fold("ＡＢＣ　１２３") == "ABC 123"


def test_cache_keeps_true_and_one_apart(likert):
    assert likert(1.0).value == 1
    assert likert(True).problem == "non_numeric"
    assert likert(1.0).value == 1


def test_every_variant_maps_within_the_scale(likert):
    for words in AGREE_VARIANTS.values():
        for w in words:
            assert likert(w).value in (1, 2, 3, 4, 5), w


_cells = st.one_of(st.none(), st.text(max_size=12), st.floats(allow_nan=True, allow_infinity=True),
                   st.integers(-10**12, 10**12), st.booleans(), st.dates(),
                   st.datetimes(), st.sampled_from(["５", "非常同意", "4分", "1,3", "√", "空"]))


@settings(max_examples=300, deadline=None)
@given(raw=_cells)
def test_arbitrary_cells_never_raise(cb, raw):
    for iid in ("LEARN1", "founded", "employees", "sales", "ownership", "channels", "note",
                "firm_id"):
        out = ItemNormaliser(cb.item(iid), MISSING)(raw)
        assert out.problem in (None, "non_numeric", "out_of_range", "invalid_option")
        if out.problem:
            assert out.value is None
        if out.value is not None and cb.item(iid).type == "likert":
            assert out.value in (1, 2, 3, 4, 5)


def test_every_documented_rule_is_produced(cb):
    """One example per rule of the recode log (ticks are produced by the form reader)."""
    from surveykit.ingest.normalise import RULES

    def rules(item, raw):
        return set((ItemNormaliser(cb.item(item), MISSING)(raw).rule or "").split("+"))

    seen = set()
    for item, raw in [("LEARN1", "５"), ("LEARN1", "4"), ("LEARN1", "4分"), ("LEARN1", "(4)同意"),
                      ("LEARN1", "同意"), ("LEARN1", "還算同意"), ("LEARN1", "空"),
                      ("channels", "3,1"), ("employees", "1,200"), ("LEARN1", "4\u200b"),
                      ("note", "  好 ")]:
        seen |= rules(item, raw)
    seen.add("tick" if resolve_ticks(["√", "", "", "", ""], [1, 2, 3, 4, 5])[0] == 1 else "")
    assert seen - {""} == set(RULES)
