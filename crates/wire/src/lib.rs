//! rafka-wire: the pure Kafka wire codec.
//!
//! # Architecture
//! Nothing in this crate performs I/O: every function takes bytes in and gives bytes or values
//! out, so the same code serves the tokio client, the fuzzers and the conformance suite.
//!
//! - [`frame`]: the 4-byte size prefix, checked before anything is allocated.
//! - [`header`]: request header v0–v2 and response header v0–v1 (flexible versions, KIP-482).
//! - [`request`]: the [`request::KafkaRequest`] trait binding each `kafka-protocol` message to
//!   its API key, the versions rafka speaks and where it must be sent.
//! - [`guard`]: a walk over each response body before it is decoded, so no count read off the
//!   wire can size an allocation the body cannot back.
//! - [`negotiate`]: ApiVersions negotiation (KIP-35, KIP-511) as a pure function.
//! - [`error_code`]: the broker error-code table and [`error_code::BrokerError`].
//! - [`records`]: rafka's own zero-copy RecordBatch v2 codec (KIP-98) with compression.
//! - [`error`]: [`WireError`], the one error type of this crate.
//! - [`types`]: [`TopicPartition`] and other values every crate shares.
#![warn(missing_docs)]

pub mod error;
pub mod error_code;
pub mod frame;
pub mod guard;
pub mod header;
pub mod negotiate;
pub mod records;
pub mod request;
pub mod types;

pub use error::WireError;
pub use error_code::{BrokerError, ErrorCode};
pub use types::TopicPartition;

/// The `kafka-protocol` crate (0.18) as rafka uses it: its message structs are rafka's requests
/// and responses ([`request::KafkaRequest`] is implemented for them), for code that builds
/// requests of its own (e.g. `rafka_client::Client::send`) or reads raw responses.
///
/// **Unstable: not covered by rafka's semver.** This is kafka-protocol re-exported as it is, so
/// that such code names the same types as rafka without a dependency of its own; a rafka minor
/// release may move to a newer kafka-protocol whose types differ. The producer, consumer and
/// admin APIs never need it.
pub mod protocol {
    pub use kafka_protocol::*;
}
