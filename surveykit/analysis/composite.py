"""The structural paths estimated on composite scores, as a robustness check of the latent model.

Three estimators of the same equations (every ``lhs ~ rhs`` regression among
the constructs of the model):

* per-equation OLS with HC3 standard errors (statsmodels), the regression
  most theses report;
* the whole system by SUR (feasible GLS with the residual covariance of the
  equations; linearmodels), which gains efficiency from correlated errors;
* the whole system by 3SLS (linearmodels), treating the basic factors as
  endogenous — the GUM model has them act on the outcomes and be acted on in
  return — with the exogenous constructs (auxiliary factors, governance) as
  instruments.

All take composite scores (item means after reverse-keying); intercepts are
estimated and not reported.

References
----------
Zellner, A. (1962). An efficient method of estimating seemingly unrelated
regressions. *JASA* 57, 348–368.  Zellner, A. & Theil, H. (1962). Three-stage
least squares. *Econometrica* 30, 54–78.  Long, J. S. & Ervin, L. H. (2000).
Using heteroscedasticity consistent standard errors in the linear regression
model. *The American Statistician* 54, 217–224.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from surveykit.errors import SurveykitError


@dataclass(frozen=True)
class Equation:
    """One structural equation: ``lhs ~ rhs[0] + rhs[1] + ...``."""

    lhs: str
    rhs: tuple[str, ...]


def structural_equations(table: pd.DataFrame) -> list[Equation]:
    """The regressions among latent variables of a parsed model, in model order."""
    latents = set(table.loc[table["op"] == "=~", "lhs"])
    regs = table[(table["op"] == "~") & table["lhs"].isin(latents) & table["rhs"].isin(latents)]
    out: dict[str, list[str]] = {}
    for lhs, rhs in zip(regs["lhs"], regs["rhs"], strict=True):
        out.setdefault(lhs, [])
        if rhs not in out[lhs]:
            out[lhs].append(rhs)
    return [Equation(lhs, tuple(rhs)) for lhs, rhs in out.items()]


def _check(data: pd.DataFrame, equations: list[Equation]) -> pd.DataFrame:
    needed = list(dict.fromkeys([e.lhs for e in equations] + [r for e in equations for r in e.rhs]))
    missing = [v for v in needed if v not in data.columns]
    if missing:
        raise SurveykitError(f"composite scores lack the construct(s) {', '.join(missing)}")
    frame = data[needed].astype(float).dropna()
    if len(frame) <= max(len(e.rhs) for e in equations) + 1:
        raise SurveykitError(f"too few complete cases ({len(frame)}) for the composite path analysis")
    return frame


def ols_hc3(data: pd.DataFrame, equations: list[Equation]) -> pd.DataFrame:
    """Per-equation OLS with HC3 standard errors.

    Returns
    -------
    DataFrame
        One row per path: ``lhs, rhs, est, se, z, pvalue, ci_lower, ci_upper, std, r2, n``;
        ``z`` is the t statistic and ``pvalue`` from the t distribution with the
        residual degrees of freedom; ``std`` is the coefficient with all
        variables standardized.

    Examples
    --------
    The same numbers in R: ``lmtest::coeftest(fit, vcov = sandwich::vcovHC(fit, type = "HC3"))``.
    """
    import statsmodels.api as sm

    frame = _check(data, equations)
    sd = frame.std(ddof=1)
    rows = []
    for eq in equations:
        X = sm.add_constant(frame[list(eq.rhs)], has_constant="add")
        fit = sm.OLS(frame[eq.lhs], X).fit(cov_type="HC3")
        ci = fit.conf_int()
        for var in eq.rhs:
            rows.append({"lhs": eq.lhs, "rhs": var, "est": fit.params[var], "se": fit.bse[var],
                         "z": fit.tvalues[var], "pvalue": _t_pvalue(fit.tvalues[var], fit.df_resid),
                         "ci_lower": ci.loc[var, 0], "ci_upper": ci.loc[var, 1],
                         "std": fit.params[var] * sd[var] / sd[eq.lhs], "r2": fit.rsquared,
                         "n": int(fit.nobs)})
    return pd.DataFrame(rows)


def _t_pvalue(t: float, df: float) -> float:
    from scipy import stats

    return float(2 * stats.t.sf(abs(t), df))


def _system_formulas(equations: list[Equation], instruments: tuple[str, ...] | None) -> dict[str, str]:
    formulas = {}
    for eq in equations:
        exog = [v for v in eq.rhs if instruments is None or v in instruments]
        endog = [v for v in eq.rhs if instruments is not None and v not in instruments]
        rhs = " + ".join(["1", *exog])
        if endog:
            inst = [v for v in instruments if v not in exog]
            if len(inst) < len(endog):
                raise SurveykitError(f"equation {eq.lhs}: {len(endog)} endogenous regressor(s) but "
                                     f"only {len(inst)} instrument(s)")
            rhs += f" + [{' + '.join(endog)} ~ {' + '.join(inst)}]"
        formulas[eq.lhs] = f"{eq.lhs} ~ {rhs}"
    return formulas


def _system_table(res, equations: list[Equation], frame: pd.DataFrame) -> pd.DataFrame:
    sd = frame.std(ddof=1)
    ci = res.conf_int()
    rows = []
    for eq in equations:
        for var in eq.rhs:
            name = f"{eq.lhs}_{var}"
            rows.append({"lhs": eq.lhs, "rhs": var, "est": res.params[name], "se": res.std_errors[name],
                         "z": res.tstats[name], "pvalue": res.pvalues[name],
                         "ci_lower": ci.loc[name, "lower"], "ci_upper": ci.loc[name, "upper"],
                         "std": res.params[name] * sd[var] / sd[eq.lhs], "n": int(res.nobs)})
    return pd.DataFrame(rows)


def sur(data: pd.DataFrame, equations: list[Equation]) -> pd.DataFrame:
    """The equations as one system by SUR (feasible GLS, homoskedastic covariance).

    The residual covariance is estimated from the OLS residuals with divisor
    n, as ``systemfit(method = "SUR", control = systemfit.control(
    methodResidCov = "noDfCor"))`` does in R.
    """
    from linearmodels.system import SUR

    frame = _check(data, equations)
    res = SUR.from_formula(_system_formulas(equations, None), frame).fit(
        method="gls", cov_type="unadjusted")
    return _system_table(res, equations, frame)


def three_sls(data: pd.DataFrame, equations: list[Equation], instruments: tuple[str, ...]) -> pd.DataFrame:
    """The equations as one system by 3SLS; regressors not in ``instruments`` are endogenous.

    In R: ``systemfit(method = "3SLS", inst = ~ POLICY + LEADER + GOVERN,
    control = systemfit.control(methodResidCov = "noDfCor"))``.
    """
    from linearmodels.system import IV3SLS

    frame = _check(data, equations)
    res = IV3SLS.from_formula(_system_formulas(equations, tuple(instruments)), frame).fit(
        method="gls", cov_type="unadjusted")
    return _system_table(res, equations, frame)


def exogenous_constructs(equations: list[Equation]) -> tuple[str, ...]:
    """Constructs that only ever predict: the instruments of the 3SLS system."""
    lhs = {e.lhs for e in equations}
    return tuple(dict.fromkeys(v for e in equations for v in e.rhs if v not in lhs))


def composite_paths(data: pd.DataFrame, equations: list[Equation]) -> dict[str, pd.DataFrame]:
    """OLS-HC3, SUR and 3SLS estimates of the same paths, keyed ``ols_hc3``, ``sur``, ``3sls``."""
    return {"ols_hc3": ols_hc3(data, equations), "sur": sur(data, equations),
            "3sls": three_sls(data, equations, exogenous_constructs(equations))}


__all__ = ["Equation", "structural_equations", "ols_hc3", "sur", "three_sls", "composite_paths",
           "exogenous_constructs"]
