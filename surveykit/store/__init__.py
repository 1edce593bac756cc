"""The survey store: an embedded SQLite file holding everything an import saw.

Every imported file (sha256, name, size, time, questionnaire id, version and
hash), every answer raw and coded with its source cell, the recode log,
findings and quarantined rows.  Each file is written in one transaction;
re-importing identical bytes changes nothing; a changed file of the same name
becomes a new version and both are kept (the older one is superseded and no
longer analysed).

A row's coded values are one JSON array aligned with its file's item list; its
raw values are kept beside them as a JSON object of the cells whose raw value
is not the code (recoded, refused, or in a column no item claimed) -- every
other cell held exactly its code.  :meth:`Store.answers` expands both into one
line per answer with its source cell.

The store runs in WAL mode with a busy timeout, so several processes may
import into it at once and readers never block writers.  ``synchronous=NORMAL``
in WAL mode survives a crash of the process at any point (a killed import
leaves whole files or nothing); only a power cut may lose the last commits.

Example
-------
>>> import surveykit
>>> st = surveykit.open_store("survey.sqlite")          # doctest: +SKIP
>>> df = st.responses(codebook="ningbo_apparel")        # doctest: +SKIP
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from surveykit.errors import StoreError
from surveykit.store.schema import APPLICATION_ID, LATEST, MIGRATIONS

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from surveykit.ingest.parse import FileResult
    from surveykit.validate.findings import ExclusionPolicy, Finding

__all__ = ["Store", "open_store", "SCHEMA_VERSION"]

SCHEMA_VERSION = LATEST
_BUSY_MS = 60_000
_RETRIES = 8


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds")


def open_store(path: str | os.PathLike[str], *, create: bool = True) -> Store:
    """Open (or create) a survey store.

    Parameters
    ----------
    path
        The SQLite file.
    create
        Create the store when the file does not exist; with ``False`` a
        missing file raises :class:`StoreError`.

    Raises
    ------
    StoreError
        The file is not a surveykit store, is of a newer schema, or is locked
        or damaged.
    """
    return Store(path, create=create)


class Store:
    """An open survey store; see :func:`open_store`."""

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True):
        self.path = Path(path)
        if not self.path.exists():
            if not create:
                raise StoreError(f"{self.path}: no such store (file not found)")
            if self.path.parent and not self.path.parent.exists():
                raise StoreError(f"{self.path}: the folder {self.path.parent} does not exist")
        elif self.path.is_dir():
            raise StoreError(f"{self.path}: is a folder, not a store file")
        try:
            self.con = sqlite3.connect(str(self.path), timeout=_BUSY_MS / 1000,
                                       isolation_level=None, check_same_thread=False)
            self._configure()
            self._migrate()
        except sqlite3.OperationalError as exc:
            if "file is not a database" in str(exc) or "malformed" in str(exc):
                raise StoreError(f"{self.path}: not a surveykit store or damaged ({exc})") from None
            raise StoreError(f"{self.path}: cannot open the store ({exc})") from None
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a surveykit store or damaged ({exc})") from None

    # -- connection ------------------------------------------------------------
    def _configure(self) -> None:
        c = self.con
        c.execute(f"PRAGMA busy_timeout = {_BUSY_MS}")
        mode = c.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":  # pragma: no cover - e.g. a network filesystem
            c.execute("PRAGMA journal_mode = DELETE")
        # NORMAL in WAL mode loses at most the last commits on power loss, never on a
        # crash of the process, and never corrupts the file.
        c.execute("PRAGMA synchronous = NORMAL")
        c.execute("PRAGMA foreign_keys = ON")
        c.execute("PRAGMA temp_store = MEMORY")
        c.execute("PRAGMA cache_size = -65536")

    def _migrate(self) -> None:
        c = self.con
        app = c.execute("PRAGMA application_id").fetchone()[0]
        ver = c.execute("PRAGMA user_version").fetchone()[0]
        n_tables = c.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if app != APPLICATION_ID and n_tables:
            raise StoreError(f"{self.path}: not a surveykit store (an SQLite file of another "
                             f"application)")
        if ver > LATEST:
            raise StoreError(f"{self.path}: store schema version {ver} is newer than this "
                             f"surveykit supports ({LATEST}); upgrade surveykit")
        if ver == LATEST:
            return
        with self.transaction():
            ver = c.execute("PRAGMA user_version").fetchone()[0]  # another process may have won
            for target, sql in MIGRATIONS:
                if target <= ver:
                    continue
                for stmt in sql.split(";\n"):
                    if stmt.strip():
                        c.execute(stmt)
                c.execute(f"PRAGMA user_version = {target}")
            c.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            c.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('created_at', ?)",
                      (_now(),))
            c.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('migrated_at', ?)",
                      (_now(),))

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``; rolled back on any exception."""
        for attempt in range(_RETRIES):
            try:
                self.con.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if attempt == _RETRIES - 1:
                    raise StoreError(f"{self.path}: the store stayed locked by another process "
                                     f"(waited {_RETRIES * _BUSY_MS // 1000} s)") from None
                time.sleep(0.05 * (attempt + 1))
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        else:
            self.con.execute("COMMIT")

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    @property
    def schema_version(self) -> int:
        return self.con.execute("PRAGMA user_version").fetchone()[0]

    def integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check`` ("ok" for a sound file)."""
        return self.con.execute("PRAGMA integrity_check").fetchone()[0]

    # -- writing ---------------------------------------------------------------
    def register_codebook(self, cb: Any) -> str:
        """Record a questionnaire (once per hash); returns its sha256."""
        sha = cb.sha256 or _codebook_hash(cb)
        items = [[i.id, i.type, i.construct, bool(i.reverse),
                  i.scale.min if i.scale is not None else None,
                  i.scale.max if i.scale is not None else None] for i in cb.items]
        constructs = {cid: list(c.items) for cid, c in cb.constructs.items()}
        source = None
        if cb.path:
            try:
                source = Path(cb.path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                source = None
        cluster = dict(cb.cluster or {})
        with self.transaction() as c:
            c.execute("INSERT OR IGNORE INTO codebooks VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                      (sha, cb.id, str(cb.version), cluster.get("id"),
                       json.dumps(cluster, ensure_ascii=False),
                       json.dumps(dict(cb.title or {}), ensure_ascii=False), cb.respondent_id,
                       json.dumps(items, ensure_ascii=False), json.dumps(constructs),
                       str(cb.path) if cb.path else None, source, _now()))
        return sha

    def begin_run(self, codebook_sha: str | None, policy: ExclusionPolicy,
                  argv: list[str] | None = None) -> int:
        from surveykit import __version__

        with self.transaction() as c:
            cur = c.execute("INSERT INTO runs (started_at, codebook_sha256, policy_json, "
                            "surveykit_version, argv) VALUES (?,?,?,?,?)",
                            (_now(), codebook_sha, policy.to_json(), __version__,
                             json.dumps(argv) if argv else None))
            return int(cur.lastrowid)

    def end_run(self, run_id: int) -> None:
        with self.transaction() as c:
            c.execute("UPDATE runs SET finished_at = ? WHERE id = ?", (_now(), run_id))

    def write_file(self, res: FileResult, *, run_id: int | None, codebook: Any,
                   codebook_sha: str) -> tuple[str, int | None, list[int]]:
        """Write one parsed file in one transaction.

        Returns ``(outcome, file id, response ids)``: outcome ``"unchanged"``
        when these bytes were already imported with this codebook, ``"failed"``
        for a refused file, else ``"imported"``.
        """
        with self.transaction() as c:
            return self._write_file(c, res, run_id, codebook, codebook_sha)

    def _write_file(self, c: sqlite3.Connection, res: FileResult, run_id: int | None, cb: Any,
                    codebook_sha: str) -> tuple[str, int | None, list[int]]:
        now = _now()
        qid = cb.id
        if res.sha256:
            # checked inside the write transaction: two processes importing the same file
            # cannot both insert it
            earlier = c.execute("SELECT id, status FROM files WHERE sha256 = ? AND "
                                "codebook_sha256 = ?", (res.sha256, codebook_sha)).fetchall()
            for fid, st in earlier:
                if st == "imported":
                    return "unchanged", int(fid), []
            if earlier:  # an earlier failed attempt at the same bytes is replaced by this one
                ids_failed = [(int(fid),) for fid, _ in earlier]
                c.executemany("DELETE FROM findings WHERE file_id = ?", ids_failed)
                c.executemany("DELETE FROM columns WHERE file_id = ?", ids_failed)
                c.executemany("DELETE FROM files WHERE id = ?", ids_failed)
        status = "imported" if res.status == "ok" else "failed"
        version = None
        previous = None
        if status == "imported":
            prev = c.execute("SELECT id, version FROM files WHERE questionnaire = ? AND name = ? "
                             "AND status = 'imported' AND superseded_by IS NULL "
                             "ORDER BY version DESC LIMIT 1", (qid, res.name)).fetchone()
            if prev:
                previous, version = int(prev[0]), int(prev[1]) + 1
            else:
                version = 1
        cur = c.execute(
            "INSERT INTO files (run_id, name, path, sha256, size, mtime, imported_at, "
            "codebook_sha256, questionnaire, questionnaire_version, format, layout, sheet, "
            "marker_json, items_json, status, error, version) VALUES "
            "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (run_id, res.name, res.path, res.sha256, res.size, res.mtime, now, codebook_sha, qid,
             str(cb.version), res.fmt, res.layout, res.sheet,
             json.dumps(res.marker, ensure_ascii=False) if res.marker else None,
             json.dumps(res.items), status, res.error, version))
        file_id = int(cur.lastrowid)
        if previous is not None:
            c.execute("UPDATE files SET superseded_by = ? WHERE id = ?", (file_id, previous))
        if res.columns:
            c.executemany("INSERT INTO columns VALUES (?,?,?,?,?,?,?)",
                          [(file_id, *col) for col in res.columns])
        ids: list[int] = []
        if status == "imported" and res.n_rows == 1:
            cur = c.execute(
                "INSERT INTO responses (file_id, questionnaire, sheet, row, respondent, raw, coded, "
                "cells) VALUES (?,?,?,?,?,?,?,?)",
                (file_id, qid, res.sheet, res.row_numbers[0], res.respondents[0], res.raw_json[0],
                 res.coded_json[0], res.cells_json[0]))
            ids = [int(cur.lastrowid)]
        elif status == "imported" and res.raw_json:
            c.executemany(
                "INSERT INTO responses (file_id, questionnaire, sheet, row, respondent, raw, coded, "
                "cells) VALUES (?,?,?,?,?,?,?,?)",
                zip([file_id] * res.n_rows, [qid] * res.n_rows, [res.sheet] * res.n_rows,
                    res.row_numbers, res.respondents, res.raw_json, res.coded_json,
                    res.cells_json, strict=True))
            ids = [r[0] for r in c.execute("SELECT id FROM responses WHERE file_id = ? ORDER BY id",
                                           (file_id,))]
        if res.recodes and ids:
            c.executemany("INSERT INTO recodes (file_id, response_id, sheet, cell, item_id, raw, "
                          "coded, rule) VALUES (?,?,?,?,?,?,?,?)",
                          [(file_id, ids[i] if i is not None else None, *rest)
                           for i, *rest in res.recodes])
        if res.findings:
            c.executemany(
                "INSERT INTO findings (run_id, file_id, response_id, questionnaire, scope, code, "
                "severity, message, file, sheet, cell, row, respondent, item_id, value) VALUES "
                "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [(run_id, file_id, ids[i] if (i is not None and ids) else None, qid,
                  "file" if i is None else "row", f.code, f.severity, f.message, f.file, f.sheet,
                  f.cell, f.row, f.respondent, f.item, f.value) for i, f in res.findings])
        if ids:
            bad: dict[int, list[str]] = {}
            for i, f in res.findings:
                if i is not None and f.severity == "error":
                    bad.setdefault(i, []).append(f.code)
            if bad:
                c.executemany("INSERT INTO quarantine VALUES (?,?,?,?,?)",
                              [(ids[i], file_id, ",".join(dict.fromkeys(codes)), "row", now)
                               for i, codes in bad.items()])
        return status, file_id, ids

    def replace_sample_findings(self, questionnaire: str, findings: list[tuple[int, Finding]],
                                run_id: int | None = None, *, in_transaction: bool = False
                                ) -> None:
        """Replace the sample-scope findings (and sample quarantines) of a questionnaire.

        ``in_transaction``: the caller already holds the write transaction (it read the
        rows the findings were computed from inside it, so no other import interleaves).
        """
        if in_transaction:
            self._replace_sample_findings(self.con, questionnaire, findings, run_id)
        else:
            with self.transaction() as c:
                self._replace_sample_findings(c, questionnaire, findings, run_id)

    def _replace_sample_findings(self, c: sqlite3.Connection, questionnaire: str,
                                 findings: list[tuple[int, Finding]], run_id: int | None) -> None:
        now = _now()
        c.execute("DELETE FROM quarantine WHERE scope = 'sample' AND response_id IN "
                  "(SELECT id FROM responses WHERE questionnaire = ?)", (questionnaire,))
        c.execute("DELETE FROM findings WHERE questionnaire = ? AND scope = 'sample'",
                  (questionnaire,))
        if not findings:
            return
        fid = dict(c.execute("SELECT id, file_id FROM responses WHERE questionnaire = ?",
                             (questionnaire,)).fetchall())
        c.executemany(
            "INSERT INTO findings (run_id, file_id, response_id, questionnaire, scope, code, "
            "severity, message, file, sheet, cell, row, respondent, item_id, value) VALUES "
            "(?,?,?,?,'sample',?,?,?,?,?,?,?,?,?,?)",
            [(run_id, fid.get(rid), rid, questionnaire, f.code, f.severity, f.message, f.file,
              f.sheet, f.cell, f.row, f.respondent, f.item, f.value) for rid, f in findings])
        bad: dict[int, list[str]] = {}
        for rid, f in findings:
            if f.severity == "error":
                bad.setdefault(rid, []).append(f.code)
        if bad:
            c.executemany("INSERT OR IGNORE INTO quarantine VALUES (?,?,?,'sample',?)",
                          [(rid, fid.get(rid), ",".join(dict.fromkeys(codes)), now)
                           for rid, codes in bad.items()])

    # -- reading ---------------------------------------------------------------
    def _df(self, sql: str, params: tuple[Any, ...] = ()) -> pd.DataFrame:
        import pandas as pd

        cur = self.con.execute(sql, params)
        cols = [d[0] for d in cur.description]
        return pd.DataFrame(cur.fetchall(), columns=cols)

    def imports(self) -> pd.DataFrame:
        """One row per imported (or refused) file, with provenance and row counts."""
        return self._df(
            "SELECT f.id AS file_id, f.name, f.version, f.status, f.error, f.path, f.sha256, f.size, "
            "f.mtime, f.imported_at, f.questionnaire, f.questionnaire_version, "
            "f.codebook_sha256, cb.cluster, f.format, f.layout, f.sheet, f.run_id, f.superseded_by, "
            "(SELECT count(*) FROM responses r WHERE r.file_id = f.id) AS rows, "
            "(SELECT count(*) FROM quarantine q WHERE q.file_id = f.id) AS quarantined "
            "FROM files f LEFT JOIN codebooks cb ON cb.sha256 = f.codebook_sha256 ORDER BY f.id")

    def findings(self, *, severity: str | None = None, code: str | None = None,
                 current: bool = True) -> pd.DataFrame:
        """Findings with reason code, severity and location.

        ``current`` leaves out findings of superseded file versions.
        """
        where, params = [], []
        if severity:
            where.append("x.severity = ?")
            params.append(severity)
        if code:
            where.append("x.code = ?")
            params.append(code)
        if current:
            where.append("(f.superseded_by IS NULL OR f.id IS NULL)")
        sql = ("SELECT x.id AS finding_id, x.code, x.severity, x.scope, x.file, x.sheet, x.cell, "
               "x.row, x.respondent, x.item_id AS item, x.value, x.message, x.questionnaire, "
               "x.file_id, x.response_id, x.run_id FROM findings x "
               "LEFT JOIN files f ON f.id = x.file_id")
        if where:
            sql += " WHERE " + " AND ".join(where)
        return self._df(sql + " ORDER BY x.id", tuple(params))

    def recodes(self) -> pd.DataFrame:
        """The recode log: file, sheet, cell, item, raw value, coded value and rule."""
        return self._df(
            "SELECT f.name AS file, r.sheet, r.cell, r.item_id AS item, r.raw, r.coded, r.rule, "
            "s.respondent, r.file_id, r.response_id FROM recodes r JOIN files f ON f.id = r.file_id "
            "LEFT JOIN responses s ON s.id = r.response_id ORDER BY r.id")

    def quarantine(self) -> pd.DataFrame:
        """Quarantined rows, with their reasons and raw values."""
        return self._df(
            "SELECT q.response_id, f.name AS file, s.sheet, s.row, s.respondent, q.reasons, "
            "q.scope, q.at, s.raw FROM quarantine q JOIN responses s ON s.id = q.response_id "
            "JOIN files f ON f.id = q.file_id ORDER BY q.response_id")

    def runs(self) -> pd.DataFrame:
        """Import runs with the exclusion policy each used."""
        return self._df("SELECT id AS run_id, started_at, finished_at, codebook_sha256, "
                        "policy_json AS policy, surveykit_version, argv FROM runs ORDER BY id")

    def policy(self) -> ExclusionPolicy:
        """The exclusion policy of the latest import run (the default if none)."""
        from surveykit.validate.findings import ExclusionPolicy

        row = self.con.execute("SELECT policy_json FROM runs ORDER BY id DESC LIMIT 1").fetchone()
        return ExclusionPolicy.from_json(row[0] if row else None)

    def questionnaires(self) -> list[str]:
        return [r[0] for r in self.con.execute(
            "SELECT DISTINCT questionnaire FROM files WHERE status = 'imported' ORDER BY 1")]

    def codebook_info(self, questionnaire: str) -> dict[str, Any] | None:
        """Stored description of the latest codebook of a questionnaire."""
        row = self.con.execute(
            "SELECT sha256, id, version, cluster, items_json, constructs_json, respondent_id, "
            "path FROM codebooks WHERE id = ? ORDER BY added_at DESC LIMIT 1",
            (questionnaire,)).fetchone()
        if row is None:
            return None
        return {"sha256": row[0], "id": row[1], "version": row[2], "cluster": row[3],
                "items": json.loads(row[4]), "constructs": json.loads(row[5]),
                "respondent_id": row[6], "path": row[7]}

    def active_rows(self, questionnaire: str, exclude_run: int | None = None
                    ) -> list[tuple[Any, ...]]:
        """(response id, respondent, item ids, coded values, file, sheet, row) of every
        analysable row: current file versions, not quarantined at row level.

        ``exclude_run`` leaves out the files written by that import run (their rows
        are already in memory)."""
        out = []
        parsed: dict[str, list[str]] = {}  # rows of one file share one item list
        for rid, resp, items, coded, name, sheet, row in self.con.execute(
                "SELECT s.id, s.respondent, f.items_json, s.coded, f.name, s.sheet, s.row "
                "FROM responses s "
                "JOIN files f ON f.id = s.file_id WHERE s.questionnaire = ? AND "
                "f.superseded_by IS NULL AND f.status = 'imported' AND s.id NOT IN "
                "(SELECT response_id FROM quarantine WHERE scope = 'row') AND "
                "(f.run_id IS NULL OR f.run_id IS NOT ?) ORDER BY s.id",
                (questionnaire, exclude_run)):
            il = parsed.get(items)
            if il is None:
                il = parsed[items] = json.loads(items)
            out.append((rid, resp, il, json.loads(coded), name, sheet, row))
        return out

    def responses(self, codebook: Any = None, include_flagged: bool = False,
                  include_quarantined: bool = False) -> pd.DataFrame:
        """One row per respondent, item ids as columns, coded values.

        Parameters
        ----------
        codebook
            A :class:`~surveykit.codebook.Codebook` or questionnaire id to
            select one questionnaire and order its columns; ``None`` returns
            every questionnaire (columns are the union of items).
        include_flagged
            Keep rows with warnings (careless responding, duplicates, ...).
        include_quarantined
            Keep rows with errors too (their bad cells are missing).

        Returns
        -------
        pandas.DataFrame
            ``questionnaire``, ``cluster`` and the item columns (the respondent
            id first).  Likert and numeric items are float (NaN when missing),
            choice items nullable integers, multiple choice the codes joined
            by ``","``.  Superseded file versions are left out, and of
            identical copies of a respondent only the first is kept.
        """
        import numpy as np
        import pandas as pd

        qids = self.questionnaires()
        if codebook is not None:
            qid = codebook if isinstance(codebook, str) else codebook.id
            qids = [q for q in qids if q == qid]
            if isinstance(codebook, str) and self.codebook_info(qid) is None:
                raise StoreError(f"{self.path}: no questionnaire {qid!r} in the store "
                                 f"(has: {', '.join(self.questionnaires()) or 'none'})")
        frames = []
        for qid in qids:
            info = self.codebook_info(qid) or {"items": [], "cluster": None}
            item_types = {i[0]: i[1] for i in info["items"]}
            order = [i[0] for i in info["items"]]
            if codebook is not None and not isinstance(codebook, str):
                order = [i.id for i in codebook.items]
                item_types.update({i.id: i.type for i in codebook.items})
            excluded = "SELECT response_id FROM quarantine" if not include_quarantined else \
                "SELECT -1"
            flagged = ("SELECT response_id FROM findings WHERE severity = 'warning' AND "
                       "response_id IS NOT NULL") if not include_flagged else "SELECT -1"
            rows = self.con.execute(
                f"SELECT s.id, f.items_json, s.coded, cb.cluster FROM responses s "
                f"JOIN files f ON f.id = s.file_id LEFT JOIN codebooks cb ON "
                f"cb.sha256 = f.codebook_sha256 WHERE s.questionnaire = ? AND "
                f"f.superseded_by IS NULL AND f.status = 'imported' AND s.id NOT IN ({excluded}) "
                f"AND s.id NOT IN ({flagged}) ORDER BY s.id", (qid,)).fetchall()
            if not rows:
                continue
            by_layout: dict[str, list[tuple[int, list[Any], str | None]]] = {}
            seen: set[tuple[str, str]] = set()
            for rid, items, coded, cluster in rows:
                # identical copies (the same firm imported twice) count once
                if (items, coded) in seen:
                    continue
                seen.add((items, coded))
                by_layout.setdefault(items, []).append((rid, json.loads(coded), cluster))
            parts = []
            for items_json, recs in by_layout.items():
                cols = json.loads(items_json)
                part = pd.DataFrame([r[1] for r in recs], columns=cols, dtype=object)
                part.insert(0, "_id", [r[0] for r in recs])
                part.insert(1, "cluster", [r[2] or info.get("cluster") for r in recs])
                parts.append(part)
            df = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
            df = df.sort_values("_id", kind="stable")
            for col in order:
                if col not in df.columns:
                    df[col] = None
            df.insert(0, "questionnaire", qid)
            df = df[["_id", "questionnaire", "cluster", *order]]
            for col in order:
                t = item_types.get(col)
                if t in ("likert", "integer", "number", "year"):
                    df[col] = pd.to_numeric(df[col], errors="coerce").astype("float64")
                elif t == "single":
                    df[col] = pd.array(df[col].where(df[col].notna(), None), dtype="Int64")
                else:
                    df[col] = df[col].where(df[col].notna(), np.nan).astype(object)
            frames.append(df)
        if not frames:
            import pandas as pd

            return pd.DataFrame(columns=["questionnaire", "cluster"])
        out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        return out.drop(columns="_id").reset_index(drop=True)

    def answers(self) -> pd.DataFrame:
        """Every answer in long form: file, sheet, cell, respondent, item, raw and coded."""
        import pandas as pd

        from surveykit.ingest.readers import cell_ref

        positions: dict[int, dict[str, int]] = {}
        for fid, pos, item in self.con.execute(
                "SELECT file_id, position, item_id FROM columns WHERE item_id IS NOT NULL"):
            positions.setdefault(fid, {})[item] = pos
        out = []
        for fid, name, sheet, row, resp, items, raw, coded, cells in self.con.execute(
                "SELECT f.id, f.name, s.sheet, s.row, s.respondent, f.items_json, s.raw, s.coded, "
                "s.cells FROM responses s JOIN files f ON f.id = s.file_id ORDER BY s.id"):
            items_l, raw_d, coded_l = json.loads(items), json.loads(raw), json.loads(coded)
            cells_l = json.loads(cells) if cells else None
            pos = positions.get(fid, {})
            for k, item in enumerate(items_l):
                if cells_l is not None:  # a form: the source cell of each item
                    cell = cells_l[k]
                else:  # a wide row: the item's column in this row
                    cell = cell_ref(row - 1, pos.get(item, 0))
                # a cell missing from the raw map held exactly its code
                out.append((name, sheet, cell, resp, item, raw_d.get(cell, coded_l[k]), coded_l[k]))
        return pd.DataFrame(out, columns=["file", "sheet", "cell", "respondent", "item", "raw",
                                          "coded"])

    def counts(self) -> dict[str, Any]:
        """Counts for ``surveykit status``: per questionnaire/cluster and per file."""
        c = self.con
        per_q = c.execute(
            "SELECT f.questionnaire, cb.cluster, count(DISTINCT f.id), count(s.id), "
            "sum(s.id IN (SELECT response_id FROM quarantine)), "
            "sum(s.id IN (SELECT response_id FROM findings WHERE severity = 'warning')) "
            "FROM files f LEFT JOIN codebooks cb ON cb.sha256 = f.codebook_sha256 "
            "LEFT JOIN responses s ON s.file_id = f.id WHERE f.status = 'imported' AND "
            "f.superseded_by IS NULL GROUP BY 1, 2 ORDER BY 1").fetchall()
        failed = c.execute("SELECT count(*) FROM files WHERE status = 'failed'").fetchone()[0]
        superseded = c.execute("SELECT count(*) FROM files WHERE superseded_by IS NOT NULL"
                               ).fetchone()[0]
        return {"questionnaires": [
            {"questionnaire": q, "cluster": cl, "files": nf, "rows": nr or 0,
             "quarantined": nq or 0, "flagged": nw or 0} for q, cl, nf, nr, nq, nw in per_q],
            "failed_files": failed, "superseded_files": superseded}


def _codebook_hash(cb: Any) -> str:
    import hashlib

    h = hashlib.sha256(repr((cb.id, cb.version, [i.id for i in cb.items])).encode())
    return h.hexdigest()
