#!/usr/bin/env bash
# The benchmarks: criterion codec, response-guard and assignor benches, then the throughput harness
# (benches/throughput: rafka beside librdkafka, rskafka, franz-go and the Java client, on a
# private Tansu per scenario and/or a private 1-node Apache Kafka), which prints a table and
# rewrites its section of docs/benchmarks.md and docs/throughput.png.
#
#   bash scripts/bench.sh              # everything, 3 repetitions
#   bash scripts/bench.sh --quick      # smoke run: counts / 10, 1 repetition
#   BENCH_REPS=5 bash scripts/bench.sh
#   BENCH_BROKER=both bash scripts/bench.sh     # tansu (default), kafka or both
#   BENCH_CLIENTS=rafka,franz bash scripts/bench.sh
#
# Peers: franz-go needs Go (on PATH, or /usr/local/go/bin; GO=path overrides); the Java client
# needs a JDK (javac) and the Kafka jars, which scripts/kafka.sh install provides. A peer whose
# toolchain is missing is skipped with a message; the rest still run.
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

broker="${BENCH_BROKER:-tansu}"
wanted="${BENCH_CLIENTS:-rafka,librdkafka,rskafka,franz,java}"
clients=()
for c in ${wanted//,/ }; do
    case "$c" in
    franz)
        if [ -z "${GO:-}" ]; then
            GO="$(command -v go || true)"
            if [ -z "$GO" ] && [ -x /usr/local/go/bin/go ]; then
                GO=/usr/local/go/bin/go
            fi
        fi
        if [ -z "${GO:-}" ] || ! "$GO" version >/dev/null 2>&1; then
            log "skipping franz-go: no Go toolchain (install Go, or set GO=/path/to/go)"
            continue
        fi
        export GO
        ;;
    java)
        # JRE, Maven and the kafka-clients jars (and the broker's, for --broker kafka).
        if ! bash scripts/kafka.sh install; then
            log "skipping java: scripts/kafka.sh install failed"
            continue
        fi
        if [ -n "${JAVA_HOME:-}" ]; then
            javac_bin="$JAVA_HOME/bin/javac"
        else
            # A subshell: apt_install exits on failure, and a missing JDK only skips this peer.
            command -v javac >/dev/null || (apt_install openjdk-17-jdk-headless) || true
            javac_bin="$(command -v javac || true)"
        fi
        if [ -z "$javac_bin" ] || ! "$javac_bin" -version >/dev/null 2>&1; then
            log "skipping java: no javac (install a JDK, e.g. openjdk-17-jdk-headless, or set JAVA_HOME)"
            continue
        fi
        ;;
    esac
    clients+=("$c")
done
case "$broker" in
kafka | both) bash scripts/kafka.sh install ;;
esac
[ "${#clients[@]}" -gt 0 ] || die "no client to run"
clients_arg="$(IFS=,; echo "${clients[*]}")"

log "throughput harness: ${clients_arg} on ${broker}"
CARGO_TARGET_DIR="$REPO_ROOT/target/throughput" cargo build --release \
    --manifest-path benches/throughput/Cargo.toml
"$REPO_ROOT/target/throughput/release/rafka-throughput" all --reps "$reps" "${args[@]}" \
    --clients "$clients_arg" --broker "$broker" \
    --out docs/benchmarks.md --chart docs/throughput.png
