//! OpenPGP for what the admin trusts: read a public key (armored or binary) and check a
//! clear-signed document against it. rPGP does the cryptography; no gpg binary at run time.

use crate::error::{code, Error, Result};
use pgp::composed::{CleartextSignedMessage, Deserializable, SignedPublicKey};
use pgp::types::KeyDetails;

/// A public key the admin brought, with its fingerprint in upper-case hex.
pub struct TrustedKey {
    key: SignedPublicKey,
    pub fingerprint: String,
}

fn not_a_key(why: impl std::fmt::Display) -> Error {
    Error::new(
        code::INVALID_CONTENT,
        format!("This is not an OpenPGP public key: {why}."),
        "A signing key is an OpenPGP public key, armored (-----BEGIN PGP PUBLIC KEY BLOCK-----) or binary.",
        "Export the publisher's public key (gpg --export --armor KEYID) and give that file.",
    )
}

/// Read a public key from its armored or binary form.
pub fn read_key(bytes: &[u8]) -> Result<TrustedKey> {
    // rPGP's parse errors can carry the whole input as a byte list: say what failed, not that.
    let (key, _) =
        SignedPublicKey::from_reader_single(bytes).map_err(|_| not_a_key("no armored or binary public key could be read from it"))?;
    let fingerprint = format!("{:X}", key.fingerprint());
    Ok(TrustedKey { key, fingerprint })
}

/// What a key says about itself, from its self-signatures: who it names, when it was made and
/// until when it is valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFacts {
    pub user_ids: Vec<String>,
    /// Seconds since the epoch.
    pub created: u64,
    /// Seconds since the epoch; None when the key does not expire.
    pub expires: Option<u64>,
    /// The primary key's algorithm, e.g. "RSA", "EdDSA".
    pub algorithm: String,
    pub subkeys: usize,
}

impl TrustedKey {
    /// Its self-signatures must verify (a key whose user ids or subkeys were not bound by its own
    /// primary key could name anyone); then what it says about itself.
    pub fn facts(&self) -> Result<KeyFacts> {
        self.key.verify_bindings().map_err(|e| not_a_key(format!("its self-signatures do not verify ({e})")))?;
        let created = u64::from(self.key.primary_key.created_at().as_secs());
        let mut user_ids: Vec<String> = self.key.details.users.iter().map(|u| String::from_utf8_lossy(u.id.id()).into_owned()).collect();
        // The primary user id first, as gpg shows it.
        if let Some(i) = self.key.details.users.iter().position(|u| u.is_primary()) {
            user_ids.swap(0, i);
        }
        // The latest self-signature's key expiration time counts; 0 means none.
        let expires = self
            .key
            .details
            .users
            .iter()
            .flat_map(|u| u.signatures.iter())
            .chain(self.key.details.direct_signatures.iter())
            .filter_map(|sig| Some((sig.created()?.as_secs(), sig.key_expiration_time())))
            .max_by_key(|(at, _)| *at)
            .and_then(|(_, d)| d)
            .map(|d| std::time::Duration::from(d).as_secs())
            .filter(|secs| *secs > 0)
            .map(|secs| created + secs);
        Ok(KeyFacts {
            user_ids,
            created,
            expires,
            algorithm: format!("{:?}", self.key.primary_key.algorithm()),
            subkeys: self.key.public_subkeys.len(),
        })
    }

    /// The key in binary OpenPGP, as it is kept.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        use pgp::ser::Serialize;
        self.key.to_bytes().map_err(|e| not_a_key(format!("it cannot be written back ({e})")))
    }
}

/// The signed text of a clear-signed `document` (`-----BEGIN PGP SIGNED MESSAGE-----`) when a
/// signature in it verifies against `key` (its primary key or a subkey); `bad_signature` otherwise.
/// `what` names the document in errors.
pub fn verify_clearsigned(document: &str, key: &TrustedKey, what: &str) -> Result<String> {
    let bad = |why: &str| {
        Error::new(
            code::BAD_SIGNATURE,
            format!("The signature of {what} does not verify against the key {}: {why}.", key.fingerprint),
            "The document was changed after it was signed, or it was signed by another key.",
            "Do not use this source until its publisher confirms it; check that the configured key is the publisher's.",
        )
    };
    let (msg, _) = CleartextSignedMessage::from_string(document).map_err(|_| bad("it is not a clear-signed document"))?;
    let verified = msg.verify(&key.key.primary_key).is_ok() || key.key.public_subkeys.iter().any(|s| msg.verify(&s.key).is_ok());
    if !verified {
        return Err(bad("no signature in it was made by this key over this text"));
    }
    // The signed text as published: the cleartext framework's dash-escaping undone, LF line ends.
    Ok(msg.signed_text().replace("\r\n", "\n"))
}
