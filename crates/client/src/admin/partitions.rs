//! Growing topics and deleting their oldest records: CreatePartitions (KIP-195) on the
//! controller, DeleteRecords (KIP-107) on each partition's leader.

use std::collections::BTreeMap;

use kafka_protocol::messages::create_partitions_request::CreatePartitionsTopic;
use kafka_protocol::messages::delete_records_request::{
    DeleteRecordsPartition, DeleteRecordsTopic,
};
use kafka_protocol::messages::{CreatePartitionsRequest, DeleteRecordsRequest};
use rafka_wire::TopicPartition;

use super::leaders::{per_leader, LeaderAnswers};
use super::{topic_name, Admin};
use crate::client::Target;
use crate::error::Error;

/// DeleteRecords' offset meaning "up to the high watermark" (Java's `RecordsToDelete` of -1).
pub const DELETE_TO_HIGH_WATERMARK: i64 = -1;

impl Admin {
    /// Raises topics' partition counts to the given totals (Java's `createPartitions` with
    /// `NewPartitions.increaseTo`), letting the controller place the new replicas. Retries
    /// retriable failures until `default.api.timeout.ms`; per-topic errors come back in the map
    /// (INVALID_PARTITIONS when a count is not above the current one, UNKNOWN_TOPIC_OR_PARTITION).
    /// With `validate_only` the controller only checks the request. New partitions are added to
    /// the tracked metadata once they have leaders.
    ///
    /// # Errors
    /// The error of the whole request after retries.
    pub async fn create_partitions(
        &self,
        totals: &[(&str, i32)],
        validate_only: bool,
    ) -> Result<BTreeMap<String, Result<(), Error>>, Error> {
        let request = CreatePartitionsRequest::default()
            .with_topics(
                totals
                    .iter()
                    .map(|(name, count)| {
                        CreatePartitionsTopic::default()
                            .with_name(topic_name(name))
                            .with_count(*count)
                            .with_assignments(None)
                    })
                    .collect(),
            )
            .with_timeout_ms(self.request_timeout_ms())
            .with_validate_only(validate_only);
        let out = self
            .send_topics_to_controller("CreatePartitions", request, |resp| {
                resp.results
                    .iter()
                    .map(|t| {
                        let message = t.error_message.as_ref().map(|m| m.to_string());
                        (t.name.to_string(), t.error_code, message)
                    })
                    .collect()
            })
            .await?;
        if !validate_only {
            let grown: Vec<&str> = out
                .iter()
                .filter(|(_, r)| r.is_ok())
                .map(|(n, _)| n.as_str())
                .collect();
            self.wait_for_partitions(&grown, totals).await?;
        }
        Ok(out)
    }

    /// Waits until metadata shows each topic with its new partition count, every partition led.
    async fn wait_for_partitions(
        &self,
        topics: &[&str],
        totals: &[(&str, i32)],
    ) -> Result<(), Error> {
        if topics.is_empty() {
            return Ok(());
        }
        let client = self.client();
        client
            .with_retries("wait for new partitions", || async {
                client.invalidate_metadata();
                let cluster = client.metadata_for(topics).await?;
                for (topic, total) in totals.iter().filter(|(t, _)| topics.contains(t)) {
                    for p in 0..*total {
                        cluster.leader_for(topic, p)?;
                    }
                }
                Ok(())
            })
            .await
    }

    /// Deletes every record before `offset` in each partition (Java's `deleteRecords`): the
    /// log start offset moves up, and consumers at older offsets get OFFSET_OUT_OF_RANGE.
    /// [`DELETE_TO_HIGH_WATERMARK`] deletes everything up to the high watermark. Answers the
    /// new low watermark (log start offset) per partition; per-partition errors come back in the
    /// map (OFFSET_OUT_OF_RANGE for an offset above the high watermark), and stale-metadata
    /// errors are retried on the new leader until `default.api.timeout.ms`.
    ///
    /// # Errors
    /// Only metadata errors that leave no partition routable.
    pub async fn delete_records(
        &self,
        before: &[(TopicPartition, i64)],
    ) -> Result<BTreeMap<TopicPartition, Result<i64, Error>>, Error> {
        per_leader(self.client(), before, |leader, parts| async move {
            self.delete_records_on(leader, &parts).await
        })
        .await
    }

    /// One DeleteRecords request to `leader`.
    async fn delete_records_on(
        &self,
        leader: i32,
        parts: &[(TopicPartition, i64)],
    ) -> Result<LeaderAnswers<i64>, Error> {
        let mut topics: BTreeMap<&str, Vec<DeleteRecordsPartition>> = BTreeMap::new();
        for (tp, offset) in parts {
            topics.entry(tp.topic.as_str()).or_default().push(
                DeleteRecordsPartition::default()
                    .with_partition_index(tp.partition)
                    .with_offset(*offset),
            );
        }
        let request = DeleteRecordsRequest::default()
            .with_timeout_ms(self.request_timeout_ms())
            .with_topics(
                topics
                    .into_iter()
                    .map(|(t, p)| {
                        DeleteRecordsTopic::default()
                            .with_name(topic_name(t))
                            .with_partitions(p)
                    })
                    .collect(),
            );
        let resp = self.client().send(Target::Broker(leader), request).await?;
        let mut out = BTreeMap::new();
        for t in &resp.topics {
            for p in &t.partitions {
                let tp = TopicPartition::new(t.name.to_string(), p.partition_index);
                let result = Error::check(
                    p.error_code,
                    None,
                    "DeleteRecords",
                    Some(&tp.topic),
                    Some(tp.partition),
                )
                .map(|()| p.low_watermark);
                out.insert(tp, result);
            }
        }
        Ok(out)
    }
}
