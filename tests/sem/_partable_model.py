"""A minimal RAM model built from a lavaan parameter table, for testing moment-level code.

The robust, FIML and bootstrap modules only need implied moments and their
Jacobian (:class:`surveykit.sem.robust.MomentModel`).  This helper builds them
from the parameter table lavaan printed (``tests/sem/results/lavaan_reference.json``):
rows with a zero standard error are fixed, rows sharing a label share one
free parameter.  It lets those modules be checked against lavaan at lavaan's
own estimates, independently of surveykit's estimator.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from surveykit.sem.robust import vech_indices

HERE = Path(__file__).parent
REFERENCE = HERE / "results" / "lavaan_reference.json"
DATA = HERE / "data"


@cache
def reference() -> dict:
    return json.loads(REFERENCE.read_text(encoding="utf-8"))


def case(name: str) -> dict:
    return reference()["cases"][name]


def table(name: str, key: str = "estimates") -> pd.DataFrame:
    return pd.DataFrame(case(name)[key])


def dataset(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / f"{name}.csv")


class PartableModel:
    """RAM representation ``Sigma = F (I-A)^{-1} S (I-A)^{-T} F'`` of a lavaan parameter table."""

    def __init__(self, est: pd.DataFrame, observed: list[str], *, meanstructure: bool,
                 free_rule=None):
        est = est[est["op"].isin(["=~", "~", "~~", "~1"])].copy()
        if "group" not in est:
            est["group"] = 1
        est["group"] = est["group"].fillna(1).astype(int)
        self.meanstructure = meanstructure
        self.groups = sorted(est["group"].unique())
        lv = list(dict.fromkeys(est.loc[est["op"] == "=~", "lhs"]))
        self.ov = [v for v in observed]
        self.vars = self.ov + lv
        self.nv, self.p = len(self.vars), len(self.ov)
        pos = {v: i for i, v in enumerate(self.vars)}
        free = (est["se"].fillna(0).abs() > 0) if free_rule is None else free_rule(est)
        keys: dict[str, int] = {}
        entries = []  # (group, matrix, i, j, param index or None, value)
        for (_, r), fr in zip(est.iterrows(), free, strict=True):
            label = r.get("label") or ""
            if fr:
                key = label if label else f"{r['lhs']}{r['op']}{r['rhs']}#{r['group']}"
                k = keys.setdefault(key, len(keys))
            else:
                k = None
            if r["op"] == "=~":
                entries.append((r["group"], "A", pos[r["rhs"]], pos[r["lhs"]], k, r["est"]))
            elif r["op"] == "~":
                entries.append((r["group"], "A", pos[r["lhs"]], pos[r["rhs"]], k, r["est"]))
            elif r["op"] == "~~":
                entries.append((r["group"], "S", pos[r["lhs"]], pos[r["rhs"]], k, r["est"]))
            else:
                entries.append((r["group"], "M", pos[r["lhs"]], 0, k, r["est"]))
        self.entries = entries
        self.rows = est.reset_index(drop=True)
        self.row_param = np.array([-1 if e[4] is None else e[4] for e in entries])
        self.q = len(keys)
        x = np.zeros(self.q)
        for _, _, _, _, k, v in entries:
            if k is not None:
                x[k] = v
        self.x = x
        self.ceq = np.zeros((0, self.q))

    def _matrices(self, x, g):
        A = np.zeros((self.nv, self.nv))
        S = np.zeros((self.nv, self.nv))
        M = np.zeros(self.nv)
        for gg, mat, i, j, k, v in self.entries:
            if gg != g:
                continue
            val = x[k] if k is not None else v
            if mat == "A":
                A[i, j] = val
            elif mat == "S":
                S[i, j] = S[j, i] = val
            else:
                M[i] = val
        return A, S, M

    def implied(self, x):
        out = []
        for g in self.groups:
            A, S, M = self._matrices(x, g)
            B = np.linalg.inv(np.eye(self.nv) - A)
            full = B @ S @ B.T
            mu = (B @ M)[: self.p] if self.meanstructure else None
            out.append((full[: self.p, : self.p], mu))
        return out

    def jacobian(self, x):
        rows, cols = vech_indices(self.p)
        out = []
        for g in self.groups:
            A, S, M = self._matrices(x, g)
            B = np.linalg.inv(np.eye(self.nv) - A)
            full = B @ S @ B.T
            m = B @ M
            k0 = self.p if self.meanstructure else 0
            D = np.zeros((k0 + rows.size, self.q))
            for gg, mat, i, j, k, _ in self.entries:
                if gg != g or k is None:
                    continue
                if mat == "A":
                    E = np.zeros((self.nv, self.nv))
                    E[i, j] = 1.0
                    BE = B @ E
                    dfull = BE @ full + full @ BE.T
                    dm = BE @ m
                elif mat == "S":
                    E = np.zeros((self.nv, self.nv))
                    E[i, j] = E[j, i] = 1.0
                    dfull = B @ E @ B.T
                    dm = np.zeros(self.nv)
                else:
                    dfull = np.zeros((self.nv, self.nv))
                    dm = B[:, i]
                D[k0:, k] += dfull[rows, cols]
                if self.meanstructure:
                    D[:k0, k] += dm[: self.p]
            out.append(D)
        return out


class MLRefit:
    """Picklable bootstrap statistic: ML refit of a :class:`PartableModel`, free parameters + defined."""

    def __init__(self, model: PartableModel, defined=None):
        self.model = model
        self.defined = defined  # callable x -> array of defined values, or None

    def __call__(self, groups):
        from scipy.optimize import minimize

        from surveykit.sem.robust import _group_stats, _ml_gradient

        m = self.model
        stats = [_group_stats(np.asarray(X, dtype=float)) for X in groups]
        ns = np.array([X.shape[0] for X in groups], dtype=float)
        w = ns / ns.sum()
        grad = _ml_gradient(m, stats, w)

        def f(x):
            out = 0.0
            for (sigma, mu), (ybar, S), wg in zip(m.implied(x), stats, w, strict=True):
                sign, ld = np.linalg.slogdet(sigma)
                if sign <= 0:
                    return np.inf
                val = ld + np.trace(np.linalg.solve(sigma, S)) - np.linalg.slogdet(S)[1] - S.shape[0]
                if m.meanstructure:
                    d = ybar - mu
                    val += d @ np.linalg.solve(sigma, d)
                out += wg * 0.5 * val
            return out

        res = minimize(f, m.x, jac=grad, method="BFGS", options={"gtol": 1e-11, "maxiter": 2000})
        x = res.x
        if self.defined is None:
            return x
        return np.concatenate([x, np.atleast_1d(self.defined(x))])


def blas_thread_settings(groups):
    """Bootstrap statistic reporting the BLAS thread variables of the process it runs in."""
    import os

    return np.array([float(os.environ.get(k, "nan")) for k in
                     ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")] + [os.getpid()])
