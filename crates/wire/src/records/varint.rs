//! Zigzag varints (protobuf style, as Kafka's `ByteUtils.writeVarint`/`writeVarlong`) and a
//! bounds-checked big-endian reader over a byte slice.
//!
//! Record fields inside a v2 batch are zigzag varints (KIP-98): `varint` for 32-bit values (at
//! most 5 bytes) and `varlong` for 64-bit values (at most 10 bytes).

use crate::WireError;

/// Bytes a zigzag varint of `v` takes.
#[inline]
pub fn varint_len(v: i32) -> usize {
    varlong_len(i64::from(v))
}

/// Bytes a zigzag varlong of `v` takes.
#[inline]
pub fn varlong_len(v: i64) -> usize {
    let z = ((v << 1) ^ (v >> 63)) as u64;
    // 1 + floor(bits / 7), with 0 taking one byte.
    let bits = 64 - (z | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Writes the zigzag varint of `v` into `out` at `pos`, returning the new position. `out` must
/// have room for 5 bytes after `pos`.
#[inline]
pub fn put_varint(out: &mut [u8], pos: usize, v: i32) -> usize {
    put_varlong(out, pos, i64::from(v))
}

/// Writes the zigzag varlong of `v` into `out` at `pos`, returning the new position. `out` must
/// have room for 10 bytes after `pos`.
#[inline]
pub fn put_varlong(out: &mut [u8], mut pos: usize, v: i64) -> usize {
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    while z >= 0x80 {
        out[pos] = (z as u8) | 0x80;
        z >>= 7;
        pos += 1;
    }
    out[pos] = z as u8;
    pos + 1
}

/// Appends the zigzag varint of `v` to `out`.
#[inline]
pub fn write_varint(out: &mut Vec<u8>, v: i32) {
    let mut tmp = [0u8; 5];
    let n = put_varint(&mut tmp, 0, v);
    out.extend_from_slice(&tmp[..n]);
}

/// A forward-only reader over a byte slice. Every read checks the remaining length first and
/// fails with a typed [`WireError`] instead of panicking.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    #[inline]
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Current position from the start of the buffer (bytes).
    #[inline]
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes left to read.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    #[inline]
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], WireError> {
        let slice = self
            .pos
            .checked_add(n)
            .and_then(|end| self.buf.get(self.pos..end));
        match slice {
            Some(s) => {
                self.pos += n;
                Ok(s)
            }
            None => Err(WireError::Truncated {
                what,
                needed: n,
                remaining: self.remaining(),
            }),
        }
    }

    #[inline]
    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], WireError> {
        let s = self.take(N, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    /// Reads one byte as `i8`.
    #[inline]
    pub fn i8(&mut self, what: &'static str) -> Result<i8, WireError> {
        Ok(self.array::<1>(what)?[0] as i8)
    }

    /// Reads a big-endian `i16`.
    #[inline]
    pub fn i16(&mut self, what: &'static str) -> Result<i16, WireError> {
        Ok(i16::from_be_bytes(self.array(what)?))
    }

    /// Reads a big-endian `i32`.
    #[inline]
    pub fn i32(&mut self, what: &'static str) -> Result<i32, WireError> {
        Ok(i32::from_be_bytes(self.array(what)?))
    }

    /// Reads a big-endian `u32`.
    #[inline]
    pub fn u32(&mut self, what: &'static str) -> Result<u32, WireError> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }

    /// Reads a big-endian `i64`.
    #[inline]
    pub fn i64(&mut self, what: &'static str) -> Result<i64, WireError> {
        Ok(i64::from_be_bytes(self.array(what)?))
    }

    /// Skips `n` bytes, returning the range they occupy.
    #[inline]
    pub fn skip(
        &mut self,
        n: usize,
        what: &'static str,
    ) -> Result<std::ops::Range<usize>, WireError> {
        let start = self.pos;
        self.take(n, what)?;
        Ok(start..self.pos)
    }

    /// Reads a zigzag varint (at most 5 bytes). Like Java's `ByteUtils.readVarint`, bits beyond
    /// 32 in the fifth byte are dropped; a fifth byte with its continuation bit set is invalid.
    #[inline]
    pub fn varint(&mut self) -> Result<i32, WireError> {
        // Fast path: one byte covers -64..=63, the common case for deltas and short lengths.
        if let Some(&b) = self.buf.get(self.pos) {
            if b < 0x80 {
                self.pos += 1;
                return Ok(((b >> 1) as i32) ^ -((b & 1) as i32));
            }
        }
        let mut z: u32 = 0;
        for i in 0..5 {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(WireError::Truncated {
                    what: "varint",
                    needed: 1,
                    remaining: 0,
                });
            };
            self.pos += 1;
            z |= u32::from(b & 0x7f).wrapping_shl(7 * i);
            if b < 0x80 {
                return Ok(((z >> 1) as i32) ^ -((z & 1) as i32));
            }
        }
        Err(WireError::InvalidVarint)
    }

    /// Reads a zigzag varlong (at most 10 bytes), with the same rules as [`Reader::varint`].
    #[inline]
    pub fn varlong(&mut self) -> Result<i64, WireError> {
        if let Some(&b) = self.buf.get(self.pos) {
            if b < 0x80 {
                self.pos += 1;
                return Ok(((b >> 1) as i64) ^ -((b & 1) as i64));
            }
        }
        let mut z: u64 = 0;
        for i in 0..10 {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(WireError::Truncated {
                    what: "varlong",
                    needed: 1,
                    remaining: 0,
                });
            };
            self.pos += 1;
            z |= u64::from(b & 0x7f).wrapping_shl(7 * i);
            if b < 0x80 {
                return Ok(((z >> 1) as i64) ^ -((z & 1) as i64));
            }
        }
        Err(WireError::InvalidVarint)
    }

    /// Reads a varint length followed by that many bytes; `-1` means null. Returns the range of
    /// the bytes so callers can slice a shared buffer without copying.
    #[inline]
    pub fn nullable_bytes(
        &mut self,
        what: &'static str,
    ) -> Result<Option<std::ops::Range<usize>>, WireError> {
        let len = self.varint()?;
        self.sized(len, what)
    }

    /// Like [`Reader::nullable_bytes`] with a big-endian `i32` length (legacy message sets).
    #[inline]
    pub fn nullable_bytes_i32(
        &mut self,
        what: &'static str,
    ) -> Result<Option<std::ops::Range<usize>>, WireError> {
        let len = self.i32(what)?;
        self.sized(len, what)
    }

    #[inline]
    fn sized(
        &mut self,
        len: i32,
        what: &'static str,
    ) -> Result<Option<std::ops::Range<usize>>, WireError> {
        if len < 0 {
            if len == -1 {
                return Ok(None);
            }
            return Err(WireError::NegativeLength {
                what,
                len: len.into(),
            });
        }
        let len = len as usize;
        if len > self.remaining() {
            return Err(WireError::LengthOverflow {
                what,
                len: len as i64,
                remaining: self.remaining(),
            });
        }
        let start = self.pos;
        self.pos += len;
        Ok(Some(start..self.pos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(v: i64) -> Vec<u8> {
        let mut b = [0u8; 10];
        let n = put_varlong(&mut b, 0, v);
        assert_eq!(n, varlong_len(v));
        b[..n].to_vec()
    }

    #[test]
    fn zigzag_golden() {
        // Values from the protobuf encoding guide and Kafka's ByteUtilsTest.
        assert_eq!(enc(0), [0x00]);
        assert_eq!(enc(-1), [0x01]);
        assert_eq!(enc(1), [0x02]);
        assert_eq!(enc(-64), [0x7f]);
        assert_eq!(enc(64), [0x80, 0x01]);
        assert_eq!(enc(300), [0xd8, 0x04]);
        assert_eq!(enc(i32::MAX as i64), [0xfe, 0xff, 0xff, 0xff, 0x0f]);
        assert_eq!(enc(i32::MIN as i64), [0xff, 0xff, 0xff, 0xff, 0x0f]);
        assert_eq!(enc(i64::MIN).len(), 10);
        assert_eq!(enc(i64::MAX).len(), 10);
    }

    #[test]
    fn round_trip_edges() {
        for v in [
            0i64,
            1,
            -1,
            63,
            -64,
            64,
            -65,
            8191,
            -8192,
            i32::MAX as i64,
            i32::MIN as i64,
            i64::MAX,
            i64::MIN,
        ] {
            let b = enc(v);
            assert_eq!(Reader::new(&b).varlong().unwrap(), v);
            if let Ok(v32) = i32::try_from(v) {
                assert_eq!(Reader::new(&b).varint().unwrap(), v32);
                assert_eq!(varint_len(v32), b.len());
            }
        }
    }

    #[test]
    fn bad_varints() {
        assert_eq!(
            Reader::new(&[0xff; 5]).varint(),
            Err(WireError::InvalidVarint)
        );
        assert_eq!(
            Reader::new(&[0xff; 10]).varlong(),
            Err(WireError::InvalidVarint)
        );
        assert!(matches!(
            Reader::new(&[0x80, 0x80]).varint(),
            Err(WireError::Truncated { .. })
        ));
        assert!(matches!(
            Reader::new(&[]).varlong(),
            Err(WireError::Truncated { .. })
        ));
    }

    #[test]
    fn lengths_are_checked() {
        // length 3 (zigzag 6) with only 2 bytes behind it
        let mut r = Reader::new(&[0x06, 1, 2]);
        assert!(matches!(
            r.nullable_bytes("key"),
            Err(WireError::LengthOverflow { len: 3, .. })
        ));
        // length -2 (zigzag 3)
        let mut r = Reader::new(&[0x03]);
        assert!(matches!(
            r.nullable_bytes("key"),
            Err(WireError::NegativeLength { len: -2, .. })
        ));
        let mut r = Reader::new(&[0x01]);
        assert_eq!(r.nullable_bytes("key").unwrap(), None);
        assert!(matches!(
            Reader::new(&[0, 0, 0]).i32("x"),
            Err(WireError::Truncated {
                needed: 4,
                remaining: 3,
                ..
            })
        ));
    }
}
