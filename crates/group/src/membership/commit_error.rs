//! The one table of what an OffsetCommit error means for the committing member, shared by the
//! membership machine ([`super::Membership::handle_commit_response`]) and the consumer's commit
//! path (`rafka-consumer`), so both decide alike.
//!
//! It follows Java's `ConsumerCoordinator.OffsetCommitResponseHandler` (Kafka 2.5 and later,
//! unchanged in 4.x):
//! - UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION: the member is fenced; its generation is reset, it
//!   rejoins, and the commit fails with `CommitFailedException`.
//! - REBALANCE_IN_PROGRESS: the member rejoins but keeps its generation; the commit fails with
//!   `RebalanceInProgressException`, which is *not* a `RetriableException`, so neither
//!   `commitSync` nor `commitAsync` retries it (the application may commit again after the
//!   rebalance completes in `poll`).
//! - FENCED_INSTANCE_ID: a static member replaced by another instance (KIP-345); fatal.
//! - COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR, REQUEST_TIMED_OUT: the coordinator is marked
//!   unknown and the commit retried.
//! - other retriable codes (COORDINATOR_LOAD_IN_PROGRESS, ...): retried.
//! - STALE_MEMBER_EPOCH (KIP-848, `group.protocol=consumer`): the commit carried an older
//!   member epoch than the broker's; Java's `CommitRequestManager` fails a user's commit with
//!   `CommitFailedException` and retries an automatic one (auto-commit, the commit before a
//!   revocation) with the latest epoch. The membership is not touched.
//! - everything else: the commit fails.

use kafka_protocol::error::ResponseError;

/// What an OffsetCommit error code means (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitErrorKind {
    /// UNKNOWN_MEMBER_ID or ILLEGAL_GENERATION: reset the generation and rejoin; the commit
    /// failed (Java `CommitFailedException`).
    Fenced,
    /// REBALANCE_IN_PROGRESS: rejoin, keep the generation; the commit failed and is not
    /// retried (Java `RebalanceInProgressException`).
    RebalanceInProgress,
    /// FENCED_INSTANCE_ID: this static member was replaced; membership is over.
    FencedInstance,
    /// STALE_MEMBER_EPOCH (KIP-848): a user commit fails (Java `CommitFailedException`); an
    /// automatic one may be retried with the member's latest epoch.
    StaleMemberEpoch,
    /// COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR or REQUEST_TIMED_OUT: find the coordinator
    /// again, then retry.
    CoordinatorMoved,
    /// Another retriable error: retry after the backoff.
    Retriable,
    /// Any other error: the commit failed.
    Fatal,
}

impl CommitErrorKind {
    /// True when the commit fails with "the group rebalanced" (Java `CommitFailedException`
    /// or `RebalanceInProgressException`): [`Self::Fenced`], [`Self::RebalanceInProgress`],
    /// [`Self::FencedInstance`], [`Self::StaleMemberEpoch`].
    pub fn is_commit_failed(self) -> bool {
        matches!(
            self,
            CommitErrorKind::Fenced
                | CommitErrorKind::RebalanceInProgress
                | CommitErrorKind::FencedInstance
                | CommitErrorKind::StaleMemberEpoch
        )
    }

    /// True when the same commit should be sent again (after the backoff).
    pub fn is_retriable(self) -> bool {
        matches!(
            self,
            CommitErrorKind::CoordinatorMoved | CommitErrorKind::Retriable
        )
    }
}

/// Classifies a non-zero OffsetCommit partition error code (see the module docs).
pub fn commit_error_kind(code: i16) -> CommitErrorKind {
    let error = ResponseError::try_from_code(code);
    match error {
        Some(ResponseError::UnknownMemberId | ResponseError::IllegalGeneration) => {
            CommitErrorKind::Fenced
        }
        Some(ResponseError::RebalanceInProgress) => CommitErrorKind::RebalanceInProgress,
        Some(ResponseError::FencedInstanceId) => CommitErrorKind::FencedInstance,
        Some(ResponseError::StaleMemberEpoch) => CommitErrorKind::StaleMemberEpoch,
        Some(
            ResponseError::CoordinatorNotAvailable
            | ResponseError::NotCoordinator
            | ResponseError::RequestTimedOut,
        ) => CommitErrorKind::CoordinatorMoved,
        Some(e) if e.is_retriable() => CommitErrorKind::Retriable,
        _ => CommitErrorKind::Fatal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_java() {
        use CommitErrorKind::*;
        let code = |e: ResponseError| e.code();
        assert_eq!(
            commit_error_kind(code(ResponseError::IllegalGeneration)),
            Fenced
        );
        assert_eq!(
            commit_error_kind(code(ResponseError::UnknownMemberId)),
            Fenced
        );
        assert_eq!(
            commit_error_kind(code(ResponseError::RebalanceInProgress)),
            RebalanceInProgress
        );
        assert!(!RebalanceInProgress.is_retriable());
        assert_eq!(
            commit_error_kind(code(ResponseError::FencedInstanceId)),
            FencedInstance
        );
        assert_eq!(
            commit_error_kind(code(ResponseError::NotCoordinator)),
            CoordinatorMoved
        );
        assert_eq!(
            commit_error_kind(code(ResponseError::CoordinatorLoadInProgress)),
            Retriable
        );
        assert_eq!(
            commit_error_kind(code(ResponseError::OffsetMetadataTooLarge)),
            Fatal
        );
        assert_eq!(
            commit_error_kind(code(ResponseError::StaleMemberEpoch)),
            StaleMemberEpoch
        );
        assert!(StaleMemberEpoch.is_commit_failed() && !StaleMemberEpoch.is_retriable());
    }
}
