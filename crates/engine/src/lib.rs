//! imagesmith-engine: the repository, catalog, import pipeline and job history behind the app and CLI.
//!
//! The engine never knows it runs in a desktop app: it takes a [`DataLayout`] and callbacks, and is
//! shared by the Tauri shell and `imagesmith-cli`, which may use one repository at the same time.

pub mod archive;
pub mod cancel;
pub mod catalog;
pub mod checksum;
pub mod clock;
mod db;
pub mod detect;
pub mod durability;
pub mod export;
pub mod error;
pub mod import;
mod iso;
pub mod jobs;
pub mod layout;
pub mod matrix;
pub mod model;
pub mod pipeline;
pub mod profile;
pub mod profile_import;
pub mod progress;
pub mod publish;
pub mod remote;
pub mod secrets;
pub mod store;
pub mod verify;

pub use cancel::CancelToken;
pub use checksum::ExpectedDigest;
pub use error::{Error, Result};
pub use import::{ImportItem, ImportPlan, ImportReport, ImportRequest, ItemReport, PlanItem, PlanRequest};
pub use jobs::{JobDetail, JobItem, JobProgress, JobQuery, JobState, JobSummary, Outcome};
pub use layout::DataLayout;
pub use model::{Algo, Artifact, ArtifactPatch, ArtifactQuery, ArtifactRef, Kind, OsFamily, SortKey};
pub use profile::{Profile, ProfileMember, Role};
pub use progress::ProgressSink;
pub use remote::{Protocol, Server, ServerExportRequest, ServerSpec, ServerTestReport};
pub use verify::VerifyReport;

use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// Imagesmith's version, written into exports and shown in the app.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Counters that move whenever any process changes artifacts or jobs (cheap to poll).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ChangeStamp {
    pub artifacts: i64,
    pub jobs: i64,
    pub profiles: i64,
}

/// One open repository. `Send + Sync`: share it in an `Arc`.
pub struct Engine {
    layout: DataLayout,
    store: store::Store,
    conn: Mutex<Connection>,
    running: Mutex<HashMap<i64, CancelToken>>,
}

impl Engine {
    /// Open (creating if needed) the repository: folders, catalog migrations, then recovery — jobs of
    /// processes that died are marked interrupted and their staging files removed.
    pub fn open(layout: DataLayout) -> Result<Engine> {
        let store = store::Store::open(&layout)?;
        let conn = db::open(&layout.catalog())?;
        let live = store.live_sessions()?;
        jobs::mark_interrupted(&conn, &live)?;
        store.reap_dead_sessions()?;
        let engine = Engine { layout, store, conn: Mutex::new(conn), running: Mutex::new(HashMap::new()) };
        engine.settle(durability::SETTLE_AFTER)?;
        Ok(engine)
    }

    pub fn layout(&self) -> &DataLayout {
        &self.layout
    }

    pub(crate) fn db(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Run `f` in one write transaction (BEGIN IMMEDIATE).
    pub(crate) fn write<T>(&self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>) -> Result<T> {
        db::write(&mut self.db(), f)
    }

    pub fn change_stamp(&self) -> Result<ChangeStamp> {
        let conn = self.db();
        let mut stmt = conn.prepare_cached("SELECT name, value FROM change_counters")?;
        let mut stamp = ChangeStamp { artifacts: 0, jobs: 0, profiles: 0 };
        for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
            let (name, value) = row?;
            match name.as_str() {
                "artifacts" => stamp.artifacts = value,
                "jobs" => stamp.jobs = value,
                "profiles" => stamp.profiles = value,
                _ => {}
            }
        }
        Ok(stamp)
    }

    // ---- artifacts ----

    pub fn list_artifacts(&self, q: &ArtifactQuery) -> Result<Vec<Artifact>> {
        catalog::list(&self.db(), q)
    }

    pub fn count_artifacts(&self, q: &ArtifactQuery) -> Result<u64> {
        catalog::count(&self.db(), q)
    }

    pub fn get_artifact(&self, id_or_name: &str) -> Result<Artifact> {
        catalog::get(&self.db(), id_or_name)
    }

    pub fn update_artifact(&self, id: i64, patch: &ArtifactPatch) -> Result<Artifact> {
        self.write(|tx| {
            catalog::by_id(tx, id)?.ok_or_else(|| Error::not_found("artifact", &id.to_string()))?;
            catalog::update(tx, id, patch)?;
            catalog::by_id(tx, id)?.ok_or_else(|| Error::not_found("artifact", &id.to_string()))
        })
    }

    /// Delete an artifact; refused with `in_use` while others name it as their image. The object
    /// file goes only when nothing references it any more.
    pub fn delete_artifact(&self, id: i64) -> Result<Artifact> {
        let mut withdrawn = None;
        let result = self.write(|tx| {
            let a = catalog::by_id(tx, id)?.ok_or_else(|| Error::not_found("artifact", &id.to_string()))?;
            if let Some(sha) = catalog::delete(tx, &a)? {
                // Inside the transaction: a concurrent import of the same bytes waits for us.
                withdrawn = self.store.withdraw(&sha)?.map(|p| (p, sha));
            }
            Ok(a)
        });
        match (&result, withdrawn) {
            (Ok(_), Some((trash, _))) => {
                let _ = std::fs::remove_file(trash);
            }
            (Err(_), Some((trash, sha))) => self.store.restore(&trash, &sha),
            _ => {}
        }
        result
    }

    // ---- jobs ----

    pub fn list_jobs(&self, q: &JobQuery) -> Result<Vec<JobSummary>> {
        jobs::list(&self.db(), q)
    }

    pub fn count_jobs(&self, q: &JobQuery) -> Result<u64> {
        jobs::count(&self.db(), q)
    }

    pub fn get_job(&self, id: i64) -> Result<JobDetail> {
        jobs::get(&self.db(), id)
    }

    /// Ask a job running in this process to stop. Returns false when it is not running here.
    pub fn cancel_job(&self, id: i64) -> Result<bool> {
        let running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        match running.get(&id) {
            Some(token) => {
                token.cancel();
                Ok(true)
            }
            None => {
                jobs::state(&self.db(), id)?;
                Ok(false)
            }
        }
    }

    /// Start a job over one item (an export, a profile import): recorded, cancellable, running.
    pub(crate) fn begin_single_job(&self, kind: &str, item: &str, total: u64, cancel: &CancelToken) -> Result<progress::Meter> {
        let session = self.store.session().to_string();
        let job = self.write(|tx| jobs::create(tx, kind, &session, &[(item.to_string(), Some(total))], total))?;
        self.register_running(job, cancel);
        jobs::set_running(&self.db(), job)?;
        let mut meter = progress::Meter::new(job, 1, total);
        meter.progress.item_path = item.to_string();
        meter.progress.item_bytes_total = total;
        Ok(meter)
    }

    /// End a one-item job from its result: the item's outcome, the job's state and summary, the
    /// last progress tick. Returns the job as the history now shows it.
    pub(crate) fn end_single_job<T>(
        &self,
        meter: &mut progress::Meter,
        result: &Result<T>,
        summary: impl FnOnce(&T) -> String,
        sink: &dyn Fn(&JobProgress),
    ) -> Result<JobSummary> {
        let job = meter.progress.job_id;
        self.unregister_running(job);
        let (state, outcome, error, summary) = match result {
            Ok(v) => (JobState::Succeeded, Outcome::Imported, None, summary(v)),
            Err(e) if e.code == error::code::CANCELLED => (JobState::Cancelled, Outcome::Cancelled, Some(e.clone()), "cancelled".to_string()),
            Err(e) => (JobState::Failed, Outcome::Failed, Some(e.clone()), e.text.clone()),
        };
        {
            let conn = self.db();
            let item_error = error.as_ref().filter(|_| state == JobState::Failed);
            jobs::set_item(&conn, job, 0, outcome, None, item_error)?;
            meter.progress.state = state;
            meter.progress.phase = if state == JobState::Succeeded { "done".into() } else { state.as_str().into() };
            jobs::save_progress(&conn, &meter.progress)?;
            jobs::finish(&conn, job, state, &summary, error.as_ref())?;
        }
        sink(&meter.progress);
        Ok(self.get_job(job)?.job)
    }

    pub(crate) fn register_running(&self, id: i64, token: &CancelToken) {
        self.running.lock().unwrap_or_else(|p| p.into_inner()).insert(id, token.clone());
    }

    pub(crate) fn unregister_running(&self, id: i64) {
        self.running.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
    }
}
