-- 0008: the proof of every check. One row per digest an artifact's bytes were found to match at
-- import: which algorithm, where the expected value came from (typed by the user, a checksum file,
-- a profile archive's SHA256SUMS), the file and line it was read from, and when. Importing the same
-- bytes again with the same evidence refreshes the time instead of adding a row. `verify`, which
-- re-hashes the stored copy against its recorded SHA-256, sets objects.last_verified_at.
CREATE TABLE verifications (
    artifact_id   INTEGER NOT NULL REFERENCES artifacts(id) ON DELETE CASCADE,
    algo          TEXT NOT NULL CHECK (algo IN ('md5', 'sha1', 'sha256', 'sha512')),
    expected_from TEXT NOT NULL CHECK (expected_from IN ('typed', 'checksum_file', 'profile_archive')),
    source_file   TEXT NOT NULL DEFAULT '',
    line          INTEGER NOT NULL DEFAULT 0,
    verified_at   TEXT NOT NULL,
    job_id        INTEGER,
    PRIMARY KEY (artifact_id, algo, expected_from, source_file, line)
) WITHOUT ROWID;

ALTER TABLE objects ADD COLUMN last_verified_at TEXT;

-- New evidence or a verify changes what the library shows: move the artifacts counter.
CREATE TRIGGER verifications_ins AFTER INSERT ON verifications BEGIN
    UPDATE change_counters SET value = value + 1 WHERE name = 'artifacts'; END;
CREATE TRIGGER objects_verified_upd AFTER UPDATE OF last_verified_at ON objects BEGIN
    UPDATE change_counters SET value = value + 1 WHERE name = 'artifacts'; END;
