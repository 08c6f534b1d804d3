//! A set of topic-partitions looked up by `&str` without allocating.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Topic-partitions, grouped by topic.
#[derive(Debug, Default)]
pub(crate) struct PartitionSet {
    topics: HashMap<Arc<str>, HashSet<i32>>,
}

impl PartitionSet {
    pub fn contains(&self, topic: &str, partition: i32) -> bool {
        self.topics
            .get(topic)
            .is_some_and(|ps| ps.contains(&partition))
    }

    /// Adds the partition; true if it was not there.
    pub fn insert(&mut self, topic: &str, partition: i32) -> bool {
        match self.topics.get_mut(topic) {
            Some(ps) => ps.insert(partition),
            None => {
                self.topics
                    .insert(Arc::from(topic), HashSet::from([partition]));
                true
            }
        }
    }

    pub fn remove(&mut self, topic: &str, partition: i32) -> bool {
        let Some(ps) = self.topics.get_mut(topic) else {
            return false;
        };
        let removed = ps.remove(&partition);
        if ps.is_empty() {
            self.topics.remove(topic);
        }
        removed
    }

    pub fn is_empty(&self) -> bool {
        self.topics.is_empty()
    }

    /// Topics with their partitions, both sorted.
    pub fn sorted(&self) -> Vec<(&str, Vec<i32>)> {
        let mut out: Vec<(&str, Vec<i32>)> = self
            .topics
            .iter()
            .map(|(t, ps)| {
                let mut ps: Vec<i32> = ps.iter().copied().collect();
                ps.sort_unstable();
                (&**t, ps)
            })
            .collect();
        out.sort_unstable();
        out
    }
}
