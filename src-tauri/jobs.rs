//! Starts an engine job from a command: the engine's runner records it and runs it on a thread of
//! its own; its progress (already throttled by the runner) goes to the window's channel, its
//! report to a second one, and the command answers with the job id the moment the job exists.

use std::sync::Arc;

use imagesmith_engine::secrets::Secret;
use imagesmith_engine::{Engine, JobProgress, Work};
use tauri::ipc::{Channel, IpcResponse};

use crate::error::{blocking, IpcError};

/// `prepare` builds the job (refusals come back as the command's error, before any job exists);
/// the runner does the rest.
pub async fn start<W, P>(
    engine: Arc<Engine>,
    prepare: P,
    on_progress: Channel<JobProgress>,
    on_report: Option<Channel<W::Report>>,
) -> Result<i64, IpcError>
where
    W: Work + 'static,
    W::Report: IpcResponse,
    P: FnOnce(&Engine) -> Result<W, IpcError> + Send + 'static,
{
    blocking(move || {
        let work = prepare(&engine)?;
        let sink = Box::new(move |tick: &JobProgress| {
            let _ = on_progress.send(tick.clone());
        });
        engine.spawn(work, sink, move |result| {
            if let (Ok(report), Some(channel)) = (result, on_report) {
                let _ = channel.send(report);
            }
        })
    })
    .await
}

/// A secret typed in the window for one call (empty means none was given).
pub fn given_secret(given: Option<String>) -> Option<Secret> {
    given.filter(|s| !s.is_empty()).map(Secret::new)
}
