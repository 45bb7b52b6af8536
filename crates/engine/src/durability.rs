//! When stored objects are known to be on disk: settled lazily instead of an fsync per import.
//!
//! An import commits its object from the page cache, as `cp` does, and records the boot it was
//! written in. Objects are settled later: in the same boot an fsync (cheap once the kernel has
//! written them back, which it does within about 30 s); after a reboot — possibly a power loss that
//! dropped the page cache — by re-hashing in a visible `recover` job, and an object that did not
//! survive is marked `missing` or `damaged` (its artifact stays, so profiles that use it still open
//! and say so) and its import's job item marked failed, so nothing damaged is ever served as verified.

use crate::db::{params, OptionalExtension};
use crate::error::{code, Error, Result};
use crate::jobs::{JobKind, Outcome};
use crate::model::ArtifactState;
use crate::runner::{self, Done, ItemEnd, ItemSpec, Step, Work};
use crate::Engine;
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

/// What a recovery found: how many objects survived, and the names of those that were lost.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RecoverReport {
    pub job: Option<crate::JobSummary>,
    pub settled: usize,
    pub lost: Vec<String>,
}

/// The `recover` job: one item per object an earlier boot left unsettled, re-hashed on every core.
pub struct RecoverWork {
    /// (sha256, size, the artifact's name when it has one)
    objects: Vec<(String, u64, Option<String>)>,
}

impl Work for RecoverWork {
    type Item = ();
    type Report = RecoverReport;
    const KIND: JobKind = JobKind::Recover;

    fn items(&self) -> Vec<ItemSpec> {
        self.objects.iter().map(|(sha, size, name)| ItemSpec::new(name.clone().unwrap_or_else(|| sha.clone()), Some(*size))).collect()
    }

    fn concurrency(&self) -> usize {
        runner::all_cores()
    }

    fn run_item(&self, engine: &Engine, seq: usize, step: &Step<'_>) -> Result<Done<()>> {
        let (sha, _, name) = &self.objects[seq];
        let path = engine.layout().object_path(sha);
        step.phase("hashing");
        let intact = path.exists()
            && match crate::pipeline::hash_file(&path, &[], step.cancel(), &mut |done| step.progress(done)) {
                Ok(d) => d.sha256 == *sha,
                Err(e) if e.is(code::CANCELLED) => return Err(e),
                Err(_) => false,
            };
        if intact && fsync(&path) {
            engine.mark_settled(sha)?;
            return Ok(Done::new(Outcome::Recovered, ()));
        }
        engine.mark_lost(sha)?;
        Err(object_lost(name.as_deref().unwrap_or(sha)))
    }

    fn summary(&self, ends: &[ItemEnd<()>]) -> String {
        let ok = ends.iter().filter(|e| e.outcome == Outcome::Recovered).count();
        let lost = ends.iter().filter(|e| e.outcome == Outcome::Failed).count();
        let mut s = format!("{ok} objects checked after a restart, {lost} lost");
        if ends.iter().any(|e| e.outcome == Outcome::Cancelled) {
            s.push_str(", cancelled (the rest is checked next time)");
        }
        s
    }

    fn report(self, _engine: &Engine, job: crate::JobSummary, ends: Vec<ItemEnd<()>>) -> Result<RecoverReport> {
        let settled = ends.iter().filter(|e| e.outcome == Outcome::Recovered).count();
        let lost = ends
            .iter()
            .filter(|e| e.outcome == Outcome::Failed)
            .map(|e| self.objects[e.seq].2.clone().unwrap_or_else(|| self.objects[e.seq].0.clone()))
            .collect();
        Ok(RecoverReport { job: Some(job), settled, lost })
    }
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
    /// Settle this boot's objects written at least `min_age` ago with an fsync (cheap: the kernel
    /// has written them back by then). Objects from an earlier boot are left to [`Engine::recovery_work`].
    pub fn settle(&self, min_age: Duration) -> Result<usize> {
        let boot = boot_id();
        let cutoff = crate::clock::format(time::OffsetDateTime::now_utc() - min_age);
        let pending: Vec<String> = {
            let conn = self.db();
            let mut stmt = conn.prepare("SELECT sha256 FROM objects WHERE unsettled_boot = ?1 AND created_at <= ?2")?;

            stmt.query_map(crate::db::params![boot, cutoff], |r| r.get(0))?.collect::<crate::db::SqlResult<Vec<_>>>()?
        };
        let mut settled = 0;
        for sha in pending {
            if fsync(&self.layout().object_path(&sha)) {
                self.mark_settled(&sha)?;
                settled += 1;
            }
        }
        Ok(settled)
    }

    /// The `recover` job when objects written in an earlier boot were never settled (the machine
    /// restarted, perhaps losing its page cache): each is re-hashed; what did not survive is
    /// marked lost. None when there is nothing to recover.
    pub fn recovery_work(&self) -> Result<Option<RecoverWork>> {
        if self.team().is_some() {
            return Ok(None); // a team's objects live in its bucket: durable once uploaded
        }
        let boot = boot_id();
        let conn = self.db();
        let mut stmt = conn.prepare(
            "SELECT o.sha256, o.size, (SELECT name FROM artifacts a WHERE a.sha256 = o.sha256) FROM objects o
             WHERE o.unsettled_boot IS NOT NULL AND o.unsettled_boot <> ?1 ORDER BY o.created_at",
        )?;
        let objects = stmt
            .query_map([boot], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64, r.get::<_, Option<String>>(2)?)))?
            .collect::<crate::db::SqlResult<Vec<_>>>()?;
        Ok((!objects.is_empty()).then_some(RecoverWork { objects }))
    }

    /// Run the recovery job in the calling thread when one is needed (the CLI, before a command).
    pub fn recover(&self, cancel: &crate::CancelToken, sink: &(dyn Fn(&crate::JobProgress) + Sync)) -> Result<Option<RecoverReport>> {
        self.recovery_work()?.map(|w| self.run(w, cancel, sink)).transpose()
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
    pub(crate) fn mark_lost(&self, sha: &str) -> Result<Vec<String>> {
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
                // Its job did less than it said: its state again by the runner's end rule.
                let jobs: Vec<(i64, usize, usize)> = tx
                    .prepare(
                        "SELECT j.id, (SELECT COUNT(*) FROM job_items i WHERE i.job_id = j.id AND i.outcome = 'failed'),
                                (SELECT COUNT(*) FROM job_items i WHERE i.job_id = j.id)
                         FROM jobs j WHERE j.state IN ('succeeded', 'partly_succeeded')
                           AND j.id IN (SELECT job_id FROM job_items WHERE artifact_id = ?1 AND outcome = 'failed')",
                    )?
                    .query_map([id], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as usize, r.get::<_, i64>(2)? as usize)))?
                    .collect::<crate::db::SqlResult<_>>()?;
                for (job, failed, items) in jobs {
                    tx.execute(
                        "UPDATE jobs SET state = ?1, summary = summary || ' — ' || ?2 || ' lost before it reached the disk' WHERE id = ?3",
                        params![crate::jobs::JobState::of_batch(false, failed, items).as_str(), name, job],
                    )?;
                }
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
