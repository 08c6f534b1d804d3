//! The classic member's internals: state predicates, sending and emitting, and the `drive`
//! loop that moves the state machine after every input (join, sync, heartbeat, leave).

use std::time::{Duration, Instant};

use super::*;

impl Membership {
    pub(super) fn is_member(&self) -> bool {
        matches!(
            self.state,
            State::Joining { .. }
                | State::AwaitingMetadata { .. }
                | State::AwaitingSync { .. }
                | State::Stable
        )
    }

    /// Java's heartbeat thread runs once JoinGroup answered (COMPLETING_REBALANCE, STABLE).
    pub(super) fn heartbeating(&self) -> bool {
        matches!(
            self.state,
            State::AwaitingMetadata { .. } | State::AwaitingSync { .. } | State::Stable
        )
    }

    pub(super) fn wants_coordinator(&self) -> bool {
        (self.active || self.is_member()) && !self.is_closed() && !self.leave_requested
    }

    pub(super) fn wants_join(&self) -> bool {
        self.active
            && !self.leave_requested
            && !self.poll_expired
            && self.rejoin_needed
            && matches!(self.state, State::Unjoined | State::Stable)
            && self.awaiting_ack.is_none()
    }

    pub(super) fn next_request_id(&mut self) -> RequestId {
        self.next_id += 1;
        RequestId(self.next_id)
    }

    pub(super) fn send(&mut self, api: Api, request: GroupRequest, timeout: Duration) -> RequestId {
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

    pub(super) fn emit(&mut self, event: Event) {
        self.actions.push_back(Action::Event(event));
    }

    pub(super) fn fail(&mut self, error: GroupError) {
        tracing::error!(%error, "group membership failed");
        self.state = State::Failed;
        self.in_flight.clear();
        self.heartbeat_request = None;
        self.emit(Event::Fatal(error));
    }

    pub(super) fn resolve_subscription(&mut self) {
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
    pub(super) fn mark_coordinator_unknown(&mut self, now: Instant) {
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
    pub(super) fn reset_generation(&mut self, now: Instant) {
        self.generation = Generation::none();
        self.state_unjoined_rejoin(now, Duration::ZERO);
        self.join_prepared = false;
        self.lose_partitions();
    }

    pub(super) fn state_unjoined_rejoin(&mut self, now: Instant, backoff: Duration) {
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
    pub(super) fn lose_partitions(&mut self) {
        if self.owned.is_empty() {
            return;
        }
        let partitions = std::mem::take(&mut self.owned);
        self.emit(Event::PartitionsLost { partitions });
        self.awaiting_ack = Some(AfterRevoke::Join);
    }

    /// Java `onJoinPrepare`: revoke (eager: everything; cooperative: unsubscribed topics) or
    /// declare lost (no valid generation). Returns whether an ack is now awaited.
    pub(super) fn prepare_join(&mut self) -> bool {
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
    pub(super) fn drive(&mut self, now: Instant) {
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

    pub(super) fn drive_leave(&mut self, now: Instant) {
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
    pub(super) fn maybe_leave(&mut self, _now: Instant, closing: bool, reason: &str) -> bool {
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

    pub(super) fn close(&mut self) {
        self.state = State::Closed;
        self.in_flight.clear();
        self.emit(Event::Left);
    }

    pub(super) fn send_join_group(&mut self, now: Instant) {
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
