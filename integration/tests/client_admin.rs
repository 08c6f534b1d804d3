//! rafka-client's Admin against the test broker (Apache Kafka under the test command, Tansu in
//! the smoke run): topics, offsets, groups, configs, cluster.

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
use rafka_integration::TestTarget;

async fn admin(broker: &TestTarget) -> Admin {
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
    let broker = TestTarget::start().unwrap();
    let admin = admin(&broker).await;
    let (a, b, validate) = (
        broker.topic("adm-a"),
        broker.topic("adm-b"),
        broker.topic("adm-validate"),
    );
    let never = broker.topic("adm-never");
    let (a, b, validate, never) = (a.as_str(), b.as_str(), validate.as_str(), never.as_str());
    let results = admin
        .create_topics(
            &[
                NewTopic::new(a, 3, 1).config("retention.ms", "3600000"),
                NewTopic::new(b, 1, 1),
            ],
            false,
        )
        .await
        .unwrap();
    assert!(results[a].is_ok(), "{results:?}");
    assert!(results[b].is_ok(), "{results:?}");
    // Created topics are already routable.
    assert_eq!(admin.client().cached_metadata().partition_count(a), Some(3));

    let checked = admin
        .create_topics(&[NewTopic::new(validate, 2, 1)], true)
        .await
        .unwrap();
    assert!(checked[validate].is_ok(), "{checked:?}");

    let again = admin
        .create_topics(&[NewTopic::new(a, 3, 1)], false)
        .await
        .unwrap();
    assert_eq!(
        again[a].as_ref().unwrap_err().code(),
        Some(ErrorCode::TOPIC_ALREADY_EXISTS)
    );

    let topics = admin.list_topics(false).await.unwrap();
    assert!(
        topics.contains_key(a) && topics.contains_key(b),
        "{:?}",
        topics.keys()
    );
    assert_eq!(topics[a].partitions.len(), 3);
    // Kafka only checks a validate_only request; Tansu ignores the flag and creates the topic.
    assert_eq!(topics.contains_key(validate), !broker.is_kafka());

    let deleted = admin.delete_topics(&[b, never]).await.unwrap();
    assert!(deleted[b].is_ok(), "{deleted:?}");
    assert_eq!(
        deleted[never].as_ref().unwrap_err().code(),
        Some(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION)
    );
    // Gone from the listing; on Kafka a broker may list it for a moment after the controller
    // answered (it applies the deletion from the metadata log), so look for up to 15 s.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while admin.list_topics(false).await.unwrap().contains_key(b) {
        assert!(
            std::time::Instant::now() < deadline,
            "{b} still listed 15 s after its deletion"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let cluster = admin.describe_cluster().await.unwrap();
    let addrs: Vec<String> = cluster.brokers.values().map(|b| b.addr()).collect();
    let bootstrap = broker.addr();
    let bootstrap: Vec<&str> = bootstrap.split(',').collect();
    assert_eq!(addrs, bootstrap, "every broker, as advertised");
    assert!(!cluster.cluster_id.is_empty());
    if broker.is_kafka() {
        assert!(
            cluster
                .controller
                .is_some_and(|c| cluster.brokers.contains_key(&c)),
            "{cluster:?}"
        );
    }

    let configs = admin
        .describe_configs(&[ConfigResource::Topic(a.into())])
        .await
        .unwrap();
    let entries = configs[&ConfigResource::Topic(a.into())].as_ref().unwrap();
    let retention = entries.iter().find(|e| e.name == "retention.ms");
    assert_eq!(
        retention.and_then(|e| e.value.as_deref()),
        Some("3600000"),
        "{entries:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_offsets_earliest_latest_timestamp() {
    let broker = TestTarget::start().unwrap();
    let admin = admin(&broker).await;
    let topic = broker.topic("adm-offsets");
    // The fixture also waits until the leaders serve the new partitions (the raw produce below
    // does not retry a NOT_LEADER_OR_FOLLOWER from a leader still applying the topic).
    broker.create_topic(&topic, 2).unwrap();
    produce(admin.client(), &topic, 0, &[1_000, 3_000, 2_000]).await;
    let p0 = TopicPartition::new(topic.as_str(), 0);
    let p1 = TopicPartition::new(topic.as_str(), 1);
    let missing = TopicPartition::new(topic.as_str(), 9);
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

    let lookup = |spec: OffsetSpec| {
        let admin = &admin;
        let p0 = p0.clone();
        async move {
            let r = admin
                .list_offsets(&[(p0.clone(), spec)], IsolationLevel::ReadCommitted)
                .await
                .unwrap();
            *r[&p0].as_ref().unwrap()
        }
    };
    assert_eq!(lookup(OffsetSpec::Earliest).await.offset, 0);
    assert_eq!(lookup(OffsetSpec::Timestamp(0)).await.offset, 0);
    if !broker.is_kafka() {
        // Tansu stamps records with the append time whatever the producer sets, answers offset
        // 0 to every timestamp lookup, and drops the connection on MaxTimestamp (-3): only the
        // cases where it agrees with Kafka are checked (docs/brokers.md).
        return;
    }
    // Kafka keeps the producer's CreateTime: the first record at or after each timestamp.
    for (ts, offset, found_ts) in [
        (1_000, 0, 1_000),
        (1_001, 1, 3_000),
        (2_000, 1, 3_000),
        (3_000, 1, 3_000),
    ] {
        let listed = lookup(OffsetSpec::Timestamp(ts)).await;
        assert_eq!(
            (listed.offset, listed.timestamp),
            (offset, found_ts),
            "at {ts}"
        );
        assert!(
            listed.leader_epoch.is_some(),
            "ListOffsets v4+ names the epoch"
        );
    }
    // Past the last timestamp: offset -1 (Java: no OffsetAndTimestamp).
    assert_eq!(lookup(OffsetSpec::Timestamp(3_001)).await.offset, -1);
    // KIP-734: the record with the largest timestamp is offset 1, not the last one.
    let max = lookup(OffsetSpec::MaxTimestamp).await;
    assert_eq!((max.offset, max.timestamp), (1, 3_000));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_offsets_describe_and_delete() {
    let broker = TestTarget::start().unwrap();
    let admin = admin(&broker).await;
    let topic = broker.topic("adm-g");
    let group = broker.group("adm-group");
    let group = group.as_str();
    admin.create_topic(&topic, 2, 1).await.unwrap();
    let p0 = TopicPartition::new(topic.as_str(), 0);
    let p1 = TopicPartition::new(topic.as_str(), 1);
    let committed = admin
        .alter_group_offsets(
            group,
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

    let offsets = admin.list_group_offsets(group, None).await.unwrap();
    assert_eq!(offsets[&p0].offset, 5);
    assert_eq!(offsets[&p1].offset, 7);
    if broker.is_kafka() {
        // Tansu does not keep commit metadata; Kafka gives it back ("" when none was sent).
        assert_eq!(offsets[&p0].metadata.as_deref(), Some("m"));
        assert_eq!(offsets[&p1].metadata.as_deref().unwrap_or(""), "");
    }
    let only = admin
        .list_group_offsets(group, Some(std::slice::from_ref(&p1)))
        .await
        .unwrap();
    assert_eq!(only.keys().collect::<Vec<_>>(), vec![&p1]);

    let described = admin.describe_groups(&[group]).await.unwrap();
    let description = described[group].as_ref().unwrap();
    assert!(description.members.is_empty(), "{description:?}");
    assert_eq!(
        description.coordinator,
        admin.client().group_coordinator(group).await.unwrap()
    );

    let groups = admin.list_groups().await.unwrap();
    assert!(groups.iter().any(|g| g.group_id == group), "{groups:?}");

    let deleted = admin.delete_groups(&[group]).await.unwrap();
    assert!(deleted[group].is_ok(), "{deleted:?}");
}

/// CreatePartitions, DeleteRecords, IncrementalAlterConfigs and OffsetForLeaderEpoch: Tansu
/// answers none of them (it drops the connection or has no such API), so this runs on Kafka only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitions_records_configs_and_leader_epochs_on_kafka() {
    use kafka_protocol::messages::offset_for_leader_epoch_request::{
        OffsetForLeaderPartition, OffsetForLeaderTopic,
    };
    use kafka_protocol::messages::{BrokerId, OffsetForLeaderEpochRequest};
    use rafka_client::admin::{AlterConfigOp, DELETE_TO_HIGH_WATERMARK};

    let broker = TestTarget::start().unwrap();
    if !broker.is_kafka() {
        eprintln!("Kafka only: Tansu has no CreatePartitions, DeleteRecords, AlterConfigs, OffsetForLeaderEpoch");
        return;
    }
    let admin = admin(&broker).await;
    let topic = broker.topic("adm-grow");
    let t = topic.as_str();
    broker.create_topic(t, 1).unwrap(); // waits until the leader serves it: raw produce below

    // CreatePartitions: 1 -> 3; not above the current count is INVALID_PARTITIONS.
    let grown = admin.create_partitions(&[(t, 3)], false).await.unwrap();
    assert!(grown[t].is_ok(), "{grown:?}");
    assert_eq!(admin.client().cached_metadata().partition_count(t), Some(3));
    let again = admin.create_partitions(&[(t, 2)], false).await.unwrap();
    assert_eq!(
        again[t].as_ref().unwrap_err().code(),
        Some(ErrorCode::INVALID_PARTITIONS)
    );

    // DeleteRecords: the log start offset moves to 2, then to the high watermark (5).
    produce(admin.client(), t, 0, &[10, 20, 30, 40, 50]).await;
    let p0 = TopicPartition::new(t, 0);
    let p2 = TopicPartition::new(t, 2);
    let deleted = admin
        .delete_records(&[(p0.clone(), 2), (p2.clone(), 7)])
        .await
        .unwrap();
    assert_eq!(*deleted[&p0].as_ref().unwrap(), 2);
    assert_eq!(
        deleted[&p2].as_ref().unwrap_err().code(),
        Some(ErrorCode::OFFSET_OUT_OF_RANGE),
        "p2 is empty: offset 7 is above its high watermark"
    );
    let earliest = admin
        .list_offsets(
            &[(p0.clone(), OffsetSpec::Earliest)],
            IsolationLevel::ReadUncommitted,
        )
        .await
        .unwrap();
    assert_eq!(earliest[&p0].as_ref().unwrap().offset, 2);
    let all = admin
        .delete_records(&[(p0.clone(), DELETE_TO_HIGH_WATERMARK)])
        .await
        .unwrap();
    assert_eq!(*all[&p0].as_ref().unwrap(), 5);

    // IncrementalAlterConfigs: set, then delete back to the default; a bad key is refused.
    let resource = ConfigResource::Topic(t.into());
    let altered = admin
        .incremental_alter_configs(
            &[(
                resource.clone(),
                vec![
                    AlterConfigOp::Set("retention.ms".into(), "7200000".into()),
                    AlterConfigOp::Set("cleanup.policy".into(), "compact".into()),
                ],
            )],
            false,
        )
        .await
        .unwrap();
    assert!(altered[&resource].is_ok(), "{altered:?}");
    // Waits (up to 15 s) until DescribeConfigs shows `key` as `accept` wants: the broker that
    // answers applies a change from the metadata log a moment after the controller accepted
    // it, so a read right after an alteration may still show the old value.
    let wait_for = |key: &'static str, accept: fn(Option<&str>, i8) -> bool| {
        let admin = &admin;
        let resource = resource.clone();
        async move {
            let deadline = std::time::Instant::now() + Duration::from_secs(15);
            loop {
                let configs = admin
                    .describe_configs(std::slice::from_ref(&resource))
                    .await
                    .unwrap();
                let entry = configs[&resource]
                    .as_ref()
                    .unwrap()
                    .iter()
                    .find(|e| e.name == key)
                    .map(|e| (e.value.clone(), e.source));
                if let Some((value, source)) = &entry {
                    if accept(value.as_deref(), *source) {
                        return;
                    }
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "{key} never accepted: last {entry:?}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    // Source 1: a dynamic topic config.
    wait_for("retention.ms", |v, s| v == Some("7200000") && s == 1).await;
    wait_for("cleanup.policy", |v, s| v == Some("compact") && s == 1).await;
    admin
        .incremental_alter_configs(
            &[(
                resource.clone(),
                vec![
                    AlterConfigOp::Delete("retention.ms".into()),
                    AlterConfigOp::Append("cleanup.policy".into(), "delete".into()),
                ],
            )],
            false,
        )
        .await
        .unwrap()[&resource]
        .as_ref()
        .unwrap();
    // Deleted: back to a default (not a dynamic topic config); appended to the list.
    wait_for("retention.ms", |v, s| s != 1 && v != Some("7200000")).await;
    wait_for("cleanup.policy", |v, _| v == Some("compact,delete")).await;
    let bad = admin
        .incremental_alter_configs(
            &[(
                resource.clone(),
                vec![AlterConfigOp::Set("no.such.key".into(), "1".into())],
            )],
            true,
        )
        .await
        .unwrap();
    assert_eq!(
        bad[&resource].as_ref().unwrap_err().code(),
        Some(ErrorCode::INVALID_CONFIG)
    );

    // OffsetForLeaderEpoch (KIP-320): the end offset of the current epoch is the log end.
    let md = admin.client().metadata_for(&[t]).await.unwrap();
    let epoch = md.topics[t].partitions[&0].leader_epoch;
    let resp = admin
        .client()
        .send_to_leader(
            t,
            0,
            OffsetForLeaderEpochRequest::default()
                .with_replica_id(BrokerId(-1))
                .with_topics(vec![OffsetForLeaderTopic::default()
                    .with_topic(kafka_protocol::messages::TopicName(StrBytes::from_string(
                        t.to_string(),
                    )))
                    .with_partitions(vec![OffsetForLeaderPartition::default()
                        .with_partition(0)
                        .with_current_leader_epoch(epoch)
                        .with_leader_epoch(epoch)])]),
        )
        .await
        .unwrap();
    let p = &resp.topics[0].partitions[0];
    assert_eq!(p.error_code, 0, "{p:?}");
    assert_eq!((p.leader_epoch, p.end_offset), (epoch, 5));
}
