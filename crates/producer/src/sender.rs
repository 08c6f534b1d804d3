//! The sender task: drives the sans-IO accumulator with tokio.
//!
//! One loop owns every decision: it expires batches, asks the accumulator which brokers have
//! sendable batches, drains one ProduceRequest per broker (up to
//! `max.in.flight.requests.per.connection` per broker), and handles every response. Each
//! broker has a small task that writes its requests in drain order on one pipelined
//! connection and hands the responses back, so re-sent idempotent batches reach the broker in
//! sequence order.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::stream::FuturesUnordered;
use futures::StreamExt;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{
    InitProducerIdRequest, ProduceRequest, ProduceResponse, ProducerId, TopicName, TransactionalId,
};
use kafka_protocol::protocol::StrBytes;
use rafka_client::{Error as ClientError, Purpose, SendOptions, Target};
use rafka_wire::error_code::ErrorCode;
use rafka_wire::records::{BatchMeta, Compression};
use tokio::sync::mpsc;

use crate::accumulator::{ProducerBatch, Route};
use crate::config::{Acks, CompressionType};
use crate::delivery::BatchAck;
use crate::error::ProduceError;
use crate::idempotence::{ErrorAction, ProducerIdAndEpoch};
use crate::producer::Shared;

/// One produce request on its way to a broker.
struct Job {
    batches: Vec<ProducerBatch>,
}

/// A request's outcome, back from a broker task.
struct Done {
    node: i32,
    batches: Vec<ProducerBatch>,
    /// Err: (retriable, description).
    result: Result<Option<ProduceResponse>, (bool, String)>,
    latency: Duration,
}

pub(crate) fn wire_compression(c: CompressionType) -> Compression {
    match c {
        CompressionType::None => Compression::None,
        CompressionType::Gzip => Compression::Gzip,
        CompressionType::Snappy => Compression::Snappy,
        CompressionType::Lz4 => Compression::Lz4,
        CompressionType::Zstd => Compression::Zstd,
    }
}

/// The partition's route from the client's cached metadata (and, in a transaction, whether
/// the partition was added to it).
pub(crate) fn route_of(
    shared: &Shared,
    cluster: &rafka_client::Cluster,
    topic: &str,
    p: i32,
) -> Route {
    if let Some(txn) = &shared.txn {
        if !txn.is_added(topic, p) {
            return Route::Hold;
        }
    }
    match cluster
        .topics
        .get(topic)
        .and_then(|t| t.partitions.get(&p))
        .and_then(|pi| pi.leader)
    {
        Some(n) if n >= 0 => Route::Leader(n),
        _ => Route::Unknown,
    }
}

pub(crate) async fn run(shared: Arc<Shared>) {
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Done>();
    let mut brokers: HashMap<i32, mpsc::UnboundedSender<Job>> = HashMap::new();
    let mut node_in_flight: HashMap<i32, usize> = HashMap::new();
    let mut refreshing = false;
    let (refresh_tx, mut refresh_rx) = mpsc::unbounded_channel::<()>();
    let max_in_flight = shared.cfg.max_in_flight;
    let mut seen_cluster: Option<Arc<rafka_client::Cluster>> = None;

    loop {
        let now = Instant::now();
        // Idempotence: a producer id before the first send; an epoch bump (KIP-360) once
        // nothing is in flight. Transactional producers get theirs from init_transactions.
        if shared.txn.is_none() {
            let need = {
                let acc = shared.lock_acc();
                acc.sequences.as_ref().is_some_and(|s| {
                    (s.producer_id().is_none() || s.bump_needed())
                        && acc.in_flight_batches() == 0
                        && (acc.queued_batches() > 0 || s.producer_id().is_none())
                })
            };
            if need && !shared.is_closing_hard() {
                if let Err(e) = init_producer_id(&shared).await {
                    // A coordinator still loading or moving is routine on a fresh or changing
                    // cluster: only an error that retrying cannot cure is worth a warning.
                    if e.is_retriable() {
                        tracing::debug!(error = %e, "InitProducerId failed; will retry");
                    } else {
                        tracing::warn!(error = %e, "InitProducerId failed; will retry");
                    }
                    tokio::time::sleep(shared.cfg.retry_backoff).await;
                    continue;
                }
            }
        }

        if shared.txn.is_some() {
            if let Err(e) = shared.add_pending_partitions().await {
                tracing::warn!(error = %e, "AddPartitionsToTxn failed; the transaction must be aborted");
            }
        }
        let cluster = shared.client.cached_metadata();
        // New metadata (from anyone's refresh) may change partition counts and leaders.
        if !seen_cluster
            .as_ref()
            .is_some_and(|c| Arc::ptr_eq(c, &cluster))
        {
            shared.update_topic_cache(&cluster);
            seen_cluster = Some(cluster.clone());
        }
        let stale = cluster.is_older_than(shared.cfg.metadata_max_age, now);
        let (expired, ready) = {
            let mut acc = shared.lock_acc();
            let expired = acc.expire(now);
            let ready = acc.ready(now, |t, p| route_of(&shared, &cluster, t, p));
            (expired, ready)
        };
        for b in expired {
            let err = ProduceError::DeliveryTimeout {
                topic: b.topic.clone(),
                partition: b.partition,
                timeout_ms: shared.cfg.delivery_timeout.as_millis() as u64,
            };
            shared.finish_batch(b, Err(err), false);
        }
        if (stale || !ready.unknown_leader_topics.is_empty()) && !refreshing {
            refreshing = true;
            let s = shared.clone();
            let tx = refresh_tx.clone();
            let topics: Vec<String> = ready
                .unknown_leader_topics
                .iter()
                .map(|t| t.to_string())
                .collect();
            tokio::spawn(async move {
                // metadata.max.age.ms passed or a leader is unknown: refresh.
                let refs: Vec<&str> = topics.iter().map(String::as_str).collect();
                let refreshed = if refs.is_empty() {
                    s.client.refresh_metadata().await
                } else {
                    s.client.invalidate_metadata();
                    s.client.metadata_for(&refs).await
                };
                if let Ok(c) = refreshed {
                    s.update_topic_cache(&c);
                }
                // Do not spin on a topic whose leader stays unknown.
                tokio::time::sleep(s.cfg.retry_backoff).await;
                let _ = tx.send(());
            });
        }
        for node in ready.nodes {
            let slots = node_in_flight.entry(node).or_insert(0);
            while *slots < max_in_flight {
                let batches = {
                    let mut acc = shared.lock_acc();
                    acc.drain(node, shared.cfg.max_request_size, Instant::now(), |t, p| {
                        route_of(&shared, &cluster, t, p)
                    })
                };
                if batches.is_empty() {
                    break;
                }
                shared.note_in_flight(&batches);
                *slots += 1;
                let tx = brokers.entry(node).or_insert_with(|| {
                    let (tx, rx) = mpsc::unbounded_channel();
                    tokio::spawn(broker_task(shared.clone(), node, rx, done_tx.clone()));
                    tx
                });
                if let Err(mpsc::error::SendError(job)) = tx.send(Job { batches }) {
                    // The broker task is gone (cannot happen while we hold done_tx); retry.
                    let mut acc = shared.lock_acc();
                    for b in job.batches {
                        acc.reenqueue(b, Instant::now());
                    }
                }
            }
        }

        let idle = node_in_flight.values().all(|n| *n == 0);
        if shared.is_shutdown() && idle {
            let acc = shared.lock_acc();
            if acc.queued_batches() == 0 || shared.is_closing_hard() {
                drop(acc);
                shared.fail_queued(ProduceError::Closed);
                break;
            }
        }

        let deadline = ready
            .next_deadline
            .unwrap_or(now + Duration::from_millis(500))
            .max(now + Duration::from_micros(100));
        tokio::select! {
            biased;
            Some(d) = done_rx.recv() => {
                if let Some(n) = node_in_flight.get_mut(&d.node) {
                    *n = n.saturating_sub(1);
                }
                handle_done(&shared, d);
                while let Ok(d) = done_rx.try_recv() {
                    if let Some(n) = node_in_flight.get_mut(&d.node) {
                        *n = n.saturating_sub(1);
                    }
                    handle_done(&shared, d);
                }
            }
            Some(()) = refresh_rx.recv() => { refreshing = false; }
            _ = shared.wake.notified() => {}
            _ = tokio::time::sleep_until(deadline.into()) => {}
        }
    }
    shared.sender_done.notify_waiters();
}

/// Writes one broker's requests in order on its produce connection.
async fn broker_task(
    shared: Arc<Shared>,
    node: i32,
    mut jobs: mpsc::UnboundedReceiver<Job>,
    done: mpsc::UnboundedSender<Done>,
) {
    let mut pending = FuturesUnordered::new();
    loop {
        tokio::select! {
            job = jobs.recv() => {
                let Some(mut job) = job else { break };
                let started = Instant::now();
                let req = match build_request(&shared, &mut job.batches) {
                    Ok(r) => r,
                    Err(e) => {
                        let result = Err((false, format!("cannot encode batch: {e}")));
                        let _ = done.send(Done { node, batches: job.batches, result, latency: Duration::ZERO });
                        continue;
                    }
                };
                // Taken before the next job is read, so requests are written in drain order.
                let conn = shared.client.connection(node, Purpose::Produce).await;
                let acks = shared.cfg.acks;
                let timeout = shared.cfg.request_timeout;
                pending.push(async move {
                    let result: Result<_, ClientError> = match conn {
                        Err(e) => Err(e),
                        Ok(conn) => match conn.version_of::<ProduceRequest>() {
                            Err(e) => Err(e),
                            Ok(v) if acks == Acks::None => {
                                conn.send_no_response(&req, v).await.map(|_| None)
                            }
                            Ok(v) => conn.send_versioned(&req, v, timeout).await.map(Some),
                        },
                    };
                    let result = result.map_err(|e| (e.is_retriable(), e.to_string()));
                    Done { node, batches: job.batches, result, latency: started.elapsed() }
                });
            }
            Some(d) = pending.next(), if !pending.is_empty() => {
                if done.send(d).is_err() {
                    break;
                }
            }
        }
    }
}

fn build_request(
    shared: &Shared,
    batches: &mut [ProducerBatch],
) -> Result<ProduceRequest, rafka_wire::WireError> {
    let mut topics: Vec<TopicProduceData> = Vec::new();
    for b in batches.iter_mut() {
        let meta = BatchMeta {
            producer_id: b.identity.map_or(-1, |i| i.producer_id),
            producer_epoch: b.identity.map_or(-1, |i| i.producer_epoch),
            base_sequence: b.identity.map_or(-1, |i| i.base_sequence),
            is_transactional: shared.txn.is_some(),
            compression: wire_compression(shared.cfg.compression),
            compression_level: shared.cfg.compression_level,
            ..BatchMeta::default()
        };
        let bytes = b.encode(&meta)?;
        shared.metrics.on_batch_bytes(bytes.len() as u64);
        let part = PartitionProduceData::default()
            .with_index(b.partition)
            .with_records(Some(bytes));
        match topics.iter_mut().find(|t| *t.name.0 == *b.topic) {
            Some(t) => t.partition_data.push(part),
            None => topics.push(
                TopicProduceData::default()
                    .with_name(TopicName(StrBytes::from_string(b.topic.to_string())))
                    .with_partition_data(vec![part]),
            ),
        }
    }
    Ok(ProduceRequest::default()
        .with_transactional_id(
            shared
                .cfg
                .transactional_id
                .as_ref()
                .map(|t| TransactionalId(StrBytes::from_string(t.clone()))),
        )
        .with_acks(shared.cfg.acks.as_i16())
        .with_timeout_ms(shared.cfg.request_timeout.as_millis().min(i32::MAX as u128) as i32)
        .with_topic_data(topics))
}

fn invalidates_leader(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::NOT_LEADER_OR_FOLLOWER
            | ErrorCode::UNKNOWN_TOPIC_OR_PARTITION
            | ErrorCode::LEADER_NOT_AVAILABLE
            | ErrorCode::FENCED_LEADER_EPOCH
            | ErrorCode::UNKNOWN_LEADER_EPOCH
            | ErrorCode::KAFKA_STORAGE_ERROR
            | ErrorCode::NOT_ENOUGH_REPLICAS
    )
}

fn handle_done(shared: &Shared, d: Done) {
    shared.metrics.on_request(d.latency.as_micros() as u64);
    let now = Instant::now();
    match d.result {
        Err((retriable, e)) => {
            tracing::debug!(node = d.node, error = %e, "produce request failed");
            shared.client.invalidate_metadata();
            for b in d.batches {
                let err = shared.final_error(&b, now, ProduceError::Client(e.clone()));
                if retriable && shared.can_retry(&b, now) {
                    if let (Some(id), Some(seq)) =
                        (b.identity, shared.lock_acc().sequences.as_mut())
                    {
                        seq.on_resend(&b.topic, b.partition, id.base_sequence);
                    }
                    shared.metrics.on_retry();
                    shared.lock_acc().reenqueue(b, now);
                } else {
                    shared.fail_sent_batch(b, err);
                }
            }
        }
        Ok(None) => {
            for b in d.batches {
                shared.finish_batch(
                    b,
                    Ok(BatchAck {
                        base_offset: -1,
                        log_append_time: None,
                    }),
                    true,
                );
            }
        }
        Ok(Some(resp)) => {
            for b in d.batches {
                let pr = resp
                    .responses
                    .iter()
                    .find(|t| *t.name.0 == *b.topic)
                    .and_then(|t| {
                        t.partition_responses
                            .iter()
                            .find(|p| p.index == b.partition)
                    });
                let Some(pr) = pr else {
                    let err = ProduceError::Client(format!(
                        "produce response has no result for {}-{}",
                        b.topic, b.partition
                    ));
                    shared.fail_sent_batch(b, err);
                    continue;
                };
                let code = ErrorCode(pr.error_code);
                if code == ErrorCode::NONE || code == ErrorCode::DUPLICATE_SEQUENCE_NUMBER {
                    if let (Some(id), Some(seq)) =
                        (b.identity, shared.lock_acc().sequences.as_mut())
                    {
                        seq.on_acked(&b.topic, b.partition, id.base_sequence, b.record_count());
                    }
                    let ack = BatchAck {
                        base_offset: if code == ErrorCode::NONE {
                            pr.base_offset
                        } else {
                            -1
                        },
                        log_append_time: (pr.log_append_time_ms >= 0)
                            .then_some(pr.log_append_time_ms),
                    };
                    shared.finish_batch(b, Ok(ack), true);
                    continue;
                }
                if invalidates_leader(code) {
                    shared.client.invalidate_metadata();
                }
                let retries_left = shared.can_retry(&b, now);
                let action = match (b.identity, shared.lock_acc().sequences.as_mut()) {
                    (Some(id), Some(seq)) => {
                        seq.on_error(&b.topic, b.partition, id.base_sequence, code, retries_left)
                    }
                    _ if code.is_retriable() && retries_left => ErrorAction::Retry,
                    _ => ErrorAction::Fail,
                };
                let err = ProduceError::Broker {
                    topic: b.topic.clone(),
                    partition: b.partition,
                    code,
                    message: pr.error_message.as_ref().map(|m| m.to_string()),
                };
                let err = if code.is_retriable() {
                    shared.final_error(&b, now, err)
                } else {
                    err
                };
                tracing::debug!(topic = %b.topic, partition = b.partition, %code, ?action, "produce error");
                match action {
                    ErrorAction::Retry | ErrorAction::RetryAfterEpochBump => {
                        shared.metrics.on_retry();
                        shared.lock_acc().reenqueue(b, now);
                    }
                    ErrorAction::Fail | ErrorAction::FailAndBumpEpoch => {
                        shared.finish_batch(b, Err(err), true)
                    }
                    ErrorAction::Fatal => {
                        shared.set_fatal(ProduceError::Fenced(code));
                        shared.finish_batch(b, Err(ProduceError::Fenced(code)), true);
                    }
                }
            }
        }
    }
}

/// InitProducerId for an idempotent (non-transactional) producer; with a current id it asks
/// for an epoch bump (KIP-360, InitProducerId v3+), falling back to a fresh id.
async fn init_producer_id(shared: &Shared) -> Result<(), ProduceError> {
    let current = shared
        .lock_acc()
        .sequences
        .as_ref()
        .and_then(|s| s.producer_id());
    let mut attempt = current;
    loop {
        let (pid, epoch) = attempt.map_or((-1, -1), |c| (c.producer_id, c.epoch));
        let timeout_ms = shared.cfg.transaction_timeout.as_millis() as i32;
        let resp = shared
            .client
            .send_with(Target::Any, SendOptions::default(), move |_| {
                InitProducerIdRequest::default()
                    .with_transactional_id(None)
                    .with_transaction_timeout_ms(timeout_ms)
                    .with_producer_id(ProducerId(pid))
                    .with_producer_epoch(epoch)
            })
            .await
            .map_err(|e| ProduceError::Client(e.to_string()))?;
        let code = ErrorCode(resp.error_code);
        if code == ErrorCode::NONE {
            let id = ProducerIdAndEpoch {
                producer_id: resp.producer_id.0,
                epoch: resp.producer_epoch,
            };
            let mut acc = shared.lock_acc();
            if let Some(s) = acc.sequences.as_mut() {
                s.set_producer_id(id);
            }
            acc.reset_identities();
            tracing::debug!(
                producer_id = id.producer_id,
                epoch = id.epoch,
                "producer id"
            );
            return Ok(());
        }
        if attempt.is_some() {
            // The broker cannot bump this id (old broker, expired id): start afresh.
            attempt = None;
            continue;
        }
        return Err(ProduceError::Broker {
            topic: "".into(),
            partition: -1,
            code,
            message: Some("InitProducerId".into()),
        });
    }
}
