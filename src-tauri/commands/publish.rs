//! Publishing to clouds: cloud accounts (targets), the wizard's dry run, the publish job, and the
//! publications it leaves (refresh, unpublish). Secrets come in as `Option<String>` for the one call
//! that needs them (the window asks when the engine says `secret_required`) and are never logged.

use imagesmith_engine::publish::{NewTarget, Publication, PublishPlan, PublishReport, PublishRequest, Target, TargetAdded, TargetCheck};
use imagesmith_engine::secrets::{Owner, Secret};
use imagesmith_engine::JobProgress;
use tauri::ipc::Channel;
use tauri::State;

use crate::error::{blocking, IpcError};
use crate::jobs::given_secret;
use crate::AppState;

#[tauri::command]
#[specta::specta]
pub async fn list_targets(state: State<'_, AppState>) -> Result<Vec<Target>, IpcError> {
    let engine = state.engine();
    blocking(move || engine.list_targets()).await
}

/// Add a cloud account; with `secret`, the engine keeps it in the OS keyring (`secret_error` in the
/// answer says when the keyring could not take it).
#[tauri::command]
#[specta::specta]
pub async fn add_target(state: State<'_, AppState>, spec: NewTarget, secret: Option<String>) -> Result<TargetAdded, IpcError> {
    let engine = state.engine();
    let given = given_secret(secret);
    blocking(move || engine.add_target(&spec, given.as_ref())).await
}

/// "Test connection": who you are, in which project, the image endpoint found.
#[tauri::command]
#[specta::specta]
pub async fn test_target(state: State<'_, AppState>, name: String, secret: Option<String>) -> Result<TargetCheck, IpcError> {
    let engine = state.engine();
    let given = given_secret(secret);
    blocking(move || engine.test_target(&name, given.as_ref())).await
}

/// Remove a cloud account and forget its keyring entry; its publications stay in the history.
#[tauri::command]
#[specta::specta]
pub async fn remove_target(state: State<'_, AppState>, name: String) -> Result<Target, IpcError> {
    let engine = state.engine();
    blocking(move || engine.remove_target(&name)).await
}

/// The wizard's review: sign-in and catalog, formats, size against the cloud's limit, name clashes.
#[tauri::command]
#[specta::specta]
pub async fn plan_publish(state: State<'_, AppState>, request: PublishRequest, secret: Option<String>) -> Result<PublishPlan, IpcError> {
    let engine = state.engine();
    let given = given_secret(secret);
    blocking(move || engine.plan_publish(&request, given.as_ref())).await
}

/// Start publishing; returns the job id at once (a sign-in refusal such as `secret_required` is
/// the command's error instead). Progress arrives on `on_progress`, the publications on `on_report`.
#[tauri::command]
#[specta::specta]
pub async fn publish(
    state: State<'_, AppState>,
    request: PublishRequest,
    secret: Option<String>,
    on_progress: Channel<JobProgress>,
    on_report: Channel<PublishReport>,
) -> Result<i64, IpcError> {
    let given = given_secret(secret);
    crate::jobs::start(state.engine(), move |engine| engine.publish_work(&request, given.as_ref()), on_progress, Some(on_report)).await
}

/// Publications, newest first; only those of one artifact (id or name) when given.
#[tauri::command]
#[specta::specta]
pub async fn list_publications(state: State<'_, AppState>, artifact: Option<String>) -> Result<Vec<Publication>, IpcError> {
    let engine = state.engine();
    blocking(move || engine.list_publications(artifact.as_deref())).await
}

/// Ask the cloud for the image's status now (and compare the digests again).
#[tauri::command]
#[specta::specta]
pub async fn refresh_publication(state: State<'_, AppState>, id: i64, secret: Option<String>) -> Result<Publication, IpcError> {
    let engine = state.engine();
    let given = given_secret(secret);
    blocking(move || engine.refresh_publication(id, given.as_ref())).await
}

/// Delete the image from the cloud; the publication stays in the history as `deleted`.
#[tauri::command]
#[specta::specta]
pub async fn unpublish(state: State<'_, AppState>, id: i64, secret: Option<String>) -> Result<Publication, IpcError> {
    let engine = state.engine();
    let given = given_secret(secret);
    blocking(move || engine.unpublish(id, given.as_ref())).await
}

/// "Remember in the OS keyring" from the password prompt: `owner` is `target` or `server`.
#[tauri::command]
#[specta::specta]
pub async fn remember_secret(state: State<'_, AppState>, owner: String, name: String, secret: String) -> Result<(), IpcError> {
    let owner = match owner.as_str() {
        "target" => Owner::Target,
        "server" => Owner::Server,
        other => {
            return Err(IpcError::invalid_argument(
                format!("\"{other}\" is not something that has a secret."),
                "Use \"target\" or \"server\".",
            ))
        }
    };
    let engine = state.engine();
    let secret = Secret::new(secret);
    blocking(move || engine.store_secret(owner, &name, &secret)).await
}
