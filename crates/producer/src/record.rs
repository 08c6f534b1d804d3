//! What the application hands to the producer and what it gets back.

use std::sync::Arc;

use bytes::Bytes;

/// A record to produce. Build with [`ProducerRecord::new`] and the chained setters.
///
/// `partition: None` lets the partitioner choose; `key: None` is a null key (spread by the
/// sticky partitioner, KIP-794); `value: None` is a tombstone for compacted topics;
/// `timestamp: None` takes the create time at `send`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProducerRecord {
    /// Topic name.
    pub topic: String,
    /// Explicit partition, or `None` for the partitioner to choose.
    pub partition: Option<i32>,
    /// Record key; `None` is a null key.
    pub key: Option<Bytes>,
    /// Record value; `None` is a null value (tombstone).
    pub value: Option<Bytes>,
    /// Record headers in order; a header value may be null (KIP-82).
    pub headers: Vec<(String, Option<Bytes>)>,
    /// Create time in ms since the Unix epoch; `None` = now.
    pub timestamp: Option<i64>,
}

impl ProducerRecord {
    /// A record for `topic` with null key and value and no headers.
    pub fn new(topic: impl Into<String>) -> Self {
        ProducerRecord {
            topic: topic.into(),
            ..Default::default()
        }
    }
    /// Sets the key.
    pub fn key(mut self, key: impl Into<Bytes>) -> Self {
        self.key = Some(key.into());
        self
    }
    /// Sets the value.
    pub fn value(mut self, value: impl Into<Bytes>) -> Self {
        self.value = Some(value.into());
        self
    }
    /// Sends the record to this partition, bypassing the partitioner.
    pub fn partition(mut self, partition: i32) -> Self {
        self.partition = Some(partition);
        self
    }
    /// Appends a header with a value.
    pub fn header(mut self, key: impl Into<String>, value: impl Into<Bytes>) -> Self {
        self.headers.push((key.into(), Some(value.into())));
        self
    }
    /// Appends a header with a null value.
    pub fn null_header(mut self, key: impl Into<String>) -> Self {
        self.headers.push((key.into(), None));
        self
    }
    /// Sets the create time (ms since the Unix epoch).
    pub fn timestamp(mut self, ms: i64) -> Self {
        self.timestamp = Some(ms);
        self
    }
}

/// Where an acknowledged record was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordMetadata {
    /// Topic name.
    pub topic: Arc<str>,
    /// Partition index.
    pub partition: i32,
    /// Offset of the record, or -1 when `acks=0` (the broker does not answer).
    pub offset: i64,
    /// The record's create time, or the broker's log-append time when the topic uses
    /// `LogAppendTime` (ms since the Unix epoch).
    pub timestamp: i64,
}

/// Milliseconds since the Unix epoch, as Kafka timestamps count.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_sets_every_field() {
        let r = ProducerRecord::new("t")
            .key("k")
            .value(Bytes::from_static(b"v"))
            .partition(3)
            .header("h", "x")
            .null_header("n")
            .timestamp(42);
        assert_eq!(r.topic, "t");
        assert_eq!(r.key.as_deref(), Some(&b"k"[..]));
        assert_eq!(r.value.as_deref(), Some(&b"v"[..]));
        assert_eq!(r.partition, Some(3));
        assert_eq!(
            r.headers,
            vec![("h".into(), Some(Bytes::from("x"))), ("n".into(), None)]
        );
        assert_eq!(r.timestamp, Some(42));
    }
}
