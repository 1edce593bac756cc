"""Common method bias: Harman's single-factor test, by PCA/EFA and by CFA."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from surveykit.errors import MeasurementError
from surveykit.measure._data import check_items, correlation, item_matrix
from surveykit.measure.results import TableResult, TestResult

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

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
    r, n = correlation(item_matrix(data, items), missing, items)
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


FIT_INDICES = ("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "aic", "bic")


@dataclass(frozen=True)
class SingleFactorCFA(TableResult):
    """The one-factor CFA (all items on one method factor) against the measurement model.

    Attributes
    ----------
    measurement : SEMResult
        CFA with one factor per construct.
    single : SEMResult
        CFA with every item on a single factor.
    test : LRTest
        Chi-square difference test of the two (the single-factor model is nested).
    """

    measurement: object
    single: object
    test: object

    @cached_property
    def table(self) -> pd.DataFrame:
        """Fit indices of both models side by side."""
        import pandas as pd

        return pd.DataFrame({"measurement model": [self.measurement.fit[k] for k in FIT_INDICES],
                             "single factor": [self.single.fit[k] for k in FIT_INDICES]},
                            index=list(FIT_INDICES))

    @property
    def single_factor_worse(self) -> bool:
        """True if the single-factor model fits significantly worse (p < .05): no dominant method factor."""
        return bool(self.test.pvalue < 0.05)

    def _tables(self):
        return [("Common method bias: single-factor CFA vs measurement model", self.table, 3)]

    def _notes(self):
        t = self.test
        verdict = ("the single factor fits significantly worse: no dominant common method factor"
                   if self.single_factor_worse else
                   "the single factor does not fit significantly worse: common method variance may dominate")
        return [f"Chi-square difference {t.statistic:.3f} on {t.df} df, p = {t.pvalue:.4g}: {verdict}."]


def harman_cfa(data: pd.DataFrame, constructs: Mapping[str, Sequence[str]], *,
               reverse: Iterable[str] = (), scale: tuple[float, float] = (1, 5),
               estimator: str = "ML", missing: str = "listwise") -> SingleFactorCFA:
    """Harman's test by CFA: one method factor for all items against the measurement model.

    Parameters
    ----------
    data : DataFrame
        Item answers; NaN for missing.
    constructs : mapping of str to list of str
        Construct name -> its item columns (the measurement model).
    reverse : iterable of str
        Reverse-keyed items, recoded as (min + max) - x with min, max from ``scale``.
    scale : (min, max)
        Answer scale of the items.
    estimator : {"ML", "MLR"}
        Passed to :func:`surveykit.cfa`; with MLR the difference test is
        Satorra-Bentler scaled.
    missing : {"listwise", "ml"}
        Passed to :func:`surveykit.cfa`.

    Returns
    -------
    SingleFactorCFA

    Notes
    -----
    The single-factor model is the measurement model with every factor
    correlation fixed at one, so the two are nested and compared by
    T = T_single - T_measurement on df_single - df_measurement degrees of
    freedom.  A significantly worse single-factor fit argues against one
    common method factor (Podsakoff et al. 2003).

    Examples
    --------
    >>> surveykit.measure.harman_cfa(hs, {"visual": ["x1", "x2", "x3"],
    ...                                   "textual": ["x4", "x5", "x6"]})  # doctest: +SKIP
    >>> # In R: lavTestLRT(cfa("g =~ x1 + ... + x6", hs), cfa("visual =~ ...", hs))
    """
    import pandas as pd

    import surveykit
    from surveykit.measure._data import check_constructs, check_scale, item_matrix

    constructs = check_constructs(data, constructs)
    check_scale(scale)
    if len(constructs) < 2:
        raise MeasurementError("harman_cfa needs at least 2 constructs to compare with one factor.")
    items = [i for its in constructs.values() for i in its]
    if len(set(items)) != len(items):
        raise MeasurementError("an item belongs to more than one construct.")
    names = {c for c in constructs} | set(items)
    method = "CMB" if "CMB" not in names else "CMB_"
    x = pd.DataFrame(item_matrix(data, items, reverse=reverse, scale=scale), columns=items,
                     index=data.index)
    measurement = "\n".join(f"{c} =~ {' + '.join(its)}" for c, its in constructs.items())
    single = f"{method} =~ {' + '.join(items)}"
    m1 = surveykit.cfa(measurement, x, estimator=estimator, missing=missing)
    m0 = surveykit.cfa(single, x, estimator=estimator, missing=missing)
    return SingleFactorCFA(measurement=m1, single=m0, test=surveykit.lrt(m0, m1))
