//! rafka's throughput harness: rafka beside librdkafka, rskafka, franz-go and the Java client
//! against a local Tansu and/or a local Apache Kafka, in one run, with a table of medians,
//! spreads and ratios written to `docs/benchmarks.md` and a chart to `docs/throughput.png`.
//!
//! Every measured run is a child process, so that its CPU seconds (user + sys) and peak RSS
//! come from `wait4` for that client alone: this binary (`throughput run`) for the Rust
//! clients, the peer's own program for franz-go and Java. Each scenario gets a fresh Tansu
//! (Tansu keeps everything in memory and never frees it); Kafka is started once per run and
//! each scenario's topics are deleted after it.

mod broker;
mod clients;
mod report;
mod scenario;

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use clap::{Parser, Subcommand};

use broker::BrokerKind;
use scenario::{ClientKind, Mode, Outcome, Scenario};

#[derive(Parser)]
#[command(about = "rafka throughput, latency and rebalance benchmarks")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Runs every scenario for every client and writes the report.
    All {
        /// Repetitions of each measurement (median and spread are reported).
        #[arg(long, default_value_t = 3)]
        reps: usize,
        /// Divide record counts by 10 (a smoke run).
        #[arg(long)]
        quick: bool,
        /// Clients to run (a peer whose toolchain is missing is skipped with a message).
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "rafka,librdkafka,rskafka,franz,java"
        )]
        clients: Vec<ClientKind>,
        /// Brokers to run against: a private Tansu per scenario, one private 1-node Kafka
        /// for the run, or both (every scenario on Tansu, then on Kafka).
        #[arg(long, value_delimiter = ',', default_value = "tansu")]
        broker: Vec<BrokerKind>,
        /// Run only the rows whose scenario name contains one of these (e.g. `100 B, default`,
        /// `latency`, `rebalance`); all rows when absent.
        #[arg(long)]
        only: Vec<String>,
        /// Markdown report (its throughput section is replaced).
        #[arg(long, default_value = "docs/benchmarks.md")]
        out: PathBuf,
        /// PNG chart of throughput per client.
        #[arg(long, default_value = "docs/throughput.png")]
        chart: PathBuf,
    },
    /// One measured run (internal: the orchestrator starts these).
    Run {
        /// The scenario as JSON.
        scenario: String,
    },
}

fn main() -> Result<()> {
    match Cli::parse().cmd {
        Cmd::Run { scenario } => {
            let s: Scenario = serde_json::from_str(&scenario)?;
            let outcome = run_here(&s)?;
            println!("{}", serde_json::to_string(&outcome)?);
            Ok(())
        }
        Cmd::All {
            reps,
            quick,
            clients,
            broker,
            only,
            out,
            chart,
        } => {
            let select = Select { reps, quick, only };
            let rows = run_all(&select, &clients, &BrokerKind::expand(&broker))?;
            let table = report::markdown(&rows, reps, quick);
            println!("{table}");
            report::write_section(&out, &table)?;
            report::chart(&rows, &chart)?;
            eprintln!("wrote {} and {}", out.display(), chart.display());
            Ok(())
        }
    }
}

/// Runs one scenario in this process.
fn run_here(s: &Scenario) -> Result<Outcome> {
    match s.client {
        ClientKind::Librdkafka => match s.mode {
            Mode::Produce => clients::librdkafka::produce(s),
            Mode::Consume => clients::librdkafka::consume(s),
            Mode::Latency => clients::librdkafka::latency(s),
            Mode::Rebalance => clients::librdkafka::rebalance(s),
        },
        ClientKind::Franz | ClientKind::Java => {
            bail!("{} runs as its own program", s.client.name())
        }
        ClientKind::Rafka | ClientKind::Rskafka => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                match (s.client, s.mode) {
                    (ClientKind::Rafka, Mode::Produce) => clients::rafka::produce(s).await,
                    (ClientKind::Rafka, Mode::Consume) => clients::rafka::consume(s).await,
                    (ClientKind::Rafka, Mode::Latency) => clients::rafka::latency(s).await,
                    (ClientKind::Rafka, Mode::Rebalance) => clients::rafka::rebalance(s).await,
                    (ClientKind::Rskafka, Mode::Produce) => clients::rskafka::produce(s).await,
                    (ClientKind::Rskafka, Mode::Consume) => clients::rskafka::consume(s).await,
                    _ => bail!("{} cannot run {:?}", s.client.name(), s.mode),
                }
            })
        }
    }
}

/// One measurement: the child's own report plus what the kernel counted for it.
#[derive(Debug, Clone)]
pub struct Measured {
    pub outcome: Outcome,
    /// User + system CPU seconds of the client process.
    pub cpu_seconds: f64,
    /// Peak resident set size of the client process, MiB.
    pub peak_rss_mib: f64,
}

/// Command lines of the external peers that built, by client.
type Peers = HashMap<ClientKind, Vec<OsString>>;

/// Runs `s` in a child process and measures it: this binary for the Rust clients, the peer's
/// own program (no shell or wrapper in between) for franz-go and Java.
fn measure(s: &Scenario, peers: &Peers) -> Result<Measured> {
    let mut cmd = if s.client.external() {
        let argv = peers
            .get(&s.client)
            .with_context(|| format!("{} was not built", s.client.name()))?;
        let mut c = Command::new(&argv[0]);
        c.args(&argv[1..]).args(clients::external::args(s)?);
        c
    } else {
        let mut c = Command::new(std::env::current_exe()?);
        c.arg("run").arg(serde_json::to_string(s)?);
        c
    };
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let pid = child.id() as libc::pid_t;
    let mut stdout = child.stdout.expect("piped");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut text).map(|_| text)
    });
    let mut status = 0;
    let (rc, usage) = wait4(pid, &mut status);
    if rc < 0 {
        bail!("wait4 failed: {}", std::io::Error::last_os_error());
    }
    let text = reader.join().map_err(|_| anyhow!("reader panicked"))??;
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        bail!(
            "{} {:?} run failed (status {status})",
            s.client.name(),
            s.mode
        );
    }
    let line = text.lines().last().context("child printed nothing")?;
    let outcome: Outcome = serde_json::from_str(line)?;
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Ok(Measured {
        outcome,
        cpu_seconds: secs(usage.ru_utime) + secs(usage.ru_stime),
        peak_rss_mib: usage.ru_maxrss as f64 / 1024.0,
    })
}

#[allow(unsafe_code)]
fn wait4(pid: libc::pid_t, status: &mut i32) -> (i32, libc::rusage) {
    // SAFETY: rusage is plain old data (all-zero is a valid value), and both pointers are
    // valid, exclusive references for the duration of the call.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        let rc = libc::wait4(pid, status, 0, &mut usage);
        (rc, usage)
    }
}

/// One row of the report: a scenario, a client, and its repetitions.
#[derive(Debug, Clone)]
pub struct Row {
    pub broker: BrokerKind,
    pub scenario: String,
    pub client: ClientKind,
    pub mode: Mode,
    pub runs: Vec<Measured>,
}

struct Profile {
    name: &'static str,
    count: u64,
    size: usize,
    linger_ms: u64,
    batch_size: usize,
    codec: &'static str,
}

fn profiles(quick: bool) -> Vec<Profile> {
    let div = if quick { 10 } else { 1 };
    let mut out = Vec::new();
    for (count, size) in [(1_000_000u64, 100usize), (100_000, 1024)] {
        for (pname, linger_ms, batch_size) in
            [("default", 5, 16 * 1024), ("throughput", 50, 1 << 20)]
        {
            for codec in ["none", "lz4"] {
                out.push(Profile {
                    name: pname,
                    count: count / div,
                    size,
                    linger_ms,
                    batch_size,
                    codec,
                });
            }
        }
    }
    out
}

/// Builds the external peers among `clients`; a peer that cannot be built (its toolchain is
/// missing) is dropped from the run with a message.
fn prepare_peers(clients: &[ClientKind]) -> (Vec<ClientKind>, Peers) {
    let mut peers = Peers::new();
    let mut kept = Vec::new();
    for &c in clients {
        if kept.contains(&c) {
            continue;
        }
        if c.external() {
            match clients::external::prepare(c) {
                Ok(argv) => {
                    peers.insert(c, argv);
                }
                Err(e) => {
                    eprintln!("skipping {}: {e:#}", c.name());
                    continue;
                }
            }
        }
        kept.push(c);
    }
    (kept, peers)
}

/// What to run.
struct Select {
    reps: usize,
    quick: bool,
    only: Vec<String>,
}

impl Select {
    fn wants(&self, row: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|o| row.contains(o.as_str()))
    }
}

fn run_all(select: &Select, clients: &[ClientKind], brokers: &[BrokerKind]) -> Result<Vec<Row>> {
    let (clients, peers) = prepare_peers(clients);
    let mut rows: Vec<Row> = Vec::new();
    for &kind in brokers {
        let source = broker::Source::start(kind)?;
        run_on(&source, select, &clients, &peers, &mut rows)?;
    }
    Ok(rows)
}

fn run_on(
    source: &broker::Source,
    select: &Select,
    clients: &[ClientKind],
    peers: &Peers,
    rows: &mut Vec<Row>,
) -> Result<()> {
    let (reps, quick) = (select.reps, select.quick);
    let bk = source.kind();
    let clients: Vec<ClientKind> = clients
        .iter()
        .copied()
        .filter(|c| match c.unsupported_on(bk) {
            Some(why) => {
                eprintln!("skipping {} on {}: {why}", c.name(), bk.name());
                false
            }
            None => true,
        })
        .collect();
    let push = |rows: &mut Vec<Row>, scenario: &str, client, mode, m: Measured| {
        if let Some(r) = rows.iter_mut().find(|r| {
            r.broker == bk && r.scenario == scenario && r.client == client && r.mode == mode
        }) {
            r.runs.push(m);
        } else {
            rows.push(Row {
                broker: bk,
                scenario: scenario.to_string(),
                client,
                mode,
                runs: vec![m],
            });
        }
    };
    for (pi, p) in profiles(quick).into_iter().enumerate() {
        let label = format!(
            "{}k x {} B, {} (linger {} ms, batch {} KiB), {}",
            p.count / 1000,
            p.size,
            p.name,
            p.linger_ms,
            p.batch_size / 1024,
            p.codec
        );
        if !select.wants(&label) {
            continue;
        }
        for rep in 0..reps {
            for &client in &clients {
                let b = source.broker()?;
                // Unique over the run: Kafka keeps one cluster for every scenario.
                let topic = format!("bench-{}-p{pi}-{rep}", client.name());
                b.create_topic(&topic, 6)?;
                let mut s = Scenario {
                    client,
                    mode: Mode::Produce,
                    broker: b.addr.clone(),
                    topic,
                    partitions: 6,
                    count: p.count,
                    size: p.size,
                    linger_ms: p.linger_ms,
                    batch_size: p.batch_size,
                    codec: p.codec.to_string(),
                    rate: 0,
                    fetch_max_wait_ms: 0,
                };
                let name = client.name();
                eprintln!("[{} {label}] rep {} {name} produce", bk.name(), rep + 1);
                let produced = measure(&s, peers)?;
                let n = produced.outcome.records;
                push(rows, &label, client, Mode::Produce, produced);
                // Consume what this client produced, from the beginning.
                s.mode = Mode::Consume;
                s.count = n;
                eprintln!("[{} {label}] rep {} {name} consume", bk.name(), rep + 1);
                push(rows, &label, client, Mode::Consume, measure(&s, peers)?);
            }
        }
    }
    // End-to-end latency at a fixed rate, and rebalance time (clients with groups only).
    let latency_count = if quick { 20_000 } else { 100_000 };
    const LATENCY: &str = "e2e latency, 10,000 msg/s, 100 B";
    const LATENCY_SHORT_WAIT: &str = "e2e latency, 10,000 msg/s, 100 B, fetch.max.wait.ms 10";
    const REBALANCE: &str = "rebalance: 3rd member joins 2 (6 partitions, range)";
    let group_rows = [LATENCY, LATENCY_SHORT_WAIT, REBALANCE];
    if !group_rows.iter().any(|r| select.wants(r)) {
        return Ok(());
    }
    for rep in 0..reps {
        for &client in clients.iter().filter(|c| c.supports(Mode::Latency)) {
            let b = source.broker()?;
            let s = Scenario {
                client,
                mode: Mode::Latency,
                broker: b.addr.clone(),
                topic: String::new(),
                partitions: 6,
                count: latency_count,
                size: 100,
                linger_ms: 5,
                batch_size: 16 * 1024,
                codec: "none".into(),
                rate: 10_000,
                fetch_max_wait_ms: 0,
            };
            // Tansu holds a Fetch long after fetch.min.bytes is met, so the default 500 ms
            // wait (0: the client's default) dominates the first row; the second shows the
            // clients with a short wait.
            for (wait_ms, row) in [(0, LATENCY), (10, LATENCY_SHORT_WAIT)] {
                if !select.wants(row) {
                    continue;
                }
                let run = Scenario {
                    topic: format!("latency-{}-{rep}-wait{wait_ms}", client.name()),
                    fetch_max_wait_ms: wait_ms,
                    ..s.clone()
                };
                b.create_topic(&run.topic, 6)?;
                eprintln!("[{} {row}] rep {} {}", bk.name(), rep + 1, client.name());
                push(rows, row, client, Mode::Latency, measure(&run, peers)?);
            }
            if !select.wants(REBALANCE) {
                continue;
            }
            let s = Scenario {
                mode: Mode::Rebalance,
                topic: format!("rebalance-{}-{rep}", client.name()),
                ..s
            };
            b.create_topic(&s.topic, 6)?;
            eprintln!(
                "[{} rebalance] rep {} {}",
                bk.name(),
                rep + 1,
                client.name()
            );
            push(
                rows,
                REBALANCE,
                client,
                Mode::Rebalance,
                measure(&s, peers)?,
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    Ok(())
}
