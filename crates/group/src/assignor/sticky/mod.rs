//! The algorithm shared by `sticky` and `cooperative-sticky` (Java `AbstractStickyAssignor`).
//!
//! Two paths, chosen as Java chooses them:
//! - [`constrained`]: every member subscribes to the same topics. Members keep up to their
//!   quota of the partitions they owned, and the rest are dealt round-robin to the members
//!   below quota (Kafka 3.x `constrainedAssign`).
//! - [`general`]: subscriptions differ. Partitions are placed on the least-loaded eligible
//!   member and then moved one at a time while that improves balance, preferring to move a
//!   partition back to its previous owner (Kafka `generalAssign`, with `PartitionMovements`).
//!
//! Both first validate each member's claimed partitions (`validated_owned`): partitions of
//! topics nobody subscribes to or that no longer exist are dropped, and when two members claim
//! the same partition the newer generation wins; two claims in the same generation invalidate
//! the partition for both.

mod constrained;
mod general;
mod java_order;
mod movements;

use std::collections::{BTreeMap, BTreeSet};

use rafka_wire::TopicPartition;

use super::{AssignError, MemberId, MemberSubscription};

/// Java's `DEFAULT_GENERATION`: what a member without a known generation counts as.
pub(crate) const DEFAULT_GENERATION: i32 = -1;

/// What an assignor learned from one member's subscription: the partitions it claims and the
/// generation they belong to (Java `AbstractStickyAssignor.MemberData`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MemberData {
    pub(crate) partitions: Vec<TopicPartition>,
    pub(crate) generation: Option<i32>,
}

/// The sticky algorithm's result.
pub(crate) struct StickyOutcome {
    /// Partitions per member (every member present).
    pub(crate) assignment: BTreeMap<MemberId, Vec<TopicPartition>>,
    /// Partitions given to a member other than a current owner, known only on the constrained
    /// path (Java `partitionsTransferringOwnership`; `None` = compute it afterwards).
    pub(crate) transferring: Option<BTreeMap<TopicPartition, MemberId>>,
}

/// Runs the sticky algorithm.
pub(crate) fn assign(
    assignor: &'static str,
    partitions_per_topic: &BTreeMap<String, i32>,
    members: &BTreeMap<MemberId, MemberSubscription>,
    member_data: &BTreeMap<MemberId, MemberData>,
) -> Result<StickyOutcome, AssignError> {
    let (owned, doubly_claimed) = validated_owned(partitions_per_topic, member_data);
    if members.is_empty() {
        return Ok(StickyOutcome {
            assignment: BTreeMap::new(),
            transferring: Some(BTreeMap::new()),
        });
    }
    if all_subscriptions_equal(members) {
        let mut transferring = BTreeMap::new();
        let assignment = constrained::assign(
            assignor,
            partitions_per_topic,
            owned,
            &doubly_claimed,
            &mut transferring,
        )?;
        Ok(StickyOutcome {
            assignment,
            transferring: Some(transferring),
        })
    } else {
        let assignment = general::assign(partitions_per_topic, members, member_data, owned);
        Ok(StickyOutcome {
            assignment,
            transferring: None,
        })
    }
}

fn all_subscriptions_equal(members: &BTreeMap<MemberId, MemberSubscription>) -> bool {
    let mut it = members.values();
    let Some(first) = it.next() else {
        return true;
    };
    let first: BTreeSet<&String> = first.topics.iter().collect();
    it.all(|s| s.topics.iter().collect::<BTreeSet<_>>() == first)
}

/// Each member's claimed partitions that stay valid, and the partitions claimed by two members
/// of the same generation (Java `allSubscriptionsEqual`'s bookkeeping, Kafka 3.x).
fn validated_owned(
    partitions_per_topic: &BTreeMap<String, i32>,
    member_data: &BTreeMap<MemberId, MemberData>,
) -> (
    BTreeMap<MemberId, Vec<TopicPartition>>,
    BTreeSet<TopicPartition>,
) {
    let mut owned: BTreeMap<MemberId, Vec<TopicPartition>> = BTreeMap::new();
    let mut owner_of: BTreeMap<TopicPartition, MemberId> = BTreeMap::new();
    let mut doubly_claimed = BTreeSet::new();
    // Java walks the subscriptions `HashMap`, so conflicts resolve in its order.
    for member in java_order::hash_map_order(member_data.keys().map(String::as_str)) {
        let data = &member_data[member];
        let member = &member.to_owned();
        owned.entry(member.clone()).or_default();
        let generation = data.generation.unwrap_or(DEFAULT_GENERATION);
        for tp in &data.partitions {
            let exists = partitions_per_topic
                .get(&tp.topic)
                .is_some_and(|&n| tp.partition >= 0 && tp.partition < n);
            if !exists {
                continue;
            }
            match owner_of.insert(tp.clone(), member.clone()) {
                None => owned.get_mut(member).expect("inserted").push(tp.clone()),
                Some(other) => {
                    let other_generation =
                        member_data[&other].generation.unwrap_or(DEFAULT_GENERATION);
                    if generation == other_generation {
                        tracing::error!(%tp, %member, %other, generation, "partition claimed twice in one generation");
                        doubly_claimed.insert(tp.clone());
                        owned.get_mut(&other).expect("seen").retain(|p| p != tp);
                    } else if generation > other_generation {
                        owned.get_mut(&other).expect("seen").retain(|p| p != tp);
                        owned.get_mut(member).expect("inserted").push(tp.clone());
                    } else {
                        owner_of.insert(tp.clone(), other);
                    }
                }
            }
        }
    }
    (owned, doubly_claimed)
}

/// All partitions of the given topics, sorted by topic then partition.
pub(crate) fn all_partitions(partitions_per_topic: &BTreeMap<String, i32>) -> Vec<TopicPartition> {
    partitions_per_topic
        .iter()
        .flat_map(|(t, &n)| (0..n).map(move |p| TopicPartition::new(t.clone(), p)))
        .collect()
}
