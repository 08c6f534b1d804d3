//! The check both response targets share: whatever kafka-protocol decodes, the guard must walk
//! exactly the bytes kafka-protocol writes for it, so every schema is tested against
//! kafka-protocol on the values the fuzzer finds.
use bytes::BytesMut;
use rafka_wire::guard::check_response;
use rafka_wire::protocol::protocol::Encodable;
use rafka_wire::request::KafkaRequest;

/// Re-encodes a decoded response of `R` at `version` and asserts that the guard walks it to
/// its end. Skips values kafka-protocol cannot encode cleanly: its encoder counts unknown tags
/// of 2^31 and above but does not write them (F2), so such bytes are not the message and fall
/// short of its own size computation.
pub fn assert_rewalks<R: KafkaRequest>(value: &R::Response, version: i16) {
    let mut out = BytesMut::new();
    if value.encode(&mut out, version).is_err()
        || value.compute_size(version).ok() != Some(out.len())
    {
        return;
    }
    assert_eq!(
        check_response::<R::Response>(&out, version, R::NAME),
        Ok(out.len()),
        "guard and kafka-protocol disagree on a re-encoded {} v{version}",
        R::NAME
    );
}
