"""Import field workbooks into a survey store.

Reads .xlsx/.xls/.ods/.csv in the wide or the form layout (from the template's
``_surveykit`` marker or from the header), maps columns to codebook items,
normalises answers with a recode log, checks them, and writes each file in one
transaction.  One bad file never stops the others.

Example
-------
>>> import surveykit
>>> summary = surveykit.import_paths(["field/"], "questionnaires/ningbo_apparel.yaml",
...                                  "survey.sqlite")            # doctest: +SKIP
>>> print(summary.summary())                                     # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from surveykit.ingest.parse import FileResult, read_file
from surveykit.ingest.readers import READABLE_SUFFIXES, Limits
from surveykit.validate.findings import ExclusionPolicy

__all__ = ["import_paths", "ImportSummary", "read_file", "collect_files", "Limits",
           "revalidate"]

# below this many files, starting worker processes costs more than it saves
_PARALLEL_MIN_FILES = 24


@dataclass(frozen=True)
class ImportSummary:
    """What an import did.

    ``files`` maps each path to ``imported``, ``unchanged`` or ``failed``;
    ``errors`` holds the one-line message of each failed file.
    """

    store: str
    questionnaire: str
    files: dict[str, str]
    errors: dict[str, str]
    firms: int
    rows: int
    quarantined: int
    findings: dict[str, int]
    codes: dict[str, int] = field(default_factory=dict)
    run_id: int | None = None
    unmapped: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when every file was readable (imported or already in the store)."""
        return not self.errors

    @property
    def n_read(self) -> int:
        return sum(1 for s in self.files.values() if s != "failed")

    def summary(self) -> str:
        """The text ``surveykit import`` prints."""
        st = Counter(self.files.values())
        lines = [
            f"files read: {self.n_read} of {len(self.files)} "
            f"({st.get('imported', 0)} imported, {st.get('unchanged', 0)} unchanged, "
            f"{st.get('failed', 0)} failed)",
            f"firms imported: {self.firms} ({self.rows} rows)",
            f"rows quarantined: {self.quarantined}",
            "findings: " + ", ".join(f"{self.findings.get(s, 0)} {s}"
                                     for s in ("error", "warning", "info")),
        ]
        if self.codes:
            lines.append("  by reason: " + ", ".join(f"{c} {n}" for c, n in
                                                     sorted(self.codes.items())))
        for text in self.unmapped[:20]:
            lines.append(f"not mapped: {text}")
        if len(self.unmapped) > 20:
            lines.append(f"not mapped: ... {len(self.unmapped) - 20} more (surveykit validate)")
        for msg in self.errors.values():
            lines.append(f"failed: {msg}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        from html import escape

        return "<pre>" + escape(self.summary()) + "</pre>"


def collect_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Expand files and folders (recursively) into readable files, sorted, once each.

    Excel's lock files (``~$name.xlsx``) and hidden files are skipped; a path
    that does not exist is kept so that the import reports it.
    """
    out: list[Path] = []
    seen: set[Path] = set()
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file()
                           and f.suffix.lower() in READABLE_SUFFIXES
                           and not f.name.startswith(("~$", "."))
                           and not any(part.startswith(".") for part in f.relative_to(p).parts))
        else:
            found = [p]
        for f in found:
            key = f.resolve()
            if key not in seen:
                seen.add(key)
                out.append(f)
    return out


_WORKER: dict[str, Any] = {}


def _init_worker(codebook: Any, layout: str | None, policy: ExclusionPolicy,
                 limits: Limits | None) -> None:
    _WORKER.update(codebook=codebook, layout=layout, policy=policy, limits=limits)


def _work(path: str) -> FileResult:
    w = _WORKER
    return read_file(path, w["codebook"], layout=w["layout"], policy=w["policy"],
                     limits=w["limits"])


def _parse_all(files: list[Path], codebook: Any, layout: str | None, policy: ExclusionPolicy,
               limits: Limits | None, jobs: int | None) -> Iterator[FileResult]:
    if jobs is None:
        jobs = min(os.cpu_count() or 1, 8)
    if jobs <= 1 or len(files) < _PARALLEL_MIN_FILES:
        for f in files:
            yield read_file(f, codebook, layout=layout, policy=policy, limits=limits)
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    methods = mp.get_all_start_methods()
    ctx = mp.get_context("fork" if "fork" in methods else None)
    chunk = max(1, min(32, len(files) // (jobs * 8)))
    done = 0
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_init_worker,
                                 initargs=(codebook, layout, policy, limits)) as ex:
            for res in ex.map(_work, [str(f) for f in files], chunksize=chunk):
                yield res
                done += 1
    except BrokenProcessPool:
        # a worker died (killed, or a crash in a native reader): finish one file per
        # process, so that a file that kills its reader fails alone
        for f in files[done:]:
            yield _isolated(f, codebook, layout, policy, limits, ctx)


def _isolated(f: Path, codebook: Any, layout: str | None, policy: ExclusionPolicy,
              limits: Limits | None, ctx: Any) -> FileResult:
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    from surveykit.ingest.parse import _fail, file_identity

    try:
        with ProcessPoolExecutor(max_workers=1, mp_context=ctx, initializer=_init_worker,
                                 initargs=(codebook, layout, policy, limits)) as ex:
            return ex.submit(_work, str(f)).result()
    except BrokenProcessPool:
        try:
            sha, size, mtime = file_identity(f)
        except OSError:
            sha, size, mtime = "", 0, ""
        res = FileResult(str(f.resolve()), f.name, sha, size, mtime)
        return _fail(res, policy, "unreadable_file",
                     f"{f.name}: the reader crashed on this file (file)")


def _load_codebook(codebook: Any) -> Any:
    if isinstance(codebook, (str, os.PathLike)):
        from surveykit.codebook import load_codebook

        return load_codebook(codebook)
    return codebook


def import_paths(paths: Iterable[str | os.PathLike[str]], codebook: Any, store: Any, *,
                 layout: str | None = None, policy: ExclusionPolicy | None = None,
                 limits: Limits | None = None, jobs: int | None = None,
                 argv: list[str] | None = None) -> ImportSummary:
    """Import workbooks (files or folders) into a store.

    Parameters
    ----------
    paths
        Files and folders; folders are searched recursively for .xlsx, .xlsm,
        .xls, .ods and .csv files.
    codebook
        A :class:`~surveykit.codebook.Codebook` or the path of its YAML file.
    store
        A :class:`~surveykit.store.Store` or the path of the store file
        (created if missing).
    layout
        ``"wide"`` or ``"form"`` to override detection.
    policy
        Severities and cut-offs (:class:`~surveykit.validate.ExclusionPolicy`);
        recorded with the run.
    limits
        Safety limits on file size, uncompressed size, rows and columns.
    jobs
        Worker processes for parsing many files (default: the CPU count).

    Returns
    -------
    ImportSummary

    Raises
    ------
    CodebookError
        The codebook cannot be loaded.
    StoreError
        The store cannot be opened or written.

    Notes
    -----
    Files are parsed in worker processes while this process writes the store,
    one transaction per file; identical bytes already imported with the same
    codebook are skipped.  After the files, the sample checks (duplicates,
    straight-lining, Mahalanobis, even-odd, antonyms) are rerun over every
    analysable row of the questionnaire.
    """
    from surveykit.store import Store, open_store

    if layout not in (None, "wide", "form"):
        from surveykit.errors import SurveykitError

        raise SurveykitError(f"layout must be 'wide' or 'form', not {layout!r}")
    cb = _load_codebook(codebook)
    policy = policy or ExclusionPolicy()
    own = not isinstance(store, Store)
    st = open_store(store) if own else store
    try:
        return _import(st, collect_files(paths), cb, layout, policy, limits, jobs, argv)
    finally:
        if own:
            st.close()


def _import(st: Any, files: list[Path], cb: Any, layout: str | None, policy: ExclusionPolicy,
            limits: Limits | None, jobs: int | None, argv: list[str] | None) -> ImportSummary:
    from surveykit.ingest.parse import file_identity

    sha = st.register_codebook(cb)
    run: int | None = None
    status: dict[str, str] = {}
    errors: dict[str, str] = {}
    # skip bytes already imported with this codebook before paying for a parse
    todo: list[Path] = []
    known = {r[0] for r in st.con.execute(
        "SELECT sha256 FROM files WHERE codebook_sha256 = ? AND status = 'imported'", (sha,))}
    for f in files:
        try:
            digest = file_identity(f)[0] if known else None
        except OSError:
            digest = None
        if digest is not None and digest in known:
            status[str(f)] = "unchanged"
        else:
            todo.append(f)
    from surveykit.validate.checks import Row

    fresh: list[Row] = []  # analysable rows written by this run, checked without a reload
    unmapped: list[str] = []
    sev: Counter[str] = Counter()
    codes: Counter[str] = Counter()
    n_rows = quarantined = 0
    firms: set[str] = set()
    for f, res in zip(todo, _parse_all(todo, cb, layout, policy, limits, jobs), strict=True):
        if run is None:  # a run is recorded only when something is written
            run = st.begin_run(sha, policy, argv)
        outcome, _, ids = st.write_file(res, run_id=run, codebook=cb, codebook_sha=sha)
        status[str(f)] = outcome
        if outcome == "failed":
            errors[str(f)] = res.error or f"{f.name}: cannot be read"
        if outcome == "unchanged":
            continue
        for _, finding in res.findings:
            sev[finding.severity] += 1
            codes[finding.code] += 1
            if finding.code == "unknown_column":
                unmapped.append(f"{res.name} {finding.cell} {finding.value!r}")
        bad = res.error_rows()
        if ids:
            for i, rid in enumerate(ids):
                if i not in bad:
                    fresh.append(Row(rid, res.respondents[i], res.items, res.coded[i], res.name,
                                     res.sheet, res.row_numbers[i]))
        n_rows += res.n_rows
        quarantined += len(bad)
        firms.update(r for i, r in enumerate(res.respondents) if r is not None and i not in bad)
    if run is not None and any(s == "imported" for s in status.values()):
        sample = revalidate(st, cb, policy, run_id=run, fresh=fresh)
        for _, finding in sample:
            sev[finding.severity] += 1
            codes[finding.code] += 1
        quarantined += sum(1 for _, f in sample if f.severity == "error")
    if run is not None:
        st.end_run(run)
    ordered = {str(f): status[str(f)] for f in files}
    return ImportSummary(str(st.path), cb.id, ordered, errors, len(firms), n_rows, quarantined,
                         dict(sev), dict(codes), run, tuple(unmapped))


def revalidate(st: Any, codebook: Any, policy: ExclusionPolicy | None = None,
               run_id: int | None = None, fresh: list[Any] | None = None) -> list[Any]:
    """Rerun the sample checks of a questionnaire over the store; returns the findings.

    ``fresh`` are the rows written by import run ``run_id``, passed in memory;
    the other analysable rows are read from the store.
    """
    from surveykit.validate.checks import Row, check_rows

    policy = policy or st.policy()
    # read, check and replace in one write transaction: an import finishing at the same
    # time in another process waits, then checks a sample that includes these rows
    with st.transaction():
        if fresh is not None and run_id is not None:
            rows = [Row(*r) for r in st.active_rows(codebook.id, exclude_run=run_id)] + fresh
            rows.sort(key=lambda r: r.id)
        else:
            rows = [Row(*r) for r in st.active_rows(codebook.id)]
        found = check_rows(rows, codebook, policy)
        st.replace_sample_findings(codebook.id, found, run_id, in_transaction=True)
    return found
