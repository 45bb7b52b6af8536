//! The native dialogs, opened by the shell (the page has no dialog permission): what they return is
//! granted to the commands that read or write paths (`grants.rs`), and trusting an SSH host key is
//! confirmed here, in a dialog page script cannot answer.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use imagesmith_engine::error::code;
use imagesmith_engine::Server;
use tauri::{AppHandle, Runtime, State};
use tauri_plugin_dialog::{DialogExt, FilePath, MessageDialogButtons, MessageDialogKind, MessageDialogResult};

use crate::error::{blocking, IpcError};
use crate::AppState;

/// The native dialogs the commands open, behind a trait so that `AppState` (and the commands) need
/// not be generic over the runtime. Each call blocks until the person answers.
pub trait Dialogs: Send + Sync {
    fn pick_files(&self, title: &str) -> Vec<PathBuf>;
    /// A folder, the dialog opening in `start` when given.
    fn pick_folder(&self, title: &str, start: Option<&Path>) -> Option<PathBuf>;
    /// One file, offered through a filter: its name and the file name endings it shows.
    fn pick_file(&self, title: &str, filter: &str, extensions: &[&str]) -> Option<PathBuf>;
    /// A yes/no question with `yes` as the confirming button.
    fn confirm(&self, title: &str, text: &str, yes: &str) -> bool;
    /// A question with three answers; the index of the one pressed. Closing the dialog is the
    /// last answer (the one that changes nothing).
    fn ask(&self, title: &str, text: &str, answers: [&str; 3]) -> usize;
}

fn paths(chosen: Vec<FilePath>) -> Vec<PathBuf> {
    chosen.into_iter().filter_map(|p| p.into_path().ok()).collect()
}

impl<R: Runtime> Dialogs for AppHandle<R> {
    fn pick_files(&self, title: &str) -> Vec<PathBuf> {
        self.dialog().file().set_title(title).blocking_pick_files().map(paths).unwrap_or_default()
    }

    fn pick_folder(&self, title: &str, start: Option<&Path>) -> Option<PathBuf> {
        let mut dialog = self.dialog().file().set_title(title);
        if let Some(dir) = start.filter(|d| d.is_dir()) {
            dialog = dialog.set_directory(dir);
        }
        dialog.blocking_pick_folder().and_then(|p| p.into_path().ok())
    }

    fn pick_file(&self, title: &str, filter: &str, extensions: &[&str]) -> Option<PathBuf> {
        let dialog = self.dialog().file().set_title(title).add_filter(filter, extensions);
        dialog.blocking_pick_file().and_then(|p| p.into_path().ok())
    }

    fn confirm(&self, title: &str, text: &str, yes: &str) -> bool {
        self.dialog()
            .message(text)
            .title(title)
            .kind(MessageDialogKind::Warning)
            .buttons(MessageDialogButtons::OkCancelCustom(yes.into(), "Cancel".into()))
            .blocking_show()
    }

    fn ask(&self, title: &str, text: &str, answers: [&str; 3]) -> usize {
        let [a, b, c] = answers.map(String::from);
        let result = self
            .dialog()
            .message(text)
            .title(title)
            .kind(MessageDialogKind::Warning)
            .buttons(MessageDialogButtons::YesNoCancelCustom(a, b, c))
            .blocking_show_with_result();
        match result {
            MessageDialogResult::Custom(label) => answers.iter().position(|a| *a == label).unwrap_or(2),
            MessageDialogResult::Yes => 0,
            MessageDialogResult::No => 1,
            _ => 2,
        }
    }
}

/// Ask `dialogs` on a blocking thread; what it returns is granted to the path-taking commands.
async fn pick(
    state: &State<'_, AppState>,
    ask: impl FnOnce(&dyn Dialogs) -> Vec<PathBuf> + Send + 'static,
) -> Result<Vec<String>, IpcError> {
    let dialogs: Arc<dyn Dialogs> = state.dialogs.clone();
    let chosen = blocking(move || Ok(ask(dialogs.as_ref()))).await?;
    state.grants.grant(chosen.iter().map(PathBuf::as_path));
    Ok(chosen.iter().map(|p| p.display().to_string()).collect())
}

/// The native "open files" dialog; the chosen paths (none when cancelled).
#[tauri::command]
#[specta::specta]
pub async fn choose_files(state: State<'_, AppState>) -> Result<Vec<String>, IpcError> {
    pick(&state, |d| d.pick_files("Add files to the repository")).await
}

/// The native "choose a folder" dialog titled `title` for an export; the folder, or none when
/// cancelled. It opens in the folder the last export went to, and remembers this one.
#[tauri::command]
#[specta::specta]
pub async fn choose_folder(state: State<'_, AppState>, title: String) -> Result<Option<String>, IpcError> {
    let last = state.settings.get().last_export_folder;
    let chosen = pick(&state, move |d| d.pick_folder(&title, last.as_deref()).into_iter().collect()).await?.into_iter().next();
    if let Some(dir) = &chosen {
        state.settings.update(|s| s.last_export_folder = Some(PathBuf::from(dir)));
    }
    Ok(chosen)
}

/// The native dialog for one exported profile (.tar.gz); its path, or none when cancelled.
#[tauri::command]
#[specta::specta]
pub async fn choose_profile_archive(state: State<'_, AppState>) -> Result<Option<String>, IpcError> {
    let ask = |d: &dyn Dialogs| d.pick_file("Import a profile", "Profile archives", &["tar.gz", "gz"]).into_iter().collect();
    Ok(pick(&state, ask).await?.into_iter().next())
}

/// The native dialog for a gold image archive to import: one made by a gold export, or any
/// .tar.gz/.tgz/.zip of a software home. Its path, or none when cancelled.
#[tauri::command]
#[specta::specta]
pub async fn choose_gold_archive(state: State<'_, AppState>) -> Result<Option<String>, IpcError> {
    let ask =
        |d: &dyn Dialogs| d.pick_file("Import a gold image archive", "Home archives", &["tar.gz", "tgz", "zip"]).into_iter().collect();
    Ok(pick(&state, ask).await?.into_iter().next())
}

/// Trust the host key (`SHA256:…`) of a saved SFTP server, once the person confirmed it in a
/// native dialog showing the server and the fingerprint. Declining is `cancelled`.
#[tauri::command]
#[specta::specta]
pub async fn trust_host_key(state: State<'_, AppState>, name: String, fingerprint: String) -> Result<Server, IpcError> {
    let engine = state.engine();
    let dialogs = state.dialogs.clone();
    blocking(move || {
        let (server, fp) = engine.host_key_to_trust(&name, &fingerprint)?;
        let text = format!(
            "Trust the host key of {} ({}:{})?\n\n{fp}\n\nCompare it with the fingerprint the server's administrator gave you \
             (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the server). Imagesmith refuses to connect if it ever changes.",
            server.name, server.host, server.port
        );
        if !dialogs.confirm("Trust this SSH host key?", &text, "Trust") {
            return Err(IpcError::new(
                code::CANCELLED,
                format!("The host key of {} was not trusted.", server.name),
                "Trusting a host key needs a yes in the confirmation window.",
                "Test the server again when you have the fingerprint to compare with.",
            ));
        }
        engine.trust_host_key(&name, &fp)
    })
    .await
}

/// The native dialog for an OpenPGP public key file (armored or binary): an image store's signing
/// key or a key to trust; its path, or none when cancelled. `add_store`, `inspect_key` and
/// `trust_key` read it.
#[tauri::command]
#[specta::specta]
pub async fn choose_signing_key(state: State<'_, AppState>) -> Result<Option<String>, IpcError> {
    let ask = |d: &dyn Dialogs| {
        d.pick_file("Choose an OpenPGP public key", "OpenPGP public keys", &["asc", "gpg", "pgp", "key", "pub"]).into_iter().collect()
    };
    Ok(pick(&state, ask).await?.into_iter().next())
}

/// The native dialog for a qcow2 disk file to read snapshots from; its path, or none when
/// cancelled. The file is granted to `list_snapshots` and `start_snapshot_image`.
#[tauri::command]
#[specta::specta]
pub async fn choose_disk_file(state: State<'_, AppState>) -> Result<Option<String>, IpcError> {
    let ask =
        |d: &dyn Dialogs| d.pick_file("Choose a qcow2 disk file", "qcow2 disk images", &["qcow2", "qcow", "img"]).into_iter().collect();
    Ok(pick(&state, ask).await?.into_iter().next())
}
