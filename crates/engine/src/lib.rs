//! imagesmith-engine: the repository, catalog, import pipeline and job history behind the app and CLI.
//!
//! The engine never knows it runs in a desktop app: it takes a [`DataLayout`] and callbacks, and is
//! shared by the Tauri shell and `imagesmith-cli`, which may use one repository at the same time.

pub mod archive;
pub mod cancel;
pub mod catalog;
pub mod checksum;
pub mod clock;
pub mod compat;
mod db;
pub mod deletions;
pub mod detect;
pub mod download;
pub mod driver_info;
pub mod durability;
pub mod error;
pub mod export;
pub mod failpoint;
pub mod fuzzing;
pub mod gold;
mod http;
pub mod import;
pub mod info;
pub mod integrity;
mod iso;
pub mod isomd5;
pub mod jobs;
pub mod layout;
pub mod lint;
pub mod logging;
pub mod matrix;
pub mod model;
pub mod openpgp;
pub mod osid;
pub mod pipeline;
pub mod profile;
pub mod profile_import;
pub mod progress;
pub mod publish;
pub mod qemu;
pub mod rebuild;
pub mod remote;
pub mod runner;
pub mod secrets;
pub mod snapshot;
pub mod store;
pub mod stores;
pub mod team;
pub mod transfer;
pub mod trust;
pub mod udf;
pub mod verify;
pub mod wim;
pub mod windows;

pub use cancel::CancelToken;
pub use checksum::ExpectedDigest;
pub use db::Dialect;
pub use driver_info::{DriverEntry, DriverInfo, DriverQuery};
pub use error::{Error, ErrorCode, Result};
pub use import::{ImportItem, ImportPlan, ImportReport, ImportRequest, ItemReport, PlanItem, PlanRequest};
pub use jobs::{JobDetail, JobItem, JobKind, JobProgress, JobQuery, JobState, JobSummary, Outcome};
pub use layout::DataLayout;
pub use model::{Access, Algo, Artifact, ArtifactPatch, ArtifactQuery, ArtifactRef, ArtifactState, Kind, OsFamily, SortKey};
pub use profile::{Profile, ProfileMember, Role};
pub use progress::ProgressSink;
pub use remote::{Protocol, Server, ServerExportRequest, ServerSpec, ServerTestReport};
pub use runner::{Done, ItemEnd, ItemSpec, Step, Work};
pub use trust::KeyInfo;
pub use verify::VerifyReport;

use crate::db::{Connection, OptionalExtension};
use error::code;
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
    pub gold: i64,
}

/// One open repository. `Send + Sync`: share it in an `Arc`.
pub struct Engine {
    layout: DataLayout,
    store: store::Store,
    conn: Mutex<Connection>,
    running: Mutex<HashMap<i64, CancelToken>>,
    /// Signalled whenever a job stops running in this process (see [`Engine::wait_idle`]).
    idle: std::sync::Condvar,
    /// Set by [`Engine::retire`]: the window opened another repository, so no job may start here.
    retired: std::sync::atomic::AtomicBool,
    /// Set when the repository could only be opened for reading: every write is refused with it.
    unwritable: Option<Error>,
    /// Set on a team repository: its catalog is PostgreSQL's, its bytes in the bucket, and `layout`
    /// is this desktop's part (staging, sessions, and `objects/` as a cache of the bucket).
    team: Option<Team>,
}

struct Team {
    open: TeamOpen,
    /// A new connection to the catalog (the facade's when its own is lost, the change listener's).
    connect: std::sync::Arc<dyn Fn() -> Result<postgres::Client> + Send + Sync>,
    /// The connection that LISTENs for other desktops' changes ([`Engine::wait_for_change`]).
    listener: Mutex<Option<postgres::Client>>,
    bucket: team::bucket::Bucket,
    /// This desktop's id in the team: the prefix of its sessions' ids (`team::desktop_id`).
    desktop: String,
}

/// The team repository an engine is open on.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TeamOpen {
    /// The name this desktop calls it by.
    pub name: String,
    /// The repository's id in its catalog.
    pub repository_id: String,
}

impl Engine {
    /// Open (creating if needed) the repository: folders, catalog migrations, then recovery — jobs of
    /// processes that died are marked interrupted and their staging files removed; when one died, the
    /// object files no row names (it may have died between moving a file into objects/ and its
    /// COMMIT) are removed too, its export's temp files in the user's folder removed (or the sidecar
    /// of an archive already in place renamed after it), and the members its profile import brought
    /// in for a profile never created deleted. A lost object is marked, never a reason not to open.
    pub fn open(layout: DataLayout) -> Result<Engine> {
        if layout.must_exist && !layout.root.is_dir() {
            return Err(Error::new(
                code::REPOSITORY_MISSING,
                format!("The repository folder {} does not exist.", layout.root.display()),
                "It is the repository you configured (--home or IMAGESMITH_HOME). If it lives on a USB disk or a network share, that is probably not mounted; Imagesmith does not create an empty repository in its place.",
                format!(
                    "Mount the disk or share and try again, or point --home / IMAGESMITH_HOME at the right folder. To start a new, empty repository there: imagesmith-cli init --home {}",
                    layout.root.display()
                ),
            ));
        }
        let store = match store::Store::open(&layout) {
            Ok(store) => store,
            Err(e) if e.is(code::DISK_FULL) => store::Store::unwritable(&layout, e),
            // Named by the repository folder, not the lock file the store tried first.
            Err(e) if e.is(code::REPOSITORY_READ_ONLY) => {
                let why = db::unwritable_reason(&layout.catalog()).unwrap_or(e);
                store::Store::unwritable(&layout, why)
            }
            Err(e) => return Err(e),
        };
        let catalog = layout.catalog();
        let fresh = std::fs::metadata(&catalog).map(|m| m.len() == 0).unwrap_or(true);
        let may_create = fresh && !integrity::has_object_files(&layout.objects())?;
        let mut unwritable = store.why_unwritable().cloned();
        let conn = match &unwritable {
            Some(why) => db::open_read_only(&catalog, why)?,
            None => match db::open(&catalog, may_create) {
                Ok(conn) => conn,
                Err(e) => match db::unwritable_reason(&catalog) {
                    // A full disk or a read-only mount: the library can still be read.
                    Some(why) if !e.is(code::CATALOG_DAMAGED) => {
                        let conn = db::open_read_only(&catalog, &why).map_err(|_| e)?;
                        unwritable = Some(why);
                        conn
                    }
                    _ => return Err(e),
                },
            },
        };
        let engine = Engine {
            layout,
            store,
            conn: Mutex::new(conn),
            running: Mutex::new(HashMap::new()),
            idle: Default::default(),
            retired: Default::default(),
            unwritable,
            team: None,
        };
        if engine.unwritable.is_some() {
            return Ok(engine); // recovery writes; it runs on the next open that can
        }
        let live = engine.store.live_sessions()?;
        jobs::mark_interrupted(&engine.db(), &live, None)?;
        let died = engine.store.reap_dead_sessions()? > 0;
        if died {
            // Only then: a process that exits normally leaves no orphan, and the scan holds the write lock.
            engine.remove_orphan_objects()?;
        }
        engine.settle(durability::SETTLE_AFTER)?;
        // Exports and profile imports of processes that died: finished or undone, never left half.
        engine.settle_exports(&live)?;
        engine.settle_provisions(&live)?;
        engine.discard_unfinished_staging()?;
        // Objects an earlier boot left unsettled are re-hashed by the `recover` job
        // (`recovery_work`), which the app runs in the background and the CLI before its command.
        Ok(engine)
    }

    /// Open team repository `repo`: its catalog on PostgreSQL (this build's schema, the repository
    /// this desktop connected to; nothing is migrated) and this desktop's part of it under
    /// [`team::cache_dir`]. Its own dead jobs are marked interrupted and its staging cleared; of other
    /// desktops' jobs, those whose process is gone (its session's lock is free on the server) are
    /// marked interrupted too ([`jobs::mark_abandoned`]).
    pub fn open_team(repo: &team::config::TeamRepo, secrets: &team::TeamSecrets) -> Result<Engine> {
        let (client, schema) = team::open_catalog(repo, secrets)?;
        let bucket = team::bucket::Bucket::open(repo, &secrets.objects)?;
        let layout = DataLayout::new(team::cache_dir()?.join(&schema.id));
        let desktop = team::desktop_id(&layout.root)?;
        let store = store::Store::open_as(&layout, Some(&desktop))?;
        let connect: std::sync::Arc<dyn Fn() -> Result<postgres::Client> + Send + Sync> = {
            let (repo, secrets) = (repo.clone(), secrets.clone());
            std::sync::Arc::new(move || team::open_catalog(&repo, &secrets).map(|(client, _)| client))
        };
        // This process's session, registered and locked on the catalog connection for as long as
        // it lives (and again after a reconnect, with a fresh key if its lost connection still
        // holds the old one): how other desktops tell its jobs are alive.
        let mut client = client;
        let session = store.session().to_string();
        if team::hold_session_anew(&mut client, &session)?.is_none() {
            tracing::warn!(session, "no free session lock key; other desktops may take this process's jobs for abandoned");
        }
        let engine = Engine {
            layout,
            store,
            conn: Mutex::new(Connection::from_postgres(client, {
                let connect = connect.clone();
                Box::new(move || {
                    let mut client = connect()?;
                    if team::hold_session_anew(&mut client, &session)?.is_none() {
                        tracing::warn!(session, "no free session lock key after reconnecting");
                    }
                    Ok(client)
                })
            })),
            running: Mutex::new(HashMap::new()),
            idle: Default::default(),
            retired: Default::default(),
            unwritable: None,
            team: Some(Team {
                open: TeamOpen { name: repo.name.clone(), repository_id: schema.id },
                connect,
                listener: Mutex::new(None),
                bucket,
                desktop,
            }),
        };
        let live = engine.store.live_sessions()?;
        jobs::mark_interrupted(&engine.db(), &live, engine.desktop_id())?;
        // Other desktops' processes that died: their sessions' locks are gone from the server.
        jobs::mark_abandoned(&engine.db(), team::session_grace())?;
        engine.store.reap_dead_sessions()?;
        engine.discard_unfinished_staging()?;
        if let Some(limit) = repo.cache_limit.filter(|_| team::cache::due(&engine.layout().objects())) {
            // At most once an hour (a walk of the whole cache); a cache that cannot be pruned now
            // is no reason not to open.
            if let Err(e) = engine.prune_cache(limit, team::cache::IN_USE) {
                tracing::warn!(code = %e.code, error = %e.text, "the team cache could not be pruned");
            }
        }
        Ok(engine)
    }

    /// The team repository this engine is open on; `None` for the desktop's own.
    pub fn team(&self) -> Option<&TeamOpen> {
        self.team.as_ref().map(|t| &t.open)
    }

    /// This desktop's id in the team repository (the prefix of its sessions), when this is one.
    pub(crate) fn desktop_id(&self) -> Option<&str> {
        self.team.as_ref().map(|t| t.desktop.as_str())
    }

    /// The team repository's bucket, when this is one.
    pub(crate) fn bucket(&self) -> Option<&team::bucket::Bucket> {
        self.team.as_ref().map(|t| &t.bucket)
    }

    /// The stored file with these bytes, to read: the object itself in a local repository; on a
    /// team repository this desktop's cached copy, fetched from the bucket first when it has none
    /// (by ranged reads, resumed after a cut, and renamed into the cache only when its SHA-256 is
    /// its name — so a cached object is valid for ever).
    pub(crate) fn object_file(&self, sha256: &str, cancel: &CancelToken, progress: &mut dyn FnMut(u64)) -> Result<std::path::PathBuf> {
        let path = self.layout.object_path(sha256);
        let Some(bucket) = self.bucket() else { return Ok(path) };
        if let Ok(f) = std::fs::File::open(&path) {
            // Used now: the prune's "least recently used" must not rest on atime (relatime, noatime).
            let _ = f.set_modified(std::time::SystemTime::now());
            return Ok(path);
        }
        let size: i64 = self
            .db()
            .query_row("SELECT size FROM objects WHERE sha256 = ?1", [sha256], |r| r.get(0))
            .optional()?
            .ok_or_else(|| Error::not_found("stored object", sha256))?;
        let (_lock, partial) = self.store.fetching(sha256)?;
        if path.exists() {
            return Ok(path); // another process of this desktop fetched it meanwhile
        }
        let got = bucket.fetch(sha256, size as u64, &partial, cancel, progress)?;
        if got != sha256 {
            let _ = std::fs::remove_file(&partial);
            return Err(bucket.damaged(sha256, &format!("what it gave back has SHA-256 {got}")));
        }
        self.store.commit(&partial, sha256)
    }

    /// Why this repository is open only for reading (a full disk, a read-only mount), when it is.
    pub fn why_read_only(&self) -> Option<&Error> {
        self.unwritable.as_ref()
    }

    pub fn layout(&self) -> &DataLayout {
        &self.layout
    }

    pub(crate) fn db(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Run `f` in one write transaction (BEGIN IMMEDIATE).
    pub(crate) fn write<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        self.check_writable()?;
        db::write(&mut self.db(), f)
    }

    /// Refuse with the reason when the repository is open only for reading (a job that would
    /// walk a home first asks before it starts).
    pub(crate) fn check_writable(&self) -> Result<()> {
        match &self.unwritable {
            Some(why) => Err(why.clone()),
            None => Ok(()),
        }
    }

    /// Wait until something may have changed, then return; the caller reads [`Engine::change_stamp`].
    /// A local repository has no one to tell it: this waits `local_poll`. A team repository's
    /// catalog NOTIFYs every change (its triggers), which a connection of its own LISTENs for: this
    /// returns 250 ms after the first notification (so a burst is read once), or after 30 s without
    /// one (a safety net), instead of polling the shared server twice a second. A lost listener is
    /// made again on the next call, after a pause (5 s while the server is away).
    pub fn wait_for_change(&self, local_poll: std::time::Duration) {
        use postgres::fallible_iterator::FallibleIterator;
        use std::time::Duration;
        let Some(team) = &self.team else {
            std::thread::sleep(local_poll);
            return;
        };
        let mut listener = team.listener.lock().unwrap_or_else(|p| p.into_inner());
        if listener.is_none() {
            match (team.connect)().and_then(|mut c| {
                c.batch_execute("LISTEN imagesmith").map_err(|e| team::catalog::query_error("team catalog", &e))?;
                Ok(c)
            }) {
                Ok(c) => {
                    // What changed before LISTEN took effect raised no notification here: back to
                    // the caller at once, whose next stamp read sees it.
                    *listener = Some(c);
                    return;
                }
                Err(e) => {
                    tracing::warn!(code = %e.code, "team catalog not listened to; trying again");
                    drop(listener);
                    std::thread::sleep(Duration::from_secs(5));
                    return;
                }
            }
        }
        let lost = {
            let client = listener.as_mut().expect("listening");
            let mut notes = client.notifications();
            let first = notes.timeout_iter(Duration::from_secs(30)).next();
            match first {
                Ok(Some(_)) => {
                    std::thread::sleep(Duration::from_millis(250));
                    // What came meanwhile is read with the same stamp.
                    while let Ok(Some(_)) = notes.iter().next() {}
                    None
                }
                Ok(None) => {
                    // A quiet half-minute: settle other desktops' jobs whose process is gone, so an
                    // open window does not show them running until someone opens the repository.
                    drop(notes);
                    if let Err(e) = jobs::mark_abandoned(&self.db(), team::session_grace()) {
                        tracing::warn!(code = %e.code, error = %e.text, "abandoned jobs not settled");
                    }
                    None
                }
                Err(e) => Some(e),
            }
        };
        if let Some(e) = lost {
            tracing::warn!(error = %e, "team catalog listener lost");
            *listener = None;
            drop(listener);
            std::thread::sleep(Duration::from_secs(1));
        }
    }

    pub fn change_stamp(&self) -> Result<ChangeStamp> {
        let conn = self.db();
        let mut stmt = conn.prepare_cached("SELECT name, value FROM change_counters")?;
        let mut stamp = ChangeStamp { artifacts: 0, jobs: 0, profiles: 0, gold: 0 };
        for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
            let (name, value) = row?;
            match name.as_str() {
                "artifacts" => stamp.artifacts = value,
                "jobs" => stamp.jobs = value,
                "profiles" => stamp.profiles = value,
                "gold" => stamp.gold = value,
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

    /// The exact OS releases the library holds (its release filter).
    pub fn os_releases(&self) -> Result<Vec<model::OsRelease>> {
        catalog::os_releases(&self.db())
    }

    /// One artifact with everything known of it; an answer file with its lint findings.
    pub fn get_artifact(&self, id_or_name: &str) -> Result<Artifact> {
        let mut a = catalog::get(&self.db(), id_or_name)?;
        // A stored copy that cannot be read is reported by its state; lint is left out then.
        a.lint = self.lint_artifact(&a).ok().flatten().map(|r| r.findings);
        Ok(a)
    }

    pub fn update_artifact(&self, id: i64, patch: &ArtifactPatch) -> Result<Artifact> {
        if (patch.kind.is_some() || patch.os.is_some()) && self.bucket().is_some() {
            // Detection reads the stored bytes: on a team repository they are fetched into this
            // desktop's cache first, outside the write lock every desktop shares.
            if let Some(a) = catalog::by_id(&self.db(), id)? {
                self.object_file(&a.sha256, &CancelToken::new(), &mut |_| {})?;
            }
        }
        self.write(|tx| {
            let a = catalog::by_id(tx, id)?.ok_or_else(|| Error::not_found("artifact", &id.to_string()))?;
            if patch.kind.is_some() || patch.os.is_some() {
                // Detection reads the file's name as well as its bytes: look at the stored copy
                // through a hard link named as the file was imported (removed with its folder).
                let dir = self.store.staging_dir("reclassify")?;
                let named = dir.join(catalog::name_from_file(&a.original_name));
                let looked = std::fs::hard_link(self.store.object_path(&a.sha256), &named)
                    .map_err(|e| Error::io(&named, &e, true))
                    .and_then(|()| import::reclassify(&named, &a, patch.kind, patch.os.as_deref()));
                let _ = std::fs::remove_dir_all(&dir);
                let (kind, os, distro) = looked?;
                catalog::reclassify(tx, &a, kind, os, distro.as_deref())?;
            }
            catalog::update(tx, id, patch)?;
            catalog::by_id(tx, id)?.ok_or_else(|| Error::not_found("artifact", &id.to_string()))
        })
    }

    /// Delete an artifact; refused with `in_use` while others name it as their image. The rows go in
    /// one transaction; the object file goes after it committed, and only when no row names it any
    /// more. A crash in between leaves an orphan file (removed on the next open), never a row
    /// without its object.
    pub fn delete_artifact(&self, id: i64) -> Result<Artifact> {
        let mut unreferenced = None;
        let a = self.write(|tx| {
            let a = catalog::by_id(tx, id)?.ok_or_else(|| Error::not_found("artifact", &id.to_string()))?;
            unreferenced = catalog::delete(tx, &a)?;
            deletions::record(tx, deletions::DeletedKind::Artifact, &a.name, Some(&a.sha256))?;
            failpoint::failpoint("delete.before_commit");
            Ok(a)
        })?;
        failpoint::failpoint("delete.after_commit");
        if let Some(sha) = unreferenced {
            // The delete has happened; a file that cannot be removed now is an orphan that verify
            // (or the next open after a crash) removes, so it is not reported as a failed delete.
            let _ = self.remove_unreferenced_object(&sha);
        }
        Ok(a)
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

    pub(crate) fn register_running(&self, id: i64, token: &CancelToken) {
        self.running.lock().unwrap_or_else(|p| p.into_inner()).insert(id, token.clone());
    }

    pub(crate) fn unregister_running(&self, id: i64) {
        self.running.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
        self.idle.notify_all();
    }

    /// Stop taking jobs, because the window opens another repository instead: refused (and
    /// nothing changed) while a job runs here; a job started at the same moment is refused
    /// instead (see [`Engine::spawn`]), so none is left running on a repository nobody shows.
    pub fn retire(&self) -> Result<()> {
        use std::sync::atomic::Ordering::SeqCst;
        self.retired.store(true, SeqCst);
        if self.running_jobs().is_empty() {
            return Ok(());
        }
        self.retired.store(false, SeqCst);
        Err(Error::new(
            code::IN_USE,
            "Jobs are running on the repository open now.",
            "Another repository can be opened in the window only when none is running.",
            "Wait for them to finish (or cancel them), then open the other repository again.",
        ))
    }

    pub(crate) fn is_retired(&self) -> bool {
        self.retired.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The jobs running in this process now, oldest first (the app asks before it quits).
    pub fn running_jobs(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self.running.lock().unwrap_or_else(|p| p.into_inner()).keys().copied().collect();
        ids.sort_unstable();
        ids
    }

    /// Ask every job running in this process to stop (each ends as it does on Cancel).
    pub fn cancel_all(&self) {
        for token in self.running.lock().unwrap_or_else(|p| p.into_inner()).values() {
            token.cancel();
        }
    }

    /// Block until no job runs in this process: the app quits once its jobs are done.
    pub fn wait_idle(&self) {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        while !running.is_empty() {
            running = self.idle.wait(running).unwrap_or_else(|p| p.into_inner());
        }
    }
}
