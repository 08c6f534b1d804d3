//! rafka's response guard (`rafka_wire::guard`) on real peers' bytes: every captured response
//! of an API rafka speaks, at whatever version the peer used, walks to exactly the end of its
//! body. (The guard's cost next to the decode it protects is a bench: `cargo bench -p
//! rafka-benches --bench guard`.)

use kafka_protocol::messages::ApiKey;
use rafka_protocol_tests::frames;
use rafka_wire::guard::{response_schema, walk_response};
use rafka_wire::header::decode_response_header;

#[test]
fn captured_responses_walk_to_the_end() {
    let mut walked = Vec::new();
    for f in frames().into_iter().filter(|f| !f.is_request) {
        let (Some(schema), Ok(key)) = (response_schema(f.api_key), ApiKey::try_from(f.api_key))
        else {
            continue;
        };
        let mut body = f.payload.clone();
        decode_response_header(&mut body, key.response_header_version(f.version)).unwrap();
        let n =
            walk_response(schema, f.version, &body).unwrap_or_else(|e| panic!("{}: {e}", f.name));
        assert_eq!(
            n,
            body.len(),
            "{}: walk stops short of the body's end",
            f.name
        );
        walked.push(f.name);
    }
    // Tansu's answers to librdkafka for ApiVersions, Metadata, Produce, Fetch (v16, past what
    // rafka speaks: the schemas follow kafka-protocol's whole range), the group and the
    // transaction APIs.
    assert_eq!(walked.len(), 17, "{walked:?}");
}
