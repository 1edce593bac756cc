"""Factorability of a correlation matrix: Kaiser-Meyer-Olkin MSA and Bartlett's sphericity test."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from surveykit.measure._data import check_items, correlation, item_matrix
from surveykit.measure.results import TestResult, format_frame, html_frame

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pandas as pd


def _kaiser_label(msa: float) -> str:
    """Kaiser's (1974) adjectives for the MSA."""
    for cut, label in ((0.9, "marvelous"), (0.8, "meritorious"), (0.7, "middling"),
                       (0.6, "mediocre"), (0.5, "miserable")):
        if msa >= cut:
            return label
    return "unacceptable"


@dataclass(frozen=True)
class KMOResult(TestResult):
    """Kaiser-Meyer-Olkin measure of sampling adequacy, overall and per item.

    Attributes
    ----------
    per_item : Series
        MSA of each item.
    n_obs : int
        Cases behind the correlation matrix.
    """

    per_item: pd.Series = None  # type: ignore[assignment]
    n_obs: int = 0

    @property
    def overall(self) -> float:
        """Overall MSA (the statistic)."""
        return self.statistic

    @cached_property
    def label(self) -> str:
        """Kaiser's verbal label of the overall MSA (marvelous ... unacceptable)."""
        return _kaiser_label(self.statistic)

    def _lines(self):
        lines = super()._lines()
        lines[1] = ("Statistic", f"{self.statistic:.4f} ({self.label})")
        return lines

    def summary(self) -> str:
        return super().summary() + "\n\n" + format_frame(self.per_item.to_frame("MSA"), 3,
                                                          "Per-item MSA")

    def _repr_html_(self) -> str:
        return super()._repr_html_() + html_frame(self.per_item.to_frame("MSA"), 3, "Per-item MSA")


@dataclass(frozen=True)
class BartlettResult(TestResult):
    """Bartlett's test that the correlation matrix is an identity matrix."""

    df: int = 0
    n_obs: int = 0


def kmo(data: pd.DataFrame, *, items: Sequence[str] | None = None,
        missing: str = "pairwise") -> KMOResult:
    """Kaiser-Meyer-Olkin measure of sampling adequacy, as ``psych::KMO``.

    Parameters
    ----------
    data : DataFrame
        Item answers; NaN for missing.
    items : sequence of str, optional
        Columns to use; default every numeric column.
    missing : {"pairwise", "listwise"}
        How the correlation matrix treats missing answers.

    Returns
    -------
    KMOResult

    Notes
    -----
    With R the correlation matrix and Q the anti-image correlations
    (R^-1 scaled to unit diagonal), off-diagonal sums only:

        MSA = sum r_ij^2 / (sum r_ij^2 + sum q_ij^2),
        MSA_j = sum_i r_ij^2 / (sum_i r_ij^2 + sum_i q_ij^2).

    References
    ----------
    Kaiser, H. F. (1974). An index of factorial simplicity. Psychometrika, 39, 31-36.

    Examples
    --------
    >>> surveykit.kmo(bfi).overall  # doctest: +SKIP
    >>> # In R: psych::KMO(bfi[, 1:25])$MSA
    """
    import pandas as pd

    items = check_items(data, items)
    r, n = correlation(item_matrix(data, items), missing, items)
    try:
        q = np.linalg.inv(r)
    except np.linalg.LinAlgError:
        q = r.copy()  # psych falls back to R itself when it cannot invert
    d = 1.0 / np.sqrt(np.diag(q))
    q = q * np.outer(d, d)
    np.fill_diagonal(q, 0.0)
    r0 = r.copy()
    np.fill_diagonal(r0, 0.0)
    r2, q2 = (r0 ** 2).sum(axis=0), (q ** 2).sum(axis=0)
    overall = r2.sum() / (r2.sum() + q2.sum())
    return KMOResult(name="Kaiser-Meyer-Olkin measure of sampling adequacy",
                     null="none (an index; >= 0.6 is usually required, >= 0.8 is good)",
                     statistic=float(overall), pvalue=None, distribution="n/a",
                     per_item=pd.Series(r2 / (r2 + q2), index=items, name="MSA"), n_obs=n)


def bartlett(data: pd.DataFrame, *, items: Sequence[str] | None = None,
             missing: str = "pairwise") -> BartlettResult:
    """Bartlett's test of sphericity, as ``psych::cortest.bartlett``.

    Parameters
    ----------
    data : DataFrame
        Item answers; NaN for missing.
    items : sequence of str, optional
        Columns to use; default every numeric column.
    missing : {"pairwise", "listwise"}
        How the correlation matrix treats missing answers; n is the number of
        rows with any answer (pairwise) or of complete rows (listwise).

    Returns
    -------
    BartlettResult

    Notes
    -----
    chi2 = -(n - 1 - (2p + 5)/6) ln|R| on p(p - 1)/2 degrees of freedom.

    References
    ----------
    Bartlett, M. S. (1951). The effect of standardization on a chi square
    approximation in factor analysis. Biometrika, 38, 337-344.

    Examples
    --------
    >>> surveykit.bartlett(bfi).statistic  # doctest: +SKIP
    >>> # In R: psych::cortest.bartlett(cor(bfi[, 1:25], use = "pairwise"), n = 2800)$chisq
    """
    from scipy import stats

    items = check_items(data, items)
    r, n = correlation(item_matrix(data, items), missing, items)
    p = r.shape[0]
    sign, logdet = np.linalg.slogdet(r)
    if sign <= 0:
        from surveykit.errors import MeasurementError

        raise MeasurementError("the correlation matrix is not positive definite; Bartlett's test needs |R| > 0.")
    chisq = -logdet * (n - 1 - (2 * p + 5) / 6)
    df = p * (p - 1) // 2
    return BartlettResult(name="Bartlett's test of sphericity",
                          null="the correlation matrix is an identity matrix",
                          statistic=float(chisq), pvalue=float(stats.chi2.sf(chisq, df)),
                          distribution=f"chi2({df})", df=df, n_obs=n)
