//! Positions on the [`Consumer`] handle: `seek` and its variants, `position`, `committed`,
//! `pause` / `resume`, and the lag and high watermark seen in the last fetches.

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap};

use rafka_wire::TopicPartition;

use super::Consumer;
use crate::error::ConsumerError;
use crate::partition_list::to_vec;
use crate::subscription::ResetTarget;

impl Consumer {
    /// Sets the next offset `poll` returns for a partition. Records already fetched for it
    /// are discarded.
    ///
    /// # Errors
    /// [`ConsumerError::NotAssigned`].
    pub fn seek(&mut self, tp: &TopicPartition, offset: i64) -> Result<(), ConsumerError> {
        let mut st = self.shared.lock();
        if !st.subs.seek(tp, offset) {
            return Err(ConsumerError::NotAssigned {
                partition: tp.clone(),
            });
        }
        st.fetcher.buffer.discard(tp);
        drop(st);
        self.shared.fetch_wanted.notify_waiters();
        Ok(())
    }

    fn reset(
        &mut self,
        partitions: &[TopicPartition],
        target: ResetTarget,
    ) -> Result<(), ConsumerError> {
        let mut st = self.shared.lock();
        st.subs.require_assigned(partitions)?;
        for tp in partitions {
            st.subs.request_reset(tp, target);
            st.fetcher.buffer.discard(tp);
        }
        Ok(())
    }

    /// Moves the partitions to their log start offset (evaluated lazily, at the next `poll`
    /// or `position`).
    ///
    /// # Errors
    /// [`ConsumerError::NotAssigned`].
    pub fn seek_to_beginning(
        &mut self,
        partitions: impl IntoIterator<Item = impl Borrow<TopicPartition>>,
    ) -> Result<(), ConsumerError> {
        self.reset(&to_vec(partitions), ResetTarget::Earliest)
    }

    /// Moves the partitions to their end (high watermark; last stable offset under
    /// read_committed), evaluated lazily.
    ///
    /// # Errors
    /// [`ConsumerError::NotAssigned`].
    pub fn seek_to_end(
        &mut self,
        partitions: impl IntoIterator<Item = impl Borrow<TopicPartition>>,
    ) -> Result<(), ConsumerError> {
        self.reset(&to_vec(partitions), ResetTarget::Latest)
    }

    /// Moves the partitions to the first record with a timestamp at or after `timestamp_ms`
    /// (ListOffsets by timestamp, KIP-79), or to the end when there is none.
    ///
    /// # Errors
    /// [`ConsumerError::NotAssigned`].
    pub fn seek_to_timestamp(
        &mut self,
        partitions: impl IntoIterator<Item = impl Borrow<TopicPartition>>,
        timestamp_ms: i64,
    ) -> Result<(), ConsumerError> {
        self.reset(&to_vec(partitions), ResetTarget::Timestamp(timestamp_ms))
    }

    /// The next offset `poll` returns for a partition, looking it up (committed offset, store
    /// or reset policy) when not known yet.
    ///
    /// # Errors
    /// [`ConsumerError::NotAssigned`]; the lookup's errors;
    /// [`ConsumerError::NoOffsetForPartition`] under `auto.offset.reset=none`.
    pub async fn position(&mut self, tp: &TopicPartition) -> Result<i64, ConsumerError> {
        for _ in 0..3 {
            {
                let st = self.shared.lock();
                st.subs.require_assigned(std::slice::from_ref(tp))?;
                if let Some(p) = st.subs.position(tp) {
                    return Ok(p);
                }
            }
            self.positions.update_leaders().await?;
            self.positions.init_positions().await?;
        }
        self.shared
            .lock()
            .subs
            .position(tp)
            .ok_or_else(|| ConsumerError::NoOffsetForPartition {
                partitions: vec![tp.clone()],
            })
    }

    /// Committed positions of these partitions (in Kafka, or in the external offset store);
    /// partitions with nothing committed are absent.
    ///
    /// # Errors
    /// [`ConsumerError::NoGroupId`] for Kafka commits without `group.id`; OffsetFetch or store
    /// errors.
    pub async fn committed(
        &mut self,
        partitions: impl IntoIterator<Item = impl Borrow<TopicPartition>>,
    ) -> Result<HashMap<TopicPartition, i64>, ConsumerError> {
        self.positions
            .load_committed(&to_vec(partitions), true)
            .await
    }

    /// Stops fetching these partitions; `poll` returns none of their records until resumed.
    ///
    /// # Errors
    /// [`ConsumerError::NotAssigned`].
    pub fn pause(
        &mut self,
        partitions: impl IntoIterator<Item = impl Borrow<TopicPartition>>,
    ) -> Result<(), ConsumerError> {
        self.set_paused(&to_vec(partitions), true)
    }

    /// Resumes fetching these partitions.
    ///
    /// # Errors
    /// [`ConsumerError::NotAssigned`].
    pub fn resume(
        &mut self,
        partitions: impl IntoIterator<Item = impl Borrow<TopicPartition>>,
    ) -> Result<(), ConsumerError> {
        self.set_paused(&to_vec(partitions), false)
    }

    fn set_paused(
        &mut self,
        partitions: &[TopicPartition],
        paused: bool,
    ) -> Result<(), ConsumerError> {
        let mut st = self.shared.lock();
        st.subs.require_assigned(partitions)?;
        for tp in partitions {
            st.subs.set_paused(tp, paused);
        }
        drop(st);
        self.shared.fetch_wanted.notify_waiters();
        self.shared.records_ready.notify_one();
        Ok(())
    }

    /// The paused partitions.
    pub fn paused(&self) -> Vec<TopicPartition> {
        self.shared.lock().subs.paused()
    }

    /// Records between the position and the end of the last Fetch response: its high watermark
    /// under read_uncommitted, its last stable offset under read_committed (as Java's
    /// `currentLag`); `None` before the first response or without a position.
    pub fn lag(&self, tp: &TopicPartition) -> Option<i64> {
        self.shared.lock().subs.lag(tp, self.config.isolation_level)
    }

    /// Lag of every assigned partition that has one.
    pub fn lags(&self) -> BTreeMap<TopicPartition, i64> {
        let st = self.shared.lock();
        st.subs
            .assignment()
            .into_iter()
            .filter_map(|tp| {
                st.subs
                    .lag(&tp, self.config.isolation_level)
                    .map(|l| (tp, l))
            })
            .collect()
    }

    /// High watermark from the last Fetch response for the partition.
    pub fn high_watermark(&self, tp: &TopicPartition) -> Option<i64> {
        self.shared
            .lock()
            .subs
            .get(tp)
            .and_then(|p| p.high_watermark)
    }
}
