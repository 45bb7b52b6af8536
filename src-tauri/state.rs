//! The one shared state object, built in `setup()` and handed to every command.

use std::sync::{Arc, RwLock};

use imagesmith_engine::Engine;

/// Managed by Tauri; commands reach the engine through it.
pub struct AppState {
    /// The repository open in the window: replaced once at most, when a team repository whose
    /// secrets were not in the OS keyring is opened with the secrets the person typed.
    engine: RwLock<Arc<Engine>>,
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
            engine: RwLock::new(engine),
            grants: Default::default(),
            dialogs,
            settings,
            window: Arc::new(crate::window::NoWindow),
            opened: Default::default(),
        }
    }

    /// The engine of the repository open in the window now.
    pub fn engine(&self) -> Arc<Engine> {
        self.engine.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Open `engine`'s repository in the window from now on (the window then reads everything
    /// again) — unless a job runs on the one open now, which would be left where the window no
    /// longer looks (its Cancel, the question at quit): then `in_use` and nothing changes. The
    /// old engine takes no job from here on ([`Engine::retire`]).
    pub fn replace_engine(&self, engine: Arc<Engine>) -> Result<(), imagesmith_engine::Error> {
        let mut open = self.engine.write().unwrap_or_else(|p| p.into_inner());
        open.retire()?;
        *open = engine;
        Ok(())
    }
}
