//! The catalog database: opening with WAL, foreign keys and a busy timeout, and append-only migrations.

use crate::error::{code, Error, Result};
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use std::path::Path;
use std::time::Duration;

/// Numbered migrations, applied in order; never edit one that has shipped, append a new one.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_catalog.sql"),
    include_str!("../migrations/0002_durability.sql"),
    include_str!("../migrations/0003_profiles.sql"),
    include_str!("../migrations/0004_servers.sql"),
    include_str!("../migrations/0005_publishing.sql"),
    include_str!("../migrations/0006_object_state.sql"),
];

/// The schema version this binary writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

pub fn open(path: &Path) -> Result<Connection> {
    let mut conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| unavailable(path, e))?;
    conn.busy_timeout(Duration::from_secs(30))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    migrate(&mut conn)?;
    Ok(conn)
}

fn unavailable(path: &Path, e: rusqlite::Error) -> Error {
    Error::new(
        code::REPOSITORY_UNAVAILABLE,
        format!("Could not open the catalog {}: {e}.", path.display()),
        "The repository folder may be read-only, on a missing drive, or the file is not an Imagesmith catalog.",
        "Check the repository location (--home or IMAGESMITH_HOME) and its permissions.",
    )
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > SCHEMA_VERSION {
        return Err(too_new(current));
    }
    if current == SCHEMA_VERSION {
        return Ok(());
    }
    // BEGIN IMMEDIATE: two processes opening a fresh repository at once migrate one after the other.
    write(conn, |tx| {
        let current: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if current > SCHEMA_VERSION {
            return Err(too_new(current));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        }
        Ok(())
    })
}

fn too_new(found: i64) -> Error {
    Error::new(
        code::CATALOG_TOO_NEW,
        format!(
            "This repository's catalog was written by a newer Imagesmith (schema {found}; this version knows up to {SCHEMA_VERSION})."
        ),
        "A newer version has upgraded the catalog; an older version cannot safely read or change it.",
        "Install the newer Imagesmith again, or open a different repository.",
    )
}

/// Run `f` in a write transaction that takes the write lock up front (no upgrade deadlocks).
pub fn write<T>(conn: &mut Connection, f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>) -> Result<T> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let out = f(&tx)?;
    tx.commit()?;
    Ok(out)
}
