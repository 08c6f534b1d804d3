//! rafka-group: Kafka consumer-group coordination without I/O.
//!
//! # Architecture
//! - [`protocol`]: the "consumer" embedded protocol — Subscription and Assignment bytes,
//!   versions 0–3, as Java's `ConsumerProtocol` writes and reads them.
//! - [`assignor`]: the [`assignor::Assignor`] trait (pure functions from subscriptions to
//!   assignments) and Java-identical `range`, `roundrobin`, `sticky` and `cooperative-sticky`.
//! - [`membership`]: the sans-IO member state machine of Java's `AbstractCoordinator` /
//!   `ConsumerCoordinator`: inputs are responses, failures, user actions and `now`; outputs are
//!   requests to send and rebalance events, polled with `poll_action()`, plus `poll_timeout()`.
//! - [`consumer_membership`]: the same, sans-IO, for the KIP-848 consumer group protocol
//!   (`group.protocol=consumer`, ConsumerGroupHeartbeat), after Java's `ConsumerMembershipManager`.
//! - [`member`]: [`GroupMember`], the interface the consumer drives a membership through; the
//!   classic [`Membership`] implements it, and so does [`consumer_member`]'s
//!   [`ConsumerMember`], the KIP-848 machine adapted to it. Share groups are meant to be next.
//!
//! A tokio driver (in `rafka-consumer`) sends the requests, feeds back the responses and runs
//! the rebalance hooks when events come out.
#![warn(missing_docs)]

pub mod assignor;
mod config_error;
pub mod consumer_member;
pub mod consumer_membership;
pub mod member;
pub mod membership;
pub mod protocol;

pub use assignor::{
    AssignError, Assignor, ClusterMetadata, CooperativeStickyAssignor, RangeAssignor,
    RebalanceProtocol, RoundRobinAssignor, StickyAssignor,
};
pub use config_error::ConfigError;
pub use consumer_member::ConsumerMember;
pub use member::{GroupMember, GroupResponse};
pub use membership::{
    commit_error_kind, Action, CommitErrorKind, Coordinator, Destination, Event, Generation,
    GroupConfig, GroupError, GroupMetadata, GroupRequest, Membership, OutgoingRequest, RequestId,
};
pub use protocol::{Assignment, ProtocolError, Subscription, PROTOCOL_TYPE};
