//! Transactions (KIP-98, KIP-447) as a sans-IO state machine, as Java's `TransactionManager`.
//!
//! ```text
//! Uninitialized ─init─▶ Initializing ─▶ Ready ─begin─▶ InTransaction ─commit─▶ Committing ─▶ Ready
//!                                         ▲                 │   └─abort─▶ Aborting ─────────▶ Ready
//!                                         │          record or request failed
//!                                         │                 ▼
//!                                         └──── abort ── Abortable          fenced ─▶ Fatal
//! ```
//!
//! Each state owns its data ([`Ready`] its producer id, [`Open`] the transaction's
//! partitions) and moves into the next by value. Coordinator requests are [`Call`]s: due
//! now, in flight, or due again after `retry.backoff.ms` until `max.block.ms` has passed,
//! so a retry is a deadline in [`Transaction::poll_timeout`] rather than a sleep.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use kafka_protocol::messages::add_partitions_to_txn_request::AddPartitionsToTxnTopic;
use kafka_protocol::messages::txn_offset_commit_request::{
    TxnOffsetCommitRequestPartition, TxnOffsetCommitRequestTopic,
};
use kafka_protocol::messages::{
    AddOffsetsToTxnRequest, AddOffsetsToTxnResponse, AddPartitionsToTxnRequest,
    AddPartitionsToTxnResponse, EndTxnRequest, EndTxnResponse, GroupId, InitProducerIdRequest,
    InitProducerIdResponse, ProducerId, TopicName, TransactionalId, TxnOffsetCommitRequest,
    TxnOffsetCommitResponse,
};
use kafka_protocol::protocol::StrBytes;
use rafka_client::Error as ClientError;
use rafka_wire::error_code::ErrorCode;
use rafka_wire::TopicPartition;

use super::partitions::PartitionSet;
use super::{Action, Request, Target};
use crate::error::{ProduceError, TransactionError};
use crate::group_metadata::ConsumerGroupMetadata;
use crate::idempotence::ProducerIdAndEpoch;

/// The outcome of a transactional call.
pub(crate) type TxnResult = Result<(), ProduceError>;

/// Offsets handed to `send_offsets_to_transaction`: partition, next offset, metadata.
pub(crate) type TxnOffsets = Vec<(TopicPartition, i64, Option<String>)>;

/// One coordinator request with retries: due at `next` (`None` while in flight), retried
/// until `deadline` (`max.block.ms` after the first attempt).
#[derive(Debug)]
struct Call {
    next: Option<Instant>,
    deadline: Instant,
}

impl Call {
    fn new(now: Instant, max_block: Duration) -> Self {
        Call {
            next: Some(now),
            deadline: now + max_block,
        }
    }

    /// Whether the request is due; if so it is in flight from now.
    fn take_due(&mut self, now: Instant) -> bool {
        if self.next.is_some_and(|t| t <= now) {
            self.next = None;
            true
        } else {
            false
        }
    }

    fn retry(&mut self, now: Instant, backoff: Duration) {
        self.next = Some(now + backoff);
    }
}

/// What a coordinator's answer means for its [`Call`].
enum Verdict {
    Done,
    Retry,
    Failed(ProduceError),
}

/// Errors of the transaction's own requests that fence the producer.
fn txn_err(code: ErrorCode, api: &'static str) -> ProduceError {
    match code {
        ErrorCode::PRODUCER_FENCED
        | ErrorCode::INVALID_PRODUCER_EPOCH
        | ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED
        | ErrorCode::INVALID_PRODUCER_ID_MAPPING => ProduceError::Fenced(code),
        _ => TransactionError::Coordinator { api, code }.into(),
    }
}

/// Whether a coordinator error means "ask again": `Some(true)` after finding the
/// coordinator again, `Some(false)` at the same one.
fn retry_coordinator(code: ErrorCode) -> Option<bool> {
    match code {
        ErrorCode::NOT_COORDINATOR | ErrorCode::COORDINATOR_NOT_AVAILABLE => Some(true),
        ErrorCode::CONCURRENT_TRANSACTIONS | ErrorCode::COORDINATOR_LOAD_IN_PROGRESS => Some(false),
        c if c.is_retriable() => Some(false),
        _ => None,
    }
}

/// Judges an answer (its error code, or the client's failure) against the call's deadline;
/// asks the driver to find `coordinator` again when the code says it moved.
fn judge(
    reply: Result<ErrorCode, &ClientError>,
    api: &'static str,
    call: &Call,
    now: Instant,
    coordinator: Target,
    actions: &mut VecDeque<Action>,
) -> Verdict {
    let code = match reply {
        Ok(c) => c,
        Err(e) if e.is_retriable() && now < call.deadline => return Verdict::Retry,
        Err(e) => return Verdict::Failed(ProduceError::Client(e.clone())),
    };
    if code == ErrorCode::NONE {
        return Verdict::Done;
    }
    match retry_coordinator(code) {
        Some(refind) if now < call.deadline => {
            if refind {
                actions.push_back(Action::InvalidateCoordinator(coordinator));
            }
            Verdict::Retry
        }
        _ => Verdict::Failed(txn_err(code, api)),
    }
}

fn is_fenced(e: &ProduceError) -> bool {
    matches!(e, ProduceError::Fenced(_))
}

fn tname(s: &str) -> TopicName {
    TopicName(StrBytes::from_string(s.to_string()))
}

/// Initialized, no transaction open.
#[derive(Debug)]
struct Ready {
    id: ProducerIdAndEpoch,
}

impl Ready {
    /// `begin_transaction`.
    fn begin(self) -> Open {
        Open {
            id: self.id,
            added: PartitionSet::default(),
            pending: PartitionSet::default(),
            adding: None,
            started: false,
            offsets: None,
            failed: None,
        }
    }
}

/// `send_offsets_to_transaction` in progress: AddOffsetsToTxn, then TxnOffsetCommit.
#[derive(Debug)]
struct Offsets {
    group: ConsumerGroupMetadata,
    offsets: TxnOffsets,
    /// AddOffsetsToTxn answered; TxnOffsetCommit is next.
    added: bool,
    call: Call,
}

/// An open transaction.
#[derive(Debug)]
struct Open {
    id: ProducerIdAndEpoch,
    /// Partitions the coordinator has added to the transaction.
    added: PartitionSet,
    /// Partitions written to but not yet added.
    pending: PartitionSet,
    /// AddPartitionsToTxn for `pending`, while one is due or in flight.
    adding: Option<Call>,
    /// The coordinator knows of this transaction (a partition or offsets were added), so
    /// it must be ended with EndTxn.
    started: bool,
    offsets: Option<Offsets>,
    /// A record failed while the transaction was committing.
    failed: Option<ProduceError>,
}

impl Open {
    fn end(self) -> Ready {
        Ready { id: self.id }
    }

    /// A record or request failed: only abort is allowed now (fencing is fatal).
    fn fail(self, cause: ProduceError) -> TxnState {
        if is_fenced(&cause) {
            TxnState::Fatal(cause)
        } else {
            TxnState::Abortable { open: self, cause }
        }
    }
}

/// How far a commit or abort has come.
#[derive(Debug)]
enum Ending {
    /// Waiting until every batch created before `mark` is complete.
    Flushing { mark: u64 },
    /// Abort after a sequence gap: InitProducerId with the current id and epoch (KIP-360);
    /// the coordinator aborts the open transaction as part of the bump.
    Bumping(Call),
    /// EndTxn in progress.
    EndTxn(Call),
}

/// The transaction's state; each variant owns its data.
#[derive(Debug)]
enum TxnState {
    Uninitialized,
    Initializing(Call),
    Ready(Ready),
    InTransaction(Open),
    Abortable { open: Open, cause: ProduceError },
    Committing { open: Open, step: Ending },
    Aborting { open: Open, step: Ending },
    Fatal(ProduceError),
}

impl TxnState {
    fn name(&self) -> &'static str {
        match self {
            TxnState::Uninitialized => "Uninitialized",
            TxnState::Initializing(_) => "Initializing",
            TxnState::Ready(_) => "Ready",
            TxnState::InTransaction(_) => "InTransaction",
            TxnState::Abortable { .. } => "Abortable",
            TxnState::Committing { .. } => "Committing",
            TxnState::Aborting { .. } => "Aborting",
            TxnState::Fatal(_) => "Fatal",
        }
    }

    fn open(&self) -> Option<&Open> {
        match self {
            TxnState::InTransaction(o)
            | TxnState::Abortable { open: o, .. }
            | TxnState::Committing { open: o, .. }
            | TxnState::Aborting { open: o, .. } => Some(o),
            _ => None,
        }
    }

    fn open_mut(&mut self) -> Option<&mut Open> {
        match self {
            TxnState::InTransaction(o)
            | TxnState::Abortable { open: o, .. }
            | TxnState::Committing { open: o, .. }
            | TxnState::Aborting { open: o, .. } => Some(o),
            _ => None,
        }
    }
}

/// The transaction machine of one transactional producer.
#[derive(Debug)]
pub(crate) struct Transaction {
    transactional_id: String,
    state: TxnState,
    max_block: Duration,
    retry_backoff: Duration,
    transaction_timeout_ms: i32,
}

impl Transaction {
    pub fn new(
        transactional_id: String,
        max_block: Duration,
        retry_backoff: Duration,
        transaction_timeout: Duration,
    ) -> Self {
        Transaction {
            transactional_id,
            state: TxnState::Uninitialized,
            max_block,
            retry_backoff,
            transaction_timeout_ms: transaction_timeout.as_millis().min(i32::MAX as u128) as i32,
        }
    }

    fn take(&mut self) -> TxnState {
        std::mem::replace(&mut self.state, TxnState::Uninitialized)
    }

    fn wrong_state(&self, call: &'static str) -> ProduceError {
        TransactionError::WrongState {
            call,
            state: self.state.name(),
        }
        .into()
    }

    /// The state's name (for tests).
    #[cfg(test)]
    pub fn state_name(&self) -> &'static str {
        self.state.name()
    }

    fn tid(&self) -> TransactionalId {
        TransactionalId(StrBytes::from_string(self.transactional_id.clone()))
    }

    /// `send` is allowed only inside an open transaction.
    pub fn check_send(&self) -> Result<(), ProduceError> {
        match &self.state {
            TxnState::InTransaction(_) => Ok(()),
            TxnState::Abortable { cause, .. } => {
                Err(TransactionError::MustAbort(Box::new(cause.clone())).into())
            }
            TxnState::Fatal(e) => Err(TransactionError::Fatal(Box::new(e.clone())).into()),
            _ => Err(self.wrong_state("send")),
        }
    }

    /// Remembers a partition written in this transaction; true if it is new.
    pub fn note_partition(&mut self, topic: &str, partition: i32) -> bool {
        let TxnState::InTransaction(open) = &mut self.state else {
            return false;
        };
        if open.added.contains(topic, partition) {
            return false;
        }
        open.pending.insert(topic, partition)
    }

    /// Whether batches of the partition may be sent (AddPartitionsToTxn answered).
    pub fn is_added(&self, topic: &str, partition: i32) -> bool {
        self.state
            .open()
            .is_some_and(|o| o.added.contains(topic, partition))
    }

    /// A record of the transaction failed: the transaction can only be aborted (Java's
    /// abortable error). Aborts and closes are not failures of the transaction.
    pub fn on_record_failure(&mut self, e: &ProduceError) {
        if matches!(e, ProduceError::Aborted | ProduceError::Closed) {
            return;
        }
        match self.take() {
            TxnState::InTransaction(open) => self.state = open.fail(e.clone()),
            TxnState::Committing { mut open, step } => {
                open.failed.get_or_insert_with(|| e.clone());
                self.state = TxnState::Committing { open, step };
            }
            other => self.state = other,
        }
    }

    /// `init_transactions`: InitProducerId with the `transactional.id`.
    pub fn init(&mut self, now: Instant) -> Result<(), ProduceError> {
        match &self.state {
            TxnState::Uninitialized | TxnState::Ready(_) => {
                self.state = TxnState::Initializing(Call::new(now, self.max_block));
                Ok(())
            }
            _ => Err(self.wrong_state("init_transactions")),
        }
    }

    /// `begin_transaction`.
    pub fn begin(&mut self) -> Result<(), ProduceError> {
        match self.take() {
            TxnState::Ready(r) => {
                self.state = TxnState::InTransaction(r.begin());
                Ok(())
            }
            other => {
                self.state = other;
                Err(self.wrong_state("begin_transaction"))
            }
        }
    }

    /// `send_offsets_to_transaction`.
    pub fn send_offsets(
        &mut self,
        offsets: TxnOffsets,
        group: ConsumerGroupMetadata,
        now: Instant,
    ) -> Result<(), ProduceError> {
        self.check_send()?;
        let max_block = self.max_block;
        let state = self.state.name();
        let open = self.state.open_mut().expect("checked by check_send");
        if open.offsets.is_some() {
            return Err(TransactionError::WrongState {
                call: "send_offsets_to_transaction",
                state,
            }
            .into());
        }
        open.offsets = Some(Offsets {
            group,
            offsets,
            added: false,
            call: Call::new(now, max_block),
        });
        Ok(())
    }

    /// Whether `commit_transaction` may start.
    pub fn can_commit(&self) -> Result<(), ProduceError> {
        match &self.state {
            TxnState::InTransaction(o) if o.offsets.is_none() => Ok(()),
            _ => self
                .check_send()
                .and(Err(self.wrong_state("commit_transaction"))),
        }
    }

    /// Starts committing: first every record must complete (flush up to `mark`).
    pub fn commit(&mut self, mark: u64) {
        if let TxnState::InTransaction(open) = self.take() {
            self.state = TxnState::Committing {
                open,
                step: Ending::Flushing { mark },
            };
        }
    }

    /// Whether `abort_transaction` may start.
    pub fn can_abort(&self) -> Result<(), ProduceError> {
        match &self.state {
            TxnState::InTransaction(o) | TxnState::Abortable { open: o, .. }
                if o.offsets.is_none() =>
            {
                Ok(())
            }
            _ => Err(self.wrong_state("abort_transaction")),
        }
    }

    /// Starts aborting (the caller failed the queued batches): the in-flight ones must
    /// complete first (flush up to `mark`).
    pub fn abort(&mut self, mark: u64) {
        match self.take() {
            TxnState::InTransaction(open) | TxnState::Abortable { open, .. } => {
                self.state = TxnState::Aborting {
                    open,
                    step: Ending::Flushing { mark },
                }
            }
            other => self.state = other,
        }
    }

    /// The flush mark a commit or abort waits for.
    pub fn flush_mark(&self) -> Option<u64> {
        match &self.state {
            TxnState::Committing {
                step: Ending::Flushing { mark },
                ..
            }
            | TxnState::Aborting {
                step: Ending::Flushing { mark },
                ..
            } => Some(*mark),
            _ => None,
        }
    }

    /// The flush of a commit or abort is done. `bump_needed`: a failed batch left a sequence
    /// gap; `fatal`: the producer's fatal error, if any.
    pub fn flushed(
        &mut self,
        now: Instant,
        bump_needed: bool,
        fatal: Option<&ProduceError>,
        events: &mut VecDeque<TxnResult>,
    ) {
        let max_block = self.max_block;
        self.state = match self.take() {
            TxnState::Committing { open, .. } => {
                if let Some(e) = fatal {
                    events.push_back(Err(e.clone()));
                    TxnState::Fatal(e.clone())
                } else if let Some(cause) = open.failed.clone() {
                    let err = if is_fenced(&cause) {
                        cause.clone()
                    } else {
                        TransactionError::MustAbort(Box::new(cause.clone())).into()
                    };
                    events.push_back(Err(err));
                    open.fail(cause)
                } else if open.started {
                    TxnState::Committing {
                        open,
                        step: Ending::EndTxn(Call::new(now, max_block)),
                    }
                } else {
                    events.push_back(Ok(()));
                    TxnState::Ready(open.end())
                }
            }
            TxnState::Aborting { open, .. } => {
                if bump_needed {
                    TxnState::Aborting {
                        open,
                        step: Ending::Bumping(Call::new(now, max_block)),
                    }
                } else if open.started {
                    TxnState::Aborting {
                        open,
                        step: Ending::EndTxn(Call::new(now, max_block)),
                    }
                } else {
                    events.push_back(Ok(()));
                    TxnState::Ready(open.end())
                }
            }
            other => other,
        };
    }

    /// The requests due now.
    // A guard cannot take `call` mutably, so the `if`s stay inside the arms.
    #[allow(clippy::collapsible_match)]
    pub fn poll(&mut self, now: Instant, actions: &mut VecDeque<Action>) {
        let tid = self.tid();
        let timeout_ms = self.transaction_timeout_ms;
        let max_block = self.max_block;
        let init = |current: Option<ProducerIdAndEpoch>| {
            let (pid, epoch) = current.map_or((-1, -1), |c| (c.producer_id, c.epoch));
            Action::Send {
                target: Target::TransactionCoordinator,
                request: Request::InitProducerId(
                    InitProducerIdRequest::default()
                        .with_transactional_id(Some(tid.clone()))
                        .with_transaction_timeout_ms(timeout_ms)
                        .with_producer_id(ProducerId(pid))
                        .with_producer_epoch(epoch),
                ),
            }
        };
        let committing = matches!(self.state, TxnState::Committing { .. });
        match &mut self.state {
            TxnState::Initializing(call) => {
                if call.take_due(now) {
                    actions.push_back(init(None));
                }
                return;
            }
            TxnState::Aborting {
                open,
                step: Ending::Bumping(call),
            } => {
                if call.take_due(now) {
                    actions.push_back(init(Some(open.id)));
                }
            }
            TxnState::Committing {
                open,
                step: Ending::EndTxn(call),
            }
            | TxnState::Aborting {
                open,
                step: Ending::EndTxn(call),
            } => {
                if call.take_due(now) {
                    let id = open.id;
                    actions.push_back(Action::Send {
                        target: Target::TransactionCoordinator,
                        request: Request::EndTxn(
                            EndTxnRequest::default()
                                .with_transactional_id(tid.clone())
                                .with_producer_id(ProducerId(id.producer_id))
                                .with_producer_epoch(id.epoch)
                                .with_committed(committing),
                        ),
                    });
                }
            }
            _ => {}
        }
        // AddPartitionsToTxn while records may still be sent: in the transaction and during
        // the flush of a commit that no record has failed yet.
        let adding = match &mut self.state {
            TxnState::InTransaction(o) => Some(o),
            TxnState::Committing {
                open,
                step: Ending::Flushing { .. },
            } if open.failed.is_none() => Some(open),
            _ => None,
        };
        if let Some(open) = adding {
            if !open.pending.is_empty() && open.adding.is_none() {
                open.adding = Some(Call::new(now, max_block));
            }
            if open.adding.as_mut().is_some_and(|c| c.take_due(now)) {
                let topics: Vec<AddPartitionsToTxnTopic> = open
                    .pending
                    .sorted()
                    .into_iter()
                    .map(|(t, ps)| {
                        AddPartitionsToTxnTopic::default()
                            .with_name(tname(t))
                            .with_partitions(ps)
                    })
                    .collect();
                actions.push_back(Action::Send {
                    target: Target::TransactionCoordinator,
                    request: Request::AddPartitionsToTxn(
                        AddPartitionsToTxnRequest::default()
                            .with_v3_and_below_transactional_id(tid.clone())
                            .with_v3_and_below_producer_id(ProducerId(open.id.producer_id))
                            .with_v3_and_below_producer_epoch(open.id.epoch)
                            .with_v3_and_below_topics(topics),
                    ),
                });
            }
        }
        // send_offsets_to_transaction, whatever became of the transaction meanwhile.
        if let Some(open) = self.state.open_mut() {
            let id = open.id;
            if let Some(o) = open.offsets.as_mut() {
                if o.call.take_due(now) {
                    actions.push_back(offsets_request(&tid, id, o));
                }
            }
        }
    }

    /// The earliest time a request is due again.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut calls: Vec<&Call> = Vec::new();
        match &self.state {
            TxnState::Initializing(c) => calls.push(c),
            TxnState::Committing {
                step: Ending::Bumping(c) | Ending::EndTxn(c),
                ..
            }
            | TxnState::Aborting {
                step: Ending::Bumping(c) | Ending::EndTxn(c),
                ..
            } => calls.push(c),
            _ => {}
        }
        if let Some(o) = self.state.open() {
            calls.extend(o.adding.iter());
            calls.extend(o.offsets.iter().map(|o| &o.call));
        }
        calls.iter().filter_map(|c| c.next).min()
    }

    /// InitProducerId answered (init_transactions, or the epoch bump of an abort). Returns
    /// the producer id and epoch to install.
    pub fn handle_init_producer_id(
        &mut self,
        reply: Result<InitProducerIdResponse, ClientError>,
        now: Instant,
        actions: &mut VecDeque<Action>,
        events: &mut VecDeque<TxnResult>,
    ) -> Option<ProducerIdAndEpoch> {
        let code = reply.as_ref().map(|r| ErrorCode(r.error_code));
        let id = reply.as_ref().ok().map(|r| ProducerIdAndEpoch {
            producer_id: r.producer_id.0,
            epoch: r.producer_epoch,
        });
        let backoff = self.retry_backoff;
        let (verdict, call) = match &mut self.state {
            TxnState::Initializing(call)
            | TxnState::Aborting {
                step: Ending::Bumping(call),
                ..
            } => (
                judge(
                    code,
                    "InitProducerId",
                    call,
                    now,
                    Target::TransactionCoordinator,
                    actions,
                ),
                call,
            ),
            _ => return None,
        };
        match verdict {
            Verdict::Retry => {
                call.retry(now, backoff);
                None
            }
            Verdict::Done => {
                let id = id.expect("answered");
                self.state = TxnState::Ready(Ready { id });
                events.push_back(Ok(()));
                Some(id)
            }
            Verdict::Failed(e) => {
                events.push_back(Err(e.clone()));
                self.state = match self.take() {
                    TxnState::Aborting { open, .. } => open.fail(e),
                    _ if is_fenced(&e) => TxnState::Fatal(e),
                    _ => TxnState::Uninitialized,
                };
                None
            }
        }
    }

    /// AddPartitionsToTxn answered: the partitions added may be sent from now on.
    pub fn handle_add_partitions(
        &mut self,
        reply: Result<AddPartitionsToTxnResponse, ClientError>,
        now: Instant,
        actions: &mut VecDeque<Action>,
    ) {
        let backoff = self.retry_backoff;
        let Some(open) = self.state.open_mut() else {
            return;
        };
        let Some(call) = open.adding.as_mut() else {
            return;
        };
        let code = match &reply {
            Err(e) => Err(e),
            Ok(resp) => {
                let mut worst = ErrorCode::NONE;
                for t in &resp.results_by_topic_v3_and_below {
                    for p in &t.results_by_partition {
                        let code = ErrorCode(p.partition_error_code);
                        if code == ErrorCode::NONE {
                            open.pending.remove(&t.name.0, p.partition_index);
                            open.added.insert(&t.name.0, p.partition_index);
                            open.started = true;
                        } else if worst == ErrorCode::NONE
                            || worst == ErrorCode::OPERATION_NOT_ATTEMPTED
                        {
                            worst = code;
                        }
                    }
                }
                if resp.error_code != 0 {
                    worst = ErrorCode(resp.error_code);
                }
                Ok(worst)
            }
        };
        match judge(
            code,
            "AddPartitionsToTxn",
            call,
            now,
            Target::TransactionCoordinator,
            actions,
        ) {
            Verdict::Done => open.adding = None,
            Verdict::Retry => call.retry(now, backoff),
            Verdict::Failed(e) => {
                tracing::warn!(error = %e, "AddPartitionsToTxn failed; the transaction must be aborted");
                open.adding = None;
                match self.take() {
                    TxnState::InTransaction(open) => self.state = open.fail(e),
                    TxnState::Committing { mut open, step } => {
                        open.failed.get_or_insert(e);
                        self.state = TxnState::Committing { open, step };
                    }
                    other => self.state = other,
                }
            }
        }
    }

    /// AddOffsetsToTxn answered: TxnOffsetCommit to the group coordinator is next.
    pub fn handle_add_offsets(
        &mut self,
        reply: Result<AddOffsetsToTxnResponse, ClientError>,
        now: Instant,
        actions: &mut VecDeque<Action>,
        events: &mut VecDeque<TxnResult>,
    ) {
        let code = reply.as_ref().map(|r| ErrorCode(r.error_code));
        self.offsets_answered(code, false, now, actions, events);
    }

    /// TxnOffsetCommit answered: `send_offsets_to_transaction` is done.
    pub fn handle_txn_offset_commit(
        &mut self,
        reply: Result<TxnOffsetCommitResponse, ClientError>,
        now: Instant,
        actions: &mut VecDeque<Action>,
        events: &mut VecDeque<TxnResult>,
    ) {
        let code = reply.as_ref().map(|r| {
            r.topics
                .iter()
                .flat_map(|t| t.partitions.iter())
                .map(|p| ErrorCode(p.error_code))
                .find(|c| *c != ErrorCode::NONE)
                .unwrap_or(ErrorCode::NONE)
        });
        self.offsets_answered(code, true, now, actions, events);
    }

    fn offsets_answered(
        &mut self,
        code: Result<ErrorCode, &ClientError>,
        commit: bool,
        now: Instant,
        actions: &mut VecDeque<Action>,
        events: &mut VecDeque<TxnResult>,
    ) {
        let backoff = self.retry_backoff;
        let Some(open) = self.state.open_mut() else {
            return;
        };
        let Some(o) = open.offsets.as_mut().filter(|o| o.added == commit) else {
            return;
        };
        let (api, target) = if commit {
            ("TxnOffsetCommit", Target::Group(o.group.group_id.clone()))
        } else {
            ("AddOffsetsToTxn", Target::TransactionCoordinator)
        };
        match judge(code, api, &o.call, now, target, actions) {
            Verdict::Retry => o.call.retry(now, backoff),
            Verdict::Done if !commit => {
                open.started = true;
                o.added = true;
                o.call.next = Some(now);
            }
            Verdict::Done => {
                open.offsets = None;
                events.push_back(Ok(()));
            }
            Verdict::Failed(e) => {
                open.offsets = None;
                events.push_back(Err(e));
            }
        }
    }

    /// EndTxn answered: the transaction is over.
    pub fn handle_end_txn(
        &mut self,
        reply: Result<EndTxnResponse, ClientError>,
        now: Instant,
        actions: &mut VecDeque<Action>,
        events: &mut VecDeque<TxnResult>,
    ) {
        let code = reply.as_ref().map(|r| ErrorCode(r.error_code));
        let backoff = self.retry_backoff;
        let verdict = match &mut self.state {
            TxnState::Committing {
                step: Ending::EndTxn(call),
                ..
            }
            | TxnState::Aborting {
                step: Ending::EndTxn(call),
                ..
            } => {
                let v = judge(
                    code,
                    "EndTxn",
                    call,
                    now,
                    Target::TransactionCoordinator,
                    actions,
                );
                if matches!(v, Verdict::Retry) {
                    call.retry(now, backoff);
                    return;
                }
                v
            }
            _ => return,
        };
        let (TxnState::Committing { open, .. } | TxnState::Aborting { open, .. }) = self.take()
        else {
            unreachable!("matched above")
        };
        self.state = match verdict {
            Verdict::Done => {
                events.push_back(Ok(()));
                TxnState::Ready(open.end())
            }
            Verdict::Failed(e) => {
                events.push_back(Err(e.clone()));
                open.fail(e)
            }
            Verdict::Retry => unreachable!("returned above"),
        };
    }
}

fn offsets_request(tid: &TransactionalId, id: ProducerIdAndEpoch, o: &Offsets) -> Action {
    if !o.added {
        return Action::Send {
            target: Target::TransactionCoordinator,
            request: Request::AddOffsetsToTxn(
                AddOffsetsToTxnRequest::default()
                    .with_transactional_id(tid.clone())
                    .with_producer_id(ProducerId(id.producer_id))
                    .with_producer_epoch(id.epoch)
                    .with_group_id(GroupId(StrBytes::from_string(o.group.group_id.clone()))),
            ),
        };
    }
    let mut by_topic: HashMap<&str, Vec<TxnOffsetCommitRequestPartition>> = HashMap::new();
    for (tp, off, meta) in &o.offsets {
        by_topic.entry(tp.topic.as_str()).or_default().push(
            TxnOffsetCommitRequestPartition::default()
                .with_partition_index(tp.partition)
                .with_committed_offset(*off)
                .with_committed_leader_epoch(-1)
                .with_committed_metadata(meta.clone().map(StrBytes::from_string)),
        );
    }
    let topics: Vec<TxnOffsetCommitRequestTopic> = by_topic
        .into_iter()
        .map(|(t, ps)| {
            TxnOffsetCommitRequestTopic::default()
                .with_name(tname(t))
                .with_partitions(ps)
        })
        .collect();
    let g = &o.group;
    Action::Send {
        target: Target::Group(g.group_id.clone()),
        request: Request::TxnOffsetCommit(
            TxnOffsetCommitRequest::default()
                .with_transactional_id(tid.clone())
                .with_group_id(GroupId(StrBytes::from_string(g.group_id.clone())))
                .with_producer_id(ProducerId(id.producer_id))
                .with_producer_epoch(id.epoch)
                .with_generation_id(g.generation_id)
                .with_member_id(StrBytes::from_string(g.member_id.clone()))
                .with_group_instance_id(g.group_instance_id.clone().map(StrBytes::from_string))
                .with_topics(topics),
        ),
    }
}
