//! rafka-producer: a Kafka producer with Java's partitioning, batching, compression,
//! idempotence and transactions.
//!
//! # Architecture
//! The protocol logic is sans-IO; the tokio layer only drives it.
//!
//! - [`config`]: [`ProducerConfig`] with Java property names and one `validate()`.
//! - [`record`]: [`ProducerRecord`] in, [`RecordMetadata`] out.
//! - [`partitioner`]: Java's murmur2, the sticky partitioner of KIP-794, round robin, and the
//!   [`partitioner::Partitioner`] trait.
//! - [`accumulator`]: per-partition batches closed by `batch.size` or `linger.ms`, drained
//!   per broker into produce requests, retried at the front in sequence order, expired by
//!   `delivery.timeout.ms`.
//! - [`idempotence`]: producer id, epoch and per-partition sequences (KIP-98, KIP-360).
//! - [`delivery`]: one shared completion per batch, one [`DeliveryFuture`] per record.
//! - [`interceptor`], [`metrics`]: hooks and counters.
#![warn(missing_docs)]
// The sender and Producer (the tokio layer) are the users of the crate-private batch API;
// until they land, parts of it are only exercised by tests.
#![allow(dead_code)]

pub mod accumulator;
pub mod config;
pub mod delivery;
pub mod error;
pub mod idempotence;
pub mod interceptor;
pub mod metrics;
pub mod partitioner;
pub mod record;

pub use config::{Acks, CompressionType, ConfigError, PartitionerChoice, ProducerConfig};
pub use delivery::{DeliveryCallback, DeliveryFuture};
pub use error::ProduceError;
pub use interceptor::ProducerInterceptor;
pub use metrics::{MetricsSnapshot, ProducerMetrics};
pub use record::{ProducerRecord, RecordMetadata};
