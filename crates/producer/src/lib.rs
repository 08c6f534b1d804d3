//! rafka-producer: a Kafka producer with Java's partitioning, batching, compression,
//! idempotence and transactions.
//!
//! # Architecture
//! A sans-IO core and one driver task per producer, as quinn-proto and quinn split a
//! protocol from its I/O.
//!
//! - **The core** (`engine`, private; no tokio, no clock, no sockets): `ProducerCore` owns
//!   the [`accumulator`] (per-partition batches closed by `batch.size` or `linger.ms`,
//!   drained per broker, retried at the front in sequence order, expired by
//!   `delivery.timeout.ms`), the [`idempotence`] state (producer id, epoch and per-partition
//!   sequences, KIP-98 and KIP-360), the transaction machine (KIP-98, KIP-447: an enum of
//!   states that own their data and move into the next by value) and the producer's
//!   lifecycle (one enum: running, flushing, closing, closed, fatal). It takes inputs —
//!   appends, transactional calls, produce and coordinator responses — each with `now`, and
//!   gives actions (produce jobs, coordinator requests, metadata refreshes), finished
//!   batches, transactional outcomes and `poll_timeout()`, its next deadline. Retries of
//!   coordinator requests are deadlines, not sleeps. Its tests drive it against a scripted
//!   broker on simulated time.
//! - **The driver** (`driver`, private): one tokio task per [`Producer`]. Each turn it polls
//!   the core, hands produce jobs to one task per broker (which encodes the batches and
//!   writes them in order on a pipelined connection), runs coordinator requests and
//!   InitProducerId as futures beside them, and waits for the first of: a response, a
//!   transactional call from a handle, a wake-up, or the core's deadline. Nothing is awaited
//!   inline. The channels between handles, driver and broker tasks are bounded.
//! - **The handle** ([`Producer`]): the public API. `send` partitions the record on the
//!   caller's task, waits for metadata and `buffer.memory` (`max.block.ms`), and appends to
//!   the core under its lock (as quinn's `Connection` shares its proto state with the
//!   driver); transactional calls go to the driver over a bounded channel.
//!
//! Around them: [`config`] ([`ProducerConfig`] with Java property names and one
//! `validate()`), [`record`] ([`ProducerRecord`] in, [`RecordMetadata`] out),
//! [`partitioner`] (Java's murmur2, the sticky partitioner of KIP-794, round robin),
//! [`delivery`] (one shared completion per batch, one [`DeliveryFuture`] per record),
//! [`error`] ([`ProduceError`], grouped by who is at fault), [`interceptor`] and [`metrics`].
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
mod driver;
mod engine;
pub mod error;
mod fast_hash;
mod group_metadata;
pub mod idempotence;
pub mod interceptor;
pub mod metrics;
pub mod partitioner;
mod producer;
pub mod record;
mod shared;

pub use config::{
    Acks, CompressionType, ConfigError, PartitionerChoice, ProducerConfig, ProducerConfigBuilder,
};
pub use delivery::{DeliveryCallback, DeliveryFuture};
pub use error::{ProduceError, TransactionError};
pub use group_metadata::ConsumerGroupMetadata;
pub use interceptor::ProducerInterceptor;
pub use metrics::{MetricsSnapshot, ProducerMetrics};
pub use partitioner::{DefaultPartitioner, PartitionInfo, Partitioner, RoundRobinPartitioner};
pub use producer::{Producer, ProducerBuilder};
pub use record::{ProducerRecord, RecordMetadata};
