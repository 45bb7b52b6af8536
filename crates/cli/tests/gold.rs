//! Gold images through the CLI, on real homes (Python 3.11 with its test suite and a Java 17 runtime
//! from Debian packages): capture, provision and compare with `diff -r` and `find`; recapture stores
//! only what changed; drift and diff; every refusal; kill -9 during capture and provision.

mod common;
mod team_common;

use common::*;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A writable copy of a fixture home (`cp -a`: modes, links and times kept), with what real homes
/// have and the packages lack: a hardlinked pair, a relative link inside, an executable script.
fn home(name: &str, into: &Path) -> PathBuf {
    let dir = into.join(name);
    let ok = Command::new("cp").arg("-a").arg(fixtures().join("homes").join(name)).arg(&dir).status().unwrap();
    assert!(ok.success());
    std::fs::create_dir(dir.join("site")).unwrap();
    std::fs::write(dir.join("site/start.sh"), "#!/bin/sh\nexec java -jar app.jar\n").unwrap();
    Command::new("chmod").arg("0750").arg(dir.join("site/start.sh")).status().unwrap();
    std::fs::hard_link(dir.join("site/start.sh"), dir.join("site/run.sh")).unwrap();
    std::os::unix::fs::symlink("../site/start.sh", dir.join("site/latest")).unwrap();
    dir
}

/// What `find` says about every entry: path, type, mode and link target — equal for two trees
/// when they are the same tree.
fn listing(dir: &Path) -> Vec<String> {
    let out = Command::new("find").arg(".").args(["-printf", "%p %y %m %l\\n"]).current_dir(dir).output().unwrap();
    let mut lines: Vec<String> = String::from_utf8(out.stdout).unwrap().lines().map(str::to_string).collect();
    lines.sort();
    lines
}

fn same_tree(a: &Path, b: &Path) {
    let diff = Command::new("diff").args(["-r", "--no-dereference"]).arg(a).arg(b).output().unwrap();
    assert!(diff.status.success(), "diff -r: {}", String::from_utf8_lossy(&diff.stdout));
    assert_eq!(listing(a), listing(b), "types, modes and link targets");
}

fn inode(p: &Path) -> u64 {
    std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(p).unwrap())
}

fn capture(repo: &Repo, name: &str, from: &Path, extra: &[&str]) -> (i32, Value) {
    let mut args: Vec<std::ffi::OsString> = vec!["gold".into(), "create".into(), name.into(), "--from".into(), from.into()];
    args.extend(extra.iter().map(Into::into));
    repo.json(args)
}

fn provision(repo: &Repo, name: &str, to: &Path, extra: &[&str]) -> (i32, Value) {
    let mut args: Vec<std::ffi::OsString> = vec!["gold".into(), "provision".into(), name.into(), "--to".into(), to.into()];
    args.extend(extra.iter().map(Into::into));
    repo.json(args)
}

/// Object rows and files agree, every object is named by an artifact or a gold entry, the catalog
/// is sound, and nothing is left in staging.
fn consistent(repo: &Repo) {
    let conn = rusqlite::Connection::open(repo.home().join("catalog.db")).unwrap();
    let ok: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(ok, "ok");
    let fk: i64 = conn.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| r.get(0)).unwrap();
    assert_eq!(fk, 0);
    let rows: i64 = conn.query_row("SELECT COUNT(*) FROM objects", [], |r| r.get(0)).unwrap();
    let orphans: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM objects o WHERE NOT EXISTS (SELECT 1 FROM artifacts a WHERE a.sha256 = o.sha256)
             AND NOT EXISTS (SELECT 1 FROM gold_entries g WHERE g.sha256 = o.sha256)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(orphans, 0, "every object row is named by something");
    assert_eq!(repo.objects().len() as i64, rows, "no object file without its row, no row without its file");
    assert!(repo.staging_files().is_empty(), "no staging leftovers");
}

#[test]
fn a_real_home_captured_and_provisioned_is_the_same_tree_and_a_recapture_stores_only_the_change() {
    let repo = Repo::new();
    let work = tempfile::tempdir().unwrap();
    let py = home("python3.11", work.path());
    let files = Command::new("find").arg(&py).args(["-type", "f"]).output().unwrap().stdout.iter().filter(|b| **b == b'\n').count();
    assert!(files > 1500, "a real home: {files} files");

    let (code, made) = capture(&repo, "py311-v1", &py, &["--series", "python", "--version", "3.11.2", "--type", "software"]);
    assert_eq!(code, 0, "{made:#}");
    let image = &made["image"];
    assert_eq!(image["files"], files as u64, "every regular file (both names of the hardlinked pair)");
    assert_eq!(made["job"]["kind"], "capture");
    assert_eq!(made["job"]["state"], "succeeded");
    assert!(image["created_by"].as_str().is_some_and(|by| by.contains('@')), "who captured it: {image:#}");
    assert_eq!(
        (image["state"].as_str(), image["series"].as_str(), image["current"].as_bool()),
        (Some("testable"), Some("python"), Some(true))
    );
    let stored_after_first = repo.objects().len();
    assert!(image["new_bytes"].as_u64().unwrap() <= image["size"].as_u64().unwrap(), "duplicates inside the home are stored once");
    consistent(&repo);

    // A testable image is provisioned only when asked for.
    let copy = work.path().join("copy");
    let (code, err) = provision(&repo, "py311-v1", &copy, &[]);
    assert_eq!(code, 1);
    assert_eq!(err["error"]["code"], "not_published");
    assert!(err["error"]["recovery"].as_str().unwrap().contains("--allow-unpublished"));
    let (code, _) = repo.json(["gold", "promote", "py311-v1", "published"]);
    assert_eq!(code, 0);
    let (code, done) = provision(&repo, "py311-v1", &copy, &[]);
    assert_eq!(code, 0, "{done:#}");
    assert_eq!(done["copy"]["path"], copy.display().to_string());
    same_tree(&py, &copy);
    assert_eq!(inode(&copy.join("site/start.sh")), inode(&copy.join("site/run.sh")), "the hardlink is a hardlink again");
    let hidden: Vec<_> =
        std::fs::read_dir(work.path()).unwrap().flatten().filter(|e| e.file_name().to_string_lossy().starts_with('.')).collect();
    assert!(hidden.is_empty(), "no hidden build folder is left: {hidden:?}");

    // The copy is as it was provisioned; then edited, removed, added, chmod-ed: check says what.
    let (code, same) = repo.json(["gold".as_ref(), "check".as_ref(), copy.as_os_str()]);
    assert_eq!((code, &same), (0, &serde_json::json!({"changed": [], "added": [], "removed": [], "mode_changed": []})));
    std::fs::write(copy.join("os.py"), "print('patched')\n").unwrap();
    std::fs::remove_file(copy.join("this.py")).unwrap();
    std::fs::write(copy.join("local.cfg"), "x=1\n").unwrap();
    Command::new("chmod").arg("0600").arg(copy.join("abc.py")).status().unwrap();
    let (code, drift) = repo.json(["gold".as_ref(), "check".as_ref(), copy.as_os_str()]);
    assert_eq!(code, 1, "drifted: exit 1");
    assert_eq!(
        drift,
        serde_json::json!({"changed": ["os.py"], "added": ["local.cfg"], "removed": ["this.py"], "mode_changed": ["abc.py"]})
    );

    // Version 2 of the home: one file changed. Only its bytes are stored.
    let patch = b"# a security fix\n";
    std::fs::write(py.join("ssl.py"), [std::fs::read(py.join("ssl.py")).unwrap(), patch.to_vec()].concat()).unwrap();
    let new_size = std::fs::metadata(py.join("ssl.py")).unwrap().len();
    let (code, v2) = capture(&repo, "py311-v2", &py, &["--series", "python", "--version", "3.11.2-1"]);
    assert_eq!(code, 0, "{v2:#}");
    assert_eq!(v2["image"]["new_bytes"], new_size, "only the changed file's bytes are new");
    assert_eq!(repo.objects().len(), stored_after_first + 1);
    let (_, diff) = repo.json(["gold", "diff", "py311-v1", "py311-v2"]);
    assert_eq!(diff, serde_json::json!({"changed": ["ssl.py"], "added": [], "removed": [], "mode_changed": []}));
    let (_, series) = repo.json(["series", "show", "python"]);
    let versions: Vec<&str> = series["images"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(versions, ["py311-v1", "py311-v2"]);
    assert_eq!(series["current"], "py311-v1", "the current image moves only when told");
    let (code, series) = repo.json(["series", "current", "python", "py311-v2"]);
    assert_eq!(code, 0, "{series:#}");
    let (_, series) = repo.json(["series", "show", "python"]);
    assert_eq!(series["current"], "py311-v2");

    // Delete and archive wait for the copies; forgetting the copy frees the image.
    for verb in ["delete", "archive"] {
        let (code, err) = repo.json(["gold", verb, "py311-v1"]);
        assert_eq!(code, 1);
        assert_eq!(err["error"]["code"], "in_use");
        assert!(err["error"]["text"].as_str().unwrap().contains(&copy.display().to_string()), "{err:#}");
    }
    let (code, _) = repo.json(["gold".as_ref(), "forget-copy".as_ref(), copy.as_os_str()]);
    assert_eq!(code, 0);
    let (code, _) = repo.json(["gold", "archive", "py311-v1"]);
    assert_eq!(code, 0);
    let (code, err) = provision(&repo, "py311-v1", &work.path().join("again"), &["--allow-unpublished"]);
    assert_eq!((code, err["error"]["code"].as_str()), (1, Some("image_archived")));
    let (code, _) = repo.json(["gold", "delete", "py311-v1"]);
    assert_eq!(code, 0);
    // v2 still needs almost every object; the one only v1 had is gone with it.
    assert_eq!(repo.objects().len(), stored_after_first);
    consistent(&repo);
}

#[test]
fn a_java_runtime_keeps_its_links_and_executables() {
    let repo = Repo::new();
    let work = tempfile::tempdir().unwrap();
    let jdk = home("jdk17", work.path());
    let (code, made) = capture(&repo, "jre17", &jdk, &["--type", "java-runtime"]);
    assert_eq!(code, 0, "{made:#}");
    assert_eq!(made["image"]["image_type"], "java-runtime");
    let copy = work.path().join("jre");
    let (code, done) = provision(&repo, "jre17", &copy, &["--allow-unpublished"]);
    assert_eq!(code, 0, "{done:#}");
    same_tree(&jdk, &copy);
    let (_, shown) = repo.json(["gold", "show", "jre17", "--files"]);
    let links = shown["entries"].as_array().unwrap().iter().filter(|e| e["kind"] == "symlink").count();
    assert!(links > 10, "links are recorded, not followed: {links}");
}

#[test]
fn what_a_gold_image_cannot_keep_is_refused_by_path_and_nothing_is_stored() {
    let repo = Repo::new();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("app");
    std::fs::create_dir_all(dir.join("run")).unwrap();
    std::fs::write(dir.join("app.conf"), "port=8080\n").unwrap();
    let fifo = dir.join("run/control.fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let (code, err) = capture(&repo, "app", &dir, &[]);
    assert_eq!(code, 1);
    assert_eq!(err["error"]["code"], "special_file");
    assert!(err["error"]["text"].as_str().unwrap().contains(&fifo.display().to_string()), "{err:#}");
    std::fs::remove_file(&fifo).unwrap();
    assert!(repo.objects().is_empty());
    let (_, list) = repo.json(["gold", "list"]);
    assert_eq!(list, serde_json::json!([]));

    // A target that is not empty is refused before anything is written.
    let (code, _) = capture(&repo, "app", &dir, &[]);
    assert_eq!(code, 0);
    let busy = work.path().join("busy");
    std::fs::create_dir(&busy).unwrap();
    std::fs::write(busy.join("keep.txt"), "mine").unwrap();
    let (code, err) = provision(&repo, "app", &busy, &["--allow-unpublished"]);
    assert_eq!((code, err["error"]["code"].as_str()), (1, Some("target_not_empty")));
    assert_eq!(std::fs::read_dir(&busy).unwrap().count(), 1);
    // The same name twice is refused; so is an empty existing folder accepted.
    let (code, err) = capture(&repo, "APP", &dir, &[]);
    assert_eq!((code, err["error"]["code"].as_str()), (1, Some("name_taken")));
    let empty = work.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let (code, _) = provision(&repo, "app", &empty, &["--allow-unpublished"]);
    assert_eq!(code, 0);
    assert_eq!(std::fs::read_to_string(empty.join("app.conf")).unwrap(), "port=8080\n");
}

#[test]
fn a_file_the_capture_cannot_read_is_named_and_nothing_is_stored() {
    let repo = Repo::new();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("db");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("readme"), "x").unwrap();
    std::fs::write(dir.join("wallet.p12"), "secret").unwrap();
    Command::new("chmod").arg("0000").arg(dir.join("wallet.p12")).status().unwrap();
    // root reads any file: the capture then runs as nobody, in a repository nobody may write.
    let root = unsafe { libc::geteuid() } == 0;
    let out = if root {
        for p in [work.path(), dir.as_path(), repo.home()] {
            Command::new("chmod").arg("0777").arg(p).status().unwrap();
        }
        Command::new("chmod").args(["-R", "a+rwX"]).arg(repo.home()).status().unwrap();
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(env!("CARGO_BIN_EXE_imagesmith-cli"))
            .arg("--home")
            .arg(repo.home())
            .args(["gold", "create", "db", "--from"])
            .arg(&dir)
            .arg("--json")
            .env("IMAGESMITH_LOG_DIR", work.path().join("logs"))
            .output()
            .unwrap()
    } else {
        repo.cmd().args(["gold", "create", "db", "--from"]).arg(&dir).arg("--json").output().unwrap()
    };
    let err: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(out.status.code(), Some(1), "{err:#}");
    let error = if err["error"].is_object() { &err["error"] } else { &err["job"]["error"] };
    assert_eq!(error["code"], "read_failed", "{err:#}");
    assert!(error["text"].as_str().unwrap().contains("wallet.p12"), "{err:#}");
    let (_, list) = repo.json(["gold", "list"]);
    assert_eq!(list, serde_json::json!([]));
    consistent(&repo);
}

#[test]
fn kill_9_during_capture_or_provision_leaves_no_image_no_stray_object_and_no_half_folder() {
    let repo = Repo::new();
    let work = tempfile::tempdir().unwrap();
    let py = home("python3.11", work.path());
    killed_at(&repo, "capture.before_commit", &["gold".as_ref(), "create".as_ref(), "py".as_ref(), "--from".as_ref(), py.as_os_str()]);
    let (code, list) = repo.json(["gold", "list"]);
    assert_eq!((code, list), (0, serde_json::json!([])), "no image");
    consistent(&repo);
    let (_, jobs) = repo.json(["jobs"]);
    assert_eq!(jobs[0]["state"], "interrupted");

    let (code, _) = capture(&repo, "py", &py, &[]);
    assert_eq!(code, 0);
    let copy = work.path().join("copy");
    killed_at(
        &repo,
        "provision.before_rename",
        &["gold".as_ref(), "provision".as_ref(), "py".as_ref(), "--to".as_ref(), copy.as_os_str(), "--allow-unpublished".as_ref()],
    );
    let (code, copies) = repo.json(["gold", "copies"]);
    assert_eq!((code, copies), (0, serde_json::json!([])), "no working copy recorded");
    let left: Vec<String> =
        std::fs::read_dir(work.path()).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    assert!(!left.iter().any(|n| n.starts_with(".copy")) && !copy.exists(), "the half-built copy was removed: {left:?}");
    consistent(&repo);
    // And the provision works afterwards.
    let (code, _) = provision(&repo, "py", &copy, &["--allow-unpublished"]);
    assert_eq!(code, 0);
    same_tree(&py, &copy);
}

#[test]
fn a_file_written_while_the_capture_reads_it_fails_the_capture_with_its_path() {
    let repo = Repo::new();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("oradata");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("init.ora"), "db_name=ORCL\n").unwrap();
    // A datafile big enough (sparse: quick to make) that hashing it takes a while.
    let datafile = dir.join("system01.dbf");
    std::fs::File::create(&datafile).unwrap().set_len(3 << 30).unwrap();
    let child =
        repo.cmd().args(["gold", "create", "orcl", "--json", "--from"]).arg(&dir).stdout(std::process::Stdio::piped()).spawn().unwrap();
    // Once the job runs, the walk is over: the database writes to its datafile now.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let (_, jobs) = repo.json(["jobs"]);
        if jobs
            .as_array()
            .unwrap_or_else(|| panic!("{jobs:#}\n{}", repo.log_text()))
            .iter()
            .any(|j| j["kind"] == "capture" && j["state"] == "running")
        {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the capture job never ran: {jobs:#}\n{}", repo.log_text());
        // Each look is a process that opens the repository: looking 50 times a second kept the
        // capture from its catalog for 30 s on a loaded 2-core CI machine (catalog_busy).
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    std::fs::OpenOptions::new().append(true).open(&datafile).unwrap().write_all(b"redo").unwrap();
    let out = child.wait_with_output().unwrap();
    let err: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{err:#}");
    assert_eq!(err["error"]["code"], "changed_during_capture", "{err:#}");
    assert!(err["error"]["text"].as_str().unwrap().contains("system01.dbf"), "{err:#}");
    let (_, list) = repo.json(["gold", "list"]);
    assert_eq!(list, serde_json::json!([]));
    consistent(&repo);
}

#[test]
fn an_exported_gold_image_is_a_reproducible_tar_gz_that_gnu_tar_and_sha256sum_accept() {
    let repo = Repo::new();
    let work = tempfile::tempdir().unwrap();
    let jdk = home("jdk17", work.path());
    let (code, _) = capture(&repo, "jre17", &jdk, &["--version", "17.0.21"]);
    assert_eq!(code, 0);
    let (out1, out2) = (work.path().join("out1"), work.path().join("out2"));
    for out in [&out1, &out2] {
        std::fs::create_dir(out).unwrap();
        let (code, report) = repo.json(["gold".as_ref(), "export".as_ref(), "jre17".as_ref(), "--to".as_ref(), out.as_os_str()]);
        assert_eq!(code, 0, "{report:#}");
        assert_eq!(report["file"], out.join("jre17.tar.gz").display().to_string());
    }
    assert_eq!(std::fs::read(out1.join("jre17.tar.gz")).unwrap(), std::fs::read(out2.join("jre17.tar.gz")).unwrap(), "reproducible");
    let check = Command::new("sha256sum").args(["-c", "jre17.tar.gz.sha256"]).current_dir(&out1).output().unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
    let unpacked = work.path().join("unpacked");
    std::fs::create_dir(&unpacked).unwrap();
    let ok = Command::new("tar").arg("-xzpf").arg(out1.join("jre17.tar.gz")).arg("-C").arg(&unpacked).status().unwrap();
    assert!(ok.success());
    let sums = Command::new("sha256sum").args(["-c", "--quiet", "SHA256SUMS"]).current_dir(&unpacked).output().unwrap();
    assert!(sums.status.success(), "{}", String::from_utf8_lossy(&sums.stdout));
    same_tree(&jdk, &unpacked.join("home"));
    assert_eq!(inode(&unpacked.join("home/site/start.sh")), inode(&unpacked.join("home/site/run.sh")), "hardlinks stay hardlinks");
    let manifest: Value = serde_json::from_slice(&std::fs::read(unpacked.join("gold.json")).unwrap()).unwrap();
    assert_eq!((manifest["format"].as_str(), manifest["version"].as_str()), (Some("imagesmith-gold/1"), Some("17.0.21")));
}

#[test]
fn a_zip_export_is_read_by_unzip_and_comes_back_as_the_same_image_links_and_times_included() {
    let repo = Repo::new();
    let work = tempfile::tempdir().unwrap();
    let jdk = home("jdk17", work.path());
    let (code, _) = capture(&repo, "jre17", &jdk, &["--version", "17.0.21"]);
    assert_eq!(code, 0);
    let (out1, out2) = (work.path().join("out1"), work.path().join("out2"));
    for out in [&out1, &out2] {
        std::fs::create_dir(out).unwrap();
        let (code, report) = repo.json([
            "gold".as_ref(),
            "export".as_ref(),
            "jre17".as_ref(),
            "--to".as_ref(),
            out.as_os_str(),
            "--format".as_ref(),
            "zip".as_ref(),
        ]);
        assert_eq!(code, 0, "{report:#}");
        assert_eq!(report["file"], out.join("jre17.zip").display().to_string());
        assert_eq!(report["size"], std::fs::metadata(out.join("jre17.zip")).unwrap().len());
    }
    assert_eq!(std::fs::read(out1.join("jre17.zip")).unwrap(), std::fs::read(out2.join("jre17.zip")).unwrap(), "reproducible");
    let check = Command::new("sha256sum").args(["-c", "jre17.zip.sha256"]).current_dir(&out1).output().unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
    // Info-ZIP's unzip reads it: every sum matches, links are links, modes kept.
    let unpacked = work.path().join("unpacked");
    let ok = Command::new("unzip").arg("-q").arg(out1.join("jre17.zip")).arg("-d").arg(&unpacked).status().unwrap();
    assert!(ok.success());
    let sums = Command::new("sha256sum").args(["-c", "--quiet", "SHA256SUMS"]).current_dir(&unpacked).output().unwrap();
    assert!(sums.status.success(), "{}", String::from_utf8_lossy(&sums.stdout));
    let diff = Command::new("diff").args(["-r", "--no-dereference"]).arg(&jdk).arg(unpacked.join("home")).output().unwrap();
    assert!(diff.status.success(), "diff -r: {}", String::from_utf8_lossy(&diff.stdout));
    let files_only = |d: &Path| listing(d).into_iter().filter(|l| !l.contains(" d ")).collect::<Vec<_>>();
    assert_eq!(files_only(&jdk), files_only(&unpacked.join("home")), "file and link types, modes and targets");

    // Imported into another repository it is the same image: the hardlink pair a zip carries as
    // two copies is one file with two names again, and gold.json's exact times are back.
    let target = Repo::new();
    let zip = out1.join("jre17.zip");
    let (code, made) = target.json(["gold".as_ref(), "import".as_ref(), zip.as_os_str(), "--name".as_ref(), "jre17".as_ref()]);
    assert_eq!(code, 0, "{made:#}");
    let files = |repo: &Repo| repo.json(["gold", "show", "jre17", "--files"]).1["entries"].clone();
    assert_eq!(files(&repo), files(&target), "the same manifest: paths, modes, digests, links, times");
    let provisioned = work.path().join("copy");
    let (code, _) = provision(&target, "jre17", &provisioned, &["--allow-unpublished"]);
    assert_eq!(code, 0);
    assert_eq!(inode(&provisioned.join("site/start.sh")), inode(&provisioned.join("site/run.sh")));

    // A file slipped into the zip that neither SHA256SUMS nor gold.json lists is refused.
    let slipped = work.path().join("slipped.zip");
    std::fs::copy(&zip, &slipped).unwrap();
    let program = "import zipfile, sys\nz = zipfile.ZipFile(sys.argv[1], 'a')\nz.writestr('home/bin/extra', 'x')\nz.close()\n";
    assert!(Command::new("python3").arg("-c").arg(program).arg(&slipped).status().unwrap().success());
    let fresh = Repo::new();
    let (code, err) = fresh.json(["gold".as_ref(), "import".as_ref(), slipped.as_os_str(), "--name".as_ref(), "x".as_ref()]);
    assert_eq!((code, err["error"]["code"].as_str()), (1, Some("unsafe_archive")), "{err:#}");
    assert!(err["error"]["text"].as_str().unwrap().contains("home/bin/extra"), "{err:#}");
    assert!(fresh.objects().is_empty() && fresh.staging_files().is_empty());
}

#[test]
fn an_export_imported_into_another_repository_is_the_same_image_and_any_home_tar_gz_is_taken_too() {
    let source = Repo::new();
    let work = tempfile::tempdir().unwrap();
    let py = home("python3.11", work.path());
    let (code, _) = capture(&source, "py311", &py, &["--version", "3.11.2", "--type", "software"]);
    assert_eq!(code, 0);
    let out = work.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let (code, _) = source.json(["gold".as_ref(), "export".as_ref(), "py311".as_ref(), "--to".as_ref(), out.as_os_str()]);
    assert_eq!(code, 0);

    let target = Repo::new();
    let archive = out.join("py311.tar.gz");
    let (code, made) = target.json(["gold".as_ref(), "import".as_ref(), archive.as_os_str(), "--name".as_ref(), "py311".as_ref()]);
    assert_eq!(code, 0, "{made:#}");
    assert_eq!(made["image"]["version"], "3.11.2", "defaults from gold.json");
    assert_eq!(made["image"]["source"], archive.display().to_string());
    let files = |repo: &Repo| repo.json(["gold", "show", "py311", "--files"]).1["entries"].clone();
    assert_eq!(files(&source), files(&target), "the same manifest: paths, modes, digests, links, times");
    assert!(target.staging_files().is_empty(), "the unpacked archive is gone from staging");

    // A plain tar.gz of a home (its one top folder is the home).
    let plain = work.path().join("home.tar.gz");
    let ok = Command::new("tar").arg("-czf").arg(&plain).arg("-C").arg(work.path()).arg("python3.11").status().unwrap();
    assert!(ok.success());
    let (code, made) = target.json(["gold".as_ref(), "import".as_ref(), plain.as_os_str(), "--name".as_ref(), "py-plain".as_ref()]);
    assert_eq!(code, 0, "{made:#}");
    assert_eq!(made["image"]["new_bytes"], 0, "every byte was there already");
    let (_, diff) = target.json(["gold", "diff", "py311", "py-plain"]);
    assert_eq!(diff["changed"], serde_json::json!([]), "{diff:#}");

    // A damaged export fails its SHA256SUMS and leaves nothing.
    let bad = work.path().join("bad");
    std::fs::create_dir(&bad).unwrap();
    let unpacked = work.path().join("unpacked");
    std::fs::create_dir(&unpacked).unwrap();
    assert!(Command::new("tar").arg("-xzpf").arg(&archive).arg("-C").arg(&unpacked).status().unwrap().success());
    std::fs::write(unpacked.join("home/os.py"), "tampered\n").unwrap();
    let tampered = bad.join("py311.tar.gz");
    assert!(Command::new("tar").arg("-czf").arg(&tampered).arg("-C").arg(&unpacked).arg(".").status().unwrap().success());
    let fresh = Repo::new();
    let (code, err) = fresh.json(["gold".as_ref(), "import".as_ref(), tampered.as_os_str(), "--name".as_ref(), "x".as_ref()]);
    assert_eq!(code, 1);
    assert_eq!(err["error"]["code"], "checksum_mismatch", "{err:#}");
    assert!(fresh.objects().is_empty() && fresh.staging_files().is_empty());
}

#[test]
fn hostile_home_archives_are_refused_and_nothing_is_written_outside_staging() {
    let work = tempfile::tempdir().unwrap();
    let cases = [
        ("climb", "add('../evil.txt')", "climbs out"),
        ("absolute", "add('/tmp/imagesmith-gold-abs.txt')", "climbs out"),
        ("through-link", "add('lib', type=tarfile.SYMTYPE, linkname='/tmp')\nadd('lib/imagesmith-gold-through.txt')", "written through"),
        ("hardlink-out", "add('passwd', type=tarfile.LNKTYPE, linkname='../../../../etc/passwd')", "hard link"),
        ("fifo", "add('run/ctl', type=tarfile.FIFOTYPE)", "named pipe"),
        ("device", "add('dev/sda', type=tarfile.BLKTYPE)", "device"),
    ];
    for (name, script, says) in cases {
        let path = work.path().join(format!("{name}.tar.gz"));
        let program = format!(
            "import tarfile, io, sys\ntf = tarfile.open(sys.argv[1], 'w:gz')\n\
def add(name, data=b'x', **kw):\n    ti = tarfile.TarInfo(name); ti.size = len(data)\n    for k, v in kw.items(): setattr(ti, k, v)\n    if not ti.isreg(): ti.size = 0\n    tf.addfile(ti, io.BytesIO(data) if ti.isreg() else None)\n\
add('ok.txt')\n{script}\ntf.close()\n"
        );
        assert!(Command::new("python3").arg("-c").arg(program).arg(&path).status().unwrap().success(), "python3 built {name}");
        let repo = Repo::new();
        let (code, err) = repo.json(["gold".as_ref(), "import".as_ref(), path.as_os_str(), "--name".as_ref(), name.as_ref()]);
        assert_eq!(code, 1, "{name}: {err:#}");
        assert_eq!(err["error"]["code"], "unsafe_archive", "{name}: {err:#}");
        assert!(err["error"]["text"].as_str().unwrap().contains(says), "{name}: {err:#}");
        assert!(repo.staging_files().is_empty() && repo.objects().is_empty(), "{name}: nothing kept");
        let (_, list) = repo.json(["gold", "list"]);
        assert_eq!(list, serde_json::json!([]));
    }
    assert!(!work.path().join("evil.txt").exists() && !Path::new("/tmp/imagesmith-gold-abs.txt").exists());
    assert!(!Path::new("/tmp/imagesmith-gold-through.txt").exists(), "nothing was written through the link");
}

#[test]
fn a_zip_of_a_home_is_taken_as_fpp_takes_one_with_its_modes_and_links() {
    let repo = Repo::new();
    let work = tempfile::tempdir().unwrap();
    let py = home("python3.11", work.path());
    let (code, _) = capture(&repo, "from-folder", &py, &[]);
    assert_eq!(code, 0);
    // Info-ZIP, as admins make them: -r recursive, -y links as links, -X no extra owner fields.
    let zip = work.path().join("home.zip");
    let ok = Command::new("zip").args(["-qryX"]).arg(&zip).arg(".").current_dir(&py).status().unwrap();
    assert!(ok.success());
    let (code, made) = repo.json(["gold".as_ref(), "import".as_ref(), zip.as_os_str(), "--name".as_ref(), "from-zip".as_ref()]);
    assert_eq!(code, 0, "{made:#}");
    assert_eq!(made["image"]["new_bytes"], 0, "the same bytes: nothing new to store");
    let (_, diff) = repo.json(["gold", "diff", "from-folder", "from-zip"]);
    // zip keeps hardlinks as two files: only their link record differs, not content or mode.
    assert_eq!(diff, serde_json::json!({"changed": [], "added": [], "removed": [], "mode_changed": []}), "{diff:#}");
    let (_, shown) = repo.json(["gold", "show", "from-zip", "--files"]);
    let link = shown["entries"].as_array().unwrap().iter().find(|e| e["path"] == "site/latest").unwrap().clone();
    assert_eq!((link["kind"].as_str(), link["target"].as_str()), (Some("symlink"), Some("../site/start.sh")));
    let script = shown["entries"].as_array().unwrap().iter().find(|e| e["path"] == "site/start.sh").unwrap().clone();
    assert_eq!(script["mode"], 0o750);

    // A zip member climbing out is refused like a tar one.
    let evil = work.path().join("evil.zip");
    let program = "import zipfile, sys\nz = zipfile.ZipFile(sys.argv[1], 'w')\nz.writestr('ok.txt', 'x')\nz.writestr('../../evil.txt', 'x')\nz.close()\n";
    assert!(Command::new("python3").arg("-c").arg(program).arg(&evil).status().unwrap().success());
    let (code, err) = repo.json(["gold".as_ref(), "import".as_ref(), evil.as_os_str(), "--name".as_ref(), "evil".as_ref()]);
    assert_eq!((code, err["error"]["code"].as_str()), (1, Some("unsafe_archive")), "{err:#}");
    assert!(!work.path().parent().unwrap().join("evil.txt").exists());
}

#[test]
fn verify_re_hashes_the_files_of_gold_images_and_names_a_damaged_one() {
    let repo = Repo::new();
    let work = tempfile::tempdir().unwrap();
    let jdk = home("jdk17", work.path());
    let (code, _) = capture(&repo, "jre17", &jdk, &[]);
    assert_eq!(code, 0);
    let (code, clean) = repo.json(["verify"]);
    assert_eq!(code, 0, "{clean:#}");
    assert_eq!((clean["gold"][0]["image"].as_str(), clean["gold"][0]["outcome"].as_str()), (Some("jre17"), Some("verified")), "{clean:#}");
    let (_, shown) = repo.json(["gold", "show", "jre17", "--files"]);
    let distinct: std::collections::HashSet<&str> =
        shown["entries"].as_array().unwrap().iter().filter_map(|e| e["sha256"].as_str()).collect();
    assert_eq!(clean["gold"][0]["files"].as_u64(), Some(distinct.len() as u64), "every stored file of the home was hashed once");

    // Damage one stored file of the image (a bad sector, an edit under objects/).
    let entry = shown["entries"].as_array().unwrap().iter().find(|e| e["path"] == "site/start.sh").unwrap().clone();
    let sha = entry["sha256"].as_str().unwrap().to_string();
    let object = repo.objects().into_iter().find(|p| p.to_string_lossy().ends_with(&sha[2..])).expect("the object file");
    let mut perms = std::fs::metadata(&object).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o644);
    std::fs::set_permissions(&object, perms).unwrap();
    std::fs::write(&object, "#!/bin/sh\nexec rm -rf /\n").unwrap();

    let (code, report) = repo.json(["verify"]);
    assert_eq!(code, 1, "{report:#}");
    let gold = &report["gold"][0];
    assert_eq!(gold["outcome"], "failed", "{report:#}");
    assert_eq!(gold["error"]["code"], "object_corrupted", "{report:#}");
    assert!(
        gold["error"]["text"].as_str().unwrap().contains("site/run.sh in gold image jre17"),
        "the first name of those bytes (run.sh, start.sh are hardlinks): {report:#}"
    );
    // A provision refuses the damaged bytes rather than writing them into a working copy.
    let (code, err) = provision(&repo, "jre17", &work.path().join("copy"), &["--allow-unpublished"]);
    assert_eq!(code, 1, "{err:#}");
    assert!(!work.path().join("copy").exists(), "no half copy");
}

/// On a team repository (real PostgreSQL and SeaweedFS): one desktop captures a home — its bytes go
/// to the team's bucket, once — and another, whose cache has none of them, provisions the same tree
/// fetched from the bucket; a whole verify re-hashes the bucket's copies of the image's files; an
/// export imported on the other desktop sends nothing; a deleted image leaves its bytes in the
/// bucket for the grace period (tombstones).
#[test]
fn on_a_team_repository_a_home_captured_on_one_desktop_is_provisioned_on_another() {
    use team_common::{two_desks, uploads_logged, Db};
    let db = Db::new();
    let (a, b) = two_desks(&db);
    let work = tempfile::tempdir().unwrap();
    let py = home("python3.11", work.path());
    let (code, made) = a.json(&["--repo", "team", "gold", "create", "py311", "--from", py.to_str().unwrap()]);
    assert_eq!(code, 0, "{made:#}");
    let objects: usize = db.sql("SELECT count(*) FROM objects").parse().unwrap();
    assert!(objects > 10, "the home's files are the team's objects: {objects}");
    assert_eq!(uploads_logged(&a), objects, "each sent once");
    assert_eq!(db.sql("SELECT count(*) FROM uploads"), "0", "every upload settled with its rows");

    // The same home again on the other desktop: nothing new to send.
    let (code, again) = b.json(&["--repo", "team", "gold", "create", "py311-again", "--from", py.to_str().unwrap()]);
    assert_eq!((code, again["image"]["new_bytes"].as_u64()), (0, Some(0)), "{again:#}");
    assert_eq!(uploads_logged(&b), 0);

    let copy = work.path().join("copy");
    let (code, done) = b.json(&["--repo", "team", "gold", "provision", "py311", "--to", copy.to_str().unwrap(), "--allow-unpublished"]);
    assert_eq!(code, 0, "{done:#}");
    same_tree(&py, &copy);
    assert_eq!(inode(&copy.join("site/start.sh")), inode(&copy.join("site/run.sh")), "the hardlink is a hardlink again");

    let (code, verified) = b.json(&["--repo", "team", "verify"]);
    assert_eq!(code, 0, "{verified:#}");
    assert!(verified["gold"].as_array().unwrap().iter().all(|g| g["outcome"] == "verified"), "{verified:#}");

    // Exported on one desktop (its files fetched where its cache lacks them), imported on the other
    // as a new image: every byte is the team's already, nothing is sent.
    let out = work.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let (code, exported) = b.json(&["--repo", "team", "gold", "export", "py311", "--to", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{exported:#}");
    let (code, imported) =
        a.json(&["--repo", "team", "gold", "import", out.join("py311.tar.gz").to_str().unwrap(), "--name", "py311-imported"]);
    assert_eq!((code, imported["image"]["new_bytes"].as_u64()), (0, Some(0)), "{imported:#}");
    let (code, _) = a.json(&["--repo", "team", "gold", "delete", "py311-imported"]);
    assert_eq!(code, 0);

    let (code, _) = b.json(&["--repo", "team", "gold", "delete", "py311-again"]);
    assert_eq!(code, 0);
    let (code, _) = b.json(&["--repo", "team", "gold", "forget-copy", copy.to_str().unwrap()]);
    assert_eq!(code, 0);
    let (code, _) = b.json(&["--repo", "team", "gold", "delete", "py311"]);
    assert_eq!(code, 0);
    assert_eq!(db.sql("SELECT count(*) FROM objects"), "0");
    assert_eq!(db.sql("SELECT count(*) FROM object_tombstones"), objects.to_string(), "the bytes wait out the grace period");
}

/// A small real home for tests that move every byte over the network: Python's `json` and
/// `tomllib` packages, with a hardlinked pair, a relative link and an executable script.
fn small_home(into: &Path) -> PathBuf {
    let dir = into.join("app");
    std::fs::create_dir(&dir).unwrap();
    for pkg in ["json", "tomllib"] {
        let ok = Command::new("cp").arg("-a").arg(fixtures().join("homes/python3.11").join(pkg)).arg(&dir).status().unwrap();
        assert!(ok.success());
    }
    std::fs::create_dir(dir.join("site")).unwrap();
    std::fs::write(dir.join("site/start.sh"), "#!/bin/sh\nexec python3 -m json.tool\n").unwrap();
    Command::new("chmod").arg("0750").arg(dir.join("site/start.sh")).status().unwrap();
    std::fs::hard_link(dir.join("site/start.sh"), dir.join("site/run.sh")).unwrap();
    std::os::unix::fs::symlink("../site/start.sh", dir.join("site/latest")).unwrap();
    dir
}

/// `repo push` and `repo pull` of gold images (issue 18): a series of two versions captured on one
/// desktop goes to the team repository with its order, states, current image and author, each
/// file's bytes sent once; another desktop provisions the same tree from the team and pulls the
/// series for offline work, where verify re-hashes it; a second push sends nothing; a team image
/// of the same name with other files is refused and nothing is sent.
#[test]
fn gold_images_and_series_are_pushed_to_a_team_and_pulled_back_with_each_file_sent_once() {
    use team_common::{two_desks, uploads_logged, Db};
    // A team database that sorts text as en-US does, unlike the local catalog's byte order.
    let db = Db::english();
    let (a, b) = two_desks(&db);
    let work = tempfile::tempdir().unwrap();
    let app = small_home(work.path());
    std::fs::write(app.join("site/README"), "Start with site/install.sh.\n").unwrap();
    std::fs::write(app.join("site/install.sh"), "#!/bin/sh\n").unwrap();
    let local = |args: &[&str]| {
        let (code, v) = a.json(&[&["--repo", "local"][..], args].concat());
        assert_eq!(code, 0, "{args:?}: {v:#}");
        v
    };
    let from = app.to_str().unwrap();
    local(&["gold", "create", "app-1", "--from", from, "--series", "app", "--version", "1"]);
    let first = work.path().join("first");
    local(&["gold", "provision", "app-1", "--to", first.to_str().unwrap(), "--allow-unpublished"]);
    std::fs::write(app.join("json/extra.py"), "EXTRA = True\n").unwrap();
    local(&["gold", "create", "app-2", "--from", from, "--series", "app", "--version", "2"]);
    local(&["gold", "promote", "app-2", "published"]);
    local(&["series", "current", "app", "app-2"]);
    let made_by = local(&["gold", "show", "app-2"])["created_by"].clone();
    let files: usize = Command::new("find")
        .arg(&app)
        .args(["-type", "f", "-links", "1"])
        .output()
        .unwrap()
        .stdout
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .count()
        + 1;
    assert!(files >= 10, "json, tomllib, the script and the new file: {files}");

    let (code, pushed) = a.json(&["--repo", "team", "repo", "push", "--gold", "app"]);
    assert_eq!((code, pushed["job"]["summary"].as_str()), (0, Some("2 copied")), "{pushed:#}");
    assert_eq!(pushed["items"][0]["what"], "gold", "{pushed:#}");
    assert_eq!(uploads_logged(&a), files, "each distinct file of both versions sent once");
    let (_, series) = b.json(&["--repo", "team", "series", "show", "app"]);
    let names: Vec<&str> = series["images"].as_array().unwrap().iter().map(|g| g["name"].as_str().unwrap()).collect();
    assert_eq!((names, series["current"].as_str()), (vec!["app-1", "app-2"], Some("app-2")), "{series:#}");
    let (_, shown) = b.json(&["--repo", "team", "gold", "show", "app-2"]);
    assert_eq!((shown["state"].as_str(), shown["version"].as_str()), (Some("published"), Some("2")), "{shown:#}");
    assert_eq!(shown["created_by"], made_by, "{shown:#}");
    assert_eq!(shown["copies"], serde_json::json!([]), "working copies stay on the desktop that made them");

    // Another desktop provisions from the team: the same tree, fetched from the bucket.
    let copy = work.path().join("copy");
    let (code, done) = b.json(&["--repo", "team", "gold", "provision", "app-2", "--to", copy.to_str().unwrap()]);
    assert_eq!(code, 0, "{done:#}");
    same_tree(&app, &copy);

    // Everything again: the gold images are there, nothing is sent.
    let (code, again) = a.json(&["--repo", "team", "repo", "push"]);
    assert_eq!((code, again["job"]["summary"].as_str()), (0, Some("2 already there")), "{again:#}");
    assert_eq!(uploads_logged(&a), files);

    // Offline on the other desktop: the series comes whole, verifies, and provisions version 1.
    let (code, pulled) = b.json(&["--repo", "team", "repo", "pull", "--gold", "app"]);
    assert_eq!(
        (code, pulled["job"]["kind"].as_str(), pulled["job"]["summary"].as_str()),
        (0, Some("pull"), Some("2 copied")),
        "{pulled:#}"
    );
    let (code, verified) = b.json(&["--repo", "local", "verify"]);
    assert_eq!(code, 0, "{verified:#}");
    assert_eq!(verified["gold"].as_array().unwrap().len(), 2, "{verified:#}");
    assert!(verified["gold"].as_array().unwrap().iter().all(|g| g["outcome"] == "verified"), "{verified:#}");
    let (_, mine) = b.json(&["--repo", "local", "series", "show", "app"]);
    assert_eq!(mine["current"], "app-2", "{mine:#}");
    let old = work.path().join("old");
    let (code, done) = b.json(&["--repo", "local", "gold", "provision", "app-1", "--to", old.to_str().unwrap(), "--allow-unpublished"]);
    assert_eq!(code, 0, "{done:#}");
    same_tree(&first, &old);

    // A team image of the same name with other files is never overwritten; nothing is sent.
    std::fs::write(app.join("json/extra.py"), "EXTRA = False\n").unwrap();
    local(&["gold", "create", "other", "--from", from]);
    let (code, _) = b.json(&["--repo", "team", "gold", "create", "other", "--from", first.to_str().unwrap()]);
    assert_eq!(code, 0);
    let (code, refused) = a.json(&["--repo", "team", "repo", "push", "--gold", "other"]);
    let it = &refused["items"][0];
    assert_eq!((code, it["outcome"].as_str(), it["error"]["code"].as_str()), (1, Some("failed"), Some("name_taken")), "{refused:#}");
    assert_eq!(uploads_logged(&a), files, "nothing sent for a refused image");
}
