//! [`Shared`]: what the [`Producer`](crate::Producer) handles and the driver task share —
//! the sans-IO core behind one lock, the client, the partitioner, `buffer.memory` and the
//! wake-ups between them.

use std::sync::{Arc, Mutex};

use rafka_client::{Client, Cluster};
use tokio::sync::{mpsc, oneshot, Notify, Semaphore};

use crate::config::ProducerConfig;
use crate::engine::{BatchDone, ProducerCore, TxnOffsets};
use crate::error::ProduceError;
use crate::fast_hash::FnvMap;
use crate::group_metadata::ConsumerGroupMetadata;
use crate::interceptor::ProducerInterceptor;
use crate::metrics::ProducerMetrics;
use crate::partitioner::{PartitionInfo, Partitioner};
use crate::record::RecordMetadata;

/// A transactional call the driver runs for a handle.
pub(crate) enum TxnCall {
    Init,
    SendOffsets(TxnOffsets, ConsumerGroupMetadata),
    Commit,
    Abort,
}

/// A [`TxnCall`] and where its outcome goes.
pub(crate) struct Command {
    pub call: TxnCall,
    pub reply: oneshot::Sender<Result<(), ProduceError>>,
}

/// Commands waiting for the driver (one runs at a time).
pub(crate) const COMMAND_CAPACITY: usize = 8;

/// State shared by the handles and the driver task.
pub(crate) struct Shared {
    pub cfg: ProducerConfig,
    pub client: Client,
    core: Mutex<ProducerCore>,
    pub partitioner: Arc<dyn Partitioner>,
    pub interceptors: Vec<Arc<dyn ProducerInterceptor>>,
    /// `buffer.memory`, in bytes: taken by `send`, given back when a batch finishes.
    pub memory: Semaphore,
    pub metrics: Arc<ProducerMetrics>,
    /// Wakes the driver (new or full batch, flush, close).
    pub wake: Notify,
    /// Signalled whenever a batch finishes or the driver exits (flush waits on it).
    pub progress: Notify,
    /// Signalled when the driver exits.
    pub exited: Notify,
    /// Partition counts and available partitions per topic, for the partitioner.
    topics: Mutex<FnvMap<String, Arc<PartitionInfo>>>,
    /// Transactional calls to the driver (bounded).
    pub commands: mpsc::Sender<Command>,
}

impl Shared {
    pub fn new(
        cfg: ProducerConfig,
        client: Client,
        partitioner: Arc<dyn Partitioner>,
        interceptors: Vec<Arc<dyn ProducerInterceptor>>,
        commands: mpsc::Sender<Command>,
    ) -> Self {
        let metrics = Arc::new(ProducerMetrics::default());
        Shared {
            memory: Semaphore::new(cfg.buffer_memory.min(Semaphore::MAX_PERMITS)),
            core: Mutex::new(ProducerCore::new(cfg.clone(), metrics.clone())),
            cfg,
            client,
            partitioner,
            interceptors,
            metrics,
            wake: Notify::new(),
            progress: Notify::new(),
            exited: Notify::new(),
            topics: Mutex::new(FnvMap::default()),
            commands,
        }
    }

    /// Runs `f` on the core, then — outside the lock — finishes the batches it completed.
    pub fn with_core<R>(&self, f: impl FnOnce(&mut ProducerCore) -> R) -> R {
        let mut done = Vec::new();
        let r = {
            let mut core = self.core.lock().unwrap_or_else(|e| e.into_inner());
            let r = f(&mut core);
            while let Some(d) = core.poll_event() {
                done.push(d);
            }
            r
        };
        if !done.is_empty() {
            for d in done {
                self.finish(d);
            }
            self.progress.notify_waiters();
        }
        r
    }

    /// Completes a batch: frees its `buffer.memory`, counts it, runs interceptors, then
    /// resolves its records' futures and callbacks.
    fn finish(&self, BatchDone { batch: b, result }: BatchDone) {
        self.memory.add_permits(b.reserved);
        self.metrics.buffer_released(b.reserved as u64);
        let count = b.records.len() as u64;
        match &result {
            Ok(_) => self.metrics.on_batch_acked(count),
            Err(_) => self.metrics.on_errors(count),
        }
        if !self.interceptors.is_empty() {
            for (i, r) in b.records.iter().enumerate() {
                let res = match &result {
                    Ok(ack) => Ok(RecordMetadata {
                        topic: b.topic.clone(),
                        partition: b.partition,
                        offset: if ack.base_offset < 0 {
                            -1
                        } else {
                            ack.base_offset + i as i64
                        },
                        timestamp: ack.log_append_time.unwrap_or(r.timestamp),
                    }),
                    Err(e) => Err(e.clone()),
                };
                for ic in &self.interceptors {
                    ic.on_acknowledgement(&res);
                }
            }
        }
        b.completion.complete(result);
    }

    /// The cached partitions of a topic `send` has seen.
    pub fn cached_topic(&self, topic: &str) -> Option<Arc<PartitionInfo>> {
        self.topics
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(topic)
            .cloned()
    }

    /// Caches a topic's partitions from metadata; returns them.
    pub fn cache_topic(
        &self,
        topic: &str,
        info: &rafka_client::metadata::TopicInfo,
    ) -> Arc<PartitionInfo> {
        let info = Arc::new(partition_info(info));
        self.topics
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(topic.to_string(), info.clone());
        info
    }

    /// New metadata may change partition counts and leaders of cached topics.
    pub fn update_topic_cache(&self, cluster: &Cluster) {
        let mut topics = self.topics.lock().unwrap_or_else(|e| e.into_inner());
        for (name, info) in cluster.topics.iter() {
            if topics.contains_key(name) && !info.partitions.is_empty() {
                topics.insert(name.clone(), Arc::new(partition_info(info)));
            }
        }
    }
}

fn partition_info(t: &rafka_client::metadata::TopicInfo) -> PartitionInfo {
    PartitionInfo {
        num_partitions: t.partitions.len() as i32,
        available: t
            .partitions
            .values()
            .filter(|p| p.leader.is_some_and(|l| l >= 0))
            .map(|p| p.partition)
            .collect(),
    }
}
