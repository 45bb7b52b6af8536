//! When stored objects are known to be on disk: settled lazily instead of an fsync per import.
//!
//! An import commits its object from the page cache, as `cp` does, and records the boot it was
//! written in. Objects are settled later: in the same boot an fsync (cheap once the kernel has
//! written them back, which it does within about 30 s); after a reboot — possibly a power loss that
//! dropped the page cache — by re-hashing, and an object that did not survive is marked `missing` or
//! `damaged` (its artifact stays, so profiles that use it still open and say so) and its import's
//! job item marked failed, so nothing damaged is ever served as verified.

use crate::error::{code, Error, Result};
use crate::model::ArtifactState;
use crate::Engine;
use rusqlite::{params, OptionalExtension};
use std::fs::File;
use std::time::Duration;

/// The kernel's id of the current boot. `IMAGESMITH_BOOT_ID` overrides it: the tests use it to act
/// out a reboot, which they cannot do for real.
pub fn boot_id() -> String {
    if let Ok(id) = std::env::var("IMAGESMITH_BOOT_ID") {
        return id;
    }
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id").map(|s| s.trim().to_string()).unwrap_or_else(|_| "unknown".into())
}

/// Objects written at least this long ago in this boot are settled with an fsync on open.
pub const SETTLE_AFTER: Duration = Duration::from_secs(30);

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SettleReport {
    pub settled: usize,
    pub lost: Vec<String>,
}

pub fn object_lost(name: &str) -> Error {
    Error::new(
        code::OBJECT_LOST,
        format!("{name} was lost: the computer stopped before its copy reached the disk."),
        "The import had finished, but the system restarted (for example a power loss) before the file was written out, and the stored copy no longer matches its checksum.",
        "Import the original file again.",
    )
}

impl Engine {
    /// Settle unsettled objects: re-hash those from an earlier boot, fsync those of this boot older
    /// than `min_age`. Returns how many were settled and the names of artifacts that were lost (now
    /// marked missing or damaged).
    pub fn settle(&self, min_age: Duration) -> Result<SettleReport> {
        let boot = boot_id();
        let cutoff = crate::clock::format(time::OffsetDateTime::now_utc() - min_age);
        let pending: Vec<(String, String, String)> = {
            let conn = self.db();
            let mut stmt = conn.prepare(
                "SELECT sha256, unsettled_boot, created_at FROM objects WHERE unsettled_boot IS NOT NULL",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<rusqlite::Result<Vec<_>>>()?;
            rows
        };
        let mut report = SettleReport::default();
        for (sha, written_boot, created_at) in pending {
            let path = self.layout().object_path(&sha);
            if written_boot == boot {
                if created_at > cutoff {
                    continue;
                }
                if fsync(&path) {
                    self.mark_settled(&sha)?;
                    report.settled += 1;
                }
                continue;
            }
            let intact = path.exists()
                && crate::pipeline::hash_file(&path, &[], &crate::CancelToken::new(), &mut |_| {})
                    .map(|d| d.sha256 == sha)
                    .unwrap_or(false);
            if intact && fsync(&path) {
                self.mark_settled(&sha)?;
                report.settled += 1;
            } else {
                report.lost.extend(self.mark_lost(&sha)?);
            }
        }
        Ok(report)
    }

    /// Settle one object now (verify just re-hashed it from this boot's page cache or the disk).
    pub(crate) fn settle_one(&self, sha: &str) -> Result<()> {
        if fsync(&self.layout().object_path(sha)) {
            self.mark_settled(sha)?;
        }
        Ok(())
    }

    fn mark_settled(&self, sha: &str) -> Result<()> {
        self.db().execute("UPDATE objects SET unsettled_boot = NULL WHERE sha256 = ?1", [sha])?;
        Ok(())
    }

    /// Mark a lost object `missing` or `damaged` — never delete its rows: profiles and publications
    /// name the artifact, and re-importing the same bytes heals it. Its import's job item becomes a
    /// failure. Marked settled: nothing more is learnt by re-hashing it at every open (verify does).
    fn mark_lost(&self, sha: &str) -> Result<Vec<String>> {
        let state = if self.layout().object_path(sha).exists() { ArtifactState::Damaged } else { ArtifactState::Missing };
        self.write(|tx| {
            let artifact: Option<(i64, String)> =
                tx.query_row("SELECT id, name FROM artifacts WHERE sha256 = ?1", [sha], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
            let mut names = Vec::new();
            if let Some((id, name)) = artifact {
                let err = serde_json::to_string(&object_lost(&name)).unwrap_or_default();
                tx.execute(
                    "UPDATE job_items SET outcome = 'failed', error = ?1 WHERE artifact_id = ?2 AND outcome = 'imported'",
                    params![err, id],
                )?;
                tx.execute(
                    "UPDATE jobs SET state = 'failed', summary = summary || ' — ' || ?1 || ' lost before it reached the disk'
                     WHERE id IN (SELECT job_id FROM job_items WHERE artifact_id = ?2 AND outcome = 'failed') AND state = 'succeeded'",
                    params![name, id],
                )?;
                names.push(name);
            }
            tx.execute("UPDATE objects SET state = ?2, unsettled_boot = NULL WHERE sha256 = ?1", params![sha, state.as_str()])?;
            Ok(names)
        })
    }
}

fn fsync(path: &std::path::Path) -> bool {
    match File::open(path) {
        Ok(f) => {
            let ok = f.sync_all().is_ok();
            if let Some(dir) = path.parent().and_then(|d| File::open(d).ok()) {
                let _ = dir.sync_all();
            }
            ok
        }
        Err(_) => false,
    }
}
