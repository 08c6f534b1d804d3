//! Positions and commits against a real broker (Tansu): an external offset store wired to
//! the rebalance hooks, the catch-up policy, `max.poll.interval.ms`, and a zombie's commit.

mod consumer_common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use consumer_common::*;
use rafka::consumer::{Consumer, ConsumerError, NoopRebalanceListener, OffsetStore, StoreError};
use rafka::wire::TopicPartition;

const WAIT: Duration = Duration::from_secs(40);

/// An in-memory external store.
#[derive(Debug, Clone, Default)]
struct MemStore {
    map: Arc<Mutex<HashMap<(String, TopicPartition), i64>>>,
}

#[rafka::consumer::async_trait]
impl OffsetStore for MemStore {
    async fn load(
        &self,
        group_id: &str,
        partitions: &[TopicPartition],
    ) -> Result<HashMap<TopicPartition, i64>, StoreError> {
        let map = self.map.lock().unwrap();
        Ok(partitions
            .iter()
            .filter_map(|tp| {
                map.get(&(group_id.to_string(), tp.clone()))
                    .map(|o| (tp.clone(), *o))
            })
            .collect())
    }

    async fn save(
        &self,
        group_id: &str,
        offsets: &[(TopicPartition, i64)],
    ) -> Result<(), StoreError> {
        let mut map = self.map.lock().unwrap();
        for (tp, o) in offsets {
            map.insert((group_id.to_string(), tp.clone()), *o);
        }
        Ok(())
    }
}

#[tokio::test]
async fn external_store_is_loaded_on_assign_saved_on_close_and_kafka_untouched() {
    let broker = broker();
    let client = client(&broker.addr()).await;
    create_topic(&client, "x1", 2).await;
    produce_each(&client, "x1", 0, "a", 5).await;
    produce_each(&client, "x1", 1, "b", 5).await;
    let store = MemStore::default();
    store
        .save("x-group", &[(TopicPartition::new("x1", 0), 3)])
        .await
        .unwrap();

    let mut consumer = Consumer::new(
        config(&broker.addr(), Some("x-group"))
            .offset_store(Arc::new(store.clone()))
            .auto_commit_interval(Duration::from_millis(200))
            .build()
            .unwrap(),
    )
    .unwrap();
    consumer.subscribe(["x1"], NoopRebalanceListener).unwrap();
    let records = poll_n(&mut consumer, 7, WAIT).await;
    let p0: Vec<i64> = records
        .iter()
        .filter(|r| r.partition == 0)
        .map(|r| r.offset)
        .collect();
    let p1: Vec<i64> = records
        .iter()
        .filter(|r| r.partition == 1)
        .map(|r| r.offset)
        .collect();
    assert_eq!(p0, [3, 4], "partition 0 starts at the stored position");
    assert_eq!(
        p1,
        [0, 1, 2, 3, 4],
        "partition 1 falls back to auto.offset.reset"
    );
    consumer.close().await.unwrap();

    let saved = store
        .load(
            "x-group",
            &[TopicPartition::new("x1", 0), TopicPartition::new("x1", 1)],
        )
        .await
        .unwrap();
    assert_eq!(saved[&TopicPartition::new("x1", 0)], 5);
    assert_eq!(saved[&TopicPartition::new("x1", 1)], 5);

    // Nothing went to Kafka.
    let mut reader =
        Consumer::new(config(&broker.addr(), Some("x-group")).build().unwrap()).unwrap();
    let committed = reader
        .committed(&[TopicPartition::new("x1", 0), TopicPartition::new("x1", 1)])
        .await
        .unwrap();
    assert!(committed.is_empty(), "{committed:?}");
}

#[tokio::test]
async fn max_lag_skips_to_the_tail() {
    let broker = broker();
    let client = client(&broker.addr()).await;
    create_topic(&client, "x2", 1).await;
    let values: Vec<String> = (0..100).map(|i| format!("v{i}")).collect();
    produce(&client, "x2", 0, &values).await;
    let mut consumer =
        Consumer::new(config(&broker.addr(), None).max_lag(10).build().unwrap()).unwrap();
    let tp = TopicPartition::new("x2", 0);
    consumer.assign(std::slice::from_ref(&tp)).unwrap();
    let records = poll_n(&mut consumer, 10, WAIT).await;
    let offsets: Vec<i64> = records.iter().map(|r| r.offset).collect();
    assert_eq!(offsets, (90..100).collect::<Vec<_>>());
    assert_eq!(consumer.lag(&tp), Some(0));
}

#[tokio::test]
async fn polling_too_late_leaves_the_group_and_says_so() {
    let broker = broker();
    let client = client(&broker.addr()).await;
    create_topic(&client, "x3", 1).await;
    produce_each(&client, "x3", 0, "v", 2).await;
    let mut consumer = Consumer::new(
        config(&broker.addr(), Some("x3-group"))
            .max_poll_interval(Duration::from_secs(2))
            .build()
            .unwrap(),
    )
    .unwrap();
    consumer.subscribe(["x3"], NoopRebalanceListener).unwrap();
    assert_eq!(poll_n(&mut consumer, 2, WAIT).await.len(), 2);
    consumer.commit_sync().await.unwrap();

    tokio::time::sleep(Duration::from_secs(4)).await;
    match consumer.poll(Duration::from_millis(100)).await {
        Err(ConsumerError::MaxPollIntervalExceeded { max_poll_interval }) => {
            assert_eq!(max_poll_interval, Duration::from_secs(2))
        }
        other => panic!("expected MaxPollIntervalExceeded, got {other:?}"),
    }
    // The next polls rejoin and consume again.
    produce_each(&client, "x3", 0, "after", 1).await;
    let records = poll_n(&mut consumer, 1, WAIT).await;
    assert_eq!(values(&records), ["after-0"]);
    consumer.close().await.unwrap();
}

#[tokio::test]
async fn a_zombie_commit_is_refused() {
    let broker = broker();
    let client = client(&broker.addr()).await;
    create_topic(&client, "x4", 2).await;
    produce_each(&client, "x4", 0, "v", 3).await;
    produce_each(&client, "x4", 1, "w", 3).await;

    // The leader joins first and keeps polling on its own task. (It must be the leader: Tansu
    // keeps naming a departed leader as leader, see docs/tansu.md.)
    let leader_owned = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let leader_config = config(&broker.addr(), Some("x4-group"))
        .enable_auto_commit(false)
        .build()
        .unwrap();
    let owned = leader_owned.clone();
    let leader = tokio::spawn(async move {
        let mut c = Consumer::new(leader_config).unwrap();
        c.subscribe(["x4"], NoopRebalanceListener).unwrap();
        while !*stopped.borrow() {
            tokio::select! {
                r = c.poll(Duration::from_millis(100)) => { r.unwrap(); }
                _ = stopped.changed() => {}
            }
            owned.store(c.assignment().len(), std::sync::atomic::Ordering::SeqCst);
        }
        c.close().await.unwrap();
    });
    let wait_owned = |n: usize| {
        let owned = leader_owned.clone();
        async move {
            let deadline = tokio::time::Instant::now() + WAIT;
            while owned.load(std::sync::atomic::Ordering::SeqCst) != n {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "leader never owned {n}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    wait_owned(2).await;

    let mut zombie = Consumer::new(
        config(&broker.addr(), Some("x4-group"))
            .enable_auto_commit(false)
            .max_poll_interval(Duration::from_secs(3))
            .build()
            .unwrap(),
    )
    .unwrap();
    zombie.subscribe(["x4"], NoopRebalanceListener).unwrap();
    let records = poll_n(&mut zombie, 3, WAIT).await;
    assert_eq!(records.len(), 3);
    assert_eq!(zombie.assignment().len(), 1);
    zombie
        .commit_sync()
        .await
        .expect("a member in the generation commits");

    // The zombie stops polling: it leaves the group and the leader takes everything over.
    wait_owned(2).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    // It still believes it owns its partition; its commit must be refused.
    assert_eq!(zombie.assignment().len(), 1);
    match zombie.commit_sync().await {
        Err(ConsumerError::CommitFailed { .. }) => {}
        other => panic!("zombie commit: expected CommitFailed, got {other:?}"),
    }
    stop.send(true).unwrap();
    leader.await.unwrap();
}
