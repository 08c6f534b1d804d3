//! The consumer's own external-store path (`ConsumerConfig::offset_store`) with the real
//! stores: positions loaded on assign, saved by `commit_sync` and on close, and a second
//! member of the group resumes from them. SQLite always; PostgreSQL, MySQL/MariaDB and Redis
//! when their RAFKA_TEST_*_URL is set (a loud skip otherwise, a failure under CI /
//! RAFKA_REQUIRE_SERVICES / RAFKA_TEST_STRICT).

mod store_support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rafka_consumer::store::redis::RedisOffsetStore;
use rafka_consumer::store::sql::{sqlx, MySql, Postgres, SqlBackend, SqlOffsetStore, Sqlite};
use rafka_consumer::{AutoOffsetReset, Consumer, ConsumerConfig, ConsumerRecord, OffsetStore};
use rafka_wire::TopicPartition;
use store_support::kafka::{
    all_coordinates, broker_with_topic, consume_until_idle, coordinates, fill, SESSION_TIMEOUT,
};
use store_support::{service_url, unique_name};

fn config(brokers: &str, group: &str, store: Arc<dyn OffsetStore>) -> ConsumerConfig {
    ConsumerConfig::builder(brokers)
        .group_id(group)
        .enable_auto_commit(false)
        .auto_offset_reset(AutoOffsetReset::Earliest)
        .session_timeout(SESSION_TIMEOUT)
        .max_poll_records(2)
        .offset_store(store)
        .build()
        .expect("config")
}

/// One past the last record consumed, per partition.
fn positions_after(records: &[ConsumerRecord]) -> HashMap<TopicPartition, i64> {
    let mut positions = HashMap::new();
    for r in records {
        let next = positions.entry(r.topic_partition()).or_insert(0);
        *next = (*next).max(r.next_offset());
    }
    positions
}

/// Compares positions, treating an absent partition as position 0 (nothing consumed).
fn assert_positions(
    loaded: &HashMap<TopicPartition, i64>,
    expected: &HashMap<TopicPartition, i64>,
    partitions: &[TopicPartition],
    when: &str,
) {
    for tp in partitions {
        assert_eq!(
            loaded.get(tp).copied().unwrap_or(0),
            expected.get(tp).copied().unwrap_or(0),
            "{when}: {tp} (stored {loaded:?})"
        );
    }
}

async fn resume_from(store: Arc<dyn OffsetStore>) {
    let (t, topic) = broker_with_topic(&unique_name("store-consumer"), 2);
    let group = t.group("store-consumer");
    let ends = fill(&t.addr(), &topic, 2, 6).await;
    let partitions: Vec<_> = ends.keys().cloned().collect();

    // First member: a few records, commit_sync (a save to the store), one more batch, close
    // (which saves what was consumed since).
    let mut first = Consumer::new(config(&t.addr(), &group, store.clone())).unwrap();
    first.subscribe(topic.as_str()).unwrap();
    let mut consumed = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while consumed.len() < 3 {
        assert!(Instant::now() < deadline, "no records within 60 s");
        consumed.extend(first.poll(Duration::from_millis(100)).await.expect("poll"));
    }
    first.commit_sync().await.expect("commit_sync");
    let loaded = store.load(&group, &partitions).await.unwrap();
    assert_positions(
        &loaded,
        &positions_after(&consumed),
        &partitions,
        "after commit_sync",
    );

    let mut more = Vec::new();
    while more.is_empty() {
        assert!(Instant::now() < deadline, "no more records within 60 s");
        more.extend(first.poll(Duration::from_millis(100)).await.expect("poll"));
    }
    consumed.extend(more);
    first.close().await.expect("close");
    let loaded = store.load(&group, &partitions).await.unwrap();
    assert_positions(
        &loaded,
        &positions_after(&consumed),
        &partitions,
        "after close",
    );

    // Second member: starts at the stored positions, reads the rest.
    let mut second = Consumer::new(config(&t.addr(), &group, store.clone())).unwrap();
    second.subscribe(topic.as_str()).unwrap();
    consume_until_idle(&mut second, &mut consumed).await;
    second.close().await.expect("close");
    assert_eq!(coordinates(&consumed), all_coordinates(&ends));
    assert_eq!(store.load(&group, &partitions).await.unwrap(), ends);
}

async fn sql_store<DB: SqlBackend>(store: SqlOffsetStore<DB>) -> SqlOffsetStore<DB> {
    let store = store
        .with_table(&unique_name("rafka_offsets"))
        .expect("table name");
    store.create_table_if_missing().await.expect("create table");
    store
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store_through_the_consumer() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqlOffsetStore::<Sqlite>::open_sqlite(dir.path().join("offsets.db"))
        .await
        .unwrap();
    resume_from(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_through_the_consumer() {
    let Some(url) = service_url("RAFKA_TEST_POSTGRES_URL") else {
        return;
    };
    let store = sql_store(SqlOffsetStore::<Postgres>::connect(&url).await.unwrap()).await;
    resume_from(Arc::new(store.clone())).await;
    let sql = format!("DROP TABLE {}", store.table());
    sqlx::query(&sql)
        .execute(store.pool())
        .await
        .expect("drop table");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_store_through_the_consumer() {
    let Some(url) = service_url("RAFKA_TEST_MYSQL_URL") else {
        return;
    };
    let store = sql_store(SqlOffsetStore::<MySql>::connect(&url).await.unwrap()).await;
    resume_from(Arc::new(store.clone())).await;
    let sql = format!("DROP TABLE {}", store.table());
    sqlx::query(&sql)
        .execute(store.pool())
        .await
        .expect("drop table");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_through_the_consumer() {
    let Some(url) = service_url("RAFKA_TEST_REDIS_URL") else {
        return;
    };
    let prefix = unique_name("rafka:test:consumer");
    let store = RedisOffsetStore::connect(&url)
        .await
        .unwrap()
        .with_prefix(&prefix);
    resume_from(Arc::new(store.clone())).await;
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
