"""Factor rotations: varimax, promax and oblimin as R computes them.

Each function reproduces its R counterpart step for step (same start, same
step-size rule, same stopping rule), so that a rotation of the same unrotated
loadings lands on the same solution, not merely on a nearby stationary point:

* :func:`varimax` -- ``stats::varimax(x, normalize = TRUE, eps = 1e-5)``,
  which ``psych::fa(rotate = "varimax")`` calls;
* :func:`promax` -- psych's ``kaiser(x, rotate = "Promax")`` (Kaiser row
  normalisation around ``psych::Promax(m = 4)``), which
  ``psych::fa(rotate = "promax")`` calls;
* :func:`oblimin` -- ``GPArotation::oblimin`` (``GPFoblq`` with
  ``gam = 0``, ``normalize = FALSE``, ``eps = 1e-5``, ``maxit = 1000``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from surveykit.errors import ConvergenceWarning


@dataclass(frozen=True)
class Rotation:
    """Rotated loadings, the factor correlations (None if orthogonal) and the rotation matrix."""

    loadings: np.ndarray
    phi: np.ndarray | None
    rotmat: np.ndarray
    converged: bool = True


def varimax(x: np.ndarray, *, normalize: bool = True, eps: float = 1e-5,
            maxit: int = 1000) -> Rotation:
    """Kaiser's varimax rotation, as ``stats::varimax``.

    Notes
    -----
    Iterates T <- U V' from the SVD of
    B = X'(Z^3 - Z diag(1'Z^2)/p), Z = XT, until the sum of singular values
    grows by less than a factor (1 + eps).  With ``normalize`` the rows are
    scaled to unit length first (Kaiser normalisation) and scaled back after.

    References
    ----------
    Kaiser, H. F. (1958). The varimax criterion for analytic rotation in
    factor analysis. Psychometrika, 23, 187-200.
    """
    x = np.asarray(x, dtype=float)
    nc = x.shape[1]
    if nc < 2:
        return Rotation(x.copy(), None, np.eye(nc))
    if normalize:
        sc = np.sqrt((x * x).sum(axis=1))
        x = x / sc[:, None]
    p = x.shape[0]
    tt = np.eye(nc)
    d = 0.0
    converged = False
    for _ in range(maxit):
        z = x @ tt
        b = x.T @ (z ** 3 - z * ((z * z).sum(axis=0) / p))
        u, s, vt = np.linalg.svd(b)
        tt = u @ vt
        dpast, d = d, s.sum()
        if d < dpast * (1 + eps):
            converged = True
            break
    z = x @ tt
    if normalize:
        z = z * sc[:, None]
    return Rotation(z, None, tt, converged)


def promax(x: np.ndarray, *, m: float = 4) -> Rotation:
    """Promax rotation with Kaiser normalisation, as psych's ``kaiser(x, "Promax")``.

    Notes
    -----
    Rows are divided by the square root of their communality, varimax-rotated
    (``stats::varimax``), raised to the target Q = L |L|^(m-1), regressed on
    the target (U = (L'L)^-1 L'Q), columns of U rescaled by
    sqrt(diag((U'U)^-1)), and the rows multiplied back.  The factor
    correlations are Phi = U^-1 U^-T with U the full rotation matrix.

    This is psych's promax (``fa(rotate = "promax")``), which differs from
    ``stats::promax``: psych normalises the rows before rotating.

    References
    ----------
    Hendrickson, A. E. and White, P. O. (1964). Promax: a quick method for
    rotation to oblique simple structure. British Journal of Statistical
    Psychology, 17, 65-70.
    """
    f = np.asarray(x, dtype=float)
    if f.shape[1] < 2:
        return Rotation(f.copy(), None, np.eye(f.shape[1]))
    weight = np.sqrt((f * f).sum(axis=1))
    xn = f / weight[:, None]
    vm = varimax(xn)
    lv = vm.loadings
    q = lv * np.abs(lv) ** (m - 1)
    u = np.linalg.lstsq(lv, q, rcond=None)[0]
    d = np.diag(np.linalg.inv(u.T @ u))
    u = u * np.sqrt(d)
    z = lv @ u
    u = vm.rotmat @ u
    ui = np.linalg.inv(u)
    phi = ui @ ui.T
    return Rotation(z * weight[:, None], phi, u, vm.converged)


def _oblimin_vgq(lam: np.ndarray, gam: float) -> tuple[np.ndarray, float]:
    """Oblimin criterion value and gradient (GPArotation ``vgQ.oblimin``)."""
    l2 = lam * lam
    k = lam.shape[1]
    xx = l2 @ (1.0 - np.eye(k))
    if gam != 0:
        p = lam.shape[0]
        xx = xx - (gam / p) * xx.sum(axis=0)
    return lam * xx, float((l2 * xx).sum() / 4)


def oblimin(a: np.ndarray, *, gam: float = 0.0, eps: float = 1e-5, maxit: int = 1000) -> Rotation:
    """Oblimin rotation (quartimin for gam = 0), as ``GPArotation::oblimin``.

    Notes
    -----
    Gradient projection (Jennrich 2002): minimise
    Q(L) = 1/4 sum_j sum_{k != l} sum_i L_ik^2 (L_il^2 - gam/p sum_r L_rl^2)
    over L = A T^-T with T of unit-length columns, stepping along the
    projected gradient with step doubling/halving, until its norm falls
    below eps.  Phi = T'T.

    References
    ----------
    Bernaards, C. A. and Jennrich, R. I. (2005). Gradient projection
    algorithms and software for arbitrary rotation criteria in factor
    analysis. Educational and Psychological Measurement, 65, 676-696.
    """
    a = np.asarray(a, dtype=float)
    k = a.shape[1]
    if k < 2:
        return Rotation(a.copy(), None, np.eye(k))
    tmat = np.eye(k)
    al = 1.0
    tinv = np.linalg.inv(tmat)
    lam = a @ tinv.T
    gq, f = _oblimin_vgq(lam, gam)
    g = -(lam.T @ gq @ tinv).T
    converged = False
    for _ in range(maxit + 1):
        gp = g - tmat * (tmat * g).sum(axis=0)
        s = np.sqrt((gp * gp).sum())
        if s < eps:
            converged = True
            break
        al *= 2
        for _ in range(11):
            xm = tmat - al * gp
            tmatt = xm / np.sqrt((xm * xm).sum(axis=0))
            tinv = np.linalg.inv(tmatt)
            lam = a @ tinv.T
            gqt, ft = _oblimin_vgq(lam, gam)
            if f - ft > 0.5 * s * s * al:
                break
            al /= 2
        tmat = tmatt
        f = ft
        g = -(lam.T @ gqt @ tinv).T
    if not converged:
        warnings.warn(f"oblimin rotation did not converge in {maxit} iterations.",
                      ConvergenceWarning, stacklevel=3)
    return Rotation(lam, tmat.T @ tmat, tmat, converged)


ROTATIONS = ("none", "varimax", "promax", "oblimin")


def rotate(loadings: np.ndarray, rotation: str) -> Rotation:
    """Apply a named rotation to unrotated loadings."""
    k = loadings.shape[1]
    if rotation == "none" or k < 2:
        return Rotation(loadings.copy(), None, np.eye(k))
    if rotation == "varimax":
        return varimax(loadings)
    if rotation == "promax":
        return promax(loadings)
    if rotation == "oblimin":
        return oblimin(loadings)
    raise ValueError(rotation)
