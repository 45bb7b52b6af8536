//! Image stores (IMGAPI, SimpleStreams): add, list, test and remove saved stores, browse a store's
//! images, and import chosen ones — or the image an IMGAPI manifest URL describes — as one download
//! job. URLs are checked here (http and https only) before the engine is asked; a store's signing
//! key is a file the person chose in the native dialog (`choose_signing_key`), read by the shell.

use std::io::Read;
use std::path::PathBuf;

use imagesmith_engine::error::code;
use imagesmith_engine::stores::{ImageStore, RemoteImage, StoreCheck, StoreKind};
use imagesmith_engine::{ArtifactPatch, ImportRequest, JobProgress};
use serde::{Deserialize, Serialize};
use tauri::ipc::Channel;
use tauri::State;

use super::import::check_url;
use crate::error::{blocking, IpcError};
use crate::AppState;

/// An OpenPGP public key is a few KiB; anything much larger is not one (also for trusted keys).
const MAX_KEY_BYTES: u64 = 1 << 20;

/// What "Add store…" asks for.
#[derive(Debug, Clone, Default, Serialize, Deserialize, specta::Type)]
pub struct StoreSpec {
    pub name: String,
    /// The store's base URL (http or https).
    pub url: String,
    /// None: asked of the address (a SimpleStreams index, else an IMGAPI image list).
    pub kind: Option<StoreKind>,
    /// The publisher's OpenPGP public key (armored or binary), a file chosen with
    /// `choose_signing_key`; a SimpleStreams store is then read from its signed .sjson files.
    pub key_file: Option<String>,
}

/// Images of a store to import, by IMGAPI uuid or SimpleStreams product name.
#[derive(Debug, Clone, Default, Serialize, Deserialize, specta::Type)]
pub struct StoreImportRequest {
    pub store: String,
    pub ids: Vec<String>,
    /// Attributes for the new artifacts (alias only with one image); what is not given defaults
    /// from the store's manifest.
    pub attributes: ArtifactPatch,
}

/// "Import from manifest URL…": an IMGAPI image manifest and, optionally, where its file is.
#[derive(Debug, Clone, Default, Serialize, Deserialize, specta::Type)]
pub struct ManifestImportRequest {
    pub manifest_url: String,
    /// None or empty: `…/images/<uuid>/file` beside the manifest, as IMGAPI serves it.
    pub file_url: Option<String>,
    pub attributes: ArtifactPatch,
}

#[tauri::command]
#[specta::specta]
pub async fn list_stores(state: State<'_, AppState>) -> Result<Vec<ImageStore>, IpcError> {
    let engine = state.engine();
    blocking(move || engine.list_stores()).await
}

/// Save a store; without a kind the address is asked which it is. The key file must have been
/// chosen in this window (`not_chosen` otherwise); one that is not an OpenPGP key is refused.
#[tauri::command]
#[specta::specta]
pub async fn add_store(state: State<'_, AppState>, spec: StoreSpec) -> Result<ImageStore, IpcError> {
    let url = spec.url.trim().to_string();
    check_url(&url)?;
    let key_file = spec.key_file.as_deref().map(str::trim).filter(|k| !k.is_empty()).map(PathBuf::from);
    if let Some(path) = &key_file {
        state.grants.check(path, "signing key")?;
    }
    let engine = state.engine();
    blocking(move || {
        let key = key_file.as_deref().map(read_key_file).transpose()?;
        engine.add_store(spec.name.trim(), &url, spec.kind, key.as_deref())
    })
    .await
}

/// The bytes of a key file, refusing folders, devices and anything too large to be a key.
pub(crate) fn read_key_file(path: &std::path::Path) -> Result<Vec<u8>, IpcError> {
    let io = |e: std::io::Error| imagesmith_engine::Error::io(path, &e, false);
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() || meta.len() > MAX_KEY_BYTES {
        return Err(IpcError::new(
            code::INVALID_ARGUMENT,
            format!("{} is not an OpenPGP public key file.", path.display()),
            "A signing key is a small file (an armored .asc or a binary .gpg key) the store's publisher gives out.",
            "Choose the publisher's public key file, e.g. exported with `gpg --export --armor KEYID > key.asc`.",
        ));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path).map_err(io)?.take(MAX_KEY_BYTES).read_to_end(&mut bytes).map_err(io)?;
    Ok(bytes)
}

/// Ask the store for its images: it answered, and how many it offers (signatures checked when it
/// has a key: `bad_signature`).
#[tauri::command]
#[specta::specta]
pub async fn test_store(state: State<'_, AppState>, name: String) -> Result<StoreCheck, IpcError> {
    let engine = state.engine();
    blocking(move || engine.test_store(&name)).await
}

/// Forget a store; what was imported from it stays, naming it as its source.
#[tauri::command]
#[specta::specta]
pub async fn remove_store(state: State<'_, AppState>, name: String) -> Result<ImageStore, IpcError> {
    let engine = state.engine();
    blocking(move || engine.remove_store(&name)).await
}

/// A store's images, newest first, each marked with the artifact that already holds it. Every
/// word of `search` must match (name, version, description, OS, type or id); `os` matches the OS.
#[tauri::command]
#[specta::specta]
pub async fn store_images(
    state: State<'_, AppState>,
    name: String,
    search: Option<String>,
    os: Option<String>,
) -> Result<Vec<RemoteImage>, IpcError> {
    let engine = state.engine();
    let given = |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let (search, os) = (given(search), given(os));
    blocking(move || engine.store_images(&name, search.as_deref(), os.as_deref())).await
}

/// Start one import job downloading the chosen images of a store (resumable, checked against the
/// size and digest the store declares, decompressed when served compressed); returns its id at
/// once. Refused before any job exists: no image chosen, an alias for several, an unknown id.
#[tauri::command]
#[specta::specta]
pub async fn start_store_import(
    state: State<'_, AppState>,
    request: StoreImportRequest,
    on_progress: Channel<JobProgress>,
) -> Result<i64, IpcError> {
    let ids: Vec<String> = request.ids.iter().map(|i| i.trim().to_string()).filter(|i| !i.is_empty()).collect();
    if ids.is_empty() {
        return Err(IpcError::new(
            code::INVALID_ARGUMENT,
            "No image was chosen.",
            "An import from a store downloads the images chosen in its list.",
            "Select one or more images, then Import.",
        ));
    }
    check_alias(&request.attributes, ids.len())?;
    crate::jobs::start(
        state.engine(),
        move |engine| {
            let items = engine.store_import_items(&request.store, &ids, &request.attributes)?;
            engine.import_work(ImportRequest { items, ..Default::default() })
        },
        on_progress,
        None,
    )
    .await
}

/// Start an import job for the image an IMGAPI manifest describes (its file checked against the
/// manifest's size and digest); returns its id at once. The manifest is fetched first: a URL that
/// is not http(s), a manifest that cannot be read or is not an IMGAPI manifest refuse the import.
#[tauri::command]
#[specta::specta]
pub async fn start_manifest_import(
    state: State<'_, AppState>,
    request: ManifestImportRequest,
    on_progress: Channel<JobProgress>,
) -> Result<i64, IpcError> {
    let manifest_url = request.manifest_url.trim().to_string();
    check_url(&manifest_url)?;
    let file_url = request.file_url.as_deref().map(str::trim).filter(|f| !f.is_empty()).map(str::to_string);
    if let Some(f) = &file_url {
        check_url(f)?;
    }
    crate::jobs::start(
        state.engine(),
        move |engine| {
            let (_, item) = engine.manifest_import_item(&manifest_url, file_url.as_deref(), &request.attributes)?;
            engine.import_work(ImportRequest { items: vec![item], ..Default::default() })
        },
        on_progress,
        None,
    )
    .await
}

/// An alias names one artifact: refused when several images are imported at once.
fn check_alias(attributes: &ArtifactPatch, images: usize) -> Result<(), IpcError> {
    if images > 1 && attributes.alias.as_deref().is_some_and(|a| !a.trim().is_empty()) {
        return Err(IpcError::new(
            code::INVALID_ARGUMENT,
            "An alias names one image, and several were chosen.",
            "The import was not started; nothing was downloaded.",
            "Import the images separately, or leave the alias empty.",
        ));
    }
    Ok(())
}
