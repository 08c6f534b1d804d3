//! Clean shutdown on SIGINT/SIGTERM.
//!
//! The first signal flips a watch channel that loops select on, so the current batch finishes,
//! offsets are committed and the group is left (Java's verifiable consumer does this from its
//! shutdown hook via `wakeup()`). A second signal exits at once with 128+signo, for an impatient
//! Ctrl-C.

use tokio::sync::watch;

/// A cloneable handle that resolves once a shutdown signal arrived.
#[derive(Debug, Clone)]
pub struct Shutdown {
    rx: watch::Receiver<bool>,
}

impl Shutdown {
    /// Installs the SIGINT/SIGTERM handlers (must run inside a tokio runtime).
    ///
    /// # Errors
    /// When the signal handlers cannot be registered.
    pub fn install() -> std::io::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        let mut sigint = signal(SignalKind::interrupt())?;
        let mut sigterm = signal(SignalKind::terminate())?;
        let (tx, rx) = watch::channel(false);
        tokio::spawn(async move {
            let mut seen = 0;
            loop {
                let signo = tokio::select! {
                    _ = sigint.recv() => libc::SIGINT,
                    _ = sigterm.recv() => libc::SIGTERM,
                };
                seen += 1;
                if seen > 1 {
                    std::process::exit(128 + signo);
                }
                tracing::debug!(signo, "shutdown requested");
                let _ = tx.send(true);
            }
        });
        Ok(Shutdown { rx })
    }

    /// A handle that never fires (tests and library-style callers).
    pub fn never() -> Self {
        let (tx, rx) = watch::channel(false);
        // Keep the sender alive forever so `wait` stays pending rather than erroring.
        std::mem::forget(tx);
        Shutdown { rx }
    }

    /// True once a signal arrived.
    pub fn requested(&self) -> bool {
        *self.rx.borrow()
    }

    /// Resolves when a signal arrives (immediately if one already did). Cancel-safe.
    pub async fn wait(&mut self) {
        // An error means the sender is gone, which only happens at process exit.
        let _ = self.rx.wait_for(|requested| *requested).await;
    }
}
