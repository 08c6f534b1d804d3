//! Walking a records blob (the `records` field of a fetch response, or a produce request's
//! payload) batch by batch.

use bytes::Bytes;

use super::batch::RecordBatch;
use super::{legacy, LOG_OVERHEAD, MAGIC_V2};
use crate::WireError;

/// Offset of the magic byte in both v2 batches and v0/v1 messages.
const MAGIC_OFFSET: usize = 16;

/// Iterates the batches in `buf` without copying. A partial batch at the end (brokers cut
/// fetch responses at `max_bytes`) is ignored; see [`BatchIter::partial_bytes`].
pub fn decode_batches(buf: Bytes) -> BatchIter {
    BatchIter {
        buf,
        pos: 0,
        failed: false,
    }
}

/// Iterator over the batches of a records blob: `Ok` batches until the data ends or a batch
/// is malformed, in which case one `Err` is yielded and the iteration stops.
#[derive(Debug, Clone)]
pub struct BatchIter {
    buf: Bytes,
    pos: usize,
    failed: bool,
}

impl BatchIter {
    /// Bytes at the end that do not form a whole batch (0 once the iterator is exhausted
    /// and the data ended on a batch boundary).
    pub fn partial_bytes(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn fail(&mut self, e: WireError) -> Option<Result<RecordBatch, WireError>> {
        self.failed = true;
        Some(Err(e))
    }
}

impl Iterator for BatchIter {
    type Item = Result<RecordBatch, WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let rest = &self.buf[self.pos..];
        let head = rest.get(..LOG_OVERHEAD)?;
        let length = i32::from_be_bytes([head[8], head[9], head[10], head[11]]);
        if length < 0 {
            return self.fail(WireError::NegativeLength {
                what: "record batch length",
                len: length.into(),
            });
        }
        let total = LOG_OVERHEAD + length as usize;
        if rest.len() < total {
            return None;
        }
        let Some(&magic) = rest.get(MAGIC_OFFSET).filter(|_| total > MAGIC_OFFSET) else {
            return self.fail(WireError::Truncated {
                what: "record batch magic",
                needed: MAGIC_OFFSET + 1,
                remaining: total,
            });
        };
        let raw = self.buf.slice(self.pos..self.pos + total);
        self.pos += total;
        let result = match magic as i8 {
            MAGIC_V2 => RecordBatch::parse_v2(raw),
            // One top-level legacy message (plain, or a compressed wrapper) is one batch.
            0 | 1 => legacy::parse_message(raw),
            other => Err(WireError::UnsupportedMagic(other)),
        };
        match result {
            Ok(b) => Some(Ok(b)),
            Err(e) => self.fail(e),
        }
    }
}
