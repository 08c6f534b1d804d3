//! Response body layouts of every API rafka speaks, for [`super::walk_response`].
//!
//! One constant per structure of each response, named after the API and the structure as the
//! Kafka message schemas name them (`clients/src/main/resources/common/message/*Response.json`
//! in Kafka; Kafka protocol guide, "The Messages"). Each field lists the versions that carry it,
//! as `kafka-protocol` 0.18 decodes them: where that crate dropped versions Kafka no longer
//! supports, a field's lower bound may be below the message's lowest version. Version ranges of
//! a structure are the message's, since nested structures are decoded at the message version.
//!
//! Only layout matters here: nullability and defaults are the decoder's business, so STRING and
//! NULLABLE_STRING are both [`Ty::Str`], and every fixed-size type is its width.

use kafka_protocol::messages::*;

use super::{Field, GuardedResponse, Schema, Ty, OPEN};

const I8: Ty = Ty::Fixed(1);
const I16: Ty = Ty::Fixed(2);
const I32: Ty = Ty::Fixed(4);
const I64: Ty = Ty::Fixed(8);
const BOOL: Ty = Ty::Fixed(1);
const UUID: Ty = Ty::Fixed(16);
const STR: Ty = Ty::Str;
const BYTES: Ty = Ty::Bytes;

// ProduceResponse
const PRODUCE_BATCH_INDEX_AND_ERROR_MESSAGE: &[Field] = &[
    Field::new("batch_index", I32, 8),
    Field::new("batch_index_error_message", STR, 8),
];
const PRODUCE_LEADER_ID_AND_EPOCH: &[Field] = &[
    Field::new("leader_id", I32, 10),
    Field::new("leader_epoch", I32, 10),
];
const PRODUCE_NODE_ENDPOINT: &[Field] = &[
    Field::new("node_id", I32, 10),
    Field::new("host", STR, 10),
    Field::new("port", I32, 10),
    Field::new("rack", STR, 10),
];
const PRODUCE_PARTITION_PRODUCE_RESPONSE: &[Field] = &[
    Field::new("index", I32, 0),
    Field::new("error_code", I16, 0),
    Field::new("base_offset", I64, 0),
    Field::new("log_append_time_ms", I64, 0),
    Field::new("log_start_offset", I64, 5),
    Field::new(
        "record_errors",
        Ty::Array(&Ty::Struct(PRODUCE_BATCH_INDEX_AND_ERROR_MESSAGE)),
        8,
    ),
    Field::new("error_message", STR, 8),
    Field::tagged(
        0,
        "current_leader",
        Ty::Struct(PRODUCE_LEADER_ID_AND_EPOCH),
        10,
    ),
];
const PRODUCE_RESPONSE: &[Field] = &[
    Field::new(
        "responses",
        Ty::Array(&Ty::Struct(PRODUCE_TOPIC_PRODUCE_RESPONSE)),
        0,
    ),
    Field::new("throttle_time_ms", I32, 0),
    Field::tagged(
        0,
        "node_endpoints",
        Ty::Array(&Ty::Struct(PRODUCE_NODE_ENDPOINT)),
        10,
    ),
];
const PRODUCE_TOPIC_PRODUCE_RESPONSE: &[Field] = &[
    Field::new("name", STR, 0).until(12),
    Field::new("topic_id", UUID, 13),
    Field::new(
        "partition_responses",
        Ty::Array(&Ty::Struct(PRODUCE_PARTITION_PRODUCE_RESPONSE)),
        0,
    ),
];

// FetchResponse
const FETCH_ABORTED_TRANSACTION: &[Field] = &[
    Field::new("producer_id", I64, 0),
    Field::new("first_offset", I64, 0),
];
const FETCH_EPOCH_END_OFFSET: &[Field] = &[
    Field::new("epoch", I32, 12),
    Field::new("end_offset", I64, 12),
];
const FETCH_RESPONSE: &[Field] = &[
    Field::new("throttle_time_ms", I32, 0),
    Field::new("error_code", I16, 7),
    Field::new("session_id", I32, 7),
    Field::new(
        "responses",
        Ty::Array(&Ty::Struct(FETCH_FETCHABLE_TOPIC_RESPONSE)),
        0,
    ),
    Field::tagged(
        0,
        "node_endpoints",
        Ty::Array(&Ty::Struct(FETCH_NODE_ENDPOINT)),
        16,
    ),
];
const FETCH_FETCHABLE_TOPIC_RESPONSE: &[Field] = &[
    Field::new("topic", STR, 0).until(12),
    Field::new("topic_id", UUID, 13),
    Field::new(
        "partitions",
        Ty::Array(&Ty::Struct(FETCH_PARTITION_DATA)),
        0,
    ),
];
const FETCH_LEADER_ID_AND_EPOCH: &[Field] = &[
    Field::new("leader_id", I32, 12),
    Field::new("leader_epoch", I32, 12),
];
const FETCH_NODE_ENDPOINT: &[Field] = &[
    Field::new("node_id", I32, 16),
    Field::new("host", STR, 16),
    Field::new("port", I32, 16),
    Field::new("rack", STR, 16),
];
const FETCH_PARTITION_DATA: &[Field] = &[
    Field::new("partition_index", I32, 0),
    Field::new("error_code", I16, 0),
    Field::new("high_watermark", I64, 0),
    Field::new("last_stable_offset", I64, 0),
    Field::new("log_start_offset", I64, 5),
    Field::new(
        "aborted_transactions",
        Ty::Array(&Ty::Struct(FETCH_ABORTED_TRANSACTION)),
        0,
    ),
    Field::new("preferred_read_replica", I32, 11),
    Field::new("records", BYTES, 0),
    Field::tagged(0, "diverging_epoch", Ty::Struct(FETCH_EPOCH_END_OFFSET), 0),
    Field::tagged(
        1,
        "current_leader",
        Ty::Struct(FETCH_LEADER_ID_AND_EPOCH),
        0,
    ),
    Field::tagged(2, "snapshot_id", Ty::Struct(FETCH_SNAPSHOT_ID), 0),
];
const FETCH_SNAPSHOT_ID: &[Field] = &[
    Field::new("end_offset", I64, 0),
    Field::new("epoch", I32, 0),
];

// ListOffsetsResponse
const LIST_OFFSETS_PARTITION_RESPONSE: &[Field] = &[
    Field::new("partition_index", I32, 0),
    Field::new("error_code", I16, 0),
    Field::new("timestamp", I64, 0),
    Field::new("offset", I64, 0),
    Field::new("leader_epoch", I32, 4),
];
const LIST_OFFSETS_RESPONSE: &[Field] = &[
    Field::new("throttle_time_ms", I32, 2),
    Field::new(
        "topics",
        Ty::Array(&Ty::Struct(LIST_OFFSETS_TOPIC_RESPONSE)),
        0,
    ),
];
const LIST_OFFSETS_TOPIC_RESPONSE: &[Field] = &[
    Field::new("name", STR, 0),
    Field::new(
        "partitions",
        Ty::Array(&Ty::Struct(LIST_OFFSETS_PARTITION_RESPONSE)),
        0,
    ),
];

// MetadataResponse
const METADATA_RESPONSE: &[Field] = &[
    Field::new("throttle_time_ms", I32, 3),
    Field::new(
        "brokers",
        Ty::Array(&Ty::Struct(METADATA_RESPONSE_BROKER)),
        0,
    ),
    Field::new("cluster_id", STR, 2),
    Field::new("controller_id", I32, 1),
    Field::new("topics", Ty::Array(&Ty::Struct(METADATA_RESPONSE_TOPIC)), 0),
    Field::new("cluster_authorized_operations", I32, 8).until(10),
    Field::new("error_code", I16, 13),
];
const METADATA_RESPONSE_BROKER: &[Field] = &[
    Field::new("node_id", I32, 0),
    Field::new("host", STR, 0),
    Field::new("port", I32, 0),
    Field::new("rack", STR, 1),
];
const METADATA_RESPONSE_PARTITION: &[Field] = &[
    Field::new("error_code", I16, 0),
    Field::new("partition_index", I32, 0),
    Field::new("leader_id", I32, 0),
    Field::new("leader_epoch", I32, 7),
    Field::new("replica_nodes", Ty::Array(&I32), 0),
    Field::new("isr_nodes", Ty::Array(&I32), 0),
    Field::new("offline_replicas", Ty::Array(&I32), 5),
];
const METADATA_RESPONSE_TOPIC: &[Field] = &[
    Field::new("error_code", I16, 0),
    Field::new("name", STR, 0),
    Field::new("topic_id", UUID, 10),
    Field::new("is_internal", BOOL, 1),
    Field::new(
        "partitions",
        Ty::Array(&Ty::Struct(METADATA_RESPONSE_PARTITION)),
        0,
    ),
    Field::new("topic_authorized_operations", I32, 8),
];

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

// SaslHandshakeResponse
const SASL_HANDSHAKE_RESPONSE: &[Field] = &[
    Field::new("error_code", I16, 0),
    Field::new("mechanisms", Ty::Array(&STR), 0),
];

// ApiVersionsResponse
const API_VERSIONS_API_VERSION: &[Field] = &[
    Field::new("api_key", I16, 0),
    Field::new("min_version", I16, 0),
    Field::new("max_version", I16, 0),
];
const API_VERSIONS_RESPONSE: &[Field] = &[
    Field::new("error_code", I16, 0),
    Field::new(
        "api_keys",
        Ty::Array(&Ty::Struct(API_VERSIONS_API_VERSION)),
        0,
    ),
    Field::new("throttle_time_ms", I32, 1),
    Field::tagged(
        0,
        "supported_features",
        Ty::Array(&Ty::Struct(API_VERSIONS_SUPPORTED_FEATURE_KEY)),
        0,
    ),
    Field::tagged(1, "finalized_features_epoch", I64, 0),
    Field::tagged(
        2,
        "finalized_features",
        Ty::Array(&Ty::Struct(API_VERSIONS_FINALIZED_FEATURE_KEY)),
        0,
    ),
    Field::tagged(3, "zk_migration_ready", BOOL, 0),
];
const API_VERSIONS_FINALIZED_FEATURE_KEY: &[Field] = &[
    Field::new("name", STR, 3),
    Field::new("max_version_level", I16, 3),
    Field::new("min_version_level", I16, 3),
];
const API_VERSIONS_SUPPORTED_FEATURE_KEY: &[Field] = &[
    Field::new("name", STR, 3),
    Field::new("min_version", I16, 3),
    Field::new("max_version", I16, 3),
];

// CreateTopicsResponse
const CREATE_TOPICS_CREATABLE_TOPIC_CONFIGS: &[Field] = &[
    Field::new("name", STR, 5),
    Field::new("value", STR, 5),
    Field::new("read_only", BOOL, 5),
    Field::new("config_source", I8, 5),
    Field::new("is_sensitive", BOOL, 5),
];
const CREATE_TOPICS_CREATABLE_TOPIC_RESULT: &[Field] = &[
    Field::new("name", STR, 0),
    Field::new("topic_id", UUID, 7),
    Field::new("error_code", I16, 0),
    Field::new("error_message", STR, 0),
    Field::new("num_partitions", I32, 5),
    Field::new("replication_factor", I16, 5),
    Field::new(
        "configs",
        Ty::Array(&Ty::Struct(CREATE_TOPICS_CREATABLE_TOPIC_CONFIGS)),
        5,
    ),
    Field::tagged(0, "topic_config_error_code", I16, 0),
];
const CREATE_TOPICS_RESPONSE: &[Field] = &[
    Field::new("throttle_time_ms", I32, 0),
    Field::new(
        "topics",
        Ty::Array(&Ty::Struct(CREATE_TOPICS_CREATABLE_TOPIC_RESULT)),
        0,
    ),
];

// DeleteTopicsResponse
const DELETE_TOPICS_DELETABLE_TOPIC_RESULT: &[Field] = &[
    Field::new("name", STR, 0),
    Field::new("topic_id", UUID, 6),
    Field::new("error_code", I16, 0),
    Field::new("error_message", STR, 5),
];
const DELETE_TOPICS_RESPONSE: &[Field] = &[
    Field::new("throttle_time_ms", I32, 0),
    Field::new(
        "responses",
        Ty::Array(&Ty::Struct(DELETE_TOPICS_DELETABLE_TOPIC_RESULT)),
        0,
    ),
];

// DeleteRecordsResponse
const DELETE_RECORDS_PARTITION_RESULT: &[Field] = &[
    Field::new("partition_index", I32, 0),
    Field::new("low_watermark", I64, 0),
    Field::new("error_code", I16, 0),
];
const DELETE_RECORDS_RESPONSE: &[Field] = &[
    Field::new("throttle_time_ms", I32, 0),
    Field::new(
        "topics",
        Ty::Array(&Ty::Struct(DELETE_RECORDS_TOPIC_RESULT)),
        0,
    ),
];
const DELETE_RECORDS_TOPIC_RESULT: &[Field] = &[
    Field::new("name", STR, 0),
    Field::new(
        "partitions",
        Ty::Array(&Ty::Struct(DELETE_RECORDS_PARTITION_RESULT)),
        0,
    ),
];

// InitProducerIdResponse
const INIT_PRODUCER_ID_RESPONSE: &[Field] = &[
    Field::new("throttle_time_ms", I32, 0),
    Field::new("error_code", I16, 0),
    Field::new("producer_id", I64, 0),
    Field::new("producer_epoch", I16, 0),
    Field::new("ongoing_txn_producer_id", I64, 6),
    Field::new("ongoing_txn_producer_epoch", I16, 6),
];

// AddPartitionsToTxnResponse
const ADD_PARTITIONS_TO_TXN_PARTITION_RESULT: &[Field] = &[
    Field::new("partition_index", I32, 0),
    Field::new("partition_error_code", I16, 0),
];
const ADD_PARTITIONS_TO_TXN_RESPONSE: &[Field] = &[
    Field::new("throttle_time_ms", I32, 0),
    Field::new("error_code", I16, 4),
    Field::new(
        "results_by_transaction",
        Ty::Array(&Ty::Struct(ADD_PARTITIONS_TO_TXN_RESULT)),
        4,
    ),
    Field::new(
        "results_by_topic_v3_and_below",
        Ty::Array(&Ty::Struct(ADD_PARTITIONS_TO_TXN_TOPIC_RESULT)),
        0,
    )
    .until(3),
];
const ADD_PARTITIONS_TO_TXN_RESULT: &[Field] = &[
    Field::new("transactional_id", STR, 4),
    Field::new(
        "topic_results",
        Ty::Array(&Ty::Struct(ADD_PARTITIONS_TO_TXN_TOPIC_RESULT)),
        4,
    ),
];
const ADD_PARTITIONS_TO_TXN_TOPIC_RESULT: &[Field] = &[
    Field::new("name", STR, 0),
    Field::new(
        "results_by_partition",
        Ty::Array(&Ty::Struct(ADD_PARTITIONS_TO_TXN_PARTITION_RESULT)),
        0,
    ),
];

// AddOffsetsToTxnResponse
const ADD_OFFSETS_TO_TXN_RESPONSE: &[Field] = &[
    Field::new("throttle_time_ms", I32, 0),
    Field::new("error_code", I16, 0),
];

// EndTxnResponse
const END_TXN_RESPONSE: &[Field] = &[
    Field::new("throttle_time_ms", I32, 0),
    Field::new("error_code", I16, 0),
    Field::new("producer_id", I64, 5),
    Field::new("producer_epoch", I16, 5),
];

// TxnOffsetCommitResponse
const TXN_OFFSET_COMMIT_RESPONSE: &[Field] = &[
    Field::new("throttle_time_ms", I32, 0),
    Field::new(
        "topics",
        Ty::Array(&Ty::Struct(TXN_OFFSET_COMMIT_RESPONSE_TOPIC)),
        0,
    ),
];
const TXN_OFFSET_COMMIT_RESPONSE_PARTITION: &[Field] = &[
    Field::new("partition_index", I32, 0),
    Field::new("error_code", I16, 0),
];
const TXN_OFFSET_COMMIT_RESPONSE_TOPIC: &[Field] = &[
    Field::new("name", STR, 0),
    Field::new(
        "partitions",
        Ty::Array(&Ty::Struct(TXN_OFFSET_COMMIT_RESPONSE_PARTITION)),
        0,
    ),
];

// DescribeConfigsResponse
const DESCRIBE_CONFIGS_RESOURCE_RESULT: &[Field] = &[
    Field::new("name", STR, 0),
    Field::new("value", STR, 0),
    Field::new("read_only", BOOL, 0),
    Field::new("config_source", I8, 0),
    Field::new("is_sensitive", BOOL, 0),
    Field::new(
        "synonyms",
        Ty::Array(&Ty::Struct(DESCRIBE_CONFIGS_SYNONYM)),
        0,
    ),
    Field::new("config_type", I8, 3),
    Field::new("documentation", STR, 3),
];
const DESCRIBE_CONFIGS_RESPONSE: &[Field] = &[
    Field::new("throttle_time_ms", I32, 0),
    Field::new(
        "results",
        Ty::Array(&Ty::Struct(DESCRIBE_CONFIGS_RESULT)),
        0,
    ),
];
const DESCRIBE_CONFIGS_RESULT: &[Field] = &[
    Field::new("error_code", I16, 0),
    Field::new("error_message", STR, 0),
    Field::new("resource_type", I8, 0),
    Field::new("resource_name", STR, 0),
    Field::new(
        "configs",
        Ty::Array(&Ty::Struct(DESCRIBE_CONFIGS_RESOURCE_RESULT)),
        0,
    ),
];
const DESCRIBE_CONFIGS_SYNONYM: &[Field] = &[
    Field::new("name", STR, 0),
    Field::new("value", STR, 0),
    Field::new("source", I8, 0),
];

// SaslAuthenticateResponse
const SASL_AUTHENTICATE_RESPONSE: &[Field] = &[
    Field::new("error_code", I16, 0),
    Field::new("error_message", STR, 0),
    Field::new("auth_bytes", BYTES, 0),
    Field::new("session_lifetime_ms", I64, 1),
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

// DescribeClusterResponse
const DESCRIBE_CLUSTER_BROKER: &[Field] = &[
    Field::new("broker_id", I32, 0),
    Field::new("host", STR, 0),
    Field::new("port", I32, 0),
    Field::new("rack", STR, 0),
    Field::new("is_fenced", BOOL, 2),
];
const DESCRIBE_CLUSTER_RESPONSE: &[Field] = &[
    Field::new("throttle_time_ms", I32, 0),
    Field::new("error_code", I16, 0),
    Field::new("error_message", STR, 0),
    Field::new("endpoint_type", I8, 1),
    Field::new("cluster_id", STR, 0),
    Field::new("controller_id", I32, 0),
    Field::new(
        "brokers",
        Ty::Array(&Ty::Struct(DESCRIBE_CLUSTER_BROKER)),
        0,
    ),
    Field::new("cluster_authorized_operations", I32, 0),
];

// DescribeUserScramCredentialsResponse (KIP-554)
const DESCRIBE_USER_SCRAM_CREDENTIALS_CREDENTIAL_INFO: &[Field] = &[
    Field::new("mechanism", I8, 0),
    Field::new("iterations", I32, 0),
];
const DESCRIBE_USER_SCRAM_CREDENTIALS_RESULT: &[Field] = &[
    Field::new("user", STR, 0),
    Field::new("error_code", I16, 0),
    Field::new("error_message", STR, 0),
    Field::new(
        "credential_infos",
        Ty::Array(&Ty::Struct(DESCRIBE_USER_SCRAM_CREDENTIALS_CREDENTIAL_INFO)),
        0,
    ),
];
const DESCRIBE_USER_SCRAM_CREDENTIALS_RESPONSE: &[Field] = &[
    Field::new("throttle_time_ms", I32, 0),
    Field::new("error_code", I16, 0),
    Field::new("error_message", STR, 0),
    Field::new(
        "results",
        Ty::Array(&Ty::Struct(DESCRIBE_USER_SCRAM_CREDENTIALS_RESULT)),
        0,
    ),
];

// AlterUserScramCredentialsResponse (KIP-554)
const ALTER_USER_SCRAM_CREDENTIALS_RESULT: &[Field] = &[
    Field::new("user", STR, 0),
    Field::new("error_code", I16, 0),
    Field::new("error_message", STR, 0),
];
const ALTER_USER_SCRAM_CREDENTIALS_RESPONSE: &[Field] = &[
    Field::new("throttle_time_ms", I32, 0),
    Field::new(
        "results",
        Ty::Array(&Ty::Struct(ALTER_USER_SCRAM_CREDENTIALS_RESULT)),
        0,
    ),
];

// OffsetForLeaderEpochResponse
const OFFSET_FOR_LEADER_EPOCH_EPOCH_END_OFFSET: &[Field] = &[
    Field::new("error_code", I16, 0),
    Field::new("partition", I32, 0),
    Field::new("leader_epoch", I32, 0),
    Field::new("end_offset", I64, 0),
];
const OFFSET_FOR_LEADER_EPOCH_RESPONSE: &[Field] = &[
    Field::new("throttle_time_ms", I32, 0),
    Field::new(
        "topics",
        Ty::Array(&Ty::Struct(
            OFFSET_FOR_LEADER_EPOCH_OFFSET_FOR_LEADER_TOPIC_RESULT,
        )),
        0,
    ),
];
const OFFSET_FOR_LEADER_EPOCH_OFFSET_FOR_LEADER_TOPIC_RESULT: &[Field] = &[
    Field::new("topic", STR, 0),
    Field::new(
        "partitions",
        Ty::Array(&Ty::Struct(OFFSET_FOR_LEADER_EPOCH_EPOCH_END_OFFSET)),
        0,
    ),
];

// CreatePartitionsResponse
const CREATE_PARTITIONS_RESPONSE: &[Field] = &[
    Field::new("throttle_time_ms", I32, 0),
    Field::new(
        "results",
        Ty::Array(&Ty::Struct(CREATE_PARTITIONS_TOPIC_RESULT)),
        0,
    ),
];
const CREATE_PARTITIONS_TOPIC_RESULT: &[Field] = &[
    Field::new("name", STR, 0),
    Field::new("error_code", I16, 0),
    Field::new("error_message", STR, 0),
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

// AlterConfigsResponse
const ALTER_CONFIGS_RESOURCE_RESPONSE: &[Field] = &[
    Field::new("error_code", I16, 0),
    Field::new("error_message", STR, 0),
    Field::new("resource_type", I8, 0),
    Field::new("resource_name", STR, 0),
];
const ALTER_CONFIGS_RESPONSE: &[Field] = &[
    Field::new("throttle_time_ms", I32, 0),
    Field::new(
        "responses",
        Ty::Array(&Ty::Struct(ALTER_CONFIGS_RESOURCE_RESPONSE)),
        0,
    ),
];

// IncrementalAlterConfigsResponse
const INCREMENTAL_ALTER_CONFIGS_ALTER_CONFIGS_RESOURCE_RESPONSE: &[Field] = &[
    Field::new("error_code", I16, 0),
    Field::new("error_message", STR, 0),
    Field::new("resource_type", I8, 0),
    Field::new("resource_name", STR, 0),
];
const INCREMENTAL_ALTER_CONFIGS_RESPONSE: &[Field] = &[
    Field::new("throttle_time_ms", I32, 0),
    Field::new(
        "responses",
        Ty::Array(&Ty::Struct(
            INCREMENTAL_ALTER_CONFIGS_ALTER_CONFIGS_RESOURCE_RESPONSE,
        )),
        0,
    ),
];

const PRODUCE: Schema = Schema {
    api_key: 0,
    name: "Produce",
    flexible: 9,
    body: PRODUCE_RESPONSE,
};
const FETCH: Schema = Schema {
    api_key: 1,
    name: "Fetch",
    flexible: 12,
    body: FETCH_RESPONSE,
};
const LIST_OFFSETS: Schema = Schema {
    api_key: 2,
    name: "ListOffsets",
    flexible: 6,
    body: LIST_OFFSETS_RESPONSE,
};
const METADATA: Schema = Schema {
    api_key: 3,
    name: "Metadata",
    flexible: 9,
    body: METADATA_RESPONSE,
};
const OFFSET_COMMIT: Schema = Schema {
    api_key: 8,
    name: "OffsetCommit",
    flexible: 8,
    body: OFFSET_COMMIT_RESPONSE,
};
const OFFSET_FETCH: Schema = Schema {
    api_key: 9,
    name: "OffsetFetch",
    flexible: 6,
    body: OFFSET_FETCH_RESPONSE,
};
const FIND_COORDINATOR: Schema = Schema {
    api_key: 10,
    name: "FindCoordinator",
    flexible: 3,
    body: FIND_COORDINATOR_RESPONSE,
};
const JOIN_GROUP: Schema = Schema {
    api_key: 11,
    name: "JoinGroup",
    flexible: 6,
    body: JOIN_GROUP_RESPONSE,
};
const HEARTBEAT: Schema = Schema {
    api_key: 12,
    name: "Heartbeat",
    flexible: 4,
    body: HEARTBEAT_RESPONSE,
};
const LEAVE_GROUP: Schema = Schema {
    api_key: 13,
    name: "LeaveGroup",
    flexible: 4,
    body: LEAVE_GROUP_RESPONSE,
};
const SYNC_GROUP: Schema = Schema {
    api_key: 14,
    name: "SyncGroup",
    flexible: 4,
    body: SYNC_GROUP_RESPONSE,
};
const DESCRIBE_GROUPS: Schema = Schema {
    api_key: 15,
    name: "DescribeGroups",
    flexible: 5,
    body: DESCRIBE_GROUPS_RESPONSE,
};
const LIST_GROUPS: Schema = Schema {
    api_key: 16,
    name: "ListGroups",
    flexible: 3,
    body: LIST_GROUPS_RESPONSE,
};
const SASL_HANDSHAKE: Schema = Schema {
    api_key: 17,
    name: "SaslHandshake",
    flexible: OPEN,
    body: SASL_HANDSHAKE_RESPONSE,
};
const API_VERSIONS: Schema = Schema {
    api_key: 18,
    name: "ApiVersions",
    flexible: 3,
    body: API_VERSIONS_RESPONSE,
};
const CREATE_TOPICS: Schema = Schema {
    api_key: 19,
    name: "CreateTopics",
    flexible: 5,
    body: CREATE_TOPICS_RESPONSE,
};
const DELETE_TOPICS: Schema = Schema {
    api_key: 20,
    name: "DeleteTopics",
    flexible: 4,
    body: DELETE_TOPICS_RESPONSE,
};
const DELETE_RECORDS: Schema = Schema {
    api_key: 21,
    name: "DeleteRecords",
    flexible: 2,
    body: DELETE_RECORDS_RESPONSE,
};
const INIT_PRODUCER_ID: Schema = Schema {
    api_key: 22,
    name: "InitProducerId",
    flexible: 2,
    body: INIT_PRODUCER_ID_RESPONSE,
};
const OFFSET_FOR_LEADER_EPOCH: Schema = Schema {
    api_key: 23,
    name: "OffsetForLeaderEpoch",
    flexible: 4,
    body: OFFSET_FOR_LEADER_EPOCH_RESPONSE,
};
const ADD_PARTITIONS_TO_TXN: Schema = Schema {
    api_key: 24,
    name: "AddPartitionsToTxn",
    flexible: 3,
    body: ADD_PARTITIONS_TO_TXN_RESPONSE,
};
const ADD_OFFSETS_TO_TXN: Schema = Schema {
    api_key: 25,
    name: "AddOffsetsToTxn",
    flexible: 3,
    body: ADD_OFFSETS_TO_TXN_RESPONSE,
};
const END_TXN: Schema = Schema {
    api_key: 26,
    name: "EndTxn",
    flexible: 3,
    body: END_TXN_RESPONSE,
};
const TXN_OFFSET_COMMIT: Schema = Schema {
    api_key: 28,
    name: "TxnOffsetCommit",
    flexible: 3,
    body: TXN_OFFSET_COMMIT_RESPONSE,
};
const DESCRIBE_CONFIGS: Schema = Schema {
    api_key: 32,
    name: "DescribeConfigs",
    flexible: 4,
    body: DESCRIBE_CONFIGS_RESPONSE,
};
const ALTER_CONFIGS: Schema = Schema {
    api_key: 33,
    name: "AlterConfigs",
    flexible: 2,
    body: ALTER_CONFIGS_RESPONSE,
};
const SASL_AUTHENTICATE: Schema = Schema {
    api_key: 36,
    name: "SaslAuthenticate",
    flexible: 2,
    body: SASL_AUTHENTICATE_RESPONSE,
};
const CREATE_PARTITIONS: Schema = Schema {
    api_key: 37,
    name: "CreatePartitions",
    flexible: 2,
    body: CREATE_PARTITIONS_RESPONSE,
};
const DELETE_GROUPS: Schema = Schema {
    api_key: 42,
    name: "DeleteGroups",
    flexible: 2,
    body: DELETE_GROUPS_RESPONSE,
};
const INCREMENTAL_ALTER_CONFIGS: Schema = Schema {
    api_key: 44,
    name: "IncrementalAlterConfigs",
    flexible: 1,
    body: INCREMENTAL_ALTER_CONFIGS_RESPONSE,
};
const OFFSET_DELETE: Schema = Schema {
    api_key: 47,
    name: "OffsetDelete",
    flexible: OPEN,
    body: OFFSET_DELETE_RESPONSE,
};
const DESCRIBE_CLUSTER: Schema = Schema {
    api_key: 60,
    name: "DescribeCluster",
    flexible: 0,
    body: DESCRIBE_CLUSTER_RESPONSE,
};

const DESCRIBE_USER_SCRAM_CREDENTIALS: Schema = Schema {
    api_key: 50,
    name: "DescribeUserScramCredentials",
    flexible: 0,
    body: DESCRIBE_USER_SCRAM_CREDENTIALS_RESPONSE,
};
const ALTER_USER_SCRAM_CREDENTIALS: Schema = Schema {
    api_key: 51,
    name: "AlterUserScramCredentials",
    flexible: 0,
    body: ALTER_USER_SCRAM_CREDENTIALS_RESPONSE,
};

/// Every response layout, by API key.
static SCHEMAS: &[&Schema] = &[
    &PRODUCE,
    &FETCH,
    &LIST_OFFSETS,
    &METADATA,
    &OFFSET_COMMIT,
    &OFFSET_FETCH,
    &FIND_COORDINATOR,
    &JOIN_GROUP,
    &HEARTBEAT,
    &LEAVE_GROUP,
    &SYNC_GROUP,
    &DESCRIBE_GROUPS,
    &LIST_GROUPS,
    &SASL_HANDSHAKE,
    &API_VERSIONS,
    &CREATE_TOPICS,
    &DELETE_TOPICS,
    &DELETE_RECORDS,
    &INIT_PRODUCER_ID,
    &OFFSET_FOR_LEADER_EPOCH,
    &ADD_PARTITIONS_TO_TXN,
    &ADD_OFFSETS_TO_TXN,
    &END_TXN,
    &TXN_OFFSET_COMMIT,
    &DESCRIBE_CONFIGS,
    &ALTER_CONFIGS,
    &SASL_AUTHENTICATE,
    &CREATE_PARTITIONS,
    &DELETE_GROUPS,
    &INCREMENTAL_ALTER_CONFIGS,
    &OFFSET_DELETE,
    &DESCRIBE_USER_SCRAM_CREDENTIALS,
    &ALTER_USER_SCRAM_CREDENTIALS,
    &DESCRIBE_CLUSTER,
];

/// The response layout of an API key, `None` for APIs rafka does not speak.
pub fn response_schema(api_key: i16) -> Option<&'static Schema> {
    SCHEMAS.iter().copied().find(|s| s.api_key == api_key)
}

macro_rules! guarded {
    ($($ty:ident => $schema:ident,)*) => {
        $(
            impl GuardedResponse for $ty {
                const SCHEMA: &'static Schema = &$schema;
            }
        )*
    };
}

guarded! {
    ProduceResponse => PRODUCE,
    FetchResponse => FETCH,
    ListOffsetsResponse => LIST_OFFSETS,
    MetadataResponse => METADATA,
    OffsetCommitResponse => OFFSET_COMMIT,
    OffsetFetchResponse => OFFSET_FETCH,
    FindCoordinatorResponse => FIND_COORDINATOR,
    JoinGroupResponse => JOIN_GROUP,
    HeartbeatResponse => HEARTBEAT,
    LeaveGroupResponse => LEAVE_GROUP,
    SyncGroupResponse => SYNC_GROUP,
    DescribeGroupsResponse => DESCRIBE_GROUPS,
    ListGroupsResponse => LIST_GROUPS,
    SaslHandshakeResponse => SASL_HANDSHAKE,
    ApiVersionsResponse => API_VERSIONS,
    CreateTopicsResponse => CREATE_TOPICS,
    DeleteTopicsResponse => DELETE_TOPICS,
    DeleteRecordsResponse => DELETE_RECORDS,
    InitProducerIdResponse => INIT_PRODUCER_ID,
    OffsetForLeaderEpochResponse => OFFSET_FOR_LEADER_EPOCH,
    AddPartitionsToTxnResponse => ADD_PARTITIONS_TO_TXN,
    AddOffsetsToTxnResponse => ADD_OFFSETS_TO_TXN,
    EndTxnResponse => END_TXN,
    TxnOffsetCommitResponse => TXN_OFFSET_COMMIT,
    DescribeConfigsResponse => DESCRIBE_CONFIGS,
    AlterConfigsResponse => ALTER_CONFIGS,
    SaslAuthenticateResponse => SASL_AUTHENTICATE,
    CreatePartitionsResponse => CREATE_PARTITIONS,
    DeleteGroupsResponse => DELETE_GROUPS,
    IncrementalAlterConfigsResponse => INCREMENTAL_ALTER_CONFIGS,
    OffsetDeleteResponse => OFFSET_DELETE,
    DescribeClusterResponse => DESCRIBE_CLUSTER,
    DescribeUserScramCredentialsResponse => DESCRIBE_USER_SCRAM_CREDENTIALS,
    AlterUserScramCredentialsResponse => ALTER_USER_SCRAM_CREDENTIALS,
}
