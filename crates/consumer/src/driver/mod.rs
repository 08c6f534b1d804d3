//! The driver task: one per consumer that commits or joins a group. It owns the sans-IO
//! [`ConsumerCore`], sends what the core asks (group requests, metadata lookups, commits)
//! without awaiting any of them inline, feeds the answers and `now` back, and sleeps until the
//! core's next deadline. Heartbeats therefore go on while a metadata lookup or a commit is
//! outstanding.
//!
//! The [`Consumer`](crate::Consumer) talks to it over two bounded channels: [`Command`]s in
//! (poll called, subscribe, commit, leave) and [`GroupEvent`]s out (rebalance hooks to run,
//! errors for `poll`). A hook reaches the consumer in one hop and is acknowledged on a
//! oneshot: the member does not rejoin before a revoke hook and its commit are done, and a
//! KIP-848 member acknowledges a new assignment only after the assign hook ran. The KIP-848
//! commit before a reconciliation is answered here, with the consumed offsets. Commit results
//! come back on a oneshot (sync) or through the callback (async), in the order the commits
//! were made.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use futures::{FutureExt, StreamExt};
use rafka_client::Client;
use rafka_group::consumer_membership::{ConsumerGroupConfig, GroupProtocol, RequestFailure};
use rafka_group::{ConsumerMember, GroupConfig, GroupMember, GroupResponse, Membership, RequestId};
use rafka_wire::TopicPartition;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::commit::{FetchMember, OffsetToCommit};
use crate::config::ConsumerConfig;
use crate::core::{CommitId, ConsumerCore, CoreConfig, CoreEvent, TopicsMetadata, Transmit};
use crate::error::ConsumerError;
use crate::events::ConsumerEvent;
use crate::shared::Shared;
use crate::subscription::TopicSelector;

mod member_id;
mod send;

use send::{commit_once, send_group, topics_metadata};

/// Capacity of the command and event channels. The driver drains commands at once, and the
/// consumer drains events at every `poll`; rebalance events wait for their acknowledgement,
/// so few are ever queued.
const CHANNEL_CAPACITY: usize = 64;

/// Callback of [`Consumer::commit_async`](crate::Consumer::commit_async); runs on the
/// consumer's driver task, in commit order.
pub type CommitCallback = Box<dyn FnOnce(Result<(), ConsumerError>) + Send + 'static>;

/// What the driver asks of the consumer's task.
#[derive(Debug)]
pub(crate) enum GroupEvent {
    /// Give up these partitions (run the revoke hook, commit); acknowledge on `done`.
    Revoke {
        partitions: Vec<TopicPartition>,
        done: oneshot::Sender<()>,
    },
    /// These partitions are gone already (run the lost hook); acknowledge on `done`.
    Lost {
        partitions: Vec<TopicPartition>,
        done: oneshot::Sender<()>,
    },
    /// A new generation: `assignment` is everything owned now, `added` what is new; run the
    /// assign hook, then acknowledge on `done` (a KIP-848 member acknowledges the assignment
    /// to the broker only then).
    Assigned {
        assignment: Vec<TopicPartition>,
        added: Vec<TopicPartition>,
        done: oneshot::Sender<()>,
    },
    /// The topics subscribed now (a pattern's matches).
    Subscribed(Vec<String>),
    /// The member left for exceeding `max.poll.interval.ms`.
    PollExpired,
    /// A membership error Java would throw from `poll`; membership carries on.
    Error(ConsumerError),
    /// Membership failed for good.
    Fatal(ConsumerError),
}

enum Reply {
    Sync(oneshot::Sender<Result<(), ConsumerError>>),
    Async(CommitCallback),
}

enum Command {
    Poll {
        at: Instant,
        stored: Vec<OffsetToCommit>,
    },
    Subscribe(TopicSelector),
    Commit {
        offsets: Vec<OffsetToCommit>,
        /// Skip (answer `Ok`) when the member is outside a generation: revoke and close.
        only_in_generation: bool,
        reply: Reply,
    },
    Leave(oneshot::Sender<()>),
}

/// Handle to the driver task.
#[derive(Debug)]
pub(crate) struct Driver {
    commands: mpsc::Sender<Command>,
    events: mpsc::Receiver<GroupEvent>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Command::Poll { .. } => "Poll",
            Command::Subscribe(_) => "Subscribe",
            Command::Commit { .. } => "Commit",
            Command::Leave(_) => "Leave",
        })
    }
}

impl Driver {
    /// Starts the driver task (no group membership until [`Driver::subscribe`]).
    pub fn start(client: Client, config: Arc<ConsumerConfig>, shared: Arc<Shared>) -> Driver {
        let (commands, command_rx) = mpsc::channel(CHANNEL_CAPACITY);
        let (event_tx, events) = mpsc::channel(CHANNEL_CAPACITY);
        let core = ConsumerCore::new(core_config(&config), Instant::now());
        let task = tokio::spawn(run(client, config, shared, core, command_rx, event_tx));
        Driver {
            commands,
            events,
            task,
        }
    }

    /// Sends a command from a synchronous method: a full channel (the driver is behind by
    /// `CHANNEL_CAPACITY` commands) hands the send to a task.
    fn send_now(&self, command: Command) {
        if let Err(mpsc::error::TrySendError::Full(command)) = self.commands.try_send(command) {
            let commands = self.commands.clone();
            tokio::spawn(async move { commands.send(command).await });
        }
    }

    /// Joins the group, or changes the subscription of the running member.
    pub fn subscribe(&self, selector: TopicSelector) {
        self.send_now(Command::Subscribe(selector));
    }

    /// `poll` was called; `stored` are the offsets auto-commit would commit.
    pub async fn polled(&self, stored: Vec<OffsetToCommit>) {
        let _ = self
            .commands
            .send(Command::Poll {
                at: Instant::now(),
                stored,
            })
            .await;
    }

    /// Commits and waits for the result (after every commit made before it).
    pub async fn commit(
        &self,
        offsets: Vec<OffsetToCommit>,
        only_in_generation: bool,
    ) -> Result<(), ConsumerError> {
        let (tx, rx) = oneshot::channel();
        let command = Command::Commit {
            offsets,
            only_in_generation,
            reply: Reply::Sync(tx),
        };
        if self.commands.send(command).await.is_err() {
            return Err(ConsumerError::Closed);
        }
        rx.await.unwrap_or(Err(ConsumerError::Closed))
    }

    /// Commits; `callback` gets the result on the driver task, in commit order.
    pub fn commit_async(&self, offsets: Vec<OffsetToCommit>, callback: CommitCallback) {
        self.send_now(Command::Commit {
            offsets,
            only_in_generation: false,
            reply: Reply::Async(callback),
        });
    }

    /// The next event, waiting for one.
    pub async fn recv(&mut self) -> Option<GroupEvent> {
        self.events.recv().await
    }

    /// The next event if one is ready.
    pub fn try_recv(&mut self) -> Option<GroupEvent> {
        self.events.try_recv().ok()
    }

    /// Finishes pending commits, leaves the group (LeaveGroup unless static membership) and
    /// stops the task.
    pub async fn leave(self) {
        let (tx, rx) = oneshot::channel();
        if self.commands.send(Command::Leave(tx)).await.is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(5), rx).await;
        }
        self.task.abort();
    }
}

fn core_config(config: &ConsumerConfig) -> CoreConfig {
    CoreConfig {
        group_id: config.group_id.clone(),
        group_instance_id: config.group_instance_id.clone(),
        kafka_commits: config.offset_store.is_kafka(),
        auto_commit_interval: config.auto_commits().then_some(config.auto_commit_interval),
        commit_timeout: config.client.default_api_timeout,
        retry_backoff: config.client.retry_backoff,
        retry_backoff_max: config.client.retry_backoff_max,
        metadata_max_age: config.client.metadata_max_age,
        max_poll_interval: config.max_poll_interval,
    }
}

/// Builds the group machine's config from the consumer's.
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

/// Builds the KIP-848 member's config from the consumer's (`group.protocol=consumer`).
pub(crate) fn consumer_group_config(
    config: &ConsumerConfig,
) -> Result<ConsumerGroupConfig, ConsumerError> {
    let group_id = config.group_id.clone().ok_or(ConsumerError::NoGroupId {
        operation: "subscribe",
    })?;
    let mut g = ConsumerGroupConfig::new(group_id);
    g.group_instance_id = config.group_instance_id.clone();
    g.client_rack = Some(config.client_rack.clone()).filter(|r| !r.is_empty());
    g.remote_assignor = config.group_remote_assignor.clone();
    g.rebalance_timeout = config.max_poll_interval;
    g.retry_backoff = config.client.retry_backoff;
    g.retry_backoff_max = config.client.retry_backoff_max;
    g.request_timeout = config.client.request_timeout;
    // Auto-commit commits what was consumed before each reconciliation revokes anything, as
    // Java does. An external store is saved after the revoke hook on the consumer's task
    // instead: saved from here, positions read now could overwrite newer ones the application
    // stores in its own transactions meanwhile.
    g.auto_commit = config.enable_auto_commit && config.offset_store.is_kafka();
    Ok(g)
}

/// The group member for this config: classic (JoinGroup/SyncGroup/Heartbeat) or, with
/// `group.protocol=consumer`, KIP-848 (ConsumerGroupHeartbeat).
fn new_member(config: &ConsumerConfig) -> Result<Box<dyn GroupMember>, ConsumerError> {
    let incompatible =
        |reason: String| ConsumerError::Config(rafka_client::ConfigError::Incompatible { reason });
    match config.group_protocol {
        GroupProtocol::Classic => {
            let member =
                Membership::new(group_config(config)?).map_err(|e| incompatible(e.to_string()))?;
            Ok(Box::new(member))
        }
        GroupProtocol::Consumer => {
            let member = ConsumerMember::new(consumer_group_config(config)?, member_id::new())
                .map_err(|e| incompatible(e.to_string()))?;
            Ok(Box::new(member))
        }
    }
}

/// An answer to one of the core's requests.
enum Answer {
    Group(
        RequestId,
        Result<GroupResponse, RequestFailure>,
        Option<ConsumerError>,
    ),
    Metadata(u64, Option<TopicsMetadata>),
    Commit(CommitId, Result<(), ConsumerError>),
}

/// State of the loop besides the core.
struct Loop {
    client: Client,
    config: Arc<ConsumerConfig>,
    shared: Arc<Shared>,
    in_flight: FuturesUnordered<BoxFuture<'static, Answer>>,
    outbox: VecDeque<GroupEvent>,
    /// Hooks handed to the consumer and not acknowledged yet, in the order it runs them.
    pending_acks: VecDeque<(Hook, oneshot::Receiver<()>)>,
    replies: HashMap<CommitId, Reply>,
    leave_done: Vec<oneshot::Sender<()>>,
}

async fn run(
    client: Client,
    config: Arc<ConsumerConfig>,
    shared: Arc<Shared>,
    mut core: ConsumerCore,
    mut commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<GroupEvent>,
) {
    let mut l = Loop {
        client,
        config,
        shared,
        in_flight: FuturesUnordered::new(),
        outbox: VecDeque::new(),
        pending_acks: VecDeque::new(),
        replies: HashMap::new(),
        leave_done: Vec::new(),
    };
    let mut commands_open = true;
    loop {
        while let Some(t) = core.poll_transmit() {
            let fut = l.send(t);
            l.in_flight.push(fut);
        }
        while let Some(event) = core.poll_event() {
            if let CoreEvent::CommitBeforeReconcile { revoking } = event {
                // Java commits all consumed offsets before the revoke hook.
                let offsets = {
                    let st = l.shared.lock();
                    st.with_epochs(&st.subs.uncommitted_stored())
                };
                tracing::debug!(
                    ?revoking,
                    offsets = offsets.len(),
                    "commit before reconciling"
                );
                core.commit_before_reconcile(offsets, Instant::now());
                continue;
            }
            if l.deliver(event) {
                for done in l.leave_done.drain(..) {
                    let _ = done.send(());
                }
                return;
            }
        }
        l.publish_fetch_member(&core);
        let now = Instant::now();
        let wake = core
            .poll_timeout()
            .unwrap_or(now + Duration::from_secs(1))
            .max(now);
        tokio::select! {
            Some(answer) = l.in_flight.next(), if !l.in_flight.is_empty() => {
                let now = Instant::now();
                match answer {
                    Answer::Group(id, Ok(r), _) => {
                        if let GroupResponse::JoinGroup(j) = &r {
                            tracing::debug!(
                                generation = j.generation_id,
                                leader = %j.leader.as_str(),
                                member_id = %j.member_id.as_str(),
                                members = j.members.len(),
                                "JoinGroup answered"
                            );
                        }
                        core.handle_group_response(id, &r, now)
                    }
                    Answer::Group(id, Err(failure), error) => {
                        if let Some(e) = error {
                            l.outbox.push_back(GroupEvent::Error(e));
                        }
                        core.handle_group_failed(id, failure, now);
                    }
                    Answer::Metadata(id, counts) => core.handle_metadata(id, counts, now),
                    Answer::Commit(id, result) => core.handle_commit_response(id, result, now),
                }
            }
            command = commands.recv(), if commands_open => {
                let now = Instant::now();
                match command {
                    Some(Command::Poll { at, stored }) => {
                        if let Some(id) = core.handle_poll(at, stored) {
                            tracing::debug!(commit = id.0, "auto-commit");
                        }
                    }
                    Some(Command::Subscribe(selector)) => {
                        let member = if core.is_member() {
                            None
                        } else {
                            match new_member(&l.config) {
                                Ok(m) => Some(m),
                                Err(e) => {
                                    l.outbox.push_back(GroupEvent::Fatal(e));
                                    continue;
                                }
                            }
                        };
                        core.subscribe(member, selector, now);
                    }
                    Some(Command::Commit { offsets, only_in_generation, reply }) => {
                        if only_in_generation && core.is_member() && core.identity().generation < 0 {
                            // Not in a generation (expelled): the partitions are someone
                            // else's already; nothing to commit for them.
                            l.reply(reply, Ok(()));
                        } else {
                            // The commit of revoked partitions is the consumer's own: retried
                            // after STALE_MEMBER_EPOCH, as Java's commit before revocation.
                            let id = core.commit_automatic(offsets, only_in_generation, now);
                            l.replies.insert(id, reply);
                        }
                    }
                    Some(Command::Leave(done)) => {
                        l.leave_done.push(done);
                        // close() ran the hooks for everything owned already.
                        l.ack_all(&mut core, now);
                        core.leave(now);
                    }
                    None => {
                        // The consumer was dropped without close: leave quietly.
                        commands_open = false;
                        l.ack_all(&mut core, now);
                        core.leave(now);
                    }
                }
            }
            permit = events.reserve(), if !l.outbox.is_empty() => {
                match permit {
                    Ok(permit) => permit.send(l.outbox.pop_front().expect("guarded")),
                    // The consumer is gone: an unacknowledged revoke is acknowledged below
                    // (its `done` sender is dropped here).
                    Err(_) => l.outbox.clear(),
                }
            }
            acked = async { (&mut l.pending_acks.front_mut().expect("guarded").1).await }, if !l.pending_acks.is_empty() => {
                // Ran, or the consumer is gone (its `done` sender dropped): go on either way.
                let _ = acked;
                if let Some((hook, _)) = l.pending_acks.pop_front() {
                    hook.ack(&mut core, Instant::now());
                }
            }
            _ = tokio::time::sleep_until(wake.into()) => core.handle_timeout(Instant::now()),
        }
    }
}

/// A rebalance hook the consumer acknowledges.
#[derive(Debug, Clone, Copy)]
enum Hook {
    /// Revoke or lost.
    Released,
    /// Assign.
    Assigned,
}

impl Hook {
    fn ack(self, core: &mut ConsumerCore, now: Instant) {
        match self {
            Hook::Released => core.ack_revoked(now),
            Hook::Assigned => core.ack_assigned(now),
        }
    }
}

impl Loop {
    /// A `done` sender for a hook; its acknowledgement reaches the core in order.
    fn await_ack(&mut self, hook: Hook) -> oneshot::Sender<()> {
        let (done, rx) = oneshot::channel();
        self.pending_acks.push_back((hook, rx));
        done
    }

    /// Acknowledges every hook handed out (leaving: the consumer will not run them).
    fn ack_all(&mut self, core: &mut ConsumerCore, now: Instant) {
        for (hook, _) in self.pending_acks.drain(..) {
            hook.ack(core, now);
        }
    }

    /// Keeps the member id and epoch that OffsetFetch v9 carries in step with the KIP-848
    /// member (Java's `onMemberEpochUpdated`): present only with an epoch the broker gave.
    fn publish_fetch_member(&self, core: &ConsumerCore) {
        if self.config.group_protocol != GroupProtocol::Consumer {
            return;
        }
        let identity = core.identity();
        let member = (identity.generation > 0).then_some(FetchMember {
            member_id: identity.member_id,
            member_epoch: identity.generation,
        });
        self.shared.lock().fetch_member = member;
    }

    /// Hands a core event on; true when the core finished leaving.
    fn deliver(&mut self, event: CoreEvent) -> bool {
        match event {
            CoreEvent::Revoke { partitions } => {
                let done = self.await_ack(Hook::Released);
                self.outbox
                    .push_back(GroupEvent::Revoke { partitions, done });
            }
            CoreEvent::Lost { partitions } => {
                let done = self.await_ack(Hook::Released);
                self.outbox.push_back(GroupEvent::Lost { partitions, done });
            }
            // Answered in the loop, with the consumed offsets.
            CoreEvent::CommitBeforeReconcile { .. } => {}
            CoreEvent::Assigned {
                assignment,
                added,
                generation,
                member_id,
            } => {
                tracing::info!(
                    generation,
                    member_id = %member_id,
                    added = added.len(),
                    owned = assignment.len(),
                    "joined group"
                );
                let done = self.await_ack(Hook::Assigned);
                self.outbox.push_back(GroupEvent::Assigned {
                    assignment,
                    added,
                    done,
                });
            }
            CoreEvent::Subscribed(topics) => self.outbox.push_back(GroupEvent::Subscribed(topics)),
            CoreEvent::PollExpired => self.outbox.push_back(GroupEvent::PollExpired),
            CoreEvent::Error(e) => self.outbox.push_back(GroupEvent::Error(e)),
            CoreEvent::Fatal(e) => self.outbox.push_back(GroupEvent::Fatal(e)),
            CoreEvent::CommitDone {
                id,
                offsets,
                result,
            } => {
                if result.is_ok() {
                    let plain: Vec<(TopicPartition, i64)> =
                        offsets.iter().map(|o| (o.tp.clone(), o.offset)).collect();
                    self.shared.lock().subs.mark_committed(&plain);
                }
                match self.replies.remove(&id) {
                    Some(reply) => self.reply(reply, result),
                    None => {
                        if let Err(error) = result {
                            tracing::warn!(%error, "auto-commit failed");
                            let offsets =
                                offsets.iter().map(|o| (o.tp.clone(), o.offset)).collect();
                            self.shared
                                .lock()
                                .events
                                .push(ConsumerEvent::AutoCommitFailed { offsets, error });
                        }
                    }
                }
            }
            CoreEvent::Left => return true,
        }
        false
    }

    fn reply(&mut self, reply: Reply, result: Result<(), ConsumerError>) {
        match reply {
            Reply::Sync(tx) => {
                let _ = tx.send(result);
            }
            Reply::Async(callback) => callback(result),
        }
    }

    /// The future that sends `transmit` and gives its answer.
    fn send(&self, transmit: Transmit) -> BoxFuture<'static, Answer> {
        let client = self.client.clone();
        match transmit {
            Transmit::Group(request) => async move {
                let (response, error) = send_group(
                    &client,
                    request.destination,
                    request.timeout,
                    request.request,
                )
                .await;
                Answer::Group(request.id, response, error)
            }
            .boxed(),
            Transmit::Metadata { id, topics } => {
                async move { Answer::Metadata(id, topics_metadata(&client, topics).await) }.boxed()
            }
            Transmit::Commit {
                id,
                identity,
                offsets,
            } => {
                let config = self.config.clone();
                async move {
                    Answer::Commit(id, commit_once(&client, &config, &identity, &offsets).await)
                }
                .boxed()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_auto_commit_timer_without_a_group_id() {
        let mut config = ConsumerConfig::default();
        assert!(config.enable_auto_commit);
        assert_eq!(core_config(&config).auto_commit_interval, None);
        config.group_id = Some("g".into());
        assert_eq!(
            core_config(&config).auto_commit_interval,
            Some(config.auto_commit_interval)
        );
    }
}
