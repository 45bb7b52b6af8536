//! A team repository's bytes through crashes and races (issue 18, stage 5), against the real
//! PostgreSQL and SeaweedFS that scripts/servers.sh starts: an upload killed with SIGKILL between
//! parts leaves no row and no visible object, and the same import resumes it without sending those
//! parts again; deleted bytes leave the bucket only after their grace period and never when they
//! were imported again meanwhile; several desktops importing overlapping files at once end with
//! one object per content and every item accounted for; an object store that goes away in the
//! middle of a part fails the import clearly and the same import resumes when it is back. Each test has its own database and prefix.

mod common;
mod team_common;

use common::noise;
use serde_json::Value;
use std::path::PathBuf;
use team_common::*;

/// How many log events of this desktop's CLI contain `what`.
fn logged(desk: &Desk, what: &str) -> usize {
    desk.repo.log_text().lines().filter(|l| l.contains(what)).count()
}

#[test]
fn an_upload_killed_between_parts_leaves_nothing_visible_and_the_same_import_resumes_it() {
    let db = Db::new();
    let desk = &desks(&db, 1)[0];
    let dir = tempfile::tempdir().unwrap();
    let big = noise(dir.path(), "disk.img", 12 << 20, 7);
    let sha = sha256_of(&big);
    let import = |failpoint: Option<&str>| {
        spawn_team(desk, failpoint, &["import", big.to_str().unwrap(), "--kind", "disk_image"]).wait_with_output().unwrap()
    };

    // Killed (SIGKILL) after the second of three parts.
    let killed = import(Some("team.upload.after_part.2"));
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&killed.status), Some(9), "{killed:?}");
    assert_eq!(db.sql("SELECT count(*) FROM artifacts"), "0", "no row without its object");
    assert_eq!(head_status(&db, &sha), "404", "no half object is visible");
    assert_eq!(db.sql("SELECT string_agg(part::text, ',' ORDER BY part) FROM upload_parts"), "0,1");
    assert_eq!(logged(desk, "team object part uploaded"), 2);

    // The same import again: parts 1 and 2 are not sent again.
    let out = import(None);
    let (code, report) = json_of(&out);
    assert_eq!((code, report["items"][0]["outcome"].as_str()), (0, Some("imported")), "{report:#}");
    assert_eq!(logged(desk, "team upload resumed"), 1);
    assert_eq!(logged(desk, "team object part uploaded"), 3, "only the third part was sent after the kill");
    let got = tempfile::NamedTempFile::new().unwrap();
    s3(&["-o", got.path().to_str().unwrap(), &bucket_url(&object_key(&db, &sha))]);
    assert_eq!(sha256_of(got.path()), sha, "the object is the file, whole");
    assert_eq!(db.sql("SELECT count(*) FROM uploads"), "0", "the upload is settled with its rows");
}

#[test]
fn an_upload_cut_when_the_object_store_goes_away_fails_clearly_and_resumes_when_it_is_back() {
    let db = Db::new();
    let proxy = CutProxy::start();
    let desk = Desk::new();
    let (code, v) = Conn { name: "team".into(), endpoint: proxy.url.clone(), ..Conn::to(&db) }.run(&desk);
    assert_eq!(code, 0, "connected through the relay: {v:#}");
    let dir = tempfile::tempdir().unwrap();
    let big = noise(dir.path(), "disk.img", 12 << 20, 11);
    let sha = sha256_of(&big);
    let import = || finished(spawn_team(&desk, None, &["import", big.to_str().unwrap(), "--kind", "disk_image"]));

    // The object store goes away two megabytes into the second part.
    proxy.cut_after(7 << 20);
    let (code, failed) = import();
    assert_eq!((code, failed["job"]["state"].as_str()), (1, Some("failed")), "{failed:#}");
    let error = &failed["items"][0]["error"];
    assert_eq!(error["code"], "repository_unreachable", "{failed:#}");
    assert!(error["recovery"].as_str().is_some_and(|r| !r.is_empty()), "{failed:#}");
    assert_eq!(db.sql("SELECT count(*) FROM artifacts"), "0", "no row without its object");
    assert_eq!(head_status(&db, &sha), "404", "no half object is visible");
    assert_eq!(db.sql("SELECT string_agg(part::text, ',' ORDER BY part) FROM upload_parts"), "0", "the part that arrived is recorded");

    // Back again: the same import sends the two parts that were missing, not the first.
    proxy.restore();
    let (code, report) = import();
    assert_eq!((code, report["items"][0]["outcome"].as_str()), (0, Some("imported")), "{report:#}");
    assert_eq!(logged(&desk, "team upload resumed"), 1);
    assert_eq!(logged(&desk, "team object part uploaded"), 3, "one part before the cut, two after");
    let got = tempfile::NamedTempFile::new().unwrap();
    s3(&["-o", got.path().to_str().unwrap(), &bucket_url(&object_key(&db, &sha))]);
    assert_eq!(sha256_of(got.path()), sha, "the object is the file, whole");
    assert_eq!(db.sql("SELECT count(*) FROM uploads"), "0");
}

#[test]
fn deleted_bytes_leave_the_bucket_after_their_grace_period_unless_imported_again() {
    let db = Db::new();
    let d = desks(&db, 2);
    let (a, b) = (&d[0], &d[1]);
    let dir = tempfile::tempdir().unwrap();
    let gone = noise(dir.path(), "gone.img", 4096, 1);
    let back = noise(dir.path(), "back.img", 4096, 2);
    let claimed = noise(dir.path(), "claimed.img", 4096, 3);
    for f in [&gone, &back, &claimed] {
        let (code, r) = a.json(&["--repo", "team", "import", f.to_str().unwrap(), "--kind", "disk_image"]);
        assert_eq!(code, 0, "{r:#}");
    }
    for name in ["gone.img", "back.img", "claimed.img"] {
        assert!(a.run(&["--repo", "team", "delete", name]).status.success());
    }
    // Within the grace period nothing leaves the bucket.
    let (code, v) = a.json(&["--repo", "team", "verify"]);
    assert_eq!((code, v["collected"].as_array().map(Vec::len)), (0, Some(0)), "{v:#}");
    assert_eq!(head_status(&db, &sha256_of(&gone)), "200");

    // Another desktop imports one of them again before the collection: its bytes are kept.
    let (code, r) = b.json(&["--repo", "team", "import", back.to_str().unwrap(), "--kind", "disk_image"]);
    assert_eq!(code, 0, "{r:#}");
    // Even with its tombstone still there (long past its grace), bytes a row names are kept; and so
    // are bytes a desktop is uploading again (its `uploads` claim), tombstone and all.
    let (back_sha, claimed_sha) = (sha256_of(&back), sha256_of(&claimed));
    db.sql(&format!(
        "INSERT INTO object_tombstones (sha256, since) VALUES ('{back_sha}', now() - interval '2 days');
         INSERT INTO uploads (sha256, part_size, size, started_by) VALUES ('{claimed_sha}', 5242880, 4096, 'c@desk')"
    ));
    let out = a.cmd().env("IMAGESMITH_GC_GRACE", "0").args(["--repo", "team", "verify", "--json"]).output().unwrap();
    let (code, v) = json_of(&out);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["collected"], serde_json::json!([sha256_of(&gone)]), "{v:#}");
    assert_eq!(head_status(&db, &sha256_of(&gone)), "404");
    assert_eq!(head_status(&db, &back_sha), "200", "imported again while it waited: never deleted");
    assert_eq!(head_status(&db, &claimed_sha), "200", "being uploaded again: never deleted");
    assert_eq!(db.sql("SELECT string_agg(sha256, ',') FROM object_tombstones"), claimed_sha, "the claimed one waits for its upload");
    let (code, ok) = b.json(&["--repo", "team", "verify", "back.img"]);
    assert_eq!((code, ok["items"][0]["outcome"].as_str()), (0, Some("verified")), "{ok:#}");
}

#[test]
fn four_desktops_importing_overlapping_files_at_once_make_one_object_per_content() {
    let db = Db::new();
    let d = desks(&db, 4);
    let dir = tempfile::tempdir().unwrap();
    // 6 MiB each in 5 MiB parts: every upload is a multipart one, some of the same bytes at once.
    let files: Vec<PathBuf> = (0..8).map(|i| noise(dir.path(), &format!("file-{i}.img"), 6 << 20, 100 + i as u64)).collect();
    // Desktop i imports files i..i+5 (mod 8): every file by two or three desktops at once.
    let children: Vec<_> = d
        .iter()
        .enumerate()
        .map(|(i, desk)| {
            let mut c = desk.cmd();
            c.env("IMAGESMITH_S3_PART_SIZE", (5u64 << 20).to_string());
            c.args(["--repo", "team", "import", "--kind", "disk_image", "--json"]);
            for k in 0..5 {
                c.arg(&files[(i * 2 + k) % 8]);
            }
            c.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap()
        })
        .collect();
    let reports: Vec<Value> = children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            let (code, v) = json_of(&out);
            assert_eq!(code, 0, "{v:#}");
            v
        })
        .collect();
    let mut imported = 0;
    let mut duplicate = 0;
    for r in &reports {
        assert_eq!(r["job"]["state"], "succeeded", "{r:#}");
        for item in r["items"].as_array().unwrap() {
            match item["outcome"].as_str().unwrap() {
                "imported" => imported += 1,
                "duplicate" => duplicate += 1,
                other => panic!("{other}: {r:#}"),
            }
        }
    }
    assert_eq!((imported, duplicate), (8, 12), "each content imported once, every other item a duplicate");
    assert_eq!(db.sql("SELECT count(*) || ' ' || count(DISTINCT sha256) FROM artifacts"), "8 8");
    let keys = bucket_keys(&db.name);
    assert_eq!(keys.iter().filter(|k| k.contains("/objects/sha256/")).count(), 8, "one object per content: {keys:?}");
    assert_eq!(db.sql("SELECT count(*) FROM uploads"), "0", "every upload settled");
    assert_eq!(db.sql("SELECT count(*) FROM jobs WHERE state = 'succeeded'"), "4");
    // Each desktop's copy is whole: the other desktops verify what is in the bucket.
    let (code, v) = d[3].json(&["--repo", "team", "verify"]);
    assert_eq!(code, 0, "{v:#}");
    assert!(v["items"].as_array().unwrap().iter().all(|i| i["outcome"] == "verified"), "{v:#}");
}

/// The CLI on `desk`, `args` after `--repo team`, 5 MiB parts, with `failpoint` (if any): started, not waited for.
fn spawn_team(desk: &Desk, failpoint: Option<&str>, args: &[&str]) -> std::process::Child {
    let mut c = desk.cmd();
    c.env("IMAGESMITH_S3_PART_SIZE", (5u64 << 20).to_string());
    if let Some(f) = failpoint {
        c.env("IMAGESMITH_FAILPOINT", f);
    }
    c.args(["--repo", "team"]).args(args).arg("--json");
    c.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap()
}

fn finished(child: std::process::Child) -> (i32, Value) {
    json_of(&child.wait_with_output().unwrap())
}

/// The states of the team's jobs, newest first, as `desk` lists them — opening the repository, so
/// judging other desktops' sessions, with `grace` as IMAGESMITH_SESSION_GRACE (seconds) if given.
fn job_states_seen_by(desk: &Desk, grace: Option<&str>) -> String {
    let mut c = desk.cmd();
    if let Some(g) = grace {
        c.env("IMAGESMITH_SESSION_GRACE", g);
    }
    let (code, jobs) = json_of(&c.args(["--repo", "team", "jobs", "--json"]).output().unwrap());
    assert_eq!(code, 0, "{jobs:#}");
    jobs.as_array().unwrap().iter().map(|j| j["state"].as_str().unwrap().to_string()).collect::<Vec<_>>().join(",")
}

/// Whether the session of the team's (only) job holds its lock on the server now.
fn job_session_locked(db: &Db) -> bool {
    db.sql(
        "SELECT count(*) FROM pg_locks l JOIN sessions s ON l.objid::int8 = s.lock_key JOIN jobs j ON j.session = s.id
         WHERE l.locktype = 'advisory' AND l.objsubid = 2 AND l.granted AND l.classid::int8 = 1768780659
           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    ) == "1"
}

/// Until the job's session lock is `held` (the server lets go of a dead connection's locks on its
/// own time, a moment after the process has gone).
fn until_job_session_locked(db: &Db, held: bool) {
    let start = std::time::Instant::now();
    while job_session_locked(db) != held {
        assert!(start.elapsed() < std::time::Duration::from_secs(30), "the job's session lock is still {}", !held);
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// A desktop whose process dies in the middle of a job does not leave it `running` for everyone
/// until that desktop comes back: its session's lock went with its connection, so the next desktop
/// that opens the repository once the grace has passed marks the job interrupted, naming who ran
/// it. A live process that only lost its connection is left alone, and holds its lock again when it
/// reconnects.
#[test]
fn a_job_whose_process_died_on_another_desktop_is_marked_interrupted_by_the_next_one_that_opens() {
    let db = Db::new();
    let (a, b) = two_desks(&db);
    let dir = tempfile::tempdir().unwrap();
    let big = noise(dir.path(), "disk.img", 12 << 20, 25);
    let pause = Pause::at("team.upload.after_part.1");
    let done = Pause::at("team.upload.done");
    let failpoints = format!("{},{}", pause.env(), done.env());
    let mut import = spawn_team(&a, Some(&failpoints), &["import", big.to_str().unwrap(), "--kind", "disk_image"]);
    pause.reached(&mut import);
    let registered = "SELECT count(*) FROM sessions s JOIN jobs j ON j.session = s.id";
    assert_eq!(db.sql(registered), "1", "the importer's session is registered");
    assert!(job_session_locked(&db));

    // Alive: another desktop that opens now, judging at once (no grace), leaves the job running.
    assert_eq!(job_states_seen_by(&b, Some("0")), "running");

    // The importer's connection is ended by the server (as a network cut or an admin would): its
    // lock goes, the process lives on. A desktop that opens within the grace only notes it.
    db.sql(
        "SELECT pg_terminate_backend(l.pid) FROM pg_locks l JOIN sessions s ON l.objid::int8 = s.lock_key JOIN jobs j ON j.session = s.id
         WHERE l.locktype = 'advisory' AND l.objsubid = 2 AND l.classid::int8 = 1768780659",
    );
    until_job_session_locked(&db, false);
    assert_eq!(job_states_seen_by(&b, None), "running");
    assert_eq!(db.sql("SELECT count(*) FROM sessions s JOIN jobs j ON j.session = s.id WHERE s.missing_since IS NOT NULL"), "1");
    // Its next statements reconnect and take the lock again; the note is cleared.
    pause.release();
    done.reached(&mut import);
    assert!(job_session_locked(&db), "the lock is held again after the reconnect");
    assert_eq!(db.sql("SELECT count(*) FROM sessions s JOIN jobs j ON j.session = s.id WHERE s.missing_since IS NULL"), "1");
    assert_eq!(job_states_seen_by(&b, Some("0")), "running");

    // Killed (SIGKILL: nothing of it says goodbye) with the object whole and no row: its connection
    // closes and its lock with it; the next desktop to judge marks the job interrupted.
    import.kill().unwrap();
    import.wait().unwrap();
    until_job_session_locked(&db, false);
    assert_eq!(job_states_seen_by(&b, Some("0")), "interrupted");
    let (_, job) = b.json(&["--repo", "team", "jobs", "show", &db.sql("SELECT id::text FROM jobs")]);
    assert_eq!(job["error"]["code"], "cancelled", "{job:#}");
    let who = db.sql("SELECT run_by FROM jobs");
    assert!(job["error"]["explanation"].as_str().unwrap().contains(&who), "names who ran it: {job:#}");
    assert_eq!(job["items"][0]["outcome"], "cancelled", "{job:#}");
    assert_eq!(db.sql(registered), "0", "the dead session's row is gone");
    // Nothing of it became visible, and the same import from the same desktop sends nothing again.
    assert_eq!(db.sql("SELECT count(*) FROM artifacts"), "0");
    let (code, report) = finished(spawn_team(&a, None, &["import", big.to_str().unwrap(), "--kind", "disk_image"]));
    assert_eq!((code, report["items"][0]["outcome"].as_str()), (0, Some("imported")), "{report:#}");
}

#[test]
fn a_catalog_server_restarted_in_the_middle_of_an_import_is_reconnected_and_the_import_finishes() {
    // A PostgreSQL of this test's own, so that stopping its postmaster disturbs no other test.
    let own = OwnServers::start(&["postgres"], &[("TS_PG_PORT", 15433)]);
    let db = Db::on(own.pg());
    let desk = Desk::new();
    let (code, v) = Conn { name: "team".into(), catalog: db.url(false), ..Conn::to(&db) }.run(&desk);
    assert_eq!(code, 0, "{v:#}");
    let dir = tempfile::tempdir().unwrap();
    let big = noise(dir.path(), "disk.img", 12 << 20, 21);
    let sha = sha256_of(&big);

    let other = Desk::new();
    let (code, v) = Conn { name: "team".into(), catalog: db.url(false), ..Conn::to(&db) }.run(&other);
    assert_eq!(code, 0, "{v:#}");

    // The import stands after its first part (sent, and recorded in the catalog) ...
    let pause = Pause::at("team.upload.after_part.1");
    let done = Pause::at("team.upload.done");
    let failpoints = format!("{},{}", pause.env(), done.env());
    let mut import = spawn_team(&desk, Some(&failpoints), &["import", big.to_str().unwrap(), "--kind", "disk_image"]);
    pause.reached(&mut import);
    // ... while the catalog's server is stopped (fast shutdown: every session ends) and started again.
    own.stop("postgres");
    own.again("postgres");
    // The restart dropped the importer's session lock, and it has made no statement since: another
    // desktop that opens now leaves its job alone all the same (the server has only just started).
    assert_eq!(job_states_seen_by(&other, None), "running");
    pause.release();
    // Its next statements reconnected and took the lock again: even a desktop that judges at once
    // (no grace after the server's start) sees the job alive.
    done.reached(&mut import);
    assert_eq!(job_states_seen_by(&other, Some("0")), "running");
    done.release();

    let (code, report) = finished(import);
    assert_eq!((code, report["items"][0]["outcome"].as_str()), (0, Some("imported")), "{report:#}");
    assert_eq!(report["job"]["state"], "succeeded", "{report:#}");
    assert_eq!(logged(&desk, "team object part uploaded"), 3, "no part sent twice");
    // What the catalog holds after the restart: the row, the job's end, no upload left open.
    assert_eq!(db.sql(&format!("SELECT count(*) FROM artifacts WHERE sha256 = '{sha}'")), "1");
    assert_eq!(db.sql("SELECT state FROM jobs"), "succeeded");
    assert_eq!(db.sql("SELECT count(*) FROM uploads"), "0");
    // Another desktop sees it, and the bucket's copy is whole.
    let (code, v) = other.json(&["--repo", "team", "verify"]);
    assert_eq!((code, v["items"][0]["outcome"].as_str()), (0, Some("verified")), "{v:#}");
}

#[test]
fn an_object_store_stopped_in_the_middle_of_an_upload_fails_it_clearly_and_it_resumes_when_started_again() {
    // A SeaweedFS of this test's own, so that killing it disturbs no other test. Its ports and their
    // gRPC ports (+ 10000) stay below Linux's ephemeral range (32768-60999; see scripts/servers.sh).
    let own = OwnServers::start(
        &["s3"],
        &[
            ("TS_S3_PORT", 14333),
            ("TS_S3_HTTPS_PORT", 14334),
            ("TS_S3_MASTER_PORT", 14433),
            ("TS_S3_VOLUME_PORT", 14181),
            ("TS_S3_FILER_PORT", 14888),
        ],
    );
    let db = Db::new();
    let desk = Desk::new();
    let (code, v) = Conn { name: "team".into(), endpoint: own.fact("TS_S3_ENDPOINT").into(), ..Conn::to(&db) }.run(&desk);
    assert_eq!(code, 0, "{v:#}");
    let dir = tempfile::tempdir().unwrap();
    let big = noise(dir.path(), "disk.img", 12 << 20, 23);
    let args = ["import", big.to_str().unwrap(), "--kind", "disk_image"];

    // The object store is killed (SIGKILL, by PID) after the first part.
    let pause = Pause::at("team.upload.after_part.1");
    let mut import = spawn_team(&desk, Some(&pause.env()), &args);
    pause.reached(&mut import);
    own.stop("s3");
    pause.release();
    let (code, failed) = finished(import);
    assert_eq!((code, failed["job"]["state"].as_str()), (1, Some("failed")), "{failed:#}");
    let error = &failed["items"][0]["error"];
    assert_eq!(error["code"], "repository_unreachable", "{failed:#}");
    assert!(error["recovery"].as_str().is_some_and(|r| !r.is_empty()), "{failed:#}");
    assert_eq!(db.sql("SELECT count(*) FROM artifacts"), "0", "no row without its object");
    assert_eq!(db.sql("SELECT string_agg(part::text, ',' ORDER BY part) FROM upload_parts"), "0", "the part that arrived is recorded");

    // Started again on its data: the same import sends the two missing parts and no other.
    own.again("s3");
    let (code, report) = finished(spawn_team(&desk, None, &args));
    assert_eq!((code, report["items"][0]["outcome"].as_str()), (0, Some("imported")), "{report:#}");
    assert_eq!(logged(&desk, "team upload resumed"), 1);
    assert_eq!(logged(&desk, "team object part uploaded"), 3, "one part before the stop, two after");
    assert_eq!(db.sql("SELECT count(*) FROM uploads"), "0");
    let (code, v) = desk.json(&["--repo", "team", "verify"]);
    assert_eq!((code, v["items"][0]["outcome"].as_str()), (0, Some("verified")), "the bucket's copy is whole: {v:#}");
}

#[test]
fn a_collection_and_an_import_of_the_same_bytes_at_the_same_moment_lose_nothing() {
    let db = Db::new();
    let (a, b) = two_desks(&db);
    let dir = tempfile::tempdir().unwrap();
    let file = noise(dir.path(), "racing.img", 64 << 10, 31);
    let sha = sha256_of(&file);
    let import_args = ["import", file.to_str().unwrap(), "--kind", "disk_image"];
    let (code, r) = a.json(&["--repo", "team", "import", file.to_str().unwrap(), "--kind", "disk_image"]);
    assert_eq!(code, 0, "{r:#}");
    assert!(a.run(&["--repo", "team", "delete", "racing.img"]).status.success());

    // 1. The collection stands between its check and the delete of those bytes (the team's write
    //    lock held) when another desktop imports them again: the import waits for the lock, then
    //    sends the bytes again, so the collection's delete cannot take them from under it.
    let gc_pause = Pause::at("team.gc.before_delete");
    let mut gc = a.cmd();
    gc.env("IMAGESMITH_GC_GRACE", "0").env("IMAGESMITH_FAILPOINT", gc_pause.env()).args(["--repo", "team", "verify", "--json"]);
    let mut gc = gc.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    gc_pause.reached(&mut gc);
    let import = spawn_team(&b, None, &import_args);
    let waiting = format!("SELECT count(*) FROM pg_stat_activity WHERE datname = '{}' AND wait_event_type = 'Lock'", db.name);
    let start = std::time::Instant::now();
    while db.sql(&waiting) == "0" {
        assert!(start.elapsed() < std::time::Duration::from_secs(60), "the import never waited for the collection's lock");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    gc_pause.release();
    let (code, v) = finished(gc);
    assert_eq!((code, &v["collected"]), (0, &serde_json::json!([sha])), "the deleted bytes were collected: {v:#}");
    let (code, r) = finished(import);
    assert_eq!((code, r["items"][0]["outcome"].as_str()), (0, Some("imported")), "{r:#}");
    assert_eq!(head_status(&db, &sha), "200", "sent again after the collection");
    let (code, v) = a.json(&["--repo", "team", "verify", "racing.img"]);
    assert_eq!((code, v["items"][0]["outcome"].as_str()), (0, Some("verified")), "{v:#}");

    // 2. The other way round: an import stands with the bytes sent and no row yet when the
    //    collection runs: its claim keeps them.
    assert!(b.run(&["--repo", "team", "delete", "racing.img"]).status.success());
    let sent = Pause::at("team.upload.done");
    let mut import = spawn_team(&b, Some(&sent.env()), &import_args);
    sent.reached(&mut import);
    let out = a.cmd().env("IMAGESMITH_GC_GRACE", "0").args(["--repo", "team", "verify", "--json"]).output().unwrap();
    let (code, v) = json_of(&out);
    assert_eq!((code, &v["collected"]), (0, &serde_json::json!([])), "bytes being imported are nobody's garbage: {v:#}");
    sent.release();
    let (code, r) = finished(import);
    assert_eq!((code, r["items"][0]["outcome"].as_str()), (0, Some("imported")), "{r:#}");
    let (code, v) = a.json(&["--repo", "team", "verify", "racing.img"]);
    assert_eq!((code, v["items"][0]["outcome"].as_str()), (0, Some("verified")), "{v:#}");
    assert_eq!(db.sql("SELECT count(*) FROM object_tombstones"), "0", "imported again: no tombstone left");
}

#[test]
fn an_import_killed_with_its_object_whole_but_no_row_lists_nothing_and_again_sends_nothing_twice() {
    let db = Db::new();
    let desk = &desks(&db, 1)[0];
    let dir = tempfile::tempdir().unwrap();
    let big = noise(dir.path(), "disk.img", 12 << 20, 41);
    let sha = sha256_of(&big);
    let args = ["import", big.to_str().unwrap(), "--kind", "disk_image"];

    let killed = spawn_team(desk, Some("team.upload.done"), &args).wait_with_output().unwrap();
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&killed.status), Some(9), "{killed:?}");
    let (code, listed) = desk.json(&["--repo", "team", "list"]);
    assert_eq!((code, listed.as_array().map(Vec::len)), (0, Some(0)), "nothing listed without its row: {listed:#}");
    assert_eq!(db.sql("SELECT count(*) FROM uploads"), "1", "the upload is still claimed, so no collection takes its bytes");

    let (code, report) = finished(spawn_team(desk, None, &args));
    assert_eq!((code, report["items"][0]["outcome"].as_str()), (0, Some("imported")), "{report:#}");
    assert_eq!(logged(desk, "team object part uploaded"), 3, "no part sent again");
    assert_eq!(db.sql("SELECT count(*) FROM uploads"), "0");
    assert_eq!(head_status(&db, &sha), "200");
    let (code, v) = desk.json(&["--repo", "team", "verify"]);
    assert_eq!((code, v["items"][0]["outcome"].as_str()), (0, Some("verified")), "{v:#}");
}
