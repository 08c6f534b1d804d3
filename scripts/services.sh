#!/usr/bin/env bash
# Runs PostgreSQL, MariaDB and Redis for the offset-store tests, on loopback and on non-default
# ports, with all their files under .services/. Each gets a database/user `rafka` (password
# `rafka`).
#
#   scripts/services.sh start   start what is not running, then print the env lines
#   scripts/services.sh stop    stop all three
#   scripts/services.sh env     print the env lines
#
# `start` writes .services/env for sourcing:
#   RAFKA_TEST_POSTGRES_URL=postgres://rafka:rafka@127.0.0.1:$RAFKA_PG_PORT/rafka       (15432)
#   RAFKA_TEST_MYSQL_URL=mysql://rafka:rafka@127.0.0.1:$RAFKA_MYSQL_PORT/rafka          (13306)
#   RAFKA_TEST_REDIS_URL=redis://rafka:rafka@127.0.0.1:$RAFKA_REDIS_PORT/0              (16379)
# The packages come from scripts/deps.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SVC_DIR="$REPO_ROOT/.services"
PG_PORT="${RAFKA_PG_PORT:-15432}"
MYSQL_PORT="${RAFKA_MYSQL_PORT:-13306}"
REDIS_PORT="${RAFKA_REDIS_PORT:-16379}"
PG_DIR="$SVC_DIR/postgres"
MY_DIR="$SVC_DIR/mariadb"
REDIS_DIR="$SVC_DIR/redis"
MY_SOCK="$MY_DIR/mysqld.sock"
# Unix socket paths must stay under ~107 bytes: a deep checkout puts them outside the repo.
if [ "${#MY_SOCK}" -gt 100 ] || [ "$((${#PG_DIR} + 20))" -gt 100 ]; then
    MY_SOCK="$(short_state_dir)/mysqld.sock"
    PG_DIR="$(short_state_dir)/postgres"
fi

# ---------- PostgreSQL ----------

pg_bin() {
    local d
    d="$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n1)"
    [ -n "$d" ] || die "PostgreSQL is not installed (run scripts/deps.sh)"
    echo "$d/$1"
}

# PostgreSQL refuses to run as root, so as root it runs as `postgres` in a directory it owns.
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

pg_start() {
    mkdir -p "$PG_DIR"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$PG_DIR"
        # The postgres user must reach its directory through the repo path; a checkout under
        # /root (mode 700) does not allow that, so the data goes outside the repo instead.
        if ! as_pg test -w "$PG_DIR"; then
            PG_DIR="$(short_state_dir)/postgres"
            mkdir -p "$PG_DIR"
            chmod 755 "$(short_state_dir)"
            chown postgres: "$PG_DIR"
            log "postgres cannot reach the repo; its data lives in $PG_DIR"
        fi
    fi
    if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
        log "initdb $PG_DIR/data"
        as_pg "$(pg_bin initdb)" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 >"$PG_DIR/initdb.log" 2>&1 ||
            { cat "$PG_DIR/initdb.log" >&2; die "initdb failed"; }
    fi
    if as_pg "$(pg_bin pg_ctl)" -D "$PG_DIR/data" status >/dev/null 2>&1; then
        log "postgres already running on port $PG_PORT"
    else
        log "starting postgres on 127.0.0.1:$PG_PORT"
        as_pg "$(pg_bin pg_ctl)" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 60 \
            -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1" start >/dev/null ||
            { tail -n 20 "$PG_DIR/postgres.log" >&2; die "postgres did not start"; }
    fi
    local psql=("$(pg_bin psql)" -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1)
    if [ "$(as_pg "${psql[@]}" -tAc "SELECT 1 FROM pg_roles WHERE rolname='rafka'")" != 1 ]; then
        as_pg "${psql[@]}" -c "CREATE ROLE rafka LOGIN PASSWORD 'rafka'"
    fi
    if [ "$(as_pg "${psql[@]}" -tAc "SELECT 1 FROM pg_database WHERE datname='rafka'")" != 1 ]; then
        as_pg "${psql[@]}" -c "CREATE DATABASE rafka OWNER rafka"
    fi
}

pg_stop() {
    if [ ! -f "$PG_DIR/data/PG_VERSION" ] && [ -f "$(short_state_dir)/postgres/data/PG_VERSION" ]; then
        PG_DIR="$(short_state_dir)/postgres"
    fi
    [ -f "$PG_DIR/data/PG_VERSION" ] || return 0
    if as_pg "$(pg_bin pg_ctl)" -D "$PG_DIR/data" status >/dev/null 2>&1; then
        as_pg "$(pg_bin pg_ctl)" -D "$PG_DIR/data" -m fast -w stop >/dev/null
        log "stopped postgres"
    fi
}

# ---------- MariaDB ----------

my_alive() {
    mariadb-admin --no-defaults --socket="$MY_SOCK" -uroot ping >/dev/null 2>&1
}

my_start() {
    command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || die "MariaDB is not installed (run scripts/deps.sh)"
    local mariadbd
    mariadbd="$(command -v mariadbd || echo /usr/sbin/mariadbd)"
    mkdir -p "$MY_DIR" "$(dirname "$MY_SOCK")"
    if [ ! -d "$MY_DIR/data/mysql" ]; then
        log "mariadb-install-db $MY_DIR/data"
        mariadb-install-db --no-defaults --datadir="$MY_DIR/data" --user="$(id -un)" \
            --auth-root-authentication-method=normal --skip-test-db >"$MY_DIR/install.log" 2>&1 ||
            { cat "$MY_DIR/install.log" >&2; die "mariadb-install-db failed"; }
    fi
    if my_alive; then
        log "mariadb already running on port $MYSQL_PORT"
    else
        log "starting mariadb on 127.0.0.1:$MYSQL_PORT"
        setsid "$mariadbd" --no-defaults --datadir="$MY_DIR/data" --socket="$MY_SOCK" \
            --port="$MYSQL_PORT" --bind-address=127.0.0.1 --pid-file="$MY_DIR/mariadbd.pid" \
            --log-error="$MY_DIR/mariadbd.err" --user="$(id -un)" --skip-name-resolve \
            >/dev/null 2>&1 </dev/null &
        local deadline=$((SECONDS + 60))
        until my_alive; do
            [ "$SECONDS" -lt "$deadline" ] || { tail -n 20 "$MY_DIR/mariadbd.err" >&2; die "mariadb did not start"; }
            sleep 0.2
        done
    fi
    mariadb --no-defaults --socket="$MY_SOCK" -uroot -e "
        CREATE DATABASE IF NOT EXISTS rafka;
        CREATE USER IF NOT EXISTS 'rafka'@'%' IDENTIFIED BY 'rafka';
        CREATE USER IF NOT EXISTS 'rafka'@'localhost' IDENTIFIED BY 'rafka';
        GRANT ALL ON rafka.* TO 'rafka'@'%';
        GRANT ALL ON rafka.* TO 'rafka'@'localhost';"
}

my_stop() {
    if my_alive; then
        mariadb-admin --no-defaults --socket="$MY_SOCK" -uroot shutdown >/dev/null 2>&1 || true
        log "stopped mariadb"
    fi
}

# ---------- Redis ----------

redis_alive() {
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG
}

redis_start() {
    command -v redis-server >/dev/null || die "Redis is not installed (run scripts/deps.sh)"
    mkdir -p "$REDIS_DIR"
    if redis_alive; then
        log "redis already running on port $REDIS_PORT"
    else
        log "starting redis on 127.0.0.1:$REDIS_PORT"
        # No persistence: the tests create what they need.
        redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --dir "$REDIS_DIR" \
            --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" \
            --save '' --appendonly no >/dev/null
        local deadline=$((SECONDS + 30))
        until redis_alive; do
            [ "$SECONDS" -lt "$deadline" ] || { tail -n 20 "$REDIS_DIR/redis.log" >&2; die "redis did not start"; }
            sleep 0.1
        done
    fi
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ACL SETUSER rafka on '>rafka' '~*' '&*' '+@all' >/dev/null
}

redis_stop() {
    if redis_alive; then
        redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
        log "stopped redis"
    fi
}

# ---------- env ----------

print_env() {
    cat <<ENV
export RAFKA_TEST_POSTGRES_URL=postgres://rafka:rafka@127.0.0.1:$PG_PORT/rafka
export RAFKA_TEST_MYSQL_URL=mysql://rafka:rafka@127.0.0.1:$MYSQL_PORT/rafka
export RAFKA_TEST_REDIS_URL=redis://rafka:rafka@127.0.0.1:$REDIS_PORT/0
ENV
}

case "${1:-}" in
    start)
        mkdir -p "$SVC_DIR"
        echo '*' >"$SVC_DIR/.gitignore" # self-ignoring: data, logs, sockets
        pg_start
        my_start
        redis_start
        print_env >"$SVC_DIR/env"
        print_env
        ;;
    stop)
        redis_stop
        my_stop
        pg_stop
        ;;
    env) print_env ;;
    *)
        echo "usage: $0 start|stop|env" >&2
        exit 2
        ;;
esac
