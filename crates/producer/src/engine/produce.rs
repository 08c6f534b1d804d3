//! Produce responses: acknowledge, retry in sequence order, or fail each batch.

use std::time::Instant;

use kafka_protocol::messages::ProduceResponse;
use rafka_client::metadata::{BrokerInfo, LeaderHint};
use rafka_wire::error_code::ErrorCode;

use super::{Action, ProducerCore};
use crate::accumulator::ProducerBatch;
use crate::delivery::BatchAck;
use crate::error::ProduceError;
use crate::idempotence::ErrorAction;

impl ProducerCore {
    /// A produce request's outcome: the response (`None` with `acks=0`), or why it failed
    /// ([`ProduceError::Client`], [`ProduceError::Encode`]).
    pub fn handle_produce(
        &mut self,
        node: i32,
        batches: Vec<ProducerBatch>,
        result: Result<Option<ProduceResponse>, ProduceError>,
        now: Instant,
    ) {
        if let Some(n) = self.node_in_flight.get_mut(&node) {
            *n = n.saturating_sub(1);
        }
        match result {
            Err(e) => {
                tracing::debug!(node, error = %e, "produce request failed");
                self.actions.push_back(Action::InvalidateMetadata);
                let retriable = e.is_retriable();
                for b in batches {
                    let err = self.final_error(&b, now, e.clone());
                    if retriable && self.can_retry(&b, now) {
                        if let (Some(id), Some(seq)) = (b.identity, self.acc.sequences.as_mut()) {
                            seq.on_resend(&b.topic, b.partition, id.base_sequence);
                        }
                        self.metrics.on_retry();
                        self.acc.reenqueue(b, now);
                    } else {
                        self.fail_sent_batch(b, err);
                    }
                }
            }
            Ok(None) => {
                for b in batches {
                    let ack = BatchAck {
                        base_offset: -1,
                        log_append_time: None,
                    };
                    self.finish_batch(b, Ok(ack), true);
                }
            }
            Ok(Some(resp)) => {
                for b in batches {
                    self.handle_partition_response(b, &resp, now);
                }
            }
        }
    }

    fn handle_partition_response(
        &mut self,
        mut b: ProducerBatch,
        resp: &ProduceResponse,
        now: Instant,
    ) {
        let pr = resp
            .responses
            .iter()
            .find(|t| *t.name.0 == *b.topic)
            .and_then(|t| {
                t.partition_responses
                    .iter()
                    .find(|p| p.index == b.partition)
            });
        let Some(pr) = pr else {
            let err = ProduceError::Client(rafka_client::Error::Broker {
                code: ErrorCode::UNKNOWN_SERVER_ERROR,
                message: Some("produce response has no result for the partition".into()),
                api: "Produce",
                topic: Some(b.topic.to_string()),
                partition: Some(b.partition),
            });
            self.fail_sent_batch(b, err);
            return;
        };
        let code = ErrorCode(pr.error_code);
        if code == ErrorCode::NONE || code == ErrorCode::DUPLICATE_SEQUENCE_NUMBER {
            if let (Some(id), Some(seq)) = (b.identity, self.acc.sequences.as_mut()) {
                seq.on_acked(&b.topic, b.partition, id.base_sequence, b.record_count());
            }
            let ack = BatchAck {
                base_offset: if code == ErrorCode::NONE {
                    pr.base_offset
                } else {
                    -1
                },
                log_append_time: (pr.log_append_time_ms >= 0).then_some(pr.log_append_time_ms),
            };
            self.finish_batch(b, Ok(ack), true);
            return;
        }
        let mut new_leader = false;
        if invalidates_leader(code) {
            new_leader = self.take_leader_hint(
                &mut b,
                pr.current_leader.leader_id.0,
                pr.current_leader.leader_epoch,
                resp,
            );
            if !new_leader {
                self.actions.push_back(Action::InvalidateMetadata);
            }
        }
        let retries_left = self.can_retry(&b, now);
        let action = match (b.identity, self.acc.sequences.as_mut()) {
            (Some(id), Some(seq)) => {
                seq.on_error(&b.topic, b.partition, id.base_sequence, code, retries_left)
            }
            _ if code.is_retriable() && retries_left => ErrorAction::Retry,
            _ => ErrorAction::Fail,
        };
        let err = ProduceError::Broker {
            topic: b.topic.clone(),
            partition: b.partition,
            code,
            message: pr.error_message.as_ref().map(|m| m.to_string()),
        };
        let err = if code.is_retriable() {
            self.final_error(&b, now, err)
        } else {
            err
        };
        tracing::debug!(topic = %b.topic, partition = b.partition, %code, ?action, "produce error");
        match action {
            ErrorAction::Retry if new_leader => {
                self.metrics.on_retry();
                self.acc.reenqueue_now(b, now);
            }
            ErrorAction::Retry | ErrorAction::RetryAfterEpochBump => {
                self.metrics.on_retry();
                self.acc.reenqueue(b, now);
            }
            ErrorAction::Fail | ErrorAction::FailAndBumpEpoch => {
                self.finish_batch(b, Err(err), true)
            }
            ErrorAction::Fatal => {
                self.set_fatal(ProduceError::Fenced(code));
                self.finish_batch(b, Err(ProduceError::Fenced(code)), true);
            }
        }
    }
}

impl ProducerCore {
    /// Turns the new leader an error response named (Produce v10+, KIP-951) into an action
    /// for the driver. True when the hint is new for this batch: it is then resent at once
    /// instead of after the backoff, once per leader epoch, as Java's `Sender` does.
    fn take_leader_hint(
        &mut self,
        b: &mut ProducerBatch,
        leader_id: i32,
        leader_epoch: i32,
        resp: &ProduceResponse,
    ) -> bool {
        if leader_id < 0 || b.hinted_leader_epoch.is_some_and(|e| e >= leader_epoch) {
            return false;
        }
        b.hinted_leader_epoch = Some(leader_epoch);
        let endpoints = resp
            .node_endpoints
            .iter()
            .filter_map(|n| {
                Some(BrokerInfo {
                    node_id: n.node_id.0,
                    host: n.host.to_string(),
                    port: u16::try_from(n.port).ok()?,
                    rack: n.rack.as_ref().map(|r| r.to_string()),
                })
            })
            .collect();
        self.actions.push_back(Action::LeaderHint {
            hint: LeaderHint {
                topic: b.topic.to_string(),
                partition: b.partition,
                leader_id,
                leader_epoch,
            },
            endpoints,
        });
        true
    }
}

/// Produce errors after which the partition's leader must be looked up again.
fn invalidates_leader(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::NOT_LEADER_OR_FOLLOWER
            | ErrorCode::UNKNOWN_TOPIC_OR_PARTITION
            | ErrorCode::LEADER_NOT_AVAILABLE
            | ErrorCode::FENCED_LEADER_EPOCH
            | ErrorCode::UNKNOWN_LEADER_EPOCH
            | ErrorCode::KAFKA_STORAGE_ERROR
            | ErrorCode::NOT_ENOUGH_REPLICAS
    )
}
