//! Throttles a job's progress ticks onto its IPC channel: at most one every 100 ms, but the first
//! tick, every phase or item change and the final (terminal) tick are always sent.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use imagesmith_engine::{JobProgress, JobState};

pub const INTERVAL: Duration = Duration::from_millis(100);

/// Decides which ticks go out; `send` is whatever delivers them (a `Channel` in the app).
pub struct Throttle<F: Fn(JobProgress)> {
    send: F,
    last: Mutex<Option<(Instant, String, u32)>>,
}

pub fn is_terminal(state: &JobState) -> bool {
    !matches!(state, JobState::Queued | JobState::Running)
}

impl<F: Fn(JobProgress)> Throttle<F> {
    pub fn new(send: F) -> Self {
        Throttle { send, last: Mutex::new(None) }
    }

    pub fn tick(&self, progress: JobProgress) {
        let now = Instant::now();
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        let due = match &*last {
            None => true,
            Some((at, phase, item)) => {
                is_terminal(&progress.state)
                    || *phase != progress.phase
                    || *item != progress.item_index
                    || now.duration_since(*at) >= INTERVAL
            }
        };
        if due {
            *last = Some((now, progress.phase.clone(), progress.item_index));
            drop(last);
            (self.send)(progress);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex as StdMutex};

    fn tick(state: JobState, phase: &str, item: u32, done: u64) -> JobProgress {
        JobProgress {
            job_id: 1,
            state,
            phase: phase.into(),
            item_index: item,
            item_count: 2,
            item_path: String::new(),
            item_bytes_done: done,
            item_bytes_total: 100,
            bytes_done: done,
            bytes_total: 200,
            rate_bps: 0.0,
            eta_seconds: None,
        }
    }

    #[test]
    fn first_changes_and_last_ticks_always_go_out_the_rest_at_most_every_100ms() {
        let sent = Arc::new(StdMutex::new(Vec::new()));
        let sink = sent.clone();
        let throttle = Throttle::new(move |p: JobProgress| sink.lock().unwrap().push(p.bytes_done));
        throttle.tick(tick(JobState::Running, "copying", 0, 1)); // first: sent
        for done in 2..50 {
            throttle.tick(tick(JobState::Running, "copying", 0, done)); // within 100 ms: dropped
        }
        throttle.tick(tick(JobState::Running, "copying", 1, 60)); // next item: sent
        throttle.tick(tick(JobState::Running, "verifying", 1, 61)); // phase change: sent
        throttle.tick(tick(JobState::Running, "verifying", 1, 62)); // dropped
        std::thread::sleep(INTERVAL + Duration::from_millis(20));
        throttle.tick(tick(JobState::Running, "verifying", 1, 70)); // interval passed: sent
        throttle.tick(tick(JobState::Succeeded, "done", 1, 200)); // last: sent
        assert_eq!(*sent.lock().unwrap(), vec![1, 60, 61, 70, 200]);
    }
}
