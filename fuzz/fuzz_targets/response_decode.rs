//! Response frames of the APIs the client parses most: the first byte picks the API (low 3
//! bits) and the version (high 5 bits, folded into the versions rafka speaks).
//!
//! Every decode first walks the body against rafka's schema (`rafka_wire::guard`), which
//! refuses counts the body cannot hold; without it kafka-protocol's array decoders could ask
//! for a 100+ GB `Vec` and abort the process (finding F1 in docs/fuzzing.md). An abort here is
//! therefore a finding again. A body that decodes is re-encoded and walked once more, so the
//! fuzzer also checks that the guard's schema and kafka-protocol agree on every value it finds.
#![no_main]
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use rafka_wire::protocol::messages::*;
use rafka_wire::request::{decode_response, KafkaRequest};

mod rewalk;

fn decode<R: KafkaRequest>(selector: u8, frame: &[u8]) {
    let span = (R::SUPPORTED.max - R::SUPPORTED.min + 1) as u8;
    let version = R::SUPPORTED.min + i16::from((selector >> 3) % span);
    if let Ok((_, body)) = decode_response::<R>(Bytes::copy_from_slice(frame), version) {
        rewalk::assert_rewalks::<R>(&body, version);
    }
}

fuzz_target!(|data: &[u8]| {
    // kafka-protocol may panic on malformed bodies; rafka catches that in `decode_body`, so a
    // caught panic is not a finding. An uncaught one still aborts at the FFI boundary.
    std::panic::set_hook(Box::new(|_| {}));
    let Some((&selector, frame)) = data.split_first() else {
        return;
    };
    match selector & 7 {
        0 => decode::<MetadataRequest>(selector, frame),
        1 => decode::<FetchRequest>(selector, frame),
        2 => decode::<ProduceRequest>(selector, frame),
        3 => decode::<JoinGroupRequest>(selector, frame),
        4 => decode::<SyncGroupRequest>(selector, frame),
        5 => decode::<OffsetFetchRequest>(selector, frame),
        _ => decode::<ApiVersionsRequest>(selector, frame),
    }
});
