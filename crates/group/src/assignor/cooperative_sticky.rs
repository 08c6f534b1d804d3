//! The `cooperative-sticky` assignor (Java `CooperativeStickyAssignor`, KIP-429).
//!
//! Runs the sticky algorithm on the members' owned partitions, then withholds every partition
//! whose owner changes: the old owner sees it missing from its assignment, revokes it and
//! rejoins, and the follow-up rebalance gives it to the new owner.
//!
//! Member data: Subscription v2+ carries `owned_partitions` and `generation_id` directly; older
//! subscriptions carry the generation in user data as one `int32` (Java's
//! `CooperativeStickyAssignorUserData` v0), and unreadable user data counts as generation -1.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use rafka_wire::TopicPartition;

use super::sticky::{self, MemberData, DEFAULT_GENERATION};
use super::{
    into_assignments, partitions_per_topic, AssignError, Assignor, ClusterMetadata,
    MemberAssignment, MemberId, MemberSubscription, RebalanceProtocol, UserDataContext,
};

/// The `cooperative-sticky` assignor.
#[derive(Debug, Clone, Copy, Default)]
pub struct CooperativeStickyAssignor;

impl Assignor for CooperativeStickyAssignor {
    fn name(&self) -> &'static str {
        "cooperative-sticky"
    }

    fn protocol(&self) -> RebalanceProtocol {
        RebalanceProtocol::Cooperative
    }

    /// Java writes the generation of the last assignment (-1 before one) as an `int32`.
    fn subscription_user_data(&self, ctx: &UserDataContext<'_>) -> Option<Bytes> {
        let generation = ctx.previous_generation.unwrap_or(DEFAULT_GENERATION);
        Some(Bytes::copy_from_slice(&generation.to_be_bytes()))
    }

    fn assign(
        &self,
        cluster: &ClusterMetadata,
        members: &BTreeMap<MemberId, MemberSubscription>,
    ) -> Result<BTreeMap<MemberId, MemberAssignment>, AssignError> {
        let data = members
            .iter()
            .map(|(m, s)| (m.clone(), member_data(s)))
            .collect();
        let outcome = sticky::assign(
            self.name(),
            &partitions_per_topic(cluster, members),
            members,
            &data,
        )?;
        let mut assignment = outcome.assignment;
        let transferring = match outcome.transferring {
            Some(t) => t,
            None => transferring_ownership(members, &assignment),
        };
        for (tp, member) in transferring {
            if let Some(list) = assignment.get_mut(&member) {
                list.retain(|p| *p != tp);
            }
        }
        Ok(into_assignments(assignment))
    }
}

fn member_data(sub: &MemberSubscription) -> MemberData {
    if sub.generation_id.is_some() {
        return MemberData {
            partitions: sub.owned_partitions.clone(),
            generation: sub.generation_id,
        };
    }
    let generation = match sub.user_data.as_deref() {
        None => None,
        Some(b) if b.len() >= 4 => Some(i32::from_be_bytes([b[0], b[1], b[2], b[3]])),
        Some(_) => Some(DEFAULT_GENERATION),
    };
    MemberData {
        partitions: sub.owned_partitions.clone(),
        generation,
    }
}

/// Partitions added to some member that another member reported owning and loses (Java
/// `computePartitionsTransferringOwnership`, used after the general path).
fn transferring_ownership(
    members: &BTreeMap<MemberId, MemberSubscription>,
    assignment: &BTreeMap<MemberId, Vec<TopicPartition>>,
) -> BTreeMap<TopicPartition, MemberId> {
    let mut added = BTreeMap::new();
    let mut revoked = BTreeSet::new();
    for (member, assigned) in assignment {
        let owned: BTreeSet<&TopicPartition> = members
            .get(member)
            .map(|s| s.owned_partitions.iter().collect())
            .unwrap_or_default();
        let assigned_set: BTreeSet<&TopicPartition> = assigned.iter().collect();
        for tp in assigned {
            if !owned.contains(tp) {
                added.insert(tp.clone(), member.clone());
            }
        }
        for tp in owned {
            if !assigned_set.contains(tp) {
                revoked.insert(tp.clone());
            }
        }
    }
    added.retain(|tp, _| revoked.contains(tp));
    added
}
