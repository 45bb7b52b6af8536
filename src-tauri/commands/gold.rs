//! Gold images: capture a folder (a job), list and open images with their files, promote, archive,
//! delete, series, provision working copies (a job), check them for drift, diff two versions, export
//! an image as an archive and import one (jobs).

use std::path::PathBuf;

use imagesmith_engine::export::ExportReport;
use imagesmith_engine::gold::{
    CapturePlan, CaptureReport, CaptureRequest, Drift, GoldEntry, GoldExportRequest, GoldImage, GoldImportRequest, GoldState,
    ProvisionReport, ProvisionRequest, Series, WorkingCopy,
};
use imagesmith_engine::JobProgress;
use serde::{Deserialize, Serialize};
use tauri::ipc::Channel;
use tauri::State;

use crate::error::{blocking, IpcError};
use crate::AppState;

/// What a folder is chosen for: the home to capture, or where a working copy goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum GoldFolderPurpose {
    Capture,
    Provision,
}

/// The native "choose a folder" dialog for a gold image: the home to capture, or the (new or
/// empty) folder a working copy is provisioned into. The folder, or none when cancelled. The
/// provision dialog opens beside the last working copy and remembers this one.
#[tauri::command]
#[specta::specta]
pub async fn choose_gold_folder(state: State<'_, AppState>, purpose: GoldFolderPurpose) -> Result<Option<String>, IpcError> {
    let (title, start) = match purpose {
        GoldFolderPurpose::Capture => ("Capture a folder as a gold image", None),
        GoldFolderPurpose::Provision => {
            let last = state.settings.get().last_provision_folder;
            ("Provision a working copy into a folder", last.and_then(|p| p.parent().map(PathBuf::from)))
        }
    };
    let dialogs = state.dialogs.clone();
    let chosen = blocking(move || Ok(dialogs.pick_folder(title, start.as_deref()))).await?;
    let Some(dir) = chosen else { return Ok(None) };
    state.grants.grant([dir.as_path()]);
    if purpose == GoldFolderPurpose::Provision {
        state.settings.update(|s| s.last_provision_folder = Some(dir.clone()));
    }
    Ok(Some(dir.display().to_string()))
}

/// Count what a capture of a chosen or dropped folder would take (files, folders, links, size),
/// refusing what a gold image cannot keep (`special_file`, `read_failed`).
#[tauri::command]
#[specta::specta]
pub async fn plan_capture(state: State<'_, AppState>, from: PathBuf) -> Result<CapturePlan, IpcError> {
    state.grants.check(&from, "folder")?;
    let engine = state.engine();
    blocking(move || engine.plan_capture(&from)).await
}

/// Start capturing a chosen or dropped folder as a gold image; returns the job id at once. The
/// new image arrives on `on_report`.
#[tauri::command]
#[specta::specta]
pub async fn start_capture(
    state: State<'_, AppState>,
    request: CaptureRequest,
    on_progress: Channel<JobProgress>,
    on_report: Channel<CaptureReport>,
) -> Result<i64, IpcError> {
    state.grants.check(&request.from, "folder")?;
    crate::jobs::start(state.engine(), move |engine| engine.capture_work(request), on_progress, Some(on_report)).await
}

/// Every gold image (with its working copies), series by series in their order, then the rest.
#[tauri::command]
#[specta::specta]
pub async fn list_gold(state: State<'_, AppState>) -> Result<Vec<GoldImage>, IpcError> {
    let engine = state.engine();
    blocking(move || engine.list_gold(None, None)).await
}

#[tauri::command]
#[specta::specta]
pub async fn get_gold(state: State<'_, AppState>, name: String) -> Result<GoldImage, IpcError> {
    let engine = state.engine();
    blocking(move || engine.get_gold(&name)).await
}

/// Every entry of an image's manifest, in path order.
#[tauri::command]
#[specta::specta]
pub async fn gold_files(state: State<'_, AppState>, name: String) -> Result<Vec<GoldEntry>, IpcError> {
    let engine = state.engine();
    blocking(move || engine.gold_files(&name)).await
}

/// Move an image between testable, restricted and published (either way).
#[tauri::command]
#[specta::specta]
pub async fn promote_gold(state: State<'_, AppState>, name: String, to: GoldState) -> Result<GoldImage, IpcError> {
    let engine = state.engine();
    blocking(move || engine.promote_gold(&name, to)).await
}

/// Hide an image from new provisioning; `in_use` while working copies use it.
#[tauri::command]
#[specta::specta]
pub async fn archive_gold(state: State<'_, AppState>, name: String) -> Result<GoldImage, IpcError> {
    let engine = state.engine();
    blocking(move || engine.archive_gold(&name)).await
}

/// Bring an archived image back (as testable).
#[tauri::command]
#[specta::specta]
pub async fn unarchive_gold(state: State<'_, AppState>, name: String) -> Result<GoldImage, IpcError> {
    let engine = state.engine();
    blocking(move || engine.unarchive_gold(&name)).await
}

/// Delete an image; `in_use` while working copies use it.
#[tauri::command]
#[specta::specta]
pub async fn delete_gold(state: State<'_, AppState>, name: String) -> Result<GoldImage, IpcError> {
    let engine = state.engine();
    blocking(move || engine.delete_gold(&name)).await
}

#[tauri::command]
#[specta::specta]
pub async fn list_series(state: State<'_, AppState>) -> Result<Vec<Series>, IpcError> {
    let engine = state.engine();
    blocking(move || engine.list_series()).await
}

#[tauri::command]
#[specta::specta]
pub async fn create_series(state: State<'_, AppState>, name: String) -> Result<Series, IpcError> {
    let engine = state.engine();
    blocking(move || engine.create_series(&name)).await
}

/// Put an image at the end of a series (out of any other).
#[tauri::command]
#[specta::specta]
pub async fn add_to_series(state: State<'_, AppState>, series: String, image: String) -> Result<Series, IpcError> {
    let engine = state.engine();
    blocking(move || engine.series_add(&series, &image)).await
}

#[tauri::command]
#[specta::specta]
pub async fn remove_from_series(state: State<'_, AppState>, series: String, image: String) -> Result<Series, IpcError> {
    let engine = state.engine();
    blocking(move || engine.series_remove(&series, &image)).await
}

/// Make an image its series' current one.
#[tauri::command]
#[specta::specta]
pub async fn set_series_current(state: State<'_, AppState>, series: String, image: String) -> Result<Series, IpcError> {
    let engine = state.engine();
    blocking(move || engine.series_current(&series, &image)).await
}

/// Start provisioning a working copy into a folder chosen in the app's folder dialog (`not_chosen`
/// for any other); returns the job id at once. A testable or restricted image is refused with
/// `not_published` unless `allow_unpublished` (the person confirmed it). The copy arrives on `on_report`.
#[tauri::command]
#[specta::specta]
pub async fn start_provision(
    state: State<'_, AppState>,
    request: ProvisionRequest,
    on_progress: Channel<JobProgress>,
    on_report: Channel<ProvisionReport>,
) -> Result<i64, IpcError> {
    state.grants.check(&request.to, "folder")?;
    crate::jobs::start(state.engine(), move |engine| engine.provision_work(&request), on_progress, Some(on_report)).await
}

/// Working copies (of one image, or all), as the catalog records them.
#[tauri::command]
#[specta::specta]
pub async fn list_working_copies(state: State<'_, AppState>, image: Option<String>) -> Result<Vec<WorkingCopy>, IpcError> {
    let engine = state.engine();
    blocking(move || engine.gold_copies(image.as_deref())).await
}

/// Stop tracking a working copy (the folder stays as it is).
#[tauri::command]
#[specta::specta]
pub async fn forget_copy(state: State<'_, AppState>, path: PathBuf) -> Result<WorkingCopy, IpcError> {
    let engine = state.engine();
    blocking(move || engine.forget_copy(&path)).await
}

/// Compare a working copy with the image it was provisioned from. Only folders the catalog records
/// as working copies are read (any other is `not_found`), so no grant is needed.
#[tauri::command]
#[specta::specta]
pub async fn check_copy(state: State<'_, AppState>, path: PathBuf) -> Result<Drift, IpcError> {
    let engine = state.engine();
    blocking(move || engine.check_copy(&path, None)).await
}

/// What changed from image `from` to image `to`.
#[tauri::command]
#[specta::specta]
pub async fn diff_gold(state: State<'_, AppState>, from: String, to: String) -> Result<Drift, IpcError> {
    let engine = state.engine();
    blocking(move || engine.diff_gold(&from, &to)).await
}

/// Start exporting an image as a tar.gz or zip (with SHA256SUMS inside and a `.sha256` sidecar)
/// into a folder chosen in the app's folder dialog (`not_chosen` for any other); returns the job id
/// at once. The archive's path and sha256 arrive on `on_report`.
#[tauri::command]
#[specta::specta]
pub async fn start_gold_export(
    state: State<'_, AppState>,
    request: GoldExportRequest,
    on_progress: Channel<JobProgress>,
    on_report: Channel<ExportReport>,
) -> Result<i64, IpcError> {
    state.grants.check(&request.dir, "folder")?;
    crate::jobs::start(state.engine(), move |engine| engine.gold_export_work(&request), on_progress, Some(on_report)).await
}

/// Start importing a home archive (a gold export, or any .tar.gz/.zip of a home) chosen in the
/// app's file dialog or dropped as a new image; returns the job id at once. The new image arrives
/// on `on_report`.
#[tauri::command]
#[specta::specta]
pub async fn start_gold_import(
    state: State<'_, AppState>,
    request: GoldImportRequest,
    on_progress: Channel<JobProgress>,
    on_report: Channel<CaptureReport>,
) -> Result<i64, IpcError> {
    state.grants.check(&request.archive, "gold image archive")?;
    crate::jobs::start(state.engine(), move |engine| engine.gold_import_work(request), on_progress, Some(on_report)).await
}
