"""Exploratory factor analysis: minres or ML extraction, varimax/promax/oblimin rotation."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from surveykit.errors import MeasurementError
from surveykit.measure._data import check_items, check_missing, correlation, item_matrix
from surveykit.measure.results import TableResult

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pandas as pd

METHODS = {"minres": "MR", "ml": "ML"}


@dataclass(frozen=True)
class EFAResult(TableResult):
    """An exploratory factor solution.

    Attributes
    ----------
    loadings : DataFrame
        Pattern loadings, items x factors, factors ordered by explained variance.
    phi : DataFrame or None
        Factor correlations (oblique rotations only).
    communality : Series
        h2 of each item (rotation-invariant).
    method, rotation, missing : str
        Extraction method, rotation and missing-data rule used.
    n_obs : int
        Number of cases behind the correlation matrix.
    correlation : DataFrame
        The correlation matrix analysed.
    converged : bool
        Whether extraction and rotation met their convergence criteria.
    objective : float
        Value of the fitting function at the optimum.
    """

    loadings: pd.DataFrame
    phi: pd.DataFrame | None
    communality: pd.Series
    method: str
    rotation: str
    missing: str
    n_obs: int
    correlation: pd.DataFrame
    converged: bool
    objective: float

    @cached_property
    def uniqueness(self) -> pd.Series:
        """u2 = 1 - h2 of each item."""
        return (1.0 - self.communality).rename("u2")

    @cached_property
    def structure(self) -> pd.DataFrame:
        """Structure matrix (item-factor correlations): loadings times Phi."""
        if self.phi is None:
            return self.loadings.copy()
        return self.loadings @ self.phi

    @cached_property
    def ss_loadings(self) -> pd.Series:
        """Variance explained by each factor: diag(Phi L'L) (colSums(L^2) if orthogonal)."""
        lam = self.loadings.to_numpy()
        phi = np.eye(lam.shape[1]) if self.phi is None else self.phi.to_numpy()
        import pandas as pd

        return pd.Series(np.diag(phi @ lam.T @ lam), index=self.loadings.columns, name="SS loadings")

    @cached_property
    def proportion_var(self) -> pd.Series:
        """SS loadings divided by the number of items."""
        return (self.ss_loadings / len(self.loadings)).rename("Proportion Var")

    @cached_property
    def variance(self) -> pd.DataFrame:
        """psych's ``Vaccounted`` table: SS loadings, proportion and cumulative variance."""
        import pandas as pd

        ss = self.ss_loadings
        prop = self.proportion_var
        return pd.DataFrame({"SS loadings": ss, "Proportion Var": prop,
                             "Cumulative Var": prop.cumsum(),
                             "Proportion Explained": ss / ss.sum(),
                             "Cumulative Proportion": (ss / ss.sum()).cumsum()}).T

    @cached_property
    def eigenvalues(self) -> np.ndarray:
        """Eigenvalues of the correlation matrix with communalities on the diagonal (psych ``values``)."""
        r = self.correlation.to_numpy().copy()
        np.fill_diagonal(r, self.communality.to_numpy())
        return np.linalg.eigvalsh(r)[::-1]

    @property
    def n_factors(self) -> int:
        """Number of factors."""
        return self.loadings.shape[1]

    def _tables(self):
        table = self.loadings.copy()
        table["h2"] = self.communality
        table["u2"] = self.uniqueness
        out = [(f"EFA: {self.method}, {self.rotation} rotation, {self.n_factors} factor(s), "
                f"n = {self.n_obs} ({self.missing})", table, 3),
               ("Variance accounted for", self.variance, 3)]
        if self.phi is not None:
            out.append(("Factor correlations", self.phi, 3))
        return out


def efa(data: pd.DataFrame, n_factors: int, *, method: str = "minres", rotation: str = "oblimin",
        items: Sequence[str] | None = None, missing: str = "pairwise") -> EFAResult:
    """Exploratory factor analysis, as ``psych::fa``.

    Parameters
    ----------
    data : DataFrame
        Item answers, one row per respondent; NaN for missing.
    n_factors : int
        Number of factors to extract.
    method : {"minres", "ml"}
        Minimum residual (unweighted least squares) or maximum likelihood.
    rotation : {"oblimin", "promax", "varimax", "none"}
        Rotation of the extracted loadings.
    items : sequence of str, optional
        Columns to analyse; default every numeric column.
    missing : {"pairwise", "listwise"}
        Correlations from pairwise-complete observations (psych's default) or
        from complete cases only.

    Returns
    -------
    EFAResult

    Raises
    ------
    MeasurementError
        If the method, rotation or number of factors is invalid.

    Warns
    -----
    ConvergenceWarning, HeywoodCaseWarning

    Notes
    -----
    minres minimises the sum of squared off-diagonal residuals of
    R - Lambda Lambda' over the uniquenesses psi (psych's ``fm = "minres"``);
    ML minimises -sum_{k>q}(log e_k - e_k) - q + p, with e_k the eigenvalues
    of Psi^-1/2 R Psi^-1/2 (``factanal`` / ``fm = "ml"``).  Both keep psi in
    [0.005, 1].  Loadings are sign-flipped to positive column sums, rotated
    (see :mod:`surveykit.measure.rotations`), flipped again and ordered by
    explained variance diag(Phi Lambda' Lambda), exactly as psych does.

    References
    ----------
    Revelle, W. (2022). psych: Procedures for Psychological, Psychometric, and
    Personality Research. R package version 2.2.9.

    Examples
    --------
    >>> res = surveykit.efa(bfi, 5, method="minres", rotation="oblimin")  # doctest: +SKIP
    >>> # In R: psych::fa(bfi[, 1:25], nfactors = 5, fm = "minres", rotate = "oblimin")
    """
    import pandas as pd

    from surveykit.measure._factor import extract
    from surveykit.measure.rotations import ROTATIONS

    if method not in METHODS:
        raise MeasurementError(f"method ({method!r}) must be one of 'minres' or 'ml'.")
    if rotation not in ROTATIONS:
        raise MeasurementError(
            f"rotation ({rotation!r}) must be one of 'oblimin', 'promax', 'varimax' or 'none'.")
    check_missing(missing)
    items = check_items(data, items)
    if not isinstance(n_factors, (int, np.integer)) or n_factors < 1:
        raise MeasurementError(f"n_factors ({n_factors!r}) must be a positive integer.")
    if n_factors > len(items):
        raise MeasurementError(
            f"n_factors ({n_factors}) cannot exceed the number of items ({len(items)}).")
    r, n = correlation(item_matrix(data, items), missing, items)
    ext = extract(r, int(n_factors), method)
    lam, phi, rot_ok = _orient(ext.loadings, rotation)
    names = [f"{METHODS[method]}{k + 1}" for k in range(lam.shape[1])]
    loadings = pd.DataFrame(lam, index=items, columns=names)
    phi_df = None if phi is None else pd.DataFrame(phi, index=names, columns=names)
    h2 = np.einsum("ij,ij->i", ext.loadings, ext.loadings)
    return EFAResult(loadings=loadings, phi=phi_df, communality=pd.Series(h2, index=items, name="h2"),
                     method=method, rotation=rotation, missing=missing, n_obs=n,
                     correlation=pd.DataFrame(r, index=items, columns=items),
                     converged=ext.converged and rot_ok, objective=ext.objective)


def _orient(lam: np.ndarray, rotation: str) -> tuple[np.ndarray, np.ndarray | None, bool]:
    """Flip, rotate, flip and order factors as psych ``fa`` does."""
    from surveykit.measure.rotations import rotate

    sign = np.sign(lam.sum(axis=0))
    sign[sign == 0] = 1
    lam = lam * sign
    rot = rotate(lam, rotation)
    lam, phi = rot.loadings, rot.phi
    sign = np.sign(lam.sum(axis=0))
    sign[sign == 0] = 1
    lam = lam * sign
    if phi is not None:
        phi = phi * np.outer(sign, sign)
    if lam.shape[1] > 1:
        ev = np.diag(lam.T @ lam) if phi is None else np.diag(phi @ lam.T @ lam)
        # stable descending order, ties keep their position like R's order()
        order = np.argsort(-ev, kind="stable")
        lam = lam[:, order]
        if phi is not None:
            phi = phi[np.ix_(order, order)]
    return lam, phi, rot.converged
