//! Request header v0–v2 and response header v0–v1 (Kafka protocol guide, "Headers"; flexible
//! versions and tagged fields from KIP-482).
//!
//! Which header version a message uses follows from its API key and version: flexible message
//! versions use request header v2 and response header v1 (ApiVersions responses excepted, which
//! always use response header v0 so that old clients can read them).

use bytes::{Buf, BufMut, Bytes};

use crate::WireError;

/// A request header as it goes on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHeader<'a> {
    /// The API key of the request (Kafka protocol guide, "Api Keys").
    pub api_key: i16,
    /// The version of the request body.
    pub api_version: i16,
    /// Echoed back by the broker in the response header.
    pub correlation_id: i32,
    /// `client.id`; written from header v1 on, `None` is a null string.
    pub client_id: Option<&'a str>,
}

impl RequestHeader<'_> {
    /// Appends the header in `header_version` (0, 1 or 2) to `out`.
    ///
    /// # Errors
    /// [`WireError::InvalidVersion`] for another header version, [`WireError::Invalid`] for a
    /// client id longer than 32767 bytes.
    pub fn encode(&self, header_version: i16, out: &mut impl BufMut) -> Result<(), WireError> {
        if !(0..=2).contains(&header_version) {
            return Err(WireError::InvalidVersion {
                api: "RequestHeader",
                version: header_version,
            });
        }
        out.put_i16(self.api_key);
        out.put_i16(self.api_version);
        out.put_i32(self.correlation_id);
        if header_version >= 1 {
            // The client id stays a classic (non-compact) nullable string even in header v2.
            match self.client_id {
                None => out.put_i16(-1),
                Some(id) => {
                    let len = i16::try_from(id.len()).map_err(|_| WireError::Invalid {
                        what: "client id",
                        detail: format!("{} bytes is longer than 32767", id.len()),
                    })?;
                    out.put_i16(len);
                    out.put_slice(id.as_bytes());
                }
            }
        }
        if header_version >= 2 {
            put_unsigned_varint(out, 0); // no tagged fields
        }
        Ok(())
    }
}

/// A request header read back from bytes (used by test fixtures that play the broker).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedRequestHeader {
    /// API key.
    pub api_key: i16,
    /// API version.
    pub api_version: i16,
    /// Correlation id.
    pub correlation_id: i32,
    /// Client id (header v1+), `None` when null or absent.
    pub client_id: Option<Bytes>,
}

/// Reads a request header of `header_version` from the front of `buf`.
///
/// # Errors
/// [`WireError::Truncated`] when the header is cut short, [`WireError::InvalidVarint`] and
/// [`WireError::LengthOverflow`] for malformed tagged fields.
pub fn decode_request_header(
    buf: &mut Bytes,
    header_version: i16,
) -> Result<DecodedRequestHeader, WireError> {
    need(buf, 8, "request header")?;
    let api_key = buf.get_i16();
    let api_version = buf.get_i16();
    let correlation_id = buf.get_i32();
    let mut client_id = None;
    if header_version >= 1 {
        need(buf, 2, "client id length")?;
        let len = buf.get_i16();
        if len >= 0 {
            need(buf, len as usize, "client id")?;
            client_id = Some(buf.split_to(len as usize));
        }
    }
    if header_version >= 2 {
        skip_tagged_fields(buf)?;
    }
    Ok(DecodedRequestHeader {
        api_key,
        api_version,
        correlation_id,
        client_id,
    })
}

/// Reads a response header of `header_version` (0 or 1) from the front of `buf` and returns
/// its correlation id; tagged fields of v1 are skipped.
///
/// # Errors
/// [`WireError::Truncated`], [`WireError::InvalidVarint`] or [`WireError::LengthOverflow`].
pub fn decode_response_header(buf: &mut Bytes, header_version: i16) -> Result<i32, WireError> {
    need(buf, 4, "correlation id")?;
    let correlation_id = buf.get_i32();
    if header_version >= 1 {
        skip_tagged_fields(buf)?;
    }
    Ok(correlation_id)
}

/// Appends a response header (used by test fixtures that play the broker).
pub fn encode_response_header(correlation_id: i32, header_version: i16, out: &mut impl BufMut) {
    out.put_i32(correlation_id);
    if header_version >= 1 {
        put_unsigned_varint(out, 0);
    }
}

/// Skips a tagged-field section (KIP-482): a count, then per field a tag, a size and the data.
///
/// # Errors
/// [`WireError::InvalidVarint`], [`WireError::LengthOverflow`] when a field runs past the end.
pub fn skip_tagged_fields(buf: &mut Bytes) -> Result<(), WireError> {
    let count = get_unsigned_varint(buf)?;
    for _ in 0..count {
        let _tag = get_unsigned_varint(buf)?;
        let size = get_unsigned_varint(buf)? as usize;
        if size > buf.remaining() {
            return Err(WireError::LengthOverflow {
                what: "tagged field",
                len: size as i64,
                remaining: buf.remaining(),
            });
        }
        buf.advance(size);
    }
    Ok(())
}

/// Reads an unsigned varint (protobuf style, at most 5 bytes for 32 bits).
///
/// # Errors
/// [`WireError::InvalidVarint`] past 5 bytes, [`WireError::Truncated`] when the input ends.
pub fn get_unsigned_varint(buf: &mut impl Buf) -> Result<u32, WireError> {
    let mut value: u32 = 0;
    for i in 0..5 {
        if !buf.has_remaining() {
            return Err(WireError::Truncated {
                what: "varint",
                needed: 1,
                remaining: 0,
            });
        }
        let b = buf.get_u8();
        if i == 4 && b > 0x0f {
            return Err(WireError::InvalidVarint);
        }
        value |= u32::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(WireError::InvalidVarint)
}

/// Appends an unsigned varint.
pub fn put_unsigned_varint(out: &mut impl BufMut, mut value: u32) {
    while value >= 0x80 {
        out.put_u8((value as u8) | 0x80);
        value >>= 7;
    }
    out.put_u8(value as u8);
}

fn need(buf: &Bytes, n: usize, what: &'static str) -> Result<(), WireError> {
    if buf.remaining() < n {
        Err(WireError::Truncated {
            what,
            needed: n,
            remaining: buf.remaining(),
        })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;

    fn header() -> RequestHeader<'static> {
        RequestHeader {
            api_key: 18,
            api_version: 3,
            correlation_id: 7,
            client_id: Some("rafka"),
        }
    }

    #[test]
    fn request_header_versions_exact_bytes() {
        let mut v0 = BytesMut::new();
        header().encode(0, &mut v0).unwrap();
        assert_eq!(&v0[..], &[0, 18, 0, 3, 0, 0, 0, 7]);
        let mut v1 = BytesMut::new();
        header().encode(1, &mut v1).unwrap();
        assert_eq!(&v1[..], b"\x00\x12\x00\x03\x00\x00\x00\x07\x00\x05rafka");
        let mut v2 = BytesMut::new();
        header().encode(2, &mut v2).unwrap();
        assert_eq!(
            &v2[..],
            b"\x00\x12\x00\x03\x00\x00\x00\x07\x00\x05rafka\x00"
        );
        let mut null = BytesMut::new();
        RequestHeader {
            client_id: None,
            ..header()
        }
        .encode(1, &mut null)
        .unwrap();
        assert_eq!(&null[8..], &[0xff, 0xff]);
    }

    #[test]
    fn request_header_round_trip() {
        let mut v2 = BytesMut::new();
        header().encode(2, &mut v2).unwrap();
        let mut b = v2.freeze();
        let h = decode_request_header(&mut b, 2).unwrap();
        assert_eq!(h.api_key, 18);
        assert_eq!(h.correlation_id, 7);
        assert_eq!(h.client_id.as_deref(), Some(&b"rafka"[..]));
        assert!(b.is_empty());
    }

    #[test]
    fn bad_header_version_is_an_error() {
        assert!(header().encode(3, &mut BytesMut::new()).is_err());
    }

    #[test]
    fn response_header_skips_tagged_fields() {
        // correlation id 9, two tagged fields (tag 0 size 2, tag 5 size 0), then body byte 0xAA.
        let mut b = Bytes::from_static(&[0, 0, 0, 9, 2, 0, 2, 1, 2, 5, 0, 0xAA]);
        assert_eq!(decode_response_header(&mut b, 1).unwrap(), 9);
        assert_eq!(&b[..], &[0xAA]);
    }

    #[test]
    fn tagged_field_overrunning_is_an_error() {
        let mut b = Bytes::from_static(&[0, 0, 0, 9, 1, 0, 200, 1]);
        assert!(matches!(
            decode_response_header(&mut b, 1),
            Err(WireError::LengthOverflow { .. })
        ));
    }

    #[test]
    fn varints() {
        for v in [0u32, 1, 127, 128, 300, 16_383, 16_384, u32::MAX] {
            let mut out = BytesMut::new();
            put_unsigned_varint(&mut out, v);
            let mut b = out.freeze();
            assert_eq!(get_unsigned_varint(&mut b).unwrap(), v);
            assert!(b.is_empty());
        }
        let mut too_long = Bytes::from_static(&[0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
        assert_eq!(
            get_unsigned_varint(&mut too_long),
            Err(WireError::InvalidVarint)
        );
        let mut cut = Bytes::from_static(&[0x80]);
        assert!(matches!(
            get_unsigned_varint(&mut cut),
            Err(WireError::Truncated { .. })
        ));
    }
}
