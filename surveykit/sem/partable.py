"""Parameter table: user statements completed with lavaan's defaults (``lavaanify``).

:func:`build_partable` turns the statements of :func:`~surveykit.sem.syntax.parse_model`
into the full table of a ``cfa()`` / ``sem()`` model, one row per parameter per
group, with the defaults lavaan adds:

* the first loading of every factor fixed to 1 (or, with ``std_lv``, every
  factor variance fixed to 1);
* residual variances of every observed and latent variable (an indicator that
  is the only indicator of its factor gets a residual variance fixed to 0);
* covariances among exogenous factors, and among purely dependent variables
  (``auto.cov.y``);
* observed exogenous covariates (``fixed.x = TRUE``): their variances,
  covariances and means are fixed to the sample values (``exo == 1``);
* intercepts of observed variables free, latent means fixed to 0 (free in
  groups 2, 3, ... when intercepts are equal across groups and means are not),
  when the model has a mean structure;
* ``group_equal`` / ``group_partial`` equality across groups, shared labels.

The table is a :class:`ParTable`, a plain record of numpy arrays so that the
estimator never touches pandas.  Columns (one entry per row):

``lhs, op, rhs``  the parameter; ``group`` 1-based group; ``user`` 1 if the
user wrote it; ``free`` 0 when fixed, else the 1-based index of the free
parameter (rows sharing a label, or equal across groups, share the index);
``ustart`` the fixed value or user start (NaN when none); ``exo`` 1 for the
fixed moments of exogenous covariates; ``label`` the label (user's, or lavaan's
``.pN.`` plabel of the reference row for equality across groups);
``plabel`` lavaan's ``.pN.`` name of the row.

Constraint statements are kept in ``defined`` (``:=``), ``equality`` (``==``)
and ``inequality`` (``<``, ``>``).
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

from surveykit.errors import ModelSyntaxError, SurveykitError
from surveykit.sem.syntax import COLUMNS

_Row = namedtuple("_Row", COLUMNS)

__all__ = ["ParTable", "build_partable", "GROUP_EQUAL"]

GROUP_EQUAL = ("loadings", "intercepts", "means", "residuals", "residual.covariances",
               "lv.variances", "lv.covariances", "regressions")


@dataclass
class ParTable:
    lhs: list[str]
    op: list[str]
    rhs: list[str]
    group: np.ndarray
    user: np.ndarray
    free: np.ndarray
    ustart: np.ndarray
    exo: np.ndarray
    label: list[str]
    plabel: list[str]
    ov_names: list[str]
    lv_names: list[str]
    ov_x: list[str]
    ngroups: int
    meanstructure: bool
    defined: list[tuple[str, str, int]] = field(default_factory=list)   # (name, expr, line)
    equality: list[tuple[str, str, int]] = field(default_factory=list)  # (lhs, rhs, line)
    inequality: list[tuple[str, str, str, int]] = field(default_factory=list)  # (lhs, op, rhs, line)

    @property
    def nrow(self) -> int:
        return len(self.lhs)

    @property
    def nfree(self) -> int:
        return int(self.free.max(initial=0))

    def key(self, i: int) -> str:
        return f"{self.lhs[i]}{self.op[i]}{self.rhs[i]}"

    def to_frame(self):
        import pandas as pd
        return pd.DataFrame({
            "id": np.arange(1, self.nrow + 1), "lhs": self.lhs, "op": self.op, "rhs": self.rhs,
            "user": self.user, "group": self.group, "free": self.free, "ustart": self.ustart,
            "exo": self.exo, "label": self.label, "plabel": self.plabel})


def _unique(seq):
    return list(dict.fromkeys(seq))


def _err(message: str, line: int | None = None) -> ModelSyntaxError:
    if line is not None:
        message = f"line {line}: {message}"
    return ModelSyntaxError(message, line=line)


def build_partable(flat, *, data_names: list[str] | None = None, ngroups: int = 1,
                   std_lv: bool = False, meanstructure: bool = False, fixed_x: bool = True,
                   group_equal=(), group_partial=()) -> ParTable:
    """Complete the user statements ``flat`` (from ``parse_model``) with lavaan's defaults.

    Parameters
    ----------
    flat : pandas.DataFrame or sequence of tuples
        Output of :func:`~surveykit.sem.syntax.parse_model` (or of
        :func:`~surveykit.sem.syntax.parse_rows`).
    data_names : list of str, optional
        Columns of the data; every observed variable must be one of them.
    ngroups : int
        Number of groups.
    std_lv : bool
        Identify factors by fixing their variances to 1 instead of the first loading.
    meanstructure : bool
        Add intercepts and latent means (forced on by ``~ 1`` statements and by
        several groups, as in lavaan).
    fixed_x : bool
        Treat observed exogenous covariates as fixed (lavaan's default).
    group_equal, group_partial : sequence of str
        Cross-group equality, as lavaan's ``group.equal`` / ``group.partial``.
    """
    group_equal = tuple(group_equal)
    for ge in group_equal:
        if ge not in GROUP_EQUAL:
            raise SurveykitError(f"group_equal contains {ge!r}, which is not one of "
                                 f"{', '.join(GROUP_EQUAL)}.")
    partial = {p.replace(" ", "") for p in group_partial}

    if hasattr(flat, "itertuples"):
        rows_in = [_Row(*r) for r in flat[list(COLUMNS)].itertuples(index=False, name=None)]
    else:
        rows_in = [_Row(*r) for r in flat]
    par = [r for r in rows_in if r.op in ("=~", "~", "~~", "~1")]
    con = [r for r in rows_in if r.op not in ("=~", "~", "~~", "~1")]
    defined = [(r.lhs, r.rhs, int(r.line)) for r in con if r.op == ":="]
    equality = [(r.lhs, r.rhs, int(r.line)) for r in con if r.op == "=="]
    inequality = [(r.lhs, r.op, r.rhs, int(r.line)) for r in con if r.op in ("<", ">")]

    # ---- statements: merge per-group vector rows, reject duplicates
    stmts: dict[tuple[str, str, str], dict] = {}
    for r in par:
        lhs, op, rhs = r.lhs, r.op, r.rhs
        if op == "~~" and (rhs, op, lhs) in stmts:
            lhs, rhs = rhs, lhs
        key = (lhs, op, rhs)
        mods = {"label": r.label, "fixed": r.fixed, "start": r.start, "free": r.free}
        if key in stmts:
            st = stmts[key]
            if r.group == 0 or 0 in st["groups"] or r.line != st["line"]:
                raise _err(f"'{lhs} {op} {rhs}'".replace(" ~1 ", " ~ 1") + " is specified twice",
                           int(r.line))
            st["groups"][int(r.group)] = mods
        else:
            stmts[key] = {"line": int(r.line), "groups": {int(r.group): mods}}
    for key, st in stmts.items():
        gs = st["groups"]
        if 0 not in gs and sorted(gs) != list(range(1, ngroups + 1)):
            raise _err(f"'{key[0]} {key[1]} {key[2]}' has {len(gs)} per-group modifiers "
                       f"but the data have {ngroups} group(s)", st["line"])

    keys = list(stmts)
    if any(op == "~1" for _, op, _ in keys) or ngroups > 1:
        meanstructure = True

    # ---- variable names (lavaan's lav_partable_vnames)
    lv_names = _unique(lhs for lhs, op, _ in keys if op == "=~")
    v_ind = _unique(rhs for _, op, rhs in keys if op == "=~")
    eqs_y = _unique(lhs for lhs, op, _ in keys if op == "~")
    eqs_x = _unique(rhs for _, op, rhs in keys if op == "~")
    lv_set = set(lv_names)
    ov_ind = [v for v in v_ind if v not in lv_set]
    ov_y = [v for v in eqs_y if v not in lv_set and v not in ov_ind]
    ov_x = [v for v in eqs_x if v not in lv_set and v not in ov_ind and v not in ov_y]
    extra = _unique([v for lhs, op, rhs in keys if op == "~~" for v in (lhs, rhs) if v not in lv_set]
                    + [lhs for lhs, op, _ in keys if op == "~1" and lhs not in lv_set])
    # covariates the user gave a (co)variance or intercept become random, as in lavaan
    user_vars = {v for lhs, op, rhs in keys if op in ("~~", "~1") for v in (lhs, rhs)}
    ov_x = [v for v in ov_x if v not in user_vars] if fixed_x else []
    ov_names = _unique(ov_ind + ov_y + [v for v in eqs_x if v not in lv_set and v not in ov_ind
                                        and v not in ov_y] + extra)
    ov_nox = [v for v in ov_names if v not in ov_x]
    lv_x = [v for v in lv_names if v not in v_ind and v not in eqs_y]
    lv_y = [v for v in lv_names if v in eqs_y and v not in v_ind and v not in eqs_x]
    ov_y_pure = [v for v in ov_names if v in eqs_y and v not in v_ind and v not in eqs_x
                 and v not in lv_set]

    if data_names is not None:
        data_set = set(data_names)
        for name in lv_names:
            if name in data_set:
                raise _err(f"latent variable '{name}' has the name of a column of the data",
                           stmts[next(k for k in keys if k[0] == name)]["line"])
        for name in ov_names:
            if name not in data_set:
                line = next(st["line"] for k, st in stmts.items() if name in (k[0], k[2]))
                raise _err(f"variable '{name}' is neither a latent variable (defined with =~) "
                           f"nor a column of the data", line)

    # ---- default rows
    defaults: list[tuple[str, str, str]] = [(v, "~~", v) for v in ov_nox]
    defaults += [(v, "~~", v) for v in lv_names]
    defaults += [(a, "~~", b) for a, b in combinations(lv_x, 2)]
    defaults += [(a, "~~", b) for a, b in combinations(lv_y + ov_y_pure, 2)]
    defaults += [(ov_x[j], "~~", ov_x[i]) for j in range(len(ov_x)) for i in range(j, len(ov_x))]
    if meanstructure:
        defaults += [(v, "~1", "") for v in ov_names + lv_names]
    have = set(keys) | {(b, o, a) for a, o, b in keys if o == "~~"}
    defaults = [d for d in defaults if d not in have]

    rows = keys + defaults
    nr = len(rows)
    lhs = [r[0] for r in rows]
    op = [r[1] for r in rows]
    rhs = [r[2] for r in rows]
    user = np.array([1] * len(keys) + [0] * len(defaults))
    free = np.ones(nr, dtype=int)
    ustart = np.full(nr, np.nan)
    exo = np.zeros(nr, dtype=int)
    is_var = np.array([o == "~~" and a == b for a, o, b in rows])

    if std_lv:
        for i in range(nr):
            if is_var[i] and lhs[i] in lv_set:
                free[i], ustart[i] = 0, 1.0
    else:
        seen: set[str] = set()
        for i in range(nr):
            if op[i] == "=~" and lhs[i] not in seen:
                seen.add(lhs[i])
                free[i], ustart[i] = 0, 1.0
    counts: dict[str, int] = {}
    for i in range(nr):
        if op[i] == "=~":
            counts[lhs[i]] = counts.get(lhs[i], 0) + 1
    ind_count: dict[str, int] = {}
    for i in range(nr):
        if op[i] == "=~":
            ind_count[rhs[i]] = ind_count.get(rhs[i], 0) + 1
    single = {rhs[i] for i in range(nr) if op[i] == "=~" and counts[lhs[i]] == 1
              and rhs[i] not in lv_set and ind_count[rhs[i]] == 1}
    for i in range(nr):
        if is_var[i] and lhs[i] in single and not user[i]:
            free[i], ustart[i] = 0, 0.0
    if meanstructure:
        for i in range(nr):
            if op[i] == "~1" and lhs[i] in lv_set and not user[i]:
                free[i], ustart[i] = 0, 0.0
    x_set = set(ov_x)
    for i in range(nr):
        if not user[i] and ((op[i] == "~~" and lhs[i] in x_set and rhs[i] in x_set)
                            or (op[i] == "~1" and lhs[i] in x_set)):
            free[i], exo[i] = 0, 1
    marker = {lhs[i]: rhs[i] for i in range(nr) if op[i] == "=~" and free[i] == 0
              and ustart[i] == 1.0}

    # ---- replicate over groups, group-specific defaults
    G = ngroups
    group = np.repeat(np.arange(1, G + 1), nr)
    lhs, op, rhs = lhs * G, op * G, rhs * G
    user, free, ustart, exo = np.tile(user, G), np.tile(free, G), np.tile(ustart, G), np.tile(exo, G)
    is_var = np.tile(is_var, G)
    n = nr * G
    for i in range(nr, n):
        if (meanstructure and op[i] == "~1" and lhs[i] in lv_set and not user[i]
                and "intercepts" in group_equal and "means" not in group_equal):
            free[i], ustart[i] = 1, np.nan
        if std_lv and "loadings" in group_equal and "lv.variances" not in group_equal:
            if is_var[i] and lhs[i] in lv_set and not user[i]:
                free[i], ustart[i] = 1, np.nan
        elif not std_lv and "loadings" in group_equal:
            if op[i] == "=~" and marker.get(lhs[i]) == rhs[i] and free[i] == 0:
                free[i], ustart[i] = 1, np.nan

    # ---- user modifiers
    label = [""] * n
    for i in range(n):
        if not user[i]:
            continue
        st = stmts[(lhs[i], op[i], rhs[i])]
        g = int(group[i])
        mods = st["groups"].get(g, st["groups"].get(0))
        if not np.isnan(mods["fixed"]):
            ustart[i], free[i] = mods["fixed"], 0
        elif mods["free"]:
            ustart[i], free[i] = np.nan, 1
        if not np.isnan(mods["start"]):
            ustart[i] = mods["start"]
        label[i] = mods["label"]

    # ---- equality: lavaan's lav_partable_labels (group.equal) + shared labels
    plabel = [f".p{i + 1}." for i in range(n)]
    eqkey = [f"{lhs[i]}{op[i]}{rhs[i]}" + (f".g{group[i]}" if group[i] > 1 else "") for i in range(n)]
    if G > 1 and group_equal:
        ov_nox_set, ge = set(ov_nox), set(group_equal)
        first: dict[str, int] = {}
        for i in range(n):
            o, a, b = op[i], lhs[i], rhs[i]
            flag = ((o == "=~" and "loadings" in ge)
                    or (o == "~1" and a in ov_nox_set and "intercepts" in ge)
                    or (o == "~1" and a in lv_set and "means" in ge)
                    or (o == "~" and "regressions" in ge)
                    or (o == "~~" and a in ov_nox_set and a == b and "residuals" in ge)
                    or (o == "~~" and a in ov_nox_set and a != b and "residual.covariances" in ge)
                    or (o == "~~" and a in lv_set and a == b and "lv.variances" in ge)
                    or (o == "~~" and a in lv_set and a != b and "lv.covariances" in ge))
            base = f"{a}{o}{b}"
            if flag and base not in partial:
                if base in first:
                    eqkey[i] = eqkey[first[base]]
                else:
                    first[base] = i
    for i in range(n):
        if label[i]:
            eqkey[i] = label[i]
    groups_of: dict[str, list[int]] = {}
    for i in range(n):
        groups_of.setdefault(eqkey[i], []).append(i)
    tied = np.arange(n)  # row whose free index this row takes
    for members in groups_of.values():
        if len(members) < 2:
            continue
        ref = members[0]
        fixed_members = [i for i in members if free[i] == 0]
        if fixed_members:
            val = ustart[fixed_members[0]]
            for i in members:
                free[i], ustart[i] = 0, val
        else:
            for i in members:
                tied[i] = ref
                if not label[i]:
                    label[i] = plabel[ref]
    free_index = np.zeros(n, dtype=int)
    k = 0
    for i in range(n):
        if free[i]:
            if tied[i] == i:
                k += 1
                free_index[i] = k
            else:
                free_index[i] = free_index[tied[i]]
    return ParTable(lhs=lhs, op=op, rhs=rhs, group=group, user=user, free=free_index,
                    ustart=ustart, exo=exo, label=label, plabel=plabel, ov_names=ov_names,
                    lv_names=lv_names, ov_x=ov_x, ngroups=G, meanstructure=meanstructure,
                    defined=defined, equality=equality, inequality=inequality)
