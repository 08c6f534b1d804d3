//! `rafka verifiable-producer` against a private Tansu, checked the way Kafka's
//! `verifiable_producer.py` reads it: every send is acknowledged exactly once, values and keys
//! follow `--value-prefix` / `--repeating-keys`, and the run ends with shutdown_complete and
//! tool_data.

mod cli_support;

use std::collections::BTreeSet;

use cli_support::{json_lines, rafka_ok, unique};
use rafka_integration::TestBroker;

#[test]
fn every_message_is_acked_once_with_java_event_fields() {
    let broker = TestBroker::start().expect("start tansu");
    let addr = broker.addr();
    let topic = unique("vp");
    broker.create_topic(&topic, 3).expect("create topic");
    let out = rafka_ok(
        &[
            "verifiable-producer",
            "--topic",
            &topic,
            "--bootstrap-server",
            &addr,
            "--max-messages",
            "1000",
            "--repeating-keys",
            "7",
            "--value-prefix",
            "3",
            "--acks",
            "-1",
        ],
        b"",
    );
    let events = json_lines(&out);
    let names: Vec<&str> = events.iter().filter_map(|e| e.get("name").str()).collect();
    assert_eq!(names.first(), Some(&"startup_complete"));
    assert_eq!(names[names.len() - 2..], ["shutdown_complete", "tool_data"]);
    assert!(events.iter().all(|e| e.get("timestamp").i64().is_some()));

    let acks: Vec<_> = events
        .iter()
        .filter(|e| e.get("name").str() == Some("producer_send_success"))
        .collect();
    assert_eq!(acks.len(), 1000);
    assert!(!names.contains(&"producer_send_error"), "{out}");
    let positions: BTreeSet<(i64, i64)> = acks
        .iter()
        .map(|e| {
            (
                e.get("partition").i64().unwrap(),
                e.get("offset").i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        positions.len(),
        1000,
        "every ack names a distinct (partition, offset)"
    );
    let values: BTreeSet<String> = acks
        .iter()
        .map(|e| e.get("value").str().unwrap().to_string())
        .collect();
    let expected: BTreeSet<String> = (0..1000).map(|i| format!("3.{i}")).collect();
    assert_eq!(values, expected);
    for e in &acks {
        assert_eq!(e.get("topic").str(), Some(topic.as_str()));
        let value = e.get("value").str().unwrap();
        let i: u64 = value.trim_start_matches("3.").parse().unwrap();
        assert_eq!(
            e.get("key").str(),
            Some((i % 7).to_string().as_str()),
            "key of {value}"
        );
    }
    // Records with the same key land in the same partition.
    for key in 0..7 {
        let parts: BTreeSet<i64> = acks
            .iter()
            .filter(|e| e.get("key").str() == Some(key.to_string().as_str()))
            .map(|e| e.get("partition").i64().unwrap())
            .collect();
        assert_eq!(parts.len(), 1, "key {key} spread over {parts:?}");
    }

    let tool = events.last().unwrap();
    assert_eq!(tool.get("sent").i64(), Some(1000));
    assert_eq!(tool.get("acked").i64(), Some(1000));
    assert_eq!(tool.get("target_throughput").i64(), Some(-1));

    // The log holds exactly what was acknowledged.
    let consumed = rafka_ok(
        &[
            "-b",
            &addr,
            "consume",
            "-t",
            &topic,
            "-o",
            "beginning",
            "-e",
            "-f",
            "%p %o %k %s\\n",
        ],
        b"",
    );
    let logged: BTreeSet<(i64, i64)> = consumed
        .lines()
        .map(|l| {
            let mut cols = l.split(' ');
            (
                cols.next().unwrap().parse().unwrap(),
                cols.next().unwrap().parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(logged, positions);
}

#[test]
fn keyless_values_without_prefix_and_a_throttle() {
    let broker = TestBroker::start().expect("start tansu");
    let topic = unique("vp-plain");
    broker.create_topic(&topic, 1).expect("create topic");
    let out = rafka_ok(
        &[
            "verifiable-producer",
            "--topic",
            &topic,
            "--broker-list",
            &broker.addr(),
            "--max-messages",
            "50",
            "--throughput",
            "500",
            "--acks",
            "1",
        ],
        b"",
    );
    let events = json_lines(&out);
    let acks: Vec<_> = events
        .iter()
        .filter(|e| e.get("name").str() == Some("producer_send_success"))
        .collect();
    assert_eq!(acks.len(), 50);
    for (i, e) in acks.iter().enumerate() {
        // One partition: acks arrive in send order with consecutive offsets.
        assert_eq!(e.get("value").str(), Some(i.to_string().as_str()));
        assert_eq!(e.get("offset").i64(), Some(i as i64));
        assert_eq!(e.get("key"), &cli_support::Json::Null);
    }
    assert_eq!(
        events.last().unwrap().get("target_throughput").i64(),
        Some(500)
    );
}
