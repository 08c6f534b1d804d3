//! Member states (Java `MemberState`), topic ids, and the assignment with its local epoch
//! (Java `AbstractMembershipManager.LocalAssignment`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Where the member is in the consumer group protocol (KIP-848; Java `MemberState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemberState {
    /// Not in the group and not trying to join: before the first subscription, after
    /// `unsubscribe`/`leave`. No heartbeats.
    Unsubscribed,
    /// Joining with member epoch 0: the next heartbeat goes out at once, with every field.
    Joining,
    /// A target assignment differs from the current one: commit (auto-commit), revoke, then
    /// assign, each waiting for the driver.
    Reconciling,
    /// Reconciled: the next heartbeat goes out at once and carries the owned partitions.
    Acknowledging,
    /// The current assignment equals the target; heartbeats every broker-given interval.
    Stable,
    /// FENCED_MEMBER_EPOCH or UNKNOWN_MEMBER_ID: partitions are lost; the member rejoins
    /// with epoch 0 once the listener acknowledged the loss.
    Fenced,
    /// `leave`/`unsubscribe`: the revoke hook runs before the leave heartbeat.
    PrepareLeaving,
    /// The leave heartbeat (epoch -1, or -2 for a static member) is about to go out.
    Leaving,
    /// A fatal error stopped the member.
    Fatal,
    /// `max.poll.interval.ms` expired: the member left the group (partitions lost) and
    /// rejoins on the next `poll_called`.
    Stale,
}

impl MemberState {
    /// Java `isNotInGroup`: the broker does not count this member.
    pub fn is_not_in_group(self) -> bool {
        matches!(
            self,
            MemberState::Unsubscribed
                | MemberState::Fenced
                | MemberState::Fatal
                | MemberState::Stale
        )
    }

    /// Java `shouldHeartbeatNow`: these states send without waiting for the interval.
    pub(crate) fn heartbeat_now(self) -> bool {
        matches!(
            self,
            MemberState::Joining | MemberState::Acknowledging | MemberState::Leaving
        )
    }

    /// Java `MemberState.canHandleNewAssignment`.
    pub(crate) fn can_handle_new_assignment(self) -> bool {
        matches!(
            self,
            MemberState::Joining
                | MemberState::Reconciling
                | MemberState::Acknowledging
                | MemberState::Stable
        )
    }

    /// Java's name for the state (`UNSUBSCRIBED`, `JOINING`, ...).
    pub fn java_name(self) -> &'static str {
        match self {
            MemberState::Unsubscribed => "UNSUBSCRIBED",
            MemberState::Joining => "JOINING",
            MemberState::Reconciling => "RECONCILING",
            MemberState::Acknowledging => "ACKNOWLEDGING",
            MemberState::Stable => "STABLE",
            MemberState::Fenced => "FENCED",
            MemberState::PrepareLeaving => "PREPARE_LEAVING",
            MemberState::Leaving => "LEAVING",
            MemberState::Fatal => "FATAL",
            MemberState::Stale => "STALE",
        }
    }
}

impl fmt::Display for MemberState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.java_name())
    }
}

/// A topic id (the 128-bit UUID that KIP-516 gives every topic), as the assignment names
/// topics. `kafka-protocol`'s `Uuid` converts with `as_u128` / [`TopicId::to_uuid`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicId(pub u128);

impl TopicId {
    /// Converts into any UUID type that parses the 32-hex-digit form (the `uuid` crate's
    /// `Uuid`, used by `kafka-protocol`).
    pub fn to_uuid<U: std::str::FromStr>(self) -> U
    where
        U::Err: fmt::Debug,
    {
        format!("{:032x}", self.0)
            .parse()
            .expect("32 hex digits parse as a UUID")
    }
}

impl fmt::Display for TopicId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

/// Partitions by topic id.
pub type TopicIdPartitions = BTreeMap<TopicId, BTreeSet<i32>>;

/// An assignment with a local epoch bumped whenever it changes, so that the same partitions
/// received twice (revoked, then given back) still count as a change to acknowledge (Java
/// `LocalAssignment`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LocalAssignment {
    /// -1 ([`LocalAssignment::NONE_EPOCH`]) when there is none.
    pub local_epoch: i64,
    pub partitions: TopicIdPartitions,
}

impl LocalAssignment {
    pub const NONE_EPOCH: i64 = -1;

    pub fn none() -> LocalAssignment {
        LocalAssignment {
            local_epoch: Self::NONE_EPOCH,
            partitions: BTreeMap::new(),
        }
    }

    pub fn is_none(&self) -> bool {
        self.local_epoch == Self::NONE_EPOCH
    }

    /// Java `updateWith`: `None` when the partitions are unchanged, else the new assignment
    /// with the next local epoch.
    pub fn update_with(&self, partitions: TopicIdPartitions) -> Option<LocalAssignment> {
        if !self.is_none() && partitions == self.partitions {
            return None;
        }
        Some(LocalAssignment {
            local_epoch: self.local_epoch + 1,
            partitions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_epoch_is_bumped_only_when_the_partitions_change() {
        let none = LocalAssignment::none();
        let empty = none
            .update_with(BTreeMap::new())
            .expect("none → first assignment");
        assert_eq!(empty.local_epoch, 0);
        assert!(empty.update_with(BTreeMap::new()).is_none());
        let one = empty
            .update_with(BTreeMap::from([(TopicId(1), BTreeSet::from([0]))]))
            .unwrap();
        assert_eq!(one.local_epoch, 1);
        assert_ne!(one, empty);
    }

    #[test]
    fn topic_id_prints_as_32_hex_digits() {
        assert_eq!(TopicId(0xab).to_string(), format!("{:032x}", 0xab));
    }
}
