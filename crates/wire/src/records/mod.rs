//! rafka's own RecordBatch codec: the v2 (magic 2) batch format of KIP-98 with compression,
//! plus read-only support for the legacy v0/v1 message sets (KIP-32).
//!
//! # Layout
//! - [`varint`]: zigzag varints and the bounds-checked [`varint::Reader`].
//! - [`encode`]: [`BatchBuilder`] (the producer accumulator's incremental writer) and
//!   [`encode_batch`].
//! - [`batch`]: [`RecordBatch`], one decoded batch header with its records section.
//! - [`iter`]: reading records, borrowed ([`RecordView`]) or owned ([`RecordIter`]).
//! - [`decode`]: [`decode_batches`], walking a fetched records blob batch by batch.
//! - [`compression`]: gzip, snappy (xerial framing), lz4 frame and zstd.
//! - [`control`]: transaction markers ([`ControlRecord`]).
//! - [`legacy`]: MessageSet v0/v1 decoding into [`RecordBatch`]es.
//!
//! # Decoding is zero-copy
//! [`decode_batches`] takes the records blob of a fetch response as [`Bytes`]; every key,
//! value and header value handed out is a slice of that buffer (of the decompressed buffer for
//! compressed batches). Records are parsed lazily, one per [`RecordIter::next`] call, and a
//! record allocates only when it has headers.
//!
//! # The v2 batch (Kafka protocol guide, "Record Batch")
//! ```text
//! baseOffset i64 | batchLength i32 | partitionLeaderEpoch i32 | magic i8 (2) | crc u32 |
//! attributes i16 | lastOffsetDelta i32 | baseTimestamp i64 | maxTimestamp i64 |
//! producerId i64 | producerEpoch i16 | baseSequence i32 | recordCount i32 | records...
//! ```
//! The CRC is CRC-32C over everything from `attributes` to the end. Attributes: bits 0-2
//! compression, bit 3 timestamp type, bit 4 transactional, bit 5 control, bit 6 delete horizon
//! (KIP-534).

use std::fmt;
use std::str::FromStr;

use bytes::Bytes;

use crate::WireError;

pub mod batch;
pub mod compression;
pub mod control;
pub mod decode;
pub mod encode;
pub mod iter;
pub mod legacy;
pub mod varint;

pub use batch::RecordBatch;
pub use compression::DEFAULT_MAX_DECOMPRESSED_SIZE;
pub use control::{decode_control, ControlRecord};
pub use decode::{decode_batches, BatchIter};
pub use encode::{encode_batch, BatchBuilder};
pub use iter::{HeaderViews, RecordIter, RecordSection, RecordView, RecordViews};

/// Size of the v2 batch header in bytes, up to and including `recordCount`.
pub const BATCH_HEADER_LEN: usize = 61;
/// Bytes before `batchLength`'s count starts: `baseOffset` (8) and `batchLength` (4).
pub const LOG_OVERHEAD: usize = 12;
/// The magic byte of the v2 batch format.
pub const MAGIC_V2: i8 = 2;
/// `producerId` when the producer is neither idempotent nor transactional.
pub const NO_PRODUCER_ID: i64 = -1;
/// `producerEpoch` when there is no producer id.
pub const NO_PRODUCER_EPOCH: i16 = -1;
/// `baseSequence` when there is no producer id.
pub const NO_SEQUENCE: i32 = -1;
/// `partitionLeaderEpoch` as written by producers (the broker fills it in).
pub const NO_PARTITION_LEADER_EPOCH: i32 = -1;

pub(crate) const ATTR_COMPRESSION_MASK: i16 = 0x07;
pub(crate) const ATTR_LOG_APPEND_TIME: i16 = 0x08;
pub(crate) const ATTR_TRANSACTIONAL: i16 = 0x10;
pub(crate) const ATTR_CONTROL: i16 = 0x20;
pub(crate) const ATTR_DELETE_HORIZON: i16 = 0x40;

/// The codec of a batch's records section (attribute bits 0-2; Java `compression.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Compression {
    /// No compression (`none`, the Java default).
    #[default]
    None,
    /// gzip (`gzip`).
    Gzip,
    /// snappy (`snappy`), written with xerial's framing as the Java client does.
    Snappy,
    /// LZ4 frame format (`lz4`, KIP-57).
    Lz4,
    /// Zstandard (`zstd`, KIP-110; needs Produce v7+ / Fetch v10+).
    Zstd,
}

impl Compression {
    /// Every codec, in attribute-id order.
    pub const ALL: [Compression; 5] = [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ];

    /// The codec's id in attribute bits 0-2.
    pub fn id(self) -> u8 {
        match self {
            Compression::None => 0,
            Compression::Gzip => 1,
            Compression::Snappy => 2,
            Compression::Lz4 => 3,
            Compression::Zstd => 4,
        }
    }

    /// The codec with attribute id `id`.
    ///
    /// # Errors
    /// [`WireError::UnknownCompression`] for ids 5-7 (and anything larger).
    pub fn from_id(id: u8) -> Result<Self, WireError> {
        Ok(match id {
            0 => Compression::None,
            1 => Compression::Gzip,
            2 => Compression::Snappy,
            3 => Compression::Lz4,
            4 => Compression::Zstd,
            other => return Err(WireError::UnknownCompression(other)),
        })
    }

    /// Java's name for the codec (`compression.type` value).
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Snappy => "snappy",
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
        }
    }

    /// Whether this build can compress and decompress with the codec: `none` always; each
    /// other codec when its cargo feature (`gzip`, `snappy`, `lz4`, `zstd`, all on by default)
    /// is enabled. A disabled codec fails with [`WireError::CodecDisabled`].
    pub fn is_enabled(self) -> bool {
        match self {
            Compression::None => true,
            Compression::Gzip => cfg!(feature = "gzip"),
            Compression::Snappy => cfg!(feature = "snappy"),
            Compression::Lz4 => cfg!(feature = "lz4"),
            Compression::Zstd => cfg!(feature = "zstd"),
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Compression {
    type Err = WireError;

    /// Parses Java's `compression.type` values (case-insensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Compression::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| WireError::Invalid {
                what: "compression.type",
                detail: format!("{s:?} is not one of none, gzip, snappy, lz4, zstd"),
            })
    }
}

/// What a batch's timestamps mean (attribute bit 3; topic setting `message.timestamp.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TimestampType {
    /// Set by the producer when the record was created.
    #[default]
    CreateTime,
    /// Set by the broker on append; every record's timestamp is the batch's `maxTimestamp`.
    LogAppendTime,
}

/// A record header to encode: a UTF-8 key and an optional value. Duplicate keys are allowed
/// and kept in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordHeaderRef<'a> {
    /// Header key.
    pub key: &'a str,
    /// Header value; `None` is written as length -1 (null).
    pub value: Option<&'a [u8]>,
}

/// A record to encode, borrowing its bytes from the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordRef<'a> {
    /// Timestamp in ms since the Unix epoch.
    pub timestamp: i64,
    /// Record key; `None` is a null key.
    pub key: Option<&'a [u8]>,
    /// Record value; `None` is a null value (a tombstone on compacted topics).
    pub value: Option<&'a [u8]>,
    /// Headers in order.
    pub headers: &'a [RecordHeaderRef<'a>],
}

/// The batch-level fields an encoder writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchMeta {
    /// Offset of the first record; producers write 0 and the broker assigns the real one.
    pub base_offset: i64,
    /// Leader epoch; producers write -1 ([`NO_PARTITION_LEADER_EPOCH`]).
    pub partition_leader_epoch: i32,
    /// Producer id from InitProducerId (KIP-98), or -1.
    pub producer_id: i64,
    /// Producer epoch, or -1.
    pub producer_epoch: i16,
    /// Sequence number of the first record (KIP-98 idempotence), or -1.
    pub base_sequence: i32,
    /// Attribute bit 4: the batch belongs to a transaction.
    pub is_transactional: bool,
    /// Attribute bit 3.
    pub timestamp_type: TimestampType,
    /// Codec for the records section.
    pub compression: Compression,
    /// Codec level (KIP-390: `compression.gzip.level`, `compression.zstd.level`,
    /// `compression.lz4.level`); `None` uses the Java default.
    pub compression_level: Option<i32>,
    /// Attribute bit 5: the batch holds control records (transaction markers). Only brokers
    /// and tests write these.
    pub is_control: bool,
}

impl Default for BatchMeta {
    /// A plain, non-idempotent, uncompressed producer batch.
    fn default() -> Self {
        BatchMeta {
            base_offset: 0,
            partition_leader_epoch: NO_PARTITION_LEADER_EPOCH,
            producer_id: NO_PRODUCER_ID,
            producer_epoch: NO_PRODUCER_EPOCH,
            base_sequence: NO_SEQUENCE,
            is_transactional: false,
            timestamp_type: TimestampType::CreateTime,
            compression: Compression::None,
            compression_level: None,
            is_control: false,
        }
    }
}

impl BatchMeta {
    /// The attributes field this metadata encodes to.
    pub fn attributes(&self) -> i16 {
        let mut a = i16::from(self.compression.id());
        if self.timestamp_type == TimestampType::LogAppendTime {
            a |= ATTR_LOG_APPEND_TIME;
        }
        if self.is_transactional {
            a |= ATTR_TRANSACTIONAL;
        }
        if self.is_control {
            a |= ATTR_CONTROL;
        }
        a
    }
}

/// A decoded record header. Duplicate keys and null values are preserved in wire order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordHeader {
    /// Header key, checked to be UTF-8 when decoded.
    pub key: Bytes,
    /// Header value, or `None` for a null value.
    pub value: Option<Bytes>,
}

impl RecordHeader {
    /// The key as a string (empty if someone built the header with non-UTF-8 bytes).
    pub fn key_str(&self) -> &str {
        std::str::from_utf8(&self.key).unwrap_or_default()
    }
}

/// A decoded record; key, value and header values share the fetched buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Absolute offset (`baseOffset + offsetDelta`).
    pub offset: i64,
    /// Timestamp in ms (`baseTimestamp + timestampDelta`, or the batch's `maxTimestamp` for
    /// LogAppendTime batches).
    pub timestamp: i64,
    /// Key, `None` if null.
    pub key: Option<Bytes>,
    /// Value, `None` if null.
    pub value: Option<Bytes>,
    /// Headers in wire order.
    pub headers: Vec<RecordHeader>,
}

impl Record {
    /// Reads this record as a transaction marker; only meaningful for records of a batch
    /// whose `is_control` is set.
    ///
    /// # Errors
    /// As [`decode_control`].
    pub fn control(&self) -> Result<ControlRecord, WireError> {
        decode_control(self)
    }
}

#[cfg(test)]
mod tests;
