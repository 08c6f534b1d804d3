//! Choosing a record's partition.
//!
//! - [`murmur2()`]: Java's hash, so keyed records land where a Java producer puts them.
//! - [`DefaultPartitioner`]: keyed → `toPositive(murmur2(key)) % n`; unkeyed → the uniform
//!   sticky partitioner of KIP-794 (Java's `BuiltInPartitioner`).
//! - [`RoundRobinPartitioner`]: Java's `RoundRobinPartitioner`.
//! - [`Partitioner`]: the trait for user partitioners (Java `partitioner.class`).

mod default;
pub mod murmur2;
mod round_robin;

pub use default::DefaultPartitioner;
pub use murmur2::{murmur2, partition_for_key, to_positive};
pub use round_robin::RoundRobinPartitioner;

/// What a partitioner may know of a topic: how many partitions it has and which of them
/// have a leader right now (Java's `cluster.partitionsForTopic` and
/// `availablePartitionsForTopic`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionInfo {
    /// Number of partitions of the topic (> 0).
    pub num_partitions: i32,
    /// Partitions with a known leader, ascending.
    pub available: Vec<i32>,
}

impl PartitionInfo {
    /// A topic whose partitions all have a leader.
    pub fn all_available(num_partitions: i32) -> Self {
        PartitionInfo {
            num_partitions,
            available: (0..num_partitions).collect(),
        }
    }
}

/// Picks the partition of records that do not name one (Java `Partitioner`).
///
/// Contract: `partition` runs on the caller's task inside `send`, after interceptors and
/// before the record is appended; it must be fast and must return a value in
/// `0..info.num_partitions` (other values fail the record with `InvalidPartition`).
/// `on_append` runs right after the record is appended (still inside `send`), telling a
/// sticky partitioner how many bytes went where and whether the partition's last batch is
/// now full — the moment Java's built-in partitioner may switch partitions (KIP-794).
///
/// ```
/// use rafka_producer::partitioner::partition_for_key;
/// use rafka_producer::{PartitionInfo, Partitioner};
///
/// /// Keys starting with `vip-` go to partition 0; other keys hash over the rest, as Java's
/// /// murmur2 does; records without a key go to the last partition.
/// struct VipFirst;
///
/// impl Partitioner for VipFirst {
///     fn partition(&self, _topic: &str, key: Option<&[u8]>, _value: Option<&[u8]>, info: &PartitionInfo) -> i32 {
///         match key {
///             Some(k) if k.starts_with(b"vip-") => 0,
///             Some(k) => 1 + partition_for_key(k, info.num_partitions - 1),
///             None => info.num_partitions - 1,
///         }
///     }
/// }
///
/// let info = PartitionInfo::all_available(6);
/// assert_eq!(VipFirst.partition("orders", Some(b"vip-7"), None, &info), 0);
/// assert!((1..6).contains(&VipFirst.partition("orders", Some(b"k-7"), None, &info)));
/// // Given to the producer with `Producer::builder(config).partitioner(Arc::new(VipFirst))`.
/// ```
pub trait Partitioner: Send + Sync {
    /// The partition for this record.
    fn partition(
        &self,
        topic: &str,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        info: &PartitionInfo,
    ) -> i32;

    /// Called after a record of `appended_bytes` went to `partition`; `batch_full` is true
    /// when the partition's newest batch is full (or none is open). Default: nothing.
    fn on_append(
        &self,
        _topic: &str,
        _partition: i32,
        _appended_bytes: usize,
        _batch_full: bool,
        _info: &PartitionInfo,
    ) {
    }

    /// Called when a new batch was opened for `prev_partition` (Java `onNewBatch`, KIP-480).
    /// Default: nothing.
    fn on_new_batch(&self, _topic: &str, _info: &PartitionInfo, _prev_partition: i32) {}
}
