//! Content-addressed object store: per-process staging sessions, atomic commits, safe removal.
//!
//! Every process that opens the repository gets its own staging folder `staging/<session>/`, held by
//! an exclusive lock on `staging/<session>.lock` for as long as the process lives. A folder whose
//! lock can be taken belongs to a process that died: its files are half-written imports and go.

use crate::error::{code, Error, Result};
use crate::layout::DataLayout;
use std::collections::HashSet;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

pub struct Store {
    layout: DataLayout,
    session: String,
    session_dir: PathBuf,
    _session_lock: Option<File>,
    /// Why nothing can be written (a full disk, a read-only mount): the repository is only read.
    unwritable: Option<Error>,
}

fn write_err(path: &Path, e: std::io::Error) -> Error {
    match e.raw_os_error() {
        Some(libc::EROFS | libc::EACCES | libc::EPERM) => Error::read_only(path, e),
        _ => Error::io(path, &e, true),
    }
}

/// Serialises creating and reaping sessions across processes.
fn registry_lock(staging: &Path) -> Result<File> {
    let path = staging.join(".sessions.lock");
    let f = OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(|e| write_err(&path, e))?;
    f.lock().map_err(|e| write_err(&path, e))?;
    Ok(f)
}

impl Store {
    /// Create the repository folders and this process's staging session.
    pub fn open(layout: &DataLayout) -> Result<Store> {
        Store::open_as(layout, None)
    }

    /// [`Store::open`] with session ids that start with `desktop` and a dash: a team repository's
    /// jobs name their sessions so, and a desktop settles only the jobs of its own sessions.
    pub fn open_as(layout: &DataLayout, desktop: Option<&str>) -> Result<Store> {
        for dir in [layout.root.clone(), layout.objects(), layout.staging()] {
            fs::create_dir_all(&dir).map_err(|e| write_err(&dir, e))?;
        }
        let staging = layout.staging();
        let registry = registry_lock(&staging)?;
        let session = match desktop {
            Some(d) => format!("{d}-{}-{:016x}", std::process::id(), rand::random::<u64>()),
            None => format!("{}-{:016x}", std::process::id(), rand::random::<u64>()),
        };
        let lock_path = staging.join(format!("{session}.lock"));
        let lock = File::create(&lock_path).map_err(|e| write_err(&lock_path, e))?;
        lock.lock().map_err(|e| write_err(&lock_path, e))?;
        let session_dir = staging.join(&session);
        fs::create_dir(&session_dir).map_err(|e| write_err(&session_dir, e))?;
        drop(registry);
        Ok(Store { layout: layout.clone(), session, session_dir, _session_lock: Some(lock), unwritable: None })
    }

    /// A store that only reads: no staging session (making one would write), and every write
    /// refused with `why` (`disk_full`, `repository_read_only`).
    pub fn unwritable(layout: &DataLayout, why: Error) -> Store {
        let session = format!("{}-read-only", std::process::id());
        let session_dir = layout.staging().join(&session);
        Store { layout: layout.clone(), session, session_dir, _session_lock: None, unwritable: Some(why) }
    }

    /// Why this store cannot write, when it cannot.
    pub fn why_unwritable(&self) -> Option<&Error> {
        self.unwritable.as_ref()
    }

    fn writable(&self) -> Result<()> {
        self.unwritable.clone().map_or(Ok(()), Err)
    }

    pub fn session(&self) -> &str {
        &self.session
    }

    /// Sessions whose process is alive (their lock is held), including ours.
    pub fn live_sessions(&self) -> Result<HashSet<String>> {
        if self.unwritable.is_some() {
            // No lock can be taken to look; every other session counts as alive, so nothing of theirs is touched.
            return Ok(self.lock_files().unwrap_or_default().into_iter().map(|(id, _)| id).chain([self.session.clone()]).collect());
        }
        let staging = self.layout.staging();
        let _registry = registry_lock(&staging)?;
        let mut live = HashSet::new();
        for (id, lock_path) in self.lock_files()? {
            if id == self.session || is_held(&lock_path) {
                live.insert(id);
            }
        }
        Ok(live)
    }

    /// Remove the staging folders of dead processes. Call after their jobs were marked interrupted.
    pub fn reap_dead_sessions(&self) -> Result<usize> {
        self.writable()?;
        let staging = self.layout.staging();
        let _registry = registry_lock(&staging)?;
        let mut reaped = 0;
        for (id, lock_path) in self.lock_files()? {
            if id == self.session || is_held(&lock_path) {
                continue;
            }
            remove_gone_session(&staging.join(&id))?;
            let _ = fs::remove_file(&lock_path);
            reaped += 1;
        }
        // Folders without a lock file (lock removed by hand) are dead too.
        for entry in fs::read_dir(&staging).map_err(|e| write_err(&staging, e))? {
            let entry = entry.map_err(|e| write_err(&staging, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            if path.is_dir() && name != self.session && !staging.join(format!("{name}.lock")).exists() {
                remove_gone_session(&path)?;
                reaped += 1;
            }
        }
        Ok(reaped)
    }

    fn lock_files(&self) -> Result<Vec<(String, PathBuf)>> {
        let staging = self.layout.staging();
        let mut out = Vec::new();
        for entry in fs::read_dir(&staging).map_err(|e| write_err(&staging, e))? {
            let entry = entry.map_err(|e| write_err(&staging, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(id) = name.strip_suffix(".lock").filter(|id| !id.starts_with('.')) {
                out.push((id.to_string(), entry.path()));
            }
        }
        Ok(out)
    }

    /// A new, empty folder in this process's session folder (for unpacking archives).
    pub fn staging_dir(&self, prefix: &str) -> Result<PathBuf> {
        self.writable()?;
        let path = self.session_dir.join(format!("{prefix}-{:016x}", rand::random::<u64>()));
        fs::create_dir(&path).map_err(|e| write_err(&path, e))?;
        Ok(path)
    }

    /// Bytes free for unprivileged writes on the repository's file system (staging is part of it).
    pub fn staging_free_bytes(&self) -> Option<u64> {
        let st = statvfs(&self.layout.root)?;
        Some(st.f_bavail * st.f_frsize)
    }

    /// A new, empty staging file in this process's session folder.
    pub fn staging_file(&self) -> Result<(File, PathBuf)> {
        self.writable()?;
        let path = self.session_dir.join(format!("{:016x}.part", rand::random::<u64>()));
        let f = OpenOptions::new().write(true).create_new(true).open(&path).map_err(|e| write_err(&path, e))?;
        Ok((f, path))
    }

    pub fn object_path(&self, sha256: &str) -> PathBuf {
        self.layout.object_path(sha256)
    }

    /// Where the bytes with `sha256` are fetched into from a team's bucket (kept after a cut, so the
    /// next fetch resumes), and the lock, held until dropped, that keeps two processes of this
    /// desktop from fetching them at once.
    pub fn fetching(&self, sha256: &str) -> Result<(File, PathBuf)> {
        self.writable()?;
        let dir = self.layout.root.join("fetching");
        fs::create_dir_all(&dir).map_err(|e| write_err(&dir, e))?;
        let lock_path = dir.join(format!("{sha256}.lock"));
        let f = OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path).map_err(|e| write_err(&lock_path, e))?;
        f.lock().map_err(|e| write_err(&lock_path, e))?;
        Ok((f, dir.join(format!("{sha256}.part"))))
    }

    /// Move a fully written, fsynced staging file to its content address. Call inside the catalog
    /// write transaction so a concurrent delete of the same content cannot interleave.
    pub fn commit(&self, staged: &Path, sha256: &str) -> Result<PathBuf> {
        let target = self.commit_unsynced(staged, sha256)?;
        sync_dir(target.parent().expect("object path has a parent"));
        Ok(target)
    }

    /// [`Store::commit`] of many objects (a capture of a home): each object folder is synced once
    /// after all the renames instead of once per object. Returns the objects' paths in order; on
    /// error, those already moved are in `moved` for the caller to remove with its transaction.
    pub fn commit_all<'a>(&self, items: impl IntoIterator<Item = (&'a Path, &'a str)>, moved: &mut Vec<PathBuf>) -> Result<()> {
        let mut dirs = std::collections::BTreeSet::new();
        for (staged, sha256) in items {
            let target = self.commit_unsynced(staged, sha256)?;
            dirs.insert(target.parent().expect("object path has a parent").to_path_buf());
            moved.push(target);
        }
        for dir in dirs {
            sync_dir(&dir);
        }
        Ok(())
    }

    fn commit_unsynced(&self, staged: &Path, sha256: &str) -> Result<PathBuf> {
        self.writable()?;
        let target = self.object_path(sha256);
        let dir = target.parent().expect("object path has a parent");
        fs::create_dir_all(dir).map_err(|e| write_err(dir, e))?;
        set_read_only(staged);
        fs::rename(staged, &target).map_err(|e| write_err(&target, e))?;
        Ok(target)
    }

    pub fn is_repository_path(&self, path: &Path) -> bool {
        path.canonicalize().map(|p| self.layout.root.canonicalize().map(|r| p.starts_with(r)).unwrap_or(false)).unwrap_or(false)
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        if self.unwritable.is_some() {
            return; // it made nothing
        }
        // A clean exit leaves nothing behind; the lock file goes with the folder.
        let _ = fs::remove_dir_all(&self.session_dir);
        let _ = fs::remove_file(self.layout.staging().join(format!("{}.lock", self.session)));
    }
}

/// The file system facts of the one holding `path` (free blocks, read-only flag), when it answers.
pub(crate) fn statvfs(path: &Path) -> Option<libc::statvfs> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: a valid NUL-terminated path and a zeroed out-struct of the right type.
    (unsafe { libc::statvfs(c.as_ptr(), &mut st) } == 0).then_some(st)
}

/// Remove a dead session's folder. Its process may be removing it too as it exits (a clean exit
/// removes its own, outside the registry lock): what is already gone is not an error.
fn remove_gone_session(dir: &Path) -> Result<()> {
    match fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(write_err(dir, e)),
        _ => Ok(()),
    }
}

fn is_held(lock_path: &Path) -> bool {
    match File::open(lock_path) {
        Ok(f) => match f.try_lock() {
            Ok(()) => false,
            Err(TryLockError::WouldBlock) => true,
            Err(TryLockError::Error(_)) => true,
        },
        Err(_) => false,
    }
}

fn set_read_only(path: &Path) {
    if let Ok(meta) = fs::metadata(path) {
        let mut perms = meta.permissions();
        perms.set_readonly(true);
        let _ = fs::set_permissions(path, perms);
    }
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

pub fn object_missing(sha256: &str, name: &str) -> Error {
    Error::new(
        code::OBJECT_MISSING,
        format!("The stored copy of {name} is missing (object {sha256})."),
        "The file under objects/ was deleted or moved outside Imagesmith, or the disk lost it.",
        "Import the original file again to restore it, or delete the artifact.",
    )
}

/// A stored object that read back wrong on its way out of the store (export, upload, publish):
/// nothing built from it is kept or sent. `what`: how it differs (`it reads with SHA-256 …`).
pub fn object_damaged(name: &str, sha256: &str, what: &str) -> Error {
    Error::new(
        code::OBJECT_DAMAGED,
        format!("The stored copy of {name} is damaged ({what}; object {sha256}), so it was not sent on."),
        "Every object is re-hashed as it leaves the repository. This one no longer matches what was imported: \
         the file under objects/ was changed by a disk error, a bad sector, or an edit outside Imagesmith.",
        format!("Run `imagesmith-cli verify \"{name}\"` (or Verify in the app) to see which artifacts are damaged, import the original file of {name} again, then retry."),
    )
}

pub fn object_corrupted(sha256: &str, actual: &str, name: &str) -> Error {
    Error::new(
        code::OBJECT_CORRUPTED,
        format!("The stored copy of {name} is damaged: its SHA-256 is {actual}, not {sha256}."),
        "The file under objects/ was changed after import — by a disk error, a bad sector, or an edit outside Imagesmith.",
        "Delete the artifact and import the original file again; check the disk's health.",
    )
}

/// An exclusive lock across processes on `path` (made if missing), held until the returned file
/// is closed; a second taker waits. Serves the download folders, the prune of a team cache and
/// the list of team repositories.
pub(crate) fn lock_exclusive(path: &Path) -> Result<File> {
    let f = lock_file(path)?;
    f.lock().map_err(|e| write_err(path, e))?;
    Ok(f)
}

/// [`lock_exclusive`] if nobody holds a lock on `path` now; `None` rather than waiting.
pub(crate) fn try_lock_exclusive(path: &Path) -> Result<Option<File>> {
    let f = lock_file(path)?;
    match f.try_lock() {
        Ok(()) => Ok(Some(f)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(write_err(path, e)),
    }
}

/// A shared lock on `path` (many holders at once; none while an exclusive one is held).
pub(crate) fn lock_shared(path: &Path) -> Result<File> {
    let f = lock_file(path)?;
    f.lock_shared().map_err(|e| write_err(path, e))?;
    Ok(f)
}

fn lock_file(path: &Path) -> Result<File> {
    OpenOptions::new().create(true).truncate(false).write(true).open(path).map_err(|e| write_err(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A process that exits while another opens the repository removes its own session folder as
    /// the other reaps dead sessions: the reaper finds it gone and goes on. (It failed the other
    /// process's open with write_failed, seen when four processes imported into one repository.)
    #[test]
    fn a_session_folder_that_goes_while_another_process_reaps_does_not_fail_the_reaper() {
        let dir = tempfile::tempdir().unwrap();
        let layout = DataLayout::new(dir.path());
        let reaper = Store::open(&layout).unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        // Another process's session folder, made and removed again and again by its owner.
        let owner = {
            let (staging, stop) = (layout.staging(), stop.clone());
            std::thread::spawn(move || {
                let folder = staging.join("4242-00000000000000ff");
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let _ = fs::create_dir(&folder);
                    let _ = fs::remove_dir(&folder);
                }
            })
        };
        let mut failed = None;
        for _ in 0..3000 {
            if let Err(e) = reaper.reap_dead_sessions() {
                failed = Some(e);
                break;
            }
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        owner.join().unwrap();
        assert!(failed.is_none(), "{failed:?}");
    }
}
