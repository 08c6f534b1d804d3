//! Reading the records of a batch: the uncompressed [`RecordSection`], borrowed
//! [`RecordView`]s (no allocation, no reference counting) and owned [`Record`]s
//! ([`RecordIter`], whose `Bytes` share the section).
//!
//! Every record is fully validated when it is parsed (length prefix consistent with its
//! fields, lengths within the record, header keys UTF-8), so a view's header iterator cannot
//! fail later.

use std::sync::Arc;

use bytes::Bytes;

use super::{Record, RecordHeader};
use crate::WireError;

/// The uncompressed records of one batch, with what is needed to resolve offset and
/// timestamp deltas. Cheap to clone (shares the buffer).
#[derive(Debug, Clone)]
pub struct RecordSection {
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    V2 { data: Bytes, count: i32, ctx: Ctx },
    Legacy(Arc<[Record]>),
}

/// Batch fields every record needs.
#[derive(Debug, Clone, Copy)]
struct Ctx {
    base_offset: i64,
    base_timestamp: i64,
    /// `Some(maxTimestamp)` for LogAppendTime batches, whose records all carry it.
    log_append_time: Option<i64>,
}

impl RecordSection {
    pub(crate) fn v2(
        data: Bytes,
        count: i32,
        base_offset: i64,
        base_timestamp: i64,
        log_append_time: Option<i64>,
    ) -> Self {
        RecordSection {
            kind: Kind::V2 {
                data,
                count,
                ctx: Ctx {
                    base_offset,
                    base_timestamp,
                    log_append_time,
                },
            },
        }
    }

    pub(crate) fn legacy(records: Arc<[Record]>) -> Self {
        RecordSection {
            kind: Kind::Legacy(records),
        }
    }

    /// The uncompressed records bytes (empty for legacy messages, which were parsed already).
    pub fn bytes(&self) -> Bytes {
        match &self.kind {
            Kind::V2 { data, .. } => data.clone(),
            Kind::Legacy(_) => Bytes::new(),
        }
    }

    /// Borrowed iteration over the records: the fastest way to read a batch.
    pub fn views(&self) -> RecordViews<'_> {
        match &self.kind {
            Kind::V2 { data, count, ctx } => RecordViews {
                inner: ViewsInner::V2 {
                    data,
                    pos: 0,
                    left: *count,
                    ctx: *ctx,
                },
            },
            Kind::Legacy(records) => RecordViews {
                inner: ViewsInner::Legacy(records.iter()),
            },
        }
    }
}

/// A record borrowed from its [`RecordSection`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordView<'a> {
    /// Absolute offset.
    pub offset: i64,
    /// Timestamp in ms (the batch's `maxTimestamp` for LogAppendTime batches).
    pub timestamp: i64,
    /// Key, `None` if null.
    pub key: Option<&'a [u8]>,
    /// Value, `None` if null.
    pub value: Option<&'a [u8]>,
    headers: HeaderViews<'a>,
}

impl<'a> RecordView<'a> {
    /// The headers in wire order.
    pub fn headers(&self) -> HeaderViews<'a> {
        self.headers
    }
}

/// Iterator over a [`RecordView`]'s headers as `(key, value)` pairs, in wire order with
/// duplicates and null values kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderViews<'a> {
    buf: &'a [u8],
    pos: usize,
    left: usize,
}

impl<'a> Iterator for HeaderViews<'a> {
    type Item = (&'a str, Option<&'a [u8]>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        // Already validated when the record was parsed, so errors cannot happen here; if one
        // did, ending the iteration is the safe answer.
        let key = nullable(self.buf, &mut self.pos, "header key").ok()??;
        let key = std::str::from_utf8(key).ok()?;
        let value = nullable(self.buf, &mut self.pos, "header value").ok()?;
        self.left -= 1;
        Some((key, value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

/// Borrowed iterator over a section's records; yields one `Err` for a malformed record and
/// then ends.
#[derive(Debug, Clone)]
pub struct RecordViews<'a> {
    inner: ViewsInner<'a>,
}

#[derive(Debug, Clone)]
enum ViewsInner<'a> {
    V2 {
        data: &'a [u8],
        pos: usize,
        left: i32,
        ctx: Ctx,
    },
    Legacy(std::slice::Iter<'a, Record>),
    Done,
}

impl<'a> Iterator for RecordViews<'a> {
    type Item = Result<RecordView<'a>, WireError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.inner {
            ViewsInner::V2 {
                data,
                pos,
                left,
                ctx,
            } => {
                let data: &'a [u8] = data;
                match step(data, pos, left, ctx) {
                    Some(Ok(v)) => Some(Ok(v)),
                    other => {
                        self.inner = ViewsInner::Done;
                        other
                    }
                }
            }
            ViewsInner::Legacy(it) => it.next().map(|r| {
                Ok(RecordView {
                    offset: r.offset,
                    timestamp: r.timestamp,
                    key: r.key.as_deref(),
                    value: r.value.as_deref(),
                    headers: HeaderViews {
                        buf: &[],
                        pos: 0,
                        left: 0,
                    },
                })
            }),
            ViewsInner::Done => None,
        }
    }
}

/// Iterator over a batch's records as owned [`Record`]s sharing the section's buffer; yields
/// one `Err` for a malformed record and then ends.
#[derive(Debug, Clone)]
pub struct RecordIter {
    inner: IterInner,
}

#[derive(Debug, Clone)]
enum IterInner {
    V2 {
        data: Bytes,
        pos: usize,
        left: i32,
        ctx: Ctx,
    },
    Legacy {
        records: Arc<[Record]>,
        next: usize,
    },
    Done,
}

impl RecordIter {
    pub(crate) fn new(section: RecordSection) -> Self {
        let inner = match section.kind {
            Kind::V2 { data, count, ctx } => IterInner::V2 {
                data,
                pos: 0,
                left: count,
                ctx,
            },
            Kind::Legacy(records) => IterInner::Legacy { records, next: 0 },
        };
        RecordIter { inner }
    }
}

impl Iterator for RecordIter {
    type Item = Result<Record, WireError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.inner {
            IterInner::V2 {
                data,
                pos,
                left,
                ctx,
            } => match step(data, pos, left, ctx) {
                Some(Ok(v)) => Some(Ok(to_owned(data, &v))),
                Some(Err(e)) => {
                    self.inner = IterInner::Done;
                    Some(Err(e))
                }
                None => {
                    self.inner = IterInner::Done;
                    None
                }
            },
            IterInner::Legacy { records, next } => {
                let r = records.get(*next).cloned();
                *next += 1;
                r.map(Ok)
            }
            IterInner::Done => None,
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.inner {
            // A malformed record adds one `Err` item.
            IterInner::V2 { left, .. } => (0, Some(*left as usize + 1)),
            IterInner::Legacy { records, next } => {
                let n = records.len().saturating_sub(*next);
                (n, Some(n))
            }
            IterInner::Done => (0, Some(0)),
        }
    }
}

#[inline]
fn to_owned(data: &Bytes, v: &RecordView<'_>) -> Record {
    let mut headers = Vec::new();
    let hs = v.headers();
    if hs.left > 0 {
        headers.reserve_exact(hs.left);
        headers.extend(hs.map(|(k, val)| RecordHeader {
            key: data.slice_ref(k.as_bytes()),
            value: val.map(|x| data.slice_ref(x)),
        }));
    }
    Record {
        offset: v.offset,
        timestamp: v.timestamp,
        key: v.key.map(|k| data.slice_ref(k)),
        value: v.value.map(|x| data.slice_ref(x)),
        headers,
    }
}

/// Parses the next record, or checks that nothing follows the last one.
#[inline(always)]
fn step<'a>(
    data: &'a [u8],
    pos: &mut usize,
    left: &mut i32,
    ctx: &Ctx,
) -> Option<Result<RecordView<'a>, WireError>> {
    if *left <= 0 {
        if *pos != data.len() {
            let extra = data.len() - *pos;
            *pos = data.len();
            return Some(Err(WireError::Invalid {
                what: "record batch",
                detail: format!("{extra} bytes after the last record"),
            }));
        }
        return None;
    }
    let r = parse_record(data, pos, ctx);
    if r.is_ok() {
        *left -= 1;
    }
    Some(r)
}

/// Parses the record at `data[*pos..]` and advances `pos` past it.
#[inline(always)]
fn parse_record<'a>(
    data: &'a [u8],
    pos: &mut usize,
    ctx: &Ctx,
) -> Result<RecordView<'a>, WireError> {
    let mut p = *pos;
    let len = varint(data, &mut p)?;
    if len < 0 {
        return Err(negative("record", len));
    }
    let end = match p.checked_add(len as usize) {
        Some(end) if end <= data.len() => end,
        _ => return Err(overflow("record", len, data.len() - p)),
    };
    // Reads are bounded by the record's own length.
    let rec = &data[..end];
    if p >= end {
        return Err(truncated("record attributes", 1, 0));
    }
    p += 1; // attributes: unused
    let timestamp_delta = varlong(rec, &mut p)?;
    let offset_delta = varint(rec, &mut p)?;
    let key = nullable(rec, &mut p, "record key")?;
    let value = nullable(rec, &mut p, "record value")?;
    let header_count = varint(rec, &mut p)?;
    if header_count < 0 {
        return Err(negative("header count", header_count));
    }
    let headers_start = p;
    for _ in 0..header_count {
        match nullable(rec, &mut p, "header key")? {
            Some(k) => {
                if std::str::from_utf8(k).is_err() {
                    return Err(WireError::InvalidUtf8 { what: "header key" });
                }
            }
            None => return Err(negative("header key", -1)),
        }
        nullable(rec, &mut p, "header value")?;
    }
    if p != end {
        return Err(WireError::Invalid {
            what: "record",
            detail: format!(
                "length says {len} bytes but the fields take {}",
                len as usize - (end - p)
            ),
        });
    }
    *pos = end;
    Ok(RecordView {
        offset: ctx.base_offset.wrapping_add(offset_delta.into()),
        timestamp: match ctx.log_append_time {
            Some(t) => t,
            None => ctx.base_timestamp.wrapping_add(timestamp_delta),
        },
        key,
        value,
        headers: HeaderViews {
            buf: &rec[headers_start..],
            pos: 0,
            left: header_count as usize,
        },
    })
}

#[cold]
fn negative(what: &'static str, len: i32) -> WireError {
    WireError::NegativeLength {
        what,
        len: len.into(),
    }
}

#[cold]
fn overflow(what: &'static str, len: i32, remaining: usize) -> WireError {
    WireError::LengthOverflow {
        what,
        len: len.into(),
        remaining,
    }
}

#[cold]
fn truncated(what: &'static str, needed: usize, remaining: usize) -> WireError {
    WireError::Truncated {
        what,
        needed,
        remaining,
    }
}

/// Reads a varint length and that many bytes; -1 is null.
#[inline(always)]
fn nullable<'a>(
    buf: &'a [u8],
    p: &mut usize,
    what: &'static str,
) -> Result<Option<&'a [u8]>, WireError> {
    let len = varint(buf, p)?;
    if len < 0 {
        if len == -1 {
            return Ok(None);
        }
        return Err(negative(what, len));
    }
    match buf.get(*p..*p + len as usize) {
        Some(s) => {
            *p += len as usize;
            Ok(Some(s))
        }
        None => Err(overflow(what, len, buf.len().saturating_sub(*p))),
    }
}

#[inline(always)]
fn varint(buf: &[u8], p: &mut usize) -> Result<i32, WireError> {
    match buf.get(*p) {
        Some(&b) if b < 0x80 => {
            *p += 1;
            Ok(((b >> 1) as i32) ^ -((b & 1) as i32))
        }
        // Two bytes hold zigzag values up to ±8191: the record and value lengths and offset
        // deltas of typical records, which would otherwise all take the slow path.
        Some(&b0) => match buf.get(*p + 1) {
            Some(&b1) if b1 < 0x80 => {
                *p += 2;
                let z = u32::from(b0 & 0x7f) | (u32::from(b1) << 7);
                Ok(((z >> 1) as i32) ^ -((z & 1) as i32))
            }
            _ => varint_slow(buf, p),
        },
        None => varint_slow(buf, p),
    }
}

#[inline(never)]
fn varint_slow(buf: &[u8], p: &mut usize) -> Result<i32, WireError> {
    let mut z: u32 = 0;
    let mut i = *p;
    for shift in 0..5 {
        let Some(&b) = buf.get(i) else {
            return Err(truncated("varint", 1, 0));
        };
        i += 1;
        z |= u32::from(b & 0x7f).wrapping_shl(7 * shift);
        if b < 0x80 {
            *p = i;
            return Ok(((z >> 1) as i32) ^ -((z & 1) as i32));
        }
    }
    Err(WireError::InvalidVarint)
}

#[inline(always)]
fn varlong(buf: &[u8], p: &mut usize) -> Result<i64, WireError> {
    match buf.get(*p) {
        Some(&b) if b < 0x80 => {
            *p += 1;
            Ok(((b >> 1) as i64) ^ -((b & 1) as i64))
        }
        _ => varlong_slow(buf, p),
    }
}

#[inline(never)]
fn varlong_slow(buf: &[u8], p: &mut usize) -> Result<i64, WireError> {
    let mut z: u64 = 0;
    let mut i = *p;
    for shift in 0..10 {
        let Some(&b) = buf.get(i) else {
            return Err(truncated("varint", 1, 0));
        };
        i += 1;
        z |= u64::from(b & 0x7f).wrapping_shl(7 * shift);
        if b < 0x80 {
            *p = i;
            return Ok(((z >> 1) as i64) ^ -((z & 1) as i64));
        }
    }
    Err(WireError::InvalidVarint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::varint::put_varint;

    fn encoded(v: i32) -> Vec<u8> {
        let mut out = [0u8; 16];
        let n = put_varint(&mut out, 0, v);
        out[..n].to_vec()
    }

    #[test]
    fn varint_fast_paths_agree_with_the_encoder() {
        // One byte up to ±64, two bytes up to ±8192, then the slow path.
        for v in [
            0,
            1,
            -1,
            63,
            -64,
            64,
            -65,
            300,
            8191,
            -8192,
            8192,
            -8193,
            1 << 20,
            i32::MAX,
            i32::MIN,
        ] {
            let mut buf = encoded(v);
            let len = buf.len();
            buf.push(0x55); // a following field must not be consumed
            let mut p = 0;
            assert_eq!(varint(&buf, &mut p).unwrap(), v, "value {v}");
            assert_eq!(p, len, "bytes taken for {v}");
        }
    }

    #[test]
    fn varint_cut_after_a_continuation_byte_is_truncated() {
        for buf in [&[0x80u8][..], &[0xff, 0x80], &[0xff, 0xff, 0xff, 0xff]] {
            let mut p = 0;
            assert!(
                matches!(varint(buf, &mut p), Err(WireError::Truncated { .. })),
                "{buf:?}"
            );
            assert_eq!(p, 0, "position unchanged on error");
        }
        let mut p = 0;
        assert!(matches!(
            varint(&[0xff; 6], &mut p),
            Err(WireError::InvalidVarint)
        ));
    }
}
