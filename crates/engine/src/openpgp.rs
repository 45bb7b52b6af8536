//! OpenPGP for what the admin trusts: read a public key (armored or binary), and check a
//! clear-signed document or a detached signature against the keys the admin trusts. rPGP does
//! the cryptography; no gpg binary at run time.

use crate::error::{code, Error, Result};
use pgp::composed::{CleartextSignedMessage, Deserializable, DetachedSignature, SignedPublicKey};
pub use pgp::packet::Signature;
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
    /// Its owner revoked it (a key revocation signature, checked with its self-signatures): what it
    /// signs is not trusted any more.
    pub revoked: bool,
}

impl TrustedKey {
    /// Its self-signatures: on its user ids, and directly on the key.
    fn self_signatures(&self) -> Vec<Signature> {
        let users = self.key.details.users.iter().flat_map(|u| u.signatures.iter());
        users.chain(self.key.details.direct_signatures.iter()).cloned().collect()
    }

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
        let expires = expiry(created, latest(&self.self_signatures()));
        Ok(KeyFacts {
            user_ids,
            created,
            expires,
            algorithm: format!("{:?}", self.key.primary_key.algorithm()),
            subkeys: self.key.public_subkeys.len(),
            revoked: !self.key.details.revocation_signatures.is_empty(),
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

/// What a signature names as its maker: a fingerprint (upper-case hex) when it carries one, else
/// the 16-digit key id older signers give.
fn issuer(sig: &Signature) -> Option<String> {
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02X}")).collect::<String>();
    sig.issuer_fingerprint().first().map(|f| format!("{f:X}")).or_else(|| sig.issuer_key_id().first().map(|k| hex(k.as_ref())))
}

/// Does a signature's issuer (`named`) name this key, by fingerprint or by legacy key id?
fn names(named: &str, fingerprint: pgp::types::Fingerprint, id: pgp::types::KeyId) -> bool {
    named == format!("{fingerprint:X}") || named == id.as_ref().iter().map(|b| format!("{b:02X}")).collect::<String>()
}

/// Is `sig` made by `key` (its primary key or a subkey), as far as the signature says?
fn made_by(sig: &Signature, key: &TrustedKey) -> bool {
    let Some(named) = issuer(sig) else { return false };
    let primary = &key.key.primary_key;
    names(&named, primary.fingerprint(), primary.legacy_key_id())
        || key.key.public_subkeys.iter().any(|s| names(&named, s.key.fingerprint(), s.key.legacy_key_id()))
}

/// The latest of `sigs` (a key's self-signatures, or a subkey's binding signatures): its key flags
/// and expiry are the ones in force.
fn latest(sigs: &[Signature]) -> Option<&Signature> {
    sigs.iter().max_by_key(|s| s.created().map(|t| t.as_secs()).unwrap_or(0))
}

/// Whether a self- or binding signature lets its key sign data: yes without key flags at all
/// (older keys have none), else only with the sign flag.
fn may_sign(sig: &Signature) -> bool {
    let flagged = sig.config().is_some_and(|c| c.hashed_subpackets().any(|p| matches!(p.data, pgp::packet::SubpacketData::KeyFlags(_))));
    !flagged || sig.key_flags().sign()
}

/// When a key or subkey made at `created` stops being valid, by `sig`'s key expiration time.
fn expiry(created: u64, sig: Option<&Signature>) -> Option<u64> {
    let secs = std::time::Duration::from(sig?.key_expiration_time()?).as_secs();
    (secs > 0).then_some(created + secs)
}

#[derive(Clone, Copy)]
enum Part<'a> {
    Primary(&'a pgp::packet::PublicKey),
    Subkey(&'a pgp::packet::PublicSubkey),
}

/// The part of a trusted key a signature names as its maker — the primary key, or a subkey its
/// owner has not revoked and bound for signing (an encryption subkey signs nothing) — and until
/// when that part is valid (a subkey may expire before its primary key).
#[derive(Clone, Copy)]
struct Maker<'a> {
    part: Part<'a>,
    expires: Option<u64>,
}

impl Maker<'_> {
    fn of<'a>(sig: &Signature, key: &'a TrustedKey) -> Option<Maker<'a>> {
        let named = issuer(sig)?;
        let primary = &key.key.primary_key;
        if names(&named, primary.fingerprint(), primary.legacy_key_id()) {
            if !latest(&key.self_signatures()).is_none_or(may_sign) {
                return None;
            }
            return Some(Maker { part: Part::Primary(primary), expires: None });
        }
        let revoked = |s: &pgp::composed::SignedPublicSubKey| {
            s.signatures.iter().any(|x| x.typ() == Some(pgp::packet::SignatureType::SubkeyRevocation))
        };
        let sub = key.key.public_subkeys.iter().find(|s| names(&named, s.key.fingerprint(), s.key.legacy_key_id()))?;
        let bindings: Vec<Signature> =
            sub.signatures.iter().filter(|x| x.typ() == Some(pgp::packet::SignatureType::SubkeyBinding)).cloned().collect();
        let binding = latest(&bindings);
        if revoked(sub) || !binding.is_some_and(may_sign) {
            return None;
        }
        let created = u64::from(sub.key.created_at().as_secs());
        Some(Maker { part: Part::Subkey(&sub.key), expires: expiry(created, binding) })
    }

    /// Does `sig` verify over what `data` reads (read to its end, once)?
    fn verifies(self, sig: &Signature, data: &mut dyn std::io::Read) -> bool {
        match self.part {
            Part::Primary(k) => sig.verify(k, data).is_ok(),
            Part::Subkey(k) => sig.verify(k, data).is_ok(),
        }
    }
}

/// A trusted key, described, to check signatures with.
pub struct KeyringEntry {
    pub key: TrustedKey,
    pub facts: KeyFacts,
}

/// What one signature file (or a clear-signed document's signatures) came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub status: crate::model::SignatureStatus,
    /// The trusted key that made it (good, bad, expired), by index into the keyring given.
    pub key: Option<usize>,
    /// The fingerprint or key id the signature names.
    pub issuer: Option<String>,
    /// Seconds since the epoch.
    pub signed_at: Option<u64>,
}

/// Check `signatures` over `data` against the trusted keys, at `now` (seconds since the epoch).
/// One good signature by a trusted key that has not expired is enough (Ubuntu signs with two keys,
/// the admin may trust one); a trusted key's signature that does not verify is `bad`, whatever
/// else is there, since the bytes were changed after that key signed them.
pub fn check(signatures: &[Signature], data: &[u8], keyring: &[KeyringEntry], now: u64) -> Verdict {
    // A text document (a checksum list): binary and text signatures alike, each over the bytes.
    judge(signatures, keyring, now, Over::Text, |pending| {
        pending.iter().map(|(_, sig, maker)| maker.verifies(sig, &mut &data[..])).collect()
    })
}

/// [`check`] for a file's bytes (a bundle as it is copied into the store), read once from `data`:
/// every signature to verify hashes the same read, each on its own thread. Only binary signatures
/// count: a text signature normalises line ends, so zips differing in them would verify alike.
pub fn check_reader(signatures: &[Signature], data: &mut (dyn std::io::Read + Send), keyring: &[KeyringEntry], now: u64) -> Verdict {
    judge(signatures, keyring, now, Over::Binary, |pending| verify_all(pending, data))
}

/// What [`check_reader`] will come to if the signatures by trusted keys verify over the data:
/// before a large file is read, an unknown, revoked or expired key can already be told.
pub fn foresee(signatures: &[Signature], keyring: &[KeyringEntry], now: u64) -> Verdict {
    judge(signatures, keyring, now, Over::Binary, |pending| vec![true; pending.len()])
}

/// What a signature may be over: a text document (binary or text signatures) or a binary file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Over {
    Text,
    Binary,
}

/// At most this many signatures by trusted keys are verified over one document (each hashes all of
/// it); a signature file with more — thousands of copies of one — is not a publisher's.
const MAX_VERIFIED: usize = 8;

type Pending<'a> = (usize, &'a Signature, Maker<'a>);

fn judge<'a>(
    signatures: &'a [Signature],
    keyring: &'a [KeyringEntry],
    now: u64,
    over: Over,
    verify: impl FnOnce(&[Pending<'a>]) -> Vec<bool>,
) -> Verdict {
    use crate::model::SignatureStatus as S;
    let at = |sig: &Signature| sig.created().map(|t| u64::from(t.as_secs()));
    let mut verdicts = Vec::new();
    // The signatures by trusted keys that must read the data: (verdict index, signature, maker).
    let mut pending = Vec::new();
    let mut seen: Vec<&Signature> = Vec::new();
    for sig in signatures {
        // The same signature twice is one signature.
        if seen.contains(&sig) {
            continue;
        }
        seen.push(sig);
        let found = keyring.iter().position(|k| made_by(sig, &k.key));
        // Only signatures over a document count: a standalone or timestamp signature hashes no
        // data, so it would "verify" over anything.
        let over_data = match sig.typ() {
            Some(pgp::packet::SignatureType::Binary) => true,
            Some(pgp::packet::SignatureType::Text) => over == Over::Text,
            _ => false,
        };
        let status = match found {
            None => S::UnknownKey,
            // A revoked key's signature is as good as none from its owner: refused like a bad one.
            Some(i) if keyring[i].facts.revoked || !over_data => S::Bad,
            Some(_) if pending.len() >= MAX_VERIFIED => S::Bad,
            Some(i) => match Maker::of(sig, &keyring[i].key) {
                None => S::Bad,
                Some(maker) => {
                    pending.push((verdicts.len(), sig, maker));
                    // Settled once the data is read.
                    S::None
                }
            },
        };
        verdicts.push(Verdict { status, key: found, issuer: issuer(sig), signed_at: at(sig) });
    }
    let verified = verify(&pending);
    for ((i, _, maker), ok) in pending.iter().zip(verified) {
        let key = &keyring[verdicts[*i].key.expect("a pending signature has its key")];
        let expired = |e: Option<u64>| e.is_some_and(|e| e <= now);
        verdicts[*i].status = match ok {
            false => S::Bad,
            true if expired(key.facts.expires) || expired(maker.expires) => S::ExpiredKey,
            true => S::Good,
        };
    }
    let pick = |s: S| verdicts.iter().find(|v| v.status == s).cloned();
    pick(S::Bad).or_else(|| pick(S::Good)).or_else(|| pick(S::ExpiredKey)).or_else(|| pick(S::UnknownKey)).unwrap_or(Verdict {
        status: S::None,
        key: None,
        issuer: None,
        signed_at: None,
    })
}

/// Verify each pending signature over one read of `data`: the only one reads it directly; several
/// get the same chunks on threads of their own.
fn verify_all(pending: &[Pending<'_>], data: &mut (dyn std::io::Read + Send)) -> Vec<bool> {
    use std::sync::{mpsc::sync_channel, Arc};
    match pending {
        [] => Vec::new(),
        [(_, sig, maker)] => vec![maker.verifies(sig, data)],
        many => std::thread::scope(|scope| {
            let mut senders = Vec::new();
            let threads: Vec<_> = many
                .iter()
                .map(|(_, sig, maker)| {
                    let (tx, rx) = sync_channel::<Arc<Vec<u8>>>(4);
                    senders.push(tx);
                    scope.spawn(move || {
                        let mut reader = crate::pipeline::ChunkReader::new(rx);
                        let ok = maker.verifies(sig, &mut reader);
                        reader.drain();
                        ok
                    })
                })
                .collect();
            let mut buf = vec![0u8; 1 << 20];
            let mut failed = false;
            loop {
                let n = match data.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(_) => {
                        failed = true;
                        break;
                    }
                };
                let chunk = Arc::new(buf[..n].to_vec());
                for tx in &senders {
                    let _ = tx.send(chunk.clone());
                }
            }
            drop(senders);
            let results: Vec<bool> = threads.into_iter().map(|t| t.join().unwrap_or(false)).collect();
            // Bytes that could not all be read verify nothing.
            results.into_iter().map(|ok| ok && !failed).collect()
        }),
    }
}

/// The signatures in a detached signature file, armored (`.asc`, Debian's `.sign`) or binary
/// (`.sig`, `.gpg`); a file may hold several, by several signers.
pub fn detached_signatures(bytes: &[u8]) -> std::result::Result<Vec<Signature>, String> {
    let (sigs, _) = DetachedSignature::from_reader_many(bytes).map_err(|_| "it holds no OpenPGP signature".to_string())?;
    let sigs: Vec<Signature> = sigs.filter_map(|s| s.ok()).map(|s| s.signature).collect();
    if sigs.is_empty() {
        return Err("it holds no OpenPGP signature".into());
    }
    Ok(sigs)
}

/// A clear-signed document's signatures and the text they cover (as signed: dash-escaping undone,
/// CRLF line ends), or None when `document` is not clear-signed.
pub fn clearsigned(document: &str) -> Option<(Vec<Signature>, String)> {
    if !document.trim_start_matches('\u{feff}').starts_with("-----BEGIN PGP SIGNED MESSAGE-----") {
        return None;
    }
    let document = document.trim_start_matches('\u{feff}');
    // What follows the signature block is not signed and not read (gpg ignores it too).
    const END: &str = "-----END PGP SIGNATURE-----";
    let document = document.find(END).map(|at| &document[..at + END.len()]).unwrap_or(document);
    let (msg, _) = CleartextSignedMessage::from_string(document).ok()?;
    Some((msg.signatures().to_vec(), msg.signed_text()))
}
