-- 0015: the signature over each piece of evidence, and the repository's settings.
-- A digest read from a signed checksum file keeps what its signature came to when it was checked:
-- good, made by an expired trusted key, or by a key not trusted here (accepted for that batch by
-- the admin); 'bad' never lands, a bad signature refuses the import. The signer's user id and
-- fingerprint are kept as they were, so removing a key later does not rewrite history.
ALTER TABLE verifications ADD COLUMN signature_status TEXT NOT NULL DEFAULT 'none'
    CHECK (signature_status IN ('good', 'unknown_key', 'expired_key', 'none'));
ALTER TABLE verifications ADD COLUMN signer TEXT;
ALTER TABLE verifications ADD COLUMN signer_fingerprint TEXT;
ALTER TABLE verifications ADD COLUMN signed_at TEXT;
ALTER TABLE verifications ADD COLUMN signature_file TEXT;

-- Settings of the repository that every program opening it honours (the app and the CLI), one
-- row per setting, e.g. require_signature = 'true'. A missing row is the default.
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
