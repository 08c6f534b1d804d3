//! The guard against `kafka-protocol`'s own encoder: every API and version rafka speaks, with
//! empty and fully populated values; F1 and hand-made oversized counts; random corruption.

mod fill;

use std::collections::BTreeMap;

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Encodable, StrBytes};

use super::*;
use crate::request::{decode_body, decode_response, KafkaRequest, SUPPORTED_APIS};

fn s(x: &'static str) -> StrBytes {
    StrBytes::from_static_str(x)
}

fn b() -> Bytes {
    Bytes::from_static(b"\x01\x02\x03")
}

/// An unknown tagged field (tag 99) in flexible versions, where the decoder must skip it.
fn unknown(version: i16, flexible: i16) -> BTreeMap<i32, Bytes> {
    let mut m = BTreeMap::new();
    if version >= flexible {
        m.insert(99, Bytes::from_static(b"tag"));
    }
    m
}

fn encode<M: Encodable>(m: &M, version: i16, what: &str) -> BytesMut {
    let mut buf = BytesMut::new();
    m.encode(&mut buf, version)
        .unwrap_or_else(|e| panic!("{what}: kafka-protocol refuses to encode: {e}"));
    buf
}

/// Encodes `m` at `version`, then asserts the walk takes exactly its bytes (with and without
/// trailing bytes), refuses every strict prefix, and that `decode_body` decodes it to the same
/// bytes.
fn assert_walks<R: KafkaRequest>(m: &R::Response, version: i16, label: &str) -> usize
where
    R::Response: PartialEq + std::fmt::Debug,
{
    let what = format!("{} v{version} ({label})", R::NAME);
    let buf = encode(m, version, &what);
    let schema = <R::Response as GuardedResponse>::SCHEMA;
    assert_eq!(schema.api_key(), R::KEY, "{what}");
    assert_eq!(schema.name(), R::NAME, "{what}");
    let n = walk_response(schema, version, &buf).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(n, buf.len(), "{what}: walk length");
    let mut trailing = buf.clone();
    trailing.put_slice(b"trailing");
    assert_eq!(
        walk_response(schema, version, &trailing).unwrap(),
        buf.len(),
        "{what}"
    );
    for cut in 0..buf.len() {
        assert!(
            walk_response(schema, version, &buf[..cut]).is_err(),
            "{what}: prefix of {cut} bytes accepted"
        );
    }
    let decoded = decode_body::<R::Response>(&mut buf.clone().freeze(), version, R::NAME)
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    // Fields the version does not carry come back as defaults, so compare bytes, not values.
    assert_eq!(encode(&decoded, version, &what), buf, "{what}: round trip");
    buf.len()
}

fn every_version<R: KafkaRequest>(full: fn(i16) -> R::Response) -> usize
where
    R::Response: PartialEq + std::fmt::Debug + Default,
{
    let mut checked = 0;
    for version in R::SUPPORTED.min..=R::SUPPORTED.max {
        let empty = assert_walks::<R>(&R::Response::default(), version, "default");
        let filled = assert_walks::<R>(&full(version), version, "populated");
        assert!(
            filled >= empty,
            "{} v{version}: populated value is not bigger",
            R::NAME
        );
        checked += 1;
    }
    checked
}

/// Encodes `m` at `version` behind a response header: a frame payload for `decode_response`.
fn frame<R: KafkaRequest>(m: &R::Response, version: i16) -> Vec<u8> {
    let mut buf = BytesMut::new();
    crate::header::encode_response_header(
        7,
        <R::Response as kafka_protocol::protocol::HeaderVersion>::header_version(version),
        &mut buf,
    );
    m.encode(&mut buf, version).unwrap();
    buf.to_vec()
}

/// Every version's populated frame, for the corruption test.
fn frames<R: KafkaRequest>(full: fn(i16) -> R::Response) -> Vec<Frame> {
    (R::SUPPORTED.min..=R::SUPPORTED.max)
        .map(|version| Frame {
            bytes: frame::<R>(&full(version), version),
            key: R::KEY,
            version,
            decode: decode_and_rewalk::<R>,
        })
        .collect()
}

/// Decodes a frame and, when it decodes, walks the value's own re-encoding: whatever
/// kafka-protocol accepts, the guard must walk to the end once it is encoded cleanly.
fn decode_and_rewalk<R: KafkaRequest>(bytes: Vec<u8>, version: i16) -> Result<(), WireError> {
    let (_, body) = decode_response::<R>(Bytes::from(bytes), version)?;
    let mut out = BytesMut::new();
    if body.encode(&mut out, version).is_ok() && body.compute_size(version).ok() == Some(out.len())
    {
        assert_eq!(
            check_response::<R::Response>(&out, version, R::NAME),
            Ok(out.len()),
            "{} v{version}: re-encoded {:?}",
            R::NAME,
            &out[..]
        );
    }
    Ok(())
}

struct Frame {
    bytes: Vec<u8>,
    key: i16,
    version: i16,
    decode: fn(Vec<u8>, i16) -> Result<(), WireError>,
}

macro_rules! all_apis {
    ($($req:ident => $fill:path,)*) => {
        /// `(API key, versions checked)` for every API in the table below.
        fn check_all_apis() -> Vec<(i16, usize)> {
            vec![$( (<$req as kafka_protocol::protocol::Request>::KEY, every_version::<$req>($fill)), )*]
        }

        /// A populated frame of every API and version.
        fn all_frames() -> Vec<Frame> {
            let mut all = Vec::new();
            $( all.extend(frames::<$req>($fill)); )*
            all
        }

        /// Every array of every schema, in every version rafka speaks, has elements of at
        /// least one byte, so a count is always bounded by the bytes left.
        fn check_min_sizes() {
            $(
                let schema = <<$req as kafka_protocol::protocol::Request>::Response as GuardedResponse>::SCHEMA;
                for v in <$req as KafkaRequest>::SUPPORTED.min..=<$req as KafkaRequest>::SUPPORTED.max {
                    assert_min_sizes(schema.name, schema.body, v, schema.is_flexible(v));
                }
            )*
        }
    };
}

fn assert_min_sizes(api: &str, fields: &'static [Field], version: i16, flexible: bool) {
    let carried = |f: &&Field| f.in_version(version) && (f.tag.is_none() || flexible);
    for f in fields.iter().filter(carried) {
        let mut ty = &f.ty;
        while let Ty::Array(elem) = ty {
            assert!(
                min_size(elem, version, flexible) >= 1,
                "{api} v{version}: {} has zero-size elements",
                f.name
            );
            ty = elem;
        }
        if let Ty::Struct(inner) | Ty::OptionStruct(inner) = ty {
            assert_min_sizes(api, inner, version, flexible);
        }
    }
}

all_apis! {
        ProduceRequest => fill::produce_produce_response,
        FetchRequest => fill::fetch_fetch_response,
        ListOffsetsRequest => fill::list_offsets_list_offsets_response,
        MetadataRequest => fill::metadata_metadata_response,
        OffsetCommitRequest => fill::offset_commit_offset_commit_response,
        OffsetFetchRequest => fill::offset_fetch_offset_fetch_response,
        FindCoordinatorRequest => fill::find_coordinator_find_coordinator_response,
        JoinGroupRequest => fill::join_group_join_group_response,
        HeartbeatRequest => fill::heartbeat_heartbeat_response,
        LeaveGroupRequest => fill::leave_group_leave_group_response,
        SyncGroupRequest => fill::sync_group_sync_group_response,
        DescribeGroupsRequest => fill::describe_groups_describe_groups_response,
        ListGroupsRequest => fill::list_groups_list_groups_response,
        SaslHandshakeRequest => fill::sasl_handshake_sasl_handshake_response,
        ApiVersionsRequest => fill::api_versions_api_versions_response,
        CreateTopicsRequest => fill::create_topics_create_topics_response,
        DeleteTopicsRequest => fill::delete_topics_delete_topics_response,
        DeleteRecordsRequest => fill::delete_records_delete_records_response,
        InitProducerIdRequest => fill::init_producer_id_init_producer_id_response,
        AddPartitionsToTxnRequest => fill::add_partitions_to_txn_add_partitions_to_txn_response,
        AddOffsetsToTxnRequest => fill::add_offsets_to_txn_add_offsets_to_txn_response,
        EndTxnRequest => fill::end_txn_end_txn_response,
        TxnOffsetCommitRequest => fill::txn_offset_commit_txn_offset_commit_response,
        DescribeConfigsRequest => fill::describe_configs_describe_configs_response,
        SaslAuthenticateRequest => fill::sasl_authenticate_sasl_authenticate_response,
        DeleteGroupsRequest => fill::delete_groups_delete_groups_response,
        DescribeClusterRequest => fill::describe_cluster_describe_cluster_response,
        OffsetForLeaderEpochRequest => fill::offset_for_leader_epoch_offset_for_leader_epoch_response,
        CreatePartitionsRequest => fill::create_partitions_create_partitions_response,
        OffsetDeleteRequest => fill::offset_delete_offset_delete_response,
        AlterConfigsRequest => fill::alter_configs_alter_configs_response,
        IncrementalAlterConfigsRequest => fill::incremental_alter_configs_incremental_alter_configs_response,
        DescribeUserScramCredentialsRequest => fill::describe_user_scram_credentials_describe_user_scram_credentials_response,
        AlterUserScramCredentialsRequest => fill::alter_user_scram_credentials_alter_user_scram_credentials_response,
        ConsumerGroupHeartbeatRequest => fill::consumer_group_heartbeat_consumer_group_heartbeat_response,
        ConsumerGroupDescribeRequest => fill::consumer_group_describe_consumer_group_describe_response,
}

#[test]
fn every_api_and_version_walks_exactly_what_kafka_protocol_encodes() {
    let checked = check_all_apis();
    for (key, range) in SUPPORTED_APIS {
        let versions = checked
            .iter()
            .find(|(k, _)| k == key)
            .unwrap_or_else(|| panic!("API {key} not checked"))
            .1;
        assert_eq!(versions, (range.max - range.min + 1) as usize, "API {key}");
        assert!(response_schema(*key).is_some(), "API {key} has no schema");
    }
    assert_eq!(checked.len(), SUPPORTED_APIS.len());
}

#[test]
fn array_elements_take_at_least_one_byte() {
    check_min_sizes();
}

/// The reproducer of finding F1 (docs/fuzzing.md): fuzz selector 0x61 (Fetch v7), then the
/// frame payload. Its topic count asks for 1,735,355,492 topics in 36 bytes; kafka-protocol
/// alone aborted the process on it.
const F1_FETCH_V7: &[u8] = &[
    0x61, 0x00, 0x00, 0x45, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x0d, 0x67,
    0x6f, 0x6c, 0x64, 0x65, 0x6e, 0x2d, 0x67, 0x72, 0x6f, 0x00, 0x0b, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x02, 0x00, 0x00, 0x00, 0x75, 0x70, 0x02, 0x0c, 0x67, 0x6f, 0x6c, 0x64, 0x65, 0x6e, 0x2d,
    0x00, 0x6e, 0x6f, 0x6e, 0x65, 0x05, 0x02,
];

#[test]
fn f1_reproducer_is_a_typed_error() {
    let err =
        decode_response::<FetchRequest>(Bytes::from_static(&F1_FETCH_V7[1..]), 7).unwrap_err();
    assert_eq!(
        err,
        WireError::LengthExceedsBody {
            api: "Fetch",
            version: 7,
            field: "responses",
            count: 0x676f_6c64,
            // topic name length (2) + partitions count (4) per topic
            needed: 0x676f_6c64 * 6,
            remaining: 36,
        }
    );
    assert!(
        err.to_string()
            .contains("Fetch v7: responses claims 1735355492"),
        "{err}"
    );
}

/// Metadata v1 (int32 counts) and v12 (compact counts) bodies whose broker array claims
/// `i32::MAX` and `u32::MAX - 1` elements.
#[test]
fn huge_counts_in_both_array_styles() {
    // v1: brokers count, nothing after it.
    let mut v1 = vec![0, 0, 0, 1];
    v1.extend_from_slice(&i32::MAX.to_be_bytes());
    let err = decode_response::<MetadataRequest>(Bytes::from(v1), 1).unwrap_err();
    assert!(
        matches!(err, WireError::LengthExceedsBody { field: "brokers", count, remaining: 0, .. } if count == i32::MAX as u64),
        "{err:?}"
    );
    // v12: header v1 (correlation id, empty tagged fields), throttle time, then brokers as a
    // compact count of 0xffff_ffff (u32::MAX - 1 elements).
    let mut v12 = vec![0, 0, 0, 1, 0, 0, 0, 0, 0];
    v12.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]);
    v12.extend_from_slice(&[0; 8]);
    let err = decode_response::<MetadataRequest>(Bytes::from(v12), 12).unwrap_err();
    assert!(
        matches!(err, WireError::LengthExceedsBody { field: "brokers", count, remaining: 8, .. } if count == u64::from(u32::MAX - 1)),
        "{err:?}"
    );
    // A count that fits the bytes but not the element size: 3 brokers of at least 11 bytes
    // (node id 4, host 1, port 4, rack 1, tagged fields 1) in 20 bytes.
    let mut v12 = vec![0, 0, 0, 1, 0, 0, 0, 0, 0, 4];
    v12.extend_from_slice(&[0; 20]);
    let err = decode_response::<MetadataRequest>(Bytes::from(v12), 12).unwrap_err();
    assert!(
        matches!(
            err,
            WireError::LengthExceedsBody {
                field: "brokers",
                count: 3,
                needed: 33,
                remaining: 20,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn huge_string_bytes_and_tagged_lengths() {
    let schema = response_schema(ApiKey::SyncGroup as i16).unwrap();
    // SyncGroup v3: throttle, error code, assignment bytes of i32::MAX.
    let mut body = vec![0; 6];
    body.extend_from_slice(&i32::MAX.to_be_bytes());
    let err = walk_response(schema, 3, &body).unwrap_err();
    assert!(
        matches!(
            err,
            WireError::LengthExceedsBody {
                field: "assignment",
                ..
            }
        ),
        "{err:?}"
    );
    // SyncGroup v5: protocol type as a compact string of 1000 bytes in 3.
    let mut body = vec![0; 6];
    body.extend_from_slice(&[0xe9, 0x07, 0, 0, 0]);
    let err = walk_response(schema, 5, &body).unwrap_err();
    assert!(
        matches!(
            err,
            WireError::LengthExceedsBody {
                field: "protocol_type",
                count: 1000,
                ..
            }
        ),
        "{err:?}"
    );
    // Heartbeat v4: an unknown tagged field of u32::MAX bytes.
    let schema = response_schema(ApiKey::Heartbeat as i16).unwrap();
    let body = [0, 0, 0, 0, 0, 0, 1, 99, 0xff, 0xff, 0xff, 0xff, 0x0f, 0];
    assert!(matches!(
        walk_response(schema, 4, &body),
        Err(WireError::Protocol { .. })
    ));
    // ApiVersions v3: a known tagged field (supported features) is parsed in place whatever
    // its size says, so a huge count inside it is caught.
    let schema = response_schema(ApiKey::ApiVersions as i16).unwrap();
    let body = [0, 0, 1, 0, 0, 0, 0, 1, 0, 1, 0xff, 0xff, 0xff, 0xff, 0x0f];
    assert!(
        matches!(
            walk_response(schema, 3, &body),
            Err(WireError::LengthExceedsBody {
                field: "supported_features",
                ..
            })
        ),
        "{:?}",
        walk_response(schema, 3, &body)
    );
    // Over-long varint and negative lengths.
    let schema = response_schema(ApiKey::SyncGroup as i16).unwrap();
    let mut body = vec![0; 6];
    body.extend_from_slice(&[0xff; 6]);
    assert!(matches!(
        walk_response(schema, 5, &body),
        Err(WireError::Protocol { .. })
    ));
    let mut body = vec![0; 6];
    body.extend_from_slice(&(-2i32).to_be_bytes());
    assert!(matches!(
        walk_response(schema, 3, &body),
        Err(WireError::Protocol { .. })
    ));
}

/// A tiny deterministic generator, so the corruption test needs no extra dependency and fails
/// the same way every run.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Random corruption of valid frames of every API and version never panics or aborts: each
/// decode is `Ok` or a typed error, and what decodes re-encodes to bytes the guard walks to the
/// end. Counts are the favourite target (bytes set to 0x7f/0xff).
#[test]
fn corrupted_frames_never_abort() {
    let frames = all_frames();
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut refused = 0;
    for round in 0..40_000 {
        let f = &frames[round % frames.len()];
        let mut bytes = f.bytes.clone();
        for _ in 0..1 + rng.below(3) {
            let i = rng.below(bytes.len());
            match rng.below(5) {
                0 => bytes[i] = 0xff,
                1 => bytes[i] = 0x7f,
                2 => bytes[i] ^= 1 << rng.below(8),
                3 => bytes[i] = rng.next() as u8,
                _ => bytes.truncate(i),
            }
            if bytes.is_empty() {
                break;
            }
        }
        if (f.decode)(bytes, f.version).is_err() {
            refused += 1;
        }
    }
    assert!(refused > 10_000, "only {refused} corrupted frames refused");
}

/// Found by the fuzzer's re-encode check: an unknown tag above 2^31 (a negative `i32` key in
/// kafka-protocol). Guard and decoder agree on the frame; it is kafka-protocol's encoder that
/// then counts the tag but does not write it (it writes keys `0..` only), so the re-encoded
/// bytes are shorter than its own `compute_size` and are not the message.
#[test]
fn unknown_tag_above_2_31() {
    let frame: &[u8] = &[
        0, 45, 110, 111, 110, 101, 2, 34, 0, 0, 0, 0, 0, 0, 0, 0, 234, 0, 4, 223, 5, 5, 5, 0, 0, 0,
        0, 43, 0, 253, 255, 255, 255, 8, 1, 0, 11, 0, 37, 0, 22, 0, 110,
    ];
    let (_, body) = decode_response::<ApiVersionsRequest>(Bytes::from_static(frame), 3).unwrap();
    assert!(body.unknown_tagged_fields.contains_key(&-1_879_048_195));
    let mut out = BytesMut::new();
    body.encode(&mut out, 3).unwrap();
    // The dropped field: tag (5 bytes), size (1), value (1).
    assert_eq!(body.compute_size(3).unwrap(), out.len() + 7);
}

/// Seeds for the `response_guard` fuzz target (docs/fuzzing.md): `[API index in
/// SUPPORTED_APIS, version - lowest version, body...]` of every populated frame.
#[test]
#[ignore = "writes files; RAFKA_FUZZ_SEEDS=<dir>"]
fn write_fuzz_seeds() {
    let Some(dir) = std::env::var_os("RAFKA_FUZZ_SEEDS") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    for f in all_frames() {
        let index = SUPPORTED_APIS
            .iter()
            .position(|(k, _)| *k == f.key)
            .unwrap();
        let range = SUPPORTED_APIS[index].1;
        let schema = response_schema(f.key).unwrap();
        // Response header v0 is the correlation id; v1 adds an empty tagged-field section.
        let header = if schema.is_flexible(f.version) && f.key != ApiKey::ApiVersions as i16 {
            5
        } else {
            4
        };
        let mut seed = vec![index as u8, (f.version - range.min) as u8];
        seed.extend_from_slice(&f.bytes[header..]);
        let name = format!("seed-{}-v{}", schema.name(), f.version);
        std::fs::write(dir.join(name), seed).unwrap();
    }
}
