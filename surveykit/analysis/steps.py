"""The per-cluster steps of the GUM analysis, each returning plain JSON-ready data.

Order as a reviewer reads them: data quality → item statistics → reliability →
factorability and EFA → common method bias → CFA with CR, AVE,
Fornell–Larcker and HTMT → structural model with indirect effects →
composite robustness (OLS-HC3, SUR, 3SLS) → governance moderation and
composite mediation → honest limits.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd

from surveykit.analysis.composite import Equation, composite_paths, structural_equations
from surveykit.analysis.data import GroupData, scored
from surveykit.analysis.options import AnalysisOptions
from surveykit.analysis.process import mediation, moderation
from surveykit.codebook import Codebook

FIT_KEYS = ("chisq", "df", "pvalue", "chisq_df", "cfi", "tli", "rmsea", "rmsea_ci_low",
            "rmsea_ci_high", "rmsea_pclose", "srmr", "gfi", "agfi", "nfi", "ifi", "rfi", "pnfi",
            "pgfi", "loglik", "aic", "bic", "n", "npar", "chisq_scaled", "df_scaled",
            "pvalue_scaled", "scaling_factor", "cfi_robust", "tli_robust", "rmsea_robust",
            "baseline_chisq", "baseline_df")


def num(x: Any) -> Any:
    """A JSON-ready number: Python float/int, NaN and infinities as None."""
    if x is None:
        return None
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    try:
        f = float(x)
    except (TypeError, ValueError):
        return x
    return None if math.isnan(f) or math.isinf(f) else f


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """DataFrame rows as JSON-ready dicts."""
    return [{k: num(v) if not isinstance(v, str) else v for k, v in row.items()}
            for row in frame.to_dict(orient="records")]


def matrix(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """A labelled matrix as nested dicts row -> column -> value."""
    return {str(r): {str(c): num(frame.loc[r, c]) for c in frame.columns} for r in frame.index}


def measurement_model(model_text: str) -> str:
    """The ``=~`` lines of a model: its CFA with every factor free to covary."""
    from surveykit import parse_model

    table = parse_model(model_text)
    loads = table[table["op"] == "=~"]
    lines = []
    for lv in dict.fromkeys(loads["lhs"]):
        lines.append(f"{lv} =~ " + " + ".join(loads.loc[loads["lhs"] == lv, "rhs"]))
    return "\n".join(lines)


def single_factor_model(items: list[str]) -> str:
    """Every item on one factor: the CFA version of Harman's test."""
    return "CMV =~ " + " + ".join(items)


def mechanism_paths(codebook: Codebook, equations: list[Equation]) -> list[tuple[str, str]]:
    """The four sub-mechanisms: each outcome with the basic factor named first in its equation."""
    roles = {cid: c.role for cid, c in codebook.constructs.items()}
    out = []
    for eq in equations:
        if roles.get(eq.lhs) == "outcome":
            basic = [v for v in eq.rhs if roles.get(v) == "basic"]
            if basic:
                out.append((eq.lhs, basic[0]))
    return out


def data_quality(group: GroupData) -> dict[str, Any]:
    f = group.findings
    by_sev = f["severity"].value_counts().to_dict() if len(f) else {}
    cols = [c for c in ("code", "severity", "respondent", "file", "sheet", "cell", "item", "message")
            if c in f.columns]
    listed = f[f["severity"].isin(["error", "warning"])][cols] if len(f) else f
    return {"policy": group.policy, "findings_by_severity": {k: int(v) for k, v in by_sev.items()},
            "findings": records(listed.head(500).astype(object).where(listed.head(500).notna(), None))
            if len(listed) else []}


def item_statistics(answers: pd.DataFrame, codebook: Codebook) -> list[dict[str, Any]]:
    """Distribution of every Likert item as answered (reverse-keyed items not reversed)."""
    from surveykit.measure import item_stats

    items = [i.id for i in codebook.likert_items()]
    scale = codebook.likert_items()[0].scale
    table = item_stats(answers, items, scale=(scale.min, scale.max)).table.loc["(all)"]
    out = []
    for item in codebook.likert_items():
        row = table.loc[item.id]
        x = answers[item.id].dropna()
        counts = {str(p): int((x == p).sum()) for p in scale.points}
        out.append({"item": item.id, "construct": item.construct, "reverse": item.reverse,
                    "n": num(row["n"]), "missing": num(row["missing"]), "mean": num(row["mean"]),
                    "sd": num(row["sd"]), "skewness": num(row["skew"]), "kurtosis": num(row["kurtosis"]),
                    "counts": counts, "floor": num(row["floor"]), "ceiling": num(row["ceiling"]),
                    "empty_categories": [int(p) for p in scale.points if counts[str(p)] == 0]})
    return out


def reliability_table(answers: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    from surveykit.measure import reliability

    scale = codebook.likert_items()[0].scale
    return reliability(answers, codebook.construct_items(), reverse=codebook.reverse_items,
                       scale=(scale.min, scale.max))


def factor_checks(items: pd.DataFrame, n_factors: int, options: AnalysisOptions) -> dict[str, Any]:
    from surveykit.measure import bartlett, efa, harman, kmo, parallel_analysis

    k = kmo(items)
    b = bartlett(items)
    fa = efa(items, n_factors, method=options.efa_method, rotation=options.efa_rotation)
    pa = parallel_analysis(items, n_iter=options.parallel_iterations, seed=options.seed)
    h = harman(items)
    loadings = fa.loadings
    factor_cor = fa.phi if fa.phi is not None else None
    return {
        "factorability": {"kmo": num(k.overall), "kmo_items": {i: num(v) for i, v in k.per_item.items()},
                          "bartlett_chisq": num(b.statistic), "bartlett_df": num(b.df),
                          "bartlett_pvalue": num(b.pvalue)},
        "efa": {"method": fa.method, "rotation": fa.rotation, "n_factors": int(fa.n_factors),
                "loadings": matrix(loadings), "communalities": {i: num(v) for i, v in fa.communality.items()},
                "variance_explained": {str(f): num(v) for f, v in fa.proportion_var.items()},
                "factor_correlations": matrix(factor_cor) if factor_cor is not None else None,
                "parallel_analysis_factors": int(pa.n_factors), "converged": bool(fa.converged)},
        "cmb": {"method": h.method, "first_factor_share": num(h.share), "flag_40": bool(h.above_40),
                "flag_50": bool(h.above_50)},
    }


def _can_spawn() -> bool:
    """Whether worker processes can be spawned: not when the main program came from stdin."""
    import sys
    from pathlib import Path

    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    return main_file is None or Path(main_file).exists()


def fit_dict(fit: dict[str, float]) -> dict[str, Any]:
    return {k: num(fit.get(k)) for k in FIT_KEYS if k in fit}


def _fit_sem(model: str, data: pd.DataFrame, options: AnalysisOptions, *, bootstrap: int = 0,
             **kw) -> tuple[Any, list[str]]:
    """Fit with surveykit.sem; return the result and the warnings it raised (as text).

    Bootstrap fits use plain ML: the draws give the same percentile intervals
    whatever the standard errors, so the robust corrections would be wasted.
    """
    import os

    from surveykit import sem

    estimator = "ML" if bootstrap else options.estimator
    n_jobs = (options.workers or os.cpu_count() or 1) if bootstrap and _can_spawn() else 1
    if bootstrap:
        kw.setdefault("boot_standardized", True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = sem(model, data, estimator=estimator, missing=options.missing,
                  bootstrap=bootstrap, seed=options.seed, n_jobs=n_jobs, **kw)
    return res, [str(w.message) for w in caught]


def cfa_step(model_text: str, items: pd.DataFrame, composites_htmt: dict[str, Any],
             options: AnalysisOptions) -> tuple[dict[str, Any], Any]:
    """CFA of all constructs: fit, loadings, CR/AVE, Fornell–Larcker; HTMT passed in."""
    res, warns = _fit_sem(measurement_model(model_text), items, options)
    est = res.estimates
    loads = est[est["op"] == "=~"]
    rel = res.reliability()
    fl = res.fornell_larcker()
    return {
        "converged": bool(res.converged), "warnings": warns, "fit": fit_dict(res.fit),
        "loadings": [{"factor": r.lhs, "item": r.rhs, "est": num(r.est), "se": num(r.se),
                      "z": num(r.z), "pvalue": num(r.pvalue), "std_all": num(r.std_all)}
                     for r in loads.itertuples()],
        "reliability": [{"construct": f, "cr": num(rel.loc[f, "omega"]), "ave": num(rel.loc[f, "ave"])}
                        for f in rel.index],
        "fornell_larcker": matrix(fl),
        **composites_htmt,
    }, res


def structural_step(model_text: str, items: pd.DataFrame, options: AnalysisOptions,
                    boot_progress=None) -> tuple[dict[str, Any], Any]:
    """The full structural model: paths, R², indirect effects (bootstrap percentile CIs).

    The standardized indirect effects get percentile intervals from the same draws.
    """
    res, warns = _fit_sem(model_text, items, options)
    est = res.estimates
    paths = est[est["op"] == "~"]
    out: dict[str, Any] = {
        "converged": bool(res.converged), "warnings": warns, "fit": fit_dict(res.fit),
        "paths": [{"lhs": r.lhs, "rhs": r.rhs, "label": r.label or "", "est": num(r.est), "se": num(r.se),
                   "z": num(r.z), "pvalue": num(r.pvalue), "ci_lower": num(r.ci_lower),
                   "ci_upper": num(r.ci_upper), "std_all": num(r.std_all)} for r in paths.itertuples()],
        "r2": {k: num(v) for k, v in res.r2.items() if k in set(paths["lhs"])},
    }
    defined = est[est["op"] == ":="]
    ci_method = "delta method"
    boot = None
    if options.bootstrap and len(defined):
        boot, bwarns = _fit_sem(model_text, items, options, bootstrap=options.bootstrap,
                                progress=boot_progress)
        out["warnings"] += [w for w in bwarns if w not in out["warnings"]]
        defined_boot = boot.estimates[boot.estimates["op"] == ":="].set_index("lhs")
        std_boot = boot.bootstrap.table(level=1 - options.alpha).set_index("name")
        ci_method = f"bootstrap percentile ({options.bootstrap} draws)"
    out["indirect"] = []
    for r in defined.itertuples():
        lo, hi = r.ci_lower, r.ci_upper
        if boot is not None:
            lo, hi = defined_boot.loc[r.lhs, "ci_lower"], defined_boot.loc[r.lhs, "ci_upper"]
        row = {"name": r.lhs, "expression": r.rhs, "est": num(r.est), "se": num(r.se),
               "pvalue": num(r.pvalue), "ci_lower": num(lo), "ci_upper": num(hi),
               "ci_method": ci_method, "std_all": num(r.std_all)}
        if boot is not None and f"std_all:{r.lhs}" in std_boot.index:
            row["std_ci_lower"] = num(std_boot.loc[f"std_all:{r.lhs}", "perc_lower"])
            row["std_ci_upper"] = num(std_boot.loc[f"std_all:{r.lhs}", "perc_upper"])
        out["indirect"].append(row)
    return out, res


def composite_step(composites: pd.DataFrame, codebook: Codebook, equations: list[Equation],
                   options: AnalysisOptions) -> dict[str, Any]:
    """Robustness on composite scores: OLS-HC3/SUR/3SLS, governance moderation, mediation."""
    tables = composite_paths(composites, equations)
    out: dict[str, Any] = {"composite": {k: records(v) for k, v in tables.items()}}
    roles = {cid: c.role for cid, c in codebook.constructs.items()}
    governance = [c for c, r in roles.items() if r == "governance"]
    eq_by_lhs = {e.lhs: e for e in equations}
    mods = []
    for y, x in mechanism_paths(codebook, equations):
        for w in governance:
            covs = [v for v in eq_by_lhs[y].rhs if v not in (x, w)]
            m = moderation(composites, y, x, w, covariates=covs, alpha=options.alpha)
            mods.append({"path": f"{y} ~ {x}", "y": y, "x": x, "moderator": w, "covariates": covs,
                         "n": m.n, "interaction": num(m.interaction), "se": num(m.interaction_se),
                         "t": num(m.interaction_t), "pvalue": num(m.interaction_pvalue),
                         "r2_change": num(m.r2_change),
                         "simple_slopes": records(m.slopes),
                         "johnson_neyman": [num(p) for p in m.jn_points],
                         "moderator_range": [num(m.w_range[0]), num(m.w_range[1])]})
    out["moderation"] = mods
    meds = []
    if options.bootstrap:
        aux = [c for c, r in roles.items() if r == "auxiliary"]
        for k, (y, m_) in enumerate(mechanism_paths(codebook, equations)):
            for j, x in enumerate(aux):
                res = mediation(composites, x, m_, y, n_boot=max(options.bootstrap, 100),
                                seed=options.seed + 100 * k + j, level=1 - options.alpha)
                meds.append({"x": x, "m": m_, "y": y, "n": res.n, "a": num(res.a), "b": num(res.b),
                             "indirect": num(res.indirect), "ci_lower": num(res.ci_lower),
                             "ci_upper": num(res.ci_upper), "direct": num(res.direct),
                             "total": num(res.total), "significant": res.significant,
                             "n_boot": res.n_boot})
    out["mediation"] = meds
    return out


def free_parameters(model_text: str, items: pd.DataFrame) -> int:
    """Free parameters of the model as surveykit.sem estimates it in one group."""
    from surveykit.sem.partable import build_partable
    from surveykit.sem.syntax import parse_rows

    return build_partable(parse_rows(model_text), data_names=list(items.columns), ngroups=1).nfree


def analyse_group(group: GroupData, model_text: str, options: AnalysisOptions,
                  boot_progress=None) -> tuple[dict[str, Any], pd.DataFrame]:
    """Every per-cluster step for one cluster (or the pooled sample).

    Returns the JSON-ready results and the composite scores (item means).
    """
    from surveykit import parse_model
    from surveykit.measure import composite_scores, describe_constructs, htmt

    cb = group.codebook
    answers = group.answers
    items = scored(answers, cb)
    scale = cb.likert_items()[0].scale
    constructs = cb.construct_items()
    limits: list[dict[str, str]] = []
    out: dict[str, Any] = {
        "label": group.label, "n_firms": group.n_firms, "n_analysed": int(len(answers)),
        "n_quarantined": group.n_quarantined, "n_flagged": group.n_flagged,
        "data_quality": data_quality(group),
        "item_stats": item_statistics(answers, cb),
    }
    rel = reliability_table(answers, cb)
    out.update(factor_checks(items, len(constructs), options))
    ht = htmt(items, constructs)
    htmt_part = {"htmt": matrix(ht.arithmetic), "htmt2": matrix(ht.geometric)}
    composites = composite_scores(answers, constructs, reverse=cb.reverse_items,
                                  scale=(scale.min, scale.max))
    equations = structural_equations(parse_model(model_text))

    q = free_parameters(model_text, items)
    n_complete = int(items.dropna().shape[0]) if options.missing == "listwise" else int(len(items))
    ratio = n_complete / q if q else float("inf")
    out["sample_size"] = {"n": n_complete, "free_parameters": q, "n_per_parameter": num(ratio)}
    latent_ok = n_complete >= options.cutoffs["min_n"] and ratio >= options.cutoffs["min_n_per_parameter"]
    dropped = int(len(items)) - n_complete
    if dropped:
        limits.append({
            "en": f"Listwise deletion: {dropped} of {len(items)} firms left at least one rating item "
                  "blank and are not in the latent models (lavaan's default); `--missing ml` (FIML) "
                  "uses every answer.",
            "zh": f"成列删除：{len(items)} 家企业中有 {dropped} 家至少一道量表题未作答，未进入潜变量模型"
                  "（lavaan 默认做法）；`--missing ml`（全信息最大似然）可利用全部答案。"})
    ave = None
    if latent_ok:
        if ratio < options.cutoffs["caution_n_per_parameter"]:
            limits.append({
                "en": f"{n_complete} firms for {q} free parameters ({ratio:.1f} per parameter): "
                      f"below {options.cutoffs['caution_n_per_parameter']:.0f} per parameter the latent "
                      "estimates are less stable; read them beside the composite results.",
                "zh": f"{n_complete} 家企业对应 {q} 个自由参数（每参数 {ratio:.1f} 个样本），低于每参数 "
                      f"{options.cutoffs['caution_n_per_parameter']:.0f} 个样本，潜变量估计稳定性较差，"
                      "请结合合成分数结果解读。"})
        cfa_part, cfa_res = cfa_step(model_text, items, htmt_part, options)
        out["cfa"] = cfa_part
        ave = {r["construct"]: r["ave"] for r in cfa_part["reliability"]}
        try:
            single, _ = _fit_sem(single_factor_model([c for c in items.columns]), items, options)
            out["cmb"]["single_factor_cfi"] = num(single.fit.get("cfi"))
            out["cmb"]["single_factor_chisq"] = num(single.fit.get("chisq"))
            out["cmb"]["single_factor_df"] = num(single.fit.get("df"))
            out["cmb"]["measurement_cfi"] = cfa_part["fit"].get("cfi")
        except Exception as exc:  # the comparison is auxiliary; say why it is missing
            out["cmb"]["single_factor_error"] = str(exc)
        if not cfa_part["converged"]:
            limits.append({"en": "The CFA did not converge; its numbers are not interpretable.",
                           "zh": "验证性因子分析未收敛，其结果不可解释。"})
        struct, sres = structural_step(model_text, items, options, boot_progress)
        out["structural"] = struct
        if not struct["converged"]:
            limits.append({"en": "The structural model did not converge; the composite path analysis "
                                 "below is the result to read.",
                           "zh": "结构方程模型未收敛，请以下文合成分数路径分析为准。"})
    else:
        out["cfa"] = {"skipped": True, **htmt_part}
        out["structural"] = {"skipped": True}
        limits.append({
            "en": f"Too few firms for the latent model: {n_complete} firms for {q} free parameters "
                  f"(rule: at least {options.cutoffs['min_n']} firms and "
                  f"{options.cutoffs['min_n_per_parameter']:.0f} per parameter). The structural paths "
                  "are estimated on composite scores only.",
            "zh": f"样本量不足以估计潜变量模型：{n_complete} 家企业对应 {q} 个自由参数（规则：至少 "
                  f"{options.cutoffs['min_n']} 家企业且每参数至少 {options.cutoffs['min_n_per_parameter']:.0f} 个样本）。"
                  "结构路径仅以合成分数估计。"})
    rel_rows = records(rel.reset_index().rename(columns={"index": "construct"}))
    if ave is not None:
        cr = {r["construct"]: r["cr"] for r in out["cfa"]["reliability"]}
        for row in rel_rows:
            row["cr"], row["ave"] = cr.get(row["construct"]), ave.get(row["construct"])
    out["reliability"] = rel_rows
    desc = describe_constructs(answers, constructs, reverse=cb.reverse_items,
                               scale=(scale.min, scale.max), ave=ave)
    out["descriptives"] = {
        "means": {k: num(v) for k, v in desc.stats["mean"].items()},
        "sds": {k: num(v) for k, v in desc.stats["sd"].items()},
        "correlations": matrix(desc.corr), "pvalues": matrix(desc.pvalues),
        "sqrt_ave": {k: num(math.sqrt(v)) for k, v in (ave or {}).items() if v is not None}}
    out.update(composite_step(composites, cb, equations, options))
    out["limits"] = limits
    return out, composites


__all__ = ["analyse_group", "measurement_model", "mechanism_paths", "num", "records", "matrix",
           "free_parameters"]
