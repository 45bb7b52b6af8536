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
        format!("This repository's catalog was written by a newer Imagesmith (schema {found}; this version knows up to {SCHEMA_VERSION})."),
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

/// A closed word (kind, state, outcome, …) read from a catalog column. A value this binary does
/// not know is an `unknown_value` error naming the column — never silently another word.
pub(crate) fn word<T: std::str::FromStr>(r: &rusqlite::Row<'_>, idx: usize) -> rusqlite::Result<T> {
    let s: String = r.get(idx)?;
    s.parse().map_err(|_| unknown_value(r, idx, &s))
}

/// [`word`] for a column that may be NULL.
pub(crate) fn word_opt<T: std::str::FromStr>(r: &rusqlite::Row<'_>, idx: usize) -> rusqlite::Result<Option<T>> {
    let s: Option<String> = r.get(idx)?;
    s.map(|s| s.parse().map_err(|_| unknown_value(r, idx, &s))).transpose()
}

/// A stored `{code, text, explanation, recovery}`; one that does not read back is `unknown_value`.
pub(crate) fn stored_error(r: &rusqlite::Row<'_>, idx: usize) -> rusqlite::Result<Option<Error>> {
    let s: Option<String> = r.get(idx)?;
    s.map(|s| serde_json::from_str(&s).map_err(|_| unknown_value(r, idx, &s))).transpose()
}

fn unknown_value(r: &rusqlite::Row<'_>, idx: usize, value: &str) -> rusqlite::Error {
    let column = r.as_ref().column_name(idx).map(str::to_string).unwrap_or_else(|_| format!("column {idx}"));
    let shown: String = value.chars().take(80).collect();
    let err = Error::new(
        code::UNKNOWN_VALUE,
        format!("The catalog holds a value this version of Imagesmith does not know: \"{shown}\" in {column}."),
        "The catalog was written by a newer Imagesmith, or changed outside it.",
        "Update Imagesmith to the version that wrote this repository, or restore the catalog from a backup.",
    );
    rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, Box::new(err))
}

#[cfg(test)]
mod tests {
    use super::MIGRATIONS;
    use sha2::{Digest, Sha256};
    use std::path::Path;

    /// migrations/SHA256SUMS holds `sha256sum` lines for every shipped migration (`make lint` also runs
    /// `sha256sum --check` on it): a shipped file that changes, a migration that is not listed, and a
    /// MIGRATIONS entry that is not the file in its place all fail here, by name.
    #[test]
    fn shipped_migrations_are_unchanged_and_every_migration_is_listed() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).expect("crates/engine/migrations/SHA256SUMS");
        let listed: Vec<(&str, &str)> = sums
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.split_once("  ").map(|(hex, name)| (name.trim(), hex)).unwrap_or_else(|| panic!("not a `sha256sum` line: {l}")))
            .collect();
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        files.sort();
        let digest = |bytes: &[u8]| hex::encode(Sha256::digest(bytes));

        let mut problems = Vec::new();
        for name in &files {
            let now = digest(&std::fs::read(dir.join(name)).unwrap());
            match listed.iter().find(|(n, _)| n == name) {
                Some((_, shipped)) if *shipped == now => {}
                Some(_) => problems.push(format!(
                    "{name} changed after it shipped: a shipped migration is never edited; restore it and put the change in a new migration"
                )),
                None => problems.push(format!(
                    "{name} is not in migrations/SHA256SUMS: add it when it ships (`cd crates/engine/migrations && sha256sum {name} >> SHA256SUMS`)"
                )),
            }
        }
        for (name, _) in listed.iter().filter(|(n, _)| !files.iter().any(|f| f == n)) {
            problems.push(format!("{name} is listed in migrations/SHA256SUMS but the file is gone: a shipped migration is never removed"));
        }
        if MIGRATIONS.len() != files.len() {
            problems.push(format!("db.rs MIGRATIONS has {} entries for {} files in migrations/", MIGRATIONS.len(), files.len()));
        }
        for (i, (sql, name)) in MIGRATIONS.iter().zip(&files).enumerate() {
            if digest(sql.as_bytes()) != digest(&std::fs::read(dir.join(name)).unwrap()) {
                problems.push(format!("db.rs MIGRATIONS[{i}] is not {name}: MIGRATIONS lists every file of migrations/ in order"));
            }
        }
        assert!(problems.is_empty(), "migrations:\n  {}", problems.join("\n  "));
    }
}
