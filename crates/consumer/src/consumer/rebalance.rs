//! The rebalance side of [`Consumer`]: group events from the driver become hook calls on the
//! application's task (revoke, assign, lost), with the commit or store save that goes with a
//! revocation; and [`HookTarget`], the consumer as the hooks see it.

use std::collections::HashMap;
use std::sync::Arc;

use rafka_wire::TopicPartition;

use super::Consumer;
use crate::driver::GroupEvent;
use crate::error::ConsumerError;
use crate::events::ConsumerEvent;
use crate::listener::{ConsumerContext, HookTarget};
use crate::store::OffsetStore;
use crate::GroupProtocol;

impl Consumer {
    /// Revoke hooks + final commit for every owned partition (close, unsubscribe). The
    /// classic protocol commits after the hook; `group.protocol=consumer` before it, as Java's
    /// close commits before it releases the assignment.
    pub(super) async fn revoke_all_for_shutdown(&mut self) -> Result<(), ConsumerError> {
        let owned = self.assignment();
        let commit_first = self.commits_before_revoke();
        let mut committed = Ok(());
        if commit_first {
            committed = self.commit_on_revoke(&owned).await;
        }
        let mut result = Ok(());
        if self.in_group && !owned.is_empty() {
            result = self.run_hook(HookKind::Revoked, &owned).await;
        }
        if !commit_first {
            committed = self.commit_on_revoke(&owned).await;
        }
        let saved = match committed {
            // As Java's close (`maybeAutoCommitOffsetsSync`), a failed auto-commit does not
            // fail the close: it is logged and kept for `drain_events`. A store's failure is
            // the application's to see.
            Err(error) if self.config.offset_store.is_kafka() => {
                self.note_commit_on_revoke_failed(owned, error);
                Ok(())
            }
            other => other,
        };
        result.and(saved)
    }

    /// Whether what was consumed is committed before the revoke hook: Kafka commits under
    /// `group.protocol=consumer` (Java's `AbstractMembershipManager` commits, then runs
    /// `onPartitionsRevoked`; for a reconciliation the driver does it). The classic protocol
    /// commits after the hook, and an external store is saved after it under either protocol,
    /// on this task, so that the save cannot overwrite newer positions the application stored
    /// itself meanwhile.
    fn commits_before_revoke(&self) -> bool {
        self.config.group_protocol == GroupProtocol::Consumer && self.config.offset_store.is_kafka()
    }

    /// A failed commit of revoked partitions: logged and kept for `drain_events`.
    fn note_commit_on_revoke_failed(&self, partitions: Vec<TopicPartition>, error: ConsumerError) {
        tracing::warn!(%error, "commit of revoked partitions failed");
        self.shared
            .lock()
            .events
            .push(ConsumerEvent::CommitOnRevokeFailed { partitions, error });
    }

    /// Commit (Kafka, under auto-commit) or save (external store) what was consumed of these
    /// partitions before they go.
    pub(super) async fn commit_on_revoke(
        &mut self,
        partitions: &[TopicPartition],
    ) -> Result<(), ConsumerError> {
        let offsets: Vec<(TopicPartition, i64)> = {
            let st = self.shared.lock();
            st.subs
                .uncommitted_stored()
                .into_iter()
                .filter(|(tp, _)| partitions.contains(tp))
                .collect()
        };
        if offsets.is_empty() {
            return Ok(());
        }
        if self.config.offset_store.is_kafka() && !self.config.auto_commits() {
            return Ok(());
        }
        // Not in a generation (expelled): the partitions are someone else's already, and the
        // driver skips the commit.
        let offsets = self.with_epochs(&offsets);
        self.driver().commit(offsets, true).await
    }

    pub(super) async fn handle_group_events(&mut self) -> Result<(), ConsumerError> {
        loop {
            let Some(driver) = &mut self.driver else {
                return Ok(());
            };
            let Some(event) = driver.try_recv() else {
                return Ok(());
            };
            self.handle_group_event(event).await?;
        }
    }

    pub(super) async fn handle_group_event(
        &mut self,
        event: GroupEvent,
    ) -> Result<(), ConsumerError> {
        match event {
            GroupEvent::Revoke { partitions, done } => {
                let hook = self.run_hook(HookKind::Revoked, &partitions).await;
                // KIP-848 committed before the reconciliation reached the hook.
                if !self.commits_before_revoke() {
                    let commit = self.commit_on_revoke(&partitions).await;
                    if let Err(error) = commit {
                        self.note_commit_on_revoke_failed(partitions.clone(), error);
                    }
                }
                self.drop_partitions(&partitions);
                let _ = done.send(());
                hook
            }
            GroupEvent::Lost { partitions, done } => {
                let hook = self.run_hook(HookKind::Lost, &partitions).await;
                self.drop_partitions(&partitions);
                let _ = done.send(());
                hook
            }
            GroupEvent::Assigned {
                assignment,
                added,
                done,
            } => {
                {
                    let mut st = self.shared.lock();
                    let (_, removed) = st.subs.assign(assignment.iter().cloned());
                    for tp in &removed {
                        st.fetcher.buffer.discard(tp);
                    }
                }
                tracing::info!(?added, "partitions assigned");
                let hook = self.run_hook(HookKind::Assigned, &added).await;
                // Acknowledged whatever the hook's outcome: its error is `poll`'s to report.
                let _ = done.send(());
                self.shared.fetch_wanted.notify_waiters();
                hook
            }
            GroupEvent::Subscribed(topics) => {
                self.subscribed = topics;
                Ok(())
            }
            GroupEvent::PollExpired => Err(ConsumerError::MaxPollIntervalExceeded {
                max_poll_interval: self.config.max_poll_interval,
            }),
            GroupEvent::Error(e) => Err(e),
            GroupEvent::Fatal(e) => Err(e),
        }
    }

    pub(super) fn drop_partitions(&mut self, partitions: &[TopicPartition]) {
        let mut st = self.shared.lock();
        st.subs.remove(partitions);
        for tp in partitions {
            st.fetcher.buffer.discard(tp);
            st.leaders.remove(tp);
        }
    }

    async fn run_hook(
        &mut self,
        kind: HookKind,
        partitions: &[TopicPartition],
    ) -> Result<(), ConsumerError> {
        let Some(mut listener) = self.listener.take() else {
            return Ok(());
        };
        let result = {
            let mut ctx = ConsumerContext { consumer: self };
            match kind {
                HookKind::Revoked => listener.revoked(&mut ctx, partitions).await,
                HookKind::Assigned => listener.assigned(&mut ctx, partitions).await,
                HookKind::Lost => listener.lost(&mut ctx, partitions).await,
            }
        };
        self.listener = Some(listener);
        result.map_err(ConsumerError::Listener)
    }
}

#[derive(Debug, Clone, Copy)]
enum HookKind {
    Revoked,
    Assigned,
    Lost,
}

/// The consumer as rebalance hooks see it ([`ConsumerContext`]).
#[async_trait::async_trait]
impl HookTarget for Consumer {
    fn seek(&mut self, tp: &TopicPartition, offset: i64) -> Result<(), ConsumerError> {
        Consumer::seek(self, tp, offset)
    }
    fn seek_to_beginning(&mut self, partitions: &[TopicPartition]) -> Result<(), ConsumerError> {
        Consumer::seek_to_beginning(self, partitions)
    }
    fn seek_to_end(&mut self, partitions: &[TopicPartition]) -> Result<(), ConsumerError> {
        Consumer::seek_to_end(self, partitions)
    }
    async fn position(&mut self, tp: &TopicPartition) -> Result<i64, ConsumerError> {
        Consumer::position(self, tp).await
    }
    async fn committed(
        &mut self,
        partitions: &[TopicPartition],
    ) -> Result<HashMap<TopicPartition, i64>, ConsumerError> {
        Consumer::committed(self, partitions).await
    }
    async fn commit_sync(&mut self) -> Result<(), ConsumerError> {
        Consumer::commit_sync(self).await
    }
    async fn commit_offsets_sync(
        &mut self,
        offsets: &[(TopicPartition, i64)],
    ) -> Result<(), ConsumerError> {
        Consumer::commit_offsets_sync(self, offsets).await
    }
    fn pause(&mut self, partitions: &[TopicPartition]) -> Result<(), ConsumerError> {
        Consumer::pause(self, partitions)
    }
    fn resume(&mut self, partitions: &[TopicPartition]) -> Result<(), ConsumerError> {
        Consumer::resume(self, partitions)
    }
    fn assignment(&self) -> Vec<TopicPartition> {
        Consumer::assignment(self)
    }
    fn offset_store(&self) -> Arc<dyn OffsetStore> {
        Consumer::offset_store(self)
    }
    fn group_id(&self) -> Option<&str> {
        Consumer::group_id(self)
    }
}
