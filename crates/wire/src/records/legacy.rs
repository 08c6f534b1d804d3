//! Read-only support for the legacy MessageSet format, magic 0 and 1 (KIP-32), which brokers
//! still return for data written by very old producers. rafka never writes it.
//!
//! ```text
//! offset i64 | messageSize i32 | crc u32 | magic i8 | attributes i8 |
//! timestamp i64 (v1 only) | key bytes (i32 length) | value bytes (i32 length)
//! ```
//! The CRC is CRC-32 (IEEE) over magic..end. A compressed message is a wrapper whose value is
//! a compressed message set of inner messages; v1 inner offsets are relative to the wrapper
//! (whose offset is that of the last inner message), v0 inner offsets are absolute.
//!
//! Not supported: lz4 inside magic-0 messages as Kafka 0.8/0.9 clients wrote it, with a frame
//! header checksum computed over the wrong bytes (KAFKA-3160); such messages fail with
//! [`WireError::Compression`].

use bytes::Bytes;

use super::batch::RecordBatch;
use super::compression::{decompress, DEFAULT_MAX_DECOMPRESSED_SIZE};
use super::varint::Reader;
use super::{Compression, Record, TimestampType, LOG_OVERHEAD};
use crate::WireError;

const ATTR_CODEC_MASK: i8 = 0x07;
const ATTR_LOG_APPEND_TIME: i8 = 0x08;
/// `crc + magic + attributes + keyLength + valueLength`: the smallest v0 message body.
const MIN_V0_SIZE: usize = 14;
/// v1 adds an 8-byte timestamp.
const MIN_V1_SIZE: usize = 22;

/// One parsed legacy message.
struct Message {
    offset: i64,
    crc: u32,
    magic: i8,
    attributes: i8,
    timestamp: i64,
    key: Option<Bytes>,
    value: Option<Bytes>,
}

/// Parses the message at `buf[pos..]`, checking its CRC; returns it and the position after it.
fn parse_one(buf: &Bytes, pos: usize) -> Result<(Message, usize), WireError> {
    let mut r = Reader::new(buf);
    r.skip(pos, "legacy message")?;
    let offset = r.i64("legacy message offset")?;
    let size = r.i32("legacy message size")?;
    if size < 0 {
        return Err(WireError::NegativeLength {
            what: "legacy message",
            len: size.into(),
        });
    }
    let size = size as usize;
    if size > r.remaining() {
        return Err(WireError::LengthOverflow {
            what: "legacy message",
            len: size as i64,
            remaining: r.remaining(),
        });
    }
    let end = r.pos() + size;
    if size < MIN_V0_SIZE {
        return Err(WireError::Truncated {
            what: "legacy message",
            needed: MIN_V0_SIZE,
            remaining: size,
        });
    }
    let mut r = Reader::new(&buf[..end]);
    r.skip(pos + LOG_OVERHEAD, "legacy message")?;
    let crc = r.u32("legacy message crc")?;
    let actual = crc32fast::hash(&buf[pos + LOG_OVERHEAD + 4..end]);
    if actual != crc {
        return Err(WireError::CrcMismatch {
            expected: crc,
            actual,
        });
    }
    let magic = r.i8("legacy message magic")?;
    let attributes = r.i8("legacy message attributes")?;
    let timestamp = match magic {
        0 => -1,
        1 => {
            if size < MIN_V1_SIZE {
                return Err(WireError::Truncated {
                    what: "legacy message",
                    needed: MIN_V1_SIZE,
                    remaining: size,
                });
            }
            r.i64("legacy message timestamp")?
        }
        other => return Err(WireError::UnsupportedMagic(other)),
    };
    let key = r.nullable_bytes_i32("legacy message key")?;
    let value = r.nullable_bytes_i32("legacy message value")?;
    if r.pos() != end {
        return Err(WireError::Invalid {
            what: "legacy message",
            detail: format!("{} bytes after the value", end - r.pos()),
        });
    }
    Ok((
        Message {
            offset,
            crc,
            magic,
            attributes,
            timestamp,
            key: key.map(|k| buf.slice(k)),
            value: value.map(|v| buf.slice(v)),
        },
        end,
    ))
}

/// Turns one top-level legacy message (`raw` holds exactly the message) into a batch: one
/// record for a plain message, the inner messages for a compressed wrapper.
pub(crate) fn parse_message(raw: Bytes) -> Result<RecordBatch, WireError> {
    let (msg, _) = parse_one(&raw, 0)?;
    let compression = Compression::from_id((msg.attributes & ATTR_CODEC_MASK) as u8)?;
    let timestamp_type = if msg.magic > 0 && msg.attributes & ATTR_LOG_APPEND_TIME != 0 {
        TimestampType::LogAppendTime
    } else {
        TimestampType::CreateTime
    };
    let records = if compression == Compression::None {
        vec![Record {
            offset: msg.offset,
            timestamp: msg.timestamp,
            key: msg.key,
            value: msg.value,
            headers: Vec::new(),
        }]
    } else {
        inner_records(&msg, compression, timestamp_type)?
    };
    Ok(RecordBatch::from_legacy(
        raw,
        msg.magic,
        msg.crc,
        msg.attributes,
        compression,
        timestamp_type,
        records,
    ))
}

fn inner_records(
    wrapper: &Message,
    compression: Compression,
    timestamp_type: TimestampType,
) -> Result<Vec<Record>, WireError> {
    let Some(value) = &wrapper.value else {
        return Err(WireError::Invalid {
            what: "legacy message",
            detail: "compressed wrapper with a null value".into(),
        });
    };
    let inner = Bytes::from(decompress(
        compression,
        value,
        DEFAULT_MAX_DECOMPRESSED_SIZE,
    )?);
    let mut messages = Vec::with_capacity(inner.len() / (LOG_OVERHEAD + MIN_V0_SIZE));
    let mut pos = 0;
    while pos < inner.len() {
        let (m, next) = parse_one(&inner, pos)?;
        if m.attributes & ATTR_CODEC_MASK != 0 {
            return Err(WireError::Invalid {
                what: "legacy message",
                detail: "compressed message nested inside a compressed message".into(),
            });
        }
        messages.push(m);
        pos = next;
    }
    // v1 inner offsets count from 0 and the wrapper carries the last one's absolute offset.
    let base = match (wrapper.magic, messages.last()) {
        (1, Some(last)) => wrapper.offset.wrapping_sub(last.offset),
        _ => 0,
    };
    Ok(messages
        .into_iter()
        .map(|m| Record {
            offset: base.wrapping_add(m.offset),
            timestamp: match timestamp_type {
                TimestampType::LogAppendTime => wrapper.timestamp,
                TimestampType::CreateTime => m.timestamp,
            },
            key: m.key,
            value: m.value,
            headers: Vec::new(),
        })
        .collect())
}
