//! Interop with the Apache Kafka Java client 4.4 as a live peer, on the shared Apache Kafka
//! cluster (`RAFKA_TEST_BOOTSTRAP`). The Java side is Kafka's own test tools, run by main class
//! through `scripts/kafka.sh tool` ([`rafka_integration::java::Peer`]):
//!
//! - Java `VerifiableProducer` writes, rafka's consumer reads every record (values, keys, order
//!   per partition, and Java's key -> partition equals rafka's murmur2);
//! - rafka's producer writes keyed records, Java `VerifiableConsumer` reads them all, and each
//!   key's partition is the one Java's own producer picks for it;
//! - Java's `ConsoleConsumer` prints rafka's keys, values and headers, nulls included;
//! - gzip, snappy, lz4 and zstd batches compressed by either side, decompressed by the other;
//! - mixed consumer groups (Java `VerifiableConsumer` and `rafka verifiable-consumer` in one
//!   group) for range, roundrobin, sticky and cooperative-sticky, each side leading, with a
//!   rolling bounce: nothing lost, no partition owned twice at once, balanced at the end;
//! - transactions both ways: Java `TransactionalMessageCopier` (with random aborts) read by
//!   rafka under read_committed, and rafka's transactional producer read by Java
//!   `VerifiableConsumer` under read_committed.
//!
//! Every topic and group has a unique name; the tests skip when `RAFKA_TEST_BOOTSTRAP` is unset.
//! Run one at a time (`--test-threads=1`): each starts JVMs, and the machine may have 2 cores.

mod cli_support;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::{Duration, Instant};

use rafka::producer::partitioner::partition_for_key;
use rafka::{
    AutoOffsetReset, CompressionType, Consumer, ConsumerConfig, ConsumerRecord, IsolationLevel,
    Producer, ProducerConfig, ProducerRecord, TopicPartition,
};
use rafka_integration::env::{self, require_env};
use rafka_integration::java::{self, event_name, int, partitions, string, Peer, Value};
use rafka_integration::kafka::create_topic;
use rafka_integration::unique_name;

const VERIFIABLE_PRODUCER: &str = "org.apache.kafka.tools.VerifiableProducer";
const VERIFIABLE_CONSUMER: &str = "org.apache.kafka.tools.VerifiableConsumer";
const COPIER: &str = "org.apache.kafka.tools.TransactionalMessageCopier";
const CONSOLE_CONSUMER: &str = "org.apache.kafka.tools.consumer.ConsoleConsumer";

/// JVM start plus a first metadata round trip, with room for a loaded machine.
const JVM_START: Duration = Duration::from_secs(60);

fn bootstrap() -> Option<String> {
    require_env(env::BOOTSTRAP)
}

/// Runs `f` on the current worker without starving the runtime (the Java peers are read with
/// blocking calls).
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

fn consumer_config(bootstrap: &str, isolation: IsolationLevel) -> ConsumerConfig {
    ConsumerConfig::builder(bootstrap)
        .auto_offset_reset(AutoOffsetReset::Earliest)
        .isolation_level(isolation)
        .fetch_max_wait(Duration::from_millis(100))
        .build()
        .expect("consumer config")
}

/// Reads `partitions` of `topic` from the start (no group) until `expected` records came or
/// `within` passed, then polls another second so that anything beyond `expected` shows up.
async fn read_all(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    isolation: IsolationLevel,
    expected: usize,
    within: Duration,
) -> Vec<ConsumerRecord> {
    let mut consumer = Consumer::new(consumer_config(bootstrap, isolation)).expect("consumer");
    let tps: Vec<TopicPartition> = (0..partitions)
        .map(|p| TopicPartition::new(topic, p))
        .collect();
    consumer.assign(&tps).expect("assign");
    let deadline = Instant::now() + within;
    let mut out = Vec::new();
    while out.len() < expected && Instant::now() < deadline {
        out.extend(
            consumer
                .poll(Duration::from_millis(200))
                .await
                .expect("poll"),
        );
    }
    let settle = Instant::now() + Duration::from_secs(1);
    while Instant::now() < settle {
        out.extend(
            consumer
                .poll(Duration::from_millis(200))
                .await
                .expect("poll"),
        );
    }
    consumer.close().await.expect("close");
    out
}

fn text(b: &Option<bytes::Bytes>) -> Option<String> {
    b.as_deref()
        .map(|b| String::from_utf8_lossy(b).into_owned())
}

/// The `producer_send_success` events of a Java VerifiableProducer: (partition, offset, key,
/// value).
fn java_acks(peer: &Peer) -> Vec<(i32, i64, Option<String>, String)> {
    peer.events_named("producer_send_success")
        .map(|e| {
            (
                int(e, "partition").unwrap() as i32,
                int(e, "offset").unwrap(),
                string(e, "key").map(str::to_string),
                string(e, "value").unwrap().to_string(),
            )
        })
        .collect()
}

/// Runs Java's VerifiableProducer to completion and returns its acks.
fn run_java_producer(args: &[&str]) -> Vec<(i32, i64, Option<String>, String)> {
    let mut producer = Peer::java(VERIFIABLE_PRODUCER, args).expect("spawn VerifiableProducer");
    let status = producer
        .wait(Duration::from_secs(180))
        .expect("VerifiableProducer ends");
    assert!(
        status.success(),
        "VerifiableProducer: {status}\n{}",
        producer.report()
    );
    assert_eq!(
        producer.events_named("producer_send_error").count(),
        0,
        "{}",
        producer.report()
    );
    let tool = producer
        .events_named("tool_data")
        .last()
        .cloned()
        .unwrap_or_else(|| panic!("no tool_data\n{}", producer.report()));
    let acks = java_acks(&producer);
    assert_eq!(int(&tool, "acked"), Some(acks.len() as i64));
    acks
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn java_producer_records_are_read_by_rafka_in_order() {
    let Some(bootstrap) = bootstrap() else { return };
    const N: usize = 5_000;
    const KEYS: usize = 100;
    let topic = unique_name("java-vp");
    create_topic(&bootstrap, &topic, 3, 3, &[]).await.unwrap();

    let acks = blocking(|| {
        run_java_producer(&[
            "--topic",
            &topic,
            "--bootstrap-server",
            &bootstrap,
            "--max-messages",
            &N.to_string(),
            "--repeating-keys",
            &KEYS.to_string(),
            "--value-prefix",
            "7",
            "--acks",
            "-1",
        ])
    });
    assert_eq!(acks.len(), N);
    // Java's own view: what it acked per partition, in offset order.
    let mut java: BTreeMap<i32, Vec<(i64, Option<String>, String)>> = BTreeMap::new();
    for (p, o, k, v) in &acks {
        java.entry(*p).or_default().push((*o, k.clone(), v.clone()));
        // VerifiableProducer: value "7.i", key i % KEYS.
        let i: usize = v.strip_prefix("7.").unwrap().parse().unwrap();
        assert_eq!(k.as_deref(), Some((i % KEYS).to_string().as_str()));
        // Java's partitioner and rafka's murmur2 agree on every key.
        let key = k.as_deref().unwrap();
        assert_eq!(
            *p,
            partition_for_key(key.as_bytes(), 3),
            "key {key}: Java chose {p}"
        );
    }
    for list in java.values_mut() {
        list.sort();
    }
    assert_eq!(java.len(), 3, "keys spread over all 3 partitions");

    let records = read_all(
        &bootstrap,
        &topic,
        3,
        IsolationLevel::ReadUncommitted,
        N,
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(records.len(), N, "rafka reads exactly what Java acked");
    let mut rafka: BTreeMap<i32, Vec<(i64, Option<String>, String)>> = BTreeMap::new();
    for r in &records {
        rafka.entry(r.partition).or_default().push((
            r.offset,
            text(&r.key),
            text(&r.value).expect("a value"),
        ));
    }
    for (p, list) in &rafka {
        // Per-partition order as polled: offsets contiguous from 0, values in send order.
        let offsets: Vec<i64> = list.iter().map(|(o, _, _)| *o).collect();
        assert_eq!(
            offsets,
            (0..list.len() as i64).collect::<Vec<_>>(),
            "partition {p}"
        );
        let seqs: Vec<u64> = list
            .iter()
            .map(|(_, _, v)| v.strip_prefix("7.").unwrap().parse().unwrap())
            .collect();
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "partition {p}: values out of send order"
        );
        assert_eq!(
            Some(list),
            java.get(p),
            "partition {p}: rafka != Java's acks"
        );
    }
    assert_eq!(rafka.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rafka_producer_records_are_read_by_java_with_javas_partitioning() {
    let Some(bootstrap) = bootstrap() else { return };
    const PARTITIONS: i32 = 6;
    const KEYS: usize = 200;
    const N: usize = 2_000;
    let topic = unique_name("java-vc");
    let reference = unique_name("java-ref");
    create_topic(&bootstrap, &topic, PARTITIONS, 3, &[])
        .await
        .unwrap();
    create_topic(&bootstrap, &reference, PARTITIONS, 3, &[])
        .await
        .unwrap();

    // Java's producer semantics, live: the partition Java's default partitioner picks for each
    // key "0".."199" on a topic of the same size.
    let java_partition: BTreeMap<String, i32> = blocking(|| {
        run_java_producer(&[
            "--topic",
            &reference,
            "--bootstrap-server",
            &bootstrap,
            "--max-messages",
            &KEYS.to_string(),
            "--repeating-keys",
            &KEYS.to_string(),
        ])
    })
    .into_iter()
    .map(|(p, _, k, _)| (k.unwrap(), p))
    .collect();
    assert_eq!(java_partition.len(), KEYS);

    // The Java consumer starts (JVM start) while rafka produces.
    let group = unique_name("java-vc-group");
    let mut consumer = Peer::java(
        VERIFIABLE_CONSUMER,
        &[
            "--topic",
            &topic,
            "--group-id",
            &group,
            "--bootstrap-server",
            &bootstrap,
            "--max-messages",
            &N.to_string(),
            "--verbose",
        ],
    )
    .unwrap();

    let producer = Producer::new(
        ProducerConfig::builder(&bootstrap)
            .linger(Duration::from_millis(5))
            .build()
            .unwrap(),
    )
    .expect("producer");
    let mut deliveries = Vec::new();
    for i in 0..N {
        let record = ProducerRecord::new(topic.as_str())
            .key((i % KEYS).to_string())
            .value(format!("r{i}"));
        deliveries.push(producer.send(record).await.expect("send"));
    }
    // (partition, offset) -> (key, value), from rafka's acks.
    let mut written: BTreeMap<(i32, i64), (String, String)> = BTreeMap::new();
    for (i, d) in deliveries.into_iter().enumerate() {
        let meta = d.await.expect("acked");
        let key = (i % KEYS).to_string();
        assert_eq!(
            meta.partition, java_partition[&key],
            "rafka put key {key} on {}, Java's producer on {}",
            meta.partition, java_partition[&key]
        );
        written.insert((meta.partition, meta.offset), (key, format!("r{i}")));
    }
    producer.close(Duration::from_secs(10)).await.unwrap();

    let status =
        blocking(|| consumer.wait(Duration::from_secs(120))).unwrap_or_else(|e| panic!("{e:#}"));
    assert!(
        status.success(),
        "VerifiableConsumer: {status}\n{}",
        consumer.report()
    );

    // record_data: every record rafka wrote, once, with its key and value.
    let mut read: BTreeMap<(i32, i64), (String, String)> = BTreeMap::new();
    for e in consumer.events_named("record_data") {
        let at = (
            int(e, "partition").unwrap() as i32,
            int(e, "offset").unwrap(),
        );
        let kv = (
            string(e, "key").unwrap().to_string(),
            string(e, "value").unwrap().to_string(),
        );
        assert_eq!(
            java_partition.get(&kv.0),
            Some(&at.0),
            "key {} read from partition {}",
            kv.0,
            at.0
        );
        assert!(read.insert(at, kv).is_none(), "{at:?} read twice");
    }
    assert_eq!(read, written, "Java read exactly what rafka wrote");

    // records_consumed ranges cover every offset of every partition, in order.
    let mut next: BTreeMap<i32, i64> = BTreeMap::new();
    for e in consumer.events_named("records_consumed") {
        for b in e["partitions"].as_array().unwrap() {
            let p = int(b, "partition").unwrap() as i32;
            let (min, max) = (int(b, "minOffset").unwrap(), int(b, "maxOffset").unwrap());
            let at = next.entry(p).or_insert(0);
            assert_eq!(min, *at, "partition {p}: gap or overlap before {min}");
            *at = max + 1;
        }
    }
    let mut ends: BTreeMap<i32, i64> = BTreeMap::new();
    for (p, o) in written.keys() {
        ends.insert(*p, o + 1);
    }
    assert_eq!(next, ends, "records_consumed covers every offset");
    // And the group's commits reached the end of every partition.
    let mut committed: BTreeMap<i32, i64> = BTreeMap::new();
    for e in consumer.events_named("offsets_committed") {
        assert_eq!(e["success"], Value::Bool(true), "{e}");
        for o in e["offsets"].as_array().unwrap() {
            committed.insert(
                int(o, "partition").unwrap() as i32,
                int(o, "offset").unwrap(),
            );
        }
    }
    assert_eq!(committed, ends);
}

const CODECS: [(&str, CompressionType); 4] = [
    ("gzip", CompressionType::Gzip),
    ("snappy", CompressionType::Snappy),
    ("lz4", CompressionType::Lz4),
    ("zstd", CompressionType::Zstd),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compressed_batches_interoperate_both_ways() {
    let Some(bootstrap) = bootstrap() else { return };
    const N: usize = 1_000;

    // Java compresses (one VerifiableProducer per codec, each to its own 1-partition topic),
    // rafka decompresses.
    for (codec, _) in CODECS {
        let topic = unique_name(&format!("java-{codec}"));
        create_topic(&bootstrap, &topic, 1, 3, &[]).await.unwrap();
        let props =
            java::properties_file(codec, &[("compression.type", codec), ("linger.ms", "20")])
                .unwrap();
        let props = props.display().to_string();
        let acks = blocking(|| {
            run_java_producer(&[
                "--topic",
                &topic,
                "--bootstrap-server",
                &bootstrap,
                "--max-messages",
                &N.to_string(),
                "--value-prefix",
                "3",
                "--command-config",
                &props,
            ])
        });
        assert_eq!(acks.len(), N, "{codec}");
        let records = read_all(
            &bootstrap,
            &topic,
            1,
            IsolationLevel::ReadUncommitted,
            N,
            Duration::from_secs(30),
        )
        .await;
        let got: Vec<(i64, Option<String>)> =
            records.iter().map(|r| (r.offset, text(&r.value))).collect();
        let want: Vec<(i64, Option<String>)> =
            (0..N).map(|i| (i as i64, Some(format!("3.{i}")))).collect();
        assert_eq!(got, want, "{codec}: rafka reads Java's compressed batches");
    }

    // rafka compresses (one producer per codec, each to its own partition), Java decompresses.
    let topic = unique_name("java-codecs");
    create_topic(&bootstrap, &topic, CODECS.len() as i32, 3, &[])
        .await
        .unwrap();
    for (p, (codec, compression)) in CODECS.iter().enumerate() {
        let producer = Producer::new(
            ProducerConfig::builder(&bootstrap)
                .compression(*compression, None)
                .linger(Duration::from_millis(20))
                .build()
                .unwrap(),
        )
        .expect("producer");
        let mut deliveries = Vec::new();
        for i in 0..N {
            let record = ProducerRecord::new(topic.as_str())
                .partition(p as i32)
                .key(format!("k{i}"))
                .value(format!("{codec}-{i}"));
            deliveries.push(producer.send(record).await.unwrap());
        }
        for d in deliveries {
            d.await.unwrap_or_else(|e| panic!("{codec}: {e}"));
        }
        producer.close(Duration::from_secs(10)).await.unwrap();
    }
    let group = unique_name("java-codecs-group");
    let total = N * CODECS.len();
    let consumer = blocking(|| {
        let mut consumer = Peer::java(
            VERIFIABLE_CONSUMER,
            &[
                "--topic",
                &topic,
                "--group-id",
                &group,
                "--bootstrap-server",
                &bootstrap,
                "--max-messages",
                &total.to_string(),
                "--verbose",
            ],
        )
        .unwrap();
        let status = consumer.wait(Duration::from_secs(120)).unwrap();
        assert!(status.success(), "{status}\n{}", consumer.report());
        consumer
    });
    let mut read: BTreeMap<i32, Vec<(i64, String, String)>> = BTreeMap::new();
    for e in consumer.events_named("record_data") {
        read.entry(int(e, "partition").unwrap() as i32)
            .or_default()
            .push((
                int(e, "offset").unwrap(),
                string(e, "key").unwrap().to_string(),
                string(e, "value").unwrap().to_string(),
            ));
    }
    for (p, (codec, _)) in CODECS.iter().enumerate() {
        let want: Vec<(i64, String, String)> = (0..N)
            .map(|i| (i as i64, format!("k{i}"), format!("{codec}-{i}")))
            .collect();
        assert_eq!(
            read.get(&(p as i32)),
            Some(&want),
            "{codec}: Java reads rafka's compressed batches"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn java_console_consumer_decodes_rafka_keys_headers_and_nulls() {
    let Some(bootstrap) = bootstrap() else { return };
    let topic = unique_name("java-headers");
    create_topic(&bootstrap, &topic, 1, 3, &[]).await.unwrap();
    let producer =
        Producer::new(ProducerConfig::builder(&bootstrap).build().unwrap()).expect("producer");
    let records = vec![
        ProducerRecord::new(topic.as_str())
            .key("k0")
            .value("v0")
            .header("h1", "a")
            .header("h2", "b"),
        ProducerRecord::new(topic.as_str())
            .value("no-key")
            .header("only", "x"),
        ProducerRecord::new(topic.as_str()).key("k2"),
        ProducerRecord::new(topic.as_str())
            .key("k3")
            .value("")
            .null_header("nullh"),
        ProducerRecord::new(topic.as_str())
            .key("ключ")
            .value("значение ✓")
            .header("u", "ü"),
    ];
    let n = records.len();
    for r in records {
        producer
            .send(r.partition(0))
            .await
            .unwrap()
            .await
            .expect("acked");
    }
    producer.close(Duration::from_secs(10)).await.unwrap();

    let consumer = blocking(|| {
        let mut consumer = Peer::java(
            CONSOLE_CONSUMER,
            &[
                "--bootstrap-server",
                &bootstrap,
                "--topic",
                &topic,
                "--from-beginning",
                "--max-messages",
                &n.to_string(),
                "--formatter-property",
                "print.offset=true",
                "--formatter-property",
                "print.headers=true",
                "--formatter-property",
                "print.key=true",
                "--formatter-property",
                "key.separator=|",
                "--formatter-property",
                "headers.separator=;",
                "--formatter-property",
                "null.literal=<null>",
            ],
        )
        .unwrap();
        let status = consumer.wait(Duration::from_secs(90)).unwrap();
        assert!(status.success(), "{status}\n{}", consumer.report());
        consumer
    });
    // Java's DefaultMessageFormatter: offset, headers (k:v, NO_HEADERS when none), key, value.
    assert_eq!(
        consumer.lines(),
        [
            "Offset:0|h1:a;h2:b|k0|v0",
            "Offset:1|only:x|<null>|no-key",
            "Offset:2|NO_HEADERS|k2|<null>",
            "Offset:3|nullh:<null>|k3|",
            "Offset:4|u:ü|ключ|значение ✓",
        ],
        "{}",
        consumer.report()
    );
}

// --- mixed consumer groups ---------------------------------------------------------------

const GROUP_PARTITIONS: i32 = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Java,
    Rafka,
}

impl Side {
    fn prefix(self) -> &'static str {
        match self {
            Side::Java => "java-",
            Side::Rafka => "rafka-",
        }
    }
}

struct Member {
    side: Side,
    client_id: String,
    peer: Peer,
    /// Still running (not stopped by the test).
    alive: bool,
    /// Partitions owned now, with the event timestamp they were assigned at.
    owned: BTreeMap<i32, i64>,
    /// Next offset this member expects per owned partition.
    position: BTreeMap<i32, i64>,
    assigned_once: bool,
    shutdown_complete: bool,
}

/// One generation as a rafka member saw it in its JoinGroup response.
#[derive(Debug, Clone)]
struct Join {
    generation: i64,
    leader: String,
    /// The member ids listed (only the leader gets them; 0 for followers).
    members: i64,
    /// The rafka member that logged it.
    by: String,
}

/// A consumer group of Java VerifiableConsumer and `rafka verifiable-consumer` processes, read
/// through their identical JSON events, with the invariants of Kafka's `verifiable_consumer.py`.
struct MixedGroup {
    bootstrap: String,
    topic: String,
    group: String,
    strategy: String,
    /// `Some(assignor)`: every member runs `--group-protocol consumer` (KIP-848) with this
    /// server assignor; `None`: the classic protocol with `strategy`.
    remote_assignor: Option<String>,
    members: Vec<Member>,
    /// Closed ownership intervals: (partition, member, from ts, to ts).
    intervals: Vec<(i32, usize, i64, i64)>,
    consumed: BTreeMap<i32, Vec<(i64, i64)>>,
    committed: BTreeMap<i32, i64>,
    /// Who committed the offset in `committed`, and when.
    committer: BTreeMap<i32, (String, i64)>,
    total_consumed: i64,
    violations: Vec<String>,
}

impl MixedGroup {
    fn spawn(&mut self, side: Side) -> usize {
        let idx = self.members.len();
        let client_id = format!("{}{idx}", side.prefix());
        // The consumer protocol refuses heartbeat.interval.ms and session timeouts (the
        // broker's group.consumer.* settings apply), in Java as in rafka.
        let mut settings = vec![("client.id", client_id.as_str())];
        if self.remote_assignor.is_none() {
            settings.push(("heartbeat.interval.ms", "1000"));
        }
        let props = java::properties_file("vc", &settings).unwrap();
        let props = props.display().to_string();
        let mut common: Vec<&str> = vec!["--topic", &self.topic, "--group-id", &self.group];
        match &self.remote_assignor {
            None => common.extend([
                "--session-timeout",
                "10000",
                "--assignment-strategy",
                &self.strategy,
            ]),
            Some(assignor) => common.extend([
                "--group-protocol",
                "consumer",
                "--group-remote-assignor",
                assignor,
            ]),
        }
        let peer = match side {
            Side::Java => {
                let mut args: Vec<&str> = common.clone();
                args.extend(["--bootstrap-server", &self.bootstrap]);
                args.extend(["--command-config", &props]);
                Peer::java(VERIFIABLE_CONSUMER, &args)
            }
            Side::Rafka => {
                let mut cmd = Command::new(cli_support::rafka_bin());
                cmd.arg("verifiable-consumer")
                    .args(&common)
                    .args(["--broker-list", &self.bootstrap])
                    .args(["--command-config", &props])
                    .env("RUST_LOG", "warn,rafka_consumer::driver=debug")
                    .env("NO_COLOR", "1")
                    .env_remove("RAFKA_BROKERS");
                Peer::spawn("rafka-vc", cmd)
            }
        }
        .expect("spawn member");
        self.members.push(Member {
            side,
            client_id,
            peer,
            alive: true,
            owned: BTreeMap::new(),
            position: BTreeMap::new(),
            assigned_once: false,
            shutdown_complete: false,
        });
        idx
    }

    fn release(&mut self, idx: usize, p: i32, ts: i64) {
        let m = &mut self.members[idx];
        if let Some(from) = m.owned.remove(&p) {
            self.intervals.push((p, idx, from, ts));
        }
        m.position.remove(&p);
    }

    fn handle(&mut self, idx: usize, e: &Value) {
        let ts = int(e, "timestamp").unwrap_or(0);
        match event_name(e) {
            "partitions_assigned" => {
                let m = &mut self.members[idx];
                m.assigned_once = true;
                for p in partitions(e) {
                    m.owned.entry(p).or_insert(ts);
                }
            }
            "partitions_revoked" => {
                for p in partitions(e) {
                    self.release(idx, p, ts);
                }
            }
            "shutdown_complete" => {
                let owned: Vec<i32> = self.members[idx].owned.keys().copied().collect();
                for p in owned {
                    self.release(idx, p, ts);
                }
                self.members[idx].shutdown_complete = true;
            }
            "records_consumed" => {
                for b in e["partitions"].as_array().into_iter().flatten() {
                    let p = int(b, "partition").unwrap() as i32;
                    let (min, max) = (int(b, "minOffset").unwrap(), int(b, "maxOffset").unwrap());
                    let m = &mut self.members[idx];
                    if !m.owned.contains_key(&p) {
                        self.violations.push(format!(
                            "{} consumed partition {p} outside its assignment {:?}",
                            m.client_id,
                            m.owned.keys()
                        ));
                    }
                    if let Some(pos) = m.position.get(&p) {
                        if *pos != min {
                            self.violations.push(format!(
                                "{} consumed partition {p} from {min}, expected {pos}",
                                m.client_id
                            ));
                        }
                    }
                    m.position.insert(p, max + 1);
                    if let Some(c) = self.committed.get(&p) {
                        if *c > min {
                            self.violations.push(format!(
                                "partition {p}: {} consumed from {min} at {ts}, behind {c} committed by {:?}",
                                self.members[idx].client_id,
                                self.committer.get(&p)
                            ));
                        }
                    }
                    self.consumed.entry(p).or_default().push((min, max));
                }
                self.total_consumed += int(e, "count").unwrap_or(0);
            }
            "offsets_committed" if e["success"] == Value::Bool(true) => {
                for o in e["offsets"].as_array().into_iter().flatten() {
                    let p = int(o, "partition").unwrap() as i32;
                    let offset = int(o, "offset").unwrap();
                    let m = &self.members[idx];
                    if !m.owned.contains_key(&p) {
                        self.violations.push(format!(
                            "{} committed partition {p} outside its assignment",
                            m.client_id
                        ));
                    }
                    self.committed.insert(p, offset);
                    self.committer.insert(p, (m.client_id.clone(), ts));
                }
            }
            _ => {}
        }
    }

    /// Handles whatever every member printed since the last call, in timestamp order across
    /// members (each member's own order kept), so that one member's commit is not handled
    /// before another's earlier consumption.
    fn pump(&mut self) {
        let mut batch: Vec<(i64, usize, Value)> = Vec::new();
        for idx in 0..self.members.len() {
            self.members[idx].peer.drain();
            while let Some(e) = self.members[idx].peer.next_event(Duration::ZERO) {
                batch.push((int(&e, "timestamp").unwrap_or(0), idx, e));
            }
        }
        batch.sort_by_key(|(ts, _, _)| *ts);
        for (_, idx, e) in batch {
            self.handle(idx, &e);
        }
    }

    fn describe(&self) -> String {
        self.members
            .iter()
            .map(|m| {
                format!(
                    "{} alive={} owned={:?}",
                    m.client_id,
                    m.alive,
                    m.owned.keys().collect::<Vec<_>>()
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn wait_until(&mut self, what: &str, timeout: Duration, cond: impl Fn(&MixedGroup) -> bool) {
        let deadline = Instant::now() + timeout;
        loop {
            self.pump();
            if cond(self) {
                return;
            }
            if Instant::now() >= deadline {
                let reports: Vec<String> = self.members.iter().map(|m| m.peer.report()).collect();
                panic!(
                    "{}: timed out after {timeout:?} waiting for {what}; {}\n{}",
                    self.strategy,
                    self.describe(),
                    reports.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `n` live members, each assigned at least once and owning something, together owning
    /// every partition exactly once, balanced (sizes differ by at most one).
    fn stable(&self, n: usize) -> bool {
        let alive: Vec<&Member> = self.members.iter().filter(|m| m.alive).collect();
        if alive.len() != n || alive.iter().any(|m| !m.assigned_once || m.owned.is_empty()) {
            return false;
        }
        let mut all = BTreeSet::new();
        let disjoint = alive
            .iter()
            .flat_map(|m| m.owned.keys())
            .all(|p| all.insert(*p));
        let sizes: Vec<usize> = alive.iter().map(|m| m.owned.len()).collect();
        disjoint
            && all == (0..GROUP_PARTITIONS).collect()
            && sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1
    }

    /// SIGTERM: the member closes cleanly (revoke, commit, leave) and exits 0.
    fn stop(&mut self, idx: usize) {
        let (status, clean) = self.members[idx]
            .peer
            .terminate(Duration::from_secs(45))
            .unwrap();
        self.pump();
        let m = &mut self.members[idx];
        m.alive = false;
        assert!(
            clean && m.shutdown_complete,
            "{} did not shut down cleanly ({status})\n{}",
            m.client_id,
            m.peer.report()
        );
        // The Java tool exits 143 after its shutdown hook; rafka's CLI exits 0.
        if m.side == Side::Rafka {
            assert!(status.success(), "{}: {status}", m.client_id);
        }
    }

    fn covered(&self, p: i32, offset: i64) -> bool {
        self.consumed
            .get(&p)
            .is_some_and(|r| r.iter().any(|(lo, hi)| (*lo..=*hi).contains(&offset)))
    }

    /// Partitions owned by two members at overlapping times (event timestamps, ms).
    fn overlaps(&self) -> Vec<String> {
        let mut intervals = self.intervals.clone();
        for (idx, m) in self.members.iter().enumerate() {
            for (p, from) in &m.owned {
                intervals.push((*p, idx, *from, i64::MAX));
            }
        }
        let mut out = Vec::new();
        for (i, a) in intervals.iter().enumerate() {
            for b in &intervals[i + 1..] {
                if a.0 == b.0 && a.1 != b.1 && a.2 < b.3 && b.2 < a.3 {
                    out.push(format!(
                        "partition {} owned by {} [{}, {}] and {} [{}, {}]",
                        a.0,
                        self.members[a.1].client_id,
                        a.2,
                        a.3,
                        self.members[b.1].client_id,
                        b.2,
                        b.3
                    ));
                }
            }
        }
        out
    }

    /// The JoinGroup responses the rafka members logged (`RUST_LOG` debug of the group task).
    fn joins(&self) -> Vec<Join> {
        let mut out = Vec::new();
        for m in self.members.iter().filter(|m| m.side == Side::Rafka) {
            for line in m.peer.stderr().lines() {
                if !line.contains("JoinGroup answered") {
                    continue;
                }
                let field = |name: &str| {
                    line.split_whitespace()
                        .find_map(|t| t.strip_prefix(name))
                        .map(|v| v.trim_matches('"').to_string())
                };
                out.push(Join {
                    generation: field("generation=")
                        .and_then(|g| g.parse().ok())
                        .unwrap_or(-1),
                    leader: field("leader=").unwrap_or_default(),
                    members: field("members=").and_then(|g| g.parse().ok()).unwrap_or(0),
                    by: m.client_id.clone(),
                });
            }
        }
        out.sort_by_key(|j| j.generation);
        out
    }
}

impl Drop for MixedGroup {
    fn drop(&mut self) {
        for m in &mut self.members {
            let _ = m.peer.kill();
        }
    }
}

/// A group of `sides` (at least one Java and one rafka member), `sides[0]` started first (so it
/// leads the first mixed generation), the others once it owns everything; then a rolling bounce
/// of every member, the first one (the leader) first, while a producer writes.
///
/// With two members the leadership is deterministic: bouncing the leader hands it to the other
/// side and the restarted member rejoins as a follower, so a two-member case sees a Java leader
/// assigning to a rafka follower and a rafka leader assigning to a Java follower, whichever
/// side started. With three the coordinator picks the next leader among the survivors.
fn mixed_group_case(strategy_class: &str, sides: &[Side]) {
    mixed_group_run(strategy_class, None, sides);
}

/// [`mixed_group_case`] for a group on the consumer protocol (KIP-848) with the broker's
/// `assignor`: the same bounce and invariants, without the classic leader checks (the broker
/// assigns).
fn mixed_consumer_protocol_case(assignor: &str, sides: &[Side]) {
    mixed_group_run(&format!("consumer/{assignor}"), Some(assignor), sides);
}

fn mixed_group_run(strategy_class: &str, remote_assignor: Option<&str>, sides: &[Side]) {
    let Some(bootstrap) = bootstrap() else { return };
    let n = sides.len();
    let first = sides[0];
    let started = Instant::now();
    let topic = unique_name("java-mixed");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(create_topic(&bootstrap, &topic, GROUP_PARTITIONS, 3, &[]))
        .unwrap();

    // rafka's verifiable producer writes throughout (no JVM: the cores go to the members).
    let mut producer_cmd = Command::new(cli_support::rafka_bin());
    producer_cmd
        .args(["verifiable-producer", "--topic", &topic])
        .args(["--bootstrap-server", &bootstrap])
        .args(["--max-messages", "1000000", "--throughput", "200"])
        .args(["--repeating-keys", "60"])
        .env_remove("RAFKA_BROKERS");
    let mut producer = Peer::spawn("rafka-vp", producer_cmd).unwrap();

    let mut g = MixedGroup {
        bootstrap: bootstrap.clone(),
        topic: topic.clone(),
        group: unique_name("java-mixed-group"),
        strategy: strategy_class.to_string(),
        remote_assignor: remote_assignor.map(str::to_owned),
        members: Vec::new(),
        intervals: Vec::new(),
        consumed: BTreeMap::new(),
        committed: BTreeMap::new(),
        committer: BTreeMap::new(),
        total_consumed: 0,
        violations: Vec::new(),
    };
    g.spawn(first);
    g.wait_until("the first member to own everything", JVM_START, |g| {
        g.stable(1)
    });
    for side in &sides[1..] {
        g.spawn(*side);
    }
    g.wait_until("every member to get its share", JVM_START, |g| g.stable(n));
    let before = g.total_consumed;
    g.wait_until("progress with every member", Duration::from_secs(30), |g| {
        g.total_consumed > before + 200
    });

    // Rolling bounce, leader first: each member stops (clean close) and a new process of its
    // side takes its place.
    for idx in 0..n {
        let side = g.members[idx].side;
        g.stop(idx);
        g.wait_until(
            "the survivors to own everything",
            Duration::from_secs(60),
            |g| g.stable(n - 1),
        );
        g.spawn(side);
        g.wait_until("the group to settle after a restart", JVM_START, |g| {
            g.stable(n)
        });
        let before = g.total_consumed;
        g.wait_until("progress after a restart", Duration::from_secs(30), |g| {
            g.total_consumed > before + 100
        });
    }

    // Stop writing; the group must consume and commit up to the end of every partition.
    let (_, clean) = producer.terminate(Duration::from_secs(30)).unwrap();
    assert!(
        clean,
        "verifiable-producer did not stop\n{}",
        producer.report()
    );
    assert_eq!(producer.events_named("producer_send_error").count(), 0);
    let acked: Vec<(i32, i64)> = producer
        .events_named("producer_send_success")
        .map(|e| {
            (
                int(e, "partition").unwrap() as i32,
                int(e, "offset").unwrap(),
            )
        })
        .collect();
    assert!(acked.len() > 500, "only {} records acked", acked.len());
    let mut ends: BTreeMap<i32, i64> = BTreeMap::new();
    for (p, o) in &acked {
        let e = ends.entry(*p).or_insert(0);
        *e = (*e).max(o + 1);
    }
    assert_eq!(ends.len() as i32, GROUP_PARTITIONS);
    g.wait_until(
        "commits to reach the end of every partition",
        Duration::from_secs(60),
        |g| ends.iter().all(|(p, e)| g.committed.get(p) == Some(e)),
    );
    assert!(
        g.stable(n),
        "every member ends with an assignment: {}",
        g.describe()
    );
    // The assignors' shapes, whichever side computed the last assignment: range hands out
    // contiguous blocks, roundrobin deals the partitions in turn (same p % n per member).
    let sets: Vec<Vec<i32>> = g
        .members
        .iter()
        .filter(|m| m.alive)
        .map(|m| m.owned.keys().copied().collect())
        .collect();
    if strategy_class.ends_with(".RangeAssignor") || remote_assignor == Some("range") {
        for set in &sets {
            assert!(set.windows(2).all(|w| w[1] == w[0] + 1), "range: {sets:?}");
        }
    } else if strategy_class.ends_with(".RoundRobinAssignor") {
        let n = n as i32;
        for set in &sets {
            assert!(
                set.iter().all(|p| p % n == set[0] % n),
                "roundrobin: {sets:?}"
            );
        }
    }
    let final_owners: Vec<(Side, usize)> = g
        .members
        .iter()
        .filter(|m| m.alive)
        .map(|m| (m.side, m.owned.len()))
        .collect();
    let joins = g.joins();
    let live: Vec<usize> = (0..g.members.len())
        .filter(|i| g.members[*i].alive)
        .collect();
    for idx in live {
        g.stop(idx);
    }

    assert!(
        g.violations.is_empty(),
        "{strategy_class}: event-stream violations: {:#?}\nownership (partition, member, from, to): {:?}\noverlaps: {:#?}",
        g.violations,
        g.intervals
            .iter()
            .map(|(p, i, from, to)| (p, &g.members[*i].client_id, from, to))
            .collect::<Vec<_>>(),
        g.overlaps()
    );
    // Not vacuous: every member of every generation owned something for a while.
    assert!(g.intervals.len() >= 2 * n, "{:?}", g.intervals);
    let overlaps = g.overlaps();
    assert!(
        overlaps.is_empty(),
        "{strategy_class}: partitions owned twice at once: {overlaps:#?}"
    );
    let lost: Vec<&(i32, i64)> = acked.iter().filter(|(p, o)| !g.covered(*p, *o)).collect();
    assert!(
        lost.is_empty(),
        "{strategy_class}: {} acked records never consumed, e.g. {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );

    if remote_assignor.is_some() {
        eprintln!(
            "{strategy_class} {sides:?}: {} records acked and consumed ({} polled), final owners {final_owners:?}, {:.1} s",
            acked.len(),
            g.total_consumed,
            started.elapsed().as_secs_f64()
        );
        return;
    }
    // Who led (from the rafka members' JoinGroup responses): the first mixed generation's
    // leader is the member started first; a rafka leader assigned to the whole mixed group;
    // and (deterministic with two members, or when Java started first) a Java leader
    // assigned to a group with a rafka member in it.
    let first_mixed = joins
        .iter()
        .find(|j| j.generation >= 2 && !j.leader.is_empty())
        .unwrap_or_else(|| panic!("no JoinGroup logged by rafka members: {joins:?}"));
    assert!(
        first_mixed.leader.starts_with(first.prefix()),
        "{strategy_class}: first mixed generation led by {} (expected the {first:?} member): {joins:#?}",
        first_mixed.leader
    );
    assert!(
        joins
            .iter()
            .any(|j| j.leader.starts_with("rafka-") && j.members == n as i64),
        "{strategy_class}: no rafka leader assigned to the whole group: {joins:#?}"
    );
    if n == 2 || first == Side::Java {
        assert!(
            joins.iter().any(|j| j.leader.starts_with("java-")),
            "{strategy_class}: no generation with a rafka member was led by Java: {joins:#?}"
        );
    }
    let leaders: Vec<String> = joins
        .iter()
        .map(|j| {
            format!(
                "g{} {} led (seen by {})",
                j.generation,
                j.leader.split('-').take(2).collect::<Vec<_>>().join("-"),
                j.by
            )
        })
        .collect();
    eprintln!(
        "{strategy_class} {sides:?}: {} records acked and consumed ({} polled), final owners {final_owners:?}, leaders seen by rafka {leaders:?}, {:.1} s",
        acked.len(),
        g.total_consumed,
        started.elapsed().as_secs_f64()
    );
}

/// Both orders: Java first with one rafka member (both sides lead over the bounce), then rafka
/// first with a Java member and a second rafka member.
fn mixed_group(strategy_class: &str) {
    mixed_group_case(strategy_class, &[Side::Java, Side::Rafka]);
    mixed_group_case(strategy_class, &[Side::Rafka, Side::Java, Side::Rafka]);
}

#[test]
fn mixed_group_range() {
    mixed_group("org.apache.kafka.clients.consumer.RangeAssignor");
}

#[test]
fn mixed_group_roundrobin() {
    mixed_group("org.apache.kafka.clients.consumer.RoundRobinAssignor");
}

#[test]
fn mixed_group_sticky() {
    mixed_group("org.apache.kafka.clients.consumer.StickyAssignor");
}

#[test]
fn mixed_group_cooperative_sticky() {
    mixed_group("org.apache.kafka.clients.consumer.CooperativeStickyAssignor");
}

/// KIP-848: Java `VerifiableConsumer --group-protocol consumer` and `rafka verifiable-consumer
/// --group-protocol consumer` in one group, the broker's `uniform` assignor, Java first.
#[test]
fn mixed_group_consumer_protocol_uniform() {
    mixed_consumer_protocol_case("uniform", &[Side::Java, Side::Rafka]);
}

/// KIP-848 with the broker's `range` assignor, rafka first, two rafka members and one Java.
#[test]
fn mixed_group_consumer_protocol_range() {
    mixed_consumer_protocol_case("range", &[Side::Rafka, Side::Java, Side::Rafka]);
}

// --- transactions ------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn java_transactional_copy_is_read_committed_by_rafka_exactly_once() {
    let Some(bootstrap) = bootstrap() else { return };
    const N: usize = 1_000;
    let input = unique_name("java-tx-in");
    let output = unique_name("java-tx-out");
    create_topic(&bootstrap, &input, 1, 3, &[]).await.unwrap();
    create_topic(&bootstrap, &output, 1, 3, &[]).await.unwrap();

    let producer =
        Producer::new(ProducerConfig::builder(&bootstrap).build().unwrap()).expect("producer");
    let mut deliveries = Vec::new();
    for i in 0..N {
        let record = ProducerRecord::new(input.as_str())
            .partition(0)
            .key(format!("k{i}"))
            .value(format!("v{i}"));
        deliveries.push(producer.send(record).await.unwrap());
    }
    for d in deliveries {
        d.await.expect("acked");
    }
    producer.close(Duration::from_secs(10)).await.unwrap();

    // Java copies in transactions of 50 records, aborting about a third of them at random
    // (then rewinding to the last committed offset and copying again).
    let copier = blocking(|| {
        let mut copier = Peer::java(
            COPIER,
            &[
                "--input-topic",
                &input,
                "--input-partition",
                "0",
                "--output-topic",
                &output,
                "--broker-list",
                &bootstrap,
                "--transactional-id",
                &unique_name("java-copier"),
                "--consumer-group",
                &unique_name("java-copier-group"),
                "--transaction-size",
                "50",
                "--enable-random-aborts",
            ],
        )
        .unwrap();
        let status = copier.wait(Duration::from_secs(120)).unwrap();
        assert!(status.success(), "copier: {status}\n{}", copier.report());
        copier
    });
    let last = copier.events().last().cloned().unwrap_or_default();
    assert_eq!(
        string(&last, "stage"),
        Some("ShutdownComplete"),
        "{}",
        copier.report()
    );
    assert_eq!(int(&last, "remaining"), Some(0));
    assert_eq!(int(&last, "totalProcessed"), Some(N as i64));

    let committed = read_all(
        &bootstrap,
        &output,
        1,
        IsolationLevel::ReadCommitted,
        N,
        Duration::from_secs(60),
    )
    .await;
    let got: Vec<(Option<String>, Option<String>)> = committed
        .iter()
        .map(|r| (text(&r.key), text(&r.value)))
        .collect();
    let want: Vec<(Option<String>, Option<String>)> = (0..N)
        .map(|i| (Some(format!("k{i}")), Some(format!("v{i}"))))
        .collect();
    assert_eq!(got.len(), N, "read_committed sees every input record once");
    assert_eq!(got, want, "read_committed sees exactly the input, in order");

    // The aborted copies are in the log: read_uncommitted sees them (so the filtering above
    // is real). A run without any random abort has odds (2/3)^20.
    let everything = read_all(
        &bootstrap,
        &output,
        1,
        IsolationLevel::ReadUncommitted,
        N + 1,
        Duration::from_secs(10),
    )
    .await;
    assert!(
        everything.len() > N,
        "read_uncommitted saw {} records: no aborted copy in the log?",
        everything.len()
    );
    let distinct: BTreeSet<Option<String>> = everything.iter().map(|r| text(&r.value)).collect();
    assert_eq!(distinct.len(), N, "aborted copies repeat input values");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rafka_transactions_are_read_committed_by_java() {
    let Some(bootstrap) = bootstrap() else { return };
    const PARTITIONS: i32 = 3;
    let topic = unique_name("java-rc");
    create_topic(&bootstrap, &topic, PARTITIONS, 3, &[])
        .await
        .unwrap();

    let producer = Producer::new(
        ProducerConfig::builder(&bootstrap)
            .transactional_id(unique_name("rafka-tx"))
            .max_block(Duration::from_secs(30))
            .build()
            .unwrap(),
    )
    .expect("transactional producer");
    producer
        .init_transactions()
        .await
        .expect("init_transactions");
    let mut committed = BTreeSet::new();
    let mut aborted = BTreeSet::new();
    for t in 0..6 {
        let commit = t % 2 == 0;
        producer.begin_transaction().unwrap();
        let mut deliveries = Vec::new();
        for i in 0..60 {
            let value = format!("{}-{t}-{i}", if commit { "c" } else { "a" });
            let record = ProducerRecord::new(topic.as_str())
                .key(format!("{i}"))
                .value(value.clone());
            deliveries.push(producer.send(record).await.unwrap());
            if commit {
                committed.insert(value);
            } else {
                aborted.insert(value);
            }
        }
        if commit {
            producer.commit_transaction().await.expect("commit");
            for d in deliveries {
                d.await.expect("committed record acked");
            }
        } else {
            producer.flush().await;
            producer.abort_transaction().await.expect("abort");
        }
    }
    producer.close(Duration::from_secs(10)).await.unwrap();

    // The aborted records are in the log: a read_uncommitted reader gets them too.
    let all = read_all(
        &bootstrap,
        &topic,
        PARTITIONS,
        IsolationLevel::ReadUncommitted,
        committed.len() + aborted.len(),
        Duration::from_secs(30),
    )
    .await;
    let all: BTreeSet<String> = all.iter().filter_map(|r| text(&r.value)).collect();
    assert!(
        aborted.is_subset(&all),
        "aborted records missing from the log"
    );

    let props = java::properties_file("rc", &[("isolation.level", "read_committed")]).unwrap();
    let props = props.display().to_string();
    let group = unique_name("java-rc-group");
    let want = committed.len();
    let consumer = blocking(|| {
        let mut consumer = Peer::java(
            VERIFIABLE_CONSUMER,
            &[
                "--topic",
                &topic,
                "--group-id",
                &group,
                "--bootstrap-server",
                &bootstrap,
                "--command-config",
                &props,
                "--verbose",
            ],
        )
        .unwrap();
        let count = |c: &Peer| c.events_named("record_data").count();
        let deadline = Instant::now() + Duration::from_secs(90);
        while count(&consumer) < want && Instant::now() < deadline {
            consumer.drain();
            std::thread::sleep(Duration::from_millis(100));
        }
        // Anything beyond the committed records would arrive now.
        std::thread::sleep(Duration::from_secs(2));
        let _ = consumer.terminate(Duration::from_secs(30)).unwrap();
        consumer
    });
    let mut seen = Vec::new();
    for e in consumer.events_named("record_data") {
        seen.push(string(e, "value").unwrap().to_string());
    }
    let distinct: BTreeSet<String> = seen.iter().cloned().collect();
    let leaked: Vec<&String> = distinct.intersection(&aborted).collect();
    assert!(leaked.is_empty(), "Java read aborted records: {leaked:?}");
    assert_eq!(
        distinct,
        committed,
        "Java reads every committed record\n{}",
        consumer.report()
    );
    assert_eq!(seen.len(), committed.len(), "each committed record once");
}
