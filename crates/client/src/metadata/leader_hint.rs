//! Leader hints (KIP-951): a Produce (v10+) or Fetch (v16+) error response may name the
//! partition's new leader, its leader epoch and the endpoints of brokers the client may not
//! know yet. Applying the hint to the cached [`Cluster`] lets the client resend to the new
//! leader at once, without a Metadata round trip.
//!
//! The rule is Java's `Metadata.updatePartitionLeadership`: a hint is taken only for a cached
//! partition and only when its leader epoch is newer than the cached one, so a late or stale
//! hint never moves a partition back.

use super::cluster::{BrokerInfo, Cluster};

/// The new leader of one partition, as an error response gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderHint {
    /// Topic name.
    pub topic: String,
    /// Partition index.
    pub partition: i32,
    /// The new leader's node id (never negative: responses with -1 carry no hint).
    pub leader_id: i32,
    /// The new leader epoch.
    pub leader_epoch: i32,
}

impl Cluster {
    /// A new snapshot with `hints` applied, or `None` when no hint is newer than the cache.
    ///
    /// `endpoints` are the brokers listed in the same response (`NodeEndpoints`); they are
    /// added or updated so that a new leader unknown to the cache can be reached. A hint
    /// whose leader is neither cached nor in `endpoints` is ignored: the client cannot reach
    /// that leader, and a Metadata refresh is the better answer.
    pub fn with_leader_hints(
        &self,
        hints: &[LeaderHint],
        endpoints: &[BrokerInfo],
    ) -> Option<Cluster> {
        let mut next: Option<Cluster> = None;
        for hint in hints {
            if hint.leader_id < 0 {
                continue;
            }
            let base = next.as_ref().unwrap_or(self);
            let Some(cached) = base
                .topics
                .get(&hint.topic)
                .and_then(|t| t.partitions.get(&hint.partition))
            else {
                continue;
            };
            if cached.leader_epoch >= 0 && hint.leader_epoch <= cached.leader_epoch {
                continue;
            }
            let endpoint = endpoints.iter().find(|b| b.node_id == hint.leader_id);
            if endpoint.is_none() && !base.brokers.contains_key(&hint.leader_id) {
                continue;
            }
            let snapshot = next.get_or_insert_with(|| self.clone());
            if let Some(b) = endpoint {
                snapshot.brokers.insert(b.node_id, b.clone());
            }
            if let Some(p) = snapshot
                .topics
                .get_mut(&hint.topic)
                .and_then(|t| t.partitions.get_mut(&hint.partition))
            {
                p.leader = Some(hint.leader_id);
                p.leader_epoch = hint.leader_epoch;
            }
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use rafka_wire::error_code::ErrorCode;

    use super::*;
    use crate::metadata::{PartitionInfo, TopicInfo};

    fn broker(id: i32) -> BrokerInfo {
        BrokerInfo {
            node_id: id,
            host: "h".into(),
            port: 9000 + id as u16,
            rack: None,
        }
    }

    fn cluster() -> Cluster {
        let partition = PartitionInfo {
            partition: 0,
            leader: Some(1),
            leader_epoch: 5,
            replicas: vec![1, 2, 3],
            isr: vec![1, 2, 3],
            offline_replicas: vec![],
            error: ErrorCode::NONE,
        };
        let mut c = Cluster {
            brokers: [(1, broker(1)), (2, broker(2))].into_iter().collect(),
            ..Cluster::default()
        };
        c.topics.insert(
            "t".into(),
            TopicInfo {
                name: "t".into(),
                topic_id: [0; 16],
                is_internal: false,
                partitions: BTreeMap::from([(0, partition)]),
            },
        );
        c
    }

    fn hint(leader_id: i32, leader_epoch: i32) -> LeaderHint {
        LeaderHint {
            topic: "t".into(),
            partition: 0,
            leader_id,
            leader_epoch,
        }
    }

    #[test]
    fn newer_epoch_moves_the_leader() {
        let c = cluster().with_leader_hints(&[hint(2, 6)], &[]).unwrap();
        assert_eq!(c.leader_for("t", 0).unwrap(), 2);
        assert_eq!(c.topics["t"].partitions[&0].leader_epoch, 6);
    }

    #[test]
    fn same_or_older_epoch_changes_nothing() {
        assert!(cluster().with_leader_hints(&[hint(2, 5)], &[]).is_none());
        assert!(cluster().with_leader_hints(&[hint(2, 4)], &[]).is_none());
        assert!(cluster().with_leader_hints(&[hint(-1, 9)], &[]).is_none());
    }

    #[test]
    fn unknown_leader_needs_its_endpoint() {
        assert!(cluster().with_leader_hints(&[hint(3, 6)], &[]).is_none());
        let c = cluster()
            .with_leader_hints(&[hint(3, 6)], &[broker(3)])
            .unwrap();
        assert_eq!(c.leader_for("t", 0).unwrap(), 3);
        assert_eq!(c.broker(3).unwrap().port, 9003);
    }

    #[test]
    fn unknown_partition_is_left_to_a_metadata_refresh() {
        let mut h = hint(2, 6);
        h.partition = 7;
        assert!(cluster().with_leader_hints(&[h], &[]).is_none());
    }
}
