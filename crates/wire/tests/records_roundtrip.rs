//! Property tests: any batch rafka encodes decodes back to the same records and metadata, for
//! every codec, with null keys/values, empty fields, duplicate header keys and null header
//! values; and no byte string makes the decoder panic.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use rafka_wire::records::{
    decode_batches, encode_batch, BatchBuilder, BatchMeta, Compression, ControlRecord,
    RecordHeaderRef, RecordRef, TimestampType,
};

#[derive(Debug, Clone)]
struct OwnedRecord {
    timestamp: i64,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    headers: Vec<(String, Option<Vec<u8>>)>,
}

fn bytes_field() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        1 => Just(None),
        1 => Just(Some(Vec::new())),
        6 => prop::collection::vec(any::<u8>(), 0..300).prop_map(Some),
    ]
}

fn header() -> impl Strategy<Value = (String, Option<Vec<u8>>)> {
    // A tiny key alphabet makes duplicate keys common.
    (
        prop_oneof![Just("a".to_string()), Just("b".to_string()), "\\PC{0,8}"],
        bytes_field(),
    )
}

fn record() -> impl Strategy<Value = OwnedRecord> {
    (
        prop_oneof![any::<i64>(), 1_600_000_000_000i64..1_800_000_000_000],
        bytes_field(),
        bytes_field(),
        prop::collection::vec(header(), 0..4),
    )
        .prop_map(|(timestamp, key, value, headers)| OwnedRecord {
            timestamp,
            key,
            value,
            headers,
        })
}

fn compression() -> impl Strategy<Value = Compression> {
    prop::sample::select(Compression::ALL.to_vec())
}

fn meta() -> impl Strategy<Value = BatchMeta> {
    (
        any::<i64>(),
        any::<i32>(),
        any::<i64>(),
        any::<i16>(),
        any::<i32>(),
        any::<bool>(),
        any::<bool>(),
        compression(),
    )
        .prop_map(
            |(base_offset, epoch, pid, pepoch, seq, txn, log_append, compression)| BatchMeta {
                base_offset,
                partition_leader_epoch: epoch,
                producer_id: pid,
                producer_epoch: pepoch,
                base_sequence: seq,
                is_transactional: txn,
                timestamp_type: if log_append {
                    TimestampType::LogAppendTime
                } else {
                    TimestampType::CreateTime
                },
                compression,
                compression_level: None,
                is_control: false,
            },
        )
}

fn encode_all(meta: &BatchMeta, records: &[OwnedRecord], out: &mut BytesMut, use_builder: bool) {
    let headers: Vec<Vec<RecordHeaderRef<'_>>> = records
        .iter()
        .map(|r| {
            r.headers
                .iter()
                .map(|(k, v)| RecordHeaderRef {
                    key: k,
                    value: v.as_deref(),
                })
                .collect()
        })
        .collect();
    let refs: Vec<RecordRef<'_>> = records
        .iter()
        .zip(&headers)
        .map(|(r, h)| RecordRef {
            timestamp: r.timestamp,
            key: r.key.as_deref(),
            value: r.value.as_deref(),
            headers: h,
        })
        .collect();
    if use_builder {
        let mut b = BatchBuilder::new(refs[0].timestamp);
        for r in &refs {
            b.append(r);
        }
        b.finish(meta, out).unwrap();
    } else {
        encode_batch(meta, &refs, out).unwrap();
    }
}

fn check_batch(
    meta: &BatchMeta,
    records: &[OwnedRecord],
    batch: &rafka_wire::records::RecordBatch,
) {
    assert_eq!(batch.base_offset, meta.base_offset);
    assert_eq!(batch.partition_leader_epoch, meta.partition_leader_epoch);
    assert_eq!(batch.producer_id, meta.producer_id);
    assert_eq!(batch.producer_epoch, meta.producer_epoch);
    assert_eq!(batch.base_sequence, meta.base_sequence);
    assert_eq!(batch.is_transactional, meta.is_transactional);
    assert_eq!(batch.is_control, meta.is_control);
    assert_eq!(batch.compression, meta.compression);
    assert_eq!(batch.timestamp_type, meta.timestamp_type);
    assert_eq!(batch.record_count as usize, records.len());
    assert_eq!(batch.last_offset_delta as usize, records.len() - 1);
    let max_ts = records.iter().map(|r| r.timestamp).max().unwrap();
    assert_eq!(batch.max_timestamp, max_ts);
    let decoded = batch.to_records().unwrap();
    // the borrowed views agree with the owned records
    let section = batch.section().unwrap();
    let views: Vec<_> = section.views().collect::<Result<_, _>>().unwrap();
    assert_eq!(views.len(), decoded.len());
    for (v, d) in views.iter().zip(&decoded) {
        assert_eq!(
            (v.offset, v.timestamp, v.key, v.value),
            (d.offset, d.timestamp, d.key.as_deref(), d.value.as_deref())
        );
        let vh: Vec<_> = v.headers().collect();
        let dh: Vec<_> = d
            .headers
            .iter()
            .map(|h| (h.key_str(), h.value.as_deref()))
            .collect();
        assert_eq!(vh, dh);
    }
    assert_eq!(decoded.len(), records.len());
    for (i, (d, r)) in decoded.iter().zip(records).enumerate() {
        assert_eq!(d.offset, meta.base_offset.wrapping_add(i as i64));
        let ts = match meta.timestamp_type {
            TimestampType::CreateTime => r.timestamp,
            TimestampType::LogAppendTime => max_ts,
        };
        assert_eq!(d.timestamp, ts);
        assert_eq!(d.key.as_deref(), r.key.as_deref());
        assert_eq!(d.value.as_deref(), r.value.as_deref());
        let h: Vec<(&str, Option<&[u8]>)> = d
            .headers
            .iter()
            .map(|h| (h.key_str(), h.value.as_deref()))
            .collect();
        let want: Vec<(&str, Option<&[u8]>)> = r
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_deref()))
            .collect();
        assert_eq!(h, want);
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 200,
        // Relative to the crate root, where cargo runs integration tests.
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/records_roundtrip.txt",
        ))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn batches_round_trip(
        batches in prop::collection::vec((meta(), prop::collection::vec(record(), 1..20), any::<bool>()), 1..4)
    ) {
        let mut out = BytesMut::new();
        for (meta, records, use_builder) in &batches {
            encode_all(meta, records, &mut out, *use_builder);
        }
        let decoded: Vec<_> = decode_batches(out.freeze()).collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(decoded.len(), batches.len());
        for ((meta, records, _), batch) in batches.iter().zip(&decoded) {
            check_batch(meta, records, batch);
        }
    }

    #[test]
    fn builder_and_encode_batch_agree(meta in meta(), records in prop::collection::vec(record(), 1..10)) {
        let meta = BatchMeta { compression: Compression::None, ..meta };
        let mut a = BytesMut::new();
        let mut b = BytesMut::new();
        encode_all(&meta, &records, &mut a, true);
        encode_all(&meta, &records, &mut b, false);
        prop_assert_eq!(a, b);
    }

    #[test]
    fn control_batches_round_trip(commit in any::<bool>(), epoch in any::<i32>(), codec in compression(), pid in 0i64..1000) {
        let marker = if commit {
            ControlRecord::Commit { coordinator_epoch: epoch }
        } else {
            ControlRecord::Abort { coordinator_epoch: epoch }
        };
        let key = marker.key_bytes();
        let value = marker.value_bytes().unwrap();
        let meta = BatchMeta { producer_id: pid, producer_epoch: 0, is_transactional: true, is_control: true, compression: codec, ..BatchMeta::default() };
        let mut out = BytesMut::new();
        encode_batch(&meta, &[RecordRef { timestamp: 0, key: Some(&key), value: Some(&value), headers: &[] }], &mut out).unwrap();
        let batch = decode_batches(out.freeze()).next().unwrap().unwrap();
        prop_assert!(batch.is_control);
        prop_assert_eq!(batch.records().unwrap().next().unwrap().unwrap().control().unwrap(), marker);
    }

    /// Arbitrary bytes, and valid batches with arbitrary corruption behind a recomputed CRC,
    /// give errors or records but never a panic.
    #[test]
    fn decoder_never_panics(
        meta in meta(),
        records in prop::collection::vec(record(), 1..5),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        garbage in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let mut out = BytesMut::new();
        encode_all(&meta, &records, &mut out, false);
        let mut bytes = out.to_vec();
        for (i, v) in flips {
            let i = i.index(bytes.len() - 21) + 21;
            bytes[i] = v;
        }
        let crc = crc32c::crc32c(&bytes[21..]);
        bytes[17..21].copy_from_slice(&crc.to_be_bytes());
        bytes.extend_from_slice(&garbage);
        for input in [bytes, garbage] {
            for b in decode_batches(Bytes::from(input)).flatten() {
                if let Ok(it) = b.records_with_limit(1 << 20) {
                    for r in it {
                        let _ = r.map(|r| r.control());
                    }
                }
            }
        }
    }
}
