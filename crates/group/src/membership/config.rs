//! Group membership settings, named and defaulted as the Java consumer's.

use std::sync::Arc;
use std::time::Duration;

use crate::assignor::{Assignor, CooperativeStickyAssignor, RangeAssignor, RebalanceProtocol};

/// Settings of one consumer's group membership.
#[derive(Debug, Clone)]
pub struct GroupConfig {
    /// `group.id`: the consumer group to join. No default; must not be empty.
    pub group_id: String,
    /// `group.instance.id`: makes the member static (KIP-345): it keeps its assignment across
    /// restarts within `session_timeout` and does not send LeaveGroup on close. Default: none.
    pub group_instance_id: Option<String>,
    /// `session.timeout.ms`: how long the coordinator waits for a heartbeat before expelling
    /// the member (KIP-62). Default 45 s (Java 3.0+).
    pub session_timeout: Duration,
    /// `max.poll.interval.ms`: the longest gap allowed between two `poll()` calls, and the
    /// rebalance timeout sent in JoinGroup (KIP-62). Default 300 s.
    pub rebalance_timeout: Duration,
    /// `heartbeat.interval.ms`: time between heartbeats. Default 3 s; must be below
    /// `session_timeout`.
    pub heartbeat_interval: Duration,
    /// `retry.backoff.ms`: wait before retrying a failed coordinator request. Default 100 ms.
    pub retry_backoff: Duration,
    /// `request.timeout.ms`: the timeout suggested for coordinator requests; JoinGroup gets
    /// `max(request_timeout, rebalance_timeout + 5 s)` as in Java. Default 30 s.
    pub request_timeout: Duration,
    /// `partition.assignment.strategy`: assignors in preference order. Default
    /// `[range, cooperative-sticky]` (Java 3.0+), which runs the eager protocol until every
    /// member has dropped `range`.
    pub assignors: Vec<Arc<dyn Assignor>>,
    /// `client.rack`: the rack sent in Subscription v3 (KIP-881). Default: none.
    pub client_rack: Option<String>,
    /// `exclude.internal.topics`: keep `__`-prefixed internal topics (`__consumer_offsets`,
    /// `__transaction_state`) out of pattern subscriptions. Default true.
    pub exclude_internal_topics: bool,
}

pub use crate::config_error::ConfigError;

impl GroupConfig {
    /// Java defaults for `group_id`.
    pub fn new(group_id: impl Into<String>) -> Self {
        GroupConfig {
            group_id: group_id.into(),
            group_instance_id: None,
            session_timeout: Duration::from_secs(45),
            rebalance_timeout: Duration::from_secs(300),
            heartbeat_interval: Duration::from_secs(3),
            retry_backoff: Duration::from_millis(100),
            request_timeout: Duration::from_secs(30),
            assignors: vec![Arc::new(RangeAssignor), Arc::new(CooperativeStickyAssignor)],
            client_rack: None,
            exclude_internal_topics: true,
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
        if self.heartbeat_interval >= self.session_timeout {
            return Err(ConfigError::HeartbeatNotBelowSession);
        }
        if self.assignors.is_empty() {
            return Err(ConfigError::NoAssignor);
        }
        for (i, a) in self.assignors.iter().enumerate() {
            if self.assignors[..i].iter().any(|b| b.name() == a.name()) {
                return Err(ConfigError::DuplicateAssignor(a.name()));
            }
        }
        for (name, d) in [
            ("session.timeout.ms", self.session_timeout),
            ("max.poll.interval.ms", self.rebalance_timeout),
        ] {
            if d.as_millis() > i32::MAX as u128 {
                return Err(ConfigError::TimeoutTooLarge(name));
            }
        }
        Ok(())
    }

    /// The rebalance protocol: cooperative only if every assignor supports it (Java picks the
    /// highest protocol common to all configured assignors).
    pub fn protocol(&self) -> RebalanceProtocol {
        self.assignors
            .iter()
            .map(|a| a.protocol())
            .min()
            .unwrap_or(RebalanceProtocol::Eager)
    }
}
