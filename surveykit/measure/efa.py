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
    pair_counts: np.ndarray | None = None

    @cached_property
    def fit(self) -> pd.Series:
        """Fit statistics as psych's ``fa`` reports them.

        ``objective`` (ML discrepancy of the model correlation matrix),
        ``chisq`` and ``pvalue`` on ``df``, ``tli``, ``rmsea`` with its 90%
        interval, ``bic``, the null model's ``null_chisq`` and ``null_df``, and
        ``rms`` (root mean square of the off-diagonal residuals, weighted by
        pair counts) -- psych's ``STATISTIC, PVAL, dof, TLI, RMSEA, BIC,
        null.chisq, null.dof, rms``.

        Notes
        -----
        With M = Lambda Phi Lambda' (unit diagonal), F = tr(M^-1 R) -
        ln|M^-1 R| - p and chi2 = F [(n - 1) - (2p + 5)/6 - 2q/3] on
        df = p(p - 1)/2 - pq + q(q - 1)/2.  TLI = (M0 - F/df)/(M0 - 1/nm) with
        M0 the null model's F per df and nm the chi-square multiplier;
        RMSEA = sqrt(max(chi2/(df n) - 1/(n - 1), 0)).  Both M and R are
        eigen-smoothed first if not positive definite, as psych does.
        """
        return _fit_statistics(self)

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

    def _notes(self):
        f = self.fit
        if not f["df"] > 0:
            return [f"The model has {f['df']:g} degrees of freedom: no test of fit."]
        return [f"Chi-square {f['chisq']:.3f} on {f['df']:g} df, p = {f['pvalue']:.4g}; "
                f"TLI {f['tli']:.3f}; RMSEA {f['rmsea']:.3f} [{f['rmsea_low']:.3f}, "
                f"{f['rmsea_high']:.3f}]; BIC {f['bic']:.2f}; RMSR {f['rms']:.3f}."]


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
    x = item_matrix(data, items)
    r, n = correlation(x, missing, items)
    if missing == "pairwise":
        present = (~np.isnan(x[~np.isnan(x).all(axis=1)])).astype(float)
        counts = present.T @ present
    else:
        counts = np.full(r.shape, float(n))
    ext = extract(r, int(n_factors), method)
    lam, phi, rot_ok = _orient(ext.loadings, rotation)
    names = [f"{METHODS[method]}{k + 1}" for k in range(lam.shape[1])]
    loadings = pd.DataFrame(lam, index=items, columns=names)
    phi_df = None if phi is None else pd.DataFrame(phi, index=names, columns=names)
    h2 = np.einsum("ij,ij->i", ext.loadings, ext.loadings)
    return EFAResult(loadings=loadings, phi=phi_df, communality=pd.Series(h2, index=items, name="h2"),
                     method=method, rotation=rotation, missing=missing, n_obs=n,
                     correlation=pd.DataFrame(r, index=items, columns=items),
                     converged=ext.converged and rot_ok, objective=ext.objective,
                     pair_counts=counts)


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


def _smooth(x: np.ndarray) -> np.ndarray:
    """psych ``cor.smooth``: make a not positive definite correlation matrix positive definite."""
    vals, vecs = np.linalg.eigh(x)
    if vals.min() >= np.finfo(float).eps:
        return x
    vals = np.where(vals < 1e-12, 100 * 1e-12, vals)
    vals = vals * len(vals) / vals.sum()
    out = (vecs * vals) @ vecs.T
    d = 1 / np.sqrt(np.diag(out))
    return out * np.outer(d, d)


def _fit_statistics(res: EFAResult):
    import pandas as pd
    from scipy import optimize, stats

    r = res.correlation.to_numpy()
    lam = res.loadings.to_numpy()
    phi = np.eye(lam.shape[1]) if res.phi is None else res.phi.to_numpy()
    p, q, n = r.shape[0], lam.shape[1], res.n_obs
    model = lam @ phi @ lam.T
    resid = r - model
    np.fill_diagonal(resid, 0.0)
    counts = res.pair_counts if res.pair_counts is not None else np.full(r.shape, float(n))
    nh = len(counts.ravel()) / np.sum(1.0 / counts)  # harmonic mean of pair counts
    rms = float(np.sqrt(np.sum(resid ** 2 * counts) / (nh * p * (p - 1))))
    np.fill_diagonal(model, np.diag(r))
    model, rs = _smooth(model), _smooth(r)
    m_inv_r = np.linalg.solve(model, rs)
    objective = float(np.trace(m_inv_r) - np.linalg.slogdet(m_inv_r)[1] - p)
    df = p * (p - 1) / 2 - p * q + q * (q - 1) / 2
    nm = (n - 1) - (2 * p + 5) / 6 - 2 * q / 3
    chisq = max(objective * nm, 0.0)
    f0 = float(np.trace(rs) - np.linalg.slogdet(rs)[1] - p)
    m0 = f0 * 2 / (p * (p - 1))
    out = {"objective": objective, "chisq": chisq, "df": df,
           "pvalue": float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan,
           "tli": (m0 - objective / df) / (m0 - 1 / nm) if df > 0 else np.nan,
           "rmsea": np.nan, "rmsea_low": np.nan, "rmsea_high": np.nan,
           "bic": chisq - df * np.log(n) if df > 0 else np.nan,
           "null_chisq": f0 * ((n - 1) - (2 * p + 5) / 6), "null_df": p * (p - 1) / 2, "rms": rms}
    if df > 0:
        rmsea = np.sqrt(max(chisq / (df * n) - 1 / (n - 1), 0.0))
        tail, upper = 0.05, max(n, chisq) + 2 * n

        def bound(target):
            return np.sqrt(optimize.brentq(lambda x: stats.ncx2.cdf(chisq, df, x) - target,
                                           1e-12, upper, xtol=1e-12) / (n - 1) / df)

        cdf0 = stats.chi2.cdf(chisq, df)
        high = bound(tail) if cdf0 > tail else 0.0
        low = bound(1 - tail) if cdf0 > 1 - tail else 0.0
        out.update(rmsea=rmsea, rmsea_low=low if low <= rmsea else np.nan,
                   rmsea_high=high if high >= rmsea else np.nan)
    return pd.Series(out, name="fit")
