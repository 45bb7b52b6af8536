//! Jobs: cancel one, page through the history, open one with its items.

use imagesmith_engine::{JobDetail, JobQuery, JobSummary};
use tauri::State;

use crate::error::{blocking, IpcError};
use crate::AppState;

/// Ask a running job to stop between two chunks; false when it had already finished.
#[tauri::command]
#[specta::specta]
pub async fn cancel_job(state: State<'_, AppState>, job_id: i64) -> Result<bool, IpcError> {
    let engine = state.engine.clone();
    blocking(move || engine.cancel_job(job_id)).await
}

/// One page of the history, newest first (keyset paging on `before_id`).
#[tauri::command]
#[specta::specta]
pub async fn list_jobs(state: State<'_, AppState>, query: JobQuery) -> Result<Vec<JobSummary>, IpcError> {
    let engine = state.engine.clone();
    blocking(move || engine.list_jobs(&query)).await
}

#[tauri::command]
#[specta::specta]
pub async fn count_jobs(state: State<'_, AppState>, query: JobQuery) -> Result<u64, IpcError> {
    let engine = state.engine.clone();
    blocking(move || engine.count_jobs(&query)).await
}

#[tauri::command]
#[specta::specta]
pub async fn get_job(state: State<'_, AppState>, job_id: i64) -> Result<JobDetail, IpcError> {
    let engine = state.engine.clone();
    blocking(move || engine.get_job(job_id)).await
}
