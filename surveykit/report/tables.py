"""Every table of the report, built once as a neutral structure and exported to each format.

A :class:`Table` holds its number, a bilingual caption, bilingual column
labels, rows of :class:`Cell` and bilingual notes.  The builders below
(:func:`build_tables`) read a results bundle and never compute a statistic:
they choose, order and label what ``surveykit analyze`` wrote.  The exporters
(:func:`to_markdown`, :func:`to_latex`, :func:`to_csv`, :func:`write_docx`)
and the HTML template all format numbers through :func:`format_cell`, so a
value reads the same in every format.

Number formatting follows the APA manual (7th ed., sections 6.36 and 7.21):
two decimals for means and standard deviations, three for model estimates and
fit indices, no leading zero for quantities that cannot exceed one
(correlations, reliability coefficients, proportions, p values), exact p
values to three decimals and ``< .001`` below, stars ``* p < .05,
** p < .01, *** p < .001`` on estimates, and a true minus sign.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from surveykit.report import escape

__all__ = ["Cell", "Table", "build_tables", "format_cell", "loc", "stars", "to_markdown",
           "to_latex", "latex_document", "to_csv", "write_docx", "STAR_NOTE"]

Text = str | dict  # plain text, or {"zh": ..., "en": ...}


def L(zh: str, en: str) -> dict[str, str]:
    """A bilingual label."""
    return {"zh": zh, "en": en}


def loc(text: Any, lang: str) -> str:
    """The text in ``lang`` (a bilingual dict falls back to the other language)."""
    if isinstance(text, dict):
        value = text.get(lang)
        if value is None:
            value = next((v for v in text.values() if v is not None), "")
        return str(value)
    return "" if text is None else str(text)


STAR_NOTE = L("* p < .05，** p < .01，*** p < .001。", "* p < .05. ** p < .01. *** p < .001.")

# kind -> (decimals, leading zero); "p" and "text"/"int" are handled apart
_KINDS = {
    "num": (2, True),      # means, SDs, skewness, kurtosis
    "est": (3, True),      # unstandardized and standardized estimates (may exceed 1)
    "r": (2, False),       # correlations, reliability coefficients, loadings bounded by 1
    "r3": (3, False),      # fit indices bounded by 1 (CFI, TLI, RMSEA, SRMR)
    "stat": (2, True),     # test statistics (chi-square, z, Wald)
    "pct": (1, True),      # percentages
}


@dataclass(frozen=True)
class Cell:
    """One table cell: a value and how to show it.

    ``kind`` is ``text`` (a string or bilingual dict), ``int``, ``num``, ``est``,
    ``r``, ``r3``, ``stat``, ``pct`` or ``p``; ``p`` (optional) adds
    significance stars; ``strong`` asks for bold (emphasis the table's note
    explains).
    """

    value: Any
    kind: str = "text"
    p: float | None = None
    strong: bool = False

    @property
    def numeric(self) -> bool:
        """Whether the cell holds a number (right-aligned, kept numeric in CSV)."""
        return self.kind != "text"


@dataclass(frozen=True)
class Table:
    """A report table: numbered, captioned, with notes, in both languages."""

    key: str
    section: str
    caption: dict
    columns: tuple
    rows: tuple
    notes: tuple = ()
    number: int = 0
    group: str | None = None
    #: columns whose repeated values are shown once per run of equal rows (APA grouping);
    #: the CSV export repeats them, so every row stands alone in a spreadsheet
    grouped: tuple = ()

    kind = "table"

    def label(self, lang: str) -> str:
        """``Table 3`` / ``表 3``."""
        return f"表 {self.number}" if lang == "zh" else f"Table {self.number}"

    def header(self, lang: str) -> list[str]:
        """Column labels in ``lang``."""
        return [loc(c, lang) for c in self.columns]

    def body(self, lang: str, *, minus: str = "−") -> list[list[str]]:
        """Rows as display strings in ``lang`` (repeats in ``grouped`` columns blanked)."""
        out = [[format_cell(c, lang, minus=minus) for c in row] for row in self.rows]
        for j in self.grouped:
            for i in range(len(out) - 1, 0, -1):
                if out[i][j] == out[i - 1][j]:
                    out[i][j] = ""
        return out

    def numeric_columns(self) -> list[bool]:
        """Whether each column holds numbers (for alignment)."""
        out = []
        for j in range(len(self.columns)):
            cells = [row[j] for row in self.rows if j < len(row)]
            out.append(bool(cells) and sum(c.numeric for c in cells) * 2 > len(cells))
        return out


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def stars(p: float | None) -> str:
    """Significance stars for a p value."""
    if _is_missing(p):
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


def _number(value: float, decimals: int, leading_zero: bool, minus: str) -> str:
    text = f"{abs(value):.{decimals}f}"
    if not leading_zero and text.startswith("0."):
        text = text[1:]
    negative = value < 0 and text.strip("0.") != ""
    return (minus if negative else "") + text


def format_cell(cell: Cell, lang: str, *, minus: str = "−") -> str:
    """The display string of a cell; missing values show as an em dash."""
    value = cell.value
    if cell.kind == "text":
        return loc(value, lang)
    if _is_missing(value):
        return "—"
    if isinstance(value, bool):
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    if cell.kind == "int":
        text = f"{int(round(value)):d}"
        return text.replace("-", minus)
    if cell.kind == "p":
        return "< .001" if value < 0.001 else _number(value, 3, False, minus)
    decimals, lead = _KINDS[cell.kind]
    return _number(float(value), decimals, lead, minus) + stars(cell.p)


def _csv_value(cell: Cell, lang: str) -> Any:
    """A CSV value: numbers stay numbers (rounded as displayed), text is neutralised."""
    if cell.kind == "text":
        return escape.spreadsheet(loc(cell.value, lang))
    value = cell.value
    if _is_missing(value):
        return ""
    if isinstance(value, bool):
        return escape.spreadsheet(format_cell(cell, lang))
    if cell.kind == "int":
        return int(round(value))
    decimals = 3 if cell.kind == "p" else _KINDS[cell.kind][0]
    return round(float(value), decimals)


# ---------------------------------------------------------------------------------------------
# helpers reading the bundle
# ---------------------------------------------------------------------------------------------
def T(value: Any) -> Cell:
    return Cell(value)


def N(value: Any, kind: str = "est", p: float | None = None, strong: bool = False) -> Cell:
    return Cell(value, kind, p, strong)


def _groups(results: dict) -> list[str]:
    groups = list(results.get("groups") or [])
    for g in results.get("per_group", {}):
        if g not in groups:
            groups.append(g)
    per_group = results.get("per_group") or {}
    return [g for g in groups if isinstance(per_group.get(g), dict)]


def _primary_groups(results: dict) -> list[str]:
    """The clusters analysed, without derived samples (e.g. ``pooled``) that repeat their data."""
    listed = results.get("groups") or []
    return [g for g in _groups(results) if g in listed] or _groups(results)


def group_label(results: dict, group: str) -> dict:
    """The bilingual label of a cluster (its id when the bundle has none)."""
    label = (results.get("group_labels") or {}).get(group)
    if not isinstance(label, dict):
        label = ((results.get("per_group") or {}).get(group) or {}).get("label")
    return label if isinstance(label, dict) else {"zh": group, "en": group}


def construct_name(results: dict, cid: str) -> dict:
    """The bilingual name of a construct (its id when the bundle has none)."""
    c = (results.get("constructs") or {}).get(cid) or {}
    name = c.get("name")
    return name if isinstance(name, dict) else {"zh": cid, "en": cid}


def _with_group(caption: dict, results: dict, group: str) -> dict:
    """A per-cluster caption: ``caption — cluster`` (only when the bundle has several clusters)."""
    if len(_groups(results)) < 2:
        return caption
    g = group_label(results, group)
    return {lang: f"{caption[lang]}：{loc(g, lang)}" if lang == "zh" else f"{caption[lang]}: {loc(g, lang)}"
            for lang in ("zh", "en")}


def _reverse_items(results: dict) -> set[str]:
    rev = {i for i, spec in (results.get("items") or {}).items() if spec.get("reverse")}
    for c in (results.get("constructs") or {}).values():
        rev.update(c.get("reverse") or [])
    return rev


def _path_label(results: dict, lhs: str, rhs: str) -> dict:
    a, b = construct_name(results, rhs), construct_name(results, lhs)
    return {lang: f"{loc(a, lang)} → {loc(b, lang)}" for lang in ("zh", "en")}


def _parse_path(text: str) -> tuple[str, str] | None:
    """``"UP_TECH ~ LEARN"`` -> ``("UP_TECH", "LEARN")``."""
    if not isinstance(text, str) or "~" not in text:
        return None
    lhs, rhs = (s.strip() for s in text.split("~", 1))
    return lhs, rhs


def _yes_no(flag: Any) -> Cell:
    if flag is None:
        return N(None, "int")
    return T(L("是", "yes") if flag else L("否", "no"))


_STD_NOTE = L("B = 非标准化系数；SE = 标准误；β = 完全标准化系数（std.all）；CI = 置信区间，LL/UL = 下限/上限。",
              "B = unstandardized estimate; SE = standard error; β = fully standardized estimate "
              "(std.all); CI = confidence interval, LL/UL = lower/upper limit.")


# ---------------------------------------------------------------------------------------------
# builders, one per table, in report order
# ---------------------------------------------------------------------------------------------
def _sample(results: dict) -> list[Table]:
    rows = []
    for g in _groups(results):
        pg = results["per_group"][g]
        sev = (pg.get("data_quality") or {}).get("findings_by_severity") or {}
        size = pg.get("sample_size") or {}
        rows.append((T(group_label(results, g)), N(pg.get("n_firms"), "int"),
                     N(pg.get("n_quarantined"), "int"), N(pg.get("n_flagged"), "int"),
                     N(pg.get("n_analysed"), "int"), N(sev.get("error", 0), "int"),
                     N(sev.get("warning", 0), "int"), N(sev.get("info", 0), "int"),
                     N(size.get("free_parameters"), "int"), N(size.get("n_per_parameter"), "num")))
    if not rows:
        return []
    return [Table("sample", "data", L("样本与剔除", "Sample and exclusions"),
                  (L("集群", "Cluster"), L("企业数", "Firms"), L("隔离", "Quarantined"),
                   L("标记", "Flagged"), L("纳入分析", "Analysed"), L("错误", "Errors"),
                   L("警告", "Warnings"), L("提示", "Info"), L("自由参数 q", "Free parameters q"), "N/q"),
                  tuple(rows),
                  (L("隔离：违反剔除规则而未纳入分析的问卷；标记：有数据质量提示但仍纳入分析的问卷。"
                     "错误、警告、提示为数据检查发现的条数。N/q 为纳入分析的企业数与模型自由参数数之比。",
                     "Quarantined: questionnaires excluded under the exclusion policy; flagged: kept "
                     "in the analysis with data-quality findings. Errors, warnings and info count "
                     "the findings of the data checks. N/q: firms analysed per free parameter of "
                     "the model."),))]


def _policy_value(value: Any) -> str:
    if value is None or value == {} or value == []:
        return "—"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _policy(results: dict) -> list[Table]:
    policies = {g: ((results["per_group"][g].get("data_quality") or {}).get("policy")) or {}
                for g in _primary_groups(results)}
    policies = {g: p for g, p in policies.items() if isinstance(p, dict) and p}
    if not policies:
        return []
    caption = L("剔除规则", "Exclusion policy")
    if len({json.dumps(p, sort_keys=True, default=str) for p in policies.values()}) == 1:
        # one policy for every cluster: list it once
        rows = tuple((T(str(k)), T(_policy_value(v))) for k, v in next(iter(policies.values())).items())
        return [Table("exclusion_policy", "data", caption, (L("规则", "Rule"), L("取值", "Value")), rows)]
    rows = tuple((T(group_label(results, g)), T(str(k)), T(_policy_value(v)))
                 for g, p in policies.items() for k, v in p.items())
    return [Table("exclusion_policy", "data", caption, (L("集群", "Cluster"), L("规则", "Rule"), L("取值", "Value")),
                  rows, grouped=(0,))]


FINDINGS_SHOWN = 200
_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
SEVERITY_LABELS = {"error": L("错误", "error"), "warning": L("警告", "warning"), "info": L("提示", "info")}


def _findings(results: dict) -> list[Table]:
    out = []
    for g in _primary_groups(results):
        findings = list(((results["per_group"][g].get("data_quality") or {}).get("findings")) or [])
        if not findings:
            continue
        findings.sort(key=lambda f: _SEVERITY_ORDER.get(f.get("severity"), 3))
        shown = findings[:FINDINGS_SHOWN]
        rows = tuple((T(SEVERITY_LABELS.get(f.get("severity"), f.get("severity", ""))), T(f.get("code", "")), T(f.get("respondent", "")),
                      T(f.get("file", "")), T(f.get("sheet", "")), T(f.get("cell", "")),
                      T(f.get("message", ""))) for f in shown)
        notes = [L("按严重程度排序（错误、警告、提示）。", "Sorted by severity (error, warning, info).")]
        if len(findings) > len(shown):
            more = len(findings) - len(shown)
            notes.append(L(f"另有 {more} 条未列出，完整列表见数据库（surveykit status）。",
                           f"{more} further findings are not listed; the store holds them all "
                           f"(surveykit status)."))
        out.append(Table(f"findings_{g}", "data",
                         _with_group(L("数据质量检查发现", "Data-quality findings"), results, g),
                         (L("严重程度", "Severity"), L("代码", "Code"), L("企业", "Respondent"),
                          L("文件", "File"), L("工作表", "Sheet"), L("单元格", "Cell"),
                          L("说明", "Message")), rows, tuple(notes), group=g, grouped=(0,)))
    return out


def _item_stats(results: dict) -> list[Table]:
    out = []
    rev = _reverse_items(results)
    for g in _primary_groups(results):
        stats = results["per_group"][g].get("item_stats") or []
        if not stats:
            continue
        rows, empty = [], []
        for s in stats:
            item = s.get("item", "")
            rows.append((T(item + (" (R)" if item in rev else "")),
                         T(construct_name(results, s.get("construct", ""))),
                         N(s.get("n"), "int"), N(s.get("missing"), "int"), N(s.get("mean"), "num"),
                         N(s.get("sd"), "num"), N(s.get("skewness"), "num"), N(s.get("kurtosis"), "num"),
                         N(_pct(s.get("floor")), "pct"), N(_pct(s.get("ceiling")), "pct")))
            if s.get("empty_categories"):
                empty.append(f"{item} ({', '.join(str(c) for c in s['empty_categories'])})")
        notes = [L("(R) = 反向计分题，统计量按原始作答计算；地板/天花板 = 选择最低/最高等级的百分比；"
                   "峰度为超额峰度。",
                   "(R) = reverse-keyed item, statistics of the answers as given; floor/ceiling = "
                   "percentage answering the lowest/highest point; kurtosis is excess kurtosis.")]
        if empty:
            notes.append(L("无人选择的等级：" + "；".join(empty) + "。",
                           "Categories nobody chose: " + "; ".join(empty) + "."))
        out.append(Table(f"item_stats_{g}", "items", _with_group(L("题项描述统计", "Item statistics"),
                                                                   results, g),
                         (L("题项", "Item"), L("构念", "Construct"), "n", L("缺失", "Missing"), "M", "SD",
                          L("偏度", "Skewness"), L("峰度", "Kurtosis"), L("地板 %", "Floor %"),
                          L("天花板 %", "Ceiling %")),
                         tuple(rows), tuple(notes), group=g, grouped=(1,)))
    return out


def _pct(share: Any) -> Any:
    return None if _is_missing(share) else 100.0 * share


def _reliability(results: dict) -> list[Table]:
    out = []
    for g in _groups(results):
        rel = results["per_group"][g].get("reliability") or []
        if not rel:
            continue
        rows = tuple((T(construct_name(results, r.get("construct", ""))), N(r.get("n_items"), "int"),
                      N(r.get("n"), "int"), N(r.get("alpha"), "r", strong=_below(r.get("alpha"), 0.7)),
                      N(r.get("alpha_ci_low"), "r"), N(r.get("alpha_ci_high"), "r"),
                      N(r.get("alpha_std"), "r"), N(r.get("omega"), "r"), N(r.get("cr"), "r"),
                      N(r.get("ave"), "r", strong=_below(r.get("ave"), 0.5))) for r in rel)
        out.append(Table(f"reliability_{g}", "reliability",
                         _with_group(L("信度", "Reliability"), results, g),
                         (L("构念", "Construct"), L("题项数", "Items"), "n", "α", "α 95% CI LL",
                          "α 95% CI UL", L("标准化 α", "Standardized α"), "ω", "CR", "AVE"),
                         rows,
                         (L("α = Cronbach α；ω = McDonald ω；CR = 组合信度；AVE = 平均方差提取量。"
                            "粗体：α < .70 或 AVE < .50。",
                            "α = Cronbach's alpha; ω = McDonald's omega; CR = composite reliability; "
                            "AVE = average variance extracted. Bold: α < .70 or AVE < .50."),),
                         group=g))
    return out


def _below(value: Any, cut: float) -> bool:
    return not _is_missing(value) and value < cut


def _factorability(results: dict) -> list[Table]:
    rows = []
    for g in _groups(results):
        pg = results["per_group"][g]
        f, cmb = pg.get("factorability") or {}, pg.get("cmb") or {}
        efa = pg.get("efa") or {}
        if not f and not cmb:
            continue
        rows.append((T(group_label(results, g)), N(f.get("kmo"), "r"), N(f.get("bartlett_chisq"), "stat"),
                     N(f.get("bartlett_df"), "int"), N(f.get("bartlett_pvalue"), "p"),
                     N(efa.get("parallel_analysis_factors"), "int"),
                     N(_pct(cmb.get("first_factor_share")), "pct",
                       strong=bool(cmb.get("flag_50") or cmb.get("flag_40"))),
                     N(cmb.get("single_factor_cfi"), "r3"), N(cmb.get("measurement_cfi"), "r3")))
    if not rows:
        return []
    return [Table("factorability", "efa", L("因子分析适用性与共同方法偏差", "Factorability and common-method bias"),
                  (L("集群", "Cluster"), "KMO", "Bartlett χ²", "df", "p",
                   L("平行分析因子数", "Parallel-analysis factors"),
                   L("首因子方差 %", "First factor %"), L("单因子 CFI", "Single-factor CFI"),
                   L("测量模型 CFI", "Measurement CFI")),
                  tuple(rows),
                  (L("首因子方差 % 为 Harman 单因子检验中未旋转首因子解释的方差比例；粗体表示超过 40%"
                     "（Podsakoff 等，2003）。单因子 CFI 远低于测量模型 CFI 说明单一方法因子不能解释数据。",
                     "First factor % is the variance explained by the first unrotated factor in "
                     "Harman's single-factor test; bold when above 40% (Podsakoff et al., 2003). A "
                     "single-factor CFI far below the measurement model's CFI means one method "
                     "factor does not account for the data."),))]


def _efa_loadings(results: dict) -> list[Table]:
    out = []
    for g in _groups(results):
        efa = results["per_group"][g].get("efa") or {}
        loadings = efa.get("loadings") or {}
        if not loadings:
            continue
        factors: list[str] = []
        for row in loadings.values():
            factors.extend(f for f in row if f not in factors)
        comm = efa.get("communalities") or {}
        rows = [tuple([T(item)] + [N(row.get(f), "r", strong=not _below(abs(row.get(f) or 0), 0.4))
                                   for f in factors] + [N(comm.get(item), "r")])
                for item, row in loadings.items()]
        var = efa.get("variance_explained") or {}
        if var:
            rows.append(tuple([T(L("方差解释比例", "Proportion of variance"))]
                              + [N(var.get(f), "r") for f in factors] + [N(None, "r")]))
        method = " / ".join(str(x) for x in (efa.get("method"), efa.get("rotation")) if x)
        out.append(Table(f"efa_{g}", "efa",
                         _with_group(L("探索性因子分析载荷", "Exploratory factor analysis loadings"), results, g),
                         tuple([L("题项", "Item")] + factors + ["h²"]), tuple(rows),
                         (L(f"提取与旋转：{method}；{efa.get('n_factors', len(factors))} 个因子。粗体：|载荷| ≥ .40；"
                            "h² = 共同度。",
                            f"Extraction and rotation: {method}; {efa.get('n_factors', len(factors))} "
                            f"factors. Bold: |loading| ≥ .40; h² = communality."),), group=g))
    return out


FIT_ROWS = (
    ("chisq", "χ²", "stat", None), ("df", "df", "int", None), ("pvalue", "p", "p", None),
    ("chisq_df", "χ²/df", "stat", "< 3"), ("cfi", "CFI", "r3", "≥ .90 (.95)"),
    ("tli", "TLI", "r3", "≥ .90 (.95)"), ("rmsea", "RMSEA", "r3", "≤ .08 (.06)"),
    ("rmsea_ci_low", "RMSEA 90% CI LL", "r3", None), ("rmsea_ci_high", "RMSEA 90% CI UL", "r3", None),
    ("srmr", "SRMR", "r3", "≤ .08"), ("gfi", "GFI", "r3", "≥ .90"), ("agfi", "AGFI", "r3", "≥ .80"),
    ("nfi", "NFI", "r3", "≥ .90"), ("ifi", "IFI", "r3", "≥ .90"),
    ("chisq_scaled", L("χ²（稳健）", "χ² (scaled)"), "stat", None),
    ("cfi_robust", L("CFI（稳健）", "CFI (robust)"), "r3", "≥ .90 (.95)"),
    ("tli_robust", L("TLI（稳健）", "TLI (robust)"), "r3", "≥ .90 (.95)"),
    ("rmsea_robust", L("RMSEA（稳健）", "RMSEA (robust)"), "r3", "≤ .08 (.06)"),
    ("aic", "AIC", "stat", None), ("bic", "BIC", "stat", None), ("n", "N", "int", None),
)


def _fit(results: dict, part: str, key: str, section: str, caption: dict) -> list[Table]:
    groups = [g for g in _groups(results) if ((results["per_group"][g].get(part) or {}).get("fit"))]
    if not groups:
        return []
    fits = {g: results["per_group"][g][part]["fit"] for g in groups}
    rows = []
    for k, label, kind, cut in FIT_ROWS:
        if all(k not in fits[g] for g in groups):
            continue
        rows.append(tuple([T(label)] + [N(fits[g].get(k), kind) for g in groups] + [T(cut or "")]))
    columns = tuple([L("指标", "Index")] + [group_label(results, g) for g in groups]
                    + [L("常用标准", "Common cut-off")])
    return [Table(key, section, caption, columns, tuple(rows),
                  (L("标准参考 Hu 与 Bentler（1999）；括号内为更严格的标准。",
                     "Cut-offs after Hu and Bentler (1999); stricter values in parentheses."),))]


def _cfa_loadings(results: dict) -> list[Table]:
    out = []
    rev = _reverse_items(results)
    for g in _groups(results):
        loads = ((results["per_group"][g].get("cfa") or {}).get("loadings")) or []
        if not loads:
            continue
        rows = tuple((T(construct_name(results, x.get("factor", ""))),
                      T(x.get("item", "") + (" (R)" if x.get("item") in rev else "")),
                      N(x.get("est"), "est"), N(x.get("se"), "est"), N(x.get("z"), "stat"),
                      N(x.get("pvalue"), "p"),
                      N(x.get("std_all"), "est", p=x.get("pvalue"), strong=_below(x.get("std_all"), 0.5)))
                     for x in loads)
        out.append(Table(f"cfa_loadings_{g}", "cfa",
                         _with_group(L("验证性因子分析载荷", "Confirmatory factor analysis loadings"), results, g),
                         (L("构念", "Construct"), L("题项", "Item"), "B", "SE", "z", "p", "β"), rows,
                         (_STD_NOTE,
                          L("每个构念第一个题项的载荷固定为 1（无 SE）。(R) = 反向计分题（估计前已反向）。"
                            "粗体：β < .50。",
                            "The first loading of each construct is fixed at 1 (no SE). (R) = "
                            "reverse-keyed item (reversed before estimation). Bold: β < .50."),
                          STAR_NOTE), group=g, grouped=(0,)))
    return out


def _matrix_table(results: dict, key: str, section: str, caption: dict, constructs: list[str],
                  value, notes: tuple, group: str, extra_cols=(), extra_vals=None) -> Table:
    """A lower-triangular construct matrix with numbered columns (APA correlation-table layout)."""
    rows = []
    for i, a in enumerate(constructs):
        name = construct_name(results, a)
        label = {lang: f"{i + 1}. {loc(name, lang)}" for lang in ("zh", "en")}
        cells = [T(label)] + (list(extra_vals(a)) if extra_vals else [])
        for j, b in enumerate(constructs):
            cells.append(value(a, b, i, j) if j <= i else T(""))
        rows.append(tuple(cells))
    columns = tuple([L("构念", "Construct")] + list(extra_cols) + [str(j + 1) for j in range(len(constructs))])
    return Table(key, section, caption, columns, tuple(rows), notes, group=group)


def _pair(m: dict, a: str, b: str) -> Any:
    """``m[a][b]`` or ``m[b][a]`` (a bundle may store one triangle)."""
    v = (m.get(a) or {}).get(b)
    return (m.get(b) or {}).get(a) if v is None else v


def _validity(results: dict) -> list[Table]:
    out = []
    for g in _groups(results):
        pg = results["per_group"][g]
        cfa, desc = pg.get("cfa") or {}, pg.get("descriptives") or {}
        rel = {r.get("construct"): r for r in pg.get("reliability") or []}
        fl, htmt = cfa.get("fornell_larcker") or {}, cfa.get("htmt") or {}
        if rel and fl:
            rows = []
            for c, r in rel.items():
                diag = (fl.get(c) or {}).get(c)
                others = [abs(_pair(fl, c, o)) for o in fl if o != c and _pair(fl, c, o) is not None]
                max_r = max(others) if others else None
                holds = None if diag is None or max_r is None else diag > max_r
                rows.append((T(construct_name(results, c)), N(r.get("cr"), "r"), N(r.get("ave"), "r"),
                             N(diag, "r"), N(max_r, "r"), _yes_no(holds)))
            out.append(Table(f"cr_ave_{g}", "validity",
                             _with_group(L("组合信度、AVE 与区分效度", "Composite reliability, AVE and "
                                                              "discriminant validity"), results, g),
                             (L("构念", "Construct"), "CR", "AVE", "√AVE", L("最大 |r|", "Max |r|"),
                              L("Fornell–Larcker 满足", "Fornell–Larcker holds")), tuple(rows),
                             (L("最大 |r| 为该构念与其他构念潜变量相关的最大绝对值；√AVE 大于它时满足 "
                                "Fornell–Larcker 准则（Fornell & Larcker，1981）。CR ≥ .70、AVE ≥ .50 为常用标准。",
                                "Max |r| is the largest absolute latent correlation with another "
                                "construct; the Fornell–Larcker criterion holds when √AVE exceeds it "
                                "(Fornell & Larcker, 1981). Usual cut-offs: CR ≥ .70, AVE ≥ .50."),),
                             group=g))
        if fl:
            cs = list(fl)
            out.append(_matrix_table(
                results, f"fornell_larcker_{g}", "validity",
                _with_group(L("Fornell–Larcker 矩阵", "Fornell–Larcker matrix"), results, g), cs,
                lambda a, b, i, j, fl=fl: N(_pair(fl, a, b), "r", strong=i == j),
                (L("对角线（粗体）为 √AVE，下三角为潜变量相关。",
                   "Diagonal (bold): √AVE; below the diagonal: latent correlations."),), g))
        if htmt:
            cs = list(dict.fromkeys(list(htmt) + [b for row in htmt.values() for b in row]))
            out.append(_matrix_table(
                results, f"htmt_{g}", "validity", _with_group(L("HTMT 比率", "HTMT ratios"), results, g), cs,
                lambda a, b, i, j, htmt=htmt: T("") if i == j else N(_pair(htmt, a, b), "r",
                                                            strong=not _below(_pair(htmt, a, b) or 0, 0.85)),
                (L("异质-单质比率（Henseler 等，2015）；粗体：≥ .85。",
                   "Heterotrait–monotrait ratios (Henseler et al., 2015); bold: ≥ .85."),), g))
        corr = desc.get("correlations") or {}
        if desc.get("means") and corr:
            cs = list(desc["means"])
            pv, sq = desc.get("pvalues") or {}, desc.get("sqrt_ave") or {}
            out.append(_matrix_table(
                results, f"descriptives_{g}", "validity",
                _with_group(L("构念均值、标准差与相关", "Construct means, standard deviations and correlations"),
                            results, g), cs,
                lambda a, b, i, j, sq=sq, corr=corr, pv=pv: (
                    N(sq.get(a), "r", strong=True) if i == j else N(_pair(corr, a, b), "r", p=_pair(pv, a, b))),
                (L("M、SD 与相关按构念综合得分（题项均值）计算；对角线（粗体）为 √AVE。",
                   "M, SD and correlations of the composite scores (item means); diagonal (bold): √AVE."),
                 STAR_NOTE), g, extra_cols=("M", "SD"),
                extra_vals=lambda a, desc=desc: (N(desc["means"].get(a), "num"),
                                                 N((desc.get("sds") or {}).get(a), "num"))))
    return out


def _paths(results: dict) -> list[Table]:
    out = []
    for g in _groups(results):
        st = results["per_group"][g].get("structural") or {}
        paths = st.get("paths") or []
        if not paths:
            continue
        rows = tuple((T(_path_label(results, x.get("lhs", ""), x.get("rhs", ""))), T(x.get("label") or ""),
                      N(x.get("est"), "est"), N(x.get("se"), "est"), N(x.get("z"), "stat"),
                      N(x.get("pvalue"), "p"), N(x.get("ci_lower"), "est"), N(x.get("ci_upper"), "est"),
                      N(x.get("std_all"), "est", p=x.get("pvalue"))) for x in paths)
        notes = [_STD_NOTE, STAR_NOTE]
        r2 = st.get("r2") or {}
        if r2:
            parts = {lang: ("，" if lang == "zh" else ", ").join(
                f"{loc(construct_name(results, k), lang)} {format_cell(N(v, 'r'), lang)}" for k, v in r2.items())
                for lang in ("zh", "en")}
            notes.insert(1, L(f"R²：{parts['zh']}。", f"R²: {parts['en']}."))
        if st.get("converged") is False:
            notes.insert(0, L("警告：结构模型未收敛，估计不可靠。",
                              "Warning: the structural model did not converge; estimates are unreliable."))
        out.append(Table(f"paths_{g}", "paths", _with_group(L("结构路径", "Structural paths"), results, g),
                         (L("路径", "Path"), L("标签", "Label"), "B", "SE", "z", "p", "95% CI LL",
                          "95% CI UL", "β"), rows, tuple(notes), group=g))
    return out


def _indirect(results: dict) -> list[Table]:
    out = []
    for g in _groups(results):
        ind = ((results["per_group"][g].get("structural") or {}).get("indirect")) or []
        if not ind:
            continue
        rows = tuple((T(x.get("name", "")), T(x.get("expression", "")), N(x.get("est"), "est", p=x.get("pvalue")),
                      N(x.get("se"), "est"), N(x.get("pvalue"), "p"), N(x.get("ci_lower"), "est"),
                      N(x.get("ci_upper"), "est"), N(x.get("std_all"), "est"),
                      _yes_no(None if _is_missing(x.get("ci_lower")) or _is_missing(x.get("ci_upper"))
                              else x["ci_lower"] > 0 or x["ci_upper"] < 0)) for x in ind)
        methods = sorted({str(x["ci_method"]) for x in ind if x.get("ci_method")})
        notes = [_STD_NOTE]
        if methods:
            notes.append(L("置信区间：" + "，".join(methods) + "。", "Confidence intervals: " + ", ".join(methods) + "."))
        notes.append(STAR_NOTE)
        out.append(Table(f"indirect_{g}", "indirect", _with_group(L("间接效应", "Indirect effects"), results, g),
                         (L("效应", "Effect"), L("定义", "Definition"), "B", "SE", "p", "95% CI LL",
                          "95% CI UL", "β", L("CI 不含 0", "CI excludes 0")), rows, tuple(notes), group=g))
    return out


def _composite(results: dict) -> list[Table]:
    out = []
    for g in _groups(results):
        pg = results["per_group"][g]
        comp = pg.get("composite") or {}
        if not any(comp.get(k) for k in ("ols_hc3", "sur", "3sls")):
            continue
        latent = {(x.get("lhs"), x.get("rhs")): x for x in ((pg.get("structural") or {}).get("paths") or [])}
        by = {k: {(x.get("lhs"), x.get("rhs")): x for x in comp.get(k) or []} for k in ("ols_hc3", "sur", "3sls")}
        keys = list(latent)
        for k in ("ols_hc3", "sur", "3sls"):
            keys.extend(key for key in by[k] if key not in keys)
        rows = []
        for key in keys:
            lat = latent.get(key) or {}
            cells = [T(_path_label(results, *key)), N(lat.get("std_all"), "est", p=lat.get("pvalue"))]
            for k in ("ols_hc3", "sur", "3sls"):
                x = by[k].get(key) or {}
                cells += [N(x.get("est"), "est", p=x.get("pvalue")), N(x.get("se"), "est")]
            cells.append(N((by["ols_hc3"].get(key) or {}).get("r2"), "r"))
            rows.append(tuple(cells))
        caption = (L("稳健性：综合得分回归与潜变量模型对照",
                     "Robustness: composite-score regressions beside the latent model") if latent
                   else L("综合得分回归（未估计潜变量模型）", "Composite-score regressions (no latent model estimated)"))
        out.append(Table(f"composite_{g}", "composite", _with_group(caption, results, g),
                         (L("路径", "Path"), L("SEM β", "SEM β"), "OLS-HC3 B", "SE", "SUR B", "SE", "3SLS B", "SE",
                          "OLS R²"), tuple(rows),
                         (L("SEM β 为潜变量模型的标准化系数；其余为构念综合得分（题项均值）上的非标准化系数："
                            "OLS-HC3 为逐方程最小二乘并用 HC3 稳健标准误，SUR 为似不相关回归，3SLS 为三阶段最小二乘。"
                            "方向与显著性一致说明结论不依赖潜变量设定。",
                            "SEM β is the standardized coefficient of the latent model; the others are "
                            "unstandardized coefficients on composite scores (item means): OLS-HC3 is "
                            "equation-by-equation least squares with HC3 robust standard errors, SUR "
                            "seemingly unrelated regression, 3SLS three-stage least squares. Agreement in "
                            "sign and significance means the conclusions do not rest on the latent "
                            "specification."), STAR_NOTE), group=g))
    return out


def _moderation(results: dict) -> list[Table]:
    out = []
    for g in _groups(results):
        pg = results["per_group"][g]
        mods = pg.get("moderation") or []
        if mods:
            rows = []
            for m in mods:
                parsed = _parse_path(m.get("path", ""))
                path = _path_label(results, *parsed) if parsed else m.get("path", "")
                ss = _simple_slopes(m.get("simple_slopes"))
                jn = list(m.get("johnson_neyman") or [])
                points = [format_cell(N(v, "num"), "en") for v in jn if not _is_missing(v)]
                jn_text = ", ".join(points) if points else "—"
                rows.append((T(path), T(construct_name(results, m.get("moderator", ""))),
                             N(m.get("interaction"), "est", p=m.get("pvalue")), N(m.get("se"), "est"),
                             N(m.get("pvalue"), "p"), N(m.get("r2_change"), "r3"),
                             *(N(ss.get(k, (None, None))[0], "est", p=ss.get(k, (None, None))[1])
                               for k in ("-1sd", "mean", "+1sd")), T(jn_text)))
            out.append(Table(f"moderation_{g}", "moderation",
                             _with_group(L("集群治理的调节作用", "Moderation by cluster governance"), results, g),
                             (L("路径", "Path"), L("调节变量", "Moderator"), L("交互项 B", "Interaction B"), "SE", "p",
                              "ΔR²",
                              L("简单斜率 −1 SD", "Simple slope −1 SD"), L("简单斜率 均值", "Simple slope at mean"),
                              L("简单斜率 +1 SD", "Simple slope +1 SD"), "Johnson–Neyman"),
                             tuple(rows),
                             (L("在构念综合得分上估计（调节变量中心化）；简单斜率取调节变量均值及其上下一个标准差处。"
                                "Johnson–Neyman：简单斜率由显著变为不显著（或相反）的调节变量取值（— 表示没有这样的取值）。",
                                "Estimated on composite scores (moderator centred); simple slopes at the "
                                "moderator's mean and one SD either side. Johnson–Neyman: moderator "
                                "values where the simple slope changes between significant and not "
                                "significant (— none)."), STAR_NOTE), group=g))
        med = pg.get("mediation") or []
        if med:
            rows = []
            for m in med:
                label = {lang: " → ".join(loc(construct_name(results, m.get(k, "")), lang) for k in ("x", "m", "y"))
                         for lang in ("zh", "en")}
                lo, hi = m.get("ci_lower"), m.get("ci_upper")
                excl = None if _is_missing(lo) or _is_missing(hi) else lo > 0 or hi < 0
                rows.append((T(label), N(m.get("indirect"), "est"), N(lo, "est"), N(hi, "est"),
                             _yes_no(excl), N(m.get("direct"), "est"), N(m.get("total"), "est")))
            out.append(Table(f"mediation_{g}", "moderation",
                             _with_group(L("综合得分中介分析", "Mediation on composite scores"), results, g),
                             (L("X → M → Y", "X → M → Y"), L("间接效应", "Indirect"), "95% CI LL", "95% CI UL",
                              L("CI 不含 0", "CI excludes 0"), L("直接效应", "Direct"), L("总效应", "Total")),
                             tuple(rows),
                             (L("间接效应的置信区间不含 0 时视为显著。",
                                "An indirect effect whose confidence interval excludes 0 is taken as significant."),),
                             group=g))
    return out


def _simple_slopes(slopes: Any) -> dict[str, tuple[Any, Any]]:
    """Simple slopes keyed ``-1sd``, ``mean``, ``+1sd`` -> (effect, p).

    Accepts the mapping of the bundle contract (``{"-1sd": 0.2, ...}``) and the
    record list ``surveykit analyze`` writes (``[{"w_label": "-1 SD", "effect": ..,
    "pvalue": ..}, ...]``).
    """
    if isinstance(slopes, dict):
        return {str(k).replace(" ", "").lower(): (v, None) for k, v in slopes.items()}
    out = {}
    for r in slopes or []:
        if isinstance(r, dict):
            key = str(r.get("w_label", "")).replace(" ", "").lower()
            out[key] = (r.get("effect", r.get("est")), r.get("pvalue"))
    return out


def _preflight(results: dict) -> list[Table]:
    pre = (results.get("comparison") or {}).get("preflight") or {}
    if not pre:
        return []
    free = pre.get("free_parameters")
    rows = []
    for g, n in (pre.get("n") or {}).items():
        ratio = None if _is_missing(n) or not free else n / free
        rows.append((T(group_label(results, g)), N(n, "int"), N(free, "int"), N(ratio, "num")))
    notes = [L("N/q = 每组样本量与自由参数数之比；常用经验要求至少 5（Bentler & Chou，1987）。",
               "N/q = cases per free parameter in each group; a common rule of thumb asks for at "
               "least 5 (Bentler & Chou, 1987).")]
    empty = pre.get("empty_categories") or []
    if empty:
        parts = [(loc(group_label(results, e.get("group", "")), "zh"), loc(group_label(results, e.get("group", "")), "en"),
                  f"{e.get('item')} = {e.get('category')}") for e in empty]
        notes.append(L("无人选择的类别：" + "；".join(f"{z} {t}" for z, _, t in parts) + "。",
                       "Empty answer categories: " + "; ".join(f"{en} {t}" for _, en, t in parts) + "."))
    for w in pre.get("warnings") or []:
        notes.append(w)
    return [Table("preflight", "comparison", L("多组比较前检查", "Multigroup preflight"),
                  (L("集群", "Cluster"), "N", L("自由参数 q", "Free parameters q"), "N/q"), tuple(rows), tuple(notes))]


STEP_LABELS = {
    "configural": L("形态等同", "Configural"), "metric": L("载荷等同（弱等同）", "Metric (loadings)"),
    "scalar": L("截距等同（强等同）", "Scalar (intercepts)"), "strict": L("残差等同（严格等同）", "Strict (residuals)"),
    "structural": L("结构路径等同", "Equal structural paths"),
}
DECISION_LABELS = {"holds": L("成立", "holds"), "fails": L("不成立", "fails"), "partial": L("部分成立", "partial"),
                   "not tested": L("未检验", "not tested")}


def _freed_names(step: dict) -> list[str]:
    """Parameters freed in a step: records with a ``parameter`` (and its score test) or plain names."""
    return [f.get("parameter", "") if isinstance(f, dict) else str(f) for f in step.get("freed") or []]


def _invariance(results: dict) -> list[Table]:
    comp = results.get("comparison") or {}
    steps = comp.get("invariance") or []
    if not steps:
        return []
    rows = tuple((T(STEP_LABELS.get(s.get("step"), s.get("step", ""))), N(s.get("chisq"), "stat"),
                  N(s.get("df"), "int"), N(s.get("cfi"), "r3"), N(s.get("rmsea"), "r3"), N(s.get("srmr"), "r3"),
                  N(s.get("delta_chisq"), "stat"), N(s.get("delta_df"), "int"), N(s.get("delta_pvalue"), "p"),
                  N(s.get("delta_cfi"), "r3"), N(s.get("delta_rmsea"), "r3"),
                  T(DECISION_LABELS.get(s.get("decision"), s.get("decision") or "")),
                  T(", ".join(_freed_names(s)))) for s in steps)
    cut = comp.get("cutoffs") or {}
    dcfi, drmsea = cut.get("delta_cfi", -0.01), cut.get("delta_rmsea", 0.015)
    note = L(f"每一步与上一步比较；ΔCFI ≥ {dcfi} 且 ΔRMSEA ≤ {drmsea} 时视为等同成立（Chen，2007）。"
             "释放：部分等同时放开约束的参数。",
             f"Each step is compared with the one before; invariance holds when ΔCFI ≥ {dcfi} and "
             f"ΔRMSEA ≤ {drmsea} (Chen, 2007). Freed: parameters released for partial invariance.")
    return [Table("invariance", "comparison", L("测量等同性检验", "Measurement invariance"),
                  (L("模型", "Model"), "χ²", "df", "CFI", "RMSEA", "SRMR", "Δχ²", "Δdf", "p", "ΔCFI", "ΔRMSEA",
                   L("结论", "Decision"), L("释放", "Freed")), rows, (note,))]


def _path_tests(results: dict) -> list[Table]:
    comp = results.get("comparison") or {}
    tests = [t for t in comp.get("path_tests") or [] if isinstance(t, dict)]
    if not tests:
        return []
    groups = list(dict.fromkeys([g for t in tests for g in (t.get("est") or {})]))
    names = {t.get("test") for t in tests}
    one_test = len(names) == 1 and None not in names  # then named once, in the note
    rows = []
    for t in tests:
        parsed = _parse_path(t.get("path", ""))
        cells = [T(_path_label(results, *parsed) if parsed else t.get("path", "")), _yes_no(t.get("mechanism"))]
        cells += [N((t.get("est") or {}).get(g), "est") for g in groups]
        cells += [N(t.get("difference"), "est")]
        cells += [N((t.get("std_all") or {}).get(g), "est") for g in groups]
        cells += [] if one_test else [T(t.get("test") or "")]
        cells += [N(t.get("statistic"), "stat"), N(t.get("df"), "int"), N(t.get("pvalue"), "p"),
                  _yes_no(t.get("differs"))]
        rows.append(tuple(cells))
    cols = [L("路径", "Path"), L("机制路径", "Mechanism")]
    cols += [{lang: f"B（{loc(group_label(results, g), lang)}）" if lang == "zh"
              else f"B ({loc(group_label(results, g), lang)})" for lang in ("zh", "en")} for g in groups]
    cols += [L("B 之差", "B difference")]
    cols += [{lang: f"β（{loc(group_label(results, g), lang)}）" if lang == "zh"
              else f"β ({loc(group_label(results, g), lang)})" for lang in ("zh", "en")} for g in groups]
    cols += [] if one_test else [L("检验", "Test")]
    cols += [L("统计量", "Statistic"), "df", "p", L("存在差异", "Differs")]
    notes = [L("机制路径：四个分运行机制对应的升级路径。原假设：两组路径系数相等。",
               "Mechanism: the paths of the four sub-mechanisms to their ways of upgrading. H0: the "
               "path coefficient is equal in both clusters.")]
    if one_test:
        notes.append(L(f"检验：{next(iter(names))}。", f"Test: {next(iter(names))}."))
    basis = comp.get("path_test_basis")
    if basis == "composite":
        notes.append(L("比较基于构念综合得分（题项均值）上的回归系数，而非潜变量多组模型。",
                       "The comparison uses the regression coefficients on composite scores (item "
                       "means), not a latent multigroup model."))
    elif basis:
        notes.append(L("比较基于潜变量多组模型，在已成立的最高层级测量等同下进行。",
                       "The comparison uses the latent multigroup model under the highest level of "
                       "measurement invariance that held."))
    notes.append(_STD_NOTE)
    return [Table("path_tests", "comparison", L("集群间路径差异检验", "Path differences between clusters"),
                  tuple(cols), tuple(rows), tuple(notes), group=None)]


def _provenance(results: dict, manifest: dict | None) -> list[Table]:
    if not manifest:
        return []
    out = []
    inputs = manifest.get("inputs") or []
    if inputs:
        rows = tuple((T(i.get("path", "")), T(i.get("codebook", "")), N(i.get("size"), "int"),
                      _yes_no(i.get("simulated")), T(i.get("sha256", ""))) for i in inputs)
        out.append(Table("inputs", "provenance", L("输入文件", "Input files"),
                         (L("文件", "File"), L("问卷", "Questionnaire"), L("字节", "Bytes"), L("模拟", "Simulated"),
                          "SHA-256"), rows,
                         (L("surveykit rerun 在重新分析前核对每个文件的 SHA-256。",
                            "surveykit rerun checks each file's SHA-256 before re-running the analysis."),)))
    files = []
    for c in manifest.get("codebooks") or []:
        files.append((T(L("问卷定义", "Codebook")), T(f"{c.get('id', '')} v{c.get('version', '')}"),
                      T(c.get("path", "")), T(c.get("sha256", ""))))
    model = manifest.get("model") or {}
    if model:
        files.append((T(L("模型", "Model")), T(""), T(model.get("path", "")), T(model.get("sha256", ""))))
    store = manifest.get("store") or {}
    if store:
        files.append((T(L("数据库", "Store")), T(""), T(store.get("path", "")), T(store.get("sha256", ""))))
    if manifest.get("results_sha256"):
        files.append((T(L("结果", "Results")), T(""), T("results.json"), T(manifest["results_sha256"])))
    if files:
        out.append(Table("definitions", "provenance", L("问卷定义、模型与结果", "Codebooks, model and results"),
                         (L("类别", "Kind"), L("标识", "Id"), L("文件", "File"), "SHA-256"), tuple(files)))
    settings = []
    if manifest.get("seed") is not None:
        settings.append((T(L("随机种子", "Random seed")), T(str(manifest["seed"]))))
    for k, v in (manifest.get("options") or {}).items():
        settings.append((T(str(k)), T(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))))
    for k, v in (manifest.get("versions") or {}).items():
        settings.append((T(str(k)), T(str(v))))
    if settings:
        out.append(Table("settings", "provenance", L("选项与软件版本", "Options and software versions"),
                         (L("项目", "Setting"), L("取值", "Value")), tuple(settings)))
    return out


def build_tables(results: dict, manifest: dict | None = None) -> list[Table]:
    """Every table the bundle supports, in report order and numbered from 1.

    Tables whose data are absent from the bundle are left out, so a
    single-cluster bundle has no comparison tables.
    """
    tables: list[Table] = []
    tables += _sample(results) + _policy(results) + _findings(results)
    tables += _item_stats(results)
    tables += _reliability(results)
    tables += _factorability(results) + _efa_loadings(results)
    tables += _fit(results, "cfa", "cfa_fit", "cfa", L("验证性因子分析拟合指标", "CFA model fit"))
    tables += _cfa_loadings(results)
    tables += _validity(results)
    tables += _fit(results, "structural", "structural_fit", "paths", L("结构模型拟合指标", "Structural model fit"))
    tables += _paths(results)
    tables += _indirect(results)
    tables += _composite(results)
    tables += _moderation(results)
    tables += _preflight(results) + _invariance(results) + _path_tests(results)
    tables += _provenance(results, manifest)
    tables = [_drop_empty_columns(t) for t in tables]
    return [replace(t, number=i + 1) for i, t in enumerate(tables)]


def _drop_empty_columns(table: Table) -> Table:
    """Leave out numeric columns that the bundle left empty in every row (e.g. no robust fit)."""
    keep = [j for j in range(len(table.columns))
            if j == 0 or not table.rows
            or any(not (row[j].numeric and _is_missing(row[j].value)) for row in table.rows)]
    if len(keep) == len(table.columns):
        return table
    return replace(table, columns=tuple(table.columns[j] for j in keep),
                   rows=tuple(tuple(row[j] for j in keep) for row in table.rows),
                   grouped=tuple(keep.index(j) for j in table.grouped if j in keep))


# ---------------------------------------------------------------------------------------------
# exporters
# ---------------------------------------------------------------------------------------------
def to_markdown(table: Table, lang: str) -> str:
    """A pipe table with its number and caption above and notes below (APA layout)."""
    def esc(text: str) -> str:
        return escape.markdown(text, line_start=False)

    lines = [f"**{table.label(lang)}**", "", f"*{esc(loc(table.caption, lang))}*", ""]
    header = [esc(h) for h in table.header(lang)]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join("---:" if num else ":---" for num in table.numeric_columns()) + "|")
    for row in table.body(lang):
        lines.append("| " + " | ".join(esc(c) for c in row) + " |")
    if table.notes:
        lines += ["", ("*注：*" if lang == "zh" else "*Note.* ") + " ".join(escape.markdown(loc(n, lang))
                                                                           for n in table.notes)]
    return "\n".join(lines) + "\n"


LATEX_PACKAGES = ("booktabs", "array", "longtable", "tabularx", "xltabular", "adjustbox")
LONG_TABLE_ROWS = 40  # more rows than fit a page: longtable / xltabular, which break across pages
_LONG_TEXT = 28  # characters: a text column with longer entries wraps (an X column)


def _latex_text(text: str, *, wrap: bool) -> str:
    """Escape a cell; in a wrapping column, let tokens without spaces (hashes, paths) break."""
    if not wrap:
        return escape.latex(text)
    words = []
    for word in text.split(" "):
        if len(word) > 16:
            chunks = [word[i:i + 6] for i in range(0, len(word), 6)]
            words.append("\\allowbreak{}".join(escape.latex(c) for c in chunks))
        else:
            words.append(escape.latex(word))
    return " ".join(words)


def to_latex(table: Table, lang: str, *, force_number: bool = False) -> str:
    """A booktabs table, caption above, notes below.

    Short tables are ``table`` floats: a ``tabular`` shrunk to the line width
    when too wide, or a ``tabularx`` whose long text columns wrap.  Tables of
    more than :data:`LONG_TABLE_ROWS` rows use ``longtable`` (or ``xltabular``)
    and break across pages with the header repeated.  Packages:
    :data:`LATEX_PACKAGES`.

    ``force_number`` sets LaTeX's table counter so that the number matches the
    report's (used in the stand-alone document; a fragment pasted into a thesis
    takes the thesis's numbering).
    """
    esc = escape.latex
    header = table.header(lang)
    body = table.body(lang, minus="−")
    numeric = table.numeric_columns()
    wrap = [not num and max([len(h) for h in [header[j]]] + [len(r[j]) for r in body]) > _LONG_TEXT
            for j, num in enumerate(numeric)]
    # Long text wraps: in an X column (tabularx) when the numbers leave room, else in a
    # fixed-width column of a table shrunk to the line width.
    has_x = any(wrap) and sum(numeric) <= 4
    wrapped = ">{\\raggedright\\arraybackslash}" + ("X" if has_x else "p{3.8cm}")
    spec = "".join("r" if num else wrapped if w else "l" for num, w in zip(numeric, wrap, strict=True))
    if spec.startswith("r"):
        spec = "l" + spec[1:]  # the first column names the row
    long = len(body) > LONG_TABLE_ROWS
    caption = esc(loc(table.caption, lang))
    label = f"\\label{{tab:{table.key.replace('_', '-')}}}"
    head = " & ".join(esc(h) for h in header) + " \\\\"
    rows = []
    for row_cells, row in zip(table.rows, body, strict=True):
        cells = []
        for cell, text, w in zip(row_cells, row, wrap, strict=True):
            t = _latex_text(text, wrap=w)
            cells.append(f"\\textbf{{{t}}}" if cell.strong and text else t)
        rows.append(" & ".join(cells) + " \\\\")
    note = None
    if table.notes:
        note = ("\\textit{注：}" if lang == "zh" else "\\textit{Note.} ") + " ".join(
            esc(loc(n, lang)) for n in table.notes)
    size = "\\footnotesize" if len(header) > 8 or long else "\\small"
    lines = [f"% {table.label(lang)}: {caption} (surveykit table '{table.key}')",
             "% needs \\usepackage{" + ",".join(LATEX_PACKAGES) + "}"]
    if force_number:
        lines.append(f"\\setcounter{{table}}{{{table.number - 1}}}")
    if long:
        env = "xltabular" if has_x else "longtable"
        width = "{\\linewidth}" if has_x else ""
        lines += ["\\begingroup", size, "\\setlength{\\tabcolsep}{4pt}",
                  f"\\begin{{{env}}}{width}{{{spec}}}",
                  f"\\caption{{{caption}}}{label} \\\\", "\\toprule", head, "\\midrule", "\\endfirsthead",
                  "\\toprule", head, "\\midrule", "\\endhead", "\\bottomrule", "\\endlastfoot", *rows,
                  f"\\end{{{env}}}"]
        if note:
            lines += [f"{{\\footnotesize {note}\\par}}"]
        lines.append("\\endgroup")
        return "\n".join(lines) + "\n"
    lines += ["\\begin{table}[htbp]", "\\centering", size]
    if len(header) > 8:
        lines.append("\\setlength{\\tabcolsep}{3pt}")
    lines += [f"\\caption{{{caption}}}", label]
    if has_x:
        lines += [f"\\begin{{tabularx}}{{\\linewidth}}{{{spec}}}", "\\toprule", head, "\\midrule", *rows,
                  "\\bottomrule", "\\end{tabularx}"]
    else:
        # shrink, never enlarge, a table wider than the text
        lines += ["\\begin{adjustbox}{max width=\\linewidth}", f"\\begin{{tabular}}{{{spec}}}", "\\toprule",
                  head, "\\midrule", *rows, "\\bottomrule", "\\end{tabular}", "\\end{adjustbox}"]
    if note:
        lines += ["\\par\\smallskip", f"\\parbox{{\\linewidth}}{{\\footnotesize {note}}}"]
    lines.append("\\end{table}")
    return "\n".join(lines) + "\n"


def latex_document(tables: Sequence[Table], lang: str, *, title: str, banner: str | None = None) -> str:
    """A stand-alone LaTeX document holding every table (compile with ``xelatex``)."""
    esc = escape.latex
    if lang == "zh":
        head = ["\\documentclass[11pt]{ctexart}"]
    else:
        head = ["\\documentclass[11pt]{article}", "\\usepackage{xeCJK}"]
    head += ["% Compile with xelatex: the tables may hold Chinese text.",
             "\\usepackage{" + ",".join(LATEX_PACKAGES) + "}", "\\usepackage[margin=2cm]{geometry}",
             "\\usepackage{xcolor}", "\\begin{document}", f"\\section*{{{esc(title)}}}"]
    if banner:
        head.append(f"\\noindent\\fcolorbox{{red}}{{yellow}}{{\\parbox{{0.95\\linewidth}}{{\\textbf{{{esc(banner)}}}}}}}")
    body = [to_latex(t, lang, force_number=True) for t in tables]
    return "\n".join(head) + "\n\n" + "\n".join(body) + "\n\\end{document}\n"


def to_csv(table: Table, lang: str, *, banner: str | None = None) -> str:
    """The table for spreadsheets: number and caption, [banner], header, rows, notes.

    Text cells are neutralised against formula injection; numbers stay numeric
    (rounded as displayed, ASCII minus).  For machine use read the bundle's
    ``tables/*.csv`` written by ``surveykit analyze``.
    """
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([escape.spreadsheet(f"{table.label(lang)}. {loc(table.caption, lang)}")])
    if banner:
        w.writerow([escape.spreadsheet(banner)])
    w.writerow([escape.spreadsheet(h) for h in table.header(lang)])
    for row in table.rows:
        w.writerow([_csv_value(c, lang) for c in row])
    for n in table.notes:
        w.writerow([escape.spreadsheet(("注：" if lang == "zh" else "Note. ") + loc(n, lang))])
    return buf.getvalue()


def _docx_module():
    try:
        import docx  # noqa: F401
    except ImportError as exc:
        from surveykit.errors import ReportError

        raise ReportError("The docx format needs python-docx: install it with "
                          "pip install 'surveykit[docx]' or leave docx out of --format.") from exc
    return docx


def _set_borders(table, header_rows: int = 1) -> None:
    """APA rules: a line above and below the table and under the header, no vertical lines."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    # CT_TblBorders is a sequence too: top, left, bottom, right, insideH, insideV
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        if edge in ("top", "bottom"):
            el.set(qn("w:val"), "single")
            el.set(qn("w:sz"), "8")
            el.set(qn("w:color"), "000000")
        else:
            el.set(qn("w:val"), "nil")
        borders.append(el)
    # CT_TblPr is a sequence: Word rejects a tblBorders placed after tblLook
    tbl_pr.insert_element_before(borders, "w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook",
                                 "w:tblCaption", "w:tblDescription", "w:tblPrChange")
    for cell in table.rows[header_rows - 1].cells:
        tc_pr = cell._tc.get_or_add_tcPr()
        tc_borders = OxmlElement("w:tcBorders")
        bottom = OxmlElement("w:bottom")
        bottom.set(qn("w:val"), "single")
        bottom.set(qn("w:sz"), "4")
        bottom.set(qn("w:color"), "000000")
        tc_borders.append(bottom)
        tc_pr.insert_element_before(tc_borders, "w:shd", "w:noWrap", "w:tcMar", "w:textDirection",
                                    "w:tcFitText", "w:vAlign", "w:hideMark", "w:headers", "w:cellIns",
                                    "w:cellDel", "w:cellMerge", "w:tcPrChange")


def _em_width(text: str) -> float:
    """Approximate width of text in ems: wide (CJK) characters 1, others 0.62 (capitals, digits)."""
    import unicodedata

    return sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.62 for ch in text)


TEXT_WIDTH_TWIPS = 9360  # 6.5 inches: the text width of A4 and Letter with the default margins


def add_docx_table(document, table: Table, lang: str) -> None:
    """Append one APA table (bold number, italic caption, table, note) to a python-docx document."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt

    clean = escape.docx
    p = document.add_paragraph()
    p.add_run(clean(table.label(lang))).bold = True
    p.paragraph_format.keep_with_next = True
    p.paragraph_format.space_before = Pt(10)
    p = document.add_paragraph()
    p.add_run(clean(loc(table.caption, lang))).italic = True
    p.paragraph_format.keep_with_next = True
    p.paragraph_format.space_after = Pt(4)
    header = [clean(h) for h in table.header(lang)]
    # ASCII minus: Word sets U+2212, an East Asian "ambiguous" character, full-width in a
    # Chinese document
    body = [[clean(c) for c in row] for row in table.body(lang, minus="-")]
    numeric = table.numeric_columns()
    wide = len(header) > 8
    size = Pt(7.5) if wide else None
    t = document.add_table(rows=1 + len(body), cols=len(header))
    t.style = document.styles["Normal Table"]
    rows = t.rows
    for j, h in enumerate(header):
        para = rows[0].cells[j].paragraphs[0]
        run = para.add_run(h)
        if size:
            run.font.size = size
        if numeric[j]:
            para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for i, (row_cells, row) in enumerate(zip(table.rows, body, strict=True), start=1):
        cells = rows[i].cells
        for j, (cell, text) in enumerate(zip(row_cells, row, strict=True)):
            para = cells[j].paragraphs[0]
            run = para.add_run(text)
            if cell.strong and text:  # setting False would add an element to every run
                run.bold = True
            if size:
                run.font.size = size
            if numeric[j]:
                para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    # column widths from their longest entry plus the cell margins (108 twips a side);
    # when the table is too wide, text columns give way first, numbers never wrap
    em = 150 if wide else 200  # twips per em at 7.5 pt / 10 pt
    need = [min(max([_em_width(h)] + [_em_width(r[j]) for r in body]), 24.0) * em + 300
            for j, h in enumerate(header)]
    widths = list(need)
    if sum(widths) > TEXT_WIDTH_TWIPS:
        fixed = sum(w for w, num in zip(need, numeric, strict=True) if num)
        text_total = sum(w for w, num in zip(need, numeric, strict=True) if not num)
        room = TEXT_WIDTH_TWIPS - fixed
        if text_total and room > 700 * (len(need) - sum(numeric)):
            widths = [w if num else max(700.0, min(w, w * room / text_total))
                      for w, num in zip(need, numeric, strict=True)]
        if sum(widths) > TEXT_WIDTH_TWIPS:
            widths = [w * TEXT_WIDTH_TWIPS / sum(widths) for w in widths]
    for tr in t._tbl.tr_lst:
        for tc, w in zip(tr.tc_lst, widths, strict=True):
            tc.get_or_add_tcPr().get_or_add_tcW().set(qn("w:w"), str(int(w)))
    for grid_col, w in zip(t._tbl.tblGrid.gridCol_lst, widths, strict=True):
        grid_col.set(qn("w:w"), str(int(w)))
    _set_borders(t)
    if table.notes:
        p = document.add_paragraph()
        p.paragraph_format.space_before = Pt(3)
        p.add_run("注：" if lang == "zh" else "Note. ").italic = True
        p.add_run(clean(" ".join(loc(n, lang) for n in table.notes)))


def write_docx(tables: Iterable[Table], path: str | Path, lang: str, *, title: str,
               banner: str | None = None, sections: dict[str, str] | None = None) -> Path:
    """Write every table into one Word document, under section headings when given."""
    _docx_module()
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    document = Document()
    normal = document.styles["Normal"]
    normal.font.size = Pt(10)
    # table cells take Normal: single-spaced with no gap after each paragraph
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.line_spacing = 1.0
    # East Asian text needs an East Asian font name, or Word falls back per glyph.
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "SimSun")
    document.add_heading(escape.docx(title), level=1)
    if banner:
        run = document.add_paragraph().add_run(escape.docx(banner))
        run.bold = True
        run.font.size = Pt(14)
        run.font.color.rgb = RGBColor(0xB0, 0x00, 0x20)
    current = None
    for table in tables:
        if sections and table.section != current:
            current = table.section
            if current in sections:
                document.add_heading(escape.docx(sections[current]), level=2)
        add_docx_table(document, table, lang)
    path = Path(path)
    document.save(path)
    return path
