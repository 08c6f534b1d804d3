//! One module per client under test, each with the same four entry points.

pub mod external;
pub mod librdkafka;
pub mod rafka;
pub mod rskafka;

use std::time::{SystemTime, UNIX_EPOCH};

/// This process's CPU seconds so far (user + sys, every thread), for `Outcome::clock_cpu_s`.
#[allow(unsafe_code)]
pub fn cpu_seconds() -> f64 {
    // SAFETY: rusage is plain old data (all-zero is a valid value) and the pointer is a valid,
    // exclusive reference for the duration of the call.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

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
