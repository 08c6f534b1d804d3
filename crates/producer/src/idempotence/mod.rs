//! The idempotent producer's sequence bookkeeping (KIP-98, KIP-360), sans-IO.
//!
//! Every partition has a next sequence; a batch takes its base sequence when it is first
//! drained and keeps it across retries, so the broker can drop duplicates and refuse gaps.
//! The in-flight sequences of a partition are remembered in order: a retriable failure of
//! a batch also makes every later in-flight batch of that partition come back, and they are
//! re-sent in sequence order.
//!
//! When the sequence space of the broker and ours disagree in a way retrying cannot fix
//! (UNKNOWN_PRODUCER_ID; OUT_OF_ORDER_SEQUENCE_NUMBER on the batch the broker should accept
//! next, or on a batch older than one the broker already acknowledged; a batch failed after
//! taking a sequence), the producer bumps its epoch (KIP-360): it asks InitProducerId for
//! `epoch + 1` of the same producer id, and every partition restarts at sequence 0.
//!
//! The second OUT_OF_ORDER case is real: a leader accepts *any* first sequence from a
//! producer it has no state for (Kafka's `ProducerAppendInfo`, so that producers whose state
//! was removed by retention can go on). If the partition's first batch is refused (say
//! NOT_LEADER_OR_FOLLOWER from a broker that has not yet taken leadership) while the next
//! one is accepted, the broker's sequence is past the first batch for good, and resending it
//! with its old sequence can only fail until `delivery.timeout.ms`.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use rafka_wire::error_code::ErrorCode;

/// A producer id and epoch from InitProducerId.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProducerIdAndEpoch {
    /// The producer id.
    pub producer_id: i64,
    /// The epoch.
    pub epoch: i16,
}

/// What to do with a batch the broker answered with an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorAction {
    /// Re-enqueue in sequence order and send again (same sequence).
    Retry,
    /// Retry after the epoch is bumped; the batch will take a new sequence.
    RetryAfterEpochBump,
    /// Fail the batch's records with the broker's error; the epoch must be bumped before
    /// sending more to keep sequences contiguous.
    FailAndBumpEpoch,
    /// Fail the batch's records; nothing else to do.
    Fail,
    /// The producer is fenced (PRODUCER_FENCED, INVALID_PRODUCER_EPOCH): fail everything.
    Fatal,
}

#[derive(Debug, Default)]
struct PartitionSequences {
    next: i32,
    /// The sequence after the last acknowledged batch: the one the broker expects next.
    acked_next: i32,
    /// Base sequences of batches sent and not yet answered, ascending.
    in_flight: VecDeque<i32>,
}

/// Per-partition sequences of an idempotent producer.
#[derive(Debug, Default)]
pub struct SequenceManager {
    id: Option<ProducerIdAndEpoch>,
    partitions: HashMap<(Arc<str>, i32), PartitionSequences>,
    bump_needed: bool,
}

/// Java's `DefaultRecordBatch.incrementSequence`: sequences wrap from `i32::MAX` to 0.
pub fn increment_sequence(seq: i32, by: i32) -> i32 {
    if seq > i32::MAX - by {
        by - (i32::MAX - seq) - 1
    } else {
        seq + by
    }
}

/// Where a sequence lies relative to a reference point, in the 31-bit sequence space that
/// wraps from `i32::MAX` to 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SequenceOrder {
    Before,
    Same,
    After,
}

/// Where `seq` lies relative to `reference`: a distance under half the sequence space
/// forward is after, anything else before.
fn sequence_order(reference: i32, seq: i32) -> SequenceOrder {
    let forward = (i64::from(seq) - i64::from(reference)).rem_euclid(1i64 << 31);
    if forward == 0 {
        SequenceOrder::Same
    } else if forward < 1i64 << 30 {
        SequenceOrder::After
    } else {
        SequenceOrder::Before
    }
}

impl SequenceManager {
    /// A manager without a producer id yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The current producer id and epoch, once InitProducerId answered.
    pub fn producer_id(&self) -> Option<ProducerIdAndEpoch> {
        self.id
    }

    /// Whether the epoch must be bumped before more batches are sent.
    pub fn bump_needed(&self) -> bool {
        self.bump_needed
    }

    /// Installs a (new) producer id / epoch and restarts every partition at sequence 0.
    /// Callers must first have re-queued every in-flight batch (none may be in flight).
    pub fn set_producer_id(&mut self, id: ProducerIdAndEpoch) {
        self.id = Some(id);
        self.partitions.clear();
        self.bump_needed = false;
    }

    /// Asks for an epoch bump (KIP-360).
    pub fn request_bump(&mut self) {
        self.bump_needed = true;
    }

    /// Number of batches in flight for the partition.
    pub fn in_flight(&self, topic: &Arc<str>, partition: i32) -> usize {
        self.partitions
            .get(&(topic.clone(), partition))
            .map_or(0, |p| p.in_flight.len())
    }

    /// Takes the next `count` sequences of the partition; returns the base sequence.
    pub fn assign(&mut self, topic: &Arc<str>, partition: i32, count: i32) -> i32 {
        let p = self
            .partitions
            .entry((topic.clone(), partition))
            .or_default();
        let base = p.next;
        p.next = increment_sequence(p.next, count);
        base
    }

    /// Records that a batch with `base_sequence` was sent.
    pub fn on_sent(&mut self, topic: &Arc<str>, partition: i32, base_sequence: i32) {
        let p = self
            .partitions
            .entry((topic.clone(), partition))
            .or_default();
        // Retries are re-sent in order, so a plain push keeps the deque ascending except
        // across a wrap, which only reorders bookkeeping of 2^31 records apart.
        p.in_flight.push_back(base_sequence);
    }

    fn forget(&mut self, topic: &Arc<str>, partition: i32, base_sequence: i32) -> bool {
        let Some(p) = self.partitions.get_mut(&(topic.clone(), partition)) else {
            return false;
        };
        let first = p.in_flight.front() == Some(&base_sequence);
        if let Some(i) = p.in_flight.iter().position(|s| *s == base_sequence) {
            p.in_flight.remove(i);
        }
        first
    }

    /// Records a successful (or duplicate) acknowledgement of `count` records.
    pub fn on_acked(&mut self, topic: &Arc<str>, partition: i32, base_sequence: i32, count: i32) {
        self.forget(topic, partition, base_sequence);
        if let Some(p) = self.partitions.get_mut(&(topic.clone(), partition)) {
            let end = increment_sequence(base_sequence, count);
            // Answers of one partition can arrive out of order (a retry on another
            // connection): keep the furthest point the broker has confirmed.
            if sequence_order(p.acked_next, end) != SequenceOrder::Before {
                p.acked_next = end;
            }
        }
    }

    /// Classifies a broker error for a batch that was in flight with `base_sequence`, and
    /// removes it from the in-flight list. `retries_left` is false once `retries` or the
    /// delivery timeout ran out.
    pub fn on_error(
        &mut self,
        topic: &Arc<str>,
        partition: i32,
        base_sequence: i32,
        code: ErrorCode,
        retries_left: bool,
    ) -> ErrorAction {
        self.forget(topic, partition, base_sequence);
        // Java's rule: OUT_OF_ORDER_SEQUENCE_NUMBER is expected (and retriable) while an
        // earlier batch is unacknowledged; for the batch the broker should accept next it
        // means the broker's state and ours diverged. So it does for a batch older than an
        // acknowledged one (see the module docs): no retry can put it in.
        let order = self
            .partitions
            .get(&(topic.clone(), partition))
            .map_or(SequenceOrder::Same, |p| {
                sequence_order(p.acked_next, base_sequence)
            });
        match code {
            ErrorCode::PRODUCER_FENCED
            | ErrorCode::INVALID_PRODUCER_EPOCH
            | ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED
            | ErrorCode::CLUSTER_AUTHORIZATION_FAILED => ErrorAction::Fatal,
            // KIP-360: the broker lost our state (or we skipped a sequence): start a new
            // epoch and re-send with fresh sequences.
            ErrorCode::UNKNOWN_PRODUCER_ID => {
                self.bump_needed = true;
                if retries_left {
                    ErrorAction::RetryAfterEpochBump
                } else {
                    ErrorAction::FailAndBumpEpoch
                }
            }
            // A later batch sees this when an earlier one failed and is being retried; the
            // oldest in-flight batch seeing it means the broker's sequence and ours diverged.
            ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER => {
                if !retries_left {
                    self.bump_needed = true;
                    ErrorAction::FailAndBumpEpoch
                } else if order == SequenceOrder::After {
                    ErrorAction::Retry
                } else {
                    self.bump_needed = true;
                    ErrorAction::RetryAfterEpochBump
                }
            }
            c if c.is_retriable() && retries_left => ErrorAction::Retry,
            _ => {
                // The batch took sequences the broker will never see: later batches would
                // be refused as out of order unless the epoch restarts them at 0.
                self.bump_needed = true;
                ErrorAction::FailAndBumpEpoch
            }
        }
    }

    /// Records that a batch in flight will be retried for a reason other than a broker
    /// error (request timeout, connection loss): it leaves the in-flight list.
    pub fn on_resend(&mut self, topic: &Arc<str>, partition: i32, base_sequence: i32) {
        self.forget(topic, partition, base_sequence);
    }

    /// A batch that took a sequence expired or failed before the broker answered it.
    pub fn on_abandoned(&mut self, topic: &Arc<str>, partition: i32, base_sequence: i32) {
        self.forget(topic, partition, base_sequence);
        self.bump_needed = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> Arc<str> {
        "t".into()
    }

    #[test]
    fn sequences_advance_per_partition_and_wrap() {
        let mut m = SequenceManager::new();
        assert_eq!(m.assign(&t(), 0, 5), 0);
        assert_eq!(m.assign(&t(), 0, 3), 5);
        assert_eq!(m.assign(&t(), 1, 2), 0);
        assert_eq!(increment_sequence(i32::MAX - 1, 3), 1);
        assert_eq!(increment_sequence(i32::MAX, 1), 0);
        m.set_producer_id(ProducerIdAndEpoch {
            producer_id: 7,
            epoch: 1,
        });
        assert_eq!(m.assign(&t(), 0, 1), 0, "a new epoch restarts at 0");
    }

    #[test]
    fn out_of_order_on_a_later_batch_is_a_plain_retry() {
        let mut m = SequenceManager::new();
        for (s, n) in [(0, 10), (10, 10), (20, 10)] {
            assert_eq!(m.assign(&t(), 0, n), s);
            m.on_sent(&t(), 0, s);
        }
        assert_eq!(m.in_flight(&t(), 0), 3);
        assert_eq!(
            m.on_error(&t(), 0, 0, ErrorCode::NOT_LEADER_OR_FOLLOWER, true),
            ErrorAction::Retry
        );
        assert_eq!(
            m.on_error(&t(), 0, 10, ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER, true),
            ErrorAction::Retry
        );
        assert!(!m.bump_needed());
        m.on_acked(&t(), 0, 20, 10);
        assert_eq!(m.in_flight(&t(), 0), 0);
    }

    #[test]
    fn unknown_producer_id_and_first_out_of_order_bump_the_epoch() {
        let mut m = SequenceManager::new();
        m.on_sent(&t(), 0, 0);
        assert_eq!(
            m.on_error(&t(), 0, 0, ErrorCode::UNKNOWN_PRODUCER_ID, true),
            ErrorAction::RetryAfterEpochBump
        );
        assert!(m.bump_needed());
        m.set_producer_id(ProducerIdAndEpoch {
            producer_id: 1,
            epoch: 1,
        });
        m.on_sent(&t(), 0, 0);
        assert_eq!(
            m.on_error(&t(), 0, 0, ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER, true),
            ErrorAction::RetryAfterEpochBump
        );
    }

    #[test]
    fn out_of_order_on_a_batch_older_than_an_acknowledged_one_bumps_the_epoch() {
        // The first batch is refused, the second accepted as the broker's first write for
        // this producer: the first can never go in with sequence 0 again.
        let mut m = SequenceManager::new();
        for (s, n) in [(0, 17), (17, 20)] {
            assert_eq!(m.assign(&t(), 0, n), s);
            m.on_sent(&t(), 0, s);
        }
        assert_eq!(
            m.on_error(&t(), 0, 0, ErrorCode::NOT_LEADER_OR_FOLLOWER, true),
            ErrorAction::Retry
        );
        m.on_acked(&t(), 0, 17, 20);
        m.on_sent(&t(), 0, 0);
        assert_eq!(
            m.on_error(&t(), 0, 0, ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER, true),
            ErrorAction::RetryAfterEpochBump
        );
        assert!(m.bump_needed());
    }

    #[test]
    fn acknowledgements_out_of_order_keep_the_furthest_sequence() {
        let mut m = SequenceManager::new();
        for (s, n) in [(0, 10), (10, 10), (20, 10)] {
            m.assign(&t(), 0, n);
            m.on_sent(&t(), 0, s);
        }
        m.on_acked(&t(), 0, 10, 10);
        m.on_acked(&t(), 0, 0, 10);
        assert_eq!(
            m.on_error(&t(), 0, 20, ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER, true),
            ErrorAction::RetryAfterEpochBump,
            "20 is the next the broker expects"
        );
    }

    #[test]
    fn sequence_order_wraps() {
        assert_eq!(sequence_order(5, 5), SequenceOrder::Same);
        assert_eq!(sequence_order(5, 6), SequenceOrder::After);
        assert_eq!(sequence_order(5, 4), SequenceOrder::Before);
        assert_eq!(sequence_order(i32::MAX, 0), SequenceOrder::After);
        assert_eq!(sequence_order(0, i32::MAX), SequenceOrder::Before);
    }

    #[test]
    fn fencing_is_fatal_and_non_retriable_errors_bump() {
        let mut m = SequenceManager::new();
        m.on_sent(&t(), 0, 0);
        assert_eq!(
            m.on_error(&t(), 0, 0, ErrorCode::PRODUCER_FENCED, true),
            ErrorAction::Fatal
        );
        m.on_sent(&t(), 0, 5);
        assert_eq!(
            m.on_error(&t(), 0, 5, ErrorCode::MESSAGE_TOO_LARGE, true),
            ErrorAction::FailAndBumpEpoch
        );
        assert!(m.bump_needed());
    }
}
