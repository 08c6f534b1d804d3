//! [`ProducerConfigBuilder`]: one method per [`ProducerConfig`] field, `build()` validates.
//! The same shape as the consumer's `ConsumerConfigBuilder`.

use std::time::Duration;

use rafka_client::ClientConfig;

use super::{Acks, CompressionType, ConfigError, PartitionerChoice, ProducerConfig};

/// Builds a [`ProducerConfig`]; each method is named after the field it sets, and the docs of
/// that field give the Java setting and its default. Start with [`ProducerConfig::builder`].
#[derive(Debug, Clone)]
pub struct ProducerConfigBuilder {
    config: ProducerConfig,
}

impl ProducerConfigBuilder {
    pub(super) fn new(config: ProducerConfig) -> Self {
        ProducerConfigBuilder { config }
    }

    rafka_client::config_setters! {
        /// `acks`.
        acks: Acks;
        /// `linger.ms`.
        linger: Duration;
        /// `batch.size`, in bytes.
        batch_size: usize;
        /// `buffer.memory`, in bytes.
        buffer_memory: usize;
        /// `max.block.ms`.
        max_block: Duration;
        /// `max.request.size`, in bytes.
        max_request_size: usize;
        /// `retries`.
        retries: i32;
        /// `delivery.timeout.ms`.
        delivery_timeout: Duration;
        /// `max.in.flight.requests.per.connection`.
        max_in_flight: usize;
        /// `enable.idempotence`.
        enable_idempotence: bool;
        /// `transaction.timeout.ms`.
        transaction_timeout: Duration;
        /// `partitioner.class`: one of the built-in partitioners. A partitioner of your own
        /// goes to [`Producer::builder`](crate::Producer::builder) instead.
        partitioner_class: PartitionerChoice;
        /// `partitioner.ignore.keys`.
        partitioner_ignore_keys: bool;
    }

    /// `compression.type` and its level (`compression.<codec>.level`, KIP-390; `None` = the
    /// codec's default).
    pub fn compression(mut self, codec: CompressionType, level: Option<i32>) -> Self {
        self.config.compression = codec;
        self.config.compression_level = level;
        self
    }

    /// `transactional.id` (transactions need idempotence, which is on by default).
    pub fn transactional_id(mut self, id: impl Into<String>) -> Self {
        self.config.transactional_id = Some(id.into());
        self
    }

    /// `client.id`.
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.config.client.client_id = id.into();
        self
    }

    /// `request.timeout.ms`.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.config.client.request_timeout = timeout;
        self
    }

    /// `retry.backoff.ms` and `retry.backoff.max.ms` (KIP-580).
    pub fn retry_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.config.client.retry_backoff = initial;
        self.config.client.retry_backoff_max = max;
        self
    }

    /// Replaces the connection settings (TLS, SASL, `client.id`, timeouts); the bootstrap
    /// servers given to [`ProducerConfig::builder`] are kept when `client` has none.
    pub fn client(mut self, client: ClientConfig) -> Self {
        let bootstrap = std::mem::take(&mut self.config.client.bootstrap_servers);
        self.config.client = client;
        if self.config.client.bootstrap_servers.is_empty() {
            self.config.client.bootstrap_servers = bootstrap;
        }
        self
    }

    /// Applies a Java-named setting, producer or client (see [`ProducerConfig::apply`]).
    ///
    /// # Errors
    /// [`ConfigError::UnknownKey`] for a key neither knows, else as `apply`.
    pub fn set(mut self, key: &str, value: &str) -> Result<Self, ConfigError> {
        ConfigError::known(self.config.apply(key, value)?, key)?;
        Ok(self)
    }

    /// Validates and returns the config.
    ///
    /// # Errors
    /// As [`ProducerConfig::validate`].
    pub fn build(self) -> Result<ProducerConfig, ConfigError> {
        self.config.validate()?;
        Ok(self.config)
    }
}
