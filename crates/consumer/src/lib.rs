//! rafka-consumer: the Kafka consumer.
//!
//! # Architecture
//! Sans-IO logic, tested with simulated time and no sockets:
//! - [`core`]: [`core::ConsumerCore`] — group membership behind rafka-group's
//!   [`rafka_group::GroupMember`] interface (the classic JoinGroup/SyncGroup protocol today;
//!   KIP-848 and share groups can implement the same interface), the metadata lookups it
//!   needs, offset commits (one ordered queue, one error table, retries), auto-commit and the
//!   poll interval. Inputs are responses and `now`; outputs are requests, events and the next
//!   deadline.
//! - [`subscription`]: assignment and positions (position, fetch offset, seek epoch, pause,
//!   stored and committed offsets, high watermark / lag).
//! - [`fetch_session`]: incremental fetch sessions (KIP-227), one per broker.
//! - [`fetcher`]: what to fetch from each broker, and what to do with the answer
//!   (OFFSET_OUT_OF_RANGE per `auto.offset.reset`, leadership errors, catch-up policy).
//! - [`fetch_decode`]: records out of a fetch response (zero-copy), aborted transactions and
//!   control records filtered for read_committed.
//! - [`fetch_buffer`]: prefetched records waiting for `poll`, bounded in bytes.
//! - [`commit`], [`list_offsets`]: OffsetCommit/OffsetFetch and ListOffsets requests/answers.
//!
//! The tokio layer only drives those:
//! - `driver`: one task per consumer that commits or joins a group; it owns the
//!   [`core::ConsumerCore`], sends its requests concurrently (no inline await stalls a
//!   heartbeat) and talks to the [`Consumer`] over bounded channels: rebalance events out
//!   (acknowledged once the hook ran), commands in (poll, subscribe, commit, leave).
//! - `fetch_task`: one task per leader broker keeping one Fetch in flight (prefetching);
//!   `positions`: leaders, fetch tasks and position initialisation (OffsetFetch, store,
//!   ListOffsets).
//! - [`Consumer`] (`consumer/`): the API — subscribe/assign, poll/stream, seek, commit,
//!   rebalance hooks ([`listener`]), external offset stores ([`store`]).
//!
//! Module dependencies go one way: `consumer` → `driver` → `core` → `subscription`/`commit`;
//! `listener` reaches the consumer through a trait, not an import.
//!
//! # Feature flags
//! The defaults suit most applications; the offset stores are opt-in because each one brings a
//! database driver (the `rafka` facade forwards every one of these features).
//!
//! | feature | default | enables |
//! | --- | --- | --- |
//! | `tls` | yes | `security.protocol=SSL` / `SASL_SSL` (rustls with *ring*); without it those settings fail with `ConfigError::FeatureDisabled` |
//! | `gzip`, `snappy`, `lz4`, `zstd` | yes | decoding (and, in the producer, encoding) of that codec; a batch of a disabled codec fails with `WireError::CodecDisabled` |
//! | `sqlite` | no | `store::sql::SqlOffsetStore<Sqlite>` (sqlx; compiles the bundled SQLite C library) |
//! | `postgres` | no | `store::sql::SqlOffsetStore<Postgres>` (sqlx) |
//! | `mysql` | no | `store::sql::SqlOffsetStore<MySql>` (sqlx; MySQL and MariaDB) |
//! | `redis` | no | `store::redis::RedisOffsetStore` |
//!
//! The Kafka store ([`KafkaOffsetStore`]) and the [`OffsetStore`] trait need no feature.
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod commit;
pub mod config;
mod consumer;
pub mod core;
mod driver;
pub mod error;
pub mod events;
pub mod fetch_buffer;
pub mod fetch_decode;
pub mod fetch_session;
mod fetch_task;
pub mod fetcher;
pub mod list_offsets;
pub mod listener;
mod partition_list;
mod positions;
pub mod record;
mod shared;
pub mod store;
pub mod subscription;
mod wakeup;

/// The `#[async_trait]` attribute that [`OffsetStore`] is declared with; implementations must
/// use it too ([`ConsumerRebalanceListener`] needs none: its hooks are plain `async fn`s).
/// Re-exported deliberately: implementing the store trait needs it, and this one is the
/// version the trait was compiled with. It is a macro only, so no async-trait type is part of
/// rafka's API.
pub use async_trait::async_trait;
pub use config::{
    AutoOffsetReset, ConsumerConfig, ConsumerConfigBuilder, GroupProtocol, IsolationLevel,
};
pub use consumer::Consumer;
pub use driver::CommitCallback;
pub use error::{ConsumerError, ListenerError};
pub use events::ConsumerEvent;
pub use list_offsets::OffsetAndTimestamp;
pub use listener::{ConsumerContext, ConsumerRebalanceListener, NoopRebalanceListener};
pub use record::{ConsumerRecord, RecordHeader, TimestampType};
/// The regex type of pattern subscriptions ([`TopicSelector::Pattern`], `From<Regex>`),
/// re-exported deliberately: the type is part of [`TopicSelector`], and this is the version it
/// was compiled with (regex 1.x, whose API is stable). Build one with `Regex::new("metrics-.*")`;
/// the pattern must match a whole topic name.
pub use regex::Regex;
pub use store::{kafka::KafkaOffsetStore, GroupOffsets, OffsetStore, StoreError};
pub use subscription::TopicSelector;
pub use wakeup::WakeupHandle;
