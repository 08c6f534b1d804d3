//! rafka: a pure-Rust Apache Kafka client — no librdkafka, no C client underneath.
//!
//! This facade re-exports the public API of the rafka crates so that applications depend on
//! one crate:
//!
//! | module | crate | what it holds |
//! | --- | --- | --- |
//! | [`wire`] | `rafka-wire` | framing, headers, version negotiation, error codes, RecordBatch v2 codec |
//! | [`client`] | `rafka-client` | connections, metadata, routing, retries, admin, TLS and SASL |
//! | [`group`] | `rafka-group` | consumer-group membership and the Java-compatible assignors |
//! | [`producer`] | `rafka-producer` | the producer: partitioners, batching, idempotence, transactions |
//! | [`consumer`] | `rafka-consumer` | the consumer: fetching, rebalance hooks, commits, offset stores |
//!
//! The most used types are also at the crate root. The repository README (whose examples are
//! compiled as doctests of this crate) shows a producer, a consumer with a rebalance listener and
//! exactly-once processing into SQL.
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

pub use rafka_client as client;
pub use rafka_consumer as consumer;
pub use rafka_group as group;
pub use rafka_producer as producer;
pub use rafka_wire as wire;

pub use rafka_client::{Admin, Client, ClientConfig, Properties};
pub use rafka_consumer::{
    async_trait, Consumer, ConsumerConfig, ConsumerContext, ConsumerError,
    ConsumerRebalanceListener, ConsumerRecord, KafkaOffsetStore, ListenerError,
    NoopRebalanceListener, OffsetStore, StoreError, TopicSelector,
};
pub use rafka_consumer::{AutoOffsetReset, IsolationLevel};
pub use rafka_producer::{
    Acks, CompressionType, ConsumerGroupMetadata, DeliveryFuture, ProduceError, Producer,
    ProducerBuilder, ProducerConfig, ProducerRecord, RecordMetadata,
};
pub use rafka_wire::{BrokerError, ErrorCode, TopicPartition};

// The README's Rust examples are compiled (not run: they need a broker) as doctests of this item,
// so the front page cannot drift from the API. Only built under `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
