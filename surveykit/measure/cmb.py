"""Common method bias: Harman's single-factor test."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from surveykit.errors import MeasurementError
from surveykit.measure._data import check_items, correlation, item_matrix
from surveykit.measure.results import TestResult

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pandas as pd


@dataclass(frozen=True)
class HarmanResult(TestResult):
    """Share of total item variance taken by the first unrotated factor.

    Attributes
    ----------
    share : float
        Variance share of the first factor (the statistic).
    method : str
        ``"pca"`` (first principal component) or ``"minres"`` (one-factor minres).
    n_items, n_obs : int
        Items and cases analysed.
    """

    method: str = "pca"
    n_items: int = 0
    n_obs: int = 0

    @property
    def share(self) -> float:
        """Variance share of the first unrotated factor."""
        return self.statistic

    @property
    def above_40(self) -> bool:
        """True if the first factor takes more than 40% of the variance (warning sign)."""
        return self.statistic > 0.40

    @property
    def above_50(self) -> bool:
        """True if the first factor takes more than 50% of the variance (common method bias likely)."""
        return self.statistic > 0.50

    def _lines(self):
        lines = super()._lines()
        flag = ("above 50%: common method bias likely" if self.above_50 else
                "above 40%: possible common method bias" if self.above_40 else "below 40%")
        lines[1] = ("Statistic", f"{self.statistic:.4f} ({100 * self.statistic:.1f}% of variance, {flag})")
        return lines


def harman(data: pd.DataFrame, items: Sequence[str] | None = None, *, method: str = "pca",
           missing: str = "pairwise") -> HarmanResult:
    """Harman's single-factor test for common method bias.

    Parameters
    ----------
    data : DataFrame
        Item answers; NaN for missing.
    items : sequence of str, optional
        All substantive items of the questionnaire; default every numeric column.
    method : {"pca", "minres"}
        ``pca``: eigenvalue of the first principal component over the number of
        items (the unrotated solution SPSS users report); ``minres``: the
        proportion of variance of a one-factor minres solution.
    missing : {"pairwise", "listwise"}
        How the correlation matrix treats missing answers.

    Returns
    -------
    HarmanResult
        Flags at 40% and 50% of the variance.

    Notes
    -----
    pca: share = lambda_1(R) / p.  minres: share = sum lambda_i^2 / p of the
    one-factor minres loadings (psych ``fa(r, 1)$Vaccounted["Proportion Var", ]``).
    The test is a weak screen (Podsakoff et al. 2003): a single factor below
    the thresholds does not rule out method variance.

    References
    ----------
    Podsakoff, P. M., MacKenzie, S. B., Lee, J.-Y. and Podsakoff, N. P. (2003).
    Common method biases in behavioral research. Journal of Applied
    Psychology, 88, 879-903.

    Examples
    --------
    >>> surveykit.harman(bfi).share  # doctest: +SKIP
    >>> # In R: eigen(cor(bfi[, 1:25], use = "pairwise"))$values[1] / 25
    """
    if method not in ("pca", "minres"):
        raise MeasurementError(f"method ({method!r}) must be one of 'pca' or 'minres'.")
    items = check_items(data, items)
    r, n = correlation(item_matrix(data, items), missing)
    p = r.shape[0]
    if method == "pca":
        share = float(np.linalg.eigvalsh(r)[-1] / p)
    else:
        import warnings

        from surveykit.measure._factor import extract

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lam = extract(r, 1, "minres").loadings
        share = float((lam ** 2).sum() / p)
    label = "first principal component" if method == "pca" else "one-factor minres solution"
    return HarmanResult(name="Harman's single-factor test",
                        null=f"no single factor dominates ({label} takes <= 40% / 50% of the variance)",
                        statistic=share, pvalue=None, distribution="n/a (descriptive)",
                        method=method, n_items=p, n_obs=n)
