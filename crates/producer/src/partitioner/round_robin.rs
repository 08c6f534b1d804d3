//! Java's `RoundRobinPartitioner`: each record to the next partition of its topic.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{to_positive, PartitionInfo, Partitioner};

/// One counter per topic, starting at 0; record `n` goes to `available[n % available.len()]`,
/// or to `n % num_partitions` when no partition has a leader. Keys are ignored, as in Java.
#[derive(Default)]
pub struct RoundRobinPartitioner {
    counters: Mutex<HashMap<String, i32>>,
}

impl RoundRobinPartitioner {
    /// A partitioner with every topic's counter at 0.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Partitioner for RoundRobinPartitioner {
    fn partition(
        &self,
        topic: &str,
        _key: Option<&[u8]>,
        _value: Option<&[u8]>,
        info: &PartitionInfo,
    ) -> i32 {
        let next = {
            let mut c = self.counters.lock().unwrap_or_else(|e| e.into_inner());
            let slot = match c.get_mut(topic) {
                Some(s) => s,
                None => c.entry(topic.to_string()).or_insert(0),
            };
            let v = *slot;
            // Java's AtomicInteger wraps on overflow; toPositive keeps the result usable.
            *slot = slot.wrapping_add(1);
            v
        };
        if !info.available.is_empty() {
            info.available[to_positive(next) as usize % info.available.len()]
        } else {
            to_positive(next) % info.num_partitions.max(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_per_topic_over_available_partitions() {
        let p = RoundRobinPartitioner::new();
        let info = PartitionInfo::all_available(3);
        let a: Vec<i32> = (0..7)
            .map(|_| p.partition("a", Some(b"k"), None, &info))
            .collect();
        assert_eq!(a, vec![0, 1, 2, 0, 1, 2, 0]);
        assert_eq!(p.partition("b", None, None, &info), 0);
        let partial = PartitionInfo {
            num_partitions: 5,
            available: vec![1, 4],
        };
        let c: Vec<i32> = (0..4)
            .map(|_| p.partition("c", None, None, &partial))
            .collect();
        assert_eq!(c, vec![1, 4, 1, 4]);
    }
}
