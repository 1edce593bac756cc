"""Test fixture: write a results bundle that follows the results-bundle contract.

The numbers are invented (drawn from a seeded generator) and mean nothing: the
report tests check rendering, never statistics.  The bundle deliberately holds
hostile text where data-derived text can appear: a firm named
``<script>alert(1)</script>``, LaTeX-hostile names such as ``R&D_100% {x}``,
spreadsheet formulas and a control character.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

SCRIPT = "<script>alert(1)</script>"
LATEX_HOSTILE = "R&D_100% {x}"
FORMULA = '=HYPERLINK("http://example.invalid/x","click")'
CONTROL = "bell\x07and\x0bvertical tab"

CONSTRUCTS = {
    "LEARN": ("集群学习", "Cluster learning", "basic"),
    "INNOV": ("集群式创新", "Cluster innovation", "basic"),
    "GVC": ("全球价值链的嵌入", "GVC insertion", "basic"),
    "SOCAP": ("社会资本", "Social capital", "basic"),
    "POLICY": ("以产业集群升级为导向的公共政策", "Upgrading-oriented public policy", "auxiliary"),
    "LEADER": ("产业集群中的主导企业", "Dominant enterprises", "auxiliary"),
    "GOVERN": ("集群治理", "Cluster governance", "governance"),
    "UP_TECH": ("技术能力升级", "Technical capability upgrading", "outcome"),
    "UP_INNOV": ("创新能力升级", "Innovation capability upgrading", "outcome"),
    "UP_LINK": ("外向关联升级", "Outside correlation upgrading", "outcome"),
    "UP_SOCAP": ("社会资本升级", "Social-capital capability upgrading", "outcome"),
}
REVERSE = {"LEARN4", "GVC4", "POLICY4", "GOVERN4", "UP_INNOV4", "UP_SOCAP4"}
GROUPS = {
    "ningbo_apparel": {"zh": "宁波服装产业集群", "en": "Ningbo apparel cluster"},
    "yongkang_hardware": {"zh": "永康五金产业集群", "en": "Yongkang hardware cluster"},
}
PATHS = [("LEARN", "POLICY", "pL"), ("LEARN", "LEADER", "dL"), ("LEARN", "GOVERN", "gL"),
         ("INNOV", "POLICY", "pI"), ("INNOV", "LEADER", "dI"), ("INNOV", "GOVERN", "gI"),
         ("GVC", "POLICY", "pG"), ("GVC", "LEADER", "dG"), ("GVC", "GOVERN", "gG"),
         ("SOCAP", "POLICY", "pS"), ("SOCAP", "LEADER", "dS"), ("SOCAP", "GOVERN", "gS"),
         ("UP_TECH", "LEARN", "mL"), ("UP_TECH", "GVC", "xGT"), ("UP_INNOV", "INNOV", "mI"),
         ("UP_INNOV", "LEARN", "xLI"), ("UP_LINK", "GVC", "mG"), ("UP_LINK", "SOCAP", "xSG"),
         ("UP_SOCAP", "SOCAP", "mS")]
FIT_KEYS = ("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_low", "rmsea_ci_high", "srmr",
            "chisq_df", "gfi", "agfi", "nfi", "ifi", "aic", "bic", "n", "chisq_scaled", "cfi_robust",
            "tli_robust", "rmsea_robust")


def _items() -> dict[str, list[str]]:
    return {c: [f"{c}{i}" for i in range(1, 5)] for c in CONSTRUCTS}


def _fit(rng: random.Random, n: int) -> dict:
    fit = {k: round(rng.uniform(0.02, 0.98), 4) for k in FIT_KEYS}
    fit.update(chisq=round(rng.uniform(900, 1100), 3), df=814, n=n, aic=round(rng.uniform(3e4, 4e4), 2),
               bic=round(rng.uniform(3e4, 4e4), 2), chisq_scaled=round(rng.uniform(800, 1000), 3),
               chisq_df=round(rng.uniform(1.1, 1.5), 3), pvalue=0.0004, cfi=0.962, tli=0.957, rmsea=0.031,
               srmr=0.041)
    return fit


def _group(rng: random.Random, gid: str, n: int, hostile: bool) -> dict:
    items = _items()
    stats = []
    for c, its in items.items():
        for it in its:
            counts = {str(k): rng.randint(2, 90) for k in range(1, 6)}
            if it == "GVC1" and gid == "yongkang_hardware":
                counts["1"] = 0
            total = sum(counts.values())
            stats.append({"item": it, "construct": c, "n": total, "missing": rng.randint(0, 4),
                          "mean": round(rng.uniform(2.5, 4.2), 4), "sd": round(rng.uniform(0.7, 1.3), 4),
                          "skewness": round(rng.uniform(-0.9, 0.3), 4),
                          "kurtosis": round(rng.uniform(-0.8, 0.6), 4), "counts": counts,
                          "floor": counts["1"] / total, "ceiling": counts["5"] / total,
                          "empty_categories": [1] if counts["1"] == 0 else []})
    reliability = [{"construct": c, "n_items": 4, "n": n, "alpha": round(rng.uniform(0.65, 0.9), 4),
                    "alpha_ci_low": 0.6, "alpha_ci_high": 0.92, "alpha_std": round(rng.uniform(0.7, 0.9), 4),
                    "omega": round(rng.uniform(0.7, 0.9), 4), "cr": round(rng.uniform(0.7, 0.9), 4),
                    "ave": round(rng.uniform(0.45, 0.7), 4)} for c in CONSTRUCTS]
    factors = [f"F{i}" for i in range(1, len(CONSTRUCTS) + 1)]
    loadings = {it: {f: round(rng.uniform(-0.15, 0.85) if fi == ci else rng.uniform(-0.12, 0.12), 3)
                     for fi, f in enumerate(factors)}
                for ci, its in enumerate(items.values()) for it in its}
    names = list(CONSTRUCTS)
    corr = {a: {b: (1.0 if a == b else round(rng.uniform(-0.2, 0.6), 3)) for b in names} for a in names}
    for i, a in enumerate(names):  # symmetric
        for b in names[:i]:
            corr[a][b] = corr[b][a]
    sqrt_ave = {c: round(rng.uniform(0.68, 0.82), 3) for c in names}
    fl = {a: {b: (sqrt_ave[a] if a == b else corr[a][b]) for b in names} for a in names}
    htmt = {a: {b: round(abs(corr[a][b]) + 0.05 + (0.4 if (a, b) == ("INNOV", "LEARN") else 0), 3)
                for b in names[: names.index(a)]} for a in names}
    cfa_loadings = []
    for c, its in items.items():
        for j, it in enumerate(its):
            fixed = j == 0
            cfa_loadings.append({"factor": c, "item": it, "est": 1.0 if fixed else round(rng.uniform(0.7, 1.3), 4),
                                 "se": None if fixed else round(rng.uniform(0.05, 0.1), 4),
                                 "z": None if fixed else round(rng.uniform(8, 15), 3),
                                 "pvalue": None if fixed else 0.0, "std_all": round(rng.uniform(0.45, 0.88), 4)})
    paths = []
    for lhs, rhs, label in PATHS:
        est = round(rng.uniform(-0.1, 0.5), 4)
        se = round(rng.uniform(0.05, 0.1), 4)
        p = round(rng.choice([0.0, 0.0004, 0.003, 0.02, 0.3, 0.71]), 4)
        paths.append({"lhs": lhs, "op": "~", "rhs": rhs, "label": label, "est": est, "se": se,
                      "z": round(est / se, 3), "pvalue": p, "ci_lower": round(est - 1.96 * se, 4),
                      "ci_upper": round(est + 1.96 * se, 4), "std_all": round(est * 1.1, 4)})
    indirect = [{"name": name, "expression": expr, "est": round(rng.uniform(0.0, 0.2), 4), "se": 0.03,
                 "pvalue": round(rng.uniform(0, 0.2), 4), "ci_lower": round(rng.uniform(-0.05, 0.05), 4),
                 "ci_upper": round(rng.uniform(0.1, 0.3), 4), "ci_method": "bootstrap percentile",
                 "std_all": round(rng.uniform(0, 0.2), 4)}
                for name, expr in (("POLICY_LEARN_TECH", "pL*mL"), ("POLICY_GVC_LINK", "pG*mG"),
                                   ("LEADER_SOCAP_SOCAP", "dS*mS"))]
    composite = {k: [{"lhs": lhs, "rhs": rhs, "est": round(rng.uniform(-0.1, 0.5), 4), "se": 0.05,
                      "pvalue": round(rng.uniform(0, 0.3), 4), **({"r2": 0.25} if k == "ols_hc3" else {})}
                     for lhs, rhs, _ in PATHS] for k in ("ols_hc3", "sur", "3sls")}
    findings = [
        {"code": "LIKERT_OUT_OF_RANGE", "severity": "error", "respondent": SCRIPT, "file": "forms/NB0012.xlsx",
         "sheet": "Questionnaire", "cell": "D40", "message": f"answer 7 outside 1..5 for firm {SCRIPT}"},
        {"code": "FREE_TEXT", "severity": "warning", "respondent": "NB0031", "file": f"{LATEX_HOSTILE}.xlsx",
         "sheet": "Data", "cell": "B7", "message": f"firm name {LATEX_HOSTILE} ~^ $ # \\ kept as given"},
        {"code": "FREE_TEXT", "severity": "info", "respondent": FORMULA, "file": "wide.xlsx", "sheet": "Data",
         "cell": "C9", "message": "@SUM(1+1)"},
        {"code": "FREE_TEXT", "severity": "info", "respondent": "-2+3", "file": "wide.xlsx", "sheet": "Data",
         "cell": "C10", "message": CONTROL},
        {"code": "STRAIGHT_LINING", "severity": "warning", "respondent": "+cmd|' /C calc'!A0",
         "file": "wide.xlsx", "sheet": "Data", "cell": "A11", "message": "\tsame answer on 44 items"},
    ]
    limits = [{"zh": f"样本量较小（n = {n}）；{LATEX_HOSTILE}。", "en": f"Small sample (n = {n}); {LATEX_HOSTILE}."}]
    if not hostile:
        findings, limits = findings[:1], limits
    return {
        "n_firms": n + 4, "n_analysed": n, "n_quarantined": 2, "n_flagged": 5,
        "data_quality": {"policy": {"max_missing_share": 0.2, "straight_lining": "flag",
                                    "quarantine": ["LIKERT_OUT_OF_RANGE"]},
                         "findings_by_severity": {"error": 1, "warning": 2, "info": 2}, "findings": findings},
        "item_stats": stats,
        "reliability": reliability,
        "factorability": {"kmo": 0.87, "kmo_items": {it: 0.85 for it in loadings}, "bartlett_chisq": 5000.1,
                          "bartlett_df": 946, "bartlett_pvalue": 0.0},
        "efa": {"method": "minres", "rotation": "oblimin", "n_factors": len(factors), "loadings": loadings,
                "communalities": {it: round(rng.uniform(0.3, 0.7), 3) for it in loadings},
                "variance_explained": {f: round(rng.uniform(0.04, 0.09), 4) for f in factors},
                "factor_correlations": {f: {g: 0.1 for g in factors if g != f} for f in factors},
                "parallel_analysis_factors": 11},
        "cmb": {"first_factor_share": 0.21, "flag_40": False, "flag_50": False, "single_factor_cfi": 0.41,
                "measurement_cfi": 0.97},
        "descriptives": {"means": {c: round(rng.uniform(2.8, 4.0), 3) for c in names},
                         "sds": {c: round(rng.uniform(0.5, 0.9), 3) for c in names},
                         "correlations": corr,
                         "pvalues": {a: {b: (0.0 if abs(corr[a][b]) > 0.3 else 0.2) for b in names} for a in names},
                         "sqrt_ave": sqrt_ave},
        "cfa": {"fit": _fit(rng, n), "loadings": cfa_loadings, "fornell_larcker": fl, "htmt": htmt, "htmt2": htmt},
        "structural": {"fit": _fit(rng, n), "paths": paths,
                       "r2": {c: round(rng.uniform(0.1, 0.5), 3) for c in names if c.startswith("UP_")
                              or CONSTRUCTS[c][2] == "basic"},
                       "indirect": indirect, "converged": True},
        "composite": composite,
        "moderation": [{"path": "UP_TECH ~ LEARN", "moderator": "GOVERN", "interaction": 0.05, "se": 0.03,
                        "pvalue": 0.1, "simple_slopes": {"-1sd": 0.2, "mean": 0.3, "+1sd": 0.4},
                        "johnson_neyman": [2.1, None]},
                       {"path": "UP_LINK ~ GVC", "moderator": "GOVERN", "interaction": 0.12, "se": 0.04,
                        "pvalue": 0.003, "simple_slopes": {"-1sd": 0.1, "mean": 0.25, "+1sd": 0.4},
                        "johnson_neyman": [None, None]}] if gid == "ningbo_apparel" else [
                       # the record layout written by surveykit analyze
                       {"path": "UP_TECH ~ LEARN", "y": "UP_TECH", "x": "LEARN", "moderator": "GOVERN",
                        "interaction": 0.07, "se": 0.03, "t": 2.3, "pvalue": 0.02, "r2_change": 0.011,
                        "simple_slopes": [{"w_label": "-1 SD", "effect": 0.15, "se": 0.08, "pvalue": 0.07},
                                          {"w_label": "mean", "effect": 0.25, "se": 0.07, "pvalue": 0.004},
                                          {"w_label": "+1 SD", "effect": 0.35, "se": 0.07, "pvalue": 0.0001}],
                        "johnson_neyman": [], "moderator_range": [1.0, 5.0]}],
        "mediation": [{"x": "POLICY", "m": "LEARN", "y": "UP_TECH", "indirect": 0.1, "ci_lower": 0.05,
                       "ci_upper": 0.16, "direct": 0.05, "total": 0.15},
                      {"x": "LEADER", "m": "SOCAP", "y": "UP_SOCAP", "indirect": 0.02, "ci_lower": -0.03,
                       "ci_upper": 0.07, "direct": 0.2, "total": 0.22}],
        "limits": limits,
    }


def make_bundle(root: Path, *, scope: str = "comparison", simulated: bool = True, hostile: bool = True,
                seed: int = 7) -> Path:
    """Write ``results.json`` and ``manifest.json`` under ``root`` and return the bundle folder."""
    rng = random.Random(seed)
    groups = list(GROUPS) if scope == "comparison" else ["ningbo_apparel"]
    items = _items()
    results = {
        "schema": "surveykit.results/1",
        "simulated": simulated,
        "title": {"zh": f"GUM 模型分析 {LATEX_HOSTILE}", "en": f"GUM model analysis {LATEX_HOSTILE}"},
        "created": "2026-11-21T23:30:00Z",
        "scope": scope,
        "groups": groups,
        "group_labels": {g: GROUPS[g] for g in groups},
        "constructs": {c: {"name": {"zh": zh, "en": en}, "role": role, "items": items[c],
                           "reverse": [i for i in items[c] if i in REVERSE]}
                       for c, (zh, en, role) in CONSTRUCTS.items()},
        "items": {i: {"text": {"zh": f"题目 {i}", "en": f"Question {i}"}, "construct": c, "reverse": i in REVERSE}
                  for c, its in items.items() for i in its},
        "scale": {"min": 1, "max": 5, "labels": {"1": {"zh": "非常不同意", "en": "Strongly disagree"},
                                                 "2": {"zh": "不同意", "en": "Disagree"},
                                                 "3": {"zh": "一般", "en": "Neither agree nor disagree"},
                                                 "4": {"zh": "同意", "en": "Agree"},
                                                 "5": {"zh": "非常同意", "en": "Strongly agree"}}},
        "model_text": "LEARN =~ LEARN1 + LEARN2 + LEARN3 + LEARN4\nUP_TECH ~ mL*LEARN\n",
        "options": {"estimator": "MLR", "bootstrap": 2000, "seed": 2010},
        "per_group": {g: _group(rng, g, 296 if i == 0 else 248, hostile) for i, g in enumerate(groups)},
    }
    if scope == "comparison":
        results["comparison"] = {
            "preflight": {"n": {"ningbo_apparel": 296, "yongkang_hardware": 248}, "free_parameters": 120,
                          "empty_categories": [{"group": "yongkang_hardware", "item": "GVC1", "category": 1}],
                          "warnings": [{"zh": "永康样本 N/q 约为 2.1。", "en": "Yongkang N/q is about 2.1."}]},
            "invariance": [
                {"step": "configural", "chisq": 2001.5, "df": 1628, "cfi": 0.958, "rmsea": 0.033, "srmr": 0.045,
                 "delta_chisq": None, "delta_df": None, "delta_pvalue": None, "delta_cfi": None,
                 "delta_rmsea": None, "decision": "holds", "freed": []},
                {"step": "metric", "chisq": 2040.2, "df": 1661, "cfi": 0.956, "rmsea": 0.033, "srmr": 0.049,
                 "delta_chisq": 38.7, "delta_df": 33, "delta_pvalue": 0.23, "delta_cfi": -0.002,
                 "delta_rmsea": 0.0, "decision": "holds", "freed": []},
                {"step": "scalar", "chisq": 2130.9, "df": 1694, "cfi": 0.944, "rmsea": 0.036, "srmr": 0.051,
                 "delta_chisq": 90.7, "delta_df": 33, "delta_pvalue": 0.00001, "delta_cfi": -0.012,
                 "delta_rmsea": 0.003, "decision": "partial",
                 "freed": [{"parameter": "GVC1~1", "score_test": 14.2, "cfi_after": 0.951, "rmsea_after": 0.046},
                           {"parameter": "GVC3~1", "score_test": 9.7, "cfi_after": 0.954, "rmsea_after": 0.045}]},
                {"step": "strict", "chisq": 2400.0, "df": 1738, "cfi": 0.91, "rmsea": 0.045, "srmr": 0.06,
                 "delta_chisq": 269.1, "delta_df": 44, "delta_pvalue": 0.0, "delta_cfi": -0.034,
                 "delta_rmsea": 0.009, "decision": "fails", "freed": []}],
            "cutoffs": {"delta_cfi": -0.01, "delta_rmsea": 0.015},
            "limits": [{"zh": "严格等同不成立，残差方差不可比较。",
                        "en": "Strict invariance fails: residual variances are not comparable."}],
            "path_tests": [{"path": f"{lhs} ~ {rhs}", "mechanism": lhs.startswith("UP_"),
                            "est": {g: round(rng.uniform(0, 0.6), 4) for g in groups},
                            "std_all": {g: round(rng.uniform(0, 0.6), 4) for g in groups},
                            "test": "Wald", "statistic": round(rng.uniform(0, 10), 3), "df": 1,
                            "pvalue": round(rng.uniform(0, 0.5), 4), "differs": rng.random() < 0.4}
                           for lhs, rhs, _ in PATHS if lhs.startswith("UP_")],
            "statement": {"zh": "两个集群的测量结构相同（部分强等同），全球价值链嵌入对外向关联升级的作用在宁波显著更强。",
                          "en": "Both clusters share the measurement structure (partial scalar invariance); "
                                "GVC insertion drives outside-correlation upgrading significantly more "
                                "strongly in Ningbo."},
        }
    name = "comparison" if scope == "comparison" else groups[0]
    bundle = Path(root) / name
    bundle.mkdir(parents=True, exist_ok=True)
    text = json.dumps(results, ensure_ascii=False, indent=1)
    (bundle / "results.json").write_text(text, encoding="utf-8")

    def sha(s: str) -> str:
        return hashlib.sha256(s.encode()).hexdigest()

    manifest = {
        "schema": "surveykit.manifest/1",
        "created": "2026-11-21T23:30:00Z",
        "command": f"surveykit analyze --store survey.db --out reports/{name}",
        "store": {"path": "survey.db", "sha256": sha("store")},
        "inputs": [{"path": f"questionnaires/examples/{g}/{g}_wide.xlsx", "sha256": sha(g), "size": 87623,
                    "codebook": g, "simulated": simulated} for g in groups]
                  + [{"path": f"uploads/{LATEX_HOSTILE}.xlsx", "sha256": sha("x"), "size": 100,
                      "codebook": groups[0], "simulated": simulated}],
        "codebooks": [{"id": g, "version": "1.0", "path": f"questionnaires/{g}.yaml", "sha256": sha(g + "cb")}
                      for g in groups],
        "model": {"path": "questionnaires/gum_model.lav", "sha256": sha("model"), "text": results["model_text"]},
        "options": {"estimator": "MLR", "bootstrap": 2000, "seed": 2010, "groups": groups},
        "seed": 2010,
        "versions": {"surveykit": "0.1.0", "python": "3.11.7", "numpy": "2.4.0", "scipy": "1.17.0"},
        "results_sha256": sha(text),
    }
    (bundle / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return bundle
