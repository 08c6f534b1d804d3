//! isolation.level against real aborted transactions, written by librdkafka (confluent-kafka
//! 2.16) and by rafka's own producer, on the test broker (the shared Apache Kafka cluster, or
//! Tansu with `RAFKA_TEST_TARGET=tansu`).
//!
//! Kafka semantics: under read_committed the broker lists aborted transactions in the Fetch
//! response and returns records only up to the last stable offset; the client drops the
//! aborted batches. On Kafka rafka and librdkafka must both return c1 c2 c3 under
//! read_committed and all five records under read_uncommitted. Tansu sends an empty
//! aborted-transactions list, so no client can filter aborted records there, not librdkafka
//! either: on Tansu the tests pin that rafka returns what librdkafka returns. (Tansu does stop
//! read_committed fetches at an open transaction: its last stable offset is right.) Transaction markers (control records) are never
//! returned.

mod consumer_common;

use std::time::Duration;

use consumer_common::*;
use rafka::consumer::{Consumer, IsolationLevel};
use rafka::producer::{Producer, ProducerConfig, ProducerRecord};
use rafka::wire::TopicPartition;
use rafka_integration::python::{require_python, run_python_async};
use rafka_integration::TestTarget;

const WAIT: Duration = Duration::from_secs(20);

/// Consumes partition 0 from the start with librdkafka and prints one value per line.
const RDKAFKA_CONSUME: &str = r#"
import sys, time
from confluent_kafka import Consumer, TopicPartition
brokers, topic, isolation, group = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
c = Consumer({"bootstrap.servers": brokers, "group.id": group,
              "isolation.level": isolation, "enable.auto.commit": False,
              "auto.offset.reset": "earliest"})
c.assign([TopicPartition(topic, 0, 0)])
got, idle, deadline = [], 0, time.time() + 15
while time.time() < deadline and idle < 5:
    m = c.poll(0.3)
    if m is not None and m.error() is None:
        got.append(m.value().decode())
        idle = 0
    elif got:
        idle += 1
c.close()
print("\n".join(got))
"#;

/// Commits c1 c2, aborts a1 a2, commits c3, all to partition 0.
const TRANSACTIONS: &str = r#"
import sys
from confluent_kafka import Producer
brokers, topic, transactional_id = sys.argv[1], sys.argv[2], sys.argv[3]
p = Producer({"bootstrap.servers": brokers, "transactional.id": transactional_id,
              "enable.idempotence": True, "linger.ms": 0})
p.init_transactions(30)
for values, commit in ((["c1", "c2"], True), (["a1", "a2"], False), (["c3"], True)):
    p.begin_transaction()
    for v in values:
        p.produce(topic, value=v.encode(), partition=0)
    p.flush(30)
    if commit:
        p.commit_transaction(30)
    else:
        p.abort_transaction(30)
print("done")
"#;

/// The values on partition 0 read with rafka under `isolation`: `expected` of them, then
/// anything else that comes within half a second.
async fn consume_all(
    addr: &str,
    topic: &str,
    isolation: IsolationLevel,
    expected: usize,
) -> Vec<String> {
    let mut consumer = Consumer::new(
        config(addr, None)
            .isolation_level(isolation)
            .build()
            .unwrap(),
    )
    .unwrap();
    consumer.assign(&[TopicPartition::new(topic, 0)]).unwrap();
    let mut records = poll_n(&mut consumer, expected, WAIT).await;
    // Anything beyond the expected count would show up now.
    records.extend(consumer.poll(Duration::from_millis(500)).await.unwrap());
    values(&records)
}

/// The values on partition 0 read with librdkafka under `isolation`
/// (`read_committed` / `read_uncommitted`).
async fn rdkafka_consume(t: &TestTarget, topic: &str, isolation: &str) -> Vec<String> {
    let group = t.group(&format!("rc-rdkafka-{isolation}"));
    let out = run_python_async(RDKAFKA_CONSUME, &[&t.addr(), topic, isolation, &group])
        .await
        .unwrap();
    out.lines().map(str::to_string).collect()
}

/// Reads the topic both ways with rafka and librdkafka and checks Kafka's semantics (Tansu's
/// departure on Tansu).
async fn check_isolation_levels(t: &TestTarget, topic: &str) {
    let all = ["c1", "c2", "a1", "a2", "c3"];
    let uncommitted = consume_all(&t.addr(), topic, IsolationLevel::ReadUncommitted, 5).await;
    assert_eq!(uncommitted, all, "control records are never returned");
    let committed = if t.is_kafka() {
        let committed = consume_all(&t.addr(), topic, IsolationLevel::ReadCommitted, 3).await;
        assert_eq!(committed, ["c1", "c2", "c3"], "aborted records dropped");
        committed
    } else {
        // Tansu lists no aborted transactions: a1, a2 come through, for librdkafka too.
        let committed = consume_all(&t.addr(), topic, IsolationLevel::ReadCommitted, 5).await;
        assert_eq!(committed, all);
        committed
    };
    assert_eq!(
        rdkafka_consume(t, topic, "read_uncommitted").await,
        uncommitted
    );
    assert_eq!(rdkafka_consume(t, topic, "read_committed").await, committed);
}

#[tokio::test]
async fn isolation_levels_match_librdkafka_over_librdkafka_transactions() {
    if require_python().is_none() {
        return;
    }
    let t = target();
    let topic = t.topic("rc");
    create_topic(&t, &topic, 1);
    let out = run_python_async(
        TRANSACTIONS,
        &[&t.addr(), &topic, &t.group("rafka-rc-test")],
    )
    .await
    .unwrap();
    assert!(out.contains("done"), "{out}");
    check_isolation_levels(&t, &topic).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn isolation_levels_match_librdkafka_over_rafka_transactions() {
    if require_python().is_none() {
        return;
    }
    let t = target();
    let topic = t.topic("rc-rafka");
    create_topic(&t, &topic, 1);
    let producer = Producer::new(
        ProducerConfig::builder(&t.addr())
            .transactional_id(t.group("rafka-rc-producer"))
            .max_block(Duration::from_secs(20))
            .request_timeout(Duration::from_secs(10))
            .delivery_timeout(Duration::from_secs(30))
            .build()
            .unwrap(),
    )
    .unwrap();
    producer.init_transactions().await.unwrap();
    for (values, commit) in [
        (&["c1", "c2"][..], true),
        (&["a1", "a2"][..], false),
        (&["c3"][..], true),
    ] {
        producer.begin_transaction().unwrap();
        let mut deliveries = Vec::new();
        for v in values {
            let record = ProducerRecord::new(&topic).partition(0).value(*v);
            deliveries.push(producer.send(record).await.unwrap());
        }
        producer.flush().await;
        for d in deliveries {
            d.await.unwrap();
        }
        if commit {
            producer.commit_transaction().await.unwrap();
        } else {
            producer.abort_transaction().await.unwrap();
        }
    }
    producer.close(Duration::from_secs(10)).await.unwrap();
    check_isolation_levels(&t, &topic).await;
}

/// An open transaction: the broker holds read_committed consumers at the last stable offset
/// (the first offset of the open transaction) until it commits. The lag is measured from there,
/// as in Java (`currentLag` = last stable offset − position under read_committed), and on Kafka
/// so is the end (`seekToEnd` = ListOffsets(latest) under read_committed), while
/// read_uncommitted sees up to the high watermark. Tansu holds the open transaction back too,
/// but answers ListOffsets(latest) under read_committed with offset 0 (seen here, see
/// docs/brokers.md); pinned on Tansu.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_transaction_holds_read_committed_at_the_last_stable_offset() {
    let t = target();
    let topic = t.topic("rc-open");
    create_topic(&t, &topic, 1);
    let tp = TopicPartition::new(&topic, 0);
    let producer = Producer::new(
        ProducerConfig::builder(&t.addr())
            .transactional_id(t.group("rafka-rc-open"))
            .max_block(Duration::from_secs(20))
            .request_timeout(Duration::from_secs(10))
            .delivery_timeout(Duration::from_secs(30))
            .build()
            .unwrap(),
    )
    .unwrap();
    producer.init_transactions().await.unwrap();
    let send = |value: &'static str| {
        let producer = &producer;
        let record = ProducerRecord::new(&topic).partition(0).value(value);
        async move {
            let delivery = producer.send(record).await.unwrap();
            producer.flush().await;
            delivery.await.unwrap().offset
        }
    };
    // c1 at 0, its commit marker at 1; the open transaction's o1 at 2.
    producer.begin_transaction().unwrap();
    assert_eq!(send("c1").await, 0);
    producer.commit_transaction().await.unwrap();
    producer.begin_transaction().unwrap();
    assert_eq!(send("o1").await, 2);

    let consumer = |isolation| {
        let mut c = Consumer::new(
            config(&t.addr(), None)
                .isolation_level(isolation)
                .build()
                .unwrap(),
        )
        .unwrap();
        c.assign(std::slice::from_ref(&tp)).unwrap();
        c
    };
    let mut uncommitted = consumer(IsolationLevel::ReadUncommitted);
    let mut committed = consumer(IsolationLevel::ReadCommitted);
    assert_eq!(
        values(&poll_n(&mut uncommitted, 2, WAIT).await),
        ["c1", "o1"]
    );
    assert_eq!(uncommitted.lag(&tp), Some(0));

    // c1's commit marker is the last stable record: the last stable offset is the open
    // transaction's first offset, 2, and o1 stays hidden.
    let records = poll_n(&mut committed, 1, WAIT).await;
    assert_eq!(values(&records), ["c1"]);
    assert!(committed
        .poll(Duration::from_millis(1_000))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(committed.position(&tp).await.unwrap(), 2);
    assert_eq!(committed.high_watermark(&tp), Some(3));
    assert_eq!(
        committed.lag(&tp),
        Some(0),
        "read_committed lag is last stable offset - position, as Java's currentLag"
    );
    committed.seek_to_end(std::slice::from_ref(&tp)).unwrap();
    let end = if t.is_kafka() { 2 } else { 0 };
    assert_eq!(
        committed.position(&tp).await.unwrap(),
        end,
        "end under read_committed: the last stable offset (Tansu: 0)"
    );
    committed.seek(&tp, 2).unwrap();
    uncommitted.seek_to_end(std::slice::from_ref(&tp)).unwrap();
    assert_eq!(
        uncommitted.position(&tp).await.unwrap(),
        3,
        "end = high watermark"
    );

    // The commit makes o1 readable (marker at 3).
    producer.commit_transaction().await.unwrap();
    let records = poll_n(&mut committed, 1, WAIT).await;
    assert_eq!(values(&records), ["o1"]);
    producer.close(Duration::from_secs(10)).await.unwrap();
}
