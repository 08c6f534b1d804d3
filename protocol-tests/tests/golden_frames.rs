//! Whole frames captured from librdkafka and Tansu through rafka's header and request codec:
//! request headers decode, requests re-encode byte for byte with `encode_request`, responses
//! decode with `decode_response`, and cut responses fail cleanly.

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::Decodable;
use rafka_protocol_tests::{frames, Frame};
use rafka_wire::header::decode_request_header;
use rafka_wire::request::{decode_response, encode_request, peek_correlation_id, KafkaRequest};

/// What happened to one frame.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// Checked against rafka's codec.
    Checked,
    /// The version is outside what rafka speaks (librdkafka and Tansu speak newer ones).
    OutsideRafkaRange,
    /// An API rafka does not implement.
    NotRafkaApi,
}

fn request_round_trip<R: KafkaRequest + Decodable>(f: &Frame) -> Outcome {
    let mut buf = f.payload.clone();
    let header = decode_request_header(&mut buf, R::header_version(f.version)).unwrap();
    assert_eq!(
        (header.api_key, header.api_version),
        (R::KEY, f.version),
        "{}",
        f.name
    );
    assert_eq!(
        header.client_id.as_deref(),
        Some(&b"rdkafka"[..]),
        "{}",
        f.name
    );
    if !(R::SUPPORTED.min..=R::SUPPORTED.max).contains(&f.version) {
        return Outcome::OutsideRafkaRange;
    }
    let body = R::decode(&mut buf, f.version).unwrap();
    assert!(buf.is_empty(), "{}: trailing bytes", f.name);
    let mut out = BytesMut::new();
    encode_request(
        &body,
        f.version,
        header.correlation_id,
        Some("rdkafka"),
        &mut out,
    )
    .unwrap();
    assert_eq!(
        &out[..4],
        &(f.payload.len() as i32).to_be_bytes(),
        "{}",
        f.name
    );
    assert_eq!(
        out[4..],
        f.payload[..],
        "{}: rafka re-encodes librdkafka's request byte for byte",
        f.name
    );
    Outcome::Checked
}

fn response_decodes<R: KafkaRequest>(f: &Frame) -> Outcome {
    if !(R::SUPPORTED.min..=R::SUPPORTED.max).contains(&f.version) {
        return Outcome::OutsideRafkaRange;
    }
    let (corr, _body) = decode_response::<R>(f.payload.clone(), f.version)
        .unwrap_or_else(|e| panic!("{}: {e}", f.name));
    assert_eq!(corr, peek_correlation_id(&f.payload).unwrap());
    // Every strict prefix either fails with a typed error or (for cuts inside trailing tagged
    // fields) still decodes; none may panic.
    for n in 0..f.payload.len() {
        let _ = decode_response::<R>(Bytes::copy_from_slice(&f.payload[..n]), f.version);
    }
    Outcome::Checked
}

macro_rules! dispatch {
    ($f:expr, $($key:literal => $req:ty),* $(,)?) => {
        match $f.api_key {
            $($key => if $f.is_request { request_round_trip::<$req>($f) } else { response_decodes::<$req>($f) },)*
            _ => Outcome::NotRafkaApi,
        }
    };
}

fn check(f: &Frame) -> Outcome {
    dispatch!(f,
        0 => ProduceRequest,
        1 => FetchRequest,
        2 => ListOffsetsRequest,
        3 => MetadataRequest,
        8 => OffsetCommitRequest,
        9 => OffsetFetchRequest,
        10 => FindCoordinatorRequest,
        11 => JoinGroupRequest,
        12 => HeartbeatRequest,
        13 => LeaveGroupRequest,
        14 => SyncGroupRequest,
        18 => ApiVersionsRequest,
        22 => InitProducerIdRequest,
        24 => AddPartitionsToTxnRequest,
        26 => EndTxnRequest,
    )
}

#[test]
fn captured_frames_through_rafkas_codec() {
    let mut checked = Vec::new();
    let mut outside = Vec::new();
    for f in frames() {
        match check(&f) {
            Outcome::Checked => checked.push(f.name),
            Outcome::OutsideRafkaRange => outside.push(f.name),
            Outcome::NotRafkaApi => {}
        }
    }
    println!(
        "checked {} frames: {checked:?}\noutside rafka's versions: {outside:?}",
        checked.len()
    );
    // ApiVersions, Metadata, FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
    // InitProducerId, AddPartitionsToTxn, EndTxn, ListOffsets, Produce requests at least.
    assert!(checked.len() >= 15, "{checked:?}");
}

#[test]
fn request_headers_of_every_frame_decode() {
    for f in frames().iter().filter(|f| f.is_request) {
        let key = ApiKey::try_from(f.api_key).unwrap();
        let mut buf = f.payload.clone();
        let header =
            decode_request_header(&mut buf, key.request_header_version(f.version)).unwrap();
        assert_eq!(
            (header.api_key, header.api_version),
            (f.api_key, f.version),
            "{}",
            f.name
        );
    }
}

#[test]
fn tansu_api_versions_response_lists_the_apis_brokers_md_documents() {
    let f = frames()
        .into_iter()
        .find(|f| !f.is_request && f.api_key == 18)
        .expect("an ApiVersions response");
    let (_, resp) = decode_response::<ApiVersionsRequest>(f.payload.clone(), f.version).unwrap();
    assert_eq!(resp.error_code, 0);
    let range = |key: i16| {
        resp.api_keys
            .iter()
            .find(|k| k.api_key == key)
            .map(|k| (k.min_version, k.max_version))
    };
    assert_eq!(range(0), Some((0, 11)), "Produce");
    assert_eq!(range(1), Some((0, 17)), "Fetch");
    assert_eq!(range(22), Some((0, 5)), "InitProducerId");
    assert_eq!(range(23), None, "no OffsetForLeaderEpoch");
}

#[test]
fn fetch_response_header_matches_kafka_protocol() {
    for f in frames().iter().filter(|f| !f.is_request) {
        let mut buf = f.payload.clone();
        let key = ApiKey::try_from(f.api_key).unwrap();
        let theirs =
            ResponseHeader::decode(&mut buf, key.response_header_version(f.version)).unwrap();
        let mut ours = f.payload.clone();
        let corr = rafka_wire::header::decode_response_header(
            &mut ours,
            key.response_header_version(f.version),
        )
        .unwrap();
        assert_eq!(corr, theirs.correlation_id, "{}", f.name);
        assert_eq!(ours.len(), buf.len(), "{}: same header length", f.name);
    }
}
