//! Client configuration: [`ClientConfig`], loaded from a builder, a Java `.properties` file
//! ([`Properties`]) or a map of Java setting names.
//!
//! Every field names its Java setting and default. Settings apply one at a time through
//! [`ClientConfig::apply`], which says whether it knew the key, so that the producer and
//! consumer configs can take the client's keys first and their own after.

mod builder;
mod error;
pub mod parse;
mod properties;
mod security;

use std::path::PathBuf;
use std::time::Duration;

pub use builder::ClientConfigBuilder;
pub use error::ConfigError;
pub use properties::Properties;
pub use security::{SaslMechanism, SecurityProtocol};

/// Which records a fetch or an offset lookup sees: Java's `isolation.level` (KIP-98).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IsolationLevel {
    /// `read_uncommitted` (0): every record up to the high watermark, including records of open
    /// and aborted transactions. The Java default.
    #[default]
    ReadUncommitted,
    /// `read_committed` (1): records up to the last stable offset; records of aborted
    /// transactions are dropped using the fetch response's aborted-transaction list.
    ReadCommitted,
}

impl IsolationLevel {
    /// The `isolation_level` byte of a Fetch or ListOffsets request.
    pub fn as_i8(self) -> i8 {
        match self {
            IsolationLevel::ReadUncommitted => 0,
            IsolationLevel::ReadCommitted => 1,
        }
    }
}

impl std::str::FromStr for IsolationLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "read_uncommitted" => Ok(IsolationLevel::ReadUncommitted),
            "read_committed" => Ok(IsolationLevel::ReadCommitted),
            _ => Err("expected read_uncommitted or read_committed".into()),
        }
    }
}

/// What the client does when none of the brokers it knows from metadata answers (Java
/// `metadata.recovery.strategy`, KIP-899).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataRecoveryStrategy {
    /// Go back to `bootstrap.servers` (resolved again), as at startup. The default.
    Rebootstrap,
    /// Keep trying the known brokers only.
    None,
}

/// Settings shared by everything that talks to brokers.
///
/// Build it with [`ClientConfig::builder`], from [`Properties`] with
/// [`ClientConfig::from_properties`], or start from [`ClientConfig::default`] and [`apply`]
/// Java-named settings one by one. Times are [`Duration`]s; the Java settings are in ms.
///
/// [`apply`]: ClientConfig::apply
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ClientConfig {
    /// `bootstrap.servers`: `host:port` pairs used to find the cluster. Required, no default.
    pub bootstrap_servers: Vec<String>,
    /// `client.id`: sent in every request header for broker logs and quotas. Default `"rafka"`.
    pub client_id: String,
    /// `request.timeout.ms`: how long one request may wait for its response. Default 30 s.
    pub request_timeout: Duration,
    /// `default.api.timeout.ms`: the overall deadline of an operation with retries (admin calls,
    /// metadata waits). Default 60 s.
    pub default_api_timeout: Duration,
    /// `metadata.max.age.ms`: metadata older than this is refreshed even without a stale error.
    /// Default 5 min.
    pub metadata_max_age: Duration,
    /// `retry.backoff.ms`: the first wait before a retry. Default 100 ms.
    pub retry_backoff: Duration,
    /// `retry.backoff.max.ms`: the exponential retry wait stops growing here (KIP-580).
    /// Default 1 s.
    pub retry_backoff_max: Duration,
    /// `reconnect.backoff.ms`: the first wait before reconnecting to a broker. Default 50 ms.
    pub reconnect_backoff: Duration,
    /// `reconnect.backoff.max.ms`: the exponential reconnect wait stops growing here (KIP-144).
    /// Default 1 s.
    pub reconnect_backoff_max: Duration,
    /// `connections.max.idle.ms`: a connection with no request for this long is closed.
    /// Default 9 min.
    pub connections_max_idle: Duration,
    /// `socket.connection.setup.timeout.ms`: TCP connect plus TLS, ApiVersions and SASL must
    /// finish within this (KIP-601). Default 10 s.
    pub socket_connection_setup_timeout: Duration,
    /// Largest response frame accepted, in bytes (Java: `socket.request.max.bytes` on the
    /// broker; librdkafka: `receive.message.max.bytes`). Default 100 MiB.
    pub max_frame_size: usize,
    /// `metadata.recovery.strategy` (KIP-899): [`MetadataRecoveryStrategy::Rebootstrap`] (the
    /// default, as in Java 4.0+) lets the client go back to `bootstrap.servers` when no known
    /// broker answers; `None` keeps it to the brokers metadata named.
    pub metadata_recovery_strategy: MetadataRecoveryStrategy,
    /// `metadata.recovery.rebootstrap.trigger.ms` (KIP-1102): with the rebootstrap strategy,
    /// once metadata has not been refreshed for this long the bootstrap servers are asked
    /// first, even if known brokers still accept connections. Default 300000 ms (5 min).
    pub metadata_recovery_rebootstrap_trigger: Duration,
    /// `allow.auto.create.topics`: whether Metadata requests may create missing topics (only
    /// when the broker has `auto.create.topics.enable`). Default true.
    pub allow_auto_create_topics: bool,
    /// `security.protocol`. Default `PLAINTEXT`.
    pub security_protocol: SecurityProtocol,
    /// `sasl.mechanism` (librdkafka `sasl.mechanisms`). Default `PLAIN`.
    pub sasl_mechanism: SaslMechanism,
    /// `sasl.username` (librdkafka), or `username="…"` in `sasl.jaas.config`. No default.
    pub sasl_username: Option<String>,
    /// `sasl.password` (librdkafka), or `password="…"` in `sasl.jaas.config`. No default.
    pub sasl_password: Option<String>,
    /// `ssl.ca.location` (librdkafka), also accepted as `ssl.truststore.location` when the file
    /// is PEM (JKS/PKCS#12 stores are not read). PEM CA certificates that verify the brokers;
    /// when unset the Mozilla roots of `webpki-roots` are used.
    pub ssl_ca_location: Option<PathBuf>,
    /// `ssl.certificate.location` (librdkafka): PEM client certificate chain for mutual TLS.
    pub ssl_certificate_location: Option<PathBuf>,
    /// `ssl.key.location` (librdkafka): PEM private key (PKCS#8, PKCS#1 or SEC1) of the client
    /// certificate.
    pub ssl_key_location: Option<PathBuf>,
    /// `ssl.endpoint.identification.algorithm`: `https` (the default, true) checks that the
    /// broker certificate names the host connected to; empty (false) skips only that check —
    /// the chain is still verified.
    pub ssl_endpoint_identification: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            bootstrap_servers: Vec::new(),
            client_id: "rafka".to_string(),
            request_timeout: Duration::from_millis(30_000),
            default_api_timeout: Duration::from_millis(60_000),
            metadata_max_age: Duration::from_millis(300_000),
            metadata_recovery_strategy: MetadataRecoveryStrategy::Rebootstrap,
            metadata_recovery_rebootstrap_trigger: Duration::from_millis(300_000),
            retry_backoff: Duration::from_millis(100),
            retry_backoff_max: Duration::from_millis(1_000),
            reconnect_backoff: Duration::from_millis(50),
            reconnect_backoff_max: Duration::from_millis(1_000),
            connections_max_idle: Duration::from_millis(540_000),
            socket_connection_setup_timeout: Duration::from_millis(10_000),
            max_frame_size: rafka_wire::frame::DEFAULT_MAX_FRAME_SIZE,
            allow_auto_create_topics: true,
            security_protocol: SecurityProtocol::Plaintext,
            sasl_mechanism: SaslMechanism::Plain,
            sasl_username: None,
            sasl_password: None,
            ssl_ca_location: None,
            ssl_certificate_location: None,
            ssl_key_location: None,
            ssl_endpoint_identification: true,
        }
    }
}

impl ClientConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> ClientConfigBuilder {
        ClientConfigBuilder {
            config: ClientConfig::default(),
        }
    }

    /// The defaults with `bootstrap.servers` set from a comma-separated `host:port` list.
    pub fn new(bootstrap_servers: &str) -> Self {
        ClientConfig {
            bootstrap_servers: parse::list(bootstrap_servers),
            ..ClientConfig::default()
        }
    }

    /// Applies one Java-named setting. Returns `Ok(true)` when the key is a client setting
    /// (and was applied), `Ok(false)` when it is not (the caller may know it).
    ///
    /// # Errors
    /// [`ConfigError::InvalidValue`] naming the key when the value does not parse.
    pub fn apply(&mut self, key: &str, value: &str) -> Result<bool, ConfigError> {
        let v = value.trim();
        match key {
            "bootstrap.servers" | "metadata.broker.list" => {
                self.bootstrap_servers = parse::list(v);
            }
            "client.id" => self.client_id = v.to_string(),
            "request.timeout.ms" => self.request_timeout = parse::ms(key, v)?,
            "default.api.timeout.ms" => self.default_api_timeout = parse::ms(key, v)?,
            "metadata.max.age.ms" => self.metadata_max_age = parse::ms(key, v)?,
            "metadata.recovery.strategy" => {
                self.metadata_recovery_strategy = match v.to_ascii_lowercase().as_str() {
                    "rebootstrap" => MetadataRecoveryStrategy::Rebootstrap,
                    "none" => MetadataRecoveryStrategy::None,
                    _ => {
                        return Err(ConfigError::invalid(
                            key,
                            value,
                            "expected rebootstrap or none",
                        ))
                    }
                }
            }
            "metadata.recovery.rebootstrap.trigger.ms" => {
                self.metadata_recovery_rebootstrap_trigger = parse::ms(key, v)?
            }
            "retry.backoff.ms" => self.retry_backoff = parse::ms(key, v)?,
            "retry.backoff.max.ms" => self.retry_backoff_max = parse::ms(key, v)?,
            "reconnect.backoff.ms" => self.reconnect_backoff = parse::ms(key, v)?,
            "reconnect.backoff.max.ms" => self.reconnect_backoff_max = parse::ms(key, v)?,
            "connections.max.idle.ms" => self.connections_max_idle = parse::ms(key, v)?,
            "socket.connection.setup.timeout.ms" => {
                self.socket_connection_setup_timeout = parse::ms(key, v)?
            }
            "socket.request.max.bytes" | "receive.message.max.bytes" => {
                self.max_frame_size = v
                    .parse::<usize>()
                    .map_err(|e| ConfigError::invalid(key, value, e.to_string()))?
            }
            "allow.auto.create.topics" => self.allow_auto_create_topics = parse::bool(key, v)?,
            "security.protocol" => {
                self.security_protocol =
                    v.parse().map_err(|e| ConfigError::invalid(key, value, e))?
            }
            "sasl.mechanism" | "sasl.mechanisms" => {
                self.sasl_mechanism = v.parse().map_err(|e| ConfigError::invalid(key, value, e))?
            }
            "sasl.username" => self.sasl_username = Some(value.to_string()),
            "sasl.password" => self.sasl_password = Some(value.to_string()),
            "sasl.jaas.config" => {
                let (user, password) = parse_jaas(value).ok_or_else(|| {
                    ConfigError::invalid(key, value, "expected username=\"…\" password=\"…\"")
                })?;
                self.sasl_username = Some(user);
                self.sasl_password = Some(password);
            }
            "ssl.ca.location" | "ssl.truststore.location" => {
                self.ssl_ca_location = Some(PathBuf::from(v))
            }
            "ssl.certificate.location" => self.ssl_certificate_location = Some(PathBuf::from(v)),
            "ssl.key.location" => self.ssl_key_location = Some(PathBuf::from(v)),
            "ssl.endpoint.identification.algorithm" => {
                self.ssl_endpoint_identification = match v.to_ascii_lowercase().as_str() {
                    "https" => true,
                    "" | "none" => false,
                    _ => {
                        return Err(ConfigError::invalid(
                            key,
                            value,
                            "expected \"https\" or \"\"",
                        ))
                    }
                }
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Builds a config from Java-named settings, taking out the keys it knows and returning
    /// the rest for the next component (producer, consumer). The result is validated.
    ///
    /// # Errors
    /// The first [`ConfigError::InvalidValue`] met, or what [`ClientConfig::validate`] finds.
    pub fn from_properties(props: &Properties) -> Result<(ClientConfig, Properties), ConfigError> {
        let mut config = ClientConfig::default();
        let mut rest = Properties::new();
        for (key, value) in props.iter() {
            if !config.apply(key, value)? {
                rest.set(key, value);
            }
        }
        config.validate()?;
        Ok((config, rest))
    }

    /// [`ConfigError::FeatureDisabled`] when the security protocol uses TLS and this build has no
    /// `tls` feature.
    pub(crate) fn check_tls_available(&self) -> Result<(), ConfigError> {
        if self.security_protocol.uses_tls() && !cfg!(feature = "tls") {
            return Err(ConfigError::FeatureDisabled {
                key: "security.protocol",
                value: if self.security_protocol == SecurityProtocol::Ssl {
                    "SSL".to_string()
                } else {
                    "SASL_SSL".to_string()
                },
                feature: "tls",
            });
        }
        Ok(())
    }

    /// Checks the settings together.
    ///
    /// # Errors
    /// [`ConfigError::Missing`] without bootstrap servers or, under SASL, without username or
    /// password; [`ConfigError::FeatureDisabled`] for `SSL`/`SASL_SSL` in a build without the
    /// `tls` feature; [`ConfigError::InvalidValue`] for a server that is not `host:port`, a zero
    /// timeout or a frame cap under 1 KiB; [`ConfigError::Incompatible`] when a maximum backoff
    /// is below its initial value or a client certificate comes without its key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.check_tls_available()?;
        if self.bootstrap_servers.is_empty() {
            return Err(ConfigError::Missing {
                key: "bootstrap.servers",
            });
        }
        for server in &self.bootstrap_servers {
            split_host_port(server).ok_or_else(|| {
                ConfigError::invalid("bootstrap.servers", server, "expected host:port")
            })?;
        }
        for (key, value) in [
            ("request.timeout.ms", self.request_timeout),
            ("default.api.timeout.ms", self.default_api_timeout),
            (
                "socket.connection.setup.timeout.ms",
                self.socket_connection_setup_timeout,
            ),
        ] {
            if value.is_zero() {
                return Err(ConfigError::invalid(key, "0", "must be positive"));
            }
        }
        if self.max_frame_size < 1024 {
            return Err(ConfigError::invalid(
                "socket.request.max.bytes",
                &self.max_frame_size.to_string(),
                "must be at least 1024",
            ));
        }
        if self.retry_backoff_max < self.retry_backoff {
            return Err(ConfigError::Incompatible {
                reason: "retry.backoff.max.ms is below retry.backoff.ms".into(),
            });
        }
        if self.reconnect_backoff_max < self.reconnect_backoff {
            return Err(ConfigError::Incompatible {
                reason: "reconnect.backoff.max.ms is below reconnect.backoff.ms".into(),
            });
        }
        if self.security_protocol.uses_sasl() {
            if self.sasl_username.is_none() {
                return Err(ConfigError::Missing {
                    key: "sasl.username",
                });
            }
            if self.sasl_password.is_none() {
                return Err(ConfigError::Missing {
                    key: "sasl.password",
                });
            }
        }
        if self.ssl_certificate_location.is_some() != self.ssl_key_location.is_some() {
            return Err(ConfigError::Incompatible {
                reason: "ssl.certificate.location and ssl.key.location must be set together".into(),
            });
        }
        Ok(())
    }
}

/// Splits `host:port` (IPv6 as `[::1]:9092`) into host and port.
pub(crate) fn split_host_port(s: &str) -> Option<(String, u16)> {
    let (host, port) = s.rsplit_once(':')?;
    let port = port.parse().ok()?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return None;
    }
    Some((host.to_string(), port))
}

/// Pulls `username="…"` and `password="…"` out of a JAAS line such as
/// `org.apache.kafka.common.security.scram.ScramLoginModule required username="u" password="p";`.
/// The login module class is not checked: the mechanism comes from `sasl.mechanism`.
fn parse_jaas(s: &str) -> Option<(String, String)> {
    fn field(s: &str, name: &str) -> Option<String> {
        let mut rest = s;
        loop {
            let at = rest.find(name)?;
            let before_ok = at == 0 || rest.as_bytes()[at - 1].is_ascii_whitespace();
            let after = rest[at + name.len()..].trim_start();
            if before_ok {
                if let Some(after) = after.strip_prefix('=') {
                    let after = after.trim_start();
                    if let Some(quoted) = after.strip_prefix('"') {
                        let mut out = String::new();
                        let mut chars = quoted.chars();
                        while let Some(c) = chars.next() {
                            match c {
                                '\\' => out.push(chars.next()?),
                                '"' => return Some(out),
                                c => out.push(c),
                            }
                        }
                        return None;
                    }
                    let end = after
                        .find(|c: char| c.is_whitespace() || c == ';')
                        .unwrap_or(after.len());
                    return Some(after[..end].to_string());
                }
            }
            rest = &rest[at + name.len()..];
        }
    }
    Some((field(s, "username")?, field(s, "password")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_java() {
        let c = ClientConfig::default();
        assert_eq!(c.client_id, "rafka");
        assert_eq!(c.request_timeout, Duration::from_secs(30));
        assert_eq!(c.metadata_max_age, Duration::from_secs(300));
        assert_eq!(c.retry_backoff, Duration::from_millis(100));
        assert_eq!(c.retry_backoff_max, Duration::from_secs(1));
        assert_eq!(c.reconnect_backoff, Duration::from_millis(50));
        assert_eq!(c.socket_connection_setup_timeout, Duration::from_secs(10));
        assert_eq!(c.max_frame_size, 100 * 1024 * 1024);
        assert!(c.ssl_endpoint_identification);
    }

    #[test]
    fn from_properties_takes_known_keys_and_returns_rest() {
        let props = Properties::parse(
            "bootstrap.servers=a:9092, b:9093\nclient.id=me\nrequest.timeout.ms=1500\nacks=all\nlinger.ms=5\n",
        )
        .unwrap();
        let (c, rest) = ClientConfig::from_properties(&props).unwrap();
        assert_eq!(c.bootstrap_servers, vec!["a:9092", "b:9093"]);
        assert_eq!(c.client_id, "me");
        assert_eq!(c.request_timeout, Duration::from_millis(1500));
        assert_eq!(
            rest.iter().collect::<Vec<_>>(),
            vec![("acks", "all"), ("linger.ms", "5")]
        );
    }

    #[test]
    fn metadata_recovery_settings() {
        let mut c = ClientConfig::default();
        assert_eq!(
            c.metadata_recovery_strategy,
            MetadataRecoveryStrategy::Rebootstrap
        );
        assert_eq!(
            c.metadata_recovery_rebootstrap_trigger,
            Duration::from_secs(300)
        );
        assert!(c.apply("metadata.recovery.strategy", "NONE").unwrap());
        assert!(c
            .apply("metadata.recovery.rebootstrap.trigger.ms", "1000")
            .unwrap());
        assert_eq!(c.metadata_recovery_strategy, MetadataRecoveryStrategy::None);
        assert_eq!(
            c.metadata_recovery_rebootstrap_trigger,
            Duration::from_secs(1)
        );
        assert!(c.apply("metadata.recovery.strategy", "sometimes").is_err());
    }

    #[test]
    fn invalid_values_name_the_key() {
        let mut c = ClientConfig::default();
        let err = c.apply("retry.backoff.ms", "soon").unwrap_err();
        assert!(matches!(&err, ConfigError::InvalidValue { key, .. } if key == "retry.backoff.ms"));
        assert!(err.to_string().contains("retry.backoff.ms"));
        assert!(c.apply("security.protocol", "TLS").is_err());
        assert_eq!(c.apply("no.such.key", "1"), Ok(false));
        let err = ClientConfig::builder().set("no.such.key", "1").unwrap_err();
        assert_eq!(
            err,
            ConfigError::UnknownKey {
                key: "no.such.key".into()
            }
        );
    }

    #[test]
    fn jaas_and_librdkafka_sasl_keys() {
        let mut c = ClientConfig::new("h:1");
        c.apply("security.protocol", "sasl_ssl").unwrap();
        c.apply("sasl.mechanism", "SCRAM-SHA-512").unwrap();
        c.apply(
            "sasl.jaas.config",
            r#"org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="p\"w d";"#,
        )
        .unwrap();
        assert_eq!(c.sasl_username.as_deref(), Some("alice"));
        assert_eq!(c.sasl_password.as_deref(), Some("p\"w d"));
        assert_eq!(c.security_protocol, SecurityProtocol::SaslSsl);
        assert_eq!(c.sasl_mechanism, SaslMechanism::ScramSha512);
        // SASL_SSL needs the tls feature (see tls_needs_the_tls_feature).
        assert_eq!(c.validate().is_ok(), cfg!(feature = "tls"));
        c.apply("sasl.username", "bob").unwrap();
        assert_eq!(c.sasl_username.as_deref(), Some("bob"));
    }

    #[test]
    fn tls_needs_the_tls_feature() {
        let mut c = ClientConfig::new("localhost:9092");
        c.security_protocol = SecurityProtocol::Ssl;
        if cfg!(feature = "tls") {
            c.validate().unwrap();
        } else {
            assert_eq!(
                c.validate(),
                Err(ConfigError::FeatureDisabled {
                    key: "security.protocol",
                    value: "SSL".into(),
                    feature: "tls",
                })
            );
        }
    }

    #[test]
    fn validate_catches_bad_combinations() {
        assert_eq!(
            ClientConfig::default().validate(),
            Err(ConfigError::Missing {
                key: "bootstrap.servers"
            })
        );
        assert!(matches!(
            ClientConfig::new("nohost").validate(),
            Err(ConfigError::InvalidValue { .. })
        ));
        let c = ClientConfig::builder()
            .bootstrap_servers("h:1")
            .retry_backoff(Duration::from_secs(2))
            .build();
        assert!(matches!(c, Err(ConfigError::Incompatible { .. })));
        let c = ClientConfig::builder()
            .bootstrap_servers("h:1")
            .security_protocol(SecurityProtocol::SaslPlaintext)
            .build();
        assert_eq!(
            c,
            Err(ConfigError::Missing {
                key: "sasl.username"
            })
        );
        let c = ClientConfig::builder()
            .bootstrap_servers("h:1,[::1]:9092")
            .ssl_certificate_location(Some("c.pem".into()))
            .build();
        assert!(matches!(c, Err(ConfigError::Incompatible { .. })));
    }

    #[test]
    fn host_port() {
        assert_eq!(split_host_port("[::1]:9092"), Some(("::1".into(), 9092)));
        assert_eq!(split_host_port("h:1"), Some(("h".into(), 1)));
        assert_eq!(split_host_port(":1"), None);
        assert_eq!(split_host_port("h:x"), None);
    }
}
