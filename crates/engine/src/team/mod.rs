//! Team repositories: one repository many desktops share, its catalog in PostgreSQL and its bytes
//! in an S3-compatible bucket. Here: connecting one (URLs checked, secrets from the OS keyring or
//! given, TLS verified), making its schema on the first connection, and telling its status. How the
//! rest of the engine comes to run on it is planned in docs/design/team-repository.md.

pub mod bucket;
pub mod cache;
pub mod catalog;
pub mod config;
pub mod dialect;
pub(crate) mod objects;

use crate::error::{code, Error, Result};
use crate::secrets::{self, Owner, Secret};
use bucket::Bucket;
pub use catalog::Migrate;
use catalog::{Catalog, CatalogUrl, TeamFigures, TeamSchema};
use config::TeamRepo;
use serde::Serialize;

/// What an admin gives to connect a team repository.
#[derive(Debug, Clone, Default)]
pub struct ConnectRequest {
    pub name: String,
    /// `postgresql://USER@HOST[:PORT]/DB`
    pub catalog: String,
    /// `s3://BUCKET[/PREFIX]`
    pub objects: String,
    pub endpoint: String,
    pub region: Option<String>,
    pub access_key_id: String,
}

/// The two secrets of a team repository.
#[derive(Debug, Clone)]
pub struct TeamSecrets {
    /// The PostgreSQL user's password.
    pub catalog: Secret,
    /// The S3 secret access key.
    pub objects: Secret,
}

/// How a team repository answered just now.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TeamStatus {
    /// The name this desktop calls it by.
    pub name: String,
    /// The catalog URL, without secrets.
    pub catalog: String,
    pub objects: String,
    pub endpoint: String,
    pub region: String,
    pub access_key_id: String,
    /// What the catalog says about the repository (id, the name its first admin gave, who made it).
    pub repository: TeamSchema,
    /// The schema version this Imagesmith writes.
    pub schema_expected: i64,
    /// What it holds now.
    pub figures: TeamFigures,
    pub postgres_version: String,
    pub catalog_tls: bool,
    pub objects_tls: bool,
    /// Round trips: connecting to the catalog, and a write, ranged read and delete in the bucket.
    pub catalog_ms: u64,
    pub objects_ms: u64,
}

/// `user@host` of this session: who imported, who ran a job.
pub fn who() -> String {
    format!("{}@{}", crate::catalog::os_user(), host_name())
}

fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf, which lives across the call.
    let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let name = if ok { String::from_utf8_lossy(&buf[..end]).into_owned() } else { String::new() };
    if name.is_empty() {
        "localhost".to_string()
    } else {
        name
    }
}

/// The catalog of a connected team repository, to work on: its schema must be this build's (an
/// older one is `team_schema_upgrade_needed`, nothing is migrated on the way) and its repository the
/// one this desktop connected to.
pub(crate) fn open_catalog(repo: &TeamRepo, s: &TeamSecrets) -> Result<(postgres::Client, TeamSchema)> {
    let url = CatalogUrl::parse(&repo.catalog)?;
    let mut cat = Catalog::connect(&url, &s.catalog)?;
    let schema = cat.migrate(&repo.name, Migrate::Never)?;
    same_repository(repo, &schema)?;
    // A desktop that drops off the network in the middle of a write would hold the team's write
    // lock until the server noticed the dead connection (hours): the server ends such a session.
    cat.client.batch_execute("SET idle_in_transaction_session_timeout = '5min'").map_err(|e| catalog::query_error("team catalog", &e))?;
    Ok((cat.client, schema))
}

/// Namespace of the session locks, `pg_advisory_lock(SESSION_LOCK_NS, lock_key)` ("imss"); pg_locks
/// shows one as classid = the namespace, objid = the key, objsubid = 2.
pub(crate) const SESSION_LOCK_NS: i32 = 0x696d_7373;

/// Register `session` in the team catalog's `sessions` and take its lock on `client`'s connection,
/// which holds it until the connection closes: while it is held, the session's jobs are alive to
/// every desktop. `false` when another connection holds that key (another session drew it, or
/// this session's own lost connection the server has not noticed yet).
pub(crate) fn hold_session(client: &mut postgres::Client, session: &str, key: i32) -> Result<bool> {
    let err = |e: postgres::Error| catalog::query_error("team catalog", &e);
    let held: bool = client.query_one("SELECT pg_try_advisory_lock($1, $2)", &[&SESSION_LOCK_NS, &key]).map_err(err)?.get(0);
    if held {
        client
            .execute(
                "INSERT INTO sessions (id, run_by, pid, started_at, lock_key) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (id) DO UPDATE SET lock_key = excluded.lock_key, missing_since = NULL",
                &[&session, &who(), &i64::from(std::process::id()), &crate::clock::now(), &i64::from(key)],
            )
            .map_err(err)?;
    }
    Ok(held)
}

/// Register `session` with a lock key of its own: `hold_session` with fresh random keys until one is
/// free (another session, or this one's lost connection the server has not let go of yet, may hold a
/// key). The key held, if any.
pub(crate) fn hold_session_anew(client: &mut postgres::Client, session: &str) -> Result<Option<i32>> {
    for _ in 0..8 {
        let key = (rand::random::<u32>() >> 1).max(1) as i32;
        if hold_session(client, session, key)? {
            return Ok(Some(key));
        }
    }
    Ok(None)
}

/// For how long a session's lock must have been missing before its jobs count as abandoned:
/// `IMAGESMITH_SESSION_GRACE` seconds, two minutes if unset. A lost connection, a server restart or
/// a failover takes the lock of a live process too; it takes it again with its next statement.
pub fn session_grace() -> f64 {
    std::env::var("IMAGESMITH_SESSION_GRACE").ok().and_then(|v| v.parse().ok()).unwrap_or(120.0)
}

/// `catalog_damaged` when the database now holds another repository than the one connected here.
fn same_repository(repo: &TeamRepo, schema: &TeamSchema) -> Result<()> {
    match repo.repository_id.as_deref().filter(|id| *id != schema.id) {
        Some(id) => Err(Error::new(
            code::CATALOG_DAMAGED,
            format!("Team repository \"{}\" now points at another repository (id {}, it was {id}).", repo.name, schema.id),
            "The database was replaced or emptied since this desktop connected, or the URL was changed to another team's.",
            format!("If that is intended, connect again: imagesmith-cli repo disconnect {0}, then repo connect {0} ….", repo.name),
        )),
        None => Ok(()),
    }
}

/// This desktop's id in a team repository whose part it keeps in `dir`: random, made once and kept
/// in `dir/desktop-id`. Two machines with the same user and host name (cloned VMs), or one user
/// with two cache folders, are two desktops: each settles only the jobs of its own sessions.
pub(crate) fn desktop_id(dir: &std::path::Path) -> Result<String> {
    let path = dir.join("desktop-id");
    if let Ok(id) = std::fs::read_to_string(&path) {
        let id = id.trim();
        if id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(id.to_string());
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, &e, true))?;
    let id = format!("{:016x}", rand::random::<u64>());
    // Written whole under another name, then linked into place only if nothing is there yet: two
    // processes making it at once agree on the first one's.
    let part = dir.join(format!(".desktop-id.{}.{id}", std::process::id()));
    std::fs::write(&part, &id).map_err(|e| Error::io(&part, &e, true))?;
    let linked = std::fs::hard_link(&part, &path);
    let _ = std::fs::remove_file(&part);
    match linked {
        Ok(()) => Ok(id),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::read_to_string(&path).map(|s| s.trim().to_string()).map_err(|e| Error::io(&path, &e, false))
        }
        Err(e) => Err(Error::io(&path, &e, true)),
    }
}

/// Where this desktop keeps its part of team repositories (staging, running sessions, and from the
/// next stage cached objects), one folder per repository id: `IMAGESMITH_CACHE`, else
/// `<user cache dir>/io.imagesmith.desktop/teams`.
pub fn cache_dir() -> Result<std::path::PathBuf> {
    if let Some(dir) = std::env::var_os("IMAGESMITH_CACHE").filter(|v| !v.is_empty()) {
        return Ok(std::path::PathBuf::from(dir));
    }
    dirs::cache_dir().map(|d| d.join("io.imagesmith.desktop").join("teams")).ok_or_else(|| {
        Error::new(
            code::REPOSITORY_UNAVAILABLE,
            "This account has no cache folder for team repositories.",
            "Neither XDG_CACHE_HOME nor HOME is set.",
            "Set IMAGESMITH_CACHE to a folder Imagesmith may use, then try again.",
        )
    })
}

/// `repository_unreachable`: the catalog or the bucket did not answer.
pub(crate) fn unreachable(what: &str, detail: &str) -> Error {
    Error::new(
        code::REPOSITORY_UNREACHABLE,
        format!("The {what} cannot be reached: {detail}."),
        "The server may be down or restarting, the network or VPN may be off, or a firewall blocks the port.",
        "Check that you are on the team's network and the server runs, then try again: nothing half done is visible to anyone, and an upload goes on from the parts that arrived.",
    )
}

/// A name for a team repository: 1–64 letters, digits, `-`, `_`, `.`; `local` is the desktop's own.
pub fn check_name(name: &str) -> Result<()> {
    let ok = (1..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && name.as_bytes()[0].is_ascii_alphanumeric();
    if !ok {
        return Err(Error::new(
            code::INVALID_NAME,
            format!("\"{name}\" cannot name a team repository."),
            "A team repository's name is 1 to 64 letters, digits, hyphens, underscores and dots, starting with a letter or digit.",
            "Choose a short name such as team or lab-images.",
        ));
    }
    if name.eq_ignore_ascii_case("local") {
        return Err(Error::new(
            code::INVALID_NAME,
            "\"local\" is the name of this desktop's own repository.",
            "`repo use local` goes back to it, so no team repository can be called that.",
            "Choose another name.",
        ));
    }
    Ok(())
}

impl ConnectRequest {
    /// The saved form, every part checked (nothing is contacted).
    pub fn to_repo(&self) -> Result<TeamRepo> {
        check_name(&self.name)?;
        let url = CatalogUrl::parse(&self.catalog)?;
        let (bucket, prefix) = bucket::parse_objects_url(&self.objects)?;
        let endpoint = bucket::check_endpoint(&self.endpoint)?;
        if self.access_key_id.trim().is_empty() {
            return Err(Error::invalid_argument(
                "No access key id was given for the object store.",
                "Give it with --access-key-id (or AWS_ACCESS_KEY_ID); its secret key is asked for.",
            ));
        }
        Ok(TeamRepo {
            name: self.name.clone(),
            catalog: url.display(),
            bucket,
            prefix,
            endpoint,
            region: self.region.clone().filter(|r| !r.trim().is_empty()).unwrap_or_else(|| "us-east-1".to_string()),
            access_key_id: self.access_key_id.trim().to_string(),
            repository_id: None,
            cache_limit: None,
        })
    }
}

/// The keyring accounts of a team repository's two secrets: the catalog's names its URL (user
/// included), the object store's its endpoint, bucket, prefix and access key id.
pub fn accounts(repo: &TeamRepo) -> (String, String) {
    (
        secrets::team_account(Owner::Catalog, &repo.name, &repo.catalog),
        secrets::team_account(Owner::Objects, &repo.name, &repo.objects_target()),
    )
}

/// Where the secrets come from first: what was given for this call (`repo connect`, which is
/// told them), or the keyring (every later use, where a password lying in the environment for
/// something else must not beat the one saved for this repository).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefer {
    Given,
    Keyring,
}

/// The secrets to use, each from `prefer` first, then the other place, else `secret_required`.
pub fn secrets_for(repo: &TeamRepo, catalog: Option<Secret>, objects: Option<Secret>, prefer: Prefer) -> Result<TeamSecrets> {
    let (ca, oa) = accounts(repo);
    let pick = |given: Option<Secret>, account: &str| match prefer {
        Prefer::Given => given.or_else(|| secrets::stored_at(account)),
        Prefer::Keyring => secrets::stored_at(account).or(given),
    };
    let catalog = pick(catalog, &ca)
        .ok_or_else(|| secrets::required(&format!("the catalog of team repository \"{}\" ({})", repo.name, repo.catalog)))?;
    let objects = pick(objects, &oa)
        .ok_or_else(|| secrets::required(&format!("the object store of team repository \"{}\" ({})", repo.name, repo.objects_url())))?;
    Ok(TeamSecrets { catalog, objects })
}

/// Open team repository `name` as connected on this desktop: its secrets from the OS keyring, else
/// the ones given (the CLI passes IMAGESMITH_PASSWORD and AWS_SECRET_ACCESS_KEY).
pub fn open(name: &str, catalog: Option<Secret>, objects: Option<Secret>) -> Result<crate::Engine> {
    let repos = config::Repositories::load()?;
    let repo = repos.get(name).ok_or_else(|| repos.unknown(name))?;
    let secrets = secrets_for(repo, catalog, objects, Prefer::Keyring)?;
    crate::Engine::open_team(repo, &secrets)
}

/// The team repository to open when nothing names one: `IMAGESMITH_REPO` (`local` for the
/// desktop's own), else none when `IMAGESMITH_HOME` names a folder, else the current one (`repo use`).
pub fn chosen_by_environment() -> Result<Option<String>> {
    match std::env::var("IMAGESMITH_REPO").ok().filter(|v| !v.is_empty()) {
        Some(n) if n.eq_ignore_ascii_case("local") => Ok(None),
        Some(n) => {
            let repos = config::Repositories::load()?;
            repos.get(&n).map(|r| Some(r.name.clone())).ok_or_else(|| repos.unknown(&n))
        }
        None if std::env::var_os(crate::layout::HOME_ENV).is_some_and(|v| !v.is_empty()) => Ok(None),
        None => Ok(config::Repositories::load()?.current),
    }
}

/// What connecting a team repository on this desktop came to.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Connected {
    pub status: TeamStatus,
    /// Why the secrets are not in the OS keyring (then they are asked for each time); None when kept.
    pub secrets_not_kept: Option<Error>,
    /// Whether it is the current repository (the one the app opens and the CLI works on).
    pub current: bool,
}

/// Keep at most `limit` bytes of team repository `name` in this desktop's cache (`None`: no
/// limit); the repository as saved now.
pub fn set_cache_limit(name: &str, limit: Option<u64>) -> Result<TeamRepo> {
    let (_, repo) = config::Repositories::change(|repos| {
        let unknown = repos.unknown(name);
        let repo = repos.team.iter_mut().find(|r| r.name.eq_ignore_ascii_case(name)).ok_or(unknown)?;
        repo.cache_limit = limit;
        Ok(repo.clone())
    })?;
    Ok(repo)
}

/// Connect team repository `req` on this desktop — `repo connect` and the app's Connect dialog:
/// check both servers (making the catalog's schema in an empty database, or upgrading it when
/// `mode` says so), then keep the secrets in the OS keyring and the settings in repositories.json.
/// A name pointed somewhere else loses the secrets of the places it no longer points at.
pub fn connect_and_keep(req: ConnectRequest, catalog: Option<Secret>, objects: Option<Secret>, mode: Migrate) -> Result<Connected> {
    let mut repo = req.to_repo()?;
    let before = config::Repositories::load()?.get(&repo.name).cloned();
    let secrets = secrets_for(&repo, catalog, objects, Prefer::Given)?;
    let status = connect(&repo, &secrets, mode)?;
    repo.repository_id = Some(status.repository.id.clone());
    // The same repository connected again keeps this desktop's cache limit.
    repo.cache_limit = before.as_ref().filter(|b| b.repository_id == repo.repository_id).and_then(|b| b.cache_limit);
    let secrets_not_kept = store_secrets(&repo, &secrets).err();
    let (repos, ()) = config::Repositories::change(|repos| {
        repos.team.retain(|r| !r.name.eq_ignore_ascii_case(&repo.name));
        repos.team.push(repo.clone());
        repos.team.sort_by_key(|r| r.name.to_lowercase());
        Ok(())
    })?;
    // Only once the name points at its new place: the secrets of places it no longer points at go
    // (accounts name their places, so one still in use is the one just stored).
    if let Some(b) = &before {
        let (old, new) = (accounts(b), accounts(&repo));
        for account in [old.0, old.1].into_iter().filter(|a| *a != new.0 && *a != new.1) {
            let _ = secrets::forget_at(&account);
        }
    }
    let current = repos.current.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(&repo.name));
    Ok(Connected { status, secrets_not_kept, current })
}

/// Forget team repository `name` on this desktop with its secrets (its data stays on the servers);
/// when it was the current one, the local repository becomes current. Returns it and whether it was.
pub fn disconnect(name: &str) -> Result<(TeamRepo, bool)> {
    let (_, gone) = config::Repositories::change(|repos| {
        let repo = repos.get(name).cloned().ok_or_else(|| repos.unknown(name))?;
        // Secrets first: if the keyring refuses, the entry stays and it can be tried again.
        forget_secrets(&repo)?;
        repos.team.retain(|r| !r.name.eq_ignore_ascii_case(&repo.name));
        let was_current = repos.current.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(&repo.name));
        if was_current {
            repos.current = None;
        }
        Ok((repo, was_current))
    })?;
    Ok(gone)
}

/// Keep both secrets in the OS keyring; `keyring_unavailable` when there is none.
pub fn store_secrets(repo: &TeamRepo, s: &TeamSecrets) -> Result<()> {
    let (ca, oa) = accounts(repo);
    secrets::store_at(&ca, &s.catalog)?;
    secrets::store_at(&oa, &s.objects)
}

/// Forget both secrets (nothing stored is not an error).
pub fn forget_secrets(repo: &TeamRepo) -> Result<()> {
    let (ca, oa) = accounts(repo);
    secrets::forget_at(&ca)?;
    secrets::forget_at(&oa)
}

/// Connect to the catalog (writing its schema only as `mode` allows, see [`Migrate`]) and probe
/// the bucket. The connection that makes the repository names it `repo.name`.
pub fn connect(repo: &TeamRepo, s: &TeamSecrets, mode: Migrate) -> Result<TeamStatus> {
    let url = CatalogUrl::parse(&repo.catalog)?;
    let started = std::time::Instant::now();
    let mut cat = Catalog::connect(&url, &s.catalog)?;
    let catalog_ms = started.elapsed().as_millis() as u64;
    let postgres_version = cat.server_version()?;
    let schema = cat.migrate(&repo.name, mode)?;
    same_repository(repo, &schema)?;
    let figures = cat.figures()?;
    let bucket = Bucket::open(repo, &s.objects)?;
    let session = format!("{}-{}-{:08x}", host_name(), std::process::id(), rand::random::<u32>());
    let objects_ms = bucket.probe(&session)?.as_millis() as u64;
    Ok(TeamStatus {
        name: repo.name.clone(),
        catalog: repo.catalog.clone(),
        objects: repo.objects_url(),
        endpoint: repo.endpoint.clone(),
        region: repo.region.clone(),
        access_key_id: repo.access_key_id.clone(),
        repository: schema,
        schema_expected: catalog::TEAM_SCHEMA_VERSION,
        figures,
        postgres_version,
        catalog_tls: url.tls,
        objects_tls: repo.endpoint.starts_with("https://"),
        catalog_ms,
        objects_ms,
    })
}
