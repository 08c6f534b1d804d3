//! Offsets kept in a SQL table and read on assignment (the "store offsets outside Kafka"
//! pattern of the Java consumer docs, with a table keyed by group, topic and partition).
//!
//! The consumer commits nothing to Kafka (`enable.auto.commit=false`). After processing each
//! batch the application upserts the positions into the table; on every assignment a rebalance
//! listener reads the table and seeks, and partitions without a row start from the beginning.
//! Processing and saving are two steps, so this is at-least-once: a crash between them delivers
//! the batch again. `exactly_once_sql.rs` puts both in one transaction.
//!
//! ```text
//! cargo run -p rafka --features sqlite --example offsets_in_sql -- BROKERS TOPIC [DB_FILE] [GROUP]
//! ```

use std::error::Error;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rafka::consumer::store::sql::{SqlOffsetStore, Sqlite};
use rafka::TopicPartition;
use rafka::{
    AutoOffsetReset, Consumer, ConsumerConfig, ConsumerContext, ConsumerRebalanceListener,
    ConsumerRecord, ListenerError, OffsetStore,
};

/// What to consume and where the offsets live.
#[derive(Debug, Clone)]
pub struct Options {
    /// `bootstrap.servers`.
    pub brokers: String,
    /// The topic to consume.
    pub topic: String,
    /// `group.id`, also the key of the offsets' rows.
    pub group_id: String,
    /// The SQLite file holding the `rafka_offsets` table (created if missing).
    pub db_path: PathBuf,
    /// Stop after processing this many records.
    pub max_records: usize,
    /// Stop once assigned and nothing arrived for this long.
    pub idle: Duration,
    /// `session.timeout.ms` (Tansu holds a JoinGroup for about half of it).
    pub session_timeout: Duration,
}

/// Seeks every assigned partition to the position stored in the table; partitions with no row
/// start from the beginning.
pub struct SeekToStoredOffsets {
    store: SqlOffsetStore<Sqlite>,
    group_id: String,
}

impl ConsumerRebalanceListener for SeekToStoredOffsets {
    async fn on_partitions_assigned(
        &mut self,
        consumer: &mut ConsumerContext<'_>,
        partitions: &[TopicPartition],
    ) -> Result<(), ListenerError> {
        let stored = self.store.load(&self.group_id, partitions).await?;
        let mut without_row = Vec::new();
        for tp in partitions {
            match stored.get(tp) {
                Some(&offset) => consumer.seek(tp, offset)?,
                None => without_row.push(tp.clone()),
            }
        }
        if !without_row.is_empty() {
            consumer.seek_to_beginning(&without_row)?;
        }
        Ok(())
    }
}

/// Consumes `opts.topic`, "processing" each record (here: keeping it), and saves the positions
/// of what was processed to the table after every batch. Returns the processed records.
///
/// # Errors
/// Consumer and store errors, or no assignment within 60 s.
pub async fn run(opts: &Options) -> Result<Vec<ConsumerRecord>, Box<dyn Error + Send + Sync>> {
    let store = SqlOffsetStore::<Sqlite>::open_sqlite(&opts.db_path).await?;
    let config = ConsumerConfig::builder(&opts.brokers)
        .group_id(&opts.group_id)
        .enable_auto_commit(false)
        .auto_offset_reset(AutoOffsetReset::Earliest)
        .session_timeout(opts.session_timeout)
        .build()?;
    let mut consumer = Consumer::new(config)?;
    let listener = SeekToStoredOffsets {
        store: store.clone(),
        group_id: opts.group_id.clone(),
    };
    consumer.subscribe_with_listener(opts.topic.as_str(), listener)?;

    let mut processed = Vec::new();
    let started = Instant::now();
    let mut last_record = Instant::now();
    while processed.len() < opts.max_records {
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
        let mut positions: Vec<(TopicPartition, i64)> = Vec::new();
        for record in batch {
            if processed.len() == opts.max_records {
                break;
            }
            let tp = record.topic_partition();
            match positions.iter_mut().find(|(p, _)| *p == tp) {
                Some((_, next)) => *next = record.next_offset(),
                None => positions.push((tp, record.next_offset())),
            }
            processed.push(record);
        }
        // Only now that the batch is processed: a crash before this line re-delivers it.
        store.save(&opts.group_id, &positions).await?;
    }
    consumer.close().await?;
    Ok(processed)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error + Send + Sync>> {
    let mut args = std::env::args().skip(1);
    let (Some(brokers), Some(topic)) = (args.next(), args.next()) else {
        return Err("usage: offsets_in_sql BROKERS TOPIC [DB_FILE] [GROUP]".into());
    };
    let opts = Options {
        brokers,
        topic,
        db_path: args.next().unwrap_or_else(|| "offsets.db".into()).into(),
        group_id: args.next().unwrap_or_else(|| "offsets-in-sql".into()),
        max_records: usize::MAX,
        idle: Duration::from_secs(5),
        session_timeout: Duration::from_secs(45),
    };
    for record in run(&opts).await? {
        println!(
            "{}-{}@{}: {}",
            record.topic,
            record.partition,
            record.offset,
            String::from_utf8_lossy(record.value.as_deref().unwrap_or_default())
        );
    }
    Ok(())
}
