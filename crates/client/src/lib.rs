//! rafka-client: everything that talks to Kafka brokers.
//!
//! # Architecture
//! - [`config`]: [`ClientConfig`] (Java setting names and defaults) and the [`Properties`]
//!   parser.
//! - [`connection`]: one pipelined connection per broker and purpose — a reader and a writer
//!   task around a sans-IO in-flight table; the handshake (TLS, ApiVersions, SASL).
//! - [`metadata`]: the sans-IO cluster snapshot and its merge rules.
//! - [`Client`] (`client.rs`): routing by [`Target`] (any broker, a node, a partition leader,
//!   a coordinator, the controller), metadata refresh with coalescing, coordinator cache, and
//!   [`Client::with_retries`] with jittered exponential backoff ([`backoff`]).
//! - [`admin`]: topic, offset, group and config administration on top of [`Client`].
//! - [`sasl`], [`tls`]: authentication mechanisms (sans-IO) and rustls setup.
//! - [`Error`]: one error type with broker, API and partition context.
//!
//! Protocol rules are kept sans-IO (in-flight table, reconnect backoff, metadata merge, SCRAM,
//! retry policy) and tested without sockets; the tokio layer only drives them.
#![warn(missing_docs)]

pub mod admin;
pub mod backoff;
mod client;
pub mod config;
pub mod connection;
pub mod error;
pub mod metadata;
mod pool;
pub mod sasl;
pub mod tls;

/// The current time on tokio's clock, as a std `Instant`: under `tokio::time::pause` (tests
/// with simulated time) it moves with the paused clock, so deadlines and backoff computed from
/// it agree with `tokio::time::sleep`.
pub(crate) fn now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
}

pub use admin::Admin;
pub use client::{Client, CoordinatorKind, SendOptions, Target};
pub use config::{
    ClientConfig, ClientConfigBuilder, ConfigError, Properties, SaslMechanism, SecurityProtocol,
};
pub use connection::throttle::ThrottleTime;
pub use error::{Error, Result};
pub use metadata::Cluster;
pub use pool::Purpose;
pub use rafka_wire;
pub use rafka_wire::TopicPartition;
