//! Producer configuration: one struct, Java property names, one `validate()`.
//!
//! Every field documents the Java `ProducerConfig` setting it mirrors and its default, so a
//! Java properties file can be applied key by key with [`ProducerConfig::apply`].

use std::time::Duration;

use rafka_client::config::{parse, Properties};
use rafka_client::ClientConfig;

mod builder;

pub use builder::ProducerConfigBuilder;

/// How many acknowledgements the leader must gather before answering a produce request
/// (Java `acks`, default `all`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acks {
    /// `acks=0`: the broker sends no response; offsets are unknown (reported as -1).
    None,
    /// `acks=1`: the leader answers once the batch is in its local log.
    Leader,
    /// `acks=all` / `acks=-1`: the leader answers once every in-sync replica has the batch.
    All,
}

impl Acks {
    /// The `acks` field of ProduceRequest: 0, 1 or -1.
    pub fn as_i16(self) -> i16 {
        match self {
            Acks::None => 0,
            Acks::Leader => 1,
            Acks::All => -1,
        }
    }
}

/// Compression codec of produced batches (Java `compression.type`, default `none`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompressionType {
    /// No compression.
    None,
    /// gzip (deflate); level 1..=9, Java `compression.gzip.level` (KIP-390).
    Gzip,
    /// Snappy in the xerial framing Kafka uses; no level.
    Snappy,
    /// LZ4 frame; level 1..=17, Java `compression.lz4.level` (KIP-390).
    Lz4,
    /// Zstandard; level -131072..=22, Java `compression.zstd.level` (KIP-390).
    Zstd,
}

impl CompressionType {
    /// The Java name of the codec (`none`, `gzip`, ...).
    pub fn name(self) -> &'static str {
        match self {
            CompressionType::None => "none",
            CompressionType::Gzip => "gzip",
            CompressionType::Snappy => "snappy",
            CompressionType::Lz4 => "lz4",
            CompressionType::Zstd => "zstd",
        }
    }
}

/// Which built-in partitioner picks the partition of a record that names none (Java
/// `partitioner.class`, default: the built-in partitioner of KIP-794).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionerChoice {
    /// Keyed records: `toPositive(murmur2(key)) % partitions`; unkeyed records: the uniform
    /// sticky partitioner of KIP-794 (Java's `BuiltInPartitioner`). Java names:
    /// unset, `org.apache.kafka.clients.producer.internals.DefaultPartitioner`,
    /// `org.apache.kafka.clients.producer.UniformStickyPartitioner` (the latter also ignores
    /// keys, as in Java).
    Default,
    /// One partition after the other per topic, keys ignored (Java
    /// `org.apache.kafka.clients.producer.RoundRobinPartitioner`).
    RoundRobin,
    /// Sticky for every record, keys ignored (Java
    /// `org.apache.kafka.clients.producer.UniformStickyPartitioner`).
    UniformSticky,
}

/// A configuration value rejected by [`ProducerConfig::apply`] or [`ProducerConfig::validate`]:
/// the client's one configuration error type, shared by every component.
pub use rafka_client::ConfigError;

/// Producer configuration. Build it with [`ProducerConfig::builder`] (one method per field,
/// then `build()?`, which validates), or load Java properties with
/// [`ProducerConfig::from_properties`]; the consumer's [`ConsumerConfig`] is built the same
/// way. [`ProducerConfig::validate`] runs again when the producer is created, so fields
/// changed by hand are checked too.
///
/// [`ConsumerConfig`]: https://docs.rs/rafka-consumer/latest/rafka_consumer/struct.ConsumerConfig.html
///
/// ```
/// use std::time::Duration;
/// use rafka_producer::{Acks, CompressionType, ProducerConfig};
///
/// let config = ProducerConfig::builder("localhost:9092")
///     .acks(Acks::All)
///     .linger(Duration::from_millis(10))
///     .compression(CompressionType::Zstd, None)
///     .set("delivery.timeout.ms", "60000")?
///     .build()?;
/// assert_eq!(config.batch_size, 16_384);
/// # Ok::<(), rafka_producer::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ProducerConfig {
    /// The connection settings every rafka client shares, embedded rather than copied:
    /// Java `bootstrap.servers` (no default), `client.id` (default `rafka-producer` here),
    /// `request.timeout.ms` (default 30000 ms: the longest one produce request waits for its
    /// response), `retry.backoff.ms` (default 100 ms: the first pause before a retry),
    /// `retry.backoff.max.ms` (default 1000 ms: the cap of the exponential backoff,
    /// KIP-580), `metadata.max.age.ms` (default 300000 ms: metadata older than this is
    /// refreshed), and security, SASL and TLS; see [`ClientConfig`].
    pub client: ClientConfig,
    /// Java `acks`, default `all` (-1).
    pub acks: Acks,
    /// Java `linger.ms`, default 5 ms (Kafka 4.0, KIP-1030): how long a batch waits for more
    /// records before it is sent.
    pub linger: Duration,
    /// Java `batch.size`, default 16384 bytes: the size at which a batch is closed; also the
    /// sticky partitioner's switch threshold (KIP-794).
    pub batch_size: usize,
    /// Java `buffer.memory`, default 33554432 bytes (32 MiB): the bytes records may occupy
    /// while they wait to be acknowledged; `send` blocks up to `max_block` when it is full.
    pub buffer_memory: usize,
    /// Java `max.block.ms`, default 60000 ms: the longest `send` waits for metadata or buffer
    /// space.
    pub max_block: Duration,
    /// Java `max.request.size`, default 1048576 bytes: the largest produce request, hence the
    /// largest record.
    pub max_request_size: usize,
    /// Java `compression.type`, default `none`.
    pub compression: CompressionType,
    /// Java `compression.{gzip,lz4,zstd}.level` (KIP-390), default `None`: the codec's default.
    pub compression_level: Option<i32>,
    /// Java `retries`, default `i32::MAX`: how many times a batch is resent after a retriable
    /// error; `delivery_timeout` bounds the retries in time.
    pub retries: i32,
    /// Java `delivery.timeout.ms`, default 120000 ms: the longest a record may wait between
    /// `send` and its acknowledgement, retries included.
    pub delivery_timeout: Duration,
    /// Java `max.in.flight.requests.per.connection`, default 5.
    pub max_in_flight: usize,
    /// Java `enable.idempotence`, default `true` (KIP-679): producer id + sequences so that
    /// retries write each batch once and in order.
    pub enable_idempotence: bool,
    /// Java `transactional.id`, default none: enables transactions (KIP-98).
    pub transactional_id: Option<String>,
    /// Java `transaction.timeout.ms`, default 60000 ms.
    pub transaction_timeout: Duration,
    /// Java `partitioner.class`, default: the built-in partitioner. A partitioner of your
    /// own is given to [`Producer::builder`](crate::Producer::builder) instead.
    pub partitioner_class: PartitionerChoice,
    /// Java `partitioner.ignore.keys`, default `false`: when true, keyed records are spread
    /// like unkeyed ones (KIP-794).
    pub partitioner_ignore_keys: bool,
    /// Levels given by `compression.<codec>.level` keys, kept per codec because Java applies
    /// only the chosen codec's level.
    level_for: Vec<(CompressionType, i32)>,
}

impl Default for ProducerConfig {
    fn default() -> Self {
        ProducerConfig {
            client: {
                let mut c = ClientConfig::default();
                c.client_id = "rafka-producer".to_string();
                c
            },
            acks: Acks::All,
            linger: Duration::from_millis(5),
            batch_size: 16_384,
            buffer_memory: 32 * 1024 * 1024,
            max_block: Duration::from_secs(60),
            max_request_size: 1024 * 1024,
            compression: CompressionType::None,
            compression_level: None,
            retries: i32::MAX,
            delivery_timeout: Duration::from_secs(120),
            max_in_flight: 5,
            enable_idempotence: true,
            transactional_id: None,
            transaction_timeout: Duration::from_secs(60),
            partitioner_class: PartitionerChoice::Default,
            partitioner_ignore_keys: false,
            level_for: Vec::new(),
        }
    }
}

impl ProducerConfig {
    /// A builder with Java's defaults and the given `bootstrap.servers` (comma list);
    /// [`ProducerConfigBuilder::build`] validates.
    pub fn builder(bootstrap_servers: &str) -> ProducerConfigBuilder {
        let mut config = ProducerConfig::default();
        config.client.bootstrap_servers = parse::list(bootstrap_servers);
        ProducerConfigBuilder::new(config)
    }

    /// A validated configuration from Java properties: producer settings and the client
    /// settings (connection, security) it embeds, in one set.
    ///
    /// # Errors
    /// [`ConfigError::UnknownKey`] for a key neither the producer nor the client knows;
    /// else as [`ProducerConfig::apply`] and [`ProducerConfig::validate`].
    pub fn from_properties(props: &Properties) -> Result<ProducerConfig, ConfigError> {
        let mut config = ProducerConfig::default();
        props.apply_each(|key, value| config.apply(key, value))?;
        config.validate()?;
        Ok(config)
    }

    /// Applies one Java property: a producer setting, or a client setting (connection,
    /// security) to the embedded [`ClientConfig`]. Returns `Ok(true)` when the key was
    /// applied, `Ok(false)` when neither knows it, and an error when the value is malformed.
    pub fn apply(&mut self, key: &str, value: &str) -> Result<bool, ConfigError> {
        match key {
            "acks" => {
                self.acks = match value.trim().to_ascii_lowercase().as_str() {
                    "0" => Acks::None,
                    "1" => Acks::Leader,
                    "all" | "-1" => Acks::All,
                    _ => return Err(ConfigError::invalid(key, value, "expected 0, 1, all or -1")),
                }
            }
            "linger.ms" => self.linger = parse::ms(key, value)?,
            "batch.size" => self.batch_size = parse::size(key, value)?,
            "buffer.memory" => self.buffer_memory = parse::size(key, value)?,
            "max.block.ms" => self.max_block = parse::ms(key, value)?,
            "max.request.size" => self.max_request_size = parse::size(key, value)?,
            "compression.type" => {
                self.compression = match value.trim().to_ascii_lowercase().as_str() {
                    "none" => CompressionType::None,
                    "gzip" => CompressionType::Gzip,
                    "snappy" => CompressionType::Snappy,
                    "lz4" => CompressionType::Lz4,
                    "zstd" => CompressionType::Zstd,
                    _ => {
                        return Err(ConfigError::invalid(
                            key,
                            value,
                            "expected none, gzip, snappy, lz4 or zstd",
                        ))
                    }
                };
                self.compression_level = self.level_of(self.compression);
            }
            // KIP-390: a level key applies only when its codec is the chosen one, so the
            // level is kept per codec name and checked at validate().
            "compression.gzip.level" | "compression.lz4.level" | "compression.zstd.level" => {
                let level: i32 = parse::num(key, value)?;
                let codec = &key["compression.".len()..key.len() - ".level".len()];
                let (lo, hi) = level_range(codec);
                if level < lo || level > hi {
                    return Err(ConfigError::invalid(
                        key,
                        value,
                        format!("must be in {lo}..={hi}"),
                    ));
                }
                self.level_for.push((codec_from_name(codec), level));
                self.compression_level = self.level_of(self.compression);
            }
            "retries" => self.retries = parse::num(key, value)?,
            "delivery.timeout.ms" => self.delivery_timeout = parse::ms(key, value)?,
            "max.in.flight.requests.per.connection" => {
                let n: i64 = parse::num(key, value)?;
                if n < 1 {
                    return Err(ConfigError::invalid(key, value, "must be >= 1"));
                }
                self.max_in_flight = n as usize;
            }
            "enable.idempotence" => self.enable_idempotence = parse::bool(key, value)?,
            "transactional.id" => {
                self.transactional_id = if value.is_empty() {
                    None
                } else {
                    Some(value.to_string())
                }
            }
            "transaction.timeout.ms" => self.transaction_timeout = parse::ms(key, value)?,
            "partitioner.class" => self.partitioner_class = match value.trim() {
                ""
                | "default"
                | "org.apache.kafka.clients.producer.internals.DefaultPartitioner" => {
                    PartitionerChoice::Default
                }
                "round-robin"
                | "roundrobin"
                | "org.apache.kafka.clients.producer.RoundRobinPartitioner" => {
                    PartitionerChoice::RoundRobin
                }
                "uniform-sticky" | "org.apache.kafka.clients.producer.UniformStickyPartitioner" => {
                    PartitionerChoice::UniformSticky
                }
                _ => return Err(ConfigError::invalid(
                    key,
                    value,
                    "unknown partitioner; give your own to Producer::builder(..).partitioner(..)",
                )),
            },
            "partitioner.ignore.keys" => self.partitioner_ignore_keys = parse::bool(key, value)?,
            // Serializers are a Java concern: rafka takes bytes. Accept and ignore them so
            // Java property files load unchanged.
            "key.serializer"
            | "value.serializer"
            | "partitioner.adaptive.partitioning.enable"
            | "partitioner.availability.timeout.ms" => {}
            _ => return self.client.apply(key, value),
        }
        Ok(true)
    }

    /// Checks that the settings can work together, as Java's `KafkaProducer` does at startup.
    ///
    /// Errors: [`ConfigError::Incompatible`] when idempotence (explicit or needed by a
    /// `transactional_id`) meets `acks != all`, `retries == 0` or `max_in_flight > 5`; when
    /// `delivery_timeout < linger + request_timeout`; when a size is zero; when no bootstrap
    /// server is given.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let inc = |reason: String| Err(ConfigError::Incompatible { reason });
        if self.client.bootstrap_servers.is_empty() {
            return inc("bootstrap.servers is empty".into());
        }
        if self.transactional_id.is_some() && !self.enable_idempotence {
            return inc("transactional.id requires enable.idempotence=true".into());
        }
        if self.enable_idempotence {
            if self.acks != Acks::All {
                return inc(format!(
                    "enable.idempotence=true requires acks=all (got acks={}); set \
                     enable.idempotence=false to use other acks",
                    self.acks.as_i16()
                ));
            }
            if self.max_in_flight > 5 {
                return inc(format!(
                    "enable.idempotence=true requires max.in.flight.requests.per.connection <= 5 \
                     (got {})",
                    self.max_in_flight
                ));
            }
            if self.retries == 0 {
                return inc("enable.idempotence=true requires retries > 0".into());
            }
        }
        if self.max_in_flight == 0 {
            return inc("max.in.flight.requests.per.connection must be >= 1".into());
        }
        if self.delivery_timeout < self.linger + self.client.request_timeout {
            return inc(format!(
                "delivery.timeout.ms ({} ms) should be >= linger.ms ({} ms) + request.timeout.ms \
                 ({} ms)",
                self.delivery_timeout.as_millis(),
                self.linger.as_millis(),
                self.client.request_timeout.as_millis()
            ));
        }
        if self.batch_size == 0 {
            return inc("batch.size must be > 0".into());
        }
        if self.max_request_size == 0 || self.buffer_memory == 0 {
            return inc("max.request.size and buffer.memory must be > 0".into());
        }
        if let Some(level) = self.compression_level {
            let (lo, hi) = level_range(self.compression.name());
            if level < lo || level > hi {
                return inc(format!(
                    "compression level {level} out of {lo}..={hi} for {}",
                    self.compression.name()
                ));
            }
        }
        Ok(())
    }

    /// The level set for `codec` with a `compression.<codec>.level` key, if any.
    fn level_of(&self, codec: CompressionType) -> Option<i32> {
        self.level_for
            .iter()
            .rev()
            .find(|(c, _)| *c == codec)
            .map(|(_, l)| *l)
    }
}

fn codec_from_name(name: &str) -> CompressionType {
    match name {
        "gzip" => CompressionType::Gzip,
        "lz4" => CompressionType::Lz4,
        "zstd" => CompressionType::Zstd,
        _ => CompressionType::None,
    }
}

/// KIP-390 level ranges.
fn level_range(codec: &str) -> (i32, i32) {
    match codec {
        "gzip" => (1, 9),
        "lz4" => (1, 17),
        "zstd" => (-131_072, 22),
        // none and snappy take no level; any given level is refused
        _ => (0, -1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_defaults() {
        let c = ProducerConfig::builder("a:9092, b:9092").build().unwrap();
        assert_eq!(c.client.bootstrap_servers, vec!["a:9092", "b:9092"]);
        assert_eq!(c.client.client_id, "rafka-producer");
        assert_eq!(c.client.request_timeout, Duration::from_secs(30));
        assert_eq!(c.acks, Acks::All);
        assert_eq!(c.batch_size, 16384);
        assert_eq!(c.buffer_memory, 33_554_432);
        assert_eq!(c.max_request_size, 1_048_576);
        assert_eq!(c.retries, i32::MAX);
        assert_eq!(c.max_in_flight, 5);
        assert!(c.enable_idempotence);
    }

    #[test]
    fn apply_java_properties() {
        let mut c = ProducerConfig::builder("x:1").build().unwrap();
        assert!(c.apply("acks", "1").unwrap());
        assert!(c.apply("linger.ms", "10").unwrap());
        assert!(c.apply("compression.type", "zstd").unwrap());
        assert!(c.apply("compression.zstd.level", "7").unwrap());
        assert!(c.apply("compression.gzip.level", "3").unwrap());
        assert!(c
            .apply(
                "partitioner.class",
                "org.apache.kafka.clients.producer.RoundRobinPartitioner"
            )
            .unwrap());
        assert!(c.apply("sasl.mechanism", "PLAIN").unwrap());
        assert!(c.apply("request.timeout.ms", "9000").unwrap());
        assert_eq!(c.client.request_timeout, Duration::from_millis(9000));
        assert!(!c.apply("no.such.key", "1").unwrap());
        assert_eq!(c.acks, Acks::Leader);
        assert_eq!(c.linger, Duration::from_millis(10));
        assert_eq!(c.compression, CompressionType::Zstd);
        assert_eq!(c.compression_level, Some(7));
        assert_eq!(c.partitioner_class, PartitionerChoice::RoundRobin);
        assert!(c.apply("acks", "2").is_err());
        assert!(c.apply("compression.gzip.level", "10").is_err());
        assert!(c.apply("batch.size", "-1").is_err());
    }

    #[test]
    fn build_refuses_incompatible() {
        let base = ProducerConfig::builder("x:1");
        let e = base.clone().acks(Acks::Leader).build().unwrap_err();
        assert!(e.to_string().contains("requires acks=all"), "{e}");
        assert!(base.clone().max_in_flight(6).build().is_err());
        assert!(base.clone().retries(0).build().is_err());
        base.clone()
            .acks(Acks::Leader)
            .enable_idempotence(false)
            .max_in_flight(10)
            .build()
            .unwrap();
        let e = base
            .clone()
            .delivery_timeout(Duration::from_secs(30))
            .build()
            .unwrap_err();
        assert!(e.to_string().contains("delivery.timeout.ms"), "{e}");
        assert!(base
            .clone()
            .enable_idempotence(false)
            .transactional_id("t")
            .build()
            .is_err());
        assert!(base
            .clone()
            .compression(CompressionType::Gzip, Some(12))
            .build()
            .is_err());
        assert!(ProducerConfig::default().validate().is_err());
    }

    #[test]
    fn set_and_from_properties_take_java_names() {
        let c = ProducerConfig::builder("x:1")
            .set("linger.ms", "25")
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(c.linger, Duration::from_millis(25));
        let e = ProducerConfig::builder("x:1")
            .set("lingr.ms", "1")
            .unwrap_err();
        assert!(matches!(e, ConfigError::UnknownKey { .. }), "{e}");

        let mut props = Properties::default();
        props.set("bootstrap.servers", "a:1,b:2");
        props.set("acks", "all");
        props.set("batch.size", "65536");
        let c = ProducerConfig::from_properties(&props).unwrap();
        assert_eq!(c.client.bootstrap_servers, vec!["a:1", "b:2"]);
        assert_eq!(c.batch_size, 65_536);
        props.set("acks", "1");
        let e = ProducerConfig::from_properties(&props).unwrap_err();
        assert!(e.to_string().contains("requires acks=all"), "{e}");
    }

    #[test]
    fn client_settings_keep_the_bootstrap_servers() {
        let mut client = ClientConfig::default();
        client.client_id = "billing".into();
        let c = ProducerConfig::builder("a:1")
            .client(client)
            .build()
            .unwrap();
        assert_eq!(c.client.bootstrap_servers, vec!["a:1"]);
        assert_eq!(c.client.client_id, "billing");
    }
}
