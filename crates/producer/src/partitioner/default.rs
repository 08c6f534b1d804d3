//! Java's default partitioning: murmur2 for keys, the uniform sticky partitioner (KIP-794)
//! for null keys.

use std::sync::Mutex;

use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

use crate::fast_hash::FnvMap;

use super::{partition_for_key, to_positive, PartitionInfo, Partitioner};

/// Keyed records: `toPositive(murmur2(key)) % num_partitions`. Records without a key (or all
/// records when `ignore_keys`, Java `partitioner.ignore.keys`) stick to one partition until
/// `batch_size` bytes have gone to it, then switch to a partition chosen uniformly among those
/// with a leader (Java's `BuiltInPartitioner`, KIP-794).
///
/// Java's adaptive weighting by broker queue sizes
/// (`partitioner.adaptive.partitioning.enable`) is not done: the choice is uniform.
pub struct DefaultPartitioner {
    batch_size: usize,
    ignore_keys: bool,
    state: Mutex<StickyState>,
}

struct StickyState {
    rng: StdRng,
    topics: FnvMap<String, Sticky>,
}

#[derive(Debug, Clone, Copy)]
struct Sticky {
    partition: i32,
    produced_bytes: usize,
}

impl DefaultPartitioner {
    /// A partitioner that switches sticky partitions every `batch_size` bytes.
    pub fn new(batch_size: usize, ignore_keys: bool) -> Self {
        Self::with_rng(batch_size, ignore_keys, StdRng::from_entropy())
    }

    /// As [`DefaultPartitioner::new`] with a fixed seed, for reproducible tests.
    pub fn with_seed(batch_size: usize, ignore_keys: bool, seed: u64) -> Self {
        Self::with_rng(batch_size, ignore_keys, StdRng::seed_from_u64(seed))
    }

    fn with_rng(batch_size: usize, ignore_keys: bool, rng: StdRng) -> Self {
        DefaultPartitioner {
            batch_size: batch_size.max(1),
            ignore_keys,
            state: Mutex::new(StickyState {
                rng,
                topics: FnvMap::default(),
            }),
        }
    }

    /// The current sticky partition of `topic`, if one was chosen.
    pub fn sticky_partition(&self, topic: &str) -> Option<i32> {
        let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.topics.get(topic).map(|s| s.partition)
    }
}

/// Java's `BuiltInPartitioner.nextPartition` without load statistics: uniform among the
/// available partitions, or among all when none is available.
fn next_partition(rng: &mut StdRng, info: &PartitionInfo) -> i32 {
    let random = to_positive(rng.next_u32() as i32);
    if !info.available.is_empty() {
        info.available[random as usize % info.available.len()]
    } else {
        random % info.num_partitions.max(1)
    }
}

impl Partitioner for DefaultPartitioner {
    fn partition(
        &self,
        topic: &str,
        key: Option<&[u8]>,
        _value: Option<&[u8]>,
        info: &PartitionInfo,
    ) -> i32 {
        if let (Some(key), false) = (key, self.ignore_keys) {
            return partition_for_key(key, info.num_partitions.max(1));
        }
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = st.topics.get(topic) {
            // A partition count that shrank (topic re-created) invalidates the choice.
            if s.partition < info.num_partitions {
                return s.partition;
            }
        }
        let partition = next_partition(&mut st.rng, info);
        st.topics.insert(
            topic.to_string(),
            Sticky {
                partition,
                produced_bytes: 0,
            },
        );
        partition
    }

    /// Java's `updatePartitionInfo`: switch once `batch_size` bytes went to the sticky
    /// partition and its batch is full, or unconditionally after twice that.
    fn on_append(
        &self,
        topic: &str,
        partition: i32,
        appended_bytes: usize,
        batch_full: bool,
        info: &PartitionInfo,
    ) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let batch_size = self.batch_size;
        let StickyState { rng, topics } = &mut *st;
        let Some(s) = topics.get_mut(topic) else {
            return;
        };
        // Keyed or explicitly partitioned records do not count towards the sticky one.
        if s.partition != partition {
            return;
        }
        s.produced_bytes += appended_bytes;
        if (s.produced_bytes >= batch_size && batch_full) || s.produced_bytes >= 2 * batch_size {
            *s = Sticky {
                partition: next_partition(rng, info),
                produced_bytes: 0,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_records_use_murmur2() {
        let p = DefaultPartitioner::with_seed(100, false, 1);
        let info = PartitionInfo::all_available(4);
        // toPositive(murmur2("foobar")) = 1357151166; % 4 = 2
        assert_eq!(p.partition("t", Some(b"foobar"), None, &info), 2);
        // toPositive(-973932308) = 1173551340; % 7 = 1173551340 mod 7
        let info7 = PartitionInfo::all_available(7);
        assert_eq!(
            p.partition("t", Some(b"21"), None, &info7),
            1_173_551_340 % 7
        );
    }

    #[test]
    fn ignore_keys_makes_keyed_records_sticky() {
        let p = DefaultPartitioner::with_seed(100, true, 1);
        let info = PartitionInfo::all_available(16);
        let first = p.partition("t", Some(b"a"), None, &info);
        for k in [&b"b"[..], b"c", b"d", b"e"] {
            assert_eq!(p.partition("t", Some(k), None, &info), first);
        }
    }

    #[test]
    fn sticky_switches_after_batch_size_when_batch_full() {
        let p = DefaultPartitioner::with_seed(100, false, 7);
        let info = PartitionInfo::all_available(1000);
        let first = p.partition("t", None, None, &info);
        // 99 bytes: no switch even though the batch is "full".
        p.on_append("t", first, 99, true, &info);
        assert_eq!(p.partition("t", None, None, &info), first);
        // 100 bytes but the batch still has room: Java waits for the batch boundary.
        p.on_append("t", first, 1, false, &info);
        assert_eq!(p.partition("t", None, None, &info), first);
        // batch full now: switch.
        p.on_append("t", first, 1, true, &info);
        let second = p.partition("t", None, None, &info);
        // With 1000 partitions a repeat is possible but not for this seed.
        assert_ne!(second, first);
        // Twice batch.size switches even without a full batch.
        p.on_append("t", second, 200, false, &info);
        assert_ne!(p.partition("t", None, None, &info), second);
    }

    #[test]
    fn sticky_picks_only_available_partitions() {
        let p = DefaultPartitioner::with_seed(1, false, 3);
        let info = PartitionInfo {
            num_partitions: 10,
            available: vec![3, 7],
        };
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let part = p.partition("t", None, None, &info);
            seen.insert(part);
            p.on_append("t", part, 10, true, &info);
        }
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), vec![3, 7]);
    }

    #[test]
    fn sticky_spreads_uniformly() {
        let p = DefaultPartitioner::with_seed(1, false, 11);
        let info = PartitionInfo::all_available(4);
        let mut counts = [0u32; 4];
        for _ in 0..4000 {
            let part = p.partition("t", None, None, &info);
            counts[part as usize] += 1;
            p.on_append("t", part, 1, true, &info);
        }
        for c in counts {
            assert!((800..1200).contains(&c), "{counts:?}");
        }
    }
}
