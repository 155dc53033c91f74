#!/usr/bin/env bash
# Benchmark: qunguan against the floor in ../shared/bench/baseline, same machine, same run,
# alternating. Prints callbacks/s, replies delivered/s, ack latency, ratios, RSS, token
# fetches and replies owed; and /help over Stream mode (frames pushed by a local gateway,
# examples/stream_gateway.rs) beside /help over HTTP. Not run by CI.
# Usage: bench/run.sh [seconds per run] [rounds] [commands, default /help,/info]
set -euo pipefail
cd "$(dirname "$0")/.."
shared="$(cd ../shared/bench && pwd)"

if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null; then
  apt-get update -qq && apt-get install -y -qq wrk nginx-light >/dev/null
fi

cargo build --release --locked --bin qunguan --example stream_gateway
# The floor builds into our target dir: ../shared stays untouched.
cargo build --release --locked --manifest-path "$shared/baseline/Cargo.toml" --target-dir target/bench-baseline

exec python3 bench/run.py --shared "$shared" --seconds "${1:-8}" --rounds "${2:-2}" --commands "${3:-/help,/info}"
