//! The Kafka broker error-code table and [`BrokerError`].
//!
//! Every error code a broker can put in a response, from `-1` (`UNKNOWN_SERVER_ERROR`) to the
//! newest in Apache Kafka's `Errors.java`, with Kafka's names. One static table drives
//! [`ErrorCode::name`], [`ErrorCode::is_retriable`] and [`ErrorCode::description`], so the
//! retry policy of every crate comes from the same place.
//!
//! Retriable means what it means in the Java client: the code maps to a subclass of
//! `org.apache.kafka.common.errors.RetriableException` (including `InvalidMetadataException`),
//! i.e. the same request may succeed if sent again, possibly after a metadata refresh.
//! Codes this table does not know are reported as `UNKNOWN` and are not retriable, which is
//! what the Java client does with codes newer than itself.
//!
//! Source: the "Error Codes" section of the Kafka protocol guide
//! (<https://kafka.apache.org/protocol#protocol_error_codes>).

use std::fmt;

/// A Kafka error code as carried in a response (`error_code: int16`).
///
/// The associated constants carry Kafka's names (`ErrorCode::NOT_LEADER_OR_FOLLOWER`); any
/// `i16` is representable, including codes newer than this table.
#[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ErrorCode(pub i16);

/// One row of the table.
struct Entry {
    code: i16,
    name: &'static str,
    retriable: bool,
    description: &'static str,
}

macro_rules! error_codes {
    ($(($code:expr, $name:ident, $retriable:expr, $desc:expr),)*) => {
        impl ErrorCode {
            $(
                #[doc = $desc]
                pub const $name: ErrorCode = ErrorCode($code);
            )*
        }

        /// Sorted by code and contiguous from -1, so a lookup is one index (checked by a test).
        static TABLE: &[Entry] = &[
            $(Entry { code: $code, name: stringify!($name), retriable: $retriable, description: $desc },)*
        ];
    };
}

error_codes! {
    (-1, UNKNOWN_SERVER_ERROR, false, "The broker hit an unexpected error while handling the request."),
    (0, NONE, false, "No error."),
    (1, OFFSET_OUT_OF_RANGE, false, "The requested offset is outside the range the broker holds for the partition."),
    (2, CORRUPT_MESSAGE, true, "A record failed its CRC check, is too large, or is otherwise corrupt."),
    (3, UNKNOWN_TOPIC_OR_PARTITION, true, "The broker does not host this topic-partition."),
    (4, INVALID_FETCH_SIZE, false, "The fetch size in the request is invalid."),
    (5, LEADER_NOT_AVAILABLE, true, "The partition has no leader right now (an election is in progress)."),
    (6, NOT_LEADER_OR_FOLLOWER, true, "The broker is not the leader (or not a replica) of the partition."),
    (7, REQUEST_TIMED_OUT, true, "The request timed out on the broker."),
    (8, BROKER_NOT_AVAILABLE, false, "The broker is not available."),
    (9, REPLICA_NOT_AVAILABLE, true, "The replica is not available for the partition."),
    (10, MESSAGE_TOO_LARGE, false, "A record or batch is larger than the broker accepts."),
    (11, STALE_CONTROLLER_EPOCH, false, "The controller moved to another broker."),
    (12, OFFSET_METADATA_TOO_LARGE, false, "The offset commit metadata string is too large."),
    (13, NETWORK_EXCEPTION, true, "The connection closed before a response arrived."),
    (14, COORDINATOR_LOAD_IN_PROGRESS, true, "The coordinator is still loading its state."),
    (15, COORDINATOR_NOT_AVAILABLE, true, "The coordinator is not available."),
    (16, NOT_COORDINATOR, true, "The broker is not the coordinator for this group or transactional id."),
    (17, INVALID_TOPIC_EXCEPTION, false, "The topic name is invalid or the topic is internal and cannot be used this way."),
    (18, RECORD_LIST_TOO_LARGE, false, "The batch is larger than the broker's segment size."),
    (19, NOT_ENOUGH_REPLICAS, true, "Fewer in-sync replicas than min.insync.replicas; the write was rejected."),
    (20, NOT_ENOUGH_REPLICAS_AFTER_APPEND, true, "The write was appended but to fewer in-sync replicas than required."),
    (21, INVALID_REQUIRED_ACKS, false, "The produce request's acks value is invalid."),
    (22, ILLEGAL_GENERATION, false, "The group generation id is not the current one."),
    (23, INCONSISTENT_GROUP_PROTOCOL, false, "The member's protocols do not match the group's."),
    (24, INVALID_GROUP_ID, false, "The group id is invalid."),
    (25, UNKNOWN_MEMBER_ID, false, "The coordinator does not know this member id."),
    (26, INVALID_SESSION_TIMEOUT, false, "The session timeout is outside the broker's allowed range."),
    (27, REBALANCE_IN_PROGRESS, false, "The group is rebalancing; the member must rejoin."),
    (28, INVALID_COMMIT_OFFSET_SIZE, false, "The committed offset data has an invalid size."),
    (29, TOPIC_AUTHORIZATION_FAILED, false, "Not authorized for the topic."),
    (30, GROUP_AUTHORIZATION_FAILED, false, "Not authorized for the group."),
    (31, CLUSTER_AUTHORIZATION_FAILED, false, "Not authorized for the cluster operation."),
    (32, INVALID_TIMESTAMP, false, "A record timestamp is outside the accepted range."),
    (33, UNSUPPORTED_SASL_MECHANISM, false, "The broker does not support the SASL mechanism."),
    (34, ILLEGAL_SASL_STATE, false, "The request is not valid in the current SASL state."),
    (35, UNSUPPORTED_VERSION, false, "The broker does not support this API version."),
    (36, TOPIC_ALREADY_EXISTS, false, "A topic with this name already exists."),
    (37, INVALID_PARTITIONS, false, "The partition count is invalid."),
    (38, INVALID_REPLICATION_FACTOR, false, "The replication factor is invalid for this cluster."),
    (39, INVALID_REPLICA_ASSIGNMENT, false, "The replica assignment is invalid."),
    (40, INVALID_CONFIG, false, "The configuration is invalid."),
    (41, NOT_CONTROLLER, true, "The broker is not the active controller."),
    (42, INVALID_REQUEST, false, "The request is malformed or not valid for this broker."),
    (43, UNSUPPORTED_FOR_MESSAGE_FORMAT, false, "The broker's message format does not support the request."),
    (44, POLICY_VIOLATION, false, "The request violates a configured broker policy."),
    (45, OUT_OF_ORDER_SEQUENCE_NUMBER, false, "The broker received a producer sequence number out of order."),
    (46, DUPLICATE_SEQUENCE_NUMBER, false, "The broker received a duplicate producer sequence number."),
    (47, INVALID_PRODUCER_EPOCH, false, "The producer epoch is older than the broker's."),
    (48, INVALID_TXN_STATE, false, "The transactional operation is not valid in the transaction's current state."),
    (49, INVALID_PRODUCER_ID_MAPPING, false, "The producer id is not assigned to this transactional id."),
    (50, INVALID_TRANSACTION_TIMEOUT, false, "The transaction timeout exceeds transaction.max.timeout.ms."),
    (51, CONCURRENT_TRANSACTIONS, true, "Another operation on the same transaction is still in progress."),
    (52, TRANSACTION_COORDINATOR_FENCED, false, "The transaction coordinator sending the marker is no longer current."),
    (53, TRANSACTIONAL_ID_AUTHORIZATION_FAILED, false, "Not authorized for the transactional id."),
    (54, SECURITY_DISABLED, false, "Security features are disabled on the broker."),
    (55, OPERATION_NOT_ATTEMPTED, false, "The broker skipped this operation because another in the batch failed."),
    (56, KAFKA_STORAGE_ERROR, true, "The broker hit a disk error on the log."),
    (57, LOG_DIR_NOT_FOUND, false, "The log directory is not in the broker's configuration."),
    (58, SASL_AUTHENTICATION_FAILED, false, "SASL authentication failed."),
    (59, UNKNOWN_PRODUCER_ID, false, "The broker has no state for this producer id (its records may have expired)."),
    (60, REASSIGNMENT_IN_PROGRESS, false, "A partition reassignment is in progress."),
    (61, DELEGATION_TOKEN_AUTH_DISABLED, false, "Delegation tokens are not enabled."),
    (62, DELEGATION_TOKEN_NOT_FOUND, false, "The delegation token does not exist."),
    (63, DELEGATION_TOKEN_OWNER_MISMATCH, false, "The principal is not the token's owner or renewer."),
    (64, DELEGATION_TOKEN_REQUEST_NOT_ALLOWED, false, "Delegation token requests are not allowed on this channel."),
    (65, DELEGATION_TOKEN_AUTHORIZATION_FAILED, false, "Not authorized for the delegation token."),
    (66, DELEGATION_TOKEN_EXPIRED, false, "The delegation token has expired."),
    (67, INVALID_PRINCIPAL_TYPE, false, "The principal type is not supported."),
    (68, NON_EMPTY_GROUP, false, "The group still has members."),
    (69, GROUP_ID_NOT_FOUND, false, "The group does not exist."),
    (70, FETCH_SESSION_ID_NOT_FOUND, true, "The fetch session id is unknown to the broker (KIP-227)."),
    (71, INVALID_FETCH_SESSION_EPOCH, true, "The fetch session epoch is not the expected one (KIP-227)."),
    (72, LISTENER_NOT_FOUND, true, "The leader has no listener matching the one the metadata came from."),
    (73, TOPIC_DELETION_DISABLED, false, "Topic deletion is disabled on the broker."),
    (74, FENCED_LEADER_EPOCH, true, "The request's leader epoch is older than the broker's."),
    (75, UNKNOWN_LEADER_EPOCH, true, "The request's leader epoch is newer than the broker's."),
    (76, UNSUPPORTED_COMPRESSION_TYPE, false, "The client does not support the partition's compression type."),
    (77, STALE_BROKER_EPOCH, false, "The broker epoch has changed."),
    (78, OFFSET_NOT_AVAILABLE, true, "The new leader's high watermark has not caught up yet."),
    (79, MEMBER_ID_REQUIRED, false, "The member must rejoin with the member id the coordinator assigned (KIP-394)."),
    (80, PREFERRED_LEADER_NOT_AVAILABLE, true, "The preferred leader is not available."),
    (81, GROUP_MAX_SIZE_REACHED, false, "The group has reached group.max.size."),
    (82, FENCED_INSTANCE_ID, false, "Another member registered with the same group.instance.id (KIP-345)."),
    (83, ELIGIBLE_LEADERS_NOT_AVAILABLE, true, "No eligible leader is available for the partition."),
    (84, ELECTION_NOT_NEEDED, true, "The partition does not need a leader election."),
    (85, NO_REASSIGNMENT_IN_PROGRESS, false, "No partition reassignment is in progress."),
    (86, GROUP_SUBSCRIBED_TO_TOPIC, false, "Offsets cannot be deleted while the group is subscribed to the topic."),
    (87, INVALID_RECORD, false, "The broker rejected a record that failed validation."),
    (88, UNSTABLE_OFFSET_COMMIT, true, "Pending transactional offsets must be resolved first."),
    (89, THROTTLING_QUOTA_EXCEEDED, true, "The request exceeded the throttling quota."),
    (90, PRODUCER_FENCED, false, "A newer producer with the same transactional id fenced this one."),
    (91, RESOURCE_NOT_FOUND, false, "The request referred to a resource that does not exist."),
    (92, DUPLICATE_RESOURCE, false, "The request referred to the same resource twice."),
    (93, UNACCEPTABLE_CREDENTIAL, false, "The credential does not meet the acceptance criteria."),
    (94, INCONSISTENT_VOTER_SET, false, "The sender or receiver of a voter request is not an expected voter."),
    (95, INVALID_UPDATE_VERSION, false, "The update version is invalid."),
    (96, FEATURE_UPDATE_FAILED, false, "The finalized features could not be updated."),
    (97, PRINCIPAL_DESERIALIZATION_FAILURE, false, "The forwarded request's principal could not be deserialized."),
    (98, SNAPSHOT_NOT_FOUND, false, "The requested snapshot does not exist."),
    (99, POSITION_OUT_OF_RANGE, false, "The requested snapshot position is out of range."),
    (100, UNKNOWN_TOPIC_ID, true, "The broker does not host this topic id."),
    (101, DUPLICATE_BROKER_REGISTRATION, false, "The broker id is already registered."),
    (102, BROKER_ID_NOT_REGISTERED, false, "The broker id is not registered."),
    (103, INCONSISTENT_TOPIC_ID, true, "The log's topic id does not match the request's."),
    (104, INCONSISTENT_CLUSTER_ID, false, "The cluster id does not match the broker's."),
    (105, TRANSACTIONAL_ID_NOT_FOUND, false, "The transactional id does not exist."),
    (106, FETCH_SESSION_TOPIC_ID_ERROR, true, "The fetch session used topic ids inconsistently."),
    (107, INELIGIBLE_REPLICA, false, "The new ISR contains an ineligible replica."),
    (108, NEW_LEADER_ELECTED, false, "The partition state was updated but the leader changed."),
    (109, OFFSET_MOVED_TO_TIERED_STORAGE, false, "The requested offset now lives in tiered storage."),
    (110, FENCED_MEMBER_EPOCH, false, "The member epoch is fenced; the member must rejoin (KIP-848)."),
    (111, UNRELEASED_INSTANCE_ID, false, "The instance id is still held by another member (KIP-848)."),
    (112, UNSUPPORTED_ASSIGNOR, false, "The group does not support the assignor (KIP-848)."),
    (113, STALE_MEMBER_EPOCH, false, "The member epoch is stale (KIP-848)."),
    (114, MISMATCHED_ENDPOINT_TYPE, false, "The request was sent to the wrong kind of endpoint."),
    (115, UNSUPPORTED_ENDPOINT_TYPE, false, "This endpoint type is not supported."),
    (116, UNKNOWN_CONTROLLER_ID, false, "The controller id is unknown."),
    (117, UNKNOWN_SUBSCRIPTION_ID, false, "The telemetry subscription id is unknown or outdated (KIP-714)."),
    (118, TELEMETRY_TOO_LARGE, false, "The pushed telemetry is larger than the broker accepts (KIP-714)."),
    (119, INVALID_REGISTRATION, false, "The controller considers the broker registration invalid."),
    (120, TRANSACTION_ABORTABLE, false, "The transaction hit an error; aborting it lets the transactional id continue (KIP-890)."),
    (121, INVALID_RECORD_STATE, false, "The record state does not allow this acknowledgement (KIP-932)."),
    (122, SHARE_SESSION_NOT_FOUND, true, "The share session does not exist (KIP-932)."),
    (123, INVALID_SHARE_SESSION_EPOCH, true, "The share session epoch is invalid (KIP-932)."),
    (124, FENCED_STATE_EPOCH, false, "The share-group state epoch does not match (KIP-932)."),
    (125, INVALID_VOTER_KEY, false, "The voter key does not match the receiving replica's."),
    (126, DUPLICATE_VOTER, false, "The voter is already in the voter set."),
    (127, VOTER_NOT_FOUND, false, "The voter is not in the voter set."),
    (128, INVALID_REGULAR_EXPRESSION, false, "The regular expression is invalid."),
    (129, REBOOTSTRAP_REQUIRED, false, "The client's metadata is stale; it must rebootstrap (KIP-1102)."),
    (130, STREAMS_INVALID_TOPOLOGY, false, "The Streams topology is invalid (KIP-1071)."),
    (131, STREAMS_INVALID_TOPOLOGY_EPOCH, false, "The Streams topology epoch is invalid (KIP-1071)."),
    (132, STREAMS_TOPOLOGY_FENCED, false, "The Streams topology epoch is outdated (KIP-1071)."),
    (133, SHARE_SESSION_LIMIT_REACHED, true, "The broker's share session limit is reached (KIP-932)."),
}

/// The code of the first row of [`TABLE`]; row `i` holds code `FIRST_CODE + i`.
const FIRST_CODE: i16 = -1;

impl ErrorCode {
    fn entry(self) -> Option<&'static Entry> {
        let index = usize::try_from(i32::from(self.0) - i32::from(FIRST_CODE)).ok()?;
        TABLE.get(index).filter(|e| e.code == self.0)
    }

    /// Kafka's name for the code (`"NOT_LEADER_OR_FOLLOWER"`), or `"UNKNOWN"` for a code this
    /// table does not know.
    pub fn name(self) -> &'static str {
        self.entry().map_or("UNKNOWN", |e| e.name)
    }

    /// Whether the Java client treats the code as retriable (its exception extends
    /// `RetriableException`). Unknown codes are not retriable.
    pub fn is_retriable(self) -> bool {
        self.entry().is_some_and(|e| e.retriable)
    }

    /// A one-line description of the code, or a generic line for unknown codes.
    pub fn description(self) -> &'static str {
        self.entry()
            .map_or("An error code this client does not know.", |e| {
                e.description
            })
    }

    /// True for authentication and authorization failures: SASL_AUTHENTICATION_FAILED,
    /// UNSUPPORTED_SASL_MECHANISM, ILLEGAL_SASL_STATE and every `*_AUTHORIZATION_FAILED` code.
    pub fn is_security(self) -> bool {
        matches!(
            self,
            ErrorCode::TOPIC_AUTHORIZATION_FAILED
                | ErrorCode::GROUP_AUTHORIZATION_FAILED
                | ErrorCode::CLUSTER_AUTHORIZATION_FAILED
                | ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED
                | ErrorCode::DELEGATION_TOKEN_AUTHORIZATION_FAILED
                | ErrorCode::SASL_AUTHENTICATION_FAILED
                | ErrorCode::UNSUPPORTED_SASL_MECHANISM
                | ErrorCode::ILLEGAL_SASL_STATE
        )
    }

    /// Whether the code is `NONE` (0), i.e. success.
    pub fn is_ok(self) -> bool {
        self.0 == 0
    }

    /// Whether this table knows the code.
    pub fn is_known(self) -> bool {
        self.entry().is_some()
    }

    /// `Ok(())` for `NONE`, otherwise a [`BrokerError`] without a message.
    ///
    /// # Errors
    /// Returns [`BrokerError`] carrying this code when it is not `NONE`.
    pub fn into_result(self) -> Result<(), BrokerError> {
        if self.is_ok() {
            Ok(())
        } else {
            Err(BrokerError::new(self))
        }
    }

    /// Like [`ErrorCode::into_result`], attaching the broker's error message (many responses
    /// carry an `error_message` next to the code).
    ///
    /// # Errors
    /// Returns [`BrokerError`] carrying this code and message when the code is not `NONE`.
    pub fn into_result_with(self, message: Option<&str>) -> Result<(), BrokerError> {
        if self.is_ok() {
            Ok(())
        } else {
            Err(BrokerError {
                code: self,
                message: message.map(str::to_owned),
            })
        }
    }

    /// Every code the table knows, in ascending order.
    pub fn all() -> impl Iterator<Item = ErrorCode> {
        TABLE.iter().map(|e| ErrorCode(e.code))
    }
}

impl From<i16> for ErrorCode {
    fn from(code: i16) -> Self {
        ErrorCode(code)
    }
}

impl From<ErrorCode> for i16 {
    fn from(code: ErrorCode) -> Self {
        code.0
    }
}

impl fmt::Debug for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name(), self.0)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.0)
    }
}

/// A non-zero error code returned by a broker, with the optional message the response carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerError {
    /// The code from the response.
    pub code: ErrorCode,
    /// The response's `error_message` field, when it has one and it is not null.
    pub message: Option<String>,
}

impl BrokerError {
    /// A broker error without a message.
    pub fn new(code: ErrorCode) -> Self {
        BrokerError {
            code,
            message: None,
        }
    }

    /// A broker error with the response's message.
    pub fn with_message(code: ErrorCode, message: impl Into<String>) -> Self {
        BrokerError {
            code,
            message: Some(message.into()),
        }
    }

    /// Whether the request may succeed if retried (see [`ErrorCode::is_retriable`]).
    pub fn is_retriable(&self) -> bool {
        self.code.is_retriable()
    }
}

impl fmt::Display for BrokerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.code)?;
        match &self.message {
            Some(m) if !m.is_empty() => write!(f, "{m}"),
            _ => f.write_str(self.code.description()),
        }
    }
}

impl std::error::Error for BrokerError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_contiguous_and_sorted() {
        for (i, e) in TABLE.iter().enumerate() {
            assert_eq!(
                i32::from(e.code),
                i32::from(FIRST_CODE) + i as i32,
                "{}",
                e.name
            );
        }
        assert_eq!(TABLE.len(), 135);
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = TABLE.iter().map(|e| e.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TABLE.len());
    }

    #[test]
    fn codes_match_java() {
        // Values from Errors.java.
        assert_eq!(ErrorCode::UNKNOWN_SERVER_ERROR.0, -1);
        assert_eq!(ErrorCode::NONE.0, 0);
        assert_eq!(ErrorCode::NOT_LEADER_OR_FOLLOWER.0, 6);
        assert_eq!(ErrorCode::REBALANCE_IN_PROGRESS.0, 27);
        assert_eq!(ErrorCode::UNSUPPORTED_VERSION.0, 35);
        assert_eq!(ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER.0, 45);
        assert_eq!(ErrorCode::FETCH_SESSION_ID_NOT_FOUND.0, 70);
        assert_eq!(ErrorCode::MEMBER_ID_REQUIRED.0, 79);
        assert_eq!(ErrorCode::FENCED_INSTANCE_ID.0, 82);
        assert_eq!(ErrorCode::PRODUCER_FENCED.0, 90);
        assert_eq!(ErrorCode::UNKNOWN_TOPIC_ID.0, 100);
        assert_eq!(ErrorCode::TRANSACTION_ABORTABLE.0, 120);
        assert_eq!(ErrorCode::SHARE_SESSION_LIMIT_REACHED.0, 133);
    }

    #[test]
    fn retriable_follows_java_exception_hierarchy() {
        // RetriableException / InvalidMetadataException subclasses.
        for code in [
            ErrorCode::CORRUPT_MESSAGE,
            ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
            ErrorCode::LEADER_NOT_AVAILABLE,
            ErrorCode::NOT_LEADER_OR_FOLLOWER,
            ErrorCode::REQUEST_TIMED_OUT,
            ErrorCode::NETWORK_EXCEPTION,
            ErrorCode::COORDINATOR_LOAD_IN_PROGRESS,
            ErrorCode::COORDINATOR_NOT_AVAILABLE,
            ErrorCode::NOT_COORDINATOR,
            ErrorCode::NOT_ENOUGH_REPLICAS,
            ErrorCode::CONCURRENT_TRANSACTIONS,
            ErrorCode::KAFKA_STORAGE_ERROR,
            ErrorCode::FENCED_LEADER_EPOCH,
            ErrorCode::UNKNOWN_LEADER_EPOCH,
            ErrorCode::UNSTABLE_OFFSET_COMMIT,
            ErrorCode::THROTTLING_QUOTA_EXCEEDED,
        ] {
            assert!(code.is_retriable(), "{code}");
        }
        // Plain ApiException subclasses.
        for code in [
            ErrorCode::NONE,
            ErrorCode::UNKNOWN_SERVER_ERROR,
            ErrorCode::OFFSET_OUT_OF_RANGE,
            ErrorCode::BROKER_NOT_AVAILABLE,
            ErrorCode::MESSAGE_TOO_LARGE,
            ErrorCode::REBALANCE_IN_PROGRESS,
            ErrorCode::UNKNOWN_MEMBER_ID,
            ErrorCode::ILLEGAL_GENERATION,
            ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER,
            ErrorCode::PRODUCER_FENCED,
            ErrorCode::TOPIC_AUTHORIZATION_FAILED,
            ErrorCode::TRANSACTION_ABORTABLE,
        ] {
            assert!(!code.is_retriable(), "{code}");
        }
        assert_eq!(ErrorCode::all().filter(|c| c.is_retriable()).count(), 32);
    }

    #[test]
    fn unknown_codes() {
        for raw in [-2, 134, i16::MAX, i16::MIN] {
            let code = ErrorCode(raw);
            assert_eq!(code.name(), "UNKNOWN");
            assert!(!code.is_retriable());
            assert!(!code.is_known());
            assert!(code.into_result().is_err());
        }
    }

    #[test]
    fn formatting() {
        assert_eq!(
            format!("{:?}", ErrorCode::NOT_COORDINATOR),
            "NOT_COORDINATOR(16)"
        );
        assert_eq!(ErrorCode(7).to_string(), "REQUEST_TIMED_OUT (7)");
        assert_eq!(ErrorCode(500).to_string(), "UNKNOWN (500)");
        let e = ErrorCode::TOPIC_ALREADY_EXISTS
            .into_result_with(Some("Topic 't' already exists."))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "TOPIC_ALREADY_EXISTS (36): Topic 't' already exists."
        );
        let e = ErrorCode::NOT_CONTROLLER.into_result().unwrap_err();
        assert!(e.is_retriable());
        assert_eq!(
            e.to_string(),
            "NOT_CONTROLLER (41): The broker is not the active controller."
        );
        assert_eq!(ErrorCode::NONE.into_result(), Ok(()));
    }
}
