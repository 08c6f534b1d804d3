use std::time::{Duration, Instant};

use bytes::Bytes;
use rafka_wire::error_code::ErrorCode;

use super::*;
use crate::idempotence::{ErrorAction, ProducerIdAndEpoch};

fn cfg(idempotent: bool) -> AccumulatorConfig {
    AccumulatorConfig {
        batch_size: 200,
        linger: Duration::from_millis(10),
        delivery_timeout: Duration::from_millis(1000),
        retry_backoff: Duration::from_millis(100),
        retry_backoff_max: Duration::from_millis(1000),
        max_in_flight_per_partition: if idempotent { 5 } else { usize::MAX },
        idempotent,
    }
}

fn rec(n: usize) -> PendingRecord {
    PendingRecord {
        timestamp: 1_000,
        key: None,
        value: Some(Bytes::from(vec![b'x'; n])),
        headers: Vec::new(),
    }
}

fn leader0(_: &str, _: i32) -> Route {
    Route::Leader(0)
}

#[test]
fn record_size_matches_the_v2_format() {
    // length(1) + attributes(1) + tsDelta(1) + offsetDelta(1) + keyLen -1 (1) + valueLen(1)
    // + 10 value bytes + header count(1) = 17 bytes, the length varint counting 16.
    assert_eq!(batch::record_size(0, 0, None, Some(&[0; 10]), &[]), 17);
    let h = vec![("ab".to_string(), None)];
    // headers add key len(1)+2 + value len -1 (1) = 4
    assert_eq!(batch::record_size(0, 0, None, Some(&[0; 10]), &h), 21);
    assert_eq!(batch::varint_size(-1), 1);
    assert_eq!(batch::varint_size(64), 2);
}

#[test]
fn linger_then_ready_then_drain() {
    let t0 = Instant::now();
    let mut acc = RecordAccumulator::new(cfg(false));
    let r = acc.append("t", 0, rec(10), 17, || t0);
    assert!(r.new_batch && !r.batch_full);
    let ready = acc.ready(t0, leader0);
    assert!(ready.nodes.is_empty());
    assert_eq!(ready.next_deadline, Some(t0 + Duration::from_millis(10)));
    let t1 = t0 + Duration::from_millis(10);
    assert_eq!(acc.ready(t1, leader0).nodes, vec![0]);
    let drained = acc.drain(0, 1 << 20, t1, leader0);
    assert_eq!(drained.len(), 1);
    assert_eq!(drained[0].record_count(), 1);
    assert_eq!(acc.in_flight_batches(), 1);
    acc.complete(&drained[0]);
    assert_eq!(acc.incomplete_batches(), 0);
}

#[test]
fn full_batch_is_ready_at_once_and_a_new_one_opens() {
    let t0 = Instant::now();
    let mut acc = RecordAccumulator::new(cfg(false));
    // 47-byte records: two fit in 200 bytes with the 61-byte header.
    let mut new_batches = 0;
    for _ in 0..4 {
        let r = acc.append("t", 1, rec(40), 0, || t0);
        new_batches += r.new_batch as usize;
    }
    assert_eq!(new_batches, 2);
    assert_eq!(acc.ready(t0, leader0).nodes, vec![0]);
    let d = acc.drain(0, 1 << 20, t0, leader0);
    assert_eq!(d.len(), 1, "one batch per partition per request");
    // 61 + 2 x 47 = 155; a third record would make 202 > 200, so it opened batch 2.
    assert_eq!(d[0].record_count(), 2);
}

#[test]
fn oversized_record_gets_its_own_batch() {
    let t0 = Instant::now();
    let mut acc = RecordAccumulator::new(cfg(false));
    acc.append("t", 0, rec(10), 0, || t0);
    let r = acc.append("t", 0, rec(500), 0, || t0);
    assert!(r.new_batch && r.batch_full);
    let r = acc.append("t", 0, rec(10), 0, || t0);
    assert!(r.new_batch);
}

#[test]
fn drain_respects_max_request_size_and_rotates() {
    let t0 = Instant::now();
    let mut acc = RecordAccumulator::new(cfg(false));
    for p in 0..4 {
        acc.append("t", p, rec(100), 0, || t0);
    }
    let t1 = t0 + Duration::from_millis(20);
    // Each batch is 61 + 103 = 164 bytes: two fit in 400.
    let d1 = acc.drain(0, 400, t1, leader0);
    assert_eq!(d1.len(), 2);
    let d2 = acc.drain(0, 400, t1, leader0);
    assert_eq!(d2.len(), 2);
    let mut parts: Vec<i32> = d1.iter().chain(&d2).map(|b| b.partition).collect();
    parts.sort();
    assert_eq!(parts, vec![0, 1, 2, 3]);
    // A node that leads nothing gets nothing; an unknown leader is reported.
    acc.append("u", 0, rec(1), 0, || t1);
    let r = acc.ready(t1 + Duration::from_millis(20), |t, _| {
        if t == "u" {
            Route::Unknown
        } else {
            Route::Leader(0)
        }
    });
    assert_eq!(r.unknown_leader_topics, vec![Arc::<str>::from("u")]);
    assert!(acc
        .drain(7, 400, t1 + Duration::from_millis(20), leader0)
        .is_empty());
}

#[test]
fn retry_goes_to_front_after_backoff_and_expiry_fails_old_batches() {
    let t0 = Instant::now();
    let mut acc = RecordAccumulator::new(cfg(false));
    acc.append("t", 0, rec(10), 0, || t0);
    let t1 = t0 + Duration::from_millis(10);
    let b = acc.drain(0, 1 << 20, t1, leader0).pop().unwrap();
    acc.append("t", 0, rec(10), 0, || t1);
    acc.reenqueue(b, t1);
    // Backoff 100 ms: the new batch (linger 10 ms) is behind the retry and waits too.
    let r = acc.ready(t1 + Duration::from_millis(50), leader0);
    assert!(r.nodes.is_empty());
    assert_eq!(r.next_deadline, Some(t1 + Duration::from_millis(100)));
    let d = acc.drain(0, 1 << 20, t1 + Duration::from_millis(100), leader0);
    assert_eq!(d[0].attempts, 2, "the retried batch went first");
    acc.complete(&d[0]);
    // The second batch expires after delivery.timeout.ms if never sent.
    assert!(acc.expire(t1 + Duration::from_millis(999)).is_empty());
    let expired = acc.expire(t1 + Duration::from_millis(1000));
    assert_eq!(expired.len(), 1);
    assert_eq!(acc.incomplete_batches(), 0);
}

#[test]
fn backoff_doubles_up_to_the_max() {
    let t0 = Instant::now();
    let mut c = cfg(false);
    c.delivery_timeout = Duration::from_secs(60);
    let mut acc = RecordAccumulator::new(c);
    acc.append("t", 0, rec(1), 0, || t0);
    let mut now = t0 + Duration::from_millis(10);
    let mut waits = Vec::new();
    for _ in 0..6 {
        let b = acc.drain(0, 1 << 20, now, leader0).pop().unwrap();
        acc.reenqueue(b, now);
        let next = acc.ready(now, leader0).next_deadline.unwrap();
        waits.push((next - now).as_millis());
        now = next;
    }
    assert_eq!(waits, vec![100, 200, 400, 800, 1000, 1000]);
}

#[test]
fn flush_makes_lingering_batches_ready_and_tracks_completion() {
    let t0 = Instant::now();
    let mut acc = RecordAccumulator::new(cfg(false));
    acc.append("t", 0, rec(1), 0, || t0);
    let mark = acc.begin_flush();
    assert!(!acc.flushed(mark));
    assert_eq!(acc.ready(t0, leader0).nodes, vec![0]);
    let d = acc.drain(0, 1 << 20, t0, leader0);
    // A batch created after the flush began does not hold the flush.
    acc.append("t", 1, rec(1), 0, || t0);
    acc.complete(&d[0]);
    assert!(acc.flushed(mark));
    acc.end_flush();
    assert!(acc.ready(t0, leader0).nodes.is_empty());
}

#[test]
fn idempotent_sequences_are_assigned_at_drain_and_kept_on_retry() {
    let t0 = Instant::now();
    let mut acc = RecordAccumulator::new(cfg(true));
    for _ in 0..3 {
        acc.append("t", 0, rec(1), 0, || t0);
    }
    let t1 = t0 + Duration::from_millis(10);
    assert!(
        acc.ready(t1, leader0).nodes.is_empty(),
        "no producer id yet: nothing is sendable"
    );
    acc.sequences
        .as_mut()
        .unwrap()
        .set_producer_id(ProducerIdAndEpoch {
            producer_id: 9,
            epoch: 0,
        });
    let b1 = acc.drain(0, 1 << 20, t1, leader0).pop().unwrap();
    let id1 = b1.identity.unwrap();
    assert_eq!((id1.producer_id, id1.base_sequence), (9, 0));
    // Next batch takes sequence 3, both in flight.
    for _ in 0..2 {
        acc.append("t", 0, rec(1), 0, || t1);
    }
    let t2 = t1 + Duration::from_millis(10);
    let b2 = acc.drain(0, 1 << 20, t2, leader0).pop().unwrap();
    assert_eq!(b2.identity.unwrap().base_sequence, 3);
    // b1 fails retriably; b2 then sees OUT_OF_ORDER (broker never got 0..2).
    let seq = acc.sequences.as_mut().unwrap();
    assert_eq!(
        seq.on_error(&b1.topic, 0, 0, ErrorCode::NOT_LEADER_OR_FOLLOWER, true),
        ErrorAction::Retry
    );
    assert_eq!(
        seq.on_error(
            &b2.topic,
            0,
            3,
            ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER,
            true
        ),
        ErrorAction::Retry
    );
    // Re-enqueued out of order: the accumulator restores sequence order.
    acc.reenqueue(b2, t2);
    acc.reenqueue(b1, t2);
    acc.append("t", 0, rec(1), 0, || t2);
    let t3 = t2 + Duration::from_millis(200);
    let r1 = acc.drain(0, 1 << 20, t3, leader0).pop().unwrap();
    assert_eq!(r1.identity.unwrap().base_sequence, 0);
    // While r1 is in flight the next retry waits (ordering of re-sent batches).
    assert!(acc.drain(0, 1 << 20, t3, leader0).is_empty());
    acc.sequences.as_mut().unwrap().on_acked(&r1.topic, 0, 0, 3);
    acc.complete(&r1);
    let r2 = acc.drain(0, 1 << 20, t3, leader0).pop().unwrap();
    assert_eq!(r2.identity.unwrap().base_sequence, 3);
    acc.sequences.as_mut().unwrap().on_acked(&r2.topic, 0, 3, 2);
    acc.complete(&r2);
    let fresh = acc.drain(0, 1 << 20, t3, leader0).pop().unwrap();
    assert_eq!(fresh.identity.unwrap().base_sequence, 5);
}

#[test]
fn epoch_bump_resequences_queued_batches_from_zero() {
    let t0 = Instant::now();
    let mut acc = RecordAccumulator::new(cfg(true));
    let seq = acc.sequences.as_mut().unwrap();
    seq.set_producer_id(ProducerIdAndEpoch {
        producer_id: 1,
        epoch: 0,
    });
    acc.append("t", 0, rec(1), 0, || t0);
    acc.append("t", 0, rec(1), 0, || t0);
    let t1 = t0 + Duration::from_millis(10);
    let b = acc.drain(0, 1 << 20, t1, leader0).pop().unwrap();
    assert_eq!(b.identity.unwrap().base_sequence, 0);
    let seq = acc.sequences.as_mut().unwrap();
    assert_eq!(
        seq.on_error(&b.topic, 0, 0, ErrorCode::UNKNOWN_PRODUCER_ID, true),
        ErrorAction::RetryAfterEpochBump
    );
    acc.reenqueue(b, t1);
    assert!(
        acc.drain(0, 1 << 20, t1 + Duration::from_secs(5), leader0)
            .is_empty(),
        "nothing is sent until the epoch is bumped"
    );
    acc.sequences
        .as_mut()
        .unwrap()
        .set_producer_id(ProducerIdAndEpoch {
            producer_id: 1,
            epoch: 1,
        });
    acc.reset_identities();
    let now = t1 + Duration::from_secs(1);
    let b = acc.drain(0, 1 << 20, now, leader0).pop().unwrap();
    let id = b.identity.unwrap();
    assert_eq!((id.producer_epoch, id.base_sequence), (1, 0));
}

#[test]
fn encoded_batch_decodes_to_the_same_records_and_size_estimate_is_exact() {
    use rafka_wire::records::{decode_batches, BatchMeta};
    let t0 = Instant::now();
    let mut acc = RecordAccumulator::new(cfg(false));
    let records = [
        PendingRecord {
            timestamp: 5_000,
            key: Some(Bytes::from_static(b"k1")),
            value: Some(Bytes::from_static(b"v1")),
            headers: vec![
                ("h".into(), Some(Bytes::from_static(b"x"))),
                ("n".into(), None),
            ],
        },
        PendingRecord {
            timestamp: 5_007,
            key: None,
            value: None,
            headers: Vec::new(),
        },
    ];
    for r in records.iter().cloned() {
        acc.append("t", 0, r, 0, || t0);
    }
    let mut b = acc
        .drain(0, 1 << 20, t0 + Duration::from_secs(1), leader0)
        .pop()
        .unwrap();
    let bytes = b.encode(&BatchMeta::default()).unwrap();
    assert_eq!(
        bytes.len(),
        b.size,
        "size estimate is the uncompressed encoded size"
    );
    let batch = decode_batches(bytes).next().unwrap().unwrap();
    let got: Vec<_> = batch.records().unwrap().map(|r| r.unwrap()).collect();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].timestamp, 5_000);
    assert_eq!(got[0].key.as_deref(), Some(&b"k1"[..]));
    assert_eq!(got[0].headers.len(), 2);
    assert_eq!(got[0].headers[1].value, None);
    assert_eq!(got[1].timestamp, 5_007);
    assert_eq!(got[1].value, None);
}
