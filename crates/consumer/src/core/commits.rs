//! The commit queue of [`ConsumerCore`]: commits go one at a time, in the order made,
//! classified by the one commit-error table and retried with backoff; and the KIP-848 commit
//! before a reconciliation, whose end lets the member go on to the revoke hook.

use std::time::{Duration, Instant};

use rafka_group::{commit_error_kind, CommitErrorKind, Generation};
use rafka_wire::error_code::ErrorCode;

use super::{CommitId, ConsumerCore, CoreEvent};
use crate::commit::OffsetToCommit;
use crate::error::ConsumerError;

/// A commit in the queue.
#[derive(Debug)]
pub(super) struct PendingCommit {
    pub(super) id: CommitId,
    pub(super) offsets: Vec<OffsetToCommit>,
    /// Give up retrying after this.
    pub(super) deadline: Instant,
    pub(super) backoff: Duration,
    /// Sent under this generation (for the fencing rule).
    pub(super) sent: Option<Generation>,
    /// Made by the consumer itself (auto-commit, the commit of revoked partitions): retried
    /// after STALE_MEMBER_EPOCH with the latest member epoch, as Java's `CommitRequestManager`
    /// does; a user's commit fails instead.
    pub(super) automatic: bool,
    pub(super) in_flight: bool,
    pub(super) retry_at: Option<Instant>,
}

impl ConsumerCore {
    /// Queues a commit; commits are sent one at a time, in the order given (as Java's
    /// commits complete in order). A member outside a generation fails at once with
    /// [`ConsumerError::CommitFailed`], as Java's client-side `CommitFailedException`.
    pub fn commit(&mut self, offsets: Vec<OffsetToCommit>, now: Instant) -> CommitId {
        self.commit_automatic(offsets, false, now)
    }

    /// [`ConsumerCore::commit`]; `automatic` marks a commit the consumer made itself
    /// (auto-commit, or the commit of revoked partitions), which STALE_MEMBER_EPOCH retries
    /// with the member's latest epoch instead of failing (KIP-848, Java
    /// `CommitRequestManager`).
    pub fn commit_automatic(
        &mut self,
        offsets: Vec<OffsetToCommit>,
        automatic: bool,
        now: Instant,
    ) -> CommitId {
        let id = CommitId(self.next_id());
        self.queue_commit(id, offsets, automatic, now);
        id
    }

    fn queue_commit(
        &mut self,
        id: CommitId,
        offsets: Vec<OffsetToCommit>,
        automatic: bool,
        now: Instant,
    ) {
        let early = if self.config.kafka_commits && self.config.group_id.is_none() {
            Some(ConsumerError::NoGroupId {
                operation: "commit",
            })
        } else if self.outside_generation() {
            Some(ConsumerError::CommitFailed {
                code: ErrorCode::UNKNOWN_MEMBER_ID,
            })
        } else {
            None
        };
        match early {
            Some(e) => self.finish_commit(id, offsets, Err(e), now),
            None => self.commits.push_back(PendingCommit {
                id,
                offsets,
                deadline: now + self.config.commit_timeout,
                backoff: self.config.retry_backoff,
                sent: None,
                automatic,
                in_flight: false,
                retry_at: None,
            }),
        }
        self.drive(now);
    }

    /// The answer to [`Transmit::Commit`]: retriable errors (by the one table) are retried
    /// with backoff until `default.api.timeout.ms`; fencing errors also reset the member's
    /// generation (it rejoins); the rest completes the commit.
    pub fn handle_commit_response(
        &mut self,
        id: CommitId,
        result: Result<(), ConsumerError>,
        now: Instant,
    ) {
        let Some(pos) = self.commits.iter().position(|c| c.id == id && c.in_flight) else {
            return;
        };
        let commit = &mut self.commits[pos];
        commit.in_flight = false;
        let retriable = match &result {
            Ok(()) => false,
            Err(e) => {
                let code = match e {
                    ConsumerError::CommitFailed { code } => Some(code.0),
                    ConsumerError::Broker { error, .. } => Some(error.code.0),
                    _ => None,
                };
                if let (Some(code), Some(sent), Some(m)) = (code, &commit.sent, &mut self.member) {
                    // Membership effects: reset and rejoin, rejoin, coordinator unknown.
                    let _ = m.handle_commit_error(sent, code, now);
                }
                let member_epoch = self
                    .member
                    .as_ref()
                    .map(|m| m.group_metadata().generation_id);
                match code {
                    // KIP-848: an automatic commit is sent again with the latest epoch, once
                    // the member has one (Java `retryOnStaleEpoch`).
                    Some(code) if commit_error_kind(code) == CommitErrorKind::StaleMemberEpoch => {
                        commit.automatic && member_epoch.is_some_and(|e| e > 0)
                    }
                    Some(code) => commit_error_kind(code).is_retriable(),
                    None => e.is_retriable(),
                }
            }
        };
        if retriable && now + commit.backoff < commit.deadline {
            tracing::debug!(error = ?result, "commit failed; retrying");
            commit.retry_at = Some(now + commit.backoff);
            commit.backoff = (commit.backoff * 2).min(self.config.retry_backoff_max);
        } else {
            let commit = self.commits.remove(pos).expect("found above");
            self.finish_commit(id, commit.offsets, result, now);
        }
        self.drive(now);
    }

    /// Reports a finished commit; the end of the commit before a reconciliation, whatever
    /// its outcome, lets the member go on (Java proceeds after a failed one too).
    fn finish_commit(
        &mut self,
        id: CommitId,
        offsets: Vec<OffsetToCommit>,
        result: Result<(), ConsumerError>,
        now: Instant,
    ) {
        if let Err(error) = &result {
            if self.reconcile_commit == Some(id) {
                tracing::warn!(%error, "commit before reconciling failed; reconciling anyway");
            }
        }
        self.events.push_back(CoreEvent::CommitDone {
            id,
            offsets,
            result,
        });
        if self.reconcile_commit == Some(id) {
            self.reconcile_commit = None;
            if let Some(m) = &mut self.member {
                m.commit_done(now);
            }
        }
    }

    /// The answer to [`CoreEvent::CommitBeforeReconcile`]: commits `offsets` (what was
    /// consumed, retried as an automatic commit until `default.api.timeout.ms`), after which
    /// the member goes on to the revoke hook; nothing to commit goes on at once.
    pub fn commit_before_reconcile(&mut self, offsets: Vec<OffsetToCommit>, now: Instant) {
        if offsets.is_empty() {
            if let Some(m) = &mut self.member {
                m.commit_done(now);
            }
            self.drive(now);
            return;
        }
        let id = CommitId(self.next_id());
        self.reconcile_commit = Some(id);
        self.queue_commit(id, offsets, true, now);
    }
}
