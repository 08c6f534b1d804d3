//! A fully populated value of every response structure rafka decodes, at a given version: every
//! array holds an element, every string and byte field is non-empty, nullable fields are set,
//! known tagged fields carry values and flexible versions add an unknown tagged field.
//!
//! Built through `kafka-protocol`'s own types, independently of the guard's schemas, so that
//! encoding them and walking the bytes proves the schemas right.

use kafka_protocol::messages::*;

use super::{b, s, unknown};

/// `x` in versions `min..=max`, the default elsewhere: `kafka-protocol` refuses to encode a
/// value in a field the version cannot carry.
fn at<T: Default>(v: i16, min: i16, max: i16, x: T) -> T {
    at_or(v, min, max, x, T::default())
}

/// [`at`] for a field whose default is not `T::default()`.
fn at_or<T>(v: i16, min: i16, max: i16, x: T, default: T) -> T {
    if (min..=max).contains(&v) {
        x
    } else {
        default
    }
}

pub(super) fn produce_batch_index_and_error_message(
    v: i16,
) -> produce_response::BatchIndexAndErrorMessage {
    produce_response::BatchIndexAndErrorMessage::default()
        .with_batch_index(1)
        .with_batch_index_error_message(Some(s("x")))
        .with_unknown_tagged_fields(unknown(v, 9))
}

pub(super) fn produce_leader_id_and_epoch(v: i16) -> produce_response::LeaderIdAndEpoch {
    produce_response::LeaderIdAndEpoch::default()
        .with_leader_id(BrokerId(1))
        .with_leader_epoch(1)
        .with_unknown_tagged_fields(unknown(v, 9))
}

pub(super) fn produce_node_endpoint(v: i16) -> produce_response::NodeEndpoint {
    produce_response::NodeEndpoint::default()
        .with_node_id(BrokerId(1))
        .with_host(s("x"))
        .with_port(1)
        .with_rack(Some(s("x")))
        .with_unknown_tagged_fields(unknown(v, 9))
}

pub(super) fn produce_partition_produce_response(
    v: i16,
) -> produce_response::PartitionProduceResponse {
    produce_response::PartitionProduceResponse::default()
        .with_index(1)
        .with_error_code(1)
        .with_base_offset(1)
        .with_log_append_time_ms(1)
        .with_log_start_offset(1)
        .with_record_errors(vec![produce_batch_index_and_error_message(v)])
        .with_error_message(Some(s("x")))
        .with_current_leader(at(v, 10, i16::MAX, produce_leader_id_and_epoch(v)))
        .with_unknown_tagged_fields(unknown(v, 9))
}

pub(super) fn produce_produce_response(v: i16) -> produce_response::ProduceResponse {
    produce_response::ProduceResponse::default()
        .with_responses(vec![produce_topic_produce_response(v)])
        .with_throttle_time_ms(1)
        .with_node_endpoints(at(v, 10, i16::MAX, vec![produce_node_endpoint(v)]))
        .with_unknown_tagged_fields(unknown(v, 9))
}

pub(super) fn produce_topic_produce_response(v: i16) -> produce_response::TopicProduceResponse {
    produce_response::TopicProduceResponse::default()
        .with_name(TopicName(s("n")))
        .with_partition_responses(vec![produce_partition_produce_response(v)])
        .with_unknown_tagged_fields(unknown(v, 9))
}

pub(super) fn fetch_aborted_transaction(v: i16) -> fetch_response::AbortedTransaction {
    fetch_response::AbortedTransaction::default()
        .with_producer_id(ProducerId(1))
        .with_first_offset(1)
        .with_unknown_tagged_fields(unknown(v, 12))
}

pub(super) fn fetch_epoch_end_offset(v: i16) -> fetch_response::EpochEndOffset {
    fetch_response::EpochEndOffset::default()
        .with_epoch(1)
        .with_end_offset(1)
        .with_unknown_tagged_fields(unknown(v, 12))
}

pub(super) fn fetch_fetch_response(v: i16) -> fetch_response::FetchResponse {
    fetch_response::FetchResponse::default()
        .with_throttle_time_ms(1)
        .with_error_code(at(v, 7, i16::MAX, 1))
        .with_session_id(at(v, 7, i16::MAX, 1))
        .with_responses(vec![fetch_fetchable_topic_response(v)])
        .with_node_endpoints(at(v, 16, i16::MAX, vec![fetch_node_endpoint(v)]))
        .with_unknown_tagged_fields(unknown(v, 12))
}

pub(super) fn fetch_fetchable_topic_response(v: i16) -> fetch_response::FetchableTopicResponse {
    fetch_response::FetchableTopicResponse::default()
        .with_topic(TopicName(s("n")))
        .with_partitions(vec![fetch_partition_data(v)])
        .with_unknown_tagged_fields(unknown(v, 12))
}

pub(super) fn fetch_leader_id_and_epoch(v: i16) -> fetch_response::LeaderIdAndEpoch {
    fetch_response::LeaderIdAndEpoch::default()
        .with_leader_id(BrokerId(1))
        .with_leader_epoch(1)
        .with_unknown_tagged_fields(unknown(v, 12))
}

pub(super) fn fetch_node_endpoint(v: i16) -> fetch_response::NodeEndpoint {
    fetch_response::NodeEndpoint::default()
        .with_node_id(BrokerId(1))
        .with_host(s("x"))
        .with_port(1)
        .with_rack(Some(s("x")))
        .with_unknown_tagged_fields(unknown(v, 12))
}

pub(super) fn fetch_partition_data(v: i16) -> fetch_response::PartitionData {
    fetch_response::PartitionData::default()
        .with_partition_index(1)
        .with_error_code(1)
        .with_high_watermark(1)
        .with_last_stable_offset(1)
        .with_log_start_offset(1)
        .with_diverging_epoch(at(v, 12, i16::MAX, fetch_epoch_end_offset(v)))
        .with_current_leader(at(v, 12, i16::MAX, fetch_leader_id_and_epoch(v)))
        .with_snapshot_id(at(v, 12, i16::MAX, fetch_snapshot_id(v)))
        .with_aborted_transactions(Some(vec![fetch_aborted_transaction(v)]))
        .with_preferred_read_replica(at_or(v, 11, i16::MAX, BrokerId(1), BrokerId(-1)))
        .with_records(Some(b()))
        .with_unknown_tagged_fields(unknown(v, 12))
}

pub(super) fn fetch_snapshot_id(v: i16) -> fetch_response::SnapshotId {
    fetch_response::SnapshotId::default()
        .with_end_offset(1)
        .with_epoch(1)
        .with_unknown_tagged_fields(unknown(v, 12))
}

pub(super) fn list_offsets_list_offsets_partition_response(
    v: i16,
) -> list_offsets_response::ListOffsetsPartitionResponse {
    list_offsets_response::ListOffsetsPartitionResponse::default()
        .with_partition_index(1)
        .with_error_code(1)
        .with_timestamp(1)
        .with_offset(1)
        .with_leader_epoch(at_or(v, 4, i16::MAX, 1, -1))
        .with_unknown_tagged_fields(unknown(v, 6))
}

pub(super) fn list_offsets_list_offsets_response(
    v: i16,
) -> list_offsets_response::ListOffsetsResponse {
    list_offsets_response::ListOffsetsResponse::default()
        .with_throttle_time_ms(1)
        .with_topics(vec![list_offsets_list_offsets_topic_response(v)])
        .with_unknown_tagged_fields(unknown(v, 6))
}

pub(super) fn list_offsets_list_offsets_topic_response(
    v: i16,
) -> list_offsets_response::ListOffsetsTopicResponse {
    list_offsets_response::ListOffsetsTopicResponse::default()
        .with_name(TopicName(s("n")))
        .with_partitions(vec![list_offsets_list_offsets_partition_response(v)])
        .with_unknown_tagged_fields(unknown(v, 6))
}

pub(super) fn metadata_metadata_response(v: i16) -> metadata_response::MetadataResponse {
    metadata_response::MetadataResponse::default()
        .with_throttle_time_ms(1)
        .with_brokers(vec![metadata_metadata_response_broker(v)])
        .with_cluster_id(Some(s("x")))
        .with_controller_id(BrokerId(1))
        .with_topics(vec![metadata_metadata_response_topic(v)])
        .with_cluster_authorized_operations(at_or(v, 8, 10, 1, i32::MIN))
        .with_error_code(at(v, 13, i16::MAX, 1))
        .with_unknown_tagged_fields(unknown(v, 9))
}

pub(super) fn metadata_metadata_response_broker(
    v: i16,
) -> metadata_response::MetadataResponseBroker {
    metadata_response::MetadataResponseBroker::default()
        .with_node_id(BrokerId(1))
        .with_host(s("x"))
        .with_port(1)
        .with_rack(Some(s("x")))
        .with_unknown_tagged_fields(unknown(v, 9))
}

pub(super) fn metadata_metadata_response_partition(
    v: i16,
) -> metadata_response::MetadataResponsePartition {
    metadata_response::MetadataResponsePartition::default()
        .with_error_code(1)
        .with_partition_index(1)
        .with_leader_id(BrokerId(1))
        .with_leader_epoch(1)
        .with_replica_nodes(vec![BrokerId(1)])
        .with_isr_nodes(vec![BrokerId(1)])
        .with_offline_replicas(vec![BrokerId(1)])
        .with_unknown_tagged_fields(unknown(v, 9))
}

pub(super) fn metadata_metadata_response_topic(v: i16) -> metadata_response::MetadataResponseTopic {
    metadata_response::MetadataResponseTopic::default()
        .with_error_code(1)
        .with_name(Some(TopicName(s("n"))))
        .with_is_internal(true)
        .with_partitions(vec![metadata_metadata_response_partition(v)])
        .with_topic_authorized_operations(at_or(v, 8, i16::MAX, 1, i32::MIN))
        .with_unknown_tagged_fields(unknown(v, 9))
}

pub(super) fn offset_commit_offset_commit_response(
    v: i16,
) -> offset_commit_response::OffsetCommitResponse {
    offset_commit_response::OffsetCommitResponse::default()
        .with_throttle_time_ms(1)
        .with_topics(vec![offset_commit_offset_commit_response_topic(v)])
        .with_unknown_tagged_fields(unknown(v, 8))
}

pub(super) fn offset_commit_offset_commit_response_partition(
    v: i16,
) -> offset_commit_response::OffsetCommitResponsePartition {
    offset_commit_response::OffsetCommitResponsePartition::default()
        .with_partition_index(1)
        .with_error_code(1)
        .with_unknown_tagged_fields(unknown(v, 8))
}

pub(super) fn offset_commit_offset_commit_response_topic(
    v: i16,
) -> offset_commit_response::OffsetCommitResponseTopic {
    offset_commit_response::OffsetCommitResponseTopic::default()
        .with_name(TopicName(s("n")))
        .with_partitions(vec![offset_commit_offset_commit_response_partition(v)])
        .with_unknown_tagged_fields(unknown(v, 8))
}

pub(super) fn offset_fetch_offset_fetch_response(
    v: i16,
) -> offset_fetch_response::OffsetFetchResponse {
    offset_fetch_response::OffsetFetchResponse::default()
        .with_throttle_time_ms(1)
        .with_topics(at(
            v,
            0,
            7,
            vec![offset_fetch_offset_fetch_response_topic(v)],
        ))
        .with_error_code(at(v, 2, 7, 1))
        .with_groups(at(
            v,
            8,
            i16::MAX,
            vec![offset_fetch_offset_fetch_response_group(v)],
        ))
        .with_unknown_tagged_fields(unknown(v, 6))
}

pub(super) fn offset_fetch_offset_fetch_response_group(
    v: i16,
) -> offset_fetch_response::OffsetFetchResponseGroup {
    offset_fetch_response::OffsetFetchResponseGroup::default()
        .with_group_id(GroupId(s("n")))
        .with_topics(vec![offset_fetch_offset_fetch_response_topics(v)])
        .with_error_code(1)
        .with_unknown_tagged_fields(unknown(v, 6))
}

pub(super) fn offset_fetch_offset_fetch_response_partition(
    v: i16,
) -> offset_fetch_response::OffsetFetchResponsePartition {
    offset_fetch_response::OffsetFetchResponsePartition::default()
        .with_partition_index(1)
        .with_committed_offset(1)
        .with_committed_leader_epoch(1)
        .with_metadata(Some(s("x")))
        .with_error_code(1)
        .with_unknown_tagged_fields(unknown(v, 6))
}

pub(super) fn offset_fetch_offset_fetch_response_partitions(
    v: i16,
) -> offset_fetch_response::OffsetFetchResponsePartitions {
    offset_fetch_response::OffsetFetchResponsePartitions::default()
        .with_partition_index(1)
        .with_committed_offset(1)
        .with_committed_leader_epoch(1)
        .with_metadata(Some(s("x")))
        .with_error_code(1)
        .with_unknown_tagged_fields(unknown(v, 6))
}

pub(super) fn offset_fetch_offset_fetch_response_topic(
    v: i16,
) -> offset_fetch_response::OffsetFetchResponseTopic {
    offset_fetch_response::OffsetFetchResponseTopic::default()
        .with_name(TopicName(s("n")))
        .with_partitions(vec![offset_fetch_offset_fetch_response_partition(v)])
        .with_unknown_tagged_fields(unknown(v, 6))
}

pub(super) fn offset_fetch_offset_fetch_response_topics(
    v: i16,
) -> offset_fetch_response::OffsetFetchResponseTopics {
    offset_fetch_response::OffsetFetchResponseTopics::default()
        .with_name(TopicName(s("n")))
        .with_partitions(vec![offset_fetch_offset_fetch_response_partitions(v)])
        .with_unknown_tagged_fields(unknown(v, 6))
}

pub(super) fn find_coordinator_coordinator(v: i16) -> find_coordinator_response::Coordinator {
    find_coordinator_response::Coordinator::default()
        .with_key(s("x"))
        .with_node_id(BrokerId(1))
        .with_host(s("x"))
        .with_port(1)
        .with_error_code(1)
        .with_error_message(Some(s("x")))
        .with_unknown_tagged_fields(unknown(v, 3))
}

pub(super) fn find_coordinator_find_coordinator_response(
    v: i16,
) -> find_coordinator_response::FindCoordinatorResponse {
    find_coordinator_response::FindCoordinatorResponse::default()
        .with_throttle_time_ms(1)
        .with_error_code(at(v, 0, 3, 1))
        .with_error_message(Some(s("x")))
        .with_node_id(at(v, 0, 3, BrokerId(1)))
        .with_host(at(v, 0, 3, s("x")))
        .with_port(at(v, 0, 3, 1))
        .with_coordinators(at(v, 4, i16::MAX, vec![find_coordinator_coordinator(v)]))
        .with_unknown_tagged_fields(unknown(v, 3))
}

pub(super) fn join_group_join_group_response(v: i16) -> join_group_response::JoinGroupResponse {
    join_group_response::JoinGroupResponse::default()
        .with_throttle_time_ms(1)
        .with_error_code(1)
        .with_generation_id(1)
        .with_protocol_type(Some(s("x")))
        .with_protocol_name(Some(s("x")))
        .with_leader(s("x"))
        .with_skip_assignment(at(v, 9, i16::MAX, true))
        .with_member_id(s("x"))
        .with_members(vec![join_group_join_group_response_member(v)])
        .with_unknown_tagged_fields(unknown(v, 6))
}

pub(super) fn join_group_join_group_response_member(
    v: i16,
) -> join_group_response::JoinGroupResponseMember {
    join_group_response::JoinGroupResponseMember::default()
        .with_member_id(s("x"))
        .with_group_instance_id(Some(s("x")))
        .with_metadata(b())
        .with_unknown_tagged_fields(unknown(v, 6))
}

pub(super) fn heartbeat_heartbeat_response(v: i16) -> heartbeat_response::HeartbeatResponse {
    heartbeat_response::HeartbeatResponse::default()
        .with_throttle_time_ms(1)
        .with_error_code(1)
        .with_unknown_tagged_fields(unknown(v, 4))
}

pub(super) fn leave_group_leave_group_response(v: i16) -> leave_group_response::LeaveGroupResponse {
    leave_group_response::LeaveGroupResponse::default()
        .with_throttle_time_ms(1)
        .with_error_code(1)
        .with_members(at(v, 3, i16::MAX, vec![leave_group_member_response(v)]))
        .with_unknown_tagged_fields(unknown(v, 4))
}

pub(super) fn leave_group_member_response(v: i16) -> leave_group_response::MemberResponse {
    leave_group_response::MemberResponse::default()
        .with_member_id(s("x"))
        .with_group_instance_id(Some(s("x")))
        .with_error_code(1)
        .with_unknown_tagged_fields(unknown(v, 4))
}

pub(super) fn sync_group_sync_group_response(v: i16) -> sync_group_response::SyncGroupResponse {
    sync_group_response::SyncGroupResponse::default()
        .with_throttle_time_ms(1)
        .with_error_code(1)
        .with_protocol_type(Some(s("x")))
        .with_protocol_name(Some(s("x")))
        .with_assignment(b())
        .with_unknown_tagged_fields(unknown(v, 4))
}

pub(super) fn describe_groups_describe_groups_response(
    v: i16,
) -> describe_groups_response::DescribeGroupsResponse {
    describe_groups_response::DescribeGroupsResponse::default()
        .with_throttle_time_ms(1)
        .with_groups(vec![describe_groups_described_group(v)])
        .with_unknown_tagged_fields(unknown(v, 5))
}

pub(super) fn describe_groups_described_group(v: i16) -> describe_groups_response::DescribedGroup {
    describe_groups_response::DescribedGroup::default()
        .with_error_code(1)
        .with_error_message(at(v, 6, i16::MAX, Some(s("x"))))
        .with_group_id(GroupId(s("n")))
        .with_group_state(s("x"))
        .with_protocol_type(s("x"))
        .with_protocol_data(s("x"))
        .with_members(vec![describe_groups_described_group_member(v)])
        .with_authorized_operations(at_or(v, 3, i16::MAX, 1, i32::MIN))
        .with_unknown_tagged_fields(unknown(v, 5))
}

pub(super) fn describe_groups_described_group_member(
    v: i16,
) -> describe_groups_response::DescribedGroupMember {
    describe_groups_response::DescribedGroupMember::default()
        .with_member_id(s("x"))
        .with_group_instance_id(Some(s("x")))
        .with_client_id(s("x"))
        .with_client_host(s("x"))
        .with_member_metadata(b())
        .with_member_assignment(b())
        .with_unknown_tagged_fields(unknown(v, 5))
}

pub(super) fn list_groups_list_groups_response(v: i16) -> list_groups_response::ListGroupsResponse {
    list_groups_response::ListGroupsResponse::default()
        .with_throttle_time_ms(1)
        .with_error_code(1)
        .with_groups(vec![list_groups_listed_group(v)])
        .with_unknown_tagged_fields(unknown(v, 3))
}

pub(super) fn list_groups_listed_group(v: i16) -> list_groups_response::ListedGroup {
    list_groups_response::ListedGroup::default()
        .with_group_id(GroupId(s("n")))
        .with_protocol_type(s("x"))
        .with_group_state(s("x"))
        .with_group_type(s("x"))
        .with_unknown_tagged_fields(unknown(v, 3))
}

pub(super) fn sasl_handshake_sasl_handshake_response(
    _v: i16,
) -> sasl_handshake_response::SaslHandshakeResponse {
    sasl_handshake_response::SaslHandshakeResponse::default()
        .with_error_code(1)
        .with_mechanisms(vec![s("x")])
}

pub(super) fn api_versions_api_version(v: i16) -> api_versions_response::ApiVersion {
    api_versions_response::ApiVersion::default()
        .with_api_key(1)
        .with_min_version(1)
        .with_max_version(1)
        .with_unknown_tagged_fields(unknown(v, 3))
}

pub(super) fn api_versions_api_versions_response(
    v: i16,
) -> api_versions_response::ApiVersionsResponse {
    api_versions_response::ApiVersionsResponse::default()
        .with_error_code(1)
        .with_api_keys(vec![api_versions_api_version(v)])
        .with_throttle_time_ms(1)
        .with_supported_features(at(
            v,
            3,
            i16::MAX,
            vec![api_versions_supported_feature_key(v)],
        ))
        .with_finalized_features_epoch(at(v, 3, i16::MAX, 1))
        .with_finalized_features(at(
            v,
            3,
            i16::MAX,
            vec![api_versions_finalized_feature_key(v)],
        ))
        .with_zk_migration_ready(true)
        .with_unknown_tagged_fields(unknown(v, 3))
}

pub(super) fn api_versions_finalized_feature_key(
    v: i16,
) -> api_versions_response::FinalizedFeatureKey {
    api_versions_response::FinalizedFeatureKey::default()
        .with_name(s("x"))
        .with_max_version_level(1)
        .with_min_version_level(1)
        .with_unknown_tagged_fields(unknown(v, 3))
}

pub(super) fn api_versions_supported_feature_key(
    v: i16,
) -> api_versions_response::SupportedFeatureKey {
    api_versions_response::SupportedFeatureKey::default()
        .with_name(s("x"))
        .with_min_version(1)
        .with_max_version(1)
        .with_unknown_tagged_fields(unknown(v, 3))
}

pub(super) fn create_topics_creatable_topic_configs(
    v: i16,
) -> create_topics_response::CreatableTopicConfigs {
    create_topics_response::CreatableTopicConfigs::default()
        .with_name(s("x"))
        .with_value(Some(s("x")))
        .with_read_only(true)
        .with_config_source(1)
        .with_is_sensitive(true)
        .with_unknown_tagged_fields(unknown(v, 5))
}

pub(super) fn create_topics_creatable_topic_result(
    v: i16,
) -> create_topics_response::CreatableTopicResult {
    create_topics_response::CreatableTopicResult::default()
        .with_name(TopicName(s("n")))
        .with_error_code(1)
        .with_error_message(Some(s("x")))
        .with_topic_config_error_code(1)
        .with_num_partitions(1)
        .with_replication_factor(1)
        .with_configs(at(
            v,
            5,
            i16::MAX,
            Some(vec![create_topics_creatable_topic_configs(v)]),
        ))
        .with_unknown_tagged_fields(unknown(v, 5))
}

pub(super) fn create_topics_create_topics_response(
    v: i16,
) -> create_topics_response::CreateTopicsResponse {
    create_topics_response::CreateTopicsResponse::default()
        .with_throttle_time_ms(1)
        .with_topics(vec![create_topics_creatable_topic_result(v)])
        .with_unknown_tagged_fields(unknown(v, 5))
}

pub(super) fn delete_topics_deletable_topic_result(
    v: i16,
) -> delete_topics_response::DeletableTopicResult {
    delete_topics_response::DeletableTopicResult::default()
        .with_name(Some(TopicName(s("n"))))
        .with_error_code(1)
        .with_error_message(Some(s("x")))
        .with_unknown_tagged_fields(unknown(v, 4))
}

pub(super) fn delete_topics_delete_topics_response(
    v: i16,
) -> delete_topics_response::DeleteTopicsResponse {
    delete_topics_response::DeleteTopicsResponse::default()
        .with_throttle_time_ms(1)
        .with_responses(vec![delete_topics_deletable_topic_result(v)])
        .with_unknown_tagged_fields(unknown(v, 4))
}

pub(super) fn delete_records_delete_records_partition_result(
    v: i16,
) -> delete_records_response::DeleteRecordsPartitionResult {
    delete_records_response::DeleteRecordsPartitionResult::default()
        .with_partition_index(1)
        .with_low_watermark(1)
        .with_error_code(1)
        .with_unknown_tagged_fields(unknown(v, 2))
}

pub(super) fn delete_records_delete_records_response(
    v: i16,
) -> delete_records_response::DeleteRecordsResponse {
    delete_records_response::DeleteRecordsResponse::default()
        .with_throttle_time_ms(1)
        .with_topics(vec![delete_records_delete_records_topic_result(v)])
        .with_unknown_tagged_fields(unknown(v, 2))
}

pub(super) fn delete_records_delete_records_topic_result(
    v: i16,
) -> delete_records_response::DeleteRecordsTopicResult {
    delete_records_response::DeleteRecordsTopicResult::default()
        .with_name(TopicName(s("n")))
        .with_partitions(vec![delete_records_delete_records_partition_result(v)])
        .with_unknown_tagged_fields(unknown(v, 2))
}

pub(super) fn init_producer_id_init_producer_id_response(
    v: i16,
) -> init_producer_id_response::InitProducerIdResponse {
    init_producer_id_response::InitProducerIdResponse::default()
        .with_throttle_time_ms(1)
        .with_error_code(1)
        .with_producer_id(ProducerId(1))
        .with_producer_epoch(1)
        .with_ongoing_txn_producer_id(at_or(v, 6, i16::MAX, ProducerId(1), ProducerId(-1)))
        .with_ongoing_txn_producer_epoch(at_or(v, 6, i16::MAX, 1, -1))
        .with_unknown_tagged_fields(unknown(v, 2))
}

pub(super) fn add_partitions_to_txn_add_partitions_to_txn_partition_result(
    v: i16,
) -> add_partitions_to_txn_response::AddPartitionsToTxnPartitionResult {
    add_partitions_to_txn_response::AddPartitionsToTxnPartitionResult::default()
        .with_partition_index(1)
        .with_partition_error_code(1)
        .with_unknown_tagged_fields(unknown(v, 3))
}

pub(super) fn add_partitions_to_txn_add_partitions_to_txn_response(
    v: i16,
) -> add_partitions_to_txn_response::AddPartitionsToTxnResponse {
    add_partitions_to_txn_response::AddPartitionsToTxnResponse::default()
        .with_throttle_time_ms(1)
        .with_error_code(at(v, 4, i16::MAX, 1))
        .with_results_by_transaction(at(
            v,
            4,
            i16::MAX,
            vec![add_partitions_to_txn_add_partitions_to_txn_result(v)],
        ))
        .with_results_by_topic_v3_and_below(vec![
            add_partitions_to_txn_add_partitions_to_txn_topic_result(v),
        ])
        .with_unknown_tagged_fields(unknown(v, 3))
}

pub(super) fn add_partitions_to_txn_add_partitions_to_txn_result(
    v: i16,
) -> add_partitions_to_txn_response::AddPartitionsToTxnResult {
    add_partitions_to_txn_response::AddPartitionsToTxnResult::default()
        .with_transactional_id(TransactionalId(s("n")))
        .with_topic_results(vec![
            add_partitions_to_txn_add_partitions_to_txn_topic_result(v),
        ])
        .with_unknown_tagged_fields(unknown(v, 3))
}

pub(super) fn add_partitions_to_txn_add_partitions_to_txn_topic_result(
    v: i16,
) -> add_partitions_to_txn_response::AddPartitionsToTxnTopicResult {
    add_partitions_to_txn_response::AddPartitionsToTxnTopicResult::default()
        .with_name(TopicName(s("n")))
        .with_results_by_partition(vec![
            add_partitions_to_txn_add_partitions_to_txn_partition_result(v),
        ])
        .with_unknown_tagged_fields(unknown(v, 3))
}

pub(super) fn add_offsets_to_txn_add_offsets_to_txn_response(
    v: i16,
) -> add_offsets_to_txn_response::AddOffsetsToTxnResponse {
    add_offsets_to_txn_response::AddOffsetsToTxnResponse::default()
        .with_throttle_time_ms(1)
        .with_error_code(1)
        .with_unknown_tagged_fields(unknown(v, 3))
}

pub(super) fn end_txn_end_txn_response(v: i16) -> end_txn_response::EndTxnResponse {
    end_txn_response::EndTxnResponse::default()
        .with_throttle_time_ms(1)
        .with_error_code(1)
        .with_producer_id(ProducerId(1))
        .with_producer_epoch(1)
        .with_unknown_tagged_fields(unknown(v, 3))
}

pub(super) fn txn_offset_commit_txn_offset_commit_response(
    v: i16,
) -> txn_offset_commit_response::TxnOffsetCommitResponse {
    txn_offset_commit_response::TxnOffsetCommitResponse::default()
        .with_throttle_time_ms(1)
        .with_topics(vec![txn_offset_commit_txn_offset_commit_response_topic(v)])
        .with_unknown_tagged_fields(unknown(v, 3))
}

pub(super) fn txn_offset_commit_txn_offset_commit_response_partition(
    v: i16,
) -> txn_offset_commit_response::TxnOffsetCommitResponsePartition {
    txn_offset_commit_response::TxnOffsetCommitResponsePartition::default()
        .with_partition_index(1)
        .with_error_code(1)
        .with_unknown_tagged_fields(unknown(v, 3))
}

pub(super) fn txn_offset_commit_txn_offset_commit_response_topic(
    v: i16,
) -> txn_offset_commit_response::TxnOffsetCommitResponseTopic {
    txn_offset_commit_response::TxnOffsetCommitResponseTopic::default()
        .with_name(TopicName(s("n")))
        .with_partitions(vec![
            txn_offset_commit_txn_offset_commit_response_partition(v),
        ])
        .with_unknown_tagged_fields(unknown(v, 3))
}

pub(super) fn describe_configs_describe_configs_resource_result(
    v: i16,
) -> describe_configs_response::DescribeConfigsResourceResult {
    describe_configs_response::DescribeConfigsResourceResult::default()
        .with_name(s("x"))
        .with_value(Some(s("x")))
        .with_read_only(true)
        .with_config_source(1)
        .with_is_sensitive(true)
        .with_synonyms(vec![describe_configs_describe_configs_synonym(v)])
        .with_config_type(1)
        .with_documentation(Some(s("x")))
        .with_unknown_tagged_fields(unknown(v, 4))
}

pub(super) fn describe_configs_describe_configs_response(
    v: i16,
) -> describe_configs_response::DescribeConfigsResponse {
    describe_configs_response::DescribeConfigsResponse::default()
        .with_throttle_time_ms(1)
        .with_results(vec![describe_configs_describe_configs_result(v)])
        .with_unknown_tagged_fields(unknown(v, 4))
}

pub(super) fn describe_configs_describe_configs_result(
    v: i16,
) -> describe_configs_response::DescribeConfigsResult {
    describe_configs_response::DescribeConfigsResult::default()
        .with_error_code(1)
        .with_error_message(Some(s("x")))
        .with_resource_type(1)
        .with_resource_name(s("x"))
        .with_configs(vec![describe_configs_describe_configs_resource_result(v)])
        .with_unknown_tagged_fields(unknown(v, 4))
}

pub(super) fn describe_configs_describe_configs_synonym(
    v: i16,
) -> describe_configs_response::DescribeConfigsSynonym {
    describe_configs_response::DescribeConfigsSynonym::default()
        .with_name(s("x"))
        .with_value(Some(s("x")))
        .with_source(1)
        .with_unknown_tagged_fields(unknown(v, 4))
}

pub(super) fn sasl_authenticate_sasl_authenticate_response(
    v: i16,
) -> sasl_authenticate_response::SaslAuthenticateResponse {
    sasl_authenticate_response::SaslAuthenticateResponse::default()
        .with_error_code(1)
        .with_error_message(Some(s("x")))
        .with_auth_bytes(b())
        .with_session_lifetime_ms(1)
        .with_unknown_tagged_fields(unknown(v, 2))
}

pub(super) fn delete_groups_deletable_group_result(
    v: i16,
) -> delete_groups_response::DeletableGroupResult {
    delete_groups_response::DeletableGroupResult::default()
        .with_group_id(GroupId(s("n")))
        .with_error_code(1)
        .with_unknown_tagged_fields(unknown(v, 2))
}

pub(super) fn delete_groups_delete_groups_response(
    v: i16,
) -> delete_groups_response::DeleteGroupsResponse {
    delete_groups_response::DeleteGroupsResponse::default()
        .with_throttle_time_ms(1)
        .with_results(vec![delete_groups_deletable_group_result(v)])
        .with_unknown_tagged_fields(unknown(v, 2))
}

pub(super) fn describe_cluster_describe_cluster_broker(
    v: i16,
) -> describe_cluster_response::DescribeClusterBroker {
    describe_cluster_response::DescribeClusterBroker::default()
        .with_broker_id(BrokerId(1))
        .with_host(s("x"))
        .with_port(1)
        .with_rack(Some(s("x")))
        .with_is_fenced(at(v, 2, i16::MAX, true))
        .with_unknown_tagged_fields(unknown(v, 0))
}

pub(super) fn describe_cluster_describe_cluster_response(
    v: i16,
) -> describe_cluster_response::DescribeClusterResponse {
    describe_cluster_response::DescribeClusterResponse::default()
        .with_throttle_time_ms(1)
        .with_error_code(1)
        .with_error_message(Some(s("x")))
        .with_endpoint_type(at_or(v, 1, i16::MAX, 2, 1))
        .with_cluster_id(s("x"))
        .with_controller_id(BrokerId(1))
        .with_brokers(vec![describe_cluster_describe_cluster_broker(v)])
        .with_cluster_authorized_operations(1)
        .with_unknown_tagged_fields(unknown(v, 0))
}

pub(super) fn offset_for_leader_epoch_epoch_end_offset(
    v: i16,
) -> offset_for_leader_epoch_response::EpochEndOffset {
    offset_for_leader_epoch_response::EpochEndOffset::default()
        .with_error_code(1)
        .with_partition(1)
        .with_leader_epoch(1)
        .with_end_offset(1)
        .with_unknown_tagged_fields(unknown(v, 4))
}

pub(super) fn offset_for_leader_epoch_offset_for_leader_epoch_response(
    v: i16,
) -> offset_for_leader_epoch_response::OffsetForLeaderEpochResponse {
    offset_for_leader_epoch_response::OffsetForLeaderEpochResponse::default()
        .with_throttle_time_ms(1)
        .with_topics(vec![
            offset_for_leader_epoch_offset_for_leader_topic_result(v),
        ])
        .with_unknown_tagged_fields(unknown(v, 4))
}

pub(super) fn offset_for_leader_epoch_offset_for_leader_topic_result(
    v: i16,
) -> offset_for_leader_epoch_response::OffsetForLeaderTopicResult {
    offset_for_leader_epoch_response::OffsetForLeaderTopicResult::default()
        .with_topic(TopicName(s("n")))
        .with_partitions(vec![offset_for_leader_epoch_epoch_end_offset(v)])
        .with_unknown_tagged_fields(unknown(v, 4))
}

pub(super) fn create_partitions_create_partitions_response(
    v: i16,
) -> create_partitions_response::CreatePartitionsResponse {
    create_partitions_response::CreatePartitionsResponse::default()
        .with_throttle_time_ms(1)
        .with_results(vec![create_partitions_create_partitions_topic_result(v)])
        .with_unknown_tagged_fields(unknown(v, 2))
}

pub(super) fn create_partitions_create_partitions_topic_result(
    v: i16,
) -> create_partitions_response::CreatePartitionsTopicResult {
    create_partitions_response::CreatePartitionsTopicResult::default()
        .with_name(TopicName(s("n")))
        .with_error_code(1)
        .with_error_message(Some(s("x")))
        .with_unknown_tagged_fields(unknown(v, 2))
}

pub(super) fn offset_delete_offset_delete_response(
    v: i16,
) -> offset_delete_response::OffsetDeleteResponse {
    offset_delete_response::OffsetDeleteResponse::default()
        .with_error_code(1)
        .with_throttle_time_ms(1)
        .with_topics(vec![offset_delete_offset_delete_response_topic(v)])
}

pub(super) fn offset_delete_offset_delete_response_partition(
    _v: i16,
) -> offset_delete_response::OffsetDeleteResponsePartition {
    offset_delete_response::OffsetDeleteResponsePartition::default()
        .with_partition_index(1)
        .with_error_code(1)
}

pub(super) fn offset_delete_offset_delete_response_topic(
    v: i16,
) -> offset_delete_response::OffsetDeleteResponseTopic {
    offset_delete_response::OffsetDeleteResponseTopic::default()
        .with_name(TopicName(s("n")))
        .with_partitions(vec![offset_delete_offset_delete_response_partition(v)])
}

pub(super) fn alter_configs_alter_configs_resource_response(
    v: i16,
) -> alter_configs_response::AlterConfigsResourceResponse {
    alter_configs_response::AlterConfigsResourceResponse::default()
        .with_error_code(1)
        .with_error_message(Some(s("x")))
        .with_resource_type(1)
        .with_resource_name(s("x"))
        .with_unknown_tagged_fields(unknown(v, 2))
}

pub(super) fn alter_configs_alter_configs_response(
    v: i16,
) -> alter_configs_response::AlterConfigsResponse {
    alter_configs_response::AlterConfigsResponse::default()
        .with_throttle_time_ms(1)
        .with_responses(vec![alter_configs_alter_configs_resource_response(v)])
        .with_unknown_tagged_fields(unknown(v, 2))
}

pub(super) fn incremental_alter_configs_alter_configs_resource_response(
    v: i16,
) -> incremental_alter_configs_response::AlterConfigsResourceResponse {
    incremental_alter_configs_response::AlterConfigsResourceResponse::default()
        .with_error_code(1)
        .with_error_message(Some(s("x")))
        .with_resource_type(1)
        .with_resource_name(s("x"))
        .with_unknown_tagged_fields(unknown(v, 1))
}

pub(super) fn incremental_alter_configs_incremental_alter_configs_response(
    v: i16,
) -> incremental_alter_configs_response::IncrementalAlterConfigsResponse {
    incremental_alter_configs_response::IncrementalAlterConfigsResponse::default()
        .with_throttle_time_ms(1)
        .with_responses(vec![
            incremental_alter_configs_alter_configs_resource_response(v),
        ])
        .with_unknown_tagged_fields(unknown(v, 1))
}

pub(super) fn describe_user_scram_credentials_credential_info(
    v: i16,
) -> describe_user_scram_credentials_response::CredentialInfo {
    describe_user_scram_credentials_response::CredentialInfo::default()
        .with_mechanism(1)
        .with_iterations(1)
        .with_unknown_tagged_fields(unknown(v, 0))
}

pub(super) fn describe_user_scram_credentials_describe_user_scram_credentials_result(
    v: i16,
) -> describe_user_scram_credentials_response::DescribeUserScramCredentialsResult {
    describe_user_scram_credentials_response::DescribeUserScramCredentialsResult::default()
        .with_user(s("x"))
        .with_error_code(1)
        .with_error_message(Some(s("x")))
        .with_credential_infos(vec![describe_user_scram_credentials_credential_info(v)])
        .with_unknown_tagged_fields(unknown(v, 0))
}

pub(super) fn describe_user_scram_credentials_describe_user_scram_credentials_response(
    v: i16,
) -> describe_user_scram_credentials_response::DescribeUserScramCredentialsResponse {
    describe_user_scram_credentials_response::DescribeUserScramCredentialsResponse::default()
        .with_throttle_time_ms(1)
        .with_error_code(1)
        .with_error_message(Some(s("x")))
        .with_results(vec![
            describe_user_scram_credentials_describe_user_scram_credentials_result(v),
        ])
        .with_unknown_tagged_fields(unknown(v, 0))
}

pub(super) fn alter_user_scram_credentials_alter_user_scram_credentials_result(
    v: i16,
) -> alter_user_scram_credentials_response::AlterUserScramCredentialsResult {
    alter_user_scram_credentials_response::AlterUserScramCredentialsResult::default()
        .with_user(s("x"))
        .with_error_code(1)
        .with_error_message(Some(s("x")))
        .with_unknown_tagged_fields(unknown(v, 0))
}

pub(super) fn alter_user_scram_credentials_alter_user_scram_credentials_response(
    v: i16,
) -> alter_user_scram_credentials_response::AlterUserScramCredentialsResponse {
    alter_user_scram_credentials_response::AlterUserScramCredentialsResponse::default()
        .with_throttle_time_ms(1)
        .with_results(vec![
            alter_user_scram_credentials_alter_user_scram_credentials_result(v),
        ])
        .with_unknown_tagged_fields(unknown(v, 0))
}

pub(super) fn consumer_group_heartbeat_consumer_group_heartbeat_response(
    v: i16,
) -> consumer_group_heartbeat_response::ConsumerGroupHeartbeatResponse {
    let partitions = consumer_group_heartbeat_response::TopicPartitions::default()
        .with_topic_id("00000000-0000-0000-0000-000000000007".parse().unwrap())
        .with_partitions(vec![1, 2])
        .with_unknown_tagged_fields(unknown(v, 0));
    consumer_group_heartbeat_response::ConsumerGroupHeartbeatResponse::default()
        .with_throttle_time_ms(1)
        .with_error_code(1)
        .with_error_message(Some(s("x")))
        .with_member_id(Some(s("x")))
        .with_member_epoch(1)
        .with_heartbeat_interval_ms(1)
        .with_assignment(Some(
            consumer_group_heartbeat_response::Assignment::default()
                .with_topic_partitions(vec![partitions])
                .with_unknown_tagged_fields(unknown(v, 0)),
        ))
        .with_unknown_tagged_fields(unknown(v, 0))
}

pub(super) fn consumer_group_describe_consumer_group_describe_response(
    v: i16,
) -> consumer_group_describe_response::ConsumerGroupDescribeResponse {
    let assignment = || {
        consumer_group_describe_response::Assignment::default()
            .with_topic_partitions(vec![
                consumer_group_describe_response::TopicPartitions::default()
                    .with_topic_id("00000000-0000-0000-0000-000000000007".parse().unwrap())
                    .with_topic_name(TopicName(s("x")))
                    .with_partitions(vec![1])
                    .with_unknown_tagged_fields(unknown(v, 0)),
            ])
            .with_unknown_tagged_fields(unknown(v, 0))
    };
    let member = consumer_group_describe_response::Member::default()
        .with_member_id(s("x"))
        .with_instance_id(Some(s("x")))
        .with_rack_id(Some(s("x")))
        .with_member_epoch(1)
        .with_client_id(s("x"))
        .with_client_host(s("x"))
        .with_subscribed_topic_names(vec![TopicName(s("x"))])
        .with_subscribed_topic_regex(Some(s("x")))
        .with_assignment(assignment())
        .with_target_assignment(assignment())
        .with_member_type(at_or(v, 1, i16::MAX, 1, -1))
        .with_unknown_tagged_fields(unknown(v, 0));
    let group = consumer_group_describe_response::DescribedGroup::default()
        .with_error_code(1)
        .with_error_message(Some(s("x")))
        .with_group_id(GroupId(s("x")))
        .with_group_state(s("x"))
        .with_group_epoch(1)
        .with_assignment_epoch(1)
        .with_assignor_name(s("x"))
        .with_members(vec![member])
        .with_authorized_operations(1)
        .with_unknown_tagged_fields(unknown(v, 0));
    consumer_group_describe_response::ConsumerGroupDescribeResponse::default()
        .with_throttle_time_ms(1)
        .with_groups(vec![group])
        .with_unknown_tagged_fields(unknown(v, 0))
}
