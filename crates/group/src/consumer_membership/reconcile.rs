//! Target-assignment reconciliation and the state transitions around it (Java
//! `AbstractMembershipManager`: `processAssignmentReceived`, `maybeReconcile`,
//! `revokeAndAssign`, `transitionToFenced`, `transitionToFatal`, `leaveGroup`,
//! `transitionToSendingLeaveGroup`, `transitionToStale`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use rafka_wire::TopicPartition;

use super::state::{LocalAssignment, MemberState, TopicIdPartitions};
use super::{
    ConsumerEvent, ConsumerGroupError, ConsumerMembership, Hook, Release, JOIN_GROUP_MEMBER_EPOCH,
};

/// Where a running reconciliation is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// Waiting for `commit_done`.
    Commit,
    /// Waiting for `ack_revoked`.
    Revoke,
    /// Waiting for `ack_assigned`.
    Assign,
}

/// A reconciliation in progress (Java `reconciliationInProgress` and its futures).
#[derive(Debug, Clone)]
pub(crate) struct Reconciliation {
    pub id: u64,
    pub step: Step,
    pub resolved: LocalAssignment,
    pub assigned: BTreeSet<TopicPartition>,
    pub revoked: Vec<TopicPartition>,
}

impl ConsumerMembership {
    /// Java `processAssignmentReceived`.
    pub(super) fn process_assignment_received(&mut self, assignment: TopicIdPartitions) {
        if let Some(updated) = self.target.update_with(assignment) {
            self.target = updated;
        }
        if self.target != self.current {
            self.state = MemberState::Reconciling;
        } else if matches!(self.state, MemberState::Reconciling | MemberState::Joining) {
            self.state = MemberState::Stable;
        }
    }

    /// Java `maybeReconcile`: resolve topic ids, then commit → revoke → assign.
    pub(super) fn maybe_reconcile(&mut self) {
        if self.state != MemberState::Reconciling
            || self.target == self.current
            || self.reconciliation.is_some()
        {
            return;
        }
        let mut resolved: TopicIdPartitions = BTreeMap::new();
        let mut assigned = BTreeSet::new();
        let mut unresolved = BTreeSet::new();
        for (id, partitions) in &self.target.partitions {
            let name = self
                .topic_names
                .get(id)
                .or_else(|| self.assigned_names.get(id))
                .cloned();
            match name {
                Some(name) => {
                    self.assigned_names.insert(*id, name.clone());
                    resolved.insert(*id, partitions.clone());
                    assigned.extend(partitions.iter().map(|p| TopicPartition::new(&name, *p)));
                }
                None => {
                    unresolved.insert(*id);
                }
            }
        }
        if !unresolved.is_empty() && !unresolved.is_subset(&self.metadata_requested) {
            tracing::debug!(
                ?unresolved,
                "assigned topic ids not in metadata; requesting it"
            );
            self.metadata_requested.extend(unresolved.iter().copied());
            self.emit(ConsumerEvent::MetadataNeeded {
                topic_ids: unresolved,
            });
        }
        let resolved = LocalAssignment {
            local_epoch: self.target.local_epoch,
            partitions: resolved,
        };
        if !self.current.is_none() && resolved.partitions == self.current.partitions {
            // Only unresolved topics differ: acknowledge the resolvable part, once per
            // target (Java acknowledges again on every attempt, one heartbeat per round
            // trip until the metadata arrives).
            if resolved.local_epoch != self.current.local_epoch {
                self.current = resolved;
                self.state = MemberState::Acknowledging;
            }
            return;
        }
        let revoked: Vec<TopicPartition> = self.owned.difference(&assigned).cloned().collect();
        self.next_reconciliation += 1;
        let mut r = Reconciliation {
            id: self.next_reconciliation,
            step: Step::Commit,
            resolved,
            assigned,
            revoked,
        };
        tracing::info!(
            epoch = r.resolved.local_epoch,
            revoked = ?r.revoked,
            "reconciling the target assignment"
        );
        if self.config.auto_commit {
            self.emit(ConsumerEvent::CommitBeforeReconcile {
                revoking: r.revoked.clone(),
            });
            self.reconciliation = Some(r);
        } else {
            r.step = Step::Revoke;
            self.reconciliation = Some(r);
            self.revoke_step();
        }
    }

    /// The pre-reconciliation commit finished (or failed: Java proceeds anyway).
    pub(super) fn on_commit_done(&mut self) {
        match &mut self.reconciliation {
            Some(r) if r.step == Step::Commit => r.step = Step::Revoke,
            _ => return,
        }
        if !self.abort_if_stale() {
            self.revoke_step();
        }
    }

    /// Java `maybeAbortReconciliation`: the member left RECONCILING (fenced, leaving,
    /// rejoined) while the driver ran a step.
    fn abort_if_stale(&mut self) -> bool {
        if self.state != MemberState::Reconciling {
            tracing::info!(state = %self.state, "interrupting a reconciliation no longer relevant");
            self.reconciliation = None;
            return true;
        }
        false
    }

    fn revoke_step(&mut self) {
        let Some(r) = &self.reconciliation else {
            return;
        };
        if r.revoked.is_empty() {
            self.assign_step();
            return;
        }
        let (id, partitions) = (r.id, r.revoked.clone());
        self.emit(ConsumerEvent::PartitionsRevoked {
            partitions,
            member_epoch: self.member_epoch,
        });
        self.hooks.push_back(Hook::Revoke { id });
    }

    fn assign_step(&mut self) {
        let Some(r) = &mut self.reconciliation else {
            return;
        };
        r.step = Step::Assign;
        let id = r.id;
        let assigned = r.assigned.clone();
        let added: Vec<_> = assigned.difference(&self.owned).cloned().collect();
        self.owned = assigned.clone();
        let topics: BTreeSet<&str> = assigned.iter().map(|tp| tp.topic.as_str()).collect();
        self.assigned_names
            .retain(|_, n| topics.contains(n.as_str()));
        self.emit(ConsumerEvent::PartitionsAssigned {
            added,
            assignment: assigned.into_iter().collect(),
        });
        self.hooks.push_back(Hook::Assign { id });
    }

    /// A listener hook finished; hooks complete in the order they were emitted.
    pub(super) fn on_hook_done(&mut self, assigned: bool, _now: Instant) {
        let pos = self
            .hooks
            .iter()
            .position(|h| matches!(h, Hook::Assign { .. }) == assigned);
        let Some(hook) = pos.and_then(|p| self.hooks.remove(p)) else {
            tracing::warn!(
                assigned,
                "listener acknowledgement with no hook pending; ignored"
            );
            return;
        };
        let current_id = self.reconciliation.as_ref().map(|r| r.id);
        match hook {
            Hook::Revoke { id } if Some(id) == current_id => {
                if !self.abort_if_stale() {
                    let r = self.reconciliation.as_ref().expect("checked");
                    for tp in r.revoked.clone() {
                        self.owned.remove(&tp);
                    }
                    self.assign_step();
                }
            }
            Hook::Assign { id } if Some(id) == current_id => {
                if !self.abort_if_stale() {
                    let r = self.reconciliation.take().expect("checked");
                    self.current = r.resolved;
                    self.state = MemberState::Acknowledging;
                }
            }
            Hook::Revoke { .. } | Hook::Assign { .. } => {}
            Hook::Release(release) => self.on_released(release),
        }
    }

    /// Emits the hook that releases everything owned: revoke while still a member with an
    /// epoch (leaving), lost otherwise. Returns whether a hook is now pending.
    fn release_all(&mut self, release: Release) -> bool {
        if self.owned.is_empty() {
            return false;
        }
        let partitions: Vec<_> = self.owned.iter().cloned().collect();
        if release == Release::Leave && self.member_epoch > 0 {
            self.emit(ConsumerEvent::PartitionsRevoked {
                partitions,
                member_epoch: self.member_epoch,
            });
        } else {
            self.emit(ConsumerEvent::PartitionsLost { partitions });
        }
        self.hooks.push_back(Hook::Release(release));
        true
    }

    fn on_released(&mut self, release: Release) {
        match release {
            Release::Leave => {
                if self.state == MemberState::PrepareLeaving {
                    self.clear_assignment_and_leave();
                }
            }
            Release::Fenced => {
                self.clear_assignment();
                if self.state == MemberState::Fenced {
                    self.transition_to_joining();
                }
            }
            Release::Stale => {
                self.clear_assignment();
                self.stale_released = true;
                if self.state == MemberState::Stale && self.rejoin_when_released {
                    self.transition_to_joining();
                }
            }
            Release::Fatal => self.clear_assignment(),
        }
    }

    fn clear_assignment(&mut self) {
        self.owned.clear();
        self.current = LocalAssignment::none();
        self.target = LocalAssignment::none();
        self.assigned_names.clear();
    }

    /// Java `transitionToJoining`.
    pub(super) fn transition_to_joining(&mut self) {
        if self.state == MemberState::Fatal {
            return;
        }
        self.reconciliation = None;
        self.member_epoch = JOIN_GROUP_MEMBER_EPOCH;
        self.state = MemberState::Joining;
        self.target = LocalAssignment::none();
        self.assigned_names.clear();
        self.stale_released = false;
        self.rejoin_when_released = false;
    }

    /// Java `transitionToFenced` (FENCED_MEMBER_EPOCH, UNKNOWN_MEMBER_ID, and rafka's
    /// session timer): lose everything, then rejoin with epoch 0 and the same member id.
    pub(super) fn transition_to_fenced(&mut self) {
        match self.state {
            MemberState::PrepareLeaving | MemberState::Leaving => {
                self.member_epoch = self.leave_epoch();
                self.state = MemberState::Unsubscribed;
                self.complete_leave();
                return;
            }
            MemberState::Unsubscribed | MemberState::Fatal => return,
            _ => {}
        }
        self.state = MemberState::Fenced;
        self.member_epoch = JOIN_GROUP_MEMBER_EPOCH;
        self.reconciliation = None;
        if !self.release_all(Release::Fenced) {
            self.on_released(Release::Fenced);
        }
    }

    /// Java `transitionToFatal`.
    pub(super) fn transition_to_fatal(&mut self, error: ConsumerGroupError) {
        tracing::error!(%error, member_id = %self.member_id, "consumer group member failed");
        let previous = self.state;
        self.state = MemberState::Fatal;
        self.reconciliation = None;
        self.in_flight.clear();
        self.hb.in_flight = None;
        self.emit(ConsumerEvent::Fatal(error));
        if self.leave_in_progress
            || matches!(previous, MemberState::Leaving | MemberState::PrepareLeaving)
        {
            self.complete_leave();
            return;
        }
        if !self.release_all(Release::Fatal) {
            self.clear_assignment();
        }
    }

    /// Java `leaveGroup` (unsubscribe) and `leaveGroupOnClose`.
    pub(super) fn leave_group(&mut self, closing: bool, now: Instant) {
        if self.closed {
            return;
        }
        self.closing |= closing;
        if matches!(
            self.state,
            MemberState::PrepareLeaving | MemberState::Leaving
        ) || self.leave_in_progress
        {
            return;
        }
        self.subscription_updated = false;
        if self.state.is_not_in_group() {
            if matches!(self.state, MemberState::Fenced | MemberState::Stale) {
                // Java moves only FENCED; a STALE member would rejoin on the next poll
                // with no subscription, which Java's poll() forbids after unsubscribe.
                self.clear_assignment();
                self.state = MemberState::Unsubscribed;
                self.poll_timer_expired = false;
            }
            self.subscription = None;
            self.leave_in_progress = true;
            self.complete_leave();
            return;
        }
        self.state = MemberState::PrepareLeaving;
        self.leave_in_progress = true;
        self.reconciliation = None;
        if !self.release_all(Release::Leave) {
            self.clear_assignment_and_leave();
        }
        self.drive(now);
    }

    fn clear_assignment_and_leave(&mut self) {
        self.subscription = None;
        self.clear_assignment();
        self.transition_to_sending_leave(false);
    }

    /// Java `transitionToSendingLeaveGroup`: epoch -1 (or -2 for a static member), then
    /// LEAVING so the next heartbeat goes out at once.
    pub(super) fn transition_to_sending_leave(&mut self, poll_timer_expired: bool) {
        if matches!(self.state, MemberState::Fatal | MemberState::Unsubscribed) {
            return;
        }
        if poll_timer_expired {
            self.poll_timer_expired = true;
        }
        self.member_epoch = self.leave_epoch();
        self.current = LocalAssignment::none();
        self.state = MemberState::Leaving;
    }

    /// Java `onHeartbeatRequestGenerated`.
    pub(super) fn on_heartbeat_generated(&mut self) {
        match self.state {
            MemberState::Acknowledging => {
                self.state = if self.target == self.current {
                    MemberState::Stable
                } else {
                    MemberState::Reconciling
                };
            }
            MemberState::Leaving if self.poll_timer_expired => {
                // Java `transitionToStale`.
                self.state = MemberState::Stale;
                self.stale_released = false;
                if !self.release_all(Release::Stale) {
                    self.on_released(Release::Stale);
                }
            }
            MemberState::Leaving => self.state = MemberState::Unsubscribed,
            _ => {}
        }
    }

    /// The leave finished: [`ConsumerEvent::Left`], and for `leave` the member closes.
    pub(super) fn complete_leave(&mut self) {
        if !self.leave_in_progress {
            return;
        }
        self.leave_in_progress = false;
        self.emit(ConsumerEvent::Left);
        if self.closing {
            self.closed = true;
            self.in_flight.clear();
        }
    }
}
