"""Sample-level checks: Likert quality and careless responding over all rows of
a questionnaire.

The cell checks (non-numeric, out-of-range, invalid option, ticks) run while a
file is read (:mod:`surveykit.ingest.parse`); the checks here need the whole
sample or a whole row and run after each import over every analysable row.
All are vectorised over respondents.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from surveykit.validate.findings import REASONS, ExclusionPolicy, Finding

__all__ = ["Row", "check_rows", "antonym_pairs", "longstring", "even_odd", "mahalanobis_d2",
           "antonym_consistency"]


@dataclass(frozen=True)
class Row:
    """One analysable response: store id, respondent, item ids and coded values, location."""

    id: int
    respondent: str | None
    items: Sequence[str]
    coded: Sequence[Any]
    file: str | None = None
    sheet: str | None = None
    row: int | None = None


def longstring(x: np.ndarray) -> np.ndarray:
    """Longest run of identical consecutive non-missing answers in each row.

    Notes
    -----
    Johnson's (2005) LongString index; missing answers break a run.

    Example
    -------
    In R: ``careless::longstring(x)``.
    """
    n, k = x.shape
    if k == 0:
        return np.zeros(n, dtype=int)
    best = np.where(np.isnan(x[:, 0]), 0, 1)
    cur = best.copy()
    for j in range(1, k):
        same = x[:, j] == x[:, j - 1]
        cur = np.where(same, cur + 1, np.where(np.isnan(x[:, j]), 0, 1))
        best = np.maximum(best, cur)
    return best


def _rowwise_corr(a: np.ndarray, b: np.ndarray, min_n: int) -> np.ndarray:
    """Pearson correlation of a[i] with b[i] over columns where both are present."""
    ok = ~(np.isnan(a) | np.isnan(b))
    n = ok.sum(axis=1)
    a0, b0 = np.where(ok, a, 0.0), np.where(ok, b, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ma = a0.sum(axis=1) / n
        mb = b0.sum(axis=1) / n
        da = np.where(ok, a0 - ma[:, None], 0.0)
        db = np.where(ok, b0 - mb[:, None], 0.0)
        r = (da * db).sum(axis=1) / np.sqrt((da * da).sum(axis=1) * (db * db).sum(axis=1))
    r[n < min_n] = np.nan
    return r


def even_odd(x: np.ndarray, blocks: list[list[int]], min_blocks: int = 3) -> np.ndarray:
    """Spearman-Brown corrected even-odd consistency of each row.

    Parameters
    ----------
    x
        Respondents x items, reverse-keyed items already reversed.
    blocks
        Column indices of each construct, in questionnaire order.

    Notes
    -----
    For each construct with at least two items the mean of its odd-numbered
    and of its even-numbered items is taken; ``r`` is the within-person
    correlation of the odd and even means across constructs, corrected by
    ``2r / (1 + r)``.  NaN when fewer than ``min_blocks`` constructs have both
    halves or the person's means do not vary.

    References
    ----------
    Johnson, J. A. (2005). *Journal of Research in Personality*, 39, 103-129.

    Example
    -------
    In R: ``careless::evenodd(x, factors = c(5, 4, 4, ...))``.
    """
    usable = [b for b in blocks if len(b) >= 2]
    n = x.shape[0]
    if not usable:
        return np.full(n, np.nan)
    with np.errstate(invalid="ignore"), _quiet():
        odd = np.column_stack([np.nanmean(x[:, b[0::2]], axis=1) for b in usable])
        even = np.column_stack([np.nanmean(x[:, b[1::2]], axis=1) for b in usable])
    r = _rowwise_corr(odd, even, min_blocks)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 2 * r / (1 + r)


class _quiet:
    """Silence numpy's 'Mean of empty slice' for all-missing halves."""

    def __enter__(self) -> None:
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc: object) -> None:
        self._w.__exit__(*exc)


def mahalanobis_d2(x: np.ndarray) -> np.ndarray:
    """Squared Mahalanobis distance of each complete row from the sample centroid.

    Notes
    -----
    :math:`D^2_i = (x_i - \\bar x)^\\top S^{-1} (x_i - \\bar x)` with the sample
    covariance :math:`S` of the complete rows (a pseudo-inverse if singular);
    NaN for rows with a missing answer.

    Example
    -------
    In R: ``mahalanobis(x, colMeans(x), cov(x))``.
    """
    complete = ~np.isnan(x).any(axis=1)
    out = np.full(x.shape[0], np.nan)
    xc = x[complete]
    if xc.shape[0] <= xc.shape[1] + 1:
        return out
    d = xc - xc.mean(axis=0)
    s = d.T @ d / (xc.shape[0] - 1)
    inv = np.linalg.pinv(s)
    out[complete] = ((d @ inv) * d).sum(axis=1)
    return out


def antonym_pairs(x: np.ndarray, items: list[str], constructs: dict[str, list[str]],
                  reverse: set[str], min_n: int = 30) -> list[tuple[int, int]]:
    """Pair each reverse-keyed item with a forward item of its construct.

    The partner is the forward item with the most negative sample correlation
    (answers as given); with fewer than ``min_n`` complete pairs of answers the
    forward item just before it in the questionnaire is taken.

    Returns
    -------
    list of (forward column, reverse column)
    """
    pos = {it: j for j, it in enumerate(items)}
    pairs = []
    for members in constructs.values():
        fwd = [pos[i] for i in members if i in pos and i not in reverse]
        for r in (pos[i] for i in members if i in pos and i in reverse):
            if not fwd:
                continue
            best, best_r = None, math.inf
            # pairwise-complete correlations of the reverse item with each forward item
            cand = x[:, fwd]
            rv = x[:, [r]]
            ok = ~(np.isnan(cand) | np.isnan(rv))
            n_ok = ok.sum(axis=0)
            a = np.where(ok, cand, 0.0)
            b = np.where(ok, rv, 0.0)
            with np.errstate(invalid="ignore", divide="ignore"):
                ma, mb = a.sum(axis=0) / n_ok, b.sum(axis=0) / n_ok
                da, db = np.where(ok, a - ma, 0.0), np.where(ok, b - mb, 0.0)
                corr = (da * db).sum(axis=0) / np.sqrt((da * da).sum(axis=0) * (db * db).sum(axis=0))
            for f, c, k in zip(fwd, corr, n_ok, strict=True):
                if k >= min_n and np.isfinite(c) and c < best_r:
                    best, best_r = f, float(c)
            if best is None:
                before = [f for f in fwd if f < r]
                best = before[-1] if before else fwd[0]
            pairs.append((best, r))
    return pairs


def antonym_consistency(x: np.ndarray, pairs: list[tuple[int, int]], min_pairs: int = 3
                        ) -> np.ndarray:
    """Within-person correlation across psychometric antonym pairs (answers as given).

    Notes
    -----
    Attentive respondents answer an item and its reverse-keyed partner in
    opposite directions, so the correlation over pairs is negative; a value
    near or above zero suggests careless responding (Meade & Craig 2012).

    Example
    -------
    In R: ``careless::psychant(x, critval = -.60)`` on the selected pairs.
    """
    if len(pairs) < min_pairs:
        return np.full(x.shape[0], np.nan)
    a = x[:, [p[0] for p in pairs]]
    b = x[:, [p[1] for p in pairs]]
    return _rowwise_corr(a, b, min_pairs)


def _one_blas_thread() -> Any:
    """Limit BLAS to one thread: the matrices here are at most items x items, and a
    multithreaded BLAS on a busy machine is many times slower than one thread."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional; without it BLAS keeps its own default
        from contextlib import nullcontext

        return nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def check_rows(rows: list[Row], codebook: Any, policy: ExclusionPolicy | None = None
               ) -> list[tuple[int, Finding]]:
    """Run the row and sample checks of one questionnaire.

    Parameters
    ----------
    rows
        The analysable rows (not quarantined, current file versions).
    codebook
        The questionnaire.
    policy
        Severities and cut-offs.

    Returns
    -------
    list of (response id, Finding)
    """
    policy = policy or ExclusionPolicy()
    # a respondent imported twice with identical answers (a form and its wide row) enters
    # the sample statistics once
    by_resp: dict[Any, int] = {}
    repeated: set[Any] = set()
    for r in rows:
        if r.respondent is not None and by_resp.setdefault(r.respondent, r.id) != r.id:
            repeated.add(r.respondent)
    first = rows
    if repeated:
        seen: set[tuple[Any, ...]] = set()
        first = []
        for r in rows:
            if r.respondent in repeated:
                key = (r.respondent, tuple(sorted(
                    (k, v) for k, v in zip(r.items, r.coded, strict=True) if v is not None)))
                if key in seen:
                    continue
                seen.add(key)
            first.append(r)
    with _one_blas_thread():
        return _check_rows(first, codebook, policy) + _duplicates(rows, policy)


def _check_rows(rows: list[Row], codebook: Any, policy: ExclusionPolicy | None = None
                ) -> list[tuple[int, Finding]]:
    policy = policy or ExclusionPolicy()
    if not rows:
        return []
    out: list[tuple[int, Finding]] = []
    likert = codebook.likert_items()
    lik_ids = [i.id for i in likert]
    all_ids = [i.id for i in codebook.items]
    col = {it: j for j, it in enumerate(all_ids)}
    n = len(rows)
    # one object matrix of every item (None = missing), filled file by file: rows of one
    # file share their item list, so the scatter is one numpy assignment per file
    grid = np.full((n, len(all_ids)), None, dtype=object)
    groups: dict[Any, list[int]] = {}
    same: dict[int, tuple[str, ...]] = {}  # rows of one file share one list; forms share content
    for i, r in enumerate(rows):
        key = same.get(id(r.items))
        if key is None:
            key = same[id(r.items)] = tuple(r.items)
        groups.setdefault(key, []).append(i)
    for members in groups.values():
        items = rows[members[0]].items
        src = [k for k, it in enumerate(items) if it in col]
        dst = [col[items[k]] for k in src]
        block = np.empty((len(members), len(items)), dtype=object)
        block[:] = [rows[i].coded for i in members]
        grid[np.ix_(members, dst)] = block[:, src]
    lik_pos = [col[i] for i in lik_ids]
    x = grid[:, lik_pos].astype(float) if lik_pos else np.empty((n, 0))

    severity = {code: policy.severity_of(code) for code in REASONS}

    def add(i: int, code: str, message: str, item: str | None = None, value: Any = None) -> None:
        r = rows[i]
        out.append((r.id, Finding(code, severity[code], message, file=r.file,
                                  sheet=r.sheet, row=r.row, respondent=r.respondent, item=item,
                                  value=None if value is None else str(value))))

    def who(i: int) -> str:
        r = rows[i]
        where = f"row {r.row}" if r.row else "form"
        return f"{r.file}: {where}, respondent {r.respondent}"

    # (required items left blank are found cell by cell while a file is read)
    # construct missingness
    lik_col = {it: j for j, it in enumerate(lik_ids)}
    blocks: list[list[int]] = []
    for cid, con in codebook.constructs.items():
        b = [lik_col[i] for i in con.items if i in lik_col]
        if not b:
            continue
        blocks.append(b)
        share = np.isnan(x[:, b]).mean(axis=1)
        for i in np.flatnonzero(share > policy.construct_missing_max):
            k = int(round(share[i] * len(b)))
            add(int(i), "construct_missing",
                f"{who(int(i))}: {k} of {len(b)} items of {cid} are missing", value=cid)
    if x.shape[1] == 0:
        return out
    # straight-lining
    limit = policy.longstring_max or max(10, math.ceil(len(lik_ids) / 2))
    ls = longstring(x)
    for i in np.flatnonzero(ls >= limit):
        add(int(i), "straight_lining",
            f"{who(int(i))}: {int(ls[i])} identical answers in a row (limit {limit})",
            value=int(ls[i]))
    # Mahalanobis
    from scipy.special import (
        chdtri,  # inverse chi-square survival function; scipy.stats is slow to import
    )

    d2 = mahalanobis_d2(x)
    cut = float(chdtri(x.shape[1], policy.mahalanobis_alpha))
    for i in np.flatnonzero(d2 > cut):
        add(int(i), "mahalanobis",
            f"{who(int(i))}: Mahalanobis D2 = {d2[i]:.1f} > {cut:.1f} (chi-square, "
            f"{x.shape[1]} df, alpha {policy.mahalanobis_alpha:g})", value=round(float(d2[i]), 3))
    # even-odd consistency on reverse-scored answers
    rev = {i.id for i in likert if i.reverse}
    xs = x.copy()
    for it in likert:
        if it.reverse and it.scale is not None:
            j = lik_col[it.id]
            xs[:, j] = it.scale.min + it.scale.max - xs[:, j]
    eo = even_odd(xs, blocks, policy.min_pairs)
    for i in np.flatnonzero(eo < policy.even_odd_min):
        add(int(i), "even_odd",
            f"{who(int(i))}: even-odd consistency {eo[i]:.2f} < {policy.even_odd_min:g}",
            value=round(float(eo[i]), 3))
    # psychometric antonyms and agreeing with an item and its reverse
    cons = {cid: [i for i in c.items if i in lik_col] for cid, c in codebook.constructs.items()}
    pairs = antonym_pairs(x, lik_ids, cons, rev)
    pc = antonym_consistency(x, pairs, policy.min_pairs)
    for i in np.flatnonzero(pc > policy.antonym_max):
        add(int(i), "psychometric_antonyms",
            f"{who(int(i))}: answers to {len(pairs)} reverse-keyed pairs correlate "
            f"{pc[i]:+.2f} (should be negative)", value=round(float(pc[i]), 3))
    for f, r in pairs:
        top = likert[r].scale.max if likert[r].scale is not None else np.nanmax(x)
        both = (x[:, f] >= top) & (x[:, r] >= top)
        for i in np.flatnonzero(both):
            add(int(i), "agree_with_reverse",
                f"{who(int(i))}: strongly agrees with {lik_ids[f]} and with its reverse "
                f"{lik_ids[r]}", item=lik_ids[r], value=f"{lik_ids[f]}={int(x[i, f])}, "
                                                         f"{lik_ids[r]}={int(x[i, r])}")
    return out


def _duplicates(rows: list[Row], policy: ExclusionPolicy) -> list[tuple[int, Finding]]:
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        if r.respondent is not None:
            groups.setdefault(r.respondent, []).append(i)
    out: list[tuple[int, Finding]] = []
    for resp, idx in groups.items():
        if len(idx) < 2:
            continue
        # compared item by item, whatever the column order of each file
        answers = [{k: v for k, v in zip(rows[i].items, rows[i].coded, strict=True)
                    if v is not None}
                   for i in idx]
        places = ", ".join(f"{rows[i].file}" + (f" row {rows[i].row}" if rows[i].row else "")
                           for i in idx)
        if all(a == answers[0] for a in answers[1:]):
            for i in idx[1:]:
                r = rows[i]
                out.append((r.id, Finding(
                    "duplicate_record", policy.severity_of("duplicate_record"),
                    f"{r.file}: respondent {resp} appears {len(idx)} times with identical answers "
                    f"({places}); one copy is analysed", file=r.file, sheet=r.sheet, row=r.row,
                    respondent=resp)))
            continue
        for i in idx:
            r = rows[i]
            out.append((r.id, Finding(
                "duplicate_respondent", policy.severity_of("duplicate_respondent"),
                f"{r.file}: respondent {resp} appears {len(idx)} times with different answers "
                f"({places})", file=r.file, sheet=r.sheet, row=r.row, respondent=resp)))
    return out
