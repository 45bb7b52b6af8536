//! Export a profile as one reproducible, checksummed tar.gz: profile.json, the members in drivers/,
//! boot/, custom/, unattend/ (and os/ when asked), a SHA256SUMS over every file, and a `.sha256`
//! sidecar next to the archive. Compressed on every core (gzp) into plain gzip that GNU tar reads;
//! the same writer makes gold exports, as tar.gz or zip.

use crate::cancel::CancelToken;
use crate::error::{code, Error, Result};
use crate::jobs::{JobKind, JobProgress, JobSummary, Outcome};
use crate::model::{ArtifactRef, Kind};
use crate::pipeline::{watch, Counter, Digests, MeteredReader, MeteredWriter};
use crate::profile::Profile;
use crate::runner::{self, Done, ItemEnd, ItemSpec, Step, Work};
use crate::Engine;
use gzp::deflate::Gzip;
use gzp::par::compress::{ParCompress, ParCompressBuilder};
use gzp::{Compression, ZWriter};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::path::{Path, PathBuf};

/// Archive format written into profile.json; bump when the layout changes.
pub const FORMAT: &str = "imagesmith-profile/1";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ExportRequest {
    pub profile: String,
    /// Folder the archive and its sidecar are written to.
    pub dir: PathBuf,
    /// Put the base OS image in the archive too (under os/).
    pub include_os: bool,
    /// Export although the profile's answer files have lint errors, for this reason (recorded in
    /// profile.json with the errors).
    #[serde(default)]
    pub lint_override: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ExportReport {
    pub job: JobSummary,
    /// The archive written (a path, or a URL for remote servers).
    pub file: String,
    /// SHA-256 of the archive, as in its `.sha256` sidecar.
    pub sha256: String,
    pub size: u64,
}

/// The container an export writes: tar.gz (modes, times, symlinks and hardlinks kept exactly) or
/// zip (for Windows and tools that read nothing else; a hardlink's second name is a second copy,
/// and times are rounded to the 2 s zip keeps).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum ArchiveFormat {
    #[default]
    #[serde(rename = "tar.gz")]
    TarGz,
    #[serde(rename = "zip")]
    Zip,
}

impl ArchiveFormat {
    /// The file name ending, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            ArchiveFormat::TarGz => "tar.gz",
            ArchiveFormat::Zip => "zip",
        }
    }
}

/// One member of the archive.
pub(crate) struct Entry {
    pub(crate) path: String,
    pub(crate) source: Source,
    pub(crate) size: u64,
    pub(crate) sha256: String,
    /// Its own mode and time (a gold image's entries); None: 0644 and the archive's time.
    pub(crate) meta: Option<(u32, i64)>,
}

pub(crate) enum Source {
    /// A stored object, re-hashed as it is read: `name` is its artifact's, for `object_damaged`.
    Object {
        path: PathBuf,
        name: String,
    },
    Bytes(Vec<u8>),
    /// A folder (its mode and time in `meta`).
    Dir,
    /// A symbolic link to this target, written as it is.
    Symlink(String),
    /// A second name of the member at this archive path.
    Hardlink(String),
}

impl Entry {
    /// A generated file (a manifest, SHA256SUMS) with its digest.
    pub(crate) fn bytes(path: &str, bytes: Vec<u8>) -> Entry {
        Entry {
            path: path.into(),
            size: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(&bytes)),
            source: Source::Bytes(bytes),
            meta: None,
        }
    }
}

/// A file name safe inside the archive: no separators, no leading dot, no control characters.
fn safe_file_name(name: &str) -> String {
    let cleaned: String = name.chars().map(|c| if c == '/' || c == '\\' || c.is_control() { '_' } else { c }).collect();
    let cleaned = cleaned.trim_start_matches('.').trim().to_string();
    if cleaned.is_empty() {
        "file".into()
    } else {
        cleaned
    }
}

/// `<name>.tar.gz` (or `.zip`) as a file name.
pub fn archive_name(name: &str, format: ArchiveFormat) -> String {
    format!("{}.{}", safe_file_name(name), format.extension())
}

/// The manifest and the list of files, in archive order, for a profile.
pub(crate) fn plan(engine: &Engine, p: &Profile, include_os: bool, lint_override: Option<&str>) -> Result<(Vec<Entry>, i64)> {
    let base = engine.get_artifact(&p.base.id.to_string())?;
    let lint_override = engine.lint_gate(p, &base, lint_override)?;
    let mut entries: Vec<Entry> = Vec::new();
    let mut members_json = Vec::new();
    let mut used = std::collections::HashSet::new();
    let object = |path: &str, name: &str, size: u64, sha: &str| Entry {
        path: path.to_string(),
        source: Source::Object { path: engine.layout().object_path(sha), name: name.to_string() },
        size,
        sha256: sha.to_string(),
        meta: None,
    };
    let mut add = |entries: &mut Vec<Entry>, folder: &str, a: &ArtifactRef, size: u64, sha: &str| -> String {
        let mut path = format!("{folder}/{}", safe_file_name(&a.name));
        if !used.insert(path.to_ascii_lowercase()) {
            path = format!("{folder}/{}-{}", a.id, safe_file_name(&a.name));
            used.insert(path.to_ascii_lowercase());
        }
        entries.push(object(&path, &a.name, size, sha));
        path
    };
    let base_file = include_os.then(|| add(&mut entries, "os", &p.base, base.size, &base.sha256));
    for m in &p.members {
        let file = add(&mut entries, m.role.folder(), &m.artifact, m.size, &m.sha256);
        // A bundle goes with its BUNDLESIG, as `<file>.asc`: an import takes it only with it.
        let signature = match m.kind {
            Kind::Bundle => {
                let sig = bundle_signature_of(engine, &m.artifact)?;
                let path = format!("{file}.asc");
                if !entries.iter().any(|e| e.path.eq_ignore_ascii_case(&path)) {
                    entries.push(object(&path, &sig.name, sig.size, &sig.sha256));
                }
                Some(path)
            }
            _ => None,
        };
        members_json.push(json!({
            "name": m.artifact.name, "kind": m.kind, "os": m.os, "role": m.role,
            "sha256": m.sha256, "size": m.size, "file": file, "signature": signature,
        }));
    }
    let manifest = json!({
        "format": FORMAT,
        "name": p.name,
        "description": p.description,
        "imagesmith_version": crate::VERSION,
        "base": {
            "name": base.name, "kind": base.kind, "os": base.os, "distro": base.distro, "version": base.version,
            "sha256": base.sha256, "md5": base.md5, "size": base.size, "volume_id": base.detected.get("volume_id"),
            "included": include_os, "file": base_file,
        },
        "members": members_json,
        "install_options": p.options,
        // The Windows edition to install (the image index in install.wim), when one is chosen.
        "edition": p.edition.as_ref().map(|e| json!({"index": e.index, "name": e.name, "edition_id": e.edition_id})),
    });
    let mut manifest = manifest;
    if let Some(o) = lint_override {
        // Exported over lint errors: why, and which, for whoever installs from the archive.
        manifest["lint_override"] = o;
    }
    entries.push(Entry::bytes("profile.json", serde_json::to_vec_pretty(&manifest).expect("serialisable")));
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    entries.push(sha256sums(&entries));
    // Every entry carries the profile's last change as its time: the same profile gives the same bytes.
    let mtime =
        time::OffsetDateTime::parse(&p.updated_at, &time::format_description::well_known::Rfc3339).map(|t| t.unix_timestamp()).unwrap_or(0);
    Ok((entries, mtime))
}

/// The `.asc` a bundle's signature was verified from at import, as the library keeps it (a
/// `bundle_sig` artifact of that name; the newest when there are several).
fn bundle_signature_of(engine: &Engine, bundle: &ArtifactRef) -> Result<crate::model::Artifact> {
    let a = engine.get_artifact(&bundle.id.to_string())?;
    let file = a.verified_signature_file().map(str::to_string);
    let missing = |why: String| {
        Error::new(
            code::UNSIGNED_BUNDLE,
            format!("The bundle {} cannot be exported without its signature: {why}.", a.name),
            "A bundle is accepted only with its BUNDLESIG; an archive without it could not be imported anywhere.",
            "Import the bundle's .asc again (with the bundle), then export the profile again.",
        )
    };
    let Some(file) = file else { return Err(missing("it was imported before bundles were checked, with no signature recorded".into())) };
    let query = crate::model::ArtifactQuery { kind: Some(Kind::BundleSig), ..Default::default() };
    let sig = engine.list_artifacts(&query)?.into_iter().filter(|s| s.original_name == file).max_by_key(|s| s.id);
    sig.ok_or_else(|| missing(format!("{file} is not in the library any more")))
}

/// Exports are written into an existing folder.
pub(crate) fn export_folder(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    Err(Error::new(
        code::FILE_NOT_FOUND,
        format!("The folder {} does not exist.", dir.display()),
        "Exports are written into an existing folder.",
        "Create the folder or choose another one, then export again.",
    ))
}

/// SHA256SUMS over every file member (folders and links have no bytes of their own; a hardlink's
/// are its first name's), in archive order, as `sha256sum -c` reads it.
pub(crate) fn sha256sums(entries: &[Entry]) -> Entry {
    let mut sums = String::new();
    for e in entries.iter().filter(|e| matches!(e.source, Source::Object { .. } | Source::Bytes(_))) {
        sums.push_str(&format!("{}  {}\n", e.sha256, e.path));
    }
    Entry::bytes("SHA256SUMS", sums.into_bytes())
}

fn export_failed(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::new(
        code::WRITE_FAILED,
        format!("Could not write the export {}: {e}.", path.display()),
        "The folder may be read-only, on a full or disconnected disk, or removed while the export ran.",
        "Choose a folder you can write to with enough free space, and export again.",
    )
}

impl Engine {
    /// The export job for `req`: refused before any job exists when the profile or the folder is
    /// not there. Nothing is left behind on failure or cancel.
    pub fn export_work(&self, req: &ExportRequest) -> Result<ExportWork> {
        let profile = self.get_profile(&req.profile)?;
        export_folder(&req.dir)?;
        let (entries, mtime) = plan(self, &profile, req.include_os, req.lint_override.as_deref())?;
        Ok(ExportWork::new(&req.dir, &profile.name, entries, mtime, ArchiveFormat::TarGz))
    }

    /// Export a profile into a folder in the calling thread (the CLI).
    pub fn export_profile(&self, req: &ExportRequest, cancel: &CancelToken, sink: &(dyn Fn(&JobProgress) + Sync)) -> Result<ExportReport> {
        self.run(self.export_work(req)?, cancel, sink)
    }

    /// Write the archive to `target` and its `.sha256` sidecar, so that both appear or neither does,
    /// even when the process dies: both are written under hidden `.part` names recorded in
    /// `export_files` first, then the archive is renamed into place, then the sidecar; the next open
    /// finishes or undoes what a dead process left ([`Engine::settle_exports`]). Each stored object
    /// is re-hashed as it is read (`object_damaged` when it no longer matches); the archive is hashed
    /// as it is written, so the sidecar needs no second read. The tar and gzip work runs on a helper
    /// thread while this one reports `progress`.
    pub(crate) fn write_archive(
        &self,
        entries: &[Entry],
        mtime: i64,
        format: ArchiveFormat,
        target: &Path,
        cancel: &CancelToken,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(String, u64)> {
        // On a team repository the members come from this desktop's cache, fetched into it first.
        if self.bucket().is_some() {
            for e in entries.iter().filter(|e| matches!(e.source, Source::Object { .. })) {
                self.object_file(&e.sha256, cancel, &mut |_| {})?;
            }
        }
        let dir = target.parent().expect("archive in a folder");
        let file_name = target.file_name().expect("file name").to_string_lossy().into_owned();
        let tag = rand::random::<u32>();
        let part = dir.join(format!(".{file_name}.{tag:08x}.part"));
        let sidecar = dir.join(format!("{file_name}.sha256"));
        let sidecar_part = dir.join(format!(".{file_name}.sha256.{tag:08x}.part"));
        let row = self.db().query_row(
            "INSERT INTO export_files (session, archive_part, archive, sidecar_part, sidecar, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
            crate::db::params![
                self.store.session(),
                path_text(&part)?,
                path_text(target)?,
                path_text(&sidecar_part)?,
                path_text(&sidecar)?,
                crate::clock::now()
            ],
            |r| r.get::<_, i64>(0),
        )?;
        let result = (|| {
            let read = Counter::new();
            let d = watch(&read, progress, || write_format(format, entries, mtime, &part, &read, cancel))?;
            std::fs::write(&sidecar_part, format!("{}  {file_name}\n", d.sha256)).map_err(|e| export_failed(&sidecar, e))?;
            crate::failpoint::failpoint("export.before_rename");
            std::fs::rename(&part, target).map_err(|e| export_failed(target, e))?;
            crate::failpoint::failpoint("export.between_renames");
            Ok((d.sha256, d.size))
        })();
        match result {
            Ok(done) => {
                // The archive is in place: the sidecar follows it, now or (should this fail) on the next open.
                std::fs::rename(&sidecar_part, &sidecar).map_err(|e| export_failed(&sidecar, e))?;
                let _ = self.db().execute("DELETE FROM export_files WHERE id = ?1", [row]);
                Ok(done)
            }
            Err(e) => {
                let _ = std::fs::remove_file(&part);
                let _ = std::fs::remove_file(&sidecar_part);
                let _ = self.db().execute("DELETE FROM export_files WHERE id = ?1", [row]);
                Err(e)
            }
        }
    }

    /// Finish what exports of processes that died left in users' folders: a temp archive still
    /// there means nothing appeared, so both temp files are removed; a temp archive gone means the
    /// archive was renamed into place, so its sidecar is renamed after it. Returns the temp files
    /// removed. A folder that cannot be reached now (an unmounted disk) keeps its row for next time.
    /// `live`: the sessions whose process is alive, as the open just found them.
    pub(crate) fn settle_exports(&self, live: &std::collections::HashSet<String>) -> Result<usize> {
        let rows: Vec<(i64, String, String, String, String)> = {
            let conn = self.db();
            let mut stmt = conn.prepare("SELECT id, session, archive_part, sidecar_part, sidecar FROM export_files")?;

            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?.collect::<crate::db::SqlResult<_>>()?
        };
        let mut removed = 0;
        for (id, session, part, sidecar_part, sidecar) in rows {
            if live.contains(&session) {
                continue; // an export running right now
            }
            let (part, sidecar_part) = (PathBuf::from(part), PathBuf::from(sidecar_part));
            let settled = if part.exists() {
                let mut gone = |p: &Path| match std::fs::remove_file(p) {
                    Ok(()) => {
                        removed += 1;
                        true
                    }
                    Err(e) => e.kind() == std::io::ErrorKind::NotFound,
                };
                gone(&part) & gone(&sidecar_part)
            } else if sidecar_part.exists() {
                std::fs::rename(&sidecar_part, &sidecar).is_ok()
            } else {
                true
            };
            if settled {
                self.db().execute("DELETE FROM export_files WHERE id = ?1", [id])?;
            }
        }
        Ok(removed)
    }
}

/// A path as the catalog stores it: exports go to folders with UTF-8 names.
fn path_text(p: &Path) -> Result<&str> {
    p.to_str().ok_or_else(|| {
        Error::new(
            code::INVALID_ARGUMENT,
            format!("The path {} is not valid UTF-8.", p.display()),
            "Imagesmith records where an export writes so it can clean up after a crash, and needs a readable name for that.",
            "Choose a folder whose name is plain text.",
        )
    })
}

/// The export job: one item, the archive.
pub struct ExportWork {
    target: PathBuf,
    name: String,
    entries: Vec<Entry>,
    mtime: i64,
    format: ArchiveFormat,
}

impl ExportWork {
    /// The archive `<name>.tar.gz` (or `.zip`) in `dir` made of `entries` (what profile and gold
    /// exports share).
    pub(crate) fn new(dir: &Path, name: &str, entries: Vec<Entry>, mtime: i64, format: ArchiveFormat) -> ExportWork {
        let file = archive_name(name, format);
        ExportWork { target: dir.join(&file), name: file, entries, mtime, format }
    }
}

/// The member bytes an archive reads: in a zip a hardlink's second name is read again.
fn bytes_to_read(entries: &[Entry], format: ArchiveFormat) -> u64 {
    let sizes: std::collections::HashMap<&str, u64> = entries.iter().map(|e| (e.path.as_str(), e.size)).collect();
    entries
        .iter()
        .map(|e| match (&e.source, format) {
            (Source::Hardlink(first), ArchiveFormat::Zip) => sizes.get(first.as_str()).copied().unwrap_or(0),
            _ => e.size,
        })
        .sum()
}

impl Work for ExportWork {
    type Item = (String, u64);
    type Report = ExportReport;
    const KIND: JobKind = JobKind::Export;

    fn items(&self) -> Vec<ItemSpec> {
        vec![ItemSpec::new(self.target.display().to_string(), Some(bytes_to_read(&self.entries, self.format)))]
    }

    fn run_item(&self, engine: &Engine, _seq: usize, step: &Step<'_>) -> Result<Done<(String, u64)>> {
        if fetch_members(engine, &self.entries, step)? {
            step.phase_sized("compressing", bytes_to_read(&self.entries, self.format));
        }
        step.phase("compressing");
        let written =
            engine.write_archive(&self.entries, self.mtime, self.format, &self.target, step.cancel(), &mut |done| step.progress(done))?;
        Ok(Done::new(Outcome::Exported, written))
    }

    fn summary(&self, ends: &[ItemEnd<(String, u64)>]) -> String {
        export_summary(&self.name, None, ends)
    }

    fn report(self, _engine: &Engine, job: JobSummary, ends: Vec<ItemEnd<(String, u64)>>) -> Result<ExportReport> {
        let (sha256, size) = runner::single_result(ends)?;
        Ok(ExportReport { job, file: self.target.display().to_string(), sha256, size })
    }
}

/// "exported web.tar.gz (… bytes, sha256 …)", or the item's failure, for folder and server exports.
pub(crate) fn export_summary(name: &str, to: Option<&str>, ends: &[ItemEnd<(String, u64)>]) -> String {
    match ends.first() {
        Some(ItemEnd { value: Some((sha, size)), .. }) => {
            let to = to.map(|u| format!(" to {u}")).unwrap_or_default();
            format!("exported {name}{to} ({size} bytes, sha256 {})", &sha[..12.min(sha.len())])
        }
        Some(ItemEnd { error: Some(e), .. }) => e.text.clone(),
        _ => "cancelled".into(),
    }
}

/// What a writer puts in the archive, in order: each entry's parent folders not listed themselves
/// first (0755, the archive's time), then the entry with its own mode and time; a folder once.
enum Member<'a> {
    Dir { path: String, mode: u32, when: i64 },
    Entry { e: &'a Entry, mode: u32, when: i64 },
}

/// Calls `each` with the members of `entries` in archive order (what tar.gz and zip share).
fn members(entries: &[Entry], mtime: i64, mut each: impl FnMut(Member<'_>) -> Result<()>) -> Result<()> {
    let mut folders = std::collections::BTreeSet::new();
    for e in entries {
        let mut parents: Vec<&str> = Vec::new();
        let mut at = e.path.as_str();
        while let Some((folder, _)) = at.rsplit_once('/') {
            parents.push(folder);
            at = folder;
        }
        for folder in parents.into_iter().rev() {
            if folders.insert(folder.to_string()) {
                each(Member::Dir { path: folder.to_string(), mode: 0o755, when: mtime })?;
            }
        }
        let (mode, when) = e.meta.unwrap_or((0o644, mtime));
        if matches!(e.source, Source::Dir) {
            if folders.insert(e.path.clone()) {
                each(Member::Dir { path: e.path.clone(), mode, when })?;
            }
            continue;
        }
        each(Member::Entry { e, mode, when })?;
    }
    Ok(())
}

/// A member's bytes as they are read into the archive: counted into `read`, stopped by `cancel`,
/// and a stored object re-hashed on the way (`object_damaged`, `object_missing`).
fn member_reader<'a>(e: &'a Entry, read: &Counter, cancel: &CancelToken) -> Result<Box<dyn std::io::Read + 'a>> {
    Ok(match &e.source {
        Source::Bytes(b) => Box::new(MeteredReader::new(b.as_slice(), read, cancel)),
        Source::Object { path, name } => {
            let file = File::open(path).map_err(|_| crate::store::object_missing(&e.sha256, name))?;
            Box::new(MeteredReader::new(std::io::BufReader::with_capacity(1 << 20, file), read, cancel).expecting(name, &e.sha256, e.size))
        }
        Source::Dir | Source::Symlink(_) | Source::Hardlink(_) => Box::new(std::io::empty()),
    })
}

/// On a team repository, bring the members this desktop's cache lacks from the bucket first: a
/// phase of its own, sized by what is fetched, so a large image shows its progress. Whether
/// anything was fetched (the caller sizes its next phase again then).
pub(crate) fn fetch_members(engine: &Engine, entries: &[Entry], step: &Step<'_>) -> Result<bool> {
    if engine.bucket().is_none() {
        return Ok(false);
    }
    let mut seen = std::collections::HashSet::new();
    let missing: Vec<&Entry> = entries
        .iter()
        .filter(|e| matches!(e.source, Source::Object { .. }) && seen.insert(e.sha256.as_str()))
        .filter(|e| !engine.layout().object_path(&e.sha256).exists())
        .collect();
    if missing.is_empty() {
        return Ok(false);
    }
    step.phase_sized("fetching", missing.iter().map(|e| e.size).sum());
    let mut before = 0;
    for e in missing {
        engine.object_file(&e.sha256, step.cancel(), &mut |done| step.progress(before + done))?;
        before += e.size;
    }
    Ok(true)
}

/// The archive of `entries` into `part` in `format`; the digests of the file written. Member bytes
/// read are counted into `read`. On error `part` may be left for the caller to remove.
fn write_format(
    format: ArchiveFormat,
    entries: &[Entry],
    mtime: i64,
    part: &Path,
    read: &Counter,
    cancel: &CancelToken,
) -> Result<Digests> {
    match format {
        ArchiveFormat::TarGz => tar_gz(entries, mtime, part, read, cancel),
        ArchiveFormat::Zip => zip_file(entries, mtime, part, read, cancel),
    }
}

/// The tar.gz of `entries` into `part`, compressed on every core; the digests of the bytes written.
fn tar_gz(entries: &[Entry], mtime: i64, part: &Path, read: &Counter, cancel: &CancelToken) -> Result<Digests> {
    // A stop on purpose (cancel, a damaged object) wins over the write error it shows up as.
    let failed = |e: &dyn std::fmt::Display| read.stopped().unwrap_or_else(|| export_failed(part, e));
    let file = File::create(part).map_err(|e| export_failed(part, e))?;
    // Cancel is checked on the read side only: gzp's Drop unwraps the end of its writer thread, so
    // the archive writer must not fail on purpose.
    let out = MeteredWriter::new(file, &Counter::new(), &CancelToken::new()).hashing(&[]);
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let gz: ParCompress<Gzip, MeteredWriter<File>> = ParCompressBuilder::new()
        .num_threads(threads)
        .map_err(|e| export_failed(part, e))?
        .compression_level(Compression::new(6))
        .buffer_size(1 << 20)
        .map_err(|e| export_failed(part, e))?
        .from_writer(out);
    let mut tar = tar::Builder::new(gz);
    members(entries, mtime, |m| {
        let appended = match m {
            Member::Dir { path, mode, when } => {
                let mut h = header(tar::EntryType::Directory, mode, 0, when);
                tar.append_data(&mut h, format!("{path}/"), std::io::empty())
            }
            Member::Entry { e, mode, when } => match &e.source {
                Source::Symlink(target) => {
                    let mut h = header(tar::EntryType::Symlink, 0o777, 0, when);
                    tar.append_link(&mut h, &e.path, target)
                }
                Source::Hardlink(first) => {
                    let mut h = header(tar::EntryType::Link, mode, 0, when);
                    tar.append_link(&mut h, &e.path, first)
                }
                _ => {
                    let mut h = header(tar::EntryType::Regular, mode, e.size, when);
                    tar.append_data(&mut h, &e.path, member_reader(e, read, cancel)?)
                }
            },
        };
        appended.map_err(|err| failed(&err))
    })?;
    let mut gz = tar.into_inner().map_err(|e| failed(&e))?;
    let out = gz.finish().map_err(|e| failed(&e))?;
    let (_, digests) = out.finish();
    Ok(digests.expect("hashing writer"))
}

/// The zip of `entries` into `part` (deflated, unix modes and symlinks kept; a hardlink's second
/// name gets its own copy of the bytes, as zip has no links between members); the digests of the
/// file, read back once it is complete (the zip writer seeks back to finish each member's header).
fn zip_file(entries: &[Entry], mtime: i64, part: &Path, read: &Counter, cancel: &CancelToken) -> Result<Digests> {
    let failed = |e: &dyn std::fmt::Display| read.stopped().unwrap_or_else(|| export_failed(part, e));
    let file = File::create(part).map_err(|e| export_failed(part, e))?;
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::with_capacity(1 << 20, file));
    let options = |mode: u32, when: i64, size: u64| {
        zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(6))
            .unix_permissions(mode)
            .last_modified_time(zip_time(when))
            .large_file(size >= u64::from(u32::MAX))
    };
    let by_path: std::collections::HashMap<&str, &Entry> = entries.iter().map(|e| (e.path.as_str(), e)).collect();
    members(entries, mtime, |m| match m {
        Member::Dir { path, mode, when } => zip.add_directory(format!("{path}/"), options(mode, when, 0)).map_err(|err| failed(&err)),
        Member::Entry { e, mode, when } => {
            let data = match &e.source {
                Source::Symlink(target) => return zip.add_symlink(&e.path, target, options(0o777, when, 0)).map_err(|err| failed(&err)),
                Source::Hardlink(first) => *by_path
                    .get(first.as_str())
                    .ok_or_else(|| failed(&format!("{} links to {first}, which is not in the archive", e.path)))?,
                _ => e,
            };
            zip.start_file(&e.path, options(mode, when, data.size)).map_err(|err| failed(&err))?;
            std::io::copy(&mut member_reader(data, read, cancel)?, &mut zip).map_err(|err| failed(&err))?;
            Ok(())
        }
    })?;
    let out = zip.finish().map_err(|e| failed(&e))?;
    out.into_inner().map_err(|e| failed(e.error()))?;
    let mut hasher = Sha256::new();
    let size =
        std::io::copy(&mut File::open(part).map_err(|e| export_failed(part, e))?, &mut hasher).map_err(|e| export_failed(part, e))?;
    Ok(Digests { size, sha256: hex::encode(hasher.finalize()), md5: None, sha1: None, sha512: None })
}

/// A member time as zip keeps it (local-free DOS time, 2 s steps, 1980 to 2107), read as UTC.
fn zip_time(secs: i64) -> zip::DateTime {
    let t = time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    u16::try_from(t.year())
        .ok()
        .and_then(|year| zip::DateTime::from_date_and_time(year, t.month().into(), t.day(), t.hour(), t.minute(), t.second()).ok())
        .unwrap_or_default()
}

/// Headers that carry no user, host or clock of the machine exporting: reproducible archives.
fn header(kind: tar::EntryType, mode: u32, size: u64, mtime: i64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_size(size);
    h.set_mtime(mtime.max(0) as u64);
    h.set_uid(0);
    h.set_gid(0);
    let _ = h.set_username("root");
    let _ = h.set_groupname("root");
    h
}
