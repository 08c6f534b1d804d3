//! rafka's response guard (`rafka_wire::guard`) on real peers' bytes: every captured response
//! of an API rafka speaks, at whatever version the peer used, walks to exactly the end of its
//! body. Plus the guard's cost next to the decode it protects (`--ignored`, in release).

use std::time::Instant;

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
use kafka_protocol::messages::{ApiKey, FetchResponse, TopicName};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use rafka_protocol_tests::frames;
use rafka_wire::guard::{check_response, response_schema, walk_response};
use rafka_wire::header::decode_response_header;
use rafka_wire::request::decode_body;

#[test]
fn captured_responses_walk_to_the_end() {
    let mut walked = Vec::new();
    for f in frames().into_iter().filter(|f| !f.is_request) {
        let (Some(schema), Ok(key)) = (response_schema(f.api_key), ApiKey::try_from(f.api_key))
        else {
            continue;
        };
        let mut body = f.payload.clone();
        decode_response_header(&mut body, key.response_header_version(f.version)).unwrap();
        let n =
            walk_response(schema, f.version, &body).unwrap_or_else(|e| panic!("{}: {e}", f.name));
        assert_eq!(
            n,
            body.len(),
            "{}: walk stops short of the body's end",
            f.name
        );
        walked.push(f.name);
    }
    // Tansu's answers to librdkafka for ApiVersions, Metadata, Produce, Fetch (v16, past what
    // rafka speaks: the schemas follow kafka-protocol's whole range), the group and the
    // transaction APIs.
    assert_eq!(walked.len(), 17, "{walked:?}");
}

/// A Fetch v12 response of `topics` × `partitions`, each with `record_bytes` of records.
fn fetch_response(topics: usize, partitions: usize, record_bytes: usize) -> Bytes {
    let records = Bytes::from(vec![0x5a; record_bytes]);
    let resp = FetchResponse::default().with_responses(
        (0..topics)
            .map(|t| {
                FetchableTopicResponse::default()
                    .with_topic(TopicName(StrBytes::from_string(format!("topic-{t}"))))
                    .with_partitions(
                        (0..partitions)
                            .map(|p| {
                                PartitionData::default()
                                    .with_partition_index(p as i32)
                                    .with_high_watermark(1_000_000)
                                    .with_records(Some(records.clone()))
                            })
                            .collect(),
                    )
            })
            .collect(),
    );
    let mut out = BytesMut::new();
    rafka_wire::header::encode_response_header(1, 1, &mut out);
    resp.encode(&mut out, 12).unwrap();
    out.freeze()
}

/// Median nanoseconds of `f` over `rounds` runs.
fn median_ns(rounds: usize, mut f: impl FnMut()) -> u128 {
    let mut t: Vec<u128> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_nanos()
        })
        .collect();
    t.sort_unstable();
    t[rounds / 2]
}

#[test]
#[ignore = "timing; run with --release -- --ignored --nocapture"]
fn guard_cost_next_to_decode() {
    let golden = frames()
        .into_iter()
        .filter(|f| !f.is_request && f.api_key == 1)
        .max_by_key(|f| f.payload.len())
        .unwrap();
    let cases = [
        (
            format!("captured Fetch v16, {} B", golden.payload.len()),
            golden.payload.clone(),
            16,
        ),
        (
            "Fetch v12, 1 partition of 1 MiB".to_string(),
            fetch_response(1, 1, 1 << 20),
            12,
        ),
        (
            "Fetch v12, 50 x 20 partitions of 1 KiB".to_string(),
            fetch_response(50, 20, 1 << 10),
            12,
        ),
        (
            "Fetch v12, 100 x 100 empty partitions".to_string(),
            fetch_response(100, 100, 0),
            12,
        ),
    ];
    for (name, frame, version) in cases {
        let hlen = if version >= 12 { 5 } else { 4 };
        let body = frame.slice(hlen..);
        let guard = median_ns(201, || {
            std::hint::black_box(
                check_response::<FetchResponse>(std::hint::black_box(&body), version, "Fetch")
                    .unwrap(),
            );
        });
        let decode = median_ns(201, || {
            std::hint::black_box(FetchResponse::decode(&mut body.clone(), version).unwrap());
        });
        let both = median_ns(201, || {
            std::hint::black_box(
                decode_body::<FetchResponse>(&mut body.clone(), version, "Fetch").unwrap(),
            );
        });
        println!("{name}: guard {guard} ns, kafka-protocol decode {decode} ns, decode_body (both) {both} ns");
    }
}
