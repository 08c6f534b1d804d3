//! Runs the consumer examples against the test broker (the shared Apache Kafka cluster, or a
//! private Tansu with `RAFKA_TEST_TARGET=tansu`): each example's `run` is the code
//! `cargo run --example` runs.

mod consumer_support;

#[path = "../../rafka/examples/partition_consumers.rs"]
#[allow(dead_code)]
mod partition_consumers;
#[path = "../../rafka/examples/rebalance_listener.rs"]
#[allow(dead_code)]
mod rebalance_listener;
#[path = "../../rafka/examples/reliable_producer.rs"]
#[allow(dead_code)]
mod reliable_producer;
#[path = "../../rafka/examples/standalone_offset_manager.rs"]
#[allow(dead_code)]
mod standalone_offset_manager;

use std::collections::BTreeMap;
use std::time::Duration;

use consumer_support::{broker_with_topic, numbered, produce};

#[tokio::test]
async fn standalone_offset_manager_resumes_after_the_last_marked_record() {
    let (t, topic, client) = broker_with_topic("om", 2).await;
    produce(&client, &topic, 0, &numbered("a", 6)).await;
    produce(&client, &topic, 1, &numbered("b", 4)).await;
    let options = standalone_offset_manager::Options {
        brokers: t.addr(),
        topic: topic.clone(),
        group_id: t.group("om-group"),
        auto_commit_interval: Duration::from_millis(300),
        idle: Duration::from_secs(2),
    };

    let first = standalone_offset_manager::run(&options).await.unwrap();
    assert_eq!(first.processed.len(), 10);
    assert_eq!(first.committed, BTreeMap::from([(0, 6), (1, 4)]));

    // Nothing new: a restart processes nothing (resumes from the committed offsets).
    let second = standalone_offset_manager::run(&options).await.unwrap();
    assert!(second.processed.is_empty(), "{:?}", second.processed);

    produce(&client, &topic, 1, &numbered("c", 3)).await;
    let third = standalone_offset_manager::run(&options).await.unwrap();
    let got: Vec<(i32, i64, String)> = third.processed;
    assert_eq!(
        got,
        [
            (1, 4, "c-0".to_string()),
            (1, 5, "c-1".to_string()),
            (1, 6, "c-2".to_string())
        ]
    );
    assert_eq!(third.committed, BTreeMap::from([(0, 6), (1, 7)]));
}

#[tokio::test]
async fn rebalance_listener_saves_on_revoke_and_seeks_on_assign() {
    let (t, topic, client) = broker_with_topic("rl", 2).await;
    let group = t.group("rl-group");
    produce(&client, &topic, 0, &numbered("a", 5)).await;
    produce(&client, &topic, 1, &numbered("b", 3)).await;
    let dir = tempfile::tempdir().unwrap();
    let options = rebalance_listener::Options {
        brokers: t.addr(),
        topic: topic.clone(),
        group_id: group.clone(),
        positions_file: dir.path().join("positions.txt"),
        idle: Duration::from_secs(2),
        session_timeout: Duration::from_secs(6),
    };

    let first = rebalance_listener::run(&options).await.unwrap();
    assert_eq!(first.len(), 8);
    let saved = std::fs::read_to_string(&options.positions_file).unwrap();
    assert_eq!(saved, format!("{topic} 0 5\n{topic} 1 3\n"));

    // Restart: the assign hook seeks to the saved positions, nothing is read again.
    let second = rebalance_listener::run(&options).await.unwrap();
    assert!(second.is_empty(), "{second:?}");

    produce(&client, &topic, 0, &numbered("c", 2)).await;
    let third = rebalance_listener::run(&options).await.unwrap();
    assert_eq!(
        third,
        [(0, 5, "c-0".to_string()), (0, 6, "c-1".to_string())]
    );
    let saved = std::fs::read_to_string(&options.positions_file).unwrap();
    assert_eq!(saved, format!("{topic} 0 7\n{topic} 1 3\n"));

    // Nothing was committed to Kafka.
    let mut reader = rafka_consumer::Consumer::new(
        rafka_consumer::ConsumerConfig::builder(&t.addr())
            .group_id(&group)
            .build()
            .unwrap(),
    )
    .unwrap();
    let committed = reader
        .committed(&[
            rafka_wire::TopicPartition::new(&topic, 0),
            rafka_wire::TopicPartition::new(&topic, 1),
        ])
        .await
        .unwrap();
    assert!(committed.is_empty(), "{committed:?}");
}

#[tokio::test]
async fn partition_consumers_each_consume_one_partition_and_resume_after_a_restart() {
    let (t, topic, client) = broker_with_topic("pc", 3).await;
    for p in 0..3 {
        produce(
            &client,
            &topic,
            p,
            &numbered(&format!("p{p}"), 2 + p as usize),
        )
        .await;
    }
    let group = t.group("pc-group");
    let idle = Duration::from_secs(2);

    let first = partition_consumers::run(&t.addr(), &topic, &group, idle)
        .await
        .unwrap();
    // One task per partition, in partition order, each with its partition's records only.
    let seen: Vec<Vec<(i32, i64)>> = first
        .iter()
        .map(|rs| rs.iter().map(|r| (r.partition, r.offset)).collect())
        .collect();
    assert_eq!(
        seen,
        [
            vec![(0, 0), (0, 1)],
            vec![(1, 0), (1, 1), (1, 2)],
            vec![(2, 0), (2, 1), (2, 2), (2, 3)]
        ]
    );

    // close committed what was marked: a restart reads only what came since.
    produce(&client, &topic, 1, &numbered("late", 1)).await;
    let second = partition_consumers::run(&t.addr(), &topic, &group, idle)
        .await
        .unwrap();
    let offsets: Vec<Vec<i64>> = second
        .iter()
        .map(|rs| rs.iter().map(|r| r.offset).collect())
        .collect();
    assert_eq!(offsets, [vec![], vec![3], vec![]]);
}

#[tokio::test]
async fn reliable_producer_places_vip_keys_on_partition_zero_and_counts_every_ack() {
    let (t, topic, _client) = broker_with_topic("reliable", 3).await;
    let counting = std::sync::Arc::new(reliable_producer::Counting::default());
    let acked = reliable_producer::run(&t.addr(), &topic, 40, counting.clone())
        .await
        .unwrap();
    assert_eq!(acked.len(), 40);
    for (i, meta) in acked.iter().enumerate() {
        // Keys vip-0, vip-10, ... on partition 0; every other key elsewhere.
        assert_eq!(meta.partition == 0, i % 10 == 0, "record {i}: {meta:?}");
    }
    use std::sync::atomic::Ordering;
    assert_eq!(counting.acked.load(Ordering::Relaxed), 40);
    assert_eq!(counting.failed.load(Ordering::Relaxed), 0);

    // The interceptor's header is on the stored records.
    let mut reader = rafka::Consumer::new(
        rafka::ConsumerConfig::builder(&t.addr())
            .auto_offset_reset(rafka::AutoOffsetReset::Earliest)
            .build()
            .unwrap(),
    )
    .unwrap();
    reader
        .assign(reader.partitions_for(&topic).await.unwrap())
        .unwrap();
    let mut records = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while records.len() < 40 && std::time::Instant::now() < deadline {
        records.extend(reader.poll(Duration::from_millis(500)).await.unwrap());
    }
    assert_eq!(records.len(), 40);
    assert!(records.iter().all(|r| r.headers.iter().any(
        |h| h.key_str() == "producer" && h.value.as_deref() == Some(&b"reliable_producer"[..])
    )));
}
