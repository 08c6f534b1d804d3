//! ListOffsets for many partitions at once: grouped by leader, one request per leader sent
//! concurrently, partitions with stale-metadata errors retried after a refresh.
//!
//! Special timestamps (Kafka protocol guide, ListOffsets): -2 earliest, -1 latest (the high
//! watermark, or the last stable offset under read_committed), -3 the offset of the record
//! with the largest timestamp (KIP-734, ListOffsets v7+).

use std::collections::BTreeMap;

use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::{BrokerId, ListOffsetsRequest};
use rafka_wire::error_code::ErrorCode;
use rafka_wire::TopicPartition;

use super::leaders::per_leader;
use super::{topic_name, Admin};
use crate::client::{SendOptions, Target};
pub use crate::config::IsolationLevel;
use crate::error::Error;

/// Which offset to look up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetSpec {
    /// The log start offset (timestamp -2).
    Earliest,
    /// The high watermark, or last stable offset under read_committed (timestamp -1).
    Latest,
    /// The offset of the record with the largest timestamp (timestamp -3, KIP-734).
    MaxTimestamp,
    /// The first offset whose timestamp is at or after this, ms since the epoch.
    Timestamp(i64),
}

impl OffsetSpec {
    /// The `timestamp` field value.
    pub fn timestamp(self) -> i64 {
        match self {
            OffsetSpec::Earliest => -2,
            OffsetSpec::Latest => -1,
            OffsetSpec::MaxTimestamp => -3,
            OffsetSpec::Timestamp(t) => t,
        }
    }
}

/// A ListOffsets answer for one partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListedOffset {
    /// The offset; -1 when no record matches a timestamp.
    pub offset: i64,
    /// The record's timestamp for timestamp lookups, else -1.
    pub timestamp: i64,
    /// The leader epoch of the record (KIP-320), when the broker sends one.
    pub leader_epoch: Option<i32>,
}

impl Admin {
    /// Looks up offsets for many partitions at once.
    ///
    /// Per-partition errors come back in the map; those that mean stale metadata
    /// (NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE,
    /// FENCED_LEADER_EPOCH, ...) and lost connections are retried after a metadata refresh
    /// until `default.api.timeout.ms`.
    ///
    /// # Errors
    /// Only metadata errors that leave no partition routable; everything else is per partition.
    pub async fn list_offsets(
        &self,
        partitions: &[(TopicPartition, OffsetSpec)],
        isolation: IsolationLevel,
    ) -> Result<BTreeMap<TopicPartition, Result<ListedOffset, Error>>, Error> {
        per_leader(self.client(), partitions, |leader, parts| async move {
            self.list_offsets_on(leader, &parts, isolation).await
        })
        .await
    }

    /// One ListOffsets request to `leader`.
    async fn list_offsets_on(
        &self,
        leader: i32,
        parts: &[(TopicPartition, OffsetSpec)],
        isolation: IsolationLevel,
    ) -> Result<BTreeMap<TopicPartition, Result<ListedOffset, Error>>, Error> {
        let mut topics: BTreeMap<&str, Vec<ListOffsetsPartition>> = BTreeMap::new();
        for (tp, spec) in parts {
            topics.entry(tp.topic.as_str()).or_default().push(
                ListOffsetsPartition::default()
                    .with_partition_index(tp.partition)
                    .with_current_leader_epoch(-1)
                    .with_timestamp(spec.timestamp()),
            );
        }
        let needs_max_timestamp = parts.iter().any(|(_, s)| *s == OffsetSpec::MaxTimestamp);
        let mut too_old = false;
        let resp = self
            .client()
            .send_with(Target::Broker(leader), SendOptions::default(), |version| {
                too_old = needs_max_timestamp && version < 7;
                ListOffsetsRequest::default()
                    .with_replica_id(BrokerId(-1))
                    .with_isolation_level(isolation.as_i8())
                    .with_topics(
                        topics
                            .into_iter()
                            .map(|(t, p)| {
                                ListOffsetsTopic::default()
                                    .with_name(topic_name(t))
                                    .with_partitions(p)
                            })
                            .collect(),
                    )
            })
            .await?;
        let mut out = BTreeMap::new();
        for t in &resp.topics {
            for p in &t.partitions {
                let tp = TopicPartition::new(t.name.to_string(), p.partition_index);
                let result = if too_old
                    && parts
                        .iter()
                        .any(|(q, s)| *q == tp && *s == OffsetSpec::MaxTimestamp)
                {
                    Err(Error::broker(
                        ErrorCode::UNSUPPORTED_VERSION,
                        Some("max timestamp lookup needs ListOffsets v7 (KIP-734)".into()),
                        "ListOffsets",
                    ))
                } else {
                    Error::check(
                        p.error_code,
                        None,
                        "ListOffsets",
                        Some(&tp.topic),
                        Some(tp.partition),
                    )
                    .map(|()| ListedOffset {
                        offset: p.offset,
                        timestamp: p.timestamp,
                        leader_epoch: (p.leader_epoch >= 0).then_some(p.leader_epoch),
                    })
                };
                out.insert(tp, result);
            }
        }
        Ok(out)
    }
}
