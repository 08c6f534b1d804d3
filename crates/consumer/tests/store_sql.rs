//! SqlOffsetStore against real databases: SQLite always (a temp file), PostgreSQL and
//! MySQL/MariaDB when RAFKA_TEST_POSTGRES_URL / RAFKA_TEST_MYSQL_URL are set (scripts/test.sh
//! sets them; with CI or RAFKA_REQUIRE_SERVICES set a missing one fails the test).

mod store_support;

use std::collections::HashMap;

use rafka_consumer::store::sql::{sqlx, MySql, Postgres, SqlBackend, SqlOffsetStore, Sqlite};
use rafka_consumer::{OffsetStore, StoreError};
use rafka_wire::TopicPartition;
use store_support::{service_url, unique_name};

/// A store on its own table, plus a table standing for the user's processed rows.
struct Fixture<DB: SqlBackend> {
    store: SqlOffsetStore<DB>,
    rows_table: String,
    _dir: Option<tempfile::TempDir>,
}

fn tp(topic: &str, partition: i32) -> TopicPartition {
    TopicPartition::new(topic, partition)
}

async fn fixture<DB: SqlBackend>(
    store: SqlOffsetStore<DB>,
    dir: Option<tempfile::TempDir>,
) -> Fixture<DB> {
    let table = unique_name("rafka_offsets");
    let store = store.with_table(&table).expect("valid table name");
    store.create_table_if_missing().await.expect("create table");
    // Twice: "if missing" must hold for an existing table.
    store
        .create_table_if_missing()
        .await
        .expect("create table again");
    Fixture {
        store,
        rows_table: format!("{table}_rows"),
        _dir: dir,
    }
}

async fn sqlite() -> Option<Fixture<Sqlite>> {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqlOffsetStore::<Sqlite>::open_sqlite(dir.path().join("offsets.db"))
        .await
        .expect("open sqlite");
    Some(fixture(store, Some(dir)).await)
}

async fn postgres() -> Option<Fixture<Postgres>> {
    let url = service_url("RAFKA_TEST_POSTGRES_URL")?;
    let store = SqlOffsetStore::<Postgres>::connect(&url)
        .await
        .expect("connect to RAFKA_TEST_POSTGRES_URL");
    Some(fixture(store, None).await)
}

async fn mysql() -> Option<Fixture<MySql>> {
    let url = service_url("RAFKA_TEST_MYSQL_URL")?;
    let store = SqlOffsetStore::<MySql>::connect(&url)
        .await
        .expect("connect to RAFKA_TEST_MYSQL_URL");
    Some(fixture(store, None).await)
}

/// The same tests for every backend; `$p1..$p4` are the backend's first four placeholders and
/// `$poison` a statement (with `{table}`) making inserts of topic `poison` fail.
macro_rules! backend_tests {
    (
        $module:ident,
        $db:ty,
        $fixture:ident,
        $p1:literal,
        $p2:literal,
        $p3:literal,
        $p4:literal,
        $poison:literal
    ) => {
        mod $module {
            use super::*;

            type Db = $db;

            async fn create_rows_table(fx: &Fixture<Db>) {
                let sql = format!(
                    "CREATE TABLE {} (id BIGINT PRIMARY KEY, body VARCHAR(100) NOT NULL)",
                    fx.rows_table
                );
                sqlx::query(&sql)
                    .execute(fx.store.pool())
                    .await
                    .expect("create rows table");
            }

            async fn drop_tables(fx: Fixture<Db>) {
                for table in [fx.store.table().to_owned(), fx.rows_table.clone()] {
                    sqlx::query(&format!("DROP TABLE IF EXISTS {table}"))
                        .execute(fx.store.pool())
                        .await
                        .expect("drop table");
                }
            }

            fn insert_row_sql(table: &str) -> String {
                format!("INSERT INTO {table} (id, body) VALUES ({}, {})", $p1, $p2)
            }

            async fn count(fx: &Fixture<Db>, table: &str) -> i64 {
                let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}"))
                    .fetch_one(fx.store.pool())
                    .await
                    .expect("count");
                n
            }

            #[tokio::test]
            async fn load_of_nothing_is_empty() {
                let Some(fx) = $fixture().await else { return };
                let loaded = fx.store.load("g", &[tp("t", 0), tp("t", 1)]).await.unwrap();
                assert!(loaded.is_empty(), "{loaded:?}");
                assert!(fx.store.load("g", &[]).await.unwrap().is_empty());
                fx.store.save("g", &[]).await.unwrap();
                assert_eq!(count(&fx, fx.store.table()).await, 0);
                drop_tables(fx).await;
            }

            #[tokio::test]
            async fn save_then_load() {
                let Some(fx) = $fixture().await else { return };
                let offsets = [(tp("t", 0), 5), (tp("t", 1), 7), (tp("u", 0), 0)];
                fx.store.save("g", &offsets).await.unwrap();

                let wanted = [tp("t", 0), tp("t", 1), tp("t", 2), tp("u", 0), tp("u", 1)];
                let loaded = fx.store.load("g", &wanted).await.unwrap();
                let expected: HashMap<_, _> = offsets.iter().cloned().collect();
                assert_eq!(loaded, expected);

                // Only what is asked for, only for that group; names are case-sensitive.
                let one = fx.store.load("g", &[tp("t", 1)]).await.unwrap();
                assert_eq!(one, HashMap::from([(tp("t", 1), 7)]));
                assert!(fx.store.load("other", &wanted).await.unwrap().is_empty());
                assert!(fx.store.load("G", &wanted).await.unwrap().is_empty());
                assert!(fx.store.load("g", &[tp("T", 0)]).await.unwrap().is_empty());
                drop_tables(fx).await;
            }

            #[tokio::test]
            async fn upsert_overwrites() {
                let Some(fx) = $fixture().await else { return };
                fx.store.save("g", &[(tp("t", 0), 5)]).await.unwrap();
                fx.store
                    .save("g", &[(tp("t", 0), 9), (tp("t", 1), 1)])
                    .await
                    .unwrap();
                fx.store.save("g", &[(tp("t", 0), 12)]).await.unwrap();
                let loaded = fx.store.load("g", &[tp("t", 0), tp("t", 1)]).await.unwrap();
                assert_eq!(loaded, HashMap::from([(tp("t", 0), 12), (tp("t", 1), 1)]));
                assert_eq!(count(&fx, fx.store.table()).await, 2, "one row per partition");
                drop_tables(fx).await;
            }

            #[tokio::test]
            async fn negative_offsets_are_refused_and_nothing_is_written() {
                let Some(fx) = $fixture().await else { return };
                let err = fx
                    .store
                    .save("g", &[(tp("t", 0), 3), (tp("t", 1), -1)])
                    .await
                    .unwrap_err();
                assert!(
                    matches!(&err, StoreError::InvalidOffset { partition, value }
                        if *partition == tp("t", 1) && value == "-1"),
                    "{err:?}"
                );
                assert!(fx.store.load("g", &[tp("t", 0)]).await.unwrap().is_empty());
                drop_tables(fx).await;
            }

            #[tokio::test]
            async fn a_failing_row_rolls_back_the_whole_save() {
                let Some(fx) = $fixture().await else { return };
                fx.store.save("g", &[(tp("t", 0), 5)]).await.unwrap();
                let poison = $poison.replace("{table}", fx.store.table());
                sqlx::query(&poison)
                    .execute(fx.store.pool())
                    .await
                    .expect("install poison");
                let err = fx
                    .store
                    .save("g", &[(tp("t", 0), 9), (tp("poison", 0), 1), (tp("t", 1), 3)])
                    .await
                    .unwrap_err();
                assert!(matches!(err, StoreError::Sql(_)), "{err:?}");
                let loaded = fx
                    .store
                    .load("g", &[tp("t", 0), tp("t", 1), tp("poison", 0)])
                    .await
                    .unwrap();
                assert_eq!(loaded, HashMap::from([(tp("t", 0), 5)]), "all or none");
                drop_tables(fx).await;
            }

            #[tokio::test]
            async fn a_negative_stored_offset_is_an_error_not_a_panic() {
                let Some(fx) = $fixture().await else { return };
                let sql = format!(
                    "INSERT INTO {} (group_id, topic, partition_id, next_offset) \
                     VALUES ({}, {}, {}, {})",
                    fx.store.table(),
                    $p1,
                    $p2,
                    $p3,
                    $p4
                );
                sqlx::query(&sql)
                    .bind("g")
                    .bind("t")
                    .bind(4_i32)
                    .bind(-42_i64)
                    .execute(fx.store.pool())
                    .await
                    .unwrap();
                let err = fx.store.load("g", &[tp("t", 4)]).await.unwrap_err();
                match &err {
                    StoreError::InvalidOffset { partition, value } => {
                        assert_eq!(*partition, tp("t", 4));
                        assert!(value.starts_with("-42 "), "{value}");
                        assert!(value.contains(fx.store.table()), "{value}");
                    }
                    other => panic!("expected InvalidOffset, got {other:?}"),
                }
                drop_tables(fx).await;
            }

            #[tokio::test]
            async fn rollback_leaves_old_offsets_and_no_user_rows() {
                let Some(fx) = $fixture().await else { return };
                create_rows_table(&fx).await;
                let rows = fx.rows_table.clone();
                fx.store.save("g", &[(tp("t", 0), 5)]).await.unwrap();

                // Explicit rollback through SqlTxn.
                let mut txn = fx.store.begin().await.unwrap();
                sqlx::query(&insert_row_sql(&rows))
                    .bind(1_i64)
                    .bind("processed record 5")
                    .execute(&mut *txn)
                    .await
                    .unwrap();
                txn.save_offsets("g", &[(tp("t", 0), 6), (tp("t", 1), 1)])
                    .await
                    .unwrap();
                txn.rollback().await.unwrap();
                assert_eq!(count(&fx, &rows).await, 0);
                let loaded = fx.store.load("g", &[tp("t", 0), tp("t", 1)]).await.unwrap();
                assert_eq!(loaded, HashMap::from([(tp("t", 0), 5)]));

                // Dropped without commit: the same.
                let mut txn = fx.store.begin().await.unwrap();
                sqlx::query(&insert_row_sql(&rows))
                    .bind(2_i64)
                    .bind("processed record 5")
                    .execute(&mut *txn)
                    .await
                    .unwrap();
                txn.save_offsets("g", &[(tp("t", 0), 6)]).await.unwrap();
                drop(txn);
                assert_eq!(count(&fx, &rows).await, 0);
                let loaded = fx.store.load("g", &[tp("t", 0)]).await.unwrap();
                assert_eq!(loaded, HashMap::from([(tp("t", 0), 5)]));

                // save_in_tx inside a transaction the caller began.
                let mut tx = fx.store.pool().begin().await.unwrap();
                sqlx::query(&insert_row_sql(&rows))
                    .bind(3_i64)
                    .bind("processed record 5")
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                fx.store
                    .save_in_tx(&mut tx, "g", &[(tp("t", 0), 6)])
                    .await
                    .unwrap();
                tx.rollback().await.unwrap();
                assert_eq!(count(&fx, &rows).await, 0);
                let loaded = fx.store.load("g", &[tp("t", 0)]).await.unwrap();
                assert_eq!(loaded, HashMap::from([(tp("t", 0), 5)]));
                drop_tables(fx).await;
            }

            #[tokio::test]
            async fn commit_makes_user_rows_and_offsets_visible_together() {
                let Some(fx) = $fixture().await else { return };
                create_rows_table(&fx).await;
                let rows = fx.rows_table.clone();
                fx.store.save("g", &[(tp("t", 0), 5)]).await.unwrap();

                let mut txn = fx.store.begin().await.unwrap();
                for id in 5..8_i64 {
                    sqlx::query(&insert_row_sql(&rows))
                        .bind(id)
                        .bind(format!("processed record {id}"))
                        .execute(&mut *txn)
                        .await
                        .unwrap();
                }
                txn.save_offsets("g", &[(tp("t", 0), 8)]).await.unwrap();
                // Not visible to others before commit (every backend defaults to at least
                // READ COMMITTED).
                assert_eq!(count(&fx, &rows).await, 0);
                let before = fx.store.load("g", &[tp("t", 0)]).await.unwrap();
                assert_eq!(before, HashMap::from([(tp("t", 0), 5)]));
                txn.commit().await.unwrap();
                assert_eq!(count(&fx, &rows).await, 3);
                let after = fx.store.load("g", &[tp("t", 0)]).await.unwrap();
                assert_eq!(after, HashMap::from([(tp("t", 0), 8)]));

                let mut tx = fx.store.pool().begin().await.unwrap();
                sqlx::query(&insert_row_sql(&rows))
                    .bind(8_i64)
                    .bind("processed record 8")
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                fx.store
                    .save_in_tx(&mut tx, "g", &[(tp("t", 0), 9)])
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
                assert_eq!(count(&fx, &rows).await, 4);
                let after = fx.store.load("g", &[tp("t", 0)]).await.unwrap();
                assert_eq!(after, HashMap::from([(tp("t", 0), 9)]));
                drop_tables(fx).await;
            }
        }
    };
}

backend_tests!(
    sqlite_backend,
    Sqlite,
    sqlite,
    "?",
    "?",
    "?",
    "?",
    "CREATE TRIGGER {table}_poison BEFORE INSERT ON {table} WHEN NEW.topic = 'poison' \
     BEGIN SELECT RAISE(ABORT, 'poison'); END"
);
backend_tests!(
    postgres_backend,
    Postgres,
    postgres,
    "$1",
    "$2",
    "$3",
    "$4",
    "ALTER TABLE {table} ADD CONSTRAINT {table}_poison CHECK (topic <> 'poison')"
);
backend_tests!(
    mysql_backend,
    MySql,
    mysql,
    "?",
    "?",
    "?",
    "?",
    "ALTER TABLE {table} ADD CONSTRAINT {table}_poison CHECK (topic <> 'poison')"
);

#[tokio::test]
async fn unreachable_databases_are_errors_not_panics() {
    let err = SqlOffsetStore::<Sqlite>::open_sqlite("/nonexistent-rafka-dir/sub/offsets.db")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Sql(_)), "{err:?}");
    // (An unreachable server is left out: sqlx retries it until its 30 s acquire timeout.)
    let err = SqlOffsetStore::<MySql>::connect("not a url")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Sql(_)), "{err:?}");
}

#[tokio::test]
async fn table_names_that_are_not_identifiers_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqlOffsetStore::<Sqlite>::open_sqlite(dir.path().join("o.db"))
        .await
        .unwrap();
    assert_eq!(store.table(), "rafka_offsets");
    let err = store
        .clone()
        .with_table("offsets; DROP TABLE rafka_offsets")
        .unwrap_err();
    assert!(matches!(err, StoreError::Sql(_)), "{err:?}");
    // open_sqlite created the default table, so the store works at once.
    store.save("g", &[(tp("t", 0), 1)]).await.unwrap();
    assert_eq!(
        store.load("g", &[tp("t", 0)]).await.unwrap(),
        HashMap::from([(tp("t", 0), 1)])
    );
}

#[tokio::test]
async fn sqlite_offsets_survive_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("offsets.db");
    {
        let store = SqlOffsetStore::<Sqlite>::open_sqlite(&path).await.unwrap();
        store.save("g", &[(tp("t", 2), 77)]).await.unwrap();
        store.pool().close().await;
    }
    let store = SqlOffsetStore::<Sqlite>::open_sqlite(&path).await.unwrap();
    assert_eq!(
        store.load("g", &[tp("t", 2)]).await.unwrap(),
        HashMap::from([(tp("t", 2), 77)])
    );
}
