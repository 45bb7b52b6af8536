//! What a repository holds and how much room is left, and the diagnostics text for a support request:
//! one source for `imagesmith-cli info` and the app's Settings.

use crate::error::Result;
use crate::jobs::{JobQuery, JobState};
use crate::Engine;
use serde::{Deserialize, Serialize};

/// Figures for Settings and `imagesmith-cli info`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RepositoryStats {
    /// Library entries (several may share one stored file).
    pub artifacts: u64,
    /// Stored files, each kept once.
    pub objects: u64,
    /// Bytes the stored files take.
    pub stored_bytes: u64,
    /// Stored files that are missing or damaged.
    pub lost: u64,
    /// Bytes free on the repository's disk for this user; None when the system does not say.
    pub free_bytes: Option<u64>,
}

impl Engine {
    pub fn repository_stats(&self) -> Result<RepositoryStats> {
        let conn = self.db();
        let (objects, stored_bytes, lost): (i64, i64, i64) = conn.query_row(
            "SELECT COUNT(*), COALESCE(SUM(size), 0), COALESCE(SUM(CASE WHEN state <> 'ok' THEN 1 ELSE 0 END), 0) FROM objects",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let artifacts: i64 = conn.query_row("SELECT COUNT(*) FROM artifacts", [], |r| r.get(0))?;
        Ok(RepositoryStats {
            artifacts: artifacts as u64,
            objects: objects as u64,
            stored_bytes: stored_bytes as u64,
            lost: lost as u64,
            free_bytes: self.store.staging_free_bytes(),
        })
    }

    /// A plain-text report for a support request: versions, where the repository and logs are, its
    /// figures, whether it is read-only, and the last failed jobs with their codes. No secret is in
    /// the catalog, so none can be in here; paths and file names are.
    pub fn diagnostics(&self, program: &str) -> Result<String> {
        let stats = self.repository_stats()?;
        let (repository, schema) = match self.team() {
            Some(t) => (
                format!("team {} (id {}); this desktop's part: {}", t.name, t.repository_id, self.layout().root.display()),
                format!("{} (team catalog, PostgreSQL)", crate::team::catalog::TEAM_SCHEMA_VERSION),
            ),
            None => (self.layout().root.display().to_string(), crate::db::SCHEMA_VERSION.to_string()),
        };
        let mut out = vec![
            format!("{program} {}", env!("CARGO_PKG_VERSION")),
            format!("system: {} {}", std::env::consts::OS, std::env::consts::ARCH),
            format!("repository: {repository}"),
            format!("catalog schema: {schema}"),
            format!(
                "library: {} artifacts, {} stored files ({} bytes), {} missing or damaged",
                stats.artifacts, stats.objects, stats.stored_bytes, stats.lost
            ),
            format!("free: {}", stats.free_bytes.map(|b| format!("{b} bytes")).unwrap_or_else(|| "unknown".into())),
            format!("logs: {}", crate::logging::log_dir().map(|d| d.display().to_string()).unwrap_or_else(|e| e.text)),
        ];
        if let Some(why) = self.why_read_only() {
            out.push(format!("read-only: [{}] {}", why.code, why.text));
        }
        let failed = self.list_jobs(&JobQuery { state: Some(JobState::Failed), kind: None, before_id: None, limit: Some(5) })?;
        out.push(format!("last failed jobs: {}", if failed.is_empty() { "none" } else { "" }));
        for j in failed {
            let code = j.error.as_ref().map(|e| e.code.to_string()).unwrap_or_default();
            out.push(format!("  #{} {} {} [{code}] {}", j.id, j.kind, j.finished_at.unwrap_or_default(), j.summary));
        }
        Ok(out.join("\n"))
    }
}

/// A size as people read it: "947 B", "1.5 GiB".
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}
