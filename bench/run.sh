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

# Two replicas on one PostgreSQL: the local cluster .ci/test sets up, a fresh database.
if [ -z "${BENCH_DATABASE_URL:-}" ] && command -v pg_lsclusters >/dev/null; then
  port=$(pg_lsclusters --no-header | awk 'NR == 1 {print $3}')
  pg_ctlcluster $(pg_lsclusters --no-header | awk 'NR == 1 {print $1 " " $2}') start 2>/dev/null || true
  as_postgres() { if [ "$(id -u)" = 0 ]; then su postgres -c "$1"; else sh -c "$1"; fi; }
  as_postgres "dropdb -p $port --if-exists qunguan_bench" && as_postgres "createdb -p $port -O qunguan qunguan_bench" \
    && export BENCH_DATABASE_URL="postgres://qunguan:qunguan@127.0.0.1:$port/qunguan_bench"
fi

exec python3 bench/run.py --shared "$shared" --seconds "${1:-8}" --rounds "${2:-2}" --commands "${3:-/help,/info}"
