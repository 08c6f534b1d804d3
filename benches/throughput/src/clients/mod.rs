//! One module per client under test, each with the same four entry points.

pub mod librdkafka;
pub mod rafka;
pub mod rskafka;

use std::time::{SystemTime, UNIX_EPOCH};

/// A value of `size` bytes whose first 8 bytes carry the send time (ns since the epoch), for
/// end-to-end latency.
pub fn stamped_value(size: usize) -> Vec<u8> {
    let mut v = vec![b'x'; size.max(8)];
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    v[..8].copy_from_slice(&now.to_be_bytes());
    v
}

/// Milliseconds since the stamp in `value` was written.
pub fn age_ms(value: &[u8]) -> Option<f64> {
    let stamp = u64::from_be_bytes(value.get(..8)?.try_into().ok()?);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    Some(now.saturating_sub(stamp) as f64 / 1e6)
}

/// p50 and p99 of `samples` (ms).
pub fn percentiles(mut samples: Vec<f64>) -> (f64, f64) {
    if samples.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    (at(0.50), at(0.99))
}
