//! The multi-broker proxy fixture against a real Tansu: what clients see through it.

use std::collections::BTreeMap;

use kafka_protocol::messages::{
    fetch_request, list_offsets_request, metadata_request, produce_request, ApiKey,
    ApiVersionsRequest, BrokerId, DescribeClusterRequest, FetchRequest, FetchResponse,
    FindCoordinatorRequest, ListOffsetsRequest, MetadataRequest, MetadataResponse, ProduceRequest,
    ProduceResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use rafka_integration::proxy::{FENCED_LEADER_EPOCH, NOT_LEADER_OR_FOLLOWER};
use rafka_integration::raw::{record_batch, RawConnection};
use rafka_integration::{MultiBrokerProxy, TestBroker};

const TOPIC: &str = "proxy-fixture";
const PARTITIONS: i32 = 6;

async fn cluster() -> (TestBroker, MultiBrokerProxy) {
    let broker = TestBroker::start().expect("start tansu");
    broker
        .create_topic(TOPIC, PARTITIONS)
        .expect("create topic");
    let proxy = MultiBrokerProxy::start(broker.addr(), 3)
        .await
        .expect("start proxy");
    (broker, proxy)
}

fn topic_name(s: &str) -> TopicName {
    TopicName(StrBytes::from_string(s.to_owned()))
}

async fn metadata(conn: &mut RawConnection, version: i16) -> MetadataResponse {
    let req = MetadataRequest::default().with_topics(Some(vec![
        metadata_request::MetadataRequestTopic::default().with_name(Some(topic_name(TOPIC))),
    ]));
    conn.call(version, &req).await.expect("metadata")
}

/// partition index -> (leader, leader epoch)
fn leaders(resp: &MetadataResponse) -> BTreeMap<i32, (i32, i32)> {
    let topic = resp
        .topics
        .iter()
        .find(|t| t.name.as_ref().map(|n| n.0.as_str()) == Some(TOPIC))
        .expect("topic in metadata");
    assert_eq!(topic.error_code, 0);
    topic
        .partitions
        .iter()
        .map(|p| (p.partition_index, (p.leader_id.0, p.leader_epoch)))
        .collect()
}

fn produce_request(partitions: &[i32], acks: i16) -> ProduceRequest {
    let data = partitions
        .iter()
        .map(|&p| {
            produce_request::PartitionProduceData::default()
                .with_index(p)
                .with_records(Some(record_batch(&[format!("v{p}").as_bytes()]).unwrap()))
        })
        .collect();
    ProduceRequest::default()
        .with_acks(acks)
        .with_timeout_ms(5_000)
        .with_topic_data(vec![produce_request::TopicProduceData::default()
            .with_name(topic_name(TOPIC))
            .with_partition_data(data)])
}

/// partition index -> (error code, base offset)
fn produce_results(resp: &ProduceResponse) -> BTreeMap<i32, (i16, i64)> {
    assert_eq!(resp.responses.len(), 1, "{resp:?}");
    resp.responses[0]
        .partition_responses
        .iter()
        .map(|p| (p.index, (p.error_code, p.base_offset)))
        .collect()
}

fn fetch_request(partition: i32, leader_epoch: i32) -> FetchRequest {
    FetchRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_max_wait_ms(100)
        .with_min_bytes(1)
        .with_max_bytes(1 << 20)
        .with_session_epoch(-1)
        .with_topics(vec![fetch_request::FetchTopic::default()
            .with_topic(topic_name(TOPIC))
            .with_partitions(vec![fetch_request::FetchPartition::default()
                .with_partition(partition)
                .with_current_leader_epoch(leader_epoch)
                .with_fetch_offset(0)
                .with_partition_max_bytes(1 << 20)])])
}

/// (error code, high watermark) of the only partition fetched
fn fetch_result(resp: &FetchResponse) -> (i16, i64) {
    assert_eq!(resp.error_code, 0, "{resp:?}");
    assert_eq!(resp.responses.len(), 1, "{resp:?}");
    assert_eq!(resp.responses[0].partitions.len(), 1, "{resp:?}");
    let p = &resp.responses[0].partitions[0];
    (p.error_code, p.high_watermark)
}

#[tokio::test]
async fn metadata_lists_three_brokers_with_leaders_spread() {
    let (_broker, proxy) = cluster().await;
    for version in [1, 9, 12] {
        let mut conn = RawConnection::connect(&proxy.addr(2)).await.unwrap();
        let resp = metadata(&mut conn, version).await;
        let brokers: Vec<(i32, String)> = resp
            .brokers
            .iter()
            .map(|b| (b.node_id.0, format!("{}:{}", b.host.as_str(), b.port)))
            .collect();
        let expected: Vec<(i32, String)> = (1..=3).map(|n| (n, proxy.addr(n))).collect();
        assert_eq!(brokers, expected, "v{version}");
        assert_eq!(resp.controller_id.0, 1);
        let leaders = leaders(&resp);
        assert_eq!(leaders.len(), PARTITIONS as usize);
        for (p, (leader, epoch)) in leaders {
            assert_eq!(leader, p % 3 + 1, "v{version} partition {p}");
            assert_eq!(
                epoch,
                if version >= 7 { 0 } else { -1 },
                "v{version} partition {p}"
            );
        }
    }
}

#[tokio::test]
async fn produce_to_a_follower_is_refused_per_partition() {
    let (_broker, proxy) = cluster().await;
    let mut node1 = RawConnection::connect(&proxy.addr(1)).await.unwrap();
    // Partition 0 is led by node 1, partition 1 by node 2: one request, two answers.
    for version in [3, 8, 9, 11] {
        let resp = node1
            .call(version, &produce_request(&[0, 1], -1))
            .await
            .unwrap();
        let results = produce_results(&resp);
        assert_eq!(results[&0].0, 0, "v{version}: {resp:?}");
        assert_eq!(
            results[&1],
            (NOT_LEADER_OR_FOLLOWER, -1),
            "v{version}: {resp:?}"
        );
    }
    // Only partition 0 took the four records; partition 1 got none through node 1.
    let mut node2 = RawConnection::connect(&proxy.addr(2)).await.unwrap();
    let resp = node2.call(11, &produce_request(&[1], -1)).await.unwrap();
    assert_eq!(produce_results(&resp)[&1], (0, 0));
    let resp = node1.call(11, &produce_request(&[0], -1)).await.unwrap();
    assert_eq!(produce_results(&resp)[&0], (0, 4));
}

#[tokio::test]
async fn refused_produce_names_the_new_leader_after_a_move() {
    let (_broker, proxy) = cluster().await;
    let mut node2 = RawConnection::connect(&proxy.addr(2)).await.unwrap();
    assert_eq!(leaders(&metadata(&mut node2, 12).await)[&1], (2, 0));

    let moved = proxy.move_leader(TOPIC, 1, 3);
    assert_eq!((moved.leader, moved.epoch), (3, 1));
    assert_eq!(leaders(&metadata(&mut node2, 12).await)[&1], (3, 1));

    let resp = node2.call(10, &produce_request(&[1], 1)).await.unwrap();
    let p = &resp.responses[0].partition_responses[0];
    assert_eq!(p.error_code, NOT_LEADER_OR_FOLLOWER);
    // KIP-951: the refusal says who leads now and where to find it.
    assert_eq!(
        (p.current_leader.leader_id.0, p.current_leader.leader_epoch),
        (3, 1)
    );
    let endpoints: Vec<(i32, i32)> = resp
        .node_endpoints
        .iter()
        .map(|n| (n.node_id.0, n.port))
        .collect();
    let port3: i32 = proxy.addr(3).rsplit(':').next().unwrap().parse().unwrap();
    assert_eq!(endpoints, vec![(3, port3)]);

    let mut node3 = RawConnection::connect(&proxy.addr(3)).await.unwrap();
    let resp = node3.call(10, &produce_request(&[1], 1)).await.unwrap();
    assert_eq!(produce_results(&resp)[&1], (0, 0));
}

#[tokio::test]
async fn fetch_checks_leader_and_leader_epoch() {
    let (_broker, proxy) = cluster().await;
    let mut node1 = RawConnection::connect(&proxy.addr(1)).await.unwrap();
    let resp = node1.call(9, &produce_request(&[0], -1)).await.unwrap();
    assert_eq!(produce_results(&resp)[&0], (0, 0));

    // Leader, current epoch: the data is there.
    let resp = node1.call(12, &fetch_request(0, 0)).await.unwrap();
    assert_eq!(fetch_result(&resp), (0, 1));
    // Not the leader.
    let mut node2 = RawConnection::connect(&proxy.addr(2)).await.unwrap();
    let resp = node2.call(12, &fetch_request(0, 0)).await.unwrap();
    assert_eq!(fetch_result(&resp), (NOT_LEADER_OR_FOLLOWER, -1));
    let p = &resp.responses[0].partitions[0];
    assert_eq!(
        (p.current_leader.leader_id.0, p.current_leader.leader_epoch),
        (1, 0)
    );
    // Non-flexible version, same answer.
    let resp = node2.call(4, &fetch_request(0, -1)).await.unwrap();
    assert_eq!(fetch_result(&resp).0, NOT_LEADER_OR_FOLLOWER);

    // Re-elected on node 1 with epoch 1: a client still at epoch 0 is fenced (KIP-320).
    proxy.move_leader(TOPIC, 0, 1);
    let resp = node1.call(12, &fetch_request(0, 0)).await.unwrap();
    assert_eq!(fetch_result(&resp).0, FENCED_LEADER_EPOCH);
    let resp = node1.call(12, &fetch_request(0, 1)).await.unwrap();
    assert_eq!(fetch_result(&resp), (0, 1));
}

#[tokio::test]
async fn list_offsets_to_a_follower_is_refused() {
    let (_broker, proxy) = cluster().await;
    let req = ListOffsetsRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_topics(vec![list_offsets_request::ListOffsetsTopic::default()
            .with_name(topic_name(TOPIC))
            .with_partitions(vec![
                list_offsets_request::ListOffsetsPartition::default()
                    .with_partition_index(2)
                    .with_timestamp(-1),
            ])]);
    let mut node3 = RawConnection::connect(&proxy.addr(3)).await.unwrap();
    let resp = node3.call(7, &req).await.unwrap();
    assert_eq!(resp.topics[0].partitions[0].error_code, 0, "{resp:?}");
    let mut node1 = RawConnection::connect(&proxy.addr(1)).await.unwrap();
    let resp = node1.call(7, &req).await.unwrap();
    assert_eq!(
        resp.topics[0].partitions[0].error_code,
        NOT_LEADER_OR_FOLLOWER
    );
}

#[tokio::test]
async fn coordinator_and_cluster_are_virtual_nodes() {
    let (_broker, proxy) = cluster().await;
    let mut conn = RawConnection::connect(&proxy.addr(1)).await.unwrap();
    proxy.set_coordinator(2);
    let v3 = FindCoordinatorRequest::default().with_key(StrBytes::from_static_str("g1"));
    let resp = conn.call(3, &v3).await.unwrap();
    assert_eq!((resp.error_code, resp.node_id.0), (0, 2), "{resp:?}");
    assert_eq!(
        format!("{}:{}", resp.host.as_str(), resp.port),
        proxy.addr(2)
    );
    let v4 = FindCoordinatorRequest::default()
        .with_coordinator_keys(vec![StrBytes::from_static_str("g1")]);
    let resp = conn.call(4, &v4).await.unwrap();
    assert_eq!(resp.coordinators.len(), 1);
    assert_eq!(
        (
            resp.coordinators[0].error_code,
            resp.coordinators[0].node_id.0
        ),
        (0, 2)
    );

    let resp = conn
        .call(0, &DescribeClusterRequest::default())
        .await
        .unwrap();
    let ids: Vec<i32> = resp.brokers.iter().map(|b| b.broker_id.0).collect();
    assert_eq!(ids, vec![1, 2, 3]);
}

#[tokio::test]
async fn drop_connections_closes_the_socket() {
    let (_broker, proxy) = cluster().await;
    let mut conn = RawConnection::connect(&proxy.addr(2)).await.unwrap();
    let mut other = RawConnection::connect(&proxy.addr(1)).await.unwrap();
    let api = ApiVersionsRequest::default();
    assert_eq!(conn.call(0, &api).await.unwrap().error_code, 0);

    proxy.drop_connections(2);
    assert!(
        conn.read_frame().await.unwrap().is_none(),
        "socket must be closed"
    );
    // Other nodes keep their connections; node 2 accepts new ones.
    assert_eq!(other.call(0, &api).await.unwrap().error_code, 0);
    let mut again = RawConnection::connect(&proxy.addr(2)).await.unwrap();
    assert_eq!(again.call(0, &api).await.unwrap().error_code, 0);
}

#[tokio::test]
async fn killed_broker_refuses_connections_until_revived() {
    let (_broker, proxy) = cluster().await;
    let mut held = RawConnection::connect(&proxy.addr(2)).await.unwrap();
    proxy.kill_broker(2);
    assert!(held.read_frame().await.unwrap().is_none(), "connection cut");
    assert!(
        RawConnection::connect(&proxy.addr(2)).await.is_err(),
        "connect refused"
    );

    let mut node1 = RawConnection::connect(&proxy.addr(1)).await.unwrap();
    let resp = metadata(&mut node1, 12).await;
    let ids: Vec<i32> = resp.brokers.iter().map(|b| b.node_id.0).collect();
    assert_eq!(ids, vec![1, 3]);
    // Partitions 1 and 4 were led by node 2: no leader now.
    let topic = &resp.topics[0];
    let p1 = topic
        .partitions
        .iter()
        .find(|p| p.partition_index == 1)
        .unwrap();
    assert_eq!((p1.leader_id.0, p1.error_code), (-1, 5));
    assert!(p1.offline_replicas.iter().any(|n| n.0 == 2));

    proxy.revive_broker(2).unwrap();
    let mut node2 = RawConnection::connect(&proxy.addr(2)).await.unwrap();
    assert_eq!(leaders(&metadata(&mut node2, 12).await)[&1], (2, 0));
}

#[tokio::test]
async fn dropped_response_still_applies_the_request() {
    let (_broker, proxy) = cluster().await;
    let mut node1 = RawConnection::connect(&proxy.addr(1)).await.unwrap();
    proxy.drop_next_response(1, ApiKey::Produce as i16);
    node1.send(9, &produce_request(&[0], -1)).await.unwrap();
    assert!(
        node1.read_frame().await.unwrap().is_none(),
        "no response, connection closed"
    );

    // The record was written: the retry lands at offset 1 and the log holds both.
    let mut node1 = RawConnection::connect(&proxy.addr(1)).await.unwrap();
    let resp = node1.call(9, &produce_request(&[0], -1)).await.unwrap();
    assert_eq!(produce_results(&resp)[&0], (0, 1));
    let resp = node1.call(12, &fetch_request(0, 0)).await.unwrap();
    assert_eq!(fetch_result(&resp), (0, 2));
}

#[tokio::test]
async fn request_log_records_node_key_and_version() {
    let (_broker, proxy) = cluster().await;
    let mut node3 = RawConnection::connect(&proxy.addr(3)).await.unwrap();
    node3.call(3, &ApiVersionsRequest::default()).await.unwrap();
    metadata(&mut node3, 12).await;
    let seen: Vec<(i32, i16, i16)> = proxy
        .request_log()
        .iter()
        .map(|r| (r.node, r.api_key, r.api_version))
        .collect();
    assert_eq!(
        seen,
        vec![
            (3, ApiKey::ApiVersions as i16, 3),
            (3, ApiKey::Metadata as i16, 12)
        ]
    );
    proxy.clear_request_log();
    assert!(proxy.request_log().is_empty());
}

#[tokio::test]
async fn acks_zero_gets_no_response_and_a_refusal_closes_the_connection() {
    let (_broker, proxy) = cluster().await;
    let mut node1 = RawConnection::connect(&proxy.addr(1)).await.unwrap();
    // Tansu answers acks=0 produces; through the proxy, as from Kafka, nothing comes back, so
    // the next response on the connection is the next request's.
    node1.send(9, &produce_request(&[0], 0)).await.unwrap();
    let resp = node1.call(3, &ApiVersionsRequest::default()).await.unwrap();
    assert_eq!(resp.error_code, 0);
    let resp = node1.call(9, &produce_request(&[0], -1)).await.unwrap();
    assert_eq!(
        produce_results(&resp)[&0],
        (0, 1),
        "the acks=0 record was written"
    );

    // acks=0 to a follower: the connection is closed (Kafka's signal to refresh metadata).
    node1.send(9, &produce_request(&[1], 0)).await.unwrap();
    assert!(node1.read_frame().await.unwrap().is_none());
}

#[tokio::test]
async fn group_requests_to_a_non_coordinator_get_not_coordinator() {
    use kafka_protocol::messages::{
        offset_fetch_request, GroupId, HeartbeatRequest, JoinGroupRequest, OffsetFetchRequest,
    };
    use rafka_integration::proxy::NOT_COORDINATOR;

    let (_broker, proxy) = cluster().await;
    let group = || GroupId(StrBytes::from_static_str("proxy-group"));
    let heartbeat = HeartbeatRequest::default()
        .with_group_id(group())
        .with_generation_id(1)
        .with_member_id(StrBytes::from_static_str("m"));
    let offset_fetch = |version: i16| {
        let topics = Some(vec![
            offset_fetch_request::OffsetFetchRequestTopic::default()
                .with_name(topic_name(TOPIC))
                .with_partition_indexes(vec![0, 1]),
        ]);
        if version >= 8 {
            OffsetFetchRequest::default().with_groups(vec![
                offset_fetch_request::OffsetFetchRequestGroup::default().with_group_id(group()),
            ])
        } else {
            OffsetFetchRequest::default()
                .with_group_id(group())
                .with_topics(topics)
        }
    };

    let mut node2 = RawConnection::connect(&proxy.addr(2)).await.unwrap();
    let resp = node2.call(4, &heartbeat).await.unwrap();
    assert_eq!(resp.error_code, NOT_COORDINATOR);
    let join = JoinGroupRequest::default()
        .with_group_id(group())
        .with_session_timeout_ms(6_000)
        .with_rebalance_timeout_ms(6_000)
        .with_protocol_type(StrBytes::from_static_str("consumer"));
    assert_eq!(
        node2.call(9, &join).await.unwrap().error_code,
        NOT_COORDINATOR
    );
    let resp = node2.call(1, &offset_fetch(1)).await.unwrap();
    let errors: Vec<i16> = resp.topics[0]
        .partitions
        .iter()
        .map(|p| p.error_code)
        .collect();
    assert_eq!(errors, vec![NOT_COORDINATOR, NOT_COORDINATOR]);
    assert_eq!(
        node2.call(7, &offset_fetch(7)).await.unwrap().error_code,
        NOT_COORDINATOR
    );
    let resp = node2.call(8, &offset_fetch(8)).await.unwrap();
    assert_eq!(resp.groups[0].error_code, NOT_COORDINATOR);
    // None of them reached Tansu: the coordinator (node 1) answers for real.
    let mut node1 = RawConnection::connect(&proxy.addr(1)).await.unwrap();
    let resp = node1.call(7, &offset_fetch(7)).await.unwrap();
    assert_eq!(resp.error_code, 0, "{resp:?}");

    // Moving the coordinator flips who refuses.
    proxy.set_coordinator(2);
    assert_eq!(
        node1.call(4, &heartbeat).await.unwrap().error_code,
        NOT_COORDINATOR
    );
    assert_eq!(node2.call(7, &offset_fetch(7)).await.unwrap().error_code, 0);
}

/// A real client (librdkafka 2.16) through the proxy: it must find the leaders from Metadata,
/// produce and fetch on all three nodes, and follow leaders moved while it produces.
#[tokio::test]
async fn librdkafka_follows_moved_leaders_through_the_proxy() {
    use rafka_integration::python::{require_python, run_python_async, spawn_python};
    if require_python().is_none() {
        return;
    }
    let (_broker, proxy) = cluster().await;
    let producer = r#"
import sys, time
from confluent_kafka import Producer
p = Producer({"bootstrap.servers": sys.argv[1], "linger.ms": 5, "retries": 100,
              "retry.backoff.ms": 50, "message.timeout.ms": 30000})
done = {"ok": 0, "err": []}
def report(err, msg):
    if err is None:
        done["ok"] += 1
    else:
        done["err"].append(str(err))
for i in range(300):
    p.produce(sys.argv[2], key=b"k%d" % i, value=b"v%d" % i, partition=i % 6, on_delivery=report)
    p.poll(0)
    time.sleep(0.01)
p.flush(30)
print(done["ok"], len(done["err"]), done["err"][:3])
"#;
    let child = spawn_python(producer, &[&proxy.bootstrap_servers(), TOPIC]).unwrap();
    // Let it produce to the first leaders, then move every partition to the next node.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    for p in 0..PARTITIONS {
        let l = proxy.leader(TOPIC, p);
        proxy.move_leader(TOPIC, p, l.leader % 3 + 1);
    }
    let out = child.wait_with_output().await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.starts_with("300 0 "), "delivered, failed: {stdout}");

    let consumer = r#"
import sys
from confluent_kafka import Consumer, TopicPartition, OFFSET_BEGINNING
c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": "unused", "enable.auto.commit": False})
c.assign([TopicPartition(sys.argv[2], p, OFFSET_BEGINNING) for p in range(6)])
seen = set()
for _ in range(200):
    for m in c.consume(100, 0.2):
        if m.error() is None:
            seen.add(m.value())
    if len(seen) == 300:
        break
print(len(seen))
"#;
    let out = run_python_async(consumer, &[&proxy.bootstrap_servers(), TOPIC])
        .await
        .unwrap();
    assert_eq!(out.trim(), "300");

    let log = proxy.request_log();
    for key in [ApiKey::Produce, ApiKey::Fetch] {
        let nodes: std::collections::BTreeSet<i32> = log
            .iter()
            .filter(|r| r.api_key == key as i16)
            .map(|r| r.node)
            .collect();
        assert_eq!(nodes.len(), 3, "{key:?} reached nodes {nodes:?}");
    }
    // The refusals after the move made it look the leaders up again.
    let metadata = log
        .iter()
        .filter(|r| r.api_key == ApiKey::Metadata as i16)
        .count();
    assert!(metadata >= 2, "{metadata} Metadata requests");
}
