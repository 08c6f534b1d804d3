//! The transaction's requests, built from its state.

use std::collections::HashMap;

use kafka_protocol::messages::add_partitions_to_txn_request::AddPartitionsToTxnTopic;
use kafka_protocol::messages::txn_offset_commit_request::{
    TxnOffsetCommitRequestPartition, TxnOffsetCommitRequestTopic,
};
use kafka_protocol::messages::{
    AddOffsetsToTxnRequest, AddPartitionsToTxnRequest, EndTxnRequest, GroupId,
    InitProducerIdRequest, ProducerId, TopicName, TransactionalId, TxnOffsetCommitRequest,
};
use kafka_protocol::protocol::StrBytes;

use super::state::Offsets;
use crate::engine::partitions::PartitionSet;
use crate::engine::{Action, Request, Target};
use crate::idempotence::ProducerIdAndEpoch;

fn tid(transactional_id: &str) -> TransactionalId {
    TransactionalId(StrBytes::from_string(transactional_id.to_string()))
}

/// InitProducerId for `init_transactions`, or with `current` to bump its epoch (KIP-360).
pub(super) fn init_producer_id(
    transactional_id: &str,
    transaction_timeout_ms: i32,
    current: Option<ProducerIdAndEpoch>,
) -> Action {
    let (pid, epoch) = current.map_or((-1, -1), |c| (c.producer_id, c.epoch));
    Action::Send {
        target: Target::TransactionCoordinator,
        request: Request::InitProducerId(
            InitProducerIdRequest::default()
                .with_transactional_id(Some(tid(transactional_id)))
                .with_transaction_timeout_ms(transaction_timeout_ms)
                .with_producer_id(ProducerId(pid))
                .with_producer_epoch(epoch),
        ),
    }
}

/// EndTxn: commit or abort.
pub(super) fn end_txn(transactional_id: &str, id: ProducerIdAndEpoch, commit: bool) -> Action {
    Action::Send {
        target: Target::TransactionCoordinator,
        request: Request::EndTxn(
            EndTxnRequest::default()
                .with_transactional_id(tid(transactional_id))
                .with_producer_id(ProducerId(id.producer_id))
                .with_producer_epoch(id.epoch)
                .with_committed(commit),
        ),
    }
}

/// AddPartitionsToTxn (v3 and below: one transaction per request) for `pending`.
pub(super) fn add_partitions(
    transactional_id: &str,
    id: ProducerIdAndEpoch,
    pending: &PartitionSet,
) -> Action {
    let topics: Vec<AddPartitionsToTxnTopic> = pending
        .sorted()
        .into_iter()
        .map(|(t, ps)| {
            AddPartitionsToTxnTopic::default()
                .with_name(tname(t))
                .with_partitions(ps)
        })
        .collect();
    Action::Send {
        target: Target::TransactionCoordinator,
        request: Request::AddPartitionsToTxn(
            AddPartitionsToTxnRequest::default()
                .with_v3_and_below_transactional_id(tid(transactional_id))
                .with_v3_and_below_producer_id(ProducerId(id.producer_id))
                .with_v3_and_below_producer_epoch(id.epoch)
                .with_v3_and_below_topics(topics),
        ),
    }
}

fn tname(s: &str) -> TopicName {
    TopicName(StrBytes::from_string(s.to_string()))
}

/// AddOffsetsToTxn to the transaction coordinator, then (once answered) TxnOffsetCommit to
/// the group coordinator.
pub(super) fn offsets(transactional_id: &str, id: ProducerIdAndEpoch, o: &Offsets) -> Action {
    let tid = tid(transactional_id);
    if !o.added {
        return Action::Send {
            target: Target::TransactionCoordinator,
            request: Request::AddOffsetsToTxn(
                AddOffsetsToTxnRequest::default()
                    .with_transactional_id(tid)
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
                .with_transactional_id(tid)
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
