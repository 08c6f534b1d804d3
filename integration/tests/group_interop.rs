//! Mixed consumer groups on the test broker (the shared Apache Kafka cluster, or Tansu with
//! `RAFKA_TEST_TARGET=tansu`): rafka members and librdkafka 2.16 members (confluent-kafka
//! Python processes) in ONE group, for `range`, `roundrobin` and `cooperative-sticky`.
//!
//! Each test starts one member alone (it becomes the leader and owns everything), then two of
//! the other client, and checks:
//! - who led: the leader id in the last JoinGroup response (rafka's membership task reports it,
//!   librdkafka's `cgrp` debug log prints it) is the first member's id;
//! - the assignment is valid (each of the 6 partitions once, 2 per member) and, for range and
//!   roundrobin, equal to what rafka's assignor computes for the same member ids — so a
//!   librdkafka leader's result equals rafka's and rafka's leader result equals librdkafka's
//!   (Java's algorithm, which both implement);
//! - DescribeGroups lists the same three member ids, group Stable (on Kafka also their client
//!   ids and non-empty subscriptions and assignments, which Tansu leaves empty);
//! - the ConsumerProtocol bytes interoperate: every member consumes exactly the records
//!   produced to its partitions after the rebalance (librdkafka decoded rafka's Assignment and
//!   rafka decoded librdkafka's, and the leader decoded the others' Subscriptions).

mod consumer_common;
mod group_support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use consumer_common::{client, create_topic, produce, target};
use group_support::*;
use rafka::group::assignor::{builtin, ClusterMetadata};
use rafka::group::Subscription;
use rafka_integration::python::{require_python, spawn_python};
use tokio::io::{AsyncBufReadExt, BufReader};

const PARTITIONS: i32 = 6;
const WAIT: Duration = Duration::from_secs(60);

/// A librdkafka group member. Args: bootstrap, group, topic, strategy, client.id, stop file.
/// Prints `JOIN <generation> <leader id> <own member id>` from librdkafka's cgrp log,
/// `OWNED <p,p,..>` after every assignment change and `RECORD <partition> <value>`; stops
/// (close: commit, LeaveGroup) when the stop file appears.
const LIBRDKAFKA_MEMBER: &str = r#"
import sys, os, re, logging
from confluent_kafka import Consumer
bootstrap, group, topic, strategy, client_id, stop_file = sys.argv[1:7]
def out(*a):
    print(*a, flush=True)
JOIN = re.compile(r"JoinGroup response: GenerationId (-?\d+), Protocol \S*, LeaderId (\S*?)( \(me\))?, my MemberId (\S+),")
class Joins(logging.Handler):
    def emit(self, record):
        m = JOIN.search(record.getMessage())
        if m and m.group(2):
            out("JOIN", m.group(1), m.group(2), m.group(4))
log = logging.getLogger("librdkafka")
log.addHandler(Joins())
log.setLevel(logging.DEBUG)
c = Consumer({
    "bootstrap.servers": bootstrap,
    "group.id": group,
    "client.id": client_id,
    "partition.assignment.strategy": strategy,
    "session.timeout.ms": 6000,
    "heartbeat.interval.ms": 500,
    "auto.offset.reset": "earliest",
    "auto.commit.interval.ms": 200,
    "fetch.wait.max.ms": 100,
    "debug": "cgrp",
    "logger": log,
})
owned = set()
cooperative = strategy == "cooperative-sticky"
def show():
    out("OWNED", ",".join(str(p) for p in sorted(owned)))
def on_assign(consumer, parts):
    if not cooperative:
        owned.clear()
    owned.update(p.partition for p in parts)
    show()
def on_revoke(consumer, parts):
    if cooperative:
        owned.difference_update(p.partition for p in parts)
    else:
        owned.clear()
    show()
c.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_revoke)
while not os.path.exists(stop_file):
    msg = c.poll(0.1)
    if msg is None or msg.error():
        continue
    out("RECORD", msg.partition(), msg.value().decode())
c.close()
out("CLOSED")
"#;

/// What one librdkafka member printed.
#[derive(Debug, Default, Clone)]
struct RdkState {
    /// (generation, leader, own member id) of each JoinGroup response.
    joins: Vec<(i32, String, String)>,
    owned: BTreeSet<i32>,
    records: Vec<(i32, String)>,
    closed: bool,
}

struct RdkMember {
    state: Arc<Mutex<RdkState>>,
    stop_file: std::path::PathBuf,
    child: tokio::process::Child,
    reader: tokio::task::JoinHandle<()>,
}

impl RdkMember {
    fn start(addr: &str, group: &str, topic: &str, strategy: &str, name: &str) -> RdkMember {
        let stop_file = std::env::temp_dir().join(format!(
            "rafka-group-interop-{}-{group}-{name}.stop",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&stop_file);
        let stop = stop_file.to_string_lossy().into_owned();
        let mut child = spawn_python(
            LIBRDKAFKA_MEMBER,
            &[addr, group, topic, strategy, name, &stop],
        )
        .expect("spawn librdkafka member");
        let stdout = child.stdout.take().expect("stdout");
        let state = Arc::new(Mutex::new(RdkState::default()));
        let reader = {
            let state = state.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stdout).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    let mut st = state.lock().unwrap();
                    let mut words = line.splitn(4, ' ');
                    match (words.next(), words.next(), words.next(), words.next()) {
                        (Some("JOIN"), Some(g), Some(leader), Some(me)) => {
                            st.joins
                                .push((g.parse().unwrap(), leader.to_string(), me.to_string()))
                        }
                        (Some("OWNED"), list, None, None) => {
                            st.owned = list
                                .unwrap_or("")
                                .split(',')
                                .filter(|s| !s.is_empty())
                                .map(|p| p.parse().unwrap())
                                .collect();
                        }
                        (Some("RECORD"), Some(p), Some(v), None) => {
                            st.records.push((p.parse().unwrap(), v.to_string()))
                        }
                        (Some("CLOSED"), ..) => st.closed = true,
                        _ => eprintln!("librdkafka member: {line}"),
                    }
                }
            })
        };
        RdkMember {
            state,
            stop_file,
            child,
            reader,
        }
    }

    fn state(&self) -> RdkState {
        self.state.lock().unwrap().clone()
    }

    /// Own member id and leader per the last JoinGroup response.
    fn last_join(&self) -> Option<(String, String)> {
        self.state()
            .joins
            .last()
            .map(|(_, leader, me)| (me.clone(), leader.clone()))
    }

    /// Asks the member to close and waits for the process; panics on failure (with stderr).
    async fn stop(mut self) {
        std::fs::write(&self.stop_file, b"").unwrap();
        let status = tokio::time::timeout(WAIT, self.child.wait())
            .await
            .expect("librdkafka member did not exit")
            .unwrap();
        self.reader.await.unwrap();
        let _ = std::fs::remove_file(&self.stop_file);
        if !status.success() {
            let mut err = String::new();
            if let Some(mut e) = self.child.stderr.take() {
                use tokio::io::AsyncReadExt;
                let _ = e.read_to_string(&mut err).await;
            }
            panic!("librdkafka member failed ({status}): {err}");
        }
        assert!(self.state.lock().unwrap().closed, "no CLOSED line");
    }
}

#[tokio::test]
async fn range_rafka_leads_librdkafka_follows() {
    mixed_group("range", Leader::Rafka).await;
}

#[tokio::test]
async fn range_librdkafka_leads_rafka_follows() {
    mixed_group("range", Leader::Librdkafka).await;
}

#[tokio::test]
async fn roundrobin_rafka_leads_librdkafka_follows() {
    mixed_group("roundrobin", Leader::Rafka).await;
}

#[tokio::test]
async fn roundrobin_librdkafka_leads_rafka_follows() {
    mixed_group("roundrobin", Leader::Librdkafka).await;
}

#[tokio::test]
async fn cooperative_sticky_rafka_leads_librdkafka_follows() {
    mixed_group("cooperative-sticky", Leader::Rafka).await;
}

#[tokio::test]
async fn cooperative_sticky_librdkafka_leads_rafka_follows() {
    mixed_group("cooperative-sticky", Leader::Librdkafka).await;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leader {
    Rafka,
    Librdkafka,
}

/// Who is in the group, as the test sees it: name → (member id, leader it was told, owned).
type Snapshot = BTreeMap<String, (String, String, BTreeSet<i32>)>;

async fn mixed_group(strategy: &str, leader: Leader) {
    if require_python().is_none() {
        return;
    }
    let t = target();
    let addr = t.addr();
    let admin = client(&addr).await;
    let tag = match leader {
        Leader::Rafka => "r",
        Leader::Librdkafka => "l",
    };
    let topic = t.topic(&format!("gi-{strategy}-{tag}"));
    let group = t.group(&format!("gi-{strategy}-{tag}-group"));
    create_topic(&t, &topic, PARTITIONS);
    for p in 0..PARTITIONS {
        produce(&admin, &topic, p, &[format!("early-{p}")]).await;
    }
    let view = GroupView::new();
    let all: BTreeSet<i32> = (0..PARTITIONS).collect();

    // The first member is alone in generation 0, owns everything and is the leader.
    let (rafka_names, rdk_names): (Vec<&str>, Vec<&str>) = match leader {
        Leader::Rafka => (vec!["rafka-0"], vec!["rdk-1", "rdk-2"]),
        Leader::Librdkafka => (vec!["rafka-1", "rafka-2"], vec!["rdk-0"]),
    };
    let spawn_rafka =
        |name: &str| spawn_member(&addr, &group, &topic, strategy, name, view.clone());
    let mut rafka = Vec::new();
    let mut rdk = Vec::new();
    match leader {
        Leader::Rafka => {
            rafka.push(spawn_rafka("rafka-0"));
            wait_for(
                "rafka-0 owns all partitions",
                WAIT,
                || view.owned("rafka-0").len() == PARTITIONS as usize,
                || format!("{:?}", view.owners()),
            )
            .await;
            for name in &rdk_names {
                rdk.push(RdkMember::start(&addr, &group, &topic, strategy, name));
            }
        }
        Leader::Librdkafka => {
            rdk.push(RdkMember::start(&addr, &group, &topic, strategy, "rdk-0"));
            wait_for(
                "rdk-0 owns all partitions",
                WAIT,
                || rdk[0].state().owned == all,
                || format!("{:?}", rdk[0].state()),
            )
            .await;
            for name in &rafka_names {
                rafka.push(spawn_rafka(name));
            }
        }
    }

    let snapshot = || -> Snapshot {
        let mut s = Snapshot::new();
        for name in &rafka_names {
            let join = view.join(name).unwrap_or_default();
            let owned = view.owned(name).iter().map(|tp| tp.partition).collect();
            s.insert(name.to_string(), (join.member_id, join.leader, owned));
        }
        for (name, m) in rdk_names.iter().zip(&rdk) {
            let (me, leader) = m.last_join().unwrap_or_default();
            s.insert(name.to_string(), (me, leader, m.state().owned));
        }
        s
    };
    // Stable: 2 partitions each, all 6 covered, everyone told the same leader.
    let stable = |s: &Snapshot| {
        let union: BTreeSet<i32> = s.values().flat_map(|(_, _, o)| o.clone()).collect();
        let leaders: BTreeSet<&String> = s.values().map(|(_, l, _)| l).collect();
        s.values().all(|(_, _, o)| o.len() == 2) && union == all && leaders.len() == 1
    };
    wait_for(
        "a stable mixed group (2 partitions each)",
        WAIT,
        || stable(&snapshot()),
        || format!("{:#?} violations {:?}", snapshot(), view.violations()),
    )
    .await;
    let s = snapshot();
    eprintln!("{strategy} {leader:?}: {s:#?}");

    // The first member led the generation everyone is in.
    let first = match leader {
        Leader::Rafka => "rafka-0",
        Leader::Librdkafka => "rdk-0",
    };
    let leader_id = &s[first].0;
    for (name, (_, told, _)) in &s {
        assert_eq!(told, leader_id, "{name} was told another leader: {s:#?}");
    }
    let ids: BTreeSet<String> = s.values().map(|(id, _, _)| id.clone()).collect();
    assert_eq!(ids.len(), 3, "three distinct member ids: {s:#?}");
    // The coordinator's view: the same three members, stable.
    let (state, described) = describe_group(&admin, &group).await;
    assert_eq!(state, "Stable");
    assert_eq!(
        described.keys().cloned().collect::<BTreeSet<_>>(),
        ids,
        "{described:?}"
    );
    if t.is_kafka() {
        for (name, (id, _, _)) in &s {
            assert_eq!(
                described[id],
                (name.clone(), true),
                "{name}: client id, subscription and assignment as Kafka describes them"
            );
        }
    }

    // Java's algorithm, as rafka implements it, gives the same result for these member ids.
    if strategy != "cooperative-sticky" {
        let members: BTreeMap<String, Subscription> = s
            .values()
            .map(|(id, _, _)| {
                let sub = Subscription {
                    topics: vec![topic.clone()],
                    ..Subscription::default()
                };
                (id.clone(), sub)
            })
            .collect();
        let expected = builtin(strategy)
            .unwrap()
            .assign(
                &ClusterMetadata::from_counts([(topic.clone(), PARTITIONS)]),
                &members,
            )
            .unwrap();
        for (name, (id, _, owned)) in &s {
            let want: BTreeSet<i32> = expected[id]
                .partitions
                .iter()
                .map(|tp| tp.partition)
                .collect();
            assert_eq!(owned, &want, "{name} ({id}) under a {leader:?} leader");
        }
    }

    // Everyone consumes exactly its partitions' new records.
    for p in 0..PARTITIONS {
        for i in 0..3 {
            produce(&admin, &topic, p, &[format!("late-{p}-{i}")]).await;
        }
    }
    let late = |records: Vec<(i32, String)>| -> BTreeSet<(i32, String)> {
        records
            .into_iter()
            .filter(|(_, v)| v.starts_with("late-"))
            .collect()
    };
    let consumed_by = || -> BTreeMap<String, BTreeSet<(i32, String)>> {
        let mut m = BTreeMap::new();
        for name in &rafka_names {
            m.insert(name.to_string(), late(view.values(name)));
        }
        for (name, r) in rdk_names.iter().zip(&rdk) {
            m.insert(name.to_string(), late(r.state().records));
        }
        m
    };
    wait_for(
        "every late record consumed",
        WAIT,
        || consumed_by().values().map(BTreeSet::len).sum::<usize>() >= 18,
        || format!("{:#?}", consumed_by()),
    )
    .await;
    for (name, got) in consumed_by() {
        let want: BTreeSet<(i32, String)> = s[&name]
            .2
            .iter()
            .flat_map(|p| (0..3).map(move |i| (*p, format!("late-{p}-{i}"))))
            .collect();
        assert_eq!(got, want, "{name} consumed its own partitions' records");
    }
    assert_eq!(view.violations(), Vec::<String>::new());

    for m in rdk {
        m.stop().await;
    }
    for m in rafka {
        m.close();
    }
}

/// Group state and members as the group's coordinator describes them (DescribeGroups through
/// `Admin::describe_groups`): state, member id → (client id, metadata and assignment both
/// non-empty). Tansu fills member ids and the state but leaves client ids, metadata and
/// assignments empty.
async fn describe_group(
    admin: &rafka::client::Client,
    group: &str,
) -> (String, BTreeMap<String, (String, bool)>) {
    let described = rafka::client::Admin::new(admin.clone())
        .describe_groups(&[group])
        .await
        .expect("DescribeGroups");
    let g = described[group].as_ref().expect("DescribeGroups error");
    assert_eq!(g.protocol_type, "consumer");
    let members = g
        .members
        .iter()
        .map(|m| {
            let filled = !m.metadata.is_empty() && !m.assignment.is_empty();
            (m.member_id.clone(), (m.client_id.clone(), filled))
        })
        .collect();
    (g.state.clone(), members)
}
