"""The results of :func:`surveykit.sem` / :func:`surveykit.cfa`: a frozen, printable object.

``SEMResult`` keeps what was estimated (the engine with its parameter table and
sample statistics, the solution and the covariance matrix of the estimates)
and derives everything else on first use:

``estimates``  parameter table with lavaan's columns
               (``lhs op rhs group label est se z pvalue ci_lower ci_upper std_lv std_all``)
``fit``        fit measures (:mod:`surveykit.sem.fit`; robust ones under MLR)
``r2``         R-square of the endogenous variables
``implied``    model-implied covariance matrices and means per group
``modindices()``, ``reliability()``, ``fornell_larcker()``, ``summary()``,
``_repr_html_()``, ``refit(data)``.

For other modules: ``engine`` (:class:`~surveykit.sem.estimate.MLEngine`),
``theta`` (free parameters), ``vcov``, ``engine.delta(theta)`` (per-group
Jacobians), ``engine.stats.data`` (casewise data per group) and
``moments()`` (the :class:`~surveykit.sem.estimate.EngineMoments` view).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from surveykit.sem.estimate import EngineMoments, MLEngine, Solution
from surveykit.sem.standardize import standardize

__all__ = ["SEMResult", "LRTest"]

_Z975 = 1.959963984540054


@dataclass(frozen=True)
class SEMResult:
    """A fitted structural equation model (lavaan's ``lavaan`` object)."""

    model: str
    engine: MLEngine = field(repr=False)
    solution: Solution = field(repr=False)
    vcov: np.ndarray = field(repr=False)
    group_labels: tuple = ()
    group: str | None = None
    estimator: str = "ML"
    missing: str = "listwise"
    options: dict = field(default_factory=dict)
    robust: Any = field(default=None, repr=False)
    fiml: Any = field(default=None, repr=False)
    bootstrap: Any = field(default=None, repr=False)
    n_dropped: int = 0

    # ------------------------------------------------------------- basics
    @property
    def theta(self) -> np.ndarray:
        """Estimates of the free parameters."""
        return self.solution.theta

    @property
    def converged(self) -> bool:
        return self.solution.converged

    @property
    def partable(self):
        """The full parameter table (lavaan's ``parTable``) as a DataFrame."""
        pt = self.engine.pt.to_frame()
        pt["est"] = self.engine.x_of(self.theta)
        return pt

    @cached_property
    def npar(self) -> int:
        """Number of free parameters, less one per independent ``==`` constraint."""
        return int(self.engine.npar)

    @cached_property
    def df(self) -> int:
        """Degrees of freedom of the chi-square test."""
        pt = self.engine.pt
        p = len(pt.ov_names)
        nx = len(pt.ov_x)
        per_group = p * (p + 1) // 2 - nx * (nx + 1) // 2
        if pt.meanstructure:
            per_group += p - nx
        return pt.ngroups * per_group - self.npar

    def moments(self) -> EngineMoments:
        """The model at its estimates through the moment interface (robust, FIML, bootstrap)."""
        return EngineMoments(self.engine, self.theta)

    @cached_property
    def implied(self) -> list[dict[str, Any]]:
        """Model-implied covariance matrix and mean vector of each group (DataFrame / Series)."""
        import pandas as pd
        names = self.engine.pt.ov_names
        out = []
        for Sigma, mu in self.engine.implied(self.theta):
            out.append({"cov": pd.DataFrame(Sigma, index=names, columns=names),
                        "mean": pd.Series(mu, index=names)})
        return out

    @cached_property
    def _std(self) -> tuple[np.ndarray, np.ndarray]:
        return (standardize(self.engine, self.theta, kind="lv"),
                standardize(self.engine, self.theta, kind="all"))

    # ---------------------------------------------------------- estimates
    @cached_property
    def se(self) -> np.ndarray:
        """Standard errors of the free parameters (expected information; sandwich under MLR)."""
        if self.bootstrap is not None:
            return self.bootstrap.se[: self.engine.q]
        var = np.diag(self.vcov)
        se = np.sqrt(np.clip(var, 0.0, None))
        if self.engine.pt.inequality:
            # a parameter held at the bound of an active inequality has no
            # sampling variance in the tangent space: lavaan reports NA
            se[var < 1e-14 * max(1.0, float(np.abs(var).max(initial=0)))] = np.nan
        return se

    @cached_property
    def estimates(self):
        """Parameter table with lavaan's ``parameterEstimates(standardized = TRUE)`` columns."""
        import pandas as pd
        from scipy.stats import norm

        eng, pt = self.engine, self.engine.pt
        x = eng.x_of(self.theta)
        se = np.zeros(pt.nrow)
        free = pt.free > 0
        se[free] = self.se[pt.free[free] - 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            z = np.where(free, x / np.where(se > 0, se, np.nan), np.nan)
        std_lv, std_all = self._std
        frame = pd.DataFrame({
            "lhs": pt.lhs, "op": pt.op, "rhs": pt.rhs, "group": np.asarray(pt.group, int),
            "label": pt.label, "est": x, "se": se, "z": z,
            "pvalue": 2 * norm.sf(np.abs(z)),
            "ci_lower": x - _Z975 * se, "ci_upper": x + _Z975 * se,
            "std_lv": std_lv, "std_all": std_all})
        if self.bootstrap is not None:
            lo_hi = self.bootstrap.ci(self.options.get("boot_ci", "perc"))[: eng.q]
            frame.loc[free, "ci_lower"] = lo_hi[pt.free[free] - 1, 0]
            frame.loc[free, "ci_upper"] = lo_hi[pt.free[free] - 1, 1]
        extra = []
        if pt.defined:
            dv = eng.defined(self.theta)
            J = eng.defined_jacobian(self.theta)
            if self.bootstrap is not None:
                dse = self.bootstrap.se[eng.q: eng.q + len(dv)]
                dci = self.bootstrap.ci(self.options.get("boot_ci", "perc"))[eng.q: eng.q + len(dv)]
            else:
                dse = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", J, self.vcov, J), 0.0, None))
                dci = np.column_stack([dv - _Z975 * dse, dv + _Z975 * dse])
            with np.errstate(invalid="ignore", divide="ignore"):
                dz = dv / np.where(dse > 0, dse, np.nan)
            d_lv, d_all = eng.defined_values(std_lv), eng.defined_values(std_all)
            for k, (name, expr, _) in enumerate(pt.defined):
                extra.append({"lhs": name, "op": ":=", "rhs": expr, "group": 0, "label": name,
                              "est": dv[k], "se": dse[k], "z": dz[k],
                              "pvalue": 2 * norm.sf(abs(dz[k])), "ci_lower": dci[k, 0],
                              "ci_upper": dci[k, 1], "std_lv": d_lv[k], "std_all": d_all[k]})
        if pt.equality:
            ev = eng.equality_at(x)
            e_lv, e_all = eng.equality_at(std_lv), eng.equality_at(std_all)
            for k, (a, b, _) in enumerate(pt.equality):
                extra.append({"lhs": a, "op": "==", "rhs": b, "group": 0, "label": "",
                              "est": ev[k], "se": 0.0, "z": np.nan, "pvalue": np.nan,
                              "ci_lower": ev[k], "ci_upper": ev[k], "std_lv": e_lv[k],
                              "std_all": e_all[k]})
        if pt.inequality:
            iv = eng.inequality_at(x)
            i_lv, i_all = eng.inequality_at(std_lv), eng.inequality_at(std_all)
            for k, (a, o, b, _) in enumerate(pt.inequality):
                extra.append({"lhs": a, "op": o, "rhs": b, "group": 0, "label": "",
                              "est": iv[k], "se": 0.0, "z": np.nan, "pvalue": np.nan,
                              "ci_lower": iv[k], "ci_upper": iv[k], "std_lv": i_lv[k],
                              "std_all": i_all[k]})
        if extra:
            frame = pd.concat([frame, pd.DataFrame(extra)], ignore_index=True)
        return frame

    # ---------------------------------------------------------------- fit
    @cached_property
    def fit(self) -> dict[str, float]:
        """Fit measures with lavaan's ``fitMeasures`` definitions (names with underscores)."""
        from surveykit.sem.fit import fit_measures
        eng = self.engine
        pos = {v: k for k, v in enumerate(eng.pt.ov_names)}
        if self.fiml is not None:
            out = {k.replace(".", "_"): float(v) for k, v in self.fiml.fit_measures().items()}
            out["n"] = out.pop("ntotal", float(eng.stats.ntotal))
            out["loglik"] = out.pop("logl", np.nan)
            out["loglik_h1"] = out.pop("unrestricted_logl", np.nan)
            out["rmsea_ci_low"] = out.pop("rmsea_ci_lower", np.nan)
            out["rmsea_ci_high"] = out.pop("rmsea_ci_upper", np.nan)
            out["rmsea_pclose"] = out.pop("rmsea_pvalue", np.nan)
            out["chisq_df"] = out["chisq"] / out["df"] if out["df"] > 0 else np.nan
        else:
            out = fit_measures(stats=eng.stats, implied=eng.implied(self.theta),
                               fmin=self.solution.fmin, npar=self.npar, df=self.df,
                               meanstructure=eng.pt.meanstructure,
                               ov_x_index=[pos[v] for v in eng.pt.ov_x])
        if self.robust is not None:
            out.update({k: float(v) for k, v in self.robust.fit_measures().items()})
        # one name per bound, as for the ML interval: rmsea_ci_low_robust, ...
        for kind in ("robust", "scaled"):
            for old, new in (("lower", "low"), ("upper", "high")):
                if f"rmsea_ci_{old}_{kind}" in out:
                    out[f"rmsea_ci_{new}_{kind}"] = out.pop(f"rmsea_ci_{old}_{kind}")
        return out

    @cached_property
    def r2(self):
        """R-square of every endogenous variable (a Series; a DataFrame with one column per group)."""
        import pandas as pd
        eng, pt = self.engine, self.engine.pt
        x = eng.x_of(self.theta)
        dependent = {pt.rhs[i] for i in range(pt.nrow) if pt.op[i] == "=~"}
        dependent |= {pt.lhs[i] for i in range(pt.nrow) if pt.op[i] == "~"}
        names = [v for v in pt.ov_names + pt.lv_names if v in dependent]
        pos = {v: k for k, v in enumerate(pt.ov_names + pt.lv_names)}
        cols = {}
        for g in range(pt.ngroups):
            C = eng.model.implied(x, g)[3]
            S = eng.model.matrices(x, g)[1]
            cols[self.group_labels[g] if self.group_labels else g + 1] = [
                1.0 - S[pos[v], pos[v]] / C[pos[v], pos[v]] for v in names]
        if pt.ngroups == 1:
            return pd.Series(next(iter(cols.values())), index=names, name="r2")
        return pd.DataFrame(cols, index=names)

    # ---------------------------------------------------- other analyses
    def modindices(self, *, sort: bool = False, minimum_value: float = 0.0):
        """Modification indices (lavaan's ``modindices()``: ``mi, epc, sepc_lv, sepc_all``)."""
        from surveykit.sem.estimate import blas_single_thread
        from surveykit.sem.modindices import modification_indices
        with blas_single_thread(len(self.engine.pt.ov_names) >= 20):
            out = modification_indices(self.engine, self.theta)
        if self.engine.pt.ngroups == 1:
            out = out.drop(columns="group")
        if minimum_value > 0:
            out = out[out["mi"] > minimum_value]
        if sort:
            out = out.sort_values("mi", ascending=False)
        return out.reset_index(drop=True)

    def reliability(self):
        """Composite reliability (omega) and AVE per factor, as semTools computes them.

        Notes
        -----
        For factor ``f`` with loadings ``lambda_i`` and variance ``psi``::

            omega = (sum_i lambda_i)^2 psi / 1' S_f 1,     AVE = sum_i lambda_i^2 psi / sum_i s_ii

        with ``S_f`` the observed covariance matrix of the factor's indicators
        (semTools ``compRelSEM(fit)`` and ``AVE(fit)``, ``obs.var = TRUE``).
        Multigroup models give one row per factor and group.
        """
        import pandas as pd
        eng, pt = self.engine, self.engine.pt
        x = eng.x_of(self.theta)
        p = eng.model.p
        pos = {v: k for k, v in enumerate(pt.ov_names)}
        rows = []
        for g in range(pt.ngroups):
            A, S, _ = eng.model.matrices(x, g)
            C = eng.model.implied(x, g)[3]
            Sobs = eng.stats.cov[g]
            for k, f in enumerate(pt.lv_names):
                inds = [pt.rhs[i] for i in range(pt.nrow) if pt.group[i] == g + 1
                        and pt.op[i] == "=~" and pt.lhs[i] == f and pt.rhs[i] in pos]
                if not inds:
                    continue
                idx = [pos[v] for v in inds]
                lam = A[idx, p + k]
                psi = C[p + k, p + k]
                sub = Sobs[np.ix_(idx, idx)]
                rows.append({"group": self.group_labels[g] if self.group_labels else 1,
                             "factor": f, "omega": lam.sum() ** 2 * psi / sub.sum(),
                             "ave": (lam ** 2).sum() * psi / np.trace(sub)})
        out = pd.DataFrame(rows)
        if pt.ngroups == 1:
            return out.drop(columns="group").set_index("factor")
        return out.set_index(["group", "factor"])

    def fornell_larcker(self, group: int = 0):
        """Fornell–Larcker table: sqrt(AVE) on the diagonal, factor correlations below it.

        Discriminant validity holds for a factor when its sqrt(AVE) exceeds its
        correlations with every other factor (Fornell & Larcker, 1981).
        """
        import pandas as pd
        eng, pt = self.engine, self.engine.pt
        x = eng.x_of(self.theta)
        p = eng.model.p
        rel = self.reliability()
        if pt.ngroups > 1:
            rel = rel.xs(self.group_labels[group], level="group")
        C = eng.model.implied(x, group)[3][p:, p:]
        sd = np.sqrt(np.diag(C))
        R = C / np.outer(sd, sd)
        names = [f for f in pt.lv_names if f in rel.index]
        idx = [pt.lv_names.index(f) for f in names]
        R = R[np.ix_(idx, idx)]
        table = np.tril(R, -1) + np.diag(np.sqrt(rel.loc[names, "ave"].to_numpy()))
        table[np.triu_indices(len(names), 1)] = np.nan
        return pd.DataFrame(table, index=names, columns=names)

    def refit(self, data) -> SEMResult:
        """The same model and options estimated on other data (for example a resample)."""
        from surveykit.sem.api import sem
        return sem(self.model, data, **self.options)

    # ----------------------------------------------------------- printing
    def summary(self) -> str:
        """lavaan-style text: header, fit, then Latent Variables, Regressions,
        Covariances, Intercepts, Variances, Defined Parameters, Constraints, R-Square."""
        from surveykit.sem.printing import summary_text
        return summary_text(self)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        from surveykit.sem.printing import summary_html
        return summary_html(self)


@dataclass(frozen=True)
class LRTest:
    """Chi-square difference test between nested models (lavaan's ``lavTestLRT``)."""

    statistic: float
    df: int
    pvalue: float
    chisq: tuple[float, float]
    dfs: tuple[int, int]
    method: str = "standard"
    scaling_factor: float | None = None

    @property
    def null(self) -> str:
        return "the more restricted model fits as well as the less restricted one"

    def __str__(self) -> str:
        lines = [f"H0: {self.null}",
                 f"Statistic: {self.statistic:.4f}",
                 f"P-value: {self.pvalue:.4g}",
                 f"Distributed: chi2({self.df})"]
        if self.method != "standard":
            lines.append(f"Method: {self.method}")
        return "\n".join(lines)

    __repr__ = __str__
