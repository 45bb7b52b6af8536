//! Crash consistency at commit: the CLI is killed (SIGKILL, by the engine's failpoints) at chosen
//! points of a delete and an import; the next command must find a consistent repository.

mod common;

use common::*;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;

/// Run the CLI with `IMAGESMITH_FAILPOINT=point` and check it was killed there.
fn killed_at(repo: &Repo, point: &str, args: &[&std::ffi::OsStr]) {
    let out = repo.cmd().env("IMAGESMITH_FAILPOINT", point).args(args).output().unwrap();
    assert_eq!(out.status.signal(), Some(SIGKILL), "not killed at {point}: {:?}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
}

const SIGKILL: i32 = 9;

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
