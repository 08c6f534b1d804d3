//! A rebalance listener that keeps positions in Redis: it saves every owned partition's
//! position when partitions are revoked (before a rebalance, and on close) and seeks to the
//! saved positions when partitions are assigned. The consumer commits nothing to Kafka.
//!
//! Positions are the consumer's own (`position()`: one past the last record `poll` returned),
//! so every record a `poll` returned must be processed before the next `poll` or `close`.
//! Saving only on revoke means a crash loses the positions since the last rebalance (those
//! records are delivered again): at-least-once. Partitions with no saved position start from
//! the beginning.
//!
//! ```text
//! cargo run -p rafka --features redis --example redis_rebalance_listener -- BROKERS TOPIC [REDIS_URL] [GROUP]
//! ```

use std::error::Error;
use std::time::{Duration, Instant};

use rafka::consumer::store::redis::RedisOffsetStore;
use rafka::TopicPartition;
use rafka::{
    AutoOffsetReset, Consumer, ConsumerConfig, ConsumerContext, ConsumerRebalanceListener,
    ConsumerRecord, ListenerError, OffsetStore,
};

/// What to consume and where Redis is.
#[derive(Debug, Clone)]
pub struct Options {
    /// `bootstrap.servers`.
    pub brokers: String,
    /// The topic to consume.
    pub topic: String,
    /// `group.id`, also part of the Redis keys.
    pub group_id: String,
    /// `redis://host:port/db`.
    pub redis_url: String,
    /// Key prefix (default `rafka:offsets`).
    pub key_prefix: String,
    /// Stop once at least this many records were processed (whole batches are processed).
    pub min_records: usize,
    /// Stop once assigned and nothing arrived for this long.
    pub idle: Duration,
    /// `session.timeout.ms` (Tansu holds a JoinGroup for about half of it).
    pub session_timeout: Duration,
    /// `max.poll.records`.
    pub max_poll_records: usize,
}

/// Saves positions to Redis on revoke, seeks to them on assign.
pub struct RedisPositions {
    store: RedisOffsetStore,
    group_id: String,
}

impl RedisPositions {
    /// A listener keeping `group_id`'s positions in `store`.
    pub fn new(store: RedisOffsetStore, group_id: impl Into<String>) -> Self {
        RedisPositions {
            store,
            group_id: group_id.into(),
        }
    }
}

impl ConsumerRebalanceListener for RedisPositions {
    async fn on_partitions_revoked(
        &mut self,
        consumer: &mut ConsumerContext<'_>,
        partitions: &[TopicPartition],
    ) -> Result<(), ListenerError> {
        let mut positions = Vec::with_capacity(partitions.len());
        for tp in partitions {
            positions.push((tp.clone(), consumer.position(tp).await?));
        }
        // One MULTI/EXEC: the group's positions change together.
        self.store.save(&self.group_id, &positions).await?;
        Ok(())
    }

    async fn on_partitions_assigned(
        &mut self,
        consumer: &mut ConsumerContext<'_>,
        partitions: &[TopicPartition],
    ) -> Result<(), ListenerError> {
        let saved = self.store.load(&self.group_id, partitions).await?;
        let mut unsaved = Vec::new();
        for tp in partitions {
            match saved.get(tp) {
                Some(&offset) => consumer.seek(tp, offset)?,
                None => unsaved.push(tp.clone()),
            }
        }
        if !unsaved.is_empty() {
            consumer.seek_to_beginning(&unsaved)?;
        }
        Ok(())
    }
}

/// Consumes `opts.topic` with the [`RedisPositions`] listener until at least `min_records`
/// were processed or the topic stays idle, then closes (which runs the revoke hook, saving the
/// positions). Returns the processed records.
///
/// # Errors
/// Consumer and Redis errors, or no assignment within 60 s.
pub async fn run(opts: &Options) -> Result<Vec<ConsumerRecord>, Box<dyn Error + Send + Sync>> {
    let store = RedisOffsetStore::connect(&opts.redis_url)
        .await?
        .with_prefix(&opts.key_prefix);
    let config = ConsumerConfig::builder(&opts.brokers)
        .group_id(&opts.group_id)
        .enable_auto_commit(false)
        .auto_offset_reset(AutoOffsetReset::Earliest)
        .session_timeout(opts.session_timeout)
        .max_poll_records(opts.max_poll_records)
        .build()?;
    let mut consumer = Consumer::new(config)?;
    consumer.subscribe_with_listener(
        opts.topic.as_str(),
        RedisPositions::new(store, &opts.group_id),
    )?;

    let mut processed = Vec::new();
    let started = Instant::now();
    let mut last_record = Instant::now();
    while processed.len() < opts.min_records {
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
        // "Processing": every record poll returned, since the revoke hook saves position().
        processed.extend(batch);
    }
    consumer.close().await?;
    Ok(processed)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error + Send + Sync>> {
    let mut args = std::env::args().skip(1);
    let (Some(brokers), Some(topic)) = (args.next(), args.next()) else {
        return Err("usage: redis_rebalance_listener BROKERS TOPIC [REDIS_URL] [GROUP]".into());
    };
    let opts = Options {
        brokers,
        topic,
        redis_url: args
            .next()
            .unwrap_or_else(|| "redis://127.0.0.1:6379/".into()),
        group_id: args.next().unwrap_or_else(|| "redis-positions".into()),
        key_prefix: rafka::consumer::store::redis::DEFAULT_PREFIX.into(),
        min_records: usize::MAX,
        idle: Duration::from_secs(5),
        session_timeout: Duration::from_secs(45),
        max_poll_records: 500,
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
