//! Transactions (KIP-98): InitProducerId with a `transactional.id`, AddPartitionsToTxn before
//! a partition's first batch, AddOffsetsToTxn + TxnOffsetCommit, EndTxn.
//!
//! State machine (as Java's `TransactionManager`): `Uninitialized → Ready` (init_transactions)
//! `→ InTransaction` (begin) `→ Ready` (commit/abort). A failed produce or AddPartitions
//! moves to `Abortable` (only abort is allowed); fencing errors move to `Fatal`.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Instant;

use kafka_protocol::messages::add_partitions_to_txn_request::AddPartitionsToTxnTopic;
use kafka_protocol::messages::txn_offset_commit_request::{
    TxnOffsetCommitRequestPartition, TxnOffsetCommitRequestTopic,
};
use kafka_protocol::messages::{
    AddOffsetsToTxnRequest, AddPartitionsToTxnRequest, EndTxnRequest, GroupId,
    InitProducerIdRequest, ProducerId, TopicName, TransactionalId, TxnOffsetCommitRequest,
};
use kafka_protocol::protocol::StrBytes;
use rafka_client::{CoordinatorKind, SendOptions, Target};
use rafka_wire::error_code::ErrorCode;
use rafka_wire::TopicPartition;

use crate::error::ProduceError;
use crate::idempotence::ProducerIdAndEpoch;
use crate::producer::{Producer, Shared};

/// A consumer's group position handed to [`Producer::send_offsets_to_transaction`] (Java
/// `ConsumerGroupMetadata`, KIP-447): the coordinator fences a zombie member by generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerGroupMetadata {
    /// `group.id`.
    pub group_id: String,
    /// Generation from the last JoinGroup, or -1.
    pub generation_id: i32,
    /// Member id, or "".
    pub member_id: String,
    /// `group.instance.id` (KIP-345), if static membership is used.
    pub group_instance_id: Option<String>,
}

impl ConsumerGroupMetadata {
    /// Metadata with only the group id (generation -1, no member id): no zombie fencing.
    pub fn new(group_id: impl Into<String>) -> Self {
        ConsumerGroupMetadata {
            group_id: group_id.into(),
            generation_id: -1,
            member_id: String::new(),
            group_instance_id: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum TxnState {
    Uninitialized,
    Ready,
    InTransaction,
    Abortable(String),
    Fatal(String),
}

struct TxnInner {
    state: TxnState,
    id: Option<ProducerIdAndEpoch>,
    /// Partitions the coordinator has added to the current transaction.
    added: HashSet<(String, i32)>,
    /// Partitions written to but not yet added.
    pending: HashSet<(String, i32)>,
    /// The coordinator knows of this transaction (a partition or offsets were added), so it
    /// must be ended with EndTxn.
    started: bool,
}

/// Transaction state shared with the sender.
pub(crate) struct TxnShared {
    pub transactional_id: String,
    inner: Mutex<TxnInner>,
}

fn tname(s: &str) -> TopicName {
    TopicName(StrBytes::from_string(s.to_string()))
}

impl TxnShared {
    pub fn new(transactional_id: String) -> Self {
        TxnShared {
            transactional_id,
            inner: Mutex::new(TxnInner {
                state: TxnState::Uninitialized,
                id: None,
                added: HashSet::new(),
                pending: HashSet::new(),
                started: false,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, TxnInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether batches of the partition may be sent (AddPartitionsToTxn answered).
    pub fn is_added(&self, topic: &str, partition: i32) -> bool {
        self.lock().added.contains(&(topic.to_string(), partition))
    }

    /// `send` is allowed only inside a transaction.
    pub fn check_can_send(&self) -> Result<(), ProduceError> {
        match &self.lock().state {
            TxnState::InTransaction => Ok(()),
            TxnState::Fatal(m) => Err(ProduceError::Transaction(m.clone())),
            TxnState::Abortable(m) => Err(ProduceError::Transaction(format!(
                "transaction must be aborted: {m}"
            ))),
            s => Err(ProduceError::Transaction(format!(
                "send needs begin_transaction first (state {s:?})"
            ))),
        }
    }

    /// Remembers a partition written in this transaction; true if it is new.
    pub fn note_partition(&self, topic: &str, partition: i32) -> bool {
        let mut g = self.lock();
        let k = (topic.to_string(), partition);
        if g.added.contains(&k) {
            return false;
        }
        g.pending.insert(k)
    }

    /// A record of the transaction failed: the transaction can only be aborted (Java's
    /// abortable error). Aborts and closes are not failures of the transaction.
    pub fn on_record_failure(&self, e: &ProduceError) {
        let mut g = self.lock();
        if g.state != TxnState::InTransaction {
            return;
        }
        match e {
            ProduceError::Aborted(_) | ProduceError::Closed => {}
            ProduceError::Fenced(_) => g.state = TxnState::Fatal(e.to_string()),
            _ => g.state = TxnState::Abortable(e.to_string()),
        }
    }

    fn set_state(&self, s: TxnState) {
        self.lock().state = s;
    }
}

fn txn_err(code: ErrorCode, what: &str) -> ProduceError {
    match code {
        ErrorCode::PRODUCER_FENCED
        | ErrorCode::INVALID_PRODUCER_EPOCH
        | ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED
        | ErrorCode::INVALID_PRODUCER_ID_MAPPING => ProduceError::Fenced(code),
        _ => ProduceError::Transaction(format!("{what} failed: {code}")),
    }
}

/// Whether a coordinator error means "ask again" (after finding the coordinator again).
fn retry_coordinator(code: ErrorCode) -> Option<bool> {
    match code {
        ErrorCode::NOT_COORDINATOR | ErrorCode::COORDINATOR_NOT_AVAILABLE => Some(true),
        ErrorCode::CONCURRENT_TRANSACTIONS | ErrorCode::COORDINATOR_LOAD_IN_PROGRESS => Some(false),
        c if c.is_retriable() => Some(false),
        _ => None,
    }
}

impl Shared {
    fn txn(&self) -> Result<&TxnShared, ProduceError> {
        self.txn.as_ref().ok_or_else(|| {
            ProduceError::Transaction("transactional.id is not set on this producer".into())
        })
    }

    fn txn_id(&self) -> Result<ProducerIdAndEpoch, ProduceError> {
        self.txn()?
            .lock()
            .id
            .ok_or_else(|| ProduceError::Transaction("init_transactions was not called".into()))
    }

    /// Sends AddPartitionsToTxn for partitions written since the last call. Called by the
    /// sender before it looks for sendable batches.
    pub(crate) async fn add_pending_partitions(&self) -> Result<(), ProduceError> {
        let Some(txn) = &self.txn else { return Ok(()) };
        let pending: Vec<(String, i32)> = {
            let g = txn.lock();
            if g.pending.is_empty() || g.state != TxnState::InTransaction {
                return Ok(());
            }
            g.pending.iter().cloned().collect()
        };
        let id = self.txn_id()?;
        let mut by_topic: HashMap<&str, Vec<i32>> = HashMap::new();
        for (t, p) in &pending {
            by_topic.entry(t.as_str()).or_default().push(*p);
        }
        let topics: Vec<AddPartitionsToTxnTopic> = by_topic
            .into_iter()
            .map(|(t, ps)| {
                AddPartitionsToTxnTopic::default()
                    .with_name(tname(t))
                    .with_partitions(ps)
            })
            .collect();
        let tid = txn.transactional_id.clone();
        let deadline = Instant::now() + self.cfg.max_block;
        loop {
            let req_topics = topics.clone();
            let tid2 = tid.clone();
            let resp = self
                .client
                .send_with(
                    Target::TransactionCoordinator(tid.clone()),
                    SendOptions::default(),
                    move |_| {
                        AddPartitionsToTxnRequest::default()
                            .with_v3_and_below_transactional_id(TransactionalId(
                                StrBytes::from_string(tid2),
                            ))
                            .with_v3_and_below_producer_id(ProducerId(id.producer_id))
                            .with_v3_and_below_producer_epoch(id.epoch)
                            .with_v3_and_below_topics(req_topics)
                    },
                )
                .await;
            let resp = match resp {
                Ok(r) => r,
                Err(e) if e.is_retriable() && Instant::now() < deadline => {
                    tokio::time::sleep(self.cfg.retry_backoff).await;
                    continue;
                }
                Err(e) => return Err(ProduceError::Client(e.to_string())),
            };
            let mut worst = ErrorCode::NONE;
            let mut ok = Vec::new();
            for t in &resp.results_by_topic_v3_and_below {
                for p in &t.results_by_partition {
                    let code = ErrorCode(p.partition_error_code);
                    if code == ErrorCode::NONE {
                        ok.push((t.name.0.to_string(), p.partition_index));
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
            {
                let mut g = txn.lock();
                for k in ok {
                    g.pending.remove(&k);
                    g.added.insert(k);
                    g.started = true;
                }
            }
            if worst == ErrorCode::NONE {
                return Ok(());
            }
            match retry_coordinator(worst) {
                Some(refind) if Instant::now() < deadline => {
                    if refind {
                        self.client
                            .invalidate_coordinator(CoordinatorKind::Transaction, &tid);
                    }
                    tokio::time::sleep(self.cfg.retry_backoff).await;
                }
                _ => {
                    let e = txn_err(worst, "AddPartitionsToTxn");
                    let state = match &e {
                        ProduceError::Fenced(_) => TxnState::Fatal(e.to_string()),
                        _ => TxnState::Abortable(e.to_string()),
                    };
                    txn.set_state(state);
                    return Err(e);
                }
            }
        }
    }

    async fn init_txn_producer_id(&self, bump: bool) -> Result<(), ProduceError> {
        let txn = self.txn()?;
        let tid = txn.transactional_id.clone();
        let current = if bump { txn.lock().id } else { None };
        let timeout_ms = self.cfg.transaction_timeout.as_millis() as i32;
        let deadline = Instant::now() + self.cfg.max_block;
        loop {
            let (pid, epoch) = current.map_or((-1, -1), |c| (c.producer_id, c.epoch));
            let tid2 = tid.clone();
            let resp = self
                .client
                .send_with(
                    Target::TransactionCoordinator(tid.clone()),
                    SendOptions::default(),
                    move |_| {
                        InitProducerIdRequest::default()
                            .with_transactional_id(Some(TransactionalId(StrBytes::from_string(
                                tid2,
                            ))))
                            .with_transaction_timeout_ms(timeout_ms)
                            .with_producer_id(ProducerId(pid))
                            .with_producer_epoch(epoch)
                    },
                )
                .await;
            let code = match &resp {
                Ok(r) => ErrorCode(r.error_code),
                Err(e) if e.is_retriable() && Instant::now() < deadline => {
                    tokio::time::sleep(self.cfg.retry_backoff).await;
                    continue;
                }
                Err(e) => return Err(ProduceError::Client(e.to_string())),
            };
            if code == ErrorCode::NONE {
                let r = resp.expect("checked");
                let id = ProducerIdAndEpoch {
                    producer_id: r.producer_id.0,
                    epoch: r.producer_epoch,
                };
                txn.lock().id = Some(id);
                let mut acc = self.lock_acc();
                if let Some(s) = acc.sequences.as_mut() {
                    s.set_producer_id(id);
                }
                acc.reset_identities();
                return Ok(());
            }
            match retry_coordinator(code) {
                Some(refind) if Instant::now() < deadline => {
                    if refind {
                        self.client
                            .invalidate_coordinator(CoordinatorKind::Transaction, &tid);
                    }
                    tokio::time::sleep(self.cfg.retry_backoff).await;
                }
                _ => return Err(txn_err(code, "InitProducerId")),
            }
        }
    }

    async fn end_txn(&self, commit: bool) -> Result<(), ProduceError> {
        let txn = self.txn()?;
        let id = self.txn_id()?;
        let tid = txn.transactional_id.clone();
        let deadline = Instant::now() + self.cfg.max_block;
        loop {
            let tid2 = tid.clone();
            let resp = self
                .client
                .send_with(
                    Target::TransactionCoordinator(tid.clone()),
                    SendOptions::default(),
                    move |_| {
                        EndTxnRequest::default()
                            .with_transactional_id(TransactionalId(StrBytes::from_string(tid2)))
                            .with_producer_id(ProducerId(id.producer_id))
                            .with_producer_epoch(id.epoch)
                            .with_committed(commit)
                    },
                )
                .await;
            let code = match resp {
                Ok(r) => ErrorCode(r.error_code),
                Err(e) if e.is_retriable() && Instant::now() < deadline => {
                    tokio::time::sleep(self.cfg.retry_backoff).await;
                    continue;
                }
                Err(e) => return Err(ProduceError::Client(e.to_string())),
            };
            if code == ErrorCode::NONE {
                return Ok(());
            }
            match retry_coordinator(code) {
                Some(refind) if Instant::now() < deadline => {
                    if refind {
                        self.client
                            .invalidate_coordinator(CoordinatorKind::Transaction, &tid);
                    }
                    tokio::time::sleep(self.cfg.retry_backoff).await;
                }
                _ => return Err(txn_err(code, "EndTxn")),
            }
        }
    }
}

impl Producer {
    fn txn_shared(&self) -> Result<&TxnShared, ProduceError> {
        self.shared.txn.as_ref().ok_or_else(|| {
            ProduceError::Transaction("transactional.id is not set on this producer".into())
        })
    }

    /// Registers the `transactional.id` with its coordinator (InitProducerId), fencing any
    /// older producer with the same id and aborting its open transaction (KIP-98). Call once
    /// before [`Producer::begin_transaction`].
    ///
    /// # Errors
    /// [`ProduceError::Transaction`] without a `transactional.id`; [`ProduceError::Fenced`]
    /// for authorization/fencing codes; [`ProduceError::Client`] when the coordinator cannot
    /// be reached within `max.block.ms`.
    pub async fn init_transactions(&self) -> Result<(), ProduceError> {
        let txn = self.txn_shared()?;
        self.shared.init_txn_producer_id(false).await?;
        txn.set_state(TxnState::Ready);
        Ok(())
    }

    /// Starts a transaction; records sent until commit or abort belong to it.
    ///
    /// # Errors
    /// [`ProduceError::Transaction`] unless the producer is ready (initialized and not in a
    /// transaction).
    pub fn begin_transaction(&self) -> Result<(), ProduceError> {
        let txn = self.txn_shared()?;
        let mut g = txn.lock();
        match &g.state {
            TxnState::Ready => {
                g.state = TxnState::InTransaction;
                g.added.clear();
                g.pending.clear();
                g.started = false;
                Ok(())
            }
            s => Err(ProduceError::Transaction(format!(
                "begin_transaction in state {s:?}"
            ))),
        }
    }

    /// Adds consumed offsets to the transaction (AddOffsetsToTxn to the transaction
    /// coordinator, then TxnOffsetCommit to the group coordinator, KIP-98/KIP-447): they are
    /// committed if and only if the transaction commits. `offsets` are the next offsets to
    /// consume, with optional metadata.
    ///
    /// # Errors
    /// [`ProduceError::Transaction`] outside a transaction or on a coordinator error;
    /// [`ProduceError::Fenced`] when fenced.
    pub async fn send_offsets_to_transaction(
        &self,
        offsets: &[(TopicPartition, i64, Option<String>)],
        group: &ConsumerGroupMetadata,
    ) -> Result<(), ProduceError> {
        let txn = self.txn_shared()?;
        txn.check_can_send()?;
        let shared = &*self.shared;
        let id = shared.txn_id()?;
        let tid = txn.transactional_id.clone();
        let gid = group.group_id.clone();
        let deadline = Instant::now() + shared.cfg.max_block;
        loop {
            let (tid2, gid2) = (tid.clone(), gid.clone());
            let r = shared
                .client
                .send_with(
                    Target::TransactionCoordinator(tid.clone()),
                    SendOptions::default(),
                    move |_| {
                        AddOffsetsToTxnRequest::default()
                            .with_transactional_id(TransactionalId(StrBytes::from_string(tid2)))
                            .with_producer_id(ProducerId(id.producer_id))
                            .with_producer_epoch(id.epoch)
                            .with_group_id(GroupId(StrBytes::from_string(gid2)))
                    },
                )
                .await
                .map_err(|e| ProduceError::Client(e.to_string()))?;
            let code = ErrorCode(r.error_code);
            if code == ErrorCode::NONE {
                txn.lock().started = true;
                break;
            }
            match retry_coordinator(code) {
                Some(refind) if Instant::now() < deadline => {
                    if refind {
                        shared
                            .client
                            .invalidate_coordinator(CoordinatorKind::Transaction, &tid);
                    }
                    tokio::time::sleep(shared.cfg.retry_backoff).await;
                }
                _ => return Err(txn_err(code, "AddOffsetsToTxn")),
            }
        }
        let mut by_topic: HashMap<&str, Vec<TxnOffsetCommitRequestPartition>> = HashMap::new();
        for (tp, off, meta) in offsets {
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
        loop {
            let (tid2, g2, topics2) = (tid.clone(), group.clone(), topics.clone());
            let r = shared
                .client
                .send_with(
                    Target::GroupCoordinator(gid.clone()),
                    SendOptions::default(),
                    move |_| {
                        TxnOffsetCommitRequest::default()
                            .with_transactional_id(TransactionalId(StrBytes::from_string(tid2)))
                            .with_group_id(GroupId(StrBytes::from_string(g2.group_id)))
                            .with_producer_id(ProducerId(id.producer_id))
                            .with_producer_epoch(id.epoch)
                            .with_generation_id(g2.generation_id)
                            .with_member_id(StrBytes::from_string(g2.member_id))
                            .with_group_instance_id(g2.group_instance_id.map(StrBytes::from_string))
                            .with_topics(topics2)
                    },
                )
                .await
                .map_err(|e| ProduceError::Client(e.to_string()))?;
            let code = r
                .topics
                .iter()
                .flat_map(|t| t.partitions.iter())
                .map(|p| ErrorCode(p.error_code))
                .find(|c| *c != ErrorCode::NONE)
                .unwrap_or(ErrorCode::NONE);
            if code == ErrorCode::NONE {
                return Ok(());
            }
            match retry_coordinator(code) {
                Some(refind) if Instant::now() < deadline => {
                    if refind {
                        shared
                            .client
                            .invalidate_coordinator(CoordinatorKind::Group, &gid);
                    }
                    tokio::time::sleep(shared.cfg.retry_backoff).await;
                }
                _ => return Err(txn_err(code, "TxnOffsetCommit")),
            }
        }
    }

    /// Flushes the transaction's records, then commits it (EndTxn committed=true).
    ///
    /// # Errors
    /// [`ProduceError::Transaction`] outside a transaction, when a record of the transaction
    /// failed (the transaction must then be aborted) or EndTxn fails; [`ProduceError::Fenced`].
    pub async fn commit_transaction(&self) -> Result<(), ProduceError> {
        let txn = self.txn_shared()?;
        txn.check_can_send()?;
        self.flush().await;
        if let Some(e) = self.shared.fatal_error() {
            txn.set_state(TxnState::Fatal(e.to_string()));
            return Err(e);
        }
        if let TxnState::Abortable(m) = &txn.lock().state {
            return Err(ProduceError::Transaction(format!(
                "cannot commit, abort instead: {m}"
            )));
        }
        let started = txn.lock().started;
        let r = if started {
            self.shared.end_txn(true).await
        } else {
            Ok(())
        };
        match r {
            Ok(()) => {
                txn.set_state(TxnState::Ready);
                Ok(())
            }
            Err(e) => {
                txn.set_state(match &e {
                    ProduceError::Fenced(_) => TxnState::Fatal(e.to_string()),
                    _ => TxnState::Abortable(e.to_string()),
                });
                Err(e)
            }
        }
    }

    /// Aborts the transaction: fails records not yet sent with [`ProduceError::Aborted`],
    /// waits for those in flight, then sends EndTxn committed=false.
    ///
    /// # Errors
    /// [`ProduceError::Transaction`] when no transaction is open or EndTxn fails;
    /// [`ProduceError::Fenced`].
    pub async fn abort_transaction(&self) -> Result<(), ProduceError> {
        let txn = self.txn_shared()?;
        match &txn.lock().state {
            TxnState::InTransaction | TxnState::Abortable(_) => {}
            s => {
                return Err(ProduceError::Transaction(format!(
                    "abort_transaction in state {s:?}"
                )))
            }
        }
        self.shared
            .fail_queued(ProduceError::Aborted("transaction aborted".into()));
        self.flush().await;
        // A failed batch left a sequence gap: a new epoch (KIP-360, InitProducerId with the
        // current id and epoch) restarts sequences; the coordinator aborts the open
        // transaction as part of the bump, so EndTxn is not needed then.
        let bump = self
            .shared
            .lock_acc()
            .sequences
            .as_ref()
            .is_some_and(|s| s.bump_needed());
        if bump {
            self.shared.init_txn_producer_id(true).await?;
            let mut g = txn.lock();
            g.state = TxnState::Ready;
            g.added.clear();
            g.pending.clear();
            g.started = false;
            return Ok(());
        }
        let started = txn.lock().started;
        let r = if started {
            self.shared.end_txn(false).await
        } else {
            Ok(())
        };
        match r {
            Ok(()) => {
                let mut g = txn.lock();
                g.state = TxnState::Ready;
                g.added.clear();
                g.pending.clear();
                Ok(())
            }
            Err(e) => {
                if let ProduceError::Fenced(_) = e {
                    txn.set_state(TxnState::Fatal(e.to_string()));
                }
                Err(e)
            }
        }
    }
}
