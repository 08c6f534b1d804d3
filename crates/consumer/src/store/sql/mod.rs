//! SQL offset store: positions in a table of your database, optionally written in the same
//! transaction as the rows your processing produced.
//!
//! # Table
//! One row per (group, topic, partition); the default table name is [`DEFAULT_TABLE`]:
//!
//! Each backend is behind a cargo feature of this crate (also of `rafka`): `sqlite`, `postgres`,
//! `mysql`. sqlx is compiled with only the enabled drivers.
//!
//! | column         | SQLite    | PostgreSQL    | MySQL / MariaDB                 |
//! | -------------- | --------- | ------------- | ------------------------------- |
//! | `group_id`     | `TEXT`    | `TEXT`        | `VARCHAR(255)` binary collation |
//! | `topic`        | `TEXT`    | `TEXT`        | `VARCHAR(249)` binary collation |
//! | `partition_id` | `INTEGER` | `INTEGER`     | `INT`                           |
//! | `next_offset`  | `INTEGER` | `BIGINT`      | `BIGINT`                        |
//! | `updated_at`   | `TEXT`    | `TIMESTAMPTZ` | `DATETIME(3)`                   |
//!
//! The primary key is `(group_id, topic, partition_id)`. `next_offset` is the position: the
//! offset of the next record to consume (what Kafka's OffsetCommit stores), not the last one
//! processed. `updated_at` is the time of the last save in UTC (SQLite's `CURRENT_TIMESTAMP`
//! text, PostgreSQL's `now()`, MySQL's `UTC_TIMESTAMP(3)`). MySQL columns use a binary
//! collation because Kafka group ids and topics are case-sensitive. Column names avoid
//! `partition` and `offset`, which are reserved words in MySQL and PostgreSQL.
//! [`SqlOffsetStore::create_table_if_missing`] creates the table.
//!
//! # Exactly-once processing
//! The pattern from the Kafka consumer docs ("storing offsets outside Kafka"): write the results
//! of processing a batch and the positions after that batch in one database transaction, and on
//! assignment seek to the stored positions. A crash before commit loses both the rows and the
//! positions, so the batch is consumed again; a crash after commit keeps both, so it is not.
//! [`SqlOffsetStore::begin`] returns a [`SqlTxn`] for this; [`SqlOffsetStore::save_in_tx`] does
//! the same inside a transaction you already hold.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use rafka_wire::TopicPartition;
use sqlx::{Pool, Transaction};

use super::{OffsetStore, StoreError};

mod backend;
mod txn;

pub use backend::SqlBackend;
use backend::{check_table_name, Statements};
pub use txn::SqlTxn;

/// The sqlx version this store is built on, re-exported so your queries use the same types.
pub use sqlx;
#[cfg(feature = "mysql")]
#[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
pub use sqlx::MySql;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use sqlx::Postgres;
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use sqlx::Sqlite;

/// Table used when none is configured.
pub const DEFAULT_TABLE: &str = "rafka_offsets";

/// Longest table name accepted (PostgreSQL's identifier limit is 63 bytes, MySQL's 64).
const MAX_TABLE_NAME: usize = 63;

fn sql_error<DB: SqlBackend>(what: &str, table: &str, err: sqlx::Error) -> StoreError {
    StoreError::Sql(format!(
        "{} {what} on table {table}: {err}",
        <DB as sqlx::Database>::NAME
    ))
}

/// Refuses negative positions before anything is written, so a bad batch changes nothing.
fn check_offsets(offsets: &[(TopicPartition, i64)]) -> Result<(), StoreError> {
    match offsets.iter().find(|(_, offset)| *offset < 0) {
        Some((tp, offset)) => Err(StoreError::InvalidOffset {
            partition: tp.clone(),
            value: offset.to_string(),
        }),
        None => Ok(()),
    }
}

/// Consumer positions in a SQL table (SQLite, PostgreSQL, MySQL/MariaDB), via sqlx.
///
/// # Atomicity
/// - [`OffsetStore::save`] writes all offsets in one transaction of its own: after an error none
///   of them is stored; concurrent `load`s see either all or none.
/// - [`SqlOffsetStore::save_in_tx`] and [`SqlTxn::save_offsets`] write the offsets inside a
///   transaction you control: they become visible exactly when that transaction commits, together
///   with everything else it wrote, and vanish with it on rollback (or when it is dropped
///   uncommitted). This is what makes processing exactly-once.
/// - Each save is an upsert per partition (`ON CONFLICT ... DO UPDATE` on SQLite and PostgreSQL,
///   `ON DUPLICATE KEY UPDATE` on MySQL): the last save wins. Positions are not fenced by
///   generation; when two consumers own a partition during a rebalance, the later writer wins.
///
/// Cloning is cheap (the pool is shared).
///
/// ```no_run
/// # #[cfg(feature = "sqlite")]
/// # async fn demo() -> Result<(), rafka_consumer::StoreError> {
/// use rafka_consumer::store::sql::{SqlOffsetStore, Sqlite};
/// use rafka_wire::TopicPartition;
///
/// let store = SqlOffsetStore::<Sqlite>::open_sqlite("offsets.db").await?;
/// let mut txn = store.begin().await?;
/// rafka_consumer::store::sql::sqlx::query("INSERT INTO results (v) VALUES (?)")
///     .bind(42_i64)
///     .execute(&mut *txn)
///     .await
///     .map_err(|e| rafka_consumer::StoreError::Sql(e.to_string()))?;
/// txn.save_offsets("my-group", &[(TopicPartition::new("events", 0), 101)]).await?;
/// txn.commit().await?; // the row and the position, or neither
/// # Ok(()) }
/// ```
pub struct SqlOffsetStore<DB: SqlBackend> {
    pool: Pool<DB>,
    statements: Arc<Statements>,
}

impl<DB: SqlBackend> Clone for SqlOffsetStore<DB> {
    fn clone(&self) -> Self {
        SqlOffsetStore {
            pool: self.pool.clone(),
            statements: Arc::clone(&self.statements),
        }
    }
}

impl<DB: SqlBackend> fmt::Debug for SqlOffsetStore<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlOffsetStore")
            .field("backend", &<DB as sqlx::Database>::NAME)
            .field("table", &self.statements.table)
            .finish_non_exhaustive()
    }
}

impl<DB: SqlBackend> SqlOffsetStore<DB> {
    /// A store over `pool` using the table [`DEFAULT_TABLE`]. Does not touch the database; call
    /// [`SqlOffsetStore::create_table_if_missing`] if the table may not exist.
    pub fn new(pool: Pool<DB>) -> Self {
        SqlOffsetStore {
            pool,
            statements: Arc::new(Statements::new::<DB>(DEFAULT_TABLE)),
        }
    }

    /// Connects a new pool to `url` (sqlx URL syntax, e.g. `postgres://user@host/db`,
    /// `mysql://user:pass@host/db`, `sqlite://file.db?mode=rwc`) and uses [`DEFAULT_TABLE`].
    ///
    /// sqlx's pool defaults apply (10 connections; an unreachable server is retried for the
    /// 30 s acquire timeout). For other pool settings build the pool yourself and use
    /// [`SqlOffsetStore::new`].
    ///
    /// # Errors
    /// [`StoreError::Sql`] if the URL is malformed or the database unreachable.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = Pool::<DB>::connect(url)
            .await
            .map_err(|e| sql_error::<DB>("connect", DEFAULT_TABLE, e))?;
        Ok(Self::new(pool))
    }

    /// Uses `table` instead of [`DEFAULT_TABLE`].
    ///
    /// # Errors
    /// [`StoreError::Sql`] if `table` is not a plain identifier (`[A-Za-z_][A-Za-z0-9_]*`, at most
    /// 63 characters, optionally `schema.table`); names are spliced into SQL, so nothing else is
    /// accepted.
    pub fn with_table(self, table: &str) -> Result<Self, StoreError> {
        check_table_name(table)?;
        Ok(SqlOffsetStore {
            pool: self.pool,
            statements: Arc::new(Statements::new::<DB>(table)),
        })
    }

    /// The table holding the offsets.
    pub fn table(&self) -> &str {
        &self.statements.table
    }

    /// The pool, for your own queries.
    pub fn pool(&self) -> &Pool<DB> {
        &self.pool
    }

    /// Creates the offsets table (see the module docs for its layout) unless a table of that name
    /// exists. An existing table is not checked or altered.
    ///
    /// # Errors
    /// [`StoreError::Sql`] if the statement fails (e.g. no CREATE privilege).
    pub async fn create_table_if_missing(&self) -> Result<(), StoreError> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(|e| self.error("acquire connection", e))?;
        DB::execute(&mut conn, &self.statements.create)
            .await
            .map_err(|e| self.error("create table", e))
    }

    /// Writes `offsets` for `group_id` inside `tx`, which you commit or roll back: the offsets are
    /// stored if and only if `tx` commits. Nothing is written if any offset is negative.
    ///
    /// # Errors
    /// [`StoreError::InvalidOffset`] for a negative offset (before any write);
    /// [`StoreError::Sql`] if a statement fails — `tx` should then be rolled back (some rows of
    /// this call may already be written in it).
    pub async fn save_in_tx(
        &self,
        tx: &mut Transaction<'_, DB>,
        group_id: &str,
        offsets: &[(TopicPartition, i64)],
    ) -> Result<(), StoreError> {
        upsert_all::<DB>(&mut *tx, &self.statements, group_id, offsets).await
    }

    /// Begins a transaction for exactly-once processing: run your own statements through the
    /// returned [`SqlTxn`] (it dereferences to the connection), add the positions with
    /// [`SqlTxn::save_offsets`], then [`SqlTxn::commit`]. Both become visible together, or
    /// neither does.
    ///
    /// # Errors
    /// [`StoreError::Sql`] if no connection can be acquired or `BEGIN` fails.
    pub async fn begin(&self) -> Result<SqlTxn<DB>, StoreError> {
        let tx = self
            .pool
            .begin()
            .await
            .map_err(|e| self.error("begin", e))?;
        Ok(SqlTxn {
            tx,
            statements: Arc::clone(&self.statements),
        })
    }

    fn error(&self, what: &str, err: sqlx::Error) -> StoreError {
        sql_error::<DB>(what, &self.statements.table, err)
    }
}

#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
impl SqlOffsetStore<Sqlite> {
    /// Opens (creating it if missing) the SQLite database file at `path`, in WAL mode so readers
    /// do not block the writer, and creates the offsets table [`DEFAULT_TABLE`] if missing.
    ///
    /// # Errors
    /// [`StoreError::Sql`] if the file cannot be opened or created, or the table not created.
    pub async fn open_sqlite(path: impl AsRef<std::path::Path>) -> Result<Self, StoreError> {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal);
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .connect_with(options)
            .await
            .map_err(|e| sql_error::<Sqlite>("open", DEFAULT_TABLE, e))?;
        let store = Self::new(pool);
        store.create_table_if_missing().await?;
        Ok(store)
    }
}

async fn upsert_all<DB: SqlBackend>(
    conn: &mut DB::Connection,
    statements: &Statements,
    group_id: &str,
    offsets: &[(TopicPartition, i64)],
) -> Result<(), StoreError> {
    check_offsets(offsets)?;
    for (tp, offset) in offsets {
        DB::upsert(conn, &statements.upsert, group_id, tp, *offset)
            .await
            .map_err(|e| sql_error::<DB>("upsert", &statements.table, e))?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl<DB: SqlBackend> OffsetStore for SqlOffsetStore<DB> {
    async fn load(
        &self,
        group_id: &str,
        partitions: &[TopicPartition],
    ) -> Result<HashMap<TopicPartition, i64>, StoreError> {
        let mut wanted: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
        for tp in partitions {
            wanted.entry(&tp.topic).or_default().push(tp.partition);
        }
        let mut found = HashMap::new();
        if wanted.is_empty() {
            return Ok(found);
        }
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(|e| self.error("acquire connection", e))?;
        // One query per topic: every backend can bind a scalar, not every one a list.
        for (topic, wanted_partitions) in wanted {
            let rows = DB::select(&mut conn, &self.statements.select, group_id, topic)
                .await
                .map_err(|e| self.error("select", e))?;
            for (partition, offset) in rows {
                if !wanted_partitions.contains(&partition) {
                    continue;
                }
                let tp = TopicPartition::new(topic, partition);
                if offset < 0 {
                    return Err(StoreError::InvalidOffset {
                        partition: tp,
                        value: format!(
                            "{offset} (table {}, group {group_id:?})",
                            self.statements.table
                        ),
                    });
                }
                found.insert(tp, offset);
            }
        }
        Ok(found)
    }

    async fn save(
        &self,
        group_id: &str,
        offsets: &[(TopicPartition, i64)],
    ) -> Result<(), StoreError> {
        if offsets.is_empty() {
            return Ok(());
        }
        check_offsets(offsets)?;
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| self.error("begin", e))?;
        // On error `tx` is dropped uncommitted, which rolls it back: all or none.
        upsert_all::<DB>(&mut tx, &self.statements, group_id, offsets).await?;
        tx.commit().await.map_err(|e| self.error("commit", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_plain_identifiers() {
        assert!(check_table_name(DEFAULT_TABLE).is_ok());
        for ok in ["rafka_offsets", "_t", "app.offsets_2", "T9"] {
            assert!(check_table_name(ok).is_ok(), "{ok}");
        }
        let long = "t".repeat(MAX_TABLE_NAME + 1);
        for bad in [
            "",
            "9t",
            "a b",
            "t;DROP TABLE x",
            "a.b.c",
            "\"t\"",
            ".t",
            "t.",
            long.as_str(),
        ] {
            assert!(
                matches!(check_table_name(bad), Err(StoreError::Sql(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn negative_offsets_are_refused_before_writing() {
        let tp = TopicPartition::new("t", 3);
        let err = check_offsets(&[(TopicPartition::new("t", 0), 5), (tp.clone(), -1)]);
        match err {
            Err(StoreError::InvalidOffset { partition, value }) => {
                assert_eq!(partition, tp);
                assert_eq!(value, "-1");
            }
            other => panic!("expected InvalidOffset, got {other:?}"),
        }
        assert!(check_offsets(&[(tp, 0)]).is_ok());
    }

    #[test]
    fn upserts_use_each_backends_syntax() {
        #[cfg(feature = "sqlite")]
        assert!(Sqlite::upsert_sql("t").contains("ON CONFLICT (group_id, topic, partition_id)"));
        #[cfg(feature = "postgres")]
        assert!(Postgres::upsert_sql("t").contains("VALUES ($1, $2, $3, $4, now())"));
        #[cfg(feature = "mysql")]
        assert!(MySql::upsert_sql("t").contains("ON DUPLICATE KEY UPDATE"));
    }
}
