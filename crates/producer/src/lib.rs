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
//! - `producer` / `sender` / `transaction` (private): the tokio layer — [`Producer`] appends
//!   on the caller's task; one sender task drains per broker, one task per broker writes
//!   requests in order on a pipelined connection; transactions per KIP-98.
//!
//! # Sending: two awaits
//! [`Producer::send`] returns once the record is in its partition's batch (it waits only for
//! the topic's metadata and for `buffer.memory`), with a [`DeliveryFuture`] that resolves
//! when the broker acknowledged it (per `acks`) or delivery failed. So
//! `producer.send(record).await?.await?` sends one record and waits for its ack, as Java's
//! `send(record).get()`; for throughput, keep the delivery futures and await them later (or
//! use `send_with_callback`), so that records share batches and requests.
//!
//! Extension points at the root: [`Partitioner`] (Java's `partitioner.class`, given to
//! [`ProducerBuilder::partitioner`]) with [`PartitionInfo`], and [`ProducerInterceptor`]
//! (Java's `interceptor.classes`, [`ProducerBuilder::interceptor`]).
#![warn(missing_docs)]

pub mod accumulator;
pub mod config;
pub mod delivery;
pub mod error;
mod fast_hash;
pub mod idempotence;
pub mod interceptor;
pub mod metrics;
pub mod partitioner;
mod producer;
pub mod record;
mod sender;
mod transaction;

pub use config::{Acks, CompressionType, ConfigError, PartitionerChoice, ProducerConfig};
pub use delivery::{DeliveryCallback, DeliveryFuture};
pub use error::ProduceError;
pub use interceptor::ProducerInterceptor;
pub use metrics::{MetricsSnapshot, ProducerMetrics};
pub use partitioner::{DefaultPartitioner, PartitionInfo, Partitioner, RoundRobinPartitioner};
pub use producer::{Producer, ProducerBuilder};
pub use record::{ProducerRecord, RecordMetadata};
pub use transaction::ConsumerGroupMetadata;
