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
mod drive;
mod event;
mod handlers;
mod join;
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
}
