//! Handling a Fetch response in two steps, so that the next Fetch to the broker goes out
//! before this one's records are parsed:
//!
//! 1. [`Fetcher::apply_response`] (under the consumer's lock, cheap): the session, partition
//!    errors, watermarks and the catch-up policy; each partition's fetch offset moves past
//!    its last complete batch, read from the batch headers alone. What is left to decode is
//!    returned as an [`UndecodedFetch`].
//! 2. [`decode`] (no lock, no fetcher state): parses the records, filters control and aborted
//!    batches, checks CRCs.
//! 3. [`Fetcher::apply_decoded`] (under the lock): buffers the records for `poll`. When
//!    decoding stopped short of what the headers said (a corrupt batch), the partition's fetch
//!    offset goes back, which makes the answer to the Fetch sent meanwhile stale for it.
//!
//! Between steps 1 and 3 a partition is fetched by no other broker (see `decoding`), so its
//! records reach the buffer in order even when its leader moves.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use kafka_protocol::messages::FetchResponse;
use rafka_wire::error_code::{BrokerError, ErrorCode};
use rafka_wire::TopicPartition;

use super::{is_leadership_error, FetchOutcome, Fetcher};
use crate::config::IsolationLevel;
use crate::error::ConsumerError;
use crate::events::ConsumerEvent;
use crate::fetch_buffer::BufferedFetch;
use crate::fetch_decode::{decode_partition, scan_next_offset, AbortedTxn, DecodedPartition};
use crate::subscription::{ResetTarget, SubscriptionState};

/// The records of one response, received and not parsed yet (step 1's output).
#[derive(Debug)]
pub struct UndecodedFetch {
    broker: i32,
    isolation: IsolationLevel,
    partitions: Vec<UndecodedPartition>,
}

#[derive(Debug)]
struct UndecodedPartition {
    tp: TopicPartition,
    topic: Arc<str>,
    seek_epoch: u64,
    /// The offset the request asked for.
    fetch_offset: i64,
    /// Where step 1 moved the fetch offset (the end of the last complete batch).
    scanned_next: i64,
    last_stable_offset: i64,
    aborted: Vec<AbortedTxn>,
    records: Bytes,
}

/// The records of one response, parsed (step 2's output).
#[derive(Debug)]
pub struct DecodedFetch {
    broker: i32,
    partitions: Vec<DecodedFetchPartition>,
}

#[derive(Debug)]
struct DecodedFetchPartition {
    tp: TopicPartition,
    seek_epoch: u64,
    fetch_offset: i64,
    scanned_next: i64,
    bytes: usize,
    decoded: DecodedPartition,
}

impl UndecodedFetch {
    /// Bytes of records to decode.
    pub fn bytes(&self) -> usize {
        self.partitions.iter().map(|p| p.records.len()).sum()
    }
}

/// Step 2: parses the records of every partition. Needs no consumer state, so the fetch task
/// runs it without holding the lock `poll` needs, while its next Fetch is in flight.
pub fn decode(fetch: UndecodedFetch) -> DecodedFetch {
    let isolation = fetch.isolation;
    let partitions = fetch
        .partitions
        .into_iter()
        .map(|p| {
            let bytes = p.records.len();
            let mut decoded = decode_partition(
                &p.topic,
                p.tp.partition,
                p.records,
                p.fetch_offset,
                isolation,
                &p.aborted,
            );
            if isolation == IsolationLevel::ReadCommitted {
                // The broker should stop at the last stable offset; enforce it here too so
                // that a broker that does not cannot leak open transactions.
                let lso = p.last_stable_offset;
                if lso >= p.fetch_offset {
                    decoded.records.retain(|r| r.offset < lso);
                    decoded.next_fetch_offset = decoded.next_fetch_offset.min(lso);
                }
            }
            DecodedFetchPartition {
                tp: p.tp,
                seek_epoch: p.seek_epoch,
                fetch_offset: p.fetch_offset,
                scanned_next: p.scanned_next,
                bytes,
                decoded,
            }
        })
        .collect();
    DecodedFetch {
        broker: fetch.broker,
        partitions,
    }
}

impl Fetcher {
    /// Handles broker `broker`'s answer to the request [`Fetcher::next_request`] built, all
    /// three steps in one call (the fetch task runs them apart, see the module doc).
    pub fn handle_response(
        &mut self,
        broker: i32,
        response: FetchResponse,
        subs: &mut SubscriptionState,
        now: Instant,
    ) -> FetchOutcome {
        let (mut outcome, undecoded) = self.apply_response(broker, response, subs, now);
        if let Some(undecoded) = undecoded {
            let decoded = self.apply_decoded(decode(undecoded), subs, now);
            outcome.new_records |= decoded.new_records;
        }
        outcome
    }

    /// Step 1: applies everything of broker `broker`'s response but its records, moving each
    /// partition's fetch offset past the batches received; returns the records to
    /// [`decode`], if any. The next request can be built right after this.
    pub fn apply_response(
        &mut self,
        broker: i32,
        response: FetchResponse,
        subs: &mut SubscriptionState,
        now: Instant,
    ) -> (FetchOutcome, Option<UndecodedFetch>) {
        let mut outcome = FetchOutcome::default();
        let backoff = self.settings.retry_backoff;
        let Some(state) = self.brokers.get_mut(&broker) else {
            return (outcome, None);
        };
        let Some(asked) = state.in_flight.take() else {
            return (outcome, None);
        };
        let top = ErrorCode(response.error_code);
        if !state.session.handle_response(top, response.session_id) {
            tracing::debug!(
                broker,
                error = top.name(),
                "fetch session error; next fetch is full"
            );
            if top != ErrorCode::FETCH_SESSION_ID_NOT_FOUND
                && top != ErrorCode::INVALID_FETCH_SESSION_EPOCH
            {
                state.backoff_until = Some(now + backoff);
            }
            return (outcome, None);
        }
        let mut undecoded = Vec::new();
        for topic in response.responses {
            let name: Arc<str> = Arc::from(topic.topic.0.as_str());
            for data in topic.partitions {
                let tp = TopicPartition::new(&*name, data.partition_index);
                let Some(&(seek_epoch, fetch_offset)) = asked.get(&tp) else {
                    continue; // not asked in this request (paused or revoked since)
                };
                let received = Received {
                    tp,
                    seek_epoch,
                    fetch_offset,
                    data,
                };
                if let Some(p) = self.apply_partition(received, &name, subs, now, &mut outcome) {
                    self.decoding.insert(p.tp.clone(), broker);
                    self.decoding_bytes += p.records.len();
                    undecoded.push(p);
                }
            }
        }
        let undecoded = (!undecoded.is_empty()).then_some(UndecodedFetch {
            broker,
            isolation: self.settings.isolation,
            partitions: undecoded,
        });
        (outcome, undecoded)
    }

    fn apply_partition(
        &mut self,
        received: Received,
        topic: &Arc<str>,
        subs: &mut SubscriptionState,
        now: Instant,
        outcome: &mut FetchOutcome,
    ) -> Option<UndecodedPartition> {
        let Received {
            tp,
            seek_epoch: epoch,
            fetch_offset,
            data,
        } = received;
        let state = subs.get_mut(&tp)?;
        if state.seek_epoch != epoch || state.fetch_offset != fetch_offset {
            return None; // seeked, reset or rewound meanwhile: this data is stale
        }
        let code = ErrorCode(data.error_code);
        if code == ErrorCode::OFFSET_OUT_OF_RANGE {
            match ResetTarget::from_policy(self.settings.auto_offset_reset) {
                Some(target) => {
                    tracing::info!(partition = %tp, fetch_offset, ?target, "fetch offset out of range, resetting");
                    subs.request_reset(&tp, target);
                    outcome.resets_requested = true;
                }
                None => subs.set_out_of_range(&tp, fetch_offset),
            }
            self.buffer.discard(&tp);
            return None;
        }
        if !code.is_ok() {
            self.partition_backoff
                .insert(tp.clone(), now + self.settings.retry_backoff);
            if is_leadership_error(code) {
                tracing::debug!(partition = %tp, error = code.name(), "fetch: refreshing metadata");
                outcome.refresh_metadata = true;
            } else {
                self.errors.push_back(ConsumerError::Broker {
                    api: "Fetch",
                    partition: Some(tp),
                    error: BrokerError {
                        code,
                        message: None,
                    },
                });
            }
            return None;
        }
        if data.high_watermark >= 0 {
            state.high_watermark = Some(data.high_watermark);
        }
        if data.last_stable_offset >= 0 {
            state.last_stable_offset = Some(data.last_stable_offset);
        }
        if data.log_start_offset >= 0 {
            state.log_start_offset = Some(data.log_start_offset);
        }
        if let (Some(max_lag), Some(hw)) = (self.settings.max_lag, state.high_watermark) {
            if hw - state.position > max_lag {
                let target = hw - max_lag;
                tracing::warn!(
                    partition = %tp, position = state.position, high_watermark = hw, max_lag,
                    "consumer fell behind: skipping to high watermark - max_lag"
                );
                self.events.push(ConsumerEvent::SkippedAhead {
                    partition: tp.clone(),
                    from: state.position,
                    to: target,
                    high_watermark: hw,
                });
                subs.seek(&tp, target);
                self.buffer.discard(&tp);
                return None;
            }
        }
        let records = data.records.filter(|r| !r.is_empty())?;
        let mut next = scan_next_offset(&records, fetch_offset);
        let lso = data.last_stable_offset;
        if self.settings.isolation == IsolationLevel::ReadCommitted && lso >= fetch_offset {
            next = next.min(lso);
        }
        let next = next.max(fetch_offset);
        state.fetch_offset = next;
        let aborted = data
            .aborted_transactions
            .unwrap_or_default()
            .iter()
            .map(|a| AbortedTxn {
                first_offset: a.first_offset,
                producer_id: a.producer_id.0,
            })
            .collect();
        Some(UndecodedPartition {
            tp,
            topic: topic.clone(),
            seek_epoch: epoch,
            fetch_offset,
            scanned_next: next,
            last_stable_offset: lso,
            aborted,
            records,
        })
    }

    /// Step 3: buffers decoded records for `poll`. A partition seeked, reset or revoked since
    /// step 1 is skipped; one whose records ended before the end step 1 read from the headers
    /// (a corrupt batch) has its fetch offset moved back to where decoding stopped.
    pub fn apply_decoded(
        &mut self,
        fetch: DecodedFetch,
        subs: &mut SubscriptionState,
        now: Instant,
    ) -> FetchOutcome {
        let mut outcome = FetchOutcome::default();
        for p in fetch.partitions {
            if self.decoding.get(&p.tp) == Some(&fetch.broker) {
                self.decoding.remove(&p.tp);
            }
            self.decoding_bytes = self.decoding_bytes.saturating_sub(p.bytes);
            let DecodedFetchPartition {
                tp,
                seek_epoch,
                fetch_offset,
                scanned_next,
                bytes,
                decoded,
            } = p;
            let Some(state) = subs.get_mut(&tp) else {
                continue;
            };
            if state.seek_epoch != seek_epoch || state.fetch_offset != scanned_next {
                continue;
            }
            let DecodedPartition {
                records,
                next_fetch_offset: next,
                error,
            } = decoded;
            if let Some(error) = error {
                if records.is_empty() {
                    // Asked again from the same offset after the backoff.
                    state.fetch_offset = fetch_offset;
                    self.errors.push_back(ConsumerError::CorruptRecords {
                        partition: tp.clone(),
                        offset: fetch_offset,
                        source: error,
                    });
                    self.partition_backoff
                        .insert(tp, now + self.settings.retry_backoff);
                    continue;
                }
            }
            if next <= fetch_offset {
                state.fetch_offset = fetch_offset;
                continue;
            }
            state.fetch_offset = next;
            self.buffer
                .push(BufferedFetch::new(tp, seek_epoch, records, next, bytes));
            // News even without records: the position moves past filtered batches.
            outcome.new_records = true;
        }
        outcome
    }
}

/// One partition of a response with what was asked for it.
struct Received {
    tp: TopicPartition,
    seek_epoch: u64,
    fetch_offset: i64,
    data: kafka_protocol::messages::fetch_response::PartitionData,
}
