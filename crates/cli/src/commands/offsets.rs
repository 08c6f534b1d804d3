//! End offsets from a Fetch's high watermark.
//!
//! ListOffsets(latest) would be one request, but Tansu answers it with the last batch's base
//! offset + 1 rather than the high watermark (see docs/tansu.md); a fetch reports the high
//! watermark correctly on Kafka and Tansu alike.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rafka_client::{Client, TopicPartition};
use rafka_consumer::{Consumer, ConsumerConfig};

/// How long to wait for every partition's first fetch answer.
const TIMEOUT: Duration = Duration::from_secs(15);

/// The high watermark of each partition.
///
/// # Errors
/// Consumer errors, or a partition whose fetch did not answer within 15 s.
pub async fn end_offsets(
    client: &Client,
    partitions: &[TopicPartition],
) -> anyhow::Result<BTreeMap<TopicPartition, i64>> {
    let mut out = BTreeMap::new();
    if partitions.is_empty() {
        return Ok(out);
    }
    let mut config = ConsumerConfig::default();
    config.client = client.config().clone();
    // Only the watermark matters: keep what the fetches drag along small.
    config.max_poll_records = 1;
    config.fetch_max_bytes = 1024;
    config.max_partition_fetch_bytes = 1024;
    let mut consumer = Consumer::with_client(config, client.clone());
    consumer.assign(partitions)?;
    consumer.seek_to_beginning(partitions)?;
    let deadline = Instant::now() + TIMEOUT;
    loop {
        consumer.poll(Duration::from_millis(100)).await?;
        let known: Vec<(TopicPartition, i64)> = partitions
            .iter()
            .filter_map(|tp| consumer.high_watermark(tp).map(|hw| (tp.clone(), hw)))
            .collect();
        if known.len() == partitions.len() {
            out.extend(known);
            break;
        }
        if Instant::now() > deadline {
            anyhow::bail!(
                "no fetch answer for the end offsets of {} partitions",
                partitions.len() - known.len()
            );
        }
    }
    let _ = consumer.close().await;
    Ok(out)
}
