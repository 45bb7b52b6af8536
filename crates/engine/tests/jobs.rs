//! Every job kind runs on the one runner: the app gets the job id while the work still runs, and a
//! request that can be refused is refused before a job row exists.

mod common;

use common::fixture;

use imagesmith_engine::export::ExportRequest;
use imagesmith_engine::{CancelToken, DataLayout, Engine, ImportItem, ImportRequest, JobKind, JobProgress, JobQuery, JobState};
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A sink that holds the job's first tick until the test lets it go: the job cannot end before.
fn held_sink() -> (imagesmith_engine::ProgressSink, mpsc::Sender<()>) {
    let (tx, rx) = mpsc::channel::<()>();
    let rx = Mutex::new(Some(rx));
    let sink = Box::new(move |_: &JobProgress| {
        if let Some(rx) = rx.lock().unwrap().take() {
            let _ = rx.recv_timeout(Duration::from_secs(30));
        }
    });
    (sink, tx)
}

/// Spawn `work`, check the id came back with the job unfinished, release it and wait for the end.
fn spawned_before_the_end<W: imagesmith_engine::Work + 'static>(engine: &Arc<Engine>, work: W, kind: JobKind) -> W::Report {
    let (sink, release) = held_sink();
    let (done_tx, done_rx) = mpsc::channel();
    let id = engine.spawn(work, sink, move |r| done_tx.send(r).unwrap()).unwrap();
    let job = engine.get_job(id).unwrap().job;
    assert_eq!(job.kind, kind);
    assert!(!job.state.is_finished(), "{kind} job {id} had ended before spawn answered");
    release.send(()).unwrap();
    let report = done_rx.recv_timeout(Duration::from_secs(60)).unwrap().unwrap();
    assert_eq!(engine.get_job(id).unwrap().job.state, JobState::Succeeded);
    report
}

#[test]
fn every_local_kind_answers_with_its_id_before_the_work_ends() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Arc::new(Engine::open(DataLayout::new(dir.path().join("repo"))).unwrap());
    let req = ImportRequest {
        items: vec![
            ImportItem {
                path: fixture("ipxe.iso"),
                kind: Some(imagesmith_engine::Kind::Os),
                os: Some("linux".into()),
                ..Default::default()
            },
            ImportItem { path: fixture("post-install.sh"), ..Default::default() },
        ],
        checksum_files: vec![],
        ..Default::default()
    };
    let imported = spawned_before_the_end(&engine, engine.import_work(req).unwrap(), JobKind::Import);
    assert!(imported.items.iter().all(|i| i.artifact.is_some()), "{imported:?}");
    spawned_before_the_end(&engine, engine.verify_work(&[]).unwrap(), JobKind::Verify);

    engine.create_profile("web", "ipxe.iso", "", None).unwrap();
    engine.add_to_profile("web", &["post-install.sh".to_string()]).unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let export = ExportRequest { profile: "web".into(), dir: out.clone(), include_os: false, lint_override: None };
    let exported = spawned_before_the_end(&engine, engine.export_work(&export).unwrap(), JobKind::Export);
    assert!(Path::new(&exported.file).is_file());

    let archive = out.join("web.tar.gz");
    let work = engine.profile_import_work(&archive, Some("web-copy")).unwrap();
    let imported = spawned_before_the_end(&engine, work, JobKind::ProfileImport);
    assert_eq!(imported.profile.name, "web-copy");
}

#[test]
fn a_refusal_comes_back_before_any_job_exists() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(DataLayout::new(dir.path())).unwrap();
    let missing = ExportRequest { profile: "nope".into(), dir: dir.path().to_path_buf(), include_os: false, lint_override: None };
    assert_eq!(engine.export_work(&missing).err().unwrap().code, "not_found");
    assert!(engine.profile_import_work(&dir.path().join("missing.tar.gz"), None).is_err());
    assert!(engine.verify_work(&["nothing-here".to_string()]).is_err());
    assert_eq!(engine.count_jobs(&JobQuery::default()).unwrap(), 0, "no job row for a refusal");
}

#[test]
fn a_restart_leaves_a_visible_recover_job_that_rehashes_what_an_earlier_boot_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("post-install.sh");
    std::fs::write(&file, "#!/bin/sh\necho hi\n").unwrap();
    let repo = dir.path().join("repo");
    {
        // SAFETY (test): set before any thread reads it; the engine reads it when it writes objects.
        unsafe { std::env::set_var("IMAGESMITH_BOOT_ID", "boot-before") };
        let engine = Engine::open(DataLayout::new(&repo)).unwrap();
        let req = ImportRequest {
            items: vec![ImportItem { path: file.clone(), ..Default::default() }],
            checksum_files: vec![],
            ..Default::default()
        };
        engine.import(&req, &CancelToken::new(), &|_| {}).unwrap();
    }
    unsafe { std::env::set_var("IMAGESMITH_BOOT_ID", "boot-after") };
    let engine = Arc::new(Engine::open(DataLayout::new(&repo)).unwrap());
    let work = engine.recovery_work().unwrap().expect("the object of the earlier boot needs a re-hash");
    let report = spawned_before_the_end(&engine, work, JobKind::Recover);
    assert_eq!((report.settled, report.lost.len()), (1, 0));
    assert!(engine.recovery_work().unwrap().is_none(), "settled once, not re-hashed again");
}
