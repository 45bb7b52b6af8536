//! The error that crosses IPC: the engine's `{code, text, explanation, recovery}` as it is.

pub type IpcError = imagesmith_engine::Error;

/// Run blocking engine work off the async runtime and flatten a panicked worker into an IpcError.
pub async fn blocking<T, F>(work: F) -> Result<T, IpcError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, IpcError> + Send + 'static,
{
    match tauri::async_runtime::spawn_blocking(work).await {
        Ok(result) => result,
        Err(err) => Err(IpcError::new(
            imagesmith_engine::error::code::INTERNAL,
            format!("The operation stopped unexpectedly: {err}."),
            "This is a bug in Imagesmith: the worker running the request failed.",
            "Try again; if it happens again, report it with the steps that led to it.",
        )),
    }
}
