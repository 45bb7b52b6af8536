//! Where the repository lives, and showing it (and the log folder) in the file manager.

use std::path::Path;

use imagesmith_engine::logging;
use serde::{Deserialize, Serialize};
use tauri::State;

use crate::error::{blocking, IpcError};
use crate::AppState;

/// What the settings screen shows about the repository.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
pub struct RepositoryInfo {
    /// Absolute path of the repository root (catalog.db, objects/, staging/).
    pub root: String,
    /// The app's version, for the about line.
    pub app_version: String,
    /// Why the repository is open only for browsing (a full disk, a read-only mount); None when
    /// it can be changed. Decided when the app started.
    pub read_only: Option<IpcError>,
    /// What it holds and the room left on its disk.
    pub stats: imagesmith_engine::info::RepositoryStats,
    /// The report for a support request (Copy diagnostics): versions, paths, figures, last failures.
    pub diagnostics: String,
    /// The team repository open in this window (then `root` is this desktop's part of it: staging
    /// and cached files); None for the desktop's own repository.
    pub open_team: Option<imagesmith_engine::TeamOpen>,
    /// The team repositories connected on this desktop (`imagesmith-cli repo connect`) and the
    /// current one, which the app opens when it starts and the command line works on.
    pub team: imagesmith_engine::team::config::Repositories,
    /// Why the list of team repositories could not be read (a damaged repositories.json).
    pub team_error: Option<IpcError>,
    /// What this desktop keeps of the team repository open in this window, with its limit; None
    /// for the desktop's own repository.
    pub cache: Option<imagesmith_engine::team::cache::CacheUsage>,
    /// The team repository chosen for this desktop (`repo use`, IMAGESMITH_REPO) when the window
    /// has the local one open instead — its secrets were not in the OS keyring, or the person
    /// chose the local one at launch; the window offers to open it.
    pub chosen_team: Option<String>,
}

#[tauri::command]
#[specta::specta]
pub async fn repository_info(state: State<'_, AppState>) -> Result<RepositoryInfo, IpcError> {
    let engine = state.engine();
    blocking(move || {
        let team = imagesmith_engine::team::config::Repositories::load();
        let cache = match engine.team() {
            Some(open) => {
                let limit = team.as_ref().ok().and_then(|r| r.get(&open.name)).and_then(|r| r.cache_limit);
                // Best effort: a cache folder that cannot be walked must not hide the rest of Settings.
                match engine.cache_usage(limit) {
                    Ok(usage) => Some(usage),
                    Err(e) => {
                        tracing::warn!(code = %e.code, "this desktop's cache could not be measured");
                        None
                    }
                }
            }
            None => None,
        };
        Ok(RepositoryInfo {
            root: engine.layout().root.display().to_string(),
            open_team: engine.team().cloned(),
            app_version: env!("CARGO_PKG_VERSION").to_string(),
            read_only: engine.why_read_only().cloned(),
            stats: engine.repository_stats()?,
            diagnostics: engine.diagnostics("Imagesmith")?,
            team: team.as_ref().cloned().unwrap_or_default(),
            team_error: team.err(),
            cache,
            chosen_team: match engine.team() {
                Some(_) => None,
                None => imagesmith_engine::team::chosen_by_environment().ok().flatten(),
            },
        })
    })
    .await
}

/// Make `name` (a team repository connected on this desktop, or `local`) the current repository
/// and start the app again on it: a window works on one repository for its whole life. The command
/// line follows the same choice.
#[tauri::command]
#[specta::specta]
pub async fn use_repository(state: State<'_, AppState>, name: String) -> Result<(), IpcError> {
    blocking(move || imagesmith_engine::team::config::Repositories::use_repository(&name).map(drop)).await?;
    state.window.restart();
    Ok(())
}

/// What the Connect dialog sends: where the team's catalog and bucket are, and their two secrets
/// (kept in the OS keyring, never in a file or a log; no Debug, so never printed).
#[derive(Clone, Deserialize, specta::Type)]
pub struct ConnectTeam {
    pub name: String,
    /// `postgresql://USER@HOST[:PORT]/DB`
    pub catalog: String,
    /// `s3://BUCKET[/PREFIX]`
    pub objects: String,
    pub endpoint: String,
    pub region: Option<String>,
    pub access_key_id: String,
    pub catalog_password: String,
    pub secret_key: String,
    /// Upgrade a team repository whose schema is older than this Imagesmith's.
    pub upgrade: bool,
}

/// Connect a team repository on this desktop, as `imagesmith-cli repo connect` does: both servers
/// checked, the schema made in an empty database, the secrets kept in the OS keyring.
#[tauri::command]
#[specta::specta]
pub async fn connect_team(state: State<'_, AppState>, request: ConnectTeam) -> Result<imagesmith_engine::team::Connected, IpcError> {
    use imagesmith_engine::secrets::Secret;
    use imagesmith_engine::team::{self, ConnectRequest, Migrate};
    if state.engine().team().is_some_and(|t| t.name.eq_ignore_ascii_case(request.name.trim())) {
        return Err(IpcError::invalid_argument(
            format!("Team repository \"{}\" is open in this window.", request.name.trim()),
            "Use the local repository (or another team repository) first, then connect this name again; or choose another name.",
        ));
    }
    blocking(move || {
        let ConnectTeam { name, catalog, objects, endpoint, region, access_key_id, catalog_password, secret_key, upgrade } = request;
        let req = ConnectRequest { name, catalog, objects, endpoint, region, access_key_id };
        let mode = if upgrade { Migrate::Upgrade } else { Migrate::Create };
        team::connect_and_keep(req, Some(Secret::new(catalog_password)), Some(Secret::new(secret_key)), mode)
    })
    .await
}

/// Forget a team repository on this desktop with its secrets (its data stays on the servers). Not
/// the one open in this window.
#[tauri::command]
#[specta::specta]
pub async fn disconnect_team(state: State<'_, AppState>, name: String) -> Result<(), IpcError> {
    if state.engine().team().is_some_and(|t| t.name.eq_ignore_ascii_case(&name)) {
        return Err(IpcError::invalid_argument(
            format!("Team repository \"{name}\" is open in this window."),
            "Use the local repository (or another team repository) first, then disconnect this one.",
        ));
    }
    blocking(move || imagesmith_engine::team::disconnect(&name).map(drop)).await
}

/// Open team repository `name` in this window, with the secrets typed (each left empty is taken
/// from the OS keyring): for a team repository whose secrets were not in the keyring at launch.
/// They are kept in the keyring when it takes them; `secrets_not_kept` says why not. Refused
/// while jobs run on the repository open now.
#[tauri::command]
#[specta::specta]
pub async fn open_team_here(
    state: State<'_, AppState>,
    name: String,
    catalog_password: String,
    secret_key: String,
) -> Result<Option<IpcError>, IpcError> {
    use imagesmith_engine::secrets::Secret;
    use imagesmith_engine::team::{self, config::Repositories, Prefer};
    let now = state.engine();
    if !now.running_jobs().is_empty() {
        return Err(IpcError::invalid_argument(
            "Jobs are running on the repository open now.",
            "Wait for them to finish (or cancel them), then open the team repository.",
        ));
    }
    let given = |s: String| (!s.is_empty()).then(|| Secret::new(s));
    let (catalog, objects) = (given(catalog_password), given(secret_key));
    let typed = catalog.is_some() || objects.is_some();
    let (engine, not_kept) = blocking(move || {
        let repos = Repositories::load()?;
        let repo = repos.get(&name).ok_or_else(|| repos.unknown(&name))?.clone();
        let secrets = team::secrets_for(&repo, catalog, objects, Prefer::Given)?;
        let engine = imagesmith_engine::Engine::open_team(&repo, &secrets)?;
        let not_kept = if typed { team::store_secrets(&repo, &secrets).err() } else { None };
        Ok((engine, not_kept))
    })
    .await?;
    // Checked again at the swap: a job may have started while the team repository was opened.
    state.replace_engine(std::sync::Arc::new(engine))?;
    Ok(not_kept)
}

/// Keep at most `limit` bytes of the open team repository in this desktop's cache (None: no
/// limit), as `imagesmith-cli repo cache --limit` does; pruned now, least recently used first.
#[tauri::command]
#[specta::specta]
pub async fn set_cache_limit(
    state: State<'_, AppState>,
    limit: Option<u64>,
) -> Result<imagesmith_engine::team::cache::CachePruned, IpcError> {
    let engine = state.engine();
    blocking(move || {
        let Some(open) = engine.team().cloned() else {
            return Err(imagesmith_engine::Error::invalid_argument(
                "The local repository is not a cache.",
                "Open a team repository to limit what this desktop keeps of it.",
            ));
        };
        imagesmith_engine::team::set_cache_limit(&open.name, limit)?;
        engine.prune_cache(limit.unwrap_or(u64::MAX), imagesmith_engine::team::cache::IN_USE)
    })
    .await
}

/// Prune this desktop's cache of the open team repository now: to its limit, or every file not
/// used in the last minutes (each is fetched again from the bucket when needed).
#[tauri::command]
#[specta::specta]
pub async fn prune_cache(state: State<'_, AppState>) -> Result<imagesmith_engine::team::cache::CachePruned, IpcError> {
    let engine = state.engine();
    blocking(move || {
        let limit = engine.team().and_then(|open| imagesmith_engine::team::config::Repositories::load().ok()?.get(&open.name)?.cache_limit);
        engine.prune_cache(limit.unwrap_or(0), imagesmith_engine::team::cache::IN_USE)
    })
    .await
}

/// Open the repository folder in the desktop's file manager.
#[tauri::command]
#[specta::specta]
pub async fn reveal_repository(state: State<'_, AppState>) -> Result<(), IpcError> {
    let root = state.engine().layout().root.clone();
    blocking(move || open_folder(&root, "Open the folder yourself; its path is shown above and can be copied.")).await
}

/// Open the folder of the log files (for a support request) in the desktop's file manager.
#[tauri::command]
#[specta::specta]
pub async fn open_log_folder() -> Result<(), IpcError> {
    blocking(move || {
        let dir = logging::log_dir()?;
        // Made if logging could not start, so the file manager has something to show.
        logging::ensure_log_dir(&dir)?;
        open_folder(&dir, &format!("Open the folder yourself: {}.", dir.display()))
    })
    .await
}

fn open_folder(dir: &Path, recovery: &str) -> Result<(), IpcError> {
    tauri_plugin_opener::open_path(dir, None::<&str>).map_err(|err| {
        IpcError::new(
            imagesmith_engine::error::code::OPEN_FAILED,
            format!("Could not open {} in the file manager: {err}.", dir.display()),
            "No file manager may be installed or registered for folders on this desktop.",
            recovery,
        )
    })
}
