//! Signed checksum lists through the CLI: keys and signatures made by GnuPG in the test (clear-
//! signed, detached armored and binary, as Fedora, Debian and Ubuntu publish them), a list changed
//! after it was signed, a signature that is no signature, a key not trusted here, a key that has
//! expired, and the repository's policy that requires a good signature. Vendor bundles: accepted
//! only with their BUNDLESIG `.asc` verifying over the zip against a trusted key.

mod common;

use common::*;
use serde_json::Value;
use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::Command;

const SIGNER: &str = "Release Signer <release@example.org>";

/// A GnuPG home with the release key, and a repository that trusts it.
struct Setup {
    gpg: Gpg,
    repo: Repo,
    fingerprint: String,
    files: tempfile::TempDir,
}

fn setup() -> Setup {
    let gpg = Gpg::new();
    gpg.generate(SIGNER, "2y", None);
    let files = tempfile::tempdir().unwrap();
    let key = files.path().join("release.asc");
    gpg.export("release@example.org", true, &key);
    let repo = Repo::new();
    let (code, k) = repo.json([OsStr::new("key"), OsStr::new("add"), key.as_os_str(), OsStr::new("--yes")]);
    assert_eq!(code, 0, "{k:#}");
    let fingerprint = k["fingerprint"].as_str().unwrap().to_string();
    Setup { gpg, repo, fingerprint, files }
}

impl Setup {
    /// ipxe.iso copied in, and a SHA256SUMS that lists it (plus `extra` lines).
    fn iso_and_sums(&self, extra: &str) -> (PathBuf, PathBuf) {
        let iso = self.files.path().join("ipxe.iso");
        std::fs::copy(fixture("ipxe.iso"), &iso).unwrap();
        let sums = self.files.path().join("SHA256SUMS");
        std::fs::write(&sums, format!("{}  ipxe.iso\n{extra}", sha256_of(&iso))).unwrap();
        (iso, sums)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.files.path().join(name)
    }
}

fn only_item(report: &Value) -> &Value {
    assert_eq!(report["items"].as_array().map(Vec::len), Some(1), "{report:#}");
    &report["items"][0]
}

fn assert_refused(repo: &Repo, code: i32, report: &Value, error: &str) -> Value {
    assert_eq!(code, 1, "{report:#}");
    let item = only_item(report);
    assert_eq!(item["outcome"], "failed", "{report:#}");
    assert_eq!(item["error"]["code"], error, "{report:#}");
    assert!(repo.objects().is_empty(), "nothing may be stored: {:?}", repo.objects());
    assert_eq!(repo.json(["list"]).1.as_array().map(Vec::len), Some(0));
    item["error"].clone()
}

fn show(repo: &Repo, name: &str) -> Value {
    let (code, a) = repo.json(["show", name]);
    assert_eq!(code, 0, "{a:#}");
    a
}

#[test]
fn a_list_signed_by_a_trusted_key_vouches_for_the_import_and_names_its_signer() {
    // As distributions publish them: Fedora's clear-signed CHECKSUM, Ubuntu's SHA256SUMS.gpg
    // (binary here), Debian's armored SHA512SUMS.sign, and an .asc given with --checksum-file.
    for (list, signature, how, by_flag) in [
        ("CHECKSUM", None, Signing::Clear, false),
        ("SHA256SUMS", Some("SHA256SUMS.gpg"), Signing::Detached { armor: false }, false),
        ("SHA256SUMS", Some("SHA256SUMS.sign"), Signing::Detached { armor: true }, false),
        ("SHA256SUMS", Some("SHA256SUMS.asc"), Signing::Detached { armor: true }, true),
    ] {
        let s = setup();
        let (iso, sums) = s.iso_and_sums("");
        let mut given: Vec<PathBuf> = vec![iso.clone()];
        let mut flags: Vec<PathBuf> = Vec::new();
        match signature {
            None => {
                s.gpg.sign("release@example.org", how, &sums, &s.path(list), None);
                given.push(s.path(list));
            }
            Some(sig) => {
                s.gpg.sign("release@example.org", how, &sums, &s.path(sig), None);
                let pair = [sums.clone(), s.path(sig)];
                if by_flag {
                    for p in pair {
                        flags.push("--checksum-file".into());
                        flags.push(p);
                    }
                } else {
                    given.extend(pair);
                }
            }
        }
        let mut args: Vec<&OsStr> = vec![OsStr::new("import")];
        args.extend(flags.iter().map(|p| p.as_os_str()));
        args.extend(given.iter().map(|p| p.as_os_str()));
        let (code, report) = s.repo.json(&args);
        assert_eq!(code, 0, "{list} {signature:?}: {report:#}");
        let item = only_item(&report);
        assert_eq!(item["outcome"], "imported", "{report:#}");
        let sig = &item["verified"][0]["signature"];
        assert_eq!(sig["status"], "good", "{list} {signature:?}: {report:#}");
        if signature.is_none() {
            // Lines are counted in the file as published: the armour header comes first.
            assert_eq!(item["verified"][0]["line"], 4, "{report:#}");
        }
        let c = &report["checksum_files"][0];
        assert_eq!(c["signature"]["status"], "good", "{report:#}");
        assert_eq!(c["signature"]["signature_file"].as_str(), signature, "{report:#}");

        let a = show(&s.repo, "ipxe.iso");
        assert_eq!(a["signature"]["status"], "good", "{a:#}");
        assert_eq!(a["signature"]["signer"], SIGNER);
        assert_eq!(a["signature"]["fingerprint"], s.fingerprint.as_str());
        assert!(a["signature"]["signed_at"].as_str().is_some_and(|t| t.starts_with("20")), "{a:#}");
        assert_eq!(a["verification"][0]["signature"]["status"], "good", "{a:#}");
        let text = String::from_utf8(s.repo.run(["show", "ipxe.iso"]).stdout).unwrap();
        assert!(text.contains(&format!("signed by {SIGNER}")), "{text}");
    }
}

#[test]
fn a_list_changed_after_it_was_signed_or_a_signature_that_is_none_refuses_the_import() {
    // A digest edited inside a clear-signed list.
    let s = setup();
    let (iso, sums) = s.iso_and_sums("");
    let checksum = s.path("CHECKSUM");
    s.gpg.sign("release@example.org", Signing::Clear, &sums, &checksum, None);
    let text = std::fs::read_to_string(&checksum).unwrap();
    let digest = sha256_of(&iso);
    // The attack: the file swapped, and its digest written into the signed list after signing.
    let other = s.path("other.iso");
    std::fs::write(&other, b"a swapped file").unwrap();
    std::fs::write(&checksum, text.replace(&digest, &sha256_of(&other)).replace("ipxe.iso", "other.iso")).unwrap();
    let (code, report) = s.repo.import(&[], &[other.clone(), checksum.clone()]);
    let e = assert_refused(&s.repo, code, &report, "bad_signature");
    assert!(e["text"].as_str().unwrap().contains(SIGNER), "{e:#}");
    assert!(e["recovery"].as_str().unwrap().contains("again"), "{e:#}");

    // A detached signature over a list that gained a line afterwards.
    let s = setup();
    let (iso, sums) = s.iso_and_sums("");
    s.gpg.sign("release@example.org", Signing::Detached { armor: false }, &sums, &s.path("SHA256SUMS.gpg"), None);
    std::fs::write(&sums, format!("{}  ipxe.iso\n{}  extra.iso\n", sha256_of(&iso), "0".repeat(64))).unwrap();
    let (code, report) = s.repo.import(&[], &[iso.clone(), sums.clone(), s.path("SHA256SUMS.gpg")]);
    assert_refused(&s.repo, code, &report, "bad_signature");

    // A signature file that holds no signature: not read as "unsigned".
    std::fs::write(s.path("SHA256SUMS.gpg"), b"this is not a signature\n").unwrap();
    std::fs::write(&sums, format!("{}  ipxe.iso\n", sha256_of(&iso))).unwrap();
    let (code, report) = s.repo.import(&[], &[iso, sums, s.path("SHA256SUMS.gpg")]);
    let e = assert_refused(&s.repo, code, &report, "bad_signature");
    assert!(e["text"].as_str().unwrap().contains("SHA256SUMS.gpg"), "{e:#}");
}

#[test]
fn lines_outside_the_signed_part_of_a_clear_signed_list_are_not_read() {
    let s = setup();
    let (iso, sums) = s.iso_and_sums("");
    let checksum = s.path("CHECKSUM");
    s.gpg.sign("release@example.org", Signing::Clear, &sums, &checksum, None);
    let other = s.path("post-install.sh");
    std::fs::write(&other, b"#!/bin/sh\necho appended after the signature\n").unwrap();
    let mut text = std::fs::read_to_string(&checksum).unwrap();
    text.push_str(&format!("{}  post-install.sh\n", sha256_of(&other)));
    std::fs::write(&checksum, text).unwrap();
    let (code, report) = s.repo.import(&[], &[iso, other, checksum]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(item(&report, "ipxe.iso")["verified"][0]["signature"]["status"], "good", "{report:#}");
    assert_eq!(item(&report, "post-install.sh")["verified"], Value::Null, "the appended line vouches for nothing: {report:#}");
    assert_eq!(show(&s.repo, "post-install.sh")["signature"]["status"], "none");
}

#[test]
fn armour_that_is_tampered_with_is_not_read_as_unsigned_and_what_was_recorded_stays() {
    // The blank line after the armour header made a space (OpenPGP still reads it) and a line
    // appended after the signature: the appended line is still not read.
    let s = setup();
    let (iso, sums) = s.iso_and_sums("");
    let checksum = s.path("CHECKSUM");
    s.gpg.sign("release@example.org", Signing::Clear, &sums, &checksum, None);
    let other = s.path("post-install.sh");
    std::fs::write(&other, b"#!/bin/sh\necho appended\n").unwrap();
    let text = std::fs::read_to_string(&checksum).unwrap().replacen("\n\n", "\n \n", 1);
    std::fs::write(&checksum, format!("{text}{}  post-install.sh\n", sha256_of(&other))).unwrap();
    let (code, report) = s.repo.import(&[], &[iso.clone(), other.clone(), checksum.clone()]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(item(&report, "ipxe.iso")["verified"][0]["signature"]["status"], "good", "{report:#}");
    assert_eq!(item(&report, "post-install.sh")["verified"], Value::Null, "{report:#}");

    // Text put before the armour: the list is not usable, and not read as an unsigned one.
    std::fs::write(&checksum, format!("{}  post-install.sh\n{text}", sha256_of(&other))).unwrap();
    let (code, report) = Repo::new().import(&[], &[other, checksum.clone()]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["checksum_files"][0]["error"]["code"], "checksum_file_invalid", "{report:#}");
    assert_eq!(report["items"][0]["verified"], Value::Null, "{report:#}");

    // The same bytes imported again with the same list unsigned: the signature recorded stays.
    let (code, report) = s.repo.import(&[], &[iso.clone(), sums.clone()]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(only_item(&report)["outcome"], "duplicate");
    assert_eq!(show(&s.repo, "ipxe.iso")["signature"]["status"], "good");
}

#[test]
fn a_signature_goes_with_the_list_in_its_own_folder() {
    // Two lists of the same name; only the one in b/ is signed, and it lists b's file.
    let s = setup();
    let (a_dir, b_dir) = (s.path("a"), s.path("b"));
    std::fs::create_dir_all(&a_dir).unwrap();
    std::fs::create_dir_all(&b_dir).unwrap();
    let (a_file, b_file) = (a_dir.join("a.sh"), b_dir.join("b.sh"));
    std::fs::write(&a_file, b"#!/bin/sh\necho a\n").unwrap();
    std::fs::write(&b_file, b"#!/bin/sh\necho b\n").unwrap();
    std::fs::write(a_dir.join("SHA256SUMS"), format!("{}  a.sh\n", sha256_of(&a_file))).unwrap();
    std::fs::write(b_dir.join("SHA256SUMS"), format!("{}  b.sh\n", sha256_of(&b_file))).unwrap();
    s.gpg.sign("release@example.org", Signing::Detached { armor: false }, &b_dir.join("SHA256SUMS"), &b_dir.join("SHA256SUMS.gpg"), None);
    let files = [a_file, a_dir.join("SHA256SUMS"), b_file, b_dir.join("SHA256SUMS"), b_dir.join("SHA256SUMS.gpg")];
    let (code, report) = s.repo.import(&[], &files);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(item(&report, "b.sh")["verified"][0]["signature"]["status"], "good", "{report:#}");
    assert_eq!(item(&report, "a.sh")["verified"][0]["signature"]["status"], "none", "{report:#}");
}

#[test]
fn a_key_not_trusted_here_or_expired_refuses_unless_the_admin_accepts_it_for_the_batch() {
    // Signed by a key the repository does not trust.
    let s = setup();
    s.gpg.generate("Someone Else <else@example.org>", "2y", None);
    let (iso, sums) = s.iso_and_sums("");
    s.gpg.sign("else@example.org", Signing::Detached { armor: true }, &sums, &s.path("SHA256SUMS.asc"), None);
    let files = [iso.clone(), sums.clone(), s.path("SHA256SUMS.asc")];
    let (code, report) = s.repo.import(&[], &files);
    let e = assert_refused(&s.repo, code, &report, "unknown_key");
    let recovery = e["recovery"].as_str().unwrap();
    assert!(recovery.contains("key add") && recovery.contains("--allow-unknown-key"), "{e:#}");
    let unknown_fpr = gpg_fingerprint(&s.gpg, "else@example.org");
    assert!(e["text"].as_str().unwrap().replace(' ', "").contains(&unknown_fpr), "the key to fetch is named: {e:#} vs {unknown_fpr}");

    let (code, report) = s.repo.import(&["--allow-unknown-key"], &files);
    assert_eq!(code, 0, "{report:#}");
    let a = show(&s.repo, "ipxe.iso");
    assert_eq!(a["signature"]["status"], "unknown_key", "recorded as it was: {a:#}");
    assert_eq!(a["signature"]["fingerprint"], unknown_fpr.as_str());
    assert_eq!(a["signature"]["signer"], Value::Null);

    // Signed, three years ago, by a trusted key that expired after one.
    let s = setup();
    s.gpg.generate("Old Signer <old@example.org>", "1y", Some(3));
    let old_key = s.path("old.asc");
    s.gpg.export("old@example.org", true, &old_key);
    let (code, k) = s.repo.json([OsStr::new("key"), OsStr::new("add"), old_key.as_os_str(), OsStr::new("--yes")]);
    assert_eq!((code, &k["expired"]), (0, &Value::Bool(true)), "{k:#}");
    let (iso, sums) = s.iso_and_sums("");
    s.gpg.sign("old@example.org", Signing::Clear, &sums, &s.path("CHECKSUM"), Some(3));
    let files = [iso, s.path("CHECKSUM")];
    let (code, report) = s.repo.import(&[], &files);
    let e = assert_refused(&s.repo, code, &report, "expired_key");
    assert!(e["text"].as_str().unwrap().contains("Old Signer"), "{e:#}");
    let (code, report) = s.repo.import(&["--allow-unknown-key"], &files);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(show(&s.repo, "ipxe.iso")["signature"]["status"], "expired_key");
}

#[test]
fn a_key_its_owner_revoked_signs_nothing_any_more() {
    let s = setup();
    let (iso, sums) = s.iso_and_sums("");
    s.gpg.sign("release@example.org", Signing::Detached { armor: false }, &sums, &s.path("SHA256SUMS.gpg"), None);
    let files = [iso, sums, s.path("SHA256SUMS.gpg")];
    // The owner revokes the key with the certificate gpg made with it (its guard colon taken off),
    // publishes it again, and the admin brings it: the same fingerprint, now revoked.
    let rev = std::fs::read_dir(s.gpg.home.path().join("openpgp-revocs.d")).unwrap().next().unwrap().unwrap().path();
    let cert =
        std::fs::read_to_string(&rev).unwrap().replace(":-----BEGIN PGP PUBLIC KEY BLOCK-----", "-----BEGIN PGP PUBLIC KEY BLOCK-----");
    let cert_file = s.path("revocation.asc");
    std::fs::write(&cert_file, cert).unwrap();
    assert!(s.gpg.cmd().arg("--import").arg(&cert_file).status().unwrap().success());
    let key = s.path("release-revoked.asc");
    s.gpg.export("release@example.org", true, &key);
    let (code, k) = s.repo.json([OsStr::new("key"), OsStr::new("add"), key.as_os_str(), OsStr::new("--yes")]);
    assert_eq!(code, 0, "{k:#}");
    assert_eq!((k["fingerprint"].as_str(), &k["revoked"]), (Some(s.fingerprint.as_str()), &Value::Bool(true)), "{k:#}");
    assert_eq!(s.repo.json(["key", "list"]).1[0]["revoked"], true);

    let (code, report) = s.repo.import(&[], &files);
    let e = assert_refused(&s.repo, code, &report, "bad_signature");
    assert!(e["text"].as_str().unwrap().contains("revoked"), "{e:#}");
}

#[test]
fn the_repository_can_require_a_good_signature_on_every_import() {
    let s = setup();
    let (iso, sums) = s.iso_and_sums("");
    // Unsigned list, signature asked for on the command line.
    let (code, report) = s.repo.import(&["--require-signature"], &[iso.clone(), sums.clone()]);
    let e = assert_refused(&s.repo, code, &report, "signature_required");
    assert!(e["recovery"].as_str().unwrap().contains("SHA256SUMS.gpg"), "{e:#}");

    // The policy, kept in the repository.
    let (code, p) = s.repo.json(["key", "policy"]);
    assert_eq!((code, &p["require_signature"]), (0, &Value::Bool(false)), "{p:#}");
    let (code, p) = s.repo.json(["key", "policy", "--require-signature"]);
    assert_eq!((code, &p["require_signature"]), (0, &Value::Bool(true)), "{p:#}");
    let (code, report) = s.repo.import(&[], &[iso.clone(), sums.clone()]);
    assert_refused(&s.repo, code, &report, "signature_required");
    // A file without any checksum is refused too.
    let (code, report) = s.repo.import(&[], std::slice::from_ref(&iso));
    assert_refused(&s.repo, code, &report, "signature_required");

    s.gpg.sign("release@example.org", Signing::Detached { armor: false }, &sums, &s.path("SHA256SUMS.gpg"), None);
    let (code, report) = s.repo.import(&[], &[iso.clone(), sums.clone(), s.path("SHA256SUMS.gpg")]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(only_item(&report)["outcome"], "imported");

    let (code, p) = s.repo.json(["key", "policy", "--no-require-signature"]);
    assert_eq!((code, &p["require_signature"]), (0, &Value::Bool(false)), "{p:#}");
}

impl Setup {
    /// The vendor bundle fixture copied in with a detached armored `.asc` made by `signer`.
    fn signed_bundle(&self, signer: &str) -> (PathBuf, PathBuf) {
        let zip = self.path("vendor-bundle.zip");
        std::fs::copy(fixture("vendor-bundle.zip"), &zip).unwrap();
        let asc = self.path("vendor-bundle.zip.asc");
        self.gpg.sign(signer, Signing::Detached { armor: true }, &zip, &asc, None);
        (zip, asc)
    }
}

/// A batch of a bundle and its signature in which the bundle was refused with `error`: the
/// signature may be kept (it is a file of its own), the bundle's bytes are nowhere.
fn assert_bundle_refused(repo: &Repo, code: i32, report: &Value, zip: &std::path::Path, error: &str) -> Value {
    assert_eq!(code, 1, "{report:#}");
    let it = item(report, "vendor-bundle.zip");
    assert_eq!((&it["outcome"], &it["error"]["code"]), (&Value::from("failed"), &Value::from(error)), "{report:#}");
    let zip_sha = sha256_of(zip);
    assert!(repo.objects().iter().all(|o| !o.to_string_lossy().contains(&zip_sha)), "the bundle's bytes were stored: {:?}", repo.objects());
    assert!(repo.staging_files().is_empty(), "{:?}", repo.staging_files());
    let list = repo.json(["list"]).1;
    assert!(list.as_array().unwrap().iter().all(|a| a["kind"] != "bundle"), "{list:#}");
    it["error"].clone()
}

#[test]
fn a_bundle_signed_by_a_trusted_key_is_imported_with_its_signature_and_its_asc_kept_beside_it() {
    let s = setup();
    let (zip, asc) = s.signed_bundle("release@example.org");
    let (code, report) = s.repo.import(&[], &[zip.clone(), asc.clone()]);
    assert_eq!(code, 0, "{report:#}");
    let bundle = &item(&report, "vendor-bundle.zip")["artifact"];
    assert_eq!(bundle["kind"], "bundle", "{report:#}");
    assert_eq!(item(&report, "vendor-bundle.zip.asc")["artifact"]["kind"], "bundle_sig", "{report:#}");
    let a = show(&s.repo, "vendor-bundle.zip");
    assert_eq!(a["signature"]["status"], "good", "{a:#}");
    assert_eq!(a["signature"]["signer"], SIGNER);
    assert_eq!(a["signature"]["fingerprint"], s.fingerprint.as_str());
    assert_eq!(a["signature"]["signature_file"], "vendor-bundle.zip.asc");
    // The check is kept as evidence: the .asc, verified over the bytes with this SHA-256.
    let evidence = a["verification"].as_array().unwrap();
    let by_sig = evidence.iter().find(|v| v["expected_from"] == "signature").unwrap_or_else(|| panic!("{a:#}"));
    assert_eq!((&by_sig["algo"], &by_sig["source_file"]), (&Value::from("sha256"), &Value::from("vendor-bundle.zip.asc")), "{a:#}");
    assert_eq!(a["sha256"].as_str().unwrap(), sha256_of(&zip));
    let text = String::from_utf8(s.repo.run(["show", "vendor-bundle.zip"]).stdout).unwrap();
    assert!(text.contains("OpenPGP signature vendor-bundle.zip.asc verified over the file"), "{text}");
    assert_eq!(a["warnings"], serde_json::json!([]), "a verified bundle is not warned about: {a:#}");

    // A bundle an earlier version imported (a .asc beside the zip was enough) has no such evidence:
    // it is warned about. (Its evidence is taken away with Python's sqlite3, as that version left it.)
    let db = s.repo.home().join("catalog.db");
    let forget = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute(\"DELETE FROM verifications WHERE expected_from = 'signature'\"); c.commit()";
    assert!(Command::new("python3").args(["-c", forget]).arg(&db).status().unwrap().success());
    let a = show(&s.repo, "vendor-bundle.zip");
    assert_eq!(a["warnings"][0]["code"], "unsigned_bundle", "{a:#}");

    // A repository that requires a good signature takes a signed bundle without a checksum list.
    let s = setup();
    let (zip, asc) = s.signed_bundle("release@example.org");
    assert_eq!(s.repo.json(["key", "policy", "--require-signature"]).0, 0);
    let (code, report) = s.repo.import(&[], &[zip, asc]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(item(&report, "vendor-bundle.zip")["outcome"], "imported", "{report:#}");
    assert_eq!(item(&report, "vendor-bundle.zip.asc")["outcome"], "imported", "{report:#}");
    // A .asc without its bundle in the import is held to the policy like any file.
    let lone = s.path("other.zip.asc");
    s.gpg.sign("release@example.org", Signing::Detached { armor: true }, &s.path("release.asc"), &lone, None);
    let (code, report) = s.repo.import(&[], std::slice::from_ref(&lone));
    assert_eq!((code, &item(&report, "other.zip.asc")["error"]["code"]), (1, &Value::from("signature_required")), "{report:#}");
}

#[test]
fn a_profile_with_a_bundle_goes_out_with_its_signature_and_comes_back_only_where_the_key_is_trusted() {
    let s = setup();
    let (zip, asc) = s.signed_bundle("release@example.org");
    let (code, report) = s.repo.import(&[], &[fixture("win-server-2022.iso"), zip, asc]);
    assert_eq!(code, 0, "{report:#}");
    for args in [&["profile", "create", "dc", "--os-image", "win-server-2022.iso"][..], &["profile", "add", "dc", "vendor-bundle.zip"][..]]
    {
        let (code, out) = s.repo.json(args);
        assert_eq!(code, 0, "{args:?}: {out:#}");
    }
    let out = s.path("out");
    std::fs::create_dir(&out).unwrap();
    let (code, r) = s.repo.json([OsStr::new("profile"), "export".as_ref(), "dc".as_ref(), "--to".as_ref(), out.as_os_str()]);
    assert_eq!(code, 0, "{r:#}");
    let archive = PathBuf::from(r["file"].as_str().unwrap());
    let manifest = Command::new("tar").arg("-xzOf").arg(&archive).arg("profile.json").output().unwrap();
    let manifest: Value = serde_json::from_slice(&manifest.stdout).unwrap();
    assert_eq!(manifest["members"][0]["signature"], "custom/vendor-bundle.zip.asc", "{manifest:#}");
    let listed = String::from_utf8(Command::new("tar").arg("-tzf").arg(&archive).output().unwrap().stdout).unwrap();
    assert!(listed.lines().any(|l| l == "custom/vendor-bundle.zip.asc"), "{listed}");

    // Where the vendor's key is trusted the profile comes back with a verified bundle; elsewhere not.
    let trusting = Repo::new();
    let key = s.path("release.asc");
    assert_eq!(trusting.json([OsStr::new("key"), "add".as_ref(), key.as_os_str(), "--yes".as_ref()]).0, 0);
    assert_eq!(trusting.import(&[], &[fixture("win-server-2022.iso")]).0, 0);
    let (code, r) = trusting.json([OsStr::new("profile"), "import".as_ref(), archive.as_os_str()]);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(show(&trusting, "vendor-bundle.zip")["signature"]["status"], "good");
    let stranger = Repo::new();
    assert_eq!(stranger.import(&[], &[fixture("win-server-2022.iso")]).0, 0);
    let (code, e) = stranger.json([OsStr::new("profile"), "import".as_ref(), archive.as_os_str()]);
    assert_eq!((code, &e["error"]["code"]), (1, &Value::from("unknown_key")), "{e:#}");
    let left = stranger.json(["list"]).1;
    assert_eq!(left.as_array().map(Vec::len), Some(1), "only the base image is there after a refused profile import: {left:#}");
}

#[test]
fn a_bundle_changed_after_it_was_signed_or_signed_by_a_key_not_trusted_here_or_unsigned_is_refused() {
    // Another zip under the signed bundle's name: the signature does not verify over it.
    let s = setup();
    let (zip, asc) = s.signed_bundle("release@example.org");
    std::fs::copy(fixture("monitoring-agent-2.1.zip"), &zip).unwrap();
    let (code, report) = s.repo.import(&[], &[zip.clone(), asc.clone()]);
    let e = assert_bundle_refused(&s.repo, code, &report, &zip, "bad_signature");
    assert!(e["text"].as_str().unwrap().contains("vendor-bundle.zip.asc"), "{e:#}");

    // Signed by a key the repository does not trust: refused, and accepting unknown keys for the
    // batch (which a checksum list allows) does not make a bundle acceptable.
    let s = setup();
    s.gpg.generate("Someone Else <else@example.org>", "2y", None);
    let (zip, asc) = s.signed_bundle("else@example.org");
    for flags in [&[][..], &["--allow-unknown-key"][..]] {
        let (code, report) = s.repo.import(flags, &[zip.clone(), asc.clone()]);
        let e = assert_bundle_refused(&s.repo, code, &report, &zip, "unknown_key");
        let fpr = gpg_fingerprint(&s.gpg, "else@example.org");
        assert!(e["text"].as_str().unwrap().replace(' ', "").contains(&fpr), "{e:#}");
        assert!(e["recovery"].as_str().unwrap().contains("key add"), "{e:#}");
    }

    // A zip said to be a bundle without its signature; and one made a bundle after its import.
    let s = setup();
    let zip = s.path("vendor-bundle.zip");
    std::fs::copy(fixture("vendor-bundle.zip"), &zip).unwrap();
    let (code, report) = s.repo.import(&["--kind", "bundle"], std::slice::from_ref(&zip));
    let e = assert_bundle_refused(&s.repo, code, &report, &zip, "unsigned_bundle");
    assert!(e["recovery"].as_str().unwrap().contains("vendor-bundle.zip.asc"), "{e:#}");
    let (code, report) = s.repo.import(&[], std::slice::from_ref(&zip));
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(item(&report, "vendor-bundle.zip")["artifact"]["kind"], "software");
    let (code, e) = s.repo.json(["update", "vendor-bundle.zip", "--kind", "bundle"]);
    assert_eq!((code, &e["error"]["code"]), (1, &Value::from("unsigned_bundle")), "{e:#}");
    assert_eq!(show(&s.repo, "vendor-bundle.zip")["kind"], "software");
}

#[test]
fn a_signing_subkey_counts_until_it_expires_even_while_its_primary_key_is_valid() {
    // As distributions do it: a certification-only primary key (valid 5 years) with signing
    // subkeys; one made three years ago for one year (expired since), one made now.
    let s = setup();
    let gpg_then = |args: &[&str]| {
        let mut c = Command::new("faketime");
        c.args(["-f", "-1095d", "gpg"]).env("GNUPGHOME", s.gpg.home.path());
        c.args(["--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase", ""]).args(args);
        assert!(c.status().unwrap().success(), "gpg {args:?}");
    };
    gpg_then(&["--quick-gen-key", "Sub Signer <sub@example.org>", "ed25519", "cert", "5y"]);
    let primary = gpg_fingerprint(&s.gpg, "sub@example.org");
    gpg_then(&["--quick-add-key", &primary, "ed25519", "sign", "1y"]);
    let old_sub = subkey_fingerprints(&s.gpg, "sub@example.org")[0].clone();
    assert!(s.gpg.cmd().args(["--quick-add-key", &primary, "ed25519", "sign", "2y"]).status().unwrap().success());
    let new_sub = subkey_fingerprints(&s.gpg, "sub@example.org").into_iter().find(|f| *f != old_sub).unwrap();
    let key = s.path("sub.asc");
    s.gpg.export("sub@example.org", true, &key);
    let (code, k) = s.repo.json([OsStr::new("key"), OsStr::new("add"), key.as_os_str(), OsStr::new("--yes")]);
    assert_eq!((code, &k["expired"]), (0, &Value::Bool(false)), "the primary key is valid: {k:#}");

    // Signed back then with the subkey that has expired since: not a good signature any more.
    let (iso, sums) = s.iso_and_sums("");
    let sig = s.path("SHA256SUMS.gpg");
    gpg_then(&[
        "--yes",
        "--local-user",
        &format!("{old_sub}!"),
        "--output",
        sig.to_str().unwrap(),
        "--detach-sign",
        sums.to_str().unwrap(),
    ]);
    let files = [iso.clone(), sums.clone(), sig.clone()];
    let (code, report) = s.repo.import(&[], &files);
    let e = assert_refused(&s.repo, code, &report, "expired_key");
    assert!(e["text"].as_str().unwrap().contains("Sub Signer"), "{e:#}");

    // Signed now with the valid subkey: good, named by the key the admin trusted.
    let signed = s
        .gpg
        .cmd()
        .args(["--yes", "--local-user", &format!("{new_sub}!"), "--output"])
        .arg(&sig)
        .arg("--detach-sign")
        .arg(&sums)
        .status()
        .unwrap();
    assert!(signed.success());
    let (code, report) = s.repo.import(&[], &files);
    assert_eq!(code, 0, "{report:#}");
    let a = show(&s.repo, "ipxe.iso");
    assert_eq!(
        (&a["signature"]["status"], &a["signature"]["signer"]),
        (&Value::from("good"), &Value::from("Sub Signer <sub@example.org>")),
        "{a:#}"
    );
}

/// The fingerprints of the subkeys GnuPG holds for `uid`, oldest first.
fn subkey_fingerprints(gpg: &Gpg, uid: &str) -> Vec<String> {
    let out = gpg.cmd().args(["--with-colons", "--with-subkey-fingerprints", "--list-keys", uid]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    lines
        .windows(2)
        .filter(|w| w[0].starts_with("sub:") && w[1].starts_with("fpr:"))
        .map(|w| w[1].split(':').nth(9).unwrap().to_string())
        .collect()
}

/// The fingerprint GnuPG gives the key of `uid` (the oracle for what the error names).
fn gpg_fingerprint(gpg: &Gpg, uid: &str) -> String {
    let out = gpg.cmd().args(["--with-colons", "--fingerprint", uid]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines().find(|l| l.starts_with("fpr:")).and_then(|l| l.split(':').nth(9)).unwrap().to_string()
}
