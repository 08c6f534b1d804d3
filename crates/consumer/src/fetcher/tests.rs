//! The fetcher on hand-built responses: requests, positions, errors, prefetching and the
//! two-step handling that lets the next Fetch go out before a response is decoded.

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::fetch_response::{
    AbortedTransaction, FetchableTopicResponse, PartitionData,
};
use kafka_protocol::messages::{FetchResponse, ProducerId};
use rafka_wire::records::{encode_batch, BatchMeta, ControlRecord, RecordRef};

use super::*;
use crate::events::ConsumerEvent;
use crate::fetch_decode::scan_next_offset;
use crate::subscription::ResetTarget;

fn settings() -> FetchSettings {
    FetchSettings::from_config(&ConsumerConfig::default())
}

fn tp(p: i32) -> TopicPartition {
    TopicPartition::new("t", p)
}

/// One batch at `base` with `values`, as the broker would store it.
fn batch(out: &mut BytesMut, base: i64, values: &[&str], meta: BatchMeta) {
    let records: Vec<RecordRef> = values
        .iter()
        .map(|v| RecordRef {
            timestamp: 1_000 + base,
            key: None,
            value: Some(v.as_bytes()),
            headers: &[],
        })
        .collect();
    encode_batch(
        &BatchMeta {
            base_offset: base,
            ..meta
        },
        &records,
        out,
    )
    .unwrap();
}

fn control(out: &mut BytesMut, base: i64, producer_id: i64, marker: ControlRecord) {
    let key = marker.key_bytes();
    let value = marker.value_bytes().unwrap();
    let meta = BatchMeta {
        base_offset: base,
        producer_id,
        producer_epoch: 0,
        is_transactional: true,
        is_control: true,
        ..BatchMeta::default()
    };
    let rec = RecordRef {
        timestamp: 0,
        key: Some(&key),
        value: Some(&value),
        headers: &[],
    };
    encode_batch(&meta, &[rec], out).unwrap();
}

type Part = (i32, ErrorCode, i64, Option<Bytes>, Vec<AbortedTransaction>);

fn response(parts: Vec<Part>, session_id: i32) -> FetchResponse {
    FetchResponse::default()
        .with_session_id(session_id)
        .with_responses(vec![FetchableTopicResponse::default()
            .with_topic(topic_name("t"))
            .with_partitions(
                parts
                    .into_iter()
                    .map(|(p, code, hw, records, aborted)| {
                        PartitionData::default()
                            .with_partition_index(p)
                            .with_error_code(code.0)
                            .with_high_watermark(hw)
                            .with_last_stable_offset(hw)
                            .with_records(records)
                            .with_aborted_transactions(Some(aborted))
                    })
                    .collect(),
            )])
}

fn ready_subs(parts: &[(i32, i64)]) -> SubscriptionState {
    let mut s = SubscriptionState::new();
    s.assign(parts.iter().map(|(p, _)| tp(*p)));
    for (p, o) in parts {
        s.seek(&tp(*p), *o);
    }
    s
}

const ALL_ON_1: &dyn Fn(&TopicPartition) -> Option<i32> = &|_| Some(1);

fn values(out: &[crate::ConsumerRecord]) -> Vec<String> {
    out.iter()
        .map(|r| String::from_utf8(r.value.clone().unwrap().to_vec()).unwrap())
        .collect()
}

#[test]
fn prefetches_and_returns_records_in_order() {
    let now = Instant::now();
    let mut f = Fetcher::new(settings());
    let mut subs = ready_subs(&[(0, 0), (1, 5)]);
    let req = f.next_request(1, &subs, ALL_ON_1, true, now).unwrap();
    assert_eq!(req.topics[0].partitions.len(), 2);
    assert_eq!(req.topics[0].partitions[1].fetch_offset, 5);
    assert_eq!((req.session_id, req.session_epoch), (0, 0));
    assert!(
        f.next_request(1, &subs, ALL_ON_1, true, now).is_none(),
        "one in flight"
    );

    let mut b = BytesMut::new();
    batch(&mut b, 0, &["a", "b", "c"], BatchMeta::default());
    let out = f.handle_response(
        1,
        response(vec![(0, ErrorCode::NONE, 3, Some(b.freeze()), vec![])], 42),
        &mut subs,
        now,
    );
    assert!(out.new_records);
    // Prefetching: partition 0 already asks from 3 while nothing was polled yet.
    let p0 = subs.get(&tp(0)).unwrap();
    assert_eq!((p0.position, p0.fetch_offset), (0, 3));
    let req = f.next_request(1, &subs, ALL_ON_1, true, now).unwrap();
    assert_eq!((req.session_id, req.session_epoch), (42, 1));
    // Incremental: only the partition whose offset moved.
    assert_eq!(req.topics[0].partitions.len(), 1);
    assert_eq!(req.topics[0].partitions[0].fetch_offset, 3);

    let mut records = Vec::new();
    f.buffer.drain(&mut subs, 500, true, &mut records);
    assert_eq!(values(&records), ["a", "b", "c"]);
    assert_eq!(records[2].offset, 2);
    assert_eq!(subs.position(&tp(0)), Some(3));
    assert_eq!(subs.lag(&tp(0), IsolationLevel::ReadUncommitted), Some(0));
}

#[test]
fn data_fetched_before_a_seek_is_dropped() {
    let now = Instant::now();
    let mut f = Fetcher::new(settings());
    let mut subs = ready_subs(&[(0, 0)]);
    f.next_request(1, &subs, ALL_ON_1, false, now).unwrap();
    subs.seek(&tp(0), 100);
    let mut b = BytesMut::new();
    batch(&mut b, 0, &["old"], BatchMeta::default());
    let out = f.handle_response(
        1,
        response(vec![(0, ErrorCode::NONE, 1, Some(b.freeze()), vec![])], 0),
        &mut subs,
        now,
    );
    assert!(!out.new_records);
    assert!(f.buffer.is_empty());
    assert_eq!(subs.get(&tp(0)).unwrap().fetch_offset, 100);
}

#[test]
fn records_before_the_fetch_offset_are_skipped() {
    let now = Instant::now();
    let mut f = Fetcher::new(settings());
    let mut subs = ready_subs(&[(0, 2)]);
    f.next_request(1, &subs, ALL_ON_1, false, now).unwrap();
    let mut b = BytesMut::new();
    batch(&mut b, 0, &["a", "b", "c", "d"], BatchMeta::default());
    f.handle_response(
        1,
        response(vec![(0, ErrorCode::NONE, 4, Some(b.freeze()), vec![])], 0),
        &mut subs,
        now,
    );
    let mut records = Vec::new();
    f.buffer.drain(&mut subs, 500, true, &mut records);
    assert_eq!(values(&records), ["c", "d"]);
}

#[test]
fn out_of_range_follows_the_reset_policy() {
    let now = Instant::now();
    let mut f = Fetcher::new(settings()); // latest
    let mut subs = ready_subs(&[(0, 50)]);
    f.next_request(1, &subs, ALL_ON_1, false, now).unwrap();
    let out = f.handle_response(
        1,
        response(
            vec![(0, ErrorCode::OFFSET_OUT_OF_RANGE, 10, None, vec![])],
            0,
        ),
        &mut subs,
        now,
    );
    assert!(out.resets_requested);
    assert_eq!(subs.awaiting_reset(), [(tp(0), ResetTarget::Latest)]);

    let mut s = settings();
    s.auto_offset_reset = AutoOffsetReset::None;
    let mut f = Fetcher::new(s);
    let mut subs = ready_subs(&[(0, 50)]);
    f.next_request(1, &subs, ALL_ON_1, false, now).unwrap();
    f.handle_response(
        1,
        response(
            vec![(0, ErrorCode::OFFSET_OUT_OF_RANGE, 10, None, vec![])],
            0,
        ),
        &mut subs,
        now,
    );
    assert_eq!(subs.out_of_range(), [(tp(0), 50)]);
    assert!(
        subs.fetchable().is_empty(),
        "stopped until the application seeks"
    );
}

#[test]
fn leadership_errors_back_off_the_partition_and_ask_for_metadata() {
    let now = Instant::now();
    let mut f = Fetcher::new(settings());
    let mut subs = ready_subs(&[(0, 0), (1, 0)]);
    f.next_request(1, &subs, ALL_ON_1, false, now).unwrap();
    let out = f.handle_response(
        1,
        response(
            vec![(0, ErrorCode::NOT_LEADER_OR_FOLLOWER, -1, None, vec![])],
            0,
        ),
        &mut subs,
        now,
    );
    assert!(out.refresh_metadata);
    let req = f.next_request(1, &subs, ALL_ON_1, false, now).unwrap();
    let parts: Vec<i32> = req.topics[0]
        .partitions
        .iter()
        .map(|p| p.partition)
        .collect();
    assert_eq!(parts, [1], "partition 0 backs off");
    f.handle_failure(1, now);
    assert!(
        f.next_request(1, &subs, ALL_ON_1, false, now).is_none(),
        "broker backs off"
    );
    let later = now + Duration::from_secs(1);
    let req = f.next_request(1, &subs, ALL_ON_1, false, later).unwrap();
    assert_eq!(req.topics[0].partitions.len(), 2);
    assert!(f.errors.is_empty());
}

#[test]
fn prefetch_stops_when_the_buffer_is_full() {
    let now = Instant::now();
    let mut s = settings();
    s.max_buffered_bytes = 10;
    let mut f = Fetcher::new(s);
    let mut subs = ready_subs(&[(0, 0)]);
    f.next_request(1, &subs, ALL_ON_1, false, now).unwrap();
    let mut b = BytesMut::new();
    batch(&mut b, 0, &["a", "b"], BatchMeta::default());
    f.handle_response(
        1,
        response(vec![(0, ErrorCode::NONE, 2, Some(b.freeze()), vec![])], 0),
        &mut subs,
        now,
    );
    assert!(f.buffer.bytes() > 10);
    assert!(f.next_request(1, &subs, ALL_ON_1, false, now).is_none());
    let mut records = Vec::new();
    f.buffer.drain(&mut subs, 500, true, &mut records);
    assert!(f.next_request(1, &subs, ALL_ON_1, false, now).is_some());
}

#[test]
fn max_lag_skips_ahead() {
    let now = Instant::now();
    let mut s = settings();
    s.max_lag = Some(10);
    let mut f = Fetcher::new(s);
    let mut subs = ready_subs(&[(0, 0)]);
    f.next_request(1, &subs, ALL_ON_1, false, now).unwrap();
    let mut b = BytesMut::new();
    batch(&mut b, 0, &["a"], BatchMeta::default());
    f.handle_response(
        1,
        response(vec![(0, ErrorCode::NONE, 100, Some(b.freeze()), vec![])], 0),
        &mut subs,
        now,
    );
    assert_eq!(subs.position(&tp(0)), Some(90));
    assert!(f.buffer.is_empty());
    let mut events = Vec::new();
    f.events.drain_into(&mut events);
    assert!(
        matches!(
            &events[..],
            [ConsumerEvent::SkippedAhead {
                from: 0,
                to: 90,
                high_watermark: 100,
                ..
            }]
        ),
        "{events:?}"
    );
}

fn txn(pid: i64) -> BatchMeta {
    BatchMeta {
        producer_id: pid,
        producer_epoch: 0,
        base_sequence: 0,
        is_transactional: true,
        ..BatchMeta::default()
    }
}

#[test]
fn read_committed_drops_aborted_transactions_and_markers() {
    let now = Instant::now();
    // offsets: 0-1 txn pid 7 (aborted), 2 plain, 3-4 txn pid 8 (committed),
    // 5 abort marker pid 7, 6 commit marker pid 8, 7 plain
    let mut b = BytesMut::new();
    batch(&mut b, 0, &["aborted1", "aborted2"], txn(7));
    batch(&mut b, 2, &["plain"], BatchMeta::default());
    batch(&mut b, 3, &["committed1", "committed2"], txn(8));
    control(
        &mut b,
        5,
        7,
        ControlRecord::Abort {
            coordinator_epoch: 0,
        },
    );
    control(
        &mut b,
        6,
        8,
        ControlRecord::Commit {
            coordinator_epoch: 0,
        },
    );
    batch(&mut b, 7, &["after"], BatchMeta::default());
    let blob = b.freeze();
    let aborted = vec![AbortedTransaction::default()
        .with_producer_id(ProducerId(7))
        .with_first_offset(0)];

    for (isolation, expected) in [
        (
            IsolationLevel::ReadCommitted,
            vec!["plain", "committed1", "committed2", "after"],
        ),
        (
            IsolationLevel::ReadUncommitted,
            vec![
                "aborted1",
                "aborted2",
                "plain",
                "committed1",
                "committed2",
                "after",
            ],
        ),
    ] {
        let mut s = settings();
        s.isolation = isolation;
        let mut f = Fetcher::new(s);
        let mut subs = ready_subs(&[(0, 0)]);
        let req = f.next_request(1, &subs, ALL_ON_1, false, now).unwrap();
        assert_eq!(req.isolation_level, isolation.as_i8());
        f.handle_response(
            1,
            response(
                vec![(0, ErrorCode::NONE, 8, Some(blob.clone()), aborted.clone())],
                0,
            ),
            &mut subs,
            now,
        );
        let mut records = Vec::new();
        f.buffer.drain(&mut subs, 500, true, &mut records);
        assert_eq!(values(&records), expected, "{isolation:?}");
        assert_eq!(subs.position(&tp(0)), Some(8));
    }
}

#[test]
fn corrupt_records_are_reported() {
    let now = Instant::now();
    let mut f = Fetcher::new(settings());
    let mut subs = ready_subs(&[(0, 0)]);
    f.next_request(1, &subs, ALL_ON_1, false, now).unwrap();
    let mut b = BytesMut::new();
    batch(&mut b, 0, &["a"], BatchMeta::default());
    let mut bytes = b.to_vec();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff; // breaks the CRC
    f.handle_response(
        1,
        response(
            vec![(0, ErrorCode::NONE, 1, Some(Bytes::from(bytes)), vec![])],
            0,
        ),
        &mut subs,
        now,
    );
    assert!(matches!(
        f.errors.make_contiguous(),
        [ConsumerError::CorruptRecords { offset: 0, .. }]
    ));
}

#[test]
fn the_next_fetch_goes_out_before_the_records_are_decoded() {
    let now = Instant::now();
    let mut f = Fetcher::new(settings());
    let mut subs = ready_subs(&[(0, 0), (1, 0)]);
    f.next_request(1, &subs, ALL_ON_1, true, now).unwrap();
    let (mut b0, mut b1) = (BytesMut::new(), BytesMut::new());
    batch(&mut b0, 0, &["a", "b"], BatchMeta::default());
    batch(&mut b0, 2, &["c"], BatchMeta::default());
    batch(&mut b1, 0, &["x", "y"], BatchMeta::default());
    let (out, undecoded) = f.apply_response(
        1,
        response(
            vec![
                (0, ErrorCode::NONE, 3, Some(b0.freeze()), vec![]),
                (1, ErrorCode::NONE, 2, Some(b1.freeze()), vec![]),
            ],
            42,
        ),
        &mut subs,
        now,
    );
    assert_eq!(out, FetchOutcome::default());
    let undecoded = undecoded.expect("records to decode");
    // Offsets moved on from the headers alone: nothing is buffered yet.
    assert!(f.buffer.is_empty());
    assert_eq!(subs.get(&tp(0)).unwrap().fetch_offset, 3);
    assert_eq!(subs.get(&tp(1)).unwrap().fetch_offset, 2);
    let req = f.next_request(1, &subs, ALL_ON_1, true, now).unwrap();
    let asked: Vec<(i32, i64)> = req.topics[0]
        .partitions
        .iter()
        .map(|p| (p.partition, p.fetch_offset))
        .collect();
    assert_eq!(asked, [(0, 3), (1, 2)]);

    let out = f.apply_decoded(decode(undecoded), &mut subs, now);
    assert!(out.new_records);
    let mut records = Vec::new();
    f.buffer.drain(&mut subs, 500, true, &mut records);
    assert_eq!(values(&records), ["a", "b", "c", "x", "y"]);
    assert_eq!(subs.position(&tp(0)), Some(3));
}

#[test]
fn a_corrupt_batch_found_after_the_next_fetch_went_out_moves_the_offset_back() {
    let now = Instant::now();
    let mut f = Fetcher::new(settings());
    let mut subs = ready_subs(&[(0, 0)]);
    f.next_request(1, &subs, ALL_ON_1, false, now).unwrap();
    let mut b = BytesMut::new();
    batch(&mut b, 0, &["a"], BatchMeta::default());
    batch(&mut b, 1, &["b"], BatchMeta::default());
    let mut bytes = b.to_vec();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff; // breaks the second batch's CRC
    let (_, undecoded) = f.apply_response(
        1,
        response(
            vec![(0, ErrorCode::NONE, 2, Some(Bytes::from(bytes)), vec![])],
            0,
        ),
        &mut subs,
        now,
    );
    assert_eq!(subs.get(&tp(0)).unwrap().fetch_offset, 2);
    f.next_request(1, &subs, ALL_ON_1, false, now).unwrap();
    f.apply_decoded(decode(undecoded.unwrap()), &mut subs, now);
    // The good batch is kept; the next fetch starts again at the bad one.
    assert_eq!(subs.get(&tp(0)).unwrap().fetch_offset, 1);
    // The answer to the request sent at offset 2 is stale for the partition.
    let mut later = BytesMut::new();
    batch(&mut later, 2, &["c"], BatchMeta::default());
    f.handle_response(
        1,
        response(
            vec![(0, ErrorCode::NONE, 3, Some(later.freeze()), vec![])],
            0,
        ),
        &mut subs,
        now,
    );
    let mut records = Vec::new();
    f.buffer.drain(&mut subs, 500, true, &mut records);
    assert_eq!(values(&records), ["a"]);
    let req = f.next_request(1, &subs, ALL_ON_1, false, now).unwrap();
    assert_eq!(req.topics[0].partitions[0].fetch_offset, 1);

    // Nothing decodable at all: an error, and the same offset after the backoff.
    let mut b = BytesMut::new();
    batch(&mut b, 1, &["b"], BatchMeta::default());
    let mut bytes = b.to_vec();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    let (_, undecoded) = f.apply_response(
        1,
        response(
            vec![(0, ErrorCode::NONE, 3, Some(Bytes::from(bytes)), vec![])],
            0,
        ),
        &mut subs,
        now,
    );
    f.apply_decoded(decode(undecoded.unwrap()), &mut subs, now);
    assert_eq!(subs.get(&tp(0)).unwrap().fetch_offset, 1);
    assert!(matches!(
        f.errors.make_contiguous(),
        [ConsumerError::CorruptRecords { offset: 1, .. }]
    ));
    assert!(f.next_request(1, &subs, ALL_ON_1, false, now).is_none());
}

#[test]
fn a_partition_being_decoded_is_not_fetched_from_another_broker() {
    let now = Instant::now();
    let mut f = Fetcher::new(settings());
    let mut subs = ready_subs(&[(0, 0), (1, 0)]);
    f.next_request(1, &subs, ALL_ON_1, false, now).unwrap();
    let mut b = BytesMut::new();
    batch(&mut b, 0, &["a"], BatchMeta::default());
    let (_, undecoded) = f.apply_response(
        1,
        response(vec![(0, ErrorCode::NONE, 1, Some(b.freeze()), vec![])], 0),
        &mut subs,
        now,
    );
    // Leadership moved to broker 2 meanwhile: it takes partition 1 at once, partition 0 only
    // once broker 1's records of it are buffered.
    let all_on_2: &dyn Fn(&TopicPartition) -> Option<i32> = &|_| Some(2);
    let req = f.next_request(2, &subs, all_on_2, false, now).unwrap();
    let parts: Vec<i32> = req.topics[0]
        .partitions
        .iter()
        .map(|p| p.partition)
        .collect();
    assert_eq!(parts, [1]);
    f.handle_failure(2, now);
    f.apply_decoded(decode(undecoded.unwrap()), &mut subs, now);
    let later = now + Duration::from_secs(1);
    let req = f.next_request(2, &subs, all_on_2, false, later).unwrap();
    let asked: Vec<(i32, i64)> = req.topics[0]
        .partitions
        .iter()
        .map(|p| (p.partition, p.fetch_offset))
        .collect();
    assert_eq!(asked, [(0, 1), (1, 0)]);
}

#[test]
fn a_seek_between_the_two_steps_drops_the_decoded_records() {
    let now = Instant::now();
    let mut f = Fetcher::new(settings());
    let mut subs = ready_subs(&[(0, 0)]);
    f.next_request(1, &subs, ALL_ON_1, false, now).unwrap();
    let mut b = BytesMut::new();
    batch(&mut b, 0, &["old"], BatchMeta::default());
    let (_, undecoded) = f.apply_response(
        1,
        response(vec![(0, ErrorCode::NONE, 1, Some(b.freeze()), vec![])], 0),
        &mut subs,
        now,
    );
    subs.seek(&tp(0), 100);
    let out = f.apply_decoded(decode(undecoded.unwrap()), &mut subs, now);
    assert!(!out.new_records);
    assert!(f.buffer.is_empty());
    assert_eq!(subs.get(&tp(0)).unwrap().fetch_offset, 100);
}

#[test]
fn the_header_scan_ends_after_the_last_complete_batch() {
    let mut b = BytesMut::new();
    batch(&mut b, 5, &["a", "b", "c"], BatchMeta::default());
    let first = b.len();
    batch(&mut b, 8, &["d"], BatchMeta::default());
    let blob = b.freeze();
    assert_eq!(scan_next_offset(&blob, 5), 9);
    assert_eq!(scan_next_offset(&blob, 6), 9);
    // A cut batch at the end (max bytes) is not counted, nor is anything before the fetch
    // offset.
    assert_eq!(scan_next_offset(&blob[..blob.len() - 1], 5), 8);
    assert_eq!(scan_next_offset(&blob[..first + 11], 5), 8);
    assert_eq!(scan_next_offset(&blob[..first], 20), 20);
    assert_eq!(scan_next_offset(&[], 7), 7);
    // A negative length stops the walk, as it stops decoding.
    let mut bad = blob[..first].to_vec();
    bad.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff]);
    assert_eq!(scan_next_offset(&bad, 5), 8);
}
