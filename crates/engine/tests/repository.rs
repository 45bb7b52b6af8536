//! Engine-level checks of the repository itself: layout on disk, schema versions, recovery on open.

use imagesmith_engine::{DataLayout, Engine, JobQuery};

#[test]
fn a_fresh_repository_has_the_documented_layout() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(DataLayout::new(dir.path())).unwrap();
    assert!(dir.path().join("catalog.db").is_file());
    assert!(dir.path().join("objects/sha256").is_dir());
    assert!(dir.path().join("staging").is_dir());
    assert_eq!(engine.count_jobs(&JobQuery::default()).unwrap(), 0);
}

#[test]
fn a_catalog_from_a_newer_version_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    drop(Engine::open(DataLayout::new(dir.path())).unwrap());
    let conn = rusqlite::Connection::open(dir.path().join("catalog.db")).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let err = Engine::open(DataLayout::new(dir.path())).err().expect("refused");
    assert_eq!(err.code, "catalog_too_new");
    assert!(err.text.contains("newer Imagesmith"), "{}", err.text);
    assert!(!err.recovery.is_empty());
}

#[test]
fn two_engines_share_one_repository_and_see_each_others_changes() {
    let dir = tempfile::tempdir().unwrap();
    let a = Engine::open(DataLayout::new(dir.path())).unwrap();
    let b = Engine::open(DataLayout::new(dir.path())).unwrap();
    let before = b.change_stamp().unwrap();
    let file = dir.path().join("post-install.sh");
    std::fs::write(&file, "#!/bin/sh\necho configured\n").unwrap();
    let req = imagesmith_engine::ImportRequest {
        items: vec![imagesmith_engine::ImportItem { path: file, ..Default::default() }],
        checksum_files: vec![],
        ..Default::default()
    };
    let report = a.import(&req, &imagesmith_engine::CancelToken::new(), &|_| {}).unwrap();
    assert_eq!(report.items[0].outcome, imagesmith_engine::Outcome::Imported);
    let after = b.change_stamp().unwrap();
    assert!(after.artifacts > before.artifacts && after.jobs > before.jobs, "{before:?} -> {after:?}");
    assert_eq!(b.get_artifact("post-install.sh").unwrap().kind, imagesmith_engine::Kind::Script);
    // b's session is alive, so a opening again must not treat b's work as dead.
    drop(Engine::open(DataLayout::new(dir.path())).unwrap());
    assert!(dir.path().join("staging").read_dir().unwrap().count() >= 2, "live sessions keep their folders");
}

#[test]
fn a_page_after_the_first_without_a_limit_lists_the_rest() {
    use imagesmith_engine::{ArtifactQuery, CancelToken, ImportItem, ImportRequest};
    let dir = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let engine = Engine::open(DataLayout::new(dir.path())).unwrap();
    let items: Vec<ImportItem> = (0..3)
        .map(|i| {
            let p = files.path().join(format!("s{i}.ps1"));
            std::fs::write(&p, format!("Write-Output {i}\n")).unwrap();
            ImportItem { path: p, ..Default::default() }
        })
        .collect();
    engine.import(&ImportRequest { items, ..Default::default() }, &CancelToken::new(), &|_| {}).unwrap();
    let names = |q: ArtifactQuery| engine.list_artifacts(&q).unwrap().into_iter().map(|a| a.name).collect::<Vec<_>>();
    assert_eq!(names(ArtifactQuery { offset: 1, ..Default::default() }), ["s1.ps1", "s2.ps1"]);
    assert_eq!(names(ArtifactQuery { offset: 1, limit: Some(1), ..Default::default() }), ["s1.ps1"]);
    assert_eq!(names(ArtifactQuery::default()).len(), 3);
}
