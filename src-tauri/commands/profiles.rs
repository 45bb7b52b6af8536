//! Deployment profiles: list, open, compose, clone, rename, delete; export and import as jobs.

use std::collections::BTreeMap;
use std::path::PathBuf;

use imagesmith_engine::export::{ExportReport, ExportRequest};
use imagesmith_engine::profile_import::ProfileImportReport;
use imagesmith_engine::{JobProgress, Profile};
use tauri::ipc::Channel;
use tauri::State;

use crate::error::{blocking, IpcError};
use crate::AppState;

#[tauri::command]
#[specta::specta]
pub async fn list_profiles(state: State<'_, AppState>) -> Result<Vec<Profile>, IpcError> {
    let engine = state.engine();
    blocking(move || engine.list_profiles()).await
}

/// One profile by name (ignoring case) or id.
#[tauri::command]
#[specta::specta]
pub async fn get_profile(state: State<'_, AppState>, profile: String) -> Result<Profile, IpcError> {
    let engine = state.engine();
    blocking(move || engine.get_profile(&profile)).await
}

/// What lint finds in each answer file of a profile, checked against its base image.
#[tauri::command]
#[specta::specta]
pub async fn lint_profile(state: State<'_, AppState>, profile: String) -> Result<Vec<imagesmith_engine::lint::MemberLint>, IpcError> {
    let engine = state.engine();
    blocking(move || engine.lint_profile(&profile)).await
}

/// A new profile on an OS image (`base`: its id or name); on a Windows installer `edition` (its
/// index) picks the edition it installs. Refused with `name_taken`, `image_not_found` or, for an
/// edition the image lacks, `invalid_argument`; nothing is created then.
#[tauri::command]
#[specta::specta]
pub async fn create_profile(
    state: State<'_, AppState>,
    name: String,
    base: String,
    description: String,
    edition: Option<u32>,
) -> Result<Profile, IpcError> {
    let engine = state.engine();
    blocking(move || engine.create_profile(&name, &base, &description, edition.map(|i| i.to_string()).as_deref())).await
}

/// Choose the Windows edition (its index in install.wim) a profile installs; None leaves the
/// choice to Setup. An index the base image lacks is refused with `invalid_argument`.
#[tauri::command]
#[specta::specta]
pub async fn set_profile_edition(state: State<'_, AppState>, profile: String, edition: Option<u32>) -> Result<Profile, IpcError> {
    let engine = state.engine();
    blocking(move || engine.set_profile_edition(&profile, edition.map(|i| i.to_string()).as_deref())).await
}

/// Add library artifacts (ids or names). What does not fit the base OS is refused with the reason
/// (`unsupported_type`) and nothing changes.
#[tauri::command]
#[specta::specta]
pub async fn add_to_profile(state: State<'_, AppState>, profile: String, artifacts: Vec<String>) -> Result<Profile, IpcError> {
    let engine = state.engine();
    blocking(move || engine.add_to_profile(&profile, &artifacts)).await
}

#[tauri::command]
#[specta::specta]
pub async fn remove_from_profile(state: State<'_, AppState>, profile: String, artifacts: Vec<String>) -> Result<Profile, IpcError> {
    let engine = state.engine();
    blocking(move || engine.remove_from_profile(&profile, &artifacts)).await
}

/// Set install options; an empty value removes the option.
#[tauri::command]
#[specta::specta]
pub async fn set_profile_options(
    state: State<'_, AppState>,
    profile: String,
    options: BTreeMap<String, String>,
) -> Result<Profile, IpcError> {
    let engine = state.engine();
    let options: Vec<(String, String)> = options.into_iter().collect();
    blocking(move || engine.set_profile_options(&profile, &options)).await
}

/// Rename and/or describe; `None` leaves a field as it is.
#[tauri::command]
#[specta::specta]
pub async fn update_profile(
    state: State<'_, AppState>,
    profile: String,
    name: Option<String>,
    description: Option<String>,
) -> Result<Profile, IpcError> {
    let engine = state.engine();
    blocking(move || engine.update_profile(&profile, name.as_deref(), description.as_deref())).await
}

/// Copy a profile (members and options) under a new name.
#[tauri::command]
#[specta::specta]
pub async fn clone_profile(state: State<'_, AppState>, profile: String, new_name: String) -> Result<Profile, IpcError> {
    let engine = state.engine();
    blocking(move || engine.clone_profile(&profile, &new_name)).await
}

/// `name`, or `name (2)`, `name (3)`, … — the first profile name not taken (suggested for clones).
#[tauri::command]
#[specta::specta]
pub async fn free_profile_name(state: State<'_, AppState>, name: String) -> Result<String, IpcError> {
    let engine = state.engine();
    blocking(move || engine.free_profile_name(&name)).await
}

/// Delete a profile; its members stay in the library.
#[tauri::command]
#[specta::specta]
pub async fn delete_profile(state: State<'_, AppState>, profile: String) -> Result<Profile, IpcError> {
    let engine = state.engine();
    blocking(move || engine.delete_profile(&profile)).await
}

/// Start exporting a profile into a folder chosen in the app's folder dialog (`not_chosen` for any
/// other); returns the job id at once. Progress arrives on
/// `on_progress` (throttled), the archive's path and sha256 on `on_report` when it succeeded.
#[tauri::command]
#[specta::specta]
pub async fn export_profile(
    state: State<'_, AppState>,
    request: ExportRequest,
    on_progress: Channel<JobProgress>,
    on_report: Channel<ExportReport>,
) -> Result<i64, IpcError> {
    state.grants.check(&request.dir, "folder")?;
    crate::jobs::start(state.engine(), move |engine| engine.export_work(&request), on_progress, Some(on_report)).await
}

/// Start importing an exported profile (.tar.gz); returns the job id at once. `name` renames it
/// (a taken name gets a free one). The recreated profile arrives on `on_report`.
#[tauri::command]
#[specta::specta]
pub async fn import_profile(
    state: State<'_, AppState>,
    archive: PathBuf,
    name: Option<String>,
    on_progress: Channel<JobProgress>,
    on_report: Channel<ProfileImportReport>,
) -> Result<i64, IpcError> {
    state.grants.check(&archive, "profile archive")?;
    crate::jobs::start(state.engine(), move |engine| engine.profile_import_work(&archive, name.as_deref()), on_progress, Some(on_report))
        .await
}
