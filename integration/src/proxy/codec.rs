//! Frames and headers as the proxy needs them: whole frames in and out of sockets, the request
//! header's key/version/correlation id, and typed decode/encode of the bodies it rewrites.

use std::io;

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, ResponseHeader};
use kafka_protocol::protocol::{decode_request_header_from_buffer, Decodable, Encodable};
use rafka::wire::guard::GuardedResponse;
use rafka::wire::request::decode_body;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Largest frame the proxy accepts in bytes (Java's `socket.request.max.bytes`, 100 MiB).
const MAX_FRAME: usize = 100 * 1024 * 1024;

/// Reads one frame's payload (without the 4-byte size). `Ok(None)` on a clean EOF between frames.
pub(crate) async fn read_frame<R: AsyncRead + Unpin>(r: &mut R) -> io::Result<Option<Bytes>> {
    let mut size = [0u8; 4];
    match r.read_exact(&mut size).await {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let size = i32::from_be_bytes(size);
    let size = usize::try_from(size)
        .ok()
        .filter(|s| *s <= MAX_FRAME)
        .ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidData, format!("bad frame size {size}"))
        })?;
    let mut payload = vec![0u8; size];
    r.read_exact(&mut payload).await?;
    Ok(Some(payload.into()))
}

/// Writes `payload` with its size prefix.
pub(crate) async fn write_frame<W: AsyncWrite + Unpin>(
    w: &mut W,
    payload: &[u8],
) -> io::Result<()> {
    let mut buf = Vec::with_capacity(4 + payload.len());
    buf.extend_from_slice(&(payload.len() as i32).to_be_bytes());
    buf.extend_from_slice(payload);
    w.write_all(&buf).await
}

/// What the proxy needs from a request header.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Header {
    pub api_key: i16,
    pub version: i16,
    pub correlation_id: i32,
    /// The key, when `kafka-protocol` knows it.
    pub known: Option<ApiKey>,
    /// Header length in bytes (where the body starts), when the header decoded.
    pub len: Option<usize>,
}

/// Reads the request header at the front of `frame`. `None` when the frame is too short to hold
/// key, version and correlation id.
pub(crate) fn parse_header(frame: &Bytes) -> Option<Header> {
    let fixed = frame.get(..8)?;
    let api_key = i16::from_be_bytes([fixed[0], fixed[1]]);
    let version = i16::from_be_bytes([fixed[2], fixed[3]]);
    let correlation_id = i32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]);
    let known = ApiKey::try_from(api_key).ok();
    let len = known.and_then(|_| {
        let mut rest = frame.clone();
        decode_request_header_from_buffer(&mut rest).ok()?;
        Some(frame.len() - rest.len())
    });
    Some(Header {
        api_key,
        version,
        correlation_id,
        known,
        len,
    })
}

/// The request frame with the same header bytes and `body` re-encoded at the same version.
pub(crate) fn reencode_request<B: Encodable>(
    frame: &Bytes,
    header_len: usize,
    version: i16,
    body: &B,
) -> anyhow::Result<Bytes> {
    let mut out = BytesMut::with_capacity(frame.len());
    out.put_slice(&frame[..header_len]);
    body.encode(&mut out, version)?;
    Ok(out.freeze())
}

/// Decodes a response frame's header and body. The body goes through rafka's own
/// `decode_body`, so it is walked by the guard first and a bad count cannot make
/// kafka-protocol's decoder abort the test process (F1 in docs/fuzzing.md).
pub(crate) fn decode_response<B: Decodable + GuardedResponse>(
    key: ApiKey,
    version: i16,
    mut frame: Bytes,
) -> anyhow::Result<(ResponseHeader, B)> {
    let header = ResponseHeader::decode(&mut frame, key.response_header_version(version))?;
    let body = decode_body::<B>(&mut frame, version, "proxied response")?;
    Ok((header, body))
}

/// Encodes a response frame payload (no size prefix).
pub(crate) fn encode_response<B: Encodable>(
    key: ApiKey,
    version: i16,
    header: &ResponseHeader,
    body: &B,
) -> anyhow::Result<Bytes> {
    let mut out = BytesMut::new();
    header.encode(&mut out, key.response_header_version(version))?;
    body.encode(&mut out, version)?;
    Ok(out.freeze())
}
