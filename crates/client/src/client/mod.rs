//! [`Client`]: routing requests to the right broker, metadata, coordinators and retries.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kafka_protocol::messages::ApiKey;
use rafka_wire::request::{Destination, KafkaRequest};
use rafka_wire::TopicPartition;
use rand::seq::SliceRandom;

use crate::backoff::Backoff;
use crate::config::ClientConfig;
use crate::connection::handshake::Connector;
use crate::connection::throttle::ThrottleTime;
use crate::connection::Connection;
use crate::error::{BrokerRef, Error};
use crate::metadata::MetadataState;
use crate::pool::{Purpose, Slot};

mod coordinator;
mod metadata;
mod refresher;
mod retry;
#[cfg(test)]
mod tests;

use refresher::metadata_refresher;

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

impl Target {
    /// True when this target can serve a request declared for `destination`
    /// ([`KafkaRequest::DESTINATION`]). A node id fits anything (the caller resolved it). Any
    /// broker also fits controller requests (a KRaft broker forwards them, KIP-590) and
    /// transaction-coordinator ones (InitProducerId without a transactional id goes to any
    /// broker, KIP-98); the controller target also takes any-broker requests.
    pub fn fits(&self, destination: Destination) -> bool {
        match self {
            Target::Broker(_) => true,
            Target::Any => matches!(
                destination,
                Destination::AnyBroker
                    | Destination::Controller
                    | Destination::TransactionCoordinator
            ),
            Target::Leader(_) => destination == Destination::PartitionLeader,
            Target::GroupCoordinator(_) => destination == Destination::GroupCoordinator,
            Target::TransactionCoordinator(_) => destination == Destination::TransactionCoordinator,
            Target::Controller => {
                matches!(
                    destination,
                    Destination::Controller | Destination::AnyBroker
                )
            }
        }
    }
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
    /// The highest version to send, below the negotiated one: for a caller that builds only
    /// an older layout of the request (OffsetFetch v1–v7 before the v8 `Groups` array).
    pub max_version: Option<i16>,
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
        debug_assert!(
            target.fits(R::DESTINATION),
            "{} is declared for {:?}, sent to {target:?}",
            R::NAME,
            R::DESTINATION
        );
        let purpose = options.purpose.unwrap_or(Purpose::for_api(R::API_KEY));
        let conn = self.connection_for(&target, purpose).await?;
        let version = conn.version_of_at_most::<R>(options.max_version)?;
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
        debug_assert!(
            target.fits(R::DESTINATION),
            "{} sent to {target:?}",
            R::NAME
        );
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
