//! The idempotent producer under lost produce responses (the multi-broker proxy applies the
//! request, then closes the connection instead of answering): retries must not duplicate or
//! reorder records. A non-idempotent producer under the same faults shows the faults bite.

mod producer_support;

use std::time::Duration;

use kafka_protocol::messages::ApiKey;
use rafka::producer::{Acks, Producer, ProducerConfig, ProducerRecord};
use rafka_integration::{MultiBrokerProxy, TestBroker};

use producer_support::read_partition;

const PARTITIONS: i32 = 3;

/// Produces 0..n per partition while arming lost responses; returns per-partition values.
async fn produce_under_faults(idempotent: bool, topic: &str) -> Vec<Vec<u32>> {
    let broker = TestBroker::start().unwrap();
    broker.create_topic(topic, PARTITIONS).unwrap();
    let proxy = MultiBrokerProxy::start(broker.addr(), 3).await.unwrap();
    let mut cfg = ProducerConfig::builder(&proxy.bootstrap_servers())
        .linger(Duration::from_millis(2))
        .batch_size(400)
        .request_timeout(Duration::from_secs(5))
        .delivery_timeout(Duration::from_secs(60))
        .retry_backoff(Duration::from_millis(20), Duration::from_millis(200))
        .enable_idempotence(idempotent);
    if !idempotent {
        cfg = cfg.acks(Acks::All).max_in_flight(1);
    }
    let producer = Producer::new(cfg.build().unwrap()).unwrap();
    let n = 200u32;
    let mut futures = Vec::new();
    for i in 0..n {
        if i % 40 == 10 {
            // Lose the next produce response of every broker.
            for node in proxy.node_ids() {
                proxy.drop_next_response(node, ApiKey::Produce as i16);
            }
        }
        for p in 0..PARTITIONS {
            futures.push(
                producer
                    .send(ProducerRecord::new(topic).partition(p).value(i.to_string()))
                    .await
                    .unwrap(),
            );
        }
        if i % 20 == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    for f in futures {
        f.await.unwrap();
    }
    let m = producer.metrics();
    assert!(m.retries > 0, "the injected faults caused retries: {m:?}");
    producer.close(Duration::from_secs(10)).await.unwrap();
    let mut out = Vec::new();
    for p in 0..PARTITIONS {
        out.push(
            read_partition(&broker.addr(), topic, p)
                .await
                .into_iter()
                .map(|r| {
                    String::from_utf8(r.value.unwrap().to_vec())
                        .unwrap()
                        .parse()
                        .unwrap()
                })
                .collect(),
        );
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_producer_writes_each_record_once_in_order() {
    let logs = produce_under_faults(true, "idem").await;
    let expected: Vec<u32> = (0..200).collect();
    for (p, log) in logs.iter().enumerate() {
        assert_eq!(
            log, &expected,
            "partition {p}: no duplicates, no gaps, in order"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_idempotence_lost_responses_duplicate_records() {
    let logs = produce_under_faults(false, "plain").await;
    let total: usize = logs.iter().map(Vec::len).sum();
    assert!(
        total > 600,
        "retries after lost responses re-wrote records ({total} for 600 sent)"
    );
    for log in &logs {
        // A lost ack re-writes a whole batch, so the log replays runs; with
        // max.in.flight=1 the first occurrences are still in order and complete.
        let mut seen = std::collections::HashSet::new();
        let firsts: Vec<u32> = log.iter().copied().filter(|v| seen.insert(*v)).collect();
        assert_eq!(
            firsts,
            (0..200).collect::<Vec<u32>>(),
            "still ordered with max.in.flight=1"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leader_moves_are_followed_without_loss_or_duplicates() {
    let broker = TestBroker::start().unwrap();
    broker.create_topic("moving", 2).unwrap();
    let proxy = MultiBrokerProxy::start(broker.addr(), 3).await.unwrap();
    let producer = Producer::new(
        ProducerConfig::builder(&proxy.bootstrap_servers())
            .linger(Duration::from_millis(2))
            .batch_size(300)
            .request_timeout(Duration::from_secs(5))
            .retry_backoff(Duration::from_millis(20), Duration::from_millis(100))
            .build()
            .unwrap(),
    )
    .unwrap();
    let mut futures = Vec::new();
    for i in 0..150u32 {
        if i == 50 {
            proxy.move_leader("moving", 0, 3);
        }
        if i == 100 {
            proxy.move_leader("moving", 1, 1);
            proxy.move_leader("moving", 0, 2);
        }
        for p in 0..2 {
            futures.push(
                producer
                    .send(
                        ProducerRecord::new("moving")
                            .partition(p)
                            .value(i.to_string()),
                    )
                    .await
                    .unwrap(),
            );
        }
        if i % 10 == 0 {
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
    }
    for f in futures {
        f.await.unwrap();
    }
    assert!(
        producer.metrics().retries > 0,
        "NOT_LEADER_OR_FOLLOWER was retried"
    );
    producer.close(Duration::from_secs(10)).await.unwrap();
    for p in 0..2 {
        let values: Vec<u32> = read_partition(&broker.addr(), "moving", p)
            .await
            .into_iter()
            .map(|r| {
                String::from_utf8(r.value.unwrap().to_vec())
                    .unwrap()
                    .parse()
                    .unwrap()
            })
            .collect();
        assert_eq!(values, (0..150).collect::<Vec<u32>>(), "partition {p}");
    }
}
