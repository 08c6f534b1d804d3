//! [`Consumer`]: the application-facing API. This file holds creation, subscribe/assign,
//! poll and close; beside it, `positions.rs` (seek, position, pause/resume, lag),
//! `commits.rs`, `lookups.rs` (end offsets, offsets for times, partitions) and
//! `rebalance.rs` (the rebalance hooks, run on the application's task when the driver asks).
//! Leaders, fetch tasks and position lookups are in the crate's `positions.rs`; membership
//! and commits in the driver task (`driver/`) around the sans-IO
//! [`crate::core::ConsumerCore`].

use std::borrow::Borrow;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::Stream;
use rafka_client::Client;
use rafka_wire::TopicPartition;

use crate::config::ConsumerConfig;
use crate::driver::Driver;
use crate::error::ConsumerError;
use crate::events::ConsumerEvent;
use crate::fetcher::{FetchSettings, Fetcher};
use crate::listener::{ConsumerRebalanceListener, DynListener};
use crate::partition_list::to_vec;
use crate::positions::Positions;
use crate::record::ConsumerRecord;
use crate::shared::Shared;
use crate::store::OffsetStore;
use crate::subscription::{Subscription, TopicSelector};

mod commits;
mod lookups;
mod positions;
mod rebalance;

/// A Kafka consumer (Java's `KafkaConsumer`).
///
/// Use it from one task: every method takes `&mut self`. Records are fetched ahead by
/// background tasks (one per leader broker); group heartbeats run on a background task too,
/// so processing between polls does not expel the member — up to `max.poll.interval.ms`.
/// To interrupt a waiting [`poll`](Consumer::poll) from another task, take a
/// [`WakeupHandle`](crate::WakeupHandle) first; failures of background work (auto-commit,
/// `max_lag` skips) are kept for [`drain_events`](Consumer::drain_events).
///
/// ```no_run
/// # async fn demo() -> Result<(), rafka_consumer::ConsumerError> {
/// use std::time::Duration;
/// use rafka_consumer::{Consumer, ConsumerConfig};
/// let config = ConsumerConfig::builder("localhost:9092").group_id("g").build()?;
/// let mut consumer = Consumer::new(config)?;
/// consumer.subscribe("events")?;
/// loop {
///     for record in consumer.poll(Duration::from_secs(1)).await? {
///         println!("{}-{}@{}", record.topic, record.partition, record.offset);
///     }
/// }
/// # }
/// ```
pub struct Consumer {
    config: Arc<ConsumerConfig>,
    client: Client,
    shared: Arc<Shared>,
    /// Leaders, fetch tasks and position lookups.
    positions: Positions,
    listener: Option<Box<dyn DynListener>>,
    /// The driver task (group membership, commits), started by the first `subscribe` or
    /// commit.
    driver: Option<Driver>,
    /// `subscribe` was called (group member; hooks run).
    in_group: bool,
    /// Topics the member subscribes to (a pattern's matches), as the driver last said.
    subscribed: Vec<String>,
    closed: bool,
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer")
            .field("group_id", &self.config.group_id)
            .field("assignment", &self.assignment())
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

impl Consumer {
    /// Creates a consumer. No connection is made until the first `poll` (or other call that
    /// needs the cluster).
    ///
    /// # Errors
    /// [`ConsumerError::Config`] when the config is invalid; [`ConsumerError::Client`] when TLS
    /// material cannot be loaded.
    pub fn new(config: ConsumerConfig) -> Result<Consumer, ConsumerError> {
        config.validate()?;
        let client = Client::new(config.client.clone())?;
        Ok(Consumer::with_client(config, client))
    }

    /// Creates a consumer on an existing client (sharing its connections and metadata).
    /// The config is not validated again.
    pub fn with_client(config: ConsumerConfig, client: Client) -> Consumer {
        let fetcher = Fetcher::new(FetchSettings::from_config(&config));
        let config = Arc::new(config);
        let shared = Arc::new(Shared::new(fetcher));
        Consumer {
            positions: Positions::new(client.clone(), config.clone(), shared.clone()),
            config,
            client,
            shared,
            listener: None,
            driver: None,
            in_group: false,
            subscribed: Vec::new(),
            closed: false,
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &ConsumerConfig {
        &self.config
    }

    /// The client underneath (for admin calls sharing the consumer's connections).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// `group.id`, if set.
    pub fn group_id(&self) -> Option<&str> {
        self.config.group_id.as_deref()
    }

    /// The configured offset store.
    pub fn offset_store(&self) -> Arc<dyn OffsetStore> {
        self.config.offset_store.clone()
    }

    // ----- subscription -----

    /// Joins the group and consumes the given topics, or every topic matching a regex (Java's
    /// `subscribe(Collection<String>)` / `subscribe(Pattern)`). The group is joined by the
    /// next `poll`. Partitions start from the committed offset (or the offset store's, or
    /// `auto.offset.reset`). A later call replaces the subscription and drops any listener.
    ///
    /// `topics` is anything a [`TopicSelector`] converts from: `"orders"`, a `String` or
    /// `&String`, `["a", "b"]`, a `Vec` or slice of `String`/`&str`, or a [`crate::Regex`].
    ///
    /// # Errors
    /// [`ConsumerError::NoGroupId`] without `group.id`; [`ConsumerError::SubscriptionConflict`]
    /// after `assign`; [`ConsumerError::Closed`].
    pub fn subscribe(&mut self, topics: impl Into<TopicSelector>) -> Result<(), ConsumerError> {
        self.subscribe_inner(topics.into(), None)
    }

    /// [`Consumer::subscribe`] with `listener` called on each rebalance (Java's
    /// `subscribe(topics, ConsumerRebalanceListener)`); see [`crate::listener`] for the
    /// contract.
    ///
    /// # Errors
    /// As [`Consumer::subscribe`].
    pub fn subscribe_with_listener(
        &mut self,
        topics: impl Into<TopicSelector>,
        listener: impl ConsumerRebalanceListener,
    ) -> Result<(), ConsumerError> {
        self.subscribe_inner(topics.into(), Some(Box::new(listener)))
    }

    fn subscribe_inner(
        &mut self,
        selector: TopicSelector,
        listener: Option<Box<dyn DynListener>>,
    ) -> Result<(), ConsumerError> {
        self.check_open()?;
        if self.config.group_id.is_none() {
            return Err(ConsumerError::NoGroupId {
                operation: "subscribe",
            });
        }
        let mut st = self.shared.lock();
        if matches!(st.subs.subscription, Subscription::Manual) {
            return Err(ConsumerError::SubscriptionConflict);
        }
        st.subs.subscription = match &selector {
            TopicSelector::Topics(t) => Subscription::Topics(t.clone()),
            TopicSelector::Pattern(r) => Subscription::Pattern(r.clone()),
        };
        drop(st);
        self.listener = listener;
        self.in_group = true;
        // A running member keeps its id; it rejoins when the topics changed.
        self.driver().subscribe(selector);
        Ok(())
    }

    /// Assigns partitions by hand: no group membership, no rebalance hooks (Java's `assign`).
    /// Partitions kept from the previous assignment keep their positions. Commits to Kafka
    /// still work when `group.id` is set (generation -1, as a "simple" consumer group).
    ///
    /// `partitions` is any collection of partitions or references to them: `[&tp]`, `&vec`,
    /// a `Vec`, `consumer.partitions_for(topic).await?`. An empty one drops the assignment.
    ///
    /// # Errors
    /// [`ConsumerError::SubscriptionConflict`] after `subscribe`; [`ConsumerError::Closed`].
    pub fn assign(
        &mut self,
        partitions: impl IntoIterator<Item = impl Borrow<TopicPartition>>,
    ) -> Result<(), ConsumerError> {
        let partitions = to_vec(partitions);
        self.check_open()?;
        let mut st = self.shared.lock();
        if st.subs.subscription.is_group() {
            return Err(ConsumerError::SubscriptionConflict);
        }
        st.subs.subscription = if partitions.is_empty() {
            Subscription::None
        } else {
            Subscription::Manual
        };
        let (_, removed) = st.subs.assign(partitions.iter().cloned());
        for tp in &removed {
            st.fetcher.buffer.discard(tp);
        }
        drop(st);
        self.shared.fetch_wanted.notify_waiters();
        Ok(())
    }

    /// Leaves the group (after running the revoke hooks and committing as on close) or drops
    /// a manual assignment.
    ///
    /// # Errors
    /// As [`Consumer::close`]'s commit and hook steps.
    pub async fn unsubscribe(&mut self) -> Result<(), ConsumerError> {
        let result = self.revoke_all_for_shutdown().await;
        if let Some(driver) = self.driver.take() {
            driver.leave().await;
        }
        self.in_group = false;
        self.subscribed.clear();
        let mut st = self.shared.lock();
        st.subs.clear();
        st.subs.subscription = Subscription::None;
        st.fetcher.buffer.clear();
        drop(st);
        self.listener = None;
        result
    }

    /// The partitions currently assigned.
    pub fn assignment(&self) -> Vec<TopicPartition> {
        self.shared.lock().subs.assignment()
    }

    /// The topics subscribed (the matched topics for a regex subscription).
    pub fn subscription(&self) -> Vec<String> {
        match &self.shared.lock().subs.subscription {
            Subscription::Topics(t) => t.clone(),
            Subscription::Pattern(_) => self.subscribed.clone(),
            _ => Vec::new(),
        }
    }

    // ----- polling -----

    /// Returns the records fetched since the last call, at most `max.poll.records`, waiting up
    /// to `timeout` for some to arrive. Runs pending rebalance hooks and auto-commits first.
    /// An empty vector means the timeout passed.
    ///
    /// # Cancellation
    /// Records are never lost by dropping a `poll` future: they leave the buffer only in the
    /// step that returns them. But `poll` is not cancel-safe as a whole: dropped while it
    /// runs a rebalance hook, the hook is cut short and the rebalance goes on without it (a
    /// revoked partition's final commit or store save may not happen). So do not race `poll`
    /// against other futures in `select!`; bound it with `timeout`, and interrupt it from
    /// another task with a [`WakeupHandle`](crate::WakeupHandle) (Java's `wakeup()`), which
    /// waits for a running hook to finish.
    ///
    /// # Errors
    /// [`ConsumerError::MaxPollIntervalExceeded`] once after the member left the group for
    /// polling too late (the next `poll` rejoins); [`ConsumerError::NoOffsetForPartition`] and
    /// [`ConsumerError::OffsetOutOfRange`] under `auto.offset.reset=none` (until the
    /// application seeks); [`ConsumerError::Listener`] when a hook failed;
    /// [`ConsumerError::Broker`] / [`ConsumerError::CorruptRecords`] for fetch errors the
    /// consumer does not retry; [`ConsumerError::Group`] when membership failed;
    /// [`ConsumerError::Wakeup`] after [`WakeupHandle::wakeup`](crate::WakeupHandle::wakeup);
    /// [`ConsumerError::Closed`].
    pub async fn poll(&mut self, timeout: Duration) -> Result<Vec<ConsumerRecord>, ConsumerError> {
        self.check_open()?;
        let deadline = Instant::now() + timeout;
        let wakeup = self.shared.wakeup.clone();
        // A manual assignment under a group.id auto-commits too (as Java's): the driver task,
        // which keeps the auto-commit timer, starts here when nothing else started it.
        if self.driver.is_none()
            && self.config.enable_auto_commit
            && self.config.group_id.is_some()
            && !self.shared.lock().subs.assignment().is_empty()
        {
            self.driver();
        }
        loop {
            // Registered before the flag is read, so a wakeup in between is not missed.
            let woken = wakeup.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            if wakeup.take() {
                return Err(ConsumerError::Wakeup);
            }
            // Resets max.poll.interval.ms and auto-commits when due (on the driver).
            if let Some(driver) = &self.driver {
                let stored = if self.config.auto_commits() {
                    let stored = self.shared.lock().subs.uncommitted_stored();
                    self.with_epochs(&stored)
                } else {
                    Vec::new()
                };
                driver.polled(stored).await;
            }
            self.handle_group_events().await?;
            self.positions.update_leaders().await?;
            self.positions.init_positions().await?;

            let shared = self.shared.clone();
            let ready = shared.records_ready.notified();
            tokio::pin!(ready);
            ready.as_mut().enable();
            {
                let mut st = self.shared.lock();
                if let Some(e) = st.fetcher.errors.pop_front() {
                    return Err(e);
                }
                let st = &mut *st;
                let mut out = Vec::new();
                st.fetcher.buffer.drain(
                    &mut st.subs,
                    self.config.max_poll_records,
                    self.config.enable_auto_offset_store,
                    &mut out,
                );
                if !out.is_empty() {
                    self.shared.fetch_wanted.notify_waiters();
                    return Ok(out);
                }
            }
            self.shared.fetch_wanted.notify_waiters();
            let now = Instant::now();
            if now >= deadline {
                return Ok(Vec::new());
            }
            let mut wake = deadline;
            // Re-check positions and leaders now and then (resets, metadata, pattern match).
            wake = wake.min(now + Duration::from_millis(250));
            match &mut self.driver {
                Some(driver) => {
                    tokio::select! {
                        _ = &mut ready => {}
                        _ = &mut woken => {}
                        _ = tokio::time::sleep_until(wake.into()) => {}
                        event = driver.recv() => match event {
                            Some(event) => self.handle_group_event(event).await?,
                            // The driver task ended (fatal error reported already): wait
                            // as without a group instead of spinning on a closed channel.
                            None => tokio::select! {
                                _ = &mut ready => {}
                                _ = &mut woken => {}
                                _ = tokio::time::sleep_until(wake.into()) => {}
                            },
                        },
                    }
                }
                None => {
                    tokio::select! {
                        _ = &mut ready => {}
                        _ = &mut woken => {}
                        _ = tokio::time::sleep_until(wake.into()) => {}
                    }
                }
            }
        }
    }

    /// A handle that makes the current or next `poll` return [`ConsumerError::Wakeup`], from
    /// any task (Java's `wakeup()`). Take it before moving the consumer into its task.
    pub fn wakeup_handle(&self) -> crate::WakeupHandle {
        crate::WakeupHandle {
            state: self.shared.wakeup.clone(),
        }
    }

    /// Takes the background events kept since the last call: auto-commits that failed,
    /// commits on revoke that failed, partitions skipped ahead by `rafka.consumer.max.lag`
    /// (see [`ConsumerEvent`]). They are logged with `tracing` too; this is how to see them
    /// without a subscriber, and to act on them (alert, stop, commit again). At most
    /// [`crate::events::EVENT_CAPACITY`] are kept; older ones are dropped and counted. Does not
    /// wait: call it after each `poll`, or now and then.
    pub fn drain_events(&mut self) -> Vec<ConsumerEvent> {
        let mut out = Vec::new();
        let mut st = self.shared.lock();
        st.fetcher.events.drain_into(&mut out);
        st.events.drain_into(&mut out);
        out
    }

    /// The records as a stream: each item is one record, fetched with `poll` as needed.
    /// Errors are yielded once and the stream goes on.
    pub fn stream(&mut self) -> impl Stream<Item = Result<ConsumerRecord, ConsumerError>> + '_ {
        futures::stream::unfold(
            (self, VecDeque::<ConsumerRecord>::new()),
            |(consumer, mut pending)| async move {
                loop {
                    if let Some(record) = pending.pop_front() {
                        return Some((Ok(record), (consumer, pending)));
                    }
                    if consumer.closed {
                        return None;
                    }
                    match consumer.poll(Duration::from_secs(1)).await {
                        Ok(records) => pending.extend(records),
                        Err(ConsumerError::Closed) => return None,
                        Err(e) => return Some((Err(e), (consumer, pending))),
                    }
                }
            },
        )
    }

    // ----- close -----

    /// Runs the revoke hooks, commits (under `enable.auto.commit`, or saves to the external
    /// store), leaves the group (LeaveGroup, unless static membership) and stops the fetch
    /// tasks. Further calls return [`ConsumerError::Closed`].
    ///
    /// # Errors
    /// The first hook or offset-store error; the group is left and tasks stopped anyway. A
    /// failed auto-commit does not fail the close, as in Java: it is logged and kept as
    /// [`ConsumerEvent::CommitOnRevokeFailed`] for [`Consumer::drain_events`].
    pub async fn close(&mut self) -> Result<(), ConsumerError> {
        if self.closed {
            return Ok(());
        }
        let result = self.revoke_all_for_shutdown().await;
        if let Some(driver) = self.driver.take() {
            driver.leave().await;
        }
        self.closed = true;
        self.shared.lock().closed = true;
        self.shared.fetch_wanted.notify_waiters();
        self.positions.stop_fetch_tasks();
        result
    }

    fn check_open(&self) -> Result<(), ConsumerError> {
        if self.closed {
            Err(ConsumerError::Closed)
        } else {
            Ok(())
        }
    }
}

impl Drop for Consumer {
    /// Without `close`: no hooks and no final commit, but the fetch tasks stop and the
    /// membership task leaves the group (it sees its command channel close).
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.positions.stop_fetch_tasks();
    }
}
