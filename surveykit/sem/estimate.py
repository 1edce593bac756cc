"""Maximum likelihood estimation: discrepancy, gradient, expected information, Fisher scoring.

The ML discrepancy of group g (lavaan's ``likelihood = "normal"``: ``S`` has
divisor ``N_g``) is

    F_g = log|Sigma| - log|S| + tr(S Sigma^{-1}) - p + (ybar - mu)' Sigma^{-1} (ybar - mu)

and the fit function is ``F = sum_g (N_g / N) F_g``; lavaan's ``fmin`` is
``F / 2`` and the chi-square statistic ``N F``.  The unit expected information
of group g is

    I_g = Delta_g' W_g Delta_g,  W_g = blockdiag(Sigma^{-1}, D'(Sigma^{-1} x Sigma^{-1})D / 2)

evaluated at the model-implied moments (lavaan: ``information = "expected"``,
``h1.information = "structured"``), and the covariance matrix of the
estimates is ``(sum_g N_g I_g)^{-1}`` (restricted to the null space of the
equality constraints).  Fisher scoring iterates
``theta <- theta - (2 sum_g w_g I_g)^{-1} grad F`` with step halving; once the
fit function changes little, Newton steps with the analytic Hessian
(:mod:`surveykit.sem.hessian`) take over and converge quadratically.  Linear ``==`` constraints are a reparameterisation;
nonlinear ``==`` and ``<``/``>`` constraints are handled by SLSQP followed by
Newton steps on the KKT system.

Internals for other modules (robust standard errors, bootstrap, FIML)
----------------------------------------------------------------------
:class:`SampleStats`
    per group ``n``, ``mean``, ``cov`` (divisor N), ``data`` (the casewise
    ``N_g x p`` array in ``ov_names`` order) and ``logdet``.
:class:`MLEngine`
    ``engine = MLEngine(partable, stats)``; ``engine.q`` free parameters;
    ``engine.x_of(theta)`` table-row values; ``engine.evaluate(theta)`` ->
    ``(F, grad, info_by_group)``; ``engine.fit(start=None)`` -> :class:`Solution`;
    ``engine.vcov(theta)``; ``engine.delta(theta)`` -> list of per-group Delta
    (``d[mu, vech(Sigma)]/d theta``, see :mod:`surveykit.sem.model`);
    ``engine.implied(theta)`` -> list of ``(Sigma, mu)``;
    ``engine.with_stats(stats)`` -> the same model on other data (the cheap
    refit used by the bootstrap: ``engine.with_stats(s).fit(start=theta_hat)``);
    ``engine.constraint_basis`` -> ``(theta0, N)`` of linear ``==`` constraints
    (``N`` is the identity without constraints; with nonlinear ``==``
    constraints, after :meth:`MLEngine.fit`, the tangent space of the
    constraints at the solution); ``engine.ceq`` the orthonormal rows of the
    (linearised) constraints; ``engine.npar`` lavaan's ``npar``;
    ``engine.defined(theta)`` and ``engine.defined_jacobian(theta)`` for
    ``:=`` parameters; everything uses analytic gradients and the
    expected information; ``engine.moment_gradient(theta, [(dSigma, dmu)])``
    maps derivatives with respect to the implied moments to ``theta``
    (``Delta' d`` without forming ``Delta``; FIML uses it).
:class:`RefitSolver`
    ``RefitSolver(engine, theta).fit(groups)``: the ML estimate on resampled
    per-group arrays by BFGS from ``theta`` (the bootstrap's inner loop for
    large models), ``None`` when it does not settle.
:class:`EngineMoments`
    ``EngineMoments(engine, theta)``: ``x``, ``meanstructure``, ``ceq``,
    ``implied(x)``, ``jacobian(x)`` (the ``MomentModel`` protocol of
    :mod:`surveykit.sem.robust`).
:func:`blas_single_thread`
    context manager limiting BLAS to one thread.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from scipy.linalg.blas import dger as _dger
from scipy.linalg.lapack import dposv as _dposv
from scipy.linalg.lapack import dpotrf as _dpotrf
from scipy.linalg.lapack import dpotri as _dpotri

from surveykit.errors import NotPositiveDefiniteWarning
from surveykit.sem.constraints import Expression, jacobian, linear_constraints
from surveykit.sem.model import RAMModel
from surveykit.sem.partable import ParTable

__all__ = ["SampleStats", "MLEngine", "Solution", "RefitSolver", "sample_stats", "blas_single_thread"]

_BLAS = None


@contextmanager
def blas_single_thread(active: bool = True):
    """Run the block with one BLAS thread (when ``threadpoolctl`` is installed).

    The matrices of an SEM are small: a multi-threaded BLAS gains nothing on
    them and, on a busy machine, its spinning threads slow a multigroup fit
    of a 55-indicator model down 50-fold (measured: 0.1 s vs 8.7 s on 2 cores).
    """
    global _BLAS
    if not active:
        yield
        return
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        yield
        return
    if _BLAS is None:
        _BLAS = ThreadpoolController()
    with _BLAS.limit(limits=1, user_api="blas"):
        yield


@dataclass(frozen=True)
class SampleStats:
    n: tuple[int, ...]
    mean: tuple[np.ndarray, ...]
    cov: tuple[np.ndarray, ...]
    data: tuple[np.ndarray, ...]
    logdet: tuple[float, ...]

    @property
    def ntotal(self) -> int:
        return int(sum(self.n))


def sample_stats(arrays) -> SampleStats:
    """Sample moments (divisor N) of a list of per-group ``N_g x p`` arrays."""
    n, mean, cov, logdet = [], [], [], []
    for y in arrays:
        y = np.asarray(y, dtype=float)
        mu = y.mean(axis=0)
        c = y - mu
        s = c.T @ c / y.shape[0]
        sign, ld = np.linalg.slogdet(s)
        if sign <= 0:
            warnings.warn("the sample covariance matrix is not positive definite; "
                          "fit measures that need log|S| are not available.",
                          NotPositiveDefiniteWarning, stacklevel=3)
            ld = np.nan
        n.append(y.shape[0]), mean.append(mu), cov.append(s), logdet.append(ld)
    return SampleStats(tuple(n), tuple(mean), tuple(cov), tuple(np.asarray(a, float) for a in arrays),
                       tuple(logdet))


@dataclass(frozen=True)
class Solution:
    theta: np.ndarray
    fmin: float          # lavaan's fmin = F / 2
    iterations: int
    converged: bool


class MLEngine:
    """ML estimation of one parameter table on one set of sample statistics."""

    def __init__(self, pt: ParTable, stats: SampleStats, *, _shared=None):
        self.pt = pt
        self.stats = stats
        if _shared is None:
            self.model = RAMModel(pt)
            q = pt.nfree
            K = np.zeros((pt.nrow, q))
            fr = np.flatnonzero(pt.free > 0)
            K[fr, pt.free[fr] - 1] = 1.0
            self.q, self.K = q, K
            self.free_rows = fr
            self.free_col = pt.free[fr] - 1
            self._labels = self._label_rows()
            self._defined = [(name, Expression(expr, line)) for name, expr, line in pt.defined]
            self.constraint_basis = self._constraints()
            self._group_K = [K[gi.rows[pt.free[gi.rows] > 0]] for gi in self.model.groups]
            self._group_cols = []
            for gi in self.model.groups:
                cols = pt.free[gi.rows][pt.free[gi.rows] > 0] - 1
                self._group_cols.append(cols if len(set(cols)) == len(cols) else None)
        else:
            (self.model, self.q, self.K, self.free_rows, self.free_col, self._labels,
             self._defined, self.constraint_basis, self._group_K, self.ceq,
             self._group_cols, self._nonlinear, self._ineq, self.eq_rank) = _shared
        self.base = self._base_values()
        n = np.asarray(stats.n, float)
        self.weights = n / n.sum()

    def __reduce__(self):
        # the constraint functions are closures: rebuild the engine from its table
        # and statistics, then restore what a (nonlinear) fit left behind
        return (_restore_engine, (self.pt, self.stats, self.constraint_basis, self.ceq,
                                  self.eq_rank))

    def _shared_parts(self):
        return (self.model, self.q, self.K, self.free_rows, self.free_col, self._labels,
                self._defined, self.constraint_basis, self._group_K, self.ceq,
                self._group_cols, self._nonlinear, self._ineq, self.eq_rank)

    def with_stats(self, stats: SampleStats) -> MLEngine:
        """The same model on other sample statistics (no re-analysis of the syntax)."""
        return MLEngine(self.pt, stats, _shared=self._shared_parts())

    # ------------------------------------------------------------ values
    def _base_values(self) -> np.ndarray:
        pt = self.pt
        x = np.where(np.isnan(pt.ustart), 0.0, pt.ustart)
        x[pt.free > 0] = 0.0
        if pt.ov_x:
            pos = {v: k for k, v in enumerate(pt.ov_names)}
            for r in np.flatnonzero(pt.exo == 1):
                g = pt.group[r] - 1
                if pt.op[r] == "~~":
                    x[r] = self.stats.cov[g][pos[pt.lhs[r]], pos[pt.rhs[r]]]
                elif pt.op[r] == "~1":
                    x[r] = self.stats.mean[g][pos[pt.lhs[r]]]
        return x

    def x_of(self, theta: np.ndarray) -> np.ndarray:
        x = self.base.copy()
        x[self.free_rows] = theta[self.free_col]
        return x

    def _label_rows(self) -> dict[str, int]:
        pt = self.pt
        out: dict[str, int] = {}
        for r in range(pt.nrow):
            if pt.label[r] and pt.label[r] not in out:
                out[pt.label[r]] = r
            out.setdefault(pt.plabel[r], r)
        return out

    def _values(self, x: np.ndarray) -> dict:
        vals = {lab: x[r] for lab, r in self._labels.items()}
        for name, expr in self._defined:
            vals[name] = expr.evaluate(vals)
        return vals

    def _check_names(self, expr: Expression, known: set[str]) -> None:
        from surveykit.errors import ModelSyntaxError
        for name in expr.names:
            if name not in known:
                raise ModelSyntaxError(f"line {expr.line}: '{name}' in '{expr.text}' is not a "
                                       f"parameter label.", line=expr.line)

    def _constraints(self):
        known = set(self._labels)
        for name, expr in self._defined:
            self._check_names(expr, known)
            known.add(name)
        eqs = [(Expression(a, line), Expression(b, line), line) for a, b, line in self.pt.equality]
        ineqs = [(Expression(a, line), o, Expression(b, line), line)
                 for a, o, b, line in self.pt.inequality]
        for a, b, _ in eqs:
            self._check_names(a, known)
            self._check_names(b, known)
        for a, _, b, _ in ineqs:
            self._check_names(a, known)
            self._check_names(b, known)
        q = self.q
        self._nonlinear = None
        self.eq_rank = 0
        pt = self.pt
        self.base_for_constraints = np.where(np.isnan(pt.ustart), 0.0, pt.ustart)

        def values(theta):
            x = self.base_for_constraints.astype(theta.dtype)
            x[self.free_rows] = theta[self.free_col]
            vals = {lab: x[r] for lab, r in self._labels.items()}
            for name, expr in self._defined:
                vals[name] = expr.evaluate(vals)
            return vals

        def g(theta):  # >= 0 when the inequalities hold
            vals = values(theta)
            return np.array([(a.evaluate(vals) - b.evaluate(vals)) * (1 if o == ">" else -1)
                             for a, o, b, _ in ineqs])

        self._ineq = g if ineqs else None
        if not eqs and not ineqs:
            self.ceq = np.zeros((0, q))
            return np.zeros(q), np.eye(q)
        if not eqs:
            self._eq_function = lambda theta: np.zeros(0)
            self._nonlinear = self._eq_function
            self.ceq = np.zeros((0, q))
            return np.zeros(q), np.eye(q)

        def h(theta):
            vals = values(theta)
            return np.array([a.evaluate(vals) - b.evaluate(vals) for a, b, _ in eqs])

        self._eq_function = h
        basis = linear_constraints(h, q, [line for *_, line in eqs])
        if basis is None or ineqs:
            # nonlinear: imposed during estimation; the basis becomes the tangent
            # space of the constraints at the solution (see _fit_nonlinear)
            self._nonlinear = h
            self.ceq = np.zeros((0, q))
            return np.zeros(q), np.eye(q)
        theta0, N, C = basis
        self.ceq = C
        self.eq_rank = C.shape[0]
        return theta0, N

    @property
    def npar(self) -> int:
        """Free parameters less the independent ``==`` constraints (lavaan's ``npar``);
        inequality constraints, active or not, do not count."""
        return self.q - self.eq_rank

    def equality_values(self, theta: np.ndarray) -> np.ndarray:
        """Values of ``lhs - rhs`` of the ``==`` constraints (0 at a solution)."""
        if not self.pt.equality:
            return np.zeros(0)
        return self._eq_function(theta)

    def defined(self, theta: np.ndarray) -> np.ndarray:
        """Values of the ``:=`` parameters, in the order of the syntax."""
        if not self._defined:
            return np.zeros(0)
        vals = self._values(self.x_of(theta))
        return np.array([vals[name] for name, _ in self._defined], dtype=float)

    def defined_values(self, x: np.ndarray) -> np.ndarray:
        """``:=`` values at table-row values ``x`` (used for standardized values)."""
        if not self._defined:
            return np.zeros(0)
        vals = self._values(np.asarray(x, float))
        return np.array([vals[name] for name, _ in self._defined], dtype=float)

    def inequality_at(self, x: np.ndarray) -> np.ndarray:
        """``lhs - rhs`` of the ``<`` / ``>`` constraints at table-row values ``x``."""
        vals = self._values(np.asarray(x, float))
        return np.array([Expression(a, line).evaluate(vals) - Expression(b, line).evaluate(vals)
                         for a, _, b, line in self.pt.inequality], dtype=float)

    def equality_at(self, x: np.ndarray) -> np.ndarray:
        """``lhs - rhs`` of the ``==`` constraints at table-row values ``x``."""
        out = []
        vals = self._values(np.asarray(x, float))
        for a, b, line in self.pt.equality:
            out.append(Expression(a, line).evaluate(vals) - Expression(b, line).evaluate(vals))
        return np.array(out, dtype=float)

    def _defined_any(self, theta):
        x = self.base.astype(theta.dtype)
        x[self.free_rows] = theta[self.free_col]
        vals = self._values(x)
        return np.array([vals[name] for name, _ in self._defined])

    def defined_jacobian(self, theta: np.ndarray) -> np.ndarray:
        if not self._defined:
            return np.zeros((0, self.q))
        return jacobian(self._defined_any, theta)

    # ------------------------------------------------------------ moments
    def implied(self, theta: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        x = self.x_of(theta)
        return [self.model.implied(x, g)[:2] for g in range(len(self.model.groups))]

    def delta(self, theta: np.ndarray) -> list[np.ndarray]:
        x = self.x_of(theta)
        return [self.model.delta(x, g, self.K) for g in range(len(self.model.groups))]

    # ------------------------------------------------------------ ML
    def evaluate(self, theta: np.ndarray, *, derivatives: bool = True, information: bool = True):
        """``(F, grad, [I_g])``: fit function, its gradient, unit expected information per group.

        ``F`` is ``inf`` when an implied covariance matrix is not positive definite.
        """
        x = self.x_of(theta)
        st = self.stats
        ms = self.pt.meanstructure
        F = 0.0
        grad = np.zeros(self.q)
        infos = []
        for g in range(len(self.model.groups)):
            if derivatives:
                Sigma, mu, U, V, M, rows = self.model.row_derivatives(x, g)
            else:
                Sigma, mu = self.model.implied(x, g)[:2]
            chol, info_ = _dpotrf(Sigma, lower=False)
            if info_ != 0:
                return np.inf, None, None
            inv, info_ = _dpotri(chol, lower=False)
            Sinv = inv + inv.T  # dpotri fills the upper triangle; the lower one is 0
            Sinv.flat[:: Sinv.shape[0] + 1] *= 0.5
            S = st.cov[g]
            p = S.shape[0]
            logdet = 2.0 * np.log(chol.diagonal()).sum()
            Fg = logdet - st.logdet[g] + (S * Sinv).sum() - p
            if ms:
                d = st.mean[g] - mu
                Sd = Sinv @ d
                Fg += d @ Sd
            F += self.weights[g] * Fg
            if not derivatives:
                continue
            Sstar = S + np.outer(d, d) if ms else S
            R = Sinv - Sinv @ Sstar @ Sinv
            gr = 2.0 * (V * (R @ U)).sum(axis=0)
            if ms:
                gr -= 2.0 * (Sd @ M)
            if information:
                SU, SV = Sinv @ U, Sinv @ V
                Mvu = V.T @ SU
                info = Mvu * Mvu.T + (U.T @ SU) * (V.T @ SV)
                if ms:
                    info += M.T @ (Sinv @ M)
            else:
                info = None
            cols = self._group_cols[g]
            if cols is None:
                Kg = self._group_K[g]
                grad += self.weights[g] * (gr @ Kg)
                if info is not None:
                    infos.append(Kg.T @ info @ Kg)
            else:
                # rows of this group take distinct parameters: scatter, no products
                grad[cols] += self.weights[g] * gr
                if info is not None:
                    Ig = np.zeros((self.q, self.q))
                    Ig[np.ix_(cols, cols)] = info
                    infos.append(Ig)
        if not information:
            infos = None
        return F, grad, infos

    def moment_gradient(self, theta: np.ndarray, derivatives) -> np.ndarray:
        """Gradient over ``theta`` of a function of the implied moments.

        ``derivatives`` holds per group ``(dSigma, dmu)``, the function's
        derivatives with respect to the implied moments in the sense
        ``df = sum_g tr(dSigma_g dSigma) + dmu_g' dmu`` (``dSigma_g`` symmetric,
        ``dmu_g`` ``None`` without a mean structure).  This is ``Delta' d`` without
        forming ``Delta``:

            df/dA = 2 G' dSigma_g C_p + G' dmu_g nu',   df/dS = G' dSigma_g G,   df/dm = G' dmu_g

        with ``G = F B``, ``C_p`` the observed rows of ``C = B S B'`` and ``nu = B m``
        (each at the free elements; off-diagonal ``S`` elements count twice).
        """
        model = self.model
        p, n = model.p, model.n
        plans = self.__dict__.get("_chain_plans")
        if plans is None:
            plans = []
            pt = self.pt
            for gi in model.groups:
                fr = pt.free[gi.rows] > 0
                kind, i, j = gi.kind[fr], gi.i[fr], gi.j[fr]
                cols = pt.free[gi.rows][fr] - 1
                a, s_, m = kind == 0, kind == 1, kind == 2
                plans.append((i[a], j[a], np.concatenate([cols[a], cols[s_], cols[m]]),
                              i[a] * n + j[a], i[s_] * n + j[s_],
                              np.where(i[s_] == j[s_], 1.0, 2.0), i[m]))
            self._chain_plans = plans
        x = self.x_of(theta)
        grad = np.zeros(self.q)
        for g, ((ai, aj, cols, aflat, sflat, sfac, mi), (dS, dm)) in enumerate(
                zip(plans, derivatives, strict=True)):
            A, S, mvec = model.matrices(x, g)
            B = model.inverse(A, g)
            G = B[:p]
            GR = G.T @ dS
            ga = 2.0 * (GR @ (G @ S @ B.T)).ravel().take(aflat)
            gs = sfac * (GR @ G).ravel().take(sflat)
            if dm is not None:
                Gd = G.T @ dm
                ga = ga + Gd[ai] * (B @ mvec)[aj]
                gm = Gd[mi]
            else:
                gm = np.zeros(mi.size)
            grad += np.bincount(cols, weights=np.concatenate([ga, gs, gm]), minlength=self.q)
        return grad

    def hessian(self, theta: np.ndarray) -> np.ndarray:
        """Hessian of ``F`` (analytic, :mod:`surveykit.sem.hessian`)."""
        from surveykit.sem.hessian import group_hessian
        x = self.x_of(theta)
        H = np.zeros((self.q, self.q))
        for g in range(len(self.model.groups)):
            Hg, rows = group_hessian(self.model, x, g, self.stats.mean[g], self.stats.cov[g],
                                     self.pt.meanstructure)
            cols = self._group_cols[g]
            if cols is None:
                K = self._group_K[g]
                H += self.weights[g] * (K.T @ Hg @ K)
            else:
                H[np.ix_(cols, cols)] += self.weights[g] * Hg
        return H

    def start(self) -> np.ndarray:
        """Starting values; user ``start()`` values first.

        Loadings and factor variances of factors measured by observed
        indicators come from the sample covariances (a FABIN-like rule:
        ``lambda_j = mean_k s_jk / mean_k s_mk`` against the marker ``m``,
        ``psi = mean_{j<k} s_jk / (lambda_j lambda_k)``); residual variances
        are half the observed variances and everything else is 0, as in
        lavaan's ``"simple"`` rule.  Starting values only affect the path to
        the optimum.
        """
        pt = self.pt
        pos = {v: k for k, v in enumerate(pt.ov_names)}
        lv = set(pt.lv_names)
        x = np.where(np.isnan(pt.ustart), 0.0, pt.ustart)
        lam, psi = self._factor_starts()
        for r in self.free_rows:
            g = pt.group[r] - 1
            o, a, b = pt.op[r], pt.lhs[r], pt.rhs[r]
            if not np.isnan(pt.ustart[r]):
                continue
            if o == "=~":
                x[r] = lam.get((g, a, b), 1.0)
            elif o == "~~" and a == b:
                if a in lv:
                    x[r] = psi.get((g, a), 0.05)
                else:
                    x[r] = 0.5 * self.stats.cov[g][pos[a], pos[a]]
            elif o == "~1" and a not in lv:
                x[r] = self.stats.mean[g][pos[a]]
            else:
                x[r] = 0.0
        theta = np.zeros(self.q)
        theta[self.free_col[::-1]] = x[self.free_rows[::-1]]  # first row of a shared parameter wins
        return self.project(theta)

    def _factor_starts(self):
        pt = self.pt
        pos = {v: k for k, v in enumerate(pt.ov_names)}
        lam: dict = {}
        psi: dict = {}
        by_factor: dict = {}
        for i in range(pt.nrow):
            if pt.op[i] == "=~":
                by_factor.setdefault((int(pt.group[i]) - 1, pt.lhs[i]), []).append(i)
        for g in range(pt.ngroups):
            S = self.stats.cov[g]
            for f in pt.lv_names:
                rows = by_factor.get((g, f), [])
                if len(rows) < 3 or any(pt.rhs[i] not in pos for i in rows):
                    continue
                idx = [pos[pt.rhs[i]] for i in rows]
                fixed = [k for k, i in enumerate(rows) if pt.free[i] == 0 and pt.ustart[i] != 0]
                sub = S[np.ix_(idx, idx)]
                off = sub - np.diag(np.diag(sub))
                mean_cov = off.sum(axis=1) / (len(idx) - 1)
                if fixed:
                    m = fixed[0]
                    if mean_cov[m] <= 0:
                        continue
                    lam_f = mean_cov / mean_cov[m] * pt.ustart[rows[m]]
                else:  # std.lv: loadings carry the scale
                    lam_f = np.sqrt(np.clip(np.abs(mean_cov), 1e-8, None))
                pairs = np.outer(lam_f, lam_f)
                np.fill_diagonal(pairs, np.nan)
                ps = np.nanmean(off / pairs + np.diag(np.full(len(idx), np.nan)))
                if not np.isfinite(ps) or ps <= 0:
                    continue
                if not fixed:
                    lam_f, ps = lam_f * np.sqrt(ps), 1.0
                for k, i in enumerate(rows):
                    lam[(g, f, pt.rhs[i])] = float(lam_f[k])
                psi[(g, f)] = float(ps)
        return lam, psi

    def project(self, theta: np.ndarray) -> np.ndarray:
        theta0, N = self.constraint_basis
        if N.shape[1] == self.q:
            return theta
        return theta0 + N @ (N.T @ (theta - theta0))

    def fit(self, start: np.ndarray | None = None, *, max_iter: int = 1000,
            tol: float = 1e-9) -> Solution:
        """Fisher scoring, then Newton steps, with step halving.

        Stops when a step changes no parameter by more than
        ``tol * (1 + max|theta|)`` (the estimates are then exact to about
        ``tol / 10``) or the gradient vanishes.
        """
        if self._nonlinear is not None:
            return self._fit_nonlinear(start, tol=tol)
        theta0, N = self.constraint_basis
        constrained = N.shape[1] != self.q
        theta = self.start() if start is None else self.project(np.asarray(start, float))
        F, grad, infos = self.evaluate(theta)
        if not np.isfinite(F):
            theta = self.start()
            F, grad, infos = self.evaluate(theta)
        converged = False
        it = 0
        # Fisher scoring converges linearly, at a rate set by the misfit; once
        # close, Newton steps with the analytic Hessian converge quadratically
        # (where the Hessian is not positive definite, scoring steps again).
        newton = False
        Hz = None
        w = self.weights
        for it in range(1, max_iter + 1):  # noqa: B007 - the count is reported
            gz = N.T @ grad if constrained else grad
            step = None
            if newton:
                H = self.hessian(theta)
                Hn = N.T @ H @ N if constrained else H
                step, info_ = _dposv(Hn, -gz)[1:]
                if info_ != 0:
                    step = None
                else:
                    Hz = Hn
            if step is None:
                if infos is None:
                    infos = self.evaluate(theta)[2]
                H = 2.0 * w[0] * infos[0]
                for k in range(1, len(infos)):
                    H += 2.0 * w[k] * infos[k]
                Hz = N.T @ H @ N if constrained else H
                step, info_ = _dposv(Hz, -gz)[1:]
                if info_ != 0:
                    step = -np.linalg.lstsq(Hz, gz, rcond=None)[0]
            dtheta = N @ step if constrained else step
            t = 1.0
            for _ in range(40):
                cand = theta + t * dtheta
                Fc, gc, ic = self.evaluate(cand, information=not newton)
                if np.isfinite(Fc) and Fc <= F + 1e-12 * max(1.0, abs(F)):
                    break
                t *= 0.5
            else:
                break
            small = np.abs(t * dtheta).max() <= tol * (1.0 + np.abs(theta).max())
            if not newton and F - Fc < 1e-3 * max(F, 1e-8) and t == 1.0:
                newton = True
            theta, F, grad, infos = cand, Fc, gc, ic
            if small or np.abs(N.T @ grad if constrained else grad).max() < 1e-13:
                converged = True
                break
        if not converged:
            better = self._fallback(theta)
            if better is not None:
                theta, converged = better, True
                F = self.evaluate(theta, derivatives=False)[0]
        return Solution(theta=theta, fmin=0.5 * F, iterations=it, converged=bool(converged))

    def _fit_nonlinear(self, start, *, tol: float) -> Solution:
        """Nonlinear ``==`` and any ``<`` / ``>`` constraints: SLSQP, then KKT Newton steps.

        Inequalities active at the SLSQP solution are kept as equalities
        (inactive ones are dropped), as lavaan treats them for the standard
        errors.

        The KKT steps use the Fisher scoring matrix, ``[[H, J'], [J, 0]] [d, l] =
        [-g, -h]`` with ``J`` the constraint Jacobian; at the solution the
        constraint basis becomes the tangent space of the constraints (null
        space of ``J``), which gives the standard errors lavaan computes from
        its bordered information matrix.
        """
        from scipy.optimize import minimize

        h = self._nonlinear
        q = self.q
        theta = self.start() if start is None else np.asarray(start, float)

        def fun(t):
            F, g, _ = self.evaluate(t, information=False)
            if not np.isfinite(F):
                return 1e10, np.zeros(q)
            return F, g

        cons = []
        if h(theta).size:
            cons.append({"type": "eq", "fun": h, "jac": lambda t: jacobian(h, t)})
        g = self._ineq
        if g is not None:
            cons.append({"type": "ineq", "fun": g, "jac": lambda t: jacobian(g, t)})
        res = minimize(fun, theta, jac=True, method="SLSQP", constraints=cons,
                       options={"ftol": 1e-14, "maxiter": 1000})
        theta = res.x
        if g is not None:
            # active inequalities act as equalities from here on (lavaan does the same
            # for the standard errors); inactive ones are dropped
            active = np.flatnonzero(g(theta) < 1e-7)
            h_eq = h

            def h(t, h_eq=h_eq, active=active):
                return np.concatenate([h_eq(t), g(t)[active]])
        converged = False
        it = int(res.nit)
        for _ in range(200):
            F, gr, infos = self.evaluate(theta)
            if not np.isfinite(F):
                break
            H = 2.0 * sum(w * info for w, info in zip(self.weights, infos, strict=True))
            hv = h(theta)
            if hv.size:
                J = jacobian(h, theta)
                m = J.shape[0]
                K = np.block([[H, J.T], [J, np.zeros((m, m))]])
                d = np.linalg.lstsq(K, -np.concatenate([gr, hv]), rcond=None)[0][:q]
            else:
                d = np.linalg.solve(H, -gr)
            theta = theta + d
            it += 1
            if np.abs(d).max() <= tol * (1.0 + np.abs(theta).max()):
                converged = True
                break
        if g is not None and np.any(g(theta) < -1e-8):
            converged = False
        F = self.evaluate(theta, derivatives=False)[0]
        if self._eq_function(theta).size:
            Je = jacobian(self._eq_function, theta)
            sv = np.linalg.svd(Je, compute_uv=False)
            self.eq_rank = int(np.sum(sv > 1e-10 * max(1.0, sv.max(initial=0))))
        if h(theta).size:
            J = jacobian(h, theta)
            u, s, vt = np.linalg.svd(J)
            rank = int(np.sum(s > 1e-10 * max(1.0, s.max(initial=0))))
            self.constraint_basis = (theta.copy(), vt[rank:].T)
            self.ceq = vt[:rank]
            converged = converged and bool(np.abs(h(theta)).max() < 1e-8)
        else:
            self.constraint_basis = (np.zeros(q), np.eye(q))
            self.ceq = np.zeros((0, q))
        return Solution(theta=theta, fmin=0.5 * F, iterations=it, converged=converged)

    def _fallback(self, theta):
        """BFGS on the constrained parameters when Fisher scoring stalls."""
        from scipy.optimize import minimize
        theta0, N = self.constraint_basis

        def fun(z):
            F, g, _ = self.evaluate(theta0 + N @ z)
            if not np.isfinite(F):
                return 1e10, np.zeros_like(z)
            return F, N.T @ g

        z0 = N.T @ (theta - theta0)
        res = minimize(fun, z0, jac=True, method="BFGS", options={"gtol": 1e-10, "maxiter": 5000})
        F, g, _ = self.evaluate(theta0 + N @ res.x)
        if np.isfinite(F) and np.max(np.abs(N.T @ g)) < 1e-6:
            return theta0 + N @ res.x
        return None

    def information(self, theta: np.ndarray) -> np.ndarray:
        """Total expected information ``sum_g N_g I_g`` (parameters theta)."""
        _, _, infos = self.evaluate(theta)
        return sum(n * info for n, info in zip(self.stats.n, infos, strict=True))

    def vcov(self, theta: np.ndarray) -> np.ndarray:
        """Covariance matrix of the estimates from the expected information."""
        _, N = self.constraint_basis
        info = self.information(theta)
        Iz = N.T @ info @ N
        eig = np.linalg.eigvalsh(Iz)
        if eig.min(initial=1.0) <= 1e-10 * max(1.0, eig.max(initial=1.0)):
            warnings.warn("the information matrix is not positive definite: the model may not "
                          "be identified, standard errors are unreliable.",
                          NotPositiveDefiniteWarning, stacklevel=3)
            inv = np.linalg.pinv(Iz)
        else:
            inv = np.linalg.inv(Iz)
        return N @ inv @ N.T




class RefitSolver:
    """Fast refits of one model to resampled data (the bootstrap's inner loop).

    Every refit starts at the full-sample estimate and runs BFGS with the
    inverse of the full-sample expected information ``2 sum_g w_g I_g`` as
    the initial Hessian approximation (computed and inverted once for all
    refits; it depends on the parameters only).  BFGS is used instead of
    Fisher scoring or Newton steps because a resample can move the curvature
    of weakly determined parameters a lot while the update learns the few
    directions that matter within a handful of gradients; each iteration
    costs one gradient, computed from the model matrices directly,

        dF/dA = 2 G' R C_p - 2 G' Sigma^{-1} d nu',   dF/dS = G' R G,   dF/dm = -2 G' Sigma^{-1} d

    (``G = F B``, ``C_p`` the observed rows of ``C = B S B'``, ``R`` and ``d``
    as in :mod:`surveykit.sem.hessian`), only at the free elements (of
    ``C_p`` only the columns of the factors and predictors with free paths).
    The stopping rule is that of :meth:`MLEngine.fit` at a tolerance of 1e-8.
    :meth:`fit` returns ``None`` when the iterations do not settle (the
    caller then runs :meth:`MLEngine.fit`); models with nonlinear or
    inequality constraints or fixed exogenous covariates are not handled
    (:attr:`usable` is false).

    Parameters
    ----------
    engine : MLEngine
        The engine fitted to the full sample.
    theta : ndarray
        Its estimate, the start of every refit.
    """

    def __init__(self, engine: MLEngine, theta: np.ndarray, H0inv: np.ndarray | None = None):
        self.engine = engine
        self.theta = np.asarray(theta, float)
        pt = engine.pt
        self.usable = engine._nonlinear is None and not pt.ov_x
        if not self.usable:
            return
        theta0, N = engine.constraint_basis
        self.N = None if N.shape[1] == engine.q else N
        if H0inv is None:
            _, _, infos = engine.evaluate(self.theta)
            if infos is None:
                self.usable = False
                return
            H = 2.0 * sum(w * info for w, info in zip(engine.weights, infos, strict=True))
            Hz = H if self.N is None else N.T @ H @ N
            chol, info = _dpotrf(Hz, lower=False)
            if info != 0:
                self.usable = False
                return
            inv = _dpotri(chol, lower=False)[0]
            H0inv = np.triu(inv) + np.triu(inv, 1).T
        #: inverse of the initial Hessian approximation (pass it on to rebuild
        #: the solver elsewhere with bit-identical refits)
        self.H0inv = H0inv
        model = engine.model
        n, p = model.n, model.p
        self.groups = []
        for g, gi in enumerate(model.groups):
            fr = pt.free[gi.rows] > 0
            kind, i, j = gi.kind[fr], gi.i[fr], gi.j[fr]
            cols = pt.free[gi.rows][fr] - 1
            a, s, m = kind == 0, kind == 1, kind == 2
            sfac = np.where(i[s] == j[s], 1.0, 2.0)
            uj, ajk = np.unique(j[a], return_inverse=True)
            # no path starts at an observed variable (free or fixed): B is
            # [[I, Lambda (I - Beta)^-1], [0, (I - Beta)^-1]] and every product
            # below shrinks to the factor dimension
            latent = not np.any((gi.kind == 0) & (gi.j < p))
            kb = -1
            if latent:
                # (I - Beta)^-1 = I + Beta + ... + Beta^k for a recursive model
                pa = (gi.kind == 0) & (gi.i >= p)
                P = np.zeros((n - p, n - p), bool)
                P[gi.i[pa] - p, gi.j[pa] - p] = True
                k, Q = 0, P.copy()
                while Q.any() and k <= n:
                    k += 1
                    Q = (Q.astype(int) @ P.astype(int)) > 0
                kb = k if k <= n else -1            # -1: a cycle, invert
            self.groups.append((g, i[a], j[a], uj, ajk.ravel(),
                                np.concatenate([cols[a], cols[s], cols[m]]),
                                i[s] * n + j[s], sfac, i[m], kb, latent))
        self.p, self.n = p, n
        self._eye_l = np.eye(n - p)

    def _evaluate(self, theta, means, covs):
        eng = self.engine
        model = eng.model
        x = eng.x_of(theta)
        p = self.p
        ms = eng.pt.meanstructure
        F = 0.0
        grad = np.zeros(eng.q)
        for (g, ai, aj, uj, ajk, cols, sflat, sfac, mi, kb, latent), w in zip(
                self.groups, eng.weights, strict=True):
            A, S, mvec = model.matrices(x, g)
            if latent:
                Beta = A[p:, p:]
                if kb < 0:
                    Bl = np.linalg.inv(self._eye_l - Beta)
                else:
                    Bl = self._eye_l + Beta
                    Pw = Beta
                    for _ in range(1, kb):
                        Pw = Pw @ Beta
                        Bl += Pw
                L = A[:p, p:] @ Bl                  # G = [I, L]
                GS = S[:p] + L @ S[p:]
                Sigma = GS[:, :p] + GS[:, p:] @ L.T
            else:
                B = model.inverse(A, g)
                G = B[:p]
                GS = G @ S
                Sigma = GS @ G.T
            chol, info = _dpotrf(Sigma, lower=False)
            if info != 0:
                return np.inf, None
            inv = _dpotri(chol, lower=False)[0]
            Sinv = inv + inv.T
            Sinv.flat[:: p + 1] *= 0.5
            Ssam = covs[g]
            Fg = 2.0 * np.log(chol.diagonal()).sum() + (Ssam * Sinv).sum()
            R = Sinv - (Sinv @ Ssam) @ Sinv
            if ms:
                if latent:
                    nu_l = Bl @ mvec[p:]
                    nu = np.concatenate([mvec[:p] + L @ mvec[p:], nu_l])
                else:
                    nu = B @ mvec
                d = means[g] - nu[:p]
                Sd = Sinv @ d
                Fg += d @ Sd
                R -= np.outer(Sd, Sd)
                Gd = np.concatenate([Sd, L.T @ Sd]) if latent else G.T @ Sd
            F += w * Fg
            # dF/dA = 2 G'R C_p at the free elements: only the columns j of
            # free A elements (the factors and predictors) of C_p = G S B' are needed
            if latent:
                GR = np.vstack([R, L.T @ R])    # n x p
                Cj = GS[:, p:] @ Bl[uj - p].T
                GRG = np.hstack([GR, GR @ L])
            else:
                GR = G.T @ R
                Cj = GS @ B[uj].T
                GRG = GR @ G
            ga = 2.0 * (GR[ai] * Cj[:, ajk].T).sum(axis=1)
            gs = sfac * GRG.ravel().take(sflat)                # dF/dS
            if ms:
                ga -= 2.0 * Gd[ai] * nu[aj]
                gm = -2.0 * Gd[mi]
                grad += w * np.bincount(cols, weights=np.concatenate([ga, gs, gm]),
                                        minlength=eng.q)
            else:
                grad += w * np.bincount(cols, weights=np.concatenate([ga, gs]),
                                        minlength=eng.q)
        return F, grad

    def fit(self, groups, *, tol: float = 1e-8, max_iter: int = 200) -> np.ndarray | None:
        """The ML estimate on the per-group ``N_g x p`` arrays ``groups``, or ``None``.

        Stops when a full quasi-Newton step changes no parameter by more than
        ``tol * (1 + max|theta|)`` (the rule of :meth:`MLEngine.fit`, whose
        ``tol`` is 1e-9).  BFGS converges superlinearly, so the estimates then
        agree with :meth:`MLEngine.fit` to about 2e-8 (GUM model), far below
        the Monte Carlo error of any bootstrap interval, at two gradients
        fewer per draw than with 1e-9.
        """
        if not self.usable:
            return None
        means, covs = [], []
        for X in groups:
            mu = X.mean(axis=0)
            c = X - mu
            means.append(mu)
            covs.append((c.T @ c) / X.shape[0])
        N = self.N
        theta = self.theta.copy()
        F, grad = self._evaluate(theta, means, covs)
        if not np.isfinite(F):
            return None
        gz = grad if N is None else N.T @ grad
        H = self.H0inv.copy()
        for _ in range(max_iter):
            step = -(H @ gz)
            slope = gz @ step
            if slope >= 0:  # lost descent: restart from the initial approximation
                H = self.H0inv.copy()
                step = -(H @ gz)
                slope = gz @ step
            t = 1.0
            for _ in range(40):
                cand = theta + t * (step if N is None else N @ step)
                Fc, gc = self._evaluate(cand, means, covs)
                # Armijo's condition with room for rounding in F near the optimum
                if np.isfinite(Fc) and Fc <= F + 1e-4 * t * slope + 1e-12 * max(1.0, abs(F)):
                    break
                t *= 0.5
            else:
                return None
            s = t * step
            theta, F = cand, Fc
            gcz = gc if N is None else N.T @ gc
            # the proposed step, not the accepted fraction of it, measures the
            # distance to the optimum (a cut-back step can be tiny far from it)
            if t == 1.0 and np.abs(s if N is None else N @ s).max() <= tol * (1.0 + np.abs(theta).max()):
                return theta
            y = gcz - gz
            gz = gcz
            sy = s @ y
            if sy > 1e-12 * np.sqrt((s @ s) * (y @ y)):
                # H <- (I - rho s y') H (I - rho y s') + rho s s', as two rank-one updates
                # in place (H stays symmetric, so its C order is a valid Fortran order)
                rho = 1.0 / sy
                Hy = H @ y
                u = (0.5 * rho * rho * (y @ Hy) + 0.5 * rho) * s - rho * Hy
                Hf = H.T
                _dger(1.0, u, s, a=Hf, overwrite_a=1)
                _dger(1.0, s, u, a=Hf, overwrite_a=1)
        return None


def _restore_engine(pt, stats, constraint_basis, ceq, eq_rank) -> MLEngine:
    engine = MLEngine(pt, stats)
    engine.constraint_basis, engine.ceq, engine.eq_rank = constraint_basis, ceq, eq_rank
    return engine


class EngineMoments:
    """An :class:`MLEngine` at a parameter vector, seen through the moment interface.

    Attributes ``x`` (free parameters), ``meanstructure``, ``ceq`` (orthonormal
    rows of the linear ``==`` constraints, shape ``(0, q)`` without them);
    methods ``implied(x)`` -> per group ``(Sigma, mu or None)`` and
    ``jacobian(x)`` -> per group ``Delta`` (rows ``[mu, vech(Sigma)]``).
    This is the ``MomentModel`` protocol of :mod:`surveykit.sem.robust`.
    """

    def __init__(self, engine: MLEngine, x: np.ndarray):
        self.engine = engine
        self.x = np.asarray(x, float)
        self.meanstructure = engine.pt.meanstructure
        self.ceq = engine.ceq

    def implied(self, x: np.ndarray):
        ms = self.meanstructure
        return [(S, mu if ms else None) for S, mu in self.engine.implied(x)]

    def jacobian(self, x: np.ndarray):
        return self.engine.delta(x)

    def moment_gradient(self, x: np.ndarray, derivatives) -> np.ndarray:
        """``sum_g Delta_g' d_g`` from per-group ``(dSigma, dmu)`` matrices (see
        :meth:`MLEngine.moment_gradient`)."""
        return self.engine.moment_gradient(x, derivatives)
