"""Shared data preparation: item selection, reverse keying, missing-data handling.

Every statistic in :mod:`surveykit.measure` starts from a float matrix with
``NaN`` for missing answers, built here once, so that reverse keying and the
pairwise/listwise rules are applied identically everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from surveykit.errors import MeasurementError

if TYPE_CHECKING:
    import pandas as pd

MISSING_RULES = ("pairwise", "listwise")


def check_missing(missing: str) -> str:
    if missing not in MISSING_RULES:
        raise MeasurementError(
            f"missing ({missing!r}) must be one of 'pairwise' or 'listwise'.")
    return missing


def check_constructs(data: pd.DataFrame, constructs: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """Validate a construct -> items mapping against the columns of ``data``."""
    if not isinstance(constructs, Mapping) or not constructs:
        raise MeasurementError("constructs must be a non-empty mapping of construct name to item columns.")
    out: dict[str, list[str]] = {}
    for name, items in constructs.items():
        if isinstance(items, str):
            raise MeasurementError(
                f"constructs[{name!r}] must be a list of item columns, not the string {items!r}.")
        items = list(items)
        if not items:
            raise MeasurementError(f"constructs[{name!r}] lists no items.")
        missing = [i for i in items if i not in data.columns]
        if missing:
            raise MeasurementError(
                f"constructs[{name!r}] names columns not in the data: {', '.join(map(str, missing))}.")
        out[str(name)] = items
    return out


def check_items(data: pd.DataFrame, items: Iterable[str] | None) -> list[str]:
    """Items to analyse: the given columns, or every numeric column of ``data``."""
    if items is None:
        items = [c for c in data.columns if _is_numeric(data[c])]
    items = list(items)
    absent = [i for i in items if i not in data.columns]
    if absent:
        raise MeasurementError(f"items names columns not in the data: {', '.join(map(str, absent))}.")
    if len(items) < 2:
        raise MeasurementError(f"at least 2 items are needed, got {len(items)}.")
    return items


def _is_numeric(col: pd.Series) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)


def item_matrix(data: pd.DataFrame, items: Sequence[str], *, reverse: Iterable[str] = (),
                scale: tuple[float, float] = (1, 5)) -> np.ndarray:
    """Float matrix (rows x items) with NaN for missing; reverse-keyed items flipped.

    A reverse-keyed answer x becomes ``(min + max) - x`` with min and max from
    ``scale`` (not from the data, so that a sample without a 5 still reverses
    a 1-5 item correctly).
    """
    import pandas as pd

    cols = []
    for item in items:
        col = data[item]
        if not _is_numeric(col):
            converted = pd.to_numeric(col, errors="coerce")
            bad = col.notna() & converted.isna()
            if bad.any():
                value = col[bad].iloc[0]
                raise MeasurementError(
                    f"column {item!r} holds the non-numeric answer {value!r}; code the answers as numbers first.")
            col = converted
        cols.append(col.to_numpy(dtype=float, na_value=np.nan))
    x = np.column_stack(cols) if cols else np.empty((len(data), 0))
    rev = set(reverse)
    if rev:
        lo, hi = check_scale(scale)
        flip = [j for j, item in enumerate(items) if item in rev]
        x[:, flip] = (lo + hi) - x[:, flip]
    return x


def check_scale(scale: tuple[float, float]) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in scale)
    except (TypeError, ValueError):
        raise MeasurementError(f"scale ({scale!r}) must be a pair (min, max).") from None
    if not lo < hi:
        raise MeasurementError(f"scale ({scale!r}) must have min < max.")
    return lo, hi


def listwise(x: np.ndarray) -> np.ndarray:
    """Rows of ``x`` without any missing value."""
    return x[~np.isnan(x).any(axis=1)]


def pairwise_cov(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Covariance matrix from pairwise-complete observations, and the pair counts.

    Notes
    -----
    As R's ``cov(x, use = "pairwise")``: the covariance of items i and j uses
    the rows where both are answered, with means taken over those rows; the
    variance of item i uses every row where it is answered.  Computed with
    five matrix products instead of a loop over pairs.
    """
    present = ~np.isnan(x)
    m = present.astype(float)
    # centring first keeps the sums of squares free of cancellation
    centre = np.nanmean(x, axis=0) if x.size else np.zeros(x.shape[1])
    x0 = np.where(present, x - centre, 0.0)
    n = m.T @ m
    sx = x0.T @ m                       # sx[i, j]: sum of item i over rows where j is present too
    sxy = x0.T @ x0
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = (sxy - sx * sx.T / n) / (n - 1)
    return cov, n


def pairwise_corr(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Correlation matrix from pairwise-complete observations, and the pair counts.

    As R's ``cor(x, use = "pairwise")``: each correlation standardises with the
    standard deviations over the rows the pair shares.
    """
    present = ~np.isnan(x)
    m = present.astype(float)
    centre = np.nanmean(x, axis=0) if x.size else np.zeros(x.shape[1])
    x0 = np.where(present, x - centre, 0.0)
    n = m.T @ m
    sx = x0.T @ m
    sxx = (x0 * x0).T @ m
    sxy = x0.T @ x0
    with np.errstate(divide="ignore", invalid="ignore"):
        cxy = sxy - sx * sx.T / n
        vx = sxx - sx * sx / n           # variance of item i over the rows shared with j
        r = cxy / np.sqrt(vx * vx.T)
    np.fill_diagonal(r, 1.0)
    return r, n


def correlation(x: np.ndarray, missing: str = "pairwise",
                names: Sequence[str] | None = None) -> tuple[np.ndarray, int]:
    """Correlation matrix under the missing-data rule, and the n psych reports.

    ``pairwise`` uses every row (n = number of rows with at least one answer,
    psych's ``nrow``); ``listwise`` keeps complete rows only.
    """
    check_missing(missing)
    x = x[~np.isnan(x).all(axis=1)]
    if missing == "listwise":
        x = listwise(x)
        r = np.corrcoef(x, rowvar=False) if len(x) > 1 else np.full((x.shape[1],) * 2, np.nan)
    else:
        r, _ = pairwise_corr(x)
    return check_corr(r, x.shape[0], names), x.shape[0]


def check_corr(r: np.ndarray, n: int, names: Sequence[str] | None = None) -> np.ndarray:
    if n < 3:
        raise MeasurementError(f"at least 3 cases are needed, got {n}.")
    if np.isnan(r).any():
        i, j = np.argwhere(np.isnan(r))[0]
        a, b = (names[i], names[j]) if names is not None else (i + 1, j + 1)
        raise MeasurementError(
            f"the correlation of items {a} and {b} is undefined (no shared answers or no variance).")
    return r
