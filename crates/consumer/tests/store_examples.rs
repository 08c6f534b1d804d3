//! Runs the offset-store examples against the test broker (rafka_integration's TestTarget: the
//! shared Apache Kafka cluster, or a private Tansu with `RAFKA_TEST_TARGET=tansu`): offsets_in_sql and exactly_once_sql with SQLite, redis_rebalance_listener with
//! the Redis of RAFKA_TEST_REDIS_URL (skipped loudly without it, failed under CI /
//! RAFKA_REQUIRE_SERVICES / RAFKA_TEST_STRICT).

mod store_support;

#[path = "../../rafka/examples/exactly_once_sql.rs"]
#[allow(dead_code)]
mod exactly_once_sql;
#[path = "../../rafka/examples/lag_check.rs"]
#[allow(dead_code)]
mod lag_check;
#[path = "../../rafka/examples/offsets_in_sql.rs"]
#[allow(dead_code)]
mod offsets_in_sql;
#[path = "../../rafka/examples/redis_rebalance_listener.rs"]
#[allow(dead_code)]
mod redis_rebalance_listener;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use rafka_consumer::store::redis::RedisOffsetStore;
use rafka_consumer::store::sql::{sqlx, SqlOffsetStore, Sqlite};
use rafka_consumer::{AutoOffsetReset, Consumer, ConsumerConfig, ConsumerRecord, OffsetStore};
use rafka_wire::TopicPartition;
use store_support::kafka::{
    all_coordinates, broker_with_topic, consume_until_idle, coordinates, fill, tp, IDLE,
    SESSION_TIMEOUT,
};
use store_support::{service_url, unique_name};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offsets_in_sql_resumes_where_the_table_says() {
    let (t, topic) = broker_with_topic(&unique_name("offsets-in-sql"), 2);
    let ends = fill(&t.addr(), &topic, 2, 6).await;
    let dir = tempfile::tempdir().unwrap();
    let mut opts = offsets_in_sql::Options {
        brokers: t.addr(),
        topic: topic.clone(),
        group_id: t.group("sql-group"),
        db_path: dir.path().join("offsets.db"),
        max_records: 5,
        idle: IDLE,
        session_timeout: SESSION_TIMEOUT,
    };

    // First run stops after 5 of the 12 records, mid-batch.
    let first = offsets_in_sql::run(&opts).await.expect("first run");
    assert_eq!(first.len(), 5);
    let store = SqlOffsetStore::<Sqlite>::open_sqlite(&opts.db_path)
        .await
        .unwrap();
    let partitions: Vec<_> = ends.keys().cloned().collect();
    let saved = store.load(&opts.group_id, &partitions).await.unwrap();
    let mut expected_saved = HashMap::new();
    for r in &first {
        let next = expected_saved.entry(r.topic_partition()).or_insert(0);
        *next = (*next).max(r.next_offset());
    }
    assert_eq!(saved, expected_saved, "the table holds what was processed");

    // Second run seeks to the table: the rest, nothing twice.
    opts.max_records = usize::MAX;
    let second = offsets_in_sql::run(&opts).await.expect("second run");
    let mut both = first.clone();
    both.extend(second);
    assert_eq!(coordinates(&both), all_coordinates(&ends));
    assert_eq!(store.load(&opts.group_id, &partitions).await.unwrap(), ends);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exactly_once_sql_rolls_back_a_crashed_batch_and_redoes_it_once() {
    let (t, topic) = broker_with_topic(&unique_name("exactly-once"), 2);
    let ends = fill(&t.addr(), &topic, 2, 8).await;
    let dir = tempfile::tempdir().unwrap();
    let mut opts = exactly_once_sql::Options {
        brokers: t.addr(),
        topic: topic.clone(),
        group_id: t.group("eos-group"),
        db_path: dir.path().join("eos.db"),
        idle: IDLE,
        session_timeout: SESSION_TIMEOUT,
        max_poll_records: 3,
        crash_on_batch: Some(2),
    };
    let partitions: Vec<_> = ends.keys().cloned().collect();

    // Batch 1 commits, batch 2 is written and then "crashes" before COMMIT.
    let err = exactly_once_sql::run(&opts).await.unwrap_err();
    let crashed = err
        .downcast_ref::<exactly_once_sql::Crashed>()
        .unwrap_or_else(|| panic!("expected the simulated crash, got {err}"));
    assert_eq!(crashed.committed_batches, 1);
    let store = exactly_once_sql::open_store(&opts.db_path).await.unwrap();
    let rows = processed_rows(&store).await;
    assert!(
        !rows.is_empty() && rows.len() <= 3,
        "one batch of at most 3: {rows:?}"
    );
    // The positions committed are exactly one past the rows committed, partition by partition.
    assert_eq!(
        store.load(&opts.group_id, &partitions).await.unwrap(),
        positions_after(&topic, &rows)
    );

    // The rerun redoes the rolled-back batch and the rest; each record's row exists once (the
    // primary key would refuse a second one and fail the run).
    opts.crash_on_batch = None;
    exactly_once_sql::run(&opts).await.expect("rerun");
    let rows = processed_rows(&store).await;
    assert_eq!(
        rows.keys().cloned().collect::<BTreeSet<_>>(),
        all_coordinates(&ends)
    );
    for ((partition, offset), value) in &rows {
        assert_eq!(value, &format!("{partition}:{offset}").into_bytes());
    }
    assert_eq!(store.load(&opts.group_id, &partitions).await.unwrap(), ends);

    // A third run finds nothing new to do.
    assert_eq!(exactly_once_sql::run(&opts).await.expect("third run"), 0);
    assert_eq!(processed_rows(&store).await.len(), 16);
}

async fn processed_rows(store: &SqlOffsetStore<Sqlite>) -> BTreeMap<(i32, i64), Vec<u8>> {
    let rows: Vec<(i32, i64, Vec<u8>)> = sqlx::query_as(&format!(
        "SELECT partition_id, record_offset, value FROM {}",
        exactly_once_sql::PROCESSED_TABLE
    ))
    .fetch_all(store.pool())
    .await
    .unwrap();
    rows.into_iter().map(|(p, o, v)| ((p, o), v)).collect()
}

fn positions_after(
    topic: &str,
    rows: &BTreeMap<(i32, i64), Vec<u8>>,
) -> HashMap<TopicPartition, i64> {
    let mut positions = HashMap::new();
    for (partition, offset) in rows.keys() {
        let next = positions.entry(tp(topic, *partition)).or_insert(0);
        *next = (*next).max(offset + 1);
    }
    positions
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_listener_saves_on_revoke_and_seeks_on_assign() {
    let Some(redis_url) = service_url("RAFKA_TEST_REDIS_URL") else {
        return;
    };
    let (t, topic) = broker_with_topic(&unique_name("redis-listener"), 2);
    let ends = fill(&t.addr(), &topic, 2, 6).await;
    let prefix = unique_name("rafka:test:listener");
    let mut opts = redis_rebalance_listener::Options {
        brokers: t.addr(),
        topic: topic.clone(),
        group_id: t.group("redis-group"),
        redis_url: redis_url.clone(),
        key_prefix: prefix.clone(),
        min_records: 1,
        idle: IDLE,
        session_timeout: SESSION_TIMEOUT,
        max_poll_records: 2,
    };
    let store = RedisOffsetStore::connect(&redis_url)
        .await
        .unwrap()
        .with_prefix(&prefix);
    let partitions: Vec<_> = ends.keys().cloned().collect();

    // First member: one batch (at most 2 records), then close, whose revoke hook saves the
    // positions of everything it owned.
    let first = redis_rebalance_listener::run(&opts)
        .await
        .expect("first run");
    assert!(!first.is_empty() && first.len() <= 2, "{}", first.len());
    let saved = store.load(&opts.group_id, &partitions).await.unwrap();
    assert_eq!(
        saved.len(),
        2,
        "both owned partitions saved on revoke: {saved:?}"
    );
    let consumed: i64 = saved.values().sum();
    assert_eq!(consumed, first.len() as i64);

    // Second member of the same group: seeks to the saved positions and reads the rest.
    opts.min_records = usize::MAX;
    let second = redis_rebalance_listener::run(&opts)
        .await
        .expect("second run");
    let mut both = first.clone();
    both.extend(second);
    assert_eq!(coordinates(&both), all_coordinates(&ends));
    assert_eq!(store.load(&opts.group_id, &partitions).await.unwrap(), ends);

    let mut conn = store.connection();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}:*"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(keys.len(), 2, "{keys:?}");
    redis::cmd("DEL")
        .arg(&keys)
        .query_async::<()>(&mut conn)
        .await
        .unwrap();
}

/// A config for the live-rebalance members: eager `range` so a join revokes everything.
fn live_config(brokers: &str, group_id: &str, client_id: &str) -> ConsumerConfig {
    ConsumerConfig::builder(brokers)
        .group_id(group_id)
        .client_id(client_id)
        .enable_auto_commit(false)
        .auto_offset_reset(AutoOffsetReset::Earliest)
        .session_timeout(SESSION_TIMEOUT)
        .max_poll_records(2)
        .partition_assignment_strategy(["range"])
        .build()
        .expect("config")
}

/// The pattern's scenario with two live members: A consumes part of the topic, B joins, the
/// rebalance runs A's revoke hook (saving its positions to Redis) and then both assign hooks
/// (seeking to them); between them every record is consumed exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_listener_hands_positions_over_in_a_live_rebalance() {
    let Some(redis_url) = service_url("RAFKA_TEST_REDIS_URL") else {
        return;
    };
    let (t, topic) = broker_with_topic(&unique_name("redis-live"), 2);
    let ends = fill(&t.addr(), &topic, 2, 10).await;
    let prefix = unique_name("rafka:test:live");
    let store = RedisOffsetStore::connect(&redis_url)
        .await
        .unwrap()
        .with_prefix(&prefix);
    let group = t.group("live-group");
    let group = group.as_str();

    // A alone owns both partitions; it takes a few records of each, pausing a partition as
    // soon as it has two of its records, so that both have records left for after the
    // rebalance. (The two partitions' leaders are different brokers: one partition's fetches
    // may answer well before the other's, so waiting for records of both before pausing either
    // could drain the first one.)
    let mut a = Consumer::new(live_config(&t.addr(), group, "member-a")).unwrap();
    let listener = redis_rebalance_listener::RedisPositions::new(store.clone(), group);
    a.subscribe_with_listener(topic.as_str(), listener).unwrap();
    let mut a_records: Vec<ConsumerRecord> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    // Records of both partitions, so whichever one B takes over, A had consumed from it.
    let seen = |records: &[ConsumerRecord]| {
        records
            .iter()
            .map(|r| r.partition)
            .collect::<BTreeSet<_>>()
            .len()
    };
    while a.paused().len() < 2 {
        assert!(
            Instant::now() < deadline,
            "A got too few records within 60 s"
        );
        a_records.extend(a.poll(Duration::from_millis(100)).await.expect("A poll"));
        let enough: Vec<TopicPartition> = a
            .assignment()
            .into_iter()
            .filter(|tp| {
                a_records
                    .iter()
                    .filter(|r| r.partition == tp.partition)
                    .count()
                    >= 2
            })
            .collect();
        a.pause(&enough).unwrap();
    }
    let before_rebalance = a_records.len();
    assert_eq!(seen(&a_records), 2);
    for partition in 0..2 {
        let taken = a_records
            .iter()
            .filter(|r| r.partition == partition)
            .count();
        assert!(
            taken < 10,
            "A took all {taken} records of partition {partition} before pausing it"
        );
    }
    assert_eq!(a.assignment().len(), 2);

    let a_task = tokio::spawn(async move {
        // Keep polling (the revoke hook runs inside poll) until the rebalance splits the topic.
        let deadline = Instant::now() + Duration::from_secs(60);
        while a.assignment().len() != 1 {
            assert!(Instant::now() < deadline, "no rebalance within 60 s");
            a_records.extend(a.poll(Duration::from_millis(100)).await.expect("A poll"));
        }
        let now_owned = a.assignment();
        a.resume(&now_owned).unwrap();
        consume_until_idle(&mut a, &mut a_records).await;
        a.close().await.expect("A close");
        a_records
    });
    let mut b = Consumer::new(live_config(&t.addr(), group, "member-b")).unwrap();
    let listener = redis_rebalance_listener::RedisPositions::new(store.clone(), group);
    b.subscribe_with_listener(topic.as_str(), listener).unwrap();
    let mut b_records = Vec::new();
    // B's partition has records left (A paused after a few), so B polls until the first one
    // arrives: on a loaded machine the join, the Redis seek and the first fetch can together
    // outlast the idle window, and B must not leave (handing its partition back) before then.
    let deadline = Instant::now() + Duration::from_secs(60);
    while b_records.is_empty() {
        assert!(
            Instant::now() < deadline,
            "B got a partition with records left, but none within 60 s (B owns {:?}, lag {:?})",
            b.assignment(),
            b.assignment()
                .iter()
                .map(|tp| b.lag(tp))
                .collect::<Vec<_>>()
        );
        b_records.extend(b.poll(Duration::from_millis(100)).await.expect("B poll"));
    }
    consume_until_idle(&mut b, &mut b_records).await;
    b.close().await.expect("B close");
    let a_records = a_task.await.expect("A task");

    assert!(a_records.len() >= before_rebalance);
    let mut all = a_records.clone();
    all.extend(b_records.iter().cloned());
    assert_eq!(coordinates(&all), all_coordinates(&ends));
    // B took over one partition, which A had consumed from: B began it exactly one past A's
    // last record, the position A's revoke hook saved.
    assert!(!b_records.is_empty(), "B got a partition with records left");
    assert_eq!(seen(&b_records), 1);
    for partition in 0..2 {
        let a_max = a_records[..before_rebalance]
            .iter()
            .filter(|r| r.partition == partition)
            .map(|r| r.offset)
            .max();
        let b_min = b_records
            .iter()
            .filter(|r| r.partition == partition)
            .map(|r| r.offset)
            .min();
        if let Some(b_min) = b_min {
            assert_eq!(Some(b_min - 1), a_max, "partition {partition}");
        }
    }
    let partitions: Vec<_> = ends.keys().cloned().collect();
    assert_eq!(store.load(group, &partitions).await.unwrap(), ends);
    let mut conn = store.connection();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}:*"))
        .query_async(&mut conn)
        .await
        .unwrap();
    redis::cmd("DEL")
        .arg(&keys)
        .query_async::<()>(&mut conn)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lag_check_skips_a_partition_that_fell_behind_and_stores_positions_with_the_rows() {
    let (t, topic) = broker_with_topic(&unique_name("lag-check"), 1);
    let ends = fill(&t.addr(), &topic, 1, 30).await;
    let dir = tempfile::tempdir().unwrap();
    let opts = lag_check::Options {
        brokers: t.addr(),
        topic: topic.clone(),
        group_id: t.group("lag-group"),
        db_path: dir.path().join("lag.db").to_string_lossy().into_owned(),
        max_lag: 10,
        check_interval: Duration::from_secs(3600),
        max_poll_records: 5,
        idle: IDLE,
    };
    let processed = lag_check::run(&opts).await.expect("run");
    let offsets: Vec<i64> = processed.iter().map(|r| r.offset).collect();
    // The check runs once the partition is assigned: before any record arrived (then nothing
    // below 20 is processed) or after a first batch of at most 5 records from offset 0. Either
    // way the rest starts at end - max_lag = 20.
    let (first_batch, rest) = offsets.split_at(offsets.iter().position(|&o| o >= 20).unwrap());
    assert!(first_batch.len() <= 5, "{offsets:?}");
    assert_eq!(
        first_batch,
        (0..first_batch.len() as i64).collect::<Vec<_>>()
    );
    assert_eq!(rest, (20..30).collect::<Vec<i64>>());

    // The table holds the end position, written with the rows.
    let store = SqlOffsetStore::<Sqlite>::open_sqlite(&opts.db_path)
        .await
        .unwrap();
    let partitions: Vec<_> = ends.keys().cloned().collect();
    assert_eq!(store.load(&opts.group_id, &partitions).await.unwrap(), ends);
    let (rows,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM events")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(rows as usize, processed.len());
}
