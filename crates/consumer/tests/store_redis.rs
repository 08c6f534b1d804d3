//! RedisOffsetStore against a real Redis when RAFKA_TEST_REDIS_URL is set (scripts/test.sh sets
//! it; with CI or RAFKA_REQUIRE_SERVICES set a missing one fails the test).

mod store_support;

use std::collections::HashMap;

use rafka_consumer::store::redis::RedisOffsetStore;
use rafka_consumer::{OffsetStore, StoreError};
use rafka_wire::TopicPartition;
use redis::aio::MultiplexedConnection;
use store_support::{service_url, unique_name};

fn tp(topic: &str, partition: i32) -> TopicPartition {
    TopicPartition::new(topic, partition)
}

/// A store whose keys live under a prefix of their own, deleted by [`cleanup`].
async fn store() -> Option<RedisOffsetStore> {
    let url = service_url("RAFKA_TEST_REDIS_URL")?;
    let store = RedisOffsetStore::connect(&url)
        .await
        .expect("connect to RAFKA_TEST_REDIS_URL");
    Some(store.with_prefix(unique_name("rafka:test")))
}

async fn cleanup(store: &RedisOffsetStore, extra_keys: &[&str]) {
    let mut conn = store.connection();
    let mut keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}:*", store.prefix()))
        .query_async(&mut conn)
        .await
        .unwrap();
    keys.extend(extra_keys.iter().map(|k| k.to_string()));
    if !keys.is_empty() {
        redis::cmd("DEL")
            .arg(&keys)
            .query_async::<()>(&mut conn)
            .await
            .unwrap();
    }
}

async fn get(conn: &mut MultiplexedConnection, key: &str) -> Option<String> {
    redis::cmd("GET").arg(key).query_async(conn).await.unwrap()
}

#[tokio::test]
async fn load_of_nothing_is_empty() {
    let Some(store) = store().await else { return };
    let loaded = store.load("g", &[tp("t", 0), tp("t", 1)]).await.unwrap();
    assert!(loaded.is_empty(), "{loaded:?}");
    assert!(store.load("g", &[]).await.unwrap().is_empty());
    store.save("g", &[]).await.unwrap();
    cleanup(&store, &[]).await;
}

#[tokio::test]
async fn save_then_load_one_key_per_partition() {
    let Some(store) = store().await else { return };
    let offsets = [(tp("t", 0), 5), (tp("t", 1), 7), (tp("u", 0), 0)];
    store.save("g", &offsets).await.unwrap();

    let wanted = [tp("t", 0), tp("t", 1), tp("t", 2), tp("u", 0)];
    let loaded = store.load("g", &wanted).await.unwrap();
    assert_eq!(loaded, offsets.iter().cloned().collect::<HashMap<_, _>>());
    assert!(store.load("other", &wanted).await.unwrap().is_empty());

    // The documented layout: prefix, hash-tagged group, topic, partition; decimal value.
    let key = format!("{}:{{g}}:t:1", store.prefix());
    assert_eq!(store.key("g", &tp("t", 1)), key);
    assert_eq!(
        get(&mut store.connection(), &key).await.as_deref(),
        Some("7")
    );
    cleanup(&store, &[]).await;
}

#[tokio::test]
async fn upsert_overwrites() {
    let Some(store) = store().await else { return };
    store.save("g", &[(tp("t", 0), 5)]).await.unwrap();
    store
        .save("g", &[(tp("t", 0), 9), (tp("t", 1), 1)])
        .await
        .unwrap();
    let loaded = store.load("g", &[tp("t", 0), tp("t", 1)]).await.unwrap();
    assert_eq!(loaded, HashMap::from([(tp("t", 0), 9), (tp("t", 1), 1)]));
    cleanup(&store, &[]).await;
}

#[tokio::test]
async fn a_non_integer_value_is_an_invalid_offset_naming_the_key() {
    let Some(store) = store().await else { return };
    let key = store.key("g", &tp("t", 3));
    redis::cmd("SET")
        .arg(&key)
        .arg("not-a-number")
        .query_async::<()>(&mut store.connection())
        .await
        .unwrap();
    let err = store.load("g", &[tp("t", 3)]).await.unwrap_err();
    match &err {
        StoreError::InvalidOffset { partition, value } => {
            assert_eq!(*partition, tp("t", 3));
            assert!(value.contains("not-a-number"), "{value}");
            assert!(value.contains(&key), "{value}");
        }
        other => panic!("expected InvalidOffset, got {other:?}"),
    }
    cleanup(&store, &[]).await;
}

#[tokio::test]
async fn negative_offsets_are_refused_and_nothing_is_written() {
    let Some(store) = store().await else { return };
    let err = store
        .save("g", &[(tp("t", 0), 3), (tp("t", 1), -1)])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::InvalidOffset { partition, .. } if *partition == tp("t", 1)),
        "{err:?}"
    );
    assert!(store.load("g", &[tp("t", 0)]).await.unwrap().is_empty());
    cleanup(&store, &[]).await;
}

#[tokio::test]
async fn user_commands_and_offsets_share_one_multi_exec() {
    let Some(store) = store().await else { return };
    let results = format!("{}-results", store.prefix());
    let processed = format!("{}-processed", store.prefix());
    let mut conn = store.connection();

    let mut pipe = redis::pipe();
    pipe.atomic()
        .rpush(&results, "record 5")
        .ignore()
        .incr(&processed, 1);
    store
        .save_in_pipeline(&mut pipe, "g", &[(tp("t", 0), 6), (tp("t", 1), 2)])
        .unwrap();
    // The offsets' SETs are ignored in the reply: only the user's INCR comes back.
    let (count,): (i64,) = pipe.query_async(&mut conn).await.unwrap();
    assert_eq!(count, 1);

    let list: Vec<String> = redis::cmd("LRANGE")
        .arg(&results)
        .arg(0)
        .arg(-1)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(list, ["record 5"]);
    let loaded = store.load("g", &[tp("t", 0), tp("t", 1)]).await.unwrap();
    assert_eq!(loaded, HashMap::from([(tp("t", 0), 6), (tp("t", 1), 2)]));
    cleanup(&store, &[&results, &processed]).await;
}

#[tokio::test]
async fn an_aborted_multi_exec_keeps_neither_user_writes_nor_offsets() {
    let Some(store) = store().await else { return };
    let results = format!("{}-results", store.prefix());
    let mut conn = store.connection();
    store.save("g", &[(tp("t", 0), 5)]).await.unwrap();

    // A command Redis rejects while queueing (wrong arity) makes EXEC discard everything.
    let mut pipe = redis::pipe();
    pipe.atomic().rpush(&results, "record 5").ignore();
    pipe.cmd("SET").arg("only-a-key").ignore();
    store
        .save_in_pipeline(&mut pipe, "g", &[(tp("t", 0), 6)])
        .unwrap();
    let outcome = pipe.query_async::<()>(&mut conn).await;
    assert!(outcome.is_err(), "EXEC should abort: {outcome:?}");

    assert_eq!(get(&mut conn, &results).await, None);
    let loaded = store.load("g", &[tp("t", 0)]).await.unwrap();
    assert_eq!(loaded, HashMap::from([(tp("t", 0), 5)]));
    cleanup(&store, &[&results]).await;
}

#[tokio::test]
async fn a_non_atomic_pipeline_is_refused() {
    let Some(store) = store().await else { return };
    let mut pipe = redis::pipe();
    pipe.set("user-key", 1).ignore();
    let before = pipe.get_packed_pipeline();
    let err = store
        .save_in_pipeline(&mut pipe, "g", &[(tp("t", 0), 6)])
        .unwrap_err();
    assert!(matches!(err, StoreError::Redis(_)), "{err:?}");
    assert_eq!(pipe.get_packed_pipeline(), before, "nothing added");
    cleanup(&store, &[]).await;
}

#[tokio::test]
async fn unreachable_servers_are_errors_not_panics() {
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    let err = RedisOffsetStore::connect("redis://127.0.0.1:1/")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Redis(_)), "{err:?}");
    let err = RedisOffsetStore::connect("not a url").await.unwrap_err();
    assert!(matches!(err, StoreError::Redis(_)), "{err:?}");
}
