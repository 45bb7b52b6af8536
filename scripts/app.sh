#!/usr/bin/env bash
# app.sh — the desktop app's build and test entry points (the Makefile calls these):
#   run       build the frontend and the app (embedded assets) and open it on the per-user repository
#   test      vitest, svelte-check, the bindings staleness test, the command list, IPC tests, then the
#             end-to-end tests in a real window (Xvfb + tauri-driver + WebKitWebDriver)
#   package   tauri build --bundles deb
#   bindings  regenerate ui/src/lib/ipc/bindings.ts from the Rust commands
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# One feature set for every app build of a run (features changing recompiles ~70 crates).
FEATURES=custom-protocol
TAURI="$ROOT/ui/node_modules/.bin/tauri"
# Where cargo puts what it builds (CARGO_TARGET_DIR when set, as .ci/run does).
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"

say() { printf '\n== app.sh: %s\n' "$*"; }

ui_deps() {
  if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules ]; then
    say "npm ci (ui/)"
    (cd ui && npm ci --no-audit --no-fund)
  fi
}

ui_build() {
  ui_deps
  say "building the frontend (ui/dist)"
  npm --prefix ui run build
}

need_driver() {
  command -v tauri-driver >/dev/null 2>&1 || export PATH="$HOME/.cargo/bin:$PATH"
  command -v tauri-driver >/dev/null 2>&1 || { say "installing tauri-driver 2.1.0"; cargo install tauri-driver --version 2.1.0 --locked; }
  command -v WebKitWebDriver >/dev/null 2>&1 || { echo "WebKitWebDriver missing: run scripts/setup.sh (webkit2gtk-driver)" >&2; exit 1; }
  command -v xvfb-run >/dev/null 2>&1 || { echo "xvfb-run missing: run scripts/setup.sh" >&2; exit 1; }
}

cmd="${1:-}"
case "$cmd" in
  run)
    ui_build
    say "building the app"
    cargo build -p imagesmith --features "$FEATURES"
    exec "$TARGET/debug/imagesmith"
    ;;
  test)
    ui_deps
    say "svelte-check"
    npm --prefix ui run check
    say "vitest"
    npm --prefix ui test
    ui_build
    say "Rust: shell unit tests, bindings staleness, one command list, IPC tests (mock runtime)"
    cargo test -p imagesmith --features "$FEATURES" --lib --test bindings --test commands --test ipc --test licenses
    need_driver
    if [ -z "${IMAGESMITH_FIXTURES:-}" ]; then
      scripts/fixtures.sh "$ROOT/target/fixtures"
      export IMAGESMITH_FIXTURES="$ROOT/target/fixtures"
    fi
    # The team window test drives imagesmith-cli as another desktop, held at one of the engine's
    # failpoints: the binary the CLI's tests build (the same command `make test-engine` runs, so
    # after it this builds nothing).
    say "imagesmith-cli with its test failpoints, for the window tests"
    cargo test --no-run -q -p imagesmith-engine -p imagesmith-cli
    say "end-to-end tests in a real window (Xvfb, tauri-driver, WebKitWebDriver); screenshots in target/e2e/"
    rm -rf target/e2e && mkdir -p target/e2e
    # The servers the e2e tests talk to (the publish wizard: a local Glance; the profile export: a
    # WebDAV server; Import from URL: nginx; images from VM disk snapshots: libvirtd), in a state
    # dir and on ports of their own, so they never meet the engine tests'.
    # The team repository test: PostgreSQL, SeaweedFS and a Secret Service, on ports of their own too.
    TS_STATE="$ROOT/target/app-servers-state" TS_WITH="${APP_E2E_SERVERS:-glance webdav http libvirt postgres s3 keyring}" \
      TS_GLANCE_PORT="${APP_GLANCE_PORT:-29292}" TS_WEBDAV_PORT="${APP_WEBDAV_PORT:-28080}" \
      TS_HTTP_PORT="${APP_HTTP_PORT:-28090}" TS_HTTPS_PORT="${APP_HTTPS_PORT:-28453}" TS_FAULT_PORT="${APP_FAULT_PORT:-28091}" \
      TS_PG_PORT="${APP_PG_PORT:-25433}" TS_S3_PORT="${APP_S3_PORT:-21333}" TS_S3_HTTPS_PORT="${APP_S3_HTTPS_PORT:-21334}" \
      TS_S3_MASTER_PORT="${APP_S3_MASTER_PORT:-21433}" TS_S3_VOLUME_PORT="${APP_S3_VOLUME_PORT:-21181}" \
      TS_S3_FILER_PORT="${APP_S3_FILER_PORT:-21888}" \
      scripts/with-servers.sh xvfb-run -a -s "-screen 0 1920x1080x24" \
      cargo test -p imagesmith --features "$FEATURES" --test e2e -- --ignored --test-threads=1
    ;;
  package)
    ui_deps
    say "tauri build --bundles deb"
    "$TAURI" build --bundles deb
    ls -1 "$TARGET"/release/bundle/deb/*.deb
    ;;
  bindings)
    ui_deps
    UPDATE_BINDINGS=1 cargo test -p imagesmith --features "$FEATURES" --test bindings
    say "wrote ui/src/lib/ipc/bindings.ts"
    ;;
  *)
    echo "usage: scripts/app.sh run|test|package|bindings" >&2
    exit 2
    ;;
esac
