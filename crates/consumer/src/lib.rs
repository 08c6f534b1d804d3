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
//! - [`Consumer`] (`consumer.rs`): the API — subscribe/assign, poll/stream, seek, commit,
//!   rebalance hooks ([`listener`]), external offset stores ([`store`]).
//!
//! Module dependencies go one way: `consumer` → `driver` → `core` → `subscription`/`commit`;
//! `listener` reaches the consumer through a trait, not an import.
#![warn(missing_docs)]

pub mod commit;
pub mod config;
mod consumer;
pub mod core;
mod driver;
pub mod error;
pub mod fetch_buffer;
pub mod fetch_decode;
pub mod fetch_session;
mod fetch_task;
pub mod fetcher;
pub mod list_offsets;
pub mod listener;
mod positions;
pub mod record;
mod shared;
pub mod store;
pub mod subscription;

/// Re-exported so rebalance listeners and offset stores can be written without adding the
/// `async-trait` crate.
pub use async_trait::async_trait;
pub use config::{AutoOffsetReset, ConsumerConfig, ConsumerConfigBuilder, IsolationLevel};
pub use consumer::Consumer;
pub use driver::CommitCallback;
pub use error::{ConsumerError, ListenerError};
pub use listener::{ConsumerContext, ConsumerRebalanceListener, NoopRebalanceListener};
pub use record::{ConsumerRecord, RecordHeader, TimestampType};
/// Re-exported for pattern subscriptions ([`TopicSelector::Pattern`]).
pub use regex::Regex;
pub use store::{kafka::KafkaOffsetStore, OffsetStore, StoreError};
pub use subscription::TopicSelector;
