//! Building heartbeats: Java's "sent fields" tracking
//! (`ConsumerHeartbeatRequestManager.HeartbeatState`), and the heartbeat timer with its
//! exponential backoff (`AbstractHeartbeatRequestManager.HeartbeatRequestState`).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use super::event::ConsumerGroupRequest;
use super::request::ConsumerHeartbeatParams;
use super::state::{LocalAssignment, MemberState};
use super::{ConsumerMembership, ConsumerSubscription, HeartbeatKind};
use crate::membership::{Coordinator, Destination, RequestId};

/// What the last heartbeats carried (Java `HeartbeatState.SentFields`); reset after every
/// error so the next heartbeat is full.
#[derive(Debug, Clone, Default)]
pub(crate) struct SentFields {
    pub rebalance_timeout_ms: Option<i32>,
    pub topics: Option<BTreeSet<String>>,
    pub regex: Option<String>,
    pub server_assignor: Option<String>,
    pub rack: Option<String>,
    pub assignment: Option<LocalAssignment>,
}

/// Heartbeat timing (Java `HeartbeatRequestState`): one request in flight; the next one
/// after the broker's interval, or after an exponential backoff when the last one failed.
#[derive(Debug, Clone)]
pub(crate) struct HeartbeatTimer {
    /// The broker's `HeartbeatIntervalMs`; 0 until the first response, as in Java.
    pub interval: Duration,
    /// When the interval since the last send (or interval change) runs out.
    pub interval_expires: Option<Instant>,
    /// Failures in a row (Java `numAttempts`).
    pub failures: u32,
    /// No send before this after a failure.
    pub backoff_until: Option<Instant>,
    /// The heartbeat in flight whose response is handled.
    pub in_flight: Option<RequestId>,
}

impl HeartbeatTimer {
    pub fn new() -> HeartbeatTimer {
        HeartbeatTimer {
            interval: Duration::ZERO,
            interval_expires: None,
            failures: 0,
            backoff_until: None,
            in_flight: None,
        }
    }

    /// Java `canSendRequest`: interval expired, backoff over, nothing in flight.
    pub fn can_send(&self, now: Instant) -> bool {
        self.in_flight.is_none()
            && self.interval_expires.is_none_or(|t| now >= t)
            && self.backoff_over(now)
    }

    pub fn backoff_over(&self, now: Instant) -> bool {
        self.backoff_until.is_none_or(|t| now >= t)
    }

    /// `onSendAttempt` + `resetTimer`.
    pub fn on_send(&mut self, id: RequestId, now: Instant) {
        self.in_flight = Some(id);
        self.interval_expires = Some(now + self.interval);
    }

    /// `updateHeartbeatIntervalMs` + `onSuccessfulAttempt`.
    pub fn on_success(&mut self, interval: Duration, now: Instant) {
        self.in_flight = None;
        self.failures = 0;
        self.backoff_until = None;
        if interval != self.interval {
            self.interval = interval;
            self.interval_expires = Some(now + interval);
        }
    }

    /// `onFailedAttempt`: the interval no longer applies, the backoff does
    /// (`retry.backoff.ms` · 2^(failures-1), capped at `retry.backoff.max.ms`; Java adds
    /// 20 % jitter, rafka stays deterministic).
    pub fn on_failure(&mut self, base: Duration, max: Duration, now: Instant) {
        self.in_flight = None;
        self.interval_expires = Some(now);
        self.failures = self.failures.saturating_add(1);
        let factor = 2u32.saturating_pow(self.failures - 1);
        let backoff = base.saturating_mul(factor).min(max.max(base));
        self.backoff_until = Some(now + backoff);
    }

    /// Java `reset()`: send as soon as possible (no backoff, no interval).
    pub fn reset(&mut self, now: Instant) {
        self.failures = 0;
        self.backoff_until = None;
        self.interval_expires = Some(now);
    }

    /// When a send becomes possible, if nothing is in flight.
    pub fn next_send(&self, heartbeat_now: bool) -> Option<Instant> {
        if self.in_flight.is_some() {
            return None;
        }
        let interval = if heartbeat_now {
            None
        } else {
            self.interval_expires
        };
        match (interval, self.backoff_until) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }
}

impl ConsumerMembership {
    pub(super) fn send_heartbeat(
        &mut self,
        coordinator: &Coordinator,
        kind: HeartbeatKind,
        now: Instant,
    ) {
        let params = self.build_heartbeat();
        let id = self.send(
            Destination::Coordinator(coordinator.clone()),
            ConsumerGroupRequest::Heartbeat(params),
        );
        self.in_flight.insert(id, kind);
        if kind == HeartbeatKind::Normal {
            self.hb.on_send(id, now);
        }
        self.on_heartbeat_generated();
    }

    /// Java `HeartbeatState.buildRequestData`: every field when joining, otherwise only what
    /// changed since the last heartbeat.
    pub(super) fn build_heartbeat(&mut self) -> ConsumerHeartbeatParams {
        let full = self.state == MemberState::Joining;
        let sent = &mut self.sent;
        let rebalance = self.config.rebalance_timeout_ms();
        let rebalance_timeout_ms = if full || sent.rebalance_timeout_ms != Some(rebalance) {
            sent.rebalance_timeout_ms = Some(rebalance);
            rebalance
        } else {
            -1
        };
        let (topics, regex) = match &self.subscription {
            Some(ConsumerSubscription::Topics(t)) => (t.clone(), None),
            Some(ConsumerSubscription::Regex(r)) => (BTreeSet::new(), Some(r.clone())),
            None => (BTreeSet::new(), None),
        };
        let subscribed_topic_names = if full || sent.topics.as_ref() != Some(&topics) {
            sent.topics = Some(topics.clone());
            Some(topics.into_iter().collect())
        } else {
            None
        };
        let subscribed_topic_regex = if (full && regex.is_some()) || regex != sent.regex {
            sent.regex = regex.clone();
            Some(regex.unwrap_or_default())
        } else {
            None
        };
        let server_assignor = match &self.config.remote_assignor {
            Some(a) if full || sent.server_assignor.as_ref() != Some(a) => {
                sent.server_assignor = Some(a.clone());
                Some(a.clone())
            }
            _ => None,
        };
        let rack_id = match &self.config.client_rack {
            Some(r) if full || sent.rack.as_ref() != Some(r) => {
                sent.rack = Some(r.clone());
                Some(r.clone())
            }
            _ => None,
        };
        let topic_partitions = if full || sent.assignment.as_ref() != Some(&self.current) {
            sent.assignment = Some(self.current.clone());
            Some(
                self.current
                    .partitions
                    .iter()
                    .map(|(id, p)| (*id, p.iter().copied().collect()))
                    .collect(),
            )
        } else {
            None
        };
        ConsumerHeartbeatParams {
            group_id: self.config.group_id.clone(),
            member_id: self.member_id.clone(),
            member_epoch: self.member_epoch,
            instance_id: self.config.group_instance_id.clone(),
            rack_id,
            rebalance_timeout_ms,
            subscribed_topic_names,
            subscribed_topic_regex,
            server_assignor,
            topic_partitions,
        }
    }
}
