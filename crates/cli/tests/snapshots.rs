//! Images cut from disk snapshots, with real qcow2 files made by `qemu-img` and written with
//! `qemu-io` patterns between snapshots: each snapshot's state extracted exactly (checked with
//! `qemu-img compare` against qemu-img's own extraction, and by pattern), the disk file left
//! untouched, the source recorded; Danube's refusals; a kill -9 mid-extraction leaves nothing.
//! libvirt VMs are in snapshots_libvirt.rs (they need the libvirt test server). On a team repository
//! the image goes to its bucket, and another desktop cuts one from it there.

mod common;
mod team_common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn qemu_io(file: &Path, op: &str) {
    run(Command::new("qemu-io").args(["-f", "qcow2", "-c", op]).arg(file));
}

/// A 64 MiB qcow2 with two internal snapshots and a live state that differs from both:
/// `first` = 8 MiB of 0x11 at 0; `second` = that, then 8 MiB of 0x22 at 4 MiB; live = 1 MiB of 0x33 at 0 on top.
fn disk_with_snapshots(dir: &Path) -> PathBuf {
    let disk = dir.join("web-disk.qcow2");
    run(Command::new("qemu-img").args(["create", "-q", "-f", "qcow2"]).arg(&disk).arg("64M"));
    qemu_io(&disk, "write -P 0x11 0 8M");
    run(Command::new("qemu-img").args(["snapshot", "-c", "first"]).arg(&disk));
    qemu_io(&disk, "write -P 0x22 4M 8M");
    run(Command::new("qemu-img").args(["snapshot", "-c", "second"]).arg(&disk));
    qemu_io(&disk, "write -P 0x33 0 1M");
    disk
}

/// qemu-img's own extraction of a snapshot, as raw: what an image of it must hold.
fn reference(disk: &Path, snapshot: &str, out: &Path) {
    run(Command::new("qemu-img").args(["convert", "-l", &format!("snapshot.name={snapshot}"), "-O", "raw"]).arg(disk).arg(out));
}

fn object(repo: &Repo, sha: &str) -> PathBuf {
    repo.home().join("objects/sha256").join(&sha[..2]).join(&sha[2..])
}

fn same_contents(a: &Path, b: &Path) -> bool {
    Command::new("qemu-img").args(["compare", "-q"]).arg(a).arg(b).status().unwrap().success()
}

fn pattern_ok(image: &Path, format: &str, op: &str) -> bool {
    let out = Command::new("qemu-io").args(["-r", "-f", format, "-c", op]).arg(image).output().unwrap();
    out.status.success() && !String::from_utf8_lossy(&out.stdout).contains("Pattern verification failed")
}

#[test]
fn a_qcow2_files_snapshots_are_listed_and_each_is_cut_exactly_leaving_the_disk_untouched() {
    let repo = Repo::new();
    let dir = tempfile::tempdir().unwrap();
    let disk = disk_with_snapshots(dir.path());
    let before = sha256_of(&disk);

    let (code, list) = repo.json(["snapshot", "list", "--disk-file", disk.to_str().unwrap()]);
    assert_eq!(code, 0, "{list:#}");
    let d = &list[0];
    assert_eq!(
        (d["disk"]["disk_id"].as_u64(), d["disk"]["format"].as_str(), d["disk"]["virtual_size"].as_u64()),
        (Some(1), Some("qcow2"), Some(64 << 20))
    );
    let names: Vec<&str> = d["snapshots"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["first", "second"]);
    for s in d["snapshots"].as_array().unwrap() {
        assert_eq!((s["location"].as_str(), s["usable"].as_bool()), (Some("internal"), Some(true)), "{s:#}");
        assert!(s["created_at"].as_str().is_some_and(|t| t.starts_with("20")), "{s:#}");
    }

    // the first snapshot as compressed qcow2 (the default), with Danube's defaults and attributes
    let (code, report) = repo.json([
        "snapshot",
        "image",
        "web-base",
        "--disk-file",
        disk.to_str().unwrap(),
        "--snapshot",
        "first",
        "--alias",
        "webb",
        "--access",
        "public",
        "--description",
        "web server before the app",
        "--resize",
    ]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["job"]["kind"], "snapshot_image");
    assert_eq!(report["job"]["state"], "succeeded");
    let a = &report["artifact"];
    assert_eq!(
        (a["name"].as_str(), a["kind"].as_str(), a["version"].as_str()),
        (Some("web-base"), Some("disk_image"), Some("1.0")),
        "{a:#}"
    );
    assert_eq!((a["alias"].as_str(), a["access"].as_str(), a["resize"].as_bool()), (Some("webb"), Some("public"), Some(true)));
    assert_eq!(a["source"]["kind"], "snapshot");
    assert_eq!((a["source"]["snapshot"].as_str(), a["source"]["disk_id"].as_u64()), (Some("first"), Some(1)));
    assert_eq!(a["source"]["disk_file"].as_str(), Some(std::fs::canonicalize(&disk).unwrap().to_str().unwrap()));
    assert!(a["source"]["snapshot_at"].is_string(), "{a:#}");
    assert!(a["source"].get("vm").is_none(), "no VM for a disk file: {a:#}");
    let stored = object(&repo, a["sha256"].as_str().unwrap());
    assert_eq!(sha256_of(&stored), a["sha256"].as_str().unwrap(), "what the catalog says is what is stored");
    let ref_first = dir.path().join("first.raw");
    reference(&disk, "first", &ref_first);
    assert!(same_contents(&stored, &ref_first), "the image holds exactly the first snapshot's state");
    assert!(pattern_ok(&stored, "qcow2", "read -P 0x11 0 8M"), "8 MiB of 0x11 at 0");
    assert!(pattern_ok(&stored, "qcow2", "read -P 0 8M 56M"), "and nothing after it");
    let info = Command::new("qemu-img").args(["info", "--output=json"]).arg(&stored).output().unwrap();
    let info: Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!((info["format"].as_str(), info.get("snapshots")), (Some("qcow2"), None), "a standalone qcow2 without the disk's snapshots");

    // the second as raw: byte for byte what qemu-img extracts
    let (code, report) =
        repo.json(["snapshot", "image", "web-app", "--disk-file", disk.to_str().unwrap(), "--snapshot", "second", "--format", "raw"]);
    assert_eq!(code, 0, "{report:#}");
    let ref_second = dir.path().join("second.raw");
    reference(&disk, "second", &ref_second);
    assert_eq!(report["artifact"]["sha256"].as_str().unwrap(), sha256_of(&ref_second));
    assert!(pattern_ok(&ref_second, "raw", "read -P 0x22 4M 8M") && pattern_ok(&ref_second, "raw", "read -P 0x11 0 4M"));

    // the disk was only read: not a byte changed, its snapshots are all still there
    assert_eq!(sha256_of(&disk), before, "the disk file is read only");

    // `show` says where it came from
    let out = repo.run(["show", "web-app"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("snapshot second of "), "{text}");

    // the same snapshot again under another name is the duplicate outcome, nothing stored twice
    let objects = repo.objects().len();
    let (code, again) =
        repo.json(["snapshot", "image", "web-app-2", "--disk-file", disk.to_str().unwrap(), "--snapshot", "second", "--format", "raw"]);
    assert_eq!(code, 0, "{again:#}");
    assert_eq!((again["outcome"].as_str(), again["artifact"]["name"].as_str()), (Some("duplicate"), Some("web-app")));
    assert_eq!(repo.objects().len(), objects);
    assert!(repo.staging_files().is_empty(), "{:?}", repo.staging_files());
}

fn refused(repo: &Repo, args: &[&str]) -> Value {
    let (code, out) = repo.json(args);
    assert_ne!(code, 0, "{out:#}");
    let err = out["error"].clone();
    assert!(err["explanation"].is_string() && err["recovery"].is_string(), "{out:#}");
    err
}

#[test]
fn danubes_refusals_name_the_valid_disks_and_snapshots_and_keep_nothing() {
    let repo = Repo::new();
    let dir = tempfile::tempdir().unwrap();
    let disk = disk_with_snapshots(dir.path());
    let d = disk.to_str().unwrap();

    let err = refused(&repo, &["snapshot", "image", "x", "--disk-file", d, "--snapshot", "third"]);
    assert_eq!(err["code"], "snapshot_unusable");
    assert!(err["text"].as_str().unwrap().contains("first, second"), "{err:#}");

    let err = refused(&repo, &["snapshot", "image", "x", "--disk-file", d, "--snapshot", "first", "--disk-id", "2"]);
    assert_eq!(err["code"], "invalid_disk");
    assert!(err["text"].as_str().unwrap().contains("valid disk ids are 1"), "{err:#}");
    let err = refused(&repo, &["snapshot", "list", "--disk-file", d, "--disk-id", "3"]);
    assert_eq!(err["code"], "invalid_disk");

    let (code, _) = repo.json(["snapshot", "image", "taken", "--disk-file", d, "--snapshot", "first"]);
    assert_eq!(code, 0);
    let err = refused(&repo, &["snapshot", "image", "taken", "--disk-file", d, "--snapshot", "second"]);
    assert_eq!(err["code"], "name_taken");

    // a raw disk has no snapshots
    let raw = dir.path().join("plain.raw");
    run(Command::new("qemu-img").args(["create", "-q", "-f", "raw"]).arg(&raw).arg("16M"));
    let err = refused(&repo, &["snapshot", "image", "y", "--disk-file", raw.to_str().unwrap(), "--snapshot", "first"]);
    assert_eq!(err["code"], "snapshot_unusable");
    assert!(err["text"].as_str().unwrap().contains("raw disk without snapshots"), "{err:#}");

    // a damaged snapshot: its L1 table offset no longer aligned. The listing cannot tell (qemu-img
    // info reads only the snapshot table); the job finds out, fails, and keeps nothing.
    let broken = dir.path().join("broken.qcow2");
    std::fs::copy(&disk, &broken).unwrap();
    let mut bytes = std::fs::read(&broken).unwrap();
    let table = u64::from_be_bytes(bytes[64..72].try_into().unwrap()) as usize;
    bytes[table + 7] |= 0x01;
    std::fs::write(&broken, &bytes).unwrap();
    let err = refused(&repo, &["snapshot", "image", "z", "--disk-file", broken.to_str().unwrap(), "--snapshot", "first"]);
    assert_eq!(err["code"], "snapshot_unusable");
    assert!(err["text"].as_str().unwrap().contains("L1 table offset invalid"), "{err:#}");
    let (_, jobs) = repo.json(["jobs"]);
    assert_eq!((jobs[0]["kind"].as_str(), jobs[0]["state"].as_str()), (Some("snapshot_image"), Some("failed")), "{jobs:#}");

    // a qcow2 whose header qemu cannot read: the listing says why, and so does the refusal
    let unreadable = dir.path().join("unreadable.qcow2");
    bytes[4..8].copy_from_slice(&9u32.to_be_bytes()); // qcow2 version 9
    std::fs::write(&unreadable, &bytes).unwrap();
    let (code, list) = repo.json(["snapshot", "list", "--disk-file", unreadable.to_str().unwrap()]);
    assert_eq!(code, 0, "{list:#}");
    assert!(
        list[0]["disk"]["problem"].as_str().is_some_and(|p| p.contains("version")),
        "the listing says the disk cannot be read: {list:#}"
    );
    let err = refused(&repo, &["snapshot", "image", "z", "--disk-file", unreadable.to_str().unwrap(), "--snapshot", "first"]);
    assert_eq!(err["code"], "snapshot_unusable");
    assert!(err["text"].as_str().unwrap().contains("cannot be read"), "{err:#}");

    // a missing file
    let err = refused(&repo, &["snapshot", "list", "--disk-file", dir.path().join("nope.qcow2").to_str().unwrap()]);
    assert_eq!(err["code"], "file_not_found");

    // nothing of the refused ones was kept: one artifact, one object, no staging files
    let (_, all) = repo.json(["list"]);
    assert_eq!(all.as_array().unwrap().len(), 1, "{all:#}");
    assert_eq!(repo.objects().len(), 1);
    assert!(repo.staging_files().is_empty());
}

#[test]
fn a_qcow2_image_in_the_library_gives_its_snapshots_too() {
    let repo = Repo::new();
    let dir = tempfile::tempdir().unwrap();
    let disk = disk_with_snapshots(dir.path());
    let (code, report) = repo.import(&["--kind", "disk_image"], std::slice::from_ref(&disk));
    assert_eq!(code, 0, "{report:#}");
    let (code, list) = repo.json(["snapshot", "list", "--artifact", "web-disk.qcow2"]);
    assert_eq!(code, 0, "{list:#}");
    assert_eq!(list[0]["snapshots"].as_array().unwrap().len(), 2);
    let (code, report) =
        repo.json(["snapshot", "image", "from-library", "--artifact", "web-disk.qcow2", "--snapshot", "second", "--version", "2.1"]);
    assert_eq!(code, 0, "{report:#}");
    let a = &report["artifact"];
    assert_eq!((a["source"]["artifact"].as_str(), a["version"].as_str()), (Some("web-disk.qcow2"), Some("2.1")), "{a:#}");
    let reference_raw = dir.path().join("second.raw");
    reference(&disk, "second", &reference_raw);
    assert!(same_contents(&object(&repo, a["sha256"].as_str().unwrap()), &reference_raw));

    // a file that is no disk image has no snapshots
    let (code, _) = repo.import(&[], &[fixture("ipxe.iso")]);
    assert_eq!(code, 0);
    let err = refused(&repo, &["snapshot", "list", "--artifact", "ipxe.iso"]);
    assert_eq!(err["code"], "snapshot_unusable");
}

#[test]
fn a_snapshot_image_killed_mid_extraction_leaves_no_file_no_row_and_no_qemu_img() {
    let repo = Repo::new();
    let dir = tempfile::tempdir().unwrap();
    let disk = disk_with_snapshots(dir.path());
    killed_at(
        &repo,
        "qemu.converting",
        &[
            "snapshot".as_ref(),
            "image".as_ref(),
            "killed".as_ref(),
            "--disk-file".as_ref(),
            disk.as_os_str(),
            "--snapshot".as_ref(),
            "second".as_ref(),
            "--format".as_ref(),
            "raw".as_ref(),
        ],
    );
    // qemu-img died with the CLI (it would otherwise write on into a reaped folder)
    let home = repo.home().to_str().unwrap().to_string();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let alive = std::fs::read_dir("/proc").unwrap().flatten().any(|p| {
            std::fs::read(p.path().join("cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&home) && String::from_utf8_lossy(&c).contains("qemu-img"))
        });
        if !alive {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "a qemu-img outlived the killed CLI");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // the next open finds the job interrupted and nothing of it kept
    let (code, jobs) = repo.json(["jobs"]);
    assert_eq!(code, 0, "{jobs:#}");
    assert_eq!((jobs[0]["kind"].as_str(), jobs[0]["state"].as_str()), (Some("snapshot_image"), Some("interrupted")), "{jobs:#}");
    let (_, all) = repo.json(["list"]);
    assert_eq!(all, serde_json::json!([]));
    assert!(repo.objects().is_empty(), "{:?}", repo.objects());
    assert!(repo.staging_files().is_empty(), "{:?}", repo.staging_files());
    // and the name is free
    let (code, report) = repo.json(["snapshot", "image", "killed", "--disk-file", disk.to_str().unwrap(), "--snapshot", "second"]);
    assert_eq!(code, 0, "{report:#}");
}

/// On a team repository (real PostgreSQL and SeaweedFS): the image cut from a disk file's snapshot
/// goes to the team's bucket with its source; another desktop, whose cache does not have it, lists
/// the snapshots of that image in the library and cuts another image from it.
#[test]
fn on_a_team_repository_an_image_cut_from_a_snapshot_goes_to_the_bucket_for_every_desktop() {
    use team_common::{bucket_url, head_status, object_key, s3, two_desks, Db};
    let db = Db::new();
    let (a, b) = two_desks(&db);
    let dir = tempfile::tempdir().unwrap();
    let disk = disk_with_snapshots(dir.path());
    let (code, report) =
        a.json(&["--repo", "team", "snapshot", "image", "web-first", "--disk-file", disk.to_str().unwrap(), "--snapshot", "first"]);
    assert_eq!(code, 0, "{report:#}");
    let sha = report["artifact"]["sha256"].as_str().unwrap().to_string();
    assert_eq!(head_status(&db, &sha), "200", "the image is in the team's bucket");
    let (_, shown) = b.json(&["--repo", "team", "show", "web-first"]);
    assert_eq!((shown["source"]["kind"].as_str(), shown["source"]["snapshot"].as_str()), (Some("snapshot"), Some("first")), "{shown:#}");

    // The disk itself in the library, as the team's: the other desktop cuts its second snapshot.
    let (code, v) = a.json(&["--repo", "team", "import", disk.to_str().unwrap(), "--kind", "disk_image"]);
    assert_eq!(code, 0, "{v:#}");
    let (code, cut) = b.json(&[
        "--repo",
        "team",
        "snapshot",
        "image",
        "web-second",
        "--artifact",
        "web-disk.qcow2",
        "--snapshot",
        "second",
        "--format",
        "raw",
    ]);
    assert_eq!(code, 0, "{cut:#}");
    let ref_second = dir.path().join("second.raw");
    reference(&disk, "second", &ref_second);
    assert_eq!(cut["artifact"]["sha256"].as_str().unwrap(), sha256_of(&ref_second), "byte for byte qemu-img's own extraction");
    let got = dir.path().join("from-bucket.raw");
    s3(&["-o", got.to_str().unwrap(), &bucket_url(&object_key(&db, &sha256_of(&ref_second)))]);
    assert_eq!(sha256_of(&got), sha256_of(&ref_second), "and so is what the bucket holds");
}
