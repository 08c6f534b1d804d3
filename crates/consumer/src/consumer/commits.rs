//! Commits from the [`Consumer`] handle: marking processed offsets, synchronous and
//! asynchronous commits (to Kafka through the driver, or to the external offset store).

use std::collections::BTreeMap;

use rafka_wire::TopicPartition;

use super::Consumer;
use crate::commit::OffsetToCommit;
use crate::driver::Driver;
use crate::error::ConsumerError;
use crate::record::ConsumerRecord;
use crate::store::GroupOffsets;

impl Consumer {
    /// Stores `next_offset` (the next offset to consume, i.e. last processed + 1) for the next
    /// commit — auto-commit, `commit_stored_sync`, revoke or close. sarama's `MarkOffset`,
    /// librdkafka's `offsets_store`; use with `enable.auto.offset.store=false`.
    ///
    /// # Errors
    /// [`ConsumerError::NotAssigned`].
    pub fn mark_offset(
        &mut self,
        tp: &TopicPartition,
        next_offset: i64,
    ) -> Result<(), ConsumerError> {
        let mut st = self.shared.lock();
        match st.subs.get_mut(tp) {
            Some(p) => {
                p.stored_offset = Some(next_offset);
                Ok(())
            }
            None => Err(ConsumerError::NotAssigned {
                partition: tp.clone(),
            }),
        }
    }

    /// [`Consumer::mark_offset`] for a processed record (`record.offset + 1`).
    ///
    /// # Errors
    /// [`ConsumerError::NotAssigned`].
    pub fn mark_record(&mut self, record: &ConsumerRecord) -> Result<(), ConsumerError> {
        self.mark_offset(&record.topic_partition(), record.next_offset())
    }

    /// The positions after processing `records` (each partition's last record's offset + 1),
    /// with this consumer's `group.id`: what to save in the transaction that writes the
    /// batch's results, e.g. `txn.save_positions(&consumer.positions_after(&batch)?)` with a
    /// SQL store. Only partitions with records in the batch are included. In Java, the
    /// `Map<TopicPartition, OffsetAndMetadata>` built by hand from the batch.
    ///
    /// # Errors
    /// [`ConsumerError::NoGroupId`] without `group.id`.
    pub fn positions_after(
        &self,
        records: &[ConsumerRecord],
    ) -> Result<GroupOffsets, ConsumerError> {
        let group_id = self
            .config
            .group_id
            .clone()
            .ok_or(ConsumerError::NoGroupId {
                operation: "positions_after",
            })?;
        let mut next: BTreeMap<TopicPartition, i64> = BTreeMap::new();
        for r in records {
            let slot = next.entry(r.topic_partition()).or_insert(r.next_offset());
            *slot = (*slot).max(r.next_offset());
        }
        Ok(GroupOffsets {
            group_id,
            offsets: next.into_iter().collect(),
        })
    }

    /// Commits the position of every assigned partition (everything `poll` returned), and
    /// waits for the answer. With an external offset store, saves to the store instead.
    ///
    /// # Errors
    /// [`ConsumerError::CommitFailed`] when the group rebalanced (this member's generation is
    /// stale); [`ConsumerError::NoGroupId`]; coordinator and store errors.
    pub async fn commit_sync(&mut self) -> Result<(), ConsumerError> {
        let offsets = self.shared.lock().subs.positions();
        self.commit_offsets_sync(&offsets).await
    }

    /// Commits the offsets stored by `mark_offset` (or by `poll` under
    /// `enable.auto.offset.store`) that are not committed yet.
    ///
    /// # Errors
    /// As [`Consumer::commit_sync`].
    pub async fn commit_stored_sync(&mut self) -> Result<(), ConsumerError> {
        let offsets = self.shared.lock().subs.uncommitted_stored();
        self.commit_offsets_sync(&offsets).await
    }

    /// Commits explicit offsets (each the next offset to consume).
    ///
    /// # Errors
    /// As [`Consumer::commit_sync`].
    pub async fn commit_offsets_sync(
        &mut self,
        offsets: &[(TopicPartition, i64)],
    ) -> Result<(), ConsumerError> {
        if offsets.is_empty() {
            return Ok(());
        }
        let offsets = self.with_epochs(offsets);
        self.driver().commit(offsets, false).await
    }

    /// Commits the position of every assigned partition without waiting; `callback` gets the
    /// result on the consumer's background task. Commits complete in the order they were
    /// made (sync and async alike), as in Java.
    pub fn commit_async(
        &mut self,
        callback: impl FnOnce(Result<(), ConsumerError>) + Send + 'static,
    ) {
        let offsets = self.shared.lock().subs.positions();
        let offsets = self.with_epochs(&offsets);
        self.driver().commit_async(offsets, Box::new(callback));
    }

    /// The driver task, started on first use.
    pub(super) fn driver(&mut self) -> &Driver {
        self.driver.get_or_insert_with(|| {
            Driver::start(
                self.client.clone(),
                self.config.clone(),
                self.shared.clone(),
            )
        })
    }

    pub(super) fn with_epochs(&self, offsets: &[(TopicPartition, i64)]) -> Vec<OffsetToCommit> {
        self.shared.lock().with_epochs(offsets)
    }
}
