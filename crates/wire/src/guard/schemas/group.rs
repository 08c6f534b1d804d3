//! Response layouts: Consumer group coordination and committed offsets.

use super::*;

// OffsetCommitResponse
const OFFSET_COMMIT_RESPONSE: &[Field] = &[
    Field::new("throttle_time_ms", I32, 3),
    Field::new(
        "topics",
        Ty::Array(&Ty::Struct(OFFSET_COMMIT_RESPONSE_TOPIC)),
        0,
    ),
];
const OFFSET_COMMIT_RESPONSE_PARTITION: &[Field] = &[
    Field::new("partition_index", I32, 0),
    Field::new("error_code", I16, 0),
];
const OFFSET_COMMIT_RESPONSE_TOPIC: &[Field] = &[
    Field::new("name", STR, 0).until(9),
    Field::new("topic_id", UUID, 10),
    Field::new(
        "partitions",
        Ty::Array(&Ty::Struct(OFFSET_COMMIT_RESPONSE_PARTITION)),
        0,
    ),
];

// OffsetFetchResponse
const OFFSET_FETCH_RESPONSE: &[Field] = &[
    Field::new("throttle_time_ms", I32, 3),
    Field::new(
        "topics",
        Ty::Array(&Ty::Struct(OFFSET_FETCH_RESPONSE_TOPIC)),
        0,
    )
    .until(7),
    Field::new("error_code", I16, 2).until(7),
    Field::new(
        "groups",
        Ty::Array(&Ty::Struct(OFFSET_FETCH_RESPONSE_GROUP)),
        8,
    ),
];
const OFFSET_FETCH_RESPONSE_GROUP: &[Field] = &[
    Field::new("group_id", STR, 8),
    Field::new(
        "topics",
        Ty::Array(&Ty::Struct(OFFSET_FETCH_RESPONSE_TOPICS)),
        8,
    ),
    Field::new("error_code", I16, 8),
];
const OFFSET_FETCH_RESPONSE_PARTITION: &[Field] = &[
    Field::new("partition_index", I32, 0).until(7),
    Field::new("committed_offset", I64, 0).until(7),
    Field::new("committed_leader_epoch", I32, 5).until(7),
    Field::new("metadata", STR, 0).until(7),
    Field::new("error_code", I16, 0).until(7),
];
const OFFSET_FETCH_RESPONSE_PARTITIONS: &[Field] = &[
    Field::new("partition_index", I32, 8),
    Field::new("committed_offset", I64, 8),
    Field::new("committed_leader_epoch", I32, 8),
    Field::new("metadata", STR, 8),
    Field::new("error_code", I16, 8),
];
const OFFSET_FETCH_RESPONSE_TOPIC: &[Field] = &[
    Field::new("name", STR, 0).until(7),
    Field::new(
        "partitions",
        Ty::Array(&Ty::Struct(OFFSET_FETCH_RESPONSE_PARTITION)),
        0,
    )
    .until(7),
];
const OFFSET_FETCH_RESPONSE_TOPICS: &[Field] = &[
    Field::new("name", STR, 8).until(9),
    Field::new("topic_id", UUID, 10),
    Field::new(
        "partitions",
        Ty::Array(&Ty::Struct(OFFSET_FETCH_RESPONSE_PARTITIONS)),
        8,
    ),
];

// FindCoordinatorResponse
const FIND_COORDINATOR_COORDINATOR: &[Field] = &[
    Field::new("key", STR, 4),
    Field::new("node_id", I32, 4),
    Field::new("host", STR, 4),
    Field::new("port", I32, 4),
    Field::new("error_code", I16, 4),
    Field::new("error_message", STR, 4),
];
const FIND_COORDINATOR_RESPONSE: &[Field] = &[
    Field::new("throttle_time_ms", I32, 1),
    Field::new("error_code", I16, 0).until(3),
    Field::new("error_message", STR, 1).until(3),
    Field::new("node_id", I32, 0).until(3),
    Field::new("host", STR, 0).until(3),
    Field::new("port", I32, 0).until(3),
    Field::new(
        "coordinators",
        Ty::Array(&Ty::Struct(FIND_COORDINATOR_COORDINATOR)),
        4,
    ),
];

// JoinGroupResponse
const JOIN_GROUP_RESPONSE: &[Field] = &[
    Field::new("throttle_time_ms", I32, 2),
    Field::new("error_code", I16, 0),
    Field::new("generation_id", I32, 0),
    Field::new("protocol_type", STR, 7),
    Field::new("protocol_name", STR, 0),
    Field::new("leader", STR, 0),
    Field::new("skip_assignment", BOOL, 9),
    Field::new("member_id", STR, 0),
    Field::new(
        "members",
        Ty::Array(&Ty::Struct(JOIN_GROUP_RESPONSE_MEMBER)),
        0,
    ),
];
const JOIN_GROUP_RESPONSE_MEMBER: &[Field] = &[
    Field::new("member_id", STR, 0),
    Field::new("group_instance_id", STR, 5),
    Field::new("metadata", BYTES, 0),
];

// HeartbeatResponse
const HEARTBEAT_RESPONSE: &[Field] = &[
    Field::new("throttle_time_ms", I32, 1),
    Field::new("error_code", I16, 0),
];

// LeaveGroupResponse
const LEAVE_GROUP_RESPONSE: &[Field] = &[
    Field::new("throttle_time_ms", I32, 1),
    Field::new("error_code", I16, 0),
    Field::new(
        "members",
        Ty::Array(&Ty::Struct(LEAVE_GROUP_MEMBER_RESPONSE)),
        3,
    ),
];
const LEAVE_GROUP_MEMBER_RESPONSE: &[Field] = &[
    Field::new("member_id", STR, 3),
    Field::new("group_instance_id", STR, 3),
    Field::new("error_code", I16, 3),
];

// SyncGroupResponse
const SYNC_GROUP_RESPONSE: &[Field] = &[
    Field::new("throttle_time_ms", I32, 1),
    Field::new("error_code", I16, 0),
    Field::new("protocol_type", STR, 5),
    Field::new("protocol_name", STR, 5),
    Field::new("assignment", BYTES, 0),
];

// DescribeGroupsResponse
const DESCRIBE_GROUPS_RESPONSE: &[Field] = &[
    Field::new("throttle_time_ms", I32, 1),
    Field::new(
        "groups",
        Ty::Array(&Ty::Struct(DESCRIBE_GROUPS_DESCRIBED_GROUP)),
        0,
    ),
];
const DESCRIBE_GROUPS_DESCRIBED_GROUP: &[Field] = &[
    Field::new("error_code", I16, 0),
    Field::new("error_message", STR, 6),
    Field::new("group_id", STR, 0),
    Field::new("group_state", STR, 0),
    Field::new("protocol_type", STR, 0),
    Field::new("protocol_data", STR, 0),
    Field::new(
        "members",
        Ty::Array(&Ty::Struct(DESCRIBE_GROUPS_DESCRIBED_GROUP_MEMBER)),
        0,
    ),
    Field::new("authorized_operations", I32, 3),
];
const DESCRIBE_GROUPS_DESCRIBED_GROUP_MEMBER: &[Field] = &[
    Field::new("member_id", STR, 0),
    Field::new("group_instance_id", STR, 4),
    Field::new("client_id", STR, 0),
    Field::new("client_host", STR, 0),
    Field::new("member_metadata", BYTES, 0),
    Field::new("member_assignment", BYTES, 0),
];

// ListGroupsResponse
const LIST_GROUPS_RESPONSE: &[Field] = &[
    Field::new("throttle_time_ms", I32, 1),
    Field::new("error_code", I16, 0),
    Field::new(
        "groups",
        Ty::Array(&Ty::Struct(LIST_GROUPS_LISTED_GROUP)),
        0,
    ),
];
const LIST_GROUPS_LISTED_GROUP: &[Field] = &[
    Field::new("group_id", STR, 0),
    Field::new("protocol_type", STR, 0),
    Field::new("group_state", STR, 4),
    Field::new("group_type", STR, 5),
];

// DeleteGroupsResponse
const DELETE_GROUPS_DELETABLE_GROUP_RESULT: &[Field] = &[
    Field::new("group_id", STR, 0),
    Field::new("error_code", I16, 0),
];
const DELETE_GROUPS_RESPONSE: &[Field] = &[
    Field::new("throttle_time_ms", I32, 0),
    Field::new(
        "results",
        Ty::Array(&Ty::Struct(DELETE_GROUPS_DELETABLE_GROUP_RESULT)),
        0,
    ),
];

// OffsetDeleteResponse
const OFFSET_DELETE_RESPONSE: &[Field] = &[
    Field::new("error_code", I16, 0),
    Field::new("throttle_time_ms", I32, 0),
    Field::new(
        "topics",
        Ty::Array(&Ty::Struct(OFFSET_DELETE_RESPONSE_TOPIC)),
        0,
    ),
];
const OFFSET_DELETE_RESPONSE_PARTITION: &[Field] = &[
    Field::new("partition_index", I32, 0),
    Field::new("error_code", I16, 0),
];
const OFFSET_DELETE_RESPONSE_TOPIC: &[Field] = &[
    Field::new("name", STR, 0),
    Field::new(
        "partitions",
        Ty::Array(&Ty::Struct(OFFSET_DELETE_RESPONSE_PARTITION)),
        0,
    ),
];

pub(super) const OFFSET_COMMIT: Schema = Schema {
    api_key: 8,
    name: "OffsetCommit",
    flexible: 8,
    body: OFFSET_COMMIT_RESPONSE,
};
pub(super) const OFFSET_FETCH: Schema = Schema {
    api_key: 9,
    name: "OffsetFetch",
    flexible: 6,
    body: OFFSET_FETCH_RESPONSE,
};
pub(super) const FIND_COORDINATOR: Schema = Schema {
    api_key: 10,
    name: "FindCoordinator",
    flexible: 3,
    body: FIND_COORDINATOR_RESPONSE,
};
pub(super) const JOIN_GROUP: Schema = Schema {
    api_key: 11,
    name: "JoinGroup",
    flexible: 6,
    body: JOIN_GROUP_RESPONSE,
};
pub(super) const HEARTBEAT: Schema = Schema {
    api_key: 12,
    name: "Heartbeat",
    flexible: 4,
    body: HEARTBEAT_RESPONSE,
};
pub(super) const LEAVE_GROUP: Schema = Schema {
    api_key: 13,
    name: "LeaveGroup",
    flexible: 4,
    body: LEAVE_GROUP_RESPONSE,
};
pub(super) const SYNC_GROUP: Schema = Schema {
    api_key: 14,
    name: "SyncGroup",
    flexible: 4,
    body: SYNC_GROUP_RESPONSE,
};
pub(super) const DESCRIBE_GROUPS: Schema = Schema {
    api_key: 15,
    name: "DescribeGroups",
    flexible: 5,
    body: DESCRIBE_GROUPS_RESPONSE,
};
pub(super) const LIST_GROUPS: Schema = Schema {
    api_key: 16,
    name: "ListGroups",
    flexible: 3,
    body: LIST_GROUPS_RESPONSE,
};
pub(super) const DELETE_GROUPS: Schema = Schema {
    api_key: 42,
    name: "DeleteGroups",
    flexible: 2,
    body: DELETE_GROUPS_RESPONSE,
};
pub(super) const OFFSET_DELETE: Schema = Schema {
    api_key: 47,
    name: "OffsetDelete",
    flexible: OPEN,
    body: OFFSET_DELETE_RESPONSE,
};

// ConsumerGroupHeartbeatResponse (KIP-848)
const CONSUMER_GROUP_HEARTBEAT_TOPIC_PARTITIONS: &[Field] = &[
    Field::new("topic_id", UUID, 0),
    Field::new("partitions", Ty::Array(&I32), 0),
];
const CONSUMER_GROUP_HEARTBEAT_ASSIGNMENT: &[Field] = &[Field::new(
    "topic_partitions",
    Ty::Array(&Ty::Struct(CONSUMER_GROUP_HEARTBEAT_TOPIC_PARTITIONS)),
    0,
)];
const CONSUMER_GROUP_HEARTBEAT_RESPONSE: &[Field] = &[
    Field::new("throttle_time_ms", I32, 0),
    Field::new("error_code", I16, 0),
    Field::new("error_message", STR, 0),
    Field::new("member_id", STR, 0),
    Field::new("member_epoch", I32, 0),
    Field::new("heartbeat_interval_ms", I32, 0),
    Field::new(
        "assignment",
        Ty::OptionStruct(CONSUMER_GROUP_HEARTBEAT_ASSIGNMENT),
        0,
    ),
];

// ConsumerGroupDescribeResponse (KIP-848)
const CONSUMER_GROUP_DESCRIBE_TOPIC_PARTITIONS: &[Field] = &[
    Field::new("topic_id", UUID, 0),
    Field::new("topic_name", STR, 0),
    Field::new("partitions", Ty::Array(&I32), 0),
];
const CONSUMER_GROUP_DESCRIBE_ASSIGNMENT: &[Field] = &[Field::new(
    "topic_partitions",
    Ty::Array(&Ty::Struct(CONSUMER_GROUP_DESCRIBE_TOPIC_PARTITIONS)),
    0,
)];
const CONSUMER_GROUP_DESCRIBE_MEMBER: &[Field] = &[
    Field::new("member_id", STR, 0),
    Field::new("instance_id", STR, 0),
    Field::new("rack_id", STR, 0),
    Field::new("member_epoch", I32, 0),
    Field::new("client_id", STR, 0),
    Field::new("client_host", STR, 0),
    Field::new("subscribed_topic_names", Ty::Array(&STR), 0),
    Field::new("subscribed_topic_regex", STR, 0),
    Field::new(
        "assignment",
        Ty::Struct(CONSUMER_GROUP_DESCRIBE_ASSIGNMENT),
        0,
    ),
    Field::new(
        "target_assignment",
        Ty::Struct(CONSUMER_GROUP_DESCRIBE_ASSIGNMENT),
        0,
    ),
    Field::new("member_type", I8, 1),
];
const CONSUMER_GROUP_DESCRIBE_GROUP: &[Field] = &[
    Field::new("error_code", I16, 0),
    Field::new("error_message", STR, 0),
    Field::new("group_id", STR, 0),
    Field::new("group_state", STR, 0),
    Field::new("group_epoch", I32, 0),
    Field::new("assignment_epoch", I32, 0),
    Field::new("assignor_name", STR, 0),
    Field::new(
        "members",
        Ty::Array(&Ty::Struct(CONSUMER_GROUP_DESCRIBE_MEMBER)),
        0,
    ),
    Field::new("authorized_operations", I32, 0),
];
const CONSUMER_GROUP_DESCRIBE_RESPONSE: &[Field] = &[
    Field::new("throttle_time_ms", I32, 0),
    Field::new(
        "groups",
        Ty::Array(&Ty::Struct(CONSUMER_GROUP_DESCRIBE_GROUP)),
        0,
    ),
];

pub(super) const CONSUMER_GROUP_HEARTBEAT: Schema = Schema {
    api_key: 68,
    name: "ConsumerGroupHeartbeat",
    flexible: 0,
    body: CONSUMER_GROUP_HEARTBEAT_RESPONSE,
};
pub(super) const CONSUMER_GROUP_DESCRIBE: Schema = Schema {
    api_key: 69,
    name: "ConsumerGroupDescribe",
    flexible: 0,
    body: CONSUMER_GROUP_DESCRIBE_RESPONSE,
};
