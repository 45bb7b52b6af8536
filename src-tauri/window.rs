//! The main window's life: it opens where it was left (when that is still on a screen), and
//! closing it while jobs run asks whether to cancel them, let them finish first, or stay.

use imagesmith_engine::Engine;
use tauri::{Manager, Runtime, Window};

use crate::commands::dialogs::Dialogs;
use crate::settings::{self, WindowGeometry};
use crate::AppState;

/// What commands may do to the main window, behind a trait so that `AppState` need not be generic
/// over the runtime.
pub trait MainWindow: Send + Sync {
    fn is_focused(&self) -> bool;
    /// Close it as its close button does (running jobs are asked about first).
    fn close(&self);
    fn set_title(&self, title: &str);
    /// Start the app again (after the current repository changed), once this command has answered.
    fn restart(&self);
}

impl<R: Runtime> MainWindow for tauri::AppHandle<R> {
    fn is_focused(&self) -> bool {
        self.get_webview_window("main").and_then(|w| w.is_focused().ok()).unwrap_or(false)
    }
    fn close(&self) {
        if let Some(w) = self.get_webview_window("main") {
            let _ = w.close();
        }
    }
    fn set_title(&self, title: &str) {
        if let Some(w) = self.get_webview_window("main") {
            let _ = w.set_title(title);
        }
    }
    fn restart(&self) {
        self.request_restart();
    }
}

/// No window (the state before setup gives it one).
pub struct NoWindow;

impl MainWindow for NoWindow {
    fn is_focused(&self) -> bool {
        false
    }
    fn close(&self) {}
    fn set_title(&self, _: &str) {}
    fn restart(&self) {}
}

/// Put the window where the person left it, if that still fits on an attached monitor.
pub fn restore<R: Runtime>(window: &tauri::WebviewWindow<R>, settings: &settings::Store) {
    let Some(g) = settings.get().window else { return };
    let monitors: Vec<(i32, i32, u32, u32)> = window
        .available_monitors()
        .unwrap_or_default()
        .iter()
        .map(|m| {
            let (p, s, k) = (m.position(), m.size(), m.scale_factor());
            ((p.x as f64 / k) as i32, (p.y as f64 / k) as i32, (s.width as f64 / k) as u32, (s.height as f64 / k) as u32)
        })
        .collect();
    if !settings::fits(&g, &monitors) {
        return;
    }
    let _ = window.set_size(tauri::LogicalSize::new(g.width, g.height));
    let _ = window.set_position(tauri::LogicalPosition::new(g.x, g.y));
    if g.maximized {
        let _ = window.maximize();
    }
}

/// Remember where the window is (not while maximized: then the size to go back to stays).
fn remember<R: Runtime>(window: &Window<R>, settings: &settings::Store) {
    let maximized = window.is_maximized().unwrap_or(false);
    let k = window.scale_factor().unwrap_or(1.0);
    let (Ok(pos), Ok(size)) = (window.outer_position(), window.inner_size()) else { return };
    settings.update(|s| {
        let before = s.window;
        s.window = Some(match (maximized, before) {
            (true, Some(b)) => WindowGeometry { maximized: true, ..b },
            _ => WindowGeometry {
                x: (pos.x as f64 / k) as i32,
                y: (pos.y as f64 / k) as i32,
                width: (size.width as f64 / k) as u32,
                height: (size.height as f64 / k) as u32,
                maximized,
            },
        });
    });
}

/// The answers when the window is closed while jobs run.
pub const QUIT_ANSWERS: [&str; 3] = ["Cancel jobs and quit", "Quit when they finish", "Keep working"];

/// What closing the window does: nothing to ask when no job runs (`true`: close now). Otherwise
/// the person chooses; cancelling stops each job as Cancel does (nothing half-made is kept) and
/// quits once they have stopped; finishing first hides the window and quits when the last job
/// ends; keeping on changes nothing. Runs on a thread of its own (it blocks on the dialog).
pub fn quit_flow(engine: &Engine, dialogs: &dyn Dialogs, hide: impl FnOnce(), exit: impl FnOnce()) -> bool {
    let running = engine.running_jobs();
    if running.is_empty() {
        return true;
    }
    let n = running.len();
    let ids: Vec<String> = running.iter().map(|id| format!("#{id}")).collect();
    let text = format!(
        "{n} job{s} {are} still running ({ids}).\n\nCancelling stops {them} the way Cancel does: nothing half-imported or \
         half-exported is kept. Or Imagesmith can close its window now and quit when {they} finish.",
        s = if n == 1 { "" } else { "s" },
        are = if n == 1 { "is" } else { "are" },
        ids = ids.join(", "),
        them = if n == 1 { "it" } else { "them" },
        they = if n == 1 { "it" } else { "they" },
    );
    match dialogs.ask("Quit Imagesmith?", &text, QUIT_ANSWERS) {
        0 => {
            engine.cancel_all();
            engine.wait_idle();
            exit();
        }
        1 => {
            hide();
            engine.wait_idle();
            exit();
        }
        _ => {}
    }
    false
}

/// The window is being closed: remember where it was, and ask first while jobs run.
pub fn on_close_requested<R: Runtime>(window: &Window<R>, api: &tauri::CloseRequestApi) {
    let state = window.state::<AppState>();
    remember(window, &state.settings);
    if state.engine().running_jobs().is_empty() {
        return;
    }
    api.prevent_close();
    let (engine, dialogs, window) = (state.engine(), state.dialogs.clone(), window.clone());
    std::thread::spawn(move || {
        let app = window.app_handle().clone();
        quit_flow(&engine, dialogs.as_ref(), || drop(window.hide()), || app.exit(0));
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use imagesmith_engine::{DataLayout, ImportItem, ImportRequest, JobState};
    use std::cell::Cell;
    use std::path::{Path, PathBuf};
    use std::sync::{Arc, Mutex};

    /// Answers the quit question with `answer` and keeps what it was asked.
    struct Answer(usize, Mutex<Vec<String>>);
    impl Dialogs for Answer {
        fn pick_files(&self, _: &str) -> Vec<PathBuf> {
            Vec::new()
        }
        fn pick_folder(&self, _: &str, _: Option<&Path>) -> Option<PathBuf> {
            None
        }
        fn pick_file(&self, _: &str, _: &str, _: &[&str]) -> Option<PathBuf> {
            None
        }
        fn confirm(&self, _: &str, _: &str, _: &str) -> bool {
            false
        }
        fn ask(&self, _: &str, text: &str, _: [&str; 3]) -> usize {
            self.1.lock().unwrap().push(text.to_string());
            self.0
        }
    }

    /// An engine running one import of a `size`-byte file (sparse, so it is quick to make).
    fn importing(dir: &Path, size: u64) -> (Arc<Engine>, i64) {
        let engine = Arc::new(Engine::open(DataLayout::new(dir.join("repo"))).unwrap());
        let file = dir.join("disk.img");
        std::fs::File::create(&file).unwrap().set_len(size).unwrap();
        let item = ImportItem { path: file, kind: Some(imagesmith_engine::Kind::DiskImage), ..Default::default() };
        let work = engine.import_work(ImportRequest { items: vec![item], ..Default::default() }).unwrap();
        let id = engine.spawn(work, Box::new(|_| {}), |_| {}).unwrap();
        (engine, id)
    }

    #[test]
    fn closing_with_no_job_running_closes_without_asking() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(DataLayout::new(dir.path())).unwrap();
        let ask = Answer(0, Mutex::default());
        assert!(quit_flow(&engine, &ask, || panic!("no hide"), || panic!("no exit")));
        assert!(ask.1.lock().unwrap().is_empty());
    }

    #[test]
    fn cancel_and_quit_stops_the_job_cleanly_before_exiting() {
        let dir = tempfile::tempdir().unwrap();
        let (engine, id) = importing(dir.path(), 4 << 30);
        let ask = Answer(0, Mutex::default());
        let exited = Cell::new(false);
        assert!(!quit_flow(&engine, &ask, || panic!("no hide"), || exited.set(true)));
        assert!(exited.get());
        assert!(ask.1.lock().unwrap()[0].contains(&format!("1 job is still running (#{id})")));
        assert_eq!(engine.get_job(id).unwrap().job.state, JobState::Cancelled);
        assert!(engine.list_artifacts(&Default::default()).unwrap().is_empty(), "nothing half-imported");
    }

    #[test]
    fn quit_when_done_hides_first_and_exits_after_the_job_succeeded() {
        let dir = tempfile::tempdir().unwrap();
        let (engine, id) = importing(dir.path(), 64 << 20);
        let ask = Answer(1, Mutex::default());
        let (hidden, exited) = (Cell::new(false), Cell::new(false));
        quit_flow(&engine, &ask, || hidden.set(true), || exited.set(hidden.get()));
        assert!(exited.get(), "hidden first, then exited");
        assert_eq!(engine.get_job(id).unwrap().job.state, JobState::Succeeded);
    }

    #[test]
    fn keep_working_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (engine, id) = importing(dir.path(), 64 << 20);
        let ask = Answer(2, Mutex::default());
        assert!(!quit_flow(&engine, &ask, || panic!("no hide"), || panic!("no exit")));
        engine.wait_idle();
        assert_eq!(engine.get_job(id).unwrap().job.state, JobState::Succeeded);
    }
}
