//! The library: list, count, open, edit and delete artifacts.

use imagesmith_engine::{Artifact, ArtifactPatch, ArtifactQuery};
use tauri::State;

use crate::error::{blocking, IpcError};
use crate::AppState;

#[tauri::command]
#[specta::specta]
pub async fn list_artifacts(state: State<'_, AppState>, query: ArtifactQuery) -> Result<Vec<Artifact>, IpcError> {
    let engine = state.engine();
    blocking(move || engine.list_artifacts(&query)).await
}

#[tauri::command]
#[specta::specta]
pub async fn count_artifacts(state: State<'_, AppState>, query: ArtifactQuery) -> Result<u64, IpcError> {
    let engine = state.engine();
    blocking(move || engine.count_artifacts(&query)).await
}

#[tauri::command]
#[specta::specta]
pub async fn list_os_releases(state: State<'_, AppState>) -> Result<Vec<imagesmith_engine::model::OsRelease>, IpcError> {
    let engine = state.engine();
    blocking(move || engine.os_releases()).await
}

#[tauri::command]
#[specta::specta]
pub async fn get_artifact(state: State<'_, AppState>, id_or_name: String) -> Result<Artifact, IpcError> {
    let engine = state.engine();
    blocking(move || engine.get_artifact(&id_or_name)).await
}

#[tauri::command]
#[specta::specta]
pub async fn update_artifact(state: State<'_, AppState>, id: i64, patch: ArtifactPatch) -> Result<Artifact, IpcError> {
    let engine = state.engine();
    blocking(move || engine.update_artifact(id, &patch)).await
}

/// Refused with code `in_use` while another artifact names this one as its OS image.
#[tauri::command]
#[specta::specta]
pub async fn delete_artifact(state: State<'_, AppState>, id: i64) -> Result<Artifact, IpcError> {
    let engine = state.engine();
    blocking(move || engine.delete_artifact(id)).await
}

/// An answer file's stored text, for the read-only view its lint findings jump into.
#[tauri::command]
#[specta::specta]
pub async fn answer_file_text(state: State<'_, AppState>, id_or_name: String) -> Result<String, IpcError> {
    let engine = state.engine();
    blocking(move || engine.answer_file_text(&id_or_name)).await
}
