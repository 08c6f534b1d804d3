//! Sticky assignment cost: 10,000 partitions (10 topics × 1,000) over 100 members that all
//! subscribe to every topic (Java's "constrained" path).
//!
//! - `sticky/fresh`: nobody owns anything (first rebalance of a new group).
//! - `sticky/member-left`: 99 members report their previous assignment in user data after
//!   one member left; 101 partitions move.
//! - `cooperative-sticky/member-joined`: 100 members own everything and a 101st joins; the
//!   partitions that would move are withheld (KIP-429).
//!
//! Run: `cargo bench -p rafka-benches --bench assignor`. A summary in ms follows criterion's
//! output.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use rafka_group::assignor::{
    Assignor, ClusterMetadata, CooperativeStickyAssignor, MemberSubscription, StickyAssignor,
    UserDataContext,
};

const TOPICS: usize = 10;
const PARTITIONS_PER_TOPIC: i32 = 1_000;
const MEMBERS: usize = 100;

fn cluster() -> ClusterMetadata {
    ClusterMetadata::from_counts((0..TOPICS).map(|t| (format!("topic-{t}"), PARTITIONS_PER_TOPIC)))
}

fn members(n: usize) -> BTreeMap<String, MemberSubscription> {
    let topics: Vec<String> = (0..TOPICS).map(|t| format!("topic-{t}")).collect();
    (0..n)
        .map(|i| {
            (
                format!("consumer-{i:03}-6f1c2a"),
                MemberSubscription {
                    topics: topics.clone(),
                    ..Default::default()
                },
            )
        })
        .collect()
}

struct Case {
    name: &'static str,
    assignor: Box<dyn Assignor>,
    members: BTreeMap<String, MemberSubscription>,
}

fn cases() -> Vec<Case> {
    let cluster = cluster();
    let fresh = members(MEMBERS);
    let first = StickyAssignor.assign(&cluster, &fresh).unwrap();

    // One member leaves; the others send their assignment as StickyAssignorUserData.
    let mut left = fresh.clone();
    left.remove("consumer-000-6f1c2a");
    for (m, sub) in left.iter_mut() {
        let prev = &first[m].partitions;
        sub.user_data = StickyAssignor.subscription_user_data(&UserDataContext {
            topics: &sub.topics,
            previous_assignment: Some(prev),
            previous_generation: Some(1),
        });
    }

    // A member joins a cooperative group whose members own everything.
    let mut joined = fresh.clone();
    for (m, sub) in joined.iter_mut() {
        sub.owned_partitions = first[m].partitions.clone();
        sub.generation_id = Some(1);
    }
    joined.insert(
        "consumer-new-6f1c2a".into(),
        members(1).into_values().next().unwrap(),
    );

    vec![
        Case {
            name: "sticky/fresh",
            assignor: Box::new(StickyAssignor),
            members: fresh,
        },
        Case {
            name: "sticky/member-left",
            assignor: Box::new(StickyAssignor),
            members: left,
        },
        Case {
            name: "cooperative-sticky/member-joined",
            assignor: Box::new(CooperativeStickyAssignor),
            members: joined,
        },
    ]
}

fn bench(c: &mut Criterion) {
    let cluster = cluster();
    let mut g = c.benchmark_group("assign-10000-partitions-100-members");
    g.sample_size(10);
    for case in cases() {
        g.bench_function(case.name, |b| {
            b.iter(|| black_box(case.assignor.assign(&cluster, &case.members).unwrap()))
        });
    }
    g.finish();
}

fn summary() {
    let cluster = cluster();
    println!("\nsticky assignment, 10,000 partitions / 100 members (median of 10 runs):");
    for case in cases() {
        let mut times: Vec<Duration> = (0..10)
            .map(|_| {
                let t = Instant::now();
                black_box(case.assignor.assign(&cluster, &case.members).unwrap());
                t.elapsed()
            })
            .collect();
        times.sort();
        println!(
            "  {:<36} {:>8.2} ms",
            case.name,
            times[5].as_secs_f64() * 1e3
        );
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
    summary();
}
