"""Descriptive table of construct composites and the Fornell-Larcker table."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from surveykit.errors import MeasurementError
from surveykit.measure._data import pairwise_corr
from surveykit.measure.results import TableResult, stars

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    import pandas as pd


@dataclass(frozen=True)
class ConstructTable(TableResult):
    """Means, SDs and correlations of construct composites, as theses print them.

    Attributes
    ----------
    stats : DataFrame
        Per construct: n, mean, sd.
    corr : DataFrame
        Pairwise correlations of the composites.
    pvalues : DataFrame
        Two-sided p-values of the correlations (t test, n_ij - 2 df).
    n_pairs : DataFrame
        Cases behind each correlation.
    ave : Series or None
        Average variance extracted per construct, if given; its square root is
        printed on the diagonal.
    """

    stats: pd.DataFrame
    corr: pd.DataFrame
    pvalues: pd.DataFrame
    n_pairs: pd.DataFrame
    ave: pd.Series | None = None

    @cached_property
    def table(self) -> pd.DataFrame:
        """The printed table: mean, SD, then the lower triangle of correlations with stars."""
        import pandas as pd

        names = list(self.corr.index)
        cells = {}
        for j in range(len(names)):
            col = []
            for i, ci in enumerate(names):
                if i < j:
                    col.append("")
                elif i == j:
                    if self.ave is not None and ci in self.ave.index and not math.isnan(self.ave[ci]):
                        col.append(f"({math.sqrt(self.ave[ci]):.3f})")
                    else:
                        col.append("1")
                else:
                    col.append(f"{self.corr.iat[i, j]:.3f}{stars(self.pvalues.iat[i, j])}")
            cells[str(j + 1)] = col
        out = pd.DataFrame(cells, index=[f"{k + 1}. {n}" for k, n in enumerate(names)])
        out.insert(0, "SD", [f"{v:.3f}" for v in self.stats["sd"]])
        out.insert(0, "Mean", [f"{v:.3f}" for v in self.stats["mean"]])
        return out

    def _tables(self):
        return [("Construct means, standard deviations and correlations", self.table, 3)]

    def _notes(self):
        note = "* p < .05, ** p < .01, *** p < .001 (two-sided)."
        if self.ave is not None:
            note += " Diagonal: square root of AVE in parentheses."
        return [note]


def describe_constructs(data: pd.DataFrame, constructs: Mapping[str, Sequence[str]], *,
                        reverse: Iterable[str] = (), scale: tuple[float, float] = (1, 5),
                        min_share: float = 0.5,
                        ave: Mapping[str, float] | None = None) -> ConstructTable:
    """Descriptive table of construct composites with correlation stars.

    Parameters
    ----------
    data : DataFrame
        Item answers; NaN for missing.
    constructs : mapping of str to list of str
        Construct name -> its item columns.
    reverse, scale, min_share
        As in :func:`composite_scores`, which builds the composites.
    ave : mapping of str to float, optional
        Average variance extracted per construct (from a CFA); its square
        root goes on the diagonal, as in a Fornell-Larcker presentation.

    Returns
    -------
    ConstructTable

    Notes
    -----
    Correlations use pairwise-complete composites; p-values from
    t = r sqrt(n - 2) / sqrt(1 - r^2) on n - 2 degrees of freedom, as
    ``psych::corr.test(adjust = "none")``.

    Examples
    --------
    >>> surveykit.describe_constructs(hs, {"visual": ["x1", "x2", "x3"],
    ...                                    "textual": ["x4", "x5", "x6"]})  # doctest: +SKIP
    >>> # In R: psych::corr.test(composites, adjust = "none")
    """
    import pandas as pd
    from scipy import stats as st

    from surveykit.measure.reliability import composite_scores

    scores = composite_scores(data, constructs, reverse=reverse, scale=scale, min_share=min_share)
    x = scores.to_numpy()
    names = list(scores.columns)
    r, n = pairwise_corr(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = r * np.sqrt(n - 2) / np.sqrt(1 - r ** 2)
        p = 2 * st.t.sf(np.abs(t), n - 2)
    np.fill_diagonal(p, 0.0)
    table = pd.DataFrame({"n": (~np.isnan(x)).sum(axis=0), "mean": np.nanmean(x, axis=0),
                          "sd": np.nanstd(x, axis=0, ddof=1)}, index=names)
    ave_s = None
    if ave is not None:
        ave = dict(ave.items())  # a dict or a Series such as fit.reliability()["ave"]
        unknown = [k for k in ave if k not in names]
        if unknown:
            raise MeasurementError(f"ave names a construct not in constructs: {unknown[0]!r}.")
        ave_s = pd.Series({k: float(v) for k, v in ave.items()}, name="AVE").reindex(names)
    frame = lambda m: pd.DataFrame(m, index=names, columns=names)  # noqa: E731
    return ConstructTable(stats=table, corr=frame(r), pvalues=frame(p),
                          n_pairs=frame(n.astype(int)), ave=ave_s)


@dataclass(frozen=True)
class FornellLarcker(TableResult):
    """Fornell-Larcker table: sqrt(AVE) on the diagonal, latent correlations below.

    Attributes
    ----------
    table : DataFrame
        Lower triangle of latent correlations, sqrt(AVE) on the diagonal.
    ave : Series
        Average variance extracted per construct.
    latent_correlations : DataFrame
        Correlations of the latent variables.
    """

    table: pd.DataFrame
    ave: pd.Series
    latent_correlations: pd.DataFrame

    @cached_property
    def passed(self) -> pd.Series:
        """Per construct: True if sqrt(AVE) exceeds its absolute correlation with every other construct."""
        r = self.latent_correlations.abs().to_numpy().copy()
        np.fill_diagonal(r, -np.inf)
        import pandas as pd

        return pd.Series(np.sqrt(self.ave.to_numpy()) > r.max(axis=1), index=self.ave.index,
                         name="passed")

    @cached_property
    def violations(self) -> list[tuple[str, str]]:
        """Construct pairs whose |correlation| is not below both square roots of AVE."""
        names = list(self.ave.index)
        root = np.sqrt(self.ave.to_numpy())
        r = self.latent_correlations.abs().to_numpy()
        return [(names[j], names[i]) for i in range(len(names)) for j in range(i)
                if r[i, j] >= min(root[i], root[j])]

    def _tables(self):
        return [("Fornell-Larcker criterion (diagonal: sqrt(AVE))", self.table, 3)]

    def _notes(self):
        if not self.violations:
            return ["Every sqrt(AVE) exceeds the construct's correlations with the others."]
        return [f"{a} - {b}: |r| is not below sqrt(AVE)." for a, b in self.violations]


def fornell_larcker(ave: Mapping[str, float] | object,
                    latent_correlations: pd.DataFrame | None = None, *,
                    group: int = 0) -> FornellLarcker:
    """Fornell-Larcker table from AVE and latent correlations (both from a CFA).

    Parameters
    ----------
    ave : mapping of str to float, or a CFA result
        Average variance extracted per construct; or the result of
        :func:`surveykit.cfa`, which supplies both AVE and the latent
        correlations (then leave ``latent_correlations`` out).
    latent_correlations : DataFrame
        Correlation matrix of the latent variables, labelled by construct.
    group : int
        With a multigroup CFA result: the group (0-based) to tabulate.

    Returns
    -------
    FornellLarcker

    Notes
    -----
    Discriminant validity holds for construct i when sqrt(AVE_i) > |phi_ij|
    for every j != i.

    References
    ----------
    Fornell, C. and Larcker, D. F. (1981). Evaluating structural equation
    models with unobservable variables and measurement error. Journal of
    Marketing Research, 18, 39-50.

    Examples
    --------
    >>> surveykit.fornell_larcker(ave, latent_cor)  # doctest: +SKIP
    >>> # In R: semTools::AVE(fit); lavInspect(fit, "cor.lv")
    """
    import pandas as pd

    if latent_correlations is None:
        if not hasattr(ave, "fornell_larcker"):
            raise MeasurementError("latent_correlations is required unless ave is a CFA result.")
        # the SEM result tabulates sqrt(AVE) on the diagonal and correlations below it
        t = ave.fornell_larcker(group)
        names = list(t.index)
        m = np.tril(t.to_numpy(dtype=float), -1)
        latent_correlations = pd.DataFrame(m + m.T + np.eye(len(names)), index=names, columns=names)
        ave = dict(zip(names, np.diag(t.to_numpy(dtype=float)) ** 2, strict=True))
    lc = pd.DataFrame(latent_correlations)
    names = list(lc.index)
    if list(lc.columns) != names:
        raise MeasurementError("latent_correlations must have the same construct labels on rows and columns.")
    missing = [n for n in names if n not in ave]
    if missing:
        raise MeasurementError(f"ave has no value for construct {missing[0]!r}.")
    a = pd.Series({n: float(ave[n]) for n in names}, name="AVE")
    if ((a < 0) | (a > 1)).any():
        bad = a[(a < 0) | (a > 1)].index[0]
        raise MeasurementError(f"ave[{bad!r}] ({a[bad]}) must lie between 0 and 1.")
    t = lc.to_numpy(dtype=float).copy()
    t[np.triu_indices_from(t, 1)] = np.nan
    np.fill_diagonal(t, np.sqrt(a.to_numpy()))
    return FornellLarcker(table=pd.DataFrame(t, index=names, columns=names), ave=a,
                          latent_correlations=lc.astype(float))
