"""Value objects returned by :mod:`surveykit.measure` and their printing.

Number formatting lives here only: every table prints through
:func:`format_frame` (text) and :func:`html_frame` (notebooks).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

DIGITS = 3


def format_number(value: object, digits: int = DIGITS) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer() and abs(value) < 1e15 and digits == 0:
            return str(int(value))
        return f"{value:.{digits}f}"
    return str(value)


def format_pvalue(p: float | None) -> str:
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return ""
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def stars(p: float) -> str:
    """Significance stars as theses print them: * p < .05, ** p < .01, *** p < .001."""
    if p is None or math.isnan(p):
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


def format_frame(df: pd.DataFrame, digits: int = DIGITS, title: str | None = None) -> str:
    """Plain-text table: numbers with ``digits`` decimals, integers as integers, NaN blank."""
    import pandas as pd

    def fmt(col: pd.Series) -> pd.Series:
        if pd.api.types.is_integer_dtype(col):
            return col.map(str)
        if pd.api.types.is_float_dtype(col):
            return col.map(lambda v: format_number(float(v), digits))
        return col.map(lambda v: format_number(v, digits))

    shown = df.apply(fmt) if len(df.columns) else df
    text = shown.to_string()
    return f"{title}\n{text}" if title else text


def html_frame(df: pd.DataFrame, digits: int = DIGITS, title: str | None = None) -> str:
    """HTML table for notebooks, formatted like :func:`format_frame`."""
    import pandas as pd

    shown = df.copy()
    for c in shown.columns:
        col = shown[c]
        if pd.api.types.is_float_dtype(col):
            shown[c] = col.map(lambda v: format_number(float(v), digits))
    body = shown.to_html(na_rep="", escape=True, border=0)
    head = f"<p><strong>{html.escape(title)}</strong></p>" if title else ""
    return f"<div>{head}{body}</div>"


@dataclass(frozen=True)
class TestResult:
    """A hypothesis test printed as H0 / Statistic / P-value / Distributed.

    Attributes
    ----------
    name : str
        Name of the test.
    null : str
        The null hypothesis in words.
    statistic : float
        The test statistic.
    pvalue : float or None
        P-value, None for indices without a sampling distribution.
    distribution : str
        The reference distribution with its degrees of freedom, e.g. ``chi2(300)``.
    """

    name: str
    null: str
    statistic: float
    pvalue: float | None
    distribution: str

    def _lines(self) -> list[tuple[str, str]]:
        return [("H0", self.null),
                ("Statistic", format_number(float(self.statistic), 4)),
                ("P-value", "n/a" if self.pvalue is None else f"{self.pvalue:.4g}"),
                ("Distributed", self.distribution)]

    def summary(self) -> str:
        """The test as text."""
        width = max(len(k) for k, _ in self._lines())
        rows = [f"{k + ':':<{width + 1}} {v}" for k, v in self._lines()]
        return "\n".join([self.name, *rows])

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
                       f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
                       for k, v in self._lines())
        return f"<div><p><strong>{html.escape(self.name)}</strong></p><table>{rows}</table></div>"


@dataclass(frozen=True)
class TableResult:
    """Base for results that are one or more titled tables."""

    def _tables(self) -> list[tuple[str, pd.DataFrame, int]]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _notes(self) -> list[str]:
        return []

    def summary(self) -> str:
        """All tables as text."""
        parts = [format_frame(df, digits, title) for title, df, digits in self._tables()]
        return "\n\n".join(parts + ["\n".join(self._notes())] if self._notes() else parts)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        parts = [html_frame(df, digits, title) for title, df, digits in self._tables()]
        notes = "".join(f"<p>{html.escape(n)}</p>" for n in self._notes())
        return "".join(parts) + notes


__all__ = ["TestResult", "TableResult", "format_frame", "html_frame", "format_number",
           "format_pvalue", "stars"]
