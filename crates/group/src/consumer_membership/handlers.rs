//! Responses and failures fed back into [`ConsumerMembership`], handled as Java's
//! `AbstractHeartbeatRequestManager.onResponse/onErrorResponse/onFailure`,
//! `ConsumerHeartbeatRequestManager.handleSpecific*` and
//! `ConsumerMembershipManager.onHeartbeatSuccess` do.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use kafka_protocol::messages::consumer_group_heartbeat_response::ConsumerGroupHeartbeatResponse;
use kafka_protocol::messages::find_coordinator_response::FindCoordinatorResponse;

use super::heartbeat::SentFields;
use super::state::{MemberState, TopicId, TopicIdPartitions};
use super::{ConsumerEvent, ConsumerGroupError, ConsumerMembership, HeartbeatKind, RequestFailure};
use crate::membership::{Coordinator, GroupError, RequestId};

/// Error codes the heartbeat handling branches on (Kafka protocol guide, "Error Codes").
pub(crate) mod code {
    pub const NONE: i16 = 0;
    pub const COORDINATOR_LOAD_IN_PROGRESS: i16 = 14;
    pub const COORDINATOR_NOT_AVAILABLE: i16 = 15;
    pub const NOT_COORDINATOR: i16 = 16;
    pub const UNKNOWN_MEMBER_ID: i16 = 25;
    pub const TOPIC_AUTHORIZATION_FAILED: i16 = 29;
    pub const GROUP_AUTHORIZATION_FAILED: i16 = 30;
    pub const UNSUPPORTED_VERSION: i16 = 35;
    pub const INVALID_REQUEST: i16 = 42;
    pub const GROUP_MAX_SIZE_REACHED: i16 = 81;
    pub const FENCED_INSTANCE_ID: i16 = 82;
    pub const FENCED_MEMBER_EPOCH: i16 = 110;
    pub const UNRELEASED_INSTANCE_ID: i16 = 111;
    pub const UNSUPPORTED_ASSIGNOR: i16 = 112;
    pub const INVALID_REGULAR_EXPRESSION: i16 = 128;
}

impl ConsumerMembership {
    /// FindCoordinator answered. Reads v0–v3 top-level fields or the v4+ `coordinators`
    /// entry for this group.
    pub fn handle_find_coordinator_response(
        &mut self,
        id: RequestId,
        response: &FindCoordinatorResponse,
        now: Instant,
    ) {
        if self.find_request != Some(id) || self.is_closed() {
            return;
        }
        self.find_request = None;
        match Coordinator::from_find_response(response, &self.config.group_id) {
            Ok(coordinator) => {
                self.coordinator = Some(coordinator.clone());
                self.find_failures = 0;
                self.find_retry_at = None;
                self.emit(ConsumerEvent::CoordinatorChanged {
                    coordinator: Some(coordinator),
                });
            }
            Err(error) => {
                if error == code::GROUP_AUTHORIZATION_FAILED {
                    // Java `CoordinatorRequestManager` keeps it as a fatal error that every
                    // poll reports, and keeps retrying.
                    self.emit(ConsumerEvent::Error(ConsumerGroupError::Coordinator(
                        GroupError::broker("FindCoordinator", error),
                    )));
                }
                self.find_backoff(now);
            }
        }
        self.drive(now);
    }

    fn find_backoff(&mut self, now: Instant) {
        self.find_failures = self.find_failures.saturating_add(1);
        let factor = 2u32.saturating_pow(self.find_failures - 1);
        let backoff = backoff(
            self.config.retry_backoff,
            self.config.retry_backoff_max,
            factor,
        );
        self.find_retry_at = Some(now + backoff);
    }

    /// Java `markCoordinatorUnknown`.
    fn mark_coordinator_unknown(&mut self, now: Instant) {
        if self.coordinator.take().is_none() {
            return;
        }
        tracing::info!("group coordinator marked unknown");
        self.find_retry_at = Some(now);
        self.emit(ConsumerEvent::CoordinatorChanged { coordinator: None });
    }

    /// ConsumerGroupHeartbeat answered.
    pub fn handle_heartbeat_response(
        &mut self,
        id: RequestId,
        response: &ConsumerGroupHeartbeatResponse,
        now: Instant,
    ) {
        let Some(kind) = self.in_flight.remove(&id) else {
            return;
        };
        let error = response.error_code;
        let message = response.error_message.as_ref().map(|m| m.to_string());
        match kind {
            HeartbeatKind::PollTimeoutLeave => {
                tracing::debug!(
                    error,
                    "response to the poll-timeout leave heartbeat (ignored)"
                );
                return;
            }
            HeartbeatKind::Leave => {
                if error != code::NONE {
                    tracing::warn!(error, ?message, "leave heartbeat failed; left anyway");
                }
                self.complete_leave();
                self.drive(now);
                return;
            }
            HeartbeatKind::Normal => {}
        }
        if error == code::NONE {
            let interval = Duration::from_millis(response.heartbeat_interval_ms.max(0) as u64);
            self.hb.on_success(interval, now);
            self.on_heartbeat_success(response, now);
        } else {
            self.on_error_response(error, message, now);
        }
        self.drive(now);
    }

    /// Java `ConsumerMembershipManager.onHeartbeatSuccess`.
    fn on_heartbeat_success(&mut self, response: &ConsumerGroupHeartbeatResponse, now: Instant) {
        if self.state.is_not_in_group() || self.state == MemberState::Leaving {
            return;
        }
        if response.member_epoch < 0 {
            return;
        }
        if let Some(id) = response.member_id.as_ref().filter(|m| !m.is_empty()) {
            if id.as_str() != self.member_id {
                // v0 brokers generate the id; adopt it.
                self.member_id = id.to_string();
            }
        }
        self.member_epoch = response.member_epoch;
        self.last_heartbeat_ok = Some(now);
        let Some(assignment) = &response.assignment else {
            return;
        };
        if !self.state.can_handle_new_assignment() {
            tracing::debug!(state = %self.state, "ignoring an assignment received while leaving");
            return;
        }
        let mut target: TopicIdPartitions = BTreeMap::new();
        for tp in &assignment.topic_partitions {
            target
                .entry(TopicId(tp.topic_id.as_u128()))
                .or_default()
                .extend(tp.partitions.iter().copied());
        }
        self.process_assignment_received(target);
    }

    /// Java `AbstractHeartbeatRequestManager.onErrorResponse` and
    /// `ConsumerHeartbeatRequestManager.handleSpecificExceptionInResponse`.
    fn on_error_response(&mut self, error: i16, message: Option<String>, now: Instant) {
        self.sent = SentFields::default();
        let (base, max) = (self.config.retry_backoff, self.config.retry_backoff_max);
        self.hb.on_failure(base, max, now);
        tracing::info!(error, ?message, state = %self.state, "ConsumerGroupHeartbeat failed");
        match error {
            code::NOT_COORDINATOR | code::COORDINATOR_NOT_AVAILABLE => {
                self.mark_coordinator_unknown(now);
                // Next heartbeat as soon as the coordinator is found again.
                self.hb.reset(now);
            }
            code::COORDINATOR_LOAD_IN_PROGRESS => {}
            code::FENCED_MEMBER_EPOCH | code::UNKNOWN_MEMBER_ID => {
                self.transition_to_fenced();
                self.hb.reset(now);
            }
            code::TOPIC_AUTHORIZATION_FAILED => {
                // Reported from poll; the member stays so it recovers once ACLs are added.
                self.emit(ConsumerEvent::Error(ConsumerGroupError::heartbeat(
                    error, message,
                )));
            }
            code::UNSUPPORTED_VERSION => {
                self.transition_to_fatal(ConsumerGroupError::ProtocolNotSupported);
            }
            code::GROUP_AUTHORIZATION_FAILED
            | code::INVALID_REQUEST
            | code::GROUP_MAX_SIZE_REACHED
            | code::UNSUPPORTED_ASSIGNOR
            | code::INVALID_REGULAR_EXPRESSION
            | code::UNRELEASED_INSTANCE_ID
            | code::FENCED_INSTANCE_ID => {
                self.transition_to_fatal(ConsumerGroupError::heartbeat(error, message));
            }
            other => {
                // Java: "there could be a bug in the code or a new error code": fatal.
                tracing::error!(other, "unexpected ConsumerGroupHeartbeat error");
                self.transition_to_fatal(ConsumerGroupError::heartbeat(other, message));
            }
        }
    }

    /// A request got no response. Heartbeats retry with backoff (Java `onFailure`): a lost
    /// connection or timeout also marks the coordinator unknown; an unsupported version is
    /// fatal (a broker without KIP-848).
    pub fn handle_request_failed(&mut self, id: RequestId, failure: RequestFailure, now: Instant) {
        if self.find_request == Some(id) {
            self.find_request = None;
            self.find_backoff(now);
            if matches!(failure, RequestFailure::UnsupportedVersion) {
                tracing::warn!("FindCoordinator version unsupported; retrying");
            }
            self.drive(now);
            return;
        }
        let Some(kind) = self.in_flight.remove(&id) else {
            return;
        };
        match kind {
            HeartbeatKind::PollTimeoutLeave => return,
            HeartbeatKind::Leave => {
                self.complete_leave();
                self.drive(now);
                return;
            }
            HeartbeatKind::Normal => {}
        }
        let (base, max) = (self.config.retry_backoff, self.config.retry_backoff_max);
        self.hb.on_failure(base, max, now);
        self.sent = SentFields::default();
        match failure {
            RequestFailure::UnsupportedVersion => {
                self.transition_to_fatal(ConsumerGroupError::ProtocolNotSupported);
            }
            RequestFailure::RegexNotSupported => {
                self.transition_to_fatal(ConsumerGroupError::RegexNotSupported);
            }
            RequestFailure::Disconnected | RequestFailure::TimedOut => {
                self.mark_coordinator_unknown(now);
            }
        }
        self.drive(now);
    }
}

fn backoff(base: Duration, max: Duration, factor: u32) -> Duration {
    base.saturating_mul(factor).min(max.max(base))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let (b, m) = (Duration::from_millis(100), Duration::from_millis(1000));
        assert_eq!(backoff(b, m, 1), Duration::from_millis(100));
        assert_eq!(backoff(b, m, 4), Duration::from_millis(400));
        assert_eq!(backoff(b, m, 16), Duration::from_millis(1000));
    }
}
