-- 0012: where an image cut from a VM disk snapshot came from — the libvirt VM and connection, the
-- disk (numbered from 1), the snapshot and when it was taken, the disk file or the library image
-- it was read from. artifacts.source_kind's CHECK (0010) cannot take a new word without rebuilding
-- the table, so a row here is what makes an artifact's source a snapshot; it goes with the artifact.
CREATE TABLE snapshot_sources (
    artifact_id   INTEGER PRIMARY KEY REFERENCES artifacts(id) ON DELETE CASCADE,
    vm            TEXT,
    connect_uri   TEXT,
    disk_id       INTEGER NOT NULL CHECK (disk_id >= 1),
    snapshot      TEXT NOT NULL,
    disk_file     TEXT,
    from_artifact TEXT,
    snapshot_at   TEXT
);
