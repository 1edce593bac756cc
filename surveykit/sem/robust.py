"""Robust maximum likelihood (MLR): sandwich standard errors and scaled test statistics.

``estimator="MLR"`` keeps the ML point estimates and replaces

* the standard errors by Huber–White sandwich errors built from the casewise
  scores of the normal log-likelihood,
* the χ² test by the Yuan–Bentler statistic in its Mplus variant (lavaan's
  ``test = "yuan.bentler.mplus"``, the test ``estimator = "MLR"`` uses),
* CFI, TLI and RMSEA by their robust versions (Brosseau-Liard & Savalei 2014;
  Brosseau-Liard, Savalei & Li 2012),
* nested-model χ² differences by the Satorra–Bentler (2001) scaled difference.

The functions here work on moments and Jacobians only, through the small
:class:`MomentModel` protocol, so the same code serves single- and multigroup
models and any parameterisation of them.

Where surveykit differs from lavaan 0.6-14: the RMSEA interval inverts the
noncentral χ² to 1e-12 (lavaan's ``uniroot`` stops at about 1e-4 in the
noncentrality, which moves the bounds by < 1e-7), and the statistics are
evaluated at a tighter ML optimum, so scaled χ² values may differ from
lavaan's in the sixth significant digit.

References
----------
Yuan, K.-H. & Bentler, P. M. (2000). Three likelihood-based methods for mean
and covariance structure analysis with nonnormal missing data. *Sociological
Methodology*, 30, 165-200.

Satorra, A. & Bentler, P. M. (2001). A scaled difference chi-square test
statistic for moment structure analysis. *Psychometrika*, 66, 507-514.

Brosseau-Liard, P. E., Savalei, V. & Li, L. (2012). An investigation of the
sample performance of two nonnormality corrections for RMSEA. *Multivariate
Behavioral Research*, 47, 904-930.

Brosseau-Liard, P. E. & Savalei, V. (2014). Adjusting incremental fit indices
for nonnormality. *Multivariate Behavioral Research*, 49, 460-470.

Rosseel, Y. (2012). lavaan: An R package for structural equation modeling.
*Journal of Statistical Software*, 48(2). (``lav_model_vcov.R``,
``lav_test_yuan_bentler.R``, ``lav_fit_cfi.R``, ``lav_fit_rmsea.R``,
``lav_test_diff.R``.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

__all__ = [
    "MomentModel",
    "vech_indices",
    "casewise_scores",
    "h1_expected_information",
    "moment_gradient",
    "numerical_hessian",
    "constrained_inverse",
    "RobustResult",
    "mlr",
    "ScaledDifference",
    "scaled_difference_test",
    "robust_cfi",
    "robust_tli",
    "rmsea_value",
    "rmsea_ci",
    "rmsea_pvalue",
]


class MomentModel(Protocol):
    """What the robust, FIML and bootstrap code needs from an estimated model.

    ``implied(x)`` returns, per group, the model-implied covariance matrix and
    mean vector (``None`` without a mean structure) at the free-parameter
    vector ``x``; ``jacobian(x)`` returns, per group, the Jacobian ``Delta`` of
    the stacked moments ``[mu; vech(Sigma)]`` (``vech(Sigma)`` alone without a
    mean structure) with respect to ``x``.  ``vech`` runs column-wise over the
    lower triangle, as lavaan's ``lav_matrix_vech``.  ``ceq`` is the Jacobian
    of the linear equality constraints ``C x = c`` still imposed on ``x``
    (shape ``(0, q)`` when every equality is absorbed in the parameterisation).
    """

    x: np.ndarray
    meanstructure: bool
    ceq: np.ndarray

    def implied(self, x: np.ndarray) -> list[tuple[np.ndarray, np.ndarray | None]]: ...

    def jacobian(self, x: np.ndarray) -> list[np.ndarray]: ...


def vech_indices(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of ``vech`` (column-wise lower triangle) of a ``p x p`` matrix."""
    c, r = np.triu_indices(p)
    # (r, c) with r <= c sorted by r then c is the lower triangle (c, r) sorted by column
    return c, r


def casewise_scores(X: np.ndarray, mu: np.ndarray, sigma: np.ndarray,
                    meanstructure: bool) -> np.ndarray:
    """Casewise gradients of the normal log-density with respect to ``[mu; vech(Sigma)]``.

    Notes
    -----
    For case ``i`` with ``z_i = Sigma^{-1}(y_i - mu)`` the score of ``mu`` is
    ``z_i`` and the score of ``sigma_jk`` is ``z_ij z_ik - (Sigma^{-1})_jk``,
    halved on the diagonal (lavaan's ``lav_mvnorm_scores_mu_vech_sigma``).
    """
    p = sigma.shape[0]
    sinv = np.linalg.inv(sigma)
    z = (X - mu) @ sinv
    rows, cols = vech_indices(p)
    sc = z[:, rows] * z[:, cols] - sinv[rows, cols]
    sc[:, rows == cols] *= 0.5
    return np.hstack([z, sc]) if meanstructure else sc


def h1_expected_information(sigma: np.ndarray, meanstructure: bool,
                            select: np.ndarray | None = None) -> np.ndarray:
    """Unit expected information of the saturated normal model at ``Sigma``.

    ``select`` (positions in ``[mu; vech Sigma]``, or in ``vech Sigma`` without
    a mean structure) returns only those rows and columns, without forming the
    rest.

    Notes
    -----
    ``A1 = blockdiag(Sigma^{-1}, 1/2 D' (Sigma^{-1} ⊗ Sigma^{-1}) D)`` with ``D``
    the duplication matrix; computed elementwise as
    ``(s_ac s_bd + s_ad s_bc) / 2`` for the pairs ``(a, b)`` and ``(c, d)``,
    times the duplication weights.
    """
    p = sigma.shape[0]
    sinv = np.linalg.inv(sigma)
    rows, cols = vech_indices(p)
    if select is not None:
        select = np.asarray(select, dtype=int)
        off = p if meanstructure else 0
        is_mu = select < off
        mu_pos, v_pos = select[is_mu], select[~is_mu] - off
        r, c = rows[v_pos], cols[v_pos]
        a = (sinv[np.ix_(r, r)] * sinv[np.ix_(c, c)] + sinv[np.ix_(r, c)] * sinv[np.ix_(c, r)])
        w = np.where(r == c, 1.0, 2.0)
        a *= 0.5 * np.outer(w, w) / 2.0
        out = np.zeros((select.size, select.size))
        mi, vi = np.flatnonzero(is_mu), np.flatnonzero(~is_mu)
        out[np.ix_(mi, mi)] = sinv[np.ix_(mu_pos, mu_pos)]
        out[np.ix_(vi, vi)] = a
        return out
    a = (sinv[np.ix_(rows, rows)] * sinv[np.ix_(cols, cols)]
         + sinv[np.ix_(rows, cols)] * sinv[np.ix_(cols, rows)])
    w = np.where(rows == cols, 1.0, 2.0)
    a *= 0.5 * np.outer(w, w) / 2.0
    if not meanstructure:
        return a
    k = p + a.shape[0]
    out = np.zeros((k, k))
    out[:p, :p] = sinv
    out[p:, p:] = a
    return out


def moment_gradient(sigma: np.ndarray, mu: np.ndarray | None, S: np.ndarray,
                    ybar: np.ndarray, meanstructure: bool) -> np.ndarray:
    """Gradient of the mean casewise log-likelihood with respect to ``[mu; vech(Sigma)]``.

    Notes
    -----
    ``l = -1/2 [log|Sigma| + tr(Sigma^{-1} W)]`` with ``W = S + (ybar - mu)(ybar - mu)'``
    has ``dl/dmu = Sigma^{-1}(ybar - mu)`` and ``dl/dSigma = G = 1/2 Sigma^{-1}(W - Sigma)Sigma^{-1}``;
    for ``vech(Sigma)`` the off-diagonal entries count twice.
    """
    p = sigma.shape[0]
    sinv = np.linalg.inv(sigma)
    if meanstructure:
        d = ybar - mu
        W = S + np.outer(d, d)
    else:
        W = S
    G = 0.5 * sinv @ (W - sigma) @ sinv
    rows, cols = vech_indices(p)
    gv = G[rows, cols] * np.where(rows == cols, 1.0, 2.0)
    if meanstructure:
        return np.concatenate([sinv @ d, gv])
    return gv


def numerical_hessian(grad: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
                      h: float = 1e-6, points: int = 5) -> np.ndarray:
    """Symmetrised Hessian from a central difference of an analytic gradient.

    ``points=5``: the same stencil and step as lavaan's ``lav_model_hessian``
    (error of order ``h^4`` in the step plus rounding of order ``eps / h``);
    ``points=3``: the plain central difference, half the gradients, error of
    order ``h^2`` (about 1e-12 at the default step, below the rounding).
    """
    q = x.size
    H = np.empty((q, q))
    for j in range(q):
        e = np.zeros(q)
        e[j] = h
        if points == 3:
            H[:, j] = (grad(x + e) - grad(x - e)) / (2 * h)
        else:
            H[:, j] = (grad(x - 2 * e) - 8 * grad(x - e) + 8 * grad(x + e) - grad(x + 2 * e)) / (12 * h)
    return 0.5 * (H + H.T)


def constrained_inverse(info: np.ndarray, ceq: np.ndarray | None) -> np.ndarray:
    """Inverse of an information matrix restricted to the null space of ``ceq``.

    Notes
    -----
    With ``Z`` an orthonormal basis of ``{d : C d = 0}`` the result is
    ``Z (Z' I Z)^{-1} Z'``, the upper-left block of lavaan's augmented inverse
    (``lav_model_information_augment_invert``).
    """
    if ceq is None or ceq.size == 0:
        return np.linalg.inv(info)
    u, s, vt = np.linalg.svd(ceq)
    rank = int(np.sum(s > s.max() * 1e-10)) if s.size else 0
    Z = vt[rank:].T
    return Z @ np.linalg.inv(Z.T @ info @ Z) @ Z.T


def _group_stats(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ybar = X.mean(axis=0)
    Xc = X - ybar
    return ybar, Xc.T @ Xc / X.shape[0]


@dataclass(frozen=True)
class RobustResult:
    """Sandwich covariance of the estimates and the Yuan–Bentler (Mplus) scaled test."""

    vcov: np.ndarray
    """Sandwich covariance matrix of the free parameters (not divided further)."""
    chisq: float
    df: int
    chisq_scaled: float
    scaling_factor: float
    trace_ugamma: float
    baseline_chisq: float
    baseline_df: int
    baseline_chisq_scaled: float
    baseline_scaling_factor: float
    n: int
    n_groups: int

    @property
    def se(self) -> np.ndarray:
        """Robust standard errors of the free parameters."""
        return np.sqrt(np.clip(np.diag(self.vcov), 0.0, None))

    def summary(self) -> str:
        """Plain-text block of the scaled test and the robust indices."""
        fm = self.fit_measures()
        rows = [("Test statistic (ML)", self.chisq), ("Degrees of freedom", float(self.df)),
                ("Scaling factor (Yuan-Bentler, Mplus)", self.scaling_factor),
                ("Test statistic (scaled)", self.chisq_scaled),
                ("P-value (scaled)", fm["pvalue_scaled"]), ("Robust CFI", fm["cfi_robust"]),
                ("Robust TLI", fm["tli_robust"]), ("Robust RMSEA", fm["rmsea_robust"])]
        return "\n".join(f"{k:40s}{v:12.3f}" for k, v in rows)

    def _repr_html_(self) -> str:
        from html import escape

        return f"<pre>{escape(self.summary())}</pre>"

    def fit_measures(self) -> dict[str, float]:
        """The scaled and robust fit measures as lavaan's ``fitMeasures`` names them (underscored)."""
        from scipy import stats

        T, df, c = self.chisq, self.df, self.scaling_factor
        Tb, dfb, cb = self.baseline_chisq, self.baseline_df, self.baseline_scaling_factor
        N, G = self.n, self.n_groups
        Ts, Tbs = self.chisq_scaled, self.baseline_chisq_scaled
        out = {
            "chisq_scaled": Ts,
            "df_scaled": float(df),
            "pvalue_scaled": float(stats.chi2.sf(Ts, df)) if df > 0 else float("nan"),
            "chisq_scaling_factor": c,
            "scaling_factor": c,
            "baseline_chisq_scaled": Tbs,
            "baseline_df_scaled": float(dfb),
            "baseline_pvalue_scaled": float(stats.chi2.sf(Tbs, dfb)),
            "baseline_chisq_scaling_factor": cb,
            "cfi_scaled": robust_cfi(Ts, df, Tbs, dfb),
            "tli_scaled": robust_tli(Ts, df, Tbs, dfb),
            "cfi_robust": robust_cfi(T, df, Tb, dfb, c, cb),
            "tli_robust": robust_tli(T, df, Tb, dfb, c, cb),
            "rmsea_scaled": rmsea_value(T, self.trace_ugamma, N, G),
            "rmsea_robust": rmsea_value(T, df, N, G, c),
        }
        lo, hi = rmsea_ci(T, self.trace_ugamma, N, G)
        out["rmsea_ci_lower_scaled"], out["rmsea_ci_upper_scaled"] = lo, hi
        lo, hi = rmsea_ci(Ts, df, N, G, c)
        out["rmsea_ci_lower_robust"], out["rmsea_ci_upper_robust"] = lo, hi
        out["rmsea_pvalue_scaled"] = rmsea_pvalue(T, self.trace_ugamma, N, G)
        out["rmsea_pvalue_robust"] = rmsea_pvalue(Ts, df, N, G, c)
        return out


def _x_index(model) -> list[int]:
    """Positions of fixed exogenous observed covariates (lavaan's ``fixed.x``) in the model's variables."""
    xi = getattr(model, "x_index", None)
    if xi is not None:
        return list(xi)
    pt = getattr(getattr(model, "engine", None), "pt", None)
    if pt is not None and getattr(pt, "ov_x", None):
        return [pt.ov_names.index(v) for v in pt.ov_x]
    return []


def _moment_mask(p: int, x_index: Sequence[int], meanstructure: bool) -> np.ndarray:
    """True for the moments ``[mu; vech(Sigma)]`` that are not fixed covariate moments."""
    rows, cols = vech_indices(p)
    isx = np.zeros(p, dtype=bool)
    isx[list(x_index)] = True
    keep = ~(isx[rows] & isx[cols])
    return np.concatenate([~isx, keep]) if meanstructure else keep


def _h1_unstructured_trace(X: np.ndarray, ybar: np.ndarray, S: np.ndarray,
                           x_index: Sequence[int], meanstructure: bool) -> float:
    """``tr(B1 A1^{-1})`` of the saturated model at the sample moments.

    ``A1`` is the expected information and ``B1 = A1 Gamma A1`` with ``Gamma``
    the covariance of the casewise moments; with fixed covariates the moments
    of the covariates are left out and ``Gamma`` is that of the moments of
    the residuals from the regression on the covariates (lavaan's
    ``lav_samplestats_Gamma(fixed.x = TRUE)``).
    """
    n, p = X.shape
    rows, cols = vech_indices(p)
    Yc = X - ybar
    if not x_index:
        # A1 = blockdiag(S^-1, D'(S^-1 x S^-1)D / 2) at S and the casewise moments
        # (y_i, vech(y_i y_i')) centred: tr(A1 Gamma) = mean_i q_i [with means]
        # + mean_i tr(S^-1 M_i S^-1 M_i) / 2 with M_i = yc_i yc_i' - S, which is
        # (q_i^2 - 2 q_i + p) / 2 for q_i = yc_i' S^-1 yc_i: O(n p^2) instead
        # of forming the p(p+1)/2-square Gamma
        q = np.einsum("ij,ij->i", Yc @ np.linalg.inv(S), Yc)
        out = 0.5 * float(np.mean(q * q - 2.0 * q + p))
        return out + float(np.mean(q)) if meanstructure else out
    if x_index:
        xi = list(x_index)
        yi = [j for j in range(p) if j not in set(xi)]
        Q = np.column_stack([np.ones(n), X[:, xi]])
        coef, *_ = np.linalg.lstsq(Q, X[:, yi], rcond=None)
        Yhat = X.copy()
        Yhat[:, yi] = Q @ coef
        Hc = Yhat - Yhat.mean(axis=0)
        Z = Yc[:, rows] * Yc[:, cols] - Hc[:, rows] * Hc[:, cols]
        if meanstructure:
            Z = np.hstack([X - Yhat, Z])
    else:
        Z = Yc[:, rows] * Yc[:, cols]
        if meanstructure:
            Z = np.hstack([X, Z])
    Z = Z - Z.mean(axis=0)
    Gamma = Z.T @ Z / n
    keep = _moment_mask(p, x_index, meanstructure)
    A1 = h1_expected_information(S, meanstructure)[np.ix_(keep, keep)]
    G = Gamma[np.ix_(keep, keep)]
    # tr(A1 G A1 A1^{-1}) = tr(A1 G)
    return float(np.sum(A1 * G.T))


def _engine_hessian(model, data) -> np.ndarray | None:
    """Analytic Hessian of lavaan's ``fx = F / 2`` from the model's engine, when it has one for these data."""
    engine = getattr(model, "engine", None)
    if engine is None or not hasattr(engine, "hessian"):
        return None
    stats = getattr(engine, "stats", None)
    if stats is None or tuple(stats.n) != tuple(np.asarray(X).shape[0] for X in data):
        return None
    return 0.5 * np.asarray(engine.hessian(np.asarray(model.x, dtype=float)))


def _ml_gradient(model: MomentModel, groups: Sequence[tuple[np.ndarray, np.ndarray]],
                 weights: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Gradient of lavaan's ML objective ``sum_g f_g F_g / 2`` as a function of ``x``."""

    def grad(x: np.ndarray) -> np.ndarray:
        out = np.zeros(x.size)
        for (sigma, mu), delta, (ybar, S), w in zip(
                model.implied(x), model.jacobian(x), groups, weights, strict=True):
            m = mu if model.meanstructure else ybar
            out -= w * (delta.T @ moment_gradient(sigma, m, S, ybar, model.meanstructure))
        return out

    return grad


def _ml_chisq(sigma: np.ndarray, mu: np.ndarray | None, ybar: np.ndarray, S: np.ndarray,
              n: int) -> float:
    p = S.shape[0]
    sinv = np.linalg.inv(sigma)
    f = np.linalg.slogdet(sigma)[1] + np.trace(S @ sinv) - np.linalg.slogdet(S)[1] - p
    if mu is not None:
        d = ybar - mu
        f += d @ sinv @ d
    return float(n * f)


def mlr(model: MomentModel, data: Sequence[np.ndarray], *, df: int,
        hessian: np.ndarray | None = None) -> RobustResult:
    """Huber–White standard errors and the Yuan–Bentler (Mplus) scaled χ² of an ML solution.

    Parameters
    ----------
    model : MomentModel
        The model at its ML estimate ``model.x`` (complete data).
    data : sequence of ndarray
        Casewise data per group (``n_g x p``), in the model's variable order.
    df : int
        Degrees of freedom of the standard χ² test.
    hessian : ndarray, optional
        Hessian of lavaan's ML objective ``sum_g (n_g/N) F_g / 2`` at ``model.x``
        (the unit observed information).  When omitted it is the analytic
        Hessian of the model's engine (``model.engine.hessian``) if the engine
        holds these data, else a central difference of the analytic gradient.

    Returns
    -------
    RobustResult

    Notes
    -----
    With ``H`` the unit observed information, ``Delta_g`` the Jacobian of the
    moments, ``B1_g`` the mean outer product of the casewise scores at the
    model-implied moments and ``f_g = n_g/N``,
    ``V = H^{-1} (sum_g f_g Delta_g' B1_g Delta_g) H^{-1} / N`` (lavaan's
    ``information = "observed"``, ``information.meat = "first.order"``,
    ``h1.information.meat = "structured"``).  The scaling factor is
    ``c = tr(U Gamma) / df`` with
    ``tr(U Gamma) = sum_g [tr(B1u_g A1_g^{-1}) - f_g tr(Delta_g' B1_g Delta_g H^{-1})]``
    where ``A1_g`` and ``B1u_g`` are the expected and first-order
    information of the saturated model at the sample moments.  The baseline
    (independence) model gets the same treatment, which gives the robust
    CFI and TLI.

    References
    ----------
    See the module docstring.

    Examples
    --------
    >>> fit = surveykit.cfa(model, data, estimator="MLR")  # doctest: +SKIP

    In R: ``cfa(model, data, estimator = "MLR")``; ``fitMeasures(fit, c("chisq.scaled", "cfi.robust"))``.
    """
    x = np.asarray(model.x, dtype=float)
    ns = np.array([X.shape[0] for X in data], dtype=float)
    N = ns.sum()
    f = ns / N
    stats_g = [_group_stats(np.asarray(X, dtype=float)) for X in data]
    if hessian is None:
        hessian = _engine_hessian(model, data)
    if hessian is None:
        hessian = numerical_hessian(_ml_gradient(model, stats_g, f), x)
    E_inv = constrained_inverse(hessian, getattr(model, "ceq", None))

    implied = model.implied(x)
    deltas = model.jacobian(x)
    meat = np.zeros_like(hessian)
    trace = 0.0
    chisq = 0.0
    base_T = 0.0
    base_trace = 0.0
    base_df = 0
    ms = model.meanstructure
    xi = _x_index(model)
    for (sigma, mu), delta, (ybar, S), X, fg, ng in zip(
            implied, deltas, stats_g, data, f, ns, strict=True):
        X = np.asarray(X, dtype=float)
        m = mu if ms else ybar
        B1 = casewise_scores(X, m, sigma, ms)
        B1[:, ~_moment_mask(X.shape[1], xi, ms)] = 0.0  # fixed covariate moments
        SD = B1 @ delta  # casewise scores of the parameters: Delta' B1 Delta = SD'SD / n
        B0 = SD.T @ SD / ng
        meat += fg * B0
        # saturated model at the sample moments: first-order and expected information
        h1_trace = _h1_unstructured_trace(X, ybar, S, xi, ms)
        trace += h1_trace - fg * np.sum(B0 * E_inv.T)
        chisq += _ml_chisq(sigma, mu if ms else None, ybar, S, int(ng))
        # baseline: independent variables (the covariates keep their sample
        # covariances, fixed), free means; its estimates are the sample moments
        # and its Hessian the expected information there
        p = S.shape[0]
        yi = [j for j in range(p) if j not in set(xi)]
        D = np.diag(np.diag(S))
        if xi:
            D[np.ix_(xi, xi)] = S[np.ix_(xi, xi)]
        base_T += _ml_chisq(D, ybar if ms else None, ybar, S, int(ng))
        rows, cols = vech_indices(p)
        k = (p if ms else 0) + rows.size
        py = len(yi)
        Db = np.zeros((k, py * (2 if ms else 1)))
        off = p if ms else 0
        if ms:
            Db[yi, np.arange(py)] = 1.0
        diag_pos = np.array([np.flatnonzero((rows == j) & (cols == j))[0] for j in yi], dtype=int)
        Db[off + diag_pos, (py if ms else 0) + np.arange(py)] = 1.0
        Bb = casewise_scores(X, ybar, D, ms)
        Bb[:, ~_moment_mask(p, xi, ms)] = 0.0
        # Db picks one moment per column: Db' Bb Db and Db' A1 Db are selections
        pick = np.argmax(Db, axis=0)
        SDb = Bb[:, pick]
        B0b = SDb.T @ SDb / ng
        Hb = h1_expected_information(D, ms, select=pick)
        # per-group baseline weights enter through f_g in the joint Hessian, which
        # is block diagonal over groups: the group's inverse block is (f_g Hb)^{-1}
        base_trace += h1_trace - np.sum(B0b * np.linalg.inv(Hb).T)
        base_df += int(_moment_mask(p, xi, False).sum()) - py
    V = E_inv @ meat @ E_inv / N
    c = trace / df if df > 0 else float("nan")
    cb = base_trace / base_df
    return RobustResult(
        vcov=V, chisq=chisq, df=int(df), chisq_scaled=chisq / c if df > 0 else chisq,
        scaling_factor=c, trace_ugamma=trace, baseline_chisq=base_T, baseline_df=int(base_df),
        baseline_chisq_scaled=base_T / cb, baseline_scaling_factor=cb, n=int(N),
        n_groups=len(data))


# ------------------------------------------------------------- fit indices ----

def robust_cfi(X2: float, df: float, X2_null: float, df_null: float,
               c_hat: float = 1.0, c_hat_null: float = 1.0) -> float:
    """CFI; with scaling factors ``c_hat`` it is the robust CFI of Brosseau-Liard & Savalei (2014).

    Notes
    -----
    ``CFI = 1 - max(X2 - c df, 0) / max(X2 - c df, X2_0 - c_0 df_0, 0)``
    (lavaan's ``lav_fit_cfi``).
    """
    if df > 0 and c_hat != 1 and c_hat_null != 1:
        t1 = max(X2 - c_hat * df, 0.0)
        t2 = max(X2 - c_hat * df, X2_null - c_hat_null * df_null, 0.0)
    else:
        t1 = max(X2 - df, 0.0)
        t2 = max(X2 - df, X2_null - df_null, 0.0)
    if np.isclose(t1, 0.0, rtol=0, atol=1.5e-8) and np.isclose(t2, 0.0, rtol=0, atol=1.5e-8):
        return 1.0
    return 1.0 - t1 / t2


def robust_tli(X2: float, df: float, X2_null: float, df_null: float,
               c_hat: float = 1.0, c_hat_null: float = 1.0) -> float:
    """TLI; with scaling factors it is lavaan's ``tli.robust``.

    Notes
    -----
    ``TLI = 1 - [(X2 - c df) df_0] / [(X2_0 - c_0 df_0) df]``.
    """
    if df > 0 and c_hat != 1 and c_hat_null != 1:
        t1 = (X2 - c_hat * df) * df_null
        t2 = (X2_null - c_hat_null * df_null) * df
    else:
        t1 = (X2 - df) * df_null
        t2 = (X2_null - df_null) * df
    if df > 0 and abs(t2) > 0:
        return 1.0 - t1 / t2
    return 1.0


def rmsea_value(X2: float, df: float, N: int, G: int = 1, c_hat: float = 1.0) -> float:
    """RMSEA ``sqrt(max(X2/(N df) - c/N, 0)) sqrt(G)`` (lavaan's ``lav_fit_rmsea``)."""
    if not df > 0:
        return 0.0
    return float(np.sqrt(max(X2 / N / df - c_hat / N, 0.0)) * np.sqrt(G))


def _pchisq(x: float, df: float, ncp: float) -> float:
    from scipy import stats

    return float(stats.chi2.cdf(x, df) if ncp <= 0 else stats.ncx2.cdf(x, df, ncp))


def rmsea_ci(X2: float, df: float, N: int, G: int = 1, c_hat: float = 1.0,
             level: float = 0.90) -> tuple[float, float]:
    """Confidence interval of the RMSEA by inverting the noncentral χ² (lavaan's ``lav_fit_rmsea_ci``)."""
    from scipy.optimize import brentq

    if not (np.isfinite(X2) and np.isfinite(df)) or df < 1:
        return 0.0, 0.0
    upper_p = 1 - (1 - level) / 2
    lower_p = (1 - level) / 2

    def lo_f(lam):
        return _pchisq(X2, df, lam) - upper_p

    def hi_f(lam):
        return _pchisq(X2, df, lam) - lower_p

    if lo_f(0.0) < 0:
        lower = 0.0
    else:
        lam = brentq(lo_f, 0.0, X2, xtol=1e-12)
        lower = float(np.sqrt(c_hat * lam / (N * df)) * np.sqrt(G))
    n_rmsea = max(N, X2 * 4)
    if hi_f(n_rmsea) > 0 or hi_f(0.0) < 0:
        upper = 0.0
    else:
        lam = brentq(hi_f, 0.0, n_rmsea, xtol=1e-12)
        upper = float(np.sqrt(c_hat * lam / (N * df)) * np.sqrt(G))
    return lower, upper


def rmsea_pvalue(X2: float, df: float, N: int, G: int = 1, c_hat: float = 1.0,
                 h0: float = 0.05) -> float:
    """P-value of the test of close fit, ``H0: RMSEA <= h0`` (lavaan's ``lav_fit_rmsea_closefit``)."""
    if not df > 0:
        return float("nan")
    ncp = N * df / c_hat * h0 ** 2 / G
    return 1.0 - _pchisq(X2, df, ncp)


# ------------------------------------------------------ difference tests ----

@dataclass(frozen=True)
class ScaledDifference:
    """Satorra–Bentler (2001) scaled χ² difference between two nested models."""

    stat: float
    df: int
    pvalue: float
    scaling_factor: float
    chisq_diff: float

    def __str__(self) -> str:
        return (f"H0: the restricted model fits as well as the unrestricted one\n"
                f"Statistic: {self.stat:.4f}\nP-value: {self.pvalue:.4f}\n"
                f"Distributed: chi2({self.df})  (Satorra-Bentler 2001 scaled difference)")


def scaled_difference_test(T0: float, df0: int, c0: float,
                           T1: float, df1: int, c1: float) -> ScaledDifference:
    """Satorra–Bentler (2001) scaled difference of the restricted model 0 against model 1.

    Notes
    -----
    ``c_d = (df0 c0 - df1 c1) / (df0 - df1)`` and ``T_d = (T0 - T1) / c_d``
    on ``df0 - df1`` degrees of freedom (lavaan's ``lav_test_diff_SatorraBentler2001``,
    the default of ``lavTestLRT`` under ``estimator = "MLR"``).

    References
    ----------
    Satorra, A. & Bentler, P. M. (2001). *Psychometrika*, 66, 507-514.

    Examples
    --------
    In R: ``lavTestLRT(configural, metric)`` with both fitted by ``estimator = "MLR"``.
    """
    from scipy import stats

    if df1 == 0:
        c1 = 1.0
    m = df0 - df1
    if m == 0:
        return ScaledDifference(T0 - T1, 0, float("nan"), float("nan"), T0 - T1)
    cd = (df0 * c0 - df1 * c1) / m
    if cd < 0:
        cd = float("nan")
    T = (T0 - T1) / cd
    return ScaledDifference(float(T), int(m), float(stats.chi2.sf(T, m)), float(cd), T0 - T1)


# ------------------------------------------------------ core engine adapter ----

class EngineMoments:
    """:class:`MomentModel` view of an estimation engine at its estimate.

    ``engine`` is a :class:`surveykit.sem.estimate.MLEngine` (or anything with
    ``implied(theta)``, ``delta(theta)``, ``constraint_basis`` and
    ``pt.meanstructure``); the feasible set of the ``==`` constraints is
    ``theta0 + N z``, so the constraint Jacobian is the orthogonal complement
    of ``N``.
    """

    def __init__(self, engine, theta: np.ndarray):
        self.engine = engine
        self.x = np.asarray(theta, dtype=float)
        self.meanstructure = bool(engine.pt.meanstructure)
        _, N = engine.constraint_basis
        N = np.asarray(N, dtype=float)
        if N.shape[1] < N.shape[0]:
            from scipy.linalg import null_space

            self.ceq = null_space(N.T).T
        else:
            self.ceq = np.zeros((0, N.shape[0]))

    def implied(self, x: np.ndarray) -> list[tuple[np.ndarray, np.ndarray | None]]:
        return [(S, mu if self.meanstructure else None) for S, mu in self.engine.implied(x)]

    def jacobian(self, x: np.ndarray) -> list[np.ndarray]:
        return self.engine.delta(x)

    def moment_gradient(self, x: np.ndarray, derivatives) -> np.ndarray:
        """``sum_g Delta_g' d_g`` from per-group ``(dSigma, dmu)`` matrices, without ``Delta``."""
        return self.engine.moment_gradient(x, derivatives)


def mlr_from_engine(engine, theta: np.ndarray, df: int) -> RobustResult:
    """:func:`mlr` for an :class:`~surveykit.sem.estimate.MLEngine` at ``theta`` (complete data)."""
    return mlr(EngineMoments(engine, theta), [np.asarray(X, float) for X in engine.stats.data], df=df)


def _scaling_of(result) -> float:
    for part in (getattr(result, "robust", None), getattr(result, "fiml", None)):
        c = getattr(part, "scaling_factor", None)
        if c is not None:
            return float(c)
    raise ValueError("a scaled difference test needs two fits with estimator='MLR'.")


def _scaling_at(result, at) -> float:
    """Yuan–Bentler scaling factor of ``result``'s model evaluated at the estimates of the nested fit ``at``.

    This is lavaan's ``M10`` model of the Satorra–Bentler (2010) difference:
    the less restricted model, not re-estimated, at the restricted solution.
    """
    eng, other = result.engine, at.engine
    values = other.x_of(at.theta)
    pos = {(other.pt.lhs[i], other.pt.op[i], other.pt.rhs[i], int(other.pt.group[i])): values[i]
           for i in range(len(other.pt.lhs))}
    theta = np.array(result.theta, dtype=float)
    for row, col in zip(eng.free_rows, eng.free_col, strict=True):
        key = (eng.pt.lhs[row], eng.pt.op[row], eng.pt.rhs[row], int(eng.pt.group[row]))
        theta[col] = pos[key]
    model = EngineMoments(eng, theta)
    return mlr(model, [np.asarray(X, float) for X in eng.stats.data],
               df=int(round(result.fit["df"]))).scaling_factor


def lrt_scaled(a, b, method: str = "satorra.bentler.2001"):
    """Scaled χ² difference of two MLR fits (``surveykit.lrt`` under MLR).

    ``a`` is the less restricted model (fewer degrees of freedom), ``b`` the
    more restricted one; both carry their Yuan–Bentler scaling factor.

    Parameters
    ----------
    a, b : SEMResult
        The two fits.
    method : {"satorra.bentler.2001", "satorra.bentler.2010"}
        2001 (lavaan's default) combines the two scaling factors; 2010 replaces
        the less restricted model's factor by that of its model evaluated at
        the restricted estimates, which keeps the scaling factor positive.

    Examples
    --------
    In R: ``lavTestLRT(configural, metric)`` with ``estimator = "MLR"``
    (method ``"satorra.bentler.2001"``), or
    ``lavTestLRT(configural, metric, method = "satorra.bentler.2010")``.
    """
    from surveykit.sem.results import LRTest

    T1, df1, c1 = float(a.fit["chisq"]), int(round(a.fit["df"])), _scaling_of(a)
    T0, df0, c0 = float(b.fit["chisq"]), int(round(b.fit["df"])), _scaling_of(b)
    if method == "satorra.bentler.2010":
        # lavaan: cd = (r0 c0 - r1 c10) / (r0 - r1), c10 from the M10 model
        c1 = _scaling_at(a, b)
    elif method != "satorra.bentler.2001":
        raise ValueError(f"method ({method!r}) must be 'satorra.bentler.2001' or "
                         f"'satorra.bentler.2010'.")
    d = scaled_difference_test(T0, df0, c0, T1, df1, c1)
    return LRTest(statistic=d.stat, df=d.df, pvalue=d.pvalue, chisq=(T1, T0), dfs=(df1, df0),
                  method=method, scaling_factor=d.scaling_factor)
