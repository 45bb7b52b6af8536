-- 0005: publishing to clouds — targets (cloud accounts; their secrets live in the OS keyring, never
-- here) and publications (where an artifact was published, with what came of it).
CREATE TABLE targets (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT NOT NULL COLLATE NOCASE UNIQUE,
    auth            TEXT NOT NULL,             -- password | application_credential | none
    auth_url        TEXT,                      -- Keystone v3
    image_url       TEXT,                      -- Glance (no auth), or an override of the catalog's
    region          TEXT,
    interface       TEXT NOT NULL DEFAULT 'public',
    username        TEXT,
    user_domain     TEXT,
    project         TEXT,
    project_domain  TEXT,
    app_credential_id TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

-- Rows are kept as history: an unpublished image stays with status 'deleted'; a removed target or
-- a deleted artifact leaves its name behind.
CREATE TABLE publications (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    artifact_id      INTEGER REFERENCES artifacts(id) ON DELETE SET NULL,
    artifact_name    TEXT NOT NULL,
    target_id        INTEGER REFERENCES targets(id) ON DELETE SET NULL,
    target_name      TEXT NOT NULL,
    job_id           INTEGER,
    image_url        TEXT NOT NULL DEFAULT '',  -- the Glance endpoint the image went to
    remote_id        TEXT,
    name             TEXT NOT NULL,
    disk_format      TEXT NOT NULL,
    container_format TEXT NOT NULL,
    visibility       TEXT NOT NULL,
    size             INTEGER,
    md5              TEXT,
    sha512           TEXT,
    status           TEXT NOT NULL,            -- uploading | active | failed | cancelled | deleted
    remote_status    TEXT,                     -- Glance's status when last seen
    verified         INTEGER NOT NULL DEFAULT 0,
    error            TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX publications_artifact ON publications(artifact_id);
CREATE INDEX publications_target ON publications(target_id);

INSERT INTO change_counters VALUES ('targets', 0), ('publications', 0);
CREATE TRIGGER targets_ins AFTER INSERT ON targets BEGIN
    UPDATE change_counters SET value = value + 1 WHERE name = 'targets'; END;
CREATE TRIGGER targets_upd AFTER UPDATE ON targets BEGIN
    UPDATE change_counters SET value = value + 1 WHERE name = 'targets'; END;
CREATE TRIGGER targets_del AFTER DELETE ON targets BEGIN
    UPDATE change_counters SET value = value + 1 WHERE name = 'targets'; END;
CREATE TRIGGER publications_ins AFTER INSERT ON publications BEGIN
    UPDATE change_counters SET value = value + 1 WHERE name = 'publications'; END;
CREATE TRIGGER publications_upd AFTER UPDATE ON publications BEGIN
    UPDATE change_counters SET value = value + 1 WHERE name = 'publications'; END;
CREATE TRIGGER publications_del AFTER DELETE ON publications BEGIN
    UPDATE change_counters SET value = value + 1 WHERE name = 'publications'; END;
