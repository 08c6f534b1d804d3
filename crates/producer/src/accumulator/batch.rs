//! One open or in-flight batch of one partition.

use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use rafka_wire::records::{encode_batch, BatchMeta, RecordHeaderRef, RecordRef};
use rafka_wire::WireError;

use crate::delivery::BatchCompletion;

/// Bytes of the RecordBatch v2 header before the first record (Kafka protocol doc,
/// "Record Batch").
pub const BATCH_HEADER_SIZE: usize = 61;

/// A record waiting in a batch. Holds the caller's `Bytes` (no copy): encoding happens once,
/// when the batch is drained, on the sender task and outside the accumulator's lock.
#[derive(Debug, Clone)]
pub(crate) struct PendingRecord {
    pub timestamp: i64,
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
    pub headers: Vec<(String, Option<Bytes>)>,
}

/// Bytes of a zig-zag varint.
pub(crate) fn varint_size(v: i64) -> usize {
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    let mut n = 1;
    while z >= 0x80 {
        z >>= 7;
        n += 1;
    }
    n
}

fn bytes_field_size(b: Option<&[u8]>) -> usize {
    match b {
        None => varint_size(-1),
        Some(b) => varint_size(b.len() as i64) + b.len(),
    }
}

/// Exact size of one record in a v2 batch (length prefix included), given its deltas.
pub(crate) fn record_size(
    offset_delta: i32,
    timestamp_delta: i64,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: &[(String, Option<Bytes>)],
) -> usize {
    let mut body = 1 // attributes
        + varint_size(timestamp_delta)
        + varint_size(offset_delta as i64)
        + bytes_field_size(key)
        + bytes_field_size(value)
        + varint_size(headers.len() as i64);
    for (k, v) in headers {
        body += bytes_field_size(Some(k.as_bytes())) + bytes_field_size(v.as_deref());
    }
    varint_size(body as i64) + body
}

/// An upper bound of a record's size alone in a batch, header included (Java's
/// `estimateSizeInBytesUpperBound`): used to refuse oversized records before appending.
pub fn record_upper_bound(
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: &[(String, Option<Bytes>)],
) -> usize {
    // Worst-case deltas: 5-byte offset delta, 10-byte timestamp delta.
    BATCH_HEADER_SIZE + record_size(i32::MAX, i64::MIN, key, value, headers)
}

/// Producer id, epoch and base sequence stamped on a batch (KIP-98).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchIdentity {
    /// Producer id from InitProducerId.
    pub producer_id: i64,
    /// Producer epoch.
    pub producer_epoch: i16,
    /// Sequence of the batch's first record.
    pub base_sequence: i32,
}

/// A batch of records for one partition.
pub(crate) struct ProducerBatch {
    /// Creation order, for `flush`.
    pub id: u64,
    pub topic: Arc<str>,
    pub partition: i32,
    pub records: Vec<PendingRecord>,
    pub base_timestamp: i64,
    /// Encoded size estimate (uncompressed, header included), bytes.
    pub size: usize,
    /// Bytes of `buffer.memory` held until the batch completes.
    pub reserved: usize,
    pub completion: Arc<BatchCompletion>,
    pub created: Instant,
    /// Sends so far (0 = never sent).
    pub attempts: u32,
    /// When a retried batch may be sent again.
    pub retry_at: Option<Instant>,
    /// The newest leader epoch a broker's error response named for this batch's partition
    /// (KIP-951); a retry towards a newer one skips the backoff, once per epoch.
    pub hinted_leader_epoch: Option<i32>,
    /// Set at first drain when idempotent; kept across retries unless the epoch is bumped.
    pub identity: Option<BatchIdentity>,
    /// The encoded batch and the identity it was encoded with.
    pub encoded: Option<(Option<BatchIdentity>, Bytes)>,
}

impl ProducerBatch {
    pub fn new(topic: Arc<str>, partition: i32, base_timestamp: i64, now: Instant) -> Self {
        ProducerBatch {
            id: 0,
            completion: BatchCompletion::new(topic.clone(), partition),
            topic,
            partition,
            records: Vec::new(),
            base_timestamp,
            size: BATCH_HEADER_SIZE,
            reserved: 0,
            created: now,
            attempts: 0,
            retry_at: None,
            hinted_leader_epoch: None,
            identity: None,
            encoded: None,
        }
    }

    /// Size the record would add to this batch.
    pub fn size_of(&self, r: &PendingRecord) -> usize {
        record_size(
            self.records.len() as i32,
            r.timestamp.wrapping_sub(self.base_timestamp),
            r.key.as_deref(),
            r.value.as_deref(),
            &r.headers,
        )
    }

    /// Appends; returns the record's index in the batch.
    pub fn push(&mut self, r: PendingRecord, size: usize, reserved: usize) -> u32 {
        self.size += size;
        self.reserved += reserved;
        self.records.push(r);
        (self.records.len() - 1) as u32
    }

    pub fn record_count(&self) -> i32 {
        self.records.len() as i32
    }

    pub fn is_full(&self, batch_size: usize) -> bool {
        self.size >= batch_size
    }
}

impl ProducerBatch {
    /// Encodes the batch (compressing per `meta`) and keeps the bytes, so a retry with the
    /// same identity is not re-encoded. Runs on the sender task, outside the accumulator lock.
    pub fn encode(&mut self, meta: &BatchMeta) -> Result<Bytes, WireError> {
        if let Some((id, bytes)) = &self.encoded {
            if *id == self.identity {
                return Ok(bytes.clone());
            }
        }
        let n_headers: usize = self.records.iter().map(|r| r.headers.len()).sum();
        let mut headers: Vec<RecordHeaderRef<'_>> = Vec::with_capacity(n_headers);
        for r in &self.records {
            headers.extend(r.headers.iter().map(|(k, v)| RecordHeaderRef {
                key: k.as_str(),
                value: v.as_deref(),
            }));
        }
        let mut refs: Vec<RecordRef<'_>> = Vec::with_capacity(self.records.len());
        let mut at = 0;
        for r in &self.records {
            let h = &headers[at..at + r.headers.len()];
            at += r.headers.len();
            refs.push(RecordRef {
                timestamp: r.timestamp,
                key: r.key.as_deref(),
                value: r.value.as_deref(),
                headers: h,
            });
        }
        let mut out = BytesMut::with_capacity(self.size);
        encode_batch(meta, &refs, &mut out)?;
        let bytes = out.freeze();
        self.encoded = Some((self.identity, bytes.clone()));
        Ok(bytes)
    }
}
