//! [`Producer`]: the public, cloneable handle; `send` runs on the caller's task, a sender
//! task does the rest.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rafka_client::config::Properties;
use rafka_client::{Client, ClientConfig, Cluster};
use tokio::sync::{Notify, Semaphore};

use crate::accumulator::{
    record_upper_bound, AccumulatorConfig, PendingRecord, ProducerBatch, RecordAccumulator,
};
use crate::config::{ConfigError, PartitionerChoice, ProducerConfig};
use crate::delivery::{BatchAck, BatchCompletion, DeliveryCallback, DeliveryFuture};
use crate::error::ProduceError;
use crate::fast_hash::FnvMap;
use crate::interceptor::ProducerInterceptor;
use crate::metrics::{MetricsSnapshot, ProducerMetrics};
use crate::partitioner::{DefaultPartitioner, PartitionInfo, Partitioner, RoundRobinPartitioner};
use crate::record::{now_ms, ProducerRecord, RecordMetadata};
use crate::transaction::TxnShared;

/// State shared by the handles, the sender task and the broker tasks.
pub(crate) struct Shared {
    pub cfg: ProducerConfig,
    pub client: Client,
    acc: Mutex<RecordAccumulator>,
    partitioner: Arc<dyn Partitioner>,
    interceptors: Vec<Arc<dyn ProducerInterceptor>>,
    memory: Semaphore,
    pub metrics: ProducerMetrics,
    /// Wakes the sender (new or full batch, flush, close).
    pub wake: Notify,
    /// Signalled whenever a batch completes (flush waits on it).
    progress: Notify,
    pub sender_done: Notify,
    sender_exited: AtomicBool,
    closed: AtomicBool,
    shutdown: AtomicBool,
    closing_hard: AtomicBool,
    fatal: Mutex<Option<ProduceError>>,
    /// Set with `fatal`, read lock-free on the `send` path.
    has_fatal: AtomicBool,
    topics: Mutex<FnvMap<String, Arc<PartitionInfo>>>,
    /// Completions of batches handed to a broker, so a forced close can fail them.
    in_flight: Mutex<HashMap<u64, Arc<BatchCompletion>>>,
    pub txn: Option<TxnShared>,
}

impl Shared {
    pub fn lock_acc(&self) -> MutexGuard<'_, RecordAccumulator> {
        self.acc.lock().unwrap_or_else(|e| e.into_inner())
    }
    pub fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }
    pub fn is_closing_hard(&self) -> bool {
        self.closing_hard.load(Ordering::Acquire)
    }
    pub fn fatal_error(&self) -> Option<ProduceError> {
        if !self.has_fatal.load(Ordering::Acquire) {
            return None;
        }
        self.fatal.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
    pub fn set_fatal(&self, e: ProduceError) {
        let mut f = self.fatal.lock().unwrap_or_else(|e| e.into_inner());
        if f.is_none() {
            *f = Some(e.clone());
            self.has_fatal.store(true, Ordering::Release);
        }
        drop(f);
        self.fail_queued(e);
    }

    /// Whether a sent batch may be sent again: `retries` not used up, `delivery.timeout.ms`
    /// not passed, producer not closing hard or fenced.
    pub fn can_retry(&self, b: &ProducerBatch, now: Instant) -> bool {
        b.attempts <= self.cfg.retries.max(0) as u32
            && now < b.created + self.cfg.delivery_timeout
            && !self.is_closing_hard()
            && self.fatal_error().is_none()
    }

    pub fn note_in_flight(&self, batches: &[ProducerBatch]) {
        let mut m = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        for b in batches {
            m.insert(b.id, b.completion.clone());
        }
    }

    /// Completes a batch: frees its accumulator slot and `buffer.memory`, counts it, runs
    /// interceptors, then resolves its records' futures and callbacks.
    pub fn finish_batch(
        &self,
        b: ProducerBatch,
        result: Result<BatchAck, ProduceError>,
        was_sent: bool,
    ) {
        {
            let mut acc = self.lock_acc();
            if was_sent {
                acc.complete(&b);
            } else {
                acc.forget(&b);
            }
        }
        self.in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&b.id);
        self.memory.add_permits(b.reserved);
        self.metrics.buffer_released(b.reserved as u64);
        let count = b.records.len() as u64;
        match &result {
            Ok(_) => self.metrics.on_batch_acked(count),
            Err(e) => {
                self.metrics.on_errors(count);
                if let Some(txn) = &self.txn {
                    txn.on_record_failure(e);
                }
            }
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
        self.progress.notify_waiters();
    }

    /// The error for a batch that cannot be retried: a delivery timeout when
    /// `delivery.timeout.ms` has passed (as Java reports it), else `err`.
    pub fn final_error(&self, b: &ProducerBatch, now: Instant, err: ProduceError) -> ProduceError {
        if now >= b.created + self.cfg.delivery_timeout {
            ProduceError::DeliveryTimeout {
                topic: b.topic.clone(),
                partition: b.partition,
                timeout_ms: self.cfg.delivery_timeout.as_millis() as u64,
            }
        } else {
            err
        }
    }

    /// Fails a sent batch whose fate at the broker is unknown or refused.
    pub fn fail_sent_batch(&self, b: ProducerBatch, err: ProduceError) {
        if let Some(id) = b.identity {
            if let Some(seq) = self.lock_acc().sequences.as_mut() {
                seq.on_abandoned(&b.topic, b.partition, id.base_sequence);
            }
        }
        self.finish_batch(b, Err(err), true);
    }

    /// Fails every batch not yet handed to a broker.
    pub fn fail_queued(&self, err: ProduceError) {
        let batches = self.lock_acc().abort_all();
        for b in batches {
            self.finish_batch(b, Err(err.clone()), false);
        }
    }

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

/// A Kafka producer. Cheap to clone; clones share one sender task and buffer.
///
/// ```no_run
/// # async fn demo() -> Result<(), rafka_producer::ProduceError> {
/// use rafka_producer::{Producer, ProducerConfig, ProducerRecord};
/// let producer = Producer::new(ProducerConfig::new("localhost:9092"))?;
/// let delivery = producer
///     .send(ProducerRecord::new("events").key("user-1").value("clicked"))
///     .await?;
/// let metadata = delivery.await?;
/// println!("written at {}-{}@{}", metadata.topic, metadata.partition, metadata.offset);
/// producer.close(std::time::Duration::from_secs(5)).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Producer {
    pub(crate) shared: Arc<Shared>,
    _last_handle: Arc<LastHandle>,
}

/// Dropped with the last [`Producer`] clone: lets the sender deliver what is buffered and
/// exit, instead of running forever (Java leaks the I/O thread in that case).
struct LastHandle(Arc<Shared>);

impl Drop for LastHandle {
    fn drop(&mut self) {
        self.0.closed.store(true, Ordering::Release);
        self.0.lock_acc().begin_close();
        self.0.shutdown.store(true, Ordering::Release);
        self.0.wake.notify_one();
    }
}

impl std::fmt::Debug for Producer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Producer")
            .field("bootstrap", &self.shared.cfg.bootstrap_servers)
            .finish()
    }
}

/// Builds a [`Producer`] with a custom partitioner, interceptors or a shared client.
pub struct ProducerBuilder {
    config: ProducerConfig,
    client_config: Option<ClientConfig>,
    client: Option<Client>,
    partitioner: Option<Arc<dyn Partitioner>>,
    interceptors: Vec<Arc<dyn ProducerInterceptor>>,
}

impl ProducerBuilder {
    /// Uses this partitioner instead of the one `partitioner.class` names.
    pub fn partitioner(mut self, p: Arc<dyn Partitioner>) -> Self {
        self.partitioner = Some(p);
        self
    }
    /// Adds an interceptor; they run in the order added.
    pub fn interceptor(mut self, i: Arc<dyn ProducerInterceptor>) -> Self {
        self.interceptors.push(i);
        self
    }
    /// Uses an existing client (connections and metadata are shared).
    pub fn client(mut self, client: Client) -> Self {
        self.client = Some(client);
        self
    }
    /// Connection settings (TLS, SASL, ...) for the client the producer creates.
    pub fn client_config(mut self, c: ClientConfig) -> Self {
        self.client_config = Some(c);
        self
    }

    /// Validates the configuration and starts the sender task. Must be called inside a
    /// tokio runtime.
    ///
    /// # Errors
    /// [`ProduceError::Config`] for an invalid configuration, [`ProduceError::Client`] when
    /// the client cannot be created or no tokio runtime is running.
    pub fn build(self) -> Result<Producer, ProduceError> {
        let cfg = self.config;
        cfg.validate()?;
        let handle = tokio::runtime::Handle::try_current()
            .map_err(|e| ProduceError::Client(format!("Producer needs a tokio runtime: {e}")))?;
        let client = match self.client {
            Some(c) => c,
            None => {
                let mut cc = self
                    .client_config
                    .unwrap_or_else(|| ClientConfig::new(&cfg.bootstrap_servers.join(",")));
                if cc.bootstrap_servers.is_empty() {
                    cc.bootstrap_servers = cfg.bootstrap_servers.clone();
                }
                cc.client_id = cfg.client_id.clone();
                cc.request_timeout = cfg.request_timeout;
                cc.metadata_max_age = cfg.metadata_max_age;
                Client::new(cc).map_err(|e| ProduceError::Client(e.to_string()))?
            }
        };
        let partitioner: Arc<dyn Partitioner> = match (self.partitioner, cfg.partitioner) {
            (Some(p), _) => p,
            (None, PartitionerChoice::Default) => Arc::new(DefaultPartitioner::new(
                cfg.batch_size,
                cfg.partitioner_ignore_keys,
            )),
            (None, PartitionerChoice::UniformSticky) => {
                Arc::new(DefaultPartitioner::new(cfg.batch_size, true))
            }
            (None, PartitionerChoice::RoundRobin) => Arc::new(RoundRobinPartitioner::new()),
        };
        let idempotent = cfg.enable_idempotence;
        let acc = RecordAccumulator::new(AccumulatorConfig {
            batch_size: cfg.batch_size,
            linger: cfg.linger,
            delivery_timeout: cfg.delivery_timeout,
            retry_backoff: cfg.retry_backoff,
            retry_backoff_max: cfg.retry_backoff_max,
            max_in_flight_per_partition: if idempotent {
                cfg.max_in_flight.min(5)
            } else if cfg.max_in_flight == 1 {
                1
            } else {
                usize::MAX
            },
            idempotent,
        });
        let txn = cfg.transactional_id.clone().map(TxnShared::new);
        let shared = Arc::new(Shared {
            memory: Semaphore::new(cfg.buffer_memory.min(Semaphore::MAX_PERMITS)),
            cfg,
            client,
            acc: Mutex::new(acc),
            partitioner,
            interceptors: self.interceptors,
            metrics: ProducerMetrics::default(),
            wake: Notify::new(),
            progress: Notify::new(),
            sender_done: Notify::new(),
            sender_exited: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            shutdown: AtomicBool::new(false),
            closing_hard: AtomicBool::new(false),
            fatal: Mutex::new(None),
            has_fatal: AtomicBool::new(false),
            topics: Mutex::new(FnvMap::default()),
            in_flight: Mutex::new(HashMap::new()),
            txn,
        });
        let s = shared.clone();
        handle.spawn(async move {
            crate::sender::run(s.clone()).await;
            s.sender_exited.store(true, Ordering::Release);
            s.sender_done.notify_waiters();
        });
        Ok(Producer {
            _last_handle: Arc::new(LastHandle(shared.clone())),
            shared,
        })
    }
}

impl Producer {
    /// A producer with the built-in partitioner and no interceptors; see
    /// [`Producer::builder`] for more. Must be called inside a tokio runtime.
    ///
    /// # Errors
    /// As [`ProducerBuilder::build`].
    pub fn new(config: ProducerConfig) -> Result<Producer, ProduceError> {
        Self::builder(config).build()
    }

    /// A builder for a producer with a custom partitioner, interceptors or client.
    pub fn builder(config: ProducerConfig) -> ProducerBuilder {
        ProducerBuilder {
            config,
            client_config: None,
            client: None,
            partitioner: None,
            interceptors: Vec::new(),
        }
    }

    /// A producer from Java properties: client settings (security, timeouts) and producer
    /// settings in one set.
    ///
    /// # Errors
    /// [`ProduceError::Config`] for a value that does not parse or a key neither the client
    /// nor the producer knows; then as [`ProducerBuilder::build`].
    pub fn from_properties(props: &Properties) -> Result<Producer, ProduceError> {
        let mut pc = ProducerConfig::default();
        let mut cc = ClientConfig::default();
        for (k, v) in props.iter() {
            let p = pc.apply(k, v)?;
            let c = cc.apply(k, v).map_err(|e| {
                ProduceError::Config(ConfigError::InvalidValue {
                    key: k.to_string(),
                    value: v.to_string(),
                    reason: e.to_string(),
                })
            })?;
            if !p && !c {
                return Err(ProduceError::Config(ConfigError::InvalidValue {
                    key: k.to_string(),
                    value: v.to_string(),
                    reason: "unknown producer or client setting".into(),
                }));
            }
        }
        Self::builder(pc).client_config(cc).build()
    }

    /// The configuration in use.
    pub fn config(&self) -> &ProducerConfig {
        &self.shared.cfg
    }

    /// The client underneath (metadata, admin requests).
    pub fn client(&self) -> &Client {
        &self.shared.client
    }

    /// Appends a record to its partition's batch and returns at once with a
    /// [`DeliveryFuture`]; await it for the [`RecordMetadata`], or drop it (fire-and-forget).
    ///
    /// Waits up to `max.block.ms` for the topic's metadata and for `buffer.memory`.
    ///
    /// # Errors
    /// [`ProduceError::RecordTooLarge`] (larger than `max.request.size` or `buffer.memory`),
    /// [`ProduceError::MaxBlockTimeout`], [`ProduceError::InvalidPartition`],
    /// [`ProduceError::Closed`], [`ProduceError::Transaction`] (transactional producer outside
    /// a transaction), [`ProduceError::Fenced`], [`ProduceError::Authentication`] when the
    /// metadata request fails SASL or TLS (at once, not after `max.block.ms`).
    pub async fn send(&self, record: ProducerRecord) -> Result<DeliveryFuture, ProduceError> {
        self.send_inner(record, None).await
    }

    /// Like [`Producer::send`], also running `callback` with the outcome on the sender task
    /// (Java `send(record, callback)`). The callback must not block.
    ///
    /// # Errors
    /// As [`Producer::send`]; the callback is not run when `send` itself fails.
    pub async fn send_with_callback(
        &self,
        record: ProducerRecord,
        callback: impl FnOnce(Result<RecordMetadata, ProduceError>) + Send + 'static,
    ) -> Result<DeliveryFuture, ProduceError> {
        self.send_inner(record, Some(Box::new(callback))).await
    }

    async fn partition_info(
        &self,
        topic: &str,
        deadline: Instant,
    ) -> Result<Arc<PartitionInfo>, ProduceError> {
        if let Some(i) = self
            .shared
            .topics
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(topic)
        {
            return Ok(i.clone());
        }
        loop {
            let topics = [topic];
            let fetch = self.shared.client.metadata_for(&topics);
            let remaining = deadline.saturating_duration_since(Instant::now());
            let fetched = tokio::time::timeout(remaining, fetch).await;
            if let Ok(Err(e)) = &fetched {
                // Waiting cannot cure refused credentials or certificates: fail now, as Java's
                // `waitOnMetadata` throws the AuthenticationException at once.
                if matches!(
                    e,
                    rafka_client::Error::Sasl { .. } | rafka_client::Error::Tls { .. }
                ) {
                    return Err(ProduceError::Authentication(e.to_string()));
                }
            }
            if let Ok(Ok(cluster)) = fetched {
                if let Some(t) = cluster.topics.get(topic) {
                    if !t.partitions.is_empty() {
                        let info = Arc::new(partition_info(t));
                        self.shared
                            .topics
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert(topic.to_string(), info.clone());
                        return Ok(info);
                    }
                }
            }
            if Instant::now() >= deadline {
                return Err(ProduceError::MaxBlockTimeout {
                    what: format!("metadata of topic {topic}"),
                    waited_ms: self.shared.cfg.max_block.as_millis() as u64,
                });
            }
            self.shared.client.invalidate_metadata();
            tokio::time::sleep(
                self.shared
                    .cfg
                    .retry_backoff
                    .min(deadline.saturating_duration_since(Instant::now())),
            )
            .await;
        }
    }

    async fn send_inner(
        &self,
        mut record: ProducerRecord,
        callback: Option<DeliveryCallback>,
    ) -> Result<DeliveryFuture, ProduceError> {
        let shared = &*self.shared;
        if shared.closed.load(Ordering::Acquire) {
            return Err(ProduceError::Closed);
        }
        if let Some(e) = shared.fatal_error() {
            return Err(e);
        }
        for ic in &shared.interceptors {
            record = ic.on_send(record);
        }
        if let Some(txn) = &shared.txn {
            txn.check_can_send()?;
        }
        let deadline = Instant::now() + shared.cfg.max_block;
        let info = self.partition_info(&record.topic, deadline).await?;
        let chosen = record.partition.is_none();
        let partition = match record.partition {
            Some(p) => p,
            None => shared.partitioner.partition(
                &record.topic,
                record.key.as_deref(),
                record.value.as_deref(),
                &info,
            ),
        };
        if partition < 0 || partition >= info.num_partitions {
            return Err(ProduceError::InvalidPartition {
                topic: record.topic,
                partition,
                num_partitions: info.num_partitions,
            });
        }
        let size = record_upper_bound(
            record.key.as_deref(),
            record.value.as_deref(),
            &record.headers,
        );
        if size > shared.cfg.max_request_size {
            return Err(ProduceError::RecordTooLarge {
                size,
                max: shared.cfg.max_request_size,
                setting: "max.request.size",
            });
        }
        if size > shared.cfg.buffer_memory {
            return Err(ProduceError::RecordTooLarge {
                size,
                max: shared.cfg.buffer_memory,
                setting: "buffer.memory",
            });
        }
        match shared.memory.try_acquire_many(size as u32) {
            Ok(p) => p.forget(),
            Err(_) => {
                let remaining = deadline.saturating_duration_since(Instant::now());
                match tokio::time::timeout(remaining, shared.memory.acquire_many(size as u32)).await
                {
                    Ok(Ok(p)) => p.forget(),
                    Ok(Err(_)) => return Err(ProduceError::Closed),
                    Err(_) => {
                        return Err(ProduceError::MaxBlockTimeout {
                            what: "buffer memory".into(),
                            waited_ms: shared.cfg.max_block.as_millis() as u64,
                        })
                    }
                }
            }
        }
        shared.metrics.buffer_reserved(size as u64);
        if let Some(txn) = &shared.txn {
            if txn.note_partition(&record.topic, partition) {
                shared.wake.notify_one();
            }
        }
        let timestamp = record.timestamp.unwrap_or_else(now_ms);
        let key_absent = record.key.is_none();
        let result = {
            let mut acc = shared.lock_acc();
            acc.append(
                &record.topic,
                partition,
                PendingRecord {
                    timestamp,
                    key: record.key,
                    value: record.value,
                    headers: record.headers,
                },
                size,
                Instant::now,
            )
        };
        if chosen && (key_absent || shared.cfg.partitioner_ignore_keys) {
            shared.partitioner.on_append(
                &record.topic,
                partition,
                result.appended_bytes,
                result.batch_full,
                &info,
            );
        }
        if result.new_batch || result.batch_full {
            shared.wake.notify_one();
        }
        let fut = DeliveryFuture::new(result.completion.clone(), result.index, timestamp);
        if let Some(cb) = callback {
            result.completion.add_callback(result.index, timestamp, cb);
        }
        Ok(fut)
    }

    /// Sends every buffered record now and waits until each record sent before the call is
    /// acknowledged or failed (Java `flush`). Records' outcomes are in their futures.
    pub async fn flush(&self) {
        let shared = &*self.shared;
        let mark = shared.lock_acc().begin_flush();
        struct EndFlush<'a>(&'a Shared);
        impl Drop for EndFlush<'_> {
            fn drop(&mut self) {
                self.0.lock_acc().end_flush();
            }
        }
        let _end = EndFlush(shared);
        shared.wake.notify_one();
        loop {
            let notified = shared.progress.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if shared.lock_acc().flushed(mark) || shared.sender_exited.load(Ordering::Acquire) {
                return;
            }
            notified.await;
        }
    }

    /// Stops accepting records, delivers what is buffered within `timeout`, then fails
    /// whatever is left with [`ProduceError::Closed`] — no record is dropped silently. Other
    /// clones of this producer are closed too.
    ///
    /// # Errors
    /// [`ProduceError::Closed`] when `timeout` passed before every record was delivered (the
    /// rest were failed).
    pub async fn close(&self, timeout: Duration) -> Result<(), ProduceError> {
        let shared = &*self.shared;
        shared.closed.store(true, Ordering::Release);
        shared.lock_acc().begin_close();
        let delivered = tokio::time::timeout(timeout, self.flush()).await.is_ok();
        if !delivered {
            shared.closing_hard.store(true, Ordering::Release);
            shared.fail_queued(ProduceError::Closed);
            let in_flight: Vec<_> = shared
                .in_flight
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .drain()
                .map(|(_, c)| c)
                .collect();
            for c in in_flight {
                c.complete(Err(ProduceError::Closed));
            }
        }
        shared.shutdown.store(true, Ordering::Release);
        // Wait briefly for the sender to exit; it keeps running only while in-flight
        // requests of a forced close are still answering.
        let exited = shared.sender_done.notified();
        tokio::pin!(exited);
        exited.as_mut().enable();
        shared.wake.notify_one();
        if !shared.sender_exited.load(Ordering::Acquire) {
            let _ = tokio::time::timeout(
                Duration::from_secs(1).min(timeout.max(Duration::from_millis(100))),
                exited,
            )
            .await;
        }
        if delivered {
            Ok(())
        } else {
            Err(ProduceError::Closed)
        }
    }

    /// Live counters.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.shared.metrics.snapshot()
    }

    /// The partitions of `topic` from (possibly refreshed) metadata, as Java's
    /// `partitionsFor`.
    ///
    /// # Errors
    /// [`ProduceError::MaxBlockTimeout`] when the topic's metadata is not known within
    /// `max.block.ms`; [`ProduceError::Authentication`] when SASL or TLS fails.
    pub async fn partitions_for(
        &self,
        topic: &str,
    ) -> Result<Vec<rafka_client::metadata::PartitionInfo>, ProduceError> {
        let deadline = Instant::now() + self.shared.cfg.max_block;
        self.partition_info(topic, deadline).await?;
        let cluster = self.shared.client.cached_metadata();
        Ok(cluster
            .topics
            .get(topic)
            .map(|t| t.partitions.values().cloned().collect())
            .unwrap_or_default())
    }
}
