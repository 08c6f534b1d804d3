//! [`Client`]'s metadata: cached snapshots, coalesced refreshes and the Metadata request.

use std::sync::Arc;
use std::time::Duration;

use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::{MetadataRequest, TopicName};
use kafka_protocol::protocol::StrBytes;
use rand::seq::SliceRandom;

use super::Client;
use crate::config::MetadataRecoveryStrategy;
use crate::error::{BrokerRef, Error};
use crate::metadata::{BrokerInfo, Cluster, LeaderHint, TopicSelection};
use crate::pool::Purpose;

impl Client {
    // ----- metadata -----

    /// The cached metadata, refreshed first when older than `metadata.max.age.ms` or marked
    /// stale by an error.
    ///
    /// # Errors
    /// The refresh's error when no cached metadata exists yet; with a cache, a failed refresh
    /// falls back to it.
    pub async fn metadata(&self) -> Result<Arc<Cluster>, Error> {
        let cluster = self.inner.metadata.snapshot();
        if self.inner.metadata.is_stale()
            || cluster.is_older_than(self.inner.config.metadata_max_age, crate::now())
        {
            match self.refresh_metadata().await {
                Ok(c) => return Ok(c),
                Err(e) if cluster.updated_at.is_none() => return Err(e),
                Err(e) => tracing::debug!(error = %e, "metadata refresh failed; using cache"),
            }
        }
        Ok(cluster)
    }

    /// The cached metadata as is, without any request.
    pub fn cached_metadata(&self) -> Arc<Cluster> {
        self.inner.metadata.snapshot()
    }

    /// Metadata that covers `topics`: adds them to the tracked set and refreshes when the cache
    /// says nothing about one of them. A topic the broker does not know is then in
    /// [`Cluster::topic_errors`].
    ///
    /// # Errors
    /// The refresh's error.
    pub async fn metadata_for(&self, topics: &[&str]) -> Result<Arc<Cluster>, Error> {
        self.inner.metadata.track(topics.iter().copied());
        let mut cluster = self.metadata().await?;
        for _ in 0..3 {
            if topics.iter().all(|t| cluster.knows_topic(t)) {
                break;
            }
            cluster = self.refresh_metadata().await?;
        }
        Ok(cluster)
    }

    /// Stops tracking a topic in metadata refreshes.
    pub fn untrack_topic(&self, topic: &str) {
        self.inner.metadata.untrack(topic);
    }

    /// Applies leader hints from a Produce or Fetch error response (KIP-951) to the cached
    /// metadata, so the next request goes to the new leader without a Metadata round trip.
    /// Returns true when a hint was newer than the cache; false means nothing changed and
    /// the caller should [`Client::invalidate_metadata`] instead.
    pub fn apply_leader_hints(&self, hints: &[LeaderHint], endpoints: &[BrokerInfo]) -> bool {
        self.inner.metadata.apply_leader_hints(hints, endpoints)
    }

    /// Marks the metadata stale: the next lookup refreshes it.
    pub fn invalidate_metadata(&self) {
        self.inner.metadata.mark_stale();
    }

    /// Refreshes metadata for the tracked topics. Concurrent calls coalesce into one request.
    ///
    /// # Errors
    /// The error of the last broker tried when none answered.
    pub async fn refresh_metadata(&self) -> Result<Arc<Cluster>, Error> {
        self.refresh(false).await
    }

    /// Refreshes metadata for every topic in the cluster (regex subscriptions, listing).
    ///
    /// # Errors
    /// As [`Client::refresh_metadata`].
    pub async fn refresh_all_topics(&self) -> Result<Arc<Cluster>, Error> {
        self.refresh(true).await
    }

    async fn refresh(&self, all: bool) -> Result<Arc<Cluster>, Error> {
        let state = &self.inner.metadata;
        let generation = state.generation();
        let tracked_before = state.tracked();
        let _guard = state.refresh_lock.lock().await;
        if state.generation() != generation && !state.is_stale() {
            // A refresh finished while we waited; use it if it covered what we need.
            let cluster = state.snapshot();
            if (!all || cluster.has_all_topics)
                && tracked_before.iter().all(|t| cluster.knows_topic(t))
            {
                return Ok(cluster);
            }
        }
        let selection = if all {
            TopicSelection::All
        } else {
            TopicSelection::Topics(state.tracked())
        };
        let response = self.metadata_request(&selection).await?;
        let merged = state.snapshot().merge(&response, &selection, crate::now());
        tracing::debug!(
            brokers = merged.brokers.len(),
            topics = merged.topics.len(),
            "metadata refreshed"
        );
        let cluster = state.store(merged);
        if !cluster.brokers.is_empty() {
            // Bootstrap connections have served their purpose once real node ids are known
            // (as Java's NetworkClient does); a connection still in use lives on in its users.
            self.inner
                .slots
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .retain(|(id, _), _| *id >= 0);
        }
        Ok(cluster)
    }

    /// Sends Metadata to the candidates in turn until one answers; see [`candidate_order`].
    async fn metadata_request(
        &self,
        selection: &TopicSelection,
    ) -> Result<kafka_protocol::messages::MetadataResponse, Error> {
        let cluster = self.inner.metadata.snapshot();
        let mut known: Vec<BrokerRef> = cluster
            .brokers
            .values()
            .map(|b| BrokerRef {
                node_id: b.node_id,
                addr: b.addr(),
            })
            .collect();
        known.shuffle(&mut rand::thread_rng());
        known.insert(0, self.any_broker());
        let config = &self.inner.config;
        let candidates = candidate_order(
            known,
            &self.inner.bootstrap,
            cluster
                .updated_at
                .map(|at| crate::now().saturating_duration_since(at)),
            config.metadata_recovery_strategy,
            config.metadata_recovery_rebootstrap_trigger,
        );

        let topics = match selection {
            TopicSelection::All => None,
            TopicSelection::Topics(t) => Some(
                t.iter()
                    .map(|name| {
                        MetadataRequestTopic::default()
                            .with_name(Some(TopicName(StrBytes::from_string(name.clone()))))
                    })
                    .collect(),
            ),
        };
        let mut last = None;
        for broker in candidates {
            let slot = self.slot(&broker, Purpose::General);
            let conn = match slot
                .get(
                    &self.inner.connector,
                    self.inner.config.connections_max_idle,
                )
                .await
            {
                Ok(c) => c,
                Err(e) => {
                    last = Some(e);
                    continue;
                }
            };
            let req = MetadataRequest::default()
                .with_topics(topics.clone())
                .with_allow_auto_topic_creation(self.inner.config.allow_auto_create_topics);
            match conn.send(&req).await {
                Ok(resp) => return Ok(resp),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or(Error::ClientClosed))
    }

    /// The leader of a partition, from metadata (refreshed when the topic is not known yet).
    ///
    /// # Errors
    /// [`Error::UnknownTopicOrPartition`], [`Error::LeaderNotAvailable`], refresh errors.
    pub async fn leader_for(&self, topic: &str, partition: i32) -> Result<i32, Error> {
        let cluster = self.metadata_for(&[topic]).await?;
        cluster.leader_for(topic, partition)
    }

    /// The controller's node id, when metadata names one.
    ///
    /// # Errors
    /// Metadata refresh errors.
    pub async fn controller(&self) -> Result<Option<i32>, Error> {
        Ok(self.metadata().await?.controller)
    }
}

/// The brokers a Metadata request tries, in order, without repeats (by address):
/// - before any metadata (`age` is `None`): the live connection, then the bootstrap servers;
/// - with `metadata.recovery.strategy=rebootstrap` (KIP-899): the known brokers (`known`, the
///   live connection first), then the bootstrap servers, so a cluster whose every broker moved
///   is found again behind its bootstrap address; once metadata is older than
///   `metadata.recovery.rebootstrap.trigger.ms` (KIP-1102) the bootstrap servers go first;
/// - with `none`: the known brokers only.
fn candidate_order(
    known: Vec<BrokerRef>,
    bootstrap: &[BrokerRef],
    age: Option<Duration>,
    strategy: MetadataRecoveryStrategy,
    trigger: Duration,
) -> Vec<BrokerRef> {
    let mut candidates = match (age, strategy) {
        (None, _) => [known, bootstrap.to_vec()].concat(),
        (Some(age), MetadataRecoveryStrategy::Rebootstrap) if age >= trigger => {
            [bootstrap.to_vec(), known].concat()
        }
        (Some(_), MetadataRecoveryStrategy::Rebootstrap) => [known, bootstrap.to_vec()].concat(),
        (Some(_), MetadataRecoveryStrategy::None) => known,
    };
    let mut seen = std::collections::HashSet::new();
    candidates.retain(|b| seen.insert(b.addr.clone()));
    candidates
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(node_id: i32, port: u16) -> BrokerRef {
        BrokerRef {
            node_id,
            addr: format!("127.0.0.1:{port}"),
        }
    }

    fn ports(order: &[BrokerRef]) -> Vec<&str> {
        order.iter().map(|b| &b.addr[10..]).collect()
    }

    #[test]
    fn rebootstrap_tries_known_brokers_then_the_bootstrap_servers() {
        use MetadataRecoveryStrategy::{None as Stay, Rebootstrap};
        let known = || vec![at(1, 1), at(2, 2)];
        let bootstrap = [at(-1, 9), at(-2, 2)];
        let trigger = Duration::from_secs(300);
        let fresh = Some(Duration::from_secs(1));
        let old = Some(Duration::from_secs(301));
        let order = |age, strategy| candidate_order(known(), &bootstrap, age, strategy, trigger);
        assert_eq!(ports(&order(None, Stay)), ["1", "2", "9"]);
        assert_eq!(ports(&order(fresh, Rebootstrap)), ["1", "2", "9"]);
        assert_eq!(ports(&order(old, Rebootstrap)), ["9", "2", "1"]);
        assert_eq!(ports(&order(fresh, Stay)), ["1", "2"]);
        assert_eq!(ports(&order(old, Stay)), ["1", "2"]);
    }
}
