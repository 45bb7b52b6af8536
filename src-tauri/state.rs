//! The one shared state object, built in `setup()` and handed to every command.

use std::sync::Arc;

use imagesmith_engine::Engine;

/// Managed by Tauri; commands reach the engine through it.
pub struct AppState {
    pub engine: Arc<Engine>,
}

impl AppState {
    pub fn new(engine: Arc<Engine>) -> Self {
        AppState { engine }
    }
}
