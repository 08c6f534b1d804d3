//! Cost of the response guard (`rafka_wire::guard`) next to the kafka-protocol decode it runs
//! in front of, on Fetch v12 responses (the largest and most frequent responses a client reads):
//!
//! - `1x1x1MiB`: one partition with 1 MiB of records (records are skipped with one check);
//! - `50x20x1KiB`: 1,000 partitions with 1 KiB each;
//! - `100x100x0`: 10,000 empty partitions (the walk's per-field cost alone).
//!
//! For each: `guard` (the walk), `decode` (kafka-protocol alone) and `decode_body` (both, as
//! the client runs them). Run: `cargo bench -p rafka-benches --bench guard`.

use std::hint::black_box;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use criterion::Criterion;
use kafka_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
use kafka_protocol::messages::{FetchResponse, TopicName};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use rafka_wire::guard::check_response;
use rafka_wire::request::decode_body;

const VERSION: i16 = 12;

/// The body of a Fetch v12 response of `topics` × `partitions`, each with `record_bytes` of
/// records.
fn fetch_body(topics: usize, partitions: usize, record_bytes: usize) -> Bytes {
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
    resp.encode(&mut out, VERSION).expect("encode");
    out.freeze()
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    for (name, body) in [
        ("1x1x1MiB", fetch_body(1, 1, 1 << 20)),
        ("50x20x1KiB", fetch_body(50, 20, 1 << 10)),
        ("100x100x0", fetch_body(100, 100, 0)),
    ] {
        let mut g = c.benchmark_group(format!("fetch_v12/{name}"));
        g.bench_function("guard", |b| {
            b.iter(|| check_response::<FetchResponse>(black_box(&body), VERSION, "Fetch").unwrap())
        });
        g.bench_function("decode", |b| {
            b.iter(|| FetchResponse::decode(&mut black_box(body.clone()), VERSION).unwrap())
        });
        g.bench_function("decode_body", |b| {
            b.iter(|| {
                decode_body::<FetchResponse>(&mut black_box(body.clone()), VERSION, "Fetch")
                    .unwrap()
            })
        });
        g.finish();
    }
    c.final_summary();
}
