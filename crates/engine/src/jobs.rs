//! Job history in SQLite: kinds, states, per-item outcomes, saved progress, interrupted jobs. The
//! runner (`runner.rs`) is the only writer of job rows; this module is its storage.

use crate::clock;
use crate::db::{params, Connection, OptionalExtension, Row};
use crate::error::{Error, Result};
use crate::model::ArtifactRef;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

crate::model::string_enum!(
    /// Where a job is: queued -> running -> succeeded | partly_succeeded (some items failed, the
    /// others did their work) | failed | cancelled; interrupted when the process running it died.
    JobState, "job state", InvalidJobState {
        Queued = "queued", Running = "running", Succeeded = "succeeded", PartlySucceeded = "partly_succeeded",
        Failed = "failed", Cancelled = "cancelled", Interrupted = "interrupted",
    }
);

impl JobState {
    pub fn is_finished(self) -> bool {
        !matches!(self, JobState::Queued | JobState::Running)
    }

    /// How a job over `items` items ends: cancelled wins; then every item failed fails it, some
    /// failed makes it partly succeeded (the counts say what), none succeeds it.
    pub fn of_batch(cancelled: bool, failed: usize, items: usize) -> JobState {
        if cancelled {
            JobState::Cancelled
        } else if failed == 0 {
            JobState::Succeeded
        } else if failed < items {
            JobState::PartlySucceeded
        } else {
            JobState::Failed
        }
    }
}

crate::model::string_enum!(
    /// What kind of work a job does. Adding a kind: a variant here, then see ARCHITECTURE.md.
    JobKind, "job kind", InvalidJobKind {
        Import = "import", Verify = "verify", Export = "export", ServerExport = "server_export",
        ProfileImport = "profile_import", Publish = "publish", Recover = "recover", Capture = "capture",
        Provision = "provision", SnapshotImage = "snapshot_image", Push = "push", Pull = "pull",
    }
);

impl JobKind {
    /// How the history names it.
    pub fn label(self) -> &'static str {
        match self {
            JobKind::Import => "Import",
            JobKind::Verify => "Verify",
            JobKind::Export => "Export",
            JobKind::ServerExport => "Export to server",
            JobKind::ProfileImport => "Profile import",
            JobKind::Publish => "Publish",
            JobKind::Recover => "Recovery",
            JobKind::Capture => "Capture",
            JobKind::Provision => "Provision",
            JobKind::SnapshotImage => "Snapshot image",
            JobKind::Push => "Push to team",
            JobKind::Pull => "Pull from team",
        }
    }
}

crate::model::string_enum!(
    /// What an item of a job came to, in a word that fits the kind.
    Outcome, "outcome", InvalidOutcome {
        Pending = "pending", Imported = "imported", Duplicate = "duplicate", Exported = "exported",
        Uploaded = "uploaded", Published = "published", Verified = "verified", Captured = "captured",
        Provisioned = "provisioned", Downloaded = "downloaded", Recovered = "recovered", Copied = "copied", Failed = "failed",
        Cancelled = "cancelled", Skipped = "skipped",
    }
);

impl Outcome {
    /// The words a job summary uses for a count of items with this outcome ("3 imported").
    pub fn summary_word(self) -> &'static str {
        match self {
            Outcome::Duplicate => "already there",
            other => other.as_str(),
        }
    }

    /// Whether the item's work was done (not failed, cancelled, skipped or pending).
    pub fn is_success(self) -> bool {
        !matches!(self, Outcome::Pending | Outcome::Failed | Outcome::Cancelled | Outcome::Skipped)
    }
}

/// A job as the history lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct JobSummary {
    pub id: i64,
    pub kind: JobKind,
    pub state: JobState,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub item_count: u32,
    pub failed_count: u32,
    pub phase: String,
    pub bytes_done: u64,
    pub bytes_total: u64,
    pub rate_bps: f64,
    pub eta_seconds: Option<f64>,
    pub summary: String,
    pub error: Option<Error>,
    /// Who ran it, as `user@host`; none for jobs from before Imagesmith recorded it.
    pub run_by: Option<String>,
}

/// One item of a job: a file and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct JobItem {
    pub seq: u32,
    pub path: String,
    pub size: Option<u64>,
    pub outcome: Outcome,
    pub artifact: Option<ArtifactRef>,
    pub error: Option<Error>,
    /// The digests this job found the item's bytes to match (an import with a checksum).
    pub verification: Vec<crate::model::Verification>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct JobDetail {
    #[serde(flatten)]
    pub job: JobSummary,
    pub items: Vec<JobItem>,
}

/// Which jobs to list: newest first, keyset-paged by id.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct JobQuery {
    pub state: Option<JobState>,
    pub kind: Option<JobKind>,
    /// Only jobs with a smaller id (the last id of the previous page).
    pub before_id: Option<i64>,
    pub limit: Option<u32>,
}

/// Live progress of a running job, sent to the UI or the terminal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct JobProgress {
    pub job_id: i64,
    pub state: JobState,
    pub phase: String,
    pub item_index: u32,
    pub item_count: u32,
    /// Items that have ended (in any outcome); with several items at once, `item_index` is the
    /// one that reported last.
    pub items_done: u32,
    pub item_path: String,
    pub item_bytes_done: u64,
    pub item_bytes_total: u64,
    pub bytes_done: u64,
    pub bytes_total: u64,
    pub rate_bps: f64,
    pub eta_seconds: Option<f64>,
}

const SUMMARY_COLUMNS: &str = "j.id, j.kind, j.state, j.created_at, j.started_at, j.finished_at, \
    (SELECT COUNT(*) FROM job_items i WHERE i.job_id = j.id), \
    (SELECT COUNT(*) FROM job_items i WHERE i.job_id = j.id AND i.outcome = 'failed'), \
    j.phase, j.bytes_done, j.bytes_total, j.rate_bps, j.eta_seconds, j.summary, j.error, j.run_by";

fn summary_row(r: &Row<'_>) -> crate::db::SqlResult<JobSummary> {
    Ok(JobSummary {
        id: r.get(0)?,
        kind: crate::db::word(r, 1)?,
        state: crate::db::word(r, 2)?,
        created_at: r.get(3)?,
        started_at: r.get(4)?,
        finished_at: r.get(5)?,
        item_count: r.get::<_, i64>(6)? as u32,
        failed_count: r.get::<_, i64>(7)? as u32,
        phase: r.get(8)?,
        bytes_done: r.get::<_, i64>(9)? as u64,
        bytes_total: r.get::<_, i64>(10)? as u64,
        rate_bps: r.get(11)?,
        eta_seconds: r.get(12)?,
        summary: r.get(13)?,
        error: crate::db::stored_error(r, 14)?,
        run_by: r.get(15)?,
    })
}

/// Create a queued job with its items (paths) in one transaction.
pub fn create(conn: &Connection, kind: JobKind, session: &str, items: &[(String, Option<u64>)], bytes_total: u64) -> Result<i64> {
    let id: i64 = conn.query_row(
        "INSERT INTO jobs (kind, state, session, created_at, bytes_total, run_by) VALUES (?1, 'queued', ?2, ?3, ?4, ?5) RETURNING id",
        params![kind.as_str(), session, clock::now(), bytes_total as i64, crate::team::who()],
        |r| r.get(0),
    )?;
    let mut stmt = conn.prepare_cached("INSERT INTO job_items (job_id, seq, path, size) VALUES (?1, ?2, ?3, ?4)")?;
    for (seq, (path, size)) in items.iter().enumerate() {
        stmt.execute(params![id, seq as i64, path, size.map(|s| s as i64)])?;
    }
    crate::logging::log_job_started(id, kind.as_str(), items.len());
    Ok(id)
}

pub fn set_running(conn: &Connection, id: i64) -> Result<()> {
    conn.execute("UPDATE jobs SET state = 'running', started_at = ?1 WHERE id = ?2 AND state = 'queued'", params![clock::now(), id])?;
    Ok(())
}

pub fn save_progress(conn: &Connection, p: &JobProgress) -> Result<()> {
    conn.execute(
        "UPDATE jobs SET phase = ?1, bytes_done = ?2, bytes_total = ?3, rate_bps = ?4, eta_seconds = ?5 WHERE id = ?6",
        params![p.phase, p.bytes_done as i64, p.bytes_total as i64, p.rate_bps, p.eta_seconds, p.job_id],
    )?;
    Ok(())
}

pub fn set_item(
    conn: &Connection,
    job: i64,
    seq: u32,
    outcome: Outcome,
    artifact: Option<&ArtifactRef>,
    error: Option<&Error>,
) -> Result<()> {
    conn.execute(
        // An artifact deleted while the job ran (a verify racing a delete) keeps its name, not its id.
        "UPDATE job_items SET outcome = ?1, artifact_id = (SELECT id FROM artifacts WHERE id = ?2), artifact_name = ?3, error = ?4
         WHERE job_id = ?5 AND seq = ?6",
        params![
            outcome.as_str(),
            artifact.map(|a| a.id),
            artifact.map(|a| a.name.clone()),
            error.map(|e| serde_json::to_string(e).unwrap_or_default()),
            job,
            seq
        ],
    )?;
    Ok(())
}

pub fn finish(conn: &Connection, id: i64, state: JobState, summary: &str, error: Option<&Error>) -> Result<()> {
    finish_when(conn, id, state, summary, error, false).map(|_| ())
}

/// [`finish`], only for a job still queued or running (another process may have ended it in the
/// meantime); whether it was.
pub fn finish_if_unfinished(conn: &Connection, id: i64, state: JobState, summary: &str, error: Option<&Error>) -> Result<bool> {
    finish_when(conn, id, state, summary, error, true)
}

fn finish_when(conn: &Connection, id: i64, state: JobState, summary: &str, error: Option<&Error>, only_unfinished: bool) -> Result<bool> {
    let guard = if only_unfinished { " AND state IN ('queued', 'running')" } else { "" };
    let changed = conn.execute(
        &format!(
            "UPDATE jobs SET state = ?1, finished_at = ?2, summary = ?3, error = ?4, rate_bps = 0, eta_seconds = NULL,
                 phase = CASE WHEN ?1 = 'succeeded' THEN 'done' ELSE phase END
             WHERE id = ?5{guard}"
        ),
        params![state.as_str(), clock::now(), summary, error.map(|e| serde_json::to_string(e).unwrap_or_default()), id],
    )?;
    if only_unfinished && changed == 0 {
        return Ok(false);
    }
    // Items never reached stay visible as cancelled (for a cancelled or failed job).
    conn.execute("UPDATE job_items SET outcome = 'cancelled' WHERE job_id = ?1 AND outcome = 'pending'", [id])?;
    let kind: Option<String> = conn.query_row("SELECT kind FROM jobs WHERE id = ?1", [id], |r| r.get(0)).optional()?;
    crate::logging::log_job_finished(id, kind.as_deref().unwrap_or(""), state, error);
    Ok(true)
}

/// Jobs left queued or running by processes that are gone become `interrupted`.
///
/// On a team catalog only the jobs of this desktop's sessions (`desktop`, the prefix of their ids)
/// are looked at: the sessions of other desktops are not in this one's staging folder, and their
/// jobs are theirs to settle.
pub fn mark_interrupted(conn: &Connection, live_sessions: &HashSet<String>, desktop: Option<&str>) -> Result<usize> {
    let mut stmt = conn.prepare(
        "SELECT id, session FROM jobs WHERE state IN ('queued', 'running') AND (substr(session, 1, length(?1)) = ?1 OR ?1 IS NULL)",
    )?;
    let prefix = desktop.map(|d| format!("{d}-"));
    let dead: Vec<i64> = stmt
        .query_map([prefix], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?
        .filter_map(|r| r.ok())
        .filter(|(_, s)| !live_sessions.contains(s))
        .map(|(id, _)| id)
        .collect();
    let error = Error::new(
        crate::error::code::CANCELLED,
        "The job was interrupted: the Imagesmith process running it ended before it finished.",
        "The app or command was closed, killed or crashed, or the computer shut down, while the job was running.",
        "Nothing half-written was kept. Start the job again.",
    );
    for id in &dead {
        finish(conn, *id, JobState::Interrupted, "Interrupted", Some(&error))?;
        conn.execute("UPDATE jobs SET error = ?1 WHERE id = ?2", params![serde_json::to_string(&error).unwrap_or_default(), id])?;
    }
    Ok(dead.len())
}

/// On a team catalog: the jobs of registered sessions whose lock nobody has held for `grace`
/// seconds — their process died, or lost the server for good, on whichever desktop — become
/// `interrupted`, naming who ran them, and those sessions' rows go once they have no such job. A
/// session's lock is first noted missing (`missing_since`, server time) and judged only `grace`
/// later: a lost connection or a server restart takes the lock of a live process too, which holds it
/// again with its next statement ([`crate::team::hold_session`] clears the note). Each step is one
/// statement that changes only what it checks, so desktops doing this at once agree. Sessions
/// without a row (older builds) are left to their own desktop ([`mark_interrupted`]).
pub fn mark_abandoned(conn: &Connection, grace: f64) -> Result<usize> {
    let held = "EXISTS (SELECT 1 FROM pg_locks l
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND l.classid::int8 = ?1 AND l.objid::int8 = s.lock_key)";
    let ns = i64::from(crate::team::SESSION_LOCK_NS);
    conn.execute(&format!("UPDATE sessions s SET missing_since = now() WHERE s.missing_since IS NULL AND NOT {held}"), [ns])?;
    conn.execute(&format!("UPDATE sessions s SET missing_since = NULL WHERE s.missing_since IS NOT NULL AND {held}"), [ns])?;
    let gone = format!("s.missing_since <= now() - make_interval(secs => ?2) AND NOT {held}");
    let mut stmt = conn.prepare(&format!(
        "SELECT j.id, coalesce(j.run_by, '') FROM jobs j JOIN sessions s ON s.id = j.session
         WHERE j.state IN ('queued', 'running') AND {gone}"
    ))?;
    let dead: Vec<(i64, String)> =
        stmt.query_map(params![ns, grace], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<std::result::Result<_, _>>()?;
    let mut marked = 0;
    for (id, run_by) in &dead {
        let who = if run_by.is_empty() { "Its desktop".to_string() } else { format!("The desktop of {run_by}") };
        let error = Error::new(
            crate::error::code::CANCELLED,
            "The job was interrupted: the Imagesmith process running it ended before it finished.",
            format!("{who} closed, killed or crashed the app or command running it, or lost the team catalog for good, while the job was running."),
            "Nothing half-written is visible to anyone. Start the job again: an import of the same files goes on from the parts already sent.",
        );
        // Only if it is still unfinished: a process that came back in the meantime ended it itself.
        if finish_if_unfinished(conn, *id, JobState::Interrupted, "Interrupted", Some(&error))? {
            tracing::info!(job = id, run_by, "another desktop's job was left running by a process that is gone: marked interrupted");
            marked += 1;
        }
    }
    conn.execute(
        &format!(
            "DELETE FROM sessions s WHERE {gone}
               AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.session = s.id AND j.state IN ('queued', 'running'))"
        ),
        params![ns, grace],
    )?;
    Ok(marked)
}

/// WHERE clause and arguments for a job query; `paged` adds the keyset condition.
fn filter(q: &JobQuery, paged: bool) -> (String, Vec<crate::db::Value>) {
    let mut clauses = Vec::new();
    let mut args: Vec<crate::db::Value> = Vec::new();
    if let Some(state) = q.state {
        args.push(state.as_str().to_string().into());
        clauses.push(format!("j.state = ?{}", args.len()));
    }
    if let Some(kind) = &q.kind {
        args.push(kind.as_str().to_string().into());
        clauses.push(format!("j.kind = ?{}", args.len()));
    }
    if let (true, Some(before)) = (paged, q.before_id) {
        args.push(before.into());
        clauses.push(format!("j.id < ?{}", args.len()));
    }
    let sql = if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
    (sql, args)
}

pub fn list(conn: &Connection, q: &JobQuery) -> Result<Vec<JobSummary>> {
    let (filter, args) = filter(q, true);
    // No SQLite-only LIMIT -1 when there is no limit.
    let limit = q.limit.map(|l| format!(" LIMIT {l}")).unwrap_or_default();
    let sql = format!("SELECT {SUMMARY_COLUMNS} FROM jobs j {filter} ORDER BY j.id DESC{limit}");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(crate::db::params_from_iter(args), summary_row)?.collect::<crate::db::SqlResult<_>>()?;
    Ok(rows)
}

/// How many jobs match (ignoring paging).
pub fn count(conn: &Connection, q: &JobQuery) -> Result<u64> {
    let (filter, args) = filter(q, false);
    Ok(conn.query_row(&format!("SELECT COUNT(*) FROM jobs j {filter}"), crate::db::params_from_iter(args), |r| r.get::<_, i64>(0))? as u64)
}

pub fn get(conn: &Connection, id: i64) -> Result<JobDetail> {
    let sql = format!("SELECT {SUMMARY_COLUMNS} FROM jobs j WHERE j.id = ?1");
    let job = conn.query_row(&sql, [id], summary_row).optional()?.ok_or_else(|| Error::job_not_found(id))?;
    let mut stmt =
        conn.prepare("SELECT seq, path, size, outcome, artifact_id, artifact_name, error FROM job_items WHERE job_id = ?1 ORDER BY seq")?;
    let items = stmt
        .query_map([id], |r| {
            let artifact_id: Option<i64> = r.get(4)?;
            let artifact_name: Option<String> = r.get(5)?;
            Ok(JobItem {
                seq: r.get::<_, i64>(0)? as u32,
                path: r.get(1)?,
                size: r.get::<_, Option<i64>>(2)?.map(|s| s as u64),
                outcome: crate::db::word(r, 3)?,
                artifact: artifact_id.map(|id| ArtifactRef { id, name: artifact_name.unwrap_or_default() }),
                error: crate::db::stored_error(r, 6)?,
                verification: Vec::new(),
            })
        })?
        .collect::<crate::db::SqlResult<Vec<JobItem>>>()?;
    let mut items = items;
    for item in &mut items {
        if let Some(a) = &item.artifact {
            item.verification = crate::catalog::verifications(conn, a.id, Some(id))?;
        }
    }
    Ok(JobDetail { job, items })
}

pub fn state(conn: &Connection, id: i64) -> Result<JobState> {
    conn.query_row("SELECT state FROM jobs WHERE id = ?1", [id], |r| crate::db::word(r, 0))
        .optional()?
        .ok_or_else(|| Error::job_not_found(id))
}
