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

/// `host:port` of the leader of `topic`/`partition`.
pub async fn leader_addr(bootstrap: &str, topic: &str, partition: i32) -> String {
    let client = Client::connect(ClientConfig::new(bootstrap)).await.unwrap();
    let leader = client.leader_for(topic, partition).await.unwrap();
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

/// Every record, transaction markers included (`control` is set on those).
pub async fn read_partition_all(bootstrap: &str, topic: &str, partition: i32) -> Vec<ReadRecord> {
    let addr = leader_addr(bootstrap, topic, partition).await;
    let mut conn = RawConnection::connect(&addr).await.unwrap();
    let mut out = Vec::new();
    let mut offset = 0i64;
    for _ in 0..1000 {
        let req = FetchRequest::default()
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
                    .with_partition_max_bytes(8 << 20)])]);
        let resp = conn.call(12, &req).await.unwrap();
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
