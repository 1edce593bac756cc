"""Factor extraction by minres (ULS) and maximum likelihood, as ``psych::fa``.

Both methods optimise over the uniquenesses psi in [0.005, 1] (psych's
bounds) with L-BFGS-B and psych's analytic gradients; the loadings then
follow in closed form from an eigen decomposition.  We converge much more
tightly than R's ``optim`` defaults, so our solution is the optimum psych
approaches.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from surveykit.errors import ConvergenceWarning, HeywoodCaseWarning

PSI_LOWER = 0.005  # psych's lower bound on uniquenesses


@contextmanager
def single_thread():
    """Run BLAS single-threaded if threadpoolctl is installed.

    Factor fits do hundreds of eigen decompositions of small matrices; a
    multi-threaded BLAS spends more time synchronising threads than computing
    on them, and stalls badly when the cores are busy.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional speed-up
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@dataclass(frozen=True)
class Extraction:
    loadings: np.ndarray       # unrotated, columns ordered by eigenvalue
    psi: np.ndarray            # uniquenesses at the optimum
    converged: bool
    objective: float


def smc(r: np.ndarray) -> np.ndarray:
    """Squared multiple correlations, 1 - 1/diag(R^-1) (pseudo-inverse if singular)."""
    try:
        inv = np.linalg.inv(r)
    except np.linalg.LinAlgError:
        inv = np.linalg.pinv(r)
    out = 1.0 - 1.0 / np.diag(inv)
    return np.clip(out, 0.0, 1.0)


def _top_eigen(a: np.ndarray, q: int) -> tuple[np.ndarray, np.ndarray]:
    vals, vecs = np.linalg.eigh(a)
    return vals[::-1][:q], vecs[:, ::-1][:, :q]


def _uls_loadings(psi: np.ndarray, r: np.ndarray, q: int) -> np.ndarray:
    """psych ``FAout.wls``: top-q eigenvectors of R - diag(psi), scaled by sqrt(eigenvalue)."""
    vals, vecs = _top_eigen(r - np.diag(psi), q)
    return vecs * np.sqrt(np.maximum(vals, 0.0))


def _ml_loadings(psi: np.ndarray, r: np.ndarray, q: int) -> np.ndarray:
    """psych ``FAout``: loadings from the eigen decomposition of Psi^-1/2 R Psi^-1/2."""
    sc = 1.0 / np.sqrt(psi)
    vals, vecs = _top_eigen(r * np.outer(sc, sc), q)
    return np.sqrt(psi)[:, None] * vecs * np.sqrt(np.maximum(vals - 1.0, 0.0))


def _uls_objective(psi, r, q):
    lam = _uls_loadings(psi, r, q)
    res = r - lam @ lam.T - np.diag(psi)
    # psych's gradient FAgr.minres is diag(LL' + Psi - R), the gradient of half
    # the full squared residual; off-diagonal residuals are what minres reports
    return 0.5 * float((res * res).sum()), -np.diag(res).copy()


def _ml_objective(psi, r, q):
    sc = 1.0 / np.sqrt(psi)
    vals, vecs = np.linalg.eigh(r * np.outer(sc, sc))
    vals, vecs = vals[::-1], vecs[:, ::-1]
    e = vals[q:]
    f = -(np.sum(np.log(e) - e) - q + r.shape[0])
    lam = np.sqrt(psi)[:, None] * vecs[:, :q] * np.sqrt(np.maximum(vals[:q] - 1.0, 0.0))
    g = (np.einsum("ij,ij->i", lam, lam) + psi - np.diag(r)) / psi ** 2
    return float(f), g


def extract(r: np.ndarray, n_factors: int, method: str) -> Extraction:
    """Unrotated loadings of ``n_factors`` factors of correlation matrix ``r``."""
    with single_thread():
        return _extract(r, n_factors, method)


def _extract(r: np.ndarray, n_factors: int, method: str) -> Extraction:
    from scipy.optimize import minimize

    p = r.shape[0]
    start = np.clip(np.diag(r) - smc(r), PSI_LOWER, 1.0)
    upper = max(1.0, float(smc(r).max()))
    fun = _ml_objective if method == "ml" else _uls_objective
    res = minimize(fun, start, args=(r, n_factors), jac=True, method="L-BFGS-B",
                   bounds=[(PSI_LOWER, upper)] * p,
                   options={"ftol": 1e-16, "gtol": 1e-11, "maxiter": 5000, "maxcor": 20})
    psi = res.x
    free = (psi > PSI_LOWER * 1.0001) & (psi < upper * 0.9999)
    converged = bool(res.success) or float(np.max(np.abs(res.jac[free]), initial=0.0)) < 1e-6
    # polish: restarting from the optimum removes the slack the line search left;
    # a failed restart (no further decrease possible) simply keeps the optimum
    for _ in range(2):
        res2 = minimize(fun, psi, args=(r, n_factors), jac=True, method="L-BFGS-B",
                        bounds=[(PSI_LOWER, upper)] * p,
                        options={"ftol": 1e-16, "gtol": 1e-12, "maxiter": 5000, "maxcor": 20})
        if not res2.fun < res.fun:
            break
        res, psi = res2, res2.x
    if not converged:
        warnings.warn(f"{method} factor extraction did not converge: {res.message}",
                      ConvergenceWarning, stacklevel=4)
    lam = _ml_loadings(psi, r, n_factors) if method == "ml" else _uls_loadings(psi, r, n_factors)
    if np.any(psi <= PSI_LOWER * 1.0001):
        warnings.warn("a uniqueness reached its lower bound (0.005): Heywood case.",
                      HeywoodCaseWarning, stacklevel=4)
    return Extraction(lam, psi, converged, float(res.fun))
