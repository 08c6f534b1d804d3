//! [`WakeupHandle`]: interrupts a waiting [`crate::Consumer::poll`] from another task (Java's
//! `KafkaConsumer.wakeup()`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

/// The flag a wakeup sets and the notification that ends a waiting `poll`.
#[derive(Debug, Default)]
pub(crate) struct WakeupState {
    requested: AtomicBool,
    notify: Notify,
}

impl WakeupState {
    /// Takes a pending wakeup (clears it).
    pub fn take(&self) -> bool {
        self.requested.swap(false, Ordering::AcqRel)
    }

    /// Resolves when a wakeup is requested after this call was made (register it, then
    /// [`WakeupState::take`], then await, so that no wakeup falls in between).
    pub fn notified(&self) -> tokio::sync::futures::Notified<'_> {
        self.notify.notified()
    }
}

/// Makes the consumer's current or next [`poll`](crate::Consumer::poll) return
/// [`ConsumerError::Wakeup`](crate::ConsumerError::Wakeup) promptly: Java's
/// `KafkaConsumer.wakeup()`. Get one with [`Consumer::wakeup_handle`](crate::Consumer::wakeup_handle)
/// before moving the consumer into its task; it is `Clone`, `Send` and `Sync`, and cheap.
///
/// A `poll` that is waiting for records returns at once; one that is running a rebalance
/// hook or a position lookup returns when that step ends (the hook is never cut short). A
/// wakeup with no `poll` running is kept for the next one, and one wakeup ends one `poll`.
/// `stream()` yields the error as an item.
///
/// ```no_run
/// # async fn run(mut consumer: rafka_consumer::Consumer) -> Result<(), rafka_consumer::ConsumerError> {
/// use std::time::Duration;
/// use rafka_consumer::ConsumerError;
///
/// let wakeup = consumer.wakeup_handle();
/// tokio::spawn(async move {
///     tokio::signal::ctrl_c().await.ok();
///     wakeup.wakeup();
/// });
/// loop {
///     match consumer.poll(Duration::from_secs(30)).await {
///         Ok(records) => { /* process */ }
///         Err(ConsumerError::Wakeup) => break,
///         Err(e) => return Err(e),
///     }
/// }
/// consumer.close().await // commits, leaves the group
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct WakeupHandle {
    pub(crate) state: Arc<WakeupState>,
}

impl WakeupHandle {
    /// Ends the current `poll` (or the next one) with `ConsumerError::Wakeup`.
    pub fn wakeup(&self) {
        self.state.requested.store(true, Ordering::Release);
        self.state.notify.notify_waiters();
    }
}
