"""Answer normalisation: turn what field workers typed into codebook codes.

Every function here is pure and works on one cell.  The result says what the
cell was coded as, which rule changed it (``None`` when the raw value already
was the code) and, when the cell cannot be understood, a problem reason code
for :mod:`surveykit.validate`.  The caller writes the recode log.

Rules (stable names, used in the recode log):

``fullwidth``
    NFKC folding of full-width digits, letters and spaces (``５`` -> ``5``).
``numeric_string``
    a number typed as text (``"4"``, ``"4.0"``).
``unit_suffix``
    a number followed by a unit or the word for points (``"4分"``, ``"120人"``).
``numbered_label``
    a label led by its number (``"4 同意"``, ``"(5)非常同意"``).
``label``
    a scale or option label of the codebook, zh or en (``"同意"``, ``"Agree"``).
``label_variant``
    a common wording of an agreement point not used by the codebook, simplified
    or traditional (``"還算同意"``, ``"说不清"``), mapped by meaning to the nearest
    point of a 5-point agreement scale.
``tick``
    a tick mark in one box of a row of answer boxes (form layout).
``missing_code``
    a declared missing code (``"空"``, ``"N/A"``, ``99`` where declared).
``multi_canonical``
    multiple-choice codes re-joined as sorted codes separated by ``","``.
``thousands_separator``
    ``"1,200"`` read as 1200 in numeric items.
``invisible_characters``
    zero-width spaces, byte-order marks or control characters removed.
``whitespace``
    leading or trailing spaces trimmed from a text answer.

Several rules may apply to one cell; the log joins them with ``+`` in the order
applied (``fullwidth+unit_suffix`` for ``"５分"``).
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

__all__ = [
    "RULES",
    "Coded",
    "TICK_MARKS",
    "NOT_TICKED",
    "AGREE_VARIANTS",
    "fold",
    "label_key",
    "ItemNormaliser",
    "resolve_ticks",
]

RULES: tuple[str, ...] = (
    "fullwidth", "numeric_string", "unit_suffix", "numbered_label", "label", "label_variant",
    "tick", "missing_code", "multi_canonical", "thousands_separator", "invisible_characters",
    "whitespace")

# Marks that tick a box.  "×"/"X" are listed because field teams use a cross
# to mark the chosen box, not to strike it out.
TICK_MARKS: frozenset[str] = frozenset(
    ["√", "✓", "✔", "☑", "☒", "✗", "✘", "×", "x", "X", "●", "■", "◼", "v", "V", "*", "1", "是"])
# What an untouched or explicitly declined box may hold: an empty-box glyph or a "no".
NOT_TICKED: frozenset[str] = frozenset(["0", "否", "no", "n", "false", "○", "□", "☐", "◻", "〇"])

# Wordings of the five agreement points, simplified and traditional, keyed by
# their position relative to the neutral point (-2 .. +2).  Only used for
# 5-point agreement scales, and only after the codebook's own labels.
AGREE_VARIANTS: dict[int, tuple[str, ...]] = {
    2: ("非常同意", "完全同意", "十分同意", "很同意", "强烈同意", "強烈同意", "极其同意", "極其同意",
        "非常赞同", "非常贊同", "完全赞同", "完全贊同", "非常符合", "完全符合", "十分符合",
        "strongly agree", "completely agree", "totally agree", "fully agree", "agree strongly",
        "very much agree"),
    1: ("同意", "比较同意", "比較同意", "还算同意", "還算同意", "基本同意", "有点同意", "有點同意",
        "较同意", "較同意", "赞同", "贊同", "比较赞同", "比較贊同", "符合", "比较符合", "比較符合",
        "基本符合", "agree", "somewhat agree", "mostly agree", "slightly agree", "tend to agree",
        "agree somewhat", "moderately agree"),
    0: ("一般", "不一定", "中立", "说不清", "說不清", "不确定", "不確定", "中等", "无所谓", "無所謂",
        "不好说", "不好說", "难说", "難說", "说不准", "說不準", "普通", "还行", "還行", "中间", "中間",
        "既不同意也不反对", "既不同意也不反對", "既不同意也不是不同意", "一般符合", "部分符合",
        "neutral", "neither agree nor disagree", "neither", "undecided", "not sure", "unsure",
        "uncertain", "don't know", "dont know", "neither agree or disagree"),
    -1: ("不同意", "比较不同意", "比較不同意", "不太同意", "有点不同意", "有點不同意", "不赞同",
         "不贊同", "不太赞同", "不太贊同", "较不同意", "較不同意", "不太符合", "比较不符合",
         "比較不符合", "不符合", "基本不符合", "反对", "反對",
         "disagree", "somewhat disagree", "mostly disagree", "slightly disagree",
         "tend to disagree", "disagree somewhat", "moderately disagree"),
    -2: ("非常不同意", "完全不同意", "很不同意", "十分不同意", "极不同意", "極不同意", "强烈不同意",
         "強烈不同意", "强烈反对", "強烈反對", "非常反对", "非常反對", "坚决反对", "堅決反對",
         "非常不赞同", "非常不贊同", "非常不符合", "完全不符合", "十分不符合",
         "strongly disagree", "completely disagree", "totally disagree", "fully disagree",
         "disagree strongly", "very much disagree"),
}

# a number, optionally signed, with optional decimals
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
# a number followed by a short unit: 4分, 120 人, 35%, 2015年, 4 points
_UNIT = re.compile(r"([+-]?\d+(?:\.\d+)?)\s*(%|pts?\.?|points?|[\u4e00-\u9fff]{1,3})")
# units that multiply the number: refusing them is safer than guessing
_MULTIPLIERS = set("十百千万萬亿億")
# "4 同意", "(4)同意", "4.同意", "A. 同意" (letter prefixes are not codes)
_NUMBERED = re.compile(r"[(（\[【]?\s*(\d+)\s*[)）\]】]?\s*[.、:：\-_)）]?\s*(\D.*)")
_LETTERED = re.compile(r"[A-Za-z]\s*[.、:：)）]\s*(.+)")
_MULTI_SEP = re.compile(r"[,;，；┋、|/\s]+")
_PUNCT = re.compile(r"[\s\u3000,.;:!?'\"`、，。；：！？“”‘’（）()\[\]【】《》<>_\-—–~·…]+")


@dataclass(frozen=True, slots=True)
class Coded:
    """The outcome of normalising one cell.

    ``value`` is the code (``None`` when missing or not understood), ``rule`` the
    recode rule that changed it (``None`` when the raw value already was the
    code), ``problem`` a validation reason code when the cell is not usable.
    """

    value: Any
    rule: str | None = None
    problem: str | None = None
    detail: str | None = None


_BLANK = Coded(None)


# zero-width and other invisible characters that survive NFKC (and NUL and other controls)
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u00ad\u200b-\u200f\u2028-\u202e"
                        "\u2060-\u2064\ufeff]")


def fold(text: str) -> str:
    """NFKC-fold and strip a string: full-width digits, letters and spaces to ASCII;
    invisible characters (zero-width spaces, byte-order marks, controls) removed."""
    return " ".join(_INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).split())


def label_key(text: str) -> str:
    """A matching key for labels and question texts: folded, case-free, no punctuation."""
    return _PUNCT.sub("", unicodedata.normalize("NFKC", text)).casefold()


def _join(*rules: str | None) -> str | None:
    parts = [r for r in rules if r]
    return "+".join(dict.fromkeys(parts)) if parts else None


def _as_number(text: str) -> tuple[float | None, str | None]:
    """Parse a folded string as a number; return (number, rule) or (None, None)."""
    if _NUMBER.fullmatch(text):
        return float(text), "numeric_string"
    if _THOUSANDS.fullmatch(text):
        return float(text.replace(",", "")), "thousands_separator"
    m = _UNIT.fullmatch(text)
    if m and not (set(m.group(2)) & _MULTIPLIERS):
        return float(m.group(1)), "unit_suffix"
    return None, None


def _is_agree_scale(scale: Any) -> bool:
    """True for a 5-point scale whose top label speaks of agreement or fit."""
    if scale is None or scale.max - scale.min != 4:
        return False
    top = scale.labels.get(scale.max, {})
    text = " ".join(str(v) for v in top.values()).casefold()
    return any(w in text for w in ("同意", "agree", "符合", "赞同", "贊同"))


class ItemNormaliser:
    """Normalise the answers to one codebook item.

    Build one per item and call it on each raw cell value; results are cached
    per distinct raw value, so a column of 20,000 answers costs one dict lookup
    per cell after the first few distinct values.

    Parameters
    ----------
    item
        A codebook item (``.id``, ``.type``, ``.scale``, ``.options``, ``.min``,
        ``.max``, ``.missing_codes``).
    missing_codes
        The questionnaire's declared missing codes; the item's own are added.
    """

    def __init__(self, item: Any, missing_codes: tuple[str, ...] | list[str] = ()):
        self.item = item
        self.type = item.type
        codes = [*missing_codes, *(getattr(item, "missing_codes", ()) or ())]
        self.missing = {fold(str(c)).casefold() for c in codes if str(c).strip()}
        self.labels: dict[str, int] = {}
        self.variants: dict[str, int] = {}
        self.lo: float | None = None
        self.hi: float | None = None
        scale = getattr(item, "scale", None)
        if self.type == "likert" and scale is not None:
            self.lo, self.hi = scale.min, scale.max
            for point, names in scale.labels.items():
                for name in names.values():
                    if name:
                        self.labels[label_key(str(name))] = int(point)
            if _is_agree_scale(scale):
                mid = (scale.min + scale.max) // 2
                for offset, words in AGREE_VARIANTS.items():
                    for w in words:
                        self.variants.setdefault(label_key(w), mid + offset)
        elif self.type in ("single", "multiple"):
            for opt in item.options:
                for name in opt.label.values():
                    if name:
                        self.labels[label_key(str(name))] = int(opt.code)
            self.codes = {int(o.code) for o in item.options}
        else:
            self.lo = getattr(item, "min", None)
            self.hi = getattr(item, "max", None)
        self._cache: dict[Any, Coded] = {}

    # -- public -----------------------------------------------------------
    def __call__(self, raw: Any) -> Coded:
        """Normalise one raw cell value (str, float, int, bool, date, None)."""
        if type(raw) is bool:  # True == 1 in a dict: never share the cache with numbers
            return self._normalise(raw)
        try:
            return self._cache[raw]
        except KeyError:
            pass
        except TypeError:  # unhashable: never produced by our readers, but be safe
            return self._normalise(raw)
        out = self._normalise(raw)
        if len(self._cache) < 4096:
            self._cache[raw] = out
        return out

    def is_missing_text(self, text: str) -> bool:
        """True when a folded string is a declared missing code of this item."""
        return text.casefold() in self.missing

    # -- rules --------------------------------------------------------------
    def _normalise(self, raw: Any) -> Coded:
        if raw is None or raw == "":
            return _BLANK
        t = self.type
        if type(raw) is bool or isinstance(raw, (_dt.date, _dt.time, _dt.timedelta)):
            if t == "text":
                return Coded(str(raw))
            return Coded(None, problem="non_numeric",
                         detail=f"a {type(raw).__name__} is not a valid answer")
        if isinstance(raw, (int, float)):
            number = float(raw)
            if number != number:  # NaN from a reader
                return _BLANK
            if self._missing_number(number):
                return Coded(None, "missing_code")
            if t == "text":
                return Coded(_num_text(number))
            if t == "multiple":
                return self._multiple(_num_text(number), None)
            return self._number(number, None)
        text = str(raw)
        folded = fold(text)
        stripped = text.strip()
        fw = "fullwidth" if unicodedata.normalize("NFKC", stripped) != stripped else None
        if _INVISIBLE.search(stripped):
            fw = _join("invisible_characters", fw)
        if folded == "":
            return _BLANK  # only spaces: a blank cell
        if folded.casefold() in self.missing:
            return Coded(None, "missing_code")
        if t == "text":
            return Coded(text.strip(), "whitespace" if text.strip() != text else None)
        if t == "multiple":
            return self._multiple(folded, fw)
        number, rule = _as_number(folded)
        if number is not None:
            if self._missing_number(number):
                return Coded(None, _join(fw, "missing_code"))
            return self._number(number, _join(fw, rule))
        key = label_key(folded)
        if key in self.labels:
            return Coded(self.labels[key], _join(fw, "label"))
        if key in self.variants:
            return Coded(self.variants[key], _join(fw, "label_variant"))
        m = _NUMBERED.fullmatch(folded)
        if m:
            code = int(m.group(1))
            inner = label_key(m.group(2))
            by_label = self.labels.get(inner, self.variants.get(inner))
            if by_label == code:
                return self._number(float(code), _join(fw, "numbered_label"))
            if by_label is not None:
                return Coded(None, problem="non_numeric",
                             detail=f"number {code} and label {m.group(2)!r} disagree")
        m = _LETTERED.fullmatch(folded)
        if m:
            inner = label_key(m.group(1))
            if inner in self.labels:
                return Coded(self.labels[inner], _join(fw, "label"))
            if inner in self.variants:
                return Coded(self.variants[inner], _join(fw, "label_variant"))
        if t in ("single",):
            return Coded(None, problem="invalid_option", detail="not an option code or label")
        return Coded(None, problem="non_numeric", detail="not a number or a scale label")

    def _missing_number(self, number: float) -> bool:
        if not self.missing or not number.is_integer():
            return False
        return str(int(number)) in self.missing

    def _number(self, number: float, rule: str | None) -> Coded:
        t = self.type
        if t in ("likert", "single", "integer", "year"):
            if not number.is_integer():
                problem = "out_of_range" if t == "likert" else (
                    "invalid_option" if t == "single" else "non_numeric")
                return Coded(None, rule, problem, f"{_num_text(number)} is not a whole number")
            value: Any = int(number)
        else:
            value = int(number) if number.is_integer() else number
        if t == "single":
            if value not in self.codes:
                return Coded(None, rule, "invalid_option", f"{value} is not an option code")
            return Coded(value, rule)
        if (self.lo is not None and value < self.lo) or (self.hi is not None and value > self.hi):
            return Coded(None, rule, "out_of_range",
                         f"{_num_text(number)} is outside {_num_text(self.lo)}..{_num_text(self.hi)}")
        return Coded(value, rule)

    def _multiple(self, folded: str, fw: str | None) -> Coded:
        tokens = [tok for tok in _MULTI_SEP.split(folded) if tok]
        whole = label_key(folded)
        if whole in self.labels:  # an option label that itself contains a separator
            tokens = [folded]
        codes: list[int] = []
        rule = fw
        for tok in tokens:
            key = label_key(tok)
            if _NUMBER.fullmatch(tok) and float(tok).is_integer():
                code = int(float(tok))
            elif key in self.labels:
                code, rule = self.labels[key], _join(rule, "label")
            else:
                m = _NUMBERED.fullmatch(tok)
                if m and self.labels.get(label_key(m.group(2)), int(m.group(1))) == int(m.group(1)):
                    code, rule = int(m.group(1)), _join(rule, "numbered_label")
                else:
                    return Coded(None, rule, "invalid_option", f"{tok!r} is not an option")
            if code not in self.codes:
                return Coded(None, rule, "invalid_option", f"{code} is not an option code")
            codes.append(code)
        joined = ",".join(str(c) for c in sorted(set(codes)))
        if joined != folded:
            rule = _join(rule, "multi_canonical")
        return Coded(joined, rule)


def _num_text(x: float | None) -> str:
    if x is None:
        return "?"
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def resolve_ticks(cells: list[Any], points: list[int], missing: set[str] | frozenset[str] = frozenset()
                  ) -> tuple[int | None, list[int], str | None]:
    """Read a row of answer boxes.

    Parameters
    ----------
    cells
        The raw values of the boxes, left to right.
    points
        The scale point of each box.
    missing
        Folded, case-folded declared missing codes; a box holding one is empty.

    Returns
    -------
    (point, ticked, problem)
        The ticked point (or None), the indices of the ticked boxes, and
        ``"multiple_ticks"`` when more than one box is ticked.
    """
    ticked = []
    for i, v in enumerate(cells):
        if v is None or v == "" or v is False:
            continue
        text = fold(str(v)) if not isinstance(v, (int, float)) else "1"
        if text == "" or text.casefold() in missing or text.casefold() in NOT_TICKED:
            continue
        ticked.append(i)
    if not ticked:
        return None, [], None
    if len(ticked) > 1:
        return None, ticked, "multiple_ticks"
    return points[ticked[0]], ticked, None
