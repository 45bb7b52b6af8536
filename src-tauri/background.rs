//! Runs an engine job that works in the calling thread (a profile export, a profile import) on a
//! thread of its own, and answers with the job's id as soon as the engine has recorded it — so the
//! command returns at once, progress goes to the jobs panel, and the result comes later.

use std::sync::mpsc;
use std::sync::Mutex;

use imagesmith_engine::secrets::Secret;
use imagesmith_engine::{CancelToken, JobProgress};
use tauri::ipc::{Channel, IpcResponse};

use crate::error::{blocking, IpcError};
use crate::progress::Throttle;

/// Start `work` on its own thread with a fresh cancel token (the engine registers it under the job,
/// so `cancel_job` stops it). Every progress tick goes to `on_progress`; the value of a job that
/// succeeded goes to `on_done`. Resolves to the job id once the first tick names it, or to the
/// error when the engine refused before creating a job (profile or folder not found, …).
pub async fn spawn_job<T, W, P, D>(thread_name: String, work: W, on_progress: P, on_done: D) -> Result<i64, IpcError>
where
    T: Send + 'static,
    W: FnOnce(&CancelToken, &dyn Fn(&JobProgress)) -> Result<T, IpcError> + Send + 'static,
    P: Fn(JobProgress) + Send + Sync + 'static,
    D: FnOnce(T) + Send + 'static,
{
    let (started_tx, started_rx) = mpsc::channel::<Result<i64, IpcError>>();
    let started = Mutex::new(Some(started_tx));
    std::thread::Builder::new()
        .name(thread_name)
        .spawn(move || {
            let token = CancelToken::new();
            let sink = |tick: &JobProgress| {
                if let Some(tx) = started.lock().unwrap_or_else(|p| p.into_inner()).take() {
                    let _ = tx.send(Ok(tick.job_id));
                }
                on_progress(tick.clone());
            };
            let result = work(&token, &sink);
            // Refused before a job existed: the command answers with the refusal itself.
            if let Some(tx) = started.lock().unwrap_or_else(|p| p.into_inner()).take() {
                let _ = tx.send(Err(match result {
                    Err(e) => e,
                    Ok(_) => no_job_recorded(),
                }));
                return;
            }
            if let Ok(value) = result {
                on_done(value);
            }
        })
        .map_err(|e| {
            IpcError::new(
                "internal",
                format!("Could not start the job: {e}."),
                "The system refused to start a worker thread.",
                "Close other programs and try again.",
            )
        })?;
    blocking(move || started_rx.recv().unwrap_or_else(|_| Err(no_job_recorded()))).await
}

/// [`spawn_job`] for a command: progress ticks go (throttled) to the window's `on_progress`
/// channel and the finished job's report to `on_report`.
pub async fn spawn_job_on_channels<T, W>(
    thread_name: &str,
    work: W,
    on_progress: Channel<JobProgress>,
    on_report: Channel<T>,
) -> Result<i64, IpcError>
where
    T: IpcResponse + Send + 'static,
    W: FnOnce(&CancelToken, &dyn Fn(&JobProgress)) -> Result<T, IpcError> + Send + 'static,
{
    let throttle = Throttle::new(move |tick: JobProgress| {
        let _ = on_progress.send(tick);
    });
    spawn_job(thread_name.to_string(), work, move |tick| throttle.tick(tick), move |report| {
        let _ = on_report.send(report);
    })
    .await
}

/// A secret typed in the window for one call (empty means none was given).
pub fn given_secret(given: Option<String>) -> Option<Secret> {
    given.filter(|s| !s.is_empty()).map(Secret::new)
}

fn no_job_recorded() -> IpcError {
    IpcError::new(
        "internal",
        "The job ended without being recorded in the history.",
        "This is a bug in Imagesmith: the engine finished a job without reporting its progress.",
        "Try again; if it happens again, report it with the steps that led to it.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use imagesmith_engine::JobState;
    use std::sync::Arc;

    fn tick(job_id: i64, state: JobState) -> JobProgress {
        JobProgress {
            job_id,
            state,
            phase: "working".into(),
            item_index: 0,
            item_count: 1,
            item_path: String::new(),
            item_bytes_done: 0,
            item_bytes_total: 0,
            bytes_done: 0,
            bytes_total: 0,
            rate_bps: 0.0,
            eta_seconds: None,
        }
    }

    #[test]
    fn answers_with_the_job_id_before_the_work_ends_and_hands_over_the_result() {
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let done = Arc::new(Mutex::new(None));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (d, s) = (done.clone(), seen.clone());
        let id = tauri::async_runtime::block_on(spawn_job(
            "test-job".into(),
            move |_token: &CancelToken, sink: &dyn Fn(&JobProgress)| {
                sink(&tick(7, JobState::Running));
                release_rx.recv().unwrap(); // still running when the id comes back
                sink(&tick(7, JobState::Succeeded));
                Ok::<_, IpcError>("report")
            },
            move |p| s.lock().unwrap().push(p.state),
            move |v| *d.lock().unwrap() = Some(v),
        ))
        .unwrap();
        assert_eq!(id, 7);
        assert!(done.lock().unwrap().is_none());
        release_tx.send(()).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while done.lock().unwrap().is_none() {
            assert!(std::time::Instant::now() < deadline, "the result never arrived");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(*done.lock().unwrap(), Some("report"));
        assert_eq!(*seen.lock().unwrap(), vec![JobState::Running, JobState::Succeeded]);
    }

    #[test]
    fn a_refusal_before_any_job_is_the_commands_error() {
        let err = tauri::async_runtime::block_on(spawn_job(
            "test-job".into(),
            |_token: &CancelToken, _sink: &dyn Fn(&JobProgress)| -> Result<(), IpcError> {
                Err(IpcError::new("file_not_found", "The folder /nope does not exist.", "why", "what"))
            },
            |_| {},
            |_| panic!("no result for a refused job"),
        ))
        .unwrap_err();
        assert_eq!(err.code, "file_not_found");
    }
}
