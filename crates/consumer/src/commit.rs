//! OffsetCommit and OffsetFetch for the consumer group (Kafka protocol guide, "OffsetCommit
//! API", "OffsetFetch API"): request building and response reading. Sans-IO.
//!
//! A commit made by a group member carries the member id and generation from the last
//! JoinGroup, so the coordinator refuses a commit from a member that was fenced out
//! (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID): its partitions may already
//! belong to another member. A consumer that only `assign`s commits with generation -1 and an
//! empty member id, which the coordinator accepts for a group with no members.

use std::collections::{BTreeMap, HashMap};

use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::{
    OffsetFetchRequestGroup, OffsetFetchRequestTopic, OffsetFetchRequestTopics,
};
use kafka_protocol::messages::{
    GroupId, OffsetCommitRequest, OffsetCommitResponse, OffsetFetchRequest, OffsetFetchResponse,
    TopicName,
};
use kafka_protocol::protocol::StrBytes;
use rafka_wire::error_code::{BrokerError, ErrorCode};
use rafka_wire::TopicPartition;

use rafka_group::commit_error_kind;
use rafka_group::consumer_membership::GroupProtocol;

use crate::error::ConsumerError;

/// The group identity a commit carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitIdentity {
    /// `generation_id` from JoinGroup; -1 outside a group.
    pub generation: i32,
    /// Member id from JoinGroup; empty outside a group.
    pub member_id: String,
    /// `group.instance.id` for static members (KIP-345).
    pub group_instance_id: Option<String>,
}

impl CommitIdentity {
    /// The identity of a consumer that is not a group member (manual `assign`).
    pub fn standalone() -> Self {
        CommitIdentity {
            generation: -1,
            member_id: String::new(),
            group_instance_id: None,
        }
    }
}

/// One offset to commit: the next offset to consume, with the leader epoch of the last
/// consumed record (KIP-320, -1 when unknown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetToCommit {
    /// The partition.
    pub tp: TopicPartition,
    /// Next offset to consume.
    pub offset: i64,
    /// Leader epoch of the last consumed record, or -1.
    pub leader_epoch: i32,
}

fn str_bytes(s: &str) -> StrBytes {
    StrBytes::from_string(s.to_string())
}

/// Builds an OffsetCommit request.
pub fn offset_commit_request(
    group_id: &str,
    identity: &CommitIdentity,
    offsets: &[OffsetToCommit],
) -> OffsetCommitRequest {
    let mut by_topic: BTreeMap<&str, Vec<OffsetCommitRequestPartition>> = BTreeMap::new();
    for o in offsets {
        by_topic.entry(&o.tp.topic).or_default().push(
            OffsetCommitRequestPartition::default()
                .with_partition_index(o.tp.partition)
                .with_committed_offset(o.offset)
                .with_committed_leader_epoch(o.leader_epoch)
                .with_committed_metadata(Some(StrBytes::from_static_str(""))),
        );
    }
    OffsetCommitRequest::default()
        .with_group_id(GroupId(str_bytes(group_id)))
        .with_generation_id_or_member_epoch(identity.generation)
        .with_member_id(str_bytes(&identity.member_id))
        .with_group_instance_id(identity.group_instance_id.as_deref().map(str_bytes))
        .with_retention_time_ms(-1)
        .with_topics(
            by_topic
                .into_iter()
                .map(|(topic, partitions)| {
                    OffsetCommitRequestTopic::default()
                        .with_name(TopicName(str_bytes(topic)))
                        .with_partitions(partitions)
                })
                .collect(),
        )
}

/// Reads an OffsetCommit response: `Ok` when every partition committed.
///
/// # Errors
/// [`ConsumerError::CommitFailed`] when the member was fenced (ILLEGAL_GENERATION,
/// UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID) or the group is rebalancing (REBALANCE_IN_PROGRESS,
/// not retried, as Java's `RebalanceInProgressException`); [`ConsumerError::Broker`] with the
/// first other partition error (retriable ones such as COORDINATOR_NOT_AVAILABLE or
/// NOT_COORDINATOR report `is_retriable()`). The classification is rafka-group's
/// [`commit_error_kind`], the one table the membership machine uses too.
pub fn read_offset_commit(response: &OffsetCommitResponse) -> Result<(), ConsumerError> {
    for topic in &response.topics {
        for p in &topic.partitions {
            let code = ErrorCode(p.error_code);
            if code.is_ok() {
                continue;
            }
            if is_fencing(code) {
                return Err(ConsumerError::CommitFailed { code });
            }
            return Err(ConsumerError::Broker {
                api: "OffsetCommit",
                partition: Some(TopicPartition::new(
                    topic.name.0.to_string(),
                    p.partition_index,
                )),
                error: BrokerError {
                    code,
                    message: None,
                },
            });
        }
    }
    Ok(())
}

/// Codes that fail a commit with "the group rebalanced" ([`ConsumerError::CommitFailed`]):
/// [`rafka_group::CommitErrorKind::is_commit_failed`] of rafka-group's one table.
pub fn is_fencing(code: ErrorCode) -> bool {
    !code.is_ok() && commit_error_kind(code.0).is_commit_failed()
}

/// The KIP-848 member an OffsetFetch v9+ names (Java `CommitRequestManager`'s member info):
/// its id and the epoch the coordinator gave it, which the coordinator checks (a wrong epoch
/// is STALE_MEMBER_EPOCH, an unknown member UNKNOWN_MEMBER_ID).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchMember {
    /// The member id (client-generated, KIP-1082).
    pub member_id: String,
    /// The member epoch (> 0).
    pub member_epoch: i32,
}

/// The highest OffsetFetch version for a group protocol: the classic protocol keeps the
/// v1–v7 layout; `group.protocol=consumer` goes to v9, the first version carrying the
/// member id and epoch.
pub fn offset_fetch_max_version(protocol: GroupProtocol) -> Option<i16> {
    match protocol {
        GroupProtocol::Classic => Some(7),
        GroupProtocol::Consumer => None,
    }
}

/// Builds an OffsetFetch request for these partitions at `version`: the v1–v7 layout (group
/// id and topics at the top), or from v8 the `Groups` array with this one group, which from
/// v9 names `member` (Java sends the member id and epoch once the member has an epoch, else a
/// null member id and epoch -1, which the coordinator does not check). `require_stable`
/// (KIP-447, v7+) makes the coordinator wait out pending transactional commits.
pub fn offset_fetch_request(
    group_id: &str,
    partitions: &[TopicPartition],
    require_stable: bool,
    member: Option<&FetchMember>,
    version: i16,
) -> OffsetFetchRequest {
    let mut by_topic: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
    for tp in partitions {
        by_topic.entry(&tp.topic).or_default().push(tp.partition);
    }
    let request = OffsetFetchRequest::default().with_require_stable(require_stable);
    if version < 8 {
        return request
            .with_group_id(GroupId(str_bytes(group_id)))
            .with_topics(Some(
                by_topic
                    .into_iter()
                    .map(|(topic, parts)| {
                        OffsetFetchRequestTopic::default()
                            .with_name(TopicName(str_bytes(topic)))
                            .with_partition_indexes(parts)
                    })
                    .collect(),
            ));
    }
    let topics = by_topic
        .into_iter()
        .map(|(topic, parts)| {
            OffsetFetchRequestTopics::default()
                .with_name(TopicName(str_bytes(topic)))
                .with_partition_indexes(parts)
        })
        .collect();
    let group = OffsetFetchRequestGroup::default()
        .with_group_id(GroupId(str_bytes(group_id)))
        .with_member_id(member.map(|m| str_bytes(&m.member_id)))
        .with_member_epoch(member.map_or(-1, |m| m.member_epoch))
        .with_topics(Some(topics));
    request.with_groups(vec![group])
}

/// Whether an OffsetFetch that failed with `code` is sent again (Java
/// `CommitRequestManager`): retriable codes are (COORDINATOR_LOAD_IN_PROGRESS,
/// NOT_COORDINATOR, ...); STALE_MEMBER_EPOCH is while the member has an epoch (`member_epoch`,
/// the one the next attempt carries); UNKNOWN_MEMBER_ID (the member left the group or was
/// fenced) and every other code fail.
pub fn offset_fetch_retriable(code: ErrorCode, member_epoch: Option<i32>) -> bool {
    if code == ErrorCode::STALE_MEMBER_EPOCH {
        return member_epoch.is_some();
    }
    code.is_retriable()
}

/// Committed position and leader epoch of one partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Committed {
    /// Next offset to consume.
    pub offset: i64,
    /// Leader epoch of the last consumed record, -1 when not committed with one.
    pub leader_epoch: i32,
}

/// Reads an OffsetFetch response of any version: committed positions; partitions with
/// nothing committed (offset -1) are absent. From v8 the answer is the first (only) group's.
///
/// # Errors
/// [`ConsumerError::Broker`] for a group-level error (v2+) or a partition error.
pub fn read_offset_fetch(
    response: &OffsetFetchResponse,
) -> Result<HashMap<TopicPartition, Committed>, ConsumerError> {
    // (topic, partition, offset, leader epoch, error) of every partition answered.
    let mut rows: Vec<(&str, i32, i64, i32, i16)> = Vec::new();
    let top = match response.groups.first() {
        Some(group) => {
            for t in &group.topics {
                for p in &t.partitions {
                    rows.push((
                        t.name.0.as_str(),
                        p.partition_index,
                        p.committed_offset,
                        p.committed_leader_epoch,
                        p.error_code,
                    ));
                }
            }
            group.error_code
        }
        None => {
            for t in &response.topics {
                for p in &t.partitions {
                    rows.push((
                        t.name.0.as_str(),
                        p.partition_index,
                        p.committed_offset,
                        p.committed_leader_epoch,
                        p.error_code,
                    ));
                }
            }
            response.error_code
        }
    };
    let top = ErrorCode(top);
    if !top.is_ok() {
        return Err(ConsumerError::Broker {
            api: "OffsetFetch",
            partition: None,
            error: BrokerError {
                code: top,
                message: None,
            },
        });
    }
    let mut out = HashMap::new();
    for (topic, partition, offset, leader_epoch, error) in rows {
        let tp = TopicPartition::new(topic, partition);
        let code = ErrorCode(error);
        if !code.is_ok() {
            return Err(ConsumerError::Broker {
                api: "OffsetFetch",
                partition: Some(tp),
                error: BrokerError {
                    code,
                    message: None,
                },
            });
        }
        if offset >= 0 {
            out.insert(
                tp,
                Committed {
                    offset,
                    leader_epoch,
                },
            );
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use kafka_protocol::messages::offset_commit_response::{
        OffsetCommitResponsePartition, OffsetCommitResponseTopic,
    };
    use kafka_protocol::messages::offset_fetch_response::{
        OffsetFetchResponsePartition, OffsetFetchResponseTopic,
    };

    use super::*;

    #[test]
    fn commit_carries_generation_member_and_groups_by_topic() {
        let id = CommitIdentity {
            generation: 7,
            member_id: "m-1".into(),
            group_instance_id: Some("i-1".into()),
        };
        let offsets = [
            OffsetToCommit {
                tp: TopicPartition::new("b", 1),
                offset: 10,
                leader_epoch: 2,
            },
            OffsetToCommit {
                tp: TopicPartition::new("a", 0),
                offset: 5,
                leader_epoch: -1,
            },
            OffsetToCommit {
                tp: TopicPartition::new("b", 0),
                offset: 3,
                leader_epoch: -1,
            },
        ];
        let req = offset_commit_request("g", &id, &offsets);
        assert_eq!(req.generation_id_or_member_epoch, 7);
        assert_eq!(req.member_id.as_str(), "m-1");
        assert_eq!(
            req.group_instance_id.as_ref().map(|s| s.as_str()),
            Some("i-1")
        );
        let names: Vec<&str> = req.topics.iter().map(|t| t.name.0.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        let b: Vec<(i32, i64, i32)> = req.topics[1]
            .partitions
            .iter()
            .map(|p| {
                (
                    p.partition_index,
                    p.committed_offset,
                    p.committed_leader_epoch,
                )
            })
            .collect();
        assert_eq!(b, [(1, 10, 2), (0, 3, -1)]);
    }

    fn commit_response(code: ErrorCode) -> OffsetCommitResponse {
        OffsetCommitResponse::default().with_topics(vec![OffsetCommitResponseTopic::default()
            .with_name(TopicName(StrBytes::from_static_str("t")))
            .with_partitions(vec![OffsetCommitResponsePartition::default()
                .with_partition_index(0)
                .with_error_code(code.0)])])
    }

    #[test]
    fn fenced_commit_is_commit_failed() {
        assert!(read_offset_commit(&commit_response(ErrorCode::NONE)).is_ok());
        assert!(matches!(
            read_offset_commit(&commit_response(ErrorCode::ILLEGAL_GENERATION)),
            Err(ConsumerError::CommitFailed { code }) if code == ErrorCode::ILLEGAL_GENERATION
        ));
        let err = read_offset_commit(&commit_response(ErrorCode::NOT_COORDINATOR)).unwrap_err();
        assert!(err.is_retriable());
    }

    #[test]
    fn offset_fetch_skips_uncommitted_partitions() {
        let resp =
            OffsetFetchResponse::default().with_topics(vec![OffsetFetchResponseTopic::default()
                .with_name(TopicName(StrBytes::from_static_str("t")))
                .with_partitions(vec![
                    OffsetFetchResponsePartition::default()
                        .with_partition_index(0)
                        .with_committed_offset(42)
                        .with_committed_leader_epoch(1),
                    OffsetFetchResponsePartition::default()
                        .with_partition_index(1)
                        .with_committed_offset(-1),
                ])]);
        let map = read_offset_fetch(&resp).unwrap();
        assert_eq!(map.len(), 1);
        assert_eq!(
            map[&TopicPartition::new("t", 0)],
            Committed {
                offset: 42,
                leader_epoch: 1
            }
        );
        let req = offset_fetch_request(
            "g",
            &[TopicPartition::new("t", 1), TopicPartition::new("t", 0)],
            false,
            None,
            7,
        );
        assert_eq!(req.topics.unwrap()[0].partition_indexes, [1, 0]);
    }

    fn body(req: &OffsetFetchRequest, version: i16) -> Vec<u8> {
        use kafka_protocol::protocol::Encodable;
        let mut buf = bytes::BytesMut::new();
        req.encode(&mut buf, version).unwrap();
        buf.to_vec()
    }

    #[test]
    fn offset_fetch_v9_names_the_member_and_its_epoch() {
        let member = FetchMember {
            member_id: "m-1".into(),
            member_epoch: 7,
        };
        let parts = [TopicPartition::new("t", 1), TopicPartition::new("t", 0)];
        let req = offset_fetch_request("g", &parts, true, Some(&member), 9);
        #[rustfmt::skip]
        let expected: &[u8] = &[
            0x02,                   // groups: 1 (compact array)
            0x02, b'g',             //   group_id "g"
            0x04, b'm', b'-', b'1', //   member_id "m-1"
            0, 0, 0, 7,             //   member_epoch 7
            0x02,                   //   topics: 1
            0x02, b't',             //     name "t"
            0x03, 0, 0, 0, 1, 0, 0, 0, 0, // partition_indexes [1, 0]
            0x00,                   //     tagged fields
            0x00,                   //   tagged fields
            0x01,                   // require_stable
            0x00,                   // tagged fields
        ];
        assert_eq!(body(&req, 9), expected);
    }

    #[test]
    fn offset_fetch_v9_without_an_epoch_sends_no_member() {
        let req = offset_fetch_request("g", &[TopicPartition::new("t", 0)], false, None, 9);
        let group = &req.groups[0];
        assert_eq!(group.member_id, None);
        assert_eq!(group.member_epoch, -1);
        // member_id null (0x00), member_epoch -1.
        assert_eq!(body(&req, 9)[3..8], [0x00, 0xff, 0xff, 0xff, 0xff]);
    }

    #[test]
    fn classic_offset_fetch_keeps_the_v7_layout() {
        assert_eq!(offset_fetch_max_version(GroupProtocol::Classic), Some(7));
        assert_eq!(offset_fetch_max_version(GroupProtocol::Consumer), None);
        let member = FetchMember {
            member_id: "m-1".into(),
            member_epoch: 7,
        };
        let req = offset_fetch_request("g", &[TopicPartition::new("t", 0)], true, Some(&member), 7);
        assert!(req.groups.is_empty());
        assert_eq!(req.group_id.0.as_str(), "g");
        #[rustfmt::skip]
        let expected: &[u8] = &[
            0x02, b'g',             // group_id "g"
            0x02,                   // topics: 1
            0x02, b't',             //   name "t"
            0x02, 0, 0, 0, 0,       //   partition_indexes [0]
            0x00,                   //   tagged fields
            0x01,                   // require_stable
            0x00,                   // tagged fields
        ];
        assert_eq!(body(&req, 7), expected);
    }

    #[test]
    fn offset_fetch_errors_are_retried_as_java_does() {
        // STALE_MEMBER_EPOCH: again with the member's latest epoch, if it has one.
        assert!(offset_fetch_retriable(
            ErrorCode::STALE_MEMBER_EPOCH,
            Some(8)
        ));
        assert!(!offset_fetch_retriable(ErrorCode::STALE_MEMBER_EPOCH, None));
        // UNKNOWN_MEMBER_ID: the member is not in the group any more.
        assert!(!offset_fetch_retriable(
            ErrorCode::UNKNOWN_MEMBER_ID,
            Some(8)
        ));
        assert!(offset_fetch_retriable(
            ErrorCode::COORDINATOR_LOAD_IN_PROGRESS,
            Some(8)
        ));
        assert!(offset_fetch_retriable(ErrorCode::NOT_COORDINATOR, None));
        assert!(!offset_fetch_retriable(
            ErrorCode::GROUP_AUTHORIZATION_FAILED,
            None
        ));
    }

    #[test]
    fn offset_fetch_v8_answer_is_the_groups() {
        use kafka_protocol::messages::offset_fetch_response::{
            OffsetFetchResponseGroup, OffsetFetchResponsePartitions, OffsetFetchResponseTopics,
        };
        let group = |code: ErrorCode| {
            OffsetFetchResponse::default().with_groups(vec![OffsetFetchResponseGroup::default()
                .with_group_id(GroupId(StrBytes::from_static_str("g")))
                .with_error_code(code.0)
                .with_topics(vec![OffsetFetchResponseTopics::default()
                    .with_name(TopicName(StrBytes::from_static_str("t")))
                    .with_partitions(vec![OffsetFetchResponsePartitions::default()
                        .with_partition_index(3)
                        .with_committed_offset(9)
                        .with_committed_leader_epoch(2)])])])
        };
        let map = read_offset_fetch(&group(ErrorCode::NONE)).unwrap();
        assert_eq!(
            map[&TopicPartition::new("t", 3)],
            Committed {
                offset: 9,
                leader_epoch: 2
            }
        );
        let err = read_offset_fetch(&group(ErrorCode::STALE_MEMBER_EPOCH)).unwrap_err();
        assert!(matches!(
            err,
            ConsumerError::Broker { error, partition: None, .. }
                if error.code == ErrorCode::STALE_MEMBER_EPOCH
        ));
    }
}
