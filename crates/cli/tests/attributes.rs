//! Image attributes through the CLI: alias, access, owner, description, version, resize, deploy and
//! tags at import and in update; list --full / --extended / --access / --all / --sort size; an image
//! in use is marked deleted instead of deleted, and a deleted one is refused by new profiles.

mod common;

use common::*;
use serde_json::Value;

fn names(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap().to_string()).collect()
}

fn os_user() -> String {
    let out = std::process::Command::new("id").arg("-un").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn every_attribute_is_set_at_import_changed_by_update_and_an_alias_works_wherever_a_name_does() {
    let repo = Repo::new();
    let (code, report) = repo.import(
        &[
            "--alias",
            "rhel96",
            "--access",
            "public",
            "--owner",
            "platform-team",
            "--description",
            "RHEL 9.6 DVD",
            "--version",
            "9.6",
            "--resize",
            "--no-deploy",
            "--tag",
            "rhel",
            "--tag",
            "gold",
        ],
        &[fixture("rhel-9.6-x86_64-dvd.iso")],
    );
    assert_eq!(code, 0, "{report:#}");
    let (code, a) = repo.json(["show", "rhel96"]);
    assert_eq!(code, 0, "the alias finds the artifact: {a:#}");
    assert_eq!(a["name"], "rhel-9.6-x86_64-dvd.iso");
    assert_eq!(a["alias"], "rhel96");
    assert_eq!(a["access"], "public");
    assert_eq!(a["owner"], "platform-team");
    assert_eq!(a["description"], "RHEL 9.6 DVD");
    assert_eq!(a["version"], "9.6");
    assert_eq!((a["resize"].as_bool(), a["deploy"].as_bool()), (Some(true), Some(false)));
    assert_eq!(a["tags"], serde_json::json!(["gold", "rhel"]));
    assert_eq!(a["source"]["kind"], "file", "{a:#}");
    // Aliases ignore case, as names do.
    let (code, _) = repo.json(["show", "RHEL96"]);
    assert_eq!(code, 0);

    // Defaults: private, owned by the OS user, neither resize nor deploy.
    let (code, _) = repo.import(&[], &[fixture("ks.cfg")]);
    assert_eq!(code, 0);
    let (_, ks) = repo.json(["show", "ks.cfg"]);
    assert_eq!((ks["access"].as_str(), ks["owner"].as_str()), (Some("private"), Some(os_user().as_str())), "{ks:#}");
    assert_eq!((ks["resize"].as_bool(), ks["deploy"].as_bool(), ks["alias"].as_str()), (Some(false), Some(false), None));

    // An alias is unique among aliases and names alike, and one alias names one file.
    let (code, err) = repo.json(["update", "ks.cfg", "--alias", "RHEL96"]);
    assert_eq!((code, err["error"]["code"].as_str()), (1, Some("name_taken")), "{err:#}");
    let (code, err) = repo.json(["update", "ks.cfg", "--alias", "rhel-9.6-x86_64-dvd.iso"]);
    assert_eq!((code, err["error"]["code"].as_str()), (1, Some("name_taken")), "{err:#}");
    let out = repo.run(["import", "--alias", "two", fixture("post-install.sh").to_str().unwrap(), fixture("notes.txt").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--alias"));
    let out = repo.run(["update", "ks.cfg", "--access", "secret"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"secret\" is not a known access"));

    // update changes each attribute, by alias; "" removes the alias.
    let (code, a) = repo.json([
        "update",
        "rhel96",
        "--alias",
        "el9",
        "--access",
        "private",
        "--owner",
        "lab",
        "--no-resize",
        "--deploy",
        "--version",
        "9.6.1",
        "--description",
        "respun",
        "--tag",
        "lab",
    ]);
    assert_eq!(code, 0, "{a:#}");
    assert_eq!((a["alias"].as_str(), a["access"].as_str(), a["owner"].as_str()), (Some("el9"), Some("private"), Some("lab")));
    assert_eq!((a["resize"].as_bool(), a["deploy"].as_bool()), (Some(false), Some(true)));
    assert_eq!((a["version"].as_str(), a["description"].as_str()), (Some("9.6.1"), Some("respun")));
    assert_eq!(a["tags"], serde_json::json!(["lab"]));
    let (code, _) = repo.json(["show", "rhel96"]);
    assert_eq!(code, 1, "the old alias is free again");
    let (code, a) = repo.json(["update", "el9", "--alias", ""]);
    assert_eq!((code, a["alias"].as_str()), (0, None), "{a:#}");
    // Search finds an alias.
    let (_, a) = repo.json(["update", "ks.cfg", "--alias", "kickstart-min"]);
    assert_eq!(a["alias"], "kickstart-min");
    let (_, found) = repo.json(["list", "--search", "kickstart"]);
    assert_eq!(names(&found), ["ks.cfg"]);
    // A name may not take an alias's place either: neither a rename nor a new file's name.
    let (code, err) = repo.json(["update", "rhel-9.6-x86_64-dvd.iso", "--name", "Kickstart-Min"]);
    assert_eq!((code, err["error"]["code"].as_str()), (1, Some("name_taken")), "{err:#}");
    assert!(err["error"]["text"].as_str().unwrap().contains("named or aliased \"Kickstart-Min\""), "{err:#}");
    let (code, report) = repo.import(&["--name", "kickstart-min", "--kind", "script"], &[fixture("post-install.sh")]);
    assert_eq!((code, report["items"][0]["error"]["code"].as_str()), (1, Some("name_taken")), "{report:#}");
    let (_, a) = repo.json(["show", "kickstart-min"]);
    assert_eq!(a["name"], "ks.cfg", "the alias still names its file");

    // list: sort by size, filter by access, brief / --full / --extended text.
    let (code, _) = repo.import(&["--access", "public"], &[fixture("post-install.sh")]);
    assert_eq!(code, 0);
    let (_, by_size) = repo.json(["list", "--sort", "size"]);
    let sizes: Vec<u64> = by_size.as_array().unwrap().iter().map(|a| a["size"].as_u64().unwrap()).collect();
    assert!(sizes.windows(2).all(|w| w[0] <= w[1]), "{sizes:?}");
    assert_eq!(names(&by_size).last().map(String::as_str), Some("rhel-9.6-x86_64-dvd.iso"));
    let (_, public) = repo.json(["list", "--access", "public"]);
    assert_eq!(names(&public), ["post-install.sh"]);
    let brief = String::from_utf8(repo.run(["list"]).stdout).unwrap();
    assert!(!brief.contains("owner"), "{brief}");
    let full = String::from_utf8(repo.run(["list", "--full"]).stdout).unwrap();
    for want in ["alias: kickstart-min", "access: public", "owner: lab", "resize: no", "deploy: yes"] {
        assert!(full.contains(want), "{want} missing from list --full:\n{full}");
    }
    assert!(!full.contains("used by"), "{full}");
    let extended = String::from_utf8(repo.run(["list", "--extended"]).stdout).unwrap();
    for want in ["used by: —", "source: file", "last verify:"] {
        assert!(extended.contains(want), "{want} missing from list --extended:\n{extended}");
    }
}

#[test]
fn an_image_in_use_is_marked_deleted_instead_hidden_from_lists_refused_by_new_profiles_while_old_ones_keep_it() {
    let repo = Repo::new();
    let (code, _) = repo.import(&[], &[fixture("rhel-9.6-x86_64-dvd.iso"), fixture("ks.cfg"), fixture("post-install.sh")]);
    assert_eq!(code, 0);
    let (code, p) = repo.json(["profile", "create", "web", "--os-image", "rhel-9.6-x86_64-dvd.iso"]);
    assert_eq!(code, 0, "{p:#}");
    let (code, p) = repo.json(["profile", "add", "web", "ks.cfg"]);
    assert_eq!(code, 0, "{p:#}");

    // Deleting what a profile uses is refused, and the recovery offers marking it deleted.
    let out = repo.run(["delete", "rhel-9.6-x86_64-dvd.iso"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    for want in ["in_use", "web", "update rhel-9.6-x86_64-dvd.iso --access deleted"] {
        assert!(err.contains(want), "{want} missing from the refusal:\n{err}");
    }

    let (code, a) = repo.json(["update", "rhel-9.6-x86_64-dvd.iso", "--access", "deleted"]);
    assert_eq!((code, a["access"].as_str()), (0, Some("deleted")), "{a:#}");
    let (code, a) = repo.json(["update", "post-install.sh", "--access", "deleted"]);
    assert_eq!((code, a["access"].as_str()), (0, Some("deleted")), "{a:#}");

    // Hidden from list unless asked for; still shown by name.
    let (_, listed) = repo.json(["list"]);
    assert_eq!(names(&listed), ["ks.cfg"]);
    let (_, all) = repo.json(["list", "--all"]);
    assert_eq!(names(&all), ["ks.cfg", "post-install.sh", "rhel-9.6-x86_64-dvd.iso"]);
    let (_, deleted) = repo.json(["list", "--access", "deleted"]);
    assert_eq!(names(&deleted), ["post-install.sh", "rhel-9.6-x86_64-dvd.iso"]);
    let (code, _) = repo.json(["show", "rhel-9.6-x86_64-dvd.iso"]);
    assert_eq!(code, 0);

    // New use is refused with image_deleted ...
    let (code, err) = repo.json(["profile", "create", "web2", "--os-image", "rhel-9.6-x86_64-dvd.iso"]);
    assert_eq!((code, err["error"]["code"].as_str()), (1, Some("image_deleted")), "{err:#}");
    assert!(err["error"]["recovery"].as_str().unwrap().contains("--access private"), "{err:#}");
    let (code, err) = repo.json(["profile", "add", "web", "post-install.sh"]);
    assert_eq!((code, err["error"]["code"].as_str()), (1, Some("image_deleted")), "{err:#}");
    let (_, profiles) = repo.json(["profile", "list"]);
    assert_eq!(profiles.as_array().unwrap().len(), 1, "nothing half made: {profiles:#}");

    // ... while the profile that had it keeps working: shown, validated and exported.
    let (code, p) = repo.json(["profile", "show", "web"]);
    assert_eq!(code, 0, "{p:#}");
    assert_eq!(p["base"]["name"], "rhel-9.6-x86_64-dvd.iso", "{p:#}");
    let out = tempfile::tempdir().unwrap();
    let (code, report) = repo.json(["profile", "export", "web", "--to", out.path().to_str().unwrap(), "--include-os"]);
    assert_eq!(code, 0, "{report:#}");

    // Marking it private again gives it back.
    let (code, _) = repo.json(["update", "post-install.sh", "--access", "private"]);
    assert_eq!(code, 0);
    let (code, p) = repo.json(["profile", "add", "web", "post-install.sh"]);
    assert_eq!(code, 0, "{p:#}");
}

#[test]
fn who_added_an_artifact_and_who_ran_its_job_are_recorded_as_user_at_host() {
    let repo = Repo::new();
    let (code, report) = repo.import(&[], &[fixture("ks.cfg")]);
    assert_eq!(code, 0, "{report:#}");
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap().trim().to_string();
    let who = format!("{}@{host}", os_user());
    let (_, a) = repo.json(["show", "ks.cfg"]);
    assert_eq!(a["created_by"], who.as_str(), "{a:#}");
    let (_, jobs) = repo.json(["jobs"]);
    assert_eq!(jobs[0]["run_by"], who.as_str(), "{jobs:#}");
    let out = String::from_utf8(repo.run(["show", "ks.cfg"]).stdout).unwrap();
    assert!(out.contains(&format!("added by: {who}")), "{out}");
    let job = jobs[0]["id"].as_i64().unwrap().to_string();
    let out = String::from_utf8(repo.run(["jobs", "show", &job]).stdout).unwrap();
    assert!(out.contains(&format!("run by {who}")), "{out}");
    // Profiles too.
    let (code, iso) = repo.import(&[], &[fixture("rhel-9.6-x86_64-dvd.iso")]);
    assert_eq!(code, 0, "{iso:#}");
    let (code, p) = repo.json(["profile", "create", "web", "--os-image", "rhel-9.6-x86_64-dvd.iso"]);
    assert_eq!((code, p["created_by"].as_str()), (0, Some(who.as_str())), "{p:#}");
    let out = String::from_utf8(repo.run(["profile", "show", "web"]).stdout).unwrap();
    assert!(out.contains(&format!("made by {who}")), "{out}");
}
