//! [`Producer`]: the public, cloneable handle. `send` partitions and appends on the caller's
//! task; the driver task does the rest.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rafka_client::config::Properties;
use rafka_client::Client;
use rafka_wire::TopicPartition;
use tokio::sync::{mpsc, oneshot};

use crate::accumulator::{record_upper_bound, PendingRecord};
use crate::config::{ConfigError, PartitionerChoice, ProducerConfig};
use crate::delivery::{DeliveryCallback, DeliveryFuture};
use crate::engine::Lifecycle;
use crate::error::ProduceError;
use crate::group_metadata::ConsumerGroupMetadata;
use crate::interceptor::ProducerInterceptor;
use crate::metrics::MetricsSnapshot;
use crate::partitioner::{DefaultPartitioner, PartitionInfo, Partitioner, RoundRobinPartitioner};
use crate::record::{now_ms, ProducerRecord, RecordMetadata};
use crate::shared::{Command, Shared, TxnCall, COMMAND_CAPACITY};

/// A Kafka producer. Cheap to clone; clones share one driver task and buffer.
///
/// ```no_run
/// # async fn demo() -> Result<(), rafka_producer::ProduceError> {
/// use rafka_producer::{Producer, ProducerConfig, ProducerRecord};
/// let producer = Producer::new(ProducerConfig::builder("localhost:9092").build()?)?;
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
    shared: Arc<Shared>,
    _last_handle: Arc<LastHandle>,
}

/// Dropped with the last [`Producer`] clone: lets the driver deliver what is buffered and
/// exit, instead of running forever (Java leaks the I/O thread in that case).
struct LastHandle(Arc<Shared>);

impl Drop for LastHandle {
    fn drop(&mut self) {
        self.0.with_core(|c| c.close());
        self.0.wake.notify_one();
    }
}

impl std::fmt::Debug for Producer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Producer")
            .field("bootstrap", &self.shared.cfg.client.bootstrap_servers)
            .finish()
    }
}

/// Builds a [`Producer`] with a custom partitioner, interceptors or a shared client.
pub struct ProducerBuilder {
    config: ProducerConfig,
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

    /// Validates the configuration and starts the driver task. Must be called inside a
    /// tokio runtime.
    ///
    /// # Errors
    /// [`ProduceError::Config`] for an invalid configuration or when no tokio runtime is
    /// running; [`ProduceError::Client`] when the client cannot be created.
    pub fn build(self) -> Result<Producer, ProduceError> {
        let cfg = self.config;
        cfg.validate()?;
        let runtime = tokio::runtime::Handle::try_current().map_err(|e| {
            ProduceError::Config(ConfigError::Incompatible {
                reason: format!("Producer needs a tokio runtime: {e}"),
            })
        })?;
        let client = match self.client {
            Some(c) => c,
            None => Client::new(cfg.client.clone()).map_err(ProduceError::Client)?,
        };
        let partitioner: Arc<dyn Partitioner> = match (self.partitioner, cfg.partitioner_class) {
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
        let (commands, commands_rx) = mpsc::channel(COMMAND_CAPACITY);
        let shared = Arc::new(Shared::new(
            cfg,
            client,
            partitioner,
            self.interceptors,
            commands,
        ));
        crate::driver::spawn(&runtime, shared.clone(), commands_rx);
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
            client: None,
            partitioner: None,
            interceptors: Vec::new(),
        }
    }

    /// A producer from Java properties: producer settings and the client settings
    /// (security, timeouts) it embeds, in one set.
    ///
    /// # Errors
    /// [`ProduceError::Config`] for a value that does not parse or a key neither the client
    /// nor the producer knows; then as [`ProducerBuilder::build`].
    pub fn from_properties(props: &Properties) -> Result<Producer, ProduceError> {
        Self::new(ProducerConfig::from_properties(props)?)
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

    /// Like [`Producer::send`], also running `callback` with the outcome on the driver task
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
        if let Some(i) = self.shared.cached_topic(topic) {
            return Ok(i);
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
                    return Err(ProduceError::Authentication(e.clone()));
                }
            }
            if let Ok(Ok(cluster)) = fetched {
                if let Some(t) = cluster.topics.get(topic) {
                    if !t.partitions.is_empty() {
                        return Ok(self.shared.cache_topic(topic, t));
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
                    .client
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
        shared.with_core(|c| c.check_send())?;
        for ic in &shared.interceptors {
            record = ic.on_send(record);
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
        let timestamp = record.timestamp.unwrap_or_else(now_ms);
        let key_absent = record.key.is_none();
        let pending = PendingRecord {
            timestamp,
            key: record.key,
            value: record.value,
            headers: record.headers,
        };
        let appended =
            shared.with_core(|c| c.append(&record.topic, partition, pending, size, Instant::now));
        let result = appended.result;
        if chosen && (key_absent || shared.cfg.partitioner_ignore_keys) {
            shared.partitioner.on_append(
                &record.topic,
                partition,
                result.appended_bytes,
                result.batch_full,
                &info,
            );
        }
        if appended.wake {
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
        let mark = shared.with_core(|c| c.begin_flush());
        struct EndFlush<'a>(&'a Shared);
        impl Drop for EndFlush<'_> {
            fn drop(&mut self) {
                self.0.with_core(|c| c.end_flush());
            }
        }
        let _end = EndFlush(shared);
        shared.wake.notify_one();
        loop {
            let notified = shared.progress.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if shared.with_core(|c| c.flushed(mark) || matches!(c.lifecycle(), Lifecycle::Closed)) {
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
        shared.with_core(|c| c.close());
        let delivered = tokio::time::timeout(timeout, self.flush()).await.is_ok();
        if !delivered {
            for c in shared.with_core(|c| c.close_hard()) {
                c.complete(Err(ProduceError::Closed));
            }
        }
        // Wait briefly for the driver to exit; it keeps running only while in-flight
        // requests of a forced close are still answering.
        let exited = shared.exited.notified();
        tokio::pin!(exited);
        exited.as_mut().enable();
        shared.wake.notify_one();
        if !shared.with_core(|c| matches!(c.lifecycle(), Lifecycle::Closed)) {
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

    // ---- transactions (KIP-98) ---------------------------------------------------------

    /// Runs a transactional call on the driver and waits for its outcome.
    async fn txn_call(&self, call: TxnCall) -> Result<(), ProduceError> {
        let (reply, outcome) = oneshot::channel();
        self.shared
            .commands
            .send(Command { call, reply })
            .await
            .map_err(|_| ProduceError::Closed)?;
        self.shared.wake.notify_one();
        outcome.await.unwrap_or(Err(ProduceError::Closed))
    }

    /// Registers the `transactional.id` with its coordinator (InitProducerId), fencing any
    /// older producer with the same id and aborting its open transaction (KIP-98). Call once
    /// before [`Producer::begin_transaction`].
    ///
    /// # Errors
    /// [`ProduceError::Transaction`] without a `transactional.id` or when the coordinator
    /// refuses; [`ProduceError::Fenced`] for authorization/fencing codes;
    /// [`ProduceError::Client`] when the coordinator cannot be reached within `max.block.ms`.
    pub async fn init_transactions(&self) -> Result<(), ProduceError> {
        self.txn_call(TxnCall::Init).await
    }

    /// Starts a transaction; records sent until commit or abort belong to it.
    ///
    /// # Errors
    /// [`ProduceError::Transaction`] unless the producer is ready (initialized and not in a
    /// transaction).
    pub fn begin_transaction(&self) -> Result<(), ProduceError> {
        self.shared.with_core(|c| c.begin_transaction())
    }

    /// Adds consumed offsets to the transaction (AddOffsetsToTxn to the transaction
    /// coordinator, then TxnOffsetCommit to the group coordinator, KIP-98/KIP-447): they are
    /// committed if and only if the transaction commits. `offsets` are the next offsets to
    /// consume, with optional metadata.
    ///
    /// # Errors
    /// [`ProduceError::Transaction`] outside a transaction or on a coordinator error;
    /// [`ProduceError::Fenced`] when fenced.
    pub async fn send_offsets_to_transaction(
        &self,
        offsets: &[(TopicPartition, i64, Option<String>)],
        group: &ConsumerGroupMetadata,
    ) -> Result<(), ProduceError> {
        self.txn_call(TxnCall::SendOffsets(offsets.to_vec(), group.clone()))
            .await
    }

    /// Flushes the transaction's records, then commits it (EndTxn committed=true).
    ///
    /// # Errors
    /// [`ProduceError::Transaction`] outside a transaction, when a record of the transaction
    /// failed (the transaction must then be aborted) or EndTxn fails; [`ProduceError::Fenced`].
    pub async fn commit_transaction(&self) -> Result<(), ProduceError> {
        self.txn_call(TxnCall::Commit).await
    }

    /// Aborts the transaction: fails records not yet sent with [`ProduceError::Aborted`],
    /// waits for those in flight, then sends EndTxn committed=false.
    ///
    /// # Errors
    /// [`ProduceError::Transaction`] when no transaction is open or EndTxn fails;
    /// [`ProduceError::Fenced`].
    pub async fn abort_transaction(&self) -> Result<(), ProduceError> {
        self.txn_call(TxnCall::Abort).await
    }
}
