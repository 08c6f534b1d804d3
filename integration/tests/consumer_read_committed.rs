//! isolation.level against transactions written by librdkafka (confluent-kafka 2.16) into
//! Tansu.
//!
//! Kafka semantics: under read_committed the broker lists aborted transactions in the Fetch
//! response and the client drops their batches (rafka's fetcher unit tests check that with
//! Kafka-shaped responses). Tansu sends an empty aborted-transactions list (and a last stable
//! offset equal to the high watermark), so no client can filter aborted records there — not
//! librdkafka either. These tests pin that: rafka returns what librdkafka returns, under both
//! isolation levels, and transaction markers (control records) are never returned.

mod consumer_common;

use std::time::Duration;

use consumer_common::*;
use rafka::consumer::{Consumer, IsolationLevel};
use rafka::wire::TopicPartition;
use rafka_integration::python::{require_python, run_python_async};

const WAIT: Duration = Duration::from_secs(20);

/// Consumes partition 0 from the start with librdkafka and prints one value per line.
const RDKAFKA_CONSUME: &str = r#"
import sys, time
from confluent_kafka import Consumer, TopicPartition
brokers, topic, isolation = sys.argv[1], sys.argv[2], sys.argv[3]
c = Consumer({"bootstrap.servers": brokers, "group.id": "rc-rdkafka-" + isolation,
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
brokers, topic = sys.argv[1], sys.argv[2]
p = Producer({"bootstrap.servers": brokers, "transactional.id": "rafka-rc-test",
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

async fn consume_all(addr: &str, isolation: IsolationLevel, expected: usize) -> Vec<String> {
    let mut consumer = Consumer::new(
        config(addr, None)
            .isolation_level(isolation)
            .build()
            .unwrap(),
    )
    .unwrap();
    consumer.assign(&[TopicPartition::new("rc", 0)]).unwrap();
    let mut records = poll_n(&mut consumer, expected, WAIT).await;
    // Anything beyond the expected count would show up now.
    records.extend(consumer.poll(Duration::from_millis(500)).await.unwrap());
    values(&records)
}

#[tokio::test]
async fn isolation_levels_match_librdkafka_over_librdkafka_transactions() {
    if require_python().is_none() {
        return;
    }
    let broker = broker();
    let client = client(&broker.addr()).await;
    create_topic(&client, "rc", 1).await;
    let out = run_python_async(TRANSACTIONS, &[&broker.addr(), "rc"])
        .await
        .unwrap();
    assert!(out.contains("done"), "{out}");

    let uncommitted = consume_all(&broker.addr(), IsolationLevel::ReadUncommitted, 5).await;
    assert_eq!(
        uncommitted,
        ["c1", "c2", "a1", "a2", "c3"],
        "control records are never returned"
    );
    let committed = consume_all(&broker.addr(), IsolationLevel::ReadCommitted, 3).await;

    let rdkafka = |isolation: &'static str| {
        let addr = broker.addr();
        async move {
            let out = run_python_async(RDKAFKA_CONSUME, &[&addr, "rc", isolation])
                .await
                .unwrap();
            out.lines().map(str::to_string).collect::<Vec<_>>()
        }
    };
    assert_eq!(rdkafka("read_uncommitted").await, uncommitted);
    // Same as librdkafka on Tansu: the aborted a1, a2 come through because Tansu lists no
    // aborted transactions. On Apache Kafka both would give c1, c2, c3.
    assert_eq!(rdkafka("read_committed").await, committed);
    assert_eq!(committed, ["c1", "c2", "a1", "a2", "c3"]);
}
