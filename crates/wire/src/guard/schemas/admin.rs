//! Response layouts: Connection setup (ApiVersions, SASL) and administration.

use super::*;

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

pub(super) const API_VERSIONS: Schema = Schema {
    api_key: 18,
    name: "ApiVersions",
    flexible: 3,
    body: API_VERSIONS_RESPONSE,
};
pub(super) const SASL_HANDSHAKE: Schema = Schema {
    api_key: 17,
    name: "SaslHandshake",
    flexible: OPEN,
    body: SASL_HANDSHAKE_RESPONSE,
};
pub(super) const SASL_AUTHENTICATE: Schema = Schema {
    api_key: 36,
    name: "SaslAuthenticate",
    flexible: 2,
    body: SASL_AUTHENTICATE_RESPONSE,
};
pub(super) const CREATE_TOPICS: Schema = Schema {
    api_key: 19,
    name: "CreateTopics",
    flexible: 5,
    body: CREATE_TOPICS_RESPONSE,
};
pub(super) const DELETE_TOPICS: Schema = Schema {
    api_key: 20,
    name: "DeleteTopics",
    flexible: 4,
    body: DELETE_TOPICS_RESPONSE,
};
pub(super) const DESCRIBE_CONFIGS: Schema = Schema {
    api_key: 32,
    name: "DescribeConfigs",
    flexible: 4,
    body: DESCRIBE_CONFIGS_RESPONSE,
};
pub(super) const DESCRIBE_CLUSTER: Schema = Schema {
    api_key: 60,
    name: "DescribeCluster",
    flexible: 0,
    body: DESCRIBE_CLUSTER_RESPONSE,
};
pub(super) const DESCRIBE_USER_SCRAM_CREDENTIALS: Schema = Schema {
    api_key: 50,
    name: "DescribeUserScramCredentials",
    flexible: 0,
    body: DESCRIBE_USER_SCRAM_CREDENTIALS_RESPONSE,
};
pub(super) const ALTER_USER_SCRAM_CREDENTIALS: Schema = Schema {
    api_key: 51,
    name: "AlterUserScramCredentials",
    flexible: 0,
    body: ALTER_USER_SCRAM_CREDENTIALS_RESPONSE,
};
pub(super) const CREATE_PARTITIONS: Schema = Schema {
    api_key: 37,
    name: "CreatePartitions",
    flexible: 2,
    body: CREATE_PARTITIONS_RESPONSE,
};
pub(super) const ALTER_CONFIGS: Schema = Schema {
    api_key: 33,
    name: "AlterConfigs",
    flexible: 2,
    body: ALTER_CONFIGS_RESPONSE,
};
pub(super) const INCREMENTAL_ALTER_CONFIGS: Schema = Schema {
    api_key: 44,
    name: "IncrementalAlterConfigs",
    flexible: 1,
    body: INCREMENTAL_ALTER_CONFIGS_RESPONSE,
};
