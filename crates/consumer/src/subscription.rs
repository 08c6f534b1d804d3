//! The consumer's positions: what is assigned, where each partition stands, what is paused.
//!
//! Sans-IO: nothing here sends a request. Two offsets are kept per partition, as in Java's
//! `SubscriptionState` plus rafka's prefetching:
//! - `position`: the next offset `poll` will return (what commits and `position()` report);
//! - `fetch_offset`: the next offset to request from the broker, ahead of `position` while
//!   prefetched records wait in the buffer.
//!
//! Every seek bumps the partition's `seek_epoch`; buffered and in-flight fetches carry the
//! epoch they were made under and are dropped when it no longer matches, so a seek is never
//! undone by data fetched before it.

use std::collections::BTreeMap;

use rafka_wire::TopicPartition;
use regex::Regex;

use crate::config::{AutoOffsetReset, IsolationLevel};
use crate::error::ConsumerError;

/// What `subscribe` follows: a topic list or a regex over topic names.
#[derive(Debug, Clone)]
pub enum TopicSelector {
    /// These topics.
    Topics(Vec<String>),
    /// Every topic whose whole name matches (re-checked at each metadata refresh).
    Pattern(Regex),
}

impl From<&str> for TopicSelector {
    fn from(topic: &str) -> Self {
        TopicSelector::Topics(vec![topic.to_string()])
    }
}

impl From<String> for TopicSelector {
    fn from(topic: String) -> Self {
        TopicSelector::Topics(vec![topic])
    }
}

impl From<&String> for TopicSelector {
    fn from(topic: &String) -> Self {
        TopicSelector::Topics(vec![topic.clone()])
    }
}

impl<T: AsRef<str>> From<Vec<T>> for TopicSelector {
    fn from(topics: Vec<T>) -> Self {
        TopicSelector::from(topics.as_slice())
    }
}

impl<T: AsRef<str>> From<&Vec<T>> for TopicSelector {
    fn from(topics: &Vec<T>) -> Self {
        TopicSelector::from(topics.as_slice())
    }
}

impl<T: AsRef<str>> From<&[T]> for TopicSelector {
    fn from(topics: &[T]) -> Self {
        TopicSelector::Topics(topics.iter().map(|t| t.as_ref().to_string()).collect())
    }
}

impl<T: AsRef<str>, const N: usize> From<[T; N]> for TopicSelector {
    fn from(topics: [T; N]) -> Self {
        TopicSelector::from(topics.as_slice())
    }
}

impl<T: AsRef<str>, const N: usize> From<&[T; N]> for TopicSelector {
    fn from(topics: &[T; N]) -> Self {
        TopicSelector::from(topics.as_slice())
    }
}

impl From<Regex> for TopicSelector {
    fn from(r: Regex) -> Self {
        TopicSelector::Pattern(r)
    }
}

/// Where a partition without a usable position should start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetTarget {
    /// The log start offset (ListOffsets timestamp -2).
    Earliest,
    /// The high watermark (ListOffsets timestamp -1).
    Latest,
    /// The first offset whose timestamp is at or after this one, in ms (KIP-79); the high
    /// watermark when there is none.
    Timestamp(i64),
}

impl ResetTarget {
    /// The ListOffsets `timestamp` field for this target.
    pub fn list_offsets_timestamp(self) -> i64 {
        match self {
            ResetTarget::Earliest => -2,
            ResetTarget::Latest => -1,
            ResetTarget::Timestamp(ts) => ts,
        }
    }

    /// The target `auto.offset.reset` asks for, `None` for `none`.
    pub fn from_policy(policy: AutoOffsetReset) -> Option<ResetTarget> {
        match policy {
            AutoOffsetReset::Earliest => Some(ResetTarget::Earliest),
            AutoOffsetReset::Latest => Some(ResetTarget::Latest),
            AutoOffsetReset::None => None,
        }
    }
}

/// What a partition is waiting for before it can be fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionInit {
    /// Has a position: fetchable unless paused.
    Ready,
    /// Newly assigned: needs its committed position (OffsetFetch or the offset store).
    AwaitingCommitted,
    /// Needs a ListOffsets lookup for this target.
    AwaitingReset(ResetTarget),
    /// No position and `auto.offset.reset=none`: `poll` reports it.
    NoPosition,
    /// The broker reported this fetch offset out of range and `auto.offset.reset=none`:
    /// `poll` reports it until the application seeks.
    OutOfRange(i64),
}

/// State of one assigned partition.
#[derive(Debug, Clone)]
pub struct PartitionState {
    /// Next offset `poll` returns; meaningful when `init == Ready`.
    pub position: i64,
    /// Next offset to fetch (`>= position`).
    pub fetch_offset: i64,
    /// Bumped by each seek and reset; fetches made under an older epoch are dropped.
    pub seek_epoch: u64,
    /// What the partition waits for.
    pub init: PartitionInit,
    /// Paused by the application: not fetched, buffered records are not returned.
    pub paused: bool,
    /// High watermark from the last Fetch response, if any.
    pub high_watermark: Option<i64>,
    /// Last stable offset from the last Fetch response (KIP-98), if any.
    pub last_stable_offset: Option<i64>,
    /// Log start offset from the last Fetch response, if any.
    pub log_start_offset: Option<i64>,
    /// Leader epoch of the last record returned (KIP-320), for commits.
    pub leader_epoch: Option<i32>,
    /// Offset stored by `mark_offset` (or by `poll` with `enable.auto.offset.store`) and not yet
    /// committed: the next auto-commit's value.
    pub stored_offset: Option<i64>,
    /// Last offset known committed, to skip commits that change nothing.
    pub committed: Option<i64>,
}

impl PartitionState {
    fn new() -> Self {
        PartitionState {
            position: 0,
            fetch_offset: 0,
            seek_epoch: 0,
            init: PartitionInit::AwaitingCommitted,
            paused: false,
            high_watermark: None,
            last_stable_offset: None,
            log_start_offset: None,
            leader_epoch: None,
            stored_offset: None,
            committed: None,
        }
    }

    fn seek(&mut self, offset: i64) {
        self.position = offset;
        self.fetch_offset = offset;
        self.seek_epoch += 1;
        self.init = PartitionInit::Ready;
    }
}

/// How the assignment was obtained.
#[derive(Debug, Clone, Default)]
pub enum Subscription {
    /// Nothing subscribed or assigned.
    #[default]
    None,
    /// `subscribe` to a topic list (group-managed).
    Topics(Vec<String>),
    /// `subscribe` to a regex (group-managed; the topic list follows metadata).
    Pattern(regex::Regex),
    /// `assign`: manual assignment, no group membership.
    Manual,
}

impl Subscription {
    /// True for group-managed subscriptions.
    pub fn is_group(&self) -> bool {
        matches!(self, Subscription::Topics(_) | Subscription::Pattern(_))
    }
}

/// All positions of one consumer.
#[derive(Debug, Default)]
pub struct SubscriptionState {
    /// How the assignment came.
    pub subscription: Subscription,
    partitions: BTreeMap<TopicPartition, PartitionState>,
}

impl SubscriptionState {
    /// An empty state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces the assignment. Partitions kept keep their state; new ones wait for their
    /// committed position. Returns `(added, removed)`.
    pub fn assign(
        &mut self,
        partitions: impl IntoIterator<Item = TopicPartition>,
    ) -> (Vec<TopicPartition>, Vec<TopicPartition>) {
        let mut next = BTreeMap::new();
        let mut added = Vec::new();
        for tp in partitions {
            if next.contains_key(&tp) {
                continue;
            }
            let state = match self.partitions.remove(&tp) {
                Some(s) => s,
                None => {
                    added.push(tp.clone());
                    PartitionState::new()
                }
            };
            next.insert(tp, state);
        }
        let removed = std::mem::replace(&mut self.partitions, next)
            .into_keys()
            .collect();
        (added, removed)
    }

    /// Adds partitions (incremental cooperative assignment, KIP-429). Returns those new.
    pub fn add(&mut self, partitions: &[TopicPartition]) -> Vec<TopicPartition> {
        let mut added = Vec::new();
        for tp in partitions {
            if !self.partitions.contains_key(tp) {
                self.partitions.insert(tp.clone(), PartitionState::new());
                added.push(tp.clone());
            }
        }
        added
    }

    /// Removes partitions (revocation). Returns those that were assigned.
    pub fn remove(&mut self, partitions: &[TopicPartition]) -> Vec<TopicPartition> {
        partitions
            .iter()
            .filter(|tp| self.partitions.remove(*tp).is_some())
            .cloned()
            .collect()
    }

    /// Drops the whole assignment.
    pub fn clear(&mut self) -> Vec<TopicPartition> {
        std::mem::take(&mut self.partitions).into_keys().collect()
    }

    /// The assigned partitions, sorted.
    pub fn assignment(&self) -> Vec<TopicPartition> {
        self.partitions.keys().cloned().collect()
    }

    /// True when the partition is assigned.
    pub fn is_assigned(&self, tp: &TopicPartition) -> bool {
        self.partitions.contains_key(tp)
    }

    /// Checks that every one of `partitions` is assigned, so that calls acting on partitions
    /// (pause, reset, position) refuse the whole call before changing any of them.
    ///
    /// # Errors
    /// [`ConsumerError::NotAssigned`] naming the first partition that is not assigned.
    pub fn require_assigned(&self, partitions: &[TopicPartition]) -> Result<(), ConsumerError> {
        match partitions.iter().find(|tp| !self.is_assigned(tp)) {
            Some(tp) => Err(ConsumerError::NotAssigned {
                partition: tp.clone(),
            }),
            None => Ok(()),
        }
    }

    /// The state of one partition.
    pub fn get(&self, tp: &TopicPartition) -> Option<&PartitionState> {
        self.partitions.get(tp)
    }

    /// The state of one partition, mutable.
    pub fn get_mut(&mut self, tp: &TopicPartition) -> Option<&mut PartitionState> {
        self.partitions.get_mut(tp)
    }

    /// Every assigned partition with its state.
    pub fn iter(&self) -> impl Iterator<Item = (&TopicPartition, &PartitionState)> {
        self.partitions.iter()
    }

    /// Every assigned partition with its state, mutable.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&TopicPartition, &mut PartitionState)> {
        self.partitions.iter_mut()
    }

    /// Sets the next offset to return; buffered and in-flight data become stale.
    /// Returns false when the partition is not assigned.
    pub fn seek(&mut self, tp: &TopicPartition, offset: i64) -> bool {
        match self.partitions.get_mut(tp) {
            Some(p) => {
                p.seek(offset);
                true
            }
            None => false,
        }
    }

    /// Asks for a ListOffsets lookup before the partition is fetched again.
    pub fn request_reset(&mut self, tp: &TopicPartition, target: ResetTarget) -> bool {
        match self.partitions.get_mut(tp) {
            Some(p) => {
                p.init = PartitionInit::AwaitingReset(target);
                p.seek_epoch += 1;
                true
            }
            None => false,
        }
    }

    /// Applies the committed position found for a partition that awaited it, or the
    /// `auto.offset.reset` policy when none was found. Ignored unless the partition is
    /// still `AwaitingCommitted` (a seek made meanwhile wins).
    pub fn apply_committed(
        &mut self,
        tp: &TopicPartition,
        committed: Option<i64>,
        policy: AutoOffsetReset,
    ) {
        let Some(p) = self.partitions.get_mut(tp) else {
            return;
        };
        if p.init != PartitionInit::AwaitingCommitted {
            return;
        }
        match (committed, ResetTarget::from_policy(policy)) {
            (Some(offset), _) if offset >= 0 => {
                p.seek(offset);
                p.committed = Some(offset);
            }
            (_, Some(target)) => p.init = PartitionInit::AwaitingReset(target),
            (_, None) => p.init = PartitionInit::NoPosition,
        }
    }

    /// Applies a ListOffsets answer for a partition that awaited `target`. Ignored when the
    /// partition was seeked or reset to another target meanwhile.
    pub fn apply_reset(&mut self, tp: &TopicPartition, target: ResetTarget, offset: i64) {
        if let Some(p) = self.partitions.get_mut(tp) {
            if p.init == PartitionInit::AwaitingReset(target) {
                p.seek(offset);
            }
        }
    }

    /// Partitions waiting for their committed position.
    pub fn awaiting_committed(&self) -> Vec<TopicPartition> {
        self.filter_init(|i| i == PartitionInit::AwaitingCommitted)
    }

    /// Partitions waiting for a ListOffsets lookup, with their target.
    pub fn awaiting_reset(&self) -> Vec<(TopicPartition, ResetTarget)> {
        self.partitions
            .iter()
            .filter_map(|(tp, p)| match p.init {
                PartitionInit::AwaitingReset(t) => Some((tp.clone(), t)),
                _ => None,
            })
            .collect()
    }

    /// Partitions with no position under `auto.offset.reset=none`.
    pub fn without_position(&self) -> Vec<TopicPartition> {
        self.filter_init(|i| i == PartitionInit::NoPosition)
    }

    /// Partitions stopped on an out-of-range offset under `auto.offset.reset=none`.
    pub fn out_of_range(&self) -> Vec<(TopicPartition, i64)> {
        self.partitions
            .iter()
            .filter_map(|(tp, p)| match p.init {
                PartitionInit::OutOfRange(o) => Some((tp.clone(), o)),
                _ => None,
            })
            .collect()
    }

    /// Marks a partition stopped on an out-of-range offset (policy `none`).
    pub fn set_out_of_range(&mut self, tp: &TopicPartition, offset: i64) {
        if let Some(p) = self.partitions.get_mut(tp) {
            p.init = PartitionInit::OutOfRange(offset);
            p.seek_epoch += 1;
        }
    }

    fn filter_init(&self, f: impl Fn(PartitionInit) -> bool) -> Vec<TopicPartition> {
        self.partitions
            .iter()
            .filter(|(_, p)| f(p.init))
            .map(|(tp, _)| tp.clone())
            .collect()
    }

    /// True when the partition can be fetched: assigned, positioned and not paused.
    pub fn is_fetchable(&self, tp: &TopicPartition) -> bool {
        self.partitions
            .get(tp)
            .is_some_and(|p| p.init == PartitionInit::Ready && !p.paused)
    }

    /// The fetchable partitions with their fetch offset and seek epoch.
    pub fn fetchable(&self) -> Vec<(TopicPartition, i64, u64)> {
        self.partitions
            .iter()
            .filter(|(_, p)| p.init == PartitionInit::Ready && !p.paused)
            .map(|(tp, p)| (tp.clone(), p.fetch_offset, p.seek_epoch))
            .collect()
    }

    /// The next offset `poll` returns, when the partition has one.
    pub fn position(&self, tp: &TopicPartition) -> Option<i64> {
        self.partitions
            .get(tp)
            .filter(|p| p.init == PartitionInit::Ready)
            .map(|p| p.position)
    }

    /// Pauses or resumes a partition. Returns false when it is not assigned.
    pub fn set_paused(&mut self, tp: &TopicPartition, paused: bool) -> bool {
        match self.partitions.get_mut(tp) {
            Some(p) => {
                p.paused = paused;
                true
            }
            None => false,
        }
    }

    /// Paused partitions.
    pub fn paused(&self) -> Vec<TopicPartition> {
        self.partitions
            .iter()
            .filter(|(_, p)| p.paused)
            .map(|(tp, _)| tp.clone())
            .collect()
    }

    /// Records lag, when known: what the consumer could still read. Under read_uncommitted that
    /// is high watermark − position; under read_committed it is last stable offset − position,
    /// since nothing past the last stable offset is readable yet (Java's
    /// `SubscriptionState.partitionLag`).
    pub fn lag(&self, tp: &TopicPartition, isolation: IsolationLevel) -> Option<i64> {
        let p = self.partitions.get(tp)?;
        if p.init != PartitionInit::Ready {
            return None;
        }
        let end = match isolation {
            IsolationLevel::ReadUncommitted => p.high_watermark?,
            IsolationLevel::ReadCommitted => p.last_stable_offset?,
        };
        Some((end - p.position).max(0))
    }

    /// Positions of every positioned partition: what a commit of "everything consumed" sends.
    pub fn positions(&self) -> Vec<(TopicPartition, i64)> {
        self.partitions
            .iter()
            .filter(|(_, p)| p.init == PartitionInit::Ready)
            .map(|(tp, p)| (tp.clone(), p.position))
            .collect()
    }

    /// Offsets stored for the next commit (by `mark_offset` or auto-store) that differ from
    /// what is known committed.
    pub fn uncommitted_stored(&self) -> Vec<(TopicPartition, i64)> {
        self.partitions
            .iter()
            .filter_map(|(tp, p)| {
                let o = p.stored_offset?;
                (p.committed != Some(o)).then(|| (tp.clone(), o))
            })
            .collect()
    }

    /// Records that these offsets are committed.
    pub fn mark_committed(&mut self, offsets: &[(TopicPartition, i64)]) {
        for (tp, o) in offsets {
            if let Some(p) = self.partitions.get_mut(tp) {
                p.committed = Some(*o);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(p: i32) -> TopicPartition {
        TopicPartition::new("t", p)
    }

    #[test]
    fn require_assigned_names_the_first_partition_not_assigned() {
        let mut s = SubscriptionState::new();
        s.assign([tp(0), tp(1)]);
        assert!(s.require_assigned(&[tp(0), tp(1)]).is_ok());
        match s.require_assigned(&[tp(1), tp(2), tp(3)]) {
            Err(ConsumerError::NotAssigned { partition }) => assert_eq!(partition, tp(2)),
            other => panic!("expected NotAssigned, got {other:?}"),
        }
    }

    #[test]
    fn assign_keeps_state_of_kept_partitions() {
        let mut s = SubscriptionState::new();
        let (added, removed) = s.assign([tp(0), tp(1)]);
        assert_eq!(added, [tp(0), tp(1)]);
        assert!(removed.is_empty());
        assert!(s.seek(&tp(1), 42));
        let (added, removed) = s.assign([tp(1), tp(2)]);
        assert_eq!(added, [tp(2)]);
        assert_eq!(removed, [tp(0)]);
        assert_eq!(s.position(&tp(1)), Some(42));
        assert_eq!(s.position(&tp(2)), None);
        assert!(!s.seek(&tp(0), 1), "seek of an unassigned partition");
    }

    #[test]
    fn committed_or_reset_policy() {
        let mut s = SubscriptionState::new();
        s.assign([tp(0), tp(1), tp(2)]);
        s.apply_committed(&tp(0), Some(10), AutoOffsetReset::Earliest);
        s.apply_committed(&tp(1), None, AutoOffsetReset::Earliest);
        s.apply_committed(&tp(2), None, AutoOffsetReset::None);
        assert_eq!(s.position(&tp(0)), Some(10));
        assert_eq!(s.awaiting_reset(), [(tp(1), ResetTarget::Earliest)]);
        assert_eq!(s.without_position(), [tp(2)]);
        s.apply_reset(&tp(1), ResetTarget::Latest, 99);
        assert_eq!(
            s.position(&tp(1)),
            None,
            "answer for another target is ignored"
        );
        s.apply_reset(&tp(1), ResetTarget::Earliest, 3);
        assert_eq!(s.position(&tp(1)), Some(3));
        assert_eq!(s.fetchable().len(), 2);
    }

    #[test]
    fn seek_during_lookup_wins() {
        let mut s = SubscriptionState::new();
        s.assign([tp(0)]);
        s.seek(&tp(0), 5);
        s.apply_committed(&tp(0), Some(100), AutoOffsetReset::Latest);
        assert_eq!(s.position(&tp(0)), Some(5));
    }

    #[test]
    fn seek_bumps_epoch_and_pause_stops_fetching() {
        let mut s = SubscriptionState::new();
        s.assign([tp(0)]);
        s.seek(&tp(0), 0);
        let e0 = s.get(&tp(0)).unwrap().seek_epoch;
        s.seek(&tp(0), 7);
        let p = s.get(&tp(0)).unwrap();
        assert_eq!((p.position, p.fetch_offset), (7, 7));
        assert!(p.seek_epoch > e0);
        s.set_paused(&tp(0), true);
        assert!(s.fetchable().is_empty());
        assert_eq!(s.paused(), [tp(0)]);
        s.set_paused(&tp(0), false);
        assert_eq!(s.fetchable(), [(tp(0), 7, p_epoch(&s))]);
    }

    fn p_epoch(s: &SubscriptionState) -> u64 {
        s.get(&tp(0)).unwrap().seek_epoch
    }

    #[test]
    fn lag_and_stored_offsets() {
        let mut s = SubscriptionState::new();
        s.assign([tp(0)]);
        s.seek(&tp(0), 10);
        assert_eq!(s.lag(&tp(0), IsolationLevel::ReadUncommitted), None);
        s.get_mut(&tp(0)).unwrap().high_watermark = Some(25);
        assert_eq!(s.lag(&tp(0), IsolationLevel::ReadUncommitted), Some(15));
        // read_committed measures from the last stable offset: an open transaction at 18 holds
        // everything from there back.
        assert_eq!(s.lag(&tp(0), IsolationLevel::ReadCommitted), None);
        s.get_mut(&tp(0)).unwrap().last_stable_offset = Some(18);
        assert_eq!(s.lag(&tp(0), IsolationLevel::ReadCommitted), Some(8));
        assert_eq!(s.lag(&tp(0), IsolationLevel::ReadUncommitted), Some(15));
        s.get_mut(&tp(0)).unwrap().stored_offset = Some(12);
        assert_eq!(s.uncommitted_stored(), [(tp(0), 12)]);
        s.mark_committed(&[(tp(0), 12)]);
        assert!(s.uncommitted_stored().is_empty());
    }
}
