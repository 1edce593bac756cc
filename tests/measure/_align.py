"""Align factor solutions before comparing them: column order by congruence, then signs."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment


def congruence(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Tucker's congruence coefficients between the columns of a and of b."""
    num = a.T @ b
    return num / np.sqrt(np.outer((a * a).sum(axis=0), (b * b).sum(axis=0)))


def align(loadings: np.ndarray, target: np.ndarray, phi: np.ndarray | None = None):
    """Permute and sign-flip the columns of ``loadings`` to match ``target``.

    Columns are matched one-to-one by the largest absolute congruence
    (Hungarian assignment), then each column takes the sign of its congruence
    with its target column.  Returns the aligned loadings and, if given, the
    factor correlations permuted and flipped the same way.
    """
    c = congruence(loadings, target)
    rows, cols = linear_sum_assignment(-np.abs(c))
    perm = np.empty(target.shape[1], dtype=int)
    perm[cols] = rows
    signs = np.sign(c[perm, np.arange(target.shape[1])])
    signs[signs == 0] = 1
    out = loadings[:, perm] * signs
    if phi is None:
        return out, None
    return out, phi[np.ix_(perm, perm)] * np.outer(signs, signs)
