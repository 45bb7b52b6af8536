//! Jobs: cancel one, page through the history, open one with its items; start a verify; who
//! deleted what.

use imagesmith_engine::deletions::{DeletedKind, Deletion};
use imagesmith_engine::{JobDetail, JobProgress, JobQuery, JobSummary};
use tauri::ipc::Channel;
use tauri::State;

use crate::error::{blocking, IpcError};
use crate::AppState;

/// Ask a running job to stop between two chunks; false when it had already finished.
#[tauri::command]
#[specta::specta]
pub async fn cancel_job(state: State<'_, AppState>, job_id: i64) -> Result<bool, IpcError> {
    let engine = state.engine();
    blocking(move || engine.cancel_job(job_id)).await
}

/// The latest deletions, newest first (of one kind when `what` is given): what, when, by whom.
#[tauri::command]
#[specta::specta]
pub async fn list_deletions(state: State<'_, AppState>, what: Option<DeletedKind>, limit: u32) -> Result<Vec<Deletion>, IpcError> {
    let engine = state.engine();
    blocking(move || engine.deletions(what, limit)).await
}

/// One page of the history, newest first (keyset paging on `before_id`).
#[tauri::command]
#[specta::specta]
pub async fn list_jobs(state: State<'_, AppState>, query: JobQuery) -> Result<Vec<JobSummary>, IpcError> {
    let engine = state.engine();
    blocking(move || engine.list_jobs(&query)).await
}

#[tauri::command]
#[specta::specta]
pub async fn count_jobs(state: State<'_, AppState>, query: JobQuery) -> Result<u64, IpcError> {
    let engine = state.engine();
    blocking(move || engine.count_jobs(&query)).await
}

#[tauri::command]
#[specta::specta]
pub async fn get_job(state: State<'_, AppState>, job_id: i64) -> Result<JobDetail, IpcError> {
    let engine = state.engine();
    blocking(move || engine.get_job(job_id)).await
}

/// Start re-hashing stored files (`artifacts`: ids or names; none: the whole repository, which also
/// removes stray object files); returns the job id at once. Damaged and missing files are marked in
/// the library as the job finds them.
#[tauri::command]
#[specta::specta]
pub async fn start_verify(state: State<'_, AppState>, artifacts: Vec<String>, on_progress: Channel<JobProgress>) -> Result<i64, IpcError> {
    crate::jobs::start(state.engine(), move |engine| engine.verify_work(&artifacts), on_progress, None).await
}
