//! Connecting team repositories (issue 18, stage 1) against the real PostgreSQL and S3-compatible
//! server (SeaweedFS) that scripts/servers.sh starts: schema made on the first connection, secrets
//! in the keyring (the test's own Secret Service) or on stdin, TLS verified, refusals that name
//! what to fix, and no secret anywhere but the keyring. Each test has its own database and prefix.

mod common;
mod team_common;

use common::{server_fact, Repo};
use imagesmith_engine::team::catalog::TEAM_SCHEMA_VERSION;
use serde_json::Value;
use std::process::Command;
use team_common::*;

#[test]
fn connecting_an_empty_database_makes_its_schema_keeps_the_secrets_in_the_keyring_and_can_be_used_and_undone() {
    let desk = Desk::new();
    let db = Db::new();
    let (code, v) = desk.connect("team", &db, pg_password(), &[]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["secrets_stored"], true, "{v:#}");
    let s = &v["status"];
    assert_eq!(
        (s["name"].as_str(), s["repository"]["name"].as_str(), s["repository"]["version"].as_i64()),
        (Some("team"), Some("team"), Some(TEAM_SCHEMA_VERSION))
    );
    assert_eq!((s["catalog_tls"].as_bool(), s["objects_tls"].as_bool()), (Some(true), Some(false)), "{s:#}");
    assert!(s["repository"]["created_by"].as_str().unwrap().contains('@'), "{s:#}");
    assert!(s["postgres_version"].as_str().unwrap().starts_with("15."), "{s:#}");
    assert_eq!(s["figures"], serde_json::json!({"artifacts": 0, "objects": 0, "stored_bytes": 0, "jobs": 0}), "{s:#}");
    let id = s["repository"]["id"].as_str().unwrap().to_string();
    // The schema is in the database, with its repository row.
    assert_eq!(db.sql("SELECT max(version) FROM schema_version"), TEAM_SCHEMA_VERSION.to_string());
    assert_eq!(db.sql("SELECT id::text || ' ' || name FROM repository"), format!("{id} team"));
    // The probe key is gone again: the prefix holds nothing.
    assert_eq!(bucket_keys(&db.name), Vec::<String>::new());

    // Listed beside the local repository; not current until chosen.
    let (_, list) = desk.json(&["repo", "list"]);
    let names: Vec<(&str, bool)> =
        list.as_array().unwrap().iter().map(|r| (r["name"].as_str().unwrap(), r["current"].as_bool().unwrap())).collect();
    assert_eq!(names, vec![("local", true), ("team", false)]);
    assert_eq!(list[1]["repository_id"], id.as_str());

    // Chosen with `repo use`; status (secrets from the keyring, nothing on stdin) answers online.
    assert!(desk.run(&["repo", "use", "team"]).status.success());
    let (code, st) = desk.json(&["repo", "status"]);
    assert_eq!((code, st["online"].as_bool(), st["status"]["repository"]["id"].as_str()), (0, Some(true), Some(id.as_str())), "{st:#}");
    // A secret key in the environment for something else does not beat the one saved for it.
    let out = desk
        .cmd()
        .env("AWS_SECRET_ACCESS_KEY", "another-accounts-key")
        .env("IMAGESMITH_PASSWORD", "a-file-servers-password")
        .args(["repo", "status", "--json"])
        .output()
        .unwrap();
    let (code, st) = json_of(&out);
    assert_eq!((code, st["online"].as_bool()), (0, Some(true)), "{st:#}");
    // The current repository is the team's: its (empty) library is listed and `info` names it;
    // --repo local works.
    let (code, listed) = desk.json(&["list"]);
    assert_eq!((code, listed), (0, serde_json::json!([])));
    let (code, info) = desk.json(&["info"]);
    assert_eq!((code, info["team"]["name"].as_str(), info["stats"]["artifacts"].as_u64()), (0, Some("team"), Some(0)), "{info:#}");
    let (code, local) = desk.json(&["--repo", "local", "list"]);
    assert_eq!((code, local.as_array().map(Vec::len)), (0, Some(0)), "{local:#}");

    // Disconnecting forgets the secrets and goes back to the local repository.
    assert!(desk.run(&["repo", "disconnect", "team"]).status.success());
    let (_, list) = desk.json(&["repo", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["current"], true);
    // Connected again without secrets: the keyring no longer has either (the catalog's password
    // given in the environment, the object store's secret key is still asked for).
    let mut c = desk.cmd();
    c.args(["repo", "connect", "team", "--catalog", &db.url(true), "--objects", &db.objects(), "--endpoint"])
        .arg(server_fact("TS_S3_ENDPOINT"))
        .args(["--access-key-id", server_fact("TS_S3_ACCESS_KEY_ID"), "--json"]);
    let (code, err) = json_of(&c.output().unwrap());
    assert_eq!((code, err["error"]["code"].as_str()), (1, Some("secret_required")), "{err:#}");
    assert!(err["error"]["text"].as_str().unwrap().contains("catalog"), "{err:#}");
    let (code, err) = json_of(&c.env("IMAGESMITH_PASSWORD", pg_password()).output().unwrap());
    assert_eq!((code, err["error"]["code"].as_str()), (1, Some("secret_required")), "{err:#}");
    assert!(err["error"]["text"].as_str().unwrap().contains("object store"), "{err:#}");
    // The same database keeps its repository: a second connection finds it and makes nothing.
    let (code, again) = desk.connect("team", &db, pg_password(), &[]);
    assert_eq!((code, again["status"]["repository"]["id"].as_str()), (0, Some(id.as_str())), "{again:#}");
    assert_eq!(db.sql("SELECT count(*) FROM repository"), "1");
}

#[test]
fn wrong_secrets_missing_servers_and_plain_text_off_this_machine_are_refused_and_nothing_is_saved() {
    let desk = Desk::new();
    let db = Db::new();
    let code_of = |(code, v): (i32, Value)| (code, v["error"]["code"].as_str().unwrap_or_default().to_string());
    let refused = |conn: Conn| code_of(conn.run(&desk));
    assert_eq!(code_of(desk.connect("t", &db, "not-the-password", &[])), (1, "auth_failed".to_string()));
    // A wrong S3 secret key.
    assert_eq!(refused(Conn { input: format!("{}\nnot-the-key\n", pg_password()), ..Conn::to(&db) }), (1, "auth_failed".to_string()));
    // A bucket that does not exist, a database that does not exist.
    assert_eq!(refused(Conn { objects: "s3://no-such-bucket-here".into(), ..Conn::to(&db) }), (1, "not_found".to_string()));
    let gone = Db { name: "t_no_such_database".into(), pg: PgAt::shared() };
    assert_eq!(code_of(desk.connect("t", &gone, pg_password(), &[])), (1, "not_found".to_string()));
    std::mem::forget(gone);
    // Nobody answering on the port: unreachable, promptly.
    assert_eq!(refused(Conn::nowhere("postgresql://u@127.0.0.1:1/x", "http://127.0.0.1:1")), (1, "repository_unreachable".to_string()));
    // Plain text to another host, and a password in the URL, are refused before anything is sent.
    let plain = Conn::nowhere("postgresql://u@db.example.net/x?sslmode=disable", "https://s3.example.net");
    assert_eq!(refused(plain), (1, "tls_failed".to_string()));
    assert_eq!(refused(Conn::nowhere("postgresql://u:pw@127.0.0.1/x", "http://127.0.0.1:1")), (1, "invalid_argument".to_string()));
    // A secret typed where it does not belong is never repeated back in the error.
    for (catalog, endpoint) in [
        ("postgresql://u:hunter2@127.0.0.1/x", "http://127.0.0.1:1"),
        ("postgres+ssl://u:hunter2@127.0.0.1/x", "http://127.0.0.1:1"),
        ("postgresql://u@127.0.0.1/x?password=hunter2", "http://127.0.0.1:1"),
        ("postgresql://u@127.0.0.1/x", "https://key:hunter2@s3.example.net"),
    ] {
        let (code, err) = Conn::nowhere(catalog, endpoint).run(&desk);
        assert_eq!((code, err["error"]["code"].as_str()), (1, Some("invalid_argument")), "{err:#}");
        assert!(!err.to_string().contains("hunter2"), "{err:#}");
    }
    // Nothing of all that was saved.
    let (_, list) = desk.json(&["repo", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list:#}");
    assert_eq!(code_of(desk.json(&["--repo", "t", "list"])), (1, "not_found".to_string()));
}

#[test]
fn tls_is_verified_against_the_trusted_ca_and_refused_without_it() {
    let desk = Desk::new();
    let db = Db::new();
    // Without the test CA the server's certificate is not trusted.
    let (code, err) = Conn { cert: Some("/dev/null".into()), ..Conn::to(&db) }.run(&desk);
    assert_eq!((code, err["error"]["code"].as_str()), (1, Some("tls_failed")), "{err:#}");
    // Plain text is allowed to this machine when asked for, and said so.
    let (code, v) = Conn { catalog: db.url(false), ..Conn::to(&db) }.run(&desk);
    assert_eq!((code, v["status"]["catalog_tls"].as_bool()), (0, Some(false)), "{v:#}");
    assert!(v["status"]["catalog"].as_str().unwrap().ends_with("?sslmode=disable"));

    // The object store over HTTPS: verified against the test CA, refused without it.
    let https = |cert: &str| {
        let endpoint = server_fact("TS_S3_HTTPS_ENDPOINT").into();
        Conn { name: "s".into(), catalog: db.url(false), endpoint, cert: Some(cert.into()), ..Conn::to(&db) }.run(&desk)
    };
    let (code, err) = https("/dev/null");
    assert_eq!((code, err["error"]["code"].as_str()), (1, Some("tls_failed")), "{err:#}");
    assert!(err["error"]["text"].as_str().unwrap().contains("object store"), "{err:#}");
    let (code, v) = https(server_fact("TS_CA_CERT"));
    assert_eq!((code, v["status"]["objects_tls"].as_bool()), (0, Some(true)), "{v:#}");

    // Status with the secrets given in the environment (a desktop without a keyring).
    let mut c = desk.cmd();
    c.env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("IMAGESMITH_PASSWORD", pg_password())
        .env("AWS_SECRET_ACCESS_KEY", server_fact("TS_S3_SECRET_ACCESS_KEY"))
        .env("IMAGESMITH_REPO", "s")
        .args(["repo", "status", "--json"]);
    let (code, st) = json_of(&c.output().unwrap());
    assert_eq!((code, st["online"].as_bool()), (0, Some(true)), "{st:#}");
}

#[test]
fn two_first_connections_at_once_make_one_schema_and_one_repository() {
    let db = Db::new();
    let desks = [Desk::new(), Desk::new(), Desk::new()];
    let db = &db;
    let results: Vec<(i32, Value)> = std::thread::scope(|s| {
        let handles: Vec<_> =
            desks.iter().enumerate().map(|(i, d)| s.spawn(move || d.connect(&format!("team{i}"), db, pg_password(), &[]))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let ids: Vec<&str> = results
        .iter()
        .map(|(c, v)| {
            assert_eq!(*c, 0, "{v:#}");
            v["status"]["repository"]["id"].as_str().unwrap()
        })
        .collect();
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
    assert_eq!(db.sql("SELECT count(*) FROM repository"), "1");
    let all: Vec<String> = (1..=TEAM_SCHEMA_VERSION).map(|v| v.to_string()).collect();
    assert_eq!(db.sql("SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_version"), all.join(","));
}

#[test]
fn a_team_schema_newer_than_this_build_is_refused_and_a_name_pointed_elsewhere_is_noticed() {
    let desk = Desk::new();
    let db = Db::new();
    assert_eq!(desk.connect("team", &db, pg_password(), &[]).0, 0);
    db.sql("INSERT INTO schema_version (version, applied_by) VALUES (99, 'future@desk')");
    let (code, st) = desk.json(&["--repo", "team", "repo", "status"]);
    assert_eq!((code, st["online"].as_bool(), st["error"]["code"].as_str()), (1, Some(false), Some("catalog_too_new")), "{st:#}");
    db.sql("DELETE FROM schema_version WHERE version = 99");
    // The database emptied and made again: the same name now points at another repository.
    db.sql("DELETE FROM repository");
    let (code, st) = desk.json(&["--repo", "team", "repo", "status"]);
    assert_eq!((code, st["error"]["code"].as_str()), (1, Some("catalog_damaged")), "{st:#}");
}

/// After connecting, importing, verifying and a failed import (verbose logs), neither secret is in
/// any file this desktop wrote (repositories.json, the local catalog, the cache, staging, every
/// log) nor anywhere in the team catalog (all of it, as pg_dump writes it).
#[test]
fn no_secret_reaches_the_config_file_the_catalogs_the_cache_or_the_logs() {
    let desk = Desk::new();
    let db = Db::new();
    let (code, v) = desk.connect("team", &db, pg_password(), &["-v"]);
    assert_eq!(code, 0, "{v:#}");
    let (code, _) = desk.json(&["--repo", "team", "repo", "status"]);
    assert_eq!(code, 0);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("disk.img");
    std::fs::write(&file, b"a small disk image, imported for the scan").unwrap();
    let (code, v) = desk.json(&["-v", "--repo", "team", "import", file.to_str().unwrap(), "--kind", "disk_image"]);
    assert_eq!(code, 0, "{v:#}");
    let (code, v) = desk.json(&["-v", "--repo", "team", "verify"]);
    assert_eq!(code, 0, "{v:#}");
    let wrong = format!("sha256:{}", "0".repeat(64));
    let (code, v) = desk.json(&["-v", "--repo", "team", "import", file.to_str().unwrap(), "--checksum", &wrong]);
    assert_eq!(code, 1, "a wrong checksum fails the import: {v:#}");
    // This desktop's local repository was opened too (a local catalog exists).
    assert!(desk.run(&["--repo", "local", "list"]).status.success());

    let log = desk.repo.log_text();
    assert!(log.contains("team catalog connected") && log.contains("team object store probed"), "{log}");
    let dump = Command::new(format!("{}/pg_dump", server_fact("TS_PG_BIN")))
        .args(["-h", server_fact("TS_PG_SOCKET_DIR"), "-p", server_fact("TS_PG_PORT"), "-U", "postgres", "-d", &db.name])
        .output()
        .unwrap();
    assert!(dump.status.success(), "{}", String::from_utf8_lossy(&dump.stderr));
    assert!(String::from_utf8_lossy(&dump.stdout).contains("disk.img"), "the dump holds the catalog's rows");
    let mut files: Vec<(String, Vec<u8>)> = vec![("the team catalog".into(), dump.stdout)];
    for root in [desk.repo.home(), desk.repo.config.path(), desk.repo.logs.path(), desk.cache.path()] {
        for entry in walkdir::WalkDir::new(root).into_iter().filter_map(Result::ok).filter(|e| e.file_type().is_file()) {
            files.push((entry.path().display().to_string(), std::fs::read(entry.path()).unwrap_or_default()));
        }
    }
    assert!(files.iter().any(|(p, _)| p.ends_with("catalog.db")), "the local catalog is among the files");
    assert!(files.iter().any(|(p, _)| p.ends_with("repositories.json")), "the config is among the files");
    for secret in [pg_password(), server_fact("TS_S3_SECRET_ACCESS_KEY")] {
        for (what, bytes) in &files {
            assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()), "a secret is in {what}");
        }
    }
}

/// On a terminal, the secrets of a team repository that the keyring cannot give are asked for with
/// the echo off, as ssh and psql ask, and used; neither is echoed. (The terminal is script(1)'s
/// pseudo-terminal; the keyring is made unreachable for the command that asks.)
#[test]
fn on_a_terminal_the_secrets_the_keyring_cannot_give_are_asked_for_without_echo() {
    use std::io::{Read, Write};
    let db = Db::new();
    let desk = Desk::new();
    let (code, v) = desk.connect("team", &db, pg_password(), &[]);
    assert_eq!(code, 0, "{v:#}");
    let cli = desk.cmd();
    let mut c = Command::new("script");
    for (k, v) in cli.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    c.env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus").env_remove("IMAGESMITH_PASSWORD");
    let line = format!("{} --repo team list --json", cli.get_program().to_str().unwrap());
    let mut child = c
        .args(["-qec", &line, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut out = child.stdout.take().unwrap();
    let reader = {
        let seen = seen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 {
                    break;
                }
                seen.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        })
    };
    let wait_for = |text: &str| {
        let start = std::time::Instant::now();
        while !String::from_utf8_lossy(&seen.lock().unwrap()).contains(text) {
            assert!(
                start.elapsed() < std::time::Duration::from_secs(30),
                "no {text:?} in {:?}",
                String::from_utf8_lossy(&seen.lock().unwrap())
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    };
    let mut input = child.stdin.take().unwrap();
    wait_for("Password for the catalog of team repository \"team\"");
    input.write_all(format!("{}\n", pg_password()).as_bytes()).unwrap();
    wait_for("Secret key for the object store of team repository \"team\"");
    input.write_all(format!("{}\n", server_fact("TS_S3_SECRET_ACCESS_KEY")).as_bytes()).unwrap();
    assert!(child.wait().unwrap().success());
    reader.join().unwrap();
    let shown = String::from_utf8_lossy(&seen.lock().unwrap()).into_owned();
    assert!(shown.contains("[]"), "the team's (empty) library was listed: {shown:?}");
    for secret in [pg_password(), server_fact("TS_S3_SECRET_ACCESS_KEY")] {
        assert!(!shown.contains(secret), "a secret was echoed: {shown:?}");
    }
}

/// The team catalog has the local catalog's tables and columns, name for name, each of the same
/// type (SQLite's INTEGER, TEXT, REAL, BLOB as bigint, text, double precision, bytea) and
/// nullability: one set of queries serves both, and a local migration without its twin fails here.
#[test]
fn the_team_catalog_has_every_table_and_column_of_the_local_one() {
    let desk = Desk::new();
    let db = Db::new();
    assert_eq!(desk.connect("team", &db, pg_password(), &[]).0, 0);
    // The local schema, from a repository made by this build.
    let local = Repo::new();
    assert!(local.run(["info"]).status.success());
    let conn = rusqlite::Connection::open(local.home().join("catalog.db")).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT m.name || '.' || p.name || ' ' ||
                    CASE upper(p.type) WHEN 'INTEGER' THEN 'bigint' WHEN 'TEXT' THEN 'text' WHEN 'REAL' THEN 'double precision'
                                       WHEN 'BLOB' THEN 'bytea' ELSE lower(p.type) END || ' ' ||
                    CASE WHEN p.\"notnull\" OR p.pk > 0 THEN 'not null' ELSE 'null' END
             FROM sqlite_master m, pragma_table_info(m.name) p
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY 1",
        )
        .unwrap();
    let sqlite: Vec<String> = stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    // The team's, without the tables only a team repository has.
    let team_only = ["repository", "schema_version", "object_tombstones", "uploads", "upload_parts", "sessions"];
    let pg: Vec<String> = db
        .sql("SELECT string_agg(table_name || '.' || column_name, E'\\n' ORDER BY 1) FROM (SELECT table_name::text, column_name::text || ' ' || data_type || ' ' || CASE is_nullable WHEN 'NO' THEN 'not null' ELSE 'null' END AS column_name FROM information_schema.columns WHERE table_schema = 'public') c")
        .lines()
        .filter(|l| !team_only.iter().any(|t| l.starts_with(&format!("{t}."))))
        .map(str::to_string)
        .collect();
    let mut pg = pg;
    pg.sort();
    let missing: Vec<&String> = sqlite.iter().filter(|c| !pg.contains(c)).collect();
    let extra: Vec<&String> = pg.iter().filter(|c| !sqlite.contains(c)).collect();
    assert!(missing.is_empty() && extra.is_empty(), "not in the team catalog: {missing:?}\nonly in the team catalog: {extra:?}");
    // The change counters the app watches are there, and a change bumps one.
    assert_eq!(
        db.sql("SELECT string_agg(name, ',' ORDER BY name) FROM change_counters"),
        "artifacts,gold,jobs,profiles,publications,targets"
    );
    db.sql("INSERT INTO objects (sha256, size, created_at) VALUES ('ab', 1, 'now'); INSERT INTO artifacts (name, kind, sha256, original_name, created_at, updated_at) VALUES ('X.iso', 'os_image', 'ab', 'x.iso', 'now', 'now')");
    assert_eq!(db.sql("SELECT value FROM change_counters WHERE name = 'artifacts'"), "1");
    // Names are unique whatever their case, as locally.
    let dup = Command::new(format!("{}/psql", server_fact("TS_PG_BIN")))
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", server_fact("TS_PG_SOCKET_DIR"), "-p", server_fact("TS_PG_PORT"), "-U", "postgres", "-d", &db.name])
        .args(["-c", "INSERT INTO objects (sha256, size, created_at) VALUES ('cd', 1, 'now'); INSERT INTO artifacts (name, kind, sha256, original_name, created_at, updated_at) VALUES ('x.ISO', 'os_image', 'cd', 'x.iso', 'now', 'now')"])
        .output()
        .unwrap();
    assert!(
        !dup.status.success() && String::from_utf8_lossy(&dup.stderr).contains("artifacts_name"),
        "{}",
        String::from_utf8_lossy(&dup.stderr)
    );
}

#[test]
fn pointing_a_name_elsewhere_keeps_the_secret_still_in_use_and_forgets_the_other() {
    let desk = Desk::new();
    let db = Db::new();
    assert_eq!(desk.connect("team", &db, pg_password(), &[]).0, 0);
    // Only the prefix changes: the catalog's password (same URL) stays, the old prefix's key goes.
    let (code, v) = Conn { name: "team".into(), objects: format!("{}-b", db.objects()), ..Conn::to(&db) }.run(&desk);
    assert_eq!(code, 0, "{v:#}");
    let (code, st) = desk.json(&["--repo", "team", "repo", "status"]);
    assert_eq!((code, st["online"].as_bool()), (0, Some(true)), "the secrets in use are kept: {st:#}");
    assert!(st["status"]["objects"].as_str().unwrap().ends_with("-b"), "{st:#}");
}

#[test]
fn an_older_team_schema_is_upgraded_only_when_asked_and_status_never_writes() {
    let desk = Desk::new();
    let db = Db::new();
    // A repository made by an Imagesmith that knew only the first team migration.
    let first = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../engine/migrations/pg/0001_repository.sql")).unwrap();
    db.sql(&format!(
        "SET ROLE {}; CREATE TABLE schema_version (version int8 PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now(), applied_by text NOT NULL); \
         {first}; INSERT INTO schema_version (version, applied_by) VALUES (1, 'old@desk'); INSERT INTO repository (name, created_by) VALUES ('team', 'old@desk')",
        server_fact("TS_PG_USER")
    ));
    let (code, err) = desk.connect("team", &db, pg_password(), &[]);
    assert_eq!((code, err["error"]["code"].as_str()), (1, Some("team_schema_upgrade_needed")), "{err:#}");
    assert_eq!(db.sql("SELECT max(version) FROM schema_version"), "1", "nothing was written");
    let (code, v) = desk.connect("team", &db, pg_password(), &["--upgrade"]);
    assert_eq!(
        (code, v["status"]["repository"]["version"].as_i64(), v["status"]["repository"]["created_by"].as_str()),
        (0, Some(TEAM_SCHEMA_VERSION), Some("old@desk")),
        "{v:#}"
    );
    // Emptied behind its back, the repository is not made again by a status.
    db.sql("DROP TABLE repository, schema_version CASCADE");
    let (code, st) = desk.json(&["--repo", "team", "repo", "status"]);
    assert_eq!((code, st["error"]["code"].as_str()), (1, Some("catalog_damaged")), "{st:#}");
    assert_eq!(db.sql("SELECT to_regclass('schema_version') IS NULL"), "t", "status wrote nothing");
}

#[test]
fn repo_wins_over_imagesmith_home_and_both_on_the_command_line_is_a_usage_error() {
    let desk = Desk::new();
    let db = Db::new();
    assert_eq!(desk.connect("team", &db, pg_password(), &[]).0, 0);
    let home = tempfile::tempdir().unwrap();
    let (code, st) =
        json_of(&desk.cmd().env("IMAGESMITH_HOME", home.path()).args(["--repo", "team", "repo", "status", "--json"]).output().unwrap());
    assert_eq!((code, st["kind"].as_str()), (0, Some("team")), "{st:#}");
    // IMAGESMITH_REPO in the environment, --home on the command line: the folder named wins.
    let (code, st) = json_of(
        &desk.cmd().env("IMAGESMITH_REPO", "team").args(["--home"]).arg(home.path()).args(["repo", "status", "--json"]).output().unwrap(),
    );
    assert_eq!((code, st["kind"].as_str()), (0, Some("local")), "{st:#}");
    let out = desk.cmd().args(["--repo", "team", "--home"]).arg(home.path()).args(["repo", "status"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}

/// The engine's library statements (list, count, the OS releases; a free-text search with its
/// PostgreSQL hardware-ID branch), translated by team::dialect, prepare on a team catalog: the
/// PostgreSQL schema twin and the translation fit the SQL the engine really writes. The rest of the
/// engine's statements run on PostgreSQL in team_catalog.rs, team_library.rs and team_crash.rs.
#[test]
fn the_engines_library_statements_prepare_on_the_team_catalog_once_translated() {
    use imagesmith_engine::team::dialect::{leftover, to_pg};
    use imagesmith_engine::{catalog, Access, ArtifactQuery, Dialect, Kind, OsFamily, SortKey};
    let desk = Desk::new();
    let db = Db::new();
    assert_eq!(desk.connect("team", &db, pg_password(), &[]).0, 0);
    let queries = [
        ArtifactQuery::default(),
        ArtifactQuery { kind: Some(Kind::Os), os: Some(OsFamily::Linux), access: Some(Access::Public), ..Default::default() },
        ArtifactQuery {
            os_id: Some("rhel9".into()),
            sort: SortKey::Created,
            descending: true,
            limit: Some(100),
            offset: 200,
            ..Default::default()
        },
        ArtifactQuery { sort: SortKey::Size, all: true, limit: Some(50), ..Default::default() },
        ArtifactQuery { offset: 10, ..Default::default() },
        // Every word of a search: names, tags, a driver's hardware IDs, a digest's first hex digits.
        ArtifactQuery { search: Some("Ubuntu PCI\\VEN_8086&DEV_1572 8086abcdef".into()), ..Default::default() },
    ];
    let mut statements: Vec<String> = Vec::new();
    for q in &queries {
        statements.push(catalog::list_statement(q, Dialect::Postgres).0);
        statements.push(catalog::count_statement(q, Dialect::Postgres).0);
    }
    statements.push(catalog::OS_RELEASES.to_string());
    let mut script = String::from("SET ROLE imagesmith;\n");
    for (i, sqlite) in statements.iter().enumerate() {
        let pg = to_pg(sqlite);
        assert_eq!(leftover(&pg), None, "{pg}");
        script.push_str(&format!("PREPARE s{i} AS {pg};\n"));
    }
    let out = Command::new(format!("{}/psql", server_fact("TS_PG_BIN")))
        .args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            server_fact("TS_PG_SOCKET_DIR"),
            "-p",
            server_fact("TS_PG_PORT"),
            "-U",
            "postgres",
            "-d",
            &db.name,
        ])
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}\n{script}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn several_connections_made_at_once_on_one_desktop_are_all_kept() {
    let desk = Desk::new();
    let db = Db::new();
    let names = ["a", "b", "c", "d"];
    std::thread::scope(|s| {
        let handles: Vec<_> = names
            .iter()
            .map(|n| {
                let (desk, db) = (&desk, &db);
                s.spawn(move || Conn { name: n.to_string(), objects: format!("{}-{n}", db.objects()), ..Conn::to(db) }.run(desk))
            })
            .collect();
        for h in handles {
            let (code, v) = h.join().unwrap();
            assert_eq!(code, 0, "{v:#}");
        }
    });
    let (_, list) = desk.json(&["repo", "list"]);
    let listed: Vec<&str> = list.as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(listed, ["local", "a", "b", "c", "d"], "{list:#}");
}
