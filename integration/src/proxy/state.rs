//! The simulated cluster's state, shared by the control API and every proxied connection.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use tokio::sync::watch;

/// One request the proxy saw, in arrival order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    /// The virtual broker (node id) the client sent it to.
    pub node: i32,
    /// Kafka API key (Kafka protocol guide, "Api Keys").
    pub api_key: i16,
    /// Request version.
    pub api_version: i16,
    /// Client's correlation id.
    pub correlation_id: i32,
}

/// Leader and leader epoch of one partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leadership {
    /// Node id of the leader.
    pub leader: i32,
    /// Leader epoch (KIP-101, KIP-320); bumped on every move.
    pub epoch: i32,
}

#[derive(Debug, Default)]
pub(crate) struct Inner {
    /// Partitions moved away from their default leader.
    pub leaders: HashMap<(String, i32), Leadership>,
    pub coordinator: i32,
    pub killed: HashSet<i32>,
    /// One-shot (node, api key) pairs whose next response is swallowed.
    pub drop_next: Vec<(i32, i16)>,
    pub log: Vec<LoggedRequest>,
    /// Topic ids learnt from Metadata responses, for Fetch v13+ which names topics by id.
    pub topic_names: HashMap<[u8; 16], String>,
}

/// State shared between the control API and the connection tasks.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Number of virtual brokers; node ids are `1..=brokers`.
    pub brokers: i32,
    /// Listener port of node `i + 1` at index `i`; fixed for the proxy's lifetime.
    pub ports: Vec<u16>,
    inner: Mutex<Inner>,
    /// Bumped to close every client connection of a node (index `node - 1`).
    pub disconnect: Vec<watch::Sender<u64>>,
}

impl Shared {
    pub fn new(ports: Vec<u16>) -> Shared {
        let brokers = ports.len() as i32;
        Shared {
            brokers,
            disconnect: ports.iter().map(|_| watch::channel(0).0).collect(),
            ports,
            inner: Mutex::new(Inner {
                coordinator: 1,
                ..Inner::default()
            }),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panicking test thread must not take every other connection down with it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn port(&self, node: i32) -> u16 {
        self.ports[(node - 1) as usize]
    }

    pub fn is_node(&self, node: i32) -> bool {
        (1..=self.brokers).contains(&node)
    }

    /// Default placement: partition `p` is led by node `p % N + 1`, epoch 0.
    pub fn leadership(&self, inner: &Inner, topic: &str, partition: i32) -> Leadership {
        inner
            .leaders
            .get(&(topic.to_owned(), partition))
            .copied()
            .unwrap_or(Leadership {
                leader: partition.rem_euclid(self.brokers) + 1,
                epoch: 0,
            })
    }

    pub fn disconnect(&self, node: i32) {
        self.disconnect[(node - 1) as usize].send_modify(|g| *g += 1);
    }
}
