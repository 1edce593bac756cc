"""Fit measures, computed as lavaan's ``fitMeasures()`` (version 0.6) does for ML.

Notation: ``T`` the chi-square statistic ``N F`` (``F`` the ML fit function,
``N`` the total sample size, ``likelihood = "normal"``), ``d`` its degrees of
freedom, ``T_b`` / ``d_b`` those of the baseline (independence) model, ``G``
the number of groups.

* ``cfi  = 1 - max(T - d, 0) / max(T - d, T_b - d_b, 0)``
* ``tli  = (T_b/d_b - T/d) / (T_b/d_b - 1)``;  ``nfi = (T_b - T) / T_b``;
  ``rfi = (T_b/d_b - T/d) / (T_b/d_b)``;  ``ifi = (T_b - T) / (T_b - d)``;
  ``pnfi = d/d_b * nfi``
* ``rmsea = sqrt(max(T/(N d) - 1/N, 0)) * sqrt(G)``; its 90% interval from the
  noncentral chi-square; ``rmsea_pclose`` = P(T >= t | RMSEA = .05)
* ``srmr``: per group the root mean square of the residual correlations
  ``(s_ij - sigma_ij) / sqrt(s_ii s_jj)`` and, with a mean structure, of the
  mean residuals ``(ybar_i - mu_i)/sqrt(s_ii)``; groups weighted by ``N_g / N``
  (lavaan's ``srmr_bentler``)
* ``gfi = 1 - e' W e / s' W s`` (LISREL GFI, ``W`` the normal-theory weight
  at the implied moments, ``e = s - sigma``), groups weighted by ``N_g / N``;
  ``agfi = 1 - (k / d)(1 - gfi)``, ``pgfi = d / k * gfi`` with ``k`` the number of
  sample moments
* ``loglik = -1/2 sum_g N_g [p log 2pi + log|Sigma| + tr(S Sigma^-1) + (ybar-mu)'Sigma^-1(ybar-mu)]``
  (less the saturated log-likelihood of the fixed covariates, as lavaan);
  ``aic = -2 loglik + 2 npar``; ``bic = -2 loglik + npar log N``;
  ``bic2 = -2 loglik + npar log((N + 2)/24)``

With fixed covariates the GFI weight has zero rows and columns for the
covariates' own moments, as lavaan's ``lav_mvnorm_information_expected`` with
``x.idx``.

References
----------
lavaan ``R/lav_fit_cfi.R``, ``lav_fit_rmsea.R``, ``lav_fit_srmr.R``,
``lav_fit_gfi.R``, ``lav_fit_aic.R`` (Rosseel, 2012).
Hu, L., & Bentler, P. M. (1999). Cutoff criteria for fit indexes in covariance
structure analysis. *Structural Equation Modeling*, 6(1), 1-55.
"""

from __future__ import annotations

import numpy as np

__all__ = ["fit_measures", "baseline", "rmsea_ci", "FIT_KEYS"]

FIT_KEYS = ("npar", "n", "fmin", "chisq", "df", "pvalue", "chisq_df", "baseline_chisq",
            "baseline_df", "baseline_pvalue", "cfi", "tli", "nfi", "rfi", "ifi", "rni", "pnfi",
            "loglik", "loglik_h1", "aic", "bic", "bic2", "rmsea", "rmsea_ci_low",
            "rmsea_ci_high", "rmsea_pclose", "rmr", "srmr", "gfi", "agfi", "pgfi")


def baseline(stats, ov_x_index: list[int], meanstructure: bool):
    """Chi-square and df of lavaan's independence model.

    Every observed variable has its own variance (and mean); covariates
    treated as fixed keep their sample covariance block.
    """
    chisq, ndat, npar = 0.0, 0, 0
    for g, S in enumerate(stats.cov):
        p = S.shape[0]
        nx = len(ov_x_index)
        Sb = np.diag(np.diag(S))
        if nx:
            ix = np.array(ov_x_index)
            Sb[np.ix_(ix, ix)] = S[np.ix_(ix, ix)]
        _, ld = np.linalg.slogdet(Sb)
        chisq += stats.n[g] * (ld - stats.logdet[g])
        ndat += p * (p + 1) // 2 - nx * (nx + 1) // 2 + ((p - nx) if meanstructure else 0)
        npar += (p - nx) * (2 if meanstructure else 1)
    return chisq, ndat - npar


def rmsea_ci(chisq: float, df: float, n: float, G: int, level: float = 0.90):
    """lavaan's RMSEA interval: roots of the noncentral chi-square distribution function."""
    from scipy.optimize import brentq
    from scipy.stats import chi2, ncx2

    def cdf(lam):
        return chi2.cdf(chisq, df) if lam <= 0 else ncx2.cdf(chisq, df, lam)

    upper_p, lower_p = 1 - (1 - level) / 2, (1 - level) / 2
    if df < 1 or cdf(0.0) - upper_p < 0:
        lo = 0.0
    else:
        lam = brentq(lambda x: cdf(x) - upper_p, 0.0, chisq, xtol=1e-12, rtol=1e-14)
        lo = np.sqrt(lam / (n * df)) * np.sqrt(G)
    n_rmsea = max(n, chisq * 4)
    if df < 1 or cdf(n_rmsea) - lower_p > 0 or cdf(0.0) - lower_p < 0:
        hi = 0.0
    else:
        lam = brentq(lambda x: cdf(x) - lower_p, 0.0, n_rmsea, xtol=1e-12, rtol=1e-14)
        hi = np.sqrt(lam / (n * df)) * np.sqrt(G)
    return lo, hi


def fit_measures(*, stats, implied, fmin: float, npar: int, df: int, meanstructure: bool,
                 ov_x_index: list[int]) -> dict[str, float]:
    """All fit measures of an ML solution (see the module docstring)."""
    from scipy.stats import chi2, ncx2

    N = stats.ntotal
    G = len(stats.n)
    chisq = 2.0 * N * fmin
    out: dict[str, float] = {"npar": float(npar), "n": float(N), "fmin": fmin, "chisq": chisq,
                             "df": float(df)}
    out["pvalue"] = float(chi2.sf(chisq, df)) if df > 0 else np.nan
    out["chisq_df"] = chisq / df if df > 0 else np.nan
    bchisq, bdf = baseline(stats, ov_x_index, meanstructure)
    out["baseline_chisq"], out["baseline_df"] = bchisq, float(bdf)
    out["baseline_pvalue"] = float(chi2.sf(bchisq, bdf)) if bdf > 0 else np.nan
    t1 = max(chisq - df, 0.0)
    t2 = max(chisq - df, bchisq - bdf, 0.0)
    out["cfi"] = 1.0 if t1 == 0 and t2 == 0 else 1.0 - t1 / t2
    if df > 0:
        tli_t1 = bchisq / bdf - chisq / df
        tli_t2 = bchisq / bdf - 1.0
        out["tli"] = 1.0 if (tli_t1 < 0 and tli_t2 < 0) else tli_t1 / tli_t2
        out["nfi"] = (bchisq - chisq) / bchisq
        rfi_t2 = bchisq / bdf
        out["rfi"] = 1.0 if (tli_t1 < 0 or rfi_t2 < 0) else tli_t1 / rfi_t2
        out["pnfi"] = df / bdf * out["nfi"]
    else:
        out["tli"] = out["nfi"] = out["rfi"] = 1.0
        out["pnfi"] = 0.0
    ifi_t2 = bchisq - df
    out["ifi"] = 1.0 if ifi_t2 < 0 else (bchisq - chisq) / ifi_t2
    rni_t2 = bchisq - bdf
    out["rni"] = 1.0 if rni_t2 == 0 else 1.0 - (chisq - df) / rni_t2

    # log-likelihoods
    ll, ll1 = 0.0, 0.0
    for g, (Sigma, mu) in enumerate(implied):
        S = stats.cov[g]
        p = S.shape[0]
        n = stats.n[g]
        _, ld = np.linalg.slogdet(Sigma)
        Sinv = np.linalg.inv(Sigma)
        d = stats.mean[g] - mu if meanstructure else np.zeros(p)
        ll += -0.5 * n * (p * np.log(2 * np.pi) + ld + np.sum(S * Sinv) + d @ Sinv @ d)
        ll1 += -0.5 * n * (p * np.log(2 * np.pi) + stats.logdet[g] + p)
        if ov_x_index:
            # fixed.x: lavaan reports the likelihood conditional on the covariates
            ix = np.array(ov_x_index)
            nx = len(ix)
            ldx = np.linalg.slogdet(S[np.ix_(ix, ix)])[1]
            llx = -0.5 * n * (nx * np.log(2 * np.pi) + ldx + nx)
            ll -= llx
            ll1 -= llx
    out["loglik"], out["loglik_h1"] = ll, ll1
    out["aic"] = -2 * ll + 2 * npar
    out["bic"] = -2 * ll + npar * np.log(N)
    out["bic2"] = -2 * ll + npar * np.log((N + 2) / 24)

    # RMSEA
    if df > 0:
        out["rmsea"] = float(np.sqrt(max(chisq / N / df - 1.0 / N, 0.0)) * np.sqrt(G))
        out["rmsea_ci_low"], out["rmsea_ci_high"] = (float(v) for v in rmsea_ci(chisq, df, N, G))
        ncp = N * df * 0.05 ** 2 / G
        out["rmsea_pclose"] = float(1.0 - ncx2.cdf(chisq, df, ncp))
    else:
        out["rmsea"] = out["rmsea_ci_low"] = out["rmsea_ci_high"] = 0.0
        out["rmsea_pclose"] = np.nan

    # RMR / SRMR / GFI
    rmr = srmr = gfi = 0.0
    nel = 0
    for g, (Sigma, mu) in enumerate(implied):
        S = stats.cov[g]
        p = S.shape[0]
        w = stats.n[g] / N
        r, c = np.tril_indices(p)
        raw = (S - Sigma)[r, c]
        sd = np.sqrt(np.diag(S))
        cor = raw / (sd[r] * sd[c])
        if meanstructure:
            dm = stats.mean[g] - mu
            raw_all = np.concatenate([dm, raw])
            cor_all = np.concatenate([dm / sd, cor])
        else:
            raw_all, cor_all = raw, cor
        rmr += w * np.sqrt(np.mean(raw_all ** 2))
        srmr += w * np.sqrt(np.mean(cor_all ** 2))
        Sinv = np.linalg.inv(Sigma)
        if ov_x_index:
            t1, t2 = _gfi_terms_fixed_x(S, Sigma, Sinv, stats.mean[g], mu, ov_x_index,
                                        meanstructure)
        else:
            E = Sinv @ (S - Sigma)
            A = Sinv @ S
            t1 = 0.5 * np.sum(E * E.T)
            t2 = 0.5 * np.sum(A * A.T)
            if meanstructure:
                t1 += dm @ Sinv @ dm
                t2 += stats.mean[g] @ Sinv @ stats.mean[g]
        gfi += w * (1.0 - t1 / t2)
        nel += len(raw_all)
    out["rmr"], out["srmr"], out["gfi"] = rmr, srmr, gfi
    out["agfi"] = 1.0 - (nel / df) * (1.0 - gfi) if df > 0 else 1.0
    out["pgfi"] = df / nel * gfi if nel else np.nan
    return {k: float(out[k]) for k in FIT_KEYS}


def _gfi_terms_fixed_x(S, Sigma, Sinv, ybar, mu, ov_x_index, meanstructure):
    """GFI quadratic forms without the fixed covariates' own moments (as lavaan).

    The covariance block of the weight is lavaan's ``D'(S^-1 x S^-1)D / 2`` on
    ``vech`` (``S`` the implied matrix), the mean block ``S^-1``; rows and
    columns of the covariates' means and of their own (co)variances are zero.
    """
    from surveykit.sem.model import vech_indices
    p = S.shape[0]
    r, c = vech_indices(p)
    x = np.zeros(p, bool)
    x[ov_x_index] = True
    keep = ~(x[r] & x[c])
    r, c = r[keep], c[keep]
    dup = np.where(r == c, 1.0, 2.0)
    # lavaan's h1 expected information D'(Sigma^-1 x Sigma^-1)D / 2 on vech
    W = 0.25 * (Sinv[np.ix_(r, r)] * Sinv[np.ix_(c, c)] + Sinv[np.ix_(r, c)] * Sinv[np.ix_(c, r)])
    W *= np.outer(dup, dup)
    e = (S - Sigma)[r, c]
    s = S[r, c]
    t1, t2 = e @ W @ e, s @ W @ s
    if meanstructure:
        k = ~x
        Wm = Sinv[np.ix_(k, k)]
        dm = (ybar - mu)[k]
        t1 += dm @ Wm @ dm
        t2 += ybar[k] @ Wm @ ybar[k]
    return t1, t2
