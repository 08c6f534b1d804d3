//! [`Client`]'s group and transaction coordinator lookup (FindCoordinator, KIP-699 batching) and cache.

use std::future::Future;

use kafka_protocol::messages::{FindCoordinatorRequest, FindCoordinatorResponse};
use kafka_protocol::protocol::StrBytes;
use rafka_wire::error_code::ErrorCode;

use super::{Client, CoordinatorKind, SendOptions, Target};
use crate::config::split_host_port;
use crate::error::{BrokerRef, Error};

impl Client {
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

    pub(super) async fn coordinator(
        &self,
        kind: CoordinatorKind,
        key: &str,
    ) -> Result<BrokerRef, Error> {
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
}
