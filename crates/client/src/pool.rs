//! Connections by broker and purpose, each re-established with backoff on next use after a
//! failure.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::backoff::Backoff;
use crate::connection::handshake::Connector;
use crate::connection::reconnect::ReconnectState;
use crate::connection::Connection;
use crate::error::{BrokerRef, Error};

/// What a connection is used for. Each purpose gets its own connection per broker so that a
/// long-held request (a Fetch waiting `fetch.max.wait.ms`, a JoinGroup held for a rebalance)
/// does not delay the others behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Purpose {
    /// Metadata, admin and everything else.
    General,
    /// Produce requests.
    Produce,
    /// Fetch requests.
    Fetch,
    /// Group membership (JoinGroup, SyncGroup, Heartbeat, commits).
    Group,
}

/// One (broker, purpose) connection slot.
#[derive(Debug)]
pub(crate) struct Slot {
    pub broker: BrokerRef,
    state: tokio::sync::Mutex<SlotState>,
    /// Finished connect attempts; read before queueing on `state` to share a failure.
    attempts: AtomicU64,
    /// The live connection, readable without waiting on `state`.
    current: Mutex<Option<Arc<Connection>>>,
}

#[derive(Debug)]
struct SlotState {
    reconnect: ReconnectState,
}

impl Slot {
    pub fn new(broker: BrokerRef, backoff: Backoff) -> Self {
        Slot {
            broker,
            state: tokio::sync::Mutex::new(SlotState {
                reconnect: ReconnectState::new(backoff),
            }),
            attempts: AtomicU64::new(0),
            current: Mutex::new(None),
        }
    }

    /// The live connection, if any, without connecting.
    pub fn live(&self) -> Option<Arc<Connection>> {
        let current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        current.as_ref().filter(|c| c.is_alive()).cloned()
    }

    /// The live connection, connecting (after the reconnect backoff) when there is none.
    /// Callers queued behind a failing attempt get its error rather than trying again.
    pub async fn get(
        &self,
        connector: &Connector,
        max_idle: std::time::Duration,
    ) -> Result<Arc<Connection>, Error> {
        if let Some(c) = self.live_not_idle(max_idle) {
            return Ok(c);
        }
        let seen = self.attempts.load(Ordering::Acquire);
        let mut state = self.state.lock().await;
        if let Some(c) = self.live_not_idle(max_idle) {
            return Ok(c);
        }
        if let Some(e) = state.reconnect.shared_failure(seen) {
            return Err(e);
        }
        if let Some(at) = state.reconnect.next_attempt() {
            if at > crate::now() {
                tokio::time::sleep_until(at.into()).await;
            }
        }
        let result = connector.connect(self.broker.clone()).await;
        let out = match result {
            Ok(conn) => {
                state.reconnect.on_success();
                let conn = Arc::new(conn);
                *self.current.lock().unwrap_or_else(|e| e.into_inner()) = Some(conn.clone());
                Ok(conn)
            }
            Err(e) => {
                tracing::debug!(broker = %self.broker, error = %e, "connect failed");
                let mut rng = rand::thread_rng();
                state
                    .reconnect
                    .on_failure(e.clone(), crate::now(), &mut rng);
                Err(e)
            }
        };
        self.attempts
            .store(state.reconnect.attempts(), Ordering::Release);
        out
    }

    fn live_not_idle(&self, max_idle: std::time::Duration) -> Option<Arc<Connection>> {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        match current.as_ref() {
            Some(c)
                if c.is_alive()
                    && crate::now().saturating_duration_since(c.last_used()) < max_idle =>
            {
                Some(c.clone())
            }
            Some(_) => {
                // Dead or idle past connections.max.idle.ms: drop it so it closes.
                *current = None;
                None
            }
            None => None,
        }
    }

    /// Closes the live connection, if any.
    pub fn close(&self) {
        if let Some(c) = self
            .current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            c.close(Error::ConnectionClosed {
                broker: self.broker.clone(),
                api: None,
            });
        }
    }
}
