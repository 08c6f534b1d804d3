//! Multi-broker failover on a private 3-node Apache Kafka cluster (KRaft, combined nodes):
//! replication factor 3, `min.insync.replicas` = 2, `acks=all`. Partition leaders, the group
//! coordinator and the transaction coordinator are SIGKILLed (or stopped) while rafka's
//! producer and consumer are busy, and the data is checked afterwards: nothing lost, nothing
//! duplicated, order kept per partition, transactions all or nothing.
//!
//! Every test prints its numbers (`FAILOVER ...` lines) for quoting; run with
//! `cargo test -p rafka-integration --test kafka_failover -- --test-threads=1 --nocapture`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rafka::consumer::{AutoOffsetReset, Consumer, ConsumerConfig, IsolationLevel};
use rafka::producer::{
    ProduceError, Producer, ProducerConfig, ProducerConfigBuilder, ProducerRecord,
};
use rafka::wire::TopicPartition;
use rafka_integration::{unique_name, KafkaCluster};

const PARTITIONS: i32 = 3;

/// Records read per partition: (offset, value), in offset order.
type Read = BTreeMap<i32, Vec<(i64, Vec<u8>)>>;

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
) -> Read {
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
    let mut out = Read::new();
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

fn verdict(read: &Read, expected: &BTreeMap<i32, Vec<(String, u64)>>) -> Verdict {
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

/// Sends record `i` (round robin over the partitions, the next sequence of its partition,
/// tagged `tag`) fire-and-forget: the callback counts the outcome.
async fn send_next(
    producer: &Producer,
    acks: &Arc<Acks>,
    topic: &str,
    tag: &str,
    i: u64,
    next_seq: &mut [u64],
) {
    let p = (i % PARTITIONS as u64) as i32;
    let seq = next_seq[p as usize];
    next_seq[p as usize] += 1;
    let record = ProducerRecord::new(topic)
        .partition(p)
        .value(value(tag, p, seq));
    drop(
        producer
            .send_with_callback(record, acks.callback(p))
            .await
            .expect("send"),
    );
}

/// A transactional producer with a fresh `transactional.id` (returned too) made from `prefix`.
fn transactional_producer(cluster: &KafkaCluster, prefix: &str) -> (Producer, String) {
    let txn_id = unique_name(prefix);
    let config = producer_config(&cluster.bootstrap())
        .transactional_id(&txn_id)
        .build()
        .unwrap();
    (Producer::new(config).unwrap(), txn_id)
}

fn producer_config(bootstrap: &str) -> ProducerConfigBuilder {
    ProducerConfig::builder(bootstrap)
        .request_timeout(Duration::from_secs(15))
        .delivery_timeout(Duration::from_secs(120))
        .max_block(Duration::from_secs(60))
}

/// Scenario 1: an idempotent producer writes 200,000 records over 3 partitions; the leader of
/// partition 0 is SIGKILLed a third of the way through. Every record must be acknowledged and
/// read back exactly once, in order.
async fn idempotent_produce_through_leader_kill(cluster: &KafkaCluster, topic: &str) -> i32 {
    const RECORDS: u64 = 200_000;
    let producer = Producer::new(producer_config(&cluster.bootstrap()).build().unwrap()).unwrap();
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
        send_next(&producer, &acks, topic, "i", i, &mut next_seq).await;
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
    let (producer, _) = transactional_producer(cluster, "failover-txn");
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

    // The transaction coordinator dies before a transaction's first AddPartitionsToTxn.
    let topic = unique_name("failover-coord0");
    cluster
        .create_topic(&topic, PARTITIONS, 3, 2)
        .await
        .unwrap();
    let (coordinator, _) = transactions_through_coordinator_kill(&cluster, &topic, 4, 1, 0).await;
    blocking(|| cluster.restart(coordinator)).expect("restart");
    eprintln!("FAILOVER test 1 wall time {:.1?}", started.elapsed());
}

/// A paced idempotent producer on its own task: 10 records per partition every 20 ms until
/// stopped. Returns (per-partition record count, acknowledgements).
struct BackgroundProducer {
    stop: Arc<AtomicBool>,
    sent: Arc<Mutex<[u64; PARTITIONS as usize]>>,
    acks: Arc<Acks>,
    task: tokio::task::JoinHandle<Producer>,
}

fn spawn_producer(bootstrap: &str, topic: &str, tag: &'static str) -> BackgroundProducer {
    let producer = Producer::new(producer_config(bootstrap).build().unwrap()).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(Mutex::new([0u64; PARTITIONS as usize]));
    let acks = Arc::new(Acks::default());
    let (s, n, a, topic) = (stop.clone(), sent.clone(), acks.clone(), topic.to_string());
    let task = tokio::spawn(async move {
        while !s.load(Ordering::Acquire) {
            for p in 0..PARTITIONS {
                for _ in 0..10 {
                    let seq = {
                        let mut n = n.lock().unwrap();
                        n[p as usize] += 1;
                        n[p as usize] - 1
                    };
                    drop(
                        producer
                            .send_with_callback(
                                ProducerRecord::new(&*topic)
                                    .partition(p)
                                    .value(value(tag, p, seq)),
                                a.callback(p),
                            )
                            .await
                            .expect("send"),
                    );
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        producer
    });
    BackgroundProducer {
        stop,
        sent,
        acks,
        task,
    }
}

impl BackgroundProducer {
    fn sent(&self, partition: i32) -> u64 {
        self.sent.lock().unwrap()[partition as usize]
    }

    /// Stops sending, waits for every acknowledgement; returns the expected sequence per
    /// partition.
    async fn finish(self, tag: &str) -> BTreeMap<i32, Vec<(String, u64)>> {
        self.stop.store(true, Ordering::Release);
        let producer = self.task.await.unwrap();
        tokio::time::timeout(Duration::from_secs(150), producer.flush())
            .await
            .expect("flush hung");
        producer.close(Duration::from_secs(10)).await.unwrap();
        let sent = *self.sent.lock().unwrap();
        let total: u64 = sent.iter().sum();
        eprintln!(
            "FAILOVER background producer: sent={total} acked={} failed={} errors={:?}",
            self.acks.ok.load(Ordering::Relaxed),
            self.acks.failed.load(Ordering::Relaxed),
            self.acks.errors.lock().unwrap()
        );
        assert_eq!(
            self.acks.failed.load(Ordering::Relaxed),
            0,
            "no record failed"
        );
        assert_eq!(
            self.acks.ok.load(Ordering::Relaxed),
            total,
            "every record acked"
        );
        (0..PARTITIONS)
            .map(|p| {
                (
                    p,
                    (0..sent[p as usize])
                        .map(|s| (tag.to_string(), s))
                        .collect(),
                )
            })
            .collect()
    }
}

/// What the group member saw: records (partition, offset, value) with the time they arrived,
/// and every commit's outcome.
#[derive(Default)]
struct MemberLog {
    records: Mutex<Read>,
    /// Arrival time of each partition's highest sequence so far.
    latest: Mutex<BTreeMap<i32, (u64, Instant)>>,
    /// (sequence, arrival) of every record, per partition.
    arrivals: Mutex<BTreeMap<i32, Vec<(u64, Instant)>>>,
    commits: Mutex<Vec<(Instant, Result<(), String>)>>,
    polls_failed: Mutex<Vec<String>>,
}

impl MemberLog {
    fn count(&self) -> usize {
        self.records.lock().unwrap().values().map(Vec::len).sum()
    }
    /// When the record `seq` of `partition` (or a later one) first arrived, as a delay from `t`.
    fn first_arrival_after(&self, partition: i32, seq: u64, t: Instant) -> Option<Duration> {
        self.arrivals
            .lock()
            .unwrap()
            .get(&partition)?
            .iter()
            .find(|(s, _)| *s >= seq)
            .map(|(_, at)| at.saturating_duration_since(t))
    }
    fn max_seq(&self, partition: i32) -> Option<u64> {
        self.latest.lock().unwrap().get(&partition).map(|l| l.0)
    }
    /// The first commit that succeeded after `t`, as a delay from `t`.
    fn first_commit_after(&self, t: Instant) -> Option<Duration> {
        self.commits
            .lock()
            .unwrap()
            .iter()
            .find(|(at, r)| *at > t && r.is_ok())
            .map(|(at, _)| *at - t)
    }
    fn failed_commits(&self) -> Vec<String> {
        self.commits
            .lock()
            .unwrap()
            .iter()
            .filter_map(|(_, r)| r.clone().err())
            .collect()
    }
}

/// A one-member group consuming `topic` on its own task, committing every 500 ms; on stop it
/// commits once more and returns the committed offsets.
fn spawn_member(
    bootstrap: &str,
    group: &str,
    topic: &str,
    log: Arc<MemberLog>,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<BTreeMap<i32, i64>> {
    let config = ConsumerConfig::builder(bootstrap)
        .group_id(group)
        .auto_offset_reset(AutoOffsetReset::Earliest)
        .enable_auto_commit(false)
        .session_timeout(Duration::from_secs(10))
        .heartbeat_interval(Duration::from_secs(1))
        .fetch_max_wait(Duration::from_millis(100))
        .build()
        .unwrap();
    let topic = topic.to_string();
    tokio::spawn(async move {
        let mut consumer = Consumer::new(config).unwrap();
        consumer.subscribe([topic.as_str()]).unwrap();
        let mut next_commit = Instant::now();
        while !stop.load(Ordering::Acquire) {
            match consumer.poll(Duration::from_millis(200)).await {
                Ok(records) => {
                    let now = Instant::now();
                    let mut out = log.records.lock().unwrap();
                    let mut latest = log.latest.lock().unwrap();
                    let mut arrivals = log.arrivals.lock().unwrap();
                    for r in records {
                        let val = r.value.map(|v| v.to_vec()).unwrap_or_default();
                        let (_, _, seq) = parse_value(&val);
                        arrivals.entry(r.partition).or_default().push((seq, now));
                        let l = latest.entry(r.partition).or_insert((seq, now));
                        if seq >= l.0 {
                            *l = (seq, now);
                        }
                        out.entry(r.partition).or_default().push((r.offset, val));
                    }
                }
                Err(e) => {
                    log.polls_failed.lock().unwrap().push(e.to_string());
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
            if Instant::now() >= next_commit {
                let r = tokio::time::timeout(Duration::from_secs(60), consumer.commit_sync())
                    .await
                    .unwrap_or_else(|_| panic!("commit_sync hung for 60 s"));
                log.commits
                    .lock()
                    .unwrap()
                    .push((Instant::now(), r.map_err(|e| e.to_string())));
                next_commit = Instant::now() + Duration::from_millis(500);
            }
        }
        let r = consumer.commit_sync().await;
        log.commits
            .lock()
            .unwrap()
            .push((Instant::now(), r.map_err(|e| e.to_string())));
        let tps: Vec<TopicPartition> = (0..PARTITIONS)
            .map(|p| TopicPartition::new(&*topic, p))
            .collect();
        let committed = consumer.committed(&tps).await.expect("committed");
        consumer.close().await.expect("close");
        committed
            .into_iter()
            .map(|(tp, off)| (tp.partition, off))
            .collect()
    })
}

async fn wait_for(what: &str, within: Duration, mut f: impl FnMut() -> bool) -> Duration {
    let t = Instant::now();
    while !f() {
        assert!(
            t.elapsed() < within,
            "timed out after {within:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    t.elapsed()
}

/// Scenario 3: a consumer group member keeps consuming (and committing) while the leader of
/// a partition it reads is SIGKILLed, and then while the group coordinator's broker is
/// SIGKILLed and restarted. Every record produced meanwhile is consumed, commits succeed after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_group_survives_leader_and_coordinator_kills() {
    let started = Instant::now();
    let cluster = start_cluster().await;
    let topic = unique_name("failover-group");
    let group = unique_name("failover-group");
    cluster
        .create_topic(&topic, PARTITIONS, 3, 2)
        .await
        .unwrap();
    let client = cluster.client().await.unwrap();
    let coordinator = client.group_coordinator(&group).await.unwrap();

    let producer = spawn_producer(&cluster.bootstrap(), &topic, "g");
    let log = Arc::new(MemberLog::default());
    let stop = Arc::new(AtomicBool::new(false));
    let member = spawn_member(
        &cluster.bootstrap(),
        &group,
        &topic,
        log.clone(),
        stop.clone(),
    );
    let joined = wait_for(
        "the member's first records",
        Duration::from_secs(60),
        || log.count() >= 3_000,
    )
    .await;
    eprintln!(
        "FAILOVER group: member consuming after {joined:.1?}; coordinator is node {coordinator}"
    );

    // 1. The leader of a partition the member reads (not the coordinator's node) dies.
    let mut target = None;
    for p in 0..PARTITIONS {
        let l = leader(&cluster, &topic, p).await;
        if l != coordinator {
            target = Some((p, l));
            break;
        }
    }
    let (p, victim) = target.expect("a partition led away from the coordinator");
    let sent_at_kill = producer.sent(p);
    blocking(|| cluster.kill(victim)).expect("kill leader");
    let killed = Instant::now();
    eprintln!("FAILOVER group: SIGKILLed node {victim} (leader of {topic}-{p})");
    let caught_up = wait_for(
        "records produced after the leader kill",
        Duration::from_secs(90),
        || log.max_seq(p).is_some_and(|s| s >= sent_at_kill),
    )
    .await;
    let new_leader = leader(&cluster, &topic, p).await;
    eprintln!(
        "FAILOVER group: {topic}-{p} leader {victim} -> {new_leader}; first ack on it after the kill {:.1?}; \
         first record produced after the kill consumed {caught_up:.1?} after it; first commit after the \
         kill: {:.1?}",
        producer.acks.first_after(p, killed),
        log.first_commit_after(killed)
    );
    blocking(|| cluster.restart(victim)).expect("restart");
    wait_in_isr(&cluster, &topic, victim).await;

    // 2. The group coordinator's broker dies and comes back.
    let coordinator = cluster
        .client()
        .await
        .unwrap()
        .group_coordinator(&group)
        .await
        .unwrap();
    let sent_at_kill: Vec<u64> = (0..PARTITIONS).map(|p| producer.sent(p)).collect();
    blocking(|| cluster.kill(coordinator)).expect("kill coordinator");
    let killed = Instant::now();
    eprintln!("FAILOVER group: SIGKILLed node {coordinator} (group coordinator)");
    let mut per_partition = Vec::new();
    for p in 0..PARTITIONS {
        wait_for(
            "records produced after the coordinator kill",
            Duration::from_secs(90),
            || {
                log.max_seq(p)
                    .is_some_and(|s| s >= sent_at_kill[p as usize])
            },
        )
        .await;
        per_partition.push(format!(
            "p{p}: leader {}, first ack after the kill {:.1?}, consumed {:.1?}",
            leader(&cluster, &topic, p).await,
            producer.acks.first_after(p, killed),
            log.first_arrival_after(p, sent_at_kill[p as usize], killed)
        ));
    }
    let consumed = killed.elapsed();
    eprintln!("FAILOVER group: after the coordinator kill: {per_partition:?}");
    let committed = wait_for(
        "a commit after the coordinator kill",
        Duration::from_secs(90),
        || log.first_commit_after(killed).is_some(),
    )
    .await;
    let new_coordinator = cluster
        .client()
        .await
        .unwrap()
        .group_coordinator(&group)
        .await
        .unwrap();
    eprintln!(
        "FAILOVER group: coordinator {coordinator} -> {new_coordinator}; records produced after the kill \
         consumed within {consumed:.1?}; first successful commit {:.1?} after the kill (waited {committed:.1?})",
        log.first_commit_after(killed).unwrap()
    );
    blocking(|| cluster.restart(coordinator)).expect("restart");
    wait_in_isr(&cluster, &topic, coordinator).await;
    let restarted = Instant::now();
    wait_for(
        "a commit after the coordinator's restart",
        Duration::from_secs(60),
        || log.first_commit_after(restarted).is_some(),
    )
    .await;

    // 3. Everything produced is consumed; the last commit holds the end offsets.
    let expected = producer.finish("g").await;
    let want: BTreeMap<i32, u64> = expected.iter().map(|(p, v)| (*p, v.len() as u64)).collect();
    wait_for("every record consumed", Duration::from_secs(90), || {
        want.iter()
            .all(|(p, n)| *n == 0 || log.max_seq(*p).is_some_and(|s| s + 1 >= *n))
    })
    .await;
    stop.store(true, Ordering::Release);
    let committed_offsets = tokio::time::timeout(Duration::from_secs(60), member)
        .await
        .expect("member stop hung")
        .expect("member task");
    let read = log.records.lock().unwrap().clone();
    let v = verdict(&read, &expected);
    let commits = log.commits.lock().unwrap().len();
    let failed = log.failed_commits();
    eprintln!(
        "FAILOVER group: produced={} consumed={} lost={} duplicated={} out_of_order={} kills=2; commits={commits} \
         failed={} ({:?}); poll errors={:?}; committed={committed_offsets:?}",
        want.values().sum::<u64>(),
        v.read,
        v.lost,
        v.duplicated,
        v.out_of_order,
        failed.len(),
        failed.iter().take(5).collect::<Vec<_>>(),
        log.polls_failed.lock().unwrap().iter().take(5).collect::<Vec<_>>(),
    );
    assert_eq!((v.lost, v.out_of_order, v.unexpected), (0, 0, 0), "{v:?}");
    assert!(
        log.commits
            .lock()
            .unwrap()
            .last()
            .is_some_and(|c| c.1.is_ok()),
        "the last commit succeeded"
    );
    for (p, end) in &read {
        let last = end.last().map_or(0, |r| r.0 + 1);
        assert_eq!(
            committed_offsets.get(p),
            Some(&last),
            "{topic}-{p} committed at its end"
        );
    }
    eprintln!("FAILOVER test 2 wall time {:.1?}", started.elapsed());
}

/// How one transaction ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TxnOutcome {
    Committed,
    Aborted,
}

/// Scenario 4: the transaction coordinator's broker is SIGKILLed during transaction
/// `kill_in` after `kill_after` of its 3,000 records (0: between begin_transaction and the
/// first send, so that AddPartitionsToTxn meets the dead coordinator; else in the middle, its
/// partitions added and records acknowledged) and stays down. The producer must finish that
/// transaction, commit or abort, within bounded time, and go on with the next ones, `txns` in
/// all. Under read_committed every transaction is all or nothing.
async fn transactions_through_coordinator_kill(
    cluster: &KafkaCluster,
    topic: &str,
    txns: u64,
    kill_in: u64,
    kill_after: u64,
) -> (i32, BTreeMap<i32, Vec<(String, u64)>>) {
    const PER_TXN: u64 = 3_000;
    let (producer, txn_id) = transactional_producer(cluster, "failover-coord");
    producer
        .init_transactions()
        .await
        .expect("init_transactions");
    let client = cluster.client().await.unwrap();
    let coordinator = client.transaction_coordinator(&txn_id).await.unwrap();
    let mut outcomes = Vec::new();
    let mut sent: BTreeMap<String, BTreeMap<i32, Vec<(String, u64)>>> = BTreeMap::new();
    let mut killed_at = None;
    for t in 0..txns {
        let tag = format!("c{t}");
        producer.begin_transaction().unwrap();
        for i in 0..PER_TXN {
            if t == kill_in && i == kill_after {
                producer.flush().await;
                blocking(|| cluster.kill(coordinator)).expect("kill coordinator");
                killed_at = Some(Instant::now());
                eprintln!(
                    "FAILOVER txn coordinator: SIGKILLed node {coordinator} (coordinator of {txn_id}) \
                     in transaction {t} after {i} of its records"
                );
            }
            let p = (i % PARTITIONS as u64) as i32;
            let seq = i / PARTITIONS as u64;
            match producer
                .send(
                    ProducerRecord::new(topic)
                        .partition(p)
                        .value(value(&tag, p, seq)),
                )
                .await
            {
                // Outcomes are judged by the transaction as a whole.
                Ok(delivery) => drop(delivery),
                Err(e) => {
                    eprintln!("FAILOVER txn coordinator: send refused in transaction {t}: {e}");
                    break;
                }
            }
            sent.entry(tag.clone())
                .or_default()
                .entry(p)
                .or_default()
                .push((tag.clone(), seq));
        }
        let t0 = Instant::now();
        let outcome = match tokio::time::timeout(
            Duration::from_secs(120),
            producer.commit_transaction(),
        )
        .await
        .expect("commit_transaction hung for 120 s")
        {
            Ok(()) => TxnOutcome::Committed,
            Err(e) => {
                eprintln!(
                    "FAILOVER txn coordinator: transaction {t} did not commit after {:.1?} ({e}); aborting",
                    t0.elapsed()
                );
                let t1 = Instant::now();
                tokio::time::timeout(Duration::from_secs(120), producer.abort_transaction())
                    .await
                    .expect("abort_transaction hung for 120 s")
                    .expect("abort_transaction");
                eprintln!(
                    "FAILOVER txn coordinator: transaction {t} aborted in {:.1?}",
                    t1.elapsed()
                );
                TxnOutcome::Aborted
            }
        };
        eprintln!(
            "FAILOVER txn coordinator: transaction {t} {outcome:?} in {:.1?}",
            t0.elapsed()
        );
        outcomes.push((tag, outcome));
    }
    producer.close(Duration::from_secs(10)).await.unwrap();
    let new_coordinator = cluster
        .client()
        .await
        .unwrap()
        .transaction_coordinator(&txn_id)
        .await
        .unwrap();
    let mut expected: BTreeMap<i32, Vec<(String, u64)>> = BTreeMap::new();
    for (tag, o) in &outcomes {
        if *o == TxnOutcome::Committed {
            for (p, recs) in &sent[tag] {
                expected.entry(*p).or_default().extend(recs.iter().cloned());
            }
        }
    }
    let want: usize = expected.values().map(Vec::len).sum();
    let read = read_back(
        &cluster.bootstrap(),
        topic,
        IsolationLevel::ReadCommitted,
        want,
        Duration::from_secs(90),
    )
    .await;
    // All or nothing: count what was read of each transaction.
    let mut per_txn: BTreeMap<String, usize> = BTreeMap::new();
    for recs in read.values() {
        for (_, val) in recs {
            *per_txn.entry(parse_value(val).0).or_default() += 1;
        }
    }
    let v = verdict(&read, &expected);
    eprintln!(
        "FAILOVER txn coordinator: coordinator {coordinator} -> {new_coordinator} (down since {:.1?}); \
         outcomes {outcomes:?}; read_committed per transaction {per_txn:?}; lost={} duplicated={} \
         out_of_order={} from aborted transactions={}",
        killed_at.unwrap().elapsed(),
        v.lost,
        v.duplicated,
        v.out_of_order,
        v.unexpected
    );
    for (tag, o) in &outcomes {
        let total: usize = sent[tag].values().map(Vec::len).sum();
        let got = per_txn.get(tag).copied().unwrap_or(0);
        match o {
            TxnOutcome::Committed => assert_eq!(got, total, "{tag} committed: all of it"),
            TxnOutcome::Aborted => assert_eq!(got, 0, "{tag} aborted: none of it"),
        }
    }
    assert_eq!(
        (v.lost, v.duplicated, v.out_of_order, v.unexpected),
        (0, 0, 0, 0),
        "{v:?}"
    );
    (coordinator, expected)
}

/// Scenario 5a: an idempotent producer writes 60,000 records, about 10,000 a second, while the
/// leader of partition 2 is stopped with SIGTERM (a controlled shutdown moves leadership
/// first; the old leader answers NOT_LEADER_OR_FOLLOWER naming the new one, KIP-951). Sends go
/// on during the stop, so the longest pause between two acknowledgements of partition 2 is
/// the time the leader move cost the producer. Returns the expected records per partition.
async fn produce_through_controlled_shutdown(
    cluster: &KafkaCluster,
    topic: &str,
) -> BTreeMap<i32, Vec<(String, u64)>> {
    const RECORDS: u64 = 60_000;
    let producer = Producer::new(producer_config(&cluster.bootstrap()).build().unwrap()).unwrap();
    let acks = Arc::new(Acks::default());
    let victim = leader(cluster, topic, 2).await;
    let sent = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let sender = {
        let (producer, acks, sent, topic) = (
            producer.clone(),
            acks.clone(),
            sent.clone(),
            topic.to_string(),
        );
        tokio::spawn(async move {
            let mut next_seq = [0u64; PARTITIONS as usize];
            for i in 0..RECORDS {
                if i % 100 == 0 {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                send_next(&producer, &acks, &topic, "s", i, &mut next_seq).await;
                sent.store(i + 1, Ordering::Relaxed);
            }
            next_seq
        })
    };
    wait_for(
        "a third of the records sent",
        Duration::from_secs(60),
        || sent.load(Ordering::Relaxed) >= RECORDS / 3,
    )
    .await;
    let stopped_at = Instant::now();
    blocking(|| cluster.stop(victim)).expect("stop leader");
    eprintln!(
        "FAILOVER controlled shutdown: node {victim} (leader of {topic}-2) stopped in {:.1?} \
         after {} sends ({} acked)",
        stopped_at.elapsed(),
        RECORDS / 3,
        acks.ok.load(Ordering::Relaxed)
    );
    let next_seq = sender.await.expect("sender task");
    tokio::time::timeout(Duration::from_secs(150), producer.flush())
        .await
        .expect("flush hung after a controlled shutdown");
    let m = producer.metrics();
    producer.close(Duration::from_secs(10)).await.unwrap();
    let new_leader = leader(cluster, topic, 2).await;
    eprintln!(
        "FAILOVER controlled shutdown: produced {RECORDS} in {:.1?}: acked={} failed={} retries={}; \
         {topic}-2 leader {victim} -> {new_leader}; first ack on {topic}-2 after the stop: {:.1?}; \
         longest ack gap on {topic}-2: {:.1?}; errors {:?}",
        started.elapsed(),
        acks.ok.load(Ordering::Relaxed),
        acks.failed.load(Ordering::Relaxed),
        m.retries,
        acks.first_after(2, stopped_at),
        acks.longest_gap(2),
        acks.errors.lock().unwrap()
    );
    assert_eq!(acks.failed.load(Ordering::Relaxed), 0, "no record failed");
    assert_eq!(
        acks.ok.load(Ordering::Relaxed),
        RECORDS,
        "every record acked"
    );
    blocking(|| cluster.restart(victim)).expect("restart");
    wait_in_isr(cluster, topic, victim).await;
    (0..PARTITIONS)
        .map(|p| {
            (
                p,
                (0..next_seq[p as usize])
                    .map(|s| ("s".to_string(), s))
                    .collect(),
            )
        })
        .collect()
}

/// Reads `topic` and asserts it holds exactly `expected`, in order.
async fn assert_topic_holds(
    cluster: &KafkaCluster,
    topic: &str,
    isolation: IsolationLevel,
    expected: &BTreeMap<i32, Vec<(String, u64)>>,
    what: &str,
) {
    let want: usize = expected.values().map(Vec::len).sum();
    let read = read_back(
        &cluster.bootstrap(),
        topic,
        isolation,
        want,
        Duration::from_secs(90),
    )
    .await;
    let v = verdict(&read, expected);
    eprintln!(
        "FAILOVER {what}: {topic} read {} of {want}: lost={} duplicated={} out_of_order={} unexpected={}",
        v.read, v.lost, v.duplicated, v.out_of_order, v.unexpected
    );
    assert_eq!(
        (v.lost, v.duplicated, v.out_of_order, v.unexpected),
        (0, 0, 0, 0),
        "{what}: {v:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn txn_coordinator_kill_controlled_shutdown_and_full_restart() {
    let started = Instant::now();
    let cluster = start_cluster().await;

    // 4. The transaction coordinator dies mid-transaction.
    let txn_topic = unique_name("failover-coord");
    cluster
        .create_topic(&txn_topic, PARTITIONS, 3, 2)
        .await
        .unwrap();
    let (coordinator, txn_expected) =
        transactions_through_coordinator_kill(&cluster, &txn_topic, 6, 2, 1_500).await;
    blocking(|| cluster.restart(coordinator)).expect("restart");
    wait_in_isr(&cluster, &txn_topic, coordinator).await;

    // 5a. A leader is stopped (controlled shutdown) during produce.
    let topic = unique_name("failover-stop");
    cluster
        .create_topic(&topic, PARTITIONS, 3, 2)
        .await
        .unwrap();
    let mut expected = produce_through_controlled_shutdown(&cluster, &topic).await;
    assert_topic_holds(
        &cluster,
        &topic,
        IsolationLevel::ReadUncommitted,
        &expected,
        "controlled shutdown",
    )
    .await;

    // 5b. The whole cluster stops and starts again; both topics keep their data, and the
    // topic takes more records.
    let t = Instant::now();
    blocking(|| {
        std::thread::scope(|s| {
            for n in cluster.node_ids() {
                let c = &cluster;
                s.spawn(move || c.stop(n).expect("stop node"));
            }
        })
    });
    let stopped = t.elapsed();
    let t = Instant::now();
    for n in cluster.node_ids() {
        blocking(|| cluster.restart(n)).expect("start node");
    }
    // wait_for_brokers needs one node answering to begin with.
    let deadline = Instant::now() + Duration::from_secs(120);
    while cluster.client().await.is_err() {
        assert!(
            Instant::now() < deadline,
            "no node answers after a full restart"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    cluster
        .wait_for_brokers(&[1, 2, 3], Duration::from_secs(120))
        .await
        .expect("brokers after a full restart");
    for p in 0..PARTITIONS {
        for tp in [&topic, &txn_topic] {
            cluster
                .wait_for_partition(tp, p, Duration::from_secs(120), |l, isr| {
                    l.is_some() && isr.len() == 3
                })
                .await
                .expect("partitions led with a full ISR after a full restart");
        }
    }
    eprintln!(
        "FAILOVER full restart: 3 nodes stopped in {stopped:.1?}, back with full ISRs in {:.1?}",
        t.elapsed()
    );
    assert_topic_holds(
        &cluster,
        &txn_topic,
        IsolationLevel::ReadCommitted,
        &txn_expected,
        "full restart (transactions)",
    )
    .await;
    let t = Instant::now();
    let producer = Producer::new(producer_config(&cluster.bootstrap()).build().unwrap()).unwrap();
    let mut deliveries = Vec::new();
    for p in 0..PARTITIONS {
        let next = expected[&p].len() as u64;
        for seq in next..next + 5_000 {
            deliveries.push(
                producer
                    .send(
                        ProducerRecord::new(&*topic)
                            .partition(p)
                            .value(value("s", p, seq)),
                    )
                    .await
                    .expect("send after a full restart"),
            );
            expected.get_mut(&p).unwrap().push(("s".to_string(), seq));
        }
    }
    for d in deliveries {
        d.await.expect("record acked after a full restart");
    }
    producer.close(Duration::from_secs(10)).await.unwrap();
    eprintln!(
        "FAILOVER full restart: 15000 more records produced in {:.1?}",
        t.elapsed()
    );
    assert_topic_holds(
        &cluster,
        &topic,
        IsolationLevel::ReadUncommitted,
        &expected,
        "full restart",
    )
    .await;
    eprintln!("FAILOVER test 3 wall time {:.1?}", started.elapsed());
}
