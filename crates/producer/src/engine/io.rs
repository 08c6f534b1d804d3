//! The core's inputs and outputs: actions for the driver, requests and their answers,
//! finished batches.

use std::sync::Arc;

use kafka_protocol::messages::{
    AddOffsetsToTxnRequest, AddOffsetsToTxnResponse, AddPartitionsToTxnRequest,
    AddPartitionsToTxnResponse, EndTxnRequest, EndTxnResponse, InitProducerIdRequest,
    InitProducerIdResponse, TxnOffsetCommitRequest, TxnOffsetCommitResponse,
};
use rafka_client::metadata::{BrokerInfo, LeaderHint};
use rafka_client::Error as ClientError;

use crate::accumulator::ProducerBatch;
use crate::delivery::BatchAck;
use crate::error::ProduceError;

/// Where a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// Any broker (InitProducerId of an idempotent producer).
    Any,
    /// The coordinator of the producer's `transactional.id`.
    TransactionCoordinator,
    /// The coordinator of this consumer group (TxnOffsetCommit).
    Group(String),
}

/// A request other than Produce, ready to send.
#[derive(Debug, Clone)]
pub(crate) enum Request {
    InitProducerId(InitProducerIdRequest),
    AddPartitionsToTxn(AddPartitionsToTxnRequest),
    AddOffsetsToTxn(AddOffsetsToTxnRequest),
    TxnOffsetCommit(TxnOffsetCommitRequest),
    EndTxn(EndTxnRequest),
}

/// The answer to a [`Request`], or the client's failure to get one.
#[derive(Debug)]
pub(crate) enum Response {
    InitProducerId(Result<InitProducerIdResponse, ClientError>),
    AddPartitionsToTxn(Result<AddPartitionsToTxnResponse, ClientError>),
    AddOffsetsToTxn(Result<AddOffsetsToTxnResponse, ClientError>),
    TxnOffsetCommit(Result<TxnOffsetCommitResponse, ClientError>),
    EndTxn(Result<EndTxnResponse, ClientError>),
}

/// Something for the driver to do.
pub(crate) enum Action {
    /// Encode these batches (at most one per partition) into one ProduceRequest to `node`;
    /// answer with [`ProducerCore::handle_produce`].
    Produce {
        node: i32,
        batches: Vec<ProducerBatch>,
    },
    /// Send a request; answer with [`ProducerCore::handle_response`].
    Send { target: Target, request: Request },
    /// Leaders of these topics are unknown: refresh their metadata.
    RefreshMetadata { topics: Vec<Arc<str>> },
    /// A broker said our metadata is stale.
    InvalidateMetadata,
    /// A broker said our metadata is stale and named the partition's new leader (KIP-951):
    /// apply the hint to the cached metadata, or invalidate it when the hint is not newer.
    LeaderHint {
        hint: LeaderHint,
        /// The brokers the response listed (`NodeEndpoints`), so a new leader can be reached.
        endpoints: Vec<BrokerInfo>,
    },
    /// The coordinator moved: look it up again before the next request.
    InvalidateCoordinator(Target),
}

/// A batch is finished: the driver releases its `buffer.memory`, counts it, runs the
/// interceptors and completes its records.
pub(crate) struct BatchDone {
    pub batch: ProducerBatch,
    pub result: Result<BatchAck, ProduceError>,
}
