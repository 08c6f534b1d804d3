//! Kafka side of the store tests: the test's broker (rafka_integration's `TestTarget`: the
//! shared Apache Kafka cluster, or a private Tansu with `RAFKA_TEST_TARGET=tansu`), records
//! produced with the rafka producer, and checks that every record was consumed exactly once.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use rafka_consumer::{Consumer, ConsumerRecord};
use rafka_integration::TestTarget;
use rafka_producer::{Producer, ProducerConfig, ProducerRecord};
use rafka_wire::TopicPartition;

/// Tansu holds a JoinGroup for about half the session timeout (docs/brokers.md); Kafka answers
/// once the members rejoined.
pub const SESSION_TIMEOUT: Duration = Duration::from_secs(6);
/// How long a run waits without records before it stops.
pub const IDLE: Duration = Duration::from_secs(2);

/// Shorthand for [`TopicPartition::new`].
pub fn tp(topic: &str, partition: i32) -> TopicPartition {
    TopicPartition::new(topic, partition)
}

/// The test's broker with topic `t.topic(base)` of `partitions` partitions (RF 3 and
/// `min.insync.replicas` 2 on Kafka); returns the broker and the topic's name.
pub fn broker_with_topic(base: &str, partitions: i32) -> (TestTarget, String) {
    let target = TestTarget::start().expect("test broker");
    let topic = target.topic(base);
    target
        .create_topic(&topic, partitions)
        .expect("create topic");
    (target, topic)
}

/// Produces `per_partition` records `"{partition}:{i}"` to each partition with the rafka
/// producer; returns the end offset of each partition.
pub async fn fill(
    brokers: &str,
    topic: &str,
    partitions: i32,
    per_partition: usize,
) -> HashMap<TopicPartition, i64> {
    let producer =
        Producer::new(ProducerConfig::builder(brokers).build().unwrap()).expect("producer");
    let mut deliveries = Vec::new();
    for p in 0..partitions {
        for i in 0..per_partition {
            let record = ProducerRecord::new(topic)
                .partition(p)
                .value(format!("{p}:{i}"));
            deliveries.push((p, i, producer.send(record).await.expect("send")));
        }
    }
    producer.flush().await;
    for (p, i, delivery) in deliveries {
        let metadata = delivery.await.expect("delivered");
        assert_eq!((metadata.partition, metadata.offset), (p, i as i64));
    }
    producer
        .close(Duration::from_secs(10))
        .await
        .expect("close producer");
    (0..partitions)
        .map(|p| (tp(topic, p), per_partition as i64))
        .collect()
}

/// (partition, offset) of each record; panics on a duplicate.
pub fn coordinates(records: &[ConsumerRecord]) -> BTreeSet<(i32, i64)> {
    let mut seen = BTreeSet::new();
    for r in records {
        assert!(
            seen.insert((r.partition, r.offset)),
            "record {}-{}@{} delivered twice",
            r.topic,
            r.partition,
            r.offset
        );
        let expected = format!("{}:{}", r.partition, r.offset);
        assert_eq!(r.value.as_deref(), Some(expected.as_bytes()));
    }
    seen
}

/// Every (partition, offset) below `ends`.
pub fn all_coordinates(ends: &HashMap<TopicPartition, i64>) -> BTreeSet<(i32, i64)> {
    ends.iter()
        .flat_map(|(tp, end)| (0..*end).map(move |o| (tp.partition, o)))
        .collect()
}

/// Polls until assigned and then idle for [`IDLE`], collecting records; panics after 90 s.
pub async fn consume_until_idle(consumer: &mut Consumer, records: &mut Vec<ConsumerRecord>) {
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut last_record = Instant::now();
    loop {
        assert!(Instant::now() < deadline, "no idle point within 90 s");
        let batch = consumer
            .poll(Duration::from_millis(100))
            .await
            .expect("poll");
        if !batch.is_empty() || consumer.assignment().is_empty() {
            last_record = Instant::now();
        } else if last_record.elapsed() >= IDLE {
            return;
        }
        records.extend(batch);
    }
}
