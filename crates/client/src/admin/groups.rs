//! Consumer groups: ListGroups (every broker), DescribeGroups and DeleteGroups (grouped by
//! coordinator), OffsetFetch and OffsetCommit for administration (generation -1, empty member
//! id: only allowed while the group has no active members, as Java's `alterConsumerGroupOffsets`).

use std::collections::BTreeMap;

use bytes::Bytes;
use futures::future::join_all;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
use kafka_protocol::messages::{
    DeleteGroupsRequest, DescribeGroupsRequest, GroupId, ListGroupsRequest, OffsetCommitRequest,
    OffsetFetchRequest,
};
use rafka_wire::error_code::ErrorCode;
use rafka_wire::TopicPartition;

use super::{str_bytes, topic_name, Admin};
use crate::client::{CoordinatorKind, SendOptions, Target};
use crate::error::Error;

/// A group as ListGroups reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupListing {
    /// Group id.
    pub group_id: String,
    /// `consumer` for consumer groups, empty for simple (offsets-only) groups.
    pub protocol_type: String,
    /// State (`Stable`, `Empty`, ...) when the broker reports it (ListGroups v4+, KIP-518).
    pub state: Option<String>,
    /// The coordinator that listed it.
    pub coordinator: i32,
}

/// A member as DescribeGroups reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberDescription {
    /// Member id assigned by the coordinator.
    pub member_id: String,
    /// `group.instance.id` of static members (KIP-345).
    pub group_instance_id: Option<String>,
    /// The member's `client.id`.
    pub client_id: String,
    /// The member's host as the broker saw it.
    pub client_host: String,
    /// The member's protocol metadata (ConsumerProtocol Subscription bytes for consumers).
    pub metadata: Bytes,
    /// The member's assignment (ConsumerProtocol Assignment bytes for consumers).
    pub assignment: Bytes,
}

/// A group as DescribeGroups reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDescription {
    /// Group id.
    pub group_id: String,
    /// `Empty`, `PreparingRebalance`, `CompletingRebalance`, `Stable` or `Dead`.
    pub state: String,
    /// `consumer` for consumer groups.
    pub protocol_type: String,
    /// The chosen protocol (assignor name for consumer groups), empty when not stable.
    pub protocol: String,
    /// Members.
    pub members: Vec<MemberDescription>,
    /// The coordinator node id.
    pub coordinator: i32,
}

/// A committed offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetAndMetadata {
    /// The next offset to consume.
    pub offset: i64,
    /// Leader epoch of the last consumed record (KIP-320), when committed.
    pub leader_epoch: Option<i32>,
    /// Free-form metadata committed with it.
    pub metadata: Option<String>,
}

impl Admin {
    /// Every group of every broker (ListGroups goes to each broker, as each lists only the
    /// groups it coordinates).
    ///
    /// # Errors
    /// The first broker's error after retries.
    pub async fn list_groups(&self) -> Result<Vec<GroupListing>, Error> {
        let client = self.client();
        let cluster = client.metadata().await?;
        let brokers: Vec<i32> = cluster.brokers.keys().copied().collect();
        let answers = join_all(brokers.into_iter().map(|node| async move {
            let resp = client
                .with_retries("ListGroups", || async {
                    let r = client
                        .send(Target::Broker(node), ListGroupsRequest::default())
                        .await?;
                    Error::check(r.error_code, None, "ListGroups", None, None)?;
                    Ok(r)
                })
                .await?;
            Ok::<_, Error>(
                resp.groups
                    .iter()
                    .map(|g| GroupListing {
                        group_id: g.group_id.to_string(),
                        protocol_type: g.protocol_type.to_string(),
                        state: (!g.group_state.is_empty()).then(|| g.group_state.to_string()),
                        coordinator: node,
                    })
                    .collect::<Vec<_>>(),
            )
        }))
        .await;
        let mut out = Vec::new();
        for a in answers {
            out.extend(a?);
        }
        out.sort_by(|a, b| a.group_id.cmp(&b.group_id));
        Ok(out)
    }

    /// Describes groups, each asked of its coordinator.
    ///
    /// # Errors
    /// Never for the whole call: every group gets its own result (coordinator lookup errors
    /// included).
    pub async fn describe_groups(
        &self,
        group_ids: &[&str],
    ) -> Result<BTreeMap<String, Result<GroupDescription, Error>>, Error> {
        let answers = join_all(
            group_ids
                .iter()
                .map(|g| async move { (g.to_string(), self.describe_group(g).await) }),
        )
        .await;
        Ok(answers.into_iter().collect())
    }

    async fn describe_group(&self, group_id: &str) -> Result<GroupDescription, Error> {
        let client = self.client();
        client
            .with_retries("DescribeGroups", || async {
                let coordinator = client.group_coordinator(group_id).await?;
                let req = DescribeGroupsRequest::default()
                    .with_groups(vec![GroupId(str_bytes(group_id))]);
                let resp = client
                    .send(Target::GroupCoordinator(group_id.to_string()), req)
                    .await?;
                let g = resp.groups.first().ok_or_else(|| {
                    Error::broker(
                        ErrorCode::UNKNOWN_SERVER_ERROR,
                        Some("empty DescribeGroups answer".into()),
                        "DescribeGroups",
                    )
                })?;
                self.check_group_error(
                    group_id,
                    g.error_code,
                    g.error_message.as_deref(),
                    "DescribeGroups",
                )?;
                Ok(GroupDescription {
                    group_id: g.group_id.to_string(),
                    state: g.group_state.to_string(),
                    protocol_type: g.protocol_type.to_string(),
                    protocol: g.protocol_data.to_string(),
                    members: g
                        .members
                        .iter()
                        .map(|m| MemberDescription {
                            member_id: m.member_id.to_string(),
                            group_instance_id: m.group_instance_id.as_ref().map(|s| s.to_string()),
                            client_id: m.client_id.to_string(),
                            client_host: m.client_host.to_string(),
                            metadata: m.member_metadata.clone(),
                            assignment: m.member_assignment.clone(),
                        })
                        .collect(),
                    coordinator,
                })
            })
            .await
    }

    /// A group-level error: forgets the coordinator on NOT_COORDINATOR /
    /// COORDINATOR_NOT_AVAILABLE so the retry looks it up again.
    pub(super) fn check_group_error(
        &self,
        group_id: &str,
        code: i16,
        message: Option<&str>,
        api: &'static str,
    ) -> Result<(), Error> {
        let result = Error::check(code, message, api, None, None);
        if let Err(e) = &result {
            if e.invalidates_coordinator() {
                self.client()
                    .invalidate_coordinator(CoordinatorKind::Group, group_id);
            }
        }
        result
    }

    /// Deletes groups (only empty groups can be deleted: NON_EMPTY_GROUP otherwise).
    ///
    /// # Errors
    /// Never for the whole call: each group gets its own result.
    pub async fn delete_groups(
        &self,
        group_ids: &[&str],
    ) -> Result<BTreeMap<String, Result<(), Error>>, Error> {
        let client = self.client();
        let answers = join_all(group_ids.iter().map(|g| async move {
            let result = client
                .with_retries("DeleteGroups", || async {
                    let req = DeleteGroupsRequest::default()
                        .with_groups_names(vec![GroupId(str_bytes(g))]);
                    let resp = client
                        .send(Target::GroupCoordinator(g.to_string()), req)
                        .await?;
                    let code = resp
                        .results
                        .first()
                        .map(|r| r.error_code)
                        .unwrap_or(ErrorCode::UNKNOWN_SERVER_ERROR.0);
                    self.check_group_error(g, code, None, "DeleteGroups")
                })
                .await;
            (g.to_string(), result)
        }))
        .await;
        Ok(answers.into_iter().collect())
    }

    /// The committed offsets of a group: all of them, or only `partitions`. Partitions with no
    /// committed offset are left out. (All offsets are asked with a null topic list, as Kafka
    /// defines; when the broker's answer to that does not decode — Tansu — every partition of
    /// every topic is asked for by name instead.)
    ///
    /// # Errors
    /// A group-level error (GROUP_AUTHORIZATION_FAILED, ...) after retries of retriable ones
    /// (COORDINATOR_LOAD_IN_PROGRESS, NOT_COORDINATOR).
    pub async fn list_group_offsets(
        &self,
        group_id: &str,
        partitions: Option<&[TopicPartition]>,
    ) -> Result<BTreeMap<TopicPartition, OffsetAndMetadata>, Error> {
        match self.fetch_group_offsets(group_id, partitions).await {
            // Tansu answers a null (all topics) OffsetFetch with a body that does not decode;
            // fall back to naming every partition of every topic in the cluster.
            Err(Error::Wire { .. }) if partitions.is_none() => {
                let topics = self.list_topics(true).await?;
                let all: Vec<TopicPartition> = topics
                    .values()
                    .flat_map(|t| {
                        t.partitions
                            .keys()
                            .map(|p| TopicPartition::new(t.name.clone(), *p))
                    })
                    .collect();
                if all.is_empty() {
                    return Ok(BTreeMap::new());
                }
                self.fetch_group_offsets(group_id, Some(&all)).await
            }
            other => other,
        }
    }

    async fn fetch_group_offsets(
        &self,
        group_id: &str,
        partitions: Option<&[TopicPartition]>,
    ) -> Result<BTreeMap<TopicPartition, OffsetAndMetadata>, Error> {
        let client = self.client();
        let topics = partitions.map(|parts| {
            let mut by_topic: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
            for tp in parts {
                by_topic
                    .entry(tp.topic.as_str())
                    .or_default()
                    .push(tp.partition);
            }
            by_topic
                .into_iter()
                .map(|(t, p)| {
                    OffsetFetchRequestTopic::default()
                        .with_name(topic_name(t))
                        .with_partition_indexes(p)
                })
                .collect::<Vec<_>>()
        });
        client
            .with_retries("OffsetFetch", || async {
                let req = OffsetFetchRequest::default()
                    .with_group_id(GroupId(str_bytes(group_id)))
                    .with_topics(topics.clone());
                // The v1–v7 layout (group id and topics at the top).
                let options = SendOptions {
                    max_version: Some(7),
                    ..SendOptions::default()
                };
                let resp = client
                    .send_with(
                        Target::GroupCoordinator(group_id.to_string()),
                        options,
                        |_| req,
                    )
                    .await?;
                self.check_group_error(group_id, resp.error_code, None, "OffsetFetch")?;
                let mut out = BTreeMap::new();
                for t in &resp.topics {
                    for p in &t.partitions {
                        let tp = TopicPartition::new(t.name.to_string(), p.partition_index);
                        // UNSTABLE_OFFSET_COMMIT (KIP-447) is retriable: a transaction is pending.
                        Error::check(
                            p.error_code,
                            None,
                            "OffsetFetch",
                            Some(&tp.topic),
                            Some(tp.partition),
                        )?;
                        if p.committed_offset < 0 {
                            continue;
                        }
                        out.insert(
                            tp,
                            OffsetAndMetadata {
                                offset: p.committed_offset,
                                leader_epoch: (p.committed_leader_epoch >= 0)
                                    .then_some(p.committed_leader_epoch),
                                metadata: p.metadata.as_ref().map(|m| m.to_string()),
                            },
                        );
                    }
                }
                Ok(out)
            })
            .await
    }

    /// Sets committed offsets of a group from outside it (OffsetCommit with generation -1 and
    /// an empty member id). The group must have no active members, else the coordinator answers
    /// UNKNOWN_MEMBER_ID or REBALANCE_IN_PROGRESS for it.
    ///
    /// # Errors
    /// The error of the whole request after retries; per-partition errors in the map.
    pub async fn alter_group_offsets(
        &self,
        group_id: &str,
        offsets: &[(TopicPartition, OffsetAndMetadata)],
    ) -> Result<BTreeMap<TopicPartition, Result<(), Error>>, Error> {
        let client = self.client();
        let mut by_topic: BTreeMap<&str, Vec<OffsetCommitRequestPartition>> = BTreeMap::new();
        for (tp, om) in offsets {
            by_topic.entry(tp.topic.as_str()).or_default().push(
                OffsetCommitRequestPartition::default()
                    .with_partition_index(tp.partition)
                    .with_committed_offset(om.offset)
                    .with_committed_leader_epoch(om.leader_epoch.unwrap_or(-1))
                    .with_committed_metadata(om.metadata.as_deref().map(str_bytes)),
            );
        }
        let topics: Vec<OffsetCommitRequestTopic> = by_topic
            .into_iter()
            .map(|(t, p)| {
                OffsetCommitRequestTopic::default()
                    .with_name(topic_name(t))
                    .with_partitions(p)
            })
            .collect();
        client
            .with_retries("OffsetCommit", || async {
                let req = OffsetCommitRequest::default()
                    .with_group_id(GroupId(str_bytes(group_id)))
                    .with_generation_id_or_member_epoch(-1)
                    .with_member_id(str_bytes(""))
                    .with_retention_time_ms(-1)
                    .with_topics(topics.clone());
                let resp = client
                    .send(Target::GroupCoordinator(group_id.to_string()), req)
                    .await?;
                let mut out = BTreeMap::new();
                for t in &resp.topics {
                    for p in &t.partitions {
                        let tp = TopicPartition::new(t.name.to_string(), p.partition_index);
                        let result = Error::check(
                            p.error_code,
                            None,
                            "OffsetCommit",
                            Some(&tp.topic),
                            Some(tp.partition),
                        );
                        if let Err(e) = &result {
                            if e.invalidates_coordinator()
                                || e.code() == Some(ErrorCode::COORDINATOR_LOAD_IN_PROGRESS)
                            {
                                // Retry the whole commit against the (new) coordinator.
                                self.check_group_error(
                                    group_id,
                                    p.error_code,
                                    None,
                                    "OffsetCommit",
                                )?;
                            }
                        }
                        out.insert(tp, result);
                    }
                }
                Ok(out)
            })
            .await
    }
}
