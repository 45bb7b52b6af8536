//! The one shared state object, built in `setup()` and handed to every command.

use std::sync::Arc;

use imagesmith_engine::Engine;

/// Managed by Tauri; commands reach the engine through it.
pub struct AppState {
    pub engine: Arc<Engine>,
    /// The paths chosen in native dialogs or dropped on the window this session.
    pub grants: crate::grants::Grants,
    /// The native dialogs (the app's own window's).
    pub dialogs: Arc<dyn crate::commands::dialogs::Dialogs>,
    /// What the app remembers between runs (window, last export folder, chosen repository).
    pub settings: Arc<crate::settings::Store>,
    /// The main window (none in the IPC tests until set).
    pub window: Arc<dyn crate::window::MainWindow>,
    /// The files and folders named on the command line ("Open with"), until the window takes them.
    pub opened: crate::opened::Opened,
}

impl AppState {
    pub fn new(engine: Arc<Engine>, dialogs: Arc<dyn crate::commands::dialogs::Dialogs>, settings: Arc<crate::settings::Store>) -> Self {
        AppState {
            engine,
            grants: Default::default(),
            dialogs,
            settings,
            window: Arc::new(crate::window::NoWindow),
            opened: Default::default(),
        }
    }
}
