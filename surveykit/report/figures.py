"""Figures of the report as inline SVG, written by hand in pure Python.

No plotting library and no embedded fonts: every label is SVG ``<text>``
(so it can be selected, searched and read by screen readers) set in the same
font stack as the page, whose Chinese faces ship with Debian
(``fonts-noto-cjk``, ``fonts-wqy-microhei``).  Every string from the bundle is
XML-escaped here, because the templates insert the finished SVG unescaped.

Three figures:

* :func:`likert_bars` — diverging stacked bars of the Likert answers per
  construct and cluster (Heiberger & Robbins, 2014), centred on the neutral point;
* :func:`path_diagram` — the GUM structural model with standardized
  coefficients; significant paths drawn solid and heavy, others dashed;
* :func:`invariance_ladder` — the steps of the measurement-invariance test,
  from configural at the bottom to the strictest at the top.

References
----------
Heiberger, R. M., & Robbins, N. B. (2014). Design of diverging stacked bar
charts for Likert scales and other applications. *Journal of Statistical
Software*, 57(5), 1–32.
"""

from __future__ import annotations

import math
import unicodedata
from typing import Any

from markupsafe import escape

from surveykit.report.tables import (
    DECISION_LABELS,
    STEP_LABELS,
    Cell,
    construct_name,
    format_cell,
    group_label,
    loc,
)

__all__ = ["FONT_STACK", "likert_bars", "path_diagram", "invariance_ladder", "text_width"]

FONT_STACK = '"Noto Sans CJK SC", "WenQuanYi Micro Hei", "Source Han Sans SC", "DejaVu Sans", sans-serif'

# ColorBrewer RdBu (colour-blind safe), from disagreement to agreement
_DIVERGING = {
    2: ["#ca0020", "#0571b0"],
    3: ["#ca0020", "#e0e0e0", "#0571b0"],
    4: ["#ca0020", "#f4a582", "#92c5de", "#0571b0"],
    5: ["#ca0020", "#f4a582", "#e0e0e0", "#92c5de", "#0571b0"],
    6: ["#b2182b", "#ef8a62", "#fddbc7", "#d1e5f0", "#67a9cf", "#2166ac"],
    7: ["#b2182b", "#ef8a62", "#fddbc7", "#e0e0e0", "#d1e5f0", "#67a9cf", "#2166ac"],
}
_DARK_TEXT = {"#e0e0e0", "#f4a582", "#92c5de", "#fddbc7", "#d1e5f0", "#ef8a62", "#67a9cf"}


def _x(text: Any) -> str:
    """XML-escape text for SVG."""
    return str(escape("" if text is None else str(text)))


def text_width(text: str, size: float) -> float:
    """Approximate rendered width: wide (CJK) characters one em, others about 0.58 em."""
    return sum(size if unicodedata.east_asian_width(ch) in "WF" else 0.58 * size for ch in text)


def _greedy(text: str, width: float, size: float) -> list[str]:
    lines, line = [], ""
    tokens: list[str] = []
    word = ""
    for ch in text:
        if unicodedata.east_asian_width(ch) in "WF":
            if word:
                tokens.append(word)
                word = ""
            tokens.append(ch)
        elif ch == " ":
            tokens.append(word + " ")
            word = ""
        else:
            word += ch
    if word:
        tokens.append(word)
    for tok in tokens:
        if line and text_width(line + tok.rstrip(), size) > width:
            lines.append(line.rstrip())
            line = tok
        else:
            line += tok
    if line.strip():
        lines.append(line.rstrip())
    return lines


def _wrap(text: str, width: float, size: float, max_lines: int = 2) -> list[str]:
    """Break text into at most ``max_lines`` lines that fit ``width`` (at spaces, or anywhere in CJK)."""
    lines = _greedy(text, width, size)
    if len(lines) > 1:
        # balance the lines rather than leave one character on the last
        balanced = _greedy(text, text_width(text, size) / len(lines) + size, size)
        if len(balanced) == len(lines) and all(text_width(x, size) <= width for x in balanced):
            lines = balanced
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][:-1] + "…"
    return lines


def _open(width: float, height: float, key: str, title: str) -> list[str]:
    return [f'<svg xmlns="http://www.w3.org/2000/svg" class="figure-svg" viewBox="0 0 {width:.0f} {height:.0f}" '
            f'width="{width:.0f}" height="{height:.0f}" role="img" aria-labelledby="{key}-title" '
            f'font-family=\'{FONT_STACK}\' font-size="12">',
            f'<title id="{key}-title">{_x(title)}</title>',
            f'<rect x="0" y="0" width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>']


def _num(value: Any, kind: str, lang: str, p: float | None = None) -> str:
    return format_cell(Cell(value, kind, p), lang)


# ---------------------------------------------------------------------------------------------
# diverging stacked bars
# ---------------------------------------------------------------------------------------------
def _construct_counts(results: dict, group: str, construct: str, lo: int, hi: int) -> list[float] | None:
    """Answers per scale point over the construct's items; reverse-keyed items are reflected."""
    rev = set((results.get("constructs") or {}).get(construct, {}).get("reverse") or [])
    rev |= {i for i, s in (results.get("items") or {}).items() if s.get("reverse")}
    totals = [0.0] * (hi - lo + 1)
    seen = False
    for s in results["per_group"][group].get("item_stats") or []:
        if s.get("construct") != construct:
            continue
        for k, n in (s.get("counts") or {}).items():
            try:
                point = int(float(k))
            except (TypeError, ValueError):
                continue
            if lo <= point <= hi and n:
                if s.get("item") in rev:
                    point = lo + hi - point
                totals[point - lo] += n
                seen = True
    return totals if seen else None


def likert_bars(results: dict, lang: str, *, key: str = "fig-likert") -> str | None:
    """Diverging stacked bars of the answers per construct (rows) and cluster (bars).

    Disagreement extends left of zero, agreement right; the neutral point of an
    odd scale straddles zero.  Reverse-keyed items are reflected so that the
    right side always means more of the construct.
    """
    scale = results.get("scale") or {}
    lo, hi = int(scale.get("min", 1)), int(scale.get("max", 5))
    k = hi - lo + 1
    if k < 2 or k > 7:
        return None
    colors = _DIVERGING[k]
    listed = results.get("groups") or list(results.get("per_group") or {})
    groups = [g for g, pg in (results.get("per_group") or {}).items()
              if isinstance(pg, dict) and pg.get("item_stats") and g in listed]
    constructs = list(results.get("constructs") or {})
    rows: list[tuple[str, str, list[float]]] = []
    for c in constructs:
        for g in groups:
            counts = _construct_counts(results, g, c, lo, hi)
            if counts and sum(counts) > 0:
                rows.append((c, g, counts))
    if not rows:
        return None
    size, bar_h, gap = 12, 16, 10
    multi = len(groups) > 1
    label_w = max(text_width(loc(construct_name(results, c), lang), size) for c, _, _ in rows) + 16
    label_w = min(max(label_w, 140), 320)
    glabel_w = (max(text_width(loc(group_label(results, g), lang), 11) for g in groups) + 12) if multi else 0
    plot_w = 520
    left = label_w + glabel_w
    width = left + plot_w + 20
    legend_h = 44
    n_constructs = len(dict.fromkeys(c for c, _, _ in rows))
    height = legend_h + 24 + len(rows) * (bar_h + 4) + n_constructs * gap + 30
    out = _open(width, height, key, "Likert")
    # legend: one swatch per scale point
    labels = scale.get("labels") or {}
    x = left
    for i in range(k):
        point = lo + i
        lab = labels.get(str(point)) or labels.get(point) or str(point)
        text = f"{point} {loc(lab, lang)}"
        w = text_width(text, 11) + 26
        if x + w > width - 10:
            x = left
        out.append(f'<rect x="{x:.1f}" y="10" width="12" height="12" fill="{colors[i]}"/>')
        out.append(f'<text x="{x + 16:.1f}" y="20" font-size="11">{_x(text)}</text>')
        x += w
    mid = left + plot_w / 2
    scale_px = plot_w / 2 / 100.0
    y = legend_h + 20
    top = y
    previous = None
    neutral = (k % 2 == 1)
    for c, g, counts in rows:
        if c != previous:
            if previous is not None:
                y += gap
            out.append(f'<text x="4" y="{y + bar_h - 4:.1f}" font-weight="bold">'
                       f'{_x(loc(construct_name(results, c), lang))}</text>')
            previous = c
        if multi:
            out.append(f'<text x="{label_w:.1f}" y="{y + bar_h - 4:.1f}" font-size="11" fill="#444">'
                       f'{_x(loc(group_label(results, g), lang))}</text>')
        total = sum(counts)
        pct = [100.0 * n / total for n in counts]
        half = k // 2
        # left part: disagreement categories and half the neutral point
        start = -(sum(pct[:half]) + (pct[half] / 2 if neutral else 0.0))
        pos = start
        for i, share in enumerate(pct):
            if share <= 0:
                continue
            x0 = mid + pos * scale_px
            w = share * scale_px
            out.append(f'<rect x="{x0:.2f}" y="{y:.1f}" width="{w:.2f}" height="{bar_h}" fill="{colors[i]}">'
                       f'<title>{_x(f"{lo + i}: {share:.1f}%")}</title></rect>')
            if w >= 24:
                fill = "#222" if colors[i] in _DARK_TEXT else "#fff"
                out.append(f'<text x="{x0 + w / 2:.2f}" y="{y + bar_h - 4:.1f}" font-size="10" '
                           f'text-anchor="middle" fill="{fill}">{share:.0f}</text>')
            pos += share
        y += bar_h + 4
    bottom = y
    # axis: percentages either side of the neutral point
    out.append(f'<line x1="{mid:.1f}" y1="{top - 4:.1f}" x2="{mid:.1f}" y2="{bottom:.1f}" stroke="#333" '
               f'stroke-width="1"/>')
    for tick in (-100, -50, 0, 50, 100):
        tx = mid + tick * scale_px
        out.append(f'<line x1="{tx:.1f}" y1="{bottom:.1f}" x2="{tx:.1f}" y2="{bottom + 4:.1f}" stroke="#333"/>')
        out.append(f'<text x="{tx:.1f}" y="{bottom + 16:.1f}" font-size="10" text-anchor="middle">'
                   f'{abs(tick)}%</text>')
    out.append("</svg>")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# path diagram
# ---------------------------------------------------------------------------------------------
# where along an edge (0 = tail, 1 = head) a coefficient may sit, in order of preference
_LABEL_SPOTS = (0.78, 0.62, 0.46, 0.3, 0.86, 0.54, 0.7, 0.38, 0.22)
_COLUMN = {"auxiliary": 0, "governance": 0, "basic": 1, "outcome": 2}


def _ellipse_point(cx: float, cy: float, rx: float, ry: float, tx: float, ty: float) -> tuple[float, float]:
    """Where the line from the ellipse centre towards (tx, ty) leaves the ellipse."""
    dx, dy = tx - cx, ty - cy
    if dx == 0 and dy == 0:
        return cx, cy
    t = 1.0 / math.sqrt((dx / rx) ** 2 + (dy / ry) ** 2)
    return cx + dx * t, cy + dy * t


def path_diagram(results: dict, group: str, lang: str, *, key: str = "fig-paths", alpha: float = 0.05) -> str | None:
    """The structural model: auxiliary factors and governance left, basic factors middle, outcomes right.

    Each arrow carries the standardized coefficient (std.all) with stars;
    arrows with p < ``alpha`` are solid and heavy, the others thin and dashed.
    Covariances are not drawn.
    """
    st = ((results.get("per_group") or {}).get(group) or {}).get("structural") or {}
    paths = [p for p in st.get("paths") or [] if p.get("lhs") and p.get("rhs")]
    if not paths:
        return None
    constructs = results.get("constructs") or {}
    names = list(dict.fromkeys([p["rhs"] for p in paths] + [p["lhs"] for p in paths]))
    order = {c: i for i, c in enumerate(constructs)}
    names.sort(key=lambda c: order.get(c, len(order)))

    def column(c: str) -> int:
        role = (constructs.get(c) or {}).get("role")
        if role in _COLUMN:
            return _COLUMN[role]
        # no role recorded: exogenous left, endogenous-only right, the rest middle
        is_lhs = any(p["lhs"] == c for p in paths)
        is_rhs = any(p["rhs"] == c for p in paths)
        return 0 if not is_lhs else 2 if not is_rhs else 1

    cols: dict[int, list[str]] = {0: [], 1: [], 2: []}
    for c in names:
        cols[column(c)].append(c)
    rx, ry, size = 96.0, 27.0, 12
    col_x = {0: 130.0, 1: 470.0, 2: 810.0}
    width = 940.0
    row_h = 100.0
    n_rows = max(len(v) for v in cols.values())
    top, legend_h = 30.0, 40.0
    height = top + n_rows * row_h + legend_h
    pos: dict[str, tuple[float, float]] = {}
    for ci, members in cols.items():
        span = n_rows * row_h
        step = span / max(len(members), 1)
        for i, c in enumerate(members):
            pos[c] = (col_x[ci], top + step * (i + 0.5))
    out = _open(width, height, key, "path diagram")
    out.append("<defs>")
    for kind, color in (("sig", "#1a3f8f"), ("ns", "#8a8a8a")):
        out.append(f'<marker id="{key}-arrow-{kind}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
                   f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{color}"/>'
                   f'</marker>')
    out.append("</defs>")
    edges = []
    for p in paths:
        a, b = pos[p["rhs"]], pos[p["lhs"]]
        x1, y1 = _ellipse_point(*a, rx, ry, *b)
        x2, y2 = _ellipse_point(*b, rx, ry, *a)
        pv = p.get("pvalue")
        sig = pv is not None and not (isinstance(pv, float) and math.isnan(pv)) and pv < alpha
        style = ('stroke="#1a3f8f" stroke-width="2.4"' if sig
                 else 'stroke="#8a8a8a" stroke-width="1.1" stroke-dasharray="5 4"')
        kind = "sig" if sig else "ns"
        if abs(a[0] - b[0]) < 1:  # same column: bow to the right
            cx = a[0] + rx + 50
            out.append(f'<path d="M{a[0] + rx:.1f},{a[1]:.1f} Q{cx:.1f},{(a[1] + b[1]) / 2:.1f} '
                       f'{b[0] + rx:.1f},{b[1]:.1f}" fill="none" {style} marker-end="url(#{key}-arrow-{kind})"/>')
            spots = [(cx - 20, (a[1] + b[1]) / 2)]
        else:
            out.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" {style} '
                       f'marker-end="url(#{key}-arrow-{kind})"/>')
            spots = [(x1 + (x2 - x1) * t, y1 + (y2 - y1) * t) for t in _LABEL_SPOTS]
        value = p.get("std_all", p.get("est"))
        edges.append((spots, _num(value, "est", lang, p=pv), sig))
    # Labels go on top of all lines, each at the first spot along its own edge that
    # overlaps no node and no label already placed; significant paths choose first.
    placed: list[tuple[float, float, float, float]] = []
    for spots, text, sig in sorted(edges, key=lambda e: not e[2]):
        w, h = text_width(text, 11) + 6, 15.0

        def clear(lx: float, ly: float, w: float = w, h: float = h) -> bool:
            box = (lx - w / 2, ly - 8, lx + w / 2, ly + 7)
            if any(box[0] < q[2] + 2 and q[0] < box[2] + 2 and box[1] < q[3] + 1 and q[1] < box[3] + 1
                   for q in placed):
                return False
            return all(((lx - cx) / (rx + w / 2)) ** 2 + ((ly - cy) / (ry + h / 2)) ** 2 >= 1
                       for cx, cy in pos.values())

        lx, ly = next(((x, y) for x, y in spots if clear(x, y)), spots[0])
        placed.append((lx - w / 2, ly - 8, lx + w / 2, ly + 7))
        out.append(f'<rect x="{lx - w / 2:.1f}" y="{ly - 8:.1f}" width="{w:.1f}" height="{h:.0f}" rx="3" '
                   f'fill="#ffffff" fill-opacity="0.92"/>')
        weight = ' font-weight="bold"' if sig else ""
        color = "#1a3f8f" if sig else "#666"
        out.append(f'<text x="{lx:.1f}" y="{ly + 4:.1f}" font-size="11" text-anchor="middle" '
                   f'fill="{color}"{weight}>{_x(text)}</text>')
    r2 = st.get("r2") or {}
    for c, (cx, cy) in pos.items():
        role = (constructs.get(c) or {}).get("role", "")
        fill = {"auxiliary": "#fff7e6", "governance": "#f3e8fb", "basic": "#e8f1fb", "outcome": "#e9f7ee"}.get(
            role, "#f4f4f4")
        out.append(f'<ellipse cx="{cx:.1f}" cy="{cy:.1f}" rx="{rx:.0f}" ry="{ry:.0f}" fill="{fill}" '
                   f'stroke="#333" stroke-width="1.2"><title>{_x(c)}</title></ellipse>')
        lines = _wrap(loc(construct_name(results, c), lang), 2 * rx - 22, size)
        y0 = cy - (len(lines) - 1) * 7 + 4
        for i, line in enumerate(lines):
            out.append(f'<text x="{cx:.1f}" y="{y0 + i * 14:.1f}" text-anchor="middle">{_x(line)}</text>')
        if c in r2:
            out.append(f'<text x="{cx:.1f}" y="{cy + ry + 13:.1f}" font-size="10" text-anchor="middle" '
                       f'fill="#333">R² = {_x(_num(r2[c], "r", lang))}</text>')
    # legend
    ly = height - 18
    sig_text = f"p < {format_cell(Cell(alpha, 'r'), lang)}"
    ns_text = "n.s." if lang == "en" else "不显著"
    out.append(f'<line x1="20" y1="{ly:.1f}" x2="60" y2="{ly:.1f}" stroke="#1a3f8f" stroke-width="2.4"/>')
    out.append(f'<text x="66" y="{ly + 4:.1f}" font-size="11">{_x(sig_text)}</text>')
    out.append(f'<line x1="150" y1="{ly:.1f}" x2="190" y2="{ly:.1f}" stroke="#8a8a8a" stroke-width="1.1" '
               f'stroke-dasharray="5 4"/>')
    out.append(f'<text x="196" y="{ly + 4:.1f}" font-size="11">{_x(ns_text)}</text>')
    note = "标准化系数（std.all）；* p < .05，** p < .01，*** p < .001" if lang == "zh" else \
        "standardized coefficients (std.all); * p < .05, ** p < .01, *** p < .001"
    out.append(f'<text x="280" y="{ly + 4:.1f}" font-size="11" fill="#444">{_x(note)}</text>')
    out.append("</svg>")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# invariance ladder
# ---------------------------------------------------------------------------------------------
_DECISION_STYLE = {"holds": ("#e3f4e0", "#1b7837"), "partial": ("#fff1dc", "#b35806"),
                   "fails": ("#fde3e1", "#b2182b")}


def invariance_ladder(results: dict, lang: str, *, key: str = "fig-invariance") -> str | None:
    """The invariance steps as rungs of a ladder, configural at the bottom.

    Each rung shows the step, CFI and RMSEA, the changes from the step below
    and the decision in words (colour repeats, never replaces, the words).
    """
    comp = results.get("comparison") or {}
    steps = comp.get("invariance") or []
    if not steps:
        return None
    width, rung_h, gap = 720.0, 50.0, 16.0
    height = 20 + len(steps) * (rung_h + gap) + 10
    out = _open(width, height, key, "invariance")
    rail_top, rail_bottom = 10.0, height - 10
    for x in (30.0, width - 30):
        out.append(f'<line x1="{x:.0f}" y1="{rail_top:.0f}" x2="{x:.0f}" y2="{rail_bottom:.0f}" stroke="#777" '
                   f'stroke-width="4"/>')
    for i, s in enumerate(steps):
        y = height - 10 - (i + 1) * (rung_h + gap) + gap / 2
        fill, stroke = _DECISION_STYLE.get(s.get("decision"), ("#f4f4f4", "#555"))
        out.append(f'<rect x="30" y="{y:.1f}" width="{width - 60:.0f}" height="{rung_h:.0f}" rx="6" fill="{fill}" '
                   f'stroke="{stroke}" stroke-width="1.6"/>')
        step = loc(STEP_LABELS.get(s.get("step"), s.get("step", "")), lang)
        out.append(f'<text x="46" y="{y + 20:.1f}" font-weight="bold">{i + 1}. {_x(step)}</text>')
        fit = f"CFI {_num(s.get('cfi'), 'r3', lang)}   RMSEA {_num(s.get('rmsea'), 'r3', lang)}"
        out.append(f'<text x="46" y="{y + 39:.1f}" font-size="11" fill="#333">{_x(fit)}</text>')
        if s.get("delta_cfi") is not None or s.get("delta_rmsea") is not None:
            delta = f"ΔCFI {_num(s.get('delta_cfi'), 'r3', lang)}   ΔRMSEA {_num(s.get('delta_rmsea'), 'r3', lang)}"
            if s.get("delta_pvalue") is not None:
                delta += f"   Δχ² p {_num(s.get('delta_pvalue'), 'p', lang)}"
            out.append(f'<text x="300" y="{y + 30:.1f}" font-size="11" fill="#333">{_x(delta)}</text>')
        decision = loc(DECISION_LABELS.get(s.get("decision"), s.get("decision") or ""), lang)
        freed = s.get("freed") or []
        if freed:
            decision += f" ({len(freed)})"
        out.append(f'<text x="{width - 46:.0f}" y="{y + 30:.1f}" text-anchor="end" font-weight="bold" '
                   f'fill="{stroke}">{_x(decision)}</text>')
    out.append("</svg>")
    return "\n".join(out)
