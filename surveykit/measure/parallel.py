"""Horn's parallel analysis for the number of factors and components, as ``psych::fa.parallel``."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from surveykit.errors import MeasurementError
from surveykit.measure._data import check_items, check_missing, correlation, item_matrix
from surveykit.measure._factor import single_thread
from surveykit.measure.results import TableResult

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pandas as pd


@dataclass(frozen=True)
class ParallelResult(TableResult):
    """Observed and simulated eigenvalues and the suggested numbers of factors/components.

    Attributes
    ----------
    pc_values, fa_values : ndarray
        Eigenvalues of R (components) and of R with one-factor communalities
        on the diagonal (factors), observed data.
    sim_pc, sim_fa : ndarray
        Eigenvalues of the simulated data, shape (n_iter, p).
    quantile : float
        Quantile of the simulated eigenvalues the observed ones must exceed.
    n_obs, n_iter : int
        Simulated sample size (rows of the data) and number of simulations.
    seed : int or None
        Seed of the random generator.
    """

    pc_values: np.ndarray
    fa_values: np.ndarray
    sim_pc: np.ndarray
    sim_fa: np.ndarray
    quantile: float
    n_obs: int
    n_iter: int
    seed: int | None
    items: tuple[str, ...]

    @cached_property
    def sim_pc_threshold(self) -> np.ndarray:
        """Quantile of the simulated component eigenvalues (R's type-7 quantile)."""
        return np.quantile(self.sim_pc, self.quantile, axis=0)

    @cached_property
    def sim_fa_threshold(self) -> np.ndarray:
        """Quantile of the simulated factor eigenvalues."""
        return np.quantile(self.sim_fa, self.quantile, axis=0)

    @staticmethod
    def _count(observed: np.ndarray, threshold: np.ndarray) -> int:
        below = np.flatnonzero(~(observed > threshold))
        return int(below[0]) if below.size else len(observed)

    @cached_property
    def n_factors(self) -> int:
        """Suggested number of factors: leading factor eigenvalues above the simulated quantile."""
        return self._count(self.fa_values, self.sim_fa_threshold)

    @cached_property
    def n_components(self) -> int:
        """Suggested number of components."""
        return self._count(self.pc_values, self.sim_pc_threshold)

    @cached_property
    def table(self) -> pd.DataFrame:
        """Observed eigenvalues next to simulated means and quantiles."""
        import pandas as pd

        q = f"q{round(100 * self.quantile)}"
        return pd.DataFrame({"pc_observed": self.pc_values, "pc_sim_mean": self.sim_pc.mean(axis=0),
                             f"pc_sim_{q}": self.sim_pc_threshold,
                             "fa_observed": self.fa_values, "fa_sim_mean": self.sim_fa.mean(axis=0),
                             f"fa_sim_{q}": self.sim_fa_threshold},
                            index=pd.RangeIndex(1, len(self.pc_values) + 1, name="k"))

    def _tables(self):
        return [(f"Parallel analysis ({self.n_iter} simulations of n = {self.n_obs}, seed {self.seed})",
                 self.table, 3)]

    def _notes(self):
        return [f"Parallel analysis suggests {self.n_factors} factor(s) and "
                f"{self.n_components} component(s)."]


def _fa_values(r: np.ndarray) -> np.ndarray:
    from surveykit.measure._factor import extract

    lam = extract(r, 1, "minres").loadings[:, 0]
    rr = r.copy()
    np.fill_diagonal(rr, lam * lam)
    return np.linalg.eigvalsh(rr)[::-1]


def parallel_analysis(data: pd.DataFrame, items: Sequence[str] | None = None, *, n_iter: int = 20,
                      seed: int | None = None, quantile: float = 0.95,
                      missing: str = "pairwise") -> ParallelResult:
    """Parallel analysis: how many factors/components exceed those of random data.

    Parameters
    ----------
    data : DataFrame
        Item answers; NaN for missing.
    items : sequence of str, optional
        Columns to analyse; default every numeric column.
    n_iter : int
        Number of simulated data sets (psych's default 20).
    seed : int, optional
        Seed of :func:`numpy.random.default_rng`, for a reproducible result.
    quantile : float
        Observed eigenvalues must exceed this quantile of the simulated ones
        (psych's ``quant = .95``).
    missing : {"pairwise", "listwise"}
        How the observed correlation matrix treats missing answers.

    Returns
    -------
    ParallelResult

    Notes
    -----
    As ``psych::fa.parallel(x, fm = "minres", fa = "both")`` with simulated
    data: each iteration draws an n x p standard normal matrix (n = number of
    respondents), and records the eigenvalues of its correlation matrix
    (components) and of that matrix with the communalities of a one-factor
    minres solution on the diagonal (factors).  The suggested number is the
    count of leading observed eigenvalues greater than the simulated
    quantile.  psych also resamples the observed data; its decision uses the
    simulated quantiles, as here.  Random numbers differ from R's, so
    simulated values agree with psych within Monte Carlo error only.

    References
    ----------
    Horn, J. L. (1965). A rationale and test for the number of factors in
    factor analysis. Psychometrika, 30, 179-185.

    Examples
    --------
    >>> surveykit.parallel_analysis(bfi, n_iter=100, seed=1).n_factors  # doctest: +SKIP
    >>> # In R: psych::fa.parallel(bfi[, 1:25], fm = "minres", n.iter = 100)$nfact
    """
    check_missing(missing)
    if not isinstance(n_iter, (int, np.integer)) or n_iter < 1:
        raise MeasurementError(f"n_iter ({n_iter!r}) must be a positive integer.")
    if not 0 < quantile < 1:
        raise MeasurementError(f"quantile ({quantile!r}) must lie strictly between 0 and 1.")
    items = check_items(data, items)
    r, n = correlation(item_matrix(data, items), missing, items)
    p = r.shape[0]
    rng = np.random.default_rng(seed)
    sim_pc = np.empty((n_iter, p))
    sim_fa = np.empty((n_iter, p))
    with warnings.catch_warnings(), single_thread():
        # Heywood cases in one-factor fits of pure noise are expected and harmless here
        warnings.simplefilter("ignore")
        fa_values = _fa_values(r)
        for k in range(n_iter):
            z = rng.standard_normal((n, p))
            rs = np.corrcoef(z, rowvar=False)
            sim_pc[k] = np.linalg.eigvalsh(rs)[::-1]
            sim_fa[k] = _fa_values(rs)
    return ParallelResult(pc_values=np.linalg.eigvalsh(r)[::-1], fa_values=fa_values, sim_pc=sim_pc,
                          sim_fa=sim_fa, quantile=quantile, n_obs=n, n_iter=int(n_iter), seed=seed,
                          items=tuple(items))
