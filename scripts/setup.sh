#!/usr/bin/env bash
# setup.sh — installs everything Imagesmith needs to build, test and benchmark on Debian 12:
# system packages (toolchain headers, the tools that build real test fixtures, the WebKitGTK stack
# and the headless-window tools for end-to-end tests), cargo-nextest, tauri-driver, rustfmt and
# clippy, and the frontend's npm packages from ui/package-lock.json.
#
# Idempotent and quick when nothing is missing (one dpkg-query, two --version calls, one stat):
# it prints one line per thing it installs and nothing otherwise. The slow paths run under a
# machine-wide lock, so two `make` targets calling it at the same time do not race apt or npm;
# the second one waits, re-checks, and finds nothing left to do.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TAURI_DRIVER_VERSION=2.1.0
LOCK_FILE="${TMPDIR:-/tmp}/imagesmith-setup.lock"

APT_PACKAGES=(
  # build tools
  build-essential pkg-config curl wget file libssl-dev
  # fixture tools (scripts/fixtures.sh): ISOs, RPMs + repodata, WIMs, zips, signatures, debs
  xorriso genisoimage rpm createrepo-c wimtools zip unzip libarchive-tools gnupg dpkg-dev openssl
  udftools # mkudffs: UDF 2.01 and 2.50 file systems
  faketime # fixed clocks for genisoimage and wimlib, which do not honour SOURCE_DATE_EPOCH
  # desktop app: WebKitGTK build deps, headless window, WebDriver, drag-and-drop helper, screenshots
  libwebkit2gtk-4.1-dev libxdo-dev libayatana-appindicator3-dev librsvg2-dev
  xvfb xauth webkit2gtk-driver xdotool imagemagick python3-gi gir1.2-gtk-3.0
  # benchmarks: the standard tools we compare against
  pigz hyperfine time
  # disk images: qemu-img describes and converts them
  qemu-utils
  # throwaway venvs for oracles such as pykickstart's ksvalidator, and scripts/servers.sh's venv
  python3-venv
  # real test servers (scripts/servers.sh): sshd for sftp, and sshpass for password sftp
  openssh-server openssh-sftp-server sshpass
  # downloads and image stores: nginx (Range, ETag, If-Range) serves the files the tests fetch
  nginx-light
  # secrets: a real Secret Service (gnome-keyring on a private D-Bus) for the keyring tests; libdbus
  # for the keyring crate's Secret Service client
  gnome-keyring dbus libdbus-1-dev libssl-dev pkg-config
  # the exact OS of installer ISOs: libosinfo's media rules (the .deb depends on it too)
  osinfo-db
  # trusted keys: real distribution keys (Debian's archive signing keys) the key tests read
  debian-archive-keyring
  # embedded media checksums: implantisomd5 makes the test ISOs, checkisomd5 is the oracle
  isomd5sum
  # VM disk snapshots: a real libvirt daemon with the QEMU driver (scripts/servers.sh libvirt) and
  # virsh. Not libvirt-daemon-system: its service units, users and default network are not used
  # (servers.sh runs its own daemon with its own config) and its postinst wants systemd and dbus.
  # The emulator it drives, qemu-system-x86, is installed by ensure_qemu_system below.
  libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
  # team repository: PostgreSQL 15 for the catalog tests (scripts/servers.sh postgres runs its own
  # postmaster from /usr/lib/postgresql/15/bin on port 5433; the cluster 15/main that the package
  # sets up for port 5432 is not used) and psql
  postgresql-15 postgresql-client-15
)

# The emulator for the libvirt test daemon, at the version of the installed qemu-utils. Debian 12's
# own qemu-system-x86 (7.2) cannot sit beside the qemu-utils 10.0 from bookworm-backports that
# these machines carry (qemu-utils 10 Breaks qemu-system-common << 8.0, so apt would remove qemu-img
# to install it); bookworm-backports has the matching 10.0 build. It is fetched through a private
# apt configuration (the system's sources plus bookworm-backports): /etc/apt is not changed.
QEMU_SYSTEM_PACKAGES=(qemu-system-x86 qemu-system-common qemu-system-data)
BACKPORTS_SUITE=bookworm-backports

SUDO=()
if [[ $(id -u) -ne 0 ]]; then SUDO=(sudo); fi

say() { printf 'setup: %s\n' "$*"; }

# Runs "$@" with its output sent to a log; on failure shows the log's tail and fails.
quietly() {
  local log
  log="$(mktemp "${TMPDIR:-/tmp}/imagesmith-setup.XXXXXX.log")"
  if "$@" >"$log" 2>&1; then
    rm -f "$log"
  else
    local rc=$?
    tail -n 40 "$log" >&2
    echo "setup: FAILED ($rc): $*  (full log: $log)" >&2
    return "$rc"
  fi
}

# Takes the machine-wide lock once (fd 9); later calls are no-ops.
LOCKED=0
lock() {
  if [[ $LOCKED -eq 0 ]]; then
    exec 9>>"$LOCK_FILE"
    flock 9
    LOCKED=1
  fi
}

# Prints the packages from "$@" that are not fully installed.
missing_apt_packages() {
  local installed
  # One dpkg-query for all; unknown packages print nothing (and make dpkg-query exit 1).
  installed="$(dpkg-query -W -f='${Package} ${Status}\n' "$@" 2>/dev/null \
    | awk '$NF == "installed" { sub(/:.*/, "", $1); print $1 }' || true)"
  local p
  for p in "$@"; do
    grep -qxF -- "$p" <<<"$installed" || printf '%s\n' "$p"
  done
}

ensure_apt_packages() {
  local missing
  mapfile -t missing < <(missing_apt_packages "${APT_PACKAGES[@]}")
  [[ ${#missing[@]} -eq 0 ]] && return 0
  lock
  # Another run may have installed them while we waited for the lock.
  mapfile -t missing < <(missing_apt_packages "${missing[@]}")
  [[ ${#missing[@]} -eq 0 ]] && return 0
  local p
  for p in "${missing[@]}"; do say "apt: installing $p"; done
  quietly "${SUDO[@]}" apt-get update
  quietly "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y \
    --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}"
}

# qemu-system-x86 (and its -common and -data parts) at exactly the installed qemu-utils version,
# from whichever suite has it: bookworm for 7.2, bookworm-backports for 10.0. -t lets apt take
# what else that version needs (seabios > 1.16.3) from backports too.
ensure_qemu_system() {
  local missing
  mapfile -t missing < <(missing_apt_packages "${QEMU_SYSTEM_PACKAGES[@]}")
  [[ ${#missing[@]} -eq 0 ]] && return 0
  lock
  mapfile -t missing < <(missing_apt_packages "${QEMU_SYSTEM_PACKAGES[@]}")
  [[ ${#missing[@]} -eq 0 ]] && return 0
  local version d p
  version="$(dpkg-query -W -f='${Version}' qemu-utils)"
  d="$(mktemp -d "${TMPDIR:-/tmp}/imagesmith-apt.XXXXXX")"
  mkdir -p "$d/lists/partial" "$d/cache"
  { cat /etc/apt/sources.list 2>/dev/null || true
    echo "deb http://deb.debian.org/debian $BACKPORTS_SUITE main"; } >"$d/sources.list"
  # Start from the system's package lists, so the update fetches little more than backports'.
  cp -a /var/lib/apt/lists/. "$d/lists/" 2>/dev/null || true
  rm -f "$d/lists/lock"
  local apt_private=(-o "Dir::Etc::sourcelist=$d/sources.list" -o "Dir::State::lists=$d/lists"
    -o "Dir::Cache=$d/cache" -o "Dir::Cache::archives=/var/cache/apt/archives/"
    -o APT::Sandbox::User=root)
  for p in "${missing[@]}"; do say "apt: installing $p $version"; done
  quietly "${SUDO[@]}" apt-get "${apt_private[@]}" update
  quietly "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_private[@]}" install -y \
    --no-install-recommends -o DPkg::Lock::Timeout=600 -t "$BACKPORTS_SUITE" \
    "${QEMU_SYSTEM_PACKAGES[@]/%/=$version}"
  rm -rf "$d"
}

tauri_driver_ok() {
  command -v tauri-driver >/dev/null 2>&1 \
    && cargo install --list 2>/dev/null | grep -x "tauri-driver v$TAURI_DRIVER_VERSION:" >/dev/null
}

ensure_cargo_tools() {
  if ! command -v cargo >/dev/null 2>&1; then
    echo "setup: cargo is not on PATH; install a Rust toolchain (rustup) first" >&2
    return 1
  fi
  if ! cargo nextest --version >/dev/null 2>&1; then
    lock
    if ! cargo nextest --version >/dev/null 2>&1; then
      say "cargo: installing cargo-nextest"
      quietly cargo install cargo-nextest --locked
    fi
  fi
  # `make lint`: rustfmt and clippy, components of the toolchain
  if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
    lock
    if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
      say "rustup: adding rustfmt and clippy"
      quietly rustup component add rustfmt clippy
    fi
  fi
  # tauri-driver has no --version flag: ask cargo which version it installed.
  if ! tauri_driver_ok; then
    lock
    if ! tauri_driver_ok; then
      say "cargo: installing tauri-driver $TAURI_DRIVER_VERSION"
      quietly cargo install tauri-driver --version "$TAURI_DRIVER_VERSION" --locked --force
    fi
  fi
}

# ui/node_modules is stale when it is missing or older than the lock file.
node_modules_stale() {
  [[ -f "$ROOT/ui/package-lock.json" ]] || return 1
  [[ ! -d "$ROOT/ui/node_modules" || "$ROOT/ui/package-lock.json" -nt "$ROOT/ui/node_modules" ]]
}

ensure_npm_packages() {
  node_modules_stale || return 0
  lock
  node_modules_stale || return 0
  say "npm: installing ui/ packages from package-lock.json (npm ci)"
  (cd "$ROOT/ui" && quietly npm ci --no-audit --no-fund)
  # npm ci recreates node_modules (not at all when there are no dependencies): mark it as at
  # least as new as the lock file either way.
  mkdir -p "$ROOT/ui/node_modules" && touch "$ROOT/ui/node_modules"
}

# The user libvirt's QEMU driver looks up when it starts (libvirt-daemon-system, not installed,
# would create it): a system user without a home or a login, as that package makes it.
ensure_libvirt_user() {
  getent passwd libvirt-qemu >/dev/null && return 0
  say "creating the system user libvirt-qemu (libvirt's QEMU driver needs it to start)"
  getent group libvirt-qemu >/dev/null || "${SUDO[@]}" groupadd --system libvirt-qemu
  "${SUDO[@]}" useradd --system --no-create-home --home-dir /var/lib/libvirt --shell /usr/sbin/nologin \
    --gid libvirt-qemu --comment "Libvirt Qemu" libvirt-qemu
}

ensure_apt_packages
ensure_qemu_system
ensure_libvirt_user
ensure_cargo_tools
ensure_npm_packages
