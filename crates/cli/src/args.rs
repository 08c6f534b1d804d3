//! Command-line structure (clap derive) for every `rafka` subcommand.
//!
//! Short flags follow kcat (`-b -t -p -o -e -c -f -K -z -H -G -X -F`) so muscle memory carries
//! over; the verifiable clients use the long flags of Kafka's `VerifiableConsumer.java` and
//! `VerifiableProducer.java` exactly, because Kafka's system tests build their command lines.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// `rafka`: a kcat-like Kafka command-line client built on rafka.
#[derive(Debug, Parser)]
#[command(name = "rafka", version, about, propagate_version = true)]
pub struct Cli {
    /// Bootstrap brokers, `HOST:PORT[,HOST:PORT..]` (Java `bootstrap.servers`).
    #[arg(short = 'b', long = "brokers", env = "RAFKA_BROKERS", global = true)]
    pub brokers: Option<String>,

    /// Any Java client setting, `key=value` (repeatable; overrides `-F`).
    #[arg(short = 'X', value_name = "KEY=VALUE", global = true, value_parser = parse_key_value)]
    pub settings: Vec<(String, String)>,

    /// A Java `.properties` file of client settings (applied before `-X`).
    #[arg(short = 'F', value_name = "FILE", global = true)]
    pub properties_file: Option<PathBuf>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the cluster's brokers, topics and partitions.
    Metadata(MetadataArgs),
    /// Create, delete and list topics.
    #[command(subcommand)]
    Topic(TopicCommand),
    /// Produce one record per stdin line.
    Produce(ProduceArgs),
    /// Consume records and print them with a kcat-style format.
    Consume(ConsumeArgs),
    /// List, describe and reset consumer groups.
    #[command(subcommand)]
    Group(GroupCommand),
    /// Kafka's verifiable consumer (JSON events on stdout, for system tests).
    VerifiableConsumer(VerifiableConsumerArgs),
    /// Kafka's verifiable producer (JSON events on stdout, for system tests).
    VerifiableProducer(VerifiableProducerArgs),
    /// Run the exactly-once demo: broker, producer, a 3-member group into SQLite, a SIGKILL.
    Demo(DemoArgs),
    /// One member process of the demo's consumer group (started by `rafka demo`).
    #[command(hide = true)]
    DemoMember(DemoMemberArgs),
}

/// `rafka metadata`.
#[derive(Debug, Args)]
pub struct MetadataArgs {
    /// Only these topics (comma-separated); default all.
    #[arg(short = 't', long = "topic", value_delimiter = ',')]
    pub topics: Vec<String>,
}

/// `rafka topic ...`.
#[derive(Debug, Subcommand)]
pub enum TopicCommand {
    /// Create a topic.
    Create {
        /// Topic name.
        name: String,
        /// Number of partitions.
        #[arg(short = 'p', long, default_value_t = 1)]
        partitions: i32,
        /// Replication factor (-1: broker default).
        #[arg(short = 'r', long = "replication-factor", default_value_t = -1)]
        replication_factor: i16,
        /// Topic setting `key=value` (repeatable), e.g. `cleanup.policy=compact`.
        #[arg(long = "config", value_name = "KEY=VALUE", value_parser = parse_key_value)]
        configs: Vec<(String, String)>,
    },
    /// Delete a topic.
    Delete {
        /// Topic name.
        name: String,
    },
    /// List topic names with their partition counts.
    List,
}

/// Compression codecs accepted by `-z` (Java `compression.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Codec {
    /// No compression.
    None,
    /// gzip (attribute 1).
    Gzip,
    /// snappy, xerial framing (attribute 2).
    Snappy,
    /// lz4 frame (attribute 3).
    Lz4,
    /// zstd (attribute 4, KIP-110).
    Zstd,
}

impl Codec {
    /// The Java `compression.type` value for this codec.
    pub fn java_name(self) -> &'static str {
        match self {
            Codec::None => "none",
            Codec::Gzip => "gzip",
            Codec::Snappy => "snappy",
            Codec::Lz4 => "lz4",
            Codec::Zstd => "zstd",
        }
    }
}

/// `rafka produce`.
#[derive(Debug, Args)]
pub struct ProduceArgs {
    /// Topic to produce to.
    #[arg(short = 't', long = "topic")]
    pub topic: String,
    /// Split each line into key and value at the first occurrence of this delimiter.
    #[arg(short = 'K', long = "key-delimiter")]
    pub key_delimiter: Option<String>,
    /// Produce every record to this partition (default: the partitioner decides).
    #[arg(short = 'p', long = "partition")]
    pub partition: Option<i32>,
    /// Compression codec.
    #[arg(short = 'z', long = "compression", value_enum)]
    pub compression: Option<Codec>,
    /// Acknowledgements: 0, 1, -1 or all (Java `acks`).
    #[arg(long = "acks", value_parser = parse_acks, allow_hyphen_values = true)]
    pub acks: Option<i16>,
    /// Header `key=value` added to every record (repeatable).
    #[arg(short = 'H', long = "header", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub headers: Vec<(String, String)>,
}

/// Where a standalone consumer starts (`-o`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartOffset {
    /// The log start offset (earliest).
    Beginning,
    /// The log end offset (only new records).
    End,
    /// This absolute offset.
    Absolute(i64),
    /// This many records before the end (kcat's `-o -N`).
    FromEnd(i64),
}

/// `rafka consume`.
#[derive(Debug, Args)]
pub struct ConsumeArgs {
    /// Topics to consume (comma-separated).
    #[arg(short = 't', long = "topic", value_delimiter = ',', required = true)]
    pub topics: Vec<String>,
    /// Consumer group: subscribe as a member of this group (commits offsets).
    #[arg(short = 'G', long = "group")]
    pub group: Option<String>,
    /// Partitions to read in standalone mode (repeatable or comma-separated; default all).
    #[arg(short = 'p', long = "partition", value_delimiter = ',')]
    pub partitions: Vec<i32>,
    /// Start offset: beginning, end, N (absolute) or -N (N before the end).
    #[arg(short = 'o', long = "offset", value_parser = parse_start_offset, allow_hyphen_values = true)]
    pub offset: Option<StartOffset>,
    /// Exit when every partition has been read to its end.
    #[arg(short = 'e', long = "exit")]
    pub exit_at_end: bool,
    /// Exit after this many records.
    #[arg(short = 'c', long = "count")]
    pub count: Option<u64>,
    /// Output format: %t topic, %p partition, %o offset, %k key, %s value, %h headers,
    /// %T timestamp (ms), %K key length, %S value length, %% percent; \n \t \r \\ escapes.
    #[arg(short = 'f', long = "format", default_value = "%s\\n")]
    pub format: String,
    /// Isolation level: read_uncommitted or read_committed (Java `isolation.level`).
    #[arg(long = "isolation-level", value_parser = ["read_uncommitted", "read_committed"])]
    pub isolation_level: Option<String>,
}

/// Where `group reset-offsets` moves a group's committed offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetTarget {
    /// The log start offset.
    Earliest,
    /// The log end offset.
    Latest,
    /// This absolute offset on every selected partition.
    Offset(i64),
}

/// `rafka group ...`.
#[derive(Debug, Subcommand)]
pub enum GroupCommand {
    /// List consumer groups.
    List,
    /// Describe a group: state, members, assignment, committed offsets and lag.
    Describe {
        /// Group id.
        group: String,
    },
    /// Move a group's committed offsets (the group must have no active members).
    ResetOffsets {
        /// Group id.
        group: String,
        /// earliest, latest or an absolute offset.
        #[arg(long = "to", value_parser = parse_reset_target)]
        to: ResetTarget,
        /// Only this topic (default: every topic the group has offsets for).
        #[arg(short = 't', long = "topic")]
        topic: Option<String>,
    },
}

/// `rafka verifiable-consumer`: the flags of Kafka's `VerifiableConsumer.java`.
#[derive(Debug, Args)]
pub struct VerifiableConsumerArgs {
    /// The server(s) to connect to, `HOST1:PORT1[,HOST2:PORT2..]`.
    #[arg(long = "bootstrap-server")]
    pub bootstrap_server: Option<String>,
    /// Deprecated alias of --bootstrap-server (ignored when that is given).
    #[arg(long = "broker-list")]
    pub broker_list: Option<String>,
    /// Consumes messages from this topic.
    #[arg(long = "topic")]
    pub topic: String,
    /// The group id shared among members of the consumer group.
    #[arg(long = "group-id")]
    pub group_id: String,
    /// A unique identifier of the consumer instance (static membership, KIP-345).
    #[arg(long = "group-instance-id")]
    pub group_instance_id: Option<String>,
    /// Group protocol: classic (the only one rafka speaks; consumer is refused).
    #[arg(long = "group-protocol", default_value = "classic")]
    pub group_protocol: String,
    /// Remote assignor for the consumer protocol (accepted and ignored with classic).
    #[arg(long = "group-remote-assignor")]
    pub group_remote_assignor: Option<String>,
    /// Consume this many messages; -1 (the default) runs until killed.
    #[arg(long = "max-messages", default_value_t = -1, allow_hyphen_values = true)]
    pub max_messages: i64,
    /// The consumer's session timeout in ms.
    #[arg(long = "session-timeout", default_value_t = 30000)]
    pub session_timeout_ms: u64,
    /// Log every consumed record as a record_data event.
    #[arg(long = "verbose")]
    pub verbose: bool,
    /// Enable offset auto-commit on the consumer.
    #[arg(long = "enable-autocommit")]
    pub enable_autocommit: bool,
    /// Reset policy: earliest, latest or none.
    #[arg(long = "reset-policy", default_value = "earliest", value_parser = ["earliest", "latest", "none"])]
    pub reset_policy: String,
    /// Assignment strategy: a Java class name (org.apache.kafka.clients.consumer.RangeAssignor)
    /// or range, roundrobin, sticky, cooperative-sticky.
    #[arg(
        long = "assignment-strategy",
        default_value = "org.apache.kafka.clients.consumer.RangeAssignor"
    )]
    pub assignment_strategy: String,
    /// Consumer config properties file (command-line options override it).
    #[arg(long = "consumer.config")]
    pub consumer_config: Option<PathBuf>,
}

/// `rafka verifiable-producer`: the flags of Kafka's `VerifiableProducer.java`.
#[derive(Debug, Args)]
pub struct VerifiableProducerArgs {
    /// Produce messages to this topic.
    #[arg(long = "topic")]
    pub topic: String,
    /// The server(s) to connect to, `HOST1:PORT1[,HOST2:PORT2..]`.
    #[arg(long = "bootstrap-server")]
    pub bootstrap_server: Option<String>,
    /// Deprecated alias of --bootstrap-server (ignored when that is given).
    #[arg(long = "broker-list")]
    pub broker_list: Option<String>,
    /// Produce this many messages; -1 (the default) produces until killed.
    #[arg(long = "max-messages", default_value_t = -1, allow_hyphen_values = true)]
    pub max_messages: i64,
    /// Throttle to about this many messages per second (-1: unthrottled).
    #[arg(long = "throughput", default_value_t = -1, allow_hyphen_values = true)]
    pub throughput: i64,
    /// Acks required on each produced message: 0, 1 or -1.
    #[arg(long = "acks", default_value_t = -1, allow_hyphen_values = true,
          value_parser = clap::value_parser!(i16).range(-1..=1))]
    pub acks: i16,
    /// Producer config properties file (deprecated in Kafka in favour of --command-config).
    #[arg(long = "producer.config", conflicts_with = "command_config")]
    pub producer_config: Option<PathBuf>,
    /// Config properties file (command-line options override it).
    #[arg(long = "command-config")]
    pub command_config: Option<PathBuf>,
    /// Send messages with creation time starting at this value, in ms since the epoch.
    #[arg(long = "message-create-time", default_value_t = -1, allow_hyphen_values = true)]
    pub message_create_time: i64,
    /// Prefix every value with this integer and a dot.
    #[arg(long = "value-prefix")]
    pub value_prefix: Option<i64>,
    /// Keys cycle 0, 1, .. N-1, 0, ..; without it records have no key.
    #[arg(long = "repeating-keys")]
    pub repeating_keys: Option<u64>,
}

/// `rafka demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Records to produce and process.
    #[arg(long = "records", default_value_t = 200_000)]
    pub records: u64,
    /// Partitions of the demo topic.
    #[arg(long = "partitions", default_value_t = 6)]
    pub partitions: i32,
    /// Members of the consumer group (separate processes).
    #[arg(long = "members", default_value_t = 3)]
    pub members: usize,
    /// Topic name.
    #[arg(long = "topic", default_value = "rafka-demo")]
    pub topic: String,
    /// SQLite database the members write into (replaced at start).
    #[arg(long = "db", default_value = "target/demo/demo.sqlite")]
    pub db: PathBuf,
    /// Use this broker instead of starting Tansu (also env RAFKA_DEMO_BROKER).
    #[arg(long = "broker", env = "RAFKA_DEMO_BROKER")]
    pub broker: Option<String>,
    /// Member session timeout in ms (Java `session.timeout.ms`).
    #[arg(long = "session-timeout", default_value_t = 6000)]
    pub session_timeout_ms: u64,
    /// Fraction of the records processed before one member is SIGKILLed (0 disables the kill).
    #[arg(long = "kill-at", default_value_t = 0.33)]
    pub kill_at: f64,
    /// Give up when nothing progresses for this many seconds.
    #[arg(long = "stall-timeout", default_value_t = 120)]
    pub stall_timeout_s: u64,
    /// Pace the members so processing takes about this many seconds (0: full speed), so the
    /// SIGKILL lands while the group is busy rather than after it finished.
    #[arg(long = "pace", default_value_t = 10)]
    pub pace_s: u64,
}

/// `rafka demo-member` (hidden): one group member of the demo.
#[derive(Debug, Args)]
pub struct DemoMemberArgs {
    /// Bootstrap brokers.
    #[arg(long = "bootstrap-server")]
    pub bootstrap_server: String,
    /// Topic to consume.
    #[arg(long = "topic")]
    pub topic: String,
    /// Group id.
    #[arg(long = "group-id")]
    pub group_id: String,
    /// SQLite database path.
    #[arg(long = "db")]
    pub db: PathBuf,
    /// Name of this member in progress events.
    #[arg(long = "name")]
    pub name: String,
    /// Session timeout in ms.
    #[arg(long = "session-timeout", default_value_t = 6000)]
    pub session_timeout_ms: u64,
    /// Process at most this many records per second (0: unlimited).
    #[arg(long = "max-rate", default_value_t = 0)]
    pub max_rate: u64,
}

/// Parses `key=value` (the value may contain `=`).
pub fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("expected KEY=VALUE, got '{s}'")),
    }
}

/// Parses `--acks`: `0`, `1`, `-1` or `all` into Kafka's wire value.
pub fn parse_acks(s: &str) -> Result<i16, String> {
    match s {
        "0" => Ok(0),
        "1" => Ok(1),
        "-1" | "all" => Ok(-1),
        _ => Err(format!("acks must be 0, 1, -1 or all, got '{s}'")),
    }
}

/// Parses `-o`: `beginning`, `end`, `N` or `-N`.
pub fn parse_start_offset(s: &str) -> Result<StartOffset, String> {
    match s {
        "beginning" | "earliest" => Ok(StartOffset::Beginning),
        "end" | "latest" => Ok(StartOffset::End),
        _ => match s.parse::<i64>() {
            Ok(n) if n >= 0 => Ok(StartOffset::Absolute(n)),
            Ok(n) => Ok(StartOffset::FromEnd(n.checked_neg().unwrap_or(i64::MAX))),
            Err(_) => Err(format!("offset must be beginning, end, N or -N, got '{s}'")),
        },
    }
}

/// Parses `--to`: `earliest`, `latest` or an absolute offset.
pub fn parse_reset_target(s: &str) -> Result<ResetTarget, String> {
    match s {
        "earliest" | "beginning" => Ok(ResetTarget::Earliest),
        "latest" | "end" => Ok(ResetTarget::Latest),
        _ => match s.parse::<i64>() {
            Ok(n) if n >= 0 => Ok(ResetTarget::Offset(n)),
            _ => Err(format!(
                "--to must be earliest, latest or an offset >= 0, got '{s}'"
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_structure_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn key_value_splits_at_first_equals() {
        assert_eq!(
            parse_key_value("sasl.jaas.config=a=b").unwrap(),
            ("sasl.jaas.config".to_string(), "a=b".to_string())
        );
        assert!(parse_key_value("novalue").is_err());
        assert!(parse_key_value("=x").is_err());
    }

    #[test]
    fn offsets_parse_like_kcat() {
        assert_eq!(
            parse_start_offset("beginning").unwrap(),
            StartOffset::Beginning
        );
        assert_eq!(parse_start_offset("end").unwrap(), StartOffset::End);
        assert_eq!(parse_start_offset("42").unwrap(), StartOffset::Absolute(42));
        assert_eq!(parse_start_offset("-10").unwrap(), StartOffset::FromEnd(10));
        assert!(parse_start_offset("soon").is_err());
    }

    #[test]
    fn consume_command_line_parses() {
        let cli = Cli::try_parse_from([
            "rafka",
            "-b",
            "h:1",
            "-X",
            "fetch.min.bytes=1",
            "consume",
            "-t",
            "a,b",
            "-p",
            "0",
            "-p",
            "2",
            "-o",
            "-5",
            "-e",
            "-c",
            "10",
            "-f",
            "%k=%s\\n",
        ])
        .unwrap();
        assert_eq!(cli.brokers.as_deref(), Some("h:1"));
        assert_eq!(cli.settings, vec![("fetch.min.bytes".into(), "1".into())]);
        match cli.command {
            Command::Consume(c) => {
                assert_eq!(c.topics, vec!["a", "b"]);
                assert_eq!(c.partitions, vec![0, 2]);
                assert_eq!(c.offset, Some(StartOffset::FromEnd(5)));
                assert!(c.exit_at_end);
                assert_eq!(c.count, Some(10));
            }
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn produce_command_line_parses() {
        let cli = Cli::try_parse_from([
            "rafka", "produce", "-t", "t", "-K", ":", "-z", "zstd", "--acks", "all", "-H", "a=1",
            "-H", "b=2",
        ])
        .unwrap();
        match cli.command {
            Command::Produce(p) => {
                assert_eq!(p.compression, Some(Codec::Zstd));
                assert_eq!(p.acks, Some(-1));
                assert_eq!(p.key_delimiter.as_deref(), Some(":"));
                assert_eq!(p.headers.len(), 2);
            }
            other => panic!("parsed as {other:?}"),
        }
        assert!(Cli::try_parse_from(["rafka", "produce", "-t", "t", "-z", "brotli"]).is_err());
        assert!(Cli::try_parse_from(["rafka", "produce", "-t", "t", "--acks", "2"]).is_err());
    }

    #[test]
    fn verifiable_consumer_accepts_kafka_system_test_command_line() {
        // The command line verifiable_consumer.py builds.
        let cli = Cli::try_parse_from([
            "rafka",
            "verifiable-consumer",
            "--group-id",
            "g",
            "--topic",
            "t",
            "--broker-list",
            "h:9092",
            "--session-timeout",
            "6000",
            "--assignment-strategy",
            "org.apache.kafka.clients.consumer.RoundRobinAssignor",
            "--enable-autocommit",
            "--max-messages",
            "100",
            "--consumer.config",
            "/tmp/c.properties",
        ])
        .unwrap();
        match cli.command {
            Command::VerifiableConsumer(v) => {
                assert_eq!(v.broker_list.as_deref(), Some("h:9092"));
                assert_eq!(v.session_timeout_ms, 6000);
                assert!(v.enable_autocommit);
                assert_eq!(v.max_messages, 100);
                assert_eq!(v.reset_policy, "earliest");
            }
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn verifiable_producer_accepts_kafka_system_test_command_line() {
        let cli = Cli::try_parse_from([
            "rafka",
            "verifiable-producer",
            "--topic",
            "t",
            "--bootstrap-server",
            "h:9092",
            "--max-messages",
            "1000",
            "--throughput",
            "500",
            "--acks",
            "-1",
            "--value-prefix",
            "7",
            "--repeating-keys",
            "3",
            "--message-create-time",
            "1700000000000",
        ])
        .unwrap();
        match cli.command {
            Command::VerifiableProducer(v) => {
                assert_eq!(v.acks, -1);
                assert_eq!(v.value_prefix, Some(7));
                assert_eq!(v.repeating_keys, Some(3));
                assert_eq!(v.message_create_time, 1_700_000_000_000);
            }
            other => panic!("parsed as {other:?}"),
        }
        assert!(Cli::try_parse_from([
            "rafka",
            "verifiable-producer",
            "--topic",
            "t",
            "--acks",
            "2"
        ])
        .is_err());
    }

    #[test]
    fn reset_targets_parse() {
        assert_eq!(
            parse_reset_target("earliest").unwrap(),
            ResetTarget::Earliest
        );
        assert_eq!(parse_reset_target("latest").unwrap(), ResetTarget::Latest);
        assert_eq!(parse_reset_target("7").unwrap(), ResetTarget::Offset(7));
        assert!(parse_reset_target("-1").is_err());
    }
}
