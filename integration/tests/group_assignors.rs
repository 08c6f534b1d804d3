//! Every built-in assignor in a live group on the test broker (the shared Apache Kafka cluster,
//! or Tansu with `RAFKA_TEST_TARGET=tansu`): three rafka members share six partitions,
//! a fourth joins and leaves (LeaveGroup), one member crashes and is expelled after the session
//! timeout. Records are produced throughout; none may be lost.
//!
//! Checked at every step: each partition owned exactly once and shares balanced; across the
//! whole run no partition is assigned to a member while another still owns it (the revoke hooks
//! ran first, for the eager assignors and for cooperative-sticky's two-step hand-over alike);
//! within each generation no partition is in two members' assignments. At the end every
//! produced offset was consumed and the committed offsets reach the end of every partition.

mod consumer_common;
mod group_support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use consumer_common::{client, create_topic, produce, target};
use group_support::*;
use rafka::consumer::{Consumer, ConsumerConfig};
use rafka::wire::TopicPartition;

const PARTITIONS: i32 = 6;
/// Per step. Cooperative-sticky on Tansu needs two rebalances per change, each with SyncGroup
/// held ≈ 5 s; an expulsion adds the 6 s session timeout.
const STEP: Duration = Duration::from_secs(60);

#[tokio::test]
async fn range_group_lifecycle() {
    group_lifecycle("range").await;
}

#[tokio::test]
async fn roundrobin_group_lifecycle() {
    group_lifecycle("roundrobin").await;
}

#[tokio::test]
async fn sticky_group_lifecycle() {
    group_lifecycle("sticky").await;
}

#[tokio::test]
async fn cooperative_sticky_group_lifecycle() {
    group_lifecycle("cooperative-sticky").await;
}

/// True when `members` own all of `all` between them, each exactly its share in `sizes`
/// (sorted), and nothing else.
fn balanced(
    view: &GroupView,
    members: &[&str],
    all: &BTreeSet<TopicPartition>,
    sizes: &[usize],
) -> bool {
    let owners = view.owners();
    let mut got: Vec<usize> = members.iter().map(|m| view.owned(m).len()).collect();
    got.sort_unstable();
    let union: BTreeSet<TopicPartition> = members.iter().flat_map(|m| view.owned(m)).collect();
    got == sizes
        && union == *all
        && owners.len() == all.len()
        && owners.values().all(|o| members.contains(&o.as_str()))
}

fn describe(view: &GroupView, names: &[&str]) -> String {
    let owned: BTreeMap<&str, Vec<i32>> = names
        .iter()
        .map(|n| (*n, view.owned(n).iter().map(|tp| tp.partition).collect()))
        .collect();
    format!("owned {owned:?}, violations {:?}", view.violations())
}

async fn group_lifecycle(strategy: &str) {
    let t = target();
    let addr = t.addr();
    let admin = client(&addr).await;
    let topic = t.topic(&format!("ga-{strategy}"));
    let group = t.group(&format!("ga-{strategy}-group"));
    create_topic(&t, &topic, PARTITIONS);
    let all = partitions(&topic, PARTITIONS);
    let view = GroupView::new();

    // Records flow the whole time: one per 20 ms, round the partitions; offsets kept.
    let stop_producing = Arc::new(AtomicBool::new(false));
    let producer = {
        let (admin, topic, stop) = (admin.clone(), topic.clone(), stop_producing.clone());
        tokio::spawn(async move {
            let mut produced: BTreeMap<i32, BTreeSet<i64>> = BTreeMap::new();
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                let p = i % PARTITIONS;
                let offset = produce(&admin, &topic, p, &[format!("r{i}")]).await;
                produced.entry(p).or_default().insert(offset);
                i += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            produced
        })
    };

    let spawn = |name: &str| spawn_member(&addr, &group, &topic, strategy, name, view.clone());
    let a = spawn("a");
    let b = spawn("b");
    let c = spawn("c");
    wait_for(
        "three members with 2 partitions each",
        STEP,
        || balanced(&view, &["a", "b", "c"], &all, &[2, 2, 2]),
        || describe(&view, &["a", "b", "c"]),
    )
    .await;

    let d = spawn("d");
    wait_for(
        "four members sharing 6 partitions (2,2,1,1)",
        STEP,
        || balanced(&view, &["a", "b", "c", "d"], &all, &[1, 1, 2, 2]),
        || describe(&view, &["a", "b", "c", "d"]),
    )
    .await;

    // Clean leave: revoke hook, commit, LeaveGroup; the rest rebalance at once.
    d.close();
    wait_for(
        "back to 2 each after d left",
        STEP,
        || balanced(&view, &["a", "b", "c"], &all, &[2, 2, 2]),
        || describe(&view, &["a", "b", "c", "d"]),
    )
    .await;

    // Crash: no LeaveGroup; the coordinator expels c after the session timeout.
    c.kill();
    wait_for(
        "a and b own 3 each after c was expelled",
        STEP,
        || balanced(&view, &["a", "b"], &all, &[3, 3]),
        || describe(&view, &["a", "b", "c"]),
    )
    .await;

    stop_producing.store(true, Ordering::SeqCst);
    let produced = producer.await.expect("producer task");
    let total: usize = produced.values().map(BTreeSet::len).sum();
    assert!(total > 0);
    wait_for(
        "every produced record consumed",
        STEP,
        || {
            let consumed = view.consumed();
            produced.iter().all(|(p, offsets)| {
                consumed
                    .get(&(topic.clone(), *p))
                    .is_some_and(|c| offsets.is_subset(c))
            })
        },
        || describe(&view, &["a", "b"]),
    )
    .await;
    // Closing commits the final positions.
    a.close();
    b.close();

    let mut checker = Consumer::new(
        ConsumerConfig::builder(&addr)
            .group_id(&group)
            .build()
            .unwrap(),
    )
    .unwrap();
    let tps: Vec<TopicPartition> = all.iter().cloned().collect();
    let committed = checker.committed(&tps).await.expect("committed offsets");
    for (p, offsets) in &produced {
        let end = offsets.iter().max().unwrap() + 1;
        assert_eq!(
            committed.get(&TopicPartition::new(&topic, *p)),
            Some(&end),
            "committed offset of partition {p} ({strategy}): {committed:?}"
        );
    }

    assert_eq!(view.violations(), Vec::<String>::new(), "{strategy}");
    assert_eq!(generation_problems(&view, &all), Vec::<String>::new());
    let generations = view.generations();
    eprintln!(
        "{strategy}: {total} records, generations {:?}",
        generations
            .iter()
            .map(|(g, m)| (*g, m.keys().cloned().collect::<Vec<_>>()))
            .collect::<Vec<_>>()
    );
    // Several generations were observed (join, 4th join, leave, expulsion at least).
    assert!(generations.len() >= 4, "{strategy}: {generations:?}");
}
