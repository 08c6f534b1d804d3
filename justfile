# rafka task runner. `just --list` shows the recipes.

# Broker port for broker-start / broker-stop (the same default as scripts/test.sh).
export RAFKA_TEST_PORT := env_var_or_default("RAFKA_TEST_PORT", "19092")

default:
    @just --list

# The main job: the rafka demo against a local Tansu broker.
demo *ARGS:
    cargo run --release -p rafka-cli -- demo {{ARGS}}

# Every test: deps, broker, services, unit + integration + interop + doctests.
test *ARGS:
    bash scripts/test.sh {{ARGS}}

# Benchmarks: criterion (codec, response guard, assignors) and the throughput harness against librdkafka and
# rskafka; rewrites docs/benchmarks.md and docs/throughput.png. `just bench --quick` for a smoke run.
bench *ARGS:
    bash scripts/bench.sh {{ARGS}}

# Fuzz a target for SECONDS (needs nightly and cargo-fuzz; targets live in fuzz/, outside the workspace).
fuzz TARGET="" SECONDS="60":
    #!/usr/bin/env bash
    set -euo pipefail
    cd fuzz
    if [ -z "{{TARGET}}" ]; then cargo +nightly fuzz list; exit 0; fi
    cargo +nightly fuzz run {{TARGET}} -- -max_total_time={{SECONDS}}

# Formatting, clippy and rustdoc, all with warnings as errors; the library crates also without
# their default features; then cargo-deny (scripts/deny.sh: advisories when the RustSec database
# can be fetched, licenses, bans, sources).
lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings
    cargo clippy -p rafka-wire -p rafka-client -p rafka-producer -p rafka-consumer -p rafka --no-default-features -- -D warnings
    RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps
    bash scripts/deny.sh
    python3 scripts/module-cycles.py

# Start the shared Tansu broker on 127.0.0.1:$RAFKA_TEST_PORT.
broker-start:
    bash scripts/tansu.sh start

# Stop the shared Tansu broker.
broker-stop:
    bash scripts/tansu.sh stop
