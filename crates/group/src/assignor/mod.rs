//! Partition assignors: pure functions from the group's subscriptions to an assignment, run by
//! the group leader.
//!
//! Every built-in assignor returns exactly what Java's assignor of the same name returns for the
//! same input, so a rafka leader and a Java leader are interchangeable in one group. Where Java
//! iterates a `HashMap` of members (whose order depends on hash codes), rafka iterates members
//! in ascending member-id order; Java's own tests only assert outcomes that do not depend on it.
//!
//! Custom assignors implement [`Assignor`]; the contract is on the trait.

mod cooperative_sticky;
mod range;
mod round_robin;
mod sticky;
mod sticky_assignor;

use std::collections::BTreeMap;
use std::fmt;

use bytes::Bytes;
use rafka_wire::TopicPartition;

pub use cooperative_sticky::CooperativeStickyAssignor;
pub use range::RangeAssignor;
pub use round_robin::RoundRobinAssignor;
pub use sticky_assignor::{StickyAssignor, StickyUserData};

use crate::protocol::{Assignment, Subscription};

/// A group member id, as the coordinator assigned it.
pub type MemberId = String;

/// What the leader knows of one member: its decoded JoinGroup metadata plus its
/// `group.instance.id` (in [`Subscription::group_instance_id`]).
pub type MemberSubscription = Subscription;

/// What the leader hands one member in SyncGroup.
pub type MemberAssignment = Assignment;

/// The rebalance protocol an assignor supports (KIP-429).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RebalanceProtocol {
    /// Stop-the-world: every member revokes everything before it joins.
    Eager,
    /// Incremental: members keep partitions across a rebalance; a partition that changes owner
    /// is revoked in one rebalance and assigned in the next (KIP-429).
    Cooperative,
}

/// Topic metadata the leader assigns from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterMetadata {
    /// Partition count of each known topic. Subscribed topics missing here are not assigned
    /// (Java: "skipping assignment for topic since no metadata is available").
    pub partitions_per_topic: BTreeMap<String, i32>,
    /// Racks of each partition's replicas, for rack-aware assignors (KIP-881); may be empty.
    pub partition_racks: BTreeMap<TopicPartition, Vec<String>>,
}

impl ClusterMetadata {
    /// Metadata from `(topic, partition count)` pairs, without racks.
    pub fn from_counts<I, S>(counts: I) -> Self
    where
        I: IntoIterator<Item = (S, i32)>,
        S: Into<String>,
    {
        ClusterMetadata {
            partitions_per_topic: counts.into_iter().map(|(t, n)| (t.into(), n)).collect(),
            partition_racks: BTreeMap::new(),
        }
    }
}

/// What a member knows when it writes its JoinGroup metadata, passed to
/// [`Assignor::subscription_user_data`].
#[derive(Debug, Clone, Copy)]
pub struct UserDataContext<'a> {
    /// Topics the member subscribes to, sorted.
    pub topics: &'a [String],
    /// The assignment the member received in its last successful SyncGroup (`None` before the
    /// first one); kept even after an eager revocation (Java's `StickyAssignor.memberAssignment`).
    pub previous_assignment: Option<&'a [TopicPartition]>,
    /// The generation of that assignment, if any.
    pub previous_generation: Option<i32>,
}

/// Why an assignor failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AssignError {
    /// The algorithm reached a state Java reports as `IllegalStateException`.
    #[error("assignor {assignor}: {message}")]
    Internal {
        /// Assignor name.
        assignor: &'static str,
        /// What went wrong.
        message: String,
    },
    /// A custom assignor's own failure.
    #[error("assignor {assignor}: {message}")]
    Custom {
        /// Assignor name.
        assignor: &'static str,
        /// What went wrong.
        message: String,
    },
}

/// A partition assignor (Java `ConsumerPartitionAssignor`).
///
/// Contract: `assign` is a pure function of its arguments, runs on the group leader only,
/// returns an entry for every member in `members` (possibly empty), assigns each partition of
/// `cluster` at most once, and only to a member subscribed to its topic. A
/// [`RebalanceProtocol::Cooperative`] assignor must also never give a partition to a new owner
/// while its old owner (per `owned_partitions`) still holds it: it leaves such a partition
/// unassigned, the old owner revokes it and rejoins, and the next rebalance hands it over.
pub trait Assignor: Send + Sync + fmt::Debug {
    /// The protocol name in JoinGroup (`range`, `roundrobin`, `sticky`, `cooperative-sticky`).
    fn name(&self) -> &'static str;

    /// The rebalance protocol this assignor needs.
    fn protocol(&self) -> RebalanceProtocol;

    /// Bytes for [`Subscription::user_data`]; `None` by default.
    fn subscription_user_data(&self, ctx: &UserDataContext<'_>) -> Option<Bytes> {
        let _ = ctx;
        None
    }

    /// Computes the assignment.
    ///
    /// # Errors
    /// [`AssignError`] if the assignor cannot produce a valid assignment.
    fn assign(
        &self,
        cluster: &ClusterMetadata,
        members: &BTreeMap<MemberId, MemberSubscription>,
    ) -> Result<BTreeMap<MemberId, MemberAssignment>, AssignError>;
}

/// Partition counts of the topics some member subscribes to and the metadata knows
/// (Java `AbstractPartitionAssignor.assign(Cluster, GroupSubscription)`).
pub(crate) fn partitions_per_topic(
    cluster: &ClusterMetadata,
    members: &BTreeMap<MemberId, MemberSubscription>,
) -> BTreeMap<String, i32> {
    let mut out = BTreeMap::new();
    for sub in members.values() {
        for topic in &sub.topics {
            if let Some(&n) = cluster.partitions_per_topic.get(topic) {
                out.insert(topic.clone(), n.max(0));
            }
        }
    }
    out
}

/// Java `MemberInfo` ordering: static members (with `group.instance.id`) first, by instance
/// id; then dynamic members by member id.
pub(crate) fn member_info_order<'a>(
    members: impl Iterator<Item = (&'a MemberId, &'a MemberSubscription)>,
) -> Vec<&'a MemberId> {
    let mut v: Vec<(&MemberId, Option<&String>)> = members
        .map(|(id, s)| (id, s.group_instance_id.as_ref()))
        .collect();
    v.sort_by(|a, b| match (a.1, b.1) {
        (Some(x), Some(y)) => x.cmp(y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.0.cmp(b.0),
    });
    v.into_iter().map(|(id, _)| id).collect()
}

/// Wraps per-member partition lists as assignments without user data.
pub(crate) fn into_assignments(
    lists: BTreeMap<MemberId, Vec<TopicPartition>>,
) -> BTreeMap<MemberId, MemberAssignment> {
    lists
        .into_iter()
        .map(|(m, partitions)| {
            (
                m,
                Assignment {
                    partitions,
                    user_data: None,
                },
            )
        })
        .collect()
}

/// The built-in assignor with protocol name `name`, if any.
pub fn builtin(name: &str) -> Option<std::sync::Arc<dyn Assignor>> {
    use std::sync::Arc;
    match name {
        "range" => Some(Arc::new(RangeAssignor)),
        "roundrobin" => Some(Arc::new(RoundRobinAssignor)),
        "sticky" => Some(Arc::new(StickyAssignor)),
        "cooperative-sticky" => Some(Arc::new(CooperativeStickyAssignor)),
        _ => None,
    }
}
