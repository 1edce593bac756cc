"""Map the columns of a workbook to codebook items.

Headers are tried, in order, as an item id, as a header alias declared in the
codebook, as an item id followed by text (``"LEARN1 本企业…"``), and as the
question text itself, exactly or fuzzily.  Online survey platforms number
their headers (``"5、(1) 本企业经常…"``, ``"Q5_1. …"``) and add type tags
(``"[单选题]"``); the number and the tag are dropped before matching.  Each item
is given to at most one column; the rest are reported.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from surveykit.ingest.normalise import fold, label_key

__all__ = ["ColumnMatch", "ColumnMap", "map_columns", "strip_numbering"]

# "5、(1)", "5.", "Q5_1", "第5题", "(3)", "5-1:" at the start of an exported header
_LEADING_NUMBER = re.compile(
    r"^\s*(?:第\s*\d+\s*题|[QqＱ]\s*\d+(?:[_.\-]\d+)*|\d+(?:[._\-]\d+)*)\s*[、.．:：)）\-_]?\s*"
    r"(?:[(（]\s*\d+\s*[)）]\s*[、.．:：]?\s*)?")
_LEADING_SUB = re.compile(r"^\s*[(（]\s*\d+\s*[)）]\s*[、.．:：]?\s*")
# "[单选题]", "【多选题】", "(必填)", "*"
_TAGS = re.compile(r"[\[【(（]\s*(?:单选题?|多选题?|填空题?|矩阵\w*|量表题?|必[填答]|单选|多选|"
                   r"single|multiple|required)\s*[\]】)）]|\*", re.IGNORECASE)
_ELLIPSIS = re.compile(r"(?:…+|\.{3,}|。{3,})\s*$")

FUZZY_CUTOFF = 0.82
FUZZY_MARGIN = 0.04
PREFIX_MIN = 6


@dataclass(frozen=True)
class ColumnMatch:
    """One column of a sheet and the item it holds (``item`` None if unmapped)."""

    column: int
    header: str
    item: str | None
    how: str  # id | alias | id_prefix | text | text_prefix | fuzzy | none | duplicate
    score: float = 1.0


@dataclass
class ColumnMap:
    """The result of :func:`map_columns`."""

    matches: list[ColumnMatch] = field(default_factory=list)

    @property
    def mapped(self) -> list[ColumnMatch]:
        return [m for m in self.matches if m.item is not None and m.how != "duplicate"]

    @property
    def unknown(self) -> list[ColumnMatch]:
        return [m for m in self.matches if m.item is None and m.header.strip()]

    @property
    def duplicates(self) -> list[ColumnMatch]:
        return [m for m in self.matches if m.how == "duplicate"]

    def missing(self, codebook: Any) -> list[str]:
        have = {m.item for m in self.mapped}
        return [i.id for i in codebook.items if i.id not in have]


def strip_numbering(header: str) -> str:
    """Drop an exported header's question number, sub-number, type tags and ellipsis."""
    text = fold(header)
    text = _TAGS.sub("", text)
    text = _LEADING_NUMBER.sub("", text, count=1)
    text = _LEADING_SUB.sub("", text, count=1)
    text = _ELLIPSIS.sub("", text)
    return text.strip()


class _Index:
    """Lookup tables of a codebook for header matching (built once per codebook)."""

    def __init__(self, codebook: Any):
        self.ids: dict[str, str] = {}
        self.aliases: dict[str, str] = {}
        self.texts: dict[str, str] = {}
        self.text_items: list[tuple[str, str]] = []
        for item in codebook.items:
            self.ids[item.id.casefold()] = item.id
            for alias in getattr(item, "aliases", ()) or ():
                self.aliases.setdefault(label_key(str(alias)), item.id)
            for lang in ("zh", "en"):
                t = (item.text or {}).get(lang)
                if t:
                    key = label_key(strip_numbering(str(t)))
                    if key:
                        self.texts.setdefault(key, item.id)
                        self.text_items.append((key, item.id))
            both = " / ".join(v for v in (item.text or {}).values() if v)
            if both:
                self.texts.setdefault(label_key(both), item.id)

    def match(self, header: str) -> tuple[str | None, str, float]:
        raw = unicodedata.normalize("NFKC", header).strip()
        if not raw:
            return None, "none", 0.0
        hit = self.ids.get(raw.casefold())
        if hit:
            return hit, "id", 1.0
        key = label_key(raw)
        hit = self.aliases.get(key)
        if hit:
            return hit, "alias", 1.0
        first = re.split(r"[\s:：、.．\-_/]+", raw, maxsplit=1)[0]
        hit = self.ids.get(first.casefold())
        if hit and first != raw:
            return hit, "id_prefix", 1.0
        text = strip_numbering(raw)
        key = label_key(text)
        if not key:
            return None, "none", 0.0
        hit = self.aliases.get(key) or self.texts.get(key)
        if hit:
            return hit, "text", 1.0
        # "zh / en" headers: try each half
        for part in re.split(r"\s+/\s+|\n", text):
            hit = self.texts.get(label_key(part))
            if hit:
                return hit, "text", 1.0
        if len(key) >= PREFIX_MIN:
            starts = {iid for k, iid in self.text_items if k.startswith(key)}
            if len(starts) == 1:
                return starts.pop(), "text_prefix", len(key) / max(
                    len(k) for k, iid in self.text_items if k.startswith(key))
        scores: dict[str, float] = {}
        for k, iid in self.text_items:
            sm = difflib.SequenceMatcher(None, key, k, autojunk=False)
            if sm.real_quick_ratio() < FUZZY_CUTOFF or sm.quick_ratio() < FUZZY_CUTOFF:
                continue
            r = sm.ratio()
            if r > scores.get(iid, 0.0):
                scores[iid] = r
        if scores:
            ranked = sorted(scores.items(), key=lambda kv: -kv[1])
            best, score = ranked[0]
            second = ranked[1][1] if len(ranked) > 1 else 0.0
            if score >= FUZZY_CUTOFF and score - second >= FUZZY_MARGIN:
                return best, "fuzzy", round(score, 4)
        return None, "none", 0.0


_INDEX_CACHE: dict[int, tuple[Any, _Index]] = {}


def _index(codebook: Any) -> _Index:
    got = _INDEX_CACHE.get(id(codebook))
    if got is None or got[0] is not codebook:
        got = (codebook, _Index(codebook))
        _INDEX_CACHE[id(codebook)] = got
    return got[1]


def map_columns(headers: list[Any], codebook: Any, texts: list[Any] | None = None) -> ColumnMap:
    """Map header cells to items.

    Parameters
    ----------
    headers
        The header row (item ids in our template, question texts in exports).
    codebook
        The questionnaire.
    texts
        An optional second header row of question texts, used when a header
        cell alone does not map.

    Returns
    -------
    ColumnMap
        One :class:`ColumnMatch` per non-empty header; a later column that maps
        to an item already taken is marked ``how="duplicate"``.
    """
    idx = _index(codebook)
    out = ColumnMap()
    taken: dict[str, int] = {}
    pending: list[tuple[int, str, str | None, str, float]] = []
    for j, h in enumerate(headers):
        header = "" if h is None else (h if isinstance(h, str) else _num(h))
        # a number, date or boolean is never a header: skip the text matching
        item, how, score = idx.match(header) if isinstance(h, str) and header.strip() else \
            (None, "none", 0.0)
        if item is None and texts is not None and j < len(texts) and isinstance(texts[j], str):
            item, how, score = idx.match(texts[j])
        if not header.strip() and item is None:
            continue
        pending.append((j, header, item, how, score))
    # exact matches claim their items before fuzzy ones
    order = sorted(range(len(pending)), key=lambda k: (pending[k][3] in ("fuzzy", "text_prefix"),
                                                       -pending[k][4], pending[k][0]))
    result: dict[int, ColumnMatch] = {}
    for k in order:
        j, header, item, how, score = pending[k]
        if item is not None and item in taken:
            result[j] = ColumnMatch(j, header, item, "duplicate", score)
            continue
        if item is not None:
            taken[item] = j
        result[j] = ColumnMatch(j, header, item, how, score)
    out.matches = [result[j] for j in sorted(result)]
    return out


def _num(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)
