//! rafka-client's Admin against a real Tansu: topics, offsets, groups, configs, cluster.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{ProduceRequest, TopicName};
use kafka_protocol::protocol::StrBytes;
use rafka_client::admin::{
    ConfigResource, IsolationLevel, NewTopic, OffsetAndMetadata, OffsetSpec,
};
use rafka_client::rafka_wire::error_code::ErrorCode;
use rafka_client::rafka_wire::records::{encode_batch, BatchMeta, RecordRef};
use rafka_client::{Admin, Client, ClientConfig, TopicPartition};
use rafka_integration::TestBroker;

async fn admin(broker: &TestBroker) -> Admin {
    let config = ClientConfig::builder()
        .bootstrap_servers(&broker.addr())
        .request_timeout(Duration::from_secs(10))
        .default_api_timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    Admin::new(Client::connect(config).await.unwrap())
}

/// Produces one single-record batch per timestamp (one record per batch keeps Tansu's
/// ListOffsets(latest), which answers the last batch's base offset + 1, equal to Kafka's).
async fn produce(client: &Client, topic: &str, partition: i32, timestamps: &[i64]) {
    for ts in timestamps {
        let mut records = BytesMut::new();
        let value = ts.to_string();
        let record = RecordRef {
            timestamp: *ts,
            key: None,
            value: Some(value.as_bytes()),
            headers: &[],
        };
        encode_batch(&BatchMeta::default(), &[record], &mut records).unwrap();
        let req = ProduceRequest::default()
            .with_acks(-1)
            .with_timeout_ms(5000)
            .with_topic_data(vec![TopicProduceData::default()
                .with_name(TopicName(StrBytes::from_string(topic.to_string())))
                .with_partition_data(vec![PartitionProduceData::default()
                    .with_index(partition)
                    .with_records(Some(Bytes::from(records)))])]);
        let resp = client.send_to_leader(topic, partition, req).await.unwrap();
        let p = &resp.responses[0].partition_responses[0];
        assert_eq!(p.error_code, 0, "produce failed: {p:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_list_describe_delete_topics() {
    let broker = TestBroker::start().unwrap();
    let admin = admin(&broker).await;
    let results = admin
        .create_topics(
            &[
                NewTopic::new("adm-a", 3, 1).config("retention.ms", "3600000"),
                NewTopic::new("adm-b", 1, 1),
            ],
            false,
        )
        .await
        .unwrap();
    assert!(results["adm-a"].is_ok(), "{results:?}");
    assert!(results["adm-b"].is_ok(), "{results:?}");
    // Created topics are already routable.
    assert_eq!(
        admin.client().cached_metadata().partition_count("adm-a"),
        Some(3)
    );

    let checked = admin
        .create_topics(&[NewTopic::new("adm-validate", 2, 1)], true)
        .await
        .unwrap();
    assert!(checked["adm-validate"].is_ok(), "{checked:?}");

    let again = admin
        .create_topics(&[NewTopic::new("adm-a", 3, 1)], false)
        .await
        .unwrap();
    assert_eq!(
        again["adm-a"].as_ref().unwrap_err().code(),
        Some(ErrorCode::TOPIC_ALREADY_EXISTS)
    );

    let topics = admin.list_topics(false).await.unwrap();
    assert!(
        topics.contains_key("adm-a") && topics.contains_key("adm-b"),
        "{:?}",
        topics.keys()
    );
    assert_eq!(topics["adm-a"].partitions.len(), 3);

    let deleted = admin.delete_topics(&["adm-b", "adm-never"]).await.unwrap();
    assert!(deleted["adm-b"].is_ok(), "{deleted:?}");
    assert_eq!(
        deleted["adm-never"].as_ref().unwrap_err().code(),
        Some(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION)
    );
    let topics = admin.list_topics(false).await.unwrap();
    assert!(!topics.contains_key("adm-b"));
    // Kafka would not have created adm-validate; Tansu ignores validate_only and does.

    let cluster = admin.describe_cluster().await.unwrap();
    assert_eq!(cluster.brokers.len(), 1);
    assert_eq!(
        cluster.brokers.values().next().unwrap().addr(),
        broker.addr()
    );
    assert!(!cluster.cluster_id.is_empty());

    let configs = admin
        .describe_configs(&[ConfigResource::Topic("adm-a".into())])
        .await
        .unwrap();
    let entries = configs[&ConfigResource::Topic("adm-a".into())]
        .as_ref()
        .unwrap();
    let retention = entries.iter().find(|e| e.name == "retention.ms");
    assert_eq!(
        retention.and_then(|e| e.value.as_deref()),
        Some("3600000"),
        "{entries:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_offsets_earliest_latest_timestamp() {
    let broker = TestBroker::start().unwrap();
    let admin = admin(&broker).await;
    admin.create_topic("adm-offsets", 2, 1).await.unwrap();
    produce(admin.client(), "adm-offsets", 0, &[1_000, 2_000, 3_000]).await;
    let p0 = TopicPartition::new("adm-offsets", 0);
    let p1 = TopicPartition::new("adm-offsets", 1);
    let missing = TopicPartition::new("adm-offsets", 9);
    let result = admin
        .list_offsets(
            &[
                (p0.clone(), OffsetSpec::Latest),
                (p1.clone(), OffsetSpec::Latest),
                (missing.clone(), OffsetSpec::Earliest),
            ],
            IsolationLevel::ReadUncommitted,
        )
        .await
        .unwrap();
    assert_eq!(result[&p0].as_ref().unwrap().offset, 3);
    assert_eq!(result[&p1].as_ref().unwrap().offset, 0);
    assert!(result[&missing].is_err());

    // Tansu stamps records with the append time whatever the producer sets, and answers
    // offset 0 to every timestamp lookup (Kafka: -1 past the last record); only the cases where
    // both agree are checked. MaxTimestamp (-3) makes Tansu drop the connection.
    for (spec, expected) in [(OffsetSpec::Earliest, 0), (OffsetSpec::Timestamp(0), 0)] {
        let r = admin
            .list_offsets(&[(p0.clone(), spec)], IsolationLevel::ReadCommitted)
            .await
            .unwrap();
        assert_eq!(r[&p0].as_ref().unwrap().offset, expected, "{spec:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_offsets_describe_and_delete() {
    let broker = TestBroker::start().unwrap();
    let admin = admin(&broker).await;
    admin.create_topic("adm-g", 2, 1).await.unwrap();
    let p0 = TopicPartition::new("adm-g", 0);
    let p1 = TopicPartition::new("adm-g", 1);
    let committed = admin
        .alter_group_offsets(
            "adm-group",
            &[
                (
                    p0.clone(),
                    OffsetAndMetadata {
                        offset: 5,
                        leader_epoch: None,
                        metadata: Some("m".into()),
                    },
                ),
                (
                    p1.clone(),
                    OffsetAndMetadata {
                        offset: 7,
                        leader_epoch: None,
                        metadata: None,
                    },
                ),
            ],
        )
        .await
        .unwrap();
    assert!(committed.values().all(|r| r.is_ok()), "{committed:?}");

    let offsets = admin.list_group_offsets("adm-group", None).await.unwrap();
    assert_eq!(offsets[&p0].offset, 5);
    // Tansu does not keep commit metadata (Kafka would give back "m").
    assert_eq!(offsets[&p1].offset, 7);
    let only = admin
        .list_group_offsets("adm-group", Some(std::slice::from_ref(&p1)))
        .await
        .unwrap();
    assert_eq!(only.keys().collect::<Vec<_>>(), vec![&p1]);

    let described = admin.describe_groups(&["adm-group"]).await.unwrap();
    let group = described["adm-group"].as_ref().unwrap();
    assert!(group.members.is_empty(), "{group:?}");
    assert_eq!(
        group.coordinator,
        admin.client().group_coordinator("adm-group").await.unwrap()
    );

    let groups = admin.list_groups().await.unwrap();
    assert!(
        groups.iter().any(|g| g.group_id == "adm-group"),
        "{groups:?}"
    );

    let deleted = admin.delete_groups(&["adm-group"]).await.unwrap();
    assert!(deleted["adm-group"].is_ok(), "{deleted:?}");
}
