//! Turning one partition of a Fetch response into [`ConsumerRecord`]s. Sans-IO.
//!
//! Follows the Java consumer's `CompletedFetch`:
//! - records before the fetch offset are skipped (a compressed batch is returned whole even
//!   when the fetch offset points into its middle);
//! - control batches (transaction markers, KIP-98) are never returned;
//! - under `read_committed`, batches of transactions listed in the response's
//!   `aborted_transactions` are dropped: an aborted producer id becomes "active" once the batch
//!   offsets reach the transaction's first offset, and stops being so at its ABORT marker;
//! - the next fetch offset is the end of the last complete batch, even when every record of
//!   the response was filtered out, so the consumer always makes progress.

use std::collections::{BTreeSet, HashSet, VecDeque};
use std::sync::Arc;

use bytes::Bytes;
use rafka_wire::records::{decode_batches, ControlRecord, RecordBatch, TimestampType};
use rafka_wire::WireError;

use crate::config::IsolationLevel;
use crate::record::ConsumerRecord;

/// One aborted transaction from a Fetch response: `producer_id` aborted a transaction whose
/// first record is at `first_offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct AbortedTxn {
    /// First offset of the aborted transaction in this partition.
    pub first_offset: i64,
    /// Producer id of the transaction.
    pub producer_id: i64,
}

/// The records of one partition of one Fetch response.
#[derive(Debug)]
pub struct DecodedPartition {
    /// Records to hand to the application, in offset order.
    pub records: VecDeque<ConsumerRecord>,
    /// Where the next fetch of this partition starts: the end of the last complete batch, or
    /// the fetch offset when no complete batch came.
    pub next_fetch_offset: i64,
    /// A decoding error met after the returned records, if any. The next fetch starts at the
    /// failing batch, so the error is met again unless the application seeks past it.
    pub error: Option<WireError>,
}

/// Decodes the records blob of one partition.
///
/// `records` is the response's `records` field (zero-copy: keys and values of uncompressed
/// batches are slices of it), `fetch_offset` the offset the request asked for.
pub fn decode_partition(
    topic: &Arc<str>,
    partition: i32,
    records: Bytes,
    fetch_offset: i64,
    isolation: IsolationLevel,
    aborted: &[AbortedTxn],
) -> DecodedPartition {
    let mut out = DecodedPartition {
        records: VecDeque::new(),
        next_fetch_offset: fetch_offset,
        error: None,
    };
    let mut pending_aborts: BTreeSet<AbortedTxn> = aborted.iter().copied().collect();
    let mut aborted_producers: HashSet<i64> = HashSet::new();

    for batch in decode_batches(records) {
        let batch = match batch {
            Ok(b) => b,
            Err(e) => {
                out.error = Some(e);
                break;
            }
        };
        let next = batch.next_offset();
        if next <= fetch_offset {
            // Wholly before the fetch offset: the broker returned an older batch.
            continue;
        }
        if isolation == IsolationLevel::ReadCommitted && batch.producer_id >= 0 {
            // Aborted transactions whose first offset is within reach of this batch begin
            // to apply.
            while let Some(first) = pending_aborts.first().copied() {
                if first.first_offset > batch.last_offset() {
                    break;
                }
                pending_aborts.pop_first();
                aborted_producers.insert(first.producer_id);
            }
            if batch.is_control {
                if is_abort_marker(&batch) {
                    aborted_producers.remove(&batch.producer_id);
                }
            } else if batch.is_transactional && aborted_producers.contains(&batch.producer_id) {
                out.next_fetch_offset = next;
                continue;
            }
        }
        if batch.is_control {
            out.next_fetch_offset = next;
            continue;
        }
        if let Err(e) = push_records(topic, partition, &batch, fetch_offset, &mut out.records) {
            out.error = Some(e);
            break;
        }
        out.next_fetch_offset = next;
    }
    out
}

/// Bytes before a batch's (or legacy message's) body: offset (8) and length (4).
const LOG_OVERHEAD: usize = 12;
/// Offset of the magic byte in v2 batches and legacy messages alike.
const MAGIC_OFFSET: usize = 16;
/// Offset of a v2 batch's `lastOffsetDelta`.
const LAST_OFFSET_DELTA_OFFSET: usize = 23;

/// Where the next fetch starts after `records`, read from the batch headers alone (no CRC
/// check, no record parsing): past the last complete batch, and never before `fetch_offset`.
/// The walk stops where [`decode_partition`] would stop on malformed framing; a batch whose
/// CRC or records are bad is counted here and caught by decoding.
pub fn scan_next_offset(records: &[u8], fetch_offset: i64) -> i64 {
    let mut next = fetch_offset;
    let mut pos = 0;
    while let Some(head) = records.get(pos..pos + LOG_OVERHEAD) {
        let base = i64::from_be_bytes(head[..8].try_into().expect("8 bytes"));
        let length = i32::from_be_bytes(head[8..12].try_into().expect("4 bytes"));
        let Ok(length) = usize::try_from(length) else {
            break;
        };
        let Some(batch) = records.get(pos..pos + LOG_OVERHEAD + length) else {
            break; // the partial batch a broker cuts at max bytes
        };
        let last = match batch.get(MAGIC_OFFSET) {
            Some(2) => match batch.get(LAST_OFFSET_DELTA_OFFSET..LAST_OFFSET_DELTA_OFFSET + 4) {
                Some(d) => base.wrapping_add(i32::from_be_bytes(d.try_into().expect("4")).into()),
                None => break,
            },
            // A legacy message's offset is its last one (a compressed wrapper carries the
            // offset of its last inner message).
            Some(0 | 1) => base,
            _ => break,
        };
        next = next.max(last.wrapping_add(1));
        pos += LOG_OVERHEAD + length;
    }
    next
}

/// Most record slots reserved ahead for one batch.
const MAX_RESERVE_PER_BATCH: usize = 4096;

fn push_records(
    topic: &Arc<str>,
    partition: i32,
    batch: &RecordBatch,
    fetch_offset: i64,
    out: &mut VecDeque<ConsumerRecord>,
) -> Result<(), WireError> {
    let leader_epoch = (batch.partition_leader_epoch >= 0).then_some(batch.partition_leader_epoch);
    let start = out.len();
    // One reservation per batch instead of doubling as records arrive. The count comes from
    // the wire, so it is capped: a lying header costs at most that many empty slots.
    out.reserve((batch.record_count.max(0) as usize).min(MAX_RESERVE_PER_BATCH));
    for record in batch.records()? {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                // All or nothing per batch: the next fetch starts again at this batch.
                out.truncate(start);
                return Err(e);
            }
        };
        if record.offset < fetch_offset {
            continue;
        }
        let timestamp = match batch.timestamp_type {
            // The broker stamps the batch, not each record (KIP-32).
            TimestampType::LogAppendTime => batch.max_timestamp,
            TimestampType::CreateTime => record.timestamp,
        };
        out.push_back(ConsumerRecord {
            topic: topic.clone(),
            partition,
            offset: record.offset,
            timestamp,
            timestamp_type: batch.timestamp_type,
            key: record.key,
            value: record.value,
            headers: record.headers,
            leader_epoch,
        });
    }
    Ok(())
}

/// True when a control batch holds an ABORT marker (Kafka `ControlRecordType.ABORT`).
fn is_abort_marker(batch: &RecordBatch) -> bool {
    let Ok(mut records) = batch.records() else {
        return false;
    };
    matches!(
        records.next().map(|r| r.and_then(|r| r.control())),
        Some(Ok(ControlRecord::Abort { .. }))
    )
}
