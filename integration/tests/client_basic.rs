//! rafka-client against a real broker: bootstrap, metadata and routing on the test broker
//! (Apache Kafka under the test command); lost connections on a private Tansu, which restarts in
//! a fraction of a second (a Kafka node's restart is covered by kafka_failover.rs); timeouts on
//! an in-test listener.

use std::time::Duration;

use kafka_protocol::messages::{ApiVersionsRequest, ListGroupsRequest, MetadataRequest};
use rafka_client::rafka_wire::negotiate::{negotiate, KAFKA_4_MIN_VERSIONS};
use rafka_client::rafka_wire::request::{api_name, SUPPORTED_APIS};
use rafka_client::{Client, ClientConfig, Error, Target};
use rafka_integration::{TestBroker, TestTarget};

fn config(addr: &str) -> ClientConfig {
    ClientConfig::builder()
        .bootstrap_servers(addr)
        .client_id("client-it")
        .request_timeout(Duration::from_secs(5))
        .default_api_timeout(Duration::from_secs(15))
        .build()
        .unwrap()
}

/// A general-purpose connection to the first broker of the cached metadata.
async fn first_connection(client: &Client) -> std::sync::Arc<rafka_client::connection::Connection> {
    let node = *client.cached_metadata().brokers.keys().next().unwrap();
    client
        .connection(node, rafka_client::Purpose::General)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_and_metadata() {
    let broker = TestTarget::start().unwrap();
    let topic = broker.topic("meta-topic");
    let missing = broker.topic("no-such-topic");
    broker.create_topic(&topic, 3).unwrap();
    let client = Client::connect(config(&broker.addr())).await.unwrap();
    let cluster = client.metadata_for(&[&topic, &missing]).await.unwrap();
    // Every broker, advertised on the addresses we bootstrapped from (Kafka: three nodes;
    // Tansu: one, node 111).
    let addrs: Vec<String> = cluster.brokers.values().map(|b| b.addr()).collect();
    assert_eq!(addrs.join(","), broker.addr());
    assert_eq!(cluster.partition_count(&topic), Some(3));
    let mut leaders = std::collections::BTreeSet::new();
    for p in 0..3 {
        let leader = client.leader_for(&topic, p).await.unwrap();
        assert!(cluster.brokers.contains_key(&leader), "leader {leader}");
        leaders.insert(leader);
    }
    if broker.is_kafka() {
        // Kafka spreads the leaders of a new topic over the brokers.
        assert_eq!(leaders.len(), 3, "{leaders:?}");
    }
    let node = *leaders.iter().next().unwrap();
    assert!(cluster.cluster_id.is_some());
    assert!(matches!(
        client.leader_for(&topic, 3).await,
        Err(Error::UnknownTopicOrPartition {
            partition: Some(3),
            ..
        })
    ));

    // Routing by node id and to the leader reaches the same broker.
    let resp = client
        .send_to_broker(node, MetadataRequest::default().with_topics(Some(vec![])))
        .await
        .unwrap();
    assert_eq!(resp.brokers.len(), cluster.brokers.len());
    let groups = client
        .send(Target::Any, ListGroupsRequest::default())
        .await
        .unwrap();
    assert_eq!(groups.error_code, 0);
    let versions = client
        .connection(node, rafka_client::Purpose::General)
        .await
        .unwrap();
    assert_eq!(versions.version_of::<MetadataRequest>().unwrap(), 12);
    assert_eq!(versions.version_of::<ApiVersionsRequest>().unwrap(), 3);
}

/// KIP-896: against Apache Kafka 4.x every API rafka speaks negotiates to a version the
/// broker advertises and at or above the 4.0 floor, even where the broker advertises lower
/// versions it refuses (Produce v0–2).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn negotiated_versions_respect_the_kafka_4_floor() {
    let broker = TestTarget::start().unwrap();
    if !broker.is_kafka() {
        return;
    }
    let client = Client::connect(config(&broker.addr())).await.unwrap();
    // The versions the broker advertised in the connection's own ApiVersions handshake.
    let conn = first_connection(&client).await;
    let advertised = conn.versions().expect("handshake done").clone();
    assert_eq!(
        advertised.range(0).map(|r| r.min),
        Some(0),
        "Kafka 4.x still advertises Produce v0"
    );
    let mut unsupported = Vec::new();
    for (&(key, _), result) in SUPPORTED_APIS
        .iter()
        .zip(negotiate(SUPPORTED_APIS, &advertised))
    {
        match result {
            Ok((_, version)) => {
                let floor = KAFKA_4_MIN_VERSIONS
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map_or(0, |(_, f)| *f);
                assert!(
                    version >= floor,
                    "{} v{version} is below Kafka 4's floor v{floor}",
                    api_name(key)
                );
            }
            Err(e) => unsupported.push(format!("{}: {e}", api_name(key))),
        }
    }
    // Every API rafka speaks is one the 4.4 broker serves at a common version.
    assert!(unsupported.is_empty(), "{unsupported:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarted_broker_gives_typed_error_then_client_recovers() {
    let mut broker = TestBroker::start().unwrap();
    let client = Client::connect(config(&broker.addr())).await.unwrap();
    let conn = first_connection(&client).await;
    let node = conn.broker().node_id;
    broker.restart().unwrap();
    // The old connection is dead: the request fails with a transport error, not a hang.
    let err = conn
        .send(&MetadataRequest::default().with_topics(Some(vec![])))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Io { .. } | Error::ConnectionClosed { .. }),
        "{err:?}"
    );
    assert!(err.is_retriable());
    // The client reconnects on next use.
    let resp = client
        .with_retries("metadata", || {
            client.send_to_broker(node, MetadataRequest::default().with_topics(Some(vec![])))
        })
        .await
        .unwrap();
    assert_eq!(resp.brokers.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_broker_times_out() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            let (s, _) = listener.accept().await.unwrap();
            held.push(s);
        }
    });
    let cfg = ClientConfig::builder()
        .bootstrap_servers(&addr)
        .request_timeout(Duration::from_millis(300))
        .socket_connection_setup_timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let err = Client::connect(cfg).await.unwrap_err();
    assert!(
        matches!(&err, Error::Timeout { broker, .. } if broker.addr == addr),
        "{err:?}"
    );
    hold.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_refused_is_io_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    drop(listener);
    let err = Client::connect(config(&addr)).await.unwrap_err();
    assert!(
        matches!(&err, Error::Io { broker, .. } if broker.addr == addr),
        "{err:?}"
    );
    assert!(err.is_retriable());
}

/// A Fetch held by the broker (empty partition, long max wait) is in flight when the broker
/// restarts: the waiter gets a transport error, and the client reconnects for the next one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_restart_mid_request() {
    use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
    use kafka_protocol::messages::{BrokerId, FetchRequest, TopicName};
    use kafka_protocol::protocol::StrBytes;

    let mut broker = TestBroker::start().unwrap();
    broker.create_topic("held", 1).unwrap();
    let client = Client::connect(config(&broker.addr())).await.unwrap();
    let node = client.leader_for("held", 0).await.unwrap();
    let conn = client
        .connection(node, rafka_client::Purpose::Fetch)
        .await
        .unwrap();
    let fetch = FetchRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_max_wait_ms(4_000)
        .with_min_bytes(1)
        .with_max_bytes(1 << 20)
        .with_topics(vec![FetchTopic::default()
            .with_topic(TopicName(StrBytes::from_static_str("held")))
            .with_partitions(vec![FetchPartition::default()
                .with_partition(0)
                .with_fetch_offset(0)
                .with_partition_max_bytes(1 << 20)])]);
    let c = conn.clone();
    let held = tokio::spawn(async move { c.send(&fetch).await });
    // Wait (bounded) until the request is on the wire and waiting for its answer.
    for _ in 0..100 {
        if conn.in_flight() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(conn.in_flight(), 1, "fetch not in flight");
    broker.restart().unwrap();
    let err = held.await.unwrap().unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Io { .. } | Error::ConnectionClosed { api: Some(_), .. }
        ),
        "{err:?}"
    );
    assert!(err.is_retriable() && err.invalidates_metadata());
    assert!(!conn.is_alive());
    let fresh = client
        .with_retries("reconnect", || {
            client.connection(node, rafka_client::Purpose::Fetch)
        })
        .await
        .unwrap();
    assert!(fresh.is_alive());
    assert_eq!(fresh.in_flight(), 0);
}
