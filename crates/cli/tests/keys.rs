//! Trusted keys through the CLI: keys made by GnuPG in the test (armored and binary, one that
//! expired) and Debian's real archive signing key, each described as `gpg --show-keys` describes
//! it; a key is trusted only with its fingerprint confirmed; removal by fingerprint.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What GnuPG reads from a key file, the oracle: (fingerprint, user ids, expiry as epoch seconds).
fn gpg_show(file: &Path) -> (String, Vec<String>, Option<u64>) {
    let home = tempfile::tempdir().unwrap();
    let out =
        Command::new("gpg").env("GNUPGHOME", home.path()).args(["--batch", "--with-colons", "--show-keys"]).arg(file).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut fpr = None;
    let mut uids = Vec::new();
    let mut expires = None;
    for line in text.lines() {
        let f: Vec<&str> = line.split(':').collect();
        match f[0] {
            "pub" => expires = f[6].parse::<u64>().ok(),
            "fpr" if fpr.is_none() => fpr = Some(f[9].to_string()),
            // gpg escapes ':' and non-printables in the colon listing as \x3a
            "uid" => uids.push(f[9].replace("\\x3a", ":")),
            _ => {}
        }
    }
    (fpr.expect("a fingerprint"), uids, expires)
}

fn epoch(rfc3339: &str) -> u64 {
    let t = time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339).unwrap();
    t.unix_timestamp() as u64
}

fn key_file(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

#[test]
fn a_key_is_trusted_only_with_its_fingerprint_confirmed_and_is_described_as_gnupg_reads_it() {
    let repo = Repo::new();
    let gpg = Gpg::new();
    gpg.generate("Release Signer <release@example.org>", "2y", None);
    let files = tempfile::tempdir().unwrap();
    let armored = key_file(files.path(), "release.asc");
    gpg.export("release@example.org", true, &armored);
    let (fpr, uids, expires) = gpg_show(&armored);

    // Not confirmed: nothing is trusted (no terminal here, so no prompt either).
    let (code, err) = repo.json(["key".as_ref(), "add".as_ref(), armored.as_os_str()]);
    assert_eq!(code, 1, "{err:#}");
    assert!(err["error"]["text"].as_str().unwrap().contains(&fpr), "{err:#}");
    assert!(err["error"]["recovery"].as_str().unwrap().contains("--yes"), "{err:#}");
    assert_eq!(repo.json(["key", "list"]).1, serde_json::json!([]));

    let (code, k) = repo.json(["key".as_ref(), "add".as_ref(), armored.as_os_str(), "--yes".as_ref()]);
    assert_eq!(code, 0, "{k:#}");
    assert_eq!(k["fingerprint"], fpr.as_str());
    assert_eq!(k["user_ids"], serde_json::json!(uids));
    assert_eq!(k["algorithm"], "EdDSALegacy", "{k:#}");
    assert_eq!(k["expired"], false);
    assert_eq!(expires.map(|e| e as i64), k["expires_at"].as_str().map(|e| epoch(e) as i64), "{k:#}");
    assert!(k["added_at"].is_string());

    // The same key again, binary this time: already trusted, still one.
    let binary = key_file(files.path(), "release.gpg");
    gpg.export("release@example.org", false, &binary);
    assert_eq!(repo.json(["key".as_ref(), "add".as_ref(), binary.as_os_str(), "--yes".as_ref()]).0, 0);
    let (_, list) = repo.json(["key", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list:#}");
    let out = String::from_utf8(repo.run(["key", "list"]).stdout).unwrap();
    let grouped: Vec<String> = fpr.as_bytes().chunks(4).map(|c| String::from_utf8(c.to_vec()).unwrap()).collect();
    assert!(out.contains(&format!("{}  {}", grouped[..5].join(" "), grouped[5..].join(" "))), "{out}");
    assert!(out.contains("Release Signer <release@example.org>"), "{out}");

    // Removed by its long key id (the last 16 hex digits), in lower case.
    let (code, removed) = repo.json(["key", "remove", &fpr[24..].to_lowercase()]);
    assert_eq!(code, 0, "{removed:#}");
    assert_eq!(removed["fingerprint"], fpr.as_str());
    assert_eq!(repo.json(["key", "list"]).1, serde_json::json!([]));
    let (code, err) = repo.json(["key", "remove", &fpr]);
    assert_eq!(code, 1);
    assert_eq!(err["error"]["code"], "not_found", "{err:#}");
}

#[test]
fn debians_archive_key_an_expired_key_and_files_that_are_no_key() {
    let repo = Repo::new();
    // A real distribution key, as Debian ships it.
    let debian = Path::new("/usr/share/keyrings/debian-archive-bookworm-stable.gpg");
    let (fpr, uids, expires) = gpg_show(debian);
    let (code, k) = repo.json(["key".as_ref(), "add".as_ref(), debian.as_os_str(), "--yes".as_ref()]);
    assert_eq!(code, 0, "{k:#}");
    assert_eq!(k["fingerprint"], fpr.as_str());
    assert_eq!(k["user_ids"], serde_json::json!(uids));
    assert!(uids[0].contains("Debian Stable Release Key (12/bookworm)"), "{uids:?}");
    assert_eq!(expires, k["expires_at"].as_str().map(epoch), "{k:#}");

    // Made three years ago for one year: it has expired, and says so.
    let gpg = Gpg::new();
    gpg.generate("Old Signer <old@example.org>", "1y", Some(3));
    let files = tempfile::tempdir().unwrap();
    let old = key_file(files.path(), "old.asc");
    gpg.export("old@example.org", true, &old);
    let (code, k) = repo.json(["key".as_ref(), "add".as_ref(), old.as_os_str(), "--yes".as_ref()]);
    assert_eq!(code, 0, "{k:#}");
    assert_eq!(k["expired"], true, "{k:#}");
    let out = String::from_utf8(repo.run(["key", "list"]).stdout).unwrap();
    assert!(out.contains("EXPIRED"), "{out}");

    // Not a key: refused with what to do, nothing added.
    let not_key = key_file(files.path(), "SHA256SUMS");
    std::fs::write(&not_key, "0000  file.iso\n").unwrap();
    let (code, err) = repo.json(["key".as_ref(), "add".as_ref(), not_key.as_os_str(), "--yes".as_ref()]);
    assert_eq!(code, 1, "{err:#}");
    assert_eq!(err["error"]["code"], "invalid_content", "{err:#}");
    assert!(err["error"]["recovery"].as_str().unwrap().contains("gpg --export --armor"), "{err:#}");
    assert_eq!(repo.json(["key", "list"]).1.as_array().unwrap().len(), 2);
}
