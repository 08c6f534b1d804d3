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
#![warn(missing_docs)]

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
