//! [`ConsumerError`], the one error type of the consumer.

use std::time::Duration;

use rafka_client::config::ConfigError;
use rafka_wire::error_code::{BrokerError, ErrorCode};
use rafka_wire::{TopicPartition, WireError};

use crate::store::StoreError;

/// An error raised by a rebalance listener hook, passed through to `poll`.
pub type ListenerError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Errors returned by the consumer. Grouped by who is at fault: the configuration, the
/// application's use of the API, the group (fencing), the broker, the network, the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConsumerError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The operation needs a `group.id` (subscribe, commits to Kafka, `committed`).
    #[error("{operation} needs group.id to be set")]
    NoGroupId {
        /// What was attempted.
        operation: &'static str,
    },
    /// The partition is not assigned to this consumer (seek, position, pause).
    #[error("partition {partition} is not assigned to this consumer")]
    NotAssigned {
        /// The partition named.
        partition: TopicPartition,
    },
    /// `subscribe` and `assign` were mixed; unsubscribe first (as in Java).
    #[error("subscribe and assign cannot be mixed; call unsubscribe first")]
    SubscriptionConflict,
    /// `auto.offset.reset=none` and these partitions have no committed position.
    #[error("no committed offset and auto.offset.reset=none for {partitions:?}")]
    NoOffsetForPartition {
        /// Partitions without a position.
        partitions: Vec<TopicPartition>,
    },
    /// `auto.offset.reset=none` and the broker reported these positions out of range.
    #[error("offsets out of range with auto.offset.reset=none: {offsets:?}")]
    OffsetOutOfRange {
        /// Each partition with the out-of-range position that was fetched.
        offsets: Vec<(TopicPartition, i64)>,
    },
    /// The application did not call `poll` within `max.poll.interval.ms`; the consumer left
    /// the group and rejoins on the next `poll` (Java: CommitFailedException / the
    /// "poll timeout has expired" leave).
    #[error("poll interval of {max_poll_interval:?} exceeded: the consumer left the group")]
    MaxPollIntervalExceeded {
        /// The configured `max.poll.interval.ms`.
        max_poll_interval: Duration,
    },
    /// A commit was refused because this member is no longer in the group's current
    /// generation (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID or
    /// REBALANCE_IN_PROGRESS): its partitions may belong to another member now.
    #[error("commit refused, the group has rebalanced: {code:?}")]
    CommitFailed {
        /// The coordinator's error code.
        code: ErrorCode,
    },
    /// A broker answered with an error that the consumer does not retry.
    #[error("{api} failed{}: {error}", partition.as_ref().map(|p| format!(" for {p}")).unwrap_or_default())]
    Broker {
        /// The API (`"Fetch"`, `"OffsetCommit"`, ...).
        api: &'static str,
        /// The partition concerned, if any.
        partition: Option<TopicPartition>,
        /// The broker's error code and message.
        error: BrokerError,
    },
    /// The client layer failed (connection, metadata, timeout).
    #[error(transparent)]
    Client(#[from] rafka_client::Error),
    /// The group membership failed (a coordinator error on JoinGroup, SyncGroup, Heartbeat
    /// or LeaveGroup, a fenced static member, an assignor or protocol error).
    #[error("group {group_id}: {source}")]
    Group {
        /// `group.id`.
        group_id: String,
        /// What failed, with the API and the broker's error code when the broker answered.
        source: rafka_group::GroupError,
    },
    /// Fetched records could not be decoded (corrupt batch, CRC mismatch, bad compression).
    #[error("corrupt records in {partition} at offset {offset}: {source}")]
    CorruptRecords {
        /// The partition fetched.
        partition: TopicPartition,
        /// The fetch offset.
        offset: i64,
        /// The decoding error.
        source: WireError,
    },
    /// The offset store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A rebalance listener hook returned an error.
    #[error("rebalance listener failed: {0}")]
    Listener(ListenerError),
    /// The consumer was closed.
    #[error("the consumer is closed")]
    Closed,
    /// `poll` was interrupted by [`crate::WakeupHandle::wakeup`] (Java's `WakeupException`).
    /// Nothing failed: the consumer is usable, typically for `close`.
    #[error("poll interrupted by a wakeup")]
    Wakeup,
    /// An offset lookup (`end_offsets`, `beginning_offsets`, `offsets_for_times`) failed for
    /// one of the partitions asked: unknown topic or partition, no leader within
    /// `default.api.timeout.ms`, or an unsupported lookup. No partial result is returned.
    #[error("{operation} failed for {partition}: {source}")]
    OffsetLookup {
        /// The call: `"end_offsets"`, `"beginning_offsets"` or `"offsets_for_times"`.
        operation: &'static str,
        /// The first partition that failed.
        partition: TopicPartition,
        /// Why, with the broker's error code when it answered.
        source: Box<rafka_client::Error>,
    },
    /// An operation did not finish within its timeout.
    #[error("{operation} timed out after {timeout:?}")]
    Timeout {
        /// What was attempted.
        operation: &'static str,
        /// The time allowed.
        timeout: Duration,
    },
}

impl ConsumerError {
    /// True when the same call may succeed if repeated (a retriable broker error, a timeout,
    /// a retriable client error or group error), by rafka-wire's error-code table.
    pub fn is_retriable(&self) -> bool {
        match self {
            ConsumerError::Broker { error, .. } => error.code.is_retriable(),
            ConsumerError::Timeout { .. } => true,
            ConsumerError::Client(e) => e.is_retriable(),
            ConsumerError::OffsetLookup { source, .. } => source.is_retriable(),
            ConsumerError::Group { source, .. } => {
                source.code().is_some_and(|c| ErrorCode(c).is_retriable())
            }
            _ => false,
        }
    }
}
