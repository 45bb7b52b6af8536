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
    let (key, _) = SignedPublicKey::from_reader_single(bytes).map_err(not_a_key)?;
    let fingerprint = format!("{:X}", key.fingerprint());
    Ok(TrustedKey { key, fingerprint })
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
