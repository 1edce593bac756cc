"""Heterotrait-monotrait ratio of correlations (HTMT), as ``semTools::htmt``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from surveykit.errors import MeasurementError
from surveykit.measure._data import check_constructs, correlation, item_matrix
from surveykit.measure.results import TableResult

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import pandas as pd


@dataclass(frozen=True)
class HTMTResult(TableResult):
    """HTMT matrices in the arithmetic and the geometric-mean (HTMT2) version.

    Attributes
    ----------
    arithmetic : DataFrame
        HTMT with arithmetic means (``semTools::htmt(htmt2 = FALSE)``).
    geometric : DataFrame
        HTMT2 with geometric means (``semTools::htmt(htmt2 = TRUE)``).
    missing : str
        Missing-data rule of the item correlations.
    n_obs : int
        Cases behind the item correlations.
    thresholds : tuple of float
        Flagging thresholds: 0.85 (conceptually distinct constructs) and 0.90
        (conceptually similar constructs), Henseler et al. (2015).
    """

    arithmetic: pd.DataFrame
    geometric: pd.DataFrame
    missing: str
    n_obs: int
    thresholds: tuple[float, float] = (0.85, 0.90)

    @cached_property
    def flags(self) -> pd.DataFrame:
        """Construct pairs with HTMT or HTMT2 above a threshold (one row per pair)."""
        import pandas as pd

        names = list(self.arithmetic.index)
        rows = []
        for i in range(len(names)):
            for j in range(i):
                a, g = self.arithmetic.iat[i, j], self.geometric.iat[i, j]
                rows.append({"construct_1": names[j], "construct_2": names[i], "htmt": a, "htmt2": g,
                             f"above_{self.thresholds[0]:.2f}": bool(max(a, g) > self.thresholds[0]),
                             f"above_{self.thresholds[1]:.2f}": bool(max(a, g) > self.thresholds[1])})
        return pd.DataFrame(rows)

    def _tables(self):
        def lower(df):
            out = df.copy()
            mask = np.triu(np.ones(df.shape, dtype=bool))
            out = out.mask(mask)
            return out
        return [(f"HTMT (arithmetic means), n = {self.n_obs} ({self.missing})", lower(self.arithmetic), 3),
                ("HTMT2 (geometric means)", lower(self.geometric), 3)]

    def _notes(self):
        flagged = self.flags
        if flagged.empty:
            return []
        lo, hi = self.thresholds
        over = flagged[flagged[f"above_{lo:.2f}"]]
        if over.empty:
            return [f"No construct pair exceeds {lo:.2f}."]
        return [f"{r.construct_1} - {r.construct_2}: HTMT {r.htmt:.3f}, HTMT2 {r.htmt2:.3f} "
                f"exceeds {hi:.2f}" if max(r.htmt, r.htmt2) > hi else
                f"{r.construct_1} - {r.construct_2}: HTMT {r.htmt:.3f}, HTMT2 {r.htmt2:.3f} exceeds {lo:.2f}"
                for r in over.itertuples()]


def htmt(data: pd.DataFrame, constructs: Mapping[str, Sequence[str]], *,
         missing: str = "listwise", absolute: bool = True) -> HTMTResult:
    """Heterotrait-monotrait ratios of correlations between constructs.

    Parameters
    ----------
    data : DataFrame
        Item answers; NaN for missing.
    constructs : mapping of str to list of str
        Construct name -> its item columns (at least two items each).
    missing : {"listwise", "pairwise"}
        ``listwise`` (semTools' default) uses respondents who answered every
        item of every construct.
    absolute : bool
        Use absolute correlations (semTools' default, so that reverse-keyed
        items need no recoding).  HTMT2 always uses absolute values.

    Returns
    -------
    HTMTResult

    Notes
    -----
    With r the item correlations, HTMT_ij = mean(r between items of i and j)
    / sqrt(mean(r within i) mean(r within j)), the within-construct means over
    distinct item pairs.  HTMT2 replaces each arithmetic mean with a
    geometric mean.

    References
    ----------
    Henseler, J., Ringle, C. M. and Sarstedt, M. (2015). A new criterion for
    assessing discriminant validity in variance-based structural equation
    modeling. Journal of the Academy of Marketing Science, 43, 115-135.
    Roemer, E., Schuberth, F. and Henseler, J. (2021). HTMT2 - an improved
    criterion for assessing discriminant validity in structural equation
    modeling. Industrial Management & Data Systems, 121, 2637-2650.

    Examples
    --------
    >>> surveykit.htmt(hs, {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"]})  # doctest: +SKIP
    >>> # In R: semTools::htmt("visual =~ x1 + x2 + x3\\n textual =~ x4 + x5 + x6", hs, htmt2 = FALSE)
    """
    import pandas as pd

    constructs = check_constructs(data, constructs)
    short = [n for n, items in constructs.items() if len(items) < 2]
    if short:
        raise MeasurementError(f"HTMT needs at least 2 items per construct; {short[0]!r} has 1.")
    items = [i for its in constructs.values() for i in its]
    r, n = correlation(item_matrix(data, items), missing, items)
    blocks, start = [], 0
    for its in constructs.values():
        blocks.append(np.arange(start, start + len(its)))
        start += len(its)
    names = list(constructs)
    out = {}
    for kind in ("arithmetic", "geometric"):
        rr = np.abs(r) if (absolute or kind == "geometric") else r.copy()
        np.fill_diagonal(rr, np.nan)
        if kind == "geometric":
            with np.errstate(divide="ignore"):
                rr = np.log(rr)
        means = np.array([[np.nanmean(rr[np.ix_(bi, bj)]) for bj in blocks] for bi in blocks])
        if kind == "geometric":
            means = np.exp(means)
        mono = np.diag(means)
        out[kind] = pd.DataFrame(means / np.sqrt(np.outer(mono, mono)), index=names, columns=names)
    return HTMTResult(arithmetic=out["arithmetic"], geometric=out["geometric"], missing=missing, n_obs=n)
