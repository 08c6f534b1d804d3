//! [`Error`]: the one error type of rafka-client, with the context a reader of a log needs
//! (which broker, which API at which version, which topic and partition).
//!
//! Whether an error is worth retrying comes from one place: Kafka's error-code table in
//! [`rafka_wire::error_code::ErrorCode`] for broker errors, and the transport rules below for
//! everything else.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use rafka_wire::error_code::ErrorCode;
use rafka_wire::WireError;

use crate::config::ConfigError;
use crate::sasl::SaslError;

/// A broker as errors name it: node id (negative for bootstrap addresses) and address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BrokerRef {
    /// Node id from Metadata; bootstrap entries use -1, -2, ... as Java does.
    pub node_id: i32,
    /// `host:port` connected to.
    pub addr: String,
}

impl fmt::Display for BrokerRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "broker {} ({})", self.node_id, self.addr)
    }
}

/// An API call as errors name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiRef {
    /// The API's name, e.g. `Fetch`.
    pub name: &'static str,
    /// The version used.
    pub version: i16,
}

impl fmt::Display for ApiRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} v{}", self.name, self.version)
    }
}

/// Who is at fault for an [`Error`], and so who can fix it: the grouping of
/// [`Error::fault`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fault {
    /// The network or a broker process: refused or lost connections, timeouts. Retriable.
    Network,
    /// The cluster's current state: a topic, partition, leader or broker not (yet) known, or a
    /// retriable broker error code (NOT_LEADER_OR_FOLLOWER, COORDINATOR_LOAD_IN_PROGRESS, ...).
    /// Usually passes on its own.
    Cluster,
    /// The request as the application made it: a broker error code that no retry fixes
    /// (MESSAGE_TOO_LARGE, INVALID_TOPIC_EXCEPTION, PRODUCER_FENCED, ...).
    Request,
    /// Credentials or permissions: SASL failures, TLS handshake refusals, authorization codes.
    Security,
    /// The client's configuration: invalid settings, unreadable key or certificate files.
    Configuration,
    /// The broker broke the protocol, or speaks no version rafka does: malformed responses,
    /// no common API version.
    Protocol,
    /// The client itself was closed.
    Closed,
}

/// Everything that can go wrong talking to a Kafka cluster.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Connecting failed or the connection broke; every request in flight on it gets the same
    /// `Arc`'d I/O error.
    #[error("I/O error on {broker}: {source}")]
    Io {
        /// The broker.
        broker: BrokerRef,
        /// The cause, shared by every waiter.
        #[source]
        source: Arc<io::Error>,
    },
    /// The broker closed the connection (EOF) while requests were in flight, or the connection
    /// was closed by rafka.
    #[error("connection to {broker} closed{}", api.map(|a| format!(" during {a}")).unwrap_or_default())]
    ConnectionClosed {
        /// The broker.
        broker: BrokerRef,
        /// The request that was waiting, when known.
        api: Option<ApiRef>,
    },
    /// No response within `request.timeout.ms`, or the connection was not set up within
    /// `socket.connection.setup.timeout.ms`.
    #[error("{what} timed out after {after:?} on {broker}")]
    Timeout {
        /// The broker.
        broker: BrokerRef,
        /// What timed out: an API (`Metadata v12`) or `connect`.
        what: String,
        /// The timeout that elapsed.
        after: Duration,
    },
    /// An operation with retries ran out of time (`default.api.timeout.ms`); holds the last
    /// error seen.
    #[error("{operation} did not complete within {after:?}; last error: {last}")]
    DeadlineExceeded {
        /// What was attempted.
        operation: String,
        /// The deadline that passed.
        after: Duration,
        /// The last failure.
        last: Box<Error>,
    },
    /// The broker answered with an error code.
    #[error("{api}: {code}{}{}{}", message.as_ref().map(|m| format!(" ({m})")).unwrap_or_default(), topic.as_ref().map(|t| format!(" topic {t}")).unwrap_or_default(), partition.map(|p| format!(" partition {p}")).unwrap_or_default())]
    Broker {
        /// The error code.
        code: ErrorCode,
        /// The error message the broker sent, if any.
        message: Option<String>,
        /// The API whose response carried it.
        api: &'static str,
        /// The topic concerned, when the error is per topic.
        topic: Option<String>,
        /// The partition concerned, when the error is per partition.
        partition: Option<i32>,
    },
    /// Encoding a request or decoding a response failed.
    #[error("{broker}: {source}")]
    Wire {
        /// The broker.
        broker: BrokerRef,
        /// The codec error.
        #[source]
        source: WireError,
    },
    /// rafka and the broker share no version of an API, or the broker lacks it (KIP-35).
    #[error("{broker}: {source}")]
    NoCommonVersion {
        /// The broker.
        broker: BrokerRef,
        /// [`WireError::NoCommonVersion`] or [`WireError::UnsupportedApi`].
        #[source]
        source: WireError,
    },
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// SASL authentication failed.
    #[error("SASL with {broker}: {source}")]
    Sasl {
        /// The broker.
        broker: BrokerRef,
        /// What failed.
        #[source]
        source: SaslError,
    },
    /// TLS setup or handshake failed.
    #[error("TLS{}: {message}", broker.as_ref().map(|b| format!(" with {b}")).unwrap_or_default())]
    Tls {
        /// The broker, once connecting.
        broker: Option<BrokerRef>,
        /// What rustls or the PEM loader said.
        message: String,
    },
    /// The topic or partition is not in the cluster metadata.
    #[error("unknown topic or partition {topic}{}", partition.map(|p| format!("-{p}")).unwrap_or_default())]
    UnknownTopicOrPartition {
        /// The topic.
        topic: String,
        /// The partition, when a specific one was asked for.
        partition: Option<i32>,
    },
    /// The partition exists but has no leader right now (election in progress).
    #[error("no leader for {topic}-{partition}")]
    LeaderNotAvailable {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
    },
    /// A node id that the metadata does not list.
    #[error("unknown broker {node_id}")]
    UnknownBroker {
        /// The node id.
        node_id: i32,
    },
    /// The client was shut down.
    #[error("client closed")]
    ClientClosed,
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A broker error without topic context.
    pub fn broker(code: ErrorCode, message: Option<String>, api: &'static str) -> Self {
        Error::Broker {
            code,
            message,
            api,
            topic: None,
            partition: None,
        }
    }

    /// Checks an error code from a response: `Ok` for `NONE`, else [`Error::Broker`].
    ///
    /// # Errors
    /// [`Error::Broker`] with the code, message and context.
    pub fn check(
        code: i16,
        message: Option<&str>,
        api: &'static str,
        topic: Option<&str>,
        partition: Option<i32>,
    ) -> Result<()> {
        let code = ErrorCode(code);
        if code.is_ok() {
            return Ok(());
        }
        Err(Error::Broker {
            code,
            message: message.map(str::to_string),
            api,
            topic: topic.map(str::to_string),
            partition,
        })
    }

    /// True when the same request may succeed if tried again later: broker codes per Kafka's
    /// table, lost connections and timeouts, metadata gaps. Non-retriable: configuration, SASL,
    /// TLS, version mismatches, codec errors.
    pub fn is_retriable(&self) -> bool {
        match self {
            Error::Io { .. } | Error::ConnectionClosed { .. } | Error::Timeout { .. } => true,
            Error::Broker { code, .. } => code.is_retriable(),
            Error::UnknownTopicOrPartition { .. }
            | Error::LeaderNotAvailable { .. }
            | Error::UnknownBroker { .. } => true,
            _ => false,
        }
    }

    /// Who is at fault ([`Fault`]). A [`Error::DeadlineExceeded`] takes its last error's fault.
    pub fn fault(&self) -> Fault {
        match self {
            Error::Io { .. } | Error::ConnectionClosed { .. } | Error::Timeout { .. } => {
                Fault::Network
            }
            Error::DeadlineExceeded { last, .. } => last.fault(),
            Error::Broker { code, .. } if code.is_security() => Fault::Security,
            Error::Broker { code, .. } if code.is_retriable() => Fault::Cluster,
            Error::Broker { .. } => Fault::Request,
            Error::Wire { .. } | Error::NoCommonVersion { .. } => Fault::Protocol,
            Error::Config(_) => Fault::Configuration,
            Error::Sasl { .. } | Error::Tls { .. } => Fault::Security,
            Error::UnknownTopicOrPartition { .. }
            | Error::LeaderNotAvailable { .. }
            | Error::UnknownBroker { .. } => Fault::Cluster,
            Error::ClientClosed => Fault::Closed,
        }
    }

    /// The broker error code, if this is a broker error.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Error::Broker { code, .. } => Some(*code),
            Error::DeadlineExceeded { last, .. } => last.code(),
            _ => None,
        }
    }

    /// True when the cached metadata is probably out of date and should be refreshed before a
    /// retry (Java's `InvalidMetadataException` family, plus lost connections).
    pub fn invalidates_metadata(&self) -> bool {
        match self {
            Error::Io { .. } | Error::ConnectionClosed { .. } => true,
            Error::UnknownTopicOrPartition { .. }
            | Error::LeaderNotAvailable { .. }
            | Error::UnknownBroker { .. } => true,
            Error::Broker { code, .. } => matches!(
                *code,
                ErrorCode::NOT_LEADER_OR_FOLLOWER
                    | ErrorCode::UNKNOWN_TOPIC_OR_PARTITION
                    | ErrorCode::LEADER_NOT_AVAILABLE
                    | ErrorCode::FENCED_LEADER_EPOCH
                    | ErrorCode::UNKNOWN_LEADER_EPOCH
                    | ErrorCode::NOT_CONTROLLER
                    | ErrorCode::BROKER_NOT_AVAILABLE
                    | ErrorCode::REPLICA_NOT_AVAILABLE
                    | ErrorCode::UNKNOWN_TOPIC_ID
                    | ErrorCode::INCONSISTENT_TOPIC_ID
                    | ErrorCode::KAFKA_STORAGE_ERROR
            ),
            _ => false,
        }
    }

    /// True when a cached group or transaction coordinator must be looked up again.
    pub fn invalidates_coordinator(&self) -> bool {
        match self {
            Error::Io { .. } | Error::ConnectionClosed { .. } | Error::Timeout { .. } => true,
            Error::Broker { code, .. } => matches!(
                *code,
                ErrorCode::NOT_COORDINATOR | ErrorCode::COORDINATOR_NOT_AVAILABLE
            ),
            _ => false,
        }
    }

    /// The broker concerned, for transport errors.
    pub fn broker_ref(&self) -> Option<&BrokerRef> {
        match self {
            Error::Io { broker, .. }
            | Error::ConnectionClosed { broker, .. }
            | Error::Timeout { broker, .. }
            | Error::Wire { broker, .. }
            | Error::NoCommonVersion { broker, .. }
            | Error::Sasl { broker, .. } => Some(broker),
            Error::Tls { broker, .. } => broker.as_ref(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b() -> BrokerRef {
        BrokerRef {
            node_id: 1,
            addr: "h:9092".into(),
        }
    }

    #[test]
    fn retriable_follows_the_code_table() {
        let e = Error::broker(ErrorCode::NOT_LEADER_OR_FOLLOWER, None, "Produce");
        assert!(e.is_retriable());
        assert!(e.invalidates_metadata());
        let e = Error::broker(ErrorCode::TOPIC_AUTHORIZATION_FAILED, None, "Produce");
        assert!(!e.is_retriable());
        assert!(!e.invalidates_metadata());
        let e = Error::broker(ErrorCode::NOT_COORDINATOR, None, "Heartbeat");
        assert!(e.is_retriable() && e.invalidates_coordinator());
    }

    #[test]
    fn transport_errors_are_retriable_and_shared() {
        let io = Arc::new(io::Error::new(io::ErrorKind::ConnectionReset, "reset"));
        let e = Error::Io {
            broker: b(),
            source: io.clone(),
        };
        let e2 = e.clone();
        assert!(e.is_retriable() && e.invalidates_metadata());
        assert_eq!(e.to_string(), "I/O error on broker 1 (h:9092): reset");
        assert!(matches!(e2, Error::Io { source, .. } if Arc::ptr_eq(&source, &io)));
        assert!(!Error::Config(ConfigError::Missing { key: "x" }).is_retriable());
    }

    #[test]
    fn check_gives_context() {
        assert!(Error::check(0, None, "Fetch", Some("t"), Some(3)).is_ok());
        let e = Error::check(6, Some("moved"), "Fetch", Some("t"), Some(3)).unwrap_err();
        assert_eq!(e.code(), Some(ErrorCode::NOT_LEADER_OR_FOLLOWER));
        let s = e.to_string();
        assert!(
            s.contains("Fetch")
                && s.contains("moved")
                && s.contains("topic t")
                && s.contains("partition 3"),
            "{s}"
        );
    }

    #[test]
    fn faults_say_who_can_fix_it() {
        let broker = |code| Error::broker(code, None, "Produce");
        assert_eq!(
            broker(ErrorCode::NOT_LEADER_OR_FOLLOWER).fault(),
            Fault::Cluster
        );
        assert_eq!(broker(ErrorCode::MESSAGE_TOO_LARGE).fault(), Fault::Request);
        assert_eq!(
            broker(ErrorCode::TOPIC_AUTHORIZATION_FAILED).fault(),
            Fault::Security
        );
        assert_eq!(
            broker(ErrorCode::SASL_AUTHENTICATION_FAILED).fault(),
            Fault::Security
        );
        let timeout = Error::Timeout {
            broker: b(),
            what: "Fetch".into(),
            after: Duration::from_secs(1),
        };
        assert_eq!(timeout.fault(), Fault::Network);
        let deadline = Error::DeadlineExceeded {
            operation: "Metadata".into(),
            after: Duration::from_secs(60),
            last: Box::new(broker(ErrorCode::GROUP_AUTHORIZATION_FAILED)),
        };
        assert_eq!(deadline.fault(), Fault::Security);
        assert_eq!(
            Error::Config(ConfigError::Missing {
                key: "bootstrap.servers"
            })
            .fault(),
            Fault::Configuration
        );
        assert_eq!(Error::ClientClosed.fault(), Fault::Closed);
        assert_eq!(
            Error::LeaderNotAvailable {
                topic: "t".into(),
                partition: 0
            }
            .fault(),
            Fault::Cluster
        );
    }
}
