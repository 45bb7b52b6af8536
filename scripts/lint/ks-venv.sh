#!/usr/bin/env bash
# ks-venv.sh — target/ks-venv with pykickstart pinned (scripts/lint/requirements.txt), for the lint
# tests' oracle (ksvalidator) and for regenerating the kickstart grammar. A no-op when the venv was
# built from the same pins; a killed build leaves no venv that looks complete (the stamp comes last).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${KS_VENV:-$ROOT/target/ks-venv}"
REQ="$ROOT/scripts/lint/requirements.txt"
stamp="$(sha256sum "$REQ" | cut -d' ' -f1) $(python3 -c 'import sys; print(sys.version.split()[0])')"
if [[ -x $VENV/bin/ksvalidator && -f $VENV/.stamp && $(cat "$VENV/.stamp") == "$stamp" ]]; then
  exit 0
fi
rm -rf "$VENV"
mkdir -p "$(dirname "$VENV")"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps --require-virtualenv -r "$REQ"
"$VENV/bin/ksvalidator" -l >/dev/null
printf '%s\n' "$stamp" >"$VENV/.stamp"
echo "ks-venv: pykickstart ready in $VENV"
