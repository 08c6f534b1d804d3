//! Unit tests of the batch codec against hand-computed bytes.

use bytes::{Bytes, BytesMut};

use super::*;

/// One record (ts 1_700_000_000_000, key "k", value "v", header "h" = null) in a plain
/// producer batch. CRC-32C computed independently with a bitwise reference implementation.
const GOLDEN: &str = concat!(
    "0000000000000000", // baseOffset 0
    "0000003d",         // batchLength 61
    "ffffffff",         // partitionLeaderEpoch -1
    "02",               // magic
    "ecc46c11",         // crc
    "0000",             // attributes
    "00000000",         // lastOffsetDelta
    "0000018bcfe56800", // baseTimestamp
    "0000018bcfe56800", // maxTimestamp
    "ffffffffffffffff", // producerId
    "ffff",             // producerEpoch
    "ffffffff",         // baseSequence
    "00000001",         // recordCount
    "16",               // record length 11
    "00",               // attributes
    "00",               // timestampDelta 0
    "00",               // offsetDelta 0
    "026b",             // key "k"
    "0276",             // value "v"
    "02",               // 1 header
    "0268",             // header key "h"
    "01",               // header value null
);

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

const TS: i64 = 1_700_000_000_000;

fn golden_record<'a>(headers: &'a [RecordHeaderRef<'a>]) -> RecordRef<'a> {
    RecordRef {
        timestamp: TS,
        key: Some(b"k"),
        value: Some(b"v"),
        headers,
    }
}

const H: [RecordHeaderRef<'static>; 1] = [RecordHeaderRef {
    key: "h",
    value: None,
}];

#[test]
fn encode_matches_golden_bytes() {
    let mut out = BytesMut::new();
    encode_batch(&BatchMeta::default(), &[golden_record(&H)], &mut out).unwrap();
    assert_eq!(out[..], hex(GOLDEN)[..]);

    let mut b = BatchBuilder::new(TS);
    assert_eq!(b.append(&golden_record(&H)), 12);
    assert_eq!(b.size_in_bytes(), 73);
    assert_eq!(b.record_count(), 1);
    let mut out2 = BytesMut::from(&b"prefix"[..]);
    b.finish(&BatchMeta::default(), &mut out2).unwrap();
    assert_eq!(&out2[..6], b"prefix");
    assert_eq!(out2[6..], hex(GOLDEN)[..]);
}

#[test]
fn decode_golden_bytes() {
    let batches: Vec<_> = decode_batches(Bytes::from(hex(GOLDEN)))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(batches.len(), 1);
    let b = &batches[0];
    assert_eq!(b.base_offset, 0);
    assert_eq!(b.magic, 2);
    assert_eq!(b.crc, 0xecc4_6c11);
    assert_eq!(b.partition_leader_epoch, -1);
    assert_eq!(b.last_offset(), 0);
    assert_eq!(b.next_offset(), 1);
    assert_eq!(b.base_timestamp, TS);
    assert_eq!(b.max_timestamp, TS);
    assert_eq!(b.producer_id, -1);
    assert_eq!(b.producer_epoch, -1);
    assert_eq!(b.base_sequence, -1);
    assert_eq!(b.compression, Compression::None);
    assert_eq!(b.timestamp_type, TimestampType::CreateTime);
    assert!(!b.is_transactional && !b.is_control && !b.is_legacy());
    assert_eq!(b.record_count, 1);
    assert_eq!(b.size_in_bytes(), 73);
    let records = b.to_records().unwrap();
    assert_eq!(
        records,
        vec![Record {
            offset: 0,
            timestamp: TS,
            key: Some(Bytes::from_static(b"k")),
            value: Some(Bytes::from_static(b"v")),
            headers: vec![RecordHeader {
                key: Bytes::from_static(b"h"),
                value: None
            }],
        }]
    );
    assert_eq!(records[0].headers[0].key_str(), "h");
}

#[test]
fn decoded_slices_share_the_input_buffer() {
    let input = Bytes::from(hex(GOLDEN));
    let range = input.as_ptr() as usize..input.as_ptr() as usize + input.len();
    let batch = decode_batches(input.clone()).next().unwrap().unwrap();
    let rec = batch.records().unwrap().next().unwrap().unwrap();
    assert!(range.contains(&(rec.key.unwrap().as_ptr() as usize)));
    assert!(range.contains(&(rec.value.unwrap().as_ptr() as usize)));
    assert!(range.contains(&(rec.headers[0].key.as_ptr() as usize)));
}

#[test]
fn every_single_bit_flip_is_caught_or_harmless() {
    let good = hex(GOLDEN);
    for i in 0..good.len() {
        for bit in 0..8 {
            let mut bad = good.clone();
            bad[i] ^= 1 << bit;
            let results: Vec<_> = decode_batches(Bytes::from(bad)).collect();
            match i {
                // base offset: not covered by the CRC, still a valid batch
                0..=7 => assert!(results[0].is_ok(), "byte {i}"),
                // batch length: the batch becomes partial (ignored) or malformed
                8..=11 => assert!(results.iter().all(|r| r.is_err()), "byte {i}"),
                // leader epoch: not covered by the CRC either
                12..=15 => assert!(results[0].is_ok(), "byte {i}"),
                16 => assert!(
                    matches!(
                        results[0],
                        Err(WireError::UnsupportedMagic(_))
                            | Err(WireError::Truncated { .. })
                            | Err(WireError::CrcMismatch { .. })
                    ),
                    "byte {i}: {:?}",
                    results[0]
                ),
                _ => assert!(
                    matches!(results[0], Err(WireError::CrcMismatch { .. })),
                    "byte {i}"
                ),
            }
        }
    }
}

#[test]
fn truncated_input_never_panics_and_partial_batches_are_ignored() {
    let good = hex(GOLDEN);
    for n in 0..good.len() {
        let mut it = decode_batches(Bytes::copy_from_slice(&good[..n]));
        assert!(it.next().is_none(), "prefix {n}");
        assert_eq!(it.partial_bytes(), n);
    }
    // a whole batch then half of another: the whole one only
    let mut two = good.clone();
    two.extend_from_slice(&good[..40]);
    let mut it = decode_batches(Bytes::from(two));
    assert!(it.next().unwrap().is_ok());
    assert!(it.next().is_none());
    assert_eq!(it.partial_bytes(), 40);
}

/// Re-signs a modified batch so tests can reach the checks behind the CRC.
fn resign(b: &mut [u8]) {
    let crc = crc32c::crc32c(&b[21..]);
    b[17..21].copy_from_slice(&crc.to_be_bytes());
}

#[test]
fn malformed_records_behind_a_valid_crc() {
    let good = hex(GOLDEN);
    let first_err = |bytes: Vec<u8>| -> WireError {
        let batch = decode_batches(Bytes::from(bytes)).next().unwrap();
        match batch {
            Err(e) => e,
            Ok(b) => match b.records() {
                Err(e) => e,
                Ok(mut it) => it.find_map(Result::err).expect("an error"),
            },
        }
    };
    // record length longer than the data
    let mut b = good.clone();
    b[61] = 0x7e;
    resign(&mut b);
    assert!(matches!(
        first_err(b),
        WireError::LengthOverflow { what: "record", .. }
    ));
    // negative record length
    let mut b = good.clone();
    b[61] = 0x03;
    resign(&mut b);
    assert!(matches!(
        first_err(b),
        WireError::NegativeLength { what: "record", .. }
    ));
    // key length -2
    let mut b = good.clone();
    b[65] = 0x03;
    resign(&mut b);
    assert!(matches!(first_err(b), WireError::NegativeLength { .. }));
    // header count -5
    let mut b = good.clone();
    b[69] = 0x09;
    resign(&mut b);
    assert!(matches!(
        first_err(b),
        WireError::NegativeLength {
            what: "header count",
            ..
        }
    ));
    // header key not UTF-8
    let mut b = good.clone();
    b[71] = 0xff;
    resign(&mut b);
    assert!(matches!(first_err(b), WireError::InvalidUtf8 { .. }));
    // record count 2 with one record
    let mut b = good.clone();
    b[60] = 2;
    resign(&mut b);
    assert!(matches!(first_err(b), WireError::Truncated { .. }));
    // record count 0 with one record's bytes behind it
    let mut b = good.clone();
    b[60] = 0;
    resign(&mut b);
    assert!(matches!(first_err(b), WireError::Invalid { .. }));
    // negative record count
    let mut b = good.clone();
    b[57] = 0xff;
    resign(&mut b);
    assert!(matches!(
        first_err(b),
        WireError::NegativeLength {
            what: "record count",
            ..
        }
    ));
    // compression id 5
    let mut b = good.clone();
    b[22] = 5;
    resign(&mut b);
    assert_eq!(first_err(b), WireError::UnknownCompression(5));
    // gzip bit set on uncompressed data
    let mut b = good.clone();
    b[22] = 1;
    resign(&mut b);
    if cfg!(feature = "gzip") {
        assert!(matches!(first_err(b), WireError::Compression(_)));
    } else {
        assert_eq!(first_err(b), WireError::CodecDisabled { codec: "gzip" });
    }
    // record length one byte longer than its fields
    let mut b = good.clone();
    b[61] = 0x18; // 12
    b.push(0);
    b[11] += 1;
    resign(&mut b);
    assert!(matches!(
        first_err(b),
        WireError::Truncated { .. } | WireError::Invalid { .. }
    ));
    // negative batch length
    let mut b = good.clone();
    b[8] = 0xff;
    assert!(matches!(first_err(b), WireError::NegativeLength { .. }));
    // magic 3
    let mut b = good;
    b[16] = 3;
    assert_eq!(first_err(b), WireError::UnsupportedMagic(3));
}

#[test]
#[cfg(feature = "zstd")]
fn attributes_and_producer_fields_round_trip() {
    let meta = BatchMeta {
        base_offset: 1234,
        partition_leader_epoch: 7,
        producer_id: 99,
        producer_epoch: 3,
        base_sequence: 42,
        is_transactional: true,
        timestamp_type: TimestampType::LogAppendTime,
        compression: Compression::Zstd,
        compression_level: Some(1),
        is_control: false,
    };
    assert_eq!(meta.attributes(), 0x1c);
    let recs = [
        RecordRef {
            timestamp: 10,
            key: None,
            value: Some(b"a"),
            headers: &[],
        },
        RecordRef {
            timestamp: 30,
            key: Some(b""),
            value: None,
            headers: &[],
        },
        RecordRef {
            timestamp: 20,
            key: Some(b"k"),
            value: Some(b""),
            headers: &[],
        },
    ];
    let mut out = BytesMut::new();
    encode_batch(&meta, &recs, &mut out).unwrap();
    let b = decode_batches(out.freeze()).next().unwrap().unwrap();
    assert_eq!(
        (
            b.base_offset,
            b.partition_leader_epoch,
            b.producer_id,
            b.producer_epoch,
            b.base_sequence
        ),
        (1234, 7, 99, 3, 42)
    );
    assert!(b.is_transactional);
    assert_eq!(b.compression, Compression::Zstd);
    assert_eq!(b.timestamp_type, TimestampType::LogAppendTime);
    assert_eq!(
        (
            b.base_timestamp,
            b.max_timestamp,
            b.last_offset_delta,
            b.record_count
        ),
        (10, 30, 2, 3)
    );
    assert_eq!(b.next_offset(), 1237);
    let records = b.to_records().unwrap();
    // LogAppendTime: every record carries the batch's max timestamp
    assert!(records.iter().all(|r| r.timestamp == 30));
    assert_eq!(
        records.iter().map(|r| r.offset).collect::<Vec<_>>(),
        [1234, 1235, 1236]
    );
    assert_eq!(records[0].key, None);
    assert_eq!(records[1].key.as_deref(), Some(&b""[..]));
    assert_eq!(records[1].value, None);
    assert_eq!(records[2].value.as_deref(), Some(&b""[..]));
}

#[test]
fn control_batch() {
    let marker = ControlRecord::Commit {
        coordinator_epoch: 5,
    };
    let key = marker.key_bytes();
    let value = marker.value_bytes().unwrap();
    let meta = BatchMeta {
        producer_id: 1,
        producer_epoch: 0,
        is_transactional: true,
        is_control: true,
        ..BatchMeta::default()
    };
    let mut out = BytesMut::new();
    encode_batch(
        &meta,
        &[RecordRef {
            timestamp: 1,
            key: Some(&key),
            value: Some(&value),
            headers: &[],
        }],
        &mut out,
    )
    .unwrap();
    assert_eq!(out[22], 0x30);
    let b = decode_batches(out.freeze()).next().unwrap().unwrap();
    assert!(b.is_control && b.is_transactional);
    let r = b.records().unwrap().next().unwrap().unwrap();
    assert_eq!(r.control().unwrap(), marker);
}

#[test]
fn empty_batches_are_refused() {
    let mut out = BytesMut::new();
    assert!(encode_batch(&BatchMeta::default(), &[], &mut out).is_err());
    assert!(BatchBuilder::new(0)
        .finish(&BatchMeta::default(), &mut out)
        .is_err());
    assert!(out.is_empty());
}

#[test]
fn builder_reuse_and_refinish() {
    let mut b = BatchBuilder::with_capacity(TS, 1024);
    b.append(&golden_record(&H));
    let mut first = BytesMut::new();
    b.finish(&BatchMeta::default(), &mut first).unwrap();
    let mut again = BytesMut::new();
    b.finish(&BatchMeta::default(), &mut again).unwrap();
    assert_eq!(first, again);
    b.clear(TS + 5);
    assert!(b.is_empty());
    assert_eq!(b.size_in_bytes(), BATCH_HEADER_LEN);
    b.append(&RecordRef {
        timestamp: TS,
        key: None,
        value: None,
        headers: &[],
    });
    let mut out = BytesMut::new();
    b.finish(&BatchMeta::default(), &mut out).unwrap();
    let r = decode_batches(out.freeze())
        .next()
        .unwrap()
        .unwrap()
        .to_records()
        .unwrap();
    assert_eq!(r[0].timestamp, TS);
    assert_eq!(r[0].key, None);
}

const LEGACY_V0: &str = "0000000000000005000000116eebece400000000000161000000026263";
const LEGACY_V1: &str = "000000000000000600000017ee0e41ad010000000000000003e8ffffffff0000000178";

#[test]
fn legacy_plain_messages() {
    let mut blob = hex(LEGACY_V0);
    blob.extend(hex(LEGACY_V1));
    let batches: Vec<_> = decode_batches(Bytes::from(blob))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(batches.len(), 2);
    assert!(batches.iter().all(RecordBatch::is_legacy));
    assert_eq!(batches[0].magic, 0);
    let r0 = batches[0].to_records().unwrap();
    assert_eq!((r0[0].offset, r0[0].timestamp), (5, -1));
    assert_eq!(r0[0].key.as_deref(), Some(&b"a"[..]));
    assert_eq!(r0[0].value.as_deref(), Some(&b"bc"[..]));
    assert_eq!(batches[1].magic, 1);
    assert_eq!(batches[1].next_offset(), 7);
    let r1 = batches[1].to_records().unwrap();
    assert_eq!(
        (r1[0].offset, r1[0].timestamp, r1[0].key.clone()),
        (6, 1000, None)
    );
    // corrupt CRC
    let mut bad = hex(LEGACY_V1);
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert!(matches!(
        decode_batches(Bytes::from(bad)).next(),
        Some(Err(WireError::CrcMismatch { .. }))
    ));
}

/// Builds a legacy message by hand.
#[cfg(all(feature = "gzip", feature = "snappy", feature = "lz4"))]
fn legacy_message(
    offset: i64,
    magic: i8,
    attributes: i8,
    timestamp: i64,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
) -> Vec<u8> {
    let mut body = vec![magic as u8, attributes as u8];
    if magic == 1 {
        body.extend_from_slice(&timestamp.to_be_bytes());
    }
    for field in [key, value] {
        match field {
            None => body.extend_from_slice(&(-1i32).to_be_bytes()),
            Some(f) => {
                body.extend_from_slice(&(f.len() as i32).to_be_bytes());
                body.extend_from_slice(f);
            }
        }
    }
    let mut crc = crc32fast::Hasher::new();
    crc.update(&body);
    let mut m = offset.to_be_bytes().to_vec();
    m.extend_from_slice(&((body.len() + 4) as i32).to_be_bytes());
    m.extend_from_slice(&crc.finalize().to_be_bytes());
    m.extend(body);
    m
}

#[test]
#[cfg(all(feature = "gzip", feature = "snappy", feature = "lz4"))]
fn legacy_compressed_wrappers() {
    for codec in [Compression::Gzip, Compression::Snappy, Compression::Lz4] {
        // v1: inner offsets 0..3 relative; the wrapper holds the last absolute offset (102)
        let mut inner = Vec::new();
        for i in 0..3 {
            inner.extend(legacy_message(
                i,
                1,
                0,
                500 + i,
                Some(b"k"),
                Some(format!("v{i}").as_bytes()),
            ));
        }
        let mut compressed = BytesMut::new();
        compression::compress(codec, None, &inner, &mut compressed).unwrap();
        let wrapper = legacy_message(102, 1, codec.id() as i8, 999, None, Some(&compressed));
        let batch = decode_batches(Bytes::from(wrapper.clone()))
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(batch.compression, codec);
        assert_eq!(
            (batch.base_offset, batch.last_offset(), batch.record_count),
            (100, 102, 3)
        );
        let recs = batch.to_records().unwrap();
        assert_eq!(
            recs.iter()
                .map(|r| (r.offset, r.timestamp))
                .collect::<Vec<_>>(),
            [(100, 500), (101, 501), (102, 502)]
        );
        assert_eq!(recs[2].value.as_deref(), Some(&b"v2"[..]));

        // LogAppendTime wrapper: inner timestamps become the wrapper's
        let wrapper = legacy_message(
            102,
            1,
            codec.id() as i8 | 0x08,
            999,
            None,
            Some(&compressed),
        );
        let recs = decode_batches(Bytes::from(wrapper))
            .next()
            .unwrap()
            .unwrap()
            .to_records()
            .unwrap();
        assert!(recs.iter().all(|r| r.timestamp == 999));

        // v0: inner offsets are absolute
        let mut inner = Vec::new();
        for i in 0..2 {
            inner.extend(legacy_message(40 + i, 0, 0, 0, None, Some(b"x")));
        }
        let mut compressed = BytesMut::new();
        compression::compress(codec, None, &inner, &mut compressed).unwrap();
        let wrapper = legacy_message(41, 0, codec.id() as i8, 0, None, Some(&compressed));
        let recs = decode_batches(Bytes::from(wrapper))
            .next()
            .unwrap()
            .unwrap()
            .to_records()
            .unwrap();
        assert_eq!(recs.iter().map(|r| r.offset).collect::<Vec<_>>(), [40, 41]);
    }
    // nested compression is refused
    let inner = legacy_message(0, 1, 1, 0, None, Some(b"not really gzip"));
    let mut compressed = BytesMut::new();
    compression::compress(Compression::Gzip, None, &inner, &mut compressed).unwrap();
    let wrapper = legacy_message(0, 1, 1, 0, None, Some(&compressed));
    assert!(matches!(
        decode_batches(Bytes::from(wrapper)).next(),
        Some(Err(WireError::Invalid { .. }))
    ));
}

#[test]
fn compression_names() {
    for c in Compression::ALL {
        assert_eq!(c.name().parse::<Compression>().unwrap(), c);
        assert_eq!(Compression::from_id(c.id()).unwrap(), c);
    }
    assert_eq!("ZSTD".parse::<Compression>().unwrap(), Compression::Zstd);
    assert!("brotli".parse::<Compression>().is_err());
    assert_eq!(
        Compression::from_id(7),
        Err(WireError::UnknownCompression(7))
    );
}
