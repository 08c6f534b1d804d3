//! [`GroupMember`]: the one interface a consumer drives its group membership through, whatever
//! the group protocol. The classic protocol (JoinGroup/SyncGroup/Heartbeat, [`Membership`]) is
//! the first implementation; the consumer protocol of KIP-848 (ConsumerGroupHeartbeat,
//! [`crate::ConsumerMember`]) the second; share groups (KIP-932, ShareGroupHeartbeat) are
//! meant to be the next one.
//!
//! Like the machine behind it, the interface is sans-IO: inputs are responses, failures,
//! user actions and `now`; outputs are [`Action`]s (requests to send, rebalance events) and
//! the next deadline ([`GroupMember::poll_timeout`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Instant;

use kafka_protocol::messages::{
    ConsumerGroupHeartbeatResponse, FindCoordinatorResponse, HeartbeatResponse, JoinGroupResponse,
    LeaveGroupResponse, SyncGroupResponse,
};
use regex::Regex;

use crate::consumer_membership::{RequestFailure, TopicId};
use crate::membership::{Action, Generation, GroupError, GroupMetadata, Membership, RequestId};

/// A response to one of a member's requests, handed back with [`GroupMember::handle_response`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum GroupResponse {
    /// FindCoordinator (API 10).
    FindCoordinator(FindCoordinatorResponse),
    /// JoinGroup (API 11).
    JoinGroup(JoinGroupResponse),
    /// SyncGroup (API 14).
    SyncGroup(SyncGroupResponse),
    /// Heartbeat (API 12).
    Heartbeat(HeartbeatResponse),
    /// LeaveGroup (API 13).
    LeaveGroup(LeaveGroupResponse),
    /// ConsumerGroupHeartbeat (API 68, KIP-848).
    ConsumerGroupHeartbeat(ConsumerGroupHeartbeatResponse),
}

impl GroupResponse {
    /// The response's top-level error code (0 = none).
    pub fn error_code(&self) -> i16 {
        match self {
            GroupResponse::FindCoordinator(r) => r.error_code,
            GroupResponse::JoinGroup(r) => r.error_code,
            GroupResponse::SyncGroup(r) => r.error_code,
            GroupResponse::Heartbeat(r) => r.error_code,
            GroupResponse::LeaveGroup(r) => r.error_code,
            GroupResponse::ConsumerGroupHeartbeat(r) => r.error_code,
        }
    }
}

/// A group member as the consumer drives it (see the module docs).
pub trait GroupMember: Send + fmt::Debug {
    /// Start (or keep) being a member.
    fn join(&mut self, now: Instant);
    /// Subscribe to exactly these topics; a change rejoins.
    fn set_subscription(&mut self, topics: Vec<String>, now: Instant);
    /// Subscribe to every topic whose whole name matches `pattern`.
    fn set_subscription_pattern(&mut self, pattern: Regex, now: Instant);
    /// The topics subscribed now (a pattern's matches).
    fn subscribed_topics(&self) -> &BTreeSet<String>;
    /// New partition counts (topic → count).
    fn metadata_changed(&mut self, partition_counts: BTreeMap<String, i32>, now: Instant);
    /// Topic ids (KIP-516) → names from the same metadata. The KIP-848 member needs them:
    /// its assignment names topics by id. Default: ignored (the classic member).
    fn topic_ids_changed(&mut self, topic_ids: BTreeMap<TopicId, String>, now: Instant) {
        let _ = (topic_ids, now);
    }
    /// The application called `poll` (`max.poll.interval.ms`).
    fn poll_called(&mut self, now: Instant);
    /// The revoke or lost hooks of the last event ran.
    fn ack_revoked(&mut self, now: Instant);
    /// The commit asked for by [`crate::membership::Event::CommitBeforeReconcile`] finished,
    /// or failed: the reconciliation goes on either way, as in Java. Default: nothing (the
    /// classic member never asks for one).
    fn commit_done(&mut self, now: Instant) {
        let _ = now;
    }
    /// The assign hook of the last [`crate::membership::Event::PartitionsAssigned`] ran. The
    /// KIP-848 member acknowledges the new assignment to the broker (a heartbeat with the
    /// owned partitions) only then. Default: nothing (the classic member's SyncGroup is done
    /// already).
    fn ack_assigned(&mut self, now: Instant) {
        let _ = now;
    }
    /// Leave the group; ends with [`crate::membership::Event::Left`].
    fn leave(&mut self, now: Instant);
    /// A response to request `id`.
    fn handle_response(&mut self, id: RequestId, response: &GroupResponse, now: Instant);
    /// Request `id` failed (connection, timeout): the member backs off and retries.
    fn handle_request_failed(&mut self, id: RequestId, now: Instant);
    /// Request `id` failed for this reason. A KIP-848 member treats an unsupported version
    /// as fatal (a broker without ConsumerGroupHeartbeat); the default treats every failure
    /// as [`GroupMember::handle_request_failed`].
    fn handle_request_failure(&mut self, id: RequestId, failure: RequestFailure, now: Instant) {
        let _ = failure;
        self.handle_request_failed(id, now);
    }
    /// An OffsetCommit sent under `sent` failed with `error`: membership effects of the one
    /// commit-error table ([`crate::commit_error_kind`]); returns the error to report.
    fn handle_commit_error(&mut self, sent: &Generation, error: i16, now: Instant) -> GroupError;
    /// Timers.
    fn handle_timeout(&mut self, now: Instant);
    /// The next request or event.
    fn poll_action(&mut self) -> Option<Action>;
    /// When [`GroupMember::handle_timeout`] must be called next.
    fn poll_timeout(&self) -> Option<Instant>;
    /// The generation, if the member is in one (commits carry it).
    fn generation(&self) -> Option<&Generation>;
    /// Group id, generation, member id and instance id (KIP-447).
    fn group_metadata(&self) -> GroupMetadata;
}

impl GroupMember for Membership {
    fn join(&mut self, now: Instant) {
        Membership::join(self, now)
    }
    fn set_subscription(&mut self, topics: Vec<String>, now: Instant) {
        Membership::set_subscription(self, topics, now)
    }
    fn set_subscription_pattern(&mut self, pattern: Regex, now: Instant) {
        Membership::set_subscription_pattern(self, pattern, now)
    }
    fn subscribed_topics(&self) -> &BTreeSet<String> {
        Membership::subscribed_topics(self)
    }
    fn metadata_changed(&mut self, partition_counts: BTreeMap<String, i32>, now: Instant) {
        Membership::metadata_changed(self, partition_counts, now)
    }
    fn poll_called(&mut self, now: Instant) {
        Membership::poll_called(self, now)
    }
    fn ack_revoked(&mut self, now: Instant) {
        Membership::ack_revoked(self, now)
    }
    fn leave(&mut self, now: Instant) {
        Membership::leave(self, now)
    }
    fn handle_response(&mut self, id: RequestId, response: &GroupResponse, now: Instant) {
        match response {
            GroupResponse::FindCoordinator(r) => self.handle_find_coordinator_response(id, r, now),
            GroupResponse::JoinGroup(r) => self.handle_join_response(id, r, now),
            GroupResponse::SyncGroup(r) => self.handle_sync_response(id, r, now),
            GroupResponse::Heartbeat(r) => self.handle_heartbeat_response(id, r, now),
            GroupResponse::LeaveGroup(r) => self.handle_leave_response(id, r, now),
            GroupResponse::ConsumerGroupHeartbeat(_) => {
                tracing::warn!("ConsumerGroupHeartbeat response for a classic member; ignored")
            }
        }
    }
    fn handle_request_failed(&mut self, id: RequestId, now: Instant) {
        Membership::handle_request_failed(self, id, now)
    }
    fn handle_commit_error(&mut self, sent: &Generation, error: i16, now: Instant) -> GroupError {
        Membership::handle_commit_error(self, sent, error, now)
    }
    fn handle_timeout(&mut self, now: Instant) {
        Membership::handle_timeout(self, now)
    }
    fn poll_action(&mut self) -> Option<Action> {
        Membership::poll_action(self)
    }
    fn poll_timeout(&self) -> Option<Instant> {
        Membership::poll_timeout(self)
    }
    fn generation(&self) -> Option<&Generation> {
        Membership::generation(self)
    }
    fn group_metadata(&self) -> GroupMetadata {
        Membership::group_metadata(self)
    }
}
