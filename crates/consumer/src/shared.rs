//! State shared between the consumer's task and its per-broker fetch tasks.
//!
//! One `std::sync::Mutex` guards the positions and the fetch buffer; it is never held across
//! an `.await`. Two [`Notify`]s carry wake-ups: fetch tasks wake `poll` when records arrive,
//! `poll` wakes fetch tasks when positions change or the buffer drains.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use rafka_wire::TopicPartition;
use tokio::sync::Notify;

use crate::commit::{FetchMember, OffsetToCommit};
use crate::events::EventQueue;
use crate::fetcher::Fetcher;
use crate::subscription::SubscriptionState;
use crate::wakeup::WakeupState;

/// Everything behind the lock.
#[derive(Debug)]
pub(crate) struct State {
    /// Positions and assignment.
    pub subs: SubscriptionState,
    /// Fetch sessions, in-flight bookkeeping and the record buffer.
    pub fetcher: Fetcher,
    /// Leader broker of each assigned partition, from the last metadata looked at.
    pub leaders: HashMap<TopicPartition, i32>,
    /// A fetch task saw a leadership error: `poll` refreshes metadata.
    pub refresh_metadata: bool,
    /// Set by `close`: fetch tasks exit.
    pub closed: bool,
    /// Background events for `drain_events` (the fetcher keeps its own).
    pub events: EventQueue,
    /// The KIP-848 member's id and epoch, which OffsetFetch v9 carries; kept by the driver
    /// (Java's `onMemberEpochUpdated`), `None` while the member has no epoch and under the
    /// classic protocol.
    pub fetch_member: Option<FetchMember>,
}

/// The shared part of a consumer.
#[derive(Debug)]
pub(crate) struct Shared {
    state: Mutex<State>,
    /// Records or errors arrived (wakes `poll`).
    pub records_ready: Notify,
    /// Positions changed, the buffer drained or leaders moved (wakes fetch tasks).
    pub fetch_wanted: Notify,
    /// Set by a `WakeupHandle`: the current or next `poll` returns `ConsumerError::Wakeup`.
    pub wakeup: Arc<WakeupState>,
}

impl State {
    /// `offsets` to commit, each with the leader epoch of its partition's position (-1 when
    /// unknown).
    pub fn with_epochs(&self, offsets: &[(TopicPartition, i64)]) -> Vec<OffsetToCommit> {
        offsets
            .iter()
            .map(|(tp, offset)| OffsetToCommit {
                tp: tp.clone(),
                offset: *offset,
                leader_epoch: self.subs.get(tp).and_then(|p| p.leader_epoch).unwrap_or(-1),
            })
            .collect()
    }
}

impl Shared {
    pub fn new(fetcher: Fetcher) -> Self {
        Shared {
            state: Mutex::new(State {
                subs: SubscriptionState::new(),
                fetcher,
                leaders: HashMap::new(),
                refresh_metadata: false,
                closed: false,
                events: EventQueue::default(),
                fetch_member: None,
            }),
            records_ready: Notify::new(),
            fetch_wanted: Notify::new(),
            wakeup: Arc::default(),
        }
    }

    /// Locks the state. A panic while locked cannot leave positions half-written in a way
    /// later code relies on, so a poisoned lock is used as is.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}
