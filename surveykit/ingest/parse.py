"""Read one file into rows of raw and coded answers, a recode log and findings.

:func:`read_file` is pure (no store access) so that many small workbooks can
be parsed in worker processes while the main process writes the store.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import Any

from surveykit.errors import WorkbookError
from surveykit.ingest.mapping import _index, map_columns
from surveykit.ingest.normalise import Coded, ItemNormaliser, fold, label_key, resolve_ticks
from surveykit.ingest.readers import (
    Limits,
    Workbook,
    cell_ref,
    col_index,
    col_letter,
    open_workbook,
)
from surveykit.validate.findings import REASONS, ExclusionPolicy, Finding

__all__ = ["FileResult", "read_file", "MARKER_SHEET"]

MARKER_SHEET = "_surveykit"
_FORM_HEADERS = {"item", "item id", "itemid", "id", "题号", "编号", "条目", "项目"}
_ANSWER_HEADERS = {"answer", "回答", "答案", "作答", "answer / 回答", "回答 / answer"}
_MISS = object()


@dataclass
class FileResult:
    """Everything read from one file, ready to be written in one transaction."""

    path: str
    name: str
    sha256: str
    size: int
    mtime: str
    fmt: str = ""
    status: str = "ok"  # ok | failed
    error: str | None = None
    layout: str | None = None
    sheet: str | None = None
    marker: dict[str, str] = field(default_factory=dict)
    items: list[str] = field(default_factory=list)
    # (position, header, item, how, score, where): where is a column letter (wide) or cell (form)
    columns: list[tuple[int, str, str | None, str, float, str]] = field(default_factory=list)
    row_numbers: list[int | None] = field(default_factory=list)
    respondents: list[str | None] = field(default_factory=list)
    raw_json: list[str] = field(default_factory=list)
    coded_json: list[str] = field(default_factory=list)
    cells_json: list[str | None] = field(default_factory=list)
    coded: list[list[Any]] = field(default_factory=list)
    # (row index or None, sheet, cell, item, raw, coded, rule)
    recodes: list[tuple[int | None, str, str, str, str, str | None, str]] = field(default_factory=list)
    findings: list[tuple[int | None, Finding]] = field(default_factory=list)

    @property
    def n_rows(self) -> int:
        return len(self.raw_json)

    def error_rows(self) -> set[int]:
        return {i for i, f in self.findings if i is not None and f.severity == "error"}


def _jsonable(v: Any) -> Any:
    if isinstance(v, (_dt.date, _dt.time, _dt.timedelta)):
        return v.isoformat() if hasattr(v, "isoformat") else str(v)
    return v


def _raw_text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (_dt.date, _dt.time)):
        return v.isoformat()
    return str(v)


_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_jsonable).encode


def _dumps(obj: Any) -> str:
    return _ENCODE(obj)


def file_identity(path: Path) -> tuple[str, int, str]:
    """sha256 of the bytes, size, and modification time (UTC ISO) of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    st = os.stat(path)
    mtime = _dt.datetime.fromtimestamp(st.st_mtime, _dt.UTC).isoformat(timespec="seconds")
    return h.hexdigest(), st.st_size, mtime


def _finding(res: FileResult, policy: ExclusionPolicy, code: str, message: str,
             row_index: int | None = None, **where: Any) -> None:
    sev = policy.severity_of(code)
    res.findings.append((row_index, Finding(code, sev, message, file=res.name, **where)))


def read_marker(wb: Workbook) -> dict[str, str]:
    """Key/value rows of the hidden ``_surveykit`` sheet (empty if there is none)."""
    if MARKER_SHEET not in wb.sheet_names:
        return {}
    out: dict[str, str] = {}
    for row in wb.rows(MARKER_SHEET):
        if len(row) >= 2 and isinstance(row[0], str) and row[0].strip():
            v = row[1]
            out[row[0].strip()] = (str(int(v)) if isinstance(v, float) and v.is_integer()
                                   else str(v)).strip()
    return out


class _Normalisers:
    """One ItemNormaliser per item, shared by all files of a run (caches stay warm)."""

    def __init__(self, codebook: Any):
        self.codebook = codebook
        self.missing = tuple(str(c) for c in (codebook.missing_codes or ()))
        self._by_item: dict[str, ItemNormaliser] = {}

    def __getitem__(self, item_id: str) -> ItemNormaliser:
        n = self._by_item.get(item_id)
        if n is None:
            n = ItemNormaliser(self.codebook.item(item_id), self.missing)
            self._by_item[item_id] = n
        return n


_NORMALISERS: dict[int, tuple[Any, _Normalisers]] = {}


def _normalisers(codebook: Any) -> _Normalisers:
    got = _NORMALISERS.get(id(codebook))
    if got is None or got[0] is not codebook:
        got = (codebook, _Normalisers(codebook))
        _NORMALISERS[id(codebook)] = got
    return got[1]


def read_file(path: str | os.PathLike[str], codebook: Any, *, layout: str | None = None,
              policy: ExclusionPolicy | None = None, limits: Limits | None = None) -> FileResult:
    """Read, map, normalise and check one file.

    Never raises for a bad file: an unreadable or refused file comes back with
    ``status="failed"``, its one-line error and an ``unreadable_file`` (or more
    specific) finding, so that one bad file never stops the others.
    """
    policy = policy or ExclusionPolicy()
    path = Path(path)
    try:
        sha, size, mtime = file_identity(path)
    except OSError as exc:
        res = FileResult(str(path), path.name, "", 0, "")
        return _fail(res, policy, "unreadable_file",
                     f"{path.name}: cannot read the file ({exc.strerror or exc})")
    res = FileResult(str(path.resolve()), path.name, sha, size, mtime)
    try:
        with open_workbook(path, limits) as wb:
            res.fmt = wb.format
            res.marker = read_marker(wb)
            _parse(wb, res, codebook, layout, policy)
    except WorkbookError as exc:
        code = getattr(exc, "reason", None) or "unreadable_file"
        return _fail(res, policy, code, str(exc))
    except MemoryError:
        return _fail(res, policy, "unreadable_file", f"{path.name}: out of memory while reading "
                                                     f"(file)")
    except Exception as exc:  # a defect must cost this file only, never the whole import
        return _fail(res, policy, "unreadable_file",
                     f"{path.name}: could not be read ({type(exc).__name__}: "
                     f"{' '.join(str(exc).split())[:160]}) (file)")
    return res


def _fail(res: FileResult, policy: ExclusionPolicy, code: str, message: str) -> FileResult:
    res.status = "failed"
    res.error = message
    res.items, res.columns = [], []
    res.row_numbers, res.respondents, res.raw_json, res.coded_json = [], [], [], []
    res.cells_json, res.coded, res.recodes = [], [], []
    res.findings = [f for f in res.findings if f[0] is None]
    res.findings.append((None, Finding(code, policy.severity_of(code) if code in REASONS else "error",
                                       message, file=res.name)))
    return res


def _refuse(code: str, message: str) -> WorkbookError:
    exc = WorkbookError(message)
    exc.reason = code  # type: ignore[attr-defined]
    return exc


def _parse(wb: Workbook, res: FileResult, cb: Any, layout: str | None,
           policy: ExclusionPolicy) -> None:
    marker = res.marker
    qid = marker.get("questionnaire_id")
    if qid and qid != cb.id:
        raise _refuse("questionnaire_mismatch",
                      f"{res.name}: made for questionnaire {qid!r}, not {cb.id!r} "
                      f"(sheet {MARKER_SHEET})")
    mv, msha = marker.get("version"), marker.get("codebook_sha256")
    if (mv and str(mv) != str(cb.version)) or (msha and cb.sha256 and msha != cb.sha256):
        what = (f"version {mv} of the questionnaire, the codebook is version {cb.version}"
                if mv and str(mv) != str(cb.version) else "another revision of the codebook (hash)")
        _finding(res, policy, "version_mismatch", f"{res.name}: made from {what}",
                 sheet=MARKER_SHEET)
    layout = layout or marker.get("layout") or None
    if layout not in (None, "wide", "form"):
        raise _refuse("layout_unknown", f"{res.name}: unknown layout {layout!r} "
                                        f"(sheet {MARKER_SHEET})")
    if layout is None:
        layout, sheet = _detect(wb, cb)
    else:
        sheet = _pick_sheet(wb, layout, cb)
    if layout is None or sheet is None:
        hidden = [n for n in wb.sheet_names if n in wb.hidden and n != MARKER_SHEET]
        where = f"sheets {', '.join(wb.visible_sheets) or 'none'}"
        if hidden:  # hidden sheets are never read as data: the reviewer could not see them
            where += f"; hidden, not read: {', '.join(hidden)}"
        raise _refuse("layout_unknown",
                      f"{res.name}: no sheet in wide or form layout of questionnaire {cb.id!r} "
                      f"({where})")
    res.layout, res.sheet = layout, sheet
    rows = wb.rows(sheet)
    if layout == "wide":
        _parse_wide(rows, res, cb, policy, wb)
    else:
        _parse_form(rows, res, cb, policy, wb)


def _count_ids(rows: list[list[Any]], cb: Any, col: int = 0, limit: int = 400) -> int:
    ids = {i.id.casefold() for i in cb.items}
    n = 0
    for row in rows[:limit]:
        if len(row) > col and isinstance(row[col], str) and row[col].strip().casefold() in ids:
            n += 1
    return n


def _header_row(rows: list[list[Any]], cb: Any | None = None, limit: int = 10) -> int | None:
    """The header row: the first non-empty row, or, when a codebook is given, the row of
    the first few non-empty ones that maps to most items (a title block may sit above)."""
    first = None
    best, best_n = None, 0
    seen = 0
    for i, row in enumerate(rows[:limit]):
        if row.count("") == len(row):
            continue
        if first is None:
            first = i
            if cb is None:
                return i
        n = len(map_columns(row, cb).mapped)
        if n > best_n:
            best, best_n = i, n
        seen += 1
        if best_n >= max(2, len(row) // 2) or seen >= 5:
            break
    return best if best is not None else first


def _detect(wb: Workbook, cb: Any) -> tuple[str | None, str | None]:
    """Guess the layout: a sheet whose column A lists item ids is a form, a sheet
    whose first non-empty row maps to items is wide.  Hidden sheets are not read."""
    names = wb.visible_sheets
    preferred = [n for n in ("Questionnaire", "问卷", "Data", "数据") if n in names]
    order = preferred + [n for n in names if n not in preferred and n != MARKER_SHEET]
    best: tuple[int, str | None, str | None] = (0, None, None)
    for name in order[:8]:
        rows = wb.rows(name)
        if not rows:
            continue
        n_form = _count_ids(rows, cb)
        h = _header_row(rows, cb)
        n_wide = 0
        if h is not None:
            n_wide = len(map_columns(rows[h], cb).mapped)
        if n_form >= 3 and n_form >= n_wide:
            score, lay = n_form, "form"
        else:
            score, lay = n_wide, "wide"
        if score > best[0]:
            best = (score, lay, name)
        if score >= max(3, len(cb.items) // 2):
            break
    if best[0] < 2:
        return None, None
    return best[1], best[2]


def _pick_sheet(wb: Workbook, layout: str, cb: Any) -> str | None:
    want = ("Data", "数据") if layout == "wide" else ("Questionnaire", "问卷")
    for n in want:
        if n in wb.visible_sheets:
            return n
    lay, sheet = _detect(wb, cb)
    if sheet is not None:
        return sheet
    vis = [n for n in wb.visible_sheets if n != MARKER_SHEET]
    return vis[0] if vis else None


def _respondent_text(v: Any) -> str | None:
    if v is None or v == "":
        return None
    if type(v) is str and v.isascii():
        return " ".join(v.split()) or None
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    text = fold(str(v))
    return text or None


def _check_merged(wb: Workbook, res: FileResult, policy: ExclusionPolicy, first_row: int,
                  cols: set[int]) -> None:
    for (r0, c0, r1, c1) in wb.merged.get(res.sheet or "", []):
        if r1 >= first_row and any(c0 <= c <= c1 for c in cols):
            _finding(res, policy, "merged_answer_cells",
                     f"{res.name}: answer cells {cell_ref(r0, c0)}:{cell_ref(r1, c1)} are merged",
                     sheet=res.sheet, cell=f"{cell_ref(r0, c0)}:{cell_ref(r1, c1)}")


# -- wide ------------------------------------------------------------------------

def _parse_wide(rows: list[list[Any]], res: FileResult, cb: Any, policy: ExclusionPolicy,
                wb: Workbook) -> None:
    sheet = res.sheet or ""
    h = _header_row(rows, cb)
    if h is None:
        raise _refuse("layout_unknown", f"{res.name}: sheet {sheet!r} is empty (sheet {sheet})")
    first = res.marker.get("first_data_row")
    texts = rows[h + 1] if h + 1 < len(rows) else None
    cmap = map_columns(rows[h], cb, texts)
    mapped = cmap.mapped
    if first and str(first).isdigit():
        start = int(first) - 1
    else:
        start = h + 1
        if texts is not None and mapped:
            idx = _index(cb)
            same = sum(1 for m in mapped if m.column < len(texts) and isinstance(texts[m.column], str)
                       and idx.match(texts[m.column])[0] == m.item)
            if same >= max(1, len(mapped) // 2):
                start = h + 2
    for m in cmap.matches:
        res.columns.append((m.column, m.header, None if m.how == "duplicate" else m.item, m.how,
                            m.score, col_letter(m.column)))
    for m in cmap.unknown:
        _finding(res, policy, "unknown_column",
                 f"{res.name}: column {col_letter(m.column)} {m.header!r} matches no item of "
                 f"{cb.id}", sheet=sheet, cell=cell_ref(h, m.column), value=m.header[:200])
    for m in cmap.duplicates:
        first_col = next(x.column for x in mapped if x.item == m.item)
        _finding(res, policy, "duplicate_column",
                 f"{res.name}: column {col_letter(m.column)} repeats item {m.item} of column "
                 f"{col_letter(first_col)}; the first is used", sheet=sheet,
                 cell=cell_ref(h, m.column), item=m.item)
    rid = cb.respondent_id
    id_col = next((m.column for m in mapped if m.item == rid), None)
    if id_col is None:
        raise _refuse("missing_respondent_column",
                      f"{res.name}: no column holds the respondent id {rid!r} (sheet {sheet}, row "
                      f"{h + 1})")
    if len(mapped) < 2:
        raise _refuse("layout_unknown", f"{res.name}: no column maps to an item of {cb.id!r} "
                                        f"(sheet {sheet}, row {h + 1})")
    for item_id in cmap.missing(cb):
        _finding(res, policy, "missing_column", f"{res.name}: no column for item {item_id}",
                 sheet=sheet, item=item_id)
    body = rows[start:]
    keep = [i for i, r in enumerate(body) if r.count("") != len(r)]
    if len(keep) != len(body):
        body = [body[i] for i in keep]
    row_numbers = [start + i + 1 for i in keep]
    n = len(body)
    res.row_numbers = row_numbers
    _check_merged(wb, res, policy, start, {m.column for m in mapped})
    if n == 0:
        return
    args = (body, row_numbers, [(m.column, m.item) for m in mapped], cb, policy, res.name, sheet,
            res.fmt, id_col)
    if n >= _SPLIT_MIN_ROWS and _can_split():
        # two halves of the rows coded at once: a forked child takes the second half
        # (it inherits the parsed rows, nothing is sent to it) while this process codes the first
        half = n // 2
        try:
            child: _Future | None = _in_child((body[half:], row_numbers[half:], *args[2:]))
        except Exception:  # no second process after all: code it here
            child = None
        first_block = _code_block(body[:half], row_numbers[:half], *args[2:])
        other = None
        if child is not None:
            try:
                other = child.result()
            except Exception:  # the child died: code its half here
                other = None
        if other is None:
            other = _code_block(body[half:], row_numbers[half:], *args[2:])
        blocks = [(0, first_block), (half, other)]
    else:
        blocks = [(0, _code_block(*args))]
    res.items = blocks[0][1].items
    for offset, b in blocks:
        res.respondents += b.respondents
        res.coded += b.coded
        res.coded_json += b.coded_json
        res.raw_json += b.raw_json
        res.recodes += [(i + offset, *rest) for i, *rest in b.recodes]
        res.findings += [(i + offset, f) for i, f in b.findings]
    res.cells_json = [None] * n


_SPLIT_MIN_ROWS = 5000
_SPLIT_JOB: tuple[Any, ...] | None = None


def _can_split() -> bool:
    import multiprocessing as mp

    # only from a main process (a pool worker parsing many files has its core busy already),
    # and only when a core is likely idle: on a busy machine the second half would wait for a
    # core and the fork and the transfer back would be pure overhead
    cores = os.cpu_count() or 1
    try:
        idle = os.getloadavg()[0] < cores - 0.5
    except OSError:  # no load average on this platform
        idle = True
    return cores >= 2 and idle and mp.parent_process() is None \
        and "fork" in mp.get_all_start_methods()


def _code_job() -> _Block:
    assert _SPLIT_JOB is not None
    return _code_block(*_SPLIT_JOB)


class _Future:
    def __init__(self, ex: Any, fut: Any):
        self.ex, self.fut = ex, fut

    def result(self) -> _Block:
        try:
            return self.fut.result()
        finally:
            self.ex.shutdown(wait=True)


def _in_child(job: tuple[Any, ...]) -> _Future:
    global _SPLIT_JOB
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    _SPLIT_JOB = job  # the forked child inherits it: the rows are not pickled
    ex = ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("fork"))
    try:
        fut = ex.submit(_code_job)  # forks the worker now, while the job is set
    finally:
        _SPLIT_JOB = None
    return _Future(ex, fut)


@dataclass
class _Block:
    """Coded rows of one block of a wide sheet (row indices local to the block)."""

    items: list[str]
    respondents: list[str | None]
    coded: list[tuple[Any, ...]]
    coded_json: list[str]
    raw_json: list[str]
    recodes: list[tuple[Any, ...]]
    findings: list[tuple[int | None, Finding]]


def _code_block(body: list[list[Any]], row_numbers: list[int], mapped: list[tuple[int, str]],
                cb: Any, policy: ExclusionPolicy, name: str, sheet: str, fmt: str,
                id_col: int) -> _Block:
    """Normalise, check and encode rows of a wide sheet."""
    n = len(body)
    tmp = FileResult("", name, "", 0, "", fmt=fmt)
    norms = _normalisers(cb)
    columns = list(zip(*body, strict=True))
    csv_source = fmt == "csv"
    coded_cols: list[list[Any]] = []
    items: list[str] = []
    rid = cb.respondent_id
    # raw values kept beside the codes: every cell whose raw value is not its code
    raw_maps: dict[int, dict[str, Any]] = {}
    mapped_cols = {c for c, _ in mapped}
    for j in range(len(columns)):
        if j in mapped_cols:
            continue
        letter = col_letter(j)
        col = columns[j]
        if col.count("") == n:
            continue
        for i, v in enumerate(col):
            if v != "":
                raw_maps.setdefault(i, {})[f"{letter}{row_numbers[i]}"] = v
    append = tmp.recodes.append
    for column, item_id in mapped:
        col = columns[column]
        norm = norms[item_id]
        coded_col, events = _normalise_column(col, norm)
        coded_cols.append(coded_col)
        items.append(item_id)
        letter = col_letter(column)
        if norm.item.required and item_id != rid and None in coded_col:
            refused = {i for i, out in events if out.problem}
            i = -1
            index = coded_col.index
            try:
                while True:
                    i = index(None, i + 1)
                    if i not in refused:  # a refused answer is reported as what it is
                        rn = row_numbers[i]
                        _finding(tmp, policy, "required_missing",
                                 f"{name}: row {rn}: required item {item_id} is not answered",
                                 row_index=i, sheet=sheet, cell=f"{letter}{rn}", row=rn,
                                 item=item_id)
            except ValueError:
                pass
        for i, out in events:
            raw = col[i]
            cell = f"{letter}{row_numbers[i]}"
            mp = raw_maps.get(i)
            if mp is None:
                mp = raw_maps[i] = {}
            mp[cell] = raw
            text = raw if type(raw) is str else _raw_text(raw)
            if out.problem:
                rn = row_numbers[i]
                _finding(tmp, policy, out.problem,
                         f"{name}: {item_id} = {text!r} {out.detail or ''}".rstrip(),
                         row_index=i, sheet=sheet, cell=cell, row=rn, item=item_id,
                         value=text[:200])
            if out.rule and not (csv_source and out.rule == "numeric_string"):
                append((i, sheet, cell, item_id, text,
                        None if out.value is None else str(out.value), out.rule))
    rid_pos = items.index(rid)
    resp = [_respondent_text(v) for v in coded_cols[rid_pos]]
    coded_cols[rid_pos] = resp
    for i in [i for i, r in enumerate(resp) if r is None]:
        rn = row_numbers[i]
        _finding(tmp, policy, "missing_respondent_id",
                 f"{name}: row {rn} has answers but no {rid}", row_index=i, sheet=sheet,
                 cell=f"{col_letter(id_col)}{rn}", row=rn, item=rid)
    coded_rows = list(zip(*coded_cols, strict=True))
    # attach the respondent to row findings now that it is known
    findings = [(i, f if i is None or f.respondent else _with_resp(f, resp[i]))
                for i, f in tmp.findings]
    raw_json = ["{}"] * n
    for i, mp in raw_maps.items():
        raw_json[i] = _ENCODE(mp)
    return _Block(items, resp, coded_rows, [_ENCODE(r) for r in coded_rows], raw_json,
                  tmp.recodes, findings)


def _with_resp(f: Finding, respondent: str | None) -> Finding:
    if respondent is None:
        return f
    from dataclasses import replace
    return replace(f, respondent=respondent)


_WHOLE_TYPES = ("likert", "integer", "year", "single")


def _normalise_column(col: tuple[Any, ...], norm: ItemNormaliser
                      ) -> tuple[list[Any], list[tuple[int, Coded]]]:
    """Code a column without per-cell Python work where possible.

    Whole-number items (Likert, integer, year, single choice) are coded with
    numpy: the distinct numbers are few and each is normalised once; only the
    cells that are not numbers (blanks, labels, typed text) go through the
    normaliser one by one.  Other items use one dict lookup per cell.
    """
    if norm.type in _WHOLE_TYPES:
        import numpy as np

        is_num = np.fromiter(map(isinstance, col, repeat(float)), dtype=bool, count=len(col))
        other = np.flatnonzero(~is_num).tolist()
        if len(other) * 4 < len(col):
            return _normalise_whole(col, norm, other)
    types = set(map(type, col))
    if bool in types:  # True == 1.0 as a dict key: code cell by cell
        outs = [norm(v) for v in col]
        events = [(i, o) for i, o in enumerate(outs) if o.rule or o.problem]
        return [o.value for o in outs], events
    table: dict[Any, Any] = {}
    special: dict[Any, Coded] = {}
    for v in set(col):
        out = norm(v)
        if out.rule or out.problem:
            table[v] = _MISS
            special[v] = out
        else:
            table[v] = out.value
    coded = list(map(table.__getitem__, col))
    events: list[tuple[int, Coded]] = []
    if special:
        i = -1
        index = coded.index
        try:
            while True:
                i = index(_MISS, i + 1)
                out = special[col[i]]
                coded[i] = out.value
                events.append((i, out))
        except ValueError:
            pass
    return coded, events


def _normalise_whole(col: tuple[Any, ...], norm: ItemNormaliser, other: list[int]
                     ) -> tuple[list[Any], list[tuple[int, Coded]]]:
    import numpy as np

    vals = list(col)
    for i in other:
        vals[i] = 0.0
    arr = np.array(vals, dtype=float)
    ok = np.ones(len(arr), dtype=bool)
    ok[other] = False
    distinct = np.unique(arr[ok]) if ok.any() else np.empty(0)
    events: list[tuple[int, Coded]] = []
    bad = np.zeros(len(arr), dtype=bool)
    special: list[tuple[float, Coded]] = []
    for v in distinct.tolist():
        out = norm(v)
        if out.rule or out.problem or out.value is None or out.value != v:
            special.append((v, out))
    for v, _ in special:
        bad |= ok & (arr == v)
    ints = np.where(ok & ~bad, arr, 0).astype(np.int64).tolist()
    for v, out in special:
        for i in np.flatnonzero(ok & (arr == v)).tolist():
            ints[i] = out.value
            if out.rule or out.problem:
                events.append((i, out))
    for i in other:
        out = norm(col[i])
        ints[i] = out.value
        if out.rule or out.problem:
            events.append((i, out))
    events.sort(key=lambda e: e[0])
    return ints, events


# -- form ----------------------------------------------------------------------

def _parse_form(rows: list[list[Any]], res: FileResult, cb: Any, policy: ExclusionPolicy,
                wb: Workbook) -> None:
    sheet = res.sheet or ""
    marker = res.marker
    header = None
    for i, row in enumerate(rows[:40]):
        if row and isinstance(row[0], str) and fold(row[0]).casefold() in _FORM_HEADERS:
            header = i
            break
    width = max((len(r) for r in rows), default=0)
    ans_col = col_index(marker["answer_column"]) if marker.get("answer_column") else None
    hdr = rows[header] if header is not None else []
    if ans_col is None:
        for j, v in enumerate(hdr):
            if isinstance(v, str) and (fold(v).casefold() in _ANSWER_HEADERS
                                       or label_key(v) in {"answer", "回答", "答案", "answer回答",
                                                           "回答answer"}):
                ans_col = j
                break
    if ans_col is None:
        ans_col = 3
    tick_cols = _tick_columns(marker.get("tick_columns"), ans_col, hdr, width, cb)
    idx = _index(cb)
    norms = _normalisers(cb)
    points_of: dict[str, list[int]] = {}  # scale id -> point of each box (one header per file)
    items: list[str] = []
    coded: list[Any] = []
    raws: dict[str, Any] = {}  # cell -> raw value, where the raw value is not the code
    cells: list[str] = []
    seen: dict[str, int] = {}
    rid = cb.respondent_id
    start = (header + 1) if header is not None else 0
    row_findings: list[tuple[str, str, str, Any, str | None]] = []
    ans_letter = col_letter(ans_col)
    tick_letters = [col_letter(c) for c in tick_cols]
    t0, t1 = (tick_cols[0], tick_cols[-1] + 1) if tick_cols else (0, 0)
    contiguous = tick_cols == list(range(t0, t1))
    ids_get = idx.ids.get
    csv_source = res.fmt == "csv"
    for r in range(start, len(rows)):
        row = rows[r]
        a = row[0] if row else ""
        if type(a) is not str:
            if isinstance(a, float):
                a = str(int(a)) if a.is_integer() else str(a)
            else:
                continue
        item_id = ids_get(a.strip().casefold())
        how = "id"
        if item_id is None:
            if not a.strip():
                continue
            item_id = ids_get(fold(a).casefold())
        if item_id is None:
            texts = [row[c] for c in (1, 2) if c < len(row) and isinstance(row[c], str)]
            for t in texts:
                item_id, how, _ = idx.match(t)
                if item_id:
                    break
        if item_id is None:
            _finding(res, policy, "unknown_column",
                     f"{res.name}: row {r + 1} {a!r} is not an item of {cb.id}", sheet=sheet,
                     cell=f"A{r + 1}", value=str(a)[:200])
            res.columns.append((r, str(a), None, "none", 0.0, f"A{r + 1}"))
            continue
        if item_id in seen:
            _finding(res, policy, "duplicate_column",
                     f"{res.name}: row {r + 1} repeats item {item_id} of row {seen[item_id] + 1}; "
                     f"the first is used", sheet=sheet, cell=f"A{r + 1}", item=item_id)
            res.columns.append((r, str(a), None, "duplicate", 1.0, f"A{r + 1}"))
            continue
        seen[item_id] = r
        cell = f"{ans_letter}{r + 1}"
        if how != "id":  # rows found by their item id are in responses.cells already
            res.columns.append((r, a, item_id, how, 1.0, cell))
        norm = norms[item_id]
        raw = row[ans_col] if ans_col < len(row) else ""
        out = norm(raw)
        item = norm.item
        if item.type == "likert" and tick_cols and item.scale is not None:
            boxes = row[t0:t1] if contiguous else [row[c] if c < len(row) else "" for c in tick_cols]
            if boxes and boxes.count("") != len(boxes):  # most rows have no tick at all
                pts = points_of.get(item.scale.id)
                if pts is None:
                    pts = points_of[item.scale.id] = _tick_points(hdr, tick_cols, item.scale)
                point, ticked, problem = resolve_ticks(boxes, pts, norm.missing)
                answered = not (raw is None or raw == "" or (
                    out.value is None and out.problem is None and out.rule is None))
                if problem:
                    where = ", ".join(f"{tick_letters[k]}{r + 1}" for k in ticked)
                    out = Coded(None, None, "multiple_ticks", f"boxes {where} are all ticked")
                elif point is not None:
                    tcell = f"{tick_letters[ticked[0]]}{r + 1}"
                    if not answered or out.value is None and out.rule == "missing_code":
                        raw, cell, out = boxes[ticked[0]], tcell, Coded(point, "tick")
                    elif out.value is not None and out.value != point:
                        out = Coded(None, None, "conflicting_answer",
                                    f"{cell} says {_raw_text(raw)!r} but box {tcell} (point "
                                    f"{point}) is ticked")
        if out.problem or out.rule:
            raws[cell] = raw
        if out.problem:
            row_findings.append((out.problem, item_id, cell, raw, out.detail))
        elif out.value is None and item.required and item_id != rid:
            row_findings.append(("required_missing", item_id, cell, None, None))
        if out.rule and not (csv_source and out.rule == "numeric_string"):
            res.recodes.append((0, sheet, cell, item_id, _raw_text(raw),
                                None if out.value is None else str(out.value), out.rule))
        items.append(item_id)
        coded.append(out.value)
        cells.append(cell)
    if len(items) < max(3, len(cb.items) // 4):
        raise _refuse("layout_unknown", f"{res.name}: only {len(items)} rows map to items of "
                                        f"{cb.id!r}, not a form of this questionnaire "
                                        f"(sheet {sheet}, column A)")
    if rid not in seen:
        raise _refuse("missing_respondent_column",
                      f"{res.name}: no row holds the respondent id {rid!r} (sheet {sheet}, "
                      f"column A)")

    rpos = items.index(rid)
    respondent = _respondent_text(coded[rpos])
    coded[rpos] = respondent
    for code, item_id, cell, raw, detail in row_findings:
        if code == "required_missing":
            _finding(res, policy, code, f"{res.name}: required item {item_id} is not answered",
                     row_index=0, sheet=sheet, cell=cell, item=item_id, respondent=respondent)
            continue
        _finding(res, policy, code,
                 f"{res.name}: {item_id} = {_raw_text(raw)!r} {detail or ''}".rstrip(), row_index=0,
                 sheet=sheet, cell=cell, item=item_id, respondent=respondent,
                 value=_raw_text(raw)[:200])
    if respondent is None:
        _finding(res, policy, "missing_respondent_id",
                 f"{res.name}: the form has no {rid}", row_index=0, sheet=sheet,
                 cell=cells[rpos], item=rid)
    for item_id in [i.id for i in cb.items if i.id not in seen]:
        _finding(res, policy, "missing_column", f"{res.name}: no row for item {item_id}",
                 sheet=sheet, item=item_id)
    _check_merged(wb, res, policy, start, {ans_col, *tick_cols})
    res.items = items
    res.row_numbers = [None]
    res.respondents = [respondent]
    res.coded = [coded]
    res.coded_json = [_dumps(coded)]
    res.raw_json = [_dumps(raws)]
    res.cells_json = [_dumps(cells)]


def _tick_columns(spec: str | None, ans_col: int, hdr: list[Any], width: int,
                  cb: Any) -> list[int]:
    """The answer-box columns: from the marker, else the header cells right of the answer
    column that name a scale point (a number or a point label), else the five after it."""
    if spec:
        spec = spec.replace(" ", "")
        try:
            if ":" in spec or ".." in spec:
                a, b = spec.replace("..", ":").split(":")
                return list(range(col_index(a), col_index(b) + 1))
            return [col_index(p) for p in spec.split(",") if p]
        except ValueError:
            pass
    labels = {label_key(str(t)) for sc in (getattr(cb, "scales", None) or {}).values()
              for names in sc.labels.values() for t in names.values() if t}
    cols = []
    for j in range(ans_col + 1, min(len(hdr), ans_col + 12)):
        v = hdr[j]
        text = fold(_raw_text(v)) if v not in ("", None) else ""
        if not text:
            break
        parts = [label_key(p) for p in text.replace("/", "\n").split("\n")]
        if text.split()[0].isdigit() or any(p in labels for p in parts) or label_key(text) in labels:
            cols.append(j)
        else:
            break
    if cols:
        return cols
    return list(range(ans_col + 1, min(width, ans_col + 6)))


def _tick_points(hdr: list[Any], cols: list[int], scale: Any) -> list[int]:
    """The scale point of each box: from its header label or number, else by position."""
    by_label = {label_key(str(t)): int(p) for p, names in scale.labels.items()
                for t in names.values() if t}
    pts: list[int] = []
    for k, c in enumerate(cols):
        v = hdr[c] if c < len(hdr) else ""
        p = None
        if isinstance(v, float) and v.is_integer():
            p = int(v)
        elif isinstance(v, str) and v.strip():
            f = fold(v)
            lead = f.split()[0] if f.split() else ""
            if lead.isdigit():
                p = int(lead)
            else:
                p = by_label.get(label_key(f))
                if p is None:
                    for part in f.replace("/", "\n").split("\n"):
                        p = by_label.get(label_key(part))
                        if p is not None:
                            break
        pts.append(p if p is not None and scale.min <= p <= scale.max else scale.min + k)
    return pts
