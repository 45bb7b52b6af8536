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
}

impl AppState {
    pub fn new(engine: Arc<Engine>, dialogs: Arc<dyn crate::commands::dialogs::Dialogs>) -> Self {
        AppState { engine, grants: Default::default(), dialogs }
    }
}
