-- 0011: saved image stores (IMGAPI and SimpleStreams sources to browse and import from). What was
-- imported from a store names it in artifacts.source_store (0010), so removing a store loses nothing.
-- signing_key is the OpenPGP public key (as given: armored or binary) a SimpleStreams store's
-- clear-signed .sjson files must verify against; a public key, not a secret.
CREATE TABLE image_stores (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    url TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('imgapi', 'simplestreams')),
    signing_key BLOB,
    key_fingerprint TEXT,
    created_at TEXT NOT NULL
);
