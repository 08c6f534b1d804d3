//! Helpers for the example-running tests: the test's broker (rafka_integration's `TestTarget`:
//! the shared Apache Kafka cluster, or a private Tansu with `RAFKA_TEST_TARGET=tansu`) and raw
//! produce.
#![allow(dead_code)]

use bytes::BytesMut;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{ProduceRequest, TopicName};
use kafka_protocol::protocol::StrBytes;
use rafka_client::{Client, ClientConfig, Target};
use rafka_integration::TestTarget;
use rafka_wire::records::{encode_batch, BatchMeta, RecordRef};
use rafka_wire::{ErrorCode, TopicPartition};

/// The test's broker with topic `t.topic(base)` of `partitions` partitions (RF 3 and
/// `min.insync.replicas` 2 on Kafka), the topic's name, and a client to the broker.
pub async fn broker_with_topic(base: &str, partitions: i32) -> (TestTarget, String, Client) {
    let target = TestTarget::start().expect("test broker");
    let topic = target.topic(base);
    target
        .create_topic(&topic, partitions)
        .expect("create topic");
    let client = Client::connect(ClientConfig::new(&target.addr()))
        .await
        .expect("client");
    (target, topic, client)
}

/// Produces one record per value to a partition, one batch each, stamped now (a timestamp far
/// in the past would put the records beyond Kafka's 7-day retention, which deletes them).
pub async fn produce(client: &Client, topic: &str, partition: i32, values: &[String]) {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64;
    for v in values {
        let mut buf = BytesMut::new();
        let record = RecordRef {
            timestamp: now_ms,
            key: None,
            value: Some(v.as_bytes()),
            headers: &[],
        };
        encode_batch(&BatchMeta::default(), &[record], &mut buf).expect("encode");
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
        let code = ErrorCode(resp.responses[0].partition_responses[0].error_code);
        assert_eq!(code, ErrorCode::NONE);
    }
}

/// `"{prefix}-{i}"` for i in 0..n.
pub fn numbered(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}-{i}")).collect()
}
