//! A lost or damaged object never locks the user out: the artifact stays, marked, and heals on re-import.
//!
//! A reboot cannot be staged in a test: `IMAGESMITH_BOOT_ID` stands in for the kernel's boot id. It is
//! process-wide, so the tests in this file take turns (`BOOT` lock).

use imagesmith_engine::{CancelToken, DataLayout, Engine, ImportItem, ImportRequest, Kind, Outcome};
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
    let req = ImportRequest { items: files.iter().map(|f| ImportItem { path: f.clone(), ..Default::default() }).collect(), checksum_files: vec![] };
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
        engine.create_profile("rhel9-web", "rhel-9.6-x86_64-dvd.iso", "").unwrap();
        engine.add_to_profile("rhel9-web", &["ks.cfg".to_string()]).unwrap();
        let sha = |i: usize| report.items[i].artifact.as_ref().unwrap().sha256.clone();
        (sha(0), sha(1), report.job.id)
    };
    // The power went out before writeback: one file never reached the disk, another is garbage.
    std::fs::remove_file(object_path(home, &ks_sha)).unwrap();
    let iso = object_path(home, &iso_sha);
    let mut perms = std::fs::metadata(&iso).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&iso, perms).unwrap();
    let mut bytes = std::fs::read(&iso).unwrap();
    bytes[40_000] ^= 0xff;
    std::fs::write(&iso, bytes).unwrap();

    let _guard = boot("after-power-loss", Some(guard));
    let engine = Engine::open(DataLayout::new(home)).expect("the repository opens after losing objects a profile uses");
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
}
