//! The `range` assignor (Java `RangeAssignor`, the Java consumer's default).
//!
//! Per topic, the members subscribed to it are sorted (static members by `group.instance.id`
//! first, then by member id) and each gets a contiguous range of partitions; the first
//! `partitions % members` get one extra. Rack-aware matching (KIP-881) is not implemented:
//! rafka's result equals Java's whenever member or partition racks are absent.

use std::collections::BTreeMap;

use rafka_wire::TopicPartition;

use super::{
    into_assignments, member_info_order, partitions_per_topic, AssignError, Assignor,
    ClusterMetadata, MemberAssignment, MemberId, MemberSubscription, RebalanceProtocol,
};

/// The `range` assignor.
#[derive(Debug, Clone, Copy, Default)]
pub struct RangeAssignor;

impl Assignor for RangeAssignor {
    fn name(&self) -> &'static str {
        "range"
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
        for (topic, count) in partitions_per_topic(cluster, members) {
            let consumers =
                member_info_order(members.iter().filter(|(_, s)| s.topics.contains(&topic)));
            if consumers.is_empty() || count == 0 {
                continue;
            }
            let n = consumers.len() as i32;
            let per = count / n;
            let extra = count % n;
            for (i, member) in consumers.into_iter().enumerate() {
                let i = i as i32;
                let start = per * i + i.min(extra);
                let len = per + i32::from(i < extra);
                let list = out.get_mut(member).expect("member listed");
                list.extend((start..start + len).map(|p| TopicPartition::new(topic.clone(), p)));
            }
        }
        Ok(into_assignments(out))
    }
}
