//! Rebalance hooks: [`ConsumerRebalanceListener`] and the [`ConsumerContext`] they receive.
//!
//! # Contract
//! - **Task.** Hooks run on the application's task, inside `poll` (or `close`/`unsubscribe`),
//!   before that call returns. They are never called concurrently with each other or with
//!   any other consumer method.
//! - **Order.** For one rebalance: `on_partitions_revoked` (or `on_partitions_lost`) first,
//!   then `on_partitions_assigned`. With the eager protocols (range, roundrobin, sticky) every
//!   owned partition is revoked before the member rejoins, and the whole new assignment is
//!   then "assigned". With cooperative-sticky (KIP-429) only the partitions that move are
//!   revoked, after the new assignment arrives, and only newly added ones are "assigned";
//!   `on_partitions_assigned` is still called (possibly with an empty list) after every
//!   rebalance.
//! - **Revoked.** Runs while the partitions are still owned: positions are valid and a commit
//!   still carries a generation the coordinator accepts. This is where to save positions to an
//!   external store or commit. After the hook (and the consumer's own commit/save, see
//!   [`crate::OffsetStore`]), the partitions are dropped and their buffered records discarded.
//! - **Lost.** Runs instead of revoked when the member was already expelled (session timeout,
//!   `max.poll.interval.ms` exceeded, fencing): the partitions may already belong to another
//!   member, so commits will be refused. The default implementation calls
//!   `on_partitions_revoked`, as Java does.
//! - **Assigned.** Runs after the assignment is known and before the first fetch of the new
//!   partitions. A `seek` here wins over the committed position, the offset store and
//!   `auto.offset.reset`; partitions left alone start from the committed position (or the
//!   store's, or the reset policy).
//! - **Allowed inside:** the [`ConsumerContext`] methods: `seek*`, `position`, `committed`,
//!   `commit_sync`, `commit_offsets_sync`, `pause`/`resume`, `assignment`, `offset_store`. Not
//!   `poll` (the context does not offer it). A hook that returns an error makes the `poll` that
//!   ran it return [`crate::ConsumerError::Listener`]; the rebalance itself still completes.

use std::collections::HashMap;
use std::sync::Arc;

use rafka_wire::TopicPartition;

use crate::error::{ConsumerError, ListenerError};
use crate::store::OffsetStore;

/// Hooks called when the group moves partitions; see the module docs for the contract.
#[async_trait::async_trait]
pub trait ConsumerRebalanceListener: Send + 'static {
    /// These partitions are about to be taken away (still owned).
    async fn on_partitions_revoked(
        &mut self,
        consumer: &mut ConsumerContext<'_>,
        partitions: &[TopicPartition],
    ) -> Result<(), ListenerError> {
        let _ = (consumer, partitions);
        Ok(())
    }

    /// These partitions were assigned; seek here to choose where they start.
    async fn on_partitions_assigned(
        &mut self,
        consumer: &mut ConsumerContext<'_>,
        partitions: &[TopicPartition],
    ) -> Result<(), ListenerError> {
        let _ = (consumer, partitions);
        Ok(())
    }

    /// These partitions were lost (the member was expelled); defaults to
    /// [`ConsumerRebalanceListener::on_partitions_revoked`].
    async fn on_partitions_lost(
        &mut self,
        consumer: &mut ConsumerContext<'_>,
        partitions: &[TopicPartition],
    ) -> Result<(), ListenerError> {
        self.on_partitions_revoked(consumer, partitions).await
    }
}

/// A listener that does nothing: for `subscribe` without hooks.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoopRebalanceListener;

impl ConsumerRebalanceListener for NoopRebalanceListener {}

/// The consumer operations a hook may use, implemented by [`crate::Consumer`]. A trait so
/// that this module does not depend on the consumer's (no import circle).
#[async_trait::async_trait]
pub(crate) trait HookTarget: Send {
    fn seek(&mut self, tp: &TopicPartition, offset: i64) -> Result<(), ConsumerError>;
    fn seek_to_beginning(&mut self, partitions: &[TopicPartition]) -> Result<(), ConsumerError>;
    fn seek_to_end(&mut self, partitions: &[TopicPartition]) -> Result<(), ConsumerError>;
    async fn position(&mut self, tp: &TopicPartition) -> Result<i64, ConsumerError>;
    async fn committed(
        &mut self,
        partitions: &[TopicPartition],
    ) -> Result<HashMap<TopicPartition, i64>, ConsumerError>;
    async fn commit_sync(&mut self) -> Result<(), ConsumerError>;
    async fn commit_offsets_sync(
        &mut self,
        offsets: &[(TopicPartition, i64)],
    ) -> Result<(), ConsumerError>;
    fn pause(&mut self, partitions: &[TopicPartition]) -> Result<(), ConsumerError>;
    fn resume(&mut self, partitions: &[TopicPartition]) -> Result<(), ConsumerError>;
    fn assignment(&self) -> Vec<TopicPartition>;
    fn offset_store(&self) -> Arc<dyn OffsetStore>;
    fn group_id(&self) -> Option<&str>;
}

/// What a rebalance hook may do with the consumer (see the module docs).
pub struct ConsumerContext<'a> {
    pub(crate) consumer: &'a mut dyn HookTarget,
}

impl std::fmt::Debug for ConsumerContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsumerContext").finish_non_exhaustive()
    }
}

impl ConsumerContext<'_> {
    /// See [`crate::Consumer::seek`].
    ///
    /// # Errors
    /// As [`crate::Consumer::seek`].
    pub fn seek(&mut self, tp: &TopicPartition, offset: i64) -> Result<(), ConsumerError> {
        self.consumer.seek(tp, offset)
    }

    /// See [`crate::Consumer::seek_to_beginning`].
    ///
    /// # Errors
    /// As [`crate::Consumer::seek_to_beginning`].
    pub fn seek_to_beginning(
        &mut self,
        partitions: &[TopicPartition],
    ) -> Result<(), ConsumerError> {
        self.consumer.seek_to_beginning(partitions)
    }

    /// See [`crate::Consumer::seek_to_end`].
    ///
    /// # Errors
    /// As [`crate::Consumer::seek_to_end`].
    pub fn seek_to_end(&mut self, partitions: &[TopicPartition]) -> Result<(), ConsumerError> {
        self.consumer.seek_to_end(partitions)
    }

    /// See [`crate::Consumer::position`].
    ///
    /// # Errors
    /// As [`crate::Consumer::position`].
    pub async fn position(&mut self, tp: &TopicPartition) -> Result<i64, ConsumerError> {
        self.consumer.position(tp).await
    }

    /// See [`crate::Consumer::committed`].
    ///
    /// # Errors
    /// As [`crate::Consumer::committed`].
    pub async fn committed(
        &mut self,
        partitions: &[TopicPartition],
    ) -> Result<HashMap<TopicPartition, i64>, ConsumerError> {
        self.consumer.committed(partitions).await
    }

    /// See [`crate::Consumer::commit_sync`].
    ///
    /// # Errors
    /// As [`crate::Consumer::commit_sync`].
    pub async fn commit_sync(&mut self) -> Result<(), ConsumerError> {
        self.consumer.commit_sync().await
    }

    /// See [`crate::Consumer::commit_offsets_sync`].
    ///
    /// # Errors
    /// As [`crate::Consumer::commit_offsets_sync`].
    pub async fn commit_offsets_sync(
        &mut self,
        offsets: &[(TopicPartition, i64)],
    ) -> Result<(), ConsumerError> {
        self.consumer.commit_offsets_sync(offsets).await
    }

    /// See [`crate::Consumer::pause`].
    ///
    /// # Errors
    /// As [`crate::Consumer::pause`].
    pub fn pause(&mut self, partitions: &[TopicPartition]) -> Result<(), ConsumerError> {
        self.consumer.pause(partitions)
    }

    /// See [`crate::Consumer::resume`].
    ///
    /// # Errors
    /// As [`crate::Consumer::resume`].
    pub fn resume(&mut self, partitions: &[TopicPartition]) -> Result<(), ConsumerError> {
        self.consumer.resume(partitions)
    }

    /// The partitions currently assigned (during a revoke hook: still including the revoked
    /// ones).
    pub fn assignment(&self) -> Vec<TopicPartition> {
        self.consumer.assignment()
    }

    /// The configured offset store.
    pub fn offset_store(&self) -> Arc<dyn OffsetStore> {
        self.consumer.offset_store()
    }

    /// `group.id`, if set.
    pub fn group_id(&self) -> Option<&str> {
        self.consumer.group_id()
    }
}
