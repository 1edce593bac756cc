"""Standardized solutions: lavaan's ``std.lv`` and ``std.all`` columns.

With ``C = B S B'`` the implied covariance matrix of all variables and
``sd_v = sqrt(C_vv)``:

=============  ==============================  ==========================================
row            std.all                          std.lv (observed variables keep sd = 1)
=============  ==============================  ==========================================
``f =~ x``     ``lambda * sd_f / sd_x``          ``lambda * sd_f``
``y ~ x``      ``beta * sd_x / sd_y``            same with latent sds only
``v ~~ v``     ``psi / sd_v^2``                  latent: ``psi / sd_v^2``; observed: ``psi``
``a ~~ b``     ``psi_ab / sqrt(psi_aa psi_bb)``  latent pairs as std.all; observed: ``psi_ab``
``v ~ 1``      ``alpha / sd_v``                  latent: ``alpha / sd_v``
=============  ==============================  ==========================================

Covariances are scaled by the (residual) variance parameters, as lavaan does
with ``cov.std = TRUE``; ``:=`` parameters are their expressions evaluated at
the standardized values.
"""

from __future__ import annotations

import numpy as np

__all__ = ["standardize"]


def standardize(engine, theta: np.ndarray, *, kind: str, table=None,
                values: np.ndarray | None = None) -> np.ndarray:
    """Standardized values of table rows (``kind`` is ``"all"`` or ``"lv"``).

    The implied variances come from ``engine`` at ``theta``.  By default the
    rows are those of ``engine.pt`` at ``theta``; ``table`` and ``values`` give
    other rows over the same variables (modification indices standardize
    expected parameter changes this way).
    """
    model = engine.model
    base_x = engine.x_of(theta)
    pt = engine.pt if table is None else table
    x = base_x if values is None else values
    p = model.p
    out = np.full(len(pt.lhs), np.nan)
    pos = {v: k for k, v in enumerate(engine.pt.ov_names + engine.pt.lv_names)}
    is_lv = np.zeros(model.n, bool)
    is_lv[p:] = True
    for g in range(len(model.groups)):
        C = model.implied(base_x, g)[3]
        S = model.matrices(base_x, g)[1]
        var = np.diag(C).copy()
        resvar = np.diag(S).copy()
        if kind == "lv":
            var = np.where(is_lv, var, 1.0)
            resvar = np.where(is_lv, resvar, 1.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            sd = np.sqrt(var)
            for r in np.flatnonzero(np.asarray(pt.group) == g + 1):
                o, a, b = pt.op[r], pt.lhs[r], pt.rhs[r]
                est = x[r]
                if o == "=~":
                    out[r] = est * sd[pos[a]] / sd[pos[b]]
                elif o == "~":
                    out[r] = est * sd[pos[b]] / sd[pos[a]]
                elif o == "~~":
                    ia, ib = pos[a], pos[b]
                    out[r] = est / var[ia] if ia == ib else est / np.sqrt(resvar[ia] * resvar[ib])
                elif o == "~1":
                    out[r] = est / sd[pos[a]]
    return out
