//! The one job runner under every long action. A job kind is a [`Work`]: it declares its items and
//! does one item; the runner owns everything else — the job row, cancellation, each item's outcome,
//! the one throttled progress stream, how the job ends, its summary, and running items on every
//! core when the kind allows it.
//!
//! ```text
//! prepare (refusals, no job yet) -> Engine::run (CLI: this thread) | Engine::spawn (app: own thread, id at once)
//!   -> job row queued -> running -> per item: Work::run_item -> outcome row -> end rule -> Work::report
//! ```

use crate::cancel::CancelToken;
use crate::error::{code, Error, Result};
use crate::jobs::{self, JobKind, JobProgress, JobState, JobSummary, Outcome};
use crate::model::ArtifactRef;
use crate::progress::{self, Rate, PERSIST_EVERY, TICK_EVERY};
use crate::Engine;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// One item a job will work on, declared before the job starts (a file, an object, an image).
#[derive(Debug, Clone)]
pub struct ItemSpec {
    /// What the history shows for it: a path, a name, a URL.
    pub label: String,
    /// Bytes it is expected to move, when known (progress and ETA add these up).
    pub size: Option<u64>,
}

impl ItemSpec {
    pub fn new(label: impl Into<String>, size: Option<u64>) -> Self {
        ItemSpec { label: label.into(), size }
    }
}

/// An item that did its work: its outcome word, the artifact it made or touched, and what the kind
/// keeps for its report.
#[derive(Debug)]
pub struct Done<T> {
    pub outcome: Outcome,
    pub artifact: Option<ArtifactRef>,
    pub value: T,
}

impl<T> Done<T> {
    pub fn new(outcome: Outcome, value: T) -> Self {
        Done { outcome, artifact: None, value }
    }

    pub fn with_artifact(outcome: Outcome, artifact: ArtifactRef, value: T) -> Self {
        Done { outcome, artifact: Some(artifact), value }
    }
}

/// How an item ended, as the kind's report sees it. `value` is there when the item did its work.
#[derive(Debug)]
pub struct ItemEnd<T> {
    pub seq: usize,
    pub label: String,
    pub outcome: Outcome,
    pub artifact: Option<ArtifactRef>,
    pub error: Option<Error>,
    pub value: Option<T>,
}

/// A kind of job. Implement this (and add a [`JobKind`] word); the runner does the rest.
pub trait Work: Send + Sync {
    /// What one successful item hands to the report.
    type Item: Send;
    /// What the caller gets when the job has ended.
    type Report: Send;
    /// The word the history files it under.
    const KIND: JobKind;

    /// The word of this job, when one type serves two kinds (push and pull).
    fn kind(&self) -> JobKind {
        Self::KIND
    }

    /// The items, in the order the history lists them.
    fn items(&self) -> Vec<ItemSpec>;

    /// How many items may run at once. One by default; batches of independent items say
    /// [`all_cores`].
    fn concurrency(&self) -> usize {
        1
    }

    /// Do item `seq`, reporting through `step`. An `Err` is the item's failure (or cancel); the
    /// job goes on with the next item.
    fn run_item(&self, engine: &Engine, seq: usize, step: &Step<'_>) -> Result<Done<Self::Item>>;

    /// The job's one-line summary; by default the counts of each outcome ("3 imported, 1 failed").
    fn summary(&self, ends: &[ItemEnd<Self::Item>]) -> String {
        count_summary(ends)
    }

    /// Build what the caller gets, from the job as recorded and every item's end.
    fn report(self, engine: &Engine, job: JobSummary, ends: Vec<ItemEnd<Self::Item>>) -> Result<Self::Report>;
}

/// As many items at once as there are cores (bounded), for batches whose items are independent.
pub fn all_cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).min(8)
}

/// "3 imported, 1 already there, 2 failed, cancelled": every outcome that occurred, in a fixed order.
pub fn count_summary<T>(ends: &[ItemEnd<T>]) -> String {
    let mut parts = Vec::new();
    for &o in Outcome::ALL {
        let n = ends.iter().filter(|e| e.outcome == o).count();
        if n > 0 && o != Outcome::Cancelled {
            parts.push(format!("{n} {}", o.summary_word()));
        }
    }
    if parts.is_empty() {
        parts.push("nothing to do".into());
    }
    if ends.iter().any(|e| e.outcome == Outcome::Cancelled) {
        parts.push("cancelled".into());
    }
    parts.join(", ")
}

/// The single item's error of a one-item job, as the caller's `Err` (cancel included).
pub fn single_result<T>(mut ends: Vec<ItemEnd<T>>) -> Result<T> {
    let end = ends.pop().ok_or_else(|| internal("a one-item job ended without its item"))?;
    match (end.value, end.error, end.outcome) {
        (Some(v), _, _) => Ok(v),
        (None, Some(e), _) => Err(e),
        (None, None, _) => Err(Error::cancelled()),
    }
}

pub(crate) fn internal(what: &str) -> Error {
    Error::new(
        code::INTERNAL,
        format!("Imagesmith stopped a job on an internal error: {what}."),
        "This is a bug in Imagesmith; nothing half-written was kept.",
        "Try again; if it happens again, report it with the steps that led to it.",
    )
}

fn retired() -> Error {
    Error::new(
        code::CANCELLED,
        "The job was not started: the window is opening another repository.",
        "A job starts only on the repository the window shows.",
        "Start it again once the other repository is open.",
    )
}

/// A recorded job that has not run yet.
struct Created {
    id: i64,
    items: Vec<ItemSpec>,
}

impl Engine {
    /// Record a job for `work` and run it to the end in the calling thread (the CLI, tests).
    pub fn run<W: Work>(&self, work: W, cancel: &CancelToken, sink: &(dyn Fn(&JobProgress) + Sync)) -> Result<W::Report> {
        let created = self.create_job(&work)?;
        self.execute(created, work, cancel, sink)
    }

    /// Record a job for `work` and run it on a thread of its own (the app). Answers with the job
    /// id as soon as the job row exists; `done` gets the report (or error) when it has ended.
    pub fn spawn<W: Work + 'static>(
        self: &Arc<Self>,
        work: W,
        sink: progress::ProgressSink,
        done: impl FnOnce(Result<W::Report>) + Send + 'static,
    ) -> Result<i64> {
        if self.is_retired() {
            return Err(retired());
        }
        let created = self.create_job(&work)?;
        let id = created.id;
        let cancel = CancelToken::new();
        // Registered before the thread exists, so a Cancel pressed at once is never lost.
        self.register_running(id, &cancel);
        // Retired meanwhile (the window opening another repository saw no job yet): not started.
        if self.is_retired() {
            self.unregister_running(id);
            let err = retired();
            let _ = jobs::finish(&self.db(), id, JobState::Cancelled, &err.text, Some(&err));
            return Err(err);
        }
        let engine = Arc::clone(self);
        let started = std::thread::Builder::new().name(format!("{}-{id}", work.kind())).spawn(move || {
            let result = engine.execute(created, work, &cancel, &*sink);
            done(result);
        });
        if let Err(e) = started {
            self.unregister_running(id);
            let err = internal(&format!("no worker thread could be started ({e})"));
            let _ = jobs::finish(&self.db(), id, JobState::Failed, &err.text, Some(&err));
            return Err(err);
        }
        Ok(id)
    }

    fn create_job<W: Work>(&self, work: &W) -> Result<Created> {
        let items = work.items();
        let rows: Vec<(String, Option<u64>)> = items.iter().map(|i| (i.label.clone(), i.size)).collect();
        let total = items.iter().filter_map(|i| i.size).sum();
        let session = self.store.session().to_string();
        let id = self.write(|tx| jobs::create(tx, work.kind(), &session, &rows, total))?;
        Ok(Created { id, items })
    }

    fn execute<W: Work>(&self, created: Created, work: W, cancel: &CancelToken, sink: &(dyn Fn(&JobProgress) + Sync)) -> Result<W::Report> {
        let Created { id, items } = created;
        // On a team repository: no prune of this desktop's cache while the job may read from it.
        let _reading = self.bucket().and_then(|_| {
            crate::team::cache::reading(&self.layout().objects())
                .inspect_err(|e| tracing::warn!(code = %e.code, "the team cache could not be held against a prune"))
                .ok()
        });
        self.register_running(id, cancel);
        let result = self.execute_registered(id, &items, work, cancel, sink);
        self.unregister_running(id);
        result
    }

    fn execute_registered<W: Work>(
        &self,
        id: i64,
        items: &[ItemSpec],
        work: W,
        cancel: &CancelToken,
        sink: &(dyn Fn(&JobProgress) + Sync),
    ) -> Result<W::Report> {
        jobs::set_running(&self.db(), id)?;
        let board = Board::new(self, id, items, sink);
        board.tick(None, true);
        let ends: Vec<Mutex<Option<ItemEnd<W::Item>>>> = items.iter().map(|_| Mutex::new(None)).collect();
        let patience = RowPatience::default();
        let run_one = |seq: usize| {
            let end = if cancel.is_cancelled() {
                ItemEnd { seq, label: items[seq].label.clone(), outcome: Outcome::Cancelled, artifact: None, error: None, value: None }
            } else {
                board.start(seq);
                let step = Step { board: &board, seq, cancel };
                let result = catch_unwind(AssertUnwindSafe(|| work.run_item(self, seq, &step)))
                    .unwrap_or_else(|_| Err(internal(&format!("the work on {} panicked", items[seq].label))));
                let (outcome, artifact, error, value) = match result {
                    Ok(done) => (done.outcome, done.artifact, None, Some(done.value)),
                    Err(e) if e.is(code::CANCELLED) => (Outcome::Cancelled, None, None, None),
                    Err(e) => (Outcome::Failed, None, Some(e), None),
                };
                ItemEnd { seq, label: items[seq].label.clone(), outcome, artifact, error, value }
            };
            // The item's row; a failure to write it is the job's, not the item's.
            let saved = self.keep_row(&patience, cancel, |conn| {
                jobs::set_item(conn, id, seq as u32, end.outcome, end.artifact.as_ref(), end.error.as_ref())
            });
            board.end(seq, end.outcome);
            *ends[seq].lock().unwrap_or_else(|p| p.into_inner()) = Some(end);
            saved
        };
        let workers = work.concurrency().clamp(1, items.len().max(1));
        let saved: Result<()> = if workers == 1 {
            (0..items.len()).try_for_each(run_one)
        } else {
            let next = AtomicUsize::new(0);
            let first_error: Mutex<Option<Error>> = Mutex::new(None);
            std::thread::scope(|scope| {
                for _ in 0..workers {
                    scope.spawn(|| loop {
                        let seq = next.fetch_add(1, Ordering::SeqCst);
                        if seq >= items.len() {
                            break;
                        }
                        if let Err(e) = run_one(seq) {
                            first_error.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(e);
                        }
                    });
                }
            });
            first_error.into_inner().unwrap_or_else(|p| p.into_inner()).map_or(Ok(()), Err)
        };
        let ends: Vec<ItemEnd<W::Item>> = ends
            .into_iter()
            .enumerate()
            .map(|(seq, slot)| {
                slot.into_inner().unwrap_or_else(|p| p.into_inner()).unwrap_or_else(|| ItemEnd {
                    seq,
                    label: items[seq].label.clone(),
                    outcome: Outcome::Cancelled,
                    artifact: None,
                    error: None,
                    value: None,
                })
            })
            .collect();
        // The end rule: a cancelled item cancels the job; else every item failed fails it, some
        // failed makes it partly succeeded.
        let cancelled = ends.iter().any(|e| e.outcome == Outcome::Cancelled);
        let failed: Vec<&Error> = ends.iter().filter_map(|e| e.error.as_ref()).collect();
        let (state, error) = match (&saved, cancelled) {
            (Err(e), _) => (JobState::Failed, Some(e.clone())),
            (Ok(()), true) => (JobState::Cancelled, Some(Error::cancelled())),
            (Ok(()), false) => (JobState::of_batch(false, failed.len(), ends.len()), failed.first().map(|e| (*e).clone())),
        };
        let summary = match &saved {
            Err(e) => e.text.clone(),
            Ok(()) => work.summary(&ends),
        };
        self.keep_row(&patience, &CancelToken::new(), |conn| jobs::finish(conn, id, state, &summary, error.as_ref()))?;
        board.finish(state);
        saved?;
        let job = self.get_job(id)?.job;
        work.report(self, job, ends)
    }
}

impl Engine {
    /// Write a job row that must not be lost — an item's end, the job's end. On a team repository
    /// whose catalog cannot be reached just now (a cut, a restarting server) it is tried again,
    /// with growing pauses, until the catalog answers: a job that did its work records it, rather
    /// than failing and leaving its row `running` for every desktop. The job waits once, at most
    /// [`row_patience`] in all (every later row fails at once after that), and not after Cancel
    /// (an item's row; the job's own end waits regardless, it is the last word).
    fn keep_row(&self, patience: &RowPatience, cancel: &CancelToken, write: impl Fn(&crate::db::Connection) -> Result<()>) -> Result<()> {
        let mut pause = std::time::Duration::from_millis(100);
        loop {
            // The catalog's lock is not held while waiting.
            let written = write(&self.db());
            match written {
                Err(e) if self.team().is_some() && e.is(code::REPOSITORY_UNREACHABLE) && !cancel.is_cancelled() && patience.wait_more() => {
                    tracing::warn!(code = %e.code, error = %e.text, "job row not written: the team catalog is away; trying again");
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(std::time::Duration::from_secs(2));
                }
                other => return other,
            }
        }
    }
}

/// How long one job waits, in all, for its team catalog to come back ([`Engine::keep_row`]).
#[derive(Default)]
struct RowPatience(std::sync::OnceLock<Instant>);

impl RowPatience {
    /// Whether to wait for the catalog once more: the clock starts at the job's first wait.
    fn wait_more(&self) -> bool {
        Instant::now() < *self.0.get_or_init(|| Instant::now() + row_patience())
    }
}

/// Two minutes, or IMAGESMITH_JOB_ROW_PATIENCE seconds.
fn row_patience() -> std::time::Duration {
    let secs = std::env::var("IMAGESMITH_JOB_ROW_PATIENCE").ok().and_then(|v| v.parse().ok()).unwrap_or(120);
    std::time::Duration::from_secs(secs)
}

/// What an item's work reports through: its phase, its bytes, the cancel token.
pub struct Step<'a> {
    board: &'a Board<'a>,
    seq: usize,
    cancel: &'a CancelToken,
}

impl Step<'_> {
    pub fn cancel(&self) -> &CancelToken {
        self.cancel
    }

    /// `Err(cancelled)` once the user asked to stop.
    pub fn check_cancel(&self) -> Result<()> {
        if self.cancel.is_cancelled() {
            Err(Error::cancelled())
        } else {
            Ok(())
        }
    }

    pub fn job_id(&self) -> i64 {
        self.board.job_id
    }

    /// A new phase of this item ("copying", "verifying", "uploading"); always reported.
    pub fn phase(&self, phase: &str) {
        self.board.update(self.seq, |item| {
            if item.phase == phase {
                return false;
            }
            item.phase = phase.to_string();
            true
        });
    }

    /// A new phase that moves other bytes (compressing, then uploading what was compressed):
    /// the item's count starts again from 0 of `total`.
    pub fn phase_sized(&self, phase: &str, total: u64) {
        self.board.update(self.seq, |item| {
            item.phase = phase.to_string();
            item.total = total;
            item.done = 0;
            item.resized = true;
            true
        });
    }

    /// Bytes of this item done so far (throttled to the sink).
    pub fn progress(&self, done: u64) {
        self.board.update(self.seq, |item| {
            item.done = done;
            false
        });
    }
}

#[derive(Debug, Default, Clone)]
struct ItemState {
    total: u64,
    done: u64,
    phase: String,
    running: bool,
    ended: bool,
    /// Ended having done its work (its outcome is a success).
    phase_done: bool,
    resized: bool,
}

impl ItemState {
    /// Bytes this item counts as done: all of them once it did its work, else what it moved.
    fn bytes_done(&self) -> u64 {
        if self.ended && self.phase_done {
            self.total.max(self.done)
        } else {
            self.done
        }
    }
}

struct BoardState {
    progress: JobProgress,
    items: Vec<ItemState>,
    rate: Rate,
    last_tick: Option<Instant>,
    last_persist: Option<Instant>,
}

/// The job's progress across all its items: one throttled stream to the sink, saved now and then.
struct Board<'a> {
    engine: &'a Engine,
    job_id: i64,
    labels: Vec<String>,
    sink: &'a (dyn Fn(&JobProgress) + Sync),
    state: Mutex<BoardState>,
}

impl<'a> Board<'a> {
    fn new(engine: &'a Engine, job_id: i64, items: &[ItemSpec], sink: &'a (dyn Fn(&JobProgress) + Sync)) -> Self {
        let item_states: Vec<ItemState> =
            items.iter().map(|i| ItemState { total: i.size.unwrap_or(0), phase: "queued".into(), ..Default::default() }).collect();
        let progress = JobProgress {
            job_id,
            state: JobState::Running,
            phase: "starting".into(),
            item_index: 0,
            item_count: items.len() as u32,
            items_done: 0,
            item_path: items.first().map(|i| i.label.clone()).unwrap_or_default(),
            item_bytes_done: 0,
            item_bytes_total: item_states.first().map(|i| i.total).unwrap_or(0),
            bytes_done: 0,
            bytes_total: item_states.iter().map(|i| i.total).sum(),
            rate_bps: 0.0,
            eta_seconds: None,
        };
        Board {
            engine,
            job_id,
            labels: items.iter().map(|i| i.label.clone()).collect(),
            sink,
            state: Mutex::new(BoardState { progress, items: item_states, rate: Rate::default(), last_tick: None, last_persist: None }),
        }
    }

    fn start(&self, seq: usize) {
        self.update(seq, |item| {
            item.running = true;
            item.phase = "starting".into();
            true
        });
    }

    fn end(&self, seq: usize, outcome: Outcome) {
        self.update(seq, |item| {
            item.running = false;
            item.ended = true;
            item.phase_done = outcome.is_success();
            item.phase = outcome.as_str().to_string();
            true
        });
    }

    /// Change item `seq` with `f` (which says whether the change must be reported at once).
    fn update(&self, seq: usize, f: impl FnOnce(&mut ItemState) -> bool) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let item = &mut s.items[seq];
        let forced = f(item);
        if std::mem::take(&mut item.resized) {
            s.rate.reset();
        }
        let item = s.items[seq].clone();
        let p = &mut s.progress;
        p.item_index = seq as u32;
        p.item_path = self.labels[seq].clone();
        p.item_bytes_done = item.done;
        p.item_bytes_total = item.total;
        p.phase = item.phase;
        self.tick_locked(&mut s, forced);
    }

    fn tick(&self, state: Option<JobState>, forced: bool) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(state) = state {
            s.progress.state = state;
        }
        self.tick_locked(&mut s, forced);
    }

    fn tick_locked(&self, s: &mut BoardState, forced: bool) {
        let done: u64 = s.items.iter().map(ItemState::bytes_done).sum();
        let total: u64 = s.items.iter().map(|i| i.total.max(i.done)).sum();
        let rate = s.rate.sample(done);
        let p = &mut s.progress;
        p.bytes_done = done;
        p.bytes_total = total;
        p.items_done = s.items.iter().filter(|i| i.ended).count() as u32;
        p.rate_bps = rate;
        p.eta_seconds = progress::eta(total.saturating_sub(done), rate);
        let now = Instant::now();
        let terminal = p.state.is_finished();
        if forced || terminal || s.last_tick.is_none_or(|t| now.duration_since(t) >= TICK_EVERY) {
            s.last_tick = Some(now);
            (self.sink)(&s.progress);
        }
        if !terminal && s.last_persist.is_none_or(|t| now.duration_since(t) >= PERSIST_EVERY) {
            s.last_persist = Some(now);
            let _ = jobs::save_progress(&self.engine.db(), &s.progress);
        }
    }

    /// The last tick: the job's end state, with the final counts.
    fn finish(&self, state: JobState) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.progress.state = state;
        s.progress.phase = if state == JobState::Succeeded { "done".into() } else { state.as_str().into() };
        s.progress.rate_bps = 0.0;
        s.progress.eta_seconds = None;
        s.progress.bytes_done = s.items.iter().map(ItemState::bytes_done).sum();
        s.progress.items_done = s.items.iter().filter(|i| i.ended).count() as u32;
        let _ = jobs::save_progress(&self.engine.db(), &s.progress);
        (self.sink)(&s.progress);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DataLayout, JobQuery};
    use std::sync::mpsc;

    /// A job kind for the tests: item `i` does what `plan[i]` says.
    #[derive(Clone, Copy, PartialEq)]
    enum Act {
        Ok,
        Fail,
        CancelThenOk,
        Panic,
    }

    struct TestWork {
        plan: Vec<Act>,
        workers: usize,
        /// Items meet here before they end when `workers` > 1, which proves they ran at once.
        gate: Option<std::sync::Barrier>,
    }

    impl Work for TestWork {
        type Item = usize;
        type Report = (JobSummary, Vec<(usize, Outcome)>);
        const KIND: JobKind = JobKind::Verify;

        fn items(&self) -> Vec<ItemSpec> {
            (0..self.plan.len()).map(|i| ItemSpec::new(format!("item-{i}"), Some(10))).collect()
        }

        fn concurrency(&self) -> usize {
            self.workers
        }

        fn run_item(&self, _engine: &Engine, seq: usize, step: &Step<'_>) -> Result<Done<usize>> {
            step.phase("working");
            step.progress(5);
            if let Some(gate) = &self.gate {
                gate.wait();
            }
            match self.plan[seq] {
                Act::Ok => Ok(Done::new(Outcome::Verified, seq)),
                Act::Fail => Err(Error::new(code::READ_FAILED, format!("item {seq} failed"), "why", "what")),
                Act::CancelThenOk => {
                    step.cancel().cancel();
                    Ok(Done::new(Outcome::Verified, seq))
                }
                Act::Panic => panic!("a bug in item {seq}"),
            }
        }

        fn report(self, _engine: &Engine, job: JobSummary, ends: Vec<ItemEnd<usize>>) -> Result<Self::Report> {
            Ok((job, ends.into_iter().map(|e| (e.seq, e.outcome)).collect()))
        }
    }

    fn work(plan: &[Act]) -> TestWork {
        TestWork { plan: plan.to_vec(), workers: 1, gate: None }
    }

    fn engine() -> (tempfile::TempDir, Engine) {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(DataLayout::new(dir.path())).unwrap();
        (dir, engine)
    }

    fn outcomes(r: &[(usize, Outcome)]) -> Vec<Outcome> {
        r.iter().map(|(_, o)| *o).collect()
    }

    #[test]
    fn every_item_done_is_a_succeeded_job_with_counts_in_its_summary() {
        let (_dir, e) = engine();
        let (job, items) = e.run(work(&[Act::Ok, Act::Ok]), &CancelToken::new(), &|_| {}).unwrap();
        assert_eq!(job.state, JobState::Succeeded);
        assert_eq!(job.kind, JobKind::Verify);
        assert_eq!(job.summary, "2 verified");
        assert_eq!(outcomes(&items), [Outcome::Verified, Outcome::Verified]);
        let detail = e.get_job(job.id).unwrap();
        assert!(detail.items.iter().all(|i| i.outcome == Outcome::Verified));
        assert_eq!(detail.job.bytes_done, 20);
    }

    #[test]
    fn a_failed_item_makes_the_job_partly_succeeded_and_the_batch_goes_on_all_failed_fails_it() {
        let (_dir, e) = engine();
        let (job, items) = e.run(work(&[Act::Fail, Act::Ok]), &CancelToken::new(), &|_| {}).unwrap();
        assert_eq!(job.state, JobState::PartlySucceeded);
        assert_eq!(outcomes(&items), [Outcome::Failed, Outcome::Verified]);
        assert_eq!(job.summary, "1 verified, 1 failed");
        assert_eq!(job.error.unwrap().text, "item 0 failed");
        let detail = e.get_job(job.id).unwrap();
        assert_eq!(detail.items[0].error.as_ref().unwrap().code, code::READ_FAILED);
        assert_eq!(detail.job.failed_count, 1);
        let (job, _) = e.run(work(&[Act::Fail, Act::Fail]), &CancelToken::new(), &|_| {}).unwrap();
        assert_eq!(job.state, JobState::Failed);
        let (job, _) = e.run(work(&[Act::Fail]), &CancelToken::new(), &|_| {}).unwrap();
        assert_eq!(job.state, JobState::Failed, "a job of one item either succeeds or fails");
    }

    #[test]
    fn a_cancel_between_items_cancels_the_rest_and_the_job() {
        let (_dir, e) = engine();
        let (job, items) = e.run(work(&[Act::Ok, Act::CancelThenOk, Act::Ok, Act::Ok]), &CancelToken::new(), &|_| {}).unwrap();
        assert_eq!(job.state, JobState::Cancelled);
        assert_eq!(outcomes(&items), [Outcome::Verified, Outcome::Verified, Outcome::Cancelled, Outcome::Cancelled]);
        assert_eq!(job.error.unwrap().code, code::CANCELLED);
        assert_eq!(job.summary, "2 verified, cancelled");
    }

    #[test]
    fn a_panicking_item_is_a_failed_item_not_a_dead_process_or_a_running_job() {
        let (_dir, e) = engine();
        let (job, items) = e.run(work(&[Act::Panic, Act::Ok]), &CancelToken::new(), &|_| {}).unwrap();
        assert_eq!(job.state, JobState::PartlySucceeded);
        assert_eq!(outcomes(&items), [Outcome::Failed, Outcome::Verified]);
        assert_eq!(e.get_job(job.id).unwrap().items[0].error.as_ref().unwrap().code, code::INTERNAL);
    }

    #[test]
    fn items_of_a_batch_run_at_once_and_report_in_declared_order() {
        let (_dir, e) = engine();
        // Two items that can only end once both are running: a runner doing one at a time hangs here.
        let w = TestWork { plan: vec![Act::Ok, Act::Fail, Act::Ok, Act::Ok], workers: 2, gate: Some(std::sync::Barrier::new(2)) };
        let (job, items) = e.run(w, &CancelToken::new(), &|_| {}).unwrap();
        assert_eq!(items.iter().map(|(s, _)| *s).collect::<Vec<_>>(), [0, 1, 2, 3]);
        assert_eq!(outcomes(&items), [Outcome::Verified, Outcome::Failed, Outcome::Verified, Outcome::Verified]);
        assert_eq!(job.state, JobState::PartlySucceeded);
    }

    /// The window opening another repository retires the engine it showed: never while one of its
    /// jobs runs (that job would be left where nobody sees or cancels it), and once retired it
    /// starts no job and records none.
    #[test]
    fn an_engine_with_a_job_running_is_not_retired_and_a_retired_one_starts_no_job() {
        struct Held(Arc<std::sync::Barrier>);
        impl Work for Held {
            type Item = ();
            type Report = JobState;
            const KIND: JobKind = JobKind::Verify;
            fn items(&self) -> Vec<ItemSpec> {
                vec![ItemSpec::new("held", None)]
            }
            fn run_item(&self, _e: &Engine, _seq: usize, _step: &Step<'_>) -> Result<Done<()>> {
                self.0.wait(); // running
                self.0.wait(); // let go
                Ok(Done::new(Outcome::Verified, ()))
            }
            fn report(self, _e: &Engine, job: JobSummary, _ends: Vec<ItemEnd<()>>) -> Result<JobState> {
                Ok(job.state)
            }
        }
        let (_dir, e) = engine();
        let e = Arc::new(e);
        let gate = Arc::new(std::sync::Barrier::new(2));
        let (tx, rx) = mpsc::channel();
        e.spawn(Held(gate.clone()), Box::new(|_| {}), move |r| tx.send(r.unwrap()).unwrap()).unwrap();
        gate.wait();
        assert_eq!(e.retire().unwrap_err().code, code::IN_USE, "a job is running");
        gate.wait();
        assert_eq!(rx.recv().unwrap(), JobState::Succeeded, "the refused retire changed nothing for the job");
        e.retire().unwrap();
        let err = e.spawn(Held(gate.clone()), Box::new(|_| {}), |_| panic!("never started")).unwrap_err();
        assert_eq!(err.code, code::CANCELLED, "{err:?}");
        assert_eq!(e.list_jobs(&JobQuery::default()).unwrap().len(), 1, "no row for the job that was not started");
    }

    #[test]
    fn progress_has_a_first_and_a_last_tick_and_is_throttled_in_between() {
        let (_dir, e) = engine();
        struct Chatty;
        impl Work for Chatty {
            type Item = ();
            type Report = ();
            const KIND: JobKind = JobKind::Verify;
            fn items(&self) -> Vec<ItemSpec> {
                vec![ItemSpec::new("big", Some(100_000))]
            }
            fn run_item(&self, _e: &Engine, _seq: usize, step: &Step<'_>) -> Result<Done<()>> {
                step.phase("hashing");
                for done in 0..100_000 {
                    step.progress(done);
                }
                Ok(Done::new(Outcome::Verified, ()))
            }
            fn report(self, _e: &Engine, _job: JobSummary, _ends: Vec<ItemEnd<()>>) -> Result<()> {
                Ok(())
            }
        }
        let ticks = Mutex::new(Vec::new());
        e.run(Chatty, &CancelToken::new(), &|p| ticks.lock().unwrap().push(p.clone())).unwrap();
        let ticks = ticks.into_inner().unwrap();
        assert_eq!(ticks.first().unwrap().state, JobState::Running);
        let last = ticks.last().unwrap();
        assert_eq!((last.state, last.bytes_done, last.items_done), (JobState::Succeeded, 100_000, 1));
        assert!(ticks.len() < 1000, "100,000 progress calls must not become {} ticks", ticks.len());
        assert!(ticks.iter().any(|t| t.phase == "hashing"), "a phase change is always told");
    }

    #[test]
    fn spawn_answers_with_the_job_id_while_the_work_still_runs() {
        let (_dir, e) = engine();
        let e = Arc::new(e);
        let (release_tx, release_rx) = mpsc::channel::<()>();
        struct Blocked(Mutex<mpsc::Receiver<()>>, Mutex<mpsc::Sender<()>>);
        impl Work for Blocked {
            type Item = ();
            type Report = &'static str;
            const KIND: JobKind = JobKind::Verify;
            fn items(&self) -> Vec<ItemSpec> {
                vec![ItemSpec::new("waiting", None)]
            }
            fn run_item(&self, _e: &Engine, _seq: usize, _step: &Step<'_>) -> Result<Done<()>> {
                self.1.lock().unwrap().send(()).unwrap();
                self.0.lock().unwrap().recv().unwrap();
                Ok(Done::new(Outcome::Verified, ()))
            }
            fn report(self, _e: &Engine, _job: JobSummary, _ends: Vec<ItemEnd<()>>) -> Result<&'static str> {
                Ok("report")
            }
        }
        let (done_tx, done_rx) = mpsc::channel();
        let (started_tx, started_rx) = mpsc::channel::<()>();
        let id = e
            .spawn(Blocked(Mutex::new(release_rx), Mutex::new(started_tx)), Box::new(|_| {}), move |r| {
                done_tx.send(r.unwrap()).unwrap();
            })
            .unwrap();
        assert!(!e.get_job(id).unwrap().job.state.is_finished(), "the work is still waiting");
        assert!(done_rx.try_recv().is_err());
        started_rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
        assert!(e.cancel_job(id).unwrap(), "a running job can be cancelled through its id");
        assert_eq!(e.running_jobs(), vec![id], "the app asks before quitting while this runs");
        release_tx.send(()).unwrap();
        e.wait_idle(); // returns once the job has stopped running (the app then quits)
        assert!(e.running_jobs().is_empty());
        assert_eq!(done_rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap(), "report");
        // The item had finished its work when the cancel came: the job did everything it had to.
        assert_eq!(e.get_job(id).unwrap().job.state, JobState::Succeeded);
    }

    #[test]
    fn a_job_left_running_by_a_dead_process_is_interrupted_on_the_next_open() {
        let dir = tempfile::tempdir().unwrap();
        let e = Engine::open(DataLayout::new(dir.path())).unwrap();
        let id = e.write(|tx| jobs::create(tx, JobKind::Import, "4242-deadbeefdeadbeef", &[("x.iso".into(), Some(1))], 1)).unwrap();
        jobs::set_running(&e.db(), id).unwrap();
        drop(e);
        let e = Engine::open(DataLayout::new(dir.path())).unwrap();
        let job = e.get_job(id).unwrap();
        assert_eq!(job.job.state, JobState::Interrupted);
        assert_eq!(job.items[0].outcome, Outcome::Cancelled);
    }

    #[test]
    fn an_unknown_word_in_the_catalog_is_an_error_not_another_word() {
        let (_dir, e) = engine();
        let (job, _) = e.run(work(&[Act::Ok]), &CancelToken::new(), &|_| {}).unwrap();
        e.db().execute("UPDATE jobs SET kind = 'teleport' WHERE id = ?1", [job.id]).unwrap();
        let err = e.list_jobs(&JobQuery::default()).unwrap_err();
        assert_eq!(err.code, code::UNKNOWN_VALUE);
        assert!(err.text.contains("teleport"), "{}", err.text);
    }
}
