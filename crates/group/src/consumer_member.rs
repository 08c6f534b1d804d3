//! [`ConsumerMember`]: the KIP-848 member ([`ConsumerMembership`], `group.protocol=consumer`)
//! behind the [`GroupMember`] interface the consumer drives, so the consumer runs either
//! protocol with the same core, driver and listener contract.
//!
//! What the interface speaks and the machine does not is translated here, without I/O:
//! - requests come out as [`GroupRequest::FindCoordinator`] and
//!   [`GroupRequest::ConsumerGroupHeartbeat`]; responses go back as
//!   [`GroupResponse::FindCoordinator`] and [`GroupResponse::ConsumerGroupHeartbeat`];
//! - the member epoch stands where the classic member has its generation id
//!   ([`GroupMember::generation`], [`GroupMember::group_metadata`]): OffsetCommit v9+ carries
//!   it in `GenerationIdOrMemberEpoch`, as Java's `ConsumerGroupMetadata` does;
//! - topic ids of the assignment are resolved with [`GroupMember::topic_ids_changed`];
//!   [`crate::consumer_membership::ConsumerEvent::MetadataNeeded`] becomes a metadata refresh
//!   ([`Event::MetadataNeeded`] with no extra topic names);
//! - a reconciliation runs in Java's order: [`Event::CommitBeforeReconcile`] (with
//!   `auto_commit`) until [`GroupMember::commit_done`], then the revoke hook until
//!   [`GroupMember::ack_revoked`], then the assign hook until [`GroupMember::ack_assigned`];
//!   only then does the heartbeat acknowledge the new assignment (its owned partitions).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use regex::Regex;

use crate::consumer_membership::{
    ConsumerAction, ConsumerEvent, ConsumerGroupConfig, ConsumerGroupError, ConsumerGroupRequest,
    ConsumerMembership, RequestFailure, TopicId,
};
use crate::member::{GroupMember, GroupResponse};
use crate::membership::{
    commit_error_kind, Action, CommitErrorKind, Event, Generation, GroupError, GroupMetadata,
    GroupRequest, OutgoingRequest, RequestId,
};

/// What the member subscribes to, as the consumer gave it.
#[derive(Debug, Clone)]
enum Selector {
    Topics,
    /// Sent to the broker (`SubscribedTopicRegex`); matched locally (anchored to whole
    /// names, as the broker does) only to report which topics the subscription covers.
    Pattern(Regex),
}

/// The KIP-848 consumer group member as a [`GroupMember`] (see the module docs).
#[derive(Debug)]
pub struct ConsumerMember {
    machine: ConsumerMembership,
    group_instance_id: Option<String>,
    selector: Option<Selector>,
    /// Every topic name the metadata knows (pattern matches are taken from these).
    known_topics: BTreeSet<String>,
    subscribed: BTreeSet<String>,
    /// [`GroupMember::generation`] hands out a reference: kept in step with the machine.
    generation: Generation,
}

impl ConsumerMember {
    /// A member that joins on [`GroupMember::join`]. `member_id` is the id the client
    /// generated for this process (a UUID, KIP-1082). With `config.auto_commit`, each
    /// reconciliation starts with [`Event::CommitBeforeReconcile`].
    ///
    /// # Errors
    /// [`crate::consumer_membership::ConfigError`] from
    /// [`ConsumerGroupConfig::validate`], or an empty member id.
    pub fn new(
        config: ConsumerGroupConfig,
        member_id: impl Into<String>,
    ) -> Result<ConsumerMember, crate::consumer_membership::ConfigError> {
        let group_instance_id = config.group_instance_id.clone();
        let machine = ConsumerMembership::new(config, member_id)?;
        let mut member = ConsumerMember {
            machine,
            group_instance_id,
            selector: None,
            known_topics: BTreeSet::new(),
            subscribed: BTreeSet::new(),
            generation: Generation::none(),
        };
        member.sync();
        Ok(member)
    }

    /// The machine underneath (state, epoch, target assignment).
    pub fn machine(&self) -> &ConsumerMembership {
        &self.machine
    }

    /// Keeps [`Self::generation`] in step with the machine's epoch.
    fn sync(&mut self) {
        self.sync_generation();
    }

    fn sync_generation(&mut self) {
        let epoch = self.machine.commit_member_epoch().unwrap_or(-1);
        if self.generation.generation_id != epoch
            || self.generation.member_id != self.machine.member_id()
        {
            self.generation = Generation {
                generation_id: epoch,
                member_id: self.machine.member_id().to_owned(),
                protocol_name: None,
            };
        }
    }

    fn rematch(&mut self) {
        if let Some(Selector::Pattern(re)) = &self.selector {
            self.subscribed = self
                .known_topics
                .iter()
                .filter(|t| re.is_match(t))
                .cloned()
                .collect();
        }
    }
}

/// The classic interface's error for one of the KIP-848 member's.
fn group_error(e: ConsumerGroupError) -> GroupError {
    match e {
        ConsumerGroupError::Coordinator(inner) => inner,
        other => GroupError::ConsumerGroup(Box::new(other)),
    }
}

impl GroupMember for ConsumerMember {
    fn join(&mut self, now: Instant) {
        // The machine joins on the poll after a subscription (Java `onConsumerPoll`).
        self.machine.poll_called(now);
        self.sync();
    }

    fn set_subscription(&mut self, topics: Vec<String>, now: Instant) {
        let topics: BTreeSet<String> = topics.into_iter().collect();
        self.subscribed = topics.clone();
        self.selector = Some(Selector::Topics);
        self.machine.subscribe_topics(topics, now);
        self.sync();
    }

    fn set_subscription_pattern(&mut self, pattern: Regex, now: Instant) {
        self.machine.subscribe_regex(pattern.as_str(), now);
        // The broker (RE2J) matches whole topic names; so does the local view.
        let whole = Regex::new(&format!("^(?:{})$", pattern.as_str())).unwrap_or(pattern);
        self.selector = Some(Selector::Pattern(whole));
        self.rematch();
        self.sync();
    }

    fn subscribed_topics(&self) -> &BTreeSet<String> {
        &self.subscribed
    }

    fn metadata_changed(&mut self, partition_counts: BTreeMap<String, i32>, _now: Instant) {
        // The broker assigns; the member only needs the names (and, separately, the ids).
        self.known_topics = partition_counts.into_keys().collect();
        self.rematch();
    }

    fn topic_ids_changed(&mut self, topic_ids: BTreeMap<TopicId, String>, now: Instant) {
        self.machine.metadata_changed(topic_ids, now);
        self.sync();
    }

    fn poll_called(&mut self, now: Instant) {
        self.machine.poll_called(now);
        self.sync();
    }

    fn ack_revoked(&mut self, now: Instant) {
        self.machine.ack_revoked(now);
        self.sync();
    }

    fn commit_done(&mut self, now: Instant) {
        self.machine.commit_done(now);
        self.sync();
    }

    fn ack_assigned(&mut self, now: Instant) {
        self.machine.ack_assigned(now);
        self.sync();
    }

    fn leave(&mut self, now: Instant) {
        self.machine.leave(now);
        self.sync();
    }

    fn handle_response(&mut self, id: RequestId, response: &GroupResponse, now: Instant) {
        match response {
            GroupResponse::FindCoordinator(r) => {
                self.machine.handle_find_coordinator_response(id, r, now)
            }
            GroupResponse::ConsumerGroupHeartbeat(r) => {
                self.machine.handle_heartbeat_response(id, r, now)
            }
            other => tracing::warn!(?other, "classic group response for a KIP-848 member"),
        }
        self.sync();
    }

    fn handle_request_failed(&mut self, id: RequestId, now: Instant) {
        self.handle_request_failure(id, RequestFailure::Disconnected, now);
    }

    fn handle_request_failure(&mut self, id: RequestId, failure: RequestFailure, now: Instant) {
        self.machine.handle_request_failed(id, failure, now);
        self.sync();
    }

    /// Java's `CommitRequestManager` leaves membership to the heartbeat: a commit error
    /// changes nothing here (FENCED_MEMBER_EPOCH / UNKNOWN_MEMBER_ID reach the member through
    /// its next heartbeat). Only the error to report is built.
    fn handle_commit_error(&mut self, _sent: &Generation, error: i16, _now: Instant) -> GroupError {
        let e = kafka_protocol::error::ResponseError::try_from_code(error)
            .unwrap_or(kafka_protocol::error::ResponseError::Unknown(error));
        match commit_error_kind(error) {
            CommitErrorKind::Fenced
            | CommitErrorKind::RebalanceInProgress
            | CommitErrorKind::FencedInstance
            | CommitErrorKind::StaleMemberEpoch => GroupError::CommitFailed { error: e },
            _ => GroupError::Broker {
                api: "OffsetCommit",
                error: e,
            },
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.machine.handle_timeout(now);
        self.sync();
    }

    fn poll_action(&mut self) -> Option<Action> {
        let action = self.machine.poll_action()?;
        let event = match action {
            ConsumerAction::Send(r) => {
                let request = match r.request {
                    ConsumerGroupRequest::FindCoordinator(p) => GroupRequest::FindCoordinator(p),
                    ConsumerGroupRequest::Heartbeat(p) => GroupRequest::ConsumerGroupHeartbeat(p),
                };
                return Some(Action::Send(OutgoingRequest {
                    id: r.id,
                    destination: r.destination,
                    request,
                    timeout: r.timeout,
                }));
            }
            ConsumerAction::Event(e) => e,
        };
        let out = match event {
            ConsumerEvent::PartitionsRevoked {
                partitions,
                member_epoch,
            } => Event::PartitionsRevoked {
                partitions,
                generation: Generation {
                    generation_id: member_epoch,
                    member_id: self.machine.member_id().to_owned(),
                    protocol_name: None,
                },
            },
            ConsumerEvent::PartitionsLost { partitions } => Event::PartitionsLost { partitions },
            ConsumerEvent::PartitionsAssigned { added, assignment } => Event::PartitionsAssigned {
                partitions: added,
                assignment,
                generation: Generation {
                    generation_id: self.machine.member_epoch(),
                    member_id: self.machine.member_id().to_owned(),
                    protocol_name: None,
                },
            },
            ConsumerEvent::CommitBeforeReconcile { revoking } => {
                Event::CommitBeforeReconcile { revoking }
            }
            ConsumerEvent::MetadataNeeded { topic_ids } => {
                tracing::debug!(?topic_ids, "assignment names unknown topic ids");
                Event::MetadataNeeded {
                    topics: BTreeSet::new(),
                }
            }
            ConsumerEvent::CoordinatorChanged { coordinator } => {
                Event::CoordinatorChanged { coordinator }
            }
            ConsumerEvent::Error(e) => Event::Error(group_error(e)),
            ConsumerEvent::Fatal(e) => Event::Fatal(group_error(e)),
            ConsumerEvent::Left => Event::Left,
        };
        self.sync();
        Some(Action::Event(out))
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.machine.poll_timeout()
    }

    fn generation(&self) -> Option<&Generation> {
        Some(&self.generation)
    }

    fn group_metadata(&self) -> GroupMetadata {
        GroupMetadata {
            group_id: self.machine.config().group_id.clone(),
            generation_id: self.generation.generation_id,
            member_id: self.machine.member_id().to_owned(),
            group_instance_id: self.group_instance_id.clone(),
        }
    }
}
