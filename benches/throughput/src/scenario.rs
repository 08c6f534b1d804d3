//! What one measured run does, passed from the orchestrator to a child process as JSON.

use serde::{Deserialize, Serialize};

/// The client under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
pub enum ClientKind {
    /// rafka (this project).
    Rafka,
    /// librdkafka through the rdkafka crate (bundled librdkafka).
    Librdkafka,
    /// rskafka (pure Rust, partition client).
    Rskafka,
}

impl ClientKind {
    pub fn name(self) -> &'static str {
        match self {
            ClientKind::Rafka => "rafka",
            ClientKind::Librdkafka => "librdkafka",
            ClientKind::Rskafka => "rskafka",
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
}
