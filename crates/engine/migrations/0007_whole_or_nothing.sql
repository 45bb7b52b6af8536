-- 0007: what a job is making that must appear whole or not at all, recorded before it is made so
-- that the next open can finish or undo it when the process died half-way.

-- An export into a folder the user chose: the archive and its sidecar are written under hidden
-- temp names, then the archive is renamed into place, then the sidecar. A row lives while that runs.
-- On the next open, a row whose process is gone is settled: temp archive still there -> both temp
-- files removed (nothing appeared); temp archive gone -> the sidecar is renamed into place too.
CREATE TABLE export_files (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    session      TEXT NOT NULL,
    archive_part TEXT NOT NULL,
    archive      TEXT NOT NULL,
    sidecar_part TEXT NOT NULL,
    sidecar      TEXT NOT NULL,
    created_at   TEXT NOT NULL
);

-- Artifacts a profile import brought in (or found staged by another one) for a profile it has not
-- created yet. The row goes in the transaction that creates the profile; when the job fails, is
-- cancelled or its process dies, the artifacts it alone staged and no profile uses are deleted.
CREATE TABLE staged_members (
    job_id      INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    artifact_id INTEGER NOT NULL REFERENCES artifacts(id) ON DELETE CASCADE,
    PRIMARY KEY (job_id, artifact_id)
);
CREATE INDEX staged_members_artifact ON staged_members(artifact_id);
