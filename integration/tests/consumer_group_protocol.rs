//! The next-generation consumer group protocol (KIP-848, `group.protocol=consumer`) on the
//! shared Apache Kafka 4.4 cluster (`RAFKA_TEST_BOOTSTRAP`): rafka members joining through
//! ConsumerGroupHeartbeat, the broker's `uniform` and `range` assignors, incremental
//! reconciliation (a partition is revoked and acknowledged before another member gets it),
//! a member leaving, a static member restarting within its session, ten members under each
//! assignor, and a member killed without leaving.
//!
//! Tansu has no KIP-848, so these tests need Kafka: they skip without `RAFKA_TEST_BOOTSTRAP`
//! (and fail under `RAFKA_TEST_STRICT=1`).

mod cli_support;
mod consumer_common;
mod group_support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use consumer_common::*;
use group_support::GroupView;
use rafka::consumer::{
    AutoOffsetReset, Consumer, ConsumerConfig, ConsumerConfigBuilder, ConsumerContext,
    ConsumerRebalanceListener, GroupProtocol, ListenerError,
};
use rafka::wire::TopicPartition;
use rafka_integration::env::{self, require_env};
use rafka_integration::TestTarget;
use tokio::sync::{mpsc, watch};

/// Room for a loaded 2-core machine: the broker's heartbeat interval is 5 s, and a
/// reconciliation takes a few of them.
const WAIT: Duration = Duration::from_secs(90);

/// The shared Kafka cluster, or `None` (skip) without it.
fn kafka() -> Option<TestTarget> {
    require_env(env::BOOTSTRAP)?;
    let t = target();
    assert!(
        t.is_kafka(),
        "RAFKA_TEST_BOOTSTRAP set but the target is not Kafka"
    );
    Some(t)
}

fn consumer_config(addr: &str, group: &str) -> ConsumerConfigBuilder {
    ConsumerConfig::builder(addr)
        .group_id(group)
        .group_protocol(GroupProtocol::Consumer)
        .auto_offset_reset(AutoOffsetReset::Earliest)
        .auto_commit_interval(Duration::from_millis(200))
        .fetch_max_wait(Duration::from_millis(100))
}

/// Who owns which partition, as the hooks of every member of one group saw it. A partition
/// assigned while another member still owns it fails the test.
#[derive(Clone, Default)]
struct Owners {
    by_partition: Arc<Mutex<BTreeMap<TopicPartition, usize>>>,
    violations: Arc<Mutex<Vec<String>>>,
}

impl Owners {
    fn of(&self, member: usize) -> BTreeSet<TopicPartition> {
        self.by_partition
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, m)| **m == member)
            .map(|(tp, _)| tp.clone())
            .collect()
    }
}

/// One member's listener.
#[derive(Clone)]
struct Tracker {
    member: usize,
    owners: Owners,
    log: Arc<Mutex<Vec<String>>>,
}

impl Tracker {
    fn release(&self, partitions: &[TopicPartition], how: &str) {
        let mut owners = self.owners.by_partition.lock().unwrap();
        for tp in partitions {
            if owners.get(tp) == Some(&self.member) {
                owners.remove(tp);
            }
        }
        self.log
            .lock()
            .unwrap()
            .push(format!("{how} {}", partitions.len()));
    }
}

impl ConsumerRebalanceListener for Tracker {
    async fn on_partitions_revoked(
        &mut self,
        _consumer: &mut ConsumerContext<'_>,
        partitions: &[TopicPartition],
    ) -> Result<(), ListenerError> {
        self.release(partitions, "revoked");
        Ok(())
    }

    async fn on_partitions_lost(
        &mut self,
        _consumer: &mut ConsumerContext<'_>,
        partitions: &[TopicPartition],
    ) -> Result<(), ListenerError> {
        self.release(partitions, "lost");
        Ok(())
    }

    async fn on_partitions_assigned(
        &mut self,
        _consumer: &mut ConsumerContext<'_>,
        partitions: &[TopicPartition],
    ) -> Result<(), ListenerError> {
        let mut owners = self.owners.by_partition.lock().unwrap();
        for tp in partitions {
            if let Some(other) = owners.insert(tp.clone(), self.member) {
                if other != self.member {
                    self.owners.violations.lock().unwrap().push(format!(
                        "{tp} assigned to member {} while member {other} owned it",
                        self.member
                    ));
                }
            }
        }
        self.log
            .lock()
            .unwrap()
            .push(format!("assigned {}", partitions.len()));
        Ok(())
    }
}

/// A consumer polling on its own task; records go to `records` as (partition, value).
struct Member {
    tracker: Tracker,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Member {
    async fn close(self) {
        self.stop.send(true).unwrap();
        self.task.await.unwrap();
    }
}

fn spawn_member(
    config: ConsumerConfig,
    topic: &str,
    member: usize,
    owners: &Owners,
    records: mpsc::UnboundedSender<(i32, String)>,
) -> Member {
    let tracker = Tracker {
        member,
        owners: owners.clone(),
        log: Arc::default(),
    };
    let (stop, mut stopped) = watch::channel(false);
    let listener = tracker.clone();
    let topic = topic.to_string();
    let task = tokio::spawn(async move {
        let mut consumer = Consumer::new(config).unwrap();
        consumer
            .subscribe_with_listener([topic.as_str()], listener)
            .unwrap();
        while !*stopped.borrow() {
            tokio::select! {
                polled = consumer.poll(Duration::from_millis(200)) => {
                    for r in polled.expect("poll") {
                        let v = String::from_utf8(r.value.unwrap().to_vec()).unwrap();
                        let _ = records.send((r.partition, v));
                    }
                }
                _ = stopped.changed() => {}
            }
        }
        consumer.close().await.expect("close");
    });
    Member {
        tracker,
        stop,
        task,
    }
}

async fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !f() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn drain(rx: &mut mpsc::UnboundedReceiver<(i32, String)>, into: &mut Vec<(i32, String)>) {
    while let Ok(r) = rx.try_recv() {
        into.push(r);
    }
}

fn partitions_of(owned: &BTreeSet<TopicPartition>) -> Vec<i32> {
    owned.iter().map(|tp| tp.partition).collect()
}

/// Three members with `assignor` on a 6-partition topic: 2 partitions each and never one
/// owned twice; then one leaves and the other two take its partitions; nothing produced is
/// lost. Returns each remaining member's partitions before the leave, for the assignor checks.
async fn three_members_then_one_leaves(assignor: &str) -> Vec<Vec<i32>> {
    let Some(t) = kafka() else {
        return Vec::new();
    };
    let (topic, client) = topic_and_client(&t, &format!("kip848-{assignor}"), 6).await;
    let group = t.group(&format!("kip848-{assignor}-group"));
    let owners = Owners::default();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut members: Vec<Member> = (0..3)
        .map(|i| {
            let config = consumer_config(&t.addr(), &group)
                .group_remote_assignor(assignor)
                .build()
                .unwrap();
            spawn_member(config, &topic, i, &owners, tx.clone())
        })
        .collect();

    wait_until("2 partitions each", || {
        (0..3).all(|i| owners.of(i).len() == 2)
    })
    .await;
    let layout: Vec<Vec<i32>> = (0..3).map(|i| partitions_of(&owners.of(i))).collect();
    eprintln!("{assignor}: {layout:?}");

    // ConsumerGroupDescribe (API 69) sees the same group: three members with a broker-given
    // epoch, the assignor asked for, and the six partitions owned once each.
    let admin = rafka::client::Admin::new(client.clone());
    let described = admin
        .describe_consumer_groups(&[group.as_str()])
        .await
        .unwrap()
        .remove(&group)
        .unwrap()
        .expect("ConsumerGroupDescribe");
    assert_eq!(described.assignor, assignor);
    assert_eq!(described.members.len(), 3, "{described:?}");
    assert!(
        described.members.iter().all(|m| m.member_epoch > 0),
        "{described:?}"
    );
    let described_owned: BTreeSet<TopicPartition> = described
        .members
        .iter()
        .flat_map(|m| m.assignment.iter().cloned())
        .collect();
    assert_eq!(described_owned.len(), 6, "{described:?}");

    for p in 0..6 {
        produce_each(&client, &topic, p, &format!("a{p}"), 5).await;
    }
    let mut got = Vec::new();
    wait_until("the first 30 records", || {
        drain(&mut rx, &mut got);
        got.len() >= 30
    })
    .await;

    // Member 0 closes: revoke hook, commit, leave heartbeat (epoch -1); the others take over.
    let leaver = members.remove(0);
    let leaver_log = leaver.tracker.log.clone();
    leaver.close().await;
    wait_until("3 partitions each for the two left", || {
        (1..3).all(|i| owners.of(i).len() == 3)
    })
    .await;

    for p in 0..6 {
        produce_each(&client, &topic, p, &format!("b{p}"), 5).await;
    }
    wait_until("the second 30 records", || {
        drain(&mut rx, &mut got);
        got.iter().filter(|r| r.1.starts_with('b')).count() >= 30
    })
    .await;
    // Nothing lost; every record came from the partition it was produced to.
    let values: BTreeSet<(i32, String)> = got.iter().cloned().collect();
    for p in 0..6 {
        for i in 0..5 {
            assert!(
                values.contains(&(p, format!("a{p}-{i}"))),
                "missing a{p}-{i}"
            );
            assert!(
                values.contains(&(p, format!("b{p}-{i}"))),
                "missing b{p}-{i}"
            );
        }
    }
    assert!(
        leaver_log.lock().unwrap().iter().any(|l| l == "revoked 2"),
        "the leaver's revoke hook ran for its 2 partitions: {:?}",
        leaver_log.lock().unwrap()
    );
    for m in members {
        m.close().await;
    }
    let violations = owners.violations.lock().unwrap().clone();
    assert!(violations.is_empty(), "{violations:?}");
    layout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uniform_assignor_three_members_then_one_leaves() {
    let layout = three_members_then_one_leaves("uniform").await;
    if layout.is_empty() {
        return;
    }
    let all: BTreeSet<i32> = layout.iter().flatten().copied().collect();
    assert_eq!(all, (0..6).collect());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn range_assignor_three_members_then_one_leaves() {
    let layout = three_members_then_one_leaves("range").await;
    if layout.is_empty() {
        return;
    }
    // The broker's range assignor gives each member a contiguous run of partitions.
    let mut runs: Vec<Vec<i32>> = layout.clone();
    runs.sort();
    assert_eq!(runs, vec![vec![0, 1], vec![2, 3], vec![4, 5]], "{layout:?}");
}

/// The broker's upgrade path (KIP-848 online migration): the three members of a classic group
/// are replaced one at a time by members with `group.protocol=consumer`. The group converts
/// when the first one joins, the classic members left keep consuming through it, and every
/// record produced before and between the steps is consumed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn classic_members_replaced_one_at_a_time_by_consumer_members_lose_nothing() {
    let Some(t) = kafka() else {
        return;
    };
    let (topic, client) = topic_and_client(&t, "kip848-upgrade", 6).await;
    let group = t.group("kip848-upgrade-group");
    let owners = Owners::default();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let classic = |i: usize| {
        ConsumerConfig::builder(&t.addr())
            .group_id(&group)
            .client_id(format!("classic-{i}"))
            .auto_offset_reset(AutoOffsetReset::Earliest)
            .auto_commit_interval(Duration::from_millis(200))
            .fetch_max_wait(Duration::from_millis(100))
            .session_timeout(Duration::from_secs(10))
            .heartbeat_interval(Duration::from_secs(1))
            .build()
            .unwrap()
    };
    let mut members: Vec<Member> = (0..3)
        .map(|i| spawn_member(classic(i), &topic, i, &owners, tx.clone()))
        .collect();
    wait_until("the 6 partitions owned by the classic members", || {
        (0..3).map(|i| owners.of(i).len()).sum::<usize>() == 6
    })
    .await;

    let mut expected = BTreeSet::new();
    let mut got = Vec::new();
    for step in 0..3 {
        for p in 0..6 {
            let prefix = format!("s{step}p{p}");
            produce_each(&client, &topic, p, &prefix, 5).await;
            expected.extend((0..5).map(|i| (p, format!("{prefix}-{i}"))));
        }
        // The oldest classic member leaves; a consumer-protocol member takes its place.
        members.remove(0).close().await;
        let config = consumer_config(&t.addr(), &group)
            .client_id(format!("consumer-{step}"))
            .build()
            .unwrap();
        members.push(spawn_member(config, &topic, 3 + step, &owners, tx.clone()));
        wait_until(&format!("every record up to step {step}"), || {
            drain(&mut rx, &mut got);
            let seen: BTreeSet<(i32, String)> = got.iter().cloned().collect();
            expected.is_subset(&seen)
        })
        .await;
    }
    wait_until(
        "the 6 partitions owned by the consumer-protocol members",
        || (3..6).map(|i| owners.of(i).len()).sum::<usize>() == 6,
    )
    .await;
    let described = rafka::client::Admin::new(client.clone())
        .describe_consumer_groups(&[group.as_str()])
        .await
        .unwrap()
        .remove(&group)
        .unwrap()
        .expect("a consumer group after the upgrade");
    assert_eq!(described.members.len(), 3, "{described:?}");
    for m in members {
        m.close().await;
    }
    let violations = owners.violations.lock().unwrap().clone();
    assert!(violations.is_empty(), "{violations:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_member_restart_keeps_its_partitions() {
    let Some(t) = kafka() else {
        return;
    };
    let (topic, client) = topic_and_client(&t, "kip848-static", 4).await;
    let group = t.group("kip848-static-group");
    let instance = t.group("kip848-static-instance");
    let owners = Owners::default();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let static_config = || {
        consumer_config(&t.addr(), &group)
            .group_instance_id(instance.clone())
            .build()
            .unwrap()
    };
    let dynamic = spawn_member(
        consumer_config(&t.addr(), &group).build().unwrap(),
        &topic,
        0,
        &owners,
        tx.clone(),
    );
    let first = spawn_member(static_config(), &topic, 1, &owners, tx.clone());
    wait_until("2 partitions each", || {
        (0..2).all(|i| owners.of(i).len() == 2)
    })
    .await;
    let kept = owners.of(1);
    let dynamic_before = owners.of(0);
    let dynamic_log_before = dynamic.tracker.log.lock().unwrap().clone();

    // The static member closes (leave heartbeat with epoch -2: the broker keeps its
    // assignment for the session timeout) and a new consumer with the same instance id
    // takes its place.
    first.close().await;
    let second = spawn_member(static_config(), &topic, 1, &owners, tx.clone());
    wait_until("the restarted static member owns 2 partitions", || {
        owners.of(1).len() == 2
    })
    .await;
    assert_eq!(
        owners.of(1),
        kept,
        "the restarted static member got other partitions"
    );
    // No rebalance: the dynamic member never gained or lost anything.
    assert_eq!(owners.of(0), dynamic_before);
    assert_eq!(
        dynamic.tracker.log.lock().unwrap().clone(),
        dynamic_log_before,
        "the dynamic member saw a rebalance"
    );

    for p in 0..4 {
        produce_each(&client, &topic, p, &format!("s{p}"), 3).await;
    }
    let mut got = Vec::new();
    wait_until("12 records", || {
        drain(&mut rx, &mut got);
        got.len() >= 12
    })
    .await;
    second.close().await;
    dynamic.close().await;
    let violations = owners.violations.lock().unwrap().clone();
    assert!(violations.is_empty(), "{violations:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_protocol_refuses_classic_settings() {
    // No broker needed: the config is refused before anything connects.
    let err = ConsumerConfig::builder("127.0.0.1:1")
        .group_id("g")
        .group_protocol(GroupProtocol::Consumer)
        .session_timeout(Duration::from_secs(10))
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("session.timeout.ms"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_carry_the_member_epoch_and_a_new_member_resumes_from_them() {
    let Some(t) = kafka() else {
        return;
    };
    let (topic, client) = topic_and_client(&t, "kip848-commit", 2).await;
    let group = t.group("kip848-commit-group");
    for p in 0..2 {
        produce_each(&client, &topic, p, &format!("c{p}"), 5).await;
    }
    let config = || {
        consumer_config(&t.addr(), &group)
            .enable_auto_commit(false)
            .build()
            .unwrap()
    };
    let mut first = Consumer::new(config()).unwrap();
    first.subscribe([topic.as_str()]).unwrap();
    let got = poll_n(&mut first, 10, WAIT).await;
    assert_eq!(got.len(), 10);
    // OffsetCommit v9 with the member id and epoch: a consumer group refuses older versions
    // and wrong epochs from its members.
    first
        .commit_sync()
        .await
        .expect("commit with the member epoch");
    let committed = first
        .committed(&[
            TopicPartition::new(&topic, 0),
            TopicPartition::new(&topic, 1),
        ])
        .await
        .unwrap();
    assert_eq!(committed.values().copied().collect::<Vec<_>>(), [5, 5]);
    first.close().await.unwrap();

    for p in 0..2 {
        produce_each(&client, &topic, p, &format!("d{p}"), 2).await;
    }
    let mut second = Consumer::new(config()).unwrap();
    second.subscribe([topic.as_str()]).unwrap();
    let got = poll_n(&mut second, 4, WAIT).await;
    let mut values = values(&got);
    values.sort();
    assert_eq!(
        values,
        ["d0-0", "d0-1", "d1-0", "d1-1"],
        "resumed from the commits"
    );
    second.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regex_subscription_is_resolved_by_the_broker() {
    let Some(t) = kafka() else {
        return;
    };
    let client = client(&t.addr()).await;
    // Every name ends with this test's suffix, and so does the pattern.
    let suffix = t.topic("kip848-rx-a")["kip848-rx-a".len()..].to_string();
    let names = [
        t.topic("kip848-rx-a"),
        t.topic("kip848-rx-b"),
        t.topic("kip848-other"),
        format!("x{}", t.topic("kip848-rx-c")),
    ];
    for name in &names {
        create_topic(&t, name, 1);
        produce_each(&client, name, 0, name, 2).await;
    }
    let mut consumer = Consumer::new(
        consumer_config(&t.addr(), &t.group("kip848-rx-group"))
            .build()
            .unwrap(),
    )
    .unwrap();
    consumer
        .subscribe(rafka::consumer::Regex::new(&format!("kip848-rx-.*{suffix}")).unwrap())
        .unwrap();
    let records = poll_n(&mut consumer, 4, WAIT).await;
    let topics: BTreeSet<String> = records.iter().map(|r| r.topic.to_string()).collect();
    // The broker matched whole names: not "x…kip848-rx-c…", not "kip848-other".
    assert_eq!(topics, BTreeSet::from([names[0].clone(), names[1].clone()]));
    let assigned: BTreeSet<String> = consumer
        .assignment()
        .into_iter()
        .map(|tp| tp.topic)
        .collect();
    assert_eq!(
        assigned,
        BTreeSet::from([names[0].clone(), names[1].clone()])
    );
    // A matching topic created later is picked up without resubscribing: the broker
    // re-evaluates the regex when the cluster's topics change.
    let later = t.topic("kip848-rx-d");
    create_topic(&t, &later, 1);
    produce_each(&client, &later, 0, &later, 2).await;
    let records = poll_n(&mut consumer, 2, WAIT).await;
    assert!(
        records.iter().all(|r| *r.topic == *later),
        "{:?}",
        records
            .iter()
            .map(|r| r.topic.to_string())
            .collect::<Vec<_>>()
    );
    consumer.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_group_describe_shows_members_epochs_and_assignments() {
    let Some(t) = kafka() else {
        return;
    };
    let (topic, client) = topic_and_client(&t, "kip848-cli", 2).await;
    let group = t.group("kip848-cli-group");
    produce_each(&client, &topic, 0, "e", 3).await;
    let mut consumer = Consumer::new(consumer_config(&t.addr(), &group).build().unwrap()).unwrap();
    consumer.subscribe([topic.as_str()]).unwrap();
    assert_eq!(poll_n(&mut consumer, 3, WAIT).await.len(), 3);
    consumer.commit_sync().await.unwrap();
    let addr = t.addr();
    let described = tokio::task::spawn_blocking(move || {
        cli_support::rafka_ok(&["-b", &addr, "group", "describe", &group], b"")
    })
    .await
    .unwrap();
    consumer.close().await.unwrap();
    assert!(
        described.contains("protocol consumer (KIP-848), assignor uniform"),
        "{described}"
    );
    assert!(described.contains("members (1):"), "{described}");
    // The one member owns both partitions under a broker-given epoch.
    let member = described
        .lines()
        .find(|l| l.starts_with("  ") && l.contains(": epoch "))
        .unwrap_or_else(|| panic!("no member line: {described}"));
    assert!(member.contains(&format!("owns {topic}[0,1]")), "{member}");
    assert!(!member.contains("epoch 0,"), "{member}");
}

/// A KIP-848 member of `group` on its own thread ([`group_support::Member`]: `kill` drops its
/// runtime with the consumer leaked, as a crash), server assignor `assignor`.
fn thread_member(
    t: &TestTarget,
    group: &str,
    topic: &str,
    assignor: &str,
    name: &str,
    view: &Arc<GroupView>,
) -> group_support::Member {
    let config = consumer_config(&t.addr(), group)
        .client_id(name)
        .group_remote_assignor(assignor)
        .build()
        .unwrap();
    group_support::spawn_member_with(config, topic, name, view.clone())
}

/// Produces `n` records to every partition of `topic` (one batch each); returns the offsets.
async fn produce_all(
    client: &rafka::client::Client,
    topic: &str,
    partitions: i32,
    prefix: &str,
    n: usize,
) -> BTreeMap<(String, i32), BTreeSet<i64>> {
    let mut offsets = BTreeMap::new();
    for p in 0..partitions {
        let values: Vec<String> = (0..n).map(|i| format!("{prefix}{p}-{i}")).collect();
        let base = produce(client, topic, p, &values).await;
        offsets.insert((topic.to_string(), p), (base..base + n as i64).collect());
    }
    offsets
}

/// Every produced offset was consumed (by some member; more is allowed: at-least-once).
fn all_consumed(view: &GroupView, produced: &BTreeMap<(String, i32), BTreeSet<i64>>) -> bool {
    let consumed = view.consumed();
    produced
        .iter()
        .all(|(tp, offsets)| consumed.get(tp).is_some_and(|c| c.is_superset(offsets)))
}

/// Closes every member at once (each close runs its revoke hook, commit and leave heartbeat).
async fn close_all(members: Vec<group_support::Member>) {
    let closing: Vec<_> = members
        .into_iter()
        .map(|m| tokio::task::spawn_blocking(move || m.close()))
        .collect();
    for c in closing {
        c.await.unwrap();
    }
}

/// Ten members under the broker's `assignor` on 30 partitions: each owns 3, no partition is
/// ever owned by two members at once (hooks' view) or assigned twice (ConsumerGroupDescribe),
/// and every record produced is consumed.
async fn ten_members(assignor: &str) {
    let Some(t) = kafka() else {
        return;
    };
    const MEMBERS: usize = 10;
    const PARTITIONS: i32 = 30;
    let started = std::time::Instant::now();
    let (topic, client) = topic_and_client(&t, &format!("kip848-ten-{assignor}"), PARTITIONS).await;
    let group = t.group(&format!("kip848-ten-{assignor}-group"));
    let view = GroupView::new();
    let names: Vec<String> = (0..MEMBERS).map(|i| format!("m{i}")).collect();
    let members: Vec<_> = names
        .iter()
        .map(|n| thread_member(&t, &group, &topic, assignor, n, &view))
        .collect();
    let all = group_support::partitions(&topic, PARTITIONS);
    group_support::wait_for(
        "3 partitions for each of the ten members",
        WAIT,
        || names.iter().all(|n| view.owned(n).len() == 3) && view.owners().len() == all.len(),
        || format!("{:?}", view.owners()),
    )
    .await;
    let settled = started.elapsed();

    let admin = rafka::client::Admin::new(client.clone());
    let described = admin
        .describe_consumer_groups(&[group.as_str()])
        .await
        .unwrap()
        .remove(&group)
        .unwrap()
        .expect("ConsumerGroupDescribe");
    assert_eq!(described.assignor, assignor);
    assert_eq!(described.members.len(), MEMBERS, "{described:?}");
    let mut assigned: Vec<TopicPartition> = described
        .members
        .iter()
        .flat_map(|m| m.assignment.iter().cloned())
        .collect();
    assigned.sort();
    assert_eq!(
        assigned,
        all.iter().cloned().collect::<Vec<_>>(),
        "every partition assigned exactly once: {described:?}"
    );

    let produced = produce_all(&client, &topic, PARTITIONS, "r", 20).await;
    group_support::wait_for(
        "every record consumed",
        WAIT,
        || all_consumed(&view, &produced),
        || format!("{:?}", view.consumed()),
    )
    .await;
    close_all(members).await;
    let violations = view.violations();
    assert!(violations.is_empty(), "{violations:?}");
    eprintln!(
        "{assignor}: ten members settled in {:.1} s, test {:.1} s",
        settled.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_members_uniform_assignor() {
    ten_members("uniform").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_members_range_assignor() {
    ten_members("range").await;
}

/// A member killed without leaving (its runtime dropped, the consumer leaked: no leave
/// heartbeat, no commit) keeps its partitions until the broker's session timeout
/// (`group.consumer.session.timeout.ms`, 45 s by default) expels it; then the others take
/// them, resume from the committed offsets, and nothing produced is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_member_s_partitions_move_after_the_session_timeout() {
    let Some(t) = kafka() else {
        return;
    };
    const PARTITIONS: i32 = 6;
    let started = std::time::Instant::now();
    let (topic, client) = topic_and_client(&t, "kip848-kill", PARTITIONS).await;
    let group = t.group("kip848-kill-group");
    let view = GroupView::new();
    let names = ["k0", "k1", "k2"];
    let mut members: Vec<_> = names
        .iter()
        .map(|n| thread_member(&t, &group, &topic, "uniform", n, &view))
        .collect();
    group_support::wait_for(
        "2 partitions each",
        WAIT,
        || names.iter().all(|n| view.owned(n).len() == 2),
        || format!("{:?}", view.owners()),
    )
    .await;
    let before = produce_all(&client, &topic, PARTITIONS, "a", 10).await;
    group_support::wait_for(
        "the first records consumed",
        WAIT,
        || all_consumed(&view, &before),
        || format!("{:?}", view.consumed()),
    )
    .await;

    let victim = members.remove(0);
    let orphaned = view.owned(&victim.name);
    let killed_at = std::time::Instant::now();
    tokio::task::spawn_blocking(move || victim.kill())
        .await
        .unwrap();
    let after = produce_all(&client, &topic, PARTITIONS, "b", 10).await;
    group_support::wait_for(
        "the killed member's partitions taken over",
        WAIT,
        || {
            let owners = view.owners();
            orphaned
                .iter()
                .all(|tp| owners.get(tp).is_some_and(|m| m != names[0]))
        },
        || format!("{:?}", view.owners()),
    )
    .await;
    let moved_after = killed_at.elapsed();
    // Not a leave: the broker waited for the session timeout.
    assert!(
        moved_after >= Duration::from_secs(20),
        "partitions moved after {moved_after:?}, before any session timeout"
    );
    group_support::wait_for(
        "every record consumed",
        WAIT,
        || all_consumed(&view, &before) && all_consumed(&view, &after),
        || format!("{:?}", view.consumed()),
    )
    .await;
    close_all(members).await;
    let violations = view.violations();
    assert!(violations.is_empty(), "{violations:?}");
    eprintln!(
        "killed member's partitions moved after {:.1} s; test {:.1} s",
        moved_after.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}
