//! [`RawConnection`]: a minimal Kafka connection for fixture tests that must see exact protocol
//! behaviour (error codes, versions, closed sockets) without rafka's client in the way.
//!
//! It speaks through `kafka-protocol`'s message types: one request at a time, any version.

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, Request, StrBytes};
use kafka_protocol::records::{
    Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use anyhow::{bail, Context};

/// One TCP connection to a broker (or a virtual broker of the proxy).
#[derive(Debug)]
pub struct RawConnection {
    stream: TcpStream,
    next_correlation_id: i32,
}

impl RawConnection {
    /// Connects to `addr` (`host:port`).
    ///
    /// # Errors
    /// When the connection fails (refused, unreachable).
    pub async fn connect(addr: &str) -> anyhow::Result<RawConnection> {
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true)?;
        Ok(RawConnection {
            stream,
            next_correlation_id: 1,
        })
    }

    /// Sends `req` at `version` and waits for its response.
    ///
    /// # Errors
    /// When encoding fails, the connection closes before a whole response arrives, the
    /// correlation id does not match, or the response does not decode.
    pub async fn call<R: Request>(&mut self, version: i16, req: &R) -> anyhow::Result<R::Response> {
        let correlation_id = self.send(version, req).await?;
        let mut frame = self
            .read_frame()
            .await?
            .context("connection closed before the response")?;
        let api_key = ApiKey::try_from(R::KEY).map_err(|_| anyhow::anyhow!("unknown key"))?;
        let header = ResponseHeader::decode(&mut frame, api_key.response_header_version(version))?;
        if header.correlation_id != correlation_id {
            bail!(
                "correlation id {} in response to request {correlation_id}",
                header.correlation_id
            );
        }
        R::Response::decode(&mut frame, version)
    }

    /// Sends `req` at `version` without reading anything; returns its correlation id.
    ///
    /// # Errors
    /// When encoding or writing fails.
    pub async fn send<R: Request>(&mut self, version: i16, req: &R) -> anyhow::Result<i32> {
        let correlation_id = self.next_correlation_id;
        self.next_correlation_id += 1;
        let header = RequestHeader::default()
            .with_request_api_key(R::KEY)
            .with_request_api_version(version)
            .with_correlation_id(correlation_id)
            .with_client_id(Some(StrBytes::from_static_str("rafka-fixture")));
        let mut body = BytesMut::new();
        header.encode(&mut body, R::header_version(version))?;
        req.encode(&mut body, version)?;
        let mut frame = BytesMut::with_capacity(4 + body.len());
        frame.put_i32(body.len() as i32);
        frame.put_slice(&body);
        self.stream.write_all(&frame).await?;
        Ok(correlation_id)
    }

    /// Reads one response frame's payload; `Ok(None)` when the peer closed the connection.
    ///
    /// # Errors
    /// On I/O errors other than a clean close (a reset counts as closed).
    pub async fn read_frame(&mut self) -> anyhow::Result<Option<Bytes>> {
        let mut size = [0u8; 4];
        match self.stream.read_exact(&mut size).await {
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset
                ) =>
            {
                return Ok(None)
            }
            Err(e) => return Err(e.into()),
        }
        let size = usize::try_from(i32::from_be_bytes(size)).context("negative frame size")?;
        let mut payload = vec![0u8; size];
        self.stream.read_exact(&mut payload).await?;
        Ok(Some(payload.into()))
    }
}

/// One uncompressed v2 record batch (not idempotent, not transactional) holding one key-less
/// record per value, for Produce requests built by hand.
///
/// # Errors
/// When `kafka-protocol`'s encoder fails.
pub fn record_batch(values: &[&[u8]]) -> anyhow::Result<Bytes> {
    let records: Vec<Record> = values
        .iter()
        .enumerate()
        .map(|(i, v)| Record {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: -1,
            producer_id: -1,
            producer_epoch: -1,
            timestamp_type: TimestampType::Creation,
            offset: i as i64,
            // kafka-protocol starts a new batch unless offset - sequence stays constant; the
            // batch's base sequence is the first record's, -1 as a non-idempotent batch needs.
            sequence: i as i32 - 1,
            timestamp: 1_700_000_000_000,
            key: None,
            value: Some(Bytes::copy_from_slice(v)),
            headers: Default::default(),
        })
        .collect();
    let mut buf = BytesMut::new();
    RecordBatchEncoder::encode(
        &mut buf,
        &records,
        &RecordEncodeOptions {
            version: 2,
            compression: Compression::None,
        },
    )?;
    Ok(buf.freeze())
}
