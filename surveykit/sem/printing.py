"""Text and HTML summaries of a fitted model, in lavaan's section order.

Sections: header, Model Test User Model, Model Test Baseline Model, User Model
versus Baseline Model, Loglikelihood and Information Criteria, Root Mean
Square Error of Approximation, Standardized Root Mean Square Residual, then
Parameter Estimates: Latent Variables, Regressions, Covariances, Intercepts,
Variances, Defined Parameters, Constraints, R-Square (per group).
Numbers are formatted in one place, :func:`_num`.
"""

from __future__ import annotations

import html

import numpy as np

__all__ = ["summary_text", "summary_html"]

_SECTIONS = (("Latent Variables", "=~"), ("Regressions", "~"), ("Covariances", "~~cov"),
             ("Intercepts", "~1"), ("Variances", "~~var"), ("Defined Parameters", ":="),
             ("Constraints", "=="), ("Inequality constraints", "ineq"))


def _num(v, width: int = 9, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return " " * width
    return f"{v:{width}.{digits}f}"


def _kv(label: str, value, fmt: str = "{:.3f}") -> str:
    text = value if isinstance(value, str) else fmt.format(value)
    return f"  {label:<42s}{text:>12s}"


def _fit_lines(res) -> list[str]:
    f = res.fit
    out = [f"surveykit SEM ({res.estimator}) ended {'normally' if res.converged else 'WITHOUT convergence'}"
           f" after {res.solution.iterations} iterations", "",
           _kv("Estimator", res.estimator), _kv("Number of model parameters", f"{int(f['npar'])}")]
    if res.group_labels:
        out.append(_kv("Number of groups", f"{len(res.group_labels)}"))
    out += [_kv("Number of observations", f"{int(f['n'])}"), "",
            "Model Test User Model:", _kv("Test statistic", f["chisq"]),
            _kv("Degrees of freedom", f"{int(f['df'])}"), _kv("P-value (Chi-square)", f["pvalue"])]
    if "chisq_scaled" in f:
        out += [_kv("Scaled test statistic", f["chisq_scaled"]),
                _kv("Scaling correction factor", f["scaling_factor"])]
    out += ["", "Model Test Baseline Model:", _kv("Test statistic", f["baseline_chisq"]),
            _kv("Degrees of freedom", f"{int(f['baseline_df'])}"),
            _kv("P-value", f["baseline_pvalue"]), "",
            "User Model versus Baseline Model:",
            _kv("Comparative Fit Index (CFI)", f["cfi"]),
            _kv("Tucker-Lewis Index (TLI)", f["tli"])]
    if "cfi_robust" in f:
        out += [_kv("Robust Comparative Fit Index (CFI)", f["cfi_robust"]),
                _kv("Robust Tucker-Lewis Index (TLI)", f["tli_robust"])]
    out += ["", "Loglikelihood and Information Criteria:",
            _kv("Loglikelihood user model (H0)", f["loglik"]),
            _kv("Loglikelihood unrestricted model (H1)", f["loglik_h1"]),
            _kv("Akaike (AIC)", f["aic"]), _kv("Bayesian (BIC)", f["bic"]),
            _kv("Sample-size adjusted Bayesian (SABIC)", f["bic2"]), "",
            "Root Mean Square Error of Approximation:", _kv("RMSEA", f["rmsea"]),
            _kv("90 Percent confidence interval - lower", f["rmsea_ci_low"]),
            _kv("90 Percent confidence interval - upper", f["rmsea_ci_high"]),
            _kv("P-value H_0: RMSEA <= 0.050", f["rmsea_pclose"])]
    if "rmsea_robust" in f:
        out.append(_kv("Robust RMSEA", f["rmsea_robust"]))
    if "srmr" in f:
        out += ["", "Standardized Root Mean Square Residual:", _kv("SRMR", f["srmr"])]
    return out


def _section_rows(est, key: str, lv: set):
    if key == "~~cov":
        return est[(est["op"] == "~~") & (est["lhs"] != est["rhs"])]
    if key == "~~var":
        return est[(est["op"] == "~~") & (est["lhs"] == est["rhs"])]
    if key == "ineq":
        return est[est["op"].isin(["<", ">"])]
    return est[est["op"] == key]


def _param_lines(res, est, lv: set, dependent: set) -> list[str]:
    head = f"{'':20s}{'Estimate':>9s}{'Std.Err':>9s}{'z-value':>9s}{'P(>|z|)':>9s}{'Std.lv':>9s}{'Std.all':>9s}"
    out = []
    for title, key in _SECTIONS:
        rows = _section_rows(est, key, lv)
        if rows.empty:
            continue
        out += ["", f"{title}:", head]
        current = None
        for r in rows.itertuples():
            if key in ("=~", "~", "~~cov") and r.lhs != current:
                current = r.lhs
                dot = "." if key == "~~cov" and r.lhs in dependent else ""
                out.append(f"  {dot}{r.lhs} {r.op}")
            if key in ("=~", "~", "~~cov"):
                name = r.rhs
                dot = "." if key == "~~cov" and r.rhs in dependent else ""
                name = f"    {dot}{name}"
            elif key == ":=":
                name = f"    {r.lhs}"
            elif key in ("==", "ineq"):
                name = f"    {r.lhs} {r.op} {r.rhs}"
            else:
                dot = "." if r.lhs in dependent else ""
                name = f"    {dot}{r.lhs}"
            if r.label and key not in (":=", "==", "ineq"):
                name = f"{name} ({r.label})"
            fixed = not (r.se > 0)
            out.append(f"{name:20.20s}{_num(r.est)}"
                       + (" " * 27 if fixed else f"{_num(r.se)}{_num(r.z, 9, 3)}{_num(r.pvalue)}")
                       + f"{_num(r.std_lv)}{_num(r.std_all)}")
    return out


def summary_text(res) -> str:
    pt = res.engine.pt
    lv = set(pt.lv_names)
    dependent = {pt.rhs[i] for i in range(pt.nrow) if pt.op[i] == "=~"}
    dependent |= {pt.lhs[i] for i in range(pt.nrow) if pt.op[i] == "~"}
    lines = _fit_lines(res)
    lines += ["", "Parameter Estimates:", "",
              _kv("Standard errors", "Bootstrap" if res.bootstrap is not None else
                  ("Sandwich" if res.estimator == "MLR" else "Standard")),
              _kv("Information", "Observed" if res.missing == "ml" else "Expected")]
    est = res.estimates
    groups = range(1, pt.ngroups + 1)
    for g in groups:
        if pt.ngroups > 1:
            lines += ["", f"Group {g} [{res.group_labels[g - 1]}]:"]
        lines += _param_lines(res, est[est["group"] == g], lv, dependent)
        r2 = res.r2 if pt.ngroups == 1 else res.r2.iloc[:, g - 1]
        if len(r2):
            lines += ["", "R-Square:", f"{'':20s}{'Estimate':>9s}"]
            lines += [f"    {name:16.16s}{_num(v)}" for name, v in r2.items()]
    tail = est[est["group"] == 0]
    if len(tail):
        lines += _param_lines(res, tail, lv, dependent)
    return "\n".join(lines)


def summary_html(res) -> str:
    f = res.fit
    keys = ("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_low", "rmsea_ci_high",
            "srmr", "aic", "bic")
    fit_rows = "".join(f"<tr><th>{k}</th><td>{f[k]:.4g}</td></tr>" for k in keys if k in f)
    est = res.estimates
    cols = ["lhs", "op", "rhs", "group", "label", "est", "se", "z", "pvalue", "ci_lower",
            "ci_upper", "std_lv", "std_all"]
    head = "".join(f"<th>{c}</th>" for c in cols)
    body = []
    for r in est[cols].itertuples(index=False):
        cells = []
        for v in r:
            if isinstance(v, float):
                cells.append(f"<td>{'' if not np.isfinite(v) else f'{v:.3f}'}</td>")
            else:
                cells.append(f"<td>{html.escape(str(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f"<div><strong>surveykit SEM ({html.escape(res.estimator)}), "
            f"N = {int(f['n'])}</strong><table>{fit_rows}</table>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>")
