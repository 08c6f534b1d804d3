//! Helpers shared by the consumer integration tests: the test's broker ([`TestTarget`]: the
//! shared Apache Kafka cluster, or a private Tansu with `RAFKA_TEST_TARGET=tansu`), topics, raw
//! produce.
//!
//! Records are produced with a raw ProduceRequest through rafka-client and
//! `rafka_wire::records::encode_batch`, one batch per call, so that each test controls batch
//! boundaries exactly (Tansu's ListOffsets(latest) answers "last batch base offset + 1", see
//! docs/brokers.md: tests that rely on "latest" produce one record per batch).
#![allow(dead_code)]

use std::time::Duration;

use bytes::BytesMut;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{ProduceRequest, TopicName};
use kafka_protocol::protocol::StrBytes;
use rafka::client::{Client, ClientConfig, Target};
use rafka::consumer::{AutoOffsetReset, Consumer, ConsumerConfig, ConsumerRecord};
use rafka::wire::records::{encode_batch, BatchMeta, RecordRef};
use rafka::wire::{ErrorCode, TopicPartition};
use rafka_integration::TestTarget;

/// This test's broker: the shared Kafka cluster, or a private Tansu.
pub fn target() -> TestTarget {
    TestTarget::start().expect("test broker")
}

/// A connected client.
pub async fn client(addr: &str) -> Client {
    Client::connect(ClientConfig::new(addr))
        .await
        .expect("client")
}

/// Creates topic `name` (already named through `t.topic`): replication factor 3 and
/// `min.insync.replicas` 2 on Kafka, waiting until every partition has a leader and a full ISR.
pub fn create_topic(t: &TestTarget, name: &str, partitions: i32) {
    t.create_topic(name, partitions)
        .unwrap_or_else(|e| panic!("create topic {name}: {e:#}"));
}

/// Creates topic `t.topic(base)` and connects a client; returns both.
pub async fn topic_and_client(t: &TestTarget, base: &str, partitions: i32) -> (String, Client) {
    let topic = t.topic(base);
    create_topic(t, &topic, partitions);
    (topic, client(&t.addr()).await)
}

/// Produces `values` to one partition as one batch; returns the base offset.
pub async fn produce(client: &Client, topic: &str, partition: i32, values: &[String]) -> i64 {
    produce_at(client, topic, partition, values, now_ms()).await
}

/// Like [`produce`] with every record stamped `timestamp` (ms, CreateTime).
pub async fn produce_at(
    client: &Client,
    topic: &str,
    partition: i32,
    values: &[String],
    timestamp: i64,
) -> i64 {
    let records: Vec<RecordRef> = values
        .iter()
        .map(|v| RecordRef {
            timestamp,
            key: Some(v.as_bytes()),
            value: Some(v.as_bytes()),
            headers: &[],
        })
        .collect();
    let mut buf = BytesMut::new();
    encode_batch(&BatchMeta::default(), &records, &mut buf).expect("encode");
    let req = ProduceRequest::default()
        .with_acks(-1)
        .with_timeout_ms(30_000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_name(TopicName(StrBytes::from_string(topic.to_string())))
            .with_partition_data(vec![PartitionProduceData::default()
                .with_index(partition)
                .with_records(Some(buf.freeze()))])]);
    let resp = client
        .send(Target::Leader(TopicPartition::new(topic, partition)), req)
        .await
        .expect("produce");
    let p = &resp.responses[0].partition_responses[0];
    assert_eq!(ErrorCode(p.error_code), ErrorCode::NONE, "produce error");
    p.base_offset
}

/// Produces `n` records `"{prefix}-{i}"` to a partition, one record per batch.
pub async fn produce_each(client: &Client, topic: &str, partition: i32, prefix: &str, n: usize) {
    for i in 0..n {
        produce(client, topic, partition, &[format!("{prefix}-{i}")]).await;
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A consumer config for tests: earliest, short group timeouts (Tansu holds JoinGroup about
/// half the session timeout; Kafka answers as soon as the members rejoined).
pub fn config(addr: &str, group: Option<&str>) -> rafka::consumer::ConsumerConfigBuilder {
    let mut b = ConsumerConfig::builder(addr)
        .auto_offset_reset(AutoOffsetReset::Earliest)
        .session_timeout(Duration::from_secs(6))
        .heartbeat_interval(Duration::from_millis(500))
        .fetch_max_wait(Duration::from_millis(100));
    if let Some(g) = group {
        b = b.group_id(g);
    }
    b
}

/// Polls until `n` records arrived or `within` passed; returns what came.
pub async fn poll_n(consumer: &mut Consumer, n: usize, within: Duration) -> Vec<ConsumerRecord> {
    let deadline = tokio::time::Instant::now() + within;
    let mut out = Vec::new();
    while out.len() < n && tokio::time::Instant::now() < deadline {
        out.extend(
            consumer
                .poll(Duration::from_millis(200))
                .await
                .expect("poll"),
        );
    }
    out
}

/// Values of records as strings.
pub fn values(records: &[ConsumerRecord]) -> Vec<String> {
    records
        .iter()
        .map(|r| String::from_utf8(r.value.clone().unwrap_or_default().to_vec()).unwrap())
        .collect()
}
