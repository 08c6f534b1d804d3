//! A decoded batch ([`RecordBatch`]): its header fields and its records section.

use std::sync::Arc;

use bytes::Bytes;

use super::compression::{decompress, DEFAULT_MAX_DECOMPRESSED_SIZE};
use super::iter::{RecordIter, RecordSection};
use super::varint::Reader;
use super::{
    Compression, Record, TimestampType, ATTR_COMPRESSION_MASK, ATTR_CONTROL, ATTR_DELETE_HORIZON,
    ATTR_LOG_APPEND_TIME, ATTR_TRANSACTIONAL, BATCH_HEADER_LEN,
};
use crate::WireError;

/// One decoded batch. The header fields are parsed and the CRC checked; records are parsed
/// only when [`RecordBatch::records`] is iterated.
///
/// Legacy v0/v1 messages (see [`super::legacy`]) are handed out as batches too, with `magic`
/// 0 or 1, producer fields at their "none" values and the records already parsed.
#[derive(Debug, Clone)]
pub struct RecordBatch {
    /// Offset of the first record.
    pub base_offset: i64,
    /// Leader epoch the broker stamped on the batch (-1 for legacy messages).
    pub partition_leader_epoch: i32,
    /// Format version: 2, or 0/1 for legacy message sets.
    pub magic: i8,
    /// Stored CRC (CRC-32C for v2, CRC-32 of the wrapper message for v0/v1); already verified.
    pub crc: u32,
    /// Raw attributes field.
    pub attributes: i16,
    /// `lastOffset - baseOffset`.
    pub last_offset_delta: i32,
    /// Timestamp of the first record in ms (the delete horizon if `has_delete_horizon`).
    pub base_timestamp: i64,
    /// Largest timestamp in the batch in ms (the append time for LogAppendTime batches).
    pub max_timestamp: i64,
    /// Producer id, or -1.
    pub producer_id: i64,
    /// Producer epoch, or -1.
    pub producer_epoch: i16,
    /// Sequence of the first record, or -1.
    pub base_sequence: i32,
    /// Codec of the records section.
    pub compression: Compression,
    /// Meaning of the timestamps.
    pub timestamp_type: TimestampType,
    /// Part of a transaction (attribute bit 4).
    pub is_transactional: bool,
    /// Holds control records (attribute bit 5).
    pub is_control: bool,
    /// `base_timestamp` is a delete horizon set by compaction (attribute bit 6, KIP-534).
    pub has_delete_horizon: bool,
    /// Number of records the header announces.
    pub record_count: i32,
    raw: Bytes,
    body: Body,
}

#[derive(Debug, Clone)]
enum Body {
    /// The records section as stored (compressed or not).
    V2(Bytes),
    /// Legacy messages, parsed when the wrapper was read.
    Legacy(Arc<[Record]>),
}

impl RecordBatch {
    /// Parses a whole v2 batch (`raw` holds exactly `12 + batchLength` bytes) and checks its CRC.
    pub(crate) fn parse_v2(raw: Bytes) -> Result<RecordBatch, WireError> {
        let mut r = Reader::new(&raw);
        if raw.len() < BATCH_HEADER_LEN {
            return Err(WireError::Truncated {
                what: "record batch header",
                needed: BATCH_HEADER_LEN,
                remaining: raw.len(),
            });
        }
        let base_offset = r.i64("baseOffset")?;
        let _batch_length = r.i32("batchLength")?;
        let partition_leader_epoch = r.i32("partitionLeaderEpoch")?;
        let magic = r.i8("magic")?;
        let crc = r.u32("crc")?;
        let actual = crc32c::crc32c(&raw[21..]);
        if actual != crc {
            return Err(WireError::CrcMismatch {
                expected: crc,
                actual,
            });
        }
        let attributes = r.i16("attributes")?;
        let last_offset_delta = r.i32("lastOffsetDelta")?;
        let base_timestamp = r.i64("baseTimestamp")?;
        let max_timestamp = r.i64("maxTimestamp")?;
        let producer_id = r.i64("producerId")?;
        let producer_epoch = r.i16("producerEpoch")?;
        let base_sequence = r.i32("baseSequence")?;
        let record_count = r.i32("recordCount")?;
        if record_count < 0 {
            return Err(WireError::NegativeLength {
                what: "record count",
                len: record_count.into(),
            });
        }
        let compression = Compression::from_id((attributes & ATTR_COMPRESSION_MASK) as u8)?;
        let records = raw.slice(BATCH_HEADER_LEN..);
        Ok(RecordBatch {
            base_offset,
            partition_leader_epoch,
            magic,
            crc,
            attributes,
            last_offset_delta,
            base_timestamp,
            max_timestamp,
            producer_id,
            producer_epoch,
            base_sequence,
            compression,
            timestamp_type: if attributes & ATTR_LOG_APPEND_TIME != 0 {
                TimestampType::LogAppendTime
            } else {
                TimestampType::CreateTime
            },
            is_transactional: attributes & ATTR_TRANSACTIONAL != 0,
            is_control: attributes & ATTR_CONTROL != 0,
            has_delete_horizon: attributes & ATTR_DELETE_HORIZON != 0,
            record_count,
            raw,
            body: Body::V2(records),
        })
    }

    /// Wraps already-parsed legacy records; `raw` is the top-level message they came from.
    pub(crate) fn from_legacy(
        raw: Bytes,
        magic: i8,
        crc: u32,
        attributes: i8,
        compression: Compression,
        timestamp_type: TimestampType,
        records: Vec<Record>,
    ) -> RecordBatch {
        let first = records.first();
        let base_offset = first.map_or(0, |r| r.offset);
        let base_timestamp = first.map_or(-1, |r| r.timestamp);
        let last_offset = records.last().map_or(base_offset, |r| r.offset);
        RecordBatch {
            base_offset,
            partition_leader_epoch: super::NO_PARTITION_LEADER_EPOCH,
            magic,
            crc,
            attributes: attributes.into(),
            last_offset_delta: last_offset.wrapping_sub(base_offset) as i32,
            base_timestamp,
            max_timestamp: records.iter().map(|r| r.timestamp).max().unwrap_or(-1),
            producer_id: super::NO_PRODUCER_ID,
            producer_epoch: super::NO_PRODUCER_EPOCH,
            base_sequence: super::NO_SEQUENCE,
            compression,
            timestamp_type,
            is_transactional: false,
            is_control: false,
            has_delete_horizon: false,
            record_count: records.len() as i32,
            raw,
            body: Body::Legacy(records.into()),
        }
    }

    /// Offset of the last record (`base_offset + last_offset_delta`).
    pub fn last_offset(&self) -> i64 {
        self.base_offset.wrapping_add(self.last_offset_delta.into())
    }

    /// The offset after this batch: where the next fetch starts.
    pub fn next_offset(&self) -> i64 {
        self.last_offset().wrapping_add(1)
    }

    /// Whether this came from a legacy v0/v1 message set.
    pub fn is_legacy(&self) -> bool {
        matches!(self.body, Body::Legacy(_))
    }

    /// The batch exactly as it was on the wire (for a legacy message, the top-level message).
    pub fn as_bytes(&self) -> &Bytes {
        &self.raw
    }

    /// Size of the batch on the wire in bytes.
    pub fn size_in_bytes(&self) -> usize {
        self.raw.len()
    }

    /// Iterates the records as owned [`Record`]s, decompressing first if needed (at most
    /// [`DEFAULT_MAX_DECOMPRESSED_SIZE`] bytes).
    ///
    /// # Errors
    /// [`WireError::Compression`] or [`WireError::Invalid`] when decompression fails or exceeds
    /// the limit. Bad records surface as `Err` items of the iterator.
    pub fn records(&self) -> Result<RecordIter, WireError> {
        self.records_with_limit(DEFAULT_MAX_DECOMPRESSED_SIZE)
    }

    /// Like [`RecordBatch::records`] with a decompressed-size limit of `max_decompressed`
    /// bytes.
    ///
    /// # Errors
    /// As [`RecordBatch::records`].
    pub fn records_with_limit(&self, max_decompressed: usize) -> Result<RecordIter, WireError> {
        Ok(RecordIter::new(self.section_with_limit(max_decompressed)?))
    }

    /// The uncompressed records section, for borrowed iteration with
    /// [`RecordSection::views`] (no reference counting per record: the fastest way to read a
    /// batch). Decompresses at most [`DEFAULT_MAX_DECOMPRESSED_SIZE`] bytes.
    ///
    /// # Errors
    /// As [`RecordBatch::records`].
    pub fn section(&self) -> Result<RecordSection, WireError> {
        self.section_with_limit(DEFAULT_MAX_DECOMPRESSED_SIZE)
    }

    /// Like [`RecordBatch::section`] with a decompressed-size limit of `max_decompressed`
    /// bytes.
    ///
    /// # Errors
    /// As [`RecordBatch::records`].
    pub fn section_with_limit(&self, max_decompressed: usize) -> Result<RecordSection, WireError> {
        let data = match &self.body {
            Body::Legacy(records) => return Ok(RecordSection::legacy(records.clone())),
            Body::V2(section) if self.compression == Compression::None => section.clone(),
            Body::V2(section) => {
                Bytes::from(decompress(self.compression, section, max_decompressed)?)
            }
        };
        Ok(RecordSection::v2(
            data,
            self.record_count,
            self.base_offset,
            self.base_timestamp,
            (self.timestamp_type == TimestampType::LogAppendTime).then_some(self.max_timestamp),
        ))
    }

    /// Decodes every record into a `Vec`.
    ///
    /// # Errors
    /// The first error [`RecordBatch::records`] or the iterator reports.
    pub fn to_records(&self) -> Result<Vec<Record>, WireError> {
        self.records()?.collect()
    }
}
