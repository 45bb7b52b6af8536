//! A team repository's objects over their life: uploads recorded in the catalog before their
//! first byte (so a cut one resumes and a collected tombstone never takes bytes being sent again),
//! and tombstones collected after their grace period (docs/design/team-repository.md §1.2).

use super::bucket::{Resume, SentPart, UploadLog};
use crate::db::{params, Connection, OptionalExtension};
use crate::error::Result;
use crate::{CancelToken, Engine};
use std::path::Path;

/// How long a deleted object's bytes stay in the bucket: `IMAGESMITH_GC_GRACE` seconds, a day if unset.
fn grace_seconds() -> i64 {
    std::env::var("IMAGESMITH_GC_GRACE").ok().and_then(|v| v.parse().ok()).unwrap_or(24 * 3600)
}

/// Uploads older than this are let go by the collection (their process is long gone).
const STALE_UPLOAD_SECONDS: i64 = 7 * 24 * 3600;

/// Tombstones collected per write transaction (each one a DELETE in the bucket while the team's
/// write lock is held).
const BATCH: i64 = 20;

impl Engine {
    /// Send new bytes (`staged`, `size` bytes) to the team's bucket. The `uploads` row is written
    /// first; an earlier upload of the same bytes that was cut (a killed process, a lost connection)
    /// is gone on from, its parts not sent again.
    pub(crate) fn upload_object(
        &self,
        sha256: &str,
        staged: &Path,
        size: u64,
        cancel: &CancelToken,
        progress: &mut dyn FnMut(u64),
    ) -> Result<()> {
        let bucket = self.bucket().expect("a team repository");
        let part_size = super::bucket::part_size(size) as i64;
        let resume = self.write(|tx| {
            let row: Option<(String, i64, i64)> = tx
                .query_row("SELECT upload_id, part_size, size FROM uploads WHERE sha256 = ?1", [sha256], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .optional()?;
            match row {
                Some((id, part, sz)) if !id.is_empty() && sz as u64 == size => {
                    // Going on with it is a sign of life: the collection leaves it alone a week more.
                    tx.execute("UPDATE uploads SET started_at = now() WHERE sha256 = ?1", [sha256])?;
                    let mut stmt =
                        tx.prepare("SELECT part, etag, md5 FROM upload_parts WHERE sha256 = ?1 AND upload_id = ?2 ORDER BY part")?;
                    let parts = stmt
                        .query_map([sha256, id.as_str()], |r| {
                            Ok(SentPart { index: r.get::<_, i64>(0)? as usize, etag: r.get(1)?, md5: r.get(2)? })
                        })?
                        .collect::<crate::db::SqlResult<Vec<_>>>()?;
                    Ok(Some(Resume { upload_id: id, part_size: part as u64, parts }))
                }
                _ => {
                    // A claim on the bytes before their first byte is sent (a single PUT's too).
                    claim(tx, sha256, "", part_size, size)?;
                    Ok(None)
                }
            }
        })?;
        if let Some(r) = &resume {
            tracing::info!(parts = r.parts.len(), "team upload resumed");
        }
        let mut log = Recorded { engine: self, sha256, size, upload_id: resume.as_ref().map(|r| r.upload_id.clone()) };
        bucket.upload(sha256, staged, size, resume, &mut log, cancel, progress)?;
        crate::failpoint::failpoint("team.upload.done");
        Ok(())
    }

    /// Delete from the bucket the objects whose tombstone is older than the grace period and that no
    /// row names and nobody uploads again; let go of uploads left for a week. One write (the team's
    /// write lock held, so no import can claim the bytes between the check and the delete) per batch.
    /// Returns the SHA-256 of every object deleted.
    pub(crate) fn collect_garbage(&self) -> Result<Vec<String>> {
        let Some(bucket) = self.bucket() else { return Ok(Vec::new()) };
        // Uploads nobody has gone on with for a week: their claim becomes a tombstone (decided under
        // the lock, so one resumed meanwhile is left alone), then the server lets their parts go.
        let stale: Vec<(String, String)> = self.write(|tx| {
            let mut stmt = tx.prepare(
                "SELECT sha256, upload_id FROM uploads WHERE started_at < now() - make_interval(secs => ?1) ORDER BY started_at LIMIT 100",
            )?;
            let rows: Vec<(String, String)> =
                stmt.query_map([STALE_UPLOAD_SECONDS], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<crate::db::SqlResult<_>>()?;
            for (sha, _) in &rows {
                tx.execute("DELETE FROM uploads WHERE sha256 = ?1", [sha])?;
                tombstone(tx, sha)?;
            }
            Ok(rows)
        })?;
        for (sha, id) in stale.iter().filter(|(_, id)| !id.is_empty()) {
            if let Err(e) = bucket.abort_upload(sha, id) {
                tracing::warn!(code = %e.code, "a stale upload could not be aborted; the bucket's own expiry removes its parts");
            }
        }
        let mut deleted = Vec::new();
        loop {
            let batch = self.write(|tx| {
                // Bytes imported again since their delete are nobody's garbage.
                tx.execute("DELETE FROM object_tombstones t WHERE EXISTS (SELECT 1 FROM objects o WHERE o.sha256 = t.sha256)", [])?;
                let mut stmt = tx.prepare(
                    "SELECT t.sha256 FROM object_tombstones t
                     WHERE t.since <= now() - make_interval(secs => ?1)
                       AND NOT EXISTS (SELECT 1 FROM uploads u WHERE u.sha256 = t.sha256)
                     ORDER BY t.since LIMIT ?2",
                )?;
                let shas = stmt
                    .query_map(params![grace_seconds(), BATCH], |r| r.get::<_, String>(0))?
                    .collect::<crate::db::SqlResult<Vec<_>>>()?;
                for sha in &shas {
                    crate::failpoint::failpoint("team.gc.before_delete");
                    bucket.delete_object(sha)?;
                    tx.execute("DELETE FROM object_tombstones WHERE sha256 = ?1", [sha])?;
                }
                Ok(shas)
            })?;
            let last = (batch.len() as i64) < BATCH;
            deleted.extend(batch);
            if last {
                break;
            }
        }
        if !deleted.is_empty() {
            tracing::info!(objects = deleted.len(), "team objects collected");
        }
        Ok(deleted)
    }
}

/// In the transaction that settles an import on a team repository: the upload of these bytes is
/// over and they are nobody's garbage (on a local repository: nothing to do).
pub(crate) fn upload_settled(conn: &Connection, sha256: &str) -> Result<()> {
    if conn.dialect() == crate::db::Dialect::Postgres {
        conn.execute("DELETE FROM uploads WHERE sha256 = ?1", [sha256])?;
        conn.execute("DELETE FROM object_tombstones WHERE sha256 = ?1", [sha256])?;
    }
    Ok(())
}

/// Mark the bucket's copy of these bytes for collection after the grace period.
pub(crate) fn tombstone(conn: &Connection, sha256: &str) -> Result<()> {
    conn.execute("INSERT INTO object_tombstones (sha256) VALUES (?1) ON CONFLICT (sha256) DO UPDATE SET since = now()", [sha256])?;
    Ok(())
}

/// Claim `sha256` for an upload (the row a collection respects), or take over an earlier claim.
fn claim(tx: &Connection, sha256: &str, upload_id: &str, part_size: i64, size: u64) -> Result<()> {
    tx.execute(
        "INSERT INTO uploads (sha256, upload_id, part_size, size, started_by) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (sha256) DO UPDATE SET upload_id = excluded.upload_id, part_size = excluded.part_size,
           size = excluded.size, started_by = excluded.started_by, started_at = now()",
        params![sha256, upload_id, part_size, size, super::who()],
    )?;
    tx.execute("DELETE FROM upload_parts WHERE sha256 = ?1 AND upload_id <> ?2", [sha256, upload_id])?;
    Ok(())
}

/// An upload as the team catalog records it. Parts are recorded only while the row still names
/// this upload: another desktop may have finished the same bytes (the row is gone) or started over.
struct Recorded<'a> {
    engine: &'a Engine,
    sha256: &'a str,
    size: u64,
    upload_id: Option<String>,
}

impl UploadLog for Recorded<'_> {
    fn started(&mut self, upload_id: &str, part_size: u64) -> Result<()> {
        self.upload_id = Some(upload_id.to_string());
        self.engine.write(|tx| claim(tx, self.sha256, upload_id, part_size as i64, self.size))
    }

    fn part_sent(&mut self, index: usize, etag: &str, md5: &str) -> Result<()> {
        let id = self.upload_id.clone().unwrap_or_default();
        self.engine.write(|tx| {
            let ours =
                tx.execute("UPDATE uploads SET started_at = now() WHERE sha256 = ?1 AND upload_id = ?2", [self.sha256, id.as_str()])?;
            if ours == 1 {
                tx.execute(
                    "INSERT INTO upload_parts (sha256, upload_id, part, etag, md5) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (sha256, upload_id, part) DO UPDATE SET etag = excluded.etag, md5 = excluded.md5",
                    params![self.sha256, id, index, etag, md5],
                )?;
            }
            Ok(())
        })
    }

    fn restart(&mut self) -> Result<()> {
        self.upload_id = None;
        let part_size = super::bucket::part_size(self.size) as i64;
        self.engine.write(|tx| claim(tx, self.sha256, "", part_size, self.size))
    }
}
