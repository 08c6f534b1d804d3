//! Writing v2 batches: [`BatchBuilder`] appends records one at a time (the producer
//! accumulator's shape), [`encode_batch`] encodes a slice of records in one call.
//!
//! A record on the wire (Kafka protocol guide, "Record"):
//! ```text
//! length varint | attributes i8 | timestampDelta varlong | offsetDelta varint |
//! keyLength varint | key | valueLength varint | value | headerCount varint | headers...
//! header: keyLength varint | key | valueLength varint | value
//! ```

use bytes::BytesMut;

use super::compression::compress;
use super::varint::{put_varlong, varint_len, varlong_len};
use super::{BatchMeta, Compression, RecordRef, BATCH_HEADER_LEN, LOG_OVERHEAD, MAGIC_V2};
use crate::WireError;

/// Builds one v2 batch incrementally: records are encoded as they are appended (uncompressed,
/// with deltas against `base_timestamp`), and [`BatchBuilder::finish`] writes the header,
/// compresses and computes the CRC.
#[derive(Debug, Clone)]
pub struct BatchBuilder {
    records: BytesMut,
    base_timestamp: i64,
    max_timestamp: i64,
    count: i32,
    /// First problem met by [`BatchBuilder::append`] (a field over 2 GiB), reported by
    /// [`BatchBuilder::finish`] so appends stay infallible.
    error: Option<WireError>,
}

impl BatchBuilder {
    /// An empty builder. `base_timestamp_ms` is the batch's `baseTimestamp` (Java uses the
    /// first record's timestamp); records store their timestamp as a delta from it.
    pub fn new(base_timestamp_ms: i64) -> Self {
        Self::with_capacity(base_timestamp_ms, 0)
    }

    /// An empty builder with room for `bytes` of encoded records (e.g. `batch.size`).
    pub fn with_capacity(base_timestamp_ms: i64, bytes: usize) -> Self {
        BatchBuilder {
            records: BytesMut::with_capacity(bytes),
            base_timestamp: base_timestamp_ms,
            max_timestamp: i64::MIN,
            count: 0,
            error: None,
        }
    }

    /// Empties the builder for reuse, keeping its buffer.
    pub fn clear(&mut self, base_timestamp_ms: i64) {
        self.records.clear();
        self.base_timestamp = base_timestamp_ms;
        self.max_timestamp = i64::MIN;
        self.count = 0;
        self.error = None;
    }

    /// Encodes `record` as the next record of the batch; returns the bytes it added to the
    /// uncompressed size.
    pub fn append(&mut self, record: &RecordRef<'_>) -> usize {
        if self.error.is_some() {
            return 0;
        }
        let before = self.records.len();
        let delta = record.timestamp.wrapping_sub(self.base_timestamp);
        match write_record(&mut self.records, self.count, delta, record) {
            Ok(()) => {
                self.count = match self.count.checked_add(1) {
                    Some(c) => c,
                    None => {
                        self.error = Some(too_large("record count", i64::MAX));
                        return 0;
                    }
                };
                self.max_timestamp = self.max_timestamp.max(record.timestamp);
                self.records.len() - before
            }
            Err(e) => {
                self.error = Some(e);
                0
            }
        }
    }

    /// Estimated size of the finished batch before compression, in bytes, including the
    /// 61-byte header.
    pub fn size_in_bytes(&self) -> usize {
        BATCH_HEADER_LEN + self.records.len()
    }

    /// Number of records appended.
    pub fn record_count(&self) -> i32 {
        self.count
    }

    /// Whether no record has been appended.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The batch's `baseTimestamp` in ms.
    pub fn base_timestamp(&self) -> i64 {
        self.base_timestamp
    }

    /// Appends the finished batch to `out`. The builder is left as it was, so a batch can be
    /// re-finished with new metadata (e.g. a new producer epoch).
    ///
    /// # Errors
    /// [`WireError::Invalid`] for an empty builder or a record field over `i32::MAX` bytes;
    /// [`WireError::Compression`] if the codec fails or the level is out of range.
    pub fn finish(&self, meta: &BatchMeta, out: &mut BytesMut) -> Result<(), WireError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if self.count == 0 {
            return Err(WireError::Invalid {
                what: "record batch",
                detail: "a batch needs at least one record".into(),
            });
        }
        write_batch(
            meta,
            self.base_timestamp,
            self.max_timestamp,
            self.count,
            &self.records,
            out,
        )
    }
}

/// Encodes `records` as one batch appended to `out`. The first record's timestamp becomes the
/// batch's `baseTimestamp`, as in Java.
///
/// # Errors
/// As [`BatchBuilder::finish`].
pub fn encode_batch(
    meta: &BatchMeta,
    records: &[RecordRef<'_>],
    out: &mut BytesMut,
) -> Result<(), WireError> {
    let Some(first) = records.first() else {
        return Err(WireError::Invalid {
            what: "record batch",
            detail: "a batch needs at least one record".into(),
        });
    };
    let count = i32::try_from(records.len()).map_err(|_| too_large("record count", i64::MAX))?;
    let base_timestamp = first.timestamp;
    let max_timestamp = records
        .iter()
        .map(|r| r.timestamp)
        .max()
        .unwrap_or(base_timestamp);
    if meta.compression == Compression::None {
        // Write the records straight into `out` behind a header gap: no intermediate copy.
        let start = out.len();
        let size: usize = records
            .iter()
            .map(|r| 10 + r.key.map_or(0, <[u8]>::len) + r.value.map_or(0, <[u8]>::len))
            .sum();
        out.reserve(BATCH_HEADER_LEN + size);
        out.resize(start + BATCH_HEADER_LEN, 0);
        for (i, r) in records.iter().enumerate() {
            if let Err(e) = write_record(out, i as i32, r.timestamp.wrapping_sub(base_timestamp), r)
            {
                out.truncate(start);
                return Err(e);
            }
        }
        let result = fill_header(meta, base_timestamp, max_timestamp, count, out, start);
        if result.is_err() {
            out.truncate(start);
        }
        return result;
    }
    let mut builder = BatchBuilder::new(base_timestamp);
    for r in records {
        builder.append(r);
    }
    builder.finish(meta, out)
}

fn too_large(what: &'static str, len: i64) -> WireError {
    WireError::Invalid {
        what,
        detail: format!("{len} is larger than a Kafka record can hold"),
    }
}

fn len_i32(len: usize, what: &'static str) -> Result<i32, WireError> {
    i32::try_from(len).map_err(|_| too_large(what, len as i64))
}

/// Writes header + (compressed) records section for an already-encoded records section.
fn write_batch(
    meta: &BatchMeta,
    base_timestamp: i64,
    max_timestamp: i64,
    count: i32,
    records: &[u8],
    out: &mut BytesMut,
) -> Result<(), WireError> {
    let start = out.len();
    out.reserve(BATCH_HEADER_LEN + records.len());
    out.resize(start + BATCH_HEADER_LEN, 0);
    let result = compress(meta.compression, meta.compression_level, records, out)
        .and_then(|()| fill_header(meta, base_timestamp, max_timestamp, count, out, start));
    if result.is_err() {
        out.truncate(start);
    }
    result
}

/// Fills the 61-byte header at `out[start..]` for the records section behind it, CRC last.
fn fill_header(
    meta: &BatchMeta,
    base_timestamp: i64,
    max_timestamp: i64,
    count: i32,
    out: &mut BytesMut,
    start: usize,
) -> Result<(), WireError> {
    let batch_length = len_i32(out.len() - start - LOG_OVERHEAD, "record batch length")?;
    let h = &mut out[start..start + BATCH_HEADER_LEN];
    h[0..8].copy_from_slice(&meta.base_offset.to_be_bytes());
    h[8..12].copy_from_slice(&batch_length.to_be_bytes());
    h[12..16].copy_from_slice(&meta.partition_leader_epoch.to_be_bytes());
    h[16] = MAGIC_V2 as u8;
    h[21..23].copy_from_slice(&meta.attributes().to_be_bytes());
    h[23..27].copy_from_slice(&(count - 1).to_be_bytes());
    h[27..35].copy_from_slice(&base_timestamp.to_be_bytes());
    h[35..43].copy_from_slice(&max_timestamp.to_be_bytes());
    h[43..51].copy_from_slice(&meta.producer_id.to_be_bytes());
    h[51..53].copy_from_slice(&meta.producer_epoch.to_be_bytes());
    h[53..57].copy_from_slice(&meta.base_sequence.to_be_bytes());
    h[57..61].copy_from_slice(&count.to_be_bytes());
    let crc = crc32c::crc32c(&out[start + 21..]);
    out[start + 17..start + 21].copy_from_slice(&crc.to_be_bytes());
    Ok(())
}

/// Varint length prefix plus bytes for a nullable field.
#[inline]
fn nullable_len(b: Option<&[u8]>) -> Result<usize, WireError> {
    Ok(match b {
        None => 1,
        Some(b) => varint_len(len_i32(b.len(), "record field")?) + b.len(),
    })
}

/// Appends one record (length prefix included) to `out`.
#[inline]
pub(crate) fn write_record(
    out: &mut BytesMut,
    offset_delta: i32,
    timestamp_delta: i64,
    r: &RecordRef<'_>,
) -> Result<(), WireError> {
    let header_count = len_i32(r.headers.len(), "header count")?;
    let mut body = 1 + varlong_len(timestamp_delta) + varint_len(offset_delta);
    body += nullable_len(r.key)?;
    body += nullable_len(r.value)?;
    body += varint_len(header_count);
    for h in r.headers {
        body += nullable_len(Some(h.key.as_bytes()))? + nullable_len(h.value)?;
    }
    let body = len_i32(body, "record")?;

    // Each small field is written as one 8-byte store of a register and the unused tail cut
    // off again: byte-wise staging on the stack followed by a wide copy stalls on store
    // forwarding, and a variable-length copy costs a memcpy call per field.
    out.reserve(body as usize + 16);
    put_varlong_fast(out, body.into());
    put_varlong_fast(out, 0); // attributes: unused, 0 (a one-byte zigzag 0)
    put_varlong_fast(out, timestamp_delta);
    put_varlong_fast(out, offset_delta.into());
    put_varlong_fast(out, r.key.map_or(-1, |k| k.len() as i64));
    if let Some(k) = r.key {
        out.extend_from_slice(k);
    }
    put_varlong_fast(out, r.value.map_or(-1, |v| v.len() as i64));
    if let Some(v) = r.value {
        out.extend_from_slice(v);
    }
    put_varlong_fast(out, header_count.into());
    for h in r.headers {
        put_varlong_fast(out, h.key.len() as i64);
        out.extend_from_slice(h.key.as_bytes());
        put_varlong_fast(out, h.value.map_or(-1, |v| v.len() as i64));
        if let Some(v) = h.value {
            out.extend_from_slice(v);
        }
    }
    Ok(())
}

/// Appends the zigzag varint (or varlong) of `v` with one 8-byte store when it fits.
#[inline(always)]
fn put_varlong_fast(out: &mut BytesMut, v: i64) {
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    if z < 1 << 56 {
        // At most 8 varint bytes: build them in a register.
        let mut word = 0u64;
        let mut n = 0;
        while z >= 0x80 {
            word |= ((z & 0x7f) | 0x80) << (8 * n);
            z >>= 7;
            n += 1;
        }
        word |= z << (8 * n);
        let len = out.len();
        out.extend_from_slice(&word.to_le_bytes());
        out.truncate(len + n + 1);
    } else {
        let mut b = [0u8; 10];
        let n = put_varlong(&mut b, 0, v);
        out.extend_from_slice(&b[..n]);
    }
}
