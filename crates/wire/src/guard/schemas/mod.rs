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

mod admin;
mod data;
mod group;
mod txn;

use admin::*;
use data::*;
use group::*;
use txn::*;

const I8: Ty = Ty::Fixed(1);
const I16: Ty = Ty::Fixed(2);
const I32: Ty = Ty::Fixed(4);
const I64: Ty = Ty::Fixed(8);
const BOOL: Ty = Ty::Fixed(1);
const UUID: Ty = Ty::Fixed(16);
const STR: Ty = Ty::Str;
const BYTES: Ty = Ty::Bytes;

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
    &CONSUMER_GROUP_HEARTBEAT,
    &CONSUMER_GROUP_DESCRIBE,
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
    ConsumerGroupHeartbeatResponse => CONSUMER_GROUP_HEARTBEAT,
    ConsumerGroupDescribeResponse => CONSUMER_GROUP_DESCRIBE,
    DescribeUserScramCredentialsResponse => DESCRIBE_USER_SCRAM_CREDENTIALS,
    AlterUserScramCredentialsResponse => ALTER_USER_SCRAM_CREDENTIALS,
}
