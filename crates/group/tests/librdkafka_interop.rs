//! Interop with librdkafka 2.16 (confluent-kafka in `<repo>/.venv-test`, made by
//! `scripts/deps.sh`; `$RAFKA_TEST_PYTHON` overrides): a rafka member and a librdkafka
//! member in one `range` group on a real broker (Tansu). Whoever leads, each must decode the
//! other's consumer-protocol bytes: the split only happens if the follower read the leader's
//! Assignment, and the leader read the follower's Subscription.

mod support;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rafka_group::Subscription;
use rafka_wire::TopicPartition;
use support::{run_member, start_broker, wait_for, Shared};

const GROUP_MEMBER: &str = r#"
import sys, json, time
from confluent_kafka import Consumer
c = Consumer({
    "bootstrap.servers": sys.argv[1],
    "group.id": "rafka-group-it",
    "partition.assignment.strategy": "range",
    "session.timeout.ms": 6000,
    "heartbeat.interval.ms": 500,
    "client.rack": "rack-x",
    "auto.offset.reset": "earliest",
})
def on_assign(consumer, parts):
    print("ASSIGNED " + json.dumps(sorted([p.topic, p.partition] for p in parts)), flush=True)
c.subscribe(["orders"], on_assign=on_assign)
deadline = time.time() + float(sys.argv[2])
while time.time() < deadline:
    c.poll(0.1)
c.close()
print("CLOSED", flush=True)
"#;

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("RAFKA_TEST_PYTHON").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv-test/bin/python");
    assert!(
        venv.is_file(),
        "no confluent-kafka interpreter: run scripts/deps.sh"
    );
    venv
}

#[test]
fn rafka_and_librdkafka_members_share_a_range_group() {
    let broker = start_broker();
    let shared = Arc::new(Mutex::new(Shared::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let a = {
        let (addr, s, stop) = (broker.addr.clone(), shared.clone(), stop.clone());
        std::thread::spawn(move || run_member(addr, "rafka", s, stop))
    };
    let all: Vec<TopicPartition> = (0..4).map(|p| TopicPartition::new("orders", p)).collect();
    wait_for(&shared, "rafka owns everything", |s| {
        s.assignments.get("rafka") == Some(&all)
    });

    let mut py = Command::new(python())
        .args(["-c", GROUP_MEMBER, &broker.addr, "20"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines = BufReader::new(py.stdout.take().unwrap());
    let librdkafka_assigned: Arc<Mutex<Vec<Vec<TopicPartition>>>> = Arc::default();
    let reader = {
        let out = librdkafka_assigned.clone();
        std::thread::spawn(move || {
            for line in lines.lines() {
                let line = line.unwrap();
                if let Some(json) = line.strip_prefix("ASSIGNED ") {
                    let v: Vec<(String, i32)> = serde_json::from_str(json).unwrap();
                    out.lock().unwrap().push(
                        v.into_iter()
                            .map(|(t, p)| TopicPartition::new(t, p))
                            .collect(),
                    );
                }
            }
        })
    };

    // librdkafka's first on_assign after the rebalance: two partitions, rafka the other two.
    let deadline = Instant::now() + Duration::from_secs(30);
    let theirs = loop {
        let got = librdkafka_assigned
            .lock()
            .unwrap()
            .iter()
            .rev()
            .find(|a| a.len() == 2)
            .cloned();
        if let Some(t) = got {
            break t;
        }
        assert!(
            Instant::now() < deadline,
            "librdkafka never got two partitions: {:?}",
            librdkafka_assigned.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    wait_for(&shared, "rafka holds the other two", |s| {
        s.assignments.get("rafka").is_some_and(|ours| {
            let mut union: Vec<_> = ours.iter().chain(&theirs).cloned().collect();
            union.sort();
            ours.len() == 2 && union == all
        })
    });

    // If rafka led, it decoded librdkafka's Subscription; check what librdkafka wrote. (Tansu's
    // DescribeGroups leaves member metadata empty, so the leader's JoinGroup answer is the
    // only place to see these bytes.)
    {
        let s = shared.lock().unwrap();
        if let Some(members) = s.led.get("rafka") {
            let ours = &s.member_ids["rafka"];
            let (_, meta) = members
                .iter()
                .find(|(id, _)| id != ours)
                .expect("librdkafka member");
            let version = i16::from_be_bytes([meta[0], meta[1]]);
            let sub = Subscription::decode(meta).unwrap();
            eprintln!(
                "rafka led; librdkafka Subscription v{version} {:02x?}: {sub:?}",
                &meta[..]
            );
            assert_eq!(sub.topics, vec!["orders".to_owned()]);
            if version >= 3 {
                assert_eq!(sub.rack_id.as_deref(), Some("rack-x"));
            }
        } else {
            eprintln!("librdkafka led; rafka decoded its Assignment");
        }
    }

    // librdkafka closes (LeaveGroup): rafka takes everything back.
    let status = py.wait().unwrap();
    assert!(status.success());
    reader.join().unwrap();
    wait_for(&shared, "rafka owns everything again", |s| {
        s.assignments.get("rafka") == Some(&all)
    });
    stop.store(true, Ordering::SeqCst);
    a.join().unwrap();
}
