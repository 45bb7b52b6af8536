//! tauri-build: embeds the config and an app manifest so our own commands are permission-checked
//! (each gets `allow-<command>`; capabilities/main.json grants them to the main window).

/// The app's commands, one per line (`#` starts a comment): src-tauri/commands.txt, the one list
/// tests/commands.rs holds the shell, the grants and the generated client to.
const COMMAND_LIST: &str = include_str!("src-tauri/commands.txt");

fn main() {
    let commands: Vec<&'static str> = COMMAND_LIST.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(commands.leak())))
        .expect("tauri-build failed");
}
