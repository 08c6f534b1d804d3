//! The I/O of the driver: each of the core's requests as one future (group requests,
//! metadata lookups, one commit attempt). Retries and backoff are the core's.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rafka_client::{Client, CoordinatorKind, SendOptions, Target};
use rafka_group::consumer_membership::{RequestFailure, TopicId};
use rafka_group::{Destination, GroupRequest, GroupResponse};
use rafka_wire::error_code::ErrorCode;
use rafka_wire::TopicPartition;

use crate::commit::{offset_commit_request, read_offset_commit, CommitIdentity, OffsetToCommit};
use crate::config::ConsumerConfig;
use crate::core::TopicsMetadata;
use crate::error::ConsumerError;

/// Partition counts and topic ids for these topics (every topic when `None`).
pub(super) async fn topics_metadata(
    client: &Client,
    topics: Option<BTreeSet<String>>,
) -> Option<TopicsMetadata> {
    let cluster = match &topics {
        None => client.refresh_all_topics().await,
        Some(topics) => {
            let names: Vec<&str> = topics.iter().map(String::as_str).collect();
            client.metadata_for(&names).await
        }
    };
    match cluster {
        Ok(c) => Some(TopicsMetadata {
            partition_counts: c
                .topics
                .values()
                .map(|t| (t.name.clone(), t.partitions.len() as i32))
                .collect(),
            topic_ids: c
                .topics
                .values()
                .filter(|t| t.topic_id != [0; 16])
                .map(|t| (TopicId(u128::from_be_bytes(t.topic_id)), t.name.clone()))
                .collect(),
        }),
        Err(e) => {
            tracing::debug!(error = %e, "group metadata refresh failed");
            None
        }
    }
}

/// Sends one group request. `Err` with why when it failed (the member backs off and
/// retries, or stops for a version the broker lacks); SASL and TLS failures are also reported
/// to `poll`, as Java's `poll` throws its AuthenticationException.
pub(super) async fn send_group(
    client: &Client,
    destination: Destination,
    timeout: Duration,
    request: GroupRequest,
) -> (Result<GroupResponse, RequestFailure>, Option<ConsumerError>) {
    let target = match &destination {
        Destination::AnyBroker => Target::Any,
        Destination::Coordinator(c) => Target::Broker(c.node_id),
    };
    let options = SendOptions {
        timeout: Some(timeout),
        ..SendOptions::default()
    };
    let api = request.api_key();
    tracing::debug!(?api, ?target, "group request");
    let response = match request {
        GroupRequest::FindCoordinator(p) => client
            .send_with(target, options, |v| p.to_request(v))
            .await
            .map(GroupResponse::FindCoordinator),
        GroupRequest::JoinGroup(p) => client
            .send_with(target, options, |v| p.to_request(v))
            .await
            .map(GroupResponse::JoinGroup),
        GroupRequest::SyncGroup(p) => client
            .send_with(target, options, |v| p.to_request(v))
            .await
            .map(GroupResponse::SyncGroup),
        GroupRequest::Heartbeat(p) => client
            .send_with(target, options, |v| p.to_request(v))
            .await
            .map(GroupResponse::Heartbeat),
        GroupRequest::LeaveGroup(p) => client
            .send_with(target, options, |v| p.to_request(v))
            .await
            .map(GroupResponse::LeaveGroup),
        GroupRequest::ConsumerGroupHeartbeat(p) => {
            // A regex below v1 cannot be sent: the closure cannot fail, so it sends the
            // heartbeat without the regex and the member is told (fatal, as in Java).
            let no_regex = AtomicBool::new(false);
            let response = client
                .send_with(target, options, |v| {
                    p.to_request(v).unwrap_or_else(|_| {
                        no_regex.store(true, Ordering::Relaxed);
                        let mut plain = p.clone();
                        plain.subscribed_topic_regex = None;
                        plain.to_request(v).expect("no regex to refuse")
                    })
                })
                .await;
            if no_regex.load(Ordering::Relaxed) {
                return (Err(RequestFailure::RegexNotSupported), None);
            }
            response.map(GroupResponse::ConsumerGroupHeartbeat)
        }
        other => {
            // A request kind this driver does not know yet: report it failed so the
            // member's retry and backoff rules apply.
            tracing::warn!(?other, "group request of an unknown kind");
            return (Err(RequestFailure::Disconnected), None);
        }
    };
    match response {
        Ok(r) => {
            tracing::debug!(?api, error_code = r.error_code(), "group answer");
            (Ok(r), None)
        }
        Err(e) => {
            tracing::debug!(error = %e, "group request failed");
            let failure = request_failure(&e);
            let report = matches!(
                e,
                rafka_client::Error::Sasl { .. } | rafka_client::Error::Tls { .. }
            );
            (Err(failure), report.then_some(ConsumerError::Client(e)))
        }
    }
}

/// Why a group request got no answer, as the members distinguish it.
fn request_failure(e: &rafka_client::Error) -> RequestFailure {
    match e {
        rafka_client::Error::Timeout { .. } => RequestFailure::TimedOut,
        rafka_client::Error::NoCommonVersion { .. } => RequestFailure::UnsupportedVersion,
        _ => RequestFailure::Disconnected,
    }
}

/// One commit attempt: OffsetCommit to the group coordinator, or a save to the external
/// store. Retries are the core's.
pub(super) async fn commit_once(
    client: &Client,
    config: &ConsumerConfig,
    identity: &CommitIdentity,
    offsets: &[OffsetToCommit],
) -> Result<(), ConsumerError> {
    let group = config.group_id.clone();
    if !config.offset_store.is_kafka() {
        let plain: Vec<(TopicPartition, i64)> =
            offsets.iter().map(|o| (o.tp.clone(), o.offset)).collect();
        config
            .offset_store
            .save(group.as_deref().unwrap_or(""), &plain)
            .await?;
        return Ok(());
    }
    let Some(group) = group else {
        return Err(ConsumerError::NoGroupId {
            operation: "commit",
        });
    };
    let req = offset_commit_request(&group, identity, offsets);
    let result = match client
        .send(Target::GroupCoordinator(group.clone()), req)
        .await
    {
        Ok(resp) => read_offset_commit(&resp),
        Err(e) => Err(ConsumerError::Client(e)),
    };
    if let Err(ConsumerError::Broker { error, .. }) = &result {
        if error.code == ErrorCode::NOT_COORDINATOR
            || error.code == ErrorCode::COORDINATOR_NOT_AVAILABLE
        {
            client.invalidate_coordinator(CoordinatorKind::Group, &group);
        }
    }
    result
}
