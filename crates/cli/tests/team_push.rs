//! `repo push` and `repo pull` (issue 18): a desktop's own repository copied into a team
//! repository and back, against the real PostgreSQL and SeaweedFS started by scripts/servers.sh.
//! What the team has already is not sent again; rows keep their names, attributes, evidence and
//! authors; a name taken by other bytes and a damaged local copy are refused, sending nothing.

mod common;
mod team_common;

use common::{fixture, walk};
use serde_json::Value;
use team_common::*;

fn item<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["items"].as_array().unwrap().iter().find(|i| i["name"] == name).unwrap_or_else(|| panic!("no item {name}: {report:#}"))
}

#[test]
fn push_copies_the_library_and_its_profiles_once_and_pull_brings_a_profile_to_another_desktop() {
    let db = Db::new();
    let (a, b) = two_desks(&db);
    let (iso, sums, script) = (fixture("ipxe.iso"), fixture("ipxe.iso.sha256"), fixture("post-install.sh"));
    let local = |desk: &Desk, args: &[&str]| {
        let (code, v) = desk.json(&[&["--repo", "local"][..], args].concat());
        assert_eq!(code, 0, "{args:?}: {v:#}");
        v
    };
    local(&a, &["import", iso.to_str().unwrap(), sums.to_str().unwrap(), "--kind", "os", "--os", "linux"]);
    local(&a, &["import", script.to_str().unwrap(), "--alias", "setup", "--tag", "base", "--description", "first boot"]);
    local(&a, &["profile", "create", "pxe", "--os-image", "ipxe.iso"]);
    local(&a, &["profile", "add", "pxe", "setup"]);
    local(&a, &["profile", "set", "pxe", "hostname=web1"]);
    let made_by = local(&a, &["show", "setup"])["created_by"].clone();

    let (code, pushed) = a.json(&["--repo", "team", "repo", "push"]);
    assert_eq!(code, 0, "{pushed:#}");
    assert_eq!(pushed["job"]["kind"], "push", "{pushed:#}");
    assert_eq!(pushed["job"]["summary"], "3 copied", "{pushed:#}");
    assert_eq!((item(&pushed, "pxe")["what"].as_str(), item(&pushed, "pxe")["outcome"].as_str()), (Some("profile"), Some("copied")));
    assert_eq!(uploads_logged(&a), 2, "two objects sent");
    for f in [&iso, &script] {
        assert_eq!(head_status(&db, &sha256_of(f)), "200", "{} is in the bucket", f.display());
    }
    // The team's rows are the local ones: attributes, author, and the checksum file's evidence
    // recorded again by the push job that hashed the bytes again.
    let (_, shown) = b.json(&["--repo", "team", "show", "setup"]);
    assert_eq!((shown["name"].as_str(), shown["description"].as_str()), (Some("post-install.sh"), Some("first boot")), "{shown:#}");
    assert_eq!(shown["tags"], serde_json::json!(["base"]), "{shown:#}");
    assert_eq!(shown["created_by"], made_by, "{shown:#}");
    let (_, os) = b.json(&["--repo", "team", "show", "ipxe.iso"]);
    let evidence = &os["verification"][0];
    assert_eq!(
        (evidence["expected_from"].as_str(), evidence["job_id"].as_i64()),
        (Some("checksum_file"), pushed["job"]["id"].as_i64()),
        "{os:#}"
    );
    let (_, profile) = b.json(&["--repo", "team", "profile", "show", "pxe"]);
    assert_eq!(profile["options"]["hostname"], "web1", "{profile:#}");
    assert_eq!(profile["members"][0]["artifact"]["name"], "post-install.sh", "{profile:#}");
    // The push is in the team's history, by this desktop's user.
    let (_, jobs) = b.json(&["--repo", "team", "jobs"]);
    assert_eq!(jobs[0]["kind"], "push", "{jobs:#}");

    // Again: everything is there already, nothing is sent.
    let (code, again) = a.json(&["--repo", "team", "repo", "push"]);
    assert_eq!((code, again["job"]["summary"].as_str()), (0, Some("3 already there")), "{again:#}");
    assert_eq!(uploads_logged(&a), 2, "nothing sent the second time");
    assert_eq!(db.sql("SELECT count(*) FROM artifacts"), "2");

    // Another desktop takes the profile offline: its base and member come with it, fetched from the
    // bucket and checked; the local copy verifies and keeps the attributes.
    let (code, pulled) = b.json(&["--repo", "team", "repo", "pull", "pxe", "--profiles"]);
    assert_eq!(
        (code, pulled["job"]["kind"].as_str(), pulled["job"]["summary"].as_str()),
        (0, Some("pull"), Some("3 copied")),
        "{pulled:#}"
    );
    let (code, verified) = b.json(&["--repo", "local", "verify"]);
    assert_eq!((code, verified["job"]["summary"].as_str()), (0, Some("2 verified, 0 damaged or missing")), "{verified:#}");
    let (_, mine) = b.json(&["--repo", "local", "profile", "show", "pxe"]);
    assert_eq!(mine["members"][0]["artifact"]["name"], "post-install.sh", "{mine:#}");
    let (_, setup) = b.json(&["--repo", "local", "show", "setup"]);
    assert_eq!(setup["alias"], "setup", "{setup:#}");
    let (_, local_jobs) = b.json(&["--repo", "local", "jobs"]);
    let kinds: Vec<&str> = local_jobs.as_array().unwrap().iter().map(|j| j["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["verify", "pull"], "a pull is in the desktop's own history");
}

#[test]
fn a_name_taken_by_other_bytes_and_a_damaged_local_copy_are_refused_and_nothing_is_sent() {
    let db = Db::new();
    let (a, b) = two_desks(&db);
    // The team has a post-install.sh of its own, with other bytes.
    let dir = tempfile::tempdir().unwrap();
    let theirs = dir.path().join("post-install.sh");
    std::fs::write(&theirs, "#!/bin/sh\necho the team's own\n").unwrap();
    let (code, v) = b.json(&["--repo", "team", "import", theirs.to_str().unwrap()]);
    assert_eq!(code, 0, "{v:#}");
    let (script, ps1) = (fixture("post-install.sh"), fixture("Set-Network.ps1"));
    for f in [&script, &ps1] {
        let (code, v) = a.json(&["--repo", "local", "import", f.to_str().unwrap()]);
        assert_eq!(code, 0, "{v:#}");
    }
    // The local repository's copy of Set-Network.ps1 rots on disk.
    let sha = sha256_of(&ps1);
    let stored = walk(a.repo.home()).into_iter().find(|p| p.to_string_lossy().ends_with(&sha[2..])).expect("the stored object");
    let mut perms = std::fs::metadata(&stored).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&stored, perms).unwrap();
    std::fs::write(&stored, "rotten").unwrap();

    let (code, report) = a.json(&["--repo", "team", "repo", "push", "post-install.sh", "Set-Network.ps1"]);
    assert_eq!((code, report["job"]["state"].as_str()), (1, Some("failed")), "{report:#}");
    assert_eq!(item(&report, "post-install.sh")["error"]["code"], "name_taken", "{report:#}");
    assert_eq!(item(&report, "Set-Network.ps1")["error"]["code"], "object_corrupted", "{report:#}");
    assert_eq!(db.sql("SELECT count(*) FROM artifacts"), "1", "no row for either");
    assert_eq!(head_status(&db, &sha256_of(&script)), "404", "the refused name sent no byte");
    assert_eq!(head_status(&db, &sha), "404", "the damaged copy sent no byte");
    assert_eq!(db.sql("SELECT count(*) FROM uploads"), "0");

    // A push needs a team repository to go to.
    let (code, err) = a.json(&["--repo", "local", "repo", "push"]);
    assert_eq!((code, err["error"]["code"].as_str()), (1, Some("invalid_argument")), "{err:#}");
}

/// A signature is good on the receiving side only by a key the receiver trusts, and its policy
/// holds for what is copied in: a bundle signed by a key only the desktop trusts arrives with an
/// unknown key; a team that requires signatures refuses an unsigned file before a byte moves.
#[test]
fn a_copy_meets_the_receivers_trusted_keys_and_signature_policy() {
    let db = Db::new();
    let (a, b) = two_desks(&db);
    let local = |args: &[&str]| {
        let (code, v) = a.json(&[&["--repo", "local"][..], args].concat());
        assert_eq!(code, 0, "{args:?}: {v:#}");
        v
    };
    local(&["key", "add", fixture("vendor-signing-key.gpg").to_str().unwrap(), "--yes"]);
    local(&["import", fixture("vendor-bundle.zip").to_str().unwrap(), fixture("vendor-bundle.zip.asc").to_str().unwrap()]);
    local(&["import", fixture("Set-Network.ps1").to_str().unwrap()]);
    assert_eq!(local(&["show", "vendor-bundle.zip"])["signature"]["status"], "good");

    let (code, pushed) = a.json(&["--repo", "team", "repo", "push", "vendor-bundle.zip"]);
    assert_eq!(code, 0, "{pushed:#}");
    let (_, there) = b.json(&["--repo", "team", "show", "vendor-bundle.zip"]);
    assert_eq!(there["signature"]["status"], "unknown_key", "the team trusts no key yet: {there:#}");

    let (code, _) = b.json(&["--repo", "team", "key", "policy", "--require-signature"]);
    assert_eq!(code, 0);
    let (code, refused) = a.json(&["--repo", "team", "repo", "push", "Set-Network.ps1"]);
    assert_eq!(code, 1, "{refused:#}");
    assert_eq!(item(&refused, "Set-Network.ps1")["error"]["code"], "signature_required", "{refused:#}");
    assert_eq!(head_status(&db, &sha256_of(&fixture("Set-Network.ps1"))), "404", "refused before a byte moved");
}
