#!/usr/bin/env bash
# with-servers.sh — run a command with the real test servers up (scripts/servers.sh), then stop them
# by PID whatever the command's outcome. The command sees IMAGESMITH_SERVERS_ENV=STATE/servers.env.
#
#   scripts/with-servers.sh COMMAND [ARG...]
#
# TS_WITH=names (space-separated) starts only those servers; the state dir is target/servers-state
# (TS_STATE to move it). The venv is built first when missing (scripts/servers.sh setup).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${TS_STATE:-$ROOT/target/servers-state}"
[[ $# -gt 0 ]] || { sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

"$ROOT/scripts/servers.sh" setup
# A state dir left by a run that was killed: stop what it recorded first.
if [[ -d $STATE/pids ]]; then "$ROOT/scripts/servers.sh" stop "$STATE" >/dev/null 2>&1 || true; fi
# shellcheck disable=SC2086
"$ROOT/scripts/servers.sh" start "$STATE" ${TS_WITH:-}
trap '"$ROOT/scripts/servers.sh" stop "$STATE"' EXIT
export IMAGESMITH_SERVERS_ENV="$STATE/servers.env"
status=0
"$@" || status=$?
# A failed run may be a server's fault (a 500 names only the service): show each server's own errors,
# since CI keeps nothing but this output.
if ((status != 0)); then
  for log in "$STATE"/logs/*.log; do
    errors="$(grep -n -m 8 -E 'Traceback|\[ERROR\]|ERROR |OperationalError|FATAL' "$log" 2>/dev/null || true)"
    if [[ -n $errors ]]; then printf 'servers: errors in %s:\n%s\n' "$log" "$errors" >&2; fi
  done
fi
exit "$status"
