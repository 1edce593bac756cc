"""Parsing lavaan model syntax into the table of user statements."""

import math

import pytest

from surveykit.errors import ModelSyntaxError
from surveykit.sem import parse_model
from surveykit.sem.syntax import COLUMNS


def rows(text):
    table = parse_model(text)
    return [tuple(r) for r in table[["lhs", "op", "rhs"]].itertuples(index=False)]


def test_columns_and_dtypes():
    table = parse_model("f =~ x1 + x2")
    assert list(table.columns) == COLUMNS
    assert list(table.columns[:7]) == ["lhs", "op", "rhs", "label", "fixed", "start", "group"]
    assert table["fixed"].dtype == float and table["group"].dtype == int


def test_hs1939_three_factor_model():
    model = """
    visual  =~ x1 + x2 + x3
    textual =~ x4 + x5 + x6
    speed   =~ x7 + x8 + x9
    """
    assert rows(model) == [("visual", "=~", f"x{i}") for i in (1, 2, 3)] + [
        ("textual", "=~", f"x{i}") for i in (4, 5, 6)] + [("speed", "=~", f"x{i}") for i in (7, 8, 9)]
    assert parse_model(model)["line"].tolist() == [2, 2, 2, 3, 3, 3, 4, 4, 4]


def test_modifiers():
    t = parse_model("f =~ 1*x1 + a*x2 + NA*x3 + start(0.5)*x4 + 0.7?x5 + -0.5*x6 + "
                    'label("lab")*x7 + equal("a")*x8 + b*start(2)*x9')
    assert t["label"].tolist() == ["", "a", "", "", "", "", "lab", "a", "b"]
    assert t["fixed"].tolist()[:1] == [1.0] and t["fixed"][5] == -0.5
    assert all(math.isnan(v) for v in t["fixed"][[1, 2, 3, 4, 6, 7, 8]])
    assert t["free"].tolist() == [False, False, True] + [False] * 6
    assert t["start"][3] == 0.5 and t["start"][4] == 0.7 and t["start"][8] == 2.0


def test_per_group_vectors():
    t = parse_model("f =~ x1 + c(a1, a2)*x2 + c(1, NA)*x3")
    sub = t[t.rhs == "x2"]
    assert sub["label"].tolist() == ["a1", "a2"] and sub["group"].tolist() == [1, 2]
    sub = t[t.rhs == "x3"]
    assert sub["fixed"][sub.group == 1].item() == 1.0 and sub["free"].tolist() == [False, True]
    assert t.loc[t.rhs == "x1", "group"].item() == 0


def test_intercepts_constraints_and_defined():
    t = parse_model("y ~ 1 + a*x\ny ~ m*1\nab := a*b\na == 2 * b\nb > 0\nc < a^2")
    assert rows("y ~ 1 + a*x\ny ~ m*1") == [("y", "~1", ""), ("y", "~", "x"), ("y", "~1", "")]
    assert t.loc[1, "label"] == "a" and t.loc[2, "label"] == "m"
    assert tuple(t.loc[3, ["lhs", "op", "rhs"]]) == ("ab", ":=", "a*b")
    assert tuple(t.loc[4, ["lhs", "op", "rhs"]]) == ("a", "==", "2*b")
    assert tuple(t.loc[5, ["op"]]) == (">",) and t.loc[6, "rhs"] == "a^2"


def test_several_lhs_and_multiline_statements_comments():
    model = """f1 + f2 =~ x1 +   # comment
                  x2
    ! another comment
    x1 ~~ x2; x3 ~~ x4
    y ~ x1
      + x2
    """
    assert rows(model) == [("f1", "=~", "x1"), ("f1", "=~", "x2"), ("f2", "=~", "x1"),
                           ("f2", "=~", "x2"), ("x1", "~~", "x2"), ("x3", "~~", "x4"),
                           ("y", "~", "x1"), ("y", "~", "x2")]


def test_unicode_names_and_fullwidth_operators():
    model = "学习 ＝～ 学习1 ＋ 学习2\n升级 ～ 创新 ＋ ａ＊政策\n创新 ～～ 政策\nab ：＝ b＊（c）"
    t = parse_model(model.replace("ａ", "a"))
    assert [tuple(r) for r in t[["lhs", "op", "rhs"]].itertuples(index=False)] == [
        ("学习", "=~", "学习1"), ("学习", "=~", "学习2"), ("升级", "~", "创新"),
        ("升级", "~", "政策"), ("创新", "~~", "政策"), ("ab", ":=", "b*(c)")]
    assert t.loc[3, "label"] == "a"


@pytest.mark.parametrize(("text", "message"), [
    ("f =~ x1 @ x2",
     "line 1, column 9: unexpected character '@'\n    f =~ x1 @ x2\n            ^"),
    ("f =~ x1\n\ng x2",
     "line 3, column 1: statement without an operator (expected =~, ~, ~~, :=, ==, < or >)\n"
     "    g x2\n    ^"),
    ("f =~ x1 + + x2", "line 1, column 11: missing term next to '+'\n    f =~ x1 + + x2\n              ^"),
    ("f =~ c(a,b", "line 1, column 7: unmatched '(' (missing ')')\n    f =~ c(a,b\n          ^"),
    ("f =~ x1 x2", "line 1, column 9: unexpected ident 'x2' (expected a variable name)\n"
     "    f =~ x1 x2\n            ^"),
    ("y ~ a*b*x", "line 1, column 7: more than one label modifier for 'x'\n    y ~ a*b*x\n          ^"),
    ("f <~ x", "line 1, column 3: composites ('<~') are not supported\n    f <~ x\n      ^"),
    ("x := ", "line 1, column 5: missing right-hand side\n    x := \n        ^"),
    ("f =~ c(a, b)*x1 + c(1, 2, 3)*x2 + c(a, b)*start(c(1))*x3",
     "line 1, column 49: invalid modifier value (expected a number, NA or a label)\n"
     "    f =~ c(a, b)*x1 + c(1, 2, 3)*x2 + c(a, b)*start(c(1))*x3\n"
     "                                                    ^"),
    ('f =~ "x1', "line 1, column 6: unterminated string (missing closing '\"')\n"
     '    f =~ "x1\n         ^'),
    ("f =~ x1\ny ~ x x1 ~~ x2", "line 2, column 10: unexpected second operator '~~' "
     "(missing line break?)\n    y ~ x x1 ~~ x2\n             ^"),
])
def test_error_messages_point_at_the_text(text, message):
    with pytest.raises(ModelSyntaxError) as info:
        parse_model(text)
    assert str(info.value) == message
    assert info.value.line == int(message.split(",")[0].split()[1])


def test_caret_under_wide_characters():
    with pytest.raises(ModelSyntaxError) as info:
        parse_model("学习 =~ 学习1 + $x")
    assert str(info.value).endswith("    学习 =~ 学习1 + $x\n" + " " * 4 + " " * 16 + "^")
    assert info.value.column == 13


def test_empty_model():
    with pytest.raises(ModelSyntaxError, match=r"^model syntax is empty \(no statement found\)\.$"):
        parse_model("# only a comment\n\n")
    with pytest.raises(ModelSyntaxError, match="model must be a string of lavaan syntax, not int"):
        parse_model(3)


def test_public_name():
    import surveykit
    assert surveykit.parse_model is parse_model


def test_byte_order_mark_windows_line_ends_and_no_break_spaces():
    assert rows("\ufefff =~ x1 +\u00a0x2\r\ng =~ x3\r\n") == [("f", "=~", "x1"), ("f", "=~", "x2"),
                                                             ("g", "=~", "x3")]
