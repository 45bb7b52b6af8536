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
use crate::jobs::{self, JobProgress};
use crate::pipeline::{watch, Counter, MeteredReader, MeteredWriter};
use crate::progress::Meter;
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
}

fn verify_failed(t: &Target, path: &RemotePath, what: String) -> Error {
    Error::new(
        code::REMOTE_VERIFY_FAILED,
        format!("The file uploaded to {} does not match the export: {what}.", t.url(path)),
        "The server stored it incompletely or changed it (a full disk, a quota, a proxy rewriting content).",
        "Export again; if it keeps failing, check the server's free space and anything between this machine and the server.",
    )
}

/// Start a new phase of the job with its own byte counter (compressing, uploading, verifying).
fn next_phase(meter: &mut Meter, phase: &str, total: u64) {
    let item = std::mem::take(&mut meter.progress.item_path);
    *meter = Meter::new(meter.progress.job_id, 1, total);
    meter.progress.item_path = item;
    meter.progress.item_bytes_total = total;
    meter.progress.phase = phase.into();
}

impl Engine {
    /// Export a profile to a saved file server, as a job. Before the job starts, the server is
    /// reached and logged in to, so `secret_required`, `host_key_unknown`, `host_key_mismatch`,
    /// `auth_failed`, `connection_failed` and `tls_failed` come back at once, without a job (the
    /// app asks and calls again). Nothing is left on the server or in staging on failure or cancel.
    pub fn export_profile_to_server(
        &self,
        req: &ServerExportRequest,
        secret: Option<&Secret>,
        cancel: &CancelToken,
        sink: &dyn Fn(&JobProgress),
    ) -> Result<ExportReport> {
        let profile = self.get_profile(&req.profile)?;
        let target = self.target(&req.server, req.path.as_deref())?;
        let name = export::archive_name(&profile.name);
        let dest = target.base.join(&name)?;
        let url = target.url(&dest);
        {
            let mut link = self.connect(&target, secret)?;
            self.remove_leftovers(&target, link.remote.as_mut());
            link.remote.ensure_dir(&target.base)?;
        }
        let (entries, mtime) = export::plan(self, &profile, req.include_os)?;
        let total = entries.iter().map(|e| e.size).sum();
        let mut meter = self.begin_single_job("export", &url, total, cancel)?;
        meter.progress.phase = "compressing".into();
        let result = self.store.staging_dir("export").and_then(|dir| {
            let archive = dir.join(&name);
            let written = self.write_archive(&entries, mtime, &archive, cancel, &mut |done| self.tick(&mut meter, done, sink));
            let r = written.and_then(|(sha, size)| {
                    let mut link = self.connect(&target, secret)?;
                    link.remote.ensure_dir(&target.base)?;
                    let remote = link.remote.as_mut();
                    self.upload_verified(&target, remote, &archive, &sha, size, &dest, &mut meter, cancel, sink)?;
                    let sidecar = dir.join(format!("{name}.sha256"));
                    let sidecar_len = std::fs::metadata(&sidecar).map_err(|e| Error::io(&sidecar, &e, false))?.len();
                    let sidecar_sha = hex::encode(sha2::Sha256::digest(std::fs::read(&sidecar).map_err(|e| Error::io(&sidecar, &e, false))?));
                    let sidecar_dest = target.base.join(&format!("{name}.sha256"))?;
                    self.upload_verified(&target, remote, &sidecar, &sidecar_sha, sidecar_len, &sidecar_dest, &mut meter, cancel, sink)?;
                    Ok((sha, size))
                });
            let _ = std::fs::remove_dir_all(&dir);
            r
        });
        let job = self.end_single_job(&mut meter, &result, |(sha, size)| format!("exported {name} to {url} ({size} bytes, sha256 {})", &sha[..12]), sink)?;
        let (sha256, size) = result?;
        Ok(ExportReport { job, file: url, sha256, size })
    }

    fn tick(&self, meter: &mut Meter, done: u64, sink: &dyn Fn(&JobProgress)) {
        let (tell, persist) = meter.advance(0, done);
        if tell {
            sink(&meter.progress);
        }
        if persist {
            let _ = jobs::save_progress(&self.db(), &meter.progress);
        }
    }

    /// Run a transfer on a worker thread while this thread reports its progress. A stream that
    /// stopped on purpose (cancel) says so, whatever error the protocol library made of it.
    fn transfer(&self, meter: &mut Meter, counter: &Counter, sink: &dyn Fn(&JobProgress), work: impl FnOnce() -> Result<()> + Send) -> Result<()> {
        watch(counter, &mut |done| self.tick(meter, done, sink), work).map_err(|e| counter.stopped().unwrap_or(e))
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
        meter: &mut Meter,
        cancel: &CancelToken,
        sink: &dyn Fn(&JobProgress),
    ) -> Result<()> {
        let mut dir = dest.clone();
        dir.parts.pop();
        let temp = dir.join(&format!(".{}.{:08x}.part", dest.file_name(), rand::random::<u32>()))?;
        let row = self.write(|tx| {
            tx.execute(
                "INSERT INTO server_uploads (server_id, path, session, state, created_at) VALUES (?1, ?2, ?3, 'uploading', ?4)",
                rusqlite::params![t.server.id, temp.display(), self.store.session(), clock::now()],
            )?;
            Ok(tx.last_insert_rowid())
        })?;
        let result = (|| {
            next_phase(meter, "uploading", size);
            let counter = Counter::new();
            let file = std::fs::File::open(local).map_err(|e| Error::io(local, &e, false))?;
            let src = Box::new(MeteredReader::new(file, &counter, cancel));
            self.transfer(meter, &counter, sink, || remote.put(&temp, src, size))?;
            match remote.size(&temp)? {
                Some(n) if n == size => {}
                other => return Err(verify_failed(t, dest, format!("{} bytes arrived of {size}", other.unwrap_or(0)))),
            }
            next_phase(meter, "verifying", size);
            let counter = Counter::new();
            let mut back = MeteredWriter::new(std::io::sink(), &counter, cancel).hashing(&[]);
            self.transfer(meter, &counter, sink, || remote.get(&temp, &mut back))?;
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
        let sql = if settled { "DELETE FROM server_uploads WHERE id = ?1" } else { "UPDATE server_uploads SET state = 'leftover' WHERE id = ?1" };
        let _ = self.db().execute(sql, [row]);
        result
    }
}
