//! Exactly-once processing into SQLite: the rows a batch produces and the positions after that
//! batch are written in one transaction, and every assignment seeks to the stored positions.
//!
//! A crash before `COMMIT` loses both the rows and the positions, so the batch is consumed
//! again; a crash after keeps both, so it is not. Either way each record's row exists once.
//! The consumer commits nothing to Kafka; Kafka's committed offsets play no part.
//!
//! ```text
//! cargo run -p rafka --features sqlite --example exactly_once_sql -- BROKERS TOPIC [DB_FILE] [GROUP]
//! ```

use std::error::Error;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rafka::consumer::store::sql::{sqlx, SqlOffsetStore, Sqlite};
use rafka::TopicPartition;
use rafka::{
    AutoOffsetReset, Consumer, ConsumerConfig, ConsumerContext, ConsumerRebalanceListener,
    ListenerError, OffsetStore,
};

/// The table the "processing" writes: one row per consumed record, keyed by its coordinates,
/// so a record processed twice would violate the primary key.
pub const PROCESSED_TABLE: &str = "processed_records";

/// What to consume, where the database is, and when to stop (or pretend to crash).
#[derive(Debug, Clone)]
pub struct Options {
    /// `bootstrap.servers`.
    pub brokers: String,
    /// The topic to consume.
    pub topic: String,
    /// `group.id`.
    pub group_id: String,
    /// The SQLite file with `rafka_offsets` and [`PROCESSED_TABLE`] (created if missing).
    pub db_path: PathBuf,
    /// Stop once assigned and nothing arrived for this long.
    pub idle: Duration,
    /// `session.timeout.ms` (Tansu holds a JoinGroup for about half of it).
    pub session_timeout: Duration,
    /// `max.poll.records`.
    pub max_poll_records: usize,
    /// Simulate a crash: on this batch (1-based), write its rows and positions but return
    /// [`Crashed`] instead of committing.
    pub crash_on_batch: Option<usize>,
}

/// The simulated crash of [`Options::crash_on_batch`].
#[derive(Debug)]
pub struct Crashed {
    /// Batches committed before the crash.
    pub committed_batches: usize,
}

impl std::fmt::Display for Crashed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "simulated crash before commit, after {} committed batches",
            self.committed_batches
        )
    }
}

impl Error for Crashed {}

/// Seeks every assigned partition to the position committed with the processed rows.
pub struct SeekToCommitted {
    store: SqlOffsetStore<Sqlite>,
    group_id: String,
}

impl ConsumerRebalanceListener for SeekToCommitted {
    async fn on_partitions_assigned(
        &mut self,
        consumer: &mut ConsumerContext<'_>,
        partitions: &[TopicPartition],
    ) -> Result<(), ListenerError> {
        let stored = self.store.load(&self.group_id, partitions).await?;
        let mut fresh = Vec::new();
        for tp in partitions {
            match stored.get(tp) {
                Some(&offset) => consumer.seek(tp, offset)?,
                None => fresh.push(tp.clone()),
            }
        }
        if !fresh.is_empty() {
            consumer.seek_to_beginning(&fresh)?;
        }
        Ok(())
    }
}

/// Opens the database: the offsets table and [`PROCESSED_TABLE`].
///
/// # Errors
/// When the file or a table cannot be created.
pub async fn open_store(
    db_path: &std::path::Path,
) -> Result<SqlOffsetStore<Sqlite>, Box<dyn Error + Send + Sync>> {
    let store = SqlOffsetStore::<Sqlite>::open_sqlite(db_path).await?;
    sqlx::query(&format!(
        "CREATE TABLE IF NOT EXISTS {PROCESSED_TABLE} (\
         topic TEXT NOT NULL, partition_id INTEGER NOT NULL, record_offset INTEGER NOT NULL, \
         value BLOB, PRIMARY KEY (topic, partition_id, record_offset))"
    ))
    .execute(store.pool())
    .await?;
    Ok(store)
}

/// Consumes until the topic stays idle for `opts.idle`, writing each batch's rows and
/// positions in one transaction. Returns the number of batches committed.
///
/// # Errors
/// [`Crashed`] when `crash_on_batch` is reached; consumer and database errors; no assignment
/// within 60 s.
pub async fn run(opts: &Options) -> Result<usize, Box<dyn Error + Send + Sync>> {
    let store = open_store(&opts.db_path).await?;
    let config = ConsumerConfig::builder(&opts.brokers)
        .group_id(&opts.group_id)
        .enable_auto_commit(false)
        .auto_offset_reset(AutoOffsetReset::Earliest)
        .session_timeout(opts.session_timeout)
        .max_poll_records(opts.max_poll_records)
        .build()?;
    let mut consumer = Consumer::new(config)?;
    let listener = SeekToCommitted {
        store: store.clone(),
        group_id: opts.group_id.clone(),
    };
    consumer.subscribe_with_listener(opts.topic.as_str(), listener)?;

    let insert = format!(
        "INSERT INTO {PROCESSED_TABLE} (topic, partition_id, record_offset, value) \
         VALUES (?, ?, ?, ?)"
    );
    let mut committed_batches = 0;
    let started = Instant::now();
    let mut last_record = Instant::now();
    loop {
        let batch = consumer.poll(Duration::from_millis(200)).await?;
        if batch.is_empty() {
            if consumer.assignment().is_empty() {
                if started.elapsed() > Duration::from_secs(60) {
                    return Err("no partitions assigned within 60 s".into());
                }
                last_record = Instant::now();
            } else if last_record.elapsed() >= opts.idle {
                break;
            }
            continue;
        }
        last_record = Instant::now();

        let mut txn = store.begin().await?;
        let mut positions: Vec<(TopicPartition, i64)> = Vec::new();
        for record in &batch {
            sqlx::query(&insert)
                .bind(&*record.topic)
                .bind(record.partition)
                .bind(record.offset)
                .bind(record.value.as_deref())
                .execute(&mut *txn)
                .await?;
            let tp = record.topic_partition();
            match positions.iter_mut().find(|(p, _)| *p == tp) {
                Some((_, next)) => *next = record.next_offset(),
                None => positions.push((tp, record.next_offset())),
            }
        }
        txn.save_offsets(&opts.group_id, &positions).await?;
        if opts.crash_on_batch == Some(committed_batches + 1) {
            // Dropping `txn` uncommitted rolls back the rows and the positions together. A
            // real crash would not close the consumer; closing here only spares the next run
            // a session timeout, and commits nothing (auto-commit is off).
            drop(txn);
            consumer.close().await?;
            return Err(Crashed { committed_batches }.into());
        }
        txn.commit().await?;
        committed_batches += 1;
    }
    consumer.close().await?;
    Ok(committed_batches)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error + Send + Sync>> {
    let mut args = std::env::args().skip(1);
    let (Some(brokers), Some(topic)) = (args.next(), args.next()) else {
        return Err("usage: exactly_once_sql BROKERS TOPIC [DB_FILE] [GROUP]".into());
    };
    let opts = Options {
        brokers,
        topic,
        db_path: args
            .next()
            .unwrap_or_else(|| "exactly-once.db".into())
            .into(),
        group_id: args.next().unwrap_or_else(|| "exactly-once-sql".into()),
        idle: Duration::from_secs(5),
        session_timeout: Duration::from_secs(45),
        max_poll_records: 500,
        crash_on_batch: None,
    };
    let batches = run(&opts).await?;
    println!("committed {batches} batches to {}", opts.db_path.display());
    Ok(())
}
