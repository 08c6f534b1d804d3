//! A rebalance listener that keeps positions outside Kafka, as the Java consumer's docs
//! describe (a hand-written `ConsumerRebalanceListener`): on revoke it saves the position of every partition it
//! gives up; on assign it seeks every new partition to its saved position. Positions live in
//! a small text file (`topic partition offset` per line) so that they survive restarts; the
//! consumer commits nothing to Kafka (`enable.auto.commit=false`).
//!
//! Every record `poll` returns is processed before the next `poll`, so a partition's
//! position (one past the last record returned) is exactly "next record to process".
//! Partitions with no saved position start from the beginning.
//!
//! ```text
//! cargo run -p rafka --example rebalance_listener -- BROKERS TOPIC POSITIONS_FILE [GROUP]
//! ```

use std::collections::BTreeMap;
use std::error::Error;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rafka::TopicPartition;
use rafka::{
    AutoOffsetReset, Consumer, ConsumerConfig, ConsumerContext, ConsumerRebalanceListener,
    ListenerError,
};

/// Positions kept in a text file: `topic partition offset` per line.
#[derive(Debug, Clone)]
pub struct FilePositions {
    path: PathBuf,
}

impl FilePositions {
    /// Positions in `path` (created on the first save).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FilePositions { path: path.into() }
    }

    /// Every saved position.
    pub fn load(&self) -> Result<BTreeMap<TopicPartition, i64>, ListenerError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(e) => return Err(e.into()),
        };
        let mut map = BTreeMap::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let mut parts = line.split_whitespace();
            let (Some(topic), Some(partition), Some(offset)) =
                (parts.next(), parts.next(), parts.next())
            else {
                return Err(format!("bad positions line: {line:?}").into());
            };
            map.insert(
                TopicPartition::new(topic, partition.parse()?),
                offset.parse()?,
            );
        }
        Ok(map)
    }

    /// Merges `positions` into the file (written to a temporary file, then renamed, so a
    /// crash never leaves it half-written).
    pub fn save(&self, positions: &[(TopicPartition, i64)]) -> Result<(), ListenerError> {
        let mut map = self.load()?;
        map.extend(positions.iter().cloned());
        let text: String = map
            .iter()
            .map(|(tp, o)| format!("{} {} {}\n", tp.topic, tp.partition, o))
            .collect();
        let tmp = self.path.with_extension("tmp");
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, &self.path)?;
        Ok(())
    }
}

/// Saves positions on revoke, seeks to them on assign.
#[derive(Debug)]
pub struct SavePositionsListener {
    /// Where positions live.
    pub positions: FilePositions,
}

impl ConsumerRebalanceListener for SavePositionsListener {
    async fn on_partitions_revoked(
        &mut self,
        consumer: &mut ConsumerContext<'_>,
        partitions: &[TopicPartition],
    ) -> Result<(), ListenerError> {
        let mut positions = Vec::new();
        for tp in partitions {
            positions.push((tp.clone(), consumer.position(tp).await?));
        }
        println!("revoked {partitions:?}: saving {positions:?}");
        self.positions.save(&positions)
    }

    async fn on_partitions_assigned(
        &mut self,
        consumer: &mut ConsumerContext<'_>,
        partitions: &[TopicPartition],
    ) -> Result<(), ListenerError> {
        let saved = self.positions.load()?;
        for tp in partitions {
            if let Some(offset) = saved.get(tp) {
                println!("assigned {tp}: seeking to saved {offset}");
                consumer.seek(tp, *offset)?;
            }
        }
        Ok(())
    }
}

/// What to consume.
#[derive(Debug, Clone)]
pub struct Options {
    /// `bootstrap.servers`.
    pub brokers: String,
    /// The topic.
    pub topic: String,
    /// `group.id`.
    pub group_id: String,
    /// The positions file.
    pub positions_file: PathBuf,
    /// Stop once assigned and nothing arrived for this long.
    pub idle: Duration,
    /// `session.timeout.ms` (short in tests).
    pub session_timeout: Duration,
}

/// Consumes until idle, then closes (which runs the revoke hook: positions are saved).
/// Returns the processed records as (partition, offset, value).
pub async fn run(
    options: &Options,
) -> Result<Vec<(i32, i64, String)>, Box<dyn Error + Send + Sync>> {
    let config = ConsumerConfig::builder(&options.brokers)
        .group_id(options.group_id.clone())
        .enable_auto_commit(false)
        .auto_offset_reset(AutoOffsetReset::Earliest)
        .session_timeout(options.session_timeout)
        .heartbeat_interval(options.session_timeout / 6)
        .build()?;
    let mut consumer = Consumer::new(config)?;
    let listener = SavePositionsListener {
        positions: FilePositions::new(&options.positions_file),
    };
    consumer.subscribe_with_listener([options.topic.as_str()], listener)?;

    let mut processed = Vec::new();
    let mut last = Instant::now();
    loop {
        let records = consumer.poll(Duration::from_millis(200)).await?;
        for r in &records {
            let value = String::from_utf8_lossy(r.value.as_deref().unwrap_or_default());
            println!(
                "partition {} offset {} value {value}",
                r.partition, r.offset
            );
            processed.push((r.partition, r.offset, value.into_owned()));
        }
        if !records.is_empty() || consumer.assignment().is_empty() {
            last = Instant::now();
        }
        if last.elapsed() >= options.idle {
            break;
        }
    }
    consumer.close().await?;
    Ok(processed)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error + Send + Sync>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: rebalance_listener BROKERS TOPIC POSITIONS_FILE [GROUP]";
    let options = Options {
        brokers: args.next().ok_or(usage)?,
        topic: args.next().ok_or(usage)?,
        positions_file: args.next().ok_or(usage)?.into(),
        group_id: args.next().unwrap_or_else(|| "rebalance-listener".into()),
        idle: Duration::from_secs(5),
        session_timeout: Duration::from_secs(10),
    };
    let processed = run(&options).await?;
    println!("processed {} records", processed.len());
    Ok(())
}
