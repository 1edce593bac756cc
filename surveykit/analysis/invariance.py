"""The two-cluster comparison: pre-flight checks, the invariance ladder, partial invariance,
and a difference test for every structural path.

The ladder fits the measurement model (CFA) with the clusters as groups:

========== =========================================
configural same factor structure, parameters free
metric     + equal loadings
scalar     + equal intercepts
strict     + equal residual variances
========== =========================================

A step *holds* when CFI drops by less than 0.010 and RMSEA rises by less than
0.015 against the last accepted step (Chen 2007; Cheung & Rensvold 2002;
robust CFI/RMSEA under MLR); the (scaled) χ² difference test is reported
beside them.  When a step fails, constraints of that step are freed one at a
time, each time the one with the largest univariate score test (the
modification index of releasing that equality), until the step holds or
``max_freed`` constraints are free (partial invariance, Byrne, Shavelson &
Muthén 1989).  Later steps are not tested once a step fails outright.

Path differences are then tested in the structural model with the
measurement constraints that held, by a Wald test of ``b_1 − b_2 = 0`` for
every regression, using the (robust) covariance of the estimates.

References
----------
Chen, F. F. (2007). Sensitivity of goodness of fit indexes to lack of
measurement invariance. *SEM* 14, 464–504.  Cheung, G. W. & Rensvold, R. B.
(2002). Evaluating goodness-of-fit indexes for testing measurement invariance.
*SEM* 9, 233–255.  Byrne, B. M., Shavelson, R. J. & Muthén, B. (1989).
Testing for the equivalence of factor covariance and mean structures.
*Psychological Bulletin* 105, 456–466.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from surveykit.analysis.options import AnalysisOptions

LADDER = (
    ("configural", ()),
    ("metric", ("loadings",)),
    ("scalar", ("loadings", "intercepts")),
    ("strict", ("loadings", "intercepts", "residuals")),
)
# the operator of the parameters each step constrains across groups
_STEP_OPS = {"metric": "=~", "scalar": "~1", "strict": "~~"}


def _fit(model: str, data: pd.DataFrame, group: str, options: AnalysisOptions,
         equal: tuple[str, ...], partial: list[str]):
    from surveykit import sem

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sem(model, data, group=group, estimator=options.estimator, missing=options.missing,
                   group_equal=equal, group_partial=tuple(partial), meanstructure=True)


def _indices(res, options: AnalysisOptions) -> dict[str, float | None]:
    f = res.fit
    robust = options.estimator == "MLR" and "cfi_robust" in f
    return {"chisq": f.get("chisq_scaled") if robust else f.get("chisq"),
            "df": f.get("df"), "cfi": f.get("cfi_robust") if robust else f.get("cfi"),
            "rmsea": f.get("rmsea_robust") if robust else f.get("rmsea"), "srmr": f.get("srmr"),
            "tli": f.get("tli_robust") if robust else f.get("tli")}


def _spec(row) -> str:
    """lavaan's group.partial spelling of a parameter."""
    if row["op"] == "~1":
        return f"{row['lhs']}~1"
    return f"{row['lhs']}{row['op']}{row['rhs']}"


def score_tests(constrained, op: str, observed: set[str]) -> pd.DataFrame:
    """Univariate score tests of releasing each cross-group equality of one kind of parameter.

    Releasing the equality of a parameter in group g > 1 gives that group's
    copy its own free value; the score test is
    ``T = s_δ² / (I_δδ − I_δθ I_θθ⁻¹ I_θδ)`` with the score ``s`` and expected
    information ``I`` of the model without cross-group equalities, evaluated
    at the constrained estimates (Sörbom 1989).  For two groups these are
    lavaan's ``lavTestScore(fit)$uni`` statistics.

    Returns
    -------
    DataFrame
        ``spec, lhs, op, rhs, group, mi`` sorted by ``mi`` descending.
    """
    import dataclasses

    from surveykit.sem.estimate import MLEngine

    eng_c = constrained.engine
    pt_c = eng_c.pt
    free_rows = np.flatnonzero(pt_c.free > 0)
    free_u = np.zeros_like(pt_c.free)
    free_u[free_rows] = np.arange(1, len(free_rows) + 1)
    eng_u = MLEngine(dataclasses.replace(pt_c, free=free_u), eng_c.stats)
    x_c = eng_c.x_of(constrained.theta)
    theta_u = x_c[free_rows]
    K = np.zeros((len(free_rows), pt_c.nfree))
    K[np.arange(len(free_rows)), pt_c.free[free_rows] - 1] = 1.0
    _, grad, infos = eng_u.evaluate(theta_u)
    n = np.asarray(eng_u.stats.n, float)
    score = -0.5 * n.sum() * grad  # d loglik / d theta
    info = sum(ng * Ig for ng, Ig in zip(n, infos, strict=True))
    Icc_inv = np.linalg.pinv(K.T @ info @ K)
    copies = np.bincount(pt_c.free[free_rows], minlength=pt_c.nfree + 1)
    rows = []
    for k, r in enumerate(free_rows):
        lhs, rop, rhs, g = pt_c.lhs[r], pt_c.op[r], pt_c.rhs[r], int(pt_c.group[r])
        if g == 1 or rop != op or copies[pt_c.free[r]] < 2:
            continue
        if op == "~1" and lhs not in observed:
            continue
        if op == "~~" and (lhs != rhs or lhs not in observed):
            continue
        Ie = info[:, k]
        var = Ie[k] - (Ie @ K) @ Icc_inv @ (K.T @ Ie)
        mi = float(score[k] ** 2 / var) if var > 1e-12 else 0.0
        rows.append({"spec": _spec({"lhs": lhs, "op": rop, "rhs": rhs}), "lhs": lhs, "op": rop,
                     "rhs": rhs, "group": g, "mi": mi})
    out = pd.DataFrame(rows, columns=["spec", "lhs", "op", "rhs", "group", "mi"])
    return out.sort_values("mi", ascending=False, kind="stable").reset_index(drop=True)


def _step_row(name: str, res, options: AnalysisOptions) -> dict[str, Any]:
    from surveykit.analysis.steps import num

    idx = _indices(res, options)
    return {"step": name, **{k: num(v) for k, v in idx.items()}, "converged": bool(res.converged)}


def _compare(row: dict[str, Any], res, prev, options: AnalysisOptions) -> bool:
    from surveykit import lrt
    from surveykit.analysis.steps import num

    a, b = _indices(prev, options), _indices(res, options)
    try:
        test = lrt(prev, res)
        row.update(delta_chisq=num(test.statistic), delta_df=int(test.df), delta_pvalue=num(test.pvalue),
                   delta_test=getattr(test, "method", "standard"))
    except Exception as exc:  # keep the fit-index decision; say why the test is missing
        row.update(delta_chisq=None, delta_df=None, delta_pvalue=None, delta_test=f"not available: {exc}")
    row["delta_cfi"] = num(b["cfi"] - a["cfi"]) if None not in (a["cfi"], b["cfi"]) else None
    row["delta_rmsea"] = num(b["rmsea"] - a["rmsea"]) if None not in (a["rmsea"], b["rmsea"]) else None
    cut = options.cutoffs
    return (row["delta_cfi"] is not None and row["delta_cfi"] >= cut["delta_cfi"]
            and row["delta_rmsea"] is not None and row["delta_rmsea"] <= cut["delta_rmsea"])


def invariance_ladder(cfa_model: str, data: pd.DataFrame, group: str,
                      options: AnalysisOptions) -> tuple[list[dict[str, Any]], tuple[str, ...], list[str]]:
    """Fit the ladder; return its rows, the constraints that held and the freed parameters."""
    observed = {c for c in data.columns if c != group}
    rows: list[dict[str, Any]] = []
    configural = _fit(cfa_model, data, group, options, (), [])
    rows.append({**_step_row("configural", configural, options), "decision": "holds", "freed": []})
    prev, accepted, partial = configural, (), []
    for name, equal in LADDER[1:]:
        res = _fit(cfa_model, data, group, options, equal, partial)
        row = _step_row(name, res, options)
        holds = _compare(row, res, prev, options)
        freed: list[dict[str, Any]] = []
        while not holds and options.partial_invariance and len(freed) < options.max_freed:
            tests = score_tests(res, _STEP_OPS[name], observed)
            tests = tests[~tests["spec"].isin(partial)]
            if tests.empty:
                break
            top = tests.iloc[0]
            partial.append(top["spec"])
            res = _fit(cfa_model, data, group, options, equal, partial)
            row = _step_row(name, res, options)
            holds = _compare(row, res, prev, options)
            freed.append({"parameter": top["spec"], "score_test": float(top["mi"]),
                          "cfi_after": row["cfi"], "rmsea_after": row["rmsea"]})
        row["freed"] = freed
        row["decision"] = ("partial" if freed else "holds") if holds else "fails"
        rows.append(row)
        if not holds:
            # the freed parameters of a failed step do not carry forward
            partial = [p for p in partial if p not in {f["parameter"] for f in freed}]
            break
        prev, accepted = res, equal
    tested = {r["step"] for r in rows}
    for name, _ in LADDER:
        if name not in tested:
            rows.append({"step": name, "decision": "not tested", "freed": []})
    return rows, accepted, partial


def path_differences(model: str, data: pd.DataFrame, group: str, groups: list[str],
                     options: AnalysisOptions, equal: tuple[str, ...], partial: list[str],
                     mechanisms: list[tuple[str, str]]) -> tuple[list[dict[str, Any]], Any]:
    """Wald test of equal regression weights across the two clusters for every path."""
    from scipy.stats import chi2

    from surveykit.analysis.steps import num

    # labels in the model would force equality across groups: strip them for this fit
    res = _fit(_unlabelled_regressions(model), data, group, options, equal, partial)
    est = res.estimates
    pt = res.engine.pt.to_frame()
    regs = est[est["op"] == "~"]
    vcov = res.vcov
    out = []
    for (lhs, rhs), sub in regs.groupby(["lhs", "rhs"], sort=False):
        if len(sub) != 2:
            continue
        frees = []
        for g in (1, 2):
            f = pt[(pt["lhs"] == lhs) & (pt["op"] == "~") & (pt["rhs"] == rhs) & (pt["group"] == g)]["free"]
            frees.append(int(f.iloc[0]) if len(f) else 0)
        b = sub.set_index("group")["est"]
        std = sub.set_index("group")["std_all"]
        if min(frees) <= 0 or frees[0] == frees[1]:
            continue
        i, j = frees[0] - 1, frees[1] - 1
        var = vcov[i, i] + vcov[j, j] - 2 * vcov[i, j]
        diff = float(b[1] - b[2])
        stat = diff * diff / var if var > 0 else float("nan")
        p = float(chi2.sf(stat, 1))
        out.append({"path": f"{lhs} ~ {rhs}", "lhs": lhs, "rhs": rhs,
                    "mechanism": (lhs, rhs) in set(mechanisms),
                    "est": {groups[0]: num(b[1]), groups[1]: num(b[2])},
                    "std_all": {groups[0]: num(std[1]), groups[1]: num(std[2])},
                    "difference": num(diff), "test": "Wald", "statistic": num(stat), "df": 1,
                    "pvalue": num(p), "differs": bool(p < options.alpha)})
    return out, res


def _unlabelled_regressions(model: str) -> str:
    """The model with labels removed from ``~`` terms and ``:=`` lines dropped."""
    from surveykit import parse_model

    table = parse_model(model)
    lines = []
    for op in ("=~", "~", "~~"):
        sub = table[table["op"] == op]
        for lhs in dict.fromkeys(sub["lhs"]):
            terms = []
            for r in sub[sub["lhs"] == lhs].itertuples():
                fixed = "" if pd.isna(r.fixed) else f"{r.fixed:g}*"
                terms.append(f"{fixed}{r.rhs}")
            lines.append(f"{lhs} {op} " + " + ".join(terms))
    return "\n".join(lines)


def preflight(groups: dict[str, dict[str, Any]], free_parameters: int,
              options: AnalysisOptions) -> dict[str, Any]:
    """Empty answer categories per group and N per group against the free parameters."""
    empty = []
    for gid, res in groups.items():
        for row in res["item_stats"]:
            for cat in row["empty_categories"]:
                empty.append({"group": gid, "item": row["item"], "category": cat})
    warnings_: list[dict[str, str]] = []
    n = {gid: res["n_analysed"] for gid, res in groups.items()}
    for gid, ng in n.items():
        if ng < options.cutoffs["min_n_per_parameter"] * free_parameters:
            warnings_.append({"en": f"{gid}: {ng} firms for {free_parameters} free parameters per group.",
                              "zh": f"{gid}：{ng} 家企业，每组 {free_parameters} 个自由参数。"})
    if empty:
        warnings_.append({"en": f"{len(empty)} item categories are empty in a cluster; the items are "
                                "treated as continuous, so the comparison is still defined, but an "
                                "ordinal analysis would need those categories merged.",
                          "zh": f"有 {len(empty)} 个题项类别在某一集群中无人选择；题项按连续变量处理，"
                                "比较仍可进行，但有序分析需合并这些类别。"})
    return {"n": n, "free_parameters": free_parameters, "empty_categories": empty, "warnings": warnings_}
