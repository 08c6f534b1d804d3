//! Incremental fetch sessions (KIP-227), one per broker. Sans-IO.
//!
//! A full Fetch (session epoch 0) names every partition wanted and asks the broker to open a
//! session; the broker answers with a session id (0 when it declines). Later requests are
//! incremental: they name only partitions whose fetch offset or max bytes changed, list the
//! partitions to drop as `forgotten_topics_data`, and carry the next epoch. The broker's
//! response then holds only partitions with news. Any session error, and any failed request,
//! falls back to a full fetch, so a lost response can never leave the two sides disagreeing
//! about what the session contains.

use std::collections::BTreeMap;

use rafka_wire::error_code::ErrorCode;
use rafka_wire::TopicPartition;

/// Epoch of a full fetch that opens (or re-opens) a session.
pub const INITIAL_EPOCH: i32 = 0;
/// Epoch that closes a session (KIP-227 `FINAL_EPOCH`).
pub const FINAL_EPOCH: i32 = -1;

/// One partition the consumer wants fetched now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WantedPartition {
    /// The partition.
    pub tp: TopicPartition,
    /// Offset to fetch from.
    pub fetch_offset: i64,
    /// `partition_max_bytes` for it (`max.partition.fetch.bytes`).
    pub max_bytes: i32,
}

/// What one Fetch request must carry, as decided by the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRequest {
    /// `session_id` field.
    pub session_id: i32,
    /// `session_epoch` field.
    pub session_epoch: i32,
    /// Partitions to name in `topics`.
    pub partitions: Vec<WantedPartition>,
    /// Partitions to name in `forgotten_topics_data` (v7+).
    pub forgotten: Vec<TopicPartition>,
}

impl SessionRequest {
    /// True for a full fetch (every wanted partition is named).
    pub fn is_full(&self) -> bool {
        self.session_epoch == INITIAL_EPOCH || self.session_epoch == FINAL_EPOCH
    }
}

/// Client side of one broker's fetch session.
#[derive(Debug, Clone)]
pub struct FetchSession {
    /// False below Fetch v7 or when disabled: every request is a sessionless full fetch.
    enabled: bool,
    id: i32,
    /// Epoch the next request carries.
    next_epoch: i32,
    /// What the broker holds: partition → (fetch offset, max bytes) as last sent.
    held: BTreeMap<TopicPartition, (i64, i32)>,
    /// What `held` becomes when the in-flight request succeeds.
    pending: Option<BTreeMap<TopicPartition, (i64, i32)>>,
}

impl FetchSession {
    /// A session handler; `enabled` is false for Fetch below v7 (sessions do not exist there).
    pub fn new(enabled: bool) -> Self {
        FetchSession {
            enabled,
            id: 0,
            next_epoch: INITIAL_EPOCH,
            held: BTreeMap::new(),
            pending: None,
        }
    }

    /// The broker-assigned session id, 0 when there is none.
    pub fn id(&self) -> i32 {
        self.id
    }

    /// The epoch the next request will carry.
    pub fn next_epoch(&self) -> i32 {
        self.next_epoch
    }

    /// Turns sessions on or off (after version negotiation); resets the session.
    pub fn set_enabled(&mut self, enabled: bool) {
        if self.enabled != enabled {
            self.enabled = enabled;
            self.reset_full();
        }
    }

    /// Decides the content of the next request for the partitions wanted now.
    pub fn build(&mut self, wanted: &[WantedPartition]) -> SessionRequest {
        let next: BTreeMap<TopicPartition, (i64, i32)> = wanted
            .iter()
            .map(|w| (w.tp.clone(), (w.fetch_offset, w.max_bytes)))
            .collect();
        let request = if !self.enabled {
            SessionRequest {
                session_id: 0,
                session_epoch: FINAL_EPOCH,
                partitions: wanted.to_vec(),
                forgotten: Vec::new(),
            }
        } else if self.next_epoch == INITIAL_EPOCH || self.id == 0 {
            SessionRequest {
                session_id: self.id,
                session_epoch: INITIAL_EPOCH,
                partitions: wanted.to_vec(),
                forgotten: Vec::new(),
            }
        } else {
            let partitions = wanted
                .iter()
                .filter(|w| self.held.get(&w.tp) != Some(&(w.fetch_offset, w.max_bytes)))
                .cloned()
                .collect();
            let forgotten = self
                .held
                .keys()
                .filter(|tp| !next.contains_key(*tp))
                .cloned()
                .collect();
            SessionRequest {
                session_id: self.id,
                session_epoch: self.next_epoch,
                partitions,
                forgotten,
            }
        };
        self.pending = Some(next);
        request
    }

    /// Handles the top-level `error_code` and `session_id` of the response to the last
    /// request built. Returns false when the response must be ignored as a whole (a session
    /// error: the next request is a full fetch).
    pub fn handle_response(&mut self, error: ErrorCode, session_id: i32) -> bool {
        let pending = self.pending.take();
        if !error.is_ok() {
            // FETCH_SESSION_ID_NOT_FOUND, INVALID_FETCH_SESSION_EPOCH, or any other top-level
            // error: the broker's view is unknown, so start over with a new session.
            self.id = 0;
            self.reset_full();
            return false;
        }
        if !self.enabled {
            return true;
        }
        if session_id == 0 {
            // The broker declined a session (or has none left): keep sending full fetches.
            self.id = 0;
            self.reset_full();
            return true;
        }
        self.id = session_id;
        if let Some(next) = pending {
            self.held = next;
        }
        self.next_epoch = next_epoch(self.next_epoch);
        true
    }

    /// The request failed (connection lost, timeout): re-open the session with a full fetch,
    /// keeping the id so the broker can free the old one (Java's "close existing, attempt new").
    pub fn handle_error(&mut self) {
        self.pending = None;
        self.reset_full();
    }

    /// True when the broker may hold this partition in the session (it can then send data
    /// for it even when a request did not name it).
    pub fn holds(&self, tp: &TopicPartition) -> bool {
        self.held.contains_key(tp)
    }

    fn reset_full(&mut self) {
        self.next_epoch = INITIAL_EPOCH;
        self.held.clear();
    }
}

fn next_epoch(epoch: i32) -> i32 {
    // Epochs wrap to 1, never to 0 (which would open a new session) (KIP-227).
    if !(0..i32::MAX).contains(&epoch) {
        1
    } else {
        epoch + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(p: i32, off: i64) -> WantedPartition {
        WantedPartition {
            tp: TopicPartition::new("t", p),
            fetch_offset: off,
            max_bytes: 1024,
        }
    }

    #[test]
    fn full_then_incremental_names_only_changes() {
        let mut s = FetchSession::new(true);
        let r = s.build(&[w(0, 0), w(1, 0)]);
        assert_eq!((r.session_id, r.session_epoch), (0, 0));
        assert_eq!(r.partitions.len(), 2);
        assert!(s.handle_response(ErrorCode::NONE, 77));

        // Partition 0 moved, partition 1 did not.
        let r = s.build(&[w(0, 10), w(1, 0)]);
        assert_eq!((r.session_id, r.session_epoch), (77, 1));
        assert_eq!(r.partitions, [w(0, 10)]);
        assert!(r.forgotten.is_empty());
        assert!(s.handle_response(ErrorCode::NONE, 77));

        // Partition 1 paused: forgotten, and nothing else changed.
        let r = s.build(&[w(0, 10)]);
        assert_eq!(r.session_epoch, 2);
        assert!(r.partitions.is_empty());
        assert_eq!(r.forgotten, [TopicPartition::new("t", 1)]);
        assert!(s.handle_response(ErrorCode::NONE, 77));
        assert!(!s.holds(&TopicPartition::new("t", 1)));
    }

    #[test]
    fn session_error_falls_back_to_full_fetch() {
        let mut s = FetchSession::new(true);
        s.build(&[w(0, 0)]);
        s.handle_response(ErrorCode::NONE, 5);
        s.build(&[w(0, 3)]);
        assert!(!s.handle_response(ErrorCode::INVALID_FETCH_SESSION_EPOCH, 0));
        let r = s.build(&[w(0, 3)]);
        assert_eq!((r.session_id, r.session_epoch), (0, INITIAL_EPOCH));
        assert_eq!(r.partitions, [w(0, 3)]);
    }

    #[test]
    fn failed_request_reopens_with_same_id() {
        let mut s = FetchSession::new(true);
        s.build(&[w(0, 0)]);
        s.handle_response(ErrorCode::NONE, 9);
        s.build(&[w(0, 1)]);
        s.handle_error();
        let r = s.build(&[w(0, 1)]);
        assert_eq!((r.session_id, r.session_epoch), (9, INITIAL_EPOCH));
        assert!(r.is_full());
    }

    #[test]
    fn declined_session_and_disabled_sessions_send_full_fetches() {
        let mut s = FetchSession::new(true);
        s.build(&[w(0, 0)]);
        assert!(s.handle_response(ErrorCode::NONE, 0));
        let r = s.build(&[w(0, 4)]);
        assert_eq!((r.session_id, r.session_epoch), (0, INITIAL_EPOCH));

        let mut s = FetchSession::new(false);
        let r = s.build(&[w(0, 0)]);
        assert_eq!((r.session_id, r.session_epoch), (0, FINAL_EPOCH));
        s.handle_response(ErrorCode::NONE, 0);
        assert_eq!(s.build(&[w(0, 1)]).partitions, [w(0, 1)]);
    }

    #[test]
    fn epoch_wraps_to_one() {
        assert_eq!(next_epoch(i32::MAX), 1);
        assert_eq!(next_epoch(0), 1);
        assert_eq!(next_epoch(41), 42);
    }
}
