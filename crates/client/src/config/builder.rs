//! [`ClientConfigBuilder`]: a [`ClientConfig`] set field by field.

use std::path::PathBuf;
use std::time::Duration;

use super::{parse, ClientConfig, ConfigError, SaslMechanism, SecurityProtocol};

/// Builds a [`ClientConfig`]; every method is named after the field it sets.
#[derive(Debug, Clone)]
pub struct ClientConfigBuilder {
    pub(super) config: ClientConfig,
}

/// One builder method per listed field: `name: Type;` makes `pub fn name(mut self, value:
/// Type) -> Self` that sets `self.config.name`. Shared by the client's, the producer's and the
/// consumer's config builders, whose inner config field is named `config`.
#[doc(hidden)]
#[macro_export]
macro_rules! config_setters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(mut self, value: $ty) -> Self {
                self.config.$name = value;
                self
            }
        )*
    };
}

impl ClientConfigBuilder {
    /// `bootstrap.servers` from a comma-separated `host:port` list.
    pub fn bootstrap_servers(mut self, servers: &str) -> Self {
        self.config.bootstrap_servers = parse::list(servers);
        self
    }

    /// `client.id`.
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.config.client_id = id.into();
        self
    }

    /// `sasl.username` and `sasl.password` together.
    pub fn sasl_credentials(
        mut self,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        self.config.sasl_username = Some(username.into());
        self.config.sasl_password = Some(password.into());
        self
    }

    crate::config_setters! {
        /// `metadata.recovery.strategy` (KIP-899).
        metadata_recovery_strategy: super::MetadataRecoveryStrategy;
        /// `metadata.recovery.rebootstrap.trigger.ms` (KIP-1102).
        metadata_recovery_rebootstrap_trigger: Duration;
        /// `request.timeout.ms`.
        request_timeout: Duration;
        /// `default.api.timeout.ms`.
        default_api_timeout: Duration;
        /// `metadata.max.age.ms`.
        metadata_max_age: Duration;
        /// `retry.backoff.ms`.
        retry_backoff: Duration;
        /// `retry.backoff.max.ms`.
        retry_backoff_max: Duration;
        /// `reconnect.backoff.ms`.
        reconnect_backoff: Duration;
        /// `reconnect.backoff.max.ms`.
        reconnect_backoff_max: Duration;
        /// `connections.max.idle.ms`.
        connections_max_idle: Duration;
        /// `socket.connection.setup.timeout.ms`.
        socket_connection_setup_timeout: Duration;
        /// Largest response frame accepted, bytes.
        max_frame_size: usize;
        /// `allow.auto.create.topics`.
        allow_auto_create_topics: bool;
        /// `security.protocol`.
        security_protocol: SecurityProtocol;
        /// `sasl.mechanism`.
        sasl_mechanism: SaslMechanism;
        /// `ssl.ca.location` (PEM).
        ssl_ca_location: Option<PathBuf>;
        /// `ssl.certificate.location` (PEM).
        ssl_certificate_location: Option<PathBuf>;
        /// `ssl.key.location` (PEM).
        ssl_key_location: Option<PathBuf>;
        /// `ssl.endpoint.identification.algorithm` (`https` = true).
        ssl_endpoint_identification: bool;
    }

    /// Applies a Java-named setting (see [`ClientConfig::apply`]).
    ///
    /// # Errors
    /// [`ConfigError::UnknownKey`] for a key the client does not know, else as `apply`.
    pub fn set(mut self, key: &str, value: &str) -> Result<Self, ConfigError> {
        ConfigError::known(self.config.apply(key, value)?, key)?;
        Ok(self)
    }

    /// Validates and returns the config.
    ///
    /// # Errors
    /// As [`ClientConfig::validate`].
    pub fn build(self) -> Result<ClientConfig, ConfigError> {
        self.config.validate()?;
        Ok(self.config)
    }
}
