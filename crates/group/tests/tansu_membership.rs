//! The membership machine against a real broker (Tansu): two range members share a
//! 4-partition topic, then one leaves and the other takes over.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

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
