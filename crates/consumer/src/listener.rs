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

use std::borrow::Borrow;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;

use rafka_wire::TopicPartition;

use crate::error::{ConsumerError, ListenerError};
use crate::partition_list::to_vec;
use crate::store::OffsetStore;

/// Hooks called when the group moves partitions (Java's `ConsumerRebalanceListener`); see the
/// [module docs](crate::listener) for the contract: which task, in what order, what may be
/// called inside.
///
/// Implement the hooks you need with plain `async fn`s; the others do nothing (and
/// `on_partitions_lost` calls `on_partitions_revoked`, as in Java). Pass the listener to
/// [`Consumer::subscribe_with_listener`](crate::Consumer::subscribe_with_listener).
///
/// # Example
/// Commit what was processed before partitions leave, and log what arrives:
///
/// ```no_run
/// use rafka_consumer::{ConsumerContext, ConsumerRebalanceListener, ListenerError};
/// use rafka_wire::TopicPartition;
///
/// struct CommitOnRevoke;
///
/// impl ConsumerRebalanceListener for CommitOnRevoke {
///     async fn on_partitions_revoked(
///         &mut self,
///         consumer: &mut ConsumerContext<'_>,
///         partitions: &[TopicPartition],
///     ) -> Result<(), ListenerError> {
///         // Still owned here: the commit carries a generation the coordinator accepts.
///         consumer.commit_sync().await?;
///         Ok(())
///     }
///
///     async fn on_partitions_assigned(
///         &mut self,
///         _consumer: &mut ConsumerContext<'_>,
///         partitions: &[TopicPartition],
///     ) -> Result<(), ListenerError> {
///         println!("assigned {partitions:?}");
///         Ok(())
///     }
/// }
///
/// # async fn run() -> Result<(), rafka_consumer::ConsumerError> {
/// use rafka_consumer::{Consumer, ConsumerConfig};
/// let config = ConsumerConfig::builder("localhost:9092").group_id("billing").build()?;
/// let mut consumer = Consumer::new(config)?;
/// consumer.subscribe_with_listener("orders", CommitOnRevoke)?;
/// # Ok(()) }
/// ```
///
/// The returned futures must be `Send` (the consumer may be moved between threads while a
/// hook runs), which an `async fn` whose locals are `Send` satisfies.
pub trait ConsumerRebalanceListener: Send + 'static {
    /// These partitions are about to be taken away; they are still owned, so positions are
    /// valid and commits are accepted. Java's `onPartitionsRevoked`.
    ///
    /// # Errors
    /// An error is returned by the `poll` (or `close`) that ran the hook, as
    /// [`ConsumerError::Listener`]; the rebalance completes anyway.
    fn on_partitions_revoked(
        &mut self,
        consumer: &mut ConsumerContext<'_>,
        partitions: &[TopicPartition],
    ) -> impl Future<Output = Result<(), ListenerError>> + Send {
        let _ = (consumer, partitions);
        async { Ok(()) }
    }

    /// These partitions were assigned (only the newly added ones under cooperative-sticky);
    /// seek here to choose where they start. Java's `onPartitionsAssigned`.
    ///
    /// # Errors
    /// As [`ConsumerRebalanceListener::on_partitions_revoked`].
    fn on_partitions_assigned(
        &mut self,
        consumer: &mut ConsumerContext<'_>,
        partitions: &[TopicPartition],
    ) -> impl Future<Output = Result<(), ListenerError>> + Send {
        let _ = (consumer, partitions);
        async { Ok(()) }
    }

    /// These partitions were lost (the member was expelled, so commits will be refused);
    /// defaults to [`ConsumerRebalanceListener::on_partitions_revoked`]. Java's
    /// `onPartitionsLost`.
    ///
    /// # Errors
    /// As [`ConsumerRebalanceListener::on_partitions_revoked`].
    fn on_partitions_lost(
        &mut self,
        consumer: &mut ConsumerContext<'_>,
        partitions: &[TopicPartition],
    ) -> impl Future<Output = Result<(), ListenerError>> + Send {
        self.on_partitions_revoked(consumer, partitions)
    }
}

/// [`ConsumerRebalanceListener`] as an object: the consumer keeps its listener boxed, and a
/// trait with `impl Future` returns cannot be a `dyn` type, so every listener gets this
/// boxing adapter.
pub(crate) trait DynListener: Send {
    fn revoked<'a>(
        &'a mut self,
        consumer: &'a mut ConsumerContext<'_>,
        partitions: &'a [TopicPartition],
    ) -> BoxFuture<'a, Result<(), ListenerError>>;
    fn assigned<'a>(
        &'a mut self,
        consumer: &'a mut ConsumerContext<'_>,
        partitions: &'a [TopicPartition],
    ) -> BoxFuture<'a, Result<(), ListenerError>>;
    fn lost<'a>(
        &'a mut self,
        consumer: &'a mut ConsumerContext<'_>,
        partitions: &'a [TopicPartition],
    ) -> BoxFuture<'a, Result<(), ListenerError>>;
}

impl<L: ConsumerRebalanceListener> DynListener for L {
    fn revoked<'a>(
        &'a mut self,
        consumer: &'a mut ConsumerContext<'_>,
        partitions: &'a [TopicPartition],
    ) -> BoxFuture<'a, Result<(), ListenerError>> {
        Box::pin(self.on_partitions_revoked(consumer, partitions))
    }
    fn assigned<'a>(
        &'a mut self,
        consumer: &'a mut ConsumerContext<'_>,
        partitions: &'a [TopicPartition],
    ) -> BoxFuture<'a, Result<(), ListenerError>> {
        Box::pin(self.on_partitions_assigned(consumer, partitions))
    }
    fn lost<'a>(
        &'a mut self,
        consumer: &'a mut ConsumerContext<'_>,
        partitions: &'a [TopicPartition],
    ) -> BoxFuture<'a, Result<(), ListenerError>> {
        Box::pin(self.on_partitions_lost(consumer, partitions))
    }
}

/// A listener that does nothing: what [`crate::Consumer::subscribe`] uses.
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
        partitions: impl IntoIterator<Item = impl Borrow<TopicPartition>>,
    ) -> Result<(), ConsumerError> {
        self.consumer.seek_to_beginning(&to_vec(partitions))
    }

    /// See [`crate::Consumer::seek_to_end`].
    ///
    /// # Errors
    /// As [`crate::Consumer::seek_to_end`].
    pub fn seek_to_end(
        &mut self,
        partitions: impl IntoIterator<Item = impl Borrow<TopicPartition>>,
    ) -> Result<(), ConsumerError> {
        self.consumer.seek_to_end(&to_vec(partitions))
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
        partitions: impl IntoIterator<Item = impl Borrow<TopicPartition>>,
    ) -> Result<HashMap<TopicPartition, i64>, ConsumerError> {
        self.consumer.committed(&to_vec(partitions)).await
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
    pub fn pause(
        &mut self,
        partitions: impl IntoIterator<Item = impl Borrow<TopicPartition>>,
    ) -> Result<(), ConsumerError> {
        self.consumer.pause(&to_vec(partitions))
    }

    /// See [`crate::Consumer::resume`].
    ///
    /// # Errors
    /// As [`crate::Consumer::resume`].
    pub fn resume(
        &mut self,
        partitions: impl IntoIterator<Item = impl Borrow<TopicPartition>>,
    ) -> Result<(), ConsumerError> {
        self.consumer.resume(&to_vec(partitions))
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
