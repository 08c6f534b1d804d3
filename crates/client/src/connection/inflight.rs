//! The in-flight table of one connection, sans-IO: correlation id → waiter.
//!
//! Rules (as rskafka's messenger and Java's `InFlightRequests`):
//! - ids are handed out in increasing order from 0 and wrap at `i32::MAX`;
//! - a response takes its waiter out; a response for an id no longer present belongs to a
//!   request whose caller gave up (dropped its future) and is discarded, but an id never handed
//!   out means the byte stream is out of step and the connection must close;
//! - closing poisons the table: every waiter is returned to be told the same error, and every
//!   later registration fails with it.

use std::collections::HashMap;

use crate::error::{ApiRef, Error};

/// One request waiting for its response.
#[derive(Debug)]
pub struct Pending<W> {
    /// API and version, to name the request in errors and traces.
    pub api: ApiRef,
    /// Whatever is woken with the response (a oneshot sender in the tokio layer).
    pub waiter: W,
}

/// What a response frame's correlation id means.
#[derive(Debug)]
pub enum Matched<W> {
    /// The waiting request.
    Waiting(Pending<W>),
    /// A request whose caller gave up; drop the frame.
    Abandoned,
    /// An id this connection never sent: the stream is corrupt.
    Unknown,
}

/// The correlation-id table.
#[derive(Debug)]
pub struct InFlight<W> {
    next_id: i32,
    /// Ids handed out since the last wrap, to tell abandoned ids from foreign ones.
    wrapped: bool,
    waiting: HashMap<i32, Pending<W>>,
    closed: Option<Error>,
}

impl<W> Default for InFlight<W> {
    fn default() -> Self {
        InFlight {
            next_id: 0,
            wrapped: false,
            waiting: HashMap::new(),
            closed: None,
        }
    }
}

impl<W> InFlight<W> {
    /// An empty, open table.
    pub fn new() -> Self {
        Self::default()
    }

    /// A fresh correlation id for a request that expects no response (Produce acks=0).
    ///
    /// # Errors
    /// The error the table was closed with.
    pub fn next_id(&mut self) -> Result<i32, Error> {
        if let Some(e) = &self.closed {
            return Err(e.clone());
        }
        loop {
            let id = self.next_id;
            self.next_id = if id == i32::MAX {
                self.wrapped = true;
                0
            } else {
                id + 1
            };
            if !self.waiting.contains_key(&id) {
                return Ok(id);
            }
        }
    }

    /// Registers a request and returns its correlation id.
    ///
    /// # Errors
    /// The error the table was closed with.
    pub fn register(&mut self, api: ApiRef, waiter: W) -> Result<i32, Error> {
        let id = self.next_id()?;
        self.waiting.insert(id, Pending { api, waiter });
        Ok(id)
    }

    /// Takes the waiter of a response.
    pub fn take(&mut self, correlation_id: i32) -> Matched<W> {
        match self.waiting.remove(&correlation_id) {
            Some(p) => Matched::Waiting(p),
            None if correlation_id >= 0 && (self.wrapped || correlation_id < self.next_id) => {
                Matched::Abandoned
            }
            None => Matched::Unknown,
        }
    }

    /// Forgets a request whose caller gave up (its future was dropped or timed out).
    pub fn cancel(&mut self, correlation_id: i32) -> Option<Pending<W>> {
        self.waiting.remove(&correlation_id)
    }

    /// Closes the table with `error` and returns every waiter, to be woken with it. A second
    /// close keeps the first error.
    pub fn close(&mut self, error: Error) -> Vec<Pending<W>> {
        if self.closed.is_none() {
            self.closed = Some(error);
        }
        self.waiting.drain().map(|(_, p)| p).collect()
    }

    /// The error the table was closed with.
    pub fn closed(&self) -> Option<&Error> {
        self.closed.as_ref()
    }

    /// Number of requests waiting.
    pub fn len(&self) -> usize {
        self.waiting.len()
    }

    /// True when nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::BrokerRef;

    fn api() -> ApiRef {
        ApiRef {
            name: "Fetch",
            version: 12,
        }
    }

    #[test]
    fn ids_increase_and_responses_match() {
        let mut t = InFlight::new();
        let a = t.register(api(), "a").unwrap();
        let b = t.register(api(), "b").unwrap();
        let c = t.next_id().unwrap();
        assert_eq!((a, b, c), (0, 1, 2));
        assert!(matches!(
            t.take(b),
            Matched::Waiting(Pending { waiter: "b", .. })
        ));
        assert!(matches!(t.take(b), Matched::Abandoned));
        assert!(matches!(t.take(99), Matched::Unknown));
        assert!(matches!(t.take(-1), Matched::Unknown));
        assert!(t.cancel(a).is_some());
        assert!(matches!(t.take(a), Matched::Abandoned));
        assert!(t.is_empty());
    }

    #[test]
    fn wraps_and_skips_ids_in_use() {
        let mut t = InFlight::new();
        t.next_id = i32::MAX;
        assert_eq!(t.register(api(), 1).unwrap(), i32::MAX);
        // 0 is still waiting from before the wrap in this made-up history.
        t.waiting.insert(
            0,
            Pending {
                api: api(),
                waiter: 0,
            },
        );
        assert_eq!(t.register(api(), 2).unwrap(), 1);
        assert!(matches!(t.take(5), Matched::Abandoned));
    }

    #[test]
    fn close_poisons_everyone_with_the_first_error() {
        let mut t = InFlight::new();
        t.register(api(), 1).unwrap();
        t.register(api(), 2).unwrap();
        let broker = BrokerRef {
            node_id: 1,
            addr: "h:1".into(),
        };
        let first = Error::ConnectionClosed {
            broker: broker.clone(),
            api: None,
        };
        let woken = t.close(first);
        assert_eq!(woken.len(), 2);
        assert!(t.close(Error::ClientClosed).is_empty());
        assert!(matches!(
            t.register(api(), 3),
            Err(Error::ConnectionClosed { .. })
        ));
        assert!(matches!(t.closed(), Some(Error::ConnectionClosed { .. })));
    }
}
