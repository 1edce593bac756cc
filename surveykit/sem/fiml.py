"""Full-information maximum likelihood for incomplete data (``missing="ml"``).

Every case contributes the normal log-density of the variables it answered,
evaluated at the matching sub-vector and sub-matrix of the model-implied
moments.  Cases are grouped by their pattern of answered items, so each
pattern needs one inverse and one determinant:

``log L = sum_p -n_p/2 [k_p log(2 pi) + log|Sigma_p| + tr(Sigma_p^{-1} W_p)]``,
``W_p = C_p + (ybar_p - mu_p)(ybar_p - mu_p)'``

with ``ybar_p`` and ``C_p`` the mean and (divide-by-n) covariance of the
pattern's observed values.  The saturated (h1) moments are estimated by EM as
lavaan does (same start, same stopping rule), so χ² = 2 (log L_h1 - log L_h0)
matches lavaan's.  Standard errors come from the observed information (the
Hessian of log L, by central differences of the analytic gradient), lavaan's
default for ``missing = "ml"``; the gradient is ``Delta' d`` computed from the
model matrices (:meth:`~surveykit.sem.estimate.MLEngine.moment_gradient`), one
Cholesky factor per pattern serving the log-likelihood and its gradient.  The
observed information of the saturated model, which the robust statistics
need, is in closed form (:func:`_h1_observed_information`).  Under
``estimator="MLR"`` the sandwich uses the casewise observed-data scores, the
χ² is scaled as lavaan's ``yuan.bentler.mplus``, and the robust CFI, TLI and
RMSEA are lavaan's FIML-corrected ones (:func:`_fiml_corrected`).

Where surveykit differs from lavaan 0.6-14: the FIML optimum is polished by a
Newton step (lavaan's estimates sit ~1e-6 from it); GFI, AGFI and PGFI are not
reported under ``missing="ml"`` (lavaan computes them from pairwise sample
moments, a statistic of doubtful meaning with missing data); rows with no
answer at all are dropped, as lavaan does.

References
----------
Arbuckle, J. L. (1996). Full information estimation in the presence of
incomplete data. In *Advanced structural equation modeling* (pp. 243-277).

Little, R. J. A. & Rubin, D. B. (2002). *Statistical analysis with missing
data* (2nd ed.), ch. 8 (EM for the multivariate normal).

Rosseel, Y. (2012). lavaan (``lav_mvnorm_missing.R``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from surveykit.sem.robust import (
    MomentModel,
    constrained_inverse,
    h1_expected_information,
    numerical_hessian,
    vech_indices,
)

__all__ = ["Patterns", "FimlResult", "fiml", "fiml_from_engine", "em_moments", "fiml_loglik"]

LOG2PI = float(np.log(2 * np.pi))


@dataclass(frozen=True)
class Pattern:
    observed: np.ndarray  # boolean mask over variables
    rows: np.ndarray      # case indices
    mean: np.ndarray      # mean of the observed values
    cov: np.ndarray       # divide-by-n covariance of the observed values
    ix: tuple = ()        # open mesh selecting the observed block of a p x p matrix

    @property
    def n(self) -> int:
        return int(self.rows.size)


@dataclass(frozen=True)
class Patterns:
    """Cases of one group grouped by their pattern of observed variables."""

    X: np.ndarray
    patterns: list[Pattern] = field(default_factory=list)

    @classmethod
    def from_data(cls, X: np.ndarray) -> Patterns:
        X = np.asarray(X, dtype=float)
        obs = ~np.isnan(X)
        keep = obs.any(axis=1)  # cases with no answer at all carry no information
        X, obs = X[keep], obs[keep]
        uniq, inv = np.unique(obs, axis=0, return_inverse=True)
        pats = []
        for k in range(uniq.shape[0]):
            rows = np.flatnonzero(inv.ravel() == k)
            Y = X[np.ix_(rows, np.flatnonzero(uniq[k]))]
            m = Y.mean(axis=0)
            Yc = Y - m
            o = np.flatnonzero(uniq[k])
            pats.append(Pattern(uniq[k], rows, m, Yc.T @ Yc / rows.size, (o[:, None], o[None, :])))
        return cls(X, pats)

    @property
    def n(self) -> int:
        return int(self.X.shape[0])

    @cached_property
    def by_size(self) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """Patterns stacked by their number of observed variables ``k``.

        One ``(obs, n, mean, cov)`` per ``k``: ``obs`` the ``(P, k)`` observed
        positions, ``n`` the cases, ``mean`` ``(P, k)`` and ``cov`` ``(P, k, k)``,
        so that every pattern of one size is handled by batched linear algebra.
        """
        sizes: dict[int, list[Pattern]] = {}
        for pt in self.patterns:
            if pt.n == 1 and not pt.observed.all():
                continue  # in single_by_missing
            sizes.setdefault(int(pt.observed.sum()), []).append(pt)
        out = []
        for _, pats in sorted(sizes.items()):
            out.append((np.array([np.flatnonzero(pt.observed) for pt in pats]),
                        np.array([pt.n for pt in pats], dtype=float),
                        np.array([pt.mean for pt in pats]), np.array([pt.cov for pt in pats])))
        return out

    @cached_property
    def single_by_missing(self) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Incomplete patterns of one case each, stacked by their number of missing variables.

        One ``(missing, observed, y)`` per count: ``missing`` the ``(P, m)``
        missing positions, ``observed`` the ``(P, p)`` mask and ``y`` the cases
        with 0 where missing.
        """
        sizes: dict[int, list[Pattern]] = {}
        for pt in self.patterns:
            if pt.n == 1 and not pt.observed.all():
                sizes.setdefault(int((~pt.observed).sum()), []).append(pt)
        out = []
        for _, pats in sorted(sizes.items()):
            obs = np.array([pt.observed for pt in pats])
            y = np.zeros(obs.shape)
            y[obs] = np.concatenate([pt.mean for pt in pats])
            out.append((np.array([np.flatnonzero(~pt.observed) for pt in pats]), obs, y))
        return out


def fiml_loglik(pats: Patterns, mu: np.ndarray, sigma: np.ndarray) -> float:
    """Observed-data normal log-likelihood of one group (with the ``2 pi`` constant)."""
    ll = 0.0
    for pt in pats.patterns:
        o = pt.observed
        S = sigma[pt.ix]
        sign, logdet = np.linalg.slogdet(S)
        if sign <= 0:
            return -np.inf
        d = pt.mean - mu[o]
        W = pt.cov + np.outer(d, d)
        ll += -0.5 * pt.n * (o.sum() * LOG2PI + logdet + np.sum(np.linalg.solve(S, W).diagonal()))
    return float(ll)


def fiml_moment_gradient(pats: Patterns, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Gradient of :func:`fiml_loglik` with respect to ``[mu; vech(Sigma)]``."""
    p = sigma.shape[0]
    _, gmu, G = _loglik_derivatives(pats, mu, sigma)
    rows, cols = vech_indices(p)
    return np.concatenate([gmu, G[rows, cols] * np.where(rows == cols, 1.0, 2.0)])


def _loglik_derivatives(pats: Patterns, mu: np.ndarray, sigma: np.ndarray
                        ) -> tuple[float, np.ndarray, np.ndarray]:
    """``(log L, d log L / d mu, G)`` with ``d log L = tr(G dSigma)`` for symmetric ``dSigma``.

    Patterns with the same number of observed variables are handled together
    by batched factorisations (:attr:`Patterns.by_size`).  ``log L`` is
    ``-inf`` (and the derivatives ``NaN``) when a pattern's block of ``Sigma``
    is not positive definite.
    """
    p = sigma.shape[0]
    gmu = np.zeros(p)
    G = np.zeros(p * p)
    ll = 0.0
    for obs, n, mean, cov in pats.by_size:
        k = obs.shape[1]
        S = sigma[obs[:, :, None], obs[:, None, :]]
        try:
            chol = np.linalg.cholesky(S)
        except np.linalg.LinAlgError:
            return -np.inf, np.full(p, np.nan), np.full((p, p), np.nan)
        Sinv = np.linalg.inv(S)
        d = mean - mu[obs]
        Sd = np.einsum("pij,pj->pi", Sinv, d)
        SW = Sinv @ (cov + d[:, :, None] * d[:, None, :])
        logdet = 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
        ll += -0.5 * float(n @ (k * LOG2PI + logdet + np.trace(SW, axis1=1, axis2=2)))
        gmu += np.bincount(obs.ravel(), weights=(n[:, None] * Sd).ravel(), minlength=p)
        Gp = 0.5 * n[:, None, None] * (SW @ Sinv - Sinv)
        G += np.bincount((obs[:, :, None] * p + obs[:, None, :]).ravel(), weights=Gp.ravel(),
                         minlength=p * p)
    if pats.single_by_missing:
        # single cases with m missing answers: the inverse of their observed
        # block is a rank-m downdate of Sigma^-1 (zero where missing),
        # K = Sigma^-1 - Sigma^-1[:, M] (Sigma^-1[M, M])^-1 Sigma^-1[M, :], and
        # log|Sigma_oo| = log|Sigma| + log|Sigma^-1[M, M]|: O(p^2 m) per case
        try:
            chol = np.linalg.cholesky(sigma)
        except np.linalg.LinAlgError:
            return -np.inf, np.full(p, np.nan), np.full((p, p), np.nan)
        Sinv = np.linalg.inv(sigma)
        logdet_all = 2.0 * np.log(np.diagonal(chol)).sum()
        for miss, obs, y in pats.single_by_missing:
            k = p - miss.shape[1]
            Kmm = Sinv[miss[:, :, None], miss[:, None, :]]
            sign, ld = np.linalg.slogdet(Kmm)
            if np.any(sign <= 0):
                return -np.inf, np.full(p, np.nan), np.full((p, p), np.nan)
            Kom = Sinv[:, miss].transpose(1, 0, 2)        # (P, p, m)
            V = Kom @ np.linalg.inv(Kmm)                 # (P, p, m)
            d = np.where(obs, y - mu, 0.0)
            Kd = d @ Sinv - np.einsum("pim,pm->pi", V, np.einsum("pim,pi->pm", Kom, d))
            Kd = np.where(obs, Kd, 0.0)
            ll += -0.5 * float(np.sum(k * LOG2PI + logdet_all + ld + np.einsum("pi,pi->p", d, Kd)))
            gmu += Kd.sum(axis=0)
            Ksum = miss.shape[0] * Sinv - np.tensordot(V, Kom, axes=([0, 2], [0, 2]))
            G += 0.5 * (Kd.T @ Kd - Ksum).ravel()
    G = G.reshape(p, p)
    return float(ll), gmu, G


def fiml_casewise_scores(pats: Patterns, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Casewise gradients of the observed-data log-density with respect to ``[mu; vech(Sigma)]``."""
    X = pats.X
    n, p = X.shape
    rows_v, cols_v = vech_indices(p)
    out = np.zeros((n, p + rows_v.size))
    diag = rows_v == cols_v
    for pt in pats.patterns:
        o = pt.observed
        Sinv = np.zeros((p, p))
        Sinv[pt.ix] = np.linalg.inv(sigma[pt.ix])
        Y = np.where(np.isnan(X[pt.rows]), 0.0, X[pt.rows]) - np.where(o, mu, 0.0)
        Y[:, ~o] = 0.0
        z = Y @ Sinv
        sc = z[:, rows_v] * z[:, cols_v] - Sinv[rows_v, cols_v]
        sc[:, diag] *= 0.5
        out[pt.rows, :p] = z
        out[pt.rows, p:] = sc
    return out


def em_moments(pats: Patterns, *, max_iter: int = 500, tol: float = 1e-5
               ) -> tuple[np.ndarray, np.ndarray, int]:
    """Saturated-model ML means and covariances of incomplete data by EM.

    Starts from the available-case means and a diagonal of available-case
    variances and stops when no mean or covariance changes by more than
    ``tol`` between iterations (lavaan's ``lav_mvnorm_missing_h1_estimate_moments``
    defaults, so the h1 log-likelihood and the χ² match lavaan's).

    Returns
    -------
    mu, sigma, iterations
    """
    X = pats.X
    n, p = X.shape
    mu0 = np.nanmean(X, axis=0)
    var0 = np.nansum((X - mu0) ** 2, axis=0) / n
    var0[~np.isfinite(var0) | (var0 == 0)] = 1.0
    mu, sigma = mu0, np.diag(var0)
    rows, cols = vech_indices(p)
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007  (returned below)
        T1 = np.zeros(p)
        T2 = np.zeros((p, p))
        for pt in pats.patterns:
            o = pt.observed
            Y = X[np.ix_(pt.rows, np.flatnonzero(o))]
            if o.all():
                T1 += Y.sum(axis=0)
                T2 += Y.T @ Y
                continue
            m = ~o
            S22inv = np.linalg.inv(sigma[np.ix_(o, o)])
            B = sigma[np.ix_(m, o)] @ S22inv
            Yc = np.empty((pt.n, p))
            Yc[:, o] = Y
            Yc[:, m] = (Y - mu[o]) @ B.T + mu[m]
            T1 += Yc.sum(axis=0)
            T2 += Yc.T @ Yc
            T2[np.ix_(m, m)] += pt.n * (sigma[np.ix_(m, m)] - B @ sigma[np.ix_(o, m)])
        new_mu = T1 / n
        new_sigma = T2 / n - np.outer(new_mu, new_mu)
        if np.linalg.eigvalsh(new_sigma).min() < 1e-6:
            new_sigma[np.diag_indices(p)] += np.diag(new_sigma).max() * 1e-8
        delta = max(np.abs(new_mu - mu).max(), np.abs(new_sigma[rows, cols] - sigma[rows, cols]).max())
        mu, sigma = new_mu, new_sigma
        if delta < tol:
            break
    return mu, sigma, it


@dataclass(frozen=True)
class FimlResult:
    """FIML estimates with observed-information (and optionally sandwich) covariances."""

    x: np.ndarray
    vcov: np.ndarray
    loglik: float
    loglik_h1: float
    loglik_baseline: float
    chisq: float
    df: int
    baseline_chisq: float
    baseline_df: int
    npar: int
    n: int
    n_groups: int
    h1: list[tuple[np.ndarray, np.ndarray]]
    converged: bool
    vcov_robust: np.ndarray | None = None
    trace_ugamma: float | None = None
    corrected: dict | None = None
    srmr: float = float("nan")
    rmr: float = float("nan")

    @property
    def se(self) -> np.ndarray:
        """Standard errors from the observed information."""
        return np.sqrt(np.clip(np.diag(self.vcov), 0.0, None))

    @property
    def scaling_factor(self) -> float | None:
        """Yuan–Bentler (Mplus) scaling factor ``tr(U Gamma) / df`` (with ``robust=True``)."""
        if self.trace_ugamma is None or self.df <= 0:
            return None
        return self.trace_ugamma / self.df

    @property
    def se_robust(self) -> np.ndarray | None:
        """Huber–White standard errors (observed-information bread, first-order meat)."""
        if self.vcov_robust is None:
            return None
        return np.sqrt(np.clip(np.diag(self.vcov_robust), 0.0, None))

    def summary(self) -> str:
        """Plain-text block of the likelihoods and the χ² test."""
        fm = self.fit_measures()
        rows = [("Number of observations", float(self.n)), ("Loglikelihood (H0)", self.loglik),
                ("Loglikelihood (H1, EM)", self.loglik_h1), ("Test statistic", self.chisq),
                ("Degrees of freedom", float(self.df)), ("P-value", fm["pvalue"])]
        if self.scaling_factor is not None:
            rows += [("Scaling factor (Yuan-Bentler, Mplus)", self.scaling_factor),
                     ("Test statistic (scaled)", fm["chisq_scaled"])]
        return "\n".join(f"{k:40s}{v:12.3f}" for k, v in rows)

    def _repr_html_(self) -> str:
        from html import escape

        return f"<pre>{escape(self.summary())}</pre>"

    def fit_measures(self) -> dict[str, float]:
        """χ², baseline, CFI, TLI, RMSEA and information criteria as lavaan names them (underscored)."""
        from scipy import stats

        from surveykit.sem.robust import rmsea_ci, rmsea_pvalue, rmsea_value, robust_cfi, robust_tli

        T, df, Tb, dfb, N, G = self.chisq, self.df, self.baseline_chisq, self.baseline_df, self.n, self.n_groups
        lo, hi = rmsea_ci(T, df, N, G)
        k = self.npar
        scaled = {}
        c = self.scaling_factor
        if c is not None:
            scaled = {"chisq_scaled": T / c, "df_scaled": float(df),
                      "pvalue_scaled": float(stats.chi2.sf(T / c, df)),
                      "chisq_scaling_factor": c}
        if self.corrected is not None and df > 0:
            # robust CFI/TLI/RMSEA from the FIML-corrected statistics (lavaan's
            # lav_fit_fiml_corrected: "V3" under MLR, "V6" under ML)
            k3 = self.corrected
            X3, c3, X3b, c3b = k3["XX3"], k3["c_hat3"], k3["XX3_null"], k3["c_hat3_null"]
            lo3, hi3 = rmsea_ci(X3 / c3, df, N, G, c3)
            scaled |= {"cfi_robust": robust_cfi(X3, df, X3b, dfb, c3, c3b),
                       "tli_robust": robust_tli(X3, df, X3b, dfb, c3, c3b),
                       "rmsea_robust": rmsea_value(X3, df, N, G, c3),
                       "rmsea_ci_lower_robust": lo3, "rmsea_ci_upper_robust": hi3,
                       "rmsea_pvalue_robust": rmsea_pvalue(X3 / c3, df, N, G, c3)}
        nfi = (Tb - T) / Tb if 0 < df <= dfb else (1.0 if df == 0 else float("nan"))
        t1, t2 = Tb / dfb - T / df if df > 0 else 0.0, Tb / dfb
        rfi = (1.0 if t1 < 0 else t1 / t2) if df > 0 else 1.0
        ifi = 1.0 if Tb - df < 0 else (Tb - T) / (Tb - df)
        incremental = {"nfi": nfi, "rfi": rfi, "ifi": ifi, "rni": 1 - (T - df) / (Tb - dfb),
                       "pnfi": df / dfb * (Tb - T) / Tb}
        return scaled | incremental | {
            "npar": float(k), "chisq": T, "df": float(df),
            "pvalue": float(stats.chi2.sf(T, df)) if df > 0 else float("nan"),
            "baseline_chisq": Tb, "baseline_df": float(dfb), "baseline_pvalue": float(stats.chi2.sf(Tb, dfb)),
            "cfi": robust_cfi(T, df, Tb, dfb), "tli": robust_tli(T, df, Tb, dfb),
            "logl": self.loglik, "unrestricted_logl": self.loglik_h1,
            "aic": -2 * self.loglik + 2 * k, "bic": -2 * self.loglik + k * np.log(N),
            "bic2": -2 * self.loglik + k * np.log((N + 2) / 24),
            "rmsea": rmsea_value(T, df, N, G), "rmsea_ci_lower": lo, "rmsea_ci_upper": hi,
            "rmsea_pvalue": rmsea_pvalue(T, df, N, G), "ntotal": float(N),
            "srmr": self.srmr, "rmr": self.rmr,
        }


def _h1_observed_information(pt: Patterns, mu1: np.ndarray, s1: np.ndarray) -> np.ndarray:
    """Unit observed information of the saturated model, ``-d² log L / dm² / n``, ``m = [mu; vech Sigma]``.

    Notes
    -----
    Per pattern (``n_p`` cases, observed block ``Sigma_o``, ``K = Sigma_o^{-1}``,
    ``d = ybar_p - mu_o``, ``W = C_p + d d'``, ``M = K W K``, ``k = K d``; all
    zero-padded to ``p x p``) the information sums

        I_mu,mu = n_p K,    I_mu,s_ab = n_p (K_ia k_b + K_ib k_a),
        I_s_ab,s_cd = n_p [K_ac M_bd + K_ad M_bc + K_bc M_ad + K_bd M_ac
                           - K_ac K_bd - K_ad K_bc]

    with the terms of a diagonal pair ``a = b`` (or ``c = d``) halved: the
    second derivatives of ``-n_p/2 [log|Sigma_o| + tr(K W)]`` in the
    duplication-matrix coordinates (lavaan's
    ``lav_mvnorm_missing_information_observed_samplestats``).  With the
    padded matrices of all patterns stacked as rows, the sums over patterns
    are the products ``sum_p n_p vec(K_p) vec(M_p)'`` (one matrix product),
    rearranged into the pairs.
    """
    p = s1.shape[0]
    rows, cols = vech_indices(p)
    nv = rows.size
    P = len(pt.patterns)
    # every pattern's K, M and k zero-padded to p x p, stacked: the sums over
    # patterns of the products above are then two matrix products
    Ks = np.zeros((P, p, p))
    Ms = np.zeros((P, p, p))
    ks = np.zeros((P, p))
    n = np.empty(P)
    for t, pat in enumerate(pt.patterns):
        o = pat.observed
        K = np.linalg.inv(s1[pat.ix])
        K = 0.5 * (K + K.T)
        d = pat.mean - mu1[o]
        Ks[t][pat.ix] = K
        Ms[t][pat.ix] = K @ (pat.cov + np.outer(d, d)) @ K
        ks[t, o] = K @ d
        n[t] = pat.n
    Kf = Ks.reshape(P, p * p)
    nK = Kf * n[:, None]
    ZM = nK.T @ Ms.reshape(P, p * p)       # ZM[a p + c, b p + d] = sum n K_ac M_bd
    ZK = nK.T @ Kf                          # ZK[a p + c, b p + d] = sum n K_ac K_bd
    Y = nK.T @ ks                           # Y[i p + a, b] = sum n K_ia k_b
    half = np.where(rows == cols, 0.5, 1.0)
    info = np.empty((p + nv, p + nv))
    info[:p, :p] = (n @ Kf).reshape(p, p)
    ii = np.arange(p)[:, None] * p
    cross = (Y[ii + rows[None, :], cols[None, :]] + Y[ii + cols[None, :], rows[None, :]]) * half
    info[:p, p:] = cross
    info[p:, :p] = cross.T
    a, b = rows[:, None], cols[:, None]
    c, d_ = rows[None, :], cols[None, :]

    def at(Z, i, j, k, m):  # Z[i p + j, k p + m] over the pair grid
        return Z.ravel()[(i * p + j) * (p * p) + k * p + m]

    ss = (at(ZM, a, c, b, d_) + at(ZM, a, d_, b, c) + at(ZM, b, c, a, d_) + at(ZM, b, d_, a, c)
          - at(ZK, a, c, b, d_) - at(ZK, a, d_, b, c))
    info[p:, p:] = ss * np.outer(half, half)
    return info / pt.n


def _ml_discrepancy(S: np.ndarray, ybar: np.ndarray, sigma: np.ndarray, mu: np.ndarray) -> float:
    sinv = np.linalg.inv(sigma)
    d = ybar - mu
    return float(np.linalg.slogdet(sigma)[1] - np.linalg.slogdet(S)[1] + np.trace(S @ sinv)
                 - S.shape[0] + d @ sinv @ d)


def _fiml_corrected(pats, h1, implied, deltas, base, Wm, Jm, ceq, df, dfb, version):
    """FIML-corrected statistics behind lavaan's robust CFI/TLI/RMSEA under ``missing="ml"``.

    Notes
    -----
    ``XX3`` is the complete-data ML χ² of the FIML solution against the EM
    moments; with ``Wm``, ``Jm`` the observed and first-order information of
    the saturated missing-data model, ``Wc`` the complete-data information at
    the EM moments and ``U = Wm - Wm Delta (Delta' Wm Delta)^{-1} Delta' Wm``,
    the correction is ``k = tr(U Wm^-1 Wc Wm^-1 U Gamma)`` with
    ``Gamma = Wm^-1 Jm Wm^-1`` ("V3", Savalei 2018) or ``tr(Wc Wm^-1 U Wm^-1)``
    ("V6") and ``c = k / df``; the baseline model gets the same treatment
    (lavaan's ``lav_fit_fiml_corrected``; block-diagonal over groups with the
    weights ``n_g / N``).

    References
    ----------
    Zhang, X. & Savalei, V. (2023). New computations for RMSEA and CFI following
    FIML and TS estimation with missing data. *Psychological Methods*, 28, 263-283.
    """
    from scipy.linalg import block_diag

    ns = np.array([pt.n for pt in pats], dtype=float)
    N = ns.sum()
    f = ns / N
    K = [W.shape[0] for W in Wm]
    Wmi = [np.linalg.inv(W) for W in Wm]
    Wc = [h1_expected_information(s1, True) for _, s1 in h1]
    if version == "V3":
        WcWi = [C @ Wi for C, Wi in zip(Wc, Wmi, strict=True)]
        base_tr = sum(float(np.sum(A * (J @ Wi).T))
                      for A, J, Wi in zip(WcWi, Jm, Wmi, strict=True))
    else:
        base_tr = sum(float(np.sum(C * Wi)) for C, Wi in zip(Wc, Wmi, strict=True))

    def k_of(delta_all, cons):
        # With X = Wm Delta and P = X E^-1 X' (E = Delta' Wm Delta), U = Wm - P and
        # Wm^-1 X = Delta turn the traces into K x K products of the groups'
        # blocks and q x q ones (block diagonal over groups, weights f_g):
        #   V6: tr(Wc Wm^-1 U Wm^-1) = tr(Wc Wm^-1) - tr(E^-1 Delta' Wc Delta)
        #   V3: tr(U Wm^-1 Wc Wm^-1 U G), G = Wm^-1 J Wm^-1,
        #       = tr(Wc Wm^-1 J Wm^-1) - 2 tr(E^-1 Delta' Wc Wm^-1 J Delta)
        #         + tr(E^-1 Delta' Wc Delta E^-1 Delta' J Delta)
        parts = np.split(delta_all, np.cumsum(K)[:-1])
        E = sum(fg * D.T @ W @ D for fg, D, W in zip(f, parts, Wm, strict=True))
        Einv = constrained_inverse(E, cons)
        C = sum(fg * D.T @ (Cg @ D) for fg, D, Cg in zip(f, parts, Wc, strict=True))
        if version != "V3":
            return base_tr - float(np.sum(Einv * C.T))
        JD = [J @ D for J, D in zip(Jm, parts, strict=True)]
        A = sum(fg * (D.T @ Q) @ JDg for fg, D, Q, JDg in zip(f, parts, WcWi, JD, strict=True))
        B = sum(fg * D.T @ JDg for fg, D, JDg in zip(f, parts, JD, strict=True))
        return base_tr - 2.0 * float(np.sum(Einv * A.T)) + float(np.sum((Einv @ C) * (Einv @ B).T))

    XX3 = sum(n * _ml_discrepancy(s1, mu1, S, m) for n, (mu1, s1), (S, m)
              in zip(ns, h1, implied, strict=True))
    k = k_of(np.vstack(deltas), ceq)
    # baseline: independent variables, FIML means and variances per group
    XX3b = 0.0
    blocks = []
    for n, (mu1, s1), (mb, vb) in zip(ns, h1, base, strict=True):
        p = s1.shape[0]
        XX3b += n * _ml_discrepancy(s1, mu1, np.diag(vb), mb)
        rows, cols = vech_indices(p)
        D = np.zeros((p + rows.size, 2 * p))
        D[:p, :p] = np.eye(p)
        D[p + np.flatnonzero(rows == cols), p:] = np.eye(p)
        blocks.append(D)
    kb = k_of(block_diag(*blocks), None)
    return {"XX3": float(XX3), "c_hat3": k / df if df > 0 else float("nan"),
            "XX3_null": float(XX3b), "c_hat3_null": kb / dfb, "version": version}


def _neg_loglik_and_grad(model: MomentModel, pats: Sequence[Patterns]):
    """``f = -log L / N`` and its gradient, sharing one pass over the patterns per point.

    The gradient goes through ``model.moment_gradient`` when the model has it
    (``Delta' d`` without forming ``Delta``), else through ``model.jacobian``.
    """
    N = sum(pt.n for pt in pats)
    fast = hasattr(model, "moment_gradient")
    last: dict = {}

    def both(x):
        key = x.tobytes()
        if last.get("key") != key:
            ll, derivs = 0.0, []
            for (sigma, mu), pt in zip(model.implied(x), pats, strict=True):
                llg, gmu, G = _loglik_derivatives(pt, mu, sigma)
                ll += llg
                derivs.append((G, gmu))
            last.update(key=key, ll=ll, derivs=derivs)
        return last["ll"], last["derivs"]

    def f(x):
        return -both(x)[0] / N

    def g(x):
        ll, derivs = both(x)
        if not np.isfinite(ll):
            return np.full(x.size, np.nan)
        if fast:
            return -model.moment_gradient(x, derivs) / N
        out = np.zeros(x.size)
        for (G, gmu), delta in zip(derivs, model.jacobian(x), strict=True):
            p = G.shape[0]
            rows, cols = vech_indices(p)
            out -= delta.T @ np.concatenate([gmu, G[rows, cols] * np.where(rows == cols, 1.0, 2.0)])
        return out / N

    return f, g, N


def fiml(model: MomentModel, data: Sequence[np.ndarray], *, df: int,
         x0: np.ndarray | None = None, robust: bool = False,
         optimize: bool = True, tol: float = 1e-9) -> FimlResult:
    """Fit a model with a mean structure to incomplete data by full-information ML.

    Parameters
    ----------
    model : MomentModel
        The model (``meanstructure`` must be true); ``model.x`` is the start
        unless ``x0`` is given.
    data : sequence of ndarray
        Casewise data per group, ``NaN`` where an answer is missing.
    df : int
        Degrees of freedom of the model (as with complete data).
    robust : bool
        Also compute Huber–White standard errors (``estimator="MLR"``).
    optimize : bool
        Refine the start by quasi-Newton and Newton steps (``False`` evaluates
        the likelihood, χ² and standard errors at the start as given).
    tol : float
        Gradient tolerance of the quasi-Newton stage (per case, before the
        final Newton step).

    Returns
    -------
    FimlResult

    Raises
    ------
    SurveykitError
        If the model has fixed observed exogenous covariates (lavaan's
        ``fixed.x``), which this implementation does not condition on.

    Notes
    -----
    The estimate maximises ``sum_g log L_g(mu_g(x), Sigma_g(x))``; the gradient
    is ``sum_g Delta_g' d log L_g / d[mu; vech Sigma]``.  The covariance of
    the estimates is the inverse of the observed information ``-d² log L``
    (numerical derivative of the analytic gradient), restricted to the null
    space of the equality constraints.  χ² compares with the EM-estimated
    saturated model; the baseline model has independent variables, each with
    its available-case mean and variance.

    Examples
    --------
    >>> fit = surveykit.cfa(model, data, missing="ml")  # doctest: +SKIP

    In R: ``cfa(model, data, missing = "ml")``.
    """
    from scipy.optimize import minimize

    from surveykit.errors import SurveykitError
    from surveykit.sem.robust import _x_index

    xi = _x_index(model)
    if xi:
        # lavaan conditions on fixed covariates, with their moments taken from all
        # cases; a model whose covariate moments come from the complete cases
        # would give a wrong χ², so refuse rather than report it
        raise SurveykitError(f"missing='ml' with observed exogenous covariates (variables at "
                             f"positions {xi}) is not supported; use missing='listwise' or "
                             f"model the covariates as random (their variances free).")
    pats = [Patterns.from_data(X) for X in data]
    f, g, N = _neg_loglik_and_grad(model, pats)
    x = np.asarray(model.x if x0 is None else x0, dtype=float).copy()
    ceq = getattr(model, "ceq", None)
    converged = True
    if optimize:
        # linear == constraints: search the feasible affine set x0 + Z z exactly
        # (the start satisfies them), Z an orthonormal basis of the null space
        if ceq is not None and ceq.size:
            from scipy.linalg import null_space

            Z = null_space(ceq)
        else:
            Z = np.eye(x.size)
        x0_ = x.copy()
        res = minimize(lambda z: f(x0_ + Z @ z), np.zeros(Z.shape[1]),
                       jac=lambda z: Z.T @ g(x0_ + Z @ z), method="BFGS",
                       options={"gtol": tol, "maxiter": 5000})
        x = x0_ + Z @ res.x
        converged = bool(res.success) or np.abs(g(x)).max() < 1e-6
        # Newton polish: BFGS stops on the gradient norm (~1e-9 here); one exact
        # step takes the estimates to the precision of the score equations.  The
        # step is ~1e-7, so the Hessian at the start of it serves for the
        # standard errors too (relative change ~1e-7).
        H = numerical_hessian(g, x, points=3)  # unit observed information, -d² log L / dx² / N
        Hinv = constrained_inverse(H, ceq)
        x = x - Hinv @ g(x)
    else:
        H = numerical_hessian(g, x, points=3)
        Hinv = constrained_inverse(H, ceq)
    vcov = Hinv / N
    loglik = -f(x) * N
    h1, ll_h1, ll_b, dfb, base = [], 0.0, 0.0, 0, []
    for pt in pats:
        mu1, s1, _ = em_moments(pt)
        h1.append((mu1, s1))
        ll_h1 += fiml_loglik(pt, mu1, s1)
        p = s1.shape[0]
        Xo = pt.X
        mb = np.nanmean(Xo, axis=0)
        vb = np.nanmean((Xo - mb) ** 2, axis=0)
        base.append((mb, vb))
        ll_b += fiml_loglik(pt, mb, np.diag(vb))
        dfb += p * (p - 1) // 2
    implied = model.implied(x)
    deltas = model.jacobian(x)
    # saturated model at its EM estimate, per group and per case: observed
    # information Wm (numerical derivative of the analytic moment gradient) and
    # first-order information Jm
    Wm, Jm = [], []
    for pt, (mu1, s1) in zip(pats, h1, strict=True):
        Wm.append(_h1_observed_information(pt, mu1, s1))
        sc = fiml_casewise_scores(pt, mu1, s1)
        Jm.append(sc.T @ sc / pt.n)
    vrob = trace = None
    if robust:
        meat = np.zeros_like(H)
        trace = 0.0
        for (sigma, mu), delta, pt, W, J in zip(implied, deltas, pats, Wm, Jm, strict=True):
            sc = fiml_casewise_scores(pt, mu, sigma) @ delta
            B0 = sc.T @ sc / N
            meat += B0
            # lavaan's yuan.bentler.mplus trace: the h1 term of each group is not
            # weighted, the h0 term is (B0 here already carries n_g / N)
            trace += np.sum(J * np.linalg.inv(W).T) - np.sum(B0 * Hinv.T)
        vrob = Hinv @ meat @ Hinv / N
    # SRMR and RMR against the EM moments (lavaan's srmr_bentler with means)
    srmr = rmr = 0.0
    for (sigma, mu), (mu1, s1), n in zip(implied, h1, [pt.n for pt in pats], strict=True):
        p = s1.shape[0]
        rows, cols = vech_indices(p)
        sd = np.sqrt(np.diag(s1))
        k_mom = rows.size + p
        res_c = (s1 - sigma)[rows, cols]
        res_m = mu1 - mu
        srmr += n / N * np.sqrt((np.sum((res_c / (sd[rows] * sd[cols])) ** 2)
                                 + np.sum((res_m / sd) ** 2)) / k_mom)
        rmr += n / N * np.sqrt((np.sum(res_c ** 2) + np.sum(res_m ** 2)) / k_mom)
    corrected = _fiml_corrected(pats, h1, implied, deltas, base, Wm, Jm, ceq, int(df), int(dfb),
                                version="V3" if robust else "V6")
    return FimlResult(
        x=x, vcov=vcov, loglik=float(loglik), loglik_h1=float(ll_h1), loglik_baseline=float(ll_b),
        chisq=float(2 * (ll_h1 - loglik)), df=int(df), baseline_chisq=float(2 * (ll_h1 - ll_b)),
        baseline_df=int(dfb), npar=int(x.size - (np.linalg.matrix_rank(ceq) if ceq is not None and ceq.size else 0)),
        n=int(N), n_groups=len(pats), h1=h1, converged=converged, vcov_robust=vrob,
        trace_ugamma=trace, corrected=corrected, srmr=float(srmr), rmr=float(rmr))


def fiml_from_engine(engine, theta: np.ndarray, data: Sequence[np.ndarray], *, df: int,
                     robust: bool = False) -> FimlResult:
    """:func:`fiml` for an :class:`~surveykit.sem.estimate.MLEngine` with a mean structure.

    ``theta`` is the start (e.g. the listwise ML estimate) and ``data`` the
    per-group casewise arrays in ``engine.pt.ov_names`` order, ``NaN`` where
    missing.
    """
    from surveykit.sem.robust import EngineMoments

    if not engine.pt.meanstructure:
        raise ValueError("missing='ml' needs a mean structure: build the parameter table "
                         "with meanstructure=True.")
    return fiml(EngineMoments(engine, theta), data, df=df, robust=robust)
