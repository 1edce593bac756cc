"""The store's schema and its migrations.

The schema version is SQLite's ``PRAGMA user_version``; ``application_id``
marks a file as a surveykit store.  Migration *n* takes a store from version
*n - 1* to *n* inside one transaction; a store newer than this code is
refused rather than guessed at.
"""

from __future__ import annotations

APPLICATION_ID = 0x534B5354  # "SKST"

MIGRATIONS: list[tuple[int, str]] = [
    (1, """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT
);
CREATE TABLE codebooks (
    sha256      TEXT PRIMARY KEY,
    id          TEXT NOT NULL,
    version     TEXT NOT NULL,
    cluster     TEXT,
    cluster_json TEXT,
    title_json  TEXT,
    respondent_id TEXT NOT NULL,
    items_json  TEXT NOT NULL,     -- [[id, type, construct, reverse, scale_min, scale_max], ...]
    constructs_json TEXT NOT NULL, -- {construct: [item, ...]}
    path        TEXT,
    source      TEXT,              -- the codebook file's text, for provenance
    added_at    TEXT NOT NULL
);
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    codebook_sha256 TEXT REFERENCES codebooks(sha256),
    policy_json TEXT NOT NULL,
    surveykit_version TEXT,
    argv        TEXT
);
CREATE TABLE files (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER REFERENCES runs(id),
    name        TEXT NOT NULL,
    path        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    size        INTEGER NOT NULL,
    mtime       TEXT,
    imported_at TEXT NOT NULL,
    codebook_sha256 TEXT REFERENCES codebooks(sha256),
    questionnaire TEXT NOT NULL,
    questionnaire_version TEXT,
    format      TEXT,
    layout      TEXT,
    sheet       TEXT,
    marker_json TEXT,
    items_json  TEXT,              -- item ids in the order of responses.coded
    status      TEXT NOT NULL CHECK (status IN ('imported', 'failed')),
    error       TEXT,
    version     INTEGER,           -- 1, 2, ... per (questionnaire, name) among imported files
    superseded_by INTEGER REFERENCES files(id)
);
CREATE UNIQUE INDEX files_once ON files(sha256, codebook_sha256) WHERE status = 'imported';
CREATE INDEX files_name ON files(questionnaire, name);
CREATE TABLE columns (             -- how each column (wide) or row (form) was mapped; a form's
                                   -- rows found by their item id are not listed (the cells of
                                   -- its answers are in responses.cells)
    file_id     INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,  -- 0-based column (wide) or row (form)
    header      TEXT,
    item_id     TEXT,
    how         TEXT,              -- id, alias, id_prefix, text, text_prefix, fuzzy, none, duplicate
    score       REAL,
    location    TEXT               -- column letter (wide) or answer cell (form)
);
CREATE INDEX columns_file ON columns(file_id);
CREATE TABLE responses (
    id          INTEGER PRIMARY KEY,
    file_id     INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    questionnaire TEXT NOT NULL,
    sheet       TEXT,
    row         INTEGER,           -- 1-based sheet row (wide); NULL for a form
    respondent  TEXT,
    raw         TEXT NOT NULL,     -- JSON object {cell: raw value} of every non-empty cell whose
                                   -- raw value is not its code (recoded, refused, unmapped
                                   -- columns); any other cell held exactly its code
    coded       TEXT NOT NULL,     -- JSON array aligned with files.items_json
    cells       TEXT               -- JSON array of source cells (form); wide: column letter + row
);
CREATE INDEX responses_file ON responses(file_id);
CREATE INDEX responses_respondent ON responses(questionnaire, respondent);
CREATE TABLE recodes (
    id          INTEGER PRIMARY KEY,
    file_id     INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    response_id INTEGER REFERENCES responses(id) ON DELETE CASCADE,
    sheet       TEXT,
    cell        TEXT,
    item_id     TEXT,
    raw         TEXT,
    coded       TEXT,
    rule        TEXT NOT NULL
);
CREATE INDEX recodes_file ON recodes(file_id);
CREATE TABLE findings (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER REFERENCES runs(id),
    file_id     INTEGER REFERENCES files(id) ON DELETE CASCADE,
    response_id INTEGER REFERENCES responses(id) ON DELETE CASCADE,
    questionnaire TEXT,
    scope       TEXT NOT NULL,     -- file | row | sample
    code        TEXT NOT NULL,
    severity    TEXT NOT NULL CHECK (severity IN ('error', 'warning', 'info')),
    message     TEXT NOT NULL,
    file        TEXT,
    sheet       TEXT,
    cell        TEXT,
    row         INTEGER,
    respondent  TEXT,
    item_id     TEXT,
    value       TEXT
);
CREATE INDEX findings_response ON findings(response_id);
CREATE INDEX findings_file ON findings(file_id);
CREATE INDEX findings_scope ON findings(questionnaire, scope);
CREATE TABLE quarantine (
    response_id INTEGER PRIMARY KEY REFERENCES responses(id) ON DELETE CASCADE,
    file_id     INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    reasons     TEXT NOT NULL,     -- comma-separated reason codes
    scope       TEXT NOT NULL,     -- row | sample
    at          TEXT NOT NULL
);
"""),
]

LATEST = MIGRATIONS[-1][0]
