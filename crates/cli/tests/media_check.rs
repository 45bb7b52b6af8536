//! Embedded media checksums (isomd5sum) through the CLI: ISOs made by xorriso with an MD5 implanted
//! by `implantisomd5`, judged by `checkisomd5` as the oracle — intact, a byte flipped inside what
//! the sum covers, a byte flipped in the sectors it skips — and an ISO without one.

mod common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A small ISO (xorriso, 3 MiB of varied bytes) at `dir/name`, with an implanted MD5 when asked.
fn iso(dir: &Path, name: &str, implant: bool) -> PathBuf {
    let src = dir.join(format!("{name}.src"));
    std::fs::create_dir_all(&src).unwrap();
    let payload: Vec<u8> = (0..3_000_000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    std::fs::write(src.join("payload.bin"), payload).unwrap();
    std::fs::write(src.join("README.TXT"), format!("{name}\n")).unwrap();
    let out = dir.join(name);
    let ok = Command::new("xorriso").args(["-as", "mkisofs", "-quiet", "-V", "MEDIACHECK", "-o"]).arg(&out).arg(&src).status().unwrap();
    assert!(ok.success());
    if implant {
        let ok = Command::new("implantisomd5").arg(&out).output().unwrap();
        assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    }
    out
}

/// checkisomd5's verdict: true when it passes the ISO.
fn oracle_passes(iso: &Path) -> bool {
    Command::new("checkisomd5").arg(iso).output().unwrap().status.success()
}

/// The MD5 implanted in the ISO, as checkisomd5 reads it.
fn oracle_md5(iso: &Path) -> String {
    let out = Command::new("checkisomd5").arg("--md5sumonly").arg(iso).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines().next().and_then(|l| l.split_whitespace().last()).unwrap().to_string()
}

fn flip(path: &Path, offset: u64) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[offset as usize] ^= 0x5a;
    std::fs::write(path, bytes).unwrap();
}

fn show(repo: &Repo, name: &str) -> Value {
    let (code, a) = repo.json(["show", name]);
    assert_eq!(code, 0, "{a:#}");
    a
}

#[test]
fn an_implanted_md5_is_checked_in_the_import_as_checkisomd5_checks_it() {
    let dir = tempfile::tempdir().unwrap();
    let good = iso(dir.path(), "good.iso", true);
    assert!(oracle_passes(&good));
    let repo = Repo::new();
    let (code, report) = repo.import(&["--os", "linux"], std::slice::from_ref(&good));
    assert_eq!(code, 0, "{report:#}");
    let a = show(&repo, "good.iso");
    assert_eq!(a["media_check"]["status"], "passed", "{a:#}");
    assert_eq!(a["media_check"]["md5"], oracle_md5(&good).as_str());
    let text = String::from_utf8(repo.run(["show", "good.iso"]).stdout).unwrap();
    assert!(text.contains("media check") && text.contains("passed"), "{text}");

    // A byte flipped in the middle of the image: the oracle fails it, the import refuses it.
    let bad = dir.path().join("bad.iso");
    std::fs::copy(&good, &bad).unwrap();
    flip(&bad, 1_500_000);
    assert!(!oracle_passes(&bad));
    let (code, report) = repo.import(&["--os", "linux"], std::slice::from_ref(&bad));
    assert_eq!(code, 1, "{report:#}");
    let item = item(&report, "bad.iso");
    assert_eq!(item["error"]["code"], "media_check_failed", "{report:#}");
    assert!(item["error"]["text"].as_str().unwrap().contains(&oracle_md5(&good)), "{report:#}");
    assert_eq!(repo.objects().len(), 1, "only the good ISO is stored");
    assert!(repo.staging_files().is_empty(), "nothing half-written: {:?}", repo.staging_files());

    // A byte flipped in the sectors the sum skips at the end: both still pass it.
    let tail = dir.path().join("tail.iso");
    std::fs::copy(&good, &tail).unwrap();
    let len = std::fs::metadata(&tail).unwrap().len();
    flip(&tail, len - 100);
    assert!(oracle_passes(&tail), "checkisomd5 skips the last sectors");
    let (code, report) = repo.import(&["--os", "linux"], std::slice::from_ref(&tail));
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(show(&repo, "tail.iso")["media_check"]["status"], "passed");
}

#[test]
fn an_iso_without_an_implanted_md5_says_absent_and_other_files_say_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let plain = iso(dir.path(), "plain.iso", false);
    assert!(!oracle_passes(&plain), "checkisomd5 finds no sum in it");
    let script = dir.path().join("post.sh");
    std::fs::write(&script, "#!/bin/sh\necho hi\n").unwrap();
    let repo = Repo::new();
    let (code, report) = repo.import(&["--os", "linux"], &[plain, script]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(show(&repo, "plain.iso")["media_check"], serde_json::json!({"status": "absent", "md5": null}));
    assert_eq!(show(&repo, "post.sh")["media_check"], Value::Null);
}
