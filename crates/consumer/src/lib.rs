//! rafka-consumer: the Kafka consumer.
#![warn(missing_docs)]

pub mod store;

pub use store::{kafka::KafkaOffsetStore, OffsetStore, StoreError};
