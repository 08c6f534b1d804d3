//! Responses rewritten so that clients see N brokers instead of Tansu's single node 111:
//! Metadata (brokers, controller, per-partition leader, epoch, replicas, ISR), FindCoordinator
//! and DescribeCluster.

use kafka_protocol::messages::{
    describe_cluster_response::DescribeClusterBroker, metadata_response::MetadataResponseBroker,
    BrokerId, DescribeClusterResponse, FindCoordinatorResponse, MetadataResponse,
};
use kafka_protocol::protocol::StrBytes;

use super::state::Shared;

/// LEADER_NOT_AVAILABLE (Kafka error code 5).
const LEADER_NOT_AVAILABLE: i16 = 5;
/// COORDINATOR_NOT_AVAILABLE (Kafka error code 15).
const COORDINATOR_NOT_AVAILABLE: i16 = 15;

fn host() -> StrBytes {
    StrBytes::from_static_str("127.0.0.1")
}

/// Live nodes, ascending. A killed broker drops out of the brokers list, as in Kafka.
fn alive(shared: &Shared, killed: &std::collections::HashSet<i32>) -> Vec<i32> {
    (1..=shared.brokers)
        .filter(|n| !killed.contains(n))
        .collect()
}

pub(crate) fn metadata(shared: &Shared, resp: &mut MetadataResponse, version: i16) {
    let mut inner = shared.lock();
    let live = alive(shared, &inner.killed);
    resp.brokers = live
        .iter()
        .map(|&n| {
            MetadataResponseBroker::default()
                .with_node_id(BrokerId(n))
                .with_host(host())
                .with_port(i32::from(shared.port(n)))
        })
        .collect();
    if version >= 1 {
        resp.controller_id = BrokerId(live.first().copied().unwrap_or(-1));
    }
    for topic in &mut resp.topics {
        let Some(name) = topic.name.as_ref().map(|n| n.0.to_string()) else {
            continue;
        };
        if version >= 10 && !topic.topic_id.is_nil() {
            inner
                .topic_names
                .insert(*topic.topic_id.as_bytes(), name.clone());
        }
        for p in &mut topic.partitions {
            let l = shared.leadership(&inner, &name, p.partition_index);
            // Every node is a replica; the leader comes first, as Kafka lists the preferred one.
            let replicas: Vec<i32> = std::iter::once(l.leader)
                .chain((1..=shared.brokers).filter(|n| *n != l.leader))
                .collect();
            p.replica_nodes = replicas.iter().map(|&n| BrokerId(n)).collect();
            p.isr_nodes = replicas
                .iter()
                .filter(|n| !inner.killed.contains(n))
                .map(|&n| BrokerId(n))
                .collect();
            if version >= 5 {
                p.offline_replicas = replicas
                    .iter()
                    .filter(|n| inner.killed.contains(n))
                    .map(|&n| BrokerId(n))
                    .collect();
            }
            if inner.killed.contains(&l.leader) {
                p.leader_id = BrokerId(-1);
                if p.error_code == 0 {
                    p.error_code = LEADER_NOT_AVAILABLE;
                }
            } else {
                p.leader_id = BrokerId(l.leader);
            }
            if version >= 7 {
                p.leader_epoch = l.epoch;
            }
        }
    }
}

pub(crate) fn find_coordinator(shared: &Shared, resp: &mut FindCoordinatorResponse, version: i16) {
    let inner = shared.lock();
    let node = inner.coordinator;
    let down = inner.killed.contains(&node);
    let port = i32::from(shared.port(node));
    if version < 4 {
        if resp.error_code == 0 {
            if down {
                resp.error_code = COORDINATOR_NOT_AVAILABLE;
                resp.node_id = BrokerId(-1);
                resp.host = StrBytes::default();
                resp.port = -1;
            } else {
                resp.node_id = BrokerId(node);
                resp.host = host();
                resp.port = port;
            }
        }
        return;
    }
    for c in resp.coordinators.iter_mut().filter(|c| c.error_code == 0) {
        if down {
            c.error_code = COORDINATOR_NOT_AVAILABLE;
            c.node_id = BrokerId(-1);
            c.host = StrBytes::default();
            c.port = -1;
        } else {
            c.node_id = BrokerId(node);
            c.host = host();
            c.port = port;
        }
    }
}

pub(crate) fn describe_cluster(shared: &Shared, resp: &mut DescribeClusterResponse) {
    let inner = shared.lock();
    let live = alive(shared, &inner.killed);
    resp.controller_id = BrokerId(live.first().copied().unwrap_or(-1));
    resp.brokers = live
        .iter()
        .map(|&n| {
            DescribeClusterBroker::default()
                .with_broker_id(BrokerId(n))
                .with_host(host())
                .with_port(i32::from(shared.port(n)))
        })
        .collect();
}
