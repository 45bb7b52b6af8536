//! Progress of a running job: rate and ETA, throttled callbacks, progress persisted every 2 s.

use crate::jobs::{JobProgress, JobState};
use std::time::{Duration, Instant};

const CALLBACK_EVERY: Duration = Duration::from_millis(100);
const PERSIST_EVERY: Duration = Duration::from_secs(2);

/// Where progress goes: a callback (UI channel, terminal bar).
pub type ProgressSink = Box<dyn Fn(&JobProgress) + Send + Sync>;

/// Tracks bytes over time for one job and decides when to tell the sink and the database.
pub struct Meter {
    pub progress: JobProgress,
    started: Instant,
    last_callback: Option<Instant>,
    last_persist: Option<Instant>,
    /// (time, bytes) samples for a sliding-window rate.
    window: std::collections::VecDeque<(Instant, u64)>,
}

impl Meter {
    pub fn new(job_id: i64, item_count: u32, bytes_total: u64) -> Self {
        Meter {
            progress: JobProgress {
                job_id,
                state: JobState::Running,
                phase: "queued".into(),
                item_index: 0,
                item_count,
                item_path: String::new(),
                item_bytes_done: 0,
                item_bytes_total: 0,
                bytes_done: 0,
                bytes_total,
                rate_bps: 0.0,
                eta_seconds: None,
            },
            started: Instant::now(),
            last_callback: None,
            last_persist: None,
            window: Default::default(),
        }
    }

    /// Update byte counters and the rate. Returns (tell the sink?, persist?).
    pub fn advance(&mut self, base_done: u64, item_done: u64) -> (bool, bool) {
        let now = Instant::now();
        self.progress.item_bytes_done = item_done;
        self.progress.bytes_done = base_done + item_done;
        self.window.push_back((now, self.progress.bytes_done));
        while self.window.len() > 2 && now.duration_since(self.window[0].0) > Duration::from_secs(3) {
            self.window.pop_front();
        }
        let (t0, b0) = self.window[0];
        let span = now.duration_since(t0).as_secs_f64();
        self.progress.rate_bps = if span > 0.05 {
            (self.progress.bytes_done - b0) as f64 / span
        } else {
            let total = now.duration_since(self.started).as_secs_f64();
            if total > 0.0 { self.progress.bytes_done as f64 / total } else { 0.0 }
        };
        let left = self.progress.bytes_total.saturating_sub(self.progress.bytes_done);
        self.progress.eta_seconds = (self.progress.rate_bps > 1.0).then(|| left as f64 / self.progress.rate_bps);
        let tell = self.last_callback.is_none_or(|t| now.duration_since(t) >= CALLBACK_EVERY);
        let persist = self.last_persist.is_none_or(|t| now.duration_since(t) >= PERSIST_EVERY);
        if tell {
            self.last_callback = Some(now);
        }
        if persist {
            self.last_persist = Some(now);
        }
        (tell, persist)
    }

    /// Force the next advance to be reported (phase changes, first and last tick).
    pub fn mark_dirty(&mut self) {
        self.last_callback = None;
    }
}
