//! The team repositories this desktop knows and which repository is current: `repositories.json`
//! in the app's config folder (`IMAGESMITH_CONFIG` moves it), replaced atomically. It holds names,
//! URLs, the bucket and the access key id — never a password or a secret key (those live in the OS
//! keyring, see [`crate::secrets::team_account`]).

use crate::error::{code, Error, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The folder under the user's config dir, as the desktop identifies the app.
pub const APP_DIR: &str = "io.imagesmith.desktop";
/// Overrides the app's config folder (tests, portable setups).
pub const CONFIG_ENV: &str = "IMAGESMITH_CONFIG";
const FILE: &str = "repositories.json";

/// The app's config folder: `IMAGESMITH_CONFIG`, else `<config dir>/io.imagesmith.desktop`.
pub fn app_config_dir() -> Option<PathBuf> {
    std::env::var_os(CONFIG_ENV).filter(|v| !v.is_empty()).map(PathBuf::from).or_else(|| dirs::config_dir().map(|d| d.join(APP_DIR)))
}

/// One team repository as this desktop reaches it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TeamRepo {
    /// The name this desktop calls it by (`--repo NAME`).
    pub name: String,
    /// `postgresql://USER@HOST[:PORT]/DB[?sslmode=…]`, never with a password.
    pub catalog: String,
    pub bucket: String,
    /// Keys live under this prefix in the bucket ("" for the bucket's root).
    pub prefix: String,
    /// The S3 endpoint (`https://s3.example.net`).
    pub endpoint: String,
    pub region: String,
    pub access_key_id: String,
    /// The team repository's id, learnt on the first connection: a name pointed at another
    /// repository later is noticed.
    pub repository_id: Option<String>,
    /// At most this many bytes of the repository's objects are kept in this desktop's cache
    /// (least recently used pruned when it is opened); none: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_limit: Option<u64>,
}

impl TeamRepo {
    /// `s3://bucket/prefix` as the user wrote it.
    pub fn objects_url(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }

    /// Where the object store's secret points, for its keyring account: endpoint, bucket,
    /// prefix and access key id (another key id or prefix never reuses a saved secret).
    pub fn objects_target(&self) -> String {
        let prefix = if self.prefix.is_empty() { String::new() } else { format!("/{}", self.prefix) };
        format!("{}/{}{prefix} as {}", self.endpoint.trim_end_matches('/'), self.bucket, self.access_key_id)
    }
}

/// What `repositories.json` holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct Repositories {
    /// The team repository commands use when none is named; `None`: the local one.
    pub current: Option<String>,
    pub team: Vec<TeamRepo>,
}

impl Repositories {
    /// The saved repositories (none when there is no file yet).
    pub fn load() -> Result<Repositories> {
        match config_file() {
            Some(f) => read(&f),
            None => Ok(Repositories::default()),
        }
    }

    /// Change the saved repositories: under an exclusive lock on the config folder's
    /// `.repositories.lock`, read them again, apply `f`, and replace the file (written beside it,
    /// flushed, renamed over it). Two commands changing them at once
    /// (two `repo connect`, a `repo use` during a connect) both keep their change.
    pub fn change<T>(f: impl FnOnce(&mut Repositories) -> Result<T>) -> Result<(Repositories, T)> {
        let file = config_file().ok_or_else(no_config_dir)?;
        let dir = file.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, &e, true))?;
        let lock = crate::store::lock_exclusive(&dir.join(".repositories.lock"))?;
        let mut repos = read(&file)?;
        let out = f(&mut repos)?;
        write(&file, &repos)?;
        drop(lock);
        Ok((repos, out))
    }

    /// The team repository saved under this name (any case).
    /// Make `name` the current repository (`local`, any case: the desktop's own); the list as saved.
    pub fn use_repository(name: &str) -> Result<Repositories> {
        let (repos, ()) = Repositories::change(|repos| {
            repos.current = if name.eq_ignore_ascii_case("local") {
                None
            } else {
                Some(repos.get(name).ok_or_else(|| repos.unknown(name))?.name.clone())
            };
            Ok(())
        })?;
        Ok(repos)
    }

    pub fn get(&self, name: &str) -> Option<&TeamRepo> {
        self.team.iter().find(|r| r.name.eq_ignore_ascii_case(name))
    }

    /// `not_found` naming the saved ones, for a name that is none of them.
    pub fn unknown(&self, name: &str) -> Error {
        let known: Vec<&str> = self.team.iter().map(|r| r.name.as_str()).collect();
        Error::new(
            code::NOT_FOUND,
            format!("No team repository is called \"{name}\" on this desktop."),
            if known.is_empty() {
                "No team repository is connected yet.".to_string()
            } else {
                format!("The team repositories here are: {}.", known.join(", "))
            },
            "Connect it first: imagesmith-cli repo connect NAME --catalog postgresql://… --objects s3://… --endpoint URL.",
        )
    }
}

fn no_config_dir() -> Error {
    Error::new(
        code::WRITE_FAILED,
        "There is no config folder to keep the team repositories in.",
        "Neither IMAGESMITH_CONFIG nor the desktop's config folder (XDG_CONFIG_HOME, ~/.config) is set.",
        "Set HOME or IMAGESMITH_CONFIG, then try again.",
    )
}

fn config_file() -> Option<PathBuf> {
    app_config_dir().map(|d| d.join(FILE))
}

fn read(file: &Path) -> Result<Repositories> {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Repositories::default()),
        Err(e) => return Err(Error::io(file, &e, false)),
    };
    serde_json::from_str(&text).map_err(|e| {
        Error::new(
            code::INVALID_CONTENT,
            format!("{} is not a list of team repositories: {e}.", file.display()),
            "The file was changed by hand or by another program.",
            "Mend or delete the file, then connect the team repositories again (their data is not in it).",
        )
    })
}

fn write(file: &Path, repos: &Repositories) -> Result<()> {
    use std::io::Write;
    let dir = file.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, &e, true))?;
    let tmp = dir.join(format!(".{FILE}.{}", std::process::id()));
    let text = serde_json::to_string_pretty(repos).unwrap_or_default();
    let done = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, file));
    done.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(file, &e, true)
    })
}
