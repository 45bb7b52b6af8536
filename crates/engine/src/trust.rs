//! Trusted keys: the OpenPGP public keys the admin brought and confirmed by fingerprint, that
//! signed checksum files and bundles are checked against. No key server and no network.

use crate::checksum::ChecksumFile;
use crate::clock;
use crate::db::{params, Connection, OptionalExtension};
use crate::error::{code, Error, Result};
use crate::model::{SignatureCheck, SignatureStatus};
use crate::openpgp::{self, KeyFacts};
use crate::Engine;
use serde::{Deserialize, Serialize};

/// A key as the admin sees it before trusting it and in the list of trusted keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct KeyInfo {
    /// Upper-case hex, 40 characters for a v4 key, as `gpg --fingerprint` prints it without spaces.
    pub fingerprint: String,
    /// The primary user id first, e.g. "Debian Stable Release Key (12/bookworm) <debian-release@lists.debian.org>".
    pub user_ids: Vec<String>,
    pub algorithm: String,
    pub subkeys: u32,
    pub created_at: String,
    /// None when the key does not expire.
    pub expires_at: Option<String>,
    /// It expired before now: signatures it makes are reported as `expired_key`.
    pub expired: bool,
    /// Its owner revoked it: signatures it makes are refused as `bad_signature`.
    pub revoked: bool,
    /// When it was trusted; None for a key only inspected.
    pub added_at: Option<String>,
    /// Who trusted it, as `user@host` (none for a key only inspected, or trusted before this was recorded).
    pub added_by: Option<String>,
}

fn at(secs: u64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs as i64).map(clock::format).unwrap_or_default()
}

fn info(fingerprint: &str, f: &KeyFacts, added_at: Option<String>) -> KeyInfo {
    let now = time::OffsetDateTime::now_utc().unix_timestamp().max(0) as u64;
    KeyInfo {
        fingerprint: fingerprint.to_string(),
        user_ids: f.user_ids.clone(),
        algorithm: f.algorithm.clone(),
        subkeys: f.subkeys as u32,
        created_at: at(f.created),
        expires_at: f.expires.map(at),
        expired: f.expires.is_some_and(|e| e <= now),
        revoked: f.revoked,
        added_at,
        added_by: None,
    }
}

/// Read a key file (armored or binary) and describe it; nothing is stored.
pub fn inspect_key(bytes: &[u8]) -> Result<KeyInfo> {
    let key = openpgp::read_key(bytes)?;
    Ok(info(&key.fingerprint, &key.facts()?, None))
}

/// A fingerprint as people paste it: spaces and a 0x prefix dropped, upper-cased.
pub fn normalise_fingerprint(text: &str) -> String {
    let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")).unwrap_or(&t).to_ascii_uppercase()
}

/// "4D64 FEC1 19C2 0290 67D6  E791 F8D2 585B 8783 D481": a v4 fingerprint grouped as gpg shows it
/// (other lengths in groups of four).
pub fn grouped_fingerprint(fingerprint: &str) -> String {
    let groups: Vec<String> = fingerprint.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
    if groups.len() == 10 {
        format!("{}  {}", groups[..5].join(" "), groups[5..].join(" "))
    } else {
        groups.join(" ")
    }
}

fn not_trusted(fingerprint: &str) -> Error {
    Error::new(
        code::NOT_FOUND,
        format!("No trusted key has the fingerprint {fingerprint}."),
        "A key is named by its whole fingerprint, or by its last 16 hex digits (the long key id).",
        "List the trusted keys (`imagesmith-cli key list`) and copy the fingerprint from there.",
    )
}

/// The stored key whose fingerprint is `wanted` or ends with it (16 hex digits at least).
fn find(conn: &Connection, wanted: &str) -> Result<(String, Vec<u8>, String, Option<String>)> {
    let wanted = normalise_fingerprint(wanted);
    if wanted.len() < 16 || !wanted.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(not_trusted(&wanted));
    }
    let mut stmt = conn.prepare_cached("SELECT fingerprint, key, added_at, added_by FROM trusted_keys WHERE fingerprint LIKE '%' || ?1")?;
    let rows =
        stmt.query_map([&wanted], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?.collect::<crate::db::SqlResult<Vec<_>>>()?;
    match <[_; 1]>::try_from(rows) {
        Ok([one]) => Ok(one),
        Err(rows) if rows.is_empty() => Err(not_trusted(&wanted)),
        Err(_) => Err(Error::invalid_argument(
            format!("{wanted} is the end of more than one trusted key's fingerprint."),
            "Give the whole fingerprint.",
        )),
    }
}

fn stored_info(fingerprint: &str, key: &[u8], added_at: String, added_by: Option<String>) -> Result<KeyInfo> {
    let key = openpgp::read_key(key)?;
    Ok(KeyInfo { added_by, ..info(fingerprint, &key.facts()?, Some(added_at)) })
}

/// The trusted keys, each described from the key as stored, in the order they were added.
fn load_all(conn: &Connection) -> Result<Vec<KeyInfo>> {
    let mut stmt = conn.prepare_cached("SELECT fingerprint, key, added_at, added_by FROM trusted_keys ORDER BY added_at, fingerprint")?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?, r.get::<_, String>(2)?, r.get::<_, Option<String>>(3)?)))?
        .collect::<crate::db::SqlResult<Vec<_>>>()?;
    rows.into_iter().map(|(fpr, key, added, by)| stored_info(&fpr, &key, added, by)).collect()
}

/// The trusted keys, read and described, to check signatures with.
fn keyring(conn: &Connection) -> Result<Vec<openpgp::KeyringEntry>> {
    let mut stmt = conn.prepare_cached("SELECT key FROM trusted_keys ORDER BY added_at, fingerprint")?;
    let keys = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))?.collect::<crate::db::SqlResult<Vec<_>>>()?;
    keys.iter()
        .map(|k| {
            let key = openpgp::read_key(k)?;
            let facts = key.facts()?;
            Ok(openpgp::KeyringEntry { key, facts })
        })
        .collect()
}

/// Seconds since the epoch, for key expiry.
fn now() -> u64 {
    time::OffsetDateTime::now_utc().unix_timestamp().max(0) as u64
}

/// What a signature check came to, as the library records and shows it.
fn signature_check(v: &openpgp::Verdict, keyring: &[openpgp::KeyringEntry], signature_file: Option<String>) -> SignatureCheck {
    let key = v.key.map(|i| &keyring[i]);
    SignatureCheck {
        status: v.status,
        signer: key.and_then(|k| k.facts.user_ids.first().cloned()),
        fingerprint: key.map(|k| k.key.fingerprint.clone()).or_else(|| v.issuer.clone()),
        signed_at: v.signed_at.map(at),
        signature_file,
    }
}

/// A detached signature file that cannot be read counts as a bad signature: the file it is named
/// after is not used as if it were unsigned.
fn unreadable_signature(signature_file: String) -> SignatureCheck {
    SignatureCheck { status: SignatureStatus::Bad, signer: None, fingerprint: None, signed_at: None, signature_file: Some(signature_file) }
}

/// A detached signature over a whole file (a vendor bundle's BUNDLESIG `.asc`), read with the
/// trusted keys it is checked against, before the file's bytes are read.
pub(crate) struct FileSignature {
    /// The signature file's name, as it is recorded and shown.
    pub file: String,
    /// None when the file holds no signature that can be read (a bad signature).
    signatures: Option<Vec<openpgp::Signature>>,
    keyring: Vec<openpgp::KeyringEntry>,
    now: u64,
}

impl FileSignature {
    /// What the check will come to if the bytes are the ones signed: an unknown, revoked or
    /// expired key is told before a large file is read.
    pub fn foresee(&self) -> SignatureCheck {
        match &self.signatures {
            Some(sigs) => signature_check(&openpgp::foresee(sigs, &self.keyring, self.now), &self.keyring, Some(self.file.clone())),
            None => unreadable_signature(self.file.clone()),
        }
    }

    /// Check over the bytes `data` reads, once, to its end.
    pub fn check(&self, data: &mut (dyn std::io::Read + Send)) -> SignatureCheck {
        match &self.signatures {
            Some(sigs) => {
                signature_check(&openpgp::check_reader(sigs, data, &self.keyring, self.now), &self.keyring, Some(self.file.clone()))
            }
            None => unreadable_signature(self.file.clone()),
        }
    }
}

/// The repository's signature policy: whether every import needs a good signature (a setting of
/// the repository, honoured by the app and the CLI alike).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SignaturePolicy {
    pub require_signature: bool,
}

const REQUIRE_SIGNATURE: &str = "require_signature";

impl Engine {
    /// Check the signature of every checksum file read (clear-signed, or a detached signature found
    /// beside it) against the trusted keys, and keep the outcome on the file: its digests carry it.
    pub fn check_signatures(&self, sums: &mut [(std::path::PathBuf, Result<ChecksumFile>)]) -> Result<()> {
        if !sums.iter().any(|(_, f)| f.as_ref().is_ok_and(|f| f.clear_signed || f.signature_path.is_some())) {
            return Ok(());
        }
        let keyring = keyring(&self.db())?;
        let now = now();
        // The list's bytes as read once, when its digests were taken: a file changed since (or a
        // server that serves other bytes on every open) cannot lend its signature to them.
        for (_, file) in sums.iter_mut() {
            let Ok(file) = file else { continue };
            file.signature = if file.clear_signed {
                let signed = std::str::from_utf8(&file.bytes).ok().and_then(openpgp::clearsigned);
                match signed {
                    Some((sigs, signed)) => signature_check(&openpgp::check(&sigs, signed.as_bytes(), &keyring, now), &keyring, None),
                    None => unreadable_signature(file.file_name.clone()),
                }
            } else if let Some(sig_path) = file.signature_path.clone() {
                self.file_signature(std::path::Path::new(&sig_path))?.check(&mut &file.bytes[..])
            } else {
                SignatureCheck::none()
            };
        }
        Ok(())
    }

    /// Read the detached signature at `path` (a bundle's `.asc`) and the trusted keys to check it with.
    pub(crate) fn file_signature(&self, path: &std::path::Path) -> Result<FileSignature> {
        let file = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        // A signature file too large to be one is no signature.
        let bytes = crate::checksum::read_small(path)?.unwrap_or_default();
        let signatures = openpgp::detached_signatures(&bytes).ok();
        Ok(FileSignature { file, signatures, keyring: keyring(&self.db())?, now: now() })
    }

    /// The repository's signature policy.
    pub fn signature_policy(&self) -> Result<SignaturePolicy> {
        let value: Option<String> =
            self.db().query_row("SELECT value FROM settings WHERE name = ?1", [REQUIRE_SIGNATURE], |r| r.get(0)).optional()?;
        Ok(SignaturePolicy { require_signature: value.as_deref() == Some("true") })
    }

    /// Change the repository's signature policy; returns it as it now is.
    pub fn set_signature_policy(&self, policy: SignaturePolicy) -> Result<SignaturePolicy> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO settings (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                params![REQUIRE_SIGNATURE, policy.require_signature.to_string()],
            )?;
            Ok(())
        })?;
        self.signature_policy()
    }

    /// Trust the key in `bytes` (armored or binary) once the admin has confirmed its fingerprint:
    /// `confirmed` must be that key's fingerprint (so a file changed between showing and adding
    /// is refused). Adding a key already trusted keeps when it was trusted and takes the key as
    /// brought now (a publisher extends a key's expiry by publishing it again).
    pub fn add_trusted_key(&self, bytes: &[u8], confirmed: &str) -> Result<KeyInfo> {
        let key = openpgp::read_key(bytes)?;
        let facts = key.facts()?;
        let confirmed = normalise_fingerprint(confirmed);
        if confirmed != key.fingerprint {
            return Err(Error::new(
                code::INVALID_ARGUMENT,
                format!("The key's fingerprint is {}, not the {confirmed} that was confirmed.", key.fingerprint),
                "A key is trusted only with the fingerprint the admin checked: the file may have changed since it was shown.",
                "Show the key again, compare its fingerprint with the one its publisher gives, and confirm that one.",
            ));
        }
        let stored = key.to_bytes()?;
        self.write(|tx| {
            let existing: Option<(String, Option<String>)> =
                tx.query_row("SELECT added_at, added_by FROM trusted_keys WHERE fingerprint = ?1", [&key.fingerprint], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
                })
                .optional()?;
            if let Some((added, by)) = existing {
                // The same key again, as its publisher exports it now (a new expiry, more user ids):
                // what is kept is replaced, since the admin confirmed the same fingerprint.
                tx.execute(
                    "UPDATE trusted_keys SET key = ?2, user_ids = ?3, created_at = ?4, expires_at = ?5 WHERE fingerprint = ?1",
                    params![
                        key.fingerprint,
                        stored,
                        serde_json::to_string(&facts.user_ids).expect("serialisable"),
                        at(facts.created),
                        facts.expires.map(at)
                    ],
                )?;
                return Ok(KeyInfo { added_by: by, ..info(&key.fingerprint, &facts, Some(added)) });
            }
            let (now, who) = (clock::now(), crate::team::who());
            tx.execute(
                "INSERT INTO trusted_keys (fingerprint, key, user_ids, created_at, expires_at, added_at, added_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    key.fingerprint,
                    stored,
                    serde_json::to_string(&facts.user_ids).expect("serialisable"),
                    at(facts.created),
                    facts.expires.map(at),
                    now,
                    who
                ],
            )?;
            Ok(KeyInfo { added_by: Some(who), ..info(&key.fingerprint, &facts, Some(now)) })
        })
    }

    /// The trusted keys, oldest first.
    pub fn trusted_keys(&self) -> Result<Vec<KeyInfo>> {
        load_all(&self.db())
    }

    /// Stop trusting a key (whole fingerprint or its last 16 hex digits). Signatures it made are
    /// from then on by an unknown key; what was imported with them stays as it was recorded.
    pub fn remove_trusted_key(&self, fingerprint: &str) -> Result<KeyInfo> {
        self.write(|tx| {
            let (fpr, key, added, by) = find(tx, fingerprint)?;
            let shown = stored_info(&fpr, &key, added, by)?;
            tx.execute("DELETE FROM trusted_keys WHERE fingerprint = ?1", [&fpr])?;
            let owner = shown.user_ids.first().cloned().unwrap_or_else(|| fpr.clone());
            crate::deletions::record(tx, crate::deletions::DeletedKind::Key, &owner, Some(&fpr))?;
            Ok(shown)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_read_as_people_paste_them() {
        assert_eq!(normalise_fingerprint("4d64 fec1 19c2 0290 67d6  e791 f8d2 585b 8783 d481"), "4D64FEC119C2029067D6E791F8D2585B8783D481");
        assert_eq!(normalise_fingerprint("0xF8D2585B8783D481"), "F8D2585B8783D481");
        assert_eq!(grouped_fingerprint("4D64FEC119C2029067D6E791F8D2585B8783D481"), "4D64 FEC1 19C2 0290 67D6  E791 F8D2 585B 8783 D481");
    }
}
