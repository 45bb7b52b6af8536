//! A team repository's catalog in PostgreSQL: the catalog URL (never with a password; TLS verified
//! unless `sslmode=disable` on loopback), connecting with errors an admin can act on, and the
//! append-only schema migrations of `migrations/pg/`, applied by the first connection to an empty
//! database under an advisory lock so two first connections at once make one schema; an older
//! schema is upgraded only when an admin asks (see [`Migrate`]).

use super::{unreachable, who};
use crate::download::percent_decode;
use crate::error::{code, Error, Result};
use crate::secrets::Secret;
use std::time::Duration;

/// The team schema, oldest first: append-only, each file's digest in migrations/pg/SHA256SUMS.
pub(crate) const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/pg/0001_repository.sql"),
    include_str!("../../migrations/pg/0002_catalog.sql"),
    include_str!("../../migrations/pg/0003_who_made.sql"),
    include_str!("../../migrations/pg/0004_object_tombstones.sql"),
    include_str!("../../migrations/pg/0005_uploads.sql"),
    include_str!("../../migrations/pg/0006_who_changed.sql"),
    include_str!("../../migrations/pg/0007_deletions.sql"),
    include_str!("../../migrations/pg/0008_who_saved.sql"),
    include_str!("../../migrations/pg/0009_sessions.sql"),
    include_str!("../../migrations/pg/0010_session_missing_since.sql"),
];

/// The team schema version this build writes.
pub const TEAM_SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// `pg_advisory_xact_lock` key held while the schema is migrated ("imsmmigr").
const MIGRATE_LOCK: i64 = 0x696d_736d_6d69_6772;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A parsed catalog URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogUrl {
    pub user: String,
    pub host: String,
    pub port: u16,
    pub database: String,
    /// TLS (verified) unless the URL said `sslmode=disable`.
    pub tls: bool,
}

impl CatalogUrl {
    /// `postgresql://USER@HOST[:PORT]/DB[?sslmode=disable|require|verify-ca|verify-full]`.
    /// Every TLS mode is verified (chain and host name); `disable` is refused off loopback; a
    /// password in the URL is refused (it would end up in a config file).
    pub fn parse(text: &str) -> Result<CatalogUrl> {
        // The text is never repeated back: it may hold a password where one does not belong.
        let bad = |why: &str| {
            Error::invalid_argument(
                format!("The catalog URL is not usable: {why}."),
                "Give it as postgresql://USER@HOST[:PORT]/DATABASE (the password is asked for, or read from --password-stdin).",
            )
        };
        let url = reqwest::Url::parse(text).map_err(|e| bad(&e.to_string()))?;
        if !matches!(url.scheme(), "postgresql" | "postgres") {
            return Err(bad(&format!("it starts with {}://, not postgresql://", url.scheme())));
        }
        if url.password().is_some() {
            return Err(Error::invalid_argument(
                "The catalog URL holds a password.",
                "Leave the password out of the URL: it is kept in the OS keyring (or asked for), never in a file.",
            ));
        }
        let user = percent_decode(url.username());
        if user.is_empty() {
            return Err(bad("it names no user (postgresql://USER@HOST/DB)"));
        }
        let host = url.host_str().filter(|h| !h.is_empty()).ok_or_else(|| bad("it names no host"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']').to_string();
        let database = percent_decode(url.path().trim_start_matches('/'));
        if database.is_empty() || database.contains('/') {
            return Err(bad("it names no database (postgresql://USER@HOST/DB)"));
        }
        let mut tls = true;
        for (k, v) in url.query_pairs() {
            match (k.as_ref(), v.as_ref()) {
                ("sslmode", "disable") => tls = false,
                ("sslmode", "require" | "verify-ca" | "verify-full") => tls = true,
                ("sslmode", other) => {
                    return Err(bad(&format!(
                        "sslmode={other} would fall back to plain text; use verify-full, or disable on this machine only"
                    )))
                }
                (other, _) => return Err(bad(&format!("the option {other} is not supported (only sslmode)"))),
            }
        }
        let c = CatalogUrl { user, port: url.port().unwrap_or(5432), host, database, tls };
        if !c.tls && !is_loopback(&c.host) {
            return Err(Error::new(
                code::TLS_FAILED,
                format!("The catalog at {} would be reached without TLS.", c.host),
                "sslmode=disable sends the password and every row in the clear; it is allowed only on this machine (127.0.0.1, ::1, localhost).",
                "Enable TLS on the PostgreSQL server and leave sslmode out of the URL (TLS is verified by default).",
            ));
        }
        Ok(c)
    }

    /// The URL without secrets, as shown and saved (user and database percent-encoded, so it
    /// reads back as the same place).
    pub fn display(&self) -> String {
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        let mode = if self.tls { "" } else { "?sslmode=disable" };
        format!("postgresql://{}@{host}:{}/{}{mode}", percent_encode(&self.user), self.port, percent_encode(&self.database))
    }

    fn label(&self) -> String {
        format!("team catalog {}:{}/{}", self.host, self.port, self.database)
    }
}

/// Whether `host` is this machine (where plain HTTP and plain PostgreSQL are allowed).
pub fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost") || h.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A connection to the team catalog.
pub struct Catalog {
    pub(crate) client: postgres::Client,
    pub url: CatalogUrl,
}

impl Catalog {
    /// Connect with this password (TLS verified against the system's CAs and SSL_CERT_FILE).
    pub fn connect(url: &CatalogUrl, password: &Secret) -> Result<Catalog> {
        let mut config = postgres::Config::new();
        config
            .user(&url.user)
            .password(password.expose())
            .host(&url.host)
            .port(url.port)
            .dbname(&url.database)
            .application_name("imagesmith")
            // The repository's tables live in public, whatever schemas the role's search_path names.
            .options("-c search_path=public")
            .connect_timeout(CONNECT_TIMEOUT)
            .keepalives(true);
        let started = std::time::Instant::now();
        let client = if url.tls {
            config.ssl_mode(postgres::config::SslMode::Require);
            let tls = crate::http::tls_config().map_err(|e| crate::remote::tls_failed_to(&url.label(), e))?;
            config.connect(tokio_postgres_rustls::MakeRustlsConnect::new((*tls).clone()))
        } else {
            config.ssl_mode(postgres::config::SslMode::Disable);
            config.connect(postgres::NoTls)
        };
        let client = client.map_err(|e| connect_error(url, &e))?;
        tracing::info!(host = %url.host, port = url.port, database = %url.database, tls = url.tls,
            ms = started.elapsed().as_millis() as u64, "team catalog connected");
        Ok(Catalog { client, url: url.clone() })
    }

    /// The server's version (`15.18`).
    pub fn server_version(&mut self) -> Result<String> {
        let row = self.client.query_one("SHOW server_version", &[]).map_err(|e| self.query_error(&e))?;
        Ok(row.get::<_, String>(0).split_whitespace().next().unwrap_or_default().to_string())
    }

    /// What the repository holds: artifacts, stored objects, their bytes, and jobs in the history.
    pub fn figures(&mut self) -> Result<TeamFigures> {
        let row = self
            .client
            .query_one(
                "SELECT (SELECT count(*) FROM artifacts), (SELECT count(*) FROM objects),
                        (SELECT coalesce(sum(size), 0)::int8 FROM objects), (SELECT count(*) FROM jobs)",
                &[],
            )
            .map_err(|e| self.query_error(&e))?;
        let n = |i: usize| row.get::<_, i64>(i).max(0) as u64;
        Ok(TeamFigures { artifacts: n(0), objects: n(1), stored_bytes: n(2), jobs: n(3) })
    }

    /// The schema version in the database (0: empty).
    pub fn schema_version(&mut self) -> Result<i64> {
        let exists: bool =
            self.client.query_one("SELECT to_regclass('schema_version') IS NOT NULL", &[]).map_err(|e| self.query_error(&e))?.get(0);
        if !exists {
            return Ok(0);
        }
        let v: Option<i64> =
            self.client.query_one("SELECT max(version)::int8 FROM schema_version", &[]).map_err(|e| self.query_error(&e))?.get(0);
        Ok(v.unwrap_or(0))
    }

    /// Check the schema, and write it only as `mode` allows: [`Migrate::Create`] makes the whole
    /// schema and the repository row (named `name`) in an empty database; [`Migrate::Upgrade`]
    /// brings an older schema up to this build's; [`Migrate::Never`] writes nothing. An older
    /// schema otherwise is `team_schema_upgrade_needed` (upgrading locks out every desktop that is
    /// not updated yet, so it is asked for on its own), a newer one `catalog_too_new`, a database
    /// without a repository `catalog_damaged`. Two desktops migrating at once queue on an advisory
    /// lock; the second finds the work done.
    pub fn migrate(&mut self, name: &str, mode: Migrate) -> Result<TeamSchema> {
        let now = self.schema_version()?;
        if now > TEAM_SCHEMA_VERSION {
            return Err(self.too_new(now));
        }
        let allowed = match mode {
            Migrate::Create => now == 0,
            Migrate::Upgrade => true,
            Migrate::Never => false,
        };
        if now < TEAM_SCHEMA_VERSION && !allowed {
            return Err(if now == 0 { self.no_repository() } else { self.upgrade_needed(now) });
        }
        if now < TEAM_SCHEMA_VERSION {
            let by = who();
            let label = self.url.label();
            // READ COMMITTED whatever the server's default: the version is read after the lock is
            // granted, so a second first connection sees the first one's work.
            let mut tx = self
                .client
                .build_transaction()
                .isolation_level(postgres::IsolationLevel::ReadCommitted)
                .start()
                .map_err(|e| query_error(&label, &e))?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATE_LOCK]).map_err(|e| query_error(&label, &e))?;
            tx.batch_execute(
                "CREATE TABLE IF NOT EXISTS schema_version (
                    version int8 PRIMARY KEY,
                    applied_at timestamptz NOT NULL DEFAULT now(),
                    applied_by text NOT NULL)",
            )
            .map_err(|e| query_error(&label, &e))?;
            let current: i64 = tx
                .query_one("SELECT coalesce(max(version), 0)::int8 FROM schema_version", &[])
                .map_err(|e| query_error(&label, &e))?
                .get(0);
            if current > TEAM_SCHEMA_VERSION {
                drop(tx);
                return Err(self.too_new(current));
            }
            for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
                let version = i as i64 + 1;
                tx.batch_execute(sql).map_err(|e| query_error(&label, &e))?;
                tx.execute("INSERT INTO schema_version (version, applied_by) VALUES ($1, $2)", &[&version, &by])
                    .map_err(|e| query_error(&label, &e))?;
                tracing::info!(version, "team catalog migrated");
            }
            tx.execute(
                "INSERT INTO repository (name, created_by) SELECT $1, $2 WHERE NOT EXISTS (SELECT 1 FROM repository)",
                &[&name, &by],
            )
            .map_err(|e| query_error(&label, &e))?;
            tx.commit().map_err(|e| query_error(&label, &e))?;
        }
        self.schema()
    }

    fn no_repository(&self) -> Error {
        Error::new(
            code::CATALOG_DAMAGED,
            format!("The {} holds no Imagesmith repository.", self.url.label()),
            "The database is empty: it was emptied or replaced since this desktop connected, or the URL names another database.",
            "If the repository is to start afresh, connect it again (repo disconnect, then repo connect makes it); otherwise restore the database.",
        )
    }

    fn upgrade_needed(&self, version: i64) -> Error {
        Error::new(
            code::TEAM_SCHEMA_UPGRADE_NEEDED,
            format!("The {} has schema version {version}; this Imagesmith writes {TEAM_SCHEMA_VERSION}.", self.url.label()),
            "Upgrading the team repository's schema locks out every desktop whose Imagesmith is older, so it is never done on the way.",
            "When every admin runs this version or a newer one, upgrade it once: imagesmith-cli repo upgrade NAME \
             (or add --upgrade to repo connect when it is not connected here yet).",
        )
    }

    /// What the database says about the repository (its schema must be this build's or older).
    pub fn schema(&mut self) -> Result<TeamSchema> {
        let version = self.schema_version()?;
        if version > TEAM_SCHEMA_VERSION {
            return Err(self.too_new(version));
        }
        let row = self
            .client
            .query_opt("SELECT id::text, name, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), created_by FROM repository", &[])
            .map_err(|e| self.query_error(&e))?
            .ok_or_else(|| {
                Error::new(
                    code::CATALOG_DAMAGED,
                    format!("The {} has a schema but no repository row.", self.url.label()),
                    "Someone removed it by hand, or the database holds something else.",
                    "Connect again (it is made again), or point at the team's own database.",
                )
            })?;
        Ok(TeamSchema { version, id: row.get(0), name: row.get(1), created_at: row.get(2), created_by: row.get(3) })
    }

    fn too_new(&self, version: i64) -> Error {
        Error::new(
            code::CATALOG_TOO_NEW,
            format!("The {} has schema version {version}; this Imagesmith knows up to {TEAM_SCHEMA_VERSION}.", self.url.label()),
            "Another admin's newer Imagesmith upgraded the team repository; this one cannot read it safely.",
            "Update Imagesmith on this desktop, then connect again.",
        )
    }

    fn query_error(&self, e: &postgres::Error) -> Error {
        query_error(&self.url.label(), e)
    }
}

/// What a connection may write to the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Migrate {
    /// Make the schema in an empty database (the first `repo connect`).
    Create,
    /// Bring an older schema up to this build's, or make it in an empty database (`repo upgrade`,
    /// `repo connect --upgrade`).
    Upgrade,
    /// Write nothing (`repo status`, every other use).
    Never,
}

/// What a team repository holds, from its catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TeamFigures {
    pub artifacts: u64,
    pub objects: u64,
    pub stored_bytes: u64,
    pub jobs: u64,
}

/// What the team catalog says about its repository.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TeamSchema {
    pub version: i64,
    /// The repository's id (a UUID), the same on every desktop.
    pub id: String,
    /// The name the first admin gave it.
    pub name: String,
    pub created_at: String,
    pub created_by: String,
}

/// A failed connection, told by what the admin can do about it.
fn connect_error(url: &CatalogUrl, e: &postgres::Error) -> Error {
    use postgres::error::SqlState;
    let label = url.label();
    if let Some(db) = e.as_db_error() {
        let c = db.code();
        if *c == SqlState::INVALID_PASSWORD || *c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION {
            return Error::new(
                code::AUTH_FAILED,
                format!("The {label} refused the login of \"{}\": {}.", url.user, db.message()),
                "The user name or password is wrong, or pg_hba.conf does not let this user in from here.",
                "Check the user and password (in the CLI: --password-stdin or IMAGESMITH_PASSWORD), then connect again.",
            );
        }
        if *c == SqlState::INVALID_CATALOG_NAME {
            return Error::new(
                code::NOT_FOUND,
                format!("The database \"{}\" does not exist on {}:{}.", url.database, url.host, url.port),
                "A team repository lives in a database made for it; Imagesmith creates the tables, not the database.",
                format!("Ask the database admin to run: createdb -O {} {}", url.user, url.database),
            );
        }
        // A database closed to new connections (ALLOW_CONNECTIONS false, a restore under way) or
        // a server starting or stopping: away for now, not refusing what was asked.
        if [SqlState::OBJECT_NOT_IN_PREREQUISITE_STATE, SqlState::CANNOT_CONNECT_NOW, SqlState::ADMIN_SHUTDOWN].contains(c) {
            return unreachable(&label, db.message());
        }
        return query_error(&label, e);
    }
    if let Some(t) = tls_cause(e) {
        return crate::remote::tls_failed_to(&label, t);
    }
    let text = chain(e);
    if text.contains("server does not support TLS") || text.contains("does not support SSL") {
        return crate::remote::tls_failed_to(&label, "the server does not offer TLS");
    }
    unreachable(&label, &text)
}

/// A failed statement: privileges, a lost connection, or something else.
pub(crate) fn query_error(label: &str, e: &postgres::Error) -> Error {
    use postgres::error::SqlState;
    if let Some(db) = e.as_db_error() {
        if *db.code() == SqlState::INSUFFICIENT_PRIVILEGE {
            return Error::new(
                code::FORBIDDEN,
                format!("The {label} refused: {}.", db.message()),
                "The catalog's user may not create or change the repository's tables.",
                "Make the user the owner of the database (ALTER DATABASE … OWNER TO …), or grant it CREATE on schema public.",
            );
        }
        if *db.code() == SqlState::LOCK_NOT_AVAILABLE {
            return Error::new(
                code::CATALOG_BUSY,
                format!("The {label} is busy: another desktop held the team's write lock for more than 30 seconds."),
                "Every desktop writes to a team repository one at a time; one that hangs, or lost its network in the middle of a write, keeps the others waiting until the server lets its session go.",
                "Try again in a minute; if it keeps happening, ask who is running a long job on the team repository.",
            );
        }
        if [SqlState::TOO_MANY_CONNECTIONS, SqlState::CANNOT_CONNECT_NOW, SqlState::ADMIN_SHUTDOWN].contains(db.code()) {
            return unreachable(label, db.message());
        }
        return Error::new(
            code::CATALOG_FAILED,
            format!("The {label} refused a statement: {} ({}).", db.message(), db.code().code()),
            "The database is not in the state Imagesmith expects.",
            "Try again; if it keeps failing, keep the log (Settings → Open log folder) for a report.",
        );
    }
    // Not an answer from the server: the connection is gone or never was.
    unreachable(label, &chain(e))
}

/// The rustls error under a connection error, if TLS is what failed.
pub(crate) fn tls_cause(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(r) = err.downcast_ref::<rustls::Error>() {
            return Some(r.to_string());
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if let Some(r) = io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                return Some(r.to_string());
            }
        }
        cur = err.source();
    }
    None
}

/// An error with its causes, one sentence.
pub(crate) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(err) = cur {
        let s = err.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = err.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_urls_are_read_and_passwords_and_plain_text_off_this_machine_refused() {
        let u = CatalogUrl::parse("postgresql://alice@db.example.net/images").unwrap();
        assert_eq!(
            (u.user.as_str(), u.host.as_str(), u.port, u.database.as_str(), u.tls),
            ("alice", "db.example.net", 5432, "images", true)
        );
        assert_eq!(u.display(), "postgresql://alice@db.example.net:5432/images");
        let u = CatalogUrl::parse("postgres://bob@127.0.0.1:5433/t?sslmode=disable").unwrap();
        assert_eq!((u.port, u.tls), (5433, false));
        assert_eq!(u.display(), "postgresql://bob@127.0.0.1:5433/t?sslmode=disable");
        assert!(CatalogUrl::parse("postgresql://bob@[::1]:5433/t?sslmode=verify-full").unwrap().tls);
        let code_of = |t: &str| CatalogUrl::parse(t).unwrap_err().code;
        assert_eq!(code_of("postgresql://alice:pw@db/images"), code::INVALID_ARGUMENT);
        assert_eq!(code_of("postgresql://db/images"), code::INVALID_ARGUMENT);
        assert_eq!(code_of("postgresql://a@db/"), code::INVALID_ARGUMENT);
        assert_eq!(code_of("mysql://a@db/x"), code::INVALID_ARGUMENT);
        assert_eq!(code_of("postgresql://a@db/x?sslmode=prefer"), code::INVALID_ARGUMENT);
        assert_eq!(code_of("postgresql://a@db.example.net/x?sslmode=disable"), code::TLS_FAILED);
        assert_eq!(CatalogUrl::parse("postgresql://a%40corp@db/x").unwrap().user, "a@corp");
    }
}
