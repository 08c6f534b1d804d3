//! Broker throttling (KIP-219): a response's `throttle_time_ms` asks the client not to send
//! anything more on that connection until the time has passed. It is not an error; it only
//! delays the next request.

use kafka_protocol::messages::*;

/// A response that may carry `throttle_time_ms`.
pub trait ThrottleTime {
    /// The throttle the broker asked for, ms (0 = none).
    fn throttle_time_ms(&self) -> i32;
}

macro_rules! throttled {
    ($($ty:ty),* $(,)?) => {
        $(impl ThrottleTime for $ty {
            fn throttle_time_ms(&self) -> i32 {
                self.throttle_time_ms
            }
        })*
    };
}

throttled!(
    ProduceResponse,
    FetchResponse,
    ListOffsetsResponse,
    MetadataResponse,
    OffsetCommitResponse,
    OffsetFetchResponse,
    FindCoordinatorResponse,
    JoinGroupResponse,
    HeartbeatResponse,
    LeaveGroupResponse,
    SyncGroupResponse,
    DescribeGroupsResponse,
    ListGroupsResponse,
    ApiVersionsResponse,
    CreateTopicsResponse,
    DeleteTopicsResponse,
    DeleteRecordsResponse,
    InitProducerIdResponse,
    AddPartitionsToTxnResponse,
    AddOffsetsToTxnResponse,
    EndTxnResponse,
    TxnOffsetCommitResponse,
    DescribeConfigsResponse,
    DeleteGroupsResponse,
    DescribeClusterResponse,
    OffsetForLeaderEpochResponse,
    CreatePartitionsResponse,
    OffsetDeleteResponse,
    AlterConfigsResponse,
    IncrementalAlterConfigsResponse,
    DescribeUserScramCredentialsResponse,
    AlterUserScramCredentialsResponse,
    ConsumerGroupHeartbeatResponse,
    ConsumerGroupDescribeResponse,
);

impl ThrottleTime for SaslHandshakeResponse {
    fn throttle_time_ms(&self) -> i32 {
        0
    }
}

impl ThrottleTime for SaslAuthenticateResponse {
    fn throttle_time_ms(&self) -> i32 {
        0
    }
}
