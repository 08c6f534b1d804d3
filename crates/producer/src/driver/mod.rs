//! The driver: one tokio task per producer that owns the I/O around the sans-IO
//! [`ProducerCore`](crate::engine::ProducerCore).
//!
//! Each turn it asks the core what is due ([`ProducerCore::poll`]), performs the actions —
//! produce jobs to the per-broker tasks ([`broker`]), coordinator requests and InitProducerId
//! as futures in one set, metadata refreshes as a spawned task — and then waits for whichever
//! comes first: a produce response, a coordinator response, a transactional call from a
//! handle, a wake-up, a metadata refresh, or the core's next deadline. Nothing is awaited
//! inline, so no response or timer waits on another request.
//!
//! [`ProducerCore::poll`]: crate::engine::ProducerCore::poll

mod broker;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use futures::StreamExt;
use rafka_client::{Cluster, CoordinatorKind, SendOptions, Target as ClientTarget};
use tokio::sync::{mpsc, oneshot};

use crate::engine::{Action, Request, Response, Target};
use crate::error::ProduceError;
use crate::shared::{Command, Shared, TxnCall};
use broker::{Done, Job};

/// Produce responses waiting for the driver.
const DONE_CAPACITY: usize = 64;

/// Starts the driver task on `runtime`.
pub(crate) fn spawn(
    runtime: &tokio::runtime::Handle,
    shared: Arc<Shared>,
    commands: mpsc::Receiver<Command>,
) {
    runtime.spawn(async move {
        run(&shared, commands).await;
        shared.with_core(|c| c.set_closed());
        shared.exited.notify_waiters();
        shared.progress.notify_waiters();
    });
}

fn leader(cluster: &Cluster, topic: &str, partition: i32) -> Option<i32> {
    cluster
        .topics
        .get(topic)
        .and_then(|t| t.partitions.get(&partition))
        .and_then(|p| p.leader)
}

async fn run(shared: &Arc<Shared>, mut commands: mpsc::Receiver<Command>) {
    let (done_tx, mut done_rx) = mpsc::channel::<Done>(DONE_CAPACITY);
    let mut brokers: HashMap<i32, mpsc::Sender<Job>> = HashMap::new();
    let mut requests: FuturesUnordered<BoxFuture<'static, Response>> = FuturesUnordered::new();
    let (refresh_tx, mut refresh_rx) = mpsc::channel::<()>(1);
    let mut refreshing = false;
    let mut seen_cluster: Option<Arc<Cluster>> = None;
    // The handle waiting for the transactional call in progress.
    let mut reply: Option<oneshot::Sender<Result<(), ProduceError>>> = None;

    loop {
        let now = Instant::now();
        let cluster = shared.client.cached_metadata();
        // New metadata (from anyone's refresh) may change partition counts and leaders.
        if !seen_cluster
            .as_ref()
            .is_some_and(|c| Arc::ptr_eq(c, &cluster))
        {
            shared.update_topic_cache(&cluster);
            seen_cluster = Some(cluster.clone());
        }
        let (actions, txn_done, timeout, finished) = shared.with_core(|core| {
            core.poll(now, |t, p| leader(&cluster, t, p));
            let actions: Vec<Action> = std::iter::from_fn(|| core.poll_action()).collect();
            let txn_done: Vec<_> = std::iter::from_fn(|| core.poll_txn_done()).collect();
            let finished = core.poll_finished();
            (actions, txn_done, core.poll_timeout(), finished)
        });
        for r in txn_done {
            if let Some(tx) = reply.take() {
                let _ = tx.send(r);
            }
        }
        let mut refresh: Option<Vec<Arc<str>>> = cluster
            .is_older_than(shared.cfg.client.metadata_max_age, now)
            .then(Vec::new);
        for action in actions {
            match action {
                Action::Produce { node, batches } => {
                    let tx = brokers.entry(node).or_insert_with(|| {
                        // The core keeps at most max.in.flight jobs per broker outstanding.
                        let (tx, rx) = mpsc::channel(shared.cfg.max_in_flight.max(1));
                        tokio::spawn(broker::run(shared.clone(), node, rx, done_tx.clone()));
                        tx
                    });
                    if let Err(e) = tx.try_send(Job { batches }) {
                        // Cannot happen: the core keeps at most `max.in.flight` jobs per
                        // broker outstanding, and the task lives as long as its sender. The
                        // batches go back to the core as a failed request all the same.
                        let job = match e {
                            mpsc::error::TrySendError::Full(j) => j,
                            mpsc::error::TrySendError::Closed(j) => {
                                brokers.remove(&node);
                                j
                            }
                        };
                        let err = ProduceError::Client(rafka_client::Error::UnknownBroker {
                            node_id: node,
                        });
                        shared.with_core(|c| {
                            c.handle_produce(node, job.batches, Err(err), Instant::now())
                        });
                    }
                }
                Action::Send { target, request } => {
                    requests.push(send_request(shared, target, request));
                }
                Action::RefreshMetadata { topics } => {
                    refresh.get_or_insert_with(Vec::new).extend(topics);
                }
                Action::InvalidateMetadata => shared.client.invalidate_metadata(),
                Action::LeaderHint { hint, endpoints } => {
                    let hints = std::slice::from_ref(&hint);
                    if shared.client.apply_leader_hints(hints, &endpoints) {
                        tracing::debug!(topic = %hint.topic, partition = hint.partition,
                            leader = hint.leader_id, epoch = hint.leader_epoch,
                            "leader moved (from the produce response)");
                    } else {
                        shared.client.invalidate_metadata();
                    }
                }
                Action::InvalidateCoordinator(target) => match target {
                    Target::Any => {}
                    Target::TransactionCoordinator => {
                        if let Some(tid) = &shared.cfg.transactional_id {
                            shared
                                .client
                                .invalidate_coordinator(CoordinatorKind::Transaction, tid);
                        }
                    }
                    Target::Group(g) => shared
                        .client
                        .invalidate_coordinator(CoordinatorKind::Group, &g),
                },
            }
        }
        if let Some(topics) = refresh.filter(|_| !refreshing) {
            refreshing = true;
            let s = shared.clone();
            let tx = refresh_tx.clone();
            tokio::spawn(async move {
                // metadata.max.age.ms passed or a leader is unknown: refresh.
                let refs: Vec<&str> = topics.iter().map(|t| &**t).collect();
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
                tokio::time::sleep(s.cfg.client.retry_backoff).await;
                let _ = tx.send(()).await;
            });
        }
        if finished {
            break;
        }

        let deadline = timeout
            .unwrap_or(now + Duration::from_millis(500))
            .max(now + Duration::from_micros(100));
        tokio::select! {
            biased;
            Some(d) = done_rx.recv() => {
                let mut batch = vec![d];
                while let Ok(d) = done_rx.try_recv() {
                    batch.push(d);
                }
                let now = Instant::now();
                shared.with_core(|c| {
                    for d in batch {
                        shared.metrics.on_request(d.latency.as_micros() as u64);
                        c.handle_produce(d.node, d.batches, d.result, now);
                    }
                });
            }
            Some(r) = requests.next(), if !requests.is_empty() => {
                shared.with_core(|c| c.handle_response(r, Instant::now()));
            }
            Some(cmd) = commands.recv(), if reply.is_none() => {
                let now = Instant::now();
                let started = shared.with_core(|c| match cmd.call {
                    TxnCall::Init => c.init_transactions(now),
                    TxnCall::SendOffsets(offsets, group) => {
                        c.send_offsets_to_transaction(offsets, group, now)
                    }
                    TxnCall::Commit => c.commit_transaction(),
                    TxnCall::Abort => c.abort_transaction(),
                });
                match started {
                    Ok(()) => reply = Some(cmd.reply),
                    Err(e) => {
                        let _ = cmd.reply.send(Err(e));
                    }
                }
            }
            Some(()) = refresh_rx.recv() => { refreshing = false; }
            _ = shared.wake.notified() => {}
            _ = tokio::time::sleep_until(deadline.into()) => {}
        }
    }
}

/// A coordinator request (or an idempotent producer's InitProducerId) as a future of its
/// answer.
fn send_request(shared: &Shared, target: Target, request: Request) -> BoxFuture<'static, Response> {
    let client = shared.client.clone();
    let target = match target {
        Target::Any => ClientTarget::Any,
        Target::TransactionCoordinator => ClientTarget::TransactionCoordinator(
            shared.cfg.transactional_id.clone().unwrap_or_default(),
        ),
        Target::Group(g) => ClientTarget::GroupCoordinator(g),
    };
    let opts = SendOptions::default();
    Box::pin(async move {
        match request {
            Request::InitProducerId(r) => {
                Response::InitProducerId(client.send_with(target, opts, move |_| r.clone()).await)
            }
            Request::AddPartitionsToTxn(r) => Response::AddPartitionsToTxn(
                client.send_with(target, opts, move |_| r.clone()).await,
            ),
            Request::AddOffsetsToTxn(r) => {
                Response::AddOffsetsToTxn(client.send_with(target, opts, move |_| r.clone()).await)
            }
            Request::TxnOffsetCommit(r) => {
                Response::TxnOffsetCommit(client.send_with(target, opts, move |_| r.clone()).await)
            }
            Request::EndTxn(r) => {
                Response::EndTxn(client.send_with(target, opts, move |_| r.clone()).await)
            }
        }
    })
}
