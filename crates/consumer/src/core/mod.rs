//! [`ConsumerCore`]: the consumer's coordination logic without I/O — group membership behind
//! the [`GroupMember`] interface, the metadata it needs, offset commits (one queue, in order,
//! classified by the one commit-error table, retried with backoff), auto-commit and the poll
//! interval.
//!
//! Shaped like quinn-proto's `Connection`: inputs are `handle_*(…, now)` calls (responses,
//! failures, user actions, timers), outputs are [`ConsumerCore::poll_transmit`] (requests to
//! send), [`ConsumerCore::poll_event`] (what the application must act on: rebalance hooks,
//! commit results) and [`ConsumerCore::poll_timeout`] (when to call
//! [`ConsumerCore::handle_timeout`]). No tokio: the tests in `tests.rs` drive it against a
//! scripted coordinator on simulated time, and the driver task (`driver.rs`) against Kafka.
//!
//! Metadata lookups are requests in flight like any other ([`Transmit::Metadata`]), so
//! heartbeats go on while one is outstanding.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use rafka_group::consumer_membership::{RequestFailure, TopicId};
use rafka_group::RequestId;
use rafka_group::{Action, Event, Generation, GroupMember, GroupResponse, OutgoingRequest};
use rafka_wire::TopicPartition;

use crate::commit::{CommitIdentity, OffsetToCommit};
use crate::error::ConsumerError;
use crate::subscription::TopicSelector;
use commits::PendingCommit;

mod commits;
#[cfg(test)]
mod kip848_tests;
#[cfg(test)]
mod tests;

/// Settings of the core, taken from the consumer config.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    /// `group.id`.
    pub group_id: Option<String>,
    /// `group.instance.id` (KIP-345).
    pub group_instance_id: Option<String>,
    /// Offsets go to Kafka (OffsetCommit), not to an external store.
    pub kafka_commits: bool,
    /// `auto.commit.interval.ms` when `enable.auto.commit` is set.
    pub auto_commit_interval: Option<Duration>,
    /// `default.api.timeout.ms`: how long a commit is retried.
    pub commit_timeout: Duration,
    /// `retry.backoff.ms`.
    pub retry_backoff: Duration,
    /// `retry.backoff.max.ms`.
    pub retry_backoff_max: Duration,
    /// `metadata.max.age.ms`: partition counts are looked up again this often.
    pub metadata_max_age: Duration,
    /// `max.poll.interval.ms`.
    pub max_poll_interval: Duration,
}

/// What a metadata lookup found, for the group member.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopicsMetadata {
    /// Partition count of each topic.
    pub partition_counts: BTreeMap<String, i32>,
    /// Topic id (KIP-516) → name, for topics the broker gave an id.
    pub topic_ids: BTreeMap<TopicId, String>,
}

/// Identifies a commit given to [`ConsumerCore::commit`]; comes back in
/// [`CoreEvent::CommitDone`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CommitId(pub u64);

/// A request for the driver to send.
#[derive(Debug, Clone)]
pub enum Transmit {
    /// A group request (FindCoordinator, JoinGroup, ...): answer with
    /// [`ConsumerCore::handle_group_response`] or [`ConsumerCore::handle_group_failed`].
    Group(OutgoingRequest),
    /// Partition counts for these topics (`None`: every topic, for a pattern): answer with
    /// [`ConsumerCore::handle_metadata`].
    Metadata {
        /// Pass back with the answer.
        id: u64,
        /// The topics, or every topic.
        topics: Option<BTreeSet<String>>,
    },
    /// Commit these offsets (OffsetCommit to the group coordinator, or the external store):
    /// answer with [`ConsumerCore::handle_commit_response`].
    Commit {
        /// The commit.
        id: CommitId,
        /// Generation and member id to send (Kafka commits).
        identity: CommitIdentity,
        /// The offsets.
        offsets: Vec<OffsetToCommit>,
    },
}

/// What the application side must act on.
#[derive(Debug)]
pub enum CoreEvent {
    /// Run the revoke hook for these partitions, then call [`ConsumerCore::ack_revoked`]. The
    /// classic protocol commits them after the hook; KIP-848 committed before
    /// ([`CoreEvent::CommitBeforeReconcile`]).
    Revoke {
        /// Partitions to give up.
        partitions: Vec<TopicPartition>,
    },
    /// A KIP-848 reconciliation starts: commit what was consumed (every owned partition)
    /// with [`ConsumerCore::commit_before_reconcile`]; the revoke hook comes after that commit
    /// finished (Java commits before `onPartitionsRevoked`).
    CommitBeforeReconcile {
        /// Partitions the reconciliation will revoke.
        revoking: Vec<TopicPartition>,
    },
    /// Run the lost hook for these partitions (no commit), then call
    /// [`ConsumerCore::ack_revoked`].
    Lost {
        /// Partitions already gone.
        partitions: Vec<TopicPartition>,
    },
    /// A rebalance completed: run the assign hook, then call [`ConsumerCore::ack_assigned`]
    /// (a KIP-848 member acknowledges the assignment to the broker only then).
    Assigned {
        /// Everything owned now.
        assignment: Vec<TopicPartition>,
        /// What is new.
        added: Vec<TopicPartition>,
        /// The generation id.
        generation: i32,
        /// This member's id in it.
        member_id: String,
    },
    /// The subscribed topics changed (a pattern's matches).
    Subscribed(Vec<String>),
    /// The member left the group for exceeding `max.poll.interval.ms`.
    PollExpired,
    /// A membership error `poll` reports; membership carries on.
    Error(ConsumerError),
    /// Membership failed for good.
    Fatal(ConsumerError),
    /// A commit finished.
    CommitDone {
        /// The commit.
        id: CommitId,
        /// What was committed (or attempted).
        offsets: Vec<OffsetToCommit>,
        /// The outcome.
        result: Result<(), ConsumerError>,
    },
    /// `leave` finished: the member left and no commit is pending.
    Left,
}

/// The consumer's coordination state (see the module docs).
#[derive(Debug)]
pub struct ConsumerCore {
    config: CoreConfig,
    member: Option<Box<dyn GroupMember>>,
    pattern: bool,
    /// The member joins once the first metadata answer came (pattern matches known).
    joined: bool,
    metadata_wanted: Option<BTreeSet<String>>,
    metadata_in_flight: Option<u64>,
    next_metadata: Option<Instant>,
    subscribed: Vec<String>,
    commits: VecDeque<PendingCommit>,
    /// The commit of [`CoreEvent::CommitBeforeReconcile`]: its end resumes the member.
    reconcile_commit: Option<CommitId>,
    next_auto_commit: Option<Instant>,
    last_poll: Instant,
    leaving: bool,
    leave_sent: bool,
    left: bool,
    failed: bool,
    next_id: u64,
    transmits: VecDeque<Transmit>,
    events: VecDeque<CoreEvent>,
}

impl ConsumerCore {
    /// A core without group membership (manual `assign`, or before `subscribe`).
    pub fn new(config: CoreConfig, now: Instant) -> Self {
        ConsumerCore {
            next_auto_commit: config.auto_commit_interval.map(|i| now + i),
            config,
            member: None,
            pattern: false,
            joined: false,
            metadata_wanted: None,
            metadata_in_flight: None,
            next_metadata: None,
            subscribed: Vec::new(),
            commits: VecDeque::new(),
            reconcile_commit: None,
            last_poll: now,
            leaving: false,
            leave_sent: false,
            left: false,
            failed: false,
            next_id: 0,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// Becomes a group member following `selector` through `member` (the first
    /// `subscribe`), or changes the subscription of the running member (then `member` is not
    /// needed and dropped). The member joins once partition counts were looked up.
    pub fn subscribe(
        &mut self,
        member: Option<Box<dyn GroupMember>>,
        selector: TopicSelector,
        now: Instant,
    ) {
        if self.member.is_none() {
            self.member = member;
        }
        let Some(m) = &mut self.member else {
            return;
        };
        match selector {
            TopicSelector::Topics(topics) => m.set_subscription(topics, now),
            TopicSelector::Pattern(re) => {
                self.pattern = true;
                m.set_subscription_pattern(re, now);
            }
        }
        self.metadata_wanted.get_or_insert_with(BTreeSet::new);
        self.drive(now);
    }

    /// Whether a group membership runs.
    pub fn is_member(&self) -> bool {
        self.member.is_some()
    }

    /// The identity commits carry now: the member's generation, or the standalone one.
    pub fn identity(&self) -> CommitIdentity {
        match &self.member {
            Some(m) => {
                let meta = m.group_metadata();
                CommitIdentity {
                    generation: meta.generation_id,
                    member_id: meta.member_id,
                    group_instance_id: meta.group_instance_id,
                }
            }
            None => CommitIdentity::standalone(),
        }
    }

    /// The application called `poll`; `stored` are the offsets it would auto-commit
    /// (stored, not yet committed). Under `enable.auto.commit`, commits them once the
    /// interval passed (as Java's `maybeAutoCommitOffsetsAsync`, from `poll` only).
    pub fn handle_poll(&mut self, now: Instant, stored: Vec<OffsetToCommit>) -> Option<CommitId> {
        self.last_poll = now;
        if let Some(m) = &mut self.member {
            m.poll_called(now);
        }
        let mut auto = None;
        if let (Some(at), Some(interval)) =
            (self.next_auto_commit, self.config.auto_commit_interval)
        {
            if now >= at {
                self.next_auto_commit = Some(now + interval);
                let no_group = self.config.kafka_commits && self.config.group_id.is_none();
                // Between generations nothing owned is committed (it may be someone else's).
                let outside = self.outside_generation();
                if !stored.is_empty() && !no_group && !outside {
                    auto = Some(self.commit_automatic(stored, true, now));
                }
            }
        }
        self.drive(now);
        auto
    }

    fn outside_generation(&self) -> bool {
        self.config.kafka_commits
            && self
                .member
                .as_ref()
                .is_some_and(|m| m.group_metadata().generation_id < 0)
    }

    /// The assign hook of the last [`CoreEvent::Assigned`] ran.
    pub fn ack_assigned(&mut self, now: Instant) {
        if let Some(m) = &mut self.member {
            m.ack_assigned(now);
        }
        self.drive(now);
    }

    /// The answer to [`Transmit::Group`].
    pub fn handle_group_response(&mut self, id: RequestId, response: &GroupResponse, now: Instant) {
        if let Some(m) = &mut self.member {
            m.handle_response(id, response, now);
        }
        self.drive(now);
    }

    /// [`Transmit::Group`] failed (connection, timeout, a version the broker lacks).
    pub fn handle_group_failed(&mut self, id: RequestId, failure: RequestFailure, now: Instant) {
        if let Some(m) = &mut self.member {
            m.handle_request_failure(id, failure, now);
        }
        self.drive(now);
    }

    /// The answer to [`Transmit::Metadata`]: partition counts and topic ids, `None` when the
    /// lookup failed (tried again at the next refresh).
    pub fn handle_metadata(&mut self, id: u64, found: Option<TopicsMetadata>, now: Instant) {
        if self.metadata_in_flight != Some(id) {
            return;
        }
        self.metadata_in_flight = None;
        self.next_metadata = Some(now + self.config.metadata_max_age);
        if let Some(m) = &mut self.member {
            if let Some(found) = found {
                m.metadata_changed(found.partition_counts, now);
                m.topic_ids_changed(found.topic_ids, now);
            }
            if !self.joined {
                self.joined = true;
                m.join(now);
            }
            let subscribed: Vec<String> = m.subscribed_topics().iter().cloned().collect();
            if subscribed != self.subscribed {
                self.subscribed = subscribed.clone();
                self.events.push_back(CoreEvent::Subscribed(subscribed));
            }
        }
        self.drive(now);
    }

    /// The revoke or lost hooks of the last [`CoreEvent::Revoke`] / [`CoreEvent::Lost`] ran.
    pub fn ack_revoked(&mut self, now: Instant) {
        if let Some(m) = &mut self.member {
            m.ack_revoked(now);
        }
        self.drive(now);
    }

    /// Leaves the group (LeaveGroup unless static) once pending commits are done; ends with
    /// [`CoreEvent::Left`]. Revocations from here on are acknowledged by the core itself: the
    /// application ran its hooks for everything owned before leaving.
    pub fn leave(&mut self, now: Instant) {
        self.leaving = true;
        self.drive(now);
    }

    /// Timers: the member's (heartbeat, session, poll interval, backoffs), commit retries and
    /// the metadata refresh.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.next_metadata.is_some_and(|t| now >= t) {
            self.next_metadata = None;
            self.metadata_wanted.get_or_insert_with(BTreeSet::new);
        }
        if let Some(m) = &mut self.member {
            let was_member = m.generation().is_some_and(Generation::is_valid);
            m.handle_timeout(now);
            if was_member && now >= self.last_poll + self.config.max_poll_interval {
                // The member left for the poll timeout: the next poll says so.
                self.events.push_back(CoreEvent::PollExpired);
                self.last_poll = now;
            }
        }
        self.drive(now);
    }

    /// The next request to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<CoreEvent> {
        self.events.pop_front()
    }

    /// When [`ConsumerCore::handle_timeout`] must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let member = self.member.as_ref().and_then(|m| m.poll_timeout());
        let retry = self.commits.front().and_then(|c| c.retry_at);
        let metadata = self.member.as_ref().and(self.next_metadata);
        [member, retry, metadata].into_iter().flatten().min()
    }

    fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Moves the member's actions out, sends the next commit and metadata lookup, and leaves
    /// once asked to and no commit is pending.
    fn drive(&mut self, now: Instant) {
        if self.leaving && !self.leave_sent && self.commits.is_empty() {
            self.leave_sent = true;
            match &mut self.member {
                Some(m) if !self.failed => m.leave(now),
                _ => self.left = true,
            }
        }
        let group_id = self.config.group_id.clone().unwrap_or_default();
        let group_error = |source| ConsumerError::Group {
            group_id: group_id.clone(),
            source,
        };
        if let Some(m) = &mut self.member {
            while let Some(action) = m.poll_action() {
                let event = match action {
                    Action::Send(request) => {
                        self.transmits.push_back(Transmit::Group(request));
                        continue;
                    }
                    Action::Event(event) => event,
                };
                match event {
                    Event::PartitionsRevoked { partitions, .. } if !self.leaving => {
                        self.events.push_back(CoreEvent::Revoke { partitions })
                    }
                    Event::PartitionsLost { partitions } if !self.leaving => {
                        self.events.push_back(CoreEvent::Lost { partitions })
                    }
                    Event::CommitBeforeReconcile { revoking } if !self.leaving => self
                        .events
                        .push_back(CoreEvent::CommitBeforeReconcile { revoking }),
                    // Leaving: close() committed already.
                    Event::CommitBeforeReconcile { .. } => m.commit_done(now),
                    // Leaving: close() ran the hooks for everything owned already.
                    Event::PartitionsRevoked { .. } | Event::PartitionsLost { .. } => {
                        m.ack_revoked(now)
                    }
                    Event::PartitionsAssigned {
                        partitions,
                        assignment,
                        generation,
                    } => self.events.push_back(CoreEvent::Assigned {
                        assignment,
                        added: partitions,
                        generation: generation.generation_id,
                        member_id: generation.member_id,
                    }),
                    Event::MetadataNeeded { topics } => self
                        .metadata_wanted
                        .get_or_insert_with(BTreeSet::new)
                        .extend(topics),
                    Event::CoordinatorChanged { coordinator } => {
                        tracing::debug!(?coordinator, "group coordinator changed");
                    }
                    Event::Error(e) => {
                        tracing::warn!(error = %e, "group membership error");
                        self.events.push_back(CoreEvent::Error(group_error(e)));
                    }
                    Event::Fatal(e) => {
                        tracing::error!(error = %e, "group membership failed");
                        self.events.push_back(CoreEvent::Fatal(group_error(e)));
                        // The machine stopped: there is nothing left to leave.
                        self.failed = true;
                    }
                    Event::Left => self.left = true,
                    _ => {}
                }
            }
        }
        if self.member.is_some() && self.metadata_in_flight.is_none() && !self.leaving {
            if let Some(extra) = self.metadata_wanted.take() {
                let id = self.next_id();
                let topics = if self.pattern {
                    None
                } else {
                    let m = self.member.as_ref().expect("checked");
                    let mut t = m.subscribed_topics().clone();
                    t.extend(extra);
                    Some(t)
                };
                self.metadata_in_flight = Some(id);
                self.transmits.push_back(Transmit::Metadata { id, topics });
            }
        }
        let identity = self.identity();
        let generation = self.member.as_ref().and_then(|m| m.generation().cloned());
        if let Some(c) = self.commits.front_mut() {
            if !c.in_flight && c.retry_at.is_none_or(|t| now >= t) {
                c.in_flight = true;
                c.retry_at = None;
                c.sent = generation;
                self.transmits.push_back(Transmit::Commit {
                    id: c.id,
                    identity,
                    offsets: c.offsets.clone(),
                });
            }
        }
        if self.leaving && self.left && self.commits.is_empty() {
            self.leaving = false;
            self.events.push_back(CoreEvent::Left);
        }
    }
}
