//! `rafka demo`: the exactly-once walkthrough.
//!
//! 1. Start (or use) a broker, create the topic, produce N keyed records with rafka's producer
//!    and note every acknowledged `(partition, offset)` in SQLite.
//! 2. Start a group of member processes (`rafka demo-member`). Each inserts every record into
//!    `processed` and stores its positions through rafka's SQL offset store in the same SQLite
//!    transaction; on assignment it seeks to the stored positions.
//! 3. After about a third of the records, SIGKILL one member (it cannot commit or leave), wait
//!    for the group to take over its partitions, then add a replacement member. On a Kafka
//!    cluster the demo started (`--broker kafka --kill-broker`) it also SIGKILLs the broker
//!    leading the most partitions and restarts it later (see [`broker_kill`]).
//! 4. When everything is processed, stop the members and check: every produced record has
//!    exactly one `processed` row.
//!
//! The orchestrator reads the members' event lines only to time rebalances and show progress;
//! the verdict comes from the database alone.

pub mod broker;
pub mod broker_kill;
pub mod db;
pub mod group_protocol;
pub mod kafka;
pub mod member;
pub mod members;
pub mod protocol;
pub mod rebalance;
pub mod workload;

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use rafka_client::TopicPartition;
use rafka_consumer::store::sql::{SqlOffsetStore, Sqlite};
use rafka_consumer::OffsetStore as _;

use crate::args::{DemoArgs, DemoBrokerChoice, GroupProtocol};
use crate::progress::Progress;
use crate::shutdown::Shutdown;
use broker::DemoBroker;
use broker_kill::BrokerEvent;
use members::{MemberSpec, MemberUpdate, Members};
use protocol::MemberEvent;
use rebalance::RebalanceTracker;

/// Where the run is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    /// Members are processing; nobody was killed yet.
    BeforeKill,
    /// A member was SIGKILLed; waiting for the survivors to own every partition.
    AfterKill,
    /// The replacement joined; waiting for the group to settle.
    AfterReplacement,
    /// No more membership changes planned.
    Steady,
}

/// Records per second per member so `members` process `records` in about `pace_s` seconds
/// (0 = unlimited when `pace_s` is 0).
pub fn pace_rate(records: u64, members: usize, pace_s: u64) -> u64 {
    if pace_s == 0 || members == 0 {
        return 0;
    }
    records.div_ceil(members as u64 * pace_s).max(1)
}

/// Runs the demo; the exit code is non-zero when any count is off.
///
/// # Errors
/// Setup failures (broker, topic, producer), a member crashing, or a stall.
pub async fn run(args: DemoArgs, shutdown: Shutdown) -> anyhow::Result<ExitCode> {
    if args.partitions < 1 || args.members < 1 || args.records == 0 {
        bail!("--records, --partitions and --members must be at least 1");
    }
    if args.kill_broker && args.broker != DemoBrokerChoice::Kafka {
        bail!(
            "--kill-broker needs --broker kafka: the demo only kills brokers of a cluster it \
             started (Tansu is a single broker)"
        );
    }
    group_protocol::check(&args)?;
    let dir = match args.db.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    db::remove(&args.db).with_context(|| format!("cannot remove old {}", args.db.display()))?;

    let broker = match &args.broker {
        DemoBrokerChoice::External(addr) => DemoBroker::external(addr.clone()),
        DemoBrokerChoice::Tansu => {
            let log = dir.join("tansu.log");
            tokio::task::spawn_blocking(move || DemoBroker::start_tansu(&log)).await??
        }
        DemoBrokerChoice::Kafka => {
            let kafka_dir = dir.join("kafka");
            eprintln!(
                "demo: starting a {}-node Apache Kafka cluster in {} (scripts/kafka.sh)",
                kafka::NODES,
                kafka_dir.display()
            );
            let port = args.kafka_port;
            let confs = group_protocol::kafka_confs(&args);
            tokio::task::spawn_blocking(move || DemoBroker::start_kafka(&kafka_dir, port, &confs))
                .await??
        }
    };
    eprintln!(
        "demo: broker {} ({})",
        broker.bootstrap,
        match (&args.broker, broker.is_owned()) {
            (DemoBrokerChoice::Kafka, _) => "3-node Apache Kafka cluster started by the demo",
            (_, true) => "tansu started by the demo",
            (_, false) => "external",
        }
    );
    eprintln!("demo: {}", group_protocol::describe(&args));
    let outcome = run_on(&args, &broker, &dir, shutdown).await;
    // Stopping Kafka waits for its JVMs: off the runtime.
    tokio::task::spawn_blocking(move || {
        let mut broker = broker;
        broker.stop();
    })
    .await?;
    outcome
}

/// The demo topic: on the demo's own Kafka cluster replicated 3 times with
/// `min.insync.replicas=2` (so one broker may die without losing acknowledged records or
/// blocking acks=all), elsewhere with the broker's defaults.
pub fn topic_spec(args: &DemoArgs) -> workload::TopicSpec {
    let kafka = args.broker == DemoBrokerChoice::Kafka;
    workload::TopicSpec {
        name: args.topic.clone(),
        partitions: args.partitions,
        replication_factor: if kafka { kafka::NODES as i16 } else { -1 },
        configs: if kafka {
            vec![("min.insync.replicas".to_string(), "2".to_string())]
        } else {
            Vec::new()
        },
    }
}

/// Where the optional broker kill is.
enum BrokerKillPlan {
    /// No broker kill (the default).
    Off,
    /// Kill when this many records are processed.
    Pending(u64),
    /// The kill task runs; its events arrive here.
    Running(tokio::sync::mpsc::UnboundedReceiver<BrokerEvent>),
    /// The node is back in every ISR.
    Done,
}

impl BrokerKillPlan {
    fn finished(&self) -> bool {
        matches!(self, BrokerKillPlan::Off | BrokerKillPlan::Done)
    }

    async fn next_event(&mut self) -> Option<BrokerEvent> {
        match self {
            BrokerKillPlan::Running(rx) => rx.recv().await,
            _ => std::future::pending().await,
        }
    }
}

async fn run_on(
    args: &DemoArgs,
    broker: &DemoBroker,
    dir: &std::path::Path,
    mut shutdown: Shutdown,
) -> anyhow::Result<ExitCode> {
    let bootstrap = broker.bootstrap.as_str();
    let pool = db::open(&args.db, 2)
        .await
        .context("cannot open the demo database")?;
    db::create_schema(&pool).await?;
    // Created here once, so the members do not race to create it.
    let store = SqlOffsetStore::<Sqlite>::new(pool.clone());
    store.create_table_if_missing().await?;

    let spec = topic_spec(args);
    workload::recreate_topic(bootstrap, &spec).await?;
    if spec.replication_factor > 0 {
        eprintln!(
            "demo: topic {} with {} partitions, replication factor {}, {}",
            spec.name,
            spec.partitions,
            spec.replication_factor,
            spec.configs
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    let produced = workload::produce(bootstrap, &args.topic, args.records).await?;
    db::insert_produced(&pool, &args.topic, &produced.acks).await?;
    let secs = produced.elapsed.as_secs_f64().max(1e-9);
    let produce_line = format!(
        "produce: {} records ({:.1} MB) in {:.2} s: {:.0} msgs/s, {:.1} MB/s",
        produced.acks.len(),
        produced.bytes as f64 / 1e6,
        secs,
        produced.acks.len() as f64 / secs,
        produced.bytes as f64 / 1e6 / secs,
    );
    println!("{produce_line}");
    if produced.failed > 0 {
        eprintln!("demo: {} records were not acknowledged", produced.failed);
    }
    let expected = produced.acks.len() as u64;

    let group_id = format!("rafka-demo-{}", std::process::id());
    let mut end_offsets: BTreeMap<i32, i64> = BTreeMap::new();
    for (p, o) in &produced.acks {
        let end = end_offsets.entry(*p).or_insert(0);
        *end = (*end).max(o + 1);
    }
    let spec = MemberSpec {
        exe: std::env::current_exe().context("cannot find the rafka executable")?,
        bootstrap: bootstrap.to_string(),
        topic: args.topic.clone(),
        group_id: group_id.clone(),
        db: args.db.clone(),
        session_timeout_ms: args.session_timeout_ms,
        log_dir: dir.to_path_buf(),
        max_rate: pace_rate(expected, args.members, args.pace_s),
        group_protocol: args.group_protocol,
        group_remote_assignor: args.group_remote_assignor.clone(),
    };
    let (mut members, mut updates) = Members::new(spec);
    let mut tracker = match args.group_protocol {
        GroupProtocol::Classic => RebalanceTracker::new(args.partitions),
        GroupProtocol::Consumer => RebalanceTracker::incremental(args.partitions),
    };
    let consume_started = Instant::now();
    tracker.change(format!("{} members joined", args.members), consume_started);
    for _ in 0..args.members {
        let name = members.spawn()?;
        tracker.member_started(&name);
    }

    if spec_rate(&members) > 0 {
        eprintln!(
            "demo: members paced to {} records/s each (--pace {} s; --pace 0 for full speed)",
            spec_rate(&members),
            args.pace_s
        );
    }
    let mut progress = Progress::new("processed", Some(expected));
    let mut phase = if args.kill_at > 0.0 {
        Phase::BeforeKill
    } else {
        Phase::Steady
    };
    let kill_threshold = (expected as f64 * args.kill_at.clamp(0.0, 1.0)) as u64;
    let mut victim: Option<String> = None;
    let mut broker_plan = if args.kill_broker {
        BrokerKillPlan::Pending((expected as f64 * args.kill_broker_at.clamp(0.0, 1.0)) as u64)
    } else {
        BrokerKillPlan::Off
    };
    let mut broker_lines: Vec<String> = Vec::new();
    let mut consume_done: Option<Instant> = None;
    let mut broker_triggered: Option<(Instant, u64)> = None;
    let mut totals: BTreeMap<String, u64> = BTreeMap::new();
    let mut last_count = 0;
    let mut last_change = Instant::now();
    let stall = Duration::from_secs(args.stall_timeout_s);
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    loop {
        tokio::select! {
            Some((name, update)) = updates.recv() => {
                let now = Instant::now();
                match update {
                    MemberUpdate::Event(MemberEvent::Assigned { partitions }) => {
                        progress.println(&format!("demo: {name} assigned partitions {partitions:?}"));
                        tracker.assigned(&name, &partitions, now);
                    }
                    MemberUpdate::Event(MemberEvent::Revoked { partitions }) => {
                        tracker.revoked(&name, &partitions, now);
                    }
                    MemberUpdate::Event(MemberEvent::Processed { total })
                    | MemberUpdate::Event(MemberEvent::Stopped { total }) => {
                        totals.insert(name, total);
                    }
                    MemberUpdate::Event(MemberEvent::Started) => {}
                    MemberUpdate::Closed => {
                        if victim.as_deref() != Some(name.as_str()) {
                            let status = members.reap(&name).await;
                            members.stop_all(Duration::from_secs(10)).await;
                            bail!(
                                "{name} exited unexpectedly ({}); see {}",
                                status.map_or("unknown status".into(), |s| s.to_string()),
                                dir.join(format!("{name}.log")).display()
                            );
                        }
                    }
                }
            }
            Some(event) = broker_plan.next_event() => {
                match event {
                    BrokerEvent::Killed { node, led } => {
                        let (at, count) = broker_triggered.unwrap_or((Instant::now(), last_count));
                        progress.println(&format!(
                            "demo: SIGKILLed broker {node} (leader of partitions {led:?}) after {last_count} records \
                             ({:.2} s after the trigger at {count})",
                            at.elapsed().as_secs_f64()
                        ));
                        broker_lines.push(format!(
                            "broker: node {node} SIGKILLed (leader of partitions {led:?}) after {last_count} records"
                        ));
                    }
                    BrokerEvent::LeadersMoved { node, took } => {
                        progress.println(&format!(
                            "demo: partitions of broker {node} led by the other brokers after {:.2} s",
                            took.as_secs_f64()
                        ));
                        if let Some(line) = broker_lines.last_mut() {
                            line.push_str(&format!(
                                " -> new leaders in {:.2} s",
                                took.as_secs_f64()
                            ));
                        }
                    }
                    BrokerEvent::Restarted { node, down } => {
                        progress.println(&format!(
                            "demo: restarted broker {node} after {:.1} s down",
                            down.as_secs_f64()
                        ));
                        broker_lines.push(format!(
                            "broker: node {node} restarted after {:.1} s down",
                            down.as_secs_f64()
                        ));
                    }
                    BrokerEvent::InSync { node, took } => {
                        progress.println(&format!(
                            "demo: broker {node} back in every ISR {:.2} s after its restart",
                            took.as_secs_f64()
                        ));
                        if let Some(line) = broker_lines.last_mut() {
                            line.push_str(&format!(
                                " -> back in every ISR in {:.2} s",
                                took.as_secs_f64()
                            ));
                        }
                        broker_plan = BrokerKillPlan::Done;
                    }
                    BrokerEvent::Failed(e) => {
                        progress.finish();
                        members.stop_all(Duration::from_secs(10)).await;
                        bail!("broker kill: {e}");
                    }
                }
                // The broker's absence stalls some partitions: not a stall of the demo.
                last_change = Instant::now();
            }
            _ = tick.tick() => {
                let now = Instant::now();
                let count = db::processed_count(&pool, &args.topic).await?;
                if let BrokerKillPlan::Pending(threshold) = broker_plan {
                    if count >= threshold {
                        broker_triggered = Some((now, count));
                        if let Some(cluster) = broker.kafka() {
                            let client =
                                crate::commands::connect::connect(bootstrap, &crate::settings::Settings::new())
                                    .await?;
                            broker_plan = BrokerKillPlan::Running(broker_kill::spawn(
                                cluster.nodes(),
                                client,
                                args.topic.clone(),
                                Duration::from_secs(args.broker_down_s),
                            ));
                        }
                    }
                }
                progress.set(count);
                if count != last_count {
                    last_count = count;
                    last_change = now;
                } else if now.duration_since(last_change) > stall {
                    members.stop_all(Duration::from_secs(10)).await;
                    bail!(
                        "no progress for {}s: processed {count} of {expected}; member logs in {}",
                        stall.as_secs(),
                        dir.display()
                    );
                }
                match phase {
                    Phase::BeforeKill if count >= kill_threshold && !tracker.is_rebalancing() => {
                        // The member with the most partitions: its loss moves the most work.
                        let assignment = tracker.assignment();
                        let name = assignment
                            .iter()
                            .max_by_key(|(_, ps)| ps.len())
                            .map(|(n, _)| n.to_string())
                            .context("no member to kill")?;
                        members.kill(&name).await;
                        progress.println(&format!(
                            "demo: SIGKILLed {name} (owned {:?}) after {count} records",
                            assignment.get(name.as_str()).cloned().unwrap_or_default()
                        ));
                        let now = Instant::now();
                        tracker.change(format!("{name} SIGKILLed"), now);
                        tracker.member_gone(&name, now);
                        victim = Some(name);
                        phase = Phase::AfterKill;
                    }
                    Phase::AfterKill if !tracker.is_rebalancing() => {
                        let name = members.spawn()?;
                        progress.println(&format!("demo: started replacement {name}"));
                        tracker.change(format!("replacement {name} joined"), Instant::now());
                        tracker.member_started(&name);
                        phase = Phase::AfterReplacement;
                    }
                    Phase::AfterReplacement if !tracker.is_rebalancing() => phase = Phase::Steady,
                    _ => {}
                }
                if count >= expected && phase == Phase::Steady && !tracker.is_rebalancing() {
                    consume_done.get_or_insert(now);
                }
                if consume_done.is_some() && broker_plan.finished() {
                    break;
                }
            }
            _ = shutdown.wait() => {
                progress.finish();
                members.stop_all(Duration::from_secs(10)).await;
                bail!("interrupted");
            }
        }
    }
    // Processing time: until the group was done, not until a restarted broker caught up.
    let consume_elapsed = consume_done
        .unwrap_or_else(Instant::now)
        .duration_since(consume_started);
    progress.finish();
    let unclean = members.stop_all(Duration::from_secs(20)).await;
    if !unclean.is_empty() {
        eprintln!("demo: members that did not stop cleanly: {unclean:?}");
    }
    // Late `stopped` events carry the final per-member totals.
    while let Ok((name, update)) = updates.try_recv() {
        if let MemberUpdate::Event(
            MemberEvent::Stopped { total } | MemberEvent::Processed { total },
        ) = update
        {
            totals.insert(name, total);
        }
    }

    for m in tracker.measurements() {
        println!(
            "rebalance: {} -> stable in {:.2} s",
            m.change,
            m.took.as_secs_f64()
        );
    }
    for line in &broker_lines {
        println!("{line}");
    }
    let per_member: Vec<String> = totals.iter().map(|(n, t)| format!("{n}={t}")).collect();
    println!(
        "consume: {} records in {:.2} s by {} member processes ({})",
        last_count,
        consume_elapsed.as_secs_f64(),
        totals.len(),
        per_member.join(" ")
    );
    let partitions: Vec<TopicPartition> = end_offsets
        .keys()
        .map(|p| TopicPartition::new(args.topic.as_str(), *p))
        .collect();
    let stored = store.load(&group_id, &partitions).await?;
    let at_end = partitions
        .iter()
        .filter(|tp| stored.get(*tp) == end_offsets.get(&tp.partition))
        .count();
    println!(
        "positions: {at_end}/{} partitions stored at their end offsets in {}",
        partitions.len(),
        store.table()
    );
    let verdict = db::verify(&pool, &args.topic).await?;
    // Fold the WAL back into the main file so the database left behind is one file.
    let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&pool)
        .await;
    pool.close().await;
    println!("{}", verdict.line());
    if verdict.unexpected > 0 {
        println!(
            "unexpected: {} processed rows were never produced",
            verdict.unexpected
        );
    }
    println!("database: {}", args.db.display());
    let complete = verdict.produced == args.records && at_end == partitions.len();
    if verdict.is_exactly_once() && complete {
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::FAILURE)
    }
}

fn spec_rate(members: &Members) -> u64 {
    members.spec().max_rate
}

/// The repository root: the nearest ancestor of the current directory with `scripts/tansu.sh`
/// or a workspace `Cargo.toml` holding `crates/cli`.
pub(crate) fn repo_root() -> Option<std::path::PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    cwd.ancestors()
        .find(|dir| {
            dir.join("scripts/tansu.sh").exists() || dir.join("crates/cli/Cargo.toml").exists()
        })
        .map(std::path::Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pace_spreads_records_over_members_and_seconds() {
        assert_eq!(pace_rate(200_000, 3, 10), 6667);
        assert_eq!(pace_rate(20_000, 3, 10), 667);
        assert_eq!(pace_rate(5, 3, 10), 1);
        assert_eq!(pace_rate(200_000, 3, 0), 0);
    }
}
