//! Reconnect backoff of one broker connection, sans-IO (KIP-144): after a failed attempt the
//! next one waits `reconnect.backoff.ms`, doubling to `reconnect.backoff.max.ms`, with jitter;
//! a success resets it. Callers that queued behind a failing attempt share its error instead
//! of each trying again.

use std::time::Instant;

use rand::RngCore;

use crate::backoff::Backoff;
use crate::error::Error;

/// Reconnect state of one broker connection.
#[derive(Debug, Clone)]
pub struct ReconnectState {
    backoff: Backoff,
    next_attempt: Option<Instant>,
    last_error: Option<Error>,
    /// Attempts finished, successful or not; lets a waiter see whether an attempt ended
    /// while it waited.
    attempts: u64,
}

impl ReconnectState {
    /// Fresh state: the first attempt may start at once.
    pub fn new(backoff: Backoff) -> Self {
        ReconnectState {
            backoff,
            next_attempt: None,
            last_error: None,
            attempts: 0,
        }
    }

    /// When the next attempt may start; `None` = now.
    pub fn next_attempt(&self) -> Option<Instant> {
        self.next_attempt
    }

    /// Attempts finished so far.
    pub fn attempts(&self) -> u64 {
        self.attempts
    }

    /// The error of the last attempt, if it failed.
    pub fn last_error(&self) -> Option<&Error> {
        self.last_error.as_ref()
    }

    /// Records a failed attempt at `now`; returns when the next may start.
    pub fn on_failure(&mut self, error: Error, now: Instant, rng: &mut dyn RngCore) -> Instant {
        let at = now + self.backoff.next_delay(rng);
        self.next_attempt = Some(at);
        self.last_error = Some(error);
        self.attempts += 1;
        at
    }

    /// Records a successful attempt.
    pub fn on_success(&mut self) {
        self.backoff.reset();
        self.next_attempt = None;
        self.last_error = None;
        self.attempts += 1;
    }

    /// The error to hand a waiter that saw `attempts_seen` attempts when it started waiting:
    /// the failure of an attempt that ended meanwhile, so it does not start another at once.
    pub fn shared_failure(&self, attempts_seen: u64) -> Option<Error> {
        if self.attempts != attempts_seen {
            self.last_error.clone()
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::mock::StepRng;
    use std::time::Duration;

    #[test]
    fn backoff_grows_and_resets() {
        let b =
            Backoff::new(Duration::from_millis(50), Duration::from_millis(1000)).with_jitter(0.0);
        let mut s = ReconnectState::new(b);
        let mut rng = StepRng::new(0, 0);
        let now = Instant::now();
        assert_eq!(s.next_attempt(), None);
        let t1 = s.on_failure(Error::ClientClosed, now, &mut rng);
        let t2 = s.on_failure(Error::ClientClosed, now, &mut rng);
        assert_eq!(t1 - now, Duration::from_millis(50));
        assert_eq!(t2 - now, Duration::from_millis(100));
        assert!(s.shared_failure(1).is_some());
        assert!(s.shared_failure(2).is_none());
        s.on_success();
        assert_eq!(s.next_attempt(), None);
        assert!(s.last_error().is_none());
        let t3 = s.on_failure(Error::ClientClosed, now, &mut rng);
        assert_eq!(t3 - now, Duration::from_millis(50));
    }
}
