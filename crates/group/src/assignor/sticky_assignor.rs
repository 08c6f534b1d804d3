//! The eager `sticky` assignor (Java `StickyAssignor`, KIP-54).
//!
//! Members revoke everything before joining, so the previous assignment travels in the
//! subscription's user data, in Java's `StickyAssignorUserData` schema (no version header):
//!
//! ```text
//! v1: previous_assignment: [topic: string, partitions: [int32]], generation: int32
//! v0: previous_assignment only
//! ```
//!
//! Readers try v1, then v0, then treat the member as owning nothing — as Java does.

use std::collections::BTreeMap;

use bytes::{BufMut, Bytes, BytesMut};
use rafka_wire::TopicPartition;

use super::sticky::{self, MemberData, DEFAULT_GENERATION};
use super::{
    into_assignments, partitions_per_topic, AssignError, Assignor, ClusterMetadata,
    MemberAssignment, MemberId, MemberSubscription, RebalanceProtocol, UserDataContext,
};
use crate::protocol::{put_topic_partitions, ProtocolError, Reader};

/// The `sticky` assignor.
#[derive(Debug, Clone, Copy, Default)]
pub struct StickyAssignor;

/// Java's `StickyAssignorUserData`: a member's previous assignment and its generation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StickyUserData {
    /// Partitions the member held after its last rebalance.
    pub previous_assignment: Vec<TopicPartition>,
    /// The generation of that assignment; `None` when read from v0 bytes.
    pub generation: Option<i32>,
}

impl StickyUserData {
    /// Encodes as v1 (a missing generation is written as -1, Java's `DEFAULT_GENERATION`).
    ///
    /// # Errors
    /// [`ProtocolError::TooLarge`] for a topic name over 32767 bytes.
    pub fn encode(&self) -> Result<Bytes, ProtocolError> {
        let mut out = BytesMut::new();
        put_topic_partitions(&mut out, &self.previous_assignment, "previous_assignment")?;
        out.put_i32(self.generation.unwrap_or(DEFAULT_GENERATION));
        Ok(out.freeze())
    }

    /// Decodes v1, falling back to v0; trailing bytes are ignored.
    ///
    /// # Errors
    /// [`ProtocolError`] if the bytes are not even v0.
    pub fn decode(buf: &[u8]) -> Result<StickyUserData, ProtocolError> {
        let mut r = Reader { buf };
        let previous_assignment = r.topic_partitions("previous_assignment")?;
        let generation = r.i32("generation").ok();
        Ok(StickyUserData {
            previous_assignment,
            generation,
        })
    }
}

impl Assignor for StickyAssignor {
    fn name(&self) -> &'static str {
        "sticky"
    }

    fn protocol(&self) -> RebalanceProtocol {
        RebalanceProtocol::Eager
    }

    /// Java: `null` before the first assignment, else the v1 user data.
    fn subscription_user_data(&self, ctx: &UserDataContext<'_>) -> Option<Bytes> {
        let previous = ctx.previous_assignment?;
        StickyUserData {
            previous_assignment: previous.to_vec(),
            generation: ctx.previous_generation,
        }
        .encode()
        .ok()
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
        Ok(into_assignments(outcome.assignment))
    }
}

/// Java `StickyAssignor.memberData`: always from user data, since eager members own nothing
/// when they join.
fn member_data(sub: &MemberSubscription) -> MemberData {
    match sub.user_data.as_deref() {
        None | Some([]) => MemberData::default(),
        Some(b) => match StickyUserData::decode(b) {
            Ok(u) => MemberData {
                partitions: u.previous_assignment,
                generation: u.generation,
            },
            Err(_) => MemberData::default(),
        },
    }
}
