"""The store: schema and migrations, provenance, no-op re-import, versions, rollback,
concurrent writers, crash safety."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from corpus import write_form, write_wide

from surveykit.errors import StoreError
from surveykit.ingest import import_paths, read_file
from surveykit.store import SCHEMA_VERSION, open_store
from surveykit.store import schema as schema_mod


def _dump(path: Path) -> list[str]:
    con = sqlite3.connect(path)
    try:
        return list(con.iterdump())
    finally:
        con.close()


def test_fresh_store_schema_and_pragmas(tmp_path):
    st = open_store(tmp_path / "s.sqlite")
    assert st.schema_version == SCHEMA_VERSION == schema_mod.LATEST
    assert st.con.execute("PRAGMA application_id").fetchone()[0] == schema_mod.APPLICATION_ID
    assert st.con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert st.con.execute("PRAGMA busy_timeout").fetchone()[0] >= 10_000
    tables = {r[0] for r in st.con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"files", "responses", "recodes", "findings", "quarantine", "codebooks", "runs",
            "columns"} <= tables
    assert st.integrity_check() == "ok"
    st.close()


def test_store_errors(tmp_path):
    with pytest.raises(StoreError, match=r"no such store \(file not found\)"):
        open_store(tmp_path / "missing.sqlite", create=False)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError, match="not a surveykit store or damaged"):
        open_store(junk)
    other = tmp_path / "other.sqlite"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match=r"not a surveykit store \(an SQLite file of another "
                                         r"application\)"):
        open_store(other)
    newer = tmp_path / "newer.sqlite"
    open_store(newer).close()
    con = sqlite3.connect(newer)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.close()
    with pytest.raises(StoreError, match=f"store schema version {SCHEMA_VERSION + 1} is newer"):
        open_store(newer)


def test_migration_runs_once_and_in_order(tmp_path, monkeypatch):
    path = tmp_path / "s.sqlite"
    open_store(path).close()
    extra = (SCHEMA_VERSION + 1, "ALTER TABLE meta ADD COLUMN note TEXT")
    monkeypatch.setattr(schema_mod, "MIGRATIONS", [*schema_mod.MIGRATIONS, extra])
    import surveykit.store as store_mod

    monkeypatch.setattr(store_mod, "MIGRATIONS", schema_mod.MIGRATIONS)
    monkeypatch.setattr(store_mod, "LATEST", SCHEMA_VERSION + 1)
    st = open_store(path)
    assert st.schema_version == SCHEMA_VERSION + 1
    assert "note" in [r[1] for r in st.con.execute("PRAGMA table_info(meta)")]
    st.close()
    open_store(path).close()  # a second open does not re-run it


def test_provenance_of_files_and_codebook(tmp_path, cb, rows):
    f = write_wide(tmp_path / "w.xlsx", cb, rows[:5])
    import_paths([f], cb, tmp_path / "s.sqlite")
    st = open_store(tmp_path / "s.sqlite")
    imp = st.imports().iloc[0]
    import hashlib

    assert imp["sha256"] == hashlib.sha256(f.read_bytes()).hexdigest()
    assert imp["size"] == f.stat().st_size and imp["name"] == "w.xlsx" and imp["version"] == 1
    assert (imp["questionnaire"], imp["questionnaire_version"], imp["codebook_sha256"]) == \
        ("test_q", "1.0", cb.sha256)
    assert imp["mtime"] and imp["imported_at"] and imp["cluster"] == "testcluster"
    runs = st.runs()
    assert json.loads(runs.policy.iloc[0])["mahalanobis_alpha"] == 0.001  # policy recorded
    st.close()


def test_identical_reimport_changes_nothing(tmp_path, cb, rows):
    folder = tmp_path / "in"
    folder.mkdir()
    write_wide(folder / "w.xlsx", cb, rows[:20])
    write_form(folder / "f.xlsx", cb, {**rows[25], "LEARN1": "５"})
    path = tmp_path / "s.sqlite"
    first = import_paths([folder], cb, path)
    assert set(first.files.values()) == {"imported"}
    before = _dump(path)
    again = import_paths([folder], cb, path)
    assert set(again.files.values()) == {"unchanged"} and again.ok
    assert _dump(path) == before


def test_changed_file_is_a_new_version(tmp_path, cb, rows):
    path = tmp_path / "s.sqlite"
    f = write_wide(tmp_path / "w.xlsx", cb, rows[:5])
    import_paths([f], cb, path)
    changed = [dict(r) for r in rows[:5]]
    changed[0]["LEARN1"] = 1 if rows[0]["LEARN1"] != 1 else 2
    write_wide(f, cb, changed)
    s = import_paths([f], cb, path)
    assert list(s.files.values()) == ["imported"]
    st = open_store(path)
    imp = st.imports()
    assert imp.version.tolist() == [1, 2]
    assert imp.superseded_by.tolist()[0] == imp.file_id.tolist()[1]
    df = st.responses(cb, include_flagged=True)
    assert len(df) == 5  # the superseded version is kept but not analysed
    assert df.set_index("firm_id").loc["F0001", "LEARN1"] == changed[0]["LEARN1"]
    assert len(st.con.execute("SELECT * FROM responses").fetchall()) == 10
    st.close()


def test_a_failure_mid_file_rolls_back(tmp_path, cb, rows):
    path = tmp_path / "s.sqlite"
    st = open_store(path)
    sha = st.register_codebook(cb)
    res = read_file(write_wide(tmp_path / "w.xlsx", cb, rows[:5]), cb)
    assert res.n_rows == 5
    res.recodes.append((0, "Data", "A1"))  # a malformed log row: the insert fails after the rows
    with pytest.raises(sqlite3.ProgrammingError):
        st.write_file(res, run_id=None, codebook=cb, codebook_sha=sha)
    for table in ("files", "responses", "recodes", "findings", "columns"):
        assert st.con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
    res.recodes.pop()
    assert st.write_file(res, run_id=None, codebook=cb, codebook_sha=sha)[0] == "imported"
    assert st.con.execute("SELECT count(*) FROM responses").fetchone()[0] == 5
    st.close()


def test_responses_selects_a_questionnaire(tmp_path, cb, rows):
    path = tmp_path / "s.sqlite"
    import_paths([write_wide(tmp_path / "w.xlsx", cb, rows[:5])], cb, path)
    st = open_store(path)
    assert st.responses("test_q", include_flagged=True).shape[0] == 5
    assert list(st.responses(cb).columns[:3]) == ["questionnaire", "cluster", "firm_id"]
    with pytest.raises(StoreError, match=r"no questionnaire 'nope' in the store \(has: test_q\)"):
        st.responses("nope")
    st.close()


def _import_worker(args):
    files, codebook, path = args
    from surveykit.ingest import import_paths

    return import_paths(files, codebook, path, jobs=1).files


def test_concurrent_imports_lose_nothing(tmp_path, cb, rows):
    path = tmp_path / "s.sqlite"
    folder = tmp_path / "in"
    folder.mkdir()
    files = [write_form(folder / f"f{i:02d}.xlsx", cb, {**rows[i % 40], "firm_id": f"P{i:03d}"})
             for i in range(24)]
    one = {**rows[30], "firm_id": "DUP"}
    other = {**one, "LEARN1": 1 if one["LEARN1"] != 1 else 2}
    dup_a = write_form(folder / "dup_a.xlsx", cb, one)
    dup_b = write_form(folder / "dup_b.xlsx", cb, other)
    # four processes, overlapping file lists: every file once in the store, none lost; the
    # same firm with different answers arrives through two different processes
    chunks = [files[0:10] + [dup_a], files[6:16], files[12:24] + [dup_b], files[0:24:3]]
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    with ctx.Pool(4) as pool:
        results = pool.map(_import_worker, [(c, cb, path) for c in chunks])
    outcomes = [s for r in results for s in r.values()]
    assert outcomes.count("imported") == 26
    st = open_store(path)
    assert st.con.execute("SELECT count(*) FROM files").fetchone()[0] == 26
    assert sorted(st.con.execute("SELECT respondent FROM responses").fetchall()) == \
        [("DUP",), ("DUP",)] + [(f"P{i:03d}",) for i in range(24)]
    # whichever process checked the sample last saw both copies
    dup = st.findings(code="duplicate_respondent")
    assert sorted(dup.file) == ["dup_a.xlsx", "dup_b.xlsx"]
    assert st.integrity_check() == "ok"
    st.close()


_CRASH_SCRIPT = """
import sys
from surveykit import load_codebook
from surveykit.ingest import import_paths
import surveykit.store, surveykit.validate.checks, scipy.special  # loaded before the clock starts
cb = load_codebook({codebook!r})
print("ready", flush=True)
import_paths([{folder!r}], cb, {store!r}, jobs=1)
print("done", flush=True)
"""


def test_sigkill_mid_import_leaves_a_sound_store(tmp_path, root, ningbo):
    """Kill the importer at random moments of an import of 300 form workbooks; each time the
    store passes ``PRAGMA integrity_check``, holds no partial file, and a re-run completes."""
    import random

    folder = root / "questionnaires" / "examples" / "ningbo_apparel" / "forms"
    n = len(list(folder.glob("*.xlsx")))
    codebook = root / "questionnaires" / "ningbo_apparel.yaml"
    rng = random.Random(3)
    trials = int(os.environ.get("SURVEYKIT_CRASH_TRIALS", "20"))
    interrupted = 0
    for trial in range(trials):
        store = tmp_path / f"s{trial}.sqlite"
        script = _CRASH_SCRIPT.format(codebook=str(codebook), folder=str(folder), store=str(store))
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.05, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        st = open_store(store)
        assert st.integrity_check() == "ok"
        # no partial file: every imported form has its one row with its cells, and its recodes
        # belong to that row
        partial = st.con.execute(
            "SELECT f.name FROM files f WHERE f.status = 'imported' AND ("
            "(SELECT count(*) FROM responses r WHERE r.file_id = f.id AND r.cells IS NOT NULL) "
            "!= 1 OR EXISTS (SELECT 1 FROM recodes x WHERE x.file_id = f.id AND x.response_id "
            "IS NULL))").fetchall()
        assert partial == []
        done = st.con.execute("SELECT count(*) FROM files").fetchone()[0]
        interrupted += 0 < done < n
        st.close()
    # the last store: a re-run completes the import
    summary = import_paths([folder], ningbo, store, jobs=1)
    assert summary.ok
    st = open_store(store)
    assert st.con.execute("SELECT count(*) FROM responses").fetchone()[0] == n
    assert st.con.execute("SELECT count(*) FROM files").fetchone()[0] == n
    assert st.integrity_check() == "ok"
    st.close()
    assert interrupted >= trials // 2  # the kills did land inside imports
