//! The producer's sans-IO core: every decision, no I/O, no tokio, no clock.
//!
//! [`ProducerCore`] owns the record accumulator, the idempotent producer's id and sequences
//! (KIP-98, KIP-360), the transaction machine ([`txn`]) and the producer's [`Lifecycle`]. It
//! is driven like quinn-proto's `Connection`:
//!
//! - inputs: [`ProducerCore::append`] (from `send`), the transactional calls,
//!   [`ProducerCore::handle_produce`] and [`ProducerCore::handle_response`] (a broker's
//!   answer or the client's failure), each with the current time;
//! - outputs: [`ProducerCore::poll`] computes what is due at `now`, then
//!   [`ProducerCore::poll_action`] hands out requests to send and metadata to refresh,
//!   [`ProducerCore::poll_event`] finished batches, [`ProducerCore::poll_txn_done`] the
//!   outcome of a transactional call, and [`ProducerCore::poll_timeout`] the next deadline
//!   (linger end, retry backoff, delivery expiry, a coordinator retry).
//!
//! The driver (`crate::driver`) performs the actions on tokio and feeds the answers back;
//! the tests in `tests.rs` drive it against a scripted broker on simulated time instead.

mod io;
mod lifecycle;
mod partitions;
mod produce;
mod producer_id;
#[cfg(test)]
mod tests;
mod txn;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

pub(crate) use io::{Action, BatchDone, Request, Response, Target};
pub(crate) use lifecycle::Lifecycle;
pub(crate) use txn::TxnOffsets;

use crate::accumulator::{
    AccumulatorConfig, AppendResult, PendingRecord, ProducerBatch, RecordAccumulator, Route,
};
use crate::config::ProducerConfig;
use crate::delivery::{BatchAck, BatchCompletion};
use crate::error::{ProduceError, TransactionError};
use crate::group_metadata::ConsumerGroupMetadata;
use crate::idempotence::ProducerIdAndEpoch;
use crate::metrics::ProducerMetrics;
use producer_id::ProducerIdRequests;
use txn::Transaction;

/// Outcome of [`ProducerCore::append`].
pub(crate) struct Appended {
    pub result: AppendResult,
    /// The driver should look at the accumulator now (a new or full batch, or a partition
    /// new to the transaction).
    pub wake: bool,
}

/// The producer's state machine. See the module docs.
pub(crate) struct ProducerCore {
    cfg: ProducerConfig,
    acc: RecordAccumulator,
    lifecycle: Lifecycle,
    txn: Option<Transaction>,
    /// InitProducerId of an idempotent, non-transactional producer.
    pid: Option<ProducerIdRequests>,
    metrics: Arc<ProducerMetrics>,
    /// Produce requests in flight per node (at most `max.in.flight.requests.per.connection`).
    node_in_flight: HashMap<i32, usize>,
    /// Completions of batches handed to a broker, so a forced close can fail them.
    in_flight: HashMap<u64, Arc<BatchCompletion>>,
    actions: VecDeque<Action>,
    events: VecDeque<BatchDone>,
    txn_done: VecDeque<Result<(), ProduceError>>,
    /// When a batch next becomes sendable or expires.
    next_batch_check: Option<Instant>,
}

impl ProducerCore {
    /// A core for a validated configuration.
    pub fn new(cfg: ProducerConfig, metrics: Arc<ProducerMetrics>) -> Self {
        let idempotent = cfg.enable_idempotence;
        let acc = RecordAccumulator::new(AccumulatorConfig {
            batch_size: cfg.batch_size,
            linger: cfg.linger,
            delivery_timeout: cfg.delivery_timeout,
            retry_backoff: cfg.client.retry_backoff,
            retry_backoff_max: cfg.client.retry_backoff_max,
            max_in_flight_per_partition: if idempotent {
                cfg.max_in_flight.min(5)
            } else if cfg.max_in_flight == 1 {
                1
            } else {
                usize::MAX
            },
            idempotent,
        });
        let txn = cfg.transactional_id.clone().map(|id| {
            Transaction::new(
                id,
                cfg.max_block,
                cfg.client.retry_backoff,
                cfg.transaction_timeout,
            )
        });
        let pid = (idempotent && txn.is_none())
            .then(|| ProducerIdRequests::new(cfg.client.retry_backoff, cfg.transaction_timeout));
        ProducerCore {
            cfg,
            acc,
            lifecycle: Lifecycle::Running,
            txn,
            pid,
            metrics,
            node_in_flight: HashMap::new(),
            in_flight: HashMap::new(),
            actions: VecDeque::new(),
            events: VecDeque::new(),
            txn_done: VecDeque::new(),
            next_batch_check: None,
        }
    }

    /// The lifecycle.
    pub fn lifecycle(&self) -> &Lifecycle {
        &self.lifecycle
    }

    /// The transaction's state name, if transactional (tests and logs).
    #[cfg(test)]
    pub fn txn_state(&self) -> Option<&'static str> {
        self.txn.as_ref().map(|t| t.state_name())
    }

    /// The accumulator (read-only).
    #[cfg(test)]
    pub fn accumulator(&self) -> &RecordAccumulator {
        &self.acc
    }

    // ---- the handle's side -------------------------------------------------------------

    /// Whether `send` may append now.
    pub fn check_send(&self) -> Result<(), ProduceError> {
        self.lifecycle.check_send()?;
        match &self.txn {
            Some(t) => t.check_send(),
            None => Ok(()),
        }
    }

    /// Appends a record (its `buffer.memory` already reserved) to its partition's batch.
    pub fn append(
        &mut self,
        topic: &str,
        partition: i32,
        record: PendingRecord,
        reserved: usize,
        now: impl FnOnce() -> Instant,
    ) -> Appended {
        let new_partition = self
            .txn
            .as_mut()
            .is_some_and(|t| t.note_partition(topic, partition));
        let result = self.acc.append(topic, partition, record, reserved, now);
        Appended {
            wake: new_partition || result.new_batch || result.batch_full,
            result,
        }
    }

    /// A flush starts: every batch is sendable now. Returns the mark for
    /// [`ProducerCore::flushed`].
    pub fn begin_flush(&mut self) -> u64 {
        self.lifecycle.begin_flush();
        self.acc.begin_flush()
    }

    /// A flush ends.
    pub fn end_flush(&mut self) {
        self.lifecycle.end_flush();
        self.acc.end_flush();
    }

    /// Whether every batch created before `mark` is complete.
    pub fn flushed(&self, mark: u64) -> bool {
        self.acc.flushed(mark)
    }

    /// `close` (or the last handle dropped): no new records; the rest is delivered.
    pub fn close(&mut self) {
        self.lifecycle.close();
        self.acc.begin_close();
    }

    /// `close`'s timeout passed: fails queued batches and hands back the completions of
    /// batches in flight, to be failed with [`ProduceError::Closed`] now.
    pub fn close_hard(&mut self) -> Vec<Arc<BatchCompletion>> {
        self.lifecycle.close_hard();
        self.fail_queued(ProduceError::Closed);
        self.in_flight.drain().map(|(_, c)| c).collect()
    }

    /// The driver has exited.
    pub fn set_closed(&mut self) {
        self.lifecycle = Lifecycle::Closed;
    }

    fn txn(&mut self) -> Result<&mut Transaction, ProduceError> {
        self.txn.as_mut().ok_or(ProduceError::Transaction(
            TransactionError::NotTransactional,
        ))
    }

    /// `init_transactions`; its outcome comes from [`ProducerCore::poll_txn_done`].
    pub fn init_transactions(&mut self, now: Instant) -> Result<(), ProduceError> {
        self.txn()?.init(now)
    }

    /// `begin_transaction` (no request: done at once).
    pub fn begin_transaction(&mut self) -> Result<(), ProduceError> {
        self.txn()?.begin()
    }

    /// `send_offsets_to_transaction`; its outcome comes from
    /// [`ProducerCore::poll_txn_done`].
    pub fn send_offsets_to_transaction(
        &mut self,
        offsets: TxnOffsets,
        group: ConsumerGroupMetadata,
        now: Instant,
    ) -> Result<(), ProduceError> {
        self.txn()?.send_offsets(offsets, group, now)
    }

    /// `commit_transaction`: flush, then EndTxn; its outcome comes from
    /// [`ProducerCore::poll_txn_done`].
    pub fn commit_transaction(&mut self) -> Result<(), ProduceError> {
        self.txn()?.can_commit()?;
        let mark = self.begin_flush();
        self.txn()?.commit(mark);
        Ok(())
    }

    /// `abort_transaction`: fails the records not yet sent with [`ProduceError::Aborted`],
    /// waits for those in flight, then ends the transaction (EndTxn, or an epoch bump after a
    /// sequence gap); its outcome comes from [`ProducerCore::poll_txn_done`].
    pub fn abort_transaction(&mut self) -> Result<(), ProduceError> {
        self.txn()?.can_abort()?;
        self.fail_queued(ProduceError::Aborted);
        let mark = self.begin_flush();
        self.txn()?.abort(mark);
        Ok(())
    }

    // ---- the driver's side -------------------------------------------------------------

    /// Works out what is due at `now`: expires batches, finishes a transaction's flush, asks
    /// for a producer id, sends coordinator requests, drains sendable batches per broker.
    /// `leader` gives a partition's leader from the client's metadata.
    pub fn poll(&mut self, now: Instant, leader: impl Fn(&str, i32) -> Option<i32>) {
        for b in self.acc.expire(now) {
            let err = ProduceError::DeliveryTimeout {
                topic: b.topic.clone(),
                partition: b.partition,
                timeout_ms: self.cfg.delivery_timeout.as_millis() as u64,
            };
            self.finish_batch(b, Err(err), false);
        }
        if let Some(txn) = self.txn.as_mut() {
            if let Some(mark) = txn.flush_mark() {
                if self.acc.flushed(mark) {
                    self.lifecycle.end_flush();
                    self.acc.end_flush();
                    let bump = self.acc.sequences.as_ref().is_some_and(|s| s.bump_needed());
                    txn.flushed(now, bump, self.lifecycle.fatal(), &mut self.txn_done);
                }
            }
            txn.poll(now, &mut self.actions);
        }
        if let Some(pid) = self.pid.as_mut().filter(|_| self.lifecycle.allows_retry()) {
            pid.poll(&self.acc, now, &mut self.actions);
        }

        let txn = self.txn.as_ref();
        let route = |t: &str, p: i32| {
            if txn.is_some_and(|x| !x.is_added(t, p)) {
                return Route::Hold;
            }
            match leader(t, p) {
                Some(n) if n >= 0 => Route::Leader(n),
                _ => Route::Unknown,
            }
        };
        let ready = self.acc.ready(now, route);
        if !ready.unknown_leader_topics.is_empty() {
            self.actions.push_back(Action::RefreshMetadata {
                topics: ready.unknown_leader_topics,
            });
        }
        for node in ready.nodes {
            loop {
                let slots = self.node_in_flight.entry(node).or_insert(0);
                if *slots >= self.cfg.max_in_flight {
                    break;
                }
                let batches = self.acc.drain(node, self.cfg.max_request_size, now, route);
                if batches.is_empty() {
                    break;
                }
                *slots += 1;
                for b in &batches {
                    self.in_flight.insert(b.id, b.completion.clone());
                }
                self.actions.push_back(Action::Produce { node, batches });
            }
        }
        self.next_batch_check = ready.next_deadline;
    }

    /// The next action, once [`ProducerCore::poll`] ran.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// The next finished batch.
    pub fn poll_event(&mut self) -> Option<BatchDone> {
        self.events.pop_front()
    }

    /// The outcome of the transactional call in progress, once known.
    pub fn poll_txn_done(&mut self) -> Option<Result<(), ProduceError>> {
        self.txn_done.pop_front()
    }

    /// When [`ProducerCore::poll`] must run again at the latest, if anything waits on time.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.next_batch_check,
            self.pid.as_ref().and_then(|p| p.timeout()),
            self.txn.as_ref().and_then(|t| t.poll_timeout()),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Whether the driver may exit: closing, nothing in flight, nothing queued (or closing
    /// hard, when what is queued fails with [`ProduceError::Closed`]).
    pub fn poll_finished(&mut self) -> bool {
        let Lifecycle::Closing { hard } = self.lifecycle else {
            return false;
        };
        if self.node_in_flight.values().any(|n| *n > 0) {
            return false;
        }
        if self.acc.queued_batches() == 0 || hard {
            self.fail_queued(ProduceError::Closed);
            return true;
        }
        false
    }

    /// A coordinator (or InitProducerId) answer.
    pub fn handle_response(&mut self, response: Response, now: Instant) {
        let Some(t) = self.txn.as_mut() else {
            if let (Response::InitProducerId(r), Some(pid)) = (response, self.pid.as_mut()) {
                if let Some(id) = pid.handle(r, now, &mut self.actions) {
                    self.install_producer_id(id);
                }
            }
            return;
        };
        let (actions, done) = (&mut self.actions, &mut self.txn_done);
        let new_id = match response {
            Response::InitProducerId(r) => t.handle_init_producer_id(r, now, actions, done),
            Response::AddPartitionsToTxn(r) => {
                t.handle_add_partitions(r, now, actions);
                None
            }
            Response::AddOffsetsToTxn(r) => {
                t.handle_add_offsets(r, now, actions, done);
                None
            }
            Response::TxnOffsetCommit(r) => {
                t.handle_txn_offset_commit(r, now, actions, done);
                None
            }
            Response::EndTxn(r) => {
                t.handle_end_txn(r, now, actions, done);
                None
            }
        };
        if let Some(id) = new_id {
            self.install_producer_id(id);
        }
    }

    /// A (new) producer id and epoch: every partition restarts at sequence 0.
    fn install_producer_id(&mut self, id: ProducerIdAndEpoch) {
        if let Some(s) = self.acc.sequences.as_mut() {
            s.set_producer_id(id);
        }
        self.acc.reset_identities();
        tracing::debug!(
            producer_id = id.producer_id,
            epoch = id.epoch,
            "producer id"
        );
    }

    // ---- finishing batches -------------------------------------------------------------

    /// Whether a sent batch may be sent again: `retries` not used up, `delivery.timeout.ms`
    /// not passed, producer not closing hard or fenced.
    fn can_retry(&self, b: &ProducerBatch, now: Instant) -> bool {
        b.attempts <= self.cfg.retries.max(0) as u32
            && now < b.created + self.cfg.delivery_timeout
            && self.lifecycle.allows_retry()
    }

    /// The error for a batch that cannot be retried: a delivery timeout when
    /// `delivery.timeout.ms` has passed (as Java reports it), else `err`.
    fn final_error(&self, b: &ProducerBatch, now: Instant, err: ProduceError) -> ProduceError {
        if now >= b.created + self.cfg.delivery_timeout {
            ProduceError::DeliveryTimeout {
                topic: b.topic.clone(),
                partition: b.partition,
                timeout_ms: self.cfg.delivery_timeout.as_millis() as u64,
            }
        } else {
            err
        }
    }

    fn finish_batch(
        &mut self,
        b: ProducerBatch,
        result: Result<BatchAck, ProduceError>,
        sent: bool,
    ) {
        if sent {
            self.acc.complete(&b);
        } else {
            self.acc.forget(&b);
        }
        self.in_flight.remove(&b.id);
        if let (Err(e), Some(t)) = (&result, self.txn.as_mut()) {
            t.on_record_failure(e);
        }
        self.events.push_back(BatchDone { batch: b, result });
    }

    /// Fails a sent batch whose fate at the broker is unknown or refused.
    fn fail_sent_batch(&mut self, b: ProducerBatch, err: ProduceError) {
        if let (Some(id), Some(seq)) = (b.identity, self.acc.sequences.as_mut()) {
            seq.on_abandoned(&b.topic, b.partition, id.base_sequence);
        }
        self.finish_batch(b, Err(err), true);
    }

    /// Fails every batch not yet handed to a broker.
    fn fail_queued(&mut self, err: ProduceError) {
        for b in self.acc.abort_all() {
            self.finish_batch(b, Err(err.clone()), false);
        }
    }

    fn set_fatal(&mut self, e: ProduceError) {
        self.lifecycle.set_fatal(e.clone());
        self.fail_queued(e);
    }
}
