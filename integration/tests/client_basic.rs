//! rafka-client against a real Tansu: bootstrap, metadata, routing, lost connections and
//! timeouts.

use std::time::Duration;

use kafka_protocol::messages::{ApiVersionsRequest, ListGroupsRequest, MetadataRequest};
use rafka_client::{Client, ClientConfig, Error, Target};
use rafka_integration::TestBroker;

fn config(addr: &str) -> ClientConfig {
    ClientConfig::builder()
        .bootstrap_servers(addr)
        .client_id("client-it")
        .request_timeout(Duration::from_secs(5))
        .default_api_timeout(Duration::from_secs(15))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_and_metadata() {
    let broker = TestBroker::start().unwrap();
    broker.create_topic("meta-topic", 3).unwrap();
    let client = Client::connect(config(&broker.addr())).await.unwrap();
    let cluster = client
        .metadata_for(&["meta-topic", "no-such-topic"])
        .await
        .unwrap();
    // Tansu is one broker, node 111, advertised on the address we connected to.
    assert_eq!(cluster.brokers.len(), 1);
    let (&node, info) = cluster.brokers.iter().next().unwrap();
    assert_eq!(info.addr(), broker.addr());
    assert_eq!(cluster.partition_count("meta-topic"), Some(3));
    for p in 0..3 {
        assert_eq!(client.leader_for("meta-topic", p).await.unwrap(), node);
    }
    assert!(cluster.cluster_id.is_some());
    assert!(matches!(
        client.leader_for("meta-topic", 3).await,
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
    assert_eq!(resp.brokers.len(), 1);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarted_broker_gives_typed_error_then_client_recovers() {
    let mut broker = TestBroker::start().unwrap();
    let client = Client::connect(config(&broker.addr())).await.unwrap();
    let node = *client.cached_metadata().brokers.keys().next().unwrap();
    let conn = client
        .connection(node, rafka_client::Purpose::General)
        .await
        .unwrap();
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
