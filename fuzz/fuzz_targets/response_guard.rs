//! Response bodies of every API rafka speaks, straight into `request::decode_body` (guard, then
//! kafka-protocol): byte 0 picks the API (its index in `SUPPORTED_APIS`, modulo their number),
//! byte 1 the version (folded into the versions rafka speaks), the rest is the body.
//!
//! A body that decodes is re-encoded and walked again: the guard's schema must take exactly the
//! bytes kafka-protocol writes, so the fuzzer checks every schema against kafka-protocol on the
//! values it finds. Seeds (a populated body of every API and version), from the repository root:
//! `RAFKA_FUZZ_SEEDS=$PWD/fuzz/corpus/response_guard cargo test -p rafka-wire --lib
//! write_fuzz_seeds -- --ignored`.
#![no_main]
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use rafka_wire::protocol::messages::*;
use rafka_wire::request::{decode_body, KafkaRequest, SUPPORTED_APIS};

mod rewalk;

fn check<R: KafkaRequest>(version: u8, body: &[u8]) {
    let span = (R::SUPPORTED.max - R::SUPPORTED.min + 1) as u8;
    let version = R::SUPPORTED.min + i16::from(version % span);
    let mut buf = Bytes::copy_from_slice(body);
    if let Ok(value) = decode_body::<R::Response>(&mut buf, version, R::NAME) {
        rewalk::assert_rewalks::<R>(&value, version);
    }
}

fuzz_target!(|data: &[u8]| {
    // kafka-protocol may panic on malformed bodies; `decode_body` catches that, so a caught
    // panic is not a finding.
    std::panic::set_hook(Box::new(|_| {}));
    let &[api, version, ref body @ ..] = data else {
        return;
    };
    match usize::from(api) % SUPPORTED_APIS.len() {
        0 => check::<ProduceRequest>(version, body),
        1 => check::<FetchRequest>(version, body),
        2 => check::<ListOffsetsRequest>(version, body),
        3 => check::<MetadataRequest>(version, body),
        4 => check::<OffsetCommitRequest>(version, body),
        5 => check::<OffsetFetchRequest>(version, body),
        6 => check::<FindCoordinatorRequest>(version, body),
        7 => check::<JoinGroupRequest>(version, body),
        8 => check::<HeartbeatRequest>(version, body),
        9 => check::<LeaveGroupRequest>(version, body),
        10 => check::<SyncGroupRequest>(version, body),
        11 => check::<DescribeGroupsRequest>(version, body),
        12 => check::<ListGroupsRequest>(version, body),
        13 => check::<SaslHandshakeRequest>(version, body),
        14 => check::<ApiVersionsRequest>(version, body),
        15 => check::<CreateTopicsRequest>(version, body),
        16 => check::<DeleteTopicsRequest>(version, body),
        17 => check::<DeleteRecordsRequest>(version, body),
        18 => check::<InitProducerIdRequest>(version, body),
        19 => check::<AddPartitionsToTxnRequest>(version, body),
        20 => check::<AddOffsetsToTxnRequest>(version, body),
        21 => check::<EndTxnRequest>(version, body),
        22 => check::<TxnOffsetCommitRequest>(version, body),
        23 => check::<DescribeConfigsRequest>(version, body),
        24 => check::<SaslAuthenticateRequest>(version, body),
        25 => check::<DeleteGroupsRequest>(version, body),
        26 => check::<DescribeClusterRequest>(version, body),
        27 => check::<OffsetForLeaderEpochRequest>(version, body),
        28 => check::<CreatePartitionsRequest>(version, body),
        29 => check::<OffsetDeleteRequest>(version, body),
        30 => check::<AlterConfigsRequest>(version, body),
        31 => check::<IncrementalAlterConfigsRequest>(version, body),
        32 => check::<DescribeUserScramCredentialsRequest>(version, body),
        33 => check::<AlterUserScramCredentialsRequest>(version, body),
        _ => unreachable!("{} APIs", SUPPORTED_APIS.len()),
    }
});
