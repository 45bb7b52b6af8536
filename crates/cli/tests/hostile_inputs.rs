//! Hostile inputs a user's machine can meet, through the CLI: archives with giant headers, deeply nested
//! XML, named pipes and devices, crafted profile manifests. Each is refused with a coded error, quickly
//! and in little memory; none may crash or hang the process or leave anything behind.

mod common;

use common::*;
use flate2::write::GzEncoder;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a run of the CLI cost: its exit code (None when a signal ended it), stdout as JSON, peak memory.
struct Measured {
    code: Option<i32>,
    out: Value,
    max_rss_mib: u64,
    took: Duration,
}

/// Run the CLI with `--json`, its address space capped at 2 GiB (so that a regression fails the test
/// instead of exhausting the machine), and measure its peak resident memory with wait4.
fn run_measured(repo: &Repo, args: &[&std::ffi::OsStr]) -> Measured {
    let out_path = repo.home().join(format!("stdout-{}", std::process::id()));
    let mut cmd = repo.cmd();
    cmd.args(args).arg("--json").stdout(Stdio::from(std::fs::File::create(&out_path).unwrap())).stderr(Stdio::null());
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit { rlim_cur: 2 << 30, rlim_max: 2 << 30 };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let start = Instant::now();
    // Reaped by wait4 below (for its rusage), not by Child::wait.
    #[allow(clippy::zombie_processes)]
    let child = cmd.spawn().unwrap();
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as libc::pid_t);
    let took = start.elapsed();
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    let text = std::fs::read_to_string(&out_path).unwrap();
    let out = serde_json::from_str(&text).unwrap_or(Value::Null);
    Measured { code, out, max_rss_mib: usage.ru_maxrss as u64 / 1024, took }
}

fn tar_header(name: &str, kind: tar::EntryType, size: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_path(name).unwrap();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(0o644);
    h.set_cksum();
    h
}

/// A .tar.gz whose first entry is an extended header (`kind`) declaring 1 GiB, followed by the
/// GiB (zeros, streamed through flate2: about 1 MB on disk) and one small regular file.
fn giant_header_tar_gz(dir: &Path, file_name: &str, kind: tar::EntryType) -> PathBuf {
    let path = dir.join(file_name);
    let mut gz = GzEncoder::new(std::io::BufWriter::new(std::fs::File::create(&path).unwrap()), flate2::Compression::default());
    let giant = 1u64 << 30;
    gz.write_all(tar_header("././@LongLink", kind, giant).as_bytes()).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..(giant >> 20) {
        gz.write_all(&zeros).unwrap();
    }
    gz.write_all(tar_header("custom/agent.sh", tar::EntryType::Regular, 3).as_bytes()).unwrap();
    let mut body = b"ok\n".to_vec();
    body.resize(512 + 1024, 0);
    gz.write_all(&body).unwrap();
    gz.finish().unwrap().flush().unwrap();
    assert!(std::fs::metadata(&path).unwrap().len() < 4 << 20, "the hostile archive is small");
    path
}

fn assert_refused_cheaply(what: &str, m: &Measured, err: &Value) {
    assert_eq!(m.code, Some(1), "{what}: exits with 1, not a crash: {:#}", m.out);
    assert_eq!(err["code"], "unsafe_archive", "{what}: {err:#}");
    assert!(err["text"].as_str().unwrap().contains("header"), "{what}: {err:#}");
    assert!(m.max_rss_mib < 200, "{what}: peak memory {} MiB", m.max_rss_mib);
    assert!(m.took < Duration::from_secs(30), "{what}: took {:?}", m.took);
}

#[test]
fn a_tar_gz_with_a_giant_pax_header_or_gnu_long_name_is_refused_quickly_in_little_memory() {
    let dir = tempfile::tempdir().unwrap();
    for (kind, label) in [(tar::EntryType::XHeader, "pax"), (tar::EntryType::GNULongName, "longname")] {
        let software = giant_header_tar_gz(dir.path(), &format!("agent-{label}.tar.gz"), kind);
        let repo = Repo::new();
        let m = run_measured(&repo, &["import".as_ref(), "--os".as_ref(), "linux".as_ref(), software.as_os_str()]);
        let err = m.out["items"][0]["error"].clone();
        assert_refused_cheaply(&format!("import {label}"), &m, &err);
        assert!(repo.objects().is_empty() && repo.staging_files().is_empty());

        let profile = dir.path().join(format!("profile-{label}.tar.gz"));
        std::fs::copy(&software, &profile).unwrap();
        let repo = Repo::new();
        let m = run_measured(&repo, &["profile".as_ref(), "import".as_ref(), profile.as_os_str()]);
        let err = m.out["error"].clone();
        assert_refused_cheaply(&format!("profile import {label}"), &m, &err);
        assert!(repo.objects().is_empty() && repo.staging_files().is_empty());
        let (_, jobs) = repo.json(["jobs"]);
        assert_eq!(jobs[0]["state"], "failed", "{label}: the job is ended, not left running");
    }
}

#[test]
fn deeply_nested_xml_is_refused_not_a_stack_overflow() {
    let dir = tempfile::tempdir().unwrap();
    let deep = dir.path().join("autounattend.xml");
    let depth = 20_000;
    let text = format!("<?xml version=\"1.0\"?>\n{}{}", "<a>".repeat(depth), "</a>".repeat(depth));
    std::fs::write(&deep, text).unwrap();
    let repo = Repo::new();
    let (code, report) = repo.import(&["--os", "windows"], &[deep, fixture("autounattend.xml")]);
    assert_eq!(code, 1, "the process survives and reports: {report:#}");
    let err = &report["items"][0]["error"];
    assert_eq!(err["code"], "invalid_content", "{err:#}");
    assert!(err["text"].as_str().unwrap().contains("nested"), "{err:#}");
    assert_eq!(report["items"][1]["outcome"], "imported", "a real answer file still goes in");
}

/// Run the CLI with a deadline: a hang is a failure, not a stuck test.
fn json_within(repo: &Repo, args: &[&std::ffi::OsStr], deadline: Duration) -> (i32, Value) {
    let mut child = repo.cmd().args(args).arg("--json").stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("{args:?} hung for {deadline:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (out.status.code().unwrap_or(-1), serde_json::from_slice(&out.stdout).unwrap_or(Value::Null))
}

#[test]
fn named_pipes_and_devices_are_refused_before_they_are_opened() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("answers.cfg");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let fifo_gz = dir.path().join("profile.tar.gz");
    assert!(Command::new("mkfifo").arg(&fifo_gz).status().unwrap().success());
    let fifo_sums = dir.path().join("SHA256SUMS");
    assert!(Command::new("mkfifo").arg(&fifo_sums).status().unwrap().success());
    let repo = Repo::new();
    let limit = Duration::from_secs(20);
    for path in [fifo.as_path(), Path::new("/dev/zero"), Path::new("/dev/null")] {
        let (code, report) = json_within(
            &repo,
            &["import".as_ref(), "--kind".as_ref(), "unattend".as_ref(), "--os".as_ref(), "linux".as_ref(), path.as_os_str()],
            limit,
        );
        assert_eq!(code, 1, "{}: {report:#}", path.display());
        let err = &report["items"][0]["error"];
        assert_eq!(err["code"], "not_a_file", "{}: {err:#}", path.display());
        assert!(!err["recovery"].as_str().unwrap().is_empty());
    }
    let (code, report) = json_within(&repo, &["profile".as_ref(), "import".as_ref(), fifo_gz.as_os_str()], limit);
    assert_eq!(code, 1);
    assert_eq!(report["error"]["code"], "not_a_file", "{report:#}");
    let (code, report) =
        json_within(&repo, &["import".as_ref(), "--checksum-file".as_ref(), fifo_sums.as_os_str(), fixture("ks.cfg").as_os_str()], limit);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["checksum_files"][0]["error"]["code"], "not_a_file", "{report:#}");
    assert!(repo.objects().len() <= 1 && repo.staging_files().is_empty());
}

// ---- crafted profile manifests ----

fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// A profile archive holding `files` plus profile.json (as given) and a SHA256SUMS that lists them
/// all, so that every check before the manifest's own passes.
fn profile_archive(dir: &Path, name: &str, manifest: &[u8], files: &[(&str, Vec<u8>)]) -> PathBuf {
    let path = dir.join(format!("{name}.tar.gz"));
    let gz = GzEncoder::new(std::fs::File::create(&path).unwrap(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    let mut all: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, b.as_slice())).collect();
    all.push(("profile.json", manifest));
    let sums: String = all.iter().map(|(n, b)| format!("{}  {n}\n", sha256_hex(b))).collect();
    all.push(("SHA256SUMS", sums.as_bytes()));
    for (n, b) in all {
        let mut h = tar::Header::new_ustar();
        h.set_size(b.len() as u64);
        h.set_mode(0o644);
        tar.append_data(&mut h, n, b).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap();
    path
}

fn manifest(base: Value, members: Value) -> Value {
    json!({"format": "imagesmith-profile/1", "name": "crafted", "description": "", "base": base, "members": members, "install_options": {}})
}

#[test]
fn crafted_profile_manifests_are_refused_with_a_code_and_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let iso = std::fs::read(fixture("ipxe.iso")).unwrap();
    let iso_sha = sha256_hex(&iso);
    let script = b"#!/bin/sh\necho configured\n".to_vec();
    let script_sha = sha256_hex(&script);
    let base_in = json!({"name": "ipxe.iso", "sha256": iso_sha, "file": "os/ipxe.iso"});
    let member = json!({"kind": "script", "os": "linux", "sha256": script_sha, "file": "custom/post.sh"});
    let with_both = || vec![("os/ipxe.iso", iso.clone()), ("custom/post.sh", script.clone())];
    let raw = |v: Value| serde_json::to_vec(&v).unwrap();
    #[allow(clippy::type_complexity)]
    let cases: Vec<(&str, Vec<u8>, Vec<(&str, Vec<u8>)>, &str, &str)> = vec![
        (
            "base file missing",
            raw(manifest(json!({"name": "b", "sha256": iso_sha, "file": "os/gone.iso"}), json!([]))),
            vec![],
            "invalid_profile",
            "os/gone.iso",
        ),
        (
            "base file is the manifest",
            raw(manifest(json!({"name": "b", "sha256": iso_sha, "file": "profile.json"}), json!([]))),
            vec![],
            "invalid_profile",
            "profile.json",
        ),
        (
            "base file is a member",
            raw(manifest(json!({"name": "b", "sha256": script_sha, "file": "custom/post.sh"}), json!([member]))),
            vec![("custom/post.sh", script.clone())],
            "invalid_profile",
            "custom/post.sh",
        ),
        (
            "base digest differs",
            raw(manifest(json!({"name": "b", "sha256": script_sha, "file": "os/ipxe.iso"}), json!([]))),
            vec![("os/ipxe.iso", iso.clone())],
            "invalid_profile",
            "os/ipxe.iso",
        ),
        (
            "member missing",
            raw(manifest(base_in.clone(), json!([{"kind": "script", "os": "linux", "sha256": script_sha, "file": "custom/gone.sh"}]))),
            vec![("os/ipxe.iso", iso.clone())],
            "invalid_profile",
            "custom/gone.sh",
        ),
        ("member named twice", raw(manifest(base_in.clone(), json!([member, member]))), with_both(), "invalid_profile", "twice"),
        (
            "member is the checksum list",
            raw(manifest(base_in.clone(), json!([{"kind": "script", "os": "linux", "sha256": script_sha, "file": "SHA256SUMS"}]))),
            vec![("os/ipxe.iso", iso.clone())],
            "invalid_profile",
            "SHA256SUMS",
        ),
        ("extra file", raw(manifest(base_in.clone(), json!([]))), with_both(), "unsafe_archive", "custom/post.sh"),
        (
            "members not a list",
            raw(manifest(base_in.clone(), json!("all"))),
            vec![("os/ipxe.iso", iso.clone())],
            "invalid_profile",
            "profile.json",
        ),
        (
            "member without file",
            raw(manifest(base_in.clone(), json!([{"kind": "script", "sha256": script_sha}]))),
            vec![("os/ipxe.iso", iso.clone())],
            "invalid_profile",
            "profile.json",
        ),
        (
            "unknown kind",
            raw(manifest(base_in.clone(), json!([{"kind": "virus", "sha256": script_sha, "file": "custom/post.sh"}]))),
            with_both(),
            "invalid_profile",
            "profile.json",
        ),
        ("wrong types", raw(json!({"format": 1, "name": ["x"], "base": "b", "members": {}})), vec![], "invalid_profile", "profile.json"),
        ("not an object", b"[1, 2, 3]".to_vec(), vec![], "invalid_profile", "profile.json"),
        ("not JSON", b"\xff\xfe garbage".to_vec(), vec![], "invalid_profile", "profile.json"),
        (
            "huge name",
            raw(
                json!({"format": "imagesmith-profile/1", "name": "n".repeat(100_000), "base": base_in, "members": [], "install_options": {}}),
            ),
            vec![("os/ipxe.iso", iso.clone())],
            "invalid_name",
            "name",
        ),
        (
            "huge manifest",
            raw(json!({"format": "imagesmith-profile/1", "name": "x", "description": "d".repeat(4 << 20), "base": base_in, "members": []})),
            vec![("os/ipxe.iso", iso.clone())],
            "invalid_profile",
            "profile.json",
        ),
        (
            "digest not hex",
            raw(manifest(json!({"name": "b", "sha256": "../../etc/passwd"}), json!([]))),
            vec![],
            "invalid_profile",
            "SHA-256",
        ),
    ];
    for (what, manifest_bytes, files, code_expected, hint) in cases {
        let archive = profile_archive(dir.path(), &what.replace(' ', "-"), &manifest_bytes, &files);
        let repo = Repo::new();
        let (code, out) = repo.json(["profile".as_ref(), "import".as_ref(), archive.as_os_str()]);
        assert_eq!(code, 1, "{what}: exits with 1 (101 is a panic): {out:#}");
        let err = &out["error"];
        assert_eq!(err["code"], code_expected, "{what}: {err:#}");
        assert!(err["text"].as_str().unwrap().contains(hint), "{what}: `{hint}` not in {err:#}");
        assert!(repo.objects().is_empty(), "{what}: nothing is stored");
        assert!(repo.staging_files().is_empty(), "{what}: nothing is left in staging");
        let (_, jobs) = repo.json(["jobs"]);
        assert_eq!(jobs[0]["state"], "failed", "{what}: the job is ended");
    }
}

#[test]
fn a_password_typed_into_a_url_is_refused_and_never_stored_or_printed() {
    let repo = Repo::new();
    let cases: [&[&str]; 3] = [
        &["target", "add", "lab", "--auth-url", "http://admin:Hunter2-pw@127.0.0.1:5000/v3", "--user", "admin", "--project", "p"],
        &["target", "add", "lab", "--image-url", "http://admin:Hunter2-pw@127.0.0.1:9292", "--no-auth"],
        &["target", "add", "lab", "--image-url", "http://Hunter2-pw@127.0.0.1:9292", "--no-auth"],
    ];
    for args in cases {
        for json in [false, true] {
            let mut cmd = repo.cmd();
            cmd.args(args);
            if json {
                cmd.arg("--json");
            }
            let out = cmd.output().unwrap();
            assert_eq!(out.status.code(), Some(1), "{args:?} refused");
            let printed = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            assert!(printed.contains("user name or password"), "says why: {printed}");
            assert!(!printed.contains("Hunter2"), "the password is not printed: {printed}");
        }
    }
    let (_, targets) = repo.json(["target", "list"]);
    assert_eq!(targets.as_array().map(Vec::len), Some(0), "nothing saved: {targets:#}");
    let catalog = std::fs::read(repo.home().join("catalog.db")).unwrap();
    assert!(!catalog.windows(7).any(|w| w == b"Hunter2"), "not in the catalog");
    assert!(!repo.log_text().contains("Hunter2"), "not in the log");
}

#[test]
fn a_file_name_with_escape_sequences_becomes_a_plain_name() {
    let repo = Repo::new();
    let dir = tempfile::tempdir().unwrap();
    // An OSC title change, a screen clear and a right-to-left override, as a hostile download might be named.
    let hostile = "\u{1b}]0;owned\u{7}setup\u{1b}[2J\u{202e}hs.exe.sh";
    let path = dir.path().join(hostile);
    std::fs::copy(fixture("post-install.sh"), &path).unwrap();
    let (code, report) = repo.import(&["--kind", "script"], &[path]);
    assert_eq!(code, 0, "{report:#}");
    let (_, list) = repo.json(["list"]);
    let name = list[0]["name"].as_str().unwrap();
    assert!(!name.chars().any(|c| c.is_control() || c == '\u{202e}'), "{name:?}");
    assert_eq!(name, "_]0;owned_setup_[2J_hs.exe.sh");
    let human = repo.run(["list"]);
    assert!(!human.stdout.contains(&0x1b), "no escape byte reaches the terminal");
    // A typed name with the same characters is refused, as before.
    let (code, err) = repo.json(["update", name, "--name", "a\u{1b}[2Jb"]);
    assert_eq!((code, err["error"]["code"].as_str()), (1, Some("invalid_name")), "{err:#}");
}
