//! JoinGroup and SyncGroup answers: the member joins, the leader assigns, and the assignment
//! arrives (Java's `JoinGroupResponseHandler` / `SyncGroupResponseHandler`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use kafka_protocol::messages::join_group_response::JoinGroupResponse;
use kafka_protocol::messages::sync_group_response::SyncGroupResponse;

use super::handlers::{code, is_coordinator_moved, is_retriable};
use super::*;
use crate::assignor::{ClusterMetadata, MemberSubscription, RebalanceProtocol};
use crate::protocol::{Assignment, Subscription, ASSIGNMENT_MAX_VERSION, PROTOCOL_TYPE};

impl Membership {
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

    pub(super) fn send_sync(
        &mut self,
        protocol_name: String,
        assignments: Vec<(String, bytes::Bytes)>,
    ) {
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
    pub(super) fn complete_join(
        &mut self,
        assigned: Vec<rafka_wire::TopicPartition>,
        now: Instant,
    ) {
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
}
