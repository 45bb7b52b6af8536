//! Secrets in a real Secret Service: gnome-keyring on a private D-Bus, started by
//! scripts/servers.sh (`make test` starts it and sets IMAGESMITH_SERVERS_ENV).

mod common;

use common::servers_env;

use imagesmith_engine::secrets::{Found, Owner, Secret};
use imagesmith_engine::{DataLayout, Engine};

#[test]
fn a_secret_kept_in_the_keyring_is_found_again_and_can_be_forgotten() {
    let env = servers_env();
    let bus = env.get("TS_KEYRING_DBUS_ADDRESS").expect("the keyring server is started by make test");
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", bus);
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(DataLayout::new(dir.path())).unwrap();

    let err = engine.secret_for(Owner::Server, "nas", None).unwrap_err();
    assert_eq!(err.code, "secret_required");
    assert!(err.recovery.contains("IMAGESMITH_PASSWORD"), "{}", err.recovery);

    engine.store_secret(Owner::Server, "nas", &Secret::new("s3cret pw")).unwrap();
    let (s, found) = engine.secret_for(Owner::Server, "NAS", None).unwrap();
    assert_eq!((s.expose(), found), ("s3cret pw", Found::Keyring));
    // A target of the same name and another repository have their own entries.
    assert!(engine.stored_secret(Owner::Target, "nas").is_none());
    let other_dir = tempfile::tempdir().unwrap();
    let other = Engine::open(DataLayout::new(other_dir.path())).unwrap();
    assert!(other.stored_secret(Owner::Server, "nas").is_none());
    // A secret given for one call wins and is not printed.
    let (s, found) = engine.secret_for(Owner::Server, "nas", Some(&Secret::new("typed"))).unwrap();
    assert_eq!((s.expose(), found), ("typed", Found::Given));
    assert!(!format!("{s:?} {s}").contains("typed"));

    engine.forget_secret(Owner::Server, "nas").unwrap();
    assert!(engine.stored_secret(Owner::Server, "nas").is_none());
    engine.forget_secret(Owner::Server, "nas").unwrap();
    // Nothing of it in the catalog.
    let db = std::fs::read(dir.path().join("catalog.db")).unwrap();
    assert!(!db.windows(9).any(|w| w == b"s3cret pw"));
}

#[test]
fn without_a_keyring_storing_says_so_and_the_secret_must_be_given() {
    // A bus address where nothing listens: what a desktop without a Secret Service looks like.
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(DataLayout::new(dir.path())).unwrap();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "no_keyring_child", "--nocapture", "--include-ignored"])
        .env("DBUS_SESSION_BUS_ADDRESS", format!("unix:path={}/no-bus", dir.path().display()))
        .env("NO_KEYRING_HOME", dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("CHILD-OK"), "{stdout}");
    drop(engine);
}

/// Runs only as the child of the test above (it needs a dead bus address in its environment).
#[test]
#[ignore = "the child half of without_a_keyring_storing_says_so_and_the_secret_must_be_given"]
fn no_keyring_child() {
    let home = std::env::var("NO_KEYRING_HOME").expect("run by its parent test");
    let engine = Engine::open(DataLayout::new(home)).unwrap();
    let err = engine.store_secret(Owner::Target, "lab", &Secret::new("pw")).unwrap_err();
    assert_eq!(err.code, "keyring_unavailable");
    assert!(!err.text.contains("pw\""), "{}", err.text);
    assert_eq!(engine.secret_for(Owner::Target, "lab", None).unwrap_err().code, "secret_required");
    engine.forget_secret(Owner::Target, "lab").unwrap();
    println!("CHILD-OK");
}
