//! The idempotent (non-transactional) producer's InitProducerId: a producer id before the
//! first send, an epoch bump (KIP-360) once a sequence gap needs one and nothing is in
//! flight. Transactional producers get theirs from `init_transactions`.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse, ProducerId};
use rafka_client::Error as ClientError;
use rafka_wire::error_code::ErrorCode;

use super::{Action, Request, Target};
use crate::accumulator::RecordAccumulator;
use crate::error::ProduceError;
use crate::idempotence::ProducerIdAndEpoch;

/// Where the request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    /// In flight; `bump` when it asks for an epoch bump of the current id.
    InFlight {
        bump: bool,
    },
    /// Failed; ask again at this time.
    RetryAt(Instant),
}

/// InitProducerId requests of an idempotent producer.
#[derive(Debug)]
pub(super) struct ProducerIdRequests {
    state: State,
    retry_backoff: Duration,
    transaction_timeout_ms: i32,
}

impl ProducerIdRequests {
    pub fn new(retry_backoff: Duration, transaction_timeout: Duration) -> Self {
        ProducerIdRequests {
            state: State::Idle,
            retry_backoff,
            transaction_timeout_ms: transaction_timeout.as_millis().min(i32::MAX as u128) as i32,
        }
    }

    /// Asks for a producer id before the first send, or for an epoch bump once nothing is
    /// in flight.
    pub fn poll(&mut self, acc: &RecordAccumulator, now: Instant, actions: &mut VecDeque<Action>) {
        let Some(seq) = acc.sequences.as_ref() else {
            return;
        };
        let current = seq.producer_id();
        if current.is_some() && !seq.bump_needed() {
            return;
        }
        match self.state {
            State::InFlight { .. } => return,
            State::RetryAt(t) if t > now => return,
            _ => {}
        }
        if acc.in_flight_batches() > 0 || (current.is_some() && acc.queued_batches() == 0) {
            return;
        }
        self.request(current, actions);
    }

    fn request(&mut self, current: Option<ProducerIdAndEpoch>, actions: &mut VecDeque<Action>) {
        let (pid, epoch) = current.map_or((-1, -1), |c| (c.producer_id, c.epoch));
        self.state = State::InFlight {
            bump: current.is_some(),
        };
        actions.push_back(Action::Send {
            target: Target::Any,
            request: Request::InitProducerId(
                InitProducerIdRequest::default()
                    .with_transactional_id(None)
                    .with_transaction_timeout_ms(self.transaction_timeout_ms)
                    .with_producer_id(ProducerId(pid))
                    .with_producer_epoch(epoch),
            ),
        });
    }

    /// The answer; returns the producer id and epoch to install.
    pub fn handle(
        &mut self,
        reply: Result<InitProducerIdResponse, ClientError>,
        now: Instant,
        actions: &mut VecDeque<Action>,
    ) -> Option<ProducerIdAndEpoch> {
        let bump = matches!(self.state, State::InFlight { bump: true });
        let err = match reply {
            Ok(r) if r.error_code == 0 => {
                self.state = State::Idle;
                return Some(ProducerIdAndEpoch {
                    producer_id: r.producer_id.0,
                    epoch: r.producer_epoch,
                });
            }
            Ok(_) if bump => {
                // The broker cannot bump this id (old broker, expired id): start afresh.
                self.request(None, actions);
                return None;
            }
            Ok(r) => ProduceError::Broker {
                topic: "".into(),
                partition: -1,
                code: ErrorCode(r.error_code),
                message: Some("InitProducerId".into()),
            },
            Err(e) => ProduceError::Client(e),
        };
        // A coordinator still loading or moving is routine on a fresh or changing cluster:
        // only an error that retrying cannot cure is worth a warning.
        if err.is_retriable() {
            tracing::debug!(error = %err, "InitProducerId failed; will retry");
        } else {
            tracing::warn!(error = %err, "InitProducerId failed; will retry");
        }
        self.state = State::RetryAt(now + self.retry_backoff);
        None
    }

    /// When a failed request is due again.
    pub fn timeout(&self) -> Option<Instant> {
        match self.state {
            State::RetryAt(t) => Some(t),
            _ => None,
        }
    }
}
