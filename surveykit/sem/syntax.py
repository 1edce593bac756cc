"""Model syntax: lavaan's model language parsed to a flat table of statements.

The parser reads the statements a user writes, one row per parameter or
constraint, before any default is added (that is :mod:`surveykit.sem.partable`'s
job).  It understands

* operators ``=~`` (measured by), ``~`` (regressed on), ``~~`` (covaries
  with), ``~ 1`` (intercept), ``:=`` (defined parameter), ``==``, ``<``, ``>``
  (constraints);
* modifiers in front of a right-hand-side term: a label ``a*x``, a fixed value
  ``1*x`` / ``-0.5*x``, ``NA*x`` (free a parameter that is fixed by default),
  ``start(0.5)*x`` or ``0.5?x`` (starting value), ``label("a")*x`` and
  ``equal("a")*x``, and per-group vectors ``c(a1, a2)*x``, ``c(1, NA)*x``;
  several modifiers can be chained, ``a*start(0.5)*x``;
* several left-hand sides and right-hand sides joined by ``+``;
* statements spread over several lines (a line ending in an operator, ``+`` or
  ``*``, or the next line starting with ``+``, continues the statement), several
  statements on one line separated by ``;``;
* comments from ``#`` or ``!`` to the end of the line;
* Unicode names (``学习 =~ 学习1 + 学习2``) and the full-width punctuation of
  Chinese input methods (``～ ＝ ＊ ＋ （ ） ， ： ； －``), which is read as its
  ASCII counterpart.

Table columns (the data contract of :func:`parse_model`)
--------------------------------------------------------
``lhs, op, rhs``
    The statement; ``op`` is one of ``=~ ~ ~~ ~1 := == < >``.  For ``~1`` the
    ``rhs`` is empty; for ``:=``, ``==``, ``<``, ``>`` the sides are the
    expressions as written, spaces removed.
``label``
    The label, ``""`` when none.
``fixed``
    The fixed value, NaN when the parameter is not fixed by the user.
``start``
    The user's starting value, NaN when none.
``group``
    0 when the row holds in every group; rows from a per-group vector
    ``c(...)*x`` are repeated with ``group`` 1, 2, ... (one per element).
``free``
    True when the user wrote ``NA*x`` (frees a parameter fixed by default, for
    example a marker loading).
``line``
    The 1-based line of the statement, for messages raised later.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from surveykit.errors import ModelSyntaxError

__all__ = ["parse_model", "parse_rows", "COLUMNS"]

COLUMNS = ["lhs", "op", "rhs", "label", "fixed", "start", "group", "free", "line"]

# One character for one character, so that columns in messages stay true.
_FULLWIDTH = str.maketrans({
    "～": "~", "∼": "~", "˜": "~", "＝": "=", "＊": "*", "＋": "+", "（": "(", "）": ")",
    "，": ",", "：": ":", "；": ";", "－": "-", "＜": "<", "＞": ">", "！": "!",
    "＃": "#", "？": "?", "．": ".", "　": " ", "\t": " ", "\r": " ", "“": '"', "”": '"',
    "＂": '"', "＿": "_", "\ufeff": " ", "\u00a0": " ", **{chr(0xFF10 + d): str(d) for d in range(10)},
})

_OPERATORS = ("~*~", "=~", "~~", ":=", "==", "<~", "|~", "~", "<", ">", "|", "%")
_UNSUPPORTED = {"<~": "composites ('<~')", "~*~": "scale factors ('~*~')",
                "|": "thresholds ('|')", "|~": "'|~'", "%": "'%' (efa blocks)"}
_CONSTRAINT_OPS = {":=", "==", "<", ">"}
_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_IDENT = re.compile(r"(?:[^\W\d]|\.(?!\d))[\w.]*")
_SYMBOLS = "*+-()?,/^;"


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # ident, number, string, op, sym, nl
    text: str
    pos: int  # offset in the source


class _Source:
    """The normalised source text with offset -> (line, column) mapping."""

    def __init__(self, text: str):
        self.text = text.translate(_FULLWIDTH)
        self.lines = self.text.split("\n")
        self.starts = [0]
        for line in self.lines[:-1]:
            self.starts.append(self.starts[-1] + len(line) + 1)

    def locate(self, pos: int) -> tuple[int, int]:
        line = 0
        while line + 1 < len(self.starts) and self.starts[line + 1] <= pos:
            line += 1
        return line + 1, pos - self.starts[line] + 1

    def error(self, message: str, pos: int) -> ModelSyntaxError:
        line, col = self.locate(pos)
        shown = self.lines[line - 1]
        # East-Asian wide characters take two terminal cells: pad the caret to match.
        pad = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in shown[:col - 1])
        return ModelSyntaxError(
            f"line {line}, column {col}: {message}\n    {shown}\n    {' ' * pad}^",
            line=line, column=col, text=shown)


def _tokenize(src: _Source) -> list[_Tok]:
    text, toks, i, n = src.text, [], 0, len(src.text)
    while i < n:
        ch = text[i]
        if ch == "\n":
            toks.append(_Tok("nl", "\n", i))
            i += 1
        elif ch == " ":
            i += 1
        elif ch in "#!":
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif ch == '"':
            j = text.find('"', i + 1)
            if j < 0 or "\n" in text[i:j]:
                raise src.error("unterminated string (missing closing '\"')", i)
            toks.append(_Tok("string", text[i + 1:j], i))
            i = j + 1
        elif (m := _NUMBER.match(text, i)) is not None:
            toks.append(_Tok("number", m.group(), i))
            i = m.end()
        elif (m := _IDENT.match(text, i)) is not None:
            toks.append(_Tok("ident", m.group(), i))
            i = m.end()
        else:
            op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
            if op is not None:
                toks.append(_Tok("op", op, i))
                i += len(op)
            elif ch in _SYMBOLS:
                toks.append(_Tok("sym", ch, i))
                i += 1
            else:
                raise src.error(f"unexpected character {ch!r}", i)
    return toks


def _statements(toks: list[_Tok]) -> list[list[_Tok]]:
    """Group tokens into statements; newlines end a statement unless it continues."""
    out: list[list[_Tok]] = []
    cur: list[_Tok] = []
    depth = 0
    for k, t in enumerate(toks):
        if t.kind == "sym" and t.text in "()":
            depth += 1 if t.text == "(" else -1
        if t.kind == "nl" or (t.kind == "sym" and t.text == ";"):
            if not cur:
                continue
            last = cur[-1]
            nxt = next((u for u in toks[k + 1:] if u.kind != "nl"), None)
            continues = t.kind == "nl" and (
                depth > 0 or last.kind == "op" or (last.kind == "sym" and last.text in "+*?,(-")
                or (nxt is not None and nxt.kind == "sym" and nxt.text in "+*"))
            if not continues:
                out.append(cur)
                cur, depth = [], 0
            continue
        cur.append(t)
    if cur:
        out.append(cur)
    return out


def _split_top(toks: list[_Tok], sep: str) -> list[list[_Tok]]:
    parts: list[list[_Tok]] = [[]]
    depth = 0
    for t in toks:
        if t.kind == "sym" and t.text == "(":
            depth += 1
        elif t.kind == "sym" and t.text == ")":
            depth -= 1
        if depth == 0 and t.kind == "sym" and t.text == sep:
            parts.append([])
        else:
            parts[-1].append(t)
    return parts


_NA = object()  # the value of an NA element


def _number(src: _Source, toks: list[_Tok]) -> float | None:
    """A possibly signed number literal, or None when toks are not one."""
    sign = 1.0
    if len(toks) == 2 and toks[0].kind == "sym" and toks[0].text in "+-":
        sign = -1.0 if toks[0].text == "-" else 1.0
        toks = toks[1:]
    if len(toks) == 1 and toks[0].kind == "number":
        return sign * float(toks[0].text)
    return None


def _element(src: _Source, toks: list[_Tok], where: int):
    """One modifier value: a float (fixed), _NA, or a str (label)."""
    if not toks:
        raise src.error("empty modifier value", where)
    num = _number(src, toks)
    if num is not None:
        return num
    if len(toks) == 1 and toks[0].kind in ("ident", "string"):
        if toks[0].kind == "ident" and toks[0].text == "NA":
            return _NA
        return toks[0].text
    raise src.error("invalid modifier value (expected a number, NA or a label)", toks[0].pos)


def _modifier(src: _Source, toks: list[_Tok]) -> tuple[str, list]:
    """Parse one modifier into (kind, values); kind is 'value', 'start' or 'label'."""
    head = toks[0]
    if head.kind == "ident" and len(toks) >= 3 and toks[1].text == "(" and toks[-1].text == ")":
        func = head.text
        inner = toks[2:-1]
        args = _split_top(inner, ",") if inner else [[]]
        values = [_element(src, a, toks[1].pos + 1) for a in args]
        if func == "c":
            return "value", values
        if func == "start":
            if any(not isinstance(v, float) for v in values):
                raise src.error("start() takes numbers", toks[2].pos if inner else head.pos)
            return "start", values
        if func in ("label", "equal"):
            if any(not isinstance(v, str) for v in values):
                raise src.error(f"{func}() takes labels", toks[2].pos if inner else head.pos)
            return "label", values
        if func == "fixed":
            return "value", values
        raise src.error(f"unknown modifier function '{func}' (use c, start, label or equal)",
                        head.pos)
    return "value", [_element(src, toks, head.pos)]


@dataclass(slots=True)
class _Term:
    name: str
    pos: int
    label: list  # per group or length 1
    fixed: list
    start: list
    free: list


def _term(src: _Source, toks: list[_Tok], op: str, op_tok: _Tok) -> _Term:
    if not toks:
        raise src.error(f"missing term after '{op}'" if op_tok else "missing term", op_tok.pos)
    # '?' marks a starting value: 0.5?x is start(0.5)*x
    pieces: list[tuple[str, list[_Tok]]] = []
    cur: list[_Tok] = []
    depth = 0
    for t in toks:
        if t.kind == "sym" and t.text == "(":
            depth += 1
        elif t.kind == "sym" and t.text == ")":
            depth -= 1
        if depth == 0 and t.kind == "sym" and t.text in "*?":
            if not cur:
                raise src.error(f"missing modifier before '{t.text}'", t.pos)
            pieces.append((t.text, cur))
            cur = []
        else:
            cur.append(t)
    if not cur:
        raise src.error("missing variable name after '*'", toks[-1].pos)
    var = cur
    if len(var) == 1 and var[0].kind == "ident":
        name = var[0].text
    elif len(var) == 1 and var[0].kind == "number" and op == "~" and float(var[0].text) == 1.0:
        name = "1"
    elif len(var) == 1 and var[0].kind == "number" and op == "~" and float(var[0].text) == 0.0:
        raise src.error("'~ 0' is not supported; fix the intercept with '~ 0*1'", var[0].pos)
    else:
        bad = var[1] if len(var) > 1 and var[0].kind == "ident" else var[0]
        raise src.error(f"unexpected {'symbol' if bad.kind == 'sym' else bad.kind} "
                        f"'{bad.text}' (expected a variable name)", bad.pos)
    term = _Term(name, var[0].pos, [""], [float("nan")], [float("nan")], [False])
    seen: set[str] = set()
    for mark, mtoks in pieces:
        kind, values = _modifier(src, mtoks)
        if mark == "?":
            if kind != "value" or any(not isinstance(v, float) for v in values):
                raise src.error("a '?' modifier must be a number (a starting value)", mtoks[0].pos)
            kind = "start"
        if kind == "value":
            labels = [v if isinstance(v, str) else "" for v in values]
            fixed = [v if isinstance(v, float) else float("nan") for v in values]
            free = [v is _NA for v in values]
            slots = {"label": labels} if any(labels) else {}
            if any(isinstance(v, float) for v in values) or any(free):
                slots["fixed"] = fixed
                slots["free"] = free
        elif kind == "start":
            slots = {"start": values}
        else:
            slots = {"label": values}
        for slot, vals in slots.items():
            if slot in seen:
                raise src.error(f"more than one {'fixed value' if slot == 'free' else slot} "
                                f"modifier for '{name}'", mtoks[0].pos)
            seen.add(slot)
            setattr(term, slot, vals)
    return term


def _expression(src: _Source, toks: list[_Tok], where: int, side: str) -> str:
    if not toks:
        raise src.error(f"missing {side}-hand side", where)
    depth = 0
    for t in toks:
        if t.kind == "op":
            raise src.error(f"unexpected operator '{t.text}' in an expression", t.pos)
        if t.kind == "sym" and t.text in "?;":
            raise src.error(f"unexpected symbol '{t.text}' in an expression", t.pos)
        if t.kind == "string":
            raise src.error("unexpected string in an expression", t.pos)
        if t.text == "(":
            depth += 1
        elif t.text == ")":
            depth -= 1
            if depth < 0:
                raise src.error("unmatched ')'", t.pos)
    if depth:
        raise src.error("unmatched '('", toks[0].pos)
    start, end = toks[0].pos, toks[-1].pos + len(toks[-1].text)
    return re.sub(r"\s+", "", src.text[start:end])


def _check_parentheses(src: _Source, toks: list[_Tok]) -> None:
    opened: list[_Tok] = []
    for t in toks:
        if t.kind == "sym" and t.text == "(":
            opened.append(t)
        elif t.kind == "sym" and t.text == ")":
            if not opened:
                raise src.error("unmatched ')'", t.pos)
            opened.pop()
    if opened:
        raise src.error("unmatched '(' (missing ')')", opened[-1].pos)


def _parse_statement(src: _Source, toks: list[_Tok], rows: list[dict]) -> None:
    line, _ = src.locate(toks[0].pos)
    _check_parentheses(src, toks)
    depth = 0
    op_i = None
    for k, t in enumerate(toks):
        if t.text == "(" and t.kind == "sym":
            depth += 1
        elif t.text == ")" and t.kind == "sym":
            depth -= 1
        elif t.kind == "op" and depth == 0:
            op_i = k
            break
    if op_i is None:
        raise src.error("statement without an operator (expected =~, ~, ~~, :=, ==, < or >)",
                        toks[0].pos)
    op_tok = toks[op_i]
    op = op_tok.text
    if op in _UNSUPPORTED:
        raise src.error(f"{_UNSUPPORTED[op]} are not supported", op_tok.pos)
    lhs, rhs = toks[:op_i], toks[op_i + 1:]
    extra = next((t for t in rhs if t.kind == "op"), None)
    if extra is not None and op not in _CONSTRAINT_OPS:
        raise src.error(f"unexpected second operator '{extra.text}' (missing line break?)",
                        extra.pos)
    if op in _CONSTRAINT_OPS:
        if extra is not None:
            raise src.error(f"unexpected second operator '{extra.text}'", extra.pos)
        if op == ":=" and not (len(lhs) == 1 and lhs[0].kind == "ident"):
            raise src.error("the left-hand side of ':=' must be one name",
                            lhs[0].pos if lhs else op_tok.pos)
        left = _expression(src, lhs, op_tok.pos, "left")
        right = _expression(src, rhs, op_tok.pos + len(op), "right")
        rows.append(dict(lhs=left, op=op, rhs=right, label="", fixed=float("nan"),
                         start=float("nan"), group=0, free=False, line=line))
        return
    if not lhs:
        raise src.error(f"missing left-hand side before '{op}'", op_tok.pos)
    if not rhs:
        raise src.error(f"missing right-hand side after '{op}'", op_tok.pos)
    lhs_names = []
    for part in _split_top(lhs, "+"):
        if len(part) != 1 or part[0].kind != "ident":
            bad = part[0] if part else lhs[0]
            raise src.error("the left-hand side must be variable names joined by '+'", bad.pos)
        lhs_names.append(part[0].text)
    parts = _split_top(rhs, "+")
    plus = [t for t in rhs if t.kind == "sym" and t.text == "+"]
    terms = []
    for k, part in enumerate(parts):
        if not part:
            where = plus[k] if k < len(plus) else plus[-1]
            raise src.error("missing term next to '+'", where.pos)
        term = _term(src, part, op, op_tok)
        if term.name == "1" and op != "~":
            raise src.error("'1' is not a variable (intercepts are written 'y ~ 1')", term.pos)
        vectors = [v for v in (term.label, term.fixed, term.start, term.free) if len(v) > 1]
        ngroups = {len(v) for v in vectors}
        if len(ngroups) > 1:
            raise src.error(f"per-group modifiers of '{term.name}' differ in length", term.pos)
        terms.append((term, ngroups.pop() if ngroups else 1))
    # lavaan's order: f1 + f2 =~ x1 + x2 gives f1=~x1, f1=~x2, f2=~x1, f2=~x2
    for name in lhs_names:
        for term, k in terms:
            for g in range(k):
                def pick(v, g=g):
                    return v[g] if len(v) > 1 else v[0]
                rows.append(dict(
                    lhs=name, op="~1" if term.name == "1" else op,
                    rhs="" if term.name == "1" else term.name,
                    label=pick(term.label), fixed=pick(term.fixed), start=pick(term.start),
                    group=g + 1 if k > 1 else 0, free=bool(pick(term.free)), line=line))


@lru_cache(maxsize=256)
def _parse_cached(text: str) -> tuple[tuple, ...]:
    src = _Source(text)
    rows: list[dict] = []
    for stmt in _statements(_tokenize(src)):
        _parse_statement(src, stmt, rows)
    if not rows:
        raise ModelSyntaxError("model syntax is empty (no statement found).")
    return tuple(tuple(r[c] for c in COLUMNS) for r in rows)


def parse_rows(text: str) -> tuple[tuple, ...]:
    """The statements of ``text`` as tuples in :data:`COLUMNS` order (no pandas).

    The parse of a model text is kept (a model is usually fitted many times:
    groups, bootstrap, refits), so this costs nothing the second time.
    """
    if not isinstance(text, str):
        raise ModelSyntaxError(f"model must be a string of lavaan syntax, not {type(text).__name__}.")
    return _parse_cached(text)


def parse_model(text: str):
    """Parse a model written in lavaan syntax into a table of statements.

    Parameters
    ----------
    text : str
        The model, one statement per line (see the module docstring for the
        language).

    Returns
    -------
    pandas.DataFrame
        One row per parameter or constraint the user wrote, with columns
        ``lhs, op, rhs, label, fixed, start, group, free, line``.  Defaults
        (marker loadings, residual variances, ...) are not added here.

    Raises
    ------
    ModelSyntaxError
        Naming the line and column, showing the line and a caret under the
        offending character.

    Notes
    -----
    ``f1 + f2 =~ x1 + x2`` expands to the four statements ``f1 =~ x1``,
    ``f1 =~ x2``, ``f2 =~ x1``, ``f2 =~ x2``.  ``y ~ 1 + x`` gives an intercept
    row (``op == "~1"``) and a regression row.

    References
    ----------
    Rosseel, Y. (2012). lavaan: An R package for structural equation modeling.
    *Journal of Statistical Software*, 48(2), 1-36.  The model syntax section.

    Examples
    --------
    >>> import surveykit
    >>> surveykit.parse_model("visual =~ x1 + a*x2 + start(0.5)*x3")[["lhs", "op", "rhs", "label"]]
          lhs  op rhs label
    0  visual  =~  x1
    1  visual  =~  x2     a
    2  visual  =~  x3

    In R: ``lavaan::lavParseModelString("visual =~ x1 + a*x2 + start(0.5)*x3")``.
    """
    import pandas as pd

    table = pd.DataFrame([dict(zip(COLUMNS, r, strict=True)) for r in parse_rows(text)], columns=COLUMNS)
    return table.astype({"fixed": float, "start": float, "group": int, "free": bool, "line": int})
