//! [`ConsumerConfig`]: every consumer setting, with its Java name and default, in one place.
//!
//! Build it with [`ConsumerConfig::builder`], or load Java-named settings with
//! [`ConsumerConfig::from_properties`]: the client's keys (`bootstrap.servers`, timeouts, TLS,
//! SASL) go to [`ClientConfig::apply`] first, the consumer's own keys are handled here, and an
//! unknown key is an error. [`ConsumerConfig::validate`] checks incompatible choices once.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use rafka_client::config::{parse, ClientConfig, ConfigError, Properties};
pub use rafka_group::consumer_membership::GroupProtocol;

use crate::store::{kafka::KafkaOffsetStore, OffsetStore};

/// What to do when a partition has no committed position, or its position is out of range:
/// Java's `auto.offset.reset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AutoOffsetReset {
    /// `earliest`: start from the log start offset.
    Earliest,
    /// `latest`: start from the high watermark (only new records). The Java default.
    #[default]
    Latest,
    /// `none`: fail the next `poll` with [`crate::ConsumerError::NoOffsetForPartition`] or
    /// [`crate::ConsumerError::OffsetOutOfRange`] naming the partitions.
    None,
}

impl std::str::FromStr for AutoOffsetReset {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            // librdkafka's aliases are accepted so its property files load unchanged.
            "earliest" | "smallest" | "beginning" => Ok(AutoOffsetReset::Earliest),
            "latest" | "largest" | "end" => Ok(AutoOffsetReset::Latest),
            "none" | "error" => Ok(AutoOffsetReset::None),
            _ => Err("expected earliest, latest or none".into()),
        }
    }
}

pub use rafka_client::config::IsolationLevel;

/// Consumer settings. Times are [`Duration`]s (the Java settings are in ms), sizes are bytes.
#[derive(Clone)]
#[non_exhaustive]
pub struct ConsumerConfig {
    /// Connection settings shared with the producer and admin (`bootstrap.servers`, ...).
    pub client: ClientConfig,
    /// `group.id`: the consumer group. Required by `subscribe` and by commits to Kafka; a
    /// consumer without it can only `assign`. No default.
    pub group_id: Option<String>,
    /// `group.instance.id`: static membership (KIP-345). A static member does not send
    /// LeaveGroup on close. No default.
    pub group_instance_id: Option<String>,
    /// `group.protocol`: `classic` (JoinGroup/SyncGroup with client-side assignors, the
    /// default as in Java) or `consumer` (KIP-848: ConsumerGroupHeartbeat, server-side
    /// assignors, incremental rebalances; Apache Kafka 4.0+). With `consumer`,
    /// `session.timeout.ms`, `heartbeat.interval.ms` and `partition.assignment.strategy`
    /// must not be set ([`ConfigError::NotForGroupProtocol`]): the broker's
    /// `group.consumer.*` settings replace them.
    pub group_protocol: GroupProtocol,
    /// `group.remote.assignor`: the broker-side assignor a `group.protocol=consumer` member
    /// asks for (`uniform` or `range` on Apache Kafka 4.x). Default none: the broker's first
    /// `group.consumer.assignors` entry. Refused with `classic`.
    pub group_remote_assignor: Option<String>,
    /// `session.timeout.ms` (classic protocol only): the coordinator expels a member not
    /// heard from for this long. Default 45 s.
    pub session_timeout: Duration,
    /// `heartbeat.interval.ms` (classic protocol only): time between heartbeats. Default 3 s.
    pub heartbeat_interval: Duration,
    /// `max.poll.interval.ms`: a member that does not call `poll` within this leaves the group
    /// (and its next `poll` fails with [`crate::ConsumerError::MaxPollIntervalExceeded`]). Also the
    /// rebalance timeout sent in JoinGroup. Default 300 s.
    pub max_poll_interval: Duration,
    /// `partition.assignment.strategy` (classic protocol only): assignor names in preference
    /// order, sent in JoinGroup.
    /// Accepted: `range`, `roundrobin`, `sticky`, `cooperative-sticky` (Java class names are
    /// mapped to these). Default `[range, cooperative-sticky]` as in Java 3.x.
    pub partition_assignment_strategy: Vec<String>,
    /// `enable.auto.commit`: commit positions every `auto_commit_interval` from `poll`, and on
    /// revoke and close. Default true. As in Java it only applies with a `group_id` (or an
    /// external offset store): a consumer without a group has nothing to commit to.
    pub enable_auto_commit: bool,
    /// `auto.commit.interval.ms`. Default 5 s.
    pub auto_commit_interval: Duration,
    /// `enable.auto.offset.store` (librdkafka): true makes every record returned by `poll`
    /// eligible for the next commit; false commits only what `mark_offset` stored (sarama's
    /// MarkOffset, librdkafka's `offsets_store`). Default true.
    pub enable_auto_offset_store: bool,
    /// `auto.offset.reset`. Default `latest`.
    pub auto_offset_reset: AutoOffsetReset,
    /// `isolation.level`. Default `read_uncommitted`.
    pub isolation_level: IsolationLevel,
    /// `max.poll.records`: most records one `poll` returns. Default 500.
    pub max_poll_records: usize,
    /// `fetch.min.bytes`: the broker waits for this many bytes (or `fetch_max_wait`). Default 1.
    pub fetch_min_bytes: i32,
    /// `fetch.max.wait.ms`: longest the broker holds a Fetch to reach `fetch_min_bytes`.
    /// Default 500 ms.
    pub fetch_max_wait: Duration,
    /// `fetch.max.bytes`: cap of one Fetch response (KIP-74). Default 50 MiB.
    pub fetch_max_bytes: i32,
    /// `max.partition.fetch.bytes`: cap per partition in one Fetch. Default 1 MiB.
    pub max_partition_fetch_bytes: i32,
    /// `queued.max.messages.kbytes` (librdkafka; here in bytes): prefetching stops while this
    /// many fetched bytes wait to be polled (the application is slow). Default 64 MiB.
    pub max_buffered_bytes: usize,
    /// `client.rack`: sent in Fetch v11+ (KIP-392). Default empty.
    pub client_rack: String,
    /// `exclude.internal.topics`: pattern subscriptions never match `__`-prefixed internal
    /// topics. Default true.
    pub exclude_internal_topics: bool,
    /// rafka extension `rafka.consumer.max.lag`: when a partition falls more than this many
    /// records behind its high watermark, the consumer seeks to high watermark − `max_lag`,
    /// logs a warning and reports [`crate::ConsumerEvent::SkippedAhead`] (a catch-up policy for
    /// data that is worthless once old: the skipped records are never delivered). Default none
    /// (never skip).
    pub max_lag: Option<i64>,
    /// Where positions are kept. Default [`KafkaOffsetStore`] (commits to Kafka). An external
    /// store (`is_kafka() == false`) is loaded on assign and saved on revoke/close/commit, and
    /// the consumer then never commits to Kafka. Not settable from properties.
    pub offset_store: Arc<dyn OffsetStore>,
    /// Classic-only settings given through `apply` or the builder, so that `validate` can
    /// refuse them with `group.protocol=consumer` even when set to their default (Java
    /// checks the settings the user gave, not their values).
    explicitly_set: BTreeSet<&'static str>,
}

impl fmt::Debug for ConsumerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsumerConfig")
            .field("client", &self.client)
            .field("group_id", &self.group_id)
            .field("group_instance_id", &self.group_instance_id)
            .field("group_protocol", &self.group_protocol)
            .field("group_remote_assignor", &self.group_remote_assignor)
            .field("session_timeout", &self.session_timeout)
            .field("heartbeat_interval", &self.heartbeat_interval)
            .field("max_poll_interval", &self.max_poll_interval)
            .field(
                "partition_assignment_strategy",
                &self.partition_assignment_strategy,
            )
            .field("enable_auto_commit", &self.enable_auto_commit)
            .field("auto_commit_interval", &self.auto_commit_interval)
            .field("enable_auto_offset_store", &self.enable_auto_offset_store)
            .field("auto_offset_reset", &self.auto_offset_reset)
            .field("isolation_level", &self.isolation_level)
            .field("max_poll_records", &self.max_poll_records)
            .field("fetch_min_bytes", &self.fetch_min_bytes)
            .field("fetch_max_wait", &self.fetch_max_wait)
            .field("fetch_max_bytes", &self.fetch_max_bytes)
            .field("max_partition_fetch_bytes", &self.max_partition_fetch_bytes)
            .field("max_buffered_bytes", &self.max_buffered_bytes)
            .field("client_rack", &self.client_rack)
            .field("exclude_internal_topics", &self.exclude_internal_topics)
            .field("max_lag", &self.max_lag)
            .field("offset_store.is_kafka", &self.offset_store.is_kafka())
            .finish()
    }
}

impl Default for ConsumerConfig {
    fn default() -> Self {
        ConsumerConfig {
            client: ClientConfig::default(),
            group_id: None,
            group_instance_id: None,
            group_protocol: GroupProtocol::Classic,
            group_remote_assignor: None,
            session_timeout: Duration::from_millis(45_000),
            heartbeat_interval: Duration::from_millis(3_000),
            max_poll_interval: Duration::from_millis(300_000),
            partition_assignment_strategy: vec!["range".into(), "cooperative-sticky".into()],
            enable_auto_commit: true,
            auto_commit_interval: Duration::from_millis(5_000),
            enable_auto_offset_store: true,
            auto_offset_reset: AutoOffsetReset::Latest,
            isolation_level: IsolationLevel::ReadUncommitted,
            max_poll_records: 500,
            fetch_min_bytes: 1,
            fetch_max_wait: Duration::from_millis(500),
            fetch_max_bytes: 50 * 1024 * 1024,
            max_partition_fetch_bytes: 1024 * 1024,
            max_buffered_bytes: 64 * 1024 * 1024,
            client_rack: String::new(),
            exclude_internal_topics: true,
            max_lag: None,
            offset_store: Arc::new(KafkaOffsetStore),
            explicitly_set: BTreeSet::new(),
        }
    }
}

const KNOWN_ASSIGNORS: &[&str] = &["range", "roundrobin", "sticky", "cooperative-sticky"];

/// Maps Java assignor class names and librdkafka names to rafka's short names.
fn assignor_name(s: &str) -> Option<&'static str> {
    let short = s.rsplit('.').next().unwrap_or(s);
    match short.to_ascii_lowercase().as_str() {
        "range" | "rangeassignor" => Some("range"),
        "roundrobin" | "roundrobinassignor" => Some("roundrobin"),
        "sticky" | "stickyassignor" => Some("sticky"),
        "cooperative-sticky" | "cooperativestickyassignor" => Some("cooperative-sticky"),
        _ => None,
    }
}

impl ConsumerConfig {
    /// A builder starting from the defaults, with `bootstrap.servers` set.
    pub fn builder(bootstrap_servers: &str) -> ConsumerConfigBuilder {
        let mut config = ConsumerConfig::default();
        // A comma list is the only form `bootstrap.servers` takes, so this cannot fail.
        let _ = config.client.apply("bootstrap.servers", bootstrap_servers);
        ConsumerConfigBuilder { config }
    }

    /// Applies one Java-named setting: the client's keys first, then the consumer's.
    /// Returns `Ok(false)` for a key neither knows.
    ///
    /// # Errors
    /// [`ConfigError::InvalidValue`] naming the key when the value does not parse.
    pub fn apply(&mut self, key: &str, value: &str) -> Result<bool, ConfigError> {
        if self.client.apply(key, value)? {
            return Ok(true);
        }
        let v = value.trim();
        match key {
            "group.id" => self.group_id = Some(v.to_string()).filter(|s| !s.is_empty()),
            "group.instance.id" => {
                self.group_instance_id = Some(v.to_string()).filter(|s| !s.is_empty())
            }
            "group.protocol" => {
                self.group_protocol = v
                    .parse()
                    .map_err(|_| ConfigError::invalid(key, value, "expected classic or consumer"))?
            }
            "group.remote.assignor" => {
                self.group_remote_assignor = Some(v.to_string()).filter(|s| !s.is_empty())
            }
            "session.timeout.ms" => {
                self.session_timeout = parse::ms(key, v)?;
                self.explicitly_set.insert("session.timeout.ms");
            }
            "heartbeat.interval.ms" => {
                self.heartbeat_interval = parse::ms(key, v)?;
                self.explicitly_set.insert("heartbeat.interval.ms");
            }
            "max.poll.interval.ms" => self.max_poll_interval = parse::ms(key, v)?,
            "partition.assignment.strategy" => {
                let mut names = Vec::new();
                for item in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    let name = assignor_name(item).ok_or_else(|| {
                        ConfigError::invalid(
                            key,
                            value,
                            format!("unknown assignor \"{item}\" (known: {KNOWN_ASSIGNORS:?})"),
                        )
                    })?;
                    names.push(name.to_string());
                }
                self.partition_assignment_strategy = names;
                self.explicitly_set.insert("partition.assignment.strategy");
            }
            "enable.auto.commit" => self.enable_auto_commit = parse::bool(key, v)?,
            "auto.commit.interval.ms" => self.auto_commit_interval = parse::ms(key, v)?,
            "enable.auto.offset.store" => self.enable_auto_offset_store = parse::bool(key, v)?,
            "auto.offset.reset" => {
                self.auto_offset_reset =
                    v.parse().map_err(|e| ConfigError::invalid(key, value, e))?
            }
            "isolation.level" => {
                self.isolation_level = v.parse().map_err(|e| ConfigError::invalid(key, value, e))?
            }
            "max.poll.records" => self.max_poll_records = parse::num(key, v)?,
            "fetch.min.bytes" => self.fetch_min_bytes = parse::num(key, v)?,
            "fetch.max.wait.ms" | "fetch.wait.max.ms" => self.fetch_max_wait = parse::ms(key, v)?,
            "fetch.max.bytes" => self.fetch_max_bytes = parse::num(key, v)?,
            "max.partition.fetch.bytes" => self.max_partition_fetch_bytes = parse::num(key, v)?,
            "queued.max.messages.kbytes" => {
                self.max_buffered_bytes = parse::size(key, v)?.saturating_mul(1024)
            }
            "client.rack" => self.client_rack = v.to_string(),
            "exclude.internal.topics" => self.exclude_internal_topics = parse::bool(key, v)?,
            "rafka.consumer.max.lag" => self.max_lag = Some(parse::num(key, v)?),
            // Java settings with no effect here: rafka returns bytes, and CRCs are always checked.
            "key.deserializer" | "value.deserializer" | "check.crcs" => {}
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Builds a validated config from Java-named settings.
    ///
    /// # Errors
    /// [`ConfigError::UnknownKey`] for a key neither the client nor the consumer knows, the
    /// first [`ConfigError::InvalidValue`], or what [`ConsumerConfig::validate`] finds.
    pub fn from_properties(props: &Properties) -> Result<ConsumerConfig, ConfigError> {
        let mut config = ConsumerConfig::default();
        props.apply_each(|key, value| config.apply(key, value))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks the settings together.
    ///
    /// # Errors
    /// What [`ClientConfig::validate`] finds; [`ConfigError::Incompatible`] when the heartbeat
    /// interval is not below the session timeout, when a static member has no group, or when
    /// no assignor is named; [`ConfigError::InvalidValue`] for a zero `max.poll.records`,
    /// `fetch.max.bytes` or `max.partition.fetch.bytes`, a negative `fetch.min.bytes` or
    /// `rafka.consumer.max.lag`, or an unknown assignor name.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.client.validate()?;
        self.validate_group_protocol()?;
        if self.heartbeat_interval >= self.session_timeout {
            return Err(ConfigError::Incompatible {
                reason: "heartbeat.interval.ms must be lower than session.timeout.ms".into(),
            });
        }
        if self.group_instance_id.is_some() && self.group_id.is_none() {
            return Err(ConfigError::Incompatible {
                reason: "group.instance.id needs group.id".into(),
            });
        }
        if self.partition_assignment_strategy.is_empty() {
            return Err(ConfigError::Incompatible {
                reason: "partition.assignment.strategy names no assignor".into(),
            });
        }
        for name in &self.partition_assignment_strategy {
            if !KNOWN_ASSIGNORS.contains(&name.as_str()) {
                return Err(ConfigError::invalid(
                    "partition.assignment.strategy",
                    name,
                    format!("known: {KNOWN_ASSIGNORS:?}"),
                ));
            }
        }
        if self.max_poll_records == 0 {
            return Err(ConfigError::invalid(
                "max.poll.records",
                "0",
                "must be at least 1",
            ));
        }
        if self.fetch_max_bytes <= 0 {
            return Err(ConfigError::invalid(
                "fetch.max.bytes",
                &self.fetch_max_bytes.to_string(),
                "must be positive",
            ));
        }
        if self.max_partition_fetch_bytes <= 0 {
            return Err(ConfigError::invalid(
                "max.partition.fetch.bytes",
                &self.max_partition_fetch_bytes.to_string(),
                "must be positive",
            ));
        }
        if self.fetch_min_bytes < 0 {
            return Err(ConfigError::invalid(
                "fetch.min.bytes",
                &self.fetch_min_bytes.to_string(),
                "must not be negative",
            ));
        }
        if let Some(lag) = self.max_lag {
            if lag < 0 {
                return Err(ConfigError::invalid(
                    "rafka.consumer.max.lag",
                    &lag.to_string(),
                    "must not be negative",
                ));
            }
        }
        Ok(())
    }

    /// Java's `group.protocol` checks: with `consumer`, the classic-only settings must not
    /// have been set (through `apply`/the builder, or by changing the field from its
    /// default); with `classic`, `group.remote.assignor` must not be.
    fn validate_group_protocol(&self) -> Result<(), ConfigError> {
        let defaults = ConsumerConfig::default();
        match self.group_protocol {
            GroupProtocol::Consumer => {
                let changed = [
                    (
                        "session.timeout.ms",
                        self.session_timeout != defaults.session_timeout,
                    ),
                    (
                        "heartbeat.interval.ms",
                        self.heartbeat_interval != defaults.heartbeat_interval,
                    ),
                    (
                        "partition.assignment.strategy",
                        self.partition_assignment_strategy
                            != defaults.partition_assignment_strategy,
                    ),
                ];
                for (key, differs) in changed {
                    if differs || self.explicitly_set.contains(key) {
                        return Err(ConfigError::NotForGroupProtocol {
                            key,
                            protocol: "consumer",
                        });
                    }
                }
                if self.group_remote_assignor.as_deref() == Some("") {
                    return Err(ConfigError::invalid(
                        "group.remote.assignor",
                        "",
                        "must not be empty when set",
                    ));
                }
            }
            GroupProtocol::Classic => {
                if self.group_remote_assignor.is_some() {
                    return Err(ConfigError::NotForGroupProtocol {
                        key: "group.remote.assignor",
                        protocol: "classic",
                    });
                }
            }
        }
        Ok(())
    }

    /// True when positions are committed to Kafka (the default store) rather than an
    /// external [`OffsetStore`].
    pub fn commits_to_kafka(&self) -> bool {
        self.offset_store.is_kafka()
    }

    /// Whether the consumer auto-commits: `enable.auto.commit` with somewhere to commit to.
    /// Kafka commits need a `group.id`; without one Java's consumer turns auto-commit off
    /// (`ConsumerConfig.maybeOverrideEnableAutoCommit`), and so does this one.
    pub fn auto_commits(&self) -> bool {
        self.enable_auto_commit && (self.group_id.is_some() || !self.commits_to_kafka())
    }
}

/// Builds a [`ConsumerConfig`]; every method is named after the field it sets.
#[derive(Debug, Clone)]
pub struct ConsumerConfigBuilder {
    config: ConsumerConfig,
}

impl ConsumerConfigBuilder {
    /// `group.id`.
    pub fn group_id(mut self, group_id: impl Into<String>) -> Self {
        self.config.group_id = Some(group_id.into());
        self
    }

    /// `group.instance.id` (static membership, KIP-345).
    pub fn group_instance_id(mut self, id: impl Into<String>) -> Self {
        self.config.group_instance_id = Some(id.into());
        self
    }

    /// `client.id`.
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.config.client.client_id = id.into();
        self
    }

    /// Replaces the whole client (connection) config.
    pub fn client(mut self, client: ClientConfig) -> Self {
        self.config.client = client;
        self
    }

    /// `partition.assignment.strategy`, short names in preference order.
    pub fn partition_assignment_strategy<S: Into<String>>(
        mut self,
        names: impl IntoIterator<Item = S>,
    ) -> Self {
        self.config.partition_assignment_strategy = names.into_iter().map(Into::into).collect();
        self.config
            .explicitly_set
            .insert("partition.assignment.strategy");
        self
    }

    /// `session.timeout.ms` (classic protocol only).
    pub fn session_timeout(mut self, value: Duration) -> Self {
        self.config.session_timeout = value;
        self.config.explicitly_set.insert("session.timeout.ms");
        self
    }

    /// `heartbeat.interval.ms` (classic protocol only).
    pub fn heartbeat_interval(mut self, value: Duration) -> Self {
        self.config.heartbeat_interval = value;
        self.config.explicitly_set.insert("heartbeat.interval.ms");
        self
    }

    /// `group.protocol`: `classic` (default) or `consumer` (KIP-848).
    pub fn group_protocol(mut self, protocol: GroupProtocol) -> Self {
        self.config.group_protocol = protocol;
        self
    }

    /// `group.remote.assignor` (`group.protocol=consumer` only): `uniform` or `range`.
    pub fn group_remote_assignor(mut self, name: impl Into<String>) -> Self {
        self.config.group_remote_assignor = Some(name.into());
        self
    }

    /// `rafka.consumer.max.lag`: catch-up policy (see [`ConsumerConfig::max_lag`]).
    pub fn max_lag(mut self, records: i64) -> Self {
        self.config.max_lag = Some(records);
        self
    }

    /// The offset store (see [`ConsumerConfig::offset_store`]).
    pub fn offset_store(mut self, store: Arc<dyn OffsetStore>) -> Self {
        self.config.offset_store = store;
        self
    }

    rafka_client::config_setters! {
        /// `max.poll.interval.ms`.
        max_poll_interval: Duration;
        /// `enable.auto.commit`.
        enable_auto_commit: bool;
        /// `auto.commit.interval.ms`.
        auto_commit_interval: Duration;
        /// `enable.auto.offset.store`.
        enable_auto_offset_store: bool;
        /// `auto.offset.reset`.
        auto_offset_reset: AutoOffsetReset;
        /// `isolation.level`.
        isolation_level: IsolationLevel;
        /// `max.poll.records`.
        max_poll_records: usize;
        /// `fetch.min.bytes`.
        fetch_min_bytes: i32;
        /// `fetch.max.wait.ms`.
        fetch_max_wait: Duration;
        /// `fetch.max.bytes`.
        fetch_max_bytes: i32;
        /// `max.partition.fetch.bytes`.
        max_partition_fetch_bytes: i32;
        /// `queued.max.messages.kbytes`, here in bytes.
        max_buffered_bytes: usize;
        /// `client.rack`.
        client_rack: String;
        /// `exclude.internal.topics`.
        exclude_internal_topics: bool;
    }

    /// Applies a Java-named setting (see [`ConsumerConfig::apply`]).
    ///
    /// # Errors
    /// [`ConfigError::UnknownKey`] for a key nobody knows, else as `apply`.
    pub fn set(mut self, key: &str, value: &str) -> Result<Self, ConfigError> {
        ConfigError::known(self.config.apply(key, value)?, key)?;
        Ok(self)
    }

    /// Validates and returns the config.
    ///
    /// # Errors
    /// As [`ConsumerConfig::validate`].
    pub fn build(self) -> Result<ConsumerConfig, ConfigError> {
        self.config.validate()?;
        Ok(self.config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_defaults() {
        let c = ConsumerConfig::default();
        assert_eq!(c.session_timeout, Duration::from_secs(45));
        assert_eq!(c.heartbeat_interval, Duration::from_secs(3));
        assert_eq!(c.max_poll_interval, Duration::from_secs(300));
        assert_eq!(c.auto_commit_interval, Duration::from_secs(5));
        assert_eq!(c.max_poll_records, 500);
        assert_eq!(c.fetch_max_bytes, 52_428_800);
        assert_eq!(c.max_partition_fetch_bytes, 1_048_576);
        assert_eq!(c.fetch_max_wait, Duration::from_millis(500));
        assert_eq!(
            c.partition_assignment_strategy,
            ["range", "cooperative-sticky"]
        );
        assert!(c.enable_auto_commit && c.commits_to_kafka());
        assert_eq!(c.auto_offset_reset, AutoOffsetReset::Latest);
    }

    #[test]
    fn no_auto_commit_to_kafka_without_a_group() {
        let mut c = ConsumerConfig::default();
        assert!(c.enable_auto_commit && !c.auto_commits());
        c.group_id = Some("g".into());
        assert!(c.auto_commits());
        c.enable_auto_commit = false;
        assert!(!c.auto_commits());
    }

    #[test]
    fn loads_java_properties_and_rejects_unknown_keys() {
        let props = Properties::parse(
            "bootstrap.servers=127.0.0.1:9092\n\
             group.id=g1\n\
             auto.offset.reset=earliest\n\
             isolation.level=read_committed\n\
             enable.auto.commit=false\n\
             max.poll.records=7\n\
             partition.assignment.strategy=org.apache.kafka.clients.consumer.RoundRobinAssignor,range\n\
             session.timeout.ms=6000\n",
        )
        .unwrap();
        let c = ConsumerConfig::from_properties(&props).unwrap();
        assert_eq!(c.group_id.as_deref(), Some("g1"));
        assert_eq!(c.auto_offset_reset, AutoOffsetReset::Earliest);
        assert_eq!(c.isolation_level, IsolationLevel::ReadCommitted);
        assert!(!c.enable_auto_commit);
        assert_eq!(c.max_poll_records, 7);
        assert_eq!(c.partition_assignment_strategy, ["roundrobin", "range"]);
        assert_eq!(c.session_timeout, Duration::from_secs(6));
        assert_eq!(c.client.bootstrap_servers, ["127.0.0.1:9092"]);

        let bad = Properties::parse("bootstrap.servers=a:1\nlinger.ms=5\n").unwrap();
        assert!(matches!(
            ConsumerConfig::from_properties(&bad),
            Err(ConfigError::UnknownKey { key }) if key == "linger.ms"
        ));
    }

    #[test]
    fn validate_catches_incompatible_choices() {
        let err = ConsumerConfig::builder("h:1")
            .heartbeat_interval(Duration::from_secs(10))
            .session_timeout(Duration::from_secs(6))
            .build()
            .unwrap_err();
        assert!(matches!(err, ConfigError::Incompatible { .. }));
        let err = ConsumerConfig::builder("h:1")
            .group_instance_id("i")
            .build()
            .unwrap_err();
        assert!(matches!(err, ConfigError::Incompatible { .. }));
        let err = ConsumerConfig::builder("h:1")
            .set("auto.offset.reset", "sideways")
            .unwrap_err();
        assert!(matches!(err, ConfigError::InvalidValue { .. }));
        assert!(ConsumerConfig::builder("h:1")
            .max_poll_records(0)
            .build()
            .is_err());
    }

    #[test]
    fn consumer_group_protocol_refuses_classic_only_settings() {
        let c = ConsumerConfig::builder("h:1")
            .set("group.protocol", "CONSUMER")
            .unwrap()
            .set("group.remote.assignor", "uniform")
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(c.group_protocol, GroupProtocol::Consumer);
        assert_eq!(c.group_remote_assignor.as_deref(), Some("uniform"));
        assert_eq!(
            ConsumerConfig::default().group_protocol,
            GroupProtocol::Classic
        );

        // Refused even when set to the default value, as Java checks what the user gave.
        for (key, value) in [
            ("session.timeout.ms", "45000"),
            ("heartbeat.interval.ms", "3000"),
            ("partition.assignment.strategy", "range,cooperative-sticky"),
        ] {
            let props = Properties::parse(&format!(
                "bootstrap.servers=h:1\ngroup.protocol=consumer\n{key}={value}\n"
            ))
            .unwrap();
            let err = ConsumerConfig::from_properties(&props).unwrap_err();
            assert_eq!(
                err,
                ConfigError::NotForGroupProtocol {
                    key: match key {
                        "session.timeout.ms" => "session.timeout.ms",
                        "heartbeat.interval.ms" => "heartbeat.interval.ms",
                        _ => "partition.assignment.strategy",
                    },
                    protocol: "consumer"
                },
                "{key}"
            );
            assert!(err.to_string().contains(key));
        }
        let err = ConsumerConfig::builder("h:1")
            .group_protocol(GroupProtocol::Consumer)
            .session_timeout(Duration::from_secs(10))
            .build()
            .unwrap_err();
        assert!(matches!(
            err,
            ConfigError::NotForGroupProtocol {
                key: "session.timeout.ms",
                ..
            }
        ));
        // The same settings are fine with the classic protocol.
        assert!(ConsumerConfig::builder("h:1")
            .session_timeout(Duration::from_secs(10))
            .build()
            .is_ok());
        // group.remote.assignor is for the consumer protocol only.
        let err = ConsumerConfig::builder("h:1")
            .group_remote_assignor("range")
            .build()
            .unwrap_err();
        assert_eq!(
            err,
            ConfigError::NotForGroupProtocol {
                key: "group.remote.assignor",
                protocol: "classic"
            }
        );
        assert!(matches!(
            ConsumerConfig::builder("h:1").set("group.protocol", "modern"),
            Err(ConfigError::InvalidValue { .. })
        ));
    }
}
