//! What the KIP-848 member emits: requests to send and events for the consumer, plus the
//! errors it reports.

use std::collections::BTreeSet;
use std::time::Duration;

use rafka_wire::TopicPartition;

use super::error::ConsumerGroupError;
use super::request::ConsumerHeartbeatParams;
use super::state::TopicId;
use crate::membership::{Coordinator, Destination, FindCoordinatorParams, RequestId};

/// One request for the driver to send.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ConsumerGroupRequest {
    /// Find the group's coordinator (to any broker).
    FindCoordinator(FindCoordinatorParams),
    /// ConsumerGroupHeartbeat (API 68) to the coordinator.
    Heartbeat(ConsumerHeartbeatParams),
}

/// A request with where to send it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsumerOutgoingRequest {
    /// Pass back to `handle_*_response` or `handle_request_failed`.
    pub id: RequestId,
    /// Target broker.
    pub destination: Destination,
    /// What to send; build the wire struct with its `to_request(version)`.
    pub request: ConsumerGroupRequest,
    /// How long to wait before calling `handle_request_failed` with
    /// [`RequestFailure::TimedOut`] (`request.timeout.ms`).
    pub timeout: Duration,
}

/// Why a request got no response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestFailure {
    /// The connection closed or could not be made.
    Disconnected,
    /// No response within the request's timeout.
    TimedOut,
    /// The broker does not support the API or version (ApiVersions). For the heartbeat this
    /// means a broker without KIP-848: fatal, as in Java.
    UnsupportedVersion,
    /// The heartbeat could not be built for the negotiated version because it carries a
    /// regex (`to_request` returned [`ConsumerGroupError::RegexNotSupported`]): fatal.
    RegexNotSupported,
}

/// Output of [`super::ConsumerMembership::poll_action`].
#[derive(Debug, Clone, PartialEq)]
pub enum ConsumerAction {
    /// Send a request.
    Send(ConsumerOutgoingRequest),
    /// Tell the consumer something.
    Event(ConsumerEvent),
}

/// Rebalance and lifecycle events, in the order the consumer must act on them.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ConsumerEvent {
    /// Auto-commit is on and a reconciliation starts: commit the consumed offsets now (Java
    /// `maybeAutoCommitSyncBeforeRebalance`, retried up to the rebalance timeout), stop
    /// fetching `revoking`, then call `commit_done` whether the commit succeeded or not
    /// (Java proceeds with the reconciliation after a failed commit).
    CommitBeforeReconcile {
        /// Partitions this reconciliation will revoke (fetching must pause for them).
        revoking: Vec<TopicPartition>,
    },
    /// Run `onPartitionsRevoked` for `partitions`, then call `ack_revoked`. Commits made in
    /// the hook may still use `member_epoch`.
    PartitionsRevoked {
        /// Partitions to give up.
        partitions: Vec<TopicPartition>,
        /// The member epoch they were owned in.
        member_epoch: i32,
    },
    /// Run `onPartitionsAssigned` for `added` (possibly empty, as Java calls it on every
    /// reconciliation), then call `ack_assigned`.
    PartitionsAssigned {
        /// Partitions new to this member.
        added: Vec<TopicPartition>,
        /// The member's whole assignment from now on.
        assignment: Vec<TopicPartition>,
    },
    /// The partitions are already someone else's (fenced, session or poll timeout, fatal
    /// error): run `onPartitionsLost` (do not commit), then call `ack_revoked`.
    PartitionsLost {
        /// Partitions no longer owned.
        partitions: Vec<TopicPartition>,
    },
    /// The target assignment names topic ids missing from the metadata given so far: fetch
    /// metadata and call `metadata_changed`. Partitions of other topics reconcile meanwhile.
    MetadataNeeded {
        /// The unresolved topic ids.
        topic_ids: BTreeSet<TopicId>,
    },
    /// The coordinator was found (`Some`) or marked unknown (`None`).
    CoordinatorChanged {
        /// The new coordinator.
        coordinator: Option<Coordinator>,
    },
    /// An error to report from `poll()`; the member carries on.
    Error(ConsumerGroupError),
    /// The member cannot continue; it stops (state [`super::MemberState::Fatal`]).
    Fatal(ConsumerGroupError),
    /// `leave`/`unsubscribe` finished: the leave heartbeat was answered, failed, or could
    /// not be sent.
    Left,
}
