//! Rebootstrap (KIP-899): when every broker the client knows is gone and the cluster answers on
//! new ports behind the same bootstrap address, the client finds it again through
//! `bootstrap.servers`. Private single-node Apache Kafka clusters; the bootstrap address is a
//! TCP forwarder standing for a DNS name or load balancer.

use std::time::{Duration, Instant};

use rafka::producer::{Producer, ProducerConfig, ProducerRecord};
use rafka_integration::forward::TcpForward;
use rafka_integration::{unique_name, KafkaCluster};

fn start_cluster() -> KafkaCluster {
    tokio::task::block_in_place(|| KafkaCluster::start(1)).expect("a 1-node Kafka cluster")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn producer_follows_a_cluster_whose_every_broker_moved_behind_the_bootstrap_address() {
    let first = start_cluster();
    let topic = unique_name("rebootstrap");
    first.create_topic(&topic, 1, 1, 1).await.unwrap();
    let bootstrap = TcpForward::start(&first.addr(1)).await.unwrap();
    let config = ProducerConfig::builder(bootstrap.addr())
        .request_timeout(Duration::from_secs(5))
        .delivery_timeout(Duration::from_secs(90))
        .build()
        .unwrap();
    let producer = Producer::new(config).unwrap();
    let send = |value: &'static str| {
        let producer = producer.clone();
        let topic = topic.clone();
        async move {
            producer
                .send(ProducerRecord::new(&topic).value(value))
                .await
                .expect("enqueued")
                .await
                .expect("acknowledged")
        }
    };
    assert_eq!(send("before").await.offset, 0);
    let known = producer.client().cached_metadata();
    assert_eq!(known.broker(1).unwrap().addr(), first.addr(1));

    // The cluster moves: the brokers the producer knows go away for good, and the cluster
    // answers on other ports behind the same bootstrap address.
    let second = start_cluster();
    assert_ne!(second.addr(1), first.addr(1));
    second.create_topic(&topic, 1, 1, 1).await.unwrap();
    bootstrap.retarget(&second.addr(1));
    tokio::task::block_in_place(|| drop(first));

    let moved = Instant::now();
    let after = send("after").await;
    eprintln!(
        "REBOOTSTRAP first record acknowledged {:.1?} after every known broker went away",
        moved.elapsed()
    );
    assert_eq!(after.offset, 0, "written to the second cluster's log");
    let known = producer.client().cached_metadata();
    assert_eq!(known.broker(1).unwrap().addr(), second.addr(1));
    producer.close(Duration::from_secs(10)).await.unwrap();
}
