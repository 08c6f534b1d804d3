//! Protocol conformance suite for rafka's wire codec.
//!
//! # Architecture
//! The fixtures in `fixtures/frames/` are request and response frames captured from
//! librdkafka 2.16 (PyPI `confluent-kafka`) talking to Tansu, by `scripts/capture.py`
//! (a logging TCP proxy). Each file is one frame without its size prefix, named
//! `NNN-<api key>-<api name>-v<version>-<req|resp>.bin`. This library loads them and knows
//! what the capture script produced ([`expected_records`]), so the tests in `tests/` can check
//! rafka's decoder against real peers' bytes, its encoder against them byte for byte, and both
//! against `kafka-protocol`'s own record codec.
#![warn(missing_docs)]

use std::path::PathBuf;

use bytes::Bytes;
use kafka_protocol::messages::{FetchResponse, ProduceRequest, RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, HeaderVersion};

/// One captured frame.
#[derive(Debug, Clone)]
pub struct Frame {
    /// File name.
    pub name: String,
    /// API key of the request (of the matching request, for a response).
    pub api_key: i16,
    /// API version of the request (of the matching request, for a response).
    pub version: i16,
    /// Client-to-broker frame.
    pub is_request: bool,
    /// The frame without its 4-byte size prefix.
    pub payload: Bytes,
}

/// Directory of the captured frames.
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/frames")
}

/// Every captured frame, in capture order.
///
/// # Panics
/// When the fixture directory is missing or a file name does not follow the pattern.
pub fn frames() -> Vec<Frame> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures_dir())
        .expect("fixtures/frames exists")
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".bin"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let parts: Vec<&str> = name.trim_end_matches(".bin").split('-').collect();
            let api_key = parts[1].parse().expect("api key");
            let version = parts[parts.len() - 2][1..].parse().expect("version");
            let is_request = parts[parts.len() - 1] == "req";
            let payload = std::fs::read(fixtures_dir().join(&name)).unwrap().into();
            Frame {
                name,
                api_key,
                version,
                is_request,
                payload,
            }
        })
        .collect()
}

/// One record as `scripts/capture.py` produced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedRecord {
    /// Timestamp in ms, when the script set one.
    pub timestamp: Option<i64>,
    /// Key.
    pub key: Option<Vec<u8>>,
    /// Value.
    pub value: Option<Vec<u8>>,
    /// Headers in order.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

/// The records `capture.py`'s `records(tag)` produces: ten records, keyless every third, a
/// tombstone at 7, duplicate and null headers on even ones. `timestamped` adds the explicit
/// timestamps the per-codec topics used.
pub fn expected_records(tag: &str, timestamped: bool) -> Vec<ExpectedRecord> {
    (0..10)
        .map(|i| ExpectedRecord {
            timestamp: timestamped.then_some(1_700_000_000_000 + i as i64),
            key: (i % 3 != 2).then(|| format!("{tag}-key-{i}").into_bytes()),
            value: (i != 7).then(|| {
                format!("value {i} of {tag}: {}", "lorem ipsum dolor ".repeat(3)).into_bytes()
            }),
            headers: if i % 2 == 0 {
                vec![
                    ("h".to_string(), Some(b"one".to_vec())),
                    ("h".to_string(), None),
                    ("trace".to_string(), Some(i.to_string().into_bytes())),
                ]
            } else {
                Vec::new()
            },
        })
        .collect()
}

/// The codecs the capture used, by topic suffix.
pub const CODECS: [&str; 5] = ["none", "gzip", "snappy", "lz4", "zstd"];

/// `(topic, partition, records blob)` of every partition in a Produce request frame.
///
/// # Panics
/// When the frame is not a Produce request kafka-protocol can decode.
pub fn produce_records(frame: &Frame) -> Vec<(String, i32, Bytes)> {
    assert!(frame.is_request && frame.api_key == 0, "{}", frame.name);
    let mut buf = frame.payload.clone();
    RequestHeader::decode(&mut buf, ProduceRequest::header_version(frame.version)).unwrap();
    let req = ProduceRequest::decode(&mut buf, frame.version).unwrap();
    req.topic_data
        .into_iter()
        .flat_map(|t| {
            let name = t.name.to_string();
            t.partition_data
                .into_iter()
                .filter_map(move |p| p.records.map(|r| (name.clone(), p.index, r)))
        })
        .collect()
}

/// `(partition, high watermark, records blob)` of every partition in a Fetch response frame
/// (Fetch v13+ names topics by id only).
///
/// # Panics
/// When the frame is not a Fetch response kafka-protocol can decode.
pub fn fetch_records(frame: &Frame) -> Vec<(i32, i64, Bytes)> {
    assert!(!frame.is_request && frame.api_key == 1, "{}", frame.name);
    let mut buf = frame.payload.clone();
    ResponseHeader::decode(&mut buf, FetchResponse::header_version(frame.version)).unwrap();
    let resp = FetchResponse::decode(&mut buf, frame.version).unwrap();
    resp.responses
        .into_iter()
        .flat_map(|t| t.partitions)
        .filter_map(|p| p.records.map(|r| (p.partition_index, p.high_watermark, r)))
        .collect()
}
