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
