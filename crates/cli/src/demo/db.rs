//! The demo's SQLite database: what was produced, what the members processed, and the checks.
//!
//! Three member processes write at once, so the file runs in WAL mode (readers never block the
//! writer) with a long busy timeout (writers queue on SQLite's lock instead of failing).
//! `processed` has no unique constraint on purpose: a record processed twice shows up as two rows.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

/// How long a writer waits for SQLite's write lock before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// Opens (creating if needed) the demo database at `path` with WAL and the busy timeout.
///
/// # Errors
/// When SQLite cannot open the file.
pub async fn open(path: &Path, max_connections: u32) -> Result<SqlitePool, sqlx::Error> {
    let url = format!("sqlite://{}", path.display());
    let options = SqliteConnectOptions::from_str(&url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // NORMAL is durable across process crashes in WAL mode (only an OS crash can lose the
        // last transactions), which is the failure the demo injects.
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(BUSY_TIMEOUT);
    SqlitePoolOptions::new()
        .max_connections(max_connections)
        .connect_with(options)
        .await
}

/// Removes the database and its WAL/shm side files, so a run starts empty.
///
/// # Errors
/// When a file exists but cannot be removed.
pub fn remove(path: &Path) -> std::io::Result<()> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Creates the `processed` and `produced` tables.
///
/// # Errors
/// SQL errors.
pub async fn create_schema(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    sqlx::query(
        r#"CREATE TABLE IF NOT EXISTS processed (
               topic TEXT NOT NULL, "partition" INTEGER NOT NULL, "offset" INTEGER NOT NULL,
               key TEXT, value TEXT)"#,
    )
    .execute(pool)
    .await?;
    sqlx::query(
        r#"CREATE TABLE IF NOT EXISTS produced (
               topic TEXT NOT NULL, "partition" INTEGER NOT NULL, "offset" INTEGER NOT NULL)"#,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Records the acknowledged `(partition, offset)` of every produced record of `topic`.
///
/// # Errors
/// SQL errors.
pub async fn insert_produced(
    pool: &SqlitePool,
    topic: &str,
    acks: &[(i32, i64)],
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    for chunk in acks.chunks(500) {
        let mut qb =
            sqlx::QueryBuilder::new(r#"INSERT INTO produced (topic, "partition", "offset") "#);
        qb.push_values(chunk, |mut row, (partition, offset)| {
            row.push_bind(topic)
                .push_bind(*partition)
                .push_bind(*offset);
        });
        qb.build().execute(&mut *tx).await?;
    }
    tx.commit().await
}

/// Rows in `processed` for `topic` (duplicates included).
///
/// # Errors
/// SQL errors.
pub async fn processed_count(pool: &SqlitePool, topic: &str) -> Result<u64, sqlx::Error> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM processed WHERE topic = ?")
        .bind(topic)
        .fetch_one(pool)
        .await?;
    Ok(n as u64)
}

/// The outcome of the exactly-once check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// Records the producer had acknowledged.
    pub produced: u64,
    /// Rows in `processed` (duplicates included).
    pub processed: u64,
    /// Produced `(topic, partition, offset)`s with no `processed` row.
    pub missing: u64,
    /// Rows beyond the first per `(topic, partition, offset)`.
    pub duplicates: u64,
    /// Processed rows whose `(topic, partition, offset)` was never acknowledged to the producer.
    pub unexpected: u64,
}

impl Verdict {
    /// True when every produced record was processed exactly once.
    pub fn is_exactly_once(&self) -> bool {
        self.produced == self.processed
            && self.missing == 0
            && self.duplicates == 0
            && self.unexpected == 0
    }

    /// The line the demo prints (its exact form is what README and tests look for).
    pub fn line(&self) -> String {
        format!(
            "exactly-once: produced={} processed={} missing={} duplicates={}",
            self.produced, self.processed, self.missing, self.duplicates
        )
    }
}

/// Counts produced, processed, missing, duplicated and unexpected records of `topic`.
///
/// # Errors
/// SQL errors.
pub async fn verify(pool: &SqlitePool, topic: &str) -> Result<Verdict, sqlx::Error> {
    // Indexes only now: during the run they would slow every member's inserts.
    sqlx::query(
        r#"CREATE INDEX IF NOT EXISTS processed_tpo ON processed (topic, "partition", "offset")"#,
    )
    .execute(pool)
    .await?;
    sqlx::query(
        r#"CREATE INDEX IF NOT EXISTS produced_tpo ON produced (topic, "partition", "offset")"#,
    )
    .execute(pool)
    .await?;
    let row = sqlx::query(
        r#"SELECT
             (SELECT COUNT(*) FROM produced WHERE topic = ?1),
             (SELECT COUNT(*) FROM processed WHERE topic = ?1),
             (SELECT COUNT(*) FROM produced p WHERE p.topic = ?1 AND NOT EXISTS (
                 SELECT 1 FROM processed x WHERE x.topic = p.topic
                   AND x."partition" = p."partition" AND x."offset" = p."offset")),
             (SELECT COALESCE(SUM(n - 1), 0) FROM (
                 SELECT COUNT(*) AS n FROM processed WHERE topic = ?1
                 GROUP BY "partition", "offset" HAVING n > 1)),
             (SELECT COUNT(*) FROM processed x WHERE x.topic = ?1 AND NOT EXISTS (
                 SELECT 1 FROM produced p WHERE p.topic = x.topic
                   AND p."partition" = x."partition" AND p."offset" = x."offset"))"#,
    )
    .bind(topic)
    .fetch_one(pool)
    .await?;
    let get = |i: usize| -> Result<u64, sqlx::Error> { Ok(row.try_get::<i64, _>(i)? as u64) };
    Ok(Verdict {
        produced: get(0)?,
        processed: get(1)?,
        missing: get(2)?,
        duplicates: get(3)?,
        unexpected: get(4)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn insert_processed(pool: &SqlitePool, rows: &[(i32, i64)]) {
        for (p, o) in rows {
            sqlx::query(
                r#"INSERT INTO processed (topic, "partition", "offset", key, value)
                   VALUES ('t', ?, ?, 'k', 'v')"#,
            )
            .bind(p)
            .bind(o)
            .execute(pool)
            .await
            .unwrap();
        }
    }

    #[tokio::test]
    async fn verdict_counts_missing_duplicates_and_unexpected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.sqlite");
        let pool = open(&path, 2).await.unwrap();
        create_schema(&pool).await.unwrap();
        insert_produced(&pool, "t", &[(0, 0), (0, 1), (1, 0), (1, 1)])
            .await
            .unwrap();
        // (0,1) missing; (1,0) three times; (2,5) never produced.
        insert_processed(&pool, &[(0, 0), (1, 0), (1, 0), (1, 0), (1, 1), (2, 5)]).await;
        let v = verify(&pool, "t").await.unwrap();
        assert_eq!(
            v,
            Verdict {
                produced: 4,
                processed: 6,
                missing: 1,
                duplicates: 2,
                unexpected: 1
            }
        );
        assert!(!v.is_exactly_once());
        assert_eq!(
            v.line(),
            "exactly-once: produced=4 processed=6 missing=1 duplicates=2"
        );
    }

    #[tokio::test]
    async fn exact_processing_passes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.sqlite");
        let pool = open(&path, 2).await.unwrap();
        create_schema(&pool).await.unwrap();
        let acks: Vec<(i32, i64)> = (0..1200).map(|i| (i % 3, i64::from(i / 3))).collect();
        insert_produced(&pool, "t", &acks).await.unwrap();
        insert_processed(&pool, &acks).await;
        let v = verify(&pool, "t").await.unwrap();
        assert!(v.is_exactly_once(), "{v:?}");
        assert_eq!(processed_count(&pool, "t").await.unwrap(), 1200);
        pool.close().await;
        remove(&path).unwrap();
        assert!(!path.exists());
    }
}
