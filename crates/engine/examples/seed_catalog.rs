//! Benchmark fixture: fill a repository's catalog with N artifacts and M finished jobs, then time
//! the queries the app runs on launch (a library page, a history page, the counts).
//!
//! `cargo run --release -p imagesmith-engine --example seed_catalog -- DIR [ARTIFACTS] [JOBS]`
//! `… --example seed_catalog -- --team NAME JOBS` times the same queries on team repository NAME,
//! whose catalog scripts/bench_team.py seeded in PostgreSQL (secrets from the keyring).
//! Rows are written straight into the catalog in one transaction (real imports of 10,000 files and
//! 100,000 jobs would take minutes and measure nothing the app does on launch); the catalog is
//! created and migrated by the engine itself, so the schema is the real one.

use imagesmith_engine::{ArtifactQuery, DataLayout, Engine, JobQuery, SortKey};
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("usage: seed_catalog DIR [ARTIFACTS] [JOBS] | --team NAME JOBS");
    if dir == "--team" {
        let name = args.next().expect("--team NAME");
        let jobs: u64 = args.next().map(|a| a.parse().expect("JOBS is a number")).unwrap_or(100_000);
        let engine = imagesmith_engine::team::open(&name, None, None).expect("open the team repository");
        time_queries(&engine, jobs);
        return;
    }
    let artifacts: u64 = args.next().map(|a| a.parse().expect("ARTIFACTS is a number")).unwrap_or(10_000);
    let jobs: u64 = args.next().map(|a| a.parse().expect("JOBS is a number")).unwrap_or(100_000);
    let _ = std::fs::remove_dir_all(&dir);
    drop(Engine::open(DataLayout::new(&dir)).expect("create repository"));

    let started = Instant::now();
    let mut conn = rusqlite::Connection::open(std::path::Path::new(&dir).join("catalog.db")).unwrap();
    let tx = conn.transaction().unwrap();
    {
        let kinds = [
            ("os", Some("linux")),
            ("driver", Some("linux")),
            ("os", Some("windows")),
            ("driver", Some("windows")),
            ("unattend", Some("linux")),
            ("script", Some("windows")),
            ("config", Some("vmware")),
            ("software", Some("linux")),
        ];
        let mut obj = tx.prepare("INSERT INTO objects (sha256, size, md5, created_at) VALUES (?1, ?2, ?3, ?4)").unwrap();
        let mut art = tx
            .prepare("INSERT INTO artifacts (name, kind, os, sha256, original_name, detected, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?1, '{}', ?5, ?5)")
            .unwrap();
        for i in 0..artifacts {
            let sha = format!("{:064x}", i as u128 * 0x9E37_79B9_7F4A_7C15 + 1);
            let md5 = format!("{:032x}", i + 7);
            let created = format!("2026-{:02}-{:02}T{:02}:{:02}:00.000Z", 1 + i % 12, 1 + i % 28, i % 24, i % 60);
            let (kind, os) = kinds[(i % kinds.len() as u64) as usize];
            obj.execute(rusqlite::params![sha, (i * 7919) % (6 << 30), md5, created]).unwrap();
            art.execute(rusqlite::params![format!("{kind}-{os}-{i:05}.iso", os = os.unwrap_or("any")), kind, os, sha, created]).unwrap();
        }
        let mut job = tx
            .prepare("INSERT INTO jobs (kind, state, session, created_at, started_at, finished_at, phase, bytes_done, bytes_total, summary) VALUES (?1, ?2, 'seed', ?3, ?3, ?3, 'done', ?4, ?4, ?5)")
            .unwrap();
        let mut item = tx.prepare("INSERT INTO job_items (job_id, seq, path, size, outcome) VALUES (?1, ?2, ?3, ?4, ?5)").unwrap();
        let states = ["succeeded", "succeeded", "succeeded", "failed", "cancelled", "interrupted"];
        for j in 0..jobs {
            let state = states[(j % states.len() as u64) as usize];
            let created = format!("2025-{:02}-{:02}T{:02}:{:02}:{:02}.000Z", 1 + j % 12, 1 + j % 28, j % 24, j % 60, j % 60);
            job.execute(rusqlite::params![
                if j % 10 == 0 { "verify" } else { "import" },
                state,
                created,
                (j * 4096) as i64,
                format!("{} imported", 1 + j % 3)
            ])
            .unwrap();
            let id = tx.last_insert_rowid();
            for seq in 0..(1 + j % 3) {
                let outcome = if state == "failed" && seq == 0 { "failed" } else { "imported" };
                item.execute(rusqlite::params![id, seq as i64, format!("/srv/isos/file-{j}-{seq}.iso"), 4096i64, outcome]).unwrap();
            }
        }
    }
    tx.commit().unwrap();
    drop(conn);
    println!("seeded {artifacts} artifacts and {jobs} jobs in {:.1} s", started.elapsed().as_secs_f64());

    let engine = Engine::open(DataLayout::new(&dir)).unwrap();
    time_queries(&engine, jobs);
}

/// The queries the app runs on launch and while scrolling, each timed once on the engine just opened.
fn time_queries(engine: &Engine, jobs: u64) {
    let time = |label: &str, f: &mut dyn FnMut() -> usize| {
        let t = Instant::now();
        let n = f();
        println!("{label:<48} {:>7.2} ms  ({n} rows)", t.elapsed().as_secs_f64() * 1000.0);
    };
    time("library: first page of 200 by name", &mut || {
        engine.list_artifacts(&ArtifactQuery { limit: Some(200), ..Default::default() }).unwrap().len()
    });
    time("library: page 40 of 200, newest first", &mut || {
        engine
            .list_artifacts(&ArtifactQuery {
                sort: SortKey::Created,
                descending: true,
                limit: Some(200),
                offset: 8000,
                ..Default::default()
            })
            .unwrap()
            .len()
    });
    time("library: count", &mut || engine.count_artifacts(&ArtifactQuery::default()).unwrap() as usize);
    time("library: search \"windows-0\"", &mut || {
        engine.list_artifacts(&ArtifactQuery { search: Some("windows-0".into()), limit: Some(200), ..Default::default() }).unwrap().len()
    });
    time("history: first page of 100", &mut || engine.list_jobs(&JobQuery { limit: Some(100), ..Default::default() }).unwrap().len());
    time("history: page of 100 in the middle (keyset)", &mut || {
        engine.list_jobs(&JobQuery { before_id: Some(jobs as i64 / 2), limit: Some(100), ..Default::default() }).unwrap().len()
    });
    time("history: failed jobs, first page of 100", &mut || {
        engine
            .list_jobs(&JobQuery { state: Some(imagesmith_engine::JobState::Failed), limit: Some(100), ..Default::default() })
            .unwrap()
            .len()
    });
    time("history: count", &mut || engine.count_jobs(&JobQuery::default()).unwrap() as usize);
}
