//! Response frames of the APIs the client parses most: the first byte picks the API (low 3
//! bits) and the version (high 5 bits, folded into the versions rafka speaks).
//!
//! kafka-protocol sizes arrays from unchecked lengths, so a few bytes can ask for a 100+ GB
//! `Vec` and abort the process (finding F1 in docs/fuzzing.md). With `--cfg mask_f1` (set
//! `RUSTFLAGS="--cfg mask_f1"`, nightly features via `RUSTC_BOOTSTRAP=1`) such allocation
//! failures panic instead, which rafka's `decode_body` turns into an error, so fuzzing can
//! explore past F1.
#![no_main]
#![cfg_attr(mask_f1, feature(alloc_error_hook))]
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use rafka_wire::kafka_protocol::messages::*;
use rafka_wire::request::{decode_response, KafkaRequest};

fn decode<R: KafkaRequest>(selector: u8, frame: &[u8]) {
    let span = (R::SUPPORTED.max - R::SUPPORTED.min + 1) as u8;
    let version = R::SUPPORTED.min + i16::from((selector >> 3) % span);
    let _ = decode_response::<R>(Bytes::copy_from_slice(frame), version);
}

fuzz_target!(|data: &[u8]| {
    // kafka-protocol may panic on malformed bodies; rafka catches that in `decode_body`, so a
    // caught panic is not a finding. An uncaught one still aborts at the FFI boundary.
    std::panic::set_hook(Box::new(|_| {}));
    #[cfg(mask_f1)]
    std::alloc::set_alloc_error_hook(|layout| {
        panic!("allocation of {} bytes failed", layout.size())
    });
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
