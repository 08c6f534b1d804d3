//! The sans-IO consumer-group member (Java `AbstractCoordinator` + `ConsumerCoordinator`).
//!
//! ```text
//!            join()                  JoinGroup ok            SyncGroup ok
//! Unjoined ──────────▶ Joining ───────────────▶ AwaitingSync ───────────▶ Stable
//!    ▲   (revoke hooks     │ MEMBER_ID_REQUIRED:      │ (leader assigns;        │ heartbeats every
//!    │    first, acked)    │ retry at once with id    │  may wait for metadata) │ heartbeat_interval
//!    └─────────────────────┴──────────────────────────┴─────────────────────────┘
//!       errors, coordinator lost, rejoin needed              leave() ──▶ Leaving ──▶ Closed
//! ```
//!
//! The coordinator is found first (FindCoordinator) and re-found whenever a response says it
//! moved. Inputs are `handle_*` calls and user actions, each with `now`; outputs come from
//! [`Membership::poll_action`]; [`Membership::poll_timeout`] says when to call
//! [`Membership::handle_timeout`]. Every request records the generation it was sent under so
//! an answer for an old generation never changes the current one.
//!
//! Error handling per API is tabled in `docs/group-protocol.md`.

mod commit_error;
mod config;
mod event;
mod handlers;
mod request;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rafka_wire::TopicPartition;
use regex::Regex;

pub use commit_error::{commit_error_kind, CommitErrorKind};
pub use config::{ConfigError, GroupConfig};
pub use event::{
    Action, Coordinator, Destination, Event, Generation, GroupError, GroupMetadata,
    OutgoingRequest, RequestId,
};
pub use request::{
    FindCoordinatorParams, GroupRequest, HeartbeatParams, JoinGroupParams, LeaveGroupParams,
    SyncGroupParams,
};

use crate::assignor::{Assignor, RebalanceProtocol, UserDataContext};
use crate::protocol::{Subscription, PROTOCOL_TYPE, SUBSCRIPTION_MAX_VERSION};

/// Java's `JOIN_GROUP_TIMEOUT_LAPSE`: JoinGroup may be held for the whole rebalance timeout.
const JOIN_GROUP_TIMEOUT_LAPSE: Duration = Duration::from_secs(5);

/// Where the member is in the join protocol (Java `MemberState`, split finer).
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Not in a generation, or between join attempts.
    Unjoined,
    /// JoinGroup in flight.
    Joining { request: RequestId },
    /// Leader: JoinGroup answered, assignment waits for metadata of other members' topics.
    AwaitingMetadata { join: PendingAssignment },
    /// SyncGroup in flight.
    AwaitingSync { request: RequestId },
    /// Assignment received; heartbeating.
    Stable,
    /// LeaveGroup in flight on close.
    Leaving,
    /// Left the group or never will again.
    Closed,
    /// A fatal error stopped the member.
    Failed,
}

/// What the leader keeps while waiting for metadata before assigning.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PendingAssignment {
    protocol_name: String,
    members: Vec<(String, Option<String>, bytes::Bytes)>,
}

/// The topics a member subscribes to.
#[derive(Debug, Clone)]
enum SubscriptionMode {
    Topics(BTreeSet<String>),
    Pattern(Regex),
}

#[derive(Debug, Clone)]
struct InFlight {
    api: Api,
    /// The generation the request was sent under.
    generation: Generation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Api {
    FindCoordinator,
    JoinGroup,
    SyncGroup,
    Heartbeat,
    /// `closing`: LeaveGroup from `leave()` (vs. after `max.poll.interval.ms` expired).
    LeaveGroup {
        closing: bool,
    },
}

/// Why the machine waits for `ack_revoked`, and what to do after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AfterRevoke {
    Join,
    Leave,
}

/// One consumer's membership in a group.
#[derive(Debug)]
pub struct Membership {
    config: GroupConfig,
    protocol: RebalanceProtocol,
    state: State,
    generation: Generation,
    coordinator: Option<Coordinator>,
    find_request: Option<RequestId>,
    find_retry_at: Option<Instant>,

    /// The user asked to be a member (`join`) and has not left.
    active: bool,
    leave_requested: bool,
    /// Java `rejoinNeeded`.
    rejoin_needed: bool,
    /// Java `!needsJoinPrepare`: revocation for the next join already ran.
    join_prepared: bool,
    leave_prepared: bool,
    retry_join_at: Option<Instant>,
    awaiting_ack: Option<AfterRevoke>,
    is_leader: bool,

    subscription: SubscriptionMode,
    subscribed: BTreeSet<String>,
    joined_subscription: BTreeSet<String>,
    metadata: BTreeMap<String, i32>,
    /// Leader only: partition counts of the group's topics when it assigned.
    assignment_snapshot: Option<BTreeMap<String, i32>>,
    metadata_requested: BTreeSet<String>,

    /// Partitions this member owns now (Java `subscriptions.assignedPartitions()`).
    owned: Vec<TopicPartition>,
    /// Last SyncGroup result and its generation (sticky user data, Java `onAssignment`).
    previous_assignment: Option<Vec<TopicPartition>>,
    previous_generation: Option<i32>,

    heartbeat_request: Option<RequestId>,
    next_heartbeat_at: Option<Instant>,
    session_deadline: Option<Instant>,
    last_poll: Option<Instant>,
    poll_expired: bool,

    in_flight: HashMap<RequestId, InFlight>,
    next_id: u64,
    actions: VecDeque<Action>,
}

impl Membership {
    /// A member that has not joined yet.
    ///
    /// # Errors
    /// [`ConfigError`] from [`GroupConfig::validate`].
    pub fn new(config: GroupConfig) -> Result<Membership, ConfigError> {
        config.validate()?;
        Ok(Membership {
            protocol: config.protocol(),
            config,
            state: State::Unjoined,
            generation: Generation::none(),
            coordinator: None,
            find_request: None,
            find_retry_at: None,
            active: false,
            leave_requested: false,
            rejoin_needed: true,
            join_prepared: false,
            leave_prepared: false,
            retry_join_at: None,
            awaiting_ack: None,
            is_leader: false,
            subscription: SubscriptionMode::Topics(BTreeSet::new()),
            subscribed: BTreeSet::new(),
            joined_subscription: BTreeSet::new(),
            metadata: BTreeMap::new(),
            assignment_snapshot: None,
            metadata_requested: BTreeSet::new(),
            owned: Vec::new(),
            previous_assignment: None,
            previous_generation: None,
            heartbeat_request: None,
            next_heartbeat_at: None,
            session_deadline: None,
            last_poll: None,
            poll_expired: false,
            in_flight: HashMap::new(),
            next_id: 0,
            actions: VecDeque::new(),
        })
    }

    // ---- queries -------------------------------------------------------------------------

    /// The current generation, if the member is in one (Java `generationIfStable` is the
    /// stricter variant; commits use this to let the coordinator fence zombies).
    pub fn generation(&self) -> Option<&Generation> {
        self.generation.is_valid().then_some(&self.generation)
    }

    /// The generation only while Stable (Java `generationIfStable`): what a synchronous
    /// `commitSync` uses; `None` during a rebalance, when Java throws
    /// `RebalanceInProgressException` instead of committing.
    pub fn generation_if_stable(&self) -> Option<&Generation> {
        (self.state == State::Stable).then_some(&self.generation)
    }

    /// Group metadata for transactional offset commits (KIP-447).
    pub fn group_metadata(&self) -> GroupMetadata {
        GroupMetadata {
            group_id: self.config.group_id.clone(),
            generation_id: self.generation.generation_id,
            member_id: self.generation.member_id.clone(),
            group_instance_id: self.config.group_instance_id.clone(),
        }
    }

    /// The coordinator, if known.
    pub fn coordinator(&self) -> Option<&Coordinator> {
        self.coordinator.as_ref()
    }

    /// Partitions owned now.
    pub fn assignment(&self) -> &[TopicPartition] {
        &self.owned
    }

    /// Topics subscribed to (resolved against metadata for a pattern).
    pub fn subscribed_topics(&self) -> &BTreeSet<String> {
        &self.subscribed
    }

    /// Whether this member led the last rebalance.
    pub fn is_leader(&self) -> bool {
        self.is_leader
    }

    /// Whether the member has an assignment and no rebalance is under way.
    pub fn is_stable(&self) -> bool {
        self.state == State::Stable && !self.rejoin_needed
    }

    /// Whether a fatal error stopped the member or it has left.
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed | State::Failed)
    }

    /// The rebalance protocol in use.
    pub fn protocol(&self) -> RebalanceProtocol {
        self.protocol
    }

    /// The config.
    pub fn config(&self) -> &GroupConfig {
        &self.config
    }

    // ---- outputs -------------------------------------------------------------------------

    /// The next request to send or event to deliver.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When [`Membership::handle_timeout`] must be called next, if anything is scheduled.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.is_closed() {
            return None;
        }
        let mut t: Option<Instant> = None;
        let mut at = |i: Option<Instant>| {
            if let Some(i) = i {
                t = Some(t.map_or(i, |t| t.min(i)));
            }
        };
        if self.coordinator.is_none() && self.find_request.is_none() && self.wants_coordinator() {
            at(self.find_retry_at);
        }
        if self.wants_join() {
            at(self.retry_join_at);
        }
        if self.heartbeating() {
            if self.heartbeat_request.is_none() && self.coordinator.is_some() {
                at(self.next_heartbeat_at);
            }
            at(self.session_deadline);
        }
        if self.is_member() && !self.poll_expired {
            at(self.last_poll.map(|p| p + self.config.rebalance_timeout));
        }
        t
    }

    // ---- user actions --------------------------------------------------------------------

    /// Start (or keep) being a member: the consumer subscribed and polls.
    pub fn join(&mut self, now: Instant) {
        if self.is_closed() || self.leave_requested {
            return;
        }
        self.active = true;
        if self.last_poll.is_none() {
            self.last_poll = Some(now);
        }
        self.drive(now);
    }

    /// Ask for a rebalance (Java `requestRejoin`, e.g. `enforceRebalance`).
    pub fn request_rejoin(&mut self, now: Instant) {
        self.rejoin_needed = true;
        self.drive(now);
    }

    /// Subscribe to exactly these topics. A change rejoins the group.
    pub fn set_subscription<I, S>(&mut self, topics: I, now: Instant)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.subscription = SubscriptionMode::Topics(topics.into_iter().map(Into::into).collect());
        self.resolve_subscription();
        self.drive(now);
    }

    /// Subscribe to every topic whose whole name matches `pattern` (Java
    /// `subscribe(Pattern)`), re-evaluated on each `metadata_changed`.
    pub fn set_subscription_pattern(&mut self, pattern: Regex, now: Instant) {
        self.subscription = SubscriptionMode::Pattern(pattern);
        self.resolve_subscription();
        self.drive(now);
    }

    /// New topic metadata (topic → partition count; may hold more topics than subscribed).
    /// Pattern subscriptions are re-evaluated; the leader rejoins when a partition count of a
    /// group topic changed since it assigned (Java `ConsumerCoordinator.rejoinNeededOrPending`).
    pub fn metadata_changed(&mut self, partition_counts: BTreeMap<String, i32>, now: Instant) {
        self.metadata = partition_counts;
        self.metadata_requested.clear();
        self.resolve_subscription();
        if let Some(snapshot) = &self.assignment_snapshot {
            let changed = snapshot
                .iter()
                .any(|(t, n)| self.metadata.get(t) != Some(n));
            if changed {
                tracing::info!("partition counts changed since the last assignment; rejoining");
                self.rejoin_needed = true;
            }
        }
        if let State::AwaitingMetadata { join } = &self.state {
            let join = join.clone();
            self.assign_and_sync(join, now, true);
        }
        self.drive(now);
    }

    /// The consumer called `poll()`: resets the `max.poll.interval.ms` timer and, after it
    /// expired, lets the member rejoin.
    pub fn poll_called(&mut self, now: Instant) {
        self.last_poll = Some(now);
        if self.poll_expired {
            self.poll_expired = false;
            self.rejoin_needed = true;
        }
        self.drive(now);
    }

    /// The consumer finished the `PartitionsRevoked`/`PartitionsLost` hooks.
    pub fn ack_revoked(&mut self, now: Instant) {
        self.awaiting_ack = None;
        self.drive(now);
    }

    /// Leave the group (consumer close): revoke, then LeaveGroup unless the member is static
    /// (KIP-345), then [`Event::Left`].
    pub fn leave(&mut self, now: Instant) {
        if self.is_closed() {
            return;
        }
        self.leave_requested = true;
        self.drive(now);
    }

    /// Timers: heartbeat, session, poll interval, retry backoffs.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.is_closed() {
            return;
        }
        if self.heartbeating() && self.session_deadline.is_some_and(|d| now >= d) {
            tracing::warn!("session timed out without a successful heartbeat response");
            self.session_deadline = None;
            self.mark_coordinator_unknown(now);
            self.reset_generation(now);
        }
        if self.is_member()
            && !self.poll_expired
            && self
                .last_poll
                .is_some_and(|p| now >= p + self.config.rebalance_timeout)
        {
            tracing::warn!("max.poll.interval.ms expired: leaving the group until the next poll");
            self.poll_expired = true;
            self.maybe_leave(now, false, "consumer poll timeout has expired");
            self.reset_generation(now);
        }
        self.drive(now);
    }

    // ---- internals -----------------------------------------------------------------------

    fn is_member(&self) -> bool {
        matches!(
            self.state,
            State::Joining { .. }
                | State::AwaitingMetadata { .. }
                | State::AwaitingSync { .. }
                | State::Stable
        )
    }

    /// Java's heartbeat thread runs once JoinGroup answered (COMPLETING_REBALANCE, STABLE).
    fn heartbeating(&self) -> bool {
        matches!(
            self.state,
            State::AwaitingMetadata { .. } | State::AwaitingSync { .. } | State::Stable
        )
    }

    fn wants_coordinator(&self) -> bool {
        (self.active || self.is_member()) && !self.is_closed() && !self.leave_requested
    }

    fn wants_join(&self) -> bool {
        self.active
            && !self.leave_requested
            && !self.poll_expired
            && self.rejoin_needed
            && matches!(self.state, State::Unjoined | State::Stable)
            && self.awaiting_ack.is_none()
    }

    fn next_request_id(&mut self) -> RequestId {
        self.next_id += 1;
        RequestId(self.next_id)
    }

    fn send(&mut self, api: Api, request: GroupRequest, timeout: Duration) -> RequestId {
        let id = self.next_request_id();
        let destination = match api {
            Api::FindCoordinator => Destination::AnyBroker,
            _ => Destination::Coordinator(self.coordinator.clone().expect("coordinator known")),
        };
        self.in_flight.insert(
            id,
            InFlight {
                api,
                generation: self.generation.clone(),
            },
        );
        self.actions.push_back(Action::Send(OutgoingRequest {
            id,
            destination,
            request,
            timeout,
        }));
        id
    }

    fn emit(&mut self, event: Event) {
        self.actions.push_back(Action::Event(event));
    }

    fn fail(&mut self, error: GroupError) {
        tracing::error!(%error, "group membership failed");
        self.state = State::Failed;
        self.in_flight.clear();
        self.heartbeat_request = None;
        self.emit(Event::Fatal(error));
    }

    fn resolve_subscription(&mut self) {
        let resolved: BTreeSet<String> = match &self.subscription {
            SubscriptionMode::Topics(t) => t.clone(),
            SubscriptionMode::Pattern(re) => self
                .metadata
                .keys()
                .filter(|t| !(self.config.exclude_internal_topics && t.starts_with("__")))
                .filter(|t| {
                    re.find(t)
                        .is_some_and(|m| m.start() == 0 && m.end() == t.len())
                })
                .cloned()
                .collect(),
        };
        if resolved != self.subscribed {
            self.subscribed = resolved;
            if self.is_member() && self.subscribed != self.joined_subscription {
                self.rejoin_needed = true;
            }
        }
    }

    /// Java `markCoordinatorUnknown`: forget the coordinator, fail what was in flight to it.
    fn mark_coordinator_unknown(&mut self, now: Instant) {
        if self.coordinator.is_none() {
            return;
        }
        tracing::info!("group coordinator marked unknown");
        self.coordinator = None;
        self.find_retry_at = Some(now);
        self.in_flight
            .retain(|_, f| matches!(f.api, Api::FindCoordinator));
        self.heartbeat_request = None;
        if matches!(
            self.state,
            State::Joining { .. } | State::AwaitingSync { .. } | State::AwaitingMetadata { .. }
        ) {
            self.state = State::Unjoined;
            self.rejoin_needed = true;
            self.retry_join_at = Some(now + self.config.retry_backoff);
        }
        if self.state == State::Leaving {
            self.close();
        }
        self.emit(Event::CoordinatorChanged { coordinator: None });
    }

    /// Java `resetStateAndRejoin(.., shouldResetMemberId = true)`: leave the generation; the
    /// next join treats owned partitions as lost.
    fn reset_generation(&mut self, now: Instant) {
        self.generation = Generation::none();
        self.state_unjoined_rejoin(now, Duration::ZERO);
        self.join_prepared = false;
        self.lose_partitions();
    }

    fn state_unjoined_rejoin(&mut self, now: Instant, backoff: Duration) {
        if !matches!(self.state, State::Leaving | State::Closed | State::Failed) {
            self.state = State::Unjoined;
        }
        self.is_leader = false;
        self.assignment_snapshot = None;
        self.rejoin_needed = true;
        self.retry_join_at = Some(now + backoff);
        self.heartbeat_request = None;
        self.in_flight
            .retain(|_, f| !matches!(f.api, Api::Heartbeat | Api::JoinGroup | Api::SyncGroup));
    }

    /// Emits `PartitionsLost` for everything owned (needs an ack before the next join).
    fn lose_partitions(&mut self) {
        if self.owned.is_empty() {
            return;
        }
        let partitions = std::mem::take(&mut self.owned);
        self.emit(Event::PartitionsLost { partitions });
        self.awaiting_ack = Some(AfterRevoke::Join);
    }

    /// Java `onJoinPrepare`: revoke (eager: everything; cooperative: unsubscribed topics) or
    /// declare lost (no valid generation). Returns whether an ack is now awaited.
    fn prepare_join(&mut self) -> bool {
        self.join_prepared = true;
        if self.owned.is_empty() {
            return false;
        }
        if !self.generation.is_valid() {
            self.lose_partitions();
            return true;
        }
        let revoked: Vec<TopicPartition> = match self.protocol {
            RebalanceProtocol::Eager => std::mem::take(&mut self.owned),
            RebalanceProtocol::Cooperative => {
                let (gone, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut self.owned)
                    .into_iter()
                    .partition(|tp| !self.subscribed.contains(&tp.topic));
                self.owned = keep;
                gone
            }
        };
        if revoked.is_empty() {
            return false;
        }
        self.emit(Event::PartitionsRevoked {
            partitions: revoked,
            generation: self.generation.clone(),
        });
        self.awaiting_ack = Some(AfterRevoke::Join);
        true
    }

    /// Decide what to send next.
    fn drive(&mut self, now: Instant) {
        if self.is_closed() {
            return;
        }
        if self.leave_requested {
            self.drive_leave(now);
            return;
        }
        if self.coordinator.is_none() {
            if self.wants_coordinator()
                && self.find_request.is_none()
                && self.find_retry_at.is_none_or(|t| now >= t)
            {
                let request = GroupRequest::FindCoordinator(FindCoordinatorParams {
                    group_id: self.config.group_id.clone(),
                });
                let id = self.send(Api::FindCoordinator, request, self.config.request_timeout);
                self.find_request = Some(id);
            }
            return;
        }
        if self.wants_join()
            && self.retry_join_at.is_none_or(|t| now >= t)
            && (self.join_prepared || !self.prepare_join())
        {
            self.send_join_group(now);
        }
        if self.heartbeating()
            && self.heartbeat_request.is_none()
            && self.next_heartbeat_at.is_some_and(|t| now >= t)
        {
            let request = GroupRequest::Heartbeat(HeartbeatParams {
                group_id: self.config.group_id.clone(),
                generation_id: self.generation.generation_id,
                member_id: self.generation.member_id.clone(),
                group_instance_id: self.config.group_instance_id.clone(),
            });
            let id = self.send(Api::Heartbeat, request, self.config.request_timeout);
            self.heartbeat_request = Some(id);
            self.next_heartbeat_at = Some(now + self.config.heartbeat_interval);
        }
    }

    fn drive_leave(&mut self, now: Instant) {
        if self.state == State::Leaving || self.awaiting_ack.is_some() {
            return;
        }
        if !self.leave_prepared {
            self.leave_prepared = true;
            // Java `onLeavePrepare`: revoke if still in a generation, else lost.
            if !self.owned.is_empty() {
                let partitions = std::mem::take(&mut self.owned);
                if self.generation.is_valid() {
                    self.emit(Event::PartitionsRevoked {
                        partitions,
                        generation: self.generation.clone(),
                    });
                } else {
                    self.emit(Event::PartitionsLost { partitions });
                }
                self.awaiting_ack = Some(AfterRevoke::Leave);
                return;
            }
        }
        self.in_flight
            .retain(|_, f| !matches!(f.api, Api::Heartbeat | Api::JoinGroup | Api::SyncGroup));
        self.heartbeat_request = None;
        if self.maybe_leave(now, true, "the consumer is being closed") {
            self.state = State::Leaving;
        } else {
            self.close();
        }
        self.generation = Generation::none();
    }

    /// Java `maybeLeaveGroup`: only a dynamic member in a generation with a known
    /// coordinator sends LeaveGroup. Returns whether one was sent.
    fn maybe_leave(&mut self, _now: Instant, closing: bool, reason: &str) -> bool {
        let dynamic = self.config.group_instance_id.is_none();
        let joined = !matches!(self.state, State::Unjoined) || self.generation.is_valid();
        if !(dynamic
            && joined
            && self.coordinator.is_some()
            && !self.generation.member_id.is_empty())
        {
            return false;
        }
        let request = GroupRequest::LeaveGroup(LeaveGroupParams {
            group_id: self.config.group_id.clone(),
            member_id: self.generation.member_id.clone(),
            reason: Some(reason.to_owned()),
        });
        self.send(
            Api::LeaveGroup { closing },
            request,
            self.config.request_timeout,
        );
        true
    }

    fn close(&mut self) {
        self.state = State::Closed;
        self.in_flight.clear();
        self.emit(Event::Left);
    }

    fn send_join_group(&mut self, now: Instant) {
        let topics: Vec<String> = self.subscribed.iter().cloned().collect();
        let generation_id =
            (self.generation.generation_id >= 0).then_some(self.generation.generation_id);
        let assignors: Vec<Arc<dyn Assignor>> = self.config.assignors.clone();
        let mut protocols = Vec::with_capacity(assignors.len());
        for a in &assignors {
            let user_data = a.subscription_user_data(&UserDataContext {
                topics: &topics,
                previous_assignment: self.previous_assignment.as_deref(),
                previous_generation: self.previous_generation,
            });
            let sub = Subscription {
                topics: topics.clone(),
                user_data,
                owned_partitions: self.owned.clone(),
                generation_id,
                rack_id: self.config.client_rack.clone(),
                group_instance_id: None,
            };
            match sub.encode(SUBSCRIPTION_MAX_VERSION) {
                Ok(bytes) => protocols.push((a.name().to_owned(), bytes)),
                Err(e) => {
                    self.fail(e.into());
                    return;
                }
            }
        }
        let request = GroupRequest::JoinGroup(JoinGroupParams {
            group_id: self.config.group_id.clone(),
            session_timeout_ms: self.config.session_timeout.as_millis() as i32,
            rebalance_timeout_ms: self.config.rebalance_timeout.as_millis() as i32,
            member_id: self.generation.member_id.clone(),
            group_instance_id: self.config.group_instance_id.clone(),
            protocol_type: PROTOCOL_TYPE.to_owned(),
            protocols,
            reason: Some("rebalance needed".to_owned()),
        });
        self.joined_subscription = self.subscribed.clone();
        self.is_leader = false;
        self.assignment_snapshot = None;
        let timeout = self
            .config
            .request_timeout
            .max(self.config.rebalance_timeout + JOIN_GROUP_TIMEOUT_LAPSE);
        let id = self.send(Api::JoinGroup, request, timeout);
        self.state = State::Joining { request: id };
        self.retry_join_at = None;
        let _ = now;
    }
}
