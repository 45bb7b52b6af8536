//! Import through the CLI on real files: kinds and OS detected, checksums verified, matrix enforced.

mod common;

use common::*;
use std::process::Command;

#[test]
fn every_kind_is_detected_and_one_bad_file_does_not_stop_the_others() {
    let repo = Repo::new();
    // The vendor bundle is accepted only with its signature verifying against a trusted key.
    let (code, k) =
        repo.json([std::ffi::OsStr::new("key"), "add".as_ref(), fixture("vendor-signing-key.gpg").as_os_str(), "--yes".as_ref()]);
    assert_eq!(code, 0, "{k:#}");
    let files: Vec<_> = [
        "rhel-9.6-x86_64-dvd.iso",
        "ubuntu-24.04-server-amd64.iso",
        "win-server-2022.iso",
        "esxi-8.0.iso",
        "ipxe.iso",
        "dud-kmod-example.iso",
        "kmod-example-1.0-1.el9.x86_64.rpm",
        "win-nic-driver.zip",
        "winpe-amd64.zip",
        "vendor-bundle.zip",
        "vendor-bundle.zip.asc",
        "ks.cfg",
        "autoyast.xml",
        "autounattend.xml",
        "post-install.sh",
        "collect.py",
        "Set-Network.ps1",
        "join-domain.cmd",
        "monitoring-agent-2.1.tar.gz",
        "monitoring-agent-2.1.zip",
        "broken.json",
        "truncated.iso",
    ]
    .iter()
    .map(|f| fixture(f))
    .collect();
    let (code, report) = repo.import(&[], &files);
    assert_eq!(code, 1, "a failed item makes the exit status 1");
    let expect = [
        ("rhel-9.6-x86_64-dvd.iso", "os", Some("linux"), Some("rhel")),
        ("ubuntu-24.04-server-amd64.iso", "os", Some("linux"), Some("ubuntu")),
        ("win-server-2022.iso", "os", Some("windows"), None),
        ("esxi-8.0.iso", "os", Some("vmware"), Some("esxi")),
        ("ipxe.iso", "os", None, None),
        ("dud-kmod-example.iso", "driver", Some("linux"), None),
        ("kmod-example-1.0-1.el9.x86_64.rpm", "driver", Some("linux"), None),
        ("win-nic-driver.zip", "driver", Some("windows"), None),
        ("winpe-amd64.zip", "boot", Some("windows"), None),
        ("vendor-bundle.zip", "bundle", Some("windows"), None),
        ("vendor-bundle.zip.asc", "bundle_sig", Some("windows"), None),
        ("ks.cfg", "unattend", Some("linux"), None),
        ("autoyast.xml", "unattend", Some("linux"), Some("sles")),
        ("autounattend.xml", "unattend", Some("windows"), None),
        ("post-install.sh", "script", Some("linux"), None),
        ("collect.py", "script", Some("linux"), None),
        ("Set-Network.ps1", "script", Some("windows"), None),
        ("join-domain.cmd", "script", Some("windows"), None),
        ("monitoring-agent-2.1.tar.gz", "software", Some("linux"), None),
        ("monitoring-agent-2.1.zip", "software", Some("windows"), None),
    ];
    for (name, kind, os, distro) in expect {
        let it = item(&report, name);
        assert_eq!(it["outcome"], "imported", "{name}: {it:#}");
        let a = &it["artifact"];
        assert_eq!(a["kind"], kind, "{name}");
        assert_eq!(a["os"].as_str(), os, "{name}");
        if distro.is_some() {
            assert_eq!(a["distro"].as_str(), distro, "{name}");
        }
        assert_eq!(a["sha256"].as_str().unwrap(), sha256_of(&fixture(name)), "{name}");
        assert_eq!(a["size"].as_u64().unwrap(), std::fs::metadata(fixture(name)).unwrap().len());
    }
    let rhel = &item(&report, "rhel-9.6-x86_64-dvd.iso")["artifact"]["detected"];
    assert_eq!(rhel["volume_id"], "RHEL-9-6-0-BaseOS-x86_64");
    assert_eq!(rhel["version"], "9.6");
    assert_eq!(rhel["arch"], "x86_64");
    let inf = &item(&report, "win-nic-driver.zip")["artifact"]["detected"];
    assert_eq!(inf["driver"]["class"], "Net", "{inf:#}");
    assert_eq!(item(&report, "broken.json")["error"]["code"], "invalid_content");
    let truncated = &item(&report, "truncated.iso")["error"];
    assert_eq!(truncated["code"], "invalid_content");
    for field in ["text", "explanation", "recovery"] {
        assert!(!truncated[field].as_str().unwrap().is_empty());
    }
    assert_eq!(report["job"]["state"], "partly_succeeded", "the good files were imported");
    let (_, list) = repo.json(["list"]);
    assert_eq!(list.as_array().unwrap().len(), expect.len(), "failed files leave no artifact");
    assert_eq!(repo.objects().len(), expect.len(), "failed files leave no object");
    assert!(repo.staging_files().is_empty());
}

#[test]
fn checksum_files_of_every_format_are_matched_by_name_and_not_imported() {
    // The fixtures' checksum files are what the real tools accept.
    let ok = Command::new("sha256sum")
        .args(["-c", "--strict", "--quiet", "SHA256SUMS", "SHA256SUMS.binary", "SHA256SUMS.upper"])
        .current_dir(fixtures())
        .status()
        .unwrap();
    assert!(ok.success());
    let ok = Command::new("md5sum").args(["-c", "--strict", "--quiet", "MD5SUMS.crlf"]).current_dir(fixtures()).status().unwrap();
    assert!(ok.success());
    for (sums, target, algo) in [
        ("SHA256SUMS", "ipxe.iso", "sha256"),
        ("SHA256SUMS.binary", "ipxe.iso", "sha256"),
        ("SHA256SUMS.upper", "rhel-9.6-x86_64-dvd.iso", "sha256"),
        ("SHA512SUMS.tag", "ks.cfg", "sha512"),
        ("MD5SUMS.crlf", "ipxe.iso", "md5"),
        ("CHECKSUM", "rhel-9.6-x86_64-dvd.iso", "sha256"),
        ("ipxe.iso.sha256", "ipxe.iso", "sha256"),
        ("ks.cfg.md5", "ks.cfg", "md5"),
    ] {
        let repo = Repo::new();
        let (code, report) = repo.import(&[], &[fixture(target), fixture(sums)]);
        assert_eq!(code, 0, "{sums}: {report:#}");
        assert_eq!(report["items"].as_array().unwrap().len(), 1, "{sums} is not imported itself");
        let it = item(&report, target);
        assert_eq!(it["outcome"], "imported");
        assert_eq!(it["verified"][0]["source"], sums);
        assert_eq!(it["verified"][0]["algo"], algo);
        // The verified algorithm was computed in the same pass and stored.
        assert!(it["artifact"][algo].as_str().is_some_and(|h| h.len() == 64 || h.len() == 32 || h.len() == 128));
        assert_eq!(report["checksum_files"][0]["file_name"], sums);
    }
}

#[test]
fn every_check_is_kept_as_evidence_with_its_file_and_line_and_verify_dates_it() {
    let repo = Repo::new();
    let (code, report) = repo.import(&[], &[fixture("ipxe.iso"), fixture("MD5SUMS.crlf"), fixture("SHA256SUMS")]);
    assert_eq!(code, 0, "{report:#}");
    // What the job keeps for History names the line too.
    let verified = &item(&report, "ipxe.iso")["verified"];
    assert!(verified.as_array().unwrap().iter().any(|v| v["source"] == "MD5SUMS.crlf" && v["line"] == 3), "{verified:#}");

    let (_, a) = repo.json(["show", "ipxe.iso"]);
    let evidence: Vec<(String, String, String, u64)> = a["verification"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            assert!(v["verified_at"].as_str().unwrap().starts_with("20"), "{v}");
            assert!(v["job_id"].as_i64().is_some(), "{v}");
            (
                v["algo"].as_str().unwrap().into(),
                v["expected_from"].as_str().unwrap().into(),
                v["source_file"].as_str().unwrap().into(),
                v["line"].as_u64().unwrap(),
            )
        })
        .collect();
    // MD5SUMS.crlf lists ipxe.iso on its third line (after two comment lines): counted as a
    // person counts them in an editor.
    assert_eq!(
        evidence,
        vec![
            ("md5".into(), "checksum_file".into(), "MD5SUMS.crlf".into(), 3),
            ("sha256".into(), "checksum_file".into(), "SHA256SUMS".into(), 1)
        ]
    );
    assert!(a["last_verified_at"].is_null(), "not verified since import");
    let text = String::from_utf8(repo.run(["show", "ipxe.iso"]).stdout).unwrap();
    assert!(text.contains("SHA-256 matched SHA256SUMS (line 1), 20"), "{text}");

    // The same bytes again with a typed digest: a duplicate, and one more piece of evidence.
    let sha = sha256_of(&fixture("ipxe.iso"));
    let (code, again) = repo.import(&["--sha256", &sha], &[fixture("ipxe.iso")]);
    assert_eq!(code, 0);
    assert_eq!(item(&again, "ipxe.iso")["outcome"], "duplicate");
    let (_, a) = repo.json(["show", "ipxe.iso"]);
    let typed = a["verification"].as_array().unwrap().iter().find(|v| v["expected_from"] == "typed").expect("typed evidence");
    assert!(typed["source_file"].is_null() && typed["line"].is_null(), "{typed}");
    assert_eq!(a["verification"].as_array().unwrap().len(), 3);
    // The same evidence once more refreshes it rather than adding a row.
    repo.import(&[], &[fixture("ipxe.iso"), fixture("SHA256SUMS")]);
    let (_, a) = repo.json(["show", "ipxe.iso"]);
    assert_eq!(a["verification"].as_array().unwrap().len(), 3);

    // History keeps what each job checked.
    let job = a["verification"][0]["job_id"].as_i64().unwrap();
    let (_, detail) = repo.json(["jobs", "show", &job.to_string()]);
    assert_eq!(detail["items"][0]["verification"][0]["source_file"], "MD5SUMS.crlf", "{detail:#}");
    let text = String::from_utf8(repo.run(["jobs", "show", &job.to_string()]).stdout).unwrap();
    assert!(text.contains("MD5 matched MD5SUMS.crlf (line 3)"), "{text}");

    // verify re-hashes the stored copy and says when.
    let (code, _) = repo.json(["verify", "ipxe.iso"]);
    assert_eq!(code, 0);
    let (_, a) = repo.json(["show", "ipxe.iso"]);
    assert!(a["last_verified_at"].as_str().is_some_and(|t| t.starts_with("20")), "{a:#}");
    let text = String::from_utf8(repo.run(["show", "ipxe.iso"]).stdout).unwrap();
    assert!(text.contains("stored copy re-hashed intact"), "{text}");
}

#[test]
fn a_folder_is_imported_with_everything_below_it_but_hidden_files_and_links() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rhel9-kit");
    std::fs::create_dir_all(root.join("answer/.git")).unwrap();
    std::fs::create_dir_all(root.join("media")).unwrap();
    std::fs::copy(fixture("ipxe.iso"), root.join("media/ipxe.iso")).unwrap();
    std::fs::copy(fixture("SHA256SUMS"), root.join("media/SHA256SUMS")).unwrap();
    std::fs::copy(fixture("ks.cfg"), root.join("answer/ks.cfg")).unwrap();
    std::fs::write(root.join("answer/.git/config"), "[core]\n").unwrap();
    std::fs::write(root.join(".DS_Store"), "junk").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", root.join("answer/passwd")).unwrap();

    let repo = Repo::new();
    let (code, report) = repo.import(&[], std::slice::from_ref(&root));
    assert_eq!(code, 0, "{report:#}");
    let paths: Vec<&str> = report["items"].as_array().unwrap().iter().map(|i| i["path"].as_str().unwrap()).collect();
    let below = |rel: &str| root.join(rel).display().to_string();
    assert_eq!(paths, [below("answer/ks.cfg"), below("media/ipxe.iso")], "hidden files and the link are not imported, in name order");
    assert_eq!(item(&report, "ipxe.iso")["verified"][0]["source"], "SHA256SUMS", "checksum files in the folder are matched");

    // A folder of the wrong size is refused before anything is stored.
    let big = dir.path().join("home");
    std::fs::create_dir(&big).unwrap();
    for i in 0..=10_000 {
        std::fs::write(big.join(format!("f{i}")), b"").unwrap();
    }
    let (code, err) = repo.json(["import".as_ref(), big.as_os_str()]);
    assert_eq!(code, 1);
    assert_eq!(err["error"]["code"], "too_large", "{err:#}");
    assert_eq!(repo.objects().len(), 2);
}

#[test]
fn a_wrong_checksum_fails_that_file_and_stores_nothing() {
    let repo = Repo::new();
    let (code, report) = repo.import(&[], &[fixture("ipxe.iso"), fixture("SHA256SUMS.wrong"), fixture("ks.cfg")]);
    assert_eq!(code, 1);
    let it = item(&report, "ipxe.iso");
    assert_eq!(it["outcome"], "failed");
    assert_eq!(it["error"]["code"], "checksum_mismatch");
    assert!(it["error"]["text"].as_str().unwrap().contains("SHA256SUMS.wrong"));
    assert!(it["error"]["recovery"].as_str().unwrap().contains("checksum matches"));
    assert_eq!(item(&report, "ks.cfg")["outcome"], "imported", "the other file still goes in");
    assert_eq!(repo.objects().len(), 1);
    assert!(repo.staging_files().is_empty());
    let (_, list) = repo.json(["list"]);
    assert_eq!(list.as_array().unwrap().len(), 1);

    let text =
        repo.run(["import".as_ref(), "--checksum-file".as_ref(), fixture("SHA256SUMS.wrong").as_os_str(), fixture("ipxe.iso").as_os_str()]);
    let out = String::from_utf8_lossy(&text.stdout);
    assert!(out.contains("checksum_mismatch") && out.contains("what to do:"), "{out}");
}

#[test]
fn digests_on_the_command_line_in_every_form() {
    let iso = fixture("ipxe.iso");
    let sha256 = sha256_of(&iso);
    let md5 = String::from_utf8(Command::new("md5sum").arg(&iso).output().unwrap().stdout).unwrap()[..32].to_string();
    let sha1 = String::from_utf8(Command::new("sha1sum").arg(&iso).output().unwrap().stdout).unwrap()[..40].to_string();
    let sha512 = String::from_utf8(Command::new("sha512sum").arg(&iso).output().unwrap().stdout).unwrap()[..128].to_string();
    for (flag, value, algo) in [
        ("--sha256", sha256.to_uppercase(), "sha256"),
        ("--md5", md5.clone(), "md5"),
        ("--sha1", sha1.clone(), "sha1"),
        ("--sha512", sha512.clone(), "sha512"),
        ("--checksum", format!("sha1:{sha1}"), "sha1"),
        ("--checksum", md5.clone(), "md5"),
    ] {
        let repo = Repo::new();
        let (code, report) = repo.import(&[flag, &value], std::slice::from_ref(&iso));
        assert_eq!(code, 0, "{flag} {value}: {report:#}");
        let a = &item(&report, "ipxe.iso")["artifact"];
        let hex = value.rsplit(':').next().unwrap().to_lowercase();
        assert_eq!(a[algo].as_str().unwrap(), hex);
        assert_eq!(a["sha256"].as_str().unwrap(), sha256, "SHA-256 is always computed");
    }
    let repo = Repo::new();
    let mut wrong = md5.clone();
    wrong.replace_range(0..1, if &md5[0..1] == "0" { "1" } else { "0" });
    let (code, report) = repo.import(&["--md5", &wrong], std::slice::from_ref(&iso));
    assert_eq!(code, 1);
    assert_eq!(item(&report, "ipxe.iso")["error"]["code"], "checksum_mismatch");
    assert!(repo.objects().is_empty());

    let (code, report) = repo.import(&["--checksum", "sha256:abc"], std::slice::from_ref(&iso));
    assert_eq!(code, 1);
    assert_eq!(report["error"]["code"], "invalid_checksum");

    let out = repo.run(["import".as_ref(), "--sha256".as_ref(), sha256.as_ref(), iso.as_os_str(), fixture("ks.cfg").as_os_str()]);
    assert_eq!(out.status.code(), Some(2), "one digest for two files is a usage error");
    let out = repo.run(["import", "--md5", "x", "--sha1", "y", "f"]);
    assert_eq!(out.status.code(), Some(2), "two digest flags are a usage error");
}

#[test]
fn the_same_bytes_are_stored_once_and_reported_as_a_duplicate() {
    let repo = Repo::new();
    let (_, first) = repo.import(&[], &[fixture("ipxe.iso")]);
    let id = first["items"][0]["artifact"]["id"].as_i64().unwrap();
    let copy = repo.home().join("copy-of-ipxe.iso");
    std::fs::copy(fixture("ipxe.iso"), &copy).unwrap();
    let (code, second) = repo.import(&[], &[copy]);
    assert_eq!(code, 0, "a duplicate is not a failure");
    let it = &second["items"][0];
    assert_eq!(it["outcome"], "duplicate");
    assert_eq!(it["artifact"]["id"].as_i64().unwrap(), id);
    assert_eq!(it["artifact"]["name"], "ipxe.iso");
    assert_eq!(repo.objects().len(), 1);
    let text = repo.run(["import".as_ref(), fixture("ipxe.iso").as_os_str()]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("already in the repository as ipxe.iso"));
}

#[test]
fn what_the_support_matrix_refuses_is_refused_with_what_is_allowed() {
    let repo = Repo::new();
    let cases: &[(&[&str], &str, &str, &str)] = &[
        (&["--kind", "os"], "notes.txt", "unsupported_type", ".iso"),
        (&["--os", "linux"], "win-nic-driver.zip", "unsupported_type", ".zip of .inf drivers"),
        (&["--kind", "boot", "--os", "vmware"], "winpe-amd64.zip", "unsupported_type", "not supported for vmware"),
        (&["--kind", "boot", "--os", "linux"], "winpe-amd64.zip", "unsupported_type", "not supported for linux"),
        (&["--kind", "driver", "--os", "linux"], "rhel-9.6-x86_64-dvd.iso", "unsupported_type", "driver update disk"),
        (&["--kind", "script", "--os", "vmware"], "post-install.sh", "unsupported_type", "not supported"),
        (&[], "site-config.json", "os_required", "--os"),
        (&[], "notes.txt", "unknown_type", "--kind"),
        (&[], "plain.xml", "unknown_type", "--kind"),
        (&[], "not-well-formed.xml", "invalid_content", "Download"),
        (&["--os", "solaris"], "ks.cfg", "invalid_os", "one of the listed"),
    ];
    for (args, file, code_expected, hint) in cases {
        let (code, report) = repo.import(args, &[fixture(file)]);
        let err = if report.get("error").is_some() { &report["error"] } else { &item(&report, file)["error"] };
        assert_eq!(code, 1, "{file} {args:?}");
        assert_eq!(err["code"], *code_expected, "{file} {args:?}: {err:#}");
        let all = format!("{} {} {}", err["text"], err["explanation"], err["recovery"]);
        assert!(all.contains(hint), "{file} {args:?}: `{hint}` not in {all}");
    }
    assert!(repo.objects().is_empty());
    let (code, report) = repo.import(&["--os", "windows"], &[fixture("site-config.json")]);
    assert_eq!(code, 0);
    assert_eq!(report["items"][0]["artifact"]["kind"], "config");
    assert_eq!(report["items"][0]["artifact"]["os"], "windows");
    let (code, report) = repo.import(&["--os", "rhel"], &[fixture("ks.cfg")]);
    assert_eq!(code, 0);
    assert_eq!(report["items"][0]["artifact"]["distro"], "rhel");
}

fn digest_of(tool: &str, path: &std::path::Path) -> String {
    let out = Command::new(tool).arg(path).output().unwrap();
    String::from_utf8(out.stdout).unwrap().split_whitespace().next().unwrap().to_string()
}

/// The same hex with its first digit changed: a digest of the right length that does not match.
fn wrong(hex: &str) -> String {
    let first = if hex.starts_with('0') { "1" } else { "0" };
    format!("{first}{}", &hex[1..])
}

#[test]
fn every_digest_a_checksum_file_gives_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let iso = fixture("ipxe.iso");
    let (sha256, md5, sha512) = (sha256_of(&iso), digest_of("md5sum", &iso), digest_of("sha512sum", &iso));
    let write = |name: &str, text: String| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    // A right SHA-256 next to a wrong MD5, in one BSD-tagged file and across two files.
    let tagged = write("CHECKSUMS.tag", format!("SHA256 (ipxe.iso) = {sha256}\nMD5 (ipxe.iso) = {}\n", wrong(&md5)));
    let sums = write("SHA256SUMS", format!("{sha256}  ipxe.iso\n"));
    let md5_sidecar = write("ipxe.iso.md5", format!("{}\n", wrong(&md5)));
    for (what, files) in [("one file", vec![tagged.clone()]), ("two files", vec![sums.clone(), md5_sidecar.clone()])] {
        let repo = Repo::new();
        let mut all = vec![iso.clone()];
        all.extend(files);
        let (code, report) = repo.import(&[], &all);
        assert_eq!(code, 1, "{what}: {report:#}");
        let err = &item(&report, "ipxe.iso")["error"];
        assert_eq!(err["code"], "checksum_mismatch", "{what}: {err:#}");
        assert!(err["text"].as_str().unwrap().contains("MD5"), "{what}: {err:#}");
        assert!(repo.objects().is_empty() && repo.staging_files().is_empty(), "{what}");
    }
    // A wrong line before a right one, and two files that disagree: a conflict, not a vote.
    let twice = write("SHA256SUMS.twice", format!("{}  ipxe.iso\n{sha256}  ipxe.iso\n", wrong(&sha256)));
    let other = write("ipxe.iso.sha256", format!("{}\n", wrong(&sha256)));
    for (what, files) in [("one file", vec![twice]), ("two files", vec![sums.clone(), other])] {
        let repo = Repo::new();
        let mut all = vec![iso.clone()];
        all.extend(files);
        let (code, report) = repo.import(&[], &all);
        assert_eq!(code, 1, "{what}: {report:#}");
        let err = &item(&report, "ipxe.iso")["error"];
        assert_eq!(err["code"], "checksum_conflict", "{what}: {err:#}");
        let text = err["text"].as_str().unwrap();
        assert!(text.contains(&sha256) && text.contains(&wrong(&sha256)), "{what}: {text}");
        assert!(!err["recovery"].as_str().unwrap().is_empty());
        assert!(repo.objects().is_empty() && repo.staging_files().is_empty(), "{what}");
    }
    // All right: every algorithm is computed in the one pass and each is reported as verified.
    let all_right = write("DIGESTS", format!("MD5 (ipxe.iso) = {md5}\nSHA256 (ipxe.iso) = {sha256}\nSHA512 (ipxe.iso) = {sha512}\n"));
    let repo = Repo::new();
    let (code, report) = repo.import(&[], &[iso.clone(), all_right]);
    assert_eq!(code, 0, "{report:#}");
    let it = item(&report, "ipxe.iso");
    let verified: Vec<&str> = it["verified"].as_array().unwrap().iter().map(|v| v["algo"].as_str().unwrap()).collect();
    assert_eq!(verified, ["md5", "sha256", "sha512"]);
    assert_eq!(it["artifact"]["md5"], md5.as_str());
    assert_eq!(it["artifact"]["sha512"], sha512.as_str());
}

#[test]
fn scripts_named_like_checksum_tools_are_imported_and_checksum_lists_are_known_by_content() {
    let dir = tempfile::tempdir().unwrap();
    let scripts = [
        ("md5sum.sh", "#!/bin/sh\n# Check the downloaded media before the installer runs.\nset -eu\ncd /media/install\nmd5sum -c MD5SUMS\n"),
        ("verify-checksum.sh", "#!/bin/bash\nset -euo pipefail\nfor f in /var/cache/images/*.iso; do\n  sha256sum --check --ignore-missing \"${f%/*}/SHA256SUMS\"\ndone\n"),
        ("CHECKSUMS-tool.py", "#!/usr/bin/env python3\n\"\"\"Print a SHA256SUMS line for each file given.\"\"\"\nimport hashlib, sys\n\nfor name in sys.argv[1:]:\n    with open(name, 'rb') as f:\n        print(hashlib.sha256(f.read()).hexdigest() + '  ' + name)\n"),
    ];
    let mut files: Vec<_> = scripts
        .iter()
        .map(|(name, text)| {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            p
        })
        .collect();
    // A checksum list whose name says nothing, clear-signed with gpg: known by its content.
    let iso = fixture("ipxe.iso");
    let list = dir.path().join("downloads.txt");
    std::fs::write(&list, format!("# ipxe, as downloaded\n{}  ipxe.iso\n", sha256_of(&iso))).unwrap();
    let gnupg = dir.path().join("gnupg");
    std::fs::create_dir(&gnupg).unwrap();
    std::fs::set_permissions(&gnupg, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let gpg = |args: &[&std::ffi::OsStr]| {
        let ok = Command::new("gpg").env("GNUPGHOME", &gnupg).args(["--batch", "--quiet", "--passphrase", ""]).args(args).status().unwrap();
        assert!(ok.success(), "gpg {args:?}");
    };
    gpg(&[
        "--quick-gen-key".as_ref(),
        "Imagesmith Test <test@example.invalid>".as_ref(),
        "ed25519".as_ref(),
        "sign".as_ref(),
        "never".as_ref(),
    ]);
    let signed = dir.path().join("downloads.txt.signed");
    gpg(&["--clearsign".as_ref(), "--output".as_ref(), signed.as_os_str(), list.as_os_str()]);
    let _ = Command::new("gpgconf").env("GNUPGHOME", &gnupg).args(["--kill", "gpg-agent"]).status();
    assert!(std::fs::read_to_string(&signed).unwrap().starts_with("-----BEGIN PGP SIGNED MESSAGE-----"));
    files.push(iso);
    files.push(signed);
    files.push(fixture("SHA512SUMS.tag"));
    files.push(fixture("ks.cfg"));

    let repo = Repo::new();
    // Its signer is not trusted here: accepted for this run, and recorded as such.
    let (code, report) = repo.import(&["--os", "linux", "--allow-unknown-key"], &files);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(item(&report, "ipxe.iso")["verified"][0]["signature"]["status"], "unknown_key", "{report:#}");
    for (name, _) in scripts {
        let it = item(&report, name);
        assert_eq!(it["outcome"], "imported", "{name}: {it:#}");
        assert_eq!(it["artifact"]["kind"], "script", "{name}");
    }
    assert_eq!(item(&report, "ipxe.iso")["verified"][0]["source"], "downloads.txt.signed");
    assert_eq!(item(&report, "ks.cfg")["verified"][0]["source"], "SHA512SUMS.tag");
    let lists: Vec<&str> = report["checksum_files"].as_array().unwrap().iter().map(|c| c["file_name"].as_str().unwrap()).collect();
    assert_eq!(lists, ["downloads.txt.signed", "SHA512SUMS.tag"]);
    assert_eq!(report["items"].as_array().unwrap().len(), 5, "the two lists are not imported themselves");

    // A file named like a checksum list whose content is not one is still reported, not imported.
    let bogus = dir.path().join("SHA256SUMS");
    std::fs::write(&bogus, "see https://example.invalid/sums\n").unwrap();
    let (code, report) = Repo::new().import(&[], &[fixture("ks.cfg"), bogus]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["checksum_files"][0]["error"]["code"], "checksum_file_invalid");
    assert_eq!(report["items"].as_array().unwrap().len(), 1);
}
