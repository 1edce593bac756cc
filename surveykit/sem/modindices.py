"""Modification indices: lavaan's ``modindices()`` (univariate score tests).

Every parameter a model could add (a cross-loading, a residual covariance, a
latent covariance, a regression among variables that already take part in
regressions, an intercept) is appended to the table as a free parameter with
value 0, and at the estimates

    mi  = N s_j^2 / V_jj,   epc = -s_j / V_jj,
    V   = I_11 - I_12 I_22^{-1} I_21,

with ``s`` the gradient of lavaan's ``fmin = F / 2`` and ``I`` the unit expected
information of the extended model (block 1: added parameters, block 2: the
model's free parameters).  Candidates with ``V_jj`` below ``eps^(1/3)`` (not
identified when added, e.g. a covariance that duplicates a regression) are
dropped, as lavaan drops them.  ``sepc_lv`` and ``sepc_all`` are the expected
changes standardized like the parameters themselves.

Parameters the model fixes at zero (``visual ~~ 0*textual``) are candidates.
Where surveykit differs from lavaan 0.6-14: regressions of fixed covariates
(``fixed.x``) and parameters that are fixed in the model (marker loadings,
which lavaan lists when the model has equality constraints) are not
candidates.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from surveykit.sem.partable import ParTable
from surveykit.sem.standardize import standardize

__all__ = ["modification_indices", "candidates"]


def candidates(pt: ParTable) -> list[tuple[str, str, str, int]]:
    """Parameters not in the model that lavaan's ``lav_partable_full`` proposes."""
    lv = pt.lv_names
    x_set = set(pt.ov_x)
    ov_nox = [v for v in pt.ov_names if v not in x_set]
    eqs = list(dict.fromkeys([pt.lhs[i] for i in range(pt.nrow) if pt.op[i] == "~"]
                             + [pt.rhs[i] for i in range(pt.nrow) if pt.op[i] == "~"]))
    ov_ind = {pt.rhs[i] for i in range(pt.nrow) if pt.op[i] == "=~" and pt.rhs[i] not in lv}
    lv_set = set(lv)
    eqs_set = set(eqs)
    other = {v for v in pt.ov_names if v not in ov_ind and v not in x_set and v not in eqs_set}
    have = set()
    for i in range(pt.nrow):
        if pt.free[i] == 0 and pt.ustart[i] == 0 and pt.exo[i] == 0:
            continue  # fixed to zero by the model: freeing it is a candidate change
        have.add((pt.lhs[i], pt.op[i], pt.rhs[i], int(pt.group[i])))
        if pt.op[i] == "~~":
            have.add((pt.rhs[i], pt.op[i], pt.lhs[i], int(pt.group[i])))
    out = []
    for g in range(1, pt.ngroups + 1):
        rows = [(f, "=~", v) for f in lv for v in ov_nox if v not in eqs_set]
        rows += [(ov_nox[j], "~~", ov_nox[i]) for j in range(len(ov_nox))
                 for i in range(j, len(ov_nox)) if not ({ov_nox[i], ov_nox[j]} & other)]
        rows += [(lv[j], "~~", lv[i]) for j in range(len(lv)) for i in range(j, len(lv))]
        # regressing a fixed covariate is not a change of this model (its moments
        # are the sample's); lavaan lists such rows, surveykit leaves them out
        rows += [(a, "~", b) for a in eqs for b in eqs
                 if a != b and not (a in ov_ind and b in lv_set) and a not in x_set]
        if pt.meanstructure:
            rows += [(v, "~1", "") for v in pt.ov_names + lv]
        out += [(a, o, b, g) for a, o, b in rows if (a, o, b, g) not in have]
    return out


def modification_indices(engine, theta: np.ndarray):
    """Table of modification indices of a fitted ML model (lavaan's columns)."""
    import pandas as pd

    from surveykit.sem.model import RAMModel

    pt = engine.pt
    cand = candidates(pt)
    q = engine.q
    k = len(cand)
    cols = ["lhs", "op", "rhs", "group", "mi", "epc", "sepc_lv", "sepc_all"]
    if k == 0:
        return pd.DataFrame(columns=cols)
    ext = dataclasses.replace(
        pt,
        lhs=pt.lhs + [c[0] for c in cand], op=pt.op + [c[1] for c in cand],
        rhs=pt.rhs + [c[2] for c in cand],
        group=np.concatenate([pt.group, [c[3] for c in cand]]),
        user=np.concatenate([pt.user, np.full(k, 10)]),
        free=np.concatenate([pt.free, q + 1 + np.arange(k)]),
        ustart=np.concatenate([pt.ustart, np.zeros(k)]),
        exo=np.concatenate([pt.exo, np.zeros(k, dtype=int)]),
        label=pt.label + [""] * k, plabel=pt.plabel + [""] * k,
        defined=[], equality=[])
    model = RAMModel(ext)
    x = np.concatenate([engine.x_of(theta), np.zeros(k)])
    stats, ms = engine.stats, pt.meanstructure
    grad = np.zeros(k)
    i11 = np.zeros(k)
    i12 = np.zeros((k, q))
    for g in range(pt.ngroups):
        Sigma, mu, U, V, M, rows = model.row_derivatives(x, g)
        c = rows >= pt.nrow              # candidate columns
        m = ~c                           # the model's free rows
        Sinv = np.linalg.inv(Sigma)
        S = stats.cov[g]
        d = stats.mean[g] - mu if ms else np.zeros_like(mu)
        R = Sinv - Sinv @ (S + np.outer(d, d)) @ Sinv
        Uc, Vc, Mc = U[:, c], V[:, c], M[:, c]
        Um, Vm, Mm = U[:, m], V[:, m], M[:, m]
        w = engine.weights[g]
        gr = 2.0 * (Vc * (R @ Uc)).sum(axis=0)
        if ms:
            gr -= 2.0 * ((Sinv @ d) @ Mc)
        SUc, SVc = Sinv @ Uc, Sinv @ Vc
        # unit expected information, candidate x candidate (diagonal only) and
        # candidate x model rows: 0.5 tr(S^-1 dS_a S^-1 dS_b) + dmu_a' S^-1 dmu_b
        diag = (Vc * SUc).sum(0) ** 2 + (Uc * SUc).sum(0) * (Vc * SVc).sum(0)
        cross = (SVc.T @ Um) * (SUc.T @ Vm) + (SUc.T @ Um) * (SVc.T @ Vm)
        if ms:
            SMc = Sinv @ Mc
            diag += (Mc * SMc).sum(0)
            cross += SMc.T @ Mm
        idx = rows[c] - pt.nrow          # position among the candidates
        grad[idx] += w * gr
        i11[idx] += w * diag
        i12[idx] += w * (cross @ engine.K[rows[m]])
    N = stats.ntotal
    i22_inv = engine.vcov(theta) * N
    v = i11 - np.einsum("ij,jk,ik->i", i12, i22_inv, i12)
    v[v < np.finfo(float).eps ** (1 / 3)] = np.nan
    s = 0.5 * grad
    mi = N * s * s / v
    epc = -s / v
    table = dataclasses.replace(ext, lhs=ext.lhs[pt.nrow:], op=ext.op[pt.nrow:],
                                rhs=ext.rhs[pt.nrow:], group=ext.group[pt.nrow:])
    sepc_lv = standardize(engine, theta, kind="lv", table=table, values=epc)
    sepc_all = standardize(engine, theta, kind="all", table=table, values=epc)
    out = pd.DataFrame({"lhs": table.lhs, "op": table.op, "rhs": table.rhs,
                        "group": np.asarray(table.group, int), "mi": mi, "epc": epc,
                        "sepc_lv": sepc_lv, "sepc_all": sepc_all})
    return out[np.isfinite(out["mi"])].reset_index(drop=True)
