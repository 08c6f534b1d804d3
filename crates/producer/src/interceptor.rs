//! Producer interceptors (Java `interceptor.classes`, KIP-42).

use crate::error::ProduceError;
use crate::record::{ProducerRecord, RecordMetadata};

/// A hook that may rewrite records before they are partitioned and observes every outcome.
///
/// Contract: `on_send` runs on the caller's task inside `send`, before the partitioner (so a
/// changed topic or key takes effect), in the order interceptors were added, each receiving
/// the previous one's output. `on_acknowledgement` runs on the producer's sender task once
/// per record, before the record's callback and future complete; it must be fast and must not
/// call back into the producer. Neither may panic.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use rafka_producer::{ProduceError, ProducerInterceptor, ProducerRecord, RecordMetadata};
///
/// /// Stamps each record with its origin and counts failed deliveries.
/// #[derive(Default)]
/// struct Audit {
///     failed: AtomicU64,
/// }
///
/// impl ProducerInterceptor for Audit {
///     fn on_send(&self, record: ProducerRecord) -> ProducerRecord {
///         record.header("origin", "billing")
///     }
///     fn on_acknowledgement(&self, result: &Result<RecordMetadata, ProduceError>) {
///         if result.is_err() {
///             self.failed.fetch_add(1, Ordering::Relaxed);
///         }
///     }
/// }
///
/// let audit = Audit::default();
/// let record = audit.on_send(ProducerRecord::new("orders").value("o-1"));
/// assert_eq!(record.headers.len(), 1);
/// // Given to the producer with `Producer::builder(config).interceptor(Arc::new(audit))`.
/// ```
pub trait ProducerInterceptor: Send + Sync {
    /// Returns the record to send (the same one, or a modified copy).
    fn on_send(&self, record: ProducerRecord) -> ProducerRecord {
        record
    }
    /// Sees the outcome of one record.
    fn on_acknowledgement(&self, result: &Result<RecordMetadata, ProduceError>) {
        let _ = result;
    }
}
