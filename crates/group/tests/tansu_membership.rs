//! The membership machine against a real broker (Tansu): two range members share a
//! 4-partition topic, then one leaves and the other takes over.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use rafka_group::CooperativeStickyAssignor;
use rafka_wire::TopicPartition;
use support::{run_member, start_broker, wait_for, Shared};

fn all(topic: &str, n: i32) -> Vec<TopicPartition> {
    (0..n).map(|p| TopicPartition::new(topic, p)).collect()
}

#[test]
fn two_members_split_a_topic_and_one_takes_over_when_the_other_leaves() {
    let broker = start_broker();
    let shared = Arc::new(Mutex::new(Shared::default()));
    let stop_a = Arc::new(AtomicBool::new(false));
    let stop_b = Arc::new(AtomicBool::new(false));

    let a = {
        let (addr, s, stop) = (broker.addr.clone(), shared.clone(), stop_a.clone());
        std::thread::spawn(move || run_member(addr, "a", s, stop))
    };
    wait_for(&shared, "a owns everything", |s| {
        s.assignments.get("a") == Some(&all("orders", 4))
    });

    let b = {
        let (addr, s, stop) = (broker.addr.clone(), shared.clone(), stop_b.clone());
        std::thread::spawn(move || run_member(addr, "b", s, stop))
    };
    wait_for(&shared, "a and b split the topic", |s| {
        let (Some(x), Some(y)) = (s.assignments.get("a"), s.assignments.get("b")) else {
            return false;
        };
        let mut union: Vec<_> = x.iter().chain(y).cloned().collect();
        union.sort();
        x.len() == 2 && y.len() == 2 && union == all("orders", 4)
    });

    stop_b.store(true, Ordering::SeqCst);
    b.join().unwrap();
    wait_for(&shared, "a takes over after b left", |s| {
        !s.assignments.contains_key("b") && s.assignments.get("a") == Some(&all("orders", 4))
    });
    stop_a.store(true, Ordering::SeqCst);
    a.join().unwrap();
}

#[test]
fn cooperative_members_hand_partitions_over_without_double_ownership() {
    let broker = start_broker();
    let shared = Arc::new(Mutex::new(Shared::default()));
    let stop_a = Arc::new(AtomicBool::new(false));
    let stop_b = Arc::new(AtomicBool::new(false));
    // Tansu holds a cooperative SyncGroup for about 5 s (docs/brokers.md), longer than a
    // blocking driver may go without heartbeats under a 6 s session: use 12 s.
    let session = std::time::Duration::from_secs(12);
    let spawn = |name: &'static str, stop: &Arc<AtomicBool>| {
        let (addr, s, stop) = (broker.addr.clone(), shared.clone(), stop.clone());
        std::thread::spawn(move || {
            support::run_member_with(
                addr,
                name,
                s,
                stop,
                Arc::new(CooperativeStickyAssignor),
                session,
            )
        })
    };
    let a = spawn("a", &stop_a);
    wait_for(&shared, "a owns everything", |s| {
        s.assignments.get("a") == Some(&all("orders", 4))
    });
    let b = spawn("b", &stop_b);
    wait_for(&shared, "a and b split the topic", |s| {
        let (Some(x), Some(y)) = (s.assignments.get("a"), s.assignments.get("b")) else {
            return false;
        };
        x.len() == 2 && y.len() == 2
    });
    {
        let s = shared.lock().unwrap();
        assert!(
            s.double_owned.is_empty(),
            "handed over while still owned: {:?}",
            s.double_owned
        );
        // KIP-429: a revoked only the two partitions that moved, never everything.
        assert_eq!(s.revocations.get("a"), Some(&1));
    }
    stop_b.store(true, Ordering::SeqCst);
    b.join().unwrap();
    wait_for(&shared, "a takes over after b left", |s| {
        s.assignments.get("a").map(Vec::len) == Some(4)
    });
    stop_a.store(true, Ordering::SeqCst);
    a.join().unwrap();
    assert!(shared.lock().unwrap().double_owned.is_empty());
}
