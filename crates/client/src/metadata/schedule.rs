//! When the background refresher fetches metadata next: a sans-IO schedule that takes the
//! snapshot's age, the stale mark and refresh outcomes with `now`, and gives the next deadline.
//!
//! The rules follow Java's `Metadata`: a snapshot is refreshed every `metadata.max.age.ms`;
//! an error that marks it stale asks for a refresh at once, but never sooner than
//! `retry.backoff.ms` after the previous one; failed refreshes back off exponentially up to
//! `retry.backoff.max.ms` (KIP-580), and a success resets the backoff.

use std::time::{Duration, Instant};

use rand::RngCore;

use crate::backoff::Backoff;

/// The refresh schedule of one client's metadata.
#[derive(Debug, Clone)]
pub(crate) struct RefreshSchedule {
    max_age: Duration,
    min_gap: Duration,
    failures: Backoff,
    /// No refresh before this instant: the gap after the last attempt.
    earliest: Option<Instant>,
}

impl RefreshSchedule {
    /// A schedule for `metadata.max.age.ms`, `retry.backoff.ms` and `retry.backoff.max.ms`.
    pub fn new(max_age: Duration, retry_backoff: Duration, retry_backoff_max: Duration) -> Self {
        RefreshSchedule {
            max_age,
            min_gap: retry_backoff,
            failures: Backoff::new(retry_backoff, retry_backoff_max),
            earliest: None,
        }
    }

    /// When the next refresh is due, given when the snapshot was fetched (`None`: never) and
    /// whether it is marked stale; `None` when nothing is due until something marks it stale
    /// (the first fetch is the caller's, not the refresher's).
    pub fn poll_timeout(
        &self,
        updated_at: Option<Instant>,
        stale: bool,
        now: Instant,
    ) -> Option<Instant> {
        let due = match (updated_at, stale) {
            (_, true) => now,
            (None, false) => return None,
            (Some(at), false) => at + self.max_age,
        };
        Some(match self.earliest {
            Some(earliest) => due.max(earliest),
            None => due,
        })
    }

    /// True when a refresh should be sent now: the snapshot is stale or older than
    /// `metadata.max.age.ms`, and the gap after the last attempt has passed.
    pub fn is_due(&self, updated_at: Option<Instant>, stale: bool, now: Instant) -> bool {
        if self.earliest.is_some_and(|e| now < e) {
            return false;
        }
        stale || updated_at.is_some_and(|at| now.saturating_duration_since(at) >= self.max_age)
    }

    /// A refresh succeeded at `now`: the backoff resets, the next one waits at least
    /// `retry.backoff.ms`.
    pub fn on_success(&mut self, now: Instant) {
        self.failures.reset();
        self.earliest = Some(now + self.min_gap);
    }

    /// A refresh failed at `now`: the next one waits for the next (jittered, growing) backoff.
    pub fn on_failure(&mut self, now: Instant, rng: &mut dyn RngCore) {
        self.earliest = Some(now + self.failures.next_delay(rng));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::mock::StepRng;

    const AGE: Duration = Duration::from_secs(300);
    const GAP: Duration = Duration::from_millis(100);
    const MAX: Duration = Duration::from_millis(1000);

    fn schedule() -> RefreshSchedule {
        RefreshSchedule::new(AGE, GAP, MAX)
    }

    #[test]
    fn nothing_is_due_before_the_first_fetch_unless_marked_stale() {
        let t0 = Instant::now();
        let s = schedule();
        assert_eq!(s.poll_timeout(None, false, t0), None);
        assert!(!s.is_due(None, false, t0));
        assert_eq!(s.poll_timeout(None, true, t0), Some(t0));
        assert!(s.is_due(None, true, t0));
    }

    #[test]
    fn a_fresh_snapshot_is_refreshed_at_max_age() {
        let t0 = Instant::now();
        let mut s = schedule();
        s.on_success(t0);
        assert_eq!(s.poll_timeout(Some(t0), false, t0), Some(t0 + AGE));
        assert!(!s.is_due(Some(t0), false, t0 + AGE - Duration::from_millis(1)));
        assert!(s.is_due(Some(t0), false, t0 + AGE));
    }

    #[test]
    fn a_stale_mark_waits_for_the_gap_after_the_last_refresh() {
        let t0 = Instant::now();
        let mut s = schedule();
        s.on_success(t0);
        let now = t0 + Duration::from_millis(10);
        assert_eq!(s.poll_timeout(Some(t0), true, now), Some(t0 + GAP));
        assert!(!s.is_due(Some(t0), true, now));
        assert!(s.is_due(Some(t0), true, t0 + GAP));
    }

    #[test]
    fn failures_back_off_up_to_the_max_and_a_success_resets() {
        let t0 = Instant::now();
        let mut s = schedule();
        // A mid-range RNG: jitter adds nothing, so the delays double exactly.
        let mut rng = StepRng::new(u64::MAX / 2, 0);
        let mut now = t0;
        let mut gaps = Vec::new();
        for _ in 0..6 {
            s.on_failure(now, &mut rng);
            let next = s.poll_timeout(Some(t0), true, now).unwrap();
            gaps.push(next - now);
            now = next;
        }
        assert!(gaps.windows(2).all(|w| w[0] <= w[1]), "{gaps:?}");
        assert!(gaps.iter().all(|g| *g <= MAX + MAX / 5), "{gaps:?}");
        assert!(*gaps.last().unwrap() >= MAX - MAX / 5, "{gaps:?}");
        s.on_success(now);
        assert_eq!(s.poll_timeout(Some(now), true, now), Some(now + GAP));
    }
}
