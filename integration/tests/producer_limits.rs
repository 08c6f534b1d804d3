//! buffer.memory back-pressure (max.block.ms) on the test broker (Kafka or Tansu), and close()
//! with undeliverable records (a virtual broker of the multi-broker proxy killed on demand, over
//! a private Tansu).

mod producer_support;

use std::time::Duration;

use rafka::producer::{ProduceError, Producer, ProducerConfig, ProducerRecord};
use rafka_integration::{MultiBrokerProxy, TestBroker, TestTarget};

use producer_support::{create_topic, read_partition};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_buffer_blocks_send_for_max_block_then_frees_on_delivery() {
    let t = TestTarget::start().unwrap();
    let mem = t.topic("mem");
    create_topic(&t, &mem, 1).await;
    let producer = Producer::new(
        ProducerConfig::builder(&t.addr())
            .buffer_memory(2_000)
            .linger(Duration::from_secs(5))
            .request_timeout(Duration::from_secs(5))
            .delivery_timeout(Duration::from_secs(30))
            .max_block(Duration::from_millis(300))
            .build()
            .unwrap(),
    )
    .unwrap();
    let mut futures = Vec::new();
    let err = loop {
        match producer
            .send(ProducerRecord::new(&mem).value(vec![7u8; 500]))
            .await
        {
            Ok(f) => futures.push(f),
            Err(e) => break e,
        }
        assert!(futures.len() < 10, "buffer.memory of 2000 bytes must fill");
    };
    assert!(
        matches!(&err, ProduceError::MaxBlockTimeout { what, .. } if what == "buffer memory"),
        "{err}"
    );
    assert_eq!(
        futures.len(),
        3,
        "three ~570-byte records fit in 2000 bytes"
    );
    assert!(producer.metrics().buffer_bytes_in_use > 1_500);
    // Delivery frees the memory: the next send goes through.
    producer.flush().await;
    for f in futures {
        f.await.unwrap();
    }
    assert_eq!(producer.metrics().buffer_bytes_in_use, 0);
    let f = producer
        .send(ProducerRecord::new(&mem).value(vec![8u8; 500]))
        .await
        .unwrap();
    producer.close(Duration::from_secs(10)).await.unwrap();
    assert_eq!(f.await.unwrap().offset, 3);
    assert_eq!(read_partition(&t.addr(), &mem, 0).await.len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_fails_undeliverable_records_instead_of_dropping_them() {
    // On a private Tansu behind the proxy on purpose: the proxy takes a virtual broker down
    // while it stays the partition's leader, so records for that partition can never be
    // delivered; a real cluster would elect another leader and deliver them.
    let broker = TestBroker::start().unwrap();
    broker.create_topic("stuck", 3).unwrap();
    let proxy = MultiBrokerProxy::start(broker.addr(), 3).await.unwrap();
    let producer = Producer::new(
        ProducerConfig::builder(&proxy.bootstrap_servers())
            .request_timeout(Duration::from_secs(2))
            .delivery_timeout(Duration::from_secs(60))
            .retry_backoff(Duration::from_millis(50), Duration::from_millis(200))
            .build()
            .unwrap(),
    )
    .unwrap();
    // Metadata first, then take down the leader of partition 1 (node 2).
    producer.partitions_for("stuck").await.unwrap();
    proxy.kill_broker(2);
    let mut ok = Vec::new();
    let mut stuck = Vec::new();
    for i in 0..20 {
        let p = if i % 2 == 0 { 0 } else { 1 };
        let f = producer
            .send(
                ProducerRecord::new("stuck")
                    .partition(p)
                    .value(format!("{i}")),
            )
            .await
            .unwrap();
        if p == 0 {
            ok.push(f);
        } else {
            stuck.push(f);
        }
    }
    for f in ok {
        f.await.unwrap();
    }
    let err = producer
        .close(Duration::from_millis(800))
        .await
        .unwrap_err();
    assert!(matches!(err, ProduceError::Closed));
    for f in stuck {
        assert!(
            matches!(f.await, Err(ProduceError::Closed)),
            "every undelivered record fails with Closed"
        );
    }
    assert!(producer.metrics().records_sent >= 10);
}
