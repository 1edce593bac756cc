"""Analytic Hessian of the ML fit function, for Newton steps near the optimum.

With ``R = S^-1 - S^-1 S* S^-1`` (``S`` the implied covariance matrix here,
``S* = S_sample + d d'``, ``d = ybar - mu``), ``delta = Sigma^-1 d`` and the
rank-two derivatives ``dSigma_a = u_a v_a' + v_a u_a'`` of
:mod:`surveykit.sem.model`, the Hessian of ``F_g`` is

    H_ab = tr(Sigma^-1 Sigma_a Sigma^-1 Sigma_b) - 2 tr(R Sigma_b Sigma^-1 Sigma_a)
           + tr(R Sigma_ab) + 2 mu_a' Sigma^-1 mu_b
           + 2 (d' Sigma^-1 Sigma_a Sigma^-1 mu_b + d' Sigma^-1 Sigma_b Sigma^-1 mu_a)
           - 2 d' Sigma^-1 mu_ab.

The first and fourth terms are twice the expected information (Fisher
scoring keeps only those); the others vanish when the model fits exactly.
Second derivatives ``Sigma_ab`` and ``mu_ab`` are non-zero only when ``a`` is
a path (an element of ``A``): with ``B = (I - A)^-1``, ``G = F B``,
``C = B S B'`` and ``nu = B m``, for ``a = A[i, j]``

* ``b = A[k, l]``: ``tr(R Sigma_ab) = 2 [B_li (C_j R G_k) + B_jk (C_l R G_i) + C_jl (G_k' R G_i)]``,
  ``mu_ab = G_k B_li nu_j + G_i B_jk nu_l``;
* ``b = S[k, l]``: ``tr(R Sigma_ab) = 2 [B_jk (G_l' R G_i) + B_jl (G_k' R G_i)]``
  (one term when ``k = l``);
* ``b = m[k]``: ``mu_ab = G_i B_jk``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["group_hessian"]


def _plan(model, g):
    """Flat index arrays for the second-derivative blocks of group ``g`` (cached)."""
    cache = model.__dict__.setdefault("_hessian_plans", {})
    if g in cache:
        return cache[g]
    rows, i, a, ja, si, js, diag, mm = model._plans[g]
    n, r = model.n, len(rows)
    ia, ks, ls, im = i[a], i[si], js, i[mm]
    plan = {
        "B_ja_ia": (ja[:, None] * n + ia[None, :]).ravel(),
        "C_ja_ja": (ja[:, None] * n + ja[None, :]).ravel(),
        "W_ia_ia": (ia[:, None] * n + ia[None, :]).ravel(),
        "B_ja_ks": (ja[:, None] * n + ks[None, :]).ravel(),
        "B_ja_ls": (ja[:, None] * n + ls[None, :]).ravel(),
        "W_ls_ia": (ls[None, :] * n + ia[:, None]).ravel(),   # (a, s) -> W2[l_s, i_a]
        "W_ks_ia": (ks[None, :] * n + ia[:, None]).ravel(),
        "B_ja_im": (ja[:, None] * n + im[None, :]).ravel(),
        "H_aa": (a[:, None] * r + a[None, :]).ravel(),
        "H_as": (a[:, None] * r + si[None, :]).ravel(),
        "H_sa": (si[None, :] * r + a[:, None]).ravel(),
        "H_am": (a[:, None] * r + mm[None, :]).ravel(),
        "H_ma": (mm[None, :] * r + a[:, None]).ravel(),
        "same": (ks == ls),
        "shape_aa": (a.size, a.size), "shape_as": (a.size, si.size),
        "shape_am": (a.size, mm.size),
    }
    cache[g] = plan
    return plan


def group_hessian(model, x: np.ndarray, g: int, ybar: np.ndarray, S: np.ndarray,
                  meanstructure: bool) -> tuple[np.ndarray, np.ndarray]:
    """Hessian of ``F_g`` over the free rows of group ``g`` and the rows it covers."""
    from scipy.linalg.lapack import dpotrf, dpotri

    rows, i, a, ja, si, js, diag, mm = model._plans[g]
    P = _plan(model, g)
    B, C, nu, U, V, M = model.factors(x, g, (i, a, ja, si, js, diag, mm))
    p = model.p
    G = B[:p]
    Sigma = C[:p, :p]
    mu = nu[:p]
    chol, info = dpotrf(Sigma, lower=False)
    if info != 0:
        raise np.linalg.LinAlgError("implied covariance matrix not positive definite")
    inv, _ = dpotri(chol, lower=False)
    Sinv = inv + inv.T
    Sinv.flat[:: p + 1] *= 0.5
    d = ybar - mu if meanstructure else np.zeros(p)
    R = Sinv - Sinv @ (S + np.outer(d, d)) @ Sinv
    SU, SV = Sinv @ U, Sinv @ V
    RU, RV = R @ U, R @ V
    Xuu, Xuv, Xvv = U.T @ SU, U.T @ SV, V.T @ SV
    Yuu, Yuv, Yvv = U.T @ RU, U.T @ RV, V.T @ RV
    XuvT = Xuv.T
    H = 2.0 * (XuvT * Xuv + Xuu * Xvv) - 2.0 * (Xuv * Yuv.T + Xvv * Yuu + Xuu * Yvv + XuvT * Yuv)
    if meanstructure:
        SM = Sinv @ M
        H += 2.0 * (M.T @ SM)
        delta = Sinv @ d
        Z = (delta @ U)[:, None] * (V.T @ SM) + (delta @ V)[:, None] * (U.T @ SM)
        H += 2.0 * (Z + Z.T)
    # second derivatives: paths (A) with paths, variances/covariances (S) and means (m)
    if a.size:
        RG = R @ G
        W1 = C[:, :p] @ RG             # W1[j, k] = C_j R G_k
        W2 = G.T @ RG                  # W2[k, i] = G_k' R G_i
        Hf = H.ravel()
        b_ji = B.take(P["B_ja_ia"]).reshape(P["shape_aa"])
        w_ji = W1.take(P["B_ja_ia"]).reshape(P["shape_aa"])
        block = 2.0 * (b_ji.T * w_ji + b_ji * w_ji.T
                       + C.take(P["C_ja_ja"]).reshape(P["shape_aa"])
                       * W2.take(P["W_ia_ia"]).reshape(P["shape_aa"]).T)
        if si.size:
            AS = 2.0 * (B.take(P["B_ja_ks"]).reshape(P["shape_as"])
                        * W2.take(P["W_ls_ia"]).reshape(P["shape_as"])
                        + B.take(P["B_ja_ls"]).reshape(P["shape_as"])
                        * W2.take(P["W_ks_ia"]).reshape(P["shape_as"]))
            AS[:, P["same"]] *= 0.5
            Hf[P["H_as"]] += AS.ravel()
            Hf[P["H_sa"]] += AS.ravel()
        if meanstructure:
            dg = G.T @ delta
            ia = i[a]
            MA = dg[ia][None, :] * b_ji.T * nu[ja][:, None] \
                + dg[ia][:, None] * b_ji * nu[ja][None, :]
            block -= 2.0 * MA
            if mm.size:
                AM = 2.0 * dg[ia][:, None] * B.take(P["B_ja_im"]).reshape(P["shape_am"])
                Hf[P["H_am"]] -= AM.ravel()
                Hf[P["H_ma"]] -= AM.ravel()
        Hf[P["H_aa"]] += block.ravel()
    return 0.5 * (H + H.T), rows
