//! Group-coordinator enforcement: group requests sent to a virtual broker that is not the
//! coordinator get NOT_COORDINATOR (16), as Kafka answers when a group moved or the client
//! guessed wrong, so clients must look the coordinator up with FindCoordinator and follow it.
//!
//! Covered: JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch,
//! DescribeGroups. TxnOffsetCommit and the transaction APIs are forwarded unchecked.

use bytes::Bytes;
use kafka_protocol::messages::{
    describe_groups_response::DescribedGroup, offset_commit_response, offset_fetch_response,
    ApiKey, DescribeGroupsRequest, DescribeGroupsResponse, HeartbeatResponse, JoinGroupResponse,
    LeaveGroupResponse, OffsetCommitRequest, OffsetCommitResponse, OffsetFetchRequest,
    OffsetFetchResponse, ResponseHeader, SyncGroupResponse,
};
use kafka_protocol::protocol::{Decodable, Encodable};

use super::codec::encode_response;

/// NOT_COORDINATOR (Kafka error code 16).
pub const NOT_COORDINATOR: i16 = 16;

/// True for the requests a group coordinator must serve.
pub(crate) fn is_group_request(key: ApiKey) -> bool {
    matches!(
        key,
        ApiKey::JoinGroup
            | ApiKey::SyncGroup
            | ApiKey::Heartbeat
            | ApiKey::LeaveGroup
            | ApiKey::OffsetCommit
            | ApiKey::OffsetFetch
            | ApiKey::DescribeGroups
    )
}

/// The NOT_COORDINATOR response payload for a group request `body` (without its header), or
/// `Ok(None)` when the body cannot be read at that version (the caller forwards it instead).
pub(crate) fn refuse(
    key: ApiKey,
    version: i16,
    correlation_id: i32,
    body: Bytes,
) -> anyhow::Result<Option<Bytes>> {
    let header = ResponseHeader::default().with_correlation_id(correlation_id);
    let encode = |resp: &dyn EncodeAt| resp.encode_at(key, version, &header).map(Some);
    match key {
        ApiKey::JoinGroup => encode(
            &JoinGroupResponse::default()
                .with_error_code(NOT_COORDINATOR)
                .with_generation_id(-1),
        ),
        ApiKey::SyncGroup => encode(&SyncGroupResponse::default().with_error_code(NOT_COORDINATOR)),
        ApiKey::Heartbeat => encode(&HeartbeatResponse::default().with_error_code(NOT_COORDINATOR)),
        ApiKey::LeaveGroup => {
            encode(&LeaveGroupResponse::default().with_error_code(NOT_COORDINATOR))
        }
        ApiKey::OffsetCommit => {
            let Ok(req) = OffsetCommitRequest::decode(&mut body.clone(), version) else {
                return Ok(None);
            };
            let topics = req
                .topics
                .iter()
                .map(|t| {
                    offset_commit_response::OffsetCommitResponseTopic::default()
                        .with_name(t.name.clone())
                        .with_topic_id(t.topic_id)
                        .with_partitions(
                            t.partitions
                                .iter()
                                .map(|p| {
                                    offset_commit_response::OffsetCommitResponsePartition::default()
                                        .with_partition_index(p.partition_index)
                                        .with_error_code(NOT_COORDINATOR)
                                })
                                .collect(),
                        )
                })
                .collect();
            encode(&OffsetCommitResponse::default().with_topics(topics))
        }
        ApiKey::OffsetFetch => {
            let Ok(req) = OffsetFetchRequest::decode(&mut body.clone(), version) else {
                return Ok(None);
            };
            let mut resp = OffsetFetchResponse::default();
            if version >= 8 {
                resp.groups = req
                    .groups
                    .iter()
                    .map(|g| {
                        offset_fetch_response::OffsetFetchResponseGroup::default()
                            .with_group_id(g.group_id.clone())
                            .with_error_code(NOT_COORDINATOR)
                    })
                    .collect();
            } else if version >= 2 {
                resp.error_code = NOT_COORDINATOR;
            } else {
                // v0–v1 have no group-level error: every partition asked for carries it.
                resp.topics = req
                    .topics
                    .unwrap_or_default()
                    .iter()
                    .map(|t| {
                        offset_fetch_response::OffsetFetchResponseTopic::default()
                            .with_name(t.name.clone())
                            .with_partitions(
                                t.partition_indexes
                                    .iter()
                                    .map(|&p| {
                                        offset_fetch_response::OffsetFetchResponsePartition::default()
                                            .with_partition_index(p)
                                            .with_committed_offset(-1)
                                            .with_error_code(NOT_COORDINATOR)
                                    })
                                    .collect(),
                            )
                    })
                    .collect();
            }
            encode(&resp)
        }
        ApiKey::DescribeGroups => {
            let Ok(req) = DescribeGroupsRequest::decode(&mut body.clone(), version) else {
                return Ok(None);
            };
            let groups = req
                .groups
                .iter()
                .map(|g| {
                    DescribedGroup::default()
                        .with_group_id(g.clone())
                        .with_error_code(NOT_COORDINATOR)
                })
                .collect();
            encode(&DescribeGroupsResponse::default().with_groups(groups))
        }
        _ => Ok(None),
    }
}

/// Object-safe encoding of a response body with its header.
trait EncodeAt {
    fn encode_at(
        &self,
        key: ApiKey,
        version: i16,
        header: &ResponseHeader,
    ) -> anyhow::Result<Bytes>;
}

impl<T: Encodable> EncodeAt for T {
    fn encode_at(
        &self,
        key: ApiKey,
        version: i16,
        header: &ResponseHeader,
    ) -> anyhow::Result<Bytes> {
        encode_response(key, version, header, self)
    }
}
