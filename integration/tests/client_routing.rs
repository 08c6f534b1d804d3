//! rafka-client routing through the multi-broker proxy fixture (three virtual brokers in front
//! of one Tansu): leaders on different brokers, a leader moving, a broker dying, coordinator
//! moves, lost responses and the background metadata refresh. (Refresh coalescing is
//! tested in crates/client/tests/coalesce.rs with a broker that holds its answer.)

use std::time::Duration;

use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{ApiKey, ProduceRequest, TopicName};
use kafka_protocol::protocol::StrBytes;
use rafka_client::admin::{IsolationLevel, OffsetSpec};
use rafka_client::{Admin, Client, ClientConfig, Error, TopicPartition};
use rafka_integration::raw::record_batch;
use rafka_integration::{MultiBrokerProxy, TestBroker};

const TOPIC: &str = "client-routing";
const PARTITIONS: i32 = 6;

async fn cluster() -> (TestBroker, MultiBrokerProxy, Client) {
    let broker = TestBroker::start().expect("start tansu");
    broker
        .create_topic(TOPIC, PARTITIONS)
        .expect("create topic");
    let proxy = MultiBrokerProxy::start(broker.addr(), 3)
        .await
        .expect("start proxy");
    let config = ClientConfig::builder()
        .bootstrap_servers(&proxy.addr(1))
        .request_timeout(Duration::from_secs(5))
        .default_api_timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let client = Client::connect(config).await.expect("connect");
    (broker, proxy, client)
}

fn produce_request(partition: i32) -> ProduceRequest {
    ProduceRequest::default()
        .with_acks(-1)
        .with_timeout_ms(5000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_name(TopicName(StrBytes::from_static_str(TOPIC)))
            .with_partition_data(vec![PartitionProduceData::default()
                .with_index(partition)
                .with_records(Some(record_batch(&[b"v"]).unwrap()))])])
}

fn logged(proxy: &MultiBrokerProxy, key: ApiKey) -> Vec<i32> {
    proxy
        .request_log()
        .into_iter()
        .filter(|r| r.api_key == key as i16)
        .map(|r| r.node)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_reach_each_partitions_leader() {
    let (_broker, proxy, client) = cluster().await;
    let cluster = client.metadata_for(&[TOPIC]).await.unwrap();
    assert_eq!(cluster.brokers.len(), 3);
    proxy.clear_request_log();
    for p in 0..PARTITIONS {
        let leader = client.leader_for(TOPIC, p).await.unwrap();
        assert_eq!(leader, proxy.leader(TOPIC, p).leader);
        let resp = client
            .send_to_leader(TOPIC, p, produce_request(p))
            .await
            .unwrap();
        let code = resp.responses[0].partition_responses[0].error_code;
        assert_eq!(code, 0, "partition {p}");
    }
    let nodes = logged(&proxy, ApiKey::Produce);
    let expected: Vec<i32> = (0..PARTITIONS)
        .map(|p| proxy.leader(TOPIC, p).leader)
        .collect();
    assert_eq!(nodes, expected);
    // Leaders are spread over all three brokers.
    let mut distinct = nodes.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct, vec![1, 2, 3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moved_leader_is_followed_after_not_leader_error() {
    let (_broker, proxy, client) = cluster().await;
    let admin = Admin::new(client.clone());
    let tp = TopicPartition::new(TOPIC, 0);
    let old = client.leader_for(TOPIC, 0).await.unwrap();
    let new = if old == 3 { 1 } else { old + 1 };
    proxy.move_leader(TOPIC, 0, new);
    proxy.clear_request_log();
    // The cached leader answers NOT_LEADER_OR_FOLLOWER; the client refreshes metadata and
    // retries on the new leader.
    let result = admin
        .list_offsets(
            &[(tp.clone(), OffsetSpec::Earliest)],
            IsolationLevel::ReadUncommitted,
        )
        .await
        .unwrap();
    assert_eq!(result[&tp].as_ref().unwrap().offset, 0);
    assert_eq!(logged(&proxy, ApiKey::ListOffsets), vec![old, new]);
    assert!(!logged(&proxy, ApiKey::Metadata).is_empty());
    assert_eq!(client.cached_metadata().leader_for(TOPIC, 0).unwrap(), new);
    let epoch = client.cached_metadata().topics[TOPIC].partitions[&0].leader_epoch;
    assert_eq!(epoch, proxy.leader(TOPIC, 0).epoch);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_broker_leader_is_replaced_and_request_retried() {
    let (_broker, proxy, client) = cluster().await;
    let admin = Admin::new(client.clone());
    // Partition 1 is led by node 2 (p % 3 + 1); warm the connection first.
    let tp = TopicPartition::new(TOPIC, 1);
    assert_eq!(client.leader_for(TOPIC, 1).await.unwrap(), 2);
    admin
        .list_offsets(
            &[(tp.clone(), OffsetSpec::Latest)],
            IsolationLevel::ReadUncommitted,
        )
        .await
        .unwrap();
    proxy.kill_broker(2);
    // Without a new leader the partition is unavailable.
    let err = client
        .send_to_leader(TOPIC, 1, produce_request(1))
        .await
        .unwrap_err();
    assert!(err.is_retriable(), "{err:?}");
    // Once another broker leads it, the same admin call succeeds after refresh.
    proxy.move_leader(TOPIC, 1, 3);
    let result = admin
        .list_offsets(
            &[(tp.clone(), OffsetSpec::Latest)],
            IsolationLevel::ReadUncommitted,
        )
        .await
        .unwrap();
    assert!(result[&tp].is_ok(), "{result:?}");
    assert_eq!(client.cached_metadata().leader_for(TOPIC, 1).unwrap(), 3);
    assert!(!client.cached_metadata().brokers.contains_key(&2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coordinator_is_cached_and_found_again_when_it_dies() {
    let (_broker, proxy, client) = cluster().await;
    let admin = Admin::new(client.clone());
    proxy.set_coordinator(2);
    assert_eq!(client.group_coordinator("routing-group").await.unwrap(), 2);
    proxy.clear_request_log();
    assert_eq!(client.group_coordinator("routing-group").await.unwrap(), 2);
    assert!(
        logged(&proxy, ApiKey::FindCoordinator).is_empty(),
        "not cached"
    );

    proxy.set_coordinator(3);
    proxy.kill_broker(2);
    let described = admin.describe_groups(&["routing-group"]).await.unwrap();
    let group = described["routing-group"].as_ref().unwrap();
    assert_eq!(group.coordinator, 3);
    assert_eq!(client.group_coordinator("routing-group").await.unwrap(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_node_is_a_typed_error() {
    let (_broker, _proxy, client) = cluster().await;
    let err = client
        .send_to_broker(42, kafka_protocol::messages::ListGroupsRequest::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::UnknownBroker { node_id: 42 }),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_refresh_follows_a_moved_leader() {
    let broker = TestBroker::start().expect("start tansu");
    broker
        .create_topic(TOPIC, PARTITIONS)
        .expect("create topic");
    let proxy = MultiBrokerProxy::start(broker.addr(), 3)
        .await
        .expect("start proxy");
    let config = ClientConfig::builder()
        .bootstrap_servers(&proxy.addr(1))
        .metadata_max_age(Duration::from_millis(200))
        .build()
        .unwrap();
    let client = Client::connect(config).await.unwrap();
    client.metadata_for(&[TOPIC]).await.unwrap();
    let old = client.cached_metadata().leader_for(TOPIC, 2).unwrap();
    let new = if old == 1 { 2 } else { 1 };
    proxy.move_leader(TOPIC, 2, new);
    // Nobody asks the client anything: the refresher alone picks the move up within
    // metadata.max.age.ms (bounded wait, not a timing assertion).
    let mut seen = old;
    for _ in 0..100 {
        seen = client.cached_metadata().leader_for(TOPIC, 2).unwrap();
        if seen == new {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(seen, new);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_response_is_a_typed_error_and_admin_retries() {
    let (_broker, proxy, client) = cluster().await;
    let admin = Admin::new(client.clone());
    let leader = client.leader_for(TOPIC, 0).await.unwrap();
    // One attempt without retries: the connection closes before the answer.
    proxy.drop_next_response(leader, ApiKey::Produce as i16);
    let err = client
        .send_to_leader(TOPIC, 0, produce_request(0))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::ConnectionClosed { broker, api: Some(api) } if broker.node_id == leader && api.name == "Produce"),
        "{err:?}"
    );
    // Admin calls retry through it.
    proxy.drop_next_response(leader, ApiKey::ListOffsets as i16);
    let tp = TopicPartition::new(TOPIC, 0);
    let result = admin
        .list_offsets(
            &[(tp.clone(), OffsetSpec::Latest)],
            IsolationLevel::ReadUncommitted,
        )
        .await
        .unwrap();
    assert_eq!(
        result[&tp].as_ref().unwrap().offset,
        1,
        "the lost produce did land"
    );
}
