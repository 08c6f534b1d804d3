//! Coordinator requests with retries, and what their answers mean.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rafka_client::Error as ClientError;
use rafka_wire::error_code::ErrorCode;

use crate::engine::{Action, Target};
use crate::error::{ProduceError, TransactionError};

/// One coordinator request with retries: due at `next` (`None` while in flight), retried
/// until `deadline` (`max.block.ms` after the first attempt).
#[derive(Debug)]
pub(super) struct Call {
    pub(super) next: Option<Instant>,
    pub(super) deadline: Instant,
}

impl Call {
    pub(super) fn new(now: Instant, max_block: Duration) -> Self {
        Call {
            next: Some(now),
            deadline: now + max_block,
        }
    }

    /// Whether the request is due; if so it is in flight from now.
    pub(super) fn take_due(&mut self, now: Instant) -> bool {
        if self.next.is_some_and(|t| t <= now) {
            self.next = None;
            true
        } else {
            false
        }
    }

    pub(super) fn retry(&mut self, now: Instant, backoff: Duration) {
        self.next = Some(now + backoff);
    }
}

/// What a coordinator's answer means for its [`Call`].
pub(super) enum Verdict {
    Done,
    Retry,
    Failed(ProduceError),
}

/// Errors of the transaction's own requests that fence the producer.
pub(super) fn txn_err(code: ErrorCode, api: &'static str) -> ProduceError {
    match code {
        ErrorCode::PRODUCER_FENCED
        | ErrorCode::INVALID_PRODUCER_EPOCH
        | ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED
        | ErrorCode::INVALID_PRODUCER_ID_MAPPING => ProduceError::Fenced(code),
        _ => TransactionError::Coordinator { api, code }.into(),
    }
}

/// Whether a coordinator error means "ask again": `Some(true)` after finding the
/// coordinator again, `Some(false)` at the same one.
pub(super) fn retry_coordinator(code: ErrorCode) -> Option<bool> {
    match code {
        ErrorCode::NOT_COORDINATOR | ErrorCode::COORDINATOR_NOT_AVAILABLE => Some(true),
        ErrorCode::CONCURRENT_TRANSACTIONS | ErrorCode::COORDINATOR_LOAD_IN_PROGRESS => Some(false),
        c if c.is_retriable() => Some(false),
        _ => None,
    }
}

/// Judges an answer (its error code, or the client's failure) against the call's deadline;
/// asks the driver to find `coordinator` again when the code says it moved.
pub(super) fn judge(
    reply: Result<ErrorCode, &ClientError>,
    api: &'static str,
    call: &Call,
    now: Instant,
    coordinator: Target,
    actions: &mut VecDeque<Action>,
) -> Verdict {
    let code = match reply {
        Ok(c) => c,
        Err(e) if e.is_retriable() && now < call.deadline => return Verdict::Retry,
        Err(e) => return Verdict::Failed(ProduceError::Client(e.clone())),
    };
    if code == ErrorCode::NONE {
        return Verdict::Done;
    }
    match retry_coordinator(code) {
        Some(refind) if now < call.deadline => {
            if refind {
                actions.push_back(Action::InvalidateCoordinator(coordinator));
            }
            Verdict::Retry
        }
        _ => Verdict::Failed(txn_err(code, api)),
    }
}

pub(super) fn is_fenced(e: &ProduceError) -> bool {
    matches!(e, ProduceError::Fenced(_))
}
