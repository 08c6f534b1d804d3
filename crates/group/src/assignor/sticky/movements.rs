//! Bookkeeping of partition moves during one general sticky assignment (Java
//! `AbstractStickyAssignor.PartitionMovements`): when a partition must leave member A for
//! member B, a partition of the same topic that earlier moved from B to A is moved back
//! instead, so moves do not form A→B→A cycles within a topic.

use std::collections::{BTreeMap, BTreeSet};

use rafka_wire::TopicPartition;

use crate::assignor::MemberId;

type Pair = (MemberId, MemberId); // (source, destination)

#[derive(Debug, Default)]
pub(super) struct PartitionMovements {
    by_topic: BTreeMap<String, BTreeMap<Pair, BTreeSet<TopicPartition>>>,
    moves: BTreeMap<TopicPartition, Pair>,
}

impl PartitionMovements {
    fn remove_record(&mut self, tp: &TopicPartition) -> Option<Pair> {
        let pair = self.moves.remove(tp)?;
        if let Some(topic) = self.by_topic.get_mut(&tp.topic) {
            if let Some(set) = topic.get_mut(&pair) {
                set.remove(tp);
                if set.is_empty() {
                    topic.remove(&pair);
                }
            }
            if topic.is_empty() {
                self.by_topic.remove(&tp.topic);
            }
        }
        Some(pair)
    }

    fn add_record(&mut self, tp: &TopicPartition, pair: Pair) {
        self.moves.insert(tp.clone(), pair.clone());
        self.by_topic
            .entry(tp.topic.clone())
            .or_default()
            .entry(pair)
            .or_default()
            .insert(tp.clone());
    }

    pub(super) fn move_partition(&mut self, tp: &TopicPartition, old: &str, new: &str) {
        match self.remove_record(tp) {
            Some((src, _dst)) => {
                // A partition going back to where it started is no movement at all.
                if src != new {
                    self.add_record(tp, (src, new.to_owned()));
                }
            }
            None => self.add_record(tp, (old.to_owned(), new.to_owned())),
        }
    }

    pub(super) fn partition_to_move(
        &self,
        tp: &TopicPartition,
        old: &str,
        new: &str,
    ) -> TopicPartition {
        let Some(topic) = self.by_topic.get(&tp.topic) else {
            return tp.clone();
        };
        let old = match self.moves.get(tp) {
            Some((src, _)) => src.as_str(),
            None => old,
        };
        match topic.get(&(new.to_owned(), old.to_owned())) {
            Some(set) => set.first().cloned().unwrap_or_else(|| tp.clone()),
            None => tp.clone(),
        }
    }
}
