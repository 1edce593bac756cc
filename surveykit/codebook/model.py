"""The codebook's objects: a questionnaire, its sections, items, scales and constructs.

Plain frozen dataclasses; building and checking them from YAML is
:mod:`surveykit.codebook.loader`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

ItemType = Literal["likert", "integer", "number", "year", "single", "multiple", "text"]
Role = Literal["basic", "auxiliary", "governance", "outcome"]

ITEM_TYPES: tuple[str, ...] = ("likert", "integer", "number", "year", "single", "multiple", "text")
ROLES: tuple[str, ...] = ("basic", "auxiliary", "governance", "outcome")
LANGS: tuple[str, ...] = ("zh", "en")


@dataclass(frozen=True)
class Scale:
    """A Likert scale: integer points ``min..max``, each with a zh and en label."""

    id: str
    min: int
    max: int
    labels: dict[int, dict[str, str]]

    @property
    def points(self) -> list[int]:
        """The allowed answers, ``[min, ..., max]``."""
        return list(range(self.min, self.max + 1))

    def reverse(self, value: float) -> float:
        """Reverse-key a value: ``min + max - value``."""
        return self.min + self.max - value


@dataclass(frozen=True)
class Option:
    """One answer option of a single- or multiple-choice item."""

    code: int
    label: dict[str, str]


@dataclass(frozen=True)
class Item:
    """One question of the questionnaire."""

    id: str
    section: str
    type: str
    text: dict[str, str]
    required: bool = False
    construct: str | None = None
    reverse: bool = False
    scale: Scale | None = None
    options: tuple[Option, ...] = ()
    min: float | None = None
    max: float | None = None
    unit: dict[str, str] | None = None
    aliases: tuple[str, ...] = ()
    missing_codes: tuple[str, ...] = ()
    line: int | None = None

    @property
    def is_likert(self) -> bool:
        return self.type == "likert"

    def option(self, code: int) -> Option | None:
        """The option with this code, or None."""
        for opt in self.options:
            if opt.code == code:
                return opt
        return None


@dataclass(frozen=True)
class Construct:
    """A latent construct of the GUM model measured by a block of Likert items."""

    id: str
    name: dict[str, str]
    role: str
    items: tuple[str, ...] = ()
    definition: dict[str, str] | None = None


@dataclass(frozen=True)
class Section:
    """A block of the questionnaire as printed: a title and its items in order."""

    id: str
    title: dict[str, str]
    items: tuple[str, ...]
    construct: str | None = None
    instructions: dict[str, str] | None = None


@dataclass(frozen=True)
class Codebook:
    """A questionnaire: its metadata, items, scales and constructs.

    Load one with :func:`surveykit.load_codebook`.
    """

    id: str
    version: str
    title: dict[str, str]
    cluster: dict[str, str]
    respondent_id: str
    missing_codes: tuple[str, ...]
    scales: dict[str, Scale]
    constructs: dict[str, Construct]
    sections: tuple[Section, ...]
    items: tuple[Item, ...]
    instructions: dict[str, str] = field(default_factory=dict)
    source: dict[str, str] = field(default_factory=dict)
    path: str | None = None
    sha256: str | None = None

    @cached_property
    def items_by_id(self) -> dict[str, Item]:
        """Items keyed by id."""
        return {item.id: item for item in self.items}

    def item(self, item_id: str) -> Item:
        """The item with this id; ``KeyError`` naming the questionnaire if absent."""
        try:
            return self.items_by_id[item_id]
        except KeyError:
            raise KeyError(f"questionnaire {self.id!r} has no item {item_id!r}") from None

    def likert_items(self, construct: str | None = None) -> list[Item]:
        """The Likert items, optionally only those of one construct, in questionnaire order."""
        if construct is not None and construct not in self.constructs:
            raise KeyError(f"questionnaire {self.id!r} has no construct {construct!r}")
        return [i for i in self.items
                if i.type == "likert" and (construct is None or i.construct == construct)]

    def construct_items(self) -> dict[str, list[str]]:
        """Mapping construct id -> its Likert item ids, the form measurement functions take."""
        return {cid: list(c.items) for cid, c in self.constructs.items()}

    @property
    def reverse_items(self) -> list[str]:
        """Ids of the reverse-keyed items."""
        return [i.id for i in self.items if i.reverse]

    def __repr__(self) -> str:
        return (f"Codebook(id={self.id!r}, version={self.version!r}, items={len(self.items)}, "
                f"likert={len(self.likert_items())}, constructs={len(self.constructs)})")
