//! rafka's record codec against batches written by librdkafka 2.16 (Produce requests) and
//! returned by Tansu (Fetch responses).

use std::collections::BTreeMap;

use bytes::{Bytes, BytesMut};
use kafka_protocol::records::RecordBatchDecoder;
use rafka_protocol_tests::{
    expected_records, fetch_records, frames, produce_records, ExpectedRecord, CODECS,
};
use rafka_wire::records::{
    decode_batches, encode_batch, BatchMeta, Compression, ControlRecord, Record, RecordBatch,
    RecordHeaderRef, RecordRef,
};

fn batches(blob: &Bytes) -> Vec<RecordBatch> {
    decode_batches(blob.clone())
        .collect::<Result<_, _>>()
        .expect("every batch decodes")
}

fn matches_expected(records: &[Record], expected: &[ExpectedRecord]) {
    assert_eq!(records.len(), expected.len());
    for (r, e) in records.iter().zip(expected) {
        if let Some(ts) = e.timestamp {
            assert_eq!(r.timestamp, ts);
        }
        assert_eq!(r.key.as_deref(), e.key.as_deref());
        assert_eq!(r.value.as_deref(), e.value.as_deref());
        let headers: Vec<(String, Option<Vec<u8>>)> = r
            .headers
            .iter()
            .map(|h| {
                (
                    h.key_str().to_string(),
                    h.value.as_ref().map(|v| v.to_vec()),
                )
            })
            .collect();
        assert_eq!(headers, e.headers);
    }
}

/// Produce batches by topic.
fn produced() -> BTreeMap<String, Vec<Bytes>> {
    let mut by_topic: BTreeMap<String, Vec<Bytes>> = BTreeMap::new();
    for f in frames().iter().filter(|f| f.is_request && f.api_key == 0) {
        for (topic, partition, blob) in produce_records(f) {
            assert_eq!(partition, 0);
            by_topic.entry(topic).or_default().push(blob);
        }
    }
    by_topic
}

fn codec(name: &str) -> Compression {
    name.parse().unwrap()
}

#[test]
fn decodes_librdkafka_produce_batches_for_every_codec() {
    let produced = produced();
    for name in CODECS {
        let blobs = &produced[&format!("golden-{name}")];
        assert_eq!(blobs.len(), 1, "{name}: one produce request");
        let batches = batches(&blobs[0]);
        assert_eq!(batches.len(), 1, "{name}: one batch");
        let b = &batches[0];
        assert_eq!(b.compression, codec(name));
        if name == "snappy" {
            // librdkafka writes raw snappy, not the xerial framing Java writes
            assert!(!b.as_bytes()[61..].starts_with(b"\x82SNAPPY\0"));
        }
        assert_eq!(
            (b.magic, b.base_offset, b.record_count, b.last_offset_delta),
            (2, 0, 10, 9)
        );
        assert_eq!(
            (b.producer_id, b.producer_epoch, b.base_sequence),
            (-1, -1, -1)
        );
        assert!(!b.is_transactional && !b.is_control);
        assert_eq!(b.base_timestamp, 1_700_000_000_000);
        assert_eq!(b.max_timestamp, 1_700_000_000_009);
        matches_expected(&b.to_records().unwrap(), &expected_records(name, true));
    }
}

#[test]
fn idempotent_and_transactional_batches_carry_producer_fields() {
    let produced = produced();
    let b = &batches(&produced["golden-idempotent"][0])[0];
    assert!(b.producer_id >= 0 && b.producer_epoch >= 0);
    assert_eq!(b.base_sequence, 0);
    assert!(!b.is_transactional);
    matches_expected(
        &b.to_records().unwrap(),
        &expected_records("idempotent", false)[..5],
    );

    let txn = &produced["golden-txn"];
    assert_eq!(txn.len(), 2, "one produce per transaction");
    for blob in txn {
        let b = &batches(blob)[0];
        assert!(b.is_transactional && !b.is_control);
        assert!(b.producer_id >= 0);
        assert_eq!(b.record_count, 3);
    }
}

fn refs_of<'a>(
    records: &'a [Record],
    headers: &'a [Vec<RecordHeaderRef<'a>>],
) -> Vec<RecordRef<'a>> {
    records
        .iter()
        .zip(headers)
        .map(|(r, h)| RecordRef {
            timestamp: r.timestamp,
            key: r.key.as_deref(),
            value: r.value.as_deref(),
            headers: h,
        })
        .collect()
}

fn header_refs(records: &[Record]) -> Vec<Vec<RecordHeaderRef<'_>>> {
    records
        .iter()
        .map(|r| {
            r.headers
                .iter()
                .map(|h| RecordHeaderRef {
                    key: h.key_str(),
                    value: h.value.as_deref(),
                })
                .collect()
        })
        .collect()
}

fn meta_of(b: &RecordBatch) -> BatchMeta {
    BatchMeta {
        base_offset: b.base_offset,
        partition_leader_epoch: b.partition_leader_epoch,
        producer_id: b.producer_id,
        producer_epoch: b.producer_epoch,
        base_sequence: b.base_sequence,
        is_transactional: b.is_transactional,
        timestamp_type: b.timestamp_type,
        compression: b.compression,
        compression_level: None,
        is_control: b.is_control,
    }
}

/// Re-encodes `b` with rafka; uncompressed batches must come out byte for byte, compressed ones
/// must decode back to the same records.
fn reencode_and_compare(b: &RecordBatch) {
    let records = b.to_records().unwrap();
    let headers = header_refs(&records);
    let mut out = BytesMut::new();
    encode_batch(&meta_of(b), &refs_of(&records, &headers), &mut out).unwrap();
    if b.compression == Compression::None {
        assert_eq!(
            out[..],
            b.as_bytes()[..],
            "rafka re-encodes the peer's batch byte for byte"
        );
    } else {
        let ours = decode_batches(out.freeze()).next().unwrap().unwrap();
        assert_eq!(ours.to_records().unwrap(), records);
        assert_eq!(
            (
                ours.base_timestamp,
                ours.max_timestamp,
                ours.record_count,
                ours.attributes
            ),
            (
                b.base_timestamp,
                b.max_timestamp,
                b.record_count,
                b.attributes
            )
        );
    }
}

#[test]
fn reencodes_librdkafka_batches() {
    let mut uncompressed = 0;
    for blobs in produced().values() {
        for blob in blobs {
            for b in batches(blob) {
                uncompressed += usize::from(b.compression == Compression::None);
                reencode_and_compare(&b);
            }
        }
    }
    assert!(
        uncompressed >= 3,
        "byte-for-byte cases: golden-none, idempotent, txn"
    );
}

/// Finds which scenario a fetched batch belongs to from its first key.
fn tag_of(records: &[Record]) -> Option<String> {
    let key = records.iter().find_map(|r| r.key.clone())?;
    let key = String::from_utf8(key.to_vec()).ok()?;
    key.split("-key-")
        .next()
        .filter(|t| *t != key)
        .map(str::to_string)
}

#[test]
fn decodes_tansu_fetch_responses() {
    let mut seen_codecs = Vec::new();
    let mut markers = Vec::new();
    let mut txn_records = 0;
    let mut fetch_frames = 0;
    for f in frames().iter().filter(|f| !f.is_request && f.api_key == 1) {
        fetch_frames += 1;
        for (_, high_watermark, blob) in fetch_records(f) {
            for b in batches(&blob) {
                assert!(b.next_offset() <= high_watermark);
                reencode_and_compare(&b);
                let records = b.to_records().unwrap();
                if b.is_control {
                    assert!(b.is_transactional);
                    markers.extend(records.iter().map(|r| r.control().unwrap()));
                    continue;
                }
                if b.is_transactional {
                    txn_records += records.len();
                    continue;
                }
                if let Some(tag) = tag_of(&records) {
                    if let Some(name) = CODECS.iter().find(|c| **c == tag) {
                        assert_eq!(
                            b.compression,
                            codec(name),
                            "Tansu keeps the producer's codec"
                        );
                        matches_expected(&records, &expected_records(name, true));
                        seen_codecs.push(tag);
                    }
                }
            }
        }
    }
    assert!(fetch_frames >= 1);
    seen_codecs.sort();
    seen_codecs.dedup();
    assert_eq!(
        seen_codecs.len(),
        CODECS.len(),
        "fetched every codec: {seen_codecs:?}"
    );
    assert_eq!(txn_records, 6);
    assert!(
        markers
            .iter()
            .any(|m| matches!(m, ControlRecord::Commit { .. })),
        "{markers:?}"
    );
    assert!(
        markers
            .iter()
            .any(|m| matches!(m, ControlRecord::Abort { .. })),
        "{markers:?}"
    );
}

#[test]
fn agrees_with_kafka_protocol_on_every_captured_batch() {
    let mut blobs: Vec<Bytes> = produced().into_values().flatten().collect();
    for f in frames().iter().filter(|f| !f.is_request && f.api_key == 1) {
        blobs.extend(fetch_records(f).into_iter().map(|(_, _, b)| b));
    }
    let mut checked = 0;
    for blob in blobs {
        for b in batches(&blob) {
            let mut raw = b.as_bytes().clone();
            let theirs = RecordBatchDecoder::decode(&mut raw).unwrap();
            let ours = b.to_records().unwrap();
            assert_eq!(theirs.records.len(), ours.len());
            for (t, o) in theirs.records.iter().zip(&ours) {
                assert_eq!((t.offset, t.timestamp), (o.offset, o.timestamp));
                assert_eq!((&t.key, &t.value), (&o.key, &o.value));
                assert_eq!(t.control, b.is_control);
                assert_eq!(t.transactional, b.is_transactional);
                assert_eq!(
                    (t.producer_id, t.producer_epoch),
                    (b.producer_id, b.producer_epoch)
                );
                // kafka-protocol keeps headers in a map, so only the last of duplicate keys
                for h in &o.headers {
                    assert!(t.headers.keys().any(|k| k.as_str() == h.key_str()));
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 10, "{checked}");
}
