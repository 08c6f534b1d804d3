//! KIP-848 consumer groups (`group.protocol=consumer`): ConsumerGroupDescribe (API 69), each
//! group asked of its coordinator, as Java's `Admin.describeConsumerGroups` does for groups of
//! the consumer type. Members, their epochs, and each member's current and target
//! assignment; topic names as the broker resolved them.

use std::collections::BTreeMap;

use futures::future::join_all;
use kafka_protocol::messages::consumer_group_describe_response::Assignment;
use kafka_protocol::messages::{ConsumerGroupDescribeRequest, GroupId};
use rafka_wire::error_code::ErrorCode;
use rafka_wire::TopicPartition;

use super::{str_bytes, Admin};
use crate::client::Target;
use crate::error::Error;

/// A member of a KIP-848 consumer group as ConsumerGroupDescribe reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerGroupMember {
    /// The member id (client-generated from ConsumerGroupHeartbeat v1, KIP-1082).
    pub member_id: String,
    /// `group.instance.id` of a static member.
    pub instance_id: Option<String>,
    /// `client.rack`.
    pub rack_id: Option<String>,
    /// The member epoch: the group epoch of the member's last acknowledged assignment.
    pub member_epoch: i32,
    /// The member's `client.id`.
    pub client_id: String,
    /// The member's host as the broker saw it.
    pub client_host: String,
    /// Subscribed topic names (empty with a regex subscription).
    pub subscribed_topics: Vec<String>,
    /// The subscription's regex (RE2J), if any.
    pub subscribed_regex: Option<String>,
    /// Partitions the member owns now (acknowledged).
    pub assignment: Vec<TopicPartition>,
    /// Partitions the broker wants it to own (reconciliation pending while they differ).
    pub target_assignment: Vec<TopicPartition>,
    /// `Some(true)` for a member that still speaks the classic protocol in a KIP-848 group
    /// (the upgrade path, ConsumerGroupDescribe v1+), `None` when the broker does not say.
    pub classic: Option<bool>,
}

/// A KIP-848 consumer group as ConsumerGroupDescribe reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerGroupDescription {
    /// Group id.
    pub group_id: String,
    /// `Empty`, `Assigning`, `Reconciling`, `Stable` or `Dead` (broker spelling).
    pub state: String,
    /// The group epoch (bumped by every membership or subscription change).
    pub group_epoch: i32,
    /// The epoch of the target assignment.
    pub assignment_epoch: i32,
    /// The server assignor in use (`uniform`, `range`).
    pub assignor: String,
    /// Members.
    pub members: Vec<ConsumerGroupMember>,
    /// The coordinator node id.
    pub coordinator: i32,
}

fn partitions(a: &Assignment) -> Vec<TopicPartition> {
    let mut out: Vec<TopicPartition> = a
        .topic_partitions
        .iter()
        .flat_map(|t| {
            t.partitions
                .iter()
                .map(|p| TopicPartition::new(t.topic_name.to_string(), *p))
        })
        .collect();
    out.sort();
    out
}

impl Admin {
    /// Describes KIP-848 consumer groups, each asked of its coordinator (ConsumerGroupDescribe,
    /// API 69; Apache Kafka 4.0+). A classic group answers GROUP_ID_NOT_FOUND here (Java then
    /// falls back to DescribeGroups): use [`Admin::describe_groups`] for it.
    ///
    /// # Errors
    /// Never for the whole call: every group gets its own result (coordinator lookup errors,
    /// GROUP_ID_NOT_FOUND, a broker without the API as [`Error::NoCommonVersion`]).
    pub async fn describe_consumer_groups(
        &self,
        group_ids: &[&str],
    ) -> Result<BTreeMap<String, Result<ConsumerGroupDescription, Error>>, Error> {
        let answers = join_all(
            group_ids
                .iter()
                .map(|g| async move { (g.to_string(), self.describe_consumer_group(g).await) }),
        )
        .await;
        Ok(answers.into_iter().collect())
    }

    async fn describe_consumer_group(
        &self,
        group_id: &str,
    ) -> Result<ConsumerGroupDescription, Error> {
        let client = self.client();
        client
            .with_retries("ConsumerGroupDescribe", || async {
                let coordinator = client.group_coordinator(group_id).await?;
                let req = ConsumerGroupDescribeRequest::default()
                    .with_group_ids(vec![GroupId(str_bytes(group_id))]);
                let resp = client
                    .send(Target::GroupCoordinator(group_id.to_string()), req)
                    .await?;
                let g = resp.groups.first().ok_or_else(|| {
                    Error::broker(
                        ErrorCode::UNKNOWN_SERVER_ERROR,
                        Some("empty ConsumerGroupDescribe answer".into()),
                        "ConsumerGroupDescribe",
                    )
                })?;
                self.check_group_error(
                    group_id,
                    g.error_code,
                    g.error_message.as_deref(),
                    "ConsumerGroupDescribe",
                )?;
                Ok(ConsumerGroupDescription {
                    group_id: g.group_id.to_string(),
                    state: g.group_state.to_string(),
                    group_epoch: g.group_epoch,
                    assignment_epoch: g.assignment_epoch,
                    assignor: g.assignor_name.to_string(),
                    members: g
                        .members
                        .iter()
                        .map(|m| ConsumerGroupMember {
                            member_id: m.member_id.to_string(),
                            instance_id: m.instance_id.as_ref().map(|s| s.to_string()),
                            rack_id: m.rack_id.as_ref().map(|s| s.to_string()),
                            member_epoch: m.member_epoch,
                            client_id: m.client_id.to_string(),
                            client_host: m.client_host.to_string(),
                            subscribed_topics: m
                                .subscribed_topic_names
                                .iter()
                                .map(|t| t.to_string())
                                .collect(),
                            subscribed_regex: m
                                .subscribed_topic_regex
                                .as_ref()
                                .map(|s| s.to_string())
                                .filter(|s| !s.is_empty()),
                            assignment: partitions(&m.assignment),
                            target_assignment: partitions(&m.target_assignment),
                            classic: match m.member_type {
                                0 => Some(true),
                                1 => Some(false),
                                _ => None,
                            },
                        })
                        .collect(),
                    coordinator,
                })
            })
            .await
    }
}
