//! A standalone consumer with an offset manager, in the shape of sarama's `OffsetManager`: no
//! group membership — the consumer `assign`s every partition of a topic itself — but positions are
//! still kept in Kafka under a `group.id`:
//! - each processed record is marked (`mark_record`, sarama's `MarkOffset(offset + 1)`);
//! - marked offsets are committed every `auto.commit.interval.ms` (1 s here);
//! - `close` commits what was marked since (sarama's `defer offsetManager.Commit()`),
//!   so a restart resumes exactly after the last processed record.
//!
//! ```text
//! cargo run -p rafka --example standalone_offset_manager -- BROKERS TOPIC [GROUP]
//! ```

use std::collections::BTreeMap;
use std::error::Error;
use std::time::{Duration, Instant};

use rafka::{AutoOffsetReset, Consumer, ConsumerConfig};

/// What to consume.
#[derive(Debug, Clone)]
pub struct Options {
    /// `bootstrap.servers`.
    pub brokers: String,
    /// The topic; every partition is assigned.
    pub topic: String,
    /// `group.id` the offsets are committed under.
    pub group_id: String,
    /// `auto.commit.interval.ms`.
    pub auto_commit_interval: Duration,
    /// Stop once nothing arrived for this long.
    pub idle: Duration,
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Summary {
    /// Processed records: (partition, offset, value).
    pub processed: Vec<(i32, i64, String)>,
    /// Committed positions read back after close: partition → next offset.
    pub committed: BTreeMap<i32, i64>,
}

/// Consumes until idle, marking each processed record, then closes (final commit).
pub async fn run(options: &Options) -> Result<Summary, Box<dyn Error + Send + Sync>> {
    let config = ConsumerConfig::builder(&options.brokers)
        .group_id(options.group_id.clone())
        .enable_auto_commit(true)
        .auto_commit_interval(options.auto_commit_interval)
        // Only what the application marks gets committed (librdkafka's offsets_store).
        .enable_auto_offset_store(false)
        .auto_offset_reset(AutoOffsetReset::Earliest)
        .build()?;
    let mut consumer = Consumer::new(config)?;
    let partitions = consumer.partitions_for(&options.topic).await?;
    consumer.assign(&partitions)?;

    let mut summary = Summary::default();
    let mut last_record = Instant::now();
    while last_record.elapsed() < options.idle {
        let records = consumer.poll(Duration::from_millis(200)).await?;
        for record in &records {
            let value = String::from_utf8_lossy(record.value.as_deref().unwrap_or_default());
            println!(
                "partition {} offset {} value {value}",
                record.partition, record.offset
            );
            summary
                .processed
                .push((record.partition, record.offset, value.into_owned()));
            // Processed: the next offset to consume is offset + 1.
            consumer.mark_record(record)?;
            last_record = Instant::now();
        }
    }
    consumer.close().await?;

    // Read the committed positions back with a fresh consumer of the same group.
    let mut reader = Consumer::new(
        ConsumerConfig::builder(&options.brokers)
            .group_id(options.group_id.clone())
            .enable_auto_commit(false)
            .build()?,
    )?;
    for (tp, offset) in reader.committed(&partitions).await? {
        summary.committed.insert(tp.partition, offset);
    }
    reader.close().await?;
    Ok(summary)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error + Send + Sync>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: standalone_offset_manager BROKERS TOPIC [GROUP]";
    let options = Options {
        brokers: args.next().ok_or(usage)?,
        topic: args.next().ok_or(usage)?,
        group_id: args
            .next()
            .unwrap_or_else(|| "standalone-offset-manager".into()),
        auto_commit_interval: Duration::from_secs(1),
        idle: Duration::from_secs(5),
    };
    let summary = run(&options).await?;
    println!(
        "processed {} records; committed {:?}",
        summary.processed.len(),
        summary.committed
    );
    Ok(())
}
