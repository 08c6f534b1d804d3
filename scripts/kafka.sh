#!/usr/bin/env bash
# Installs and runs Apache Kafka (KRaft), rafka's reference broker, from Maven Central.
#
#   scripts/kafka.sh install                 Java (Debian's headless JDK 17 when missing), Maven,
#                                            and the broker and tools jars in .kafka/<version>/libs
#   scripts/kafka.sh start [--nodes N]       format and start an N-node cluster (1 or 3; default 3),
#                       [--dir DIR]          every node a combined broker+controller, on loopback;
#                       [--port PORT]        returns once Metadata lists every broker
#                       [--no-wait] [--conf KEY=VALUE]...
#                       [--listener NAME:PROTOCOL=PORT]...
#   scripts/kafka.sh stop [--dir DIR]        stop every node of that cluster (SIGTERM, then SIGKILL)
#   scripts/kafka.sh node start|stop|kill ID [--dir DIR]   one node of a running cluster
#   scripts/kafka.sh bootstrap [--dir DIR]   print the cluster's bootstrap address list
#   scripts/kafka.sh tool CLASS [ARGS...]    run a Kafka tool by main class, e.g.
#                                            org.apache.kafka.tools.VerifiableConsumer --help
#   scripts/kafka.sh libs                    print the jar folder (for `java -cp 'DIR/*'`)
#
# Node i (1-based) of a cluster listens on PORT+i-1 (clients) and PORT+100+i-1 (controller).
# Defaults: PORT 39092 for 3 nodes, 29092 for 1 node; DIR .kafka/run-Nn. Each node logs to
# DIR/nI.log and keeps its data in DIR/nI/. Overrides: KAFKA_VERSION (4.4.0), JAVA_HOME, KAFKA_HEAP
# (512m), KAFKA_READY_TIMEOUT_S (120). `--conf` adds a broker setting to every node (a later
# one overrides an earlier). `--listener` adds a client listener NAME with security PROTOCOL
# (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL) on PORT+i-1 of node i, advertised as such; its
# settings go in `--conf listener.name.<name>.…`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KAFKA_VERSION="${KAFKA_VERSION:-4.4.0}"
KAFKA_DIR="$REPO_ROOT/.kafka"
LIBS="$KAFKA_DIR/$KAFKA_VERSION/libs"
POM="$REPO_ROOT/integration/kafka/pom.xml"
DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
HEAP="${KAFKA_HEAP:-512m}"
READY_TIMEOUT_S="${KAFKA_READY_TIMEOUT_S:-120}"

java_bin() {
    if [ -n "${JAVA_HOME:-}" ]; then
        echo "$JAVA_HOME/bin/java"
    else
        command -v java || echo java
    fi
}

ensure_java() {
    if [ -n "${JAVA_HOME:-}" ]; then
        [ -x "$JAVA_HOME/bin/java" ] || die "JAVA_HOME=$JAVA_HOME has no bin/java"
    elif ! command -v java >/dev/null; then
        apt_install openjdk-17-jre-headless
    fi
    command -v mvn >/dev/null || apt_install maven
    # Maven needs a JDK's javac only to build; copying dependencies runs on a JRE.
}

cmd_install() {
    if [ -f "$LIBS/.complete" ]; then
        return 0
    fi
    ensure_java
    mkdir -p "$LIBS"
    log "copying Apache Kafka $KAFKA_VERSION jars from Maven Central into $LIBS"
    mvn -B -q -f "$POM" -Dkafka.version="$KAFKA_VERSION" \
        "$DEPENDENCY_PLUGIN:copy-dependencies" -DincludeScope=runtime -DoutputDirectory="$LIBS" >&2 ||
        die "mvn could not copy the Kafka $KAFKA_VERSION jars (see above)"
    ls "$LIBS"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null || die "no kafka_2.13 jar in $LIBS"
    write_log4j_configs
    touch "$LIBS/.complete"
    log "installed $(find "$LIBS" -name '*.jar' | wc -l) jars"
}

# Brokers log INFO to their own file; tools log WARN to stderr, so that the verifiable tools'
# stdout stays pure JSON.
write_log4j_configs() {
    cat >"$KAFKA_DIR/$KAFKA_VERSION/log4j2-broker.yaml" <<'EOF'
Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: INFO
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: kafka.request.logger
        level: WARN
      - name: state.change.logger
        level: WARN
      - name: org.apache.kafka.controller
        level: INFO
EOF
    cat >"$KAFKA_DIR/$KAFKA_VERSION/log4j2-tools.yaml" <<'EOF'
Configuration:
  Appenders:
    Console:
      name: STDERR
      target: SYSTEM_ERR
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: WARN
      AppenderRef:
        - ref: STDERR
EOF
}

# JVM settings sized for a 2-core machine running several nodes and the tests beside them.
jvm_flags() {
    echo "-server -Xms128m -Xmx$HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:ParallelGCThreads=1"
    echo "-XX:ConcGCThreads=1 -XX:CICompilerCount=2 -Djava.awt.headless=true"
}

cmd_tool() {
    [ "$#" -ge 1 ] || die "usage: kafka.sh tool MAIN_CLASS [ARGS...]"
    cmd_install
    local class=$1
    shift
    # shellcheck disable=SC2046 # the flags are words
    exec "$(java_bin)" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
        -Dlog4j2.configurationFile="$KAFKA_DIR/$KAFKA_VERSION/log4j2-tools.yaml" \
        -cp "$LIBS/*" "$class" "$@"
}

# --- cluster layout -------------------------------------------------------------------------

NODES=""
DIR=""
PORT=""
WAIT=1
CONFS=()
LISTENERS=()

parse_cluster_args() {
    while [ "$#" -gt 0 ]; do
        case "$1" in
        --nodes) NODES=$2; shift 2 ;;
        --dir) DIR=$2; shift 2 ;;
        --port) PORT=$2; shift 2 ;;
        --no-wait) WAIT=0; shift ;;
        --conf) CONFS+=("$2"); shift 2 ;;
        --listener) LISTENERS+=("$2"); shift 2 ;;
        *) die "unknown argument $1" ;;
        esac
    done
    if [ -z "$DIR" ]; then
        DIR="$KAFKA_DIR/run-${NODES:-3}n"
    fi
    # A running cluster's layout wins over the arguments.
    if [ -f "$DIR/cluster.env" ]; then
        # shellcheck source=/dev/null
        source "$DIR/cluster.env"
    fi
    NODES="${NODES:-3}"
    case "$NODES" in 1 | 3) ;; *) die "--nodes must be 1 or 3 (got $NODES)" ;; esac
    if [ -z "$PORT" ]; then
        if [ "$NODES" = 1 ]; then PORT=29092; else PORT=39092; fi
    fi
}

broker_port() { echo $((PORT + $1 - 1)); }
controller_port() { echo $((PORT + 100 + $1 - 1)); }

bootstrap() {
    local i list=""
    for i in $(seq 1 "$NODES"); do
        list="${list:+$list,}127.0.0.1:$(broker_port "$i")"
    done
    echo "$list"
}

voters() {
    local i list=""
    for i in $(seq 1 "$NODES"); do
        list="${list:+$list,}$i@127.0.0.1:$(controller_port "$i")"
    done
    echo "$list"
}

write_node_config() {
    local id=$1 rf=$NODES min_isr=$((NODES > 1 ? 2 : 1))
    local file="$DIR/n$id.properties"
    local extra="" map="CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL"
    local l name proto lport
    for l in "${LISTENERS[@]}"; do
        name=${l%%:*} proto=${l#*:} proto=${proto%%=*} lport=${l##*=}
        [ -n "$name" ] && [ -n "$proto" ] && [ "$lport" -gt 0 ] 2>/dev/null ||
            die "--listener wants NAME:PROTOCOL=PORT (got $l)"
        extra="$extra,$name://127.0.0.1:$((lport + id - 1))"
        case ",$map," in *",$name:"*) ;; *) map="$map,$name:$proto" ;; esac
    done
    cat >"$file" <<EOF
process.roles=broker,controller
node.id=$id
controller.quorum.voters=$(voters)
listeners=PLAINTEXT://127.0.0.1:$(broker_port "$id"),CONTROLLER://127.0.0.1:$(controller_port "$id")$extra
advertised.listeners=PLAINTEXT://127.0.0.1:$(broker_port "$id")$extra
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=$map
log.dirs=$DIR/n$id/data
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$min_isr
transaction.state.log.num.partitions=3
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$min_isr
share.coordinator.state.topic.num.partitions=3
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=2
background.threads=4
num.recovery.threads.per.data.dir=1
num.replica.fetchers=1
group.coordinator.threads=1
share.coordinator.threads=1
log.cleaner.threads=1
log.cleaner.dedupe.buffer.size=16777216
log.segment.bytes=67108864
EOF
    local kv
    for kv in "${CONFS[@]}"; do
        echo "$kv" >>"$file"
    done
}

node_pid() {
    local f="$DIR/n$1.pid"
    [ -f "$f" ] || return 1
    local pid
    pid="$(cat "$f")"
    kill -0 "$pid" 2>/dev/null || return 1
    echo "$pid"
}

start_node() {
    local id=$1
    if node_pid "$id" >/dev/null; then
        return 0
    fi
    # shellcheck disable=SC2046 # the flags are words
    nohup "$(java_bin)" $(jvm_flags) \
        -Dlog4j2.configurationFile="$KAFKA_DIR/$KAFKA_VERSION/log4j2-broker.yaml" \
        -Dkafka.logs.dir="$DIR/n$id" \
        -cp "$LIBS/*" kafka.Kafka "$DIR/n$id.properties" >>"$DIR/n$id.log" 2>&1 </dev/null &
    echo $! >"$DIR/n$id.pid"
}

# Sends SIG to a node and, for TERM, waits up to 30 s before SIGKILL.
signal_node() {
    local id=$1 sig=$2 pid
    pid="$(node_pid "$id")" || { rm -f "$DIR/n$id.pid"; return 0; }
    kill "-$sig" "$pid" 2>/dev/null || true
    local waited=0
    while kill -0 "$pid" 2>/dev/null; do
        if [ "$waited" -ge 300 ]; then
            log "node $id did not stop in 30 s; SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    rm -f "$DIR/n$id.pid"
}

# Number of brokers a Metadata v4 request to PORT lists (0 when it does not answer).
metadata_broker_count() {
    python3 - "$1" <<'PY' 2>/dev/null || echo 0
import socket, struct, sys
port = int(sys.argv[1])
client = b"kafka.sh"
# Header v1: api_key 3 (Metadata), version 4, correlation id, client id; body: no topics, no
# auto-creation.
body = struct.pack(">hhih", 3, 4, 0x4B41, len(client)) + client + struct.pack(">ib", 0, 0)
with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
    s.sendall(struct.pack(">i", len(body)) + body)
    buf = b""
    while len(buf) < 16:
        chunk = s.recv(65536)
        if not chunk:
            raise SystemExit(1)
        buf += chunk
size, corr, throttle, brokers = struct.unpack(">iiii", buf[:16])
print(brokers if corr == 0x4B41 else 0)
PY
}

wait_ready() {
    local deadline=$((SECONDS + READY_TIMEOUT_S)) i
    for i in $(seq 1 "$NODES"); do
        while [ "$(metadata_broker_count "$(broker_port "$i")")" != "$NODES" ]; do
            if ! node_pid "$i" >/dev/null; then
                tail -n 30 "$DIR/n$i.log" >&2 || true
                die "node $i exited while starting (log: $DIR/n$i.log)"
            fi
            if [ "$SECONDS" -ge "$deadline" ]; then
                tail -n 30 "$DIR/n$i.log" >&2 || true
                die "node $i did not list $NODES brokers within ${READY_TIMEOUT_S}s (log: $DIR/n$i.log)"
            fi
            sleep 0.25
        done
    done
}

cmd_start() {
    parse_cluster_args "$@"
    cmd_install
    ensure_python
    mkdir -p "$DIR"
    if [ ! -f "$DIR/cluster.env" ]; then
        local cluster_id
        cluster_id="$("$(java_bin)" -cp "$LIBS/*" \
            -Dlog4j2.configurationFile="$KAFKA_DIR/$KAFKA_VERSION/log4j2-tools.yaml" \
            kafka.tools.StorageTool random-uuid)"
        printf 'NODES=%s\nPORT=%s\nCLUSTER_ID=%s\n' "$NODES" "$PORT" "$cluster_id" >"$DIR/cluster.env"
    fi
    # shellcheck source=/dev/null
    source "$DIR/cluster.env"
    local i started=$SECONDS
    for i in $(seq 1 "$NODES"); do
        write_node_config "$i"
        if [ ! -f "$DIR/n$i/data/meta.properties" ]; then
            mkdir -p "$DIR/n$i"
            "$(java_bin)" -Xmx256m -XX:TieredStopAtLevel=1 -cp "$LIBS/*" \
                -Dlog4j2.configurationFile="$KAFKA_DIR/$KAFKA_VERSION/log4j2-tools.yaml" \
                kafka.tools.StorageTool format -t "$CLUSTER_ID" -c "$DIR/n$i.properties" \
                --ignore-formatted >"$DIR/n$i/format.log" 2>&1 ||
                { cat "$DIR/n$i/format.log" >&2; die "formatting node $i failed"; }
        fi
    done
    for i in $(seq 1 "$NODES"); do
        start_node "$i"
    done
    if [ "$WAIT" = 1 ]; then
        wait_ready
        log "Apache Kafka $KAFKA_VERSION, $NODES node(s) ready in $((SECONDS - started)) s: $(bootstrap)"
    fi
    bootstrap
}

cmd_stop() {
    parse_cluster_args "$@"
    [ -d "$DIR" ] || return 0
    local i
    # All at once: a lone last node waits for a controller quorum that is gone.
    for i in $(seq 1 "$NODES"); do
        if pid="$(node_pid "$i")"; then kill -TERM "$pid" 2>/dev/null || true; fi
    done
    for i in $(seq 1 "$NODES"); do
        signal_node "$i" TERM
    done
}

cmd_node() {
    [ "$#" -ge 2 ] || die "usage: kafka.sh node start|stop|kill ID [--dir DIR]"
    local action=$1 id=$2
    shift 2
    parse_cluster_args "$@"
    [ -f "$DIR/cluster.env" ] || die "no cluster in $DIR (kafka.sh start first)"
    case "$action" in
    start) start_node "$id" ;;
    stop) signal_node "$id" TERM ;;
    kill) signal_node "$id" KILL ;;
    *) die "unknown node action $action" ;;
    esac
}

case "${1:-}" in
install) cmd_install ;;
start) shift; cmd_start "$@" ;;
stop) shift; cmd_stop "$@" ;;
node) shift; cmd_node "$@" ;;
bootstrap) shift; parse_cluster_args "$@"; bootstrap ;;
tool) shift; cmd_tool "$@" ;;
libs) cmd_install; echo "$LIBS" ;;
*) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
