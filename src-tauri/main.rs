//! Imagesmith desktop entry point: opens the window on the per-user repository.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    imagesmith_app::run();
}
