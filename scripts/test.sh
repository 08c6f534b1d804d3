#!/usr/bin/env bash
# THE test command: installs what is missing, starts a 3-node Apache Kafka cluster, Tansu and
# the offset-store services, runs every test of the workspace (unit, integration, interop,
# doctests) against Kafka, then the Tansu smoke subset, and stops everything.
#
#   bash scripts/test.sh                     # the whole workspace
#   bash scripts/test.sh -p rafka-wire       # extra arguments go to cargo nextest / cargo test
#
# Environment the tests read (all set here):
#   RAFKA_TEST_BOOTSTRAP    the shared Apache Kafka cluster (3 KRaft nodes, a fresh one per run),
#                           127.0.0.1:$RAFKA_KAFKA_PORT..+2 (39092-39094); when it is already
#                           set, that cluster is used and none is started
#   RAFKA_TEST_BROKERS      shared Tansu broker, 127.0.0.1:$RAFKA_TEST_PORT (19092)
#   RAFKA_TEST_TARGET=tansu set for the smoke run only: TestTarget tests use a private Tansu
#   TANSU_BIN               the Tansu binary, for tests that start private brokers
#   RAFKA_TEST_PYTHON       python with confluent-kafka 2.16 (librdkafka 2.16), for interop tests
#   RAFKA_TEST_POSTGRES_URL, RAFKA_TEST_MYSQL_URL, RAFKA_TEST_REDIS_URL   offset-store services
#   RAFKA_TEST_STRICT=1     tests must fail, not skip, when one of the above is missing
# RAFKA_KEEP_SERVICES=1 leaves the broker and services running afterwards.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

bash scripts/deps.sh
ensure_cargo
ensure_nextest

cleanup() {
    local rc=$?
    if [ "${RAFKA_KEEP_SERVICES:-0}" != 1 ]; then
        bash scripts/kafka.sh stop --dir "$KAFKA_RUN" || true
        bash scripts/tansu.sh stop || true
        bash scripts/services.sh stop || true
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export RAFKA_TEST_PORT="${RAFKA_TEST_PORT:-19092}"
KAFKA_RUN="$REPO_ROOT/.kafka/run-test"
if [ -n "${RAFKA_TEST_BOOTSTRAP:-}" ]; then
    # An existing cluster (three brokers or more: the shared tests create topics with
    # replication factor 3 and min.insync.replicas 2). Tests that break a cluster still start
    # private ones.
    log "using the existing Kafka cluster at $RAFKA_TEST_BOOTSTRAP"
    KAFKA_RUN=/nonexistent
else
    # A fresh cluster per run: names on it are per test, but a clean log reads better.
    bash scripts/kafka.sh stop --dir "$KAFKA_RUN" || true
    rm -rf "$KAFKA_RUN"
    RAFKA_TEST_BOOTSTRAP="$(bash scripts/kafka.sh start --nodes 3 --dir "$KAFKA_RUN" \
        --port "${RAFKA_KAFKA_PORT:-39092}" | tail -n 1)"
fi
export RAFKA_TEST_BOOTSTRAP
bash scripts/tansu.sh start
bash scripts/services.sh start >/dev/null
# shellcheck source=/dev/null
source .services/env

export RAFKA_TEST_BROKERS="127.0.0.1:$RAFKA_TEST_PORT"
TANSU_BIN="$(bash scripts/tansu.sh path)"
export TANSU_BIN
export RAFKA_TEST_PYTHON="$VENV_DIR/bin/python"
export RAFKA_TEST_STRICT=1
export RUST_BACKTRACE="${RUST_BACKTRACE:-1}"

log "RAFKA_TEST_BOOTSTRAP=$RAFKA_TEST_BOOTSTRAP RAFKA_TEST_BROKERS=$RAFKA_TEST_BROKERS TANSU_BIN=$TANSU_BIN RAFKA_TEST_PYTHON=$RAFKA_TEST_PYTHON"

# Integration test binaries that run a second time on Tansu (see docs/brokers.md).
TANSU_SMOKE="${RAFKA_TANSU_SMOKE:-client_admin producer_basic consumer_standalone}"

if [ "$#" -eq 0 ]; then
    set -- --workspace
fi

# Doctests run even when other tests failed, so one run reports every failure.
status=0
# Remembers the first failing step's exit status.
fail() { [ "$status" -ne 0 ] || status=$1; }
# Library, binary and test targets; benches are measurements, not tests (`just bench`), and
# examples are run by the tests that include them.
targets=(--lib --bins --tests)
if cargo nextest --version >/dev/null 2>&1; then
    log "cargo nextest run ${targets[*]} $*"
    cargo nextest run --tool-config-file "rafka:$REPO_ROOT/scripts/nextest.toml" \
        "${targets[@]}" --no-fail-fast --no-tests=warn --failure-output=immediate-final "$@" || fail $?
else
    log "cargo-nextest not found; cargo test ${targets[*]} $*"
    cargo test "${targets[@]}" --no-fail-fast "$@" || fail $?
fi
# The Tansu smoke subset: the same TestTarget tests on a private Tansu each, for the light broker
# people use for local development (docs/brokers.md says which and why). Only on a whole run.
if [ "$*" = "--workspace" ]; then
    smoke=()
    for t in $TANSU_SMOKE; do smoke+=(--test "$t"); done
    log "Tansu smoke subset: $TANSU_SMOKE"
    if cargo nextest --version >/dev/null 2>&1; then
        RAFKA_TEST_TARGET=tansu cargo nextest run --tool-config-file "rafka:$REPO_ROOT/scripts/nextest.toml" \
            -p rafka-integration "${smoke[@]}" --no-fail-fast --failure-output=immediate-final || fail $?
    else
        RAFKA_TEST_TARGET=tansu cargo test -p rafka-integration "${smoke[@]}" --no-fail-fast || fail $?
    fi
fi
# nextest does not run doctests, and `cargo test --lib --bins --tests` skips them too.
log "cargo test --doc $*"
cargo test --doc --no-fail-fast "$@" || fail $?
if [ "$status" -ne 0 ]; then
    log "FAILED (exit $status)"
    exit "$status"
fi
log "all tests passed"
