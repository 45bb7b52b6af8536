//! Working on a team repository's catalog (issue 18, stage 3) from two desktops — each its own
//! config, cache and local repository — against the real PostgreSQL that scripts/servers.sh starts:
//! what one desktop saves (image stores, trusted keys) the other sees and cannot save again under
//! another case; the library listing and its search read the shared catalog, ignoring case as the
//! local one does; a desktop settles only its own dead jobs. Each test has its own database.

mod common;
mod team_common;

use common::server_fact;
use serde_json::{json, Value};
use std::path::Path;
use team_common::*;

const UUID: &str = "2b683a82-a066-11e3-97ab-2faa44701c5a";

/// An IMGAPI store on the test web server with one image manifest: its URL.
fn imgapi_site(test: &str) -> String {
    let rel = format!("team-{test}-{}", std::process::id());
    let root = Path::new(server_fact("TS_HTTP_ROOT")).join(&rel);
    std::fs::create_dir_all(root.join("images").join(UUID)).unwrap();
    let m = json!({
        "v": 2, "uuid": UUID, "owner": "930896af-bf8c-48d4-885c-6573a94b1853", "name": "ipxe", "version": "1.21.1",
        "state": "active", "disabled": false, "public": true, "published_at": "2026-11-20T10:00:00Z",
        "type": "zvol", "os": "linux", "description": "ipxe 1.21.1 for KVM",
        "files": [{"sha1": "0000000000000000000000000000000000000000", "size": 1024, "compression": "none"}]
    });
    std::fs::write(root.join("images").join(UUID).join("manifest.json"), serde_json::to_vec(&m).unwrap()).unwrap();
    std::fs::write(root.join("images/index.json"), serde_json::to_vec(&json!([m])).unwrap()).unwrap();
    format!("{}/{rel}", server_fact("TS_HTTP_URL"))
}

fn names(v: &Value) -> Vec<&str> {
    v.as_array().unwrap_or_else(|| panic!("not a list: {v:#}")).iter().map(|s| s["name"].as_str().unwrap()).collect()
}

#[test]
fn what_one_desktop_saves_on_the_team_repository_the_other_sees_and_its_own_repository_does_not() {
    let db = Db::new();
    let (a, b) = two_desks(&db);
    let base = imgapi_site("stores");

    let (code, s) = a.json(&["--repo", "team", "store", "add", "danube", "--url", &base]);
    assert_eq!((code, s["kind"].as_str()), (0, Some("imgapi")), "{s:#}");
    // Names are unique regardless of case across the team, as in one repository.
    let (code, err) = b.json(&["--repo", "team", "store", "add", "DANUBE", "--url", &base]);
    assert_eq!((code, err["error"]["code"].as_str()), (1, Some("name_taken")), "{err:#}");
    let (code, stores) = b.json(&["--repo", "team", "store", "list"]);
    assert_eq!((code, names(&stores)), (0, vec!["danube"]), "{stores:#}");
    // Browsing goes to the store itself; nothing of it is in the (empty) team library yet.
    let (code, images) = b.json(&["--repo", "team", "store", "images", "Danube"]);
    assert_eq!(code, 0, "{images:#}");
    assert_eq!(images[0]["id"], UUID, "{images:#}");
    assert!(images[0]["in_library"].is_null(), "{images:#}");

    // A trusted key added on one desktop is trusted on the other.
    let key = "/usr/share/keyrings/debian-archive-bookworm-stable.gpg";
    let (code, added) = a.json(&["--repo", "team", "key", "add", key, "--yes"]);
    assert_eq!(code, 0, "{added:#}");
    let (code, keys) = b.json(&["--repo", "team", "key", "list"]);
    assert_eq!(code, 0, "{keys:#}");
    assert_eq!(keys.as_array().map(Vec::len), Some(1), "{keys:#}");
    assert_eq!(keys[0]["fingerprint"], added["fingerprint"], "{keys:#}");

    // The desktops' own repositories hold none of it; the rows are in the team's database.
    let (_, local) = b.json(&["store", "list"]);
    assert_eq!(local, json!([]), "the local repository is the default when --repo is not given");
    assert_eq!(db.sql("SELECT string_agg(name, ',') FROM image_stores"), "danube");
    // Removing it on the other desktop removes it for both.
    let (code, _) = b.json(&["--repo", "team", "store", "remove", "danube"]);
    assert_eq!(code, 0);
    let (_, stores) = a.json(&["--repo", "team", "store", "list"]);
    assert_eq!(stores, json!([]));
}

#[test]
fn a_local_repositorys_upkeep_is_refused_on_a_team_repository_before_anything_is_written() {
    let db = Db::new();
    let (a, _) = two_desks(&db);
    for args in [vec!["init"], vec!["rebuild-catalog"]] {
        let mut full = vec!["--repo", "team"];
        full.extend(&args);
        let (code, err) = a.json(&full);
        assert_eq!((code, err["error"]["code"].as_str()), (1, Some("not_on_team_repository")), "{args:?}: {err:#}");
        assert!(err["error"]["recovery"].as_str().unwrap().contains("--repo local"), "{err:#}");
    }
    assert_eq!(db.sql("SELECT count(*) FROM jobs"), "0");
}

/// What an admin saves on a team repository (an image store, a file server, a cloud target, a
/// trusted key) and a gold image's state set by another admin name who did it, for every desktop.
#[test]
fn what_each_admin_saves_names_who_saved_it() {
    let db = Db::new();
    let (a, b) = two_desks(&db);
    let run = |desk: &Desk, user: &str, args: &[&str]| desk.as_user(user, args);
    run(&a, "carol", &["store", "add", "danube", "--url", "http://127.0.0.1:9/images/", "--kind", "imgapi"]);
    // Saving a WebDAV server connects to nothing.
    let out = a
        .cmd()
        .env("USER", "carol")
        .env("IMAGESMITH_PASSWORD", "dav-pw")
        .args(["--repo", "team", "server", "add", "lab-dav", "--protocol", "webdav", "--host", "127.0.0.1", "--port", "9"])
        .args(["--user", "u"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    run(&a, "carol", &["target", "add", "lab", "--image-url", "http://127.0.0.1:9292", "--no-auth"]);
    let gpg = common::Gpg::new();
    gpg.generate("Release Signer <release@example.org>", "2y", None);
    let files = tempfile::tempdir().unwrap();
    let armored = files.path().join("release.asc");
    gpg.export("release@example.org", true, &armored);
    run(&a, "carol", &["key", "add", armored.to_str().unwrap(), "--yes"]);

    // The other desktop, another admin, reads who saved each.
    let who = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().split('@').next().unwrap().to_string();
    let first = |v: Value| v.as_array().and_then(|a| a.first().cloned()).unwrap_or_else(|| panic!("empty: {v:#}"));
    assert_eq!(who(&first(run(&b, "dave", &["store", "list"])), "created_by"), "carol");
    assert_eq!(who(&first(run(&b, "dave", &["server", "list"])), "created_by"), "carol");
    assert_eq!(who(&first(run(&b, "dave", &["target", "list"])), "created_by"), "carol");
    assert_eq!(who(&first(run(&b, "dave", &["key", "list"])), "added_by"), "carol");

    // A gold image captured by carol, promoted by dave.
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("app.conf"), "port = 8080\n").unwrap();
    run(&a, "carol", &["gold", "create", "app-1", "--from", home.path().to_str().unwrap()]);
    run(&b, "dave", &["gold", "promote", "app-1", "published"]);
    let shown = run(&a, "carol", &["gold", "show", "app-1"]);
    assert_eq!((who(&shown, "created_by"), who(&shown, "updated_by")), ("carol".into(), "dave".into()), "{shown:#}");
}

/// `info` on a team repository: the team's figures and name, this desktop's part, and
/// diagnostics that name the team and its schema (and no secret).
#[test]
fn info_on_a_team_repository_gives_the_teams_figures_and_diagnostics() {
    let db = Db::new();
    let (a, b) = two_desks(&db);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("disk.img");
    std::fs::write(&file, b"one small disk image").unwrap();
    let (code, v) = a.json(&["--repo", "team", "import", file.to_str().unwrap(), "--kind", "disk_image"]);
    assert_eq!(code, 0, "{v:#}");
    // The other desktop, which imported nothing, sees the team's figures.
    let (code, info) = b.json(&["--repo", "team", "info"]);
    assert_eq!(code, 0, "{info:#}");
    assert_eq!((info["stats"]["artifacts"].as_u64(), info["stats"]["objects"].as_u64()), (Some(1), Some(1)), "{info:#}");
    assert_eq!(info["stats"]["stored_bytes"].as_u64(), Some(20), "{info:#}");
    assert_eq!(info["team"]["name"], "team", "{info:#}");
    let id = info["team"]["repository_id"].as_str().unwrap().to_string();
    assert_eq!(db.sql("SELECT id FROM repository"), id);
    let (code, d) = b.json(&["--repo", "team", "info", "--diagnostics"]);
    assert_eq!(code, 0, "{d:#}");
    let text = d["diagnostics"].as_str().unwrap();
    assert!(text.contains(&format!("repository: team team (id {id})")), "{text}");
    assert!(text.contains("(team catalog, PostgreSQL)"), "{text}");
    assert!(!text.contains(pg_password()), "no secret in the diagnostics");
}

/// The listing, search and lookup by name run the engine's own statements, translated, on
/// PostgreSQL. Until the bucket stage imports into a team repository, the rows an import would make
/// are written here with psql (an object row, two artifacts, a tag).
#[test]
fn the_team_library_is_listed_searched_and_looked_up_ignoring_case_as_locally() {
    let db = Db::new();
    let (a, b) = two_desks(&db);
    let sha = |c: char| c.to_string().repeat(64);
    db.sql(&format!(
        "INSERT INTO objects (sha256, size, created_at) VALUES ('{}', 1000, '2026-12-01T10:00:00Z'), ('{}', 20, '2026-12-01T10:00:01Z');
         INSERT INTO artifacts (name, kind, os, sha256, original_name, created_at, updated_at, created_by, description)
           VALUES ('Ubuntu-24.04', 'os', 'linux', '{}', 'ubuntu.iso', '2026-12-01T10:00:00Z', '2026-12-01T10:00:00Z', 'ana@lab', 'Noble server'),
                  ('answer', 'unattend', NULL, '{}', 'ks.cfg', '2026-12-01T10:00:01Z', '2026-12-01T10:00:01Z', 'bo@lab', '');
         INSERT INTO artifact_tags SELECT id, 'LTS' FROM artifacts WHERE name = 'Ubuntu-24.04';",
        sha('a'),
        sha('b'),
        sha('a'),
        sha('b')
    ));
    let (code, all) = a.json(&["--repo", "team", "list", "--sort", "name"]);
    assert_eq!((code, names(&all)), (0, vec!["answer", "Ubuntu-24.04"]), "sorted ignoring case: {all:#}");
    assert_eq!(all[1]["created_by"], "ana@lab");
    let (_, found) = b.json(&["--repo", "team", "list", "--search", "ubuntu"]);
    assert_eq!(names(&found), vec!["Ubuntu-24.04"], "{found:#}");
    let (_, found) = b.json(&["--repo", "team", "list", "--search", "NOBLE"]);
    assert_eq!(names(&found), vec!["Ubuntu-24.04"], "the description is searched too: {found:#}");
    let (code, shown) = b.json(&["--repo", "team", "show", "ubuntu-24.04"]);
    assert_eq!((code, shown["name"].as_str(), shown["size"].as_u64()), (0, Some("Ubuntu-24.04"), Some(1000)), "{shown:#}");
    assert_eq!(shown["tags"], json!(["LTS"]), "{shown:#}");
    let (code, err) = b.json(&["--repo", "team", "show", "nothing-like-it"]);
    assert_eq!((code, err["error"]["code"].as_str()), (1, Some("not_found")), "{err:#}");
}

/// A desktop that opens the team repository marks its own dead jobs interrupted and leaves every
/// other desktop's running jobs alone — even another machine's with the same user and host name
/// (a cloned VM): a desktop is its own id, the prefix of its sessions, not a user@host.
#[test]
fn a_desktop_settles_only_its_own_dead_jobs_on_the_team_catalog() {
    let db = Db::new();
    let (a, b) = two_desks(&db);
    for desk in [&a, &b] {
        assert!(desk.run(&["--repo", "team", "jobs"]).status.success());
    }
    let id = db.sql("SELECT id::text FROM repository");
    let desktop = |d: &Desk| std::fs::read_to_string(d.cache.path().join(&id).join("desktop-id")).unwrap().trim().to_string();
    let (mine, theirs) = (desktop(&a), desktop(&b));
    assert_ne!(mine, theirs, "two desktops, two ids");
    let me = format!("{}@{}", whoami(), hostname());
    db.sql(&format!(
        "INSERT INTO jobs (kind, state, session, created_at, run_by) VALUES
           ('import', 'running', '{mine}-4242-00000000deadbeef', '2026-12-01T10:00:00Z', '{me}'),
           ('import', 'running', '{theirs}-4343-00000000deadbeef', '2026-12-01T10:00:00Z', '{me}'),
           ('import', 'running', 'elsewhere-1-0000000000000001', '2026-12-01T10:00:00Z', 'someone@elsewhere')"
    ));
    let (code, jobs) = a.json(&["--repo", "team", "jobs"]);
    assert_eq!(code, 0, "{jobs:#}");
    let states = db.sql("SELECT string_agg(split_part(session, '-', 1) || ':' || state, ',' ORDER BY id) FROM jobs");
    assert_eq!(states, format!("{mine}:interrupted,{theirs}:running,elsewhere:running"), "{jobs:#}");
}

/// The user name the CLI records (USER, else the account's name).
fn whoami() -> String {
    std::env::var("USER").ok().filter(|u| !u.trim().is_empty()).unwrap_or_else(|| {
        let out = std::process::Command::new("id").arg("-un").output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    })
}

fn hostname() -> String {
    let out = std::process::Command::new("hostname").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Who changed what: an artifact and a profile another admin changes name them as `updated_by`,
/// while `created_by` stays who added them.
#[test]
fn a_change_by_another_admin_records_who_made_it() {
    let db = Db::new();
    let (a, b) = two_desks(&db);
    let as_user = |desk: &Desk, user: &str, args: &[&str]| desk.as_user(user, args);
    let (iso, script) = (common::fixture("ipxe.iso"), common::fixture("post-install.sh"));
    as_user(&a, "alice", &["import", iso.to_str().unwrap(), "--kind", "os", "--os", "linux"]);
    as_user(&a, "alice", &["import", script.to_str().unwrap()]);
    as_user(&a, "alice", &["profile", "create", "pxe", "--os-image", "ipxe.iso"]);

    as_user(&b, "bob", &["update", "post-install.sh", "--description", "first boot"]);
    let shown = as_user(&a, "alice", &["show", "post-install.sh"]);
    let who = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().split('@').next().unwrap().to_string();
    assert_eq!((who(&shown, "created_by"), who(&shown, "updated_by")), ("alice".into(), "bob".into()), "{shown:#}");
    as_user(&b, "bob", &["profile", "set", "pxe", "hostname=web1"]);
    let profile = as_user(&a, "alice", &["profile", "show", "pxe"]);
    assert_eq!((who(&profile, "created_by"), who(&profile, "updated_by")), ("alice".into(), "bob".into()), "{profile:#}");
    // The human view says it too.
    let text = a.cmd().args(["--repo", "team", "show", "post-install.sh"]).output().unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).contains("changed by: bob@"), "{}", String::from_utf8_lossy(&text.stdout));

    // Who deleted what: bob's refused delete leaves no trace; his profile and file deletions are
    // what alice sees, by him, after the rows are gone.
    let delete = |name: &str| b.cmd().env("USER", "bob").args(["--repo", "team", "delete", name]).output().unwrap();
    assert_eq!(delete("ipxe.iso").status.code(), Some(1), "in use by the profile");
    let out = b.cmd().env("USER", "bob").args(["--repo", "team", "profile", "delete", "pxe"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(delete("post-install.sh").status.success());
    let deleted = as_user(&a, "alice", &["deleted"]);
    let rows: Vec<(&str, &str, String)> = deleted
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["what"].as_str().unwrap(), d["name"].as_str().unwrap(), who(d, "deleted_by")))
        .collect();
    assert_eq!(rows, [("artifact", "post-install.sh", "bob".into()), ("profile", "pxe", "bob".into())], "{deleted:#}");
    assert_eq!(deleted[0]["detail"], shown["sha256"], "{deleted:#}");
    let text = a.cmd().args(["--repo", "team", "deleted", "--what", "profile"]).output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("profile") && text.contains("pxe") && text.contains("bob@") && !text.contains("post-install.sh"), "{text}");
}
