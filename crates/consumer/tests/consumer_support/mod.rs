//! Helpers for the example-running tests: a private Tansu and raw produce.
#![allow(dead_code)]

use bytes::BytesMut;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{ProduceRequest, TopicName};
use kafka_protocol::protocol::StrBytes;
use rafka_client::{Client, ClientConfig, Target};
use rafka_integration::TestBroker;
use rafka_wire::records::{encode_batch, BatchMeta, RecordRef};
use rafka_wire::{ErrorCode, TopicPartition};

/// A private broker with `topic` of `partitions` partitions, and a client to it.
pub async fn broker_with_topic(topic: &str, partitions: i32) -> (TestBroker, Client) {
    let broker = TestBroker::start().expect("start Tansu");
    broker
        .create_topic(topic, partitions)
        .expect("create topic");
    let client = Client::connect(ClientConfig::new(&broker.addr()))
        .await
        .expect("client");
    (broker, client)
}

/// Produces one record per value to a partition, one batch each.
pub async fn produce(client: &Client, topic: &str, partition: i32, values: &[String]) {
    for v in values {
        let mut buf = BytesMut::new();
        let record = RecordRef {
            timestamp: 1,
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
