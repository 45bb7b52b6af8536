//! Progress arithmetic for the job runner: a sliding-window rate and the ETA it gives.

use crate::jobs::JobProgress;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Where progress goes: a callback (UI channel, terminal bar). The runner calls it at most every
/// [`TICK_EVERY`], and always for the first and last tick and when an item starts, changes phase
/// or ends — so nothing downstream needs a throttle of its own.
pub type ProgressSink = Box<dyn Fn(&JobProgress) + Send + Sync>;

/// How often a running job tells its sink at most.
pub const TICK_EVERY: Duration = Duration::from_millis(100);
/// How often a running job's progress is saved to the catalog (for other processes' views).
pub const PERSIST_EVERY: Duration = Duration::from_secs(2);

/// Bytes per second over the last few seconds (or since the start, early on).
#[derive(Debug)]
pub struct Rate {
    started: Instant,
    window: VecDeque<(Instant, u64)>,
}

impl Default for Rate {
    fn default() -> Self {
        Rate { started: Instant::now(), window: VecDeque::new() }
    }
}

impl Rate {
    /// Record `done` bytes now; returns the rate in bytes per second.
    pub fn sample(&mut self, done: u64) -> f64 {
        let now = Instant::now();
        self.window.push_back((now, done));
        while self.window.len() > 2 && now.duration_since(self.window[0].0) > Duration::from_secs(3) {
            self.window.pop_front();
        }
        let (t0, b0) = self.window[0];
        let span = now.duration_since(t0).as_secs_f64();
        if span > 0.05 {
            done.saturating_sub(b0) as f64 / span
        } else {
            let total = now.duration_since(self.started).as_secs_f64();
            if total > 0.0 {
                done as f64 / total
            } else {
                0.0
            }
        }
    }

    /// Start over (the totals changed: a new pass over other bytes).
    pub fn reset(&mut self) {
        *self = Rate::default();
    }
}

/// Seconds left at `rate` for `left` bytes, when the rate says anything.
pub fn eta(left: u64, rate: f64) -> Option<f64> {
    (rate > 1.0).then(|| left as f64 / rate)
}
