//! Producer counters, readable at any time (names follow Java's producer metrics).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Live counters of one producer. All counts are totals since the producer started.
#[derive(Debug, Default)]
pub struct ProducerMetrics {
    records_sent: AtomicU64,
    bytes_sent: AtomicU64,
    batches_sent: AtomicU64,
    requests: AtomicU64,
    request_latency_total_us: AtomicU64,
    request_latency_max_us: AtomicU64,
    retries: AtomicU64,
    errors: AtomicU64,
    buffer_bytes_in_use: AtomicU64,
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MetricsSnapshot {
    /// Records acknowledged (Java `record-send-total`).
    pub records_sent: u64,
    /// Encoded batch bytes sent, after compression (Java `outgoing-byte-total`, batches only).
    pub bytes_sent: u64,
    /// Batches acknowledged.
    pub batches_sent: u64,
    /// Produce requests answered.
    pub requests: u64,
    /// Mean produce request latency in µs (Java `request-latency-avg`, in ms there).
    pub request_latency_avg_us: u64,
    /// Highest produce request latency in µs (Java `request-latency-max`).
    pub request_latency_max_us: u64,
    /// Batch retries (Java `record-retry-total` counts records; this counts batches).
    pub retries: u64,
    /// Records failed (Java `record-error-total`).
    pub errors: u64,
    /// Bytes of `buffer.memory` held by unacknowledged records
    /// (Java `buffer-total-bytes - buffer-available-bytes`).
    pub buffer_bytes_in_use: u64,
    /// Mean records per acknowledged batch.
    pub avg_records_per_batch: u64,
    /// Mean encoded bytes per batch (Java `batch-size-avg`).
    pub avg_batch_size: u64,
}

impl ProducerMetrics {
    pub(crate) fn on_batch_acked(&self, records: u64) {
        self.records_sent.fetch_add(records, Relaxed);
        self.batches_sent.fetch_add(1, Relaxed);
    }
    pub(crate) fn on_batch_bytes(&self, bytes: u64) {
        self.bytes_sent.fetch_add(bytes, Relaxed);
    }
    pub(crate) fn on_request(&self, latency_us: u64) {
        self.requests.fetch_add(1, Relaxed);
        self.request_latency_total_us.fetch_add(latency_us, Relaxed);
        self.request_latency_max_us.fetch_max(latency_us, Relaxed);
    }
    pub(crate) fn on_retry(&self) {
        self.retries.fetch_add(1, Relaxed);
    }
    pub(crate) fn on_errors(&self, records: u64) {
        self.errors.fetch_add(records, Relaxed);
    }
    pub(crate) fn buffer_reserved(&self, bytes: u64) {
        self.buffer_bytes_in_use.fetch_add(bytes, Relaxed);
    }
    pub(crate) fn buffer_released(&self, bytes: u64) {
        self.buffer_bytes_in_use.fetch_sub(bytes, Relaxed);
    }

    /// Reads every counter.
    pub fn snapshot(&self) -> MetricsSnapshot {
        let requests = self.requests.load(Relaxed);
        let batches = self.batches_sent.load(Relaxed);
        let records = self.records_sent.load(Relaxed);
        let bytes = self.bytes_sent.load(Relaxed);
        MetricsSnapshot {
            records_sent: records,
            bytes_sent: bytes,
            batches_sent: batches,
            requests,
            request_latency_avg_us: self
                .request_latency_total_us
                .load(Relaxed)
                .checked_div(requests)
                .unwrap_or(0),
            request_latency_max_us: self.request_latency_max_us.load(Relaxed),
            retries: self.retries.load(Relaxed),
            errors: self.errors.load(Relaxed),
            buffer_bytes_in_use: self.buffer_bytes_in_use.load(Relaxed),
            avg_records_per_batch: records.checked_div(batches).unwrap_or(0),
            avg_batch_size: bytes.checked_div(batches).unwrap_or(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn averages_and_max() {
        let m = ProducerMetrics::default();
        m.on_request(100);
        m.on_request(300);
        m.on_batch_acked(10);
        m.on_batch_acked(30);
        m.on_batch_bytes(1000);
        m.buffer_reserved(50);
        m.buffer_released(20);
        let s = m.snapshot();
        assert_eq!(s.request_latency_avg_us, 200);
        assert_eq!(s.request_latency_max_us, 300);
        assert_eq!(s.avg_records_per_batch, 20);
        assert_eq!(s.avg_batch_size, 500);
        assert_eq!(s.buffer_bytes_in_use, 30);
    }
}
