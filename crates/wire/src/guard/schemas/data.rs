//! Response layouts: Produce, Fetch, offsets and metadata: the data path.

use super::*;

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

pub(super) const PRODUCE: Schema = Schema {
    api_key: 0,
    name: "Produce",
    flexible: 9,
    body: PRODUCE_RESPONSE,
};
pub(super) const FETCH: Schema = Schema {
    api_key: 1,
    name: "Fetch",
    flexible: 12,
    body: FETCH_RESPONSE,
};
pub(super) const LIST_OFFSETS: Schema = Schema {
    api_key: 2,
    name: "ListOffsets",
    flexible: 6,
    body: LIST_OFFSETS_RESPONSE,
};
pub(super) const METADATA: Schema = Schema {
    api_key: 3,
    name: "Metadata",
    flexible: 9,
    body: METADATA_RESPONSE,
};
pub(super) const OFFSET_FOR_LEADER_EPOCH: Schema = Schema {
    api_key: 23,
    name: "OffsetForLeaderEpoch",
    flexible: 4,
    body: OFFSET_FOR_LEADER_EPOCH_RESPONSE,
};
pub(super) const DELETE_RECORDS: Schema = Schema {
    api_key: 21,
    name: "DeleteRecords",
    flexible: 2,
    body: DELETE_RECORDS_RESPONSE,
};
