//! A team repository's bytes through crashes and races (issue 18, stage 5), against the real
//! PostgreSQL and SeaweedFS that scripts/servers.sh starts: an upload killed with SIGKILL between
//! parts leaves no row and no visible object, and the same import resumes it without sending those
//! parts again; deleted bytes leave the bucket only after their grace period and never when they
//! were imported again meanwhile; several desktops importing overlapping files at once end with
//! one object per content and every item accounted for; an object store that goes away in the
//! middle of a part fails the import clearly and the same import resumes when it is back. Each test has its own database and prefix.

mod common;
mod team_common;

use serde_json::Value;
use std::path::{Path, PathBuf};
use team_common::*;

/// `len` bytes no compressor shrinks, different for each `seed`.
fn noise(dir: &Path, name: &str, len: usize, seed: u64) -> PathBuf {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut bytes = Vec::with_capacity(len + 8);
    while bytes.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    bytes.truncate(len);
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

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
        let mut c = desk.cmd();
        c.env("IMAGESMITH_S3_PART_SIZE", (5u64 << 20).to_string());
        if let Some(f) = failpoint {
            c.env("IMAGESMITH_FAILPOINT", f);
        }
        c.args(["--repo", "team", "import", big.to_str().unwrap(), "--kind", "disk_image", "--json"]).output().unwrap()
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
    let import = || {
        let mut c = desk.cmd();
        c.env("IMAGESMITH_S3_PART_SIZE", (5u64 << 20).to_string());
        json_of(&c.args(["--repo", "team", "import", big.to_str().unwrap(), "--kind", "disk_image", "--json"]).output().unwrap())
    };

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
