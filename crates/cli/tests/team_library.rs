//! The library on a team repository (issue 18, stage 4): bytes in the S3-compatible bucket
//! (SeaweedFS), rows in PostgreSQL, each desktop's cache its own — both servers real, started by
//! scripts/servers.sh. An import uploads new bytes once and a second desktop's import of the same
//! file is a duplicate that sends nothing; another desktop exports them, fetching from the bucket and
//! checking them; a damaged object in the bucket is found by verify; a delete keeps the bucket's copy
//! for the grace period (a tombstone). Each test has its own database and bucket prefix.

mod common;
mod team_common;

use common::{fixture, walk};
use std::process::Command;
use team_common::*;

#[test]
fn bytes_go_to_the_bucket_once_and_another_desktop_exports_them_fetched_and_checked() {
    let db = Db::new();
    let (a, b) = two_desks(&db);
    let iso = fixture("ipxe.iso");
    let sha = sha256_of(&iso);

    let (code, report) = a.json(&["--repo", "team", "import", iso.to_str().unwrap(), "--kind", "os", "--os", "linux"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(outcome(&report, 0), "imported", "{report:#}");
    assert!(report["job"]["run_by"].as_str().is_some_and(|w| w.contains('@')), "{report:#}");
    assert_eq!(uploads_logged(&a), 1);
    // The object is in the bucket under its SHA-256, with the file's size; the row in PostgreSQL.
    let head = s3(&["-I", &bucket_url(&object_key(&db, &sha))]);
    let size = std::fs::metadata(&iso).unwrap().len();
    assert!(head.to_ascii_lowercase().contains(&format!("content-length: {size}")), "{head}");
    assert_eq!(db.sql("SELECT count(*) FROM artifacts"), "1");

    // The same file on the other desktop: already there, nothing sent.
    let (code, again) = b.json(&["--repo", "team", "import", iso.to_str().unwrap(), "--kind", "os", "--os", "linux"]);
    assert_eq!((code, outcome(&again, 0)), (0, "duplicate"), "{again:#}");
    assert_eq!(uploads_logged(&b), 0, "a duplicate sends no byte");
    assert_eq!(db.sql("SELECT count(*) FROM objects"), "1");

    // The other desktop builds a profile on it and exports it: its cache has nothing, so the bytes
    // come from the bucket, checked against their SHA-256 before they are used.
    let (code, p) = b.json(&["--repo", "team", "profile", "create", "pxe", "--os-image", "ipxe.iso"]);
    assert_eq!(code, 0, "{p:#}");
    let out = tempfile::tempdir().unwrap();
    let (code, export) = b.json(&["--repo", "team", "profile", "export", "pxe", "--to", out.path().to_str().unwrap(), "--include-os"]);
    assert_eq!(code, 0, "{export:#}");
    let archive = out.path().join("pxe.tar.gz");
    let unpacked = tempfile::tempdir().unwrap();
    assert!(Command::new("tar").arg("-xzf").arg(&archive).arg("-C").arg(unpacked.path()).status().unwrap().success());
    let check = Command::new("sha256sum").args(["-c", "SHA256SUMS"]).current_dir(unpacked.path()).output().unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
    assert!(String::from_utf8_lossy(&check.stdout).contains("ipxe.iso: OK"), "{}", String::from_utf8_lossy(&check.stdout));
    let cached: Vec<_> = walk(b.cache.path()).into_iter().filter(|p| p.ends_with(&sha[2..])).collect();
    assert_eq!(cached.len(), 1, "the fetched object is kept in the desktop's cache under its SHA-256");
    assert_eq!(sha256_of(&cached[0]), sha);
}

#[test]
fn a_damaged_object_in_the_bucket_is_found_by_verify_and_healed_by_importing_the_file_again() {
    let db = Db::new();
    let (a, b) = two_desks(&db);
    let file = fixture("post-install.sh");
    let sha = sha256_of(&file);
    let (code, report) = a.json(&["--repo", "team", "import", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{report:#}");
    let (code, ok) = b.json(&["--repo", "team", "verify"]);
    assert_eq!((code, ok["items"][0]["outcome"].as_str()), (0, Some("verified")), "{ok:#}");

    // Someone overwrites the object in the bucket behind the catalog's back.
    let other = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(other.path(), "not the script").unwrap();
    let put = s3(&["-T", other.path().to_str().unwrap(), &bucket_url(&object_key(&db, &sha))]);
    assert_eq!(s3(&[&bucket_url(&object_key(&db, &sha))]), "not the script", "{put}");
    let (code, bad) = b.json(&["--repo", "team", "verify"]);
    assert_eq!(code, 1, "{bad:#}");
    assert_eq!(bad["items"][0]["outcome"], "failed", "{bad:#}");
    assert_eq!(bad["items"][0]["error"]["code"], "object_corrupted", "{bad:#}");
    let (_, shown) = a.json(&["--repo", "team", "show", "post-install.sh"]);
    assert_eq!(shown["state"], "damaged", "every desktop sees it: {shown:#}");

    // Importing the file again sends its bytes again, and the artifact is whole.
    let (code, healed) = a.json(&["--repo", "team", "import", file.to_str().unwrap()]);
    assert_eq!((code, outcome(&healed, 0)), (0, "imported"), "{healed:#}");
    let body = s3(&[&bucket_url(&object_key(&db, &sha))]);
    assert_eq!(body.as_bytes(), std::fs::read(&file).unwrap().as_slice());
    let (code, ok) = b.json(&["--repo", "team", "verify"]);
    assert_eq!((code, ok["items"][0]["outcome"].as_str()), (0, Some("verified")), "{ok:#}");
}

#[test]
fn a_delete_keeps_the_buckets_copy_for_the_grace_period_and_an_artifact_in_use_is_not_deleted() {
    let db = Db::new();
    let (a, b) = two_desks(&db);
    let iso = fixture("ipxe.iso");
    let script = fixture("post-install.sh");
    for args in [vec![iso.to_str().unwrap(), "--kind", "os", "--os", "linux"], vec![script.to_str().unwrap()]] {
        let (code, report) = a.json(&[&["--repo", "team", "import"][..], &args].concat());
        assert_eq!(code, 0, "{report:#}");
    }
    let (code, _) = a.json(&["--repo", "team", "profile", "create", "pxe", "--os-image", "ipxe.iso"]);
    assert_eq!(code, 0);
    let refused = b.run(&["--repo", "team", "delete", "ipxe.iso"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("in_use"), "{}", String::from_utf8_lossy(&refused.stderr));

    let sha = sha256_of(&script);
    let deleted = b.run(&["--repo", "team", "delete", "post-install.sh"]);
    assert!(deleted.status.success(), "{}", String::from_utf8_lossy(&deleted.stderr));
    let (_, listed) = a.json(&["--repo", "team", "list"]);
    assert_eq!(listed.as_array().unwrap().len(), 1, "gone for every desktop: {listed:#}");
    assert_eq!(db.sql(&format!("SELECT count(*) FROM object_tombstones WHERE sha256 = '{sha}'")), "1");
    let head = s3(&["-o", "/dev/null", "-w", "%{http_code}", "-I", &bucket_url(&object_key(&db, &sha))]);
    assert_eq!(head, "200", "the bytes stay in the bucket until the grace period is over");
}

#[test]
fn a_file_larger_than_a_part_goes_up_in_parts_and_comes_back_whole() {
    let db = Db::new();
    let (a, b) = two_desks(&db);
    // 12 MiB of incompressible bytes in 5 MiB parts: three parts, the last one short.
    let dir = tempfile::tempdir().unwrap();
    let big = common::noise(dir.path(), "disk.img", 12 << 20, 1);
    let sha = sha256_of(&big);
    let out = a
        .cmd()
        .env("IMAGESMITH_S3_PART_SIZE", (5u64 << 20).to_string())
        .args(["--repo", "team", "import", big.to_str().unwrap(), "--kind", "disk_image", "--json"])
        .output()
        .unwrap();
    let (code, report) = json_of(&out);
    assert_eq!((code, outcome(&report, 0)), (0, "imported"), "{report:#}");
    // S3's ETag of an object uploaded in parts ends in the count of parts.
    let head = s3(&["-I", &bucket_url(&object_key(&db, &sha))]).to_ascii_lowercase();
    assert!(head.lines().any(|l| l.starts_with("etag:") && l.trim_end().ends_with("-3\"")), "{head}");
    // The other desktop verifies the bucket's copy, reading it by ranges.
    let (code, ok) = b.json(&["--repo", "team", "verify"]);
    assert_eq!((code, ok["items"][0]["outcome"].as_str()), (0, Some("verified")), "{ok:#}");
}

#[test]
fn a_sampled_verify_checks_the_bytes_checked_longest_ago_first_and_so_goes_round_the_bucket() {
    let db = Db::new();
    let desk = &desks(&db, 1)[0];
    let files = ["post-install.sh", "Set-Network.ps1", "ks.cfg"];
    for f in files {
        let (code, v) = desk.json(&["--repo", "team", "import", fixture(f).to_str().unwrap()]);
        assert_eq!(code, 0, "{v:#}");
    }
    let sample = |n: &str| {
        let (code, v) = desk.json(&["--repo", "team", "verify", "--sample", n]);
        assert_eq!(code, 0, "{v:#}");
        assert_eq!(v["collected"], serde_json::json!([]), "a sample collects nothing: {v:#}");
        let mut names: Vec<String> =
            v["items"].as_array().unwrap().iter().map(|i| i["artifact"]["name"].as_str().unwrap().to_string()).collect();
        names.sort();
        names
    };
    // None checked yet: the first two by age in the catalog; then the one never checked comes first.
    assert_eq!(sample("2"), ["Set-Network.ps1", "post-install.sh"]);
    let second = sample("2");
    assert!(second.contains(&"ks.cfg".to_string()), "{second:?}");
    let (_, shown) = desk.json(&["--repo", "team", "show", "ks.cfg"]);
    assert!(shown["last_verified_at"].is_string(), "{shown:#}");
    // A copy found damaged keeps its old check time but does not take every sample from now on.
    let damaged = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(damaged.path(), "not the script").unwrap();
    s3(&["-T", damaged.path().to_str().unwrap(), &bucket_url(&object_key(&db, &sha256_of(&fixture("post-install.sh"))))]);
    let (code, whole) = desk.json(&["--repo", "team", "verify"]);
    assert_eq!(code, 1, "{whole:#}");
    let (code, v) = desk.json(&["--repo", "team", "verify", "--sample", "1"]);
    assert_eq!(code, 0, "{v:#}");
    assert_ne!(v["items"][0]["artifact"]["name"], "post-install.sh", "{v:#}");
    // A sample and names do not go together.
    let both = desk.run(&["--repo", "team", "verify", "--sample", "2", "ks.cfg"]);
    assert_eq!(both.status.code(), Some(2), "{}", String::from_utf8_lossy(&both.stderr));
}

/// The files of `desk`'s cache (every repository's), by name.
fn cached_objects(desk: &Desk) -> Vec<std::path::PathBuf> {
    walk(desk.cache.path()).into_iter().filter(|p| p.file_name().is_some_and(|n| n.len() == 62)).collect()
}

/// Set a file's last use (read and written) to `ago`, as `touch -d` does.
fn used(path: &std::path::Path, ago: &str) {
    assert!(Command::new("touch").args(["-a", "-m", "-d", ago]).arg(path).status().unwrap().success());
}

/// A desktop's cache of a team repository kept under a limit: `repo cache` says what it holds,
/// `--limit` is kept for the repository, `--prune` removes the least recently used files (never
/// one used in the last minutes), opening the repository prunes when an hour has passed, and a
/// pruned file is fetched again from the bucket, checked, when it is needed.
#[test]
fn the_cache_is_pruned_to_its_limit_least_recently_used_first_and_fetched_again_when_needed() {
    let db = Db::new();
    let (a, _b) = two_desks(&db);
    let (iso, script, ks) = (fixture("ipxe.iso"), fixture("post-install.sh"), fixture("ks.cfg"));
    for f in [&iso, &script, &ks] {
        let (code, r) = a.json(&["--repo", "team", "import", f.to_str().unwrap()]);
        assert_eq!(code, 0, "{r:#}");
    }
    let (code, shown) = a.json(&["--repo", "team", "repo", "cache"]);
    let total: u64 = [&iso, &script, &ks].iter().map(|f| std::fs::metadata(f).unwrap().len()).sum();
    assert_eq!((code, shown["cache"]["objects"].as_u64(), shown["cache"]["bytes"].as_u64()), (0, Some(3), Some(total)), "{shown:#}");
    let (code, refused) = a.json(&["--repo", "local", "repo", "cache", "--prune"]);
    assert_eq!((code, refused["error"]["code"].as_str()), (1, Some("invalid_argument")), "the local repository is no cache: {refused:#}");

    // The ISO was used two days ago, the script yesterday, the kickstart just now: a limit the
    // kickstart fits under removes the ISO, then the script; the kickstart, in use, stays.
    let path_of = |f: &std::path::Path| cached_objects(&a).into_iter().find(|p| p.ends_with(&sha256_of(f)[2..])).unwrap();
    used(&path_of(&iso), "2 days ago");
    used(&path_of(&script), "1 day ago");
    let (code, pruned) = a.json(&["--repo", "team", "repo", "cache", "--limit", "1KiB", "--prune"]);
    assert_eq!(code, 0, "{pruned:#}");
    let ks_size = std::fs::metadata(&ks).unwrap().len();
    assert_eq!(
        (pruned["pruned"]["removed"].as_u64(), pruned["cache"]["bytes"].as_u64(), pruned["cache"]["limit"].as_u64()),
        (Some(2), Some(ks_size), Some(1024)),
        "{pruned:#}"
    );
    let (_, repos) = a.json(&["repo", "list"]);
    assert!(repos.to_string().contains("\"cache_limit\":1024"), "the limit is kept for the repository: {repos}");

    // Needed again: fetched from the bucket, checked, cached again.
    let out = tempfile::tempdir().unwrap();
    let (code, p) = a.json(&["--repo", "team", "profile", "create", "pxe", "--os-image", "ipxe.iso"]);
    assert_eq!(code, 0, "{p:#}");
    let (code, export) = a.json(&["--repo", "team", "profile", "export", "pxe", "--to", out.path().to_str().unwrap(), "--include-os"]);
    assert_eq!(code, 0, "{export:#}");
    assert_eq!(sha256_of(&path_of(&iso)), sha256_of(&iso), "fetched again whole");

    // An hour after the last prune, opening the repository prunes to the limit by itself.
    used(&path_of(&iso), "2 days ago");
    let objects = path_of(&ks).parent().unwrap().parent().unwrap().to_path_buf();
    used(&objects.join(".prune.lock"), "2 hours ago");
    let (code, _) = a.json(&["--repo", "team", "list"]);
    assert_eq!(code, 0);
    assert!(!cached_objects(&a).iter().any(|p| p.ends_with(&sha256_of(&iso)[2..])), "the idle ISO went when the repository was opened");
}

/// Files from URLs, images from an image store and publishing to a cloud work on a team repository
/// as locally, against the run's nginx and Glance: a URL import goes to the bucket with its
/// source, an IMGAPI store saved by one desktop is imported from by another, and a third use —
/// publishing the URL's image to Glance — reads the bytes through the desktop's cache, re-hashed,
/// and records a verified publication every desktop sees.
#[test]
fn urls_image_stores_and_publishing_work_on_a_team_repository() {
    let db = Db::new();
    let (a, b) = two_desks(&db);
    let ok = |desk: &Desk, args: &[&str]| {
        let (code, v) = desk.json(&[&["--repo", "team"][..], args].concat());
        assert_eq!(code, 0, "{args:?}: {v:#}");
        v
    };

    // A disk image from a URL, with its SHA-256 given.
    let (root, base) = common::site("team-urls");
    let disk = root.join("disk.img");
    std::fs::write(&disk, (0..(3u32 << 18)).flat_map(|i| i.to_le_bytes()).collect::<Vec<u8>>()).unwrap();
    let sha = sha256_of(&disk);
    let url = format!("{base}/disk.img");
    let report = ok(&a, &["import", &url, "--checksum", &format!("sha256:{sha}"), "--kind", "disk_image"]);
    assert_eq!(outcome(&report, 0), "imported", "{report:#}");
    let art = &report["items"][0]["artifact"];
    assert_eq!((art["source"]["kind"].as_str(), art["source"]["url"].as_str()), (Some("url"), Some(url.as_str())), "{art:#}");
    assert_eq!(head_status(&db, &sha), "200", "the bytes are in the team's bucket");

    // An IMGAPI store saved on one desktop, imported from on the other.
    common::write_index(
        &root,
        &[common::imgapi_image(&root, "2b683a82-a066-11e3-97ab-2faa44701c5a", "ipxe", "1.21.1", &fixture("ipxe.iso"), "gzip")],
    );
    ok(&a, &["store", "add", "danube", "--url", &base]);
    let report = ok(&b, &["store", "import", "danube", "2b683a82-a066-11e3-97ab-2faa44701c5a", "--kind", "os", "--os", "linux"]);
    assert_eq!(outcome(&report, 0), "imported", "{report:#}");
    let shown = ok(&a, &["show", "ipxe-1.21.1"]);
    assert_eq!(
        (shown["source"]["kind"].as_str(), shown["sha256"].as_str()),
        (Some("store"), Some(sha256_of(&fixture("ipxe.iso")).as_str())),
        "stored decompressed: {shown:#}"
    );

    // Published from the other desktop (whose cache lacks the URL's bytes) to the run's Glance.
    ok(&b, &["target", "add", "lab", "--image-url", common::server_fact("TS_GLANCE_URL"), "--no-auth"]);
    let name = format!("team-disk-{}", rand_u64());
    let report = ok(&b, &["publish", "disk.img", "--target", "lab", "--name", &name, "--disk-format", "raw", "--no-convert"]);
    let p = &report["publications"][0];
    assert_eq!((p["status"].as_str(), p["verified"].as_bool()), (Some("active"), Some(true)), "{p:#}");
    let listed = ok(&a, &["publications", "--artifact", "disk.img"]);
    assert_eq!(listed[0]["remote_id"], p["remote_id"], "the other desktop sees the publication: {listed:#}");
    let glance = Command::new("curl")
        .args(["-sf", "-m", "20", &format!("{}/v2/images/{}", common::server_fact("TS_GLANCE_URL"), p["remote_id"].as_str().unwrap())])
        .output()
        .unwrap();
    let image: serde_json::Value = serde_json::from_slice(&glance.stdout).unwrap();
    assert_eq!(image["size"].as_u64(), Some(std::fs::metadata(&disk).unwrap().len()), "{image:#}");
    let _ = Command::new("curl")
        .args([
            "-s",
            "-m",
            "20",
            "-X",
            "DELETE",
            &format!("{}/v2/images/{}", common::server_fact("TS_GLANCE_URL"), p["remote_id"].as_str().unwrap()),
        ])
        .output();
}
