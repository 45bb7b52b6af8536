//! Who deleted what: a row per artifact, profile, gold image, working copy, trusted key, image
//! store, file server or cloud target deleted, written in the deletion's own transaction (so it
//! exists exactly when the deletion does), newest first for `imagesmith-cli deleted` and the app's
//! History.

use crate::clock;
use crate::db::{params, Connection};
use crate::error::Result;
use crate::model::string_enum;
use crate::Engine;
use serde::{Deserialize, Serialize};

string_enum!(
    /// What kind of thing was deleted.
    DeletedKind, "deleted kind", UnknownValue {
        Artifact = "artifact", Profile = "profile", Gold = "gold", WorkingCopy = "working_copy", Key = "key",
        Store = "store", Server = "server", Target = "target",
    }
);

/// One deletion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Deletion {
    pub id: i64,
    pub what: DeletedKind,
    /// Its name when it was deleted (a working copy's folder, a key's owner).
    pub name: String,
    /// What identified it beyond its name: an artifact's SHA-256, a key's fingerprint, a store's,
    /// server's or target's address, a gold image's version.
    pub detail: Option<String>,
    pub deleted_at: String,
    /// Who deleted it, as `user@host`.
    pub deleted_by: Option<String>,
}

/// Record a deletion, inside the write that deletes.
pub(crate) fn record(tx: &Connection, what: DeletedKind, name: &str, detail: Option<&str>) -> Result<()> {
    tx.execute(
        "INSERT INTO deletions (what, name, detail, deleted_at, deleted_by) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![what.as_str(), name, detail, clock::now(), crate::team::who()],
    )?;
    Ok(())
}

impl Engine {
    /// The latest `limit` deletions, newest first; of one kind when `what` is given.
    pub fn deletions(&self, what: Option<DeletedKind>, limit: u32) -> Result<Vec<Deletion>> {
        let conn = self.db();
        let mut stmt = conn.prepare_cached(
            "SELECT id, what, name, detail, deleted_at, deleted_by FROM deletions
             WHERE what = ?1 OR ?1 IS NULL ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![what.map(DeletedKind::as_str), limit as i64], |r| {
            Ok(Deletion {
                id: r.get(0)?,
                what: crate::db::word(r, 1)?,
                name: r.get(2)?,
                detail: r.get(3)?,
                deleted_at: r.get(4)?,
                deleted_by: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<crate::db::SqlResult<_>>()?)
    }
}
