//! The record accumulator, sans-IO: records wait here in per-partition batches until a batch
//! is full (`batch.size`), old enough (`linger.ms`), flushed, or retried after backoff.
//!
//! The tokio layer calls `RecordAccumulator::append` from `send`,
//! [`RecordAccumulator::ready`] to learn which brokers have sendable batches and when to look
//! again, `RecordAccumulator::drain` to take one ProduceRequest's worth of batches for one
//! broker (at most one batch per partition, as produce v3+ requires), and then reports each
//! batch's fate with `RecordAccumulator::complete` or `RecordAccumulator::reenqueue`.
//! Time is always passed in, so tests run on simulated time.

mod batch;

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use batch::{record_upper_bound, BatchIdentity, BATCH_HEADER_SIZE};
pub(crate) use batch::{PendingRecord, ProducerBatch};

use crate::delivery::BatchCompletion;
use crate::fast_hash::FnvMap;
use crate::idempotence::SequenceManager;

/// The accumulator's share of the producer configuration.
#[derive(Debug, Clone)]
pub struct AccumulatorConfig {
    /// `batch.size`, bytes.
    pub batch_size: usize,
    /// `linger.ms`.
    pub linger: Duration,
    /// `delivery.timeout.ms`.
    pub delivery_timeout: Duration,
    /// `retry.backoff.ms`.
    pub retry_backoff: Duration,
    /// `retry.backoff.max.ms`.
    pub retry_backoff_max: Duration,
    /// Batches of one partition that may be in flight at once: 1 keeps order without
    /// idempotence (Java: `max.in.flight.requests.per.connection=1`); 5 with idempotence.
    pub max_in_flight_per_partition: usize,
    /// Whether batches take producer id and sequences (KIP-98).
    pub idempotent: bool,
}

/// Where the tokio layer says a partition's batches go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// The partition's leader node id.
    Leader(i32),
    /// No leader known: metadata must be refreshed.
    Unknown,
    /// Do not send yet (a transaction has not added the partition).
    Hold,
}

/// Outcome of an append.
pub(crate) struct AppendResult {
    pub completion: Arc<BatchCompletion>,
    pub index: u32,
    /// The record opened a new batch.
    pub new_batch: bool,
    /// The partition's newest batch is full after this append (the sticky partitioner's
    /// switch point, KIP-794).
    pub batch_full: bool,
    /// Bytes the record added.
    pub appended_bytes: usize,
}

/// Outcome of [`RecordAccumulator::ready`].
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ReadyCheck {
    /// Nodes with at least one sendable batch, ascending, without repeats.
    pub nodes: Vec<i32>,
    /// Topics with batches but without a known leader for some partition.
    pub unknown_leader_topics: Vec<Arc<str>>,
    /// When a batch next becomes sendable or expires, if any is waiting.
    pub next_deadline: Option<Instant>,
}

#[derive(Default)]
struct PartitionQueue {
    batches: VecDeque<ProducerBatch>,
    in_flight: usize,
}

/// Per-partition queues of batches.
pub struct RecordAccumulator {
    cfg: AccumulatorConfig,
    topics: FnvMap<Arc<str>, Vec<PartitionQueue>>,
    /// Sequence state when idempotent.
    pub(crate) sequences: Option<SequenceManager>,
    flushes: usize,
    closing: bool,
    next_batch_id: u64,
    incomplete: BTreeSet<u64>,
    drain_rotation: usize,
}

fn min_deadline(a: Option<Instant>, b: Instant) -> Option<Instant> {
    Some(a.map_or(b, |a| a.min(b)))
}

enum Sendable {
    Yes,
    At(Instant),
    Blocked,
}

impl RecordAccumulator {
    /// An empty accumulator.
    pub fn new(cfg: AccumulatorConfig) -> Self {
        let sequences = cfg.idempotent.then(SequenceManager::new);
        RecordAccumulator {
            cfg,
            topics: FnvMap::default(),
            sequences,
            flushes: 0,
            closing: false,
            next_batch_id: 0,
            incomplete: BTreeSet::new(),
            drain_rotation: 0,
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &AccumulatorConfig {
        &self.cfg
    }

    fn queue(&mut self, topic: &str, partition: i32) -> (Arc<str>, &mut PartitionQueue) {
        let name = match self.topics.get_key_value(topic) {
            Some((k, _)) => k.clone(),
            None => {
                let k: Arc<str> = Arc::from(topic);
                self.topics.insert(k.clone(), Vec::new());
                k
            }
        };
        let parts = self.topics.get_mut(topic).expect("inserted above");
        let p = partition as usize;
        if parts.len() <= p {
            parts.resize_with(p + 1, PartitionQueue::default);
        }
        (name, &mut parts[p])
    }

    /// Appends a record to the partition's open batch, opening a new one when the record
    /// does not fit in `batch.size` (a record larger than `batch.size` gets a batch of its
    /// own). `reserved` is the `buffer.memory` the caller took for it, released when the
    /// batch completes. `partition` must be >= 0.
    pub(crate) fn append(
        &mut self,
        topic: &str,
        partition: i32,
        record: PendingRecord,
        reserved: usize,
        now: impl FnOnce() -> Instant,
    ) -> AppendResult {
        let batch_size = self.cfg.batch_size;
        let mut next_id = self.next_batch_id;
        let (name, q) = self.queue(topic, partition);
        let mut new_batch = false;
        let fits = match q.batches.back() {
            // Only never-sent batches are open; a retried batch sits at the front.
            Some(b) if b.attempts == 0 && b.encoded.is_none() => {
                let sz = b.size_of(&record);
                (b.size + sz <= batch_size || b.records.is_empty()).then_some(sz)
            }
            _ => None,
        };
        let appended_bytes = match fits {
            Some(sz) => sz,
            None => {
                let mut b = ProducerBatch::new(name, partition, record.timestamp, now());
                // Size the record list for a full batch of records like this one, so the
                // hot path does not reallocate while the batch fills.
                let per = b.size_of(&record).max(1);
                b.records.reserve((batch_size / per).clamp(1, 4096));
                b.id = next_id;
                next_id += 1;
                new_batch = true;
                let sz = b.size_of(&record);
                q.batches.push_back(b);
                sz
            }
        };
        let b = q.batches.back_mut().expect("a batch is open");
        let index = b.push(record, appended_bytes, reserved);
        let result = AppendResult {
            completion: b.completion.clone(),
            index,
            new_batch,
            batch_full: b.is_full(batch_size),
            appended_bytes,
        };
        if new_batch {
            self.incomplete.insert(self.next_batch_id);
            self.next_batch_id = next_id;
        }
        result
    }

    fn sendable(&self, q: &PartitionQueue, b: &ProducerBatch, now: Instant) -> Sendable {
        if q.in_flight >= self.cfg.max_in_flight_per_partition {
            return Sendable::Blocked;
        }
        if let Some(seq) = &self.sequences {
            if seq.producer_id().is_none() || seq.bump_needed() {
                return Sendable::Blocked;
            }
            // A retried batch goes out only once everything before it has come back, so
            // that re-sent batches reach the broker in sequence order.
            if b.identity.is_some() && q.in_flight > 0 {
                return Sendable::Blocked;
            }
        }
        if let Some(at) = b.retry_at {
            return if at <= now {
                Sendable::Yes
            } else {
                Sendable::At(at)
            };
        }
        let due = b.created + self.cfg.linger;
        if q.batches.len() > 1
            || b.is_full(self.cfg.batch_size)
            || self.flushes > 0
            || self.closing
            || b.attempts > 0
            || due <= now
        {
            Sendable::Yes
        } else {
            Sendable::At(due)
        }
    }

    /// Which nodes have sendable batches, which topics lack a leader, and when to check
    /// again (earliest linger end, retry backoff end or delivery expiry).
    pub fn ready(&self, now: Instant, route: impl Fn(&str, i32) -> Route) -> ReadyCheck {
        let mut out = ReadyCheck::default();
        for (topic, parts) in &self.topics {
            for (p, q) in parts.iter().enumerate() {
                let Some(b) = q.batches.front() else {
                    continue;
                };
                out.next_deadline =
                    min_deadline(out.next_deadline, b.created + self.cfg.delivery_timeout);
                let node = match route(topic, p as i32) {
                    Route::Leader(n) => n,
                    Route::Unknown => {
                        if !out.unknown_leader_topics.contains(topic) {
                            out.unknown_leader_topics.push(topic.clone());
                        }
                        continue;
                    }
                    Route::Hold => continue,
                };
                match self.sendable(q, b, now) {
                    Sendable::Yes => {
                        if !out.nodes.contains(&node) {
                            out.nodes.push(node);
                        }
                    }
                    Sendable::At(t) => out.next_deadline = min_deadline(out.next_deadline, t),
                    Sendable::Blocked => {}
                }
            }
        }
        out.nodes.sort_unstable();
        out
    }

    /// Takes at most one sendable batch per partition led by `node`, until the batches'
    /// sizes reach `max_request_size` bytes (the first batch is always taken, so a single
    /// large batch still goes). Idempotent batches get producer id, epoch and base sequence
    /// here. The partitions visited first rotate between calls so none starves.
    pub(crate) fn drain(
        &mut self,
        node: i32,
        max_request_size: usize,
        now: Instant,
        route: impl Fn(&str, i32) -> Route,
    ) -> Vec<ProducerBatch> {
        let mut candidates: Vec<(Arc<str>, usize)> = Vec::new();
        for (topic, parts) in &self.topics {
            for (p, q) in parts.iter().enumerate() {
                if let Some(b) = q.batches.front() {
                    if route(topic, p as i32) == Route::Leader(node)
                        && matches!(self.sendable(q, b, now), Sendable::Yes)
                    {
                        candidates.push((topic.clone(), p));
                    }
                }
            }
        }
        if candidates.is_empty() {
            return Vec::new();
        }
        // HashMap order is arbitrary; sort so the rotation is meaningful.
        candidates.sort_unstable();
        let start = self.drain_rotation % candidates.len();
        self.drain_rotation = self.drain_rotation.wrapping_add(1);
        candidates.rotate_left(start);

        let mut out = Vec::new();
        let mut total = 0usize;
        for (topic, p) in candidates {
            let q = &mut self.topics.get_mut(&topic).expect("listed")[p];
            let size = q.batches.front().map_or(0, |b| b.size);
            if !out.is_empty() && total + size > max_request_size {
                break;
            }
            let mut b = q.batches.pop_front().expect("listed");
            q.in_flight += 1;
            total += size;
            if let Some(seq) = self.sequences.as_mut() {
                let id = seq.producer_id().expect("checked by sendable");
                if b.identity.is_none() {
                    let base = seq.assign(&b.topic, b.partition, b.record_count());
                    b.identity = Some(BatchIdentity {
                        producer_id: id.producer_id,
                        producer_epoch: id.epoch,
                        base_sequence: base,
                    });
                }
                let base = b.identity.map(|i| i.base_sequence).unwrap_or(0);
                seq.on_sent(&b.topic, b.partition, base);
            }
            b.attempts += 1;
            b.retry_at = None;
            out.push(b);
        }
        out
    }

    fn release_in_flight(&mut self, b: &ProducerBatch) {
        if let Some(parts) = self.topics.get_mut(&b.topic) {
            if let Some(q) = parts.get_mut(b.partition as usize) {
                q.in_flight = q.in_flight.saturating_sub(1);
            }
        }
    }

    /// A drained batch is finished (acknowledged or failed): frees its in-flight slot and
    /// marks it complete for `flush`. The caller completes its records and releases its
    /// `buffer.memory`.
    pub(crate) fn complete(&mut self, b: &ProducerBatch) {
        self.release_in_flight(b);
        self.incomplete.remove(&b.id);
    }

    /// A batch taken by `expire` or `abort_all` is finished.
    pub(crate) fn forget(&mut self, b: &ProducerBatch) {
        self.incomplete.remove(&b.id);
    }

    /// Puts a drained batch back at the front of its partition, in sequence order among
    /// other retries, to be re-sent after exponential backoff (`retry.backoff.ms` doubling up
    /// to `retry.backoff.max.ms`, KIP-580, without jitter so tests are deterministic).
    pub(crate) fn reenqueue(&mut self, b: ProducerBatch, now: Instant) {
        let exp = b.attempts.saturating_sub(1).min(20);
        let backoff = self
            .cfg
            .retry_backoff
            .saturating_mul(1u32 << exp)
            .min(self.cfg.retry_backoff_max.max(self.cfg.retry_backoff));
        self.reenqueue_at(b, now + backoff);
    }

    /// Puts a batch back to be sent again at once: its partition has a new leader (KIP-951),
    /// so waiting out the backoff would only delay it.
    pub(crate) fn reenqueue_now(&mut self, b: ProducerBatch, now: Instant) {
        self.reenqueue_at(b, now);
    }

    fn reenqueue_at(&mut self, mut b: ProducerBatch, at: Instant) {
        self.release_in_flight(&b);
        b.retry_at = Some(at);
        let (_, q) = self.queue(&b.topic.clone(), b.partition);
        let seq = b.identity.map(|i| i.base_sequence);
        let pos = q
            .batches
            .iter()
            .position(|o| {
                o.attempts == 0
                    || match (o.identity, seq) {
                        (Some(oi), Some(s)) => oi.base_sequence > s,
                        _ => false,
                    }
            })
            .unwrap_or(q.batches.len());
        q.batches.insert(pos, b);
    }

    /// Removes and returns queued (not in-flight) batches older than `delivery.timeout.ms`.
    /// The caller fails their records with a delivery timeout.
    pub(crate) fn expire(&mut self, now: Instant) -> Vec<ProducerBatch> {
        let timeout = self.cfg.delivery_timeout;
        let mut out = Vec::new();
        for parts in self.topics.values_mut() {
            for q in parts.iter_mut() {
                while q
                    .batches
                    .front()
                    .is_some_and(|b| b.created + timeout <= now)
                {
                    out.push(q.batches.pop_front().expect("checked"));
                }
            }
        }
        for b in &out {
            self.incomplete.remove(&b.id);
            if let (Some(seq), Some(id)) = (self.sequences.as_mut(), b.identity) {
                seq.on_abandoned(&b.topic, b.partition, id.base_sequence);
            }
        }
        out
    }

    /// Removes every queued batch (for `close` without delivery, a fatal error, or a
    /// transaction abort). In-flight batches are not touched.
    pub(crate) fn abort_all(&mut self) -> Vec<ProducerBatch> {
        let mut out = Vec::new();
        for parts in self.topics.values_mut() {
            for q in parts.iter_mut() {
                out.extend(q.batches.drain(..));
            }
        }
        for b in &out {
            self.incomplete.remove(&b.id);
        }
        out
    }

    /// After an epoch bump every queued batch takes a new sequence at its next drain
    /// (retries first, in their old order).
    pub(crate) fn reset_identities(&mut self) {
        for parts in self.topics.values_mut() {
            for q in parts.iter_mut() {
                for b in q.batches.iter_mut() {
                    b.identity = None;
                }
            }
        }
    }

    /// Makes every batch sendable now until [`RecordAccumulator::end_flush`]; returns the
    /// batch id below which every batch must complete for the flush to be done.
    pub fn begin_flush(&mut self) -> u64 {
        self.flushes += 1;
        self.next_batch_id
    }

    /// Ends one `begin_flush`.
    pub fn end_flush(&mut self) {
        self.flushes = self.flushes.saturating_sub(1);
    }

    /// Whether every batch created before `mark` (from `begin_flush`) is complete.
    pub fn flushed(&self, mark: u64) -> bool {
        !matches!(self.incomplete.first(), Some(id) if *id < mark)
    }

    /// From now on batches are sent without waiting for linger (closing).
    pub fn begin_close(&mut self) {
        self.closing = true;
    }

    /// Batches queued or in flight.
    pub fn incomplete_batches(&self) -> usize {
        self.incomplete.len()
    }

    /// Batches of any partition waiting to be drained.
    pub fn queued_batches(&self) -> usize {
        self.topics
            .values()
            .flat_map(|p| p.iter())
            .map(|q| q.batches.len())
            .sum()
    }

    /// Batches in flight across all partitions.
    pub fn in_flight_batches(&self) -> usize {
        self.topics
            .values()
            .flat_map(|p| p.iter())
            .map(|q| q.in_flight)
            .sum()
    }
}

#[cfg(test)]
mod tests;
