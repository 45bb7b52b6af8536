//! Gold images: a software home captured as a versioned manifest whose files are content-addressed
//! objects (stored once, shared with every other image and artifact), with states, series and
//! working copies provisioned from it and checked for drift.
//!
//! ```text
//! capture:   walk (refuse FIFOs, sockets, devices; no links followed) -> job: hash every file on every
//!            core -> copy only bytes the store lacks into staging -> one transaction: object rows,
//!            renames into objects/, image row, entries
//! provision: hidden sibling folder (recorded) -> every file written from the store, re-hashed as
//!            written -> modes, links, mtimes -> rename onto the target -> working copy row
//! ```

use crate::cancel::CancelToken;
use crate::catalog;
use crate::clock;
use crate::db::{params, Connection, OptionalExtension};
use crate::error::{code, Error, Result};
use crate::jobs::{JobKind, JobProgress, JobSummary, Outcome};
use crate::model::string_enum;
use crate::runner::{self, Done, ItemEnd, ItemSpec, Step, Work};
use crate::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{self, File};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

string_enum!(
    /// Where an image is in its life: testable (just captured), restricted, published (for general
    /// use), archived (hidden from new provisioning; only when no working copy uses it).
    GoldState, "gold image state", InvalidGoldState {
        Testable = "testable", Restricted = "restricted", Published = "published", Archived = "archived",
    }
);

string_enum!(
    /// What a manifest entry is. Hardlinks are files that name the first path of their group.
    EntryKind, "entry kind", UnknownValue { File = "file", Dir = "dir", Symlink = "symlink" }
);

/// One entry of an image's manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct GoldEntry {
    /// Relative to the home, `/`-separated.
    pub path: String,
    pub kind: EntryKind,
    /// Permission bits (07777).
    pub mode: u32,
    pub size: u64,
    pub sha256: Option<String>,
    /// A symlink's target, as it was written (never followed).
    pub target: Option<String>,
    /// A hardlink: the path of the first file of its group.
    pub link: Option<String>,
    /// Seconds since the epoch.
    pub mtime: i64,
}

/// A gold image as the catalog knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct GoldImage {
    pub id: i64,
    pub name: String,
    /// software, oracle-db, oracle-gi, or the admin's own word.
    pub image_type: String,
    pub series: Option<String>,
    pub version: String,
    pub description: String,
    pub state: GoldState,
    /// Regular files (hardlinks counted once per path).
    pub files: u64,
    pub size: u64,
    /// Bytes this capture added to the store (the rest was already there).
    pub new_bytes: u64,
    /// The folder it was captured from.
    pub source: String,
    /// Working copies provisioned from it and not forgotten.
    pub copies: Vec<WorkingCopy>,
    /// Whether it is its series' current image.
    pub current: bool,
    pub created_at: String,
    pub updated_at: String,
    /// Who captured it, as `user@host`; none for images from before Imagesmith recorded it.
    pub created_by: Option<String>,
    /// Who last changed its state or series, as `user@host`; none when nobody has since it was recorded.
    pub updated_by: Option<String>,
}

/// A folder provisioned from an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct WorkingCopy {
    pub path: String,
    pub image: String,
    pub provisioned_at: String,
}

/// What differs between an image and a folder, or two images.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Drift {
    pub changed: Vec<String>,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub mode_changed: Vec<String>,
}

impl Drift {
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.added.is_empty() && self.removed.is_empty() && self.mode_changed.is_empty()
    }
}

/// A series: ordered versions with one current image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Series {
    pub name: String,
    pub current: Option<String>,
    /// Its images, oldest first.
    pub images: Vec<GoldImage>,
}

/// What a capture takes.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CaptureRequest {
    pub name: String,
    pub from: PathBuf,
    pub image_type: Option<String>,
    pub series: Option<String>,
    pub version: Option<String>,
    pub description: Option<String>,
}

/// What the capture review shows before anything is stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CapturePlan {
    pub from: String,
    pub files: u64,
    pub dirs: u64,
    pub symlinks: u64,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CaptureReport {
    pub job: JobSummary,
    pub image: Option<GoldImage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ProvisionReport {
    pub job: JobSummary,
    pub copy: Option<WorkingCopy>,
}

/// The image types the app offers; any other word is taken as the admin's own.
pub const IMAGE_TYPES: &[&str] = &["software", "oracle-db", "oracle-gi"];

fn gold_not_found(name: &str) -> Error {
    Error::new(
        code::NOT_FOUND,
        format!("There is no gold image called {name}."),
        "Gold images are found by their name (ignoring case).",
        "List them with `imagesmith-cli gold list`.",
    )
}

// --- Walking a home --------------------------------------------------------------------------------

/// An entry found on disk, with what provisioning and the change check need.
#[derive(Debug, Clone)]
struct Found {
    entry: GoldEntry,
    /// (dev, ino) of a regular file, to find hardlinks and to notice a file replaced while read.
    inode: (u64, u64),
    mtime_ns: i64,
}

/// Walk `root`: every entry, in path order, symlinks recorded and never followed. Sockets, FIFOs
/// and devices are refused with their paths; unreadable folders too.
fn walk(root: &Path) -> Result<Vec<Found>> {
    let meta = fs::symlink_metadata(root).map_err(|e| Error::io(root, &e, false))?;
    if !meta.is_dir() {
        return Err(Error::invalid_argument(
            format!("{} is not a folder.", root.display()),
            "Capture a software home: the folder that holds it.",
        ));
    }
    let mut out = Vec::new();
    let mut special = Vec::new();
    let mut unreadable = Vec::new();
    let mut groups: HashMap<(u64, u64), String> = HashMap::new();
    for item in walkdir::WalkDir::new(root).follow_links(false).sort_by_file_name().min_depth(1) {
        let item = match item {
            Ok(i) => i,
            Err(e) => {
                unreadable.push(e.path().map(|p| p.display().to_string()).unwrap_or_else(|| root.display().to_string()));
                continue;
            }
        };
        let rel = item.path().strip_prefix(root).expect("walkdir stays below its root");
        let Some(path) = rel.to_str().map(str::to_string) else {
            return Err(Error::invalid_argument(
                format!("{} has a name that is not UTF-8.", item.path().display()),
                "Rename it (manifests keep names as text), then capture again.",
            ));
        };
        let m = match item.metadata() {
            Ok(m) => m,
            Err(_) => {
                unreadable.push(item.path().display().to_string());
                continue;
            }
        };
        let ft = m.file_type();
        let mut entry = GoldEntry {
            path,
            kind: EntryKind::File,
            mode: m.permissions().mode() & 0o7777,
            size: 0,
            sha256: None,
            target: None,
            link: None,
            mtime: m.mtime(),
        };
        if ft.is_dir() {
            entry.kind = EntryKind::Dir;
        } else if ft.is_symlink() {
            entry.kind = EntryKind::Symlink;
            let target = fs::read_link(item.path()).map_err(|e| Error::io(item.path(), &e, false))?;
            entry.target = Some(target.to_str().map(str::to_string).ok_or_else(|| {
                Error::invalid_argument(
                    format!("The link {} points to a name that is not UTF-8.", item.path().display()),
                    "Fix the link, then capture again.",
                )
            })?);
        } else if ft.is_file() {
            entry.size = m.len();
            if m.nlink() > 1 {
                match groups.get(&(m.dev(), m.ino())) {
                    Some(first) => entry.link = Some(first.clone()),
                    None => {
                        groups.insert((m.dev(), m.ino()), entry.path.clone());
                    }
                }
            }
        } else {
            special.push(item.path().display().to_string());
            continue;
        }
        out.push(Found { entry, inode: (m.dev(), m.ino()), mtime_ns: m.mtime() * 1_000_000_000 + m.mtime_nsec() });
    }
    if !special.is_empty() {
        return Err(Error::new(
            code::SPECIAL_FILE,
            format!(
                "{} holds {} that a gold image cannot keep: {}.",
                root.display(),
                plural(special.len(), "socket, FIFO or device file"),
                list(&special)
            ),
            "A gold image keeps files, folders and symbolic links; a socket, named pipe or device exists only while something runs.",
            "Remove them from the home (or capture a copy without them), then capture again.",
        ));
    }
    if !unreadable.is_empty() {
        return Err(unreadable_error(root, &unreadable));
    }
    Ok(out)
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("a {what}")
    } else {
        format!("{n} of them ({what}s)")
    }
}

/// The first paths of a long list, and how many more.
fn list(paths: &[String]) -> String {
    let shown: Vec<&str> = paths.iter().take(10).map(String::as_str).collect();
    let more = paths.len().saturating_sub(shown.len());
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

fn unreadable_error(root: &Path, paths: &[String]) -> Error {
    Error::new(
        code::READ_FAILED,
        format!("{} cannot be captured: {} could not be read: {}.", root.display(), if paths.len() == 1 { "one path" } else { "some paths" }, list(paths)),
        "Every file of a home must be read to capture it; a file the account running Imagesmith may not read would be missing from every copy.",
        "Give this account read access to those paths (or run the capture as their owner), then capture again.",
    )
}

fn changed_error(paths: &[String]) -> Error {
    Error::new(
        code::CHANGED_DURING_CAPTURE,
        format!("The home changed while it was captured: {}.", list(paths)),
        "A file whose size or time moved while it was read would be captured half old, half new. Nothing was kept.",
        "Stop what writes to the home (the database or service it belongs to), then capture again.",
    )
}

// --- Capture ---------------------------------------------------------------------------------------

/// The capture job: one item, the home; its files are hashed on every core inside it.
pub struct CaptureWork {
    req: CaptureRequest,
    found: Vec<Found>,
    size: u64,
    /// What the image says it was captured from, when not `req.from` (an imported archive).
    source: Option<String>,
}

impl Engine {
    /// Count what a capture of `from` would take, refusing what it cannot keep (the review).
    pub fn plan_capture(&self, from: &Path) -> Result<CapturePlan> {
        let found = walk(from)?;
        Ok(plan_of(from, &found))
    }

    /// Check a capture request and walk the home; the job then hashes and stores.
    pub fn capture_work(&self, mut req: CaptureRequest) -> Result<CaptureWork> {
        self.check_writable()?;
        req.name = catalog::validate_name(&req.name)?;
        if gold_by_name(&self.db(), &req.name)?.is_some() {
            return Err(catalog::name_taken_error(&req.name));
        }
        if let Some(series) = &req.series {
            catalog::validate_name(series)?;
        }
        if self.store.is_repository_path(&req.from) {
            return Err(Error::invalid_argument(
                format!("{} is inside the repository.", req.from.display()),
                "Capture a software home outside the repository.",
            ));
        }
        let found = walk(&req.from)?;
        let size = found.iter().filter(|f| f.entry.kind == EntryKind::File && f.entry.link.is_none()).map(|f| f.entry.size).sum();
        Ok(CaptureWork { req, found, size, source: None })
    }

    /// Capture in the calling thread (the CLI).
    pub fn capture(&self, req: CaptureRequest, cancel: &CancelToken, sink: &(dyn Fn(&JobProgress) + Sync)) -> Result<CaptureReport> {
        let work = self.capture_work(req)?;
        self.run(work, cancel, sink)
    }
}

fn plan_of(from: &Path, found: &[Found]) -> CapturePlan {
    let count = |k: EntryKind| found.iter().filter(|f| f.entry.kind == k).count() as u64;
    CapturePlan {
        from: from.display().to_string(),
        files: count(EntryKind::File),
        dirs: count(EntryKind::Dir),
        symlinks: count(EntryKind::Symlink),
        size: found.iter().filter(|f| f.entry.kind == EntryKind::File && f.entry.link.is_none()).map(|f| f.entry.size).sum(),
    }
}

/// Read `file` to its end through SHA-256, writing every byte to `out` when given.
fn hash_copy(file: &mut File, out: Option<&mut File>, cancel: &CancelToken, counted: &AtomicU64) -> std::io::Result<String> {
    hash_copy_watched(file, out, cancel, counted, &|| true)
}

/// [`hash_copy`] that asks `unchanged` every 64 MiB and stops (`ErrorKind::InvalidData`) when the
/// source moved: a datafile being written is not copied to its end first.
fn hash_copy_watched(
    file: &mut File,
    mut out: Option<&mut File>,
    cancel: &CancelToken,
    counted: &AtomicU64,
    unchanged: &dyn Fn() -> bool,
) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut since_check = 0usize;
    loop {
        if cancel.is_cancelled() {
            return Err(std::io::Error::new(std::io::ErrorKind::Interrupted, "cancelled"));
        }
        if since_check >= 64 << 20 {
            since_check = 0;
            if !unchanged() {
                return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "changed while read"));
            }
        }
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        since_check += n;
        hasher.update(&buf[..n]);
        if let Some(o) = out.as_deref_mut() {
            o.write_all(&buf[..n])?;
        }
        counted.fetch_add(n as u64, Ordering::Relaxed);
    }
    Ok(hex::encode(hasher.finalize()))
}

fn open_nofollow(path: &Path) -> std::io::Result<File> {
    fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK).open(path)
}

/// What reading one file found.
enum Read1 {
    Ok { sha: String, staged: Option<PathBuf> },
    Changed,
    Unreadable,
}

/// Bytes a failed capture sent to a team's bucket: no row names them; a tombstone lets the
/// collection take them after the grace period (unless captured or imported again).
fn let_go(engine: &Engine, sent: &[&str]) {
    if sent.is_empty() {
        return;
    }
    let _ = engine.write(|tx| {
        for sha in sent {
            crate::team::objects::upload_settled(tx, sha)?;
            crate::team::objects::tombstone(tx, sha)?;
        }
        Ok(())
    });
}

impl CaptureWork {
    /// Hash one file; copy it into staging when the store lacks its bytes. Re-checks that it is the
    /// same file (inode, size, time) before and after.
    fn read_one(
        &self,
        engine: &Engine,
        f: &Found,
        known: &Mutex<HashSet<String>>,
        seen_before: bool,
        cancel: &CancelToken,
        counted: &AtomicU64,
    ) -> Result<Read1> {
        let same = |m: &fs::Metadata| {
            (m.dev(), m.ino()) == f.inode && m.len() == f.entry.size && m.mtime() * 1_000_000_000 + m.mtime_nsec() == f.mtime_ns
        };
        let abs = self.req.from.join(&f.entry.path);
        let Ok(mut file) = open_nofollow(&abs) else { return Ok(Read1::Unreadable) };
        match file.metadata() {
            Ok(m) if m.is_file() && same(&m) => {}
            Ok(_) => return Ok(Read1::Changed),
            Err(_) => return Ok(Read1::Unreadable),
        }
        if !seen_before {
            // Most likely new bytes (no earlier capture of this home had this path, size and time):
            // copy while hashing, one read; the copy goes again if the store had the bytes after all.
            let (mut out, path) = engine.store.staging_file()?;
            let guard = crate::import::RemoveOnDrop(Some(path.clone()));
            let unchanged = || fs::symlink_metadata(&abs).is_ok_and(|m| same(&m));
            let sha = match hash_copy_watched(&mut file, Some(&mut out), cancel, counted, &unchanged) {
                Ok(s) => s,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => return Err(Error::cancelled()),
                Err(e) if e.kind() == std::io::ErrorKind::InvalidData => return Ok(Read1::Changed),
                Err(_) => return Ok(Read1::Unreadable),
            };
            drop(out);
            if !fs::symlink_metadata(&abs).is_ok_and(|m| same(&m)) {
                return Ok(Read1::Changed);
            }
            let fresh = known.lock().unwrap_or_else(|p| p.into_inner()).insert(sha.clone());
            if !fresh {
                return Ok(Read1::Ok { sha, staged: None }); // the guard removes the copy
            }
            std::mem::forget(guard);
            return Ok(Read1::Ok { sha, staged: Some(path) });
        }
        let unchanged = || fs::symlink_metadata(&abs).is_ok_and(|m| same(&m));
        let sha = match hash_copy_watched(&mut file, None, cancel, counted, &unchanged) {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => return Err(Error::cancelled()),
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => return Ok(Read1::Changed),
            Err(_) => return Ok(Read1::Unreadable),
        };
        // Moved while it was read: no use copying it.
        if !fs::symlink_metadata(&abs).is_ok_and(|m| same(&m)) {
            return Ok(Read1::Changed);
        }
        let mut staged = None;
        let fresh = known.lock().unwrap_or_else(|p| p.into_inner()).insert(sha.clone());
        if fresh {
            // New bytes: copy them (from the page cache now) and check the copy hashes the same.
            let (mut out, path) = engine.store.staging_file()?;
            let guard = crate::import::RemoveOnDrop(Some(path.clone()));
            let Ok(mut again) = open_nofollow(&abs) else { return Ok(Read1::Unreadable) };
            let copied = hash_copy(&mut again, Some(&mut out), cancel, &AtomicU64::new(0));
            match copied {
                Ok(s) if s == sha => {}
                Ok(_) => return Ok(Read1::Changed),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => return Err(Error::cancelled()),
                Err(_) => return Ok(Read1::Unreadable),
            }
            drop(out);
            std::mem::forget(guard);
            staged = Some(path);
        }
        match fs::symlink_metadata(&abs) {
            Ok(m) if same(&m) => Ok(Read1::Ok { sha, staged }),
            _ => {
                if let Some(p) = staged {
                    let _ = fs::remove_file(p);
                }
                Ok(Read1::Changed)
            }
        }
    }
}

impl Work for CaptureWork {
    type Item = GoldImage;
    type Report = CaptureReport;
    const KIND: JobKind = JobKind::Capture;

    fn items(&self) -> Vec<ItemSpec> {
        vec![ItemSpec::new(self.req.from.display().to_string(), Some(self.size))]
    }

    fn run_item(&self, engine: &Engine, _seq: usize, step: &Step<'_>) -> Result<Done<GoldImage>> {
        Ok(Done::new(Outcome::Captured, self.store_all(engine, step)?))
    }

    fn summary(&self, ends: &[ItemEnd<GoldImage>]) -> String {
        capture_summary(ends)
    }

    fn report(self, _engine: &Engine, job: JobSummary, ends: Vec<ItemEnd<GoldImage>>) -> Result<CaptureReport> {
        let image = runner::single_result(ends)?;
        Ok(CaptureReport { job, image: Some(image) })
    }
}

fn capture_summary(ends: &[ItemEnd<GoldImage>]) -> String {
    match ends.first().and_then(|e| e.value.as_ref()) {
        Some(i) => format!(
            "captured {} ({} files, {}; {} new)",
            i.name,
            i.files,
            crate::info::human_bytes(i.size),
            crate::info::human_bytes(i.new_bytes)
        ),
        None => runner::count_summary(ends),
    }
}

impl CaptureWork {
    /// Hash every file on every core, store the bytes the store lacks, and record the image.
    fn store_all(&self, engine: &Engine, step: &Step<'_>) -> Result<GoldImage> {
        let leaders: Vec<&Found> = self.found.iter().filter(|f| f.entry.kind == EntryKind::File && f.entry.link.is_none()).collect();
        let known: HashSet<String> = {
            let conn = engine.db();
            let mut stmt = conn.prepare("SELECT sha256 FROM objects WHERE state = 'ok'")?;

            stmt.query_map([], |r| r.get(0))?.collect::<crate::db::SqlResult<_>>()?
        };
        let known = Mutex::new(known);
        // (path, size, mtime) of earlier captures of this home (same folder or series): files that
        // match are likely stored already and are hashed before anything is copied.
        let seen: HashSet<(String, u64, i64)> = {
            let conn = engine.db();
            let mut stmt = conn.prepare(
                "SELECT DISTINCT e.path, e.size, e.mtime FROM gold_entries e JOIN gold_images g ON g.id = e.image_id
                 LEFT JOIN gold_series s ON s.id = g.series_id
                 WHERE e.kind = 'file' AND (g.source = ?1 OR (s.name = ?2 COLLATE NOCASE AND ?2 IS NOT NULL))",
            )?;
            let source = self.source.clone().unwrap_or_else(|| self.req.from.display().to_string());

            stmt.query_map(params![source, self.req.series], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64, r.get::<_, i64>(2)?))
            })?
            .collect::<crate::db::SqlResult<_>>()?
        };
        let results: Vec<Mutex<Option<Read1>>> = leaders.iter().map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        let done_files = AtomicUsize::new(0);
        let counted = AtomicU64::new(0);
        let failure: Mutex<Option<Error>> = Mutex::new(None);
        step.phase(&format!("hashing 0 of {} files", leaders.len()));
        std::thread::scope(|scope| {
            for _ in 0..runner::all_cores() {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= leaders.len() || failure.lock().unwrap_or_else(|p| p.into_inner()).is_some() {
                        break;
                    }
                    let f = leaders[i];
                    let seen_before = seen.contains(&(f.entry.path.clone(), f.entry.size, f.entry.mtime));
                    match self.read_one(engine, f, &known, seen_before, step.cancel(), &counted) {
                        Ok(r) => *results[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(r),
                        Err(e) => {
                            failure.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(e);
                        }
                    }
                    let n = done_files.fetch_add(1, Ordering::Relaxed) + 1;
                    if n.is_multiple_of(64) || n == leaders.len() {
                        step.phase(&format!("hashing {n} of {} files", leaders.len()));
                    }
                    step.progress(counted.load(Ordering::Relaxed));
                });
            }
        });
        let results: Vec<Option<Read1>> = results.into_iter().map(|m| m.into_inner().unwrap_or_else(|p| p.into_inner())).collect();
        drop(known); // the store's digests are not needed any more: keep the peak low on big homes
                     // Staged copies are owned here (removed on any failure); the manifest points into them by index.
        let mut staged: Vec<PathBuf> = Vec::new();
        let mut changed = Vec::new();
        let mut unreadable = Vec::new();
        let mut sha_of: HashMap<&str, (String, Option<usize>)> = HashMap::with_capacity(leaders.len());
        for (f, r) in leaders.iter().zip(results) {
            match r {
                Some(Read1::Ok { sha, staged: copy }) => {
                    let at = copy.map(|p| {
                        staged.push(p);
                        staged.len() - 1
                    });
                    sha_of.insert(f.entry.path.as_str(), (sha, at));
                }
                Some(Read1::Changed) => changed.push(self.req.from.join(&f.entry.path).display().to_string()),
                Some(Read1::Unreadable) | None => unreadable.push(self.req.from.join(&f.entry.path).display().to_string()),
            }
        }
        let staged_guard = crate::import::RemoveAllOnDrop(staged);
        if let Some(e) = failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
            return Err(e);
        }
        step.check_cancel()?;
        if !changed.is_empty() {
            return Err(changed_error(&changed));
        }
        if !unreadable.is_empty() {
            return Err(unreadable_error(&self.req.from, &unreadable));
        }

        // Each entry's digest (a hardlink takes its leader's), looked up as rows are written: no
        // second copy of a manifest that may have 100,000 entries.
        let sha_for = |e: &GoldEntry| -> Option<&str> {
            (e.kind == EntryKind::File).then(|| sha_of.get(e.link.as_deref().unwrap_or(&e.path)).map(|(s, _)| s.as_str())).flatten()
        };
        let entries: Vec<&GoldEntry> = self.found.iter().map(|f| &f.entry).collect();
        let new: Vec<(&str, u64, &Path)> = leaders
            .iter()
            .filter_map(|f| {
                let (sha, at) = sha_of.get(f.entry.path.as_str())?;
                at.map(|i| (sha.as_str(), f.entry.size, staged_guard.0[i].as_path()))
            })
            .collect();
        let new_bytes: u64 = new.iter().map(|(_, size, _)| size).sum();
        let req = &self.req;
        let source = self.source.clone().unwrap_or_else(|| req.from.display().to_string());
        let row = GoldRow {
            name: &req.name,
            image_type: req.image_type.as_deref().map(str::trim).filter(|t| !t.is_empty()).unwrap_or("software"),
            series: req.series.as_deref(),
            version: req.version.as_deref().unwrap_or("").trim(),
            description: req.description.as_deref().unwrap_or("").trim(),
            state: GoldState::Testable,
            source: &source,
            new_bytes,
            made: None,
            current: false,
        };
        let id = store_image(engine, step, &row, &entries, &sha_for, &new)?;
        drop(staged_guard);
        gold_by_id(&engine.db(), id)?.ok_or_else(|| gold_not_found(&self.req.name))
    }
}

/// A gold image's row as a capture (or an import) and a copy from another repository write it.
struct GoldRow<'a> {
    name: &'a str,
    image_type: &'a str,
    series: Option<&'a str>,
    version: &'a str,
    description: &'a str,
    state: GoldState,
    source: &'a str,
    /// Bytes this repository did not have.
    new_bytes: u64,
    /// When it was made and changed and who made it, for a copy (the sender's); a capture is now,
    /// by this desktop's user.
    made: Option<(&'a str, &'a str, Option<&'a str>)>,
    /// It becomes its series' current image even when the series has one, if that one came with
    /// the same job (a copy of a whole series ends with the sender's current image current).
    current: bool,
}

/// Send the bytes this repository lacks (`new`: digest, size, staged copy) to a team's bucket,
/// then write the store's new objects, the image and its manifest in one write. The staged copies
/// are the caller's (removed by it; those committed are moved into the store). Each entry's digest
/// comes from `sha_for`, so a capture of 100,000 files needs no second copy of its manifest.
fn store_image<'e, 'd>(
    engine: &Engine,
    step: &Step<'_>,
    row: &GoldRow<'_>,
    entries: &[&'e GoldEntry],
    sha_for: &dyn Fn(&'e GoldEntry) -> Option<&'d str>,
    new: &[(&str, u64, &Path)],
) -> Result<i64> {
    // A team repository: the new bytes go to its bucket before any row names them, each
    // claimed first (no collection takes it meanwhile); what the write does not keep is left
    // to the collection.
    let mut sent: Vec<&str> = Vec::new();
    if engine.bucket().is_some() {
        step.phase_sized("uploading", row.new_bytes);
        let mut before = 0;
        for (sha, size, staged) in new {
            if let Err(e) = engine.upload_object(sha, staged, *size, step.cancel(), &mut |n| step.progress(before + n)) {
                let_go(engine, &sent);
                return Err(e);
            }
            sent.push(sha);
            before += size;
        }
    }
    step.phase("storing");
    let mut committed: Vec<PathBuf> = Vec::new();
    let id = engine.write(|tx| {
        if gold_by_name(tx, row.name)?.is_some() {
            return Err(catalog::name_taken_error(row.name));
        }
        let now = clock::now();
        let mut fresh: Vec<(&Path, &str)> = Vec::new();
        let mut insert = tx.prepare_cached(
            // A missing or damaged object these bytes heal counts as fresh: its file is written.
            "INSERT INTO objects (sha256, size, created_at, unsettled_boot) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(sha256) DO UPDATE SET state = 'ok', unsettled_boot = excluded.unsettled_boot WHERE objects.state <> 'ok'",
        )?;
        for (sha, size, staged) in new {
            if insert.execute(params![sha, *size as i64, now, crate::durability::boot_id()])? == 1 {
                fresh.push((staged, sha));
            }
        }
        drop(insert);
        for sha in &sent {
            crate::team::objects::upload_settled(tx, sha)?;
        }
        engine.store.commit_all(fresh, &mut committed)?;
        let series_id = match row.series {
            Some(s) => Some(series_id(tx, s, true)?.expect("created")),
            None => None,
        };
        let pos: Option<i64> = match series_id {
            Some(sid) => Some(tx.query_row("SELECT COALESCE(MAX(series_pos), 0) + 1 FROM gold_images WHERE series_id = ?1", [sid], |r| r.get(0))?),
            None => None,
        };
        let who = crate::team::who();
        let (created_at, updated_at, created_by) = row.made.unwrap_or((&now, &now, Some(&who)));
        let id: i64 = tx.query_row(
            "INSERT INTO gold_images (name, image_type, series_id, series_pos, version, description, state, files, size, new_bytes, source, job_id, created_at, updated_at, created_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) RETURNING id",
            params![
                row.name,
                row.image_type,
                series_id,
                pos,
                row.version,
                row.description,
                row.state.as_str(),
                entries.iter().filter(|e| e.kind == EntryKind::File).count() as i64,
                entries.iter().filter(|e| e.kind == EntryKind::File && e.link.is_none()).map(|e| e.size).sum::<u64>() as i64,
                row.new_bytes as i64,
                row.source,
                step.job_id(),
                created_at,
                updated_at,
                created_by
            ],
            |r| r.get(0),
        )?;
        let mut stmt = tx.prepare_cached(
            "INSERT INTO gold_entries (image_id, path, kind, mode, size, sha256, target, link, mtime) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        for e in entries {
            stmt.execute(params![id, e.path, e.kind.as_str(), e.mode, e.size as i64, sha_for(e), e.target, e.link, e.mtime])?;
        }
        drop(stmt);
        if let Some(sid) = series_id {
            tx.execute(
                "UPDATE gold_series SET current_image_id = ?1 WHERE id = ?2
                 AND (current_image_id IS NULL OR (?3 AND current_image_id IN (SELECT id FROM gold_images WHERE job_id = ?4)))",
                params![id, sid, row.current, step.job_id()],
            )?;
        }
        crate::failpoint::failpoint("capture.before_commit");
        Ok(id)
    });
    match id {
        Ok(id) => Ok(id),
        Err(e) => {
            for obj in committed {
                let _ = fs::remove_file(obj);
            }
            let_go(engine, &sent);
            Err(e)
        }
    }
}

impl Engine {
    /// The gold images of this repository that `names` name (images, or series for all their
    /// images); every one with no names. Oldest first within a series, so that a copy keeps the order.
    pub(crate) fn gold_to_copy(&self, names: &[String]) -> Result<Vec<GoldImage>> {
        let conn = self.db();
        let sql = format!(
            "SELECT {IMAGE_COLUMNS} FROM gold_images g LEFT JOIN gold_series s ON s.id = g.series_id
             ORDER BY s.name COLLATE NOCASE, g.series_pos, g.id"
        );
        let all: Vec<GoldImage> = conn.prepare(&sql)?.query_map([], image_row)?.collect::<crate::db::SqlResult<_>>()?;
        if names.is_empty() {
            return Ok(all);
        }
        let mut chosen: Vec<GoldImage> = Vec::new();
        for name in names {
            let of_series: Vec<&GoldImage> =
                all.iter().filter(|g| g.series.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(name))).collect();
            let found: Vec<&GoldImage> = match all.iter().find(|g| g.name.eq_ignore_ascii_case(name)) {
                Some(g) => vec![g],
                None if !of_series.is_empty() => of_series,
                None => return Err(gold_not_found(name)),
            };
            for g in found {
                if !chosen.iter().any(|c| c.id == g.id) {
                    chosen.push(g.clone());
                }
            }
        }
        chosen.sort_by_key(|c| all.iter().position(|g| g.id == c.id));
        Ok(chosen)
    }

    /// Copy gold image `g` of `from` here (`repo push`/`pull`): the bytes this repository lacks,
    /// fetched from the sender (a team's through this desktop's cache) and hashed again, then the
    /// image with its manifest, state, version and series, made when and by whom the sender's
    /// was. Working copies stay where they were provisioned. An image of the same name with the
    /// same manifest is already here; one that differs is refused, never overwritten.
    pub(crate) fn copy_gold(&self, from: &Engine, g: &GoldImage, step: &Step<'_>) -> Result<(Outcome, GoldImage)> {
        let manifest = entries(&from.db(), g.id)?;
        let here = gold_by_name(&self.db(), &g.name)?;
        if let Some(here) = here {
            if entries(&self.db(), here.id)? == manifest {
                return Ok((Outcome::Duplicate, here));
            }
            return Err(Error::new(
                code::NAME_TAKEN,
                format!("The receiving repository has another gold image named \"{}\".", g.name),
                "Its files differ; a copy never overwrites a gold image.",
                format!(
                    "Delete the receiving repository's image (imagesmith-cli gold delete \"{}\") if it is not needed, or capture the home again under another name, and copy again.",
                    g.name
                ),
            ));
        }
        let here: HashSet<String> = {
            let conn = self.db();
            let mut stmt = conn.prepare("SELECT sha256 FROM objects WHERE state = 'ok'")?;
            let known: HashSet<String> = stmt.query_map([], |r| r.get(0))?.collect::<crate::db::SqlResult<_>>()?;
            drop(stmt);
            known
        };
        let mut missing: Vec<(&str, u64)> = Vec::new();
        for e in manifest.iter().filter(|e| e.link.is_none()) {
            if let Some(sha) = e.sha256.as_deref().filter(|s| !here.contains(*s)) {
                if !missing.iter().any(|(m, _)| *m == sha) {
                    missing.push((sha, e.size));
                }
            }
        }
        drop(here);
        let total: u64 = missing.iter().map(|(_, size)| size).sum();
        step.phase_sized("fetching", total);
        let mut staged = crate::import::RemoveAllOnDrop(Vec::new());
        let mut done = 0;
        for (sha, size) in &missing {
            let path = from.object_file(sha, step.cancel(), &mut |n| step.progress(done + n))?;
            let (mut out, copy) = self.store.staging_file()?;
            staged.0.push(copy);
            let counted = AtomicU64::new(0);
            let got = match hash_copy(
                &mut File::open(&path).map_err(|e| Error::io(&path, &e, false))?,
                Some(&mut out),
                step.cancel(),
                &counted,
            ) {
                Ok(got) => got,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => return Err(Error::cancelled()),
                Err(e) => return Err(Error::io(&path, &e, false)),
            };
            if got != *sha {
                return Err(crate::store::object_corrupted(sha, &got, &format!("a file of gold image {}", g.name)));
            }
            done += size;
            step.progress(done);
        }
        let new: Vec<(&str, u64, &Path)> = missing.iter().zip(&staged.0).map(|((sha, size), p)| (*sha, *size, p.as_path())).collect();
        let row = GoldRow {
            name: &g.name,
            image_type: &g.image_type,
            series: g.series.as_deref(),
            version: &g.version,
            description: &g.description,
            state: g.state,
            source: &g.source,
            new_bytes: total,
            made: Some((&g.created_at, &g.updated_at, g.created_by.as_deref())),
            current: g.current,
        };
        let refs: Vec<&GoldEntry> = manifest.iter().collect();
        let id = store_image(self, step, &row, &refs, &|e: &GoldEntry| e.sha256.as_deref(), &new)?;
        drop(new);
        drop(staged);
        let copied = gold_by_id(&self.db(), id)?.ok_or_else(|| gold_not_found(&g.name))?;
        Ok((Outcome::Copied, copied))
    }
}

// --- Catalog ---------------------------------------------------------------------------------------

const IMAGE_COLUMNS: &str = "g.id, g.name, g.image_type, s.name, g.version, g.description, g.state, g.files, g.size, g.new_bytes, \
     g.source, g.created_at, g.updated_at, (s.current_image_id = g.id), g.created_by, g.updated_by";

fn image_row(r: &crate::db::Row<'_>) -> crate::db::SqlResult<GoldImage> {
    Ok(GoldImage {
        id: r.get(0)?,
        name: r.get(1)?,
        image_type: r.get(2)?,
        series: r.get(3)?,
        version: r.get(4)?,
        description: r.get(5)?,
        state: crate::db::word(r, 6)?,
        files: r.get::<_, i64>(7)? as u64,
        size: r.get::<_, i64>(8)? as u64,
        new_bytes: r.get::<_, i64>(9)? as u64,
        source: r.get(10)?,
        created_at: r.get(11)?,
        updated_at: r.get(12)?,
        current: r.get::<_, Option<bool>>(13)?.unwrap_or(false),
        created_by: r.get(14)?,
        updated_by: r.get(15)?,
        copies: Vec::new(),
    })
}

fn with_copies(conn: &Connection, mut g: GoldImage) -> Result<GoldImage> {
    g.copies = copies(conn, Some(g.id))?;
    Ok(g)
}

fn gold_by_id(conn: &Connection, id: i64) -> Result<Option<GoldImage>> {
    let sql = format!("SELECT {IMAGE_COLUMNS} FROM gold_images g LEFT JOIN gold_series s ON s.id = g.series_id WHERE g.id = ?1");
    conn.query_row(&sql, [id], image_row).optional()?.map(|g| with_copies(conn, g)).transpose()
}

fn gold_by_name(conn: &Connection, name: &str) -> Result<Option<GoldImage>> {
    let sql =
        format!("SELECT {IMAGE_COLUMNS} FROM gold_images g LEFT JOIN gold_series s ON s.id = g.series_id WHERE g.name = ?1 COLLATE NOCASE");
    conn.query_row(&sql, [name], image_row).optional()?.map(|g| with_copies(conn, g)).transpose()
}

fn get_image(conn: &Connection, name: &str) -> Result<GoldImage> {
    gold_by_name(conn, name)?.ok_or_else(|| gold_not_found(name))
}

fn copies(conn: &Connection, image: Option<i64>) -> Result<Vec<WorkingCopy>> {
    let mut stmt = conn.prepare_cached(
        "SELECT w.path, g.name, w.provisioned_at FROM working_copies w JOIN gold_images g ON g.id = w.image_id
         WHERE w.image_id = ?1 OR ?1 IS NULL ORDER BY w.path",
    )?;
    let rows = stmt.query_map([image], |r| Ok(WorkingCopy { path: r.get(0)?, image: r.get(1)?, provisioned_at: r.get(2)? }))?;
    Ok(rows.collect::<crate::db::SqlResult<_>>()?)
}

fn entries(conn: &Connection, image_id: i64) -> Result<Vec<GoldEntry>> {
    let mut stmt = conn
        .prepare_cached("SELECT path, kind, mode, size, sha256, target, link, mtime FROM gold_entries WHERE image_id = ?1 ORDER BY path")?;
    let rows = stmt.query_map([image_id], |r| {
        Ok(GoldEntry {
            path: r.get(0)?,
            kind: crate::db::word(r, 1)?,
            mode: r.get(2)?,
            size: r.get::<_, i64>(3)? as u64,
            sha256: r.get(4)?,
            target: r.get(5)?,
            link: r.get(6)?,
            mtime: r.get(7)?,
        })
    })?;
    let mut rows: Vec<GoldEntry> = rows.collect::<crate::db::SqlResult<_>>()?;
    // Byte order, whatever the catalog's collation (a team's PostgreSQL database may sort text as
    // en-US does): manifests are compared entry by entry, and parents must come before children.
    rows.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    Ok(rows)
}

/// The series called `name`; created when `create` (and missing).
fn series_id(conn: &Connection, name: &str, create: bool) -> Result<Option<i64>> {
    let found: Option<i64> =
        conn.query_row("SELECT id FROM gold_series WHERE name = ?1 COLLATE NOCASE", [name], |r| r.get(0)).optional()?;
    match (found, create) {
        (Some(id), _) => Ok(Some(id)),
        (None, true) => {
            let name = catalog::validate_name(name)?;
            Ok(Some(conn.query_row(
                "INSERT INTO gold_series (name, created_at) VALUES (?1, ?2) RETURNING id",
                params![name, clock::now()],
                |r| r.get(0),
            )?))
        }
        (None, false) => Ok(None),
    }
}

/// The series and the image, refused unless the image belongs to it (`recovery` says what to do).
fn in_series(conn: &Connection, series: &str, image: &str, recovery: impl Fn(&GoldImage) -> String) -> Result<(i64, GoldImage)> {
    let sid = series_id(conn, series, false)?.ok_or_else(|| series_not_found(series))?;
    let g = get_image(conn, image)?;
    let member: Option<i64> = conn.query_row("SELECT series_id FROM gold_images WHERE id = ?1", [g.id], |r| r.get(0))?;
    if member != Some(sid) {
        return Err(Error::invalid_argument(format!("{} is not in the series {series}.", g.name), recovery(&g)));
    }
    Ok((sid, g))
}

fn series_not_found(name: &str) -> Error {
    Error::new(
        code::NOT_FOUND,
        format!("There is no series called {name}."),
        "A series groups the versions of a gold image.",
        "Create it with `imagesmith-cli series create`, or capture into it with `gold create --series`.",
    )
}

fn in_use_by_copies(g: &GoldImage, what: &str) -> Error {
    let paths: Vec<String> = g.copies.iter().map(|c| c.path.clone()).collect();
    Error::new(
        code::IN_USE,
        format!(
            "{} was not {what}: {} working cop{} use{} it: {}.",
            g.name,
            g.copies.len(),
            if g.copies.len() == 1 { "y" } else { "ies" },
            if g.copies.len() == 1 { "s" } else { "" },
            list(&paths)
        ),
        "A working copy is checked against the image it came from; the image stays while copies exist.",
        "Remove the copies and forget them with `imagesmith-cli gold forget-copy DIR`, then try again.",
    )
}

impl Engine {
    pub fn list_gold(&self, series: Option<&str>, state: Option<GoldState>) -> Result<Vec<GoldImage>> {
        let conn = self.db();
        let sql = format!(
            "SELECT {IMAGE_COLUMNS} FROM gold_images g LEFT JOIN gold_series s ON s.id = g.series_id
             WHERE (s.name = ?1 COLLATE NOCASE OR ?1 IS NULL) AND (g.state = ?2 OR ?2 IS NULL)
             ORDER BY s.name IS NULL, s.name COLLATE NOCASE, g.series_pos, g.name COLLATE NOCASE"
        );
        let mut stmt = conn.prepare(&sql)?;
        let rows: Vec<GoldImage> =
            stmt.query_map(params![series, state.map(|s| s.as_str())], image_row)?.collect::<crate::db::SqlResult<_>>()?;
        rows.into_iter().map(|g| with_copies(&conn, g)).collect()
    }

    pub fn get_gold(&self, name: &str) -> Result<GoldImage> {
        get_image(&self.db(), name)
    }

    /// Every entry of an image's manifest, in path order.
    pub fn gold_files(&self, name: &str) -> Result<Vec<GoldEntry>> {
        let conn = self.db();
        let g = get_image(&conn, name)?;
        entries(&conn, g.id)
    }

    /// Move an image between testable, restricted and published (either way).
    pub fn promote_gold(&self, name: &str, state: GoldState) -> Result<GoldImage> {
        if state == GoldState::Archived {
            return Err(Error::invalid_argument(
                "An image is archived with `gold archive`, not promoted.",
                "Use `imagesmith-cli gold archive NAME`.",
            ));
        }
        self.write(|tx| {
            let g = get_image(tx, name)?;
            if g.state == GoldState::Archived {
                return Err(Error::invalid_argument(
                    format!("{} is archived.", g.name),
                    "Unarchive it first (`imagesmith-cli gold unarchive`), then promote it.",
                ));
            }
            tx.execute(
                "UPDATE gold_images SET state = ?1, updated_at = ?2, updated_by = ?3 WHERE id = ?4",
                params![state.as_str(), clock::now(), crate::team::who(), g.id],
            )?;
            get_image(tx, name)
        })
    }

    /// Hide an image from new provisioning; refused while working copies use it.
    pub fn archive_gold(&self, name: &str) -> Result<GoldImage> {
        self.write(|tx| {
            let g = get_image(tx, name)?;
            if !g.copies.is_empty() {
                return Err(in_use_by_copies(&g, "archived"));
            }
            tx.execute(
                "UPDATE gold_images SET state = 'archived', updated_at = ?1, updated_by = ?2 WHERE id = ?3",
                params![clock::now(), crate::team::who(), g.id],
            )?;
            get_image(tx, name)
        })
    }

    /// Bring an archived image back as testable (it is tested again before it is published again).
    pub fn unarchive_gold(&self, name: &str) -> Result<GoldImage> {
        self.write(|tx| {
            let g = get_image(tx, name)?;
            if g.state == GoldState::Archived {
                tx.execute(
                    "UPDATE gold_images SET state = 'testable', updated_at = ?1, updated_by = ?2 WHERE id = ?3",
                    params![clock::now(), crate::team::who(), g.id],
                )?;
            }
            get_image(tx, name)
        })
    }

    /// Delete an image; refused while working copies use it. Objects nothing else names go too
    /// (their files after the commit).
    pub fn delete_gold(&self, name: &str) -> Result<GoldImage> {
        let mut unused: Vec<String> = Vec::new();
        let g = self.write(|tx| {
            let g = get_image(tx, name)?;
            if !g.copies.is_empty() {
                return Err(in_use_by_copies(&g, "deleted"));
            }
            let shas: Vec<String> = {
                let mut stmt = tx.prepare("SELECT DISTINCT sha256 FROM gold_entries WHERE image_id = ?1 AND sha256 IS NOT NULL")?;

                stmt.query_map([g.id], |r| r.get(0))?.collect::<crate::db::SqlResult<_>>()?
            };
            tx.execute("DELETE FROM gold_entries WHERE image_id = ?1", [g.id])?;
            tx.execute("DELETE FROM gold_images WHERE id = ?1", [g.id])?;
            let version = Some(g.version.as_str()).filter(|v| !v.is_empty()).map(|v| format!("version {v}"));
            crate::deletions::record(tx, crate::deletions::DeletedKind::Gold, &g.name, version.as_deref())?;
            for sha in shas {
                if !object_in_use(tx, &sha)? {
                    tx.execute("DELETE FROM objects WHERE sha256 = ?1", [&sha])?;
                    if self.bucket().is_some() {
                        // The bucket's copy stays for the grace period (another desktop may be
                        // capturing the same bytes); the collection takes it after.
                        crate::team::objects::tombstone(tx, &sha)?;
                    }
                    unused.push(sha);
                }
            }
            Ok(g)
        })?;
        for sha in unused {
            let _ = fs::remove_file(self.store.object_path(&sha));
        }
        Ok(g)
    }

    // --- Series ---

    pub fn create_series(&self, name: &str) -> Result<Series> {
        let name = catalog::validate_name(name)?;
        self.write(|tx| {
            if series_id(tx, &name, false)?.is_some() {
                return Err(catalog::name_taken_error(&name));
            }
            series_id(tx, &name, true)?;
            Ok(())
        })?;
        self.get_series(&name)
    }

    pub fn list_series(&self) -> Result<Vec<Series>> {
        let names: Vec<String> = {
            let conn = self.db();
            let mut stmt = conn.prepare("SELECT name FROM gold_series ORDER BY name COLLATE NOCASE")?;

            stmt.query_map([], |r| r.get(0))?.collect::<crate::db::SqlResult<_>>()?
        };
        names.iter().map(|n| self.get_series(n)).collect()
    }

    pub fn get_series(&self, name: &str) -> Result<Series> {
        let conn = self.db();
        let (real, current): (String, Option<String>) = conn
            .query_row(
                "SELECT s.name, g.name FROM gold_series s LEFT JOIN gold_images g ON g.id = s.current_image_id WHERE s.name = ?1 COLLATE NOCASE",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .ok_or_else(|| series_not_found(name))?;
        drop(conn);
        let images = self.list_gold(Some(&real), None)?;
        Ok(Series { name: real, current, images })
    }

    /// Put an image at the end of a series (out of any other).
    pub fn series_add(&self, series: &str, image: &str) -> Result<Series> {
        self.write(|tx| {
            let sid = series_id(tx, series, false)?.ok_or_else(|| series_not_found(series))?;
            let g = get_image(tx, image)?;
            let pos: i64 =
                tx.query_row("SELECT COALESCE(MAX(series_pos), 0) + 1 FROM gold_images WHERE series_id = ?1", [sid], |r| r.get(0))?;
            tx.execute("UPDATE gold_series SET current_image_id = NULL WHERE current_image_id = ?1 AND id <> ?2", params![g.id, sid])?;
            tx.execute(
                "UPDATE gold_images SET series_id = ?1, series_pos = ?2, updated_at = ?3, updated_by = ?4 WHERE id = ?5",
                params![sid, pos, clock::now(), crate::team::who(), g.id],
            )?;
            tx.execute("UPDATE gold_series SET current_image_id = COALESCE(current_image_id, ?1) WHERE id = ?2", params![g.id, sid])?;
            Ok(())
        })?;
        self.get_series(series)
    }

    pub fn series_remove(&self, series: &str, image: &str) -> Result<Series> {
        self.write(|tx| {
            let (sid, g) = in_series(tx, series, image, |_| "List the series with `imagesmith-cli series show`.".into())?;
            tx.execute("UPDATE gold_series SET current_image_id = NULL WHERE id = ?1 AND current_image_id = ?2", params![sid, g.id])?;
            tx.execute(
                "UPDATE gold_images SET series_id = NULL, series_pos = NULL, updated_at = ?1, updated_by = ?2 WHERE id = ?3",
                params![clock::now(), crate::team::who(), g.id],
            )?;
            Ok(())
        })?;
        self.get_series(series)
    }

    pub fn series_current(&self, series: &str, image: &str) -> Result<Series> {
        self.write(|tx| {
            let (sid, g) = in_series(tx, series, image, |g| format!("Add it first: `imagesmith-cli series add {series} {}`.", g.name))?;
            tx.execute("UPDATE gold_series SET current_image_id = ?1 WHERE id = ?2", params![g.id, sid])?;
            Ok(())
        })?;
        self.get_series(series)
    }

    // --- Working copies ---

    pub fn gold_copies(&self, image: Option<&str>) -> Result<Vec<WorkingCopy>> {
        let conn = self.db();
        let id = image.map(|n| get_image(&conn, n).map(|g| g.id)).transpose()?;
        copies(&conn, id)
    }

    /// Stop tracking a working copy (the folder itself is left as it is).
    pub fn forget_copy(&self, dir: &Path) -> Result<WorkingCopy> {
        let path = absolute(dir)?;
        self.write(|tx| {
            let found = copies(tx, None)?.into_iter().find(|c| c.path == path).ok_or_else(|| {
                Error::new(
                    code::NOT_FOUND,
                    format!("{path} is not a working copy Imagesmith knows."),
                    "Only folders provisioned from a gold image are tracked.",
                    "List them with `imagesmith-cli gold copies`.",
                )
            })?;
            tx.execute("DELETE FROM working_copies WHERE path = ?1", [&path])?;
            crate::deletions::record(tx, crate::deletions::DeletedKind::WorkingCopy, &found.path, Some(&found.image))?;
            Ok(found)
        })
    }

    /// Compare `dir` with the image it was provisioned from (or `image`).
    pub fn check_copy(&self, dir: &Path, image: Option<&str>) -> Result<Drift> {
        let path = absolute(dir)?;
        let conn = self.db();
        let g = match image {
            Some(n) => get_image(&conn, n)?,
            None => {
                let name = copies(&conn, None)?.into_iter().find(|c| c.path == path).map(|c| c.image).ok_or_else(|| {
                    Error::new(
                        code::NOT_FOUND,
                        format!("{path} is not a working copy Imagesmith knows."),
                        "Without --image, check compares a folder with the image it was provisioned from.",
                        "Name the image to compare with: `imagesmith-cli gold check DIR --image NAME`.",
                    )
                })?;
                get_image(&conn, &name)?
            }
        };
        let manifest = entries(&conn, g.id)?;
        drop(conn);
        let found = walk_loosely(dir)?;
        Ok(compare_with_folder(&manifest, &found))
    }

    /// What changed from image `a` to image `b`.
    pub fn diff_gold(&self, a: &str, b: &str) -> Result<Drift> {
        let conn = self.db();
        let (ga, gb) = (get_image(&conn, a)?, get_image(&conn, b)?);
        Ok(compare_manifests(&entries(&conn, ga.id)?, &entries(&conn, gb.id)?))
    }
}

/// Whether any artifact or gold image still names the object.
pub(crate) fn object_in_use(conn: &Connection, sha: &str) -> Result<bool> {
    let n: i64 = conn.query_row(
        "SELECT (SELECT COUNT(*) FROM artifacts WHERE sha256 = ?1) + (SELECT COUNT(*) FROM gold_entries WHERE sha256 = ?1)",
        [sha],
        |r| r.get(0),
    )?;
    Ok(n > 0)
}

fn absolute(dir: &Path) -> Result<String> {
    let abs = if dir.is_absolute() { dir.to_path_buf() } else { std::env::current_dir().map_err(|e| Error::io(dir, &e, false))?.join(dir) };
    let abs = abs.canonicalize().unwrap_or(abs);
    abs.to_str().map(str::to_string).ok_or_else(|| {
        Error::invalid_argument(format!("{} is not valid UTF-8.", abs.display()), "Choose a folder whose name is plain text.")
    })
}

/// A folder's entries for a drift check: special files are reported as added rather than refused.
fn walk_loosely(root: &Path) -> Result<BTreeMap<String, (GoldEntry, PathBuf)>> {
    let mut out = BTreeMap::new();
    for item in walkdir::WalkDir::new(root).follow_links(false).sort_by_file_name().min_depth(1) {
        let item = item.map_err(|e| {
            let at = e.path().unwrap_or(root).to_path_buf();
            Error::io(&at, &e.into_io_error().unwrap_or_else(|| std::io::Error::other("a folder loops back on itself")), false)
        })?;
        let rel = item.path().strip_prefix(root).expect("below root").to_string_lossy().into_owned();
        let m = item
            .metadata()
            .map_err(|e| Error::io(item.path(), &e.into_io_error().unwrap_or_else(|| std::io::Error::other("metadata")), false))?;
        let ft = m.file_type();
        let kind = if ft.is_dir() {
            EntryKind::Dir
        } else if ft.is_symlink() {
            EntryKind::Symlink
        } else {
            EntryKind::File
        };
        let target = if ft.is_symlink() { fs::read_link(item.path()).ok().map(|t| t.to_string_lossy().into_owned()) } else { None };
        let entry = GoldEntry {
            path: rel.clone(),
            kind,
            mode: m.permissions().mode() & 0o7777,
            size: if ft.is_file() { m.len() } else { 0 },
            sha256: None,
            target,
            link: None,
            mtime: m.mtime(),
        };
        out.insert(rel, (entry, item.path().to_path_buf()));
    }
    Ok(out)
}

fn compare_with_folder(manifest: &[GoldEntry], found: &BTreeMap<String, (GoldEntry, PathBuf)>) -> Drift {
    let mut d = Drift::default();
    let known: HashSet<&str> = manifest.iter().map(|e| e.path.as_str()).collect();
    for e in manifest {
        let Some((f, abs)) = found.get(&e.path) else {
            d.removed.push(e.path.clone());
            continue;
        };
        let content_differs = match e.kind {
            _ if f.kind != e.kind => true,
            EntryKind::Dir => false,
            EntryKind::Symlink => f.target != e.target,
            EntryKind::File => {
                f.size != e.size || {
                    let sha =
                        File::open(abs).ok().and_then(|mut file| hash_copy(&mut file, None, &CancelToken::new(), &AtomicU64::new(0)).ok());
                    sha.as_deref() != e.sha256.as_deref()
                }
            }
        };
        if content_differs {
            d.changed.push(e.path.clone());
        } else if e.kind != EntryKind::Symlink && f.mode != e.mode {
            d.mode_changed.push(e.path.clone());
        }
    }
    d.added = found.keys().filter(|p| !known.contains(p.as_str())).cloned().collect();
    d
}

fn compare_manifests(a: &[GoldEntry], b: &[GoldEntry]) -> Drift {
    let mut d = Drift::default();
    let in_a: HashMap<&str, &GoldEntry> = a.iter().map(|e| (e.path.as_str(), e)).collect();
    let in_b: HashMap<&str, &GoldEntry> = b.iter().map(|e| (e.path.as_str(), e)).collect();
    for e in a {
        match in_b.get(e.path.as_str()) {
            None => d.removed.push(e.path.clone()),
            Some(f) if f.kind != e.kind || f.sha256 != e.sha256 || f.target != e.target => d.changed.push(e.path.clone()),
            Some(f) if f.kind != EntryKind::Symlink && f.mode != e.mode => d.mode_changed.push(e.path.clone()),
            Some(_) => {}
        }
    }
    d.added = b.iter().filter(|e| !in_a.contains_key(e.path.as_str())).map(|e| e.path.clone()).collect();
    d
}

/// A gold image's stored files: (image name, [(sha256, a path with those bytes, size)]).
pub(crate) type ImageObjects = (String, Vec<(String, String, u64)>);

/// Every gold image's stored files, image by image in capture order, each object once per image
/// (hardlinks and repeated bytes share it).
pub(crate) fn stored_files(conn: &Connection) -> Result<Vec<ImageObjects>> {
    let mut stmt = conn.prepare(
        "SELECT i.name, e.sha256, MIN(e.path), MAX(e.size) FROM gold_entries e JOIN gold_images i ON i.id = e.image_id
         WHERE e.sha256 IS NOT NULL GROUP BY i.id, e.sha256 ORDER BY i.id, MIN(e.path)",
    )?;
    let mut out: Vec<ImageObjects> = Vec::new();
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?)))?;
    for row in rows {
        let (image, sha, path, size) = row?;
        match out.last_mut() {
            Some((name, files)) if *name == image => files.push((sha, path, size as u64)),
            _ => out.push((image, vec![(sha, path, size as u64)])),
        }
    }
    Ok(out)
}

// --- Export ----------------------------------------------------------------------------------------

/// Archive format written into gold.json; bump when the layout changes.
pub const GOLD_FORMAT: &str = "imagesmith-gold/1";

/// What a gold export takes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct GoldExportRequest {
    pub image: String,
    /// Folder the archive and its `.sha256` sidecar are written to.
    pub dir: PathBuf,
    /// tar.gz unless asked.
    #[serde(default)]
    pub format: crate::export::ArchiveFormat,
}

impl Engine {
    /// The export of a gold image as `<name>.tar.gz` or `<name>.zip`: gold.json (the manifest),
    /// the home under home/ with its modes, times, links and hardlinks (in a zip a hardlink is a
    /// copy and times are rounded to 2 s; gold.json keeps both exactly), and a SHA256SUMS over
    /// every file; a GNU `.sha256` sidecar beside it. Reproducible: the same image gives the same bytes. Every object
    /// is re-hashed as it is read (`object_damaged`).
    pub fn gold_export_work(&self, req: &GoldExportRequest) -> Result<crate::export::ExportWork> {
        let conn = self.db();
        let g = get_image(&conn, &req.image)?;
        let manifest = entries(&conn, g.id)?;
        drop(conn);
        crate::export::export_folder(&req.dir)?;
        let mtime = time::OffsetDateTime::parse(&g.created_at, &time::format_description::well_known::Rfc3339)
            .map(|t| t.unix_timestamp())
            .unwrap_or(0);
        let meta = serde_json::json!({
            "format": GOLD_FORMAT,
            "name": g.name,
            "image_type": g.image_type,
            "version": g.version,
            "description": g.description,
            "imagesmith_version": crate::VERSION,
            "entries": manifest,
        });
        let mut out = vec![crate::export::Entry::bytes("gold.json", serde_json::to_vec_pretty(&meta).expect("serialisable"))];
        for e in &manifest {
            let path = format!("home/{}", e.path);
            let source = match (e.kind, &e.link, &e.target) {
                (EntryKind::Dir, _, _) => crate::export::Source::Dir,
                (EntryKind::Symlink, _, t) => crate::export::Source::Symlink(t.clone().unwrap_or_default()),
                (EntryKind::File, Some(first), _) => crate::export::Source::Hardlink(format!("home/{first}")),
                (EntryKind::File, None, _) => crate::export::Source::Object {
                    path: self.store.object_path(e.sha256.as_deref().unwrap_or_default()),
                    name: format!("{} ({})", e.path, g.name),
                },
            };
            let is_data = e.kind == EntryKind::File && e.link.is_none();
            out.push(crate::export::Entry {
                path,
                source,
                size: if is_data { e.size } else { 0 },
                sha256: e.sha256.clone().unwrap_or_default(),
                meta: Some((e.mode, e.mtime)),
            });
        }
        out.push(crate::export::sha256sums(&out));
        Ok(crate::export::ExportWork::new(&req.dir, &g.name, out, mtime, req.format))
    }

    pub fn export_gold(
        &self,
        req: &GoldExportRequest,
        cancel: &CancelToken,
        sink: &(dyn Fn(&JobProgress) + Sync),
    ) -> Result<crate::export::ExportReport> {
        self.run(self.gold_export_work(req)?, cancel, sink)
    }
}

// --- Import ----------------------------------------------------------------------------------------

/// Entries a home archive may hold (files, folders, links).
const MAX_IMPORT_ENTRIES: usize = 200_000;

fn unsafe_home_archive(name: &str, why: String) -> Error {
    Error::new(
        code::UNSAFE_ARCHIVE,
        format!("{name} was refused: {why}."),
        "A home archive holds files, folders and links below one place; anything else could write outside the repository's staging area.",
        "Use an archive made by `gold export` or by tar from a home you trust; nothing from this one was kept.",
    )
}

/// What a gold import takes: an archive made by `gold export`, or any tar.gz of a home.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct GoldImportRequest {
    pub archive: PathBuf,
    pub name: String,
    pub series: Option<String>,
    pub version: Option<String>,
}

/// The import job: one item, the archive — unpacked safely into staging, checked against its
/// SHA256SUMS when it is a gold export, then captured like a folder.
pub struct GoldImportWork {
    req: GoldImportRequest,
    size: u64,
}

impl Engine {
    pub fn gold_import_work(&self, req: GoldImportRequest) -> Result<GoldImportWork> {
        self.check_writable()?;
        catalog::validate_name(&req.name)?;
        if gold_by_name(&self.db(), &req.name)?.is_some() {
            return Err(catalog::name_taken_error(&req.name));
        }
        let size = crate::detect::open_regular(&req.archive)?.metadata().map_err(|e| Error::io(&req.archive, &e, false))?.len();
        Ok(GoldImportWork { req, size })
    }

    pub fn import_gold(&self, req: GoldImportRequest, cancel: &CancelToken, sink: &(dyn Fn(&JobProgress) + Sync)) -> Result<CaptureReport> {
        self.run(self.gold_import_work(req)?, cancel, sink)
    }
}

/// One member of a home archive, as tar and zip both describe it.
enum Member<'a> {
    Dir,
    File(&'a mut dyn Read, u64),
    Symlink(PathBuf),
    Hardlink(PathBuf),
    Special(&'static str),
}

/// Writes members below `dir`: only files, folders, symlinks (written as they are, never followed)
/// and hardlinks to a file unpacked before; no member outside `dir`, none through a link, none
/// twice; no more content than the disk has room for.
struct Unpacker<'a> {
    name: String,
    dir: &'a Path,
    free: u64,
    dirs: HashSet<PathBuf>,
    files: HashSet<PathBuf>,
    declared: u64,
    times: Vec<(PathBuf, u32, i64)>,
}

impl Unpacker<'_> {
    fn add(&mut self, text: &str, member: Member<'_>, mode: u32, mtime: i64) -> Result<()> {
        let name = self.name.clone();
        let dir = self.dir;
        let trimmed = text.trim_start_matches("./").trim_end_matches('/');
        if trimmed.is_empty() || trimmed == "." {
            return Ok(());
        }
        let rel = safe_relative(trimmed)
            .ok_or_else(|| unsafe_home_archive(&name, format!("the member {text} climbs out of the archive or has an absolute path")))?;
        if let Some(parent) = rel.parent().filter(|p| !p.as_os_str().is_empty()) {
            // Folders an archive leaves out are made; a parent that is a link or a file is refused.
            let mut at = PathBuf::new();
            for c in parent.components() {
                at.push(c);
                if !self.dirs.contains(&at) {
                    if self.files.contains(&at) || fs::symlink_metadata(dir.join(&at)).is_ok() {
                        return Err(unsafe_home_archive(&name, format!("the member {text} would be written through {}", at.display())));
                    }
                    fs::create_dir(dir.join(&at)).map_err(|e| Error::io(&dir.join(&at), &e, true))?;
                    self.dirs.insert(at.clone());
                }
            }
        }
        let out = dir.join(&rel);
        if self.dirs.contains(&rel) || self.files.contains(&rel) {
            if matches!(member, Member::Dir) && self.dirs.contains(&rel) {
                self.times.push((rel, mode, mtime));
                return Ok(());
            }
            return Err(unsafe_home_archive(&name, format!("the member {text} appears twice")));
        }
        match member {
            Member::Dir => {
                fs::create_dir(&out).map_err(|e| Error::io(&out, &e, true))?;
                self.dirs.insert(rel.clone());
                self.times.push((rel, mode, mtime));
            }
            Member::File(content, len) => {
                self.declared = self.declared.saturating_add(len);
                if self.declared > self.free {
                    return Err(Error::new(
                        code::ARCHIVE_TOO_LARGE,
                        format!(
                            "{name} was refused: it declares {} bytes of content, more than the {} bytes free for the repository.",
                            self.declared, self.free
                        ),
                        "Unpacking it would fill the disk; the sizes in the archive may also be forged.",
                        "Free space on the repository's disk, or check where the archive came from.",
                    ));
                }
                let mut w = fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .custom_flags(libc::O_NOFOLLOW)
                    .open(&out)
                    .map_err(|e| Error::io(&out, &e, true))?;
                let copied = std::io::copy(&mut content.take(len), &mut w)
                    .map_err(|e| unsafe_home_archive(&name, format!("the member {text} is cut short ({e})")))?;
                if copied != len {
                    return Err(unsafe_home_archive(&name, format!("the member {text} is cut short")));
                }
                drop(w);
                fs::set_permissions(&out, fs::Permissions::from_mode(mode)).map_err(|e| Error::io(&out, &e, true))?;
                set_mtime(&out, mtime);
                self.files.insert(rel);
            }
            Member::Symlink(target) => {
                std::os::unix::fs::symlink(&target, &out).map_err(|e| Error::io(&out, &e, true))?;
                set_link_mtime(&out, mtime);
                self.files.insert(rel);
            }
            Member::Hardlink(target) => {
                let first = target.to_str().map(|t| t.trim_start_matches("./")).and_then(safe_relative);
                match first {
                    Some(first) if self.files.contains(&first) && fs::symlink_metadata(dir.join(&first)).is_ok_and(|m| m.is_file()) => {
                        fs::hard_link(dir.join(&first), &out).map_err(|e| Error::io(&out, &e, true))?;
                        self.files.insert(rel);
                    }
                    _ => {
                        return Err(unsafe_home_archive(
                            &name,
                            format!("the hard link {text} points to {}, not to a file unpacked before it", target.display()),
                        ))
                    }
                }
            }
            Member::Special(what) => return Err(unsafe_home_archive(&name, format!("the member {text} is {what}"))),
        }
        Ok(())
    }

    /// Folders get their modes and times last: a read-only folder would refuse its own members.
    fn finish(self) {
        for (rel, mode, mtime) in self.times.into_iter().rev() {
            let out = self.dir.join(rel);
            let _ = fs::set_permissions(&out, fs::Permissions::from_mode(mode));
            set_mtime(&out, mtime);
        }
    }
}

/// Unpack `archive` (tar.gz, or zip as FPP's `-zip` takes) below `dir`, within bounds.
fn unpack_home(archive: &Path, dir: &Path, free: u64, cancel: &CancelToken, read: &AtomicU64) -> Result<()> {
    let name = archive.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut f = crate::detect::open_regular(archive)?;
    let mut magic = [0u8; 4];
    let n = f.read(&mut magic).map_err(|e| Error::io(archive, &e, false))?;
    use std::io::Seek;
    f.seek(std::io::SeekFrom::Start(0)).map_err(|e| Error::io(archive, &e, false))?;
    let mut unpacker =
        Unpacker { name: name.clone(), dir, free, dirs: HashSet::new(), files: HashSet::new(), declared: 0, times: Vec::new() };
    if n == 4 && magic == *b"PK\x03\x04" {
        unpack_zip(f, &mut unpacker, cancel, read)?;
        unpacker.finish();
        return Ok(());
    }
    let counted = CountingReader { inner: std::io::BufReader::new(f), read };
    let gz = flate2::read::GzDecoder::new(counted);
    let limits = crate::archive::Limits { max_entries: MAX_IMPORT_ENTRIES, refuse_more_entries: true };
    let damaged = |e: &std::io::Error| {
        Error::new(
            code::INVALID_CONTENT,
            format!("{name} is not a readable tar.gz or zip ({e})."),
            "It may be cut short by an interrupted download, or not an archive of a home.",
            "Copy the archive again and compare its checksum.",
        )
    };
    crate::archive::walk(gz, &name, limits, &damaged, |entry| {
        if cancel.is_cancelled() {
            return Err(Error::cancelled());
        }
        let raw = entry.path().map_err(|e| unsafe_home_archive(&name, e.to_string()))?.into_owned();
        let text = raw
            .to_str()
            .ok_or_else(|| unsafe_home_archive(&name, format!("the member {} has a name that is not UTF-8", raw.display())))?
            .to_string();
        let header = entry.header();
        let mode = header.mode().unwrap_or(0o644) & 0o7777;
        let mtime = header.mtime().unwrap_or(0) as i64;
        let link = || entry.link_name().ok().flatten().map(|t| t.into_owned()).unwrap_or_default();
        let member = match header.entry_type() {
            tar::EntryType::Directory => Member::Dir,
            tar::EntryType::Symlink => Member::Symlink(link()),
            tar::EntryType::Link => Member::Hardlink(link()),
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let len = entry.size();
                unpacker.add(&text, Member::File(entry, len), mode, mtime)?;
                return Ok(crate::archive::Walk::Continue);
            }
            tar::EntryType::Char | tar::EntryType::Block => Member::Special("a device file"),
            tar::EntryType::Fifo => Member::Special("a named pipe"),
            _ => Member::Special("a special entry"),
        };
        unpacker.add(&text, member, mode, mtime)?;
        Ok(crate::archive::Walk::Continue)
    })?;
    unpacker.finish();
    Ok(())
}

/// A zip's members through the same checks; a symlink is a member whose unix mode says so and whose
/// content is its target.
fn unpack_zip(f: File, unpacker: &mut Unpacker<'_>, cancel: &CancelToken, read: &AtomicU64) -> Result<()> {
    let name = unpacker.name.clone();
    let damaged = |e: zip::result::ZipError| {
        Error::new(
            code::INVALID_CONTENT,
            format!("{name} is not a readable zip ({e})."),
            "It may be cut short by an interrupted download.",
            "Copy the archive again and compare its checksum.",
        )
    };
    let mut zip = zip::ZipArchive::new(f).map_err(damaged)?;
    if zip.len() > MAX_IMPORT_ENTRIES {
        return Err(unsafe_home_archive(&name, format!("it has {} members, more than {MAX_IMPORT_ENTRIES}", zip.len())));
    }
    for i in 0..zip.len() {
        if cancel.is_cancelled() {
            return Err(Error::cancelled());
        }
        let mut entry = zip.by_index(i).map_err(damaged)?;
        let text = entry.name().to_string();
        let unix = entry.unix_mode().unwrap_or(if entry.is_dir() { 0o40755 } else { 0o100644 });
        let mode = unix & 0o7777;
        let mtime = entry
            .last_modified()
            .and_then(|t| {
                let month = time::Month::try_from(t.month()).ok()?;
                let date = time::Date::from_calendar_date(t.year().into(), month, t.day()).ok()?;
                let clock = time::Time::from_hms(t.hour(), t.minute(), t.second()).ok()?;
                Some(time::PrimitiveDateTime::new(date, clock).assume_utc().unix_timestamp())
            })
            .unwrap_or(0);
        read.fetch_add(entry.compressed_size(), Ordering::Relaxed);
        let kind = unix & 0o170000;
        if entry.is_dir() || kind == 0o040000 {
            unpacker.add(&text, Member::Dir, mode, mtime)?;
        } else if kind == 0o120000 {
            let mut target = String::new();
            (&mut entry)
                .take(4096)
                .read_to_string(&mut target)
                .map_err(|e| unsafe_home_archive(&name, format!("the link {text} does not read ({e})")))?;
            unpacker.add(&text, Member::Symlink(PathBuf::from(target)), mode, mtime)?;
        } else if kind == 0o100000 || kind == 0 {
            let len = entry.size();
            unpacker.add(&text, Member::File(&mut entry, len), mode, mtime)?;
        } else {
            unpacker.add(&text, Member::Special("a device file, socket or named pipe"), mode, mtime)?;
        }
    }
    Ok(())
}

/// Counts the compressed bytes read (the import's progress).
struct CountingReader<'a, R> {
    inner: R,
    read: &'a AtomicU64,
}

impl<R: Read> Read for CountingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// A gold export's SHA256SUMS must cover every file of its home, and each must match; a file it
/// does not list is refused unless gold.json names it as a hardlink's second name, whose bytes
/// must then equal its first name's (a zip carries it as a copy: it becomes a hardlink again).
/// The manifest's exact times are put back (a zip rounds them to 2 s). Only what the walk found
/// below home/ is touched: a path in gold.json alone is never followed.
fn check_export(root: &Path, name: &str, meta: &serde_json::Value) -> Result<()> {
    let sums = crate::checksum::read_checksum_file(&root.join("SHA256SUMS"))?;
    let listed: HashMap<&str, &str> = sums.entries.iter().map(|e| (e.name.as_str(), e.hex.as_str())).collect();
    let manifest: Vec<GoldEntry> = serde_json::from_value(meta["entries"].clone()).unwrap_or_default();
    let by_path: HashMap<&str, &GoldEntry> = manifest.iter().map(|e| (e.path.as_str(), e)).collect();
    let home = root.join("home");
    let mut found: Vec<(PathBuf, &GoldEntry)> = Vec::new();
    let mut seconds: Vec<(PathBuf, String, String)> = Vec::new();
    for item in walkdir::WalkDir::new(&home).follow_links(false).min_depth(1) {
        let item = item.map_err(|e| unsafe_home_archive(name, e.to_string()))?;
        let rel = item.path().strip_prefix(&home).expect("below").to_string_lossy().into_owned();
        let entry = by_path.get(rel.as_str()).copied();
        if let Some(entry) = entry {
            found.push((item.path().to_path_buf(), entry));
        }
        if !item.file_type().is_file() {
            continue;
        }
        let member = format!("home/{rel}");
        let actual = || -> Result<String> {
            let mut f = File::open(item.path()).map_err(|e| Error::io(item.path(), &e, false))?;
            hash_copy(&mut f, None, &CancelToken::new(), &AtomicU64::new(0)).map_err(|e| Error::io(item.path(), &e, false))
        };
        if let Some(expected) = listed.get(member.as_str()) {
            let actual = actual()?;
            if actual != *expected {
                return Err(sum_mismatch(&member, expected, &actual, name));
            }
            continue;
        }
        let first = entry.and_then(|e| e.link.as_deref()).and_then(|f| by_path.get(f).map(|fe| (f, fe)));
        let Some((first, first_entry)) = first else {
            return Err(unsafe_home_archive(name, format!("{member} is not listed in its SHA256SUMS")));
        };
        let expected = first_entry.sha256.clone().unwrap_or_default();
        let actual = actual()?;
        if actual != expected {
            return Err(sum_mismatch(&member, &expected, &actual, name));
        }
        seconds.push((item.path().to_path_buf(), first.to_string(), member));
    }
    for (path, first, member) in seconds {
        let first_path = home.join(&first);
        // The first name must be a regular file the walk found (not a link out of the home).
        if !fs::symlink_metadata(&first_path).is_ok_and(|m| m.is_file()) {
            return Err(unsafe_home_archive(name, format!("{member} is a hardlink of {first}, which is not a file of the home")));
        }
        if !same_file(&path, &first_path) {
            fs::remove_file(&path).map_err(|e| Error::io(&path, &e, true))?;
            fs::hard_link(&first_path, &path).map_err(|e| Error::io(&path, &e, true))?;
        }
    }
    // Times last, folders after what is in them: writing a folder's entries moves its time.
    found.sort_by_key(|(p, _)| std::cmp::Reverse(p.components().count()));
    for (path, entry) in found {
        match entry.kind {
            EntryKind::Symlink => set_link_mtime(&path, entry.mtime),
            _ => set_mtime(&path, entry.mtime),
        }
    }
    Ok(())
}

fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (fs::metadata(a), fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

fn sum_mismatch(member: &str, expected: &str, actual: &str, name: &str) -> Error {
    let exp = crate::checksum::ExpectedDigest {
        algo: crate::model::Algo::Sha256,
        hex: expected.to_string(),
        source: format!("SHA256SUMS in {name}"),
        from: crate::model::ExpectedFrom::ChecksumFile,
        line: None,
        signature: None,
    };
    crate::import::checksum_mismatch(member, &exp, actual)
}

impl Work for GoldImportWork {
    type Item = GoldImage;
    type Report = CaptureReport;
    const KIND: JobKind = JobKind::Capture;

    fn items(&self) -> Vec<ItemSpec> {
        vec![ItemSpec::new(self.req.archive.display().to_string(), Some(self.size))]
    }

    fn run_item(&self, engine: &Engine, _seq: usize, step: &Step<'_>) -> Result<Done<GoldImage>> {
        let name = self.req.archive.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let dir = engine.store.staging_dir("gold-import")?;
        let _cleanup = RemoveDirOnDrop(dir.clone());
        step.phase("unpacking");
        let read = AtomicU64::new(0);
        let free = engine.store.staging_free_bytes().unwrap_or(u64::MAX);
        std::thread::scope(|scope| {
            let unpacked = scope.spawn(|| unpack_home(&self.req.archive, &dir, free, step.cancel(), &read));
            while !unpacked.is_finished() {
                step.progress(read.load(Ordering::Relaxed));
                std::thread::sleep(Duration::from_millis(100));
            }
            unpacked.join().unwrap_or_else(|_| Err(Error::invalid_argument("unpacking stopped unexpectedly", "Try again.")))
        })?;
        step.check_cancel()?;
        // A gold export: its manifest gives the defaults, its SHA256SUMS is checked. Else the
        // archive is the home (or holds it in its one top folder).
        let (root, meta) = if dir.join("gold.json").is_file() && dir.join("home").is_dir() {
            step.phase("verifying");
            let meta: serde_json::Value = serde_json::from_slice(&fs::read(dir.join("gold.json")).map_err(|e| Error::io(&dir, &e, false))?)
                .map_err(|e| unsafe_home_archive(&name, format!("its gold.json does not read ({e})")))?;
            check_export(&dir, &name, &meta)?;
            (dir.join("home"), Some(meta))
        } else {
            let tops: Vec<PathBuf> = fs::read_dir(&dir).map_err(|e| Error::io(&dir, &e, false))?.flatten().map(|e| e.path()).collect();
            match tops.as_slice() {
                [one] if fs::symlink_metadata(one).is_ok_and(|m| m.is_dir()) => (one.clone(), None),
                _ => (dir.clone(), None),
            }
        };
        let text = |k: &str| meta.as_ref().and_then(|m| m[k].as_str()).filter(|v| !v.is_empty()).map(str::to_string);
        let req = CaptureRequest {
            name: self.req.name.clone(),
            from: root.clone(),
            image_type: text("image_type"),
            series: self.req.series.clone(),
            version: self.req.version.clone().or_else(|| text("version")),
            description: text("description"),
        };
        let found = walk(&root)?;
        let size = found.iter().filter(|f| f.entry.kind == EntryKind::File && f.entry.link.is_none()).map(|f| f.entry.size).sum();
        let capture = CaptureWork { req, found, size, source: Some(self.req.archive.display().to_string()) };
        step.phase_sized("hashing", size);
        Ok(Done::new(Outcome::Captured, capture.store_all(engine, step)?))
    }

    fn summary(&self, ends: &[ItemEnd<GoldImage>]) -> String {
        capture_summary(ends)
    }

    fn report(self, _engine: &Engine, job: JobSummary, ends: Vec<ItemEnd<GoldImage>>) -> Result<CaptureReport> {
        let image = runner::single_result(ends)?;
        Ok(CaptureReport { job, image: Some(image) })
    }
}

/// Removes an unpacked archive from staging however the import ends.
struct RemoveDirOnDrop(PathBuf);

impl Drop for RemoveDirOnDrop {
    fn drop(&mut self) {
        let _ = make_writable_all(&self.0);
        let _ = fs::remove_dir_all(&self.0);
    }
}

// --- Provision -------------------------------------------------------------------------------------

/// What a provision takes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ProvisionRequest {
    pub image: String,
    pub to: PathBuf,
    /// Provision an image that is not published (testable or restricted) all the same.
    pub allow_unpublished: bool,
}

/// The provision job: one item, the working copy.
pub struct ProvisionWork {
    image: GoldImage,
    target: PathBuf,
    manifest: Vec<GoldEntry>,
}

/// A manifest path as a relative path of normal components only: no `..`, no root, no `.`.
fn safe_relative(path: &str) -> Option<PathBuf> {
    // Checked on the text: Path::components would quietly drop an inner "." or a doubled "/".
    let plain = |s: &str| !s.is_empty() && s != "." && s != ".." && !s.contains('\0');
    if !path.split('/').all(plain) || Path::new(path).components().any(|c| !matches!(c, Component::Normal(_))) {
        return None;
    }
    Some(PathBuf::from(path))
}

fn unsafe_manifest(image: &str, path: &str) -> Error {
    Error::new(
        code::UNSAFE_ARCHIVE,
        format!("The gold image {image} names a path that would leave the working copy: {path}."),
        "Every path of a manifest must stay below the folder it is provisioned into; this one does not, so nothing was written.",
        "Delete this image and capture the home again.",
    )
}

impl Engine {
    /// Check a provision before its job exists: the image may be provisioned, the target is a new
    /// or empty folder outside the repository.
    pub fn provision_work(&self, req: &ProvisionRequest) -> Result<ProvisionWork> {
        self.check_writable()?;
        let conn = self.db();
        let image = get_image(&conn, &req.image)?;
        match image.state {
            GoldState::Archived => {
                return Err(Error::new(
                    code::IMAGE_ARCHIVED,
                    format!("{} is archived and is not provisioned any more.", image.name),
                    "Archived images are kept for their history, hidden from new provisioning.",
                    format!("Unarchive it (`imagesmith-cli gold unarchive {}`) or provision the series' current image.", image.name),
                ))
            }
            GoldState::Testable | GoldState::Restricted if !req.allow_unpublished => return Err(Error::new(
                code::NOT_PUBLISHED,
                format!("{} is {}, not published.", image.name, image.state),
                "Only published images are provisioned without asking: a testable or restricted image may not be ready for general use.",
                format!(
                    "Promote it (`imagesmith-cli gold promote {} published`), or provision it anyway with --allow-unpublished.",
                    image.name
                ),
            )),
            _ => {}
        }
        let manifest = entries(&conn, image.id)?;
        drop(conn);
        for e in &manifest {
            if safe_relative(&e.path).is_none() || e.link.as_deref().is_some_and(|l| safe_relative(l).is_none()) {
                return Err(unsafe_manifest(&image.name, &e.path));
            }
        }
        let target = PathBuf::from(absolute(&req.to)?);
        match fs::symlink_metadata(&target) {
            Ok(m) if m.is_dir() => {
                let empty = fs::read_dir(&target).map_err(|e| Error::io(&target, &e, false))?.next().is_none();
                if !empty {
                    return Err(Error::new(
                        code::TARGET_NOT_EMPTY,
                        format!("{} is not empty.", target.display()),
                        "A working copy is provisioned into a new or empty folder, so nothing of yours is overwritten or mixed in.",
                        "Choose an empty folder, or a name that does not exist yet.",
                    ));
                }
            }
            Ok(_) => {
                return Err(Error::new(
                    code::TARGET_NOT_EMPTY,
                    format!("{} exists and is not a folder.", target.display()),
                    "A working copy is provisioned into a new or empty folder.",
                    "Choose another name.",
                ))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let parent = target.parent().unwrap_or(Path::new("/"));
                if !parent.is_dir() {
                    return Err(Error::io(parent, &std::io::Error::from(std::io::ErrorKind::NotFound), false));
                }
            }
            Err(e) => return Err(Error::io(&target, &e, false)),
        }
        if self.store.is_repository_path(target.parent().unwrap_or(&target)) {
            return Err(Error::invalid_argument(
                format!("{} is inside the repository.", target.display()),
                "Provision working copies outside the repository.",
            ));
        }
        Ok(ProvisionWork { image, target, manifest })
    }

    pub fn provision(&self, req: &ProvisionRequest, cancel: &CancelToken, sink: &(dyn Fn(&JobProgress) + Sync)) -> Result<ProvisionReport> {
        let work = self.provision_work(req)?;
        self.run(work, cancel, sink)
    }

    /// Remove the hidden folders of provisions whose process died (`live`: sessions alive now).
    pub(crate) fn settle_provisions(&self, live: &HashSet<String>) -> Result<usize> {
        let rows: Vec<(String, String)> = {
            let conn = self.db();
            let mut stmt = conn.prepare("SELECT temp_path, session FROM provisions_in_flight")?;

            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<crate::db::SqlResult<_>>()?
        };
        let mut removed = 0;
        for (temp, session) in rows {
            if live.contains(&session) {
                continue;
            }
            let gone = match fs::remove_dir_all(&temp) {
                Ok(()) => {
                    removed += 1;
                    true
                }
                Err(e) => e.kind() == std::io::ErrorKind::NotFound,
            };
            if gone {
                self.db().execute("DELETE FROM provisions_in_flight WHERE temp_path = ?1", [&temp])?;
            }
        }
        Ok(removed)
    }
}

/// Removes a half-built working copy (and its row) unless disarmed.
struct HalfBuilt<'a> {
    engine: &'a Engine,
    temp: Option<PathBuf>,
}

impl Drop for HalfBuilt<'_> {
    fn drop(&mut self) {
        if let Some(t) = self.temp.take() {
            let _ = make_writable_all(&t);
            let _ = fs::remove_dir_all(&t);
            if let Some(s) = t.to_str() {
                let _ = self.engine.db().execute("DELETE FROM provisions_in_flight WHERE temp_path = ?1", [s]);
            }
        }
    }
}

/// Folders made read-only by a manifest would block their own removal.
fn make_writable_all(dir: &Path) -> std::io::Result<()> {
    for item in walkdir::WalkDir::new(dir).follow_links(false).into_iter().flatten() {
        if item.file_type().is_dir() {
            let _ = fs::set_permissions(item.path(), fs::Permissions::from_mode(0o700));
        }
    }
    Ok(())
}

/// A symbolic link's own time (lutimes): opening it would change its target's instead.
fn set_link_mtime(path: &Path, secs: i64) {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else { return };
    let t = libc::timespec { tv_sec: secs as libc::time_t, tv_nsec: 0 };
    let times = [t, t];
    // SAFETY: a valid NUL-terminated path and two timespecs, as utimensat(2) takes them.
    unsafe {
        libc::utimensat(libc::AT_FDCWD, c.as_ptr(), times.as_ptr(), libc::AT_SYMLINK_NOFOLLOW);
    }
}

fn set_mtime(path: &Path, secs: i64) {
    let t = if secs >= 0 { SystemTime::UNIX_EPOCH + Duration::from_secs(secs as u64) } else { SystemTime::UNIX_EPOCH };
    if let Ok(f) = File::open(path) {
        let _ = f.set_modified(t);
    }
}

impl Work for ProvisionWork {
    type Item = WorkingCopy;
    type Report = ProvisionReport;
    const KIND: JobKind = JobKind::Provision;

    fn items(&self) -> Vec<ItemSpec> {
        let size = self.manifest.iter().filter(|e| e.kind == EntryKind::File && e.link.is_none()).map(|e| e.size).sum();
        vec![ItemSpec::new(self.target.display().to_string(), Some(size))]
    }

    fn run_item(&self, engine: &Engine, _seq: usize, step: &Step<'_>) -> Result<Done<WorkingCopy>> {
        let parent = self.target.parent().unwrap_or(Path::new("/"));
        let base = self.target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "copy".into());
        let temp = parent.join(format!(".{base}.imagesmith-{:016x}", rand::random::<u64>()));
        let temp_text = temp
            .to_str()
            .ok_or_else(|| Error::invalid_argument("The folder's name is not UTF-8.", "Choose a plain-text name."))?
            .to_string();
        engine.write(|tx| {
            tx.execute(
                "INSERT INTO provisions_in_flight (temp_path, session, target) VALUES (?1, ?2, ?3)",
                params![temp_text, engine.store.session(), self.target.display().to_string()],
            )?;
            Ok(())
        })?;
        let mut guard = HalfBuilt { engine, temp: Some(temp.clone()) };
        fs::create_dir(&temp).map_err(|e| Error::io(&temp, &e, true))?;
        let mut dirs: HashSet<PathBuf> = HashSet::new();
        let written = AtomicU64::new(0);
        step.phase(&format!("writing {} entries", self.manifest.len()));
        for e in &self.manifest {
            step.check_cancel()?;
            let rel = safe_relative(&e.path).ok_or_else(|| unsafe_manifest(&self.image.name, &e.path))?;
            // Never through a link: the parent must be a folder this provision made (or the top).
            if let Some(p) = rel.parent().filter(|p| !p.as_os_str().is_empty()) {
                if !dirs.contains(p) {
                    return Err(unsafe_manifest(&self.image.name, &e.path));
                }
            }
            let out = temp.join(&rel);
            match e.kind {
                EntryKind::Dir => {
                    fs::create_dir(&out).map_err(|err| Error::io(&out, &err, true))?;
                    dirs.insert(rel);
                }
                EntryKind::Symlink => {
                    let target = e.target.as_deref().unwrap_or_default();
                    std::os::unix::fs::symlink(target, &out).map_err(|err| Error::io(&out, &err, true))?;
                    set_link_mtime(&out, e.mtime);
                }
                EntryKind::File => match &e.link {
                    Some(first) => {
                        let from = temp.join(safe_relative(first).ok_or_else(|| unsafe_manifest(&self.image.name, first))?);
                        fs::hard_link(&from, &out).map_err(|err| Error::io(&out, &err, true))?;
                    }
                    None => {
                        let sha = e.sha256.as_deref().unwrap_or_default();
                        // On a team repository: this desktop's cache, else fetched from the bucket.
                        let object = engine.object_file(sha, step.cancel(), &mut |_| {})?;
                        let mut src = File::open(&object).map_err(|_| crate::store::object_missing(sha, &e.path))?;
                        let mut dst = fs::OpenOptions::new()
                            .write(true)
                            .create_new(true)
                            .custom_flags(libc::O_NOFOLLOW)
                            .open(&out)
                            .map_err(|err| Error::io(&out, &err, true))?;
                        let actual = hash_copy(&mut src, Some(&mut dst), step.cancel(), &written).map_err(|err| {
                            if err.kind() == std::io::ErrorKind::Interrupted {
                                Error::cancelled()
                            } else {
                                Error::io(&out, &err, true)
                            }
                        })?;
                        if actual != sha {
                            return Err(crate::store::object_damaged(&e.path, sha, &actual));
                        }
                        drop(dst);
                        fs::set_permissions(&out, fs::Permissions::from_mode(e.mode)).map_err(|err| Error::io(&out, &err, true))?;
                        set_mtime(&out, e.mtime);
                        step.progress(written.load(Ordering::Relaxed));
                    }
                },
            }
        }
        // Folders last, deepest first: their modes may forbid writing into them, their times move
        // with every entry written.
        for e in self.manifest.iter().rev().filter(|e| e.kind == EntryKind::Dir) {
            let out = temp.join(&e.path);
            let _ = fs::set_permissions(&out, fs::Permissions::from_mode(e.mode));
            set_mtime(&out, e.mtime);
        }
        step.phase("finishing");
        crate::failpoint::failpoint("provision.before_rename");
        // An empty target folder is replaced; a missing one appears.
        if self.target.is_dir() {
            fs::remove_dir(&self.target).map_err(|e| Error::io(&self.target, &e, true))?;
        }
        fs::rename(&temp, &self.target).map_err(|e| Error::io(&self.target, &e, true))?;
        guard.temp = None;
        let path = self.target.display().to_string();
        let now = clock::now();
        engine.write(|tx| {
            tx.execute("DELETE FROM provisions_in_flight WHERE temp_path = ?1", [&temp_text])?;
            tx.execute("DELETE FROM working_copies WHERE path = ?1", [&path])?;
            tx.execute(
                "INSERT INTO working_copies (image_id, path, provisioned_at, job_id) VALUES (?1, ?2, ?3, ?4)",
                params![self.image.id, path, now, step.job_id()],
            )?;
            Ok(())
        })?;
        Ok(Done::new(Outcome::Provisioned, WorkingCopy { path, image: self.image.name.clone(), provisioned_at: now }))
    }

    fn summary(&self, ends: &[ItemEnd<WorkingCopy>]) -> String {
        match ends.first().and_then(|e| e.value.as_ref()) {
            Some(c) => format!("provisioned {} into {}", c.image, c.path),
            None => runner::count_summary(ends),
        }
    }

    fn report(self, _engine: &Engine, job: JobSummary, ends: Vec<ItemEnd<WorkingCopy>>) -> Result<ProvisionReport> {
        let copy = runner::single_result(ends)?;
        Ok(ProvisionReport { job, copy: Some(copy) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_paths_that_would_leave_the_copy_are_refused() {
        for bad in ["../etc/passwd", "/etc/passwd", "a/../../b", "", "./a", "a/./b", "a//b", "a/", "a/\0b"] {
            assert!(safe_relative(bad).is_none(), "{bad:?} was accepted");
        }
        assert_eq!(safe_relative("lib/python3.11/os.py"), Some(PathBuf::from("lib/python3.11/os.py")));
    }

    #[test]
    fn two_manifests_differ_by_content_mode_and_presence() {
        let e = |path: &str, sha: &str, mode: u32| GoldEntry {
            path: path.into(),
            kind: EntryKind::File,
            mode,
            size: 1,
            sha256: Some(sha.into()),
            target: None,
            link: None,
            mtime: 0,
        };
        let a = vec![e("a", "1", 0o644), e("b", "2", 0o644), e("c", "3", 0o644)];
        let b = vec![e("a", "1", 0o755), e("b", "9", 0o644), e("d", "4", 0o644)];
        let d = compare_manifests(&a, &b);
        assert_eq!(
            d,
            Drift { changed: vec!["b".into()], added: vec!["d".into()], removed: vec!["c".into()], mode_changed: vec!["a".into()] }
        );
    }
}
