//! The one error for group settings that Java would reject, for both group protocols: the
//! classic member's [`crate::GroupConfig::validate`] and the KIP-848 member's
//! [`crate::consumer_membership::ConsumerGroupConfig::validate`].

/// A setting, or a combination of settings, Java would reject.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `group.id` is empty.
    #[error("group.id must not be empty")]
    EmptyGroupId,
    /// `group.instance.id` is set but empty.
    #[error("group.instance.id must not be empty when set")]
    EmptyInstanceId,
    /// The member id is empty (KIP-1082: the client generates a UUID once per process).
    #[error("the member id must not be empty")]
    EmptyMemberId,
    /// `heartbeat.interval.ms` is not below `session.timeout.ms` (classic protocol).
    #[error("heartbeat.interval.ms must be lower than session.timeout.ms")]
    HeartbeatNotBelowSession,
    /// No assignor configured (classic protocol).
    #[error("partition.assignment.strategy must name at least one assignor")]
    NoAssignor,
    /// Two assignors share a name (classic protocol).
    #[error("assignor {0} configured twice")]
    DuplicateAssignor(&'static str),
    /// A timeout (named by its Java setting) does not fit the protocol's `int32`
    /// milliseconds.
    #[error("{0} does not fit in an int32 of milliseconds")]
    TimeoutTooLarge(&'static str),
    /// `group.remote.assignor` is set but empty (KIP-848).
    #[error("group.remote.assignor must not be empty when set")]
    EmptyRemoteAssignor,
    /// A classic-protocol setting was given with `group.protocol=consumer` (KIP-848).
    #[error("{0} is not supported when group.protocol=consumer (KIP-848: the broker owns it, see its group.consumer.* settings)")]
    UnsupportedWithConsumerProtocol(String),
    /// `group.protocol` is neither `classic` nor `consumer`.
    #[error("invalid group.protocol {0:?}: expected classic or consumer")]
    UnknownGroupProtocol(String),
}
