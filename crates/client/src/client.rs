//! [`Client`]: routing requests to the right broker, metadata, coordinators and retries.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::{
    ApiKey, FindCoordinatorRequest, FindCoordinatorResponse, MetadataRequest, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use rafka_wire::error_code::ErrorCode;
use rafka_wire::request::KafkaRequest;
use rafka_wire::TopicPartition;
use rand::seq::SliceRandom;

use crate::backoff::{Backoff, RetryDecision, RetryPolicy};
use crate::config::{split_host_port, ClientConfig};
use crate::connection::handshake::Connector;
use crate::connection::throttle::ThrottleTime;
use crate::connection::Connection;
use crate::error::{BrokerRef, Error};
use crate::metadata::{Cluster, MetadataState, TopicSelection};
use crate::pool::{Purpose, Slot};

/// Where a request goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// Any broker: the least loaded live connection, else a known broker, else bootstrap.
    Any,
    /// A broker by node id.
    Broker(i32),
    /// The leader of a partition, from metadata.
    Leader(TopicPartition),
    /// The coordinator of a consumer group (FindCoordinator key type 0).
    GroupCoordinator(String),
    /// The coordinator of a transactional id (FindCoordinator key type 1, KIP-98).
    TransactionCoordinator(String),
    /// The controller named in metadata (any broker when none is named).
    Controller,
}

/// Which coordinator (FindCoordinator `key_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CoordinatorKind {
    /// Consumer group coordinator, key type 0.
    Group,
    /// Transaction coordinator, key type 1.
    Transaction,
}

impl CoordinatorKind {
    fn key_type(self) -> i8 {
        match self {
            CoordinatorKind::Group => 0,
            CoordinatorKind::Transaction => 1,
        }
    }
}

/// Per-request options for [`Client::send_with`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SendOptions {
    /// Which connection to use; default: by API (Produce, Fetch, group APIs, else General).
    pub purpose: Option<Purpose>,
    /// Response timeout; default `request.timeout.ms`. Raise it for requests the broker holds
    /// on purpose (JoinGroup waits up to the rebalance timeout).
    pub timeout: Option<Duration>,
}

impl Purpose {
    /// The default connection purpose of an API.
    pub fn for_api(key: ApiKey) -> Purpose {
        match key {
            ApiKey::Produce => Purpose::Produce,
            ApiKey::Fetch => Purpose::Fetch,
            ApiKey::JoinGroup | ApiKey::SyncGroup | ApiKey::Heartbeat | ApiKey::LeaveGroup => {
                Purpose::Group
            }
            _ => Purpose::General,
        }
    }
}

struct Inner {
    config: Arc<ClientConfig>,
    connector: Connector,
    bootstrap: Vec<BrokerRef>,
    slots: Mutex<HashMap<(i32, Purpose), Arc<Slot>>>,
    metadata: Arc<MetadataState>,
    coordinators: Mutex<HashMap<(CoordinatorKind, String), BrokerRef>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.metadata.shutdown.cancel();
    }
}

/// A connection to a Kafka cluster: pipelined connections per broker and purpose, cluster
/// metadata, coordinator lookup and retries. Cheap to clone; clones share everything.
///
/// ```no_run
/// # async fn demo() -> Result<(), rafka_client::Error> {
/// use rafka_client::{Client, ClientConfig, Target};
/// use kafka_protocol::messages::ListGroupsRequest;
/// let client = Client::connect(ClientConfig::new("localhost:9092")).await?;
/// let groups = client.send(Target::Any, ListGroupsRequest::default()).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("bootstrap", &self.inner.config.bootstrap_servers)
            .finish()
    }
}

impl Client {
    /// Validates the config, loads TLS material and fetches the first metadata (brokers and
    /// controller) from the bootstrap servers.
    ///
    /// # Errors
    /// [`Error::Config`], [`Error::Tls`], or the error of the last bootstrap server tried
    /// when none answered Metadata.
    pub async fn connect(config: ClientConfig) -> Result<Client, Error> {
        let client = Client::new(config)?;
        client.refresh_metadata().await?;
        Ok(client)
    }

    /// Like [`Client::connect`] without contacting any broker yet.
    ///
    /// Inside a tokio runtime this also starts the background metadata refresher: once
    /// metadata has been fetched, it refreshes it every `metadata.max.age.ms` and soon after
    /// an error marks it stale (at most once per `retry.backoff.ms`, backing off to
    /// `retry.backoff.max.ms` while refreshes fail), so that readers of
    /// [`Client::cached_metadata`] see leader changes without asking. It stops when the last
    /// clone of the client is dropped.
    ///
    /// # Errors
    /// [`Error::Config`] and [`Error::Tls`].
    pub fn new(config: ClientConfig) -> Result<Client, Error> {
        let client = Client::without_refresher(config)?;
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(metadata_refresher(
                Arc::downgrade(&client.inner),
                client.inner.metadata.clone(),
                client.inner.config.clone(),
            ));
        }
        Ok(client)
    }

    fn without_refresher(config: ClientConfig) -> Result<Client, Error> {
        config.validate()?;
        let config = Arc::new(config);
        let connector = Connector::new(config.clone())?;
        let bootstrap = config
            .bootstrap_servers
            .iter()
            .enumerate()
            .map(|(i, addr)| BrokerRef {
                node_id: -1 - i as i32,
                addr: addr.clone(),
            })
            .collect();
        let client = Client {
            inner: Arc::new(Inner {
                config,
                connector,
                bootstrap,
                slots: Mutex::new(HashMap::new()),
                metadata: Arc::new(MetadataState::default()),
                coordinators: Mutex::new(HashMap::new()),
            }),
        };
        Ok(client)
    }

    /// The configuration in use.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    // ----- sending -----

    /// Sends `req` to `target` at the version negotiated with that broker and returns the
    /// response. One attempt: errors in the response body are the caller's to read; wrap in
    /// [`Client::with_retries`] to retry.
    ///
    /// # Errors
    /// Routing errors ([`Error::UnknownTopicOrPartition`], [`Error::LeaderNotAvailable`],
    /// coordinator lookup errors), connection errors, [`Error::Timeout`],
    /// [`Error::NoCommonVersion`], [`Error::Wire`].
    pub async fn send<R>(&self, target: Target, req: R) -> Result<R::Response, Error>
    where
        R: KafkaRequest,
        R::Response: ThrottleTime,
    {
        self.send_with(target, SendOptions::default(), |_| req)
            .await
    }

    /// Like [`Client::send`], building the request once the version is known (some fields
    /// exist only from some version on): `build` gets the negotiated version.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn send_with<R, F>(
        &self,
        target: Target,
        options: SendOptions,
        build: F,
    ) -> Result<R::Response, Error>
    where
        R: KafkaRequest,
        R::Response: ThrottleTime,
        F: FnOnce(i16) -> R,
    {
        let purpose = options.purpose.unwrap_or(Purpose::for_api(R::API_KEY));
        let conn = self.connection_for(&target, purpose).await?;
        let version = conn.version_of::<R>()?;
        let req = build(version);
        let timeout = options.timeout.unwrap_or(self.inner.config.request_timeout);
        let result = conn.send_versioned(&req, version, timeout).await;
        if let Err(e) = &result {
            self.note_failure(&target, e);
        }
        result
    }

    /// Sends a request that gets no response (Produce with acks=0); returns once written.
    ///
    /// # Errors
    /// Routing and connection errors as [`Client::send`].
    pub async fn send_no_response<R, F>(&self, target: Target, build: F) -> Result<(), Error>
    where
        R: KafkaRequest,
        F: FnOnce(i16) -> R,
    {
        let conn = self
            .connection_for(&target, Purpose::for_api(R::API_KEY))
            .await?;
        let version = conn.version_of::<R>()?;
        let result = conn.send_no_response(&build(version), version).await;
        if let Err(e) = &result {
            self.note_failure(&target, e);
        }
        result
    }

    /// [`Client::send`] to a broker by node id.
    ///
    /// # Errors
    /// As [`Client::send`]; [`Error::UnknownBroker`] for a node not in metadata.
    pub async fn send_to_broker<R>(&self, node_id: i32, req: R) -> Result<R::Response, Error>
    where
        R: KafkaRequest,
        R::Response: ThrottleTime,
    {
        self.send(Target::Broker(node_id), req).await
    }

    /// [`Client::send`] to any broker.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn send_any<R>(&self, req: R) -> Result<R::Response, Error>
    where
        R: KafkaRequest,
        R::Response: ThrottleTime,
    {
        self.send(Target::Any, req).await
    }

    /// [`Client::send`] to the leader of a partition.
    ///
    /// # Errors
    /// As [`Client::send`].
    pub async fn send_to_leader<R>(
        &self,
        topic: &str,
        partition: i32,
        req: R,
    ) -> Result<R::Response, Error>
    where
        R: KafkaRequest,
        R::Response: ThrottleTime,
    {
        self.send(Target::Leader(TopicPartition::new(topic, partition)), req)
            .await
    }

    /// The live connection for `target` and `purpose`, connecting if needed: for components
    /// that pipeline many requests on one connection themselves (the producer's per-broker
    /// sink, the consumer's fetch source).
    ///
    /// # Errors
    /// Routing and connection errors.
    pub async fn connection_for(
        &self,
        target: &Target,
        purpose: Purpose,
    ) -> Result<Arc<Connection>, Error> {
        let broker = self.resolve(target).await?;
        let result = self
            .slot(&broker, purpose)
            .get(
                &self.inner.connector,
                self.inner.config.connections_max_idle,
            )
            .await;
        if let Err(e) = &result {
            self.note_failure(target, e);
        }
        result
    }

    /// The connection to a broker by node id for `purpose`.
    ///
    /// # Errors
    /// [`Error::UnknownBroker`] and connection errors.
    pub async fn connection(
        &self,
        node_id: i32,
        purpose: Purpose,
    ) -> Result<Arc<Connection>, Error> {
        self.connection_for(&Target::Broker(node_id), purpose).await
    }

    fn note_failure(&self, target: &Target, e: &Error) {
        if e.invalidates_metadata() {
            self.inner.metadata.mark_stale();
        }
        match target {
            Target::GroupCoordinator(g) if e.invalidates_coordinator() => {
                self.invalidate_coordinator(CoordinatorKind::Group, g)
            }
            Target::TransactionCoordinator(t) if e.invalidates_coordinator() => {
                self.invalidate_coordinator(CoordinatorKind::Transaction, t)
            }
            _ => {}
        }
    }

    fn slot(&self, broker: &BrokerRef, purpose: Purpose) -> Arc<Slot> {
        let mut slots = self.inner.slots.lock().unwrap_or_else(|e| e.into_inner());
        let key = (broker.node_id, purpose);
        if let Some(slot) = slots.get(&key) {
            if slot.broker.addr == broker.addr {
                return slot.clone();
            }
            // The node moved to another address: the old connection is useless.
            slot.close();
        }
        let backoff = Backoff::new(
            self.inner.config.reconnect_backoff,
            self.inner.config.reconnect_backoff_max,
        );
        let slot = Arc::new(Slot::new(broker.clone(), backoff));
        slots.insert(key, slot.clone());
        slot
    }

    async fn resolve(&self, target: &Target) -> Result<BrokerRef, Error> {
        match target {
            Target::Any => Ok(self.any_broker()),
            Target::Broker(id) => self.broker_ref(*id).await,
            Target::Leader(tp) => {
                let node = self.leader_for(&tp.topic, tp.partition).await?;
                self.broker_ref(node).await
            }
            Target::GroupCoordinator(g) => self.coordinator(CoordinatorKind::Group, g).await,
            Target::TransactionCoordinator(t) => {
                self.coordinator(CoordinatorKind::Transaction, t).await
            }
            Target::Controller => match self.metadata().await?.controller {
                Some(id) => self.broker_ref(id).await,
                None => Ok(self.any_broker()),
            },
        }
    }

    async fn broker_ref(&self, node_id: i32) -> Result<BrokerRef, Error> {
        if node_id < 0 {
            return self
                .inner
                .bootstrap
                .iter()
                .find(|b| b.node_id == node_id)
                .cloned()
                .ok_or(Error::UnknownBroker { node_id });
        }
        let mut cluster = self.inner.metadata.snapshot();
        if cluster.broker(node_id).is_none() && cluster.updated_at.is_some() {
            if let Some(b) = self.known_coordinator_addr(node_id) {
                return Ok(b);
            }
            cluster = self.refresh_metadata().await?;
        }
        if cluster.updated_at.is_none() {
            cluster = self.refresh_metadata().await?;
        }
        cluster
            .broker(node_id)
            .map(|b| BrokerRef {
                node_id,
                addr: b.addr(),
            })
            .or_else(|| self.known_coordinator_addr(node_id))
            .ok_or(Error::UnknownBroker { node_id })
    }

    fn known_coordinator_addr(&self, node_id: i32) -> Option<BrokerRef> {
        let coordinators = self
            .inner
            .coordinators
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        coordinators
            .values()
            .find(|b| b.node_id == node_id)
            .cloned()
    }

    /// The broker for an "any broker" request: the live General connection with the fewest
    /// requests in flight, else a random known broker, else a random bootstrap server.
    fn any_broker(&self) -> BrokerRef {
        let cluster = self.inner.metadata.snapshot();
        {
            let slots = self.inner.slots.lock().unwrap_or_else(|e| e.into_inner());
            let best = slots
                .iter()
                .filter(|((id, p), _)| {
                    *p == Purpose::General && (*id >= 0 || cluster.brokers.is_empty())
                })
                .filter_map(|(_, s)| s.live().map(|c| (c.in_flight(), s.broker.clone())))
                .filter(|(_, b)| {
                    b.node_id < 0
                        || cluster.broker(b.node_id).map(|i| i.addr()) == Some(b.addr.clone())
                })
                .min_by_key(|(n, _)| *n);
            if let Some((_, b)) = best {
                return b;
            }
        }
        let mut rng = rand::thread_rng();
        let brokers: Vec<_> = cluster.brokers.values().collect();
        if let Some(b) = brokers.choose(&mut rng) {
            return BrokerRef {
                node_id: b.node_id,
                addr: b.addr(),
            };
        }
        self.inner
            .bootstrap
            .choose(&mut rng)
            .cloned()
            .expect("validate() guarantees a bootstrap server")
    }

    // ----- metadata -----

    /// The cached metadata, refreshed first when older than `metadata.max.age.ms` or marked
    /// stale by an error.
    ///
    /// # Errors
    /// The refresh's error when no cached metadata exists yet; with a cache, a failed refresh
    /// falls back to it.
    pub async fn metadata(&self) -> Result<Arc<Cluster>, Error> {
        let cluster = self.inner.metadata.snapshot();
        if self.inner.metadata.is_stale()
            || cluster.is_older_than(self.inner.config.metadata_max_age, crate::now())
        {
            match self.refresh_metadata().await {
                Ok(c) => return Ok(c),
                Err(e) if cluster.updated_at.is_none() => return Err(e),
                Err(e) => tracing::debug!(error = %e, "metadata refresh failed; using cache"),
            }
        }
        Ok(cluster)
    }

    /// The cached metadata as is, without any request.
    pub fn cached_metadata(&self) -> Arc<Cluster> {
        self.inner.metadata.snapshot()
    }

    /// Metadata that covers `topics`: adds them to the tracked set and refreshes when the cache
    /// says nothing about one of them. A topic the broker does not know is then in
    /// [`Cluster::topic_errors`].
    ///
    /// # Errors
    /// The refresh's error.
    pub async fn metadata_for(&self, topics: &[&str]) -> Result<Arc<Cluster>, Error> {
        self.inner.metadata.track(topics.iter().copied());
        let mut cluster = self.metadata().await?;
        for _ in 0..3 {
            if topics.iter().all(|t| cluster.knows_topic(t)) {
                break;
            }
            cluster = self.refresh_metadata().await?;
        }
        Ok(cluster)
    }

    /// Stops tracking a topic in metadata refreshes.
    pub fn untrack_topic(&self, topic: &str) {
        self.inner.metadata.untrack(topic);
    }

    /// Marks the metadata stale: the next lookup refreshes it.
    pub fn invalidate_metadata(&self) {
        self.inner.metadata.mark_stale();
    }

    /// Refreshes metadata for the tracked topics. Concurrent calls coalesce into one request.
    ///
    /// # Errors
    /// The error of the last broker tried when none answered.
    pub async fn refresh_metadata(&self) -> Result<Arc<Cluster>, Error> {
        self.refresh(false).await
    }

    /// Refreshes metadata for every topic in the cluster (regex subscriptions, listing).
    ///
    /// # Errors
    /// As [`Client::refresh_metadata`].
    pub async fn refresh_all_topics(&self) -> Result<Arc<Cluster>, Error> {
        self.refresh(true).await
    }

    async fn refresh(&self, all: bool) -> Result<Arc<Cluster>, Error> {
        let state = &self.inner.metadata;
        let generation = state.generation();
        let tracked_before = state.tracked();
        let _guard = state.refresh_lock.lock().await;
        if state.generation() != generation && !state.is_stale() {
            // A refresh finished while we waited; use it if it covered what we need.
            let cluster = state.snapshot();
            if (!all || cluster.has_all_topics)
                && tracked_before.iter().all(|t| cluster.knows_topic(t))
            {
                return Ok(cluster);
            }
        }
        let selection = if all {
            TopicSelection::All
        } else {
            TopicSelection::Topics(state.tracked())
        };
        let response = self.metadata_request(&selection).await?;
        let merged = state.snapshot().merge(&response, &selection, crate::now());
        tracing::debug!(
            brokers = merged.brokers.len(),
            topics = merged.topics.len(),
            "metadata refreshed"
        );
        let cluster = state.store(merged);
        if !cluster.brokers.is_empty() {
            // Bootstrap connections have served their purpose once real node ids are known
            // (as Java's NetworkClient does); a connection still in use lives on in its users.
            self.inner
                .slots
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .retain(|(id, _), _| *id >= 0);
        }
        Ok(cluster)
    }

    /// Sends Metadata to the candidates in turn (a live connection first, then known brokers,
    /// then the bootstrap servers) until one answers.
    async fn metadata_request(
        &self,
        selection: &TopicSelection,
    ) -> Result<kafka_protocol::messages::MetadataResponse, Error> {
        let mut candidates = vec![self.any_broker()];
        let cluster = self.inner.metadata.snapshot();
        let mut others: Vec<BrokerRef> = cluster
            .brokers
            .values()
            .map(|b| BrokerRef {
                node_id: b.node_id,
                addr: b.addr(),
            })
            .collect();
        others.shuffle(&mut rand::thread_rng());
        candidates.extend(others);
        candidates.extend(self.inner.bootstrap.iter().cloned());
        let mut seen = std::collections::HashSet::new();
        candidates.retain(|b| seen.insert(b.addr.clone()));

        let topics = match selection {
            TopicSelection::All => None,
            TopicSelection::Topics(t) => Some(
                t.iter()
                    .map(|name| {
                        MetadataRequestTopic::default()
                            .with_name(Some(TopicName(StrBytes::from_string(name.clone()))))
                    })
                    .collect(),
            ),
        };
        let mut last = None;
        for broker in candidates {
            let slot = self.slot(&broker, Purpose::General);
            let conn = match slot
                .get(
                    &self.inner.connector,
                    self.inner.config.connections_max_idle,
                )
                .await
            {
                Ok(c) => c,
                Err(e) => {
                    last = Some(e);
                    continue;
                }
            };
            let req = MetadataRequest::default()
                .with_topics(topics.clone())
                .with_allow_auto_topic_creation(self.inner.config.allow_auto_create_topics);
            match conn.send(&req).await {
                Ok(resp) => return Ok(resp),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or(Error::ClientClosed))
    }

    /// The leader of a partition, from metadata (refreshed when the topic is not known yet).
    ///
    /// # Errors
    /// [`Error::UnknownTopicOrPartition`], [`Error::LeaderNotAvailable`], refresh errors.
    pub async fn leader_for(&self, topic: &str, partition: i32) -> Result<i32, Error> {
        let cluster = self.metadata_for(&[topic]).await?;
        cluster.leader_for(topic, partition)
    }

    /// The controller's node id, when metadata names one.
    ///
    /// # Errors
    /// Metadata refresh errors.
    pub async fn controller(&self) -> Result<Option<i32>, Error> {
        Ok(self.metadata().await?.controller)
    }

    // ----- coordinators -----

    /// The coordinator of a consumer group: node id (cached until invalidated).
    ///
    /// # Errors
    /// FindCoordinator errors after retries (COORDINATOR_NOT_AVAILABLE is retried until
    /// `default.api.timeout.ms`).
    pub async fn group_coordinator(&self, group_id: &str) -> Result<i32, Error> {
        Ok(self
            .coordinator(CoordinatorKind::Group, group_id)
            .await?
            .node_id)
    }

    /// The coordinator of a transactional id: node id (cached until invalidated).
    ///
    /// # Errors
    /// As [`Client::group_coordinator`].
    pub async fn transaction_coordinator(&self, transactional_id: &str) -> Result<i32, Error> {
        Ok(self
            .coordinator(CoordinatorKind::Transaction, transactional_id)
            .await?
            .node_id)
    }

    /// Forgets a cached coordinator (after NOT_COORDINATOR or COORDINATOR_NOT_AVAILABLE).
    pub fn invalidate_coordinator(&self, kind: CoordinatorKind, key: &str) {
        self.inner
            .coordinators
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&(kind, key.to_string()));
    }

    async fn coordinator(&self, kind: CoordinatorKind, key: &str) -> Result<BrokerRef, Error> {
        if let Some(b) = self
            .inner
            .coordinators
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(kind, key.to_string()))
        {
            return Ok(b.clone());
        }
        let broker = self
            .with_retries("FindCoordinator", || self.find_coordinator(kind, key))
            .await?;
        self.inner
            .coordinators
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((kind, key.to_string()), broker.clone());
        Ok(broker)
    }

    /// Boxed: FindCoordinator goes through `send_with`, which resolves targets, which may
    /// look up a coordinator.
    fn find_coordinator<'a>(
        &'a self,
        kind: CoordinatorKind,
        key: &'a str,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<BrokerRef, Error>> + Send + 'a>> {
        Box::pin(self.find_coordinator_inner(kind, key))
    }

    async fn find_coordinator_inner(
        &self,
        kind: CoordinatorKind,
        key: &str,
    ) -> Result<BrokerRef, Error> {
        let resp: FindCoordinatorResponse = self
            .send_with(Target::Any, SendOptions::default(), |version| {
                let req = FindCoordinatorRequest::default().with_key_type(kind.key_type());
                if version >= 4 {
                    // KIP-699: batched keys.
                    req.with_coordinator_keys(vec![StrBytes::from_string(key.to_string())])
                } else {
                    req.with_key(StrBytes::from_string(key.to_string()))
                }
            })
            .await?;
        let (code, message, node, host, port) = match resp.coordinators.first() {
            Some(c) => (
                c.error_code,
                c.error_message.clone(),
                c.node_id.0,
                c.host.clone(),
                c.port,
            ),
            None => (
                resp.error_code,
                resp.error_message.clone(),
                resp.node_id.0,
                resp.host.clone(),
                resp.port,
            ),
        };
        Error::check(code, message.as_deref(), "FindCoordinator", None, None)?;
        if node < 0 {
            return Err(Error::broker(
                ErrorCode::COORDINATOR_NOT_AVAILABLE,
                None,
                "FindCoordinator",
            ));
        }
        let addr = format!("{host}:{port}");
        let addr = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            addr
        };
        debug_assert!(split_host_port(&addr).is_some());
        Ok(BrokerRef {
            node_id: node,
            addr,
        })
    }

    // ----- retries -----

    /// Runs `attempt` until it succeeds, fails with a non-retriable error, or
    /// `default.api.timeout.ms` passes; waits with jittered exponential backoff
    /// (`retry.backoff.ms` → `retry.backoff.max.ms`) between attempts and marks metadata stale
    /// after errors that mean it is out of date.
    ///
    /// # Errors
    /// The first non-retriable error, or [`Error::DeadlineExceeded`] holding the last error.
    pub async fn with_retries<T, F, Fut>(&self, operation: &str, attempt: F) -> Result<T, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        self.with_retries_until(
            operation,
            crate::now() + self.inner.config.default_api_timeout,
            attempt,
        )
        .await
    }

    /// [`Client::with_retries`] with an explicit deadline.
    ///
    /// # Errors
    /// As [`Client::with_retries`].
    pub async fn with_retries_until<T, F, Fut>(
        &self,
        operation: &str,
        deadline: Instant,
        mut attempt: F,
    ) -> Result<T, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let started = crate::now();
        let backoff = Backoff::new(
            self.inner.config.retry_backoff,
            self.inner.config.retry_backoff_max,
        );
        let mut policy = RetryPolicy::new(backoff, deadline);
        let mut last: Option<Error> = None;
        loop {
            let error = match tokio::time::timeout_at(deadline.into(), attempt()).await {
                Ok(Ok(v)) => return Ok(v),
                Ok(Err(e)) => e,
                Err(_) => {
                    // The attempt in progress was cut off: report the failure before it, or
                    // that the attempt itself ran out of time.
                    let last = last.unwrap_or_else(|| Error::Timeout {
                        broker: BrokerRef {
                            node_id: -1,
                            addr: "(no response)".to_string(),
                        },
                        what: operation.to_string(),
                        after: crate::now().saturating_duration_since(started),
                    });
                    return Err(Error::DeadlineExceeded {
                        operation: operation.to_string(),
                        after: crate::now().saturating_duration_since(started),
                        last: Box::new(last),
                    });
                }
            };
            if error.invalidates_metadata() {
                self.inner.metadata.mark_stale();
            }
            let retriable = error.is_retriable();
            let decision = policy.on_failure(retriable, crate::now(), &mut rand::thread_rng());
            match decision {
                RetryDecision::RetryAfter(delay) => {
                    tracing::debug!(operation, error = %error, ?delay, attempt = policy.attempts(), "retrying");
                    last = Some(error);
                    tokio::time::sleep(delay).await;
                }
                RetryDecision::GiveUp if retriable => {
                    return Err(Error::DeadlineExceeded {
                        operation: operation.to_string(),
                        after: crate::now().saturating_duration_since(started),
                        last: Box::new(error),
                    })
                }
                RetryDecision::GiveUp => return Err(error),
            }
        }
    }

    /// Closes every connection; requests in flight fail with [`Error::ConnectionClosed`].
    /// The client stays usable: the next request reconnects.
    pub fn close(&self) {
        let slots: Vec<_> = self
            .inner
            .slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain()
            .map(|(_, s)| s)
            .collect();
        for s in slots {
            s.close();
        }
    }
}

/// The background metadata refresher (see [`Client::new`]). Holds only a weak reference so the
/// client can be dropped; ends on `shutdown`.
async fn metadata_refresher(
    client: std::sync::Weak<Inner>,
    state: Arc<MetadataState>,
    config: Arc<ClientConfig>,
) {
    let mut failures = Backoff::new(config.retry_backoff, config.retry_backoff_max);
    let mut earliest = crate::now();
    loop {
        let now = crate::now();
        let snapshot = state.snapshot();
        let due = match snapshot.updated_at {
            // Nothing fetched yet: the first fetch is the caller's; wait for a stale mark.
            None if !state.is_stale() => None,
            _ if state.is_stale() => Some(now),
            None => Some(now),
            Some(at) => Some(at + config.metadata_max_age),
        };
        let wake = due.map(|d| d.max(earliest));
        tokio::select! {
            _ = state.shutdown.cancelled() => return,
            _ = state.notify.notified() => continue,
            _ = async {
                match wake {
                    Some(w) => tokio::time::sleep_until(w.into()).await,
                    None => std::future::pending().await,
                }
            } => {}
        }
        let Some(inner) = client.upgrade() else {
            return;
        };
        let client_now = Client { inner };
        let snapshot = state.snapshot();
        if state.is_stale() || snapshot.is_older_than(config.metadata_max_age, crate::now()) {
            let result = client_now.refresh_metadata().await;
            let gap = match result {
                Ok(_) => {
                    failures.reset();
                    config.retry_backoff
                }
                Err(e) => {
                    tracing::debug!(error = %e, "background metadata refresh failed");
                    let mut rng = rand::thread_rng();
                    failures.next_delay(&mut rng)
                }
            };
            earliest = crate::now() + gap;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn client() -> Client {
        let config = ClientConfig::builder()
            .bootstrap_servers("127.0.0.1:1")
            .retry_backoff(Duration::from_millis(100))
            .retry_backoff_max(Duration::from_millis(1000))
            .default_api_timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        // No background refresher: these tests must not touch sockets.
        Client::without_refresher(config).unwrap()
    }

    fn not_leader() -> Error {
        Error::broker(ErrorCode::NOT_LEADER_OR_FOLLOWER, None, "Produce")
    }

    #[tokio::test(start_paused = true)]
    async fn retries_retriable_errors_until_success_and_marks_metadata_stale() {
        let client = client();
        let attempts = AtomicU32::new(0);
        let value = client
            .with_retries("op", || async {
                if attempts.fetch_add(1, Ordering::SeqCst) < 2 {
                    Err(not_leader())
                } else {
                    Ok(7)
                }
            })
            .await
            .unwrap();
        assert_eq!(value, 7);
        assert_eq!(attempts.load(Ordering::SeqCst), 3);
        assert!(client.inner.metadata.is_stale());
    }

    #[tokio::test(start_paused = true)]
    async fn fatal_errors_are_not_retried() {
        let client = client();
        let attempts = AtomicU32::new(0);
        let err = client
            .with_retries("op", || async {
                attempts.fetch_add(1, Ordering::SeqCst);
                Err::<(), _>(Error::broker(
                    ErrorCode::TOPIC_AUTHORIZATION_FAILED,
                    None,
                    "Produce",
                ))
            })
            .await
            .unwrap_err();
        assert_eq!(attempts.load(Ordering::SeqCst), 1);
        assert_eq!(err.code(), Some(ErrorCode::TOPIC_AUTHORIZATION_FAILED));
    }

    #[tokio::test(start_paused = true)]
    async fn deadline_ends_retries_with_the_last_error() {
        let client = client();
        let attempts = AtomicU32::new(0);
        let err = client
            .with_retries("op", || async {
                attempts.fetch_add(1, Ordering::SeqCst);
                Err::<(), _>(not_leader())
            })
            .await
            .unwrap_err();
        // 100+200+400+800+1000*n ms of backoff (±20 %) fit in 10 s: between 9 and 16 attempts.
        let n = attempts.load(Ordering::SeqCst);
        assert!((9..=16).contains(&n), "{n} attempts");
        assert!(
            matches!(&err, Error::DeadlineExceeded { last, .. } if last.code() == Some(ErrorCode::NOT_LEADER_OR_FOLLOWER)),
            "{err:?}"
        );
        assert_eq!(err.code(), Some(ErrorCode::NOT_LEADER_OR_FOLLOWER));
    }

    #[tokio::test(start_paused = true)]
    async fn hanging_attempt_is_cut_at_the_deadline() {
        let client = client();
        let err = client
            .with_retries("op", std::future::pending::<Result<(), Error>>)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::DeadlineExceeded { last, .. } if matches!(**last, Error::Timeout { .. })),
            "{err:?}"
        );
    }

    #[test]
    fn purposes_by_api() {
        assert_eq!(Purpose::for_api(ApiKey::Produce), Purpose::Produce);
        assert_eq!(Purpose::for_api(ApiKey::Fetch), Purpose::Fetch);
        assert_eq!(Purpose::for_api(ApiKey::Heartbeat), Purpose::Group);
        assert_eq!(Purpose::for_api(ApiKey::Metadata), Purpose::General);
    }
}
