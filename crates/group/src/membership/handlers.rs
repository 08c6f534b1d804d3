//! Responses and failures fed back into [`Membership`], handled as Java's
//! `AbstractCoordinator` / `ConsumerCoordinator` response handlers do.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use kafka_protocol::messages::find_coordinator_response::FindCoordinatorResponse;
use kafka_protocol::messages::heartbeat_response::HeartbeatResponse;
use kafka_protocol::messages::join_group_response::JoinGroupResponse;
use kafka_protocol::messages::leave_group_response::LeaveGroupResponse;
use kafka_protocol::messages::offset_commit_response::OffsetCommitResponse;
use kafka_protocol::messages::sync_group_response::SyncGroupResponse;

use super::commit_error::{commit_error_kind, CommitErrorKind};
use super::{
    AfterRevoke, Api, Coordinator, Event, Generation, GroupError, GroupRequest, Membership,
    PendingAssignment, RequestId, State, SyncGroupParams,
};
use crate::assignor::{ClusterMetadata, MemberSubscription, RebalanceProtocol};
use crate::protocol::{Assignment, Subscription, ASSIGNMENT_MAX_VERSION, PROTOCOL_TYPE};

/// Error codes the membership logic branches on (Kafka protocol guide, "Error Codes").
pub(crate) mod code {
    pub const NONE: i16 = 0;
    pub const COORDINATOR_LOAD_IN_PROGRESS: i16 = 14;
    pub const COORDINATOR_NOT_AVAILABLE: i16 = 15;
    pub const NOT_COORDINATOR: i16 = 16;
    pub const ILLEGAL_GENERATION: i16 = 22;
    pub const INCONSISTENT_GROUP_PROTOCOL: i16 = 23;
    pub const INVALID_GROUP_ID: i16 = 24;
    pub const UNKNOWN_MEMBER_ID: i16 = 25;
    pub const INVALID_SESSION_TIMEOUT: i16 = 26;
    pub const REBALANCE_IN_PROGRESS: i16 = 27;
    pub const GROUP_AUTHORIZATION_FAILED: i16 = 30;
    pub const UNSUPPORTED_VERSION: i16 = 35;
    pub const MEMBER_ID_REQUIRED: i16 = 79;
    pub const GROUP_MAX_SIZE_REACHED: i16 = 81;
    pub const FENCED_INSTANCE_ID: i16 = 82;
}

fn is_coordinator_moved(c: i16) -> bool {
    c == code::COORDINATOR_NOT_AVAILABLE || c == code::NOT_COORDINATOR
}

fn is_retriable(c: i16) -> bool {
    kafka_protocol::error::ResponseError::try_from_code(c).is_some_and(|e| e.is_retriable())
}

impl Membership {
    fn take_in_flight(&mut self, id: RequestId, api: fn(Api) -> bool) -> Option<Generation> {
        match self.in_flight.get(&id) {
            Some(f) if api(f.api) => self.in_flight.remove(&id).map(|f| f.generation),
            // Unknown id: answered after a reset, coordinator change or close; ignore.
            _ => None,
        }
    }

    /// FindCoordinator answered. Reads v0–v3 top-level fields or the v4+ `coordinators`
    /// entry for this group.
    pub fn handle_find_coordinator_response(
        &mut self,
        id: RequestId,
        response: &FindCoordinatorResponse,
        now: Instant,
    ) {
        if self
            .take_in_flight(id, |a| a == Api::FindCoordinator)
            .is_none()
        {
            return;
        }
        self.find_request = None;
        let (error, node_id, host, port) = match response
            .coordinators
            .iter()
            .find(|c| c.key.as_str() == self.config.group_id)
            .or(response.coordinators.first())
        {
            Some(c) => (c.error_code, c.node_id.0, c.host.to_string(), c.port),
            None => (
                response.error_code,
                response.node_id.0,
                response.host.to_string(),
                response.port,
            ),
        };
        if error == code::NONE && node_id >= 0 {
            let coordinator = Coordinator {
                node_id,
                host,
                port,
            };
            self.coordinator = Some(coordinator.clone());
            self.find_retry_at = None;
            // Java also restarts the session timer here (`resetSessionTimeout`); rafka keeps
            // counting from the last successful heartbeat so that a coordinator that is
            // found but never answers still ends in PartitionsLost (librdkafka does the
            // same). The next heartbeat keeps its schedule (or its failure backoff).
            self.emit(Event::CoordinatorChanged {
                coordinator: Some(coordinator),
            });
        } else if error == code::GROUP_AUTHORIZATION_FAILED {
            self.fail(GroupError::broker("FindCoordinator", error));
            return;
        } else {
            if !is_retriable(error) && error != code::NONE {
                self.emit(Event::Error(GroupError::broker("FindCoordinator", error)));
            }
            self.find_retry_at = Some(now + self.config.retry_backoff);
        }
        self.drive(now);
    }

    /// JoinGroup answered.
    pub fn handle_join_response(
        &mut self,
        id: RequestId,
        response: &JoinGroupResponse,
        now: Instant,
    ) {
        if self.take_in_flight(id, |a| a == Api::JoinGroup).is_none()
            || self.state != (State::Joining { request: id })
        {
            return;
        }
        let error = response.error_code;
        let backoff = self.config.retry_backoff;
        match error {
            code::NONE => {
                if let Some(t) = &response.protocol_type {
                    if t.as_str() != PROTOCOL_TYPE {
                        self.fail(GroupError::InconsistentProtocol(Some(t.to_string())));
                        return;
                    }
                }
                let protocol_name = response.protocol_name.as_ref().map(|p| p.to_string());
                self.generation = Generation {
                    generation_id: response.generation_id,
                    member_id: response.member_id.to_string(),
                    protocol_name: protocol_name.clone(),
                };
                self.session_deadline = Some(now + self.config.session_timeout);
                self.next_heartbeat_at = Some(now + self.config.heartbeat_interval);
                let Some(protocol_name) = protocol_name
                    .filter(|p| self.config.assignors.iter().any(|a| a.name() == p.as_str()))
                else {
                    self.fail(GroupError::UnknownProtocol(
                        response.protocol_name.as_ref().map(|p| p.to_string()),
                    ));
                    return;
                };
                self.is_leader = response.leader == response.member_id;
                if self.is_leader && !response.skip_assignment {
                    let join = PendingAssignment {
                        protocol_name,
                        members: response
                            .members
                            .iter()
                            .map(|m| {
                                (
                                    m.member_id.to_string(),
                                    m.group_instance_id.as_ref().map(|i| i.to_string()),
                                    m.metadata.clone(),
                                )
                            })
                            .collect(),
                    };
                    self.assign_and_sync(join, now, false);
                } else {
                    // Followers (and a static leader told to skip assignment, KIP-814) send
                    // an empty SyncGroup.
                    self.send_sync(protocol_name, Vec::new());
                }
            }
            code::MEMBER_ID_REQUIRED => {
                // KIP-394: the coordinator hands out the id; rejoin at once with it.
                self.generation = Generation {
                    generation_id: -1,
                    member_id: response.member_id.to_string(),
                    protocol_name: None,
                };
                self.state_unjoined_rejoin(now, std::time::Duration::ZERO);
            }
            code::UNKNOWN_MEMBER_ID | code::ILLEGAL_GENERATION => {
                self.reset_generation(now);
            }
            code::REBALANCE_IN_PROGRESS => {
                self.state_unjoined_rejoin(now, std::time::Duration::ZERO);
            }
            code::COORDINATOR_LOAD_IN_PROGRESS => self.state_unjoined_rejoin(now, backoff),
            c if is_coordinator_moved(c) => {
                self.mark_coordinator_unknown(now);
                self.state_unjoined_rejoin(now, backoff);
            }
            code::FENCED_INSTANCE_ID
            | code::INCONSISTENT_GROUP_PROTOCOL
            | code::INVALID_SESSION_TIMEOUT
            | code::INVALID_GROUP_ID
            | code::GROUP_AUTHORIZATION_FAILED
            | code::GROUP_MAX_SIZE_REACHED
            | code::UNSUPPORTED_VERSION => {
                self.fail(GroupError::broker("JoinGroup", error));
                return;
            }
            other => {
                if !is_retriable(other) {
                    self.emit(Event::Error(GroupError::broker("JoinGroup", other)));
                }
                self.state_unjoined_rejoin(now, backoff);
            }
        }
        self.drive(now);
    }

    /// Leader: decode the members' subscriptions, run the assignor, send SyncGroup. Waits for
    /// metadata (once) when members subscribe to topics this member has no counts for.
    pub(super) fn assign_and_sync(
        &mut self,
        join: PendingAssignment,
        now: Instant,
        metadata_fresh: bool,
    ) {
        let mut members: BTreeMap<String, MemberSubscription> = BTreeMap::new();
        for (member_id, instance, metadata) in &join.members {
            match Subscription::decode(metadata) {
                Ok(mut s) => {
                    s.group_instance_id = instance.clone();
                    members.insert(member_id.clone(), s);
                }
                Err(e) => {
                    self.emit(Event::Error(e.into()));
                    self.state_unjoined_rejoin(now, self.config.retry_backoff);
                    return;
                }
            }
        }
        let group_topics: BTreeSet<String> = members
            .values()
            .flat_map(|s| s.topics.iter().cloned())
            .collect();
        let missing: BTreeSet<String> = group_topics
            .iter()
            .filter(|t| !self.metadata.contains_key(*t))
            .cloned()
            .collect();
        if !missing.is_empty() && !metadata_fresh {
            self.metadata_requested = missing.clone();
            self.emit(Event::MetadataNeeded { topics: missing });
            self.state = State::AwaitingMetadata { join };
            return;
        }
        let cluster = ClusterMetadata::from_counts(
            group_topics
                .iter()
                .filter_map(|t| self.metadata.get(t).map(|n| (t.clone(), *n))),
        );
        let assignor = self
            .config
            .assignors
            .iter()
            .find(|a| a.name() == join.protocol_name)
            .cloned()
            .expect("checked when JoinGroup answered");
        let result = match assignor.assign(&cluster, &members) {
            Ok(r) => r,
            Err(e) => {
                self.emit(Event::Error(e.into()));
                self.state_unjoined_rejoin(now, self.config.retry_backoff);
                return;
            }
        };
        let mut assignments = Vec::with_capacity(members.len());
        for member_id in members.keys() {
            let a = result.get(member_id).cloned().unwrap_or_default();
            match a.encode(ASSIGNMENT_MAX_VERSION) {
                Ok(b) => assignments.push((member_id.clone(), b)),
                Err(e) => {
                    self.fail(e.into());
                    return;
                }
            }
        }
        self.assignment_snapshot = Some(cluster.partitions_per_topic.clone());
        self.send_sync(join.protocol_name, assignments);
    }

    fn send_sync(&mut self, protocol_name: String, assignments: Vec<(String, bytes::Bytes)>) {
        let request = GroupRequest::SyncGroup(SyncGroupParams {
            group_id: self.config.group_id.clone(),
            generation_id: self.generation.generation_id,
            member_id: self.generation.member_id.clone(),
            group_instance_id: self.config.group_instance_id.clone(),
            protocol_type: PROTOCOL_TYPE.to_owned(),
            protocol_name,
            assignments,
        });
        let id = self.send(Api::SyncGroup, request, self.config.request_timeout);
        self.state = State::AwaitingSync { request: id };
    }

    /// SyncGroup answered.
    pub fn handle_sync_response(
        &mut self,
        id: RequestId,
        response: &SyncGroupResponse,
        now: Instant,
    ) {
        let Some(sent) = self.take_in_flight(id, |a| a == Api::SyncGroup) else {
            return;
        };
        if self.state != (State::AwaitingSync { request: id }) || sent != self.generation {
            return;
        }
        let error = response.error_code;
        let backoff = self.config.retry_backoff;
        match error {
            code::NONE => {
                let type_ok = response
                    .protocol_type
                    .as_ref()
                    .is_none_or(|t| t.as_str() == PROTOCOL_TYPE);
                let name_ok = response
                    .protocol_name
                    .as_ref()
                    .is_none_or(|n| Some(n.as_str()) == self.generation.protocol_name.as_deref());
                if !type_ok || !name_ok {
                    let got = response
                        .protocol_name
                        .as_ref()
                        .or(response.protocol_type.as_ref())
                        .map(|s| s.to_string());
                    self.fail(GroupError::InconsistentProtocol(got));
                    return;
                }
                match Assignment::decode(&response.assignment) {
                    Ok(a) => self.complete_join(a.partitions, now),
                    Err(e) => {
                        self.emit(Event::Error(e.into()));
                        self.state_unjoined_rejoin(now, backoff);
                    }
                }
            }
            code::REBALANCE_IN_PROGRESS => {
                // Keep member id and generation; the revocation already ran.
                self.state_unjoined_rejoin(now, std::time::Duration::ZERO);
            }
            code::UNKNOWN_MEMBER_ID | code::ILLEGAL_GENERATION => self.reset_generation(now),
            c if is_coordinator_moved(c) => {
                self.mark_coordinator_unknown(now);
                self.state_unjoined_rejoin(now, backoff);
            }
            code::FENCED_INSTANCE_ID
            | code::GROUP_AUTHORIZATION_FAILED
            | code::INCONSISTENT_GROUP_PROTOCOL => {
                self.fail(GroupError::broker("SyncGroup", error));
                return;
            }
            other => {
                if !is_retriable(other) {
                    self.emit(Event::Error(GroupError::broker("SyncGroup", other)));
                }
                self.state_unjoined_rejoin(now, backoff);
            }
        }
        self.drive(now);
    }

    /// Java `onJoinComplete`.
    fn complete_join(&mut self, assigned: Vec<rafka_wire::TopicPartition>, now: Instant) {
        self.state = State::Stable;
        self.rejoin_needed = false;
        self.join_prepared = false;
        self.session_deadline = Some(now + self.config.session_timeout);
        let owned: BTreeSet<_> = self.owned.iter().cloned().collect();
        let assigned_set: BTreeSet<_> = assigned.iter().cloned().collect();
        if self.protocol == RebalanceProtocol::Cooperative {
            let revoked: Vec<_> = self
                .owned
                .iter()
                .filter(|tp| !assigned_set.contains(*tp))
                .cloned()
                .collect();
            if !revoked.is_empty() {
                // KIP-429: give these up now, then rejoin so the new owner can get them.
                self.emit(Event::PartitionsRevoked {
                    partitions: revoked,
                    generation: self.generation.clone(),
                });
                self.awaiting_ack = Some(AfterRevoke::Join);
                self.rejoin_needed = true;
                // The revocation for that rejoin has run.
                self.join_prepared = true;
            }
        }
        let added: Vec<_> = assigned
            .iter()
            .filter(|tp| !owned.contains(*tp))
            .cloned()
            .collect();
        self.owned = assigned.clone();
        self.previous_assignment = Some(assigned.clone());
        self.previous_generation = Some(self.generation.generation_id);
        self.emit(Event::PartitionsAssigned {
            partitions: added,
            assignment: assigned,
            generation: self.generation.clone(),
        });
        if self.subscribed != self.joined_subscription {
            self.rejoin_needed = true;
        }
        if let Some(snapshot) = &self.assignment_snapshot {
            if snapshot
                .iter()
                .any(|(t, n)| self.metadata.get(t) != Some(n))
            {
                self.rejoin_needed = true;
            }
        }
    }

    /// Heartbeat answered.
    pub fn handle_heartbeat_response(
        &mut self,
        id: RequestId,
        response: &HeartbeatResponse,
        now: Instant,
    ) {
        let Some(sent) = self.take_in_flight(id, |a| a == Api::Heartbeat) else {
            return;
        };
        if self.heartbeat_request == Some(id) {
            self.heartbeat_request = None;
        }
        let unchanged = sent == self.generation;
        let error = response.error_code;
        match error {
            code::NONE => self.receive_heartbeat(now),
            code::REBALANCE_IN_PROGRESS => {
                // Java counts it as a received heartbeat; only a stable member must rejoin.
                self.receive_heartbeat(now);
                if self.state == State::Stable {
                    self.rejoin_needed = true;
                }
            }
            code::ILLEGAL_GENERATION | code::UNKNOWN_MEMBER_ID if unchanged => {
                self.reset_generation(now);
            }
            code::FENCED_INSTANCE_ID if unchanged => {
                self.fail(GroupError::broker("Heartbeat", error));
                return;
            }
            code::ILLEGAL_GENERATION | code::UNKNOWN_MEMBER_ID | code::FENCED_INSTANCE_ID => {
                // Sent under an older generation: ignore (Java "stale generation").
            }
            c if is_coordinator_moved(c) => {
                self.mark_coordinator_unknown(now);
                self.fail_heartbeat(now);
            }
            code::GROUP_AUTHORIZATION_FAILED => {
                self.fail(GroupError::broker("Heartbeat", error));
                return;
            }
            _ => self.fail_heartbeat(now),
        }
        self.drive(now);
    }

    fn receive_heartbeat(&mut self, now: Instant) {
        if self.heartbeating() {
            self.session_deadline = Some(now + self.config.session_timeout);
        }
    }

    /// Java `Heartbeat.failHeartbeat`: retry after `retry.backoff.ms`.
    fn fail_heartbeat(&mut self, now: Instant) {
        self.heartbeat_request = None;
        self.next_heartbeat_at = Some(now + self.config.retry_backoff);
    }

    /// LeaveGroup answered; errors are only logged, as in Java.
    pub fn handle_leave_response(
        &mut self,
        id: RequestId,
        response: &LeaveGroupResponse,
        now: Instant,
    ) {
        let Some(f) = self.in_flight.get(&id).cloned() else {
            return;
        };
        let Api::LeaveGroup { closing } = f.api else {
            return;
        };
        self.in_flight.remove(&id);
        let member_error = response
            .members
            .iter()
            .map(|m| m.error_code)
            .find(|c| *c != 0);
        let error = if response.error_code != 0 {
            Some(response.error_code)
        } else {
            member_error
        };
        if let Some(error) = error {
            tracing::info!(error, "LeaveGroup failed; ignoring");
        }
        if closing && self.state == State::Leaving {
            self.close();
        }
        self.drive(now);
    }

    /// A request failed without a response (connection lost, request timeout). As Java does
    /// for a disconnect, a coordinator request marks the coordinator unknown.
    pub fn handle_request_failed(&mut self, id: RequestId, now: Instant) {
        let Some(f) = self.in_flight.remove(&id) else {
            return;
        };
        let backoff = self.config.retry_backoff;
        match f.api {
            Api::FindCoordinator => {
                self.find_request = None;
                self.find_retry_at = Some(now + backoff);
            }
            Api::JoinGroup | Api::SyncGroup => {
                self.mark_coordinator_unknown(now);
                self.state_unjoined_rejoin(now, backoff);
            }
            Api::Heartbeat => {
                self.mark_coordinator_unknown(now);
                self.fail_heartbeat(now);
            }
            Api::LeaveGroup { closing } => {
                if closing && self.state == State::Leaving {
                    self.close();
                }
            }
        }
        self.drive(now);
    }

    /// An OffsetCommit sent under `sent` answered: applies what affects membership (Java
    /// `OffsetCommitResponseHandler`) and returns the error to report for the commit, if any.
    ///
    /// # Errors
    /// The first partition error, classified by [`commit_error_kind`] (the one table, shared
    /// with the consumer): [`GroupError::CommitFailed`] for UNKNOWN_MEMBER_ID /
    /// ILLEGAL_GENERATION / FENCED_INSTANCE_ID / REBALANCE_IN_PROGRESS (the last one keeps the
    /// generation and only asks for a rejoin, as Java), otherwise [`GroupError::Broker`]
    /// (retriable ones such as NOT_COORDINATOR can be sent again).
    pub fn handle_commit_response(
        &mut self,
        sent: &Generation,
        response: &OffsetCommitResponse,
        now: Instant,
    ) -> Result<(), GroupError> {
        let error = response
            .topics
            .iter()
            .flat_map(|t| t.partitions.iter())
            .map(|p| p.error_code)
            .find(|c| *c != code::NONE);
        let Some(error) = error else {
            return Ok(());
        };
        Err(self.handle_commit_error(sent, error, now))
    }

    /// An OffsetCommit sent under `sent` failed with partition error `error` (non-zero):
    /// applies what the one table ([`commit_error_kind`]) says for membership and returns the
    /// error to report for the commit.
    pub fn handle_commit_error(
        &mut self,
        sent: &Generation,
        error: i16,
        now: Instant,
    ) -> GroupError {
        let unchanged = sent.generation_id == self.generation.generation_id
            && sent.member_id == self.generation.member_id;
        let failed = || GroupError::CommitFailed {
            error: GroupError::broker("OffsetCommit", error).code_error(),
        };
        let result = match commit_error_kind(error) {
            CommitErrorKind::Fenced => {
                if unchanged {
                    self.reset_generation(now);
                }
                failed()
            }
            CommitErrorKind::FencedInstance => {
                if unchanged {
                    self.fail(GroupError::broker("OffsetCommit", error));
                }
                failed()
            }
            CommitErrorKind::RebalanceInProgress => {
                // Java: rejoin but keep the generation; the commit is not retried (the
                // application may commit again once `poll` completed the rebalance).
                self.rejoin_needed = true;
                failed()
            }
            CommitErrorKind::CoordinatorMoved => {
                self.mark_coordinator_unknown(now);
                GroupError::broker("OffsetCommit", error)
            }
            CommitErrorKind::Retriable | CommitErrorKind::Fatal => {
                GroupError::broker("OffsetCommit", error)
            }
        };
        self.drive(now);
        result
    }
}

impl GroupError {
    fn code_error(&self) -> kafka_protocol::error::ResponseError {
        match self {
            GroupError::Broker { error, .. } => *error,
            _ => kafka_protocol::error::ResponseError::Unknown(-1),
        }
    }
}
