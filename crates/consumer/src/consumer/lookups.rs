//! Offset and partition lookups on the [`Consumer`] handle, with Java's names: `end_offsets`,
//! `beginning_offsets`, `offsets_for_times` (ListOffsets, grouped by leader and retried after
//! metadata refreshes by the admin client underneath) and `partitions_for` (metadata).

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap};

use rafka_client::admin::{ListedOffset, OffsetSpec};
use rafka_client::Admin;
use rafka_wire::TopicPartition;

use super::Consumer;
use crate::error::ConsumerError;
use crate::list_offsets::OffsetAndTimestamp;
use crate::partition_list::to_vec;

impl Consumer {
    /// The end offset of each partition: the offset the next produced record will get (the
    /// high watermark), or under `isolation.level=read_committed` the last stable offset, the
    /// end of what this consumer can read. Java's `endOffsets`. The partitions need not be
    /// assigned. Lag from a stored position is `end - position`.
    ///
    /// One ListOffsets request per leader, retried after a metadata refresh on leadership
    /// errors until `default.api.timeout.ms`.
    ///
    /// # Errors
    /// [`ConsumerError::OffsetLookup`] naming the first partition that failed (unknown topic
    /// or partition, no leader in time); [`ConsumerError::Client`] when no metadata could be
    /// had.
    pub async fn end_offsets(
        &self,
        partitions: impl IntoIterator<Item = impl Borrow<TopicPartition>>,
    ) -> Result<HashMap<TopicPartition, i64>, ConsumerError> {
        self.lookup("end_offsets", to_vec(partitions), OffsetSpec::Latest)
            .await
    }

    /// The log start offset of each partition: the first offset still stored (0 until
    /// retention or `delete_records` removed records). Java's `beginningOffsets`.
    ///
    /// # Errors
    /// As [`Consumer::end_offsets`].
    pub async fn beginning_offsets(
        &self,
        partitions: impl IntoIterator<Item = impl Borrow<TopicPartition>>,
    ) -> Result<HashMap<TopicPartition, i64>, ConsumerError> {
        self.lookup(
            "beginning_offsets",
            to_vec(partitions),
            OffsetSpec::Earliest,
        )
        .await
    }

    /// For each partition and timestamp (ms since the Unix epoch), the first record whose
    /// timestamp is at or after it (KIP-79); `None` when there is none (the timestamp is
    /// after the last record's). Java's `offsetsForTimes`, where such partitions map to
    /// `null`. Takes pairs, e.g. `[(tp, ts)]`, a `Vec` or a `HashMap<TopicPartition, i64>`.
    ///
    /// # Errors
    /// As [`Consumer::end_offsets`].
    pub async fn offsets_for_times(
        &self,
        timestamps: impl IntoIterator<Item = (TopicPartition, i64)>,
    ) -> Result<HashMap<TopicPartition, Option<OffsetAndTimestamp>>, ConsumerError> {
        let asked: Vec<(TopicPartition, OffsetSpec)> = timestamps
            .into_iter()
            .map(|(tp, ts)| (tp, OffsetSpec::Timestamp(ts)))
            .collect();
        let found = self.list("offsets_for_times", asked).await?;
        Ok(found
            .into_iter()
            .map(|(tp, listed)| {
                let hit = (listed.offset >= 0).then_some(OffsetAndTimestamp {
                    offset: listed.offset,
                    timestamp: listed.timestamp,
                    leader_epoch: listed.leader_epoch,
                });
                (tp, hit)
            })
            .collect())
    }

    /// The partitions of a topic, from metadata, in partition order: ready for
    /// [`Consumer::assign`]. Java's `partitionsFor` (which returns `PartitionInfo`s; leaders
    /// and replicas are in [`rafka_client::Cluster`] through [`Consumer::client`]).
    ///
    /// # Errors
    /// [`ConsumerError::Client`] when metadata cannot be fetched. An unknown topic gives an
    /// empty list, as in Java.
    pub async fn partitions_for(&self, topic: &str) -> Result<Vec<TopicPartition>, ConsumerError> {
        let cluster = self.client.metadata_for(&[topic]).await?;
        let mut partitions: Vec<TopicPartition> = cluster
            .topics
            .get(topic)
            .map(|t| {
                t.partitions
                    .keys()
                    .map(|&p| TopicPartition::new(topic, p))
                    .collect()
            })
            .unwrap_or_default();
        partitions.sort();
        Ok(partitions)
    }

    async fn lookup(
        &self,
        operation: &'static str,
        partitions: Vec<TopicPartition>,
        spec: OffsetSpec,
    ) -> Result<HashMap<TopicPartition, i64>, ConsumerError> {
        let asked = partitions.into_iter().map(|tp| (tp, spec)).collect();
        let found = self.list(operation, asked).await?;
        Ok(found.into_iter().map(|(tp, l)| (tp, l.offset)).collect())
    }

    /// ListOffsets under the consumer's isolation level; the first partition error fails the
    /// whole call.
    async fn list(
        &self,
        operation: &'static str,
        asked: Vec<(TopicPartition, OffsetSpec)>,
    ) -> Result<BTreeMap<TopicPartition, ListedOffset>, ConsumerError> {
        if asked.is_empty() {
            return Ok(BTreeMap::new());
        }
        let admin = Admin::new(self.client.clone());
        let answers = admin
            .list_offsets(&asked, self.config.isolation_level)
            .await?;
        let mut out = BTreeMap::new();
        for (tp, answer) in answers {
            match answer {
                Ok(listed) => {
                    out.insert(tp, listed);
                }
                Err(source) => {
                    return Err(ConsumerError::OffsetLookup {
                        operation,
                        partition: tp,
                        source: Box::new(source),
                    })
                }
            }
        }
        Ok(out)
    }
}
