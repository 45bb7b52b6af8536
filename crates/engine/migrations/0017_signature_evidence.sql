-- 0017: a detached OpenPGP signature over the file itself is evidence too. A vendor bundle is
-- accepted only with its BUNDLESIG `.asc` verifying over the zip (XClarity's rule); that check is
-- recorded as a verification whose expected_from is 'signature', source_file the `.asc`, algo and
-- the SHA-256 of the bytes it was checked over. SQLite cannot widen a CHECK constraint in place,
-- so the table is rebuilt with its rows, and its trigger made again.
CREATE TABLE verifications_new (
    artifact_id   INTEGER NOT NULL REFERENCES artifacts(id) ON DELETE CASCADE,
    algo          TEXT NOT NULL CHECK (algo IN ('md5', 'sha1', 'sha256', 'sha512')),
    expected_from TEXT NOT NULL CHECK (expected_from IN ('typed', 'checksum_file', 'profile_archive', 'signature')),
    source_file   TEXT NOT NULL DEFAULT '',
    line          INTEGER NOT NULL DEFAULT 0,
    verified_at   TEXT NOT NULL,
    job_id        INTEGER,
    signature_status TEXT NOT NULL DEFAULT 'none'
        CHECK (signature_status IN ('good', 'unknown_key', 'expired_key', 'none')),
    signer             TEXT,
    signer_fingerprint TEXT,
    signed_at          TEXT,
    signature_file     TEXT,
    PRIMARY KEY (artifact_id, algo, expected_from, source_file, line)
) WITHOUT ROWID;

INSERT INTO verifications_new (artifact_id, algo, expected_from, source_file, line, verified_at, job_id,
                               signature_status, signer, signer_fingerprint, signed_at, signature_file)
    SELECT artifact_id, algo, expected_from, source_file, line, verified_at, job_id,
           signature_status, signer, signer_fingerprint, signed_at, signature_file FROM verifications;

DROP TABLE verifications;
ALTER TABLE verifications_new RENAME TO verifications;

CREATE TRIGGER verifications_ins AFTER INSERT ON verifications BEGIN
    UPDATE change_counters SET value = value + 1 WHERE name = 'artifacts'; END;
