#!/usr/bin/env bash
# Coverage-guided fuzzing of every target in fuzz/ (cargo-fuzz, libFuzzer, nightly), each for
# FUZZ_SECONDS (default 60). The working corpus starts from fuzz/corpus/<target> and grows under
# fuzz/target/corpus/<target>, so the seeds in the repository stay small. A crash is saved under
# fuzz/artifacts/<target>/; copy it to fuzz/regressions/<target>/ and fix the parser: `make test`
# replays every regression (crates/engine/tests/fuzz_corpus.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-60}
TARGETS=${FUZZ_TARGETS:-"detect checksum_file tar_listing profile_manifest inf xml wim windows_media lint"}
if ! rustup toolchain list | grep -q '^nightly'; then
  echo "fuzz: installing the nightly toolchain (libFuzzer needs its sanitizer flags)"
  rustup toolchain install nightly --profile minimal
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz"
  cargo +nightly install cargo-fuzz --locked
fi
# cargo-fuzz builds in fuzz/target unless told otherwise: keep it out of the app's target directory.
export CARGO_TARGET_DIR="$PWD/fuzz/target"
status=0
for t in $TARGETS; do
  mkdir -p "fuzz/target/corpus/$t"
  echo "fuzz: $t for ${SECONDS_EACH}s"
  if ! cargo +nightly fuzz run "$t" "fuzz/target/corpus/$t" "fuzz/corpus/$t" -- \
      -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1; then
    echo "fuzz: $t found a crash: see fuzz/artifacts/$t/" >&2
    status=1
  fi
done
exit $status
