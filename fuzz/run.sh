#!/usr/bin/env bash
# Runs each fuzz target for a bounded time (default 60 s each) and prints what libFuzzer
# reports. Not run by CI. Usage: fuzz/run.sh [seconds per target]
# cargo-fuzz wants nightly flags; RUSTC_BOOTSTRAP lets the stable toolchain accept them.
# Crashes land in fuzz/artifacts/<target>/: turn each into a regression test.
set -euo pipefail
cd "$(dirname "$0")"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
seconds="${1:-60}"
for target in callback_decode command_parse reply_render event_decode; do
  mkdir -p "corpus/$target"
  echo "== $target (${seconds}s)"
  RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -print_final_stats=1 2>&1 \
    | grep -E "Done [0-9]+ runs|stat::number_of_executed_units|stat::peak_rss_mb|ERROR|panicked|SUMMARY|crash-" || true
done
