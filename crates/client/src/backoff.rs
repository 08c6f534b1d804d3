//! Jittered exponential backoff, as Java's `ExponentialBackoff` (KIP-580 for retries, KIP-144
//! for reconnects): the n-th wait is `initial * 2^n`, capped at `max`, then multiplied by a
//! random factor in `[1 - jitter, 1 + jitter]` so that many clients do not retry in lockstep.
//!
//! Pure: the random source is a parameter ([`rand::RngCore`]), so tests pass a seeded or
//! fixed generator and get exact values.

use std::time::{Duration, Instant};

use rand::{Rng, RngCore};

/// Java's jitter for retry and reconnect backoff: ±20 %.
pub const DEFAULT_JITTER: f64 = 0.2;

/// Exponential backoff state: how many waits have been handed out since the last success.
#[derive(Debug, Clone, PartialEq)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    jitter: f64,
    attempts: u32,
}

impl Backoff {
    /// Backoff from `initial` doubling up to `max`, ±20 % jitter.
    pub fn new(initial: Duration, max: Duration) -> Self {
        Backoff {
            initial,
            max: max.max(initial),
            jitter: DEFAULT_JITTER,
            attempts: 0,
        }
    }

    /// Replaces the jitter fraction (0 = none), clamped to `[0, 1]`.
    pub fn with_jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter.clamp(0.0, 1.0);
        self
    }

    /// The next wait; each call doubles the base until `max`.
    pub fn next_delay(&mut self, rng: &mut dyn RngCore) -> Duration {
        let factor = if self.jitter > 0.0 {
            rng.gen_range(1.0 - self.jitter..=1.0 + self.jitter)
        } else {
            1.0
        };
        let delay = self.delay_for(self.attempts, factor);
        self.attempts = self.attempts.saturating_add(1);
        delay
    }

    /// The wait of attempt `attempt` (0-based) for a given jitter factor: the pure formula.
    pub fn delay_for(&self, attempt: u32, factor: f64) -> Duration {
        let base = self
            .initial
            .saturating_mul(1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX))
            .min(self.max);
        base.mul_f64(factor.max(0.0))
    }

    /// Number of waits handed out since the last [`Backoff::reset`].
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Back to the initial wait, after a success.
    pub fn reset(&mut self) {
        self.attempts = 0;
    }
}

/// Whether to retry an operation, given its deadline: the sans-IO half of every retry loop.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    backoff: Backoff,
    deadline: Instant,
}

/// What a retry loop should do after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Sleep this long, then try again.
    RetryAfter(Duration),
    /// Stop: the error is not retriable or the deadline would pass.
    GiveUp,
}

impl RetryPolicy {
    /// Retries with `backoff` until `deadline`.
    pub fn new(backoff: Backoff, deadline: Instant) -> Self {
        RetryPolicy { backoff, deadline }
    }

    /// The operation's deadline.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Decides after a failure at `now`: retry after a backoff when the error is `retriable`
    /// and the wait still ends before the deadline.
    pub fn on_failure(
        &mut self,
        retriable: bool,
        now: Instant,
        rng: &mut dyn RngCore,
    ) -> RetryDecision {
        if !retriable || now >= self.deadline {
            return RetryDecision::GiveUp;
        }
        let delay = self.backoff.next_delay(rng);
        if now + delay >= self.deadline {
            return RetryDecision::GiveUp;
        }
        RetryDecision::RetryAfter(delay)
    }

    /// Attempts made so far (failures seen).
    pub fn attempts(&self) -> u32 {
        self.backoff.attempts()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::mock::StepRng;
    use rand::SeedableRng;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn doubles_then_caps_without_jitter() {
        let mut b = Backoff::new(ms(100), ms(1000)).with_jitter(0.0);
        let mut rng = StepRng::new(0, 0);
        let delays: Vec<_> = (0..6).map(|_| b.next_delay(&mut rng)).collect();
        assert_eq!(
            delays,
            [ms(100), ms(200), ms(400), ms(800), ms(1000), ms(1000)]
        );
        b.reset();
        assert_eq!(b.next_delay(&mut rng), ms(100));
    }

    #[test]
    fn jitter_formula_and_bounds() {
        let b = Backoff::new(ms(100), ms(1000));
        assert_eq!(b.delay_for(0, 0.8), ms(80));
        assert_eq!(b.delay_for(2, 1.2), ms(480));
        assert_eq!(b.delay_for(40, 1.0), ms(1000));
        let mut b = Backoff::new(ms(100), ms(1000));
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for attempt in 0..20u32 {
            let d = b.next_delay(&mut rng);
            let base = ms(100 * (1u64 << attempt.min(10))).min(ms(1000));
            assert!(
                d >= base.mul_f64(0.8) && d <= base.mul_f64(1.2),
                "{attempt}: {d:?}"
            );
        }
    }

    #[test]
    fn policy_stops_at_deadline_and_on_fatal_errors() {
        let now = Instant::now();
        let mut rng = StepRng::new(0, 0);
        let backoff = Backoff::new(ms(100), ms(1000)).with_jitter(0.0);
        let mut p = RetryPolicy::new(backoff, now + ms(350));
        assert_eq!(p.on_failure(false, now, &mut rng), RetryDecision::GiveUp);
        assert_eq!(
            p.on_failure(true, now, &mut rng),
            RetryDecision::RetryAfter(ms(100))
        );
        assert_eq!(
            p.on_failure(true, now + ms(100), &mut rng),
            RetryDecision::RetryAfter(ms(200))
        );
        // 300 + 400 passes the 350 ms deadline.
        assert_eq!(
            p.on_failure(true, now + ms(300), &mut rng),
            RetryDecision::GiveUp
        );
        assert_eq!(p.attempts(), 3);
    }
}
