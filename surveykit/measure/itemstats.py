"""Item statistics per item and group: distribution moments, category shares, coverage."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from surveykit.errors import MeasurementError
from surveykit.measure._data import check_items, check_scale, item_matrix
from surveykit.measure.results import TableResult

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pandas as pd

ALL = "(all)"


@dataclass(frozen=True)
class ItemStats(TableResult):
    """Item statistics, one row per (group, item).

    Attributes
    ----------
    table : DataFrame
        Index (group, item); columns n, missing, mean, sd, skew, kurtosis,
        floor, ceiling and one share column per answer category (``p1`` ...).
    categories : list of int
        The answer categories of the scale.
    group : str or None
        The grouping column, if any; the pooled sample is the group ``"(all)"``.
    """

    table: pd.DataFrame
    categories: list[int]
    group: str | None

    @cached_property
    def coverage(self) -> pd.DataFrame:
        """Empty answer categories per item (rows) and group (columns), e.g. ``"1, 2"``; "" if none."""
        shares = self.table[[f"p{c}" for c in self.categories]].to_numpy()
        empty = [", ".join(str(c) for c, s in zip(self.categories, row, strict=True) if s == 0)
                 for row in shares]
        s = self.table.assign(empty=empty)["empty"]
        return s.unstack(0).reindex(columns=self.table.index.get_level_values(0).unique())

    @cached_property
    def n_empty(self) -> pd.DataFrame:
        """Number of empty answer categories per item (rows) and group (columns)."""
        shares = self.table[[f"p{c}" for c in self.categories]]
        return (shares == 0).sum(axis=1).unstack(0).reindex(
            columns=self.table.index.get_level_values(0).unique())

    def _tables(self):
        out = []
        for g, sub in self.table.groupby(level=0, sort=False):
            title = "Item statistics" + ("" if g == ALL else f": {self.group} = {g}")
            out.append((title, sub.droplevel(0), 3))
        if self.group is not None:
            out.append(("Empty answer categories per group", self.coverage, 0))
        return out


def item_stats(data: pd.DataFrame, items: Sequence[str] | None = None, *, group: str | None = None,
               scale: tuple[float, float] = (1, 5)) -> ItemStats:
    """Distribution of each item, pooled and per group.

    Parameters
    ----------
    data : DataFrame
        Item answers; NaN for missing.
    items : sequence of str, optional
        Items to describe; default every numeric column except ``group``.
    group : str, optional
        Column whose values define groups (e.g. ``"cluster"``); statistics are
        given for the pooled sample (``"(all)"``) and for each group.
    scale : (min, max)
        Answer scale; categories are the integers min..max.

    Returns
    -------
    ItemStats

    Notes
    -----
    Skewness and excess kurtosis are psych's default (type 3):
    b1 = m3 / s^3 and b2 = m4 / s^4 - 3 with m_k = sum (x - xbar)^k / n and
    s the standard deviation with n - 1.  Floor and ceiling are the shares
    of answers at the scale minimum and maximum; shares are of the answered.

    Examples
    --------
    >>> surveykit.item_stats(bfi, ["A1", "A2"], group="gender", scale=(1, 6))  # doctest: +SKIP
    >>> # In R: psych::describeBy(bfi[, c("A1", "A2")], group = bfi$gender)
    """
    import pandas as pd

    lo, hi = check_scale(scale)
    if group is not None and group not in data.columns:
        raise MeasurementError(f"group ({group!r}) is not a column of the data.")
    if items is None:
        items = [c for c in check_items(data, None) if c != group]
    else:
        items = list(items)
        absent = [i for i in items if i not in data.columns]
        if absent:
            raise MeasurementError(f"items names columns not in the data: {', '.join(absent)}.")
        if not items:
            raise MeasurementError("items is empty.")
    x = item_matrix(data, items)
    categories = list(range(int(np.ceil(lo)), int(np.floor(hi)) + 1))
    frames = [_describe(x, items, categories, ALL)]
    if group is not None:
        g = data[group]
        for level in pd.unique(g.dropna()):
            frames.append(_describe(x[(g == level).to_numpy()], items, categories, level))
    table = pd.concat(frames)
    table.index.names = ["group", "item"]
    return ItemStats(table=table, categories=categories, group=group)


def _describe(x: np.ndarray, items: list[str], categories: list[int], label) -> pd.DataFrame:
    import pandas as pd

    present = ~np.isnan(x)
    n = present.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(present, x, 0.0).sum(axis=0) / n
        dev = np.where(present, x - mean, 0.0)
        m2, m3, m4 = ((dev ** k).sum(axis=0) for k in (2, 3, 4))
        sd = np.sqrt(m2 / (n - 1))
        skew = m3 / (n * sd ** 3)
        kurt = m4 / (n * sd ** 4) - 3.0
        shares = {f"p{c}": (x == c).sum(axis=0) / n for c in categories}
    out = pd.DataFrame({"n": n, "missing": x.shape[0] - n, "mean": mean, "sd": sd, "skew": skew,
                        "kurtosis": kurt, "floor": shares[f"p{categories[0]}"],
                        "ceiling": shares[f"p{categories[-1]}"], **shares}, index=items)
    out.index = pd.MultiIndex.from_product([[label], items])
    return out
