-- 0014: the OpenPGP public keys the admin trusts to check signatures with (signed checksum files,
-- signed bundles). Public keys are not secrets: each is kept as brought, in binary OpenPGP, with
-- what the admin confirmed when adding it. No key server: the admin brings every key.
CREATE TABLE trusted_keys (
    fingerprint TEXT PRIMARY KEY,        -- upper-case hex, as gpg prints it
    key         BLOB NOT NULL,           -- the transferable public key, binary
    user_ids    TEXT NOT NULL,           -- JSON array of the key's user ids
    created_at  TEXT NOT NULL,           -- the key's own creation time
    expires_at  TEXT,                    -- NULL: the key does not expire
    added_at    TEXT NOT NULL
) WITHOUT ROWID;
