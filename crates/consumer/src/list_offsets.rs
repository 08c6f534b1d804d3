//! ListOffsets for position resets (Kafka protocol guide, "ListOffsets API"; KIP-79 for
//! timestamps). Sans-IO.
//!
//! Kafka semantics are followed: timestamp -1 asks for the high watermark (read_uncommitted)
//! or the last stable offset (read_committed), -2 for the log start offset, any other value
//! for the first offset whose timestamp is at or after it (the high watermark when none is).
//! Tansu answers -1 with the last batch's base offset + 1 instead of the high watermark
//! (docs/brokers.md); the consumer does not work around that, tests do.

use std::collections::{BTreeMap, HashMap};

use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::{BrokerId, ListOffsetsRequest, ListOffsetsResponse, TopicName};
use kafka_protocol::protocol::StrBytes;
use rafka_wire::error_code::{BrokerError, ErrorCode};
use rafka_wire::TopicPartition;

use crate::config::IsolationLevel;
use crate::error::ConsumerError;

/// Builds a ListOffsets request asking each partition for its `timestamp`.
pub fn list_offsets_request(
    partitions: &[(TopicPartition, i64)],
    isolation: IsolationLevel,
) -> ListOffsetsRequest {
    let mut by_topic: BTreeMap<&str, Vec<ListOffsetsPartition>> = BTreeMap::new();
    for (tp, ts) in partitions {
        by_topic.entry(&tp.topic).or_default().push(
            ListOffsetsPartition::default()
                .with_partition_index(tp.partition)
                .with_current_leader_epoch(-1)
                .with_timestamp(*ts),
        );
    }
    ListOffsetsRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_isolation_level(isolation.as_i8())
        .with_topics(
            by_topic
                .into_iter()
                .map(|(t, parts)| {
                    ListOffsetsTopic::default()
                        .with_name(TopicName(StrBytes::from_string(t.to_string())))
                        .with_partitions(parts)
                })
                .collect(),
        )
}

/// Where [`crate::Consumer::offsets_for_times`] found a partition's first record at or after
/// a timestamp (Java's `OffsetAndTimestamp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetAndTimestamp {
    /// The record's offset.
    pub offset: i64,
    /// The record's timestamp, ms since the Unix epoch.
    pub timestamp: i64,
    /// The leader epoch of the record (KIP-320), when the broker sends one.
    pub leader_epoch: Option<i32>,
}

/// One partition's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListedOffset {
    /// The offset found.
    Offset(i64),
    /// A timestamp lookup found no record at or after the timestamp (offset -1).
    NotFound,
}

/// Reads a ListOffsets response.
///
/// # Errors
/// [`ConsumerError::Broker`] with the first partition error; leadership errors
/// (NOT_LEADER_OR_FOLLOWER, ...) are retriable.
pub fn read_list_offsets(
    response: &ListOffsetsResponse,
) -> Result<HashMap<TopicPartition, ListedOffset>, ConsumerError> {
    let mut out = HashMap::new();
    for topic in &response.topics {
        for p in &topic.partitions {
            let tp = TopicPartition::new(topic.name.0.to_string(), p.partition_index);
            let code = ErrorCode(p.error_code);
            if !code.is_ok() {
                return Err(ConsumerError::Broker {
                    api: "ListOffsets",
                    partition: Some(tp),
                    error: BrokerError {
                        code,
                        message: None,
                    },
                });
            }
            let listed = if p.offset >= 0 {
                ListedOffset::Offset(p.offset)
            } else {
                ListedOffset::NotFound
            };
            out.insert(tp, listed);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use kafka_protocol::messages::list_offsets_response::{
        ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
    };

    use super::*;
    use crate::subscription::ResetTarget;

    #[test]
    fn request_carries_kafka_timestamps_per_target() {
        let req = list_offsets_request(
            &[
                (
                    TopicPartition::new("t", 0),
                    ResetTarget::Earliest.list_offsets_timestamp(),
                ),
                (
                    TopicPartition::new("t", 1),
                    ResetTarget::Latest.list_offsets_timestamp(),
                ),
                (
                    TopicPartition::new("t", 2),
                    ResetTarget::Timestamp(1_700).list_offsets_timestamp(),
                ),
            ],
            IsolationLevel::ReadCommitted,
        );
        assert_eq!(req.isolation_level, 1);
        let ts: Vec<i64> = req.topics[0]
            .partitions
            .iter()
            .map(|p| p.timestamp)
            .collect();
        assert_eq!(ts, [-2, -1, 1_700]);
    }

    #[test]
    fn no_record_after_the_timestamp_is_not_found() {
        let resp =
            ListOffsetsResponse::default().with_topics(vec![ListOffsetsTopicResponse::default()
                .with_name(TopicName(StrBytes::from_static_str("t")))
                .with_partitions(vec![
                    ListOffsetsPartitionResponse::default()
                        .with_partition_index(0)
                        .with_offset(7),
                    ListOffsetsPartitionResponse::default()
                        .with_partition_index(1)
                        .with_offset(-1),
                ])]);
        let map = read_list_offsets(&resp).unwrap();
        assert_eq!(map[&TopicPartition::new("t", 0)], ListedOffset::Offset(7));
        assert_eq!(map[&TopicPartition::new("t", 1)], ListedOffset::NotFound);
    }
}
