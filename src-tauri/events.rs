//! "jobs-changed" / "catalog-changed" / "profiles-changed" / "gold-changed": reads the engine's change stamp so that changes made by any
//! process (this window, a CLI import running alongside, another desktop on a team repository) reach the UI, which then
//! refetches — every 500 ms on a local repository, when the team catalog NOTIFYs on a team one (`Engine::wait_for_change`).

use std::sync::Arc;
use std::time::Duration;

use imagesmith_engine::Engine;
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Runtime};
use tauri_specta::Event;

/// Jobs were added or changed state; the payload is the new stamp.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct JobsChanged {
    pub stamp: i64,
}

/// Artifacts were added, edited or deleted; the payload is the new stamp.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct CatalogChanged {
    pub stamp: i64,
}

/// Profiles were created, changed or deleted; the payload is the new stamp.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct ProfilesChanged {
    pub stamp: i64,
}

/// Gold images, series or working copies were added, changed or removed; the payload is the new stamp.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct GoldChanged {
    pub stamp: i64,
}

/// The repository could not be read (a team's catalog cannot be reached), or can be again. While
/// it cannot, the window keeps what it last read and adds nothing; the engine reconnects by itself.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct RepositoryStatusChanged {
    pub online: bool,
    /// Why it cannot be read, while it cannot.
    pub error: Option<crate::error::IpcError>,
}

pub const POLL: Duration = Duration::from_millis(500);
/// How often the watcher settles what this process imported (see the engine's `durability`).
pub const SETTLE_EVERY: Duration = Duration::from_secs(60);

/// Every list changed: the window reads them all again.
fn announce_all<R: Runtime>(app: &AppHandle<R>, now: &imagesmith_engine::ChangeStamp) {
    let _ = JobsChanged { stamp: now.jobs }.emit(app);
    let _ = CatalogChanged { stamp: now.artifacts }.emit(app);
    let _ = ProfilesChanged { stamp: now.profiles }.emit(app);
    let _ = GoldChanged { stamp: now.gold }.emit(app);
}

/// Start the watcher thread; it lives as long as the process. `current` is the engine of the
/// repository open in the window (another one when a team repository is opened later).
pub fn watch_changes<R: Runtime>(app: AppHandle<R>, current: impl Fn() -> Arc<Engine> + Send + 'static) {
    std::thread::Builder::new()
        .name("change-watcher".into())
        .spawn(move || {
            let mut engine = current();
            let mut seen = engine.change_stamp().ok();
            let mut online = true;
            let mut settled_at = std::time::Instant::now();
            loop {
                let now_open = current();
                if !Arc::ptr_eq(&now_open, &engine) {
                    // Another repository in the window. This thread sees it only after its last
                    // wait on the old one, by when another desktop may have changed the new one
                    // after the window read it: every list is read once more now, and changes are
                    // counted from here. (Taking the stamp silently lost such a change until the
                    // next one, seen in about one window test in five after an unlock.)
                    engine = now_open;
                    online = true;
                    seen = engine.change_stamp().ok();
                    if let Some(now) = &seen {
                        announce_all(&app, now);
                    }
                }
                // A local repository: every POLL. A team's: when its catalog NOTIFYs a change.
                engine.wait_for_change(POLL);
                // What this window imported reaches the disk within ~30 s; record it as settled.
                if settled_at.elapsed() >= SETTLE_EVERY {
                    settled_at = std::time::Instant::now();
                    let _ = engine.settle(imagesmith_engine::durability::SETTLE_AFTER);
                }
                let now = match engine.change_stamp() {
                    Ok(now) => now,
                    Err(e) => {
                        if online {
                            online = false;
                            tracing::warn!(code = %e.code, "the repository cannot be read");
                            let _ = RepositoryStatusChanged { online: false, error: Some(e) }.emit(&app);
                        }
                        continue;
                    }
                };
                if !online {
                    // Back: everything is read again, whatever changed meanwhile.
                    online = true;
                    let _ = RepositoryStatusChanged { online: true, error: None }.emit(&app);
                    seen = None;
                    announce_all(&app, &now);
                }
                if let Some(before) = &seen {
                    if before.jobs != now.jobs {
                        let _ = JobsChanged { stamp: now.jobs }.emit(&app);
                    }
                    if before.artifacts != now.artifacts {
                        let _ = CatalogChanged { stamp: now.artifacts }.emit(&app);
                    }
                    if before.profiles != now.profiles {
                        let _ = ProfilesChanged { stamp: now.profiles }.emit(&app);
                    }
                    if before.gold != now.gold {
                        let _ = GoldChanged { stamp: now.gold }.emit(&app);
                    }
                }
                seen = Some(now);
            }
        })
        .expect("could not start the change watcher thread");
}
