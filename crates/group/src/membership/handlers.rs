//! Responses and failures fed back into [`Membership`], handled as Java's
//! `AbstractCoordinator` / `ConsumerCoordinator` response handlers do.

use std::time::Instant;

use kafka_protocol::messages::find_coordinator_response::FindCoordinatorResponse;
use kafka_protocol::messages::heartbeat_response::HeartbeatResponse;
use kafka_protocol::messages::leave_group_response::LeaveGroupResponse;
use kafka_protocol::messages::offset_commit_response::OffsetCommitResponse;

use super::commit_error::{commit_error_kind, CommitErrorKind};
use super::{Api, Coordinator, Event, Generation, GroupError, Membership, RequestId, State};

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

pub(super) fn is_coordinator_moved(c: i16) -> bool {
    c == code::COORDINATOR_NOT_AVAILABLE || c == code::NOT_COORDINATOR
}

pub(super) fn is_retriable(c: i16) -> bool {
    kafka_protocol::error::ResponseError::try_from_code(c).is_some_and(|e| e.is_retriable())
}

impl Membership {
    pub(super) fn take_in_flight(
        &mut self,
        id: RequestId,
        api: fn(Api) -> bool,
    ) -> Option<Generation> {
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
        match Coordinator::from_find_response(response, &self.config.group_id) {
            Ok(coordinator) => {
                self.coordinator = Some(coordinator.clone());
                self.find_retry_at = None;
                // Java also restarts the session timer here (`resetSessionTimeout`); rafka
                // keeps counting from the last successful heartbeat so that a coordinator that
                // is found but never answers still ends in PartitionsLost (librdkafka does the
                // same). The next heartbeat keeps its schedule (or its failure backoff).
                self.emit(Event::CoordinatorChanged {
                    coordinator: Some(coordinator),
                });
            }
            Err(error) if error == code::GROUP_AUTHORIZATION_FAILED => {
                self.fail(GroupError::broker("FindCoordinator", error));
                return;
            }
            Err(error) => {
                if !is_retriable(error) && error != code::NONE {
                    self.emit(Event::Error(GroupError::broker("FindCoordinator", error)));
                }
                self.find_retry_at = Some(now + self.config.retry_backoff);
            }
        }
        self.drive(now);
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
            // A KIP-848 error; a classic group never returns it.
            CommitErrorKind::StaleMemberEpoch => failed(),
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
