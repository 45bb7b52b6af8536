//! Trusted keys (Settings → Trusted keys): the OpenPGP public keys signatures are checked against.
//! A key comes from a file chosen in the native dialog (`choose_signing_key`) or from pasted armored
//! text; it is trusted only after the person confirms its fingerprint in a native dialog, which
//! page script cannot answer.

use std::path::PathBuf;

use imagesmith_engine::error::code;
use imagesmith_engine::trust::SignaturePolicy;
use imagesmith_engine::KeyInfo;
use serde::{Deserialize, Serialize};
use tauri::State;

use super::stores::read_key_file;
use crate::error::{blocking, IpcError};
use crate::AppState;

/// Where a key to trust comes from.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum KeySource {
    /// A file chosen with `choose_signing_key` (armored or binary).
    File { path: String },
    /// Armored text pasted by the person (-----BEGIN PGP PUBLIC KEY BLOCK-----).
    Text { text: String },
}

/// Pasted text longer than this is no public key.
const MAX_PASTED: usize = 1 << 20;

fn key_bytes(state: &State<'_, AppState>, source: &KeySource) -> Result<Vec<u8>, IpcError> {
    match source {
        KeySource::File { path } => {
            let path = PathBuf::from(path);
            state.grants.check(&path, "file")?;
            read_key_file(&path)
        }
        KeySource::Text { text } if text.len() <= MAX_PASTED => Ok(text.as_bytes().to_vec()),
        KeySource::Text { .. } => Err(IpcError::new(
            code::INVALID_ARGUMENT,
            "The pasted text is too long to be an OpenPGP public key.",
            "A public key, armored, is a few KiB of text between -----BEGIN PGP PUBLIC KEY BLOCK----- and its END line.",
            "Paste only the key block, or choose the key file instead.",
        )),
    }
}

/// The trusted keys, oldest first.
#[tauri::command]
#[specta::specta]
pub async fn list_trusted_keys(state: State<'_, AppState>) -> Result<Vec<KeyInfo>, IpcError> {
    let engine = state.engine();
    blocking(move || engine.trusted_keys()).await
}

/// Describe a key before trusting it: fingerprint, user ids, algorithm, creation and expiry.
/// Nothing is stored. Not a key: `invalid_content`.
#[tauri::command]
#[specta::specta]
pub async fn inspect_key(state: State<'_, AppState>, source: KeySource) -> Result<KeyInfo, IpcError> {
    let bytes = key_bytes(&state, &source)?;
    blocking(move || imagesmith_engine::trust::inspect_key(&bytes)).await
}

/// Trust the key once the person confirmed, in a native dialog, the fingerprint `fingerprint` the
/// page showed: the key is read again and must still have it. Declining is `cancelled`.
#[tauri::command]
#[specta::specta]
pub async fn trust_key(state: State<'_, AppState>, source: KeySource, fingerprint: String) -> Result<KeyInfo, IpcError> {
    let bytes = key_bytes(&state, &source)?;
    let engine = state.engine();
    let dialogs = state.dialogs.clone();
    blocking(move || {
        let key = imagesmith_engine::trust::inspect_key(&bytes)?;
        if key.fingerprint != imagesmith_engine::trust::normalise_fingerprint(&fingerprint) {
            // The engine refuses with the reason; no dialog for a key that is not the one shown.
            return engine.add_trusted_key(&bytes, &fingerprint);
        }
        let text = format!(
            "Trust this key to check signatures?\n\n{}\n\n{}\n\nCompare the fingerprint with the one its publisher gives \
             (their web page, release notes or keyring package). Files signed with it are then accepted as theirs.",
            imagesmith_engine::trust::grouped_fingerprint(&key.fingerprint),
            key.user_ids.join("\n"),
        );
        if !dialogs.confirm("Trust this OpenPGP key?", &text, "Trust") {
            return Err(IpcError::new(
                code::CANCELLED,
                format!("The key {} was not trusted.", key.fingerprint),
                "Trusting a key needs a yes in the confirmation window.",
                "Add the key again when you have its publisher's fingerprint to compare with.",
            ));
        }
        engine.add_trusted_key(&bytes, &key.fingerprint)
    })
    .await
}

/// Stop trusting a key (its whole fingerprint).
#[tauri::command]
#[specta::specta]
pub async fn remove_trusted_key(state: State<'_, AppState>, fingerprint: String) -> Result<KeyInfo, IpcError> {
    let engine = state.engine();
    blocking(move || engine.remove_trusted_key(&fingerprint)).await
}

/// The repository's signature policy (Settings → Trusted keys).
#[tauri::command]
#[specta::specta]
pub async fn signature_policy(state: State<'_, AppState>) -> Result<SignaturePolicy, IpcError> {
    let engine = state.engine();
    blocking(move || engine.signature_policy()).await
}

/// Change the repository's signature policy. Requiring signatures is done at once; no longer
/// requiring them needs a yes in a native dialog, which page script cannot answer.
#[tauri::command]
#[specta::specta]
pub async fn set_signature_policy(state: State<'_, AppState>, policy: SignaturePolicy) -> Result<SignaturePolicy, IpcError> {
    let engine = state.engine();
    let dialogs = state.dialogs.clone();
    blocking(move || {
        let relaxing = engine.signature_policy()?.require_signature && !policy.require_signature;
        if relaxing
            && !dialogs.confirm(
                "Stop requiring signatures?",
                "Files will be imported without a checksum list signed by a trusted key.\n\nSigned lists are still checked, and a bad signature still refuses the import.",
                "Stop requiring",
            )
        {
            return Err(IpcError::new(
                code::CANCELLED,
                "Signatures are still required.",
                "Relaxing the policy needs a yes in the confirmation window.",
                "Turn it off again and confirm, if that is what you want.",
            ));
        }
        engine.set_signature_policy(policy)
    })
    .await
}
