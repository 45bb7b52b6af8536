//! This desktop's cache of a team repository's objects: how big it is, and pruning it to a limit,
//! least recently used first. Every cached object is also in the bucket, so a pruned one is
//! fetched again when next needed; objects the catalog calls damaged or missing are never pruned
//! (the cache may hold the only good copy), nor objects used in the last minutes (a job may be
//! about to read one it was just handed).

use crate::error::{code, Error, Result};
use crate::Engine;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// Objects used more recently than this are kept whatever the limit.
pub const IN_USE: Duration = Duration::from_secs(600);

/// Opening a repository with a cache limit prunes at most this often.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

const LOCK: &str = ".prune.lock";

/// Whether the last prune of `objects` was long enough ago (its lock file is touched by each).
pub(crate) fn due(objects: &Path) -> bool {
    match std::fs::metadata(objects.join(LOCK)).and_then(|m| m.modified()) {
        Ok(at) => SystemTime::now().duration_since(at).unwrap_or_default() >= PRUNE_EVERY,
        Err(_) => true,
    }
}

/// What this desktop keeps of a team repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CacheUsage {
    /// This desktop's folder for the repository (the objects are under `objects/`).
    pub path: String,
    pub objects: u64,
    pub bytes: u64,
    /// The limit this desktop keeps it under, when one is set (`repo cache --limit`).
    pub limit: Option<u64>,
}

/// What a prune removed and what it left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CachePruned {
    pub removed: u64,
    pub freed: u64,
    pub kept_objects: u64,
    pub kept_bytes: u64,
}

struct Cached {
    path: std::path::PathBuf,
    sha256: String,
    size: u64,
    used: SystemTime,
}

fn cached(objects: &Path) -> Result<Vec<Cached>> {
    let mut out = Vec::new();
    for (sha256, path) in crate::integrity::object_files(objects)? {
        let Ok(meta) = std::fs::metadata(&path) else { continue }; // pruned or collected meanwhile
                                                                   // Last read (atime, as coarse as the mount keeps it) or written, whichever is later.
        let used = [meta.accessed().ok(), meta.modified().ok()].into_iter().flatten().max().unwrap_or(SystemTime::UNIX_EPOCH);
        out.push(Cached { path, sha256, size: meta.len(), used });
    }
    Ok(out)
}

/// Held by every job on a team repository for as long as it runs (shared: many jobs at once), so
/// that no prune takes a cached object from a job that was handed it and reads it later (an
/// export fetches its members first and writes the archive afterwards).
pub(crate) fn reading(objects: &Path) -> Result<std::fs::File> {
    std::fs::create_dir_all(objects).map_err(|e| Error::io(objects, &e, true))?;
    crate::store::lock_shared(&objects.join(LOCK))
}

/// Remove the least recently used objects of `objects` until at most `keep` bytes are left,
/// sparing `spare` and anything used within `in_use`. Never while a job of this desktop reads
/// from the cache ([`reading`]), nor while another prune runs: `in_use` then.
pub(crate) fn prune(objects: &Path, keep: u64, in_use: Duration, spare: &HashSet<String>) -> Result<CachePruned> {
    std::fs::create_dir_all(objects).map_err(|e| Error::io(objects, &e, true))?;
    let Some(lock) = crate::store::try_lock_exclusive(&objects.join(LOCK))? else {
        return Err(Error::new(
            code::IN_USE,
            "This desktop's cache of the team repository is in use.",
            "A job on this desktop is reading files from it (or another prune is running); pruning now could take a file from under it.",
            "Prune again when the job has finished (the jobs panel, or imagesmith-cli jobs, shows it).",
        ));
    };
    let mut all = cached(objects)?;
    all.sort_by_key(|c| c.used);
    let mut total: u64 = all.iter().map(|c| c.size).sum();
    let now = SystemTime::now();
    let mut pruned = CachePruned { removed: 0, freed: 0, kept_objects: all.len() as u64, kept_bytes: total };
    for c in &all {
        if total <= keep {
            break;
        }
        if spare.contains(&c.sha256) || now.duration_since(c.used).unwrap_or_default() < in_use {
            continue;
        }
        match std::fs::remove_file(&c.path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&c.path, &e, true)),
        }
        total -= c.size;
        pruned.removed += 1;
        pruned.freed += c.size;
        pruned.kept_objects -= 1;
    }
    pruned.kept_bytes = total;
    let _ = lock.set_modified(SystemTime::now()); // for `due`
    drop(lock);
    Ok(pruned)
}

fn local_only() -> Error {
    Error::new(
        code::INVALID_ARGUMENT,
        "The local repository is not a cache.",
        "Its objects are the only copy of its files; only a team repository's copies on this desktop can be pruned.",
        "Name a team repository with --repo NAME.",
    )
}

impl Engine {
    /// The objects the catalog does not call intact: never pruned (the cache may hold the only
    /// good copy of one, and a re-import heals the bucket's from it).
    pub(crate) fn not_intact(&self) -> Result<HashSet<String>> {
        let conn = self.db();
        let mut stmt = conn.prepare("SELECT sha256 FROM objects WHERE state <> 'ok'")?;
        let rows: HashSet<String> = stmt.query_map([], |r| r.get(0))?.collect::<crate::db::SqlResult<_>>()?;
        drop(stmt);
        Ok(rows)
    }

    /// How much of the team repository this desktop keeps.
    pub fn cache_usage(&self, limit: Option<u64>) -> Result<CacheUsage> {
        if self.bucket().is_none() {
            return Err(local_only());
        }
        let all = cached(&self.layout().objects())?;
        Ok(CacheUsage {
            path: self.layout().root.display().to_string(),
            objects: all.len() as u64,
            bytes: all.iter().map(|c| c.size).sum(),
            limit,
        })
    }

    /// Prune this desktop's cache of the team repository to `keep` bytes, least recently used
    /// first; objects used in the last `in_use` and objects the catalog does not call intact stay.
    pub fn prune_cache(&self, keep: u64, in_use: Duration) -> Result<CachePruned> {
        if self.bucket().is_none() {
            return Err(local_only());
        }
        let pruned = prune(&self.layout().objects(), keep, in_use, &self.not_intact()?)?;
        tracing::info!(removed = pruned.removed, freed = pruned.freed, kept_bytes = pruned.kept_bytes, keep, "pruned the team cache");
        Ok(pruned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(dir: &Path, byte: u8, size: usize, used_secs_ago: u64) -> String {
        let sha = format!("{:02x}{}", byte, "0".repeat(62));
        let path = dir.join(&sha[..2]).join(&sha[2..]);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, vec![byte; size]).unwrap();
        let when = SystemTime::now() - Duration::from_secs(used_secs_ago);
        let f = std::fs::File::options().write(true).open(&path).unwrap();
        f.set_times(std::fs::FileTimes::new().set_accessed(when).set_modified(when)).unwrap();
        sha
    }

    #[test]
    fn the_least_recently_used_go_first_and_recent_or_spared_objects_stay() {
        let dir = tempfile::tempdir().unwrap();
        let oldest = object(dir.path(), 0xa1, 100, 3 * 86400);
        let old = object(dir.path(), 0xb2, 100, 2 * 86400);
        let damaged = object(dir.path(), 0xc3, 100, 4 * 86400);
        let recent = object(dir.path(), 0xd4, 100, 60);
        let spare: HashSet<String> = [damaged.clone()].into();
        // Keep 250 of 400 bytes: the oldest intact one goes (the damaged one is older but spared).
        let pruned = prune(dir.path(), 250, IN_USE, &spare).unwrap();
        assert_eq!((pruned.removed, pruned.freed, pruned.kept_bytes), (2, 200, 200));
        let left: Vec<String> = cached(dir.path()).unwrap().into_iter().map(|c| c.sha256).collect();
        assert!(!left.contains(&oldest) && !left.contains(&old), "{left:?}");
        assert!(left.contains(&damaged) && left.contains(&recent), "{left:?}");
        // Nothing may go while a job reads from the cache: in_use, and nothing removed.
        let job = reading(dir.path()).unwrap();
        let err = prune(dir.path(), 0, Duration::ZERO, &spare).unwrap_err();
        assert_eq!(err.code, code::IN_USE, "{err:?}");
        assert_eq!(cached(dir.path()).unwrap().len(), 2);
        drop(job);
        // Nothing may go: the recent one is in use, the damaged one spared.
        let pruned = prune(dir.path(), 0, IN_USE, &spare).unwrap();
        assert_eq!((pruned.removed, pruned.kept_objects), (0, 2));
    }
}
