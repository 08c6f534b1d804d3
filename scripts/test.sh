#!/usr/bin/env bash
# THE test command: installs what is missing, starts Tansu and the offset-store services, runs
# every test of the workspace (unit, integration, interop, doctests), and stops everything.
#
#   bash scripts/test.sh                     # the whole workspace
#   bash scripts/test.sh -p rafka-wire       # extra arguments go to cargo nextest / cargo test
#
# Environment the tests read (all set here):
#   RAFKA_TEST_BROKERS      shared Tansu broker, 127.0.0.1:$RAFKA_TEST_PORT (19092)
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

cleanup() {
    local rc=$?
    if [ "${RAFKA_KEEP_SERVICES:-0}" != 1 ]; then
        bash scripts/tansu.sh stop || true
        bash scripts/services.sh stop || true
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export RAFKA_TEST_PORT="${RAFKA_TEST_PORT:-19092}"
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

log "RAFKA_TEST_BROKERS=$RAFKA_TEST_BROKERS TANSU_BIN=$TANSU_BIN RAFKA_TEST_PYTHON=$RAFKA_TEST_PYTHON"

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
# nextest does not run doctests, and `cargo test --lib --bins --tests` skips them too.
log "cargo test --doc $*"
cargo test --doc --no-fail-fast "$@" || fail $?
if [ "$status" -ne 0 ]; then
    log "FAILED (exit $status)"
    exit "$status"
fi
log "all tests passed"
