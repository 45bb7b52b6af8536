//! Saved file servers (SFTP, FTP, FTPS, WebDAV) for profile exports: list, add, test, remove, the
//! SFTP host-key probe and trust, and exporting a profile to one as a job. A password comes in as
//! `Option<String>` for the one call that needs it and is never logged.

use imagesmith_engine::export::ExportReport;
use imagesmith_engine::remote::{AddServerReport, HostKeyProbe};
use imagesmith_engine::{JobProgress, Server, ServerExportRequest, ServerSpec, ServerTestReport};
use tauri::ipc::Channel;
use tauri::State;

use crate::error::{blocking, IpcError};
use crate::jobs::given_secret;
use crate::AppState;

#[tauri::command]
#[specta::specta]
pub async fn list_servers(state: State<'_, AppState>) -> Result<Vec<Server>, IpcError> {
    let engine = state.engine();
    blocking(move || engine.list_servers()).await
}

/// Save a server; with `secret`, the engine keeps it in the OS keyring (`keyring_error` in the answer
/// says when it could not). An SFTP host key is passed as the fingerprint the user confirmed.
#[tauri::command]
#[specta::specta]
pub async fn add_server(state: State<'_, AppState>, spec: ServerSpec, secret: Option<String>) -> Result<AddServerReport, IpcError> {
    let engine = state.engine();
    let given = given_secret(secret);
    blocking(move || engine.add_server(&spec, given.as_ref())).await
}

/// Connect, log in, make sure the folder exists and is writable.
#[tauri::command]
#[specta::specta]
pub async fn test_server(state: State<'_, AppState>, name: String, secret: Option<String>) -> Result<ServerTestReport, IpcError> {
    let engine = state.engine();
    let given = given_secret(secret);
    blocking(move || engine.test_server(&name, given.as_ref())).await
}

#[tauri::command]
#[specta::specta]
pub async fn remove_server(state: State<'_, AppState>, name: String) -> Result<Server, IpcError> {
    let engine = state.engine();
    blocking(move || engine.remove_server(&name)).await
}

/// An SSH server's host key and whether ~/.ssh/known_hosts knows it, for the trust confirmation.
#[tauri::command]
#[specta::specta]
pub async fn probe_host_key(state: State<'_, AppState>, host: String, port: u16) -> Result<HostKeyProbe, IpcError> {
    let engine = state.engine();
    blocking(move || engine.probe_host_key(&host, port)).await
}

/// Start exporting a profile to a saved server; returns the job id at once (`secret_required`,
/// `host_key_unknown`, `auth_failed`, … come back as the command's error, before any job).
#[tauri::command]
#[specta::specta]
pub async fn export_profile_to_server(
    state: State<'_, AppState>,
    request: ServerExportRequest,
    secret: Option<String>,
    on_progress: Channel<JobProgress>,
    on_report: Channel<ExportReport>,
) -> Result<i64, IpcError> {
    let given = given_secret(secret);
    crate::jobs::start(state.engine(), move |engine| engine.server_export_work(&request, given.as_ref()), on_progress, Some(on_report))
        .await
}
