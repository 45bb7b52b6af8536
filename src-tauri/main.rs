//! Imagesmith desktop entry point: opens the window on the per-user repository.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // WebKitGTK's accelerated compositing loads Mesa's llvmpipe where there is no GPU (VMs, remote
    // desktops, Xvfb) and costs about 130 MB in the web process; a list-and-forms admin tool does not
    // need it. Measured by `make bench` (idle memory). A user can still turn it on by setting the
    // variable to 0. Set before any thread exists, so changing the environment is sound.
    if std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_none() {
        std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    }
    imagesmith_app::run();
}
