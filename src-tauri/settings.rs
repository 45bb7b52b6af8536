//! What the app remembers between runs: the repository the person chose, the window's size and
//! place, the last folders an export and a provision went to. One small JSON file in the user's config folder
//! (`IMAGESMITH_CONFIG` overrides it), replaced atomically; never a secret.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The window as it was when it closed (logical pixels, like the config's sizes).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WindowGeometry {
    pub x: i32,
    pub y: i32,
    pub width: u32,
    pub height: u32,
    pub maximized: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// A repository chosen in the "cannot open" window, used when `IMAGESMITH_HOME` is not set.
    pub repository: Option<PathBuf>,
    pub window: Option<WindowGeometry>,
    /// Where the export dialog starts.
    pub last_export_folder: Option<PathBuf>,
    /// The last folder a working copy was provisioned into (the next provision dialog opens beside it).
    pub last_provision_folder: Option<PathBuf>,
}

/// The settings file and what it holds now.
pub struct Store {
    path: Option<PathBuf>,
    now: Mutex<Settings>,
}

impl Store {
    /// The user's settings (defaults when there is no file or it does not read).
    pub fn for_user() -> Store {
        // The engine's config folder, where the team repositories are saved too.
        let path = imagesmith_engine::team::config::app_config_dir().map(|d| d.join("settings.json"));
        Store::at(path)
    }

    /// Settings kept in `path` (None: only in memory, as in the IPC tests).
    pub fn at(path: Option<PathBuf>) -> Store {
        let now = path.as_deref().map(read).unwrap_or_default();
        Store { path, now: Mutex::new(now) }
    }

    pub fn get(&self) -> Settings {
        self.now.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Change and save. A failed save is logged and otherwise ignored: forgetting a window size
    /// must never stop the app.
    pub fn update(&self, change: impl FnOnce(&mut Settings)) {
        let mut now = self.now.lock().unwrap_or_else(|p| p.into_inner());
        change(&mut now);
        if let Some(path) = &self.path {
            if let Err(e) = write(path, &now) {
                tracing::warn!(path = %path.display(), error = %e, "settings not saved");
            }
        }
    }
}

fn read(path: &Path) -> Settings {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            tracing::warn!(path = %path.display(), error = %e, "settings file does not read; using defaults");
            Settings::default()
        }),
        Err(_) => Settings::default(),
    }
}

/// Write beside the file and rename over it, so a crash leaves the old file or the new one.
fn write(path: &Path, s: &Settings) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    serde_json::to_writer_pretty(&mut tmp, s)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// A remembered geometry that still fits on one of the monitors now attached (given as x, y,
/// width, height): a window saved on a monitor since unplugged would open out of sight.
pub fn fits(g: &WindowGeometry, monitors: &[(i32, i32, u32, u32)]) -> bool {
    // At least a 100×40 corner of the title bar must be on a monitor.
    monitors.iter().any(|&(mx, my, mw, mh)| {
        let (right, bottom) = (mx + mw as i32, my + mh as i32);
        g.x + 100 <= right && g.x + g.width as i32 >= mx + 100 && g.y >= my && g.y + 40 <= bottom
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_survive_a_restart_and_a_damaged_file_means_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/settings.json");
        let store = Store::at(Some(path.clone()));
        store.update(|s| {
            s.repository = Some("/srv/images".into());
            s.window = Some(WindowGeometry { x: 10, y: 20, width: 1300, height: 800, maximized: false });
        });
        let again = Store::at(Some(path.clone()));
        assert_eq!(again.get().repository.as_deref(), Some(Path::new("/srv/images")));
        assert_eq!(again.get().window.unwrap().width, 1300);
        std::fs::write(&path, "{ not json").unwrap();
        assert_eq!(Store::at(Some(path)).get(), Settings::default());
    }

    #[test]
    fn a_window_remembered_on_an_unplugged_monitor_is_not_restored() {
        let g = |x, y| WindowGeometry { x, y, width: 1200, height: 800, maximized: false };
        let one = [(0, 0, 1920, 1080)];
        assert!(fits(&g(100, 100), &one));
        assert!(!fits(&g(2500, 100), &one), "on a second monitor that is gone");
        assert!(!fits(&g(100, -300), &one), "title bar above the screen");
        assert!(fits(&g(2500, 100), &[(0, 0, 1920, 1080), (1920, 0, 2560, 1440)]));
    }
}
