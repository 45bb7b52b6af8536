//! Where the repository lives, and showing it in the file manager.

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
}

#[tauri::command]
#[specta::specta]
pub async fn repository_info(state: State<'_, AppState>) -> Result<RepositoryInfo, IpcError> {
    Ok(RepositoryInfo {
        root: state.engine.layout().root.display().to_string(),
        app_version: env!("CARGO_PKG_VERSION").to_string(),
    })
}

/// Open the repository folder in the desktop's file manager.
#[tauri::command]
#[specta::specta]
pub async fn reveal_repository(state: State<'_, AppState>) -> Result<(), IpcError> {
    let root = state.engine.layout().root.clone();
    blocking(move || {
        tauri_plugin_opener::open_path(&root, None::<&str>).map_err(|err| {
            IpcError::new(
                imagesmith_engine::error::code::OPEN_FAILED,
                format!("Could not open {} in the file manager: {err}.", root.display()),
                "No file manager may be installed or registered for folders on this desktop.",
                "Open the folder yourself; its path is shown above and can be copied.",
            )
        })
    })
    .await
}
