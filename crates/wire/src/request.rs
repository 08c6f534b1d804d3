//! The [`KafkaRequest`] trait: each `kafka-protocol` request message bound to its API key, the
//! versions rafka speaks and where it must be sent; plus whole-frame encode and decode.
//!
//! The supported ranges are the versions whose semantics rafka's client, producer, group and
//! consumer code handle (Kafka protocol guide, "The Messages"). They are narrower than what the
//! message structs can encode: for example Fetch stops at v12 because v13 (KIP-516) replaces
//! topic names by topic ids. OffsetFetch reaches v9 (KIP-848: member id and epoch) for
//! consumers of `group.protocol=consumer`; callers that build the v1–v7 layout cap it with
//! `max_version` when sending.

use std::panic::{catch_unwind, AssertUnwindSafe};

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Decodable, HeaderVersion, Request, VersionRange};

use crate::frame::SIZE_PREFIX_LEN;
use crate::guard::{check_response, GuardedResponse};
use crate::header::{decode_response_header, RequestHeader};
use crate::WireError;

/// Where a request must be sent. A type-level fact of each request (see
/// [`KafkaRequest::DESTINATION`]); the client checks every target against it (debug builds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Destination {
    /// Any broker will do (metadata, ApiVersions, cluster-wide describes).
    AnyBroker,
    /// The leader of the partitions named in the request (Produce, Fetch, ListOffsets, ...).
    PartitionLeader,
    /// The group coordinator found with FindCoordinator key type 0.
    GroupCoordinator,
    /// The transaction coordinator found with FindCoordinator key type 1 (KIP-98).
    TransactionCoordinator,
    /// The controller named in Metadata (topic and config changes).
    Controller,
}

/// A request message rafka can send.
///
/// Implemented for every `kafka-protocol` request that rafka uses. The response type is
/// `<Self as Request>::Response`; rafka knows its body layout ([`GuardedResponse`]), so every
/// response is checked by [`crate::guard`] before it is decoded.
pub trait KafkaRequest: Request<Response: GuardedResponse> + Send + Sync + 'static {
    /// The API key (Kafka protocol guide, "Api Keys").
    const API_KEY: ApiKey;
    /// The API's name as Kafka writes it, for errors and tracing.
    const NAME: &'static str;
    /// The versions rafka speaks, a sub-range of the message's own `VERSIONS`.
    const SUPPORTED: VersionRange;
    /// Where the request must be sent.
    const DESTINATION: Destination;
}

macro_rules! kafka_requests {
    ($($ty:ident => $key:ident, $name:literal, $min:literal..=$max:literal, $dest:ident;)*) => {
        $(
            impl KafkaRequest for $ty {
                const API_KEY: ApiKey = ApiKey::$key;
                const NAME: &'static str = $name;
                const SUPPORTED: VersionRange = VersionRange { min: $min, max: $max };
                const DESTINATION: Destination = Destination::$dest;
            }
        )*

        /// `(API key, versions rafka speaks)` for every request rafka uses, for negotiation.
        pub const SUPPORTED_APIS: &[(i16, VersionRange)] = &[
            $( ($ty::KEY, VersionRange { min: $min, max: $max }), )*
        ];

        /// The Kafka name of an API key, `"Unknown"` for keys rafka does not use.
        pub fn api_name(key: i16) -> &'static str {
            $( if key == $ty::KEY { return $name; } )*
            "Unknown"
        }

        #[cfg(test)]
        mod table_tests {
            use super::*;

            #[test]
            fn supported_ranges_fit_the_message_structs() {
                $(
                    let own = <$ty as kafka_protocol::protocol::Message>::VERSIONS;
                    assert!(own.min <= $min && $max <= own.max, "{} {}..={} outside {}", $name, $min, $max, own);
                    assert_eq!(<$ty as Request>::KEY, ApiKey::$key as i16);
                )*
            }
        }
    };
}

kafka_requests! {
    ProduceRequest => Produce, "Produce", 3..=11, PartitionLeader;
    FetchRequest => Fetch, "Fetch", 4..=12, PartitionLeader;
    ListOffsetsRequest => ListOffsets, "ListOffsets", 1..=9, PartitionLeader;
    MetadataRequest => Metadata, "Metadata", 1..=12, AnyBroker;
    OffsetCommitRequest => OffsetCommit, "OffsetCommit", 2..=9, GroupCoordinator;
    OffsetFetchRequest => OffsetFetch, "OffsetFetch", 1..=9, GroupCoordinator;
    FindCoordinatorRequest => FindCoordinator, "FindCoordinator", 0..=4, AnyBroker;
    JoinGroupRequest => JoinGroup, "JoinGroup", 0..=9, GroupCoordinator;
    HeartbeatRequest => Heartbeat, "Heartbeat", 0..=4, GroupCoordinator;
    LeaveGroupRequest => LeaveGroup, "LeaveGroup", 0..=5, GroupCoordinator;
    SyncGroupRequest => SyncGroup, "SyncGroup", 0..=5, GroupCoordinator;
    DescribeGroupsRequest => DescribeGroups, "DescribeGroups", 0..=5, GroupCoordinator;
    ListGroupsRequest => ListGroups, "ListGroups", 0..=4, AnyBroker;
    SaslHandshakeRequest => SaslHandshake, "SaslHandshake", 0..=1, AnyBroker;
    ApiVersionsRequest => ApiVersions, "ApiVersions", 0..=3, AnyBroker;
    CreateTopicsRequest => CreateTopics, "CreateTopics", 2..=7, Controller;
    DeleteTopicsRequest => DeleteTopics, "DeleteTopics", 1..=6, Controller;
    DeleteRecordsRequest => DeleteRecords, "DeleteRecords", 0..=2, PartitionLeader;
    InitProducerIdRequest => InitProducerId, "InitProducerId", 0..=5, TransactionCoordinator;
    AddPartitionsToTxnRequest => AddPartitionsToTxn, "AddPartitionsToTxn", 0..=3, TransactionCoordinator;
    AddOffsetsToTxnRequest => AddOffsetsToTxn, "AddOffsetsToTxn", 0..=3, TransactionCoordinator;
    EndTxnRequest => EndTxn, "EndTxn", 0..=3, TransactionCoordinator;
    TxnOffsetCommitRequest => TxnOffsetCommit, "TxnOffsetCommit", 0..=3, GroupCoordinator;
    DescribeConfigsRequest => DescribeConfigs, "DescribeConfigs", 1..=4, AnyBroker;
    SaslAuthenticateRequest => SaslAuthenticate, "SaslAuthenticate", 0..=2, AnyBroker;
    DeleteGroupsRequest => DeleteGroups, "DeleteGroups", 0..=2, GroupCoordinator;
    DescribeClusterRequest => DescribeCluster, "DescribeCluster", 0..=1, AnyBroker;
    OffsetForLeaderEpochRequest => OffsetForLeaderEpoch, "OffsetForLeaderEpoch", 2..=4, PartitionLeader;
    CreatePartitionsRequest => CreatePartitions, "CreatePartitions", 0..=3, Controller;
    OffsetDeleteRequest => OffsetDelete, "OffsetDelete", 0..=0, GroupCoordinator;
    AlterConfigsRequest => AlterConfigs, "AlterConfigs", 0..=2, Controller;
    IncrementalAlterConfigsRequest => IncrementalAlterConfigs, "IncrementalAlterConfigs", 0..=1, Controller;
    DescribeUserScramCredentialsRequest => DescribeUserScramCredentials, "DescribeUserScramCredentials", 0..=0, AnyBroker;
    AlterUserScramCredentialsRequest => AlterUserScramCredentials, "AlterUserScramCredentials", 0..=0, AnyBroker;
    ConsumerGroupHeartbeatRequest => ConsumerGroupHeartbeat, "ConsumerGroupHeartbeat", 0..=1, GroupCoordinator;
    ConsumerGroupDescribeRequest => ConsumerGroupDescribe, "ConsumerGroupDescribe", 0..=1, GroupCoordinator;
}

/// Appends one whole request frame (size prefix, header, body) to `out`.
///
/// The header version follows from the message version (flexible versions use header v2).
///
/// # Errors
/// [`WireError::InvalidVersion`] when `version` is outside [`KafkaRequest::SUPPORTED`],
/// [`WireError::Protocol`] when the message cannot be encoded at that version (for example a
/// field that version cannot carry), [`WireError::FrameTooLarge`] past 2 GiB. On error `out`
/// is left as it was.
pub fn encode_request<R: KafkaRequest>(
    req: &R,
    version: i16,
    correlation_id: i32,
    client_id: Option<&str>,
    out: &mut BytesMut,
) -> Result<(), WireError> {
    check_version::<R>(version)?;
    let start = out.len();
    out.put_i32(0); // size, patched below once known
    let header = RequestHeader {
        api_key: R::KEY,
        api_version: version,
        correlation_id,
        client_id,
    };
    let result = header
        .encode(R::header_version(version), out)
        .and_then(|()| {
            req.encode(out, version).map_err(|e| WireError::Protocol {
                api: R::NAME,
                version,
                message: e.to_string(),
            })
        });
    if let Err(e) = result {
        out.truncate(start);
        return Err(e);
    }
    let size = out.len() - start - SIZE_PREFIX_LEN;
    let Ok(size) = i32::try_from(size) else {
        out.truncate(start);
        return Err(WireError::FrameTooLarge {
            size,
            max: i32::MAX as usize,
        });
    };
    out[start..start + SIZE_PREFIX_LEN].copy_from_slice(&size.to_be_bytes());
    Ok(())
}

/// Decodes a response frame payload (size prefix already removed, see
/// [`crate::frame::decode_frame`]) of request type `R` at `version`: `(correlation id, body)`.
///
/// Byte fields of the body (`records` of Fetch, for instance) are zero-copy slices of `frame`.
/// Trailing bytes after the body are ignored, as newer brokers may append tagged data.
///
/// # Errors
/// [`WireError::InvalidVersion`], [`WireError::Truncated`] for a cut header, and as
/// [`decode_body`] for the body.
pub fn decode_response<R: KafkaRequest>(
    frame: Bytes,
    version: i16,
) -> Result<(i32, R::Response), WireError> {
    check_version::<R>(version)?;
    let mut buf = frame;
    let correlation_id = decode_response_header(&mut buf, R::Response::header_version(version))?;
    let body = decode_body::<R::Response>(&mut buf, version, R::NAME)?;
    Ok((correlation_id, body))
}

/// Decodes a response body with `kafka-protocol`, turning its errors (and, as a last line of
/// defence, any panic inside it) into [`WireError::Protocol`].
///
/// The body is walked first against rafka's own layout of the message ([`crate::guard`]):
/// `kafka-protocol` reserves memory for every array from the count on the wire, and a count
/// the body cannot hold would make that allocation fail and abort the process, which no
/// `catch_unwind` can stop. `api` names the API in errors.
///
/// # Errors
/// [`WireError::LengthExceedsBody`] for a count or length larger than the rest of the body,
/// [`WireError::Protocol`] for a body that is cut short or that the message codec refuses.
pub fn decode_body<M: Decodable + GuardedResponse>(
    buf: &mut Bytes,
    version: i16,
    api: &'static str,
) -> Result<M, WireError> {
    check_response::<M>(buf, version, api)?;
    match catch_unwind(AssertUnwindSafe(|| M::decode(buf, version))) {
        Ok(Ok(m)) => Ok(m),
        Ok(Err(e)) => Err(WireError::Protocol {
            api,
            version,
            message: e.to_string(),
        }),
        Err(_) => Err(WireError::Protocol {
            api,
            version,
            message: "malformed message body".to_string(),
        }),
    }
}

/// Reads the correlation id at the front of a response frame payload without decoding it.
///
/// # Errors
/// [`WireError::Truncated`] when the frame is shorter than 4 bytes.
pub fn peek_correlation_id(frame: &[u8]) -> Result<i32, WireError> {
    match frame.get(..4) {
        Some(b) => Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]])),
        None => Err(WireError::Truncated {
            what: "correlation id",
            needed: 4,
            remaining: frame.len(),
        }),
    }
}

fn check_version<R: KafkaRequest>(version: i16) -> Result<(), WireError> {
    if version < R::SUPPORTED.min || version > R::SUPPORTED.max {
        return Err(WireError::InvalidVersion {
            api: R::NAME,
            version,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::decode_frame;
    use kafka_protocol::protocol::{Encodable, StrBytes};

    #[test]
    fn api_versions_v3_request_exact_bytes() {
        let req = ApiVersionsRequest::default()
            .with_client_software_name(StrBytes::from_static_str("rafka"))
            .with_client_software_version(StrBytes::from_static_str("0.1"));
        let mut out = BytesMut::new();
        encode_request(&req, 3, 1, Some("c"), &mut out).unwrap();
        let expected: &[u8] = &[
            0, 0, 0, 23, // size
            0, 18, 0, 3, 0, 0, 0, 1, // key, version, correlation id
            0, 1, b'c', // client id
            0,    // header tagged fields
            6, b'r', b'a', b'f', b'k', b'a', // compact string "rafka"
            4, b'0', b'.', b'1', // compact string "0.1"
            0,    // body tagged fields
        ];
        assert_eq!(&out[..], expected);
    }

    #[test]
    fn unsupported_version_rejected_and_buffer_untouched() {
        let mut out = BytesMut::from(&b"xy"[..]);
        let err = encode_request(&FetchRequest::default(), 13, 1, None, &mut out).unwrap_err();
        assert_eq!(
            err,
            WireError::InvalidVersion {
                api: "Fetch",
                version: 13
            }
        );
        assert_eq!(&out[..], b"xy");
    }

    #[test]
    fn response_round_trip_through_frame() {
        let resp = HeartbeatResponse::default().with_error_code(27);
        let mut body = BytesMut::new();
        crate::header::encode_response_header(42, 1, &mut body);
        resp.encode(&mut body, 4).unwrap();
        let mut framed = BytesMut::new();
        crate::frame::encode_frame(&body, &mut framed).unwrap();
        let frame = decode_frame(&mut framed, 1 << 20).unwrap().unwrap();
        assert_eq!(peek_correlation_id(&frame).unwrap(), 42);
        let (cid, decoded) = decode_response::<HeartbeatRequest>(frame, 4).unwrap();
        assert_eq!(cid, 42);
        assert_eq!(decoded.error_code, 27);
    }

    #[test]
    fn api_versions_response_uses_header_v0() {
        // ApiVersions v3 response: header v0 (no tagged fields) even though the body is flexible.
        let resp = ApiVersionsResponse::default();
        let mut body = BytesMut::new();
        crate::header::encode_response_header(5, 0, &mut body);
        resp.encode(&mut body, 3).unwrap();
        let (cid, _) = decode_response::<ApiVersionsRequest>(body.freeze(), 3).unwrap();
        assert_eq!(cid, 5);
    }

    #[test]
    fn truncated_response_is_an_error() {
        let err = decode_response::<MetadataRequest>(Bytes::from_static(&[0, 0, 0, 1, 0]), 9)
            .unwrap_err();
        assert!(matches!(
            err,
            WireError::Protocol {
                api: "Metadata",
                ..
            }
        ));
        let err = decode_response::<MetadataRequest>(Bytes::from_static(&[0, 0]), 9).unwrap_err();
        assert!(matches!(err, WireError::Truncated { .. }));
    }

    #[test]
    fn names() {
        assert_eq!(api_name(1), "Fetch");
        assert_eq!(api_name(999), "Unknown");
        assert_eq!(api_name(68), "ConsumerGroupHeartbeat");
        assert_eq!(SUPPORTED_APIS.len(), 36);
    }
}
