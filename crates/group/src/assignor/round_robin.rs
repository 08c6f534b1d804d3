//! The `roundrobin` assignor (Java `RoundRobinAssignor`).
//!
//! All partitions of all subscribed topics, sorted by topic then partition, are dealt in turn
//! to the members sorted as Java's `MemberInfo` sorts them; a member not subscribed to a
//! partition's topic is skipped for that partition (the circular iterator moves past it).

use std::collections::{BTreeMap, BTreeSet};

use rafka_wire::TopicPartition;

use super::{
    into_assignments, member_info_order, partitions_per_topic, AssignError, Assignor,
    ClusterMetadata, MemberAssignment, MemberId, MemberSubscription, RebalanceProtocol,
};

/// The `roundrobin` assignor.
#[derive(Debug, Clone, Copy, Default)]
pub struct RoundRobinAssignor;

impl Assignor for RoundRobinAssignor {
    fn name(&self) -> &'static str {
        "roundrobin"
    }

    fn protocol(&self) -> RebalanceProtocol {
        RebalanceProtocol::Eager
    }

    fn assign(
        &self,
        cluster: &ClusterMetadata,
        members: &BTreeMap<MemberId, MemberSubscription>,
    ) -> Result<BTreeMap<MemberId, MemberAssignment>, AssignError> {
        let mut out: BTreeMap<MemberId, Vec<TopicPartition>> =
            members.keys().map(|m| (m.clone(), Vec::new())).collect();
        let ring = member_info_order(members.iter());
        if ring.is_empty() {
            return Ok(into_assignments(out));
        }
        let subscribed: Vec<BTreeSet<&str>> = ring
            .iter()
            .map(|m| members[*m].topics.iter().map(String::as_str).collect())
            .collect();
        let mut next = 0usize;
        // partitions_per_topic only holds topics some member subscribes to, so the scan
        // below always finds a member within one turn of the ring.
        for (topic, count) in partitions_per_topic(cluster, members) {
            for p in 0..count {
                while !subscribed[next].contains(topic.as_str()) {
                    next = (next + 1) % ring.len();
                }
                out.get_mut(ring[next])
                    .expect("member listed")
                    .push(TopicPartition::new(topic.clone(), p));
                next = (next + 1) % ring.len();
            }
        }
        Ok(into_assignments(out))
    }
}
