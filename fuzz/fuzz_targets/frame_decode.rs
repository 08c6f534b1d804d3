//! Frame splitting: any byte stream gives frames, "need more" or a typed error.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut buf = bytes::BytesMut::from(data);
    while let Ok(Some(frame)) = rafka_wire::frame::decode_frame(&mut buf, 1 << 20) {
        let _ = rafka_wire::request::peek_correlation_id(&frame);
    }
});
