//! The private-broker and Python fixtures themselves: start, topics, restart, kill, interop peer.

use kafka_protocol::messages::{metadata_request, ApiVersionsRequest, MetadataRequest, TopicName};
use kafka_protocol::protocol::StrBytes;
use rafka_integration::python::{require_python, run_python, run_python_async};
use rafka_integration::raw::RawConnection;
use rafka_integration::TestBroker;

fn metadata_for(topic: &str) -> MetadataRequest {
    // Tansu honours allow_auto_topic_creation: left true, asking creates 4 partitions.
    MetadataRequest::default()
        .with_allow_auto_topic_creation(false)
        .with_topics(Some(vec![metadata_request::MetadataRequestTopic::default(
        )
        .with_name(Some(TopicName(StrBytes::from_string(topic.to_owned()))))]))
}

#[tokio::test]
async fn private_broker_creates_topics_and_restarts_empty_on_the_same_port() {
    let mut broker = TestBroker::start().unwrap();
    let addr = broker.addr();
    broker.create_topic("fixture-broker", 5).unwrap();

    let mut conn = RawConnection::connect(&addr).await.unwrap();
    let resp = conn
        .call(12, &metadata_for("fixture-broker"))
        .await
        .unwrap();
    let topic = &resp.topics[0];
    assert_eq!(topic.error_code, 0);
    assert_eq!(topic.partitions.len(), 5);
    // Tansu is one broker, node 111, leading everything (docs/brokers.md).
    assert_eq!(resp.brokers.len(), 1);
    assert!(topic.partitions.iter().all(|p| p.leader_id.0 == 111));

    broker.restart().unwrap();
    assert_eq!(broker.addr(), addr);
    // The old connection died with the old process.
    assert!(conn.read_frame().await.map(|f| f.is_none()).unwrap_or(true));
    let mut conn = RawConnection::connect(&addr).await.unwrap();
    let resp = conn.call(3, &ApiVersionsRequest::default()).await.unwrap();
    assert_eq!(resp.error_code, 0);
    // Memory storage: the topic is gone after a restart.
    let resp = conn
        .call(12, &metadata_for("fixture-broker"))
        .await
        .unwrap();
    assert_eq!(
        resp.topics[0].error_code, 3,
        "UNKNOWN_TOPIC_OR_PARTITION: {resp:?}"
    );

    broker.kill();
    assert!(!broker.is_running());
    assert!(RawConnection::connect(&addr).await.is_err());
}

#[test]
fn creating_an_existing_topic_is_an_error() {
    let broker = TestBroker::start().unwrap();
    broker.create_topic("twice", 1).unwrap();
    assert!(broker.create_topic("twice", 1).is_err());
}

#[tokio::test]
async fn python_peer_is_librdkafka_2_16() {
    if require_python().is_none() {
        return;
    }
    let script = "import sys, confluent_kafka; print(confluent_kafka.libversion()[0], sys.argv[1])";
    let out = run_python(script, &["arg-one"]).unwrap();
    let mut words = out.split_whitespace();
    assert!(words.next().unwrap().starts_with("2.16."), "{out}");
    assert_eq!(words.next(), Some("arg-one"));

    let err = run_python_async("import sys; print('to stdout'); sys.exit(3)", &[])
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("to stdout"), "{err:#}");
}

#[tokio::test]
async fn python_peer_produces_to_a_private_broker() {
    if require_python().is_none() {
        return;
    }
    let broker = TestBroker::start().unwrap();
    broker.create_topic("from-python", 1).unwrap();
    let script = r#"
import sys
from confluent_kafka import Producer
p = Producer({"bootstrap.servers": sys.argv[1], "enable.idempotence": True})
for i in range(10):
    p.produce("from-python", value=b"v%d" % i, partition=0)
assert p.flush(30) == 0
print("ok")
"#;
    let out = run_python_async(script, &[&broker.addr()]).await.unwrap();
    assert_eq!(out.trim(), "ok");

    let mut conn = RawConnection::connect(&broker.addr()).await.unwrap();
    use kafka_protocol::messages::{fetch_request, BrokerId, FetchRequest};
    let req = FetchRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_max_wait_ms(100)
        .with_max_bytes(1 << 20)
        .with_topics(vec![fetch_request::FetchTopic::default()
            .with_topic(TopicName(StrBytes::from_static_str("from-python")))
            .with_partitions(vec![fetch_request::FetchPartition::default()
                .with_partition(0)
                .with_partition_max_bytes(1 << 20)])]);
    let resp = conn.call(12, &req).await.unwrap();
    assert_eq!(resp.responses[0].partitions[0].high_watermark, 10);
}

/// The proxy swallows this answer (docs/brokers.md); if Tansu stops sending it, the proxy's acks=0
/// path must change, and this test says so.
#[tokio::test]
async fn tansu_answers_even_acks_zero_produce() {
    use kafka_protocol::messages::{produce_request, ProduceRequest};
    let broker = TestBroker::start().unwrap();
    broker.create_topic("acks0", 1).unwrap();
    let req = ProduceRequest::default()
        .with_acks(0)
        .with_timeout_ms(1_000)
        .with_topic_data(vec![produce_request::TopicProduceData::default()
            .with_name(TopicName(StrBytes::from_static_str("acks0")))
            .with_partition_data(vec![
                produce_request::PartitionProduceData::default()
                    .with_index(0)
                    .with_records(Some(rafka_integration::raw::record_batch(&[b"a"]).unwrap())),
            ])]);
    let mut conn = RawConnection::connect(&broker.addr()).await.unwrap();
    let produce_corr = conn.send(9, &req).await.unwrap();
    conn.send(3, &ApiVersionsRequest::default()).await.unwrap();
    let frame = conn.read_frame().await.unwrap().unwrap();
    let first_corr = i32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]);
    assert_eq!(
        first_corr, produce_corr,
        "Kafka would answer the ApiVersions first"
    );
}

/// docs/brokers.md, "Idempotent producers": Tansu hands every non-transactional InitProducerId
/// the same producer id with the next epoch, so a second idempotent producer fences the first
/// (PRODUCER_FENCED, 90). Kafka gives each its own id. Tests with several idempotent producers
/// at once need a private broker each, or must expect this.
#[tokio::test]
async fn tansu_fences_the_older_of_two_idempotent_producers() {
    use kafka_protocol::messages::{produce_request, InitProducerIdRequest, ProduceRequest};
    use kafka_protocol::records::{
        Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
    };

    fn produce(producer_id: i64, producer_epoch: i16) -> ProduceRequest {
        let record = Record {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: -1,
            producer_id,
            producer_epoch,
            timestamp_type: TimestampType::Creation,
            offset: 0,
            sequence: 0,
            timestamp: 1_700_000_000_000,
            key: None,
            value: Some(bytes::Bytes::from_static(b"x")),
            headers: Default::default(),
        };
        let mut batch = bytes::BytesMut::new();
        let options = RecordEncodeOptions {
            version: 2,
            compression: Compression::None,
        };
        RecordBatchEncoder::encode(&mut batch, &[record], &options).unwrap();
        ProduceRequest::default()
            .with_acks(-1)
            .with_timeout_ms(1_000)
            .with_topic_data(vec![produce_request::TopicProduceData::default()
                .with_name(TopicName(StrBytes::from_static_str("idem")))
                .with_partition_data(vec![
                    produce_request::PartitionProduceData::default()
                        .with_index(0)
                        .with_records(Some(batch.freeze())),
                ])])
    }

    let broker = TestBroker::start().unwrap();
    broker.create_topic("idem", 1).unwrap();
    let mut a = RawConnection::connect(&broker.addr()).await.unwrap();
    let mut b = RawConnection::connect(&broker.addr()).await.unwrap();
    let init = InitProducerIdRequest::default().with_transaction_timeout_ms(60_000);
    let ia = a.call(4, &init).await.unwrap();
    let ib = b.call(4, &init).await.unwrap();
    assert_eq!((ia.error_code, ib.error_code), (0, 0));
    assert_eq!(ia.producer_id, ib.producer_id, "same producer id for both");
    assert_eq!(ib.producer_epoch, ia.producer_epoch + 1);

    let ra = a
        .call(9, &produce(ia.producer_id.0, ia.producer_epoch))
        .await
        .unwrap();
    assert_eq!(ra.responses[0].partition_responses[0].error_code, 90);
    let rb = b
        .call(9, &produce(ib.producer_id.0, ib.producer_epoch))
        .await
        .unwrap();
    assert_eq!(rb.responses[0].partition_responses[0].error_code, 0);
}

/// docs/brokers.md, "Offsets and fetching": ListOffsets(latest) answers the last batch's base
/// offset + 1, not the log end offset; Fetch's high watermark is right.
#[tokio::test]
async fn tansu_list_offsets_latest_is_last_batch_base_plus_one() {
    use kafka_protocol::messages::{
        fetch_request, list_offsets_request, produce_request, BrokerId, FetchRequest,
        ListOffsetsRequest, ProduceRequest,
    };
    use rafka_integration::raw::record_batch;

    let broker = TestBroker::start().unwrap();
    broker.create_topic("latest", 1).unwrap();
    let topic = || TopicName(StrBytes::from_static_str("latest"));
    let mut conn = RawConnection::connect(&broker.addr()).await.unwrap();
    for _ in 0..2 {
        let batch = record_batch(&[b"a", b"b", b"c"]).unwrap();
        let req = ProduceRequest::default()
            .with_acks(-1)
            .with_timeout_ms(1_000)
            .with_topic_data(vec![produce_request::TopicProduceData::default()
                .with_name(topic())
                .with_partition_data(vec![
                    produce_request::PartitionProduceData::default()
                        .with_index(0)
                        .with_records(Some(batch)),
                ])]);
        let resp = conn.call(9, &req).await.unwrap();
        assert_eq!(resp.responses[0].partition_responses[0].error_code, 0);
    }
    let list = ListOffsetsRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_topics(vec![list_offsets_request::ListOffsetsTopic::default()
            .with_name(topic())
            .with_partitions(vec![
                list_offsets_request::ListOffsetsPartition::default()
                    .with_partition_index(0)
                    .with_timestamp(-1),
            ])]);
    let resp = conn.call(7, &list).await.unwrap();
    assert_eq!(resp.topics[0].partitions[0].offset, 4, "Kafka would say 6");

    let fetch = FetchRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_max_wait_ms(100)
        .with_max_bytes(1 << 20)
        .with_topics(vec![fetch_request::FetchTopic::default()
            .with_topic(topic())
            .with_partitions(vec![fetch_request::FetchPartition::default()
                .with_partition(0)
                .with_partition_max_bytes(1 << 20)])]);
    let resp = conn.call(12, &fetch).await.unwrap();
    let p = &resp.responses[0].partitions[0];
    assert_eq!(p.high_watermark, 6);
    let mut blob = p.records.clone().unwrap();
    let mut records = 0;
    while !blob.is_empty() {
        records += kafka_protocol::records::RecordBatchDecoder::decode(&mut blob)
            .unwrap()
            .records
            .len();
    }
    assert_eq!(records, 6);
}
