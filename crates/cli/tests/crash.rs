//! Crash consistency at commit: the CLI is killed (SIGKILL, by the engine's failpoints) at chosen
//! points of a delete and an import; the next command must find a consistent repository.

mod common;

use common::*;
use std::path::Path;

/// The repository after a crash, as the next command finds it: it opens, the catalog is intact, every
/// artifact's object is there and hashes to its name, and no object file is without its row.
fn assert_consistent(repo: &Repo) -> Vec<String> {
    let (code, list) = repo.json(["list"]);
    assert_eq!(code, 0, "the repository opens: {list:#}");
    let conn = rusqlite::Connection::open(repo.home().join("catalog.db")).unwrap();
    let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(integrity, "ok");
    let fk_problems: i64 = conn.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| r.get(0)).unwrap();
    assert_eq!(fk_problems, 0, "foreign keys hold");
    let rows: Vec<String> = conn
        .prepare("SELECT sha256 FROM objects ORDER BY sha256")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let artifact_rows: Vec<String> = conn
        .prepare("SELECT sha256 FROM artifacts ORDER BY sha256")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows, artifact_rows, "every object row has its artifact");
    for sha in &rows {
        let path = object_path(repo, sha);
        assert!(path.is_file(), "the object of {sha} exists");
        assert_eq!(&sha256_of(&path), sha, "and holds its bytes");
    }
    let mut files: Vec<String> = repo.objects().iter().map(|p| object_name(p)).collect();
    files.sort();
    assert_eq!(files, rows, "no object file without its row");
    assert!(repo.staging_files().is_empty(), "no staging leftovers");
    list.as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap().to_string()).collect()
}

fn object_path(repo: &Repo, sha: &str) -> std::path::PathBuf {
    repo.home().join("objects/sha256").join(&sha[..2]).join(&sha[2..])
}

fn object_name(p: &Path) -> String {
    let parent = p.parent().unwrap().file_name().unwrap().to_string_lossy().into_owned();
    format!("{parent}{}", p.file_name().unwrap().to_string_lossy())
}

fn two_files(repo: &Repo) {
    let (code, report) = repo.import(&[], &[fixture("ks.cfg"), fixture("post-install.sh")]);
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn delete_killed_before_its_commit_keeps_the_artifact_and_its_object() {
    let repo = Repo::new();
    two_files(&repo);
    killed_at(&repo, "delete.before_commit", &["delete".as_ref(), "ks.cfg".as_ref()]);
    assert_eq!(assert_consistent(&repo), ["ks.cfg", "post-install.sh"], "the delete did not happen");
}

#[test]
fn delete_killed_after_its_commit_leaves_no_object_behind() {
    let repo = Repo::new();
    two_files(&repo);
    killed_at(&repo, "delete.after_commit", &["delete".as_ref(), "ks.cfg".as_ref()]);
    assert_eq!(assert_consistent(&repo), ["post-install.sh"], "the delete happened");
}

#[test]
fn import_killed_between_storing_the_object_and_its_commit_leaves_no_orphan() {
    let repo = Repo::new();
    two_files(&repo);
    let iso = fixture("ipxe.iso");
    killed_at(&repo, "import.after_rename", &["import".as_ref(), iso.as_os_str()]);
    let sha = sha256_of(&iso);
    assert!(object_path(&repo, &sha).is_file(), "killed with the object in objects/ and no row");
    assert_eq!(assert_consistent(&repo), ["ks.cfg", "post-install.sh"], "the import did not happen");
    let (code, report) = repo.import(&[], &[iso]);
    assert_eq!(code, 0, "importing it again works: {report:#}");
    assert_eq!(report["items"][0]["outcome"], "imported");
    assert_consistent(&repo);
}

/// A small profile on the RHEL image with a kickstart and a script, in `repo`.
fn small_profile(repo: &Repo) {
    let (code, report) = repo.import(&[], &[fixture("rhel-9.6-x86_64-dvd.iso"), fixture("ks.cfg"), fixture("post-install.sh")]);
    assert_eq!(code, 0, "{report:#}");
    let (code, p) = repo.json(["profile", "create", "web", "--os-image", "rhel-9.6-x86_64-dvd.iso"]);
    assert_eq!(code, 0, "{p:#}");
    let (code, p) = repo.json(["profile", "add", "web", "ks.cfg", "post-install.sh"]);
    assert_eq!(code, 0, "{p:#}");
}

fn folder_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

fn last_job_state(repo: &Repo) -> String {
    let (_, jobs) = repo.json(["jobs"]);
    jobs[0]["state"].as_str().unwrap().to_string()
}

/// The small profile exported into a fresh folder by a CLI killed at `point`.
fn export_killed_at(point: &str) -> (Repo, tempfile::TempDir) {
    let repo = Repo::new();
    small_profile(&repo);
    let out = tempfile::tempdir().unwrap();
    killed_at(&repo, point, &["profile".as_ref(), "export".as_ref(), "web".as_ref(), "--to".as_ref(), out.path().as_os_str()]);
    (repo, out)
}

#[test]
fn export_killed_before_its_archive_appears_leaves_nothing_in_the_folder_after_the_next_open() {
    let (repo, out) = export_killed_at("export.before_rename");
    let left = folder_names(out.path());
    assert_eq!(left.len(), 2, "killed with the hidden archive and sidecar written: {left:?}");
    assert!(left.iter().all(|n| n.starts_with('.') && n.ends_with(".part")), "{left:?}");
    assert_consistent(&repo); // the next command opens the repository, which settles the export
    assert!(folder_names(out.path()).is_empty(), "no .part file stays in the user's folder: {:?}", folder_names(out.path()));
    assert_eq!(last_job_state(&repo), "interrupted");
}

#[test]
fn export_killed_between_archive_and_sidecar_gets_its_sidecar_on_the_next_open() {
    let (repo, out) = export_killed_at("export.between_renames");
    let left = folder_names(out.path());
    assert!(left.contains(&"web.tar.gz".to_string()) && !left.contains(&"web.tar.gz.sha256".to_string()), "{left:?}");
    assert_consistent(&repo);
    assert_eq!(folder_names(out.path()), ["web.tar.gz", "web.tar.gz.sha256"], "the archive and its sidecar, nothing else");
    let check = std::process::Command::new("sha256sum")
        .args(["--check", "--strict", "web.tar.gz.sha256"])
        .current_dir(out.path())
        .output()
        .unwrap();
    assert!(check.status.success(), "sha256sum accepts the sidecar: {}", String::from_utf8_lossy(&check.stdout));
}

#[test]
fn profile_import_killed_before_its_commit_leaves_no_member_without_its_profile() {
    let source = Repo::new();
    small_profile(&source);
    let out = tempfile::tempdir().unwrap();
    let (code, e) = source.json([
        "profile".as_ref(),
        "export".as_ref(),
        "web".as_ref(),
        "--include-os".as_ref(),
        "--to".as_ref(),
        out.path().as_os_str(),
    ]);
    assert_eq!(code, 0, "{e:#}");
    let repo = Repo::new();
    let archive = out.path().join("web.tar.gz");
    killed_at(&repo, "profile_import.before_commit", &["profile".as_ref(), "import".as_ref(), archive.as_os_str()]);
    assert!(!repo.objects().is_empty(), "killed with the members stored");
    assert!(assert_consistent(&repo).is_empty(), "the next open removed the members the profile never got");
    assert!(repo.objects().is_empty());
    let (_, profiles) = repo.json(["profile", "list"]);
    assert_eq!(profiles.as_array().unwrap().len(), 0);
    assert_eq!(last_job_state(&repo), "interrupted");
    // And the same archive imports whole afterwards.
    let (code, report) = repo.json(["profile".as_ref(), "import".as_ref(), archive.as_os_str()]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(assert_consistent(&repo).len(), 3);
}

#[test]
fn verify_killed_mid_job_is_interrupted_and_marks_nothing_wrong() {
    let repo = Repo::new();
    two_files(&repo);
    killed_at(&repo, "verify.after_hash", &["verify".as_ref()]);
    assert_eq!(assert_consistent(&repo), ["ks.cfg", "post-install.sh"]);
    assert_eq!(last_job_state(&repo), "interrupted");
    let (_, list) = repo.json(["list"]);
    assert!(list.as_array().unwrap().iter().all(|a| a["state"] == "ok"), "no artifact marked damaged by a kill: {list:#}");
    let (code, report) = repo.json(["verify"]);
    assert_eq!(code, 0, "verify runs again to its end: {report:#}");
}
