//! Crash safety and concurrency: kill -9 mid-import, Ctrl-C, four processes on one repository.

mod common;

use common::*;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Wait until the import has written part of its staging file.
fn wait_for_staging(repo: &Repo, child: &mut Child) {
    let start = Instant::now();
    loop {
        let written: u64 = repo.staging_files().iter().filter_map(|p| std::fs::metadata(p).ok()).map(|m| m.len()).sum();
        if written > 64 << 20 {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("import ended before it could be interrupted: {status}");
        }
        assert!(start.elapsed() < Duration::from_secs(60), "import never started writing");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn kill_9_mid_import_leaves_no_object_and_the_next_command_marks_it_interrupted() {
    let repo = Repo::new();
    let scratch = tempfile::tempdir().unwrap();
    let mut child = repo
        .cmd()
        .args(["import", "--kind", "os"])
        .arg(large_iso(scratch.path()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_staging(&repo, &mut child);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(!repo.staging_files().is_empty(), "the killed process left its half-written file");

    let (code, jobs) = repo.json(["jobs"]);
    assert_eq!(code, 0);
    assert_eq!(jobs[0]["state"], "interrupted", "{jobs:#}");
    assert!(jobs[0]["finished_at"].as_str().is_some());
    assert!(repo.staging_files().is_empty(), "the next command cleaned staging");
    assert!(repo.objects().is_empty(), "no partial object");
    let (_, list) = repo.json(["list"]);
    assert_eq!(list.as_array().unwrap().len(), 0);
}

/// A large, valid ISO 9660 image: a real ISO's first 64 KiB followed by zeros up to 2 GiB, with the
/// volume size patched to match, so detection accepts it and the copy takes a while.
fn large_iso(dir: &Path) -> std::path::PathBuf {
    use std::io::{Seek, SeekFrom, Write};
    let p = dir.join("large-install-dvd.iso");
    let head = std::fs::read(fixture("ipxe.iso")).unwrap();
    let mut f = std::fs::File::create(&p).unwrap();
    f.write_all(&head[..64 * 1024]).unwrap();
    let size: u64 = 2 << 30;
    let blocks = (size / 2048) as u32;
    f.seek(SeekFrom::Start(0x8000 + 80)).unwrap();
    f.write_all(&blocks.to_le_bytes()).unwrap();
    f.write_all(&blocks.to_be_bytes()).unwrap();
    f.set_len(size).unwrap();
    p
}

#[test]
fn ctrl_c_cancels_cleanly() {
    let repo = Repo::new();
    let scratch = tempfile::tempdir().unwrap();
    let iso = large_iso(scratch.path());
    let mut child = repo.cmd().args(["import", "--json"]).arg(&iso).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    wait_for_staging(&repo, &mut child);
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["job"]["state"], "cancelled");
    assert_eq!(report["items"][0]["outcome"], "cancelled");
    assert!(repo.staging_files().is_empty(), "staging removed");
    assert!(repo.objects().is_empty());
    let (_, jobs) = repo.json(["jobs"]);
    assert_eq!(jobs[0]["state"], "cancelled");
}

#[test]
fn four_processes_import_into_one_repository_at_once() {
    let repo = Repo::new();
    let sets = [
        vec![fixture("rhel-9.6-x86_64-dvd.iso"), fixture("ks.cfg"), fixture("SHA256SUMS")],
        vec![fixture("win-server-2022.iso"), fixture("win-nic-driver.zip"), fixture("winpe-amd64.zip")],
        vec![fixture("ipxe.iso"), fixture("ipxe.iso.sha256"), fixture("post-install.sh")],
        // Overlaps the first set: the same bytes arrive from two processes.
        vec![fixture("ks.cfg"), fixture("esxi-8.0.iso"), fixture("collect.py")],
    ];
    let children: Vec<Child> = sets
        .iter()
        .map(|files| repo.cmd().arg("import").args(files).arg("--json").stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap())
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    }
    let (_, list) = repo.json(["list"]);
    assert_eq!(list.as_array().unwrap().len(), 9, "ks.cfg arrives twice and is stored once: {list:#}");
    assert_eq!(repo.objects().len(), 9);
    let (_, jobs) = repo.json(["jobs"]);
    assert_eq!(jobs.as_array().unwrap().len(), 4);
    assert!(jobs.as_array().unwrap().iter().all(|j| j["state"] == "succeeded"));
    let (code, _) = repo.json(["verify"]);
    assert_eq!(code, 0);
}

#[test]
fn an_object_that_did_not_reach_the_disk_before_a_reboot_is_marked_damaged_and_its_job_partly_succeeded() {
    let repo = Repo::new();
    // A reboot cannot be staged in a test; IMAGESMITH_BOOT_ID stands in for the kernel's boot id.
    let (code, report) = repo.import(&[], &[fixture("ipxe.iso"), fixture("ks.cfg")]);
    assert_eq!(code, 0);
    let sha = report["items"][0]["artifact"]["sha256"].as_str().unwrap().to_string();
    let job = report["job"]["id"].as_i64().unwrap().to_string();
    // As if the page cache was lost in a power failure before writeback.
    flip_object_byte(&repo, &sha, 100);
    let out = repo.cmd().env("IMAGESMITH_BOOT_ID", "after-power-loss").args(["list", "--json"]).output().unwrap();
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let states: Vec<_> = list.as_array().unwrap().iter().map(|a| (a["name"].as_str().unwrap(), a["state"].as_str().unwrap())).collect();
    assert_eq!(states, [("ipxe.iso", "damaged"), ("ks.cfg", "ok")], "the damaged, never-settled object is marked, not dropped");
    let out = repo.cmd().env("IMAGESMITH_BOOT_ID", "after-power-loss").arg("list").output().unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("STATE") && table.contains("damaged"), "the table names it: {table}");
    let (_, detail) = repo.json(["jobs", "show", &job]);
    assert_eq!(detail["state"], "partly_succeeded", "ks.cfg of the same import survived");
    let lost = detail["items"].as_array().unwrap().iter().find(|i| i["path"].as_str().unwrap().ends_with("ipxe.iso")).unwrap();
    assert_eq!(lost["outcome"], "failed");
    assert_eq!(lost["error"]["code"], "object_lost");
    // verify names it; importing the same file again restores it.
    let out = repo.cmd().env("IMAGESMITH_BOOT_ID", "after-power-loss").arg("verify").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("damaged: ipxe.iso"), "{}", String::from_utf8_lossy(&out.stdout));
    let out =
        repo.cmd().env("IMAGESMITH_BOOT_ID", "after-power-loss").args(["import", "--json"]).arg(fixture("ipxe.iso")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (_, shown) = repo.json(["show", "ipxe.iso"]);
    assert_eq!(shown["state"], "ok");
    assert_eq!(sha256_of(&repo.home().join("objects/sha256").join(&sha[..2]).join(&sha[2..])), sha);
}

#[test]
fn an_intact_object_is_settled_after_a_reboot_and_not_rehashed_again() {
    let repo = Repo::new();
    let (_, report) = repo.import(&[], &[fixture("ipxe.iso")]);
    let sha = report["items"][0]["artifact"]["sha256"].as_str().unwrap().to_string();
    let out = repo.cmd().env("IMAGESMITH_BOOT_ID", "second-boot").args(["list", "--json"]).output().unwrap();
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1, "an intact object survives the re-check");
    // Settled now: later damage is verify's business, not silently dropped at open.
    flip_object_byte(&repo, &sha, 100);
    let out = repo.cmd().env("IMAGESMITH_BOOT_ID", "third-boot").args(["verify", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["items"][0]["error"]["code"], "object_corrupted");
}
