-- 0001: objects, artifacts with tags, jobs with items, change counters.
CREATE TABLE objects (
    sha256      TEXT PRIMARY KEY,
    size        INTEGER NOT NULL,
    md5         TEXT,
    sha1        TEXT,
    sha512      TEXT,
    created_at  TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE artifacts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL COLLATE NOCASE UNIQUE,
    kind          TEXT NOT NULL,
    os            TEXT,
    distro        TEXT,
    sha256        TEXT NOT NULL UNIQUE REFERENCES objects(sha256),
    image_id      INTEGER REFERENCES artifacts(id) ON DELETE RESTRICT,
    original_name TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    version       TEXT NOT NULL DEFAULT '',
    detected      TEXT NOT NULL DEFAULT '{}',
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX artifacts_kind_os ON artifacts(kind, os);
CREATE INDEX artifacts_created ON artifacts(created_at);
CREATE INDEX artifacts_image ON artifacts(image_id);

CREATE TABLE artifact_tags (
    artifact_id INTEGER NOT NULL REFERENCES artifacts(id) ON DELETE CASCADE,
    tag         TEXT NOT NULL,
    PRIMARY KEY (artifact_id, tag)
) WITHOUT ROWID;

CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL,
    state        TEXT NOT NULL,
    session      TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    started_at   TEXT,
    finished_at  TEXT,
    phase        TEXT NOT NULL DEFAULT '',
    bytes_done   INTEGER NOT NULL DEFAULT 0,
    bytes_total  INTEGER NOT NULL DEFAULT 0,
    rate_bps     REAL NOT NULL DEFAULT 0,
    eta_seconds  REAL,
    summary      TEXT NOT NULL DEFAULT '',
    error        TEXT
);
CREATE INDEX jobs_state ON jobs(state, id);
CREATE INDEX jobs_session ON jobs(session) WHERE state IN ('queued', 'running');

CREATE TABLE job_items (
    job_id       INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL,
    path         TEXT NOT NULL,
    size         INTEGER,
    outcome      TEXT NOT NULL DEFAULT 'pending',
    artifact_id  INTEGER REFERENCES artifacts(id) ON DELETE SET NULL,
    artifact_name TEXT,
    error        TEXT,
    PRIMARY KEY (job_id, seq)
) WITHOUT ROWID;

-- Bumped by triggers so any process can notice another's changes cheaply.
CREATE TABLE change_counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO change_counters VALUES ('artifacts', 0), ('jobs', 0);

CREATE TRIGGER artifacts_ins AFTER INSERT ON artifacts BEGIN
    UPDATE change_counters SET value = value + 1 WHERE name = 'artifacts'; END;
CREATE TRIGGER artifacts_upd AFTER UPDATE ON artifacts BEGIN
    UPDATE change_counters SET value = value + 1 WHERE name = 'artifacts'; END;
CREATE TRIGGER artifacts_del AFTER DELETE ON artifacts BEGIN
    UPDATE change_counters SET value = value + 1 WHERE name = 'artifacts'; END;
CREATE TRIGGER jobs_ins AFTER INSERT ON jobs BEGIN
    UPDATE change_counters SET value = value + 1 WHERE name = 'jobs'; END;
CREATE TRIGGER jobs_upd AFTER UPDATE ON jobs BEGIN
    UPDATE change_counters SET value = value + 1 WHERE name = 'jobs'; END;
