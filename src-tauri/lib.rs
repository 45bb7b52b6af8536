//! The Tauri shell: the builder shared by `main`, the IPC tests and the bindings export.
//!
//! Everything here is wiring. Commands live in `commands/`, each one calling one engine method.

pub mod commands;
pub mod error;
pub mod events;
pub mod jobs;
pub mod state;

use std::sync::Arc;

use imagesmith_engine::{DataLayout, Engine};
use tauri::{Manager, Runtime};

pub use error::IpcError;
pub use state::AppState;

/// The typed IPC surface: every command and event the frontend may use, exported to
/// `ui/src/lib/ipc/bindings.ts` by `tests/bindings.rs`.
pub fn specta_builder<R: Runtime>() -> tauri_specta::Builder<R> {
    tauri_specta::Builder::<R>::new()
        .commands(tauri_specta::collect_commands![
            commands::repository::repository_info,
            commands::repository::reveal_repository,
            commands::repository::open_log_folder,
            commands::import::plan_import,
            commands::import::parse_expected,
            commands::import::start_import,
            commands::jobs::cancel_job,
            commands::jobs::list_jobs,
            commands::jobs::count_jobs,
            commands::jobs::get_job,
            commands::library::list_artifacts,
            commands::library::count_artifacts,
            commands::library::get_artifact,
            commands::library::update_artifact,
            commands::library::delete_artifact,
            commands::profiles::list_profiles,
            commands::profiles::get_profile,
            commands::profiles::create_profile,
            commands::profiles::add_to_profile,
            commands::profiles::remove_from_profile,
            commands::profiles::set_profile_options,
            commands::profiles::update_profile,
            commands::profiles::clone_profile,
            commands::profiles::free_profile_name,
            commands::profiles::delete_profile,
            commands::profiles::export_profile,
            commands::profiles::import_profile,
            commands::publish::list_targets,
            commands::publish::add_target,
            commands::publish::test_target,
            commands::publish::remove_target,
            commands::publish::plan_publish,
            commands::publish::publish,
            commands::publish::list_publications,
            commands::publish::refresh_publication,
            commands::publish::unpublish,
            commands::publish::remember_secret,
            commands::servers::list_servers,
            commands::servers::add_server,
            commands::servers::test_server,
            commands::servers::remove_server,
            commands::servers::probe_host_key,
            commands::servers::trust_host_key,
            commands::servers::export_profile_to_server,
        ])
        .events(tauri_specta::collect_events![events::JobsChanged, events::CatalogChanged, events::ProfilesChanged])
        // ids, sizes and byte counts stay far below 2^53
        .dangerously_cast_bigints_to_number()
        // one TypeScript type per Rust type (not separate request/response shapes)
        .disable_serde_phases()
}

/// The generated TypeScript client, as text (used by the export and the staleness test).
pub const BINDINGS_PATH: &str = "ui/src/lib/ipc/bindings.ts";

/// Set up the app around an opened engine on any runtime: `run` passes the real builder, the IPC
/// tests `tauri::test::mock_builder()`.
pub fn app_builder<R: Runtime>(base: tauri::Builder<R>, engine: Arc<Engine>) -> tauri::Builder<R> {
    let specta = specta_builder::<R>();
    let handler = specta.invoke_handler();
    base.plugin(tauri_plugin_dialog::init()).invoke_handler(handler).setup(move |app| {
        specta.mount_events(app);
        app.manage(AppState::new(engine.clone()));
        events::watch_changes(app.handle().clone(), engine.clone());
        // Objects an earlier boot left unsettled are re-hashed in the background: the window
        // shows the library at once and the `recover` job in the jobs panel.
        if let Ok(Some(work)) = engine.recovery_work() {
            let _ = engine.spawn(work, Box::new(|_| {}), |_| {});
        }
        Ok(())
    })
}

/// Start the log file, open the per-user repository (IMAGESMITH_HOME overrides it) and run the window.
pub fn run() {
    if let Err(err) = imagesmith_engine::logging::init(&imagesmith_engine::logging::LogOptions::app()) {
        eprintln!("imagesmith: no log file: {} {}", err.text, err.recovery);
    }
    let engine = match DataLayout::default_for_user().and_then(Engine::open) {
        Ok(engine) => Arc::new(engine),
        Err(err) => {
            eprintln!("imagesmith: {}\n{}\n{}", err.text, err.explanation, err.recovery);
            std::process::exit(2);
        }
    };
    app_builder(tauri::Builder::default(), engine)
        .run(tauri::generate_context!("tauri.conf.json"))
        .expect("the Imagesmith window could not start");
}
