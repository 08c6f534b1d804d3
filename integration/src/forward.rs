//! [`TcpForward`]: a plain TCP forwarder whose upstream can be changed, to stand for a
//! bootstrap address (a DNS name or load balancer) in front of brokers that move.

use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Forwards every connection made to [`TcpForward::addr`] to the current upstream. Changing
/// the upstream affects new connections only, as a DNS change would.
pub struct TcpForward {
    addr: String,
    upstream: Arc<Mutex<String>>,
    task: JoinHandle<()>,
}

impl TcpForward {
    /// Listens on a free port of 127.0.0.1 and forwards to `upstream` (`host:port`).
    ///
    /// # Errors
    /// When no port can be bound.
    pub async fn start(upstream: &str) -> anyhow::Result<TcpForward> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?.to_string();
        let upstream = Arc::new(Mutex::new(upstream.to_string()));
        let target = upstream.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let to = target.lock().unwrap().clone();
                tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&to).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Ok(TcpForward {
            addr,
            upstream,
            task,
        })
    }

    /// The address clients connect to.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Sends new connections to `upstream` from now on.
    pub fn retarget(&self, upstream: &str) {
        *self.upstream.lock().unwrap() = upstream.to_string();
    }
}

impl Drop for TcpForward {
    fn drop(&mut self) {
        self.task.abort();
    }
}
