//! Export a profile to a saved file server as one job: compress into the repository's staging
//! area, upload to a hidden temp name with progress and cancel, check the remote size, read the
//! file back and compare its SHA-256, then rename it into place; the `.sha256` sidecar likewise.
//!
//! A failed or cancelled upload deletes its temp file; when the server went away and it cannot,
//! the temp file is recorded (`server_uploads`) and removed on the next connection to that server.

use super::{Remote, RemotePath, Target};
use crate::cancel::CancelToken;
use crate::error::{code, Error, Result};
use crate::export::{self, ExportReport};
use crate::jobs::{JobKind, JobProgress, JobSummary, Outcome};
use crate::pipeline::{watch, Counter, MeteredReader, MeteredWriter};
use crate::runner::{self, Done, ItemEnd, ItemSpec, Step, Work};
use crate::secrets::Secret;
use crate::{clock, Engine};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use std::path::Path;

/// What to export where (`export_profile_to_server`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ServerExportRequest {
    pub profile: String,
    /// Name of a saved server.
    pub server: String,
    /// A folder below the server's path, or (starting with `/`) a path replacing it. None: the
    /// server's path.
    pub path: Option<String>,
    /// Put the base OS image in the archive too (under os/).
    pub include_os: bool,
    /// As [`crate::export::ExportRequest::lint_override`].
    #[serde(default)]
    pub lint_override: Option<String>,
}

fn verify_failed(t: &Target, path: &RemotePath, what: String) -> Error {
    Error::new(
        code::REMOTE_VERIFY_FAILED,
        format!("The file uploaded to {} does not match the export: {what}.", t.url(path)),
        "The server stored it incompletely or changed it (a full disk, a quota, a proxy rewriting content).",
        "Export again; if it keeps failing, check the server's free space and anything between this machine and the server.",
    )
}

impl Engine {
    /// The server export job. Before it exists, the server is reached and logged in to, so
    /// `secret_required`, `host_key_unknown`, `host_key_mismatch`, `auth_failed`,
    /// `connection_failed` and `tls_failed` come back at once, without a job (the app asks and
    /// calls again). Nothing is left on the server or in staging on failure or cancel.
    pub fn server_export_work(&self, req: &ServerExportRequest, secret: Option<&Secret>) -> Result<ServerExportWork> {
        let profile = self.get_profile(&req.profile)?;
        let target = self.target(&req.server, req.path.as_deref())?;
        let name = export::archive_name(&profile.name, export::ArchiveFormat::TarGz);
        let dest = target.base.join(&name)?;
        let url = target.url(&dest);
        {
            let mut link = self.connect(&target, secret)?;
            self.remove_leftovers(&target, link.remote.as_mut());
            link.remote.ensure_dir(&target.base)?;
        }
        let (entries, mtime) = export::plan(self, &profile, req.include_os, req.lint_override.as_deref())?;
        Ok(ServerExportWork { target, secret: secret.cloned(), name, dest, url, entries, mtime })
    }

    /// Export a profile to a saved file server in the calling thread (the CLI).
    pub fn export_profile_to_server(
        &self,
        req: &ServerExportRequest,
        secret: Option<&Secret>,
        cancel: &CancelToken,
        sink: &(dyn Fn(&JobProgress) + Sync),
    ) -> Result<ExportReport> {
        self.run(self.server_export_work(req, secret)?, cancel, sink)
    }

    /// Run a transfer on a worker thread while this thread reports its progress. A stream that
    /// stopped on purpose (cancel) says so, whatever error the protocol library made of it.
    fn transfer(&self, step: &Step<'_>, counter: &Counter, work: impl FnOnce() -> Result<()> + Send) -> Result<()> {
        watch(counter, &mut |done| step.progress(done), work).map_err(|e| counter.stopped().unwrap_or(e))
    }

    /// Upload one local file to `dest` through a hidden temp name, verified before it is renamed
    /// into place. The temp file is recorded while it exists, so it can be removed later if the
    /// server goes away before it could be deleted.
    #[allow(clippy::too_many_arguments)]
    fn upload_verified(
        &self,
        t: &Target,
        remote: &mut dyn Remote,
        local: &Path,
        sha256: &str,
        size: u64,
        dest: &RemotePath,
        step: &Step<'_>,
    ) -> Result<()> {
        let cancel = step.cancel();
        let mut dir = dest.clone();
        dir.parts.pop();
        let temp = dir.join(&format!(".{}.{:08x}.part", dest.file_name(), rand::random::<u32>()))?;
        let row = self.write(|tx| {
            Ok(tx.query_row(
                "INSERT INTO server_uploads (server_id, path, session, state, created_at) VALUES (?1, ?2, ?3, 'uploading', ?4) RETURNING id",
                crate::db::params![t.server.id, temp.display(), self.store.session(), clock::now()],
                |r| r.get::<_, i64>(0),
            )?)
        })?;
        let result = (|| {
            step.phase_sized("uploading", size);
            let counter = Counter::new();
            let file = std::fs::File::open(local).map_err(|e| Error::io(local, &e, false))?;
            let src = Box::new(MeteredReader::new(file, &counter, cancel));
            self.transfer(step, &counter, || remote.put(&temp, src, size))?;
            match remote.size(&temp)? {
                Some(n) if n == size => {}
                other => return Err(verify_failed(t, dest, format!("{} bytes arrived of {size}", other.unwrap_or(0)))),
            }
            step.phase_sized("verifying", size);
            let counter = Counter::new();
            let mut back = MeteredWriter::new(std::io::sink(), &counter, cancel).hashing(&[]);
            self.transfer(step, &counter, || remote.get(&temp, &mut back))?;
            let read_back = back.finish().1.expect("hashing writer").sha256;
            if read_back != sha256 {
                return Err(verify_failed(t, dest, format!("it reads back with SHA-256 {read_back}, not {sha256}")));
            }
            if cancel.is_cancelled() {
                return Err(Error::cancelled());
            }
            remote.rename(&temp, dest)
        })();
        let result = result.map_err(|e| if cancel.is_cancelled() { Error::cancelled() } else { e });
        let settled = result.is_ok() || remote.delete(&temp).is_ok();
        let sql =
            if settled { "DELETE FROM server_uploads WHERE id = ?1" } else { "UPDATE server_uploads SET state = 'leftover' WHERE id = ?1" };
        let _ = self.db().execute(sql, [row]);
        result
    }
}

/// The server export job: one item, the archive — compressed into staging, then uploaded and
/// read back, then its sidecar likewise.
pub struct ServerExportWork {
    target: Target,
    secret: Option<Secret>,
    name: String,
    dest: RemotePath,
    url: String,
    entries: Vec<export::Entry>,
    mtime: i64,
}

impl Work for ServerExportWork {
    type Item = (String, u64);
    type Report = ExportReport;
    const KIND: JobKind = JobKind::ServerExport;

    fn items(&self) -> Vec<ItemSpec> {
        vec![ItemSpec::new(self.url.clone(), Some(self.entries.iter().map(|e| e.size).sum()))]
    }

    fn run_item(&self, engine: &Engine, _seq: usize, step: &Step<'_>) -> Result<Done<(String, u64)>> {
        let (target, name) = (&self.target, &self.name);
        let dir = engine.store.staging_dir("export")?;
        let result = (|| -> Result<(String, u64)> {
            if export::fetch_members(engine, &self.entries, step)? {
                step.phase_sized("compressing", self.entries.iter().map(|e| e.size).sum());
            }
            step.phase("compressing");
            let archive = dir.join(name);
            let (sha, size) =
                engine.write_archive(&self.entries, self.mtime, export::ArchiveFormat::TarGz, &archive, step.cancel(), &mut |done| {
                    step.progress(done)
                })?;
            let mut link = engine.connect(target, self.secret.as_ref())?;
            link.remote.ensure_dir(&target.base)?;
            let remote = link.remote.as_mut();
            engine.upload_verified(target, remote, &archive, &sha, size, &self.dest, step)?;
            let sidecar = dir.join(format!("{name}.sha256"));
            let sidecar_bytes = std::fs::read(&sidecar).map_err(|e| Error::io(&sidecar, &e, false))?;
            let sidecar_sha = hex::encode(sha2::Sha256::digest(&sidecar_bytes));
            let sidecar_dest = target.base.join(&format!("{name}.sha256"))?;
            engine.upload_verified(target, remote, &sidecar, &sidecar_sha, sidecar_bytes.len() as u64, &sidecar_dest, step)?;
            Ok((sha, size))
        })();
        let _ = std::fs::remove_dir_all(&dir);
        Ok(Done::new(Outcome::Uploaded, result?))
    }

    fn summary(&self, ends: &[ItemEnd<(String, u64)>]) -> String {
        export::export_summary(&self.name, Some(&self.url), ends)
    }

    fn report(self, _engine: &Engine, job: JobSummary, ends: Vec<ItemEnd<(String, u64)>>) -> Result<ExportReport> {
        let (sha256, size) = runner::single_result(ends)?;
        Ok(ExportReport { job, file: self.url, sha256, size })
    }
}
