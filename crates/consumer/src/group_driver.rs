//! The tokio driver of the group membership machine (rafka-group): a background task that
//! sends what the machine asks (JoinGroup, SyncGroup, Heartbeat, LeaveGroup) to the group
//! coordinator and feeds back responses and `now`.
//!
//! The consumer talks to it through events ([`GroupEvent`]), handled on the application's task
//! inside `poll`: rebalance hooks must run there, and an eager rebalance must not rejoin before
//! the revoke hook and the commit are done — the task waits for the `done` acknowledgement.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rafka_client::Client;
use rafka_wire::TopicPartition;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::commit::CommitIdentity;
use crate::config::ConsumerConfig;
use crate::consumer::TopicSelector;
use crate::error::ConsumerError;

/// What the membership task asks of the consumer's task.
#[derive(Debug)]
pub(crate) enum GroupEvent {
    /// Give up these partitions (eager: all owned, before rejoining; cooperative: those that
    /// move). Acknowledge on `done` once hooks ran and offsets are committed.
    Revoke {
        partitions: Vec<TopicPartition>,
        done: oneshot::Sender<()>,
    },
    /// The member was expelled; these partitions are gone already. Acknowledge on `done`
    /// once the lost hook ran.
    Lost {
        partitions: Vec<TopicPartition>,
        done: oneshot::Sender<()>,
    },
    /// A new generation: `assignment` is everything owned now, `added` what is new.
    Assigned {
        assignment: Vec<TopicPartition>,
        added: Vec<TopicPartition>,
    },
    /// A membership error Java would throw from `poll`; membership carries on.
    Error(ConsumerError),
    /// Membership failed for good (e.g. fenced static member, invalid group id).
    Fatal(ConsumerError),
}

#[derive(Debug)]
pub(crate) enum Command {
    Polled(Instant),
    Subscribe(TopicSelector),
    Leave(oneshot::Sender<()>),
}

/// State the consumer reads without a round trip.
#[derive(Debug)]
pub(crate) struct DriverShared {
    pub identity: Mutex<CommitIdentity>,
    /// Set when the member left for exceeding `max.poll.interval.ms`; the next poll reports
    /// it once.
    pub poll_expired: AtomicBool,
    /// Topics the member subscribes to (a pattern's matches).
    pub subscribed: Mutex<Vec<String>>,
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
    /// Starts the membership task for `subscription`.
    pub fn start(client: Client, config: Arc<ConsumerConfig>, subscription: TopicSelector) -> Self {
        let (event_tx, events) = mpsc::unbounded_channel();
        let (commands, command_rx) = mpsc::unbounded_channel();
        let shared = Arc::new(DriverShared {
            identity: Mutex::new(CommitIdentity {
                generation: -1,
                member_id: String::new(),
                group_instance_id: config.group_instance_id.clone(),
            }),
            poll_expired: AtomicBool::new(false),
            subscribed: Mutex::new(Vec::new()),
        });
        let task = tokio::spawn(crate::group_task::run(
            client,
            config,
            subscription,
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

    /// Records a `poll` call (for `max.poll.interval.ms`). Returns true once after the member
    /// left the group for polling too late.
    pub fn polled(&self) -> bool {
        let _ = self.commands.send(Command::Polled(Instant::now()));
        self.shared.poll_expired.swap(false, Ordering::SeqCst)
    }

    /// Topics the member subscribes to now (the matches of a pattern).
    pub fn subscribed(&self) -> Vec<String> {
        self.shared
            .subscribed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Changes the subscription of the running member (it rejoins when the topics change).
    pub fn resubscribe(&self, subscription: TopicSelector) {
        let _ = self.commands.send(Command::Subscribe(subscription));
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
