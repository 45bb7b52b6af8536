//! Catalog rows and object files agree: each object's state (ok, missing, damaged), object files no
//! row names (orphans) removed, and a deleted artifact's object removed only after its rows commit.
//!
//! Every change here that touches objects/ runs inside a write transaction (BEGIN IMMEDIATE): an
//! import renames its object into objects/ inside its own write transaction, so while we hold the
//! write lock no live process is between that rename and its COMMIT, and a file without a row really
//! is an orphan (left by a process that died there).

use crate::db::{params, Connection};
use crate::error::{Error, Result};
use crate::model::ArtifactState;
use crate::Engine;
use std::collections::HashSet;
use std::fs;
use std::path::Path;

impl Engine {
    /// Record what a re-hash found about an object (verify calls this for every object it checks).
    pub fn record_object_state(&self, sha256: &str, state: ArtifactState) -> Result<()> {
        self.db().execute("UPDATE objects SET state = ?2 WHERE sha256 = ?1", params![sha256, state.as_str()])?;
        Ok(())
    }

    /// `verify` re-hashed the stored copy of `sha256` and found it intact: keep when.
    pub fn record_verified(&self, sha256: &str) -> Result<()> {
        self.db().execute("UPDATE objects SET last_verified_at = ?2 WHERE sha256 = ?1", params![sha256, crate::clock::now()])?;
        Ok(())
    }

    /// Remove object files that no catalog row names — left by an import killed between moving its
    /// file into objects/ and committing its rows, or a delete killed between committing and removing
    /// the file. Returns the SHA-256 of each removed file, in order. Files whose names are not object
    /// names (not 2 + 62 lower-case hex digits) are left alone: Imagesmith did not write them.
    pub fn remove_orphan_objects(&self) -> Result<Vec<String>> {
        let objects = self.layout().objects();
        self.write(|tx| {
            let known = object_rows(tx)?;
            let mut removed = Vec::new();
            for (sha, path) in object_files(&objects)? {
                if !known.contains(&sha) {
                    match fs::remove_file(&path) {
                        Ok(()) => removed.push(sha),
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(Error::io(&path, &e, true)),
                    }
                }
            }
            removed.sort();
            Ok(removed)
        })
    }

    /// After a delete committed: remove the object file unless a row names it again (an import of
    /// the same bytes may have committed in between). A process killed before this leaves an orphan,
    /// which the next open removes (its staging session is found dead) and verify reports.
    pub(crate) fn remove_unreferenced_object(&self, sha256: &str) -> Result<()> {
        let path = self.layout().object_path(sha256);
        self.write(|tx| {
            let named: bool = tx.query_row("SELECT EXISTS (SELECT 1 FROM objects WHERE sha256 = ?1)", [sha256], |r| r.get(0))?;
            if !named {
                match fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(Error::io(&path, &e, true)),
                }
            }
            Ok(())
        })
    }
}

/// Re-importing the bytes of a missing or damaged object put a good copy in place: it is `ok` again,
/// and — freshly written — unsettled until it is known to be on disk (see `durability`).
pub(crate) fn mark_restored(conn: &Connection, sha256: &str) -> Result<()> {
    conn.execute("UPDATE objects SET state = 'ok', unsettled_boot = ?2 WHERE sha256 = ?1", params![sha256, crate::durability::boot_id()])?;
    Ok(())
}

fn object_rows(conn: &Connection) -> Result<HashSet<String>> {
    let mut stmt = conn.prepare("SELECT sha256 FROM objects")?;
    let rows = stmt.query_map([], |r| r.get(0))?.collect::<crate::db::SqlResult<_>>()?;
    Ok(rows)
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Whether any object file is stored (a catalog that is missing or empty then cannot be new).
pub(crate) fn has_object_files(objects: &Path) -> Result<bool> {
    Ok(!object_files(objects)?.is_empty())
}

/// Every file under `objects/sha256/ab/` named like an object: (sha256, path). One readdir per
/// folder, at most 257 in all.
pub(crate) fn object_files(objects: &Path) -> Result<Vec<(String, std::path::PathBuf)>> {
    let mut out = Vec::new();
    let dirs = match fs::read_dir(objects) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(Error::io(objects, &e, false)),
    };
    for dir in dirs {
        let dir = dir.map_err(|e| Error::io(objects, &e, false))?;
        let head = dir.file_name().to_string_lossy().into_owned();
        if !is_lower_hex(&head, 2) || !dir.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            continue;
        }
        let dir_path = dir.path();
        for file in fs::read_dir(&dir_path).map_err(|e| Error::io(&dir_path, &e, false))? {
            let file = file.map_err(|e| Error::io(&dir_path, &e, false))?;
            let rest = file.file_name().to_string_lossy().into_owned();
            if is_lower_hex(&rest, 62) && file.file_type().map(|t| t.is_file()).unwrap_or(false) {
                out.push((format!("{head}{rest}"), file.path()));
            }
        }
    }
    Ok(out)
}
