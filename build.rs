//! tauri-build: embeds the config and an app manifest so our own commands are permission-checked
//! (each gets `allow-<command>`; capabilities/main.json grants them to the main window).

const COMMANDS: &[&str] = &[
    "repository_info",
    "reveal_repository",
    "open_log_folder",
    "plan_import",
    "parse_expected",
    "start_import",
    "cancel_job",
    "list_jobs",
    "count_jobs",
    "get_job",
    "list_artifacts",
    "count_artifacts",
    "get_artifact",
    "update_artifact",
    "delete_artifact",
    "list_profiles",
    "get_profile",
    "create_profile",
    "add_to_profile",
    "remove_from_profile",
    "set_profile_options",
    "update_profile",
    "clone_profile",
    "free_profile_name",
    "delete_profile",
    "export_profile",
    "import_profile",
    "list_targets",
    "add_target",
    "test_target",
    "remove_target",
    "plan_publish",
    "publish",
    "list_publications",
    "refresh_publication",
    "unpublish",
    "remember_secret",
    "list_servers",
    "add_server",
    "test_server",
    "remove_server",
    "probe_host_key",
    "trust_host_key",
    "export_profile_to_server",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri-build failed");
}
