//! Runs the consumer examples against a private Tansu broker: each example's `run` is the
//! code `cargo run --example` runs.

mod consumer_support;

#[path = "../examples/standalone_offset_manager.rs"]
#[allow(dead_code)]
mod standalone_offset_manager;

use std::collections::BTreeMap;
use std::time::Duration;

use consumer_support::{broker_with_topic, numbered, produce};

#[tokio::test]
async fn standalone_offset_manager_resumes_after_the_last_marked_record() {
    let (broker, client) = broker_with_topic("om", 2).await;
    produce(&client, "om", 0, &numbered("a", 6)).await;
    produce(&client, "om", 1, &numbered("b", 4)).await;
    let options = standalone_offset_manager::Options {
        brokers: broker.addr(),
        topic: "om".into(),
        group_id: "om-group".into(),
        auto_commit_interval: Duration::from_millis(300),
        idle: Duration::from_secs(2),
    };

    let first = standalone_offset_manager::run(&options).await.unwrap();
    assert_eq!(first.processed.len(), 10);
    assert_eq!(first.committed, BTreeMap::from([(0, 6), (1, 4)]));

    // Nothing new: a restart processes nothing (resumes from the committed offsets).
    let second = standalone_offset_manager::run(&options).await.unwrap();
    assert!(second.processed.is_empty(), "{:?}", second.processed);

    produce(&client, "om", 1, &numbered("c", 3)).await;
    let third = standalone_offset_manager::run(&options).await.unwrap();
    let got: Vec<(i32, i64, String)> = third.processed;
    assert_eq!(
        got,
        [
            (1, 4, "c-0".to_string()),
            (1, 5, "c-1".to_string()),
            (1, 6, "c-2".to_string())
        ]
    );
    assert_eq!(third.committed, BTreeMap::from([(0, 6), (1, 7)]));
}
