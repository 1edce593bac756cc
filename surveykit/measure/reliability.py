"""Internal consistency per construct: Cronbach's alpha with Feldt CI, standardised alpha,
item-rest correlations, alpha if item deleted, McDonald's omega; composite scores."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from surveykit.errors import MeasurementError
from surveykit.measure._data import (
    check_constructs,
    check_missing,
    check_scale,
    item_matrix,
    listwise,
    pairwise_corr,
    pairwise_cov,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    import pandas as pd


def _alpha(c: np.ndarray) -> float:
    k = c.shape[0]
    return k / (k - 1) * (1.0 - np.trace(c) / c.sum())


def feldt_ci(alpha: float, n: int, k: int, level: float = 0.95) -> tuple[float, float]:
    """Feldt's confidence interval of Cronbach's alpha.

    Notes
    -----
    (1 - alpha) / (1 - alpha_hat) follows F(n - 1, (n - 1)(k - 1)), so

        low  = 1 - (1 - alpha_hat) F_{1-a/2},   high = 1 - (1 - alpha_hat) F_{a/2}.

    This is the formula of ``psych::alpha.ci`` (``alpha()$feldt``) and of
    ``pingouin.cronbach_alpha``; pingouin rounds the bounds to three
    decimals, so we evaluate it here at full precision.

    References
    ----------
    Feldt, L. S., Woodruff, D. J. and Salih, F. A. (1987). Statistical
    inference for coefficient alpha. Applied Psychological Measurement, 11, 93-103.
    """
    from scipy import stats

    tail = (1 - level) / 2
    df1, df2 = n - 1, (n - 1) * (k - 1)
    return (1 - (1 - alpha) * stats.f.ppf(1 - tail, df1, df2),
            1 - (1 - alpha) * stats.f.ppf(tail, df1, df2))


def _omega_total(r: np.ndarray) -> float:
    """McDonald's omega total from a one-factor minres solution (``psych::omega(nfactors = 1)``)."""
    import warnings

    from surveykit.measure._factor import extract

    with warnings.catch_warnings():
        # a Heywood item still gives a valid omega; the EFA reports such cases
        warnings.simplefilter("ignore")
        lam = extract(r, 1, "minres").loadings[:, 0]
    return 1.0 - (1.0 - lam ** 2).sum() / r.sum()


def reliability(data: pd.DataFrame, constructs: Mapping[str, Sequence[str]], *,
                reverse: Iterable[str] = (), scale: tuple[float, float] = (1, 5),
                missing: str = "pairwise", level: float = 0.95) -> pd.DataFrame:
    """Reliability of each construct: alpha with Feldt CI, standardised alpha and omega.

    Parameters
    ----------
    data : DataFrame
        Item answers, one row per respondent; NaN for missing.
    constructs : mapping of str to list of str
        Construct name -> its item columns.
    reverse : iterable of str
        Reverse-keyed items, recoded as (min + max) - x with min, max from ``scale``.
    scale : (min, max)
        Answer scale of the items.
    missing : {"pairwise", "listwise"}
        ``pairwise`` (psych's default) builds the item covariances from
        pairwise-complete answers; ``listwise`` keeps only respondents who
        answered every item of the construct.
    level : float
        Confidence level of the Feldt interval.

    Returns
    -------
    DataFrame
        Indexed by construct, columns ``n_items, n, alpha, alpha_ci_low,
        alpha_ci_high, alpha_std, omega``.  Its ``item_table`` attribute holds
        the item table (construct, item) with ``r_drop`` (item-rest
        correlation), ``alpha_if_deleted``, ``alpha_change``, ``mean``, ``sd``
        and ``n``; ``summary()`` prints both.

    Notes
    -----
    With C the item covariance matrix, R the correlation matrix, k items:

    * alpha = k/(k - 1) (1 - tr C / 1'C1); standardised alpha
      k/(k - 1) (1 - k / 1'R_C 1) with R_C = D^-1/2 C D^-1/2 (psych's
      ``cov2cor(C)``, which differs from pairwise correlations when answers
      are missing);
    * item-rest r_i = (1'C_i - C_ii) / sqrt(C_ii 1'C_(-i)1) with C_(-i) the
      matrix without item i (psych ``r.drop``);
    * alpha if deleted: alpha of C_(-i);
    * Feldt CI: see :func:`feldt_ci`; n is the number of respondents who
      answered at least one item (psych uses all rows);
    * omega = 1 - sum(1 - lambda_i^2) / 1'R1 with lambda the loadings of a
      one-factor minres solution on R: omega total of
      ``psych::omega(x, nfactors = 1)``.  It equals the model-based
      (sum lambda)^2 / ((sum lambda)^2 + sum(1 - lambda^2)) only when the
      one-factor model fits exactly.

    References
    ----------
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of
    tests. Psychometrika, 16, 297-334.
    McDonald, R. P. (1999). Test theory: A unified treatment. Erlbaum.

    Examples
    --------
    >>> surveykit.reliability(bfi, {"A": ["A1", "A2", "A3", "A4", "A5"]},
    ...                       reverse=["A1"], scale=(1, 6))  # doctest: +SKIP
    >>> # In R: psych::alpha(bfi[, 1:5], keys = "A1")$total$raw_alpha
    >>> #       psych::omega(reversed, nfactors = 1)$omega.tot
    """
    import pandas as pd

    check_missing(missing)
    constructs = check_constructs(data, constructs)
    check_scale(scale)
    rows, item_rows = [], []
    for name, items in constructs.items():
        k = len(items)
        x = item_matrix(data, items, reverse=reverse, scale=scale)
        x = x[~np.isnan(x).all(axis=1)]
        if missing == "listwise":
            x = listwise(x)
        n = x.shape[0]
        if k < 2 or n < 3:
            rows.append({"construct": name, "n_items": k, "n": n})
            continue
        c, _ = pairwise_cov(x)
        r, _ = pairwise_corr(x)
        if np.isnan(c).any():
            raise MeasurementError(
                f"construct {name!r}: an item pair has no shared answers or an item has no variance.")
        a = _alpha(c)
        low, high = feldt_ci(a, n, k, level)
        # psych standardises the pairwise covariance matrix (cov2cor), whose
        # off-diagonal entries differ slightly from pairwise correlations
        sd = np.sqrt(np.diag(c))
        a_std = k / (k - 1) * (1.0 - k / (c / np.outer(sd, sd)).sum())
        omega = _omega_total(r)
        rows.append({"construct": name, "n_items": k, "n": n, "alpha": a, "alpha_ci_low": low,
                     "alpha_ci_high": high, "alpha_std": a_std, "omega": omega})
        for i, item in enumerate(items):
            keep = np.arange(k) != i
            c_drop = c[np.ix_(keep, keep)]
            r_drop = (c[:, i].sum() - c[i, i]) / math.sqrt(c[i, i] * c_drop.sum())
            a_drop = _alpha(c_drop) if k > 2 else c[0, 1] / c[1 - i, 1 - i]
            col = x[:, i]
            item_rows.append({"construct": name, "item": item, "n": int((~np.isnan(col)).sum()),
                              "mean": float(np.nanmean(col)), "sd": float(np.nanstd(col, ddof=1)),
                              "r_drop": r_drop, "alpha_if_deleted": a_drop,
                              "alpha_change": a_drop - a})
    from surveykit.measure._reltable import ReliabilityTable

    cols = ["n_items", "n", "alpha", "alpha_ci_low", "alpha_ci_high", "alpha_std", "omega"]
    frame = pd.DataFrame(rows).set_index("construct").reindex(columns=cols)
    out = ReliabilityTable(frame.astype({"n_items": int, "n": int}))
    out.item_table = (pd.DataFrame(item_rows).set_index(["construct", "item"]) if item_rows
                      else pd.DataFrame())
    out.missing = missing
    return out

def composite_scores(data: pd.DataFrame, constructs: Mapping[str, Sequence[str]], *,
                     reverse: Iterable[str] = (), scale: tuple[float, float] = (1, 5),
                     min_share: float = 0.5) -> pd.DataFrame:
    """Composite score (mean of the items) of each construct for each respondent.

    Parameters
    ----------
    data : DataFrame
        Item answers; NaN for missing.
    constructs : mapping of str to list of str
        Construct name -> its item columns.
    reverse : iterable of str
        Reverse-keyed items, recoded as (min + max) - x before averaging.
    scale : (min, max)
        Answer scale of the items.
    min_share : float
        Missing-data rule: a respondent's composite is the mean of the items
        they answered if they answered at least ceil(min_share x k) of the k
        items (default: at least half); otherwise the composite is missing.

    Returns
    -------
    DataFrame
        One column per construct, same index as ``data``.

    Notes
    -----
    Person-mean imputation over answered items ("half rule") keeps the
    composite on the answer scale; requiring half the items bounds the bias
    when answers are missing at random (Schafer and Graham 2002).

    Examples
    --------
    >>> surveykit.composite_scores(bfi, {"A": ["A1", "A2", "A3", "A4", "A5"]},
    ...                            reverse=["A1"], scale=(1, 6))  # doctest: +SKIP
    >>> # In R: s <- rowMeans(x, na.rm = TRUE); s[rowSums(!is.na(x)) < ceiling(k / 2)] <- NA
    """
    import pandas as pd

    if not 0 < min_share <= 1:
        raise MeasurementError(f"min_share ({min_share!r}) must be in (0, 1].")
    constructs = check_constructs(data, constructs)
    check_scale(scale)
    out = {}
    for name, items in constructs.items():
        x = item_matrix(data, items, reverse=reverse, scale=scale)
        answered = (~np.isnan(x)).sum(axis=1)
        need = math.ceil(min_share * len(items) - 1e-12)
        with np.errstate(invalid="ignore", divide="ignore"):
            score = np.nansum(x, axis=1) / answered
        score[answered < max(need, 1)] = np.nan
        out[name] = score
    return pd.DataFrame(out, index=data.index)
