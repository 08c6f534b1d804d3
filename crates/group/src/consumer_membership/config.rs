//! Settings of a KIP-848 consumer group member, named and defaulted as the Java consumer's
//! (`ConsumerConfig`, `group.protocol=consumer`).

use std::time::Duration;

/// Settings of one member of a consumer group that runs the next-generation protocol
/// (KIP-848: `group.protocol=consumer`, the default `classic` is [`crate::GroupConfig`]).
///
/// The broker owns the heartbeat interval (`group.consumer.heartbeat.interval.ms`, default
/// 5 s) and the session timeout (`group.consumer.session.timeout.ms`, default 45 s): the
/// client uses the interval each heartbeat response gives. Java refuses
/// `heartbeat.interval.ms`, `session.timeout.ms` and `partition.assignment.strategy` with
/// this protocol, so they have no field here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerGroupConfig {
    /// `group.id`: the consumer group to join. No default; must not be empty.
    pub group_id: String,
    /// `group.instance.id`: makes the member static (KIP-345): it leaves with epoch -2 so the
    /// broker keeps its assignment for a restart within the session timeout. Default: none.
    pub group_instance_id: Option<String>,
    /// `client.rack`: sent as `RackId` so rack-aware server assignors can use it. Default:
    /// none.
    pub client_rack: Option<String>,
    /// `group.remote.assignor`: the server-side assignor (`uniform`, `range`); `None` lets
    /// the broker pick its default (`group.consumer.assignors`, first entry). Default: none.
    pub remote_assignor: Option<String>,
    /// `max.poll.interval.ms`: the longest gap allowed between two `poll()` calls and the
    /// rebalance timeout sent as `RebalanceTimeoutMs` (how long the broker waits for this
    /// member to revoke partitions). Default 300 000 ms.
    pub rebalance_timeout: Duration,
    /// `retry.backoff.ms`: first wait before retrying a failed request; doubles per failure
    /// (Java `RequestState`, exponential base 2). Default 100 ms.
    pub retry_backoff: Duration,
    /// `retry.backoff.max.ms`: cap of the exponential backoff. Default 1 000 ms.
    pub retry_backoff_max: Duration,
    /// `request.timeout.ms`: the timeout suggested for each request. Default 30 000 ms.
    pub request_timeout: Duration,
    /// How long without a successful heartbeat response before the member treats its
    /// partitions as lost and rejoins. The broker expels it after its
    /// `group.consumer.session.timeout.ms` (default 45 000 ms), which the client cannot read,
    /// so this mirrors that default. Java has no such timer (it waits for the broker to say
    /// FENCED_MEMBER_EPOCH); rafka adds it, as its classic member and librdkafka do.
    pub session_timeout: Duration,
    /// `enable.auto.commit`: when true every reconciliation starts with
    /// [`super::ConsumerEvent::CommitBeforeReconcile`] and waits for
    /// [`super::ConsumerMembership::commit_done`] (Java
    /// `maybeAutoCommitSyncBeforeRebalance`). Default true.
    pub auto_commit: bool,
}

pub use crate::config_error::ConfigError;

/// `group.protocol`: which rebalance protocol the consumer uses (Java `GroupProtocol`,
/// case-insensitive). Default `classic`, as in Java.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GroupProtocol {
    /// JoinGroup/SyncGroup/Heartbeat with client-side assignors ([`crate::Membership`]).
    #[default]
    Classic,
    /// ConsumerGroupHeartbeat with server-side assignors (KIP-848,
    /// [`super::ConsumerMembership`]).
    Consumer,
}

impl std::str::FromStr for GroupProtocol {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "classic" => Ok(GroupProtocol::Classic),
            "consumer" => Ok(GroupProtocol::Consumer),
            _ => Err(ConfigError::UnknownGroupProtocol(s.to_owned())),
        }
    }
}

impl std::fmt::Display for GroupProtocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            GroupProtocol::Classic => "classic",
            GroupProtocol::Consumer => "consumer",
        })
    }
}

/// Consumer settings that only the classic protocol reads; Java rejects them when
/// `group.protocol=consumer` (the broker's `group.consumer.session.timeout.ms`,
/// `group.consumer.heartbeat.interval.ms` and `group.consumer.assignors` replace them).
pub const CLASSIC_ONLY_SETTINGS: [&str; 3] = [
    "session.timeout.ms",
    "heartbeat.interval.ms",
    "partition.assignment.strategy",
];

/// Refuses classic-only settings among the names the user set explicitly, for
/// `group.protocol=consumer`.
///
/// # Errors
/// [`ConfigError::UnsupportedWithConsumerProtocol`] for the first one found.
pub fn check_consumer_protocol_settings<'a>(
    explicitly_set: impl IntoIterator<Item = &'a str>,
) -> Result<(), ConfigError> {
    match explicitly_set
        .into_iter()
        .find(|n| CLASSIC_ONLY_SETTINGS.contains(n))
    {
        Some(n) => Err(ConfigError::UnsupportedWithConsumerProtocol(n.to_owned())),
        None => Ok(()),
    }
}

impl ConsumerGroupConfig {
    /// Java defaults for `group_id`.
    pub fn new(group_id: impl Into<String>) -> Self {
        ConsumerGroupConfig {
            group_id: group_id.into(),
            group_instance_id: None,
            client_rack: None,
            remote_assignor: None,
            rebalance_timeout: Duration::from_millis(300_000),
            retry_backoff: Duration::from_millis(100),
            retry_backoff_max: Duration::from_millis(1_000),
            request_timeout: Duration::from_millis(30_000),
            session_timeout: Duration::from_millis(45_000),
            auto_commit: true,
        }
    }

    /// Checks the settings together.
    ///
    /// # Errors
    /// The first [`ConfigError`] found.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.group_id.is_empty() {
            return Err(ConfigError::EmptyGroupId);
        }
        if self.group_instance_id.as_deref() == Some("") {
            return Err(ConfigError::EmptyInstanceId);
        }
        if self.remote_assignor.as_deref() == Some("") {
            return Err(ConfigError::EmptyRemoteAssignor);
        }
        if self.rebalance_timeout.as_millis() > i32::MAX as u128 {
            return Err(ConfigError::TimeoutTooLarge("max.poll.interval.ms"));
        }
        Ok(())
    }

    /// `RebalanceTimeoutMs` as sent.
    pub(crate) fn rebalance_timeout_ms(&self) -> i32 {
        self.rebalance_timeout.as_millis() as i32
    }
}
