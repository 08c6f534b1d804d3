//! The tokio driver of the group membership machine (rafka-group): a background task that
//! sends what the machine asks (JoinGroup, SyncGroup, Heartbeat, LeaveGroup) to the group
//! coordinator and feeds back responses and `now`.
//!
//! The consumer talks to it through events ([`GroupEvent`]), handled on the application's task
//! inside `poll`: rebalance hooks must run there, and an eager rebalance must not rejoin before
//! the revoke hook and the commit are done — the task waits for the `done` acknowledgement.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use rafka_client::Client;
use rafka_wire::TopicPartition;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::commit::CommitIdentity;
use crate::config::ConsumerConfig;
use crate::error::ConsumerError;

/// What the membership task asks of the consumer's task.
#[derive(Debug)]
#[allow(dead_code)] // constructed by the membership task as it lands
pub(crate) enum GroupEvent {
    /// Give up these partitions (eager: all owned, before rejoining; cooperative: those that
    /// move). Acknowledge on `done` once hooks ran and offsets are committed.
    Revoke {
        partitions: Vec<TopicPartition>,
        done: oneshot::Sender<()>,
    },
    /// The member was expelled; these partitions are gone already.
    Lost { partitions: Vec<TopicPartition> },
    /// A new generation: `assignment` is everything owned now, `added` what is new.
    Assigned {
        assignment: Vec<TopicPartition>,
        added: Vec<TopicPartition>,
    },
    /// A pattern subscription needs its topic list (re)computed from metadata.
    TopicsNeeded,
    /// `max.poll.interval.ms` passed without a poll: the member left the group.
    PollIntervalExceeded,
    /// Membership failed for good (e.g. fenced static member, invalid group id).
    Fatal(ConsumerError),
}

#[derive(Debug)]
#[allow(dead_code)]
pub(crate) enum Command {
    SetTopics(Vec<String>),
    Leave(oneshot::Sender<()>),
}

/// State the consumer reads without a round trip.
#[derive(Debug)]
pub(crate) struct DriverShared {
    pub identity: Mutex<CommitIdentity>,
    pub last_poll: Mutex<Instant>,
}

/// Handle to the membership task.
#[derive(Debug)]
pub(crate) struct GroupDriver {
    events: mpsc::UnboundedReceiver<GroupEvent>,
    commands: mpsc::UnboundedSender<Command>,
    shared: Arc<DriverShared>,
    task: JoinHandle<()>,
}

impl GroupDriver {
    /// Starts the membership task for `topics`.
    pub fn start(client: Client, config: Arc<ConsumerConfig>, topics: Vec<String>) -> Self {
        let (event_tx, events) = mpsc::unbounded_channel();
        let (commands, command_rx) = mpsc::unbounded_channel();
        let shared = Arc::new(DriverShared {
            identity: Mutex::new(CommitIdentity {
                generation: -1,
                member_id: String::new(),
                group_instance_id: config.group_instance_id.clone(),
            }),
            last_poll: Mutex::new(Instant::now()),
        });
        let task = tokio::spawn(crate::group_task::run(
            client,
            config,
            topics,
            shared.clone(),
            event_tx,
            command_rx,
        ));
        GroupDriver {
            events,
            commands,
            shared,
            task,
        }
    }

    /// Generation and member id for commits.
    pub fn identity(&self) -> CommitIdentity {
        self.shared
            .identity
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Records a `poll` call (for `max.poll.interval.ms`).
    pub fn polled(&self) {
        *self
            .shared
            .last_poll
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }

    /// Changes the subscribed topics (pattern subscriptions); rejoins when they changed.
    pub fn set_topics(&self, topics: Vec<String>) {
        let _ = self.commands.send(Command::SetTopics(topics));
    }

    /// The next event, waiting for one.
    pub async fn recv(&mut self) -> Option<GroupEvent> {
        self.events.recv().await
    }

    /// The next event if one is ready.
    pub fn try_recv(&mut self) -> Option<GroupEvent> {
        self.events.try_recv().ok()
    }

    /// Leaves the group (LeaveGroup unless static membership) and stops the task.
    pub async fn leave(self) {
        let (tx, rx) = oneshot::channel();
        if self.commands.send(Command::Leave(tx)).is_ok() {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), rx).await;
        }
        self.task.abort();
    }
}
