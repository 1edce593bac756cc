"""Findings: data problems as data.

A :class:`Finding` is one observation about a file, a row or a cell, with a
stable reason code from :data:`REASONS`, a severity and a location.  The
:class:`ExclusionPolicy` decides each code's severity and the cut-offs of
the careless-responding indices; it is stored with every import run so that
the exclusions behind an analysis can be reproduced.

Severities: ``error`` quarantines the row (it is kept, with its reasons, but
never analysed); ``warning`` keeps the row flagged (left out by
``Store.responses()`` unless ``include_flagged=True``); ``info`` is noted.
A file-scope error refuses the whole file.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from surveykit.errors import SurveykitError

__all__ = ["Reason", "REASONS", "Finding", "ExclusionPolicy", "SEVERITIES"]

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Reason:
    """A reason code: its default severity, scope and meaning."""

    code: str
    severity: str
    scope: str  # file | row | cell | sample
    description: str


REASONS: dict[str, Reason] = {r.code: r for r in [
    Reason("unreadable_file", "error", "file",
           "The file cannot be opened or parsed (damaged, encrypted, too large, wrong type)."),
    Reason("questionnaire_mismatch", "error", "file",
           "The workbook's marker names another questionnaire than the codebook."),
    Reason("version_mismatch", "warning", "file",
           "The workbook was made from another version or hash of the questionnaire."),
    Reason("layout_unknown", "error", "file",
           "Neither the wide nor the form layout could be recognised."),
    Reason("missing_respondent_column", "error", "file",
           "No column (wide) or row (form) holds the respondent id."),
    Reason("missing_column", "warning", "file",
           "A codebook item has no column in the workbook."),
    Reason("unknown_column", "warning", "file",
           "A column could not be mapped to any codebook item."),
    Reason("duplicate_column", "warning", "file",
           "Two columns map to the same item; the first is used."),
    Reason("merged_answer_cells", "warning", "file",
           "Answer cells are merged; only the top-left cell of a merged range holds a value."),
    Reason("missing_respondent_id", "error", "row",
           "A row with answers has no respondent id."),
    Reason("duplicate_respondent", "warning", "row",
           "The same respondent appears more than once with different answers; all copies are kept."),
    Reason("duplicate_record", "info", "row",
           "The same respondent appears again with identical answers; one copy is analysed."),
    Reason("non_numeric", "error", "cell",
           "A numeric or Likert answer is not a number, scale label or missing code."),
    Reason("out_of_range", "error", "cell",
           "A number lies outside the item's scale or declared range."),
    Reason("invalid_option", "error", "cell",
           "A choice answer is not one of the item's option codes or labels."),
    Reason("multiple_ticks", "error", "cell",
           "More than one answer box of a Likert item is ticked."),
    Reason("conflicting_answer", "error", "cell",
           "The answer cell and the ticked box disagree."),
    Reason("required_missing", "info", "cell",
           "A required item is not answered (a missing answer is not a sign of careless "
           "responding; construct_missing catches rows too empty to score)."),
    Reason("construct_missing", "warning", "row",
           "Too many items of a construct are missing to score it (policy.construct_missing_max)."),
    Reason("straight_lining", "warning", "row",
           "The longest run of identical Likert answers reaches policy.longstring_max."),
    Reason("mahalanobis", "warning", "row",
           "Mahalanobis D^2 over the Likert items exceeds the chi-square quantile at "
           "1 - policy.mahalanobis_alpha."),
    Reason("even_odd", "warning", "row",
           "The Spearman-Brown even-odd consistency is below policy.even_odd_min."),
    Reason("psychometric_antonyms", "warning", "row",
           "The within-person correlation over reverse-keyed item pairs is above "
           "policy.antonym_max (it should be negative)."),
    Reason("agree_with_reverse", "info", "row",
           "The respondent strongly agrees with an item and with its reverse-keyed partner (one "
           "such pair happens to 2-4 % of attentive simulated firms: noted, not flagged, unless "
           "the policy raises it)."),
]}


@dataclass(frozen=True)
class Finding:
    """One data problem with its location.

    ``row`` is the 1-based sheet row (wide layout), ``cell`` an A1 reference,
    ``respondent`` the respondent id when known.
    """

    code: str
    severity: str
    message: str
    file: str | None = None
    sheet: str | None = None
    cell: str | None = None
    row: int | None = None
    respondent: str | None = None
    item: str | None = None
    value: str | None = None

    @property
    def location(self) -> str:
        """``file, sheet, cell or row, respondent`` as one readable string."""
        parts = [p for p in (self.file, self.sheet and f"sheet {self.sheet}",
                             self.cell and f"cell {self.cell}" or (self.row and f"row {self.row}"),
                             self.respondent and f"respondent {self.respondent}") if p]
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ExclusionPolicy:
    """Severities per reason code and cut-offs of the careless-responding indices.

    Parameters
    ----------
    severity
        Overrides of the default severity of :data:`REASONS`, e.g.
        ``{"mahalanobis": "info"}`` to note but keep outliers, or
        ``{"straight_lining": "error"}`` to quarantine straight-liners.
    construct_missing_max
        Largest tolerated share of a construct's items missing (default 0.5).
    longstring_max
        Longest run of identical consecutive Likert answers flagged as
        straight-lining; ``None`` means half the Likert items, at least 10
        (Curran 2016 recommends half the length of the scale).
    mahalanobis_alpha
        Tail probability of the chi-square(p) cut-off for D^2 (0.001,
        Tabachnick & Fidell 2013).
    even_odd_min
        Smallest tolerated Spearman-Brown corrected even-odd correlation.  Johnson
        (2005) flags values below 0.30 with long scales; with halves of two items,
        as in our questionnaires (11 constructs x 4 items), the index is noisy, and
        -0.3 flags 1-2 % of the attentive simulated firms against 37 % of uniformly
        random responders.
    antonym_max
        Largest tolerated within-person correlation over psychometric antonym
        pairs (Meade & Craig 2012; attentive respondents are negative).  0.5 because
        with the six reverse-keyed pairs of our questionnaires the index is noisy:
        on the simulated examples 5 % of attentive firms exceed 0.3.
    min_pairs
        Fewest valid pairs (antonyms) or constructs (even-odd) for the index (5: with
        fewer, a within-person correlation is mostly noise).

    References
    ----------
    Curran, P. G. (2016). Methods for the detection of carelessly invalid responses
    in survey data. *Journal of Experimental Social Psychology*, 66, 4-19.
    Johnson, J. A. (2005). Ascertaining the validity of individual protocols from
    web-based personality inventories. *Journal of Research in Personality*, 39, 103-129.
    Meade, A. W., & Craig, S. B. (2012). Identifying careless responses in survey
    data. *Psychological Methods*, 17(3), 437-455.
    """

    severity: dict[str, str] = field(default_factory=dict)
    construct_missing_max: float = 0.5
    longstring_max: int | None = None
    mahalanobis_alpha: float = 0.001
    even_odd_min: float = -0.3
    antonym_max: float = 0.5
    min_pairs: int = 5

    def __post_init__(self) -> None:
        for code, sev in self.severity.items():
            if code not in REASONS:
                raise SurveykitError(f"policy: unknown reason code {code!r} "
                                     f"(known: {', '.join(sorted(REASONS))})")
            if sev not in SEVERITIES:
                raise SurveykitError(f"policy: severity of {code!r} must be one of "
                                     f"{', '.join(SEVERITIES)}, not {sev!r}")
        if not 0 <= self.construct_missing_max <= 1:
            raise SurveykitError("policy: construct_missing_max must lie in [0, 1], "
                                 f"not {self.construct_missing_max}")
        if not 0 < self.mahalanobis_alpha < 1:
            raise SurveykitError("policy: mahalanobis_alpha must lie in (0, 1), "
                                 f"not {self.mahalanobis_alpha}")

    def severity_of(self, code: str) -> str:
        """The severity this policy gives a reason code."""
        return self.severity.get(code) or REASONS[code].severity

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | None) -> ExclusionPolicy:
        if not text:
            return cls()
        data = json.loads(text)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def with_severity(self, **codes: str) -> ExclusionPolicy:
        return replace(self, severity={**self.severity, **codes})
