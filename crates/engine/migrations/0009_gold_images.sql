-- 0009: gold images. A software home captured as a manifest of every entry (path, type, mode,
-- size, mtime; a file's bytes are an object, stored once by SHA-256 like any artifact's; a symlink
-- keeps its target; a hardlink names the first path of its group). Images have a state and may
-- belong to a series with one current image; working copies provisioned from an image are recorded
-- (an image with copies can be neither deleted nor archived). A provision builds the copy in a
-- hidden sibling folder first: provisions_in_flight lets the next open remove one a dead process left.
CREATE TABLE gold_series (
    id               INTEGER PRIMARY KEY,
    name             TEXT NOT NULL UNIQUE COLLATE NOCASE,
    current_image_id INTEGER REFERENCES gold_images(id) ON DELETE SET NULL,
    created_at       TEXT NOT NULL
);

CREATE TABLE gold_images (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
    image_type  TEXT NOT NULL,
    series_id   INTEGER REFERENCES gold_series(id) ON DELETE SET NULL,
    series_pos  INTEGER,
    version     TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    state       TEXT NOT NULL DEFAULT 'testable' CHECK (state IN ('testable', 'restricted', 'published', 'archived')),
    files       INTEGER NOT NULL,
    size        INTEGER NOT NULL,
    new_bytes   INTEGER NOT NULL,
    source      TEXT NOT NULL,
    job_id      INTEGER,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE gold_entries (
    image_id INTEGER NOT NULL REFERENCES gold_images(id) ON DELETE CASCADE,
    path     TEXT NOT NULL,
    kind     TEXT NOT NULL CHECK (kind IN ('file', 'dir', 'symlink')),
    mode     INTEGER NOT NULL,
    size     INTEGER NOT NULL DEFAULT 0,
    sha256   TEXT REFERENCES objects(sha256),
    target   TEXT,
    link     TEXT,
    mtime    INTEGER NOT NULL,
    PRIMARY KEY (image_id, path)
) WITHOUT ROWID;
CREATE INDEX gold_entries_sha256 ON gold_entries(sha256);

CREATE TABLE working_copies (
    id             INTEGER PRIMARY KEY,
    image_id       INTEGER NOT NULL REFERENCES gold_images(id),
    path           TEXT NOT NULL UNIQUE,
    provisioned_at TEXT NOT NULL,
    job_id         INTEGER
);

CREATE TABLE provisions_in_flight (
    temp_path TEXT PRIMARY KEY,
    session   TEXT NOT NULL,
    target    TEXT NOT NULL
);

-- Every window refetches gold images when they change.
INSERT INTO change_counters VALUES ('gold', 0);
CREATE TRIGGER gold_images_ins AFTER INSERT ON gold_images BEGIN
    UPDATE change_counters SET value = value + 1 WHERE name = 'gold'; END;
CREATE TRIGGER gold_images_upd AFTER UPDATE ON gold_images BEGIN
    UPDATE change_counters SET value = value + 1 WHERE name = 'gold'; END;
CREATE TRIGGER gold_images_del AFTER DELETE ON gold_images BEGIN
    UPDATE change_counters SET value = value + 1 WHERE name = 'gold'; END;
CREATE TRIGGER gold_series_chg AFTER UPDATE ON gold_series BEGIN
    UPDATE change_counters SET value = value + 1 WHERE name = 'gold'; END;
CREATE TRIGGER working_copies_ins AFTER INSERT ON working_copies BEGIN
    UPDATE change_counters SET value = value + 1 WHERE name = 'gold'; END;
CREATE TRIGGER working_copies_del AFTER DELETE ON working_copies BEGIN
    UPDATE change_counters SET value = value + 1 WHERE name = 'gold'; END;
