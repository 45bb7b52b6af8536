//! Import: review what was dropped, read a pasted checksum, start the import job.

use imagesmith_engine::checksum::parse_expected as parse_digest;
use imagesmith_engine::{ExpectedDigest, ImportPlan, ImportRequest, JobProgress, PlanRequest};
use tauri::ipc::Channel;
use tauri::State;

use crate::error::{blocking, IpcError};
use crate::AppState;

/// Classify dropped or chosen files (checksum files among them are recognised, not imported). Only
/// paths chosen in the app's dialogs or dropped on its window are read (`not_chosen` otherwise).
#[tauri::command]
#[specta::specta]
pub async fn plan_import(state: State<'_, AppState>, request: PlanRequest) -> Result<ImportPlan, IpcError> {
    for path in request.paths.iter().chain(&request.checksum_files) {
        state.grants.check(path, "file")?;
    }
    let engine = state.engine.clone();
    blocking(move || engine.plan_import(&request)).await
}

/// Read a pasted checksum: bare hex (algorithm from its length) or `ALGO:HEX`.
#[tauri::command]
#[specta::specta]
pub async fn parse_expected(text: String) -> Result<ExpectedDigest, IpcError> {
    parse_digest(&text, "entered")
}

/// Start an import job; returns its id at once. Progress arrives on `on_progress`, throttled.
#[tauri::command]
#[specta::specta]
pub async fn start_import(state: State<'_, AppState>, request: ImportRequest, on_progress: Channel<JobProgress>) -> Result<i64, IpcError> {
    for path in request.items.iter().map(|i| &i.path).chain(&request.checksum_files) {
        state.grants.check(path, "file")?;
    }
    crate::jobs::start(state.engine.clone(), move |engine| Ok(engine.import_work(request)), on_progress, None).await
}
