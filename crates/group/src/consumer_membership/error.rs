//! [`ConsumerGroupError`]: what can go wrong for the KIP-848 member.

use kafka_protocol::error::ResponseError;

use crate::membership::GroupError;

/// Java `AbstractHeartbeatRequestManager.CONSUMER_PROTOCOL_NOT_SUPPORTED_MSG`.
pub const CONSUMER_PROTOCOL_NOT_SUPPORTED_MSG: &str = "The cluster does not support the new \
    CONSUMER group protocol. Set group.protocol=classic on the consumer configs to revert to \
    the CLASSIC protocol until the cluster is upgraded.";

/// Failures of the KIP-848 member.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConsumerGroupError {
    /// ConsumerGroupHeartbeat answered with an error code.
    #[error("ConsumerGroupHeartbeat failed: {error}{}", message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Heartbeat {
        /// The Kafka error.
        error: ResponseError,
        /// The broker's `ErrorMessage`, if any.
        message: Option<String>,
    },
    /// The broker does not support ConsumerGroupHeartbeat (no KIP-848, or an old version).
    #[error("{CONSUMER_PROTOCOL_NOT_SUPPORTED_MSG}")]
    ProtocolNotSupported,
    /// A regex subscription needs ConsumerGroupHeartbeat v1 (Java
    /// `REGEX_RESOLUTION_NOT_SUPPORTED_MSG`).
    #[error("the broker does not support regular expressions resolved by the broker (ConsumerGroupHeartbeat v1); upgrade the cluster")]
    RegexNotSupported,
    /// FindCoordinator failed.
    #[error(transparent)]
    Coordinator(#[from] GroupError),
}

impl ConsumerGroupError {
    pub(crate) fn heartbeat(code: i16, message: Option<String>) -> ConsumerGroupError {
        ConsumerGroupError::Heartbeat {
            error: ResponseError::try_from_code(code).unwrap_or(ResponseError::Unknown(code)),
            message,
        }
    }

    /// The Kafka error code, when the broker gave one.
    pub fn code(&self) -> Option<i16> {
        match self {
            ConsumerGroupError::Heartbeat { error, .. } => Some(error.code()),
            ConsumerGroupError::ProtocolNotSupported | ConsumerGroupError::RegexNotSupported => {
                Some(35)
            }
            ConsumerGroupError::Coordinator(e) => e.code(),
        }
    }
}
