#!/usr/bin/env bash
# The benchmarks: criterion codec, response-guard and assignor benches, then the throughput harness
# (benches/throughput: rafka beside librdkafka and rskafka on a private Tansu per scenario),
# which prints a table and rewrites its section of docs/benchmarks.md and docs/throughput.png.
#
#   bash scripts/bench.sh              # everything, 3 repetitions
#   bash scripts/bench.sh --quick      # smoke run: counts / 10, 1 repetition
#   BENCH_REPS=5 bash scripts/bench.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

ensure_cargo
bash scripts/tansu.sh install
# librdkafka is built from source by rdkafka-sys; the chart needs a font.
apt_install build-essential cmake pkg-config fonts-dejavu-core
TANSU_BIN="$(bash scripts/tansu.sh path)"
export TANSU_BIN

reps="${BENCH_REPS:-3}"
args=()
if [ "${1:-}" = "--quick" ]; then
    args+=(--quick)
    reps=1
fi

log "criterion: codec, response guard and assignor benches"
cargo bench -p rafka-benches --bench codec --bench guard --bench assignor -- --warm-up-time 1 --measurement-time 2

log "throughput harness (peers: librdkafka via rdkafka, rskafka)"
CARGO_TARGET_DIR="$REPO_ROOT/target/throughput" cargo build --release \
    --manifest-path benches/throughput/Cargo.toml
"$REPO_ROOT/target/throughput/release/rafka-throughput" all --reps "$reps" "${args[@]}" \
    --out docs/benchmarks.md --chart docs/throughput.png
