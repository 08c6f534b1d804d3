//! The default store: positions live in Kafka's `__consumer_offsets`, committed by the consumer.

use std::collections::HashMap;

use rafka_wire::TopicPartition;

use super::{OffsetStore, StoreError};

/// The default offset store: [`OffsetStore::is_kafka`] is true, so the consumer itself commits
/// with OffsetCommit (carrying generation and member id) and reads with OffsetFetch.
///
/// `load` and `save` are never called by the consumer for this store; called directly they
/// return an empty map and `Ok(())`.
#[derive(Debug, Default, Clone, Copy)]
pub struct KafkaOffsetStore;

#[async_trait::async_trait]
impl OffsetStore for KafkaOffsetStore {
    async fn load(
        &self,
        _group_id: &str,
        _partitions: &[TopicPartition],
    ) -> Result<HashMap<TopicPartition, i64>, StoreError> {
        Ok(HashMap::new())
    }

    async fn save(
        &self,
        _group_id: &str,
        _offsets: &[(TopicPartition, i64)],
    ) -> Result<(), StoreError> {
        Ok(())
    }

    fn is_kafka(&self) -> bool {
        true
    }
}
