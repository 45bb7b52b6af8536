-- 0011: saved image stores (IMGAPI and SimpleStreams sources to browse and import from). What was
-- imported from a store names it in artifacts.source_store (0010), so removing a store loses nothing.
CREATE TABLE image_stores (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    url TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('imgapi', 'simplestreams')),
    created_at TEXT NOT NULL
);
