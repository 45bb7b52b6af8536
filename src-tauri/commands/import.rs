//! Import: review what was dropped, read a pasted checksum, start the import job — of files, or of
//! http(s) URLs pasted in "Import from URL…" or dropped from a browser.

use imagesmith_engine::checksum::parse_expected as parse_digest;
use imagesmith_engine::error::code;
use imagesmith_engine::{download, ArtifactPatch, Engine, ExpectedDigest, ImportItem, ImportPlan, ImportRequest, JobProgress, PlanRequest};
use serde::{Deserialize, Serialize};
use tauri::ipc::Channel;
use tauri::State;

use crate::error::{blocking, IpcError};
use crate::AppState;

/// Classify dropped or chosen files (checksum files among them are recognised, not imported). Only
/// paths chosen in the app's dialogs or dropped on its window are read (`not_chosen` otherwise).
#[tauri::command]
#[specta::specta]
pub async fn plan_import(state: State<'_, AppState>, request: PlanRequest) -> Result<ImportPlan, IpcError> {
    for path in request.paths.iter().chain(&request.checksum_files) {
        state.grants.check(path, "file")?;
    }
    let engine = state.engine();
    blocking(move || engine.plan_import(&request)).await
}

/// Does a driver of the review (its detected facts) fit the OS image chosen for it? The refusal the
/// import would give, or its warnings (a later kernel release of the image's series, …).
#[tauri::command]
#[specta::specta]
pub async fn check_driver_fit(
    state: State<'_, AppState>,
    name: String,
    detected: serde_json::Value,
    image: String,
) -> Result<imagesmith_engine::compat::DriverFit, IpcError> {
    let engine = state.engine();
    blocking(move || engine.driver_fit(&name, &detected, &image)).await
}

/// Read a pasted checksum: bare hex (algorithm from its length) or `ALGO:HEX`.
#[tauri::command]
#[specta::specta]
pub async fn parse_expected(text: String) -> Result<ExpectedDigest, IpcError> {
    parse_digest(&text, "entered")
}

/// Start an import job; returns its id at once. Progress arrives on `on_progress`, throttled.
#[tauri::command]
#[specta::specta]
pub async fn start_import(state: State<'_, AppState>, request: ImportRequest, on_progress: Channel<JobProgress>) -> Result<i64, IpcError> {
    for path in request.items.iter().map(|i| &i.path).chain(&request.checksum_files) {
        state.grants.check(path, "file")?;
    }
    crate::jobs::start(state.engine(), move |engine| engine.import_work(request), on_progress, None).await
}

/// What "Import from URL…" (or URLs dropped from a browser) asks for.
#[derive(Debug, Clone, Default, Serialize, Deserialize, specta::Type)]
pub struct UrlImportRequest {
    /// http(s) URLs of files to import; checksum files among them (SHA256SUMS, x.iso.sha256, … by
    /// name) and their detached signatures (SHA256SUMS.gpg) are fetched first and verify the
    /// others, as local checksum files do.
    pub urls: Vec<String>,
    /// An expected checksum (`ALGO:HEX` or bare hex) for the one file URL; empty or None: none.
    pub checksum: Option<String>,
    /// Attributes for the new artifacts (alias only with one file URL).
    pub attributes: ArtifactPatch,
    /// Import what a checksum list signed by a key not trusted here (or an expired one) vouches
    /// for, as if it were unsigned (`import --allow-unknown-key`).
    #[serde(default)]
    pub accept_unverified_signatures: bool,
}

/// Start an import job that downloads `request.urls` (resumable, hashed as the bytes come, with
/// progress, rate, ETA and cancel); returns its id at once. Refused before any job exists: a URL
/// that is not http(s), a checksum or alias for several files, a checksum file that cannot be fetched.
#[tauri::command]
#[specta::specta]
pub async fn start_url_import(
    state: State<'_, AppState>,
    request: UrlImportRequest,
    on_progress: Channel<JobProgress>,
) -> Result<i64, IpcError> {
    let files = file_urls(&request)?;
    crate::jobs::start(state.engine(), move |engine| url_import_work(engine, request, files), on_progress, None).await
}

/// The URLs to download, checked (http or https, a host) before anything is fetched; checksum-file
/// URLs are split off by `url_import_work`.
fn file_urls(request: &UrlImportRequest) -> Result<Vec<String>, IpcError> {
    let urls: Vec<String> = request.urls.iter().map(|u| u.trim().to_string()).filter(|u| !u.is_empty()).collect();
    if urls.is_empty() {
        return Err(IpcError::new(
            code::INVALID_ARGUMENT,
            "No URL was given.",
            "Import from URL downloads the files that http or https links name.",
            "Paste one or more links, one per line.",
        ));
    }
    for url in &urls {
        check_url(url)?;
    }
    Ok(urls)
}

/// An http(s) URL with a host: anything else (file:, ftp:, javascript:, a bare word) is refused.
pub fn check_url(url: &str) -> Result<(), IpcError> {
    let parsed = tauri::Url::parse(url).ok();
    let ok = parsed.as_ref().is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty()));
    if ok && download::is_url(url) {
        return Ok(());
    }
    Err(IpcError::new(
        code::INVALID_ARGUMENT,
        format!("“{url}” is not an http or https URL."),
        "Imagesmith downloads files over HTTP and HTTPS only; other links (file:, ftp:, a path) cannot be imported from a URL.",
        "Give links that start with http:// or https://; add local files with Add files… or by dropping them.",
    ))
}

/// What the CLI's `import URL…` does, in the app: checksum-file URLs fetched first (into
/// downloads/, read when the job is built, then discarded), every other URL one item of an import
/// job with the attributes and the pasted checksum.
fn url_import_work(
    engine: &Engine,
    request: UrlImportRequest,
    urls: Vec<String>,
) -> Result<imagesmith_engine::import::ImportWork, IpcError> {
    let (sum_urls, file_urls) = download::split_checksum_urls(urls);
    let usage = |text: &str, recovery: &str| {
        IpcError::new(code::INVALID_ARGUMENT, text, "The import was not started; nothing was downloaded.", recovery)
    };
    if file_urls.is_empty() {
        return Err(usage(
            "Only checksum files were given: there is nothing to import.",
            "Add the URL of the file the checksum file covers.",
        ));
    }
    let checksum = request.checksum.as_deref().map(str::trim).filter(|c| !c.is_empty());
    let expected = match checksum {
        Some(_) if file_urls.len() > 1 => {
            return Err(usage(
                "A checksum applies to one file, and several URLs were given.",
                "Give one URL with the checksum, or a checksum file URL (SHA256SUMS) for several.",
            ))
        }
        Some(text) => Some(parse_digest(text, "entered")?),
        None => None,
    };
    if request.attributes.alias.as_deref().is_some_and(|a| !a.trim().is_empty()) && file_urls.len() > 1 {
        return Err(usage(
            "An alias names one file, and several URLs were given.",
            "Import the files separately, or leave the alias empty.",
        ));
    }
    let sums = engine.fetch_checksum_urls(&sum_urls, download::DEFAULT_READ_TIMEOUT)?;
    let items = file_urls
        .into_iter()
        .map(|url| ImportItem { url: Some(url), expected: expected.clone(), attributes: request.attributes.clone(), ..Default::default() })
        .collect();
    // The checksum files are read while the job is built; afterwards they are not needed.
    let work = engine.import_work(ImportRequest {
        items,
        checksum_files: sums.paths().to_vec(),
        accept_unverified_signatures: request.accept_unverified_signatures,
        ..Default::default()
    })?;
    drop(sums);
    Ok(work)
}
