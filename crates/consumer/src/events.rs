//! Events of the consumer's background work that no call returns: an auto-commit the
//! coordinator refused, a commit on revoke that failed, a partition skipped ahead by
//! `rafka.consumer.max.lag`. They are logged with `tracing` and also kept, a bounded number,
//! for [`crate::Consumer::drain_events`], so that an application without a `tracing`
//! subscriber still sees them (sarama's `Errors()` channel; Java reports auto-commit failures
//! through the commit callback or the next `poll`).

use std::collections::VecDeque;

use rafka_wire::TopicPartition;

use crate::error::ConsumerError;

/// How many events are kept until drained; older ones are dropped first and counted in
/// [`ConsumerEvent::EventsDropped`].
pub const EVENT_CAPACITY: usize = 1024;

/// Something the consumer did or failed to do in the background.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConsumerEvent {
    /// An automatic commit (`enable.auto.commit`, every `auto.commit.interval.ms`) failed; the
    /// offsets stay uncommitted and the next interval's commit carries them again. Java logs
    /// these and passes them to no callback; after a rebalance the error is
    /// [`ConsumerError::CommitFailed`].
    AutoCommitFailed {
        /// The offsets that were to be committed (each the next offset to consume).
        offsets: Vec<(TopicPartition, i64)>,
        /// Why.
        error: ConsumerError,
    },
    /// The commit (or external store save) of revoked partitions' positions failed (on a
    /// rebalance, or the auto-commit on `close`), so whoever owns them next starts from an
    /// older position and sees some records again.
    CommitOnRevokeFailed {
        /// The revoked partitions.
        partitions: Vec<TopicPartition>,
        /// Why.
        error: ConsumerError,
    },
    /// `rafka.consumer.max.lag`: the partition was more than `max_lag` records behind its high
    /// watermark, so the consumer skipped ahead to `high_watermark - max_lag`; the records in
    /// between are not delivered.
    SkippedAhead {
        /// The partition.
        partition: TopicPartition,
        /// The position before the skip (next offset that would have been returned).
        from: i64,
        /// The new position.
        to: i64,
        /// The high watermark that was seen.
        high_watermark: i64,
    },
    /// More than [`EVENT_CAPACITY`] events were waiting; this many of the oldest were dropped.
    EventsDropped {
        /// How many.
        count: u64,
    },
}

/// A bounded queue of events: a consumer that never drains them keeps the newest
/// [`EVENT_CAPACITY`].
#[derive(Debug, Default)]
pub struct EventQueue {
    events: VecDeque<ConsumerEvent>,
    dropped: u64,
}

impl EventQueue {
    /// Adds an event, dropping the oldest when full.
    pub fn push(&mut self, event: ConsumerEvent) {
        if self.events.len() >= EVENT_CAPACITY {
            self.events.pop_front();
            self.dropped += 1;
        }
        self.events.push_back(event);
    }

    /// Takes every event, the drop count first when some were dropped.
    pub fn drain_into(&mut self, out: &mut Vec<ConsumerEvent>) {
        if self.dropped > 0 {
            out.push(ConsumerEvent::EventsDropped {
                count: std::mem::take(&mut self.dropped),
            });
        }
        out.extend(self.events.drain(..));
    }

    /// No event waits.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.dropped == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skip(n: i64) -> ConsumerEvent {
        ConsumerEvent::SkippedAhead {
            partition: TopicPartition::new("t", 0),
            from: n,
            to: n + 10,
            high_watermark: n + 20,
        }
    }

    #[test]
    fn a_full_queue_keeps_the_newest_and_counts_the_dropped() {
        let mut q = EventQueue::default();
        for n in 0..(EVENT_CAPACITY as i64 + 3) {
            q.push(skip(n));
        }
        let mut out = Vec::new();
        q.drain_into(&mut out);
        assert!(matches!(out[0], ConsumerEvent::EventsDropped { count: 3 }));
        assert!(matches!(
            out[1],
            ConsumerEvent::SkippedAhead { from: 3, .. }
        ));
        assert_eq!(out.len(), EVENT_CAPACITY + 1);
        assert!(q.is_empty());
        out.clear();
        q.drain_into(&mut out);
        assert!(out.is_empty());
    }
}
