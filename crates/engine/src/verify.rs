//! Re-verify stored objects: re-hash each one and report corrupted or missing copies, as a job.

use crate::cancel::CancelToken;
use crate::catalog;
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
}

/// The verify job: one item per stored object, hashed on every core.
pub struct VerifyWork {
    /// (artifact id, name, sha256, size of the object file when it exists)
    targets: Vec<(i64, String, String, Option<u64>)>,
    /// The whole repository: object files no row names are looked for too.
    whole: bool,
}

impl Engine {
    /// The verify job over the given artifacts (every artifact when empty).
    pub fn verify_work(&self, keys: &[String]) -> Result<VerifyWork> {
        let found: Vec<(i64, String, String)> = if keys.is_empty() {
            catalog::all_objects(&self.db())?
        } else {
            let conn = self.db();
            keys.iter().map(|k| catalog::get(&conn, k).map(|a| (a.id, a.name, a.sha256))).collect::<Result<_>>()?
        };
        let targets = found
            .into_iter()
            .map(|(id, name, sha)| {
                let size = std::fs::metadata(self.layout().object_path(&sha)).ok().map(|m| m.len());
                (id, name, sha, size)
            })
            .collect();
        Ok(VerifyWork { targets, whole: keys.is_empty() })
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
        self.targets.iter().map(|(_, name, _, size)| ItemSpec::new(name.clone(), *size)).collect()
    }

    fn concurrency(&self) -> usize {
        runner::all_cores()
    }

    fn run_item(&self, engine: &Engine, seq: usize, step: &Step<'_>) -> Result<Done<()>> {
        let (id, name, sha, _) = &self.targets[seq];
        let artifact = ArtifactRef { id: *id, name: name.clone() };
        let path = engine.layout().object_path(sha);
        step.phase("hashing");
        let checked = if !path.exists() {
            Err(store::object_missing(sha, name))
        } else {
            pipeline::hash_file(&path, &[], step.cancel(), &mut |done| step.progress(done)).and_then(|d| {
                if &d.sha256 == sha {
                    Ok(())
                } else {
                    Err(store::object_corrupted(sha, &d.sha256, name))
                }
            })
        };
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
        let items = ends
            .into_iter()
            .map(|e| {
                let (id, name, sha, _) = &self.targets[e.seq];
                VerifyItem {
                    artifact: ArtifactRef { id: *id, name: name.clone() },
                    sha256: sha.clone(),
                    outcome: e.outcome,
                    error: e.error,
                }
            })
            .collect();
        Ok(VerifyReport { job, items, orphans })
    }
}
