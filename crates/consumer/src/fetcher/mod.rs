//! The fetch pipeline's logic: what to ask each broker for, and what to do with its answer.
//! Sans-IO: the tokio task in `fetch_task` only sends what [`Fetcher::next_request`]
//! builds and feeds back responses, failures and `now`.
//!
//! One Fetch per broker is in flight at a time. A response is handled in two steps
//! (`response.rs`): [`Fetcher::apply_response`] reads errors, watermarks and the batch
//! headers, and moves each partition's fetch offset past its last complete batch, so the
//! next Fetch can go out at once; [`decode`] then parses the records (without the lock
//! `poll` needs) while that Fetch is in flight, and [`Fetcher::apply_decoded`] buffers them.
//!
//! Prefetching: a partition's fetch offset moves ahead as soon as its records are received,
//! so the next Fetch goes out while the application is still processing; it stops while the
//! buffer holds more than `max_buffered_bytes` (the application is slow) and resumes as
//! `poll` drains it.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic, ForgottenTopic};
use kafka_protocol::messages::{BrokerId, FetchRequest, TopicName};
use kafka_protocol::protocol::StrBytes;
use rafka_wire::error_code::ErrorCode;
use rafka_wire::TopicPartition;

use crate::config::{AutoOffsetReset, ConsumerConfig, IsolationLevel};
use crate::error::ConsumerError;
use crate::events::EventQueue;
use crate::fetch_buffer::FetchBuffer;
use crate::fetch_session::{FetchSession, WantedPartition};
use crate::subscription::SubscriptionState;

mod response;

pub use response::{decode, DecodedFetch, UndecodedFetch};

/// The fetch settings of [`ConsumerConfig`] the pipeline needs.
#[derive(Debug, Clone)]
pub struct FetchSettings {
    /// `fetch.min.bytes`.
    pub min_bytes: i32,
    /// `fetch.max.wait.ms`.
    pub max_wait: Duration,
    /// `fetch.max.bytes`.
    pub max_bytes: i32,
    /// `max.partition.fetch.bytes`.
    pub partition_max_bytes: i32,
    /// `isolation.level`.
    pub isolation: IsolationLevel,
    /// `client.rack`.
    pub rack: String,
    /// Prefetch bound, bytes.
    pub max_buffered_bytes: usize,
    /// `auto.offset.reset`, applied on OFFSET_OUT_OF_RANGE.
    pub auto_offset_reset: AutoOffsetReset,
    /// Catch-up policy: skip ahead when lag exceeds this.
    pub max_lag: Option<i64>,
    /// Wait after a failed Fetch or a partition error (`retry.backoff.ms`).
    pub retry_backoff: Duration,
}

impl FetchSettings {
    /// Takes the fetch settings out of a consumer config.
    pub fn from_config(c: &ConsumerConfig) -> Self {
        FetchSettings {
            min_bytes: c.fetch_min_bytes,
            max_wait: c.fetch_max_wait,
            max_bytes: c.fetch_max_bytes,
            partition_max_bytes: c.max_partition_fetch_bytes,
            isolation: c.isolation_level,
            rack: c.client_rack.clone(),
            max_buffered_bytes: c.max_buffered_bytes,
            auto_offset_reset: c.auto_offset_reset,
            max_lag: c.max_lag,
            retry_backoff: c.client.retry_backoff,
        }
    }
}

#[derive(Debug)]
struct BrokerState {
    session: FetchSession,
    /// Partitions of the request in flight, with the seek epoch and offset they were asked at.
    in_flight: Option<HashMap<TopicPartition, (u64, i64)>>,
    backoff_until: Option<Instant>,
}

/// What a handled response asks of the I/O layer.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FetchOutcome {
    /// Leadership moved or a topic vanished: refresh metadata before fetching those again.
    pub refresh_metadata: bool,
    /// Records were buffered: wake a waiting `poll`.
    pub new_records: bool,
    /// Partitions now wait for a ListOffsets lookup (out-of-range reset).
    pub resets_requested: bool,
}

/// Fetch state shared by every broker's pipeline.
#[derive(Debug)]
pub struct Fetcher {
    settings: FetchSettings,
    brokers: HashMap<i32, BrokerState>,
    partition_backoff: HashMap<TopicPartition, Instant>,
    /// Partitions whose received records are not decoded yet, with the broker that sent
    /// them: no other broker's Fetch may ask for them until they are buffered (order).
    decoding: HashMap<TopicPartition, i32>,
    /// Bytes of the responses not decoded yet (counted against `max_buffered_bytes`).
    decoding_bytes: usize,
    /// Fetched records waiting for `poll`.
    pub buffer: FetchBuffer,
    /// Errors to return from the next `poll`s, oldest first.
    pub errors: VecDeque<ConsumerError>,
    /// Events for `Consumer::drain_events` (partitions skipped ahead by `max_lag`).
    pub events: EventQueue,
}

impl Fetcher {
    /// A fetcher with no broker state yet.
    pub fn new(settings: FetchSettings) -> Self {
        Fetcher {
            settings,
            brokers: HashMap::new(),
            partition_backoff: HashMap::new(),
            decoding: HashMap::new(),
            decoding_bytes: 0,
            buffer: FetchBuffer::new(),
            errors: VecDeque::new(),
            events: EventQueue::default(),
        }
    }

    /// The settings in use.
    pub fn settings(&self) -> &FetchSettings {
        &self.settings
    }

    fn broker(&mut self, id: i32, sessions: bool) -> &mut BrokerState {
        self.brokers.entry(id).or_insert_with(|| BrokerState {
            session: FetchSession::new(sessions),
            in_flight: None,
            backoff_until: None,
        })
    }

    /// True when broker `id` has a Fetch in flight.
    pub fn in_flight(&self, id: i32) -> bool {
        self.brokers.get(&id).is_some_and(|b| b.in_flight.is_some())
    }

    /// The earliest time a backed-off broker or partition may be fetched again.
    pub fn next_deadline(&self) -> Option<Instant> {
        let b = self.brokers.values().filter_map(|b| b.backoff_until);
        let p = self.partition_backoff.values().copied();
        b.chain(p).min()
    }

    /// Builds the next Fetch for broker `broker`, or `None` when there is nothing to do now
    /// (a request is in flight, it is backing off, the buffer is full, or no partition it
    /// leads is fetchable). `leader` maps a partition to its leader's broker id; `sessions`
    /// says whether the negotiated Fetch version has sessions (v7+).
    pub fn next_request(
        &mut self,
        broker: i32,
        subs: &SubscriptionState,
        leader: &dyn Fn(&TopicPartition) -> Option<i32>,
        sessions: bool,
        now: Instant,
    ) -> Option<FetchRequest> {
        if self.buffer.bytes() + self.decoding_bytes >= self.settings.max_buffered_bytes {
            return None;
        }
        self.partition_backoff.retain(|_, until| *until > now);
        let wanted: Vec<(TopicPartition, i64, u64)> = subs
            .fetchable()
            .into_iter()
            .filter(|(tp, _, _)| leader(tp) == Some(broker))
            .filter(|(tp, _, _)| !self.partition_backoff.contains_key(tp))
            .filter(|(tp, _, _)| self.decoding.get(tp).is_none_or(|b| *b == broker))
            .collect();
        let settings = self.settings.clone();
        let state = self.broker(broker, sessions);
        state.session.set_enabled(sessions);
        if state.in_flight.is_some() || state.backoff_until.is_some_and(|t| t > now) {
            return None;
        }
        state.backoff_until = None;
        if wanted.is_empty() {
            return None;
        }
        let wanted_session: Vec<WantedPartition> = wanted
            .iter()
            .map(|(tp, offset, _)| WantedPartition {
                tp: tp.clone(),
                fetch_offset: *offset,
                max_bytes: settings.partition_max_bytes,
            })
            .collect();
        let plan = state.session.build(&wanted_session);
        state.in_flight = Some(
            wanted
                .into_iter()
                .map(|(tp, offset, epoch)| (tp, (epoch, offset)))
                .collect(),
        );

        let mut topics: Vec<FetchTopic> = Vec::new();
        for w in &plan.partitions {
            let partition = FetchPartition::default()
                .with_partition(w.tp.partition)
                .with_fetch_offset(w.fetch_offset)
                .with_partition_max_bytes(w.max_bytes)
                .with_log_start_offset(-1)
                .with_current_leader_epoch(-1);
            match topics.last_mut() {
                Some(t) if t.topic.0.as_str() == w.tp.topic => t.partitions.push(partition),
                _ => topics.push(
                    FetchTopic::default()
                        .with_topic(topic_name(&w.tp.topic))
                        .with_partitions(vec![partition]),
                ),
            }
        }
        let mut forgotten: Vec<ForgottenTopic> = Vec::new();
        for tp in &plan.forgotten {
            match forgotten.last_mut() {
                Some(t) if t.topic.0.as_str() == tp.topic => t.partitions.push(tp.partition),
                _ => forgotten.push(
                    ForgottenTopic::default()
                        .with_topic(topic_name(&tp.topic))
                        .with_partitions(vec![tp.partition]),
                ),
            }
        }
        let mut request = FetchRequest::default()
            .with_replica_id(BrokerId(-1))
            .with_max_wait_ms(settings.max_wait.as_millis().min(i32::MAX as u128) as i32)
            .with_min_bytes(settings.min_bytes)
            .with_max_bytes(settings.max_bytes)
            .with_isolation_level(settings.isolation.as_i8())
            .with_topics(topics);
        if sessions {
            request = request
                .with_session_id(plan.session_id)
                .with_session_epoch(plan.session_epoch)
                .with_forgotten_topics_data(forgotten)
                .with_rack_id(StrBytes::from_string(settings.rack.clone()));
        }
        Some(request)
    }

    /// The Fetch to `broker` failed (connection, timeout): back off and re-open its session.
    pub fn handle_failure(&mut self, broker: i32, now: Instant) {
        let backoff = self.settings.retry_backoff;
        if let Some(state) = self.brokers.get_mut(&broker) {
            state.in_flight = None;
            state.session.handle_error();
            state.backoff_until = Some(now + backoff);
        }
    }

    /// Forgets a broker (it left the cluster metadata).
    pub fn remove_broker(&mut self, broker: i32) {
        self.brokers.remove(&broker);
    }
}

fn topic_name(topic: &str) -> TopicName {
    TopicName(StrBytes::from_string(topic.to_string()))
}

/// Errors after which the partition's leader must be looked up again (Java's
/// `Fetcher.handleInitializeErrors` cases that request a metadata update).
fn is_leadership_error(code: ErrorCode) -> bool {
    [
        ErrorCode::NOT_LEADER_OR_FOLLOWER,
        ErrorCode::REPLICA_NOT_AVAILABLE,
        ErrorCode::KAFKA_STORAGE_ERROR,
        ErrorCode::FENCED_LEADER_EPOCH,
        ErrorCode::OFFSET_NOT_AVAILABLE,
        ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
        ErrorCode::UNKNOWN_TOPIC_ID,
        ErrorCode::INCONSISTENT_TOPIC_ID,
        ErrorCode::LEADER_NOT_AVAILABLE,
        ErrorCode::UNKNOWN_LEADER_EPOCH,
    ]
    .contains(&code)
}

#[cfg(test)]
mod tests;
