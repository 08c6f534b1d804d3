//! The producer's error type.

use std::sync::Arc;

use rafka_wire::error_code::ErrorCode;

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
    /// A transactional call was made in the wrong state, or the transaction failed and must
    /// be aborted.
    #[error("transaction error: {0}")]
    Transaction(String),
    /// The producer is closed, or closed before the record could be delivered.
    #[error("producer closed")]
    Closed,
    /// The batch was aborted (transaction abort, or `close` with a zero timeout).
    #[error("batch aborted: {0}")]
    Aborted(String),
    /// The connection or request layer failed.
    #[error("client error: {0}")]
    Client(String),
    /// SASL or TLS with a broker failed (Java's `AuthenticationException` and
    /// `SslAuthenticationException`): wrong credentials, an unknown user, an untrusted
    /// certificate. Not retriable; holds the client error's message.
    #[error("authentication error: {0}")]
    Authentication(String),
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
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
    /// Whether a later attempt may succeed (as Kafka's `RetriableException`).
    pub fn is_retriable(&self) -> bool {
        match self {
            ProduceError::Broker { code, .. } => code.is_retriable(),
            ProduceError::DeliveryTimeout { .. }
            | ProduceError::MaxBlockTimeout { .. }
            | ProduceError::Client(_) => true,
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
}
