//! Paths the person at the keyboard handed to the app this session: what the native dialogs
//! returned and what was dropped on the window. Commands that read or write a path the page names
//! (import files, checksum files, profile archives, export folders) refuse any other — defence in
//! depth behind the CSP: a page that ran foreign script still could not make the app read `/etc`'s
//! files into the library or write an export into `/etc`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use imagesmith_engine::error::code;
use tauri::{Manager, Runtime};

use crate::error::IpcError;
use crate::AppState;

/// What was chosen: files, and folders (everything below a chosen or dropped folder is implied).
#[derive(Default)]
pub struct Grants {
    chosen: Mutex<HashSet<PathBuf>>,
}

/// A path as it is compared: absolute and with `..` and links resolved when it exists.
fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

impl Grants {
    /// Remember paths the person chose or dropped.
    pub fn grant<'a>(&self, paths: impl IntoIterator<Item = &'a Path>) {
        let mut chosen = self.chosen.lock().unwrap_or_else(|p| p.into_inner());
        chosen.extend(paths.into_iter().map(canonical));
    }

    /// Whether `path` was chosen, or lies in a chosen folder.
    pub fn allows(&self, path: &Path) -> bool {
        let path = canonical(path);
        let chosen = self.chosen.lock().unwrap_or_else(|p| p.into_inner());
        path.ancestors().any(|p| chosen.contains(p))
    }

    /// Refuse `path` with `not_chosen` unless it was chosen or dropped this session.
    pub fn check(&self, path: &Path, what: &str) -> Result<(), IpcError> {
        if self.allows(path) {
            return Ok(());
        }
        Err(IpcError::new(
            code::NOT_CHOSEN,
            format!("The {what} {} was not chosen in this window.", path.display()),
            "The app only reads and writes files and folders you chose in its dialogs or dropped on its window since it started.",
            "Choose it again with the app's Add files, Import profile or folder dialog, or drop it on the window.",
        ))
    }
}

/// Grant what the native dialogs and drops hand over; the IPC tests call it in place of a person
/// choosing files.
pub fn grant<R: Runtime>(app: &tauri::AppHandle<R>, paths: &[PathBuf]) {
    if let Some(state) = app.try_state::<AppState>() {
        state.grants.grant(paths.iter().map(PathBuf::as_path));
    }
}
