//! The Tauri shell: the builder shared by `main`, the IPC tests and the bindings export.
//!
//! Everything here is wiring. Commands live in `commands/`, each one calling one engine method.

pub mod commands;
pub mod error;
pub mod events;
pub mod grants;
pub mod jobs;
pub mod opened;
pub mod settings;
pub mod startup;
pub mod state;
pub mod window;

use std::sync::Arc;

use imagesmith_engine::Engine;
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
            commands::repository::use_repository,
            commands::repository::connect_team,
            commands::repository::disconnect_team,
            commands::repository::open_log_folder,
            commands::dialogs::choose_files,
            commands::dialogs::choose_folder,
            commands::dialogs::choose_profile_archive,
            commands::import::plan_import,
            commands::import::parse_expected,
            commands::import::check_driver_fit,
            commands::import::start_import,
            commands::import::start_url_import,
            commands::jobs::cancel_job,
            commands::jobs::list_jobs,
            commands::jobs::count_jobs,
            commands::repository::open_team_here,
            commands::repository::set_cache_limit,
            commands::repository::prune_cache,
            commands::jobs::list_deletions,
            commands::jobs::get_job,
            commands::jobs::start_verify,
            commands::library::list_artifacts,
            commands::library::count_artifacts,
            commands::library::list_os_releases,
            commands::library::get_artifact,
            commands::library::answer_file_text,
            commands::library::update_artifact,
            commands::library::delete_artifact,
            commands::profiles::list_profiles,
            commands::profiles::get_profile,
            commands::profiles::lint_profile,
            commands::profiles::create_profile,
            commands::profiles::set_profile_edition,
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
            commands::dialogs::trust_host_key,
            commands::servers::export_profile_to_server,
            commands::desktop::notify_job_finished,
            commands::desktop::show_in_folder,
            commands::desktop::about,
            commands::desktop::quit,
            commands::desktop::show_progress,
            commands::desktop::opened_files,
            commands::desktop::path_kinds,
            commands::gold::choose_gold_folder,
            commands::gold::plan_capture,
            commands::gold::start_capture,
            commands::gold::list_gold,
            commands::gold::get_gold,
            commands::gold::gold_files,
            commands::gold::promote_gold,
            commands::gold::archive_gold,
            commands::gold::unarchive_gold,
            commands::gold::delete_gold,
            commands::gold::list_series,
            commands::gold::create_series,
            commands::gold::add_to_series,
            commands::gold::remove_from_series,
            commands::gold::set_series_current,
            commands::gold::start_provision,
            commands::gold::list_working_copies,
            commands::gold::forget_copy,
            commands::gold::check_copy,
            commands::gold::diff_gold,
            commands::gold::start_gold_export,
            commands::gold::start_gold_import,
            commands::dialogs::choose_gold_archive,
            commands::stores::list_stores,
            commands::stores::add_store,
            commands::stores::test_store,
            commands::stores::remove_store,
            commands::dialogs::choose_signing_key,
            commands::keys::list_trusted_keys,
            commands::keys::inspect_key,
            commands::keys::trust_key,
            commands::keys::remove_trusted_key,
            commands::keys::signature_policy,
            commands::keys::set_signature_policy,
            commands::stores::store_images,
            commands::stores::start_store_import,
            commands::stores::start_manifest_import,
            commands::snapshots::list_vms,
            commands::snapshots::list_snapshots,
            commands::snapshots::start_snapshot_image,
            commands::dialogs::choose_disk_file,
        ])
        .events(tauri_specta::collect_events![
            events::JobsChanged,
            events::CatalogChanged,
            events::ProfilesChanged,
            events::GoldChanged,
            events::RepositoryStatusChanged
        ])
        // the Linux distributions an OS may be named by (the edit form offers them)
        .constant("LINUX_DISTROS", imagesmith_engine::model::LINUX_DISTROS)
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
    app_builder_with_dialogs(base, engine, None)
}

/// [`app_builder`] with the native dialogs answered by `dialogs` (the IPC tests answer the host-key
/// confirmation this way; None: the window's real dialogs).
pub fn app_builder_with_dialogs<R: Runtime>(
    base: tauri::Builder<R>,
    engine: Arc<Engine>,
    dialogs: Option<Arc<dyn commands::dialogs::Dialogs>>,
) -> tauri::Builder<R> {
    app_builder_with(base, engine, dialogs, Arc::new(settings::Store::at(None)))
}

/// [`app_builder_with_dialogs`] with the settings the app remembers between runs.
pub fn app_builder_with<R: Runtime>(
    base: tauri::Builder<R>,
    engine: Arc<Engine>,
    dialogs: Option<Arc<dyn commands::dialogs::Dialogs>>,
    settings: Arc<settings::Store>,
) -> tauri::Builder<R> {
    app_builder_opening(base, engine, dialogs, settings, Vec::new())
}

/// [`app_builder_with`] with the files and folders named on the command line (what "Open with
/// Imagesmith" passes, see `opened.rs`): granted like dropped files before the page can ask, and
/// handed to it once (`opened_files`), so they go into the import review.
pub fn app_builder_opening<R: Runtime>(
    base: tauri::Builder<R>,
    engine: Arc<Engine>,
    dialogs: Option<Arc<dyn commands::dialogs::Dialogs>>,
    settings: Arc<settings::Store>,
    opened: Vec<std::path::PathBuf>,
) -> tauri::Builder<R> {
    let specta = specta_builder::<R>();
    let handler = specta.invoke_handler();
    base.plugin(tauri_plugin_dialog::init())
        .invoke_handler(handler)
        // Files dropped on the window may be imported: the drop is the person's choice. (A webview
        // window reports drops as a window event on Linux; a child webview as a webview event.)
        .on_window_event(|window, event| match event {
            tauri::WindowEvent::DragDrop(tauri::DragDropEvent::Drop { paths, .. }) => grants::grant(window.app_handle(), paths),
            tauri::WindowEvent::CloseRequested { api, .. } => window::on_close_requested(window, api),
            _ => {}
        })
        .on_webview_event(|webview, event| {
            if let tauri::WebviewEvent::DragDrop(tauri::DragDropEvent::Drop { paths, .. }) = event {
                grants::grant(webview.app_handle(), paths);
            }
        })
        .setup(move |app| {
            specta.mount_events(app);
            let dialogs = dialogs.clone().unwrap_or_else(|| Arc::new(app.handle().clone()));
            if let Some(main) = app.get_webview_window("main") {
                window::restore(&main, &settings);
            }
            let mut state = AppState::new(engine.clone(), dialogs, settings.clone());
            state.window = Arc::new(app.handle().clone());
            state.grants.grant(opened.iter().map(std::path::PathBuf::as_path));
            state.opened = opened::Opened::new(opened.clone());
            app.manage(state);
            let handle = app.handle().clone();
            events::watch_changes(app.handle().clone(), move || handle.state::<AppState>().engine());
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
    let settings = Arc::new(settings::Store::for_user());
    // "Open with Imagesmith" starts a new process with the files as arguments; one already running
    // is not asked to take them (no single-instance plugin): the repository is shared by processes.
    let cwd = std::env::current_dir().unwrap_or_default();
    let open_with = opened::from_args(std::env::args_os().skip(1), &cwd);
    // A repository that does not open gets a window with what to do (try again, choose another,
    // create a missing one on request), not an exit without a word.
    let fatal = |err: imagesmith_engine::Error| -> Option<Engine> {
        eprintln!("imagesmith: {}\n{}\n{}", err.text, err.explanation, err.recovery);
        let _ = rfd::MessageDialog::new()
            .set_level(rfd::MessageLevel::Error)
            .set_title("Imagesmith cannot open its repository")
            .set_description(format!("{}\n\n{}\n\n{}", err.text, err.explanation, err.recovery))
            .set_buttons(rfd::MessageButtons::Ok)
            .show();
        None
    };
    // A team repository when IMAGESMITH_REPO or `repo use` chose one (and IMAGESMITH_HOME does not
    // name a folder); the desktop's own otherwise, or when the team's does not open and the person
    // says to open the local one.
    let team = match imagesmith_engine::team::chosen_by_environment() {
        Ok(Some(name)) => startup::open_team(&name, &startup::NativeAsk, &|n| imagesmith_engine::team::open(n, None, None)),
        Ok(None) => startup::TeamOpened::Local,
        Err(err) => {
            fatal(err);
            startup::TeamOpened::Quit
        }
    };
    let opened = match team {
        startup::TeamOpened::Team(engine) => Some(*engine),
        startup::TeamOpened::Quit => None,
        startup::TeamOpened::Local => match startup::initial_layout(&settings) {
            Ok(layout) => startup::open(layout, &startup::NativeAsk, &settings),
            Err(err) => fatal(err),
        },
    };
    let Some(engine) = opened.map(Arc::new) else { std::process::exit(2) };
    app_builder_opening(tauri::Builder::default(), engine, None, settings, open_with)
        .run(tauri::generate_context!("tauri.conf.json"))
        .expect("the Imagesmith window could not start");
}
