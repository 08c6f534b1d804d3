//! Group join latency on Tansu: time from N rafka members subscribing at once (their first
//! FindCoordinator/JoinGroup) until every member holds its share of the partitions.
//!
//! N = 1, 3, 10 on a 30-partition topic (30 divides evenly), a fresh group per run,
//! `session.timeout.ms` 6000 (plus 10000 for comparison), heartbeat 500 ms, range and
//! cooperative-sticky. Tansu holds every JoinGroup for about half the session timeout before it
//! answers (docs/brokers.md), so this measures mostly that wait; see docs/group-interop.md.
//!
//! Run: `cargo bench -p rafka-benches --bench group_join`. Needs a Tansu binary (`$TANSU_BIN`
//! or `<repo>/.tansu/bin/tansu`, see `scripts/tansu.sh`); without one it prints a SKIP line and
//! exits 0. Not run by CI. Assignments are sampled after each `poll` (≤ 50 ms apart).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rafka::consumer::{AutoOffsetReset, Consumer, ConsumerConfig};
use rafka::{Admin, Client, ClientConfig};
use rafka_integration::broker::TestBroker;

const PARTITIONS: i32 = 30;
const RUNS: usize = 3;
/// A run that has not converged by then is reported as failed.
const GIVE_UP: Duration = Duration::from_secs(90);

fn tansu_available() -> bool {
    if let Some(bin) = std::env::var_os("TANSU_BIN").filter(|v| !v.is_empty()) {
        return std::path::Path::new(&bin).is_file();
    }
    rafka_integration::env::repo_root()
        .join(".tansu/bin/tansu")
        .is_file()
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: only run for real.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    if !tansu_available() {
        println!(
            "SKIP group_join: no Tansu binary (set TANSU_BIN or run `bash scripts/tansu.sh install`)"
        );
        return;
    }
    let broker = TestBroker::start().expect("start tansu");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run(&broker.addr()));
}

async fn run(addr: &str) {
    let client = Client::connect(ClientConfig::new(addr))
        .await
        .expect("client");
    Admin::new(client.clone())
        .create_topic("group-join", PARTITIONS, 1)
        .await
        .expect("create topic");

    let cases: &[(&str, usize, u64)] = &[
        ("range", 1, 6_000),
        ("range", 3, 6_000),
        ("range", 10, 6_000),
        ("range", 1, 10_000),
        ("range", 3, 10_000),
        ("cooperative-sticky", 1, 6_000),
        ("cooperative-sticky", 3, 6_000),
        ("cooperative-sticky", 10, 6_000),
    ];
    println!("\ngroup join on Tansu: first JoinGroup → every member stable ({PARTITIONS} partitions, {RUNS} runs each)\n");
    println!(
        "| assignor | members | session.timeout.ms | min s | median s | max s | each run ÷ (session/2) |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | --- |");
    let mut group_no = 0;
    for &(strategy, members, session_ms) in cases {
        let mut times = Vec::new();
        for _ in 0..RUNS {
            group_no += 1;
            let group = format!("join-{group_no}");
            match join_once(addr, &group, strategy, members, session_ms).await {
                Some(t) => times.push(t),
                None => println!("run of {strategy} × {members} did not converge in {GIVE_UP:?}"),
            }
        }
        if times.is_empty() {
            continue;
        }
        times.sort();
        let s = |d: Duration| format!("{:.2}", d.as_secs_f64());
        let half = Duration::from_millis(session_ms / 2);
        let rounds: Vec<String> = times
            .iter()
            .map(|t| format!("{:.1}", t.as_secs_f64() / half.as_secs_f64()))
            .collect();
        println!(
            "| {strategy} | {members} | {session_ms} | {} | {} | {} | {} |",
            s(times[0]),
            s(times[times.len() / 2]),
            s(times[times.len() - 1]),
            rounds.join(", ")
        );
    }
}

/// Starts `members` consumers of `group` at once and returns how long until each holds exactly
/// `PARTITIONS / members` partitions and together all of them; `None` after [`GIVE_UP`].
async fn join_once(
    addr: &str,
    group: &str,
    strategy: &str,
    members: usize,
    session_ms: u64,
) -> Option<Duration> {
    let share = PARTITIONS as usize / members;
    let stop = Arc::new(AtomicBool::new(false));
    let assignments: Arc<Mutex<Vec<Vec<i32>>>> = Arc::new(Mutex::new(vec![Vec::new(); members]));
    let start = Instant::now();
    let tasks: Vec<_> = (0..members)
        .map(|i| {
            let config = ConsumerConfig::builder(addr)
                .group_id(group)
                .client_id(format!("bench-{i}"))
                .auto_offset_reset(AutoOffsetReset::Earliest)
                .session_timeout(Duration::from_millis(session_ms))
                .heartbeat_interval(Duration::from_millis(500))
                .partition_assignment_strategy([strategy])
                .build()
                .expect("config");
            let (stop, assignments) = (stop.clone(), assignments.clone());
            tokio::spawn(async move {
                let mut consumer = Consumer::new(config).expect("consumer");
                consumer.subscribe(["group-join"]).expect("subscribe");
                while !stop.load(Ordering::SeqCst) {
                    let _ = consumer.poll(Duration::from_millis(50)).await;
                    let mut mine: Vec<i32> = consumer
                        .assignment()
                        .iter()
                        .map(|tp| tp.partition)
                        .collect();
                    mine.sort_unstable();
                    assignments.lock().unwrap()[i] = mine;
                }
                let _ = consumer.close().await;
            })
        })
        .collect();
    let stable = || {
        let a = assignments.lock().unwrap();
        let mut all: Vec<i32> = a.iter().flatten().copied().collect();
        all.sort_unstable();
        a.iter().all(|m| m.len() == share) && all == (0..PARTITIONS).collect::<Vec<_>>()
    };
    let elapsed = loop {
        if stable() {
            break Some(start.elapsed());
        }
        if start.elapsed() > GIVE_UP {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    stop.store(true, Ordering::SeqCst);
    for t in tasks {
        let _ = t.await;
    }
    elapsed
}
