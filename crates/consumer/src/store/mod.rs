//! Offset stores: where a consumer keeps its positions.
//!
//! The consumer calls an [`OffsetStore`] from its own task, at fixed points:
//! - `load` when partitions are assigned (before the first fetch of those partitions);
//! - `save` when partitions are revoked or lost, on close, and on every commit the user asks for.
//!
//! Two families exist. The Kafka store ([`kafka::KafkaOffsetStore`], the default) answers
//! `is_kafka() == true`: the consumer then commits with OffsetCommit carrying its generation and
//! member id, so a fenced member's commit is refused by the coordinator. External stores
//! (`sql`, `redis`, or your own) answer `false`: the consumer never commits to Kafka, loads
//! positions on assign and seeks to them, and saves positions on revoke and close. Storing the
//! position in the same transaction as the processed data is what gives exactly-once processing.
//!
//! # `offset_store` or a hand-written listener?
//! Prefer [`ConsumerConfig::offset_store`](crate::ConsumerConfig::offset_store) with a store
//! of this module (or your own [`OffsetStore`]): the consumer then loads positions when
//! partitions are assigned, saves them on revoke, close and `commit_sync`, and never commits
//! to Kafka, with no listener code to get wrong. For exactly-once processing, additionally
//! write the positions in the same database transaction as each batch's results
//! (`SqlTxn::save_positions(&consumer.positions_after(&batch)?)`), so that a crash keeps both
//! or neither.
//!
//! A [`ConsumerRebalanceListener`](crate::ConsumerRebalanceListener) that seeks on assign and
//! saves on revoke (the pattern Java and librdkafka users write by hand) is the fallback for
//! positions that do not fit `load`/`save` by group and partition, e.g. positions derived from
//! the processed data itself. Do not combine the two for the same partitions: both would seek.
//!
//! # Cargo features
//! The Kafka store and the [`OffsetStore`] trait are always available. The external stores are
//! behind features of this crate (re-exported by `rafka`), none of them on by default:
//!
//! | feature    | enables                                                        |
//! | ---------- | -------------------------------------------------------------- |
//! | `sqlite`   | `sql::SqlOffsetStore<Sqlite>` (sqlx, bundled SQLite C library) |
//! | `postgres` | `sql::SqlOffsetStore<Postgres>` (sqlx)                         |
//! | `mysql`    | `sql::SqlOffsetStore<MySql>` (sqlx; MySQL and MariaDB)         |
//! | `redis`    | `redis::RedisOffsetStore`                                      |
//!
//! The `sql` module exists when at least one of `sqlite`, `postgres`, `mysql` is on, and holds
//! only the enabled backends.

use std::collections::HashMap;

use rafka_wire::TopicPartition;

pub mod kafka;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub mod redis;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
#[cfg_attr(
    docsrs,
    doc(cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql")))
)]
pub mod sql;

/// Where a consumer keeps its positions. Positions are "next offset to consume" (Kafka's
/// committed-offset meaning).
///
/// # Contract
/// - Implementations must be safe to call from any task; the consumer awaits each call before it
///   returns from `poll`, so a slow store slows the consumer, never reorders it.
/// - `save` is atomic: after an error, either all or none of the offsets are stored.
/// - Offsets are non-negative; a store may refuse a negative one with
///   [`StoreError::InvalidOffset`].
///
/// # Example
/// A store in memory (a real one writes to a database; see `sql` and `redis`). Implement it
/// with the re-exported [`crate::async_trait`] attribute, and hand it to the consumer with
/// [`ConsumerConfigBuilder::offset_store`](crate::ConsumerConfigBuilder::offset_store):
///
/// ```no_run
/// use std::collections::HashMap;
/// use std::sync::{Arc, Mutex};
///
/// use rafka_consumer::{async_trait, Consumer, ConsumerConfig, OffsetStore, StoreError};
/// use rafka_wire::TopicPartition;
///
/// #[derive(Default)]
/// struct MemoryStore(Mutex<HashMap<(String, TopicPartition), i64>>);
///
/// #[async_trait]
/// impl OffsetStore for MemoryStore {
///     async fn load(
///         &self,
///         group_id: &str,
///         partitions: &[TopicPartition],
///     ) -> Result<HashMap<TopicPartition, i64>, StoreError> {
///         let map = self.0.lock().unwrap();
///         Ok(partitions
///             .iter()
///             .filter_map(|tp| map.get(&(group_id.to_string(), tp.clone())).map(|&o| (tp.clone(), o)))
///             .collect())
///     }
///
///     async fn save(&self, group_id: &str, offsets: &[(TopicPartition, i64)]) -> Result<(), StoreError> {
///         let mut map = self.0.lock().unwrap(); // one lock: all or none
///         for (tp, offset) in offsets {
///             map.insert((group_id.to_string(), tp.clone()), *offset);
///         }
///         Ok(())
///     }
/// }
///
/// # fn run() -> Result<(), rafka_consumer::ConsumerError> {
/// let config = ConsumerConfig::builder("localhost:9092")
///     .group_id("billing")
///     .offset_store(Arc::new(MemoryStore::default()))
///     .build()?;
/// let consumer = Consumer::new(config)?;
/// # Ok(()) }
/// ```
#[async_trait::async_trait]
pub trait OffsetStore: Send + Sync + 'static {
    /// Positions stored for these partitions of `group_id`; partitions with nothing stored are
    /// absent from the map.
    async fn load(
        &self,
        group_id: &str,
        partitions: &[TopicPartition],
    ) -> Result<HashMap<TopicPartition, i64>, StoreError>;

    /// Stores positions (each the next offset to consume) atomically: all or none.
    async fn save(
        &self,
        group_id: &str,
        offsets: &[(TopicPartition, i64)],
    ) -> Result<(), StoreError>;

    /// [`OffsetStore::save`] of a [`GroupOffsets`] (its group, its offsets).
    async fn save_group(&self, offsets: &GroupOffsets) -> Result<(), StoreError> {
        self.save(&offsets.group_id, &offsets.offsets).await
    }

    /// True for the Kafka store: the consumer then commits to Kafka (OffsetCommit with
    /// generation/member id); false for external stores: the consumer never commits to Kafka
    /// and seeks to loaded positions on assign.
    fn is_kafka(&self) -> bool {
        false
    }
}

/// A group's positions: what an external store keeps after a batch, with the group they
/// belong to, so the consumer that knows its `group.id` hands both over at once. Made by
/// [`crate::Consumer::positions_after`]; saved with `SqlTxn::save_positions` (in the
/// transaction of the batch's results) or [`OffsetStore::save_group`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupOffsets {
    /// `group.id`.
    pub group_id: String,
    /// Each partition's position: the next offset to consume (last processed + 1).
    pub offsets: Vec<(TopicPartition, i64)>,
}

/// Errors from an [`OffsetStore`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The SQL backend failed (connection, statement or transaction).
    #[error("sql offset store: {0}")]
    Sql(String),
    /// The Redis backend failed.
    #[error("redis offset store: {0}")]
    Redis(String),
    /// Any other backend (user-written stores, the Kafka store) failed.
    #[error("{backend} offset store: {message}")]
    Backend {
        /// Short name of the backend, e.g. `"kafka"` or `"file"`.
        backend: &'static str,
        /// What went wrong.
        message: String,
    },
    /// A stored or offered offset is not a valid position (negative, or unparsable text).
    #[error("invalid offset for {partition}: {value}")]
    InvalidOffset {
        /// The partition the offset belongs to.
        partition: TopicPartition,
        /// The offending value as text (it may not be a number).
        value: String,
    },
}
