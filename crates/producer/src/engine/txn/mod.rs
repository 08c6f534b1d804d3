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

mod call;
mod requests;
mod state;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use kafka_protocol::messages::{
    AddOffsetsToTxnResponse, AddPartitionsToTxnResponse, EndTxnResponse, InitProducerIdResponse,
    TxnOffsetCommitResponse,
};
use rafka_client::Error as ClientError;
use rafka_wire::error_code::ErrorCode;
use rafka_wire::TopicPartition;

use super::{Action, Target};
use crate::error::{ProduceError, TransactionError};
use crate::group_metadata::ConsumerGroupMetadata;
use crate::idempotence::ProducerIdAndEpoch;
use call::{is_fenced, judge, Call, Verdict};
use state::{Ending, Offsets, Ready, TxnState};

/// The outcome of a transactional call.
pub(crate) type TxnResult = Result<(), ProduceError>;

/// Offsets handed to `send_offsets_to_transaction`: partition, next offset, metadata.
pub(crate) type TxnOffsets = Vec<(TopicPartition, i64, Option<String>)>;

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
        let tid = &self.transactional_id;
        let timeout_ms = self.transaction_timeout_ms;
        let committing = matches!(self.state, TxnState::Committing { .. });
        match &mut self.state {
            TxnState::Initializing(call) => {
                if call.take_due(now) {
                    actions.push_back(requests::init_producer_id(tid, timeout_ms, None));
                }
                return;
            }
            TxnState::Aborting {
                open,
                step: Ending::Bumping(call),
            } => {
                if call.take_due(now) {
                    let bump = Some(open.id);
                    actions.push_back(requests::init_producer_id(tid, timeout_ms, bump));
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
                    actions.push_back(requests::end_txn(tid, open.id, committing));
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
                open.adding = Some(Call::new(now, self.max_block));
            }
            if open.adding.as_mut().is_some_and(|c| c.take_due(now)) {
                actions.push_back(requests::add_partitions(tid, open.id, &open.pending));
            }
        }
        // send_offsets_to_transaction, whatever became of the transaction meanwhile.
        if let Some(open) = self.state.open_mut() {
            let id = open.id;
            if let Some(o) = open.offsets.as_mut() {
                if o.call.take_due(now) {
                    actions.push_back(requests::offsets(tid, id, o));
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
        let code = reply.as_ref().map(|resp| {
            let (added, worst) = call::added_partitions(resp);
            for (topic, partition) in added {
                open.pending.remove(topic, partition);
                open.added.insert(topic, partition);
                open.started = true;
            }
            worst
        });
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
        let code = reply.as_ref().map(call::first_offset_error);
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
