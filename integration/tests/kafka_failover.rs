//! Multi-broker failover on a private 3-node Apache Kafka cluster (KRaft, combined nodes):
//! replication factor 3, `min.insync.replicas` = 2, `acks=all`. Partition leaders, the group
//! coordinator and the transaction coordinator are SIGKILLed (or stopped) while rafka's
//! producer and consumer are busy, and the data is checked afterwards: nothing lost, nothing
//! duplicated, order kept per partition, transactions all or nothing.
//!
//! Every test prints its numbers (`FAILOVER ...` lines) for quoting; run with
//! `cargo test -p rafka-integration --test kafka_failover -- --test-threads=1 --nocapture`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rafka::consumer::{AutoOffsetReset, Consumer, ConsumerConfig, IsolationLevel};
use rafka::producer::{ProduceError, Producer, ProducerConfig, ProducerRecord};
use rafka::wire::TopicPartition;
use rafka_integration::{unique_name, KafkaCluster};

const PARTITIONS: i32 = 3;

/// Broker settings of every failover cluster: a SIGKILLed broker is fenced (and leaves the
/// ISR, so that leadership moves) after 6 s instead of the default 9 s.
const FAST_FENCING: &[(&str, &str)] = &[
    ("broker.session.timeout.ms", "6000"),
    ("broker.heartbeat.interval.ms", "1000"),
];

async fn start_cluster() -> KafkaCluster {
    let t = Instant::now();
    let cluster = KafkaCluster::start_with(3, FAST_FENCING).expect("start a 3-node Kafka cluster");
    cluster
        .wait_for_brokers(&[1, 2, 3], Duration::from_secs(60))
        .await
        .expect("3 brokers");
    eprintln!("FAILOVER cluster of 3 nodes up in {:.1?}", t.elapsed());
    cluster
}

/// Runs a blocking fixture call (a node kill, stop or start) without stalling the runtime.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

async fn leader(cluster: &KafkaCluster, topic: &str, partition: i32) -> i32 {
    cluster
        .partition_state(topic, partition)
        .await
        .expect("partition state")
        .0
        .expect("a leader")
}

/// Waits until `node` is back in the ISR of every partition of `topic`.
async fn wait_in_isr(cluster: &KafkaCluster, topic: &str, node: i32) {
    let t = Instant::now();
    cluster
        .wait_for_brokers(&[1, 2, 3], Duration::from_secs(90))
        .await
        .expect("restarted broker registered");
    for p in 0..PARTITIONS {
        cluster
            .wait_for_partition(topic, p, Duration::from_secs(90), |_, isr| {
                isr.contains(&node)
            })
            .await
            .expect("restarted broker back in the ISR");
    }
    eprintln!(
        "FAILOVER node {node} back in the ISR of {topic} in {:.1?}",
        t.elapsed()
    );
}

/// The value of record `seq` of `partition`: the test's own per-partition sequence number.
fn value(tag: &str, partition: i32, seq: u64) -> String {
    format!("{tag}:{partition}:{seq}")
}

fn parse_value(v: &[u8]) -> (String, i32, u64) {
    let s = std::str::from_utf8(v).expect("utf-8 value");
    let mut it = s.split(':');
    let tag = it.next().expect("tag").to_string();
    let p = it.next().expect("partition").parse().expect("partition");
    let seq = it.next().expect("seq").parse().expect("seq");
    (tag, p, seq)
}

/// Reads every partition of `topic` from the beginning with a group-less rafka consumer until
/// `expected` records came (then 2 s more, to catch duplicates) or `within` passed. Returns
/// the values per partition, in offset order.
async fn read_back(
    bootstrap: &str,
    topic: &str,
    isolation: IsolationLevel,
    expected: usize,
    within: Duration,
) -> BTreeMap<i32, Vec<(i64, Vec<u8>)>> {
    let config = ConsumerConfig::builder(bootstrap)
        .auto_offset_reset(AutoOffsetReset::Earliest)
        .isolation_level(isolation)
        .fetch_max_wait(Duration::from_millis(100))
        .build()
        .unwrap();
    let mut consumer = Consumer::new(config).unwrap();
    let tps: Vec<TopicPartition> = (0..PARTITIONS)
        .map(|p| TopicPartition::new(topic, p))
        .collect();
    consumer.assign(&tps).unwrap();
    let mut out: BTreeMap<i32, Vec<(i64, Vec<u8>)>> = BTreeMap::new();
    let mut total = 0usize;
    let deadline = Instant::now() + within;
    let mut drain_until: Option<Instant> = None;
    while Instant::now() < deadline && drain_until.is_none_or(|d| Instant::now() < d) {
        let records = consumer
            .poll(Duration::from_millis(200))
            .await
            .expect("poll");
        for r in records {
            total += 1;
            out.entry(r.partition)
                .or_default()
                .push((r.offset, r.value.map(|v| v.to_vec()).unwrap_or_default()));
        }
        if total >= expected && drain_until.is_none() {
            drain_until = Some(Instant::now() + Duration::from_secs(2));
        }
    }
    consumer.close().await.ok();
    out
}

/// Loss, duplicates and order of what was read against `expected` (per partition, the
/// sequence numbers in the order they must appear).
#[derive(Debug, Default)]
struct Verdict {
    read: usize,
    lost: usize,
    duplicated: usize,
    out_of_order: usize,
    unexpected: usize,
}

fn verdict(
    read: &BTreeMap<i32, Vec<(i64, Vec<u8>)>>,
    expected: &BTreeMap<i32, Vec<(String, u64)>>,
) -> Verdict {
    let mut v = Verdict::default();
    for p in 0..PARTITIONS {
        let want: &[(String, u64)] = expected.get(&p).map_or(&[], Vec::as_slice);
        let want_set: BTreeSet<&(String, u64)> = want.iter().collect();
        let got: Vec<(String, u64)> = read
            .get(&p)
            .map(|rs| {
                rs.iter()
                    .map(|(_, val)| {
                        let (tag, vp, seq) = parse_value(val);
                        assert_eq!(vp, p, "record of partition {vp} read from {p}");
                        (tag, seq)
                    })
                    .collect()
            })
            .unwrap_or_default();
        v.read += got.len();
        let mut seen = BTreeSet::new();
        let mut first_seen = Vec::new();
        for g in &got {
            if !want_set.contains(g) {
                v.unexpected += 1;
            } else if !seen.insert(g.clone()) {
                v.duplicated += 1;
            } else {
                first_seen.push(g.clone());
            }
        }
        v.lost += want.len() - seen.len();
        // Order: the records read (first occurrences) must be the expected ones in order.
        let want_present: Vec<(String, u64)> =
            want.iter().filter(|w| seen.contains(*w)).cloned().collect();
        v.out_of_order += first_seen
            .iter()
            .zip(want_present.iter())
            .filter(|(a, b)| a != b)
            .count();
    }
    v
}

/// Acknowledgement times per partition, from delivery callbacks.
#[derive(Default)]
struct Acks {
    times: Mutex<BTreeMap<i32, Vec<Instant>>>,
    ok: AtomicU64,
    failed: AtomicU64,
    errors: Mutex<Vec<String>>,
}

impl Acks {
    fn callback(
        self: &Arc<Self>,
        partition: i32,
    ) -> impl FnOnce(Result<rafka::producer::RecordMetadata, ProduceError>) + Send + 'static {
        let me = self.clone();
        move |r| match r {
            Ok(_) => {
                me.ok.fetch_add(1, Ordering::Relaxed);
                me.times
                    .lock()
                    .unwrap()
                    .entry(partition)
                    .or_default()
                    .push(Instant::now());
            }
            Err(e) => {
                me.failed.fetch_add(1, Ordering::Relaxed);
                let mut errs = me.errors.lock().unwrap();
                if errs.len() < 10 {
                    errs.push(e.to_string());
                }
            }
        }
    }

    /// The first acknowledgement on `partition` after `t`, as a delay from `t`.
    fn first_after(&self, partition: i32, t: Instant) -> Option<Duration> {
        self.times
            .lock()
            .unwrap()
            .get(&partition)?
            .iter()
            .find(|a| **a > t)
            .map(|a| *a - t)
    }

    /// The longest pause between two acknowledgements of `partition`.
    fn longest_gap(&self, partition: i32) -> Duration {
        let times = self.times.lock().unwrap();
        let Some(ts) = times.get(&partition) else {
            return Duration::ZERO;
        };
        ts.windows(2)
            .map(|w| w[1].saturating_duration_since(w[0]))
            .max()
            .unwrap_or_default()
    }
}

fn producer_config(bootstrap: &str) -> ProducerConfig {
    ProducerConfig::new(bootstrap)
        .request_timeout(Duration::from_secs(15))
        .delivery_timeout(Duration::from_secs(120))
        .max_block(Duration::from_secs(60))
}

/// Scenario 1: an idempotent producer writes 200,000 records over 3 partitions; the leader of
/// partition 0 is SIGKILLed a third of the way through. Every record must be acknowledged and
/// read back exactly once, in order.
async fn idempotent_produce_through_leader_kill(cluster: &KafkaCluster, topic: &str) -> i32 {
    const RECORDS: u64 = 200_000;
    let producer = Producer::new(producer_config(&cluster.bootstrap())).unwrap();
    let acks = Arc::new(Acks::default());
    let victim = leader(cluster, topic, 0).await;
    let started = Instant::now();
    let mut killed_at = None;
    let mut next_seq = [0u64; PARTITIONS as usize];
    for i in 0..RECORDS {
        if i == RECORDS / 3 {
            // Let the producer get ahead of itself: records in flight and queued at the kill.
            blocking(|| cluster.kill(victim)).expect("kill leader");
            killed_at = Some(Instant::now());
            eprintln!(
                "FAILOVER idempotent: SIGKILLed node {victim} (leader of {topic}-0) after {i} sends ({} acked)",
                acks.ok.load(Ordering::Relaxed)
            );
        }
        let p = (i % PARTITIONS as u64) as i32;
        let seq = next_seq[p as usize];
        next_seq[p as usize] += 1;
        // Fire and forget: the callback counts the outcome.
        drop(
            producer
                .send_with_callback(
                    ProducerRecord::new(topic)
                        .partition(p)
                        .value(value("i", p, seq)),
                    acks.callback(p),
                )
                .await
                .expect("send"),
        );
    }
    let flushed = tokio::time::timeout(Duration::from_secs(150), producer.flush()).await;
    assert!(flushed.is_ok(), "flush hung after a leader kill");
    let produce_time = started.elapsed();
    let killed_at = killed_at.unwrap();
    let m = producer.metrics();
    producer.close(Duration::from_secs(10)).await.unwrap();
    let new_leader = leader(cluster, topic, 0).await;
    let recovery = acks.first_after(0, killed_at);
    eprintln!(
        "FAILOVER idempotent: produced {RECORDS} in {produce_time:.1?}: acked={} failed={} retries={} kills=1; \
         {topic}-0 leader {victim} -> {new_leader}; first ack on {topic}-0 after the kill: {recovery:.1?}; \
         longest ack gap on {topic}-0: {:.1?}; errors: {:?}",
        acks.ok.load(Ordering::Relaxed),
        acks.failed.load(Ordering::Relaxed),
        m.retries,
        acks.longest_gap(0),
        acks.errors.lock().unwrap(),
    );
    assert_eq!(acks.failed.load(Ordering::Relaxed), 0, "no record failed");
    assert_eq!(
        acks.ok.load(Ordering::Relaxed),
        RECORDS,
        "every record acked"
    );

    let t = Instant::now();
    let read = read_back(
        &cluster.bootstrap(),
        topic,
        IsolationLevel::ReadUncommitted,
        RECORDS as usize,
        Duration::from_secs(90),
    )
    .await;
    let expected: BTreeMap<i32, Vec<(String, u64)>> = (0..PARTITIONS)
        .map(|p| {
            (
                p,
                (0..next_seq[p as usize])
                    .map(|s| ("i".to_string(), s))
                    .collect(),
            )
        })
        .collect();
    let v = verdict(&read, &expected);
    eprintln!(
        "FAILOVER idempotent: read back {} in {:.1?}: lost={} duplicated={} out_of_order={} unexpected={}",
        v.read,
        t.elapsed(),
        v.lost,
        v.duplicated,
        v.out_of_order,
        v.unexpected
    );
    assert_eq!(
        (v.lost, v.duplicated, v.out_of_order, v.unexpected),
        (0, 0, 0, 0),
        "{v:?}"
    );
    victim
}

/// Scenario 2: a transactional producer runs 8 transactions of 3,000 records; the leader of
/// partition 1 is SIGKILLed in the middle of the 4th. A transaction that cannot commit is
/// aborted. read_committed must return every committed record once, in order, and nothing of
/// an aborted one.
async fn transactions_through_leader_kill(cluster: &KafkaCluster, topic: &str) {
    const TXNS: u64 = 8;
    const PER_TXN: u64 = 3_000;
    let txn_id = unique_name("failover-txn");
    let producer =
        Producer::new(producer_config(&cluster.bootstrap()).transactional_id(&txn_id)).unwrap();
    producer
        .init_transactions()
        .await
        .expect("init_transactions");
    let victim = leader(cluster, topic, 1).await;
    let acks = Arc::new(Acks::default());
    let mut expected: BTreeMap<i32, Vec<(String, u64)>> = BTreeMap::new();
    let mut committed = 0u64;
    let mut aborted = 0u64;
    let mut killed_at = None;
    for t in 0..TXNS {
        let tag = format!("t{t}");
        producer.begin_transaction().unwrap();
        let mut this: BTreeMap<i32, Vec<(String, u64)>> = BTreeMap::new();
        for i in 0..PER_TXN {
            if t == 3 && i == PER_TXN / 2 {
                blocking(|| cluster.kill(victim)).expect("kill leader");
                killed_at = Some(Instant::now());
                eprintln!(
                    "FAILOVER transactions: SIGKILLed node {victim} (leader of {topic}-1) in transaction {t}"
                );
            }
            let p = (i % PARTITIONS as u64) as i32;
            let seq = i / PARTITIONS as u64;
            drop(
                producer
                    .send_with_callback(
                        ProducerRecord::new(topic)
                            .partition(p)
                            .value(value(&tag, p, seq)),
                        acks.callback(p),
                    )
                    .await
                    .expect("send in a transaction"),
            );
            this.entry(p).or_default().push((tag.clone(), seq));
        }
        let t0 = Instant::now();
        let outcome = tokio::time::timeout(Duration::from_secs(120), producer.commit_transaction())
            .await
            .expect("commit_transaction hung");
        match outcome {
            Ok(()) => {
                committed += 1;
                for (p, recs) in this {
                    expected.entry(p).or_default().extend(recs);
                }
                eprintln!(
                    "FAILOVER transactions: transaction {t} committed in {:.1?}",
                    t0.elapsed()
                );
            }
            Err(e) => {
                aborted += 1;
                eprintln!(
                    "FAILOVER transactions: transaction {t} failed to commit ({e}); aborting"
                );
                tokio::time::timeout(Duration::from_secs(120), producer.abort_transaction())
                    .await
                    .expect("abort_transaction hung")
                    .expect("abort_transaction");
            }
        }
    }
    let recovery = acks.first_after(1, killed_at.unwrap());
    producer.close(Duration::from_secs(10)).await.unwrap();
    eprintln!(
        "FAILOVER transactions: {TXNS} transactions of {PER_TXN}: committed={committed} aborted={aborted} \
         acked={} failed={} kills=1; first ack on {topic}-1 after the kill: {recovery:.1?}",
        acks.ok.load(Ordering::Relaxed),
        acks.failed.load(Ordering::Relaxed),
    );
    let want: usize = expected.values().map(Vec::len).sum();
    let read = read_back(
        &cluster.bootstrap(),
        topic,
        IsolationLevel::ReadCommitted,
        want,
        Duration::from_secs(90),
    )
    .await;
    let v = verdict(&read, &expected);
    eprintln!(
        "FAILOVER transactions: read_committed {} of {want} committed: lost={} duplicated={} out_of_order={} \
         from aborted transactions={}",
        v.read, v.lost, v.duplicated, v.out_of_order, v.unexpected
    );
    assert_eq!(
        (v.lost, v.duplicated, v.out_of_order, v.unexpected),
        (0, 0, 0, 0),
        "{v:?}"
    );
    assert!(committed >= TXNS - 1, "at most the interrupted one aborts");
    blocking(|| cluster.restart(victim)).expect("restart");
    wait_in_isr(cluster, topic, victim).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn produce_survives_leader_sigkill_idempotent_and_transactional() {
    let started = Instant::now();
    let cluster = start_cluster().await;
    let topic = unique_name("failover-idem");
    cluster
        .create_topic(&topic, PARTITIONS, 3, 2)
        .await
        .unwrap();
    let victim = idempotent_produce_through_leader_kill(&cluster, &topic).await;
    blocking(|| cluster.restart(victim)).expect("restart");
    wait_in_isr(&cluster, &topic, victim).await;

    let topic = unique_name("failover-txn");
    cluster
        .create_topic(&topic, PARTITIONS, 3, 2)
        .await
        .unwrap();
    transactions_through_leader_kill(&cluster, &topic).await;
    eprintln!("FAILOVER test 1 wall time {:.1?}", started.elapsed());
}
