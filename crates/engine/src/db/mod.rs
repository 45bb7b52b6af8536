//! The catalog database: opening with WAL, foreign keys and a busy timeout, and append-only migrations.

use crate::error::{code, Error, Result};
use rusqlite::OpenFlags;
use std::path::Path;
use std::time::Duration;

mod conn;
mod pg;

// Everything the rest of the engine uses of the catalog is named here and in the modules below, and
// nowhere else (a test holds it so): `Connection` is SQLite's for a repository on this desktop or
// PostgreSQL's for a team's (docs/design/team-repository.md §1.1).
pub use conn::Dialect;
pub(crate) use conn::{params, params_from_iter, Connection, OptionalExtension, Row, SqlError, SqlResult, ToCell, Value};
/// SQLite's primary result codes (a full disk, a busy or damaged catalog), for [`crate::error`].
pub(crate) use rusqlite::ErrorCode as SqlErrorCode;

/// Numbered migrations, applied in order; never edit one that has shipped, append a new one.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/0001_catalog.sql"),
    include_str!("../../migrations/0002_durability.sql"),
    include_str!("../../migrations/0003_profiles.sql"),
    include_str!("../../migrations/0004_servers.sql"),
    include_str!("../../migrations/0005_publishing.sql"),
    include_str!("../../migrations/0006_object_state.sql"),
    include_str!("../../migrations/0007_whole_or_nothing.sql"),
    include_str!("../../migrations/0008_verification_evidence.sql"),
    include_str!("../../migrations/0009_gold_images.sql"),
    include_str!("../../migrations/0010_attributes.sql"),
    include_str!("../../migrations/0011_image_stores.sql"),
    include_str!("../../migrations/0012_snapshot_sources.sql"),
    include_str!("../../migrations/0013_profile_edition.sql"),
    include_str!("../../migrations/0014_trusted_keys.sql"),
    include_str!("../../migrations/0015_signatures.sql"),
    include_str!("../../migrations/0016_media_check.sql"),
    include_str!("../../migrations/0017_signature_evidence.sql"),
    include_str!("../../migrations/0018_who.sql"),
    include_str!("../../migrations/0019_who_made.sql"),
    include_str!("../../migrations/0020_who_changed.sql"),
    include_str!("../../migrations/0021_deletions.sql"),
    include_str!("../../migrations/0022_who_saved.sql"),
];

/// The schema version this binary writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Open the catalog at `path`, creating it only when `may_create` (a repository with no stored
/// files yet): a catalog that is missing, empty or cut short while objects exist is `catalog_damaged`,
/// never silently a new, empty one.
pub fn open(path: &Path, may_create: bool) -> Result<Connection> {
    check_file(path, may_create)?;
    let sqlite = |e: rusqlite::Error| Error::from_sqlite(path, &SqlError::from(e));
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| unavailable(path, e))?;
    conn.busy_timeout(Duration::from_secs(30)).map_err(sqlite)?;
    // Already WAL after the first open: then this writes nothing, so a full disk can still be read.
    // Two processes opening a repository the moment it is created can find it busy at once (the
    // switch to WAL needs the file to themselves, and SQLite does not wait for that): try again.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mode: String = loop {
        match conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0)) {
            Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) && std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            other => break other.map_err(sqlite)?,
        }
    };
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::catalog(format!("journal mode is {mode}, not WAL")));
    }
    conn.pragma_update(None, "synchronous", "NORMAL").map_err(sqlite)?;
    conn.pragma_update(None, "foreign_keys", "ON").map_err(sqlite)?;
    let mut conn = Connection::from_sqlite(conn);
    migrate(&mut conn).map_err(|e| if e.is(code::CATALOG_FAILED) { Error::catalog_damaged(path, e.text) } else { e })?;
    Ok(conn)
}

/// Open the catalog only to read it, when the repository cannot be written (`why`): on a full disk or
/// a read-only mount SQLite cannot make its shared-memory index. With no write-ahead log left to
/// apply (a clean close removes it), the file is opened as immutable — read as it is, no locks, no
/// index; otherwise the index is kept in this process's memory (exclusive locking). Nothing is migrated.
pub fn open_read_only(path: &Path, why: &Error) -> Result<Connection> {
    if !path.exists() {
        return Err(why.clone()); // a repository never written cannot be read either
    }
    check_file(path, false)?;
    let sqlite = |e: rusqlite::Error| Error::from_sqlite(path, &SqlError::from(e));
    let wal = path.with_file_name(format!("{}-wal", path.file_name().unwrap_or_default().to_string_lossy()));
    let settled = std::fs::metadata(&wal).map(|m| m.len() == 0).unwrap_or(true);
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    let conn = if settled {
        rusqlite::Connection::open_with_flags(format!("file:{}?immutable=1", uri_path(path)), flags).map_err(sqlite)?
    } else {
        let conn = rusqlite::Connection::open_with_flags(path, flags).map_err(sqlite)?;
        conn.pragma_update(None, "locking_mode", "EXCLUSIVE").map_err(sqlite)?;
        conn
    };
    conn.busy_timeout(Duration::from_secs(30)).map_err(sqlite)?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(sqlite)?;
    if version > SCHEMA_VERSION {
        return Err(too_new(version));
    }
    if version < SCHEMA_VERSION {
        // An older catalog needs its migrations written first.
        return Err(why.clone());
    }
    Ok(Connection::from_sqlite(conn))
}

/// A path as the path part of an SQLite `file:` URI: `%`, `?` and `#` (and bytes outside ASCII) escaped.
fn uri_path(path: &Path) -> String {
    let mut out = String::new();
    for &b in std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str()) {
        if b.is_ascii_graphic() && !matches!(b, b'%' | b'?' | b'#') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Why the folder holding the catalog takes no writes, when it does not: a full disk or a read-only
/// mount or folder.
pub fn unwritable_reason(catalog: &Path) -> Option<Error> {
    let dir = catalog.parent().unwrap_or(Path::new("."));
    if let Some(st) = crate::store::statvfs(dir) {
        if st.f_flag & libc::ST_RDONLY != 0 {
            return Some(Error::read_only(dir, "a read-only file system"));
        }
        if st.f_bavail == 0 {
            return Some(Error::io(catalog, &std::io::Error::from_raw_os_error(libc::ENOSPC), true));
        }
    }
    read_only_dir(catalog).then(|| Error::read_only(dir, "no write permission"))
}

/// The SQLite header says how many pages the file holds; a file shorter than that was cut short.
/// Another process's checkpoint may write page 1 (the new count) before the pages past the old
/// end, so a file caught short is looked at again for up to two seconds before it is called damaged.
fn check_file(path: &Path, may_create: bool) -> Result<()> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        match cut_short(path, may_create)? {
            None => return Ok(()),
            Some(_) if std::time::Instant::now() < deadline => std::thread::sleep(std::time::Duration::from_millis(10)),
            Some((len, expected)) => {
                return Err(Error::catalog_damaged(path, format!("it is {len} bytes but its header says {expected}, so it was cut short")))
            }
        }
    }
}

/// The file's length and the length its header gives it, when it is shorter; the other checks of
/// [`check_file`] as errors.
fn cut_short(path: &Path, may_create: bool) -> Result<Option<(u64, u64)>> {
    let mut header = [0u8; 100];
    let read = match std::fs::File::open(path) {
        Ok(mut f) => std::io::Read::read_exact(&mut f, &mut header),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && may_create => return Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::catalog_damaged(path, "it is missing, but the repository holds stored files"))
        }
        Err(e) => return Err(Error::io(path, &e, false)),
    };
    // The length after the header: a file that grows meanwhile is not taken for one cut short.
    let len = std::fs::metadata(path).map_err(|e| Error::io(path, &e, false))?.len();
    if len == 0 {
        return if may_create {
            Ok(None)
        } else {
            Err(Error::catalog_damaged(path, "it is empty (0 bytes), but the repository holds stored files"))
        };
    }
    if read.is_err() || &header[..16] != b"SQLite format 3\0" {
        return Err(Error::catalog_damaged(path, format!("it is not an SQLite database ({len} bytes without its header)")));
    }
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65536,
        n => n as u64,
    };
    let pages = u32::from_be_bytes([header[28], header[29], header[30], header[31]]) as u64;
    let counter_valid = header[24..28] == header[92..96];
    Ok((counter_valid && pages > 0 && len < pages * page_size).then_some((len, pages * page_size)))
}

fn unavailable(path: &Path, e: rusqlite::Error) -> Error {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::CannotOpen) if read_only_dir(path) => Error::read_only(path, e),
        Some(rusqlite::ErrorCode::CannotOpen) | None => Error::new(
            code::REPOSITORY_UNAVAILABLE,
            format!("Could not open the catalog {}: {e}.", path.display()),
            "The repository folder may be on a missing drive, or the catalog's folder was removed.",
            "Check the repository location (--home or IMAGESMITH_HOME) and that its drive is mounted.",
        ),
        Some(_) => Error::from_sqlite(path, &SqlError::from(e)),
    }
}

/// Whether the folder holding `path` refuses writes (a read-only mount or no write permission).
fn read_only_dir(path: &Path) -> bool {
    let dir = path.parent().unwrap_or(Path::new("."));
    let c = std::ffi::CString::new(std::os::unix::ffi::OsStrExt::as_bytes(dir.as_os_str())).unwrap_or_default();
    // SAFETY: access(2) with a NUL-terminated path and a constant mode.
    unsafe { libc::access(c.as_ptr(), libc::W_OK) != 0 }
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let version = |c: &Connection| -> Result<i64> { Ok(c.query_row("PRAGMA user_version", [], |r| r.get(0))?) };
    let current = version(conn)?;
    if current > SCHEMA_VERSION {
        return Err(too_new(current));
    }
    if current == SCHEMA_VERSION {
        return Ok(());
    }
    // BEGIN IMMEDIATE: two processes opening a fresh repository at once migrate one after the other.
    write(conn, |tx| {
        let current = version(tx)?;
        if current > SCHEMA_VERSION {
            return Err(too_new(current));
        }
        let sqlite = tx.sqlite().expect("a local catalog is SQLite's");
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            sqlite.execute_batch(sql).map_err(SqlError::from)?;
            sqlite.pragma_update(None, "user_version", (i + 1) as i64).map_err(SqlError::from)?;
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

/// Run `f` in a write transaction that holds the write lock from its start (no upgrade deadlocks):
/// SQLite's `BEGIN IMMEDIATE`, or the team catalog's advisory write lock ([`Connection::write`]).
pub fn write<T>(conn: &mut Connection, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
    conn.write(f)
}

/// A closed word (kind, state, outcome, …) read from a catalog column. A value this binary does
/// not know is an `unknown_value` error naming the column — never silently another word.
pub(crate) fn word<T: std::str::FromStr>(r: &Row<'_>, idx: usize) -> SqlResult<T> {
    let s: String = r.get(idx)?;
    s.parse().map_err(|_| unknown_value(r, idx, &s))
}

/// [`word`] for a column that may be NULL.
pub(crate) fn word_opt<T: std::str::FromStr>(r: &Row<'_>, idx: usize) -> SqlResult<Option<T>> {
    let s: Option<String> = r.get(idx)?;
    s.map(|s| s.parse().map_err(|_| unknown_value(r, idx, &s))).transpose()
}

/// A stored `{code, text, explanation, recovery}`; one that does not read back is `unknown_value`.
pub(crate) fn stored_error(r: &Row<'_>, idx: usize) -> SqlResult<Option<Error>> {
    let s: Option<String> = r.get(idx)?;
    s.map(|s| serde_json::from_str(&s).map_err(|_| unknown_value(r, idx, &s))).transpose()
}

fn unknown_value(r: &Row<'_>, idx: usize, value: &str) -> SqlError {
    let column = r.column_name(idx).map(str::to_string).unwrap_or_else(|| format!("column {idx}"));
    let shown: String = value.chars().take(80).collect();
    let err = Error::new(
        code::UNKNOWN_VALUE,
        format!("The catalog holds a value this version of Imagesmith does not know: \"{shown}\" in {column}."),
        "The catalog was written by a newer Imagesmith, or changed outside it.",
        "Update Imagesmith to the version that wrote this repository, or restore the catalog from a backup.",
    );
    SqlError::conversion(idx, err)
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
        let problems = migration_problems("migrations", MIGRATIONS);
        assert!(problems.is_empty(), "migrations:\n  {}", problems.join("\n  "));
    }

    /// Only db.rs names the catalog's driver: everything else goes through `crate::db`, the seam
    /// where a team repository's PostgreSQL catalog comes in (docs/design/team-repository.md).
    #[test]
    fn the_catalogs_driver_is_named_only_in_db() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut naming = Vec::new();
        let mut dirs = vec![src.clone()];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") && !path.starts_with(src.join("db")) {
                    let text = std::fs::read_to_string(&path).unwrap();
                    if text.contains(concat!("rusq", "lite")) {
                        naming.push(path.strip_prefix(&src).unwrap().display().to_string());
                    }
                }
            }
        }
        naming.sort();
        assert!(naming.is_empty(), "these files name the driver; use crate::db's names instead: {naming:?}");
    }

    /// A catalog whose header counts pages its file does not hold yet — as while another process's
    /// checkpoint has written page 1 but not yet the pages past the old end — is not called cut
    /// short once the file catches up; one that stays short is damaged.
    #[test]
    fn a_catalog_caught_in_another_processes_checkpoint_is_not_called_cut_short() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.db");
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE t (x BLOB);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 64) INSERT INTO t SELECT randomblob(1000) FROM n;",
        )
        .unwrap();
        drop(conn);
        let whole = std::fs::read(&path).unwrap();
        let short = dir.path().join("short");
        let put = |bytes: &[u8], to: &Path| {
            // Replaced whole (a rename), so the check never sees a half-written file.
            std::fs::write(&short, bytes).unwrap();
            std::fs::rename(&short, to).unwrap();
        };
        put(&whole[..whole.len() / 2], &path);
        let catching_up = {
            let (path, whole, tmp) = (path.clone(), whole.clone(), dir.path().join("whole"));
            std::thread::spawn(move || {
                // The other process's checkpoint, still writing for a moment.
                std::thread::sleep(std::time::Duration::from_millis(200));
                std::fs::write(&tmp, &whole).unwrap();
                std::fs::rename(&tmp, &path).unwrap();
            })
        };
        assert!(super::check_file(&path, false).is_ok(), "a file that catches up is whole");
        catching_up.join().unwrap();

        put(&whole[..whole.len() / 2], &path);
        let err = super::check_file(&path, false).unwrap_err();
        assert_eq!(err.code, crate::error::code::CATALOG_DAMAGED, "{err:?}");
        assert!(err.text.contains("cut short"), "{}", err.text);
    }

    /// The same rules for the team catalog's PostgreSQL migrations (migrations/pg).
    #[test]
    fn shipped_team_migrations_are_unchanged_and_every_migration_is_listed() {
        let problems = migration_problems("migrations/pg", crate::team::catalog::MIGRATIONS);
        assert!(problems.is_empty(), "migrations/pg:\n  {}", problems.join("\n  "));
    }

    /// What is wrong with the migrations in `sub` (under the crate) against the list compiled in.
    pub(crate) fn migration_problems(sub: &str, migrations: &[&str]) -> Vec<String> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(sub);
        let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap_or_else(|_| panic!("crates/engine/{sub}/SHA256SUMS"));
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
                    "{name} is not in {sub}/SHA256SUMS: add it when it ships (`cd crates/engine/{sub} && sha256sum {name} >> SHA256SUMS`)"
                )),
            }
        }
        for (name, _) in listed.iter().filter(|(n, _)| !files.iter().any(|f| f == n)) {
            problems.push(format!("{name} is listed in {sub}/SHA256SUMS but the file is gone: a shipped migration is never removed"));
        }
        if migrations.len() != files.len() {
            problems.push(format!("the migration list has {} entries for {} files in {sub}/", migrations.len(), files.len()));
        }
        for (i, (sql, name)) in migrations.iter().zip(&files).enumerate() {
            if digest(sql.as_bytes()) != digest(&std::fs::read(dir.join(name)).unwrap()) {
                problems.push(format!("migration [{i}] is not {name}: the list names every file of {sub}/ in order"));
            }
        }
        problems
    }
}
