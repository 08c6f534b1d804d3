//! The coordinator requests the machine asks for, as plain values; `to_request(version)` turns
//! one into the `kafka-protocol` struct for the version the driver negotiated (fields differ
//! by version: FindCoordinator batches keys from v4, LeaveGroup lists members from v3,
//! JoinGroup carries `group.instance.id` from v5 and a reason from v8).

use bytes::Bytes;
use kafka_protocol::messages::find_coordinator_request::FindCoordinatorRequest;
use kafka_protocol::messages::heartbeat_request::HeartbeatRequest;
use kafka_protocol::messages::join_group_request::{JoinGroupRequest, JoinGroupRequestProtocol};
use kafka_protocol::messages::leave_group_request::{LeaveGroupRequest, MemberIdentity};
use kafka_protocol::messages::sync_group_request::{SyncGroupRequest, SyncGroupRequestAssignment};
use kafka_protocol::messages::{ApiKey, GroupId};
use kafka_protocol::protocol::StrBytes;

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_owned())
}

/// One request to the group coordinator (or, for FindCoordinator, to any broker).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum GroupRequest {
    /// Find the group's coordinator.
    FindCoordinator(FindCoordinatorParams),
    /// Join (or rejoin) the group.
    JoinGroup(JoinGroupParams),
    /// Fetch this member's assignment (the leader sends everyone's).
    SyncGroup(SyncGroupParams),
    /// Keep the session alive.
    Heartbeat(HeartbeatParams),
    /// Leave the group.
    LeaveGroup(LeaveGroupParams),
    /// ConsumerGroupHeartbeat (API 68, KIP-848): join, heartbeat, acknowledge and leave in
    /// one request.
    ConsumerGroupHeartbeat(crate::consumer_membership::ConsumerHeartbeatParams),
}

impl GroupRequest {
    /// The Kafka API key.
    pub fn api_key(&self) -> ApiKey {
        match self {
            GroupRequest::FindCoordinator(_) => ApiKey::FindCoordinator,
            GroupRequest::JoinGroup(_) => ApiKey::JoinGroup,
            GroupRequest::SyncGroup(_) => ApiKey::SyncGroup,
            GroupRequest::Heartbeat(_) => ApiKey::Heartbeat,
            GroupRequest::LeaveGroup(_) => ApiKey::LeaveGroup,
            GroupRequest::ConsumerGroupHeartbeat(_) => ApiKey::ConsumerGroupHeartbeat,
        }
    }
}

/// FindCoordinator for a group (key type 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindCoordinatorParams {
    /// `group.id`.
    pub group_id: String,
}

impl FindCoordinatorParams {
    /// The wire struct for `version` (v0–v3 `key`; v4+ `coordinator_keys`, KIP-699).
    pub fn to_request(&self, version: i16) -> FindCoordinatorRequest {
        let mut r = FindCoordinatorRequest::default();
        if version >= 4 {
            r.coordinator_keys = vec![s(&self.group_id)];
        } else {
            r.key = s(&self.group_id);
        }
        r
    }
}

/// JoinGroup.
#[derive(Debug, Clone, PartialEq)]
pub struct JoinGroupParams {
    /// `group.id`.
    pub group_id: String,
    /// `session.timeout.ms`.
    pub session_timeout_ms: i32,
    /// `max.poll.interval.ms` (v1+).
    pub rebalance_timeout_ms: i32,
    /// Member id: empty on the first join (v4+ answers MEMBER_ID_REQUIRED, KIP-394).
    pub member_id: String,
    /// `group.instance.id` (needs v5+, KIP-345).
    pub group_instance_id: Option<String>,
    /// Always `consumer`.
    pub protocol_type: String,
    /// `(assignor name, Subscription bytes)` in preference order.
    pub protocols: Vec<(String, Bytes)>,
    /// Why the member joins (v8+, KIP-800).
    pub reason: Option<String>,
}

impl JoinGroupParams {
    /// The wire struct for `version`. `group_instance_id` is kept at every version, so
    /// encoding a static member's JoinGroup below v5 fails rather than silently joining as a
    /// dynamic member.
    pub fn to_request(&self, version: i16) -> JoinGroupRequest {
        let mut r = JoinGroupRequest::default();
        r.group_id = GroupId(s(&self.group_id));
        r.session_timeout_ms = self.session_timeout_ms;
        r.rebalance_timeout_ms = self.rebalance_timeout_ms;
        r.member_id = s(&self.member_id);
        r.group_instance_id = self.group_instance_id.as_deref().map(s);
        r.protocol_type = s(&self.protocol_type);
        r.protocols = self
            .protocols
            .iter()
            .map(|(name, meta)| {
                let mut p = JoinGroupRequestProtocol::default();
                p.name = s(name);
                p.metadata = meta.clone();
                p
            })
            .collect();
        if version >= 8 {
            r.reason = self.reason.as_deref().map(s);
        }
        r
    }
}

/// SyncGroup.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncGroupParams {
    /// `group.id`.
    pub group_id: String,
    /// Generation from JoinGroup.
    pub generation_id: i32,
    /// Member id.
    pub member_id: String,
    /// `group.instance.id` (v3+).
    pub group_instance_id: Option<String>,
    /// `consumer` (v5+).
    pub protocol_type: String,
    /// The chosen assignor (v5+).
    pub protocol_name: String,
    /// `(member id, Assignment bytes)`; empty unless this member leads.
    pub assignments: Vec<(String, Bytes)>,
}

impl SyncGroupParams {
    /// The wire struct for `version`.
    pub fn to_request(&self, version: i16) -> SyncGroupRequest {
        let mut r = SyncGroupRequest::default();
        r.group_id = GroupId(s(&self.group_id));
        r.generation_id = self.generation_id;
        r.member_id = s(&self.member_id);
        r.group_instance_id = self.group_instance_id.as_deref().map(s);
        if version >= 5 {
            r.protocol_type = Some(s(&self.protocol_type));
            r.protocol_name = Some(s(&self.protocol_name));
        }
        r.assignments = self
            .assignments
            .iter()
            .map(|(m, a)| {
                let mut x = SyncGroupRequestAssignment::default();
                x.member_id = s(m);
                x.assignment = a.clone();
                x
            })
            .collect();
        r
    }
}

/// Heartbeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeartbeatParams {
    /// `group.id`.
    pub group_id: String,
    /// Current generation.
    pub generation_id: i32,
    /// Member id.
    pub member_id: String,
    /// `group.instance.id` (v3+).
    pub group_instance_id: Option<String>,
}

impl HeartbeatParams {
    /// The wire struct (same fields at every version).
    pub fn to_request(&self, _version: i16) -> HeartbeatRequest {
        let mut r = HeartbeatRequest::default();
        r.group_id = GroupId(s(&self.group_id));
        r.generation_id = self.generation_id;
        r.member_id = s(&self.member_id);
        r.group_instance_id = self.group_instance_id.as_deref().map(s);
        r
    }
}

/// LeaveGroup for this member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaveGroupParams {
    /// `group.id`.
    pub group_id: String,
    /// Member id.
    pub member_id: String,
    /// Why (v5+, KIP-800).
    pub reason: Option<String>,
}

impl LeaveGroupParams {
    /// The wire struct: v0–v2 carry `member_id`; v3+ a one-entry `members` list (KIP-345).
    pub fn to_request(&self, version: i16) -> LeaveGroupRequest {
        let mut r = LeaveGroupRequest::default();
        r.group_id = GroupId(s(&self.group_id));
        if version >= 3 {
            let mut m = MemberIdentity::default();
            m.member_id = s(&self.member_id);
            if version >= 5 {
                m.reason = self.reason.as_deref().map(s);
            }
            r.members = vec![m];
        } else {
            r.member_id = s(&self.member_id);
        }
        r
    }
}
