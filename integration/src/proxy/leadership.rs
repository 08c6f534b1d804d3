//! Partition leadership enforced per request: Produce, Fetch and ListOffsets partitions sent to
//! a virtual broker that does not lead them are answered with NOT_LEADER_OR_FOLLOWER (6), as a
//! real broker does, while the rest of the request goes on to Tansu.
//!
//! Fetch (v9+) and ListOffsets (v4+) also check the client's `current_leader_epoch` (KIP-320):
//! older than ours is FENCED_LEADER_EPOCH (74), newer is UNKNOWN_LEADER_EPOCH (75). Forwarded
//! partitions carry epoch -1 so Tansu, which knows nothing of our epochs, never fences them.
//! Error partitions name the current leader where the version can say it (KIP-951: Produce v10+,
//! Fetch v12+, with node endpoints from Produce v10 / Fetch v16).

use std::collections::BTreeSet;

use bytes::Bytes;
use kafka_protocol::messages::{
    fetch_response, produce_response, ApiKey, BrokerId, FetchRequest, FetchResponse,
    ListOffsetsRequest, ListOffsetsResponse, ProduceRequest, ProduceResponse,
};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};

use super::state::{Inner, Leadership, Shared};

/// NOT_LEADER_OR_FOLLOWER (Kafka error code 6).
pub const NOT_LEADER_OR_FOLLOWER: i16 = 6;
/// FENCED_LEADER_EPOCH (Kafka error code 74, KIP-320).
pub const FENCED_LEADER_EPOCH: i16 = 74;
/// UNKNOWN_LEADER_EPOCH (Kafka error code 75, KIP-320).
pub const UNKNOWN_LEADER_EPOCH: i16 = 75;

/// A request whose partitions must go to their leader.
pub(crate) trait LeaderRouted: Decodable + Encodable + Sized {
    type Response: Decodable + Encodable + Default + rafka::wire::guard::GuardedResponse;
    /// A response topic holding only error partitions.
    type ErrorTopic;
    const KEY: ApiKey;
    /// True when the request carries leader epochs, which must not reach Tansu: such requests
    /// are always re-encoded, even when every partition is accepted.
    const CARRIES_EPOCHS: bool;

    /// False for Produce with acks=0, which gets no response.
    fn expects_response(&self) -> bool {
        true
    }

    /// Removes the partitions `node` must refuse; returns them as response topics. The request
    /// keeps the partitions to forward (with their leader epochs cleared).
    fn split(&mut self, shared: &Shared, node: i32, version: i16) -> Vec<Self::ErrorTopic>;

    /// True when the (split) request has nothing left for Tansu.
    fn is_empty(&self) -> bool;

    /// Adds error topics to a response from Tansu (or to a default one).
    fn merge(
        resp: &mut Self::Response,
        errors: Vec<Self::ErrorTopic>,
        shared: &Shared,
        version: i16,
    );
}

/// The error `node` must give for `topic`/`partition`, if any.
fn refusal(
    shared: &Shared,
    inner: &Inner,
    node: i32,
    topic: &str,
    partition: i32,
    client_epoch: Option<i32>,
) -> Option<(i16, Leadership)> {
    let l = shared.leadership(inner, topic, partition);
    if l.leader != node {
        return Some((NOT_LEADER_OR_FOLLOWER, l));
    }
    match client_epoch {
        Some(e) if e >= 0 && e < l.epoch => Some((FENCED_LEADER_EPOCH, l)),
        Some(e) if e > l.epoch => Some((UNKNOWN_LEADER_EPOCH, l)),
        _ => None,
    }
}

fn host() -> StrBytes {
    StrBytes::from_static_str("127.0.0.1")
}

impl LeaderRouted for ProduceRequest {
    type Response = ProduceResponse;
    type ErrorTopic = produce_response::TopicProduceResponse;
    const KEY: ApiKey = ApiKey::Produce;
    const CARRIES_EPOCHS: bool = false;

    fn expects_response(&self) -> bool {
        self.acks != 0
    }

    fn split(&mut self, shared: &Shared, node: i32, version: i16) -> Vec<Self::ErrorTopic> {
        let inner = shared.lock();
        let mut errors = Vec::new();
        for topic in &mut self.topic_data {
            let name = topic.name.0.to_string();
            let mut refused = Vec::new();
            topic.partition_data.retain(|p| {
                let Some((code, l)) = refusal(shared, &inner, node, &name, p.index, None) else {
                    return true;
                };
                let mut r = produce_response::PartitionProduceResponse::default()
                    .with_index(p.index)
                    .with_error_code(code)
                    .with_base_offset(-1)
                    .with_log_append_time_ms(-1)
                    .with_log_start_offset(-1);
                if version >= 10 {
                    r.current_leader = produce_response::LeaderIdAndEpoch::default()
                        .with_leader_id(BrokerId(l.leader))
                        .with_leader_epoch(l.epoch);
                }
                refused.push(r);
                false
            });
            if !refused.is_empty() {
                errors.push(
                    produce_response::TopicProduceResponse::default()
                        .with_name(topic.name.clone())
                        .with_topic_id(topic.topic_id)
                        .with_partition_responses(refused),
                );
            }
        }
        self.topic_data.retain(|t| !t.partition_data.is_empty());
        errors
    }

    fn is_empty(&self) -> bool {
        self.topic_data.is_empty()
    }

    fn merge(
        resp: &mut ProduceResponse,
        errors: Vec<Self::ErrorTopic>,
        shared: &Shared,
        version: i16,
    ) {
        let mut leaders = BTreeSet::new();
        for e in errors {
            leaders.extend(
                e.partition_responses
                    .iter()
                    .map(|p| p.current_leader.leader_id.0),
            );
            match resp
                .responses
                .iter_mut()
                .find(|t| t.name == e.name && t.topic_id == e.topic_id)
            {
                Some(t) => t.partition_responses.extend(e.partition_responses),
                None => resp.responses.push(e),
            }
        }
        if version >= 10 {
            for id in leaders.into_iter().filter(|id| shared.is_node(*id)) {
                if !resp.node_endpoints.iter().any(|n| n.node_id.0 == id) {
                    resp.node_endpoints.push(
                        produce_response::NodeEndpoint::default()
                            .with_node_id(BrokerId(id))
                            .with_host(host())
                            .with_port(i32::from(shared.port(id))),
                    );
                }
            }
        }
    }
}

impl LeaderRouted for FetchRequest {
    type Response = FetchResponse;
    type ErrorTopic = fetch_response::FetchableTopicResponse;
    const KEY: ApiKey = ApiKey::Fetch;
    const CARRIES_EPOCHS: bool = true;

    fn split(&mut self, shared: &Shared, node: i32, version: i16) -> Vec<Self::ErrorTopic> {
        let inner = shared.lock();
        let mut errors = Vec::new();
        for topic in &mut self.topics {
            let name = if version >= 13 {
                match inner.topic_names.get(topic.topic_id.as_bytes()) {
                    Some(n) => n.clone(),
                    // An id no Metadata response named: let Tansu answer for it.
                    None => continue,
                }
            } else {
                topic.topic.0.to_string()
            };
            let mut refused = Vec::new();
            topic.partitions.retain_mut(|p| {
                let epoch = (version >= 9).then_some(p.current_leader_epoch);
                let Some((code, l)) = refusal(shared, &inner, node, &name, p.partition, epoch)
                else {
                    p.current_leader_epoch = -1;
                    p.last_fetched_epoch = -1;
                    return true;
                };
                let mut r = fetch_response::PartitionData::default()
                    .with_partition_index(p.partition)
                    .with_error_code(code)
                    .with_high_watermark(-1)
                    .with_aborted_transactions(None)
                    .with_records(Some(Bytes::new()));
                if version >= 12 {
                    r.current_leader = fetch_response::LeaderIdAndEpoch::default()
                        .with_leader_id(BrokerId(l.leader))
                        .with_leader_epoch(l.epoch);
                }
                refused.push(r);
                false
            });
            if !refused.is_empty() {
                errors.push(
                    fetch_response::FetchableTopicResponse::default()
                        .with_topic(topic.topic.clone())
                        .with_topic_id(topic.topic_id)
                        .with_partitions(refused),
                );
            }
        }
        self.topics.retain(|t| !t.partitions.is_empty());
        errors
    }

    fn is_empty(&self) -> bool {
        // An incremental fetch (KIP-227) with no topics still means something to the broker.
        self.topics.is_empty() && self.forgotten_topics_data.is_empty() && self.session_epoch <= 0
    }

    fn merge(
        resp: &mut FetchResponse,
        errors: Vec<Self::ErrorTopic>,
        shared: &Shared,
        version: i16,
    ) {
        let mut leaders = BTreeSet::new();
        for e in errors {
            leaders.extend(e.partitions.iter().map(|p| p.current_leader.leader_id.0));
            match resp
                .responses
                .iter_mut()
                .find(|t| t.topic == e.topic && t.topic_id == e.topic_id)
            {
                Some(t) => t.partitions.extend(e.partitions),
                None => resp.responses.push(e),
            }
        }
        if version >= 16 {
            for id in leaders.into_iter().filter(|id| shared.is_node(*id)) {
                if !resp.node_endpoints.iter().any(|n| n.node_id.0 == id) {
                    resp.node_endpoints.push(
                        fetch_response::NodeEndpoint::default()
                            .with_node_id(BrokerId(id))
                            .with_host(host())
                            .with_port(i32::from(shared.port(id))),
                    );
                }
            }
        }
    }
}

impl LeaderRouted for ListOffsetsRequest {
    type Response = ListOffsetsResponse;
    type ErrorTopic = kafka_protocol::messages::list_offsets_response::ListOffsetsTopicResponse;
    const KEY: ApiKey = ApiKey::ListOffsets;
    const CARRIES_EPOCHS: bool = true;

    fn split(&mut self, shared: &Shared, node: i32, version: i16) -> Vec<Self::ErrorTopic> {
        use kafka_protocol::messages::list_offsets_response::{
            ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
        };
        let inner = shared.lock();
        let mut errors = Vec::new();
        for topic in &mut self.topics {
            let name = topic.name.0.to_string();
            let mut refused = Vec::new();
            topic.partitions.retain_mut(|p| {
                let epoch = (version >= 4).then_some(p.current_leader_epoch);
                let Some((code, _)) =
                    refusal(shared, &inner, node, &name, p.partition_index, epoch)
                else {
                    p.current_leader_epoch = -1;
                    return true;
                };
                refused.push(
                    ListOffsetsPartitionResponse::default()
                        .with_partition_index(p.partition_index)
                        .with_error_code(code)
                        .with_timestamp(-1)
                        .with_offset(-1),
                );
                false
            });
            if !refused.is_empty() {
                errors.push(
                    ListOffsetsTopicResponse::default()
                        .with_name(topic.name.clone())
                        .with_partitions(refused),
                );
            }
        }
        self.topics.retain(|t| !t.partitions.is_empty());
        errors
    }

    fn is_empty(&self) -> bool {
        self.topics.is_empty()
    }

    fn merge(resp: &mut ListOffsetsResponse, errors: Vec<Self::ErrorTopic>, _: &Shared, _: i16) {
        for e in errors {
            match resp.topics.iter_mut().find(|t| t.name == e.name) {
                Some(t) => t.partitions.extend(e.partitions),
                None => resp.topics.push(e),
            }
        }
    }
}
