//! Response layouts: Idempotent and transactional producers (KIP-98).

use super::*;

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

pub(super) const INIT_PRODUCER_ID: Schema = Schema {
    api_key: 22,
    name: "InitProducerId",
    flexible: 2,
    body: INIT_PRODUCER_ID_RESPONSE,
};
pub(super) const ADD_PARTITIONS_TO_TXN: Schema = Schema {
    api_key: 24,
    name: "AddPartitionsToTxn",
    flexible: 3,
    body: ADD_PARTITIONS_TO_TXN_RESPONSE,
};
pub(super) const ADD_OFFSETS_TO_TXN: Schema = Schema {
    api_key: 25,
    name: "AddOffsetsToTxn",
    flexible: 3,
    body: ADD_OFFSETS_TO_TXN_RESPONSE,
};
pub(super) const END_TXN: Schema = Schema {
    api_key: 26,
    name: "EndTxn",
    flexible: 3,
    body: END_TXN_RESPONSE,
};
pub(super) const TXN_OFFSET_COMMIT: Schema = Schema {
    api_key: 28,
    name: "TxnOffsetCommit",
    flexible: 3,
    body: TXN_OFFSET_COMMIT_RESPONSE,
};
