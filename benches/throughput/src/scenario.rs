//! What one measured run does, passed from the orchestrator to a child process as JSON.

use serde::{Deserialize, Serialize};

/// The client under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
pub enum ClientKind {
    /// rafka (this project).
    Rafka,
    /// librdkafka through the rdkafka crate (bundled librdkafka).
    Librdkafka,
    /// rskafka (pure Rust, partition client).
    Rskafka,
    /// franz-go (Go), a separate program under `peers/franz`.
    Franz,
    /// The Java client (kafka-clients), a separate program under `peers/java`.
    Java,
}

impl ClientKind {
    pub fn name(self) -> &'static str {
        match self {
            ClientKind::Rafka => "rafka",
            ClientKind::Librdkafka => "librdkafka",
            ClientKind::Rskafka => "rskafka",
            ClientKind::Franz => "franz-go",
            ClientKind::Java => "java",
        }
    }

    /// Runs as its own program (not a child of this binary).
    pub fn external(self) -> bool {
        matches!(self, ClientKind::Franz | ClientKind::Java)
    }

    /// Why this client cannot run against `broker`, if it cannot.
    pub fn unsupported_on(self, broker: crate::broker::BrokerKind) -> Option<&'static str> {
        match (self, broker) {
            // kafka-clients 4.4 sends ApiVersions v5 naming the cluster and node (KIP-1242) on
            // every connection after the bootstrap one; Tansu 0.6 fails to decode it and drops
            // the connection, so the producer never gets past its first batch. No client setting
            // turns the fields off.
            (ClientKind::Java, crate::broker::BrokerKind::Tansu) => Some(
                "kafka-clients 4.4 cannot connect to Tansu 0.6 (Tansu drops the connection on \
                 the ApiVersions v5 request that names the cluster and node, KIP-1242)",
            ),
            _ => None,
        }
    }

    /// Whether this client has a `mode` run (rskafka has no groups; the external peers do
    /// produce and consume only).
    pub fn supports(self, mode: Mode) -> bool {
        match mode {
            Mode::Produce | Mode::Consume => true,
            Mode::Latency | Mode::Rebalance => {
                !matches!(self, ClientKind::Rskafka) && !self.external()
            }
        }
    }
}

/// What a run measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode {
    Produce,
    Consume,
    Latency,
    Rebalance,
}

/// One run's parameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Scenario {
    pub client: ClientKind,
    pub mode: Mode,
    pub broker: String,
    pub topic: String,
    pub partitions: i32,
    /// Records to produce or consume.
    pub count: u64,
    /// Value size in bytes.
    pub size: usize,
    /// `linger.ms`.
    pub linger_ms: u64,
    /// `batch.size` in bytes.
    pub batch_size: usize,
    /// `none` or `lz4`.
    pub codec: String,
    /// Records per second for the latency run.
    pub rate: u64,
    /// Consumer `fetch.max.wait.ms` (librdkafka `fetch.wait.max.ms`); 0 keeps the client's
    /// default (500 ms for both).
    #[serde(default)]
    pub fetch_max_wait_ms: u64,
}

/// What a child reports on stdout.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Outcome {
    /// Records delivered (produce) or received (consume).
    pub records: u64,
    /// Payload bytes (values) moved.
    pub bytes: u64,
    /// Wall time of the measured section, seconds.
    pub seconds: f64,
    /// Records that failed.
    pub errors: u64,
    /// Latency percentiles in ms (latency runs).
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Consume runs: ms from the start of the clock to the first record handed out.
    #[serde(default)]
    pub first_ms: f64,
    /// Produce and consume runs: CPU seconds (user + sys, every thread) the process spent
    /// inside the clock, from its own `getrusage` (JVM: `getProcessCpuTime`). Leaves out
    /// process start, runtime and JIT warm-up before the clock, and teardown.
    #[serde(default)]
    pub clock_cpu_s: f64,
}
