//! Disk images (qcow2, VMDK, VHDX, raw) made with qemu-img: detected by header, described with
//! `qemu-img info`, backing chains and encryption refused.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn qemu_img(args: &[&str]) {
    let ok = Command::new("qemu-img").args(args).status().expect("qemu-img (qemu-utils) is installed");
    assert!(ok.success(), "qemu-img {args:?}");
}

fn image(dir: &Path, name: &str, format: &str) -> PathBuf {
    let p = dir.join(name);
    qemu_img(&["create", "-q", "-f", format, p.to_str().unwrap(), "64M"]);
    p
}

#[test]
fn qcow2_vmdk_vhdx_are_detected_and_described_raw_needs_the_kind() {
    let dir = tempfile::tempdir().unwrap();
    let qcow2 = image(dir.path(), "web.qcow2", "qcow2");
    qemu_img(&["snapshot", "-c", "before-update", qcow2.to_str().unwrap()]);
    let vmdk = image(dir.path(), "web.vmdk", "vmdk");
    let vhdx = image(dir.path(), "web.vhdx", "vhdx");
    let raw = image(dir.path(), "web.img", "raw");
    let repo = Repo::new();
    let (code, report) = repo.import(&[], &[qcow2, vmdk, vhdx]);
    assert_eq!(code, 0, "{report:#}");
    for (name, format) in [("web.qcow2", "qcow2"), ("web.vmdk", "vmdk"), ("web.vhdx", "vhdx")] {
        let a = &item(&report, name)["artifact"];
        assert_eq!(a["kind"], "disk_image", "{name}");
        assert_eq!(a["detected"]["disk_format"], format, "{name}");
        assert_eq!(a["detected"]["virtual_size"], 64 << 20, "{name}");
    }
    assert_eq!(item(&report, "web.qcow2")["artifact"]["detected"]["snapshots"], serde_json::json!(["before-update"]));

    let (code, report) = repo.import(&[], std::slice::from_ref(&raw));
    assert_eq!(code, 1, "raw bytes are not recognised without the kind");
    assert_eq!(report["items"][0]["error"]["code"], "unknown_type");
    let (code, report) = repo.import(&["--kind", "disk_image"], &[raw]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["items"][0]["artifact"]["detected"]["disk_format"], "raw");
}

#[test]
fn an_overlay_or_an_encrypted_image_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let base = image(dir.path(), "base.qcow2", "qcow2");
    let overlay = dir.path().join("overlay.qcow2");
    qemu_img(&["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", base.to_str().unwrap(), overlay.to_str().unwrap()]);
    let secret = dir.path().join("enc.qcow2");
    qemu_img(&[
        "create",
        "-q",
        "--object",
        "secret,id=sec0,data=imagesmith",
        "-f",
        "qcow2",
        "-o",
        "encrypt.format=luks,encrypt.key-secret=sec0",
        secret.to_str().unwrap(),
        "16M",
    ]);
    let repo = Repo::new();
    let (code, report) = repo.import(&[], &[overlay, secret]);
    assert_eq!(code, 1);
    let o = &item(&report, "overlay.qcow2")["error"];
    assert_eq!(o["code"], "unsupported_type");
    assert!(o["text"].as_str().unwrap().contains("backing file"), "{o:#}");
    assert!(o["recovery"].as_str().unwrap().contains("qemu-img convert"));
    let e = &item(&report, "enc.qcow2")["error"];
    assert!(e["text"].as_str().unwrap().contains("encrypted"), "{e:#}");
    assert!(repo.objects().is_empty());
}
