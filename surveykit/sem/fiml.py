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
Hessian of log L), lavaan's default for ``missing = "ml"``.

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

import numpy as np

from surveykit.sem.robust import (
    MomentModel,
    constrained_inverse,
    h1_expected_information,  # noqa: F401  (re-exported for callers building A1)
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
            pats.append(Pattern(uniq[k], rows, m, Yc.T @ Yc / rows.size))
        return cls(X, pats)

    @property
    def n(self) -> int:
        return int(self.X.shape[0])


def fiml_loglik(pats: Patterns, mu: np.ndarray, sigma: np.ndarray) -> float:
    """Observed-data normal log-likelihood of one group (with the ``2 pi`` constant)."""
    ll = 0.0
    for pt in pats.patterns:
        o = pt.observed
        S = sigma[np.ix_(o, o)]
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
    gmu = np.zeros(p)
    G = np.zeros((p, p))
    for pt in pats.patterns:
        o = pt.observed
        Sinv = np.linalg.inv(sigma[np.ix_(o, o)])
        d = pt.mean - mu[o]
        W = pt.cov + np.outer(d, d)
        gmu[o] += pt.n * (Sinv @ d)
        G[np.ix_(o, o)] += 0.5 * pt.n * (Sinv @ (W - sigma[np.ix_(o, o)]) @ Sinv)
    rows, cols = vech_indices(p)
    return np.concatenate([gmu, G[rows, cols] * np.where(rows == cols, 1.0, 2.0)])


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
        Sinv[np.ix_(o, o)] = np.linalg.inv(sigma[np.ix_(o, o)])
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
            # lavaan's robust CFI/TLI/RMSEA under FIML need its FIML-corrected
            # statistics (lav_fit_fiml_corrected); only the scaled test is given here
            scaled = {"chisq_scaled": T / c, "df_scaled": float(df),
                      "pvalue_scaled": float(stats.chi2.sf(T / c, df)),
                      "chisq_scaling_factor": c}
        return scaled | {
            "npar": float(k), "chisq": T, "df": float(df),
            "pvalue": float(stats.chi2.sf(T, df)) if df > 0 else float("nan"),
            "baseline_chisq": Tb, "baseline_df": float(dfb), "baseline_pvalue": float(stats.chi2.sf(Tb, dfb)),
            "cfi": robust_cfi(T, df, Tb, dfb), "tli": robust_tli(T, df, Tb, dfb),
            "logl": self.loglik, "unrestricted_logl": self.loglik_h1,
            "aic": -2 * self.loglik + 2 * k, "bic": -2 * self.loglik + k * np.log(N),
            "bic2": -2 * self.loglik + k * np.log((N + 2) / 24),
            "rmsea": rmsea_value(T, df, N, G), "rmsea_ci_lower": lo, "rmsea_ci_upper": hi,
            "rmsea_pvalue": rmsea_pvalue(T, df, N, G), "ntotal": float(N),
        }


def _neg_loglik_and_grad(model: MomentModel, pats: Sequence[Patterns]):
    N = sum(pt.n for pt in pats)

    def f(x):
        ll = 0.0
        for (sigma, mu), pt in zip(model.implied(x), pats, strict=True):
            ll += fiml_loglik(pt, mu, sigma)
        return -ll / N

    def g(x):
        out = np.zeros(x.size)
        for (sigma, mu), delta, pt in zip(model.implied(x), model.jacobian(x), pats, strict=True):
            out -= delta.T @ fiml_moment_gradient(pt, mu, sigma)
        return out / N

    return f, g, N


def fiml(model: MomentModel, data: Sequence[np.ndarray], *, df: int,
         x0: np.ndarray | None = None, robust: bool = False,
         optimize: bool = True, tol: float = 1e-10) -> FimlResult:
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

    Returns
    -------
    FimlResult

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

    pats = [Patterns.from_data(X) for X in data]
    f, g, N = _neg_loglik_and_grad(model, pats)
    x = np.asarray(model.x if x0 is None else x0, dtype=float).copy()
    ceq = getattr(model, "ceq", None)
    converged = True
    if optimize:
        if ceq is not None and ceq.size:
            res = minimize(f, x, jac=g, method="SLSQP", tol=tol,
                           constraints=[{"type": "eq", "fun": lambda z: ceq @ (z - x),
                                         "jac": lambda z: ceq}], options={"maxiter": 1000})
        else:
            res = minimize(f, x, jac=g, method="BFGS", options={"gtol": 1e-9, "maxiter": 5000})
        x = res.x
        converged = bool(res.success) or np.abs(g(x)).max() < 1e-6
        # Newton polish: BFGS stops on the gradient norm; two exact steps take the
        # estimates to machine precision of the score equations.
        for _ in range(2):
            H = numerical_hessian(g, x)
            x = x - constrained_inverse(H, ceq) @ g(x)
    H = numerical_hessian(g, x)  # unit observed information, -d² log L / dx² / N
    Hinv = constrained_inverse(H, ceq)
    vcov = Hinv / N
    loglik = -f(x) * N
    h1, ll_h1, ll_b, dfb = [], 0.0, 0.0, 0
    for pt in pats:
        mu1, s1, _ = em_moments(pt)
        h1.append((mu1, s1))
        ll_h1 += fiml_loglik(pt, mu1, s1)
        p = s1.shape[0]
        Xo = pt.X
        mb = np.nanmean(Xo, axis=0)
        vb = np.nanmean((Xo - mb) ** 2, axis=0)
        ll_b += fiml_loglik(pt, mb, np.diag(vb))
        dfb += p * (p - 1) // 2
    vrob = trace = None
    if robust:
        meat = np.zeros_like(H)
        trace = 0.0
        for (sigma, mu), delta, pt, (mu1, s1) in zip(model.implied(x), model.jacobian(x), pats, h1,
                                                    strict=True):
            sc = fiml_casewise_scores(pt, mu, sigma) @ delta
            B0 = sc.T @ sc / N
            meat += B0
            # saturated model at its EM estimate: observed information (numerical
            # derivative of the analytic moment gradient) and first-order information
            p = s1.shape[0]
            rows, cols = vech_indices(p)
            m1 = np.concatenate([mu1, s1[rows, cols]])

            def moment_grad(m, pt=pt, p=p, rows=rows, cols=cols):
                S = np.zeros((p, p))
                S[rows, cols] = m[p:]
                S[cols, rows] = m[p:]
                return fiml_moment_gradient(pt, m[:p], S)

            A1 = -numerical_hessian(moment_grad, m1) / N
            B1 = fiml_casewise_scores(pt, mu1, s1)
            B1 = B1.T @ B1 / N
            trace += np.sum(B1 * np.linalg.inv(A1).T) - np.sum(B0 * Hinv.T)
        vrob = Hinv @ meat @ Hinv / N
    return FimlResult(
        x=x, vcov=vcov, loglik=float(loglik), loglik_h1=float(ll_h1), loglik_baseline=float(ll_b),
        chisq=float(2 * (ll_h1 - loglik)), df=int(df), baseline_chisq=float(2 * (ll_h1 - ll_b)),
        baseline_df=int(dfb), npar=int(x.size - (np.linalg.matrix_rank(ceq) if ceq is not None and ceq.size else 0)),
        n=int(N), n_groups=len(pats), h1=h1, converged=converged, vcov_robust=vrob,
        trace_ugamma=trace)


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
