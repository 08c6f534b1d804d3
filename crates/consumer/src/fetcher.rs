//! The fetch pipeline's logic: what to ask each broker for, and what to do with its answer.
//! Sans-IO: the tokio task in `fetch_task` only sends what [`Fetcher::next_request`]
//! builds and feeds back responses, failures and `now`.
//!
//! One Fetch per broker is in flight at a time. Prefetching: a partition's fetch offset moves
//! ahead as soon as its records are buffered, so the next Fetch goes out while the
//! application is still processing; it stops while the buffer holds more than
//! `max_buffered_bytes` (the application is slow) and resumes as `poll` drains it.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic, ForgottenTopic};
use kafka_protocol::messages::{BrokerId, FetchRequest, FetchResponse, TopicName};
use kafka_protocol::protocol::StrBytes;
use rafka_wire::error_code::{BrokerError, ErrorCode};
use rafka_wire::TopicPartition;

use crate::config::{AutoOffsetReset, ConsumerConfig, IsolationLevel};
use crate::error::ConsumerError;
use crate::events::{ConsumerEvent, EventQueue};
use crate::fetch_buffer::{BufferedFetch, FetchBuffer};
use crate::fetch_decode::{decode_partition, AbortedTxn, DecodedPartition};
use crate::fetch_session::{FetchSession, WantedPartition};
use crate::subscription::{ResetTarget, SubscriptionState};

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
        if self.buffer.bytes() >= self.settings.max_buffered_bytes {
            return None;
        }
        self.partition_backoff.retain(|_, until| *until > now);
        let wanted: Vec<(TopicPartition, i64, u64)> = subs
            .fetchable()
            .into_iter()
            .filter(|(tp, _, _)| leader(tp) == Some(broker))
            .filter(|(tp, _, _)| !self.partition_backoff.contains_key(tp))
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

    /// Handles broker `broker`'s answer to the request [`Fetcher::next_request`] built: the
    /// three steps below in one call (used by tests; the fetch task runs the decode step
    /// without holding the consumer's lock).
    pub fn handle_response(
        &mut self,
        broker: i32,
        response: FetchResponse,
        subs: &mut SubscriptionState,
        now: Instant,
    ) -> FetchOutcome {
        let Some(asked) = self.take_in_flight(broker) else {
            return FetchOutcome::default();
        };
        let decoded = decode_response(&asked, response);
        self.apply_response(broker, decoded, subs, now)
    }

    /// Step 1: takes the bookkeeping of the request in flight to `broker` (what was asked, at
    /// which offsets and seek epochs).
    pub fn take_in_flight(&mut self, broker: i32) -> Option<AskedFetch> {
        let asked = self.brokers.get_mut(&broker)?.in_flight.take()?;
        Some(AskedFetch {
            partitions: asked,
            isolation: self.settings.isolation,
        })
    }

    /// Step 3: applies a decoded response to the positions and the buffer.
    pub fn apply_response(
        &mut self,
        broker: i32,
        response: DecodedResponse,
        subs: &mut SubscriptionState,
        now: Instant,
    ) -> FetchOutcome {
        let mut outcome = FetchOutcome::default();
        let backoff = self.settings.retry_backoff;
        let Some(state) = self.brokers.get_mut(&broker) else {
            return outcome;
        };
        let top = response.error;
        if !state.session.handle_response(top, response.session_id) {
            tracing::debug!(
                broker,
                error = top.name(),
                "fetch session error; next fetch is full"
            );
            if top != ErrorCode::FETCH_SESSION_ID_NOT_FOUND
                && top != ErrorCode::INVALID_FETCH_SESSION_EPOCH
            {
                state.backoff_until = Some(now + backoff);
            }
            return outcome;
        }
        for partition in response.partitions {
            self.apply_partition(partition, subs, now, &mut outcome);
        }
        outcome
    }

    fn apply_partition(
        &mut self,
        p: FetchedPartition,
        subs: &mut SubscriptionState,
        now: Instant,
        outcome: &mut FetchOutcome,
    ) {
        let FetchedPartition {
            tp,
            seek_epoch: epoch,
            fetch_offset,
            error: code,
            high_watermark,
            last_stable_offset,
            log_start_offset,
            decoded,
            bytes,
        } = p;
        let Some(state) = subs.get_mut(&tp) else {
            return;
        };
        if state.seek_epoch != epoch || state.fetch_offset != fetch_offset {
            return; // seeked, reset or paused meanwhile: this data is stale
        }
        if code == ErrorCode::OFFSET_OUT_OF_RANGE {
            match ResetTarget::from_policy(self.settings.auto_offset_reset) {
                Some(target) => {
                    tracing::info!(partition = %tp, fetch_offset, ?target, "fetch offset out of range, resetting");
                    subs.request_reset(&tp, target);
                    outcome.resets_requested = true;
                }
                None => subs.set_out_of_range(&tp, fetch_offset),
            }
            self.buffer.discard(&tp);
            return;
        }
        if !code.is_ok() {
            self.partition_backoff
                .insert(tp.clone(), now + self.settings.retry_backoff);
            if is_leadership_error(code) {
                tracing::debug!(partition = %tp, error = code.name(), "fetch: refreshing metadata");
                outcome.refresh_metadata = true;
            } else {
                self.errors.push_back(ConsumerError::Broker {
                    api: "Fetch",
                    partition: Some(tp),
                    error: BrokerError {
                        code,
                        message: None,
                    },
                });
            }
            return;
        }
        if high_watermark >= 0 {
            state.high_watermark = Some(high_watermark);
        }
        if last_stable_offset >= 0 {
            state.last_stable_offset = Some(last_stable_offset);
        }
        if log_start_offset >= 0 {
            state.log_start_offset = Some(log_start_offset);
        }
        if let (Some(max_lag), Some(hw)) = (self.settings.max_lag, state.high_watermark) {
            if hw - state.position > max_lag {
                let target = hw - max_lag;
                tracing::warn!(
                    partition = %tp, position = state.position, high_watermark = hw, max_lag,
                    "consumer fell behind: skipping to high watermark - max_lag"
                );
                self.events.push(ConsumerEvent::SkippedAhead {
                    partition: tp.clone(),
                    from: state.position,
                    to: target,
                    high_watermark: hw,
                });
                subs.seek(&tp, target);
                self.buffer.discard(&tp);
                return;
            }
        }
        let Some(mut decoded) = decoded else {
            return;
        };
        if let Some(error) = decoded.error.take() {
            if decoded.records.is_empty() {
                self.errors.push_back(ConsumerError::CorruptRecords {
                    partition: tp.clone(),
                    offset: fetch_offset,
                    source: error,
                });
                self.partition_backoff
                    .insert(tp, now + self.settings.retry_backoff);
                return;
            }
        }
        if decoded.next_fetch_offset <= fetch_offset {
            return;
        }
        state.fetch_offset = decoded.next_fetch_offset;
        self.buffer.push(BufferedFetch::new(
            tp,
            epoch,
            decoded.records,
            decoded.next_fetch_offset,
            bytes,
        ));
        // News even without records: the position moves past filtered batches.
        outcome.new_records = true;
    }
}

/// What was asked in the request in flight to one broker (step 1 of handling its answer).
#[derive(Debug)]
pub struct AskedFetch {
    partitions: HashMap<TopicPartition, (u64, i64)>,
    isolation: IsolationLevel,
}

/// One partition of a decoded response.
#[derive(Debug)]
pub struct FetchedPartition {
    tp: TopicPartition,
    seek_epoch: u64,
    fetch_offset: i64,
    error: ErrorCode,
    high_watermark: i64,
    last_stable_offset: i64,
    log_start_offset: i64,
    decoded: Option<DecodedPartition>,
    bytes: usize,
}

/// A Fetch response with its records decoded (step 2), ready to apply.
#[derive(Debug)]
pub struct DecodedResponse {
    error: ErrorCode,
    session_id: i32,
    partitions: Vec<FetchedPartition>,
}

/// Step 2: decodes the records of every asked partition. Needs no consumer state, so the
/// fetch task runs it without holding the lock `poll` needs.
pub fn decode_response(asked: &AskedFetch, response: FetchResponse) -> DecodedResponse {
    let mut partitions = Vec::new();
    if response.error_code == 0 {
        for topic in response.responses {
            let name = topic.topic.0.to_string();
            let shared: Arc<str> = Arc::from(name.as_str());
            for data in topic.partitions {
                let tp = TopicPartition::new(name.clone(), data.partition_index);
                let Some(&(seek_epoch, fetch_offset)) = asked.partitions.get(&tp) else {
                    continue; // not asked in this request (paused or revoked since)
                };
                let error = ErrorCode(data.error_code);
                let bytes = data.records.as_ref().map_or(0, |r| r.len());
                let decoded = match (error.is_ok(), data.records) {
                    (true, Some(records)) => {
                        let aborted: Vec<AbortedTxn> = data
                            .aborted_transactions
                            .unwrap_or_default()
                            .iter()
                            .map(|a| AbortedTxn {
                                first_offset: a.first_offset,
                                producer_id: a.producer_id.0,
                            })
                            .collect();
                        let mut d = decode_partition(
                            &shared,
                            tp.partition,
                            records,
                            fetch_offset,
                            asked.isolation,
                            &aborted,
                        );
                        if asked.isolation == IsolationLevel::ReadCommitted {
                            // The broker should stop at the last stable offset; enforce it
                            // here too so that a broker that does not cannot leak open
                            // transactions.
                            let lso = data.last_stable_offset;
                            if lso >= fetch_offset {
                                d.records.retain(|r| r.offset < lso);
                                d.next_fetch_offset = d.next_fetch_offset.min(lso);
                            }
                        }
                        Some(d)
                    }
                    _ => None,
                };
                partitions.push(FetchedPartition {
                    tp,
                    seek_epoch,
                    fetch_offset,
                    error,
                    high_watermark: data.high_watermark,
                    last_stable_offset: data.last_stable_offset,
                    log_start_offset: data.log_start_offset,
                    decoded,
                    bytes,
                });
            }
        }
    }
    DecodedResponse {
        error: ErrorCode(response.error_code),
        session_id: response.session_id,
        partitions,
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
mod tests {
    use bytes::{Bytes, BytesMut};
    use kafka_protocol::messages::fetch_response::{
        AbortedTransaction, FetchableTopicResponse, PartitionData,
    };
    use kafka_protocol::messages::ProducerId;
    use rafka_wire::records::{encode_batch, BatchMeta, ControlRecord, RecordRef};

    use super::*;

    fn settings() -> FetchSettings {
        FetchSettings::from_config(&ConsumerConfig::default())
    }

    fn tp(p: i32) -> TopicPartition {
        TopicPartition::new("t", p)
    }

    /// One batch at `base` with `values`, as the broker would store it.
    fn batch(out: &mut BytesMut, base: i64, values: &[&str], meta: BatchMeta) {
        let records: Vec<RecordRef> = values
            .iter()
            .map(|v| RecordRef {
                timestamp: 1_000 + base,
                key: None,
                value: Some(v.as_bytes()),
                headers: &[],
            })
            .collect();
        encode_batch(
            &BatchMeta {
                base_offset: base,
                ..meta
            },
            &records,
            out,
        )
        .unwrap();
    }

    fn control(out: &mut BytesMut, base: i64, producer_id: i64, marker: ControlRecord) {
        let key = marker.key_bytes();
        let value = marker.value_bytes().unwrap();
        let meta = BatchMeta {
            base_offset: base,
            producer_id,
            producer_epoch: 0,
            is_transactional: true,
            is_control: true,
            ..BatchMeta::default()
        };
        let rec = RecordRef {
            timestamp: 0,
            key: Some(&key),
            value: Some(&value),
            headers: &[],
        };
        encode_batch(&meta, &[rec], out).unwrap();
    }

    type Part = (i32, ErrorCode, i64, Option<Bytes>, Vec<AbortedTransaction>);

    fn response(parts: Vec<Part>, session_id: i32) -> FetchResponse {
        FetchResponse::default()
            .with_session_id(session_id)
            .with_responses(vec![FetchableTopicResponse::default()
                .with_topic(topic_name("t"))
                .with_partitions(
                    parts
                        .into_iter()
                        .map(|(p, code, hw, records, aborted)| {
                            PartitionData::default()
                                .with_partition_index(p)
                                .with_error_code(code.0)
                                .with_high_watermark(hw)
                                .with_last_stable_offset(hw)
                                .with_records(records)
                                .with_aborted_transactions(Some(aborted))
                        })
                        .collect(),
                )])
    }

    fn ready_subs(parts: &[(i32, i64)]) -> SubscriptionState {
        let mut s = SubscriptionState::new();
        s.assign(parts.iter().map(|(p, _)| tp(*p)));
        for (p, o) in parts {
            s.seek(&tp(*p), *o);
        }
        s
    }

    const ALL_ON_1: &dyn Fn(&TopicPartition) -> Option<i32> = &|_| Some(1);

    fn values(out: &[crate::ConsumerRecord]) -> Vec<String> {
        out.iter()
            .map(|r| String::from_utf8(r.value.clone().unwrap().to_vec()).unwrap())
            .collect()
    }

    #[test]
    fn prefetches_and_returns_records_in_order() {
        let now = Instant::now();
        let mut f = Fetcher::new(settings());
        let mut subs = ready_subs(&[(0, 0), (1, 5)]);
        let req = f.next_request(1, &subs, ALL_ON_1, true, now).unwrap();
        assert_eq!(req.topics[0].partitions.len(), 2);
        assert_eq!(req.topics[0].partitions[1].fetch_offset, 5);
        assert_eq!((req.session_id, req.session_epoch), (0, 0));
        assert!(
            f.next_request(1, &subs, ALL_ON_1, true, now).is_none(),
            "one in flight"
        );

        let mut b = BytesMut::new();
        batch(&mut b, 0, &["a", "b", "c"], BatchMeta::default());
        let out = f.handle_response(
            1,
            response(vec![(0, ErrorCode::NONE, 3, Some(b.freeze()), vec![])], 42),
            &mut subs,
            now,
        );
        assert!(out.new_records);
        // Prefetching: partition 0 already asks from 3 while nothing was polled yet.
        let p0 = subs.get(&tp(0)).unwrap();
        assert_eq!((p0.position, p0.fetch_offset), (0, 3));
        let req = f.next_request(1, &subs, ALL_ON_1, true, now).unwrap();
        assert_eq!((req.session_id, req.session_epoch), (42, 1));
        // Incremental: only the partition whose offset moved.
        assert_eq!(req.topics[0].partitions.len(), 1);
        assert_eq!(req.topics[0].partitions[0].fetch_offset, 3);

        let mut records = Vec::new();
        f.buffer.drain(&mut subs, 500, true, &mut records);
        assert_eq!(values(&records), ["a", "b", "c"]);
        assert_eq!(records[2].offset, 2);
        assert_eq!(subs.position(&tp(0)), Some(3));
        assert_eq!(subs.lag(&tp(0), IsolationLevel::ReadUncommitted), Some(0));
    }

    #[test]
    fn data_fetched_before_a_seek_is_dropped() {
        let now = Instant::now();
        let mut f = Fetcher::new(settings());
        let mut subs = ready_subs(&[(0, 0)]);
        f.next_request(1, &subs, ALL_ON_1, false, now).unwrap();
        subs.seek(&tp(0), 100);
        let mut b = BytesMut::new();
        batch(&mut b, 0, &["old"], BatchMeta::default());
        let out = f.handle_response(
            1,
            response(vec![(0, ErrorCode::NONE, 1, Some(b.freeze()), vec![])], 0),
            &mut subs,
            now,
        );
        assert!(!out.new_records);
        assert!(f.buffer.is_empty());
        assert_eq!(subs.get(&tp(0)).unwrap().fetch_offset, 100);
    }

    #[test]
    fn records_before_the_fetch_offset_are_skipped() {
        let now = Instant::now();
        let mut f = Fetcher::new(settings());
        let mut subs = ready_subs(&[(0, 2)]);
        f.next_request(1, &subs, ALL_ON_1, false, now).unwrap();
        let mut b = BytesMut::new();
        batch(&mut b, 0, &["a", "b", "c", "d"], BatchMeta::default());
        f.handle_response(
            1,
            response(vec![(0, ErrorCode::NONE, 4, Some(b.freeze()), vec![])], 0),
            &mut subs,
            now,
        );
        let mut records = Vec::new();
        f.buffer.drain(&mut subs, 500, true, &mut records);
        assert_eq!(values(&records), ["c", "d"]);
    }

    #[test]
    fn out_of_range_follows_the_reset_policy() {
        let now = Instant::now();
        let mut f = Fetcher::new(settings()); // latest
        let mut subs = ready_subs(&[(0, 50)]);
        f.next_request(1, &subs, ALL_ON_1, false, now).unwrap();
        let out = f.handle_response(
            1,
            response(
                vec![(0, ErrorCode::OFFSET_OUT_OF_RANGE, 10, None, vec![])],
                0,
            ),
            &mut subs,
            now,
        );
        assert!(out.resets_requested);
        assert_eq!(subs.awaiting_reset(), [(tp(0), ResetTarget::Latest)]);

        let mut s = settings();
        s.auto_offset_reset = AutoOffsetReset::None;
        let mut f = Fetcher::new(s);
        let mut subs = ready_subs(&[(0, 50)]);
        f.next_request(1, &subs, ALL_ON_1, false, now).unwrap();
        f.handle_response(
            1,
            response(
                vec![(0, ErrorCode::OFFSET_OUT_OF_RANGE, 10, None, vec![])],
                0,
            ),
            &mut subs,
            now,
        );
        assert_eq!(subs.out_of_range(), [(tp(0), 50)]);
        assert!(
            subs.fetchable().is_empty(),
            "stopped until the application seeks"
        );
    }

    #[test]
    fn leadership_errors_back_off_the_partition_and_ask_for_metadata() {
        let now = Instant::now();
        let mut f = Fetcher::new(settings());
        let mut subs = ready_subs(&[(0, 0), (1, 0)]);
        f.next_request(1, &subs, ALL_ON_1, false, now).unwrap();
        let out = f.handle_response(
            1,
            response(
                vec![(0, ErrorCode::NOT_LEADER_OR_FOLLOWER, -1, None, vec![])],
                0,
            ),
            &mut subs,
            now,
        );
        assert!(out.refresh_metadata);
        let req = f.next_request(1, &subs, ALL_ON_1, false, now).unwrap();
        let parts: Vec<i32> = req.topics[0]
            .partitions
            .iter()
            .map(|p| p.partition)
            .collect();
        assert_eq!(parts, [1], "partition 0 backs off");
        f.handle_failure(1, now);
        assert!(
            f.next_request(1, &subs, ALL_ON_1, false, now).is_none(),
            "broker backs off"
        );
        let later = now + Duration::from_secs(1);
        let req = f.next_request(1, &subs, ALL_ON_1, false, later).unwrap();
        assert_eq!(req.topics[0].partitions.len(), 2);
        assert!(f.errors.is_empty());
    }

    #[test]
    fn prefetch_stops_when_the_buffer_is_full() {
        let now = Instant::now();
        let mut s = settings();
        s.max_buffered_bytes = 10;
        let mut f = Fetcher::new(s);
        let mut subs = ready_subs(&[(0, 0)]);
        f.next_request(1, &subs, ALL_ON_1, false, now).unwrap();
        let mut b = BytesMut::new();
        batch(&mut b, 0, &["a", "b"], BatchMeta::default());
        f.handle_response(
            1,
            response(vec![(0, ErrorCode::NONE, 2, Some(b.freeze()), vec![])], 0),
            &mut subs,
            now,
        );
        assert!(f.buffer.bytes() > 10);
        assert!(f.next_request(1, &subs, ALL_ON_1, false, now).is_none());
        let mut records = Vec::new();
        f.buffer.drain(&mut subs, 500, true, &mut records);
        assert!(f.next_request(1, &subs, ALL_ON_1, false, now).is_some());
    }

    #[test]
    fn max_lag_skips_ahead() {
        let now = Instant::now();
        let mut s = settings();
        s.max_lag = Some(10);
        let mut f = Fetcher::new(s);
        let mut subs = ready_subs(&[(0, 0)]);
        f.next_request(1, &subs, ALL_ON_1, false, now).unwrap();
        let mut b = BytesMut::new();
        batch(&mut b, 0, &["a"], BatchMeta::default());
        f.handle_response(
            1,
            response(vec![(0, ErrorCode::NONE, 100, Some(b.freeze()), vec![])], 0),
            &mut subs,
            now,
        );
        assert_eq!(subs.position(&tp(0)), Some(90));
        assert!(f.buffer.is_empty());
        let mut events = Vec::new();
        f.events.drain_into(&mut events);
        assert!(
            matches!(
                &events[..],
                [ConsumerEvent::SkippedAhead {
                    from: 0,
                    to: 90,
                    high_watermark: 100,
                    ..
                }]
            ),
            "{events:?}"
        );
    }

    fn txn(pid: i64) -> BatchMeta {
        BatchMeta {
            producer_id: pid,
            producer_epoch: 0,
            base_sequence: 0,
            is_transactional: true,
            ..BatchMeta::default()
        }
    }

    #[test]
    fn read_committed_drops_aborted_transactions_and_markers() {
        let now = Instant::now();
        // offsets: 0-1 txn pid 7 (aborted), 2 plain, 3-4 txn pid 8 (committed),
        // 5 abort marker pid 7, 6 commit marker pid 8, 7 plain
        let mut b = BytesMut::new();
        batch(&mut b, 0, &["aborted1", "aborted2"], txn(7));
        batch(&mut b, 2, &["plain"], BatchMeta::default());
        batch(&mut b, 3, &["committed1", "committed2"], txn(8));
        control(
            &mut b,
            5,
            7,
            ControlRecord::Abort {
                coordinator_epoch: 0,
            },
        );
        control(
            &mut b,
            6,
            8,
            ControlRecord::Commit {
                coordinator_epoch: 0,
            },
        );
        batch(&mut b, 7, &["after"], BatchMeta::default());
        let blob = b.freeze();
        let aborted = vec![AbortedTransaction::default()
            .with_producer_id(ProducerId(7))
            .with_first_offset(0)];

        for (isolation, expected) in [
            (
                IsolationLevel::ReadCommitted,
                vec!["plain", "committed1", "committed2", "after"],
            ),
            (
                IsolationLevel::ReadUncommitted,
                vec![
                    "aborted1",
                    "aborted2",
                    "plain",
                    "committed1",
                    "committed2",
                    "after",
                ],
            ),
        ] {
            let mut s = settings();
            s.isolation = isolation;
            let mut f = Fetcher::new(s);
            let mut subs = ready_subs(&[(0, 0)]);
            let req = f.next_request(1, &subs, ALL_ON_1, false, now).unwrap();
            assert_eq!(req.isolation_level, isolation.as_i8());
            f.handle_response(
                1,
                response(
                    vec![(0, ErrorCode::NONE, 8, Some(blob.clone()), aborted.clone())],
                    0,
                ),
                &mut subs,
                now,
            );
            let mut records = Vec::new();
            f.buffer.drain(&mut subs, 500, true, &mut records);
            assert_eq!(values(&records), expected, "{isolation:?}");
            assert_eq!(subs.position(&tp(0)), Some(8));
        }
    }

    #[test]
    fn corrupt_records_are_reported() {
        let now = Instant::now();
        let mut f = Fetcher::new(settings());
        let mut subs = ready_subs(&[(0, 0)]);
        f.next_request(1, &subs, ALL_ON_1, false, now).unwrap();
        let mut b = BytesMut::new();
        batch(&mut b, 0, &["a"], BatchMeta::default());
        let mut bytes = b.to_vec();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff; // breaks the CRC
        f.handle_response(
            1,
            response(
                vec![(0, ErrorCode::NONE, 1, Some(Bytes::from(bytes)), vec![])],
                0,
            ),
            &mut subs,
            now,
        );
        assert!(matches!(
            f.errors.make_contiguous(),
            [ConsumerError::CorruptRecords { offset: 0, .. }]
        ));
    }
}
