//! One pipelined connection to one broker.
//!
//! # Layout
//! - [`inflight`]: the correlation-id table (sans-IO).
//! - [`reconnect`]: reconnect backoff (sans-IO).
//! - [`throttle`]: `throttle_time_ms` of every response (KIP-219).
//! - [`handshake`]: TCP/TLS connect, ApiVersions, SASL: [`handshake::Connector`].
//! - this file: [`Connection`], the thin tokio driver.
//!
//! # How a request travels
//! The caller registers a waiter in the in-flight table (getting its correlation id), encodes
//! the frame in its own task and queues it for the writer task, which batches queued frames
//! into few socket writes. The reader task splits the byte stream into frames, peeks each
//! correlation id and hands the frame to the waiter, which decodes it — again in the caller's
//! task, so decoding of big Fetch responses runs in parallel with other work.
//!
//! A request future that is dropped removes its slot (drop guard); a late response for it is
//! discarded. When either task fails, the table is closed and every waiter gets the same
//! error. A request that times out (`request.timeout.ms`) closes the connection, as Java does,
//! because a broker that stopped answering one request is not trusted with the next.

pub mod handshake;
pub mod inflight;
pub mod reconnect;
pub mod throttle;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use rafka_wire::negotiate::BrokerVersions;
use rafka_wire::request::{decode_response, encode_request, peek_correlation_id, KafkaRequest};
use rafka_wire::WireError;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufWriter};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::Instrument;

use crate::error::{ApiRef, BrokerRef, Error};
use inflight::{InFlight, Matched};
use throttle::ThrottleTime;

/// Requests queued for the writer task before callers wait (backpressure).
const WRITE_QUEUE: usize = 256;
/// Writes are gathered up to this many bytes before a flush.
const WRITE_BUFFER: usize = 64 * 1024;

type Waiter = oneshot::Sender<Result<Bytes, Error>>;

struct WriteJob {
    frame: Bytes,
    /// Told once the frame is flushed, for requests without a response.
    written: Option<oneshot::Sender<()>>,
}

struct Shared {
    broker: BrokerRef,
    client_id: Arc<str>,
    inflight: Mutex<InFlight<Waiter>>,
    versions: OnceLock<BrokerVersions>,
    request_timeout: Duration,
    last_used: Mutex<Instant>,
    throttled_until: Mutex<Option<Instant>>,
    shutdown: tokio_util::sync::CancellationToken,
}

impl Shared {
    fn close(&self, error: Error) {
        let pending = self
            .inflight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .close(error.clone());
        for p in pending {
            let e = match &error {
                Error::ConnectionClosed { broker, .. } => Error::ConnectionClosed {
                    broker: broker.clone(),
                    api: Some(p.api),
                },
                other => other.clone(),
            };
            let _ = p.waiter.send(Err(e));
        }
        self.shutdown.cancel();
    }

    fn closed_error(&self) -> Error {
        self.inflight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .closed()
            .cloned()
            .unwrap_or_else(|| Error::ConnectionClosed {
                broker: self.broker.clone(),
                api: None,
            })
    }
}

/// Settings of one connection, taken from [`crate::ClientConfig`].
#[derive(Debug, Clone)]
pub struct ConnectionSettings {
    /// `client.id` for request headers.
    pub client_id: Arc<str>,
    /// `request.timeout.ms`.
    pub request_timeout: Duration,
    /// Largest response frame accepted, bytes.
    pub max_frame_size: usize,
}

/// A live connection to one broker; requests on it are pipelined. Dropping it closes the
/// socket and fails whatever is still in flight with [`Error::ConnectionClosed`].
pub struct Connection {
    shared: Arc<Shared>,
    writer: mpsc::Sender<WriteJob>,
    tasks: [JoinHandle<()>; 2],
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("broker", &self.shared.broker)
            .field("alive", &self.is_alive())
            .finish()
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.shared.close(Error::ConnectionClosed {
            broker: self.shared.broker.clone(),
            api: None,
        });
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Removes a request's slot unless its response arrived: runs when the caller's future is
/// dropped or gives up.
struct SlotGuard<'a> {
    shared: &'a Shared,
    correlation_id: i32,
    armed: bool,
}

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.shared
                .inflight
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .cancel(self.correlation_id);
        }
    }
}

impl Connection {
    /// Starts the reader and writer tasks on an established byte stream (TCP, TLS or an
    /// in-memory duplex in tests). ApiVersions has not been exchanged yet: see
    /// [`Connection::set_versions`].
    pub fn start<S>(stream: S, broker: BrokerRef, settings: &ConnectionSettings) -> Connection
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (rd, wr) = tokio::io::split(stream);
        let (tx, rx) = mpsc::channel(WRITE_QUEUE);
        let shared = Arc::new(Shared {
            broker,
            client_id: settings.client_id.clone(),
            inflight: Mutex::new(InFlight::new()),
            versions: OnceLock::new(),
            request_timeout: settings.request_timeout,
            last_used: Mutex::new(crate::now()),
            throttled_until: Mutex::new(None),
            shutdown: tokio_util::sync::CancellationToken::new(),
        });
        let reader = tokio::spawn(read_loop(shared.clone(), rd, settings.max_frame_size));
        let writer = tokio::spawn(write_loop(shared.clone(), wr, rx));
        Connection {
            shared,
            writer: tx,
            tasks: [reader, writer],
        }
    }

    /// The broker this connection talks to.
    pub fn broker(&self) -> &BrokerRef {
        &self.shared.broker
    }

    /// False once the connection failed or was closed.
    pub fn is_alive(&self) -> bool {
        self.shared
            .inflight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .closed()
            .is_none()
    }

    /// Requests waiting for a response.
    pub fn in_flight(&self) -> usize {
        self.shared
            .inflight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    /// When the last request was sent.
    pub fn last_used(&self) -> Instant {
        *self
            .shared
            .last_used
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Records the broker's API versions (from ApiVersions); done once by the handshake.
    pub fn set_versions(&self, versions: BrokerVersions) {
        let _ = self.shared.versions.set(versions);
    }

    /// The API versions the broker advertised, once known.
    pub fn versions(&self) -> Option<&BrokerVersions> {
        self.shared.versions.get()
    }

    /// The version of `R` to use with this broker: the highest both sides speak.
    ///
    /// # Errors
    /// [`Error::NoCommonVersion`] when the broker lacks the API or the ranges do not meet.
    pub fn version_of<R: KafkaRequest>(&self) -> Result<i16, Error> {
        self.version_of_at_most::<R>(None)
    }

    /// [`Connection::version_of`], at most `max` when given.
    ///
    /// # Errors
    /// As [`Connection::version_of`]; also when the broker speaks only versions above `max`.
    pub fn version_of_at_most<R: KafkaRequest>(&self, max: Option<i16>) -> Result<i16, Error> {
        let versions = self.versions().ok_or_else(|| Error::NoCommonVersion {
            broker: self.shared.broker.clone(),
            source: WireError::UnsupportedApi { api: R::NAME },
        })?;
        versions
            .choose_at_most::<R>(max)
            .map_err(|source| Error::NoCommonVersion {
                broker: self.shared.broker.clone(),
                source,
            })
    }

    /// Closes the connection: every waiter gets `error`.
    pub fn close(&self, error: Error) {
        self.shared.close(error);
    }

    /// Sends `req` at the negotiated version and waits for the response, within
    /// `request.timeout.ms`.
    ///
    /// # Errors
    /// As [`Connection::send_versioned`], plus [`Error::NoCommonVersion`].
    pub async fn send<R>(&self, req: &R) -> Result<R::Response, Error>
    where
        R: KafkaRequest,
        R::Response: ThrottleTime,
    {
        let version = self.version_of::<R>()?;
        self.send_versioned(req, version, self.shared.request_timeout)
            .await
    }

    /// Sends `req` at `version` and waits up to `timeout` for the response.
    ///
    /// # Errors
    /// [`Error::Wire`] when the request cannot be encoded or the response decoded;
    /// [`Error::Timeout`] when no response came in time (the connection is then closed);
    /// [`Error::Io`] / [`Error::ConnectionClosed`] when the connection failed.
    pub async fn send_versioned<R>(
        &self,
        req: &R,
        version: i16,
        timeout: Duration,
    ) -> Result<R::Response, Error>
    where
        R: KafkaRequest,
        R::Response: ThrottleTime,
    {
        let api = ApiRef {
            name: R::NAME,
            version,
        };
        let span = tracing::debug_span!(
            "kafka_request",
            api = R::NAME,
            version,
            broker = self.shared.broker.node_id,
            correlation_id = tracing::field::Empty,
            latency_us = tracing::field::Empty,
        );
        async move {
            let started = std::time::Instant::now();
            let frame = self
                .round_trip(api, timeout, |cid, out| {
                    tracing::Span::current().record("correlation_id", cid);
                    encode_request(req, version, cid, Some(&self.shared.client_id), out)
                })
                .await?;
            let (_, response) =
                decode_response::<R>(frame, version).map_err(|source| Error::Wire {
                    broker: self.shared.broker.clone(),
                    source,
                })?;
            let latency = started.elapsed();
            tracing::Span::current().record("latency_us", latency.as_micros() as u64);
            let throttle = response.throttle_time_ms();
            if throttle > 0 {
                tracing::debug!(
                    throttle_ms = throttle,
                    "broker throttled the connection (KIP-219)"
                );
                *self
                    .shared
                    .throttled_until
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) =
                    Some(crate::now() + Duration::from_millis(throttle as u64));
            }
            tracing::trace!(latency_us = latency.as_micros() as u64, "response");
            Ok(response)
        }
        .instrument(span)
        .await
    }

    /// Sends a request that gets no response (Produce with acks=0); returns once the frame is
    /// written to the socket.
    ///
    /// # Errors
    /// [`Error::Wire`] when the request cannot be encoded; the connection's error when it is
    /// closed before the frame was written.
    pub async fn send_no_response<R: KafkaRequest>(
        &self,
        req: &R,
        version: i16,
    ) -> Result<(), Error> {
        self.wait_throttle().await;
        let cid = self
            .shared
            .inflight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .next_id()?;
        let mut out = BytesMut::new();
        encode_request(req, version, cid, Some(&self.shared.client_id), &mut out).map_err(
            |source| Error::Wire {
                broker: self.shared.broker.clone(),
                source,
            },
        )?;
        let (tx, rx) = oneshot::channel();
        self.touch();
        self.writer
            .send(WriteJob {
                frame: out.freeze(),
                written: Some(tx),
            })
            .await
            .map_err(|_| self.shared.closed_error())?;
        rx.await.map_err(|_| self.shared.closed_error())
    }

    fn touch(&self) {
        *self
            .shared
            .last_used
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = crate::now();
    }

    async fn wait_throttle(&self) {
        let until = *self
            .shared
            .throttled_until
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(until) = until {
            if until > crate::now() {
                tokio::time::sleep_until(until.into()).await;
            }
        }
    }

    /// Registers a waiter, encodes with its correlation id, queues the frame and waits.
    async fn round_trip(
        &self,
        api: ApiRef,
        timeout: Duration,
        encode: impl FnOnce(i32, &mut BytesMut) -> Result<(), WireError>,
    ) -> Result<Bytes, Error> {
        self.wait_throttle().await;
        let (tx, rx) = oneshot::channel();
        let cid = self
            .shared
            .inflight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .register(api, tx)?;
        let mut guard = SlotGuard {
            shared: &self.shared,
            correlation_id: cid,
            armed: true,
        };
        let mut out = BytesMut::new();
        encode(cid, &mut out).map_err(|source| Error::Wire {
            broker: self.shared.broker.clone(),
            source,
        })?;
        self.touch();
        let job = WriteJob {
            frame: out.freeze(),
            written: None,
        };
        let wait = async {
            self.writer
                .send(job)
                .await
                .map_err(|_| self.shared.closed_error())?;
            match rx.await {
                Ok(result) => result,
                Err(_) => Err(self.shared.closed_error()),
            }
        };
        match tokio::time::timeout(timeout, wait).await {
            Ok(result) => {
                guard.armed = false;
                result
            }
            Err(_) => {
                let error = Error::Timeout {
                    broker: self.shared.broker.clone(),
                    what: api.to_string(),
                    after: timeout,
                };
                tracing::warn!(broker = %self.shared.broker, %api, ?timeout, "request timed out; closing connection");
                drop(guard);
                self.shared.close(error.clone());
                Err(error)
            }
        }
    }
}

async fn read_loop<R: AsyncRead>(shared: Arc<Shared>, rd: R, max_frame_size: usize) {
    let mut rd = std::pin::pin!(rd);
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let error = 'outer: loop {
        loop {
            match rafka_wire::frame::decode_frame(&mut buf, max_frame_size) {
                Ok(Some(frame)) => {
                    if let Err(e) = dispatch(&shared, frame) {
                        break 'outer e;
                    }
                }
                Ok(None) => break,
                Err(source) => {
                    break 'outer Error::Wire {
                        broker: shared.broker.clone(),
                        source,
                    }
                }
            }
        }
        tokio::select! {
            _ = shared.shutdown.cancelled() => return,
            read = rd.read_buf(&mut buf) => match read {
                Ok(0) => break Error::ConnectionClosed { broker: shared.broker.clone(), api: None },
                Ok(_) => {}
                Err(e) => break Error::Io { broker: shared.broker.clone(), source: Arc::new(e) },
            }
        }
    };
    tracing::debug!(broker = %shared.broker, error = %error, "connection closed by reader");
    shared.close(error);
}

fn dispatch(shared: &Shared, frame: Bytes) -> Result<(), Error> {
    let cid = peek_correlation_id(&frame).map_err(|source| Error::Wire {
        broker: shared.broker.clone(),
        source,
    })?;
    let matched = shared
        .inflight
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take(cid);
    match matched {
        Matched::Waiting(p) => {
            let _ = p.waiter.send(Ok(frame));
            Ok(())
        }
        Matched::Abandoned => {
            tracing::trace!(
                correlation_id = cid,
                "discarding response of an abandoned request"
            );
            Ok(())
        }
        Matched::Unknown => Err(Error::Wire {
            broker: shared.broker.clone(),
            source: WireError::Invalid {
                what: "correlation id",
                detail: format!("{cid} was never sent on this connection"),
            },
        }),
    }
}

async fn write_loop<W: AsyncWrite>(shared: Arc<Shared>, wr: W, mut rx: mpsc::Receiver<WriteJob>) {
    let mut wr = std::pin::pin!(BufWriter::with_capacity(WRITE_BUFFER, wr));
    let mut notify = Vec::new();
    loop {
        let job = tokio::select! {
            _ = shared.shutdown.cancelled() => return,
            job = rx.recv() => match job { Some(j) => j, None => return },
        };
        let mut next = Some(job);
        let result: std::io::Result<()> = async {
            // Gather whatever else is queued into the same flush.
            while let Some(job) = next.take() {
                wr.write_all(&job.frame).await?;
                if let Some(tx) = job.written {
                    notify.push(tx);
                }
                next = rx.try_recv().ok();
            }
            wr.flush().await
        }
        .await;
        match result {
            Ok(()) => {
                for tx in notify.drain(..) {
                    let _ = tx.send(());
                }
            }
            Err(e) => {
                shared.close(Error::Io {
                    broker: shared.broker.clone(),
                    source: Arc::new(e),
                });
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests;
