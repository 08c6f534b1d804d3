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

/// `--group-protocol` of the verifiable consumer (Java `group.protocol`, KIP-848).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupProtocol {
    /// `classic`: JoinGroup/SyncGroup with client-side assignment (the default).
    Classic,
    /// `consumer`: the KIP-848 protocol (ConsumerGroupHeartbeat, server-side assignment).
    Consumer,
}

/// Parses `--group-protocol` case-insensitively, as Java's `GroupProtocol.of`.
pub fn parse_group_protocol(s: &str) -> Result<GroupProtocol, String> {
    match s.to_ascii_lowercase().as_str() {
        "classic" => Ok(GroupProtocol::Classic),
        "consumer" => Ok(GroupProtocol::Consumer),
        _ => Err(format!(
            "group protocol must be one of CLASSIC, CONSUMER, got '{s}'"
        )),
    }
}

/// `rafka verifiable-consumer`: every flag of Kafka 4.4's `VerifiableConsumer.java`, with its
/// name, default and meaning (`--help` of `org.apache.kafka.tools.VerifiableConsumer`).
#[derive(Debug, Args)]
pub struct VerifiableConsumerArgs {
    /// The server(s) to connect to, `HOST1:PORT1[,HOST2:PORT2..]` (Java requires it; here the
    /// global `-b` or a `bootstrap.servers` setting also do).
    #[arg(
        long = "bootstrap-server",
        value_name = "HOST1:PORT1[,HOST2:PORT2[...]]"
    )]
    pub bootstrap_server: Option<String>,
    /// Kafka 3.x's deprecated alias of --bootstrap-server (ignored when that is given); Kafka 4
    /// removed it, rafka keeps it for older system-test scripts.
    #[arg(long = "broker-list", hide = true)]
    pub broker_list: Option<String>,
    /// Consumes messages from this topic.
    #[arg(long = "topic", value_name = "TOPIC")]
    pub topic: String,
    /// Group protocol (must be one of CLASSIC, CONSUMER; case-insensitive).
    #[arg(
        long = "group-protocol",
        value_name = "GROUP-PROTOCOL",
        default_value = "classic",
        value_parser = parse_group_protocol
    )]
    pub group_protocol: GroupProtocol,
    /// Group remote assignor; only used if the group protocol is CONSUMER.
    #[arg(long = "group-remote-assignor", value_name = "GROUP-REMOTE-ASSIGNOR")]
    pub group_remote_assignor: Option<String>,
    /// The group id of the consumer group.
    #[arg(long = "group-id", value_name = "GROUP-ID")]
    pub group_id: String,
    /// A unique identifier of the consumer instance (static membership, KIP-345).
    #[arg(long = "group-instance-id", value_name = "GROUP-INSTANCE-ID")]
    pub group_instance_id: Option<String>,
    /// Consume this many messages. If -1 (the default), the consumer will consume until the
    /// process is killed externally.
    #[arg(
        long = "max-messages",
        value_name = "MAX-MESSAGES",
        default_value_t = -1,
        allow_hyphen_values = true
    )]
    pub max_messages: i32,
    /// Set the consumer's session timeout in ms (not supported with the consumer protocol).
    /// Unset: the consumer's `session.timeout.ms` (a properties file's, else 45000).
    #[arg(long = "session-timeout", value_name = "TIMEOUT-MS")]
    pub session_timeout_ms: Option<u32>,
    /// Enable to log individual consumed records (record_data events).
    #[arg(long = "verbose")]
    pub verbose: bool,
    /// Enable offset auto-commit on consumer.
    #[arg(long = "enable-autocommit")]
    pub enable_autocommit: bool,
    /// Timeout in milliseconds for closing the consumer (revoke, final commit, leave).
    #[arg(
        long = "close-timeout",
        value_name = "CLOSE-TIMEOUT-MS",
        default_value_t = 30000
    )]
    pub close_timeout_ms: u32,
    /// Set reset policy (must be either 'earliest', 'latest', or 'none').
    #[arg(
        long = "reset-policy",
        value_name = "RESET-POLICY",
        default_value = "earliest",
        value_parser = ["earliest", "latest", "none"]
    )]
    pub reset_policy: String,
    /// Set assignment strategy (e.g. org.apache.kafka.clients.consumer.RoundRobinAssignor; also
    /// range, roundrobin, sticky, cooperative-sticky); only used if the group protocol is CLASSIC.
    #[arg(
        long = "assignment-strategy",
        value_name = "ASSIGNMENT-STRATEGY",
        default_value = "org.apache.kafka.clients.consumer.RangeAssignor"
    )]
    pub assignment_strategy: String,
    /// (DEPRECATED) Consumer config properties file. Use --command-config instead.
    #[arg(
        long = "consumer.config",
        value_name = "CONFIG-FILE",
        conflicts_with = "command_config"
    )]
    pub consumer_config: Option<PathBuf>,
    /// Config properties file (config options shared with command line parameters will be
    /// overridden).
    #[arg(long = "command-config", value_name = "CONFIG-FILE")]
    pub command_config: Option<PathBuf>,
}

/// `rafka verifiable-producer`: every flag of Kafka 4.4's `VerifiableProducer.java`, with its
/// name, default and meaning (`--help` of `org.apache.kafka.tools.VerifiableProducer`).
#[derive(Debug, Args)]
pub struct VerifiableProducerArgs {
    /// Produce messages to this topic.
    #[arg(long = "topic", value_name = "TOPIC")]
    pub topic: String,
    /// The server(s) to connect to, `HOST1:PORT1[,HOST2:PORT2..]` (Java requires it; here the
    /// global `-b` or a `bootstrap.servers` setting also do).
    #[arg(
        long = "bootstrap-server",
        value_name = "HOST1:PORT1[,HOST2:PORT2[...]]"
    )]
    pub bootstrap_server: Option<String>,
    /// Kafka 2.x's deprecated alias of --bootstrap-server (ignored when that is given); Kafka 4
    /// removed it, rafka keeps it for older system-test scripts.
    #[arg(long = "broker-list", hide = true)]
    pub broker_list: Option<String>,
    /// Produce this many messages. If -1, produce messages until the process is killed
    /// externally.
    #[arg(
        long = "max-messages",
        value_name = "MAX-MESSAGES",
        default_value_t = -1,
        allow_hyphen_values = true
    )]
    pub max_messages: i32,
    /// If set >= 0, throttle maximum message throughput to *approximately* THROUGHPUT
    /// messages/sec.
    #[arg(
        long = "throughput",
        value_name = "THROUGHPUT",
        default_value_t = -1,
        allow_hyphen_values = true
    )]
    pub throughput: i32,
    /// Acks required on each produced message: 0, 1 or -1 (all).
    #[arg(long = "acks", value_name = "ACKS", default_value_t = -1, allow_hyphen_values = true,
          value_parser = clap::value_parser!(i16).range(-1..=1))]
    pub acks: i16,
    /// (DEPRECATED) Producer config properties file. Use --command-config instead.
    #[arg(
        long = "producer.config",
        value_name = "CONFIG-FILE",
        conflicts_with = "command_config"
    )]
    pub producer_config: Option<PathBuf>,
    /// Send messages with creation time starting at the arguments value, in milliseconds since
    /// epoch (-1: the producer's clock).
    #[arg(
        long = "message-create-time",
        value_name = "CREATE-TIME",
        default_value_t = -1,
        allow_hyphen_values = true
    )]
    pub message_create_time: i64,
    /// If specified, each produced value will have this prefix with a dot separator.
    #[arg(
        long = "value-prefix",
        value_name = "VALUE-PREFIX",
        allow_hyphen_values = true
    )]
    pub value_prefix: Option<i32>,
    /// If specified, each produced record will have a key starting at 0 increment by 1 up to the
    /// number specified (exclusive), then the key is set to 0 again.
    #[arg(
        long = "repeating-keys",
        value_name = "REPEATING-KEYS",
        allow_hyphen_values = true
    )]
    pub repeating_keys: Option<i32>,
    /// Config properties file (config options shared with command line parameters will be
    /// overridden).
    #[arg(long = "command-config", value_name = "CONFIG-FILE")]
    pub command_config: Option<PathBuf>,
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
    /// The broker: `tansu` (a Tansu the demo starts on a free port), `kafka` (a 3-node Apache
    /// Kafka cluster the demo starts through scripts/kafka.sh; the topic gets replication factor
    /// 3 and min.insync.replicas=2), or `HOST:PORT[,HOST:PORT..]` of a running broker.
    #[arg(
        long = "broker",
        env = "RAFKA_DEMO_BROKER",
        default_value = "tansu",
        value_parser = parse_demo_broker
    )]
    pub broker: DemoBrokerChoice,
    /// Also SIGKILL one broker (the leader of the most demo partitions) mid-run and restart it
    /// after --broker-down seconds (only with --broker kafka).
    #[arg(long = "kill-broker")]
    pub kill_broker: bool,
    /// Fraction of the records processed before the broker is SIGKILLed (with --kill-broker).
    #[arg(long = "kill-broker-at", default_value_t = 0.6)]
    pub kill_broker_at: f64,
    /// Seconds the killed broker stays down before it is restarted (with --kill-broker).
    #[arg(long = "broker-down", default_value_t = 10)]
    pub broker_down_s: u64,
    /// First client port of the demo's Kafka cluster (node i listens on PORT+i-1, its controller
    /// on PORT+100+i-1); default: a free block.
    #[arg(long = "kafka-port")]
    pub kafka_port: Option<u16>,
    /// Member session timeout in ms (Java `session.timeout.ms`). With `--group-protocol
    /// consumer` the session timeout is the broker's: the demo's own Kafka cluster is started
    /// with it (`group.consumer.session.timeout.ms`), a running broker keeps its own.
    #[arg(long = "session-timeout", default_value_t = 6000)]
    pub session_timeout_ms: u64,
    /// Group protocol of the members (CLASSIC or CONSUMER, any case): `classic` uses
    /// JoinGroup/SyncGroup with the eager `range` assignor; `consumer` is KIP-848
    /// (ConsumerGroupHeartbeat, server-side assignment) and needs Apache Kafka 4.0 or later
    /// (`--broker kafka` or a running Kafka; Tansu lacks it).
    #[arg(
        long = "group-protocol",
        value_name = "GROUP-PROTOCOL",
        default_value = "classic",
        value_parser = parse_group_protocol
    )]
    pub group_protocol: GroupProtocol,
    /// Server-side assignor of the members with `--group-protocol consumer` (`uniform` or
    /// `range`; default: the broker's first, `uniform`).
    #[arg(long = "group-remote-assignor", value_name = "GROUP-REMOTE-ASSIGNOR")]
    pub group_remote_assignor: Option<String>,
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

/// Which broker `rafka demo` runs on (`--broker`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DemoBrokerChoice {
    /// A Tansu started by the demo (the default).
    Tansu,
    /// A 3-node Apache Kafka cluster started by the demo (scripts/kafka.sh).
    Kafka,
    /// A running broker at this bootstrap list.
    External(String),
}

/// Parses `--broker`: `tansu`, `kafka` or a bootstrap list.
pub fn parse_demo_broker(s: &str) -> Result<DemoBrokerChoice, String> {
    match s.trim() {
        "" => Err("expected tansu, kafka or HOST:PORT[,HOST:PORT..]".into()),
        "tansu" => Ok(DemoBrokerChoice::Tansu),
        "kafka" => Ok(DemoBrokerChoice::Kafka),
        list if list.split(',').all(|a| {
            a.trim()
                .rsplit_once(':')
                .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok())
        }) =>
        {
            Ok(DemoBrokerChoice::External(list.to_string()))
        }
        other => Err(format!(
            "expected tansu, kafka or HOST:PORT[,HOST:PORT..], got '{other}'"
        )),
    }
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
    /// Session timeout in ms (classic protocol only).
    #[arg(long = "session-timeout", default_value_t = 6000)]
    pub session_timeout_ms: u64,
    /// Group protocol (`classic` or `consumer`).
    #[arg(
        long = "group-protocol",
        default_value = "classic",
        value_parser = parse_group_protocol
    )]
    pub group_protocol: GroupProtocol,
    /// Server-side assignor with `--group-protocol consumer`.
    #[arg(long = "group-remote-assignor")]
    pub group_remote_assignor: Option<String>,
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

    /// Every flag of Kafka 4.4's `VerifiableConsumer` (`--help`), whether it takes a value, and
    /// its Java default (None: no default).
    const JAVA_CONSUMER_FLAGS: &[(&str, bool, Option<&str>)] = &[
        ("--topic", true, None),
        ("--group-protocol", true, Some("classic")),
        ("--group-remote-assignor", true, None),
        ("--group-id", true, None),
        ("--group-instance-id", true, None),
        ("--max-messages", true, Some("-1")),
        ("--session-timeout", true, None),
        ("--verbose", false, None),
        ("--enable-autocommit", false, None),
        ("--close-timeout", true, Some("30000")),
        ("--reset-policy", true, Some("earliest")),
        (
            "--assignment-strategy",
            true,
            Some("org.apache.kafka.clients.consumer.RangeAssignor"),
        ),
        ("--consumer.config", true, None),
        ("--command-config", true, None),
        ("--bootstrap-server", true, None),
    ];

    /// Every flag of Kafka 4.4's `VerifiableProducer` (`--help`), as above.
    const JAVA_PRODUCER_FLAGS: &[(&str, bool, Option<&str>)] = &[
        ("--topic", true, None),
        ("--max-messages", true, Some("-1")),
        ("--throughput", true, Some("-1")),
        ("--acks", true, Some("-1")),
        ("--producer.config", true, None),
        ("--message-create-time", true, Some("-1")),
        ("--value-prefix", true, None),
        ("--repeating-keys", true, None),
        ("--command-config", true, None),
        ("--bootstrap-server", true, None),
    ];

    /// Checks that subcommand `sub` has every Java flag, taking a value exactly when Java's
    /// does, with Java's default.
    fn assert_java_flags(sub: &str, flags: &[(&str, bool, Option<&str>)]) {
        let cli = Cli::command();
        let cmd = cli
            .find_subcommand(sub)
            .unwrap_or_else(|| panic!("no subcommand {sub}"));
        for (flag, takes_value, default) in flags {
            let long = flag.trim_start_matches("--");
            let arg = cmd
                .get_arguments()
                .find(|a| a.get_long() == Some(long))
                .unwrap_or_else(|| panic!("{sub} has no {flag}"));
            assert!(!arg.is_hide_set(), "{sub} {flag} is hidden");
            assert_eq!(
                arg.get_action().takes_values(),
                *takes_value,
                "{sub} {flag}: takes a value"
            );
            let defaults: Vec<String> = arg
                .get_default_values()
                .iter()
                .map(|v| v.to_string_lossy().into_owned())
                .collect();
            let want: Vec<String> = default.iter().map(|d| d.to_string()).collect();
            assert_eq!(defaults, want, "{sub} {flag}: default");
        }
    }

    #[test]
    fn verifiable_consumer_has_every_java_flag_with_java_defaults() {
        assert_java_flags("verifiable-consumer", JAVA_CONSUMER_FLAGS);
    }

    #[test]
    fn verifiable_producer_has_every_java_flag_with_java_defaults() {
        assert_java_flags("verifiable-producer", JAVA_PRODUCER_FLAGS);
    }

    fn consumer(args: &[&str]) -> Result<VerifiableConsumerArgs, clap::Error> {
        let mut argv = vec!["rafka", "verifiable-consumer"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).map(|cli| match cli.command {
            Command::VerifiableConsumer(v) => v,
            other => panic!("parsed as {other:?}"),
        })
    }

    fn producer(args: &[&str]) -> Result<VerifiableProducerArgs, clap::Error> {
        let mut argv = vec!["rafka", "verifiable-producer"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).map(|cli| match cli.command {
            Command::VerifiableProducer(v) => v,
            other => panic!("parsed as {other:?}"),
        })
    }

    #[test]
    fn verifiable_consumer_parses_every_java_flag() {
        let v = consumer(&[
            "--topic",
            "t",
            "--group-protocol",
            "CLASSIC",
            "--group-remote-assignor",
            "uniform",
            "--group-id",
            "g",
            "--group-instance-id",
            "i-1",
            "--max-messages",
            "100",
            "--session-timeout",
            "6000",
            "--verbose",
            "--enable-autocommit",
            "--close-timeout",
            "5000",
            "--reset-policy",
            "latest",
            "--assignment-strategy",
            "org.apache.kafka.clients.consumer.RoundRobinAssignor",
            "--command-config",
            "/tmp/c.properties",
            "--bootstrap-server",
            "h:9092",
        ])
        .unwrap();
        assert_eq!(v.topic, "t");
        assert_eq!(v.group_protocol, GroupProtocol::Classic);
        assert_eq!(v.group_remote_assignor.as_deref(), Some("uniform"));
        assert_eq!(v.group_id, "g");
        assert_eq!(v.group_instance_id.as_deref(), Some("i-1"));
        assert_eq!(v.max_messages, 100);
        assert_eq!(v.session_timeout_ms, Some(6000));
        assert!(v.verbose);
        assert!(v.enable_autocommit);
        assert_eq!(v.close_timeout_ms, 5000);
        assert_eq!(v.reset_policy, "latest");
        assert_eq!(
            v.assignment_strategy,
            "org.apache.kafka.clients.consumer.RoundRobinAssignor"
        );
        assert_eq!(v.command_config, Some(PathBuf::from("/tmp/c.properties")));
        assert_eq!(v.consumer_config, None);
        assert_eq!(v.bootstrap_server.as_deref(), Some("h:9092"));

        // The defaults, as in Java.
        let d = consumer(&["--topic", "t", "--group-id", "g"]).unwrap();
        assert_eq!(d.group_protocol, GroupProtocol::Classic);
        assert_eq!(d.group_remote_assignor, None);
        assert_eq!(d.max_messages, -1);
        assert_eq!(d.session_timeout_ms, None);
        assert!(!d.verbose && !d.enable_autocommit);
        assert_eq!(d.close_timeout_ms, 30_000);
        assert_eq!(d.reset_policy, "earliest");
        assert_eq!(
            d.assignment_strategy,
            "org.apache.kafka.clients.consumer.RangeAssignor"
        );

        // consumer parses (it is a valid Java value); running it is refused later.
        let c = consumer(&[
            "--topic",
            "t",
            "--group-id",
            "g",
            "--group-protocol",
            "consumer",
        ])
        .unwrap();
        assert_eq!(c.group_protocol, GroupProtocol::Consumer);
        // The deprecated spelling of the config file, and Kafka 3's --broker-list.
        let old = consumer(&[
            "--topic",
            "t",
            "--group-id",
            "g",
            "--consumer.config",
            "/tmp/c.properties",
            "--broker-list",
            "h:1",
        ])
        .unwrap();
        assert_eq!(
            old.consumer_config,
            Some(PathBuf::from("/tmp/c.properties"))
        );
        assert_eq!(old.broker_list.as_deref(), Some("h:1"));
    }

    #[test]
    fn verifiable_consumer_rejects_what_java_rejects() {
        let base = ["--topic", "t", "--group-id", "g"];
        let with = |extra: &[&str]| {
            let mut a = base.to_vec();
            a.extend_from_slice(extra);
            consumer(&a)
        };
        assert!(with(&["--group-protocol", "share"]).is_err());
        assert!(with(&["--reset-policy", "sideways"]).is_err());
        assert!(with(&["--max-messages", "many"]).is_err());
        assert!(with(&["--close-timeout", "-1"]).is_err());
        // Java: "Options --consumer.config and --command-config are mutually exclusive."
        assert!(with(&["--consumer.config", "a", "--command-config", "b"]).is_err());
        // Required in Java too.
        assert!(consumer(&["--topic", "t"]).is_err());
        assert!(consumer(&["--group-id", "g"]).is_err());
    }

    #[test]
    fn verifiable_producer_parses_every_java_flag() {
        let v = producer(&[
            "--topic",
            "t",
            "--max-messages",
            "1000",
            "--throughput",
            "500",
            "--acks",
            "1",
            "--message-create-time",
            "1700000000000",
            "--value-prefix",
            "7",
            "--repeating-keys",
            "3",
            "--command-config",
            "/tmp/p.properties",
            "--bootstrap-server",
            "h:9092",
        ])
        .unwrap();
        assert_eq!(v.topic, "t");
        assert_eq!(v.max_messages, 1000);
        assert_eq!(v.throughput, 500);
        assert_eq!(v.acks, 1);
        assert_eq!(v.message_create_time, 1_700_000_000_000);
        assert_eq!(v.value_prefix, Some(7));
        assert_eq!(v.repeating_keys, Some(3));
        assert_eq!(v.command_config, Some(PathBuf::from("/tmp/p.properties")));
        assert_eq!(v.bootstrap_server.as_deref(), Some("h:9092"));

        let d = producer(&["--topic", "t"]).unwrap();
        assert_eq!(
            (d.max_messages, d.throughput, d.acks, d.message_create_time),
            (-1, -1, -1, -1)
        );
        assert_eq!((d.value_prefix, d.repeating_keys), (None, None));
        let old = producer(&["--topic", "t", "--producer.config", "/tmp/p.properties"]).unwrap();
        assert_eq!(
            old.producer_config,
            Some(PathBuf::from("/tmp/p.properties"))
        );
        let neg = producer(&["--topic", "t", "--acks", "0", "--value-prefix", "-2"]).unwrap();
        assert_eq!((neg.acks, neg.value_prefix), (0, Some(-2)));

        assert!(producer(&["--topic", "t", "--acks", "2"]).is_err());
        assert!(producer(&[
            "--topic",
            "t",
            "--producer.config",
            "a",
            "--command-config",
            "b"
        ])
        .is_err());
        assert!(producer(&["--max-messages", "1"]).is_err());
        // Java's --max-messages and --throughput are Integers.
        assert!(producer(&["--topic", "t", "--max-messages", "3000000000"]).is_err());
    }

    #[test]
    fn demo_broker_choices_parse() {
        assert_eq!(parse_demo_broker("tansu").unwrap(), DemoBrokerChoice::Tansu);
        assert_eq!(parse_demo_broker("kafka").unwrap(), DemoBrokerChoice::Kafka);
        assert_eq!(
            parse_demo_broker("127.0.0.1:9092,h:9093").unwrap(),
            DemoBrokerChoice::External("127.0.0.1:9092,h:9093".into())
        );
        assert!(parse_demo_broker("kafak").is_err());
        assert!(parse_demo_broker("h:port").is_err());
        let cli =
            Cli::try_parse_from(["rafka", "demo", "--broker", "kafka", "--kill-broker"]).unwrap();
        match cli.command {
            Command::Demo(d) => {
                assert_eq!(d.broker, DemoBrokerChoice::Kafka);
                assert!(d.kill_broker);
                // Classic unless asked.
                assert_eq!(d.group_protocol, GroupProtocol::Classic);
                assert_eq!(d.group_remote_assignor, None);
            }
            other => panic!("parsed as {other:?}"),
        }
        let cli = Cli::try_parse_from([
            "rafka",
            "demo",
            "--broker",
            "kafka",
            "--group-protocol",
            "CONSUMER",
            "--group-remote-assignor",
            "range",
        ])
        .unwrap();
        match cli.command {
            Command::Demo(d) => {
                assert_eq!(d.group_protocol, GroupProtocol::Consumer);
                assert_eq!(d.group_remote_assignor.as_deref(), Some("range"));
            }
            other => panic!("parsed as {other:?}"),
        }
        assert!(Cli::try_parse_from(["rafka", "demo", "--group-protocol", "share"]).is_err());
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
