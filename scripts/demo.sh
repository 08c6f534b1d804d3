#!/usr/bin/env bash
# The main job (README command 1): the rafka demo, run through `just demo`.
# Installs `just` (from the rust-just wheel) and Rust when they are missing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

ensure_cargo
ensure_just
exec just demo "$@"
