//! One task per partition, in the shape of sarama's `ConsumePartition` with an
//! `OffsetManager`: every partition of the topic gets its own consumer, assigned that one
//! partition, on its own task; positions are kept in Kafka under a group, without group
//! membership. sarama's calls map to:
//! - `Partitions(topic)` → `Consumer::partitions_for`;
//! - `ManagePartition` + `NextOffset` + `ConsumePartition` → `assign([&tp])` (the consumer
//!   starts at the committed offset, or per `auto.offset.reset` — sarama's `OffsetOldest`);
//! - `MarkOffset(offset + 1)` → `mark_record`; committed every `auto.commit.interval.ms`;
//! - the final `Commit()` → `close`.
//!
//! The consumers share one `Client` (connections and metadata), as sarama's
//! `NewConsumerFromClient` does.
//!
//! ```text
//! cargo run -p rafka --example partition_consumers -- BROKERS TOPIC [GROUP]
//! ```

use std::error::Error;
use std::time::{Duration, Instant};

use rafka::{AutoOffsetReset, Client, Consumer, ConsumerConfig, ConsumerRecord, TopicPartition};

type BoxError = Box<dyn Error + Send + Sync>;

/// Consumes every partition of `topic` on its own task until each was idle for `idle`;
/// returns what each partition's task processed.
pub async fn run(
    brokers: &str,
    topic: &str,
    group: &str,
    idle: Duration,
) -> Result<Vec<Vec<ConsumerRecord>>, BoxError> {
    let config = ConsumerConfig::builder(brokers)
        .group_id(group)
        .enable_auto_commit(true)
        .auto_commit_interval(Duration::from_secs(1))
        .enable_auto_offset_store(false) // commit only what was marked
        .auto_offset_reset(AutoOffsetReset::Earliest)
        .build()?;
    let client = Client::new(config.client.clone())?;
    let partitions = Consumer::with_client(config.clone(), client.clone())
        .partitions_for(topic)
        .await?;
    let mut tasks = Vec::new();
    for tp in partitions {
        let consumer = Consumer::with_client(config.clone(), client.clone());
        tasks.push(tokio::spawn(consume_partition(consumer, tp, idle)));
    }
    let mut processed = Vec::new();
    for task in tasks {
        processed.push(task.await??);
    }
    Ok(processed)
}

async fn consume_partition(
    mut consumer: Consumer,
    tp: TopicPartition,
    idle: Duration,
) -> Result<Vec<ConsumerRecord>, BoxError> {
    consumer.assign([&tp])?;
    let mut processed = Vec::new();
    let mut last = Instant::now();
    while last.elapsed() < idle {
        for record in consumer.poll(Duration::from_millis(200)).await? {
            println!("{}-{}@{}", record.topic, record.partition, record.offset);
            consumer.mark_record(&record)?; // sarama's MarkOffset(offset + 1)
            processed.push(record);
            last = Instant::now();
        }
    }
    consumer.close().await?; // commits what was marked since the last auto-commit
    Ok(processed)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [brokers, topic, rest @ ..] = args.as_slice() else {
        return Err("usage: partition_consumers BROKERS TOPIC [GROUP]".into());
    };
    let group = rest.first().map_or("partition-consumers", String::as_str);
    let processed = run(brokers, topic, group, Duration::from_secs(5)).await?;
    let counts: Vec<usize> = processed.iter().map(Vec::len).collect();
    println!("records per partition: {counts:?}");
    Ok(())
}
