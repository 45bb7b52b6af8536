//! The catalog speaks plainly: a catalog that is empty, cut short or overwritten is refused as
//! `catalog_damaged` (never opened as a new, empty repository whose stored files are all strays); a
//! read-only repository and a full disk each get their own code, and a full disk can still be read.

mod common;

use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn stored(repo: &Repo) {
    let (code, report) = repo.import(&[], &[fixture("ks.cfg"), fixture("post-install.sh")]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(repo.objects().len(), 2);
}

/// `list` on a repository whose catalog was replaced by `bytes`: refused as damaged, naming the file
/// and how to restore it, and the catalog and the stored files are left exactly as they were.
fn refused_as_damaged(repo: &Repo, bytes: &[u8], why: &str) {
    let catalog = repo.home().join("catalog.db");
    for side in ["catalog.db-wal", "catalog.db-shm"] {
        let _ = std::fs::remove_file(repo.home().join(side));
    }
    std::fs::write(&catalog, bytes).unwrap();
    let (code, err) = repo.json(["list"]);
    assert_eq!(code, 1, "{why}: {err:#}");
    assert_eq!(err["error"]["code"], "catalog_damaged", "{why}: {err:#}");
    let text = err["error"]["text"].as_str().unwrap();
    assert!(text.contains(&catalog.display().to_string()), "{why}: names the file: {text}");
    assert!(err["error"]["recovery"].as_str().unwrap().contains("backup"), "{why}: says how to restore");
    assert_eq!(std::fs::read(&catalog).unwrap(), bytes, "{why}: the catalog is not touched");
    assert_eq!(repo.objects().len(), 2, "{why}: no stored file is removed as a stray");
}

#[test]
fn an_empty_truncated_or_overwritten_catalog_is_refused_not_opened_as_new() {
    let repo = Repo::new();
    stored(&repo);
    // Let SQLite fold its WAL into the file, so the file alone is the whole catalog.
    let conn = rusqlite::Connection::open(repo.home().join("catalog.db")).unwrap();
    conn.pragma_update(None, "wal_checkpoint", "TRUNCATE").unwrap();
    drop(conn);
    let whole = std::fs::read(repo.home().join("catalog.db")).unwrap();
    assert!(whole.len() > 8192, "a catalog of several pages");

    refused_as_damaged(&repo, b"", "0 bytes");
    refused_as_damaged(&repo, &whole[..whole.len() / 2], "cut in half");
    refused_as_damaged(&repo, &whole[..4096], "only its first page");
    refused_as_damaged(&repo, &vec![0x5a; whole.len()], "overwritten");
    std::fs::remove_file(repo.home().join("catalog.db")).unwrap();
    let (code, err) = repo.json(["list"]);
    assert_eq!((code, err["error"]["code"].as_str()), (1, Some("catalog_damaged")), "missing: {err:#}");

    // Restored from the backup, everything is back.
    std::fs::write(repo.home().join("catalog.db"), &whole).unwrap();
    let (code, list) = repo.json(["list"]);
    assert_eq!(code, 0, "{list:#}");
    assert_eq!(list.as_array().unwrap().len(), 2);
}

#[test]
fn a_new_repository_whose_first_open_died_still_opens() {
    // A 0-byte catalog with nothing stored yet is what a first open killed at once leaves.
    let repo = Repo::new();
    std::fs::write(repo.home().join("catalog.db"), b"").unwrap();
    let (code, list) = repo.json(["list"]);
    assert_eq!(code, 0, "{list:#}");
    stored(&repo);
}

/// Whether this machine lets an unprivileged process make a private mount namespace (user
/// namespaces enabled, as on Debian and Ubuntu by default). A full disk and a read-only mount can
/// be acted out only there; where it is not allowed (a locked-down container) the two tests below
/// say so on stderr and end without checking — the only case in which they do not run.
fn mount_namespaces_allowed() -> bool {
    let ok = Command::new("unshare").args(["--mount", "--map-root-user", "true"]).status().is_ok_and(|s| s.success());
    if !ok {
        eprintln!("SKIPPED: this machine does not allow private mount namespaces (unshare --mount --map-root-user)");
    }
    ok
}

/// Run `script` (sh) in a private mount namespace, where it may mount a tmpfs or remount a folder
/// read-only without touching the machine; `$CLI` is the CLI. The namespace (and its mounts) ends with it.
fn in_mount_namespace(repo: &Repo, script: &str) -> std::process::Output {
    let out = Command::new("unshare")
        .args(["--mount", "--map-root-user", "--propagation", "private", "sh", "-euc", script])
        .env("CLI", env!("CARGO_BIN_EXE_imagesmith-cli"))
        .env("IMAGESMITH_HOME", repo.home())
        .env("IMAGESMITH_LOG_DIR", repo.home().join("logs-outside"))
        .env("KS", fixture("ks.cfg"))
        .env("SCRIPT", fixture("post-install.sh"))
        .output()
        .expect("unshare (util-linux) runs");
    assert!(out.status.success(), "the namespace script ran: {}", String::from_utf8_lossy(&out.stderr));
    out
}

fn results(out: &std::process::Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .split("\n--\n")
        .filter(|s| !s.trim().is_empty())
        .map(|s| serde_json::from_str(s.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {s}")))
        .collect()
}

#[test]
fn a_read_only_repository_is_named_as_such_and_can_still_be_read() {
    if !mount_namespaces_allowed() {
        return;
    }
    let repo = Repo::new();
    stored(&repo);
    let out = in_mount_namespace(
        &repo,
        r#"mount --bind "$IMAGESMITH_HOME" "$IMAGESMITH_HOME"
           mount -o remount,bind,ro "$IMAGESMITH_HOME"
           "$CLI" import "$SCRIPT" --json || true; echo; echo --
           "$CLI" list --json || true; echo; echo --
           "$CLI" update ks.cfg --description changed --json || true"#,
    );
    let r = results(&out);
    assert_eq!(r.len(), 3, "{r:#?}");
    assert_eq!(r[0]["error"]["code"], "repository_read_only", "{:#}", r[0]);
    assert!(r[0]["error"]["recovery"].as_str().unwrap().contains("read-write"), "{:#}", r[0]);
    assert_eq!(r[1].as_array().map(|a| a.len()), Some(2), "the library can still be read: {:#}", r[1]);
    assert_eq!(r[2]["error"]["code"], "repository_read_only", "{:#}", r[2]);
    let (_, list) = repo.json(["list"]);
    assert_eq!(list.as_array().map(|a| a.len()), Some(2), "and, writable again, it is as it was");
}

#[test]
fn on_a_full_disk_the_library_can_still_be_read_and_an_import_says_disk_full() {
    if !mount_namespaces_allowed() {
        return;
    }
    let repo = Repo::new();
    let home = repo.home();
    assert!(std::fs::read_dir(home).unwrap().next().is_none(), "an empty folder to mount over");
    let out = in_mount_namespace(
        &repo,
        r#"mount -t tmpfs -o size=8m tmpfs "$IMAGESMITH_HOME"
           "$CLI" import "$KS" --json >/dev/null
           "$CLI" list --json >/dev/null
           # fill the disk to the last block
           dd if=/dev/zero of="$IMAGESMITH_HOME/filler" bs=4k 2>/dev/null || true
           df -k "$IMAGESMITH_HOME" >&2
           "$CLI" list --json || true; echo; echo --
           "$CLI" show ks.cfg --json || true; echo; echo --
           "$CLI" import "$SCRIPT" --json || true; echo; echo --
           "$CLI" jobs --json || true"#,
    );
    let r = results(&out);
    assert_eq!(r.len(), 4, "{r:#?}");
    assert_eq!(r[0].as_array().map(|a| a.len()), Some(1), "list works on a full disk: {:#}", r[0]);
    assert_eq!(r[1]["name"], "ks.cfg", "show works on a full disk: {:#}", r[1]);
    assert_eq!(r[2]["error"]["code"], "disk_full", "{:#}", r[2]);
    assert!(r[3].is_array(), "the history reads: {:#}", r[3]);
    assert!(Path::new(home).read_dir().unwrap().next().is_none(), "the tmpfs is gone with its namespace");
}

#[test]
fn a_damaged_catalog_is_rebuilt_from_the_stored_files_when_asked() {
    let repo = Repo::new();
    stored(&repo);
    let (_, before) = repo.json(["list"]);
    let shas: Vec<String> = before.as_array().unwrap().iter().map(|a| a["sha256"].as_str().unwrap().to_string()).collect();
    // a third stored file whose bytes changed on disk: it must not come back as verified
    let (code, r) = repo.import(&[], &[fixture("autoyast.xml")]);
    assert_eq!(code, 0, "{r:#}");
    let damaged_sha = sha256_of(&fixture("autoyast.xml"));
    flip_object_byte(&repo, &damaged_sha, 10);
    std::fs::write(repo.home().join("catalog.db"), b"").unwrap();
    for side in ["catalog.db-wal", "catalog.db-shm"] {
        let _ = std::fs::remove_file(repo.home().join(side));
    }
    let (code, err) = repo.json(["list"]);
    assert_eq!((code, err["error"]["code"].as_str()), (1, Some("catalog_damaged")));
    assert!(err["error"]["recovery"].as_str().unwrap().contains("rebuild-catalog"), "{err:#}");

    let (code, report) = repo.json(["rebuild-catalog"]);
    assert_eq!(code, 0, "{report:#}");
    let kept = report["set_aside"].as_str().expect("the damaged catalog is kept");
    assert_eq!(std::fs::metadata(kept).unwrap().len(), 0, "as it was");
    assert_eq!(report["recovered"].as_array().unwrap().len(), 2, "{report:#}");
    assert_eq!(report["lost_and_found"].as_array().unwrap().len(), 1, "{report:#}");
    let moved = repo.home().join("lost+found").join(&damaged_sha);
    assert!(moved.is_file(), "the changed file is kept aside, not deleted");

    let (code, list) = repo.json(["list"]);
    assert_eq!(code, 0, "{list:#}");
    let mut got: Vec<(String, String, String)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["sha256"].as_str().unwrap().into(), a["kind"].as_str().unwrap().into(), a["name"].as_str().unwrap().into()))
        .collect();
    got.sort();
    let mut want = shas.clone();
    want.sort();
    assert_eq!(got.iter().map(|g| g.0.clone()).collect::<Vec<_>>(), want, "every intact stored file is an artifact again");
    for (sha, kind, name) in &got {
        assert!(name.starts_with(&format!("recovered-{}", &sha[..12])), "{name}");
        assert!(!kind.is_empty());
    }
    let (code, verify) = repo.json(["verify"]);
    assert_eq!(code, 0, "the rebuilt repository verifies: {verify:#}");
}

#[test]
fn a_configured_repository_that_is_missing_is_refused_not_created_until_init() {
    let parent = tempfile::tempdir().unwrap();
    // a repository on a USB disk or a share that is not mounted: the mount point is there, empty
    let missing = parent.path().join("nas").join("imagesmith");
    std::fs::create_dir(parent.path().join("nas")).unwrap();
    let cli = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_imagesmith-cli"));
        c.env("IMAGESMITH_LOG_DIR", parent.path().join("logs")).env_remove("IMAGESMITH_HOME");
        c
    };
    for via_env in [false, true] {
        let mut c = cli();
        if via_env {
            c.env("IMAGESMITH_HOME", &missing).args(["list", "--json"]);
        } else {
            c.args(["list", "--json", "--home"]).arg(&missing);
        }
        let out = c.output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        let err: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(err["error"]["code"], "repository_missing", "{err:#}");
        assert!(err["error"]["recovery"].as_str().unwrap().contains("imagesmith-cli init"), "{err:#}");
        assert!(!missing.exists(), "nothing was created where the repository was expected");
    }
    let out = cli().args(["init", "--json", "--home"]).arg(&missing).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(missing.join("catalog.db").is_file(), "init made the repository");
    let out = cli().args(["list", "--json", "--home"]).arg(&missing).output().unwrap();
    assert!(out.status.success());
    assert_eq!(serde_json::from_slice::<Value>(&out.stdout).unwrap(), serde_json::json!([]));
}
