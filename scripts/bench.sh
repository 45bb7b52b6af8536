#!/usr/bin/env bash
# Benchmarks for `make bench`: Imagesmith side by side with the standard tools, on the same files in
# the same run, printed with ratios (no timed assertions anywhere). Figures go to docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MIB=${BENCH_SIZE_MIB:-2048}
RUNS=${BENCH_RUNS:-3}
WORK=${BENCH_DIR:-$PWD/target/bench}
PARTS=${BENCH_PARTS:-import mediacheck batch app export publish gold download snapshot team} # run a subset with e.g. BENCH_PARTS=export
part() { [[ " $PARTS " == *" $1 "* ]]; }
TARGET=${CARGO_TARGET_DIR:-$PWD/target} # where cargo puts the release binaries

cargo build --release -q -p imagesmith-cli
CLI=$TARGET/release/imagesmith-cli

mkdir -p "$WORK"
# installer_iso MIB PATH: an installer-like ISO made with xorriso (random, incompressible payload).
installer_iso() {
  [[ -f $2 ]] && return 0
  echo "bench: building a $1 MiB installer-like ISO with xorriso (random, incompressible payload)"
  mkdir -p "$WORK/tree/images"
  openssl enc -aes-128-ctr -pass pass:imagesmith-bench -nosalt -pbkdf2 </dev/zero 2>/dev/null \
    | head -c $(($1 << 20)) >"$WORK/tree/images/install.img" || true # openssl ends on SIGPIPE
  xorriso -as mkisofs -R -J -V BENCH-DVD -o "$2.tmp" "$WORK/tree" && mv "$2.tmp" "$2"
  rm -rf "$WORK/tree"
}
if part import; then
SRC=$WORK/source-${SIZE_MIB}M.iso
installer_iso "$SIZE_MIB" "$SRC"
SHA256=$(sha256sum "$SRC" | cut -d' ' -f1)
MD5=$(md5sum "$SRC" | cut -d' ' -f1)
cat "$SRC" >/dev/null # warm the page cache once, for every contender alike

clean="rm -rf $WORK/copy $WORK/repo; mkdir -p $WORK/repo; sync"  # every run starts with nothing left to write back (and an empty repository folder: --home folders must exist)
hyperfine --style basic --runs "$RUNS" --warmup 1 --prepare "$clean" --export-json "$WORK/import.json" \
  -n cp "cp $SRC $WORK/copy" \
  -n sha256sum "sha256sum $SRC" \
  -n "openssl dgst -sha256" "openssl dgst -sha256 $SRC" \
  -n md5sum "md5sum $SRC" \
  -n "cp && sync" "cp $SRC $WORK/copy && sync $WORK/copy" \
  -n "cp && sha256sum" "cp $SRC $WORK/copy && sha256sum $WORK/copy" \
  -n "cp && sha256sum && sync" "cp $SRC $WORK/copy && sha256sum $WORK/copy && sync $WORK/copy" \
  -n "imagesmith import --sha256" "$CLI --home $WORK/repo import --sha256 $SHA256 --kind os $SRC" \
  -n "imagesmith import --md5" "$CLI --home $WORK/repo import --md5 $MD5 --kind os $SRC" \
  >/dev/null

rm -rf "$WORK/repo" && mkdir -p "$WORK/repo"
RSS_KB=$( { /usr/bin/time -f '%M' "$CLI" --home "$WORK/repo" import --sha256 "$SHA256" --kind os "$SRC" >/dev/null; } 2>&1 | tail -n1)
rm -rf "$WORK/repo" "$WORK/copy"

python3 - "$WORK/import.json" "$SIZE_MIB" "$RSS_KB" <<'PY'
import json, sys
runs = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
size = int(sys.argv[2]); rss = int(sys.argv[3])
mean = lambda n: runs[n]["mean"]
print(f"\nImport of one {size} MiB file (mean of {len(runs['cp']['times'])} runs, warm page cache)\n")
print(f"| command | seconds | MiB/s |")
print(f"|---|---:|---:|")
for name in runs:
    print(f"| {name} | {mean(name):.2f} | {size / mean(name):.0f} |")
print()
print(f"import --sha256 / cp        = {mean('imagesmith import --sha256') / mean('cp'):.2f}x  (target <= 1.3x)")
print(f"import --md5    / md5sum    = {mean('imagesmith import --md5') / mean('md5sum'):.2f}x  (target <= 1.3x)")
print(f"import --sha256 / (cp && sync) = {mean('imagesmith import --sha256') / mean('cp && sync'):.2f}x  (both leave the copy on disk, not only in the page cache)")
print(f"import --sha256 / (cp && sha256sum) = {mean('imagesmith import --sha256') / mean('cp && sha256sum'):.2f}x")
print(f"import --sha256 / (cp && sha256sum && sync) = {mean('imagesmith import --sha256') / mean('cp && sha256sum && sync'):.2f}x")
# the copy and the hash overlap: an import takes about as long as the slower of the two alone
slower = max(mean('cp'), mean('openssl dgst -sha256'))
print(f"import {size / 1024:g} GiB / max(cp, openssl) = {mean('imagesmith import --sha256') / slower:.2f}x  (target <= 1.15x)")
print(f"peak RSS of imagesmith import --sha256: {rss / 1024:.1f} MiB (target < 64 MiB)")
PY
fi

# ---- an ISO with an embedded media checksum (isomd5sum): one read pass, against a second one ----
if part mediacheck; then
echo
MC_MIB=${BENCH_MEDIACHECK_MIB:-1024}
MC_PLAIN=$WORK/source-${MC_MIB}M.iso
installer_iso "$MC_MIB" "$MC_PLAIN"
MC_SUM=$WORK/source-${MC_MIB}M-isomd5.iso
if [[ ! -f $MC_SUM ]]; then cp "$MC_PLAIN" "$MC_SUM.tmp" && implantisomd5 "$MC_SUM.tmp" >/dev/null && mv "$MC_SUM.tmp" "$MC_SUM"; fi
cat "$MC_PLAIN" "$MC_SUM" >/dev/null # both in the page cache for every contender alike
echo "Import of a ${MC_MIB} MiB ISO with and without an implanted MD5 (isomd5sum), against checkisomd5"
clean="rm -rf $WORK/repo; mkdir -p $WORK/repo; sync"
hyperfine --style basic --runs "$RUNS" --warmup 1 --prepare "$clean" --export-json "$WORK/mediacheck.json" \
  -n "imagesmith import (no embedded sum)" "$CLI --home $WORK/repo import --kind os $MC_PLAIN" \
  -n "imagesmith import (isomd5sum checked)" "$CLI --home $WORK/repo import --kind os $MC_SUM" \
  -n "imagesmith import --md5" "$CLI --home $WORK/repo import --kind os --md5 $(md5sum "$MC_PLAIN" | cut -d' ' -f1) $MC_PLAIN" \
  -n "checkisomd5" "checkisomd5 $MC_SUM" \
  -n "imagesmith import && checkisomd5" "$CLI --home $WORK/repo import --kind os $MC_PLAIN && checkisomd5 $MC_SUM" \
  >/dev/null
rm -rf "$WORK/repo"
python3 - "$WORK/mediacheck.json" "$MC_MIB" <<'PY'
import json, sys
runs = {r["command"]: r["mean"] for r in json.load(open(sys.argv[1]))["results"]}
size = int(sys.argv[2])
print("\n| command | seconds | MiB/s |\n|---|---:|---:|")
for name, mean in runs.items():
    print(f"| {name} | {mean:.2f} | {size / mean:.0f} |")
checked, plain = runs["imagesmith import (isomd5sum checked)"], runs["imagesmith import (no embedded sum)"]
print(f"\nimport with isomd5sum / without = {checked / plain:.2f}x  (target <= 1.05x)")
print(f"import with isomd5sum / import --md5 = {checked / runs['imagesmith import --md5']:.2f}x  (both compute an MD5 in the one pass)")
print(f"import with isomd5sum / (import && checkisomd5) = {checked / runs['imagesmith import && checkisomd5']:.2f}x  (one read instead of two)")
PY
fi

# ---- a batch: 8 files of 256 MiB in one import job, against the same 8 imported one after another ----
if part batch; then
echo
BATCH_N=${BENCH_BATCH_FILES:-8}
BATCH_MIB=${BENCH_BATCH_MIB:-256}
echo "Import of $BATCH_N installer-like ISOs of $BATCH_MIB MiB: one job for all, against $BATCH_N imports one after another"
BDIR=$WORK/batch-src
FILES=()
for i in $(seq "$BATCH_N"); do
  f=$BDIR/dvd-$i.iso
  FILES+=("$f")
  [[ -f $f ]] && continue
  # a distinct random (incompressible) payload per ISO, so none is a duplicate of another
  mkdir -p "$BDIR/tree/images"
  openssl enc -aes-128-ctr -pass "pass:imagesmith-batch-$i" -nosalt -pbkdf2 </dev/zero 2>/dev/null \
    | head -c $((BATCH_MIB << 20)) >"$BDIR/tree/images/install.img" || true # openssl ends on SIGPIPE
  xorriso -as mkisofs -quiet -R -J -V "BENCH-DVD-$i" -o "$f.tmp" "$BDIR/tree" && mv "$f.tmp" "$f"
  rm -rf "$BDIR/tree"
done
BATCH_BYTES=$(cat "${FILES[@]}" | wc -c) # and warms the page cache once, for both contenders alike
BREPO=$WORK/batch-repo
import_one="$CLI --home $BREPO import --kind os"
hyperfine --style basic --runs "$RUNS" --warmup 1 --prepare "rm -rf $BREPO; mkdir -p $BREPO; sync" --export-json "$WORK/batch.json" \
  -n "imagesmith import (all files, one job)" "$import_one ${FILES[*]}" \
  -n "imagesmith import (one file at a time)" "for f in ${FILES[*]}; do $import_one \$f || exit 1; done" \
  >/dev/null
python3 - "$WORK/batch.json" "$BATCH_N" "$BATCH_MIB" "$BATCH_BYTES" "$BREPO" "$import_one" "${FILES[@]}" <<'PY'
import json, os, resource, shlex, shutil, subprocess, sys, time
runs = {r["command"]: r["mean"] for r in json.load(open(sys.argv[1]))["results"]}
n, mib, total = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]) / 2**20
repo, import_one, files = sys.argv[5], shlex.split(sys.argv[6]), sys.argv[7:]

def cores_busy(argv_list):
    """CPU seconds (user + system, all threads) per wall second of a run: how many cores it kept busy."""
    shutil.rmtree(repo, ignore_errors=True)
    os.makedirs(repo)  # --home folders must exist
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    for argv in argv_list:
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    shutil.rmtree(repo, ignore_errors=True)
    return (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) / wall

one_at_a_time = cores_busy([import_one + [f] for f in files])
all_at_once = cores_busy([import_one + files])
print(f"\n| command ({n} x {mib} MiB, warm page cache) | seconds | MiB/s |\n|---|---:|---:|")
for k, v in runs.items():
    print(f"| {k} | {v:.2f} | {total / v:.0f} |")
par, seq = runs["imagesmith import (all files, one job)"], runs["imagesmith import (one file at a time)"]
print(f"\nparallel / sequential throughput = {seq / par:.2f}x  (target >= 1.7x)")
cores = os.cpu_count()
print(f"cores kept busy: one file at a time {one_at_a_time:.2f} of {cores}, all files in one job {all_at_once:.2f} of {cores}")
# a single import already overlaps read, write and hash on its own threads; the most a batch can add is
# the share of the machine one import leaves idle
print(f"most a batch can gain over one-at-a-time on {cores} cores = {cores / one_at_a_time:.2f}x; reached {seq / par:.2f}x")
PY
fi

# ---- the desktop app: 10,000 artifacts and 100,000 jobs ----
if part app; then
echo
echo "App with 10,000 artifacts and 100,000 jobs (release build, real window under Xvfb)"
cargo run --release -q -p imagesmith-engine --example seed_catalog -- "$WORK/app-repo" 10000 100000
(cd ui && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run build >/dev/null)
cargo build --release -q -p imagesmith --features custom-protocol
rm -rf "$WORK/app-home" && mkdir -p "$WORK/app-home"
xvfb-run -a -s "-screen 0 1920x1080x24" python3 scripts/bench_app.py "$TARGET/release/imagesmith" "$WORK/app-repo" "$WORK/app-home"
fi

# ---- profile export: about 1 GiB of compressible files, against tar czf and tar -I pigz ----
if part export; then
echo
echo "Profile export of about 1 GiB of compressible software (stored zips of a real source tree)"
scripts/fixtures.sh "$PWD/target/fixtures" >/dev/null
SOFT=$WORK/profile-src
if [[ ! -f $SOFT/.done ]]; then
  rm -rf "$SOFT" && mkdir -p "$SOFT"
  # A real software tree: the crate sources cargo fetched for this build, split in stored (uncompressed)
  # zips of roughly 250 MiB, as vendors ship tool bundles.
  TREE=${CARGO_HOME:-$HOME/.cargo}/registry/src
  n=0; batch=(); bytes=0
  while IFS= read -r -d '' d; do
    batch+=("$d"); bytes=$((bytes + $(du -sb "$d" | cut -f1)))
    if (( bytes > 250 << 20 )); then
      n=$((n + 1)); (cd "$(dirname "${batch[0]}")" && zip -0 -qr "$SOFT/software-$n.zip" "${batch[@]##*/}")
      batch=(); bytes=0
      (( n == 4 )) && break
    fi
  done < <(find "$TREE" -mindepth 2 -maxdepth 2 -type d -print0 | sort -z)
  touch "$SOFT/.done"
fi
du -sh --exclude=.done "$SOFT" | cut -f1 | sed 's/^/bench: profile members: /'
PREPO=$WORK/profile-repo
rm -rf "$PREPO" && mkdir -p "$PREPO"
"$CLI" --home "$PREPO" import --kind os --os windows "$PWD/target/fixtures/win-server-2022.iso" >/dev/null
"$CLI" --home "$PREPO" import --kind software --os windows "$SOFT"/software-*.zip >/dev/null
"$CLI" --home "$PREPO" profile create bench --os-image win-server-2022.iso >/dev/null
"$CLI" --home "$PREPO" profile add bench $(cd "$SOFT" && ls software-*.zip) >/dev/null
OUT=$WORK/export-out
hyperfine --style basic --runs "$RUNS" --warmup 1 --prepare "rm -rf $OUT; mkdir -p $OUT; sync" --export-json "$WORK/export.json" \
  -n "imagesmith profile export" "$CLI --home $PREPO profile export bench --to $OUT" \
  -n "tar czf" "tar czf $OUT/t.tar.gz --exclude=.done -C $SOFT ." \
  -n "tar -I pigz" "tar -I pigz -cf $OUT/p.tar.gz --exclude=.done -C $SOFT ." \
  >/dev/null
"$CLI" --home "$PREPO" profile export bench --to "$OUT" >/dev/null
tar tzf "$OUT/bench.tar.gz" >/dev/null && echo "bench: GNU tar reads the export"
python3 - "$WORK/export.json" <<'PY'
import json, sys
runs = {r["command"]: r["mean"] for r in json.load(open(sys.argv[1]))["results"]}
print("\n| command | seconds |\n|---|---:|")
for k, v in runs.items():
    print(f"| {k} | {v:.2f} |")
ours = runs["imagesmith profile export"]
print(f"\nexport / tar czf     = {ours / runs['tar czf']:.2f}x  (target <= 0.6x)")
print(f"export / tar -I pigz = {ours / runs['tar -I pigz']:.2f}x  (target <= 0.9x)")
PY
fi

# ---- publish: a 1 GiB image to a local Glance (no auth), against curl -T of the same file ----
if part publish; then
echo
echo "Publish of a 1 GiB image to a local Glance 33 (no auth), against curl -T of the same file"
PUB_RUNS=${BENCH_PUBLISH_RUNS:-4}
PSTATE=$WORK/publish-servers
PPORT=${BENCH_GLANCE_PORT:-9392}
scripts/servers.sh setup
[[ ! -d $PSTATE/pids ]] || scripts/servers.sh stop "$PSTATE" >/dev/null 2>&1 || true
TS_GLANCE_PORT=$PPORT scripts/servers.sh start "$PSTATE" glance
trap 'scripts/servers.sh stop "$PSTATE"' EXIT
GLANCE=http://127.0.0.1:$PPORT
IMG=$WORK/publish-1G.raw
if [[ ! -f $IMG ]]; then
  openssl enc -aes-128-ctr -pass pass:imagesmith-publish -nosalt -pbkdf2 </dev/zero 2>/dev/null \
    | head -c $((1 << 30)) >"$IMG.tmp" || true # openssl ends on SIGPIPE
  mv "$IMG.tmp" "$IMG"
fi
PREPO=$WORK/publish-repo
rm -rf "$PREPO" && mkdir -p "$PREPO"
"$CLI" --home "$PREPO" import --kind disk_image "$IMG" >/dev/null
"$CLI" --home "$PREPO" target add bench --image-url "$GLANCE" --no-auth >/dev/null
cat "$IMG" >/dev/null # warm the page cache for both
now() { date +%s.%N; }
glance_delete() { curl -s -m 60 -o /dev/null -X DELETE "$GLANCE/v2/images/$1"; }
: >"$WORK/publish.times"
for i in $(seq "$PUB_RUNS"); do
  # curl: create the image record, then PUT the file (timed together, as the publish does both).
  t0=$(now)
  id=$(curl -s -m 30 -X POST "$GLANCE/v2/images" -H 'Content-Type: application/json' \
    -d "{\"name\":\"curl-$i\",\"disk_format\":\"raw\",\"container_format\":\"bare\"}" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
  code=$(curl -s -o /dev/null -w '%{http_code}' -T "$IMG" -H 'Content-Type: application/octet-stream' "$GLANCE/v2/images/$id/file")
  t1=$(now)
  [[ $code == 204 ]] || { echo "bench: curl upload answered $code" >&2; exit 1; }
  glance_delete "$id"
  # imagesmith: create, upload hashing MD5 + SHA-512, wait for active, compare Glance's digests.
  t2=$(now)
  out=$("$CLI" --home "$PREPO" publish publish-1G.raw --target bench --name "imagesmith-$i" --json)
  t3=$(now)
  id=$(printf '%s' "$out" | python3 -c 'import json, sys; p = json.load(sys.stdin)["publications"][0]; assert p["verified"], p; print(p["remote_id"])')
  glance_delete "$id"
  echo "$t0 $t1 $t2 $t3" >>"$WORK/publish.times"
  sync
done
python3 - "$WORK/publish.times" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
curl = [r[1] - r[0] for r in rows]
ours = [r[3] - r[2] for r in rows]
mib = 1024
print(f"\n| command ({len(rows)} runs, alternating) | mean s | MiB/s |\n|---|---:|---:|")
print(f"| curl -T (create + PUT) | {statistics.mean(curl):.2f} | {mib / statistics.mean(curl):.0f} |")
print(f"| imagesmith publish (create + PUT hashing MD5/SHA-512 + wait active + verify) | {statistics.mean(ours):.2f} | {mib / statistics.mean(ours):.0f} |")
print(f"\npublish throughput / curl throughput = {statistics.mean(curl) / statistics.mean(ours):.2f}x  (target >= 0.95x)")
print("per run (curl s, imagesmith s): " + ", ".join(f"({c:.1f}, {o:.1f})" for c, o in zip(curl, ours)))
PY
scripts/servers.sh stop "$PSTATE"
trap - EXIT
fi

# ---- gold images: a real software home of about 1 GiB, against cp -a ----
if part gold; then
echo
echo "Gold images: a software home of about 1 GiB and thousands of files (the crate sources cargo fetched)"
HOME_SRC=$WORK/gold-home
if [[ ! -f $WORK/gold-home.done ]]; then
  rm -rf "$HOME_SRC" && mkdir -p "$HOME_SRC"
  TREE=${CARGO_HOME:-$HOME/.cargo}/registry/src
  bytes=0
  while IFS= read -r -d '' d; do
    cp -a "$d" "$HOME_SRC/"
    bytes=$((bytes + $(du -sb "$d" | cut -f1)))
    (( bytes > 1000 << 20 )) && break
  done < <(find "$TREE" -mindepth 2 -maxdepth 2 -type d -print0 | sort -z)
  touch "$WORK/gold-home.done"
fi
FILES=$(find "$HOME_SRC" -type f | wc -l)
BYTES=$(du -sb "$HOME_SRC" | cut -f1)
echo "bench: home of $((BYTES >> 20)) MiB in $FILES files"
GREPO=$WORK/gold-repo
cat "$(find "$HOME_SRC" -type f | head -n 1)" >/dev/null
find "$HOME_SRC" -type f -exec cat {} + >/dev/null # warm the page cache once, for every contender alike
hyperfine --style basic --runs "$RUNS" --warmup 1 --prepare "rm -rf $GREPO $WORK/cp-copy; mkdir -p $GREPO; sync" --export-json "$WORK/gold-capture.json" \
  -n "cp -a" "cp -a $HOME_SRC $WORK/cp-copy" \
  -n "imagesmith gold create" "$CLI --home $GREPO gold create v1 --from $HOME_SRC" \
  >/dev/null
# Recapture with 1% of the files changed (a byte appended), the first capture already stored.
rm -rf "$GREPO" && mkdir -p "$GREPO" && "$CLI" --home "$GREPO" gold create v1 --from "$HOME_SRC" >/dev/null
mapfile -t CHANGE < <(find "$HOME_SRC" -type f | sort | awk 'NR % 100 == 0')
for f in "${CHANGE[@]}"; do printf x >>"$f"; done
CHANGED_BYTES=$(for f in "${CHANGE[@]}"; do stat -c %s "$f"; done | awk '{s+=$1} END {print s}')
before=$(du -sb "$GREPO/objects" | cut -f1)
hyperfine --style basic --runs "$RUNS" --warmup 1 --prepare "$CLI --home $GREPO gold delete v2 >/dev/null 2>&1 || true; rm -rf $WORK/cp-copy; sync" \
  --export-json "$WORK/gold-recapture.json" \
  -n "cp -a" "cp -a $HOME_SRC $WORK/cp-copy" \
  -n "imagesmith gold create (1% changed)" "$CLI --home $GREPO gold create v2 --from $HOME_SRC" \
  >/dev/null
"$CLI" --home "$GREPO" gold delete v2 >/dev/null 2>&1 || true
"$CLI" --home "$GREPO" gold create v2 --from "$HOME_SRC" >/dev/null
GROWTH=$(( $(du -sb "$GREPO/objects" | cut -f1) - before ))
hyperfine --style basic --runs "$RUNS" --warmup 1 --prepare "rm -rf $WORK/prov $WORK/cp-copy; $CLI --home $GREPO gold forget-copy $WORK/prov >/dev/null 2>&1 || true; sync" \
  --export-json "$WORK/gold-provision.json" \
  -n "cp -a" "cp -a $HOME_SRC $WORK/cp-copy" \
  -n "imagesmith gold provision" "$CLI --home $GREPO gold provision v2 --to $WORK/prov --allow-unpublished" \
  >/dev/null
diff -r --no-dereference "$HOME_SRC" "$WORK/prov" >/dev/null && echo "bench: the provisioned copy equals the home (diff -r)"
# Peak memory on a home of 100,000 small files.
BIG=$WORK/gold-100k
if [[ ! -f $WORK/gold-100k.done ]]; then
  rm -rf "$BIG" && mkdir -p "$BIG"
  python3 -c "
import os, sys
root = sys.argv[1]
for d in range(1000):
    p = os.path.join(root, f'pkg{d:04}')
    os.mkdir(p)
    for f in range(100):
        with open(os.path.join(p, f'mod{f:03}.py'), 'w') as out:
            out.write(f'# module {d}.{f}\n')
" "$BIG"
  touch "$WORK/gold-100k.done"
fi
rm -rf "$WORK/gold-100k-repo" && mkdir -p "$WORK/gold-100k-repo"
RSS_KB=$( { /usr/bin/time -f '%M' "$CLI" --home "$WORK/gold-100k-repo" gold create big --from "$BIG" >/dev/null; } 2>&1 | tail -n1)
rm -rf "$WORK/gold-100k-repo" "$WORK/cp-copy" "$WORK/prov"
python3 - "$WORK" "$CHANGED_BYTES" "$GROWTH" "$RSS_KB" <<'PY'
import json, sys
work, changed, growth, rss = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def means(name):
    return {r["command"]: r["mean"] for r in json.load(open(f"{work}/{name}.json"))["results"]}
cap, rec, prov = means("gold-capture"), means("gold-recapture"), means("gold-provision")
print("\n| step | cp -a s | imagesmith s | ratio | target |\n|---|---:|---:|---:|---|")
print(f"| first capture | {cap['cp -a']:.2f} | {cap['imagesmith gold create']:.2f} | {cap['imagesmith gold create'] / cap['cp -a']:.2f}x | <= 1.3x |")
r = rec['imagesmith gold create (1% changed)']
print(f"| recapture, 1% changed | {rec['cp -a']:.2f} | {r:.2f} | {r / rec['cp -a']:.2f}x | <= 0.5x |")
p = prov['imagesmith gold provision']
print(f"| provision | {prov['cp -a']:.2f} | {p:.2f} | {p / prov['cp -a']:.2f}x | <= 1.3x |")
print(f"\nstore growth of the recapture: {growth / 2**20:.2f} MiB for {changed / 2**20:.2f} MiB of changed files (target: within 1 MiB)")
print(f"peak RSS of a capture of 100,000 files: {rss / 1024:.1f} MiB (target < 128 MiB)")
PY
fi

# ---- a 1 GiB ISO from the local nginx: verified import against curl -o (and curl -o && sha256sum) ----
if part download; then
echo
DL_MIB=${BENCH_DOWNLOAD_MIB:-1024}
DL_SRC=$WORK/source-${DL_MIB}M.iso
installer_iso "$DL_MIB" "$DL_SRC"
SRV=$WORK/servers
TS_HTTP_PORT=${BENCH_HTTP_PORT:-8095} TS_HTTPS_PORT=${BENCH_HTTPS_PORT:-8495} scripts/servers.sh start "$SRV" http >/dev/null
trap 'scripts/servers.sh stop "$SRV" >/dev/null' EXIT
ln -f "$DL_SRC" "$SRV/http/root/dvd.iso" 2>/dev/null || cp "$DL_SRC" "$SRV/http/root/dvd.iso"
URL=http://127.0.0.1:${BENCH_HTTP_PORT:-8095}/dvd.iso
DL_SHA256=$(sha256sum "$DL_SRC" | cut -d' ' -f1)
cat "$DL_SRC" >/dev/null # the server reads from the page cache for every contender alike
echo "Import of a ${DL_MIB} MiB ISO from the local nginx (Range-capable), against curl"
clean="rm -rf $WORK/dl $WORK/repo; mkdir -p $WORK/repo; sync"
hyperfine --style basic --runs "$RUNS" --warmup 1 --prepare "$clean" --export-json "$WORK/download.json" \
  -n "curl -o" "curl -sf -o $WORK/dl $URL" \
  -n "curl -o && sha256sum" "curl -sf -o $WORK/dl $URL && sha256sum $WORK/dl" \
  -n "imagesmith import URL --sha256" "$CLI --home $WORK/repo import --sha256 $DL_SHA256 --kind os $URL" \
  >/dev/null
rm -rf "$WORK/repo" "$WORK/dl"
python3 - "$WORK/download.json" "$DL_MIB" <<'PY'
import json, sys
runs = {r["command"]: r["mean"] for r in json.load(open(sys.argv[1]))["results"]}
size = int(sys.argv[2])
print("\n| command | seconds | MiB/s |\n|---|---:|---:|")
for name, mean in runs.items():
    print(f"| {name} | {mean:.2f} | {size / mean:.0f} |")
im = runs["imagesmith import URL --sha256"]
print(f"\nthroughput of a verified import / curl -o = {runs['curl -o'] / im:.2f}x  (target >= 0.95x)")
print(f"throughput of a verified import / (curl -o && sha256sum) = {runs['curl -o && sha256sum'] / im:.2f}x")
PY
fi

# ---- an image from a VM disk snapshot, against qemu-img convert -l alone into a file ----
if part snapshot; then
echo
SN_MIB=${BENCH_SNAPSHOT_MIB:-2048}
SN_DISK=$WORK/vm-disk-${SN_MIB}M.qcow2
if [[ ! -f $SN_DISK ]]; then
  echo "bench: building a ${SN_MIB} MiB qcow2 with $((SN_MIB / 2)) MiB of data (half random, half text) and snapshot 'golden'"
  # what a used system disk looks like to a compressor: some incompressible, some compressible data
  openssl enc -aes-128-ctr -pass pass:imagesmith-bench -nosalt -pbkdf2 </dev/zero 2>/dev/null \
    | head -c $((SN_MIB / 4 << 20)) >"$WORK/sn-random" || true
  find /usr/share /usr/lib -type f -size -1M -print0 2>/dev/null | xargs -0 cat 2>/dev/null | head -c $((SN_MIB / 4 << 20)) >"$WORK/sn-text" || true
  cat "$WORK/sn-random" "$WORK/sn-text" >"$WORK/sn-raw" && truncate -s "${SN_MIB}M" "$WORK/sn-raw"
  qemu-img convert -f raw -O qcow2 "$WORK/sn-raw" "$SN_DISK.tmp" && qemu-img snapshot -c golden "$SN_DISK.tmp"
  qemu-io -f qcow2 -c "write -P 0x5a 0 64M" "$SN_DISK.tmp" >/dev/null # the live state moved on
  mv "$SN_DISK.tmp" "$SN_DISK" && rm -f "$WORK/sn-random" "$WORK/sn-text" "$WORK/sn-raw"
fi
cat "$SN_DISK" >/dev/null
echo "Image from snapshot 'golden' of a ${SN_MIB} MiB qcow2 ($((SN_MIB / 2)) MiB of data), against qemu-img convert -l into a file"
clean="rm -rf $WORK/sn-out $WORK/repo; mkdir -p $WORK/repo; sync"
hyperfine --style basic --runs "$RUNS" --warmup 1 --prepare "$clean" --export-json "$WORK/snapshot.json" \
  -n "qemu-img convert -l -c -O qcow2" "qemu-img convert -U -l snapshot.name=golden -c -O qcow2 $SN_DISK $WORK/sn-out" \
  -n "imagesmith snapshot image (qcow2)" "$CLI --home $WORK/repo snapshot image golden --disk-file $SN_DISK --snapshot golden" \
  -n "qemu-img convert -l -O raw" "qemu-img convert -U -l snapshot.name=golden -O raw $SN_DISK $WORK/sn-out" \
  -n "qemu-img convert -l -O raw && sha256sum" "qemu-img convert -U -l snapshot.name=golden -O raw $SN_DISK $WORK/sn-out && sha256sum $WORK/sn-out" \
  -n "imagesmith snapshot image --format raw" "$CLI --home $WORK/repo snapshot image golden --disk-file $SN_DISK --snapshot golden --format raw" \
  >/dev/null
rm -rf "$WORK/repo" "$WORK/sn-out"
python3 - "$WORK/snapshot.json" <<'PY'
import json, sys
runs = {r["command"]: r["mean"] for r in json.load(open(sys.argv[1]))["results"]}
print("\n| command | seconds |\n|---|---:|")
for name, mean in runs.items():
    print(f"| {name} | {mean:.2f} |")
print(f"\nsnapshot image (qcow2) / qemu-img convert -l -c -O qcow2 = {runs['imagesmith snapshot image (qcow2)'] / runs['qemu-img convert -l -c -O qcow2']:.2f}x  (target <= 1.15x)")
print(f"snapshot image --format raw / qemu-img convert -l -O raw = {runs['imagesmith snapshot image --format raw'] / runs['qemu-img convert -l -O raw']:.2f}x")
print(f"snapshot image --format raw / (convert && sha256sum) = {runs['imagesmith snapshot image --format raw'] / runs['qemu-img convert -l -O raw && sha256sum']:.2f}x  (a raw image must be hashed whole: SHA-256 is the floor)")
PY
fi

# ---- a team repository: 4 desktops importing 200 files each at once, against one local repository;
# ---- the app's launch queries on a team catalog of 100,000 artifacts ----
if part team; then
echo
echo "Team repository at scale (PostgreSQL 15 and SeaweedFS started here, on ports of their own)"
cargo build --release -q -p imagesmith-engine --example seed_catalog --example notify_fanout
TS_STATE="$PWD/target/bench-servers-state" TS_WITH="postgres s3 keyring" TS_PG_PORT=13433 TS_S3_PORT=12333 \
  TS_S3_HTTPS_PORT=12334 TS_S3_MASTER_PORT=12433 TS_S3_VOLUME_PORT=12181 TS_S3_FILER_PORT=12888 \
  scripts/with-servers.sh python3 scripts/bench_team.py "$CLI" "$TARGET/release/examples/seed_catalog" "$WORK/team" \
  "${BENCH_TEAM_PROCESSES:-4}" "${BENCH_TEAM_FILES:-200}" "${BENCH_TEAM_KIB:-256}"
fi
