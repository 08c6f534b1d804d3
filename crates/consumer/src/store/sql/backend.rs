//! [`SqlBackend`]: the SQL each supported database needs (create, upsert, select), and the
//! statements of one table built from it.

use futures::future::BoxFuture;
use rafka_wire::TopicPartition;

#[cfg(feature = "mysql")]
use super::MySql;
#[cfg(feature = "postgres")]
use super::Postgres;
#[cfg(feature = "sqlite")]
use super::Sqlite;
use super::{StoreError, MAX_TABLE_NAME};

mod sealed {
    pub trait Sealed {}
    #[cfg(feature = "sqlite")]
    impl Sealed for sqlx::Sqlite {}
    #[cfg(feature = "postgres")]
    impl Sealed for sqlx::Postgres {}
    #[cfg(feature = "mysql")]
    impl Sealed for sqlx::MySql {}
}

/// A database the SQL store supports: `Sqlite` (feature `sqlite`), `Postgres` (feature
/// `postgres`) or `MySql` (feature `mysql`; also MariaDB).
///
/// Sealed: each backend carries its own SQL (upsert syntax, placeholders, column types).
pub trait SqlBackend: sqlx::Database + sealed::Sealed {
    /// `CREATE TABLE IF NOT EXISTS` statement for `table`.
    #[doc(hidden)]
    fn create_table_sql(table: &str) -> String;

    /// Upsert of one row; binds group_id, topic, partition_id, next_offset in that order.
    #[doc(hidden)]
    fn upsert_sql(table: &str) -> String;

    /// Select of (partition_id, next_offset); binds group_id, topic.
    #[doc(hidden)]
    fn select_sql(table: &str) -> String;

    /// Runs a statement without parameters.
    #[doc(hidden)]
    fn execute<'c>(
        conn: &'c mut Self::Connection,
        sql: &'c str,
    ) -> BoxFuture<'c, Result<(), sqlx::Error>>;

    /// Runs [`SqlBackend::upsert_sql`] for one partition.
    #[doc(hidden)]
    fn upsert<'c>(
        conn: &'c mut Self::Connection,
        sql: &'c str,
        group_id: &'c str,
        tp: &'c TopicPartition,
        offset: i64,
    ) -> BoxFuture<'c, Result<(), sqlx::Error>>;

    /// Runs [`SqlBackend::select_sql`] for one topic.
    #[doc(hidden)]
    fn select<'c>(
        conn: &'c mut Self::Connection,
        sql: &'c str,
        group_id: &'c str,
        topic: &'c str,
    ) -> BoxFuture<'c, Result<Vec<(i32, i64)>, sqlx::Error>>;
}

/// The statements are the same text for every backend; only the connection type differs, and
/// naming it concretely spares every caller sqlx's generic executor bounds.
macro_rules! backend_statements {
    () => {
        fn execute<'c>(
            conn: &'c mut Self::Connection,
            sql: &'c str,
        ) -> BoxFuture<'c, Result<(), sqlx::Error>> {
            Box::pin(async move { sqlx::query(sql).execute(conn).await.map(drop) })
        }

        fn upsert<'c>(
            conn: &'c mut Self::Connection,
            sql: &'c str,
            group_id: &'c str,
            tp: &'c TopicPartition,
            offset: i64,
        ) -> BoxFuture<'c, Result<(), sqlx::Error>> {
            Box::pin(async move {
                sqlx::query(sql)
                    .bind(group_id)
                    .bind(tp.topic.as_str())
                    .bind(tp.partition)
                    .bind(offset)
                    .execute(conn)
                    .await
                    .map(drop)
            })
        }

        fn select<'c>(
            conn: &'c mut Self::Connection,
            sql: &'c str,
            group_id: &'c str,
            topic: &'c str,
        ) -> BoxFuture<'c, Result<Vec<(i32, i64)>, sqlx::Error>> {
            Box::pin(async move {
                sqlx::query_as::<_, (i32, i64)>(sql)
                    .bind(group_id)
                    .bind(topic)
                    .fetch_all(conn)
                    .await
            })
        }
    };
}

#[cfg(feature = "sqlite")]
impl SqlBackend for Sqlite {
    fn create_table_sql(table: &str) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {table} (\
             group_id TEXT NOT NULL, \
             topic TEXT NOT NULL, \
             partition_id INTEGER NOT NULL, \
             next_offset INTEGER NOT NULL, \
             updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, \
             PRIMARY KEY (group_id, topic, partition_id))"
        )
    }

    fn upsert_sql(table: &str) -> String {
        format!(
            "INSERT INTO {table} (group_id, topic, partition_id, next_offset, updated_at) \
             VALUES (?, ?, ?, ?, CURRENT_TIMESTAMP) \
             ON CONFLICT (group_id, topic, partition_id) DO UPDATE SET \
             next_offset = excluded.next_offset, updated_at = excluded.updated_at"
        )
    }

    fn select_sql(table: &str) -> String {
        format!("SELECT partition_id, next_offset FROM {table} WHERE group_id = ? AND topic = ?")
    }

    backend_statements!();
}

#[cfg(feature = "postgres")]
impl SqlBackend for Postgres {
    fn create_table_sql(table: &str) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {table} (\
             group_id TEXT NOT NULL, \
             topic TEXT NOT NULL, \
             partition_id INTEGER NOT NULL, \
             next_offset BIGINT NOT NULL, \
             updated_at TIMESTAMPTZ NOT NULL DEFAULT now(), \
             PRIMARY KEY (group_id, topic, partition_id))"
        )
    }

    fn upsert_sql(table: &str) -> String {
        format!(
            "INSERT INTO {table} (group_id, topic, partition_id, next_offset, updated_at) \
             VALUES ($1, $2, $3, $4, now()) \
             ON CONFLICT (group_id, topic, partition_id) DO UPDATE SET \
             next_offset = EXCLUDED.next_offset, updated_at = EXCLUDED.updated_at"
        )
    }

    fn select_sql(table: &str) -> String {
        format!("SELECT partition_id, next_offset FROM {table} WHERE group_id = $1 AND topic = $2")
    }

    backend_statements!();
}

#[cfg(feature = "mysql")]
impl SqlBackend for MySql {
    fn create_table_sql(table: &str) -> String {
        // 249 is Kafka's topic length limit; (255 + 249) utf8mb4 characters fit InnoDB's
        // 3072-byte key limit. DATETIME, not TIMESTAMP, which ends in 2038.
        format!(
            "CREATE TABLE IF NOT EXISTS {table} (\
             group_id VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, \
             topic VARCHAR(249) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, \
             partition_id INT NOT NULL, \
             next_offset BIGINT NOT NULL, \
             updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), \
             PRIMARY KEY (group_id, topic, partition_id)) ENGINE=InnoDB"
        )
    }

    fn upsert_sql(table: &str) -> String {
        // VALUES() rather than the `AS new` row alias: MariaDB has no row alias.
        format!(
            "INSERT INTO {table} (group_id, topic, partition_id, next_offset, updated_at) \
             VALUES (?, ?, ?, ?, UTC_TIMESTAMP(3)) \
             ON DUPLICATE KEY UPDATE \
             next_offset = VALUES(next_offset), updated_at = VALUES(updated_at)"
        )
    }

    fn select_sql(table: &str) -> String {
        format!("SELECT partition_id, next_offset FROM {table} WHERE group_id = ? AND topic = ?")
    }

    backend_statements!();
}

/// The statements for one table, built once.
pub(super) struct Statements {
    pub(super) table: String,
    pub(super) create: String,
    pub(super) upsert: String,
    pub(super) select: String,
}

impl Statements {
    /// `table` must have passed [`check_table_name`] (or be [`DEFAULT_TABLE`]).
    pub(super) fn new<DB: SqlBackend>(table: &str) -> Self {
        Statements {
            table: table.to_owned(),
            create: DB::create_table_sql(table),
            upsert: DB::upsert_sql(table),
            select: DB::select_sql(table),
        }
    }
}

/// Table names are spliced into SQL text, so only plain identifiers (optionally
/// `schema.table`) are accepted: no quoting rules to get wrong, no injection.
pub(super) fn check_table_name(table: &str) -> Result<(), StoreError> {
    let plain = |part: &str| {
        let mut chars = part.chars();
        matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
            && part.len() <= MAX_TABLE_NAME
    };
    let ok = match table.split_once('.') {
        Some((schema, name)) => plain(schema) && plain(name),
        None => plain(table),
    };
    if ok {
        Ok(())
    } else {
        Err(StoreError::Sql(format!(
            "invalid table name {table:?}: use letters, digits and '_' (at most \
             {MAX_TABLE_NAME}), not starting with a digit, optionally as schema.table"
        )))
    }
}
