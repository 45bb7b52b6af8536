//! Browse and manage through the CLI: list, show, update, delete with in-use protection, jobs, verify.

mod common;

use common::*;

#[test]
fn list_filters_and_sorts_show_has_every_digest_update_changes_fields() {
    let repo = Repo::new();
    let (code, _) = repo.import(&["--checksum", &format!("md5:{}", md5("ks.cfg"))], &[fixture("ks.cfg")]);
    assert_eq!(code, 0);
    let (code, _) = repo.import(&[], &[fixture("win-server-2022.iso"), fixture("rhel-9.6-x86_64-dvd.iso"), fixture("Set-Network.ps1")]);
    assert_eq!(code, 0);

    let names = |v: &serde_json::Value| v.as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    let (_, all) = repo.json(["list"]);
    assert_eq!(names(&all), ["ks.cfg", "rhel-9.6-x86_64-dvd.iso", "Set-Network.ps1", "win-server-2022.iso"]);
    let (_, created) = repo.json(["list", "--sort", "created"]);
    assert_eq!(names(&created)[0], "ks.cfg");
    let (_, isos) = repo.json(["list", "--kind", "os"]);
    assert_eq!(names(&isos), ["rhel-9.6-x86_64-dvd.iso", "win-server-2022.iso"]);
    let (_, windows) = repo.json(["list", "--os", "windows"]);
    assert_eq!(names(&windows), ["Set-Network.ps1", "win-server-2022.iso"]);
    let (_, both) = repo.json(["list", "--kind", "os", "--os", "linux"]);
    assert_eq!(names(&both), ["rhel-9.6-x86_64-dvd.iso"]);
    let bad = repo.run(["list", "--kind", "floppy"]);
    assert_eq!(bad.status.code(), Some(2));

    let (_, ks) = repo.json(["show", "ks.cfg"]);
    assert_eq!(ks["sha256"].as_str().unwrap(), sha256_of(&fixture("ks.cfg")));
    assert_eq!(ks["md5"].as_str().unwrap(), md5("ks.cfg"));
    assert_eq!(ks["original_name"], "ks.cfg");
    assert!(ks["created_at"].as_str().unwrap().ends_with('Z'));
    let id = ks["id"].as_i64().unwrap();
    let (_, by_id) = repo.json(["show", &id.to_string()]);
    assert_eq!(by_id["name"], "ks.cfg");
    let text = String::from_utf8(repo.run(["show", "ks.cfg"]).stdout).unwrap();
    assert!(text.contains(&md5("ks.cfg")) && text.contains("sha256"), "{text}");

    let (code, updated) = repo.json([
        "update",
        "ks.cfg",
        "--name",
        "rhel9-minimal.ks",
        "--description",
        "Minimal RHEL 9",
        "--version",
        "3",
        "--tag",
        "rhel",
        "--tag",
        "lab",
    ]);
    assert_eq!(code, 0, "{updated:#}");
    assert_eq!(updated["name"], "rhel9-minimal.ks");
    assert_eq!(updated["description"], "Minimal RHEL 9");
    assert_eq!(updated["version"], "3");
    assert_eq!(updated["tags"], serde_json::json!(["lab", "rhel"]));
    let (code, err) = repo.json(["update", "rhel9-minimal.ks", "--name", "WIN-SERVER-2022.ISO"]);
    assert_eq!(code, 1);
    assert_eq!(err["error"]["code"], "name_taken");
    let (code, err) = repo.json(["show", "nope"]);
    assert_eq!(code, 1);
    assert_eq!(err["error"]["code"], "not_found");
}

#[test]
fn search_finds_tags_descriptions_and_checksum_prefixes_and_kind_and_os_can_be_corrected() {
    let repo = Repo::new();
    // ks.cfg with its MD5 typed, so the MD5 is stored too.
    let (code, _) = repo.import(&["--checksum", &format!("md5:{}", md5("ks.cfg"))], &[fixture("ks.cfg")]);
    assert_eq!(code, 0);
    let (code, _) = repo.import(&[], &[fixture("rhel-9.6-x86_64-dvd.iso"), fixture("Set-Network.ps1"), fixture("win-nic-driver.zip")]);
    assert_eq!(code, 0);
    repo.json(["update", "Set-Network.ps1", "--tag", "lab-net", "--description", "Static addresses for the Frankfurt lab"]);
    let names = |args: &[&str]| {
        let mut all = vec!["list", "--search"];
        all.extend_from_slice(args);
        let (code, v) = repo.json(all);
        assert_eq!(code, 0);
        v.as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    assert_eq!(names(&["LAB-NET"]), ["Set-Network.ps1"], "a tag, any case");
    assert_eq!(names(&["frankfurt"]), ["Set-Network.ps1"], "a word of the description");
    assert_eq!(names(&["static frankfurt"]), ["Set-Network.ps1"], "every word must match");
    assert!(names(&["static rhel"]).is_empty());
    let sha = sha256_of(&fixture("ks.cfg"));
    assert_eq!(names(&[&sha[..8].to_uppercase()]), ["ks.cfg"], "the start of a SHA-256, pasted in capitals");
    assert!(names(&[&sha[1..9]]).is_empty(), "a checksum matches from its start only");
    assert_eq!(names(&[&md5("ks.cfg")[..10]]), ["ks.cfg"], "the start of an MD5 as well");
    assert_eq!(names(&["50%"]).len(), 0, "LIKE wildcards are taken literally");

    // Correct a wrong guess after import: a script is Windows or Linux as the admin says.
    let (code, a) = repo.json(["update", "Set-Network.ps1", "--kind", "script", "--os", "windows"]);
    assert_eq!(code, 0, "{a:#}");
    assert_eq!(a["os"], "windows");
    // Outside the support matrix: a kickstart cannot be a Windows answer file, an ISO cannot be a script.
    let (code, err) = repo.json(["update", "ks.cfg", "--os", "windows"]);
    assert_eq!(code, 1);
    assert_eq!(err["error"]["code"], "unsupported_type", "{err:#}");
    let (code, err) = repo.json(["update", "rhel-9.6-x86_64-dvd.iso", "--kind", "script"]);
    assert_eq!(code, 1, "{err:#}");
    let (_, iso) = repo.json(["show", "rhel-9.6-x86_64-dvd.iso"]);
    assert_eq!(iso["kind"], "os", "a refused change changes nothing");
    // The distro can be set where detection did not find it.
    let (code, iso) = repo.json(["update", "rhel-9.6-x86_64-dvd.iso", "--os", "rocky"]);
    assert_eq!(code, 0, "{iso:#}");
    assert_eq!((iso["os"].as_str(), iso["distro"].as_str()), (Some("linux"), Some("rocky")));

    // A profile was checked against what a member is: no changing it under the profile.
    let (code, p) = repo.json(["profile", "create", "rocky-web", "--os-image", "rhel-9.6-x86_64-dvd.iso"]);
    assert_eq!(code, 0, "{p:#}");
    let (code, err) = repo.json(["update", "rhel-9.6-x86_64-dvd.iso", "--os", "windows"]);
    assert_eq!(code, 1);
    assert_eq!(err["error"]["code"], "in_use");
    assert!(err["error"]["text"].as_str().unwrap().contains("rocky-web"), "{err:#}");
}

fn md5(name: &str) -> String {
    let out = std::process::Command::new("md5sum").arg(fixture(name)).output().unwrap();
    String::from_utf8(out.stdout).unwrap()[..32].to_string()
}

#[test]
fn files_name_their_image_and_an_image_in_use_cannot_be_deleted() {
    let repo = Repo::new();
    let (code, report) = repo.import(&["--image", "rhel-9.6-x86_64-dvd.iso"], &[fixture("dud-kmod-example.iso")]);
    assert_eq!(code, 1);
    assert_eq!(report["items"][0]["error"]["code"], "image_not_found");
    assert!(repo.objects().is_empty());

    repo.import(&[], &[fixture("rhel-9.6-x86_64-dvd.iso"), fixture("win-server-2022.iso")]);
    let (code, report) = repo.import(&["--image", "rhel-9.6-x86_64-dvd.iso"], &[fixture("dud-kmod-example.iso"), fixture("ks.cfg")]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(item(&report, "ks.cfg")["artifact"]["image"]["name"], "rhel-9.6-x86_64-dvd.iso");
    let (code, report) = repo.import(&["--image", "win-server-2022.iso"], &[fixture("post-install.sh")]);
    assert_eq!(code, 1, "a linux script cannot belong to a windows image");
    assert_eq!(report["items"][0]["error"]["code"], "unsupported_type");

    let (_, image) = repo.json(["show", "rhel-9.6-x86_64-dvd.iso"]);
    assert_eq!(image["used_by"].as_array().unwrap().len(), 2);
    let object =
        repo.home().join("objects/sha256").join(&image["sha256"].as_str().unwrap()[..2]).join(&image["sha256"].as_str().unwrap()[2..]);
    assert!(object.exists());

    let out = repo.run(["delete", "rhel-9.6-x86_64-dvd.iso"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("in_use") && err.contains("dud-kmod-example.iso") && err.contains("ks.cfg"), "{err}");
    assert!(object.exists(), "a refused delete removes nothing");

    for name in ["dud-kmod-example.iso", "ks.cfg", "rhel-9.6-x86_64-dvd.iso"] {
        let out = repo.run(["delete", name]);
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
    }
    assert!(!object.exists(), "the object goes when nothing references it");
    assert_eq!(repo.objects().len(), 1, "only the windows image is left");

    // Who deleted what stays when the rows are gone: the three deletes, newest first, with the
    // image's SHA-256; the refused one left no trace.
    let (code, deleted) = repo.json(["deleted"]);
    assert_eq!(code, 0, "{deleted:#}");
    let rows: Vec<(&str, &str)> =
        deleted.as_array().unwrap().iter().map(|d| (d["what"].as_str().unwrap(), d["name"].as_str().unwrap())).collect();
    assert_eq!(rows, [("artifact", "rhel-9.6-x86_64-dvd.iso"), ("artifact", "ks.cfg"), ("artifact", "dud-kmod-example.iso")]);
    assert_eq!(deleted[0]["detail"], image["sha256"], "{deleted:#}");
    assert_eq!(deleted[0]["deleted_by"], image["created_by"], "this desktop's user@host: {deleted:#}");
}

#[test]
fn jobs_are_kept_newest_first_with_their_items_and_errors() {
    let repo = Repo::new();
    repo.import(&[], &[fixture("ks.cfg")]);
    repo.import(&[], &[fixture("ipxe.iso"), fixture("SHA256SUMS.wrong"), fixture("post-install.sh")]);
    let (code, jobs) = repo.json(["jobs"]);
    assert_eq!(code, 0);
    let jobs = jobs.as_array().unwrap();
    assert_eq!(jobs.len(), 2);
    assert!(jobs[0]["id"].as_i64() > jobs[1]["id"].as_i64(), "newest first");
    assert_eq!(jobs[0]["state"], "partly_succeeded", "ipxe.iso failed its checksum, post-install.sh was imported");
    assert_eq!(jobs[1]["state"], "succeeded");
    assert_eq!(jobs[0]["kind"], "import");
    assert!(jobs[0]["finished_at"].as_str().is_some());
    assert_eq!(jobs[0]["items"].as_array().unwrap().len(), 2);
    let id = jobs[0]["id"].as_i64().unwrap().to_string();
    let (_, job) = repo.json(["jobs", "show", &id]);
    let failed = job["items"].as_array().unwrap().iter().find(|i| i["outcome"] == "failed").unwrap();
    assert_eq!(failed["error"]["code"], "checksum_mismatch");
    assert!(failed["path"].as_str().unwrap().ends_with("ipxe.iso"));
    assert_eq!(
        job["bytes_total"].as_u64().unwrap(),
        std::fs::metadata(fixture("ipxe.iso")).unwrap().len() + std::fs::metadata(fixture("post-install.sh")).unwrap().len()
    );
    let text = String::from_utf8(repo.run(["jobs"]).stdout).unwrap();
    assert!(text.contains("failed") && text.contains("succeeded"), "{text}");
    let (code, err) = repo.json(["jobs", "show", "999"]);
    assert_eq!(code, 1);
    assert_eq!(err["error"]["code"], "job_not_found");
}

#[test]
fn verify_catches_a_flipped_byte_and_a_missing_object() {
    let repo = Repo::new();
    repo.import(&[], &[fixture("ipxe.iso"), fixture("ks.cfg"), fixture("collect.py")]);
    let (code, report) = repo.json(["verify"]);
    assert_eq!(code, 0, "{report:#}");
    assert!(report["items"].as_array().unwrap().iter().all(|i| i["outcome"] == "verified"));

    let (_, iso) = repo.json(["show", "ipxe.iso"]);
    let sha = iso["sha256"].as_str().unwrap();
    flip_object_byte(&repo, sha, 1_000_000);
    let (_, ks) = repo.json(["show", "ks.cfg"]);
    let ks_sha = ks["sha256"].as_str().unwrap();
    std::fs::remove_file(repo.home().join("objects/sha256").join(&ks_sha[..2]).join(&ks_sha[2..])).unwrap();

    let (code, report) = repo.json(["verify"]);
    assert_eq!(code, 1);
    let by_name = |n: &str| report["items"].as_array().unwrap().iter().find(|i| i["artifact"]["name"] == n).unwrap().clone();
    assert_eq!(by_name("ipxe.iso")["error"]["code"], "object_corrupted");
    assert_eq!(by_name("ks.cfg")["error"]["code"], "object_missing");
    assert_eq!(by_name("collect.py")["outcome"], "verified");
    let (code, one) = repo.json(["verify", "collect.py"]);
    assert_eq!(code, 0);
    assert_eq!(one["items"].as_array().unwrap().len(), 1);
    let (_, jobs) = repo.json(["jobs"]);
    assert_eq!(jobs[0]["kind"], "verify");
}

#[test]
fn a_closed_pipe_ends_the_output_quietly_like_other_unix_tools() {
    use std::os::unix::process::ExitStatusExt;
    let repo = Repo::new();
    let (code, report) = repo.import(&[], &[fixture("ks.cfg"), fixture("post-install.sh")]);
    assert_eq!(code, 0, "{report:#}");
    for args in [&["list"][..], &["list", "--json"], &["jobs", "show", "1", "--json"], &["jobs"]] {
        // `imagesmith-cli list | head -0`: the reader is gone before the first line is written
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = repo.cmd().args(args).stdout(writer).stderr(std::process::Stdio::piped()).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.signal(), Some(libc::SIGPIPE), "{args:?} ends by SIGPIPE, as cat does: {:?} {stderr}", out.status);
        assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{args:?} is quiet: {stderr}");
    }
}

#[test]
fn info_gives_the_figures_and_the_diagnostics_name_the_last_failure_without_secrets() {
    let repo = Repo::new();
    let (code, report) = repo.import(&[], &[fixture("ks.cfg"), fixture("post-install.sh")]);
    assert_eq!(code, 0, "{report:#}");
    let (code, info) = repo.json(["info"]);
    assert_eq!(code, 0, "{info:#}");
    assert_eq!(info["stats"]["artifacts"], 2);
    assert_eq!(info["stats"]["objects"], 2);
    assert_eq!(
        info["stats"]["stored_bytes"],
        std::fs::metadata(fixture("ks.cfg")).unwrap().len() + std::fs::metadata(fixture("post-install.sh")).unwrap().len()
    );
    assert!(info["stats"]["free_bytes"].as_u64().unwrap() > 0);
    // a failure to show in the diagnostics: a wrong checksum
    let (code, _) = repo.import(&["--sha256", &"0".repeat(64)], &[fixture("ipxe.iso")]);
    assert_eq!(code, 1);
    let out = repo.run(["info", "--diagnostics"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("imagesmith-cli 0.1.0") && text.contains(&repo.home().display().to_string()), "{text}");
    assert!(text.contains("2 artifacts, 2 stored files"), "{text}");
    assert!(text.contains("[checksum_mismatch]"), "the last failed job with its code: {text}");
}

/// Every row has a value starting right under each of `columns`' headings (left-aligned columns).
fn assert_lined_up(text: &str, columns: &[&str]) {
    let mut lines = text.lines().map(|l| l.chars().collect::<Vec<char>>());
    let header = lines.next().expect("a heading line");
    let header_text: String = header.iter().collect();
    for column in columns {
        let at = header_text.find(&format!("  {column}")).unwrap_or_else(|| panic!("{column} in {header_text}")) + 2;
        let at = header_text[..at].chars().count();
        for row in lines.clone() {
            let row_text: String = row.iter().collect();
            assert!(
                row.get(at).is_some_and(|c| !c.is_whitespace()) && row.get(at - 1) == Some(&' '),
                "{column} is not under its heading:\n{header_text}\n{row_text}"
            );
        }
    }
}

#[test]
fn the_list_and_jobs_tables_line_up_under_their_headings() {
    let repo = Repo::new();
    repo.import(&[], &[fixture("ks.cfg"), fixture("win-server-2022.iso")]);
    repo.import(&[], &[fixture("ipxe.iso"), fixture("SHA256SUMS.wrong"), fixture("post-install.sh")]);
    let list = String::from_utf8(repo.run(["list"]).stdout).unwrap();
    assert_eq!(list.lines().count(), 4, "{list}");
    assert_lined_up(&list, &["NAME", "KIND", "OS", "SHA256", "CREATED"]);
    let jobs = String::from_utf8(repo.run(["jobs"]).stdout).unwrap();
    assert!(jobs.contains("partly_succeeded"), "{jobs}");
    assert_lined_up(&jobs, &["KIND", "STATE", "CREATED", "FINISHED", "SUMMARY"]);

    // A lost copy adds a STATE column, under its heading too.
    std::fs::remove_file(&repo.objects()[0]).unwrap();
    assert_ne!(repo.run(["verify"]).status.code(), Some(0));
    let list = String::from_utf8(repo.run(["list"]).stdout).unwrap();
    assert!(list.contains("missing"), "{list}");
    assert_lined_up(&list.lines().take(4).collect::<Vec<_>>().join("\n"), &["KIND", "OS", "SHA256", "CREATED", "STATE"]);
}
