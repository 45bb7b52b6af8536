#!/usr/bin/env bash
# servers.sh — real test servers on 127.0.0.1 for the tests that export profiles to file servers
# and publish images to OpenStack: sshd (sftp), FTP, FTPS, WebDAV over HTTP and HTTPS, Glance
# without auth, Keystone, and Glance behind Keystone.
#
#   scripts/servers.sh setup                     build target/servers-venv (pinned; no-op when current)
#   scripts/servers.sh start STATE_DIR [NAME...] start servers (default: all), write STATE_DIR/servers.env
#   scripts/servers.sh stop STATE_DIR [NAME...]  stop every recorded PID (or NAMEs' alone), remove the sftp password user
#   scripts/servers.sh again STATE_DIR NAME      start NAME again, as it was, on the data its stop left (a restart)
#   scripts/servers.sh status STATE_DIR          one line per server; exit 1 if any is not running
#   scripts/servers/smoke.sh STATE_DIR           checks every started server with the real clients
#
# NAMEs: sftp ftp ftps webdav webdavs glance keystone glance-ks (glance-ks brings keystone along),
# http (nginx: plain HTTP and HTTPS with Range, ETag and Last-Modified, serving STATE_DIR/http/root
# for downloads and image stores; access log with status, range and bytes sent), faults (a proxy
# in front of http that cuts or stalls chosen responses: scripts/servers/faultproxy.py; faults
# brings http along),
# keyring (a Secret Service: gnome-keyring, unlocked, on a private D-Bus session bus whose address
# is TS_KEYRING_DBUS_ADDRESS; its keyrings live in STATE_DIR/keyring, never the user's),
# libvirt (Debian's libvirtd with the QEMU driver alone, TCG guests, reached at TS_LIBVIRT_URI =
# qemu:///system?socket=STATE_DIR/libvirt/run/libvirt-sock; scripts/servers/libvirt-vm.sh makes a
# VM with two qcow2 disks and three offline snapshots in it),
# postgres (Debian's PostgreSQL 15 postmaster on TS_PG_PORT, TLS or not, for the team repository's
# catalog: role TS_PG_USER with a scram-sha-256 password owns database TS_PG_DB; the superuser
# postgres has trust on the Unix socket in TS_PG_SOCKET_DIR alone, for tests that make a database
# each: psql -h "$TS_PG_SOCKET_DIR" -p "$TS_PG_PORT" -U postgres -c 'CREATE DATABASE t_x OWNER imagesmith'),
# s3 (SeaweedFS's `weed server` from the venv: master, volume server, filer and S3 gateway in one
# process, S3 at TS_S3_ENDPOINT and over TLS at TS_S3_HTTPS_ENDPOINT, SigV4 only, for one identity
# with the keys TS_S3_ACCESS_KEY_ID / TS_S3_SECRET_ACCESS_KEY; bucket TS_S3_BUCKET is made at start).
#
# STATE_DIR holds everything of one run: configs, keys, a throwaway CA (tls/ca.pem) and the
# server certificate it signed (SAN IP:127.0.0.1, DNS:localhost), databases, uploaded files,
# pids/NAME.pid, logs/NAME.log and servers.env. It must be new, empty, or a former STATE_DIR
# (start then deletes what the last run left there). Its path may not contain spaces.
#
# servers.env is KEY=VALUE lines (no quoting, so both `source` and a line parser read it). Every
# TS_*_PORT, TS_*_USER and TS_*_PASSWORD in it can be set in the environment of `start` to
# override the default: TS_SFTP_PORT=2222 TS_FTP_PORT=2121 TS_FTPS_PORT=2122
# TS_FTP_PASSIVE_PORTS=30000-30009 TS_FTPS_PASSIVE_PORTS=30010-30019 TS_WEBDAV_PORT=8080
# TS_WEBDAVS_PORT=8443 TS_GLANCE_PORT=9292 TS_KEYSTONE_PORT=5000 TS_GLANCE_KS_PORT=9294
# TS_PG_PORT=5433 (not 5432: Debian's own cluster's port) TS_PG_USER=imagesmith TS_PG_DB=imagesmith
# TS_PG_PASSWORD TS_S3_PORT=18333 TS_S3_HTTPS_PORT=18334 TS_S3_MASTER_PORT=19333
# TS_S3_VOLUME_PORT=18081 TS_S3_FILER_PORT=18888 (SeaweedFS's own defaults would take 8080, our
# WebDAV port; each of the last four also takes its port + 10000 for gRPC) TS_S3_BUCKET
# TS_S3_ACCESS_KEY_ID TS_S3_SECRET_ACCESS_KEY.
# Keep every port (and SeaweedFS's port + 10000) below 32768: Linux hands out 32768-60999 to client
# sockets, so a server's fixed port there can be taken by any connection of a parallel test.
# TS_GLANCE_IMAGE_SIZE_CAP=BYTES sets Glance's image_size_cap (uploads above it get 413).
# Also: TS_START_TIMEOUT (seconds per server to answer, default 120), TS_STOP_TIMEOUT (seconds
# before SIGKILL, default 15), TS_VENV (default target/servers-venv), TS_PYTHON (the Python >= 3.11
# that builds the venv; default Debian's /usr/bin/python3), TS_PG_BIN (default
# /usr/lib/postgresql/15/bin).
#
# Root: the sftp password-auth user is a real system account (sshd checks /etc/shadow), so
# `start` creates one named after the state dir (isftp + 8 hex digits) and `stop` deletes it.
# That needs root; as another user `start` skips password sftp with a message (key-auth sftp
# still works, for the user running the script, if its account is not locked in /etc/shadow: sshd
# runs with UsePAM no) and servers.env has an empty TS_SFTP_PASSWORD_USER.
#
# libvirt needs root: libvirtd runs privileged in a mount namespace of its own where /etc/libvirt,
# /var/lib/libvirt, /run/libvirt and /var/cache/libvirt are STATE_DIR/libvirt/{etc,lib,run,cache}
# and /var/log/libvirt is STATE_DIR/logs/libvirt (scripts/servers/libvirtd-ns.sh), so it never
# meets a system libvirt and needs no port. Its guests (qemu-system-x86_64, which libvirt starts
# outside libvirtd's process group) are stopped by the PIDs libvirt records in
# STATE_DIR/libvirt/run/qemu/NAME.pid. The QEMU capabilities libvirtd probes on its first start
# (about 8 s) are kept in target/libvirt-qemu-capabilities (TS_LIBVIRT_CAPS_CACHE) and copied into
# later state dirs, which then start in a fraction of a second.
#
# postgres: initdb runs once into target/pg-template (stamped with `postgres -V` and the initdb
# options, so a new postgresql-15 rebuilds it) and each start copies it. The postmaster runs as the
# system user postgres (through setpriv, so the recorded PID is the postmaster's); as another user
# it runs as that user, from a template of its own (target/pg-template-USER).
#
# Ports are fixed (defaults above), so two state dirs can run at once only with other ports.
# Needs (scripts/setup.sh installs them): openssh-server, openssh-sftp-server, sshpass, curl,
# openssl, qemu-utils (smoke), python3-venv, libvirt-daemon, libvirt-daemon-driver-qemu,
# libvirt-clients, qemu-system-x86, postgresql-15, postgresql-client-15.
#
# Processes are started with setsid, so each server leads its own process group; `stop` sends
# SIGTERM to the recorded PID, waits, then SIGKILLs the whole group after TS_STOP_TIMEOUT. Two
# exceptions: postgres gets SIGINT (fast shutdown: SIGTERM's smart shutdown waits for clients to
# leave), and s3 gets SIGKILL at once (weed's graceful stop waits 15 s for its filer's gRPC streams
# and, with a single master, then may never exit; its data is thrown away at the next start anyway).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HERE="$ROOT/scripts/servers"
VENV="${TS_VENV:-$ROOT/target/servers-venv}"
ALL_SERVERS=(sftp ftp ftps webdav webdavs glance keystone glance-ks keyring http faults libvirt postgres s3)
MARKER=.imagesmith-test-servers

HOST=127.0.0.1
: "${TS_SFTP_PORT:=2222}"
: "${TS_FTP_PORT:=2121}" "${TS_FTP_PASSIVE_PORTS:=30000-30009}"
: "${TS_FTPS_PORT:=2122}" "${TS_FTPS_PASSIVE_PORTS:=30010-30019}"
: "${TS_WEBDAV_PORT:=8080}" "${TS_WEBDAVS_PORT:=8443}"
: "${TS_GLANCE_PORT:=9292}" "${TS_KEYSTONE_PORT:=5000}" "${TS_GLANCE_KS_PORT:=9294}"
: "${TS_HTTP_PORT:=8090}" "${TS_HTTPS_PORT:=8453}" "${TS_FAULT_PORT:=8091}"
: "${TS_FTP_USER:=ftpuser}" "${TS_FTP_PASSWORD:=ftppass}"
: "${TS_WEBDAV_USER:=davuser}" "${TS_WEBDAV_PASSWORD:=davpass}"
: "${TS_OS_ADMIN_PASSWORD:=adminpw}" "${TS_OS_PASSWORD:=demopw}" "${TS_OS_GLANCE_PASSWORD:=glancepw}"
: "${TS_KEYRING_PASSWORD:=keyringpw}"
: "${TS_PG_PORT:=5433}" "${TS_PG_USER:=imagesmith}" "${TS_PG_DB:=imagesmith}" "${TS_PG_PASSWORD:=imagesmith-pg-pw}"
: "${TS_S3_PORT:=18333}" "${TS_S3_HTTPS_PORT:=18334}" "${TS_S3_MASTER_PORT:=19333}"
: "${TS_S3_VOLUME_PORT:=18081}" "${TS_S3_FILER_PORT:=18888}" "${TS_S3_BUCKET:=imagesmith}"
: "${TS_S3_ACCESS_KEY_ID:=AKIAIMAGESMITHTEST01}" "${TS_S3_SECRET_ACCESS_KEY:=imagesmith-s3-secret-key-for-tests-only}"
: "${TS_START_TIMEOUT:=120}" "${TS_STOP_TIMEOUT:=15}"
: "${TS_LIBVIRT_CAPS_CACHE:=$ROOT/target/libvirt-qemu-capabilities}"

say() { printf 'servers: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

usage() {
  sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

now() { date +%s.%N; }
# TS_VERBOSE=1: timestamped progress of start on stderr.
T0="$(date +%s.%N)"
phase() { [[ -z ${TS_VERBOSE:-} ]] || say "$(since "$T0") s: $*"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# ---------------------------------------------------------------------------------------------
# setup: the venv

python_for_venv() {
  local py="${TS_PYTHON:-}"
  if [[ -z $py ]]; then
    if [[ -x /usr/bin/python3 ]]; then py=/usr/bin/python3; else py="$(command -v python3)"; fi
  fi
  "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
    || die "$py is not Python >= 3.11 (glance 33 and keystone 30 need it); set TS_PYTHON"
  printf '%s\n' "$py"
}

# What the venv was built from: the two pin files and the interpreter's version.
venv_stamp() {
  local py="$1"
  { cat "$HERE/requirements.txt" "$HERE/constraints.txt"; "$py" -VV; } | sha256sum | cut -d' ' -f1
}

venv_current() {
  [[ -f $VENV/.stamp && -x $VENV/bin/gunicorn && $(cat "$VENV/.stamp") == "$(venv_stamp "$1")" ]]
}

# Empty, fully migrated Glance and Keystone databases, made once per venv: `start` copies them
# instead of running glance-manage/keystone-manage db_sync (about 9 s of CPU on each start).
TEMPLATES="$VENV/db-templates"
templates_current() {
  [[ -f $TEMPLATES/.stamp && -f $VENV/.stamp && $(cat "$TEMPLATES/.stamp") == "$(cat "$VENV/.stamp")" ]]
}

build_templates() {
  local t="$TEMPLATES.tmp"
  rm -rf "$t" "$TEMPLATES"
  mkdir -p "$t"
  printf '[database]\nconnection = sqlite:///%s/glance.sqlite\n' "$t" >"$t/glance.conf"
  printf '[database]\nconnection = sqlite:///%s/keystone.sqlite\n' "$t" >"$t/keystone.conf"
  "$VENV/bin/glance-manage" --config-file "$t/glance.conf" db_sync >"$t/glance.log" 2>&1 &
  local gp=$!
  if ! "$VENV/bin/keystone-manage" --config-file "$t/keystone.conf" db_sync >"$t/keystone.log" 2>&1; then
    wait "$gp" || true
    tail -n 30 "$t/keystone.log" >&2
    die "keystone-manage db_sync failed (log: $t/keystone.log)"
  fi
  wait "$gp" || { tail -n 30 "$t/glance.log" >&2; die "glance-manage db_sync failed (log: $t/glance.log)"; }
  rm -f "$t"/*.conf
  mv "$t" "$TEMPLATES"
  cp "$VENV/.stamp" "$TEMPLATES/.stamp"
}

# PostgreSQL: one empty cluster made by initdb (superuser postgres, UTF-8, C.UTF-8; about 0.7 s),
# copied into each state dir. Stamped with the server's version and the initdb options.
PG_BIN="${TS_PG_BIN:-/usr/lib/postgresql/15/bin}"
PG_INITDB_OPTS=(-U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 --no-sync)
# The system user the postmaster runs as: postgres when we are root (it refuses to run as root).
pg_os_user() { if [[ $(id -u) -eq 0 ]]; then echo postgres; else id -un; fi; }
if [[ $(id -u) -eq 0 ]]; then PG_TEMPLATE="$ROOT/target/pg-template"; else PG_TEMPLATE="$ROOT/target/pg-template-$(id -un)"; fi
# As the postmaster's user: setpriv execs, so a PID taken before stays the postmaster's.
PG_AS=()
if [[ $(id -u) -eq 0 ]]; then PG_AS=(setpriv --reuid=postgres --regid=postgres --init-groups); fi

pg_stamp() {
  { "$PG_BIN/postgres" -V; printf '%s\n' "${PG_INITDB_OPTS[@]}" "$(pg_os_user)"; } | sha256sum | cut -d' ' -f1
}
pg_installed() { [[ -x $PG_BIN/postgres && -x $PG_BIN/initdb && -x $PG_BIN/psql ]]; }
pg_template_current() {
  [[ -f $PG_TEMPLATE/.stamp && -f $PG_TEMPLATE/data/PG_VERSION && $(cat "$PG_TEMPLATE/.stamp") == "$(pg_stamp)" ]]
}

build_pg_template() {
  pg_installed || die "PostgreSQL 15 is not in $PG_BIN: run scripts/setup.sh (postgresql-15, postgresql-client-15)"
  getent passwd "$(pg_os_user)" >/dev/null || die "no system user $(pg_os_user): run scripts/setup.sh (postgresql-15)"
  mkdir -p "$(dirname "$PG_TEMPLATE")"
  # Two starts at once: the second waits, then finds it current.
  exec 7>>"$PG_TEMPLATE.lock"
  flock 7
  if ! pg_template_current; then
    say "initdb: PostgreSQL template $PG_TEMPLATE"
    local t="$PG_TEMPLATE.tmp"
    rm -rf "$t" "$PG_TEMPLATE"
    mkdir -p "$t"
    [[ $(id -u) -ne 0 ]] || chown postgres:postgres "$t"
    if ! "${PG_AS[@]}" "$PG_BIN/initdb" -D "$t/data" "${PG_INITDB_OPTS[@]}" >"$PG_TEMPLATE.log" 2>&1; then
      tail -n 20 "$PG_TEMPLATE.log" >&2
      die "initdb failed (log: $PG_TEMPLATE.log)"
    fi
    rm -f "$PG_TEMPLATE.log"
    mv "$t" "$PG_TEMPLATE"
    # Written last: a template without it is incomplete and is made again.
    pg_stamp >"$PG_TEMPLATE/.stamp"
  fi
  exec 7>&-
}

cmd_setup() {
  local py t0
  py="$(python_for_venv)"
  # The PostgreSQL template too, where PostgreSQL is installed (start makes it when missing).
  if pg_installed && ! pg_template_current; then build_pg_template; fi
  venv_current "$py" && templates_current && return 0
  mkdir -p "$(dirname "$VENV")"
  # Two callers at once (parallel make targets): the second waits, then finds it current.
  exec 8>>"$VENV.lock"
  flock 8
  t0="$(now)"
  if ! venv_current "$py"; then
    say "setup: building $VENV with $("$py" -V) (pinned; takes a minute or two)"
    rm -rf "$VENV"
    local log="$VENV.log"
    if ! { "$py" -m venv "$VENV" \
        && PIP_DISABLE_PIP_VERSION_CHECK=1 "$VENV/bin/pip" install --no-cache-dir \
          -r "$HERE/requirements.txt" -c "$HERE/constraints.txt" \
        && "$VENV/bin/pip" check; } >"$log" 2>&1; then
      tail -n 30 "$log" >&2
      die "setup failed (full log: $log)"
    fi
    # Written last: a venv without it is incomplete and is rebuilt next time.
    venv_stamp "$py" >"$VENV/.stamp"
    rm -f "$log"
  fi
  if ! templates_current; then
    say "setup: migrating template databases"
    build_templates
  fi
  # Release the lock: nothing started later may inherit it.
  exec 8>&-
  say "setup: done in $(since "$t0") s ($(du -sh "$VENV" | cut -f1))"
}

# ---------------------------------------------------------------------------------------------
# processes

# True while PID exists and is not a zombie (orphans here may never be reaped, and kill -0
# succeeds on a zombie).
alive() {
  local stat
  { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
  stat="${stat##*) }"
  [[ ${stat:0:1} != Z ]]
}

# Live members of process group $1.
group_members() {
  local f stat rest
  for f in /proc/[0-9]*/stat; do
    { read -r stat <"$f"; } 2>/dev/null || continue
    rest="${stat##*) }"
    # rest: state ppid pgrp ...
    set -- $rest
    [[ $3 == "$PGRP_WANTED" && $1 != Z ]] && printf '%s\n' "${f//[^0-9]/}"
  done
  return 0
}
members_of() { PGRP_WANTED="$1" group_members; }

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# spawn NAME CMD... : runs CMD as the leader of a new session, logs to logs/NAME.log, and
# records its PID (setsid execs, as the background child is not a group leader).
# The command is kept in pids/NAME.cmd (NUL-separated) for `again`.
spawn() {
  local name="$1"; shift
  printf '%s\0' "$@" >"$STATE/pids/$name.cmd"
  setsid "$@" </dev/null >>"$STATE/logs/$name.log" 2>&1 &
  printf '%s\n' "$!" >"$STATE/pids/$name.pid"
}

pid_of() { cat "$STATE/pids/$1.pid" 2>/dev/null; }

log_tail() {
  local f="$STATE/logs/$1.log"
  [[ -f $f ]] || return 0
  say "--- last lines of $f:"
  tail -n 25 "$f" | sed 's/^/    /' >&2
}

# wait_ready NAME CHECK...: polls CHECK until it succeeds; fails when the server died or after
# TS_START_TIMEOUT seconds.
wait_ready() {
  local name="$1"; shift
  local deadline=$((SECONDS + TS_START_TIMEOUT)) pid
  pid="$(pid_of "$name")"
  until "$@" >/dev/null 2>&1; do
    if ! alive "$pid"; then
      log_tail "$name"
      die "$name (pid $pid) exited during start"
    fi
    if ((SECONDS >= deadline)); then
      log_tail "$name"
      die "$name did not answer within $TS_START_TIMEOUT s"
    fi
    sleep 0.2
  done
}

http_code() { curl -s -m 3 -o /dev/null -w '%{http_code}' "$@" || true; }
http_ok() { [[ $(http_code "$@") == 2* ]]; }
http_any() { [[ $(http_code "$@") =~ ^[1-5][0-9][0-9]$ ]]; }

# ---------------------------------------------------------------------------------------------
# config pieces

make_tls() {
  local d="$STATE/tls"
  mkdir -p "$d"
  (
    cd "$d"
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
      -keyout ca.key -out ca.pem -subj "/CN=Imagesmith test CA $(basename "$STATE")" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -keyout server.key -out server.csr -subj "/CN=127.0.0.1"
    # A leaf signed by a CA, not one self-signed certificate: rustls (webpki) refuses a
    # CA:TRUE certificate as the server's own.
    printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
      "extendedKeyUsage=serverAuth" "subjectAltName=IP:127.0.0.1,DNS:localhost" >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
      -extfile server.ext -out server.pem
    rm -f server.csr server.ext ca.srl
  ) >"$STATE/logs/tls.log" 2>&1 || { log_tail tls; die "certificate generation failed"; }
}

# Name of the throwaway sftp password user: fixed for a state dir, distinct between them.
sftp_pw_user() { printf 'isftp%s\n' "$(printf '%s' "$STATE" | sha256sum | cut -c1-8)"; }
sftp_pw_comment() { printf 'imagesmith test servers %s\n' "$STATE"; }

create_sftp_pw_user() {
  local user="$1" dir="$2" pass="$3" i
  if ! id "$user" >/dev/null 2>&1; then
    for i in 1 2 3 4 5 6 7 8 9 10; do
      # useradd fails at once when another one holds /etc/passwd's lock: retry.
      useradd -r -M -N -g nogroup -d "$dir" -s /usr/sbin/nologin -c "$(sftp_pw_comment)" "$user" \
        2>>"$STATE/logs/sftp-user.log" && break
      ((i < 10)) || die "useradd $user failed (see $STATE/logs/sftp-user.log)"
      sleep 0.3
    done
  elif [[ $(getent passwd "$user" | cut -d: -f5) != "$(sftp_pw_comment)" ]]; then
    die "user $user exists and is not ours; not touching it"
  fi
  printf '%s\n' "$user" >"$STATE/sftp/password_user"
  printf '%s:%s\n' "$user" "$pass" | chpasswd
  chown "$user:nogroup" "$dir"
  # sshd's internal-sftp runs as that user: every parent of its directory must let it through.
  setpriv --reuid="$user" --regid=nogroup --clear-groups test -w "$dir" \
    || die "user $user cannot write $dir: a parent of $STATE is not world-searchable (o+x)"
}

remove_sftp_pw_user() {
  local f="$STATE/sftp/password_user" user
  [[ -f $f ]] || return 0
  user="$(cat "$f")"
  if ! id "$user" >/dev/null 2>&1; then
    rm -f "$f"
    return 0
  fi
  if [[ $(id -u) -ne 0 ]]; then
    say "sftp password user $user is left in place: removing it needs root (run stop as root)"
    return 0
  fi
  if [[ $(getent passwd "$user" | cut -d: -f5) != "$(sftp_pw_comment)" ]]; then
    say "user $user is not marked as ours; not removing it"
    return 0
  fi
  local i
  for i in 1 2 3 4 5 6 7 8 9 10; do
    userdel "$user" 2>>"$STATE/logs/sftp-user.log" && { rm -f "$f"; return 0; }
    sleep 0.3
  done
  say "userdel $user failed (see $STATE/logs/sftp-user.log)"
  return 1
}

start_sftp() {
  local d="$STATE/sftp" me
  me="$(id -un)"
  [[ -x /usr/sbin/sshd ]] || die "/usr/sbin/sshd missing: run scripts/setup.sh (openssh-server)"
  mkdir -p "$d/keys" "$d/root" "$d/pwroot"
  ssh-keygen -q -t ed25519 -N '' -C "test-servers host" -f "$d/keys/host_ed25519"
  ssh-keygen -q -t ecdsa -b 256 -N '' -C "test-servers host" -f "$d/keys/host_ecdsa"
  ssh-keygen -q -t ed25519 -N '' -C "test-servers client" -f "$d/keys/client_ed25519"
  cp "$d/keys/client_ed25519.pub" "$d/keys/authorized_keys"
  # Both host keys, under the names a client looks up for this port.
  local k
  : >"$d/keys/known_hosts"
  for k in host_ed25519 host_ecdsa; do
    printf '[%s]:%s %s\n' "$HOST" "$TS_SFTP_PORT" "$(cut -d' ' -f1,2 "$d/keys/$k.pub")" \
      localhost "$TS_SFTP_PORT" "$(cut -d' ' -f1,2 "$d/keys/$k.pub")" >>"$d/keys/known_hosts"
  done
  PW_USER="" PW_PASS=""
  if [[ $(id -u) -eq 0 ]]; then
    PW_USER="$(sftp_pw_user)"
    PW_PASS="Pw-$(openssl rand -hex 9)"
    create_sftp_pw_user "$PW_USER" "$d/pwroot" "$PW_PASS"
    # Required when sshd runs as root ("Missing privilege separation directory").
    mkdir -p /run/sshd && chmod 755 /run/sshd
  else
    say "not root: skipping the sftp password user (key auth for $me only)"
  fi
  {
    printf '%s\n' "Port $TS_SFTP_PORT" "ListenAddress $HOST" \
      "HostKey $d/keys/host_ed25519" "HostKey $d/keys/host_ecdsa" \
      "PidFile $d/sshd.pid" "AuthorizedKeysFile $d/keys/authorized_keys" \
      "PubkeyAuthentication yes" "PasswordAuthentication no" "KbdInteractiveAuthentication no" \
      "PermitRootLogin prohibit-password" "UsePAM no" "StrictModes no" \
      "AllowUsers $me${PW_USER:+ $PW_USER}" "Subsystem sftp internal-sftp" \
      "AllowTcpForwarding no" "X11Forwarding no" "LogLevel VERBOSE"
    # ForceCommand rather than ChrootDirectory: a chroot may not sit below /tmp (mode 1777).
    # Relative paths then land in root/ (key user) and pwroot/ (password user).
    printf '%s\n' "Match User $me" "    ForceCommand internal-sftp -d $d/root"
    if [[ -n $PW_USER ]]; then
      printf '%s\n' "Match User $PW_USER" "    PasswordAuthentication yes" \
        "    ForceCommand internal-sftp -d $d/pwroot"
    fi
  } >"$d/sshd_config"
  /usr/sbin/sshd -t -f "$d/sshd_config" >"$STATE/logs/sftp.log" 2>&1 \
    || { log_tail sftp; die "sshd rejected $d/sshd_config"; }
  spawn sftp /usr/sbin/sshd -D -e -f "$d/sshd_config"
}

start_ftp() { # NAME PORT PASSIVE [tls]
  local name="$1" port="$2" pasv="$3" tls=()
  mkdir -p "$STATE/$name/root"
  [[ ${4:-} == tls ]] && tls=(--certfile "$STATE/tls/server.pem" --keyfile "$STATE/tls/server.key")
  spawn "$name" "$VENV/bin/python" "$HERE/pyftpdlib_serve.py" --host "$HOST" --port "$port" \
    --root "$STATE/$name/root" --user "$TS_FTP_USER" --password "$TS_FTP_PASSWORD" \
    --passive-ports "$pasv" "${tls[@]}"
}

start_keyring() {
  local d="$STATE/keyring"
  mkdir -p "$d/run" "$d/data"
  chmod 700 "$d/run"
  # A session bus of its own with no service activation: a name nobody owns is an error, never a
  # daemon started from the machine's service files (with the user's HOME, and locked).
  cat >"$d/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$d/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
EOF
  spawn keyring-bus dbus-daemon --config-file="$d/bus.conf" --nofork --nopidfile
  local i
  for i in $(seq 100); do [[ -S $d/bus ]] && break; sleep 0.05; done
  # --unlock reads the login keyring's password from stdin: made unlocked, or unlocked again.
  # gnome-keyring-daemon can abort (GLib-ERROR after "gkd_secret_service_get_pkcs11_session:
  # assertion 'client' failed") when a client goes away in the middle of its OpenSession, seen once
  # in a loaded full run: it is started again at once on the same keyring files, so the tests
  # after it still find their secrets.
  spawn keyring env DBUS_SESSION_BUS_ADDRESS="unix:path=$d/bus" XDG_RUNTIME_DIR="$d/run" \
    XDG_DATA_HOME="$d/data" HOME="$d" sh -c \
    'while :; do printf %s "$0" | gnome-keyring-daemon --foreground --unlock --components=secrets; echo "servers.sh: gnome-keyring-daemon exited ($?), started again"; sleep 0.1; done' \
    "$TS_KEYRING_PASSWORD"
}

keyring_ready() {
  DBUS_SESSION_BUS_ADDRESS="unix:path=$STATE/keyring/bus" dbus-send --session --print-reply \
    --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.ListNames 2>/dev/null |
    grep -q '"org.freedesktop.secrets"'
}

start_webdav() { # NAME PORT [tls]
  local name="$1" port="$2" d="$STATE/$1"
  mkdir -p "$d/root"
  {
    cat <<EOF
host: $HOST
port: $port
server: cheroot
provider_mapping:
  "/": "$d/root"
http_authenticator:
  domain_controller: null
  accept_basic: true
  accept_digest: false
  default_to_digest: false
simple_dc:
  user_mapping:
    "*":
      "$TS_WEBDAV_USER":
        password: "$TS_WEBDAV_PASSWORD"
verbose: 3
EOF
    if [[ ${3:-} == tls ]]; then
      printf '%s\n' "ssl_certificate: \"$STATE/tls/server.pem\"" \
        "ssl_private_key: \"$STATE/tls/server.key\""
    fi
  } >"$d/wsgidav.yaml"
  spawn "$name" "$VENV/bin/wsgidav" --config "$d/wsgidav.yaml"
}

# nginx in the foreground as its own master, everything (temp folders, pid, logs) under STATE/http.
start_http() {
  local d="$STATE/http"
  mkdir -p "$d/root" "$d/tmp"
  cat >"$d/nginx.conf" <<EOF
daemon off;
worker_processes 1;
$( [[ $(id -u) -eq 0 ]] && echo "user root;" )
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 256; }
http {
  types { application/json json sjson; text/plain txt; }
  default_type application/octet-stream;
  log_format bytes '\$request_method \$uri \$status \$body_bytes_sent "\$http_range" "\$http_if_range"';
  access_log $d/access.log bytes;
  client_body_temp_path $d/tmp/body;
  proxy_temp_path $d/tmp/proxy;
  fastcgi_temp_path $d/tmp/fastcgi;
  uwsgi_temp_path $d/tmp/uwsgi;
  scgi_temp_path $d/tmp/scgi;
  sendfile on;
  server {
    listen $HOST:$TS_HTTP_PORT;
    listen $HOST:$TS_HTTPS_PORT ssl;
    server_name localhost;
    ssl_certificate $STATE/tls/server.pem;
    ssl_certificate_key $STATE/tls/server.key;
    root $d/root;
    # IMGAPI answers /images and /images/UUID with JSON and serves bytes at /images/UUID/file: a
    # tree keeps the list as images/index.json and each manifest as images/UUID/manifest.json.
    location / { try_files \$uri \$uri/index.json \$uri/manifest.json =404; }
    # Redirects for the download tests: /_moved/PATH sends the client on to /PATH (as a mirror
    # list does), /_loop/… back to itself for ever.
    location /_moved/ { rewrite ^/_moved/(.*)\$ /\$1 redirect; }
    location /_loop/ { rewrite ^/_loop/(.*)\$ /_loop/\$1 redirect; }
  }
}
EOF
  spawn http nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log"
}

# libvirt: the daemon's directories, configuration and namespace files (see the header and
# scripts/servers/libvirtd-ns.sh), then libvirtd itself.
LIBVIRT_QEMU_DRIVER=/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so
libvirt_uri() { printf 'qemu:///system?socket=%s/libvirt/run/libvirt-sock\n' "$STATE"; }

start_libvirt() {
  local d="$STATE/libvirt" f
  [[ $(id -u) -eq 0 ]] || die "libvirt needs root (a privileged libvirtd in a mount namespace of its own)"
  for f in /usr/sbin/libvirtd "$LIBVIRT_QEMU_DRIVER" /usr/bin/virsh /usr/bin/qemu-system-x86_64; do
    [[ -e $f ]] || die "$f missing: run scripts/setup.sh (libvirt-daemon, libvirt-daemon-driver-qemu, libvirt-clients, qemu-system-x86)"
  done
  mkdir -p "$d/etc" "$d/lib" "$d/run" "$d/cache/qemu" "$d/ns/drivers" "$d/images" "$STATE/logs/libvirt"
  chmod 700 "$d/run"
  ln -s "$LIBVIRT_QEMU_DRIVER" "$d/ns/drivers/"
  # The QEMU driver looks its compiled-in user up before it reads qemu.conf (which runs guests as
  # root): scripts/setup.sh creates it as libvirt-daemon-system would. (A copy of /etc/passwd
  # bind-mounted in the namespace was tried: useradd replacing /etc/passwd for the sftp server,
  # started next, detaches such a mount before libvirtd reads it.)
  getent passwd libvirt-qemu >/dev/null || die "no libvirt-qemu user: run scripts/setup.sh"
  cat >"$d/etc/libvirtd.conf" <<EOF
# Written by scripts/servers.sh. Unix sockets only (no TCP), root's alone, no authentication.
unix_sock_dir = "$d/run"
unix_sock_ro_perms = "0700"
unix_sock_rw_perms = "0700"
unix_sock_admin_perms = "0700"
auth_unix_ro = "none"
auth_unix_rw = "none"
# Warnings and errors to stderr: logs/libvirt.log.
log_outputs = "3:stderr"
EOF
  cat >"$d/etc/qemu.conf" <<EOF
# Written by scripts/servers.sh: guests run as root with no confinement, since a container has no
# AppArmor, cgroup controllers or device namespaces to give them, and the disk files keep their
# owner (no chown, no xattrs). Guest output goes to a file, so no virtlogd is needed.
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
namespaces = [ ]
cgroup_controllers = [ ]
stdio_handler = "file"
EOF
  if [[ -d $TS_LIBVIRT_CAPS_CACHE ]]; then
    cp -r "$TS_LIBVIRT_CAPS_CACHE" "$d/cache/qemu/capabilities" 2>/dev/null || true
  fi
  spawn libvirt "$HERE/libvirtd-ns.sh" "$d" "$STATE/logs/libvirt"
}

libvirt_ready() {
  timeout 10 virsh -c "$(libvirt_uri)" version 2>/dev/null | grep -q '^Running hypervisor: QEMU'
}

# The capabilities the daemon probed (or found still valid), for the next state dir: replaced only
# when they changed, through a rename, so a start reading them meanwhile sees old or new ones.
libvirt_keep_capabilities() {
  local from="$STATE/libvirt/cache/qemu/capabilities" tmp
  [[ -d $from ]] || return 0
  diff -rq "$from" "$TS_LIBVIRT_CAPS_CACHE" >/dev/null 2>&1 && return 0
  mkdir -p "$(dirname "$TS_LIBVIRT_CAPS_CACHE")"
  tmp="$(mktemp -d "$TS_LIBVIRT_CAPS_CACHE.XXXXXX")"
  cp -r "$from/." "$tmp/"
  rm -rf "$TS_LIBVIRT_CAPS_CACHE.old"
  [[ ! -e $TS_LIBVIRT_CAPS_CACHE ]] || mv -T "$TS_LIBVIRT_CAPS_CACHE" "$TS_LIBVIRT_CAPS_CACHE.old" 2>/dev/null || true
  mv -T "$tmp" "$TS_LIBVIRT_CAPS_CACHE" 2>/dev/null || rm -rf "$tmp"
  rm -rf "$TS_LIBVIRT_CAPS_CACHE.old"
}

# Live guests of this state dir's libvirtd, "NAME PID" per line, from the pid files libvirt writes
# (a PID counts only while it is a qemu-system process running that guest).
libvirt_guests() {
  local f pid name
  for f in "$STATE"/libvirt/run/qemu/*.pid; do
    [[ -f $f ]] || continue
    pid="$(cat "$f" 2>/dev/null)" || continue
    name="$(basename "$f" .pid)"
    if ! [[ $pid =~ ^[0-9]+$ ]] || ! alive "$pid"; then continue; fi
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "^/usr/bin/qemu-system-[^ ]* -name guest=$name," \
      && printf '%s %s\n' "$name" "$pid"
  done
  return 0
}

# PostgreSQL: a copy of the template cluster, its settings appended to postgresql.conf (later lines
# win), the state dir's server certificate, and the postmaster itself as the postgres user.
pg_socket_dir() { printf '%s/postgres/run\n' "$STATE"; }

start_postgres() {
  local d="$STATE/postgres" u sock
  u="$(pg_os_user)"
  sock="$(pg_socket_dir)"
  pg_installed || die "PostgreSQL 15 is not in $PG_BIN: run scripts/setup.sh (postgresql-15, postgresql-client-15)"
  # sun_path holds 107 bytes: the socket is SOCKET_DIR/.s.PGSQL.PORT.
  local path="$sock/.s.PGSQL.$TS_PG_PORT"
  ((${#path} <= 107)) || die "postgres socket path $path is longer than 107 bytes: use a shorter state dir"
  pg_template_current || build_pg_template
  mkdir -p "$d" "$sock"
  cp -a "$PG_TEMPLATE/data" "$d/data"
  # postgres wants its key readable by its user alone (0600), so copies of the state dir's pair.
  cp "$STATE/tls/server.pem" "$d/data/server.crt"
  cp "$STATE/tls/server.key" "$d/data/server.key"
  chmod 600 "$d/data/server.crt" "$d/data/server.key"
  cat >>"$d/data/postgresql.conf" <<EOF

# --- scripts/servers.sh (a throwaway test server: durability off)
listen_addresses = '$HOST'
port = $TS_PG_PORT
unix_socket_directories = '$sock'
max_connections = 200
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
password_encryption = scram-sha-256
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
  cat >"$d/data/pg_hba.conf" <<EOF
# scripts/servers.sh. The superuser on the Unix socket only; the test role over TCP with its
# password, with TLS (hostssl) or without (host matches both; tests check sslmode=disable too).
# TYPE  DATABASE USER         ADDRESS        METHOD
local   all      postgres                    trust
hostssl all      $TS_PG_USER  $HOST/32   scram-sha-256
host    all      $TS_PG_USER  $HOST/32   scram-sha-256
EOF
  if [[ $(id -u) -eq 0 ]]; then chown -R "$u:$u" "$d/data" "$sock"; fi
  chmod 700 "$d/data"
  chmod 755 "$d" "$sock"
  spawn postgres "${PG_AS[@]}" "$PG_BIN/postgres" -D "$d/data"
}

pg_psql() { "$PG_BIN/psql" -h "$(pg_socket_dir)" -p "$TS_PG_PORT" -U postgres -d postgres -X -q -v ON_ERROR_STOP=1 "$@"; }
pg_ready() { [[ $(pg_psql -Atc 'select 1' 2>/dev/null) == 1 ]]; }

# The test role and its database (psql quotes the password: :'pw').
pg_bootstrap() {
  pg_psql -v pw="$TS_PG_PASSWORD" >>"$STATE/logs/postgres-bootstrap.log" 2>&1 <<EOF \
    || { log_tail postgres-bootstrap; die "postgres: creating role $TS_PG_USER and database $TS_PG_DB failed"; }
CREATE ROLE $TS_PG_USER LOGIN CREATEDB PASSWORD :'pw';
CREATE DATABASE $TS_PG_DB OWNER $TS_PG_USER;
EOF
}

# S3: SeaweedFS's master, volume server, filer and S3 gateway in one `weed server` process, every
# port set (the defaults take 8080, 8888 and 9333) and bound to 127.0.0.1, run in STATE/s3 with
# HOME there, so no filer.toml or security.toml of the machine's is read.
s3_grpc_sockets() {
  # weed also serves each gRPC port on /tmp/seaweedfs-NAME-grpc-PORT.sock, a path no flag moves.
  printf '/tmp/seaweedfs-%s-grpc-%s.sock\n' master $((TS_S3_MASTER_PORT + 10000)) \
    volume $((TS_S3_VOLUME_PORT + 10000)) filer $((TS_S3_FILER_PORT + 10000)) s3 $((TS_S3_PORT + 10000))
}

start_s3() {
  local d="$STATE/s3" weed="$VENV/bin/weed"
  [[ -x $weed ]] || die "$weed missing: run scripts/servers.sh setup"
  mkdir -p "$d/data"
  # One identity, so every request must be SigV4-signed with its keys (anonymous ones get 403).
  (umask 077 && cat >"$d/s3.json" <<EOF
{"identities": [{"name": "imagesmith",
  "credentials": [{"accessKey": "$TS_S3_ACCESS_KEY_ID", "secretKey": "$TS_S3_SECRET_ACCESS_KEY"}],
  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
EOF
  )
  # Removed by stop: a SIGKILLed weed leaves them behind (the next weed replaces them itself).
  s3_grpc_sockets >"$d/grpc-sockets"
  # -master.peers=none: a single master that leads at once (otherwise it waits ~1.9 s for peers).
  # As on AWS: a PUT into a missing bucket is NoSuchBucket, not a new bucket (-s3.autoCreateBucket
  # is on by default), and DELETE of a bucket with objects in it is BucketNotEmpty, not a recursive
  # delete (-s3.allowDeleteBucketNotEmpty, on by default). -s3.iam=false: no IAM API on the S3 port
  # (the identities come from s3.json alone).
  # -s3.port.iceberg=0 -s3.port.lance=0: those catalogs would take ports 8181 and 9101.
  spawn s3 env -C "$d" HOME="$d" "$weed" server -ip="$HOST" -ip.bind="$HOST" -dir="$d/data" \
    -master.peers=none -master.port="$TS_S3_MASTER_PORT" -master.port.grpc=$((TS_S3_MASTER_PORT + 10000)) \
    -master.volumeSizeLimitMB=64 -master.telemetry=false \
    -volume.port="$TS_S3_VOLUME_PORT" -volume.port.grpc=$((TS_S3_VOLUME_PORT + 10000)) \
    -volume.max=0 -volume.preStopSeconds=0 \
    -filer -filer.port="$TS_S3_FILER_PORT" -filer.port.grpc=$((TS_S3_FILER_PORT + 10000)) \
    -filer.localSocket="$d/filer.sock" \
    -s3 -s3.port="$TS_S3_PORT" -s3.port.grpc=$((TS_S3_PORT + 10000)) -s3.localSocket="$d/s3.sock" \
    -s3.port.https="$TS_S3_HTTPS_PORT" -s3.cert.file="$STATE/tls/server.pem" -s3.key.file="$STATE/tls/server.key" \
    -s3.config="$d/s3.json" -s3.autoCreateBucket=false -s3.allowDeleteBucketNotEmpty=false -s3.iam=false \
    -s3.port.iceberg=0 -s3.port.lance=0
}

s3_curl() { curl -sS -m 30 --aws-sigv4 "aws:amz:us-east-1:s3" --user "$TS_S3_ACCESS_KEY_ID:$TS_S3_SECRET_ACCESS_KEY" "$@"; }
# Ready: the gateway answers a signed ListBuckets (it starts 2 s after the master, by weed's design).
s3_ready() { [[ $(s3_curl -o /dev/null -w '%{http_code}' "http://$HOST:$TS_S3_PORT/" 2>/dev/null) == 200 ]]; }
# Writable: an object can be stored (the volume server has registered with the master).
s3_writable() {
  [[ $(printf probe | s3_curl -o /dev/null -w '%{http_code}' -T - "http://$HOST:$TS_S3_PORT/$TS_S3_BUCKET/.servers-sh-probe" 2>/dev/null) == 200 ]]
}

s3_bootstrap() {
  local code
  code="$(s3_curl -o "$STATE/logs/s3-bootstrap.log" -w '%{http_code}' -X PUT "http://$HOST:$TS_S3_PORT/$TS_S3_BUCKET")" || true
  [[ $code == 200 ]] || { log_tail s3-bootstrap; die "s3: creating bucket $TS_S3_BUCKET: HTTP $code"; }
  s3_wait_writable
}

# Until an object can be stored, then without the probe object.
s3_wait_writable() {
  local code
  wait_ready s3 s3_writable
  code="$(s3_curl -o /dev/null -w '%{http_code}' -X DELETE "http://$HOST:$TS_S3_PORT/$TS_S3_BUCKET/.servers-sh-probe")" || true
  [[ $code == 204 ]] || die "s3: deleting the probe object: HTTP $code"
}

# glance_config NAME FLAVOR: etc/ for one Glance (noauth when FLAVOR is empty).
glance_config() {
  local d="$STATE/$1" flavor="$2"
  mkdir -p "$d/etc" "$d/images" "$d/staging" "$d/tasks"
  sed "s|^disable_by_file_path *=.*|disable_by_file_path = $d/healthcheck_disable|" \
    "$VENV/etc/glance/glance-api-paste.ini" >"$d/etc/glance-api-paste.ini"
  cp "$HERE/glance_wsgi.py" "$d/etc/glance_wsgi.py"
  cat >"$d/etc/glance-api.conf" <<EOF
[DEFAULT]
debug = false
enabled_backends = fs:file
${TS_GLANCE_IMAGE_SIZE_CAP:+image_size_cap = $TS_GLANCE_IMAGE_SIZE_CAP}

[database]
connection = sqlite:///$d/glance.sqlite

[glance_store]
default_backend = fs

[fs]
filesystem_store_datadir = $d/images/

[os_glance_staging_store]
filesystem_store_datadir = $d/staging/

[os_glance_tasks_store]
filesystem_store_datadir = $d/tasks/

[paste_deploy]
flavor = $flavor
config_file = $d/etc/glance-api-paste.ini
EOF
  if [[ -z $flavor ]]; then
    # No auth: the anonymous context has no roles, and the secure-RBAC defaults answer 403 to
    # everything. The legacy rules allow it.
    cat >>"$d/etc/glance-api.conf" <<EOF

[oslo_policy]
enforce_new_defaults = false
enforce_scope = false
EOF
  else
    cat >>"$d/etc/glance-api.conf" <<EOF

[keystone_authtoken]
www_authenticate_uri = http://$HOST:$TS_KEYSTONE_PORT/v3
auth_url = http://$HOST:$TS_KEYSTONE_PORT/v3
auth_type = password
username = glance
password = $TS_OS_GLANCE_PASSWORD
project_name = service
user_domain_name = Default
project_domain_name = Default
EOF
  fi
}

start_glance() { # NAME PORT
  local d="$STATE/$1"
  spawn "$1" env OS_GLANCE_CONFIG_DIR="$d/etc" "$VENV/bin/gunicorn" --no-control-socket \
    --pythonpath "$d/etc" --bind "$HOST:$2" --workers 1 --worker-class gthread --threads 8 \
    --timeout 600 --graceful-timeout 5 glance_wsgi:application
}

keystone_config() {
  local d="$STATE/keystone"
  mkdir -p "$d/etc"
  cp "$HERE/keystone_wsgi.py" "$d/etc/keystone_wsgi.py"
  cat >"$d/etc/keystone.conf" <<EOF
[DEFAULT]
debug = false

[database]
connection = sqlite:///$d/keystone.sqlite

[identity]
# bcrypt's minimum cost: every password token and user creation costs ~1 ms, not ~0.3 s.
password_hash_rounds = 4

[token]
provider = fernet
expiration = 3600

[fernet_tokens]
key_repository = $d/fernet-keys/

[fernet_receipts]
key_repository = $d/fernet-keys/

[credential]
key_repository = $d/credential-keys/
EOF
}

# A Fernet key repository as keystone-manage fernet_setup/credential_setup leave it (keys 0, the
# staged one, and 1, the primary): 32 random bytes, URL-safe base64. Written here because each
# keystone-manage call costs about 4 s of Python imports.
fernet_repo() {
  local i
  mkdir -p "$1"
  chmod 700 "$1"
  for i in 0 1; do
    (umask 077 && printf '%s' "$(openssl rand 32 | base64 -w0 | tr '+/' '-_')" >"$1/$i")
  done
}

# Keystone's database (from the template) and keys, then bootstrap: admin user and project,
# the roles, region RegionOne and the identity endpoints.
keystone_prepare() {
  local d="$STATE/keystone" url="http://$HOST:$TS_KEYSTONE_PORT/v3/"
  fernet_repo "$d/fernet-keys"
  fernet_repo "$d/credential-keys"
  cp "$TEMPLATES/keystone.sqlite" "$d/keystone.sqlite"
  "$VENV/bin/keystone-manage" --config-file "$d/etc/keystone.conf" bootstrap \
    --bootstrap-password "$TS_OS_ADMIN_PASSWORD" \
    --bootstrap-username admin --bootstrap-project-name admin \
    --bootstrap-admin-url "$url" --bootstrap-internal-url "$url" --bootstrap-public-url "$url" \
    --bootstrap-region-id RegionOne >"$STATE/logs/keystone-bootstrap.log" 2>&1
}

# One thread: on SQLite, Keystone's sign-in is a read-then-write transaction (it records or resets the
# user's failed sign-ins), and two at once deadlock inside SQLite: the loser gets "database is locked"
# at once, whatever the busy timeout, and answers 500 (4 threads: 40 of 160 concurrent right/wrong
# password sign-ins failed so). Keystone's production databases (MySQL, PostgreSQL) have no such limit.
start_keystone() {
  local d="$STATE/keystone"
  spawn keystone env OS_KEYSTONE_CONFIG_DIR="$d/etc" "$VENV/bin/gunicorn" --no-control-socket \
    --pythonpath "$d/etc" --bind "$HOST:$TS_KEYSTONE_PORT" --workers 1 --worker-class gthread \
    --threads 1 --timeout 120 --graceful-timeout 5 keystone_wsgi:application
}

# ks_api METHOD PATH [JSON]: one Keystone admin call; prints the body, fails unless 2xx.
ks_api() {
  local out code data=()
  [[ -n ${3:-} ]] && data=(-d "$3")
  out="$(curl -sS -m 30 -X "$1" "http://$HOST:$TS_KEYSTONE_PORT/v3$2" -H "X-Auth-Token: $KS_TOKEN" \
    -H 'Content-Type: application/json' "${data[@]}" -w '\n%{http_code}')" \
    || die "keystone $1 $2: curl failed"
  code="${out##*$'\n'}"
  [[ $code == 2* ]] || die "keystone $1 $2: HTTP $code: ${out%$'\n'*}"
  printf '%s\n' "${out%$'\n'*}"
}
json_get() { "$VENV/bin/python" -c 'import json, sys; print(eval("d" + sys.argv[1], {"d": json.load(sys.stdin)}))' "$1"; }

# Token for a password user scoped to a project (all in domain Default); prints it.
ks_token() { # USER PASSWORD PROJECT
  local body
  body="$(printf '{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"%s","domain":{"name":"Default"},"password":"%s"}}},"scope":{"project":{"name":"%s","domain":{"name":"Default"}}}}}' "$1" "$2" "$3")"
  curl -sS -m 30 -o /dev/null -D - -X POST "http://$HOST:$TS_KEYSTONE_PORT/v3/auth/tokens" \
    -H 'Content-Type: application/json' -d "$body" \
    | tr -d '\r' | awk 'tolower($1) == "x-subject-token:" { print $2 }'
}

# Projects service and demo, users glance (admin on service) and demo (member on demo), and the
# image service with its three endpoints at glance-ks.
keystone_register() {
  KS_TOKEN="$(ks_token admin "$TS_OS_ADMIN_PASSWORD" admin)"
  [[ -n $KS_TOKEN ]] || die "no admin token from keystone"
  phase "keystone admin token"
  local admin member service demo uid sid iface
  admin="$(ks_api GET '/roles?name=admin' | json_get '["roles"][0]["id"]')"
  member="$(ks_api GET '/roles?name=member' | json_get '["roles"][0]["id"]')"
  service="$(ks_api POST /projects '{"project":{"name":"service","domain_id":"default","description":"service users"}}' | json_get '["project"]["id"]')"
  demo="$(ks_api POST /projects '{"project":{"name":"demo","domain_id":"default","description":"test project"}}' | json_get '["project"]["id"]')"
  uid="$(ks_api POST /users "{\"user\":{\"name\":\"glance\",\"domain_id\":\"default\",\"password\":\"$TS_OS_GLANCE_PASSWORD\",\"default_project_id\":\"$service\"}}" | json_get '["user"]["id"]')"
  ks_api PUT "/projects/$service/users/$uid/roles/$admin" >/dev/null
  uid="$(ks_api POST /users "{\"user\":{\"name\":\"demo\",\"domain_id\":\"default\",\"password\":\"$TS_OS_PASSWORD\",\"default_project_id\":\"$demo\"}}" | json_get '["user"]["id"]')"
  ks_api PUT "/projects/$demo/users/$uid/roles/$member" >/dev/null
  sid="$(ks_api POST /services '{"service":{"name":"glance","type":"image","description":"Image service"}}' | json_get '["service"]["id"]')"
  for iface in public internal admin; do
    ks_api POST /endpoints "{\"endpoint\":{\"service_id\":\"$sid\",\"interface\":\"$iface\",\"region_id\":\"RegionOne\",\"url\":\"http://$HOST:$TS_GLANCE_KS_PORT\"}}" >/dev/null
  done
  DEMO_PROJECT_ID="$demo"
}

# ---------------------------------------------------------------------------------------------
# start

set_state() {
  [[ -n ${1:-} ]] || usage
  STATE="$(realpath -m -- "$1")"
  [[ $STATE =~ ^/[A-Za-z0-9_./@+,-]+$ ]] || die "state dir '$STATE': use letters, digits and _./@+,- only"
  [[ $STATE != / ]] || die "state dir may not be /"
}

port_of() {
  case "$1" in
    sftp) echo "$TS_SFTP_PORT" ;; ftp) echo "$TS_FTP_PORT" ;; ftps) echo "$TS_FTPS_PORT" ;;
    webdav) echo "$TS_WEBDAV_PORT" ;; webdavs) echo "$TS_WEBDAVS_PORT" ;;
    glance) echo "$TS_GLANCE_PORT" ;; keystone) echo "$TS_KEYSTONE_PORT" ;;
    glance-ks) echo "$TS_GLANCE_KS_PORT" ;;
    http) echo "$TS_HTTP_PORT" ;; faults) echo "$TS_FAULT_PORT" ;;
    postgres) echo "$TS_PG_PORT" ;;
    s3) local p
        for p in "$TS_S3_PORT" "$TS_S3_HTTPS_PORT" "$TS_S3_MASTER_PORT" "$TS_S3_VOLUME_PORT" "$TS_S3_FILER_PORT"; do
          echo "$p"
          [[ $p == "$TS_S3_HTTPS_PORT" ]] || echo $((p + 10000))
        done ;;
  esac
}

want() { [[ " ${WANT[*]} " == *" $1 "* ]]; }

STARTED_OK=0 KPREP=""
on_start_exit() {
  local rc=$?
  if [[ $STARTED_OK -ne 1 ]]; then
    say "start failed: stopping what was started"
    # A keystone bootstrap still running in the background ends by itself: let it.
    [[ -z $KPREP ]] || wait "$KPREP" 2>/dev/null || true
    stop_all || true
    remove_sftp_pw_user || true
    exit $((rc == 0 ? 1 : rc))
  fi
}

cmd_start() {
  set_state "${1:-}"
  shift
  local t0 n
  t0="$(now)"
  WANT=()
  if [[ $# -eq 0 ]]; then WANT=("${ALL_SERVERS[@]}"); fi
  for n in "$@"; do
    [[ " ${ALL_SERVERS[*]} " == *" $n "* ]] || die "unknown server '$n' (known: ${ALL_SERVERS[*]})"
    WANT+=("$n")
  done
  if want glance-ks && ! want keystone; then WANT+=(keystone); fi
  if want faults && ! want http; then WANT+=(http); fi
  # They go into JSON, YAML, INI and URLs unescaped.
  local v
  for v in TS_FTP_USER TS_FTP_PASSWORD TS_WEBDAV_USER TS_WEBDAV_PASSWORD TS_OS_ADMIN_PASSWORD \
    TS_OS_PASSWORD TS_OS_GLANCE_PASSWORD TS_PG_PASSWORD TS_S3_ACCESS_KEY_ID TS_S3_SECRET_ACCESS_KEY; do
    [[ ${!v} =~ ^[A-Za-z0-9._+-]+$ ]] || die "$v: use letters, digits and ._+- only"
  done
  # SQL identifiers and an S3 bucket name, unquoted.
  for v in TS_PG_USER TS_PG_DB; do
    [[ ${!v} =~ ^[a-z_][a-z0-9_]*$ && ${!v} != postgres ]] || die "$v: lower-case letters, digits and _ only, not postgres"
  done
  [[ $TS_S3_BUCKET =~ ^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$ ]] || die "TS_S3_BUCKET: 3 to 63 lower-case letters, digits or dashes"
  # Started by default, libvirt needs root; named explicitly, it fails without it (start_libvirt).
  if [[ $# -eq 0 && $(id -u) -ne 0 ]]; then
    say "not root: skipping libvirt (its libvirtd runs privileged in a mount namespace)"
    WANT=("${WANT[@]/#libvirt/}")
  fi
  local w=() s
  for s in "${ALL_SERVERS[@]}"; do want "$s" && w+=("$s"); done
  WANT=("${w[@]}")

  local needs_venv=0
  for s in "${WANT[@]}"; do [[ $s == sftp || $s == keyring || $s == faults || $s == libvirt || $s == postgres ]] || needs_venv=1; done
  if [[ $needs_venv -eq 1 ]]; then
    local py
    py="$(python_for_venv)"
    venv_current "$py" || die "the venv $VENV is missing or stale: run scripts/servers.sh setup"
    templates_current || cmd_setup
  fi

  # The state dir: new, empty, or ours from an earlier run that is stopped.
  if [[ -d $STATE && -n $(ls -A "$STATE") ]]; then
    [[ -f $STATE/$MARKER ]] || die "$STATE is not empty and not a test-servers state dir"
    local f
    for f in "$STATE"/pids/*.pid; do
      [[ -f $f ]] && alive "$(cat "$f")" && die "servers of $STATE are running: stop them first"
    done
    [[ -z $(libvirt_guests) ]] || die "libvirt guests of $STATE are running: stop them first"
    remove_sftp_pw_user
    rm -rf "${STATE:?}"/{pids,logs,tls,servers.env,sftp,ftp,ftps,webdav,webdavs,glance,glance-ks,keystone,keyring,http,faults,libvirt,postgres,s3}
  fi
  mkdir -p "$STATE/pids" "$STATE/logs"
  touch "$STATE/$MARKER"

  local busy=()
  local p
  for s in "${WANT[@]}"; do
    for p in $(port_of "$s"); do port_open "$p" && busy+=("$s:$p"); done
  done
  [[ ${#busy[@]} -eq 0 ]] || die "ports already in use: ${busy[*]} (set TS_<NAME>_PORT to move them)"

  trap on_start_exit EXIT
  make_tls
  phase "certificates made"

  # The OpenStack servers first (each takes seconds of Python imports), then the small ones.
  KPREP=""
  if want glance || want glance-ks; then
    want glance && glance_config glance ""
    want glance-ks && glance_config glance-ks keystone
    # Both Glances start from the same empty, migrated schema.
    want glance && cp "$TEMPLATES/glance.sqlite" "$STATE/glance/"
    want glance-ks && cp "$TEMPLATES/glance.sqlite" "$STATE/glance-ks/"
    want glance && start_glance glance "$TS_GLANCE_PORT"
    # Keystone need not be up yet: authtoken connects on the first request.
    want glance-ks && start_glance glance-ks "$TS_GLANCE_KS_PORT"
  fi
  if want keystone; then
    keystone_config
    keystone_prepare &
    KPREP=$!
  fi

  # libvirtd first: on a cold capabilities cache it probes QEMU for seconds. weed next: its S3
  # gateway starts 2 s after its master whatever the machine does meanwhile.
  want libvirt && start_libvirt
  want s3 && start_s3
  want postgres && start_postgres
  phase "libvirtd, weed and postgres spawned"
  want sftp && start_sftp
  phase "libvirtd and sshd spawned"
  want ftp && start_ftp ftp "$TS_FTP_PORT" "$TS_FTP_PASSIVE_PORTS"
  want ftps && start_ftp ftps "$TS_FTPS_PORT" "$TS_FTPS_PASSIVE_PORTS" tls
  want webdav && start_webdav webdav "$TS_WEBDAV_PORT"
  want webdavs && start_webdav webdavs "$TS_WEBDAVS_PORT" tls
  want keyring && start_keyring
  want http && start_http
  want faults && spawn faults python3 "$HERE/faultproxy.py" "$TS_FAULT_PORT" "$HOST:$TS_HTTP_PORT" "$STATE/logs/faults-requests.jsonl"
  phase "ftp, webdav, keyring, http and faults spawned"

  if [[ -n $KPREP ]]; then
    if ! wait "$KPREP"; then
      log_tail keystone-bootstrap
      die "keystone-manage bootstrap failed"
    fi
    KPREP=""
    phase "keystone bootstrap done"
    start_keystone
  fi

  want sftp && wait_ready sftp port_open "$TS_SFTP_PORT"
  want ftp && wait_ready ftp port_open "$TS_FTP_PORT"
  want ftps && wait_ready ftps port_open "$TS_FTPS_PORT"
  want webdav && wait_ready webdav http_any "http://$HOST:$TS_WEBDAV_PORT/"
  want webdavs && wait_ready webdavs http_any --cacert "$STATE/tls/ca.pem" "https://$HOST:$TS_WEBDAVS_PORT/"
  want keyring && wait_ready keyring keyring_ready
  want http && wait_ready http http_any "http://$HOST:$TS_HTTP_PORT/"
  want faults && wait_ready faults http_any "http://$HOST:$TS_FAULT_PORT/_log"
  if want postgres; then
    wait_ready postgres pg_ready
    pg_bootstrap
    phase "postgres ready"
  fi
  if want libvirt; then
    wait_ready libvirt libvirt_ready
    libvirt_keep_capabilities
    phase "libvirt ready"
  fi
  want glance && wait_ready glance http_ok "http://$HOST:$TS_GLANCE_PORT/healthcheck"
  phase "small servers and glance ready"
  if want s3; then
    wait_ready s3 s3_ready
    s3_bootstrap
    phase "s3 ready"
  fi
  if want keystone; then
    wait_ready keystone http_ok "http://$HOST:$TS_KEYSTONE_PORT/v3"
    phase "keystone ready"
    keystone_register
    phase "keystone registration done"
  fi
  want glance-ks && wait_ready glance-ks http_ok "http://$HOST:$TS_GLANCE_KS_PORT/healthcheck"

  write_env
  STARTED_OK=1
  trap - EXIT
  say "started ${WANT[*]} in $(since "$t0") s; environment: $STATE/servers.env"
}

write_env() {
  local e="$STATE/servers.env" d
  {
    echo "# Written by scripts/servers.sh start on $(date -u +%FT%TZ). KEY=VALUE, no quoting."
    echo "TS_STATE_DIR=$STATE"
    echo "TS_SERVERS=$(IFS=,; echo "${WANT[*]}")"
    echo "TS_HOST=$HOST"
    echo "# CA that signed the server certificate of every TLS port here (SAN IP:127.0.0.1, DNS:localhost)"
    echo "TS_CA_CERT=$STATE/tls/ca.pem"
    echo "TS_SERVER_CERT=$STATE/tls/server.pem"
    if want sftp; then
      d="$STATE/sftp"
      echo "# sftp: key auth for TS_SFTP_USER, password auth for TS_SFTP_PASSWORD_USER (empty: not root)."
      echo "# Both are held to internal-sftp; relative paths start in TS_SFTP_ROOT / TS_SFTP_PASSWORD_ROOT."
      echo "TS_SFTP_PORT=$TS_SFTP_PORT"
      echo "TS_SFTP_USER=$(id -un)"
      echo "TS_SFTP_KEY=$d/keys/client_ed25519"
      echo "TS_SFTP_KEY_PUB=$d/keys/client_ed25519.pub"
      echo "TS_SFTP_KNOWN_HOSTS=$d/keys/known_hosts"
      echo "TS_SFTP_HOST_KEY_FINGERPRINT=$(ssh-keygen -l -E sha256 -f "$d/keys/host_ed25519.pub" | cut -d' ' -f2)"
      echo "TS_SFTP_ROOT=$d/root"
      echo "TS_SFTP_PASSWORD_USER=$PW_USER"
      echo "TS_SFTP_PASSWORD=$PW_PASS"
      echo "TS_SFTP_PASSWORD_ROOT=$d/pwroot"
    fi
    if want ftp || want ftps; then
      echo "# FTP and FTPS (explicit AUTH TLS, required on control and data): same user, own roots"
      echo "TS_FTP_USER=$TS_FTP_USER"
      echo "TS_FTP_PASSWORD=$TS_FTP_PASSWORD"
    fi
    if want ftp; then
      echo "TS_FTP_PORT=$TS_FTP_PORT"
      echo "TS_FTP_PASSIVE_PORTS=$TS_FTP_PASSIVE_PORTS"
      echo "TS_FTP_URL=ftp://$HOST:$TS_FTP_PORT/"
      echo "TS_FTP_ROOT=$STATE/ftp/root"
    fi
    if want ftps; then
      echo "TS_FTPS_PORT=$TS_FTPS_PORT"
      echo "TS_FTPS_PASSIVE_PORTS=$TS_FTPS_PASSIVE_PORTS"
      echo "TS_FTPS_URL=ftp://$HOST:$TS_FTPS_PORT/"
      echo "TS_FTPS_ROOT=$STATE/ftps/root"
    fi
    if want webdav || want webdavs; then
      echo "# WebDAV, Basic auth (no auto-MKCOL: PUT into a missing collection is 409)"
      echo "TS_WEBDAV_USER=$TS_WEBDAV_USER"
      echo "TS_WEBDAV_PASSWORD=$TS_WEBDAV_PASSWORD"
    fi
    if want webdav; then
      echo "TS_WEBDAV_PORT=$TS_WEBDAV_PORT"
      echo "TS_WEBDAV_URL=http://$HOST:$TS_WEBDAV_PORT/"
      echo "TS_WEBDAV_ROOT=$STATE/webdav/root"
    fi
    if want webdavs; then
      echo "TS_WEBDAVS_PORT=$TS_WEBDAVS_PORT"
      echo "TS_WEBDAVS_URL=https://$HOST:$TS_WEBDAVS_PORT/"
      echo "TS_WEBDAVS_ROOT=$STATE/webdavs/root"
    fi
    if want http; then
      echo "# nginx: files put under TS_HTTP_ROOT are served at TS_HTTP_URL and TS_HTTPS_URL (certificate"
      echo "# signed by TS_CA_CERT); TS_HTTP_ACCESS_LOG lines: METHOD URI STATUS BODY_BYTES \"RANGE\" \"IF-RANGE\""
      echo "TS_HTTP_PORT=$TS_HTTP_PORT"
      echo "TS_HTTP_URL=http://$HOST:$TS_HTTP_PORT"
      echo "TS_HTTPS_URL=https://localhost:$TS_HTTPS_PORT"
      echo "TS_HTTP_ROOT=$STATE/http/root"
      echo "TS_HTTP_ACCESS_LOG=$STATE/http/access.log"
      echo "# Canonical's SimpleStreams tree maker (PyPI python-simplestreams), for store tests"
      echo "TS_JSON2STREAMS=$VENV/bin/json2streams"
    fi
    if want faults; then
      echo "# The fault proxy in front of nginx (POST /_fault, GET /_log?path=: scripts/servers/faultproxy.py)"
      echo "TS_FAULT_URL=http://$HOST:$TS_FAULT_PORT"
    fi
    if want glance; then
      echo "# Glance image API v2 without auth (owner null; no interoperable import)"
      echo "TS_GLANCE_PORT=$TS_GLANCE_PORT"
      echo "TS_GLANCE_URL=http://$HOST:$TS_GLANCE_PORT"
      echo "TS_GLANCE_IMAGES_DIR=$STATE/glance/images"
    fi
    if want keystone; then
      echo "# Keystone v3, domain Default, region RegionOne; demo is member of project demo"
      echo "TS_KEYSTONE_PORT=$TS_KEYSTONE_PORT"
      echo "TS_OS_AUTH_URL=http://$HOST:$TS_KEYSTONE_PORT/v3"
      echo "TS_OS_REGION_NAME=RegionOne"
      echo "TS_OS_USER_DOMAIN_NAME=Default"
      echo "TS_OS_PROJECT_DOMAIN_NAME=Default"
      echo "TS_OS_USERNAME=demo"
      echo "TS_OS_PASSWORD=$TS_OS_PASSWORD"
      echo "TS_OS_PROJECT_NAME=demo"
      echo "TS_OS_PROJECT_ID=$DEMO_PROJECT_ID"
      echo "TS_OS_ADMIN_USERNAME=admin"
      echo "TS_OS_ADMIN_PASSWORD=$TS_OS_ADMIN_PASSWORD"
      echo "TS_OS_ADMIN_PROJECT_NAME=admin"
    fi
    if want glance-ks; then
      echo "# Glance behind Keystone; also the catalog's image endpoint (public, internal, admin)"
      echo "TS_GLANCE_KS_PORT=$TS_GLANCE_KS_PORT"
      echo "TS_GLANCE_KS_URL=http://$HOST:$TS_GLANCE_KS_PORT"
      echo "TS_GLANCE_KS_IMAGES_DIR=$STATE/glance-ks/images"
    fi
    if want keyring; then
      echo "# Secret Service (gnome-keyring, login keyring unlocked): DBUS_SESSION_BUS_ADDRESS for clients"
      echo "TS_KEYRING_DBUS_ADDRESS=unix:path=$STATE/keyring/bus"
    fi
    if want libvirt; then
      echo "# libvirt: a libvirtd of its own (QEMU driver, TCG guests, root). A test VM with two qcow2 disks"
      echo "# and three offline snapshots: TS_LIBVIRT_VM_SCRIPT create TS_LIBVIRT_URI DIR NAME [--start]"
      echo "TS_LIBVIRT_URI=$(libvirt_uri)"
      echo "TS_LIBVIRT_VM_SCRIPT=$HERE/libvirt-vm.sh"
      echo "TS_LIBVIRT_IMAGES=$STATE/libvirt/images"
    fi
    if want postgres; then
      echo "# PostgreSQL 15: TS_PG_USER (LOGIN CREATEDB, scram-sha-256 password) owns TS_PG_DB; over TCP"
      echo "# with TLS (certificate signed by TS_CA_CERT: sslmode=verify-full works) or without. TS_PG_URL"
      echo "# has no password: give TS_PG_PASSWORD (PGPASSWORD). The superuser postgres has trust on the"
      echo "# socket only: \$TS_PG_BIN/psql -h \$TS_PG_SOCKET_DIR -p \$TS_PG_PORT -U postgres -c 'CREATE DATABASE t_x OWNER $TS_PG_USER'"
      echo "TS_PG_HOST=$HOST"
      echo "TS_PG_PORT=$TS_PG_PORT"
      echo "TS_PG_USER=$TS_PG_USER"
      echo "TS_PG_PASSWORD=$TS_PG_PASSWORD"
      echo "TS_PG_DB=$TS_PG_DB"
      echo "TS_PG_SOCKET_DIR=$(pg_socket_dir)"
      echo "TS_PG_BIN=$PG_BIN"
      echo "TS_PG_URL=postgresql://$TS_PG_USER@$HOST:$TS_PG_PORT/$TS_PG_DB"
    fi
    if want s3; then
      echo "# S3 (SeaweedFS): SigV4 with these keys, path-style URLs; unsigned requests get 403. The"
      echo "# HTTPS endpoint has a certificate signed by TS_CA_CERT."
      echo "TS_S3_PORT=$TS_S3_PORT"
      echo "TS_S3_HTTPS_PORT=$TS_S3_HTTPS_PORT"
      echo "TS_S3_ENDPOINT=http://$HOST:$TS_S3_PORT"
      echo "TS_S3_HTTPS_ENDPOINT=https://$HOST:$TS_S3_HTTPS_PORT"
      echo "TS_S3_BUCKET=$TS_S3_BUCKET"
      echo "TS_S3_REGION=us-east-1"
      echo "TS_S3_ACCESS_KEY_ID=$TS_S3_ACCESS_KEY_ID"
      echo "TS_S3_SECRET_ACCESS_KEY=$TS_S3_SECRET_ACCESS_KEY"
    fi
  } >"$e.tmp"
  mv "$e.tmp" "$e"
}

# ---------------------------------------------------------------------------------------------
# stop / status

# The first signal stop sends (see the header).
stop_signal() {
  case "$1" in
    postgres) echo INT ;;
    s3) echo KILL ;;
    *) echo TERM ;;
  esac
}

# SIGTERM (stop_signal) to every recorded PID (or to those of the servers named), wait for all of
# them, then SIGKILL their process groups. libvirt's guests are recorded first: they live outside
# libvirtd's process group.
stop_all() {
  local f pid name pids=() names=() weed_killed=0 only=" $* "
  while read -r name pid; do
    mkdir -p "$STATE/pids"
    printf '%s\n' "$pid" >"$STATE/pids/libvirt-guest-$name.pid"
  done < <([[ $only == "  " || $only == *" libvirt "* ]] && libvirt_guests)
  for f in "$STATE"/pids/*.pid; do
    [[ -f $f ]] || continue
    pid="$(cat "$f")"
    name="$(basename "$f" .pid)"
    [[ $only == "  " || $only == *" $name "* || ($only == *" libvirt "* && $name == libvirt-guest-*) ]] || continue
    [[ $pid =~ ^[0-9]+$ ]] || { rm -f "$f"; continue; }
    pids+=("$pid")
    names+=("$name")
    if alive "$pid"; then
      kill -"$(stop_signal "$name")" "$pid" 2>/dev/null || true
      [[ $name != s3 ]] || weed_killed=1
    fi
  done
  [[ ${#pids[@]} -gt 0 ]] || return 0
  local deadline=$((SECONDS + TS_STOP_TIMEOUT)) left i
  while :; do
    left=0
    for pid in "${pids[@]}"; do alive "$pid" && left=1; done
    [[ $left -eq 0 || $SECONDS -ge $deadline ]] && break
    sleep 0.1
  done
  # Stragglers: the leader itself after the timeout, or children it left (gunicorn workers).
  for i in "${!pids[@]}"; do
    pid="${pids[$i]}"
    if alive "$pid"; then
      say "${names[$i]} (pid $pid) ignored SIG$(stop_signal "${names[$i]}") for $TS_STOP_TIMEOUT s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    if [[ -n $(members_of "$pid") ]]; then
      kill -KILL -- "-$pid" 2>/dev/null || true
    fi
  done
  # Orphaned servers are reaped by PID 1, here up to ~2 s after they exit: wait (5 s at most)
  # until they are gone from the process table too, so that nothing shows up in ps after stop.
  deadline=$((SECONDS + 5))
  while :; do
    left=0
    for pid in "${pids[@]}"; do
      if [[ -e /proc/$pid ]] || [[ -n $(members_of "$pid") ]]; then left=1; fi
    done
    [[ $left -eq 0 || $SECONDS -ge $deadline ]] && break
    sleep 0.1
  done
  for i in "${!pids[@]}"; do
    pid="${pids[$i]}"
    if alive "$pid"; then say "${names[$i]} (pid $pid) survived SIGKILL"; fi
    rm -f "$STATE/pids/${names[$i]}.pid"
    # The gRPC sockets in /tmp of the weed we just killed (not of one that had died before: its
    # ports, and so those paths, may since belong to another state dir's weed).
    if [[ ${names[$i]} == s3 && $weed_killed -eq 1 && -f $STATE/s3/grpc-sockets ]] && ! alive "$pid"; then
      local sock
      while read -r sock; do [[ -S $sock ]] && rm -f "$sock"; done <"$STATE/s3/grpc-sockets"
    fi
  done
}

cmd_stop() {
  set_state "${1:-}"
  shift
  [[ -d $STATE ]] || die "no state dir $STATE"
  local t0 n
  t0="$(now)"
  for n in "$@"; do [[ -f $STATE/pids/$n.pid ]] || die "no server '$n' recorded in $STATE"; done
  stop_all "$@"
  [[ $# -gt 0 ]] || remove_sftp_pw_user
  say "stopped ${*:-everything} in $(since "$t0") s"
}

# again STATE_DIR NAME: the command start spawned for NAME, spawned again on what the server left
# (its data, its state dir), and waited for as start waits: a real restart, for the tests of what
# a client does when its server goes away and comes back (PostgreSQL restarted, S3 stopped
# mid-upload).
cmd_again() {
  set_state "${1:-}"
  local name="${2:-}" t0 cmd=() k v
  [[ -n $name ]] || usage
  [[ -f $STATE/pids/$name.cmd ]] || die "no server '$name' was started in $STATE"
  [[ ! -f $STATE/pids/$name.pid ]] || ! alive "$(pid_of "$name")" || die "$name is running: stop it first (scripts/servers.sh stop $STATE $name)"
  t0="$(now)"
  # The ports and names start used: servers.env has them.
  while IFS='=' read -r k v; do
    [[ $k =~ ^TS_[A-Z0-9_]+$ ]] && printf -v "$k" '%s' "$v"
  done <"$STATE/servers.env"
  mapfile -d '' -t cmd <"$STATE/pids/$name.cmd"
  spawn "$name" "${cmd[@]}"
  case "$name" in
    postgres) wait_ready postgres pg_ready ;;
    s3) wait_ready s3 s3_ready; s3_wait_writable ;;
    *) local p; for p in $(port_of "$name"); do wait_ready "$name" port_open "$p"; done ;;
  esac
  say "$name started again in $(since "$t0") s"
}

cmd_status() {
  set_state "${1:-}"
  local f pid name rc=0 any=0
  for f in "$STATE"/pids/*.pid; do
    [[ -f $f ]] || continue
    any=1
    pid="$(cat "$f")"
    name="$(basename "$f" .pid)"
    if alive "$pid"; then
      printf '%-10s pid %-8s running\n' "$name" "$pid"
    else
      printf '%-10s pid %-8s NOT RUNNING (log: %s)\n' "$name" "$pid" "$STATE/logs/$name.log"
      rc=1
    fi
  done
  while read -r name pid; do
    printf '%-10s pid %-8s running (libvirt guest %s)\n' libvirt-guest "$pid" "$name"
  done < <(libvirt_guests)
  if [[ $any -eq 0 ]]; then echo "no servers recorded in $STATE"; return 1; fi
  return "$rc"
}

case "${1:-}" in
  setup) cmd_setup ;;
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  again) shift; cmd_again "$@" ;;
  status) shift; cmd_status "$@" ;;
  *) usage ;;
esac
