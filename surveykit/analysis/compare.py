"""The Ningbo–Yongkang comparison: does one mechanism hold with paths of different strength?"""

from __future__ import annotations

from typing import Any

import pandas as pd

from surveykit.analysis.data import GroupData, scored
from surveykit.analysis.invariance import invariance_ladder, path_differences, preflight
from surveykit.analysis.options import AnalysisOptions
from surveykit.analysis.steps import free_parameters, measurement_model, mechanism_paths

_GROUP_COLUMN = "_cluster"


def compare_clusters(groups: list[GroupData], per_group: dict[str, Any], model_text: str,
                     options: AnalysisOptions) -> dict[str, Any]:
    """Pre-flight, invariance ladder, path differences and the plain-language statement."""
    from surveykit import parse_model
    from surveykit.analysis.composite import structural_equations

    ids = [g.id for g in groups]
    frames = []
    for g in groups:
        part = scored(g.answers, g.codebook)
        part[_GROUP_COLUMN] = g.id
        frames.append(part)
    data = pd.concat(frames, ignore_index=True)
    q = free_parameters(model_text, data.drop(columns=_GROUP_COLUMN))
    pre = preflight({gid: per_group[gid] for gid in ids}, q, options)
    out: dict[str, Any] = {"preflight": pre, "cutoffs": {"delta_cfi": options.cutoffs["delta_cfi"],
                                                          "delta_rmsea": options.cutoffs["delta_rmsea"]},
                           "fit_indices": "robust (MLR)" if options.estimator == "MLR" else "ML"}
    latent_possible = all(per_group[gid].get("structural", {}).get("paths") for gid in ids)
    mechanisms = mechanism_paths(groups[0].codebook, structural_equations(parse_model(model_text)))
    if not latent_possible:
        out["limits"] = [{
            "en": "The latent model could not be estimated in every cluster (see each cluster's "
                  "limits), so the invariance ladder is not run and the path differences are tested "
                  "on composite scores.",
            "zh": "并非每个集群都能估计潜变量模型（见各集群的局限说明），因此未进行测量不变性检验，"
                  "路径差异以合成分数检验。"}]
        out["invariance"] = []
        out["path_tests"] = _composite_path_tests(per_group, ids, mechanisms, options)
        out["path_test_basis"] = "composite"
        out["statement"] = statement(out["path_tests"], groups, invariance=None)
        return out
    ladder, accepted, partial = invariance_ladder(measurement_model(model_text), data, _GROUP_COLUMN, options)
    out["invariance"] = ladder
    # path differences need at least metric invariance: compare in the model with the measurement
    # constraints that held (loadings, and intercepts when scalar invariance held)
    equal = tuple(k for k in accepted if k in ("loadings", "intercepts"))
    if "loadings" not in equal:
        out["path_tests"] = _composite_path_tests(per_group, ids, mechanisms, options)
        out["path_test_basis"] = "composite"
        out.setdefault("limits", []).append({
            "en": "Metric invariance does not hold, so latent paths are not comparable; the path "
                  "tests use composite scores and must be read with that caveat.",
            "zh": "度量不变性不成立，潜变量路径不可比较；路径检验改用合成分数，解读时须注意。"})
    else:
        partial_here = [p for p in partial if ("=~" in p) or ("~1" in p and "intercepts" in equal)]
        tests, _ = path_differences(model_text, data, _GROUP_COLUMN, ids, options, equal, partial_here,
                                    mechanisms)
        out["path_tests"] = tests
        out["path_test_basis"] = "latent (" + ", ".join(equal) + " equal" + \
            (f"; freed {', '.join(partial_here)}" if partial_here else "") + ")"
    out["statement"] = statement(out["path_tests"], groups, invariance=ladder)
    return out


def _composite_path_tests(per_group: dict[str, Any], ids: list[str], mechanisms, options) -> list[dict]:
    """Difference of OLS composite paths between two independent samples (z test)."""
    from scipy.stats import norm

    from surveykit.analysis.steps import num

    a, b = ({(r["lhs"], r["rhs"]): r for r in per_group[g]["composite"]["ols_hc3"]} for g in ids)
    out = []
    for key in a:
        if key not in b:
            continue
        diff = a[key]["est"] - b[key]["est"]
        se = (a[key]["se"] ** 2 + b[key]["se"] ** 2) ** 0.5
        z = diff / se
        p = float(2 * norm.sf(abs(z)))
        out.append({"path": f"{key[0]} ~ {key[1]}", "lhs": key[0], "rhs": key[1],
                    "mechanism": key in set(mechanisms),
                    "est": {ids[0]: num(a[key]["est"]), ids[1]: num(b[key]["est"])},
                    "std_all": {ids[0]: num(a[key]["std"]), ids[1]: num(b[key]["std"])},
                    "difference": num(diff), "test": "z (composite OLS-HC3)", "statistic": num(z * z),
                    "df": 1, "pvalue": num(p), "differs": bool(p < options.alpha)})
    return out


def statement(tests: list[dict], groups: list[GroupData], invariance: list[dict] | None) -> dict[str, str]:
    """A plain-language summary of which mechanism paths differ between the clusters."""
    ids = [g.id for g in groups]
    name = {g.id: g.label for g in groups}
    cons = groups[0].codebook.constructs
    mech = [t for t in tests if t["mechanism"]]
    differ = [t for t in mech if t["differs"]]
    same = [t for t in mech if not t["differs"]]

    def label(t, lang):
        return f"{cons[t['rhs']].name[lang]} → {cons[t['lhs']].name[lang]}"

    def stronger(t, lang):
        a, b = t["std_all"][ids[0]], t["std_all"][ids[1]]
        who = name[ids[0]][lang] if (a or 0) > (b or 0) else name[ids[1]][lang]
        if lang == "en":
            return f"{label(t, 'en')} (stronger in {who}; standardized {a:.2f} vs {b:.2f}, p = {t['pvalue']:.3g})"
        return f"{label(t, 'zh')}（{who}更强；标准化系数 {a:.2f} 对 {b:.2f}，p = {t['pvalue']:.3g}）"

    inv_en, inv_zh = "", ""
    if invariance:
        held = [r["step"] for r in invariance if r["decision"] in ("holds", "partial")]
        top = held[-1] if held else "configural"
        inv_en = (f"The measurement model is invariant up to the {top} level"
                  + (" (partially)" if any(r["decision"] == "partial" for r in invariance) else "")
                  + ", so both clusters measure the constructs alike. ")
        zh_steps = {"configural": "形态", "metric": "度量（载荷）", "scalar": "标量（截距）", "strict": "严格（残差）"}
        inv_zh = (f"测量模型在{zh_steps.get(top, top)}层面具有不变性"
                  + ("（部分不变）" if any(r["decision"] == "partial" for r in invariance) else "")
                  + "，两个集群对构念的测量方式相同。")
    en = inv_en + (f"Of the {len(mech)} mechanism paths, "
                   + (f"{len(differ)} differ between {name[ids[0]]['en']} and {name[ids[1]]['en']}: "
                      + "; ".join(stronger(t, "en") for t in differ) + ". " if differ else
                      f"none differs detectably between {name[ids[0]]['en']} and {name[ids[1]]['en']}. ")
                   + ("No detectable difference: " + "; ".join(label(t, "en") for t in same) + "."
                      if same else ""))
    zh = inv_zh + (f"{len(mech)} 条机制路径中，"
                   + (f"{len(differ)} 条在{name[ids[0]]['zh']}与{name[ids[1]]['zh']}之间存在差异："
                      + "；".join(stronger(t, "zh") for t in differ) + "。" if differ else
                      f"没有一条在{name[ids[0]]['zh']}与{name[ids[1]]['zh']}之间存在可检测的差异。")
                   + ("未检测到差异的路径：" + "；".join(label(t, "zh") for t in same) + "。" if same else ""))
    return {"en": en.strip(), "zh": zh}
