//! The cluster as the last Metadata responses described it, and the rules for merging a new
//! response into it (sans-IO).
//!
//! Merge rules (after Java's `Metadata.update` and KIP-320):
//! - brokers, controller and cluster id are replaced: every response lists them all;
//! - with [`TopicSelection::All`] the topic set is replaced; with a list, only the listed topics
//!   change and others stay as cached;
//! - a topic answered with UNKNOWN_TOPIC_OR_PARTITION (or another topic error) is dropped from
//!   the cache and its error remembered, so callers can tell "missing" from "not asked yet";
//! - a partition whose new leader epoch is lower than the cached one comes from a broker with
//!   stale metadata: the cached partition is kept (KIP-320).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use kafka_protocol::messages::MetadataResponse;
use rafka_wire::error_code::ErrorCode;

use crate::error::Error;

/// Which topics a Metadata request asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopicSelection {
    /// Every topic (regex subscriptions, `list_topics`).
    All,
    /// These topics only (possibly none: brokers and controller only).
    Topics(BTreeSet<String>),
}

/// A broker from Metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerInfo {
    /// Node id.
    pub node_id: i32,
    /// Advertised host.
    pub host: String,
    /// Advertised port.
    pub port: u16,
    /// `broker.rack`, if set.
    pub rack: Option<String>,
}

impl BrokerInfo {
    /// `host:port` (IPv6 hosts bracketed).
    pub fn addr(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// A partition from Metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionInfo {
    /// Partition index.
    pub partition: i32,
    /// Leader node id; `None` while no leader is available.
    pub leader: Option<i32>,
    /// Leader epoch (KIP-320); -1 when the broker does not send it.
    pub leader_epoch: i32,
    /// Replica node ids.
    pub replicas: Vec<i32>,
    /// In-sync replica node ids.
    pub isr: Vec<i32>,
    /// Offline replica node ids.
    pub offline_replicas: Vec<i32>,
    /// The partition's error in the response (LEADER_NOT_AVAILABLE during elections).
    pub error: ErrorCode,
}

/// A topic from Metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicInfo {
    /// Topic name.
    pub name: String,
    /// Topic id (KIP-516), all zero when the broker does not send it.
    pub topic_id: [u8; 16],
    /// True for internal topics (`__consumer_offsets`).
    pub is_internal: bool,
    /// Partitions by index.
    pub partitions: BTreeMap<i32, PartitionInfo>,
}

/// A snapshot of cluster metadata. Cheap to share behind an `Arc`; a refresh builds a new one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cluster {
    /// Cluster id (KIP-78).
    pub cluster_id: Option<String>,
    /// Controller node id, when known.
    pub controller: Option<i32>,
    /// Brokers by node id.
    pub brokers: BTreeMap<i32, BrokerInfo>,
    /// Topics by name.
    pub topics: BTreeMap<String, TopicInfo>,
    /// Topics the last response that asked for them answered with an error.
    pub topic_errors: BTreeMap<String, ErrorCode>,
    /// Whether the last merge covered every topic.
    pub has_all_topics: bool,
    /// When the last merge happened; `None` before the first.
    pub updated_at: Option<Instant>,
}

impl Cluster {
    /// Merges a Metadata response for `selection` received at `now` into a new snapshot.
    pub fn merge(
        &self,
        response: &MetadataResponse,
        selection: &TopicSelection,
        now: Instant,
    ) -> Cluster {
        let mut next = Cluster {
            cluster_id: response.cluster_id.as_ref().map(|s| s.to_string()),
            controller: (response.controller_id.0 >= 0).then_some(response.controller_id.0),
            brokers: response
                .brokers
                .iter()
                .filter_map(|b| {
                    Some((
                        b.node_id.0,
                        BrokerInfo {
                            node_id: b.node_id.0,
                            host: b.host.to_string(),
                            port: u16::try_from(b.port).ok()?,
                            rack: b.rack.as_ref().map(|r| r.to_string()),
                        },
                    ))
                })
                .collect(),
            topics: match selection {
                TopicSelection::All => BTreeMap::new(),
                TopicSelection::Topics(_) => self.topics.clone(),
            },
            topic_errors: match selection {
                TopicSelection::All => BTreeMap::new(),
                TopicSelection::Topics(_) => self.topic_errors.clone(),
            },
            has_all_topics: matches!(selection, TopicSelection::All),
            updated_at: Some(now),
        };
        for topic in &response.topics {
            let Some(name) = topic.name.as_ref().map(|n| n.0.to_string()) else {
                continue;
            };
            let code = ErrorCode(topic.error_code);
            if !code.is_ok() && topic.partitions.is_empty() {
                next.topics.remove(&name);
                next.topic_errors.insert(name, code);
                continue;
            }
            next.topic_errors.remove(&name);
            let old = self.topics.get(&name);
            let partitions = topic
                .partitions
                .iter()
                .map(|p| {
                    let fresh = PartitionInfo {
                        partition: p.partition_index,
                        leader: (p.leader_id.0 >= 0).then_some(p.leader_id.0),
                        leader_epoch: p.leader_epoch,
                        replicas: p.replica_nodes.iter().map(|n| n.0).collect(),
                        isr: p.isr_nodes.iter().map(|n| n.0).collect(),
                        offline_replicas: p.offline_replicas.iter().map(|n| n.0).collect(),
                        error: ErrorCode(p.error_code),
                    };
                    let cached = old.and_then(|t| t.partitions.get(&p.partition_index));
                    let keep_cached = matches!(cached, Some(c) if fresh.leader_epoch >= 0 && c.leader_epoch > fresh.leader_epoch);
                    match (keep_cached, cached) {
                        (true, Some(c)) => (p.partition_index, c.clone()),
                        _ => (p.partition_index, fresh),
                    }
                })
                .collect();
            next.topics.insert(
                name.clone(),
                TopicInfo {
                    name,
                    topic_id: *topic.topic_id.as_bytes(),
                    is_internal: topic.is_internal,
                    partitions,
                },
            );
        }
        next
    }

    /// True when the snapshot is older than `max_age` (`metadata.max.age.ms`) or empty.
    pub fn is_older_than(&self, max_age: Duration, now: Instant) -> bool {
        match self.updated_at {
            None => true,
            Some(at) => now.saturating_duration_since(at) >= max_age,
        }
    }

    /// Whether the snapshot says anything about `topic`: present, or known to be in error.
    pub fn knows_topic(&self, topic: &str) -> bool {
        self.has_all_topics
            || self.topics.contains_key(topic)
            || self.topic_errors.contains_key(topic)
    }

    /// The leader of a partition.
    ///
    /// # Errors
    /// [`Error::UnknownTopicOrPartition`] when the topic or partition is not in the snapshot,
    /// [`Error::LeaderNotAvailable`] while it has no leader.
    pub fn leader_for(&self, topic: &str, partition: i32) -> Result<i32, Error> {
        let p = self
            .topics
            .get(topic)
            .and_then(|t| t.partitions.get(&partition))
            .ok_or_else(|| Error::UnknownTopicOrPartition {
                topic: topic.to_string(),
                partition: Some(partition),
            })?;
        p.leader.ok_or_else(|| Error::LeaderNotAvailable {
            topic: topic.to_string(),
            partition,
        })
    }

    /// Number of partitions of a topic, if known.
    pub fn partition_count(&self, topic: &str) -> Option<usize> {
        self.topics.get(topic).map(|t| t.partitions.len())
    }

    /// A broker by node id.
    pub fn broker(&self, node_id: i32) -> Option<&BrokerInfo> {
        self.brokers.get(&node_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::metadata_response::{
        MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
    };
    use kafka_protocol::messages::{BrokerId, TopicName};
    use kafka_protocol::protocol::StrBytes;

    fn partition(index: i32, leader: i32, epoch: i32) -> MetadataResponsePartition {
        MetadataResponsePartition::default()
            .with_partition_index(index)
            .with_leader_id(BrokerId(leader))
            .with_leader_epoch(epoch)
            .with_replica_nodes(vec![BrokerId(leader)])
            .with_isr_nodes(vec![BrokerId(leader)])
    }

    fn topic(
        name: &str,
        error: i16,
        partitions: Vec<MetadataResponsePartition>,
    ) -> MetadataResponseTopic {
        MetadataResponseTopic::default()
            .with_name(Some(TopicName(StrBytes::from_string(name.to_string()))))
            .with_error_code(error)
            .with_partitions(partitions)
    }

    fn response(topics: Vec<MetadataResponseTopic>) -> MetadataResponse {
        MetadataResponse::default()
            .with_cluster_id(Some(StrBytes::from_static_str("c1")))
            .with_controller_id(BrokerId(1))
            .with_brokers(vec![
                MetadataResponseBroker::default()
                    .with_node_id(BrokerId(1))
                    .with_host(StrBytes::from_static_str("a"))
                    .with_port(9092),
                MetadataResponseBroker::default()
                    .with_node_id(BrokerId(2))
                    .with_host(StrBytes::from_static_str("b"))
                    .with_port(9093),
            ])
            .with_topics(topics)
    }

    fn only(names: &[&str]) -> TopicSelection {
        TopicSelection::Topics(names.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn first_merge_fills_everything() {
        let now = Instant::now();
        let c = Cluster::default().merge(
            &response(vec![topic(
                "t",
                0,
                vec![partition(0, 1, 5), partition(1, 2, 3)],
            )]),
            &only(&["t"]),
            now,
        );
        assert_eq!(c.cluster_id.as_deref(), Some("c1"));
        assert_eq!(c.controller, Some(1));
        assert_eq!(c.broker(2).unwrap().addr(), "b:9093");
        assert_eq!(c.leader_for("t", 1).unwrap(), 2);
        assert_eq!(c.partition_count("t"), Some(2));
        assert!(matches!(
            c.leader_for("t", 7),
            Err(Error::UnknownTopicOrPartition { .. })
        ));
        assert!(!c.is_older_than(Duration::from_secs(1), now));
        assert!(c.is_older_than(Duration::from_secs(1), now + Duration::from_secs(1)));
    }

    #[test]
    fn listed_refresh_keeps_other_topics_all_refresh_replaces() {
        let now = Instant::now();
        let c = Cluster::default().merge(
            &response(vec![
                topic("a", 0, vec![partition(0, 1, 0)]),
                topic("b", 0, vec![partition(0, 1, 0)]),
            ]),
            &TopicSelection::All,
            now,
        );
        assert!(c.has_all_topics);
        let c2 = c.merge(
            &response(vec![topic("a", 0, vec![partition(0, 2, 1)])]),
            &only(&["a"]),
            now,
        );
        assert_eq!(c2.leader_for("a", 0).unwrap(), 2);
        assert!(c2.topics.contains_key("b"));
        assert!(!c2.has_all_topics);
        let c3 = c2.merge(
            &response(vec![topic("a", 0, vec![partition(0, 2, 1)])]),
            &TopicSelection::All,
            now,
        );
        assert!(!c3.topics.contains_key("b"));
    }

    #[test]
    fn unknown_topic_is_dropped_and_remembered() {
        let now = Instant::now();
        let c = Cluster::default().merge(
            &response(vec![topic("t", 0, vec![partition(0, 1, 0)])]),
            &only(&["t"]),
            now,
        );
        let c = c.merge(&response(vec![topic("t", 3, vec![])]), &only(&["t"]), now);
        assert!(!c.topics.contains_key("t"));
        assert_eq!(
            c.topic_errors.get("t"),
            Some(&ErrorCode::UNKNOWN_TOPIC_OR_PARTITION)
        );
        assert!(c.knows_topic("t"));
        assert!(!c.knows_topic("u"));
        let c = c.merge(
            &response(vec![topic("t", 0, vec![partition(0, 1, 0)])]),
            &only(&["t"]),
            now,
        );
        assert!(c.topic_errors.is_empty());
    }

    #[test]
    fn stale_leader_epoch_is_ignored() {
        let now = Instant::now();
        let c = Cluster::default().merge(
            &response(vec![topic("t", 0, vec![partition(0, 2, 7)])]),
            &only(&["t"]),
            now,
        );
        // A lagging broker still says node 1 at epoch 6: keep node 2 at epoch 7.
        let c = c.merge(
            &response(vec![topic("t", 0, vec![partition(0, 1, 6)])]),
            &only(&["t"]),
            now,
        );
        assert_eq!(c.leader_for("t", 0).unwrap(), 2);
        assert_eq!(c.topics["t"].partitions[&0].leader_epoch, 7);
        // A newer epoch wins.
        let c = c.merge(
            &response(vec![topic("t", 0, vec![partition(0, 1, 8)])]),
            &only(&["t"]),
            now,
        );
        assert_eq!(c.leader_for("t", 0).unwrap(), 1);
    }

    #[test]
    fn leaderless_partition() {
        let c = Cluster::default().merge(
            &response(vec![topic(
                "t",
                0,
                vec![partition(0, -1, 2).with_error_code(5)],
            )]),
            &only(&["t"]),
            Instant::now(),
        );
        assert!(matches!(
            c.leader_for("t", 0),
            Err(Error::LeaderNotAvailable { partition: 0, .. })
        ));
        assert_eq!(
            c.topics["t"].partitions[&0].error,
            ErrorCode::LEADER_NOT_AVAILABLE
        );
    }
}
