//! Kafka framing: every request and response is a 4-byte big-endian size followed by that many
//! bytes (Kafka protocol guide, "Common Request and Response Structure").
//!
//! Decoding is check-then-parse: a partial frame is `Ok(None)` ("need more bytes"), and a size
//! over the configured maximum is an error before anything is allocated or consumed.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::WireError;

/// Default maximum frame size: 100 MiB, Java's `socket.request.max.bytes` default.
pub const DEFAULT_MAX_FRAME_SIZE: usize = 100 * 1024 * 1024;

/// Length of the size prefix in bytes.
pub const SIZE_PREFIX_LEN: usize = 4;

/// Splits one whole frame off the front of `buf` and returns its payload (without the size
/// prefix). Returns `Ok(None)` and leaves `buf` untouched when the frame is not complete yet.
///
/// # Errors
/// [`WireError::NegativeLength`] for a negative size and [`WireError::FrameTooLarge`] for a
/// size over `max_frame_size` bytes; `buf` is left untouched in both cases.
pub fn decode_frame(buf: &mut BytesMut, max_frame_size: usize) -> Result<Option<Bytes>, WireError> {
    let Some(size) = frame_size(buf, max_frame_size)? else {
        return Ok(None);
    };
    if buf.len() < SIZE_PREFIX_LEN + size {
        // Reserve for the rest now the size is known to be sane, so the reader fills it in one go.
        buf.reserve(SIZE_PREFIX_LEN + size - buf.len());
        return Ok(None);
    }
    buf.advance(SIZE_PREFIX_LEN);
    Ok(Some(buf.split_to(size).freeze()))
}

/// Reads and checks the size prefix at the front of `buf` without consuming anything: the
/// payload size in bytes, or `Ok(None)` when fewer than 4 bytes are there.
///
/// # Errors
/// As [`decode_frame`].
pub fn frame_size(buf: &[u8], max_frame_size: usize) -> Result<Option<usize>, WireError> {
    let Some(prefix) = buf.get(..SIZE_PREFIX_LEN) else {
        return Ok(None);
    };
    let size = i32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]);
    if size < 0 {
        return Err(WireError::NegativeLength {
            what: "frame size",
            len: size.into(),
        });
    }
    let size = size as usize;
    if size > max_frame_size {
        return Err(WireError::FrameTooLarge {
            size,
            max: max_frame_size,
        });
    }
    Ok(Some(size))
}

/// Appends `payload` to `out` as one frame.
///
/// # Errors
/// [`WireError::FrameTooLarge`] when the payload does not fit an `i32` size.
pub fn encode_frame(payload: &[u8], out: &mut BytesMut) -> Result<(), WireError> {
    let size = i32::try_from(payload.len()).map_err(|_| WireError::FrameTooLarge {
        size: payload.len(),
        max: i32::MAX as usize,
    })?;
    out.reserve(SIZE_PREFIX_LEN + payload.len());
    out.put_i32(size);
    out.put_slice(payload);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_prefix_needs_more() {
        let mut buf = BytesMut::from(&[0u8, 0, 0][..]);
        assert_eq!(decode_frame(&mut buf, 1024).unwrap(), None);
        assert_eq!(buf.len(), 3);
    }

    #[test]
    fn partial_body_needs_more_and_keeps_bytes() {
        let mut buf = BytesMut::from(&[0u8, 0, 0, 5, 1, 2][..]);
        assert_eq!(decode_frame(&mut buf, 1024).unwrap(), None);
        assert_eq!(&buf[..], &[0, 0, 0, 5, 1, 2]);
        buf.extend_from_slice(&[3, 4, 5, 9]);
        let frame = decode_frame(&mut buf, 1024).unwrap().unwrap();
        assert_eq!(&frame[..], &[1, 2, 3, 4, 5]);
        assert_eq!(&buf[..], &[9]);
    }

    #[test]
    fn oversized_frame_rejected_before_allocation() {
        let mut buf = BytesMut::from(&[0x7fu8, 0xff, 0xff, 0xff][..]);
        let cap = buf.capacity();
        assert_eq!(
            decode_frame(&mut buf, 1024),
            Err(WireError::FrameTooLarge {
                size: i32::MAX as usize,
                max: 1024
            })
        );
        assert_eq!(buf.capacity(), cap);
        assert_eq!(buf.len(), 4);
    }

    #[test]
    fn negative_size_rejected() {
        let mut buf = BytesMut::from(&[0xffu8, 0xff, 0xff, 0xfe][..]);
        assert_eq!(
            decode_frame(&mut buf, 1024),
            Err(WireError::NegativeLength {
                what: "frame size",
                len: -2
            })
        );
    }

    #[test]
    fn encode_then_decode() {
        let mut out = BytesMut::new();
        encode_frame(b"hello", &mut out).unwrap();
        assert_eq!(&out[..], b"\x00\x00\x00\x05hello");
        assert_eq!(&decode_frame(&mut out, 5).unwrap().unwrap()[..], b"hello");
        assert!(out.is_empty());
    }

    #[test]
    fn empty_frame() {
        let mut buf = BytesMut::from(&[0u8, 0, 0, 0][..]);
        assert_eq!(&decode_frame(&mut buf, 0).unwrap().unwrap()[..], b"");
    }
}
