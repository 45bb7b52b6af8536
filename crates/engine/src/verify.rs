//! Re-verify stored objects: re-hash each one and report corrupted or missing copies, as a job —
//! every artifact's object, and on a whole-repository verify every gold image's files too.

use crate::cancel::CancelToken;
use crate::catalog;
use crate::db::OptionalExtension;
use crate::error::{code, Error, Result};
use crate::jobs::{JobKind, JobProgress, JobSummary, Outcome};
use crate::model::ArtifactRef;
use crate::pipeline;
use crate::runner::{self, Done, ItemEnd, ItemSpec, Step, Work};
use crate::store;
use crate::Engine;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct VerifyItem {
    pub artifact: ArtifactRef,
    pub sha256: String,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Error>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct VerifyReport {
    pub job: JobSummary,
    pub items: Vec<VerifyItem>,
    /// SHA-256 of each object file no catalog row named, removed (a verify of the whole repository
    /// looks for them; left by a process killed between storing a file and committing its rows).
    pub orphans: Vec<String>,
    /// On a team repository, SHA-256 of each deleted object whose grace period was over, removed
    /// from the bucket by this verify of the whole repository (no row named it, nobody uploaded it).
    pub collected: Vec<String>,
    /// Gold images whose files were re-hashed (a verify of the whole repository).
    pub gold: Vec<GoldVerifyItem>,
}

/// The files of one gold image, re-hashed: those no artifact and no earlier image shares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct GoldVerifyItem {
    pub image: String,
    /// Stored files checked for this image.
    pub files: u32,
    pub outcome: Outcome,
    /// The first damaged or missing file (the text says how many more).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Error>,
}

/// What one item of the job checks.
enum Target {
    /// An artifact's object (the size of the object file when it exists).
    Artifact { id: i64, name: String, sha: String, size: Option<u64> },
    /// A gold image's objects: (sha256, path in the image, size).
    Gold { image: String, objects: Vec<(String, String, u64)> },
}

/// The verify job: one item per artifact and per gold image, hashed on every core.
pub struct VerifyWork {
    targets: Vec<Target>,
    /// The whole repository: gold images, and object files no row names, are looked at too.
    whole: bool,
}

impl Engine {
    /// The verify job over the given artifacts (every artifact when empty).
    pub fn verify_work(&self, keys: &[String]) -> Result<VerifyWork> {
        let found: Vec<(i64, String, String, u64)> = if keys.is_empty() {
            catalog::all_objects(&self.db())?
        } else {
            let conn = self.db();
            keys.iter().map(|k| catalog::get(&conn, k).map(|a| (a.id, a.name, a.sha256, a.size))).collect::<Result<_>>()?
        };
        self.verify_of(found, keys.is_empty())
    }

    /// The verify job over `found` (id, name, SHA-256, size of each artifact); with `whole`, gold
    /// images' files too, and afterwards orphans and (on a team repository) the collection.
    fn verify_of(&self, found: Vec<(i64, String, String, u64)>, whole: bool) -> Result<VerifyWork> {
        let mut seen: std::collections::HashSet<String> = found.iter().map(|(_, _, sha, _)| sha.clone()).collect();
        let mut targets: Vec<Target> = found
            .into_iter()
            .map(|(id, name, sha, size)| {
                // On a team repository the bytes are in the bucket: the catalog knows their size.
                let size = match self.bucket() {
                    Some(_) => Some(size),
                    None => std::fs::metadata(self.layout().object_path(&sha)).ok().map(|m| m.len()),
                };
                Target::Artifact { id, name, sha, size }
            })
            .collect();
        if whole {
            for (image, files) in crate::gold::stored_files(&self.db())? {
                let objects: Vec<_> = files.into_iter().filter(|(sha, _, _)| seen.insert(sha.clone())).collect();
                if !objects.is_empty() {
                    targets.push(Target::Gold { image, objects });
                }
            }
        }
        Ok(VerifyWork { targets, whole })
    }

    /// The verify job over a sample of `n` artifacts: those whose bytes were checked longest ago
    /// (never first; those already found missing or damaged last, or a few broken ones would take
    /// every sample), so that runs one after another go round the whole repository — for a team
    /// repository whose bucket is too big to re-hash in one go (docs/SCALING.md). No gold images,
    /// orphans or collection: those belong to a verify of the whole repository.
    pub fn verify_sample_work(&self, n: u32) -> Result<VerifyWork> {
        if n == 0 {
            return Err(Error::invalid_argument(
                "A sample of 0 artifacts verifies nothing.",
                "Give --sample a number of artifacts, 1 or more.",
            ));
        }
        let found: Vec<(i64, String, String, u64)> = self
            .db()
            .prepare(&format!(
                "SELECT a.id, a.name, a.sha256, o.size FROM artifacts a JOIN objects o ON o.sha256 = a.sha256
                 ORDER BY CASE WHEN o.state <> 'ok' THEN 2 WHEN o.last_verified_at IS NULL THEN 0 ELSE 1 END, o.last_verified_at, a.id
                 LIMIT {n}"
            ))?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<crate::db::SqlResult<_>>()?;
        self.verify_of(found, false)
    }

    /// Re-hash the objects of the given artifacts (all when empty) in the calling thread.
    pub fn verify(&self, keys: &[String], cancel: &CancelToken, sink: &(dyn Fn(&JobProgress) + Sync)) -> Result<VerifyReport> {
        self.run(self.verify_work(keys)?, cancel, sink)
    }
}

impl Work for VerifyWork {
    type Item = ();
    type Report = VerifyReport;
    const KIND: JobKind = JobKind::Verify;

    fn items(&self) -> Vec<ItemSpec> {
        self.targets
            .iter()
            .map(|t| match t {
                Target::Artifact { name, size, .. } => ItemSpec::new(name.clone(), *size),
                Target::Gold { image, objects } => {
                    ItemSpec::new(format!("gold image {image}"), Some(objects.iter().map(|(_, _, size)| size).sum()))
                }
            })
            .collect()
    }

    fn concurrency(&self) -> usize {
        runner::all_cores()
    }

    fn run_item(&self, engine: &Engine, seq: usize, step: &Step<'_>) -> Result<Done<()>> {
        let (id, name, sha) = match &self.targets[seq] {
            Target::Artifact { id, name, sha, .. } => (id, name, sha),
            Target::Gold { image, objects } => return verify_gold(engine, image, objects, step),
        };
        let artifact = ArtifactRef { id: *id, name: name.clone() };
        step.phase("hashing");
        let checked = check_stored(engine, sha, name, step.cancel(), &mut |done| step.progress(done))?;
        // Deleted while the job ran: nothing left to verify, and nothing wrong.
        if checked.as_ref().is_err_and(|e| !e.is(code::CANCELLED)) && catalog::by_id(&engine.db(), *id)?.is_none() {
            return Ok(Done::with_artifact(Outcome::Skipped, artifact, ()));
        }
        crate::failpoint::failpoint("verify.after_hash");
        if let Some(state) = crate::model::ArtifactState::from_check(&checked) {
            engine.record_object_state(sha, state)?;
        }
        match checked {
            Ok(()) => {
                engine.record_verified(sha)?;
                engine.settle_one(sha)?;
                Ok(Done::with_artifact(Outcome::Verified, artifact, ()))
            }
            Err(e) => Err(e),
        }
    }

    fn summary(&self, ends: &[ItemEnd<()>]) -> String {
        let verified = ends.iter().filter(|e| e.outcome == Outcome::Verified).count();
        let failed = ends.iter().filter(|e| e.outcome == Outcome::Failed).count();
        let mut s = format!("{verified} verified, {failed} damaged or missing");
        let skipped = ends.iter().filter(|e| e.outcome == Outcome::Skipped).count();
        if skipped > 0 {
            s.push_str(&format!(", {skipped} deleted meanwhile"));
        }
        if ends.iter().any(|e| e.outcome == Outcome::Cancelled) {
            s.push_str(", cancelled");
        }
        s
    }

    fn report(self, engine: &Engine, job: JobSummary, ends: Vec<ItemEnd<()>>) -> Result<VerifyReport> {
        let cancelled = ends.iter().any(|e| e.outcome == Outcome::Cancelled);
        let orphans = if self.whole && !cancelled { engine.remove_orphan_objects()? } else { Vec::new() };
        // Collecting is housekeeping: a bucket that does not answer now leaves it for the next verify.
        let collected = if self.whole && !cancelled {
            engine.collect_garbage().unwrap_or_else(|e| {
                tracing::warn!(code = %e.code, text = %e.text, "deleted objects not collected");
                Vec::new()
            })
        } else {
            Vec::new()
        };
        let (mut items, mut gold) = (Vec::new(), Vec::new());
        for e in ends {
            match &self.targets[e.seq] {
                Target::Artifact { id, name, sha, .. } => items.push(VerifyItem {
                    artifact: ArtifactRef { id: *id, name: name.clone() },
                    sha256: sha.clone(),
                    outcome: e.outcome,
                    error: e.error,
                }),
                Target::Gold { image, objects } => {
                    gold.push(GoldVerifyItem { image: image.clone(), files: objects.len() as u32, outcome: e.outcome, error: e.error })
                }
            }
        }
        Ok(VerifyReport { job, items, orphans, collected, gold })
    }
}

/// Hash the stored copy of `sha` (called `name` in errors): the local object file, or on a team
/// repository the bucket's copy, which every desktop reads. The inner result is the check's (a
/// missing or damaged copy); the outer one what kept it from being made.
fn check_stored(engine: &Engine, sha: &str, name: &str, cancel: &crate::CancelToken, progress: &mut dyn FnMut(u64)) -> Result<Result<()>> {
    if let Some(bucket) = engine.bucket() {
        // Read now: deleted while the job ran, the bytes count as none.
        let size: i64 = engine.db().query_row("SELECT size FROM objects WHERE sha256 = ?1", [sha], |r| r.get(0)).optional()?.unwrap_or(0);
        return Ok(match bucket.hash(sha, size as u64, cancel, progress) {
            Ok(None) => Err(store::object_missing(sha, name)),
            Ok(Some(got)) if got == sha => Ok(()),
            Ok(Some(got)) => Err(store::object_corrupted(sha, &got, name)),
            Err(e) => Err(e),
        });
    }
    let path = engine.layout().object_path(sha);
    if !path.exists() {
        return Ok(Err(store::object_missing(sha, name)));
    }
    Ok(pipeline::hash_file(&path, &[], cancel, progress).and_then(|d| {
        if d.sha256 == sha {
            Ok(())
        } else {
            Err(store::object_corrupted(sha, &d.sha256, name))
        }
    }))
}

/// Re-hash every object of a gold image's item; each damaged or missing one is marked so, and the
/// item fails naming the first (a provision or export of it would refuse it the same way).
fn verify_gold(engine: &Engine, image: &str, objects: &[(String, String, u64)], step: &Step<'_>) -> Result<Done<()>> {
    step.phase("hashing");
    let mut done = 0u64;
    let mut bad: Vec<Error> = Vec::new();
    for (sha, path, size) in objects {
        let name = format!("{path} in gold image {image}");
        let checked = check_stored(engine, sha, &name, step.cancel(), &mut |n| step.progress(done + n))?;
        done += size;
        step.progress(done);
        if checked.as_ref().is_err_and(|e| e.is(code::CANCELLED)) {
            return checked.map(|()| Done::new(Outcome::Cancelled, ()));
        }
        if let Some(state) = crate::model::ArtifactState::from_check(&checked) {
            engine.record_object_state(sha, state)?;
        }
        match checked {
            Ok(()) => engine.record_verified(sha)?,
            Err(e) => bad.push(e),
        }
    }
    match bad.len() {
        0 => Ok(Done::new(Outcome::Verified, ())),
        n => {
            let mut first = bad.swap_remove(0);
            if n > 1 {
                first.text.push_str(&format!(" {} more files of {image} are damaged or missing.", n - 1));
            }
            first.recovery = format!(
                "Capture the home {image} came from again (or import its export): the same bytes heal the store. Working copies are not affected; `gold check` shows whether one still matches."
            );
            Err(first)
        }
    }
}
