//! The CLI's log file for support: every job's start and end with its id, kind and state, `-v`
//! mirroring the events to stderr, and commands that still work when no log file can be written.

mod common;

use common::*;
use serde_json::Value;

fn job_lines<'a>(lines: &'a [Value], message: &str, id: i64) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["target"] == "imagesmith_engine::jobs" && l["message"] == message && l["job_id"] == id).collect()
}

#[test]
fn every_job_start_and_end_is_logged_with_its_id_kind_and_state() {
    let repo = Repo::new();
    let (code, ok) = repo.import(&[], &[fixture("ks.cfg")]);
    assert_eq!(code, 0, "{ok:#}");
    let (code, bad) = repo.import(&["--sha256", &"0".repeat(64)], &[fixture("Set-Network.ps1")]);
    assert_eq!(code, 1, "{bad:#}");
    let (code, verified) = repo.json(["verify"]);
    assert_eq!(code, 0, "{verified:#}");

    let lines = repo.log_lines();
    for (report, kind, items, state) in
        [(&ok, "import", 1, "succeeded"), (&bad, "import", 1, "failed"), (&verified, "verify", 1, "succeeded")]
    {
        let id = report["job"]["id"].as_i64().unwrap();
        let started = job_lines(&lines, "job started", id);
        assert_eq!(started.len(), 1, "one start line for job {id}: {lines:#?}");
        assert_eq!((started[0]["kind"].as_str(), started[0]["items"].as_u64()), (Some(kind), Some(items)));
        let finished = job_lines(&lines, "job finished", id);
        assert_eq!(finished.len(), 1, "one end line for job {id}: {lines:#?}");
        assert_eq!((finished[0]["kind"].as_str(), finished[0]["state"].as_str()), (Some(kind), Some(state)));
        assert!(finished[0]["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')), "{:#}", finished[0]);
    }
    let failed = job_lines(&lines, "job finished", bad["job"]["id"].as_i64().unwrap())[0];
    assert_eq!(failed["level"].as_str(), Some("WARN"), "a failed job stands out: {failed:#}");
    assert!(lines.iter().any(|l| l["message"] == "logging started" && l["program"] == "imagesmith-cli"), "{lines:#?}");
    let names: Vec<String> = walk(repo.logs.path()).iter().map(|f| f.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["imagesmith-cli.log"]);
}

#[test]
fn verbose_mirrors_the_events_to_stderr_and_raises_the_level() {
    let repo = Repo::new();
    let quiet = repo.run(["import", fixture("ks.cfg").to_str().unwrap()]);
    assert!(quiet.status.success());
    assert!(!String::from_utf8_lossy(&quiet.stderr).contains("job started"), "no log lines on stderr without -v");

    let out = repo.run(["-v", "verify"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("job started") && err.contains("kind=\"verify\"") && err.contains("state=\"succeeded\""), "{err}");
    // The flag goes anywhere on the line, repeated for trace.
    let out = repo.run(["jobs", "-vv"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("logging started"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn commands_work_when_no_log_file_can_be_written_and_say_why() {
    let repo = Repo::new();
    let not_a_folder = repo.logs.path().join("a-file");
    std::fs::write(&not_a_folder, "").unwrap();
    let out = repo
        .cmd()
        .env("IMAGESMITH_LOG_DIR", &not_a_folder)
        .args(["import", "--json", fixture("ks.cfg").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["job"]["state"], "succeeded");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("warning [write_failed]: no log file") && err.contains("a-file"), "{err}");
}
