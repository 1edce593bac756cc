"""Moderation and mediation on composite scores, as Hayes' PROCESS models 1 and 4 run them.

Moderation (PROCESS model 1): ``Y = b0 + b1·X + b2·W + b3·X·W (+ covariates)``
with X and W mean-centred; the conditional effect of X is ``b1 + b3·w``,
tested at w = −1 SD, 0 and +1 SD of W (simple slopes), and the
Johnson–Neyman points are the values of W where that effect is exactly
significant at α (the roots of ``(b1 + b3 w)² = t²_crit · Var(b1 + b3 w)``).

Mediation (PROCESS model 4): ``M = a0 + a·X``, ``Y = b0 + c'·X + b·M``; the
indirect effect ``a·b`` with a percentile bootstrap interval over resampled
firms, the direct effect ``c'`` and the total ``c' + a·b``.

Standard errors are the ordinary OLS ones, PROCESS's default.

References
----------
Hayes, A. F. (2022). *Introduction to Mediation, Moderation, and Conditional
Process Analysis* (3rd ed.). Guilford.  Johnson, P. O. & Neyman, J. (1936).
Tests of certain linear hypotheses and their application to some educational
problems. *Statistical Research Memoirs* 1, 57–93.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from surveykit.errors import SurveykitError


def _ols(y: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Coefficients, their OLS covariance, residual df."""
    n, k = X.shape
    XtX_inv = np.linalg.inv(X.T @ X)
    beta = XtX_inv @ X.T @ y
    resid = y - X @ beta
    df = n - k
    sigma2 = resid @ resid / df
    return beta, sigma2 * XtX_inv, df


@dataclass(frozen=True)
class Moderation:
    """Moderation of ``y ~ x`` by ``w``: interaction, simple slopes and Johnson–Neyman points."""

    y: str
    x: str
    w: str
    covariates: tuple[str, ...]
    n: int
    interaction: float
    interaction_se: float
    interaction_t: float
    interaction_pvalue: float
    r2_change: float
    slopes: pd.DataFrame  # w_label, w (centred), w_value (original units), effect, se, t, pvalue, ci
    jn_points: tuple[float, ...]  # in original units of w, inside its observed range
    jn_roots: tuple[float, ...]  # every root of the Johnson–Neyman equation, original units
    w_range: tuple[float, float]
    alpha: float

    def summary(self) -> str:
        lines = [f"Moderation of {self.y} ~ {self.x} by {self.w} (n = {self.n}, mean-centred)",
                 f"  interaction {self.interaction:.4f} (SE {self.interaction_se:.4f}, "
                 f"t {self.interaction_t:.3f}, p {self.interaction_pvalue:.4f}), ΔR² {self.r2_change:.4f}"]
        for row in self.slopes.itertuples():
            lines.append(f"  effect of {self.x} at {self.w} {row.w_label}: {row.effect:.4f} "
                         f"(SE {row.se:.4f}, p {row.pvalue:.4f})")
        jn = ", ".join(f"{p:.4f}" for p in self.jn_points) or "none inside the observed range"
        lines.append(f"  Johnson–Neyman points ({self.w}): {jn}")
        return "\n".join(lines)

    __str__ = summary


def moderation(data: pd.DataFrame, y: str, x: str, w: str, *, covariates: Sequence[str] = (),
               alpha: float = 0.05) -> Moderation:
    """Estimate the moderation of the effect of ``x`` on ``y`` by ``w``.

    Parameters
    ----------
    data : DataFrame
        Composite scores; rows with a missing value in any variable used are dropped.
    y, x, w : str
        Outcome, focal predictor and moderator columns.
    covariates : sequence of str
        Further predictors of ``y`` (the other regressors of its equation).
    alpha : float
        Level of the simple-slope intervals and the Johnson–Neyman points.

    Returns
    -------
    Moderation

    Examples
    --------
    In R: ``fit <- lm(y ~ xc * wc + cov, d)`` with ``xc``, ``wc`` centred;
    the conditional effect at ``w`` is ``coef(fit)["xc"] + w * coef(fit)["xc:wc"]``.
    """
    from scipy import stats

    cols = list(dict.fromkeys([y, x, w, *covariates]))
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise SurveykitError(f"moderation: no column(s) {', '.join(missing)} in the data")
    frame = data[cols].astype(float).dropna()
    n = len(frame)
    if n < len(cols) + 3:
        raise SurveykitError(f"moderation of {y} ~ {x} by {w}: too few complete cases ({n})")
    xc = frame[x].to_numpy() - frame[x].mean()
    wmean = frame[w].mean()
    wc = frame[w].to_numpy() - wmean
    cov = frame[list(covariates)].to_numpy() if covariates else np.empty((n, 0))
    X = np.column_stack([np.ones(n), xc, wc, xc * wc, cov])
    yv = frame[y].to_numpy()
    beta, V, df = _ols(yv, X)
    b1, b3 = beta[1], beta[3]
    se3 = float(np.sqrt(V[3, 3]))
    t3 = b3 / se3
    tcrit = stats.t.ppf(1 - alpha / 2, df)
    # R² change when the product term is added
    r2_full = 1 - np.sum((yv - X @ beta) ** 2) / np.sum((yv - yv.mean()) ** 2)
    Xr = np.delete(X, 3, axis=1)
    br = np.linalg.lstsq(Xr, yv, rcond=None)[0]
    r2_red = 1 - np.sum((yv - Xr @ br) ** 2) / np.sum((yv - yv.mean()) ** 2)
    sd_w = frame[w].std(ddof=1)
    rows = []
    for label, wv in (("-1 SD", -sd_w), ("mean", 0.0), ("+1 SD", sd_w)):
        eff = b1 + b3 * wv
        se = float(np.sqrt(V[1, 1] + wv * wv * V[3, 3] + 2 * wv * V[1, 3]))
        t = eff / se
        rows.append({"w_label": label, "w": wv, "w_value": wv + wmean, "effect": eff, "se": se,
                     "t": t, "pvalue": float(2 * stats.t.sf(abs(t), df)),
                     "ci_lower": eff - tcrit * se, "ci_upper": eff + tcrit * se})
    # Johnson–Neyman: (b1 + b3 w)^2 = tcrit^2 (V11 + 2 w V13 + w^2 V33)
    qa = b3 * b3 - tcrit**2 * V[3, 3]
    qb = 2 * (b1 * b3 - tcrit**2 * V[1, 3])
    qc = b1 * b1 - tcrit**2 * V[1, 1]
    roots: list[float] = []
    if abs(qa) > 1e-15:
        disc = qb * qb - 4 * qa * qc
        if disc >= 0:
            roots = sorted(((-qb - np.sqrt(disc)) / (2 * qa), (-qb + np.sqrt(disc)) / (2 * qa)))
    elif abs(qb) > 1e-15:
        roots = [-qc / qb]
    lo, hi = float(frame[w].min()), float(frame[w].max())
    all_roots = tuple(float(r + wmean) for r in roots)
    points = tuple(r for r in all_roots if lo <= r <= hi)
    return Moderation(y, x, w, tuple(covariates), n, float(b3), se3, float(t3),
                      float(2 * stats.t.sf(abs(t3), df)), float(r2_full - r2_red),
                      pd.DataFrame(rows), points, all_roots, (lo, hi), alpha)


@dataclass(frozen=True)
class Mediation:
    """Simple mediation ``x -> m -> y`` with a percentile-bootstrap interval of ``a·b``."""

    x: str
    m: str
    y: str
    n: int
    a: float
    b: float
    direct: float
    total: float
    indirect: float
    ci_lower: float
    ci_upper: float
    n_boot: int
    seed: int | None
    level: float

    @property
    def significant(self) -> bool:
        """Whether the bootstrap interval of the indirect effect excludes zero."""
        return not (self.ci_lower <= 0.0 <= self.ci_upper)

    def summary(self) -> str:
        return (f"Mediation {self.x} -> {self.m} -> {self.y} (n = {self.n}): a {self.a:.4f}, "
                f"b {self.b:.4f}, indirect {self.indirect:.4f} "
                f"[{self.ci_lower:.4f}, {self.ci_upper:.4f}] ({self.level:.0%} percentile bootstrap, "
                f"{self.n_boot} draws), direct {self.direct:.4f}, total {self.total:.4f}")

    __str__ = summary


def mediation(data: pd.DataFrame, x: str, m: str, y: str, *, n_boot: int = 2000,
              seed: int | None = None, level: float = 0.95) -> Mediation:
    """Estimate the indirect effect of ``x`` on ``y`` through ``m`` (PROCESS model 4).

    The bootstrap resamples firms with replacement ``n_boot`` times from
    ``numpy.random.default_rng(seed)``; the interval is the percentile
    interval of the ``a·b`` draws (quantile type 7, as R's default).

    Examples
    --------
    In R: ``a <- coef(lm(m ~ x, d))["x"]; fit <- lm(y ~ x + m, d)``;
    indirect ``a * coef(fit)["m"]``, direct ``coef(fit)["x"]``.
    """
    cols = list(dict.fromkeys([x, m, y]))
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise SurveykitError(f"mediation: no column(s) {', '.join(missing)} in the data")
    if n_boot < 100:
        raise SurveykitError(f"n_boot ({n_boot}) must be at least 100 for a percentile interval")
    frame = data[cols].astype(float).dropna()
    n = len(frame)
    if n < 10:
        raise SurveykitError(f"mediation {x} -> {m} -> {y}: too few complete cases ({n})")
    xv, mv, yv = (frame[c].to_numpy() for c in (x, m, y))
    a, b, direct = _mediation_coefs(xv, mv, yv)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_boot, n))
    draws = _mediation_coefs_batch(xv[idx], mv[idx], yv[idx])
    lo, hi = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2])
    return Mediation(x, m, y, n, a, b, direct, direct + a * b, a * b, float(lo), float(hi),
                     n_boot, seed, level)


def _mediation_coefs(x: np.ndarray, m: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    n = len(x)
    a = np.linalg.lstsq(np.column_stack([np.ones(n), x]), m, rcond=None)[0][1]
    coef = np.linalg.lstsq(np.column_stack([np.ones(n), x, m]), y, rcond=None)[0]
    return float(a), float(coef[2]), float(coef[1])


def _mediation_coefs_batch(x: np.ndarray, m: np.ndarray, y: np.ndarray) -> np.ndarray:
    """a·b for every bootstrap sample (rows), from centred cross-products: no Python loop."""
    xc = x - x.mean(axis=1, keepdims=True)
    mc = m - m.mean(axis=1, keepdims=True)
    yc = y - y.mean(axis=1, keepdims=True)
    sxx = np.einsum("ij,ij->i", xc, xc)
    smm = np.einsum("ij,ij->i", mc, mc)
    sxm = np.einsum("ij,ij->i", xc, mc)
    sxy = np.einsum("ij,ij->i", xc, yc)
    smy = np.einsum("ij,ij->i", mc, yc)
    a = sxm / sxx
    det = sxx * smm - sxm * sxm
    b = (sxx * smy - sxm * sxy) / det
    return a * b
