//! A lost or damaged object never locks the user out: the artifact stays, marked, and heals on re-import.
//!
//! A reboot cannot be staged in a test: `IMAGESMITH_BOOT_ID` stands in for the kernel's boot id. It is
//! process-wide, so the tests in this file take turns (`BOOT` lock).

use imagesmith_engine::{ArtifactState, CancelToken, DataLayout, Engine, ImportItem, ImportRequest, Kind, Outcome};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard, OnceLock};

static BOOT: Mutex<()> = Mutex::new(());

/// Act out the machine's boot (held until the test ends, so no other test changes it meanwhile).
fn boot(id: &str, guard: Option<MutexGuard<'static, ()>>) -> MutexGuard<'static, ()> {
    let guard = guard.unwrap_or_else(|| BOOT.lock().unwrap_or_else(|p| p.into_inner()));
    std::env::set_var("IMAGESMITH_BOOT_ID", id);
    guard
}

/// The real fixture files, built once by scripts/fixtures.sh (a no-op when current).
fn fixture(name: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let dir = std::env::var_os("IMAGESMITH_FIXTURES").map(PathBuf::from).unwrap_or_else(|| root.join("target/fixtures"));
        let status = Command::new(root.join("scripts/fixtures.sh")).arg(&dir).status().expect("run scripts/fixtures.sh");
        assert!(status.success(), "scripts/fixtures.sh failed; run `make fixtures` to see why");
        dir
    });
    dir.join(name)
}

fn import(engine: &Engine, files: &[PathBuf]) -> imagesmith_engine::ImportReport {
    let req = ImportRequest {
        items: files.iter().map(|f| ImportItem { path: f.clone(), ..Default::default() }).collect(),
        checksum_files: vec![],
        ..Default::default()
    };
    engine.import(&req, &CancelToken::new(), &|_| {}).unwrap()
}

fn object_path(home: &Path, sha: &str) -> PathBuf {
    home.join("objects/sha256").join(&sha[..2]).join(&sha[2..])
}

#[test]
fn a_lost_object_used_by_a_profile_does_not_stop_the_repository_from_opening() {
    let guard = boot("before-power-loss", None);
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let (iso_sha, ks_sha, job) = {
        let engine = Engine::open(DataLayout::new(home)).unwrap();
        let report = import(&engine, &[fixture("rhel-9.6-x86_64-dvd.iso"), fixture("ks.cfg")]);
        assert!(report.items.iter().all(|i| i.outcome == Outcome::Imported), "{report:#?}");
        engine.create_profile("rhel9-web", "rhel-9.6-x86_64-dvd.iso", "", None).unwrap();
        engine.add_to_profile("rhel9-web", &["ks.cfg".to_string()]).unwrap();
        let sha = |i: usize| report.items[i].artifact.as_ref().unwrap().sha256.clone();
        (sha(0), sha(1), report.job.id)
    };
    // The power went out before writeback: one file never reached the disk, another is garbage.
    std::fs::remove_file(object_path(home, &ks_sha)).unwrap();
    let iso = object_path(home, &iso_sha);
    flip_byte(&iso);

    let _guard = boot("after-power-loss", Some(guard));
    let engine = Engine::open(DataLayout::new(home)).expect("the repository opens after losing objects a profile uses");
    // The recovery job (the app runs it in the background, the CLI before its command) re-hashes
    // what the earlier boot never settled.
    let recovered = engine.recover(&imagesmith_engine::CancelToken::new(), &|_| {}).unwrap().expect("a recovery is due");
    assert_eq!(recovered.lost.len(), 2, "{recovered:?}");
    let list = engine.list_artifacts(&Default::default()).unwrap();
    let names: Vec<&str> = list.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["ks.cfg", "rhel-9.6-x86_64-dvd.iso"], "both artifacts stay in the catalog");
    let profile = engine.get_profile("rhel9-web").expect("the profile still opens");
    assert_eq!(profile.members.len(), 1);
    assert_eq!(profile.base.name, "rhel-9.6-x86_64-dvd.iso");
    let detail = engine.get_job(job).unwrap();
    assert_eq!(detail.job.state.as_str(), "failed", "the import's job says its files were lost");
    assert!(detail.items.iter().all(|i| i.error.as_ref().is_some_and(|e| e.code == "object_lost")), "{:#?}", detail.items);
    assert_eq!(list[0].kind, Kind::Unattend);
    assert_eq!((list[0].state, list[1].state), (ArtifactState::Missing, ArtifactState::Damaged));
    assert_eq!(profile.base_state, ArtifactState::Damaged, "the profile says its base image is damaged");
    assert_eq!(profile.members[0].state, ArtifactState::Missing, "and its answer file missing");

    // Importing the same bytes again heals both: same artifacts, same profile, good copies.
    let report = import(&engine, &[fixture("rhel-9.6-x86_64-dvd.iso"), fixture("ks.cfg")]);
    for item in &report.items {
        assert_eq!(item.outcome, Outcome::Imported, "{item:#?}");
        let a = item.artifact.as_ref().unwrap();
        assert_eq!(a.state, ArtifactState::Ok);
        assert!(list.iter().any(|old| old.id == a.id), "the artifact it heals, not a new one");
    }
    assert_eq!(engine.count_artifacts(&Default::default()).unwrap(), 2);
    let profile = engine.get_profile("rhel9-web").unwrap();
    assert_eq!((profile.base_state, profile.members[0].state), (ArtifactState::Ok, ArtifactState::Ok));
    let verify = engine.verify(&[], &CancelToken::new(), &|_| {}).unwrap();
    assert_eq!(verify.job.state.as_str(), "succeeded", "{verify:#?}");
    drop(engine);
    // The healed copies are new writes of this boot: after another reboot they are re-hashed and stay ok.
    let _guard = boot("third-boot", Some(_guard));
    let engine = Engine::open(DataLayout::new(home)).unwrap();
    assert!(engine.list_artifacts(&Default::default()).unwrap().iter().all(|a| a.state == ArtifactState::Ok));
}

/// Flip one byte of a stored (read-only) object, as a disk error would.
fn flip_byte(path: &Path) {
    let mut perms = std::fs::metadata(path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(path, perms).unwrap();
    let mut bytes = std::fs::read(path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn verify_marks_damaged_and_missing_objects_and_ok_again_when_they_hash_fine() {
    let _guard = boot("one-boot", None);
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(DataLayout::new(dir.path())).unwrap();
    let report = import(&engine, &[fixture("ks.cfg"), fixture("post-install.sh")]);
    let sha = |i: usize| report.items[i].artifact.as_ref().unwrap().sha256.clone();
    let (ks, script) = (object_path(dir.path(), &sha(0)), object_path(dir.path(), &sha(1)));
    let good = std::fs::read(&ks).unwrap();
    flip_byte(&ks);
    let saved = std::fs::read(&script).unwrap();
    std::fs::remove_file(&script).unwrap();

    let v = engine.verify(&[], &CancelToken::new(), &|_| {}).unwrap();
    assert_eq!(v.job.state.as_str(), "failed");
    let state = |name: &str| engine.get_artifact(name).unwrap().state;
    assert_eq!((state("ks.cfg"), state("post-install.sh")), (ArtifactState::Damaged, ArtifactState::Missing));

    // The copies come back (a disk reattached, a file restored by hand): verify says ok again.
    std::fs::write(&ks, good).unwrap();
    std::fs::write(&script, saved).unwrap();
    let v = engine.verify(&[], &CancelToken::new(), &|_| {}).unwrap();
    assert_eq!(v.job.state.as_str(), "succeeded", "{v:#?}");
    assert_eq!((state("ks.cfg"), state("post-install.sh")), (ArtifactState::Ok, ArtifactState::Ok));
}

#[test]
fn orphan_objects_are_removed_by_verify_and_by_an_open_after_a_process_died() {
    let _guard = boot("one-boot", None);
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let engine = Engine::open(DataLayout::new(home)).unwrap();
    import(&engine, &[fixture("ks.cfg")]);
    // As an import killed between its rename into objects/ and COMMIT leaves it.
    let orphan = |sha: &str| {
        let p = object_path(home, sha);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, sha).unwrap();
        p
    };
    let a = orphan(&"ab".repeat(32));
    let stray = home.join("objects/sha256/ab/notes.txt"); // not an object name: not ours to remove
    std::fs::write(&stray, "kept").unwrap();
    let v = engine.verify(&[], &CancelToken::new(), &|_| {}).unwrap();
    assert_eq!(v.orphans, ["ab".repeat(32)]);
    assert!(!a.exists() && stray.exists());
    assert_eq!(v.job.state.as_str(), "succeeded", "an orphan is cleaned up, not a failure");

    // A process that died leaves its staging folder; the next open then removes orphans.
    let b = orphan(&"cd".repeat(32));
    std::fs::create_dir(home.join("staging/4242-00000000deadbeef")).unwrap();
    drop(engine);
    let engine = Engine::open(DataLayout::new(home)).unwrap();
    assert!(!b.exists(), "the open after a dead session removed the orphan");
    assert_eq!(engine.get_artifact("ks.cfg").unwrap().state, ArtifactState::Ok, "what rows name stays");
}
