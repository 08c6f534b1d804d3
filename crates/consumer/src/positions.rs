//! Positions and leaders: which broker leads each assigned partition (metadata), one fetch
//! task per leader broker, and a position for every assigned partition — the committed offset
//! (OffsetFetch, or the external store), else `auto.offset.reset` through ListOffsets.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Instant;

use rafka_client::{Client, CoordinatorKind, SendOptions, Target};
use rafka_wire::TopicPartition;
use tokio::task::JoinHandle;

use crate::commit::{
    offset_fetch_max_version, offset_fetch_request, offset_fetch_retriable, read_offset_fetch,
};
use crate::config::ConsumerConfig;
use crate::error::ConsumerError;
use crate::list_offsets::{list_offsets_request, read_list_offsets, ListedOffset};
use crate::shared::Shared;
use crate::subscription::ResetTarget;

/// Leader tracking, fetch tasks and position initialisation of one consumer.
#[derive(Debug)]
pub(crate) struct Positions {
    client: Client,
    config: Arc<ConsumerConfig>,
    shared: Arc<Shared>,
    fetch_tasks: HashMap<i32, JoinHandle<()>>,
    next_metadata_refresh: Instant,
}

impl Positions {
    pub fn new(client: Client, config: Arc<ConsumerConfig>, shared: Arc<Shared>) -> Self {
        Positions {
            client,
            config,
            shared,
            fetch_tasks: HashMap::new(),
            next_metadata_refresh: Instant::now(),
        }
    }

    /// Stops every fetch task (close, drop).
    pub fn stop_fetch_tasks(&mut self) {
        for (_, task) in self.fetch_tasks.drain() {
            task.abort();
        }
    }

    /// Looks up leaders of assigned partitions when some are unknown or a fetch reported a
    /// leadership change, and starts fetch tasks for new leader brokers. Failed lookups are
    /// tried again on a later call, except SASL and TLS failures, which are returned (Java's
    /// `poll` throws its AuthenticationException instead of waiting).
    pub async fn update_leaders(&mut self) -> Result<(), ConsumerError> {
        let (missing, refresh, topics) = {
            let mut st = self.shared.lock();
            let assigned = st.subs.assignment();
            st.leaders.retain(|tp, _| assigned.contains(tp));
            let missing = assigned.iter().any(|tp| !st.leaders.contains_key(tp));
            let refresh = std::mem::take(&mut st.refresh_metadata);
            let topics: BTreeSet<String> = assigned.into_iter().map(|tp| tp.topic).collect();
            (missing, refresh, topics)
        };
        if !missing && !refresh {
            return Ok(());
        }
        let now = Instant::now();
        if now < self.next_metadata_refresh {
            if refresh {
                self.shared.lock().refresh_metadata = true;
            }
            return Ok(());
        }
        self.next_metadata_refresh = now + self.config.client.retry_backoff;
        if refresh {
            self.client.invalidate_metadata();
        }
        let names: Vec<&str> = topics.iter().map(String::as_str).collect();
        let cluster = match self.client.metadata_for(&names).await {
            Ok(c) => c,
            Err(e @ (rafka_client::Error::Sasl { .. } | rafka_client::Error::Tls { .. })) => {
                return Err(ConsumerError::Client(e));
            }
            Err(e) => {
                tracing::debug!(error = %e, "metadata refresh failed");
                return Ok(());
            }
        };
        let mut brokers = BTreeSet::new();
        {
            let mut st = self.shared.lock();
            let st = &mut *st;
            for tp in st.subs.assignment() {
                match cluster.leader_for(&tp.topic, tp.partition) {
                    Ok(leader) => {
                        brokers.insert(leader);
                        st.leaders.insert(tp, leader);
                    }
                    Err(_) => {
                        st.leaders.remove(&tp);
                    }
                }
            }
        }
        for broker in brokers {
            let alive = self
                .fetch_tasks
                .get(&broker)
                .is_some_and(|t| !t.is_finished());
            if !alive {
                let task = tokio::spawn(crate::fetch_task::run(
                    broker,
                    self.client.clone(),
                    self.shared.clone(),
                ));
                self.fetch_tasks.insert(broker, task);
            }
        }
        self.shared.fetch_wanted.notify_waiters();
        Ok(())
    }

    /// Gives every partition without a position one: committed offset (Kafka or store),
    /// else the reset policy through ListOffsets.
    pub async fn init_positions(&mut self) -> Result<(), ConsumerError> {
        let awaiting = self.shared.lock().subs.awaiting_committed();
        if !awaiting.is_empty() {
            let committed = self.load_committed(&awaiting, false).await?;
            let mut st = self.shared.lock();
            for tp in &awaiting {
                st.subs.apply_committed(
                    tp,
                    committed.get(tp).copied(),
                    self.config.auto_offset_reset,
                );
            }
        }
        let resets = self.shared.lock().subs.awaiting_reset();
        if !resets.is_empty() {
            self.reset_positions(resets).await?;
        }
        let st = self.shared.lock();
        let without = st.subs.without_position();
        if !without.is_empty() {
            return Err(ConsumerError::NoOffsetForPartition {
                partitions: without,
            });
        }
        let out_of_range = st.subs.out_of_range();
        if !out_of_range.is_empty() {
            return Err(ConsumerError::OffsetOutOfRange {
                offsets: out_of_range,
            });
        }
        Ok(())
    }

    /// Committed positions from Kafka (OffsetFetch) or the external store. `explicit` is
    /// true for the public `committed` call, which needs a group id for Kafka.
    pub async fn load_committed(
        &mut self,
        partitions: &[TopicPartition],
        explicit: bool,
    ) -> Result<HashMap<TopicPartition, i64>, ConsumerError> {
        let store = self.config.offset_store.clone();
        let group = self.config.group_id.clone();
        if !store.is_kafka() {
            let loaded = store
                .load(group.as_deref().unwrap_or(""), partitions)
                .await?;
            return Ok(loaded);
        }
        let Some(group) = group else {
            if explicit {
                return Err(ConsumerError::NoGroupId {
                    operation: "committed",
                });
            }
            return Ok(HashMap::new());
        };
        let client = self.client.clone();
        let request_stable =
            self.config.isolation_level == crate::config::IsolationLevel::ReadCommitted;
        let options = SendOptions {
            max_version: offset_fetch_max_version(self.config.group_protocol),
            ..SendOptions::default()
        };
        let shared = self.shared.clone();
        let deadline =
            tokio::time::Instant::now().into_std() + self.config.client.default_api_timeout;
        // STALE_MEMBER_EPOCH is retried while the member has an epoch (Java's
        // `CommitRequestManager`); each attempt carries the member's latest one.
        let retriable = |e: &rafka_client::Error| match e {
            rafka_client::Error::Broker { code, .. } => {
                let epoch = shared.lock().fetch_member.as_ref().map(|m| m.member_epoch);
                offset_fetch_retriable(*code, epoch)
            }
            other => other.is_retriable(),
        };
        let result = client
            .with_retries_if("OffsetFetch", deadline, retriable, || {
                let client = client.clone();
                let group = group.clone();
                let member = self.shared.lock().fetch_member.clone();
                async move {
                    let resp = client
                        .send_with(
                            Target::GroupCoordinator(group.clone()),
                            options,
                            |version| {
                                offset_fetch_request(
                                    &group,
                                    partitions,
                                    request_stable,
                                    member.as_ref(),
                                    version,
                                )
                            },
                        )
                        .await?;
                    read_offset_fetch(&resp).map_err(|e| coordinator_error(&client, &group, e))
                }
            })
            .await
            .map_err(ConsumerError::Client)?;
        Ok(result.into_iter().map(|(tp, c)| (tp, c.offset)).collect())
    }

    async fn reset_positions(
        &mut self,
        resets: Vec<(TopicPartition, ResetTarget)>,
    ) -> Result<(), ConsumerError> {
        // Group by leader: ListOffsets must go to each partition's leader.
        let mut by_leader: BTreeMap<i32, Vec<(TopicPartition, ResetTarget)>> = BTreeMap::new();
        {
            let st = self.shared.lock();
            for (tp, target) in resets {
                if let Some(leader) = st.leaders.get(&tp) {
                    by_leader.entry(*leader).or_default().push((tp, target));
                }
            }
        }
        for (leader, parts) in by_leader {
            let asked: Vec<(TopicPartition, i64)> = parts
                .iter()
                .map(|(tp, t)| (tp.clone(), t.list_offsets_timestamp()))
                .collect();
            let req = list_offsets_request(&asked, self.config.isolation_level);
            let resp = match self.client.send(Target::Broker(leader), req).await {
                Ok(r) => r,
                Err(e) => {
                    tracing::debug!(leader, error = %e, "ListOffsets failed; retrying later");
                    if e.invalidates_metadata() {
                        self.shared.lock().refresh_metadata = true;
                    }
                    continue;
                }
            };
            let listed = match read_list_offsets(&resp) {
                Ok(l) => l,
                Err(e) if e.is_retriable() => {
                    tracing::debug!(leader, error = %e, "ListOffsets error; retrying later");
                    self.shared.lock().refresh_metadata = true;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let mut st = self.shared.lock();
            for (tp, target) in &parts {
                match listed.get(tp) {
                    Some(ListedOffset::Offset(o)) => {
                        tracing::debug!(partition = %tp, ?target, offset = o, "position reset");
                        st.subs.apply_reset(tp, *target, *o);
                        st.fetcher.buffer.discard(tp);
                    }
                    // No record at or after the timestamp: go to the end (Java's seek after
                    // offsetsForTimes returning null is up to the caller; the end is what
                    // librdkafka does).
                    Some(ListedOffset::NotFound) => {
                        st.subs.request_reset(tp, ResetTarget::Latest);
                    }
                    None => {}
                }
            }
        }
        self.shared.fetch_wanted.notify_waiters();
        Ok(())
    }
}

/// Converts a consumer-level coordinator error into a client error so `with_retries` retries
/// retriable ones, invalidating the cached coordinator when it moved.
fn coordinator_error(client: &Client, group: &str, e: ConsumerError) -> rafka_client::Error {
    if let ConsumerError::Broker { api, error, .. } = &e {
        if error.code == rafka_wire::error_code::ErrorCode::NOT_COORDINATOR
            || error.code == rafka_wire::error_code::ErrorCode::COORDINATOR_NOT_AVAILABLE
        {
            client.invalidate_coordinator(CoordinatorKind::Group, group);
        }
        return rafka_client::Error::broker(error.code, error.message.clone(), api);
    }
    rafka_client::Error::broker(
        rafka_wire::error_code::ErrorCode::UNKNOWN_SERVER_ERROR,
        Some(e.to_string()),
        "OffsetFetch",
    )
}
