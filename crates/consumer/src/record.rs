//! [`ConsumerRecord`]: one record as `poll` returns it.

use std::sync::Arc;

use bytes::Bytes;

pub use rafka_wire::records::{RecordHeader, TimestampType};

/// One consumed record. Key, value and header bytes are slices of the fetch response buffer
/// (zero-copy for uncompressed batches; one decompression buffer per compressed batch).
#[derive(Debug, Clone, PartialEq)]
pub struct ConsumerRecord {
    /// Topic name, shared by every record of the partition.
    pub topic: Arc<str>,
    /// Partition index.
    pub partition: i32,
    /// The record's offset in its partition.
    pub offset: i64,
    /// Timestamp in ms since the Unix epoch; its meaning is given by `timestamp_type`.
    pub timestamp: i64,
    /// Whether the producer (`CreateTime`) or the broker (`LogAppendTime`) set the timestamp.
    pub timestamp_type: TimestampType,
    /// Record key, `None` for a null key.
    pub key: Option<Bytes>,
    /// Record value, `None` for a null value (a tombstone).
    pub value: Option<Bytes>,
    /// Record headers in order (KIP-82).
    pub headers: Vec<RecordHeader>,
    /// Partition leader epoch of the batch (KIP-101), `None` when the producer set -1.
    pub leader_epoch: Option<i32>,
}

impl ConsumerRecord {
    /// The record's topic-partition.
    pub fn topic_partition(&self) -> rafka_wire::TopicPartition {
        rafka_wire::TopicPartition::new(&*self.topic, self.partition)
    }

    /// The position to commit after processing this record: `offset + 1`.
    pub fn next_offset(&self) -> i64 {
        self.offset + 1
    }
}
