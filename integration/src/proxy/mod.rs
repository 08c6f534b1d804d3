//! The multi-broker fixture: N virtual brokers in front of one Tansu.
//!
//! Tansu is always a single broker (node 111, leader of everything), so nothing a client does
//! about leaders, coordinators or broker failures can be tested against it alone. This proxy runs
//! inside the test process and presents N brokers (node ids `1..=N`, default 3), each on its
//! own loopback port. Every client connection gets its own upstream connection to Tansu; frames
//! pass through unchanged except for:
//!
//! - **Metadata**: the brokers list becomes the live virtual brokers; partition `p` of every
//!   topic is led by node `p % N + 1` with leader epoch 0 unless moved with
//!   [`MultiBrokerProxy::move_leader`]; every node is a replica (leader first); killed nodes
//!   drop out of the brokers list and the ISR, and partitions they lead report leader -1 with
//!   LEADER_NOT_AVAILABLE. The controller is the lowest live node.
//! - **FindCoordinator** (v0–v6): the coordinator is node 1 unless changed with
//!   [`MultiBrokerProxy::set_coordinator`]; COORDINATOR_NOT_AVAILABLE while it is killed.
//! - **DescribeCluster**: brokers and controller as in Metadata.
//! - **Group requests** (JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch,
//!   DescribeGroups) sent to a node other than the coordinator get NOT_COORDINATOR (16) without
//!   reaching Tansu; [`MultiBrokerProxy::set_coordinator`] thus moves every group at once.
//! - **Produce, Fetch, ListOffsets**: partitions sent to a node that does not lead them get
//!   NOT_LEADER_OR_FOLLOWER (6); Fetch/ListOffsets with a stale or future `current_leader_epoch`
//!   get FENCED_LEADER_EPOCH (74) / UNKNOWN_LEADER_EPOCH (75) (KIP-320). The other partitions
//!   of the same request still reach Tansu and both halves are merged into one response. A
//!   refused acks=0 Produce closes the connection, as Kafka does.
//!
//! Faults: [`MultiBrokerProxy::drop_connections`] (cut a node's client connections),
//! [`MultiBrokerProxy::kill_broker`] / [`MultiBrokerProxy::revive_broker`] (listener closed:
//! connecting is refused), [`MultiBrokerProxy::drop_next_response`] (the request reaches Tansu
//! and takes effect, then the connection closes without a response: a lost ack).
//!
//! Not simulated: a coordinator per group (all groups share one), TxnOffsetCommit and
//! transaction-coordinator enforcement (FindCoordinator key type 1 answers like type 0),
//! replication (all replicas are always in sync and every node serves the same log), and
//! automatic leader election (a test moves leaders off a killed node itself).

mod codec;
mod connection;
mod coordinator;
mod leadership;
mod rewrite;
mod state;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context};
use tokio::net::{TcpListener, TcpSocket};
use tokio::runtime::Handle;
use tokio::task::JoinHandle;

pub use coordinator::NOT_COORDINATOR;
pub use leadership::{FENCED_LEADER_EPOCH, NOT_LEADER_OR_FOLLOWER, UNKNOWN_LEADER_EPOCH};
pub use state::{Leadership, LoggedRequest};

use state::Shared;

/// N virtual brokers in front of one Tansu; see the [module docs](self). Stops listening and
/// closes every connection on drop.
#[derive(Debug)]
pub struct MultiBrokerProxy {
    shared: Arc<Shared>,
    upstream: String,
    runtime: Handle,
    /// Accept loop of node `i + 1` at index `i`; `None` while that node is killed.
    acceptors: Mutex<Vec<Option<JoinHandle<()>>>>,
}

impl MultiBrokerProxy {
    /// Starts `brokers` virtual brokers (node ids `1..=brokers`) on free loopback ports, in front
    /// of the Tansu at `upstream` (`host:port`). Must be called inside a tokio runtime, whose
    /// tasks then serve the connections.
    ///
    /// # Errors
    /// When `brokers` is not positive or a listener cannot be bound. Tansu is not contacted
    /// until a client sends a request.
    pub async fn start(upstream: impl Into<String>, brokers: i32) -> anyhow::Result<Self> {
        if brokers < 1 {
            bail!("a cluster needs at least one broker, got {brokers}");
        }
        let mut listeners = Vec::new();
        for _ in 0..brokers {
            listeners.push(bind(0)?);
        }
        let ports = listeners
            .iter()
            .map(|l| Ok(l.local_addr()?.port()))
            .collect::<anyhow::Result<Vec<u16>>>()?;
        let proxy = MultiBrokerProxy {
            shared: Arc::new(Shared::new(ports)),
            upstream: upstream.into(),
            runtime: Handle::current(),
            acceptors: Mutex::new(Vec::new()),
        };
        let acceptors = listeners
            .into_iter()
            .zip(1..)
            .map(|(l, node)| Some(proxy.spawn_acceptor(node, l)))
            .collect();
        *proxy.lock_acceptors() = acceptors;
        Ok(proxy)
    }

    /// Node ids of the virtual brokers, `1..=N`.
    pub fn node_ids(&self) -> Vec<i32> {
        (1..=self.shared.brokers).collect()
    }

    /// `"127.0.0.1:PORT"` of virtual broker `node`.
    ///
    /// # Panics
    /// When `node` is not in `1..=N`.
    pub fn addr(&self, node: i32) -> String {
        self.check_node(node);
        format!("127.0.0.1:{}", self.shared.port(node))
    }

    /// All virtual brokers as a bootstrap list, `"127.0.0.1:P1,127.0.0.1:P2,..."`.
    pub fn bootstrap_servers(&self) -> String {
        self.node_ids()
            .into_iter()
            .map(|n| self.addr(n))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The Tansu address the proxy forwards to.
    pub fn upstream(&self) -> &str {
        &self.upstream
    }

    /// Current leader and leader epoch of `topic`/`partition`.
    pub fn leader(&self, topic: &str, partition: i32) -> Leadership {
        let inner = self.shared.lock();
        self.shared.leadership(&inner, topic, partition)
    }

    /// Makes `to_node` the leader of `topic`/`partition` and bumps its leader epoch by one (even
    /// when the leader does not change, as a re-election would). Clients learn of it from their
    /// next Metadata request or from the NOT_LEADER_OR_FOLLOWER their old leader now returns.
    ///
    /// # Panics
    /// When `to_node` is not in `1..=N`.
    pub fn move_leader(&self, topic: &str, partition: i32, to_node: i32) -> Leadership {
        self.check_node(to_node);
        let mut inner = self.shared.lock();
        let old = self.shared.leadership(&inner, topic, partition);
        let new = Leadership {
            leader: to_node,
            epoch: old.epoch + 1,
        };
        inner.leaders.insert((topic.to_owned(), partition), new);
        new
    }

    /// Makes `node` the coordinator of every group (and transaction) that FindCoordinator names;
    /// group requests reaching another node get NOT_COORDINATOR from now on.
    ///
    /// # Panics
    /// When `node` is not in `1..=N`.
    pub fn set_coordinator(&self, node: i32) {
        self.check_node(node);
        self.shared.lock().coordinator = node;
    }

    /// Closes every client connection of `node` now (requests in flight get no response). New
    /// connections are accepted as before.
    ///
    /// # Panics
    /// When `node` is not in `1..=N`.
    pub fn drop_connections(&self, node: i32) {
        self.check_node(node);
        self.shared.disconnect(node);
    }

    /// Takes `node` down: its listener closes (connecting is refused), its connections are cut,
    /// and Metadata stops listing it. Idempotent.
    ///
    /// # Panics
    /// When `node` is not in `1..=N`.
    pub fn kill_broker(&self, node: i32) {
        self.check_node(node);
        self.shared.lock().killed.insert(node);
        if let Some(task) = self.lock_acceptors()[(node - 1) as usize].take() {
            task.abort();
        }
        self.shared.disconnect(node);
    }

    /// Brings a killed `node` back on its old port. Idempotent.
    ///
    /// # Errors
    /// When the old port cannot be bound again (another process took it).
    ///
    /// # Panics
    /// When `node` is not in `1..=N`.
    pub fn revive_broker(&self, node: i32) -> anyhow::Result<()> {
        self.check_node(node);
        let mut acceptors = self.lock_acceptors();
        let slot = &mut acceptors[(node - 1) as usize];
        if slot.is_none() {
            let _enter = self.runtime.enter();
            let listener =
                bind(self.shared.port(node)).with_context(|| format!("re-binding node {node}"))?;
            *slot = Some(self.spawn_acceptor(node, listener));
        }
        drop(acceptors);
        self.shared.lock().killed.remove(&node);
        Ok(())
    }

    /// Arms a one-shot fault: the next request with `api_key` sent to `node` is forwarded to
    /// Tansu (so it takes effect) but the client connection is then closed instead of answered.
    /// For idempotence tests: a Produce applied whose response is lost.
    ///
    /// # Panics
    /// When `node` is not in `1..=N`.
    pub fn drop_next_response(&self, node: i32, api_key: i16) {
        self.check_node(node);
        self.shared.lock().drop_next.push((node, api_key));
    }

    /// Every request seen so far, in arrival order.
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.shared.lock().log.clone()
    }

    /// Forgets the requests seen so far.
    pub fn clear_request_log(&self) {
        self.shared.lock().log.clear();
    }

    fn check_node(&self, node: i32) {
        assert!(
            self.shared.is_node(node),
            "node {node} is not one of the proxy's brokers 1..={}",
            self.shared.brokers
        );
    }

    fn lock_acceptors(&self) -> std::sync::MutexGuard<'_, Vec<Option<JoinHandle<()>>>> {
        self.acceptors.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn spawn_acceptor(&self, node: i32, listener: TcpListener) -> JoinHandle<()> {
        let shared = Arc::clone(&self.shared);
        let upstream = self.upstream.clone();
        self.runtime.spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((client, _)) => {
                        tokio::spawn(connection::serve(
                            Arc::clone(&shared),
                            node,
                            client,
                            upstream.clone(),
                        ));
                    }
                    Err(e) => {
                        tracing::warn!(node, error = %e, "proxy accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    }
                }
            }
        })
    }
}

impl Drop for MultiBrokerProxy {
    fn drop(&mut self) {
        for task in self.lock_acceptors().iter_mut().filter_map(Option::take) {
            task.abort();
        }
        for node in self.node_ids() {
            self.shared.disconnect(node);
        }
    }
}

/// Binds a loopback listener; SO_REUSEADDR so a revived node gets its port back while the old
/// connections sit in TIME_WAIT.
fn bind(port: u16) -> anyhow::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))?;
    Ok(socket.listen(1024)?)
}
