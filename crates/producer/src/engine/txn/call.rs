//! Coordinator requests with retries, and what their answers mean.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use kafka_protocol::messages::{AddPartitionsToTxnResponse, TxnOffsetCommitResponse};
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

/// The partitions an AddPartitionsToTxn answer added, and the error that decides the rest:
/// the top-level code, else the first partition error other than OPERATION_NOT_ATTEMPTED
/// (which only says another partition failed).
pub(super) fn added_partitions(resp: &AddPartitionsToTxnResponse) -> (Vec<(&str, i32)>, ErrorCode) {
    let mut worst = ErrorCode::NONE;
    let mut added = Vec::new();
    for t in &resp.results_by_topic_v3_and_below {
        for p in &t.results_by_partition {
            let code = ErrorCode(p.partition_error_code);
            if code == ErrorCode::NONE {
                added.push((&*t.name.0, p.partition_index));
            } else if worst == ErrorCode::NONE || worst == ErrorCode::OPERATION_NOT_ATTEMPTED {
                worst = code;
            }
        }
    }
    if resp.error_code != 0 {
        worst = ErrorCode(resp.error_code);
    }
    (added, worst)
}

/// The first partition error of a TxnOffsetCommit answer, or NONE.
pub(super) fn first_offset_error(resp: &TxnOffsetCommitResponse) -> ErrorCode {
    resp.topics
        .iter()
        .flat_map(|t| t.partitions.iter())
        .map(|p| ErrorCode(p.error_code))
        .find(|c| *c != ErrorCode::NONE)
        .unwrap_or(ErrorCode::NONE)
}
