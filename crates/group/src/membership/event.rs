//! What the membership machine emits: requests to send and events for the consumer.

use std::collections::BTreeSet;
use std::time::Duration;

use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::find_coordinator_response::FindCoordinatorResponse;
use rafka_wire::TopicPartition;

use super::request::GroupRequest;
use crate::assignor::AssignError;
use crate::protocol::ProtocolError;

/// A group generation as this member knows it (Java `AbstractCoordinator.Generation`).
/// OffsetCommit must carry `generation_id` and `member_id` so the coordinator refuses a
/// zombie's commit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Generation {
    /// Generation id from JoinGroup; -1 when not in a generation.
    pub generation_id: i32,
    /// Member id the coordinator assigned; empty before the first JoinGroup answer.
    pub member_id: String,
    /// The assignor the coordinator chose (JoinGroup `protocol_name`).
    pub protocol_name: Option<String>,
}

impl Generation {
    /// Java `Generation.NO_GENERATION`.
    pub const fn none() -> Generation {
        Generation {
            generation_id: -1,
            member_id: String::new(),
            protocol_name: None,
        }
    }

    /// Whether this is a real generation (id ≥ 0 and a member id).
    pub fn is_valid(&self) -> bool {
        self.generation_id >= 0 && !self.member_id.is_empty()
    }
}

/// The group coordinator broker (FindCoordinator answer).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Coordinator {
    /// Broker node id.
    pub node_id: i32,
    /// Host name.
    pub host: String,
    /// Port.
    pub port: i32,
}

impl Coordinator {
    /// The group's coordinator from a FindCoordinator answer: the batched entry for
    /// `group_id` (v4+, KIP-699), else the top-level fields of older versions.
    ///
    /// # Errors
    /// The answer's error code when it names no usable coordinator (NONE with a negative
    /// node id included).
    pub(crate) fn from_find_response(
        response: &FindCoordinatorResponse,
        group_id: &str,
    ) -> Result<Coordinator, i16> {
        let (error, node_id, host, port) = match response
            .coordinators
            .iter()
            .find(|c| c.key.as_str() == group_id)
            .or(response.coordinators.first())
        {
            Some(c) => (c.error_code, c.node_id.0, &c.host, c.port),
            None => (
                response.error_code,
                response.node_id.0,
                &response.host,
                response.port,
            ),
        };
        if error == 0 && node_id >= 0 {
            Ok(Coordinator {
                node_id,
                host: host.to_string(),
                port,
            })
        } else {
            Err(error)
        }
    }
}

/// Java `ConsumerGroupMetadata`, for `send_offsets_to_transaction` (KIP-447).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMetadata {
    /// `group.id`.
    pub group_id: String,
    /// Current generation id (-1 if none).
    pub generation_id: i32,
    /// Current member id (empty if none).
    pub member_id: String,
    /// `group.instance.id`.
    pub group_instance_id: Option<String>,
}

/// Identifies one request the machine asked to send; pass it back with the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

/// Where a request must go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// Any broker (FindCoordinator).
    AnyBroker,
    /// The group coordinator.
    Coordinator(Coordinator),
}

/// A request for the driver to send.
#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingRequest {
    /// Pass back to `handle_*_response` or `handle_request_failed`.
    pub id: RequestId,
    /// Target broker.
    pub destination: Destination,
    /// What to send; build the wire struct with its `to_request(version)`.
    pub request: GroupRequest,
    /// How long to wait before calling `handle_request_failed`.
    pub timeout: Duration,
}

/// Output of [`super::Membership::poll_action`].
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Send a request.
    Send(OutgoingRequest),
    /// Tell the consumer something.
    Event(Event),
}

/// Rebalance events, in the order the consumer must act on them.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// Run `onPartitionsRevoked` (commit offsets, release resources) for `partitions`, then
    /// call `ack_revoked`. Eager: everything, before every JoinGroup. Cooperative: only the
    /// partitions leaving this member (KIP-429). No JoinGroup or LeaveGroup is sent until the
    /// ack.
    PartitionsRevoked {
        /// Partitions to give up.
        partitions: Vec<TopicPartition>,
        /// The generation they were owned in (commits may still use it).
        generation: Generation,
    },
    /// A KIP-848 reconciliation starts, with auto-commit on: commit what was consumed of
    /// every owned partition, then call `commit_done`, whether the commit succeeded or not (Java's `maybeAutoCommitSyncBeforeRevocation`, before
    /// `onPartitionsRevoked`). The classic member never emits it.
    CommitBeforeReconcile {
        /// Partitions this reconciliation will revoke afterwards.
        revoking: Vec<TopicPartition>,
    },
    /// The partitions are already someone else's: session expired, fenced, unknown member or
    /// illegal generation. Run `onPartitionsLost` (do not commit), then call `ack_revoked`.
    PartitionsLost {
        /// Partitions no longer owned.
        partitions: Vec<TopicPartition>,
    },
    /// A rebalance completed: run `onPartitionsAssigned` for `partitions` (newly added).
    PartitionsAssigned {
        /// Partitions added to this member in this rebalance (all of them, for eager).
        partitions: Vec<TopicPartition>,
        /// The member's whole assignment after this rebalance.
        assignment: Vec<TopicPartition>,
        /// The new generation.
        generation: Generation,
    },
    /// The coordinator was found (`Some`) or marked unknown (`None`); on `None` the driver
    /// should drop its connection to the old one, as Java does.
    CoordinatorChanged {
        /// The new coordinator.
        coordinator: Option<Coordinator>,
    },
    /// The leader needs partition counts for these topics (other members subscribe to them):
    /// fetch metadata and call `metadata_changed`; assignment waits until then.
    MetadataNeeded {
        /// Topics missing from the metadata given so far.
        topics: BTreeSet<String>,
    },
    /// An error the Java consumer would throw from `poll()`; membership carries on (it retries).
    Error(GroupError),
    /// The member cannot continue (e.g. fenced static member, authorization); the machine
    /// stops.
    Fatal(GroupError),
    /// `leave` finished (LeaveGroup answered, failed, or not needed); the machine is closed.
    Left,
}

/// Membership failures.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum GroupError {
    /// The coordinator answered with an error code.
    #[error("{api} failed: {error}")]
    Broker {
        /// API name (`JoinGroup`, `SyncGroup`, ...).
        api: &'static str,
        /// The Kafka error.
        error: ResponseError,
    },
    /// An OffsetCommit was refused because the member is no longer in the generation it
    /// committed under (Java `CommitFailedException`).
    #[error("commit failed: the group rebalanced and assigned the partitions to another member ({error})")]
    CommitFailed {
        /// The error the coordinator gave.
        error: ResponseError,
    },
    /// Consumer protocol bytes did not decode.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// The leader's assignor failed.
    #[error(transparent)]
    Assign(#[from] AssignError),
    /// The coordinator chose a protocol (assignor) this member did not offer.
    #[error("coordinator chose assignor {0:?}, which is not configured")]
    UnknownProtocol(Option<String>),
    /// The coordinator answered with another protocol type or name than the group's.
    #[error("inconsistent group protocol: got {0:?}")]
    InconsistentProtocol(Option<String>),
    /// A failure of the KIP-848 member (`group.protocol=consumer`): a ConsumerGroupHeartbeat
    /// error, or a broker without the protocol.
    #[error(transparent)]
    ConsumerGroup(Box<crate::consumer_membership::ConsumerGroupError>),
}

impl GroupError {
    pub(crate) fn broker(api: &'static str, code: i16) -> GroupError {
        GroupError::Broker {
            api,
            error: ResponseError::try_from_code(code).unwrap_or(ResponseError::Unknown(code)),
        }
    }

    /// The Kafka error code, when the error came from the broker.
    pub fn code(&self) -> Option<i16> {
        match self {
            GroupError::Broker { error, .. } | GroupError::CommitFailed { error } => {
                Some(error.code())
            }
            GroupError::ConsumerGroup(e) => e.code(),
            _ => None,
        }
    }
}
