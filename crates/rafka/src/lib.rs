//! rafka: a pure-Rust Apache Kafka client — no librdkafka, no C client underneath.
//!
//! Depend on this crate only: it re-exports the public API of the rafka crates, the most used
//! types at its root and everything else in one module per crate:
//!
//! | module | crate | what it holds |
//! | --- | --- | --- |
//! | [`producer`] | `rafka-producer` | the producer: partitioners, batching, idempotence, transactions, interceptors |
//! | [`consumer`] | `rafka-consumer` | the consumer: fetching, rebalance hooks, commits, offset stores |
//! | [`client`] | `rafka-client` | connections, metadata, routing, retries, [`Admin`], TLS and SASL |
//! | [`group`] | `rafka-group` | consumer-group membership and the Java-compatible assignors |
//! | [`wire`] | `rafka-wire` | framing, headers, version negotiation, error codes, RecordBatch v2 codec |
//!
//! Names and defaults follow the Java client: a Java user finds `Consumer::end_offsets` for
//! `endOffsets`, `ConsumerRebalanceListener`, `Partitioner`, `ProducerInterceptor`, and every
//! config field documents its Java property. The repository README (whose examples are
//! compiled as doctests of this crate) walks through a producer, a consumer with a rebalance
//! listener and exactly-once processing into SQL; `docs/patterns.md` the shortest correct
//! program for five common uses; `examples/` runnable programs, each tested.
//!
//! # Produce: two awaits
//! [`Producer::send`] returns once the record is in its partition's batch, with a
//! [`DeliveryFuture`] that resolves when the broker acknowledged it. So
//! `producer.send(record).await?.await?` is one record sent and acknowledged (Java's
//! `send(record).get()`); to go fast, keep the futures and await them later.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use rafka::{Producer, ProducerConfig, ProducerRecord};
//!
//! let producer = Producer::new(ProducerConfig::builder("localhost:9092").build()?)?;
//! // Enqueued (first `?`: too large, buffer full past max.block.ms, closed, ...),
//! // then acknowledged by acks=all (second `?`: delivery failed or timed out).
//! let meta = producer.send(ProducerRecord::new("orders").value("o-1")).await?.await?;
//! println!("stored at {}-{}@{}", meta.topic, meta.partition, meta.offset);
//! # Ok(()) }
//! ```
//!
//! # Consume
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use rafka::{Consumer, ConsumerConfig};
//!
//! let config = ConsumerConfig::builder("localhost:9092").group_id("billing").build()?;
//! let mut consumer = Consumer::new(config)?;
//! consumer.subscribe("orders")?;
//! loop {
//!     for record in consumer.poll(Duration::from_secs(1)).await? {
//!         println!("{}-{}@{}", record.topic, record.partition, record.offset);
//!     }
//!     for event in consumer.drain_events() {
//!         eprintln!("background: {event:?}"); // failed auto-commits, max_lag skips
//!     }
//! }
//! # }
//! ```
//!
//! Rebalance hooks: [`ConsumerRebalanceListener`] (with an example). Positions outside Kafka:
//! [`consumer::store`], which also says when to prefer an [`OffsetStore`] over a hand-written
//! listener. Lag: [`Consumer::end_offsets`] minus the positions. Interrupting `poll` from
//! another task: [`WakeupHandle`].
//!
//! # A custom partitioner and an interceptor
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use rafka::{
//!     PartitionInfo, Partitioner, ProduceError, Producer, ProducerConfig, ProducerInterceptor,
//!     ProducerRecord, RecordMetadata,
//! };
//!
//! /// Keys starting with "vip-" go to partition 0; the rest spread by key length.
//! struct VipFirst;
//!
//! impl Partitioner for VipFirst {
//!     fn partition(&self, _topic: &str, key: Option<&[u8]>, _value: Option<&[u8]>, info: &PartitionInfo) -> i32 {
//!         match key {
//!             Some(k) if k.starts_with(b"vip-") => 0,
//!             Some(k) => 1 + (k.len() as i32 % (info.num_partitions - 1).max(1)),
//!             None => 0,
//!         }
//!     }
//! }
//!
//! /// Stamps every record and counts failed deliveries.
//! #[derive(Default)]
//! struct Audit(std::sync::atomic::AtomicU64);
//!
//! impl ProducerInterceptor for Audit {
//!     fn on_send(&self, record: ProducerRecord) -> ProducerRecord {
//!         record.header("sent-by", "billing")
//!     }
//!     fn on_acknowledgement(&self, result: &Result<RecordMetadata, ProduceError>) {
//!         if result.is_err() {
//!             self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
//!         }
//!     }
//! }
//!
//! let producer = Producer::builder(ProducerConfig::builder("localhost:9092").build()?)
//!     .partitioner(Arc::new(VipFirst))
//!     .interceptor(Arc::new(Audit::default()))
//!     .build()?;
//! # let _ = producer; Ok(()) }
//! ```
//!
//! # Logging
//! rafka logs with [`tracing`](https://docs.rs/tracing) (rebalances at `info`, retried and
//! background failures at `warn`); nothing is printed unless the application installs a
//! subscriber, e.g. `tracing_subscriber::fmt().with_env_filter("rafka=info").init()` with the
//! `tracing-subscriber` crate, then `RUST_LOG=rafka_consumer=debug` for more. Failures of
//! background work are also returned by [`Consumer::drain_events`], without any subscriber.
//!
//! # Feature flags
//! rafka uses Cargo features to leave out what an application does not need. With the defaults
//! the only C compiled is *ring*'s (through rustls) and zstd's; `default-features = false`
//! leaves no C at all.
//!
//! | feature | default | enables |
//! | --- | --- | --- |
//! | `tls` | yes | `security.protocol=SSL` and `SASL_SSL`: rustls with the *ring* provider, the Mozilla roots of webpki-roots. Without it those settings fail with [`client::config::ConfigError`]`::FeatureDisabled` |
//! | `gzip` | yes | the gzip codec (flate2 with the pure-Rust backend) |
//! | `snappy` | yes | the snappy codec (snap) |
//! | `lz4` | yes | the lz4 codec (lz4_flex, pure Rust) |
//! | `zstd` | yes | the zstd codec (the zstd C library, through zstd-sys) |
//! | `sqlite` | no | [`consumer::store`]'s `SqlOffsetStore<Sqlite>` (sqlx; compiles the bundled SQLite C library) |
//! | `postgres` | no | `SqlOffsetStore<Postgres>` (sqlx) |
//! | `mysql` | no | `SqlOffsetStore<MySql>` (sqlx; MySQL and MariaDB) |
//! | `redis` | no | `RedisOffsetStore` |
//!
//! A record batch compressed with a codec that is not compiled in fails to encode (producer) or
//! to decode (consumer) with [`wire::WireError`]`::CodecDisabled`, never silently. For example,
//! TLS and lz4 only, with offsets in PostgreSQL:
//!
//! ```toml
//! rafka = { version = "0.1", default-features = false, features = ["tls", "lz4", "postgres"] }
//! ```
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[doc(inline)]
pub use rafka_client as client;
#[doc(inline)]
pub use rafka_consumer as consumer;
#[doc(inline)]
pub use rafka_group as group;
#[doc(inline)]
pub use rafka_producer as producer;
#[doc(inline)]
pub use rafka_wire as wire;

// Client and admin.
pub use rafka_client::admin::{ListedOffset, OffsetSpec};
pub use rafka_client::{Admin, Client, ClientConfig, ClientConfigBuilder, Properties};

// Consumer.
/// The Redis offset store (feature `redis`); see [`consumer::store`].
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use rafka_consumer::store::redis::RedisOffsetStore;
/// The SQL offset store and its transaction (features `sqlite`, `postgres`, `mysql`); see
/// [`consumer::store`].
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
#[cfg_attr(
    docsrs,
    doc(cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql")))
)]
pub use rafka_consumer::store::sql::{SqlOffsetStore, SqlTxn};
pub use rafka_consumer::{
    async_trait, AutoOffsetReset, Consumer, ConsumerConfig, ConsumerConfigBuilder, ConsumerContext,
    ConsumerError, ConsumerEvent, ConsumerRebalanceListener, ConsumerRecord, GroupOffsets,
    IsolationLevel, KafkaOffsetStore, ListenerError, NoopRebalanceListener, OffsetAndTimestamp,
    OffsetStore, RecordHeader, Regex, StoreError, TimestampType, TopicSelector, WakeupHandle,
};

// Producer.
pub use rafka_producer::{
    Acks, CompressionType, ConsumerGroupMetadata, DefaultPartitioner, DeliveryCallback,
    DeliveryFuture, MetricsSnapshot, PartitionInfo, Partitioner, PartitionerChoice, ProduceError,
    Producer, ProducerBuilder, ProducerConfig, ProducerConfigBuilder, ProducerInterceptor,
    ProducerRecord, RecordMetadata, RoundRobinPartitioner, TransactionError,
};

// Shared types.
pub use rafka_wire::{BrokerError, ErrorCode, TopicPartition};

#[cfg(test)]
mod tests {
    /// One isolation level for the consumer's config and the admin's `list_offsets`.
    #[test]
    fn one_isolation_level_fits_the_consumer_and_the_admin() {
        fn consumer_side(level: crate::IsolationLevel) -> crate::IsolationLevel {
            level
        }
        let admin_side: crate::client::admin::IsolationLevel =
            consumer_side(crate::consumer::IsolationLevel::ReadCommitted);
        let config = crate::ConsumerConfig::builder("localhost:9092")
            .isolation_level(admin_side)
            .build()
            .unwrap();
        assert_eq!(config.isolation_level, crate::IsolationLevel::ReadCommitted);
    }
}

// The README's Rust examples are compiled (not run: they need a broker) as doctests of this item,
// so the front page cannot drift from the API. Only built under `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;

// The same for docs/patterns.md: the shortest correct program of five common uses.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/patterns.md")]
pub struct PatternDoctests;
