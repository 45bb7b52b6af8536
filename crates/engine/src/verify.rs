//! Re-verify stored objects: re-hash each one and report corrupted or missing copies, as a job.

use crate::cancel::CancelToken;
use crate::catalog;
use crate::error::{code, Error, Result};
use crate::jobs::{self, JobProgress, JobState, JobSummary, Outcome};
use crate::model::ArtifactRef;
use crate::pipeline;
use crate::progress::Meter;
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

impl Engine {
    /// Re-hash the objects of the given artifacts (all when empty) in the calling thread.
    pub fn verify(&self, keys: &[String], cancel: &CancelToken, sink: &dyn Fn(&JobProgress)) -> Result<VerifyReport> {
        let targets: Vec<(i64, String, String)> = if keys.is_empty() {
            catalog::all_objects(&self.db())?
        } else {
            let conn = self.db();
            keys.iter()
                .map(|k| catalog::get(&conn, k).map(|a| (a.id, a.name, a.sha256)))
                .collect::<Result<_>>()?
        };
        let sizes: Vec<Option<u64>> = targets
            .iter()
            .map(|(_, _, sha)| std::fs::metadata(self.layout().object_path(sha)).ok().map(|m| m.len()))
            .collect();
        let items: Vec<(String, Option<u64>)> = targets
            .iter()
            .zip(&sizes)
            .map(|((_, _, sha), size)| (self.layout().object_path(sha).display().to_string(), *size))
            .collect();
        let total: u64 = sizes.iter().flatten().sum();
        let session = self.store.session().to_string();
        let job = self.write(|tx| jobs::create(tx, "verify", &session, &items, total))?;
        self.register_running(job, cancel);
        jobs::set_running(&self.db(), job)?;
        let mut meter = Meter::new(job, targets.len() as u32, total);
        meter.progress.phase = "hashing".into();
        let mut base = 0;
        let mut out = Vec::new();
        let mut cancelled = false;
        for (seq, (id, name, sha)) in targets.iter().enumerate() {
            let artifact = ArtifactRef { id: *id, name: name.clone() };
            let path = self.layout().object_path(sha);
            meter.progress.item_index = seq as u32;
            meter.progress.item_path = name.clone();
            meter.progress.item_bytes_total = sizes[seq].unwrap_or(0);
            let result = if cancelled {
                Err(Error::cancelled())
            } else if !path.exists() {
                Err(store::object_missing(sha, name))
            } else {
                pipeline::hash_file(&path, &[], cancel, &mut |done| {
                    let (tell, persist) = meter.advance(base, done);
                    if tell {
                        sink(&meter.progress);
                    }
                    if persist {
                        let _ = jobs::save_progress(&self.db(), &meter.progress);
                    }
                })
                .and_then(|d| if &d.sha256 == sha { Ok(()) } else { Err(store::object_corrupted(sha, &d.sha256, name)) })
            };
            base += sizes[seq].unwrap_or(0);
            if let Some(state) = crate::model::ArtifactState::from_check(&result) { self.record_object_state(sha, state)?; }
            let (outcome, error) = match result {
                Ok(()) => {
                    self.settle_one(sha)?;
                    (Outcome::Verified, None)
                }
                Err(e) if e.code == code::CANCELLED => {
                    cancelled = true;
                    (Outcome::Cancelled, None)
                }
                Err(e) => (Outcome::Failed, Some(e)),
            };
            jobs::set_item(&self.db(), job, seq as u32, outcome, Some(&artifact), error.as_ref())?;
            out.push(VerifyItem { artifact, sha256: sha.clone(), outcome, error });
        }
        let orphans = if keys.is_empty() && !cancelled { self.remove_orphan_objects()? } else { Vec::new() };
        self.unregister_running(job);
        let failed = out.iter().filter(|i| i.outcome == Outcome::Failed).count();
        let state = JobState::of_batch(cancelled, failed);
        let summary = format!("{} verified, {failed} damaged or missing", out.iter().filter(|i| i.outcome == Outcome::Verified).count());
        {
            let conn = self.db();
            meter.progress.state = state;
            meter.progress.phase = "done".into();
            jobs::save_progress(&conn, &meter.progress)?;
            jobs::finish(&conn, job, state, &summary, cancelled.then(Error::cancelled).as_ref())?;
        }
        sink(&meter.progress);
        Ok(VerifyReport { job: self.get_job(job)?.job, items: out, orphans })
    }
}
