//! Helpers shared by the producer integration tests: reading a partition back from its leader
//! with a raw Fetch (v12, topic names) and rafka's own batch decoder.
//!
//! `bootstrap` is any bootstrap list (one Tansu, or every node of a Kafka cluster): the helpers
//! ask Metadata which node leads the partition (or coordinates the group) and talk to that one.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use bytes::Bytes;
use kafka_protocol::messages::{fetch_request, BrokerId, FetchRequest, TopicName};
use kafka_protocol::protocol::StrBytes;
use rafka::client::{Client, ClientConfig};
use rafka::wire::records::{decode_batches, Compression};
use rafka_integration::raw::RawConnection;
use rafka_integration::TestTarget;

/// One record read back, with its batch's facts.
#[derive(Debug, Clone)]
pub struct ReadRecord {
    pub offset: i64,
    pub timestamp: i64,
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
    pub headers: Vec<(String, Option<Bytes>)>,
    pub compression: Compression,
    pub producer_id: i64,
    pub base_sequence: i32,
    pub is_transactional: bool,
    /// For a control record: Some(true) = COMMIT marker, Some(false) = ABORT marker.
    pub control: Option<bool>,
}

/// `host:port` of the broker `node` as Metadata advertises it.
fn broker_addr(client: &Client, node: i32) -> String {
    let cluster = client.cached_metadata();
    let broker = cluster
        .brokers
        .get(&node)
        .unwrap_or_else(|| panic!("broker {node} not in metadata"));
    format!("{}:{}", broker.host, broker.port)
}

/// `host:port` of the leader of `topic`/`partition`, asking Metadata again (up to 30 s) while
/// the broker that answers does not know the topic yet (a Kafka broker learns a new topic from
/// the metadata log on its own time).
pub async fn leader_addr(bootstrap: &str, topic: &str, partition: i32) -> String {
    let client = Client::connect(ClientConfig::new(bootstrap)).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let leader = loop {
        match client.leader_for(topic, partition).await {
            Ok(leader) => break leader,
            Err(e) if Instant::now() >= deadline => panic!("leader of {topic}-{partition}: {e}"),
            Err(_) => {
                client.invalidate_metadata();
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    let addr = broker_addr(&client, leader);
    client.close();
    addr
}

/// `host:port` of the coordinator of group `group`.
pub async fn group_coordinator_addr(bootstrap: &str, group: &str) -> String {
    let client = Client::connect(ClientConfig::new(bootstrap)).await.unwrap();
    let node = client.group_coordinator(group).await.unwrap();
    client.metadata().await.unwrap();
    let addr = broker_addr(&client, node);
    client.close();
    addr
}

/// Every data record of `topic`/`partition` from offset 0 to the high watermark.
pub async fn read_partition(bootstrap: &str, topic: &str, partition: i32) -> Vec<ReadRecord> {
    read_partition_all(bootstrap, topic, partition)
        .await
        .into_iter()
        .filter(|r| r.control.is_none())
        .collect()
}

/// [`read_partition_all`] again until `done` holds for what it read (or 30 s pass, then the
/// last read). For what is written but not yet below the high watermark: records produced with
/// acks=0 or acks=1 (the followers have not fetched them yet), and transaction markers, which
/// Kafka's coordinator writes after answering EndTxn.
pub async fn read_partition_until(
    bootstrap: &str,
    topic: &str,
    partition: i32,
    done: impl Fn(&[ReadRecord]) -> bool,
) -> Vec<ReadRecord> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = read_partition_all(bootstrap, topic, partition).await;
        if done(&got) || Instant::now() >= deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A Fetch (v12) of one partition from `offset`, waiting at most 50 ms.
fn fetch_request(topic: &str, partition: i32, offset: i64) -> FetchRequest {
    FetchRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_max_wait_ms(50)
        .with_min_bytes(1)
        .with_max_bytes(8 << 20)
        .with_session_epoch(-1)
        .with_topics(vec![fetch_request::FetchTopic::default()
            .with_topic(TopicName(StrBytes::from_string(topic.to_string())))
            .with_partitions(vec![fetch_request::FetchPartition::default()
                .with_partition(partition)
                .with_current_leader_epoch(-1)
                .with_fetch_offset(offset)
                .with_partition_max_bytes(8 << 20)])])
}

/// Waits (up to 30 s) until the leader of every partition of `topic` serves it.
///
/// On Kafka every broker applies a new topic from the metadata log on its own: Metadata from
/// one broker may already name a leader that has not created the partition yet, and a Produce
/// that reaches it then fails. Retries hide that, except with acks=0, where Kafka closes the
/// connection and the records are lost (as they would be for any client).
pub async fn wait_until_leaders_serve(bootstrap: &str, topic: &str, partitions: i32) {
    let deadline = Instant::now() + Duration::from_secs(30);
    for partition in 0..partitions {
        loop {
            let addr = leader_addr(bootstrap, topic, partition).await;
            let mut conn = RawConnection::connect(&addr).await.unwrap();
            let resp = conn
                .call(12, &fetch_request(topic, partition, 0))
                .await
                .unwrap();
            let code = resp.responses[0].partitions[0].error_code;
            if code == 0 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{topic}-{partition}: the leader still answers error {code} after 30 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Creates `name` on the test broker ([`TestTarget::create_topic`]), then waits until the leader
/// of every partition serves it ([`wait_until_leaders_serve`]).
///
/// An idempotent producer that starts at once can otherwise lose records on Kafka 4.4: its
/// first Produce reaches a leader that has not applied the new partition yet and fails with a
/// retriable error, the next Produce (in flight behind it) arrives once the partition exists and
/// is accepted although its sequence does not start at 0 (a broker takes any first sequence from
/// a producer it has no state for), and every retry of the first batch is then
/// OUT_OF_ORDER_SEQUENCE_NUMBER until `delivery.timeout.ms` fails it. Java's producer behaves the
/// same; the broker side is KAFKA-15591, fixed in Kafka 4.5.
pub async fn create_topic(t: &TestTarget, name: &str, partitions: i32) {
    t.create_topic(name, partitions).unwrap();
    wait_until_leaders_serve(&t.addr(), name, partitions).await;
}

/// Every record, transaction markers included (`control` is set on those).
pub async fn read_partition_all(bootstrap: &str, topic: &str, partition: i32) -> Vec<ReadRecord> {
    let addr = leader_addr(bootstrap, topic, partition).await;
    let mut conn = RawConnection::connect(&addr).await.unwrap();
    let mut out = Vec::new();
    let mut offset = 0i64;
    for _ in 0..1000 {
        let resp = conn
            .call(12, &fetch_request(topic, partition, offset))
            .await
            .unwrap();
        let p = &resp.responses[0].partitions[0];
        assert_eq!(p.error_code, 0, "fetch error");
        let hw = p.high_watermark;
        if offset >= hw {
            break;
        }
        let before = offset;
        if let Some(records) = p.records.clone() {
            for batch in decode_batches(records) {
                let batch = batch.unwrap();
                let next = batch.next_offset();
                if batch.is_control {
                    for r in batch.records().unwrap() {
                        let r = r.unwrap();
                        if r.offset < offset {
                            continue;
                        }
                        let commit = matches!(
                            rafka::wire::records::decode_control(&r).unwrap(),
                            rafka::wire::records::ControlRecord::Commit { .. }
                        );
                        out.push(ReadRecord {
                            offset: r.offset,
                            timestamp: r.timestamp,
                            key: None,
                            value: None,
                            headers: Vec::new(),
                            compression: batch.compression,
                            producer_id: batch.producer_id,
                            base_sequence: batch.base_sequence,
                            is_transactional: batch.is_transactional,
                            control: Some(commit),
                        });
                    }
                    offset = offset.max(next);
                    continue;
                }
                for r in batch.records().unwrap() {
                    let r = r.unwrap();
                    if r.offset < offset {
                        continue;
                    }
                    out.push(ReadRecord {
                        offset: r.offset,
                        timestamp: r.timestamp,
                        key: r.key.clone(),
                        value: r.value.clone(),
                        headers: r
                            .headers
                            .iter()
                            .map(|h| (String::from_utf8(h.key.to_vec()).unwrap(), h.value.clone()))
                            .collect(),
                        compression: batch.compression,
                        producer_id: batch.producer_id,
                        base_sequence: batch.base_sequence,
                        is_transactional: batch.is_transactional,
                        control: None,
                    });
                }
                offset = offset.max(next);
            }
        }
        if offset == before {
            break;
        }
    }
    out
}

/// Java's `toPositive(murmur2(key)) % n`, computed here independently of the producer crate
/// (the test must not trust the code under test).
pub fn java_partition(key: &[u8], n: i32) -> i32 {
    let m: u32 = 0x5bd1_e995;
    let mut h: u32 = 0x9747_b28c ^ key.len() as u32;
    let mut i = 0;
    while i + 4 <= key.len() {
        let mut k = u32::from_le_bytes([key[i], key[i + 1], key[i + 2], key[i + 3]]);
        k = k.wrapping_mul(m);
        k ^= k >> 24;
        k = k.wrapping_mul(m);
        h = h.wrapping_mul(m) ^ k;
        i += 4;
    }
    let rest = &key[i..];
    match rest.len() {
        3 => {
            h ^= (rest[2] as u32) << 16;
            h ^= (rest[1] as u32) << 8;
            h ^= rest[0] as u32;
            h = h.wrapping_mul(m);
        }
        2 => {
            h ^= (rest[1] as u32) << 8;
            h ^= rest[0] as u32;
            h = h.wrapping_mul(m);
        }
        1 => {
            h ^= rest[0] as u32;
            h = h.wrapping_mul(m);
        }
        _ => {}
    }
    h ^= h >> 13;
    h = h.wrapping_mul(m);
    h ^= h >> 15;
    ((h as i32) & 0x7fff_ffff) % n
}
