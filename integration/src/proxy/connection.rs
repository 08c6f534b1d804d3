//! One client connection to one virtual broker, with its own upstream connection to Tansu.
//!
//! Requests are handled one at a time, in order, as a Kafka broker does (it reads the next
//! request of a connection only after answering the previous one), so responses need no
//! correlation-id bookkeeping.

use std::sync::Arc;

use bytes::Bytes;
use kafka_protocol::messages::{
    ApiKey, DescribeClusterResponse, FetchRequest, FindCoordinatorResponse, ListOffsetsRequest,
    MetadataResponse, ProduceRequest, ResponseHeader,
};
use kafka_protocol::protocol::Decodable;
use tokio::net::TcpStream;

use super::codec::{
    decode_response, encode_response, parse_header, read_frame, reencode_request, write_frame,
    Header,
};
use super::coordinator;
use super::leadership::LeaderRouted;
use super::rewrite;
use super::state::{LoggedRequest, Shared};

/// What to do with the client connection after a request.
enum Reply {
    /// Send this response payload.
    Frame(Bytes),
    /// No response is due (Produce acks=0; Tansu's answer is swallowed).
    Nothing,
    /// Close the connection (Kafka's answer to a failed acks=0 produce).
    Close,
}

/// Serves `client` until it disconnects, the upstream fails, or the node's connections are
/// dropped through the control API.
pub(crate) async fn serve(shared: Arc<Shared>, node: i32, client: TcpStream, upstream: String) {
    let mut disconnect = shared.disconnect[(node - 1) as usize].subscribe();
    let _ = client.set_nodelay(true);
    let mut conn = Conn {
        shared,
        node,
        upstream_addr: upstream,
        upstream: None,
    };
    tokio::select! {
        _ = disconnect.changed() => {}
        result = conn.run(client) => {
            if let Err(e) = result {
                tracing::debug!(node, error = %e, "proxy connection closed");
            }
        }
    }
}

struct Conn {
    shared: Arc<Shared>,
    node: i32,
    upstream_addr: String,
    upstream: Option<TcpStream>,
}

impl Conn {
    async fn run(&mut self, mut client: TcpStream) -> anyhow::Result<()> {
        while let Some(frame) = read_frame(&mut client).await? {
            let Some(h) = parse_header(&frame) else {
                anyhow::bail!("request frame of {} bytes has no header", frame.len());
            };
            let drop_response = {
                let mut inner = self.shared.lock();
                inner.log.push(LoggedRequest {
                    node: self.node,
                    api_key: h.api_key,
                    api_version: h.version,
                    correlation_id: h.correlation_id,
                });
                let pos = inner
                    .drop_next
                    .iter()
                    .position(|&(n, k)| n == self.node && k == h.api_key);
                pos.map(|i| inner.drop_next.remove(i)).is_some()
            };
            let reply = self.handle(&h, frame).await?;
            if drop_response {
                // The request reached Tansu and took effect; the client never learns of it.
                return Ok(());
            }
            match reply {
                Reply::Frame(payload) => write_frame(&mut client, &payload).await?,
                Reply::Nothing => {}
                Reply::Close => return Ok(()),
            }
        }
        Ok(())
    }

    async fn handle(&mut self, h: &Header, frame: Bytes) -> anyhow::Result<Reply> {
        let (Some(key), Some(header_len)) = (h.known, h.len) else {
            return self.forward_raw(frame).await;
        };
        if coordinator::is_group_request(key) && self.shared.lock().coordinator != self.node {
            let body = frame.slice(header_len..);
            if let Some(resp) = coordinator::refuse(key, h.version, h.correlation_id, body)? {
                return Ok(Reply::Frame(resp));
            }
        }
        match key {
            ApiKey::Produce => {
                self.leader_routed::<ProduceRequest>(h, header_len, frame)
                    .await
            }
            ApiKey::Fetch => {
                self.leader_routed::<FetchRequest>(h, header_len, frame)
                    .await
            }
            ApiKey::ListOffsets => {
                self.leader_routed::<ListOffsetsRequest>(h, header_len, frame)
                    .await
            }
            ApiKey::Metadata => {
                let Some(resp) = self.exchange(frame).await? else {
                    return Ok(Reply::Close);
                };
                let (hdr, mut body) = decode_response::<MetadataResponse>(key, h.version, resp)?;
                rewrite::metadata(&self.shared, &mut body, h.version);
                Ok(Reply::Frame(encode_response(key, h.version, &hdr, &body)?))
            }
            ApiKey::FindCoordinator => {
                let Some(resp) = self.exchange(frame).await? else {
                    return Ok(Reply::Close);
                };
                let (hdr, mut body) =
                    decode_response::<FindCoordinatorResponse>(key, h.version, resp)?;
                rewrite::find_coordinator(&self.shared, &mut body, h.version);
                Ok(Reply::Frame(encode_response(key, h.version, &hdr, &body)?))
            }
            ApiKey::DescribeCluster => {
                let Some(resp) = self.exchange(frame).await? else {
                    return Ok(Reply::Close);
                };
                let (hdr, mut body) =
                    decode_response::<DescribeClusterResponse>(key, h.version, resp)?;
                rewrite::describe_cluster(&self.shared, &mut body);
                Ok(Reply::Frame(encode_response(key, h.version, &hdr, &body)?))
            }
            _ => self.forward_raw(frame).await,
        }
    }

    async fn leader_routed<R: LeaderRouted>(
        &mut self,
        h: &Header,
        header_len: usize,
        frame: Bytes,
    ) -> anyhow::Result<Reply> {
        let Ok(mut req) = R::decode(&mut frame.slice(header_len..), h.version) else {
            // A version kafka-protocol cannot read: let Tansu judge it.
            return self.forward_raw(frame).await;
        };
        let expects_response = req.expects_response();
        let errors = req.split(&self.shared, self.node, h.version);
        if errors.is_empty() {
            if !R::CARRIES_EPOCHS {
                // Nothing to change: Produce records go through untouched, byte for byte.
                return self.forward_raw(frame).await;
            }
            // Only the cleared epochs differ; Tansu's answer goes back untouched.
            let out = reencode_request(&frame, header_len, h.version, &req)?;
            return Ok(match self.exchange(out).await? {
                Some(resp) => Reply::Frame(resp),
                None => Reply::Close,
            });
        }
        let mut body = R::Response::default();
        let mut header = ResponseHeader::default().with_correlation_id(h.correlation_id);
        if !req.is_empty() {
            let out = reencode_request(&frame, header_len, h.version, &req)?;
            let Some(resp) = self.exchange(out).await? else {
                return Ok(Reply::Close);
            };
            if expects_response {
                (header, body) = decode_response(R::KEY, h.version, resp)?;
            }
        }
        if !expects_response {
            // Kafka closes the connection of an acks=0 producer it must refuse, so that the
            // producer refreshes its metadata.
            return Ok(Reply::Close);
        }
        R::merge(&mut body, errors, &self.shared, h.version);
        Ok(Reply::Frame(encode_response(
            R::KEY,
            h.version,
            &header,
            &body,
        )?))
    }

    async fn forward_raw(&mut self, frame: Bytes) -> anyhow::Result<Reply> {
        let expects_response = produce_acks(&frame) != Some(0);
        match self.exchange(frame).await? {
            Some(resp) if expects_response => Ok(Reply::Frame(resp)),
            // Tansu answers acks=0 produces, Kafka does not: the client must not see it.
            Some(_) => Ok(Reply::Nothing),
            None => Ok(Reply::Close),
        }
    }

    /// Sends a request upstream and reads its response. Tansu answers every request, even
    /// Produce with acks=0 (docs/brokers.md), so there is always one to read. `Ok(None)` when the
    /// upstream closed instead of answering (the upstream connection is then forgotten).
    async fn exchange(&mut self, frame: Bytes) -> anyhow::Result<Option<Bytes>> {
        let up = match self.upstream.take() {
            Some(s) => self.upstream.insert(s),
            None => {
                let s = TcpStream::connect(&self.upstream_addr).await?;
                let _ = s.set_nodelay(true);
                self.upstream.insert(s)
            }
        };
        write_frame(up, &frame).await?;
        let resp = read_frame(up).await?;
        if resp.is_none() {
            self.upstream = None;
        }
        Ok(resp)
    }
}

/// The acks of a Produce request frame, `None` for other requests or unreadable ones.
fn produce_acks(frame: &Bytes) -> Option<i16> {
    let h = parse_header(frame)?;
    if h.known != Some(ApiKey::Produce) {
        return None;
    }
    let req = ProduceRequest::decode(&mut frame.slice(h.len?..), h.version).ok()?;
    Some(req.acks)
}
