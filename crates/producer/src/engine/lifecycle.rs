//! The producer's lifecycle: one enum instead of a flag per phase.

use crate::error::ProduceError;

/// Where the producer is in its life. Moves only forward, except `Running ⇄ Flushing`.
///
/// ```text
/// Running ⇄ Flushing ─ close ─▶ Closing{hard: false} ─ timeout ─▶ Closing{hard: true}
///    │                                │                                   │
///    └─ fenced ─▶ Fatal ─ close ─▶ Closing{hard: true}      drained ─▶ Closed ◀─┘
/// ```
#[derive(Debug, Clone)]
pub(crate) enum Lifecycle {
    /// Accepting records; batches wait for `linger.ms` or `batch.size`.
    Running,
    /// Accepting records; `callers` flushes wait, so every batch is sendable now.
    Flushing {
        /// Flushes in progress (`flush`, `commit_transaction`, `abort_transaction`).
        callers: usize,
    },
    /// `close` was called (or the last handle dropped): no new records; buffered ones are
    /// still delivered unless `hard`, where they fail with [`ProduceError::Closed`] and
    /// nothing is retried.
    Closing {
        /// `close`'s timeout passed (or the producer was fatal when closed).
        hard: bool,
    },
    /// The driver has exited.
    Closed,
    /// An error no retry cures (fencing): queued records failed with it, `send` returns it.
    Fatal(ProduceError),
}

impl Lifecycle {
    /// Whether `send` may append: `Ok` while running or flushing.
    pub fn check_send(&self) -> Result<(), ProduceError> {
        match self {
            Lifecycle::Running | Lifecycle::Flushing { .. } => Ok(()),
            Lifecycle::Closing { .. } | Lifecycle::Closed => Err(ProduceError::Closed),
            Lifecycle::Fatal(e) => Err(e.clone()),
        }
    }

    /// Whether a failed batch may be sent again (not closing hard, not fatal).
    pub fn allows_retry(&self) -> bool {
        matches!(
            self,
            Lifecycle::Running | Lifecycle::Flushing { .. } | Lifecycle::Closing { hard: false }
        )
    }

    /// The fatal error, if any.
    pub fn fatal(&self) -> Option<&ProduceError> {
        match self {
            Lifecycle::Fatal(e) => Some(e),
            _ => None,
        }
    }

    /// One more flush waits.
    pub fn begin_flush(&mut self) {
        *self = match std::mem::replace(self, Lifecycle::Closed) {
            Lifecycle::Running => Lifecycle::Flushing { callers: 1 },
            Lifecycle::Flushing { callers } => Lifecycle::Flushing {
                callers: callers + 1,
            },
            other => other,
        };
    }

    /// One flush is done.
    pub fn end_flush(&mut self) {
        *self = match std::mem::replace(self, Lifecycle::Closed) {
            Lifecycle::Flushing { callers } if callers > 1 => Lifecycle::Flushing {
                callers: callers - 1,
            },
            Lifecycle::Flushing { .. } => Lifecycle::Running,
            other => other,
        };
    }

    /// `close` (or the last handle dropped). A fatal producer has nothing left to deliver,
    /// so it closes hard.
    pub fn close(&mut self) {
        *self = match std::mem::replace(self, Lifecycle::Closed) {
            Lifecycle::Running | Lifecycle::Flushing { .. } => Lifecycle::Closing { hard: false },
            Lifecycle::Fatal(_) => Lifecycle::Closing { hard: true },
            other => other,
        };
    }

    /// `close`'s timeout passed: stop retrying.
    pub fn close_hard(&mut self) {
        if !matches!(self, Lifecycle::Closed) {
            *self = Lifecycle::Closing { hard: true };
        }
    }

    /// A fatal error; the first one wins and a closing producer stays closing.
    pub fn set_fatal(&mut self, e: ProduceError) -> bool {
        if matches!(self, Lifecycle::Running | Lifecycle::Flushing { .. }) {
            *self = Lifecycle::Fatal(e);
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flushes_nest_and_close_wins() {
        let mut l = Lifecycle::Running;
        l.begin_flush();
        l.begin_flush();
        l.end_flush();
        assert!(matches!(l, Lifecycle::Flushing { callers: 1 }));
        l.close();
        l.end_flush();
        assert!(matches!(l, Lifecycle::Closing { hard: false }));
        assert!(l.allows_retry() && l.check_send().is_err());
        l.close_hard();
        assert!(!l.allows_retry());
    }

    #[test]
    fn fatal_refuses_sends_and_closes_hard() {
        let mut l = Lifecycle::Running;
        assert!(l.set_fatal(ProduceError::Fenced(
            rafka_wire::error_code::ErrorCode::PRODUCER_FENCED
        )));
        assert!(matches!(l.check_send(), Err(ProduceError::Fenced(_))));
        assert!(!l.allows_retry());
        l.close();
        assert!(matches!(l, Lifecycle::Closing { hard: true }));
    }
}
