//! The demo's topic and records: recreate the topic, produce N keyed records with rafka's
//! producer and collect every acknowledged `(partition, offset)`.

use std::time::Duration;

use anyhow::bail;

/// What producing left behind.
#[derive(Debug, Default)]
pub struct Produced {
    /// `(partition, offset)` of every acknowledged record.
    pub acks: Vec<(i32, i64)>,
    /// Records that failed.
    pub failed: u64,
    /// Key + value bytes of the acknowledged records.
    pub bytes: u64,
    /// From the first send to the last acknowledgement.
    pub elapsed: Duration,
}

/// The key of record `i`: 10,000 distinct keys, so every partition gets many keys and each key
/// many records (ordering per key is what Kafka promises).
pub fn key(i: u64) -> String {
    format!("key-{:05}", i % 10_000)
}

/// The value of record `i`: about 100 bytes, like the benchmarks in BROKER.md.
pub fn value(i: u64) -> String {
    format!("{{\"id\":{i:09},\"payload\":\"{}\"}}", "x".repeat(71))
}

/// Deletes `topic` if it exists and creates it with `partitions` partitions.
///
/// # Errors
/// Admin failures.
pub async fn recreate_topic(bootstrap: &str, topic: &str, partitions: i32) -> anyhow::Result<()> {
    let _ = (bootstrap, topic, partitions);
    bail!("the demo needs rafka-client's Admin, which is not wired in yet")
}

/// Produces `count` records to `topic`.
///
/// # Errors
/// Producer setup failures.
pub async fn produce(bootstrap: &str, topic: &str, count: u64) -> anyhow::Result<Produced> {
    let _ = (bootstrap, topic, count);
    bail!("the demo needs rafka-producer, which is not wired in yet")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_about_100_bytes_and_keys_repeat() {
        assert_eq!(value(7).len(), 100);
        assert_eq!(key(3), key(10_003));
        assert_ne!(key(3), key(4));
    }
}
