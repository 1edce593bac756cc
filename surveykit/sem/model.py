"""Model matrices, implied moments and their Jacobian (RAM form).

Every variable of a group, observed first (lavaan's ``ov.names`` order) then
latent (``lv.names``), is a node of one path diagram:

* ``A`` (n x n) holds directed effects: loadings ``A[indicator, factor]`` and
  regressions ``A[y, x]``;
* ``S`` (n x n, symmetric) holds variances and covariances (residual ones for
  dependent variables);
* ``m`` (n) holds intercepts and latent means.

With ``B = (I - A)^{-1}`` and ``F = [I_p 0]`` the implied moments are

    Sigma = F B S B' F',        mu = F B m.

This is lavaan's LISREL model written once for all variables (Lambda, Beta,
Theta, Psi, nu and alpha are blocks of A, S and m), which also covers
regressions among observed variables and covariances between any two
variables without phantom latents.  :meth:`RAMModel.lisrel` returns the
LISREL blocks.

Derivatives
-----------
For a row that places a parameter in ``A[i, j]``::

    dSigma = u v' + v u',   u = G[:, i],  v = C[j, :p],   dmu = G[:, i] (B m)[j]

with ``G = F B`` and ``C = B S B'``; for ``S[i, j]`` (i != j) ``u = G[:, i]``,
``v = G[:, j]``; for ``S[i, i]`` ``v = G[:, i] / 2``; for ``m[i]`` ``dmu = G[:, i]``.
The rank-two form makes the expected information and the gradient cheap
(see :mod:`surveykit.sem.estimate`).  :meth:`RAMModel.delta` builds lavaan's
``Delta`` (rows ``[mu, vech(Sigma)]`` when there is a mean structure, else
``vech(Sigma)``; ``vech`` stacks the lower triangle column by column) from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from surveykit.sem.partable import ParTable

__all__ = ["RAMModel", "GroupIndex", "vech_indices"]


def vech_indices(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of each element of ``vech`` (lower triangle, column by column)."""
    rows, cols = [], []
    for j in range(p):
        for i in range(j, p):
            rows.append(i)
            cols.append(j)
    return np.array(rows, dtype=int), np.array(cols, dtype=int)


@dataclass
class GroupIndex:
    """Index maps of one group: which table rows go where."""

    rows: np.ndarray      # table rows of this group
    kind: np.ndarray      # 0 = A, 1 = S, 2 = m  (per row of this group)
    i: np.ndarray         # matrix row (A, S) or element (m)
    j: np.ndarray         # matrix column (A, S); -1 for m
    p: int
    n: int


class RAMModel:
    """The RAM matrices of a parameter table and everything derived from them."""

    def __init__(self, pt: ParTable):
        self.pt = pt
        self.p = len(pt.ov_names)
        self.m = len(pt.lv_names)
        self.n = self.p + self.m
        names = pt.ov_names + pt.lv_names
        pos = {v: k for k, v in enumerate(names)}
        self.groups: list[GroupIndex] = []
        for g in range(1, pt.ngroups + 1):
            rows = np.flatnonzero(pt.group == g)
            kind, ii, jj = [], [], []
            for r in rows:
                o, a, b = pt.op[r], pt.lhs[r], pt.rhs[r]
                if o == "=~":
                    kind.append(0), ii.append(pos[b]), jj.append(pos[a])
                elif o == "~":
                    kind.append(0), ii.append(pos[a]), jj.append(pos[b])
                elif o == "~~":
                    kind.append(1), ii.append(pos[a]), jj.append(pos[b])
                else:
                    kind.append(2), ii.append(pos[a]), jj.append(-1)
            self.groups.append(GroupIndex(rows, np.array(kind), np.array(ii), np.array(jj),
                                          self.p, self.n))
        self.vech_r, self.vech_c = vech_indices(self.p)
        self.free_rows = np.flatnonzero(pt.free > 0)
        n = self.n
        # flat positions of each row in A, S (both triangles) and m, per group
        self._flat = []
        for gi in self.groups:
            a, s, m = gi.kind == 0, gi.kind == 1, gi.kind == 2
            self._flat.append((gi.rows[a], gi.i[a] * n + gi.j[a],
                               np.concatenate([gi.rows[s], gi.rows[s]]),
                               np.concatenate([gi.i[s] * n + gi.j[s], gi.j[s] * n + gi.i[s]]),
                               gi.rows[m], gi.i[m]))
        # recursive models: A is nilpotent and (I - A)^{-1} = I + A + ... + A^k
        self._depth = []
        for gi in self.groups:
            P = np.zeros((n, n), bool)
            P[gi.i[gi.kind == 0], gi.j[gi.kind == 0]] = True
            k, Q = 0, P.copy()
            while Q.any() and k <= n:
                k += 1
                Q = (Q.astype(int) @ P.astype(int)) > 0
            self._depth.append(k if k <= n else None)  # None: a cycle, use the inverse
        self._eye = np.eye(n)
        self._plans = [self._plan(gi, pt.free[gi.rows] > 0) for gi in self.groups]

    @staticmethod
    def _plan(gi: GroupIndex, sel: np.ndarray):
        kind, i, j = gi.kind[sel], gi.i[sel], gi.j[sel]
        a, s, m = np.flatnonzero(kind == 0), np.flatnonzero(kind == 1), np.flatnonzero(kind == 2)
        diag = np.flatnonzero((kind == 1) & (i == j))
        return (gi.rows[sel], i, a, j[a], s, j[s], diag, m)

    # ------------------------------------------------------------ matrices
    def matrices(self, x: np.ndarray, g: int):
        """``A, S, m`` of group ``g`` (0-based) from the row values ``x``."""
        n = self.n
        ra, fa, rs, fs, rm, fm = self._flat[g]
        A = np.zeros(n * n)
        S = np.zeros(n * n)
        mvec = np.zeros(n)
        A[fa] = x[ra]
        S[fs] = x[rs]
        mvec[fm] = x[rm]
        return A.reshape(n, n), S.reshape(n, n), mvec

    def inverse(self, A: np.ndarray, g: int) -> np.ndarray:
        """``B = (I - A)^{-1}``: a finite series for recursive models, else an inverse."""
        k = self._depth[g]
        if k is None:
            return np.linalg.inv(self._eye - A)
        B = self._eye + A
        P = A
        for _ in range(1, k):
            P = P @ A
            B = B + P
        return B

    def implied(self, x: np.ndarray, g: int):
        """Implied ``(Sigma, mu)`` of group ``g``; also ``B`` and ``C = B S B'``."""
        A, S, mvec = self.matrices(x, g)
        B = self.inverse(A, g)
        C = B @ S @ B.T
        p = self.p
        return C[:p, :p], (B @ mvec)[:p], B, C, mvec

    def lisrel(self, x: np.ndarray, g: int) -> dict[str, np.ndarray]:
        """lavaan's LISREL blocks of group ``g``: lambda, theta, psi, beta, nu, alpha.

        Observed variables involved in regressions appear as in lavaan's
        ``lavInspect(fit, "est")`` only when they are indicators; otherwise the
        blocks are those of the RAM form (observed-to-observed paths stay in
        ``A``).
        """
        A, S, mvec = self.matrices(x, g)
        p = self.p
        return {"lambda": A[:p, p:], "theta": S[:p, :p], "psi": S[p:, p:], "beta": A[p:, p:],
                "nu": mvec[:p], "alpha": mvec[p:]}

    # --------------------------------------------------------- derivatives
    def row_derivatives(self, x: np.ndarray, g: int, rows_mask: np.ndarray | None = None):
        """Rank-two factors of dSigma and dmu for the rows of group ``g``.

        Returns ``(Sigma, mu, U, V, M, rows)``: for table row ``rows[k]``,
        ``dSigma = U[:, k] V[:, k]' + V[:, k] U[:, k]'`` and ``dmu = M[:, k]``.
        Only rows with ``rows_mask`` true (default: free rows) are returned.
        """
        if rows_mask is None:
            rows, i, a, ja, si, js, diag, mm = self._plans[g]
        else:
            gi = self.groups[g]
            rows, i, a, ja, si, js, diag, mm = self._plan(gi, rows_mask[gi.rows])
        B, C, nu_all, U, V, M = self.factors(x, g, (i, a, ja, si, js, diag, mm))
        p = self.p
        return C[:p, :p], nu_all[:p], U, V, M, rows

    def factors(self, x: np.ndarray, g: int, plan: tuple):
        """``(B, C, nu, U, V, M)`` of group ``g`` for a row plan ``(i, a, ja, si, js, diag, mm)``.

        ``B = (I - A)^-1``, ``C = B S B'`` and ``nu = B m`` over all variables, with the
        rank-two factors of :meth:`row_derivatives`; the analytic Hessian reuses them.
        """
        i, a, ja, si, js, diag, mm = plan
        A, S, mvec = self.matrices(x, g)
        B = self.inverse(A, g)
        C = B @ S @ B.T
        p = self.p
        G = B[:p]
        nu_all = B @ mvec
        U = G[:, i]
        V = np.empty_like(U)
        V[:, a] = C[ja, :p].T
        V[:, si] = G[:, js]
        V[:, diag] *= 0.5
        M = np.zeros_like(U)
        M[:, a] = U[:, a] * nu_all[ja]
        if mm.size:
            M[:, mm] = U[:, mm]
            U[:, mm] = 0.0
            V[:, mm] = 0.0
        return B, C, nu_all, U, V, M

    def delta(self, x: np.ndarray, g: int, free_map: np.ndarray) -> np.ndarray:
        """lavaan's ``Delta`` of group ``g``: d[mu, vech(Sigma)] / d theta.

        ``free_map`` (table rows x parameters) maps row derivatives to the
        parameters (a row's column is 1 where the row takes that parameter;
        equality constraints through labels sum rows).
        """
        Sigma, mu, U, V, M, rows = self.row_derivatives(x, g)
        r, c = self.vech_r, self.vech_c
        dvech = U[r] * V[c] + V[r] * U[c]
        d = np.vstack([M, dvech]) if self.pt.meanstructure else dvech
        return d @ free_map[rows]
