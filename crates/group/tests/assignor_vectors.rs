//! Assignor test vectors: inputs and expected outputs ported, as data, from the Java
//! assignors' unit tests (`tests/vectors/*.json`; each case names its Java test).
//!
//! Each member may carry `owned` partitions and a `generation`: the runner hands them to
//! `sticky` as `StickyAssignorUserData` v1 and to `cooperative-sticky` as Subscription v2
//! fields, the way Java members send them.

use std::collections::BTreeMap;

use rafka_group::assignor::{self, ClusterMetadata, MemberSubscription, StickyUserData};
use rafka_wire::TopicPartition;
use serde_json::Value;

fn tps(v: &Value) -> Vec<TopicPartition> {
    v.as_array()
        .expect("partition list")
        .iter()
        .map(|p| {
            TopicPartition::new(
                p[0].as_str().expect("topic"),
                p[1].as_i64().expect("partition") as i32,
            )
        })
        .collect()
}

fn run_file(name: &str) {
    let path = format!("{}/tests/vectors/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let cases: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let assignor = assignor::builtin(name).expect("built-in assignor");
    assert!(!cases.is_empty());
    for case in &cases {
        let source = case["source"].as_str().unwrap();
        let cluster = ClusterMetadata::from_counts(
            case["topics"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(t, n)| (t.clone(), n.as_i64().unwrap() as i32)),
        );
        let mut members = BTreeMap::new();
        for (id, m) in case["members"].as_object().unwrap() {
            let mut sub = MemberSubscription {
                topics: m["topics"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t.as_str().unwrap().to_owned())
                    .collect(),
                group_instance_id: m.get("instance").map(|i| i.as_str().unwrap().to_owned()),
                ..Default::default()
            };
            let generation = m.get("generation").map(|g| g.as_i64().unwrap() as i32);
            if let Some(owned) = m.get("owned") {
                let owned = tps(owned);
                if name == "sticky" {
                    sub.user_data = Some(
                        StickyUserData {
                            previous_assignment: owned,
                            generation,
                        }
                        .encode()
                        .unwrap(),
                    );
                } else {
                    sub.owned_partitions = owned;
                    sub.generation_id = generation;
                }
            }
            members.insert(id.clone(), sub);
        }
        let got = assignor
            .assign(&cluster, &members)
            .unwrap_or_else(|e| panic!("{source}: {e}"));
        let expected = case["expected"].as_object().unwrap();
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>(),
            "{source}: members"
        );
        for (member, want) in expected {
            let mut want = tps(want);
            let mut have = got[member].partitions.clone();
            // Java's tests compare lists whose order comes from HashMap iteration in places;
            // membership of each member's set is the contract.
            want.sort();
            have.sort();
            assert_eq!(have, want, "{source}: {member}");
        }
    }
}

#[test]
fn range_vectors() {
    run_file("range");
}

#[test]
fn roundrobin_vectors() {
    run_file("roundrobin");
}

#[test]
fn sticky_vectors() {
    run_file("sticky");
}

#[test]
fn cooperative_sticky_vectors() {
    run_file("cooperative-sticky");
}
