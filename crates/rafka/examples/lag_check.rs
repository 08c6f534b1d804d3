//! Positions in a SQL table with a lag check: each batch's rows and the positions after it are
//! written in one SQLite transaction (the consumer's offset store loads them on assignment),
//! and every `check_interval` the consumer compares the end offsets with its positions and
//! skips ahead, to `end - max_lag`, on partitions that fell too far behind: the Java pattern
//! of `endOffsets` + `seek` for data that is worthless once old.
//!
//! (The `max_lag` consumer setting does the same check on every fetch response, without the
//! extra request; this example does it by hand to show `end_offsets`.)
//!
//! ```text
//! cargo run -p rafka --features sqlite --example lag_check -- BROKERS TOPIC [DB_FILE] [GROUP]
//! ```

use std::error::Error;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rafka::consumer::store::sql::{sqlx, SqlOffsetStore, Sqlite};
use rafka::{AutoOffsetReset, Consumer, ConsumerConfig, ConsumerRecord};

type BoxError = Box<dyn Error + Send + Sync>;

/// What to consume, where the table is, and the lag policy.
#[derive(Debug, Clone)]
pub struct Options {
    /// `bootstrap.servers`.
    pub brokers: String,
    /// The topic to consume.
    pub topic: String,
    /// `group.id`.
    pub group_id: String,
    /// The SQLite file (created if missing).
    pub db_path: String,
    /// Skip ahead when a partition is more than this many records behind its end.
    pub max_lag: i64,
    /// How often to check the lag.
    pub check_interval: Duration,
    /// `max.poll.records`.
    pub max_poll_records: usize,
    /// Stop once assigned and nothing arrived for this long.
    pub idle: Duration,
}

/// Consumes until idle; returns the processed records.
pub async fn run(opts: &Options) -> Result<Vec<ConsumerRecord>, BoxError> {
    let store = SqlOffsetStore::<Sqlite>::open_sqlite(&opts.db_path).await?;
    sqlx::query("CREATE TABLE IF NOT EXISTS events (topic TEXT, part INT, off INT, v BLOB)")
        .execute(store.pool())
        .await?;
    let config = ConsumerConfig::builder(&opts.brokers)
        .group_id(&opts.group_id)
        .enable_auto_commit(false)
        .auto_offset_reset(AutoOffsetReset::Earliest)
        .max_poll_records(opts.max_poll_records)
        .offset_store(Arc::new(store.clone()))
        .build()?;
    let mut consumer = Consumer::new(config)?;
    consumer.subscribe(&opts.topic)?;

    let mut processed = Vec::new();
    let mut last_check: Option<Instant> = None;
    let mut last_record = Instant::now();
    while consumer.assignment().is_empty() || last_record.elapsed() < opts.idle {
        let batch = consumer.poll(Duration::from_millis(200)).await?;
        let assigned = consumer.assignment();
        if !assigned.is_empty() && last_check.is_none_or(|t| t.elapsed() >= opts.check_interval) {
            last_check = Some(Instant::now());
            let ends = consumer.end_offsets(&assigned).await?;
            for tp in &assigned {
                let position = consumer.position(tp).await?;
                if ends[tp] - position > opts.max_lag {
                    println!(
                        "{tp}: {} behind, skipping to {}",
                        ends[tp] - position,
                        ends[tp] - opts.max_lag
                    );
                    consumer.seek(tp, ends[tp] - opts.max_lag)?;
                }
            }
        }
        if batch.is_empty() {
            continue;
        }
        last_record = Instant::now();
        let mut txn = store.begin().await?;
        for r in &batch {
            sqlx::query("INSERT INTO events VALUES (?, ?, ?, ?)")
                .bind(&*r.topic)
                .bind(r.partition)
                .bind(r.offset)
                .bind(r.value.as_deref())
                .execute(&mut *txn)
                .await?;
        }
        txn.save_positions(&consumer.positions_after(&batch)?)
            .await?;
        txn.commit().await?;
        processed.extend(batch);
    }
    consumer.close().await?;
    Ok(processed)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [brokers, topic, rest @ ..] = args.as_slice() else {
        return Err("usage: lag_check BROKERS TOPIC [DB_FILE] [GROUP]".into());
    };
    let opts = Options {
        brokers: brokers.clone(),
        topic: topic.clone(),
        db_path: rest
            .first()
            .cloned()
            .unwrap_or_else(|| "lag_check.db".into()),
        group_id: rest.get(1).cloned().unwrap_or_else(|| "lag-check".into()),
        max_lag: 500,
        check_interval: Duration::from_secs(15 * 60),
        max_poll_records: 500,
        idle: Duration::from_secs(5),
    };
    println!("processed {} records", run(&opts).await?.len());
    Ok(())
}
