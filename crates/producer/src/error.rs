//! The producer's error type, grouped by who is at fault (as rustls groups its errors):
//!
//! - the caller: [`ProduceError::RecordTooLarge`], [`ProduceError::InvalidPartition`],
//!   [`ProduceError::Config`], [`ProduceError::Transaction`] with a [`TransactionError`] that
//!   names a call made in the wrong state;
//! - time: [`ProduceError::MaxBlockTimeout`], [`ProduceError::DeliveryTimeout`];
//! - the broker: [`ProduceError::Broker`] (a batch or a producer-level request refused, with
//!   topic, partition and error code), [`ProduceError::Fenced`], and
//!   [`TransactionError::Coordinator`];
//! - the network and the client underneath: [`ProduceError::Client`] (the typed
//!   [`rafka_client::Error`], with its broker and API), [`ProduceError::Authentication`];
//! - rafka itself: [`ProduceError::Encode`];
//! - the producer's own lifecycle: [`ProduceError::Closed`], [`ProduceError::Aborted`].
//!
//! [`ProduceError::is_retriable`] follows `rafka_wire`'s error-code table for every error
//! that carries a code.

use std::sync::Arc;

use rafka_wire::error_code::ErrorCode;
use rafka_wire::WireError;

use crate::config::ConfigError;

/// Why a record (or a producer call) failed. Cloneable because one failure is shared by every
/// record of a batch.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ProduceError {
    /// The record alone is larger than `max.request.size` or `buffer.memory` (bytes); it is
    /// refused at `send` without waiting.
    #[error("record of {size} bytes is larger than {setting} ({max} bytes)")]
    RecordTooLarge {
        /// Encoded record size in bytes (with batch overhead).
        size: usize,
        /// The limit in bytes.
        max: usize,
        /// `max.request.size` or `buffer.memory`.
        setting: &'static str,
    },
    /// `send` waited `max.block.ms` for buffer memory or for topic metadata.
    #[error("waited max.block.ms ({waited_ms} ms) for {what}")]
    MaxBlockTimeout {
        /// `buffer memory` or `metadata of topic X`.
        what: String,
        /// The wait in ms.
        waited_ms: u64,
    },
    /// The record was not acknowledged within `delivery.timeout.ms`.
    #[error("record for {topic}-{partition} expired after delivery.timeout.ms ({timeout_ms} ms)")]
    DeliveryTimeout {
        /// Topic name.
        topic: Arc<str>,
        /// Partition index.
        partition: i32,
        /// The configured timeout in ms.
        timeout_ms: u64,
    },
    /// The broker refused the batch with a non-retriable error, or retries ran out; or, with
    /// partition -1 and no topic, refused a producer-level request (InitProducerId), which
    /// `message` names.
    #[error("{}", broker_refusal(topic, *partition, code, message.as_deref()))]
    Broker {
        /// Topic name ("" for a producer-level request).
        topic: Arc<str>,
        /// Partition index (-1 for a producer-level request).
        partition: i32,
        /// The Kafka error code.
        code: ErrorCode,
        /// The broker's error message, when it sent one.
        message: Option<String>,
    },
    /// The chosen or given partition does not exist.
    #[error("partition {partition} of topic {topic} does not exist ({num_partitions} partitions)")]
    InvalidPartition {
        /// Topic name.
        topic: String,
        /// The partition asked for.
        partition: i32,
        /// Partitions the topic has.
        num_partitions: i32,
    },
    /// Another producer with the same `transactional.id` (or a newer epoch) took over:
    /// PRODUCER_FENCED or INVALID_PRODUCER_EPOCH (KIP-98, KIP-588). The producer must be
    /// closed.
    #[error("producer fenced: {0}")]
    Fenced(ErrorCode),
    /// A transactional call was made in the wrong state, the transaction failed and must be
    /// aborted, or its coordinator refused a request.
    #[error("transaction error: {0}")]
    Transaction(TransactionError),
    /// The producer is closed, or closed before the record could be delivered.
    #[error("producer closed")]
    Closed,
    /// The batch was aborted with its transaction before it was sent.
    #[error("batch aborted: transaction aborted")]
    Aborted,
    /// The connection or request layer failed: the client's error names the broker and the
    /// API.
    #[error("client error: {0}")]
    Client(rafka_client::Error),
    /// A batch could not be encoded (a codec failed): a defect, not retried.
    #[error("cannot encode batch for {topic}-{partition}: {source}")]
    Encode {
        /// Topic name.
        topic: Arc<str>,
        /// Partition index.
        partition: i32,
        /// The codec's error.
        #[source]
        source: WireError,
    },
    /// SASL or TLS with a broker failed (Java's `AuthenticationException` and
    /// `SslAuthenticationException`): wrong credentials, an unknown user, an untrusted
    /// certificate. Not retriable; holds the client's [`rafka_client::Error::Sasl`] or
    /// [`rafka_client::Error::Tls`].
    #[error("authentication error: {0}")]
    Authentication(#[source] rafka_client::Error),
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// Why a transactional call failed (Java's `IllegalStateException`,
/// `KafkaException` from the `TransactionManager`).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TransactionError {
    /// The producer has no `transactional.id`.
    #[error("transactional.id is not set on this producer")]
    NotTransactional,
    /// `call` is not allowed in the transaction's current `state` (for example `send`
    /// before `begin_transaction`, or two calls at once).
    #[error("{call} in state {state}")]
    WrongState {
        /// The call refused: `send`, `begin_transaction`, `commit_transaction`, ...
        call: &'static str,
        /// The state the transaction was in.
        state: &'static str,
    },
    /// A record or request of the transaction failed: only `abort_transaction` is allowed.
    #[error("transaction must be aborted: {0}")]
    MustAbort(Box<ProduceError>),
    /// The transaction hit an unrecoverable error earlier; the producer must be closed.
    #[error("transaction failed fatally: {0}")]
    Fatal(Box<ProduceError>),
    /// The transaction (or group) coordinator refused `api` with `code` after retries.
    #[error("{api} failed: {code}")]
    Coordinator {
        /// The request: `InitProducerId`, `AddPartitionsToTxn`, `AddOffsetsToTxn`,
        /// `TxnOffsetCommit` or `EndTxn`.
        api: &'static str,
        /// The Kafka error code.
        code: ErrorCode,
    },
}

impl From<TransactionError> for ProduceError {
    fn from(e: TransactionError) -> Self {
        ProduceError::Transaction(e)
    }
}

/// The text of [`ProduceError::Broker`].
fn broker_refusal(topic: &str, partition: i32, code: &ErrorCode, message: Option<&str>) -> String {
    match message {
        Some(request) if partition < 0 && topic.is_empty() => {
            format!("broker refused {request}: {code}")
        }
        Some(m) => format!("broker refused the batch for {topic}-{partition}: {code} ({m})"),
        None => format!("broker refused the batch for {topic}-{partition}: {code}"),
    }
}

impl ProduceError {
    /// Whether a later attempt may succeed (as Kafka's `RetriableException`): a broker or
    /// coordinator code retriable in `rafka_wire`'s error-code table, a retriable client
    /// error (lost connection, request timeout), or a timeout.
    pub fn is_retriable(&self) -> bool {
        match self {
            ProduceError::Broker { code, .. } => code.is_retriable(),
            ProduceError::Transaction(TransactionError::Coordinator { code, .. }) => {
                code.is_retriable()
            }
            ProduceError::Client(e) => e.is_retriable(),
            ProduceError::DeliveryTimeout { .. } | ProduceError::MaxBlockTimeout { .. } => true,
            _ => false,
        }
    }
}

#[cfg(test)]
mod display_tests {
    use super::*;

    #[test]
    fn broker_refusals_name_the_batch_or_the_request() {
        let batch = ProduceError::Broker {
            topic: "orders".into(),
            partition: 3,
            code: ErrorCode::MESSAGE_TOO_LARGE,
            message: None,
        };
        assert_eq!(
            batch.to_string(),
            format!(
                "broker refused the batch for orders-3: {}",
                ErrorCode::MESSAGE_TOO_LARGE
            )
        );
        let request = ProduceError::Broker {
            topic: "".into(),
            partition: -1,
            code: ErrorCode::COORDINATOR_LOAD_IN_PROGRESS,
            message: Some("InitProducerId".into()),
        };
        assert_eq!(
            request.to_string(),
            format!(
                "broker refused InitProducerId: {}",
                ErrorCode::COORDINATOR_LOAD_IN_PROGRESS
            )
        );
        assert!(request.is_retriable());
    }

    #[test]
    fn retriability_follows_the_error_code_table() {
        let coord = |code| {
            ProduceError::Transaction(TransactionError::Coordinator {
                api: "EndTxn",
                code,
            })
        };
        assert!(coord(ErrorCode::COORDINATOR_LOAD_IN_PROGRESS).is_retriable());
        assert!(!coord(ErrorCode::INVALID_TXN_STATE).is_retriable());
        assert!(!ProduceError::Fenced(ErrorCode::PRODUCER_FENCED).is_retriable());
        assert!(
            ProduceError::Client(rafka_client::Error::UnknownBroker { node_id: 3 }).is_retriable()
        );
        assert!(!ProduceError::Client(rafka_client::Error::ClientClosed).is_retriable());
    }
}
