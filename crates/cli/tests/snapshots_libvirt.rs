//! Images from the snapshots of a real libvirt VM: the libvirt daemon of scripts/servers.sh (QEMU
//! driver, TCG guests) holds VMs made by scripts/servers/libvirt-vm.sh — two qcow2 disks and three
//! offline snapshots (`virsh snapshot-create-as`) of known contents. `vm list`, `snapshot list`,
//! `snapshot image` from disk 1 or 2, Danube's refusals, a running VM read without being paused,
//! and an external snapshot (its state is the overlay's backing file; a broken chain is refused).

mod common;

use common::*;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn uri() -> &'static str {
    server_fact("TS_LIBVIRT_URI")
}

/// A VM of this test's own (name unique per process and test): its facts from libvirt-vm.sh.
fn vm(test: &str, start: bool) -> HashMap<String, String> {
    let name = format!("{test}-{}", std::process::id());
    let dir = PathBuf::from(server_fact("TS_LIBVIRT_IMAGES")).join(&name);
    std::fs::create_dir_all(&dir).unwrap();
    let mut cmd = Command::new(server_fact("TS_LIBVIRT_VM_SCRIPT"));
    cmd.args(["create", uri()]).arg(&dir).arg(&name);
    if start {
        cmd.arg("--start");
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "libvirt-vm.sh create: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| l.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn virsh(args: &[&str]) -> String {
    let out = Command::new("virsh").args(["-q", "-c", uri()]).args(args).output().unwrap();
    assert!(out.status.success(), "virsh {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn reference(disk: &Path, snapshot: &str, out: &Path) {
    let st = Command::new("qemu-img")
        .args(["convert", "-U", "-l", &format!("snapshot.name={snapshot}"), "-O", "raw"])
        .arg(disk)
        .arg(out)
        .status()
        .unwrap();
    assert!(st.success());
}

fn object(repo: &Repo, sha: &str) -> PathBuf {
    repo.home().join("objects/sha256").join(&sha[..2]).join(&sha[2..])
}

fn same_contents(a: &Path, b: &Path) -> bool {
    Command::new("qemu-img").args(["compare", "-q", "-U"]).arg(a).arg(b).status().unwrap().success()
}

fn error_of(out: &Value) -> &Value {
    &out["error"]
}

#[test]
fn a_vms_disks_and_snapshots_are_listed_and_any_disks_snapshot_becomes_an_image() {
    let repo = Repo::new();
    let facts = vm("web", false);
    let name = facts["VM"].as_str();

    let (code, vms) = repo.json(["vm", "list", "--connect", uri()]);
    assert_eq!(code, 0, "{vms:#}");
    let v = vms.as_array().unwrap().iter().find(|v| v["name"] == name).unwrap_or_else(|| panic!("{name} not listed: {vms:#}"));
    assert_eq!(
        (v["state"].as_str(), v["snapshot_count"].as_u64(), v["uuid"].as_str()),
        (Some("shut off"), Some(3), Some(facts["VM_UUID"].as_str()))
    );
    let disks: Vec<(u64, &str, u64)> = v["disks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["disk_id"].as_u64().unwrap(), d["target"].as_str().unwrap(), d["virtual_size"].as_u64().unwrap()))
        .collect();
    assert_eq!(disks, [(1, "vda", 64 << 20), (2, "vdb", 32 << 20)]);

    let (code, list) = repo.json(["snapshot", "list", "--vm", name, "--connect", uri()]);
    assert_eq!(code, 0, "{list:#}");
    assert_eq!(list.as_array().unwrap().len(), 2);
    for d in list.as_array().unwrap() {
        let snaps: Vec<(&str, &str, &str, &str)> = d["snapshots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["name"].as_str().unwrap(),
                    s["vm_state"].as_str().unwrap(),
                    s["location"].as_str().unwrap(),
                    s["description"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            snaps,
            [
                ("s1-installed", "shutoff", "internal", "Fresh install"),
                ("s2-configured", "shutoff", "internal", "Configured"),
                ("s3-updated", "shutoff", "internal", "Updated")
            ],
            "{d:#}"
        );
    }
    let (code, one) = repo.json(["snapshot", "list", "--vm", name, "--connect", uri(), "--disk-id", "2"]);
    assert_eq!(code, 0);
    assert_eq!((one.as_array().unwrap().len(), one[0]["disk"]["target"].as_str()), (1, Some("vdb")));

    // disk 2's second snapshot, raw: exactly what qemu-img extracts, with its source recorded
    let (code, report) = repo.json([
        "snapshot",
        "image",
        "web-data-s2",
        "--vm",
        name,
        "--connect",
        uri(),
        "--snapshot",
        "s2-configured",
        "--disk-id",
        "2",
        "--format",
        "raw",
        "--owner",
        "ops",
    ]);
    assert_eq!(code, 0, "{report:#}");
    let a = &report["artifact"];
    let dir = tempfile::tempdir().unwrap();
    let want = dir.path().join("s2.raw");
    reference(Path::new(&facts["DISK2"]), "s2-configured", &want);
    assert_eq!(a["sha256"].as_str().unwrap(), sha256_of(&want));
    let src = &a["source"];
    assert_eq!(
        (
            src["kind"].as_str(),
            src["vm"].as_str(),
            src["disk_id"].as_u64(),
            src["snapshot"].as_str(),
            src["disk_file"].as_str(),
            src["connect"].as_str()
        ),
        (Some("snapshot"), Some(name), Some(2), Some("s2-configured"), Some(facts["DISK2"].as_str()), Some(uri()))
    );
    assert!(src["snapshot_at"].is_string(), "{src:#}");
    assert_eq!(a["owner"], "ops");

    // disk 1 (the default) by uuid, compressed qcow2
    let (code, report) =
        repo.json(["snapshot", "image", "web-os-s3", "--vm", &facts["VM_UUID"], "--connect", uri(), "--snapshot", "s3-updated"]);
    assert_eq!(code, 0, "{report:#}");
    let want = dir.path().join("s3.raw");
    reference(Path::new(&facts["DISK1"]), "s3-updated", &want);
    assert!(same_contents(&object(&repo, report["artifact"]["sha256"].as_str().unwrap()), &want));
    assert_eq!(report["artifact"]["source"]["disk_id"], 1);

    // the VM was only read: still shut off, all three snapshots still there, its disks intact
    assert_eq!(virsh(&["domstate", name]), "shut off");
    assert_eq!(virsh(&["snapshot-list", name, "--name"]).lines().count(), 3);
    let check = Command::new(server_fact("TS_LIBVIRT_VM_SCRIPT"))
        .arg("check")
        .arg(Path::new(&facts["DISK1"]).parent().unwrap())
        .arg(name)
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
}

#[test]
fn danubes_refusals_for_a_vm_an_unknown_vm_a_wrong_disk_and_a_missing_snapshot() {
    let repo = Repo::new();
    let facts = vm("refuse", false);
    let name = facts["VM"].as_str();

    let (code, out) = repo.json(["snapshot", "image", "x", "--vm", "no-such-vm", "--connect", uri(), "--snapshot", "s1-installed"]);
    assert_ne!(code, 0);
    assert_eq!(error_of(&out)["code"], "vm_not_found", "{out:#}");
    let (code, out) = repo.json(["snapshot", "list", "--vm", "no-such-vm", "--connect", uri()]);
    assert_ne!(code, 0);
    assert_eq!(error_of(&out)["code"], "vm_not_found");

    let (code, out) =
        repo.json(["snapshot", "image", "x", "--vm", name, "--connect", uri(), "--snapshot", "s1-installed", "--disk-id", "3"]);
    assert_ne!(code, 0);
    assert_eq!(error_of(&out)["code"], "invalid_disk");
    assert!(error_of(&out)["text"].as_str().unwrap().contains("1, 2"), "{out:#}");

    let (code, out) = repo.json(["snapshot", "image", "x", "--vm", name, "--connect", uri(), "--snapshot", "s9"]);
    assert_ne!(code, 0);
    assert_eq!(error_of(&out)["code"], "snapshot_unusable");
    assert!(error_of(&out)["text"].as_str().unwrap().contains("s1-installed, s2-configured, s3-updated"), "{out:#}");

    // a connection that goes nowhere
    let (code, out) = repo.json(["vm", "list", "--connect", "qemu:///system?socket=/nonexistent/libvirt-sock"]);
    assert_ne!(code, 0);
    assert_eq!(error_of(&out)["code"], "connection_failed", "{out:#}");

    let (_, all) = repo.json(["list"]);
    assert_eq!(all, serde_json::json!([]));
    assert!(repo.objects().is_empty() && repo.staging_files().is_empty());
}

#[test]
fn a_running_vms_snapshot_is_read_with_shared_access_and_the_vm_is_never_paused() {
    let repo = Repo::new();
    let facts = vm("live", true);
    let name = facts["VM"].as_str();
    assert_eq!(virsh(&["domstate", name]), "running");
    let pid = virsh(&["qemu-monitor-command", name, "--hmp", "info status"]);
    assert!(pid.contains("running"), "{pid}");

    let (code, report) =
        repo.json(["snapshot", "image", "live-s1", "--vm", name, "--connect", uri(), "--snapshot", "s1-installed", "--format", "raw"]);
    assert_eq!(code, 0, "{report:#}");
    let dir = tempfile::tempdir().unwrap();
    let want = dir.path().join("s1.raw");
    reference(Path::new(&facts["DISK1"]), "s1-installed", &want);
    assert_eq!(report["artifact"]["sha256"].as_str().unwrap(), sha256_of(&want));
    // still running, never paused in between (QEMU counts no stop)
    assert_eq!(virsh(&["domstate", name]), "running");
    let status = virsh(&["qemu-monitor-command", name, "--hmp", "info status"]);
    assert!(status.contains("VM status: running"), "{status}");
    let (_, list) = repo.json(["vm", "list", "--connect", uri()]);
    let v = list.as_array().unwrap().iter().find(|v| v["name"] == name).unwrap();
    assert_eq!(v["state"], "running");
    virsh(&["destroy", name]);
}

#[test]
fn an_external_snapshots_state_is_its_overlays_backing_file_and_a_broken_chain_is_refused() {
    let repo = Repo::new();
    let facts = vm("ext", false);
    let name = facts["VM"].as_str();
    let disk1 = PathBuf::from(&facts["DISK1"]);
    let overlay = disk1.with_file_name(format!("{name}-vda.ext.qcow2"));
    // an external, disk-only snapshot of vda (vdb left out): vda's writes now go to the overlay
    virsh(&[
        "snapshot-create-as",
        name,
        "ext1",
        "External",
        "--disk-only",
        "--diskspec",
        &format!("vda,snapshot=external,file={}", overlay.display()),
        "--diskspec",
        "vdb,snapshot=no",
    ]);
    let out = Command::new("qemu-io").args(["-f", "qcow2", "-c", "write -P 0x77 0 2M"]).arg(&overlay).output().unwrap();
    assert!(out.status.success());

    let (code, list) = repo.json(["snapshot", "list", "--vm", name, "--connect", uri(), "--disk-id", "1"]);
    assert_eq!(code, 0, "{list:#}");
    assert_eq!(list[0]["disk"]["file"].as_str(), Some(overlay.to_str().unwrap()), "the VM's disk is the overlay now");
    let snaps = list[0]["snapshots"].as_array().unwrap();
    let ext = snaps.iter().find(|s| s["name"] == "ext1").expect("ext1 listed");
    assert_eq!((ext["location"].as_str(), ext["usable"].as_bool()), (Some("external"), Some(true)), "{ext:#}");
    // the internal snapshots taken before it live in the file below the overlay, and stay usable
    let s2 = snaps.iter().find(|s| s["name"] == "s2-configured").unwrap();
    assert_eq!((s2["location"].as_str(), s2["usable"].as_bool()), (Some("internal"), Some(true)), "{s2:#}");

    // ext1's state is the base file as it was when the overlay was made (the 0x44 current state)
    let (code, report) =
        repo.json(["snapshot", "image", "ext-state", "--vm", name, "--connect", uri(), "--snapshot", "ext1", "--format", "raw"]);
    assert_eq!(code, 0, "{report:#}");
    let dir = tempfile::tempdir().unwrap();
    let want = dir.path().join("base.raw");
    assert!(Command::new("qemu-img").args(["convert", "-U", "-O", "raw"]).arg(&disk1).arg(&want).status().unwrap().success());
    assert_eq!(report["artifact"]["sha256"].as_str().unwrap(), sha256_of(&want));
    let (code, report) = repo.json(["snapshot", "image", "ext-s2", "--vm", name, "--connect", uri(), "--snapshot", "s2-configured"]);
    assert_eq!(code, 0, "{report:#}");

    // the base file moved away: the chain is broken, the snapshot unusable, nothing made
    let moved = disk1.with_extension("moved");
    std::fs::rename(&disk1, &moved).unwrap();
    let (code, out) = repo.json(["snapshot", "image", "ext-broken", "--vm", name, "--connect", uri(), "--snapshot", "ext1"]);
    std::fs::rename(&moved, &disk1).unwrap();
    assert_ne!(code, 0, "{out:#}");
    assert_eq!(error_of(&out)["code"], "snapshot_unusable", "{out:#}");
    let (_, all) = repo.json(["list"]);
    assert_eq!(all.as_array().unwrap().len(), 2, "{all:#}");
    assert!(repo.staging_files().is_empty());
}
