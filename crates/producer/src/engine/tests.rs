//! Simulated-time tests of the whole [`ProducerCore`] against a scripted broker: one thread,
//! no sockets, no tokio; time moves only when a test moves it (as quinn-proto's `Pair`).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use kafka_protocol::messages::add_partitions_to_txn_response::{
    AddPartitionsToTxnPartitionResult, AddPartitionsToTxnTopicResult,
};
use kafka_protocol::messages::produce_response::{
    LeaderIdAndEpoch, NodeEndpoint, PartitionProduceResponse, TopicProduceResponse,
};
use kafka_protocol::messages::{
    AddPartitionsToTxnRequest, AddPartitionsToTxnResponse, BrokerId, EndTxnResponse,
    InitProducerIdResponse, ProduceResponse, ProducerId, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use rafka_client::metadata::{BrokerInfo, LeaderHint};
use rafka_wire::error_code::ErrorCode;

use super::*;
use crate::accumulator::PendingRecord;
use crate::config::ProducerConfigBuilder;
use crate::delivery::DeliveryFuture;

/// What the scripted broker does with the next produce request instead of writing it.
#[derive(Debug, Clone, Copy)]
enum Fault {
    /// Every partition of the request answers this code; nothing is written.
    Code(ErrorCode),
    /// The request never reaches the log and no answer comes (a lost connection).
    Lost,
    /// The batches are written but the answer is lost, so the producer resends them.
    AnswerLost,
    /// NOT_LEADER_OR_FOLLOWER naming the new leader (node, leader epoch) and its endpoint, as
    /// Produce v10+ does (KIP-951); nothing is written.
    NewLeader(i32, i32),
}

/// One partition's log and the idempotent producer state the broker keeps for it.
#[derive(Default)]
struct Log {
    values: Vec<Bytes>,
    /// (producer id, epoch, next sequence) of the last writer.
    producer: Option<(i64, i16, i32)>,
    /// (producer id, epoch, base sequence, record count) of the batches written, for
    /// Kafka's duplicate check (it keeps the last five).
    batches: VecDeque<(i64, i16, i32, i32)>,
}

/// A broker that writes batches, checks idempotent sequences as Kafka does, and answers
/// InitProducerId and the transaction requests.
#[derive(Default)]
struct Broker {
    logs: HashMap<(String, i32), Log>,
    faults: VecDeque<Fault>,
    next_producer_id: i64,
    epoch: i16,
}

impl Broker {
    fn log(&self, topic: &str, partition: i32) -> Vec<String> {
        self.logs
            .get(&(topic.to_string(), partition))
            .map(|l| {
                l.values
                    .iter()
                    .map(|v| String::from_utf8_lossy(v).into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn produce(
        &mut self,
        batches: &[ProducerBatch],
    ) -> Result<Option<ProduceResponse>, ProduceError> {
        let lost = || ProduceError::Client(rafka_client::Error::UnknownBroker { node_id: 0 });
        let fault = self.faults.pop_front();
        let mut topics: Vec<TopicProduceResponse> = Vec::new();
        for b in batches {
            let (code, base_offset) = match fault {
                Some(Fault::Code(c)) => (c, -1),
                Some(Fault::NewLeader(..)) => (ErrorCode::NOT_LEADER_OR_FOLLOWER, -1),
                Some(Fault::Lost) => return Err(lost()),
                _ => self.write(b),
            };
            let mut part = PartitionProduceResponse::default()
                .with_index(b.partition)
                .with_error_code(code.0)
                .with_base_offset(base_offset)
                .with_log_append_time_ms(-1);
            if let Some(Fault::NewLeader(node, epoch)) = fault {
                part = part.with_current_leader(
                    LeaderIdAndEpoch::default()
                        .with_leader_id(BrokerId(node))
                        .with_leader_epoch(epoch),
                );
            }
            match topics.iter_mut().find(|t| *t.name.0 == *b.topic) {
                Some(t) => t.partition_responses.push(part),
                None => topics.push(
                    TopicProduceResponse::default()
                        .with_name(TopicName(StrBytes::from_string(b.topic.to_string())))
                        .with_partition_responses(vec![part]),
                ),
            }
        }
        if matches!(fault, Some(Fault::AnswerLost)) {
            return Err(lost());
        }
        let mut response = ProduceResponse::default().with_responses(topics);
        if let Some(Fault::NewLeader(node, _)) = fault {
            response.node_endpoints = vec![NodeEndpoint::default()
                .with_node_id(BrokerId(node))
                .with_host(StrBytes::from_static_str("new-leader"))
                .with_port(9092)];
        }
        Ok(Some(response))
    }

    /// Kafka's sequence check (`ProducerAppendInfo`): one of the last five batches again is a
    /// duplicate; otherwise the next sequence is written and anything else is out of order;
    /// a new epoch of a known producer starts at 0; a producer the partition has no state
    /// for may start at any sequence.
    fn write(&mut self, b: &ProducerBatch) -> (ErrorCode, i64) {
        let log = self
            .logs
            .entry((b.topic.to_string(), b.partition))
            .or_default();
        if let Some(id) = b.identity {
            let key = (
                id.producer_id,
                id.producer_epoch,
                id.base_sequence,
                b.record_count(),
            );
            if log.batches.contains(&key) {
                return (ErrorCode::DUPLICATE_SEQUENCE_NUMBER, -1);
            }
            let expected = match log.producer {
                Some((pid, epoch, next)) if pid == id.producer_id && epoch == id.producer_epoch => {
                    Some(next)
                }
                Some((pid, _, _)) if pid == id.producer_id => Some(0),
                _ => None,
            };
            if expected.is_some_and(|e| id.base_sequence != e) {
                return (ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER, -1);
            }
            if log.batches.len() == 5 {
                log.batches.pop_front();
            }
            log.batches.push_back(key);
            log.producer = Some((
                id.producer_id,
                id.producer_epoch,
                id.base_sequence + b.record_count(),
            ));
        }
        let base = log.values.len() as i64;
        log.values.extend(
            b.records
                .iter()
                .map(|r| r.value.clone().unwrap_or_default()),
        );
        (ErrorCode::NONE, base)
    }

    fn init_producer_id(&mut self, current: i64) -> InitProducerIdResponse {
        if current < 0 {
            self.next_producer_id += 1;
            self.epoch = 0;
        } else {
            self.epoch += 1;
        }
        InitProducerIdResponse::default()
            .with_producer_id(ProducerId(self.next_producer_id))
            .with_producer_epoch(self.epoch)
    }
}

/// The core, the scripted broker, and the simulated clock between them.
struct Sim {
    core: ProducerCore,
    broker: Broker,
    now: Instant,
    /// Partitions whose leader is unknown.
    leaderless: Vec<(String, i32)>,
    /// Leader hints (KIP-951) the core passed on, with the endpoints that came with them.
    hints: Vec<(LeaderHint, Vec<BrokerInfo>)>,
    /// Times the core asked for the metadata to be invalidated.
    invalidations: usize,
    produce: VecDeque<(i32, Vec<ProducerBatch>)>,
    requests: VecDeque<(Target, Request)>,
    refreshes: usize,
    invalidated_coordinators: usize,
    txn_done: Vec<Result<(), ProduceError>>,
}

fn config() -> ProducerConfigBuilder {
    ProducerConfig::builder("sim:9092")
        .linger(Duration::from_millis(5))
        .batch_size(1000)
        .retry_backoff(Duration::from_millis(100), Duration::from_millis(1000))
        .delivery_timeout(Duration::from_secs(10))
        .request_timeout(Duration::from_secs(5))
}

impl Sim {
    fn new(cfg: ProducerConfigBuilder) -> Sim {
        Sim {
            core: ProducerCore::new(
                cfg.build().expect("valid config"),
                Arc::new(ProducerMetrics::default()),
            ),
            broker: Broker::default(),
            now: Instant::now(),
            leaderless: Vec::new(),
            hints: Vec::new(),
            invalidations: 0,
            produce: VecDeque::new(),
            requests: VecDeque::new(),
            refreshes: 0,
            invalidated_coordinators: 0,
            txn_done: Vec::new(),
        }
    }

    /// Runs the core at the current time and collects what it wants done.
    fn step(&mut self) {
        let leaderless = self.leaderless.clone();
        self.core.poll(self.now, |t, p| {
            (!leaderless.iter().any(|(lt, lp)| lt == t && *lp == p)).then_some(0)
        });
        while let Some(a) = self.core.poll_action() {
            match a {
                Action::Produce { node, batches } => self.produce.push_back((node, batches)),
                Action::Send { target, request } => self.requests.push_back((target, request)),
                Action::RefreshMetadata { .. } => self.refreshes += 1,
                Action::InvalidateMetadata => self.invalidations += 1,
                Action::LeaderHint { hint, endpoints } => self.hints.push((hint, endpoints)),
                Action::InvalidateCoordinator(_) => self.invalidated_coordinators += 1,
            }
        }
        while let Some(d) = self.core.poll_event() {
            d.batch.completion.complete(d.result);
        }
        self.txn_done
            .extend(std::iter::from_fn(|| self.core.poll_txn_done()));
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
        self.step();
    }

    /// Moves the clock to the core's next deadline.
    fn run_to_next_deadline(&mut self) {
        let at = self.core.poll_timeout().expect("a deadline");
        assert!(at >= self.now, "deadline in the past");
        self.now = at;
        self.step();
    }

    fn send(&mut self, topic: &str, partition: i32, value: &str) -> DeliveryFuture {
        self.core.check_send().expect("send allowed");
        let record = PendingRecord {
            timestamp: 1,
            key: None,
            value: Some(Bytes::from(value.to_string())),
            headers: Vec::new(),
        };
        let now = self.now;
        let a = self.core.append(topic, partition, record, 10, || now);
        self.step();
        DeliveryFuture::new(a.result.completion, a.result.index, 1)
    }

    /// The broker answers the oldest produce request.
    fn answer_produce(&mut self) {
        let (node, batches) = self.produce.pop_front().expect("a produce request");
        let result = self.broker.produce(&batches);
        self.core.handle_produce(node, batches, result, self.now);
        self.step();
    }

    /// The broker answers every produce request, and the ones that follow, until none is in
    /// flight; time moves to each retry.
    fn deliver_all(&mut self) {
        for _ in 0..100 {
            if let Some(r) = self.requests.pop_front() {
                self.answer_request(r);
            } else if !self.produce.is_empty() {
                self.answer_produce();
            } else if self.core.accumulator().incomplete_batches() > 0 {
                self.run_to_next_deadline();
            } else {
                return;
            }
        }
        panic!("not delivered after 100 steps");
    }

    /// The broker answers a request as a healthy coordinator does.
    fn answer_request(&mut self, (_, request): (Target, Request)) {
        let response = match request {
            Request::InitProducerId(r) => {
                Response::InitProducerId(Ok(self.broker.init_producer_id(r.producer_id.0)))
            }
            Request::AddPartitionsToTxn(r) => {
                Response::AddPartitionsToTxn(Ok(added(&r, ErrorCode::NONE)))
            }
            Request::EndTxn(_) => Response::EndTxn(Ok(EndTxnResponse::default())),
            Request::AddOffsetsToTxn(_) => Response::AddOffsetsToTxn(Ok(Default::default())),
            Request::TxnOffsetCommit(_) => Response::TxnOffsetCommit(Ok(Default::default())),
        };
        self.core.handle_response(response, self.now);
        self.step();
    }

    fn respond(&mut self, response: Response) {
        self.core.handle_response(response, self.now);
        self.step();
    }

    fn next_request(&mut self) -> (Target, Request) {
        self.requests.pop_front().expect("a request")
    }

    /// A transactional producer, initialized, in a transaction.
    fn transactional() -> Sim {
        let mut sim = Sim::new(config().transactional_id("tx-1"));
        sim.core.init_transactions(sim.now).unwrap();
        sim.step();
        let r = sim.next_request();
        assert!(matches!(
            r,
            (Target::TransactionCoordinator, Request::InitProducerId(_))
        ));
        sim.answer_request(r);
        assert!(matches!(sim.txn_done.pop(), Some(Ok(()))));
        sim.core.begin_transaction().unwrap();
        sim
    }
}

fn added(r: &AddPartitionsToTxnRequest, code: ErrorCode) -> AddPartitionsToTxnResponse {
    AddPartitionsToTxnResponse::default().with_results_by_topic_v3_and_below(
        r.v3_and_below_topics
            .iter()
            .map(|t| {
                AddPartitionsToTxnTopicResult::default()
                    .with_name(t.name.clone())
                    .with_results_by_partition(
                        t.partitions
                            .iter()
                            .map(|p| {
                                AddPartitionsToTxnPartitionResult::default()
                                    .with_partition_index(*p)
                                    .with_partition_error_code(code.0)
                            })
                            .collect(),
                    )
            })
            .collect(),
    )
}

fn offset(f: &DeliveryFuture) -> i64 {
    f.try_result()
        .expect("complete")
        .expect("acknowledged")
        .offset
}

fn error(f: &DeliveryFuture) -> ProduceError {
    f.try_result().expect("complete").expect_err("failed")
}

/// An idempotent producer with its producer id.
fn idempotent(cfg: ProducerConfigBuilder) -> Sim {
    let mut sim = Sim::new(cfg);
    let f = sim.send("t", 0, "warm-up");
    let r = sim.next_request();
    assert!(matches!(r, (Target::Any, Request::InitProducerId(_))));
    // A flush sends the warm-up record without waiting for linger.ms.
    let mark = sim.core.begin_flush();
    sim.answer_request(r);
    sim.answer_produce();
    assert!(sim.core.flushed(mark));
    sim.core.end_flush();
    assert_eq!(offset(&f), 0);
    sim
}

#[test]
fn linger_holds_a_batch_until_linger_ms_then_sends() {
    let mut sim = idempotent(config());
    let f = sim.send("t", 0, "a");
    assert!(sim.produce.is_empty(), "sent before linger.ms");
    assert_eq!(
        sim.core.poll_timeout(),
        Some(sim.now + Duration::from_millis(5))
    );
    sim.advance(Duration::from_millis(4));
    assert!(sim.produce.is_empty());
    sim.advance(Duration::from_millis(1));
    assert_eq!(sim.produce.len(), 1);
    sim.answer_produce();
    assert_eq!(offset(&f), 1);
}

#[test]
fn full_batch_is_sent_before_linger_and_the_next_record_opens_a_new_one() {
    let mut sim = idempotent(
        config()
            .linger(Duration::from_secs(60))
            .delivery_timeout(Duration::from_secs(120))
            .batch_size(200),
    );
    let value = "x".repeat(60);
    let f1 = sim.send("t", 0, &value);
    let f2 = sim.send("t", 0, &value);
    assert!(sim.produce.is_empty(), "two records fit in batch.size");
    let f3 = sim.send("t", 0, &value);
    // The third record opens a second batch: the first goes without waiting for linger.
    assert_eq!(sim.produce.len(), 1);
    assert_eq!(sim.produce[0].1[0].record_count(), 2);
    sim.answer_produce();
    assert_eq!((offset(&f1), offset(&f2)), (1, 2));
    assert!(f3.try_result().is_none(), "the open batch still lingers");
}

#[test]
fn retries_keep_order_after_a_retriable_error_on_the_oldest_batch() {
    let mut sim = idempotent(config().max_in_flight(5));
    let mut futures = Vec::new();
    for i in 0..3 {
        futures.push(sim.send("t", 0, &format!("r{i}")));
        sim.advance(Duration::from_millis(5));
    }
    assert_eq!(sim.produce.len(), 3, "three batches in flight");
    // The leader refuses the first; the broker then sees the later two out of order.
    sim.broker
        .faults
        .push_back(Fault::Code(ErrorCode::NOT_LEADER_OR_FOLLOWER));
    sim.answer_produce();
    sim.answer_produce();
    sim.answer_produce();
    assert!(futures.iter().all(|f| f.try_result().is_none()));
    sim.deliver_all();
    assert_eq!(sim.broker.log("t", 0), ["warm-up", "r0", "r1", "r2"]);
    assert_eq!(
        futures.iter().map(offset).collect::<Vec<_>>(),
        [1, 2, 3],
        "each record written once, in order"
    );
}

#[test]
fn first_batch_refused_after_the_second_was_written_is_resent_under_a_new_epoch() {
    let mut sim = idempotent(config().max_in_flight(5));
    // Partition 1 has no state for this producer: the leader takes any first sequence.
    let first = sim.send("t", 1, "r0");
    sim.advance(Duration::from_millis(5));
    let second = sim.send("t", 1, "r1");
    sim.advance(Duration::from_millis(5));
    assert_eq!(sim.produce.len(), 2, "two batches in flight");
    // A broker not yet leading refuses the first; the second arrives once it leads.
    sim.broker
        .faults
        .push_back(Fault::Code(ErrorCode::NOT_LEADER_OR_FOLLOWER));
    sim.answer_produce();
    sim.answer_produce();
    assert_eq!(offset(&second), 0);
    // The first batch's resend with sequence 0 is out of order for good: the producer
    // bumps its epoch (KIP-360) and resends it from sequence 0 of the new epoch.
    sim.deliver_all();
    assert_eq!(sim.broker.log("t", 1), ["r1", "r0"]);
    assert_eq!(offset(&first), 1);
    let (_, epoch, next) = sim.broker.logs[&("t".to_string(), 1)].producer.unwrap();
    assert_eq!((epoch, next), (1, 1));
}

#[test]
fn new_leader_named_by_the_error_is_used_at_once_and_once_per_epoch() {
    let mut sim = idempotent(config());
    let f = sim.send("t", 0, "r0");
    sim.advance(Duration::from_millis(5));
    let invalidations = sim.invalidations;
    sim.broker.faults.push_back(Fault::NewLeader(2, 7));
    sim.answer_produce();
    // KIP-951: the hint goes to the metadata cache and the batch is resent without waiting
    // out retry.backoff.ms (the clock has not moved) or a metadata refresh.
    assert_eq!(sim.invalidations, invalidations, "no metadata round trip");
    let (hint, endpoints) = sim.hints.last().expect("a leader hint");
    assert_eq!(
        (
            hint.topic.as_str(),
            hint.partition,
            hint.leader_id,
            hint.leader_epoch
        ),
        ("t", 0, 2, 7)
    );
    assert_eq!(endpoints[0].addr(), "new-leader:9092");
    assert_eq!(sim.produce.len(), 1, "resent at once");
    // The same epoch again says nothing new: metadata is invalidated and the retry backs off.
    sim.broker.faults.push_back(Fault::NewLeader(2, 7));
    sim.answer_produce();
    assert_eq!(sim.invalidations, invalidations + 1);
    assert!(sim.produce.is_empty(), "this retry waits for its backoff");
    sim.deliver_all();
    assert_eq!(offset(&f), 1);
    assert_eq!(sim.broker.log("t", 0), ["warm-up", "r0"]);
}

#[test]
fn lost_answer_is_resent_and_deduplicated_by_sequence() {
    let mut sim = idempotent(config());
    let f = sim.send("t", 0, "once");
    sim.advance(Duration::from_millis(5));
    sim.broker.faults.push_back(Fault::AnswerLost);
    sim.answer_produce();
    assert!(f.try_result().is_none(), "a lost answer is retried");
    sim.deliver_all();
    assert_eq!(sim.broker.log("t", 0), ["warm-up", "once"]);
    // DUPLICATE_SEQUENCE_NUMBER acknowledges without an offset.
    assert_eq!(offset(&f), -1);
}

#[test]
fn out_of_order_sequence_on_the_oldest_batch_bumps_the_epoch_and_resends() {
    let mut sim = idempotent(config());
    let f = sim.send("t", 0, "after-loss");
    sim.advance(Duration::from_millis(5));
    // The broker lost our sequence state: the batch it should accept next is out of order.
    sim.broker
        .faults
        .push_back(Fault::Code(ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER));
    sim.answer_produce();
    // KIP-360: InitProducerId with the current id and epoch, before anything is resent.
    let (target, request) = sim.next_request();
    let Request::InitProducerId(r) = &request else {
        panic!("expected InitProducerId, got {request:?}");
    };
    assert_eq!(
        (target, r.producer_id.0, r.producer_epoch),
        (Target::Any, 1, 0)
    );
    assert!(sim.produce.is_empty(), "nothing is sent before the bump");
    sim.answer_request((Target::Any, request));
    sim.deliver_all();
    assert_eq!(sim.broker.log("t", 0), ["warm-up", "after-loss"]);
    assert_eq!(offset(&f), 1);
    let batch_epoch = sim.broker.logs[&("t".to_string(), 0)].producer.unwrap();
    assert_eq!(
        batch_epoch,
        (1, 1, 1),
        "re-sent under epoch 1 from sequence 0"
    );
}

#[test]
fn retries_run_out_with_the_brokers_error() {
    let mut sim = idempotent(config().retries(1));
    let f = sim.send("t", 0, "doomed");
    sim.advance(Duration::from_millis(5));
    for _ in 0..2 {
        sim.broker
            .faults
            .push_back(Fault::Code(ErrorCode::NOT_ENOUGH_REPLICAS));
    }
    sim.answer_produce();
    sim.run_to_next_deadline();
    sim.answer_produce();
    assert!(matches!(
        error(&f),
        ProduceError::Broker {
            code: ErrorCode::NOT_ENOUGH_REPLICAS,
            ..
        }
    ));
}

#[test]
fn delivery_timeout_fails_a_batch_whose_leader_stays_unknown() {
    let mut sim = idempotent(config());
    sim.leaderless.push(("t".into(), 1));
    let f = sim.send("t", 1, "stuck");
    assert!(sim.refreshes > 0, "an unknown leader asks for metadata");
    sim.advance(Duration::from_millis(9_999));
    assert!(f.try_result().is_none());
    sim.advance(Duration::from_millis(1));
    assert!(matches!(
        error(&f),
        ProduceError::DeliveryTimeout {
            partition: 1,
            timeout_ms: 10_000,
            ..
        }
    ));
}

#[test]
fn lost_requests_are_retried_until_delivery_timeout() {
    let mut sim = idempotent(config());
    let f = sim.send("t", 0, "never");
    sim.advance(Duration::from_millis(5));
    for _ in 0..100 {
        if f.try_result().is_some() {
            break;
        }
        sim.broker.faults.push_back(Fault::Lost);
        if sim.produce.is_empty() {
            sim.run_to_next_deadline();
        } else {
            sim.answer_produce();
        }
    }
    assert!(matches!(error(&f), ProduceError::DeliveryTimeout { .. }));
    assert!(sim.broker.log("t", 0) == ["warm-up"]);
}

#[test]
fn fenced_producer_moves_the_lifecycle_to_fatal() {
    let mut sim = idempotent(config().batch_size(50).max_in_flight(1));
    let sent = sim.send("t", 0, &"a".repeat(30));
    let queued = sim.send("t", 0, &"b".repeat(30));
    assert_eq!(sim.produce.len(), 1);
    sim.broker
        .faults
        .push_back(Fault::Code(ErrorCode::PRODUCER_FENCED));
    sim.answer_produce();
    assert!(matches!(sim.core.lifecycle(), Lifecycle::Fatal(_)));
    assert!(matches!(error(&sent), ProduceError::Fenced(_)));
    assert!(matches!(error(&queued), ProduceError::Fenced(_)));
    assert!(matches!(
        sim.core.check_send(),
        Err(ProduceError::Fenced(ErrorCode::PRODUCER_FENCED))
    ));
    sim.core.close();
    assert!(sim.core.poll_finished());
}

#[test]
fn close_sends_lingering_batches_at_once_and_finishes_when_delivered() {
    let mut sim = idempotent(
        config()
            .linger(Duration::from_secs(60))
            .delivery_timeout(Duration::from_secs(120)),
    );
    let f = sim.send("t", 0, "last");
    sim.core.close();
    assert!(sim.core.check_send().is_err());
    sim.step();
    assert_eq!(sim.produce.len(), 1, "closing does not wait for linger.ms");
    assert!(!sim.core.poll_finished(), "a request is in flight");
    sim.answer_produce();
    assert_eq!(offset(&f), 1);
    assert!(sim.core.poll_finished());
}

#[test]
fn close_hard_fails_queued_and_hands_back_in_flight_batches() {
    let mut sim = idempotent(config().batch_size(50).max_in_flight(1));
    let in_flight = sim.send("t", 0, &"a".repeat(30));
    let queued = sim.send("t", 0, &"b".repeat(30));
    sim.core.close();
    let completions = sim.core.close_hard();
    sim.step();
    assert_eq!(completions.len(), 1);
    assert!(matches!(error(&queued), ProduceError::Closed));
    for c in completions {
        c.complete(Err(ProduceError::Closed));
    }
    assert!(matches!(error(&in_flight), ProduceError::Closed));
    assert!(!sim.core.poll_finished(), "waits for the request in flight");
    sim.answer_produce();
    assert!(sim.core.poll_finished());
}

#[test]
fn transaction_adds_partitions_before_producing_then_commits() {
    let mut sim = Sim::transactional();
    assert_eq!(sim.core.txn_state(), Some("InTransaction"));
    let f = sim.send("t", 0, "in-txn");
    sim.advance(Duration::from_millis(5));
    assert!(sim.produce.is_empty(), "held until the partition is added");
    let r = sim.next_request();
    assert!(matches!(r.1, Request::AddPartitionsToTxn(_)));
    sim.answer_request(r);
    assert_eq!(sim.produce.len(), 1);
    sim.core.commit_transaction().unwrap();
    sim.step();
    assert!(sim.requests.is_empty(), "EndTxn waits for the flush");
    sim.answer_produce();
    assert_eq!(offset(&f), 0);
    let (_, request) = sim.next_request();
    let Request::EndTxn(end) = &request else {
        panic!("expected EndTxn, got {request:?}");
    };
    assert!(end.committed);
    sim.answer_request((Target::TransactionCoordinator, request));
    assert!(matches!(sim.txn_done.pop(), Some(Ok(()))));
    assert_eq!(sim.core.txn_state(), Some("Ready"));
}

#[test]
fn produce_answers_are_handled_while_add_partitions_is_in_flight() {
    let mut sim = Sim::transactional();
    let first = sim.send("t", 0, "p0");
    let r = sim.next_request();
    sim.answer_request(r);
    sim.advance(Duration::from_millis(5));
    assert_eq!(sim.produce.len(), 1);
    // A second partition: its AddPartitionsToTxn goes out and stays unanswered ...
    let second = sim.send("t", 1, "p1");
    let pending = sim.next_request();
    assert!(matches!(pending.1, Request::AddPartitionsToTxn(_)));
    // ... while the first partition's produce answer is handled.
    sim.answer_produce();
    assert_eq!(offset(&first), 0);
    assert!(second.try_result().is_none());
    sim.answer_request(pending);
    sim.deliver_all();
    assert_eq!(offset(&second), 0);
}

#[test]
fn transaction_abort_fails_unsent_records_and_ends_with_abort() {
    let mut sim = Sim::transactional();
    let f = sim.send("t", 0, "not-sent");
    let r = sim.next_request();
    sim.answer_request(r);
    // Still lingering when the abort comes.
    sim.core.abort_transaction().unwrap();
    sim.step();
    assert!(matches!(error(&f), ProduceError::Aborted));
    let (_, request) = sim.next_request();
    let Request::EndTxn(end) = &request else {
        panic!("expected EndTxn, got {request:?}");
    };
    assert!(!end.committed);
    sim.answer_request((Target::TransactionCoordinator, request));
    assert!(matches!(sim.txn_done.pop(), Some(Ok(()))));
    assert_eq!(sim.core.txn_state(), Some("Ready"));
    sim.core.begin_transaction().unwrap();
}

#[test]
fn failed_record_makes_the_transaction_abortable_and_commit_refuses() {
    let mut sim = Sim::transactional();
    let f = sim.send("t", 0, "bad");
    let r = sim.next_request();
    sim.answer_request(r);
    sim.advance(Duration::from_millis(5));
    sim.broker
        .faults
        .push_back(Fault::Code(ErrorCode::MESSAGE_TOO_LARGE));
    sim.answer_produce();
    assert!(matches!(error(&f), ProduceError::Broker { .. }));
    assert_eq!(sim.core.txn_state(), Some("Abortable"));
    assert!(matches!(
        sim.core.commit_transaction(),
        Err(ProduceError::Transaction(TransactionError::MustAbort(_)))
    ));
    assert!(sim.core.check_send().is_err());
    // The failed batch left a sequence gap: the abort bumps the epoch instead of EndTxn.
    sim.core.abort_transaction().unwrap();
    sim.step();
    let (_, request) = sim.next_request();
    assert!(matches!(request, Request::InitProducerId(ref r) if r.producer_epoch == 0));
    sim.answer_request((Target::TransactionCoordinator, request));
    assert!(matches!(sim.txn_done.pop(), Some(Ok(()))));
    assert_eq!(sim.core.txn_state(), Some("Ready"));
}

#[test]
fn coordinator_retries_wait_for_a_deadline_not_a_sleep() {
    let mut sim = Sim::transactional();
    sim.core.commit_transaction().unwrap();
    sim.step();
    // Nothing was added: the commit ends without EndTxn.
    assert!(matches!(sim.txn_done.pop(), Some(Ok(()))));
    sim.core.begin_transaction().unwrap();
    drop(sim.send("t", 0, "x"));
    let r = sim.next_request();
    sim.answer_request(r);
    sim.deliver_all();
    sim.core.commit_transaction().unwrap();
    sim.step();
    let first = sim.next_request();
    assert!(matches!(first.1, Request::EndTxn(_)));
    // The coordinator moved: look it up again, and ask again after retry.backoff.ms.
    sim.respond(Response::EndTxn(Ok(
        EndTxnResponse::default().with_error_code(ErrorCode::NOT_COORDINATOR.0)
    )));
    assert_eq!(sim.invalidated_coordinators, 1);
    assert!(sim.requests.is_empty());
    assert_eq!(
        sim.core.poll_timeout(),
        Some(sim.now + Duration::from_millis(100))
    );
    sim.advance(Duration::from_millis(99));
    assert!(sim.requests.is_empty());
    sim.advance(Duration::from_millis(1));
    let again = sim.next_request();
    assert!(matches!(again.1, Request::EndTxn(_)));
    sim.answer_request(again);
    assert!(matches!(sim.txn_done.pop(), Some(Ok(()))));
}

#[test]
fn fenced_end_txn_makes_the_transaction_fatal() {
    let mut sim = Sim::transactional();
    drop(sim.send("t", 0, "x"));
    let r = sim.next_request();
    sim.answer_request(r);
    sim.deliver_all();
    sim.core.commit_transaction().unwrap();
    sim.step();
    let _ = sim.next_request();
    sim.respond(Response::EndTxn(Ok(
        EndTxnResponse::default().with_error_code(ErrorCode::PRODUCER_FENCED.0)
    )));
    assert!(matches!(
        sim.txn_done.pop(),
        Some(Err(ProduceError::Fenced(ErrorCode::PRODUCER_FENCED)))
    ));
    assert_eq!(sim.core.txn_state(), Some("Fatal"));
    assert!(matches!(
        sim.core.check_send(),
        Err(ProduceError::Transaction(TransactionError::Fatal(_)))
    ));
}

#[test]
fn send_offsets_adds_offsets_then_commits_them_to_the_group() {
    let mut sim = Sim::transactional();
    let tp = rafka_wire::TopicPartition {
        topic: "in".into(),
        partition: 0,
    };
    sim.core
        .send_offsets_to_transaction(
            vec![(tp, 42, None)],
            ConsumerGroupMetadata::new("g"),
            sim.now,
        )
        .unwrap();
    sim.step();
    let add = sim.next_request();
    assert!(matches!(
        add,
        (Target::TransactionCoordinator, Request::AddOffsetsToTxn(_))
    ));
    sim.answer_request(add);
    let commit = sim.next_request();
    assert!(matches!(&commit, (Target::Group(g), Request::TxnOffsetCommit(_)) if g == "g"));
    sim.answer_request(commit);
    assert!(matches!(sim.txn_done.pop(), Some(Ok(()))));
    // The coordinator knows the transaction now: commit ends it with EndTxn.
    sim.core.commit_transaction().unwrap();
    sim.step();
    assert!(matches!(sim.next_request().1, Request::EndTxn(_)));
}
