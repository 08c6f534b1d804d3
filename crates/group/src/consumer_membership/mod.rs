//! The sans-IO member of the next-generation consumer group protocol (KIP-848,
//! `group.protocol=consumer`; Java `ConsumerMembershipManager` + `ConsumerHeartbeatRequestManager`).
//!
//! ```text
//!  subscribe + poll_called         assignment ≠ current          listener acks
//! Unsubscribed ──────▶ Joining ──────────────────▶ Reconciling ─────────────▶ Acknowledging
//!      ▲               (epoch 0,     commit? → revoke → assign │               │ heartbeat sent
//!      │                all fields)                            ▼               ▼ (owned partitions)
//!      │   leave() ─▶ PrepareLeaving (revoke hook) ─▶ Leaving (epoch -1/-2) ─▶ Stable
//!      └──────────────────────────────────────────────────┘
//!  FENCED_MEMBER_EPOCH / UNKNOWN_MEMBER_ID ─▶ Fenced (lost hook) ─▶ Joining
//!  max.poll.interval.ms expired ─▶ leave heartbeat ─▶ Stale (lost hook) ─▶ Joining on poll
//!  fatal errors ─▶ Fatal
//! ```
//!
//! Inputs are user actions and `handle_*` calls, each with `now`; outputs come from
//! [`ConsumerMembership::poll_action`]; [`ConsumerMembership::poll_timeout`] says when to call
//! [`ConsumerMembership::handle_timeout`]. The member id is injected (a UUID the caller makes
//! once per process, KIP-1082) so the machine stays deterministic. The heartbeat error table is
//! in `docs/group-protocol.md`.

mod config;
mod error;
mod event;
mod handlers;
mod heartbeat;
mod reconcile;
mod request;
mod state;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::Instant;

use rafka_wire::TopicPartition;

pub use config::{
    check_consumer_protocol_settings, ConfigError, ConsumerGroupConfig, GroupProtocol,
    CLASSIC_ONLY_SETTINGS,
};
pub use error::{ConsumerGroupError, CONSUMER_PROTOCOL_NOT_SUPPORTED_MSG};
pub use event::{
    ConsumerAction, ConsumerEvent, ConsumerGroupRequest, ConsumerOutgoingRequest, RequestFailure,
};
pub use request::ConsumerHeartbeatParams;
pub use state::{MemberState, TopicId, TopicIdPartitions};

use crate::membership::{Coordinator, Destination, FindCoordinatorParams, RequestId};
use heartbeat::{HeartbeatTimer, SentFields};
use reconcile::Reconciliation;
use state::LocalAssignment;

/// Member epoch that joins the group (Java `ConsumerGroupHeartbeatRequest.JOIN_GROUP_MEMBER_EPOCH`).
pub const JOIN_GROUP_MEMBER_EPOCH: i32 = 0;
/// Member epoch that leaves the group (`LEAVE_GROUP_MEMBER_EPOCH`).
pub const LEAVE_GROUP_MEMBER_EPOCH: i32 = -1;
/// Member epoch of a static member leaving temporarily (`LEAVE_GROUP_STATIC_MEMBER_EPOCH`).
pub const LEAVE_GROUP_STATIC_MEMBER_EPOCH: i32 = -2;

/// What the member subscribes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsumerSubscription {
    /// Exactly these topics (`SubscribedTopicNames`).
    Topics(BTreeSet<String>),
    /// Topics matching this RE2J regex, resolved by the broker (`SubscribedTopicRegex`, v1+).
    Regex(String),
}

/// A listener hook the driver runs and acknowledges, in emission order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hook {
    /// `PartitionsRevoked` of reconciliation `id`.
    Revoke { id: u64 },
    /// `PartitionsAssigned` of reconciliation `id`.
    Assign { id: u64 },
    /// `PartitionsRevoked`/`PartitionsLost` releasing everything, and what follows.
    Release(Release),
}

/// Why everything owned is released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Release {
    Leave,
    Fenced,
    Stale,
    Fatal,
}

/// What an in-flight heartbeat was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HeartbeatKind {
    Normal,
    Leave,
    /// The leave after `max.poll.interval.ms`; its response is only logged.
    PollTimeoutLeave,
}

/// One consumer's membership in a KIP-848 consumer group.
#[derive(Debug)]
pub struct ConsumerMembership {
    config: ConsumerGroupConfig,
    member_id: String,
    member_epoch: i32,
    state: MemberState,
    subscription: Option<ConsumerSubscription>,
    /// Java `subscriptionUpdated`: join on the next `poll_called`.
    subscription_updated: bool,

    coordinator: Option<Coordinator>,
    find_request: Option<RequestId>,
    find_failures: u32,
    find_retry_at: Option<Instant>,

    hb: HeartbeatTimer,
    sent: SentFields,
    in_flight: HashMap<RequestId, HeartbeatKind>,
    last_heartbeat_ok: Option<Instant>,

    current: LocalAssignment,
    target: LocalAssignment,
    owned: BTreeSet<TopicPartition>,
    /// Topic id → name from the driver's metadata.
    topic_names: BTreeMap<TopicId, String>,
    /// Names of topics assigned to this member (Java `assignedTopicNamesCache`).
    assigned_names: BTreeMap<TopicId, String>,
    metadata_requested: BTreeSet<TopicId>,
    reconciliation: Option<Reconciliation>,
    next_reconciliation: u64,
    hooks: VecDeque<Hook>,

    leave_in_progress: bool,
    closing: bool,
    closed: bool,
    poll_timer_expired: bool,
    last_poll: Option<Instant>,
    stale_released: bool,
    rejoin_when_released: bool,

    next_id: u64,
    actions: VecDeque<ConsumerAction>,
}

impl ConsumerMembership {
    /// A member that has not subscribed yet. `member_id` is the client-generated id
    /// (Java `Uuid.randomUuid().toString()`, kept for the life of the process).
    ///
    /// # Errors
    /// [`ConfigError`] from [`ConsumerGroupConfig::validate`], or an empty member id.
    pub fn new(
        config: ConsumerGroupConfig,
        member_id: impl Into<String>,
    ) -> Result<ConsumerMembership, ConfigError> {
        config.validate()?;
        let member_id = member_id.into();
        if member_id.is_empty() {
            return Err(ConfigError::EmptyMemberId);
        }
        Ok(ConsumerMembership {
            config,
            member_id,
            member_epoch: JOIN_GROUP_MEMBER_EPOCH,
            state: MemberState::Unsubscribed,
            subscription: None,
            subscription_updated: false,
            coordinator: None,
            find_request: None,
            find_failures: 0,
            find_retry_at: None,
            hb: HeartbeatTimer::new(),
            sent: SentFields::default(),
            in_flight: HashMap::new(),
            last_heartbeat_ok: None,
            current: LocalAssignment::none(),
            target: LocalAssignment::none(),
            owned: BTreeSet::new(),
            topic_names: BTreeMap::new(),
            assigned_names: BTreeMap::new(),
            metadata_requested: BTreeSet::new(),
            reconciliation: None,
            next_reconciliation: 0,
            hooks: VecDeque::new(),
            leave_in_progress: false,
            closing: false,
            closed: false,
            poll_timer_expired: false,
            last_poll: None,
            stale_released: false,
            rejoin_when_released: false,
            next_id: 0,
            actions: VecDeque::new(),
        })
    }

    // ---- queries -------------------------------------------------------------------------

    /// The member id (sent in every heartbeat; OffsetCommit/OffsetFetch v9+ carry it).
    pub fn member_id(&self) -> &str {
        &self.member_id
    }

    /// The member epoch: 0 while joining, -1/-2 while leaving, else the broker's.
    pub fn member_epoch(&self) -> i32 {
        self.member_epoch
    }

    /// The epoch to put in OffsetCommit v9+ / OffsetFetch v9+, if commits are allowed now:
    /// only with an epoch the broker gave (> 0), as Java's `MemberStateListener` gets
    /// `Optional.empty()` otherwise. Revoke hooks may commit with it; lost hooks may not.
    pub fn commit_member_epoch(&self) -> Option<i32> {
        (self.member_epoch > 0 && !matches!(self.state, MemberState::Fatal | MemberState::Fenced))
            .then_some(self.member_epoch)
    }

    /// The state (Java `MemberState`).
    pub fn state(&self) -> MemberState {
        self.state
    }

    /// The coordinator, if known.
    pub fn coordinator(&self) -> Option<&Coordinator> {
        self.coordinator.as_ref()
    }

    /// Partitions owned now (assigned and not yet revoked or lost).
    pub fn assignment(&self) -> Vec<TopicPartition> {
        self.owned.iter().cloned().collect()
    }

    /// The last target assignment from the broker, by topic id (not yet reconciled if it
    /// differs from what [`Self::assignment`] shows).
    pub fn target_assignment(&self) -> &TopicIdPartitions {
        &self.target.partitions
    }

    /// The subscription, if any.
    pub fn subscription(&self) -> Option<&ConsumerSubscription> {
        self.subscription.as_ref()
    }

    /// The broker's heartbeat interval (zero before the first response).
    pub fn heartbeat_interval(&self) -> std::time::Duration {
        self.hb.interval
    }

    /// Whether `leave` completed or a fatal error stopped the member.
    pub fn is_closed(&self) -> bool {
        self.closed || self.state == MemberState::Fatal
    }

    /// The config.
    pub fn config(&self) -> &ConsumerGroupConfig {
        &self.config
    }

    // ---- outputs -------------------------------------------------------------------------

    /// The next request to send or event to deliver.
    pub fn poll_action(&mut self) -> Option<ConsumerAction> {
        self.actions.pop_front()
    }

    /// When [`Self::handle_timeout`] must be called next, if anything is scheduled.
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
        if self.coordinator.is_some() && !self.skip_heartbeat() {
            at(self.hb.next_send(self.state.heartbeat_now()));
        }
        if self.in_group() {
            at(self
                .last_heartbeat_ok
                .map(|t| t + self.config.session_timeout));
        }
        if self.coordinator.is_some() && self.poll_timer_applies() {
            at(self.last_poll.map(|p| p + self.config.rebalance_timeout));
        }
        t
    }

    // ---- user actions --------------------------------------------------------------------

    /// Subscribe to exactly these topics (Java `subscribe(Collection)`). The member joins on
    /// the next [`Self::poll_called`]; a member already in the group sends the new list in
    /// its next heartbeat.
    pub fn subscribe_topics<I, S>(&mut self, topics: I, now: Instant)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let topics = topics.into_iter().map(Into::into).collect();
        self.set_subscription(ConsumerSubscription::Topics(topics), now);
    }

    /// Subscribe to the topics matching `regex`, in RE2J syntax, resolved by the broker
    /// (Java `subscribe(SubscriptionPattern)`; needs ConsumerGroupHeartbeat v1).
    pub fn subscribe_regex(&mut self, regex: impl Into<String>, now: Instant) {
        self.set_subscription(ConsumerSubscription::Regex(regex.into()), now);
    }

    fn set_subscription(&mut self, subscription: ConsumerSubscription, now: Instant) {
        if self.is_closed() {
            return;
        }
        self.subscription = Some(subscription);
        self.subscription_updated = true;
        self.drive(now);
    }

    /// The consumer called `poll()`: restarts the `max.poll.interval.ms` timer, joins after
    /// a subscription, and lets a [`MemberState::Stale`] member rejoin (Java
    /// `onConsumerPoll` + `resetPollTimer`).
    pub fn poll_called(&mut self, now: Instant) {
        if self.is_closed() {
            return;
        }
        self.last_poll = Some(now);
        if self.poll_timer_expired {
            self.poll_timer_expired = false;
            if self.state == MemberState::Stale {
                if self.stale_released {
                    self.transition_to_joining();
                } else {
                    self.rejoin_when_released = true;
                }
            }
        }
        if self.subscription_updated && self.subscription.is_some() {
            self.subscription_updated = false;
            if self.state == MemberState::Unsubscribed {
                self.transition_to_joining();
            }
        }
        self.drive(now);
    }

    /// Topic ids → names from fresh metadata (may hold more topics than assigned).
    /// Unresolved ids of the target assignment are retried.
    pub fn metadata_changed(&mut self, topic_names: BTreeMap<TopicId, String>, now: Instant) {
        self.topic_names = topic_names;
        self.metadata_requested.clear();
        self.drive(now);
    }

    /// The consumer committed (or gave up committing) after
    /// [`ConsumerEvent::CommitBeforeReconcile`].
    pub fn commit_done(&mut self, now: Instant) {
        self.on_commit_done();
        self.drive(now);
    }

    /// The consumer finished a `PartitionsRevoked` or `PartitionsLost` hook.
    pub fn ack_revoked(&mut self, now: Instant) {
        self.on_hook_done(false, now);
        self.drive(now);
    }

    /// The consumer finished a `PartitionsAssigned` hook.
    pub fn ack_assigned(&mut self, now: Instant) {
        self.on_hook_done(true, now);
        self.drive(now);
    }

    /// `unsubscribe()`: revoke, send the leave heartbeat, then [`ConsumerEvent::Left`]; the
    /// member may subscribe again afterwards.
    pub fn unsubscribe(&mut self, now: Instant) {
        self.leave_group(false, now);
    }

    /// `close()`: as [`Self::unsubscribe`], then the member is closed for good.
    pub fn leave(&mut self, now: Instant) {
        self.leave_group(true, now);
    }

    /// Timers: heartbeat, retry backoffs, the poll interval and the session.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.is_closed() {
            return;
        }
        if self.in_group()
            && self
                .last_heartbeat_ok
                .is_some_and(|t| now >= t + self.config.session_timeout)
        {
            tracing::warn!(
                member_id = %self.member_id,
                "no successful heartbeat within the session timeout; partitions are lost"
            );
            self.last_heartbeat_ok = None;
            self.transition_to_fenced();
        }
        self.drive(now);
    }

    // ---- internals -----------------------------------------------------------------------

    /// Reconciling, acknowledging or stable (the broker counts the member and it owns or
    /// awaits an assignment).
    fn in_group(&self) -> bool {
        matches!(
            self.state,
            MemberState::Reconciling | MemberState::Acknowledging | MemberState::Stable
        )
    }

    /// Java checks the poll timer whenever it would heartbeat and is not leaving.
    fn poll_timer_applies(&self) -> bool {
        !self.poll_timer_expired
            && !self.skip_heartbeat()
            && !matches!(
                self.state,
                MemberState::PrepareLeaving | MemberState::Leaving
            )
    }

    /// Java `shouldSkipHeartbeat`.
    fn skip_heartbeat(&self) -> bool {
        self.state.is_not_in_group()
    }

    fn wants_coordinator(&self) -> bool {
        !matches!(self.state, MemberState::Unsubscribed | MemberState::Fatal) && !self.closed
    }

    fn leave_epoch(&self) -> i32 {
        if self.config.group_instance_id.is_some() {
            LEAVE_GROUP_STATIC_MEMBER_EPOCH
        } else {
            LEAVE_GROUP_MEMBER_EPOCH
        }
    }

    fn next_request_id(&mut self) -> RequestId {
        self.next_id += 1;
        RequestId(self.next_id)
    }

    fn emit(&mut self, event: ConsumerEvent) {
        self.actions.push_back(ConsumerAction::Event(event));
    }

    fn send(&mut self, destination: Destination, request: ConsumerGroupRequest) -> RequestId {
        let id = self.next_request_id();
        self.actions
            .push_back(ConsumerAction::Send(ConsumerOutgoingRequest {
                id,
                destination,
                request,
                timeout: self.config.request_timeout,
            }));
        id
    }

    /// Decide what to send next.
    fn drive(&mut self, now: Instant) {
        if self.is_closed() {
            return;
        }
        if self.coordinator.is_none() {
            if self.state == MemberState::Leaving {
                // Java `onHeartbeatRequestSkipped`: no coordinator, no leave heartbeat.
                tracing::warn!("no coordinator to send the leave heartbeat to; leaving anyway");
                self.state = MemberState::Unsubscribed;
                self.complete_leave();
            }
            if self.wants_coordinator()
                && self.find_request.is_none()
                && self.find_retry_at.is_none_or(|t| now >= t)
            {
                let request = ConsumerGroupRequest::FindCoordinator(FindCoordinatorParams {
                    group_id: self.config.group_id.clone(),
                });
                self.find_request = Some(self.send(Destination::AnyBroker, request));
            }
        }
        self.maybe_reconcile();
        let Some(coordinator) = self.coordinator.clone() else {
            return;
        };
        if self.poll_timer_applies()
            && self
                .last_poll
                .is_some_and(|p| now >= p + self.config.rebalance_timeout)
        {
            tracing::warn!(
                "consumer poll timeout has expired (max.poll.interval.ms): leaving the group \
                 until the next poll"
            );
            self.transition_to_sending_leave(true);
            self.send_heartbeat(&coordinator, HeartbeatKind::PollTimeoutLeave, now);
            self.hb.reset(now);
            self.sent = SentFields::default();
            return;
        }
        if self.skip_heartbeat() {
            return;
        }
        if self.state == MemberState::Leaving {
            self.send_heartbeat(&coordinator, HeartbeatKind::Leave, now);
            return;
        }
        let now_ok =
            self.state.heartbeat_now() && self.hb.in_flight.is_none() && self.hb.backoff_over(now);
        if now_ok || self.hb.can_send(now) {
            self.send_heartbeat(&coordinator, HeartbeatKind::Normal, now);
            // An acknowledgement may leave a newer target to reconcile (Java's next loop).
            self.maybe_reconcile();
        }
    }
}
