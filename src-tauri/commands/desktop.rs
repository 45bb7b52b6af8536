//! Being a good desktop citizen: a notification when a job ends while the window is in the
//! background, "Show in folder" for an export, and the About facts (version, licenses).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use tauri::State;

use crate::error::{blocking, IpcError};
use crate::AppState;

/// Tell the desktop a job ended — only when the person is looking elsewhere (the window is not
/// focused); in front of the window the toast says it. True when a notification was sent.
#[tauri::command]
#[specta::specta]
pub async fn notify_job_finished(state: State<'_, AppState>, title: String, body: String) -> Result<bool, IpcError> {
    if state.window.is_focused() {
        return Ok(false);
    }
    blocking(move || {
        let sent = notify_rust::Notification::new().appname("Imagesmith").summary(&title).body(&body).icon("io.imagesmith.desktop").show();
        // No notification service (a bare X session, a kiosk): the job's toast and History remain.
        if let Err(e) = &sent {
            tracing::info!(error = %e, "no desktop notification");
        }
        Ok(sent.is_ok())
    })
    .await
}

/// The files and folders the app was started with ("Open with Imagesmith" in a file manager),
/// already granted like dropped files; the window puts them into the import review. Each is
/// handed over once: later calls (a reloaded page) answer nothing.
#[tauri::command]
#[specta::specta]
pub async fn opened_files(state: State<'_, AppState>) -> Result<Vec<String>, IpcError> {
    Ok(state.opened.take().iter().map(|p| p.display().to_string()).collect())
}

/// What a dropped or opened path is. One folder alone goes to the capture review; anything else
/// to the import review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum PathKind {
    Folder,
    File,
    /// A link, a device, a pipe, or a path that is gone.
    Other,
}

/// What each of `paths` is (links are not followed: a capture does not follow them either). Only
/// paths dropped, opened with the app or chosen in its dialogs are looked at (`not_chosen`).
#[tauri::command]
#[specta::specta]
pub async fn path_kinds(state: State<'_, AppState>, paths: Vec<PathBuf>) -> Result<Vec<PathKind>, IpcError> {
    for path in &paths {
        state.grants.check(path, "file or folder")?;
    }
    blocking(move || {
        let kind = |path: &PathBuf| match std::fs::symlink_metadata(path) {
            Ok(meta) if meta.is_dir() => PathKind::Folder,
            Ok(meta) if meta.is_file() => PathKind::File,
            _ => PathKind::Other,
        };
        Ok(paths.iter().map(kind).collect())
    })
    .await
}

/// Quit (Ctrl+Q): closes the window the way its close button does, so running jobs are asked
/// about first (see `window::quit_flow`).
#[tauri::command]
#[specta::specta]
pub async fn quit(state: State<'_, AppState>) -> Result<(), IpcError> {
    state.window.close();
    Ok(())
}

/// Put the progress of running jobs in the window title, so it shows in the task bar and the
/// window switcher: "Imagesmith — 42 % · 2 jobs". None: no job is running.
#[tauri::command]
#[specta::specta]
pub async fn show_progress(state: State<'_, AppState>, percent: Option<u8>, running: u32) -> Result<(), IpcError> {
    state.window.set_title(&progress_title(percent, running));
    Ok(())
}

/// The window title for `running` jobs at `percent` (of their bytes) done.
pub fn progress_title(percent: Option<u8>, running: u32) -> String {
    match (running, percent) {
        (0, _) => "Imagesmith".into(),
        (1, Some(p)) => format!("Imagesmith — {} %", p.min(100)),
        (n, Some(p)) => format!("Imagesmith — {} % · {n} jobs", p.min(100)),
        (1, None) => "Imagesmith — 1 job running".into(),
        (n, None) => format!("Imagesmith — {n} jobs running"),
    }
}

/// Show an exported archive selected in the desktop's file manager (its folder when the file
/// manager cannot select files). Only files in folders chosen in this window.
#[tauri::command]
#[specta::specta]
pub async fn show_in_folder(state: State<'_, AppState>, path: String) -> Result<(), IpcError> {
    let path = PathBuf::from(path);
    state.grants.check(&path, "file")?;
    blocking(move || {
        if tauri_plugin_opener::reveal_item_in_dir(&path).is_ok() {
            return Ok(());
        }
        let folder = path.parent().map(PathBuf::from).unwrap_or_else(|| path.clone());
        tauri_plugin_opener::open_path(&folder, None::<&str>).map_err(|err| {
            IpcError::new(
                imagesmith_engine::error::code::OPEN_FAILED,
                format!("Could not show {} in the file manager: {err}.", path.display()),
                "No file manager may be installed or registered for folders on this desktop.",
                format!("Open {} yourself.", folder.display()),
            )
        })
    })
    .await
}

/// One component Imagesmith is built from, for the About dialog.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
pub struct Component {
    pub name: String,
    pub version: String,
    /// The SPDX expression its package declares.
    pub license: String,
    /// Where it comes from: a Rust crate or an npm package.
    pub ecosystem: Ecosystem,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum Ecosystem {
    Crate,
    Npm,
}

/// What the About dialog shows.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
pub struct About {
    pub name: String,
    pub version: String,
    pub license: String,
    pub tauri_version: String,
    /// Every crate and npm package in the shipped app (build and dev tools left out), with its
    /// license: src-tauri/third_party.json, kept current by tests/licenses.rs.
    pub components: Vec<Component>,
}

/// The shipped components and their licenses (generated; see tests/licenses.rs).
pub const THIRD_PARTY: &str = include_str!("../third_party.json");

#[tauri::command]
#[specta::specta]
pub async fn about() -> Result<About, IpcError> {
    let components: Vec<Component> = serde_json::from_str(THIRD_PARTY).map_err(|e| {
        IpcError::new(
            imagesmith_engine::error::code::INTERNAL,
            format!("The list of components does not read: {e}."),
            "It is built into the app; this build is broken.",
            "Report it with Copy diagnostics.",
        )
    })?;
    Ok(About {
        name: "Imagesmith".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        license: env!("CARGO_PKG_LICENSE").into(),
        tauri_version: tauri::VERSION.into(),
        components,
    })
}

#[cfg(test)]
mod tests {
    use super::progress_title;

    #[test]
    fn the_title_says_how_far_running_jobs_are() {
        assert_eq!(progress_title(None, 0), "Imagesmith");
        assert_eq!(progress_title(Some(42), 1), "Imagesmith — 42 %");
        assert_eq!(progress_title(Some(7), 3), "Imagesmith — 7 % · 3 jobs");
        assert_eq!(progress_title(None, 2), "Imagesmith — 2 jobs running");
    }
}
