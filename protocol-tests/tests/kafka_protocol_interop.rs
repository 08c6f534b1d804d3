//! Both directions against kafka-protocol's record codec, for every compression type:
//! batches rafka writes decode with `RecordBatchDecoder`, and batches `RecordBatchEncoder`
//! writes decode with rafka. (kafka-protocol keeps headers in a map, so headers here have
//! unique keys.)

use bytes::{Bytes, BytesMut};
use indexmap::IndexMap;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{
    self as kp, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions,
};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use rafka_wire::records::{
    decode_batches, encode_batch, BatchMeta, Compression, RecordHeaderRef, RecordRef, TimestampType,
};

fn kp_codec(c: Compression) -> kp::Compression {
    match c {
        Compression::None => kp::Compression::None,
        Compression::Gzip => kp::Compression::Gzip,
        Compression::Snappy => kp::Compression::Snappy,
        Compression::Lz4 => kp::Compression::Lz4,
        Compression::Zstd => kp::Compression::Zstd,
    }
}

#[derive(Debug, Clone)]
struct Rec {
    timestamp_delta: i64,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    headers: Vec<(String, Option<Vec<u8>>)>,
}

fn field() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop::option::weighted(0.8, prop::collection::vec(any::<u8>(), 0..200))
}

fn rec() -> impl Strategy<Value = Rec> {
    (
        0i64..100_000,
        field(),
        field(),
        prop::collection::btree_map("[a-z]{1,6}", field(), 0..3),
    )
        .prop_map(|(timestamp_delta, key, value, headers)| Rec {
            timestamp_delta,
            key,
            value,
            headers: headers.into_iter().collect(),
        })
}

const BASE_TS: i64 = 1_700_000_000_000;

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/kafka_protocol_interop.txt",
        ))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn rafka_encodes_kafka_protocol_decodes(
        records in prop::collection::vec(rec(), 1..30),
        codec in prop::sample::select(Compression::ALL.to_vec()),
        pid in -1i64..5,
        base_offset in 0i64..1_000_000,
    ) {
        rafka_to_kafka_protocol(&records, codec, pid, base_offset)?;
    }

    #[test]
    fn kafka_protocol_encodes_rafka_decodes(
        records in prop::collection::vec(rec(), 1..30),
        codec in prop::sample::select(Compression::ALL.to_vec()),
        base_offset in 0i64..1_000_000,
    ) {
        kafka_protocol_to_rafka(&records, codec, base_offset)?;
    }
}

fn rafka_to_kafka_protocol(
    records: &[Rec],
    codec: Compression,
    pid: i64,
    base_offset: i64,
) -> Result<(), TestCaseError> {
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
            timestamp: BASE_TS + r.timestamp_delta,
            key: r.key.as_deref(),
            value: r.value.as_deref(),
            headers: h,
        })
        .collect();
    let meta = BatchMeta {
        base_offset,
        producer_id: pid,
        producer_epoch: if pid >= 0 { 1 } else { -1 },
        base_sequence: if pid >= 0 { 7 } else { -1 },
        compression: codec,
        ..BatchMeta::default()
    };
    let mut out = BytesMut::new();
    encode_batch(&meta, &refs, &mut out).unwrap();
    let set = RecordBatchDecoder::decode(&mut out.freeze()).unwrap();
    prop_assert_eq!(set.compression, kp_codec(codec));
    prop_assert_eq!(set.records.len(), records.len());
    for (i, (t, r)) in set.records.iter().zip(records).enumerate() {
        prop_assert_eq!(t.offset, base_offset + i as i64);
        prop_assert_eq!(t.timestamp, BASE_TS + r.timestamp_delta);
        prop_assert_eq!(t.key.as_deref(), r.key.as_deref());
        prop_assert_eq!(t.value.as_deref(), r.value.as_deref());
        prop_assert_eq!(t.producer_id, pid);
        if pid >= 0 {
            // kafka-protocol derives each record's sequence from the batch's base sequence
            prop_assert_eq!(t.sequence, 7 + i as i32);
        }
        let th: Vec<(String, Option<Vec<u8>>)> = t
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_ref().map(|v| v.to_vec())))
            .collect();
        prop_assert_eq!(&th, &r.headers);
    }
    Ok(())
}

fn kafka_protocol_to_rafka(
    records: &[Rec],
    codec: Compression,
    base_offset: i64,
) -> Result<(), TestCaseError> {
    let kp_records: Vec<kp::Record> = records
        .iter()
        .enumerate()
        .map(|(i, r)| kp::Record {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: -1,
            producer_id: -1,
            producer_epoch: -1,
            timestamp_type: kp::TimestampType::Creation,
            offset: base_offset + i as i64,
            sequence: -1,
            timestamp: BASE_TS + r.timestamp_delta,
            key: r.key.clone().map(Bytes::from),
            value: r.value.clone().map(Bytes::from),
            headers: r
                .headers
                .iter()
                .map(|(k, v)| (StrBytes::from_string(k.clone()), v.clone().map(Bytes::from)))
                .collect::<IndexMap<_, _>>(),
        })
        .collect();
    let mut out = BytesMut::new();
    RecordBatchEncoder::encode(
        &mut out,
        &kp_records,
        &RecordEncodeOptions {
            version: 2,
            compression: kp_codec(codec),
        },
    )
    .unwrap();
    let mut decoded = Vec::new();
    for b in decode_batches(out.freeze()) {
        let b = b.unwrap();
        prop_assert_eq!(b.compression, codec);
        prop_assert_eq!(b.timestamp_type, TimestampType::CreateTime);
        decoded.extend(b.to_records().unwrap());
    }
    prop_assert_eq!(decoded.len(), records.len());
    for (i, (d, r)) in decoded.iter().zip(records).enumerate() {
        prop_assert_eq!(d.offset, base_offset + i as i64);
        prop_assert_eq!(d.timestamp, BASE_TS + r.timestamp_delta);
        prop_assert_eq!(d.key.as_deref(), r.key.as_deref());
        prop_assert_eq!(d.value.as_deref(), r.value.as_deref());
        let dh: Vec<(String, Option<Vec<u8>>)> = d
            .headers
            .iter()
            .map(|h| {
                (
                    h.key_str().to_string(),
                    h.value.as_ref().map(|v| v.to_vec()),
                )
            })
            .collect();
        prop_assert_eq!(&dh, &r.headers);
    }
    Ok(())
}

/// A fixed set of records through both directions for every codec, so no codec depends on
/// what the random cases happen to pick.
#[test]
fn every_codec_both_ways() {
    let records: Vec<Rec> = (0..50)
        .map(|i| Rec {
            timestamp_delta: i * 37,
            key: (i % 4 != 0).then(|| format!("key-{i}").into_bytes()),
            value: (i % 9 != 0).then(|| vec![b'v'; (i as usize * 13) % 300]),
            headers: if i % 3 == 0 {
                vec![("a".into(), None), ("b".into(), Some(b"x".to_vec()))]
            } else {
                Vec::new()
            },
        })
        .collect();
    for codec in Compression::ALL {
        rafka_to_kafka_protocol(&records, codec, 3, 500).unwrap();
        rafka_to_kafka_protocol(&records, codec, -1, 0).unwrap();
        kafka_protocol_to_rafka(&records, codec, 500).unwrap();
    }
}
