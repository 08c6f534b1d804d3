//! The membership task body (see [`crate::group_driver`]): drives rafka-group's sans-IO
//! [`Membership`] machine.
//!
//! Loop: drain the machine's actions (requests are spawned, each answer comes back on a
//! channel; events go to the consumer), then wait for the first of: an answer, a command from
//! the consumer (poll called, subscription change, leave), the acknowledgement of a
//! revoke/lost hook, or the machine's next timer (`poll_timeout`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kafka_protocol::messages::{
    FindCoordinatorResponse, HeartbeatResponse, JoinGroupResponse, LeaveGroupResponse,
    SyncGroupResponse,
};
use rafka_client::{Client, SendOptions, Target};
use rafka_group::membership::{
    Action, Destination, Event, GroupConfig, GroupRequest, Membership, OutgoingRequest, RequestId,
};
use tokio::sync::{mpsc, oneshot};

use crate::commit::CommitIdentity;
use crate::config::ConsumerConfig;
use crate::consumer::TopicSelector;
use crate::error::ConsumerError;
use crate::group_driver::{Command, DriverShared, GroupEvent};

/// An answer to one of the machine's requests.
enum Answer {
    FindCoordinator(FindCoordinatorResponse),
    JoinGroup(JoinGroupResponse),
    SyncGroup(SyncGroupResponse),
    Heartbeat(HeartbeatResponse),
    LeaveGroup(LeaveGroupResponse),
}

impl Answer {
    fn error_code(&self) -> i16 {
        match self {
            Answer::FindCoordinator(r) => r.error_code,
            Answer::JoinGroup(r) => r.error_code,
            Answer::SyncGroup(r) => r.error_code,
            Answer::Heartbeat(r) => r.error_code,
            Answer::LeaveGroup(r) => r.error_code,
        }
    }
}

/// Builds the machine's config from the consumer's.
pub(crate) fn group_config(config: &ConsumerConfig) -> Result<GroupConfig, ConsumerError> {
    let group_id = config.group_id.clone().ok_or(ConsumerError::NoGroupId {
        operation: "subscribe",
    })?;
    let mut g = GroupConfig::new(group_id);
    g.group_instance_id = config.group_instance_id.clone();
    g.session_timeout = config.session_timeout;
    g.rebalance_timeout = config.max_poll_interval;
    g.heartbeat_interval = config.heartbeat_interval;
    g.retry_backoff = config.client.retry_backoff;
    g.request_timeout = config.client.request_timeout;
    g.client_rack = Some(config.client_rack.clone()).filter(|r| !r.is_empty());
    g.exclude_internal_topics = config.exclude_internal_topics;
    g.assignors = config
        .partition_assignment_strategy
        .iter()
        .filter_map(|name| rafka_group::assignor::builtin(name))
        .collect();
    Ok(g)
}

/// Runs the membership loop until the member left (or failed for good).
pub(crate) async fn run(
    client: Client,
    config: Arc<ConsumerConfig>,
    subscription: TopicSelector,
    shared: Arc<DriverShared>,
    events: mpsc::UnboundedSender<GroupEvent>,
    mut commands: mpsc::UnboundedReceiver<Command>,
) {
    let mut machine = match group_config(&config).and_then(|c| {
        Membership::new(c).map_err(|e| {
            ConsumerError::Config(rafka_client::ConfigError::Incompatible {
                reason: e.to_string(),
            })
        })
    }) {
        Ok(m) => m,
        Err(e) => {
            let _ = events.send(GroupEvent::Fatal(e));
            return;
        }
    };
    let now = Instant::now();
    let mut pattern = match subscription {
        TopicSelector::Topics(topics) => {
            machine.set_subscription(topics, now);
            false
        }
        TopicSelector::Pattern(re) => {
            machine.set_subscription_pattern(re, now);
            true
        }
    };
    let (answer_tx, mut answers) = mpsc::unbounded_channel::<(RequestId, Option<Answer>)>();
    let mut pending_ack: Option<oneshot::Receiver<()>> = None;
    let mut leaving: Option<oneshot::Sender<()>> = None;
    let mut next_metadata = Instant::now();
    let mut last_poll = Instant::now();
    let mut metadata_topics: Option<BTreeSet<String>> = Some(BTreeSet::new());
    machine.join(now);

    loop {
        // Metadata: at start, when asked for, and every metadata.max.age.ms (partition counts
        // and pattern matches change).
        if let Some(extra) = metadata_topics.take() {
            let counts = partition_counts(&client, &machine, &extra, pattern).await;
            if let Some(counts) = counts {
                machine.metadata_changed(counts, Instant::now());
            }
            next_metadata = Instant::now() + config.client.metadata_max_age;
            let subscribed: Vec<String> = machine.subscribed_topics().iter().cloned().collect();
            *shared.subscribed.lock().unwrap_or_else(|e| e.into_inner()) = subscribed;
        }

        while let Some(action) = machine.poll_action() {
            match action {
                Action::Send(request) => {
                    spawn_request(&client, request, answer_tx.clone(), events.clone())
                }
                Action::Event(event) => match event {
                    Event::PartitionsRevoked { partitions, .. } => {
                        let (tx, rx) = oneshot::channel();
                        if leaving.is_some() {
                            // close() already ran the hooks and committed.
                            machine.ack_revoked(Instant::now());
                        } else if events
                            .send(GroupEvent::Revoke {
                                partitions,
                                done: tx,
                            })
                            .is_ok()
                        {
                            pending_ack = Some(rx);
                        } else {
                            machine.ack_revoked(Instant::now());
                        }
                    }
                    Event::PartitionsLost { partitions } => {
                        let (tx, rx) = oneshot::channel();
                        if leaving.is_some() {
                            machine.ack_revoked(Instant::now());
                        } else if events
                            .send(GroupEvent::Lost {
                                partitions,
                                done: tx,
                            })
                            .is_ok()
                        {
                            pending_ack = Some(rx);
                        } else {
                            machine.ack_revoked(Instant::now());
                        }
                    }
                    Event::PartitionsAssigned {
                        partitions,
                        assignment,
                        generation,
                    } => {
                        tracing::info!(
                            generation = generation.generation_id,
                            member_id = %generation.member_id,
                            added = partitions.len(),
                            owned = assignment.len(),
                            "joined group"
                        );
                        let _ = events.send(GroupEvent::Assigned {
                            assignment,
                            added: partitions,
                        });
                    }
                    Event::MetadataNeeded { topics } => metadata_topics = Some(topics),
                    Event::CoordinatorChanged { coordinator } => {
                        tracing::debug!(?coordinator, "group coordinator changed");
                    }
                    Event::Error(e) => {
                        tracing::warn!(error = %e, "group membership error");
                        let _ = events.send(GroupEvent::Error(group_error(&config, e)));
                    }
                    Event::Fatal(e) => {
                        tracing::error!(error = %e, "group membership failed");
                        let _ = events.send(GroupEvent::Fatal(group_error(&config, e)));
                    }
                    Event::Left => {
                        if let Some(done) = leaving.take() {
                            let _ = done.send(());
                        }
                        publish_identity(&shared, &machine);
                        return;
                    }
                    #[allow(unreachable_patterns)] // Event may grow variants
                    _ => {}
                },
            }
        }
        publish_identity(&shared, &machine);
        if metadata_topics.is_some() {
            continue;
        }

        let now = Instant::now();
        let mut wake = machine
            .poll_timeout()
            .unwrap_or(now + Duration::from_secs(1));
        wake = wake.min(next_metadata).max(now);
        tokio::select! {
            answer = answers.recv() => {
                let Some((id, answer)) = answer else { continue };
                let now = Instant::now();
                match answer {
                    Some(Answer::FindCoordinator(r)) => machine.handle_find_coordinator_response(id, &r, now),
                    Some(Answer::JoinGroup(r)) => {
                        tracing::debug!(
                            generation = r.generation_id,
                            leader = %r.leader.as_str(),
                            member_id = %r.member_id.as_str(),
                            members = r.members.len(),
                            "JoinGroup answered"
                        );
                        machine.handle_join_response(id, &r, now)
                    }
                    Some(Answer::SyncGroup(r)) => machine.handle_sync_response(id, &r, now),
                    Some(Answer::Heartbeat(r)) => machine.handle_heartbeat_response(id, &r, now),
                    Some(Answer::LeaveGroup(r)) => machine.handle_leave_response(id, &r, now),
                    None => machine.handle_request_failed(id, now),
                }
            }
            command = commands.recv() => {
                let now = Instant::now();
                match command {
                    Some(Command::Polled(at)) => {
                        last_poll = at;
                        machine.poll_called(at);
                    }
                    Some(Command::Leave(done)) => {
                        leaving = Some(done);
                        if pending_ack.take().is_some() {
                            // close() ran the hooks for everything owned already.
                            machine.ack_revoked(now);
                        }
                        machine.leave(now);
                    }
                    Some(Command::Subscribe(TopicSelector::Topics(topics))) => {
                        machine.set_subscription(topics, now);
                    }
                    Some(Command::Subscribe(TopicSelector::Pattern(re))) => {
                        pattern = true;
                        machine.set_subscription_pattern(re, now);
                        metadata_topics = Some(BTreeSet::new());
                    }
                    None => {
                        // The consumer was dropped without close: leave quietly.
                        if leaving.is_none() {
                            let (tx, _rx) = oneshot::channel();
                            leaving = Some(tx);
                            machine.leave(now);
                        }
                    }
                }
            }
            acked = async { pending_ack.as_mut().expect("guarded").await }, if pending_ack.is_some() => {
                let _ = acked;
                pending_ack = None;
                machine.ack_revoked(Instant::now());
            }
            _ = tokio::time::sleep_until(wake.into()) => {
                let now = Instant::now();
                if now >= next_metadata {
                    metadata_topics = Some(BTreeSet::new());
                }
                let was_member = machine.generation().is_some_and(|g| g.is_valid());
                machine.handle_timeout(now);
                if was_member && now >= last_poll + config.max_poll_interval {
                    // The machine left the group for the poll timeout: the next poll says so.
                    shared.poll_expired.store(true, Ordering::SeqCst);
                }
            }
        }
    }
}

fn group_error(config: &ConsumerConfig, source: rafka_group::GroupError) -> ConsumerError {
    ConsumerError::Group {
        group_id: config.group_id.clone().unwrap_or_default(),
        source,
    }
}

fn publish_identity(shared: &DriverShared, machine: &Membership) {
    let meta = machine.group_metadata();
    *shared.identity.lock().unwrap_or_else(|e| e.into_inner()) = CommitIdentity {
        generation: meta.generation_id,
        member_id: meta.member_id,
        group_instance_id: meta.group_instance_id,
    };
}

/// Partition counts for the subscribed topics plus `extra` (every topic for a pattern).
async fn partition_counts(
    client: &Client,
    machine: &Membership,
    extra: &BTreeSet<String>,
    pattern: bool,
) -> Option<BTreeMap<String, i32>> {
    let cluster = if pattern {
        client.refresh_all_topics().await
    } else {
        let mut topics: BTreeSet<String> = machine.subscribed_topics().clone();
        topics.extend(extra.iter().cloned());
        let names: Vec<&str> = topics.iter().map(String::as_str).collect();
        client.metadata_for(&names).await
    };
    match cluster {
        Ok(c) => Some(
            c.topics
                .values()
                .map(|t| (t.name.clone(), t.partitions.len() as i32))
                .collect(),
        ),
        Err(e) => {
            tracing::debug!(error = %e, "group metadata refresh failed");
            None
        }
    }
}

/// Sends one request of the membership machine and hands its answer back, `None` when it
/// failed (the machine backs off and retries). SASL and TLS failures are also reported to
/// `poll` as [`GroupEvent::Error`], as Java's `poll` throws its AuthenticationException.
fn spawn_request(
    client: &Client,
    request: OutgoingRequest,
    answers: mpsc::UnboundedSender<(RequestId, Option<Answer>)>,
    events: mpsc::UnboundedSender<GroupEvent>,
) {
    let client = client.clone();
    tokio::spawn(async move {
        let target = match &request.destination {
            Destination::AnyBroker => Target::Any,
            Destination::Coordinator(c) => Target::Broker(c.node_id),
        };
        let options = SendOptions {
            timeout: Some(request.timeout),
            ..SendOptions::default()
        };
        let id = request.id;
        let api = request.request.api_key();
        tracing::debug!(?api, id = id.0, ?target, "group request");
        let answer = match request.request {
            GroupRequest::FindCoordinator(p) => client
                .send_with(target, options, |v| p.to_request(v))
                .await
                .map(Answer::FindCoordinator),
            GroupRequest::JoinGroup(p) => client
                .send_with(target, options, |v| p.to_request(v))
                .await
                .map(Answer::JoinGroup),
            GroupRequest::SyncGroup(p) => client
                .send_with(target, options, |v| p.to_request(v))
                .await
                .map(Answer::SyncGroup),
            GroupRequest::Heartbeat(p) => client
                .send_with(target, options, |v| p.to_request(v))
                .await
                .map(Answer::Heartbeat),
            GroupRequest::LeaveGroup(p) => client
                .send_with(target, options, |v| p.to_request(v))
                .await
                .map(Answer::LeaveGroup),
            other => {
                // A request kind this driver does not know yet: report it failed so the
                // machine's retry and backoff rules apply.
                tracing::warn!(?other, "group request of an unknown kind");
                let _ = answers.send((id, None));
                return;
            }
        };
        let answer = match answer {
            Ok(a) => {
                tracing::debug!(?api, id = id.0, error_code = a.error_code(), "group answer");
                Some(a)
            }
            Err(e) => {
                tracing::debug!(error = %e, "group request failed");
                if matches!(
                    e,
                    rafka_client::Error::Sasl { .. } | rafka_client::Error::Tls { .. }
                ) {
                    let _ = events.send(GroupEvent::Error(ConsumerError::Client(e)));
                }
                None
            }
        };
        let _ = answers.send((id, answer));
    });
}
