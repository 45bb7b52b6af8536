-- 0021: who deleted what. One row per artifact, profile, gold image, working copy, trusted key,
-- image store, file server or cloud target deleted, written in the deletion's own transaction, so
-- a team can answer "who removed the RHEL ISO?" after the row itself is gone.
CREATE TABLE deletions (
    id         INTEGER PRIMARY KEY,
    what       TEXT NOT NULL,
    name       TEXT NOT NULL,
    detail     TEXT,
    deleted_at TEXT NOT NULL,
    deleted_by TEXT
);
CREATE INDEX deletions_at ON deletions(deleted_at);

-- The history screen reads deletions again when one is written.
CREATE TRIGGER deletions_ins AFTER INSERT ON deletions BEGIN
    UPDATE change_counters SET value = value + 1 WHERE name = 'jobs'; END;
