#!/usr/bin/env python3
"""Capture golden Kafka frames from a real client (librdkafka, via confluent-kafka) talking to
a real broker (Tansu), through a logging TCP proxy.

    pip install confluent-kafka==2.16.*   # librdkafka 2.16
    python3 protocol-tests/scripts/capture.py [--tansu PATH] [--out protocol-tests/fixtures/frames]

Tansu listens on 127.0.0.1:19101 and advertises the proxy (127.0.0.1:19102), so every
connection the client opens after bootstrap goes through the proxy too. Each request and
response frame is written without its 4-byte size prefix as
`NNN-<api key>-<api name>-v<version>-<req|resp>.bin`; a response carries the version of its
request. Only the first frame of each (api, version, direction) is kept, except Produce
requests and Fetch responses with records, which are kept per distinct content (one per codec
and scenario), so the fixture set stays small.
"""
import argparse
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time

BROKER_PORT = 19101
PROXY_PORT = 19102
API_NAMES = {
    0: "produce", 1: "fetch", 2: "list_offsets", 3: "metadata", 8: "offset_commit",
    9: "offset_fetch", 10: "find_coordinator", 11: "join_group", 12: "heartbeat",
    13: "leave_group", 14: "sync_group", 15: "describe_groups", 16: "list_groups",
    17: "sasl_handshake", 18: "api_versions", 19: "create_topics", 20: "delete_topics",
    22: "init_producer_id", 24: "add_partitions_to_txn", 25: "add_offsets_to_txn",
    26: "end_txn", 28: "txn_offset_commit", 32: "describe_configs", 36: "sasl_authenticate",
    60: "describe_cluster", 71: "get_telemetry_subscriptions", 75: "describe_topic_partitions",
}
CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]


class Recorder:
    """Collects frames from every proxied connection, in arrival order."""

    def __init__(self):
        self.lock = threading.Lock()
        self.frames = []  # (api_key, version, direction, payload)
        self.pending = {}  # (conn, correlation id) -> (api_key, version)

    def request(self, conn, payload):
        api_key, version, corr = struct.unpack(">hhi", payload[:8])
        with self.lock:
            self.pending[(conn, corr)] = (api_key, version)
            self.frames.append((api_key, version, "req", payload))

    def response(self, conn, payload):
        (corr,) = struct.unpack(">i", payload[:4])
        with self.lock:
            key = self.pending.pop((conn, corr), None)
            if key is not None:
                self.frames.append((key[0], key[1], "resp", payload))


def pump(src, dst, on_frame):
    buf = b""
    try:
        while True:
            chunk = src.recv(65536)
            if not chunk:
                break
            dst.sendall(chunk)
            buf += chunk
            while len(buf) >= 4:
                (size,) = struct.unpack(">i", buf[:4])
                if len(buf) < 4 + size:
                    break
                on_frame(buf[4:4 + size])
                buf = buf[4 + size:]
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def proxy(recorder, stop):
    server = socket.create_server(("127.0.0.1", PROXY_PORT), reuse_port=True)
    server.settimeout(0.2)
    conn_id = 0
    while not stop.is_set():
        try:
            client, _ = server.accept()
        except socket.timeout:
            continue
        conn_id += 1
        broker = socket.create_connection(("127.0.0.1", BROKER_PORT))
        cid = conn_id
        threading.Thread(target=pump, args=(client, broker, lambda p, c=cid: recorder.request(c, p)), daemon=True).start()
        threading.Thread(target=pump, args=(broker, client, lambda p, c=cid: recorder.response(c, p)), daemon=True).start()
    server.close()


def wait_for_port(port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"nothing listens on {port}")


def records(tag):
    """Ten records: keyed and keyless, a tombstone, duplicate and null headers."""
    out = []
    for i in range(10):
        key = None if i % 3 == 2 else f"{tag}-key-{i}".encode()
        value = None if i == 7 else (f"value {i} of {tag}: " + "lorem ipsum dolor " * 3).encode()
        headers = [("h", b"one"), ("h", None), ("trace", str(i).encode())] if i % 2 == 0 else None
        out.append((key, value, headers))
    return out


def run_client():
    from confluent_kafka import Consumer, Producer, TopicPartition

    bootstrap = f"127.0.0.1:{PROXY_PORT}"
    expected = {}
    for codec in CODECS:
        topic = f"golden-{codec}"
        p = Producer({"bootstrap.servers": bootstrap, "compression.type": codec, "linger.ms": 200,
                      "enable.idempotence": False, "acks": "all"})
        for key, value, headers in records(codec):
            p.produce(topic, key=key, value=value, headers=headers, partition=0,
                      timestamp=1_700_000_000_000 + len(expected.get(topic, [])))
            expected.setdefault(topic, []).append(value)
        assert p.flush(30) == 0, f"{topic}: undelivered"

    # Idempotent producer: producer id, epoch and sequence in the batch header.
    p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 200})
    for key, value, headers in records("idempotent")[:5]:
        p.produce("golden-idempotent", key=key, value=value, headers=headers, partition=0)
    assert p.flush(30) == 0

    # Transactions: one committed, one aborted, so the log holds both control markers.
    p = Producer({"bootstrap.servers": bootstrap, "transactional.id": "golden-txn", "linger.ms": 50})
    p.init_transactions(30)
    for outcome in ("commit", "abort"):
        p.begin_transaction()
        for i in range(3):
            p.produce("golden-txn", key=f"{outcome}-{i}".encode(), value=b"txn value", partition=0)
        p.flush(30)
        if outcome == "commit":
            p.commit_transaction(30)
        else:
            p.abort_transaction(30)

    # Read everything back (Fetch responses with each codec and the markers).
    topics = [f"golden-{c}" for c in CODECS] + ["golden-idempotent", "golden-txn"]
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "golden-reader", "enable.auto.commit": False,
                  "isolation.level": "read_uncommitted", "fetch.wait.max.ms": 100})
    c.assign([TopicPartition(t, 0, 0) for t in topics])
    want = 10 * len(CODECS) + 5 + 6
    got = 0
    deadline = time.time() + 30
    while got < want and time.time() < deadline:
        m = c.poll(0.5)
        if m is not None and m.error() is None:
            got += 1
    c.close()
    print(f"consumed {got}/{want}")

    # A subscribing group member: JoinGroup, SyncGroup, OffsetFetch, OffsetCommit, Heartbeat.
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "golden-group", "session.timeout.ms": 6000,
                  "auto.offset.reset": "earliest", "heartbeat.interval.ms": 500})
    c.subscribe(["golden-none"])
    deadline = time.time() + 30
    seen = 0
    while seen < 10 and time.time() < deadline:
        m = c.poll(0.5)
        if m is not None and m.error() is None:
            seen += 1
    c.commit(asynchronous=False)
    time.sleep(1.5)  # let a heartbeat go by
    c.close()
    print(f"group member consumed {seen}/10")


def write_fixtures(recorder, out_dir):
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    os.makedirs(out_dir)
    seen = set()
    kept = 0
    total = 0
    fetches = 0
    for api_key, version, direction, payload in recorder.frames:
        with_records = (api_key == 0 and direction == "req") or (api_key == 1 and direction == "resp" and len(payload) > 300)
        if with_records:
            # the content after the correlation id (and client id for requests)
            key = (api_key, version, direction, payload[8:] if direction == "req" else payload[4:])
            fetches += api_key == 1
            if fetches > 12:
                continue
        else:
            key = (api_key, version, direction)
        if key in seen:
            continue
        seen.add(key)
        name = API_NAMES.get(api_key, f"api{api_key}")
        path = os.path.join(out_dir, f"{kept:03}-{api_key:02}-{name}-v{version}-{direction}.bin")
        with open(path, "wb") as f:
            f.write(payload)
        kept += 1
        total += len(payload)
    print(f"wrote {kept} frames, {total} bytes, to {out_dir}")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--tansu", default=os.path.join(here, "..", "..", ".tansu", "bin", "tansu"))
    ap.add_argument("--out", default=os.path.join(here, "..", "fixtures", "frames"))
    args = ap.parse_args()

    broker = subprocess.Popen(
        [args.tansu, "broker", "--listener-url", f"tcp://127.0.0.1:{BROKER_PORT}",
         "--advertised-listener-url", f"tcp://127.0.0.1:{PROXY_PORT}", "--storage-engine", "memory://tansu/"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    recorder = Recorder()
    stop = threading.Event()
    try:
        wait_for_port(BROKER_PORT)
        threading.Thread(target=proxy, args=(recorder, stop), daemon=True).start()
        wait_for_port(PROXY_PORT)
        run_client()
    finally:
        stop.set()
        broker.terminate()
        broker.wait(10)
    write_fixtures(recorder, args.out)


if __name__ == "__main__":
    main()
